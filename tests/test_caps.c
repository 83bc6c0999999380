/* Capabilities (SPEC §7): list parsing, and the sets a job really ends up
 * with after sandbox_child_lockdown, read back from /proc/self/status. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "caps.h"
#include "commands.h"
#include "sandbox.h"
#include "sizes.h"

#define B(n) (1ULL << (n))
/* CAP_CHOWN 0, DAC_OVERRIDE 1, FOWNER 3, FSETID 4, KILL 5, SETGID 6,
 * SETUID 7, SETPCAP 8, NET_BIND_SERVICE 10, NET_RAW 13, SYS_ADMIN 21 */
#define DEFAULT_MASK (B(0) | B(1) | B(3) | B(4) | B(5) | B(6) | B(7) | B(8) | B(10))

static void parse_table(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		int rc;
		uint64_t mask;
		bool explicit;
		const char *err;
	} rows[] = {
	    {NULL, 0, DEFAULT_MASK, false, NULL},
	    {"default", 0, DEFAULT_MASK, false, NULL},
	    {"none", 0, 0, false, NULL},
	    {"CHOWN", 0, B(0), true, NULL},
	    {"chown", 0, B(0), true, NULL},
	    {"CAP_CHOWN", 0, B(0), true, NULL},
	    {"cap_chown,Cap_Kill,net_bind_SERVICE", 0, B(0) | B(5) | B(10), true, NULL},
	    {"NET_RAW,SYS_ADMIN", 0, B(13) | B(21), true, NULL},
	    {"chown,chown", 0, B(0), true, NULL},
	    {"", -EINVAL, 0, false, "empty capability list"},
	    {"FOO", -EINVAL, 0, false, "unknown capability \"FOO\""},
	    {"chown,,kill", -EINVAL, 0, false, "empty capability name"},
	    {"chown,", -EINVAL, 0, false, "empty capability name"},
	    {"12", -EINVAL, 0, false, "unknown capability \"12\""},
	    {"CAP_", -EINVAL, 0, false, "unknown capability \"CAP_\""},
	    {"chown kill", -EINVAL, 0, false, "unknown capability \"chown kill\""},
	    {"Default", -EINVAL, 0, false, "unknown capability \"Default\""},
	    {"all", -EINVAL, 0, false, "unknown capability \"all\""},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint64_t mask = 0xdead;
		bool explicit = !rows[i].explicit;
		struct err err = {0};
		int rc = caps_parse(rows[i].in, &mask, &explicit, &err);
		if (rc != rows[i].rc)
			fail_msg("\"%s\": rc %d (%s)", rows[i].in ? rows[i].in : "(null)", rc, err);
		if (rc == 0 && (mask != rows[i].mask || explicit != rows[i].explicit))
			fail_msg("\"%s\": mask %llx explicit %d", rows[i].in,
				 (unsigned long long)mask, explicit);
		if (rc < 0 && !strstr(err.msg, rows[i].err))
			fail_msg("\"%s\": error \"%s\"", rows[i].in, err);
	}
}

static void format(void **state)
{
	(void)state;
	char buf[256];
	caps_format(caps_default_mask(), buf, sizeof(buf));
	assert_string_equal(buf, "CHOWN,DAC_OVERRIDE,FOWNER,FSETID,KILL,SETGID,SETUID,SETPCAP,"
				 "NET_BIND_SERVICE");
	caps_format(0, buf, sizeof(buf));
	assert_string_equal(buf, "none");
	assert_int_equal(caps_format(B(0) | B(5), buf, 4), strlen("CHOWN,KILL"));
	assert_string_equal(buf, "CHO");
}

/* ------------------------------------------------------- applied for real */

struct status {
	unsigned long long bnd, eff, prm, inh, amb;
	unsigned uid, gid;
	char groups[128];
	int nnp, seccomp;
};

static unsigned long long hexfield(const char *text, const char *key)
{
	const char *p = strstr(text, key);
	assert_non_null(p);
	return strtoull(p + strlen(key), NULL, 16);
}

/* Forks; the child applies the sandbox (seccomp off) and sends back
 * /proc/self/status. Returns the child's setup rc. */
static int run_child(const struct sandbox_opts *o, struct status *st)
{
	struct sandbox *sb = NULL;
	struct err err = {0};
	int pfd[2];
	if (sandbox_prepare(o, &sb, &err) < 0)
		fail_msg("prepare: %s", err);
	assert_int_equal(pipe(pfd), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		const char *step = NULL;
		char buf[8192];
		close(pfd[0]);
		int rc = sandbox_child_limits(sb, &step);
		if (rc == 0)
			rc = sandbox_child_lockdown(sb, &step);
		if (rc < 0) {
			dprintf(pfd[1], "FAIL %s %d", step, rc);
			_exit(1);
		}
		FILE *f = fopen("/proc/self/status", "re");
		size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
		buf[n] = '\0';
		(void)!write(pfd[1], buf, n);
		_exit(0);
	}
	close(pfd[1]);
	static char text[8192];
	size_t n = 0;
	ssize_t r;
	while ((r = read(pfd[0], text + n, sizeof(text) - 1 - n)) > 0)
		n += (size_t)r;
	text[n] = '\0';
	close(pfd[0]);
	int ws;
	waitpid(pid, &ws, 0);
	sandbox_free(sb);
	if (strncmp(text, "FAIL", 4) == 0) {
		fprintf(stderr, "%s\n", text);
		return -1;
	}
	st->bnd = hexfield(text, "CapBnd:\t");
	st->eff = hexfield(text, "CapEff:\t");
	st->prm = hexfield(text, "CapPrm:\t");
	st->inh = hexfield(text, "CapInh:\t");
	st->amb = hexfield(text, "CapAmb:\t");
	st->nnp = (int)strtol(strstr(text, "NoNewPrivs:\t") + 12, NULL, 10);
	st->seccomp = (int)strtol(strstr(text, "Seccomp:\t") + 9, NULL, 10);
	sscanf(strstr(text, "Uid:\t") + 5, "%u", &st->uid);
	sscanf(strstr(text, "Gid:\t") + 5, "%u", &st->gid);
	const char *g = strstr(text, "Groups:\t") + 8;
	snprintf(st->groups, sizeof(st->groups), "%.*s", (int)strcspn(g, "\n"), g);
	return 0;
}

static void applied(void **state)
{
	(void)state;
	uint64_t bnd, prm, eff;
	assert_int_equal(caps_current(&bnd, &prm, &eff), 0);
	if (geteuid() != 0 || (bnd & DEFAULT_MASK) != DEFAULT_MASK || !(eff & B(8)))
		skip(); /* needs root with the default capabilities and SETPCAP */

	static const struct {
		const char *caps, *user;
		enum seccomp_profile seccomp;
		unsigned long long bnd, eff, amb, inh;
		unsigned uid, gid;
		int seccomp_mode;
	} rows[] = {
	    /* root job: bounding = effective = the kept set */
	    {"default", NULL, SECCOMP_PROFILE_OFF, DEFAULT_MASK, DEFAULT_MASK, 0, 0, 0, 0, 0},
	    {"none", NULL, SECCOMP_PROFILE_DEFAULT, 0, 0, 0, 0, 0, 0, 2},
	    {"NET_RAW,chown", NULL, SECCOMP_PROFILE_STRICT, B(0) | B(13), B(0) | B(13), 0, 0, 0, 0,
	     2},
	    /* non-root job: nothing effective... */
	    {"default", "65534", SECCOMP_PROFILE_DEFAULT, DEFAULT_MASK, 0, 0, 0, 65534, 65534, 2},
	    {"default", "65534:100", SECCOMP_PROFILE_OFF, DEFAULT_MASK, 0, 0, 0, 65534, 100, 0},
	    /* ...unless listed: then exactly those, as ambient */
	    {"NET_BIND_SERVICE", "65534", SECCOMP_PROFILE_OFF, B(10), B(10), B(10), B(10), 65534,
	     65534, 0},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct sandbox_opts o = {
		    .job_name = "test",
		    .size = size_lookup("micro"),
		    .seccomp = rows[i].seccomp,
		    .caps = rows[i].caps,
		    .user = rows[i].user,
		    .cgroup_root = "/nonexistent-cgroup-root",
		};
		struct status st;
		assert_int_equal(run_child(&o, &st), 0);
		if (st.bnd != rows[i].bnd || st.eff != rows[i].eff || st.prm != rows[i].eff ||
		    st.amb != rows[i].amb || st.inh != rows[i].inh || st.uid != rows[i].uid ||
		    st.gid != rows[i].gid || st.nnp != 1 || st.seccomp != rows[i].seccomp_mode)
			fail_msg(
			    "row %zu (%s, %s): bnd %llx eff %llx prm %llx amb %llx inh %llx uid "
			    "%u gid %u nnp %d seccomp %d",
			    i, rows[i].caps, rows[i].user ? rows[i].user : "-", st.bnd, st.eff,
			    st.prm, st.amb, st.inh, st.uid, st.gid, st.nnp, st.seccomp);
	}
}

/* Validation collects one message per bad field. */
static void validate(void **state)
{
	(void)state;
	struct errlist errs;
	memset(&errs, 0, sizeof(errs));
	struct sandbox_opts o = {
	    .job_name = "x",
	    .size = size_lookup("micro"),
	    .caps = "CHOWN,BOGUS",
	    .user = "a b",
	    .rlimits = "nofile=lots",
	};
	assert_int_equal(sandbox_validate(&o, &errs), -EINVAL);
	/* (the profile is an enum: shim/cli.c rejects an unknown name) */
	assert_int_equal(errs.n, 3);
	assert_string_equal(errs.item[0].msg, "caps: unknown capability \"BOGUS\"");
	assert_non_null(strstr(errs.item[1].msg, "user: invalid character"));
	assert_non_null(strstr(errs.item[2].msg, "rlimits: nofile: bad value \"lots\""));
	errlist_clear(&errs);

	memset(&errs, 0, sizeof(errs));
	struct sandbox_opts good = {.job_name = "x",
				    .size = size_lookup("micro"),
				    .seccomp = SECCOMP_PROFILE_STRICT,
				    .caps = "none",
				    .user = "nobody:nogroup",
				    .rlimits = "as=2G"};
	assert_int_equal(sandbox_validate(&good, &errs), 0);
	assert_int_equal(errs.n, 0);
}

/* prepare: an unknown user fails, naming the step. */
static void prepare_unknown_user(void **state)
{
	(void)state;
	struct sandbox *sb = (struct sandbox *)1;
	struct err err = {0};
	struct sandbox_opts o = {.job_name = "x",
				 .size = size_lookup("micro"),
				 .user = "no-such-user-x",
				 .cgroup_root = "/nonexistent"};
	assert_int_equal(sandbox_prepare(&o, &sb, &err), -ENOENT);
	assert_null(sb);
	assert_string_equal(err.msg, "resolve user: no user \"no-such-user-x\" in /etc/passwd");
}

/* check's description of a job. */
static void describe(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct sandbox_opts o = {.job_name = "web",
				 .size = size_lookup("mini"),
				 .seccomp = SECCOMP_PROFILE_DEFAULT,
				 .caps = "default",
				 .user = "65534",
				 .rlimits = "fsize=1K:2K",
				 .cgroup_root = "/nonexistent"};
	struct sandbox_view *v = malloc(sizeof(*v));
	assert_non_null(v);
	sandbox_view(&o, v);
	check_sandbox_text(f, v, &o);
	fclose(f);
	assert_non_null(strstr(buf, "  rlimits: nofile=8192 core=0 nproc=512 fsize=1024:2048\n"));
	assert_non_null(strstr(buf, "  cgroup: not enforced: cgroup v2 at /nonexistent is not "
				    "writable (No such file or directory): size mini's memory "
				    "(512Mi), pids and CPU are not enforced by jobshim\n"));
	assert_non_null(strstr(buf, "  seccomp: default ("));
	assert_non_null(strstr(buf, "  capabilities: CHOWN,DAC_OVERRIDE,FOWNER,FSETID,KILL,"
				    "SETGID,SETUID,SETPCAP,NET_BIND_SERVICE (bounding set; none "
				    "effective for a non-root job)\n"));
	assert_non_null(strstr(buf, "  user: 65534 (uid 65534, gid 65534, groups"));
	free(buf);

	buf = NULL;
	f = open_memstream(&buf, &len);
	o.user = NULL;
	o.seccomp = SECCOMP_PROFILE_OFF;
	o.caps = "none";
	struct jw w;
	jw_init(&w, f);
	jw_obj_begin(&w);
	sandbox_view(&o, v);
	check_sandbox_json(&w, v, &o);
	jw_obj_end(&w);
	assert_int_equal(jw_finish(&w), 0);
	fclose(f);
	free(v);
	assert_non_null(strstr(buf, "\"rlimits\":{\"nofile\":{\"soft\":8192,\"hard\":8192}"));
	assert_non_null(strstr(buf, ",\"cgroup\":{\"enforced\":false,\"reason\":\"cgroup v2 at "));
	assert_non_null(strstr(buf, ",\"seccomp\":{\"profile\":\"off\",\"allowed\":0}"));
	assert_non_null(strstr(buf, ",\"capabilities\":{\"bounding\":[],\"effective\":[],"));
	assert_non_null(strstr(buf, ",\"no_new_privs\":true"));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parse_table),
	    cmocka_unit_test(format),
	    cmocka_unit_test(applied),
	    cmocka_unit_test(validate),
	    cmocka_unit_test(prepare_unknown_user),
	    cmocka_unit_test(describe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

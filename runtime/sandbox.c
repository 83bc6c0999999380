#include "sandbox.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "caps.h"
#include "joblimits.h"
#include "log.h"
#include "jobseccomp.h"
#include "userdb.h"

#define DEFAULT_CGROUP_ROOT "/sys/fs/cgroup"

struct sandbox {
	struct rlimit_set rlimits;
	int cgroup_fd;		   /* the job cgroup's cgroup.procs, or -1: not enforced */
	char cgroup_dir[PATH_MAX]; /* that cgroup, "" when not enforced */
	uint64_t caps_keep;
	bool caps_explicit;
	struct caps_plan caps; /* what the child does with capabilities */
	bool set_user;	       /* JOBSHIM_USER given: setgroups/setgid/setuid */
	bool nonroot;	       /* the job's uid is not 0 */
	const struct sock_fprog *filter;
	struct user_ids user;
};

/* The warnings SPEC §6 says once per process, whichever job's sandbox is
 * prepared (every start and restart prepares one): the only mutable state
 * of this file, written only by the parent before a fork. */
static struct {
	bool cgroup_not_enforced;
	bool rlimit_lowered[RLIMITS_COUNT];
} said;

/* Step names for a failed rlimit: string literals, since the child may not
 * format. */
static const char *const rlimit_steps[RLIMITS_COUNT] = {
    [RLIMIT_CPU] = "rlimits (cpu)",	      [RLIMIT_FSIZE] = "rlimits (fsize)",
    [RLIMIT_DATA] = "rlimits (data)",	      [RLIMIT_STACK] = "rlimits (stack)",
    [RLIMIT_CORE] = "rlimits (core)",	      [RLIMIT_RSS] = "rlimits (rss)",
    [RLIMIT_NPROC] = "rlimits (nproc)",	      [RLIMIT_NOFILE] = "rlimits (nofile)",
    [RLIMIT_MEMLOCK] = "rlimits (memlock)",   [RLIMIT_AS] = "rlimits (as)",
    [RLIMIT_LOCKS] = "rlimits (locks)",	      [RLIMIT_SIGPENDING] = "rlimits (sigpending)",
    [RLIMIT_MSGQUEUE] = "rlimits (msgqueue)", [RLIMIT_NICE] = "rlimits (nice)",
    [RLIMIT_RTPRIO] = "rlimits (rtprio)",     [RLIMIT_RTTIME] = "rlimits (rttime)",
};

int sandbox_validate(const struct sandbox_opts *o, struct errlist *errs)
{
	char err[512];
	uint64_t keep;
	bool explicit;
	size_t before = errs->n + errs->dropped;

	if (caps_parse(o->caps, &keep, &explicit, err, sizeof(err)) < 0)
		errlist_add(errs, "caps: %s", err);
	if (o->user && userdb_check_syntax(o->user, err, sizeof(err)) < 0)
		errlist_add(errs, "user: %s", err);
	if (rlimits_parse(o->rlimits, NULL, err, sizeof(err)) < 0)
		errlist_add(errs, "rlimits: %s", err);
	return errs->n + errs->dropped > before ? -EINVAL : 0;
}

/* "256Mi", "1Gi". */
static void format_bytes(uint64_t b, char *buf, size_t cap)
{
	const uint64_t gi = 1ULL << 30, mi = 1ULL << 20;
	if (b % gi == 0)
		snprintf(buf, cap, "%lluGi", (unsigned long long)(b / gi));
	else if (b % mi == 0)
		snprintf(buf, cap, "%lluMi", (unsigned long long)(b / mi));
	else
		snprintf(buf, cap, "%llu", (unsigned long long)b);
}

static const char *cgroup_root(const struct sandbox_opts *o)
{
	return o->cgroup_root && *o->cgroup_root ? o->cgroup_root : DEFAULT_CGROUP_ROOT;
}

static void not_enforced_msg(const struct sandbox_opts *o, const char *reason, char *buf,
			     size_t cap)
{
	char mem[32];
	format_bytes(o->size->memory_bytes, mem, sizeof(mem));
	snprintf(buf, cap,
		 "cgroup v2 at %s is not writable (%s): size %s's memory (%s), pids and CPU are "
		 "not enforced by jobshim",
		 cgroup_root(o), reason, o->size->name, mem);
}

/* Common to prepare and describe: everything that needs no side effect. */
static int plan_sandbox(const struct sandbox_opts *o, struct sandbox *sb, char *err, size_t errlen)
{
	char msg[512];
	int rc;

	sb->filter = seccomp_profile_prog(o->seccomp);
	if (caps_parse(o->caps, &sb->caps_keep, &sb->caps_explicit, msg, sizeof(msg)) < 0) {
		snprintf(err, errlen, "caps: %s", msg);
		return -EINVAL;
	}
	sb->set_user = o->user != NULL && *o->user;
	if (sb->set_user) {
		rc = userdb_resolve(o->user, o->etc_dir, &sb->user, msg, sizeof(msg));
		if (rc < 0) {
			snprintf(err, errlen, "resolve user: %s", msg);
			return rc;
		}
		sb->nonroot = sb->user.uid != 0;
	} else {
		sb->nonroot = geteuid() != 0;
	}
	if (o->size != NULL)
		rlimits_from_size(o->size, sb->nonroot, &sb->rlimits);
	else
		memset(&sb->rlimits, 0, sizeof(sb->rlimits));
	if (rlimits_parse(o->rlimits, &sb->rlimits, msg, sizeof(msg)) < 0) {
		snprintf(err, errlen, "rlimits: %s", msg);
		return -EINVAL;
	}
	return 0;
}

/* A size's rlimit above the hard limit, which only CAP_SYS_RESOURCE may
 * raise, is lowered to that limit here in the parent, with one warning per
 * rlimit and process (SPEC §6); the child's fallback in rlimits_apply then
 * never needs to guess. Explicit JOBSHIM_RLIMITS values are left alone:
 * their setrlimit fails in the child (exit 125), as asked. With note (for
 * `check`), the first such message goes there instead of the log. */
static void lower_size_rlimits(const struct sandbox_opts *o, struct sandbox *sb,
			       const struct caps_now *now, char *note, size_t note_cap)
{
	struct rlimit cur;
	char msg[256];

	if (now->effective & (1ULL << CAP_SYS_RESOURCE))
		return;
	for (int res = 0; res < RLIMITS_COUNT; res++) {
		struct rlimit_entry *e = &sb->rlimits.r[res];

		if (!e->set || !e->from_size || getrlimit(res, &cur) < 0 ||
		    cur.rlim_max == RLIM_INFINITY || e->hard <= cur.rlim_max)
			continue;
		snprintf(
		    msg, sizeof(msg),
		    "size %s: rlimit %s %llu is above the hard limit %llu, which jobshim cannot "
		    "raise (no CAP_SYS_RESOURCE); the job gets %llu",
		    o->size->name, rlimit_name(res), (unsigned long long)e->hard,
		    (unsigned long long)cur.rlim_max, (unsigned long long)cur.rlim_max);
		if (note != NULL && note[0] == '\0') {
			snprintf(note, note_cap, "%s", msg);
		} else if (note == NULL && !said.rlimit_lowered[res]) {
			said.rlimit_lowered[res] = true;
			log_msg("%s", msg);
		}
		e->hard = cur.rlim_max;
		if (e->soft > e->hard)
			e->soft = e->hard;
	}
}

int sandbox_prepare(const struct sandbox_opts *o, struct sandbox **out, char *err, size_t errlen)
{
	char reason[512], notes[512], msg[1024];
	struct cgroup_limits cl;
	int rc;

	*out = NULL;
	struct sandbox *sb = calloc(1, sizeof(*sb));
	if (!sb) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	sb->cgroup_fd = -1;
	if ((rc = plan_sandbox(o, sb, err, errlen)) < 0) {
		free(sb);
		return rc;
	}

	struct caps_now now;
	if ((rc = caps_current(&now.bounding, &now.permitted, &now.effective)) < 0) {
		snprintf(err, errlen, "read capabilities: %s", strerror(-rc));
		free(sb);
		return rc;
	}
	caps_plan_make(sb->caps_keep, sb->nonroot, sb->caps_explicit, &now, &sb->caps);
	lower_size_rlimits(o, sb, &now, NULL, 0);
	if (o->size == NULL) {
		*out = sb; /* no size: no cgroup, nothing to say */
		return 0;
	}

	cgroup_limits_from_size(o->size, &cl);
	const char *root = cgroup_root(o);
	rc = cgroup_probe(root, o->cgroup_root != NULL && *o->cgroup_root, reason, sizeof(reason));
	if (rc == 0)
		rc = cgroup_setup(root, o->job_name, &cl, reason, sizeof(reason), notes,
				  sizeof(notes));
	if (rc >= 0) {
		sb->cgroup_fd = rc;
		snprintf(sb->cgroup_dir, sizeof(sb->cgroup_dir), "%s/jobshim/%s", root,
			 o->job_name);
		if (notes[0])
			log_msg("cgroup %s/jobshim/%s: not set: %s", root, o->job_name, notes);
	} else if (!said.cgroup_not_enforced) {
		said.cgroup_not_enforced = true;
		not_enforced_msg(o, reason, msg, sizeof(msg));
		log_msg("%s", msg);
	}
	*out = sb;
	return 0;
}

int sandbox_cgroup_kill(const struct sandbox *sb, const struct sandbox_opts *o)
{
	if (sb == NULL || sb->cgroup_fd < 0)
		return -ENOENT;
	return cgroup_kill(cgroup_root(o), o->job_name);
}

void sandbox_free(struct sandbox *sb)
{
	if (!sb)
		return;
	if (sb->cgroup_fd >= 0)
		close(sb->cgroup_fd);
	free(sb);
}

int sandbox_oom_kills(const struct sandbox *sb, uint64_t *kills)
{
	return sb && sb->cgroup_dir[0] ? cgroup_oom_kills(sb->cgroup_dir, kills) : -ENOENT;
}

void sandbox_oom_limit(const struct sandbox *sb, char *buf, size_t cap)
{
	uint64_t max;

	if (sb && sb->cgroup_dir[0] && cgroup_memory_max(sb->cgroup_dir, &max) == 0 &&
	    max != UINT64_MAX)
		format_bytes(max, buf, cap);
	else
		snprintf(buf, cap, "max");
}

int sandbox_child_limits(const struct sandbox *sb, const char **step)
{
	int rc, failed = 0;

	if (sb->cgroup_fd >= 0 && (rc = cgroup_join(sb->cgroup_fd)) < 0) {
		*step = "cgroup";
		return rc;
	}
	if ((rc = rlimits_apply(&sb->rlimits, &failed)) < 0) {
		*step = failed >= 0 && failed < RLIMITS_COUNT && rlimit_steps[failed]
			    ? rlimit_steps[failed]
			    : "rlimits";
		return rc;
	}
	return 0;
}

/* Raw system calls from here on (SPEC §7, STYLE 11): the child shares
 * jobshim's memory until execve, so nothing here allocates, formats or goes
 * through a libc wrapper with state of its own (glibc's set*id broadcast to
 * threads). */
int sandbox_child_lockdown(const struct sandbox *sb, const char **step)
{
	int rc;

	/* While still privileged: dropping from the bounding set needs
	 * CAP_SETPCAP, which the job will not keep. */
	if ((rc = caps_child_drop_bounding(&sb->caps)) < 0) {
		*step = "capability bounding set";
		return rc;
	}
	if (sb->set_user) {
		const struct user_ids *u = &sb->user;
		if (syscall(SYS_setgroups, (long)u->ngroups, u->groups) < 0) {
			*step = "setgroups";
			return -errno;
		}
		if (syscall(SYS_setgid, (long)u->gid) < 0) {
			*step = "setgid";
			return -errno;
		}
		/* A non-root job given capabilities keeps its permitted set
		 * across setuid, to raise them as ambient ones below. */
		if ((rc = caps_child_keepcaps(&sb->caps)) < 0) {
			*step = "setuid";
			return rc;
		}
		if (syscall(SYS_setuid, (long)u->uid) < 0) {
			*step = "setuid";
			return -errno;
		}
	}
	if ((rc = caps_child_set(&sb->caps)) < 0) {
		*step = "capabilities";
		return rc;
	}
	/* Always: no setuid binary or file capability can undo the above,
	 * and an unprivileged process may install the seccomp filter. */
	if (syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) < 0) {
		*step = "no_new_privs";
		return -errno;
	}
	if ((rc = seccomp_prog_load(sb->filter)) < 0) {
		*step = "seccomp";
		return rc;
	}
	return 0;
}

/* ---------------------------------------------------------------- describe */

static void json_string(FILE *out, const char *s)
{
	char buf[2048];
	size_t n = json_escape(buf, sizeof(buf), s, strlen(s));
	fprintf(out, "\"%.*s\"", (int)(n < sizeof(buf) ? n : sizeof(buf) - 1), buf);
}

/* "CHOWN,KILL" as ["CHOWN","KILL"]. */
static void json_caps(FILE *out, uint64_t set)
{
	char buf[1024];
	caps_format(set, buf, sizeof(buf));
	fputc('[', out);
	if (set) {
		bool first = true;
		char *save = NULL;
		for (char *c = strtok_r(buf, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
			fprintf(out, "%s", first ? "" : ",");
			json_string(out, c);
			first = false;
		}
	}
	fputc(']', out);
}

static void describe_user(const struct sandbox_opts *o, const struct sandbox *sb, FILE *out,
			  bool json)
{
	const struct user_ids *u = &sb->user;
	if (!sb->set_user) {
		uid_t uid = geteuid();
		if (json)
			fprintf(out, ",\"user\":{\"inherited\":true,\"uid\":%u}", (unsigned)uid);
		else if (uid == 0)
			fprintf(out, "  user: root (inherited)\n");
		else
			fprintf(out, "  user: uid %u (inherited)\n", (unsigned)uid);
		return;
	}
	if (json) {
		fprintf(out, ",\"user\":{\"inherited\":false,\"spec\":");
		json_string(out, o->user);
		fprintf(out, ",\"uid\":%u,\"gid\":%u,\"groups\":[", (unsigned)u->uid,
			(unsigned)u->gid);
		for (size_t i = 0; i < u->ngroups; i++)
			fprintf(out, "%s%u", i ? "," : "", (unsigned)u->groups[i]);
		fprintf(out, "]}");
		return;
	}
	fprintf(out, "  user: %s (uid %u, gid %u, groups ", o->user, (unsigned)u->uid,
		(unsigned)u->gid);
	if (u->ngroups == 0)
		fprintf(out, "none");
	for (size_t i = 0; i < u->ngroups; i++)
		fprintf(out, "%s%u", i ? "," : "", (unsigned)u->groups[i]);
	fprintf(out, ")\n");
}

void sandbox_describe(const struct sandbox_opts *o, FILE *out, bool json)
{
	char err[512], reason[512], buf[2048], note[256];
	struct sandbox sb;
	struct caps_now now;
	struct cgroup_limits cl;
	enum seccomp_profile sp = SECCOMP_PROFILE_DEFAULT;

	memset(&sb, 0, sizeof(sb));
	if (plan_sandbox(o, &sb, err, sizeof(err)) < 0) {
		if (json) {
			fprintf(out, "\"sandbox_error\":");
			json_string(out, err);
		} else {
			fprintf(out, "  sandbox: invalid: %s\n", err);
		}
		return;
	}
	sp = o->seccomp;
	/* The values the job would get, lowered as sandbox_prepare lowers them. */
	note[0] = '\0';
	if (caps_current(&now.bounding, &now.permitted, &now.effective) == 0)
		lower_size_rlimits(o, &sb, &now, note, sizeof(note));
	if (o->size != NULL)
		cgroup_limits_from_size(o->size, &cl);
	const char *root = cgroup_root(o);
	bool cg = o->size != NULL && cgroup_probe(root, o->cgroup_root != NULL && *o->cgroup_root,
						  reason, sizeof(reason)) == 0;
	uint64_t effective = sb.nonroot && !sb.caps_explicit ? 0 : sb.caps_keep;

	rlimits_format(&sb.rlimits, json, buf, sizeof(buf));
	if (json) {
		fprintf(out, "\"rlimits\":%s,", buf);
		if (note[0]) {
			fprintf(out, "\"rlimits_lowered\":");
			json_string(out, note);
			fputc(',', out);
		}
		fprintf(out, "\"cgroup\":");
		if (o->size == NULL)
			fputs("null", out);
		else
			fprintf(out, "{\"enforced\":%s", cg ? "true" : "false");
		if (o->size == NULL) {
			/* none: nothing to enforce */
		} else if (cg) {
			snprintf(buf, sizeof(buf), "%s/jobshim/%s", root, o->job_name);
			fprintf(out, ",\"path\":");
			json_string(out, buf);
			fprintf(out,
				",\"memory.max\":%llu,\"memory.swap.max\":%llu,\"pids.max\":%llu,"
				"\"cpu.weight\":%u}",
				(unsigned long long)cl.memory_max, (unsigned long long)cl.swap_max,
				(unsigned long long)cl.pids_max, cl.cpu_weight);
		} else {
			not_enforced_msg(o, reason, buf, sizeof(buf));
			fprintf(out, ",\"reason\":");
			json_string(out, buf);
			fprintf(out, "}");
		}
		fprintf(out, ",\"seccomp\":{\"profile\":\"%s\",\"allowed\":%u}",
			seccomp_profile_name(sp), seccomp_profile_allowed(sp));
		fprintf(out, ",\"capabilities\":{\"bounding\":");
		json_caps(out, sb.caps_keep);
		fprintf(out, ",\"effective\":");
		json_caps(out, effective);
		fprintf(out, ",\"ambient\":");
		json_caps(out, sb.nonroot && sb.caps_explicit ? sb.caps_keep : 0);
		fprintf(out, "}");
		describe_user(o, &sb, out, true);
		fprintf(out, ",\"no_new_privs\":true");
		return;
	}

	fprintf(out, "  rlimits: %s\n", buf[0] ? buf : "none (the container's own)");
	if (note[0])
		fprintf(out, "  rlimits lowered: %s\n", note);
	if (o->size == NULL) {
		fprintf(out, "  cgroup: none (no size)\n");
	} else if (cg) {
		fprintf(
		    out,
		    "  cgroup: %s/jobshim/%s memory.max=%llu memory.swap.max=%llu pids.max=%llu "
		    "cpu.weight=%u\n",
		    root, o->job_name, (unsigned long long)cl.memory_max,
		    (unsigned long long)cl.swap_max, (unsigned long long)cl.pids_max,
		    cl.cpu_weight);
	} else {
		not_enforced_msg(o, reason, buf, sizeof(buf));
		fprintf(out, "  cgroup: not enforced: %s\n", buf);
	}
	if (sp == SECCOMP_PROFILE_OFF)
		fprintf(out, "  seccomp: off (no filter)\n");
	else
		fprintf(out,
			"  seccomp: %s (%u syscalls allowed; other known ones EPERM, unknown "
			"ENOSYS)\n",
			seccomp_profile_name(sp), seccomp_profile_allowed(sp));
	caps_format(sb.caps_keep, buf, sizeof(buf));
	fprintf(out, "  capabilities: %s", buf);
	if (sb.nonroot && sb.caps_explicit && sb.caps_keep)
		fprintf(out, " (ambient: the non-root job has them effective)\n");
	else if (sb.nonroot && sb.caps_keep)
		fprintf(out, " (bounding set; none effective for a non-root job)\n");
	else
		fprintf(out, "\n");
	describe_user(o, &sb, out, false);
	fprintf(out, "  no_new_privs: on\n");
}

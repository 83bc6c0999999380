/* Sizes as limits (SPEC §6): rlimit lists, the size's rlimits, cpu.weight,
 * and the cgroup code against a fake cgroup v2 tree in a temp dir. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "commands.h"
#include "joblimits.h"
#include "sizes.h"

#define INF RLIM_INFINITY
#define Ki  1024ULL
#define Mi  (1024ULL * 1024)
#define Gi  (1024ULL * 1024 * 1024)

/* ---------------------------------------------------------------- rlimits */

struct good {
	const char *in;
	int res;
	rlim_t soft, hard;
};
static const struct good good[] = {
    {"nofile=4096", RLIMIT_NOFILE, 4096, 4096},
    {"core=0", RLIMIT_CORE, 0, 0},
    {"as=2G", RLIMIT_AS, 2 * Gi, 2 * Gi},
    {"as=2Gi", RLIMIT_AS, 2 * Gi, 2 * Gi},
    {"data=512M", RLIMIT_DATA, 512 * Mi, 512 * Mi},
    {"data=512Mi", RLIMIT_DATA, 512 * Mi, 512 * Mi},
    {"stack=8K", RLIMIT_STACK, 8 * Ki, 8 * Ki},
    {"stack=8k", RLIMIT_STACK, 8 * Ki, 8 * Ki},
    {"stack=8Ki", RLIMIT_STACK, 8 * Ki, 8 * Ki},
    {"fsize=unlimited", RLIMIT_FSIZE, INF, INF},
    {"fsize=1024:2048", RLIMIT_FSIZE, 1024, 2048},
    {"fsize=1K:unlimited", RLIMIT_FSIZE, 1024, INF},
    {"fsize=4096:1024", RLIMIT_FSIZE, 1024, 1024}, /* soft clamped to hard */
    {"nproc=100", RLIMIT_NPROC, 100, 100},
    {"cpu=60", RLIMIT_CPU, 60, 60},
    {"memlock=64K", RLIMIT_MEMLOCK, 64 * Ki, 64 * Ki},
    {"rss=1G", RLIMIT_RSS, Gi, Gi},
    {"msgqueue=819200", RLIMIT_MSGQUEUE, 819200, 819200},
    {"nice=0", RLIMIT_NICE, 0, 0},
    {"rtprio=0", RLIMIT_RTPRIO, 0, 0},
    {"rttime=unlimited", RLIMIT_RTTIME, INF, INF},
    {"sigpending=1000", RLIMIT_SIGPENDING, 1000, 1000},
    {"locks=10", RLIMIT_LOCKS, 10, 10},
    {"nofile=1,nofile=2", RLIMIT_NOFILE, 2, 2}, /* the later one wins */
    {"core=1,as=1", RLIMIT_AS, 1, 1},
    {"as=17179869183G", RLIMIT_AS, 17179869183ULL * Gi, 17179869183ULL * Gi},
};

struct bad {
	const char *in;
	const char *err;
};
static const struct bad bad[] = {
    {"nofile", "\"nofile\": expected NAME=VALUE or NAME=SOFT:HARD"},
    {"files=10", "unknown limit \"files\" (expected nofile, core, nproc, as,"},
    {"NOFILE=10", "unknown limit \"NOFILE\""},
    {"nofile=", "nofile: bad value \"\""},
    {"nofile=12X", "nofile: bad value \"12X\""},
    {"nofile=-1", "nofile: bad value \"-1\""},
    {"nofile=1.5K", "nofile: bad value \"1.5K\""},
    {"nofile=0x10", "nofile: bad value \"0x10\""},
    {"nofile=10:", "nofile: bad value \"10:\""},
    {"nofile=:10", "nofile: bad value \":10\""},
    {"nofile=1:2:3", "nofile: bad value \"1:2:3\""},
    {"nofile= 10", "nofile: bad value \" 10\""},
    {"as=2T", "as: bad value \"2T\""},
    {"as=infinity", "as: bad value \"infinity\""},
    {"as=18446744073709551615", "as: value \"18446744073709551615\" too large"},
    {"as=99999999999999999999", "as: value \"99999999999999999999\" too large"},
    {"as=17179869184G", "as: value \"17179869184G\" too large"},
    {"nofile=10,", "empty item in \"nofile=10,\""},
    {",nofile=10", "empty item"},
    {"nofile=10,,core=0", "empty item"},
};

static void rlimits_good(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct rlimit_set rs;
		char err[256] = "";
		memset(&rs, 0, sizeof(rs));
		if (rlimits_parse(good[i].in, &rs, err, sizeof(err)) != 0)
			fail_msg("\"%s\": %s", good[i].in, err);
		const struct rlimit_entry *e = &rs.r[good[i].res];
		if (!e->set || e->from_size || e->soft != good[i].soft || e->hard != good[i].hard)
			fail_msg("\"%s\": set %d soft %llu hard %llu", good[i].in, e->set,
				 (unsigned long long)e->soft, (unsigned long long)e->hard);
	}
}

static void rlimits_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct rlimit_set rs;
		char err[512] = "";
		memset(&rs, 0, sizeof(rs));
		if (rlimits_parse(bad[i].in, &rs, err, sizeof(err)) != -EINVAL)
			fail_msg("\"%s\": accepted", bad[i].in);
		if (!strstr(err, bad[i].err))
			fail_msg("\"%s\": error \"%s\" lacks \"%s\"", bad[i].in, err, bad[i].err);
		/* syntax-only mode agrees */
		assert_int_equal(rlimits_parse(bad[i].in, NULL, err, sizeof(err)), -EINVAL);
	}
	char err[8];
	assert_int_equal(rlimits_parse(NULL, NULL, err, sizeof(err)), 0);
	assert_int_equal(rlimits_parse("", NULL, err, sizeof(err)), 0);
}

/* Every size: NOFILE = nofile, CORE = 0, NPROC = pids for non-root only,
 * never AS or DATA. */
static void rlimits_of_sizes(void **state)
{
	(void)state;
	for (size_t i = 0; i < size_count; i++) {
		for (int nonroot = 0; nonroot < 2; nonroot++) {
			struct rlimit_set rs;
			rlimits_from_size(&size_table[i], nonroot, &rs);
			assert_true(rs.r[RLIMIT_NOFILE].set && rs.r[RLIMIT_NOFILE].from_size);
			assert_int_equal(rs.r[RLIMIT_NOFILE].soft, size_table[i].nofile);
			assert_int_equal(rs.r[RLIMIT_NOFILE].hard, size_table[i].nofile);
			assert_true(rs.r[RLIMIT_CORE].set);
			assert_int_equal(rs.r[RLIMIT_CORE].hard, 0);
			assert_int_equal(rs.r[RLIMIT_NPROC].set, nonroot);
			if (nonroot)
				assert_int_equal(rs.r[RLIMIT_NPROC].soft, size_table[i].pids);
			assert_false(rs.r[RLIMIT_AS].set);
			assert_false(rs.r[RLIMIT_DATA].set);
		}
	}
}

/* Everything printed to a FILE by print(out, rs), as a string (caller frees). */
static char *rlimits_printed(const struct rlimit_set *rs, bool json)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct jw w;

	assert_non_null(f);
	if (json) {
		jw_init(&w, f);
		check_rlimits_json(&w, rs);
		assert_int_equal(jw_finish(&w), 0);
	} else {
		check_rlimits_text(f, rs);
	}
	fclose(f);
	return buf;
}

static void rlimits_formatting(void **state)
{
	(void)state;
	struct rlimit_set rs;
	char err[256], *buf;
	rlimits_from_size(size_lookup("mini"), true, &rs);
	assert_int_equal(
	    rlimits_parse("as=2G,fsize=1K:unlimited,core=unlimited", &rs, err, sizeof(err)), 0);
	buf = rlimits_printed(&rs, false);
	assert_string_equal(buf, "nofile=8192 core=unlimited nproc=512 as=2147483648 "
				 "fsize=1024:unlimited");
	free(buf);
	buf = rlimits_printed(&rs, true);
	assert_string_equal(buf, "{\"nofile\":{\"soft\":8192,\"hard\":8192},\"core\":{\"soft\":"
				 "\"unlimited\",\"hard\":\"unlimited\"},\"nproc\":{\"soft\":512,"
				 "\"hard\":512},\"as\":{\"soft\":2147483648,\"hard\":2147483648},"
				 "\"fsize\":{\"soft\":1024,\"hard\":\"unlimited\"}}\n");
	free(buf);
	memset(&rs, 0, sizeof(rs));
	buf = rlimits_printed(&rs, false);
	assert_string_equal(buf, "");
	free(buf);
	buf = rlimits_printed(&rs, true);
	assert_string_equal(buf, "{}\n");
	free(buf);
	/* the listing order covers every named resource once */
	size_t n = 0;
	for (int res; (res = rlimit_listed(n)) >= 0; n++)
		assert_non_null(rlimit_name(res));
	assert_int_equal(n, 16);
	assert_int_equal(rlimit_listed(0), RLIMIT_NOFILE);
	assert_string_equal(rlimit_name(RLIMIT_MSGQUEUE), "msgqueue");
}

/* In a child: the limits land in the process; a size-derived one above
 * the hard limit is lowered to it when unprivileged; an explicit one fails. */
static int child_apply(const char *list, bool drop_hard_nofile, int *failed_out)
{
	int pipefd[2];
	assert_int_equal(pipe(pipefd), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit_set rs;
		char err[256];
		int failed = -1, rc;
		close(pipefd[0]);
		if (drop_hard_nofile) {
			/* unprivileged: no CAP_SYS_RESOURCE, hard nofile 1000 */
			struct rlimit l = {1000, 1000};
			if (setrlimit(RLIMIT_NOFILE, &l) < 0 || setuid(65534) < 0)
				_exit(100);
		}
		rlimits_from_size(size_lookup("micro"), false, &rs);
		if (rlimits_parse(list, &rs, err, sizeof(err)) < 0)
			_exit(101);
		rc = rlimits_apply(&rs, &failed);
		struct rlimit nofile, core, fsize;
		getrlimit(RLIMIT_NOFILE, &nofile);
		getrlimit(RLIMIT_CORE, &core);
		getrlimit(RLIMIT_FSIZE, &fsize);
		dprintf(pipefd[1], "%d %d %llu %llu %llu %llu", rc, failed,
			(unsigned long long)nofile.rlim_cur, (unsigned long long)nofile.rlim_max,
			(unsigned long long)core.rlim_max, (unsigned long long)fsize.rlim_cur);
		_exit(0);
	}
	close(pipefd[1]);
	char buf[256] = "";
	ssize_t n = read(pipefd[0], buf, sizeof(buf) - 1);
	close(pipefd[0]);
	int st;
	waitpid(pid, &st, 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_true(n > 0);
	int rc;
	unsigned long long nc, nm, cm, fc;
	assert_int_equal(
	    sscanf(buf, "%d %d %llu %llu %llu %llu", &rc, failed_out, &nc, &nm, &cm, &fc), 6);
	if (rc == 0) {
		assert_int_equal(cm, 0);
		return (int)(nm == nc ? nc : 0) * (fc == 12345 ? -1 : 1);
	}
	return rc;
}

static void rlimits_applied(void **state)
{
	(void)state;
	int failed;
	if (geteuid() != 0)
		skip();
	/* root: micro's 4096, and an fsize override */
	assert_int_equal(child_apply("fsize=12345", false, &failed), -4096);
	/* unprivileged, hard nofile 1000: the size's 4096 is lowered to 1000 */
	assert_int_equal(child_apply("", true, &failed), 1000);
	/* ... but an explicit raise fails, naming nofile */
	assert_int_equal(child_apply("nofile=5000", true, &failed), -EPERM);
	assert_int_equal(failed, RLIMIT_NOFILE);
}

/* ---------------------------------------------------------------- cgroup */

static void cpu_weights(void **state)
{
	(void)state;
	static const unsigned rows[][2] = {
	    {125, 12}, {250, 25}, {500, 50}, {750, 75},	      {1500, 150},     {1000, 100},
	    {0, 1},    {5, 1},	  {10, 1},   {200000, 10000}, {100000, 10000},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_int_equal(cgroup_cpu_weight(rows[i][0]), rows[i][1]);
	struct cgroup_limits cl;
	cgroup_limits_from_size(size_lookup("standard-2"), &cl);
	assert_int_equal(cl.memory_max, 2 * Gi);
	assert_int_equal(cl.swap_max, 0);
	assert_int_equal(cl.pids_max, 2048);
	assert_int_equal(cl.cpu_weight, 75);
}

static char root[64];

static void put(const char *rel, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	FILE *f = fopen(path, "we");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void get(const char *rel, char *buf, size_t cap)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	FILE *f = fopen(path, "re");
	assert_non_null(f);
	size_t n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
}

static void mk(const char *rel)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

/* A fake of what the kernel shows in a container's own cgroup namespace:
 * the test plays the kernel by creating the files that would appear. */
static void fake_tree(bool non_root_cgroup, const char *job_memory_max)
{
	snprintf(root, sizeof(root), "/tmp/test_cgroup.XXXXXX");
	assert_non_null(mkdtemp(root));
	put("cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
	put("cgroup.subtree_control", "");
	put("cgroup.procs", "1\n17\n");
	if (non_root_cgroup)
		put("cgroup.type", "domain\n");
	mk("jobshim");
	put("jobshim/cgroup.controllers", "cpu memory pids\n");
	put("jobshim/cgroup.subtree_control", "");
	put("jobshim/cgroup.procs", "");
	mk("jobshim/init");
	put("jobshim/init/cgroup.procs", "");
	mk("jobshim/web");
	put("jobshim/web/cgroup.procs", "");
	put("jobshim/web/memory.max", job_memory_max);
	put("jobshim/web/memory.swap.max", "max\n");
	put("jobshim/web/pids.max", "max\n");
	put("jobshim/web/cpu.weight", "100\n");
}

static void rm_tree(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
}

static void cgroup_fake_tree(void **state)
{
	(void)state;
	struct cgroup_limits cl;
	char reason[256], notes[256], buf[256];

	fake_tree(true, "max\n");
	cgroup_limits_from_size(size_lookup("micro"), &cl);
	assert_int_equal(cgroup_probe(root, true, reason, sizeof(reason)), 0);
	int fd = cgroup_setup(root, "web", &cl, reason, sizeof(reason), notes, sizeof(notes));
	if (fd < 0)
		fail_msg("setup: %s", reason);
	assert_string_equal(notes, "");
	get("jobshim/web/memory.max", buf, sizeof(buf));
	assert_string_equal(buf, "268435456");
	get("jobshim/web/memory.swap.max", buf, sizeof(buf));
	assert_string_equal(buf, "0");
	get("jobshim/web/pids.max", buf, sizeof(buf));
	assert_string_equal(buf, "256");
	get("jobshim/web/cpu.weight", buf, sizeof(buf));
	assert_string_equal(buf, "12");
	/* the processes of root moved to the leaf (the fake keeps the last
	 * write: one pid a write, as cgroup.procs wants) */
	get("jobshim/init/cgroup.procs", buf, sizeof(buf));
	assert_string_equal(buf, "17");
	/* controllers enabled one by one, those offered only */
	get("cgroup.subtree_control", buf, sizeof(buf));
	assert_string_equal(buf, "+cpu");
	get("jobshim/cgroup.subtree_control", buf, sizeof(buf));
	assert_string_equal(buf, "+cpu");
	/* the child joins by writing "0" */
	assert_int_equal(cgroup_join(fd), 0);
	close(fd);
	get("jobshim/web/cgroup.procs", buf, sizeof(buf));
	assert_string_equal(buf, "0");
	rm_tree();
}

/* Limits are only ever lowered: a lower memory.max already there stays. */
static void cgroup_lowering_only(void **state)
{
	(void)state;
	struct cgroup_limits cl;
	char reason[256], notes[256], buf[256];

	fake_tree(false, "1048576\n");
	put("jobshim/web/pids.max", "100000\n");
	cgroup_limits_from_size(size_lookup("standard-4"), &cl);
	int fd = cgroup_setup(root, "web", &cl, reason, sizeof(reason), notes, sizeof(notes));
	assert_true(fd >= 0);
	close(fd);
	get("jobshim/web/memory.max", buf, sizeof(buf));
	assert_string_equal(buf, "1048576\n"); /* untouched */
	get("jobshim/web/pids.max", buf, sizeof(buf));
	assert_string_equal(buf, "4096");
	get("jobshim/web/cpu.weight", buf, sizeof(buf));
	assert_string_equal(buf, "150");
	/* a real root cgroup (no cgroup.type): its processes stay */
	get("jobshim/init/cgroup.procs", buf, sizeof(buf));
	assert_string_equal(buf, "");
	rm_tree();
}

/* Controllers not offered: the limit files are not written, and notes
 * say so; the job still gets its cgroup. */
static void cgroup_missing_controller(void **state)
{
	(void)state;
	struct cgroup_limits cl;
	char reason[256], notes[256];

	fake_tree(true, "max\n");
	put("jobshim/cgroup.controllers", "cpu pids\n");
	cgroup_limits_from_size(size_lookup("micro"), &cl);
	int fd = cgroup_setup(root, "web", &cl, reason, sizeof(reason), notes, sizeof(notes));
	assert_true(fd >= 0);
	close(fd);
	assert_non_null(strstr(notes, "memory.max"));
	assert_null(strstr(notes, "pids.max"));
	rm_tree();
}

static void cgroup_not_usable(void **state)
{
	(void)state;
	char reason[256], notes[256];
	struct cgroup_limits cl;
	cgroup_limits_from_size(size_lookup("micro"), &cl);

	/* no such directory */
	assert_int_equal(cgroup_probe("/nonexistent/cgroup", true, reason, sizeof(reason)),
			 -ENOENT);
	assert_string_equal(reason, "No such file or directory");
	/* a directory that is no cgroup v2, fake or real */
	assert_int_equal(cgroup_probe("/tmp", true, reason, sizeof(reason)), -EOPNOTSUPP);
	assert_non_null(strstr(reason, "no cgroup2 file system"));
	/* a fake counts only when named explicitly */
	fake_tree(true, "max\n");
	assert_int_equal(cgroup_probe(root, false, reason, sizeof(reason)), -EOPNOTSUPP);
	/* a cgroup file that cannot be written: setup fails with a reason */
	char path[256];
	snprintf(path, sizeof(path), "%s/jobshim/web/cgroup.procs", root);
	unlink(path);
	int fd = cgroup_setup(root, "web", &cl, reason, sizeof(reason), notes, sizeof(notes));
	assert_int_equal(fd, -ENOENT);
	assert_non_null(strstr(reason, "cgroup.procs"));
	/* names that would escape the tree */
	assert_int_equal(
	    cgroup_setup(root, "../x", &cl, reason, sizeof(reason), notes, sizeof(notes)), -EINVAL);
	assert_int_equal(
	    cgroup_setup(root, "init", &cl, reason, sizeof(reason), notes, sizeof(notes)), -EINVAL);
	rm_tree();
}

/* memory.events and friends: flat "key value" lines. */
static void cgroup_key_values(void **state)
{
	(void)state;
	static const char events[] = "low 0\nhigh 4\nmax 17\noom 3\noom_kill 2\noom_group_kill 0\n";
	static const struct {
		const char *text, *key;
		int rc;
		uint64_t want;
	} rows[] = {
	    {events, "oom_kill", 0, 2},
	    {events, "oom", 0, 3},
	    {events, "low", 0, 0},
	    {events, "max", 0, 17},
	    {events, "oom_group_kill", 0, 0},
	    {events, "kill", -ENOENT, 0},
	    {events, "oom_", -ENOENT, 0},
	    {"", "oom_kill", -ENOENT, 0},
	    {"oom_kill 7", "oom_kill", 0, 7}, /* no trailing newline */
	    {"\noom_kill 7\n", "oom_kill", 0, 7},
	    {"oom_kill -1\n", "oom_kill", -EINVAL, 0},
	    {"oom_kill x\n", "oom_kill", -EINVAL, 0},
	    {"oom_kill 1x\n", "oom_kill", -EINVAL, 0},
	    {"oom_kill 99999999999999999999999\n", "oom_kill", -EINVAL, 0},
	    {"xoom_kill 5\noom_kill 6\n", "oom_kill", 0, 6},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint64_t v = 12345;
		assert_int_equal(cgroup_key_value(rows[i].text, rows[i].key, &v), rows[i].rc);
		if (rows[i].rc == 0)
			assert_int_equal(v, rows[i].want);
	}
}

/* What jobshim reads when an instance ends: oom_kill and memory.max. */
static void cgroup_oom_reading(void **state)
{
	(void)state;
	char dir[256];
	uint64_t v;

	fake_tree(true, "268435456\n");
	snprintf(dir, sizeof(dir), "%s/jobshim/web", root);
	assert_int_equal(cgroup_oom_kills(dir, &v), -ENOENT); /* no memory.events yet */
	put("jobshim/web/memory.events", "low 0\nhigh 0\nmax 9\noom 1\noom_kill 1\n");
	assert_int_equal(cgroup_oom_kills(dir, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(cgroup_memory_max(dir, &v), 0);
	assert_int_equal(v, 256 * Mi);
	put("jobshim/web/memory.max", "max\n");
	assert_int_equal(cgroup_memory_max(dir, &v), 0);
	assert_int_equal(v, UINT64_MAX);
	put("jobshim/web/memory.max", "lots\n");
	assert_int_equal(cgroup_memory_max(dir, &v), -EINVAL);
	rm_tree();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(rlimits_good),
	    cmocka_unit_test(rlimits_bad),
	    cmocka_unit_test(rlimits_of_sizes),
	    cmocka_unit_test(rlimits_formatting),
	    cmocka_unit_test(rlimits_applied),
	    cmocka_unit_test(cpu_weights),
	    cmocka_unit_test(cgroup_fake_tree),
	    cmocka_unit_test(cgroup_lowering_only),
	    cmocka_unit_test(cgroup_missing_controller),
	    cmocka_unit_test(cgroup_not_usable),
	    cmocka_unit_test(cgroup_key_values),
	    cmocka_unit_test(cgroup_oom_reading),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

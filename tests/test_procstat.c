/* /proc parsing and process-group sampling (SPEC §8): stat lines with
 * hostile comm names, a fake /proc tree, and a real spinning process group. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "spinner.h"

#include "procstat.h"

/* Fields 3..24 and a realistic remainder, with utime 7, stime 3, cutime 2,
 * cstime 1, starttime 12345, rss 130. */
#define TAIL                                                                                       \
	"S 1 42 42 0 -1 4194560 100 0 0 0 7 3 2 1 20 0 1 0 12345 2273280 130 "                     \
	"18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"

struct stat_row {
	const char *line;
	int rc;
	pid_t pid;
	const char *comm;
	char state;
	pid_t pgrp;
	uint64_t cpu; /* utime+stime+cutime+cstime */
	uint64_t rss;
};

static const struct stat_row stat_rows[] = {
    {"42 (sleep) " TAIL, 0, 42, "sleep", 'S', 42, 13, 130},
    {"7 (a) b (c) " TAIL, 0, 7, "a) b (c", 'S', 42, 13, 130},
    /* A comm that imitates the following fields. */
    {"9 () S 99 99 99) " TAIL, 0, 9, ") S 99 99 99", 'S', 42, 13, 130},
    {"9 ((((() " TAIL, 0, 9, "((((", 'S', 42, 13, 130},
    {"10 () " TAIL, 0, 10, "", 'S', 42, 13, 130},
    {"11 (new\nline) " TAIL, 0, 11, "new\nline", 'S', 42, 13, 130},
    {"12 (  ) " TAIL, 0, 12, "  ", 'S', 42, 13, 130},
    /* Exactly up to rss, no newline. */
    {"13 (x) R 1 5 5 0 -1 0 0 0 0 0 100 200 0 0 20 0 1 0 9 0 4", 0, 13, "x", 'R', 5, 300, 4},
    /* Up to rss with a newline. */
    {"13 (x) R 1 5 5 0 -1 0 0 0 0 0 100 200 0 0 20 0 1 0 9 0 4\n", 0, 13, "x", 'R', 5, 300, 4},
    /* Negative counts the kernel prints as longs read as 0. */
    {"14 (x) Z 1 5 5 0 -1 0 0 0 0 0 1 1 -3 -4 20 0 1 0 9 0 -5\n", 0, 14, "x", 'Z', 5, 2, 0},
    {"15 (x) R 1 5 5 0 -1 0 0 0 0 0 18446744073709551615 0 0 0 20 0 1 0 9 0 4", 0, 15, "x", 'R', 5,
     UINT64_MAX, 4},
    /* Refused. */
    {"", -EINVAL, 0, NULL, 0, 0, 0, 0},
    {"42 (sleep)", -EINVAL, 0, NULL, 0, 0, 0, 0},
    {"42 (sleep) S 1 42 42 0 -1 0 0 0 0 0 7 3 2 1 20 0 1 0 12345 2273280", -EINVAL, 0, NULL, 0, 0,
     0, 0},
    {"42 (sleep " TAIL, -EINVAL, 0, NULL, 0, 0, 0, 0}, /* no ')' at all: last ')' absent */
    {"42 sleep) " TAIL, -EINVAL, 0, NULL, 0, 0, 0, 0},
    {"(sleep) " TAIL, -EINVAL, 0, NULL, 0, 0, 0, 0},
    {"x2 (sleep) " TAIL, -EINVAL, 0, NULL, 0, 0, 0, 0},
    {"-2 (sleep) " TAIL, -EINVAL, 0, NULL, 0, 0, 0, 0},
    {"42(sleep) " TAIL, -EINVAL, 0, NULL, 0, 0, 0, 0},
    {"42 (sleep)S 1 42 42 0 -1 0 0 0 0 0 7 3 2 1 20 0 1 0 12345 2273280 130", -EINVAL, 0, NULL, 0,
     0, 0, 0},
    {"42 (sleep) S  1 42 42 0 -1 0 0 0 0 0 7 3 2 1 20 0 1 0 12345 2273280 130", -EINVAL, 0, NULL, 0,
     0, 0, 0},
    {"42 (sleep) SS 1 42 42 0 -1 0 0 0 0 0 7 3 2 1 20 0 1 0 12345 2273280 130", -EINVAL, 0, NULL, 0,
     0, 0, 0},
    {"42 (sleep) S 1 x 42 0 -1 0 0 0 0 0 7 3 2 1 20 0 1 0 12345 2273280 130", -EINVAL, 0, NULL, 0,
     0, 0, 0},
    {"42 (sleep) S 1 42 42 0 -1 0 0 0 0 0 -7 3 2 1 20 0 1 0 12345 2273280 130", -EINVAL, 0, NULL, 0,
     0, 0, 0},
    {"42 (sleep) S 1 42 42 0 -1 0 0 0 0 0 18446744073709551616 3 2 1 20 0 1 0 1 2 130", -EINVAL, 0,
     NULL, 0, 0, 0, 0},
    {"42 (sleep) S 1 99999999999 42 0 -1 0 0 0 0 0 7 3 2 1 20 0 1 0 12345 2273280 130", -EINVAL, 0,
     NULL, 0, 0, 0, 0},
    {"42 (sleep) S 1 42 42 0 -1 0 0 0 0 0 7 3 2 1 20 0 1 0 12345 2273280 13x", -EINVAL, 0, NULL, 0,
     0, 0, 0},
};

static void test_parse_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(stat_rows) / sizeof(stat_rows[0]); i++) {
		const struct stat_row *r = &stat_rows[i];
		struct procstat_fields f;
		int rc = procstat_parse_stat(r->line, strlen(r->line), &f);

		if (rc != r->rc)
			fail_msg("row %zu (%s): rc %d, want %d", i, r->line, rc, r->rc);
		if (rc < 0)
			continue;
		assert_int_equal(f.pid, r->pid);
		assert_string_equal(f.comm, r->comm);
		assert_int_equal(f.state, r->state);
		assert_int_equal(f.pgrp, r->pgrp);
		assert_true(f.utime + f.stime + f.cutime + f.cstime == r->cpu);
		assert_true(f.rss_pages == r->rss);
	}
}

static void test_parse_fields(void **state)
{
	struct procstat_fields f;
	const char *l = "42 (sleep) " TAIL;

	(void)state;
	assert_int_equal(procstat_parse_stat(l, strlen(l), &f), 0);
	assert_int_equal(f.ppid, 1);
	assert_int_equal(f.utime, 7);
	assert_int_equal(f.stime, 3);
	assert_int_equal(f.cutime, 2);
	assert_int_equal(f.cstime, 1);
	assert_int_equal(f.starttime, 12345);
}

/* len bounds the parse: a line cut anywhere before rss is refused, and no
 * byte past len is read (ASan checks the heap copy). */
static void test_parse_respects_len(void **state)
{
	const char *l = "42 (a) b) S 1 42 42 0 -1 0 0 0 0 0 7 3 2 1 20 0 1 0 12345 2273280 130";
	size_t full = strlen(l);
	struct procstat_fields f;

	(void)state;
	for (size_t n = 0; n < full; n++) {
		char *copy = malloc(n ? n : 1);
		assert_non_null(copy);
		memcpy(copy, l, n);
		/* The last digit of rss may be cut and still parse (13 not 130). */
		int rc = procstat_parse_stat(copy, n, &f);
		if (n >= full - 2)
			assert_int_equal(rc, 0);
		else if (rc != -EINVAL)
			fail_msg("prefix of %zu bytes: rc %d", n, rc);
		free(copy);
	}
	assert_int_equal(procstat_parse_stat(l, full, &f), 0);
	assert_int_equal(f.rss_pages, 130);
	assert_string_equal(f.comm, "a) b");
}

static void test_parse_long_comm_truncated(void **state)
{
	char line[512], comm[101];
	struct procstat_fields f;

	(void)state;
	memset(comm, 'c', 100);
	comm[100] = '\0';
	snprintf(line, sizeof(line), "5 (%s) %s", comm, TAIL);
	assert_int_equal(procstat_parse_stat(line, strlen(line), &f), 0);
	assert_int_equal(strlen(f.comm), sizeof(f.comm) - 1);
	assert_int_equal(f.pgrp, 42);
}

static void test_parse_self(void **state)
{
	char buf[1024];
	struct procstat_fields f;
	FILE *fp = fopen("/proc/self/stat", "r");
	size_t n;

	(void)state;
	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	assert_int_equal(procstat_parse_stat(buf, n, &f), 0);
	assert_int_equal(f.pid, getpid());
	assert_int_equal(f.pgrp, getpgrp());
	assert_int_equal(f.ppid, getppid());
	assert_int_equal(f.state, 'R');
	assert_true(f.rss_pages > 0);
}

/* ------------------------------------------------------------ fake /proc */

static void put_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/%s/stat", dir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void test_sample_fake_proc(void **state)
{
	char root[] = "/tmp/jobshim-procstat-XXXXXX", cmd[600];
	long page = sysconf(_SC_PAGESIZE);
	pid_t pgrps[] = {50, 60, 0, 77, 50};
	struct pgrp_usage u[5];
	char empty[600];

	(void)state;
	assert_non_null(mkdtemp(root));
	/* utime stime cutime cstime | rss */
	put_file(root, "100", "100 (a) S 1 50 50 0 -1 0 0 0 0 0 10 5 1 0 20 0 1 0 9 0 3\n");
	put_file(root, "101", "101 (x) y) S 100 50 50 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 9 0 2\n");
	put_file(root, "102", "102 (b) R 1 60 60 0 -1 0 0 0 0 0 100 0 0 0 20 0 1 0 9 0 7\n");
	put_file(root, "103", "garbage");
	put_file(root, "self", "104 (c) S 1 50 50 0 -1 0 0 0 0 0 1000 0 0 0 20 0 1 0 9 0 9\n");
	put_file(root, "105x", "105 (c) S 1 50 50 0 -1 0 0 0 0 0 1000 0 0 0 20 0 1 0 9 0 9\n");
	put_file(root, "2", "2 (kthreadd) S 0 0 0 0 -1 0 0 0 0 0 500 0 0 0 20 0 1 0 9 0 0\n");
	snprintf(empty, sizeof(empty), "%s/106", root); /* vanished: no stat */
	assert_int_equal(mkdir(empty, 0755), 0);

	assert_int_equal(procstat_sample(root, pgrps, 5, u), 0);
	assert_int_equal(u[0].nprocs, 2);
	assert_int_equal(u[0].cpu_ticks, 18);
	assert_int_equal(u[0].rss_bytes, 5 * (uint64_t)page);
	assert_int_equal(u[1].nprocs, 1);
	assert_int_equal(u[1].cpu_ticks, 100);
	assert_int_equal(u[1].rss_bytes, 7 * (uint64_t)page);
	/* pgrp 0 must not pick up kernel threads. */
	assert_int_equal(u[2].nprocs, 0);
	assert_int_equal(u[2].cpu_ticks, 0);
	assert_int_equal(u[3].nprocs, 0);
	assert_int_equal(u[4].nprocs, 2);

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(procstat_sample(root, pgrps, 5, u), -ENOENT);
}

/* A real process group that burns CPU: sampled like `stats` does. */
static void test_sample_real_group(void **state)
{
	struct pgrp_usage u0, u1;
	struct timespec t0, t1, d = {0, 300 * 1000000L};
	pid_t child, pg;
	uint64_t ns, m;
	int r0, r1;

	(void)state;
	child = spawn_spinner();
	pg = child;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r0 = procstat_sample(NULL, &pg, 1, &u0);
	nanosleep(&d, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	r1 = procstat_sample(NULL, &pg, 1, &u1);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);

	assert_int_equal(r0, 0);
	assert_int_equal(r1, 0);

	assert_int_equal(u0.nprocs, 1);
	assert_int_equal(u1.nprocs, 1);
	assert_true(u1.rss_bytes > 0);
	assert_true(u1.cpu_ticks >= u0.cpu_ticks);
	ns = (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000u + (uint64_t)t1.tv_nsec -
	     (uint64_t)t0.tv_nsec;
	m = procstat_millicores(u1.cpu_ticks - u0.cpu_ticks, (uint64_t)sysconf(_SC_CLK_TCK), ns);
	/* A spinning process uses ~1000m; leave room for a busy 2-core box. */
	if (m < 200 || m > 1300)
		fail_msg("spinning child measured %llu millicores", (unsigned long long)m);
	/* Our own group is not the child's. */
	pg = getpgrp();
	assert_int_equal(procstat_sample(NULL, &pg, 1, &u0), 0);
	assert_true(u0.nprocs >= 1);
}

struct mc_row {
	uint64_t ticks, hz, ns, want;
};

static void test_millicores(void **state)
{
	static const struct mc_row rows[] = {
	    {20, 100, 200000000, 1000},
	    {0, 100, 200000000, 0},
	    {1, 100, 1000000000, 10},
	    {3, 100, 200000000, 150},
	    {1, 100, 400000000, 25},
	    {1, 3, 1000000000, 333},
	    {2, 3, 1000000000, 667},
	    {40, 100, 200000000, 2000},
	    {5, 0, 1000000000, 0},
	    {5, 100, 0, 0},
	    {UINT64_MAX, 100, 1, UINT64_MAX},
	    {100, 1000, 1000000000, 100},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint64_t got = procstat_millicores(rows[i].ticks, rows[i].hz, rows[i].ns);
		if (got != rows[i].want)
			fail_msg("row %zu: %llu, want %llu", i, (unsigned long long)got,
				 (unsigned long long)rows[i].want);
	}
}

struct kib_row {
	const char *text, *key;
	int rc;
	uint64_t kib;
};

static void test_status_kib(void **state)
{
	static const char status[] = "Name:\tjobshim\nVmPeak:\t    2000 kB\nVmHWM:\t     712 kB\n"
				     "VmRSS:\t     600 kB\nXVmData: 5 kB\nVmBad:\t abc kB\n"
				     "VmMB:\t 12 MB\nVmEmpty:\nVmLast:\t 9 kB";
	static const struct kib_row rows[] = {
	    {status, "VmHWM", 0, 712},	    {status, "VmRSS", 0, 600},
	    {status, "VmPeak", 0, 2000},    {status, "VmLast", 0, 9},
	    {status, "Vm", -ENOENT, 0},	    {status, "VmData", -ENOENT, 0},
	    {status, "VmSwap", -ENOENT, 0}, {status, "VmBad", -EINVAL, 0},
	    {status, "VmMB", -EINVAL, 0},   {status, "VmEmpty", -EINVAL, 0},
	    {"", "VmHWM", -ENOENT, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint64_t kib = 0;
		int rc = procstat_status_kib(rows[i].text, rows[i].key, &kib);
		if (rc != rows[i].rc || (rc == 0 && kib != rows[i].kib))
			fail_msg("row %zu (%s): rc %d kib %llu", i, rows[i].key, rc,
				 (unsigned long long)kib);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_table),
	    cmocka_unit_test(test_parse_fields),
	    cmocka_unit_test(test_parse_respects_len),
	    cmocka_unit_test(test_parse_long_comm_truncated),
	    cmocka_unit_test(test_parse_self),
	    cmocka_unit_test(test_sample_fake_proc),
	    cmocka_unit_test(test_sample_real_group),
	    cmocka_unit_test(test_millicores),
	    cmocka_unit_test(test_status_kib),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Tests of wait status → exit code and text (like a shell: code or
 * 128+signal), signal names, and reaping many real children at once. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "reap.h"
#include "signame.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Wait statuses as the kernel builds them (Linux, all architectures). */
#define EXITED(code)  (((code)&0xff) << 8)
#define SIGNALED(sig) ((sig)&0x7f)
#define DUMPED(sig)   (((sig)&0x7f) | 0x80)
#define STOPPED(sig)  ((((sig)&0xff) << 8) | 0x7f)
#define CONTINUED     0xffff

/* ------------------------------------------------------------ signame */

/* `kill -l` on Linux (x86, arm, most others; the ones that differ, such as
 * alpha, mips and sparc, are not targets). */
static const char *const kill_l[32] = {
    NULL,   "HUP",  "INT",  "QUIT", "ILL",    "TRAP",	"ABRT",	 "BUS",	 "FPE",	 "KILL", "USR1",
    "SEGV", "USR2", "PIPE", "ALRM", "TERM",   "STKFLT", "CHLD",	 "CONT", "STOP", "TSTP", "TTIN",
    "TTOU", "URG",  "XCPU", "XFSZ", "VTALRM", "PROF",	"WINCH", "IO",	 "PWR",	 "SYS",
};

static void test_signal_name_table(void **state)
{
	int bad = 0;

	(void)state;
	for (int sig = 1; sig < 32; sig++) {
		const char *got = signal_name(sig);
		if (got == NULL || strcmp(got, kill_l[sig]) != 0) {
			print_error("signal_name(%d) = %s, expected %s\n", sig, got ? got : "NULL",
				    kill_l[sig]);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

static void test_signal_name_unnamed(void **state)
{
	static const int none[] = {0, -1, 32, 33, 34, 35, 64, 65, 127, 128, 1000, INT32_MIN};

	(void)state;
	for (size_t i = 0; i < N(none); i++)
		if (signal_name(none[i]) != NULL)
			fail_msg("signal_name(%d) = %s, expected NULL", none[i],
				 signal_name(none[i]));
}

/* The table agrees with the constants of this libc, name by name. */
static void test_signal_name_constants(void **state)
{
	static const struct {
		int sig;
		const char *name;
	} rows[] = {
	    {SIGHUP, "HUP"},   {SIGINT, "INT"},	  {SIGQUIT, "QUIT"},   {SIGKILL, "KILL"},
	    {SIGUSR1, "USR1"}, {SIGUSR2, "USR2"}, {SIGPIPE, "PIPE"},   {SIGTERM, "TERM"},
	    {SIGCHLD, "CHLD"}, {SIGSTOP, "STOP"}, {SIGWINCH, "WINCH"}, {SIGSYS, "SYS"},
	};

	(void)state;
	for (size_t i = 0; i < N(rows); i++)
		assert_string_equal(signal_name(rows[i].sig), rows[i].name);
}

/* ------------------------------------------------------------ status */

/* In a forked child: die by sig with its default action, leaving no core
 * file behind. */
static void die_by(int sig)
{
	struct rlimit no_core = {0, 0};
	sigset_t all;

	setrlimit(RLIMIT_CORE, &no_core);
	signal(sig, SIG_DFL);
	sigfillset(&all);
	sigprocmask(SIG_UNBLOCK, &all, NULL);
	kill(getpid(), sig);
	_exit(200); /* not reached */
}

static void test_status_exited(void **state)
{
	(void)state;
	for (int code = 0; code <= 255; code++)
		if (status_to_code(EXITED(code)) != code)
			fail_msg("exit %d → %d", code, status_to_code(EXITED(code)));
}

static void test_status_signaled(void **state)
{
	(void)state;
	for (int sig = 1; sig <= 64; sig++) {
		if (status_to_code(SIGNALED(sig)) != 128 + sig)
			fail_msg("signal %d → %d", sig, status_to_code(SIGNALED(sig)));
		/* A core dump changes nothing. */
		if (status_to_code(DUMPED(sig)) != 128 + sig)
			fail_msg("signal %d (core) → %d", sig, status_to_code(DUMPED(sig)));
	}
}

static void test_status_other(void **state)
{
	(void)state;
	/* Never asked for (no WUNTRACED/WCONTINUED), but not 0 = "success". */
	assert_int_equal(status_to_code(STOPPED(SIGSTOP)), 255);
	assert_int_equal(status_to_code(STOPPED(SIGTSTP)), 255);
	assert_int_equal(status_to_code(CONTINUED), 255);
}

struct describe_row {
	int wstatus;
	const char *want;
};

static const struct describe_row describe_rows[] = {
    {EXITED(0), "exited with status 0"},
    {EXITED(1), "exited with status 1"},
    {EXITED(127), "exited with status 127"},
    {EXITED(255), "exited with status 255"},
    {SIGNALED(SIGKILL), "killed by signal 9 (SIGKILL)"},
    {SIGNALED(SIGTERM), "killed by signal 15 (SIGTERM)"},
    {SIGNALED(SIGHUP), "killed by signal 1 (SIGHUP)"},
    {SIGNALED(SIGSYS), "killed by signal 31 (SIGSYS)"},
    {DUMPED(SIGSEGV), "killed by signal 11 (SIGSEGV)"},
    {DUMPED(SIGABRT), "killed by signal 6 (SIGABRT)"},
    {SIGNALED(34), "killed by signal 34"},
    {SIGNALED(64), "killed by signal 64"},
};

static void test_status_describe_table(void **state)
{
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < N(describe_rows); i++) {
		char buf[64];

		memset(buf, 'x', sizeof(buf));
		status_describe(describe_rows[i].wstatus, buf, sizeof(buf));
		if (strcmp(buf, describe_rows[i].want) != 0) {
			print_error("status 0x%x: \"%s\", expected \"%s\"\n",
				    describe_rows[i].wstatus, buf, describe_rows[i].want);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

static void test_status_describe_truncates(void **state)
{
	char buf[16];

	(void)state;
	memset(buf, 'x', sizeof(buf));
	status_describe(SIGNALED(SIGKILL), buf, 10);
	assert_string_equal(buf, "killed by");
	assert_int_equal(buf[10], 'x');
}

/* The constructed statuses are what the kernel reports for real children. */
static void test_status_real_children(void **state)
{
	static const struct {
		int code; /* exit code, or -signal */
		int want;
	} rows[] = {{0, 0},	     {3, 3},	      {255, 255},     {-SIGKILL, 137},
		    {-SIGTERM, 143}, {-SIGUSR1, 138}, {-SIGSEGV, 139}};

	(void)state;
	for (size_t i = 0; i < N(rows); i++) {
		int st;
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (pid == 0) {
			if (rows[i].code < 0)
				die_by(-rows[i].code);
			_exit(rows[i].code);
		}
		assert_int_equal(waitpid(pid, &st, 0), pid);
		assert_int_equal(status_to_code(st), rows[i].want);
		if (rows[i].code >= 0)
			assert_int_equal(st, EXITED(rows[i].code));
		else
			assert_int_equal(st & 0x7f, SIGNALED(-rows[i].code));
	}
}

/* ------------------------------------------------------------ reap_all */

#define KIDS 50

struct collected {
	pid_t pids[KIDS * 2];
	int codes[KIDS * 2];
	int n;
};

static void collect(void *ctx, pid_t pid, int wstatus)
{
	struct collected *c = ctx;

	assert_true(c->n < KIDS * 2);
	c->pids[c->n] = pid;
	c->codes[c->n] = status_to_code(wstatus);
	c->n++;
}

/* True once pid has exited (without reaping it). */
static int has_exited(pid_t pid)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
		return -1;
	return si.si_pid == pid;
}

static void sleep_ms(long ms)
{
	struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&t, NULL);
}

/* Forks KIDS children that wait on a pipe, then all exit together when it
 * closes: child i exits with code i*5 or, for odd i above 40, by signal
 * (i - 40). Returns when every one of them is a zombie. */
static void spawn_kids(pid_t *pids)
{
	int p[2];

	assert_int_equal(pipe(p), 0);
	for (int i = 0; i < KIDS; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			char c;
			close(p[1]);
			while (read(p[0], &c, 1) < 0 && errno == EINTR)
				;
			if (i > 40 && i % 2 == 1)
				die_by(i - 40);
			_exit(i * 5);
		}
	}
	close(p[0]);
	close(p[1]); /* all go */
	for (int i = 0; i < KIDS; i++) {
		int tries = 0, r;
		while ((r = has_exited(pids[i])) == 0 && tries++ < 5000)
			sleep_ms(1);
		assert_int_equal(r, 1);
	}
}

static int expected_code(int i)
{
	return i > 40 && i % 2 == 1 ? 128 + (i - 40) : i * 5;
}

static void test_reap_all_many(void **state)
{
	pid_t pids[KIDS];
	struct collected c = {.n = 0};
	int seen[KIDS] = {0};

	(void)state;
	spawn_kids(pids);

	/* One call takes every zombie: SIGCHLDs coalesce. */
	assert_int_equal(reap_all(collect, &c), KIDS);
	assert_int_equal(c.n, KIDS);
	for (int k = 0; k < c.n; k++) {
		int found = 0;
		for (int i = 0; i < KIDS; i++) {
			if (pids[i] != c.pids[k])
				continue;
			found = 1;
			seen[i]++;
			if (c.codes[k] != expected_code(i))
				fail_msg("child %d: code %d, expected %d", i, c.codes[k],
					 expected_code(i));
		}
		if (!found)
			fail_msg("reaped unknown pid %d", (int)c.pids[k]);
	}
	for (int i = 0; i < KIDS; i++)
		assert_int_equal(seen[i], 1);

	/* None left: 0, and the callback is not called again. */
	assert_int_equal(reap_all(collect, &c), 0);
	assert_int_equal(c.n, KIDS);
	errno = 0;
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

static void test_reap_all_none(void **state)
{
	struct collected c = {.n = 0};

	(void)state;
	assert_int_equal(reap_all(collect, &c), 0);
	assert_int_equal(reap_all(NULL, NULL), 0);
	assert_int_equal(c.n, 0);
}

/* A live child is not waited for; once it exits it is reaped. A NULL
 * callback still reaps. */
static void test_reap_all_live_child(void **state)
{
	struct collected c = {.n = 0};
	int p[2], tries = 0;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char ch;
		close(p[1]);
		while (read(p[0], &ch, 1) < 0 && errno == EINTR)
			;
		_exit(42);
	}
	close(p[0]);
	assert_int_equal(reap_all(collect, &c), 0);
	assert_int_equal(c.n, 0);
	assert_int_equal(has_exited(pid), 0);

	close(p[1]);
	while (has_exited(pid) == 0 && tries++ < 5000)
		sleep_ms(1);
	assert_int_equal(reap_all(collect, &c), 1);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.pids[0], pid);
	assert_int_equal(c.codes[0], 42);

	/* The same with no callback. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	tries = 0;
	while (has_exited(pid) == 0 && tries++ < 5000)
		sleep_ms(1);
	assert_int_equal(reap_all(NULL, NULL), 1);
	assert_int_equal(has_exited(pid), -1); /* gone: ECHILD */
}

/* --stop-signal's parser: names with or without SIG, any case, numbers,
 * real-time offsets; 0, KILL, STOP and garbage are refused. */
static void test_signal_parse_table(void **state)
{
	static const struct {
		const char *in;
		int want;
	} rows[] = {
	    {"TERM", SIGTERM},	 {"SIGTERM", SIGTERM}, {"quit", SIGQUIT},   {"SigInt", SIGINT},
	    {"15", SIGTERM},	 {"3", SIGQUIT},       {"HUP", SIGHUP},	    {"USR1", SIGUSR1},
	    {"WINCH", SIGWINCH}, {"RTMIN", 0x7fff},    {"RTMIN+2", 0x7ffe}, {"RTMAX-1", 0x7ffd},
	    {"", -EINVAL},	 {"0", -EINVAL},       {"KILL", -EINVAL},   {"SIGSTOP", -EINVAL},
	    {"9", -EINVAL},	 {"BOGUS", -EINVAL},   {"15x", -EINVAL},    {"-15", -EINVAL},
	    {"SIG", -EINVAL},	 {"1000", -EINVAL},    {"RTMIN+", -EINVAL}, {"TERM ", -EINVAL},
	};

	(void)state;
	for (size_t i = 0; i < N(rows); i++) {
		int want = rows[i].want;
		if (want == 0x7fff)
			want = SIGRTMIN;
		else if (want == 0x7ffe)
			want = SIGRTMIN + 2;
		else if (want == 0x7ffd)
			want = SIGRTMAX - 1;
		if (signal_parse(rows[i].in) != want)
			fail_msg("signal_parse(\"%s\") = %d, expected %d", rows[i].in,
				 signal_parse(rows[i].in), want);
	}
	assert_int_equal(signal_parse(NULL), -EINVAL);
}

/* Which processes of a namespace descend from jobshim (PID 1): a table of
 * (pid, ppid) snapshots and the pids expected to be killed at a restart. */
static void test_reap_descendants_table(void **state)
{
	static const struct {
		const char *what;
		struct proc_link procs[8];
		size_t n;
		pid_t want[8]; /* 0-terminated */
	} rows[] = {
	    {"the instance and its child", {{1, 0}, {7, 1}, {8, 7}}, 3, {7, 8, 0}},
	    {"a setsid daemon re-parented to PID 1", {{1, 0}, {9, 1}, {10, 9}}, 3, {9, 10, 0}},
	    {"docker exec shell and its child are spared",
	     {{1, 0}, {20, 0}, {21, 20}, {22, 21}, {7, 1}},
	     5,
	     {7, 0}},
	    {"parent missing from the snapshot: not ours", {{1, 0}, {30, 29}, {31, 30}}, 3, {0}},
	    {"children listed before their parents",
	     {{12, 11}, {11, 10}, {10, 1}, {1, 0}},
	     4,
	     {12, 11, 10, 0}},
	    {"jobshim alone", {{1, 0}}, 1, {0}},
	    {"a cycle (impossible) is not ours", {{1, 0}, {40, 41}, {41, 40}}, 3, {0}},
	};

	(void)state;
	for (size_t r = 0; r < N(rows); r++) {
		bool mine[8] = {false};
		size_t want_n = 0, got = reap_descendants(rows[r].procs, rows[r].n, 1, mine);
		while (rows[r].want[want_n] != 0)
			want_n++;
		if (got != want_n)
			fail_msg("%s: %zu marked, expected %zu", rows[r].what, got, want_n);
		for (size_t i = 0; i < rows[r].n; i++) {
			bool expected = false;
			for (size_t k = 0; k < want_n; k++)
				expected = expected || rows[r].want[k] == rows[r].procs[i].pid;
			if (mine[i] != expected)
				fail_msg("%s: pid %d marked %d", rows[r].what,
					 (int)rows[r].procs[i].pid, mine[i]);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_signal_name_table),
	    cmocka_unit_test(test_signal_name_unnamed),
	    cmocka_unit_test(test_signal_name_constants),
	    cmocka_unit_test(test_signal_parse_table),
	    cmocka_unit_test(test_reap_descendants_table),
	    cmocka_unit_test(test_status_exited),
	    cmocka_unit_test(test_status_signaled),
	    cmocka_unit_test(test_status_other),
	    cmocka_unit_test(test_status_describe_table),
	    cmocka_unit_test(test_status_describe_truncates),
	    cmocka_unit_test(test_status_real_children),
	    cmocka_unit_test(test_reap_all_none),
	    cmocka_unit_test(test_reap_all_many),
	    cmocka_unit_test(test_reap_all_live_child),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

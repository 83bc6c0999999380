/* `jobshim stats` (SPEC §8): the output formats, and the command against
 * live processes. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

#include "commands.h"
#include "status_fixtures.h"
#include "spinner.h"
#include "jsonq.h"

#define NOW 1764385800000LL

/* ------------------------------------------------------------ helpers */

/* Everything printed to a FILE, as a string (caller frees). */
struct capture {
	char *buf;
	size_t len;
	FILE *fp;
};

static void capture_begin(struct capture *c)
{
	c->buf = NULL;
	c->len = 0;
	c->fp = open_memstream(&c->buf, &c->len);
	assert_non_null(c->fp);
}

static char *capture_end(struct capture *c)
{
	fclose(c->fp);
	return c->buf;
}

/* Runs stats_command with stderr redirected; returns its result and what
 * it printed on stdout (*out) and stderr (*err). */
static int run_stats(const char *dir, enum output_format fmt, char **out, char **err)
{
	char errpath[128];
	struct capture c;
	int saved, fd, rc;
	FILE *fp;
	long n;

	snprintf(errpath, sizeof(errpath), "%s/stderr.txt", tmpdir);
	fd = open(errpath, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	close(fd);
	capture_begin(&c);
	rc = stats_command(dir, fmt, c.fp);
	*out = capture_end(&c);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);

	fp = fopen(errpath, "r");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	*err = calloc(1, (size_t)n + 1);
	assert_non_null(*err);
	assert_int_equal(fread(*err, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	return rc;
}

struct fill_row {
	enum run_state st;
	pid_t pid;
	int64_t started;
	int last;
	int64_t cpu, mem;
	/* expected */
	pid_t pid_out;
	int64_t uptime;
	int last_out;
	int64_t cpu_out, mem_out;
	const char *status;
};

static void test_row_fill(void **state)
{
	static const struct fill_row rows[] = {
	    {RS_RUNNING, 42, NOW - 130500, 1, 12, 91226112, 42, 130, 1, 12, 91226112, "ready"},
	    {RS_RUNNING, 42, NOW - 100, -1, 0, 4096, 42, 0, -1, 0, 4096, "progressing"},
	    {RS_RUNNING, 42, NOW + 5000, -1, -1, -1, 42, 0, -1, -1, -1, "progressing"},
	    {RS_RUNNING, 42, 0, -1, -1, -1, 42, -1, -1, -1, -1, "progressing"},
	    {RS_WAITING, 0, NOW - 1000, 2, -1, -1, 0, -1, 2, -1, -1, "waiting"},
	    {RS_WAITING, 42, NOW - 1000, 2, -7, -9, 42, -1, 2, -1, -1, "waiting"},
	    {RS_TERMINATING, 42, NOW - 7000, -1, 3, 100, 42, 7, -1, 3, 100, "terminating"},
	    {RS_EXITED, 0, NOW - 7000, 0, -1, -1, 0, -1, 0, -1, -1, "succeeded"},
	    {RS_RUNNING, -5, NOW - 7000, 0, -1, -1, 0, -1, 0, -1, -1, "ready"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct fill_row *f = &rows[i];
		struct job_status j = job("sidekiq", f->st, f->pid, f->started, 0, f->last);
		struct stats_row r;

		stats_row_fill(&r, &j, NOW, 5000, f->cpu, f->mem);
		assert_string_equal(r.job, "sidekiq");
		assert_string_equal(r.kind, "worker");
		assert_string_equal(r.size, "micro");
		if (r.pid != f->pid_out || r.uptime_s != f->uptime ||
		    r.last_exit_code != f->last_out || r.cpu_millicores != f->cpu_out ||
		    r.memory_bytes != f->mem_out || strcmp(r.status, f->status) != 0)
			fail_msg("row %zu: pid %d uptime %lld last %d cpu %lld mem %lld %s", i,
				 (int)r.pid, (long long)r.uptime_s, r.last_exit_code,
				 (long long)r.cpu_millicores, (long long)r.memory_bytes, r.status);
	}
	/* The OOM mark travels with an exit code only. */
	struct job_status oj = job("hog", RS_WAITING, 0, NOW - 1000, 0, 137);
	struct stats_row orow;
	oj.last_oom = true;
	stats_row_fill(&orow, &oj, NOW, 5000, -1, -1);
	assert_true(orow.last_oom);
	oj.last_exit_code = -1;
	stats_row_fill(&orow, &oj, NOW, 5000, -1, -1);
	assert_false(orow.last_oom);
}

static struct stats_row srow(const char *job, const char *kind, pid_t pid, const char *status,
			     unsigned restarts, int last, int64_t up, int64_t cpu, int64_t mem,
			     const char *size)
{
	struct stats_row r;

	memset(&r, 0, sizeof(r));
	snprintf(r.job, sizeof(r.job), "%s", job);
	snprintf(r.kind, sizeof(r.kind), "%s", kind);
	snprintf(r.size, sizeof(r.size), "%s", size);
	r.pid = pid;
	r.status = status;
	r.restarts = restarts;
	r.last_exit_code = last;
	r.uptime_s = up;
	r.cpu_millicores = cpu;
	r.memory_bytes = mem;
	return r;
}

/* Deploy and scheduled rows: ATTEMPT and NEXT columns, "(timeout)", and
 * the status labels of a run (SPEC §8). */
static void test_oneshot_rows(void **state)
{
	struct job_status js[3];
	struct stats_row rows[4];
	struct capture c;
	char *s;

	(void)state;
	memset(js, 0, sizeof(js));
	snprintf(js[0].name, sizeof(js[0].name), "release");
	snprintf(js[0].kind, sizeof(js[0].kind), "deploy");
	js[0].state = RS_RUNNING;
	js[0].pid = 40;
	js[0].attempt = 2;
	js[0].attempts = 3;
	js[0].last_exit_code = 124;
	js[0].timed_out = 1;
	js[0].started_unix_ms = NOW - 3000;
	snprintf(js[1].name, sizeof(js[1].name), "nightly");
	snprintf(js[1].kind, sizeof(js[1].kind), "scheduled");
	js[1].state = RS_WAITING;
	js[1].attempt = 1;
	js[1].attempts = 1;
	js[1].last_exit_code = 0;
	snprintf(js[1].next_local, sizeof(js[1].next_local), "2026-12-02 03:00 CET");
	js[2] = js[1];
	js[2].state = RS_FAILED;
	js[2].last_exit_code = 1;
	stats_row_fill(&rows[0], &js[0], NOW, 5000, 3, 1048576);
	stats_row_fill(&rows[1], &js[1], NOW, 5000, -1, -1);
	stats_row_fill(&rows[2], &js[2], NOW, 5000, -1, -1);
	assert_string_equal(rows[0].status, "running");
	assert_string_equal(rows[1].status, "waiting");
	assert_string_equal(rows[2].status, "failed");
	js[2].state = RS_SUCCEEDED;
	stats_row_fill(&rows[2], &js[2], NOW, 5000, -1, -1);
	assert_string_equal(rows[2].status, "succeeded");
	rows[3] = srow("sidekiq", "worker", 42, "ready", 3, 1, 130, 12, 91226112, "micro");
	capture_begin(&c);
	assert_int_equal(stats_print_table(c.fp, rows, 4), 0);
	s = capture_end(&c);
	assert_string_equal(s,
			    "JOB      KIND       PID  STATUS     RESTARTS  LASTEXITCODE   UPTIME  "
			    "CPU  MEMORY  SIZE   ATTEMPT  NEXT\n"
			    "release  deploy     40   running    -         124 (timeout)  3s      "
			    "3m   1Mi     -      2/3      -\n"
			    "nightly  scheduled  -    waiting    -         0              -       "
			    "-    -       -      1/1      2026-12-02 03:00 CET\n"
			    "nightly  scheduled  -    succeeded  -         1              -       "
			    "-    -       -      1/1      2026-12-02 03:00 CET\n"
			    "sidekiq  worker     42   ready      3         1              2m10s   "
			    "12m  87Mi    micro  -        -\n");
	free(s);
	capture_begin(&c);
	assert_int_equal(stats_print_json(c.fp, rows, 2), 0);
	s = capture_end(&c);
	assert_non_null(strstr(s, "\"lastExitCode\":124,"));
	assert_non_null(strstr(s, "\"attempt\":2,\"attempts\":3,\"timedOut\":true,\"next\":null}"));
	assert_non_null(strstr(s, "\"next\":\"2026-12-02 03:00 CET\"}"));
	free(s);
}

static void test_print_table(void **state)
{
	struct stats_row rows[3];
	struct capture c;
	char *s;

	(void)state;
	/* SPEC §8's example, byte for byte. */
	rows[0] = srow("sidekiq", "worker", 42, "ready", 3, 1, 130, 12, 91226112, "micro");
	capture_begin(&c);
	assert_int_equal(stats_print_table(c.fp, rows, 1), 0);
	s = capture_end(&c);
	assert_string_equal(
	    s,
	    "JOB      KIND    PID  STATUS  RESTARTS  LASTEXITCODE  UPTIME  CPU  MEMORY  SIZE\n"
	    "sidekiq  worker  42   ready   3         1             2m10s   12m  87Mi    micro\n");
	free(s);

	/* Wider cells widen their column; absent values are "-". */
	rows[1] =
	    srow("web", "main", 1234567, "progressing", 0, -1, 3, 1500, 1610612736, "standard-4");
	rows[2] =
	    srow("a-very-long-worker-name", "worker", 0, "waiting", 12345, 137, -1, -1, -1, "mini");
	rows[2].last_oom = true; /* SPEC §6: the OOM killer's exit is named */
	capture_begin(&c);
	assert_int_equal(stats_print_table(c.fp, rows, 3), 0);
	s = capture_end(&c);
	assert_string_equal(s, "JOB                      KIND    PID      STATUS       RESTARTS  "
			       "LASTEXITCODE  UPTIME  CPU    MEMORY  SIZE\n"
			       "sidekiq                  worker  42       ready        3         "
			       "1             2m10s   12m    87Mi    micro\n"
			       "web                      main    1234567  progressing  0         "
			       "-             3s      1500m  1536Mi  standard-4\n"
			       "a-very-long-worker-name  worker  -        waiting      12345     "
			       "137 (OOM)     -       -      -       mini\n");
	free(s);

	/* No jobs yet: the header alone. */
	capture_begin(&c);
	assert_int_equal(stats_print_table(c.fp, rows, 0), 0);
	s = capture_end(&c);
	assert_string_equal(
	    s, "JOB  KIND  PID  STATUS  RESTARTS  LASTEXITCODE  UPTIME  CPU  MEMORY  SIZE\n");
	free(s);
}

static void test_print_json(void **state)
{
	struct stats_row rows[2];
	struct capture c;
	char *s;

	(void)state;
	rows[0] = srow("sidekiq", "worker", 42, "ready", 3, 1, 130, 12, 91226112, "micro");
	rows[1] = srow("odd\"name\\\n", "worker", 0, "waiting", 0, -1, -1, -1, -1, "");
	capture_begin(&c);
	assert_int_equal(stats_print_json(c.fp, rows, 2), 0);
	s = capture_end(&c);
	assert_string_equal(
	    s,
	    "{\"jobs\":[{\"job\":\"sidekiq\",\"kind\":\"worker\",\"pid\":42,\"status\":\"ready\","
	    "\"restarts\":3,\"lastExitCode\":1,\"uptimeSeconds\":130,"
	    "\"cpuMillicores\":12,"
	    "\"memoryBytes\":91226112,\"size\":\"micro\"},"
	    "{\"job\":\"odd\\\"name\\\\\\n\",\"kind\":\"worker\",\"pid\":null,\"status\":"
	    "\"waiting\",\"restarts\":0,\"lastExitCode\":null,"
	    "\"uptimeSeconds\":null,"
	    "\"cpuMillicores\":null,\"memoryBytes\":null,\"size\":null}]}\n");
	free(s);
	rows[0].last_exit_code = 137;
	rows[0].last_oom = true;
	capture_begin(&c);
	assert_int_equal(stats_print_json(c.fp, rows, 1), 0);
	s = capture_end(&c);
	assert_non_null(
	    strstr(s, "\"lastExitCode\":137,\"lastExitReason\":\"OOM\",\"uptimeSeconds\""));
	free(s);
	capture_begin(&c);
	assert_int_equal(stats_print_json(c.fp, rows, 0), 0);
	s = capture_end(&c);
	assert_string_equal(s, "{\"jobs\":[]}\n");
	free(s);
}

static void test_print_error(void **state)
{
	struct stats_row r = srow("w", "worker", 1, "ready", 0, 0, 0, 0, 0, "micro");
	FILE *fp = fopen("/dev/full", "w");

	(void)state;
	if (fp == NULL)
		skip();
	/* The write's own errno: "No space left on device" in the message. */
	assert_int_equal(stats_print_table(fp, &r, 1), -ENOSPC);
	clearerr(fp);
	assert_int_equal(stats_print_json(fp, &r, 1), -ENOSPC);
	fclose(fp);
}

/* ------------------------------------------------------------ the command */

static void test_stats_no_file(void **state)
{
	char dir[128], want[256], *out, *err;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/empty", tmpdir);
	assert_int_equal(run_stats(dir, OUT_TABLE, &out, &err), 1);
	snprintf(want, sizeof(want),
		 "jobshim stats: no jobshim is running in this container (no %s/status.json)\n",
		 dir);
	assert_string_equal(err, want);
	assert_string_equal(out, "");
	free(out);
	free(err);
}

static void test_stats_stale_and_garbage(void **state)
{
	char path[128], text[256], *out, *err;
	pid_t dead = fork();

	(void)state;
	assert_true(dead >= 0);
	if (dead == 0)
		_exit(0);
	waitpid(dead, NULL, 0);

	snprintf(path, sizeof(path), "%s/status.json", tmpdir);
	snprintf(text, sizeof(text), "{\"jobshim_pid\":%d,\"jobs\":[]}", (int)dead);
	write_text(path, text);
	assert_int_equal(run_stats(tmpdir, OUT_TABLE, &out, &err), 1);
	assert_non_null(strstr(err, "no jobshim is running in this container"));
	assert_non_null(strstr(err, "which has exited"));
	assert_string_equal(out, "");
	free(out);
	free(err);

	/* A live pid that started at another time than the writer did. */
	snprintf(text, sizeof(text), "{\"jobshim_pid\":%d,\"jobshim_starttime\":1,\"jobs\":[]}",
		 (int)getpid());
	write_text(path, text);
	assert_int_equal(run_stats(tmpdir, OUT_TABLE, &out, &err), 1);
	assert_non_null(strstr(err, "which is now another process"));
	free(out);
	free(err);
	/* Without a start time the live pid is trusted. */
	snprintf(text, sizeof(text), "{\"jobshim_pid\":%d,\"jobs\":[]}", (int)getpid());
	write_text(path, text);
	assert_int_equal(run_stats(tmpdir, OUT_TABLE, &out, &err), 0);
	assert_string_equal(err, "");
	assert_string_equal(
	    out, "JOB  KIND  PID  STATUS  RESTARTS  LASTEXITCODE  UPTIME  CPU  MEMORY  SIZE\n");
	free(out);
	free(err);

	write_text(path, "not json");
	assert_int_equal(run_stats(tmpdir, OUT_JSON, &out, &err), 1);
	assert_non_null(strstr(err, "not a jobshim status file"));
	free(out);
	free(err);
}

/* The whole number key of the first job in stats' JSON (jsonq.h). */
static long long json_number(const char *s, const char *key)
{
	char expr[64], *v, *end;
	long long n;

	snprintf(expr, sizeof(expr), "d['jobs'][0]['%s']", key);
	v = json_get(s, expr);
	n = strtoll(v, &end, 10);
	if (end == v || *end != '\0')
		fail_msg("%s is %s, not a whole number, in %s", key, v, s);
	free(v);
	return n;
}

/* A live process group: what stats prints about it is measured. */
static void test_stats_live(void **state)
{
	struct status_doc d;
	struct timespec now;
	char path[128], *out, *err, *tout, *terr;
	long long cpu, mem, up;
	int rc_json, rc_table;
	pid_t child;

	(void)state;
	child = spawn_spinner();
	clock_gettime(CLOCK_REALTIME, &now);

	memset(&d, 0, sizeof(d));
	d.jobshim_pid = getpid();
	d.ready_after_ms = 5000;
	d.n_jobs = 2;
	d.jobs[0] = job("spinner", RS_RUNNING, child,
			(int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000 - 130000, 0, 1);
	d.jobs[0].restarts = 3;
	d.jobs[1] = job("idle", RS_WAITING, 0, 0, 1, 2);
	snprintf(path, sizeof(path), "%s/status.json", tmpdir);
	assert_int_equal(status_write(path, &d), 0);

	/* Both outputs first: the spinner dies before any assertion can fail. */
	rc_json = run_stats(tmpdir, OUT_JSON, &out, &err);
	rc_table = run_stats(tmpdir, OUT_TABLE, &tout, &terr);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);

	assert_int_equal(rc_json, 0);
	assert_string_equal(err, "");
	cpu = json_number(out, "cpuMillicores");
	mem = json_number(out, "memoryBytes");
	up = json_number(out, "uptimeSeconds");
	if (cpu < 200 || cpu > 1300)
		fail_msg("cpu %lld in %s", cpu, out);
	assert_true(mem > 0);
	assert_true(up >= 130 && up <= 132);
	assert_non_null(strstr(out, "\"job\":\"spinner\",\"kind\":\"worker\""));
	assert_non_null(strstr(out, "\"status\":\"ready\",\"restarts\":3,\"lastExitCode\":1"));
	assert_non_null(strstr(out,
			       "{\"job\":\"idle\",\"kind\":\"worker\",\"pid\":null,\"status\":"
			       "\"waiting\",\"restarts\":0,\"lastExitCode\":2,\"uptimeSeconds\":"
			       "null,\"cpuMillicores\":null,\"memoryBytes\":null,\"size\":"
			       "\"micro\"}"));
	free(out);
	free(err);

	assert_int_equal(rc_table, 0);
	assert_string_equal(terr, "");
	assert_non_null(strstr(tout, "JOB      KIND    PID"));
	assert_non_null(strstr(tout, "\nspinner  worker  "));
	assert_non_null(strstr(tout, "  ready    3         1             2m1"));
	assert_non_null(strstr(tout, "\nidle     worker  -"));
	free(tout);
	free(terr);

	/* The group is gone: nothing to measure, but the row stays. */
	assert_int_equal(run_stats(tmpdir, OUT_JSON, &out, &err), 0);
	assert_non_null(strstr(out, "\"job\":\"spinner\""));
	assert_non_null(strstr(out, "\"cpuMillicores\":null,\"memoryBytes\":null"));
	free(out);
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_row_fill),
	    cmocka_unit_test(test_print_table),
	    cmocka_unit_test(test_oneshot_rows),
	    cmocka_unit_test(test_print_json),
	    cmocka_unit_test(test_print_error),
	    cmocka_unit_test_setup_teardown(test_stats_no_file, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(test_stats_stale_and_garbage, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(test_stats_live, setup_tmp, teardown_tmp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

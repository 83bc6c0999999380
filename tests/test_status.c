/* The status file (SPEC §8): labels, the file's round trip, the strict
 * reader against malformed input, and the run dir's fallbacks. */
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

#include "status.h"
#include "status_fixtures.h"
#include "jsonq.h"

#define NOW 1764385800000LL

/* ------------------------------------------------------------ helpers */

/* ------------------------------------------------------------ labels */

struct label_row {
	enum run_state st;
	int last_exit;
	unsigned unstable;
	int64_t started;
	uint64_t ready_after;
	const char *want;
};

static void test_status_label(void **state)
{
	static const struct label_row rows[] = {
	    {RS_TERMINATING, 0, 0, NOW - 100000, 5000, "terminating"},
	    {RS_TERMINATING, 1, 9, NOW - 100000, 5000, "terminating"},
	    {RS_EXITED, 0, 0, NOW - 100000, 5000, "succeeded"},
	    {RS_EXITED, 0, 5, NOW - 100000, 5000, "succeeded"},
	    {RS_EXITED, 1, 0, NOW - 100000, 5000, "failing"},
	    {RS_EXITED, 137, 0, NOW - 100000, 5000, "failing"},
	    {RS_EXITED, -1, 0, 0, 5000, "failing"},
	    {RS_WAITING, 1, 0, 0, 5000, "waiting"},
	    {RS_WAITING, 1, 2, 0, 5000, "waiting"},
	    {RS_WAITING, 1, 3, 0, 5000, "failing"},
	    {RS_RUNNING, 1, 3, NOW - 100000, 5000, "failing"},
	    {RS_RUNNING, 1, 3, NOW - 100, 5000, "failing"},
	    {RS_RUNNING, -1, 0, NOW - 100, 5000, "progressing"},
	    {RS_RUNNING, -1, 2, NOW - 4999, 5000, "progressing"},
	    {RS_RUNNING, -1, 0, NOW - 5000, 5000, "ready"},
	    {RS_RUNNING, -1, 0, NOW - 100000, 5000, "ready"},
	    {RS_RUNNING, -1, 0, NOW, 0, "ready"},
	    {RS_RUNNING, -1, 0, NOW + 1000, 0, "progressing"}, /* clock stepped back */
	    {RS_RUNNING, -1, 0, 0, 5000, "progressing"},       /* start unknown */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct job_status j =
		    job("w", rows[i].st, 42, rows[i].started, rows[i].unstable, rows[i].last_exit);
		const char *got = status_label(&j, NOW, rows[i].ready_after);
		if (strcmp(got, rows[i].want) != 0)
			fail_msg("row %zu: %s, want %s", i, got, rows[i].want);
	}
}

/* ------------------------------------------------------------ format/parse */

static void assert_doc_equal(const struct status_doc *a, const struct status_doc *b)
{
	assert_int_equal(a->jobshim_pid, b->jobshim_pid);
	assert_true(a->jobshim_starttime == b->jobshim_starttime);
	assert_true(a->written_unix_ms == b->written_unix_ms);
	assert_true(a->ready_after_ms == b->ready_after_ms);
	assert_int_equal(a->n_jobs, b->n_jobs);
	for (size_t i = 0; i < a->n_jobs; i++) {
		const struct job_status *x = &a->jobs[i], *y = &b->jobs[i];
		assert_string_equal(x->name, y->name);
		assert_string_equal(x->kind, y->kind);
		assert_string_equal(x->size, y->size);
		assert_int_equal(x->state, y->state);
		assert_int_equal(x->pid, y->pid);
		assert_int_equal(x->restarts, y->restarts);
		assert_int_equal(x->last_exit_code, y->last_exit_code);
		assert_int_equal(x->last_oom, y->last_oom);
		assert_int_equal(x->unstable, y->unstable);
		assert_true(x->started_unix_ms == y->started_unix_ms);
		assert_true(x->next_start_unix_ms == y->next_start_unix_ms);
	}
}

static struct status_doc sample_doc(void)
{
	struct status_doc d;

	memset(&d, 0, sizeof(d));
	d.jobshim_pid = 1;
	d.written_unix_ms = 1764385800123LL;
	d.ready_after_ms = 5000;
	d.n_jobs = 1;
	d.jobs[0] = job("sidekiq", RS_RUNNING, 42, 1764385700000LL, 0, 1);
	d.jobs[0].restarts = 3;
	return d;
}

static void test_format_exact(void **state)
{
	struct status_doc d = sample_doc();
	char buf[1024];
	int n;

	(void)state;
	n = status_format(buf, sizeof(buf), &d);
	assert_string_equal(
	    buf, "{\"jobshim_pid\":1,\"jobshim_starttime\":0,\"written\":"
		 "1764385800123,\"ready_after_ms\":5000,"
		 "\"jobs\":[{\"name\":\"sidekiq\",\"kind\":\"worker\",\"size\":"
		 "\"micro\",\"state\":\"running\",\"pid\":42,\"restarts\":3,"
		 "\"last_exit_code\":1,\"last_oom\":false,\"unstable\":0,\"started\":1764385700000,"
		 "\"next_start\":0}]}\n");
	assert_int_equal(n, (int)strlen(buf));
	/* Too small: an error, never a truncated file. */
	for (size_t cap = 0; cap <= (size_t)n; cap++)
		assert_int_equal(status_format(buf, cap, &d), -ENOBUFS);
	assert_int_equal(status_format(buf, (size_t)n + 1, &d), n);
}

static void test_round_trip(void **state)
{
	static struct status_doc docs[4], back;
	static char buf[65536];

	(void)state;
	/* 0: the sample; 1: no jobs; 2: every state, odd names, extreme values;
	 * 3: four jobs with names that escape to six bytes a character. */
	docs[0] = sample_doc();
	docs[1] = sample_doc();
	docs[1].n_jobs = 0;
	docs[1].jobshim_pid = INT_MAX;
	docs[2] = sample_doc();
	docs[2].n_jobs = 4;
	docs[2].ready_after_ms = 0;
	docs[2].written_unix_ms = INT64_MAX;
	docs[2].jobshim_starttime = INT64_MAX;
	docs[2].jobs[0] = job("quote\"back\\slash/", RS_WAITING, 0, 0, 7, -1);
	docs[2].jobs[0].last_exit_code = 137;
	docs[2].jobs[0].last_oom = true;
	docs[2].jobs[0].next_start_unix_ms = NOW + 4000;
	docs[2].jobs[1] = job("tab\tnl\ncr\r\x01\x1f\x7f", RS_TERMINATING, INT_MAX, NOW, 0, 255);
	docs[2].jobs[1].restarts = UINT_MAX;
	docs[2].jobs[1].unstable = UINT_MAX;
	docs[2].jobs[2] = job("utf8-\xc3\xa9-\xf0\x9f\x98\x80", RS_EXITED, 0, INT64_MAX, 0, 0);
	docs[2].jobs[3] = job("web", RS_RUNNING, 1, 1, 0, INT_MAX);
	docs[2].jobs[4] = job("nightly", RS_FAILED, 0, NOW, 0, 124);
	strcpy(docs[2].jobs[4].kind, "scheduled");
	docs[2].jobs[4].attempt = 3;
	docs[2].jobs[4].attempts = 3;
	docs[2].jobs[4].timed_out = 1;
	docs[2].jobs[4].next_run_unix_ms = NOW + 60000;
	strcpy(docs[2].jobs[4].next_local, "2026-11-29 03:10 CET");
	docs[2].n_jobs = 5;
	strcpy(docs[2].jobs[3].kind, "main");
	strcpy(docs[2].jobs[3].size, "standard-4");
	docs[3] = sample_doc();
	docs[3].n_jobs = STATUS_JOBS_MAX;
	for (size_t i = 0; i < STATUS_JOBS_MAX; i++) {
		struct job_status *j = &docs[3].jobs[i];
		memset(j->name, 0x01, sizeof(j->name) - 1);
		j->name[sizeof(j->name) - 1] = '\0';
		memset(j->kind, 0x02, sizeof(j->kind) - 1);
		j->kind[sizeof(j->kind) - 1] = '\0';
		memset(j->size, 0x03, sizeof(j->size) - 1);
		j->size[sizeof(j->size) - 1] = '\0';
		j->started_unix_ms = INT64_MAX;
		j->next_start_unix_ms = INT64_MAX;
		j->restarts = UINT_MAX;
		j->last_exit_code = INT_MAX;
		j->pid = INT_MAX;
	}
	for (size_t i = 0; i < 4; i++) {
		int n = status_format(buf, sizeof(buf), &docs[i]);
		assert_true(n > 0);
		assert_int_equal(status_parse(buf, (size_t)n, &back), 0);
		assert_doc_equal(&docs[i], &back);
	}
}

/* The name of a job whose bytes are not UTF-8 comes back as U+FFFD, which
 * is what every JSON consumer would see too. */
static void test_round_trip_invalid_utf8(void **state)
{
	struct status_doc d = sample_doc(), back;
	char buf[1024], *name;
	int n;

	(void)state;
	strcpy(d.jobs[0].name, "a\xff"
			       "b");
	n = status_format(buf, sizeof(buf), &d);
	assert_true(n > 0);
	assert_int_equal(status_parse(buf, (size_t)n, &back), 0);
	assert_string_equal(back.jobs[0].name, "a\xef\xbf\xbd"
					       "b");
	/* python3's json module reads the same name (jsonq.h) */
	name = json_get(buf, "d['jobs'][0]['name']");
	assert_string_equal(name, "a\xef\xbf\xbd"
				  "b");
	free(name);
}

struct parse_row {
	const char *text;
	int rc;
	size_t n_jobs;
	const char *name0; /* expected first job's name */
};

#define J_OK	  "{\"name\":\"w\",\"state\":\"running\"}"
#define DOC(jobs) "{\"jobshim_pid\":7,\"jobs\":[" jobs "]}"

static const struct parse_row parse_rows[] = {
    {DOC(J_OK), 0, 1, "w"},
    {DOC(""), 0, 0, NULL},
    {" \t\r\n" DOC(J_OK) " \n\t", 0, 1, "w"},
    {"{ \"jobshim_pid\" : 7 , \"jobs\" : [ { \"name\" : \"w\" , \"state\" : \"waiting\" } ] }", 0,
     1, "w"},
    /* Unknown keys of every type are skipped, at both levels. */
    {"{\"future\":{\"a\":[1,-2.5e+3,0.0,true,false,null,\"s\\\"\",{}],\"b\":{}},"
     "\"jobshim_pid\":7,\"x\":-0,\"jobs\":[{\"name\":\"w\",\"new\":[[]],\"state\":\"exited\","
     "\"y\":1E9}],\"z\":\"\\u00e9\"}",
     0, 1, "w"},
    /* Escapes decode. */
    {DOC("{\"name\":\"a\\\"\\\\\\/\\b\\f\\n\\r\\tz\",\"state\":\"running\"}"), 0, 1,
     "a\"\\/\b\f\n\r\tz"},
    {DOC("{\"name\":\"\\u00e9\\u20AC\\ud83d\\ude00\",\"state\":\"running\"}"), 0, 1,
     "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"},
    /* A later duplicate key wins. */
    {"{\"jobshim_pid\":7,\"jobs\":[" J_OK "],\"jobs\":[]}", 0, 0, NULL},
    /* Exactly 63 bytes of name fit, 64 do not. */
    {DOC("{\"name\":\"123456789012345678901234567890123456789012345678901234567890123\","
	 "\"state\":\"running\"}"),
     0, 1, "123456789012345678901234567890123456789012345678901234567890123"},
    {DOC("{\"name\":\"1234567890123456789012345678901234567890123456789012345678901234\","
	 "\"state\":\"running\"}"),
     -EINVAL, 0, NULL},
    {DOC(J_OK "," J_OK "," J_OK "," J_OK), 0, 4, "w"},
    /* One-shot members. */
    {DOC("{\"name\":\"n\",\"kind\":\"scheduled\",\"state\":\"succeeded\",\"attempt\":2,"
	 "\"attempts\":3,\"timed_out\":1,\"next_run\":1764385800000,\"next_local\":\"03:00\"}"),
     0, 1, "n"},
    {DOC("{\"name\":\"n\",\"state\":\"failed\",\"timed_out\":2}"), -EINVAL, 0, NULL},
    {DOC("{\"name\":\"n\",\"state\":\"failed\",\"attempt\":1001}"), -EINVAL, 0, NULL},
    /* Not JSON, or not ours. */
    {"", -EINVAL, 0, NULL},
    {" ", -EINVAL, 0, NULL},
    {"{", -EINVAL, 0, NULL},
    {"[]", -EINVAL, 0, NULL},
    {"null", -EINVAL, 0, NULL},
    {"{}", -EINVAL, 0, NULL},
    {"{\"jobs\":[]}", -EINVAL, 0, NULL},
    {"{\"jobshim_pid\":7}", -EINVAL, 0, NULL},
    {DOC(J_OK) "x", -EINVAL, 0, NULL},
    {DOC(J_OK) DOC(J_OK), -EINVAL, 0, NULL},
    {"{\"jobshim_pid\":0,\"jobs\":[]}", -EINVAL, 0, NULL},
    {"{\"jobshim_pid\":-1,\"jobs\":[]}", -EINVAL, 0, NULL},
    {"{\"jobshim_pid\":2147483648,\"jobs\":[]}", -EINVAL, 0, NULL},
    {"{\"jobshim_pid\":99999999999999999999999,\"jobs\":[]}", -EINVAL, 0, NULL},
    {"{\"jobshim_pid\":1.5,\"jobs\":[]}", -EINVAL, 0, NULL},
    {"{\"jobshim_pid\":1e3,\"jobs\":[]}", -EINVAL, 0, NULL},
    {"{\"jobshim_pid\":07,\"jobs\":[]}", -EINVAL, 0, NULL},
    {"{\"jobshim_pid\":+7,\"jobs\":[]}", -EINVAL, 0, NULL},
    {"{\"jobshim_pid\":\"7\",\"jobs\":[]}", -EINVAL, 0, NULL},
    {"{\"jobshim_pid\":null,\"jobs\":[]}", -EINVAL, 0, NULL},
    {"{\"jobshim_pid\":7,\"jobs\":{}}", -EINVAL, 0, NULL},
    {"{\"jobshim_pid\":7,\"jobs\":[1]}", -EINVAL, 0, NULL},
    {"{\"jobshim_pid\":7,\"written\":-1,\"jobs\":[]}", -EINVAL, 0, NULL},
    {"{\"jobshim_pid\":7,,\"jobs\":[]}", -EINVAL, 0, NULL},
    {"{\"jobshim_pid\":7,\"jobs\":[],}", -EINVAL, 0, NULL},
    {"{\"jobshim_pid\":7,\"jobs\":[" J_OK ",]}", -EINVAL, 0, NULL},
    {"{\"jobshim_pid\":7 \"jobs\":[]}", -EINVAL, 0, NULL},
    {"{\"jobshim_pid\" 7,\"jobs\":[]}", -EINVAL, 0, NULL},
    {"{'jobshim_pid':7,\"jobs\":[]}", -EINVAL, 0, NULL},
    {"{jobshim_pid:7,\"jobs\":[]}", -EINVAL, 0, NULL},
    {"{\"jobshim_pid\":7,\"jobs\":[],\"u\":tru}", -EINVAL, 0, NULL},
    {"{\"jobshim_pid\":7,\"jobs\":[],\"u\":nul}", -EINVAL, 0, NULL},
    {"{\"jobshim_pid\":7,\"jobs\":[],\"u\":-}", -EINVAL, 0, NULL},
    {"{\"jobshim_pid\":7,\"jobs\":[],\"u\":1.}", -EINVAL, 0, NULL},
    {"{\"jobshim_pid\":7,\"jobs\":[],\"u\":1e}", -EINVAL, 0, NULL},
    {"{\"jobshim_pid\":7,\"jobs\":[],\"u\":.5}", -EINVAL, 0, NULL},
    {"{\"jobshim_pid\":7,\"jobs\":[],\"u\":[1 2]}", -EINVAL, 0, NULL},
    /* Job members. */
    {DOC("{\"state\":\"running\"}"), -EINVAL, 0, NULL},
    {DOC("{\"name\":\"w\"}"), -EINVAL, 0, NULL},
    {DOC("{\"name\":\"\",\"state\":\"running\"}"), -EINVAL, 0, NULL},
    {DOC("{\"name\":\"w\",\"state\":\"sleeping\"}"), -EINVAL, 0, NULL},
    {DOC("{\"name\":\"w\",\"state\":\"running\",\"pid\":-1}"), -EINVAL, 0, NULL},
    {DOC("{\"name\":\"w\",\"state\":\"running\",\"last_exit_code\":-2}"), -EINVAL, 0, NULL},
    {DOC("{\"name\":\"w\",\"state\":\"running\",\"last_oom\":1}"), -EINVAL, 0, NULL},
    {DOC("{\"name\":\"w\",\"state\":\"running\",\"last_oom\":tru}"), -EINVAL, 0, NULL},
    {DOC("{\"name\":\"w\",\"state\":\"running\",\"last_oom\":\"true\"}"), -EINVAL, 0, NULL},
    {DOC("{\"name\":\"w\",\"state\":\"running\",\"restarts\":4294967296}"), -EINVAL, 0, NULL},
    {DOC("{\"name\":\"w\",\"state\":\"running\",\"kind\":\"workerXXworkerXXy\"}"), -EINVAL, 0,
     NULL},
    {DOC("{\"name\":7,\"state\":\"running\"}"), -EINVAL, 0, NULL},
    /* Strings. */
    {DOC("{\"name\":\"w,\"state\":\"running\"}"), -EINVAL, 0, NULL},
    {DOC("{\"name\":\"a\\x\",\"state\":\"running\"}"), -EINVAL, 0, NULL},
    {DOC("{\"name\":\"a\\u00\",\"state\":\"running\"}"), -EINVAL, 0, NULL},
    {DOC("{\"name\":\"a\\u00g0\",\"state\":\"running\"}"), -EINVAL, 0, NULL},
    {DOC("{\"name\":\"a\\u0000\",\"state\":\"running\"}"), -EINVAL, 0, NULL},
    {DOC("{\"name\":\"a\\ud83d\",\"state\":\"running\"}"), -EINVAL, 0, NULL},
    {DOC("{\"name\":\"a\\ud83dx\",\"state\":\"running\"}"), -EINVAL, 0, NULL},
    {DOC("{\"name\":\"a\\ud83d\\u0041\",\"state\":\"running\"}"), -EINVAL, 0, NULL},
    {DOC("{\"name\":\"a\\ude00\",\"state\":\"running\"}"), -EINVAL, 0, NULL},
    {DOC("{\"name\":\"a\nb\",\"state\":\"running\"}"), -EINVAL, 0, NULL},
    {DOC("{\"name\":\"a\tb\",\"state\":\"running\"}"), -EINVAL, 0, NULL},
};

static void test_parse_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(parse_rows) / sizeof(parse_rows[0]); i++) {
		const struct parse_row *r = &parse_rows[i];
		size_t len = strlen(r->text);
		/* An exact-size heap copy: ASan catches any read past len. */
		char *copy = malloc(len ? len : 1);
		struct status_doc d;
		int rc;

		assert_non_null(copy);
		memcpy(copy, r->text, len);
		rc = status_parse(copy, len, &d);
		free(copy);
		if (rc != r->rc)
			fail_msg("row %zu: rc %d, want %d: %s", i, rc, r->rc, r->text);
		if (rc < 0)
			continue;
		assert_int_equal(d.jobshim_pid, 7);
		assert_int_equal(d.n_jobs, r->n_jobs);
		if (r->name0 != NULL)
			assert_string_equal(d.jobs[0].name, r->name0);
	}
}

/* STATUS_JOBS_MAX jobs are read, one more is not ours. */
static void test_parse_job_limit(void **state)
{
	static char text[STATUS_JOBS_MAX * 64 + 128];
	static struct status_doc d;

	(void)state;
	for (size_t n = STATUS_JOBS_MAX; n <= STATUS_JOBS_MAX + 1; n++) {
		size_t len = (size_t)snprintf(text, sizeof(text), "{\"jobshim_pid\":7,\"jobs\":[");

		for (size_t i = 0; i < n; i++)
			len += (size_t)snprintf(text + len, sizeof(text) - len, "%s" J_OK,
						i ? "," : "");
		len += (size_t)snprintf(text + len, sizeof(text) - len, "]}");
		assert_int_equal(status_parse(text, len, &d), n == STATUS_JOBS_MAX ? 0 : -EINVAL);
		if (n == STATUS_JOBS_MAX)
			assert_int_equal(d.n_jobs, STATUS_JOBS_MAX);
	}
}

static void test_parse_defaults(void **state)
{
	const char *t = DOC(J_OK);
	struct status_doc d;

	(void)state;
	assert_int_equal(status_parse(t, strlen(t), &d), 0);
	assert_int_equal(d.jobs[0].last_exit_code, -1);
	assert_int_equal(d.jobs[0].pid, 0);
	assert_int_equal(d.jobs[0].state, RS_RUNNING);
	assert_string_equal(d.jobs[0].kind, "");
	assert_true(d.ready_after_ms == 0);
}

/* Every cut of a valid file is refused (status_write is atomic, but a
 * reader must not trust that), without reading past the cut. */
static void test_parse_truncated(void **state)
{
	struct status_doc d = sample_doc(), back;
	char buf[1024];
	int n;

	(void)state;
	d.n_jobs = 2;
	d.jobs[1] = job("\xc3\xa9\"\\", RS_WAITING, 0, 0, 0, -1);
	n = status_format(buf, sizeof(buf), &d);
	assert_true(n > 1);
	/* n-1 only drops the final newline, which is whitespace. */
	for (int cut = 0; cut < n - 1; cut++) {
		char *copy = malloc(cut ? (size_t)cut : 1);
		assert_non_null(copy);
		memcpy(copy, buf, (size_t)cut);
		if (status_parse(copy, (size_t)cut, &back) != -EINVAL)
			fail_msg("a cut at %d parsed", cut);
		free(copy);
	}
	assert_int_equal(status_parse(buf, (size_t)n - 1, &back), 0);
}

static void test_parse_depth(void **state)
{
	char text[512];
	size_t len = 0;
	struct status_doc d;

	(void)state;
	/* 30 nested arrays under an unknown key: fine. 200: refused, not a
	 * stack overflow. */
	for (int depth = 30, want = 0; depth <= 200; depth += 170, want = -EINVAL) {
		len = (size_t)snprintf(text, sizeof(text), "{\"jobshim_pid\":7,\"jobs\":[],\"x\":");
		for (int i = 0; i < depth; i++)
			text[len++] = '[';
		for (int i = 0; i < depth; i++)
			text[len++] = ']';
		text[len++] = '}';
		assert_int_equal(status_parse(text, len, &d), want);
	}
}

/* ------------------------------------------------------------ files */

/* Field 22 of /proc/self/stat, read independently of procstat. */
static unsigned long long self_starttime(void)
{
	char buf[1024], *p;
	unsigned long long v = 0;
	FILE *fp = fopen("/proc/self/stat", "r");
	size_t n;

	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	assert_non_null(p);
	/* The 20th space after the last ")" precedes field 22. */
	for (int sp = 0; sp < 20 && p; sp++)
		p = strchr(p + 1, ' ');
	assert_non_null(p);
	v = strtoull(p + 1, NULL, 10);
	return v;
}

static void test_write_read(void **state)
{
	struct status_doc d = sample_doc(), back;
	char path[128], big[160];
	FILE *fp;

	(void)state;
	snprintf(path, sizeof(path), "%s/status.json", tmpdir);
	assert_int_equal(status_read(path, &back), -ENOENT);
	assert_int_equal(status_write(path, &d), 0);
	assert_int_equal(status_read(path, &back), 0);
	assert_doc_equal(&d, &back);
	/* Rewritten in place (atomically), no temporary left behind. */
	d.jobs[0].restarts = 4;
	assert_int_equal(status_write(path, &d), 0);
	assert_int_equal(status_read(path, &back), 0);
	assert_int_equal(back.jobs[0].restarts, 4);
	snprintf(big, sizeof(big), "%s.tmp", path);
	assert_int_equal(access(big, F_OK), -1);

	/* Written by this process: its start time is recorded. */
	d.jobshim_pid = getpid();
	assert_int_equal(status_write(path, &d), 0);
	assert_int_equal(status_read(path, &back), 0);
	assert_true(back.jobshim_starttime == self_starttime());
	assert_true(back.jobshim_starttime > 0);

	write_text(path, "{\"jobshim_pid\":");
	assert_int_equal(status_read(path, &back), -EINVAL);
	/* Larger than the reader's buffer: refused, even if valid JSON. */
	snprintf(big, sizeof(big), "%s/big.json", tmpdir);
	fp = fopen(big, "w");
	assert_non_null(fp);
	fputs("{\"jobshim_pid\":7,\"jobs\":[],\"pad\":\"", fp);
	for (int i = 0; i < 140000; i++)
		fputc('x', fp);
	fputs("\"}", fp);
	fclose(fp);
	assert_int_equal(status_read(big, &back), -EINVAL);
	snprintf(big, sizeof(big), "%s/nodir/status.json", tmpdir);
	assert_int_equal(status_write(big, &d), -ENOENT);
}

/* ------------------------------------------------------------ run dir */

static void test_run_dir_explicit(void **state)
{
	char dir[512], buf[512], file[256];

	(void)state;
	snprintf(dir, sizeof(dir), "%s/a/b/c", tmpdir);
	assert_int_equal(run_dir_resolve(dir, 1, buf, sizeof(buf)), 0);
	assert_string_equal(buf, dir);
	assert_int_equal(access(dir, W_OK), 0);
	/* Again: it exists, fine. */
	assert_int_equal(run_dir_resolve(dir, 1, buf, sizeof(buf)), 0);
	/* Created 0700. */
	{
		struct stat st;
		assert_int_equal(stat(dir, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0700);
	}
	/* For stats an explicit dir must exist. */
	snprintf(file, sizeof(file), "%s/nothing", tmpdir);
	assert_int_equal(run_dir_resolve(file, 0, buf, sizeof(buf)), -ENOENT);
	/* An explicit dir others may write to (JOBSHIM_RUN_DIR=/tmp) is not
	 * jobshim's own: refused on both sides. */
	snprintf(file, sizeof(file), "%s/shared-explicit", tmpdir);
	assert_int_equal(mkdir(file, 0700), 0);
	assert_int_equal(chmod(file, 01777), 0);
	assert_int_equal(run_dir_resolve(file, 1, buf, sizeof(buf)), -EPERM);
	assert_int_equal(run_dir_resolve(file, 0, buf, sizeof(buf)), -EPERM);
	/* A symlink to a good directory: refused too. */
	snprintf(file, sizeof(file), "%s/link-explicit", tmpdir);
	assert_int_equal(symlink(dir, file), 0);
	assert_int_equal(run_dir_resolve(file, 1, buf, sizeof(buf)), -ELOOP);
	/* A file in the way. */
	snprintf(file, sizeof(file), "%s/a-file", tmpdir);
	write_text(file, "x");
	assert_int_equal(run_dir_resolve(file, 1, buf, sizeof(buf)), -ENOTDIR);
	snprintf(dir, sizeof(dir), "%s/sub", file);
	assert_int_equal(run_dir_resolve(dir, 1, buf, sizeof(buf)), -ENOTDIR);
	assert_int_equal(run_dir_resolve(tmpdir, 1, buf, 4), -ENAMETOOLONG);
}

static void test_run_dir_fallback(void **state)
{
	char primary[256], tmp[128], want[256], buf[256], blocker[256], link[256];
	const char *old = getenv("TMPDIR");
	char *saved = old ? strdup(old) : NULL;

	(void)state;
	snprintf(tmp, sizeof(tmp), "%s/tmp", tmpdir);
	assert_int_equal(mkdir(tmp, 0755), 0);
	snprintf(want, sizeof(want), "%s/jobshim-%u", tmp, (unsigned)geteuid());
	/* Trailing slashes on TMPDIR do not show in the path. */
	snprintf(buf, sizeof(buf), "%s//", tmp);
	setenv("TMPDIR", buf, 1);

	/* 1. The primary can be created: it is used. */
	snprintf(primary, sizeof(primary), "%s/run/jobshim", tmpdir);
	assert_int_equal(run_dir_resolve_at(primary, NULL, 1, buf, sizeof(buf)), 0);
	assert_string_equal(buf, primary);

	/* 2. It cannot be created (a file where its parent should be). */
	snprintf(blocker, sizeof(blocker), "%s/file", tmpdir);
	write_text(blocker, "x");
	snprintf(primary, sizeof(primary), "%s/file/jobshim", tmpdir);
	assert_int_equal(run_dir_resolve_at(primary, NULL, 1, buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
	assert_int_equal(access(want, W_OK), 0);

	/* 3. It exists but others may write to it: not trusted. */
	snprintf(primary, sizeof(primary), "%s/shared", tmpdir);
	assert_int_equal(mkdir(primary, 0755), 0);
	assert_int_equal(chmod(primary, 0777), 0);
	assert_int_equal(run_dir_resolve_at(primary, NULL, 1, buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);

	/* 4. It is a symlink (to a good directory): not trusted either. */
	snprintf(link, sizeof(link), "%s/link", tmpdir);
	snprintf(primary, sizeof(primary), "%s/run/jobshim", tmpdir);
	assert_int_equal(symlink(primary, link), 0);
	assert_int_equal(run_dir_resolve_at(link, NULL, 1, buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);

	/* stats: the first candidate holding a status file. */
	snprintf(primary, sizeof(primary), "%s/run/jobshim", tmpdir);
	if (access("/run/jobshim/status.json", F_OK) != 0 &&
	    access("/tmp/jobshim-0/status.json", F_OK) != 0) {
		char file[300];
		assert_int_equal(run_dir_resolve_at(primary, NULL, 0, buf, sizeof(buf)), -ENOENT);
		snprintf(file, sizeof(file), "%s/status.json", want);
		write_text(file, "{}");
		assert_int_equal(run_dir_resolve_at(primary, NULL, 0, buf, sizeof(buf)), 0);
		assert_string_equal(buf, want);
		snprintf(file, sizeof(file), "%s/status.json", primary);
		write_text(file, "{}");
		assert_int_equal(run_dir_resolve_at(primary, NULL, 0, buf, sizeof(buf)), 0);
		assert_string_equal(buf, primary);
	}

	if (saved) {
		setenv("TMPDIR", saved, 1);
		free(saved);
	} else {
		unsetenv("TMPDIR");
	}
}

/* ------------------------------------------------------------ output */

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_status_label),
	    cmocka_unit_test(test_format_exact),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_round_trip_invalid_utf8),
	    cmocka_unit_test(test_parse_table),
	    cmocka_unit_test(test_parse_job_limit),
	    cmocka_unit_test(test_parse_defaults),
	    cmocka_unit_test(test_parse_truncated),
	    cmocka_unit_test(test_parse_depth),
	    cmocka_unit_test_setup_teardown(test_write_read, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(test_run_dir_explicit, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(test_run_dir_fallback, setup_tmp, teardown_tmp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Tests of jobshim's own log output (SPEC §5): JSON string escaping with
 * invalid UTF-8 as U+FFFD, the RFC 3339 timestamp, and the lines log_msg,
 * log_debug and log_child_error write to stderr. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "jsonq.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define FFFD "\xef\xbf\xbd"
/* A row's input with its length, so that NUL bytes can be inside. */
#define IN(s) s, sizeof(s) - 1

/* ------------------------------------------------------------ json_escape */

struct esc_row {
	const char *in;
	size_t len;
	const char *want;
};

static const struct esc_row esc_rows[] = {
    {IN(""), ""},
    {IN("hello world"), "hello world"},
    {IN("a\"b"), "a\\\"b"},
    {IN("a\\b"), "a\\\\b"},
    {IN("\"\\\""), "\\\"\\\\\\\""},
    {IN("/"), "/"},
    {IN("line\n"), "line\\n"},
    {IN("\r\n\t"), "\\r\\n\\t"},
    {IN("\x01"), "\\u0001"},
    {IN("\x08\x0c"), "\\u0008\\u000c"},
    {IN("\x1b[31mred"), "\\u001b[31mred"},
    {IN("\x1f"), "\\u001f"},
    {IN("\x7f"), "\\u007f"}, /* DEL */
    {IN(" ~"), " ~"},
    {IN("a\0b"), "a\\u0000b"}, /* NUL inside the buffer */
    /* Valid UTF-8 passes unchanged, at every length and boundary. */
    {IN("\xc2\x80"), "\xc2\x80"},				  /* U+0080 */
    {IN("caf\xc3\xa9"), "caf\xc3\xa9"},				  /* é */
    {IN("\xdf\xbf"), "\xdf\xbf"},				  /* U+07FF */
    {IN("\xe0\xa0\x80"), "\xe0\xa0\x80"},			  /* U+0800 */
    {IN("\xe2\x82\xac"), "\xe2\x82\xac"},			  /* € */
    {IN("\xed\x9f\xbf"), "\xed\x9f\xbf"},			  /* U+D7FF */
    {IN("\xee\x80\x80"), "\xee\x80\x80"},			  /* U+E000 */
    {IN(FFFD), FFFD},						  /* U+FFFD itself */
    {IN("\xf0\x90\x80\x80"), "\xf0\x90\x80\x80"},		  /* U+10000 */
    {IN("\xf0\x9f\x98\x80"), "\xf0\x9f\x98\x80"},		  /* 😀 */
    {IN("\xf4\x8f\xbf\xbf"), "\xf4\x8f\xbf\xbf"},		  /* U+10FFFF */
    {IN("\xe6\x97\xa5\xe6\x9c\xac"), "\xe6\x97\xa5\xe6\x9c\xac"}, /* 日本 */
    /* Invalid: each byte of the bad sequence becomes one U+FFFD. */
    {IN("\x80"), FFFD}, /* lone continuation */
    {IN("\xbf"), FFFD},
    {IN("a\xffz"), "a" FFFD "z"},
    {IN("\xfe"), FFFD},
    {IN("\xc0\x80"), FFFD FFFD},	  /* overlong NUL */
    {IN("\xc1\xbf"), FFFD FFFD},	  /* overlong DEL */
    {IN("\xc0\xaf"), FFFD FFFD},	  /* overlong '/' */
    {IN("\xe0\x80\xaf"), FFFD FFFD FFFD}, /* overlong '/' in 3 */
    {IN("\xe0\x9f\xbf"), FFFD FFFD FFFD}, /* overlong U+07FF */
    {IN("\xf0\x80\x80\xaf"), FFFD FFFD FFFD FFFD},
    {IN("\xf0\x8f\xbf\xbf"), FFFD FFFD FFFD FFFD},		     /* overlong U+FFFF */
    {IN("\xed\xa0\x80"), FFFD FFFD FFFD},			     /* surrogate U+D800 */
    {IN("\xed\xbf\xbf"), FFFD FFFD FFFD},			     /* surrogate U+DFFF */
    {IN("\xed\xa0\xbd\xed\xb8\x80"), FFFD FFFD FFFD FFFD FFFD FFFD}, /* CESU pair */
    {IN("\xf4\x90\x80\x80"), FFFD FFFD FFFD FFFD},		     /* U+110000 */
    {IN("\xf5\x80\x80\x80"), FFFD FFFD FFFD FFFD},
    {IN("\xf8\x88\x80\x80\x80"), FFFD FFFD FFFD FFFD FFFD},
    /* Truncated sequences: the next character survives. */
    {IN("\xc3"), FFFD},
    {IN("\xc3("), FFFD "("},
    {IN("\xe2\x82"), FFFD FFFD},
    {IN("\xe2\x82z"), FFFD FFFD "z"},
    {IN("\xe2\x82\""), FFFD FFFD "\\\""},
    {IN("\xf0\x9f\x98"), FFFD FFFD FFFD},
    {IN("\xf0\x9f\x98\n"), FFFD FFFD FFFD "\\n"},
    {IN("\xe2\xe2\x82\xac"), FFFD "\xe2\x82\xac"}, /* a new lead restarts */
    {IN("\xc3\xc3\xa9"), FFFD "\xc3\xa9"},
};

static void test_json_escape_table(void **state)
{
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < N(esc_rows); i++) {
		const struct esc_row *r = &esc_rows[i];
		char out[128];
		size_t n;

		memset(out, 'x', sizeof(out));
		n = json_escape(out, sizeof(out), r->in, r->len);
		if (n != strlen(r->want) || strcmp(out, r->want) != 0) {
			print_error("row %zu: got \"%s\" (%zu), expected \"%s\" (%zu)\n", i, out, n,
				    r->want, strlen(r->want));
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/* Valid JSON string content (jsonq.h: strict UTF-8, no raw controls, every
 * quote and backslash escaped, escapes well formed), and no raw DEL: each
 * line of a batch is one content between quotes. */
#define JSON_STRING "type(d) is str and '\\x7f' not in raw"

static void add_json_content(struct jsonq_batch *b, const char *s, size_t len)
{
	jsonq_batch_add(b, "\"", 1);
	jsonq_batch_add(b, s, len);
	jsonq_batch_add(b, "\"\n", 2);
}

static void assert_json_contents(struct jsonq_batch *b)
{
	if (jsonq(b->buf, b->len, NULL, "--lines", "-a", JSON_STRING, (char *)NULL) != 0)
		fail_msg("invalid JSON string content (jsonq names the line above)");
	jsonq_batch_free(b);
}

static void test_json_escape_oracle_sane(void **state)
{
	static const char *contents[] = {
	    "\xf4\x8f\xbf\xbf", "a\\u001fb\\\"", /* valid */
	    "\xed\xa0\x80",	"\xe2\x82",	 "\xc1\xbf", "a\"", "a\\", "\\u00", "\x01", "\x7f",
	};
	struct jsonq_batch b = {0};
	char *verdicts;

	(void)state;
	/* The checker itself catches what it must. */
	for (size_t i = 0; i < sizeof(contents) / sizeof(contents[0]); i++)
		add_json_content(&b, contents[i], strlen(contents[i]));
	verdicts = jsonq_each(b.buf, b.len, JSON_STRING);
	assert_string_equal(verdicts, "yynnnnnnnn");
	free(verdicts);
	jsonq_batch_free(&b);
}

/* Random bytes (biased to the interesting ranges) always give valid JSON
 * string content, and the returned length is the written length. */
static void test_json_escape_random(void **state)
{
	static const unsigned char pool[] = {'a',  '"',	 '\\', '\n', 0x00, 0x1f, 0x7f, 0x80,
					     0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0,
					     0xf4, 0xf5, 0xff, 0xa0, 0x9f, 0x8f, 0x90};
	unsigned seed = 12345;
	char in[64], out[64 * 6 + 1];
	struct jsonq_batch b = {0};

	(void)state;
	for (int iter = 0; iter < 20000; iter++) {
		size_t len = (size_t)(iter % 64), n;

		for (size_t k = 0; k < len; k++) {
			seed = seed * 1103515245u + 12345u;
			in[k] = (char)pool[(seed >> 16) % sizeof(pool)];
		}
		n = json_escape(out, sizeof(out), in, len);
		assert_true(n < sizeof(out));
		assert_int_equal(strlen(out), n);
		add_json_content(&b, out, n); /* line iter + 1 */
	}
	assert_json_contents(&b);
}

/* With a small cap: the needed length is returned; dst holds a terminated
 * prefix of the full output that cuts no escape and no character; nothing
 * is written at or past cap. */
static void test_json_escape_truncation(void **state)
{
	static const char src[] = "ab\"\n\xe2\x82\xac\x01\xff\xf0\x9f\x98\x80z";
	char full[128], out[128];
	struct jsonq_batch b = {0};
	size_t need;

	(void)state;
	need = json_escape(full, sizeof(full), src, sizeof(src) - 1);
	assert_int_equal(need, strlen(full));
	add_json_content(&b, full, need);
	for (size_t cap = 0; cap <= need + 2; cap++) {
		size_t n, got;

		memset(out, 'x', sizeof(out));
		n = json_escape(out, cap, src, sizeof(src) - 1);
		assert_int_equal(n, need);
		for (size_t k = cap; k < sizeof(out); k++)
			if (out[k] != 'x')
				fail_msg("cap %zu: byte %zu written", cap, k);
		if (cap == 0)
			continue;
		got = strnlen(out, cap);
		if (got >= cap)
			fail_msg("cap %zu: not NUL-terminated", cap);
		assert_memory_equal(out, full, got);
		/* line cap + 1: a prefix that cuts no escape and no character */
		add_json_content(&b, out, got);
		/* The longest prefix that fits: within one piece (6 bytes) of cap. */
		if (cap > need)
			assert_int_equal(got, need);
		else
			assert_true(got + 6 >= cap - 1);
	}
	assert_json_contents(&b);
}

/* ------------------------------------------------------------ time */

struct time_row {
	time_t sec;
	long nsec;
	const char *want;
};

static const struct time_row time_rows[] = {
    {1764385800, 123456789, "2025-11-29T03:10:00.123Z"},
    {1795921800, 123000000, "2026-11-29T03:10:00.123Z"}, /* SPEC §5's example */
    {0, 0, "1970-01-01T00:00:00.000Z"},
    {0, 999999999, "1970-01-01T00:00:00.999Z"}, /* truncated, never the next second */
    {0, 1000000, "1970-01-01T00:00:00.001Z"},
    {0, 999999, "1970-01-01T00:00:00.000Z"},
    {951782400, 500000000, "2000-02-29T00:00:00.500Z"}, /* leap day */
    {4102444799, 0, "2099-12-31T23:59:59.000Z"},
    {253402300799, 0, "9999-12-31T23:59:59.000Z"},
    {-1, 0, "1969-12-31T23:59:59.000Z"},
};

static void test_log_format_time_table(void **state)
{
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < N(time_rows); i++) {
		struct timespec t = {time_rows[i].sec, time_rows[i].nsec};
		char buf[64];
		size_t n;

		memset(buf, 'x', sizeof(buf));
		n = log_format_time(buf, sizeof(buf), &t);
		if (strcmp(buf, time_rows[i].want) != 0 || n != 24) {
			print_error("row %zu: \"%s\" (%zu), expected \"%s\"\n", i, buf, n,
				    time_rows[i].want);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

static void test_log_format_time_small(void **state)
{
	struct timespec t = {1764385800, 123456789};
	char buf[32];

	(void)state;
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(log_format_time(buf, 11, &t), 24);
	assert_string_equal(buf, "2025-11-29");
	assert_int_equal(buf[11], 'x');
	/* Exactly 24 + NUL fits. */
	assert_int_equal(log_format_time(buf, 25, &t), 24);
	assert_string_equal(buf, "2025-11-29T03:10:00.123Z");
}

/* ------------------------------------------------------------ log lines */

/* Runs fn with stderr redirected to a file; returns what it wrote. */
static char *capture_stderr(void (*fn)(void))
{
	char path[] = "/tmp/test_log.XXXXXX";
	int fd = mkstemp(path), saved;
	static char buf[16384];
	ssize_t n;

	assert_true(fd >= 0);
	unlink(path);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	fn();
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
	return buf;
}

static void emit_plain(void)
{
	log_setup(LOG_PLAIN, false, 0);
	errno = EACCES;
	log_msg("sidekiq exited with status %d after %s", 1, "0.4s");
	assert_int_equal(errno, EACCES); /* preserved for the caller */
	log_debug("not shown at verbosity 0");
	log_setup(LOG_PLAIN, false, 1);
	log_debug("shown %s", "now");
}

static void test_log_msg_plain(void **state)
{
	(void)state;
	assert_string_equal(capture_stderr(emit_plain),
			    "jobshim: sidekiq exited with status 1 after 0.4s\n"
			    "jobshim: shown now\n");
}

static void emit_timestamps(void)
{
	log_setup(LOG_PLAIN, true, 0);
	log_msg("hi");
}

static void test_log_msg_timestamps(void **state)
{
	const char *out;

	(void)state;
	out = capture_stderr(emit_timestamps);
	/* "2026-11-29T03:10:00.123Z jobshim: hi\n" */
	assert_int_equal(strlen(out), 24 + strlen(" jobshim: hi\n"));
	assert_string_equal(out + 24, " jobshim: hi\n");
	assert_int_equal(out[4], '-');
	assert_int_equal(out[10], 'T');
	assert_int_equal(out[19], '.');
	assert_int_equal(out[23], 'Z');
}

static void emit_json(void)
{
	log_setup(LOG_JSON, false, 0);
	log_set_job("sidekiq");
	log_msg("say \"%s\"\tnow \xff", "hi");
	log_set_job("jobshim");
}

static void test_log_msg_json(void **state)
{
	const char *out, *rest;

	(void)state;
	out = capture_stderr(emit_json);
	assert_memory_equal(out, "{\"time\":\"", 9);
	rest = out + 9 + 24;
	assert_string_equal(rest, "\",\"job\":\"sidekiq\",\"stream\":\"jobshim\","
				  "\"message\":\"say \\\"hi\\\"\\tnow " FFFD "\"}\n");
	assert_int_equal(out[9 + 23], 'Z');
}

static void emit_cmd(void)
{
	log_setup(LOG_PLAIN, false, 0);
	log_cmd_msg("stats", "no jobshim is running in this container (no %s)", "/x/status.json");
	log_setup(LOG_PLAIN, true, 0);
	log_cmd_msg("check", "unable to write the output: %s", "No space left on device");
	log_setup(LOG_JSON, false, 0);
	log_cmd_msg("stats", "say \"%s\"", "hi");
	log_setup(LOG_PLAIN, false, 0);
}

/* A command's messages: "jobshim stats: ..."; in JSON the command leads the
 * message. */
static void test_log_cmd_msg(void **state)
{
	const char *out, *line2, *line3;

	(void)state;
	out = capture_stderr(emit_cmd);
	line2 = strchr(out, '\n') + 1;
	line3 = strchr(line2, '\n') + 1;
	assert_memory_equal(out,
			    "jobshim stats: no jobshim is running in this container (no "
			    "/x/status.json)\n",
			    line2 - out);
	assert_memory_equal(line2 + 24,
			    " jobshim check: unable to write the output: No space left "
			    "on device\n",
			    line3 - line2 - 24);
	assert_memory_equal(line3, "{\"time\":\"", 9);
	assert_string_equal(line3 + 9 + 24, "\",\"job\":\"jobshim\",\"stream\":\"jobshim\","
					    "\"message\":\"stats: say \\\"hi\\\"\"}\n");
}

static void emit_long(void)
{
	static char big[20000];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_setup(LOG_PLAIN, false, 0);
	log_msg("%s", big);
	log_setup(LOG_JSON, false, 0);
	memset(big, '"', sizeof(big) - 1); /* every byte doubles when escaped */
	log_msg("%s", big);
	log_setup(LOG_PLAIN, false, 0);
}

/* An overlong message is cut but still one line each. */
static void test_log_msg_long(void **state)
{
	const char *out, *nl;

	(void)state;
	out = capture_stderr(emit_long);
	nl = strchr(out, '\n');
	assert_non_null(nl);
	assert_memory_equal(out, "jobshim: aaaa", 13);
	assert_true(nl - out > 1000);
	/* The JSON line: cut at an escape boundary, still closed. */
	assert_memory_equal(nl + 1, "{\"time\":", 8);
	nl = strchr(nl + 1, '\n');
	assert_non_null(nl);
	assert_memory_equal(nl - 4, "\\\"\"}\n", 5);
	assert_string_equal(nl + 1, "");
}

static void emit_child_error(void)
{
	log_child_error("setuid", "app", EPERM);
	log_child_error("execve", NULL, ENOENT);
}

static void test_log_child_error(void **state)
{
	(void)state;
	assert_string_equal(capture_stderr(emit_child_error),
			    "jobshim: setuid app: Operation not permitted\n"
			    "jobshim: execve: No such file or directory\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_log_cmd_msg),
	    cmocka_unit_test(test_json_escape_table),
	    cmocka_unit_test(test_json_escape_oracle_sane),
	    cmocka_unit_test(test_json_escape_random),
	    cmocka_unit_test(test_json_escape_truncation),
	    cmocka_unit_test(test_log_format_time_table),
	    cmocka_unit_test(test_log_format_time_small),
	    cmocka_unit_test(test_log_msg_plain),
	    cmocka_unit_test(test_log_msg_timestamps),
	    cmocka_unit_test(test_log_msg_json),
	    cmocka_unit_test(test_log_msg_long),
	    cmocka_unit_test(test_log_child_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

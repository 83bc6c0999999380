/* Tests of the line prefixer (SPEC §5 "Worker output"): rows of input
 * chunks and the exact bytes expected, long-line cutting, JSON validity,
 * output errors, bounded memory, batching, and the real-fd paths. */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "logpfx.h"
#include "jsonq.h"

#define TS  "2026-11-29T03:10:00.123Z"
#define KiB 1024

/* ------------------------------------------------------------ helpers */

struct capture {
	char *data;
	size_t len, cap;
	int calls;
	int max_iovcnt;
	int fail_errno; /* once calls > fail_after: -fail_errno */
	int fail_after;
	size_t max_write; /* short writes: at most this many bytes a call (0 = all) */
};

static ssize_t capture_sink(void *ctx, const struct iovec *iov, int iovcnt)
{
	struct capture *c = ctx;
	size_t total = 0;

	c->calls++;
	if (iovcnt > c->max_iovcnt)
		c->max_iovcnt = iovcnt;
	if (c->fail_errno != 0 && c->calls > c->fail_after)
		return -c->fail_errno;
	for (int i = 0; i < iovcnt; i++) {
		size_t n = iov[i].iov_len;
		if (c->max_write > 0 && total + n > c->max_write)
			n = c->max_write - total;
		if (c->len + n > c->cap) {
			c->cap = (c->len + n) * 2 + 64;
			c->data = realloc(c->data, c->cap);
			assert_non_null(c->data);
		}
		memcpy(c->data + c->len, iov[i].iov_base, n);
		c->len += n;
		total += n;
		if (c->max_write > 0 && total == c->max_write)
			break;
	}
	return (ssize_t)total;
}

static void fixed_now(struct timespec *t)
{
	t->tv_sec = 1795921800; /* 2026-11-29T03:10:00Z */
	t->tv_nsec = 123456789;
}

static struct logpfx_opts base_opts(struct capture *c)
{
	struct logpfx_opts o = {
	    .job = "web",
	    .format = LOG_PLAIN,
	    .stream = "stdout",
	    .out_fd = 1,
	    .sink = capture_sink,
	    .sink_ctx = c,
	    .now = fixed_now,
	};
	return o;
}

static void assert_bytes_equal(const char *got, size_t got_len, const char *want, size_t want_len,
			       const char *what)
{
	if (got_len != want_len || (want_len > 0 && memcmp(got, want, want_len) != 0)) {
		print_error("%s: got %zu bytes, want %zu\n  got:  %.*s\n  want: %.*s\n", what,
			    got_len, want_len, (int)(got_len > 300 ? 300 : got_len), got ? got : "",
			    (int)(want_len > 300 ? 300 : want_len), want);
		fail();
	}
}

/* Every line of out, each ending in a newline, is a JSON object of string
 * or true values (jsonq.h: strict UTF-8, escapes, no raw control bytes). */
#define FLAT_OBJECT "type(d) is dict and all(type(v) is str or v is True for v in d.values())"

static int json_lines(const char *out, size_t len)
{
	return jsonq(out, len, NULL, "--lines", "-a", FLAT_OBJECT, (char *)NULL);
}

/* What the tests print in JSON, checked in one run at the end of each. */
static struct jsonq_batch json_out;

static void collect_json_lines(const char *out, size_t len)
{
	assert_true(len == 0 || out[len - 1] == '\n');
	jsonq_batch_add(&json_out, out, len);
}

static void assert_json_lines(void)
{
	if (json_lines(json_out.buf, json_out.len) != 0)
		fail_msg("not JSON objects, one a line (jsonq says which above)");
	jsonq_batch_free(&json_out);
}

static void test_json_checker_rejects(void **state)
{
	static const char lines[] = "{\"a\":\"b\"\n"
				    "{\"a\":\"\x01\"}\n"
				    "{\"a\":\"\xff\"}\n"
				    "{\"a\":\"\\x\"}\n"
				    "{\"a\":\"\xc3\"}\n"
				    "{\"a\":b}\n"
				    "{\"a\":\"b\"}x\n"
				    "{\"a\":\"\xed\xa0\x80\"}\n"
				    "{\"a\":\"\\u00g0\"}\n"
				    "{\"a\":1}\n"
				    "[\"a\"]\n"
				    "{\"a\":\"\\u001f\xc3\xa9\",\"p\":true}\n";
	static const char good[] = "{\"a\":\"\\u001f\xc3\xa9\",\"p\":true}\n{\"b\":\"\"}\n";
	char *verdicts;

	(void)state;
	/* The checker itself must be able to fail: on each but the last. */
	verdicts = jsonq_each(lines, sizeof(lines) - 1, FLAT_OBJECT);
	assert_string_equal(verdicts, "nnnnnnnnnnny");
	free(verdicts);
	assert_int_equal(json_lines(good, sizeof(good) - 1), 0);
	/* the last line without its newline */
	assert_int_equal(json_lines(good, sizeof(good) - 2), 1);
}

/* ------------------------------------------------------------ rows */

struct bytes {
	const char *p;
	size_t n;
};
#define B(s)                                                                                       \
	{                                                                                          \
		s, sizeof(s) - 1                                                                   \
	}
#define MAX_CHUNKS 6

struct row {
	const char *name;
	const char *job;
	enum log_format format;
	size_t pad_to;
	const char *color;
	bool timestamps;
	const char *stream;
	struct bytes chunks[MAX_CHUNKS];
	bool flush;
	struct bytes want;
};

#define J(job, msg)                                                                                \
	"{\"time\":\"" TS "\",\"job\":\"" job "\",\"stream\":\"stdout\",\"message\":\"" msg "\"}"  \
	"\n"

static const struct row rows[] = {
    {"one line", "web", LOG_PLAIN, 0, NULL, false, NULL, {B("hello\n")}, false, B("web | hello\n")},
    {"two lines in one chunk",
     "web",
     LOG_PLAIN,
     0,
     NULL,
     false,
     NULL,
     {B("a\nb\n")},
     false,
     B("web | a\nweb | b\n")},
    {"line split across reads",
     "web",
     LOG_PLAIN,
     0,
     NULL,
     false,
     NULL,
     {B("hel"), B("lo\nwor"), B("ld\n")},
     false,
     B("web | hello\nweb | world\n")},
    {"newline alone in its read",
     "web",
     LOG_PLAIN,
     0,
     NULL,
     false,
     NULL,
     {B("abc"), B("\n")},
     false,
     B("web | abc\n")},
    {"partial line held without flush",
     "web",
     LOG_PLAIN,
     0,
     NULL,
     false,
     NULL,
     {B("a\nabc")},
     false,
     B("web | a\n")},
    {"flush adds the newline",
     "web",
     LOG_PLAIN,
     0,
     NULL,
     false,
     NULL,
     {B("a\nabc")},
     true,
     B("web | a\nweb | abc\n")},
    {"flush with nothing pending",
     "web",
     LOG_PLAIN,
     0,
     NULL,
     false,
     NULL,
     {B("a\n")},
     true,
     B("web | a\n")},
    {"flush of no input", "web", LOG_PLAIN, 0, NULL, false, NULL, {{NULL, 0}}, true, B("")},
    {"empty lines",
     "web",
     LOG_PLAIN,
     0,
     NULL,
     false,
     NULL,
     {B("\n\n"), B("\n")},
     false,
     B("web | \nweb | \nweb | \n")},
    {"CRLF passes through",
     "web",
     LOG_PLAIN,
     0,
     NULL,
     false,
     NULL,
     {B("a\r\nb\r"), B("\n")},
     false,
     B("web | a\r\nweb | b\r\n")},
    {"lone CR is not a line end",
     "web",
     LOG_PLAIN,
     0,
     NULL,
     false,
     NULL,
     {B("a\rb\n")},
     false,
     B("web | a\rb\n")},
    {"NUL bytes pass through",
     "web",
     LOG_PLAIN,
     0,
     NULL,
     false,
     NULL,
     {B("a\0b\n\0\n")},
     false,
     B("web | a\0b\nweb | \0\n")},
    {"invalid UTF-8 unchanged in plain",
     "web",
     LOG_PLAIN,
     0,
     NULL,
     false,
     NULL,
     {B("\xff\xfe ok \xc3"), B("\n\xed\xa0\x80\n")},
     false,
     B("web | \xff\xfe ok \xc3\nweb | \xed\xa0\x80\n")},
    {"pad to the longest name",
     "web",
     LOG_PLAIN,
     7,
     NULL,
     false,
     NULL,
     {B("x\n")},
     false,
     B("web     | x\n")},
    {"pad narrower than the name",
     "sidekiq",
     LOG_PLAIN,
     3,
     NULL,
     false,
     NULL,
     {B("x\n")},
     false,
     B("sidekiq | x\n")},
    {"timestamps",
     "sidekiq",
     LOG_PLAIN,
     0,
     NULL,
     true,
     NULL,
     {B("a\nb\n")},
     false,
     B(TS " sidekiq | a\n" TS " sidekiq | b\n")},
    {"timestamp on a flushed line",
     "web",
     LOG_PLAIN,
     0,
     NULL,
     true,
     NULL,
     {B("tail")},
     true,
     B(TS " web | tail\n")},
    {"colour wraps name and bar",
     "web",
     LOG_PLAIN,
     5,
     "\x1b[36m",
     false,
     NULL,
     {B("a\n")},
     false,
     B("\x1b[36mweb   |\x1b[0m a\n")},
    {"colour and timestamp",
     "web",
     LOG_PLAIN,
     0,
     "\x1b[32m",
     true,
     NULL,
     {B("a\n")},
     false,
     B(TS " \x1b[32mweb |\x1b[0m a\n")},
    {"json line",
     "sidekiq",
     LOG_JSON,
     0,
     NULL,
     false,
     NULL,
     {B("hi\n")},
     false,
     B(J("sidekiq", "hi"))},
    {"json ignores pad, colour and the timestamp flag",
     "sidekiq",
     LOG_JSON,
     20,
     "\x1b[36m",
     true,
     NULL,
     {B("hi\n")},
     false,
     B(J("sidekiq", "hi"))},
    {"json split across reads",
     "web",
     LOG_JSON,
     0,
     NULL,
     false,
     NULL,
     {B("a"), B("b\nc"), B("\n")},
     false,
     B(J("web", "ab") J("web", "c"))},
    {"json quotes and backslashes",
     "web",
     LOG_JSON,
     0,
     NULL,
     false,
     NULL,
     {B("say \"x\" \\ y/\n")},
     false,
     B(J("web", "say \\\"x\\\" \\\\ y/"))},
    {"json control characters",
     "web",
     LOG_JSON,
     0,
     NULL,
     false,
     NULL,
     {B("a\tb\x01\x1f\x7f\r\x1b[1m\n")},
     false,
     B(J("web", "a\\tb\\u0001\\u001f\\u007f\\r\\u001b[1m"))},
    {"json NUL",
     "web",
     LOG_JSON,
     0,
     NULL,
     false,
     NULL,
     {B("a\0b\n")},
     false,
     B(J("web", "a\\u0000b"))},
    {"json invalid UTF-8 becomes U+FFFD",
     "web",
     LOG_JSON,
     0,
     NULL,
     false,
     NULL,
     {B("\xff ok \xc3\n\xed\xa0\x80\n")},
     false,
     B(J("web", "\xef\xbf\xbd ok \xef\xbf\xbd") J("web", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"))},
    {"json valid UTF-8 kept",
     "web",
     LOG_JSON,
     0,
     NULL,
     false,
     NULL,
     {B("gr\xc3\xbc\xc3"), B("\x9f"
			     "e \xe2\x9c\x93 \xf0\x9f\x98\x80\n")},
     false,
     B(J("web", "gr\xc3\xbc\xc3\x9f"
		"e \xe2\x9c\x93 \xf0\x9f\x98\x80"))},
    {"json empty line", "web", LOG_JSON, 0, NULL, false, NULL, {B("\n")}, false, B(J("web", ""))},
    {"json flush without partial",
     "web",
     LOG_JSON,
     0,
     NULL,
     false,
     NULL,
     {B("abc")},
     true,
     B(J("web", "abc"))},
    {"json stderr stream",
     "web",
     LOG_JSON,
     0,
     NULL,
     false,
     "stderr",
     {B("e\n")},
     false,
     B("{\"time\":\"" TS "\",\"job\":\"web\",\"stream\":\"stderr\",\"message\":\"e\"}\n")},
    {"json job name escaped",
     "a\"b",
     LOG_JSON,
     0,
     NULL,
     false,
     NULL,
     {B("m\n")},
     false,
     B(J("a\\\"b", "m"))},
};

static void run_row(const struct row *r, size_t max_write)
{
	struct capture c = {.max_write = max_write};
	struct logpfx_opts o = base_opts(&c);
	struct logpfx *p;

	o.job = r->job;
	o.format = r->format;
	o.pad_to = r->pad_to;
	o.color = r->color;
	o.timestamps = r->timestamps;
	if (r->stream != NULL)
		o.stream = r->stream;
	logpfx_new(&o, &p);
	assert_non_null(p);
	for (int i = 0; i < MAX_CHUNKS && r->chunks[i].p != NULL; i++)
		assert_int_equal(logpfx_feed(p, r->chunks[i].p, r->chunks[i].n), 0);
	if (r->flush)
		assert_int_equal(logpfx_flush(p), 0);
	assert_bytes_equal(c.data, c.len, r->want.p, r->want.n, r->name);
	if (r->format == LOG_JSON)
		collect_json_lines(c.data, c.len);
	/* A second flush never adds anything. */
	if (r->flush) {
		size_t before = c.len;
		assert_int_equal(logpfx_flush(p), 0);
		assert_int_equal(c.len, before);
	}
	logpfx_free(p);
	free(c.data);
}

static void test_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		run_row(&rows[i], 0);
	assert_json_lines();
}

/* The same rows through a sink that accepts 5 bytes at a time: short
 * writes are completed, nothing is lost or repeated. */
static void test_rows_short_writes(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		run_row(&rows[i], 5);
	assert_json_lines();
}

/* ------------------------------------------------------------ long lines */

struct long_row {
	size_t len;   /* content bytes of the line */
	bool newline; /* terminated by \n (else flushed) */
	enum log_format format;
	size_t chunk;	  /* feed size */
	size_t pieces[6]; /* expected piece lengths, 0-terminated */
};

/* L is SPEC §5's 16 KiB, the piece size the rows are written in. */
#define L LOGPFX_LINE_MAX
_Static_assert(LOGPFX_LINE_MAX == 16 * 1024, "SPEC §5: lines are cut at 16 KiB");

static const struct long_row long_rows[] = {
    {L, true, LOG_PLAIN, 100000, {L}},
    {L, true, LOG_PLAIN, 1000, {L}},
    {L - 1, true, LOG_PLAIN, L - 1, {L - 1}},
    {L + 1, true, LOG_PLAIN, 100000, {L, 1}},
    {L + 1, true, LOG_PLAIN, 4096, {L, 1}},
    {3 * L + 5, true, LOG_PLAIN, 100000, {L, L, L, 5}},
    {3 * L + 5, true, LOG_PLAIN, 777, {L, L, L, 5}},
    {2 * L, true, LOG_PLAIN, 4096, {L, L}},
    {L, false, LOG_PLAIN, 4096, {L}},
    {L + 1, false, LOG_PLAIN, 4096, {L, 1}},
    {L, true, LOG_JSON, 100000, {L}},
    {L + 1, true, LOG_JSON, 100000, {L, 1}},
    {3 * L + 5, true, LOG_JSON, 1000, {L, L, L, 5}},
    {2 * L, false, LOG_JSON, 4096, {L, L}},
};
#undef L

/* len content bytes and a newline (which a row may leave unfed). */
static char *make_line(size_t len)
{
	char *s = malloc(len + 1);

	assert_non_null(s);
	for (size_t i = 0; i < len; i++)
		s[i] = (char)('a' + i % 26);
	s[len] = '\n';
	return s;
}

static void test_long_lines(void **state)
{
	(void)state;
	for (size_t r = 0; r < sizeof(long_rows) / sizeof(long_rows[0]); r++) {
		const struct long_row *lr = &long_rows[r];
		struct capture c = {0};
		struct logpfx_opts o = base_opts(&c);
		size_t total = lr->len + (lr->newline ? 1 : 0), at = 0, off = 0, npieces = 0;
		char *line = make_line(lr->len);
		struct logpfx *p;

		o.format = lr->format;
		logpfx_new(&o, &p);
		assert_non_null(p);
		while (at < total) {
			size_t n = total - at < lr->chunk ? total - at : lr->chunk;
			assert_int_equal(logpfx_feed(p, line + at, n), 0);
			assert_true(logpfx_pending(p) <= LOGPFX_LINE_MAX);
			at += n;
		}
		assert_int_equal(logpfx_flush(p), 0);
		while (lr->pieces[npieces] != 0)
			npieces++;
		if (lr->format == LOG_JSON)
			collect_json_lines(c.data, c.len);
		/* Walk the output: prefix, piece, newline, in order. */
		size_t content = 0;
		for (size_t i = 0; i < npieces; i++) {
			const char *head = lr->format == LOG_JSON
					       ? "{\"time\":\"" TS
						 "\",\"job\":\"web\",\"stream\":\"stdout\","
						 "\"message\":\""
					       : "web | ";
			const char *tail =
			    lr->format == LOG_JSON
				? (i + 1 < npieces ? "\",\"partial\":true}\n" : "\"}\n")
				: "\n";
			size_t hl = strlen(head), tl = strlen(tail), pl = lr->pieces[i];
			assert_true(off + hl + pl + tl <= c.len);
			assert_memory_equal(c.data + off, head, hl);
			assert_memory_equal(c.data + off + hl, line + content, pl);
			assert_memory_equal(c.data + off + hl + pl, tail, tl);
			off += hl + pl + tl;
			content += pl;
		}
		assert_int_equal(off, c.len);
		assert_int_equal(content, lr->len);
		logpfx_free(p);
		free(line);
		free(c.data);
	}
	assert_json_lines();
}

/* A cut that would split a UTF-8 character: plain cuts at exactly 16 KiB
 * (bytes pass through), JSON cuts before the character so it survives. */
static void test_cut_inside_utf8(void **state)
{
	static const char *chars[] = {"\xc3\xa9", "\xe2\x9c\x93", "\xf0\x9f\x98\x80"};
	(void)state;
	for (size_t k = 0; k < 3; k++) {
		size_t cl = strlen(chars[k]);
		for (size_t before = 1; before < cl; before++) {
			/* The character starts `before` bytes ahead of the cut. */
			size_t len = LOGPFX_LINE_MAX - before + cl + 1;
			char *line = malloc(len + 1);
			assert_non_null(line);
			memset(line, 'a', LOGPFX_LINE_MAX - before);
			memcpy(line + LOGPFX_LINE_MAX - before, chars[k], cl);
			line[len - 1] = 'z';
			line[len] = '\n';
			for (int f = 0; f < 2; f++) {
				struct capture c = {0};
				struct logpfx_opts o = base_opts(&c);
				o.format = f ? LOG_JSON : LOG_PLAIN;
				struct logpfx *p;

				logpfx_new(&o, &p);
				assert_non_null(p);
				assert_int_equal(logpfx_feed(p, line, len + 1), 0);
				if (!f) {
					/* web | <16384 bytes>\nweb | <rest>\n */
					assert_int_equal(c.len, 6 + LOGPFX_LINE_MAX + 1 + 6 +
								    (len - LOGPFX_LINE_MAX) + 1);
					assert_memory_equal(c.data + 6, line, LOGPFX_LINE_MAX);
					assert_int_equal(c.data[6 + LOGPFX_LINE_MAX], '\n');
				} else {
					collect_json_lines(c.data, c.len);
					/* The second object's message starts with the whole
					 * character. */
					const char *second = memchr(c.data, '\n', c.len) + 1;
					const char *msg = strstr(second, "\"message\":\"") + 11;
					assert_memory_equal(msg, chars[k], cl);
					assert_memory_equal(msg + cl, "z\"}\n", 4);
					assert_null(memmem(c.data, c.len, "\xef\xbf\xbd", 3));
					assert_non_null(strstr(c.data, "\"partial\":true}\n"));
				}
				logpfx_free(p);
				free(c.data);
			}
			free(line);
		}
	}
	assert_json_lines();
}

/* ------------------------------------------------------------ 10 MiB line, bounded memory */

/* Checks the output as it streams by, without storing it. */
struct verifier {
	const char *prefix;
	size_t prefix_len;
	size_t col; /* position in the current output line */
	size_t lines;
	size_t content; /* total content bytes */
	size_t max_piece;
	bool bad;
};

static ssize_t verify_sink(void *ctx, const struct iovec *iov, int iovcnt)
{
	struct verifier *v = ctx;
	size_t total = 0;

	for (int i = 0; i < iovcnt; i++) {
		const char *s = iov[i].iov_base;
		for (size_t j = 0; j < iov[i].iov_len; j++) {
			if (v->col < v->prefix_len) {
				if (s[j] != v->prefix[v->col])
					v->bad = true;
				v->col++;
			} else if (s[j] == '\n') {
				size_t piece = v->col - v->prefix_len;
				if (piece > v->max_piece)
					v->max_piece = piece;
				v->content += piece;
				v->lines++;
				v->col = 0;
			} else {
				if (s[j] != 'x')
					v->bad = true;
				v->col++;
			}
		}
		total += iov[i].iov_len;
	}
	return (ssize_t)total;
}

static void test_ten_mib_line_bounded(void **state)
{
	struct verifier v = {.prefix = "sidekiq | ", .prefix_len = 10};
	struct logpfx_opts o = {.job = "sidekiq",
				.stream = "stdout",
				.sink = verify_sink,
				.sink_ctx = &v,
				.now = fixed_now};
	char chunk[4 * KiB];
	struct logpfx *p;
	size_t heap_before, heap_peak = 0;

	(void)state;
	memset(chunk, 'x', sizeof(chunk));
	logpfx_new(&o, &p);
	assert_non_null(p);
	heap_before = mallinfo2().uordblks;
	for (size_t i = 0; i < 10 * KiB * KiB / sizeof(chunk); i++) {
		assert_int_equal(logpfx_feed(p, chunk, sizeof(chunk)), 0);
		assert_true(logpfx_pending(p) <= LOGPFX_LINE_MAX);
		size_t heap = mallinfo2().uordblks;
		if (heap > heap_peak)
			heap_peak = heap;
	}
	assert_int_equal(logpfx_feed(p, "\n", 1), 0);
	assert_int_equal(logpfx_flush(p), 0);
	assert_false(v.bad);
	assert_int_equal(v.col, 0);
	assert_int_equal(v.lines, 640);
	assert_int_equal(v.content, 10 * KiB * KiB);
	assert_int_equal(v.max_piece, LOGPFX_LINE_MAX);
	/* No allocation while streaming: the heap in use never grew. */
	assert_true(heap_peak <= heap_before);
	logpfx_free(p);
}

/* ------------------------------------------------------------ batching */

static void test_writev_batching(void **state)
{
	struct capture c = {0};
	struct logpfx_opts o = base_opts(&c);
	char *in = malloc(80000), *want = malloc(1000 * 86);
	struct logpfx *p;

	(void)state;
	assert_non_null(in);
	assert_non_null(want);
	for (int i = 0; i < 1000; i++) {
		memset(in + i * 80, 'a' + i % 26, 79);
		in[i * 80 + 79] = '\n';
		memcpy(want + i * 86, "web | ", 6);
		memcpy(want + i * 86 + 6, in + i * 80, 80);
	}
	logpfx_new(&o, &p);
	assert_non_null(p);
	assert_int_equal(logpfx_feed(p, in, 80000), 0);
	assert_bytes_equal(c.data, c.len, want, 1000 * 86, "batched lines");
	/* At worst two iovecs a line: ceil(2000 / IOV_MAX) = 2 writev calls,
	 * one spare. (Short lines are copied and share iovecs: 86000 bytes
	 * in 64 KiB batches also make 2.) */
	assert_in_range(c.calls, 1, 3);
	logpfx_free(p);
	free(in);
	free(want);
	free(c.data);
}

/* Short lines (copied) and long ones (sent by reference) interleave in
 * input order, within one batch and across the IOV_MAX limit. */
static void test_short_and_long_lines_keep_order(void **state)
{
	static const size_t lens[] = {0, 1, 511, 512, 513, 80, 4000, 16384, 3, 16385, 79, 600};
	struct capture c = {0};
	struct logpfx_opts o = base_opts(&c);
	size_t in_len = 0, want_len = 0, rounds = 300;
	char *in, *want;
	struct logpfx *p;

	(void)state;
	in = malloc(rounds * 40000);
	want = malloc(rounds * 40000 * 2);
	assert_non_null(in);
	assert_non_null(want);
	for (size_t r = 0; r < rounds; r++) {
		for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			size_t len = lens[(i + r) % (sizeof(lens) / sizeof(lens[0]))];
			for (size_t k = 0; k < len; k++)
				in[in_len + k] = (char)('A' + (r + i + k) % 50);
			for (size_t off = 0; off < len || off == 0; off += LOGPFX_LINE_MAX) {
				size_t piece =
				    len - off < LOGPFX_LINE_MAX ? len - off : LOGPFX_LINE_MAX;
				memcpy(want + want_len, "web | ", 6);
				memcpy(want + want_len + 6, in + in_len + off, piece);
				want[want_len + 6 + piece] = '\n';
				want_len += 6 + piece + 1;
				if (len == 0)
					break;
			}
			in_len += len;
			in[in_len++] = '\n';
		}
	}
	logpfx_new(&o, &p);
	assert_non_null(p);
	for (size_t at = 0; at < in_len; at += 70000)
		assert_int_equal(logpfx_feed(p, in + at, in_len - at < 70000 ? in_len - at : 70000),
				 0);
	assert_int_equal(logpfx_flush(p), 0);
	assert_bytes_equal(c.data, c.len, want, want_len, "mixed lengths");
	logpfx_free(p);
	free(in);
	free(want);
	free(c.data);
}

/* One clock reading per batch: the lines of one read share a time. */
static int clock_calls;
static void counting_now(struct timespec *t)
{
	t->tv_sec = 1795921800 + clock_calls++;
	t->tv_nsec = 5000000;
}

static void test_timestamp_per_batch(void **state)
{
	static const char want[] = "2026-11-29T03:10:00.005Z web | a\n"
				   "2026-11-29T03:10:00.005Z web | b\n"
				   "2026-11-29T03:10:01.005Z web | c\n"
				   "2026-11-29T03:10:02.005Z web | d\n";
	struct capture c = {0};
	struct logpfx_opts o = base_opts(&c);
	struct logpfx *p;

	(void)state;
	clock_calls = 0;
	o.timestamps = true;
	o.now = counting_now;
	logpfx_new(&o, &p);
	assert_non_null(p);
	assert_int_equal(logpfx_feed(p, "a\nb\n", 4), 0);
	assert_int_equal(logpfx_feed(p, "c\nd", 3), 0);
	assert_int_equal(logpfx_flush(p), 0);
	assert_bytes_equal(c.data, c.len, want, sizeof(want) - 1, "timestamps");
	assert_int_equal(clock_calls, 3);
	logpfx_free(p);
	free(c.data);
}

/* ------------------------------------------------------------ output errors */

struct err_row {
	int err;
	enum log_format format;
	int fail_after; /* sink calls that succeed first */
};

static const struct err_row err_rows[] = {
    {EPIPE, LOG_PLAIN, 0}, {EPIPE, LOG_PLAIN, 1}, {EPIPE, LOG_JSON, 0},
    {EIO, LOG_PLAIN, 1},   {ENOSPC, LOG_JSON, 1},
};

static void test_output_error_once_then_discard(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(err_rows) / sizeof(err_rows[0]); i++) {
		const struct err_row *er = &err_rows[i];
		struct capture c = {.fail_errno = er->err, .fail_after = er->fail_after};
		struct logpfx_opts o = base_opts(&c);
		struct logpfx *p;
		int calls;
		size_t len;

		o.format = er->format;
		logpfx_new(&o, &p);
		assert_non_null(p);
		for (int k = 0; k < er->fail_after; k++)
			assert_int_equal(logpfx_feed(p, "ok\n", 3), 0);
		len = c.len;
		assert_int_equal(logpfx_output_error(p), 0);
		assert_int_equal(logpfx_feed(p, "lost\n", 5), -er->err);
		assert_int_equal(logpfx_output_error(p), -er->err);
		calls = c.calls;
		/* From then on: ok, nothing written, nothing held. */
		for (int k = 0; k < 100; k++)
			assert_int_equal(logpfx_feed(p, "more\nand a partial", 18), 0);
		assert_int_equal(logpfx_pending(p), 0);
		assert_int_equal(logpfx_flush(p), 0);
		assert_int_equal(c.calls, calls);
		assert_int_equal(c.len, len);
		logpfx_free(p);
		free(c.data);
	}
}

/* ------------------------------------------------------------ real fds */

static void read_all_nonblock(int fd, char *buf, size_t cap, size_t *len)
{
	ssize_t n;

	*len = 0;
	while ((n = read(fd, buf + *len, cap - *len)) > 0)
		*len += (size_t)n;
}

static void test_read_pipe_eagain_eof(void **state)
{
	int in[2];
	struct capture c = {0};
	struct logpfx_opts o = base_opts(&c);
	struct logpfx *p;

	(void)state;
	assert_int_equal(pipe2(in, O_NONBLOCK | O_CLOEXEC), 0);
	logpfx_new(&o, &p);
	assert_non_null(p);
	assert_int_equal(logpfx_read(p, in[0]), -EAGAIN);
	assert_int_equal(write(in[1], "a\nb", 3), 3);
	assert_int_equal(logpfx_read(p, in[0]), 3);
	assert_bytes_equal(c.data, c.len, "web | a\n", 8, "first read");
	assert_int_equal(logpfx_read(p, in[0]), -EAGAIN);
	assert_int_equal(write(in[1], "c\n", 2), 2);
	close(in[1]);
	assert_int_equal(logpfx_read(p, in[0]), 2);
	assert_int_equal(logpfx_read(p, in[0]), 0);
	assert_int_equal(logpfx_flush(p), 0);
	assert_bytes_equal(c.data, c.len, "web | a\nweb | bc\n", 17, "after EOF");
	assert_int_equal(logpfx_read(p, -1), -EBADF);
	logpfx_free(p);
	close(in[0]);
	free(c.data);
}

/* The real path: writev to out_fd; EPIPE when the reader is gone, with
 * SIGPIPE blocked as jobshim runs. The job's pipe is still drained. */
static void test_real_fd_and_epipe(void **state)
{
	int in[2], out[2];
	struct logpfx_opts o = {.job = "web", .stream = "stdout"};
	struct logpfx *p;
	char got[256];
	size_t len;
	sigset_t set, old;

	(void)state;
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	assert_int_equal(sigprocmask(SIG_BLOCK, &set, &old), 0);
	assert_int_equal(pipe2(in, O_NONBLOCK | O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_NONBLOCK | O_CLOEXEC), 0);
	o.out_fd = out[1];
	logpfx_new(&o, &p);
	assert_non_null(p);
	assert_int_equal(write(in[1], "x\ny\n", 4), 4);
	assert_int_equal(logpfx_read(p, in[0]), 4);
	read_all_nonblock(out[0], got, sizeof(got), &len);
	assert_bytes_equal(got, len, "web | x\nweb | y\n", 16, "real fd");

	close(out[0]);
	assert_int_equal(write(in[1], "lost\n", 5), 5);
	assert_int_equal(logpfx_read(p, in[0]), -EPIPE);
	assert_int_equal(logpfx_output_error(p), -EPIPE);
	for (int k = 0; k < 3; k++) {
		assert_int_equal(write(in[1], "more\n", 5), 5);
		assert_int_equal(logpfx_read(p, in[0]), 5);
	}
	assert_int_equal(logpfx_read(p, in[0]), -EAGAIN);
	assert_int_equal(logpfx_flush(p), 0);
	/* Our own SIGPIPE was consumed, not left pending for forwarding. */
	sigset_t pending;
	assert_int_equal(sigpending(&pending), 0);
	assert_false(sigismember(&pending, SIGPIPE));
	logpfx_free(p);
	close(in[0]);
	close(in[1]);
	close(out[1]);
	assert_int_equal(sigprocmask(SIG_SETMASK, &old, NULL), 0);
}

/* ------------------------------------------------------------ construction */

static void test_new_rejects(void **state)
{
	struct logpfx_opts o = {.job = NULL};
	struct logpfx *p = NULL;
	char long_name[300];

	(void)state;
	assert_int_equal(logpfx_new(NULL, &p), -EINVAL);
	assert_null(p);
	assert_int_equal(logpfx_new(&o, &p), -EINVAL);
	assert_null(p);
	o.job = "web";
	o.pad_to = 100000;
	assert_int_equal(logpfx_new(&o, &p), -EINVAL);
	assert_null(p);
	memset(long_name, 'n', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	o.pad_to = 0;
	o.job = long_name;
	assert_int_equal(logpfx_new(&o, &p), -EINVAL);
	assert_null(p);
}

/* Without a stream name, JSON says which one from the fd. */
static void test_stream_defaults_from_fd(void **state)
{
	static const char want[] =
	    "{\"time\":\"" TS "\",\"job\":\"w\",\"stream\":\"stderr\",\"message\":\"m\"}\n";
	struct capture c = {0};
	struct logpfx_opts o = base_opts(&c);
	struct logpfx *p;

	(void)state;
	o.job = "w";
	o.stream = NULL;
	o.out_fd = 2;
	o.format = LOG_JSON;
	logpfx_new(&o, &p);
	assert_non_null(p);
	assert_int_equal(logpfx_feed(p, "m\n", 2), 0);
	assert_bytes_equal(c.data, c.len, want, sizeof(want) - 1, "stderr default");
	logpfx_free(p);
	free(c.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_json_checker_rejects),
	    cmocka_unit_test(test_rows),
	    cmocka_unit_test(test_rows_short_writes),
	    cmocka_unit_test(test_long_lines),
	    cmocka_unit_test(test_cut_inside_utf8),
	    cmocka_unit_test(test_ten_mib_line_bounded),
	    cmocka_unit_test(test_writev_batching),
	    cmocka_unit_test(test_short_and_long_lines_keep_order),
	    cmocka_unit_test(test_timestamp_per_batch),
	    cmocka_unit_test(test_output_error_once_then_discard),
	    cmocka_unit_test(test_read_pipe_eagain_eof),
	    cmocka_unit_test(test_real_fd_and_epipe),
	    cmocka_unit_test(test_new_rejects),
	    cmocka_unit_test(test_stream_defaults_from_fd),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* libFuzzer target for the line prefixer (SPEC §5 "Worker output").
 *
 * Input: byte 0 = options (json, timestamps, colour, pad, 2 bits of
 * repetition, output fails with EPIPE, short writes), byte 1 = chunking seed, the rest = what the
 * job writes, repeated (byte 0 bits 4-5) so that lines longer than 16 KiB and their cuts happen
 * with small inputs. The stream is fed in chunks whose sizes come from the seed, then flushed; the
 * captured output must equal what an independent reference model of the format expects, byte for
 * byte (plain) or object by object with decoded messages (JSON). No feed writes more than
 * logpfx_input_for promised for its size (the back-pressure budget supervise reads by when
 * jobshim's stdout queue is nearly full), no flush more than logpfx_flush_max.
 *
 * Only the prefixer carries coverage instrumentation (HARNESS below): about 1000 inputs a second
 * on the 2-core CI machine, where instrumenting the harness's per-byte loops too gave 200.
 *
 * Build and run: make fuzz-run FUZZ_TARGETS=logpfx (mk/fuzz.mk). */
#include <errno.h>
#include <sanitizer/asan_interface.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logpfx.h"

#define MAX_STREAM (1 << 18)

/* The harness: the capture, the reference model and the checks. They are
 * not what is fuzzed, so they carry no coverage callbacks (which, a byte at
 * a time over up to 256 KiB an input, took most of the run time); ASan and
 * UBSan still check them. noinline: inlined, they would be instrumented as
 * part of their caller. */
#define HARNESS __attribute__((noinline, no_sanitize("coverage")))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct out {
	char *buf;
	size_t len, cap;
	int calls;
	int fail_after;	  /* -1: never fail */
	size_t max_write; /* short writes: at most this a call (0: all) */
};

static void die(const char *what)
{
	fprintf(stderr, "fuzz_logpfx: invariant broken: %s\n", what);
	abort();
}

static HARNESS void out_add(struct out *o, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (o->len + n > o->cap) {
		o->cap = (o->len + n) * 2 + 256;
		o->buf = realloc(o->buf, o->cap);
		if (o->buf == NULL)
			abort();
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

static HARNESS ssize_t sink(void *ctx, const struct iovec *iov, int iovcnt)
{
	struct out *o = ctx;
	size_t total = 0;

	if (iovcnt <= 0 || iovcnt > 1024)
		die("iovcnt out of range");
	o->calls++;
	if (o->fail_after >= 0 && o->calls > o->fail_after) {
		errno = EPIPE;
		return -1;
	}
	for (int i = 0; i < iovcnt; i++) {
		size_t n = iov[i].iov_len;
		if (o->max_write > 0 && n > o->max_write - total)
			n = o->max_write - total;
		out_add(o, iov[i].iov_base, n);
		total += n;
		if (o->max_write > 0 && total == o->max_write)
			break;
	}
	return (ssize_t)total;
}

static void fixed_now(struct timespec *t)
{
	t->tv_sec = 1795921800;
	t->tv_nsec = 123000000;
}

/* ------------------------------------------------------------ reference model */

/* Length of the valid UTF-8 sequence at s, 0 when invalid. */
static HARNESS size_t ref_utf8(const uint8_t *s, size_t len)
{
	size_t n;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (len < n)
		return 0;
	cp = s[0] & (0x7f >> n);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* What a JSON message decodes to: the bytes, invalid UTF-8 as U+FFFD.
 * Valid runs are copied whole (a copy a byte was most of the run time). */
static HARNESS void ref_sanitize(struct out *o, const uint8_t *s, size_t len)
{
	size_t run = 0; /* start of the valid run being collected */

	for (size_t i = 0; i < len;) {
		size_t n = s[i] < 0x80 ? 1 : ref_utf8(s + i, len - i);
		if (n == 0) {
			out_add(o, s + run, i - run);
			out_add(o, "\xef\xbf\xbd", 3);
			run = ++i;
		} else {
			i += n;
		}
	}
	out_add(o, s + run, len - run);
}

/* Where a line with more than LINE_MAX bytes left is cut: plain at exactly
 * LINE_MAX; JSON before a UTF-8 lead byte whose sequence would straddle. */
static HARNESS size_t ref_cut(const uint8_t *s, bool json)
{
	size_t cut = LOGPFX_LINE_MAX;

	if (!json)
		return cut;
	for (size_t back = 1; back <= 3; back++) {
		uint8_t c = s[cut - back];
		size_t need;
		if ((c & 0xc0) == 0x80)
			continue;
		need = (c >= 0xc2 && c <= 0xdf)	  ? 2
		       : (c >= 0xe0 && c <= 0xef) ? 3
		       : (c >= 0xf0 && c <= 0xf4) ? 4
						  : 0;
		if (need > back)
			return cut - back;
		break;
	}
	return cut;
}

/* ------------------------------------------------------------ JSON checks */

/* Decodes the JSON string body at *sp (after the opening quote) into dec,
 * up to the closing quote; checks escapes, no raw control bytes and valid
 * UTF-8 in the raw text. */
static HARNESS void json_decode(const char **sp, const char *end, struct out *dec)
{
	const char *s = *sp, *run = s; /* run: bytes that decode to themselves */

	while (s < end && *s != '"') {
		uint8_t c = (uint8_t)*s;
		if (c < 0x20)
			die("raw control byte in JSON string");
		if (c == '\\') {
			out_add(dec, run, (size_t)(s - run));
			if (++s >= end)
				die("escape at end");
			char e = *s++;
			const char *simple = "\"\\/bfnrt", *val = "\"\\/\b\f\n\r\t";
			const char *hit = e != '\0' ? strchr(simple, e) : NULL;
			if (hit != NULL) {
				out_add(dec, val + (hit - simple), 1);
				run = s;
				continue;
			}
			if (e != 'u' || end - s < 4)
				die("bad escape");
			unsigned cp = 0;
			for (int i = 0; i < 4; i++) {
				char h = s[i];
				cp <<= 4;
				if (h >= '0' && h <= '9')
					cp |= (unsigned)(h - '0');
				else if (h >= 'a' && h <= 'f')
					cp |= (unsigned)(h - 'a' + 10);
				else if (h >= 'A' && h <= 'F')
					cp |= (unsigned)(h - 'A' + 10);
				else
					die("bad \\u escape");
			}
			s += 4;
			if (cp >= 0x80)
				die("unexpected \\u escape above U+007F");
			uint8_t b = (uint8_t)cp;
			out_add(dec, &b, 1);
			run = s;
			continue;
		}
		size_t n = c < 0x80 ? 1 : ref_utf8((const uint8_t *)s, (size_t)(end - s));
		if (n == 0)
			die("invalid UTF-8 in JSON output");
		s += n;
	}
	if (s >= end)
		die("unterminated JSON string");
	out_add(dec, run, (size_t)(s - run));
	*sp = s + 1;
}

static HARNESS const char *expect_lit(const char *s, const char *end, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(end - s) < n || memcmp(s, lit, n) != 0)
		die("JSON object does not have the expected shape");
	return s + n;
}

/* ------------------------------------------------------------ the target */

struct piece {
	size_t off, len;
	bool partial;
};

/* The buffers of the harness, kept from one input to the next (freeing and
 * mapping a few 100 KiB afresh for each input cost more page faults than the
 * prefixer's own work). Each run resets their lengths. */
static struct {
	uint8_t *stream;
	size_t stream_cap;
	struct piece *pieces;
	size_t pieces_cap;
	struct out out, exp, dec, ref;
} h;

/* The pieces the stream must come out as: its lines, each cut into pieces
 * of at most LINE_MAX bytes. Returns how many. */
static HARNESS size_t ref_pieces(const uint8_t *stream, size_t slen, bool json)
{
	size_t npieces = 0;

	for (size_t start = 0; start < slen;) {
		const uint8_t *nl = memchr(stream + start, '\n', slen - start);
		size_t end = nl ? (size_t)(nl - stream) : slen;
		do {
			size_t n = end - start;
			bool partial = false;
			if (n > LOGPFX_LINE_MAX) {
				n = ref_cut(stream + start, json);
				partial = true;
			}
			if (npieces == h.pieces_cap) {
				h.pieces_cap = h.pieces_cap * 2 + 64;
				h.pieces = realloc(h.pieces, h.pieces_cap * sizeof(*h.pieces));
				if (h.pieces == NULL)
					abort();
			}
			h.pieces[npieces++] = (struct piece){start, n, partial};
			start += n;
		} while (start < end);
		start = end + 1;
	}
	return npieces;
}

/* Plain output: byte for byte the head, the piece and a newline each. */
static HARNESS void check_plain(const struct logpfx_opts *o, const uint8_t *stream, size_t npieces)
{
	const struct out *out = &h.out;
	struct out *exp = &h.exp;
	char head[128];
	size_t hl = 0;

	if (o->timestamps) {
		memcpy(head, "2026-11-29T03:10:00.123Z ", 25);
		hl = 25;
	}
	hl +=
	    (size_t)snprintf(head + hl, sizeof(head) - hl, "%s%-*s |%s ", o->color ? o->color : "",
			     (int)o->pad_to, "sidekiq", o->color ? "\x1b[0m" : "");
	exp->len = 0;
	for (size_t i = 0; i < npieces; i++) {
		out_add(exp, head, hl);
		out_add(exp, stream + h.pieces[i].off, h.pieces[i].len);
		out_add(exp, "\n", 1);
	}
	/* With a dead output, what was written is a prefix of it. */
	if (out->len > exp->len || (out->len > 0 && memcmp(out->buf, exp->buf, out->len) != 0))
		die("plain output differs from the reference");
	if (out->fail_after < 0 && out->len != exp->len)
		die("plain output is short");
}

/* JSON output: an object a piece, of the expected shape, whose message
 * decodes to the piece with invalid UTF-8 as U+FFFD. */
static HARNESS void check_json(const uint8_t *stream, size_t npieces)
{
	static const char lit[] = "{\"time\":\"2026-11-29T03:10:00.123Z\",\"job\":\"sidekiq\","
				  "\"stream\":\"stdout\",\"message\":\"";
	const struct out *out = &h.out;
	struct out *dec = &h.dec, *ref = &h.ref;
	const char *s = out->buf, *end = out->buf != NULL ? out->buf + out->len : NULL;
	size_t i = 0;

	for (; s < end; i++) {
		if (i >= npieces)
			die("more JSON objects than pieces");
		s = expect_lit(s, end, lit);
		dec->len = 0;
		ref->len = 0;
		json_decode(&s, end, dec);
		ref_sanitize(ref, stream + h.pieces[i].off, h.pieces[i].len);
		if (dec->len != ref->len ||
		    (ref->len > 0 && memcmp(dec->buf, ref->buf, ref->len) != 0))
			die("JSON message differs from the reference");
		s = expect_lit(s, end, h.pieces[i].partial ? ",\"partial\":true}\n" : "}\n");
	}
	if (out->fail_after < 0 && i != npieces)
		die("fewer JSON objects than pieces");
}

/* The least output room for which logpfx_input_for allows n input bytes
 * (what supervise reads when jobshim's stdout queue is nearly full, its
 * reader stalled), or SIZE_MAX when no room allows that many at once. */
static HARNESS size_t room_for(const struct logpfx *p, size_t n)
{
	size_t lo = 0, hi = (size_t)1 << 30;

	if (logpfx_input_for(p, hi) < n)
		return SIZE_MAX;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (logpfx_input_for(p, mid) >= n)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned reps[] = {1, 3, 9, 40};
	struct out *out = &h.out;
	struct logpfx_opts o = {.job = "sidekiq",
				.stream = "stdout",
				.out_fd = 1,
				.sink = sink,
				.sink_ctx = out,
				.now = fixed_now};
	size_t npieces, slen;
	uint8_t *stream;
	uint32_t rng;
	int errors = 0;
	bool json;

	if (size < 2)
		return 0;
	out->len = 0;
	out->calls = 0;
	out->fail_after = -1;
	out->max_write = 0;
	json = data[0] & 1;
	o.format = json ? LOG_JSON : LOG_PLAIN;
	o.timestamps = data[0] & 2;
	o.color = (data[0] & 4) ? "\x1b[36m" : NULL;
	o.pad_to = (data[0] & 8) ? 12 : 0;
	if (data[0] & 0x40)
		out->fail_after = data[1] % 4;
	if (data[0] & 0x80)
		out->max_write = 1 + data[1] % 13;
	rng = 0x9e3779b9u ^ ((uint32_t)data[1] << 8 | data[0]);
	slen = (size - 2) * reps[(data[0] >> 4) & 3];
	if (slen > MAX_STREAM)
		slen = MAX_STREAM;
	if (h.stream == NULL) {
		h.stream = malloc(MAX_STREAM);
		if (h.stream == NULL)
			abort();
	}
	/* The bytes around the stream poisoned: ASan sees a read outside it as
	 * it would with an allocation of its own (its start 8-aligned, so that
	 * both sides can be poisoned exactly). */
	ASAN_UNPOISON_MEMORY_REGION(h.stream, MAX_STREAM);
	stream = h.stream + ((MAX_STREAM - slen) & ~(size_t)7);
	ASAN_POISON_MEMORY_REGION(h.stream, (size_t)(stream - h.stream));
	ASAN_POISON_MEMORY_REGION(stream + slen, MAX_STREAM - (size_t)(stream - h.stream) - slen);
	for (size_t at = 0; at < slen; at += size - 2)
		memcpy(stream + at, data + 2, slen - at < size - 2 ? slen - at : size - 2);

	struct logpfx *p = logpfx_new(&o);
	if (p == NULL)
		abort();
	/* Feed in chunks: tiny, mixed or large, by the seed. */
	unsigned chunk_class = data[1] >> 6;
	for (size_t at = 0; at < slen;) {
		rng ^= rng << 13, rng ^= rng >> 17, rng ^= rng << 5;
		size_t n = chunk_class == 0   ? 1 + rng % 7
			   : chunk_class == 1 ? 1 + rng % 300
			   : chunk_class == 2 ? 1 + rng % 20000
					      : 1 + rng % 100000;
		if (n > slen - at)
			n = slen - at;
		/* The budget of every feed but the tiny ones, of which one in 16
		 * (the search for the least room was most of the run time). */
		size_t room = n >= 64 || (rng >> 24) % 16 == 0 ? room_for(p, n) : SIZE_MAX;
		size_t before = out->len;
		int r = logpfx_feed(p, (const char *)stream + at, n);
		if (r < 0)
			errors++;
		else if (r != 0)
			die("feed returned a positive value");
		if (room != SIZE_MAX && out->len - before > room)
			die("a feed wrote more than logpfx_input_for promised");
		if (logpfx_pending(p) > LOGPFX_LINE_MAX)
			die("carry above LINE_MAX");
		at += n;
	}
	size_t flush_max = logpfx_flush_max(p), before = out->len;
	if (logpfx_flush(p) < 0)
		errors++;
	if (out->len - before > flush_max)
		die("the flush wrote more than logpfx_flush_max");
	if (logpfx_pending(p) != 0)
		die("flush left bytes pending");
	if (logpfx_flush(p) != 0)
		die("second flush");

	npieces = ref_pieces(stream, slen, json);
	if (out->fail_after >= 0 && out->calls > out->fail_after) {
		/* The output died: reported exactly once, nothing after it.
		 * A short write before the failure may end mid-line. */
		if (errors != 1 || logpfx_output_error(p) != -EPIPE)
			die("EPIPE not reported exactly once");
		while (out->len > 0 && out->buf[out->len - 1] != '\n')
			out->len--;
	} else if (errors != 0 || logpfx_output_error(p) != 0) {
		die("error without a failing output");
	}
	if (json)
		check_json(stream, npieces);
	else
		check_plain(&o, stream, npieces);
	logpfx_free(p);
	return 0;
}

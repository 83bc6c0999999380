/* The line prefixer (SPEC §5). One fixed buffer holds the carried partial
 * line followed by the read area; a read lands right after the carry, every
 * complete line is emitted, everything is written with as few writev calls
 * as possible, and the remainder moves to the front. Nothing grows with the
 * input: the carry never exceeds LOGPFX_LINE_MAX because a longer line is
 * cut.
 *
 * Plain output is a batch of iovecs: a short line (< LOGPFX_COPY_MAX) is
 * copied with its prefix into obuf, consecutive copies sharing one iovec; a
 * longer one goes out by reference as an iovec pair (prefix, line in buf).
 * Copying short lines measured faster than an iovec pair per line: the
 * kernel's per-iovec cost exceeds a 90-byte memcpy. Newlines are found 64
 * bytes at a time (SSE2 masks), not with a memchr call per line. JSON is
 * escaped into jout, which always has room for a worst-case piece.
 *
 * Choices where the SPEC is silent:
 * - An empty line is "name | " (the prefix is the same for every line).
 * - A line of exactly LOGPFX_LINE_MAX bytes is one piece; only LINE_MAX + 1
 *   bytes without a newline make a cut, so a cut is never followed by an
 *   empty piece.
 * - Plain pieces are exactly LOGPFX_LINE_MAX bytes (bytes pass through, so
 *   the pieces concatenate to the line). JSON pieces end before a UTF-8
 *   sequence that the cut would split (up to 3 bytes shorter), so a valid
 *   character is never turned into two U+FFFD.
 * - "\r" is kept: plain passes it through, JSON escapes it as "\r".
 * - With timestamps, every line of one read (one batch) gets the same time.
 * - After an output error (EPIPE: jobshim's stdout was closed) the output is
 *   dead: input is still consumed and discarded, so the job never blocks on
 *   a full pipe; the error is returned once. */
#include "logpfx.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "log.h"
#include "xio.h"

#define LOGPFX_READ_MAX (64 * 1024)
#define LOGPFX_BUF_CAP	(LOGPFX_LINE_MAX + LOGPFX_READ_MAX)
#define LOGPFX_IOV_MAX	IOV_MAX
#define LOGPFX_TS_MAX	40
/* Plain: lines shorter than this are copied (see emit_copy), longer ones
 * go out from buf by reference. */
#define LOGPFX_COPY_MAX 512
#define LOGPFX_OBUF_CAP (64 * 1024)
/* Bounds on the prefix's parts, so that its size is known up front. */
#define LOGPFX_NAME_MAX	 255
#define LOGPFX_COLOR_MAX 32
#define LOGPFX_PAD_MAX	 255
/* JSON: one escaped piece is at most 6 bytes per input byte ("\u0000"). */
#define JSON_ESC_MAX(n) (6 * (n) + 1)
#define JSON_PARTIAL	"\",\"partial\":true}\n"
#define JSON_END	"\"}\n"

static const char sgr_reset[] = "\x1b[0m";

struct logpfx {
	struct logpfx_opts o;
	char *buf;   /* LOGPFX_BUF_CAP: carried partial line, then the read area */
	size_t len;  /* bytes at the front of buf not emitted yet */
	char *fixed; /* the prefix's part that never changes */
	size_t fixed_len;
	char *head; /* what goes before each line: time (if any) + fixed */
	size_t head_len;
	char *jout; /* JSON: objects waiting to be written */
	size_t jlen, jcap;
	int out_err;   /* -errno of the output once it failed; then it is dead */
	bool err_told; /* out_err was returned to the caller */
	char *obuf;    /* plain: short lines copied with their prefix */
	size_t olen;
	bool obuf_open; /* the last iovec ends at obuf + olen: extend it */
	int iovcnt;
	size_t iov_bytes; /* what the batched iovecs add up to */
	struct iovec iov[LOGPFX_IOV_MAX];
};

static size_t append(char *dst, size_t at, const char *src, size_t len)
{
	memcpy(dst + at, src, len);
	return at + len;
}

/* Plain: [color]name<pad> |[reset] ; JSON: ","job":"..","stream":"..","message":" */
static int build_fixed(struct logpfx *p)
{
	const struct logpfx_opts *o = &p->o;
	size_t name_len = strlen(o->job), color_len = o->color ? strlen(o->color) : 0;
	size_t cap, n = 0;

	if (name_len > LOGPFX_NAME_MAX || color_len > LOGPFX_COLOR_MAX ||
	    o->pad_to > LOGPFX_PAD_MAX || strlen(o->stream) > LOGPFX_NAME_MAX)
		return -EINVAL;
	cap = LOGPFX_COLOR_MAX + LOGPFX_NAME_MAX + LOGPFX_PAD_MAX + sizeof(sgr_reset) + 8 +
	      2 * JSON_ESC_MAX(LOGPFX_NAME_MAX) + 64;
	p->fixed = malloc(cap);
	p->head = malloc(cap + LOGPFX_TS_MAX + 16);
	if (p->fixed == NULL || p->head == NULL)
		return -ENOMEM;
	if (o->format == LOG_JSON) {
		n = append(p->fixed, n, "\",\"job\":\"", 9);
		n += json_escape(p->fixed + n, cap - n, o->job, name_len);
		n = append(p->fixed, n, "\",\"stream\":\"", 12);
		n += json_escape(p->fixed + n, cap - n, o->stream, strlen(o->stream));
		n = append(p->fixed, n, "\",\"message\":\"", 13);
	} else {
		if (color_len > 0)
			n = append(p->fixed, n, o->color, color_len);
		n = append(p->fixed, n, o->job, name_len);
		for (size_t i = name_len; i < o->pad_to; i++)
			p->fixed[n++] = ' ';
		n = append(p->fixed, n, " |", 2);
		if (color_len > 0)
			n = append(p->fixed, n, sgr_reset, sizeof(sgr_reset) - 1);
		p->fixed[n++] = ' ';
	}
	p->fixed_len = n;
	memcpy(p->head, p->fixed, n);
	p->head_len = n;
	return 0;
}

/* Puts the current time in front of the fixed part; once per batch. */
static void stamp(struct logpfx *p)
{
	char ts[LOGPFX_TS_MAX];
	struct timespec t;
	size_t n = 0, tl;

	if (p->o.format != LOG_JSON && !p->o.timestamps)
		return;
	if (p->o.now != NULL)
		p->o.now(&t);
	else
		clock_gettime(CLOCK_REALTIME, &t);
	tl = log_format_time(ts, sizeof(ts), &t);
	if (tl >= sizeof(ts))
		tl = sizeof(ts) - 1;
	if (p->o.format == LOG_JSON) {
		n = append(p->head, n, "{\"time\":\"", 9);
		n = append(p->head, n, ts, tl);
	} else {
		n = append(p->head, n, ts, tl);
		p->head[n++] = ' ';
	}
	n = append(p->head, n, p->fixed, p->fixed_len);
	p->head_len = n;
}

static void set_error(struct logpfx *p, int err)
{
	if (err < 0 && p->out_err == 0)
		p->out_err = err;
}

/* The test sink behaves like writev(2): bytes written, or -1 and errno. */
static int sink_writev_all(struct logpfx *p, struct iovec *iov, int cnt)
{
	while (cnt > 0) {
		ssize_t n = p->o.sink(p->o.sink_ctx, iov, cnt);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno > 0 ? -errno : -EIO;
		}
		if (n == 0)
			return -EIO; /* would loop forever */
		iov_advance(&iov, &cnt, (size_t)n);
	}
	return 0;
}

/* The fast path is one writev(2) that takes everything; xwritev_all, which
 * walks the iovecs to complete short writes and handles EAGAIN, EINTR and
 * EPIPE's SIGPIPE, only sees what is left after a short or failed write. */
static void write_iov(struct logpfx *p, struct iovec *iov, int cnt, size_t total)
{
	ssize_t n;
	int r;

	if (p->out_err != 0 || cnt == 0)
		return;
	if (p->o.sink != NULL) {
		set_error(p, sink_writev_all(p, iov, cnt));
		return;
	}
	n = writev(p->o.out_fd, iov, cnt);
	if (n >= 0 && (size_t)n == total)
		return;
	if (n < 0)
		n = 0; /* xwritev_all retries and sees the errno again */
	iov_advance(&iov, &cnt, (size_t)n);
	r = cnt > 0 ? xwritev_all(p->o.out_fd, iov, cnt) : 0;
	set_error(p, r);
}

/* Writes everything batched so far. Plain iovecs point into buf, so this
 * must run before buf's remainder moves. */
static void flush_out(struct logpfx *p)
{
	if (p->o.format == LOG_JSON) {
		struct iovec one = {.iov_base = p->jout, .iov_len = p->jlen};
		if (p->jlen > 0)
			write_iov(p, &one, 1, p->jlen);
		p->jlen = 0;
	} else {
		write_iov(p, p->iov, p->iovcnt, p->iov_bytes);
		p->iovcnt = 0;
		p->iov_bytes = 0;
		p->olen = 0;
		p->obuf_open = false;
	}
}

/* A short line is copied with its prefix into obuf, consecutive ones
 * sharing one iovec (see the top of the file; scan_plain is the inline
 * version of this for the hot loop). */
static void emit_copy(struct logpfx *p, const char *s, size_t n)
{
	size_t need = p->head_len + n + 1;
	char *o;

	if (p->olen + need > LOGPFX_OBUF_CAP || p->iovcnt + 1 > LOGPFX_IOV_MAX)
		flush_out(p);
	o = p->obuf + p->olen;
	memcpy(o, p->head, p->head_len);
	memcpy(o + p->head_len, s, n);
	o[p->head_len + n] = '\n';
	if (p->obuf_open)
		p->iov[p->iovcnt - 1].iov_len += need;
	else
		p->iov[p->iovcnt++] = (struct iovec){.iov_base = o, .iov_len = need};
	p->obuf_open = true;
	p->olen += need;
	p->iov_bytes += need;
}

/* Length of the run at s[0..n) of printable ASCII that JSON keeps as is
 * (0x20..0x7e but '"' and '\\'). */
static size_t plain_ascii_run(const char *s, size_t n)
{
	size_t i = 0;

#ifdef __SSE2__
	const __m128i lo = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7f);
	const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
	for (; i + 16 <= n; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		/* Signed: bytes >= 0x80 are negative, so "< 0x20" catches them too. */
		__m128i bad =
		    _mm_or_si128(_mm_or_si128(_mm_cmplt_epi8(v, lo), _mm_cmpeq_epi8(v, del)),
				 _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)));
		unsigned m = (unsigned)_mm_movemask_epi8(bad);
		if (m != 0)
			return i + (size_t)__builtin_ctz(m);
	}
#endif
	for (; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			break;
	}
	return i;
}

/* json_escape, faster for mostly-ASCII text: runs of printable ASCII are
 * copied; json_escape gets the rest in slices cut at ASCII bytes, which a
 * UTF-8 sequence never contains, so its result is the same as for the
 * whole. dst has room for the worst case (JSON_ESC_MAX). */
static size_t escape_message(char *dst, size_t cap, const char *s, size_t n)
{
	size_t out = 0, i = 0;

	while (i < n) {
		size_t run = plain_ascii_run(s + i, n - i);
		memcpy(dst + out, s + i, run);
		out += run;
		i += run;
		if (i == n)
			break;
		size_t j = i + 1;
		if ((unsigned char)s[i] >= 0x80)
			while (j < n && (unsigned char)s[j] >= 0x80)
				j++;
		out += json_escape(dst + out, cap - out, s + i, j - i);
		i = j;
	}
	return out;
}

/* One output line: s[0..n) is the content; has_nl when s[n] is the line's
 * own newline (plain then writes it from buf); partial for a cut piece that
 * is not the line's last. */
static void emit(struct logpfx *p, const char *s, size_t n, bool has_nl, bool partial)
{
	if (p->o.format == LOG_JSON) {
		size_t worst = p->head_len + JSON_ESC_MAX(n) + sizeof(JSON_PARTIAL);
		if (p->jcap - p->jlen < worst)
			flush_out(p);
		p->jlen = append(p->jout, p->jlen, p->head, p->head_len);
		p->jlen += escape_message(p->jout + p->jlen, p->jcap - p->jlen, s, n);
		if (partial)
			p->jlen = append(p->jout, p->jlen, JSON_PARTIAL, sizeof(JSON_PARTIAL) - 1);
		else
			p->jlen = append(p->jout, p->jlen, JSON_END, sizeof(JSON_END) - 1);
		return;
	}
	if (n < LOGPFX_COPY_MAX) {
		emit_copy(p, s, n);
		return;
	}
	if (p->iovcnt + 3 > LOGPFX_IOV_MAX)
		flush_out(p);
	p->obuf_open = false;
	p->iov[p->iovcnt++] = (struct iovec){.iov_base = p->head, .iov_len = p->head_len};
	if (has_nl) {
		p->iov[p->iovcnt++] = (struct iovec){.iov_base = (char *)s, .iov_len = n + 1};
	} else {
		p->iov[p->iovcnt++] = (struct iovec){.iov_base = (char *)s, .iov_len = n};
		p->iov[p->iovcnt++] = (struct iovec){.iov_base = (char *)"\n", .iov_len = 1};
	}
	p->iov_bytes += p->head_len + n + 1;
}

/* Length of the piece to cut from s (which holds more than LINE_MAX bytes
 * without a newline). JSON backs off before a UTF-8 lead byte whose
 * sequence the cut would split. */
static size_t piece_len(const struct logpfx *p, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t cut = LOGPFX_LINE_MAX;

	if (p->o.format != LOG_JSON)
		return cut;
	for (size_t i = cut - 1; i >= cut - 3; i--) {
		unsigned char c = u[i];
		size_t need;
		if ((c & 0xc0) == 0x80)
			continue; /* continuation byte: look further back */
		if (c >= 0xc2 && c <= 0xdf)
			need = 2;
		else if (c >= 0xe0 && c <= 0xef)
			need = 3;
		else if (c >= 0xf0 && c <= 0xf4)
			need = 4;
		else
			break;
		if (i + need > cut)
			return i;
		break;
	}
	return cut;
}

/* Cuts full pieces off the line at *start while more than LINE_MAX of its
 * bytes (up to stop, exclusive) remain: a line of exactly LINE_MAX bytes is
 * one piece, never a piece and an empty one. */
static void cut_pieces(struct logpfx *p, const char **start, const char *stop)
{
	while ((size_t)(stop - *start) > LOGPFX_LINE_MAX && p->out_err == 0) {
		size_t n = piece_len(p, *start);
		emit(p, *start, n, false, true);
		*start += n;
	}
}

/* The line ending at nl (its newline), cut first when it is too long. */
static void line_end(struct logpfx *p, const char **start, const char *nl)
{
	if ((size_t)(nl - *start) > LOGPFX_LINE_MAX)
		cut_pieces(p, start, nl);
	emit(p, *start, (size_t)(nl - *start), true, false);
	*start = nl + 1;
}

#ifdef __SSE2__
/* Bit i set when s[i] is a newline, for 64 bytes. One mask per 64 bytes
 * instead of a memchr call per line: for short lines the call overhead was
 * the prefixer's largest cost after the system calls. */
static inline uint64_t newline_mask(const char *s)
{
	const __m128i nl = _mm_set1_epi8('\n');
	uint64_t m0 = (uint16_t)_mm_movemask_epi8(
	    _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)s), nl));
	uint64_t m1 = (uint16_t)_mm_movemask_epi8(
	    _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)(s + 16)), nl));
	uint64_t m2 = (uint16_t)_mm_movemask_epi8(
	    _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)(s + 32)), nl));
	uint64_t m3 = (uint16_t)_mm_movemask_epi8(
	    _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)(s + 48)), nl));
	return m0 | m1 << 16 | m2 << 32 | m3 << 48;
}

/* Adds obuf[run..o) to the batch. */
static void commit_run(struct logpfx *p, char *run, char *o)
{
	size_t len = (size_t)(o - run);

	if (len == 0)
		return;
	if (p->obuf_open)
		p->iov[p->iovcnt - 1].iov_len += len;
	else
		p->iov[p->iovcnt++] = (struct iovec){.iov_base = run, .iov_len = len};
	p->obuf_open = true;
	p->olen = (size_t)(o - p->obuf);
	p->iov_bytes += len;
}

/* The plain format's hot loop, 64 bytes at a time: short lines are copied
 * with their prefix into obuf as one growing run, its state in locals (the
 * copies may alias anything, so fields of p would be reloaded after each). Anything else goes
 * through line_end. Returns where the scan stopped (fewer than 64 bytes before end). */
static const char *scan_plain(struct logpfx *p, const char **startp, const char *scan,
			      const char *end)
{
	const char *start = *startp, *const head = p->head;
	const size_t hl = p->head_len;
	char *const oend = p->obuf + LOGPFX_OBUF_CAP;
	char *run = NULL, *o = NULL;

	for (; end - scan >= 64 && p->out_err == 0; scan += 64) {
		uint64_t m = newline_mask(scan);
		while (m != 0) {
			const char *nl = scan + __builtin_ctzll(m);
			size_t n = (size_t)(nl - start) + 1;
			m &= m - 1;
			if (run == NULL) {
				if (!p->obuf_open && p->iovcnt >= LOGPFX_IOV_MAX)
					flush_out(p);
				run = o = p->obuf + p->olen;
			}
			if (n <= LOGPFX_COPY_MAX && (size_t)(oend - o) >= hl + n) {
				memcpy(o, head, hl);
				memcpy(o + hl, start, n);
				o += hl + n;
				start = nl + 1;
			} else {
				const char *s = start;
				commit_run(p, run, o);
				run = NULL;
				line_end(p, &s, nl);
				start = s;
			}
		}
	}
	if (run != NULL)
		commit_run(p, run, o);
	*startp = start;
	return scan;
}
#endif

/* Emits every complete line and every full piece in buf[0..len), writes
 * them, and keeps the rest (at most LINE_MAX bytes) at the front. The
 * carried bytes were scanned already, so the scan starts at `scanned`. */
static void process(struct logpfx *p, size_t scanned)
{
	const char *start = p->buf, *end = p->buf + p->len, *scan = p->buf + scanned;

	if (p->out_err != 0) {
		p->len = 0;
		return;
	}
	stamp(p);
#ifdef __SSE2__
	if (p->obuf != NULL)
		scan = scan_plain(p, &start, scan, end);
#endif
	while (p->out_err == 0) {
		const char *nl = memchr(scan, '\n', (size_t)(end - scan));
		if (nl == NULL)
			break;
		line_end(p, &start, nl);
		scan = nl + 1;
	}
	cut_pieces(p, &start, end);
	flush_out(p);
	if (p->out_err != 0) {
		p->len = 0;
		return;
	}
	p->len = (size_t)(end - start);
	if (p->len > 0 && start != p->buf)
		memmove(p->buf, start, p->len);
}

/* The output's error, once. */
static int take_error(struct logpfx *p)
{
	if (p->out_err == 0 || p->err_told)
		return 0;
	p->err_told = true;
	return p->out_err;
}

struct logpfx *logpfx_new(const struct logpfx_opts *o)
{
	struct logpfx *p;
	int r = -EINVAL;

	if (o == NULL || o->job == NULL) {
		errno = EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->o = *o;
	if (p->o.stream == NULL)
		p->o.stream = o->out_fd == 2 ? "stderr" : "stdout";
	r = build_fixed(p);
	if (r < 0)
		goto fail;
	r = -ENOMEM;
	p->buf = malloc(LOGPFX_BUF_CAP);
	if (p->buf == NULL)
		goto fail;
	if (p->o.format == LOG_JSON) {
		/* Room for a read's worth of short lines, and always for one
		 * whole worst-case piece. */
		p->jcap = LOGPFX_READ_MAX + p->head_len + LOGPFX_TS_MAX +
			  JSON_ESC_MAX(LOGPFX_LINE_MAX) + sizeof(JSON_PARTIAL) + 16;
		p->jout = malloc(p->jcap);
		if (p->jout == NULL)
			goto fail;
	} else {
		p->obuf = malloc(LOGPFX_OBUF_CAP);
		if (p->obuf == NULL)
			goto fail;
	}
	return p;
fail:
	logpfx_free(p);
	errno = -r;
	return NULL;
}

void logpfx_free(struct logpfx *p)
{
	if (p == NULL)
		return;
	free(p->buf);
	free(p->fixed);
	free(p->head);
	free(p->jout);
	free(p->obuf);
	free(p);
}

int logpfx_feed(struct logpfx *p, const char *buf, size_t len)
{
	while (len > 0) {
		size_t n = LOGPFX_BUF_CAP - p->len;
		if (n > len)
			n = len;
		if (p->out_err == 0) {
			size_t carried = p->len;
			memcpy(p->buf + p->len, buf, n);
			p->len += n;
			process(p, carried);
		}
		buf += n;
		len -= n;
	}
	return take_error(p);
}

/* Worst case bytes out per line (prefix, time, JSON framing) and per
 * input byte (escaping). */
static size_t line_overhead(const struct logpfx *p)
{
	return p->fixed_len + LOGPFX_TS_MAX + 16 + sizeof(JSON_PARTIAL) +
	       (p->o.format == LOG_JSON ? 9 : 0);
}

static size_t per_byte(const struct logpfx *p)
{
	return p->o.format == LOG_JSON ? 6 : 1;
}

size_t logpfx_flush_max(const struct logpfx *p)
{
	return per_byte(p) * p->len + 2 * line_overhead(p);
}

size_t logpfx_input_for(const struct logpfx *p, size_t room)
{
	/* out(n) <= e*(C+n) + (n + (C+n)/LINE_MAX + 2) * h: every new byte may
	 * end a line, every LINE_MAX bytes make a cut piece. */
	size_t h = line_overhead(p), e = per_byte(p), c = p->len;
	size_t fixed = e * c + (c / LOGPFX_LINE_MAX + 2) * h;
	size_t n;

	if (room <= fixed)
		return 0;
	n = (room - fixed) / (e + h + 1);
	if (n > LOGPFX_BUF_CAP - p->len)
		n = LOGPFX_BUF_CAP - p->len;
	return n;
}

ssize_t logpfx_read_max(struct logpfx *p, int fd, size_t max)
{
	size_t cap = LOGPFX_BUF_CAP - p->len;
	ssize_t n;
	size_t carried;
	int r;

	if (max == 0)
		return -EAGAIN;
	n = xread(fd, p->buf + p->len, max < cap ? max : cap);
	if (n <= 0)
		return n;
	carried = p->len;
	p->len += (size_t)n;
	process(p, carried);
	r = take_error(p);
	return r < 0 ? r : n;
}

ssize_t logpfx_read(struct logpfx *p, int fd)
{
	return logpfx_read_max(p, fd, LOGPFX_BUF_CAP);
}

int logpfx_flush(struct logpfx *p)
{
	if (p->out_err == 0 && p->len > 0) {
		stamp(p);
		emit(p, p->buf, p->len, false, false);
		flush_out(p);
	}
	p->len = 0;
	return take_error(p);
}

int logpfx_output_error(const struct logpfx *p)
{
	return p->out_err;
}

size_t logpfx_pending(const struct logpfx *p)
{
	return p->len;
}

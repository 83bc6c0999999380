/* logprobe: output patterns for black-box tests of jobshim's log prefixer,
 * and a strict checker of its JSON lines (a fresh CI machine may have no
 * python3).
 *
 *   logprobe lines N TAG      the probe and a child of it each write N
 *                             numbered lines to stdout ("TAG w out I",
 *                             "TAG c out I") and to stderr ("... err I").
 *                             Every write(2) holds whole lines only and at
 *                             most PIPE_BUF bytes, so the pipe itself never
 *                             tears a line: any tearing is jobshim's.
 *   logprobe huge BYTES       BYTES bytes of a pattern without a newline
 *   logprobe jsoncheck        read lines from stdin; each must be one flat
 *                             JSON object (string, true, false values) in
 *                             valid UTF-8; print for each
 *                             "job<TAB>stream<TAB>partial<TAB>message" with
 *                             the message decoded. Exit 1 at the first
 *                             invalid line, naming it.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define OUT_CAP 4096 /* PIPE_BUF on Linux: writes up to this are atomic */

struct out {
	int fd;
	size_t len;
	char buf[OUT_CAP];
};

static void out_flush(struct out *o)
{
	size_t off = 0;

	while (off < o->len) {
		ssize_t n = write(o->fd, o->buf + off, o->len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(98);
		off += (size_t)n;
	}
	o->len = 0;
}

static void out_line(struct out *o, const char *line, size_t len)
{
	if (o->len + len > sizeof(o->buf))
		out_flush(o);
	memcpy(o->buf + o->len, line, len);
	o->len += len;
}

static int lines(long n, const char *tag)
{
	static struct out out = {.fd = 1}, err = {.fd = 2};
	pid_t child = fork();
	char who = child == 0 ? 'c' : 'w';
	char line[256];
	int st;

	if (child < 0) {
		perror("fork");
		return 98;
	}
	for (long i = 1; i <= n; i++) {
		int len = snprintf(line, sizeof(line), "%s %c out %ld\n", tag, who, i);
		out_line(&out, line, (size_t)len);
		len = snprintf(line, sizeof(line), "%s %c err %ld\n", tag, who, i);
		out_line(&err, line, (size_t)len);
	}
	out_flush(&out);
	out_flush(&err);
	if (child == 0)
		_exit(0);
	while (waitpid(child, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 97;
}

static int huge(unsigned long long bytes)
{
	static char block[65536];

	/* A pattern that does not repeat at 16 KiB, so that a dropped or
	 * doubled piece shows when the pieces are joined again. */
	for (size_t i = 0; i < sizeof(block); i++)
		block[i] = (char)('a' + (i * 7 + i / 26) % 26);
	while (bytes > 0) {
		size_t n = bytes < sizeof(block) ? (size_t)bytes : sizeof(block);
		size_t off = 0;
		while (off < n) {
			ssize_t w = write(1, block + off, n - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return 98;
			off += (size_t)w;
		}
		bytes -= n;
	}
	return 0;
}

/* ------------------------------------------------------------ jsoncheck */

struct js {
	const unsigned char *p, *end;
	const char *why;
};

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, no
 * surrogates, at most U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0], need, cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		need = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		need = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		need = 4, cp = c & 0x07;
	else
		return 0;
	if ((size_t)(end - p) < need)
		return 0;
	for (unsigned i = 1; i < need; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return need;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int hex4(struct js *j, unsigned *v)
{
	*v = 0;
	if (j->end - j->p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		int h = hexval(j->p[i]);
		if (h < 0)
			return -1;
		*v = *v << 4 | (unsigned)h;
	}
	j->p += 4;
	return 0;
}

static void put_cp(char *out, size_t *len, unsigned cp)
{
	if (cp < 0x80) {
		out[(*len)++] = (char)cp;
	} else if (cp < 0x800) {
		out[(*len)++] = (char)(0xc0 | cp >> 6);
		out[(*len)++] = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		out[(*len)++] = (char)(0xe0 | cp >> 12);
		out[(*len)++] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[(*len)++] = (char)(0x80 | (cp & 0x3f));
	} else {
		out[(*len)++] = (char)(0xf0 | cp >> 18);
		out[(*len)++] = (char)(0x80 | (cp >> 12 & 0x3f));
		out[(*len)++] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[(*len)++] = (char)(0x80 | (cp & 0x3f));
	}
}

/* A string at j->p, decoded into out (which has room for the input's
 * length: decoding never grows). */
static int js_string(struct js *j, char *out, size_t *len)
{
	*len = 0;
	if (j->p >= j->end || *j->p != '"')
		return j->why = "expected a string", -1;
	j->p++;
	while (j->p < j->end && *j->p != '"') {
		unsigned c = *j->p, cp, lo;
		size_t n;

		if (c < 0x20)
			return j->why = "control byte in a string", -1;
		if (c != '\\') {
			n = utf8_len(j->p, j->end);
			if (n == 0)
				return j->why = "invalid UTF-8 in a string", -1;
			memcpy(out + *len, j->p, n);
			*len += n;
			j->p += n;
			continue;
		}
		if (++j->p >= j->end)
			return j->why = "truncated escape", -1;
		c = *j->p++;
		switch (c) {
		case '"':
		case '\\':
		case '/':
			out[(*len)++] = (char)c;
			break;
		case 'b':
			out[(*len)++] = '\b';
			break;
		case 'f':
			out[(*len)++] = '\f';
			break;
		case 'n':
			out[(*len)++] = '\n';
			break;
		case 'r':
			out[(*len)++] = '\r';
			break;
		case 't':
			out[(*len)++] = '\t';
			break;
		case 'u':
			if (hex4(j, &cp) < 0)
				return j->why = "bad \\u escape", -1;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return j->why = "lone low surrogate", -1;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u')
					return j->why = "lone high surrogate", -1;
				j->p += 2;
				if (hex4(j, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
					return j->why = "bad surrogate pair", -1;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			put_cp(out, len, cp);
			break;
		default:
			return j->why = "unknown escape", -1;
		}
	}
	if (j->p >= j->end)
		return j->why = "unterminated string", -1;
	j->p++;
	return 0;
}

static void js_ws(struct js *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t'))
		j->p++;
}

static int js_char(struct js *j, char c)
{
	js_ws(j);
	if (j->p >= j->end || *j->p != (unsigned char)c)
		return -1;
	j->p++;
	return 0;
}

static void print_field(const char *s, size_t n)
{
	fwrite(s, 1, n, stdout);
}

/* One line: prints job, stream, partial, message. */
static int check_line(const unsigned char *line, size_t len, char *key, char *val)
{
	struct js j = {line, line + len, NULL};
	char job[4096] = "", stream[64] = "", msg_partial[8] = "no";
	size_t job_len = 0, stream_len = 0, klen, vlen, msg_len = 0;
	char *msg = malloc(len + 1);
	int first = 1, have_msg = 0, have_time = 0;

	if (msg == NULL)
		return -1;
	if (js_char(&j, '{') < 0) {
		j.why = "not an object";
		goto bad;
	}
	for (;;) {
		if (js_char(&j, '}') == 0)
			break;
		if (!first && js_char(&j, ',') < 0) {
			j.why = "expected , or }";
			goto bad;
		}
		first = 0;
		js_ws(&j);
		if (js_string(&j, key, &klen) < 0)
			goto bad;
		key[klen] = '\0';
		if (js_char(&j, ':') < 0) {
			j.why = "expected :";
			goto bad;
		}
		js_ws(&j);
		if (j.end - j.p >= 4 && memcmp(j.p, "true", 4) == 0) {
			j.p += 4;
			if (strcmp(key, "partial") == 0)
				strcpy(msg_partial, "yes");
			continue;
		}
		if (j.end - j.p >= 5 && memcmp(j.p, "false", 5) == 0) {
			j.p += 5;
			continue;
		}
		if (js_string(&j, val, &vlen) < 0)
			goto bad;
		if (strcmp(key, "job") == 0 && vlen < sizeof(job)) {
			memcpy(job, val, vlen), job_len = vlen;
		} else if (strcmp(key, "stream") == 0 && vlen < sizeof(stream)) {
			memcpy(stream, val, vlen), stream_len = vlen;
		} else if (strcmp(key, "message") == 0) {
			memcpy(msg, val, vlen), msg_len = vlen, have_msg = 1;
		} else if (strcmp(key, "time") == 0) {
			have_time = 1;
		}
	}
	js_ws(&j);
	if (j.p != j.end) {
		j.why = "bytes after the object";
		goto bad;
	}
	if (!have_msg || !have_time || job_len == 0 || stream_len == 0) {
		j.why = "time, job, stream or message missing";
		goto bad;
	}
	print_field(job, job_len);
	putchar('\t');
	print_field(stream, stream_len);
	printf("\t%s\t", msg_partial);
	print_field(msg, msg_len);
	putchar('\n');
	free(msg);
	return 0;
bad:
	fprintf(stderr, "logprobe jsoncheck: %s at byte %zu of: %.*s\n", j.why,
		(size_t)(j.p - line), (int)(len > 300 ? 300 : len), (const char *)line);
	free(msg);
	return -1;
}

static int jsoncheck(void)
{
	char *line = NULL, *key = NULL, *val = NULL;
	size_t cap = 0;
	ssize_t n;
	long no = 0;
	int rc = 0;

	while ((n = getline(&line, &cap, stdin)) > 0) {
		no++;
		if (line[n - 1] != '\n') {
			fprintf(stderr, "logprobe jsoncheck: line %ld has no newline\n", no);
			rc = 1;
			break;
		}
		free(key);
		free(val);
		key = malloc((size_t)n + 1);
		val = malloc((size_t)n + 1);
		if (key == NULL || val == NULL ||
		    check_line((unsigned char *)line, (size_t)n - 1, key, val) < 0) {
			fprintf(stderr, "logprobe jsoncheck: line %ld is not valid\n", no);
			rc = 1;
			break;
		}
	}
	free(line);
	free(key);
	free(val);
	if (fflush(stdout) != 0)
		rc = 1;
	return rc;
}

static int number(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || *s == '-' || *out > max)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	unsigned long long n;

	if (strcmp(cmd, "lines") == 0 && argc == 4 && number(argv[2], LONG_MAX, &n) == 0)
		return lines((long)n, argv[3]);
	if (strcmp(cmd, "huge") == 0 && argc == 3 && number(argv[2], ULLONG_MAX, &n) == 0)
		return huge(n);
	if (strcmp(cmd, "jsoncheck") == 0)
		return jsoncheck();
	fprintf(stderr, "usage: logprobe lines N TAG | huge BYTES | jsoncheck\n");
	return 2;
}

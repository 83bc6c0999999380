/* logprobe: output patterns for black-box tests of jobshim's log prefixer
 * (its JSON lines are checked by integration/jsonq.py).
 *
 *   logprobe lines N TAG      the probe and a child of it each write N
 *                             numbered lines to stdout ("TAG w out I",
 *                             "TAG c out I") and to stderr ("... err I").
 *                             Every write(2) holds whole lines only and at
 *                             most PIPE_BUF bytes, so the pipe itself never
 *                             tears a line: any tearing is jobshim's.
 *   logprobe huge BYTES       BYTES bytes of a pattern without a newline
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
	fprintf(stderr, "usage: logprobe lines N TAG | huge BYTES\n");
	return 2;
}

/* Log generator for the prefixing benchmark: writes TOTAL bytes of LEN-byte
 * lines (newline included) to stdout from a buffer built once, so that the
 * generator costs next to nothing next to whatever reads it.
 *
 *   linegen LEN TOTAL      TOTAL is rounded down to whole lines
 *   linegen LEN TOTAL 1    the same, one write(2) a line (a worker that
 *                          logs line by line, like Sidekiq or Celery)
 *
 * Exits 0 once everything is written, 1 on a write error. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define BUF_MIN (64 * 1024) /* one default pipe's worth per write */

static int parse_u64(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || *out == 0 || *out > max || s[0] == '-')
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long long len, total;
	size_t lines_per_buf, buf_len;
	int per_line = argc == 4;
	char *buf;

	if ((argc != 3 && argc != 4) || parse_u64(argv[1], 1 << 20, &len) < 0 ||
	    parse_u64(argv[2], 1ULL << 40, &total) < 0 ||
	    (argc == 4 && (argv[3][0] != '1' || argv[3][1] != '\0'))) {
		fprintf(stderr, "usage: linegen LEN TOTAL [1]\n");
		return 2;
	}
	lines_per_buf = len >= BUF_MIN ? 1 : (BUF_MIN + len - 1) / len;
	buf_len = lines_per_buf * len;
	buf = malloc(buf_len);
	if (buf == NULL) {
		perror("linegen");
		return 1;
	}
	for (size_t i = 0; i < buf_len; i++)
		buf[i] = (i % len == len - 1) ? '\n' : (char)('a' + i % 26);
	total -= total % len;
	/* The buffer holds whole lines, so wrapping around it keeps the stream a
	 * sequence of whole lines whatever the write sizes. */
	for (size_t off = 0; total > 0;) {
		size_t want = buf_len - off;
		ssize_t n;

		if (want > total)
			want = (size_t)total;
		if (per_line && want > len)
			want = (size_t)len;
		n = write(1, buf + off, want);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("linegen: write");
			return 1;
		}
		total -= (unsigned long long)n;
		off = (off + (size_t)n) % buf_len;
	}
	free(buf);
	return 0;
}

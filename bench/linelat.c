/* Line latency through a pipe chain: how long a line waits between the
 * writer's write(2) and the reader's read(2).
 *
 *   linelat gen COUNT GAP_US    COUNT lines "T <ns> ...", one write each,
 *                               GAP_US apart; <ns> is CLOCK_MONOTONIC at write
 *   linelat read OUTFILE        reads stdin to EOF; counts the lines, and
 *                               for every line with "T <ns>" (after any
 *                               prefix) takes the delay to the read that
 *                               returned it; OUTFILE gets "lines L n N
 *                               p50_us X p99_us Y max_us Z" (N timed lines)
 *
 * Both ends on one machine: CLOCK_MONOTONIC is the same clock. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_LINES 1000000
#define LINE_LEN  80

static unsigned long long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (unsigned long long)t.tv_sec * 1000000000ULL + (unsigned long long)t.tv_nsec;
}

static int gen(long count, long gap_us)
{
	char line[LINE_LEN + 1];
	struct timespec gap = {gap_us / 1000000, (gap_us % 1000000) * 1000};

	for (long i = 0; i < count; i++) {
		int n = snprintf(line, sizeof(line), "T %llu %ld ", now_ns(), i);
		memset(line + n, 'x', LINE_LEN - 1 - (size_t)n);
		line[LINE_LEN - 1] = '\n';
		if (write(1, line, LINE_LEN) != LINE_LEN)
			return 1;
		if (gap_us > 0)
			nanosleep(&gap, NULL);
	}
	return 0;
}

static int cmp(const void *a, const void *b)
{
	unsigned long long x = *(const unsigned long long *)a, y = *(const unsigned long long *)b;
	return x < y ? -1 : x > y;
}

static int rd(const char *outfile)
{
	static char buf[1 << 16], line[1 << 16];
	static unsigned long long lat[MAX_LINES];
	size_t ll = 0, n = 0, lines = 0;
	ssize_t r;
	FILE *out;

	while ((r = read(0, buf, sizeof(buf))) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		unsigned long long t = now_ns();
		for (ssize_t i = 0; i < r; i++) {
			if (buf[i] != '\n') {
				if (ll < sizeof(line) - 1)
					line[ll++] = buf[i];
				continue;
			}
			line[ll] = '\0';
			ll = 0;
			lines++;
			const char *p = strstr(line, "T ");
			if (p && n < MAX_LINES) {
				unsigned long long w = strtoull(p + 2, NULL, 10);
				lat[n++] = t > w ? t - w : 0;
			}
		}
	}
	qsort(lat, n, sizeof(lat[0]), cmp);
	out = fopen(outfile, "w");
	if (out == NULL)
		return 1;
	if (n == 0)
		fprintf(out, "lines %zu n 0\n", lines);
	else
		fprintf(out, "lines %zu n %zu p50_us %.1f p99_us %.1f max_us %.1f\n", lines, n,
			lat[n / 2] / 1e3, lat[n * 99 / 100] / 1e3, lat[n - 1] / 1e3);
	return fclose(out) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "gen") == 0)
		return gen(atol(argv[2]), atol(argv[3]));
	if (argc == 3 && strcmp(argv[1], "read") == 0)
		return rd(argv[2]);
	fprintf(stderr, "usage: linelat gen COUNT GAP_US | linelat read OUTFILE\n");
	return 2;
}

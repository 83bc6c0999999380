/* The fast reader at the far end of a pipe: reads stdin until EOF and throws
 * the bytes away. With COUNTFILE it writes the number of bytes read there,
 * so the benchmark can check that nothing was lost.
 *
 *   drain [COUNTFILE] */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#define BUF (256 * 1024)

int main(int argc, char **argv)
{
	static char buf[BUF];
	unsigned long long total = 0;
	ssize_t n;

	for (;;) {
		n = read(0, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		total += (unsigned long long)n;
	}
	if (n < 0) {
		perror("drain: read");
		return 1;
	}
	if (argc > 1) {
		FILE *f = fopen(argv[1], "w");
		if (f == NULL || fprintf(f, "%llu\n", total) < 0 || fclose(f) != 0) {
			perror(argv[1]);
			return 1;
		}
	}
	return 0;
}

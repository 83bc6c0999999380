/* One instance of a crash-looping worker for the restart latency: appends
 * "s <ns>" when it starts and "e <ns>" just before it exits 1
 * (CLOCK_MONOTONIC), one write(2) each on an O_APPEND file. The next
 * instance's "s" minus this one's "e" is exit -> next exec.
 *
 *   stamp FILE */
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static int put(int fd, char what)
{
	struct timespec t;
	char line[64];

	clock_gettime(CLOCK_MONOTONIC, &t);
	int n =
	    snprintf(line, sizeof(line), "%c %lld%09ld\n", what, (long long)t.tv_sec, t.tv_nsec);
	return write(fd, line, (size_t)n) == n ? 0 : -1;
}

int main(int argc, char **argv)
{
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: stamp FILE\n");
		return 2;
	}
	fd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || put(fd, 's') < 0 || put(fd, 'e') < 0)
		return 3;
	return 1;
}

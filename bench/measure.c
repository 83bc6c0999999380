/* What one process cost, read from the kernel's accounting of that process
 * alone (not its children): runs COMMAND, and when it has exited but is not
 * yet reaped (waitid WNOWAIT) reads its /proc entries.
 *
 *   measure OUTFILE COMMAND [ARG...]
 *
 * OUTFILE gets one line "cpu_ns N syscr N syscw N": on-CPU time of the
 * process (schedstat), and its read and write system calls (/proc/PID/io:
 * read, readv, pread... and write, writev, pwrite...). The exit status is
 * COMMAND's (128+N for a signal). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int read_file(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, cap - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

static unsigned long long field(const char *text, const char *key)
{
	const char *p = strstr(text, key);
	return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

int main(int argc, char **argv)
{
	char path[64], sched[256], io[1024];
	siginfo_t si;
	pid_t pid;
	int st;
	FILE *out;

	if (argc < 3) {
		fprintf(stderr, "usage: measure OUTFILE COMMAND [ARG...]\n");
		return 2;
	}
	pid = fork();
	if (pid < 0) {
		perror("measure: fork");
		return 1;
	}
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		perror("measure: exec");
		_exit(127);
	}
	while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0)
		if (errno != EINTR) {
			perror("measure: waitid");
			return 1;
		}
	snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)pid);
	if (read_file(path, sched, sizeof(sched)) < 0)
		sched[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/io", (int)pid);
	if (read_file(path, io, sizeof(io)) < 0)
		io[0] = '\0';
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 1;
	out = fopen(argv[1], "w");
	if (out == NULL) {
		perror("measure: OUTFILE");
		return 1;
	}
	fprintf(out, "cpu_ns %llu syscr %llu syscw %llu\n", strtoull(sched, NULL, 10),
		field(io, "syscr: "), field(io, "syscw: "));
	fclose(out);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

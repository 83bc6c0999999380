/* Reaping benchmark, run as the job of an init that is PID 1 of its own PID
 * namespace (with its own /proc). A middle process forks N children that
 * exit at once, so it holds N zombies; then it exits itself and the kernel
 * hands all N zombies to PID 1 in one go. This program (the init's direct
 * child) times from telling the middle process to exit until /proc lists
 * only PID 1 and itself, i.e. until the init has reaped every orphan.
 * Signals coalesce: an init that reaps one child per SIGCHLD falls behind
 * here, one that loops waitpid(-1, WNOHANG) does not.
 *
 *   orphans N        prints "reap_ms X" */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WAIT_LIMIT_S 120.0

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Processes in this PID namespace: the numeric entries of /proc. A zombie
 * stays listed until its parent reaps it. */
static long count_procs(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	long n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] >= '1' && e->d_name[0] <= '9')
			n++;
	closedir(d);
	return n;
}

/* A child that exits at once. vfork: there is no address space to copy;
 * with fork, making 10 000 of them took far longer than reaping them. The
 * child never returns from here, as vfork requires. */
__attribute__((noinline)) static pid_t zombie(void)
{
	pid_t pid = vfork();

	if (pid == 0)
		_exit(0);
	return pid;
}

static void middle(long n, int go_fd)
{
	char c;

	for (long i = 0; i < n; i++)
		if (zombie() < 0) {
			perror("orphans: vfork");
			_exit(1);
		}
	/* Keep the zombies until told; then exiting orphans them all. */
	while (read(go_fd, &c, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

int main(int argc, char **argv)
{
	struct timespec tick = {.tv_sec = 0, .tv_nsec = 200000};
	int go[2], status;
	long n, procs;
	char *end;
	double t0, t;
	pid_t mid;

	if (argc != 2) {
		fprintf(stderr, "usage: orphans N\n");
		return 2;
	}
	errno = 0;
	n = strtol(argv[1], &end, 10);
	if (errno != 0 || *end != '\0' || n < 1 || n > 100000) {
		fprintf(stderr, "orphans: bad count %s\n", argv[1]);
		return 2;
	}
	if (getpid() == 1 || pipe(go) < 0) {
		fprintf(stderr, "orphans: must run under an init, with a pipe\n");
		return 2;
	}
	mid = fork();
	if (mid < 0) {
		perror("orphans: fork");
		return 1;
	}
	if (mid == 0) {
		close(go[1]);
		middle(n, go[0]);
	}
	close(go[0]);
	/* init + this + middle + n zombies */
	t0 = now_s();
	while ((procs = count_procs()) >= 0 && procs < n + 3) {
		if (now_s() - t0 > WAIT_LIMIT_S) {
			fprintf(stderr, "orphans: only %ld processes after %.0f s\n", procs,
				WAIT_LIMIT_S);
			return 1;
		}
		nanosleep(&tick, NULL);
	}
	if (procs < 0) {
		perror("orphans: /proc");
		return 1;
	}
	t0 = now_s();
	close(go[1]);
	while (waitpid(mid, &status, 0) < 0 && errno == EINTR)
		;
	while ((procs = count_procs()) > 2) {
		t = now_s();
		if (t - t0 > WAIT_LIMIT_S) {
			fprintf(stderr, "orphans: %ld processes left after %.0f s\n", procs - 2,
				WAIT_LIMIT_S);
			return 1;
		}
		nanosleep(&tick, NULL);
	}
	printf("reap_ms %.3f\n", (now_s() - t0) * 1e3);
	return 0;
}

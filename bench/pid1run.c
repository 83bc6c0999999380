/* Runs an init as PID 1 of a new PID namespace (with its own /proc, like
 * `unshare --pid --fork --mount-proc`) and measures it from outside. The
 * init is this program's direct child, so its exit is seen at once through
 * a pidfd, with no polling.
 *
 *   pid1run [-q] -t        -- INIT [ARG...]   elapsed_s: wall time until INIT exits
 *   pid1run [-q] -m MS     -- INIT [ARG...]   hwm_kb: INIT's VmHWM after MS ms; then SIGTERM
 *   pid1run [-q] -k MS     -- INIT [ARG...]   stop_us: SIGTERM after MS ms -> INIT exited
 *
 * -m and -k first check that INIT has a child (the job is running). -q sends
 * INIT's stderr to /dev/null. Results go to stdout as "KEY VALUE" lines;
 * "status N" is INIT's wait status mapped like a shell's ($?). Needs root
 * (CAP_SYS_ADMIN) for the namespaces. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STOP_TIMEOUT_MS 20000

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
	struct timespec t = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	while (nanosleep(&t, &t) < 0 && errno == EINTR)
		;
}

/* In the child, which is PID 1 of the new namespace. */
static void child_exec(bool quiet, char **argv)
{
	sigset_t none;

	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
		perror("pid1run: mount namespace with a new /proc");
		_exit(125);
	}
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (quiet) {
		int fd = open("/dev/null", O_WRONLY);
		if (fd < 0 || dup2(fd, 2) < 0)
			_exit(125);
		close(fd);
	}
	execvp(argv[0], argv);
	perror(argv[0]);
	_exit(127);
}

/* Waits at most timeout_ms for the child behind pidfd to exit; reaps it.
 * Returns its shell-style status, or -1 on timeout. */
static int wait_exit(int pidfd, pid_t pid, int timeout_ms)
{
	struct pollfd p = {.fd = pidfd, .events = POLLIN};
	int status, r;

	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return -1;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int has_child(pid_t pid)
{
	char path[64], buf[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid, (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	return n > 0;
}

static long vm_hwm_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmHWM:", 6) == 0) {
			char *end;
			errno = 0;
			kb = strtol(line + 6, &end, 10);
			if (errno != 0 || end == line + 6)
				kb = -1;
			break;
		}
	fclose(f);
	return kb;
}

static void usage(void)
{
	fprintf(stderr, "usage: pid1run [-q] -t | -m MS | -k MS -- INIT [ARG...]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	char mode = 0;
	long ms = 0;
	bool quiet = false;
	int opt, pidfd, st;
	pid_t pid;
	double t0, t1;

	while ((opt = getopt(argc, argv, "+qtm:k:")) != -1) {
		char *end;
		switch (opt) {
		case 'q':
			quiet = true;
			break;
		case 't':
			mode = 't';
			break;
		case 'm':
		case 'k':
			mode = (char)opt;
			errno = 0;
			ms = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || ms < 0 || ms > 600000)
				usage();
			break;
		default:
			usage();
		}
	}
	if (mode == 0 || optind >= argc)
		usage();
	if (unshare(CLONE_NEWPID) < 0) {
		perror("pid1run: unshare(CLONE_NEWPID)");
		return 2;
	}
	t0 = now_s();
	pid = fork();
	if (pid < 0) {
		perror("pid1run: fork");
		return 2;
	}
	if (pid == 0)
		child_exec(quiet, argv + optind);
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		perror("pid1run: pidfd_open");
		kill(pid, SIGKILL);
		return 2;
	}
	if (mode == 't') {
		st = wait_exit(pidfd, pid, -1);
		t1 = now_s();
		printf("elapsed_s %.6f\nstatus %d\n", t1 - t0, st);
		return 0;
	}
	sleep_ms(ms);
	if (!has_child(pid)) {
		fprintf(stderr, "pid1run: %s has no child after %ld ms\n", argv[optind], ms);
		kill(pid, SIGKILL);
		wait_exit(pidfd, pid, -1);
		return 1;
	}
	if (mode == 'm') {
		long kb = vm_hwm_kb(pid);
		if (kb < 0) {
			fprintf(stderr, "pid1run: no VmHWM for %d\n", (int)pid);
			kill(pid, SIGKILL);
			wait_exit(pidfd, pid, -1);
			return 1;
		}
		printf("hwm_kb %ld\n", kb);
	}
	t0 = now_s();
	kill(pid, SIGTERM);
	st = wait_exit(pidfd, pid, STOP_TIMEOUT_MS);
	t1 = now_s();
	if (st < 0) {
		fprintf(stderr, "pid1run: %s did not exit within %d ms of SIGTERM\n", argv[optind],
			STOP_TIMEOUT_MS);
		kill(pid, SIGKILL);
		wait_exit(pidfd, pid, -1);
		return 1;
	}
	if (mode == 'k')
		printf("stop_us %.1f\n", (t1 - t0) * 1e6);
	printf("status %d\n", st);
	return 0;
}

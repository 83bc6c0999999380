/* vm-pod CGROUP CMD...: runs CMD as PID 1 of a Kubernetes pod sees the
 * machine, for the VM suite: PID 1 of a new PID namespace, alone in the
 * host's cgroup CGROUP (a non-root cgroup, e.g. /sys/fs/cgroup/pod1), at the
 * root of its own cgroup namespace, with cgroup2 and /proc mounted afresh
 * in its own mount namespace. This process stays outside (in its cgroup),
 * forwards TERM, INT, QUIT and HUP to CMD, and exits with CMD's status
 * (128+N for a signal), like `unshare -f`. busybox's unshare has no -C.
 *
 * Built static by mk/vm.mk; installed in the VM's initramfs. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t child;

static void forward(int sig)
{
	if (child > 0)
		kill(child, sig);
}

static void die(const char *what)
{
	fprintf(stderr, "vm-pod: %s: %s\n", what, strerror(errno));
	_exit(125);
}

static void enter(const char *cgroup, char **argv)
{
	char path[4096];
	int fd;

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		die("make / private");
	if (mount("proc", "/proc", "proc", 0, NULL) < 0)
		die("mount /proc");
	snprintf(path, sizeof(path), "%s/cgroup.procs", cgroup);
	if ((fd = open(path, O_WRONLY)) < 0 || write(fd, "0", 1) != 1 || close(fd) < 0)
		die(path);
	if (unshare(CLONE_NEWCGROUP) < 0)
		die("unshare(CLONE_NEWCGROUP)");
	/* Mounting over the host's view fails with EBUSY: replace it. */
	if (umount2("/sys/fs/cgroup", MNT_DETACH) < 0)
		die("umount /sys/fs/cgroup");
	if (mount("cgroup2", "/sys/fs/cgroup", "cgroup2", 0, NULL) < 0)
		die("mount cgroup2");
	execvp(argv[0], argv);
	die(argv[0]);
}

int main(int argc, char **argv)
{
	static const int sigs[] = {SIGTERM, SIGINT, SIGQUIT, SIGHUP};
	struct sigaction sa;
	int status;

	if (argc < 3) {
		fprintf(stderr, "usage: vm-pod CGROUP CMD [ARG...]\n");
		return 2;
	}
	if (unshare(CLONE_NEWPID | CLONE_NEWNS) < 0)
		die("unshare(CLONE_NEWPID|CLONE_NEWNS)");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = forward;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	child = fork();
	if (child < 0)
		die("fork");
	if (child == 0)
		enter(argv[1], argv + 2);
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

#include "spawn.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

/* The child's half. No stdio, no return: every failure is _exit with the
 * documented status after one write(2) naming the step. */
static void __attribute__((noreturn)) child(const struct spawn_req *r)
{
	const char *step = NULL;
	sigset_t empty;
	int err;

	/* Own process group, so that signals reach the whole job and a
	 * restart can kill what it left behind. */
	setpgid(0, 0);
	/* SIGTTOU is still blocked here (inherited mask), so a background
	 * process may take the terminal. */
	if (r->take_terminal)
		(void)tcsetpgrp(STDIN_FILENO, getpid());

	if (r->sandbox != NULL && (err = sandbox_child_limits(r->sandbox, &step)) < 0)
		goto setup_failed;

	/* jobshim itself may have left the directory it was started in. */
	step = "working directory";
	if (r->cwd_fd >= 0 && fchdir(r->cwd_fd) < 0) {
		err = -errno;
		goto setup_failed;
	}

	/* jobshim's own fds are all O_CLOEXEC; only the job's stdio is set.
	 * Inherited fds 3.. pass through unchanged. */
	step = "stdio";
	if ((r->stdin_fd >= 0 && dup2(r->stdin_fd, STDIN_FILENO) < 0) ||
	    (r->stdout_fd >= 0 && dup2(r->stdout_fd, STDOUT_FILENO) < 0) ||
	    (r->stderr_fd >= 0 && dup2(r->stderr_fd, STDERR_FILENO) < 0)) {
		err = -errno;
		goto setup_failed;
	}

	/* jobshim never installs handlers, so the dispositions are those it
	 * inherited; the mask it blocked for its signalfd is cleared (or, as
	 * tini does, set back to the one jobshim was started with). */
	sigemptyset(&empty);
	sigprocmask(SIG_SETMASK, r->child_mask != NULL ? r->child_mask : &empty, NULL);

	if (r->sandbox != NULL && (err = sandbox_child_lockdown(r->sandbox, &step)) < 0)
		goto setup_failed;

	if (r->path_search)
		execvpe(r->argv[0], r->argv, r->envp);
	else
		execve(r->argv[0], r->argv, r->envp);
	err = errno;
	log_child_error("exec", r->argv[0], err);
	_exit(err == ENOENT || err == ENOTDIR ? EXIT_NOT_FOUND : EXIT_NOT_EXECUTABLE);

setup_failed:
	log_child_error("setup failed at step", step, -err);
	_exit(EXIT_SETUP_FAILED);
}

pid_t spawn_job(const struct spawn_req *r)
{
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0)
		child(r);
	/* Also from the parent: signals may be forwarded to the group before
	 * the child ran. EACCES: it already exec'd, and did it itself. */
	(void)setpgid(pid, pid);
	return pid;
}

#include "spawn.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHILD_STACK  (64 * 1024) /* the child's frames are small and bounded */
#define GUARD	     4096
#define DEFAULT_PATH "/usr/local/bin:/bin:/usr/bin"

/* Prepared in the parent; the child reads it and writes only *res. */
struct child_ctx {
	const struct spawn_req *r;
	char *stack_top;		    /* the children's stack, mapped at the first spawn */
	const char *path;		    /* the job's PATH, for path_search */
	char file[PATH_MAX + NAME_MAX + 2]; /* a PATH candidate */
	struct spawn_result *res;
};

/* execvp's search, without its allocation or getenv: each PATH entry in
 * turn; EACCES is remembered, a missing entry skipped, any other error
 * final. Returns the errno to report. */
static int exec_search(struct child_ctx *c)
{
	const char *name = c->r->argv[0], *p = c->path;
	size_t nlen = strlen(name);
	bool eacces = false;

	if (nlen == 0)
		return ENOENT; /* as execvp: "" names no file, not each PATH entry */
	if (nlen > NAME_MAX)
		return ENAMETOOLONG;
	for (;;) {
		const char *z = strchrnul(p, ':');
		size_t dlen = (size_t)(z - p);
		if (dlen + 1 + nlen + 1 <= sizeof(c->file)) {
			memcpy(c->file, p, dlen);
			if (dlen)
				c->file[dlen++] = '/';
			memcpy(c->file + dlen, name, nlen + 1);
			syscall(SYS_execve, c->file, c->r->argv, c->r->envp);
			switch (errno) {
			case EACCES:
				eacces = true;
				break;
			case ENOENT:
			case ENOTDIR:
			case ESTALE:
			case ENODEV:
			case ETIMEDOUT:
			case ENAMETOOLONG:
				break;
			default:
				return errno;
			}
		}
		if (*z == '\0')
			return eacces ? EACCES : ENOENT;
		p = z + 1;
	}
}

/* The child's half, on its own stack in jobshim's memory until execve: only
 * system calls, each checked, no stdio, no allocation. A failure is written
 * to c->res (which jobshim reads when the child is gone) and ends the child
 * with the documented status. */
static int child(void *arg)
{
	struct child_ctx *c = arg;
	const struct spawn_req *r = c->r;
	const char *step;
	int err = 0;

	/* Own process group, so that signals reach the whole job and a
	 * restart can kill what it left behind. */
	step = "process group";
	if (syscall(SYS_setpgid, 0L, 0L) < 0)
		goto failed_errno;
	/* SIGTTOU is still blocked here (inherited mask), so a background
	 * process may take the terminal. */
	if (r->take_terminal) {
		pid_t self = (pid_t)syscall(SYS_getpid);
		step = "terminal";
		if (syscall(SYS_ioctl, (long)STDIN_FILENO, (long)TIOCSPGRP, &self) < 0)
			goto failed_errno;
	}
	if (r->sandbox != NULL && (err = sandbox_child_limits(r->sandbox, &step)) < 0)
		goto failed;

	/* jobshim itself may have left the directory it was started in. */
	step = "working directory";
	if (r->cwd_fd >= 0 && syscall(SYS_fchdir, (long)r->cwd_fd) < 0)
		goto failed_errno;

	/* jobshim's own fds are all O_CLOEXEC; only the job's stdio is set.
	 * Inherited fds 3.. pass through unchanged. */
	step = "stdio";
	if ((r->stdin_fd >= 0 && syscall(SYS_dup2, (long)r->stdin_fd, (long)STDIN_FILENO) < 0) ||
	    (r->stdout_fd >= 0 && syscall(SYS_dup2, (long)r->stdout_fd, (long)STDOUT_FILENO) < 0) ||
	    (r->stderr_fd >= 0 && syscall(SYS_dup2, (long)r->stderr_fd, (long)STDERR_FILENO) < 0))
		goto failed_errno;

	/* jobshim installs no signal handler, so the dispositions are those it
	 * inherited (default or ignored: no handler can run in this shared
	 * memory); the mask it blocked for its signalfd is cleared (or, as
	 * tini does, set back to the one jobshim was started with: the
	 * kernel's mask is the first 64 bits of a sigset_t). */
	step = "signal mask";
	uint64_t empty = 0;
	const void *mask = r->child_mask != NULL ? (const void *)r->child_mask : &empty;
	if (syscall(SYS_rt_sigprocmask, (long)SIG_SETMASK, mask, NULL, (long)sizeof(empty)) < 0)
		goto failed_errno;

	if (r->sandbox != NULL && (err = sandbox_child_lockdown(r->sandbox, &step)) < 0)
		goto failed;

	if (r->path_search && strchr(r->argv[0], '/') == NULL) {
		err = exec_search(c);
	} else {
		syscall(SYS_execve, r->argv[0], r->argv, r->envp);
		err = errno;
	}
	c->res->step = "exec";
	c->res->err = err;
	c->res->status = err == ENOENT || err == ENOTDIR ? EXIT_NOT_FOUND : EXIT_NOT_EXECUTABLE;
	c->res->fatal = err == E2BIG;
	_exit(c->res->status);

failed_errno:
	err = -errno;
failed:
	c->res->step = step;
	c->res->err = -err;
	c->res->status = EXIT_SETUP_FAILED;
	c->res->fatal = true;
	_exit(EXIT_SETUP_FAILED);
}

/* One stack for every child: with CLONE_VFORK jobshim waits until the child
 * has exec'd or exited, so no two children ever use it. A guard page below
 * it turns an overflow into the child's SIGSEGV. */
static char *child_stack_top(struct child_ctx *c)
{
	if (c->stack_top == NULL) {
		char *base = mmap(NULL, GUARD + CHILD_STACK, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
		if (base == MAP_FAILED)
			return NULL;
		if (mprotect(base, GUARD, PROT_NONE) < 0) {
			munmap(base, GUARD + CHILD_STACK);
			return NULL;
		}
		c->stack_top = base + GUARD + CHILD_STACK;
	}
	return c->stack_top;
}

static const char *job_path(char *const *envp)
{
	for (; envp && *envp; envp++)
		if (strncmp(*envp, "PATH=", 5) == 0)
			return *envp + 5;
	return DEFAULT_PATH;
}

pid_t spawn_job(const struct spawn_req *r, struct spawn_result *res)
{
	static struct child_ctx c; /* PATH_MAX bytes: off the caller's stack */
	char *stack;
	pid_t pid;

	/* Written before anything reads it: a fresh page read first would be
	 * mapped twice (the zero page, then its copy). */
	c.r = r;
	c.path = job_path(r->envp);
	c.res = res;
	memset(res, 0, sizeof(*res));
	stack = child_stack_top(&c);
	if (stack == NULL)
		return -ENOMEM;
	/* SIGCHLD: an ordinary child for waitpid and the signalfd. */
	pid = clone(child, stack, CLONE_VM | CLONE_VFORK | SIGCHLD, &c);
	if (pid < 0)
		return -errno;
	if (!res->fatal)
		return pid;
	/* The child has exited already (CLONE_VFORK): take its status here, so
	 * that nobody reads it as the job's. */
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return 0;
}

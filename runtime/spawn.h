/* Starting one instance of a job: clone(CLONE_VM|CLONE_VFORK), the child's
 * setup in SPEC §7's order, execve. */
#ifndef JOBSHIM_SPAWN_H
#define JOBSHIM_SPAWN_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "sandbox.h"

/* Exit statuses of a child that never reached its program (SPEC §1). */
#define EXIT_SETUP_FAILED   125
#define EXIT_NOT_EXECUTABLE 126
#define EXIT_NOT_FOUND	    127

/* Borrowed: argv, envp, the fds and the sandbox stay the caller's;
 * spawn_job closes none of them in jobshim. */
struct spawn_req {
	char *const *argv;
	char *const *envp;
	bool path_search;	       /* main app: argv[0] is looked up in the job's PATH */
	int stdin_fd;		       /* -1: inherit */
	int stdout_fd;		       /* -1: inherit */
	int stderr_fd;		       /* -1: inherit */
	bool take_terminal;	       /* make the job the terminal's foreground group */
	const sigset_t *child_mask;    /* the job's signal mask; NULL: empty */
	int cwd_fd;		       /* the job's working directory; -1: jobshim's */
	const struct sandbox *sandbox; /* NULL: nothing applied (tests) */
};

/* What the child reported before it exec'd or exited: it shares jobshim's
 * memory until then, so jobshim knows synchronously. A step name and an
 * errno rather than a struct err: the child may not format (err.h). */
struct spawn_result {
	const char *step; /* NULL: the program runs; else the failed step, or "exec" */
	int err;	  /* that step's errno */
	int status;	  /* the status the child exits with: 125, 126, 127 */
	bool fatal;	  /* can never succeed (a setup step, or E2BIG): child reaped */
};

/* Starts the job in its own process group (pgid = pid). The child makes
 * only system calls until execve: nothing of jobshim is copied, nothing is
 * allocated. Returns
 *   the pid: the program runs, or its execve failed (res->step "exec"):
 *            the child then exits 126 or 127 and is reaped like any exit;
 *   0:       res->fatal: a setup step failed (125), or execve said E2BIG
 *            (126): trying again cannot help; the child is already reaped;
 *   -errno:  clone itself failed (EAGAIN under a pids limit).
 * Nothing is printed: the caller says what res holds. */
pid_t spawn_job(const struct spawn_req *r, struct spawn_result *res);

#endif

/* Starting one instance of a job: fork, the child's setup in SPEC §7's
 * order, execve. */
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

struct spawn_req {
	char *const *argv;
	char *const *envp;
	bool path_search;	       /* main app: argv[0] is looked up in PATH */
	int stdin_fd;		       /* -1: inherit */
	int stdout_fd;		       /* -1: inherit */
	int stderr_fd;		       /* -1: inherit */
	bool take_terminal;	       /* make the job the terminal's foreground group */
	const sigset_t *child_mask;    /* the job's signal mask; NULL: empty */
	int cwd_fd;		       /* the job's working directory; -1: jobshim's */
	const struct sandbox *sandbox; /* NULL: nothing applied (tests) */
};

/* Forks the job into its own process group (pgid = pid). Returns the pid,
 * or -errno when fork failed. Failures after fork end the child with 125,
 * 126 or 127 and a message on its stderr. */
pid_t spawn_job(const struct spawn_req *r);

#endif

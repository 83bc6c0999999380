/* Child status and reaping (STYLE pattern 2). */
#ifndef JOBSHIM_REAP_H
#define JOBSHIM_REAP_H

#include <sys/types.h>

/* A wait status as a shell reports it: the exit code, or 128+signal. */
int status_to_code(int wstatus);

/* "exited with status 1" / "killed by signal 9 (SIGKILL)". */
void status_describe(int wstatus, char *buf, size_t cap);

/* Reaps every exited child without blocking (SIGCHLDs coalesce, so one
 * signal may stand for many exits) and calls cb for each. cb also gets the
 * children that stopped or continued (WIFSTOPPED, WIFCONTINUED), which are
 * not exits (job control). Returns the number of statuses collected. */
typedef void (*reap_fn)(void *ctx, pid_t pid, int wstatus);
int reap_all(reap_fn cb, void *ctx);

#endif

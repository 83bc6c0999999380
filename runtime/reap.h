/* Child status and reaping (STYLE pattern 2). */
#ifndef JOBSHIM_REAP_H
#define JOBSHIM_REAP_H

#include <sys/types.h>

/* A wait status as a shell reports it: the exit code, or 128+signal. */
int status_to_code(int wstatus);

/* "exited with status 1" / "killed by signal 9 (SIGKILL)". */
void status_describe(int wstatus, char *buf, size_t cap);

/* Reaps every exited child without blocking (SIGCHLDs coalesce, so one
 * signal may stand for many exits) and calls cb for each. Returns the
 * number reaped. A stopped, continued or traced child is not an exit: it
 * is never passed to cb (a child that made jobshim its tracer with
 * PTRACE_TRACEME is detached). */
typedef void (*reap_fn)(void *ctx, pid_t pid, int wstatus);
int reap_all(reap_fn cb, void *ctx);
/* reap_all, and stopped gets each child that a signal stopped (WUNTRACED;
 * job control on a terminal, SPEC §11). */
int reap_all_stops(reap_fn cb, reap_fn stopped, void *ctx);

#endif

/* Child status and reaping (STYLE pattern 2). */
#ifndef JOBSHIM_REAP_H
#define JOBSHIM_REAP_H

#include <stdbool.h>
#include <stddef.h>
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

/* ------------------------------------------------------------ leftovers */

/* One process of a PID namespace as /proc shows it. */
struct proc_link {
	pid_t pid, ppid;
};

/* The processes of procs[0..n) that descend from `root` (jobshim as PID 1):
 * their parent chain reaches root. A process whose chain ends in 0 entered
 * the namespace from outside (`docker exec`, `nsenter`: its parent is not in
 * the namespace), and so do its descendants; a chain through a pid missing
 * from procs (it changed during the scan) counts as not descending, so that
 * an outsider is never taken for ours. root itself is not included. Marks
 * mine[i]; returns how many. Pure; n at most REAP_SCAN_MAX. */
#define REAP_SCAN_MAX 4096
size_t reap_descendants(const struct proc_link *procs, size_t n, pid_t root, bool *mine);

/* As PID 1 with its own /proc (proc_is_ours): sends sig to every live
 * process that descends from jobshim (setsid daemons re-parented to it
 * included), never to one that entered from outside. Returns how many
 * were signalled (0: none left), or -errno when /proc cannot be read. */
int reap_signal_descendants(const char *proc_root, int sig);
/* True when proc_root (NULL: /proc) is the procfs of jobshim's own PID
 * namespace: /proc/self names getpid(). */
bool proc_is_ours(const char *proc_root);

#endif

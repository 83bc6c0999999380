/* The event loop (STYLE pattern 1): runs the plan's jobs, reaps, forwards
 * signals, restarts workers, prefixes their output, shuts down. */
#ifndef JOBSHIM_SUPERVISE_H
#define JOBSHIM_SUPERVISE_H

#include "options.h"
#include "plan.h"

/* Blocks the signals jobshim takes as data (all but the fault ones), before
 * any file is read: a TERM during start-up stays pending instead of being
 * lost (or, as PID 1, ignored). 0 or -errno. */
int supervise_block_signals(void);

/* Runs until the main app exits, or a stop signal ends the workers.
 * Returns the status the run ended with (the main app's exit code or
 * 128+signal, a one-shot's result, 125 when a job could not start: SPEC
 * §1), or -errno when jobshim could not set up (said through log.c):
 * -EEXIST when another jobshim holds a job's lock in the run dir. shim/
 * maps those to its own exit statuses. */
int supervise_run(const struct run_plan *plan, const struct options *o);

#endif

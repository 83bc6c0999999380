/* The event loop (STYLE pattern 1): runs the plan's jobs, reaps, forwards
 * signals, restarts workers, prefixes their output, shuts down. */
#ifndef JOBSHIM_SUPERVISE_H
#define JOBSHIM_SUPERVISE_H

#include "options.h"
#include "plan.h"

/* Exit statuses of jobshim itself (SPEC §1). */
#define EXIT_USAGE	     2
#define EXIT_ALREADY_RUNNING 75

/* Blocks the signals jobshim takes as data (all but the fault ones), before
 * any file is read: a TERM during start-up stays pending instead of being
 * lost (or, as PID 1, ignored). 0 or -errno. */
int supervise_block_signals(void);

/* Runs until the main app exits, or a stop signal ends the workers.
 * Returns jobshim's exit status. */
int supervise_run(const struct run_plan *plan, const struct options *o);

#endif

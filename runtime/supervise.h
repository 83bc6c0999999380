/* The event loop (STYLE pattern 1): runs the plan's jobs, reaps, forwards
 * signals, restarts workers, prefixes their output, shuts down. */
#ifndef JOBSHIM_SUPERVISE_H
#define JOBSHIM_SUPERVISE_H

#include "options.h"
#include "plan.h"

/* Exit statuses of jobshim itself (SPEC §1). */
#define EXIT_USAGE	     2
#define EXIT_ALREADY_RUNNING 75

/* Runs until the main app exits, or a stop signal ends the workers.
 * Returns jobshim's exit status. */
int supervise_run(const struct run_plan *plan, const struct options *o);

#endif

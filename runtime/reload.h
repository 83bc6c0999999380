/* What a reload changes (SPEC §10): the jobs of the running plan against
 * those of the configuration read again, matched by name. Pure. */
#ifndef JOBSHIM_RELOAD_H
#define JOBSHIM_RELOAD_H

#include <stddef.h>

#include "plan.h"

#define RELOAD_JOBS_MAX PLAN_JOBS_MAX

/* What differs between two definitions of a job (a bit set). */
enum job_field {
	JF_KIND = 1 << 0,
	JF_COMMAND = 1 << 1, /* the command string, or the argv that runs it */
	JF_SIZE = 1 << 2,
	JF_ENV = 1 << 3,
	JF_SANDBOX = 1 << 4, /* seccomp, caps, user, rlimits, cgroup root */
	JF_SCHEDULE = 1 << 5,
	JF_RUNS = 1 << 6, /* one-shot: retries, timeout */
};

enum job_change { JC_SAME, JC_CHANGED, JC_REMOVED };

struct plan_diff {
	enum job_change old[RELOAD_JOBS_MAX]; /* for each job of the old plan */
	unsigned fields[RELOAD_JOBS_MAX];     /* JC_CHANGED: which job_fields */
	size_t to_new[RELOAD_JOBS_MAX];	      /* JC_SAME/JC_CHANGED: its index in the new plan */
	size_t added[RELOAD_JOBS_MAX];	      /* indexes in the new plan of jobs not in the old */
	size_t n_added;
	size_t n_changed, n_removed;
};

/* Which job_fields differ between a and b (0: the same definition). */
unsigned job_plan_diff(const struct job_plan *a, const struct job_plan *b);

/* Compares every job of old and new by name. 0, or -E2BIG when a plan has
 * more than RELOAD_JOBS_MAX jobs. */
int plan_diff(const struct run_plan *old, const struct run_plan *new, struct plan_diff *d);

/* "command, size" for the fields set in f. */
void job_fields_describe(unsigned f, char *buf, size_t cap);

#endif

/* Every limit of the SPEC and of jobshim's bounded inputs, named once.
 * Code, error messages (which format the number) and tests use these
 * names; no other file repeats the numbers. */
#ifndef JOBSHIM_BOUNDS_H
#define JOBSHIM_BOUNDS_H

/* Jobs (SPEC §3). */
#define JOB_NAME_MAX  63 /* a DNS label: at most 63 characters */
#define WORKERS_MAX   3	 /* workerJobs */
#define SCHEDULED_MAX 64 /* scheduledJobs: jobshim's bound, SPEC names none */
/* Every job one configuration can define: web, workers, deploy, scheduled. */
#define PLAN_JOBS_MAX (1 + WORKERS_MAX + 1 + SCHEDULED_MAX)

/* One-shot jobs (SPEC §4). */
#define CONFIG_RETRIES_MAX    5			  /* retries 0..5 */
#define CONFIG_TIMEOUT_MIN_MS (60 * 1000ULL)	  /* timeout 1m.. */
#define CONFIG_TIMEOUT_MAX_MS (30 * 60 * 1000ULL) /* ..30m */
#define TIMEOUT_DEFAULT_MS    (5 * 60 * 1000ULL)  /* 5m */

/* .deploio.yaml as hostile input (SPEC §3): no aliases at all. */
#define CONFIG_FILE_MAX	 (1024 * 1024) /* 1 MiB: bigger files are refused */
#define CONFIG_DEPTH_MAX 32	       /* nested lists/mappings */
#define CONFIG_NODES_MAX 100000	       /* scalars + lists + mappings */

/* Log lines (SPEC §5): a longer line is cut into pieces of this size. */
#define LOGPFX_LINE_MAX (16 * 1024)

#endif

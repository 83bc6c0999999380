/* The SPEC's limits and the bounds several modules share, named once: code,
 * error messages (which format the number) and tests use these names, no
 * other file repeats the numbers. A bound only one module knows (a buffer,
 * CONTROL_REQ_MAX, SIGSPEC_MAX) is named once in that module's header. */
#ifndef JOBSHIM_BOUNDS_H
#define JOBSHIM_BOUNDS_H

/* A limit that is a plain number as a string literal, for static messages:
 * BOUND_STR(JOB_NAME_MAX) is "63". */
#define BOUND_STR(x)  BOUND_STR_(x)
#define BOUND_STR_(x) #x

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

/* config.c's messages show these in whole minutes and MiB. */
_Static_assert(CONFIG_TIMEOUT_MIN_MS % 60000 == 0 && CONFIG_TIMEOUT_MAX_MS % 60000 == 0,
	       "one-shot timeout bounds in whole minutes");
_Static_assert(CONFIG_FILE_MAX % (1024 * 1024) == 0, "the file bound in whole MiB");

/* Commands: the kernel takes at most MAX_ARG_STRLEN (32 pages) in one
 * argument of execve, and a worker's command string is one. */
#define ARG_STRLEN_MAX 131072

/* Log lines (SPEC §5): a longer line is cut into pieces of this size. */
#define LOGPFX_LINE_MAX (16 * 1024)

#endif

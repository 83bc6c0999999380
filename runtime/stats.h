/* `jobshim stats` (SPEC §8): reads the status file (status.h) and measures
 * each job's processes; shim/stats.c prints the rows. */
#ifndef JOBSHIM_STATS_H
#define JOBSHIM_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "status.h"

/* One line of `jobshim stats` output. Absent values: pid 0,
 * last_exit_code / uptime_s / cpu_millicores / memory_bytes -1. */
struct stats_row {
	char job[256]; /* escaped: \xNN for bytes outside printable ASCII */
	char kind[16];
	char size[16];
	pid_t pid;
	const char *status; /* status_label() */
	unsigned restarts;
	int last_exit_code;
	bool last_oom; /* shown as "137 (OOM)" */
	int64_t uptime_s;
	int64_t cpu_millicores;
	int64_t memory_bytes;
	/* one-shot jobs: attempts 0 for the others */
	unsigned attempt, attempts;
	int timed_out; /* LASTEXITCODE "124 (timeout)" */
	char next[48]; /* scheduled: the next time in its zone, else "" */
};

/* A row from a job's status and what was measured for it (cpu/memory -1
 * when not measured). Uptime is the current instance's, when one runs. Pure. */
void stats_row_fill(struct stats_row *r, const struct job_status *j, int64_t now_unix_ms,
		    uint64_t ready_after_ms, int64_t cpu_millicores, int64_t memory_bytes);
/* `jobshim stats`: reads the status file of the jobshim that runs in this
 * container, measures CPU (millicores, over a short sample) and memory (RSS)
 * of each job's processes from /proc, and fills rows (STATUS_JOBS_MAX of
 * them). Returns the number of rows, or -errno with the reason in err
 * ("no jobshim is running in this container (no /run/jobshim/status.json)"):
 * -ESRCH no jobshim runs (no file, or its writer is gone), -EPERM the run
 * dir is not this user's own, or what reading the file failed with. */
int stats_collect(const char *run_dir_opt, struct stats_row *rows, char *err, size_t errlen);

#endif

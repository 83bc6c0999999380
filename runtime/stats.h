/* `jobshim stats` (SPEC §8): reads the status file (status.h), measures
 * each job's processes, and prints a table or JSON. */
#ifndef JOBSHIM_STATS_H
#define JOBSHIM_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "options.h"
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
/* "45s", "2m10s", "3h4m", "2d3h"; "-" for a negative value. Returns the
 * length (snprintf-like). Pure. */
int format_duration_short(char *buf, size_t cap, int64_t seconds);
/* Binary units, rounded down: the largest of Ki, Mi, Gi, Ti that gives an
 * exact value or one of at least 10 ("87Mi", "2Gi", "1536Mi"); plain bytes
 * below 1Ki; "-" for a negative value. Returns the length. Pure. */
int format_memory(char *buf, size_t cap, int64_t bytes);
/* The table of SPEC §8 (left-aligned columns, each as wide as its widest
 * cell, two spaces apart; ATTEMPT and NEXT columns when a row is a one-shot
 * job) or {"jobs":[...]} JSON. 0 or -EIO. */
int stats_print_table(FILE *out, const struct stats_row *rows, size_t n);
int stats_print_json(FILE *out, const struct stats_row *rows, size_t n);

/* `jobshim stats`: reads the status file, measures CPU (millicores, over a
 * short sample) and memory (RSS) of each job's processes from /proc, and
 * prints the table or JSON. Returns the exit status: 0, or 1 with a clear
 * message on stderr when no jobshim runs. */
int stats_command(const char *run_dir_opt, enum output_format fmt, FILE *out);

#endif

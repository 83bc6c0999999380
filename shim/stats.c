/* `jobshim stats` rendered: the rows runtime/stats.c collects, as SPEC §8's
 * table or as JSON. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "fmt.h"
#include "jsonw.h"
#include "log.h"

enum {
	COL_JOB,
	COL_KIND,
	COL_PID,
	COL_STATUS,
	COL_RESTARTS,
	COL_LASTEXIT,
	COL_UPTIME,
	COL_CPU,
	COL_MEMORY,
	COL_SIZE,
	COL_ATTEMPT, /* with one-shot rows only */
	COL_NEXT,
	NCOLS
};
#define CELL_MAX 264

static const char *const col_header[NCOLS] = {"JOB",	  "KIND",	  "PID",     "STATUS",
					      "RESTARTS", "LASTEXITCODE", "UPTIME",  "CPU",
					      "MEMORY",	  "SIZE",	  "ATTEMPT", "NEXT"};

static void row_cells(const struct stats_row *r, char cell[NCOLS][CELL_MAX])
{
	snprintf(cell[COL_JOB], CELL_MAX, "%s", r->job);
	snprintf(cell[COL_KIND], CELL_MAX, "%s", r->kind);
	if (r->pid > 0)
		snprintf(cell[COL_PID], CELL_MAX, "%d", (int)r->pid);
	else
		snprintf(cell[COL_PID], CELL_MAX, "-");
	snprintf(cell[COL_STATUS], CELL_MAX, "%s", r->status ? r->status : "-");
	snprintf(cell[COL_RESTARTS], CELL_MAX, "%u", r->restarts);
	if (r->last_exit_code >= 0)
		snprintf(cell[COL_LASTEXIT], CELL_MAX, "%d%s", r->last_exit_code,
			 r->timed_out  ? " (timeout)"
			 : r->last_oom ? " (OOM)"
				       : "");
	else
		snprintf(cell[COL_LASTEXIT], CELL_MAX, "-");
	fmt_duration(cell[COL_UPTIME], CELL_MAX, r->uptime_s >= 0 ? r->uptime_s * 1000 : -1,
		     DURATION_UPTIME);
	if (r->cpu_millicores >= 0)
		snprintf(cell[COL_CPU], CELL_MAX, "%" PRId64 "m", r->cpu_millicores);
	else
		snprintf(cell[COL_CPU], CELL_MAX, "-");
	fmt_bytes(cell[COL_MEMORY], CELL_MAX, r->memory_bytes);
	snprintf(cell[COL_SIZE], CELL_MAX, "%s", r->size[0] ? r->size : "-");
	if (r->attempts > 0) {
		snprintf(cell[COL_RESTARTS], CELL_MAX, "-");
		snprintf(cell[COL_ATTEMPT], CELL_MAX, "%u/%u", r->attempt, r->attempts);
	} else {
		snprintf(cell[COL_ATTEMPT], CELL_MAX, "-");
	}
	snprintf(cell[COL_NEXT], CELL_MAX, "%s", r->next[0] ? r->next : "-");
}

static void print_cells(FILE *out, char cell[NCOLS][CELL_MAX], const size_t width[NCOLS], int ncols)
{
	for (int c = 0; c < ncols - 1; c++)
		fprintf(out, "%-*s", (int)width[c] + 2, cell[c]);
	fprintf(out, "%s\n", cell[ncols - 1]);
}

int stats_print_table(FILE *out, const struct stats_row *rows, size_t n)
{
	char cell[NCOLS][CELL_MAX];
	size_t width[NCOLS];
	int ncols = COL_ATTEMPT;

	for (size_t i = 0; i < n; i++)
		if (rows[i].attempts > 0)
			ncols = NCOLS;
	for (int c = 0; c < NCOLS; c++)
		width[c] = strlen(col_header[c]);
	for (size_t i = 0; i < n; i++) {
		row_cells(&rows[i], cell);
		for (int c = 0; c < NCOLS; c++)
			if (strlen(cell[c]) > width[c])
				width[c] = strlen(cell[c]);
	}
	for (int c = 0; c < NCOLS; c++)
		snprintf(cell[c], CELL_MAX, "%s", col_header[c]);
	print_cells(out, cell, width, ncols);
	for (size_t i = 0; i < n; i++) {
		row_cells(&rows[i], cell);
		print_cells(out, cell, width, ncols);
	}
	return out_flush(out);
}

/* A string member; an empty one as null when empty_null. */
static void str_member(struct jw *w, const char *key, const char *s, size_t maxlen, bool empty_null)
{
	jw_key(w, key);
	if (s == NULL || (empty_null && s[0] == '\0'))
		jw_null(w);
	else
		jw_strn(w, s, strnlen(s, maxlen));
}

static void int_member(struct jw *w, const char *key, int64_t v, bool present)
{
	jw_key(w, key);
	if (present)
		jw_int(w, v);
	else
		jw_null(w);
}

int stats_print_json(FILE *out, const struct stats_row *rows, size_t n)
{
	struct jw w;

	jw_init(&w, out);
	jw_obj_begin(&w);
	jw_key(&w, "jobs");
	jw_arr_begin(&w);
	for (size_t i = 0; i < n; i++) {
		const struct stats_row *r = &rows[i];

		jw_obj_begin(&w);
		str_member(&w, "job", r->job, sizeof(r->job), false);
		str_member(&w, "kind", r->kind, sizeof(r->kind), false);
		int_member(&w, "pid", r->pid, r->pid > 0);
		str_member(&w, "status", r->status, CELL_MAX, false);
		int_member(&w, "restarts", r->restarts, true);
		int_member(&w, "lastExitCode", r->last_exit_code, r->last_exit_code >= 0);
		if (r->last_oom) { /* a known cause of the last exit, as in the table */
			jw_key(&w, "lastExitReason");
			jw_str(&w, "OOM");
		}
		int_member(&w, "uptimeSeconds", r->uptime_s, r->uptime_s >= 0);
		int_member(&w, "cpuMillicores", r->cpu_millicores, r->cpu_millicores >= 0);
		int_member(&w, "memoryBytes", r->memory_bytes, r->memory_bytes >= 0);
		str_member(&w, "size", r->size, sizeof(r->size), true);
		if (r->attempts > 0) {
			int_member(&w, "attempt", r->attempt, true);
			int_member(&w, "attempts", r->attempts, true);
			jw_key(&w, "timedOut");
			jw_bool(&w, r->timed_out);
			str_member(&w, "next", r->next, sizeof(r->next), true);
		}
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_obj_end(&w);
	return jw_finish(&w);
}

int stats_command(const char *run_dir_opt, enum output_format fmt, FILE *out)
{
	struct stats_row rows[STATUS_JOBS_MAX];
	struct err err;
	int n, r;

	n = stats_collect(run_dir_opt, rows, &err);
	if (n < 0) {
		log_cmd_msg("stats", "%s", err.msg);
		return EXIT_STATS_FAILED;
	}
	r = fmt == OUT_JSON ? stats_print_json(out, rows, (size_t)n)
			    : stats_print_table(out, rows, (size_t)n);
	if (r < 0) {
		log_cmd_msg("stats", "unable to write the output: %s", strerror(-r));
		return EXIT_STATS_FAILED;
	}
	return EXIT_STATS_OK;
}

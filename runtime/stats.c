#include "stats.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "procstat.h"

#define STATS_SAMPLE_MS 200

/* ------------------------------------------------------------ stats output */

/* status.json is untrusted: a name is shown with every byte outside
 * printable ASCII (escape sequences, C1 controls) as \xNN and a backslash
 * as \\, never sent raw to a terminal. Cut, never overrun, at cap. */
static void copy_escaped(char *dst, size_t cap, const char *src, size_t srccap)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = strnlen(src, srccap), o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];
		char tmp[4];
		size_t l = 1;

		tmp[0] = (char)c;
		if (c == '\\')
			tmp[1] = '\\', l = 2;
		else if (c < 0x20 || c > 0x7e)
			tmp[0] = '\\', tmp[1] = 'x', tmp[2] = hex[c >> 4], tmp[3] = hex[c & 15],
			l = 4;
		if (o + l >= cap)
			break;
		memcpy(dst + o, tmp, l);
		o += l;
	}
	dst[o] = '\0';
}

void stats_row_fill(struct stats_row *r, const struct job_status *j, int64_t now_unix_ms,
		    uint64_t ready_after_ms, int64_t cpu_millicores, int64_t memory_bytes)
{
	int instance = j->pid > 0 && (j->state == RS_RUNNING || j->state == RS_TERMINATING);

	memset(r, 0, sizeof(*r));
	copy_escaped(r->job, sizeof(r->job), j->name, sizeof(j->name));
	copy_escaped(r->kind, sizeof(r->kind), j->kind, sizeof(j->kind));
	copy_escaped(r->size, sizeof(r->size), j->size, sizeof(j->size));
	r->pid = j->pid > 0 ? j->pid : 0;
	r->status = status_label(j, now_unix_ms, ready_after_ms);
	r->restarts = j->restarts;
	r->last_exit_code = j->last_exit_code >= 0 ? j->last_exit_code : -1;
	r->last_oom = r->last_exit_code >= 0 && j->last_oom;
	r->uptime_s = -1;
	if (instance && j->started_unix_ms > 0)
		r->uptime_s = now_unix_ms > j->started_unix_ms
				  ? (now_unix_ms - j->started_unix_ms) / 1000
				  : 0;
	r->cpu_millicores = cpu_millicores >= 0 ? cpu_millicores : -1;
	r->memory_bytes = memory_bytes >= 0 ? memory_bytes : -1;
	r->attempts = j->attempts;
	r->attempt = j->attempt;
	r->timed_out = j->timed_out;
	copy_escaped(r->next, sizeof(r->next), j->next_local, sizeof(j->next_local));
}

int format_duration_short(char *buf, size_t cap, int64_t s)
{
	if (s < 0)
		return snprintf(buf, cap, "-");
	if (s < 60)
		return snprintf(buf, cap, "%" PRId64 "s", s);
	if (s < 3600)
		return snprintf(buf, cap, "%" PRId64 "m%" PRId64 "s", s / 60, s % 60);
	if (s < 86400)
		return snprintf(buf, cap, "%" PRId64 "h%" PRId64 "m", s / 3600, s % 3600 / 60);
	return snprintf(buf, cap, "%" PRId64 "d%" PRId64 "h", s / 86400, s % 86400 / 3600);
}

int format_memory(char *buf, size_t cap, int64_t bytes)
{
	static const char *const unit[] = {"Ti", "Gi", "Mi", "Ki"};
	uint64_t b = (uint64_t)bytes;

	if (bytes < 0)
		return snprintf(buf, cap, "-");
	for (size_t i = 0; i < 4; i++) {
		unsigned shift = 40 - 10 * (unsigned)i;
		uint64_t v = b >> shift;
		/* Rounding 1.9Gi down to "1Gi" would lie by half: switch to the
		 * next unit unless the value is exact or has two digits. */
		if (v >= 10 || (v >= 1 && (b & ((UINT64_C(1) << shift) - 1)) == 0))
			return snprintf(buf, cap, "%" PRIu64 "%s", v, unit[i]);
	}
	if (b >= 1024)
		return snprintf(buf, cap, "%" PRIu64 "Ki", b >> 10);
	return snprintf(buf, cap, "%" PRIu64, b);
}

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
	format_duration_short(cell[COL_UPTIME], CELL_MAX, r->uptime_s);
	if (r->cpu_millicores >= 0)
		snprintf(cell[COL_CPU], CELL_MAX, "%" PRId64 "m", r->cpu_millicores);
	else
		snprintf(cell[COL_CPU], CELL_MAX, "-");
	format_memory(cell[COL_MEMORY], CELL_MAX, r->memory_bytes);
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

static int finish_output(FILE *out)
{
	if (fflush(out) != 0 || ferror(out))
		return -EIO;
	return 0;
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
	return finish_output(out);
}

static void json_str_field(FILE *out, const char *name, const char *s, size_t maxlen)
{
	char esc[CELL_MAX * 6 + 1];

	if (s == NULL) {
		fprintf(out, "\"%s\":null", name);
		return;
	}
	json_escape(esc, sizeof(esc), s, strnlen(s, maxlen));
	fprintf(out, "\"%s\":\"%s\"", name, esc);
}

static void json_int_field(FILE *out, const char *name, int64_t v, int present)
{
	if (present)
		fprintf(out, ",\"%s\":%" PRId64, name, v);
	else
		fprintf(out, ",\"%s\":null", name);
}

int stats_print_json(FILE *out, const struct stats_row *rows, size_t n)
{
	fputs("{\"jobs\":[", out);
	for (size_t i = 0; i < n; i++) {
		const struct stats_row *r = &rows[i];

		fputs(i ? ",{" : "{", out);
		json_str_field(out, "job", r->job, sizeof(r->job));
		fputc(',', out);
		json_str_field(out, "kind", r->kind, sizeof(r->kind));
		json_int_field(out, "pid", r->pid, r->pid > 0);
		fputc(',', out);
		json_str_field(out, "status", r->status, CELL_MAX);
		json_int_field(out, "restarts", r->restarts, 1);
		json_int_field(out, "lastExitCode", r->last_exit_code, r->last_exit_code >= 0);
		if (r->last_oom) /* a known cause of the last exit, as in the table */
			fputs(",\"lastExitReason\":\"OOM\"", out);
		json_int_field(out, "uptimeSeconds", r->uptime_s, r->uptime_s >= 0);
		json_int_field(out, "cpuMillicores", r->cpu_millicores, r->cpu_millicores >= 0);
		json_int_field(out, "memoryBytes", r->memory_bytes, r->memory_bytes >= 0);
		fputc(',', out);
		json_str_field(out, "size", r->size[0] ? r->size : NULL, sizeof(r->size));
		if (r->attempts > 0) {
			fprintf(out, ",\"attempt\":%u,\"attempts\":%u,\"timedOut\":%s,", r->attempt,
				r->attempts, r->timed_out ? "true" : "false");
			json_str_field(out, "next", r->next[0] ? r->next : NULL, sizeof(r->next));
		}
		fputc('}', out);
	}
	fputs("]}\n", out);
	return finish_output(out);
}

/* ------------------------------------------------------------ stats command */

static int64_t now_unix_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static uint64_t mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void sleep_ms(unsigned ms)
{
	struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&t, &t) < 0 && errno == EINTR)
		;
}

static void say_not_running(const char *opt)
{
	char cand[RUN_DIR_MAX_CANDS][PATH_MAX];
	size_t n;

	fputs("jobshim stats: no jobshim is running in this container (no ", stderr);
	if (opt != NULL && opt[0] != '\0') {
		fprintf(stderr, "%s/" STATUS_FILE, opt);
	} else {
		n = run_dir_candidates(RUN_DIR_DEFAULT, cand);
		for (size_t i = 0; i < n; i++)
			fprintf(stderr, "%s%s/" STATUS_FILE, i ? ", " : "", cand[i]);
	}
	fputs(")\n", stderr);
}

/* CPU over a short sample and memory at its end, for each job that has an
 * instance; -1 where nothing could be measured. */
static void measure(const struct status_doc *d, int64_t cpu[], int64_t mem[])
{
	pid_t pgrp[STATUS_JOBS_MAX];
	struct pgrp_usage u0[STATUS_JOBS_MAX], u1[STATUS_JOBS_MAX];
	long hz = sysconf(_SC_CLK_TCK);
	uint64_t t0, t1;
	int any = 0;

	for (size_t i = 0; i < d->n_jobs; i++) {
		const struct job_status *j = &d->jobs[i];
		cpu[i] = mem[i] = -1;
		pgrp[i] = j->pid > 0 && (j->state == RS_RUNNING || j->state == RS_TERMINATING)
			      ? j->pid
			      : 0;
		any |= pgrp[i] > 0;
	}
	if (!any)
		return;
	t0 = mono_ns();
	if (procstat_sample(NULL, pgrp, d->n_jobs, u0) < 0)
		return;
	sleep_ms(STATS_SAMPLE_MS);
	t1 = mono_ns();
	if (procstat_sample(NULL, pgrp, d->n_jobs, u1) < 0)
		return;
	for (size_t i = 0; i < d->n_jobs; i++) {
		uint64_t delta;

		if (pgrp[i] <= 0 || u1[i].nprocs == 0)
			continue;
		mem[i] =
		    u1[i].rss_bytes > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)u1[i].rss_bytes;
		if (u0[i].nprocs == 0 || hz <= 0)
			continue;
		/* A member that exited unwaited-for by the group takes its ticks
		 * along: count that as no use rather than going negative. */
		delta = u1[i].cpu_ticks > u0[i].cpu_ticks ? u1[i].cpu_ticks - u0[i].cpu_ticks : 0;
		cpu[i] = (int64_t)procstat_millicores(delta, (uint64_t)hz, t1 - t0);
	}
}

int stats_command(const char *run_dir_opt, enum output_format fmt, FILE *out)
{
	char dir[PATH_MAX], path[PATH_MAX + sizeof("/" STATUS_FILE)];
	struct stats_row rows[STATUS_JOBS_MAX];
	int64_t cpu[STATUS_JOBS_MAX], mem[STATUS_JOBS_MAX], now;
	struct status_doc d;
	uint64_t start;
	int r, fd;

	r = run_dir_resolve(run_dir_opt, 0, dir, sizeof(dir));
	if (r == -EPERM || r == -ELOOP || r == -ENOTDIR) {
		fprintf(stderr,
			"jobshim stats: %s is not a run dir of this user's own (%s): not read\n",
			run_dir_opt ? run_dir_opt : dir,
			r == -ELOOP ? "a symlink" : "owned by another user or writable by others");
		return 1;
	}
	if (r < 0) {
		say_not_running(run_dir_opt);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/" STATUS_FILE, dir);
	fd = run_dir_open(dir);
	r = fd < 0 ? fd : status_read_at(fd, &d);
	if (fd >= 0)
		close(fd);
	if (r == -ENOENT) {
		say_not_running(run_dir_opt);
		return 1;
	}
	if (r < 0) {
		fprintf(stderr, "jobshim stats: unable to read %s: %s\n", path,
			r == -EINVAL ? "not a jobshim status file" : strerror(-r));
		return 1;
	}
	/* jobshim removes nothing when killed: a file whose writer is gone
	 * is stale. EPERM means the pid exists (another user's), so it runs.
	 * status_parse guarantees pid >= 1: kill(0 or -1, 0) would ask about
	 * whole groups instead. */
	if (kill(d.jobshim_pid, 0) < 0 && errno == ESRCH) {
		fprintf(stderr,
			"jobshim stats: no jobshim is running in this container (%s was written "
			"by pid %d, which has exited)\n",
			path, (int)d.jobshim_pid);
		return 1;
	}
	/* The pid lives, but is it the writer? Not when it started at another
	 * time: the pid was reused, or the file comes from a jobshim in another
	 * PID namespace (whose pid 1 is not ours). Unknown times are trusted. */
	start = d.jobshim_starttime ? process_starttime(d.jobshim_pid) : 0;
	if (start != 0 && start != d.jobshim_starttime) {
		fprintf(stderr,
			"jobshim stats: no jobshim is running in this container (%s was written "
			"by pid %d, which is now another process)\n",
			path, (int)d.jobshim_pid);
		return 1;
	}
	measure(&d, cpu, mem);
	now = now_unix_ms();
	for (size_t i = 0; i < d.n_jobs; i++)
		stats_row_fill(&rows[i], &d.jobs[i], now, d.ready_after_ms, cpu[i], mem[i]);
	r = fmt == OUT_JSON ? stats_print_json(out, rows, d.n_jobs)
			    : stats_print_table(out, rows, d.n_jobs);
	if (r < 0) {
		fprintf(stderr, "jobshim stats: unable to write the output: %s\n", strerror(-r));
		return 1;
	}
	return 0;
}

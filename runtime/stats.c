#include "stats.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

/* "no jobshim is running in this container (no DIR/status.json, ...)":
 * the file asked for, or every candidate run dir's. */
static void not_running(const char *opt, char *err, size_t errlen)
{
	char cand[RUN_DIR_MAX_CANDS][PATH_MAX], list[RUN_DIR_MAX_CANDS * (PATH_MAX + 16)] = "";
	size_t n, len = 0;

	if (opt != NULL && opt[0] != '\0') {
		snprintf(list, sizeof(list), "%s/" STATUS_FILE, opt);
	} else {
		n = run_dir_candidates(RUN_DIR_DEFAULT, cand);
		for (size_t i = 0; i < n && len < sizeof(list); i++)
			len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s/" STATUS_FILE,
						i ? ", " : "", cand[i]);
	}
	snprintf(err, errlen, "no jobshim is running in this container (no %s)", list);
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

int stats_collect(const char *run_dir_opt, struct stats_row *rows, char *err, size_t errlen)
{
	char dir[PATH_MAX], path[PATH_MAX + sizeof("/" STATUS_FILE)];
	int64_t cpu[STATUS_JOBS_MAX], mem[STATUS_JOBS_MAX], now;
	struct status_doc d;
	uint64_t start;
	int r, fd;

	r = run_dir_resolve(run_dir_opt, 0, dir, sizeof(dir));
	if (r == -EPERM || r == -ELOOP || r == -ENOTDIR) {
		snprintf(err, errlen, "%s is not a run dir of this user's own (%s): not read",
			 run_dir_opt ? run_dir_opt : dir,
			 r == -ELOOP ? "a symlink" : "owned by another user or writable by others");
		return -EPERM;
	}
	if (r < 0) {
		not_running(run_dir_opt, err, errlen);
		return -ESRCH;
	}
	snprintf(path, sizeof(path), "%s/" STATUS_FILE, dir);
	fd = run_dir_open(dir);
	r = fd < 0 ? fd : status_read_at(fd, &d);
	if (fd >= 0)
		close(fd);
	if (r == -ENOENT) {
		not_running(run_dir_opt, err, errlen);
		return -ESRCH;
	}
	if (r < 0) {
		snprintf(err, errlen, "unable to read %s: %s", path,
			 r == -EINVAL ? "not a jobshim status file" : strerror(-r));
		return r;
	}
	/* jobshim removes nothing when killed: a file whose writer is gone
	 * is stale. EPERM means the pid exists (another user's), so it runs.
	 * status_parse guarantees pid >= 1: kill(0 or -1, 0) would ask about
	 * whole groups instead. */
	if (kill(d.jobshim_pid, 0) < 0 && errno == ESRCH) {
		snprintf(err, errlen,
			 "no jobshim is running in this container (%s was written by pid %d, "
			 "which has exited)",
			 path, (int)d.jobshim_pid);
		return -ESRCH;
	}
	/* The pid lives, but is it the writer? Not when it started at another
	 * time: the pid was reused, or the file comes from a jobshim in another
	 * PID namespace (whose pid 1 is not ours). Unknown times are trusted. */
	start = d.jobshim_starttime ? process_starttime(d.jobshim_pid) : 0;
	if (start != 0 && start != d.jobshim_starttime) {
		snprintf(err, errlen,
			 "no jobshim is running in this container (%s was written by pid %d, "
			 "which is now another process)",
			 path, (int)d.jobshim_pid);
		return -ESRCH;
	}
	measure(&d, cpu, mem);
	now = now_unix_ms();
	for (size_t i = 0; i < d.n_jobs; i++)
		stats_row_fill(&rows[i], &d.jobs[i], now, d.ready_after_ms, cpu[i], mem[i]);
	return (int)d.n_jobs;
}

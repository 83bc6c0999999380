/* RUN_DIR/status.json, kept current by the running jobshim and read by
 * `jobshim stats` (stats.h) (SPEC §8). */
#ifndef JOBSHIM_STATUS_H
#define JOBSHIM_STATUS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bounds.h"
#include "rundir.h"

#define STATUS_JOBS_MAX PLAN_JOBS_MAX /* @all: every job of the configuration */
#define STATUS_FILE	"status.json"

enum run_state {
	RS_RUNNING,	/* an instance runs */
	RS_WAITING,	/* in backoff before the next restart */
	RS_TERMINATING, /* shutdown in progress */
	RS_EXITED,	/* main app gone; jobshim is about to exit */
	RS_SUCCEEDED,	/* one-shot: the run succeeded */
	RS_FAILED,	/* one-shot: the run failed */
};

struct job_status {
	char name[JOB_NAME_MAX + 1];
	char kind[16]; /* "main", "worker", "deploy", "scheduled" */
	char size[16]; /* "micro", ... */
	enum run_state state;
	pid_t pid; /* the instance's pid (its process group), 0 when none */
	unsigned restarts;
	int last_exit_code;	    /* -1: none yet */
	bool last_oom;		    /* that exit was the kernel's OOM killer */
	unsigned unstable;	    /* restarts since the last stable run */
	int64_t started_unix_ms;    /* the current/last instance's start, 0 none */
	int64_t next_start_unix_ms; /* RS_WAITING: when the restart is due */
	/* one-shot jobs (attempts > 0) */
	unsigned attempt, attempts; /* the current or last attempt of the run */
	int timed_out;		    /* the last attempt ended by its timeout */
	int64_t next_run_unix_ms;   /* scheduled: the next time, 0 none */
	char next_local[48];	    /* ... in the schedule's zone, as stats shows it */
};

struct status_doc {
	pid_t jobshim_pid;
	/* jobshim's start in /proc/PID/stat ticks: tells a live jobshim from
	 * a pid that was reused, or a file written in another PID namespace.
	 * 0 = unknown; status_write fills it in when jobshim_pid is getpid(). */
	uint64_t jobshim_starttime;
	int64_t written_unix_ms;
	uint64_t ready_after_ms; /* an instance is "progressing" until it ran this long */
	size_t n_jobs;
	struct job_status jobs[STATUS_JOBS_MAX];
};

int status_write(const char *path, const struct status_doc *d);
/* The same into dir/STATUS_FILE, relative to the run dir's fd (rundir.h):
 * a temp file created O_EXCL|O_NOFOLLOW, then renameat. */
int status_write_at(int dirfd, const struct status_doc *d);
/* status_read of dir/STATUS_FILE: only from a regular file (a FIFO or a
 * symlink planted there is refused, never followed or waited on). */
int status_read_at(int dirfd, struct status_doc *d);
/* The start time of process pid in /proc/PID/stat ticks after boot (what
 * jobshim_starttime records), or 0 when unknown. */
uint64_t process_starttime(pid_t pid);
/* Parses what status_write wrote. 0, -ENOENT, or -EINVAL for garbage. */
int status_read(const char *path, struct status_doc *d);

/* SPEC §8's STATUS column: ready, progressing, waiting, failing,
 * terminating, succeeded. Pure. */
const char *status_label(const struct job_status *j, int64_t now_unix_ms, uint64_t ready_after_ms);

/* The text of the status file, in this fixed shape (one line, keys in this
 * order; last_exit_code -1 = none; times are Unix milliseconds, 0 = none;
 * state is running|waiting|terminating|exited):
 * {"jobshim_pid":1,"jobshim_starttime":12345,"written":1764385800123,
 *  "ready_after_ms":5000,"jobs":[
 *  {"name":"sidekiq","kind":"worker","size":"micro","state":"running",
 *   "pid":42,"restarts":3,"last_exit_code":1,"last_oom":false,"unstable":0,
 *   "started":1764385700000,"next_start":0}]}
 * One-shot jobs (attempts > 0) add, before the closing brace,
 *   "attempt":2,"attempts":3,"timed_out":0,"next_run":1764385800000,
 *   "next_local":"2026-11-29 03:10 CET"
 * Returns the length (without the NUL), or -ENOBUFS when cap is too small. */
int status_format(char *buf, size_t cap, const struct status_doc *d);
/* Parses len bytes of such text: unknown keys (any JSON value) are ignored,
 * "jobshim_pid", "jobs" and each job's "name" and "state" are required.
 * 0 or -EINVAL. Bounded: never reads past len, nesting depth limited. */
int status_parse(const char *text, size_t len, struct status_doc *d);
/* "running", "waiting", "terminating", "exited", "succeeded", "failed". */
const char *run_state_name(enum run_state s);

#endif

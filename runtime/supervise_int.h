/* What the parts of the supervisor (supervise.c and sup_*.c) share; private
 * to them, never installed: the job table, the supervisor's state, the poll
 * set, and the functions one part calls in another. Those are named sup_*,
 * except job_on, through which every change of a job's state goes. */
#ifndef JOBSHIM_SUPERVISE_INT_H
#define JOBSHIM_SUPERVISE_INT_H

#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "control.h"
#include "jobstate.h"
#include "logpfx.h"
#include "oneshot.h"
#include "options.h"
#include "plan.h"
#include "reload.h"
#include "sandbox.h"
#include "status.h"

#define JOBS_MAX  STATUS_JOBS_MAX
#define PLANS_MAX (JOBS_MAX + 2) /* plans in use: one a job, the latest, the caller's */

struct job {
	const struct job_plan *plan;
	struct sandbox *sandbox;
	enum job_state phase; /* the one state field: changed by job_on only */
	pid_t pid;	      /* the instance's leader while it runs, 0 after */
	pid_t group;	      /* its process group, kept until every member is gone */
	int out[2], err[2];   /* log pipes (worker); -1 for a transparent main app */
	struct logpfx *pfx_out, *pfx_err;
	size_t owed[2];	   /* bytes in the pipe that the last instance wrote */
	bool flush_due[2]; /* its last line is ended once they are read */
	unsigned restarts;
	unsigned streak; /* consecutive exits without a stable run */
	int last_code;	 /* -1: none yet */
	int last_wstatus;
	bool last_oom;	     /* the kernel's OOM killer ended the last instance */
	uint64_t oom_before; /* the cgroup's oom_kill at the start; UINT64_MAX: unknown */
	uint64_t started_ms, started_wall_ms, restart_at_ms;
	enum transition transition;
	uint64_t grace_at_ms; /* transition: SIGKILL after this */
	bool grace_over;
	bool removed;			  /* a reload removed it; its slot is freed */
	struct run_plan *owner;		  /* the reloaded plan j->plan is in; NULL: the caller's */
	const struct job_plan *next_plan; /* a reload's new definition, for the next instance */
	struct run_plan *next_owner;
	struct sandbox *next_sandbox;
	/* deploy and scheduled jobs: one run of attempts (oneshot.h) */
	struct oneshot os;
	bool timed_out;		/* the running attempt hit its timeout */
	bool timeout_killed;	/* ... and got SIGKILL after the grace period */
	bool last_timed_out;	/* the last attempt that ended had timed out */
	uint64_t timeout_at_ms; /* the attempt's deadline, then its SIGKILL's */
	int64_t next_fire;	/* scheduled: its next time (wall seconds), -1 none */
	int64_t run_started;	/* scheduled: when the current run began (wall seconds) */
	int lock_fd;		/* scheduled: the current run's lock, -1 none */
	bool disabled;		/* could not be prepared: never runs */
};

/* A control client waiting for jobs to be restarted (by job index). */
struct waiter {
	uint32_t token;
	size_t n_pending;
	bool pending[JOBS_MAX], jobs[JOBS_MAX];
};

enum note_kind { RN_SAME, RN_RESTART, RN_ADD, RN_REMOVE, RN_MAIN, RN_DEPLOY, RN_SCHED };

struct reload_note {
	enum note_kind kind;
	char name[JOB_NAME_MAX + 1];
	char what[48];
};

struct reload_state {
	bool active;
	uint32_t token; /* 0: a --watch-config reload, nobody waits */
	size_t n_notes;
	struct reload_note notes[RELOAD_JOBS_MAX];
	const struct job_plan *add[JOBS_MAX];
	struct sandbox *add_sb[JOBS_MAX];
	size_t n_add;
	char summary[1024];
};

/* The one supervisor of a process (a static in supervise_run). The members
 * every run uses come first, the job table next, the large buffers and the
 * tables of the control channel and reloads last: a start-up touches the
 * first pages only (each page touched is a fault of its own). */
struct sup {
	const struct options *o;
	const struct run_plan *plan;
	size_t n;
	int sfd;
	int run_fd; /* the run dir, -1 without one */
	bool pid1;
	bool ns_kill; /* PID 1 of one worker (or one-shot run): a restart (the next
		       * attempt) kills all jobshim's descendants */
	bool stopping;
	bool killed;
	bool exit_now;		  /* dumb-init: the main process exited, jobshim goes */
	uint64_t stop_send_at_ms; /* --stop-delay: when the stop signal goes; 0 sent */
	int stop_sig_pending;
	bool gave_terminal; /* the main app is the terminal's foreground group */
	sigset_t orig_mask; /* the signal mask jobshim was started with */
	int cwd_fd;	    /* the job's working directory, when jobshim left it */
	uint64_t kill_at_ms, give_up_ms;
	int exit_code;
	bool exit_final;	/* the main app's status: no later exit changes it */
	int tfd;		/* timerfd of the schedules (CLOCK_REALTIME), -1 none */
	int64_t cron_anchor;	/* @every counts from here (wall seconds) */
	bool status_on;		/* status.json is this jobshim's to write */
	bool run_dir_due;	/* the main app alone: run dir set up at the first write */
	bool status_written;	/* status.json exists: unlink it at exit */
	bool status_failing;	/* the last write failed: retried */
	uint64_t status_due_ms; /* 0: nothing to write */
	size_t pad;		/* @all: names padded to this */
	bool color;
	/* Operating (SPEC §10). */
	struct control *ctl;
	bool ctl_due;		    /* the control socket opens with the first status write */
	const struct run_plan *cur; /* the configuration in force */
	int watch_fd;		    /* inotify, -1 without --watch-config */
	uint64_t watch_due_ms, watch_first_ms;
	uint64_t config_hash;
	struct job jobs[JOBS_MAX];
	struct reload_state reload;
	struct run_plan *owned[PLANS_MAX];
	struct waiter waiters[CONTROL_CONNS_MAX];
	char status_path[PATH_MAX];
	char run_dir[PATH_MAX - 256]; /* room for "/job-NAME.lock" */
	char config_path[PATH_MAX];
	/* Scratch, here rather than on the stack (together 40 KiB): the
	 * status document being written, and a control reply being built
	 * (reload_read's errors, sup_reload_progress's summary; one at a time). */
	struct status_doc doc;
	char reply[CONTROL_REPLY_MAX];
};

/* The poll set: signalfd, timerfd, each job pipe that may be read now
 * (none while the output it goes to is full: back-pressure), jobshim's
 * stdout and stderr while they hold output, inotify, the control socket
 * and its clients. */
#define POLLSET_MAX (2 + 2 * JOBS_MAX + 2 + 1 + 1 + CONTROL_CONNS_MAX)
struct pollset {
	struct pollfd pfd[POLLSET_MAX];
	struct job *job[POLLSET_MAX];
	int stream[POLLSET_MAX];
	nfds_t n;
};

/* The clocks (monotonic ms for deadlines, wall time for status.json and the
 * schedules), and what every part asks of a job. */

static inline uint64_t now_ms(clockid_t clk)
{
	struct timespec t;

	clock_gettime(clk, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static inline uint64_t mono(void)
{
	return now_ms(CLOCK_MONOTONIC);
}

static inline int64_t wall_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec;
}

static inline bool is_oneshot(const struct job *j)
{
	return j->plan->kind == JOB_DEPLOY || j->plan->kind == JOB_SCHEDULED;
}

static inline void pollset_add(struct pollset *ps, int fd, short events, struct job *j, int k)
{
	ps->pfd[ps->n] = (struct pollfd){.fd = fd, .events = events};
	ps->job[ps->n] = j;
	ps->stream[ps->n] = k;
	ps->n++;
}

/* supervise.c: job_on, the only place where a job's state changes (the
 * actions it runs are here and in the files below); instances, stops, kills. */
int job_on(struct sup *s, struct job *j, enum job_event ev, int64_t arg);
enum job_role sup_job_role(const struct sup *s, const struct job *j);
const char *sup_kind_name(enum job_kind k);
int sup_job_spawn(struct sup *s, struct job *j);
bool sup_group_alive(pid_t pgid);
void sup_forward(const struct sup *s, const struct job *j, int sig);
void sup_send_stop(const struct sup *s, const struct job *j, int sig);
void sup_begin_stop(struct sup *s, int received, const char *why);
bool sup_oom_killed(const struct job *j, int wstatus);
void sup_describe_exit(const struct job *j, int wstatus, char *what, size_t cap);

/* sup_status.c: the run dir, its locks, status.json. */
void sup_status_changed(struct sup *s);
void sup_status_write_now(struct sup *s);
int sup_run_dir_setup(struct sup *s);
int sup_job_lock(struct sup *s, struct job *j);

/* sup_output.c: the job pipes, read into jobshim's stdout and stderr. */
void sup_instance_done(struct job *j);
uint64_t sup_output_stuck(const struct job *j);
int sup_open_pipes(struct sup *s, struct job *j, size_t pad, bool color);
void sup_pollset_outputs(struct sup *s, struct pollset *ps);
void sup_pump_output(struct pollset *ps);
void sup_drain_at_exit(struct sup *s);

/* sup_control.c: control requests and their answers; restart and removal. */
void sup_answer(struct sup *s, uint32_t token, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void sup_append(char *buf, size_t cap, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
struct job *sup_job_named(struct sup *s, const char *name);
bool sup_busy(const struct sup *s);
void sup_transition_removed(struct sup *s, struct job *j, enum job_state prev);
void sup_transition_restart(struct sup *s, struct job *j, enum job_state prev);
void sup_transition_begin(struct sup *s, struct job *j, enum transition tr);
void sup_transition_stop(struct sup *s, const struct job *j);
void sup_transition_kill(struct job *j);
void sup_transitions_deadlines(struct sup *s, uint64_t now);
void sup_control_stopping(struct sup *s);
void sup_on_request(void *ctx, uint32_t token, const struct control_req *req);

/* sup_reload.c: reload and --watch-config. */
void sup_apply_next(struct job *j);
void sup_reload(struct sup *s, uint32_t token);
void sup_reload_progress(struct sup *s);
void sup_watch_setup(struct sup *s);
void sup_watch_read(struct sup *s);
void sup_watch_reload(struct sup *s, uint64_t now);

/* sup_oneshot.c: one-shot runs and the schedules. */
void sup_oneshot_run_over(struct sup *s, struct job *j);
void sup_oneshot_attempt_end(struct sup *s, struct job *j);
void sup_oneshot_give_up(struct sup *s, struct job *j);
void sup_oneshot_cannot_start(struct sup *s, struct job *j);
void sup_oneshot_timeout(struct sup *s, struct job *j);
void sup_oneshot_status(const struct sup *s, const struct job *j, struct job_status *js);
bool sup_on_schedule(const struct sup *s, const struct job *j);
int sup_schedules_setup(struct sup *s);
void sup_schedules_plan(struct sup *s, int64_t now);
void sup_schedules_start(struct sup *s);
void sup_schedule_skip(const struct job *j, int64_t due);
void sup_schedule_fire(struct sup *s, struct job *j, int64_t due);
void sup_schedules_wake(struct sup *s);

#endif

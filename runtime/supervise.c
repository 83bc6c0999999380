#include "supervise.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backoff.h"
#include "config.h"
#include "control.h"
#include "log.h"
#include "logpfx.h"
#include "reap.h"
#include "reload.h"
#include "signame.h"
#include "spawn.h"
#include "status.h"
#include "xio.h"

#define JOBS_MAX	     STATUS_JOBS_MAX
#define GROUP_POLL_MS	     20	  /* how often leftovers of a gone job are checked */
#define KILL_SETTLE_MS	     2000 /* after SIGKILL, at most this long for the reaping */
#define READY_AFTER_MS	     5000 /* an instance is "progressing" before that */
#define READS_PER_TURN	     16	  /* fairness between busy pipes */
#define JOB_PIPE_SIZE	     (1024 * 1024)
#define STATUS_DELAY_MS	     100	    /* status.json lags changes by at most this */
#define PLANS_MAX	     (JOBS_MAX + 2) /* plans in use: one a job, the latest, the caller's */
#define WATCH_DEBOUNCE_MS    250	    /* a burst of changes to the file is one reload */
#define WATCH_MAX_DELAY_MS   2000	    /* ... but a steady stream still reloads this often */
#define WATCH_BUSY_RETRY_MS  200	    /* a change seen during a restart waits this long */
#define WATCH_READS_PER_TURN 4

enum phase {
	PH_RUNNING, /* an instance runs */
	PH_CLEANUP, /* its leader exited; leftovers are being killed */
	PH_WAITING, /* backoff before the restart */
	PH_DONE,    /* no more instances (shutdown, or the main app exited) */
};

/* A restart or removal asked for over the control channel or by a reload:
 * stop signal, grace, SIGKILL, then (restart) a new instance at once. */
enum transition { TR_NONE, TR_RESTART, TR_REMOVE };

struct job {
	const struct job_plan *plan;
	struct sandbox *sandbox;
	enum phase phase;
	pid_t pid;	    /* the instance's leader while it runs, 0 after */
	pid_t group;	    /* its process group, kept until every member is gone */
	int out[2], err[2]; /* log pipes (worker); -1 for a transparent main app */
	struct logpfx *pfx_out, *pfx_err;
	unsigned restarts;
	unsigned streak; /* consecutive exits without a stable run */
	int last_code;	 /* -1: none yet */
	int last_wstatus;
	uint64_t started_ms, started_wall_ms, restart_at_ms;
	enum transition transition;
	uint64_t grace_at_ms; /* transition: SIGKILL after this */
	bool grace_over;
	bool removed;			  /* a reload removed it; its slot is freed */
	struct run_plan *owner;		  /* the reloaded plan j->plan is in; NULL: the caller's */
	const struct job_plan *next_plan; /* a reload's new definition, for the next instance */
	struct run_plan *next_owner;
	struct sandbox *next_sandbox;
};

/* A control client waiting for jobs to be restarted (a bit a job index). */
struct waiter {
	uint32_t token;
	unsigned pending, jobs;
};

enum note_kind { RN_SAME, RN_RESTART, RN_ADD, RN_REMOVE, RN_MAIN };

struct reload_note {
	enum note_kind kind;
	char name[JOB_NAME_MAX + 1];
	char what[48];
};

struct reload_state {
	struct reload_note notes[RELOAD_JOBS_MAX];
	size_t n_notes;
	bool active;
	uint32_t token; /* 0: a --watch-config reload, nobody waits */
	const struct job_plan *add[JOBS_MAX];
	struct sandbox *add_sb[JOBS_MAX];
	size_t n_add;
	char summary[1024];
};

struct sup {
	const struct options *o;
	const struct run_plan *plan;
	struct job jobs[JOBS_MAX];
	size_t n;
	int sfd;
	bool pid1;
	bool stopping;
	bool killed;
	uint64_t kill_at_ms, give_up_ms;
	int exit_code;
	bool exit_final; /* the main app's status: no later exit changes it */
	bool status_on;
	bool status_written;	/* status.json exists: unlink it at exit */
	uint64_t status_due_ms; /* 0: nothing to write */
	char status_path[PATH_MAX];
	char run_dir[PATH_MAX - 256]; /* room for "/job-NAME.lock" */
	size_t pad;		      /* @all: names padded to this */
	bool color;
	/* Operating (SPEC §10). */
	struct control *ctl;
	struct waiter waiters[CONTROL_CONNS_MAX];
	const struct run_plan *cur; /* the configuration in force */
	struct run_plan *owned[PLANS_MAX];
	struct reload_state reload;
	int watch_fd; /* inotify, -1 without --watch-config */
	uint64_t watch_due_ms, watch_first_ms;
	uint64_t config_hash;
	char config_path[PATH_MAX];
};

static uint64_t now_ms(clockid_t clk)
{
	struct timespec t;

	clock_gettime(clk, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static uint64_t mono(void)
{
	return now_ms(CLOCK_MONOTONIC);
}

/* ------------------------------------------------------------ status file */

/* Something stats shows changed. Changes are written together, at most
 * STATUS_DELAY_MS after the first one: a job that starts and exits at once
 * costs no file system work, and a crash loop one write a restart. */
static void status_changed(struct sup *s)
{
	if (s->status_on && s->status_due_ms == 0)
		s->status_due_ms = mono() + STATUS_DELAY_MS;
}

static void status_write_now(struct sup *s)
{
	struct status_doc d;

	if (!s->status_on)
		return;
	memset(&d, 0, sizeof(d));
	d.jobshim_pid = getpid();
	d.written_unix_ms = (int64_t)now_ms(CLOCK_REALTIME);
	d.ready_after_ms = READY_AFTER_MS;
	for (size_t i = 0; i < s->n; i++) {
		const struct job *j = &s->jobs[i];
		struct job_status *js = &d.jobs[d.n_jobs];

		if (j->removed)
			continue; /* a reload removed it: gone from stats */
		d.n_jobs++;

		snprintf(js->name, sizeof(js->name), "%s", j->plan->name);
		snprintf(js->kind, sizeof(js->kind), "%s",
			 j->plan->kind == JOB_MAIN ? "main" : "worker");
		snprintf(js->size, sizeof(js->size), "%s",
			 j->plan->size != NULL ? j->plan->size->name : "");
		js->pid = j->pid;
		js->restarts = j->restarts;
		js->last_exit_code = j->last_code;
		js->unstable = j->streak;
		js->started_unix_ms = (int64_t)j->started_wall_ms;
		if (s->stopping && j->phase != PH_DONE)
			js->state = RS_TERMINATING;
		else if (j->phase == PH_RUNNING)
			js->state = RS_RUNNING;
		else if (j->phase == PH_DONE)
			js->state = s->stopping ? RS_TERMINATING : RS_EXITED;
		else
			js->state = RS_WAITING;
		if (j->phase == PH_WAITING)
			js->next_start_unix_ms =
			    (int64_t)(now_ms(CLOCK_REALTIME) + (j->restart_at_ms - mono()));
	}
	int r = status_write(s->status_path, &d);
	s->status_due_ms = 0;
	if (r == 0)
		s->status_written = true;
	if (r < 0) {
		log_msg("unable to write %s: %s; status updates stop", s->status_path,
			strerror(-r));
		s->status_on = false;
	}
}

/* The run dir holds status.json (owned by one jobshim a container: the one
 * holding jobshim.lock) and a lock a worker: a second jobshim for the same
 * job exits 75. Without a writable run dir jobshim warns and runs on. */
static int run_dir_setup(struct sup *s)
{
	char path[PATH_MAX];
	int r, fd;

	r = run_dir_resolve(s->o->run_dir, 1, s->run_dir, sizeof(s->run_dir));
	if (r < 0) {
		log_msg("no writable run dir (%s): no status for `jobshim stats`, no "
			"single-instance lock",
			strerror(-r));
		return 0;
	}
	for (size_t i = 0; i < s->n; i++) {
		const struct job_plan *p = s->jobs[i].plan;
		if (p->kind != JOB_WORKER)
			continue;
		snprintf(path, sizeof(path), "%s/job-%s.lock", s->run_dir, p->name);
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0) {
			log_msg("unable to open %s: %s", path, strerror(errno));
			continue;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			log_msg("%s already runs under another jobshim in this container (%s is "
				"locked)",
				p->name, path);
			return -EEXIST;
		}
		/* fd stays open, and locked, until jobshim exits. */
	}
	snprintf(path, sizeof(path), "%s/jobshim.lock", s->run_dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0) {
		snprintf(s->status_path, sizeof(s->status_path), "%s/status.json", s->run_dir);
		s->status_on = true;
		/* The same jobshim answers the control commands. */
		r = control_listen(s->run_dir, &s->ctl);
		if (r < 0)
			log_msg("no control channel (%s/%s: %s): `jobshim restart|signal|reload` "
				"cannot reach this jobshim",
				s->run_dir, CONTROL_SOCKET,
				r == -EEXIST ? "exists and is not jobshim's socket" : strerror(-r));
	} else if (fd >= 0) {
		log_debug("another jobshim owns %s/status.json", s->run_dir);
		close(fd);
	}
	return 0;
}

/* ------------------------------------------------------------ output */

/* Up to `max` reads from one of a job's pipes (max 0: until it is empty).
 * An output error (EPIPE: jobshim's stdout was closed) is said once; the
 * prefixer discards from then on and reading goes on, so that the job never
 * blocks on a full pipe and supervision continues. */
static void pump(struct logpfx *p, int fd, int max)
{
	for (int n = 0; max == 0 || n < max; n++) {
		ssize_t r = logpfx_read(p, fd);
		if (r > 0)
			continue;
		if (r < 0 && r != -EAGAIN && logpfx_output_error(p) == (int)r) {
			log_msg("unable to write job output: %s; discarding it from now on",
				strerror((int)-r));
			continue;
		}
		return;
	}
}

static void drain(struct job *j)
{
	if (j->out[0] < 0)
		return;
	pump(j->pfx_out, j->out[0], 0);
	pump(j->pfx_err, j->err[0], 0);
}

/* Everything an instance wrote before it died is in the pipe by now (its
 * processes are gone): read it, and end a last line without newline. */
static void drain_and_flush(struct job *j)
{
	if (j->out[0] < 0)
		return;
	drain(j);
	logpfx_flush(j->pfx_out);
	logpfx_flush(j->pfx_err);
}

static const char *const colors[] = {"\x1b[36m", "\x1b[33m", "\x1b[32m", "\x1b[35m"};

static int open_pipes(struct sup *s, struct job *j, size_t pad, bool color)
{
	struct logpfx_opts lo = {
	    .job = j->plan->name,
	    .pad_to = pad,
	    .color = color ? colors[(size_t)(j - s->jobs) % 4] : NULL,
	    .format = s->o->log_format,
	    .timestamps = s->o->log_timestamps,
	};

	/* jobshim keeps the write ends too (close-on-exec), so a pipe outlives
	 * every instance and reading never sees EOF: after an instance's
	 * processes are gone, a non-blocking read until EAGAIN has it all. */
	if (pipe2(j->out, O_CLOEXEC) < 0 || pipe2(j->err, O_CLOEXEC) < 0)
		return -errno;
	if (fcntl(j->out[0], F_SETFL, O_NONBLOCK) < 0 || fcntl(j->err[0], F_SETFL, O_NONBLOCK) < 0)
		return -errno;
	/* A larger pipe lets a chatty job run ahead of jobshim's writes
	 * instead of waking it for every 64 KiB; where the system caps pipe
	 * sizes (pipe-max-size, an unprivileged user's quota) the default
	 * size is fine. */
	(void)fcntl(j->out[0], F_SETPIPE_SZ, JOB_PIPE_SIZE);
	(void)fcntl(j->err[0], F_SETPIPE_SZ, JOB_PIPE_SIZE);
	lo.stream = "stdout", lo.out_fd = STDOUT_FILENO;
	j->pfx_out = logpfx_new(&lo);
	lo.stream = "stderr", lo.out_fd = STDERR_FILENO;
	j->pfx_err = logpfx_new(&lo);
	if (j->pfx_out == NULL || j->pfx_err == NULL)
		return -ENOMEM;
	return 0;
}

/* ------------------------------------------------------------ instances */

static int start(struct sup *s, struct job *j)
{
	bool piped = j->out[0] >= 0;
	struct spawn_req req = {
	    .argv = j->plan->argv,
	    .envp = j->plan->envp,
	    .path_search = j->plan->kind == JOB_MAIN,
	    .stdin_fd = -1,
	    .stdout_fd = piped ? j->out[1] : -1,
	    .stderr_fd = piped ? j->err[1] : -1,
	    .take_terminal = !piped && isatty(STDIN_FILENO),
	    .sandbox = j->sandbox,
	};
	pid_t pid;

	if (s->plan->all_mode && j->plan->kind == JOB_WORKER)
		req.stdin_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	pid = spawn_job(&req);
	if (req.stdin_fd >= 0)
		close(req.stdin_fd);
	if (pid < 0)
		return (int)pid;
	j->pid = j->group = pid;
	j->phase = PH_RUNNING;
	j->started_ms = mono();
	j->started_wall_ms = now_ms(CLOCK_REALTIME);
	log_debug("%s started as pid %d", j->plan->name, (int)pid);
	return 0;
}

static bool group_alive(pid_t pgid)
{
	return pgid > 0 && (kill(-pgid, 0) == 0 || errno == EPERM);
}

static void signal_job(const struct job *j, int sig)
{
	if (j->group <= 0)
		return;
	/* The job may have moved itself to another group (a shell doing job
	 * control); then at least its leader gets the signal. */
	if (kill(-j->group, sig) < 0 && errno == ESRCH && j->pid > 0)
		kill(j->pid, sig);
}

static void control_stopping(struct sup *s);

static void begin_stop(struct sup *s, int sig)
{
	if (!s->stopping)
		control_stopping(s);
	if (!s->stopping) {
		s->stopping = true;
		s->kill_at_ms = mono() + s->o->grace_ms;
		log_debug("stopping: SIG%s, SIGKILL in %llums",
			  signal_name(sig) ? signal_name(sig) : "?",
			  (unsigned long long)s->o->grace_ms);
	}
	for (size_t i = 0; i < s->n; i++) {
		struct job *j = &s->jobs[i];
		if (j->phase == PH_WAITING)
			j->phase = PH_DONE; /* no more restarts */
		signal_job(j, sig);
	}
	status_changed(s);
}

static void kill_everything(struct sup *s)
{
	s->killed = true;
	s->give_up_ms = mono() + KILL_SETTLE_MS;
	if (s->pid1) {
		/* As PID 1: every process of the namespace but jobshim. */
		kill(-1, SIGKILL);
		return;
	}
	for (size_t i = 0; i < s->n; i++)
		if (group_alive(s->jobs[i].group))
			kill(-s->jobs[i].group, SIGKILL);
}

static void on_exit_status(void *ctx, pid_t pid, int wstatus)
{
	struct sup *s = ctx;

	for (size_t i = 0; i < s->n; i++) {
		struct job *j = &s->jobs[i];
		if (j->pid != pid)
			continue;
		j->pid = 0;
		j->last_wstatus = wstatus;
		j->last_code = status_to_code(wstatus);
		if (!s->exit_final)
			s->exit_code = j->last_code;
		if (j->plan->kind == JOB_MAIN) {
			/* The main app ends the container with its status; what
			 * is left of it (and every worker, in @all) gets SIGTERM
			 * and at most the grace period. */
			s->exit_final = true;
			j->phase = PH_DONE;
			begin_stop(s, SIGTERM);
		} else if (s->stopping) {
			j->phase = PH_DONE;
		} else {
			/* One instance at a time: what it left behind dies now. */
			j->phase = PH_CLEANUP;
			if (group_alive(j->group))
				kill(-j->group, SIGKILL);
		}
		return;
	}
	/* An orphan we adopted: nothing more to do than reaping it. */
}

static void transition_complete(struct sup *s, struct job *j);

/* Called when a worker instance's whole process group is gone. */
static void schedule_restart(struct sup *s, struct job *j)
{
	uint64_t ran = mono() - j->started_ms, delay;
	char what[96], ran_s[32], delay_s[32];

	j->streak = backoff_streak(j->streak, ran, s->o->backoff_reset_ms);
	delay = backoff_delay(j->streak, s->o->backoff_min_ms, s->o->backoff_max_ms);
	j->restart_at_ms = mono() + delay;
	j->phase = PH_WAITING;
	status_describe(j->last_wstatus, what, sizeof(what));
	format_ms(ran, ran_s, sizeof(ran_s));
	format_ms(delay, delay_s, sizeof(delay_s));
	log_msg("%s %s after %s; restart %u in %s", j->plan->name, what, ran_s, j->restarts + 1,
		delay_s);
}

/* Moves jobs whose leftovers are gone on; true while anything is pending. */
static bool settle_groups(struct sup *s)
{
	bool pending = false;

	for (size_t i = 0; i < s->n; i++) {
		struct job *j = &s->jobs[i];
		if (j->phase != PH_CLEANUP && j->phase != PH_DONE)
			continue;
		if (j->group == 0)
			continue;
		if (group_alive(j->group)) {
			pending = true;
			continue;
		}
		j->group = 0;
		drain_and_flush(j);
		if (j->phase == PH_CLEANUP && s->stopping)
			j->phase = PH_DONE; /* it died as the stop began */
		else if (j->phase == PH_CLEANUP && j->transition != TR_NONE)
			transition_complete(s, j);
		else if (j->phase == PH_CLEANUP)
			schedule_restart(s, j);
		status_changed(s);
	}
	return pending;
}

static bool all_gone(const struct sup *s)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct job *j = &s->jobs[i];
		if (j->pid != 0 || j->group != 0 || j->phase == PH_RUNNING ||
		    j->phase == PH_CLEANUP)
			return false;
	}
	return true;
}

/* ------------------------------------------------------------ signals */

/* Blocks every signal jobshim can take as data; the hardware fault signals
 * stay unblocked so that a bug in jobshim kills it rather than hanging.
 * SIGABRT and SIGSYS are blocked too: jobshim is not seccomp-filtered and
 * does not abort, so those only come from kill(2) and are forwarded. */
static int signals_setup(sigset_t *set)
{
	static const int faults[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP};
	int fd;

	sigfillset(set);
	for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++)
		sigdelset(set, faults[i]);
	if (sigprocmask(SIG_SETMASK, set, NULL) < 0)
		return -errno;
	fd = signalfd(-1, set, SFD_CLOEXEC | SFD_NONBLOCK);
	return fd < 0 ? -errno : fd;
}

static void handle_signals(struct sup *s)
{
	struct signalfd_siginfo si;

	while (xread(s->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		int sig = (int)si.ssi_signo;

		switch (sig) {
		case SIGCHLD:
			break; /* reaped below */
		case SIGTERM:
		case SIGINT:
		case SIGQUIT:
			begin_stop(s, sig);
			break;
		default:
			for (size_t i = 0; i < s->n; i++)
				signal_job(&s->jobs[i], sig);
		}
	}
	/* SIGCHLDs coalesce: one may stand for many exits. */
	reap_all(on_exit_status, s);
}

/* ------------------------------------------------------------ operating */

/* SPEC §10: restart, signal and reload, asked for over RUN_DIR/control or
 * (reload) by a change of the configuration file. Each request is answered
 * when it is done: a restart once the new instance runs. */

static int stop_signal(const struct sup *s)
{
	(void)s;
	return SIGTERM;
}

static const char *sig_label(int sig, char *buf, size_t cap)
{
	if (signal_name(sig) != NULL)
		snprintf(buf, cap, "SIG%s", signal_name(sig));
	else
		snprintf(buf, cap, "signal %d", sig);
	return buf;
}

static void answer(struct sup *s, uint32_t token, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void answer(struct sup *s, uint32_t token, int code, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	if (token == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	control_reply(s->ctl, token, code, text);
}

/* Appends to buf (cap bytes, *len used); silently cut when full. */
static void append(char *buf, size_t cap, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void append(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*len >= cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *len, cap - *len, fmt, ap);
	va_end(ap);
	if (n > 0)
		*len = *len + (size_t)n < cap ? *len + (size_t)n : cap - 1;
}

static struct job *job_named(struct sup *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!s->jobs[i].removed && strcmp(s->jobs[i].plan->name, name) == 0)
			return &s->jobs[i];
	return NULL;
}

static void job_list(const struct sup *s, char *buf, size_t cap)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < s->n; i++)
		if (!s->jobs[i].removed)
			append(buf, cap, &len, "%s%s", len ? ", " : "", s->jobs[i].plan->name);
}

/* A restart or a reload is under way: another reload waits or is refused,
 * so that no job is ever stopped twice over. */
static bool busy(const struct sup *s)
{
	if (s->reload.active)
		return true;
	for (size_t i = 0; i < s->n; i++)
		if (s->jobs[i].transition != TR_NONE)
			return true;
	return false;
}

static void waiter_reply(struct sup *s, struct waiter *w)
{
	char text[1024];
	size_t len = 0;
	int code = CONTROL_DONE;

	text[0] = '\0';
	for (size_t i = 0; i < s->n; i++) {
		const struct job *j = &s->jobs[i];
		if (!(w->jobs & (1u << i)))
			continue;
		if (j->pid > 0) {
			append(text, sizeof(text), &len, "restarted %s: pid %d\n", j->plan->name,
			       (int)j->pid);
		} else {
			code = CONTROL_CANNOT;
			append(
			    text, sizeof(text), &len,
			    "jobshim: %s did not start again (see jobshim's log); it is retried\n",
			    j->plan->name);
		}
	}
	control_reply(s->ctl, w->token, code, text);
	memset(w, 0, sizeof(*w));
}

static void waiters_job_done(struct sup *s, size_t idx)
{
	for (size_t i = 0; i < CONTROL_CONNS_MAX; i++) {
		struct waiter *w = &s->waiters[i];
		if (w->token == 0 || !(w->pending & (1u << idx)))
			continue;
		w->pending &= ~(1u << idx);
		if (w->pending == 0)
			waiter_reply(s, w);
	}
}

static void job_release(struct job *j)
{
	int *fds[] = {&j->out[0], &j->out[1], &j->err[0], &j->err[1]};

	for (size_t i = 0; i < 4; i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
	logpfx_free(j->pfx_out);
	logpfx_free(j->pfx_err);
	sandbox_free(j->sandbox);
	sandbox_free(j->next_sandbox);
	j->pfx_out = j->pfx_err = NULL;
	j->sandbox = j->next_sandbox = NULL;
}

/* The instance is gone (or there was none): a restart starts the next one
 * at once, without backoff and without counting it as a crash. */
static void transition_complete(struct sup *s, struct job *j)
{
	enum transition tr = j->transition;
	char what[96], ran[32];
	int r;

	if (j->phase == PH_CLEANUP) {
		status_describe(j->last_wstatus, what, sizeof(what));
		format_ms(mono() - j->started_ms, ran, sizeof(ran));
		log_msg("%s %s after %s (%s)", j->plan->name, what, ran,
			tr == TR_RESTART ? "restart requested" : "removed by a reload");
	}
	j->transition = TR_NONE;
	if (tr == TR_REMOVE) {
		j->phase = PH_DONE;
		j->removed = true;
		status_changed(s);
		return;
	}
	if (j->next_plan != NULL) {
		sandbox_free(j->sandbox);
		j->sandbox = j->next_sandbox;
		j->plan = j->next_plan;
		j->owner = j->next_owner;
		j->next_plan = NULL;
		j->next_sandbox = NULL;
		j->next_owner = NULL;
	}
	j->restarts++;
	r = start(s, j);
	if (r < 0) {
		log_msg("unable to restart %s: %s", j->plan->name, strerror(-r));
		j->phase = PH_WAITING;
		j->restart_at_ms = mono() + s->o->backoff_max_ms;
	} else {
		log_msg("%s restarted: pid %d", j->plan->name, (int)j->pid);
	}
	status_changed(s);
	waiters_job_done(s, (size_t)(j - s->jobs));
}

/* Begins a restart or a removal: the stop signal to the job's main process
 * now, SIGKILL to its group once the grace period is over. */
static void transition_begin(struct sup *s, struct job *j, enum transition tr)
{
	char grace[32], sig[24];

	j->transition = tr;
	j->grace_over = false;
	j->grace_at_ms = mono() + s->o->grace_ms;
	if (j->phase == PH_WAITING) {
		transition_complete(s, j); /* no instance: nothing to stop */
		return;
	}
	if (j->phase != PH_RUNNING || j->pid <= 0)
		return; /* PH_CLEANUP: settle_groups completes it */
	format_ms(s->o->grace_ms, grace, sizeof(grace));
	log_msg("%s %s: %s to pid %d (grace %s)", tr == TR_RESTART ? "restarting" : "stopping",
		j->plan->name, sig_label(stop_signal(s), sig, sizeof(sig)), (int)j->pid, grace);
	kill(j->pid, stop_signal(s));
	status_changed(s);
}

static void transitions_deadlines(struct sup *s, uint64_t now)
{
	for (size_t i = 0; i < s->n; i++) {
		struct job *j = &s->jobs[i];
		if (j->transition == TR_NONE || j->phase != PH_RUNNING || j->grace_over ||
		    now < j->grace_at_ms)
			continue;
		j->grace_over = true;
		log_msg("%s did not stop within the grace period: sending SIGKILL", j->plan->name);
		if (group_alive(j->group))
			kill(-j->group, SIGKILL);
		if (j->pid > 0)
			kill(j->pid, SIGKILL);
	}
}

/* A stop began: nothing asked for is completed any more; say so. */
static void control_stopping(struct sup *s)
{
	for (size_t i = 0; i < CONTROL_CONNS_MAX; i++) {
		if (s->waiters[i].token != 0)
			control_reply(
			    s->ctl, s->waiters[i].token, CONTROL_CANNOT,
			    "jobshim: jobshim is stopping: the restart was not completed\n");
		memset(&s->waiters[i], 0, sizeof(s->waiters[i]));
	}
	if (s->reload.active) {
		answer(s, s->reload.token, CONTROL_CANNOT,
		       "jobshim: jobshim is stopping: the reload was not completed\n");
		for (size_t i = 0; i < s->reload.n_add; i++)
			sandbox_free(s->reload.add_sb[i]);
		memset(&s->reload, 0, sizeof(s->reload));
	}
	for (size_t i = 0; i < s->n; i++)
		s->jobs[i].transition = TR_NONE;
	s->watch_due_ms = 0;
}

static void ctl_restart(struct sup *s, uint32_t token, const char *name)
{
	struct waiter *w = NULL;
	unsigned mask = 0;
	char names[256];

	if (s->stopping) {
		answer(s, token, CONTROL_CANNOT,
		       "jobshim: jobshim is stopping: nothing restarted\n");
		return;
	}
	if (s->reload.active) {
		answer(s, token, CONTROL_CANNOT,
		       "jobshim: a reload is in progress: nothing restarted; try again once it is "
		       "done\n");
		return;
	}
	if (name[0] != '\0') {
		struct job *j = job_named(s, name);
		if (j == NULL) {
			job_list(s, names, sizeof(names));
			answer(s, token, CONTROL_BAD,
			       "jobshim: unknown job \"%s\" (jobs here: %s)\n", name, names);
			return;
		}
		if (j->plan->kind == JOB_MAIN) {
			answer(
			    s, token, CONTROL_BAD,
			    "jobshim: %s is the main app: jobshim never restarts it (the platform "
			    "restarts containers: restart the container instead)\n",
			    name);
			return;
		}
		if (j->phase != PH_DONE)
			mask = 1u << (j - s->jobs);
	} else {
		for (size_t i = 0; i < s->n; i++)
			if (!s->jobs[i].removed && s->jobs[i].plan->kind == JOB_WORKER &&
			    s->jobs[i].phase != PH_DONE)
				mask |= 1u << i;
		if (mask == 0) {
			answer(s, token, CONTROL_BAD,
			       "jobshim: nothing to restart: the main app is never restarted by "
			       "jobshim (the platform restarts containers)\n");
			return;
		}
	}
	for (size_t i = 0; i < CONTROL_CONNS_MAX && w == NULL; i++)
		if (s->waiters[i].token == 0)
			w = &s->waiters[i];
	if (mask == 0 || w == NULL) {
		answer(s, token, CONTROL_CANNOT, "jobshim: %s cannot be restarted now\n", name);
		return;
	}
	*w = (struct waiter){.token = token, .pending = mask, .jobs = mask};
	log_msg("control: restart of %s requested", name[0] ? name : "every worker");
	for (size_t i = 0; i < s->n; i++) {
		struct job *j = &s->jobs[i];
		if (!(mask & (1u << i)))
			continue;
		if (j->transition == TR_NONE)
			transition_begin(s, j, TR_RESTART);
		else
			log_msg("%s is already restarting: answered when that is done",
				j->plan->name);
	}
}

static void ctl_signal(struct sup *s, uint32_t token, const char *name, int sig)
{
	struct job *j = job_named(s, name);
	char names[256], label[24];

	sig_label(sig, label, sizeof(label));
	if (j == NULL) {
		job_list(s, names, sizeof(names));
		answer(s, token, CONTROL_BAD, "jobshim: unknown job \"%s\" (jobs here: %s)\n", name,
		       names);
		return;
	}
	if (j->pid <= 0) {
		answer(s, token, CONTROL_CANNOT,
		       "jobshim: %s is not running now (%s): no signal sent\n", name,
		       j->phase == PH_WAITING ? "waiting to restart" : "stopped");
		return;
	}
	if (kill(j->pid, sig) < 0) {
		answer(s, token, CONTROL_CANNOT, "jobshim: unable to send %s to %s (pid %d): %s\n",
		       label, name, (int)j->pid, strerror(errno));
		return;
	}
	log_msg("control: sent %s to %s (pid %d)", label, name, (int)j->pid);
	answer(s, token, CONTROL_DONE, "sent %s to %s (pid %d)\n", label, name, (int)j->pid);
}

/* ------------------------------------------------------------ reload */

static const char *config_file(const struct sup *s)
{
	if (s->config_path[0] != '\0')
		return s->config_path;
	if (s->cur->config_path != NULL)
		return s->cur->config_path;
	return s->o->config != NULL ? s->o->config : ".deploio.yaml";
}

/* FNV-1a of the file's bytes (bounded), 0 when it cannot be read. Opened
 * non-blocking and read only when it is a regular file: a FIFO put in its
 * place cannot hold jobshim. */
static uint64_t file_hash(const char *path)
{
	uint64_t h = 1469598103934665603ULL;
	size_t total = 0;
	char buf[4096];
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return 0;
	}
	while (total <= CONFIG_FILE_MAX && (n = xread(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++)
			h = (h ^ (unsigned char)buf[i]) * 1099511628211ULL;
		total += (size_t)n;
	}
	close(fd);
	return h == 0 ? 1 : h;
}

static void plans_gc(struct sup *s)
{
	for (size_t k = 0; k < PLANS_MAX; k++) {
		struct run_plan *p = s->owned[k];
		bool used = p == s->cur;

		for (size_t i = 0; p != NULL && i < s->n && !used; i++)
			used = s->jobs[i].owner == p || s->jobs[i].next_owner == p;
		if (p == NULL || used)
			continue;
		plan_free(p);
		free(p);
		s->owned[k] = NULL;
	}
}

static struct run_plan **plan_slot(struct sup *s)
{
	for (size_t k = 0; k < PLANS_MAX; k++)
		if (s->owned[k] == NULL)
			return &s->owned[k];
	return NULL;
}

/* The configuration read again and validated; nothing has changed yet.
 * NULL with the reply sent when it is not valid. */
static struct run_plan *reload_read(struct sup *s, uint32_t token)
{
	static char text[CONTROL_REPLY_MAX];
	struct errlist errs = {0};
	struct run_plan *np;
	const char *path = config_file(s);
	struct stat st;
	size_t len = 0;
	int r;

	/* read_file blocks on a FIFO: only a regular file (symlinks, as in a
	 * ConfigMap, followed) or none at all is read. */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		log_msg("reload refused: %s is not a regular file; nothing changed", path);
		answer(s, token, CONTROL_BAD,
		       "jobshim: %s: not a regular file\njobshim: reload refused: nothing "
		       "changed\n",
		       path);
		return NULL;
	}
	np = calloc(1, sizeof(*np));
	if (np == NULL) {
		answer(s, token, CONTROL_CANNOT, "jobshim: reload: out of memory\n");
		return NULL;
	}
	r = plan_build(s->o, environ, np, &errs);
	if (r == 0 && errs.n == 0)
		return np;
	for (size_t i = 0; i < errs.n; i++) {
		log_msg("%s", errs.msg[i]);
		append(text, sizeof(text), &len, "jobshim: %s\n", errs.msg[i]);
	}
	if (errs.dropped > 0)
		append(text, sizeof(text), &len, "jobshim: ... and %zu more errors\n",
		       errs.dropped);
	log_msg("reload refused: the configuration is not valid; nothing changed");
	append(text, sizeof(text), &len,
	       "jobshim: reload refused: the configuration is not valid; nothing changed, the "
	       "jobs go on\n");
	if (token != 0)
		control_reply(s->ctl, token, CONTROL_BAD, text);
	errlist_free(&errs);
	if (r == 0)
		plan_free(np);
	free(np);
	return NULL;
}

/* The new sandboxes of changed and added jobs, made before anything
 * changes: one that cannot be made refuses the whole reload. */
static int reload_prepare(struct sup *s, const struct run_plan *np, const struct plan_diff *d,
			  struct sandbox **changed, struct sandbox **added, uint32_t token)
{
	char err[512];

	for (size_t i = 0; i < s->cur->n_jobs; i++) {
		const struct job_plan *nj = &np->jobs[d->to_new[i]];
		if (d->old[i] != JC_CHANGED || nj->kind == JOB_MAIN)
			continue;
		if (sandbox_prepare(&nj->sandbox, &changed[i], err, sizeof(err)) < 0)
			goto fail;
	}
	for (size_t k = 0; k < d->n_added; k++) {
		const struct job_plan *nj = &np->jobs[d->added[k]];
		if (nj->kind == JOB_MAIN)
			continue;
		if (sandbox_prepare(&nj->sandbox, &added[k], err, sizeof(err)) < 0)
			goto fail;
	}
	return 0;
fail:
	log_msg("reload refused: %s; nothing changed", err);
	answer(s, token, CONTROL_BAD, "jobshim: %s\njobshim: reload refused: nothing changed\n",
	       err);
	for (size_t i = 0; i < RELOAD_JOBS_MAX; i++) {
		sandbox_free(changed[i]);
		sandbox_free(added[i]);
	}
	return -EINVAL;
}

static void reload_note(struct sup *s, enum note_kind k, const char *name, const char *what)
{
	struct reload_note *n;

	if (s->reload.n_notes >= RELOAD_JOBS_MAX)
		return;
	n = &s->reload.notes[s->reload.n_notes++];
	n->kind = k;
	snprintf(n->name, sizeof(n->name), "%s", name);
	snprintf(n->what, sizeof(n->what), "%s", what);
}

/* Re-reads the configuration and applies what differs: changed workers
 * restart gracefully, removed ones stop, added ones start once those are
 * gone (reload_progress answers then); unchanged jobs and the main app are
 * left alone. token 0: a --watch-config reload. */
static void reload(struct sup *s, uint32_t token)
{
	struct sandbox *changed[RELOAD_JOBS_MAX] = {0}, *added[RELOAD_JOBS_MAX] = {0};
	struct run_plan *np, **slot;
	struct plan_diff d;
	char what[96];
	size_t live = 0;

	if (s->stopping) {
		answer(s, token, CONTROL_CANNOT,
		       "jobshim: jobshim is stopping: nothing reloaded\n");
		return;
	}
	if (busy(s)) {
		answer(s, token, CONTROL_CANNOT,
		       "jobshim: a restart or reload is in progress: nothing changed; try again "
		       "once it is done\n");
		return;
	}
	log_msg("reloading %s", config_file(s));
	if (s->watch_fd >= 0)
		s->config_hash = file_hash(config_file(s));
	np = reload_read(s, token);
	if (np == NULL)
		return;
	slot = plan_slot(s);
	for (size_t i = 0; i < s->n; i++)
		live += !s->jobs[i].removed;
	if (plan_diff(s->cur, np, &d) < 0 || slot == NULL ||
	    live - d.n_removed + d.n_added > JOBS_MAX ||
	    reload_prepare(s, np, &d, changed, added, token) < 0) {
		if (slot == NULL || live - d.n_removed + d.n_added > JOBS_MAX)
			answer(s, token, CONTROL_BAD, "jobshim: reload refused: too many jobs\n");
		plan_free(np);
		free(np);
		return;
	}
	memset(&s->reload, 0, sizeof(s->reload));
	*slot = np;
	for (size_t i = 0; i < s->cur->n_jobs; i++) {
		struct job *j = job_named(s, s->cur->jobs[i].name);
		const struct job_plan *nj = &np->jobs[d.to_new[i]];

		if (j == NULL)
			continue;
		switch (d.old[i]) {
		case JC_SAME:
			j->plan = nj;
			j->owner = np;
			reload_note(s, RN_SAME, j->plan->name, "");
			break;
		case JC_CHANGED:
			job_fields_describe(d.fields[i], what, sizeof(what));
			if (j->plan->kind == JOB_MAIN) {
				log_msg("reload: %s (the main app) changed (%s): not restarted; "
					"restart the container to apply it",
					j->plan->name, what);
				reload_note(s, RN_MAIN, j->plan->name, what);
				break;
			}
			reload_note(s, RN_RESTART, j->plan->name, what);
			log_msg("reload: %s changed (%s)", j->plan->name, what);
			j->next_plan = nj;
			j->next_owner = np;
			j->next_sandbox = changed[i];
			transition_begin(s, j, TR_RESTART);
			break;
		case JC_REMOVED:
			log_msg("reload: %s is no longer in the configuration", j->plan->name);
			reload_note(s, RN_REMOVE, j->plan->name, "");
			transition_begin(s, j, TR_REMOVE);
			break;
		}
	}
	for (size_t k = 0; k < d.n_added; k++) {
		if (np->jobs[d.added[k]].kind == JOB_MAIN)
			continue;
		log_msg("reload: %s added", np->jobs[d.added[k]].name);
		reload_note(s, RN_ADD, np->jobs[d.added[k]].name, "");
		s->reload.add[s->reload.n_add] = &np->jobs[d.added[k]];
		s->reload.add_sb[s->reload.n_add++] = added[k];
	}
	if (d.n_changed == 0 && d.n_removed == 0 && d.n_added == 0)
		log_msg("reload: the configuration is unchanged; no job touched");
	s->cur = np;
	s->reload.active = true;
	s->reload.token = token;
	plans_gc(s);
}

/* Once the restarts and removals of a reload are done: removed jobs leave
 * the table, added ones start, and the client gets the summary. */
static void reload_progress(struct sup *s)
{
	static char text[CONTROL_REPLY_MAX];
	size_t k = 0, len = 0, same = 0;

	if (!s->reload.active)
		return;
	for (size_t i = 0; i < s->n; i++)
		if (s->jobs[i].transition != TR_NONE)
			return;
	for (size_t i = 0; i < s->n; i++) {
		if (s->jobs[i].removed) {
			job_release(&s->jobs[i]);
			continue;
		}
		if (k != i)
			s->jobs[k] = s->jobs[i];
		k++;
	}
	s->n = k;
	for (size_t a = 0; a < s->reload.n_add && s->n < JOBS_MAX; a++) {
		struct job *j = &s->jobs[s->n];
		int r;

		memset(j, 0, sizeof(*j));
		j->out[0] = j->out[1] = j->err[0] = j->err[1] = -1;
		j->last_code = -1;
		j->plan = s->reload.add[a];
		j->owner = (struct run_plan *)s->cur;
		j->sandbox = s->reload.add_sb[a];
		s->reload.add_sb[a] = NULL;
		s->n++;
		r = open_pipes(s, j, s->pad, s->color);
		if (r == 0)
			r = start(s, j);
		if (r < 0) {
			log_msg("unable to start %s: %s; retried in %llums", j->plan->name,
				strerror(-r), (unsigned long long)s->o->backoff_max_ms);
			j->phase = PH_WAITING;
			j->restart_at_ms = mono() + s->o->backoff_max_ms;
		} else {
			log_msg("%s started: pid %d", j->plan->name, (int)j->pid);
		}
	}
	text[0] = '\0';
	for (size_t i = 0; i < s->reload.n_notes; i++) {
		const struct reload_note *n = &s->reload.notes[i];
		const struct job *j = job_named(s, n->name);
		int pid = j != NULL ? (int)j->pid : 0;

		switch (n->kind) {
		case RN_SAME:
			same++;
			break;
		case RN_RESTART:
			append(text, sizeof(text), &len, "restarted %s (%s changed): pid %d\n",
			       n->name, n->what, pid);
			break;
		case RN_ADD:
			append(text, sizeof(text), &len, "started %s (added): pid %d\n", n->name,
			       pid);
			break;
		case RN_REMOVE:
			append(text, sizeof(text), &len, "stopped %s (removed)\n", n->name);
			break;
		case RN_MAIN:
			append(text, sizeof(text), &len,
			       "%s (the main app) changed (%s): not restarted; restart the "
			       "container to apply it\n",
			       n->name, n->what);
			break;
		}
	}
	if (len == 0)
		append(text, sizeof(text), &len,
		       "the configuration is unchanged: no job touched\n");
	else if (same > 0)
		append(text, sizeof(text), &len, "%zu unchanged job%s left alone\n", same,
		       same == 1 ? "" : "s");
	log_msg("reload done");
	if (s->reload.token != 0)
		control_reply(s->ctl, s->reload.token, CONTROL_DONE, text);
	memset(&s->reload, 0, sizeof(s->reload));
	plans_gc(s);
	status_changed(s);
}

static void on_request(void *ctx, uint32_t token, const struct control_req *req)
{
	struct sup *s = ctx;

	switch (req->verb) {
	case CTL_RESTART:
		ctl_restart(s, token, req->job);
		break;
	case CTL_SIGNAL:
		ctl_signal(s, token, req->job, req->sig);
		break;
	case CTL_RELOAD:
		log_msg("control: reload requested");
		reload(s, token);
		break;
	}
}

/* ------------------------------------------------------------ --watch-config */

/* The directory of path, and of what it resolves to: a ConfigMap mounts
 * the file as a symlink through ..data, which the kubelet swaps by renaming
 * a new symlink over it in that directory. inotify_add_watch on a watched
 * directory returns the same watch, so this is cheap to repeat. */
static void watch_dirs(struct sup *s)
{
	char dir[PATH_MAX], real[PATH_MAX];
	const char *path = config_file(s);
	const char *paths[2] = {path, NULL};

	if (realpath(path, real) != NULL)
		paths[1] = real;
	for (size_t i = 0; i < 2 && paths[i] != NULL; i++) {
		char *slash;

		snprintf(dir, sizeof(dir), "%s", paths[i]);
		slash = strrchr(dir, '/');
		if (slash == NULL)
			snprintf(dir, sizeof(dir), ".");
		else if (slash == dir)
			dir[1] = '\0';
		else
			*slash = '\0';
		if (inotify_add_watch(s->watch_fd, dir,
				      IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE |
					  IN_DELETE | IN_ATTRIB | IN_DONT_FOLLOW | IN_ONLYDIR) < 0)
			log_debug("watch-config: unable to watch %s: %s", dir, strerror(errno));
	}
}

static void watch_setup(struct sup *s)
{
	snprintf(s->config_path, sizeof(s->config_path), "%s", config_file(s));
	s->watch_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (s->watch_fd < 0) {
		log_msg("--watch-config: inotify: %s; the configuration is not watched",
			strerror(errno));
		return;
	}
	watch_dirs(s);
	s->config_hash = file_hash(s->config_path);
	log_debug("watching %s for changes", s->config_path);
}

/* Something changed in a watched directory: the reload is due a moment
 * after the last change of a burst, and at most WATCH_MAX_DELAY_MS after
 * the first. */
static void watch_read(struct sup *s)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool seen = false;
	uint64_t now;

	for (int i = 0; i < WATCH_READS_PER_TURN; i++) {
		ssize_t n = xread(s->watch_fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		seen = true;
	}
	if (!seen || s->stopping)
		return;
	now = mono();
	if (s->watch_due_ms == 0)
		s->watch_first_ms = now;
	s->watch_due_ms = now + WATCH_DEBOUNCE_MS;
	if (s->watch_due_ms > s->watch_first_ms + WATCH_MAX_DELAY_MS)
		s->watch_due_ms = s->watch_first_ms + WATCH_MAX_DELAY_MS;
}

static void watch_reload(struct sup *s, uint64_t now)
{
	uint64_t h;

	s->watch_due_ms = 0;
	watch_dirs(s);
	h = file_hash(s->config_path);
	if (h == s->config_hash)
		return; /* touched, not changed */
	if (busy(s)) {
		s->watch_due_ms = now + WATCH_BUSY_RETRY_MS; /* queued, never doubled */
		return;
	}
	log_msg("%s changed: reloading", s->config_path);
	reload(s, 0);
}

/* ------------------------------------------------------------ main loop */

static int poll_timeout(const struct sup *s, bool groups_pending)
{
	uint64_t now = mono(), next = UINT64_MAX;

	for (size_t i = 0; i < s->n; i++)
		if (s->jobs[i].phase == PH_WAITING && s->jobs[i].restart_at_ms < next)
			next = s->jobs[i].restart_at_ms;
	if (s->stopping && !s->killed && s->kill_at_ms < next)
		next = s->kill_at_ms;
	if (s->killed && s->give_up_ms < next)
		next = s->give_up_ms;
	if (s->status_due_ms != 0 && s->status_due_ms < next)
		next = s->status_due_ms;
	for (size_t i = 0; i < s->n; i++)
		if (s->jobs[i].transition != TR_NONE && s->jobs[i].phase == PH_RUNNING &&
		    !s->jobs[i].grace_over && s->jobs[i].grace_at_ms < next)
			next = s->jobs[i].grace_at_ms;
	if (control_deadline(s->ctl) < next)
		next = control_deadline(s->ctl);
	if (s->watch_due_ms != 0 && s->watch_due_ms < next)
		next = s->watch_due_ms;
	if (groups_pending && now + GROUP_POLL_MS < next)
		next = now + GROUP_POLL_MS;
	if (next == UINT64_MAX)
		return -1;
	return next <= now ? 0 : (int)(next - now > INT_MAX ? INT_MAX : next - now);
}

static void run_deadlines(struct sup *s)
{
	uint64_t now = mono();

	if (s->status_due_ms != 0 && now >= s->status_due_ms)
		status_write_now(s);
	if (s->stopping && !s->killed && now >= s->kill_at_ms) {
		log_msg("grace period of %llums over: sending SIGKILL",
			(unsigned long long)s->o->grace_ms);
		kill_everything(s);
	}
	if (s->stopping)
		return;
	transitions_deadlines(s, now);
	if (s->watch_due_ms != 0 && now >= s->watch_due_ms)
		watch_reload(s, now);
	for (size_t i = 0; i < s->n; i++) {
		struct job *j = &s->jobs[i];
		if (j->phase != PH_WAITING || now < j->restart_at_ms)
			continue;
		j->restarts++;
		int r = start(s, j);
		if (r < 0) {
			/* fork failed (EAGAIN under a pids limit): try again later. */
			log_msg("unable to restart %s: %s", j->plan->name, strerror(-r));
			j->restarts--;
			j->restart_at_ms = now + s->o->backoff_max_ms;
		}
		status_changed(s);
	}
}

static void pump_output(struct sup *s, struct pollfd *pfd, size_t npfd)
{
	for (size_t k = 1; k < npfd; k++) {
		if (pfd[k].revents == 0)
			continue;
		for (size_t i = 0; i < s->n; i++) {
			struct job *j = &s->jobs[i];
			struct logpfx *p = NULL;
			if (pfd[k].fd == j->out[0])
				p = j->pfx_out;
			else if (pfd[k].fd == j->err[0])
				p = j->pfx_err;
			if (p != NULL)
				pump(p, pfd[k].fd, READS_PER_TURN);
		}
	}
}

static int loop(struct sup *s)
{
	struct pollfd pfd[1 + 2 * JOBS_MAX + 1 + 1 + CONTROL_CONNS_MAX];

	for (;;) {
		size_t npfd = 0, ctl_at, nctl;
		bool pending = settle_groups(s);

		reload_progress(s);
		if (s->stopping && all_gone(s))
			break;
		if (s->killed && mono() >= s->give_up_ms) {
			log_msg("processes survived SIGKILL for %dms; exiting anyway",
				KILL_SETTLE_MS);
			break;
		}
		pfd[npfd++] = (struct pollfd){.fd = s->sfd, .events = POLLIN};
		for (size_t i = 0; i < s->n; i++) {
			if (s->jobs[i].out[0] < 0)
				continue;
			pfd[npfd++] = (struct pollfd){.fd = s->jobs[i].out[0], .events = POLLIN};
			pfd[npfd++] = (struct pollfd){.fd = s->jobs[i].err[0], .events = POLLIN};
		}
		/* One slot for inotify (-1 without --watch-config: poll skips it),
		 * then the control socket and its clients. */
		pfd[npfd++] = (struct pollfd){.fd = s->watch_fd, .events = POLLIN};
		ctl_at = npfd;
		nctl = control_pollfds(s->ctl, pfd + npfd, sizeof(pfd) / sizeof(pfd[0]) - npfd);
		npfd += nctl;
		if (poll(pfd, npfd, poll_timeout(s, pending)) < 0 && errno != EINTR) {
			log_msg("poll: %s", strerror(errno));
			continue;
		}
		pump_output(s, pfd, ctl_at - 1);
		/* Signals before requests: a flood of clients never delays a stop. */
		if (pfd[0].revents & POLLIN)
			handle_signals(s);
		if (pfd[ctl_at - 1].revents & POLLIN)
			watch_read(s);
		control_serve(s->ctl, pfd + ctl_at, nctl, mono(), on_request, s);
		run_deadlines(s);
	}
	for (size_t i = 0; i < s->n; i++)
		drain_and_flush(&s->jobs[i]);
	return s->exit_code;
}

static int prepare(struct sup *s)
{
	bool piped_main = s->plan->all_mode;
	bool color = s->plan->all_mode && isatty(STDOUT_FILENO);
	size_t pad = 0;
	char err[512];

	for (size_t i = 0; i < s->n; i++) {
		size_t l = strlen(s->plan->jobs[i].name);
		if (s->plan->all_mode && l > pad)
			pad = l;
	}
	s->pad = pad;
	s->color = color;
	for (size_t i = 0; i < s->n; i++) {
		struct job *j = &s->jobs[i];
		int r;

		r = sandbox_prepare(&j->plan->sandbox, &j->sandbox, err, sizeof(err));
		if (r < 0) {
			log_msg("%s: %s", j->plan->name, err);
			return EXIT_SETUP_FAILED;
		}
		if (j->plan->kind == JOB_WORKER || piped_main) {
			r = open_pipes(s, j, pad, color);
			if (r < 0) {
				log_msg("unable to create pipes: %s", strerror(-r));
				return EXIT_SETUP_FAILED;
			}
		}
	}
	return 0;
}

/* Started with stdin, stdout or stderr closed (`>&-`), jobshim's next open
 * (signalfd, a lock file, a log pipe) would take that number, and a
 * worker's lines, written to fd 1, would land in it. /dev/null holds the
 * place instead. */
static void std_fds_reserve(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		/* The lowest free number: fd, as the ones below are open. */
		int nul = open("/dev/null", O_RDWR);
		if (nul > 2)
			close(nul);
	}
}

int supervise_run(const struct run_plan *plan, const struct options *o)
{
	static struct sup s; /* one a process; static keeps it off the stack */
	sigset_t set;
	int r;

	memset(&s, 0, sizeof(s));
	s.o = o;
	s.plan = plan;
	s.n = plan->n_jobs < JOBS_MAX ? plan->n_jobs : JOBS_MAX;
	s.pid1 = getpid() == 1;
	s.exit_code = 0;
	s.cur = plan;
	s.watch_fd = -1;
	for (size_t i = 0; i < s.n; i++) {
		struct job *j = &s.jobs[i];
		j->plan = &plan->jobs[i];
		j->out[0] = j->out[1] = j->err[0] = j->err[1] = -1;
		j->last_code = -1;
	}

	std_fds_reserve();
	s.sfd = signals_setup(&set);
	if (s.sfd < 0) {
		log_msg("unable to set up signals: %s", strerror(-s.sfd));
		return EXIT_SETUP_FAILED;
	}
	/* Not PID 1: orphans of the job come to jobshim rather than to the
	 * real init, so they are reaped and their groups can be waited for. */
	if (!s.pid1 && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		log_msg("unable to become a child subreaper: %s", strerror(errno));
	if (run_dir_setup(&s) < 0)
		return EXIT_ALREADY_RUNNING;
	r = prepare(&s);
	if (r != 0)
		return r;
	for (size_t i = 0; i < s.n; i++) {
		r = start(&s, &s.jobs[i]);
		if (r < 0) {
			log_msg("unable to start %s: %s", s.jobs[i].plan->name, strerror(-r));
			return EXIT_SETUP_FAILED;
		}
	}
	status_changed(&s);
	if (o->watch_config)
		watch_setup(&s);
	r = loop(&s);
	control_close(s.ctl);
	s.ctl = NULL;
	if (s.watch_fd >= 0)
		close(s.watch_fd);
	if (s.status_written)
		unlink(s.status_path);
	return r;
}

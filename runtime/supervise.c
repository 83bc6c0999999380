#include "supervise.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "backoff.h"
#include "log.h"
#include "logpfx.h"
#include "outq.h"
#include "procstat.h"
#include "reap.h"
#include "signame.h"
#include "spawn.h"
#include "status.h"
#include "xio.h"

#define JOBS_MAX	 STATUS_JOBS_MAX
#define GROUP_POLL_MS	 20   /* how often leftovers of a gone job are checked */
#define KILL_SETTLE_MS	 2000 /* after SIGKILL, at most this long for the reaping */
#define READY_AFTER_MS	 5000 /* an instance is "progressing" before that */
#define READS_PER_TURN	 16   /* fairness between busy pipes */
#define SIGNALS_PER_READ 16
#define SIGNALS_PER_TURN 64 /* a signal flood yields to deadlines */
#define JOB_PIPE_SIZE	 (1024 * 1024)
#define STATUS_DELAY_MS	 100  /* status.json lags changes by at most this */
#define STATUS_RETRY_MS	 1000 /* after a failed status.json write */

enum phase {
	PH_RUNNING, /* an instance runs */
	PH_CLEANUP, /* its leader exited; leftovers are being killed */
	PH_WAITING, /* backoff before the restart */
	PH_DONE,    /* no more instances (shutdown, or the main app exited) */
};

struct job {
	const struct job_plan *plan;
	struct sandbox *sandbox;
	enum phase phase;
	pid_t pid;	    /* the instance's leader while it runs, 0 after */
	pid_t group;	    /* its process group, kept until every member is gone */
	int out[2], err[2]; /* log pipes (worker); -1 for a transparent main app */
	struct logpfx *pfx_out, *pfx_err;
	size_t owed[2];	   /* bytes in the pipe that the last instance wrote */
	bool flush_due[2]; /* its last line is ended once they are read */
	unsigned restarts;
	unsigned streak; /* consecutive exits without a stable run */
	int last_code;	 /* -1: none yet */
	int last_wstatus;
	uint64_t started_ms, started_wall_ms, restart_at_ms;
};

struct sup {
	const struct options *o;
	const struct run_plan *plan;
	struct job jobs[JOBS_MAX];
	size_t n;
	int sfd;
	int run_fd; /* the run dir, -1 without one */
	bool pid1;
	bool ns_kill; /* PID 1 of one worker: a restart kills all jobshim's descendants */
	bool stopping;
	bool killed;
	uint64_t kill_at_ms, give_up_ms;
	int exit_code;
	bool exit_final; /* the main app's status: no later exit changes it */
	bool status_on;
	bool status_written;	/* status.json exists: unlink it at exit */
	bool status_failing;	/* the last write failed: retried */
	uint64_t status_due_ms; /* 0: nothing to write */
	char status_path[PATH_MAX];
	char run_dir[PATH_MAX - 256]; /* room for "/job-NAME.lock" */
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
	d.n_jobs = s->n;
	for (size_t i = 0; i < s->n; i++) {
		const struct job *j = &s->jobs[i];
		struct job_status *js = &d.jobs[i];

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
	int r = status_write_at(s->run_fd, &d);
	s->status_due_ms = 0;
	if (r == 0)
		s->status_written = true;
	if (r < 0 && !s->status_failing)
		log_msg("unable to write %s: %s; retrying every %dms", s->status_path, strerror(-r),
			STATUS_RETRY_MS);
	else if (r == 0 && s->status_failing)
		log_msg("%s written again", s->status_path);
	s->status_failing = r < 0;
	/* A failed write (ENOSPC) is retried until the file system recovers:
	 * a stale status.json must not be served for good. */
	if (r < 0)
		s->status_due_ms = mono() + STATUS_RETRY_MS;
}

/* The run dir holds status.json (owned by one jobshim a container: the one
 * holding jobshim.lock) and a lock a worker: a second jobshim for the same
 * job exits 75. Without a run dir of jobshim's own jobshim warns and runs
 * on without them. Everything in it is opened relative to its fd. */
static int run_dir_setup(struct sup *s)
{
	char name[JOB_NAME_MAX + 16];
	int r, fd;

	s->run_fd = -1;
	r = run_dir_resolve(s->o->run_dir, 1, s->run_dir, sizeof(s->run_dir));
	if (r >= 0)
		r = s->run_fd = run_dir_open(s->run_dir);
	if (r < 0) {
		const char *why = r == -EPERM	? "not a directory of jobshim's user that only it "
						  "can write to"
				  : r == -ELOOP ? "a symlink"
						: strerror(-r);
		log_msg("no run dir of jobshim's own (%s%s%s): no status for `jobshim stats`, no "
			"single-instance lock",
			s->o->run_dir ? s->o->run_dir : "", s->o->run_dir ? ": " : "", why);
		s->run_fd = -1;
		return 0;
	}
	for (size_t i = 0; i < s->n; i++) {
		const struct job_plan *p = s->jobs[i].plan;
		if (p->kind != JOB_WORKER)
			continue;
		snprintf(name, sizeof(name), "job-%s.lock", p->name);
		fd = run_dir_lock(s->run_fd, name);
		if (fd == -EWOULDBLOCK) {
			log_msg("%s already runs under another jobshim in this container (%s/%s is "
				"locked)",
				p->name, s->run_dir, name);
			return -EEXIST;
		}
		if (fd < 0)
			log_msg("unable to open %s/%s: %s", s->run_dir, name, strerror(-fd));
		/* fd stays open, and locked, until jobshim exits. */
	}
	fd = run_dir_lock(s->run_fd, "jobshim.lock");
	if (fd >= 0) {
		snprintf(s->status_path, sizeof(s->status_path), "%s/" STATUS_FILE, s->run_dir);
		s->status_on = true;
	} else {
		log_debug("another jobshim owns %s/" STATUS_FILE, s->run_dir);
	}
	return 0;
}

/* ------------------------------------------------------------ output */

/* A job's pipe k (0 stdout, 1 stderr) and where its lines go. */
static struct logpfx *pfx_of(const struct job *j, int k)
{
	return k == 0 ? j->pfx_out : j->pfx_err;
}

static int pipe_of(const struct job *j, int k)
{
	return k == 0 ? j->out[0] : j->err[0];
}

/* How much may be read from pipe k now: what the output queue has room
 * for (back-pressure: nothing while jobshim's stdout is stalled), and no
 * more than the last instance's bytes while its partial line waits. */
static size_t readable_now(struct job *j, int k)
{
	size_t n = logpfx_input_for(pfx_of(j, k), outq_room(outq_std(k + 1)));

	if (j->flush_due[k] && j->owed[k] < n)
		n = j->owed[k];
	return n;
}

/* The last instance's bytes are all read: end its last line without
 * newline, once the queue has room for it. */
static void flush_if_due(struct job *j, int k)
{
	struct logpfx *p = pfx_of(j, k);

	if (!j->flush_due[k] || j->owed[k] > 0)
		return;
	if (outq_room(outq_std(k + 1)) < logpfx_flush_max(p))
		return;
	logpfx_flush(p);
	j->flush_due[k] = false;
}

/* Up to `max` reads from pipe k (fairness between busy pipes). An output
 * error (EPIPE: jobshim's stdout was closed) is said once; the prefixer
 * discards from then on and reading goes on, so that the job never blocks
 * on a full pipe and supervision continues. */
static void pump(struct job *j, int k, int max)
{
	for (int i = 0; i < max; i++) {
		size_t n = readable_now(j, k);
		ssize_t r = logpfx_read_max(pfx_of(j, k), pipe_of(j, k), n);
		if (r > 0) {
			if (j->flush_due[k])
				j->owed[k] -= (size_t)r < j->owed[k] ? (size_t)r : j->owed[k];
			continue;
		}
		if (r < 0 && r != -EAGAIN && logpfx_output_error(pfx_of(j, k)) == (int)r) {
			log_msg("unable to write job output: %s; discarding it from now on",
				strerror((int)-r));
			continue;
		}
		break;
	}
	flush_if_due(j, k);
}

/* An instance's processes are gone, so everything it wrote is in the pipes
 * now: that many bytes are still its own, then its last line is ended.
 * They are read as the output drains (never waiting for it): the next
 * instance's bytes come after them. */
static void instance_done(struct job *j)
{
	if (j->out[0] < 0)
		return;
	for (int k = 0; k < 2; k++) {
		int avail = 0;
		if (ioctl(pipe_of(j, k), FIONREAD, &avail) < 0 || avail < 0)
			avail = 0;
		j->owed[k] = (size_t)avail;
		j->flush_due[k] = true;
		pump(j, k, READS_PER_TURN);
	}
}

/* True while a job's pipes hold output not yet handed to the queues. */
static bool output_left(const struct job *j)
{
	for (int k = 0; j->out[0] >= 0 && k < 2; k++) {
		int avail = 0;
		if (j->flush_due[k] || (ioctl(pipe_of(j, k), FIONREAD, &avail) == 0 && avail > 0))
			return true;
	}
	return false;
}

/* Bytes still in a job's pipes and prefixers. */
static uint64_t output_stuck(const struct job *j)
{
	uint64_t n = 0;

	for (int k = 0; j->out[0] >= 0 && k < 2; k++) {
		int avail = 0;
		if (ioctl(pipe_of(j, k), FIONREAD, &avail) == 0 && avail > 0)
			n += (uint64_t)avail;
		n += logpfx_pending(pfx_of(j, k));
	}
	return n;
}

/* Say how jobshim's stdout and stderr fare: one message each way. */
static void report_output_events(void)
{
	for (int fd = 1; fd <= 2; fd++) {
		const char *name = fd == 1 ? "stdout" : "stderr";
		int err;
		switch (outq_take_event(outq_std(fd), &err)) {
		case OUTQ_FAILED:
			log_msg("unable to write to %s: %s; holding its output and retrying", name,
				strerror(err));
			break;
		case OUTQ_RECOVERED:
			log_msg("%s works again; its held output follows", name);
			break;
		case OUTQ_CLOSED:
			log_msg("%s is closed (%s): discarding what goes there from now on", name,
				strerror(err));
			break;
		case OUTQ_NONE:
			break;
		}
	}
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
	lo.sink = outq_sink;
	lo.stream = "stdout", lo.out_fd = STDOUT_FILENO, lo.sink_ctx = outq_std(STDOUT_FILENO);
	j->pfx_out = logpfx_new(&lo);
	lo.stream = "stderr", lo.out_fd = STDERR_FILENO, lo.sink_ctx = outq_std(STDERR_FILENO);
	j->pfx_err = logpfx_new(&lo);
	if (j->pfx_out == NULL || j->pfx_err == NULL)
		return -ENOMEM;
	return 0;
}

/* ------------------------------------------------------------ instances */

static void begin_stop(struct sup *s, int received, const char *why);

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
	    /* only a terminal that is jobshim's own (tcgetpgrp works) */
	    .take_terminal = !piped && tcgetpgrp(STDIN_FILENO) >= 0,
	    .sandbox = j->sandbox,
	};
	struct spawn_result res;
	pid_t pid;

	if (s->plan->all_mode && j->plan->kind == JOB_WORKER)
		req.stdin_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	pid = spawn_job(&req, &res);
	if (req.stdin_fd >= 0)
		close(req.stdin_fd);
	if (pid < 0)
		return (int)pid;
	const char *more = res.fatal && j->plan->kind == JOB_WORKER ? "; not restarting" : "";
	if (res.step != NULL && strcmp(res.step, "exec") == 0)
		log_msg("%s: exec %s: %s%s%s", j->plan->name, j->plan->argv[0], strerror(res.err),
			res.fatal ? " (the command is longer than the kernel takes)" : "", more);
	else if (res.step != NULL)
		log_msg("%s: setup failed at step %s: %s%s", j->plan->name, res.step,
			strerror(res.err), more);
	if (pid == 0) {
		/* It can never start (SPEC §1: 125): jobshim's own error, not
		 * the job's; what else runs is stopped, nothing restarts. */
		j->phase = PH_DONE;
		j->last_code = res.status;
		s->exit_code = res.status;
		s->exit_final = true;
		begin_stop(s, SIGTERM, NULL); /* the message above says why */
		return 0;
	}
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

/* A forwarded signal goes to the job's main process (tini, systemd's
 * KillMode=mixed): a prefork master (Celery, gunicorn, nginx) tells its pool
 * itself. --signal-group sends it to the whole group, as dumb-init does. */
static void forward(const struct sup *s, const struct job *j, int sig)
{
	if (s->o->signal_group && j->group > 0) {
		/* The job may have moved itself to another group (a shell doing
		 * job control); then at least its main process gets it. */
		if (kill(-j->group, sig) < 0 && errno == ESRCH && j->pid > 0)
			kill(j->pid, sig);
		return;
	}
	if (j->pid > 0)
		kill(j->pid, sig);
}

/* True when pid is stopped (state T; t is a ptrace-stop). */
static bool stopped(pid_t pid)
{
	char path[40], line[512];
	struct procstat_fields f;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	n = read_file(path, line, sizeof(line));
	return n > 0 && procstat_parse_stat(line, (size_t)n, &f) == 0 && f.state == 'T';
}

/* A stop signal; a job stopped by SIGTSTP (Sidekiq's "quiet" sent to an app
 * that does not handle it) could not act on it before a SIGCONT, and would
 * cost the whole grace period: it gets one, as systemd sends. */
static void send_stop(const struct sup *s, const struct job *j, int sig)
{
	forward(s, j, sig);
	if (sig != SIGCONT && j->pid > 0 && stopped(j->pid))
		forward(s, j, SIGCONT);
}

/* What is left of a job whose main process exited during a stop (or the main
 * app's group after it exited): SIGTERM now, SIGKILL at the grace's end. */
static void term_leftovers(const struct job *j)
{
	if (group_alive(j->group)) {
		kill(-j->group, SIGTERM);
		kill(-j->group, SIGCONT);
	}
}

/* "sidekiq", "web, sidekiq": the jobs a stop ends, for its log line. */
static void running_names(const struct sup *s, char *buf, size_t cap)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < s->n && len < cap; i++) {
		const struct job *j = &s->jobs[i];
		if (j->phase == PH_DONE)
			continue;
		int n = snprintf(buf + len, cap - len, "%s%s", len > 0 ? ", " : "", j->plan->name);
		if (n < 0)
			break;
		len += (size_t)n;
	}
	if (buf[0] == '\0')
		snprintf(buf, cap, "%s", s->n == 1 ? s->jobs[0].plan->name : "the jobs");
}

/* The one line that says why a stop began (worker and @all modes; the main
 * app alone stays transparent): "SIGTERM received: stopping sidekiq (grace
 * 8s)" or "web exited with status 3: stopping the other jobs". */
static void say_why(const struct sup *s, const char *why, int stop_sig)
{
	char names[160], grace[32], with[32] = "";

	if (s->plan->n_jobs == 1 && s->jobs[0].plan->kind == JOB_MAIN && !s->plan->all_mode) {
		log_debug("%s: stopping", why);
		return;
	}
	running_names(s, names, sizeof(names));
	format_ms(s->o->grace_ms, grace, sizeof(grace));
	if (s->o->stop_signal != 0 && signal_name(stop_sig) != NULL)
		snprintf(with, sizeof(with), " with SIG%s", signal_name(stop_sig));
	log_msg("%s: stopping %s%s (grace %s)", why, names, with, grace);
}

/* A stop: no more restarts; the stop signal (--stop-signal, else the one
 * received) to every job's main process; SIGKILL for all that is left
 * once the grace period is over (run_deadlines). A second stop signal
 * during the grace is forwarded again. why: NULL when the caller said it. */
static void begin_stop(struct sup *s, int received, const char *why)
{
	int sig = s->o->stop_signal != 0 ? s->o->stop_signal : received;

	if (!s->stopping) {
		s->stopping = true;
		s->kill_at_ms = mono() + s->o->grace_ms;
		if (why != NULL)
			say_why(s, why, sig);
	}
	for (size_t i = 0; i < s->n; i++) {
		struct job *j = &s->jobs[i];
		if (j->phase == PH_WAITING)
			j->phase = PH_DONE; /* no more restarts */
		if (j->phase == PH_RUNNING)
			send_stop(s, j, sig);
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

/* Before a restart, what the last instance left: its process group; as
 * PID 1 of one worker every process descending from jobshim (setsid daemons
 * re-parented to it too), never one that entered the namespace from outside
 * (docker exec); in @all the job's cgroup, where jobshim made one. True
 * while any is left (they are killed again at each check). */
static bool kill_leftovers(const struct sup *s, const struct job *j)
{
	bool left = false;

	if (group_alive(j->group)) {
		kill(-j->group, SIGKILL);
		left = true;
	}
	if (s->ns_kill && reap_signal_descendants(NULL, SIGKILL) > 0)
		left = true;
	if (!s->ns_kill)
		(void)sandbox_cgroup_kill(j->sandbox, &j->plan->sandbox);
	return left;
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
			 * is left of its group gets SIGTERM, every worker (in
			 * @all) the stop signal, and all at most the grace. */
			char why[192], what[96];
			s->exit_final = true;
			j->phase = PH_DONE;
			term_leftovers(j);
			status_describe(wstatus, what, sizeof(what));
			snprintf(why, sizeof(why), "%s %s", j->plan->name, what);
			if (s->plan->all_mode && !s->stopping) {
				log_msg("%s: stopping the other jobs", why);
				begin_stop(s, SIGTERM, NULL);
			} else {
				begin_stop(s, SIGTERM, why);
			}
		} else if (s->stopping) {
			char what[96], ran[32];
			j->phase = PH_DONE;
			term_leftovers(j);
			status_describe(wstatus, what, sizeof(what));
			format_ms(mono() - j->started_ms, ran, sizeof(ran));
			log_msg("%s %s after %s", j->plan->name, what, ran);
		} else {
			/* One instance at a time: what it left behind dies now. */
			j->phase = PH_CLEANUP;
			kill_leftovers(s, j);
		}
		return;
	}
	/* An orphan we adopted: nothing more to do than reaping it. */
}

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
		if (j->phase == PH_CLEANUP ? kill_leftovers(s, j) : group_alive(j->group)) {
			pending = true;
			continue;
		}
		j->group = 0;
		instance_done(j);
		if (j->phase == PH_CLEANUP && s->stopping)
			j->phase = PH_DONE; /* it died as the stop began */
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
static void blocked_set(sigset_t *set)
{
	static const int faults[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP};

	sigfillset(set);
	for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++)
		sigdelset(set, faults[i]);
}

int supervise_block_signals(void)
{
	sigset_t set;

	blocked_set(&set);
	return sigprocmask(SIG_SETMASK, &set, NULL) < 0 ? -errno : 0;
}

static int signals_setup(sigset_t *set)
{
	int fd;

	blocked_set(set);
	if (sigprocmask(SIG_SETMASK, set, NULL) < 0)
		return -errno;
	fd = signalfd(-1, set, SFD_CLOEXEC | SFD_NONBLOCK);
	return fd < 0 ? -errno : fd;
}

static void handle_signal(struct sup *s, int sig);

static void handle_signals(struct sup *s)
{
	struct signalfd_siginfo batch[SIGNALS_PER_READ];
	ssize_t got = 0;

	/* At most SIGNALS_PER_TURN a turn: a flood of queued real-time
	 * signals must not keep jobshim from its deadlines. A stop signal
	 * still comes at once: the kernel hands out the lowest-numbered
	 * pending signal first, and the standard ones are below SIGRTMIN. */
	for (int turn = 0; turn < SIGNALS_PER_TURN / SIGNALS_PER_READ; turn++) {
		got = xread(s->sfd, batch, sizeof(batch));
		if (got <= 0)
			break;
		for (size_t b = 0; b < (size_t)got / sizeof(batch[0]); b++)
			handle_signal(s, (int)batch[b].ssi_signo);
		if ((size_t)got < sizeof(batch))
			break;
	}
	/* SIGCHLDs coalesce: one may stand for many exits. */
	reap_all(on_exit_status, s);
}

static void handle_signal(struct sup *s, int sig)
{
	switch (sig) {
	case SIGCHLD:
		break; /* reaped by handle_signals */
	case SIGTERM:
	case SIGINT:
	case SIGQUIT: {
		char why[48];
		snprintf(why, sizeof(why), "SIG%s received", signal_name(sig));
		begin_stop(s, sig, why);
		break;
	}
	default:
		for (size_t i = 0; i < s->n; i++)
			forward(s, &s->jobs[i], sig);
	}
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
	if (groups_pending && now + GROUP_POLL_MS < next)
		next = now + GROUP_POLL_MS;
	for (int fd = 1; fd <= 2; fd++) {
		uint64_t r = outq_retry_at(outq_std(fd));
		if (r != 0 && r < next)
			next = r;
	}
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

/* The poll set: signals first, then each job pipe that may be read now
 * (none while the output it goes to is full: back-pressure), then jobshim's
 * stdout and stderr while they hold output. */
struct pollset {
	struct pollfd pfd[1 + 2 * JOBS_MAX + 2];
	struct job *job[1 + 2 * JOBS_MAX + 2];
	int stream[1 + 2 * JOBS_MAX + 2];
	nfds_t n;
};

static void pollset_add(struct pollset *ps, int fd, short events, struct job *j, int k)
{
	ps->pfd[ps->n] = (struct pollfd){.fd = fd, .events = events};
	ps->job[ps->n] = j;
	ps->stream[ps->n] = k;
	ps->n++;
}

static void pollset_outputs(struct sup *s, struct pollset *ps)
{
	for (size_t i = 0; i < s->n; i++) {
		struct job *j = &s->jobs[i];
		for (int k = 0; j->out[0] >= 0 && k < 2; k++)
			if (readable_now(j, k) > 0)
				pollset_add(ps, pipe_of(j, k), POLLIN, j, k);
	}
	for (int fd = 1; fd <= 2; fd++) {
		int ofd = outq_poll_fd(outq_std(fd));
		if (ofd >= 0)
			pollset_add(ps, ofd, POLLOUT, NULL, fd);
	}
}

static void pump_output(struct pollset *ps)
{
	for (nfds_t i = 0; i < ps->n; i++)
		if (ps->pfd[i].revents != 0 && ps->job[i] != NULL)
			pump(ps->job[i], ps->stream[i], READS_PER_TURN);
	outq_flush(outq_std(STDOUT_FILENO));
	outq_flush(outq_std(STDERR_FILENO));
	report_output_events();
}

/* Once the jobs are gone: what they wrote goes out for what is left of the
 * grace period (at least 1 s); a stalled reader does not keep jobshim. */
static void drain_at_exit(struct sup *s)
{
	uint64_t now = mono(), deadline = now + 1000;

	if (s->stopping && s->kill_at_ms > deadline)
		deadline = s->kill_at_ms;
	for (size_t i = 0; i < s->n; i++) {
		struct job *j = &s->jobs[i];
		for (int k = 0; j->out[0] >= 0 && k < 2; k++) {
			int avail = 0;
			if (ioctl(pipe_of(j, k), FIONREAD, &avail) < 0 || avail < 0)
				avail = 0;
			j->owed[k] = (size_t)avail;
			j->flush_due[k] = true;
		}
	}
	for (;;) {
		struct pollset ps = {.n = 0};
		bool left = false;
		uint64_t next = deadline;

		for (size_t i = 0; i < s->n; i++) {
			struct job *j = &s->jobs[i];
			for (int k = 0; j->out[0] >= 0 && k < 2; k++)
				pump(j, k, READS_PER_TURN);
			left = left || output_left(j);
		}
		outq_flush(outq_std(STDOUT_FILENO));
		outq_flush(outq_std(STDERR_FILENO));
		report_output_events();
		if (!left && outq_pending(outq_std(1)) == 0 && outq_pending(outq_std(2)) == 0)
			return;
		now = mono();
		if (now >= deadline)
			return;
		pollset_outputs(s, &ps);
		for (int fd = 1; fd <= 2; fd++) {
			uint64_t r = outq_retry_at(outq_std(fd));
			if (r != 0 && r < next)
				next = r;
		}
		(void)poll(ps.pfd, ps.n, (int)(next > now ? next - now : 0));
	}
}

static int loop(struct sup *s)
{
	uint64_t stuck = 0;

	for (;;) {
		struct pollset ps = {.n = 0};
		bool pending = settle_groups(s);

		if (s->stopping && all_gone(s))
			break;
		if (s->killed && mono() >= s->give_up_ms) {
			log_msg("processes survived SIGKILL for %dms; exiting anyway",
				KILL_SETTLE_MS);
			break;
		}
		pollset_add(&ps, s->sfd, POLLIN, NULL, 0);
		pollset_outputs(s, &ps);
		if (poll(ps.pfd, ps.n, poll_timeout(s, pending)) < 0 && errno != EINTR) {
			log_msg("poll: %s", strerror(errno));
			continue;
		}
		pump_output(&ps);
		if (ps.pfd[0].revents & POLLIN)
			handle_signals(s);
		run_deadlines(s);
	}
	drain_at_exit(s);
	for (size_t i = 0; i < s->n; i++)
		stuck += output_stuck(&s->jobs[i]);
	log_finish(mono(), stuck);
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
	/* Only with a /proc of its own namespace: another one's PID 1 is not
	 * jobshim, and its descendants are not the job's. */
	s.ns_kill = s.pid1 && s.n == 1 && plan->jobs[0].kind == JOB_WORKER && !plan->all_mode &&
		    proc_is_ours(NULL);
	s.exit_code = 0;
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
		if (s.stopping) { /* an earlier job can never start */
			s.jobs[i].phase = PH_DONE;
			continue;
		}
		r = start(&s, &s.jobs[i]);
		if (r < 0) {
			/* Nothing is left running unsupervised: what started
			 * gets the stop signal, the grace, SIGKILL. */
			char why[160];
			snprintf(why, sizeof(why), "unable to start %s: %s", s.jobs[i].plan->name,
				 strerror(-r));
			s.exit_code = EXIT_SETUP_FAILED;
			s.exit_final = true;
			s.jobs[i].phase = PH_DONE;
			if (i == 0)
				log_msg("%s", why);
			else
				begin_stop(&s, SIGTERM, why);
			s.stopping = true;
		}
	}
	status_changed(&s);
	r = loop(&s);
	if (s.status_written)
		unlinkat(s.run_fd, STATUS_FILE, 0);
	return r;
}

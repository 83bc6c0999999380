/* The supervisor (STYLE pattern 1): one poll loop over the signalfd, the
 * job pipes, the schedules' timer, inotify and the control socket, its
 * timeout the next deadline. Here: the loop and its deadlines, signals,
 * the stop and the kills, reaping, and job_on, the one place where a job's
 * state changes (jobstate.h has the table). The other parts are in sup_*.c;
 * supervise_int.h holds what they share. */
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
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "backoff.h"
#include "config.h"
#include "control.h"
#include "cron.h"
#include "duration.h"
#include "jobstate.h"
#include "log.h"
#include "logpfx.h"
#include "oneshot.h"
#include "outq.h"
#include "procstat.h"
#include "reap.h"
#include "reload.h"
#include "sandbox.h"
#include "signame.h"
#include "spawn.h"
#include "status.h"
#include "supervise_int.h"
#include "xio.h"

#define GROUP_POLL_MS	     20	  /* how often leftovers of a gone job are checked */
#define KILL_SETTLE_MS	     2000 /* after SIGKILL, at most this long for the reaping */
#define READY_AFTER_MS	     5000 /* an instance is "progressing" before that */
#define READS_PER_TURN	     16	  /* fairness between busy pipes */
#define SHORT_READ	     4096 /* below any read logpfx asks for (64 KiB) */
#define SIGNALS_PER_READ     16
#define SIGNALS_PER_TURN     64	  /* a signal flood yields to deadlines */
#define STATUS_RETRY_MS	     1000 /* after a failed status.json write */
#define JOB_PIPE_SIZE	     (1024 * 1024)
#define STATUS_DELAY_MS	     100  /* status.json lags changes by at most this */
#define WATCH_DEBOUNCE_MS    250  /* a burst of changes to the file is one reload */
#define WATCH_MAX_DELAY_MS   2000 /* ... but a steady stream still reloads this often */
#define WATCH_BUSY_RETRY_MS  200  /* a change seen during a restart waits this long */
#define WATCH_READS_PER_TURN 4

/* What the job is to the state table (jobstate.h). */
static enum job_role job_role(const struct sup *s, const struct job *j)
{
	switch (j->plan->kind) {
	case JOB_MAIN:
		return JR_MAIN;
	case JOB_WORKER:
		return JR_WORKER;
	case JOB_DEPLOY:
		return s->plan->oneshot ? JR_STANDALONE : JR_DEPLOY;
	case JOB_SCHEDULED:
		break;
	}
	return s->plan->oneshot ? JR_STANDALONE : JR_SCHEDULED;
}

static int job_on(struct sup *s, struct job *j, enum job_event ev, int64_t arg);

static const char *kind_name(enum job_kind k)
{
	static const char *const names[] = {"main", "worker", "deploy", "scheduled"};

	return names[k];
}

static void oneshot_status(const struct sup *s, const struct job *j, struct job_status *js);

/* Something stats shows changed. Changes are written together, at most
 * STATUS_DELAY_MS after the first one: a job that starts and exits at once
 * costs no file system work, and a crash loop one write a restart. */
static void status_changed(struct sup *s)
{
	if (s->status_on && s->status_due_ms == 0)
		s->status_due_ms = mono() + STATUS_DELAY_MS;
}

/* The same jobshim answers the control commands. Its socket opens with the
 * first status write, like status.json at most STATUS_DELAY_MS after the
 * start: a job that exits at once costs no socket (a bind on the run dir's
 * file system is a tenth of a start-up), and `jobshim restart` finds both
 * at the same moment. */
static void control_open(struct sup *s)
{
	int r = control_listen(s->run_dir, &s->ctl);

	s->ctl_due = false;
	if (r < 0)
		log_msg("no control channel (%s/%s: %s): `jobshim restart|signal|reload` "
			"cannot reach this jobshim",
			s->run_dir, CONTROL_SOCKET,
			r == -EEXIST ? "exists and is not jobshim's socket" : strerror(-r));
}

static int run_dir_open_locked(struct sup *s);

static void status_write_now(struct sup *s)
{
	struct status_doc *d = &s->doc;

	if (s->run_dir_due) {
		s->run_dir_due = false;
		s->status_on = false; /* until jobshim.lock says it is ours */
		(void)run_dir_open_locked(s);
	}
	if (!s->status_on)
		return;
	if (s->ctl_due)
		control_open(s);
	memset(d, 0, sizeof(*d));
	d->jobshim_pid = getpid();
	d->written_unix_ms = (int64_t)now_ms(CLOCK_REALTIME);
	d->ready_after_ms = READY_AFTER_MS;
	for (size_t i = 0; i < s->n; i++) {
		const struct job *j = &s->jobs[i];
		struct job_status *js = &d->jobs[d->n_jobs];

		if (j->removed)
			continue; /* a reload removed it: gone from stats */
		d->n_jobs++;

		snprintf(js->name, sizeof(js->name), "%s", j->plan->name);
		snprintf(js->kind, sizeof(js->kind), "%s", kind_name(j->plan->kind));
		snprintf(js->size, sizeof(js->size), "%s",
			 j->plan->size != NULL ? j->plan->size->name : "");
		js->pid = j->pid;
		js->restarts = j->restarts;
		js->last_exit_code = j->last_code;
		js->last_oom = j->last_oom;
		js->unstable = j->streak;
		js->started_unix_ms = (int64_t)j->started_wall_ms;
		js->state = jobstate_run_state(j->phase, job_role(s, j), s->stopping, j->os.state);
		if (j->phase == JS_WAITING)
			js->next_start_unix_ms =
			    (int64_t)(now_ms(CLOCK_REALTIME) + (j->restart_at_ms - mono()));
		if (is_oneshot(j))
			oneshot_status(s, j, js);
	}
	int r = status_write_at(s->run_fd, d);
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
static int run_dir_open_locked(struct sup *s)
{
	char name[JOB_NAME_MAX + 16];
	int r, fd;

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
		/* A scheduled job on its schedule locks each run instead. */
		if (p->kind == JOB_MAIN || (p->kind == JOB_SCHEDULED && !s->plan->oneshot))
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
		s->ctl_due = true;
	} else {
		log_debug("another jobshim owns %s/" STATUS_FILE, s->run_dir);
	}
	return 0;
}

/* The main app alone takes no lock, so its run dir waits for the first
 * status write, STATUS_DELAY_MS after the start: a main app that exits at
 * once (a one-off command under jobshim, as under tini) costs no file
 * system work at all, which is a tenth of a start-up. Every other mode
 * locks its jobs before the first start. */
static int run_dir_setup(struct sup *s)
{
	bool locks = false;

	s->run_fd = -1;
	for (size_t i = 0; i < s->n; i++)
		locks |= s->jobs[i].plan->kind != JOB_MAIN;
	if (locks)
		return run_dir_open_locked(s);
	s->run_dir_due = true;
	s->status_on = true; /* so that the first change schedules a write */
	return 0;
}

/* A job's job-NAME.lock in the run dir, held in j->lock_fd: 0 (also
 * without a run dir, or when the lock cannot be opened: the job runs, as at
 * start-up), -EEXIST when another jobshim of the container holds it. */
static int job_lock(struct sup *s, struct job *j)
{
	char name[JOB_NAME_MAX + 16];
	int fd;

	if (s->run_fd < 0)
		return 0;
	snprintf(name, sizeof(name), "job-%s.lock", j->plan->name);
	fd = run_dir_lock(s->run_fd, name);
	if (fd == -EWOULDBLOCK)
		return -EEXIST;
	if (fd >= 0)
		j->lock_fd = fd;
	return 0;
}

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
			/* A pipe read shorter than asked (the prefixer always asks
			 * for more than SHORT_READ) emptied the pipe: poll says
			 * when more comes, so no EAGAIN read follows. A worker
			 * writing line by line costs one read a line, not two. */
			if ((size_t)r < n && r < SHORT_READ)
				break;
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
		switch (outq_take_event(outq_std_peek(fd), &err)) {
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
	int r;

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
	r = logpfx_new(&lo, &j->pfx_out);
	if (r < 0)
		return r;
	lo.stream = "stderr", lo.out_fd = STDERR_FILENO, lo.sink_ctx = outq_std(STDERR_FILENO);
	return logpfx_new(&lo, &j->pfx_err);
}

/* ------------------------------------------------------------ instances */

static void begin_stop(struct sup *s, int received, const char *why);

/* Starts an instance (JA_SPAWN's work): 0 it runs, 1 it can never start
 * (SPEC §1: 125; j->last_code says so), -ECANCELED a scheduled job's run
 * could not start, else -errno (fork failed). job_spawn says which to the
 * table. */
static int spawn_instance(struct sup *s, struct job *j)
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
	    .child_mask = s->o->keep_sigmask ? &s->orig_mask : NULL,
	    .cwd_fd = s->cwd_fd,
	};
	struct spawn_result res;
	pid_t pid;

	if ((s->plan->all_mode || s->plan->cron_mode) && j->plan->kind != JOB_MAIN)
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
	if (pid == 0 && j->plan->kind == JOB_SCHEDULED && !s->plan->oneshot) {
		/* A broken scheduled job never stops the others: only this
		 * run failed (schedule_fire). */
		j->last_code = res.status;
		return -ECANCELED;
	}
	if (pid == 0) {
		j->last_code = res.status;
		return 1;
	}
	j->pid = j->group = pid;
	if (req.take_terminal)
		s->gave_terminal = true;
	j->started_ms = mono();
	j->started_wall_ms = now_ms(CLOCK_REALTIME);
	j->timed_out = j->timeout_killed = false;
	j->timeout_at_ms = j->started_ms + j->plan->timeout_ms;
	if (sandbox_oom_kills(j->sandbox, &j->oom_before) < 0)
		j->oom_before = UINT64_MAX;
	log_debug("%s started as pid %d", j->plan->name, (int)pid);
	return 0;
}

/* JA_SPAWN: an instance, and the table told how it went. 0 also when it
 * can never start (what else runs is stopped then); else as
 * spawn_instance. */
static int job_spawn(struct sup *s, struct job *j)
{
	int r = spawn_instance(s, j);

	if (r == 0) {
		job_on(s, j, JE_SPAWNED, 0);
	} else if (r == 1) {
		job_on(s, j, JE_NEVER_STARTS, 0);
		r = 0;
	}
	return r;
}

/* JA_NEVER_STARTS: jobshim's own error, not the job's (SPEC §1: 125); what
 * else runs is stopped, nothing restarts. */
static void never_starts(struct sup *s, const struct job *j)
{
	s->exit_code = j->last_code;
	s->exit_final = true;
	begin_stop(s, SIGTERM, NULL); /* spawn_instance's message says why */
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

static void control_stopping(struct sup *s);

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
		if (j->phase == JS_DONE || j->phase == JS_IDLE || j->phase == JS_HELD)
			continue; /* nothing of it runs */
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
	duration_format(grace, sizeof(grace), s->o->grace_ms, DURATION_TERSE);
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

	if (!s->stopping)
		control_stopping(s); /* what was asked for is not completed now */
	if (!s->stopping || s->stop_send_at_ms != 0) {
		/* The grace starts when the stop signal is sent: after the
		 * stop delay, or now when a second stop signal cut it short. */
		if (!s->stopping && why != NULL)
			say_why(s, why, sig);
		s->stopping = true;
		s->stop_send_at_ms = 0;
		s->kill_at_ms = mono() + s->o->grace_ms;
	}
	for (size_t i = 0; i < s->n; i++)
		job_on(s, &s->jobs[i], JE_STOP, sig);
	status_changed(s);
}

/* A stop signal received (SIGTERM, SIGINT, SIGQUIT). With --stop-delay the
 * stop begins now (no more restarts) but the signal waits, so that a load
 * balancer stops sending requests first; a second stop signal during the
 * wait sends it at once. */
static void stop_requested(struct sup *s, int received, const char *why)
{
	if (s->o->stop_delay_ms == 0 || s->stopping) {
		begin_stop(s, received, why);
		return;
	}
	say_why(s, why, s->o->stop_signal != 0 ? s->o->stop_signal : received);
	control_stopping(s);
	s->stopping = true;
	s->stop_sig_pending = received;
	s->stop_send_at_ms = mono() + s->o->stop_delay_ms;
	s->kill_at_ms = s->stop_send_at_ms + s->o->grace_ms;
	for (size_t i = 0; i < s->n; i++)
		job_on(s, &s->jobs[i], JE_STOP_DELAYED, 0);
	log_debug("the stop signal follows in %llums (stop delay)",
		  (unsigned long long)s->o->stop_delay_ms);
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

/* Whether the kernel's OOM killer ended the instance (SPEC §6): it died of
 * SIGKILL (or its shell reported 137) and its cgroup's oom_kill grew. */
static bool oom_killed(const struct job *j, int wstatus)
{
	uint64_t kills;
	bool sigkill = (WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL) ||
		       (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 128 + SIGKILL);

	return sigkill && j->oom_before != UINT64_MAX &&
	       sandbox_oom_kills(j->sandbox, &kills) == 0 && kills > j->oom_before;
}

/* "exited with status 1", "killed by signal 9 (SIGKILL)", or, when the
 * OOM killer did it, "killed by the OOM killer (memory.max 256Mi)". */
static void describe_exit(const struct job *j, int wstatus, char *what, size_t cap)
{
	char limit[32];

	if (!j->last_oom) {
		status_describe(wstatus, what, cap);
		return;
	}
	sandbox_oom_limit(j->sandbox, limit, sizeof(limit));
	snprintf(what, cap, "killed by the OOM killer (memory.max %s)", limit);
}

static void on_job_stopped(struct sup *s, const struct job *j, int wstatus);

static void exit_with_main(struct sup *s, struct job *j);

static void orphan_reaped(const struct sup *s, pid_t pid, int wstatus);

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
		j->last_oom = oom_killed(j, wstatus);
		/* A one-shot's run decides (oneshot_attempt_end, once the group
		 * is gone). */
		if (!is_oneshot(j) && !s->exit_final)
			s->exit_code = j->last_code;
		job_on(s, j, JE_EXITED, wstatus);
		return;
	}
	/* An orphan we adopted: nothing more to do than reaping it. */
	orphan_reaped(s, pid, wstatus);
}

/* JA_MAIN_EXITED: the main app ends the container with its status; what is
 * left of its group gets SIGTERM, every worker (in @all) the stop signal,
 * and all at most the grace. */
static void main_exited(struct sup *s, struct job *j, int wstatus)
{
	char why[192], what[96];

	s->exit_final = true;
	if (s->o->exit_with_main) {
		exit_with_main(s, j);
		return;
	}
	term_leftovers(j);
	describe_exit(j, wstatus, what, sizeof(what));
	snprintf(why, sizeof(why), "%s %s", j->plan->name, what);
	if (s->plan->all_mode && !s->stopping) {
		log_msg("%s: stopping the other jobs", why);
		begin_stop(s, SIGTERM, NULL);
	} else {
		begin_stop(s, SIGTERM, why);
	}
}

/* JA_EXITED_STOPPING: a worker's instance ended during the stop. */
static void exited_stopping(const struct job *j, int wstatus)
{
	char what[96], ran[32];

	term_leftovers(j);
	describe_exit(j, wstatus, what, sizeof(what));
	duration_format(ran, sizeof(ran), mono() - j->started_ms, DURATION_TERSE);
	log_msg("%s %s after %s", j->plan->name, what, ran);
}

/* JA_BACKOFF: a worker instance's whole process group is gone. */
static void schedule_restart(struct sup *s, struct job *j)
{
	uint64_t ran = mono() - j->started_ms, delay;
	char what[96], ran_s[32], delay_s[32];

	j->streak = backoff_streak(j->streak, ran, s->o->backoff_reset_ms);
	delay = backoff_delay(j->streak, s->o->backoff_min_ms, s->o->backoff_max_ms);
	j->restart_at_ms = mono() + delay;
	/* The OOM killer's kill may be counted a moment after the reaping. */
	if (!j->last_oom)
		j->last_oom = oom_killed(j, j->last_wstatus);
	describe_exit(j, j->last_wstatus, what, sizeof(what));
	duration_format(ran_s, sizeof(ran_s), ran, DURATION_TERSE);
	duration_format(delay_s, sizeof(delay_s), delay, DURATION_TERSE);
	log_msg("%s %s after %s; restart %u in %s", j->plan->name, what, ran_s, j->restarts + 1,
		delay_s);
}

/* Moves jobs whose leftovers are gone on; true while anything is pending. */
static bool settle_groups(struct sup *s)
{
	bool pending = false;

	for (size_t i = 0; i < s->n; i++) {
		struct job *j = &s->jobs[i];
		if (j->phase != JS_CLEANUP && j->phase != JS_DONE)
			continue;
		if (j->group == 0)
			continue;
		/* A one-shot attempt that ended in a stop keeps the grace. */
		bool kill_now = j->phase == JS_CLEANUP && !(is_oneshot(j) && s->stopping);
		if (kill_now ? kill_leftovers(s, j) : group_alive(j->group)) {
			pending = true;
			continue;
		}
		j->group = 0;
		instance_done(j);
		job_on(s, j, JE_GONE, 0);
		status_changed(s);
	}
	return pending;
}

static bool all_gone(const struct sup *s)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct job *j = &s->jobs[i];
		if (j->pid != 0 || j->group != 0 || j->phase == JS_RUNNING ||
		    j->phase == JS_CLEANUP)
			return false;
	}
	return true;
}

/* ------------------------------------------------------------ issue 17 */
/* Forwarding (--rewrite, tini's and dumb-init's targets), job control on a
 * terminal, dumb-init's exit, orphan lines. */

static bool is_tty_stop(int sig)
{
	return sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/* SIGCONT goes to the job's whole group, whatever the forwarding mode: a
 * stop from the terminal stopped all of it. */
static void continue_job(const struct sup *s, const struct job *j)
{
	if (j->group > 0 && kill(-j->group, SIGCONT) == 0)
		return;
	forward(s, j, SIGCONT);
}

/* Stops jobshim itself, as a shell's job stops: the shell that started it
 * gets its prompt back. The terminal goes back to jobshim's own process
 * group first (SIGTTOU is blocked, so that is allowed), where the shell
 * expects it. PID 1 has no shell to return to (and cannot be stopped). */
static void suspend_self(struct sup *s)
{
	if (s->pid1)
		return;
	if (s->gave_terminal)
		(void)tcsetpgrp(STDIN_FILENO, getpgrp());
	log_debug("the job stopped: jobshim stops too (fg or SIGCONT resumes both)");
	kill(getpid(), SIGSTOP);
	/* Continued: the SIGCONT is read from the signalfd next. */
}

/* SIGCONT received (the shell's fg, bg or kill -CONT): the job goes on, and
 * when jobshim is in the foreground again (fg), so is the job. */
static void resume_jobs(struct sup *s)
{
	if (!s->gave_terminal || tcgetpgrp(STDIN_FILENO) != getpgrp())
		return;
	for (size_t i = 0; i < s->n; i++)
		if (s->jobs[i].plan->kind == JOB_MAIN && s->jobs[i].group > 0)
			(void)tcsetpgrp(STDIN_FILENO, s->jobs[i].group);
}

/* A job's main process stopped. Stopped by the terminal (Ctrl-Z: SIGTSTP to
 * the foreground group, which is the job's), jobshim stops too. The status
 * may be stale (continued since): only a process still stopped counts. */
static void on_job_stopped(struct sup *s, const struct job *j, int wstatus)
{
	if (!is_tty_stop(WSTOPSIG(wstatus)) || j->pid <= 0 || !stopped(j->pid))
		return;
	suspend_self(s);
}

/* reap_all_stops' report of a stopped child (not an exit). */
static void on_child_stopped(void *ctx, pid_t pid, int wstatus)
{
	struct sup *s = ctx;

	for (size_t i = 0; i < s->n; i++)
		if (s->jobs[i].pid == pid)
			on_job_stopped(s, &s->jobs[i], wstatus);
}

/* Every signal but SIGCHLD and the stop signals: rewritten (--rewrite, 0
 * drops it), then forwarded. Under the dumb-init name TSTP, TTIN and TTOU
 * also stop jobshim once forwarded (dumb-init's shell job control). */
static void forward_signal(struct sup *s, int sig)
{
	int fwd = sig_rewrite_apply(&s->o->rewrite, sig);
	const char *name = signal_name(sig), *as = signal_name(fwd);

	if (fwd != 0) {
		for (size_t i = 0; i < s->n; i++)
			if (fwd == SIGCONT)
				continue_job(s, &s->jobs[i]);
			else
				forward(s, &s->jobs[i], fwd);
		if (fwd != sig)
			log_trace("SIG%s forwarded as SIG%s", name ? name : "?", as ? as : "?");
		else
			log_trace("SIG%s forwarded", name ? name : "?");
	} else {
		log_trace("SIG%s received: dropped (--rewrite)", name ? name : "?");
	}
	if (s->o->suspend_on_tty_signals && is_tty_stop(sig))
		suspend_self(s);
	if (sig == SIGCONT)
		resume_jobs(s);
}

/* Under the dumb-init name: once the main process exits, SIGTERM to the rest
 * of its group (in group mode) and jobshim exits at once, as dumb-init does,
 * without waiting for the rest. */
static void exit_with_main(struct sup *s, struct job *j)
{
	if (s->o->term_leftovers && group_alive(j->group))
		kill(-j->group, SIGTERM);
	j->group = 0;
	s->stopping = true;
	s->exit_now = true;
}

/* -v, tini -w: a line for each reaped orphan (a process re-parented to
 * jobshim, not one of its jobs). Under the tini name in tini's words, so
 * that log filters written for tini keep working. */
static void orphan_reaped(const struct sup *s, pid_t pid, int wstatus)
{
	char what[96];

	if (!s->o->orphan_lines)
		return;
	if (s->o->persona == PERSONA_TINI) {
		log_msg("Reaped zombie process with pid=%d", (int)pid);
		return;
	}
	status_describe(wstatus, what, sizeof(what));
	log_msg("reaped orphan pid %d (%s)", (int)pid, what);
}

/* Not PID 1 and no child subreaper (tini without -s): orphans go to the
 * real init, and zombies of the job's own children are not jobshim's to
 * reap. tini warns (unless TINI_VERBOSITY=0); so does jobshim under its
 * name. */
static void reaping_check(const struct sup *s)
{
	int bit = 0;

	if (s->pid1 || !s->o->warn_no_reaping)
		return;
	if (prctl(PR_GET_CHILD_SUBREAPER, &bit) == 0 && bit == 1)
		return;
	log_msg("not PID 1 and not a child subreaper: zombie reaping won't work (use -s or "
		"TINI_SUBREAPER, or run as PID 1)");
}

/* Under the dumb-init name, jobshim keeps no reference to the directory it
 * was started in once the main app runs (the app keeps its own): it moves
 * to / before the fork, and the child goes back with fchdir, so that the
 * job never sees jobshim half-way. Returns the fd for the child, or -1. */
static int leave_cwd(const struct sup *s)
{
	int fd;

	if (!s->o->leave_cwd || s->n != 1 || s->jobs[0].plan->kind != JOB_MAIN)
		return -1;
	fd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || chdir("/") < 0) {
		log_debug("unable to leave the working directory: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* ------------------------------------------------------------ signals */

/* Blocks every signal jobshim can take as data; the hardware fault signals
 * stay unblocked so that a bug in jobshim kills it rather than hanging.
 * SIGABRT and SIGSYS are blocked too: jobshim is not seccomp-filtered and
 * does not abort, so those only come from kill(2) and are forwarded.
 * Under the dumb-init name the fault signals are blocked and forwarded as
 * well, as dumb-init does (its suite sends every signal 1-31): a real fault
 * still kills jobshim, as Linux unblocks a fault signal it must deliver. */
static void blocked_set(sigset_t *set, bool block_faults)
{
	static const int faults[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP};

	sigfillset(set);
	for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++)
		if (!block_faults)
			sigdelset(set, faults[i]);
}

/* The mask jobshim was started with (tini's -s... keeps it for the child):
 * saved by the first of supervise_block_signals and signals_setup. Global,
 * not in struct sup: main blocks the signals before any file is read, long
 * before supervise_run (and its supervisor) exists, and the mask is the
 * process's own state, one a process. */
static sigset_t start_mask;

static bool start_mask_saved;

int supervise_block_signals(void)
{
	sigset_t set;

	blocked_set(&set, false);
	if (sigprocmask(SIG_SETMASK, &set, start_mask_saved ? NULL : &start_mask) < 0)
		return -errno;
	start_mask_saved = true;
	return 0;
}

static int signals_setup(const struct options *o, sigset_t *set, sigset_t *orig)
{
	int fd;

	blocked_set(set, o->persona == PERSONA_DUMB_INIT);
	if (sigprocmask(SIG_SETMASK, set, start_mask_saved ? NULL : &start_mask) < 0)
		return -errno;
	start_mask_saved = true;
	*orig = start_mask;
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
	reap_all_stops(on_exit_status, on_child_stopped, s);
}

static void handle_signal(struct sup *s, int sig)
{
	switch (sig) {
	case SIGCHLD:
		break; /* reaped by handle_signals */
	case SIGTERM:
	case SIGINT:
	case SIGQUIT: {
		int fwd = sig_rewrite_apply(&s->o->rewrite, sig);
		char why[48];
		if (fwd == 0) {
			log_trace("SIG%s received: dropped (--rewrite)", signal_name(sig));
			break;
		}
		snprintf(why, sizeof(why), "SIG%s received", signal_name(sig));
		stop_requested(s, fwd, why);
		break;
	}
	default:
		forward_signal(s, sig);
	}
}

/* SPEC §10: restart, signal and reload, asked for over RUN_DIR/control or
 * (reload) by a change of the configuration file. Each request is answered
 * when it is done: a restart once the new instance runs. */

/* What a restart or a removal sends first: --stop-signal, else SIGTERM. */
static int stop_signal(const struct sup *s)
{
	return s->o->stop_signal != 0 ? s->o->stop_signal : SIGTERM;
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
	for (size_t i = 0; i < s->n; i++) {
		const struct job *j = &s->jobs[i];
		if (j->transition != TR_NONE)
			return true;
		/* @all's release phase: web and the workers wait for it. */
		if (j->plan->kind == JOB_DEPLOY && !s->plan->oneshot && j->phase != JS_DONE)
			return true;
	}
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
		if (!w->jobs[i])
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
		if (w->token == 0 || idx >= JOBS_MAX || !w->pending[idx])
			continue;
		w->pending[idx] = false;
		if (--w->n_pending == 0)
			waiter_reply(s, w);
	}
}

/* A reload's new definition takes over (before the next instance or run). */
static void apply_next(struct job *j)
{
	if (j->next_plan == NULL)
		return;
	sandbox_free(j->sandbox);
	j->sandbox = j->next_sandbox;
	j->plan = j->next_plan;
	j->owner = j->next_owner;
	j->next_plan = NULL;
	j->next_sandbox = NULL;
	j->next_owner = NULL;
}

/* Out of the table at the end of the reload (reload_progress). */
static void job_remove(struct sup *s, struct job *j)
{
	j->removed = true;
	if (j->lock_fd >= 0) {
		close(j->lock_fd);
		j->lock_fd = -1;
	}
	status_changed(s);
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

/* The instance of a restart or removal is gone (prev: the state it was
 * in; CLEANUP when there was one). */
static void transition_said(const struct job *j, enum job_state prev)
{
	char what[96], ran[32];

	if (prev != JS_CLEANUP)
		return;
	status_describe(j->last_wstatus, what, sizeof(what));
	duration_format(ran, sizeof(ran), mono() - j->started_ms, DURATION_TERSE);
	log_msg("%s %s after %s (%s)", j->plan->name, what, ran,
		j->transition == TR_RESTART ? "restart requested" : "removed by a reload");
}

/* JA_REMOVED: out of the table at the end of the reload. */
static void transition_removed(struct sup *s, struct job *j, enum job_state prev)
{
	transition_said(j, prev);
	j->transition = TR_NONE;
	job_remove(s, j);
}

/* JA_RESTART_NOW: the instance is gone (or there was none): the next one
 * starts at once, without backoff and without counting it as a crash. */
static void transition_restart(struct sup *s, struct job *j, enum job_state prev)
{
	int r;

	transition_said(j, prev);
	j->transition = TR_NONE;
	apply_next(j);
	j->restarts++;
	r = job_spawn(s, j);
	if (r < 0) {
		log_msg("unable to restart %s: %s", j->plan->name, strerror(-r));
		job_on(s, j, JE_RETRY_LATER, 0);
	} else {
		log_msg("%s restarted: pid %d", j->plan->name, (int)j->pid);
	}
	status_changed(s);
	waiters_job_done(s, (size_t)(j - s->jobs));
}

/* Begins a restart or a removal: the stop signal to the job's main process
 * now (JA_TRANSITION_STOP), SIGKILL to its group once the grace period is
 * over. */
static void transition_begin(struct sup *s, struct job *j, enum transition tr)
{
	j->transition = tr;
	j->grace_over = false;
	j->grace_at_ms = mono() + s->o->grace_ms;
	job_on(s, j, tr == TR_RESTART ? JE_RESTART : JE_REMOVE, 0);
}

static void transition_stop(struct sup *s, const struct job *j)
{
	char grace[32], sig[24];

	duration_format(grace, sizeof(grace), s->o->grace_ms, DURATION_TERSE);
	log_msg("%s %s: %s to pid %d (grace %s)",
		j->transition == TR_RESTART ? "restarting" : "stopping", j->plan->name,
		sig_label(stop_signal(s), sig, sizeof(sig)), (int)j->pid, grace);
	send_stop(s, j, stop_signal(s));
	status_changed(s);
}

/* JA_GRACE_KILL */
static void transition_kill(struct job *j)
{
	j->grace_over = true;
	log_msg("%s did not stop within the grace period: sending SIGKILL", j->plan->name);
	if (group_alive(j->group))
		kill(-j->group, SIGKILL);
	if (j->pid > 0)
		kill(j->pid, SIGKILL);
}

static void transitions_deadlines(struct sup *s, uint64_t now)
{
	for (size_t i = 0; i < s->n; i++) {
		struct job *j = &s->jobs[i];
		if (j->transition == TR_NONE || j->phase != JS_RUNNING || j->grace_over ||
		    now < j->grace_at_ms)
			continue;
		job_on(s, j, JE_GRACE_OVER, 0);
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

static bool restartable(const struct job *j)
{
	return !j->removed && j->plan->kind == JOB_WORKER && j->phase != JS_DONE;
}

static void ctl_restart(struct sup *s, uint32_t token, const char *name)
{
	struct waiter *w = NULL;
	struct job *one = NULL;
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
		one = job_named(s, name);
		if (one == NULL) {
			job_list(s, names, sizeof(names));
			answer(s, token, CONTROL_BAD,
			       "jobshim: unknown job \"%s\" (jobs here: %s)\n", name, names);
			return;
		}
		if (one->plan->kind == JOB_MAIN) {
			answer(
			    s, token, CONTROL_BAD,
			    "jobshim: %s is the main app: jobshim never restarts it (the platform "
			    "restarts containers: restart the container instead)\n",
			    name);
			return;
		}
		if (one->plan->kind != JOB_WORKER) {
			answer(s, token, CONTROL_BAD,
			       "jobshim: %s is a %s job: it runs %s; restart applies to workers\n",
			       name, kind_name(one->plan->kind),
			       one->plan->kind == JOB_SCHEDULED ? "on its schedule" : "once");
			return;
		}
		if (!restartable(one)) {
			answer(s, token, CONTROL_CANNOT, "jobshim: %s cannot be restarted now\n",
			       name);
			return;
		}
	}
	for (size_t i = 0; i < CONTROL_CONNS_MAX && w == NULL; i++)
		if (s->waiters[i].token == 0)
			w = &s->waiters[i];
	if (w == NULL) {
		answer(s, token, CONTROL_CANNOT, "jobshim: too many restarts pending\n");
		return;
	}
	memset(w, 0, sizeof(*w));
	for (size_t i = 0; i < s->n; i++) {
		if (one != NULL ? &s->jobs[i] != one : !restartable(&s->jobs[i]))
			continue;
		w->pending[i] = w->jobs[i] = true;
		w->n_pending++;
	}
	if (w->n_pending == 0) {
		answer(s, token, CONTROL_BAD,
		       "jobshim: nothing to restart: the main app is never restarted by jobshim "
		       "(the platform restarts containers)\n");
		return;
	}
	w->token = token;
	log_msg("control: restart of %s requested", name[0] ? name : "every worker");
	for (size_t i = 0; i < s->n; i++) {
		struct job *j = &s->jobs[i];
		if (!w->jobs[i])
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
		       j->phase == JS_WAITING ? "waiting to restart" : "stopped");
		return;
	}
	if (s->o->signal_group) {
		forward(s, j, sig); /* its whole process group, as forwarded signals */
	} else if (kill(j->pid, sig) < 0) {
		answer(s, token, CONTROL_CANNOT, "jobshim: unable to send %s to %s (pid %d): %s\n",
		       label, name, (int)j->pid, strerror(errno));
		return;
	}
	log_msg("control: sent %s to %s (pid %d)", label, name, (int)j->pid);
	answer(s, token, CONTROL_DONE, "sent %s to %s (pid %d)\n", label, name, (int)j->pid);
}

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
	char *text = s->reply;
	struct errlist errs;
	struct run_plan *np;
	const char *path = config_file(s);
	struct stat st;
	size_t len = 0;
	int r;

	errlist_clear(&errs);

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
		log_msg("%s", errs.item[i].msg);
		append(text, sizeof(s->reply), &len, "jobshim: %s\n", errs.item[i].msg);
	}
	if (errs.dropped > 0)
		append(text, sizeof(s->reply), &len, "jobshim: ... and %zu more errors\n",
		       errs.dropped);
	log_msg("reload refused: the configuration is not valid; nothing changed");
	append(text, sizeof(s->reply), &len,
	       "jobshim: reload refused: the configuration is not valid; nothing changed, the "
	       "jobs go on\n");
	if (token != 0)
		control_reply(s->ctl, token, CONTROL_BAD, text);
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
	struct err err;

	for (size_t i = 0; i < s->cur->n_jobs; i++) {
		const struct job_plan *nj = &np->jobs[d->to_new[i]];
		if (d->old[i] != JC_CHANGED || nj->kind == JOB_MAIN || nj->kind == JOB_DEPLOY)
			continue;
		if (sandbox_prepare(&nj->sandbox, &changed[i], &err) < 0)
			goto fail;
	}
	for (size_t k = 0; k < d->n_added; k++) {
		const struct job_plan *nj = &np->jobs[d->added[k]];
		if (nj->kind == JOB_MAIN || nj->kind == JOB_DEPLOY)
			continue;
		if (sandbox_prepare(&nj->sandbox, &added[k], &err) < 0)
			goto fail;
	}
	return 0;
fail:
	log_msg("reload refused: %s; nothing changed", err.msg);
	answer(s, token, CONTROL_BAD, "jobshim: %s\njobshim: reload refused: nothing changed\n",
	       err.msg);
	for (size_t i = 0; i < RELOAD_JOBS_MAX; i++) {
		sandbox_free(changed[i]);
		sandbox_free(added[i]);
	}
	return -EINVAL;
}

static void schedules_plan(struct sup *s, int64_t now);

/* A scheduled job's new definition: at once when no run of it is under
 * way, else once that run is over (oneshot_run_over). */
static void schedule_changed(struct sup *s, struct job *j)
{
	if (j->phase != JS_IDLE && j->phase != JS_HELD && j->phase != JS_DONE)
		return;
	apply_next(j);
	if (s->tfd >= 0)
		schedules_plan(s, wall_s());
}

/* The single-instance lock of a worker a reload added (run_dir_setup takes
 * the others'): held while it is in the table. */
static int worker_lock(struct sup *s, struct job *j)
{
	return job_lock(s, j);
}

/* A scheduled job a reload added waits for its first time. */
static void schedule_added(struct sup *s, struct job *j)
{
	if (s->tfd < 0) {
		s->tfd = timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC | TFD_NONBLOCK);
		if (s->tfd < 0) {
			log_msg("unable to create the schedules' timer: %s; %s never runs",
				strerror(errno), j->plan->name);
			job_on(s, j, JE_CANCEL, 0);
			return;
		}
		s->cron_anchor = wall_s();
	}
	job_on(s, j, JE_HOLD, 0);
	job_on(s, j, JE_RELEASE, 0);
	schedules_plan(s, wall_s());
	log_msg("%s scheduled", j->plan->name);
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
			if (j->plan->kind == JOB_DEPLOY) {
				log_msg("reload: %s (the deploy job) changed (%s): it ran already; "
					"the change applies at the next start",
					j->plan->name, what);
				reload_note(s, RN_DEPLOY, j->plan->name, what);
				break;
			}
			log_msg("reload: %s changed (%s)", j->plan->name, what);
			sandbox_free(j->next_sandbox); /* an earlier reload's, not yet applied */
			j->next_plan = nj;
			j->next_owner = np;
			j->next_sandbox = changed[i];
			if (j->plan->kind == JOB_SCHEDULED) {
				reload_note(s, RN_SCHED, j->plan->name, what);
				schedule_changed(s, j);
				break;
			}
			reload_note(s, RN_RESTART, j->plan->name, what);
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
		if (np->jobs[d.added[k]].kind == JOB_MAIN ||
		    np->jobs[d.added[k]].kind == JOB_DEPLOY)
			continue; /* the release phase is over: a deploy job is for the next start
				   */
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
	char *text = s->reply;
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
		j->lock_fd = -1;
		j->next_fire = -1;
		j->plan = s->reload.add[a];
		j->owner = (struct run_plan *)s->cur;
		j->sandbox = s->reload.add_sb[a];
		s->reload.add_sb[a] = NULL;
		s->n++;
		r = open_pipes(s, j, s->pad, s->color);
		if (r == 0 && j->plan->kind == JOB_SCHEDULED) {
			schedule_added(s, j);
			continue;
		}
		if (r == 0 && worker_lock(s, j) < 0) {
			log_msg("%s already runs under another jobshim in this container: not "
				"started",
				j->plan->name);
			job_on(s, j, JE_CANCEL, 0);
			continue;
		}
		if (r == 0)
			r = job_on(s, j, JE_START, 0);
		if (r < 0) {
			log_msg("unable to start %s: %s; retried in %llums", j->plan->name,
				strerror(-r), (unsigned long long)s->o->backoff_max_ms);
			job_on(s, j, JE_RETRY_LATER, 0);
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
			append(text, sizeof(s->reply), &len, "restarted %s (%s changed): pid %d\n",
			       n->name, n->what, pid);
			break;
		case RN_ADD:
			if (j != NULL && j->plan->kind == JOB_SCHEDULED)
				append(text, sizeof(s->reply), &len, "scheduled %s (added)\n",
				       n->name);
			else
				append(text, sizeof(s->reply), &len, "started %s (added): pid %d\n",
				       n->name, pid);
			break;
		case RN_REMOVE:
			append(text, sizeof(s->reply), &len, "stopped %s (removed)\n", n->name);
			break;
		case RN_MAIN:
			append(text, sizeof(s->reply), &len,
			       "%s (the main app) changed (%s): not restarted; restart the "
			       "container to apply it\n",
			       n->name, n->what);
			break;
		case RN_DEPLOY:
			append(text, sizeof(s->reply), &len,
			       "%s (the deploy job) changed (%s): applies at the next start\n",
			       n->name, n->what);
			break;
		case RN_SCHED:
			append(text, sizeof(s->reply), &len, "%s changed (%s): %s\n", n->name,
			       n->what,
			       j != NULL && j->next_plan != NULL
				   ? "applies once its current run is over"
				   : "applies from its next time");
			break;
		}
	}
	if (len == 0)
		append(text, sizeof(s->reply), &len,
		       "the configuration is unchanged: no job touched\n");
	else if (same > 0)
		append(text, sizeof(s->reply), &len, "%zu unchanged job%s left alone\n", same,
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

/* A running attempt whose timeout (or the SIGKILL after it) is ahead. */
static bool oneshot_timeout_pending(const struct sup *s, const struct job *j)
{
	return is_oneshot(j) && j->phase == JS_RUNNING && j->pid > 0 && !j->timeout_killed &&
	       !s->stopping;
}

static int poll_timeout(const struct sup *s, bool groups_pending)
{
	uint64_t now = mono(), next = UINT64_MAX;

	for (size_t i = 0; i < s->n; i++) {
		const struct job *j = &s->jobs[i];
		if (j->phase == JS_WAITING && j->restart_at_ms < next)
			next = j->restart_at_ms;
		if (oneshot_timeout_pending(s, j) && j->timeout_at_ms < next)
			next = j->timeout_at_ms;
	}
	if (s->stopping && !s->killed && s->kill_at_ms < next)
		next = s->kill_at_ms;
	if (s->stop_send_at_ms != 0 && s->stop_send_at_ms < next)
		next = s->stop_send_at_ms;
	if (s->killed && s->give_up_ms < next)
		next = s->give_up_ms;
	if (s->status_due_ms != 0 && s->status_due_ms < next)
		next = s->status_due_ms;
	for (size_t i = 0; i < s->n; i++)
		if (s->jobs[i].transition != TR_NONE && s->jobs[i].phase == JS_RUNNING &&
		    !s->jobs[i].grace_over && s->jobs[i].grace_at_ms < next)
			next = s->jobs[i].grace_at_ms;
	if (control_deadline(s->ctl) < next)
		next = control_deadline(s->ctl);
	if (s->watch_due_ms != 0 && s->watch_due_ms < next)
		next = s->watch_due_ms;
	if (groups_pending && now + GROUP_POLL_MS < next)
		next = now + GROUP_POLL_MS;
	for (int fd = 1; fd <= 2; fd++) {
		uint64_t r = outq_retry_at(outq_std_peek(fd));
		if (r != 0 && r < next)
			next = r;
	}
	if (next == UINT64_MAX)
		return -1;
	return next <= now ? 0 : (int)(next - now > INT_MAX ? INT_MAX : next - now);
}

static void oneshot_cannot_start(struct sup *s, struct job *j);

static void run_deadlines(struct sup *s)
{
	uint64_t now = mono();

	if (s->status_due_ms != 0 && now >= s->status_due_ms)
		status_write_now(s);
	if (s->stop_send_at_ms != 0 && now >= s->stop_send_at_ms)
		begin_stop(s, s->stop_sig_pending, NULL);
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
		if (oneshot_timeout_pending(s, j) && now >= j->timeout_at_ms)
			job_on(s, j, JE_TIMEOUT, 0);
		if (j->phase != JS_WAITING || now < j->restart_at_ms)
			continue;
		job_on(s, j, JE_BACKOFF_OVER, 0);
		status_changed(s);
	}
}

/* JA_RESPAWN: the backoff is over; the restart (the next attempt) counts
 * once it started. */
static void respawn(struct sup *s, struct job *j)
{
	int r;

	if (is_oneshot(j))
		oneshot_next_attempt(&j->os);
	else
		j->restarts++;
	r = job_spawn(s, j);
	if (r == -ECANCELED) {
		oneshot_cannot_start(s, j);
	} else if (r < 0) {
		/* fork failed (EAGAIN under a pids limit): try again later. */
		log_msg("unable to restart %s: %s", j->plan->name, strerror(-r));
		if (is_oneshot(j))
			j->os.attempt--, j->os.state = OS_WAITING;
		else
			j->restarts--;
		job_on(s, j, JE_RETRY_LATER, 0);
	}
}

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
		int ofd = outq_poll_fd(outq_std_peek(fd));
		if (ofd >= 0)
			pollset_add(ps, ofd, POLLOUT, NULL, fd);
	}
}

static void pump_output(struct pollset *ps)
{
	for (nfds_t i = 0; i < ps->n; i++)
		if (ps->pfd[i].revents != 0 && ps->job[i] != NULL)
			pump(ps->job[i], ps->stream[i], READS_PER_TURN);
	outq_flush(outq_std_peek(STDOUT_FILENO));
	outq_flush(outq_std_peek(STDERR_FILENO));
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
		outq_flush(outq_std_peek(STDOUT_FILENO));
		outq_flush(outq_std_peek(STDERR_FILENO));
		report_output_events();
		if (!left && outq_pending(outq_std_peek(1)) == 0 &&
		    outq_pending(outq_std_peek(2)) == 0)
			return;
		now = mono();
		if (now >= deadline)
			return;
		pollset_outputs(s, &ps);
		for (int fd = 1; fd <= 2; fd++) {
			uint64_t r = outq_retry_at(outq_std_peek(fd));
			if (r != 0 && r < next)
				next = r;
		}
		(void)poll(ps.pfd, ps.n, (int)(next > now ? next - now : 0));
	}
}

static void schedules_wake(struct sup *s);

static int loop(struct sup *s)
{
	uint64_t stuck = 0;

	for (;;) {
		struct pollset ps = {.n = 0};
		size_t tfd_at = 0, watch_at, ctl_at, nctl;
		bool pending = settle_groups(s);

		reload_progress(s);
		if (s->stopping && all_gone(s))
			break;
		if (s->killed && mono() >= s->give_up_ms) {
			log_msg("processes survived SIGKILL for %dms; exiting anyway",
				KILL_SETTLE_MS);
			break;
		}
		pollset_add(&ps, s->sfd, POLLIN, NULL, 0);
		if (s->tfd >= 0) {
			tfd_at = ps.n;
			pollset_add(&ps, s->tfd, POLLIN, NULL, 0);
		}
		pollset_outputs(s, &ps);
		/* One slot for inotify (-1 without --watch-config: poll skips it),
		 * then the control socket and its clients. */
		watch_at = ps.n;
		pollset_add(&ps, s->watch_fd, POLLIN, NULL, 0);
		ctl_at = ps.n;
		nctl = control_pollfds(s->ctl, ps.pfd + ctl_at, POLLSET_MAX - ctl_at);
		ps.n += nctl;
		if (poll(ps.pfd, ps.n, poll_timeout(s, pending)) < 0 && errno != EINTR) {
			log_msg("poll: %s", strerror(errno));
			continue;
		}
		pump_output(&ps);
		/* Signals before requests: a flood of clients never delays a stop. */
		if (ps.pfd[0].revents & POLLIN)
			handle_signals(s);
		if (s->exit_now)
			break;
		if (tfd_at != 0 && (ps.pfd[tfd_at].revents & POLLIN))
			schedules_wake(s);
		if (ps.pfd[watch_at].revents & POLLIN)
			watch_read(s);
		control_serve(s->ctl, ps.pfd + ctl_at, nctl, mono(), on_request, s);
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
	bool color = (s->plan->all_mode || s->plan->cron_mode) && isatty(STDOUT_FILENO);
	size_t pad = 0;
	struct err err;

	for (size_t i = 0; i < s->n; i++) {
		size_t l = strlen(s->plan->jobs[i].name);
		if ((s->plan->all_mode || s->plan->cron_mode) && l > pad)
			pad = l;
	}
	s->pad = pad;
	s->color = color;
	for (size_t i = 0; i < s->n; i++) {
		struct job *j = &s->jobs[i];
		int r;

		r = sandbox_prepare(&j->plan->sandbox, &j->sandbox, &err);
		if (r < 0 && j->plan->kind == JOB_SCHEDULED && !s->plan->oneshot) {
			/* A broken scheduled job never stops the others. */
			log_msg("%s: %s; it will not run", j->plan->name, err.msg);
			j->disabled = true;
			continue;
		}
		if (r < 0) {
			log_msg("%s: %s", j->plan->name, err.msg);
			return r;
		}
		if (j->plan->kind != JOB_MAIN || piped_main) {
			r = open_pipes(s, j, pad, color);
			if (r < 0) {
				log_msg("unable to create pipes: %s", strerror(-r));
				return r;
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

/* SPEC §4: a deploy job, or one run of a scheduled job, is at most
 * 1 + retries attempts (oneshot.h decides); each attempt is limited by the
 * job's timeout. Standalone (JOBSHIM_JOB=NAME) its result is jobshim's; in
 * @all the deploy job gates web and the workers; a scheduled job's run ends
 * in waiting for its next time. */

static void log_lines(const char *l1, const char *l2)
{
	if (l1[0] != '\0')
		log_msg("%s", l1);
	if (l2[0] != '\0')
		log_msg("%s", l2);
}

/* A stop while no process runs: jobshim goes too, with nothing left. */
static void stop_quietly(struct sup *s)
{
	if (!s->stopping) {
		s->stopping = true;
		s->kill_at_ms = mono() + s->o->grace_ms;
	}
}

static void schedules_start(struct sup *s);

/* Starts every job the deploy job held back; a job that cannot start
 * stops the others, as at start-up. */
static void release_held(struct sup *s)
{
	schedules_start(s);
	for (size_t i = 0; i < s->n && !s->stopping; i++) {
		struct job *j = &s->jobs[i];
		int r;

		if (j->phase != JS_HELD || j->plan->kind == JOB_SCHEDULED)
			continue;
		r = job_on(s, j, JE_START, 0);
		if (r < 0) {
			log_msg("unable to start %s: %s", j->plan->name, strerror(-r));
			job_on(s, j, JE_START_FAILED, 0);
			s->exit_code = EXIT_SETUP_FAILED;
			s->exit_final = true;
			begin_stop(s, SIGTERM, NULL);
		}
	}
}

/* JA_RUN_OVER: the run is over (its state says how); the job is DONE, or
 * (scheduled) IDLE until its next time. */
static void oneshot_run_over(struct sup *s, struct job *j)
{
	bool changed = j->next_plan != NULL;

	apply_next(j); /* a reload changed it during the run */
	if (j->lock_fd >= 0) {
		close(j->lock_fd);
		j->lock_fd = -1;
	}
	if (s->plan->oneshot) {
		s->exit_code = oneshot_exit_code(&j->os);
		s->exit_final = true;
		stop_quietly(s);
		return;
	}
	if (j->plan->kind == JOB_SCHEDULED) {
		if (changed && !s->stopping && s->tfd >= 0)
			schedules_plan(s, wall_s()); /* the new schedule's */
		return;
	}
	/* @all's deploy job: web and the workers start only after a success. */
	if (j->os.state == OS_SUCCEEDED) {
		if (!s->stopping)
			release_held(s);
		return;
	}
	s->exit_code = oneshot_exit_code(&j->os);
	s->exit_final = true;
	if (!s->stopping)
		log_msg("%s failed: nothing else starts", j->plan->name);
	for (size_t i = 0; i < s->n; i++)
		job_on(s, &s->jobs[i], JE_CANCEL, 0); /* the held and the idle */
	stop_quietly(s);
}

/* JA_ATTEMPT_END: an attempt's processes are all gone: retry, or end the
 * run. */
static void oneshot_attempt_end(struct sup *s, struct job *j)
{
	uint64_t ran = mono() - j->started_ms, delay;
	char what[96], l1[256], l2[256];
	bool again;

	again = oneshot_attempt_ended(&j->os, j->last_code, j->timed_out, s->stopping,
				      s->o->backoff_min_ms, s->o->backoff_max_ms, &delay);
	j->last_timed_out = j->timed_out;
	if (!j->last_oom) /* counted a moment after the reaping, as for workers */
		j->last_oom = oom_killed(j, j->last_wstatus);
	describe_exit(j, j->last_wstatus, what, sizeof(what));
	oneshot_describe_end(&j->os, j->plan->name, what, ran, delay, l1, l2, sizeof(l1));
	log_lines(l1, l2);
	if (again) {
		j->restart_at_ms = mono() + delay;
		job_on(s, j, JE_AGAIN, 0);
		return;
	}
	job_on(s, j, JE_RUN_OVER, 0);
}

/* JA_GIVE_UP (a stop during the backoff between attempts: none follows),
 * or an attempt that could not start: the run ends without another
 * attempt: "NAME failed after N attempts". */
static void oneshot_give_up(struct sup *s, struct job *j)
{
	char l2[128];

	oneshot_cancel(&j->os);
	snprintf(l2, sizeof(l2), "%s failed after %u attempt%s", j->plan->name, j->os.attempt,
		 j->os.attempt == 1 ? "" : "s");
	log_lines("", l2);
	job_on(s, j, JE_RUN_OVER, 0);
}

/* A scheduled job's attempt could not even start (start() said why): the
 * run failed, the schedule goes on. */
static void oneshot_cannot_start(struct sup *s, struct job *j)
{
	j->os.last_code = j->last_code;
	oneshot_give_up(s, j);
}

/* JA_TIMEOUT: the attempt's time is up: the stop signal, then SIGKILL
 * after grace. */
static void oneshot_timeout(struct sup *s, struct job *j)
{
	char msg[160];

	if (j->timed_out) {
		j->timeout_killed = true;
		if (group_alive(j->group))
			kill(-j->group, SIGKILL);
		return;
	}
	oneshot_describe_timeout(&j->os, j->plan->name, j->plan->timeout_ms, msg, sizeof(msg));
	log_msg("%s", msg);
	j->timed_out = true;
	j->timeout_at_ms = mono() + s->o->grace_ms;
	send_stop(s, j, s->o->stop_signal != 0 ? s->o->stop_signal : SIGTERM);
}

static void oneshot_status(const struct sup *s, const struct job *j, struct job_status *js)
{
	bool secs = j->plan->sched.seconds || j->plan->sched.every_s > 0;

	js->attempt = j->os.attempt;
	js->attempts = j->plan->attempts;
	js->timed_out = j->last_timed_out;
	if (j->last_timed_out)
		js->last_exit_code = EXIT_TIMED_OUT; /* shown as "124 (timeout)" */
	js->restarts = 0;
	if (j->plan->kind == JOB_SCHEDULED && j->next_fire >= 0 && !s->plan->oneshot &&
	    j->phase != JS_DONE && j->phase != JS_HELD) {
		js->next_run_unix_ms = j->next_fire * 1000;
		cron_format_local(j->next_fire, secs, js->next_local, sizeof(js->next_local));
	}
}

/* ------------------------------------------------------------ schedules */

/* SPEC §4: each scheduled job's next time is computed from the wall clock
 * at every wake-up, and one timerfd on CLOCK_REALTIME waits for the
 * earliest: an absolute deadline does not drift, TFD_TIMER_CANCEL_ON_SET
 * wakes jobshim when the clock is set, and between times nothing wakes it. */

static bool on_schedule(const struct sup *s, const struct job *j)
{
	return j->plan->kind == JOB_SCHEDULED && !s->plan->oneshot && !j->disabled;
}

static int schedules_setup(struct sup *s)
{
	bool any = false;

	for (size_t i = 0; i < s->n; i++)
		any = any || on_schedule(s, &s->jobs[i]);
	if (!any)
		return 0;
	s->tfd = timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC | TFD_NONBLOCK);
	if (s->tfd < 0) {
		int r = -errno;
		log_msg("unable to create the schedules' timer: %s", strerror(-r));
		return r;
	}
	return 0;
}

static void timer_arm(struct sup *s)
{
	struct itimerspec its;
	int64_t next = INT64_MAX;

	for (size_t i = 0; i < s->n; i++) {
		const struct job *j = &s->jobs[i];
		if (on_schedule(s, j) && j->phase != JS_HELD && j->phase != JS_DONE &&
		    j->next_fire >= 0 && j->next_fire < next)
			next = j->next_fire;
	}
	memset(&its, 0, sizeof(its));
	if (next != INT64_MAX)
		its.it_value.tv_sec = (time_t)next; /* 0 disarms */
	if (timerfd_settime(s->tfd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &its, NULL) < 0)
		log_msg("unable to set the schedules' timer: %s", strerror(errno));
}

/* Each job's next time after now. */
static void schedules_plan(struct sup *s, int64_t now)
{
	for (size_t i = 0; i < s->n; i++) {
		struct job *j = &s->jobs[i];
		if (!on_schedule(s, j) || j->phase == JS_HELD || j->phase == JS_DONE)
			continue;
		j->next_fire = cron_next(&j->plan->sched, s->cron_anchor, now);
	}
	timer_arm(s);
	status_changed(s);
}

/* The scheduled jobs begin waiting for their times (at start-up, or in
 * @all once the deploy job succeeded). */
static void schedules_start(struct sup *s)
{
	if (s->tfd < 0)
		return;
	s->cron_anchor = wall_s();
	for (size_t i = 0; i < s->n; i++) {
		struct job *j = &s->jobs[i];
		if (on_schedule(s, j))
			job_on(s, j, JE_RELEASE, 0); /* from HELD */
	}
	schedules_plan(s, s->cron_anchor);
}

/* The lock of one run: a run of the same job by another jobshim in this
 * container (JOBSHIM_JOB=NAME beside @cron) makes this time a skip. */
static int run_lock(struct sup *s, struct job *j)
{
	return job_lock(s, j);
}

/* JA_SKIP_OVERLAP: the time `due` of job j has come while its run (with
 * its retries) goes on: no overlap. */
static void schedule_skip(const struct job *j, int64_t due)
{
	bool secs = j->plan->sched.seconds || j->plan->sched.every_s > 0;
	char since[16], when[16];

	cron_format_clock(due, secs, when, sizeof(when));
	cron_format_clock(j->run_started, true, since, sizeof(since));
	log_msg("%s still running (since %s); skipped %s", j->plan->name, since, when);
}

/* JA_RUN_BEGIN: the time `due` of idle job j has come. */
static void schedule_fire(struct sup *s, struct job *j, int64_t due)
{
	bool secs = j->plan->sched.seconds || j->plan->sched.every_s > 0;
	char when[16];
	int r;

	cron_format_clock(due, secs, when, sizeof(when));
	if (run_lock(s, j) < 0) {
		log_msg("%s runs under another jobshim in this container; skipped %s",
			j->plan->name, when);
		return;
	}
	oneshot_begin(&j->os, j->plan->attempts);
	j->run_started = wall_s();
	r = job_spawn(s, j);
	if (r == -ECANCELED) {
		oneshot_cannot_start(s, j); /* spawn_instance said why */
	} else if (r < 0) {
		log_msg("unable to start %s: %s; skipped %s", j->plan->name, strerror(-r), when);
		j->last_code = EXIT_SETUP_FAILED;
		oneshot_cannot_start(s, j);
	}
}

/* The timer expired, or the clock was set (then nothing fires: the next
 * times are computed again from the new time). No catch-up of missed
 * times either way. */
static void schedules_wake(struct sup *s)
{
	uint64_t expirations;
	bool clock_set = read(s->tfd, &expirations, sizeof(expirations)) < 0 && errno == ECANCELED;
	int64_t now = wall_s();

	if (s->stopping)
		return;
	for (size_t i = 0; i < s->n && !clock_set; i++) {
		struct job *j = &s->jobs[i];
		if (on_schedule(s, j) && j->phase != JS_HELD && j->phase != JS_DONE &&
		    j->next_fire >= 0 && j->next_fire <= now)
			job_on(s, j, JE_FIRE, j->next_fire);
	}
	if (clock_set)
		log_debug("the clock was set: next times computed again");
	schedules_plan(s, now);
}

/* ------------------------------------------------------------ the job-state table */

/* Every change of a job's state goes through here: the table (jobstate.c)
 * says the next state and the action, which runs once the state is set
 * (prev: the state before); -vv logs each step. An action's outcome (a
 * spawn's answer, whether another attempt follows) comes back as another
 * event. Returns the action's result: a spawn's 0 or -errno, else 0. */
static int job_on(struct sup *s, struct job *j, enum job_event ev, int64_t arg)
{
	struct job_ctx c = {
	    .role = job_role(s, j),
	    .stopping = s->stopping,
	    .goal = j->transition,
	    .leader = j->pid > 0,
	};
	enum job_state prev = j->phase;
	struct job_step st = jobstate_step(prev, ev, &c);

	if (st.action == JA_IGNORE)
		return 0;
	log_trace("%s: %s + %s -> %s (%s)", j->plan->name, jobstate_name(prev),
		  jobstate_event_name(ev), jobstate_name(st.next), jobstate_action_name(st.action));
	j->phase = st.next;
	switch (st.action) {
	case JA_IGNORE:
	case JA_NONE:
		break;
	case JA_SPAWN:
		return job_spawn(s, j);
	case JA_RESPAWN:
		respawn(s, j);
		break;
	case JA_RETRY_LATER:
		j->restart_at_ms = mono() + s->o->backoff_max_ms;
		break;
	case JA_NEVER_STARTS:
		never_starts(s, j);
		break;
	case JA_KILL_LEFTOVERS:
		(void)kill_leftovers(s, j);
		break;
	case JA_TERM_LEFTOVERS:
		term_leftovers(j);
		break;
	case JA_MAIN_EXITED:
		main_exited(s, j, (int)arg);
		break;
	case JA_EXITED_STOPPING:
		exited_stopping(j, (int)arg);
		break;
	case JA_BACKOFF:
		schedule_restart(s, j);
		break;
	case JA_ATTEMPT_END:
		oneshot_attempt_end(s, j);
		break;
	case JA_GIVE_UP:
		oneshot_give_up(s, j);
		break;
	case JA_RUN_OVER:
		oneshot_run_over(s, j);
		break;
	case JA_TIMEOUT:
		oneshot_timeout(s, j);
		break;
	case JA_RUN_BEGIN:
		schedule_fire(s, j, arg);
		break;
	case JA_SKIP_OVERLAP:
		schedule_skip(j, arg);
		break;
	case JA_STOP_SIGNAL:
		send_stop(s, j, (int)arg);
		break;
	case JA_TRANSITION_STOP:
		transition_stop(s, j);
		break;
	case JA_RESTART_NOW:
		transition_restart(s, j, prev);
		break;
	case JA_REMOVED:
		transition_removed(s, j, prev);
		break;
	case JA_GRACE_KILL:
		transition_kill(j);
		break;
	}
	return 0;
}

/* What runs first: standalone one-shot, its one job; @all with a deploy
 * job, only that; the scheduled jobs wait for their times. A job that
 * cannot start stops the others (the loop then ends with 125). */
static int start_jobs(struct sup *s)
{
	bool deploy_first = false;

	for (size_t i = 0; i < s->n; i++)
		deploy_first = deploy_first || s->jobs[i].plan->kind == JOB_DEPLOY;
	deploy_first = deploy_first && !s->plan->oneshot;
	for (size_t i = 0; i < s->n; i++) {
		struct job *j = &s->jobs[i];
		int r;

		if (j->disabled || s->stopping) { /* s->stopping: an earlier job can never start */
			job_on(s, j, JE_CANCEL, 0);
			continue;
		}
		if (on_schedule(s, j) || (deploy_first && j->plan->kind != JOB_DEPLOY)) {
			job_on(s, j, JE_HOLD, 0);
			continue;
		}
		if (is_oneshot(j))
			oneshot_begin(&j->os, j->plan->attempts);
		r = job_on(s, j, JE_START, 0);
		if (r < 0) {
			/* Nothing is left running unsupervised: what started
			 * gets the stop signal, the grace, SIGKILL. */
			char why[160];
			snprintf(why, sizeof(why), "unable to start %s: %s", j->plan->name,
				 strerror(-r));
			s->exit_code = EXIT_SETUP_FAILED;
			s->exit_final = true;
			job_on(s, j, JE_START_FAILED, 0);
			if (i == 0)
				log_msg("%s", why);
			else
				begin_stop(s, SIGTERM, why);
			s->stopping = true;
		}
	}
	if (!deploy_first && !s->stopping)
		schedules_start(s);
	return 0;
}

int supervise_run(const struct run_plan *plan, const struct options *o)
{
	/* One a process (only main calls this, once): static keeps it off
	 * the stack, and not clearing what the loader zeroed leaves the pages
	 * of the job table that a run never uses untouched (about 40 KiB, ten
	 * page faults on every start-up). */
	static struct sup s;
	sigset_t set;
	int r;

	s.o = o;
	s.plan = plan;
	s.n = plan->n_jobs < JOBS_MAX ? plan->n_jobs : JOBS_MAX;
	s.tfd = -1;
	s.pid1 = getpid() == 1;
	/* Only with a /proc of its own namespace: another one's PID 1 is not
	 * jobshim, and its descendants are not the job's. */
	s.ns_kill = s.pid1 && s.n == 1 && (plan->jobs[0].kind == JOB_WORKER || plan->oneshot) &&
		    !plan->all_mode && proc_is_ours(NULL);
	s.exit_code = 0;
	s.cur = plan;
	s.watch_fd = -1;
	s.cwd_fd = -1;
	for (size_t i = 0; i < s.n; i++) {
		struct job *j = &s.jobs[i];
		j->plan = &plan->jobs[i];
		j->out[0] = j->out[1] = j->err[0] = j->err[1] = -1;
		j->last_code = -1;
		j->os.last_code = -1;
		j->lock_fd = -1;
		j->next_fire = -1;
	}

	std_fds_reserve();
	s.sfd = signals_setup(o, &set, &s.orig_mask);
	if (s.sfd < 0) {
		log_msg("unable to set up signals: %s", strerror(-s.sfd));
		return s.sfd;
	}
	/* Not PID 1: orphans of the job come to jobshim rather than to the
	 * real init, so they are reaped and their groups can be waited for
	 * (under the tini name only with -s, as tini does). */
	if ((o->subreaper == 1 || (o->subreaper < 0 && !s.pid1)) &&
	    prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		log_msg("unable to become a child subreaper: %s", strerror(errno));
	reaping_check(&s);
	if (o->pdeathsig != 0 && prctl(PR_SET_PDEATHSIG, o->pdeathsig) < 0)
		log_msg("unable to set the parent death signal: %s", strerror(errno));
	if ((r = run_dir_setup(&s)) < 0)
		return r;
	r = prepare(&s);
	if (r != 0)
		return r;
	r = schedules_setup(&s);
	if (r != 0)
		return r;
	s.cwd_fd = leave_cwd(&s);
	r = start_jobs(&s);
	if (s.cwd_fd >= 0) /* the main app is never restarted */
		close(s.cwd_fd), s.cwd_fd = -1;
	if (r != 0)
		return r;
	status_changed(&s);
	if (o->watch_config)
		watch_setup(&s);
	r = loop(&s);
	control_close(s.ctl);
	s.ctl = NULL;
	if (s.watch_fd >= 0)
		close(s.watch_fd);
	if (s.status_written)
		unlinkat(s.run_fd, STATUS_FILE, 0);
	return r;
}

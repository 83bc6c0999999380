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
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "backoff.h"
#include "control.h"
#include "duration.h"
#include "err.h"
#include "jobstate.h"
#include "log.h"
#include "namelist.h"
#include "oneshot.h"
#include "options.h"
#include "outq.h"
#include "plan.h"
#include "procstat.h"
#include "reap.h"
#include "sandbox.h"
#include "signame.h"
#include "sigspec.h"
#include "spawn.h"
#include "status.h"
#include "supervise_int.h"
#include "xio.h"

#define GROUP_POLL_MS	 20   /* how often leftovers of a gone job are checked */
#define KILL_SETTLE_MS	 2000 /* after SIGKILL, at most this long for the reaping */
#define SIGNALS_PER_READ 16
#define SIGNALS_PER_TURN 64 /* a signal flood yields to deadlines */

/* What the job is to the state table (jobstate.h). */
enum job_role sup_job_role(const struct sup *s, const struct job *j)
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

const char *sup_kind_name(enum job_kind k)
{
	static const char *const names[] = {"main", "worker", "deploy", "scheduled"};

	return names[k];
}

/* ------------------------------------------------------------ instances */

/* Starts an instance (JA_SPAWN's work): 0 it runs, 1 it can never start
 * (SPEC §1: 125; j->last_code says so), -ECANCELED a scheduled job's run
 * could not start, else -errno (fork failed). sup_job_spawn says which to the
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
	    /* The job that reads jobshim's stdin (the main app, or a worker or
	     * one-shot job run alone: only @all and @cron give their jobs
	     * /dev/null) is the terminal's foreground group, else a read
	     * stops it with SIGTTIN; only a terminal that is jobshim's own
	     * (tcgetpgrp works). */
	    .take_terminal = (!piped || !(s->plan->all_mode || s->plan->cron_mode)) &&
			     tcgetpgrp(STDIN_FILENO) >= 0,
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
		 * run failed (sup_schedule_fire). */
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
int sup_job_spawn(struct sup *s, struct job *j)
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
	sup_begin_stop(s, SIGTERM, NULL); /* spawn_instance's message says why */
}

bool sup_group_alive(pid_t pgid)
{
	return pgid > 0 && (kill(-pgid, 0) == 0 || errno == EPERM);
}

/* A forwarded signal goes to the job's main process (tini, systemd's
 * KillMode=mixed): a prefork master (Celery, gunicorn, nginx) tells its pool
 * itself. --signal-group sends it to the whole group, as dumb-init does. */
void sup_forward(const struct sup *s, const struct job *j, int sig)
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
void sup_send_stop(const struct sup *s, const struct job *j, int sig)
{
	sup_forward(s, j, sig);
	if (sig != SIGCONT && j->pid > 0 && stopped(j->pid))
		sup_forward(s, j, SIGCONT);
}

/* What is left of a job whose main process exited during a stop (or the main
 * app's group after it exited): SIGTERM now, SIGKILL at the grace's end. */
static void term_leftovers(const struct job *j)
{
	if (sup_group_alive(j->group)) {
		kill(-j->group, SIGTERM);
		kill(-j->group, SIGCONT);
	}
}

/* "sidekiq", "web, sidekiq": the jobs a stop ends, for its log line. */
static void running_names(const struct sup *s, char *buf, size_t cap)
{
	struct namelist l;

	namelist_init(&l, buf, cap);
	for (size_t i = 0; i < s->n; i++) {
		const struct job *j = &s->jobs[i];
		if (j->phase == JS_DONE || j->phase == JS_IDLE || j->phase == JS_HELD)
			continue; /* nothing of it runs */
		namelist_add(&l, j->plan->name);
	}
	namelist_end(&l);
	if (buf[0] == '\0')
		snprintf(buf, cap, "%s", s->n == 1 ? s->jobs[0].plan->name : "the jobs");
}

/* The one line that says why a stop began (worker and @all modes; the main
 * app alone stays transparent): "SIGTERM received: stopping sidekiq (grace
 * 8s)" or "web exited with status 3: stopping the other jobs". */
static void say_why(const struct sup *s, const char *why, int stop_sig)
{
	char names[512], grace[32], with[32] = "";

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
void sup_begin_stop(struct sup *s, int received, const char *why)
{
	int sig = s->o->stop_signal != 0 ? s->o->stop_signal : received;

	if (!s->stopping)
		sup_control_stopping(s); /* what was asked for is not completed now */
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
	sup_status_changed(s);
}

/* A stop signal received (SIGTERM, SIGINT, SIGQUIT). With --stop-delay the
 * stop begins now (no more restarts) but the signal waits, so that a load
 * balancer stops sending requests first; a second stop signal during the
 * wait sends it at once. */
static void stop_requested(struct sup *s, int received, const char *why)
{
	if (s->o->stop_delay_ms == 0 || s->stopping) {
		sup_begin_stop(s, received, why);
		return;
	}
	say_why(s, why, s->o->stop_signal != 0 ? s->o->stop_signal : received);
	sup_control_stopping(s);
	s->stopping = true;
	s->stop_sig_pending = received;
	s->stop_send_at_ms = mono() + s->o->stop_delay_ms;
	s->kill_at_ms = s->stop_send_at_ms + s->o->grace_ms;
	for (size_t i = 0; i < s->n; i++)
		job_on(s, &s->jobs[i], JE_STOP_DELAYED, 0);
	log_debug("the stop signal follows in %llums (stop delay)",
		  (unsigned long long)s->o->stop_delay_ms);
	sup_status_changed(s);
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
		if (sup_group_alive(s->jobs[i].group))
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

	if (sup_group_alive(j->group)) {
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
bool sup_oom_killed(const struct job *j, int wstatus)
{
	uint64_t kills;
	bool sigkill = (WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL) ||
		       (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 128 + SIGKILL);

	return sigkill && j->oom_before != UINT64_MAX &&
	       sandbox_oom_kills(j->sandbox, &kills) == 0 && kills > j->oom_before;
}

/* "exited with status 1", "killed by signal 9 (SIGKILL)", or, when the
 * OOM killer did it, "killed by the OOM killer (memory.max 256Mi)". */
void sup_describe_exit(const struct job *j, int wstatus, char *what, size_t cap)
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
		j->last_oom = sup_oom_killed(j, wstatus);
		/* A one-shot's run decides (sup_oneshot_attempt_end, once the group
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
	sup_describe_exit(j, wstatus, what, sizeof(what));
	snprintf(why, sizeof(why), "%s %s", j->plan->name, what);
	if (s->plan->all_mode && !s->stopping) {
		log_msg("%s: stopping the other jobs", why);
		sup_begin_stop(s, SIGTERM, NULL);
	} else {
		sup_begin_stop(s, SIGTERM, why);
	}
}

/* JA_EXITED_STOPPING: a worker's instance ended during the stop. */
static void exited_stopping(const struct job *j, int wstatus)
{
	char what[96], ran[32];

	term_leftovers(j);
	sup_describe_exit(j, wstatus, what, sizeof(what));
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
		j->last_oom = sup_oom_killed(j, j->last_wstatus);
	sup_describe_exit(j, j->last_wstatus, what, sizeof(what));
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
		if (kill_now ? kill_leftovers(s, j) : sup_group_alive(j->group)) {
			pending = true;
			continue;
		}
		j->group = 0;
		sup_instance_done(j);
		job_on(s, j, JE_GONE, 0);
		sup_status_changed(s);
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

/* ------------------------------------------------------------ forwarding */
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
	sup_forward(s, j, SIGCONT);
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
		if ((s->jobs[i].plan->kind == JOB_MAIN || s->n == 1) && s->jobs[i].group > 0)
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
				sup_forward(s, &s->jobs[i], fwd);
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
	if (s->o->term_leftovers && sup_group_alive(j->group))
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

static void run_deadlines(struct sup *s)
{
	uint64_t now = mono();

	if (s->status_due_ms != 0 && now >= s->status_due_ms)
		sup_status_write_now(s);
	if (s->stop_send_at_ms != 0 && now >= s->stop_send_at_ms)
		sup_begin_stop(s, s->stop_sig_pending, NULL);
	if (s->stopping && !s->killed && now >= s->kill_at_ms) {
		log_msg("grace period of %llums over: sending SIGKILL",
			(unsigned long long)s->o->grace_ms);
		kill_everything(s);
	}
	if (s->stopping)
		return;
	sup_transitions_deadlines(s, now);
	if (s->watch_due_ms != 0 && now >= s->watch_due_ms)
		sup_watch_reload(s, now);
	for (size_t i = 0; i < s->n; i++) {
		struct job *j = &s->jobs[i];
		if (oneshot_timeout_pending(s, j) && now >= j->timeout_at_ms)
			job_on(s, j, JE_TIMEOUT, 0);
		if (j->phase != JS_WAITING || now < j->restart_at_ms)
			continue;
		job_on(s, j, JE_BACKOFF_OVER, 0);
		sup_status_changed(s);
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
	r = sup_job_spawn(s, j);
	if (r == -ECANCELED) {
		sup_oneshot_cannot_start(s, j);
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

static int loop(struct sup *s)
{
	uint64_t stuck = 0;

	for (;;) {
		struct pollset ps = {.n = 0};
		size_t tfd_at = 0, watch_at, ctl_at, nctl;
		bool pending = settle_groups(s);

		sup_reload_progress(s);
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
		sup_pollset_outputs(s, &ps);
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
		sup_pump_output(&ps);
		/* Signals before requests: a flood of clients never delays a stop. */
		if (ps.pfd[0].revents & POLLIN)
			handle_signals(s);
		if (s->exit_now)
			break;
		if (tfd_at != 0 && (ps.pfd[tfd_at].revents & POLLIN))
			sup_schedules_wake(s);
		if (ps.pfd[watch_at].revents & POLLIN)
			sup_watch_read(s);
		control_serve(s->ctl, ps.pfd + ctl_at, nctl, mono(), sup_on_request, s);
		run_deadlines(s);
	}
	sup_drain_at_exit(s);
	for (size_t i = 0; i < s->n; i++)
		stuck += sup_output_stuck(&s->jobs[i]);
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
			r = sup_open_pipes(s, j, pad, color);
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

/* ------------------------------------------------------------ the job-state table */

/* Every change of a job's state goes through here: the table (jobstate.c)
 * says the next state and the action, which runs once the state is set
 * (prev: the state before); -vv logs each step. An action's outcome (a
 * spawn's answer, whether another attempt follows) comes back as another
 * event. Returns the action's result: a spawn's 0 or -errno, else 0. */
int job_on(struct sup *s, struct job *j, enum job_event ev, int64_t arg)
{
	struct job_ctx c = {
	    .role = sup_job_role(s, j),
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
		return sup_job_spawn(s, j);
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
		sup_oneshot_attempt_end(s, j);
		break;
	case JA_GIVE_UP:
		sup_oneshot_give_up(s, j);
		break;
	case JA_RUN_OVER:
		sup_oneshot_run_over(s, j);
		break;
	case JA_TIMEOUT:
		sup_oneshot_timeout(s, j);
		break;
	case JA_RUN_BEGIN:
		sup_schedule_fire(s, j, arg);
		break;
	case JA_SKIP_OVERLAP:
		sup_schedule_skip(j, arg);
		break;
	case JA_STOP_SIGNAL:
		sup_send_stop(s, j, (int)arg);
		break;
	case JA_TRANSITION_STOP:
		sup_transition_stop(s, j);
		break;
	case JA_RESTART_NOW:
		sup_transition_restart(s, j, prev);
		break;
	case JA_REMOVED:
		sup_transition_removed(s, j, prev);
		break;
	case JA_GRACE_KILL:
		sup_transition_kill(j);
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
		if (sup_on_schedule(s, j) || (deploy_first && j->plan->kind != JOB_DEPLOY)) {
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
				sup_begin_stop(s, SIGTERM, why);
			s->stopping = true;
		}
	}
	if (!deploy_first && !s->stopping)
		sup_schedules_start(s);
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
	if ((r = sup_run_dir_setup(&s)) < 0)
		return r;
	r = prepare(&s);
	if (r != 0)
		return r;
	r = sup_schedules_setup(&s);
	if (r != 0)
		return r;
	s.cwd_fd = leave_cwd(&s);
	r = start_jobs(&s);
	if (s.cwd_fd >= 0) /* the main app is never restarted */
		close(s.cwd_fd), s.cwd_fd = -1;
	if (r != 0)
		return r;
	sup_status_changed(&s);
	if (o->watch_config)
		sup_watch_setup(&s);
	r = loop(&s);
	control_close(s.ctl);
	s.ctl = NULL;
	if (s.watch_fd >= 0)
		close(s.watch_fd);
	if (s.status_written)
		unlinkat(s.run_fd, STATUS_FILE, 0);
	return r;
}

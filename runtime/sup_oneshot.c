/* Deploy and scheduled jobs (SPEC §4): a deploy job, or one run of a
 * scheduled job, is at most 1 + retries attempts (oneshot.h decides); each
 * attempt is limited by the job's timeout. Standalone (JOBSHIM_JOB=NAME)
 * its result is jobshim's; in @all the deploy job gates web and the
 * workers; a scheduled job's run ends in waiting for its next time. Here:
 * what the supervisor does with the attempts (their log lines, timeouts,
 * the end of a run), then the schedules. */
#include "supervise_int.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "cron.h"
#include "jobstate.h"
#include "log.h"
#include "oneshot.h"
#include "plan.h"
#include "spawn.h"
#include "status.h"

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

/* Starts every job the deploy job held back; a job that cannot start
 * stops the others, as at start-up. */
static void release_held(struct sup *s)
{
	sup_schedules_start(s);
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
			sup_begin_stop(s, SIGTERM, NULL);
		}
	}
}

/* JA_RUN_OVER: the run is over (its state says how); the job is DONE, or
 * (scheduled) IDLE until its next time. */
void sup_oneshot_run_over(struct sup *s, struct job *j)
{
	bool changed = j->next_plan != NULL;

	sup_apply_next(j); /* a reload changed it during the run */
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
			sup_schedules_plan(s, wall_s()); /* the new schedule's */
		return;
	}
	/* @all's deploy job: web and the workers start only after a success.
	 * A configuration of a deploy job alone (no CMD, no workers, no
	 * schedules) has nothing left to run: jobshim ends with its status,
	 * as when the deploy job is run by name. */
	if (j->os.state == OS_SUCCEEDED) {
		if (!s->stopping && s->n == 1) {
			log_msg("%s succeeded and nothing else is configured: exiting",
				j->plan->name);
			s->exit_code = oneshot_exit_code(&j->os);
			s->exit_final = true;
			stop_quietly(s);
		} else if (!s->stopping) {
			release_held(s);
		}
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
void sup_oneshot_attempt_end(struct sup *s, struct job *j)
{
	uint64_t ran = mono() - j->started_ms, delay;
	char what[96], l1[256], l2[256];
	bool again;

	again = oneshot_attempt_ended(&j->os, j->last_code, j->timed_out, s->stopping,
				      s->o->backoff_min_ms, s->o->backoff_max_ms, &delay);
	j->last_timed_out = j->timed_out;
	if (!j->last_oom) /* counted a moment after the reaping, as for workers */
		j->last_oom = sup_oom_killed(j, j->last_wstatus);
	sup_describe_exit(j, j->last_wstatus, what, sizeof(what));
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
void sup_oneshot_give_up(struct sup *s, struct job *j)
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
void sup_oneshot_cannot_start(struct sup *s, struct job *j)
{
	j->os.last_code = j->last_code;
	sup_oneshot_give_up(s, j);
}

/* JA_TIMEOUT: the attempt's time is up: the stop signal, then SIGKILL
 * after grace. */
void sup_oneshot_timeout(struct sup *s, struct job *j)
{
	char msg[160];

	if (j->timed_out) {
		j->timeout_killed = true;
		if (sup_group_alive(j->group))
			kill(-j->group, SIGKILL);
		return;
	}
	oneshot_describe_timeout(&j->os, j->plan->name, j->plan->timeout_ms, msg, sizeof(msg));
	log_msg("%s", msg);
	j->timed_out = true;
	j->timeout_at_ms = mono() + s->o->grace_ms;
	sup_send_stop(s, j, s->o->stop_signal != 0 ? s->o->stop_signal : SIGTERM);
}

void sup_oneshot_status(const struct sup *s, const struct job *j, struct job_status *js)
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

bool sup_on_schedule(const struct sup *s, const struct job *j)
{
	return j->plan->kind == JOB_SCHEDULED && !s->plan->oneshot && !j->disabled;
}

int sup_schedules_setup(struct sup *s)
{
	bool any = false;

	for (size_t i = 0; i < s->n; i++)
		any = any || sup_on_schedule(s, &s->jobs[i]);
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
		if (sup_on_schedule(s, j) && j->phase != JS_HELD && j->phase != JS_DONE &&
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
void sup_schedules_plan(struct sup *s, int64_t now)
{
	for (size_t i = 0; i < s->n; i++) {
		struct job *j = &s->jobs[i];
		if (!sup_on_schedule(s, j) || j->phase == JS_HELD || j->phase == JS_DONE)
			continue;
		j->next_fire = cron_next(&j->plan->sched, s->cron_anchor, now);
	}
	timer_arm(s);
	sup_status_changed(s);
}

/* The scheduled jobs begin waiting for their times (at start-up, or in
 * @all once the deploy job succeeded). */
void sup_schedules_start(struct sup *s)
{
	if (s->tfd < 0)
		return;
	s->cron_anchor = wall_s();
	for (size_t i = 0; i < s->n; i++) {
		struct job *j = &s->jobs[i];
		if (sup_on_schedule(s, j))
			job_on(s, j, JE_RELEASE, 0); /* from HELD */
	}
	sup_schedules_plan(s, s->cron_anchor);
}

/* The lock of one run: a run of the same job by another jobshim in this
 * container (JOBSHIM_JOB=NAME beside @cron) makes this time a skip. */
static int run_lock(struct sup *s, struct job *j)
{
	return sup_job_lock(s, j);
}

/* JA_SKIP_OVERLAP: the time `due` of job j has come while its run (with
 * its retries) goes on: no overlap. */
void sup_schedule_skip(const struct job *j, int64_t due)
{
	bool secs = j->plan->sched.seconds || j->plan->sched.every_s > 0;
	char since[16], when[16];

	cron_format_clock(due, secs, when, sizeof(when));
	cron_format_clock(j->run_started, true, since, sizeof(since));
	log_msg("%s still running (since %s); skipped %s", j->plan->name, since, when);
}

/* JA_RUN_BEGIN: the time `due` of idle job j has come. */
void sup_schedule_fire(struct sup *s, struct job *j, int64_t due)
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
	r = sup_job_spawn(s, j);
	if (r == -ECANCELED) {
		sup_oneshot_cannot_start(s, j); /* spawn_instance said why */
	} else if (r < 0) {
		log_msg("unable to start %s: %s; skipped %s", j->plan->name, strerror(-r), when);
		j->last_code = EXIT_SETUP_FAILED;
		sup_oneshot_cannot_start(s, j);
	}
}

/* The timer expired, or the clock was set (then nothing fires: the next
 * times are computed again from the new time). No catch-up of missed
 * times either way. */
void sup_schedules_wake(struct sup *s)
{
	uint64_t expirations;
	bool clock_set = read(s->tfd, &expirations, sizeof(expirations)) < 0 && errno == ECANCELED;
	int64_t now = wall_s();

	if (s->stopping)
		return;
	for (size_t i = 0; i < s->n && !clock_set; i++) {
		struct job *j = &s->jobs[i];
		if (sup_on_schedule(s, j) && j->phase != JS_HELD && j->phase != JS_DONE &&
		    j->next_fire >= 0 && j->next_fire <= now)
			job_on(s, j, JE_FIRE, j->next_fire);
	}
	if (clock_set)
		log_debug("the clock was set: next times computed again");
	sup_schedules_plan(s, now);
}

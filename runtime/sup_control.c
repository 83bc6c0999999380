/* Operating a running jobshim (SPEC §10): restart, signal and reload, asked
 * for over RUN_DIR/control or (reload) by a change of the configuration
 * file. Each request is answered when it is done: a restart once the new
 * instance runs. Here: the requests, their answers, the clients waiting
 * for a restart, and the transitions of one job (a restart or a removal:
 * the stop signal, the grace, SIGKILL, then the next instance or none);
 * the reload itself is in sup_reload.c. */
#include "supervise_int.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "duration.h"
#include "jobstate.h"
#include "log.h"
#include "namelist.h"
#include "plan.h"
#include "reap.h"
#include "sandbox.h"
#include "signame.h"

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

void sup_answer(struct sup *s, uint32_t token, int code, const char *fmt, ...)
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

void sup_append(char *buf, size_t cap, size_t *len, const char *fmt, ...)
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

struct job *sup_job_named(struct sup *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!s->jobs[i].removed && strcmp(s->jobs[i].plan->name, name) == 0)
			return &s->jobs[i];
	return NULL;
}

static void job_list(const struct sup *s, char *buf, size_t cap)
{
	struct namelist l;

	namelist_init(&l, buf, cap);
	for (size_t i = 0; i < s->n; i++)
		if (!s->jobs[i].removed)
			namelist_add(&l, s->jobs[i].plan->name);
	namelist_end(&l);
}

/* A restart or a reload is under way: another reload waits or is refused,
 * so that no job is ever stopped twice over. */
bool sup_busy(const struct sup *s)
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
			sup_append(text, sizeof(text), &len, "restarted %s: pid %d\n",
				   j->plan->name, (int)j->pid);
		} else {
			code = CONTROL_CANNOT;
			sup_append(
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

/* Out of the table at the end of the reload (sup_reload_progress). */
static void job_remove(struct sup *s, struct job *j)
{
	j->removed = true;
	if (j->lock_fd >= 0) {
		close(j->lock_fd);
		j->lock_fd = -1;
	}
	sup_status_changed(s);
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
void sup_transition_removed(struct sup *s, struct job *j, enum job_state prev)
{
	transition_said(j, prev);
	j->transition = TR_NONE;
	job_remove(s, j);
}

/* JA_RESTART_NOW: the instance is gone (or there was none): the next one
 * starts at once, without backoff and without counting it as a crash. */
void sup_transition_restart(struct sup *s, struct job *j, enum job_state prev)
{
	int r;

	transition_said(j, prev);
	j->transition = TR_NONE;
	sup_apply_next(j);
	j->restarts++;
	r = sup_job_spawn(s, j);
	if (r < 0) {
		log_msg("unable to restart %s: %s", j->plan->name, strerror(-r));
		job_on(s, j, JE_RETRY_LATER, 0);
	} else {
		log_msg("%s restarted: pid %d", j->plan->name, (int)j->pid);
	}
	sup_status_changed(s);
	waiters_job_done(s, (size_t)(j - s->jobs));
}

/* Begins a restart or a removal: the stop signal to the job's main process
 * now (JA_TRANSITION_STOP), SIGKILL to its group once the grace period is
 * over. */
void sup_transition_begin(struct sup *s, struct job *j, enum transition tr)
{
	j->transition = tr;
	j->grace_over = false;
	j->grace_at_ms = mono() + s->o->grace_ms;
	job_on(s, j, tr == TR_RESTART ? JE_RESTART : JE_REMOVE, 0);
}

void sup_transition_stop(struct sup *s, const struct job *j)
{
	char grace[32], sig[24];

	duration_format(grace, sizeof(grace), s->o->grace_ms, DURATION_TERSE);
	log_msg("%s %s: %s to pid %d (grace %s)",
		j->transition == TR_RESTART ? "restarting" : "stopping", j->plan->name,
		sig_label(stop_signal(s), sig, sizeof(sig)), (int)j->pid, grace);
	sup_send_stop(s, j, stop_signal(s));
	sup_status_changed(s);
}

/* JA_GRACE_KILL */
void sup_transition_kill(struct job *j)
{
	j->grace_over = true;
	log_msg("%s did not stop within the grace period: sending SIGKILL", j->plan->name);
	if (sup_group_alive(j->group))
		kill(-j->group, SIGKILL);
	if (j->pid > 0)
		kill(j->pid, SIGKILL);
}

void sup_transitions_deadlines(struct sup *s, uint64_t now)
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
void sup_control_stopping(struct sup *s)
{
	for (size_t i = 0; i < CONTROL_CONNS_MAX; i++) {
		if (s->waiters[i].token == 0)
			continue; /* free (cleared when taken) */
		control_reply(s->ctl, s->waiters[i].token, CONTROL_CANNOT,
			      "jobshim: jobshim is stopping: the restart was not completed\n");
		memset(&s->waiters[i], 0, sizeof(s->waiters[i]));
	}
	if (s->reload.active) {
		sup_answer(s, s->reload.token, CONTROL_CANNOT,
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
	char names[1024];

	if (s->stopping) {
		sup_answer(s, token, CONTROL_CANNOT,
			   "jobshim: jobshim is stopping: nothing restarted\n");
		return;
	}
	if (s->reload.active) {
		sup_answer(
		    s, token, CONTROL_CANNOT,
		    "jobshim: a reload is in progress: nothing restarted; try again once it is "
		    "done\n");
		return;
	}
	if (name[0] != '\0') {
		one = sup_job_named(s, name);
		if (one == NULL) {
			job_list(s, names, sizeof(names));
			sup_answer(s, token, CONTROL_BAD,
				   "jobshim: unknown job \"%s\" (jobs here: %s)\n", name, names);
			return;
		}
		if (one->plan->kind == JOB_MAIN) {
			sup_answer(
			    s, token, CONTROL_BAD,
			    "jobshim: %s is the main app: jobshim never restarts it (the platform "
			    "restarts containers: restart the container instead)\n",
			    name);
			return;
		}
		if (one->plan->kind != JOB_WORKER) {
			sup_answer(
			    s, token, CONTROL_BAD,
			    "jobshim: %s is a %s job: it runs %s; restart applies to workers\n",
			    name, sup_kind_name(one->plan->kind),
			    one->plan->kind == JOB_SCHEDULED ? "on its schedule" : "once");
			return;
		}
		if (!restartable(one)) {
			sup_answer(s, token, CONTROL_CANNOT,
				   "jobshim: %s cannot be restarted now\n", name);
			return;
		}
	}
	for (size_t i = 0; i < CONTROL_CONNS_MAX && w == NULL; i++)
		if (s->waiters[i].token == 0)
			w = &s->waiters[i];
	if (w == NULL) {
		sup_answer(s, token, CONTROL_CANNOT, "jobshim: too many restarts pending\n");
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
		sup_answer(
		    s, token, CONTROL_BAD,
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
			sup_transition_begin(s, j, TR_RESTART);
		else
			log_msg("%s is already restarting: answered when that is done",
				j->plan->name);
	}
}

static void ctl_signal(struct sup *s, uint32_t token, const char *name, int sig)
{
	struct job *j = sup_job_named(s, name);
	char names[1024], label[24];

	sig_label(sig, label, sizeof(label));
	if (j == NULL) {
		job_list(s, names, sizeof(names));
		sup_answer(s, token, CONTROL_BAD, "jobshim: unknown job \"%s\" (jobs here: %s)\n",
			   name, names);
		return;
	}
	if (j->pid <= 0) {
		sup_answer(s, token, CONTROL_CANNOT,
			   "jobshim: %s is not running now (%s): no signal sent\n", name,
			   j->phase == JS_WAITING ? "waiting to restart" : "stopped");
		return;
	}
	if (s->o->signal_group) {
		sup_forward(s, j, sig); /* its whole process group, as forwarded signals */
	} else if (kill(j->pid, sig) < 0) {
		sup_answer(s, token, CONTROL_CANNOT,
			   "jobshim: unable to send %s to %s (pid %d): %s\n", label, name,
			   (int)j->pid, strerror(errno));
		return;
	}
	log_msg("control: sent %s to %s (pid %d)", label, name, (int)j->pid);
	sup_answer(s, token, CONTROL_DONE, "sent %s to %s (pid %d)\n", label, name, (int)j->pid);
}

void sup_on_request(void *ctx, uint32_t token, const struct control_req *req)
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
		sup_reload(s, token);
		break;
	}
}

/* The supervisor's job states and the events that move them, in one
 * switch (s6-supervise's shape). supervise.c and its sup_*.c run the
 * actions (the names in parentheses) and feed their outcomes back as
 * events.
 *
 *   NEW --HOLD--> HELD --RELEASE--> IDLE        CANCEL: NEW, HELD, IDLE -> DONE
 *    |             |                 |
 *  START         START       FIRE (RUN_BEGIN; SKIP_OVERLAP while a run goes on)
 *    +-------------+-----------------+
 *                  v
 *               (spawn) --NEVER_STARTS, START_FAILED--> DONE
 *                  |    \--RETRY_LATER--> WAITING
 *               SPAWNED
 *                  v
 *   +---------> RUNNING --EXITED--> CLEANUP --GONE--> WAITING (worker: BACKOFF)
 *   |              |                   |
 *   |              |                   +--GONE (one-shot: ATTEMPT_END)
 *   |              |                         --AGAIN--> WAITING
 *   |              |                         --RUN_OVER--> IDLE (scheduled) or DONE
 *   |              +--EXITED (the main app; a worker during a stop)--> DONE
 *   |
 *   +--(spawn)-- WAITING --BACKOFF_OVER (RESPAWN)
 *
 *   STOP: RUNNING gets the stop signal; WAITING, IDLE, HELD -> DONE (a
 *   one-shot in WAITING: GIVE_UP, then RUN_OVER). STOP_DELAYED (the stop
 *   signal waits): WAITING -> DONE. RESTART and REMOVE set the job's goal:
 *   the stop signal to a RUNNING instance (GRACE_OVER: SIGKILL); once it is
 *   GONE, or at once without an instance, REMOVED -> DONE, or (RESTART_NOW)
 *   a new instance without backoff. A stop cancels the goal.
 *
 * A job's state is one enum field (struct job's phase in supervise_int.h);
 * what status.json says of it is jobstate_run_state, here too. */
#include "jobstate.h"

#include <stddef.h>

static struct job_step step(enum job_state next, enum job_action a)
{
	return (struct job_step){.next = next, .action = a};
}

/* A restart or removal without an instance to stop. */
static struct job_step goal_now(enum job_state st, const struct job_ctx *c)
{
	return c->goal == TR_REMOVE ? step(JS_DONE, JA_REMOVED) : step(st, JA_RESTART_NOW);
}

struct job_step jobstate_step(enum job_state st, enum job_event ev, const struct job_ctx *c)
{
	bool oneshot = job_role_oneshot(c->role);
	struct job_step keep = step(st, JA_IGNORE);

	switch (ev) {
	case JE_HOLD:
		return st == JS_NEW ? step(JS_HELD, JA_NONE) : keep;
	case JE_RELEASE:
		return st == JS_HELD ? step(JS_IDLE, JA_NONE) : keep;
	case JE_CANCEL:
		return st == JS_NEW || st == JS_HELD || st == JS_IDLE ? step(JS_DONE, JA_NONE)
								      : keep;
	case JE_START:
		/* The spawn's answer (SPAWNED, NEVER_STARTS) sets the state. */
		return st == JS_NEW || st == JS_HELD ? step(st, JA_SPAWN) : keep;
	case JE_SPAWNED:
		return step(JS_RUNNING, JA_NONE);
	case JE_NEVER_STARTS:
		return step(JS_DONE, JA_NEVER_STARTS);
	case JE_START_FAILED:
		return step(JS_DONE, JA_NONE);
	case JE_RETRY_LATER:
		return step(JS_WAITING, JA_RETRY_LATER);
	case JE_EXITED:
		/* One instance at a time: what it left dies now (during a stop
		 * a one-shot's leftovers keep the grace). */
		if (oneshot)
			return step(JS_CLEANUP,
				    c->stopping ? JA_TERM_LEFTOVERS : JA_KILL_LEFTOVERS);
		if (c->role == JR_MAIN)
			return step(JS_DONE, JA_MAIN_EXITED);
		if (c->stopping)
			return step(JS_DONE, JA_EXITED_STOPPING);
		return step(JS_CLEANUP, JA_KILL_LEFTOVERS);
	case JE_GONE:
		if (st == JS_DONE)
			return step(JS_DONE, JA_NONE);
		if (st != JS_CLEANUP)
			return keep;
		if (c->goal != TR_NONE && !c->stopping)
			return goal_now(st, c);
		if (oneshot)
			return step(st, JA_ATTEMPT_END); /* answered by AGAIN or RUN_OVER */
		if (c->stopping)
			return step(JS_DONE, JA_NONE); /* it died as the stop began */
		return step(JS_WAITING, JA_BACKOFF);
	case JE_BACKOFF_OVER:
		return st == JS_WAITING ? step(st, JA_RESPAWN) : keep;
	case JE_AGAIN:
		return step(JS_WAITING, JA_NONE);
	case JE_RUN_OVER:
		return step(c->role == JR_SCHEDULED && !c->stopping ? JS_IDLE : JS_DONE,
			    JA_RUN_OVER);
	case JE_TIMEOUT:
		return st == JS_RUNNING ? step(st, JA_TIMEOUT) : keep;
	case JE_FIRE:
		if (st == JS_IDLE)
			return step(st, JA_RUN_BEGIN);
		if (st == JS_HELD || st == JS_DONE)
			return keep;
		return step(st, JA_SKIP_OVERLAP); /* no overlap: the run goes on */
	case JE_STOP:
		if (st == JS_WAITING && oneshot)
			return step(st, JA_GIVE_UP); /* no further attempt */
		if (st == JS_WAITING || st == JS_IDLE || st == JS_HELD)
			return step(JS_DONE, JA_NONE); /* no more restarts */
		return st == JS_RUNNING ? step(st, JA_STOP_SIGNAL) : keep;
	case JE_STOP_DELAYED:
		return st == JS_WAITING ? step(JS_DONE, JA_NONE) : keep;
	case JE_RESTART:
	case JE_REMOVE:
		if (st == JS_CLEANUP)
			return step(st, JA_NONE); /* its leader is gone: GONE completes it */
		if (st == JS_RUNNING && c->leader)
			return step(st, JA_TRANSITION_STOP);
		return goal_now(st, c); /* no instance: nothing to stop */
	case JE_GRACE_OVER:
		return st == JS_RUNNING ? step(st, JA_GRACE_KILL) : keep;
	}
	return keep;
}

enum run_state jobstate_run_state(enum job_state st, enum job_role role, bool stopping,
				  enum oneshot_state os)
{
	if (stopping && st != JS_DONE)
		return RS_TERMINATING;
	if (!job_role_oneshot(role)) {
		if (st == JS_RUNNING)
			return RS_RUNNING;
		if (st == JS_DONE)
			return stopping ? RS_TERMINATING : RS_EXITED;
		return RS_WAITING;
	}
	if (st == JS_RUNNING || st == JS_CLEANUP)
		return RS_RUNNING;
	if (st == JS_DONE && os == OS_SUCCEEDED)
		return RS_SUCCEEDED;
	if (st == JS_DONE && os == OS_FAILED)
		return RS_FAILED;
	return RS_WAITING;
}

const char *jobstate_name(enum job_state st)
{
	static const char *const names[JS_COUNT] = {
	    [JS_NEW] = "new",	      [JS_RUNNING] = "running", [JS_CLEANUP] = "cleanup",
	    [JS_WAITING] = "waiting", [JS_DONE] = "done",	[JS_IDLE] = "idle",
	    [JS_HELD] = "held",
	};

	return (unsigned)st < JS_COUNT ? names[st] : "?";
}

const char *jobstate_event_name(enum job_event ev)
{
	static const char *const names[JE_COUNT] = {
	    [JE_HOLD] = "hold",
	    [JE_RELEASE] = "release",
	    [JE_CANCEL] = "cancel",
	    [JE_START] = "start",
	    [JE_SPAWNED] = "spawned",
	    [JE_NEVER_STARTS] = "never-starts",
	    [JE_START_FAILED] = "start-failed",
	    [JE_RETRY_LATER] = "retry-later",
	    [JE_EXITED] = "exited",
	    [JE_GONE] = "gone",
	    [JE_BACKOFF_OVER] = "backoff-over",
	    [JE_AGAIN] = "again",
	    [JE_RUN_OVER] = "run-over",
	    [JE_TIMEOUT] = "timeout",
	    [JE_FIRE] = "fire",
	    [JE_STOP] = "stop",
	    [JE_STOP_DELAYED] = "stop-delayed",
	    [JE_RESTART] = "restart",
	    [JE_REMOVE] = "remove",
	    [JE_GRACE_OVER] = "grace-over",
	};

	return (unsigned)ev < JE_COUNT ? names[ev] : "?";
}

const char *jobstate_action_name(enum job_action a)
{
	static const char *const names[] = {
	    [JA_IGNORE] = "ignore",
	    [JA_NONE] = "none",
	    [JA_SPAWN] = "spawn",
	    [JA_RESPAWN] = "respawn",
	    [JA_RETRY_LATER] = "retry-later",
	    [JA_NEVER_STARTS] = "never-starts",
	    [JA_KILL_LEFTOVERS] = "kill-leftovers",
	    [JA_TERM_LEFTOVERS] = "term-leftovers",
	    [JA_MAIN_EXITED] = "main-exited",
	    [JA_EXITED_STOPPING] = "exited-stopping",
	    [JA_BACKOFF] = "backoff",
	    [JA_ATTEMPT_END] = "attempt-end",
	    [JA_GIVE_UP] = "give-up",
	    [JA_RUN_OVER] = "run-over",
	    [JA_TIMEOUT] = "timeout",
	    [JA_RUN_BEGIN] = "run-begin",
	    [JA_SKIP_OVERLAP] = "skip-overlap",
	    [JA_STOP_SIGNAL] = "stop-signal",
	    [JA_TRANSITION_STOP] = "transition-stop",
	    [JA_RESTART_NOW] = "restart-now",
	    [JA_REMOVED] = "removed",
	    [JA_GRACE_KILL] = "grace-kill",
	};

	return (size_t)a < sizeof(names) / sizeof(names[0]) ? names[a] : "?";
}

/* A supervised job's state and the events that move it (s6-supervise's
 * shape): one pure transition function, jobstate_step, says for a state and
 * an event what the next state is and which action the supervisor runs.
 * The supervisor (supervise.c and its sup_*.c) keeps the actions (spawn,
 * stop signal, backoff, ...) and sends every change of a job's state
 * through it, in job_on. The diagram is at the top of jobstate.c. */
#ifndef JOBSHIM_JOBSTATE_H
#define JOBSHIM_JOBSTATE_H

#include <stdbool.h>

#include "oneshot.h"
#include "status.h"

enum job_state {
	JS_NEW,	    /* in the table, not started yet (start-up, or added by a reload) */
	JS_RUNNING, /* an instance runs */
	JS_CLEANUP, /* its leader exited; leftovers are being killed */
	JS_WAITING, /* backoff before the restart (one-shot: the next attempt) */
	JS_DONE,    /* no more instances (shutdown, the main app exited, removed) */
	JS_IDLE,    /* a scheduled job waiting for its next time */
	JS_HELD,    /* @all: waiting for the deploy job to succeed */
};
#define JS_COUNT (JS_HELD + 1)

enum job_event {
	JE_HOLD,	 /* start-up: it waits for the deploy job or its schedule */
	JE_RELEASE,	 /* a scheduled job's schedule begins */
	JE_CANCEL,	 /* it will never run (disabled, the deploy job failed, ...) */
	JE_START,	 /* start it now (start-up, released by the deploy job) */
	JE_SPAWNED,	 /* an instance runs (the answer of a spawn) */
	JE_NEVER_STARTS, /* the instance can never start (SPEC §1: 125) */
	JE_START_FAILED, /* it could not start, and is not retried */
	JE_RETRY_LATER,	 /* it could not start (fork failed): again after backoff-max */
	JE_EXITED,	 /* the instance's leader was reaped */
	JE_GONE,	 /* ... and its whole process group is gone */
	JE_BACKOFF_OVER, /* the restart (next attempt) is due */
	JE_AGAIN,	 /* a one-shot attempt ended and another follows */
	JE_RUN_OVER,	 /* a one-shot run ended (succeeded, failed, given up) */
	JE_TIMEOUT,	 /* the attempt's timeout (or the SIGKILL after it) is due */
	JE_FIRE,	 /* a scheduled job's time came */
	JE_STOP,	 /* jobshim's stop: the stop signal is sent now */
	JE_STOP_DELAYED, /* jobshim's stop began; the stop signal waits (--stop-delay) */
	JE_RESTART,	 /* restart asked for (control, a reload's change) */
	JE_REMOVE,	 /* a reload removed it */
	JE_GRACE_OVER,	 /* the grace of a restart or removal is over */
};
#define JE_COUNT (JE_GRACE_OVER + 1)

enum job_action {
	JA_IGNORE,	    /* the event means nothing in this state */
	JA_NONE,	    /* only the state changes */
	JA_SPAWN,	    /* start an instance */
	JA_RESPAWN,	    /* count the restart (next attempt), start an instance */
	JA_RETRY_LATER,	    /* a restart again after backoff-max */
	JA_NEVER_STARTS,    /* jobshim's status is the job's (125); the rest is stopped */
	JA_KILL_LEFTOVERS,  /* SIGKILL what the instance left */
	JA_TERM_LEFTOVERS,  /* SIGTERM what it left, SIGKILL at the grace's end */
	JA_MAIN_EXITED,	    /* the main app's status ends the container */
	JA_EXITED_STOPPING, /* a worker exited during the stop: log, SIGTERM its leftovers */
	JA_BACKOFF,	    /* a worker's next instance after the backoff */
	JA_ATTEMPT_END,	    /* a one-shot attempt is over: another, or the run's end */
	JA_GIVE_UP,	    /* a one-shot run ends without another attempt */
	JA_RUN_OVER,	    /* a one-shot run ended: exit status, release, ... */
	JA_TIMEOUT,	    /* the stop signal for the timed-out attempt, then SIGKILL */
	JA_RUN_BEGIN,	    /* a scheduled run begins: its lock, its first attempt */
	JA_SKIP_OVERLAP,    /* the time comes while a run goes on: skipped */
	JA_STOP_SIGNAL,	    /* the stop signal to the instance */
	JA_TRANSITION_STOP, /* restart/removal: the stop signal, grace, SIGKILL */
	JA_RESTART_NOW,	    /* restart/removal of a job without instance: restart now */
	JA_REMOVED,	    /* removed by a reload: leaves the table */
	JA_GRACE_KILL,	    /* SIGKILL to the instance whose grace is over */
};

/* What a job is, as far as its state is concerned. */
enum job_role {
	JR_MAIN,       /* the main app: its exit ends jobshim */
	JR_WORKER,     /* restarted with backoff */
	JR_DEPLOY,     /* @all's deploy job: gates the others */
	JR_SCHEDULED,  /* a scheduled job on its schedule (@cron, @all) */
	JR_STANDALONE, /* JOBSHIM_JOB=NAME of a deploy or scheduled job: one run */
};

/* A restart or removal asked for over the control channel or by a reload:
 * stop signal, grace, SIGKILL, then (restart) a new instance at once. The
 * job's goal while its instance stops; the state stays RUNNING/CLEANUP. */
enum transition { TR_NONE, TR_RESTART, TR_REMOVE };

/* What besides the state decides a step. */
struct job_ctx {
	enum job_role role;
	bool stopping;	      /* jobshim's stop began */
	enum transition goal; /* a restart or removal under way */
	bool leader;	      /* the instance's leader is alive (pid > 0) */
};

struct job_step {
	enum job_state next;
	enum job_action action;
};

static inline bool job_role_oneshot(enum job_role r)
{
	return r == JR_DEPLOY || r == JR_SCHEDULED || r == JR_STANDALONE;
}

/* The one transition function: pure. JA_IGNORE keeps the state. */
struct job_step jobstate_step(enum job_state st, enum job_event ev, const struct job_ctx *c);

/* status.json's state of a job in st (SPEC §8): the one mapping. os is the
 * one-shot run's state (ignored for main app and workers). */
enum run_state jobstate_run_state(enum job_state st, enum job_role role, bool stopping,
				  enum oneshot_state os);

/* "running", "cleanup", ... for debug lines and tests. */
const char *jobstate_name(enum job_state st);
const char *jobstate_event_name(enum job_event ev);
const char *jobstate_action_name(enum job_action a);

#endif

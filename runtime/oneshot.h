/* A one-shot run (SPEC §4): the deploy job, or one run of a scheduled job.
 * At most 1 + retries attempts; an attempt that exits 0 ends the run with
 * success, any other end is retried after backoff-min, doubling, capped at
 * backoff-max; a stop ends the run without a new attempt. Pure: the
 * supervisor feeds it each attempt's end and acts on the answer. */
#ifndef JOBSHIM_ONESHOT_H
#define JOBSHIM_ONESHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EXIT_TIMED_OUT 124 /* SPEC §1: the last attempt hit its timeout */

enum oneshot_state {
	OS_IDLE,      /* no run yet (a scheduled job before its first time) */
	OS_RUNNING,   /* an attempt runs */
	OS_WAITING,   /* backoff before the next attempt */
	OS_SUCCEEDED, /* the last run succeeded */
	OS_FAILED,    /* the last run failed */
};

struct oneshot {
	enum oneshot_state state;
	unsigned attempt;  /* the current or last attempt, from 1; 0 before any */
	unsigned attempts; /* 1 + retries */
	int last_code;	   /* the last attempt's status; -1 none yet */
	bool timed_out;	   /* the last attempt ended by its timeout */
};

/* A run begins with its first attempt. */
void oneshot_begin(struct oneshot *r, unsigned attempts);

/* The current attempt ended with code (as a shell reports it), timed_out
 * when its timeout ended it, stopping when a stop signal arrived. Returns
 * true with *delay_ms set when another attempt is due after that delay
 * (state OS_WAITING), false when the run is over (OS_SUCCEEDED or
 * OS_FAILED). */
bool oneshot_attempt_ended(struct oneshot *r, int code, bool timed_out, bool stopping,
			   uint64_t backoff_min_ms, uint64_t backoff_max_ms, uint64_t *delay_ms);

/* After the delay: the next attempt begins. */
void oneshot_next_attempt(struct oneshot *r);

/* A stop during the backoff: no further attempt; the run failed. */
void oneshot_cancel(struct oneshot *r);

/* jobshim's exit status for a finished run: 0 on success, 124 when the last
 * attempt timed out, else the last attempt's status. */
int oneshot_exit_code(const struct oneshot *r);

/* The log lines for an attempt's end (what: "exited with status 1",
 * "killed by signal 15"; ran_ms its run time; delay_ms the backoff when
 * another attempt follows), called after oneshot_attempt_ended:
 *   line1: "release attempt 2 of 3 exited with status 1 after 3.2s; retry in 2s"
 *          (or without "; retry in" for the last), "" after a success;
 *   line2: "release succeeded on attempt 3 of 3", "release failed after 3
 *          attempts", "" while attempts remain. */
void oneshot_describe_end(const struct oneshot *r, const char *name, const char *what,
			  uint64_t ran_ms, uint64_t delay_ms, char *line1, char *line2, size_t cap);

/* "release timed out after 10m (attempt 1 of 3)" */
void oneshot_describe_timeout(const struct oneshot *r, const char *name, uint64_t timeout_ms,
			      char *buf, size_t cap);

/* "running", "waiting", "succeeded", "failed", "waiting" for OS_IDLE. */
const char *oneshot_state_name(enum oneshot_state s);

#endif

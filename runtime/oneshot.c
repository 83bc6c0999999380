#include "oneshot.h"

#include <stdio.h>
#include <string.h>

#include "backoff.h"
#include "duration.h"

void oneshot_begin(struct oneshot *r, unsigned attempts)
{
	r->state = OS_RUNNING;
	r->attempt = 1;
	r->attempts = attempts > 0 ? attempts : 1;
	r->timed_out = false;
}

bool oneshot_attempt_ended(struct oneshot *r, int code, bool timed_out, bool stopping,
			   uint64_t backoff_min_ms, uint64_t backoff_max_ms, uint64_t *delay_ms)
{
	r->last_code = code;
	r->timed_out = timed_out;
	*delay_ms = 0;
	if (code == 0 && !timed_out) {
		r->state = OS_SUCCEEDED;
		return false;
	}
	if (stopping || r->attempt >= r->attempts) {
		r->state = OS_FAILED;
		return false;
	}
	/* The n-th failure waits backoff-min · 2^(n-1), capped. */
	*delay_ms = backoff_delay(r->attempt, backoff_min_ms, backoff_max_ms);
	r->state = OS_WAITING;
	return true;
}

void oneshot_next_attempt(struct oneshot *r)
{
	r->attempt++;
	r->state = OS_RUNNING;
	r->timed_out = false;
}

void oneshot_cancel(struct oneshot *r)
{
	r->state = OS_FAILED;
}

int oneshot_exit_code(const struct oneshot *r)
{
	if (r->state == OS_SUCCEEDED)
		return 0;
	if (r->timed_out)
		return EXIT_TIMED_OUT;
	return r->last_code >= 0 ? r->last_code : 1;
}

void oneshot_describe_end(const struct oneshot *r, const char *name, const char *what,
			  uint64_t ran_ms, uint64_t delay_ms, char *line1, char *line2, size_t cap)
{
	char ran[32], delay[32];

	line1[0] = line2[0] = '\0';
	if (r->state == OS_SUCCEEDED) {
		snprintf(line2, cap, "%s succeeded on attempt %u of %u", name, r->attempt,
			 r->attempts);
		return;
	}
	duration_format(ran, sizeof(ran), ran_ms, DURATION_TERSE);
	if (r->state == OS_WAITING) {
		duration_format(delay, sizeof(delay), delay_ms, DURATION_TERSE);
		snprintf(line1, cap, "%s attempt %u of %u %s after %s; retry in %s", name,
			 r->attempt, r->attempts, what, ran, delay);
		return;
	}
	snprintf(line1, cap, "%s attempt %u of %u %s after %s", name, r->attempt, r->attempts, what,
		 ran);
	snprintf(line2, cap, "%s failed after %u attempt%s", name, r->attempt,
		 r->attempt == 1 ? "" : "s");
}

void oneshot_describe_timeout(const struct oneshot *r, const char *name, uint64_t timeout_ms,
			      char *buf, size_t cap)
{
	char t[32];

	duration_format(t, sizeof(t), timeout_ms, DURATION_WRITTEN);
	snprintf(buf, cap, "%s timed out after %s (attempt %u of %u)", name, t, r->attempt,
		 r->attempts);
}

const char *oneshot_state_name(enum oneshot_state s)
{
	switch (s) {
	case OS_RUNNING:
		return "running";
	case OS_SUCCEEDED:
		return "succeeded";
	case OS_FAILED:
		return "failed";
	case OS_IDLE:
	case OS_WAITING:
		break;
	}
	return "waiting";
}

#include "oneshot.h"

#include <stdio.h>
#include <string.h>

#include "backoff.h"

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
	format_ms(ran_ms, ran, sizeof(ran));
	if (r->state == OS_WAITING) {
		format_ms(delay_ms, delay, sizeof(delay));
		snprintf(line1, cap, "%s attempt %u of %u %s after %s; retry in %s", name,
			 r->attempt, r->attempts, what, ran, delay);
		return;
	}
	snprintf(line1, cap, "%s attempt %u of %u %s after %s", name, r->attempt, r->attempts, what,
		 ran);
	snprintf(line2, cap, "%s failed after %u attempt%s", name, r->attempt,
		 r->attempt == 1 ? "" : "s");
}

/* A timeout as it was written: "10m", "1h30m", "90s" → "1m30s", "2.5s". */
static void format_timeout(uint64_t ms, char *buf, size_t cap)
{
	uint64_t h = ms / 3600000, m = ms / 60000 % 60;

	if (ms % 60000 != 0 || ms == 0)
		format_ms(ms, buf, cap);
	else if (h > 0 && m > 0)
		snprintf(buf, cap, "%lluh%llum", (unsigned long long)h, (unsigned long long)m);
	else if (h > 0)
		snprintf(buf, cap, "%lluh", (unsigned long long)h);
	else
		snprintf(buf, cap, "%llum", (unsigned long long)m);
}

void oneshot_describe_timeout(const struct oneshot *r, const char *name, uint64_t timeout_ms,
			      char *buf, size_t cap)
{
	char t[32];

	format_timeout(timeout_ms, t, sizeof(t));
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

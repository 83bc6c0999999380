/* One-shot runs (SPEC §4): attempts, retries, backoff, timeouts, stops,
 * the exit status and the log lines, from a table of attempt endings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "oneshot.h"

struct end {
	int code;
	bool timed_out, stopping;
	uint64_t ran_ms;
	bool retry;	   /* another attempt is due */
	uint64_t delay_ms; /* then after this long */
	const char *line1, *line2;
};

struct row {
	const char *name;
	unsigned attempts;
	struct end ends[6];
	size_t n;
	enum oneshot_state final;
	int exit_code;
};

#define WHAT(code)                                                                                 \
	((code) == 143 ? "killed by signal 15"                                                     \
	 : (code) == 1 ? "exited with status 1"                                                    \
		       : "exited with status 2")

static const struct row rows[] = {
    {"success at once",
     1,
     {{0, false, false, 100, false, 0, "", "release succeeded on attempt 1 of 1"}},
     1,
     OS_SUCCEEDED,
     0},
    {"one failure, no retries",
     1,
     {{1, false, false, 3200, false, 0, "release attempt 1 of 1 exited with status 1 after 3.2s",
       "release failed after 1 attempt"}},
     1,
     OS_FAILED,
     1},
    {"success on the third attempt",
     3,
     {{1, false, false, 400, true, 1000,
       "release attempt 1 of 3 exited with status 1 after 0.4s; retry in 1s", ""},
      {2, false, false, 3200, true, 2000,
       "release attempt 2 of 3 exited with status 2 after 3.2s; retry in 2s", ""},
      {0, false, false, 50, false, 0, "", "release succeeded on attempt 3 of 3"}},
     3,
     OS_SUCCEEDED,
     0},
    {"every attempt fails: the last status",
     3,
     {{2, false, false, 100, true, 1000,
       "release attempt 1 of 3 exited with status 2 after 0.1s; retry in 1s", ""},
      {2, false, false, 100, true, 2000,
       "release attempt 2 of 3 exited with status 2 after 0.1s; retry in 2s", ""},
      {1, false, false, 100, false, 0, "release attempt 3 of 3 exited with status 1 after 0.1s",
       "release failed after 3 attempts"}},
     3,
     OS_FAILED,
     1},
    {"backoff capped at backoff-max",
     6,
     {{1, false, false, 100, true, 1000, NULL, NULL},
      {1, false, false, 100, true, 2000, NULL, NULL},
      {1, false, false, 100, true, 4000, NULL, NULL},
      {1, false, false, 100, true, 5000, NULL, NULL},
      {1, false, false, 100, true, 5000, NULL, NULL},
      {1, false, false, 100, false, 0, NULL, "release failed after 6 attempts"}},
     6,
     OS_FAILED,
     1},
    {"a timeout is 124",
     2,
     {{143, true, false, 60000, true, 1000,
       "release attempt 1 of 2 killed by signal 15 after 1m0s; retry in 1s", ""},
      {143, true, false, 60000, false, 0, "release attempt 2 of 2 killed by signal 15 after 1m0s",
       "release failed after 2 attempts"}},
     2,
     OS_FAILED,
     124},
    {"a timeout that exits 0 still failed",
     1,
     {{0, true, false, 60000, false, 0, NULL, NULL}},
     1,
     OS_FAILED,
     124},
    {"timeout then a plain failure: its status",
     2,
     {{143, true, false, 60000, true, 1000, NULL, NULL},
      {1, false, false, 100, false, 0, NULL, NULL}},
     2,
     OS_FAILED,
     1},
    {"a stop ends the run",
     3,
     {{143, false, true, 100, false, 0, "release attempt 1 of 3 killed by signal 15 after 0.1s",
       "release failed after 1 attempt"}},
     1,
     OS_FAILED,
     143},
    {"a job that exits 0 on a stop succeeded",
     3,
     {{0, false, true, 100, false, 0, NULL, NULL}},
     1,
     OS_SUCCEEDED,
     0},
};

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct oneshot os = {.last_code = -1};

		print_message("row %zu: %s\n", i, r->name);
		oneshot_begin(&os, r->attempts);
		assert_int_equal(os.state, OS_RUNNING);
		for (size_t k = 0; k < r->n; k++) {
			const struct end *e = &r->ends[k];
			uint64_t delay = 77;
			char l1[160], l2[160];
			bool again = oneshot_attempt_ended(&os, e->code, e->timed_out, e->stopping,
							   1000, 5000, &delay);

			assert_int_equal(os.attempt, k + 1);
			assert_int_equal(again, e->retry);
			assert_int_equal(delay, e->delay_ms);
			oneshot_describe_end(&os, "release", WHAT(e->code), e->ran_ms, delay, l1,
					     l2, sizeof(l1));
			if (e->line1 != NULL)
				assert_string_equal(l1, e->line1);
			if (e->line2 != NULL)
				assert_string_equal(l2, e->line2);
			if (again) {
				assert_int_equal(os.state, OS_WAITING);
				assert_string_equal(oneshot_state_name(os.state), "waiting");
				oneshot_next_attempt(&os);
			}
		}
		assert_int_equal(os.state, r->final);
		assert_int_equal(oneshot_exit_code(&os), r->exit_code);
	}
}

static void test_cancel_and_names(void **state)
{
	struct oneshot os = {.last_code = -1};
	uint64_t delay;
	char buf[128];

	(void)state;
	oneshot_begin(&os, 3);
	assert_string_equal(oneshot_state_name(os.state), "running");
	oneshot_describe_timeout(&os, "release", 600000, buf, sizeof(buf));
	assert_string_equal(buf, "release timed out after 10m (attempt 1 of 3)");
	oneshot_describe_timeout(&os, "release", 5400000, buf, sizeof(buf));
	assert_string_equal(buf, "release timed out after 1h30m (attempt 1 of 3)");
	oneshot_describe_timeout(&os, "release", 2500, buf, sizeof(buf));
	assert_string_equal(buf, "release timed out after 2.5s (attempt 1 of 3)");
	assert_true(oneshot_attempt_ended(&os, 1, false, false, 1000, 60000, &delay));
	/* A stop during the backoff: no further attempt, the last status. */
	oneshot_cancel(&os);
	assert_int_equal(os.state, OS_FAILED);
	assert_string_equal(oneshot_state_name(os.state), "failed");
	assert_int_equal(oneshot_exit_code(&os), 1);
	assert_string_equal(oneshot_state_name(OS_IDLE), "waiting");
	assert_string_equal(oneshot_state_name(OS_SUCCEEDED), "succeeded");
	/* attempts 0 is taken as 1 */
	oneshot_begin(&os, 0);
	assert_int_equal(os.attempts, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_cancel_and_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

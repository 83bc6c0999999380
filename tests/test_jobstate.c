/* The supervisor's state table (jobstate.h): rows of state + event (+ what
 * else decides) -> next state and action, and status.json's mapping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "jobstate.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct row {
	enum job_state st;
	enum job_event ev;
	enum job_role role;
	bool stopping;
	enum transition goal;
	bool leader;
	enum job_state next;
	enum job_action action;
};

#define W JR_WORKER
#define M JR_MAIN
#define D JR_DEPLOY
#define C JR_SCHEDULED
#define O JR_STANDALONE

static const struct row rows[] = {
    /* start-up */
    {JS_NEW, JE_HOLD, W, false, TR_NONE, false, JS_HELD, JA_NONE},
    {JS_NEW, JE_HOLD, C, false, TR_NONE, false, JS_HELD, JA_NONE},
    {JS_RUNNING, JE_HOLD, W, false, TR_NONE, true, JS_RUNNING, JA_IGNORE},
    {JS_HELD, JE_RELEASE, C, false, TR_NONE, false, JS_IDLE, JA_NONE},
    {JS_IDLE, JE_RELEASE, C, false, TR_NONE, false, JS_IDLE, JA_IGNORE},
    {JS_NEW, JE_CANCEL, W, false, TR_NONE, false, JS_DONE, JA_NONE},
    {JS_HELD, JE_CANCEL, W, false, TR_NONE, false, JS_DONE, JA_NONE},
    {JS_IDLE, JE_CANCEL, C, false, TR_NONE, false, JS_DONE, JA_NONE},
    {JS_RUNNING, JE_CANCEL, W, false, TR_NONE, true, JS_RUNNING, JA_IGNORE},
    {JS_WAITING, JE_CANCEL, W, false, TR_NONE, false, JS_WAITING, JA_IGNORE},
    {JS_NEW, JE_START, M, false, TR_NONE, false, JS_NEW, JA_SPAWN},
    {JS_HELD, JE_START, W, false, TR_NONE, false, JS_HELD, JA_SPAWN},
    {JS_RUNNING, JE_START, W, false, TR_NONE, true, JS_RUNNING, JA_IGNORE},
    {JS_DONE, JE_START, W, false, TR_NONE, false, JS_DONE, JA_IGNORE},
    /* the spawn's answers */
    {JS_NEW, JE_SPAWNED, W, false, TR_NONE, true, JS_RUNNING, JA_NONE},
    {JS_WAITING, JE_SPAWNED, W, false, TR_NONE, true, JS_RUNNING, JA_NONE},
    {JS_CLEANUP, JE_SPAWNED, W, false, TR_RESTART, true, JS_RUNNING, JA_NONE},
    {JS_NEW, JE_NEVER_STARTS, M, false, TR_NONE, false, JS_DONE, JA_NEVER_STARTS},
    {JS_WAITING, JE_NEVER_STARTS, W, false, TR_NONE, false, JS_DONE, JA_NEVER_STARTS},
    {JS_NEW, JE_START_FAILED, W, false, TR_NONE, false, JS_DONE, JA_NONE},
    {JS_WAITING, JE_RETRY_LATER, W, false, TR_NONE, false, JS_WAITING, JA_RETRY_LATER},
    {JS_NEW, JE_RETRY_LATER, W, false, TR_NONE, false, JS_WAITING, JA_RETRY_LATER},
    /* an instance's leader exits */
    {JS_RUNNING, JE_EXITED, W, false, TR_NONE, false, JS_CLEANUP, JA_KILL_LEFTOVERS},
    {JS_RUNNING, JE_EXITED, W, true, TR_NONE, false, JS_DONE, JA_EXITED_STOPPING},
    {JS_RUNNING, JE_EXITED, W, false, TR_RESTART, false, JS_CLEANUP, JA_KILL_LEFTOVERS},
    {JS_RUNNING, JE_EXITED, M, false, TR_NONE, false, JS_DONE, JA_MAIN_EXITED},
    {JS_RUNNING, JE_EXITED, M, true, TR_NONE, false, JS_DONE, JA_MAIN_EXITED},
    {JS_RUNNING, JE_EXITED, D, false, TR_NONE, false, JS_CLEANUP, JA_KILL_LEFTOVERS},
    {JS_RUNNING, JE_EXITED, C, true, TR_NONE, false, JS_CLEANUP, JA_TERM_LEFTOVERS},
    {JS_RUNNING, JE_EXITED, O, false, TR_NONE, false, JS_CLEANUP, JA_KILL_LEFTOVERS},
    /* ... and its group is gone */
    {JS_CLEANUP, JE_GONE, W, false, TR_NONE, false, JS_WAITING, JA_BACKOFF},
    {JS_CLEANUP, JE_GONE, W, true, TR_NONE, false, JS_DONE, JA_NONE},
    {JS_CLEANUP, JE_GONE, W, false, TR_RESTART, false, JS_CLEANUP, JA_RESTART_NOW},
    {JS_CLEANUP, JE_GONE, W, false, TR_REMOVE, false, JS_DONE, JA_REMOVED},
    {JS_CLEANUP, JE_GONE, W, true, TR_RESTART, false, JS_DONE, JA_NONE},
    {JS_CLEANUP, JE_GONE, C, false, TR_REMOVE, false, JS_DONE, JA_REMOVED},
    {JS_CLEANUP, JE_GONE, D, false, TR_NONE, false, JS_CLEANUP, JA_ATTEMPT_END},
    {JS_CLEANUP, JE_GONE, O, true, TR_NONE, false, JS_CLEANUP, JA_ATTEMPT_END},
    {JS_DONE, JE_GONE, M, false, TR_NONE, false, JS_DONE, JA_NONE},
    {JS_RUNNING, JE_GONE, W, false, TR_NONE, true, JS_RUNNING, JA_IGNORE},
    /* backoff, attempts, runs */
    {JS_WAITING, JE_BACKOFF_OVER, W, false, TR_NONE, false, JS_WAITING, JA_RESPAWN},
    {JS_WAITING, JE_BACKOFF_OVER, D, false, TR_NONE, false, JS_WAITING, JA_RESPAWN},
    {JS_RUNNING, JE_BACKOFF_OVER, W, false, TR_NONE, true, JS_RUNNING, JA_IGNORE},
    {JS_CLEANUP, JE_AGAIN, D, false, TR_NONE, false, JS_WAITING, JA_NONE},
    {JS_CLEANUP, JE_RUN_OVER, C, false, TR_NONE, false, JS_IDLE, JA_RUN_OVER},
    {JS_CLEANUP, JE_RUN_OVER, C, true, TR_NONE, false, JS_DONE, JA_RUN_OVER},
    {JS_CLEANUP, JE_RUN_OVER, D, false, TR_NONE, false, JS_DONE, JA_RUN_OVER},
    {JS_CLEANUP, JE_RUN_OVER, O, false, TR_NONE, false, JS_DONE, JA_RUN_OVER},
    {JS_WAITING, JE_RUN_OVER, C, true, TR_NONE, false, JS_DONE, JA_RUN_OVER},
    {JS_RUNNING, JE_TIMEOUT, D, false, TR_NONE, true, JS_RUNNING, JA_TIMEOUT},
    {JS_CLEANUP, JE_TIMEOUT, D, false, TR_NONE, false, JS_CLEANUP, JA_IGNORE},
    /* schedules */
    {JS_IDLE, JE_FIRE, C, false, TR_NONE, false, JS_IDLE, JA_RUN_BEGIN},
    {JS_RUNNING, JE_FIRE, C, false, TR_NONE, true, JS_RUNNING, JA_SKIP_OVERLAP},
    {JS_CLEANUP, JE_FIRE, C, false, TR_NONE, false, JS_CLEANUP, JA_SKIP_OVERLAP},
    {JS_WAITING, JE_FIRE, C, false, TR_NONE, false, JS_WAITING, JA_SKIP_OVERLAP},
    {JS_HELD, JE_FIRE, C, false, TR_NONE, false, JS_HELD, JA_IGNORE},
    {JS_DONE, JE_FIRE, C, false, TR_NONE, false, JS_DONE, JA_IGNORE},
    /* jobshim's stop */
    {JS_RUNNING, JE_STOP, W, true, TR_NONE, true, JS_RUNNING, JA_STOP_SIGNAL},
    {JS_RUNNING, JE_STOP, M, true, TR_NONE, true, JS_RUNNING, JA_STOP_SIGNAL},
    {JS_WAITING, JE_STOP, W, true, TR_NONE, false, JS_DONE, JA_NONE},
    {JS_WAITING, JE_STOP, D, true, TR_NONE, false, JS_WAITING, JA_GIVE_UP},
    {JS_WAITING, JE_STOP, C, true, TR_NONE, false, JS_WAITING, JA_GIVE_UP},
    {JS_IDLE, JE_STOP, C, true, TR_NONE, false, JS_DONE, JA_NONE},
    {JS_HELD, JE_STOP, W, true, TR_NONE, false, JS_DONE, JA_NONE},
    {JS_CLEANUP, JE_STOP, W, true, TR_NONE, false, JS_CLEANUP, JA_IGNORE},
    {JS_DONE, JE_STOP, W, true, TR_NONE, false, JS_DONE, JA_IGNORE},
    {JS_NEW, JE_STOP, W, true, TR_NONE, false, JS_NEW, JA_IGNORE},
    {JS_WAITING, JE_STOP_DELAYED, W, true, TR_NONE, false, JS_DONE, JA_NONE},
    {JS_WAITING, JE_STOP_DELAYED, D, true, TR_NONE, false, JS_DONE, JA_NONE},
    {JS_RUNNING, JE_STOP_DELAYED, W, true, TR_NONE, true, JS_RUNNING, JA_IGNORE},
    {JS_IDLE, JE_STOP_DELAYED, C, true, TR_NONE, false, JS_IDLE, JA_IGNORE},
    /* restart and removal */
    {JS_RUNNING, JE_RESTART, W, false, TR_RESTART, true, JS_RUNNING, JA_TRANSITION_STOP},
    {JS_RUNNING, JE_REMOVE, W, false, TR_REMOVE, true, JS_RUNNING, JA_TRANSITION_STOP},
    {JS_CLEANUP, JE_RESTART, W, false, TR_RESTART, false, JS_CLEANUP, JA_NONE},
    {JS_WAITING, JE_RESTART, W, false, TR_RESTART, false, JS_WAITING, JA_RESTART_NOW},
    {JS_WAITING, JE_REMOVE, W, false, TR_REMOVE, false, JS_DONE, JA_REMOVED},
    {JS_IDLE, JE_REMOVE, C, false, TR_REMOVE, false, JS_DONE, JA_REMOVED},
    {JS_DONE, JE_REMOVE, W, false, TR_REMOVE, false, JS_DONE, JA_REMOVED},
    {JS_RUNNING, JE_RESTART, W, false, TR_RESTART, false, JS_RUNNING, JA_RESTART_NOW},
    {JS_RUNNING, JE_GRACE_OVER, W, false, TR_RESTART, true, JS_RUNNING, JA_GRACE_KILL},
    {JS_CLEANUP, JE_GRACE_OVER, W, false, TR_RESTART, false, JS_CLEANUP, JA_IGNORE},
};

static void test_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(rows); i++) {
		const struct row *r = &rows[i];
		struct job_ctx c = {
		    .role = r->role, .stopping = r->stopping, .goal = r->goal, .leader = r->leader};
		struct job_step got = jobstate_step(r->st, r->ev, &c);

		if (got.next != r->next || got.action != r->action)
			print_error("row %zu: %s + %s -> %s/%s, want %s/%s\n", i,
				    jobstate_name(r->st), jobstate_event_name(r->ev),
				    jobstate_name(got.next), jobstate_action_name(got.action),
				    jobstate_name(r->next), jobstate_action_name(r->action));
		assert_int_equal(got.next, r->next);
		assert_int_equal(got.action, r->action);
	}
}

/* Every state and event: an ignored event never changes the state, and
 * every step has a name (no hole in the tables). */
static void test_total(void **state)
{
	static const enum job_role roles[] = {M, W, D, C, O};

	(void)state;
	for (int st = 0; st < JS_COUNT; st++)
		for (int ev = 0; ev < JE_COUNT; ev++)
			for (size_t k = 0; k < N(roles); k++)
				for (int f = 0; f < 2 * 3 * 2; f++) {
					struct job_ctx c = {.role = roles[k],
							    .stopping = f & 1,
							    .goal = (enum transition)((f >> 1) % 3),
							    .leader = f >= 6};
					struct job_step got = jobstate_step(st, ev, &c);

					assert_true(got.next < JS_COUNT);
					if (got.action == JA_IGNORE)
						assert_int_equal(got.next, st);
					assert_string_not_equal(jobstate_action_name(got.action),
								"?");
				}
	for (int st = 0; st < JS_COUNT; st++)
		assert_string_not_equal(jobstate_name(st), "?");
	for (int ev = 0; ev < JE_COUNT; ev++)
		assert_string_not_equal(jobstate_event_name(ev), "?");
}

struct map_row {
	enum job_state st;
	enum job_role role;
	bool stopping;
	enum oneshot_state os;
	enum run_state want;
};

static const struct map_row map_rows[] = {
    {JS_RUNNING, W, false, OS_IDLE, RS_RUNNING},
    {JS_CLEANUP, W, false, OS_IDLE, RS_WAITING},
    {JS_WAITING, W, false, OS_IDLE, RS_WAITING},
    {JS_DONE, M, false, OS_IDLE, RS_EXITED},
    {JS_DONE, M, true, OS_IDLE, RS_TERMINATING},
    {JS_RUNNING, W, true, OS_IDLE, RS_TERMINATING},
    {JS_IDLE, C, false, OS_IDLE, RS_WAITING},
    {JS_HELD, W, false, OS_IDLE, RS_WAITING},
    {JS_RUNNING, D, false, OS_RUNNING, RS_RUNNING},
    {JS_CLEANUP, D, false, OS_RUNNING, RS_RUNNING},
    {JS_WAITING, D, false, OS_WAITING, RS_WAITING},
    {JS_DONE, D, false, OS_SUCCEEDED, RS_SUCCEEDED},
    {JS_DONE, O, false, OS_FAILED, RS_FAILED},
    {JS_DONE, O, true, OS_FAILED, RS_FAILED},
    {JS_IDLE, C, false, OS_SUCCEEDED, RS_WAITING},
    {JS_RUNNING, C, true, OS_RUNNING, RS_TERMINATING},
    {JS_DONE, C, true, OS_IDLE, RS_WAITING},
};

static void test_run_state(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(map_rows); i++) {
		const struct map_row *r = &map_rows[i];
		enum run_state got = jobstate_run_state(r->st, r->role, r->stopping, r->os);

		if (got != r->want)
			print_error("map row %zu: %s -> %s, want %s\n", i, jobstate_name(r->st),
				    run_state_name(got), run_state_name(r->want));
		assert_int_equal(got, r->want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rows),
	    cmocka_unit_test(test_total),
	    cmocka_unit_test(test_run_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Tests of the restart delay arithmetic (SPEC §4) and of the duration text
 * in "exited ... after 0.4s; restart 3 in 4s". */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "backoff.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct delay_row {
	unsigned streak;
	uint64_t min, max, want;
};

static const struct delay_row delay_rows[] = {
    /* The defaults: 1s, 2s, 4s, ... capped at 60s. */
    {1, 1000, 60000, 1000},
    {2, 1000, 60000, 2000},
    {3, 1000, 60000, 4000},
    {4, 1000, 60000, 8000},
    {5, 1000, 60000, 16000},
    {6, 1000, 60000, 32000},
    {7, 1000, 60000, 60000},
    {8, 1000, 60000, 60000},
    {100, 1000, 60000, 60000},
    {1000000, 1000, 60000, 60000},
    {UINT_MAX, 1000, 60000, 60000},
    /* streak 0 (never happens) is treated as the first. */
    {0, 1000, 60000, 1000},
    /* min = max: constant. */
    {1, 5000, 5000, 5000},
    {9, 5000, 5000, 5000},
    /* The cap is exact, not the next power of two. */
    {2, 500, 1500, 1000},
    {3, 500, 1500, 1500},
    {3, 300, 1000, 1000},
    /* min above max (rejected by the CLI): the cap still wins. */
    {1, 5000, 1000, 1000},
    /* Overflow: doubling saturates instead of wrapping. */
    {1, 1, UINT64_MAX, 1},
    {64, 1, UINT64_MAX, 1ULL << 63},
    {65, 1, UINT64_MAX, UINT64_MAX},
    {UINT_MAX, 1, UINT64_MAX, UINT64_MAX},
    {UINT_MAX, 3, UINT64_MAX, UINT64_MAX},
    {2, UINT64_MAX / 2, UINT64_MAX, UINT64_MAX - 1},
    {2, UINT64_MAX / 2 + 1, UINT64_MAX, UINT64_MAX},
    {3, UINT64_MAX / 2 + 1, UINT64_MAX - 1, UINT64_MAX - 1},
    {1, UINT64_MAX, UINT64_MAX, UINT64_MAX},
    {40, 1000, UINT64_MAX, 1000ULL << 39},
    /* A zero minimum (rejected by the CLI) stays zero and returns at once. */
    {UINT_MAX, 0, UINT64_MAX, 0},
    {UINT_MAX, 0, 60000, 0},
};

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void test_backoff_delay_table(void **state)
{
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < N(delay_rows); i++) {
		const struct delay_row *r = &delay_rows[i];
		double t0 = now_s();
		uint64_t got = backoff_delay(r->streak, r->min, r->max);
		double took = now_s() - t0;

		if (got != r->want) {
			print_error(
			    "row %zu: backoff_delay(%u, %llu, %llu) = %llu, expected %llu\n", i,
			    r->streak, (unsigned long long)r->min, (unsigned long long)r->max,
			    (unsigned long long)got, (unsigned long long)r->want);
			bad++;
		}
		/* Bounded work whatever the streak (generous for sanitizers). */
		if (took > 0.05) {
			print_error("row %zu: took %.3fs\n", i, took);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/* Never below min (when min <= max), never above max, never decreasing. */
static void test_backoff_delay_monotonic(void **state)
{
	static const uint64_t mins[] = {1, 7, 100, 1000, 60000};
	static const uint64_t maxs[] = {1, 60000, 3600000, UINT64_MAX};

	(void)state;
	for (size_t a = 0; a < N(mins); a++) {
		for (size_t b = 0; b < N(maxs); b++) {
			uint64_t prev = 0;

			if (mins[a] > maxs[b])
				continue;
			for (unsigned s = 1; s < 200; s++) {
				uint64_t d = backoff_delay(s, mins[a], maxs[b]);
				assert_true(d >= mins[a]);
				assert_true(d <= maxs[b]);
				assert_true(d >= prev);
				prev = d;
			}
			assert_int_equal(prev, maxs[b]);
		}
	}
}

struct streak_row {
	unsigned streak;
	uint64_t ran, reset;
	unsigned want;
};

static const struct streak_row streak_rows[] = {
    {0, 0, 60000, 1},	       /* first exit, immediate */
    {0, 400, 60000, 1},	       /* first exit after 0.4s */
    {1, 400, 60000, 2},	       /* crash loop */
    {5, 59999, 60000, 6},      /* just short of stable */
    {5, 60000, 60000, 1},      /* exactly the reset: stable */
    {5, 86400000, 60000, 1},   /* ran a day */
    {0, UINT64_MAX, 60000, 1}, /* extreme uptime */
    {7, 0, 0, 1},	       /* reset 0: every run is stable */
    {7, 0, UINT64_MAX, 8},     /* reset never reached */
    {999999, 0, 60000, 1000000},
    {1000000, 0, 60000, 1000000}, /* saturates, no wrap to 0 */
    {UINT_MAX, 0, 60000, UINT_MAX},
};

static void test_backoff_streak_table(void **state)
{
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < N(streak_rows); i++) {
		const struct streak_row *r = &streak_rows[i];
		unsigned got = backoff_streak(r->streak, r->ran, r->reset);

		if (got != r->want) {
			print_error("row %zu: backoff_streak(%u, %llu, %llu) = %u, expected %u\n",
				    i, r->streak, (unsigned long long)r->ran,
				    (unsigned long long)r->reset, got, r->want);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/* The supervisor's use: streak = backoff_streak(streak, ran, reset);
 * delay = backoff_delay(streak, min, max), from streak 0. */
static void test_backoff_sequence(void **state)
{
	static const struct {
		uint64_t ran, delay;
	} seq[] = {
	    {100, 1000},   {100, 2000},	    {100, 4000},  {100, 8000},	  {100, 16000},
	    {100, 32000},  {100, 60000},    {100, 60000}, {59999, 60000}, /* not yet stable */
	    {60000, 1000},						  /* stable: start over */
	    {5, 2000},	   {3600000, 1000}, {0, 2000},	  {0, 4000},
	};
	unsigned streak = 0;

	(void)state;
	for (size_t i = 0; i < N(seq); i++) {
		streak = backoff_streak(streak, seq[i].ran, 60000);
		uint64_t d = backoff_delay(streak, 1000, 60000);
		if (d != seq[i].delay)
			fail_msg("step %zu: delay %llu, expected %llu", i, (unsigned long long)d,
				 (unsigned long long)seq[i].delay);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_backoff_delay_table),
	    cmocka_unit_test(test_backoff_delay_monotonic),
	    cmocka_unit_test(test_backoff_streak_table),
	    cmocka_unit_test(test_backoff_sequence),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

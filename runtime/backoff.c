#include "backoff.h"

uint64_t backoff_delay(unsigned streak, uint64_t min_ms, uint64_t max_ms)
{
	uint64_t d = min_ms;

	/* At most 64 doublings reach any cap; a zero min would never grow, so
	 * it must not spin through a huge streak. */
	for (unsigned i = 1; i < streak && d < max_ms && d != 0; i++)
		d = d > UINT64_MAX / 2 ? UINT64_MAX : d * 2;
	return d < max_ms ? d : max_ms;
}

unsigned backoff_streak(unsigned streak, uint64_t ran_ms, uint64_t reset_ms)
{
	if (ran_ms >= reset_ms)
		return 1;
	return streak < 1000000 ? streak + 1 : streak;
}

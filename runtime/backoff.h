/* Restart delays (SPEC §4). Pure. */
#ifndef JOBSHIM_BACKOFF_H
#define JOBSHIM_BACKOFF_H

#include <stdint.h>

/* Delay before the restart that follows the `streak`-th consecutive exit
 * without a stable run (streak >= 1): min, 2·min, 4·min, ... capped at max. */
uint64_t backoff_delay(unsigned streak, uint64_t min_ms, uint64_t max_ms);

/* The streak after an instance that ran `ran_ms`: a run of at least
 * reset_ms starts over at 1. */
unsigned backoff_streak(unsigned streak, uint64_t ran_ms, uint64_t reset_ms);

#endif

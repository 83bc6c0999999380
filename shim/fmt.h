/* The one formatter for bytes and durations that `check`, `stats` and the
 * control commands show. Pure; snprintf-like (returns the length the full
 * text needs, the buffer holds a cut, terminated prefix when it is short). */
#ifndef JOBSHIM_FMT_H
#define JOBSHIM_FMT_H

#include <stddef.h>
#include <stdint.h>

#include "duration.h"

/* Binary units, rounded down: the largest of Ki, Mi, Gi, Ti that gives an
 * exact value or one of at least 10 ("87Mi", "2Gi", "1536Mi", "512Mi");
 * plain bytes below 1Ki; "-" for a negative value. */
int fmt_bytes(char *buf, size_t cap, int64_t bytes);

/* ms milliseconds in one of runtime's styles (duration.h: EXACT for
 * check's timeouts, UPTIME for tables); "-" for a negative value (unknown). */
int fmt_duration(char *buf, size_t cap, int64_t ms, enum duration_style style);

#endif

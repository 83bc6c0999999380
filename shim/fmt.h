/* The one formatter for bytes and durations that `check`, `stats` and the
 * control commands show. Pure; snprintf-like (returns the length the full
 * text needs, the buffer holds a cut, terminated prefix when it is short). */
#ifndef JOBSHIM_FMT_H
#define JOBSHIM_FMT_H

#include <stddef.h>
#include <stdint.h>

/* Binary units, rounded down: the largest of Ki, Mi, Gi, Ti that gives an
 * exact value or one of at least 10 ("87Mi", "2Gi", "1536Mi", "512Mi");
 * plain bytes below 1Ki; "-" for a negative value. */
int fmt_bytes(char *buf, size_t cap, int64_t bytes);

enum fmt_duration_style {
	/* Every non-zero unit, as a configuration file writes it (Go's
	 * time.Duration without the zero parts): "5m", "1h30m", "1m30s",
	 * "2.500s", "0s". */
	FMT_DURATION_FULL,
	/* The two largest units, whole seconds, for tables: "45s", "2m10s",
	 * "3h4m", "2d3h". */
	FMT_DURATION_SHORT,
};

/* ms milliseconds in the given style; "-" for a negative value. */
int fmt_duration(char *buf, size_t cap, int64_t ms, enum fmt_duration_style style);

#endif

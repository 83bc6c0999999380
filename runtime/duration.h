/* Go-style durations, as Deploio writes them (SPEC §1): "500ms", "8s",
 * "5m", "1h30m", "5m0s", "1.5s", "0"; and the one formatter of durations
 * for everything jobshim says and shows. */
#ifndef JOBSHIM_DURATION_H
#define JOBSHIM_DURATION_H

#include <stddef.h>
#include <stdint.h>

/* Parses s into milliseconds (sub-millisecond remainders are truncated, as
 * Go's Duration.Milliseconds does). Units: ns, us, µs, ms, s, m, h; several
 * components add up; "0" alone needs no unit. A sign, an empty string,
 * a missing unit or garbage give -EINVAL; more than Go's maximum duration
 * (2^63-1 ns, about 292 years) gives -ERANGE. */
int duration_parse(const char *s, uint64_t *ms);

enum duration_style {
	/* Messages ("restart 3 in 4s", "after 0.4s"): milliseconds below
	 * 100ms, tenths below 10s, then whole seconds in h/m/s. */
	DURATION_TERSE,
	/* A timeout in messages, as it was written: "10m", "1h30m"; what is
	 * no whole minute as TERSE ("1m30s", "2.5s"). */
	DURATION_WRITTEN,
	/* check: every non-zero unit, milliseconds kept (Go's time.Duration
	 * without the zero parts): "5m", "1h30m", "1m30s", "2.500s", "0s". */
	DURATION_EXACT,
	/* Tables (stats' UPTIME): the two largest units, whole seconds:
	 * "45s", "2m10s", "3h4m", "2d3h". */
	DURATION_UPTIME,
};

/* ms milliseconds in the given style, snprintf-like: returns the length
 * the whole text needs; a short buffer holds a cut, terminated prefix. */
int duration_format(char *buf, size_t cap, uint64_t ms, enum duration_style style);

#endif

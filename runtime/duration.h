/* Go-style durations, as Deploio writes them (SPEC §1): "500ms", "8s",
 * "5m", "1h30m", "5m0s", "1.5s", "0". */
#ifndef JOBSHIM_DURATION_H
#define JOBSHIM_DURATION_H

#include <stdint.h>

/* Parses s into milliseconds (sub-millisecond remainders are truncated, as
 * Go's Duration.Milliseconds does). Units: ns, us, µs, ms, s, m, h; several
 * components add up; "0" alone needs no unit. A sign, an empty string,
 * a missing unit or garbage give -EINVAL; more than Go's maximum duration
 * (2^63-1 ns, about 292 years) gives -ERANGE. */
int duration_parse(const char *s, uint64_t *ms);

#endif

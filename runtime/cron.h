/* Schedules of scheduledJobs (SPEC §3, §4): Vixie cron's five fields
 * (minute hour day-of-month month day-of-week), each a comma list of "*",
 * N, N-M, with an optional "/STEP"; month and weekday names (jan-dec,
 * sun-sat) in any case; "?" for either day field; 7 for Sunday; the macros
 * @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly. Two
 * extensions that Deploio does not accept: a leading sixth seconds field
 * (supercronic's form) and "@every DURATION".
 *
 * Local times come from the C library's zone (TZ, else /etc/localtime,
 * else UTC): cron_zone_check validates TZ first, and the C library reads
 * the zone file only when a local time is asked for. */
#ifndef JOBSHIM_CRON_H
#define JOBSHIM_CRON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define CRON_ZONEINFO "/usr/share/zoneinfo"

struct cron_sched {
	uint64_t sec, min;	 /* bit N: second / minute N */
	uint32_t hour, dom;	 /* bit N: hour N (0-23), day of month N (1-31) */
	uint16_t mon;		 /* bit N: month N (1-12) */
	uint8_t dow;		 /* bit N: weekday N, 0 = Sunday */
	bool dom_star, dow_star; /* the field starts with '*' or '?' (Vixie's day rule) */
	bool seconds;		 /* extension: a leading seconds field */
	uint64_t every_s;	 /* extension: @every, in whole seconds; else 0 */
};

/* 0 with *out filled, or -EINVAL with the reason in err
 * ("hour: 25 is out of range 0-23"). A schedule that matches no date
 * ("0 0 30 2 *") is refused too. */
int cron_parse(const char *expr, struct cron_sched *out, struct err *err);
/* cron_parse without the result. */
int cron_validate(const char *expr, struct err *err);

/* What Deploio would refuse: "a seconds field", "@every", or NULL. */
const char *cron_extension(const struct cron_sched *s);

/* The first firing time strictly after `after` (Unix seconds), local to
 * the C library's zone. A local time that does not exist (spring forward)
 * fires at the first instant after the gap; one that occurs twice (fall
 * back) fires at its first occurrence only. @every fires at
 * anchor + k·every for the smallest k with a time after `after` (no drift,
 * no catch-up). -1 when nothing matches in the next 8 years. */
int64_t cron_next(const struct cron_sched *s, int64_t anchor, int64_t after);

/* TZ's value (NULL or "" when unset) names a zone the C library can load:
 * a POSIX rule ("CET-1CEST,M3.5.0,M10.5.0/3", "UTC0"), an absolute zone
 * file, or a name under CRON_ZONEINFO whose file is a TZif file. 0, or
 * -ENOENT / -EINVAL with err saying which file was looked for. */
int cron_zone_check(const char *tz, struct err *err);
/* The zone as check shows it: TZ's value, else "/etc/localtime (NAME)"
 * or "/etc/localtime", else "UTC". */
void cron_zone_describe(const char *tz, char *buf, size_t cap);

/* "2026-12-02 03:00:00 CET" (with_seconds) or "2026-12-02 03:00 CET":
 * t in the local zone. */
void cron_format_local(int64_t t, bool with_seconds, char *buf, size_t cap);
/* "03:00:00" or "03:05": the local time of day. */
void cron_format_clock(int64_t t, bool with_seconds, char *buf, size_t cap);

#endif

/* Five-field cron expressions for scheduledJobs (SPEC §3), validated the way
 * Kubernetes CronJobs read them: minute hour day-of-month month day-of-week,
 * each a comma list of "*", N, N-M, with an optional "/STEP"; month and
 * weekday names (jan-dec, sun-sat) in any case; "?" for either day field;
 * and the macros @yearly, @annually, @monthly, @weekly, @daily, @midnight,
 * @hourly. Only validated: jobshim does not run scheduled jobs. */
#ifndef JOBSHIM_CRON_H
#define JOBSHIM_CRON_H

#include <stddef.h>

/* 0, or -EINVAL with the reason in err ("hour: 25 is out of range 0-23"). */
int cron_validate(const char *expr, char *err, size_t errlen);

#endif

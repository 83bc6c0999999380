/* libFuzzer target for schedules (SPEC §3, §4): cron_parse on arbitrary
 * text, then cron_next from an arbitrary time in one of four zones (UTC,
 * two with one-hour changes, Lord Howe with a half-hour one).
 *
 * Input: byte 0 = zone, bytes 1-8 = the start time, the rest = the schedule.
 * Every time cron_next returns must be after the one before, and must
 * either match the schedule in local time or be the first instant after a
 * change of the UTC offset (a local time in a spring-forward gap).
 *
 * Build and run: make fuzz-run FUZZ_TARGETS=cron */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cron.h"

#define STEPS 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool matches(const struct cron_sched *s, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	bool dom, dow, day;

	if (localtime_r(&tt, &tm) == NULL)
		return false;
	dom = s->dom >> tm.tm_mday & 1;
	dow = s->dow >> tm.tm_wday & 1;
	day = s->dom_star || s->dow_star ? dom && dow : dom || dow;
	return (s->sec >> tm.tm_sec & 1) && (s->min >> tm.tm_min & 1) &&
	       (s->hour >> tm.tm_hour & 1) && (s->mon >> (tm.tm_mon + 1) & 1) && day;
}

static long offset_at(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	return localtime_r(&tt, &tm) != NULL ? tm.tm_gmtoff : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const zones[] = {"UTC", "Europe/Zurich", "America/New_York",
					    "Australia/Lord_Howe"};
	static const char *current;
	struct cron_sched s;
	char expr[256];
	struct err err = {0};
	uint64_t raw = 0;
	int64_t t, next;
	size_t len;

	if (size < 9)
		return 0;
	if (current != zones[data[0] % 4]) {
		current = zones[data[0] % 4];
		setenv("TZ", current, 1);
		tzset();
	}
	memcpy(&raw, data + 1, 8);
	/* 1970 to about 2106: where time_t and the zone data are meaningful. */
	t = (int64_t)(raw % 4300000000ULL);
	len = size - 9 < sizeof(expr) - 1 ? size - 9 : sizeof(expr) - 1;
	memcpy(expr, data + 9, len);
	expr[len] = '\0';
	if (cron_parse(expr, &s, &err) < 0) {
		if (err.msg[0] == '\0')
			abort(); /* every refusal says why */
		return 0;
	}
	for (int i = 0; i < STEPS; i++) {
		next = cron_next(&s, 0, t);
		if (next < 0)
			return 0;
		if (next <= t)
			abort();
		if (s.every_s == 0 && !matches(&s, next) && offset_at(next - 1) == offset_at(next))
			abort();
		t = next;
	}
	return 0;
}

/* Schedules (SPEC §3, §4): parsing, and the next firing time from a table
 * of (zone, schedule, after) rows, daylight-saving changes included. Times
 * in the table are UTC; the zone only decides which local time matches. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "cron.h"

static void use_zone(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

/* "2026-03-29 01:00:00" as UTC; "never" = -1. */
static int64_t utc(const char *s)
{
	struct tm tm = {0};

	if (strcmp(s, "never") == 0)
		return -1;
	assert_int_equal(sscanf(s, "%d-%d-%d %d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
				&tm.tm_hour, &tm.tm_min, &tm.tm_sec),
			 6);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm);
}

struct next_row {
	const char *zone, *expr, *after, *want;
};

static const struct next_row next_rows[] = {
    /* every field form */
    {"UTC", "* * * * *", "2026-01-01 00:00:00", "2026-01-01 00:01:00"},
    {"UTC", "* * * * *", "2026-01-01 00:00:30", "2026-01-01 00:01:00"},
    {"UTC", "*/15 * * * *", "2026-01-01 00:16:00", "2026-01-01 00:30:00"},
    {"UTC", "5,10 * * * *", "2026-01-01 00:06:00", "2026-01-01 00:10:00"},
    {"UTC", "10-12 3 * * *", "2026-01-01 03:12:00", "2026-01-02 03:10:00"},
    {"UTC", "10-30/10 3 * * *", "2026-01-01 03:10:00", "2026-01-01 03:20:00"},
    {"UTC", "50/5 3 * * *", "2026-01-01 03:51:00", "2026-01-01 03:55:00"},
    {"UTC", "0 */6 * * *", "2026-01-01 07:00:00", "2026-01-01 12:00:00"},
    {"UTC", "0 22-2 * * *", "2026-01-01 07:00:00", "never"}, /* refused: backwards */
    {"UTC", "0 0 1,15 * *", "2026-01-02 00:00:00", "2026-01-15 00:00:00"},
    {"UTC", "0 0 1 */3 *", "2026-02-01 00:00:00", "2026-04-01 00:00:00"},
    /* names, in any case */
    {"UTC", "0 0 1 jan *", "2026-01-01 00:00:00", "2027-01-01 00:00:00"},
    {"UTC", "0 0 1 Jun-AUG *", "2026-01-01 00:00:00", "2026-06-01 00:00:00"},
    {"UTC", "0 0 * * MON", "2026-01-01 00:00:00", "2026-01-05 00:00:00"}, /* a Thursday */
    {"UTC", "0 0 * * sun-Tue", "2026-01-01 00:00:00", "2026-01-04 00:00:00"},
    {"UTC", "0 0 * * 7", "2026-01-01 00:00:00", "2026-01-04 00:00:00"}, /* 7 = Sunday */
    {"UTC", "0 0 * * 0", "2026-01-01 00:00:00", "2026-01-04 00:00:00"},
    {"UTC", "0 0 ? * fri", "2026-01-01 00:00:00", "2026-01-02 00:00:00"},
    /* the day rule: both restricted, either matches */
    {"UTC", "0 0 13 * fri", "2026-01-01 00:00:00", "2026-01-02 00:00:00"},
    {"UTC", "0 0 13 * fri", "2026-01-09 00:00:00", "2026-01-13 00:00:00"},
    /* ... a day field starting with '*' is unrestricted (Vixie): both must match */
    {"UTC", "0 0 */2 * fri", "2026-01-01 00:00:00", "2026-01-09 00:00:00"},
    {"UTC", "0 0 13 * *", "2026-01-01 00:00:00", "2026-01-13 00:00:00"},
    /* 29 February, month ends */
    {"UTC", "0 0 29 2 *", "2026-01-01 00:00:00", "2028-02-29 00:00:00"},
    {"UTC", "0 0 29 2 *", "2096-03-01 00:00:00", "2104-02-29 00:00:00"}, /* 2100 is no leap year */
    {"UTC", "0 0 29 feb mon", "2026-01-01 00:00:00", "2026-02-02 00:00:00"},
    {"UTC", "0 0 31 * *", "2026-01-31 00:00:00", "2026-03-31 00:00:00"},
    {"UTC", "0 0 30 * *", "2026-02-01 00:00:00", "2026-03-30 00:00:00"},
    {"UTC", "59 23 31 12 *", "2026-06-01 00:00:00", "2026-12-31 23:59:00"},
    {"UTC", "0 0 1 * *", "2026-12-31 23:59:59", "2027-01-01 00:00:00"},
    /* macros */
    {"UTC", "@hourly", "2026-01-01 00:30:00", "2026-01-01 01:00:00"},
    {"UTC", "@daily", "2026-01-01 00:30:00", "2026-01-02 00:00:00"},
    {"UTC", "@midnight", "2026-01-01 00:30:00", "2026-01-02 00:00:00"},
    {"UTC", "@weekly", "2026-01-01 00:30:00", "2026-01-04 00:00:00"},
    {"UTC", "@monthly", "2026-01-01 00:30:00", "2026-02-01 00:00:00"},
    {"UTC", "@yearly", "2026-01-01 00:30:00", "2027-01-01 00:00:00"},
    {"UTC", "@annually", "2026-01-01 00:30:00", "2027-01-01 00:00:00"},
    /* the seconds field (extension) */
    {"UTC", "*/2 * * * * *", "2026-01-01 00:00:01", "2026-01-01 00:00:02"},
    {"UTC", "*/2 * * * * *", "2026-01-01 00:00:02", "2026-01-01 00:00:04"},
    {"UTC", "30 0 * * * *", "2026-01-01 00:00:31", "2026-01-01 01:00:30"},
    {"UTC", "30 * * * * *", "2026-01-01 00:00:31", "2026-01-01 00:01:30"},
    {"UTC", "0 0 0 1 1 *", "2026-01-01 00:00:00", "2027-01-01 00:00:00"},
    /* local times */
    {"Europe/Zurich", "0 0 * * *", "2026-07-01 00:00:00", "2026-07-01 22:00:00"},
    {"Europe/Zurich", "0 0 * * *", "2026-01-01 00:00:00", "2026-01-01 23:00:00"},
    {"America/New_York", "0 12 * * *", "2026-01-01 00:00:00", "2026-01-01 17:00:00"},
    {"America/New_York", "0 12 * * *", "2026-07-01 00:00:00", "2026-07-01 16:00:00"},
    /* spring forward: Zurich 29 March 2026, 02:00 CET -> 03:00 CEST */
    {"Europe/Zurich", "30 2 * * *", "2026-03-28 12:00:00", "2026-03-29 01:00:00"},
    {"Europe/Zurich", "30 2 * * *", "2026-03-29 01:00:00", "2026-03-30 00:30:00"},
    {"Europe/Zurich", "*/15 * * * *", "2026-03-29 00:50:00", "2026-03-29 01:00:00"},
    {"Europe/Zurich", "*/15 * * * *", "2026-03-29 01:00:00", "2026-03-29 01:15:00"},
    {"Europe/Zurich", "0 3 * * *", "2026-03-28 12:00:00", "2026-03-29 01:00:00"},
    {"Europe/Zurich", "0 3 * * *", "2026-03-29 01:00:00", "2026-03-30 01:00:00"},
    /* fall back: Zurich 25 October 2026, 03:00 CEST -> 02:00 CET */
    {"Europe/Zurich", "30 2 * * *", "2026-10-24 12:00:00", "2026-10-25 00:30:00"},
    {"Europe/Zurich", "30 2 * * *", "2026-10-25 00:30:00", "2026-10-26 01:30:00"},
    {"Europe/Zurich", "*/30 * * * *", "2026-10-25 00:45:00", "2026-10-25 02:00:00"},
    {"Europe/Zurich", "*/30 * * * *", "2026-10-25 01:10:00", "2026-10-25 02:00:00"},
    {"Europe/Zurich", "0 * * * *", "2026-10-24 23:30:00", "2026-10-25 00:00:00"},
    {"Europe/Zurich", "0 * * * *", "2026-10-25 00:00:00", "2026-10-25 02:00:00"},
    /* New York: 8 March 2026 02:00 EST -> 03:00 EDT; 1 November 02:00 EDT -> 01:00 EST */
    {"America/New_York", "30 2 * * *", "2026-03-07 12:00:00", "2026-03-08 07:00:00"},
    {"America/New_York", "30 2 * * *", "2026-03-08 07:00:00", "2026-03-09 06:30:00"},
    {"America/New_York", "30 1 * * *", "2026-10-31 12:00:00", "2026-11-01 05:30:00"},
    {"America/New_York", "30 1 * * *", "2026-11-01 05:30:00", "2026-11-02 06:30:00"},
    {"America/New_York", "*/20 1 * * *", "2026-11-01 05:40:00", "2026-11-02 06:00:00"},
    /* a POSIX rule instead of a zone file */
    {"CET-1CEST,M3.5.0,M10.5.0/3", "30 2 * * *", "2026-03-28 12:00:00", "2026-03-29 01:00:00"},
};

static void test_next_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(next_rows) / sizeof(next_rows[0]); i++) {
		const struct next_row *r = &next_rows[i];
		struct cron_sched s;
		struct err err = {0};
		int64_t got, want = utc(r->want);

		print_message("row %zu: %s \"%s\" after %s\n", i, r->zone, r->expr, r->after);
		use_zone(r->zone);
		if (cron_parse(r->expr, &s, &err) < 0) {
			assert_int_equal(want, -1);
			continue;
		}
		got = cron_next(&s, 0, utc(r->after));
		if (got != want) {
			struct tm tm;
			time_t t = (time_t)got;
			char buf[64];

			gmtime_r(&t, &tm);
			strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
			print_message("  want %s, got %s\n", r->want, buf);
		}
		assert_int_equal(got, want);
	}
}

/* A day's worth of the every-minute schedule across both changes: every
 * local minute fires exactly once, and the times only grow. */
static void test_next_walk(void **state)
{
	static const struct {
		const char *zone, *from;
		int64_t want;
	} walks[] = {
	    {"Europe/Zurich", "2026-03-28 12:00:00", 24 * 60 - 60}, /* a 23-hour day */
	    {"Europe/Zurich", "2026-10-24 12:00:00", 24 * 60},	    /* 25 hours, 24 local */
	    {"America/New_York", "2026-03-07 17:00:00", 24 * 60 - 60},
	    {"UTC", "2026-03-28 12:00:00", 24 * 60},
	};
	struct cron_sched s;
	struct err err = {0};

	(void)state;
	assert_int_equal(cron_parse("* * * * *", &s, &err), 0);
	for (size_t w = 0; w < sizeof(walks) / sizeof(walks[0]); w++) {
		int64_t t = utc(walks[w].from), end, count = 0, prev;
		struct tm tm;
		time_t tt;

		use_zone(walks[w].zone);
		tt = (time_t)t;
		localtime_r(&tt, &tm);
		/* Until the same local time the next day. */
		tm.tm_mday++;
		tm.tm_isdst = -1;
		end = (int64_t)mktime(&tm);
		prev = t;
		while ((t = cron_next(&s, 0, t)) <= end) {
			assert_true(t > prev);
			prev = t;
			count++;
		}
		print_message("walk %zu: %s %lld firings\n", w, walks[w].zone, (long long)count);
		assert_int_equal(count, walks[w].want);
	}
}

static void test_every(void **state)
{
	struct cron_sched s;
	struct err err = {0};

	(void)state;
	assert_int_equal(cron_parse("@every 90s", &s, &err), 0);
	assert_int_equal(s.every_s, 90);
	assert_string_equal(cron_extension(&s), "@every");
	assert_int_equal(cron_next(&s, 1000, 1000), 1090);
	assert_int_equal(cron_next(&s, 1000, 1089), 1090);
	assert_int_equal(cron_next(&s, 1000, 1090), 1180);
	/* Late wake-ups do not shift the grid, and nothing is caught up. */
	assert_int_equal(cron_next(&s, 1000, 1000 + 90 * 10 + 3), 1000 + 90 * 11);
	assert_int_equal(cron_next(&s, 1000, 500), 1090);
	assert_int_equal(cron_parse("@every 1h30m", &s, &err), 0);
	assert_int_equal(s.every_s, 5400);
	assert_int_equal(cron_parse("  @every   2s  ", &s, &err), 0);
	assert_int_equal(s.every_s, 2);
	assert_int_equal(cron_parse("@every 1500ms", &s, &err), 0);
	assert_int_equal(s.every_s, 1);
}

struct parse_row {
	const char *expr;
	const char *err; /* NULL: valid */
	const char *extension;
};

static const struct parse_row parse_rows[] = {
    {"0 3 * * *", NULL, NULL},
    {"  0   3 * *\t*  ", NULL, NULL},
    {"*/5 * * * * *", NULL, "a seconds field"},
    {"@every 5m", NULL, "@every"},
    {"@hourly", NULL, NULL},
    {"0 0 31 4 1", NULL, NULL}, /* the weekday still fires */
    {"0 25 * * *", "hour: 25 is out of range 0-23", NULL},
    {"60 * * * *", "minute: 60 is out of range 0-59", NULL},
    {"0 0 0 * *", "day of month: 0 is out of range 1-31", NULL},
    {"0 0 * 13 *", "month: 13 is out of range 1-12", NULL},
    {"0 0 * * 8", "day of week: 8 is out of range 0-7", NULL},
    {"60 * * * * *", "second: 60 is out of range 0-59", NULL},
    {"0 3 * *",
     "expected 5 fields (minute hour day-of-month month day-of-week), or 6 with "
     "seconds first, found 4",
     NULL},
    {"0 0 3 * * * *",
     "expected 5 fields (minute hour day-of-month month day-of-week), or 6 "
     "with seconds first, found more than 6",
     NULL},
    {"",
     "expected 5 fields (minute hour day-of-month month day-of-week), or 6 with seconds "
     "first, found 0",
     NULL},
    {"*/0 * * * *", "minute: step must be a number from 1 to 60", NULL},
    {"0 3 * * fri-mon", "day of week: range 5-1 is backwards", NULL},
    {"0 3 * foo *",
     "month: unknown name \"foo\" (expected jan feb mar apr may jun jul aug sep oct nov dec, or "
     "1-12)",
     NULL},
    {"0 3 * * monday",
     "day of week: unknown name \"monday\" (expected sun mon tue wed thu fri sat, or 0-7)", NULL},
    {"0 3 * * *,", "day of week: empty list item", NULL},
    {"0 3x * * *", "hour: unexpected \"x\"", NULL},
    {"0 99999999999 * * *", "hour: number too large", NULL},
    {"? * * * *", "minute: expected a number", NULL},
    {"0 0 30 2 *", "day of month and month never meet: the schedule never fires", NULL},
    {"0 0 31 4,6,9,11 *", "day of month and month never meet: the schedule never fires", NULL},
    {"@reboot",
     "unknown macro (expected @yearly, @annually, @monthly, @weekly, @daily, "
     "@midnight, @hourly or @every DURATION)",
     NULL},
    {"@daily 3",
     "unknown macro (expected @yearly, @annually, @monthly, @weekly, @daily, "
     "@midnight, @hourly or @every DURATION)",
     NULL},
    {"@every", "@every needs one duration (e.g. @every 90s, @every 1h30m)", NULL},
    {"@every 5m 3", "@every needs one duration (e.g. @every 90s, @every 1h30m)", NULL},
    {"@every 5x", "@every: invalid duration \"5x\" (e.g. 90s, 5m, 1h30m)", NULL},
    {"@every 500ms", "@every: the interval must be at least 1s, found 500ms", NULL},
};

static void test_parse_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(parse_rows) / sizeof(parse_rows[0]); i++) {
		const struct parse_row *r = &parse_rows[i];
		struct cron_sched s;
		struct err err = {0};
		int rc = cron_parse(r->expr, &s, &err);

		print_message("row %zu: \"%s\" -> %d %s\n", i, r->expr, rc, err.msg);
		if (r->err == NULL) {
			assert_int_equal(rc, 0);
			if (r->extension == NULL)
				assert_null(cron_extension(&s));
			else
				assert_string_equal(cron_extension(&s), r->extension);
		} else {
			assert_int_equal(rc, -EINVAL);
			assert_string_equal(err.msg, r->err);
		}
	}
}

static void test_fields_bits(void **state)
{
	struct cron_sched s;
	struct err err = {0};

	(void)state;
	assert_int_equal(cron_parse("1,2 3-5 */10 jan,DEC sat,7", &s, &err), 0);
	assert_int_equal(s.sec, 1);
	assert_int_equal(s.min, 0x6);
	assert_int_equal(s.hour, 0x38);
	assert_int_equal(s.dom, (1u << 1) | (1u << 11) | (1u << 21) | (1u << 31));
	assert_int_equal(s.mon, (1u << 1) | (1u << 12));
	assert_int_equal(s.dow, (1u << 6) | 1u);
	assert_true(s.dom_star); /* its field starts with a star */
	assert_false(s.dow_star);
	assert_false(s.seconds);
}

struct zone_row {
	const char *tz;
	int rc;
	const char *err_has;
};

static const struct zone_row zone_rows[] = {
    {NULL, 0, NULL},
    {"", 0, NULL},
    {"Europe/Zurich", 0, NULL},
    {":America/New_York", 0, NULL},
    {"UTC", 0, NULL},
    {"CET-1CEST,M3.5.0,M10.5.0/3", 0, NULL},
    {"<+03>-3", 0, NULL},
    {"/usr/share/zoneinfo/Asia/Tokyo", 0, NULL},
    {"Mars/Base", -ENOENT, "looked for the zone file /usr/share/zoneinfo/Mars/Base"},
    {"europe/zurich", -ENOENT, "/usr/share/zoneinfo/europe/zurich"},
    {"/etc/hostname", -ENOENT, "is not a zone file (looked for /etc/hostname)"},
    {"../../etc/passwd", -EINVAL, "is not a time zone name"},
};

static void test_zone_check(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(zone_rows) / sizeof(zone_rows[0]); i++) {
		struct err err = {0};
		int rc = cron_zone_check(zone_rows[i].tz, &err);

		print_message("zone row %zu: %s -> %d %s\n", i,
			      zone_rows[i].tz ? zone_rows[i].tz : "(null)", rc, err.msg);
		assert_int_equal(rc, zone_rows[i].rc);
		if (zone_rows[i].err_has != NULL)
			assert_non_null(strstr(err.msg, zone_rows[i].err_has));
	}
}

static void test_format_local(void **state)
{
	char buf[64];

	(void)state;
	use_zone("Europe/Zurich");
	cron_format_local(utc("2026-03-29 01:00:00"), false, buf, sizeof(buf));
	assert_string_equal(buf, "2026-03-29 03:00 CEST");
	cron_format_local(utc("2026-01-01 02:00:05"), true, buf, sizeof(buf));
	assert_string_equal(buf, "2026-01-01 03:00:05 CET");
	cron_format_clock(utc("2026-01-01 02:05:00"), false, buf, sizeof(buf));
	assert_string_equal(buf, "03:05");
	cron_format_clock(utc("2026-01-01 02:05:07"), true, buf, sizeof(buf));
	assert_string_equal(buf, "03:05:07");
	cron_zone_describe("Europe/Zurich", buf, sizeof(buf));
	assert_string_equal(buf, "Europe/Zurich");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_table),	 cmocka_unit_test(test_fields_bits),
	    cmocka_unit_test(test_next_table),	 cmocka_unit_test(test_next_walk),
	    cmocka_unit_test(test_every),	 cmocka_unit_test(test_zone_check),
	    cmocka_unit_test(test_format_local),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

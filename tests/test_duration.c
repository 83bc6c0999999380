/* Go-style duration parsing (SPEC §1): one row per accepted or refused form;
 * the formatter's styles. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "duration.h"

struct row {
	const char *in;
	int rc;
	uint64_t ms;
};

static const struct row rows[] = {
    {"0", 0, 0},
    {"500ms", 0, 500},
    {"8s", 0, 8000},
    {"5m", 0, 300000},
    {"1h30m", 0, 5400000},
    {"5m0s", 0, 300000},
    {"1.5s", 0, 1500},
    {".5s", 0, 500},
    {"1.s", 0, 1000},
    {"0s", 0, 0},
    {"0.001s", 0, 1},
    {"1h1m1s1ms", 0, 3661001},
    {"2000us", 0, 2},
    {"2000\xc2\xb5s", 0, 2},
    {"2000\xce\xbcs", 0, 2},
    {"1500000ns", 0, 1},
    {"999us", 0, 0}, /* truncated like Go's Milliseconds() */
    {"30m", 0, 1800000},
    {"2562047h", 0, 2562047ULL * 3600000ULL},
    {"1.000000000000000000001s", 0, 1000},
    {"", -EINVAL, 0},
    {"5", -EINVAL, 0},
    {"00", -EINVAL, 0},
    {"-5s", -EINVAL, 0},
    {"+5s", -EINVAL, 0},
    {"5 s", -EINVAL, 0},
    {" 5s", -EINVAL, 0},
    {"5s ", -EINVAL, 0},
    {"5x", -EINVAL, 0},
    {"5mins", -EINVAL, 0},
    {"5sec", -EINVAL, 0},
    {"s", -EINVAL, 0},
    {".s", -EINVAL, 0},
    {"1h30", -EINVAL, 0},
    {"1..5s", -EINVAL, 0},
    {"5S", -EINVAL, 0},
    {"abc", -EINVAL, 0},
    {"2562048h", -ERANGE, 0},
    {"9223372036854775808ns", -ERANGE, 0},
    {"99999999999999999999999h", -ERANGE, 0},
    {"2562047h2562047h", -ERANGE, 0},
};

static void test_duration_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint64_t ms = 12345;
		int rc = duration_parse(rows[i].in, &ms);

		print_message("row %zu: \"%s\"\n", i, rows[i].in);
		assert_int_equal(rc, rows[i].rc);
		if (rc == 0)
			assert_int_equal(ms, rows[i].ms);
		else
			assert_int_equal(ms, 12345); /* untouched on error */
	}
}

static void test_duration_null(void **state)
{
	uint64_t ms = 7;

	(void)state;
	assert_int_equal(duration_parse(NULL, &ms), -EINVAL);
	assert_int_equal(ms, 7);
}

struct fmt_row {
	uint64_t ms;
	const char *want;
};

static const struct fmt_row fmt_rows[] = {
    {0, "0ms"},
    {1, "1ms"},
    {50, "50ms"},
    {99, "99ms"},
    {100, "0.1s"},
    {400, "0.4s"},
    {450, "0.4s"}, /* truncated, never rounded up to a longer time */
    {999, "0.9s"},
    {1000, "1s"},
    {1001, "1.0s"},
    {1500, "1.5s"},
    {4000, "4s"},
    {9999, "9.9s"},
    {10000, "10s"},
    {10500, "10s"},
    {59000, "59s"},
    {59999, "59s"},
    {60000, "1m0s"}, /* like Go's time.Duration */
    {61000, "1m1s"},
    {130000, "2m10s"},
    {3599999, "59m59s"},
    {3600000, "1h0m0s"},
    {5400000, "1h30m0s"},
    {90061000, "25h1m1s"},
    {UINT64_MAX, "5124095576030h25m51s"},
};

static void test_format_terse_table(void **state)
{
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(fmt_rows) / sizeof(fmt_rows[0]); i++) {
		char buf[64];

		memset(buf, 'x', sizeof(buf));
		duration_format(buf, sizeof(buf), fmt_rows[i].ms, DURATION_TERSE);
		if (strcmp(buf, fmt_rows[i].want) != 0) {
			print_error("terse(%llu) = \"%s\", expected \"%s\"\n",
				    (unsigned long long)fmt_rows[i].ms, buf, fmt_rows[i].want);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/* A small buffer gets a terminated prefix and nothing past its end. */
static void test_format_terse_truncates(void **state)
{
	char buf[8];

	(void)state;
	memset(buf, 'x', sizeof(buf));
	duration_format(buf, 4, 5400000, DURATION_TERSE);
	assert_string_equal(buf, "1h3");
	assert_int_equal(buf[4], 'x');
	duration_format(buf, 1, 5400000, DURATION_TERSE);
	assert_string_equal(buf, "");
	assert_int_equal(buf[1], 'h'); /* untouched past cap */
}

/* A timeout as it was written: whole minutes and hours as such, the rest
 * as in messages. */
static void test_format_written(void **state)
{
	static const struct fmt_row written[] = {
	    {0, "0ms"},	     {2500, "2.5s"},	 {90000, "1m30s"},	{600000, "10m"},
	    {3600000, "1h"}, {5400000, "1h30m"}, {5430000, "1h30m30s"},
	};
	char buf[64];

	(void)state;
	for (size_t i = 0; i < sizeof(written) / sizeof(written[0]); i++) {
		int n = duration_format(buf, sizeof(buf), written[i].ms, DURATION_WRITTEN);
		if (strcmp(buf, written[i].want) != 0)
			fail_msg("written(%llu) = \"%s\", expected \"%s\"",
				 (unsigned long long)written[i].ms, buf, written[i].want);
		assert_int_equal(n, (int)strlen(written[i].want));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_duration_table),
	    cmocka_unit_test(test_duration_null),
	    cmocka_unit_test(test_format_terse_table),
	    cmocka_unit_test(test_format_terse_truncates),
	    cmocka_unit_test(test_format_written),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

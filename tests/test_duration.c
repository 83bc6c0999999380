/* Go-style duration parsing (SPEC §1): one row per accepted or refused form. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_duration_table),
	    cmocka_unit_test(test_duration_null),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

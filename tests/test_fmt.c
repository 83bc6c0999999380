/* shim/fmt: the one bytes formatter and the one duration formatter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fmt.h"

struct bytes_row {
	int64_t b;
	const char *want;
};

static void test_fmt_bytes(void **state)
{
	static const struct bytes_row rows[] = {
	    {-1, "-"},
	    {0, "0"},
	    {1023, "1023"},
	    {1024, "1Ki"},
	    {1025, "1Ki"},
	    {5000, "4Ki"},
	    {10240, "10Ki"},
	    {1048576, "1Mi"},
	    {1992294, "1945Ki"}, /* 1.9Mi */
	    {10485759, "10239Ki"},
	    {10485760, "10Mi"},
	    {91226112, "87Mi"},
	    {268435456, "256Mi"},
	    {536870912, "512Mi"},
	    {1073741824, "1Gi"},
	    {1610612736, "1536Mi"}, /* 1.5Gi */
	    {2147483648LL, "2Gi"},
	    {4294967296LL, "4Gi"},
	    {13207024435LL, "12Gi"},
	    {1099511627776LL, "1Ti"},
	    {3298534883329LL, "3072Gi"},
	    {INT64_MAX, "8388607Ti"},
	};
	char buf[32];

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int n = fmt_bytes(buf, sizeof(buf), rows[i].b);
		if (strcmp(buf, rows[i].want) != 0)
			fail_msg("%lld: %s, want %s", (long long)rows[i].b, buf, rows[i].want);
		assert_int_equal(n, (int)strlen(rows[i].want));
	}
}

struct dur_row {
	int64_t ms;
	enum duration_style style;
	const char *want;
};

static void test_fmt_duration(void **state)
{
	static const struct dur_row rows[] = {
	    /* tables (stats' UPTIME): two units, whole seconds */
	    {-1, DURATION_UPTIME, "-"},
	    {0, DURATION_UPTIME, "0s"},
	    {999, DURATION_UPTIME, "0s"},
	    {1000, DURATION_UPTIME, "1s"},
	    {45000, DURATION_UPTIME, "45s"},
	    {59000, DURATION_UPTIME, "59s"},
	    {60000, DURATION_UPTIME, "1m0s"},
	    {130000, DURATION_UPTIME, "2m10s"},
	    {3599000, DURATION_UPTIME, "59m59s"},
	    {3600000, DURATION_UPTIME, "1h0m"},
	    {11040000, DURATION_UPTIME, "3h4m"},
	    {11099000, DURATION_UPTIME, "3h4m"},
	    {86399000, DURATION_UPTIME, "23h59m"},
	    {86400000, DURATION_UPTIME, "1d0h"},
	    {183600000, DURATION_UPTIME, "2d3h"},
	    {8640000000LL, DURATION_UPTIME, "100d0h"},
	    {INT64_MAX, DURATION_UPTIME, "106751991167d7h"},
	    /* check's timeouts: every non-zero unit, as a file writes them */
	    {-5, DURATION_EXACT, "-"},
	    {0, DURATION_EXACT, "0s"},
	    {1, DURATION_EXACT, "0.001s"},
	    {500, DURATION_EXACT, "0.500s"},
	    {2500, DURATION_EXACT, "2.500s"},
	    {90000, DURATION_EXACT, "1m30s"},
	    {300000, DURATION_EXACT, "5m"},
	    {1800000, DURATION_EXACT, "30m"},
	    {3600000, DURATION_EXACT, "1h"},
	    {5400000, DURATION_EXACT, "1h30m"},
	    {3601000, DURATION_EXACT, "1h1s"},
	    {90061001, DURATION_EXACT, "25h1m1.001s"},
	};
	char buf[40];

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int n = fmt_duration(buf, sizeof(buf), rows[i].ms, rows[i].style);
		if (strcmp(buf, rows[i].want) != 0)
			fail_msg("%lld (style %d): %s, want %s", (long long)rows[i].ms,
				 (int)rows[i].style, buf, rows[i].want);
		assert_int_equal(n, (int)strlen(rows[i].want));
	}
}

/* A short buffer holds a terminated prefix; the length is the full one. */
static void test_fmt_truncation(void **state)
{
	char buf[4];

	(void)state;
	assert_int_equal(fmt_bytes(buf, sizeof(buf), 1610612736), 6);
	assert_string_equal(buf, "153");
	assert_int_equal(fmt_duration(buf, sizeof(buf), 5400000, DURATION_EXACT), 5);
	assert_string_equal(buf, "1h3");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fmt_bytes),
	    cmocka_unit_test(test_fmt_duration),
	    cmocka_unit_test(test_fmt_truncation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* A minimal stand-in for cmocka (which Debian builds only for glibc), so that
 * the table tests of the zone-dependent code also run against musl, the
 * release binary's libc: `make unit-musl`. Only what those tests use. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define print_message(...) ((void)0)
static int fails;
#define FAILX(...)                                                                                 \
	do {                                                                                       \
		printf("FAIL %s:%d: ", __FILE__, __LINE__);                                        \
		printf(__VA_ARGS__);                                                               \
		printf("\n");                                                                      \
		fails++;                                                                           \
	} while (0)
#define assert_int_equal(a, b)                                                                     \
	do {                                                                                       \
		long long _a = (long long)(a), _b = (long long)(b);                                \
		if (_a != _b)                                                                      \
			FAILX("%lld != %lld", _a, _b);                                             \
	} while (0)
#define assert_string_equal(a, b)                                                                  \
	do {                                                                                       \
		if (strcmp((a), (b)) != 0)                                                         \
			FAILX("\"%s\" != \"%s\"", (a), (b));                                       \
	} while (0)
#define assert_true(a)                                                                             \
	do {                                                                                       \
		if (!(a))                                                                          \
			FAILX("false: %s", #a);                                                    \
	} while (0)
#define assert_false(a)	   assert_true(!(a))
#define assert_null(a)	   assert_true((a) == NULL)
#define assert_non_null(a) assert_true((a) != NULL)
struct CMUnitTest {
	const char *name;
	void (*fn)(void **);
};
#define cmocka_unit_test(f)                                                                        \
	{                                                                                          \
#f, f                                                                              \
	}
static int cmocka_run_group_tests_(const struct CMUnitTest *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int before = fails;
		t[i].fn(NULL);
		printf("%s %s\n", fails == before ? "ok" : "FAILED", t[i].name);
	}
	return fails != 0;
}
#define cmocka_run_group_tests(t, a, b) cmocka_run_group_tests_(t, sizeof(t) / sizeof(t[0]))

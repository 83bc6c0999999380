/* Tests of runtime/err.h: one error (a -errno and its message) and the
 * bounded list that validation fills. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* err_set returns the code it was given, so `return err_set(...)` keeps
 * the function's return and its message in one statement. */
static void set_returns_code(void **state)
{
	static const int codes[] = {-EINVAL, -ENOENT, -EACCES, -ENOMEM, -E2BIG};
	struct err e;

	(void)state;
	for (size_t i = 0; i < N(codes); i++) {
		assert_int_equal(
		    err_set(&e, codes[i], "unable to open %s: %s", "/x", strerror(-codes[i])),
		    codes[i]);
		assert_int_equal(e.code, codes[i]);
		char want[128];
		snprintf(want, sizeof(want), "unable to open /x: %s", strerror(-codes[i]));
		assert_string_equal(e.msg, want);
	}
	/* NULL: the caller wants only the code */
	assert_int_equal(err_set(NULL, -EPERM, "ignored %d", 1), -EPERM);
}

/* A message longer than the buffer is cut, still terminated. */
static void set_cuts_long_messages(void **state)
{
	static char long_arg[3 * ERR_MSG_MAX];
	struct err e;

	(void)state;
	memset(long_arg, 'a', sizeof(long_arg) - 1);
	assert_int_equal(err_set(&e, -EINVAL, "x: %s", long_arg), -EINVAL);
	assert_int_equal(strlen(e.msg), ERR_MSG_MAX - 1);
	assert_memory_equal(e.msg, "x: aaa", 6);
}

struct prefix_row {
	const char *msg, *prefix, *want;
};

static const struct prefix_row prefix_rows[] = {
    {"unknown capability \"BOGUS\"", "caps", "caps: unknown capability \"BOGUS\""},
    {"no user \"bob\" in /etc/passwd", "resolve user",
     "resolve user: no user \"bob\" in /etc/passwd"},
    {"", "rlimits", "rlimits: "},
};

/* err_prefix puts the caller's context in front and keeps the code. */
static void prefix_keeps_code(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(prefix_rows); i++) {
		struct err e;

		err_set(&e, -ENOENT, "%s", prefix_rows[i].msg);
		assert_int_equal(err_prefix(&e, "%s", prefix_rows[i].prefix), -ENOENT);
		assert_int_equal(e.code, -ENOENT);
		assert_string_equal(e.msg, prefix_rows[i].want);
	}
}

static void clear(void **state)
{
	struct err e;

	(void)state;
	err_set(&e, -EIO, "broken");
	err_clear(&e);
	assert_int_equal(e.code, 0);
	assert_string_equal(e.msg, "");
	err_clear(NULL); /* allowed */
}

/* The list keeps ERRLIST_MAX errors in order and counts the rest. */
static void list_bounded(void **state)
{
	static struct errlist l, all;
	struct err e;

	(void)state;
	for (int i = 0; i < ERRLIST_MAX + 5; i++)
		errlist_add(&l, "error %d", i);
	assert_int_equal(l.n, ERRLIST_MAX);
	assert_int_equal(l.dropped, 5);
	assert_string_equal(l.item[0].msg, "error 0");
	assert_int_equal(l.item[0].code, -EINVAL);
	assert_string_equal(l.item[ERRLIST_MAX - 1].msg, "error 63");

	/* push copies a struct err, code included */
	errlist_clear(&all);
	err_set(&e, -ENOENT, "TZ: unknown time zone");
	errlist_push(&all, &e);
	assert_int_equal(all.n, 1);
	assert_int_equal(all.item[0].code, -ENOENT);
	assert_string_equal(all.item[0].msg, "TZ: unknown time zone");

	/* a full list counts what it cannot keep */
	for (int i = 0; i < ERRLIST_MAX; i++)
		errlist_push(&all, &l.item[i]);
	assert_int_equal(all.n, ERRLIST_MAX);
	assert_int_equal(all.dropped, 1);
	assert_string_equal(all.item[1].msg, "error 0");
	assert_int_equal(all.item[1].code, -EINVAL);

	errlist_clear(&all);
	assert_int_equal(all.n, 0);
	assert_int_equal(all.dropped, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(set_returns_code),	 cmocka_unit_test(set_cuts_long_messages),
	    cmocka_unit_test(prefix_keeps_code), cmocka_unit_test(clear),
	    cmocka_unit_test(list_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

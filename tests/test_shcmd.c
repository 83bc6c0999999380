/* Which worker commands the shell can exec (SPEC §5): a table of command
 * strings and the expected answer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "shcmd.h"

struct row {
	const char *cmd;
	bool simple;
};

static const struct row rows[] = {
    /* simple: the app becomes the main process */
    {"bundle exec sidekiq", true},
    {"celery -A proj worker --loglevel=INFO", true},
    {"  nginx -g 'daemon off;'", true},
    {"python3 -c \"print('a; b | c')\"", true},
    {"bin/worker --queue=\"a b\" x\\;y", true},
    {"$HOME/bin/app --port $PORT", true},
    {"sleep 100", true},
    {"/usr/bin/env FOO=1 app", true},
    {"app arg#notacomment", true},
    {"app \"${X:-default}\"", true},
    /* compound, or not a program: the shell stays */
    {"", false},
    {"   ", false},
    {"exec sidekiq", false},
    {"echo hi; exec sleep 100", false},
    {"a && b", false},
    {"a || b", false},
    {"a | b", false},
    {"app &", false},
    {"app > /tmp/log", false},
    {"app < in", false},
    {"app 2>&1", false},
    {"(app)", false},
    {"{ app; }", false},
    {"app\nother", false},
    {"app $(date)", false},
    {"app `date`", false},
    {"app \"$(date)\"", false},
    {"FOO=1 app", false},
    {"_X=y app", false},
    {"if true; then app; fi", false},
    {"while app", false},
    {"! app", false},
    {"exit 1", false},
    {"kill -9 $$", false},
    {"cd /app", false},
    {"export A=1", false},
    {"ulimit -n 10", false},
    {"echo hello", false},
    {"true", false},
    {". ./env", false},
    {"# comment", false},
    {"app # comment", false},
    {"app 'unterminated", false},
    {"app \"unterminated", false},
    {"app \\", false},
    {"ex'it' 1", false},
    {"'app' x", false},
    {"\\exit 1", false},
};

static void test_shcmd_table(void **state)
{
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		bool got = shcmd_is_simple(rows[i].cmd);
		if (got != rows[i].simple) {
			print_error("shcmd_is_simple(\"%s\") = %d, expected %d\n", rows[i].cmd, got,
				    rows[i].simple);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

static void test_shcmd_null(void **state)
{
	(void)state;
	assert_false(shcmd_is_simple(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_shcmd_table),
	    cmocka_unit_test(test_shcmd_null),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

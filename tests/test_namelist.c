/* runtime/namelist: whole names, the rest counted, always terminated. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "namelist.h"

struct row {
	const char *name;
	size_t cap;
	const char *names[6]; /* NULL-terminated */
	const char *want;
};

static const struct row rows[] = {
    {"none", 64, {NULL}, ""},
    {"one", 64, {"web", NULL}, "web"},
    {"three", 64, {"web", "sidekiq", "mailer", NULL}, "web, sidekiq, mailer"},
    /* 44 bytes: "web, sidekiq" (12) and room for ", and 18446744073709551615
     * more" (32 with its NUL); ", mailer" would leave too little */
    {"cut before a name", 44, {"web", "sidekiq", "mailer", "x", NULL}, "web, sidekiq, and 2 more"},
    {"order kept: a later short name is counted too",
     48, /* ", x" would fit */
     {"web", "sidekiq", "a-much-longer-name", "x", NULL},
     "web, sidekiq, and 2 more"},
    {"no name fits", 20, {"web", NULL}, "1 more"},
    {"a tiny buffer stays terminated", 4, {"web", "sidekiq", NULL}, "2 m"},
};

static void test_namelist_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		char buf[128];
		struct namelist l;

		memset(buf, 'z', sizeof(buf));
		namelist_init(&l, buf, r->cap);
		for (size_t k = 0; r->names[k] != NULL; k++)
			namelist_add(&l, r->names[k]);
		if (strcmp(namelist_end(&l), r->want) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", r->name, buf, r->want);
		assert_true(strlen(buf) < r->cap);
		assert_int_equal(buf[r->cap], 'z'); /* nothing written past cap */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_namelist_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

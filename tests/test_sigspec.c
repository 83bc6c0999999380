/* Signal names, rewrite lists and exit-code lists (SPEC §1, issue 17): one
 * row per accepted or refused form. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sigspec.h"

struct sig_row {
	const char *in;
	bool allow_zero;
	int rc, sig;
};

static const struct sig_row sig_rows[] = {
    {"TERM", false, 0, SIGTERM},
    {"SIGTERM", false, 0, SIGTERM},
    {"term", false, 0, SIGTERM},
    {"SigUsr1", false, 0, SIGUSR1},
    {"15", false, 0, 15},
    {"1", false, 0, 1},
    {"64", false, 0, 64},
    {"KILL", false, 0, SIGKILL},
    {"0", true, 0, 0},
    {"0", false, -EINVAL, 0},
    {"65", false, -EINVAL, 0},
    {"1000", false, -EINVAL, 0},
    {"-1", false, -EINVAL, 0},
    {"", false, -EINVAL, 0},
    {"SIG", false, -EINVAL, 0},
    {"NOPE", false, -EINVAL, 0},
    {"TERM ", false, -EINVAL, 0},
    {"15x", false, -EINVAL, 0},
    {"SIGSIGTERM", false, -EINVAL, 0},
    {"AVERYLONGSIGNALNAMETHATOVERFLOWS", false, -EINVAL, 0},
};

static void test_sig_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(sig_rows) / sizeof(sig_rows[0]); i++) {
		const struct sig_row *r = &sig_rows[i];
		int sig = -7, rc = sig_parse(r->in, r->allow_zero, &sig);

		if (rc != r->rc || (rc == 0 && sig != r->sig))
			fail_msg("\"%s\": rc %d sig %d, expected rc %d sig %d", r->in, rc, sig,
				 r->rc, r->sig);
	}
}

struct rw_row {
	const char *in;
	int rc;
	const char *want; /* "FROM>TO,..." after parsing into an empty map; or bad item */
};

static const struct rw_row rw_rows[] = {
    {"TERM:INT", 0, "15>2"},
    {"TERM:INT,USR1:0", 0, "10>0,15>2"},
    {"SIGTERM:SIGQUIT", 0, "15>3"},
    {"1:31,31:1", 0, "1>31,31>1"},
    {"TERM:INT,TERM:QUIT", 0, "15>3"}, /* the later pair wins */
    {"TERM:TERM", 0, "15>15"},
    {"HUP:0", 0, "1>0"},
    {"", -EINVAL, ""},
    {"TERM", -EINVAL, "TERM"},
    {"TERM:", -EINVAL, "TERM:"},
    {":INT", -EINVAL, ":INT"},
    {"0:TERM", -EINVAL, "0:TERM"},
    {"TERM:INT,", -EINVAL, ""},
    {"TERM:INT,,HUP:0", -EINVAL, ""},
    {"TERM:INT:QUIT", -EINVAL, "TERM:INT:QUIT"},
    {"TERM:INT,BOGUS:1", -EINVAL, "BOGUS:1"},
    {"65:1", -EINVAL, "65:1"},
};

static void render_rw(const struct sig_rewrite *rw, char *buf, size_t cap)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int s = 1; s <= SIGSPEC_MAX && len < cap; s++)
		if (rw->to[s] >= 0)
			len += (size_t)snprintf(buf + len, cap - len, "%s%d>%d", len ? "," : "", s,
						rw->to[s]);
}

/* The item an error message quotes: `invalid rewrite "ITEM" (...)`. */
static void offending_item(const struct err *e, char *buf, size_t cap)
{
	const char *q = strchr(e->msg, '"'), *end = q != NULL ? strchr(q + 1, '"') : NULL;

	buf[0] = '\0';
	if (end != NULL)
		snprintf(buf, cap, "%.*s", (int)(end - q - 1), q + 1);
}

static void test_rewrite_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rw_rows) / sizeof(rw_rows[0]); i++) {
		const struct rw_row *r = &rw_rows[i];
		struct sig_rewrite rw;
		char got[256], bad[80] = "";
		struct err err = {0};
		int rc;

		sig_rewrite_init(&rw);
		rc = sig_rewrite_parse(r->in, &rw, &err);
		offending_item(&err, bad, sizeof(bad));
		if (rc == 0)
			render_rw(&rw, got, sizeof(got));
		if (rc != r->rc || strcmp(rc == 0 ? got : bad, r->want) != 0)
			fail_msg("\"%s\": rc %d \"%s\", expected rc %d \"%s\"", r->in, rc,
				 rc == 0 ? got : bad, r->rc, r->want);
	}
}

static void test_rewrite_apply(void **state)
{
	struct sig_rewrite rw;

	(void)state;
	sig_rewrite_init(&rw);
	assert_int_equal(sig_rewrite_parse("TERM:INT,WINCH:0", &rw, NULL), 0);
	assert_int_equal(sig_rewrite_apply(&rw, SIGTERM), SIGINT);
	assert_int_equal(sig_rewrite_apply(&rw, SIGWINCH), 0);
	assert_int_equal(sig_rewrite_apply(&rw, SIGHUP), SIGHUP);
	assert_int_equal(sig_rewrite_apply(&rw, 0), 0);
	assert_int_equal(sig_rewrite_apply(&rw, 99), 99);
}

struct exit_row {
	const char *in;
	int rc;
	const char *want; /* the codes in the set, or the bad item */
};

static const struct exit_row exit_rows[] = {
    {"143", 0, "143"},
    {"0", 0, "0"},
    {"255", 0, "255"},
    {"143,130,0", 0, "0,130,143"},
    {"128-131", 0, "128,129,130,131"},
    {"1,5-6", 0, "1,5,6"},
    {"7-7", 0, "7"},
    {"", -EINVAL, ""},
    {"256", -EINVAL, "256"},
    {"-1", -EINVAL, "-1"},
    {"1000", -EINVAL, "1000"},
    {"6-5", -EINVAL, "6-5"},
    {"1-", -EINVAL, "1-"},
    {"x", -EINVAL, "x"},
    {"1,,2", -EINVAL, ""},
    {"1 ", -EINVAL, "1 "},
    {"143,abc", -EINVAL, "abc"},
};

static void test_exit_set_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(exit_rows) / sizeof(exit_rows[0]); i++) {
		const struct exit_row *r = &exit_rows[i];
		struct exit_set set;
		char got[1200], bad[80] = "";
		struct err err = {0};
		size_t len = 0;
		int rc;

		memset(&set, 0, sizeof(set));
		rc = exit_set_parse(r->in, &set, &err);
		offending_item(&err, bad, sizeof(bad));
		got[0] = '\0';
		for (int c = 0; c <= 255; c++)
			if (exit_set_has(&set, c))
				len += (size_t)snprintf(got + len, sizeof(got) - len, "%s%d",
							len ? "," : "", c);
		if (rc != r->rc || strcmp(rc == 0 ? got : bad, r->want) != 0)
			fail_msg("\"%s\": rc %d \"%s\", expected rc %d \"%s\"", r->in, rc,
				 rc == 0 ? got : bad, r->rc, r->want);
	}
	struct exit_set set = {{0}};
	assert_false(exit_set_has(&set, -1));
	assert_false(exit_set_has(&set, 256));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sig_parse),
	    cmocka_unit_test(test_rewrite_parse),
	    cmocka_unit_test(test_rewrite_apply),
	    cmocka_unit_test(test_exit_set_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

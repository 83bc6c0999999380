/* .deploio.yaml validation (SPEC §3): one row per rule, YAML text → the
 * exact messages with file:line:col; valid files → the expected structs;
 * hostile input (aliases, nesting, size, node count, bad UTF-8) bounded. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "cron.h"

/* The SPEC's numbers, which the rows' inputs (A64, four workers, 45m) are
 * built around; messages name them through bounds.h. */
_Static_assert(JOB_NAME_MAX == 63, "SPEC §3: a job name is a DNS label");
_Static_assert(WORKERS_MAX == 3, "SPEC §3: at most 3 worker jobs");
#define SIZES "(expected micro, mini, standard-1, standard-2, standard-4)"
#define NAME_RULE                                                                                  \
	"is not a valid name (lowercase letters, digits and '-', starting and ending with a "      \
	"letter or digit, at most " BOUND_STR(JOB_NAME_MAX) " characters)"
#define TOP_KEYS                                                                                   \
	"size, env, workerJobs, deployJob, scheduledJobs, port, replicas, enableBasicAuth, "       \
	"healthProbe"
#define A64 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

struct row {
	const char *rule;
	const char *yaml;
	const char *errors[6]; /* exact, in order; NULL-terminated */
};

static const struct row rows[] = {
    /* keys */
    {"unknown top-level key, near a known one",
     "sizee: mini\n",
     {"t.yaml:1:1: sizee: unknown key (did you mean \"size\"?)"}},
    {"unknown top-level key", "foo: 1\n", {"t.yaml:1:1: foo: unknown key (allowed: " TOP_KEYS ")"}},
    {"unknown key in a worker",
     "workerJobs:\n  - name: a\n    command: x\n    sise: mini\n",
     {"t.yaml:4:5: workerJobs[0].sise: unknown key (did you mean \"size\"?)"}},
    {"wrong case of a key",
     "workerjobs: []\n",
     {"t.yaml:1:1: workerjobs: unknown key (did you mean \"workerJobs\"?)"}},
    {"key not allowed for the deploy job",
     "deployJob:\n  name: r\n  command: x\n  schedule: \"* * * * *\"\n",
     {"t.yaml:4:3: deployJob.schedule: unknown key (allowed: name, command, size, retries, "
      "timeout)"}},
    {"duplicate key",
     "size: mini\nsize: micro\n",
     {"t.yaml:2:1: size: duplicate key (first at 1:1)"}},
    {"key that is not a string",
     "? [a]\n: b\n",
     {"t.yaml:1:3: expected a string key, found a list"}},
    /* types */
    {"top level not a mapping",
     "- a\n",
     {"t.yaml:1:1: expected a mapping at the top level (keys size, env, workerJobs, ...), "
      "found a list"}},
    {"workerJobs not a list",
     "workerJobs: sidekiq\n",
     {"t.yaml:1:13: workerJobs: expected a list, found a scalar"}},
    {"worker not a mapping",
     "workerJobs:\n  - sidekiq\n",
     {"t.yaml:2:5: workerJobs[0]: expected a mapping, found a scalar"}},
    {"command not a string",
     "workerJobs:\n  - name: a\n    command: [a, b]\n",
     {"t.yaml:3:14: workerJobs[0].command: expected a string, found a list"}},
    {"size not a string",
     "size: {a: 1}\n",
     {"t.yaml:1:7: size: expected a string, found a mapping"}},
    {"deployJob not a mapping",
     "deployJob:\n  - name: a\n",
     {"t.yaml:2:3: deployJob: expected a mapping, found a list"}},
    {"env not a list", "env: {A: b}\n", {"t.yaml:1:6: env: expected a list, found a mapping"}},
    {"scheduledJobs not a list",
     "scheduledJobs: {}\n",
     {"t.yaml:1:16: scheduledJobs: expected a list, found a mapping"}},
    {"string with a NUL",
     "size: \"mi\\0ni\"\n",
     {"t.yaml:1:7: size: must not contain a NUL character"}},
    /* names and commands */
    {"missing name", "workerJobs:\n  - command: x\n", {"t.yaml:2:5: workerJobs[0].name: required"}},
    {"empty name",
     "workerJobs:\n  - name: \"\"\n    command: x\n",
     {"t.yaml:2:11: workerJobs[0].name: must not be empty"}},
    {"null name",
     "workerJobs:\n  - name:\n    command: x\n",
     {"t.yaml:2:10: workerJobs[0].name: must not be empty"}},
    {"missing command",
     "workerJobs:\n  - name: a\n",
     {"t.yaml:2:5: workerJobs[0].command: required"}},
    {"blank command",
     "workerJobs:\n  - name: a\n    command: \"  \"\n",
     {"t.yaml:3:14: workerJobs[0].command: must not be empty"}},
    {"name with capitals",
     "workerJobs:\n  - name: Sidekiq\n    command: x\n",
     {"t.yaml:2:11: workerJobs[0].name: \"Sidekiq\" " NAME_RULE}},
    {"name ending in a dash",
     "workerJobs:\n  - name: a-\n    command: x\n",
     {"t.yaml:2:11: workerJobs[0].name: \"a-\" " NAME_RULE}},
    {"name with an underscore",
     "deployJob:\n  name: db_migrate\n  command: x\n",
     {"t.yaml:2:9: deployJob.name: \"db_migrate\" " NAME_RULE}},
    {"name longer than 63",
     "workerJobs:\n  - name: " A64 "\n    command: x\n",
     {"t.yaml:2:11: workerJobs[0].name: \"" A64 "\" " NAME_RULE}},
    {"duplicate worker names",
     "workerJobs:\n  - name: a\n    command: x\n  - name: a\n    command: y\n",
     {"t.yaml:4:11: workerJobs[1].name: duplicate job name \"a\" (also at 2:11)"}},
    {"duplicate name across job kinds",
     "workerJobs:\n  - name: a\n    command: x\ndeployJob:\n  name: a\n  command: y\n",
     {"t.yaml:5:9: deployJob.name: duplicate job name \"a\" (also at 2:11)"}},
    {"worker named web",
     "workerJobs:\n  - name: web\n    command: x\n",
     {"t.yaml:2:11: workerJobs[0].name: duplicate job name \"web\" (the main app is called "
      "web)"}},
    {"more than 3 workers",
     "workerJobs:\n  - {name: a, command: x}\n  - {name: b, command: x}\n"
     "  - {name: c, command: x}\n  - {name: d, command: x}\n",
     {"t.yaml:5:5: workerJobs: at most " BOUND_STR(
	 WORKERS_MAX) " worker jobs are allowed, found 4"}},
    /* sizes */
    {"unknown size (SPEC §1's example)",
     "size: mini\nworkerJobs:\n  - name: a\n    command: x\n  - name: b\n    command: y\n"
     "    size: huge\n",
     {"t.yaml:7:11: workerJobs[1].size: unknown size \"huge\" " SIZES}},
    {"unknown main app size", "size: Micro\n", {"t.yaml:1:7: size: unknown size \"Micro\" " SIZES}},
    {"empty size", "size: \"\"\n", {"t.yaml:1:7: size: unknown size \"\" " SIZES}},
    /* env */
    {"env name starting with a digit",
     "env:\n  - name: 1BAD\n    value: x\n",
     {"t.yaml:2:11: env[0].name: \"1BAD\" is not a valid environment variable name "
      "([A-Za-z_][A-Za-z0-9_]*)"}},
    {"env name with a dash",
     "env:\n  - name: MY-VAR\n",
     {"t.yaml:2:11: env[0].name: \"MY-VAR\" is not a valid environment variable name "
      "([A-Za-z_][A-Za-z0-9_]*)"}},
    {"env name with '=' and a control character shown escaped",
     "env:\n  - name: \"A=\\x1b\"\n",
     {"t.yaml:2:11: env[0].name: \"A=\\x1b\" is not a valid environment variable name "
      "([A-Za-z_][A-Za-z0-9_]*)"}},
    {"env without name", "env:\n  - value: x\n", {"t.yaml:2:5: env[0].name: required"}},
    {"env sensitive not a boolean",
     "env:\n  - name: A\n    sensitive: yes\n",
     {"t.yaml:3:16: env[0].sensitive: expected a boolean (true or false)"}},
    {"env unknown key",
     "env:\n  - name: A\n    val: x\n",
     {"t.yaml:3:5: env[0].val: unknown key (did you mean \"value\"?)"}},
    {"duplicate env name",
     "env:\n  - name: A\n  - name: A\n",
     {"t.yaml:3:11: env[1].name: duplicate environment variable \"A\""}},
    /* scheduled jobs */
    {"cron value out of range",
     "scheduledJobs:\n  - name: n\n    command: c\n    schedule: \"0 25 * * *\"\n",
     {"t.yaml:4:15: scheduledJobs[0].schedule: invalid cron schedule: hour: 25 is out of "
      "range 0-23"}},
    {"cron with 4 fields",
     "scheduledJobs:\n  - name: n\n    command: c\n    schedule: \"0 3 * *\"\n",
     {"t.yaml:4:15: scheduledJobs[0].schedule: invalid cron schedule: expected 5 fields "
      "(minute hour day-of-month month day-of-week), or 6 with seconds first, found 4"}},
    {"cron with an unknown month name",
     "scheduledJobs:\n  - name: n\n    command: c\n    schedule: 0 3 * foo *\n",
     {"t.yaml:4:15: scheduledJobs[0].schedule: invalid cron schedule: month: unknown name "
      "\"foo\" (expected jan feb mar apr may jun jul aug sep oct nov dec, or 1-12)"}},
    {"cron with a long weekday name",
     "scheduledJobs:\n  - name: n\n    command: c\n    schedule: 0 3 * * monday\n",
     {"t.yaml:4:15: scheduledJobs[0].schedule: invalid cron schedule: day of week: unknown "
      "name \"monday\" (expected sun mon tue wed thu fri sat, or 0-7)"}},
    {"cron with a name where none is allowed",
     "scheduledJobs:\n  - name: n\n    command: c\n    schedule: 0 mon * * *\n",
     {"t.yaml:4:15: scheduledJobs[0].schedule: invalid cron schedule: hour: expected a "
      "number"}},
    {"cron step 0",
     "scheduledJobs:\n  - name: n\n    command: c\n    schedule: \"*/0 * * * *\"\n",
     {"t.yaml:4:15: scheduledJobs[0].schedule: invalid cron schedule: minute: step must be "
      "a number from 1 to 60"}},
    {"cron backwards range",
     "scheduledJobs:\n  - name: n\n    command: c\n    schedule: \"0 3 * * fri-mon\"\n",
     {"t.yaml:4:15: scheduledJobs[0].schedule: invalid cron schedule: day of week: range "
      "5-1 is backwards"}},
    {"cron unknown macro",
     "scheduledJobs:\n  - name: n\n    command: c\n    schedule: \"@reboot\"\n",
     {"t.yaml:4:15: scheduledJobs[0].schedule: invalid cron schedule: unknown macro "
      "(expected @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly or "
      "@every DURATION)"}},
    {"cron that never fires",
     "scheduledJobs:\n  - name: n\n    command: c\n    schedule: \"0 0 30 2 *\"\n",
     {"t.yaml:4:15: scheduledJobs[0].schedule: invalid cron schedule: day of month and "
      "month never meet: the schedule never fires"}},
    {"missing schedule",
     "scheduledJobs:\n  - name: n\n    command: c\n",
     {"t.yaml:2:5: scheduledJobs[0].schedule: required"}},
    /* retries and timeouts */
    {"retries out of range",
     "deployJob:\n  name: r\n  command: x\n  retries: 7\n",
     {"t.yaml:4:12: deployJob.retries: must be between 0 and 5, found 7"}},
    {"negative retries",
     "scheduledJobs:\n  - {name: n, command: c, schedule: '@daily', retries: -1}\n",
     {"t.yaml:2:56: scheduledJobs[0].retries: must be between 0 and 5, found -1"}},
    {"retries not an integer",
     "deployJob:\n  name: r\n  command: x\n  retries: many\n",
     {"t.yaml:4:12: deployJob.retries: expected an integer, found \"many\""}},
    {"quoted retries",
     "deployJob:\n  name: r\n  command: x\n  retries: \"3\"\n",
     {"t.yaml:4:12: deployJob.retries: expected an integer"}},
    {"timeout too long",
     "deployJob:\n  name: r\n  command: x\n  timeout: 45m\n",
     {"t.yaml:4:12: deployJob.timeout: must be between 1m and 30m, found 45m"}},
    {"timeout too short",
     "deployJob:\n  name: r\n  command: x\n  timeout: 30s\n",
     {"t.yaml:4:12: deployJob.timeout: must be between 1m and 30m, found 30s"}},
    {"timeout not a duration",
     "deployJob:\n  name: r\n  command: x\n  timeout: 300\n",
     {"t.yaml:4:12: deployJob.timeout: invalid duration \"300\" (e.g. 90s, 5m, 1h30m)"}},
    /* YAML itself */
    {"YAML syntax error",
     "size: mini\n  env: x\n",
     {"t.yaml:2:6: invalid YAML: mapping values are not allowed in this context"}},
    {"unclosed flow sequence",
     "size: [a\n",
     {"t.yaml:2:1: size[1]: invalid YAML: did not find expected ',' or ']' (while parsing a flow "
      "sequence at 1:7)"}},
    {"tab indentation",
     "env:\n\t- name: A\n",
     {"t.yaml:2:1: env: invalid YAML: a tab: tabs cannot indent YAML; use spaces (found "
      "character that cannot start any token)"}},
    {"non-UTF-8 byte",
     "size: mi\xffni\n",
     {"t.yaml:1:9: the file is not valid UTF-8 (invalid leading UTF-8 octet)"}},
    {"non-UTF-8 after UTF-8 on a later line",
     "port: 1\n# h\xc3\xa9llo\nsize: \xc3\x28\n",
     {"t.yaml:3:7: the file is not valid UTF-8 (invalid trailing UTF-8 octet)"}},
    {"UTF-16 is not guessed from a BOM",
     "\xff\xfes\x00",
     {"t.yaml:1:1: the file is not valid UTF-8 (invalid leading UTF-8 octet)"}},
    {"control character",
     "size: \x01\n",
     {"t.yaml:1:7: invalid YAML: control characters are not allowed (byte 0x01)"}},
    {"alias",
     "workerJobs:\n  - &w {name: a, command: x}\n  - *w\n",
     {"t.yaml:3:5: workerJobs[1]: aliases are not supported (to write a value that starts "
      "with \"*\", quote it)"}},
    {"unquoted schedule starting with *: quote it",
     "scheduledJobs:\n  - name: n\n    command: c\n    schedule: */15 * * * *\n",
     {"t.yaml:4:16: scheduledJobs[0].schedule: invalid YAML: a plain scalar cannot start with "
      "\"*\" (YAML reads an alias): quote the schedule, e.g. \"*/15 * * * *\" (did not find "
      "expected alphabetic or numeric character)"}},
    {"unquoted value starting with *: quote it",
     "workerJobs:\n  - name: n\n    command: * x\n",
     {"t.yaml:3:15: workerJobs[0].command: invalid YAML: a plain scalar cannot start with "
      "\"*\" (YAML reads an alias): quote the value (did not find expected alphabetic or "
      "numeric character)"}},
    {"a tab in column 1",
     "workerJobs:\n\t- name: n\n",
     {"t.yaml:2:1: workerJobs: invalid YAML: a tab: tabs cannot indent YAML; use spaces (found "
      "character that cannot start any token)"}},
    {"a tab in the indentation",
     "workerJobs:\n  - name: n\n    command: c\n\t  size: mini\n",
     {"t.yaml:4:1: workerJobs[0].command: invalid YAML: a tab: tabs cannot indent YAML; use "
      "spaces (found a tab character that violates indentation)"}},
    {"two documents",
     "size: mini\n---\nsize: micro\n",
     {"t.yaml:2:1: more than one YAML document (only one is allowed)"}},
    /* several errors at once, in file order */
    {"every error is reported",
     "size: huge\nenv:\n  - name: 1X\nworkerJobs:\n  - name: A\n    command: \"\"\n"
     "bogus: 1\n",
     {"t.yaml:1:7: size: unknown size \"huge\" " SIZES,
      "t.yaml:3:11: env[0].name: \"1X\" is not a valid environment variable name "
      "([A-Za-z_][A-Za-z0-9_]*)",
      "t.yaml:5:11: workerJobs[0].name: \"A\" " NAME_RULE,
      "t.yaml:6:14: workerJobs[0].command: must not be empty",
      "t.yaml:7:1: bogus: unknown key (allowed: " TOP_KEYS ")"}},
    {"errors in one job do not hide another's",
     "workerJobs:\n  - {name: a, command: x, size: big}\n  - {name: a, command: y}\n"
     "deployJob: {name: d, command: z, retries: 9, timeout: 1m}\n",
     {"t.yaml:2:33: workerJobs[0].size: unknown size \"big\" " SIZES,
      "t.yaml:3:12: workerJobs[1].name: duplicate job name \"a\" (also at 2:12)",
      "t.yaml:4:43: deployJob.retries: must be between 0 and 5, found 9"}},
};

static void test_rules(void **state)
{
	(void)state;
	assert_true(sizeof(rows) / sizeof(rows[0]) >= 25);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct config c;
		struct errlist e = {0};
		size_t want = 0;
		int rc;

		while (want < 6 && r->errors[want] != NULL)
			want++;
		print_message("rule: %s\n", r->rule);
		rc = config_parse(r->yaml, strlen(r->yaml), "t.yaml", &c, &e);
		for (size_t k = 0; k < e.n; k++)
			print_message("  got: %s\n", e.item[k].msg);
		assert_int_equal(rc, -EINVAL);
		assert_int_equal(e.n, want);
		for (size_t k = 0; k < want; k++)
			assert_string_equal(e.item[k].msg, r->errors[k]);
		config_free(&c);
		errlist_clear(&e);
	}
}

/* The example file of SPEC §3, field by field. */
static void test_valid_full(void **state)
{
	static const char yaml[] = "size: mini\n"
				   "env:\n"
				   "  - name: RAILS_ENV\n"
				   "    value: production\n"
				   "  - name: API_KEY\n"
				   "    value: 12345\n"
				   "    sensitive: true\n"
				   "  - name: EMPTY\n"
				   "workerJobs:\n"
				   "  - name: sidekiq\n"
				   "    command: \"bundle exec sidekiq\"\n"
				   "    size: micro\n"
				   "  - name: mailer-2\n"
				   "    command: bin/mailer --queue=x\n"
				   "scheduledJobs:\n"
				   "  - name: nightly\n"
				   "    command: \"bin/cleanup\"\n"
				   "    schedule: \"0 3 * * *\"\n"
				   "    size: standard-1\n"
				   "    retries: 2\n"
				   "    timeout: 5m0s\n"
				   "deployJob:\n"
				   "  name: release\n"
				   "  command: \"bundle exec rake db:migrate\"\n"
				   "  retries: 0\n"
				   "  timeout: 30m\n"
				   "port: 8080\n"
				   "replicas: 2\n"
				   "enableBasicAuth: false\n"
				   "healthProbe:\n"
				   "  path: /healthz\n"
				   "  periodSeconds: 10\n";
	struct config c;
	struct errlist e = {0};

	(void)state;
	assert_int_equal(config_parse(yaml, strlen(yaml), "f.yaml", &c, &e), 0);
	assert_int_equal(e.n, 0);
	assert_string_equal(c.path, "f.yaml");
	assert_ptr_equal(c.size, size_lookup("mini"));
	assert_int_equal(c.size_line, 1);
	assert_int_equal(c.size_col, 7);

	assert_int_equal(c.n_env, 3);
	assert_string_equal(c.env[0].name, "RAILS_ENV");
	assert_string_equal(c.env[0].value, "production");
	assert_false(c.env[0].sensitive);
	assert_string_equal(c.env[1].name, "API_KEY");
	assert_string_equal(c.env[1].value, "12345");
	assert_true(c.env[1].sensitive);
	assert_string_equal(c.env[2].value, "");

	/* workers first, then deploy, then scheduled, whatever the file order */
	assert_int_equal(c.n_jobs, 4);
	assert_int_equal(c.jobs[0].kind, CONFIG_WORKER);
	assert_string_equal(c.jobs[0].name, "sidekiq");
	assert_string_equal(c.jobs[0].command, "bundle exec sidekiq");
	assert_ptr_equal(c.jobs[0].size, size_lookup("micro"));
	assert_int_equal(c.jobs[0].retries, -1);
	assert_int_equal(c.jobs[0].line, 10);
	assert_int_equal(c.jobs[0].col, 5);
	assert_string_equal(c.jobs[1].name, "mailer-2");
	assert_string_equal(c.jobs[1].command, "bin/mailer --queue=x");
	assert_null(c.jobs[1].size);
	assert_int_equal(c.jobs[2].kind, CONFIG_DEPLOY);
	assert_string_equal(c.jobs[2].name, "release");
	assert_int_equal(c.jobs[2].retries, 0);
	assert_int_equal(c.jobs[2].timeout_ms, 30 * 60 * 1000);
	assert_int_equal(c.jobs[3].kind, CONFIG_SCHEDULED);
	assert_string_equal(c.jobs[3].name, "nightly");
	assert_string_equal(c.jobs[3].schedule, "0 3 * * *");
	assert_ptr_equal(c.jobs[3].size, size_lookup("standard-1"));
	assert_int_equal(c.jobs[3].retries, 2);
	assert_int_equal(c.jobs[3].timeout_ms, 5 * 60 * 1000);
	assert_null(c.jobs[0].schedule);
	config_free(&c);
	errlist_clear(&e);
}

/* Files that are valid with nothing (or little) in them. */
static void test_valid_small(void **state)
{
	static const char *const yamls[] = {
	    "",
	    "\n\n",
	    "# only a comment\n",
	    "---\n",
	    "---\n...\n",
	    "~\n",
	    "size:\nenv:\nworkerJobs:\ndeployJob:\nscheduledJobs: []\n",
	    "port: {a: [1, {b: c}]}\nreplicas: [1]\nenableBasicAuth: maybe\nhealthProbe: x\n",
	    "\xef\xbb\xbfsize: micro\n",	      /* UTF-8 BOM */
	    "workerJobs:\n- name: a\n  command: x\n", /* unindented list */
	    "scheduledJobs:\n  - {name: a, command: x, schedule: '*/15 0-6,22 ? jan-MAR,dec "
	    "Mon-fri'}\n  - {name: b, command: x, schedule: '@hourly'}\n"
	    "  - {name: c, command: x, schedule: '5/10 * 1-31/2 * 0'}\n",
	    "env:\n  - name: _x9\n    value: \"a: b # c\"\n    sensitive: FALSE\n",
	    "size: !!str mini\nworkerJobs: !seq\n  - !job {name: a, command: !!str x}\n", /* tags */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(yamls) / sizeof(yamls[0]); i++) {
		struct config c;
		struct errlist e = {0};
		int rc = config_parse(yamls[i], strlen(yamls[i]), "t.yaml", &c, &e);

		print_message("valid %zu\n", i);
		for (size_t k = 0; k < e.n; k++)
			print_message("  got: %s\n", e.item[k].msg);
		assert_int_equal(rc, 0);
		assert_int_equal(e.n, 0);
		config_free(&c);
		errlist_clear(&e);
	}
}

/* An invalid file still yields its valid parts (main-app mode uses them). */
static void test_partial_result(void **state)
{
	static const char yaml[] = "size: standard-2\nenv:\n  - name: GOOD\n    value: 1\n"
				   "  - name: 2BAD\nworkerJobs:\n  - name: ok\n    command: x\n"
				   "  - name: bad\n    command: \"\"\n";
	struct config c;
	struct errlist e = {0};

	(void)state;
	assert_int_equal(config_parse(yaml, strlen(yaml), "t.yaml", &c, &e), -EINVAL);
	assert_int_equal(e.n, 2);
	assert_ptr_equal(c.size, size_lookup("standard-2"));
	assert_int_equal(c.n_env, 1);
	assert_string_equal(c.env[0].name, "GOOD");
	assert_int_equal(c.n_jobs, 1);
	assert_string_equal(c.jobs[0].name, "ok");
	config_free(&c);
	errlist_clear(&e);

	/* after a syntax error: nothing */
	assert_int_equal(config_parse("size: mini\n[", 12, "t.yaml", &c, &e), -EINVAL);
	assert_null(c.size);
	assert_int_equal(c.n_jobs, 0);
	config_free(&c);
	errlist_clear(&e);
}

static double elapsed(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a->tv_sec) + (double)(b.tv_nsec - a->tv_nsec) / 1e9;
}

static void expect_one_error(const char *text, size_t len, const char *want)
{
	struct config c;
	struct errlist e = {0};
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(config_parse(text, len, "t.yaml", &c, &e), -EINVAL);
	assert_true(elapsed(&t0) < 1.0);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.item[0].msg, want);
	config_free(&c);
	errlist_clear(&e);
}

static void test_billion_laughs(void **state)
{
	static const char yaml[] =
	    "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
	    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
	    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
	    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
	    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
	    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
	    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
	    "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
	    "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";

	(void)state;
	expect_one_error(
	    yaml, strlen(yaml),
	    "t.yaml:2:8: b[0]: aliases are not supported (to write a value that starts "
	    "with \"*\", quote it)");
}

static char *repeat(const char *prefix, const char *unit, size_t n, const char *suffix, size_t *len)
{
	size_t pl = strlen(prefix), ul = strlen(unit), sl = strlen(suffix);
	char *s = malloc(pl + ul * n + sl + 1);

	assert_non_null(s);
	memcpy(s, prefix, pl);
	for (size_t i = 0; i < n; i++)
		memcpy(s + pl + i * ul, unit, ul);
	memcpy(s + pl + ul * n, suffix, sl + 1);
	*len = pl + ul * n + sl;
	return s;
}

static void test_deep_nesting(void **state)
{
	size_t len;
	char *open = repeat("port: ", "[", 40, "", &len);
	char *s = repeat(open, "]", 40, "\n", &len);

	(void)state;
	/* the top mapping is level 1; the 32nd "[" (column 38) would be level 33 */
	expect_one_error(s, len, "t.yaml:1:38: nesting deeper than 32");
	free(open);
	free(s);

	/* 31 levels under the top mapping: accepted */
	open = repeat("port: ", "[", 31, "", &len);
	s = repeat(open, "]", 31, "\n", &len);
	{
		struct config c;
		struct errlist e = {0};

		assert_int_equal(config_parse(s, len, "t.yaml", &c, &e), 0);
		config_free(&c);
	}
	free(open);
	free(s);

	/* block-style nesting, 100 deep */
	s = malloc(100 * 104 + 1);
	assert_non_null(s);
	len = 0;
	for (int i = 0; i < 100; i++)
		len += (size_t)sprintf(s + len, "%*sk:\n", i, "");
	expect_one_error(s, len, "t.yaml:33:33: nesting deeper than 32");
	free(s);
}

static void test_many_nodes(void **state)
{
	size_t len;
	char *s = repeat("port: [", "1,", 100001, "]\n", &len);

	(void)state;
	assert_true(len <= CONFIG_FILE_MAX);
	expect_one_error(s, len, "t.yaml:1:200002: more than 100000 YAML nodes");
	free(s);
}

static void test_too_large(void **state)
{
	char path[] = "/tmp/test_config.XXXXXX";
	char want[128];
	size_t len;
	char *s = repeat("# ", "x", 2 * 1024 * 1024, "\n", &len);
	struct config c;
	struct errlist e = {0};
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, s, len), (ssize_t)len);
	close(fd);
	assert_int_equal(config_load(path, &c, &e), -EINVAL);
	assert_int_equal(e.n, 1);
	snprintf(want, sizeof(want), "%s: file is larger than 1 MiB", path);
	assert_string_equal(e.item[0].msg, want);
	config_free(&c);
	errlist_clear(&e);

	/* the same through config_parse */
	assert_int_equal(config_parse(s, len, "t.yaml", &c, &e), -EINVAL);
	assert_string_equal(e.item[0].msg, "t.yaml: file is larger than 1 MiB");
	config_free(&c);
	errlist_clear(&e);

	/* exactly 1 MiB is fine */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, s, CONFIG_FILE_MAX - 1), CONFIG_FILE_MAX - 1);
	assert_int_equal(write(fd, "\n", 1), 1);
	close(fd);
	assert_int_equal(config_load(path, &c, &e), 0);
	assert_int_equal(e.n, 0);
	config_free(&c);
	unlink(path);
	free(s);
}

static void test_load(void **state)
{
	char path[] = "/tmp/test_config.XXXXXX";
	static const char yaml[] = "workerJobs:\n  - name: w\n    command: run\n";
	struct config c;
	struct errlist e = {0};
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, yaml, strlen(yaml)), (ssize_t)strlen(yaml));
	close(fd);
	assert_int_equal(config_load(path, &c, &e), 0);
	assert_string_equal(c.path, path);
	assert_int_equal(c.n_jobs, 1);
	assert_string_equal(c.jobs[0].command, "run");
	config_free(&c);
	unlink(path);

	assert_int_equal(config_load("/nonexistent/.deploio.yaml", &c, &e), -ENOENT);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.item[0].msg,
			    "unable to read /nonexistent/.deploio.yaml: No such file or directory");
	config_free(&c);
	errlist_clear(&e);
}

static void test_name_helpers(void **state)
{
	(void)state;
	assert_true(config_valid_job_name("a", 1));
	assert_true(config_valid_job_name("0-a-9", 5));
	assert_true(config_valid_job_name(A64, 63));
	assert_false(config_valid_job_name(A64, 64));
	assert_false(config_valid_job_name("", 0));
	assert_false(config_valid_job_name("-a", 2));
	assert_false(config_valid_job_name("a.b", 3));
	assert_true(config_valid_env_name("_", 1));
	assert_true(config_valid_env_name("Path_2", 6));
	assert_false(config_valid_env_name("2A", 2));
	assert_false(config_valid_env_name("A B", 3));
	assert_false(config_valid_env_name("", 0));
	assert_string_equal(config_kind_name(CONFIG_SCHEDULED), "scheduled");
}

/* SCHEDULED_MAX scheduled jobs are accepted; one more is an error at the
 * first job too many, with the bound and the count in the message. */
static void test_scheduled_limit(void **state)
{
	static char text[(SCHEDULED_MAX + 1) * 64 + 32];
	char want[160];
	struct config c;
	struct errlist e = {0};

	(void)state;
	for (size_t n = SCHEDULED_MAX; n <= SCHEDULED_MAX + 1; n++) {
		size_t len = (size_t)snprintf(text, sizeof(text), "scheduledJobs:\n");

		for (size_t i = 0; i < n; i++)
			len += (size_t)snprintf(
			    text + len, sizeof(text) - len,
			    "  - {name: j%zu, command: x, schedule: \"@daily\"}\n", i);
		assert_true(len < sizeof(text));
		print_message("%zu scheduled jobs\n", n);
		if (n == SCHEDULED_MAX) {
			assert_int_equal(config_parse(text, len, "t.yaml", &c, &e), 0);
			assert_int_equal(c.n_jobs, SCHEDULED_MAX);
		} else {
			assert_int_equal(config_parse(text, len, "t.yaml", &c, &e), -EINVAL);
			assert_int_equal(e.n, 1);
			snprintf(want, sizeof(want),
				 "t.yaml:%d:5: scheduledJobs: at most %d scheduled jobs are "
				 "supported, found %d",
				 SCHEDULED_MAX + 2, SCHEDULED_MAX, SCHEDULED_MAX + 1);
			assert_string_equal(e.item[0].msg, want);
		}
		config_free(&c);
		errlist_clear(&e);
	}
}

/* cron_validate on its own: accepted and refused expressions. */
static void test_cron(void **state)
{
	static const char *const good[] = {
	    "0 3 * * *",   "*/5 * * * *",     "0 0 1,15 * *",  "0 9-17/2 * * 1-5",
	    "0 0 * * SUN", "0 0 1 jan-jun *", "0 0 ? * *",     "  0  3\t* * *  ",
	    "@weekly",	   "@midnight",	      "59 23 31 12 6", "5/15 * * * *",
	};
	static const char *const bad[] = {
	    "",
	    "* * * * * * *",
	    "60 * * * *",
	    "* 24 * * *",
	    "* * 0 * *",
	    "* * * 13 *",
	    "* * * * 8",
	    "a * * * *",
	    "1-2-3 * * * *",
	    "*/ * * * *",
	    "1, * * * *",
	    "@reboot",
	    "-1 * * * *",
	    "99999999999 * * * *",
	    "* * * * mon-",
	    "*/61 * * * *",
	};
	struct err err = {0};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		print_message("good: \"%s\"\n", good[i]);
		assert_int_equal(cron_validate(good[i], &err), 0);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err.msg[0] = 0;
		print_message("bad: \"%s\"\n", bad[i]);
		assert_int_equal(cron_validate(bad[i], &err), -EINVAL);
		assert_true(strlen(err.msg) > 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rules),	   cmocka_unit_test(test_valid_full),
	    cmocka_unit_test(test_valid_small),	   cmocka_unit_test(test_partial_result),
	    cmocka_unit_test(test_billion_laughs), cmocka_unit_test(test_deep_nesting),
	    cmocka_unit_test(test_many_nodes),	   cmocka_unit_test(test_too_large),
	    cmocka_unit_test(test_load),	   cmocka_unit_test(test_name_helpers),
	    cmocka_unit_test(test_cron),	   cmocka_unit_test(test_scheduled_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The reload diff (SPEC §10): which jobs a re-read configuration changes,
 * adds and removes, and which stay untouched. One row a case, over plans
 * built by hand. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "reload.h"

/* A job in a row: "name=command" with optional "/size" and "+ENV". */
#define JOBS_IN_ROW 4

struct row {
	const char *what;
	const char *old[JOBS_IN_ROW]; /* NULL-terminated */
	const char *new[JOBS_IN_ROW];
	const char *want; /* per old job: S same, C changed, R removed; then "+name" added */
	unsigned fields;  /* of the first changed job */
};

static const struct row rows[] = {
    {"identical", {"web=", "a=x", NULL}, {"web=", "a=x", NULL}, "SS", 0},
    {"command changed", {"a=x", "b=y", NULL}, {"a=x", "b=z", NULL}, "SC", JF_COMMAND},
    {"size changed", {"a=x/micro", NULL}, {"a=x/mini", NULL}, "C", JF_SIZE},
    {"size set where there was none", {"a=x", NULL}, {"a=x/micro", NULL}, "C", JF_SIZE},
    {"env changed", {"a=x+FOO=1", NULL}, {"a=x+FOO=2", NULL}, "C", JF_ENV},
    {"env added", {"a=x", NULL}, {"a=x+FOO=1", NULL}, "C", JF_ENV},
    {"command and size", {"a=x/micro", NULL}, {"a=y/mini", NULL}, "C", JF_COMMAND | JF_SIZE},
    {"removed", {"a=x", "b=y", NULL}, {"a=x", NULL}, "SR", 0},
    {"added", {"a=x", NULL}, {"a=x", "b=y", NULL}, "S+b", 0},
    {"renamed = removed + added", {"a=x", NULL}, {"b=x", NULL}, "R+b", 0},
    {"reordered is unchanged", {"a=x", "b=y", NULL}, {"b=y", "a=x", NULL}, "SS", 0},
    {"all replaced", {"web=", "a=1", "b=2", NULL}, {"web=", "c=3", "d=4", NULL}, "SRR+c+d", 0},
    {"main app changed", {"web=/micro", NULL}, {"web=/mini", NULL}, "C", JF_SIZE},
    {"empty to one", {NULL}, {"a=x", NULL}, "+a", 0},
};

struct built {
	struct run_plan plan;
	struct job_plan jobs[JOBS_IN_ROW];
	char cmd[JOBS_IN_ROW][32], env[JOBS_IN_ROW][32];
	char *argv[JOBS_IN_ROW][4], *envp[JOBS_IN_ROW][2];
};

static const struct size_spec *size_named(const char *name)
{
	for (size_t i = 0; i < size_count; i++)
		if (strcmp(size_table[i].name, name) == 0)
			return &size_table[i];
	return NULL;
}

static void build(struct built *b, const char *const *jobs)
{
	static char sh[] = "/bin/sh", dash_c[] = "-c";

	memset(b, 0, sizeof(*b));
	b->plan.jobs = b->jobs;
	for (size_t i = 0; i < JOBS_IN_ROW && jobs[i] != NULL; i++) {
		struct job_plan *j = &b->jobs[i];
		const char *eq = strchr(jobs[i], '='), *slash, *plus;
		size_t n = (size_t)(eq - jobs[i]);

		memcpy(j->name, jobs[i], n);
		j->kind = strcmp(j->name, "web") == 0 ? JOB_MAIN : JOB_WORKER;
		snprintf(b->cmd[i], sizeof(b->cmd[i]), "%s", eq + 1);
		plus = strchr(b->cmd[i], '+');
		if (plus != NULL) {
			snprintf(b->env[i], sizeof(b->env[i]), "%s", plus + 1);
			b->cmd[i][plus - b->cmd[i]] = '\0';
			b->envp[i][0] = b->env[i];
		}
		slash = strchr(b->cmd[i], '/');
		j->size = slash != NULL ? size_named(slash + 1) : NULL;
		if (slash != NULL)
			b->cmd[i][slash - b->cmd[i]] = '\0';
		j->command = b->cmd[i];
		b->argv[i][0] = sh, b->argv[i][1] = dash_c, b->argv[i][2] = b->cmd[i];
		j->argv = b->argv[i];
		j->envp = b->envp[i];
		j->sandbox.seccomp = SECCOMP_PROFILE_DEFAULT;
		j->sandbox.caps = "default";
		b->plan.n_jobs++;
	}
}

static void test_diff_table(void **state)
{
	(void)state;
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		static struct built a, b;
		struct plan_diff d;
		char got[64];
		size_t len = 0;
		unsigned fields = 0;

		build(&a, rows[r].old);
		build(&b, rows[r].new);
		assert_int_equal(plan_diff(&a.plan, &b.plan, &d), 0);
		for (size_t i = 0; i < a.plan.n_jobs; i++) {
			got[len++] = "SCR"[d.old[i]];
			if (d.old[i] == JC_CHANGED && fields == 0)
				fields = d.fields[i];
			if (d.old[i] != JC_REMOVED)
				assert_string_equal(a.jobs[i].name, b.jobs[d.to_new[i]].name);
		}
		for (size_t k = 0; k < d.n_added; k++)
			len += (size_t)snprintf(got + len, sizeof(got) - len, "+%s",
						b.jobs[d.added[k]].name);
		got[len] = '\0';
		if (strcmp(got, rows[r].want) != 0 || fields != rows[r].fields)
			fail_msg("row \"%s\": got %s fields %#x, want %s fields %#x", rows[r].what,
				 got, fields, rows[r].want, rows[r].fields);
	}
}

static void test_sandbox_and_describe(void **state)
{
	static struct built a, b;
	char buf[64];

	(void)state;
	build(&a, (const char *const[]){"a=x", NULL});
	build(&b, (const char *const[]){"a=x", NULL});
	b.jobs[0].sandbox.caps = "none";
	assert_int_equal(job_plan_diff(&a.jobs[0], &b.jobs[0]), JF_SANDBOX);
	job_fields_describe(JF_COMMAND | JF_ENV, buf, sizeof(buf));
	assert_string_equal(buf, "command, env");
	job_fields_describe(0, buf, sizeof(buf));
	assert_string_equal(buf, "");
}

static void test_too_many(void **state)
{
	static struct job_plan many[RELOAD_JOBS_MAX + 1];
	struct run_plan a = {.jobs = many, .n_jobs = RELOAD_JOBS_MAX + 1}, b = {0};
	struct plan_diff d;

	(void)state;
	assert_int_equal(plan_diff(&a, &b, &d), -E2BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_diff_table),
	    cmocka_unit_test(test_sandbox_and_describe),
	    cmocka_unit_test(test_too_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

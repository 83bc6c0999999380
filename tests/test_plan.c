/* plan_build and plan_check (SPEC §2, §3, §9): layer precedence, job
 * selection, environment merging, @all, the launcher, check's output. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "commands.h"
#include "plan.h"
#include "jsonq.h"

static char dir[PATH_MAX];

static const char *size_name(const struct size_spec *s)
{
	return s != NULL ? s->name : "none";
}

static const char full_yaml[] = "size: mini\n"
				"env:\n"
				"  - name: RAILS_ENV\n"
				"    value: production\n"
				"  - name: NEW\n"
				"    value: \"1\"\n"
				"workerJobs:\n"
				"  - name: sidekiq\n"
				"    command: bundle exec sidekiq\n"
				"    size: standard-1\n"
				"  - name: mailer\n"
				"    command: bin/mailer\n"
				"deployJob:\n"
				"  name: release\n"
				"  command: bin/migrate\n"
				"  retries: 3\n"
				"  timeout: 10m\n"
				"scheduledJobs:\n"
				"  - name: nightly\n"
				"    command: bin/cleanup\n"
				"    schedule: \"0 3 * * *\"\n";

static const char broken_yaml[] = "size: mini\n"
				  "env:\n"
				  "  - name: GOOD\n"
				  "    value: yes\n"
				  "workerJobs:\n"
				  "  - name: sidekiq\n"
				  "    command: x\n"
				  "    size: huge\n"
				  "bogus: 1\n";

static char *write_tmp(const char *name, const char *text)
{
	static char path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static int setup(void **state)
{
	char tmpl[] = "/tmp/test_plan.XXXXXX";

	(void)state;
	if (mkdtemp(tmpl) == NULL)
		return -1;
	snprintf(dir, sizeof(dir), "%s", tmpl);
	return 0;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static char *main_argv[] = {"bundle", "exec", "puma", NULL};
static char *no_env[] = {NULL};

/* Options as the shim leaves them for `jobshim -- bundle exec puma`. */
static struct options opts(const char *config_text, const char *job)
{
	struct options o = {0};

	o.job = job;
	o.launcher = "/nonexistent/launcher"; /* whatever this machine has */
	if (config_text != NULL) {
		o.config = strdup(write_tmp("deploio.yaml", config_text));
		o.config_explicit = true;
	} else {
		o.config = "/nonexistent/.deploio.yaml"; /* not explicit: absent is fine */
	}
	o.argv = main_argv;
	o.argc = 3;
	return o;
}

static void opts_free(struct options *o)
{
	if (o->config_explicit)
		free((char *)o->config);
}

static void assert_strv(char **got, const char *const *want)
{
	size_t i;

	for (i = 0; want[i] != NULL; i++) {
		assert_non_null(got[i]);
		assert_string_equal(got[i], want[i]);
	}
	assert_null(got[i]);
}

/* defaults < file < environment/flags, for the main app's size. */
static void test_main_size_layers(void **state)
{
	static const struct {
		const char *yaml; /* NULL: no file */
		const char *opt;
		const char *want; /* "none": no size, no limits (SPEC §6) */
	} rows[] = {
	    {NULL, NULL, "none"},
	    {"port: 1\n", NULL, "none"},
	    {"size: mini\n", NULL, "mini"},
	    {"size: mini\n", "standard-2", "standard-2"},
	    {NULL, "standard-1", "standard-1"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct options o = opts(rows[i].yaml, NULL);
		struct run_plan p;
		struct errlist e = {0};

		print_message("row %zu\n", i);
		o.size = rows[i].opt != NULL ? size_lookup(rows[i].opt) : NULL;
		assert_int_equal(plan_build(&o, no_env, &p, &e), 0);
		assert_int_equal(e.n, 0);
		assert_int_equal(p.n_jobs, 1);
		assert_false(p.all_mode);
		assert_string_equal(p.jobs[0].name, "web");
		assert_int_equal(p.jobs[0].kind, JOB_MAIN);
		assert_null(p.jobs[0].command);
		assert_strv(p.jobs[0].argv, (const char *const[]){"bundle", "exec", "puma", NULL});
		assert_string_equal(size_name(p.jobs[0].size), rows[i].want);
		assert_ptr_equal(p.jobs[0].sandbox.size, p.jobs[0].size);
		assert_ptr_equal(p.jobs[0].sandbox.job_name, p.jobs[0].name);
		plan_free(&p);
		opts_free(&o);
	}
}

/* A worker's size: default < job's size in the file < --size. The file's
 * top-level size is the main app's, not the worker's. */
static void test_worker_size_layers(void **state)
{
	static const struct {
		const char *job;
		const char *opt;
		const char *want;
	} rows[] = {
	    {"sidekiq", NULL, "standard-1"},
	    {"sidekiq", "standard-4", "standard-4"},
	    {"mailer", NULL, "none"},
	    {"mailer", "mini", "mini"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct options o = opts(full_yaml, rows[i].job);
		struct run_plan p;
		struct errlist e = {0};

		print_message("row %zu\n", i);
		o.size = rows[i].opt != NULL ? size_lookup(rows[i].opt) : NULL;
		assert_int_equal(plan_build(&o, no_env, &p, &e), 0);
		assert_int_equal(p.n_jobs, 1);
		assert_string_equal(p.jobs[0].name, rows[i].job);
		assert_int_equal(p.jobs[0].kind, JOB_WORKER);
		assert_string_equal(size_name(p.jobs[0].size), rows[i].want);
		plan_free(&p);
		opts_free(&o);
	}
}

static void test_worker_command(void **state)
{
	struct options o = opts(full_yaml, "sidekiq");
	struct run_plan p;
	struct errlist e = {0};

	(void)state;
	assert_int_equal(plan_build(&o, no_env, &p, &e), 0);
	assert_string_equal(p.jobs[0].command, "bundle exec sidekiq");
	assert_strv(p.jobs[0].argv,
		    (const char *const[]){"/bin/sh", "-c", "exec bundle exec sidekiq", NULL});
	assert_string_equal(p.config_path, o.config);
	plan_free(&p);

	/* JOBSHIM_COMMAND overrides the file's command */
	o.command = "bundle exec sidekiq -q low";
	assert_int_equal(plan_build(&o, no_env, &p, &e), 0);
	assert_string_equal(p.jobs[0].command, "bundle exec sidekiq -q low");
	assert_string_equal(p.jobs[0].argv[2], "exec bundle exec sidekiq -q low");
	plan_free(&p);

	/* a compound command keeps the shell as the main process */
	o.command = "echo start; exec sidekiq";
	assert_int_equal(plan_build(&o, no_env, &p, &e), 0);
	assert_string_equal(p.jobs[0].argv[2], "echo start; exec sidekiq");
	plan_free(&p);

	/* an empty JOBSHIM_COMMAND is unset */
	o.command = "";
	assert_int_equal(plan_build(&o, no_env, &p, &e), 0);
	assert_string_equal(p.jobs[0].command, "bundle exec sidekiq");
	plan_free(&p);
	assert_int_equal(e.n, 0);
	opts_free(&o);
}

static void test_launcher(void **state)
{
	struct options o = opts(full_yaml, "mailer");
	struct run_plan p;
	struct errlist e = {0};
	char *launcher = strdup(write_tmp("launcher", "#!/bin/sh\n"));

	(void)state;
	/* present but not executable: not used */
	chmod(launcher, 0644);
	o.launcher = launcher;
	assert_int_equal(plan_build(&o, no_env, &p, &e), 0);
	assert_string_equal(p.jobs[0].argv[0], "/bin/sh");
	plan_free(&p);

	chmod(launcher, 0755);
	assert_int_equal(plan_build(&o, no_env, &p, &e), 0);
	assert_strv(p.jobs[0].argv, (const char *const[]){launcher, "bin/mailer", NULL});
	plan_free(&p);

	/* the main app is never run through the launcher */
	o.job = NULL;
	assert_int_equal(plan_build(&o, no_env, &p, &e), 0);
	assert_string_equal(p.jobs[0].argv[0], "bundle");
	plan_free(&p);

	free(launcher);
	opts_free(&o);
}

/* The configuration's env is added; the container's own variables win. */
static void test_env_merge(void **state)
{
	char *container[] = {"RAILS_ENV=development", "PATH=/usr/bin", "NEWS=x", NULL};
	const char *const want[] = {"RAILS_ENV=development", "PATH=/usr/bin", "NEWS=x", "NEW=1",
				    NULL};
	const char *jobs[] = {NULL, "sidekiq", "@all"};

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		struct options o = opts(full_yaml, jobs[i]);
		struct run_plan p;
		struct errlist e = {0};

		assert_int_equal(plan_build(&o, container, &p, &e), 0);
		assert_true(p.n_jobs >= 1);
		for (size_t j = 0; j < p.n_jobs; j++)
			assert_strv(p.jobs[j].envp, want);
		/* each job owns its copy */
		if (p.n_jobs > 1)
			assert_ptr_not_equal(p.jobs[0].envp, p.jobs[1].envp);
		plan_free(&p);
		opts_free(&o);
	}
}

static void test_unknown_job(void **state)
{
	static const struct {
		const char *yaml;
		const char *job;
		int rc;
		const char *msg;
	} rows[] = {
	    {full_yaml, "x", -ENOENT,
	     "unknown job \"x\" (known jobs: sidekiq, mailer, release, nightly, @all, @cron)"},
	    {NULL, "x", -ENOENT, "unknown job \"x\" (no jobs are configured)"},
	    {"size: mini\n", "x", -ENOENT, "unknown job \"x\" (no jobs are configured)"},
	    {NULL, "@cron", -EINVAL,
	     "job: @cron needs a configuration file (.deploio.yaml, or --config)"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct options o = opts(rows[i].yaml, rows[i].job);
		struct run_plan p;
		struct errlist e = {0};

		print_message("row %zu\n", i);
		assert_int_equal(plan_build(&o, no_env, &p, &e), rows[i].rc);
		assert_int_equal(e.n, 1);
		assert_string_equal(e.item[0].msg, rows[i].msg);
		assert_int_equal(p.n_jobs, 0);
		assert_null(p.jobs);
		plan_free(&p);
		errlist_clear(&e);
		opts_free(&o);
	}
}

/* JOBSHIM_JOB + JOBSHIM_COMMAND define a worker without any file, or one
 * the file does not name. */
static void test_env_only_job(void **state)
{
	const char *yamls[] = {NULL, full_yaml};

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct options o = opts(yamls[i], "clock");
		struct run_plan p;
		struct errlist e = {0};

		o.command = "bin/clock --tick";
		assert_int_equal(plan_build(&o, no_env, &p, &e), 0);
		assert_int_equal(e.n, 0);
		assert_int_equal(p.n_jobs, 1);
		assert_string_equal(p.jobs[0].name, "clock");
		assert_int_equal(p.jobs[0].kind, JOB_WORKER);
		assert_string_equal(p.jobs[0].command, "bin/clock --tick");
		assert_strv(p.jobs[0].argv,
			    (const char *const[]){"/bin/sh", "-c", "exec bin/clock --tick", NULL});
		assert_null(p.jobs[0].size);
		if (i == 0)
			assert_null(p.config_path);
		plan_free(&p);

		/* the name must still be a DNS label */
		o.job = "Clock_1";
		assert_int_equal(plan_build(&o, no_env, &p, &e), -EINVAL);
		assert_int_equal(e.n, 1);
		assert_string_equal(
		    e.item[0].msg, "job: \"Clock_1\" is not a valid job name (lowercase letters, "
				   "digits and '-', starting and ending with a letter or digit, at "
				   "most 63 characters)");
		errlist_clear(&e);
		opts_free(&o);
	}
}

/* Main app + broken file: the errors come back as warnings and the main app
 * runs with the valid parts; a worker or @all refuses. */
static void test_broken_file(void **state)
{
	struct options o = opts(broken_yaml, NULL);
	struct run_plan p;
	struct errlist e = {0};
	char want0[PATH_MAX + 200], want1[PATH_MAX + 200];
	const char *const env_want[] = {"GOOD=yes", NULL};

	(void)state;
	snprintf(want0, sizeof(want0),
		 "%s:8:11: workerJobs[0].size: unknown size \"huge\" (expected micro, mini, "
		 "standard-1, standard-2, standard-4)",
		 o.config);
	snprintf(want1, sizeof(want1),
		 "%s:9:1: bogus: unknown key (allowed: size, env, workerJobs, deployJob, "
		 "scheduledJobs, port, replicas, enableBasicAuth, healthProbe)",
		 o.config);
	assert_int_equal(plan_build(&o, no_env, &p, &e), 0);
	assert_int_equal(e.n, 2);
	assert_string_equal(e.item[0].msg, want0);
	assert_string_equal(e.item[1].msg, want1);
	assert_int_equal(p.n_jobs, 1);
	assert_string_equal(p.jobs[0].name, "web");
	assert_string_equal(p.jobs[0].size->name, "mini"); /* the valid size */
	assert_strv(p.jobs[0].envp, env_want);		   /* the valid env */
	plan_free(&p);
	errlist_clear(&e);

	o.job = "sidekiq";
	assert_int_equal(plan_build(&o, no_env, &p, &e), -EINVAL);
	assert_int_equal(e.n, 2);
	assert_int_equal(p.n_jobs, 0);
	errlist_clear(&e);

	o.job = "@all";
	assert_int_equal(plan_build(&o, no_env, &p, &e), -EINVAL);
	assert_int_equal(e.n, 2);
	errlist_clear(&e);
	opts_free(&o);
}

static void test_missing_explicit_file(void **state)
{
	struct options o = opts(NULL, NULL);
	struct run_plan p;
	struct errlist e = {0};

	(void)state;
	o.config_explicit = true; /* JOBSHIM_CONFIG=/nonexistent/.deploio.yaml */
	assert_int_equal(plan_build(&o, no_env, &p, &e), 0);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.item[0].msg,
			    "unable to read /nonexistent/.deploio.yaml: No such file or directory");
	assert_int_equal(p.n_jobs, 1);
	assert_null(p.config_path);
	plan_free(&p);
	errlist_clear(&e);

	o.job = "w";
	o.command = "run";
	assert_int_equal(plan_build(&o, no_env, &p, &e), -EINVAL);
	assert_int_equal(e.n, 1);
	errlist_clear(&e);
}

static void test_default_file(void **state)
{
	char cwd[PATH_MAX];
	struct options o = opts(NULL, "sidekiq");
	struct run_plan p;
	struct errlist e = {0};

	(void)state;
	o.config = NULL;
	write_tmp(".deploio.yaml", full_yaml);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(plan_build(&o, no_env, &p, &e), 0);
	assert_string_equal(p.config_path, ".deploio.yaml");
	assert_string_equal(p.jobs[0].command, "bundle exec sidekiq");
	plan_free(&p);
	assert_int_equal(unlink(".deploio.yaml"), 0);

	/* gone: the worker is unknown, and that is all */
	assert_int_equal(plan_build(&o, no_env, &p, &e), -ENOENT);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.item[0].msg, "unknown job \"sidekiq\" (no jobs are configured)");
	errlist_clear(&e);
	assert_int_equal(chdir(cwd), 0);
}

static void test_oneshot_plans(void **state)
{
	char *bad_tz[] = {"TZ=Mars/Base", NULL};
	struct options o = opts(full_yaml, "release");
	struct run_plan p;
	struct errlist e = {0};

	(void)state;
	assert_int_equal(plan_build(&o, no_env, &p, &e), 0);
	assert_true(p.oneshot);
	assert_false(p.cron_mode);
	assert_int_equal(p.n_jobs, 1);
	assert_int_equal(p.jobs[0].kind, JOB_DEPLOY);
	assert_int_equal(p.jobs[0].attempts, 4);
	assert_int_equal(p.jobs[0].timeout_ms, 600000);
	assert_string_equal(p.jobs[0].argv[2], "exec bin/migrate");
	assert_string_equal(p.jobs[0].size->name, "mini");
	plan_free(&p);
	/* --timeout overrides the selected job's, short values included */
	o.timeout_ms = 1500;
	assert_int_equal(plan_build(&o, no_env, &p, &e), 0);
	assert_int_equal(p.jobs[0].timeout_ms, 1500);
	plan_free(&p);
	opts_free(&o);

	/* a scheduled job, once: the defaults; TZ does not matter */
	o = opts(full_yaml, "nightly");
	assert_int_equal(plan_build(&o, bad_tz, &p, &e), 0);
	assert_int_equal(e.n, 0);
	assert_true(p.oneshot);
	assert_int_equal(p.jobs[0].kind, JOB_SCHEDULED);
	assert_int_equal(p.jobs[0].attempts, 1);
	assert_int_equal(p.jobs[0].timeout_ms, 5 * 60 * 1000);
	assert_string_equal(p.jobs[0].schedule, "0 3 * * *");
	assert_int_equal(p.jobs[0].sched.hour, 1u << 3);
	plan_free(&p);
	opts_free(&o);

	/* @cron: the scheduled jobs only, and TZ must name a zone */
	o = opts(full_yaml, "@cron");
	assert_int_equal(plan_build(&o, no_env, &p, &e), 0);
	assert_true(p.cron_mode);
	assert_false(p.oneshot);
	assert_int_equal(p.n_jobs, 1);
	assert_string_equal(p.jobs[0].name, "nightly");
	plan_free(&p);
	assert_int_equal(plan_build(&o, bad_tz, &p, &e), -EINVAL);
	assert_int_equal(e.n, 1);
	assert_non_null(strstr(e.item[0].msg, "TZ: unknown time zone \"Mars/Base\" (looked for the "
					      "zone file /usr/share/zoneinfo/Mars/Base"));
	errlist_clear(&e);
	opts_free(&o);

	/* @cron without scheduled jobs */
	o = opts("workerJobs:\n  - name: w\n    command: x\n", "@cron");
	assert_int_equal(plan_build(&o, no_env, &p, &e), -EINVAL);
	assert_int_equal(e.n, 1);
	assert_non_null(strstr(e.item[0].msg, "nothing to run: @cron runs scheduledJobs"));
	errlist_clear(&e);
	opts_free(&o);
}

static void test_all_mode(void **state)
{
	struct options o = opts(full_yaml, "@all");
	struct run_plan p;
	struct errlist e = {0};
	char *empty[] = {NULL};

	(void)state;
	assert_int_equal(plan_build(&o, no_env, &p, &e), 0);
	assert_true(p.all_mode);
	assert_int_equal(p.n_jobs, 5);
	assert_string_equal(p.jobs[0].name, "web");
	assert_string_equal(p.jobs[0].size->name, "mini");
	assert_string_equal(p.jobs[1].name, "sidekiq");
	assert_string_equal(p.jobs[1].size->name, "standard-1");
	assert_string_equal(p.jobs[1].argv[2], "exec bundle exec sidekiq");
	assert_string_equal(p.jobs[2].name, "mailer");
	assert_null(p.jobs[2].size);
	assert_strv(p.job_names, (const char *const[]){"sidekiq", "mailer", "release", "nightly",
						       "@all", "@cron", NULL});
	assert_int_equal(p.jobs[3].kind, JOB_DEPLOY);
	assert_string_equal(p.jobs[3].size->name, "mini"); /* the app's */
	assert_int_equal(p.jobs[4].kind, JOB_SCHEDULED);
	assert_string_equal(p.jobs[4].schedule, "0 3 * * *");
	assert_null(p.jobs[4].size);
	for (size_t i = 0; i < 3; i++)
		assert_ptr_equal(p.jobs[i].sandbox.job_name, p.jobs[i].name);
	plan_free(&p);

	/* --size is the main app's in @all mode */
	o.size = size_lookup("standard-2");
	assert_int_equal(plan_build(&o, no_env, &p, &e), 0);
	assert_string_equal(p.jobs[0].size->name, "standard-2");
	assert_string_equal(p.jobs[1].size->name, "standard-1");
	plan_free(&p);
	o.size = NULL;

	/* no command: only the workers */
	o.argv = empty;
	o.argc = 0;
	assert_int_equal(plan_build(&o, no_env, &p, &e), 0);
	assert_int_equal(p.n_jobs, 4);
	assert_string_equal(p.jobs[0].name, "sidekiq");
	plan_free(&p);
	assert_int_equal(e.n, 0);

	/* no command and no workers: nothing to run */
	opts_free(&o);
	o = opts("size: mini\n", "@all");
	o.argv = empty;
	assert_int_equal(plan_build(&o, no_env, &p, &e), -EINVAL);
	assert_int_equal(e.n, 1);
	errlist_clear(&e);
	opts_free(&o);

	/* no file at all */
	o = opts(NULL, "@all");
	assert_int_equal(plan_build(&o, no_env, &p, &e), -EINVAL);
	assert_string_equal(e.item[0].msg,
			    "job: @all needs a configuration file (.deploio.yaml, or --config)");
	errlist_clear(&e);

	/* --command cannot pick a command for all workers */
	o = opts(full_yaml, "@all");
	o.command = "x";
	assert_int_equal(plan_build(&o, no_env, &p, &e), -EINVAL);
	assert_int_equal(e.n, 1);
	errlist_clear(&e);
	opts_free(&o);
}

static void test_options(void **state)
{
	struct options o = opts(full_yaml, "sidekiq");
	struct run_plan p;
	struct errlist e = {0};

	(void)state;
	assert_int_equal(plan_build(&o, no_env, &p, &e), 0);
	assert_int_equal(p.jobs[0].sandbox.seccomp, SECCOMP_PROFILE_DEFAULT);
	assert_string_equal(p.jobs[0].sandbox.caps, "default");
	assert_null(p.jobs[0].sandbox.user);
	assert_null(p.jobs[0].sandbox.rlimits);
	assert_null(p.jobs[0].sandbox.cgroup_root);
	plan_free(&p);

	o.seccomp = SECCOMP_PROFILE_STRICT;
	o.caps = "none";
	o.user = "nobody";
	o.rlimits = "core=0";
	o.cgroup_root = "/tmp/cg";
	assert_int_equal(plan_build(&o, no_env, &p, &e), 0);
	assert_int_equal(p.jobs[0].sandbox.seccomp, SECCOMP_PROFILE_STRICT);
	assert_string_equal(p.jobs[0].sandbox.caps, "none");
	assert_string_equal(p.jobs[0].sandbox.user, "nobody");
	assert_string_equal(p.jobs[0].sandbox.rlimits, "core=0");
	assert_string_equal(p.jobs[0].sandbox.cgroup_root, "/tmp/cg");
	plan_free(&p);

	/* an invalid option stops every mode, the main app's included (--size
	 * and --seccomp cannot be: shim/cli.c parsed them; test_cli's rows) */
	o.user = NULL;
	o.caps = "CHOWN,BOGUS";
	o.job = NULL;
	assert_int_equal(plan_build(&o, no_env, &p, &e), -EINVAL);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.item[0].msg, "caps: unknown capability \"BOGUS\"");
	errlist_clear(&e);

	/* so does another invalid sandbox option (sandbox_validate's message) */
	o.caps = NULL;
	o.rlimits = "nofile=lots";
	assert_int_equal(plan_build(&o, no_env, &p, &e), -EINVAL);
	assert_true(e.n >= 1);
	errlist_clear(&e);

	/* the main app without a command */
	o.rlimits = NULL;
	o.argv = no_env;
	assert_int_equal(plan_build(&o, no_env, &p, &e), -EINVAL);
	assert_int_equal(e.n, 1);
	errlist_clear(&e);
	opts_free(&o);
}

/* ---------------------------------------------------------------- check */

/* check's output is composed by hand: prove it parses (jsonq.h). */
static void test_json_checker(void **state)
{
	static const char *bad[] = {"{\"a\":}", "{\"a\":1,}", "[\"a\nb\"]", "{a:1}"};
	static const char good[] = "{\"a\":[1,true,null,\"x\\n\"]}";

	(void)state;
	/* the checker itself must be able to fail */
	assert_int_equal(jsonq(good, strlen(good), NULL, (char *)NULL), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(jsonq(bad[i], strlen(bad[i]), NULL, (char *)NULL), 1);
}

struct captured {
	int rc;
	char *out, *err;
	size_t out_len, err_len;
};

/* check_command writing to out, with stderr (where log.c writes) sent to a
 * file: its exit status and what it logged (c.err). */
static struct captured run_check_on(const struct options *o, enum output_format fmt, FILE *out)
{
	struct captured c = {0};
	FILE *err = tmpfile();
	int saved = dup(STDERR_FILENO);
	long n;

	assert_non_null(err);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fileno(err), STDERR_FILENO), STDERR_FILENO);
	c.rc = check_command(o, fmt, no_env, out);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	assert_int_equal(fseek(err, 0, SEEK_END), 0);
	n = ftell(err);
	assert_true(n >= 0);
	rewind(err);
	c.err_len = (size_t)n;
	c.err = calloc(1, c.err_len + 1);
	assert_non_null(c.err);
	assert_int_equal(fread(c.err, 1, c.err_len, err), c.err_len);
	fclose(err);
	return c;
}

/* The same, stdout captured in c.out. */
static struct captured run_check(const struct options *o, enum output_format fmt)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	struct captured c;

	assert_non_null(out);
	c = run_check_on(o, fmt, out);
	fclose(out);
	c.out = buf;
	c.out_len = len;
	return c;
}

static void captured_free(struct captured *c)
{
	free(c->out);
	free(c->err);
}

static void assert_contains(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL)
		print_message("missing \"%s\" in:\n%s\n", needle, hay);
	assert_non_null(strstr(hay, needle));
}

static void test_check_table(void **state)
{
	struct options o = opts(full_yaml, NULL);
	struct captured c;
	char line[PATH_MAX + 32];

	(void)state;
	o.argv = no_env; /* `jobshim check` has no command */
	o.argc = 0;
	c = run_check(&o, OUT_TABLE);
	assert_int_equal(c.rc, 0);
	assert_string_equal(c.err, "");
	snprintf(line, sizeof(line), "config: %s\n", o.config);
	assert_contains(c.out, line);
	assert_contains(c.out, "\nweb\n  kind: main (runs here)\n  command: (image CMD)\n");
	assert_contains(c.out, "  size: mini (memory 512Mi, cpu 250m, pids 512, nofile 8192)\n");
	assert_contains(c.out, "\nsidekiq\n  kind: worker\n  command: bundle exec sidekiq\n"
			       "  size: standard-1 (memory 1Gi, cpu 500m, pids 1024, nofile "
			       "16384)\n");
	assert_contains(c.out, "\nmailer\n  kind: worker\n  command: bin/mailer\n"
			       "  size: none (jobshim changes no limit; the platform sizes the "
			       "container)\n  rlimits: none (the container's own)\n"
			       "  cgroup: none (no size)\n");
	assert_contains(c.out, "\nrelease\n  kind: deploy\n  command: bin/migrate\n"
			       "  retries: 3\n  timeout: 10m\n");
	assert_contains(c.out, "\nnightly\n  kind: scheduled\n  command: bin/cleanup\n"
			       "  schedule: 0 3 * * *\n");
	/* the jobs come in this order */
	assert_true(strstr(c.out, "\nweb\n") < strstr(c.out, "\nsidekiq\n"));
	assert_true(strstr(c.out, "\nmailer\n") < strstr(c.out, "\nrelease\n"));
	assert_true(strstr(c.out, "\nrelease\n") < strstr(c.out, "\nnightly\n"));
	captured_free(&c);

	/* with a worker selected and overridden */
	o.job = "mailer";
	o.command = "bin/mailer --fast";
	o.size = size_lookup("mini");
	c = run_check(&o, OUT_TABLE);
	assert_int_equal(c.rc, 0);
	assert_contains(c.out, "\nweb\n  kind: main\n");
	assert_contains(c.out, "\nmailer\n  kind: worker (runs here)\n  command: bin/mailer "
			       "--fast\n  size: mini (memory 512Mi");
	captured_free(&c);

	/* the main app's command when given */
	o.job = NULL;
	o.command = NULL;
	o.argv = main_argv;
	c = run_check(&o, OUT_TABLE);
	assert_contains(c.out, "\nweb\n  kind: main (runs here)\n  command: bundle exec "
			       "puma\n  size: mini (memory");
	captured_free(&c);
	opts_free(&o);
}

static void test_check_json(void **state)
{
	struct options o = opts(full_yaml, NULL);
	struct captured c;
	char want[PATH_MAX + 32];

	(void)state;
	o.argv = no_env;
	c = run_check(&o, OUT_JSON);
	assert_int_equal(c.rc, 0);
	assert_json(c.out);
	snprintf(want, sizeof(want), "{\"config\":\"%s\",\"valid\":true,\"jobs\":[{", o.config);
	assert_int_equal(strncmp(c.out, want, strlen(want)), 0);
	assert_contains(c.out, "{\"name\":\"web\",\"kind\":\"main\",\"selected\":true,"
			       "\"command\":null,\"size\":{\"name\":\"mini\"");
	assert_contains(c.out, "\"name\":\"sidekiq\",\"kind\":\"worker\"");
	assert_contains(c.out, "\"memory_bytes\":1073741824,\"cpu_millis\":500");
	assert_contains(c.out, "\"name\":\"release\",\"kind\":\"deploy\",\"selected\":false,"
			       "\"command\":\"bin/migrate\",\"retries\":3,\"timeout\":\"10m\","
			       "\"timeout_ms\":600000");
	assert_contains(c.out, "\"schedule\":\"0 3 * * *\"");
	captured_free(&c);

	/* no file: config is null, the main app alone */
	opts_free(&o);
	o = opts(NULL, NULL);
	o.argv = main_argv;
	c = run_check(&o, OUT_JSON);
	assert_int_equal(c.rc, 0);
	assert_json(c.out);
	assert_contains(c.out, "{\"config\":null,\"valid\":true,\"jobs\":[{\"name\":\"web\"");
	assert_contains(c.out, "\"argv\":[\"bundle\",\"exec\",\"puma\"]");
	/* no size anywhere: none, and no limits or cgroup (SPEC §6) */
	assert_contains(c.out, "\"size\":null,\"rlimits\":{},\"cgroup\":null,");
	assert_null(strstr(c.out, "\"worker\""));
	captured_free(&c);
}

/* A report that cannot be written fails the check (exit 1) and says why;
 * an invalid configuration stays exit 2. */
static void test_check_output_error(void **state)
{
	static const enum output_format formats[] = {OUT_TABLE, OUT_JSON};
	struct options o = opts(full_yaml, NULL);
	struct captured c;

	(void)state;
	o.argv = no_env;
	o.argc = 0;
	for (size_t i = 0; i < 2; i++) {
		FILE *full = fopen("/dev/full", "w");

		assert_non_null(full);
		c = run_check_on(&o, formats[i], full);
		fclose(full);
		assert_int_equal(c.rc, EXIT_CHECK_OUTPUT);
		assert_string_equal(c.err, "jobshim check: unable to write the output: No space "
					   "left on device\n");
		captured_free(&c);
	}
	opts_free(&o);

	o = opts(broken_yaml, NULL);
	o.argv = no_env;
	FILE *full = fopen("/dev/full", "w");
	assert_non_null(full);
	c = run_check_on(&o, OUT_JSON, full);
	fclose(full);
	assert_int_equal(c.rc, EXIT_CHECK_INVALID);
	assert_contains(c.err, "unknown size \"huge\"");
	assert_contains(c.err, "jobshim check: unable to write the output: No space left on "
			       "device\n");
	captured_free(&c);
	opts_free(&o);
}

static void test_check_invalid(void **state)
{
	struct options o = opts(broken_yaml, NULL);
	struct captured c;
	char want[2 * PATH_MAX + 400];

	(void)state;
	o.argv = no_env;
	c = run_check(&o, OUT_TABLE);
	assert_int_equal(c.rc, 2);
	assert_string_equal(c.out, "");
	snprintf(want, sizeof(want),
		 "jobshim: %s:8:11: workerJobs[0].size: unknown size \"huge\" (expected micro, "
		 "mini, standard-1, standard-2, standard-4)\n"
		 "jobshim: %s:9:1: bogus: unknown key (allowed: size, env, workerJobs, deployJob, "
		 "scheduledJobs, port, replicas, enableBasicAuth, healthProbe)\n",
		 o.config, o.config);
	assert_string_equal(c.err, want);
	captured_free(&c);

	c = run_check(&o, OUT_JSON);
	assert_int_equal(c.rc, 2);
	assert_json(c.out);
	assert_contains(c.out, ",\"valid\":false,\"errors\":[\"");
	assert_contains(c.out, "unknown size \\\"huge\\\"");
	assert_contains(c.out, "bogus: unknown key");
	captured_free(&c);
	opts_free(&o);

	/* errors of every layer at once: option, file, selection */
	o = opts("workerJobs: 1\n", "nope");
	o.caps = "BOGUS";
	c = run_check(&o, OUT_TABLE);
	assert_int_equal(c.rc, 2);
	assert_contains(c.err, "jobshim: caps: unknown capability \"BOGUS\"");
	assert_contains(c.err, ":1:13: workerJobs: expected a list, found a scalar\n");
	captured_free(&c);
	opts_free(&o);

	/* an unknown job, and a named file that does not exist */
	o = opts(full_yaml, "nope");
	c = run_check(&o, OUT_TABLE);
	assert_int_equal(c.rc, 2);
	assert_string_equal(c.err, "jobshim: unknown job \"nope\" (known jobs: sidekiq, mailer, "
				   "release, nightly, @all, @cron)\n");
	captured_free(&c);
	opts_free(&o);

	o = opts(NULL, NULL);
	o.config_explicit = true;
	c = run_check(&o, OUT_TABLE);
	assert_int_equal(c.rc, 2);
	assert_string_equal(c.err, "jobshim: unable to read /nonexistent/.deploio.yaml: No such "
				   "file or directory\n");
	captured_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_main_size_layers),
	    cmocka_unit_test(test_worker_size_layers),
	    cmocka_unit_test(test_worker_command),
	    cmocka_unit_test(test_launcher),
	    cmocka_unit_test(test_env_merge),
	    cmocka_unit_test(test_unknown_job),
	    cmocka_unit_test(test_env_only_job),
	    cmocka_unit_test(test_broken_file),
	    cmocka_unit_test(test_missing_explicit_file),
	    cmocka_unit_test(test_default_file),
	    cmocka_unit_test(test_all_mode),
	    cmocka_unit_test(test_oneshot_plans),
	    cmocka_unit_test(test_options),
	    cmocka_unit_test(test_json_checker),
	    cmocka_unit_test(test_check_table),
	    cmocka_unit_test(test_check_json),
	    cmocka_unit_test(test_check_invalid),
	    cmocka_unit_test(test_check_output_error),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

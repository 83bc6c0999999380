/* What runs: the layers (defaults < .deploio.yaml < environment < flags)
 * resolved into one plan per job (SPEC §2, §3). Pure apart from reading
 * the configuration file. */
#ifndef JOBSHIM_PLAN_H
#define JOBSHIM_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "bounds.h"
#include "cron.h"
#include "errlist.h"
#include "options.h"
#include "sandbox.h"
#include "sizes.h"

/* JOB_DEPLOY and JOB_SCHEDULED are one-shot jobs (SPEC §4): attempts, not
 * restarts. */
enum job_kind { JOB_MAIN, JOB_WORKER, JOB_DEPLOY, JOB_SCHEDULED };

/* Owned by its run_plan: command, argv, envp and schedule are freed by
 * plan_free; size is static, sandbox's strings are the options' and
 * job_name is this plan's name (not owned). */
struct job_plan {
	char name[JOB_NAME_MAX + 1]; /* main app: "web" */
	enum job_kind kind;
	char *command;		      /* worker: its command string; main: NULL */
	char **argv;		      /* what is executed, NULL-terminated: main: the CLI
				       * command; worker: /bin/sh -c CMD, or
				       * /cnb/lifecycle/launcher CMD when that exists */
	char **envp;		      /* the job's environment: the container's, plus the
				       * config's env entries the container lacks */
	const struct size_spec *size; /* NULL: no layer names one: no limits */
	struct sandbox_opts sandbox;
	/* one-shot jobs */
	unsigned attempts;	 /* 1 + retries */
	uint64_t timeout_ms;	 /* each attempt's limit */
	char *schedule;		 /* scheduled: as written; else NULL */
	struct cron_sched sched; /* scheduled: parsed */
};

/* Owns jobs, config_path and job_names: plan_free. */
struct run_plan {
	struct job_plan *jobs; /* main app first (when it runs), then workers,
				* the deploy job, the scheduled jobs */
	size_t n_jobs;
	bool all_mode;	   /* JOBSHIM_JOB=@all */
	bool cron_mode;	   /* JOBSHIM_JOB=@cron: the scheduled jobs */
	bool oneshot;	   /* JOBSHIM_JOB names a deploy or scheduled job: one run */
	char *config_path; /* the file that was read, or NULL */
	char **job_names;  /* every name JOBSHIM_JOB accepts (workers, deploy job,
			    * scheduled jobs in file order, @all, @cron), for
			    * messages; NULL-terminated */
};

/* Builds the plan for o (o->job selects main / a job / @all / @cron) from the
 * configuration file and env (the container's environment). Errors are appended to errs with SPEC
 * §1's "file:line:col: field: message" form. Returns 0; -EINVAL when the configuration is invalid
 * and a worker or @all was asked for (main app: configuration errors become warnings in errs and
 * the plan is still built, return 0 with errs->n > 0); -ENOENT for an unknown
 * job (errs says which names exist); -ENOMEM. */
int plan_build(const struct options *o, char *const *env, struct run_plan *out,
	       struct errlist *errs);
void plan_free(struct run_plan *p);

/* `jobshim check` (SPEC §9): validates and prints every job of the
 * configuration (main app, workers, deploy and scheduled jobs) with its
 * command, size, limits, cgroup settings, seccomp profile, capabilities and
 * user; o->output selects table or JSON. Returns the exit status: 0 valid,
 * 2 with every error printed to stderr. */
int plan_check(const struct options *o, char *const *env, FILE *out);
/* plan_check with the error stream given (tests). */
int plan_check_to(const struct options *o, char *const *env, FILE *out, FILE *err);

#endif

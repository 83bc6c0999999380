/* What runs: the layers (defaults < .deploio.yaml < environment < flags)
 * resolved into one plan per job (SPEC §2, §3). Pure apart from reading
 * the configuration file. */
#ifndef JOBSHIM_PLAN_H
#define JOBSHIM_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <limits.h>
#include <stdint.h>

#include "bounds.h"
#include "cron.h"
#include "err.h"
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

/* ----------------------------------------------------------------- check */

#define CHECK_NEXT_TIMES 3

/* One job as `jobshim check` (SPEC §9) shows it. The strings point into the
 * report (its configuration) or into the options it was built from. */
struct plan_report_job {
	const char *name;
	const char *kind;	      /* "main", "worker", "deploy", "scheduled" */
	bool selected;		      /* runs in this environment */
	const char *command;	      /* a job's command; NULL for the main app */
	char *const *argv;	      /* the main app's command; NULL: the image's CMD */
	const struct size_spec *size; /* NULL: none */
	struct sandbox_opts sandbox;  /* what its sandbox would be prepared from */
	/* one-shot jobs (deploy, scheduled) */
	bool oneshot;
	const char *schedule; /* as written, or NULL */
	int retries;
	bool retries_default;
	uint64_t timeout_ms;
	const char *timeout_from; /* "the default", "--timeout", NULL: the file */
	/* a schedule that parses: whether Deploio accepts it, the next times */
	bool scheduled;
	const char *extension;		/* the extension it uses, NULL: none */
	bool with_seconds;		/* its times have seconds */
	int64_t next[CHECK_NEXT_TIMES]; /* unix seconds; -1 from the first that does not come */
};

struct plan_layers;

/* What `jobshim check` reports. Owns the configuration its strings point
 * into (layers) and errors; plan_report_free releases them. */
struct plan_report {
	bool valid;
	const char *config_path;  /* the file read (or named and unreadable), or NULL */
	struct errlist errors;	  /* !valid: every error, SPEC §1's form */
	char zone[PATH_MAX + 32]; /* the schedules' zone (TZ), described */
	struct plan_report_job jobs[PLAN_JOBS_MAX + 1];
	size_t n_jobs; /* 0 when !valid */
	struct plan_layers *layers;
};

/* Validates every layer for o (env: the container's environment) and, when
 * all are valid, describes every job of the configuration (main app,
 * workers, deploy and scheduled jobs) as a run would start it. Returns 0
 * (r->valid tells), or -ENOMEM (r->errors then says "out of memory" and
 * r->valid is false). o must outlive r. */
int plan_report_build(const struct options *o, char *const *env, struct plan_report *r);
void plan_report_free(struct plan_report *r);

#endif

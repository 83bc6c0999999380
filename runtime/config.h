/* .deploio.yaml (SPEC §3) parsed and validated into plain structs. Pure:
 * config_parse works on a string; config_load only adds reading the file.
 * This is the only file that sees libyaml. */
#ifndef JOBSHIM_CONFIG_H
#define JOBSHIM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bounds.h"
#include "err.h"
#include "sizes.h"

/* Owned by the struct config holding it (config_free frees the strings). */
struct config_env {
	char *name;
	char *value; /* "" when absent */
	bool sensitive;
};

enum config_job_kind { CONFIG_WORKER, CONFIG_DEPLOY, CONFIG_SCHEDULED };

/* Owned by the struct config holding it: name, command and schedule are
 * freed by config_free; size points into the static size table. */
struct config_job {
	enum config_job_kind kind;
	char *name;
	char *command;
	const struct size_spec *size; /* NULL when absent */
	char *schedule;		      /* scheduled jobs only, else NULL */
	int retries;		      /* -1 when absent */
	uint64_t timeout_ms;	      /* 0 when absent */
	unsigned line, col;	      /* where the job's mapping starts */
};

/* Owns path, env and jobs with their strings: config_free. */
struct config {
	char *path;		      /* the filename given to config_parse */
	const struct size_spec *size; /* the main app's; NULL when absent */
	unsigned size_line, size_col;
	struct config_env *env;
	size_t n_env;
	struct config_job *jobs; /* workers in file order, then deploy, then scheduled */
	size_t n_jobs;
};

/* Parses and validates text (len bytes, need not be NUL-terminated).
 * Every error is appended to errs as "FILE:LINE:COL: field.path: message"
 * (1-based). Returns 0 when valid; -EINVAL when not (out then still holds
 * the parts that validated: a valid size, valid env entries, valid jobs; and
 * nothing after a YAML syntax error); -ENOMEM. out is always initialised
 * and must be released with config_free. */
int config_parse(const char *text, size_t len, const char *filename, struct config *out,
		 struct errlist *errs);

/* Reads path (at most CONFIG_FILE_MAX bytes) and parses it. A file that
 * cannot be read gives its -errno (-ENOENT when missing) and a message. */
int config_load(const char *path, struct config *out, struct errlist *errs);

void config_free(struct config *c);

/* Name checks shared with plan.c (a job defined by the environment alone). */
bool config_valid_job_name(const char *s, size_t len);
bool config_valid_env_name(const char *s, size_t len);

const char *config_kind_name(enum config_job_kind k); /* "worker", "deploy", "scheduled" */

#endif

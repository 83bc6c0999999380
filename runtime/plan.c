/* The layers (built-in defaults < .deploio.yaml < environment < flags)
 * resolved into one job_plan per job. The shim has already merged the
 * environment and the flags into struct options (a flag wins), so here the
 * options are laid over the file, and the file over the defaults. */
#include "plan.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "cron.h"
#include "log.h"
#include "namelist.h"
#include "shcmd.h"

/* How much of an unknown job name a message repeats. */
#define JOB_SHOWN_MAX 128

#define LAUNCHER_DEFAULT "/cnb/lifecycle/launcher"
#define CONFIG_DEFAULT	 ".deploio.yaml"
#define MAIN_NAME	 "web"

/* MODE_JOB: one named job (a worker, or a one-shot run of the deploy job
 * or of a scheduled job). */
enum mode { MODE_MAIN, MODE_JOB, MODE_ALL, MODE_CRON };

static enum mode mode_of(const struct options *o)
{
	if (o->job == NULL || o->job[0] == '\0')
		return MODE_MAIN;
	if (strcmp(o->job, "@all") == 0)
		return MODE_ALL;
	return strcmp(o->job, "@cron") == 0 ? MODE_CRON : MODE_JOB;
}

/* An empty JOBSHIM_COMMAND counts as unset, like an empty JOBSHIM_JOB. */
static const char *command_override(const struct options *o)
{
	return o->command != NULL && o->command[0] != '\0' ? o->command : NULL;
}

/* A NULL-terminated vector and its strings in one allocation, released
 * with one free(). Every job's environment is a copy of the container's
 * whole environment: as one block it costs one malloc at start-up, not one
 * a variable. */
struct strv_pack {
	char **v;
	char *at; /* where the next string goes */
	size_t n;
};

/* Room for count strings of bytes in all (their NULs included). */
static int strv_pack_new(struct strv_pack *p, size_t count, size_t bytes)
{
	p->v = malloc((count + 1) * sizeof(char *) + bytes);
	if (p->v == NULL)
		return -ENOMEM;
	p->at = (char *)(p->v + count + 1);
	p->n = 0;
	p->v[0] = NULL;
	return 0;
}

/* Appends the string a b c (b and c may be ""), within the room
 * strv_pack_new was given. */
static void strv_pack_add(struct strv_pack *p, const char *a, const char *b, const char *c)
{
	const char *part[] = {a, b, c};

	p->v[p->n++] = p->at;
	p->v[p->n] = NULL;
	for (size_t i = 0; i < 3; i++) {
		size_t len = strlen(part[i]);

		memcpy(p->at, part[i], len);
		p->at += len;
	}
	*p->at++ = '\0';
}

/* A copy of the strings of src, NULL-terminated, in one allocation. */
static char **strv_dup(char *const *src)
{
	struct strv_pack p;
	size_t count = 0, bytes = 0;

	for (; src != NULL && src[count] != NULL; count++)
		bytes += strlen(src[count]) + 1;
	if (strv_pack_new(&p, count, bytes) < 0)
		return NULL;
	for (size_t i = 0; i < count; i++)
		strv_pack_add(&p, src[i], "", "");
	return p.v;
}

static bool env_has(char *const *env, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; env != NULL && env[i] != NULL; i++)
		if (strncmp(env[i], name, len) == 0 && env[i][len] == '=')
			return true;
	return false;
}

/* The container's environment plus the configuration's entries it lacks:
 * the container's own environment wins (SPEC §3). One allocation. */
static char **envp_build(char *const *env, const struct config *c)
{
	struct strv_pack p;
	size_t n = 0, bytes = 0;

	for (; env != NULL && env[n] != NULL; n++)
		bytes += strlen(env[n]) + 1;
	for (size_t i = 0; i < c->n_env; i++)
		if (!env_has(env, c->env[i].name))
			bytes += strlen(c->env[i].name) + 1 + strlen(c->env[i].value) + 1;
	if (strv_pack_new(&p, n + c->n_env, bytes) < 0)
		return NULL;
	for (size_t k = 0; k < n; k++)
		strv_pack_add(&p, env[k], "", "");
	for (size_t i = 0; i < c->n_env; i++) {
		if (env_has(env, c->env[i].name))
			continue;
		strv_pack_add(&p, c->env[i].name, "=", c->env[i].value);
	}
	return p.v;
}

/* /bin/sh -c CMD; a simple command as `exec CMD`, so that the shell
 * replaces itself and the app is the main process: its signals and its
 * status are its own (SPEC §5). Compound commands keep the shell. */
static char **worker_argv(const struct options *o, const char *command)
{
	const char *launcher_path = o->launcher != NULL ? o->launcher : LAUNCHER_DEFAULT;
	char *const launcher[] = {(char *)launcher_path, (char *)command, NULL};
	const char *exec = shcmd_is_simple(command) ? "exec " : "";
	struct strv_pack p;

	/* Buildpack images set up their environment through the launcher,
	 * which takes a process type or a command and execs it itself. */
	if (access(launcher_path, X_OK) == 0)
		return strv_dup(launcher);
	if (strv_pack_new(
		&p, 3, sizeof("/bin/sh") + sizeof("-c") + strlen(exec) + strlen(command) + 1) < 0)
		return NULL;
	strv_pack_add(&p, "/bin/sh", "", "");
	strv_pack_add(&p, "-c", "", "");
	strv_pack_add(&p, exec, command, "");
	return p.v;
}

static bool want_dns_label(struct errlist *errs, const char *name)
{
	if (config_valid_job_name(name, strlen(name)))
		return true;
	errlist_add(errs,
		    "job: \"%s\" is not a valid job name (lowercase letters, digits and '-', "
		    "starting and ending with a letter or digit, at most %d characters)",
		    name, JOB_NAME_MAX);
	return false;
}

/* The sandbox the options give a job (name and size borrowed). */
static struct sandbox_opts sandbox_opts_of(const struct options *o, const char *name,
					   const struct size_spec *size)
{
	return (struct sandbox_opts){
	    .job_name = name,
	    .size = size,
	    .seccomp = o->seccomp,
	    .caps = o->caps != NULL ? o->caps : "default",
	    .user = o->user,
	    .rlimits = o->rlimits,
	    .cgroup_root = o->cgroup_root,
	};
}

/* Syntax of the options that do not depend on the configuration. */
static int options_validate(const struct options *o, struct errlist *errs)
{
	struct sandbox_opts so = sandbox_opts_of(o, MAIN_NAME, NULL);

	/* --size and --seccomp are already parsed (shim/cli.c). */
	return sandbox_validate(&so, errs);
}

/* Reads the configuration file (the named one, or ./.deploio.yaml when it
 * exists). *have is false when there is no file to read. Returns
 * config_load's status; errors go to errs. */
static int config_read(const struct options *o, struct config *c, bool *have, struct errlist *errs)
{
	const char *path = o->config != NULL ? o->config : CONFIG_DEFAULT;
	int r;

	memset(c, 0, sizeof(*c));
	*have = false;
	if (!o->config_explicit && access(path, F_OK) < 0 && errno == ENOENT)
		return 0;
	r = config_load(path, c, errs);
	*have = r != -ENOENT;
	if (c->path == NULL && r != -ENOMEM) {
		/* Unreadable: remember the name for messages and `check`. */
		c->path = strdup(path);
		if (c->path == NULL)
			return -ENOMEM;
	}
	return r;
}

static const struct config_job *config_find(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->n_jobs; i++)
		if (strcmp(c->jobs[i].name, name) == 0)
			return &c->jobs[i];
	return NULL;
}

/* The configuration's job names (workers, deploy job, scheduled jobs), then
 * extra, then @all and @cron when with_modes. */
static int names_build(const struct config *c, const char *extra, bool with_modes, char ***out)
{
	size_t n = 0;
	char *names[PLAN_JOBS_MAX + 3];

	for (size_t i = 0; i < c->n_jobs && n < PLAN_JOBS_MAX; i++)
		names[n++] = c->jobs[i].name;
	if (extra != NULL)
		names[n++] = (char *)extra;
	if (with_modes) {
		names[n++] = "@all";
		names[n++] = "@cron";
	}
	names[n] = NULL;
	*out = strv_dup(names);
	return *out != NULL ? 0 : -ENOMEM;
}

/* The message is one struct err (ERR_MSG_MAX bytes): the names that fit are
 * listed and the rest counted, so that a long list is never cut in the
 * middle of a name and @all and @cron are always named. */
static void unknown_job(struct errlist *errs, const char *name, char **known)
{
	static const char tail[] = ", @all, @cron)";
	char list[ERR_MSG_MAX];
	struct namelist l;
	int head;

	if (known[0] == NULL) {
		errlist_add(errs, "unknown job \"%s\" (no jobs are configured)", name);
		return;
	}
	head = snprintf(NULL, 0, "unknown job \"%.*s...\" (known jobs: ", JOB_SHOWN_MAX, name);
	/* what the list may take: all but the head and the tail */
	namelist_init(&l, list, ERR_MSG_MAX - (size_t)(head > 0 ? head : 0) - sizeof(tail));
	for (size_t i = 0; known[i] != NULL; i++)
		namelist_add(&l, known[i]);
	errlist_add(errs, "unknown job \"%.*s%s\" (known jobs: %s%s", JOB_SHOWN_MAX, name,
		    strlen(name) > JOB_SHOWN_MAX ? "..." : "", namelist_end(&l), tail);
}

static size_t count_kind(const struct config *c, enum config_job_kind k)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n_jobs; i++)
		n += c->jobs[i].kind == k;
	return n;
}

static const char *env_value(char *const *env, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; env != NULL && env[i] != NULL; i++)
		if (strncmp(env[i], name, len) == 0 && env[i][len] == '=')
			return env[i] + len + 1;
	return NULL;
}

/* One job's plan. j takes argv (NULL: -ENOMEM) and owns it and whatever it
 * filled, on failure too: the caller counts j in n_jobs, so plan_free frees
 * them; job_fill itself frees nothing. */
static int job_fill(struct job_plan *j, const char *name, enum job_kind kind, const char *command,
		    char **argv, char *const *env, const struct config *c,
		    const struct size_spec *size, const struct options *o)
{
	memset(j, 0, sizeof(*j));
	snprintf(j->name, sizeof(j->name), "%s", name);
	j->kind = kind;
	j->argv = argv;
	if (argv == NULL)
		return -ENOMEM;
	if (command != NULL) {
		j->command = strdup(command);
		if (j->command == NULL)
			return -ENOMEM;
	}
	j->envp = envp_build(env, c);
	if (j->envp == NULL)
		return -ENOMEM;
	j->size = size; /* NULL: no layer names one, no limits (SPEC §6) */
	j->sandbox = sandbox_opts_of(o, j->name, j->size);
	return 0;
}

/* A deploy or scheduled job's run: attempts, timeout, schedule. */
static int oneshot_fill(struct job_plan *j, const struct config_job *cj, const struct options *o)
{
	j->kind = cj->kind == CONFIG_DEPLOY ? JOB_DEPLOY : JOB_SCHEDULED;
	j->attempts = 1 + (unsigned)(cj->retries > 0 ? cj->retries : 0);
	j->timeout_ms = o->timeout_ms > 0    ? o->timeout_ms
			: cj->timeout_ms > 0 ? cj->timeout_ms
					     : TIMEOUT_DEFAULT_MS;
	if (cj->schedule == NULL)
		return 0;
	j->schedule = strdup(cj->schedule);
	if (j->schedule == NULL)
		return -ENOMEM;
	/* Validated with the file already. */
	return cron_parse(cj->schedule, &j->sched, NULL);
}

/* The selection the configuration and options describe, without building
 * argv/envp: shared by plan_build and plan_check. */
struct selection {
	enum mode mode;
	const struct config_job *worker;  /* MODE_JOB: from the file (any kind), or NULL */
	const char *env_worker;		  /* MODE_JOB: a worker defined by the environment */
	const char *command;		  /* MODE_JOB: the command that runs */
	bool with_main;			  /* MODE_MAIN, or MODE_ALL with a command */
	bool schedules;			  /* scheduled jobs run on their schedules */
	const struct size_spec *app_size; /* the file's size: the deploy job's default */
};

/* Decides what runs; configuration errors are in errs already.
 * checking: `jobshim check`, where the main app's command may be absent. */
static int select_jobs(const struct options *o, const struct config *c, bool have_cfg, int cfg_rc,
		       char **known, bool checking, struct selection *s, struct errlist *errs)
{
	bool has_argv = o->argv != NULL && o->argv[0] != NULL;

	memset(s, 0, sizeof(*s));
	s->mode = mode_of(o);
	s->app_size = c->size;
	switch (s->mode) {
	case MODE_MAIN:
		if (!has_argv && !checking) {
			errlist_add(errs, "no command to run (jobshim [OPTIONS] [--] COMMAND "
					  "[ARG...])");
			return -EINVAL;
		}
		s->with_main = true;
		return 0; /* configuration errors are only warnings here */
	case MODE_ALL:
	case MODE_CRON:
		if (cfg_rc < 0)
			return cfg_rc == -ENOMEM ? -ENOMEM : -EINVAL;
		if (!have_cfg) {
			errlist_add(errs, "job: %s needs a configuration file (%s, or --config)",
				    o->job, CONFIG_DEFAULT);
			return -EINVAL;
		}
		if (command_override(o) != NULL) {
			errlist_add(errs,
				    "command: --command/JOBSHIM_COMMAND selects one job's "
				    "command; it cannot be used with %s",
				    o->job);
			return -EINVAL;
		}
		s->schedules = count_kind(c, CONFIG_SCHEDULED) > 0;
		if (s->mode == MODE_CRON) {
			if (!s->schedules && !checking) {
				errlist_add(errs,
					    "nothing to run: @cron runs scheduledJobs, and %s "
					    "has none",
					    c->path);
				return -EINVAL;
			}
			return 0;
		}
		s->with_main = has_argv || checking;
		if (!has_argv && !checking && count_kind(c, CONFIG_WORKER) == 0 && !s->schedules &&
		    count_kind(c, CONFIG_DEPLOY) == 0) {
			errlist_add(errs, "nothing to run: no command and no jobs in %s", c->path);
			return -EINVAL;
		}
		return 0;
	case MODE_JOB:
		break;
	}
	if (cfg_rc < 0)
		return cfg_rc == -ENOMEM ? -ENOMEM : -EINVAL;
	s->worker = config_find(c, o->job);
	if (s->worker != NULL) {
		s->command = command_override(o) ? command_override(o) : s->worker->command;
		return 0;
	}
	if (command_override(o) == NULL) {
		unknown_job(errs, o->job, known);
		return -ENOENT;
	}
	/* JOBSHIM_JOB=NAME JOBSHIM_COMMAND=CMD: a worker defined by the
	 * environment alone. */
	if (!want_dns_label(errs, o->job))
		return -EINVAL;
	if (strcmp(o->job, MAIN_NAME) == 0) {
		errlist_add(errs, "job: \"web\" is the main app's name; choose another for a "
				  "worker");
		return -EINVAL;
	}
	s->env_worker = o->job;
	s->command = command_override(o);
	return 0;
}

static const struct size_spec *main_size(const struct options *o, const struct config *c,
					 enum mode mode)
{
	/* --size is the selected job's: the main app's unless a named job runs. */
	if (o->size != NULL && mode != MODE_JOB && mode != MODE_CRON)
		return o->size;
	return c->size;
}

static const struct size_spec *worker_size(const struct options *o, const struct config_job *j,
					   const struct selection *s)
{
	bool selected = (s->mode == MODE_JOB && (j == NULL || j == s->worker)) ||
			(s->mode == MODE_CRON && j != NULL && j->kind == CONFIG_SCHEDULED);

	if (o->size != NULL && selected)
		return o->size;
	if (j != NULL && j->size == NULL && j->kind == CONFIG_DEPLOY)
		return s->app_size; /* the deploy job runs with the app's size */
	return j != NULL ? j->size : NULL;
}

/* Everything before the jobs are built: options, file, selection. */
struct plan_layers {
	struct config cfg;
	bool have_cfg;
	int cfg_rc;
	char **known;
	struct selection sel;
};

/* Local times come from TZ (SPEC §4): an unknown zone is a configuration
 * error wherever a schedule is computed. */
static int zone_validate(char *const *env, struct errlist *errs)
{
	struct err err;

	if (cron_zone_check(env_value(env, "TZ"), &err) == 0)
		return 0;
	errlist_push(errs, &err);
	return -EINVAL;
}

static int layers_load(const struct options *o, char *const *env, bool checking,
		       struct plan_layers *l, struct errlist *errs)
{
	int r, r_sel;

	/* Every layer is looked at even when an earlier one failed: `check`
	 * reports all errors, not only the first. */
	memset(l, 0, sizeof(*l));
	r = options_validate(o, errs);
	l->cfg_rc = config_read(o, &l->cfg, &l->have_cfg, errs);
	if (l->cfg_rc == -ENOMEM)
		return -ENOMEM;
	if (names_build(&l->cfg, NULL, false, &l->known) < 0)
		return -ENOMEM;
	r_sel = select_jobs(o, &l->cfg, l->have_cfg, l->cfg_rc, l->known, checking, &l->sel, errs);
	if ((l->sel.schedules || (checking && count_kind(&l->cfg, CONFIG_SCHEDULED) > 0)) &&
	    zone_validate(env, errs) < 0 && r == 0)
		r = -EINVAL;
	return r_sel == -ENOMEM || r == 0 ? r_sel : r;
}

static void layers_free(struct plan_layers *l)
{
	config_free(&l->cfg);
	free(l->known);
	l->known = NULL;
}

int plan_build(const struct options *o, char *const *env, struct run_plan *out,
	       struct errlist *errs)
{
	struct plan_layers l;
	const struct selection *s = &l.sel;
	size_t n = 0, max;
	int r;

	memset(out, 0, sizeof(*out));
	r = layers_load(o, env, false, &l, errs);
	if (r < 0)
		goto out;
	out->all_mode = s->mode == MODE_ALL;
	out->cron_mode = s->mode == MODE_CRON;
	out->oneshot = s->mode == MODE_JOB && s->worker != NULL && s->worker->kind != CONFIG_WORKER;
	if (l.cfg.path != NULL && l.have_cfg) {
		out->config_path = strdup(l.cfg.path);
		if (out->config_path == NULL) {
			r = -ENOMEM;
			goto out;
		}
	}
	r = names_build(&l.cfg, s->env_worker, true, &out->job_names);
	if (r < 0)
		goto out;
	/* Room for what the selection runs, not for PLAN_JOBS_MAX: the main
	 * app alone needs one entry, not 16 KiB of zeroed pages. */
	max = s->with_main + (s->mode == MODE_JOB) +
	      (s->mode == MODE_ALL || s->mode == MODE_CRON ? l.cfg.n_jobs : 0);
	if (max > PLAN_JOBS_MAX)
		max = PLAN_JOBS_MAX;
	out->jobs = calloc(max > 0 ? max : 1, sizeof(*out->jobs));
	if (out->jobs == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if (s->with_main) {
		r = job_fill(&out->jobs[n++], MAIN_NAME, JOB_MAIN, NULL, strv_dup(o->argv), env,
			     &l.cfg, main_size(o, &l.cfg, s->mode), o);
		out->n_jobs = n;
		if (r < 0)
			goto out;
	}
	if (s->mode == MODE_JOB) {
		const char *name = s->worker != NULL ? s->worker->name : s->env_worker;

		r = job_fill(&out->jobs[n++], name, JOB_WORKER, s->command,
			     worker_argv(o, s->command), env, &l.cfg, worker_size(o, s->worker, s),
			     o);
		out->n_jobs = n;
		if (r == 0 && s->worker != NULL && s->worker->kind != CONFIG_WORKER)
			r = oneshot_fill(&out->jobs[n - 1], s->worker, o);
		if (r < 0)
			goto out;
	}
	/* @all: workers, the deploy job, the scheduled jobs; @cron: the
	 * scheduled jobs. The file lists them in that order. */
	for (size_t i = 0;
	     (s->mode == MODE_ALL || s->mode == MODE_CRON) && i < l.cfg.n_jobs && n < max; i++) {
		const struct config_job *j = &l.cfg.jobs[i];

		if (s->mode == MODE_CRON && j->kind != CONFIG_SCHEDULED)
			continue;
		r = job_fill(&out->jobs[n++], j->name, JOB_WORKER, j->command,
			     worker_argv(o, j->command), env, &l.cfg, worker_size(o, j, s), o);
		out->n_jobs = n;
		if (r == 0 && j->kind != CONFIG_WORKER)
			r = oneshot_fill(&out->jobs[n - 1], j, o);
		if (r < 0)
			goto out;
	}
out:
	layers_free(&l);
	if (r < 0)
		plan_free(out);
	return r;
}

void plan_free(struct run_plan *p)
{
	for (size_t i = 0; p->jobs != NULL && i < p->n_jobs; i++) {
		free(p->jobs[i].command);
		free(p->jobs[i].schedule);
		free(p->jobs[i].argv);
		free(p->jobs[i].envp);
	}
	free(p->jobs);
	free(p->config_path);
	free(p->job_names);
	memset(p, 0, sizeof(*p));
}

/* ----------------------------------------------------------------- check */

/* A one-shot job's run: retries, timeout, and for a scheduled job whether
 * Deploio accepts its schedule and its next times. */
static void oneshot_report(struct plan_report *r, struct plan_report_job *j,
			   const struct config_job *cj, const struct options *o)
{
	struct cron_sched sched;
	int64_t t = (int64_t)time(NULL);

	j->oneshot = true;
	j->schedule = cj->schedule;
	j->retries = cj->retries >= 0 ? cj->retries : 0;
	j->retries_default = cj->retries < 0;
	j->timeout_ms = cj->timeout_ms;
	if (o->timeout_ms > 0 && j->selected) {
		j->timeout_ms = o->timeout_ms;
		j->timeout_from = "--timeout";
	} else if (j->timeout_ms == 0) {
		j->timeout_ms = TIMEOUT_DEFAULT_MS;
		j->timeout_from = "the default";
	}
	for (int i = 0; i < CHECK_NEXT_TIMES; i++)
		j->next[i] = -1;
	if (cj->schedule == NULL || cron_parse(cj->schedule, &sched, NULL) < 0)
		return;
	j->scheduled = true;
	j->extension = cron_extension(&sched);
	j->with_seconds = sched.seconds || sched.every_s > 0;
	if (r->zone[0] == '\0')
		cron_zone_describe(getenv("TZ"), r->zone, sizeof(r->zone));
	/* @every counts from now, as if the schedules started now. */
	for (int64_t anchor = t, i = 0; i < CHECK_NEXT_TIMES; i++) {
		t = t >= 0 ? cron_next(&sched, anchor, t) : -1;
		j->next[i] = t;
	}
}

static void report_jobs(struct plan_report *r, const struct options *o, const struct plan_layers *l)
{
	const struct selection *s = &l->sel;
	const size_t max = sizeof(r->jobs) / sizeof(r->jobs[0]);
	struct plan_report_job *j;
	size_t n = 0;

	j = &r->jobs[n++];
	j->name = MAIN_NAME;
	j->kind = "main";
	/* In @all the main app runs too: with the command given, or the
	 * image's CMD (`check` is run without it). */
	j->selected = s->mode != MODE_JOB && s->mode != MODE_CRON;
	j->argv = o->argv != NULL && o->argv[0] != NULL ? o->argv : NULL;
	j->size = main_size(o, &l->cfg, s->mode);
	j->sandbox = sandbox_opts_of(o, j->name, j->size);
	for (size_t i = 0; i < l->cfg.n_jobs && n < max - 1; i++) {
		const struct config_job *cj = &l->cfg.jobs[i];

		j = &r->jobs[n++];
		j->name = cj->name;
		j->kind = config_kind_name(cj->kind);
		j->selected = s->mode == MODE_ALL || (s->mode == MODE_JOB && cj == s->worker) ||
			      (s->mode == MODE_CRON && cj->kind == CONFIG_SCHEDULED);
		j->command = cj == s->worker ? s->command : cj->command;
		j->size = worker_size(o, cj, s);
		j->sandbox = sandbox_opts_of(o, j->name, j->size);
		if (cj->kind != CONFIG_WORKER)
			oneshot_report(r, j, cj, o);
	}
	if (s->env_worker != NULL) {
		j = &r->jobs[n++];
		j->name = s->env_worker;
		j->kind = "worker";
		j->selected = true;
		j->command = s->command;
		j->size = worker_size(o, NULL, s);
		j->sandbox = sandbox_opts_of(o, j->name, j->size);
	}
	r->n_jobs = n;
}

/* A worker's command is one argument of execve (after "exec "): a longer
 * one than ARG_STRLEN_MAX fails with E2BIG at every start, check says so. */
static void check_arg_lengths(const struct plan_layers *l, const struct options *o,
			      struct errlist *errs)
{
	static const char *const field[] = {"workerJobs", "deployJob", "scheduledJobs"};
	size_t index[3] = {0, 0, 0}, limit = ARG_STRLEN_MAX - sizeof("exec ");
	const char *cmd = command_override(o);

	if (cmd != NULL && strlen(cmd) > limit)
		errlist_add(errs,
			    "command: too long: %zu bytes (the kernel takes at most %zu in "
			    "one argument)",
			    strlen(cmd), limit);
	for (size_t i = 0; l->have_cfg && i < l->cfg.n_jobs; i++) {
		const struct config_job *j = &l->cfg.jobs[i];
		unsigned k = j->kind == CONFIG_WORKER ? 0 : j->kind == CONFIG_DEPLOY ? 1 : 2;
		size_t at = index[k]++;
		if (j->command == NULL || strlen(j->command) <= limit)
			continue;
		if (k == 1)
			errlist_add(errs,
				    "%s:%u:%u: %s.command: too long: %zu bytes (the kernel takes "
				    "at most %zu in one argument)",
				    l->cfg.path, j->line, j->col, field[k], strlen(j->command),
				    limit);
		else
			errlist_add(errs,
				    "%s:%u:%u: %s[%zu].command: too long: %zu bytes (the kernel "
				    "takes at most %zu in one argument)",
				    l->cfg.path, j->line, j->col, field[k], at, strlen(j->command),
				    limit);
	}
}

int plan_report_build(const struct options *o, char *const *env, struct plan_report *r)
{
	struct plan_layers *l;
	int rc;

	memset(r, 0, sizeof(*r));
	l = calloc(1, sizeof(*l));
	if (l == NULL) {
		errlist_add(&r->errors, "out of memory");
		return -ENOMEM;
	}
	r->layers = l;
	rc = layers_load(o, env, true, l, &r->errors);
	if (rc != -ENOMEM)
		check_arg_lengths(l, o, &r->errors);
	if (rc == 0 && r->errors.n == 0 && r->errors.dropped == 0) {
		r->valid = true;
		r->config_path = l->have_cfg ? l->cfg.path : NULL;
		report_jobs(r, o, l);
		return 0;
	}
	if (l->have_cfg || (o->config_explicit && l->cfg.path != NULL))
		r->config_path = l->cfg.path;
	if (rc == -ENOMEM) {
		errlist_add(&r->errors, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

void plan_report_free(struct plan_report *r)
{
	if (r->layers != NULL) {
		layers_free(r->layers);
		free(r->layers);
	}
	memset(r, 0, sizeof(*r));
}

/* The layers (built-in defaults < .deploio.yaml < environment < flags)
 * resolved into one job_plan per job. The shim has already merged the
 * environment and the flags into struct options (a flag wins), so here the
 * options are laid over the file, and the file over the defaults. */
#include "plan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "shcmd.h"

#define LAUNCHER_DEFAULT "/cnb/lifecycle/launcher"
#define CONFIG_DEFAULT	 ".deploio.yaml"
#define MAIN_NAME	 "web"

static const char *launcher_path = LAUNCHER_DEFAULT;

void plan_set_launcher_path(const char *path)
{
	launcher_path = path != NULL ? path : LAUNCHER_DEFAULT;
}

enum mode { MODE_MAIN, MODE_WORKER, MODE_ALL };

static enum mode mode_of(const struct options *o)
{
	if (o->job == NULL || o->job[0] == '\0')
		return MODE_MAIN;
	return strcmp(o->job, "@all") == 0 ? MODE_ALL : MODE_WORKER;
}

/* An empty JOBSHIM_COMMAND counts as unset, like an empty JOBSHIM_JOB. */
static const char *command_override(const struct options *o)
{
	return o->command != NULL && o->command[0] != '\0' ? o->command : NULL;
}

static void strv_free(char **v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* A deep copy of the first n strings of src (all of them when n is
 * SIZE_MAX), NULL-terminated. */
static char **strv_dup(char *const *src, size_t n)
{
	size_t count = 0;
	char **v;

	while (src != NULL && count < n && src[count] != NULL)
		count++;
	v = calloc(count + 1, sizeof(*v));
	if (v == NULL)
		return NULL;
	for (size_t i = 0; i < count; i++) {
		v[i] = strdup(src[i]);
		if (v[i] == NULL) {
			strv_free(v);
			return NULL;
		}
	}
	return v;
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
 * the container's own environment wins (SPEC §3). */
static char **envp_build(char *const *env, const struct config *c)
{
	size_t n = 0, k;
	char **v;

	while (env != NULL && env[n] != NULL)
		n++;
	v = calloc(n + c->n_env + 1, sizeof(*v));
	if (v == NULL)
		return NULL;
	for (k = 0; k < n; k++) {
		v[k] = strdup(env[k]);
		if (v[k] == NULL)
			goto fail;
	}
	for (size_t i = 0; i < c->n_env; i++) {
		if (env_has(env, c->env[i].name))
			continue;
		if (asprintf(&v[k], "%s=%s", c->env[i].name, c->env[i].value) < 0) {
			v[k] = NULL;
			goto fail;
		}
		k++;
	}
	return v;
fail:
	strv_free(v);
	return NULL;
}

/* /bin/sh -c CMD; a simple command as `exec CMD`, so that the shell
 * replaces itself and the app is the main process: its signals and its
 * status are its own (SPEC §5). Compound commands keep the shell. */
static char **worker_argv(const char *command)
{
	char *const launcher[] = {(char *)launcher_path, (char *)command, NULL};
	char *sh[] = {"/bin/sh", "-c", (char *)command, NULL}, *exec_cmd = NULL, **v;

	/* Buildpack images set up their environment through the launcher,
	 * which takes a process type or a command and execs it itself. */
	if (access(launcher_path, X_OK) == 0)
		return strv_dup(launcher, SIZE_MAX);
	if (shcmd_is_simple(command)) {
		if (asprintf(&exec_cmd, "exec %s", command) < 0)
			return NULL;
		sh[2] = exec_cmd;
	}
	v = strv_dup(sh, SIZE_MAX);
	free(exec_cmd);
	return v;
}

static void copy_errors(struct errlist *dst, const struct errlist *src)
{
	for (size_t i = 0; i < src->n; i++)
		errlist_add(dst, "%s", src->msg[i]);
	dst->dropped += src->dropped;
}

static bool want_dns_label(struct errlist *errs, const char *name)
{
	if (config_valid_job_name(name, strlen(name)))
		return true;
	errlist_add(errs,
		    "job: \"%s\" is not a valid job name (lowercase letters, digits and '-', "
		    "starting and ending with a letter or digit, at most 63 characters)",
		    name);
	return false;
}

/* Syntax of the options that do not depend on the configuration. */
static int options_validate(const struct options *o, struct errlist *errs)
{
	struct sandbox_opts so = {
	    .job_name = MAIN_NAME,
	    .seccomp = o->seccomp != NULL ? o->seccomp : "default",
	    .caps = o->caps != NULL ? o->caps : "default",
	    .user = o->user,
	    .rlimits = o->rlimits,
	    .cgroup_root = o->cgroup_root,
	};
	int r = 0;

	if (o->size != NULL && size_lookup(o->size) == NULL) {
		errlist_add(errs, "size: unknown size \"%s\" (expected %s)", o->size, size_names());
		r = -EINVAL;
	}
	if (sandbox_validate(&so, errs) < 0)
		r = -EINVAL;
	return r;
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

static int names_build(const struct config *c, const char *extra, char ***out)
{
	size_t n = 0;
	char *names[WORKERS_MAX + 2];

	for (size_t i = 0; i < c->n_jobs && n < WORKERS_MAX; i++)
		if (c->jobs[i].kind == CONFIG_WORKER)
			names[n++] = c->jobs[i].name;
	if (extra != NULL)
		names[n++] = (char *)extra;
	names[n] = NULL;
	*out = strv_dup(names, SIZE_MAX);
	return *out != NULL ? 0 : -ENOMEM;
}

static void unknown_job(struct errlist *errs, const char *name, char **known)
{
	char list[WORKERS_MAX * (JOB_NAME_MAX + 2) + 1] = "";

	if (known[0] == NULL) {
		errlist_add(errs, "unknown job \"%s\" (no jobs are configured)", name);
		return;
	}
	for (size_t i = 0; known[i] != NULL; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
			 known[i]);
	errlist_add(errs, "unknown job \"%s\" (known jobs: %s)", name, list);
}

/* One job's plan. argv is taken over (freed on failure). */
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
	j->sandbox = (struct sandbox_opts){
	    .job_name = j->name,
	    .size = j->size,
	    .seccomp = o->seccomp != NULL ? o->seccomp : "default",
	    .caps = o->caps != NULL ? o->caps : "default",
	    .user = o->user,
	    .rlimits = o->rlimits,
	    .cgroup_root = o->cgroup_root,
	};
	return 0;
}

/* The selection the configuration and options describe, without building
 * argv/envp: shared by plan_build and plan_check. */
struct selection {
	enum mode mode;
	const struct config_job *worker; /* MODE_WORKER: from the file, or NULL */
	const char *env_worker;		 /* MODE_WORKER: defined by the environment */
	const char *command;		 /* MODE_WORKER: the command that runs */
	bool with_main;			 /* MODE_MAIN, or MODE_ALL with a command */
};

/* Decides what runs; configuration errors are in errs already.
 * checking: `jobshim check`, where the main app's command may be absent. */
static int select_jobs(const struct options *o, const struct config *c, bool have_cfg, int cfg_rc,
		       char **known, bool checking, struct selection *s, struct errlist *errs)
{
	bool has_argv = o->argv != NULL && o->argv[0] != NULL;

	memset(s, 0, sizeof(*s));
	s->mode = mode_of(o);
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
		if (cfg_rc < 0)
			return cfg_rc == -ENOMEM ? -ENOMEM : -EINVAL;
		if (!have_cfg) {
			errlist_add(errs, "job: @all needs a configuration file (%s, or --config)",
				    CONFIG_DEFAULT);
			return -EINVAL;
		}
		if (command_override(o) != NULL) {
			errlist_add(errs, "command: --command/JOBSHIM_COMMAND selects one worker's "
					  "command; it cannot be used with @all");
			return -EINVAL;
		}
		s->with_main = has_argv || checking;
		if (!has_argv && !checking && known[0] == NULL) {
			errlist_add(errs, "nothing to run: no command and no workerJobs in %s",
				    c->path);
			return -EINVAL;
		}
		return 0;
	case MODE_WORKER:
		break;
	}
	if (cfg_rc < 0)
		return cfg_rc == -ENOMEM ? -ENOMEM : -EINVAL;
	s->worker = config_find(c, o->job);
	if (s->worker != NULL && s->worker->kind != CONFIG_WORKER) {
		errlist_add(errs, "job: %s is a %s job; jobshim runs only workerJobs", o->job,
			    config_kind_name(s->worker->kind));
		return -ENOENT;
	}
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
	/* --size is the selected job's: the main app's unless a worker runs. */
	if (o->size != NULL && mode != MODE_WORKER)
		return size_lookup(o->size);
	return c->size;
}

static const struct size_spec *worker_size(const struct options *o, const struct config_job *j,
					   const struct selection *s)
{
	bool selected = s->mode == MODE_WORKER && (j == NULL || j == s->worker);

	if (o->size != NULL && selected)
		return size_lookup(o->size);
	return j != NULL ? j->size : NULL;
}

/* Everything before the jobs are built: options, file, selection. */
struct layers {
	struct config cfg;
	bool have_cfg;
	int cfg_rc;
	char **known;
	struct selection sel;
};

static int layers_load(const struct options *o, bool checking, struct layers *l,
		       struct errlist *errs)
{
	struct errlist cerrs = {0};
	int r, r_sel;

	/* Every layer is looked at even when an earlier one failed: `check`
	 * reports all errors, not only the first. */
	memset(l, 0, sizeof(*l));
	r = options_validate(o, errs);
	l->cfg_rc = config_read(o, &l->cfg, &l->have_cfg, &cerrs);
	copy_errors(errs, &cerrs);
	errlist_free(&cerrs);
	if (l->cfg_rc == -ENOMEM)
		return -ENOMEM;
	if (names_build(&l->cfg, NULL, &l->known) < 0)
		return -ENOMEM;
	r_sel = select_jobs(o, &l->cfg, l->have_cfg, l->cfg_rc, l->known, checking, &l->sel, errs);
	return r_sel == -ENOMEM || r == 0 ? r_sel : r;
}

static void layers_free(struct layers *l)
{
	config_free(&l->cfg);
	strv_free(l->known);
	l->known = NULL;
}

int plan_build(const struct options *o, char *const *env, struct run_plan *out,
	       struct errlist *errs)
{
	struct layers l;
	const struct selection *s = &l.sel;
	size_t n = 0, max;
	int r;

	memset(out, 0, sizeof(*out));
	r = layers_load(o, false, &l, errs);
	if (r < 0)
		goto out;
	out->all_mode = s->mode == MODE_ALL;
	if (l.cfg.path != NULL && l.have_cfg) {
		out->config_path = strdup(l.cfg.path);
		if (out->config_path == NULL) {
			r = -ENOMEM;
			goto out;
		}
	}
	r = names_build(&l.cfg, s->env_worker, &out->job_names);
	if (r < 0)
		goto out;
	max = 1 + WORKERS_MAX;
	out->jobs = calloc(max, sizeof(*out->jobs));
	if (out->jobs == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if (s->with_main) {
		r = job_fill(&out->jobs[n++], MAIN_NAME, JOB_MAIN, NULL,
			     strv_dup(o->argv, SIZE_MAX), env, &l.cfg,
			     main_size(o, &l.cfg, s->mode), o);
		out->n_jobs = n;
		if (r < 0)
			goto out;
	}
	if (s->mode == MODE_WORKER) {
		const char *name = s->worker != NULL ? s->worker->name : s->env_worker;

		r = job_fill(&out->jobs[n++], name, JOB_WORKER, s->command, worker_argv(s->command),
			     env, &l.cfg, worker_size(o, s->worker, s), o);
		out->n_jobs = n;
		if (r < 0)
			goto out;
	}
	for (size_t i = 0; s->mode == MODE_ALL && i < l.cfg.n_jobs && n < max; i++) {
		const struct config_job *j = &l.cfg.jobs[i];

		if (j->kind != CONFIG_WORKER)
			continue;
		r = job_fill(&out->jobs[n++], j->name, JOB_WORKER, j->command,
			     worker_argv(j->command), env, &l.cfg, worker_size(o, j, s), o);
		out->n_jobs = n;
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
		strv_free(p->jobs[i].argv);
		strv_free(p->jobs[i].envp);
	}
	free(p->jobs);
	free(p->config_path);
	strv_free(p->job_names);
	memset(p, 0, sizeof(*p));
}

/* ----------------------------------------------------------------- check */

/* A JSON string literal, quotes included. */
static void json_str(FILE *f, const char *s)
{
	size_t len = strlen(s), need = json_escape(NULL, 0, s, len);
	char *buf = malloc(need + 1);

	if (buf == NULL) {
		fputs("\"\"", f);
		return;
	}
	json_escape(buf, need + 1, s, len);
	fprintf(f, "\"%s\"", buf);
	free(buf);
}

/* "256Mi", "1Gi" */
static void fmt_bytes(char *buf, size_t cap, uint64_t b)
{
	const uint64_t mi = 1024ULL * 1024ULL, gi = mi * 1024ULL;

	if (b % gi == 0)
		snprintf(buf, cap, "%lluGi", (unsigned long long)(b / gi));
	else
		snprintf(buf, cap, "%lluMi", (unsigned long long)(b / mi));
}

/* Go-style, as the file writes it: "30m", "1h30m", "90s" → "1m30s". */
static void fmt_duration(char *buf, size_t cap, uint64_t ms)
{
	uint64_t h = ms / 3600000, m = ms / 60000 % 60, sec = ms / 1000 % 60, rest = ms % 1000;
	size_t o = 0;

	buf[0] = '\0';
	if (h > 0)
		o += (size_t)snprintf(buf + o, cap - o, "%lluh", (unsigned long long)h);
	if (m > 0 && o < cap)
		o += (size_t)snprintf(buf + o, cap - o, "%llum", (unsigned long long)m);
	if ((sec > 0 || rest > 0) && o < cap) {
		if (rest > 0)
			o += (size_t)snprintf(buf + o, cap - o, "%llu.%03llus",
					      (unsigned long long)sec, (unsigned long long)rest);
		else
			o += (size_t)snprintf(buf + o, cap - o, "%llus", (unsigned long long)sec);
	}
	if (o == 0)
		snprintf(buf, cap, "0s");
}

/* What `check` shows of one job. */
struct check_job {
	const char *name;
	const char *kind; /* "main", "worker", "deploy", "scheduled" */
	bool selected;	  /* runs in this environment */
	const char *command;
	char **argv;		      /* main app's command; NULL for the image's CMD */
	const struct size_spec *size; /* NULL: none */
	const struct config_job *cj;  /* deploy and scheduled fields; may be NULL */
	const struct options *o;
};

static void describe_sandbox(FILE *out, const struct check_job *j, bool json)
{
	struct sandbox_opts so = {
	    .job_name = j->name,
	    .size = j->size,
	    .seccomp = j->o->seccomp != NULL ? j->o->seccomp : "default",
	    .caps = j->o->caps != NULL ? j->o->caps : "default",
	    .user = j->o->user,
	    .rlimits = j->o->rlimits,
	    .cgroup_root = j->o->cgroup_root,
	};
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);

	/* Through a buffer, so that the JSON comma is only written when
	 * sandbox_describe wrote members. */
	if (mem == NULL)
		return;
	sandbox_describe(&so, mem, json);
	fclose(mem);
	if (len > 0) {
		if (json)
			fputc(',', out);
		fwrite(buf, 1, len, out);
	}
	free(buf);
}

static void check_job_table(FILE *out, const struct check_job *j)
{
	char mem[32], dur[32];

	fprintf(out, "\n%s\n", j->name);
	fprintf(out, "  kind: %s%s\n", j->kind, j->selected ? " (runs here)" : "");
	if (j->command != NULL) {
		fprintf(out, "  command: %s\n", j->command);
	} else if (j->argv != NULL && j->argv[0] != NULL) {
		fputs("  command:", out);
		for (size_t i = 0; j->argv[i] != NULL; i++)
			fprintf(out, " %s", j->argv[i]);
		fputc('\n', out);
	} else {
		fputs("  command: (image CMD)\n", out);
	}
	if (j->cj != NULL && j->cj->schedule != NULL)
		fprintf(out, "  schedule: %s\n", j->cj->schedule);
	if (j->cj != NULL && j->cj->kind != CONFIG_WORKER) {
		if (j->cj->retries >= 0)
			fprintf(out, "  retries: %d\n", j->cj->retries);
		if (j->cj->timeout_ms > 0) {
			fmt_duration(dur, sizeof(dur), j->cj->timeout_ms);
			fprintf(out, "  timeout: %s\n", dur);
		}
	}
	if (j->size == NULL) {
		fputs("  size: none (jobshim changes no limit; the platform sizes the container)\n",
		      out);
	} else {
		fmt_bytes(mem, sizeof(mem), j->size->memory_bytes);
		fprintf(out, "  size: %s (memory %s, cpu %um, pids %u, nofile %u)\n", j->size->name,
			mem, j->size->cpu_millis, j->size->pids, j->size->nofile);
	}
	describe_sandbox(out, j, false);
}

static void check_job_json(FILE *out, const struct check_job *j, bool first)
{
	char dur[32];

	fputs(first ? "{" : ",{", out);
	fputs("\"name\":", out);
	json_str(out, j->name);
	fprintf(out, ",\"kind\":\"%s\",\"selected\":%s,\"command\":", j->kind,
		j->selected ? "true" : "false");
	if (j->command != NULL)
		json_str(out, j->command);
	else
		fputs("null", out);
	if (j->argv != NULL) {
		fputs(",\"argv\":[", out);
		for (size_t i = 0; j->argv[i] != NULL; i++) {
			if (i > 0)
				fputc(',', out);
			json_str(out, j->argv[i]);
		}
		fputc(']', out);
	}
	if (j->cj != NULL && j->cj->schedule != NULL) {
		fputs(",\"schedule\":", out);
		json_str(out, j->cj->schedule);
	}
	if (j->cj != NULL && j->cj->kind != CONFIG_WORKER) {
		if (j->cj->retries >= 0)
			fprintf(out, ",\"retries\":%d", j->cj->retries);
		else
			fputs(",\"retries\":null", out);
		if (j->cj->timeout_ms > 0) {
			fmt_duration(dur, sizeof(dur), j->cj->timeout_ms);
			fprintf(out, ",\"timeout\":\"%s\",\"timeout_ms\":%llu", dur,
				(unsigned long long)j->cj->timeout_ms);
		} else {
			fputs(",\"timeout\":null", out);
		}
	}
	if (j->size == NULL)
		fputs(",\"size\":null", out);
	else
		fprintf(out,
			",\"size\":{\"name\":\"%s\",\"memory_bytes\":%llu,"
			"\"cpu_millis\":%u,\"pids\":%u,\"nofile\":%u}",
			j->size->name, (unsigned long long)j->size->memory_bytes,
			j->size->cpu_millis, j->size->pids, j->size->nofile);
	describe_sandbox(out, j, true);
	fputc('}', out);
}

static void check_print(FILE *out, const struct options *o, const struct layers *l)
{
	const struct selection *s = &l->sel;
	struct check_job jobs[1 + WORKERS_MAX + 1 + 1 + 64];
	size_t n = 0;
	bool json = o->output == OUT_JSON;
	const struct size_spec *size;

	size = main_size(o, &l->cfg, s->mode);
	jobs[n++] = (struct check_job){
	    .name = MAIN_NAME,
	    .kind = "main",
	    /* In @all the main app runs too: with the command given, or the
	     * image's CMD (`check` is run without it). */
	    .selected = s->mode != MODE_WORKER,
	    .argv = o->argv != NULL && o->argv[0] != NULL ? o->argv : NULL,
	    .size = size,
	};
	for (size_t i = 0; i < l->cfg.n_jobs && n < sizeof(jobs) / sizeof(jobs[0]) - 1; i++) {
		const struct config_job *cj = &l->cfg.jobs[i];
		bool selected = s->mode == MODE_ALL || (s->mode == MODE_WORKER && cj == s->worker);

		size = cj->kind == CONFIG_WORKER ? worker_size(o, cj, s) : cj->size;
		if (cj->kind == CONFIG_DEPLOY)
			size = l->cfg.size; /* the deploy job runs with the app's size */
		jobs[n++] = (struct check_job){
		    .name = cj->name,
		    .kind = config_kind_name(cj->kind),
		    .selected = cj->kind == CONFIG_WORKER && selected,
		    .command = cj == s->worker ? s->command : cj->command,
		    .size = size,
		    .cj = cj,
		};
	}
	if (s->env_worker != NULL) {
		size = worker_size(o, NULL, s);
		jobs[n++] = (struct check_job){
		    .name = s->env_worker,
		    .kind = "worker",
		    .selected = true,
		    .command = s->command,
		    .size = size,
		};
	}
	for (size_t i = 0; i < n; i++)
		jobs[i].o = o;

	if (json) {
		fputs("{\"config\":", out);
		if (l->have_cfg)
			json_str(out, l->cfg.path);
		else
			fputs("null", out);
		fputs(",\"valid\":true,\"jobs\":[", out);
		for (size_t i = 0; i < n; i++)
			check_job_json(out, &jobs[i], i == 0);
		fputs("]}\n", out);
		return;
	}
	fprintf(out, "config: %s\n", l->have_cfg ? l->cfg.path : "(none)");
	fputs("valid: yes\n", out);
	for (size_t i = 0; i < n; i++)
		check_job_table(out, &jobs[i]);
}

/* The kernel takes at most MAX_ARG_STRLEN (32 pages) in one argument of
 * execve; a worker's command is one (after "exec "). A longer one fails
 * with E2BIG at every start: check says so. */
#define ARG_STRLEN_MAX 131072

static void check_arg_lengths(const struct layers *l, const struct options *o, struct errlist *errs)
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

int plan_check_to(const struct options *o, char *const *env, FILE *out, FILE *err)
{
	struct errlist errs = {0};
	struct layers l;
	int r;

	(void)env; /* the env entries do not change what check shows */
	r = layers_load(o, true, &l, &errs);
	if (r != -ENOMEM)
		check_arg_lengths(&l, o, &errs);
	if (r == 0 && errs.n == 0 && errs.dropped == 0) {
		check_print(out, o, &l);
		layers_free(&l);
		fflush(out);
		return 0;
	}
	if (r == -ENOMEM)
		errlist_add(&errs, "out of memory");
	for (size_t i = 0; i < errs.n; i++)
		fprintf(err, "jobshim: %s\n", errs.msg[i]);
	if (errs.dropped > 0)
		fprintf(err, "jobshim: ... and %zu more errors\n", errs.dropped);
	if (o->output == OUT_JSON) {
		fputs("{\"config\":", out);
		if (l.have_cfg || (o->config_explicit && l.cfg.path != NULL))
			json_str(out, l.cfg.path);
		else
			fputs("null", out);
		fputs(",\"valid\":false,\"errors\":[", out);
		for (size_t i = 0; i < errs.n; i++) {
			if (i > 0)
				fputc(',', out);
			json_str(out, errs.msg[i]);
		}
		fputs("]}\n", out);
	}
	fflush(out);
	fflush(err);
	layers_free(&l);
	errlist_free(&errs);
	return 2;
}

int plan_check(const struct options *o, char *const *env, FILE *out)
{
	return plan_check_to(o, env, out, stderr);
}

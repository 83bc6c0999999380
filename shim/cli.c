#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "duration.h"
#include "signame.h"
#include "sizes.h"

const char cli_usage[] =
    "usage: jobshim [OPTIONS] [--] COMMAND [ARG...]   run the main app or a worker job\n"
    "       jobshim check [OPTIONS] [-o table|json]  validate the configuration, print the plan\n"
    "       jobshim stats [--run-dir DIR] [-o table|json]  status of this container's jobs\n"
    "       jobshim restart [JOB] | reload | signal JOB SIG   operate the running jobshim\n"
    "       jobshim --version | --help\n"
    "\n"
    "options (environment twin in brackets; a flag wins over its variable):\n"
    "  --job NAME            [JOBSHIM_JOB]            job to run; @all: every job; @cron: the\n"
    "                                                 scheduled jobs on their schedules\n"
    "  --config FILE         [JOBSHIM_CONFIG]         default ./.deploio.yaml if it exists\n"
    "  --command CMD         [JOBSHIM_COMMAND]        override the worker's command\n"
    "  --size SIZE           [JOBSHIM_SIZE]           micro, mini, standard-1, standard-2, "
    "standard-4\n"
    "  --grace DUR           [JOBSHIM_GRACE]          stop signal to SIGKILL (8s)\n"
    "  --stop-signal SIG     [JOBSHIM_STOP_SIGNAL]    what a stop sends (the signal received)\n"
    "  --signal-group        [JOBSHIM_SIGNAL_GROUP=1] forward to the job's process group\n"
    "  --backoff-min DUR     [JOBSHIM_BACKOFF_MIN]    first restart delay (1s)\n"
    "  --backoff-max DUR     [JOBSHIM_BACKOFF_MAX]    restart delay cap (60s)\n"
    "  --backoff-reset DUR   [JOBSHIM_BACKOFF_RESET]  stable uptime that resets the delay (60s)\n"
    "  --timeout DUR         [JOBSHIM_TIMEOUT]        overrides the deploy/scheduled jobs' "
    "timeout\n"
    "  --seccomp PROFILE     [JOBSHIM_SECCOMP]        default, strict or off\n"
    "  --caps LIST           [JOBSHIM_CAPS]           default, none, or CAP,CAP,...\n"
    "  --user USER[:GROUP]   [JOBSHIM_USER]           run the job as this user\n"
    "  --rlimits LIST        [JOBSHIM_RLIMITS]        e.g. nofile=4096,core=0,as=2G\n"
    "  --log-format F        [JOBSHIM_LOG_FORMAT]     plain or json\n"
    "  --log-timestamps      [JOBSHIM_LOG_TIMESTAMPS=1]\n"
    "  --run-dir DIR         [JOBSHIM_RUN_DIR]        status, locks, control (/run/jobshim)\n"
    "  --watch-config        [JOBSHIM_WATCH_CONFIG=1] reload when the configuration changes\n"
    "  -v                    [JOBSHIM_VERBOSE=1]      more diagnostics\n"
    "\n"
    "exit status: the job's own; 128+N killed by signal N; 2 usage or configuration\n"
    "error; 125 sandbox/limits setup failed; 126/127 command not executable/not found;\n"
    "75 the job already runs under another jobshim in this container; 124 a deploy or\n"
    "scheduled job's last attempt timed out.\n";

/* One row per option that takes a value or is a switch. */
enum opt_kind { OPT_STR, OPT_DUR, OPT_BOOL };

struct opt_def {
	const char *flag; /* "--job" */
	const char *env;  /* "JOBSHIM_JOB" */
	enum opt_kind kind;
	size_t off; /* offsetof(struct options, field) */
};

#define OPT(f, e, k, field)                                                                        \
	{                                                                                          \
		f, e, k, offsetof(struct options, field)                                           \
	}

static const struct opt_def opt_table[] = {
    OPT("--job", "JOBSHIM_JOB", OPT_STR, job),
    OPT("--config", "JOBSHIM_CONFIG", OPT_STR, config),
    OPT("--command", "JOBSHIM_COMMAND", OPT_STR, command),
    OPT("--size", "JOBSHIM_SIZE", OPT_STR, size),
    OPT("--grace", "JOBSHIM_GRACE", OPT_DUR, grace_ms),
    OPT("--stop-signal", "JOBSHIM_STOP_SIGNAL", OPT_STR, stop_signal_name),
    OPT("--signal-group", "JOBSHIM_SIGNAL_GROUP", OPT_BOOL, signal_group),
    OPT("--backoff-min", "JOBSHIM_BACKOFF_MIN", OPT_DUR, backoff_min_ms),
    OPT("--backoff-max", "JOBSHIM_BACKOFF_MAX", OPT_DUR, backoff_max_ms),
    OPT("--backoff-reset", "JOBSHIM_BACKOFF_RESET", OPT_DUR, backoff_reset_ms),
    OPT("--timeout", "JOBSHIM_TIMEOUT", OPT_DUR, timeout_ms),
    OPT("--seccomp", "JOBSHIM_SECCOMP", OPT_STR, seccomp),
    OPT("--caps", "JOBSHIM_CAPS", OPT_STR, caps),
    OPT("--user", "JOBSHIM_USER", OPT_STR, user),
    OPT("--rlimits", "JOBSHIM_RLIMITS", OPT_STR, rlimits),
    OPT("--log-format", "JOBSHIM_LOG_FORMAT", OPT_STR, log_format_name),
    OPT("--log-timestamps", "JOBSHIM_LOG_TIMESTAMPS", OPT_BOOL, log_timestamps),
    OPT("--run-dir", "JOBSHIM_RUN_DIR", OPT_STR, run_dir),
    OPT("--watch-config", "JOBSHIM_WATCH_CONFIG", OPT_BOOL, watch_config),
    OPT("-v", "JOBSHIM_VERBOSE", OPT_BOOL, verbose_flag),
    OPT(NULL, "JOBSHIM_CGROUP_ROOT", OPT_STR, cgroup_root),
};

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static const char *env_get(char *const *envp, const char *name)
{
	size_t n = strlen(name);

	for (; envp != NULL && *envp != NULL; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

static int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"1", "true", "yes", "on"};
	static const char *const no[] = {"", "0", "false", "no", "off"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (strcmp(s, yes[i]) == 0)
			return *out = true, 0;
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (strcmp(s, no[i]) == 0)
			return *out = false, 0;
	return -EINVAL;
}

/* Stores one option's value; `who` names its source for messages. */
static int set_value(const struct opt_def *d, const char *who, const char *val, struct options *o,
		     char *err, size_t errlen)
{
	char *field = (char *)o + d->off;

	switch (d->kind) {
	case OPT_STR:
		*(const char **)field = val;
		return 0;
	case OPT_DUR:
		if (duration_parse(val, (uint64_t *)field) < 0)
			return fail(
			    err, errlen,
			    "%s: invalid duration \"%s\" (expected e.g. 500ms, 8s, 5m, 1h30m)", who,
			    val);
		return 0;
	case OPT_BOOL:
		if (parse_bool(val, (bool *)field) < 0)
			return fail(err, errlen, "%s: expected 1 or 0, not \"%s\"", who, val);
		return 0;
	}
	return -EINVAL;
}

static const struct opt_def *find_flag(const char *arg, size_t len)
{
	for (size_t i = 0; i < sizeof(opt_table) / sizeof(opt_table[0]); i++) {
		const char *f = opt_table[i].flag;
		if (f != NULL && strlen(f) == len && strncmp(f, arg, len) == 0)
			return &opt_table[i];
	}
	return NULL;
}

static void set_defaults(struct options *o)
{
	memset(o, 0, sizeof(*o));
	o->cmd = CMD_RUN;
	o->grace_ms = 8000;
	o->backoff_min_ms = 1000;
	o->backoff_max_ms = 60000;
	o->backoff_reset_ms = 60000;
	o->seccomp = "default";
	o->caps = "default";
	o->log_format_name = "plain";
}

static int apply_env(char *const *envp, struct options *o, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof(opt_table) / sizeof(opt_table[0]); i++) {
		const struct opt_def *d = &opt_table[i];
		const char *val = env_get(envp, d->env);
		int r;

		if (val == NULL)
			continue;
		/* An empty variable means "unset", for every option (a template
		 * renders JOBSHIM_GRACE= when it has no value; JOBSHIM_JOB= is
		 * the main app). */
		if (val[0] == '\0')
			continue;
		r = set_value(d, d->env, val, o, err, errlen);
		if (r < 0)
			return r;
		if (d->off == offsetof(struct options, config))
			o->config_explicit = true;
	}
	return 0;
}

/* Checks the values that have a closed set, once every layer is in. */
static int validate(struct options *o, char *err, size_t errlen)
{
	static const char *const profiles[] = {"default", "strict", "off"};
	bool known = false;

	/* An empty flag (--seccomp=) clears the field like an empty variable:
	 * back to the built-in default, not NULL. */
	if (o->log_format_name == NULL)
		o->log_format_name = "plain";
	if (o->seccomp == NULL)
		o->seccomp = "default";
	if (o->caps == NULL)
		o->caps = "default";
	if (strcmp(o->log_format_name, "plain") == 0)
		o->log_format = LOG_PLAIN;
	else if (strcmp(o->log_format_name, "json") == 0)
		o->log_format = LOG_JSON;
	else
		return fail(err, errlen, "log-format: unknown \"%s\" (expected plain or json)",
			    o->log_format_name);
	for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++)
		known = known || strcmp(o->seccomp, profiles[i]) == 0;
	if (!known)
		return fail(err, errlen,
			    "seccomp: unknown profile \"%s\" (expected default, strict or off)",
			    o->seccomp);
	if (o->size != NULL && size_lookup(o->size) == NULL)
		return fail(err, errlen, "size: unknown size \"%s\" (expected %s)", o->size,
			    size_names());
	if (o->backoff_min_ms == 0 || o->backoff_max_ms == 0)
		return fail(err, errlen, "backoff: the delays must be at least 1ms");
	if (o->backoff_min_ms > o->backoff_max_ms)
		return fail(
		    err, errlen, "backoff: --backoff-min (%llums) exceeds --backoff-max (%llums)",
		    (unsigned long long)o->backoff_min_ms, (unsigned long long)o->backoff_max_ms);
	o->stop_signal = 0;
	if (o->stop_signal_name != NULL) {
		o->stop_signal = signal_parse(o->stop_signal_name);
		if (o->stop_signal < 0)
			return fail(err, errlen,
				    "stop-signal: unknown signal \"%s\" (expected e.g. TERM, QUIT, "
				    "INT, 15)",
				    o->stop_signal_name);
	}
	o->verbose = o->verbose_flag ? 1 : 0;
	return 0;
}

static int parse_output(const char *val, struct options *o, char *err, size_t errlen)
{
	if (strcmp(val, "table") == 0)
		o->output = OUT_TABLE;
	else if (strcmp(val, "json") == 0)
		o->output = OUT_JSON;
	else
		return fail(err, errlen, "-o: unknown output \"%s\" (expected table or json)", val);
	return 0;
}

int options_parse(int argc, char **argv, char *const *envp, struct options *o, char *err,
		  size_t errlen)
{
	int i = 1, r;
	bool ctl;

	set_defaults(o);
	r = apply_env(envp, o, err, errlen);
	if (r < 0)
		return r;

	/* Subcommands only as the first argument: `jobshim -- check` runs a
	 * program called check. */
	if (argc > 1 && strcmp(argv[1], "check") == 0)
		o->cmd = CMD_CHECK, i = 2;
	else if (argc > 1 && strcmp(argv[1], "stats") == 0)
		o->cmd = CMD_STATS, i = 2;
	else if (argc > 1 && strcmp(argv[1], "restart") == 0)
		o->cmd = CMD_RESTART, i = 2;
	else if (argc > 1 && strcmp(argv[1], "signal") == 0)
		o->cmd = CMD_SIGNAL, i = 2;
	else if (argc > 1 && strcmp(argv[1], "reload") == 0)
		o->cmd = CMD_RELOAD, i = 2;
	ctl = o->cmd == CMD_RESTART || o->cmd == CMD_SIGNAL || o->cmd == CMD_RELOAD;

	for (; i < argc; i++) {
		const char *arg = argv[i], *eq, *val;
		const struct opt_def *d;
		size_t len;

		if (strcmp(arg, "--") == 0) {
			i++;
			break;
		}
		if ((arg[0] != '-' || arg[1] == '\0') && ctl) {
			/* restart JOB, signal JOB SIG: ctl.c checks the count. */
			if (o->ctl_argc > CTL_ARGS_MAX)
				return fail(err, errlen, "unexpected argument \"%s\"", arg);
			o->ctl_args[o->ctl_argc++] = arg;
			continue;
		}
		if (arg[0] != '-' || arg[1] == '\0')
			break; /* the command starts */
		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
			o->cmd = CMD_HELP;
			return 0;
		}
		if (strcmp(arg, "--version") == 0) {
			o->cmd = CMD_VERSION;
			return 0;
		}
		if (strcmp(arg, "-o") == 0 || strcmp(arg, "--output") == 0 ||
		    strncmp(arg, "--output=", 9) == 0) {
			if (o->cmd != CMD_CHECK && o->cmd != CMD_STATS)
				return fail(err, errlen, "%s: only for check and stats", arg);
			if (arg[1] == '-' && arg[8] == '=')
				val = arg + 9;
			else if (i + 1 < argc)
				val = argv[++i];
			else
				return fail(err, errlen, "%s: missing value", arg);
			r = parse_output(val, o, err, errlen);
			if (r < 0)
				return r;
			continue;
		}
		eq = strchr(arg, '=');
		len = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
		d = find_flag(arg, len);
		if (d == NULL)
			return fail(err, errlen, "unknown option \"%.*s\" (see jobshim --help)",
				    (int)len, arg);
		if (d->kind == OPT_BOOL) {
			if (eq != NULL)
				return fail(err, errlen, "%s takes no value", d->flag);
			*(bool *)((char *)o + d->off) = true;
			continue;
		}
		if (eq != NULL)
			val = eq + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		else
			return fail(err, errlen, "%s: missing value", d->flag);
		r = set_value(d, d->flag, val, o, err, errlen);
		if (r < 0)
			return r;
		/* --config= clears the variable's file: back to the optional default. */
		if (d->off == offsetof(struct options, config))
			o->config_explicit = val[0] != '\0';
		if (d->kind == OPT_STR && val[0] == '\0')
			*(const char **)((char *)o + d->off) = NULL;
	}
	if (o->cmd != CMD_RUN && i < argc)
		return fail(err, errlen, "unexpected argument \"%s\"", argv[i]);
	o->argv = argv + i;
	o->argc = argc - i;
	return validate(o, err, errlen);
}

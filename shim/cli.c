#include "cli.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "bounds.h"
#include "duration.h"
#include "signame.h"
#include "sigspec.h"
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
    "  --stop-delay DUR      [JOBSHIM_STOP_DELAY]     wait before sending the stop signal (0s)\n"
    "  --rewrite LIST        [JOBSHIM_REWRITE]        rewrite forwarded signals: TERM:INT,USR1:0\n"
    "                                                 (0 drops the signal)\n"
    "  --success-exit LIST   [JOBSHIM_SUCCESS_EXIT]   job exit codes reported as 0, e.g. 143\n"
    "  --pdeathsig SIG       [JOBSHIM_PDEATHSIG]      signal jobshim gets when its parent dies\n"
    "  -v, -vv               [JOBSHIM_VERBOSE=N]      1: diagnostics and reaped orphans;\n"
    "                                                 2: also every forwarded signal and\n"
    "                                                 each step of a job's state\n"
    "\n"
    "exit status: the job's own; 128+N killed by signal N; 2 usage or configuration\n"
    "error; 125 sandbox/limits setup failed; 126/127 command not executable/not found;\n"
    "75 the job already runs under another jobshim in this container; 124 a deploy or\n"
    "scheduled job's last attempt timed out.\n"
    "\n"
    "Run as tini, docker-init or dumb-init (a symlink or a copy), jobshim takes that\n"
    "tool's flags and variables (see `tini -h`, `dumb-init -h` under those names).\n";

const char cli_usage_tini[] =
    "usage: tini [-h] [-l] [-s] [-g] [-w] [-v...] [-e CODE]... [-p SIG] [--] COMMAND [ARG...]\n"
    "jobshim standing in for tini (SPEC §11); jobshim's own --options work too.\n"
    "  -s   become a child subreaper (also TINI_SUBREAPER set)\n"
    "  -g   forward signals to the job's process group (also TINI_KILL_PROCESS_GROUP set),\n"
    "       else to the job's main process only\n"
    "  -e CODE  report the job's exit code CODE as 0 (repeatable)\n"
    "  -p SIG   the signal jobshim gets when its parent dies (e.g. SIGUSR1)\n"
    "  -w   a line for each reaped orphan; -v more diagnostics (also TINI_VERBOSITY=N)\n"
    "  -l   version; -h this help\n";

const char cli_usage_dumb_init[] =
    "usage: dumb-init [-c] [-r S:R]... [-v] [--] COMMAND [ARG...]   (-h help, -V version)\n"
    "jobshim standing in for dumb-init (SPEC §11); jobshim's own --options work too.\n"
    "  -c, --single-child  signals to the job's main process only (also DUMB_INIT_SETSID=0);\n"
    "                      by default to its whole process group, and TSTP, TTIN and TTOU\n"
    "                      become STOP\n"
    "  -r, --rewrite S:R   forward signal S (1-31) as R (0 drops it); repeatable\n"
    "  -v, --verbose       diagnostics (also DUMB_INIT_DEBUG=1)\n";

/* One row per option that takes a value or is a switch. */
enum opt_kind {
	OPT_STR,     /* a const char * */
	OPT_DUR,     /* a uint64_t of milliseconds */
	OPT_BOOL,    /* a bool */
	OPT_COUNT,   /* an int, -v: each flag counts; the variable is a number */
	OPT_REWRITE, /* a struct sig_rewrite; lists add up, the later pair wins */
	OPT_EXITS,   /* a struct exit_set; lists add up */
	OPT_SIG,     /* an int signal number */
};

struct opt_def {
	const char *flag; /* "--job" */
	const char *env;  /* "JOBSHIM_JOB" */
	enum opt_kind kind;
	size_t off; /* of the member in struct cli, of the kind's type */
};

/* A row names its member once; MEMBER gives the member's offset only when
 * its type is T, else the build fails (no _Generic association matches).
 * Each kind's macro fixes T, so a row cannot point a kind at a member of
 * another type, and the accessors below may cast. */
#define MEMBER(T, m) _Generic(((struct cli *)0)->m, T : offsetof(struct cli, m))
#define ROW(f, e, kind, T, m)                                                                      \
	{                                                                                          \
		f, e, kind, MEMBER(T, m)                                                           \
	}
#define ROW_STR(f, e, m)     ROW(f, e, OPT_STR, const char *, m)
#define ROW_DUR(f, e, m)     ROW(f, e, OPT_DUR, uint64_t, m)
#define ROW_BOOL(f, e, m)    ROW(f, e, OPT_BOOL, bool, m)
#define ROW_COUNT(f, e, m)   ROW(f, e, OPT_COUNT, int, m)
#define ROW_REWRITE(f, e, m) ROW(f, e, OPT_REWRITE, struct sig_rewrite, m)
#define ROW_EXITS(f, e, m)   ROW(f, e, OPT_EXITS, struct exit_set, m)
#define ROW_SIG(f, e, m)     ROW(f, e, OPT_SIG, int, m)

static const struct opt_def opt_table[] = {
    ROW_STR("--job", "JOBSHIM_JOB", o.job),
    ROW_STR("--config", "JOBSHIM_CONFIG", o.config),
    ROW_STR("--command", "JOBSHIM_COMMAND", o.command),
    ROW_STR("--size", "JOBSHIM_SIZE", size_name),
    ROW_DUR("--grace", "JOBSHIM_GRACE", o.grace_ms),
    ROW_STR("--stop-signal", "JOBSHIM_STOP_SIGNAL", stop_signal_name),
    ROW_BOOL("--signal-group", "JOBSHIM_SIGNAL_GROUP", o.signal_group),
    ROW_DUR("--backoff-min", "JOBSHIM_BACKOFF_MIN", o.backoff_min_ms),
    ROW_DUR("--backoff-max", "JOBSHIM_BACKOFF_MAX", o.backoff_max_ms),
    ROW_DUR("--backoff-reset", "JOBSHIM_BACKOFF_RESET", o.backoff_reset_ms),
    ROW_DUR("--timeout", "JOBSHIM_TIMEOUT", o.timeout_ms),
    ROW_STR("--seccomp", "JOBSHIM_SECCOMP", seccomp_name),
    ROW_STR("--caps", "JOBSHIM_CAPS", o.caps),
    ROW_STR("--user", "JOBSHIM_USER", o.user),
    ROW_STR("--rlimits", "JOBSHIM_RLIMITS", o.rlimits),
    ROW_STR("--log-format", "JOBSHIM_LOG_FORMAT", log_format_name),
    ROW_BOOL("--log-timestamps", "JOBSHIM_LOG_TIMESTAMPS", o.log_timestamps),
    ROW_STR("--run-dir", "JOBSHIM_RUN_DIR", o.run_dir),
    ROW_BOOL("--watch-config", "JOBSHIM_WATCH_CONFIG", o.watch_config),
    ROW_DUR("--stop-delay", "JOBSHIM_STOP_DELAY", o.stop_delay_ms),
    ROW_REWRITE("--rewrite", "JOBSHIM_REWRITE", o.rewrite),
    ROW_EXITS("--success-exit", "JOBSHIM_SUCCESS_EXIT", o.success_exit),
    ROW_SIG("--pdeathsig", "JOBSHIM_PDEATHSIG", o.pdeathsig),
    ROW_COUNT("-v", "JOBSHIM_VERBOSE", o.verbose),
    ROW_STR(NULL, "JOBSHIM_CGROUP_ROOT", o.cgroup_root),
};

#define CONFIG_OFF offsetof(struct cli, o.config)

/* The member a row writes, as its kind's type (the row macros checked it). */
static const char **str_at(struct cli *c, const struct opt_def *d)
{
	return (const char **)((char *)c + d->off);
}
static uint64_t *dur_at(struct cli *c, const struct opt_def *d)
{
	return (uint64_t *)((char *)c + d->off);
}
static bool *bool_at(struct cli *c, const struct opt_def *d)
{
	return (bool *)((char *)c + d->off);
}
static int *int_at(struct cli *c, const struct opt_def *d)
{
	return (int *)((char *)c + d->off);
}
static struct sig_rewrite *rewrite_at(struct cli *c, const struct opt_def *d)
{
	return (struct sig_rewrite *)((char *)c + d->off);
}
static struct exit_set *exits_at(struct cli *c, const struct opt_def *d)
{
	return (struct exit_set *)((char *)c + d->off);
}

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

/* A verbosity level: 0-9, or the switch words (true = 1). */
static int parse_level(const char *who, const char *val, int *out, char *err, size_t errlen)
{
	bool b;

	if (val[0] >= '0' && val[0] <= '9' && val[1] == '\0')
		return *out = val[0] - '0', 0;
	if (parse_bool(val, &b) == 0)
		return *out = b ? 1 : 0, 0;
	return fail(err, errlen, "%s: expected a level 0-9, not \"%s\"", who, val);
}

/* Stores one option's value; `who` names its source for messages. */
static int set_value(const struct opt_def *d, const char *who, const char *val, struct cli *c,
		     char *err, size_t errlen)
{
	struct err why;

	switch (d->kind) {
	case OPT_STR:
		*str_at(c, d) = val;
		return 0;
	case OPT_DUR:
		if (duration_parse(val, dur_at(c, d)) < 0)
			return fail(
			    err, errlen,
			    "%s: invalid duration \"%s\" (expected e.g. 500ms, 8s, 5m, 1h30m)", who,
			    val);
		return 0;
	case OPT_BOOL:
		if (parse_bool(val, bool_at(c, d)) < 0)
			return fail(err, errlen, "%s: expected 1 or 0, not \"%s\"", who, val);
		return 0;
	case OPT_COUNT:
		return parse_level(who, val, int_at(c, d), err, errlen);
	case OPT_REWRITE:
		if (sig_rewrite_parse(val, rewrite_at(c, d), &why) < 0)
			return fail(err, errlen, "%s: %s", who, why.msg);
		return 0;
	case OPT_EXITS:
		if (exit_set_parse(val, exits_at(c, d), &why) < 0)
			return fail(err, errlen, "%s: %s", who, why.msg);
		return 0;
	case OPT_SIG:
		if (sig_parse(val, false, int_at(c, d)) < 0)
			return fail(err, errlen,
				    "%s: unknown signal \"%s\" (expected a name like USR1 or "
				    "SIGUSR1, or 1-" BOUND_STR(SIGSPEC_MAX) ")",
				    who, val);
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

static void set_defaults(struct cli *c)
{
	struct options *o = &c->o;

	memset(c, 0, sizeof(*c));
	c->cmd = CMD_RUN;
	o->grace_ms = 8000;
	o->backoff_min_ms = 1000;
	o->backoff_max_ms = 60000;
	o->backoff_reset_ms = 60000;
	c->seccomp_name = "default";
	o->caps = "default";
	c->log_format_name = "plain";
	o->subreaper = -1;
	sig_rewrite_init(&o->rewrite);
}

/* Every option's variable starts with this: the table is looked up in the
 * variables that do, not in the whole environment once a row. */
#define ENV_PREFIX "JOBSHIM_"

static int apply_env(char *const *envp, struct cli *c, char *err, size_t errlen)
{
	char *ours[64 + 1];
	char *const *scan = ours;
	size_t n = 0;

	for (char *const *e = envp; e != NULL && *e != NULL; e++)
		if (strncmp(*e, ENV_PREFIX, sizeof(ENV_PREFIX) - 1) == 0) {
			if (n == sizeof(ours) / sizeof(ours[0]) - 1) {
				scan = envp; /* more than fit: the whole environment */
				break;
			}
			ours[n++] = *e;
		}
	ours[n] = NULL;
	for (size_t i = 0; i < sizeof(opt_table) / sizeof(opt_table[0]); i++) {
		const struct opt_def *d = &opt_table[i];
		const char *val = env_get(scan, d->env);
		int r;

		if (val == NULL)
			continue;
		/* An empty variable means "unset", for every option (a template
		 * renders JOBSHIM_GRACE= when it has no value; JOBSHIM_JOB= is
		 * the main app). */
		if (val[0] == '\0')
			continue;
		r = set_value(d, d->env, val, c, err, errlen);
		if (r < 0)
			return r;
		if (d->off == CONFIG_OFF)
			c->o.config_explicit = true;
	}
	return 0;
}

/* Checks the values that have a closed set, once every layer is in. */
static int validate(struct cli *c, char *err, size_t errlen)
{
	struct options *o = &c->o;

	/* An empty flag (--seccomp=) clears the field like an empty variable:
	 * back to the built-in default, not NULL. */
	if (c->log_format_name == NULL)
		c->log_format_name = "plain";
	if (c->seccomp_name == NULL)
		c->seccomp_name = "default";
	if (o->caps == NULL)
		o->caps = "default";
	if (strcmp(c->log_format_name, "plain") == 0)
		o->log_format = LOG_PLAIN;
	else if (strcmp(c->log_format_name, "json") == 0)
		o->log_format = LOG_JSON;
	else
		return fail(err, errlen, "log-format: unknown \"%s\" (expected plain or json)",
			    c->log_format_name);
	/* The one place the two are checked: runtime gets the parsed values. */
	if (seccomp_profile_parse(c->seccomp_name, &o->seccomp) < 0)
		return fail(err, errlen,
			    "seccomp: unknown profile \"%s\" (expected default, strict or off)",
			    c->seccomp_name);
	o->size = NULL;
	if (c->size_name != NULL && (o->size = size_lookup(c->size_name)) == NULL)
		return fail(err, errlen, "size: unknown size \"%s\" (expected %s)", c->size_name,
			    size_names());
	if (o->backoff_min_ms == 0 || o->backoff_max_ms == 0)
		return fail(err, errlen, "backoff: the delays must be at least 1ms");
	if (o->backoff_min_ms > o->backoff_max_ms)
		return fail(
		    err, errlen, "backoff: --backoff-min (%llums) exceeds --backoff-max (%llums)",
		    (unsigned long long)o->backoff_min_ms, (unsigned long long)o->backoff_max_ms);
	o->stop_signal = 0;
	if (c->stop_signal_name != NULL) {
		int any;

		o->stop_signal = signal_parse(c->stop_signal_name);
		/* KILL and STOP are signals, just not stop signals: say why. */
		if (o->stop_signal < 0 && sig_parse(c->stop_signal_name, false, &any) == 0 &&
		    (any == SIGKILL || any == SIGSTOP))
			return fail(
			    err, errlen,
			    any == SIGKILL
				? "stop-signal: \"%s\" is not allowed: a stop gives the job "
				  "the grace period to end, and jobshim sends SIGKILL itself "
				  "after it"
				: "stop-signal: \"%s\" is not allowed: SIGSTOP suspends the "
				  "job instead of stopping it",
			    c->stop_signal_name);
		if (o->stop_signal < 0)
			return fail(err, errlen,
				    "stop-signal: unknown signal \"%s\" (expected e.g. TERM, QUIT, "
				    "INT, 15)",
				    c->stop_signal_name);
	}
	if (c->verbose_flags > 0)
		o->verbose = c->verbose_flags > 9 ? 9 : c->verbose_flags;
	o->orphan_lines = o->verbose >= 1;
	return 0;
}

static int parse_output(const char *val, struct cli *c, char *err, size_t errlen)
{
	if (strcmp(val, "table") == 0)
		c->output = OUT_TABLE;
	else if (strcmp(val, "json") == 0)
		c->output = OUT_JSON;
	else
		return fail(err, errlen, "-o: unknown output \"%s\" (expected table or json)", val);
	return 0;
}

/* A flag of jobshim's own table at argv[*i] (its value may be the next
 * word): 1 when it was one, 0 when not, or -EINVAL. */
static int native_flag(int argc, char **argv, int *i, struct cli *c, char *err, size_t errlen)
{
	const char *arg = argv[*i], *eq, *val;
	const struct opt_def *d;
	size_t len;
	int r;

	/* -v, -vv, -vvv: the level. */
	if (arg[0] == '-' && arg[1] == 'v' && strspn(arg + 1, "v") == strlen(arg + 1)) {
		c->verbose_flags += (int)strlen(arg + 1);
		return 1;
	}
	eq = strchr(arg, '=');
	len = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
	d = find_flag(arg, len);
	if (d == NULL)
		return 0;
	if (d->kind == OPT_BOOL || d->kind == OPT_COUNT) {
		if (eq != NULL)
			return fail(err, errlen, "%s takes no value", d->flag);
		if (d->kind == OPT_COUNT)
			c->verbose_flags++;
		else
			*bool_at(c, d) = true;
		return 1;
	}
	if (eq != NULL)
		val = eq + 1;
	else if (*i + 1 < argc)
		val = argv[++*i];
	else
		return fail(err, errlen, "%s: missing value", d->flag);
	/* An empty value clears: strings back to their default, lists empty. */
	if (val[0] == '\0' && d->kind == OPT_REWRITE)
		sig_rewrite_init(rewrite_at(c, d));
	else if (val[0] == '\0' && d->kind == OPT_EXITS)
		memset(exits_at(c, d), 0, sizeof(struct exit_set));
	else if (val[0] == '\0' && d->kind == OPT_SIG)
		*int_at(c, d) = 0;
	else if ((r = set_value(d, d->flag, val, c, err, errlen)) < 0)
		return r;
	/* --config= clears the variable's file: back to the optional default. */
	if (d->off == CONFIG_OFF)
		c->o.config_explicit = val[0] != '\0';
	if (d->kind == OPT_STR && val[0] == '\0')
		*str_at(c, d) = NULL;
	return 1;
}

/* A persona's long option that is not its own: jobshim's (0), else an
 * error that points at that persona's help (-EINVAL). */
static int persona_long_flag(int argc, char **argv, int *i, struct cli *c, const char *persona,
			     char *err, size_t errlen)
{
	int r = native_flag(argc, argv, i, c, err, errlen);

	if (r < 0)
		return r;
	if (r == 0)
		return fail(err, errlen, "unknown option \"%s\" (see %s -h)", argv[*i], persona);
	return 0;
}

/* The words from argv[i] on are the command. */
static int finish(int argc, char **argv, int i, struct cli *c, char *err, size_t errlen)
{
	c->o.argv = argv + i;
	c->o.argc = argc - i;
	return validate(c, err, errlen);
}

/* The value of a short option: the rest of its word (-e143) or the next. */
static const char *short_value(int argc, char **argv, int *i, const char *c)
{
	if (c[1] != '\0')
		return c + 1;
	return *i + 1 < argc ? argv[++*i] : NULL;
}

/* ------------------------------------------------------------ tini */

/* tini's flags and variables with tini's defaults: signals to the main
 * process, no subreaper unless asked, the job gets the signal mask jobshim
 * was started with. Options end at the first word that is not one. */
static int parse_tini(int argc, char **argv, char *const *envp, struct cli *c, char *err,
		      size_t errlen)
{
	struct options *o = &c->o;
	const char *v;
	int verbosity = 1, i, r; /* tini's: 1 warnings, 2 info, 3 debug */
	bool warn_on_reap = false;

	o->subreaper = 0;
	o->keep_sigmask = true;
	if (env_get(envp, "TINI_SUBREAPER") != NULL)
		o->subreaper = 1;
	if (env_get(envp, "TINI_KILL_PROCESS_GROUP") != NULL)
		o->signal_group = true;
	if ((v = env_get(envp, "TINI_VERBOSITY")) != NULL &&
	    (r = parse_level("TINI_VERBOSITY", v, &verbosity, err, errlen)) < 0)
		return r;
	if (argc == 2 && strcmp(argv[1], "--version") == 0)
		return c->cmd = CMD_VERSION, 0;
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (strcmp(arg, "--") == 0) {
			i++;
			break;
		}
		if (arg[0] != '-' || arg[1] == '\0')
			break;
		if (arg[1] == '-') {
			if ((r = persona_long_flag(argc, argv, &i, c, "tini", err, errlen)) < 0)
				return r;
			continue;
		}
		for (const char *sh = arg + 1; *sh != '\0'; sh++) {
			const char *val;

			switch (*sh) {
			case 'h':
				return c->cmd = CMD_HELP, 0;
			case 'l':
				return c->cmd = CMD_VERSION, 0;
			case 's':
				o->subreaper = 1;
				continue;
			case 'g':
				o->signal_group = true;
				continue;
			case 'w':
				warn_on_reap = true;
				continue;
			case 'v':
				verbosity++;
				continue;
			case 'e':
			case 'p':
				break;
			default:
				return fail(err, errlen, "unknown option \"-%c\" (see tini -h)",
					    *sh);
			}
			val = short_value(argc, argv, &i, sh);
			if (val == NULL)
				return fail(err, errlen, "-%c: missing value", *sh);
			if (*sh == 'e' && (strspn(val, "0123456789") != strlen(val) ||
					   exit_set_parse(val, &o->success_exit, NULL) < 0))
				return fail(err, errlen, "-e: invalid exit code \"%s\" (0-255)",
					    val);
			if (*sh == 'p' && sig_parse(val, false, &o->pdeathsig) < 0)
				return fail(err, errlen, "-p: unknown signal \"%s\" (e.g. SIGUSR1)",
					    val);
			break; /* the value ended this word */
		}
	}
	r = finish(argc, argv, i, c, err, errlen);
	/* tini's levels onto jobshim's: its default (1, warnings) is jobshim's 0;
	 * orphans get a line only with -w, at a level that shows warnings. */
	o->verbose = verbosity >= 3 ? 2 : (verbosity >= 1 ? verbosity - 1 : 0);
	if (c->verbose_flags > o->verbose)
		o->verbose = c->verbose_flags;
	o->orphan_lines = warn_on_reap && verbosity >= 1;
	o->warn_no_reaping = verbosity >= 1;
	return r;
}

/* ------------------------------------------------------------ dumb-init */

/* dumb-init's -r S:R: numbers only, S 1-31, R 0-31. */
static int dumb_init_rewrite(const char *val, struct options *o, char *err, size_t errlen)
{
	size_t a = strspn(val, "0123456789"), b;
	int from = 0, to = 0;

	b = val[a] == ':' ? strspn(val + a + 1, "0123456789") : 0;
	if (a >= 1 && a <= 2 && b >= 1 && b <= 2 && val[a + 1 + b] == '\0') {
		for (size_t k = 0; k < a; k++)
			from = from * 10 + (val[k] - '0');
		for (size_t k = 0; k < b; k++)
			to = to * 10 + (val[a + 1 + k] - '0');
		if (from >= 1 && from <= 31 && to <= 31) {
			o->rewrite.to[from] = (int8_t)to;
			return 0;
		}
	}
	return fail(err, errlen,
		    "-r: invalid rewrite \"%s\" (expected S:R, signal numbers S 1-31 and R 0-31)",
		    val);
}

/* dumb-init's flags and variables with its defaults: signals to the job's
 * process group, where TSTP, TTIN and TTOU become STOP and also stop
 * jobshim (shell job control); -c or DUMB_INIT_SETSID=0 for the main
 * process only. jobshim exits as soon as the main process does. */
static int parse_dumb_init(int argc, char **argv, char *const *envp, struct cli *c, char *err,
			   size_t errlen)
{
	static const int tty_stops[] = {SIGTSTP, SIGTTIN, SIGTTOU};
	struct options *o = &c->o;
	const char *v;
	bool group = true, debug = false;
	int i, r;

	if ((v = env_get(envp, "DUMB_INIT_DEBUG")) != NULL && strcmp(v, "1") == 0)
		debug = true;
	if ((v = env_get(envp, "DUMB_INIT_SETSID")) != NULL && strcmp(v, "0") == 0)
		group = false;
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i], *val;

		if (strcmp(arg, "--") == 0) {
			i++;
			break;
		}
		if (arg[0] != '-' || arg[1] == '\0')
			break;
		if (arg[1] == '-') {
			if (strcmp(arg, "--help") == 0)
				return c->cmd = CMD_HELP, 0;
			if (strcmp(arg, "--version") == 0)
				return c->cmd = CMD_VERSION, 0;
			if (strcmp(arg, "--single-child") == 0) {
				group = false;
				continue;
			}
			if (strcmp(arg, "--verbose") == 0) {
				debug = true;
				continue;
			}
			if (strcmp(arg, "--rewrite") == 0 || strncmp(arg, "--rewrite=", 10) == 0) {
				val = arg[9] == '=' ? arg + 10 : (i + 1 < argc ? argv[++i] : NULL);
				if (val == NULL)
					return fail(err, errlen, "--rewrite: missing value");
				if ((r = dumb_init_rewrite(val, o, err, errlen)) < 0)
					return r;
				continue;
			}
			if ((r = persona_long_flag(argc, argv, &i, c, "dumb-init", err, errlen)) <
			    0)
				return r;
			continue;
		}
		for (const char *sh = arg + 1; *sh != '\0'; sh++) {
			if (*sh == 'h')
				return c->cmd = CMD_HELP, 0;
			if (*sh == 'V')
				return c->cmd = CMD_VERSION, 0;
			if (*sh == 'c' || *sh == 'v') {
				group = group && *sh != 'c';
				debug = debug || *sh == 'v';
				continue;
			}
			if (*sh != 'r')
				return fail(err, errlen,
					    "unknown option \"-%c\" (see dumb-init -h)", *sh);
			val = short_value(argc, argv, &i, sh);
			if (val == NULL)
				return fail(err, errlen, "-r: missing value");
			if ((r = dumb_init_rewrite(val, o, err, errlen)) < 0)
				return r;
			break;
		}
	}
	o->signal_group = group;
	o->term_leftovers = group;
	if (group)
		for (size_t k = 0; k < sizeof(tty_stops) / sizeof(tty_stops[0]); k++)
			if (o->rewrite.to[tty_stops[k]] < 0)
				o->rewrite.to[tty_stops[k]] = SIGSTOP;
	o->suspend_on_tty_signals = true;
	o->exit_with_main = true;
	o->leave_cwd = true;
	if (debug && c->verbose_flags == 0)
		c->verbose_flags = 1;
	return finish(argc, argv, i, c, err, errlen);
}

/* ------------------------------------------------------------ jobshim */

static enum persona persona_of(const char *argv0)
{
	const char *base = argv0 != NULL ? strrchr(argv0, '/') : NULL;

	base = base != NULL ? base + 1 : argv0;
	if (base == NULL)
		return PERSONA_JOBSHIM;
	if (strcmp(base, "tini") == 0 || strcmp(base, "docker-init") == 0)
		return PERSONA_TINI;
	if (strcmp(base, "dumb-init") == 0)
		return PERSONA_DUMB_INIT;
	return PERSONA_JOBSHIM;
}

int cli_parse(int argc, char **argv, char *const *envp, struct cli *c, char *err, size_t errlen)
{
	struct options *o = &c->o;
	int i = 1, r;
	bool ctl;

	set_defaults(c);
	r = apply_env(envp, c, err, errlen);
	if (r < 0)
		return r;
	o->persona = persona_of(argc > 0 ? argv[0] : NULL);
	if (o->persona == PERSONA_TINI)
		return parse_tini(argc, argv, envp, c, err, errlen);
	if (o->persona == PERSONA_DUMB_INIT)
		return parse_dumb_init(argc, argv, envp, c, err, errlen);

	/* Subcommands only as the first argument: `jobshim -- check` runs a
	 * program called check. */
	if (argc > 1 && strcmp(argv[1], "check") == 0)
		c->cmd = CMD_CHECK, i = 2;
	else if (argc > 1 && strcmp(argv[1], "stats") == 0)
		c->cmd = CMD_STATS, i = 2;
	else if (argc > 1 && strcmp(argv[1], "restart") == 0)
		c->cmd = CMD_RESTART, i = 2;
	else if (argc > 1 && strcmp(argv[1], "signal") == 0)
		c->cmd = CMD_SIGNAL, i = 2;
	else if (argc > 1 && strcmp(argv[1], "reload") == 0)
		c->cmd = CMD_RELOAD, i = 2;
	ctl = c->cmd == CMD_RESTART || c->cmd == CMD_SIGNAL || c->cmd == CMD_RELOAD;

	for (; i < argc; i++) {
		const char *arg = argv[i], *val;

		if (strcmp(arg, "--") == 0) {
			i++;
			break;
		}
		if ((arg[0] != '-' || arg[1] == '\0') && ctl) {
			/* restart JOB, signal JOB SIG: ctl.c checks the count. */
			if (c->ctl_argc > CTL_ARGS_MAX)
				return fail(err, errlen, "unexpected argument \"%s\"", arg);
			c->ctl_args[c->ctl_argc++] = arg;
			continue;
		}
		if (arg[0] != '-' || arg[1] == '\0')
			break; /* the command starts */
		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
			c->cmd = CMD_HELP;
			return 0;
		}
		if (strcmp(arg, "--version") == 0) {
			c->cmd = CMD_VERSION;
			return 0;
		}
		if (strcmp(arg, "-o") == 0 || strcmp(arg, "--output") == 0 ||
		    strncmp(arg, "--output=", 9) == 0) {
			if (c->cmd != CMD_CHECK && c->cmd != CMD_STATS)
				return fail(err, errlen, "%s: only for check and stats", arg);
			if (arg[1] == '-' && arg[8] == '=')
				val = arg + 9;
			else if (i + 1 < argc)
				val = argv[++i];
			else
				return fail(err, errlen, "%s: missing value", arg);
			r = parse_output(val, c, err, errlen);
			if (r < 0)
				return r;
			continue;
		}
		r = native_flag(argc, argv, &i, c, err, errlen);
		if (r < 0)
			return r;
		if (r == 0) {
			size_t len = strcspn(arg, "=");
			return fail(err, errlen, "unknown option \"%.*s\" (see jobshim --help)",
				    (int)len, arg);
		}
	}
	if (c->cmd != CMD_RUN && i < argc)
		return fail(err, errlen, "unexpected argument \"%s\"", argv[i]);
	return finish(argc, argv, i, c, err, errlen);
}

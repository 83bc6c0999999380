/* Tests of argv + environment → struct cli (SPEC §1): one row per
 * invocation, with the fields it must produce or the error it must give. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cli.h"

#define MAXV 12

/* Rows name only the fields they need (argv0 is for the drop-in rows). */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

struct row {
	const char *name;
	const char *argv[MAXV];	  /* after "jobshim"; NULL-terminated */
	const char *env[MAXV];	  /* "NAME=value"; NULL-terminated */
	const char *expect[MAXV]; /* "field=value" as rendered by render() */
	const char *err;	  /* NULL = must succeed; else a substring of the message */
	const char *argv0;	  /* NULL = "jobshim"; "tini", "/x/dumb-init", ... */
};

/* One field of o as text, so that rows can name what they expect. */
static void render(const struct cli *c, const char *key, char *buf, size_t cap)
{
	static const char *const cmds[] = {"run", "check", "stats", "version", "help"};
	const struct options *o = &c->o;
#define S(f) ((f) != NULL ? (f) : "(null)")
	if (strcmp(key, "cmd") == 0)
		snprintf(buf, cap, "%s", cmds[c->cmd]);
	else if (strcmp(key, "job") == 0)
		snprintf(buf, cap, "%s", S(o->job));
	else if (strcmp(key, "config") == 0)
		snprintf(buf, cap, "%s", S(o->config));
	else if (strcmp(key, "config_explicit") == 0)
		snprintf(buf, cap, "%d", o->config_explicit);
	else if (strcmp(key, "command") == 0)
		snprintf(buf, cap, "%s", S(o->command));
	else if (strcmp(key, "size") == 0)
		snprintf(buf, cap, "%s", o->size != NULL ? o->size->name : "(null)");
	else if (strcmp(key, "seccomp") == 0)
		snprintf(buf, cap, "%s", seccomp_profile_name(o->seccomp));
	else if (strcmp(key, "caps") == 0)
		snprintf(buf, cap, "%s", S(o->caps));
	else if (strcmp(key, "user") == 0)
		snprintf(buf, cap, "%s", S(o->user));
	else if (strcmp(key, "rlimits") == 0)
		snprintf(buf, cap, "%s", S(o->rlimits));
	else if (strcmp(key, "run_dir") == 0)
		snprintf(buf, cap, "%s", S(o->run_dir));
	else if (strcmp(key, "cgroup_root") == 0)
		snprintf(buf, cap, "%s", S(o->cgroup_root));
	else if (strcmp(key, "grace") == 0)
		snprintf(buf, cap, "%" PRIu64, o->grace_ms);
	else if (strcmp(key, "bmin") == 0)
		snprintf(buf, cap, "%" PRIu64, o->backoff_min_ms);
	else if (strcmp(key, "bmax") == 0)
		snprintf(buf, cap, "%" PRIu64, o->backoff_max_ms);
	else if (strcmp(key, "breset") == 0)
		snprintf(buf, cap, "%" PRIu64, o->backoff_reset_ms);
	else if (strcmp(key, "timeout") == 0)
		snprintf(buf, cap, "%" PRIu64, o->timeout_ms);
	else if (strcmp(key, "log") == 0)
		snprintf(buf, cap, "%s/%s", S(c->log_format_name),
			 o->log_format == LOG_JSON ? "json" : "plain");
	else if (strcmp(key, "ts") == 0)
		snprintf(buf, cap, "%d", o->log_timestamps);
	else if (strcmp(key, "verbose") == 0)
		snprintf(buf, cap, "%d", o->verbose);
	else if (strcmp(key, "stop_delay") == 0)
		snprintf(buf, cap, "%" PRIu64, o->stop_delay_ms);
	else if (strcmp(key, "rewrite") == 0) {
		/* "FROM>TO" pairs joined by ',', "" when none. */
		size_t len = 0;
		buf[0] = '\0';
		for (int sig = 1; sig <= SIGSPEC_MAX && len < cap; sig++)
			if (o->rewrite.to[sig] >= 0)
				len += (size_t)snprintf(buf + len, cap - len, "%s%d>%d",
							len ? "," : "", sig, o->rewrite.to[sig]);
	} else if (strcmp(key, "success") == 0) {
		size_t len = 0;
		buf[0] = '\0';
		for (int code = 0; code <= 255 && len < cap; code++)
			if (exit_set_has(&o->success_exit, code))
				len += (size_t)snprintf(buf + len, cap - len, "%s%d",
							len ? "," : "", code);
	} else if (strcmp(key, "pdeathsig") == 0)
		snprintf(buf, cap, "%d", o->pdeathsig);
	else if (strcmp(key, "persona") == 0)
		snprintf(buf, cap, "%s",
			 o->persona == PERSONA_TINI	   ? "tini"
			 : o->persona == PERSONA_DUMB_INIT ? "dumb-init"
							   : "jobshim");
	else if (strcmp(key, "stopsig") == 0)
		snprintf(buf, cap, "%d", o->stop_signal);
	else if (strcmp(key, "watch") == 0)
		snprintf(buf, cap, "%d", o->watch_config);
	else if (strcmp(key, "forward") == 0)
		snprintf(buf, cap, "%s", o->signal_group ? "group" : "main");
	else if (strcmp(key, "subreaper") == 0)
		snprintf(buf, cap, "%d", o->subreaper);
	else if (strcmp(key, "orphans") == 0)
		snprintf(buf, cap, "%d", o->orphan_lines);
	else if (strcmp(key, "dumb") == 0)
		/* dumb-init's switches: suspend, exit with main, TERM leftovers, cwd */
		snprintf(buf, cap, "%d%d%d%d", o->suspend_on_tty_signals, o->exit_with_main,
			 o->term_leftovers, o->leave_cwd);
	else if (strcmp(key, "sigmask") == 0)
		/* tini's: the mask kept, and the warning when reaping cannot work */
		snprintf(buf, cap, "%d%d", o->keep_sigmask, o->warn_no_reaping);
	else if (strcmp(key, "output") == 0)
		snprintf(buf, cap, "%s", c->output == OUT_JSON ? "json" : "table");
	else if (strcmp(key, "argv") == 0) {
		/* The command words joined by '|', "" when none. */
		size_t len = 0;
		buf[0] = '\0';
		assert_non_null(o->argv);
		assert_null(o->argv[o->argc]);
		for (int i = 0; i < o->argc && len < cap; i++)
			len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? "|" : "",
						o->argv[i]);
	} else
		fail_msg("test bug: unknown key %s", key);
#undef S
}

/* Every field at its default: a row lists only what differs. */
static const char *const defaults[] = {
    "cmd=run",	       "job=(null)",	     "config=(null)", "config_explicit=0", "command=(null)",
    "size=(null)",     "seccomp=default",    "caps=default",  "user=(null)",	   "rlimits=(null)",
    "run_dir=(null)",  "cgroup_root=(null)", "grace=8000",    "bmin=1000",	   "bmax=60000",
    "breset=60000",    "log=plain/plain",    "ts=0",	      "verbose=0",	   "output=table",
    "argv=",	       "stop_delay=0",	     "rewrite=",      "success=",	   "pdeathsig=0",
    "persona=jobshim", "forward=main",	     "subreaper=-1",  "orphans=0",	   "dumb=0000",
    "sigmask=00",      "timeout=0",	     "stopsig=0",     "watch=0",
};

static const struct row rows[] = {
    /* ---- defaults and the command */
    {"no arguments", {NULL}, {NULL}, {NULL}, NULL},
    {"command", {"bundle", "exec", "puma", NULL}, {NULL}, {"argv=bundle|exec|puma"}, NULL},
    {"-- command", {"--", "puma", "-v", NULL}, {NULL}, {"argv=puma|-v", "verbose=0"}, NULL},
    {"options stop at the command",
     {"sleep", "--grace", "1s", NULL},
     {NULL},
     {"argv=sleep|--grace|1s", "grace=8000"},
     NULL},
    {"-- then --", {"--", "--", NULL}, {NULL}, {"argv=--"}, NULL},
    {"lone dash is a command", {"-", "x", NULL}, {NULL}, {"argv=-|x"}, NULL},
    {"-- check is a command", {"--", "check", NULL}, {NULL}, {"cmd=run", "argv=check"}, NULL},
    {"-- stats is a command",
     {"--", "stats", "-o", "json", NULL},
     {NULL},
     {"cmd=run", "argv=stats|-o|json"},
     NULL},
    {"check later is a command",
     {"-v", "check", NULL},
     {NULL},
     {"cmd=run", "argv=check", "verbose=1", "orphans=1"},
     NULL},
    {"--help", {"--help", NULL}, {NULL}, {"cmd=help"}, NULL},
    {"-h", {"-h", NULL}, {NULL}, {"cmd=help"}, NULL},
    {"--version", {"--version", NULL}, {NULL}, {"cmd=version"}, NULL},
    {"--version after options",
     {"--grace", "1s", "--version", NULL},
     {NULL},
     {"cmd=version"},
     NULL},

    /* ---- every string flag, both forms */
    {"--job NAME", {"--job", "sidekiq", NULL}, {NULL}, {"job=sidekiq"}, NULL},
    {"--job=NAME", {"--job=sidekiq", NULL}, {NULL}, {"job=sidekiq"}, NULL},
    {"--job=@all", {"--job=@all", NULL}, {NULL}, {"job=@all"}, NULL},
    {"--config",
     {"--config", "/etc/d.yaml", NULL},
     {NULL},
     {"config=/etc/d.yaml", "config_explicit=1"},
     NULL},
    {"--config=",
     {"--config=/etc/d.yaml", NULL},
     {NULL},
     {"config=/etc/d.yaml", "config_explicit=1"},
     NULL},
    {"--command",
     {"--command", "bin/worker --fast", NULL},
     {NULL},
     {"command=bin/worker --fast"},
     NULL},
    {"--command=", {"--command=a=b", NULL}, {NULL}, {"command=a=b"}, NULL},
    {"--size", {"--size", "mini", NULL}, {NULL}, {"size=mini"}, NULL},
    {"--size=", {"--size=standard-4", NULL}, {NULL}, {"size=standard-4"}, NULL},
    {"--seccomp strict", {"--seccomp", "strict", NULL}, {NULL}, {"seccomp=strict"}, NULL},
    {"--seccomp=off", {"--seccomp=off", NULL}, {NULL}, {"seccomp=off"}, NULL},
    {"--seccomp=default", {"--seccomp=default", NULL}, {NULL}, {"seccomp=default"}, NULL},
    {"--caps none", {"--caps", "none", NULL}, {NULL}, {"caps=none"}, NULL},
    {"--caps=list", {"--caps=CHOWN,KILL", NULL}, {NULL}, {"caps=CHOWN,KILL"}, NULL},
    {"--user", {"--user", "app:app", NULL}, {NULL}, {"user=app:app"}, NULL},
    {"--user=", {"--user=1000", NULL}, {NULL}, {"user=1000"}, NULL},
    {"--rlimits",
     {"--rlimits", "nofile=4096,core=0", NULL},
     {NULL},
     {"rlimits=nofile=4096,core=0"},
     NULL},
    {"--rlimits=", {"--rlimits=as=2G", NULL}, {NULL}, {"rlimits=as=2G"}, NULL},
    {"--log-format json", {"--log-format", "json", NULL}, {NULL}, {"log=json/json"}, NULL},
    {"--log-format=plain", {"--log-format=plain", NULL}, {NULL}, {"log=plain/plain"}, NULL},
    {"--run-dir", {"--run-dir", "/tmp/r", NULL}, {NULL}, {"run_dir=/tmp/r"}, NULL},
    {"--run-dir=", {"--run-dir=/tmp/r", NULL}, {NULL}, {"run_dir=/tmp/r"}, NULL},

    /* ---- durations */
    {"--grace", {"--grace", "500ms", NULL}, {NULL}, {"grace=500"}, NULL},
    {"--grace=", {"--grace=1h30m", NULL}, {NULL}, {"grace=5400000"}, NULL},
    {"--grace 0", {"--grace", "0", NULL}, {NULL}, {"grace=0"}, NULL},
    {"--backoff-min", {"--backoff-min", "2s", NULL}, {NULL}, {"bmin=2000"}, NULL},
    {"--backoff-max", {"--backoff-max=5m0s", NULL}, {NULL}, {"bmax=300000"}, NULL},
    {"--backoff-reset", {"--backoff-reset", "10m", NULL}, {NULL}, {"breset=600000"}, NULL},
    {"--timeout", {"--timeout", "30s", NULL}, {NULL}, {"timeout=30000"}, NULL},
    {"JOBSHIM_TIMEOUT", {NULL}, {"JOBSHIM_TIMEOUT=2m", NULL}, {"timeout=120000"}, NULL},
    {"--timeout wins over JOBSHIM_TIMEOUT",
     {"--timeout=500ms", NULL},
     {"JOBSHIM_TIMEOUT=2m", NULL},
     {"timeout=500"},
     NULL},
    {"bad --timeout", {"--timeout", "soon", NULL}, {NULL}, {NULL}, "--timeout: invalid duration"},
    {"backoff min = max",
     {"--backoff-min=5s", "--backoff-max=5s", NULL},
     {NULL},
     {"bmin=5000", "bmax=5000"},
     NULL},

    /* ---- switches */
    {"--log-timestamps", {"--log-timestamps", NULL}, {NULL}, {"ts=1"}, NULL},
    {"-v", {"-v", NULL}, {NULL}, {"verbose=1", "orphans=1"}, NULL},
    {"-v twice", {"-v", "-v", NULL}, {NULL}, {"verbose=2", "orphans=1"}, NULL},
    {"-vv", {"-vv", NULL}, {NULL}, {"verbose=2", "orphans=1"}, NULL},
    {"JOBSHIM_VERBOSE=2", {NULL}, {"JOBSHIM_VERBOSE=2", NULL}, {"verbose=2", "orphans=1"}, NULL},
    {"-v over JOBSHIM_VERBOSE=3",
     {"-v", NULL},
     {"JOBSHIM_VERBOSE=3", NULL},
     {"verbose=1", "orphans=1"},
     NULL},

    /* ---- issue 17: stop delay, rewrite, success exit, parent death */
    {"--stop-delay", {"--stop-delay", "5s", NULL}, {NULL}, {"stop_delay=5000"}, NULL},
    {"JOBSHIM_STOP_DELAY", {NULL}, {"JOBSHIM_STOP_DELAY=250ms", NULL}, {"stop_delay=250"}, NULL},
    {"JOBSHIM_STOP_SIGNAL", {NULL}, {"JOBSHIM_STOP_SIGNAL=SIGQUIT", NULL}, {"stopsig=3"}, NULL},
    {"JOBSHIM_SIGNAL_GROUP", {NULL}, {"JOBSHIM_SIGNAL_GROUP=1", NULL}, {"forward=group"}, NULL},
    {"JOBSHIM_WATCH_CONFIG", {NULL}, {"JOBSHIM_WATCH_CONFIG=yes", NULL}, {"watch=1"}, NULL},
    {"variables among others",
     {NULL},
     {"HOME=/", "JOBSHIM_GRACE_X=1", "JOBSHIM_GRACE=3s", "XJOBSHIM_GRACE=1s", "JOBSHIM_GRACE=4s",
      NULL},
     {"grace=3000"},
     NULL},
    {"--rewrite", {"--rewrite", "TERM:INT,USR1:0", NULL}, {NULL}, {"rewrite=10>0,15>2"}, NULL},
    {"--rewrite numbers and SIG names",
     {"--rewrite=SIGHUP:31,31:1", NULL},
     {NULL},
     {"rewrite=1>31,31>1"},
     NULL},
    {"--rewrite adds to JOBSHIM_REWRITE, the flag wins for a signal",
     {"--rewrite=TERM:QUIT", NULL},
     {"JOBSHIM_REWRITE=TERM:INT,HUP:0", NULL},
     {"rewrite=1>0,15>3"},
     NULL},
    {"--rewrite= clears",
     {"--rewrite=", NULL},
     {"JOBSHIM_REWRITE=TERM:INT", NULL},
     {"rewrite="},
     NULL},
    {"--success-exit", {"--success-exit=143", NULL}, {NULL}, {"success=143"}, NULL},
    {"JOBSHIM_SUCCESS_EXIT list and range",
     {NULL},
     {"JOBSHIM_SUCCESS_EXIT=1,130-131,0", NULL},
     {"success=0,1,130,131"},
     NULL},
    {"--pdeathsig", {"--pdeathsig", "USR1", NULL}, {NULL}, {"pdeathsig=10"}, NULL},
    {"JOBSHIM_PDEATHSIG", {NULL}, {"JOBSHIM_PDEATHSIG=SIGTERM", NULL}, {"pdeathsig=15"}, NULL},
    {"bad --rewrite",
     {"--rewrite=TERM", NULL},
     {NULL},
     {NULL},
     "--rewrite: invalid rewrite \"TERM\""},
    {"bad --rewrite target", {"--rewrite=TERM:BOGUS", NULL}, {NULL}, {NULL}, "TERM:BOGUS"},
    {"bad JOBSHIM_REWRITE", {NULL}, {"JOBSHIM_REWRITE=0:TERM", NULL}, {NULL}, "JOBSHIM_REWRITE"},
    {"bad --success-exit",
     {"--success-exit=256", NULL},
     {NULL},
     {NULL},
     "invalid exit code \"256\""},
    {"bad --pdeathsig", {"--pdeathsig=NOPE", NULL}, {NULL}, {NULL}, "unknown signal \"NOPE\""},
    {"bad --stop-delay",
     {"--stop-delay=5", NULL},
     {NULL},
     {NULL},
     "--stop-delay: invalid duration"},

    /* ---- tini and docker-init (SPEC §11) */
    {"tini: defaults",
     {"app", NULL},
     {NULL},
     {"persona=tini", "forward=main", "subreaper=0", "sigmask=11", "argv=app"},
     NULL,
     "tini"},
    {"docker-init is tini",
     {"--", "app", NULL},
     {NULL},
     {"persona=tini", "forward=main", "subreaper=0", "sigmask=11", "argv=app"},
     NULL,
     "/usr/bin/docker-init"},
    {"tini -s -g -w -e -p",
     {"-s", "-g", "-w", "-e", "143", "-e130", "-pSIGUSR1", "--", "app", "-x", NULL},
     {NULL},
     {"persona=tini", "forward=group", "subreaper=1", "sigmask=11", "orphans=1", "success=130,143",
      "pdeathsig=10", "argv=app|-x"},
     NULL,
     "tini"},
    {"tini clustered -sgw and -vvv",
     {"-sgw", "-vvv", "app", NULL},
     {NULL},
     {"persona=tini", "forward=group", "subreaper=1", "sigmask=11", "orphans=1", "verbose=2",
      "argv=app"},
     NULL,
     "tini"},
    {"tini options end at the command (sh -c)",
     {"-e", "3", "sh", "-c", "exit 3", NULL},
     {NULL},
     {"persona=tini", "forward=main", "subreaper=0", "sigmask=11", "success=3",
      "argv=sh|-c|exit 3"},
     NULL,
     "tini"},
    {"tini variables",
     {"app", NULL},
     {"TINI_SUBREAPER=", "TINI_KILL_PROCESS_GROUP=1", "TINI_VERBOSITY=2", NULL},
     {"persona=tini", "forward=group", "subreaper=1", "sigmask=11", "verbose=1", "argv=app"},
     NULL,
     "tini"},
    {"tini -w with TINI_VERBOSITY=0 says nothing",
     {"-w", "app", NULL},
     {"TINI_VERBOSITY=0", NULL},
     {"persona=tini", "forward=main", "subreaper=0", "sigmask=10", "argv=app"},
     NULL,
     "tini"},
    {"tini takes jobshim's long options",
     {"--grace=2s", "-s", "app", NULL},
     {"JOBSHIM_STOP_DELAY=1s", NULL},
     {"persona=tini", "forward=main", "subreaper=1", "sigmask=11", "grace=2000", "stop_delay=1000",
      "argv=app"},
     NULL,
     "tini"},
    {"tini -h", {"-h", NULL}, {NULL}, {"cmd=help"}, NULL, "tini"},
    {"tini --version", {"--version", NULL}, {NULL}, {"cmd=version"}, NULL, "tini"},
    {"tini -l", {"-l", NULL}, {NULL}, {"cmd=version"}, NULL, "tini"},
    {"tini bad -e", {"-e", "256", "app", NULL}, {NULL}, {NULL}, "-e: invalid exit code", "tini"},
    {"tini bad -e word", {"-e", "x", "app", NULL}, {NULL}, {NULL}, "-e: invalid", "tini"},
    {"tini -e missing", {"-e", NULL}, {NULL}, {NULL}, "-e: missing value", "tini"},
    {"tini bad -p", {"-p", "SIGNOPE", "app", NULL}, {NULL}, {NULL}, "-p: unknown", "tini"},
    {"tini unknown", {"-x", "app", NULL}, {NULL}, {NULL}, "unknown option \"-x\"", "tini"},
    {"tini unknown long", {"--yolo", "app", NULL}, {NULL}, {NULL}, "\"--yolo\"", "tini"},
    {"tini bad TINI_VERBOSITY",
     {"app", NULL},
     {"TINI_VERBOSITY=lots", NULL},
     {NULL},
     "TINI_VERBOSITY",
     "tini"},

    /* ---- dumb-init (SPEC §11) */
    {"dumb-init: defaults (group, TSTP/TTIN/TTOU become STOP)",
     {"app", NULL},
     {NULL},
     {"persona=dumb-init", "forward=group", "dumb=1111", "rewrite=20>19,21>19,22>19", "argv=app"},
     NULL,
     "dumb-init"},
    {"dumb-init -c",
     {"-c", "app", NULL},
     {NULL},
     {"persona=dumb-init", "forward=main", "dumb=1101", "argv=app"},
     NULL,
     "/usr/local/bin/dumb-init"},
    {"dumb-init --single-child --verbose",
     {"--single-child", "--verbose", "--", "app", NULL},
     {NULL},
     {"persona=dumb-init", "forward=main", "dumb=1101", "verbose=1", "orphans=1", "argv=app"},
     NULL,
     "dumb-init"},
    {"dumb-init -r, a rewritten TSTP stays",
     {"-r", "15:2", "-r20:1", "--rewrite", "1:0", "app", NULL},
     {NULL},
     {"persona=dumb-init", "forward=group", "dumb=1111", "rewrite=1>0,15>2,20>1,21>19,22>19",
      "argv=app"},
     NULL,
     "dumb-init"},
    {"dumb-init -cv clustered, options end at the command",
     {"-cv", "sh", "-c", "true", NULL},
     {NULL},
     {"persona=dumb-init", "forward=main", "dumb=1101", "verbose=1", "orphans=1",
      "argv=sh|-c|true"},
     NULL,
     "dumb-init"},
    {"dumb-init variables",
     {"app", NULL},
     {"DUMB_INIT_SETSID=0", "DUMB_INIT_DEBUG=1", NULL},
     {"persona=dumb-init", "forward=main", "dumb=1101", "verbose=1", "orphans=1", "argv=app"},
     NULL,
     "dumb-init"},
    {"dumb-init variables other than 0/1 change nothing",
     {"app", NULL},
     {"DUMB_INIT_SETSID=no", "DUMB_INIT_DEBUG=", NULL},
     {"persona=dumb-init", "forward=group", "dumb=1111", "rewrite=20>19,21>19,22>19", "argv=app"},
     NULL,
     "dumb-init"},
    {"dumb-init -h", {"-h", NULL}, {NULL}, {"cmd=help"}, NULL, "dumb-init"},
    {"dumb-init --version", {"--version", NULL}, {NULL}, {"cmd=version"}, NULL, "dumb-init"},
    {"dumb-init -V", {"-V", NULL}, {NULL}, {"cmd=version"}, NULL, "dumb-init"},
    {"dumb-init -r 15",
     {"-r", "15", "app", NULL},
     {NULL},
     {NULL},
     "-r: invalid rewrite",
     "dumb-init"},
    {"dumb-init -r 15::12",
     {"-r", "15::12", "app", NULL},
     {NULL},
     {NULL},
     "-r: invalid",
     "dumb-init"},
    {"dumb-init -r names",
     {"-r", "TERM:INT", "app", NULL},
     {NULL},
     {NULL},
     "-r: invalid",
     "dumb-init"},
    {"dumb-init -r 1:32", {"-r", "1:32", "app", NULL}, {NULL}, {NULL}, "-r: invalid", "dumb-init"},
    {"dumb-init -r 0:1", {"-r", "0:1", "app", NULL}, {NULL}, {NULL}, "-r: invalid", "dumb-init"},
    {"dumb-init -r at the end", {"-r", NULL}, {NULL}, {NULL}, "-r: missing value", "dumb-init"},
    {"dumb-init unknown", {"--yolo", "/bin/true", NULL}, {NULL}, {NULL}, "\"--yolo\"", "dumb-init"},
    {"another name is jobshim",
     {"-v", "app", NULL},
     {NULL},
     {"verbose=1", "orphans=1", "argv=app"},
     NULL,
     "/usr/bin/tini-wrapper"},

    /* ---- environment twins */
    {"JOBSHIM_JOB", {NULL}, {"JOBSHIM_JOB=sidekiq", NULL}, {"job=sidekiq"}, NULL},
    {"JOBSHIM_CONFIG",
     {NULL},
     {"JOBSHIM_CONFIG=/c.yaml", NULL},
     {"config=/c.yaml", "config_explicit=1"},
     NULL},
    {"JOBSHIM_COMMAND", {NULL}, {"JOBSHIM_COMMAND=bin/x", NULL}, {"command=bin/x"}, NULL},
    {"JOBSHIM_SIZE", {NULL}, {"JOBSHIM_SIZE=standard-1", NULL}, {"size=standard-1"}, NULL},
    {"JOBSHIM_GRACE", {NULL}, {"JOBSHIM_GRACE=30s", NULL}, {"grace=30000"}, NULL},
    {"JOBSHIM_BACKOFF_*",
     {NULL},
     {"JOBSHIM_BACKOFF_MIN=100ms", "JOBSHIM_BACKOFF_MAX=10s", "JOBSHIM_BACKOFF_RESET=1m", NULL},
     {"bmin=100", "bmax=10000", "breset=60000"},
     NULL},
    {"JOBSHIM_SECCOMP", {NULL}, {"JOBSHIM_SECCOMP=off", NULL}, {"seccomp=off"}, NULL},
    {"JOBSHIM_CAPS", {NULL}, {"JOBSHIM_CAPS=none", NULL}, {"caps=none"}, NULL},
    {"JOBSHIM_USER", {NULL}, {"JOBSHIM_USER=nobody", NULL}, {"user=nobody"}, NULL},
    {"JOBSHIM_RLIMITS", {NULL}, {"JOBSHIM_RLIMITS=core=0", NULL}, {"rlimits=core=0"}, NULL},
    {"JOBSHIM_LOG_FORMAT", {NULL}, {"JOBSHIM_LOG_FORMAT=json", NULL}, {"log=json/json"}, NULL},
    {"JOBSHIM_LOG_TIMESTAMPS=1", {NULL}, {"JOBSHIM_LOG_TIMESTAMPS=1", NULL}, {"ts=1"}, NULL},
    {"JOBSHIM_LOG_TIMESTAMPS=0", {NULL}, {"JOBSHIM_LOG_TIMESTAMPS=0", NULL}, {"ts=0"}, NULL},
    {"JOBSHIM_LOG_TIMESTAMPS empty", {NULL}, {"JOBSHIM_LOG_TIMESTAMPS=", NULL}, {"ts=0"}, NULL},
    {"JOBSHIM_VERBOSE=1", {NULL}, {"JOBSHIM_VERBOSE=1", NULL}, {"verbose=1", "orphans=1"}, NULL},
    {"JOBSHIM_VERBOSE=0", {NULL}, {"JOBSHIM_VERBOSE=0", NULL}, {"verbose=0"}, NULL},
    {"JOBSHIM_RUN_DIR", {NULL}, {"JOBSHIM_RUN_DIR=/r", NULL}, {"run_dir=/r"}, NULL},
    {"JOBSHIM_CGROUP_ROOT",
     {NULL},
     {"JOBSHIM_CGROUP_ROOT=/tmp/cg", NULL},
     {"cgroup_root=/tmp/cg"},
     NULL},
    {"unrelated and look-alike variables",
     {NULL},
     {"PATH=/bin", "JOBSHIM_JOBS=x", "JOBSHIM_JO=y", "XJOBSHIM_JOB=z", "JOBSHIM_JOB", NULL},
     {"job=(null)"},
     NULL},

    /* ---- an empty variable is unset, for every option (README) */
    {"JOBSHIM_GRACE empty", {NULL}, {"JOBSHIM_GRACE=", NULL}, {"grace=8000"}, NULL},
    {"JOBSHIM_BACKOFF_MIN empty", {NULL}, {"JOBSHIM_BACKOFF_MIN=", NULL}, {"bmin=1000"}, NULL},
    {"JOBSHIM_BACKOFF_MAX empty", {NULL}, {"JOBSHIM_BACKOFF_MAX=", NULL}, {"bmax=60000"}, NULL},
    {"JOBSHIM_BACKOFF_RESET empty",
     {NULL},
     {"JOBSHIM_BACKOFF_RESET=", NULL},
     {"breset=60000"},
     NULL},
    {"JOBSHIM_VERBOSE empty", {NULL}, {"JOBSHIM_VERBOSE=", NULL}, {"verbose=0"}, NULL},
    {"JOBSHIM_COMMAND empty", {NULL}, {"JOBSHIM_COMMAND=", NULL}, {"command=(null)"}, NULL},
    {"JOBSHIM_USER empty", {NULL}, {"JOBSHIM_USER=", NULL}, {"user=(null)"}, NULL},
    {"JOBSHIM_RLIMITS empty", {NULL}, {"JOBSHIM_RLIMITS=", NULL}, {"rlimits=(null)"}, NULL},
    {"JOBSHIM_RUN_DIR empty", {NULL}, {"JOBSHIM_RUN_DIR=", NULL}, {"run_dir=(null)"}, NULL},
    {"JOBSHIM_CGROUP_ROOT empty",
     {NULL},
     {"JOBSHIM_CGROUP_ROOT=", NULL},
     {"cgroup_root=(null)"},
     NULL},
    {"an empty variable does not hide a flag",
     {"--grace", "2s", NULL},
     {"JOBSHIM_GRACE=", NULL},
     {"grace=2000"},
     NULL},
    {"JOBSHIM_JOB empty", {NULL}, {"JOBSHIM_JOB=", NULL}, {"job=(null)"}, NULL},
    {"JOBSHIM_CONFIG empty",
     {NULL},
     {"JOBSHIM_CONFIG=", NULL},
     {"config=(null)", "config_explicit=0"},
     NULL},
    {"JOBSHIM_SECCOMP empty", {NULL}, {"JOBSHIM_SECCOMP=", NULL}, {"seccomp=default"}, NULL},
    {"JOBSHIM_CAPS empty", {NULL}, {"JOBSHIM_CAPS=", NULL}, {"caps=default"}, NULL},
    {"JOBSHIM_LOG_FORMAT empty", {NULL}, {"JOBSHIM_LOG_FORMAT=", NULL}, {"log=plain/plain"}, NULL},
    {"JOBSHIM_SIZE empty", {NULL}, {"JOBSHIM_SIZE=", NULL}, {"size=(null)"}, NULL},

    /* ---- a flag wins over its variable */
    {"--job over JOBSHIM_JOB", {"--job", "b", NULL}, {"JOBSHIM_JOB=a", NULL}, {"job=b"}, NULL},
    {"--job= clears JOBSHIM_JOB", {"--job=", NULL}, {"JOBSHIM_JOB=a", NULL}, {"job=(null)"}, NULL},
    {"--grace over JOBSHIM_GRACE",
     {"--grace=2s", NULL},
     {"JOBSHIM_GRACE=30s", NULL},
     {"grace=2000"},
     NULL},
    {"--seccomp over JOBSHIM_SECCOMP",
     {"--seccomp", "strict", NULL},
     {"JOBSHIM_SECCOMP=off", NULL},
     {"seccomp=strict"},
     NULL},
    {"--log-format over variable",
     {"--log-format=plain", NULL},
     {"JOBSHIM_LOG_FORMAT=json", NULL},
     {"log=plain/plain"},
     NULL},
    {"--log-timestamps over =0",
     {"--log-timestamps", NULL},
     {"JOBSHIM_LOG_TIMESTAMPS=0", NULL},
     {"ts=1"},
     NULL},
    {"-v over JOBSHIM_VERBOSE=0",
     {"-v", NULL},
     {"JOBSHIM_VERBOSE=0", NULL},
     {"verbose=1", "orphans=1"},
     NULL},
    {"flag fixes a bad variable's backoff order",
     {"--backoff-max=10s", NULL},
     {"JOBSHIM_BACKOFF_MIN=5s", "JOBSHIM_BACKOFF_MAX=1s", NULL},
     {"bmin=5000", "bmax=10000"},
     NULL},
    {"flag fixes a bad variable's profile",
     {"--seccomp=off", NULL},
     {"JOBSHIM_SECCOMP=bogus", NULL},
     {"seccomp=off"},
     NULL},
    {"--config= clears JOBSHIM_CONFIG",
     {"--config=", NULL},
     {"JOBSHIM_CONFIG=/c.yaml", NULL},
     {"config=(null)", "config_explicit=0"},
     NULL},
    {"last flag wins", {"--job=a", "--job", "b", NULL}, {NULL}, {"job=b"}, NULL},
    {"empty flag values fall back to defaults",
     {"--seccomp=", "--caps=", "--log-format=", NULL},
     {"JOBSHIM_SECCOMP=off", "JOBSHIM_CAPS=none", "JOBSHIM_LOG_FORMAT=json", NULL},
     {"seccomp=default", "caps=default", "log=plain/plain"},
     NULL},

    /* ---- check and stats */
    {"check", {"check", NULL}, {NULL}, {"cmd=check", "output=table"}, NULL},
    {"check -o json", {"check", "-o", "json", NULL}, {NULL}, {"cmd=check", "output=json"}, NULL},
    {"check --output=json",
     {"check", "--output=json", NULL},
     {NULL},
     {"cmd=check", "output=json"},
     NULL},
    {"check --output table",
     {"check", "--output", "table", NULL},
     {NULL},
     {"cmd=check", "output=table"},
     NULL},
    {"check with options",
     {"check", "--job", "sidekiq", "--size=mini", "-o", "json", NULL},
     {"JOBSHIM_CONFIG=/x.yaml", NULL},
     {"cmd=check", "job=sidekiq", "size=mini", "output=json", "config=/x.yaml",
      "config_explicit=1"},
     NULL},
    {"stats", {"stats", NULL}, {NULL}, {"cmd=stats"}, NULL},
    {"stats -o json --run-dir",
     {"stats", "-o", "json", "--run-dir", "/r", NULL},
     {NULL},
     {"cmd=stats", "output=json", "run_dir=/r"},
     NULL},
    {"check --", {"check", "--", NULL}, {NULL}, {"cmd=check", "argv="}, NULL},

    /* ---- errors */
    {"-o without check", {"-o", "json", NULL}, {NULL}, {NULL}, "only for check and stats"},
    {"--output without check", {"--output=json", NULL}, {NULL}, {NULL}, "--output"},
    {"-o bad", {"check", "-o", "yaml", NULL}, {NULL}, {NULL}, "-o: unknown output \"yaml\""},
    {"-o missing", {"stats", "-o", NULL}, {NULL}, {NULL}, "-o: missing value"},
    {"check extra word", {"check", "foo", NULL}, {NULL}, {NULL}, "unexpected argument \"foo\""},
    {"stats after --", {"stats", "--", "x", NULL}, {NULL}, {NULL}, "unexpected argument"},
    {"unknown flag", {"--frobnicate", NULL}, {NULL}, {NULL}, "unknown option \"--frobnicate\""},
    {"unknown flag=value", {"--nope=1", NULL}, {NULL}, {NULL}, "unknown option \"--nope\""},
    {"unknown short", {"-x", "cmd", NULL}, {NULL}, {NULL}, "unknown option \"-x\""},
    {"flag prefix is not a flag", {"--jo", "x", NULL}, {NULL}, {NULL}, "unknown option"},
    {"--job missing value", {"--job", NULL}, {NULL}, {NULL}, "--job: missing value"},
    {"--grace missing value", {"--grace", NULL}, {NULL}, {NULL}, "--grace: missing value"},
    {"--log-timestamps=1", {"--log-timestamps=1", NULL}, {NULL}, {NULL}, "takes no value"},
    {"-v=1", {"-v=1", NULL}, {NULL}, {NULL}, "-v takes no value"},
    {"bad --grace", {"--grace", "5", NULL}, {NULL}, {NULL}, "--grace: invalid duration \"5\""},
    {"bad --grace=", {"--grace=-1s", NULL}, {NULL}, {NULL}, "--grace: invalid duration"},
    {"empty --grace=", {"--grace=", NULL}, {NULL}, {NULL}, "--grace: invalid duration"},
    {"bad --backoff-min", {"--backoff-min=soon", NULL}, {NULL}, {NULL}, "--backoff-min"},
    {"bad --backoff-max", {"--backoff-max", "1x", NULL}, {NULL}, {NULL}, "--backoff-max"},
    {"bad --backoff-reset", {"--backoff-reset", "1", NULL}, {NULL}, {NULL}, "--backoff-reset"},
    {"bad JOBSHIM_GRACE",
     {NULL},
     {"JOBSHIM_GRACE=eight", NULL},
     {NULL},
     "JOBSHIM_GRACE: invalid duration \"eight\""},
    {"bad JOBSHIM_BACKOFF_MIN",
     {NULL},
     {"JOBSHIM_BACKOFF_MIN=1 s", NULL},
     {NULL},
     "JOBSHIM_BACKOFF_MIN"},
    {"huge JOBSHIM_BACKOFF_RESET",
     {NULL},
     {"JOBSHIM_BACKOFF_RESET=99999999h", NULL},
     {NULL},
     "JOBSHIM_BACKOFF_RESET"},
    {"bad variable even with a good flag",
     {"--grace=1s", NULL},
     {"JOBSHIM_GRACE=x", NULL},
     {NULL},
     "JOBSHIM_GRACE"},
    {"backoff-min > backoff-max",
     {"--backoff-min=2m", NULL},
     {NULL},
     {NULL},
     "--backoff-min (120000ms) exceeds --backoff-max (60000ms)"},
    {"backoff-min > backoff-max by env",
     {NULL},
     {"JOBSHIM_BACKOFF_MIN=10s", "JOBSHIM_BACKOFF_MAX=5s", NULL},
     {NULL},
     "exceeds"},
    {"backoff-min 0", {"--backoff-min=0", NULL}, {NULL}, {NULL}, "at least 1ms"},
    {"backoff-max 0",
     {"--backoff-max=0s", "--backoff-min=0", NULL},
     {NULL},
     {NULL},
     "at least 1ms"},
    {"bad --seccomp",
     {"--seccomp", "lax", NULL},
     {NULL},
     {NULL},
     "seccomp: unknown profile \"lax\" (expected default, strict or off)"},
    {"bad JOBSHIM_SECCOMP",
     {NULL},
     {"JOBSHIM_SECCOMP=Default", NULL},
     {NULL},
     "unknown profile \"Default\""},
    {"bad --log-format", {"--log-format=xml", NULL}, {NULL}, {NULL}, "log-format"},
    {"bad JOBSHIM_LOG_FORMAT",
     {NULL},
     {"JOBSHIM_LOG_FORMAT=JSON", NULL},
     {NULL},
     "unknown \"JSON\" (expected plain or json)"},
    {"bad --size", {"--size", "huge", NULL}, {NULL}, {NULL}, "size: unknown size \"huge\""},
    {"bad JOBSHIM_SIZE", {NULL}, {"JOBSHIM_SIZE=Micro", NULL}, {NULL}, "micro, mini"},
    {"bad JOBSHIM_LOG_TIMESTAMPS",
     {NULL},
     {"JOBSHIM_LOG_TIMESTAMPS=2", NULL},
     {NULL},
     "JOBSHIM_LOG_TIMESTAMPS"},
    {"bad JOBSHIM_VERBOSE", {NULL}, {"JOBSHIM_VERBOSE=loud", NULL}, {NULL}, "JOBSHIM_VERBOSE"},
};

/* Returns the number of mismatches (printed), so that one run shows every
 * failing row. */
static int run_row(const struct row *r)
{
	char *argv[MAXV + 2], *envp[MAXV + 1];
	char err[256], got[512];
	struct cli c;
	int argc = 0, envc = 0, rc, bad = 0;

	argv[argc++] = (char *)(r->argv0 != NULL ? r->argv0 : "jobshim");
	while (r->argv[argc - 1] != NULL) {
		argv[argc] = (char *)r->argv[argc - 1];
		argc++;
	}
	argv[argc] = NULL;
	for (; r->env[envc] != NULL; envc++)
		envp[envc] = (char *)r->env[envc];
	envp[envc] = NULL;

	memset(err, 'x', sizeof(err));
	err[sizeof(err) - 1] = '\0';
	rc = cli_parse(argc, argv, envp, &c, err, sizeof(err));
	if (r->err != NULL) {
		if (rc != -EINVAL || strstr(err, r->err) == NULL) {
			print_error("%s: rc %d, error \"%s\", expected -EINVAL and \"%s\"\n",
				    r->name, rc, rc < 0 ? err : "", r->err);
			return 1;
		}
		return 0;
	}
	if (rc != 0) {
		print_error("%s: unexpected error %d: %s\n", r->name, rc, err);
		return 1;
	}
	if (c.cmd == CMD_HELP || c.cmd == CMD_VERSION) {
		if (strcmp(r->expect[0], c.cmd == CMD_HELP ? "cmd=help" : "cmd=version") != 0) {
			print_error("%s: unexpected %s\n", r->name, r->expect[0]);
			return 1;
		}
		return 0;
	}
	/* Each default, unless the row expects another value for that key. */
	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
		const char *want = defaults[i];
		size_t klen = (size_t)(strchr(want, '=') - want);
		char key[32];

		for (size_t j = 0; j < MAXV && r->expect[j] != NULL; j++)
			if (strncmp(r->expect[j], want, klen + 1) == 0)
				want = r->expect[j];
		snprintf(key, sizeof(key), "%.*s", (int)klen, want);
		render(&c, key, got, sizeof(got));
		if (strcmp(got, want + klen + 1) != 0) {
			print_error("%s: %s is \"%s\", expected \"%s\"\n", r->name, key, got,
				    want + klen + 1);
			bad++;
		}
	}
	return bad;
}

static void test_cli_table(void **state)
{
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		bad += run_row(&rows[i]);
	assert_int_equal(bad, 0);
}

/* The expect keys of every row exist in the defaults table (so that a typo
 * in a row cannot make it silently check nothing). */
static void test_cli_rows_are_checked(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		for (size_t j = 0; j < MAXV && rows[i].expect[j] != NULL; j++) {
			const char *e = rows[i].expect[j];
			size_t klen = (size_t)(strchr(e, '=') - e);
			int found = 0;

			for (size_t k = 0; k < sizeof(defaults) / sizeof(defaults[0]); k++)
				found |= strncmp(defaults[k], e, klen + 1) == 0;
			if (!found)
				fail_msg("row %s: unknown key in \"%s\"", rows[i].name, e);
		}
		if (rows[i].err == NULL && rows[i].expect[0] == NULL)
			assert_string_equal(rows[i].name, "no arguments");
	}
}

/* Strings point into argv and envp, not copies: the documented ownership. */
static void test_cli_strings_borrowed(void **state)
{
	char job[] = "--job=w1", cmd[] = "prog";
	char env0[] = "JOBSHIM_USER=app";
	char *argv[] = {(char *)"jobshim", job, cmd, NULL};
	char *envp[] = {env0, NULL};
	struct cli c;
	const struct options *o = &c.o;
	char err[128];

	(void)state;
	assert_int_equal(cli_parse(3, argv, envp, &c, err, sizeof(err)), 0);
	assert_ptr_equal(o->job, job + 6);
	assert_ptr_equal(o->user, env0 + 13);
	assert_ptr_equal(o->argv, &argv[2]);
	assert_int_equal(o->argc, 1);
}

/* More JOBSHIM_ variables than apply_env keeps aside: every one still
 * counts, the first of a name wins. */
static void test_cli_many_variables(void **state)
{
	char vars[100][32], *envp[102];
	char *argv[] = {(char *)"jobshim", (char *)"true", NULL};
	struct cli c;
	char err[128];
	size_t n = 0;

	(void)state;
	for (; n < 100; n++)
		snprintf(vars[n], sizeof(vars[n]), "JOBSHIM_UNUSED_%zu=x", n);
	envp[n] = (char *)"JOBSHIM_GRACE=7s";
	envp[n + 1] = NULL;
	for (size_t i = 0; i < n; i++)
		envp[i] = vars[i];
	assert_int_equal(cli_parse(2, argv, envp, &c, err, sizeof(err)), 0);
	assert_int_equal(c.o.grace_ms, 7000);
}

/* A NULL environment is the empty one. */
static void test_cli_null_env(void **state)
{
	char *argv[] = {(char *)"jobshim", (char *)"true", NULL};
	struct cli c;
	const struct options *o = &c.o;
	char err[128];

	(void)state;
	assert_int_equal(cli_parse(2, argv, NULL, &c, err, sizeof(err)), 0);
	assert_int_equal(o->grace_ms, 8000);
	assert_string_equal(o->argv[0], "true");
}

/* A small error buffer holds a truncated, terminated message. */
static void test_cli_small_err(void **state)
{
	char *argv[] = {(char *)"jobshim", (char *)"--frobnicate-everything", NULL};
	struct cli c;
	char err[8];

	(void)state;
	memset(err, 'x', sizeof(err));
	assert_int_equal(cli_parse(2, argv, NULL, &c, err, sizeof(err)), -EINVAL);
	assert_int_equal(strlen(err), sizeof(err) - 1);
	assert_memory_equal(err, "unknown", 7);
}

static void test_cli_usage(void **state)
{
	static const char *const must[] = {
	    "--job",	 "JOBSHIM_JOB",	    "--config",	     "--command",	"--size",
	    "--grace",	 "--backoff-min",   "--backoff-max", "--backoff-reset", "--seccomp",
	    "--caps",	 "--user",	    "--rlimits",     "--log-format",	"--log-timestamps",
	    "--run-dir", "JOBSHIM_VERBOSE", "check",	     "stats",		"--version",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(must) / sizeof(must[0]); i++)
		if (strstr(cli_usage, must[i]) == NULL)
			fail_msg("usage lacks %s", must[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cli_table),
	    cmocka_unit_test(test_cli_rows_are_checked),
	    cmocka_unit_test(test_cli_strings_borrowed),
	    cmocka_unit_test(test_cli_many_variables),
	    cmocka_unit_test(test_cli_null_env),
	    cmocka_unit_test(test_cli_small_err),
	    cmocka_unit_test(test_cli_usage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

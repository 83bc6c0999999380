/* The run's settings after argv and environment are read (SPEC §1):
 * shim/cli.c fills and validates them, runtime/ only reads them. Strings
 * point into argv or the environment and are not owned. */
#ifndef JOBSHIM_OPTIONS_H
#define JOBSHIM_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jobseccomp.h"
#include "sigspec.h"
#include "sizes.h"

enum log_format { LOG_PLAIN, LOG_JSON };
/* The name jobshim runs under (SPEC §11): argv[0]'s basename. */
enum persona { PERSONA_JOBSHIM, PERSONA_TINI, PERSONA_DUMB_INIT };

struct options {
	const char *job;	      /* NULL or "" = main app; "@all"; "@cron"; or a job's name */
	const char *config;	      /* NULL = ./.deploio.yaml if it exists */
	bool config_explicit;	      /* named by --config / JOBSHIM_CONFIG: must exist */
	const char *command;	      /* overrides the worker's command string */
	const struct size_spec *size; /* overrides the selected job's size; NULL: none */
	enum seccomp_profile seccomp; /* --seccomp, parsed */
	const char *caps;	      /* "default", "none", or a comma list */
	const char *user;	      /* NULL or USER[:GROUP] */
	const char *rlimits;	      /* NULL or "nofile=4096,core=0" */
	const char *run_dir;	      /* NULL = /run/jobshim, else $TMPDIR/jobshim */
	const char *cgroup_root;      /* JOBSHIM_CGROUP_ROOT, NULL = /sys/fs/cgroup */
	const char *launcher; /* buildpacks' launcher; NULL = /cnb/lifecycle/launcher (tests) */
	uint64_t grace_ms;
	int stop_signal;   /* 0 = the signal received */
	bool signal_group; /* forward to the job's process group */
	uint64_t backoff_min_ms;
	uint64_t backoff_max_ms;
	uint64_t backoff_reset_ms;
	uint64_t timeout_ms; /* overrides the one-shot jobs' timeout; 0 = theirs */
	enum log_format log_format;
	bool log_timestamps;
	int verbose; /* 0 quiet, 1 diagnostics and reaped orphans, 2 also signals */
	/* Issue 17: SPEC §1's rows and the drop-in names of §11. */
	uint64_t stop_delay_ms;	      /* before the stop signal is sent */
	struct sig_rewrite rewrite;   /* forwarded signals, rewritten or dropped */
	struct exit_set success_exit; /* the job's codes jobshim reports as 0 */
	int pdeathsig;		      /* 0: none */
	enum persona persona;	      /* PERSONA_JOBSHIM: nothing below differs */
	int subreaper;		      /* -1: when not PID 1 (jobshim); 0 no; 1 yes */
	bool orphan_lines;	      /* a line for each reaped orphan (-v, tini -w) */
	bool warn_no_reaping;	      /* tini: warn when neither PID 1 nor a subreaper */
	bool suspend_on_tty_signals;  /* dumb-init: TSTP/TTIN/TTOU also stop jobshim */
	bool exit_with_main;	      /* dumb-init: no grace for leftovers after the main exit */
	bool term_leftovers;	      /* with exit_with_main: SIGTERM the job's group first */
	bool keep_sigmask;	      /* tini: the job gets the signal mask jobshim inherited */
	bool leave_cwd;		      /* dumb-init: chdir / once the job runs */
	bool watch_config;	      /* --watch-config: reload when the file changes */
	char **argv;		      /* the main app's command, NULL-terminated */
	int argc;
};

#endif

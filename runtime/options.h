/* The run's settings after argv and environment are read (SPEC §1).
 * shim/options.c fills it; runtime/ only reads it. Strings point into argv
 * or the environment and are not owned. */
#ifndef JOBSHIM_OPTIONS_H
#define JOBSHIM_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum command {
	CMD_RUN,
	CMD_CHECK,
	CMD_STATS,
	CMD_VERSION,
	CMD_HELP,
	CMD_RESTART, /* jobshim restart [JOB] (SPEC §10) */
	CMD_SIGNAL,  /* jobshim signal JOB SIG */
	CMD_RELOAD,  /* jobshim reload */
};
#define CTL_ARGS_MAX 2 /* words after a control command */
enum log_format { LOG_PLAIN, LOG_JSON };
enum output_format { OUT_TABLE, OUT_JSON };

struct options {
	enum command cmd;
	const char *job;	 /* NULL or "" = main app; "@all"; "@cron"; or a job's name */
	const char *config;	 /* NULL = ./.deploio.yaml if it exists */
	bool config_explicit;	 /* named by --config / JOBSHIM_CONFIG: must exist */
	const char *command;	 /* overrides the worker's command string */
	const char *size;	 /* overrides the selected job's size; validated */
	const char *seccomp;	 /* "default", "strict", "off" */
	const char *caps;	 /* "default", "none", or a comma list */
	const char *user;	 /* NULL or USER[:GROUP] */
	const char *rlimits;	 /* NULL or "nofile=4096,core=0" */
	const char *run_dir;	 /* NULL = /run/jobshim, else $TMPDIR/jobshim */
	const char *cgroup_root; /* JOBSHIM_CGROUP_ROOT, NULL = /sys/fs/cgroup */
	uint64_t grace_ms;
	const char *stop_signal_name; /* as given, NULL = the signal received */
	int stop_signal;	      /* 0 = the signal received */
	bool signal_group;	      /* forward to the job's process group */
	uint64_t backoff_min_ms;
	uint64_t backoff_max_ms;
	uint64_t backoff_reset_ms;
	uint64_t timeout_ms;	     /* overrides the one-shot jobs' timeout; 0 = theirs */
	const char *log_format_name; /* as given: "plain" or "json" */
	enum log_format log_format;
	bool log_timestamps;
	bool verbose_flag;
	int verbose;
	bool watch_config;			/* --watch-config: reload when the file changes */
	enum output_format output;		/* check / stats -o */
	const char *ctl_args[CTL_ARGS_MAX + 1]; /* restart/signal: JOB, SIG (one extra: an error) */
	int ctl_argc;
	char **argv; /* the main app's command, NULL-terminated */
	int argc;
};

#endif

/* argv and environment → the command jobshim runs and the settings runtime
 * gets (SPEC §1). Pure: the environment is passed in, nothing is printed.
 * Strings point into argv or the environment and are not owned. */
#ifndef JOBSHIM_CLI_H
#define JOBSHIM_CLI_H

#include <stddef.h>

#include "options.h"

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
enum output_format { OUT_TABLE, OUT_JSON };

struct cli {
	enum command cmd;
	struct options o;			/* what runtime gets */
	enum output_format output;		/* check / stats -o */
	const char *ctl_args[CTL_ARGS_MAX + 1]; /* restart/signal: JOB, SIG (one extra: an error) */
	int ctl_argc;
	/* The values as given, before validate() turns them into o's. */
	const char *log_format_name;  /* "plain" or "json" */
	const char *seccomp_name;     /* "default", "strict" or "off" */
	const char *size_name;	      /* NULL or a size of SPEC §6 */
	const char *stop_signal_name; /* NULL = the signal received */
	int verbose_flags;	      /* how many -v were given */
};

/* Fills c from argv and envp (a flag wins over its variable). Returns 0, or
 * -EINVAL with a one-line message in err naming the option or variable. */
int cli_parse(int argc, char **argv, char *const *envp, struct cli *c, char *err, size_t errlen);

/* The --help text. */
extern const char cli_usage[];
/* The same under the names tini (docker-init) and dumb-init. */
extern const char cli_usage_tini[];
extern const char cli_usage_dumb_init[];

#endif

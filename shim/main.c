/* jobshim: argv and environment → options → plan → runtime. The only
 * place that exits. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "ctl.h"
#include "log.h"
#include "plan.h"
#include "spawn.h"
#include "supervise.h"

extern char **environ;

/* Exit statuses of jobshim itself (SPEC §1); the others are the jobs'. */
#define EXIT_USAGE	     2
#define EXIT_ALREADY_RUNNING 75

/* --success-exit / tini -e: the job's listed exit codes end jobshim with 0
 * (the JVM's 143 after a TERM counted as a clean stop). */
static int success_exit_map(const struct options *o, int code)
{
	return exit_set_has(&o->success_exit, code) ? 0 : code;
}

static const char *const persona_names[] = {"jobshim", "tini", "dumb-init"};

static int run(const struct options *o)
{
	/* 64 messages of 1 KiB: static, so that the frames below do not
	 * start 66 KiB deeper in the stack, each on pages of their own. */
	static struct errlist errs;
	struct run_plan plan;
	bool main_mode = o->job == NULL || o->job[0] == '\0';
	int r, code;

	if (main_mode && o->argc == 0) {
		log_msg("no command to run (usage: jobshim [OPTIONS] [--] COMMAND [ARG...], or "
			"JOBSHIM_JOB=NAME for a worker)");
		return EXIT_USAGE;
	}
	/* Before any file is read: a TERM during start-up stays pending. */
	if (supervise_block_signals() < 0)
		log_msg("unable to block signals: %s", strerror(errno));
	errlist_clear(&errs);
	r = plan_build(o, environ, &plan, &errs);
	for (size_t i = 0; i < errs.n; i++)
		log_msg("%s%s", r == 0 ? "warning: " : "", errs.item[i].msg);
	if (errs.dropped > 0)
		log_msg("... and %zu more errors", errs.dropped);
	if (r == 0 && errs.n > 0)
		log_msg("warning: the configuration is not valid (see above); the main app starts "
			"anyway, with the settings of the layers that are valid");
	if (r == -ENOMEM) {
		log_msg("out of memory");
		return EXIT_USAGE;
	}
	if (r < 0)
		return EXIT_USAGE;
	if (plan.n_jobs > 0)
		log_set_job(plan.all_mode || plan.cron_mode ? "jobshim" : plan.jobs[0].name);
	code = supervise_run(&plan, o);
	/* exit returns all memory at once; handing the plan back piece by
	 * piece first costs munmap calls on every start-up. The sanitizer
	 * build frees it, so that LeakSanitizer proves nothing else leaks. */
#ifdef __SANITIZE_ADDRESS__
	plan_free(&plan);
#endif
	if (code == -EEXIST)
		return EXIT_ALREADY_RUNNING;
	if (code < 0)
		return EXIT_SETUP_FAILED;
	return success_exit_map(o, code);
}

int main(int argc, char **argv)
{
	struct cli c;
	const struct options *o = &c.o;
	char err[512];

	if (cli_parse(argc, argv, environ, &c, err, sizeof(err)) < 0) {
		fprintf(stderr, "jobshim: %s\n", err);
		return EXIT_USAGE;
	}
	log_setup(o->log_format, o->log_timestamps, o->verbose);
	switch (c.cmd) {
	case CMD_VERSION:
		if (o->persona != PERSONA_JOBSHIM)
			printf("jobshim %s (as %s)\n", JOBSHIM_VERSION, persona_names[o->persona]);
		else
			printf("jobshim %s\n", JOBSHIM_VERSION);
		return 0;
	case CMD_HELP:
		fputs(o->persona == PERSONA_TINI	? cli_usage_tini
		      : o->persona == PERSONA_DUMB_INIT ? cli_usage_dumb_init
							: cli_usage,
		      stdout);
		return 0;
	case CMD_CHECK:
		return check_command(o, c.output, environ, stdout);
	case CMD_STATS:
		return stats_command(o->run_dir, c.output, stdout);
	case CMD_RESTART:
	case CMD_SIGNAL:
	case CMD_RELOAD:
		return ctl_command(&c);
	case CMD_RUN:
		break;
	}
	return run(o);
}

/* The faces of `jobshim check` and `jobshim stats` (SPEC §8, §9): runtime/
 * computes the plan report and the stats rows, these render them as a
 * table or JSON (jsonw.h, fmt.h), send errors through log.h and map the
 * results to exit statuses. */
#ifndef JOBSHIM_COMMANDS_H
#define JOBSHIM_COMMANDS_H

#include <stddef.h>
#include <stdio.h>

#include "cli.h"
#include "jsonw.h"
#include "options.h"
#include "plan.h"
#include "stats.h"

/* Exit statuses of check and stats (README: check, stats). */
#define EXIT_CHECK_VALID   0
#define EXIT_CHECK_OUTPUT  1 /* valid, but the output could not be written */
#define EXIT_CHECK_INVALID 2 /* SPEC §9, every error logged */
#define EXIT_STATS_OK	   0
#define EXIT_STATS_FAILED  1 /* SPEC §8: no jobshim runs, or stats cannot say */

/* `jobshim check` for o (its environment env): the report on out as fmt
 * asks, the errors through log.h. Returns the exit status. */
int check_command(const struct options *o, enum output_format fmt, char *const *env, FILE *out);
/* The report as SPEC §9's text or as JSON; 0 or -errno of the output. */
int check_print_table(FILE *out, const struct plan_report *r);
int check_print_json(FILE *out, const struct plan_report *r);

/* Parts of the report, for tests: the rlimits as "nofile=4096 core=0" (nothing
 * for an empty set) or as a JSON object; a job's sandbox as its lines or as
 * its JSON members. */
void check_rlimits_text(FILE *out, const struct rlimit_set *rs);
void check_rlimits_json(struct jw *w, const struct rlimit_set *rs);
void check_sandbox_text(FILE *out, const struct sandbox_view *v, const struct sandbox_opts *o);
void check_sandbox_json(struct jw *w, const struct sandbox_view *v, const struct sandbox_opts *o);

/* `jobshim stats`: the rows on out as fmt asks, errors through log.h.
 * Returns the exit status. */
int stats_command(const char *run_dir_opt, enum output_format fmt, FILE *out);
/* The table of SPEC §8 (left-aligned columns, each as wide as its widest
 * cell, two spaces apart; ATTEMPT and NEXT columns when a row is a one-shot
 * job) or {"jobs":[...]} JSON. 0 or -errno of the output. */
int stats_print_table(FILE *out, const struct stats_row *rows, size_t n);
int stats_print_json(FILE *out, const struct stats_row *rows, size_t n);

#endif

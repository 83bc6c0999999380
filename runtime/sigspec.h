/* Signal and exit-code lists of SPEC §1 (issue 17): --rewrite,
 * --success-exit, --pdeathsig and the peers' -r, -e, -p. Pure parsers. */
#ifndef JOBSHIM_SIGSPEC_H
#define JOBSHIM_SIGSPEC_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

#define SIGSPEC_MAX 64 /* signals 1..64: the standard ones and the real-time */

/* Forwarded signal rewriting: to[s] is what s becomes; -1 unchanged, 0
 * dropped (not forwarded). */
struct sig_rewrite {
	int8_t to[SIGSPEC_MAX + 1];
};

/* Exit codes 0..255 reported as 0. */
struct exit_set {
	uint32_t bits[256 / 32];
};

/* "TERM", "SIGTERM", "term", or a number 1..64 (allow_zero: 0 too). Returns 0
 * or -EINVAL. */
int sig_parse(const char *s, bool allow_zero, int *sig);

void sig_rewrite_init(struct sig_rewrite *rw);
/* Adds "FROM:TO[,FROM:TO...]" (names or numbers; TO 0 drops FROM) to rw; a
 * later pair for the same FROM wins. Returns 0, or -EINVAL with err naming
 * the offending pair (cut at 64 bytes). */
int sig_rewrite_parse(const char *list, struct sig_rewrite *rw, struct err *err);
/* What sig is forwarded as (0: not at all). */
int sig_rewrite_apply(const struct sig_rewrite *rw, int sig);

/* Adds "CODE[,CODE|LOW-HIGH...]" (0..255) to set. Returns 0 or -EINVAL with
 * err naming the offending item (cut at 64 bytes). */
int exit_set_parse(const char *list, struct exit_set *set, struct err *err);
void exit_set_add(struct exit_set *set, int code);
bool exit_set_has(const struct exit_set *set, int code);

#endif

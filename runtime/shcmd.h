/* Worker command strings (SPEC §5): which ones the shell can exec, so that
 * the app itself is the job's main process. Pure. */
#ifndef JOBSHIM_SHCMD_H
#define JOBSHIM_SHCMD_H

#include <stdbool.h>

/* True when cmd is one simple command that `/bin/sh -c 'exec CMD'` runs
 * exactly as `/bin/sh -c CMD` would, with the program in the shell's place:
 * no operators (; & | && || < > ( ) newline), no command substitution, no
 * leading assignment, reserved word or shell builtin, no comment, quotes
 * balanced, and not already starting with exec. Anything else is compound:
 * the shell stays the main process ("write exec yourself"). */
bool shcmd_is_simple(const char *cmd);

#endif

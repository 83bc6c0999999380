/* argv and environment → struct options (SPEC §1). Pure: the environment is
 * passed in, nothing is printed. */
#ifndef JOBSHIM_CLI_H
#define JOBSHIM_CLI_H

#include <stddef.h>

#include "options.h"

/* Fills o from argv and envp (a flag wins over its variable). Returns 0, or
 * -EINVAL with a one-line message in err naming the option or variable. */
int options_parse(int argc, char **argv, char *const *envp, struct options *o, char *err,
		  size_t errlen);

/* The --help text. */
extern const char cli_usage[];
/* The same under the names tini (docker-init) and dumb-init. */
extern const char cli_usage_tini[];
extern const char cli_usage_dumb_init[];

#endif

/* `jobshim restart [JOB]`, `jobshim signal JOB SIG`, `jobshim reload`
 * (SPEC §10): one request to the running jobshim over RUN_DIR/control, its
 * answer printed. */
#ifndef JOBSHIM_CTL_H
#define JOBSHIM_CTL_H

#include "cli.h"

/* Returns the exit status: 0 done, 1 no jobshim runs (or it cannot answer),
 * 2 a bad request. */
int ctl_command(const struct cli *c);

#endif

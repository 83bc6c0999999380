/* Signal names, without glibc's sigabbrev_np (musl has none). */
#ifndef JOBSHIM_SIGNAME_H
#define JOBSHIM_SIGNAME_H

/* "TERM" for SIGTERM, or NULL for a number without a standard name. */
const char *signal_name(int sig);

#endif

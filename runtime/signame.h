/* Signal names, without glibc's sigabbrev_np (musl has none). */
#ifndef JOBSHIM_SIGNAME_H
#define JOBSHIM_SIGNAME_H

/* "TERM" for SIGTERM, or NULL for a number without a standard name. */
const char *signal_name(int sig);
/* "QUIT", "SIGQUIT", "quit" or "3" → SIGQUIT; RTMIN+N / RTMAX-N too.
 * Returns the number, or -EINVAL (0, SIGKILL and SIGSTOP included: they
 * cannot be a stop signal). Pure. */
int signal_parse(const char *s);

#endif

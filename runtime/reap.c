#include "reap.h"

#include "signame.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

int status_to_code(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return 255; /* stopped/continued are never asked for */
}

void status_describe(int wstatus, char *buf, size_t cap)
{
	if (WIFSIGNALED(wstatus)) {
		const char *name = signal_name(WTERMSIG(wstatus));
		snprintf(buf, cap, "killed by signal %d%s%s%s", WTERMSIG(wstatus),
			 name ? " (SIG" : "", name ? name : "", name ? ")" : "");
	} else {
		snprintf(buf, cap, "exited with status %d", status_to_code(wstatus));
	}
}

int reap_all(reap_fn cb, void *ctx)
{
	int n = 0, st;
	pid_t pid;

	for (;;) {
		pid = waitpid(-1, &st, WNOHANG | WUNTRACED | WCONTINUED);
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid <= 0) /* 0: children left, none exited; ECHILD: none left */
			return n;
		n++;
		if (cb != NULL)
			cb(ctx, pid, st);
	}
}

#include "reap.h"

#include "signame.h"

#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
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

/* A child that called ptrace(PTRACE_TRACEME) made jobshim its tracer, and
 * waitpid reports its ptrace-stops even without WUNTRACED: they are not
 * exits. jobshim does not debug anyone: it detaches and lets the signal
 * that stopped the child go through as if nobody traced it, except the
 * SIGTRAP the kernel sends a traced process after execve (SI_USER from
 * itself), which an untraced process never gets. */
static bool untrace(pid_t pid, int wstatus)
{
	int sig = WSTOPSIG(wstatus);
	siginfo_t si;

	if (sig == SIGTRAP && ptrace(PTRACE_GETSIGINFO, pid, NULL, &si) == 0 &&
	    si.si_code == SI_USER && si.si_pid == pid)
		sig = 0;
	/* Fails (ESRCH) for a child that jobshim does not trace: a job
	 * control stop, reported because WUNTRACED was asked for. */
	return ptrace(PTRACE_DETACH, pid, NULL, (void *)(long)sig) == 0;
}

int reap_all(reap_fn cb, void *ctx)
{
	return reap_all_stops(cb, NULL, ctx);
}

int reap_all_stops(reap_fn cb, reap_fn stopped, void *ctx)
{
	int n = 0, st;
	pid_t pid;

	for (;;) {
		/* No WCONTINUED, and WUNTRACED only when asked: a job's group
		 * stops and continues are never read as exits. */
		pid = waitpid(-1, &st, WNOHANG | (stopped != NULL ? WUNTRACED : 0));
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid <= 0) /* 0: children left, none exited; ECHILD: none left */
			return n;
		if (WIFSTOPPED(st)) {
			if (!untrace(pid, st) && stopped != NULL)
				stopped(ctx, pid, st);
			continue;
		}
		if (!WIFEXITED(st) && !WIFSIGNALED(st))
			continue; /* continued: not asked for, never an exit */
		n++;
		if (cb != NULL)
			cb(ctx, pid, st);
	}
}

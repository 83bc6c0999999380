#include "reap.h"

#include "procstat.h"
#include "signame.h"
#include "xio.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* ------------------------------------------------------------ leftovers */

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = ((const struct proc_link *)a)->pid, y = ((const struct proc_link *)b)->pid;

	return (x > y) - (x < y);
}

size_t reap_descendants(const struct proc_link *procs, size_t n, pid_t root, bool *mine)
{
	/* 0 unknown, 1 ours, 2 not ours; parent[i]: the index of i's parent,
	 * or n when it is not in the snapshot. Static: scratch too large for
	 * PID 1's stack, used by one call at a time (the event loop's). */
	static signed char st[REAP_SCAN_MAX];
	static size_t parent[REAP_SCAN_MAX], path[REAP_SCAN_MAX];
	static struct proc_link sorted[REAP_SCAN_MAX];
	size_t count = 0;

	if (n > REAP_SCAN_MAX)
		n = REAP_SCAN_MAX;
	for (size_t i = 0; i < n; i++) {
		sorted[i] = (struct proc_link){procs[i].pid, (pid_t)i}; /* ppid: the index */
		st[i] = 0;
	}
	qsort(sorted, n, sizeof(sorted[0]), cmp_pid);
	for (size_t i = 0; i < n; i++) {
		struct proc_link key = {procs[i].ppid, 0}, *hit;
		hit = bsearch(&key, sorted, n, sizeof(sorted[0]), cmp_pid);
		parent[i] = hit != NULL ? (size_t)hit->ppid : n;
	}
	/* Walk each chain up to something settled, then settle the path. */
	for (size_t i = 0; i < n; i++) {
		size_t len = 0, k = i;
		signed char v;
		while (st[k] == 0 && len < n) {
			path[len++] = k;
			if (procs[k].pid == root || procs[k].ppid <= 0) {
				st[k] = 2; /* root itself, or entered from outside */
				break;
			}
			if (procs[k].ppid == root) {
				st[k] = 1;
				break;
			}
			if (parent[k] == n) {
				st[k] = 2; /* parent not in the snapshot */
				break;
			}
			k = parent[k];
		}
		v = st[k] != 0 ? st[k] : 2; /* a cycle (impossible): not ours */
		for (size_t m = 0; m < len; m++)
			st[path[m]] = v;
	}
	for (size_t i = 0; i < n; i++) {
		mine[i] = st[i] == 1;
		count += mine[i];
	}
	return count;
}

bool proc_is_ours(const char *proc_root)
{
	char path[PATH_MAX], link[32];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/self", proc_root != NULL ? proc_root : "/proc");
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return false;
	link[n] = '\0';
	return strtol(link, NULL, 10) == (long)getpid();
}

int reap_signal_descendants(const char *proc_root, int sig)
{
	/* Scratch, static for the same reason as reap_descendants'. */
	static struct proc_link procs[REAP_SCAN_MAX];
	static bool mine[REAP_SCAN_MAX], zombie[REAP_SCAN_MAX];
	const char *root = proc_root != NULL ? proc_root : "/proc";
	struct dirent *e;
	size_t n = 0;
	int sent = 0;
	DIR *d = opendir(root);

	if (d == NULL)
		return -errno;
	while ((e = readdir(d)) != NULL && n < REAP_SCAN_MAX) {
		char path[PATH_MAX], line[1024];
		struct procstat_fields f;
		ssize_t len;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "%s/%s/stat", root, e->d_name);
		len = read_file(path, line, sizeof(line));
		if (len <= 0 || procstat_parse_stat(line, (size_t)len, &f) < 0)
			continue; /* gone meanwhile */
		procs[n] = (struct proc_link){f.pid, f.ppid};
		zombie[n] = f.state == 'Z' || f.state == 'X';
		n++;
	}
	closedir(d);
	reap_descendants(procs, n, getpid(), mine);
	for (size_t i = 0; i < n; i++) {
		/* A zombie is gone already: its parent (jobshim, or a leftover
		 * about to die) reaps it. */
		if (!mine[i] || zombie[i])
			continue;
		if (kill(procs[i].pid, sig) == 0)
			sent++;
	}
	/* More processes than one scan holds: report some left, scan again. */
	return n == REAP_SCAN_MAX && sent == 0 ? 1 : sent;
}

/* What loading the seccomp filter costs a start: forks N children that
 * each set no_new_privs, load a filter and _exit, for each of: no filter,
 * a one-instruction filter that allows everything (what any filter costs),
 * jobshim's compact `default` program (tools/seccomp-compact.c), and the
 * program libseccomp builds from the same table (binary tree, as the first
 * release embedded). Round robin, like spawnloop.
 *
 *   filterload N
 *
 * Output, one line each: "NAME INSNS US_PER_RUN" (fork + load + exit + wait). */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "seccomp-compact.h"
#include "seccomp-profile.h"

#define NV 4

static struct sock_filter compact[BPF_MAXINSNS], lib[BPF_MAXINSNS];
static struct sock_filter allow[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int run(const struct sock_fprog *prog)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    (prog && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog, 0, 0) < 0))
			_exit(1);
		_exit(0);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	char err[256] = "";
	long n = argc == 2 ? atol(argv[1]) : 0;
	int fd = memfd_create("bpf", 0), len;
	ssize_t got;

	if (n <= 0) {
		fprintf(stderr, "usage: filterload N\n");
		return 2;
	}
	len = scprof_compact(SCPROF_DEFAULT, compact, BPF_MAXINSNS);
	if (len < 0 || fd < 0 || scprof_export_bpf(SCPROF_DEFAULT, fd, err, sizeof(err)) < 0) {
		fprintf(stderr, "filterload: %s\n", err);
		return 1;
	}
	got = pread(fd, lib, sizeof(lib), 0);
	if (got <= 0)
		return 1;
	struct sock_fprog progs[] = {
	    {0, NULL},
	    {1, allow},
	    {(unsigned short)len, compact},
	    {(unsigned short)(got / (ssize_t)sizeof(lib[0])), lib},
	};
	const char *names[NV] = {"none", "allow-all", "compact", "libseccomp"};
	double total[NV] = {0};
	for (long i = 0; i < n; i++) {
		for (int k = 0; k < NV; k++) {
			int v = (int)((i + k) % NV);
			double t0 = now_s();
			if (run(v ? &progs[v] : NULL) < 0) {
				fprintf(stderr, "filterload: %s failed\n", names[v]);
				return 1;
			}
			total[v] += now_s() - t0;
		}
	}
	for (int v = 0; v < NV; v++)
		printf("%s %u %.1f\n", names[v], progs[v].len, total[v] / (double)n * 1e6);
	return 0;
}

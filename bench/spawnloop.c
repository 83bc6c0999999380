/* Start-up cost: runs each of several commands N times (fork, execvp, wait4)
 * and prints, per command, the wall time and CPU time its N runs took. A bash
 * loop would add its own fork and parsing noise; this adds one fork+wait per
 * run, the same for the bare command and for every init wrapping it.
 *
 *   spawnloop N [NAME=VALUE...] COMMAND [ARG...] [::: ...]...
 *
 * The commands take turns run by run (round robin, each round starting with
 * the next command), so that load from elsewhere on the machine hits all of
 * them alike. Output, one line per command in the order given:
 *   INDEX WALL_S CPU_S MEDIAN_WALL_MS FAILED
 * WALL_S and CPU_S are sums over the N runs (CPU = user + system of the run's
 * whole process tree, from wait4); MEDIAN_WALL_MS is the median single run.
 * Leading NAME=VALUE words of a command are set in its environment. Each
 * run's stdin, stdout and stderr are /dev/null; its signal mask and
 * dispositions are the defaults. Exit status 1 if any run failed. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CMDS 16
#define MAX_RUNS 100000

struct cmd {
	char **argv;
	double *walls; /* N single-run wall times, seconds */
	double wall, cpu;
	unsigned long failed;
};

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double tv_s(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static void child_exec(int devnull, char **argv)
{
	sigset_t none;

	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL); /* EINVAL for KILL/STOP and libc's own: harmless */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 || dup2(devnull, 2) < 0)
		_exit(126);
	/* Leading NAME=VALUE words go into the environment, as with env(1)
	 * but without the extra exec that env would cost. */
	while (argv[0] != NULL && argv[0][0] != '/' && strchr(argv[0], '=') != NULL) {
		if (putenv(argv[0]) != 0)
			_exit(126);
		argv++;
	}
	if (argv[0] == NULL)
		_exit(126);
	execvp(argv[0], argv);
	_exit(127);
}

static int run_once(int devnull, struct cmd *c, unsigned long i)
{
	struct rusage ru;
	int status;
	double t0 = now_s();
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0)
		child_exec(devnull, c->argv);
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR)
			return -errno;
	c->walls[i] = now_s() - t0;
	c->wall += c->walls[i];
	c->cpu += tv_s(ru.ru_utime) + tv_s(ru.ru_stime);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		c->failed++;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	struct cmd cmds[MAX_CMDS];
	int ncmds = 0, devnull, rc = 0;
	unsigned long n;
	char *end;

	if (argc < 3) {
		fprintf(stderr, "usage: spawnloop N COMMAND [ARG...] [::: COMMAND [ARG...]]...\n");
		return 2;
	}
	errno = 0;
	n = strtoul(argv[1], &end, 10);
	if (errno != 0 || *end != '\0' || argv[1][0] == '-' || n == 0 || n > MAX_RUNS) {
		fprintf(stderr, "spawnloop: bad count %s\n", argv[1]);
		return 2;
	}
	/* Split argv at ":::" in place: each separator becomes a NULL. */
	for (int i = 2; i < argc; i++) {
		if (i == 2 || strcmp(argv[i - 1], ":::") == 0) {
			if (strcmp(argv[i], ":::") == 0 || ncmds == MAX_CMDS) {
				fprintf(stderr, "spawnloop: empty command or more than %d\n",
					MAX_CMDS);
				return 2;
			}
			cmds[ncmds] = (struct cmd){.argv = argv + i};
			cmds[ncmds].walls = calloc(n, sizeof(double));
			if (cmds[ncmds].walls == NULL) {
				perror("spawnloop");
				return 2;
			}
			ncmds++;
		}
	}
	for (int i = 2; i < argc; i++)
		if (strcmp(argv[i], ":::") == 0)
			argv[i] = NULL;
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0) {
		perror("spawnloop: /dev/null");
		return 2;
	}
	for (unsigned long i = 0; i < n; i++)
		for (int k = 0; k < ncmds; k++) {
			struct cmd *c = &cmds[(k + i) % (unsigned long)ncmds];
			int r = run_once(devnull, c, i);
			if (r < 0) {
				fprintf(stderr, "spawnloop: %s: %s\n", c->argv[0], strerror(-r));
				return 2;
			}
		}
	for (int k = 0; k < ncmds; k++) {
		struct cmd *c = &cmds[k];
		qsort(c->walls, n, sizeof(double), cmp_double);
		printf("%d %.6f %.6f %.4f %lu\n", k, c->wall, c->cpu, c->walls[n / 2] * 1e3,
		       c->failed);
		if (c->failed > 0) {
			fprintf(stderr, "spawnloop: %lu of %lu runs of %s failed\n", c->failed, n,
				c->argv[0]);
			rc = 1;
		}
		free(c->walls);
	}
	return rc;
}

/* Line prefixer throughput (SPEC §5, PERF-NOTES): a producer process writes
 * SIZE bytes of 80-byte lines into a pipe; this process moves them to
 * /dev/null (or a pipe drained by a third process) either with a plain
 * read/write loop like cat, or through logpfx. Prints MB/s per mode and the
 * ratio to the cat loop.
 *
 *   logpfx_bench [-s MiB] [-r rounds] [-p] [-a] [-P KiB] [mode...]
 *   modes: cat (a read/write loop, 128 KiB buffer), cat-bin (/bin/cat), logpfx,
 *          logpfx-ts, logpfx-color, json   (default: cat logpfx logpfx-ts json)
 *   -p: output into a pipe read by a child instead of /dev/null.
 *   -P KiB: input pipe size (F_SETPIPE_SZ), as jobshim could set for a job.
 *   -a: pin the producer to CPU 0 and this process to CPU 1 (less noise).
 *
 * Build: gcc -O2 -D_GNU_SOURCE -Iruntime -o build/logpfx_bench \
 *        bench/logpfx_bench.c runtime/logpfx.c runtime/log.c runtime/xio.c */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "logpfx.h"

#define LINE	 80
#define WBUF	 (LINE * 819) /* 65520: whole lines, about one pipe's worth */
#define CAT_BUF	 (128 * 1024) /* what coreutils cat uses */
#define MODE_MAX 8

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static bool pin;      /* -a: producer on CPU 0, consumer on CPU 1 */
static int pipe_size; /* -P KiB: F_SETPIPE_SZ of the input pipe */

static void pin_to(int cpu)
{
	cpu_set_t set;

	if (!pin)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		die("sched_setaffinity");
}

/* Fds the children must not keep open: the far ends of the pipes. */
static int close_in_child[2] = {-1, -1};

static pid_t spawn_producer(int wfd, uint64_t total)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (pid == 0) {
		static char buf[WBUF];
		prctl(PR_SET_NAME, "producer"); /* tells it apart in perf */
		pin_to(0);
		for (int i = 0; i < 2; i++)
			if (close_in_child[i] >= 0)
				close(close_in_child[i]);
		for (int i = 0; i < WBUF; i++)
			buf[i] = (i % LINE == LINE - 1) ? '\n' : (char)('a' + i % 26);
		while (total > 0) {
			size_t n = total < WBUF ? (size_t)total : WBUF;
			if (write(wfd, buf, n) != (ssize_t)n)
				_exit(1);
			total -= n;
		}
		_exit(0);
	}
	return pid;
}

/* Reads everything from fd and throws it away (the far side of -p). */
static pid_t spawn_drain(int rfd, int wfd)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (pid == 0) {
		static char buf[CAT_BUF];
		close(wfd);
		while (read(rfd, buf, sizeof(buf)) > 0)
			;
		_exit(0);
	}
	return pid;
}

static int cat_loop(int in, int out)
{
	static char buf[CAT_BUF];
	ssize_t n;

	while ((n = read(in, buf, sizeof(buf))) > 0) {
		char *p = buf;
		while (n > 0) {
			ssize_t w = write(out, p, (size_t)n);
			if (w < 0)
				return -1;
			p += w;
			n -= w;
		}
	}
	return n < 0 ? -1 : 0;
}

/* The real cat(1), for reference: its CPU time is not counted. */
static int run_cat_binary(int in, int out)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (dup2(in, 0) < 0 || dup2(out, 1) < 0)
			_exit(127);
		execl("/bin/cat", "cat", (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -1;
	return 0;
}

static int logpfx_loop(const char *mode, int in, int out)
{
	struct logpfx_opts o = {.job = "sidekiq", .stream = "stdout", .out_fd = out};
	struct logpfx *p;
	ssize_t n;

	if (strcmp(mode, "logpfx-ts") == 0)
		o.timestamps = true;
	else if (strcmp(mode, "logpfx-color") == 0)
		o.color = "\x1b[36m", o.pad_to = 10;
	else if (strcmp(mode, "json") == 0)
		o.format = LOG_JSON;
	if (logpfx_new(&o, &p) < 0)
		die("logpfx_new");
	while ((n = logpfx_read(p, in)) > 0)
		;
	logpfx_flush(p);
	logpfx_free(p);
	return n < 0 ? -1 : 0;
}

static double user_s;

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	user_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* MB/s of input moved; *cpu gets this process's CPU seconds per GB. */
static double run(const char *mode, uint64_t total, bool to_pipe, double *cpu, double *user)
{
	double c0, u0;
	int pfd[2], out, opfd[2] = {-1, -1};
	pid_t prod, drain = -1;
	double t0, t1;
	int r;

	if (to_pipe) {
		if (pipe(opfd) < 0)
			die("pipe");
		drain = spawn_drain(opfd[0], opfd[1]);
		close(opfd[0]);
		out = opfd[1];
	} else {
		out = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (out < 0)
			die("/dev/null");
	}
	if (pipe(pfd) < 0)
		die("pipe");
	if (pipe_size > 0 && fcntl(pfd[1], F_SETPIPE_SZ, pipe_size) < 0)
		die("F_SETPIPE_SZ");
	close_in_child[0] = pfd[0];
	close_in_child[1] = out;
	t0 = now_s();
	c0 = cpu_s();
	u0 = user_s;
	prod = spawn_producer(pfd[1], total);
	close(pfd[1]);
	if (strcmp(mode, "cat") == 0)
		r = cat_loop(pfd[0], out);
	else if (strcmp(mode, "cat-bin") == 0)
		r = run_cat_binary(pfd[0], out);
	else
		r = logpfx_loop(mode, pfd[0], out);
	*cpu = (cpu_s() - c0) / ((double)total / 1e9);
	*user = (user_s - u0) / ((double)total / 1e9);
	close(out);
	waitpid(prod, NULL, 0);
	if (drain > 0)
		waitpid(drain, NULL, 0);
	t1 = now_s();
	close(pfd[0]);
	if (r < 0)
		die(mode);
	return (double)total / (t1 - t0) / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	const char *defaults[] = {"cat", "logpfx", "logpfx-ts", "json"};
	const char *modes[MODE_MAX];
	int nmodes = 0, rounds = 5, opt;
	uint64_t mib = 1024;
	bool to_pipe = false;
	double med[MODE_MAX], cat_med = 0;

	while ((opt = getopt(argc, argv, "s:r:paP:")) != -1) {
		char *end;
		switch (opt) {
		case 's':
			errno = 0;
			mib = strtoull(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || mib == 0 || mib > 1 << 20)
				die("-s");
			break;
		case 'r':
			errno = 0;
			rounds = (int)strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || rounds < 1 || rounds > 99)
				die("-r");
			break;
		case 'p':
			to_pipe = true;
			break;
		case 'a':
			pin = true;
			break;
		case 'P':
			errno = 0;
			pipe_size = (int)strtol(optarg, &end, 10) * 1024;
			if (errno != 0 || *end != '\0' || pipe_size <= 0 || pipe_size > 1 << 30)
				die("-P");
			break;
		default:
			fprintf(stderr,
				"usage: %s [-s MiB] [-r rounds] [-p] [-a] [-P KiB] [mode...]\n",
				argv[0]);
			return 2;
		}
	}
	for (int i = optind; i < argc && nmodes < MODE_MAX; i++)
		modes[nmodes++] = argv[i];
	if (nmodes == 0)
		for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
			modes[nmodes++] = defaults[i];

	pin_to(1);
	uint64_t total = mib << 20;
	total -= total % LINE;
	printf("%" PRIu64 " MiB of %d-byte lines, pipe -> %s, median of %d rounds (interleaved)\n",
	       mib, LINE, to_pipe ? "pipe -> reader" : "/dev/null", rounds);
	double samples[MODE_MAX][99], cpu[MODE_MAX][99], user[MODE_MAX][99];
	/* Interleave the modes so that machine noise hits them alike. */
	for (int r = 0; r < rounds; r++)
		for (int m = 0; m < nmodes; m++)
			samples[m][r] = run(modes[m], total, to_pipe, &cpu[m][r], &user[m][r]);
	for (int m = 0; m < nmodes; m++) {
		qsort(samples[m], (size_t)rounds, sizeof(double), cmp_double);
		qsort(cpu[m], (size_t)rounds, sizeof(double), cmp_double);
		qsort(user[m], (size_t)rounds, sizeof(double), cmp_double);
		med[m] = samples[m][rounds / 2];
		if (strcmp(modes[m], "cat") == 0)
			cat_med = med[m];
	}
	for (int m = 0; m < nmodes; m++) {
		printf("%-13s %8.0f MB/s", modes[m], med[m]);
		if (cat_med > 0)
			printf("  %5.1f%% of cat", 100.0 * med[m] / cat_med);
		printf("  (min %.0f, max %.0f)  consumer CPU %.3f s/GB (user %.3f)\n",
		       samples[m][0], samples[m][rounds - 1], cpu[m][rounds / 2],
		       user[m][rounds / 2]);
	}
	return 0;
}

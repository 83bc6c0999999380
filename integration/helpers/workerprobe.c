/* workerprobe: jobs that behave like real workers, for black-box tests of
 * jobshim's supervision (issue 12). Each reports what it received, one line
 * per event, to the file it is given; FILE.ready appears once it is set up.
 *
 *   workerprobe prefork FILE N   a prefork master (Celery, gunicorn): N pool
 *                                children write "child I SIG" to FILE; the
 *                                master, on TERM/INT/QUIT, writes "master SIG",
 *                                tells its pool with USR1, waits, exits 0
 *   workerprobe quiet FILE       an app that handles TSTP and TTIN (Sidekiq's
 *                                quiet and thread dump): writes "TSTP"/"TTIN",
 *                                runs on; TERM: "TERM", exit 0; USR2: crash,
 *                                exit 3
 *   workerprobe daemon FILE      starts a setsid daemon (appends its pid to
 *                                FILE), then exits 1
 *   workerprobe traceme FILE     ptrace(PTRACE_TRACEME), execs itself (which
 *                                raises the exec SIGTRAP), then records
 *                                USR1 ("USR1") and exits 0 on TERM
 *   workerprobe flood FILE N     writes N numbered lines ("line I") to stdout
 *                                (N 0: forever), recording TERM ("TERM", exit
 *                                0) meanwhile
 *   workerprobe sigflood PID N   queues N real-time signals (SIGRTMIN+1) to
 *                                PID, then SIGTERM; prints how many it queued
 *   workerprobe tree FILE        forks a child and a grandchild that sleep;
 *                                appends their pids to FILE; sleeps
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int out_fd = -1;
static char tag[32] = "";
static volatile sig_atomic_t got;

static void say(const char *text)
{
	char buf[128];
	int n = snprintf(buf, sizeof(buf), "%s%s\n", tag, text);

	if (write(out_fd, buf, (size_t)n) < 0)
		_exit(99);
}

static const char *name(int sig)
{
	switch (sig) {
	case SIGTERM:
		return "TERM";
	case SIGINT:
		return "INT";
	case SIGQUIT:
		return "QUIT";
	case SIGHUP:
		return "HUP";
	case SIGUSR1:
		return "USR1";
	case SIGUSR2:
		return "USR2";
	case SIGTSTP:
		return "TSTP";
	case SIGTTIN:
		return "TTIN";
	case SIGCONT:
		return "CONT";
	default:
		return "OTHER";
	}
}

static void on_record(int sig)
{
	say(name(sig));
	got = sig;
}

static void catch_signals(const int *sigs, size_t n, void (*fn)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sigfillset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	for (size_t i = 0; i < n; i++)
		sigaction(sigs[i], &sa, NULL);
}

static void open_out(const char *file)
{
	out_fd = open(file, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (out_fd < 0) {
		perror(file);
		exit(98);
	}
}

static void ready(const char *file)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s.ready", file);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, "ready\n", 6) < 0)
		exit(98);
	close(fd);
}

static void sleep_ms(long ms)
{
	struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&t, &t) < 0 && errno == EINTR)
		;
}

static const int stops[] = {SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1};

static int prefork(const char *file, int n)
{
	pid_t kids[16];

	if (n > 16)
		n = 16;
	open_out(file);
	for (int i = 0; i < n; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			snprintf(tag, sizeof(tag), "child %d ", i);
			catch_signals(stops, sizeof(stops) / sizeof(stops[0]), on_record);
			while (got != SIGUSR1)
				pause();
			_exit(0);
		}
	}
	snprintf(tag, sizeof(tag), "master ");
	catch_signals(stops, 4, on_record);
	sleep_ms(100); /* the pool installs its handlers */
	ready(file);
	while (got != SIGTERM && got != SIGINT && got != SIGQUIT)
		pause();
	for (int i = 0; i < n; i++)
		kill(kids[i], SIGUSR1);
	for (int i = 0; i < n; i++)
		waitpid(kids[i], NULL, 0);
	return 0;
}

static int quiet(const char *file)
{
	static const int sigs[] = {SIGTSTP, SIGTTIN, SIGTERM, SIGUSR2};

	open_out(file);
	catch_signals(sigs, sizeof(sigs) / sizeof(sigs[0]), on_record);
	for (int sig = SIGRTMIN; sig <= SIGRTMAX; sig++)
		signal(sig, SIG_IGN); /* a flood of them is forwarded */
	ready(file);
	for (;;) {
		pause();
		if (got == SIGTERM)
			return 0;
		if (got == SIGUSR2)
			return 3;
	}
}

static int daemon_(const char *file)
{
	pid_t pid = fork();

	if (pid == 0) {
		char buf[32];
		setsid();
		if (fork() != 0)
			_exit(0);
		open_out(file);
		snprintf(buf, sizeof(buf), "%d", (int)getpid());
		say(buf);
		close(out_fd);
		for (;;)
			pause();
	}
	waitpid(pid, NULL, 0);
	sleep_ms(100);
	return 1;
}

static int tree(const char *file)
{
	open_out(file);
	for (int level = 0; level < 2; level++) {
		pid_t pid = fork();
		if (pid != 0)
			break; /* the parent sleeps; the child forks once more */
		char buf[32];
		snprintf(buf, sizeof(buf), "%d", (int)getpid());
		say(buf);
	}
	for (;;)
		pause();
	return 0;
}

static int traced(const char *file)
{
	static const int sigs[] = {SIGUSR1, SIGTERM};

	open_out(file);
	catch_signals(sigs, 2, on_record);
	ready(file);
	for (;;) {
		pause();
		if (got == SIGTERM)
			return 0;
	}
}

static int flood(const char *file, long n)
{
	static const int sigs[] = {SIGTERM};
	char line[64];

	open_out(file);
	catch_signals(sigs, 1, on_record);
	ready(file);
	for (long i = 1; n == 0 || i <= n; i++) {
		int len = snprintf(line, sizeof(line), "line %ld\n", i);
		for (int off = 0; off < len;) {
			ssize_t w = write(1, line + off, (size_t)(len - off));
			if (w < 0 && errno != EINTR)
				return 97;
			off += w > 0 ? (int)w : 0;
			if (got == SIGTERM)
				return 0;
		}
		if (got == SIGTERM)
			return 0;
	}
	return 0;
}

static int sigflood(pid_t pid, long n)
{
	union sigval v = {.sival_int = 0};
	long sent = 0;

	while (sent < n && sigqueue(pid, SIGRTMIN + 1, v) == 0)
		sent++;
	if (kill(pid, SIGTERM) < 0)
		return 1;
	printf("%ld\n", sent);
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	const char *file = argc > 2 ? argv[2] : "/dev/null";

	if (strcmp(cmd, "prefork") == 0)
		return prefork(file, argc > 3 ? atoi(argv[3]) : 2);
	if (strcmp(cmd, "quiet") == 0)
		return quiet(file);
	if (strcmp(cmd, "daemon") == 0)
		return daemon_(file);
	if (strcmp(cmd, "sigflood") == 0)
		return sigflood((pid_t)atol(file), argc > 3 ? atol(argv[3]) : 1000);
	if (strcmp(cmd, "flood") == 0)
		return flood(file, argc > 3 ? atol(argv[3]) : 0);
	if (strcmp(cmd, "tree") == 0)
		return tree(file);
	if (strcmp(cmd, "traceme") == 0) {
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0) {
			perror("PTRACE_TRACEME");
			return 96;
		}
		execl("/proc/self/exe", argv[0], "traced", file, (char *)NULL);
		perror("exec");
		return 95;
	}
	if (strcmp(cmd, "traced") == 0)
		return traced(file);
	fprintf(stderr, "usage: workerprobe prefork|quiet|daemon|tree|traceme FILE [N]\n");
	return 2;
}

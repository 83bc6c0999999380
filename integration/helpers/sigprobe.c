/* sigprobe: a small job for black-box tests of jobshim. It reports what it
 * received and what /proc shows about it.
 *
 *   sigprobe exit N            exit with status N
 *   sigprobe kill SIG          die by signal SIG
 *   sigprobe record FILE       append each signal's number to FILE (one line
 *                              each); exit 0 on SIGTERM. Writes "ready\n" to
 *                              FILE.ready once the handlers are installed.
 *   sigprobe ignore-term FILE  ignore SIGTERM, write FILE when ready, sleep
 *   sigprobe status            print pid, pgid, SigBlk, SigIgn, open fds
 *   sigprobe orphans N MS      make N orphans that exit after MS ms; wait
 *                              2*MS; print the zombies left in the namespace
 *   sigprobe race N            N children exit the instant the probe does
 *   sigprobe sleep MS          sleep MS milliseconds, exit 0
 *   sigprobe lines N TAG       write N numbered lines to stdout and stderr
 *   sigprobe partial TEXT      write TEXT without newline, then SIGKILL self
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int record_fd = -1;

static void on_signal(int sig)
{
	char buf[8];
	int n = snprintf(buf, sizeof(buf), "%d\n", sig);

	if (write(record_fd, buf, (size_t)n) < 0)
		_exit(99);
	if (sig == SIGTERM)
		_exit(0);
}

static void sleep_ms(long ms)
{
	struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&t, &t) < 0 && errno == EINTR)
		;
}

static void touch(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || write(fd, text, strlen(text)) < 0) {
		perror(path);
		exit(98);
	}
	close(fd);
}

static int record(const char *file)
{
	char ready[4096];
	struct sigaction sa;

	record_fd = open(file, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (record_fd < 0) {
		perror(file);
		return 98;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigfillset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	for (int sig = 1; sig < 32; sig++)
		if (sig != SIGKILL && sig != SIGSTOP && sig != SIGCHLD)
			sigaction(sig, &sa, NULL);
	snprintf(ready, sizeof(ready), "%s.ready", file);
	touch(ready, "ready\n");
	for (;;)
		pause();
}

static void print_status(void)
{
	char line[512];
	FILE *f = fopen("/proc/self/status", "r");
	DIR *d;
	struct dirent *e;

	printf("pid %d\npgid %d\ntpgid %d\n", (int)getpid(), (int)getpgrp(),
	       (int)tcgetpgrp(STDIN_FILENO));
	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "SigBlk:", 7) == 0 || strncmp(line, "SigIgn:", 7) == 0)
			fputs(line, stdout);
	if (f != NULL)
		fclose(f);
	d = opendir("/proc/self/fd");
	printf("fds");
	while (d != NULL && (e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' && atoi(e->d_name) != dirfd(d))
			printf(" %s", e->d_name);
	printf("\n");
	if (d != NULL)
		closedir(d);
}

static int count_zombies(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int zombies = 0;

	while (d != NULL && (e = readdir(d)) != NULL) {
		char path[300], buf[512], *p;
		int fd, n;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		n = (int)read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		p = strrchr(buf, ')');
		if (p != NULL && p[1] == ' ' && p[2] == 'Z')
			zombies++;
	}
	if (d != NULL)
		closedir(d);
	return zombies;
}

static int orphans(int n, long ms)
{
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			if (fork() == 0) {
				sleep_ms(ms);
				_exit(0);
			}
			_exit(0);
		}
		if (pid > 0)
			waitpid(pid, NULL, 0);
	}
	sleep_ms(2 * ms + 500);
	printf("zombies %d\n", count_zombies());
	return 0;
}

static int race(int n)
{
	int p[2];

	if (pipe(p) < 0)
		return 98;
	for (int i = 0; i < n; i++) {
		if (fork() == 0) {
			char c;
			close(p[1]);
			while (read(p[0], &c, 1) < 0 && errno == EINTR)
				;
			_exit(0);
		}
	}
	/* Our exit closes the last write end: every child wakes and exits at
	 * once, together with us. */
	return 0;
}

static int lines(long n, const char *tag)
{
	for (long i = 1; i <= n; i++) {
		printf("%s out %ld\n", tag, i);
		fprintf(stderr, "%s err %ld\n", tag, i);
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	const char *arg = argc > 2 ? argv[2] : "0";

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(cmd, "exit") == 0)
		return atoi(arg);
	if (strcmp(cmd, "kill") == 0) {
		int sig = atoi(arg);
		signal(sig, SIG_DFL);
		kill(getpid(), sig);
		sleep_ms(5000);
		return 97;
	}
	if (strcmp(cmd, "record") == 0 && argc > 2)
		return record(arg);
	if (strcmp(cmd, "ignore-term") == 0 && argc > 2) {
		signal(SIGTERM, SIG_IGN);
		touch(arg, "ready\n");
		for (;;)
			pause();
	}
	if (strcmp(cmd, "status") == 0) {
		print_status();
		return 0;
	}
	if (strcmp(cmd, "orphans") == 0 && argc > 3)
		return orphans(atoi(arg), atol(argv[3]));
	if (strcmp(cmd, "race") == 0)
		return race(atoi(arg));
	if (strcmp(cmd, "sleep") == 0) {
		sleep_ms(atol(arg));
		return 0;
	}
	if (strcmp(cmd, "lines") == 0 && argc > 3)
		return lines(atol(arg), argv[3]);
	if (strcmp(cmd, "partial") == 0) {
		if (write(1, arg, strlen(arg)) < 0)
			return 98;
		kill(getpid(), SIGKILL);
	}
	fprintf(stderr, "sigprobe: unknown command \"%s\"\n", cmd);
	return 2;
}

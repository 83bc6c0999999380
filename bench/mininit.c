/* The floor for the start-up and memory rows: the least an init can do.
 * Forks, execs COMMAND in the child, waits for it and exits with its status
 * (128+N for signal N); no signal forwarding, no reaping of others, no
 * sandbox. Built static with musl, it shows what fork+exec+wait of a small
 * static binary costs on the machine at hand, so the table can say how much
 * of an init's overhead is its own work.
 *
 *   mininit [--] COMMAND [ARG...] */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int first = 1, status;
	pid_t pid;

	if (argc > 1 && strcmp(argv[1], "--") == 0)
		first = 2;
	if (first >= argc) {
		fputs("usage: mininit [--] COMMAND [ARG...]\n", stderr);
		return 2;
	}
	pid = fork();
	if (pid < 0)
		return 125;
	if (pid == 0) {
		execvp(argv[first], argv + first);
		_exit(errno == ENOENT ? 127 : 126);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 125;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

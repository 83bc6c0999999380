/* sigreset PROG [ARG...]: exec PROG with every signal at its default
 * disposition and an empty mask. Test harnesses run under shells and CI
 * runners that ignore SIGINT/SIGQUIT or block signals; jobshim passes its
 * dispositions on, so the tests start from a known state. */
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The kernel's struct sigaction: glibc refuses its own reserved signals
 * (32, 33), which GNU make, for one, leaves ignored. */
struct kernel_sigaction {
	void (*handler)(int);
	unsigned long flags;
	void (*restorer)(void);
	unsigned long mask;
};

int main(int argc, char **argv)
{
	sigset_t empty;

	if (argc < 2) {
		fputs("usage: sigreset PROG [ARG...]\n", stderr);
		return 2;
	}
	for (int sig = 1; sig < NSIG; sig++) {
		struct kernel_sigaction ksa = {.handler = SIG_DFL};
		syscall(SYS_rt_sigaction, sig, &ksa, NULL, sizeof(ksa.mask));
	}
	sigemptyset(&empty);
	sigprocmask(SIG_SETMASK, &empty, NULL);
	execvp(argv[1], argv + 1);
	perror(argv[1]);
	return 127;
}

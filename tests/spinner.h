/* A busy process in its own process group, for tests that measure CPU and
 * memory from /proc. It dies with the test (PDEATHSIG) and after 20 s at
 * the latest, so a failed test never leaves it behind. Include after
 * <cmocka.h>. */
#ifndef JOBSHIM_TEST_SPINNER_H
#define JOBSHIM_TEST_SPINNER_H

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

/* Returns the spinner's pid, which is also its process group. */
static pid_t spawn_spinner(void)
{
	pid_t child = fork();

	assert_true(child >= 0);
	if (child == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		alarm(20);
		setpgid(0, 0);
		for (volatile unsigned long x = 0;; x++)
			;
	}
	setpgid(child, child); /* whichever runs first, the group exists */
	return child;
}

#endif

/* Fixtures shared by the status-file and stats tests: a temp dir per test,
 * small files, and a job_status row. Included by one test file each, so the
 * static functions are never linked twice. Include after <cmocka.h>. */
#ifndef JOBSHIM_TEST_STATUS_FIXTURES_H
#define JOBSHIM_TEST_STATUS_FIXTURES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "status.h"

static char tmpdir[64];

static int setup_tmp(void **state)
{
	(void)state;
	strcpy(tmpdir, "/tmp/jobshim-status-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_tmp(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_text(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

static struct job_status job(const char *name, enum run_state st, pid_t pid, int64_t started,
			     unsigned unstable, int last)
{
	struct job_status j;

	memset(&j, 0, sizeof(j));
	snprintf(j.name, sizeof(j.name), "%s", name);
	strcpy(j.kind, "worker");
	strcpy(j.size, "micro");
	j.state = st;
	j.pid = pid;
	j.started_unix_ms = started;
	j.unstable = unstable;
	j.last_exit_code = last;
	return j;
}

#endif

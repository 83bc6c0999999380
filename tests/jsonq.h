/* The unit tests' JSON checks: integration/jsonq.py (python3's json module,
 * strict) run over a text the test produced, as the integration tests run
 * it over jobshim's output. Included by one test file each, so the static
 * functions are never linked twice. Include after <cmocka.h>. */
#ifndef JOBSHIM_TEST_JSONQ_H
#define JOBSHIM_TEST_JSONQ_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef JSONQ
#define JSONQ "integration/jsonq.py" /* the Makefile passes its absolute path */
#endif
#define JSONQ_MAX_ARGS 16

/* Runs `python3 jsonq.py ARG...` (the NULL-terminated arguments after out)
 * with len bytes of text on its stdin. Returns its exit status (0: the text
 * is JSON and every -a condition holds), 127 when python3 could not run;
 * *out, when out is not NULL, gets what it printed (malloc'd, without the
 * last newline). What jsonq says about a failure goes to stderr. */
static int jsonq(const char *text, size_t len, char **out, ...)
{
	const char *argv[JSONQ_MAX_ARGS + 4] = {"python3", "-I", JSONQ};
	char in_path[] = "/tmp/jobshim-jsonq-XXXXXX";
	char *buf = NULL;
	size_t n = 0, cap = 0;
	int argc = 3, in, pipefd[2], status;
	va_list ap;
	pid_t pid;

	va_start(ap, out);
	for (const char *a; (a = va_arg(ap, const char *)) != NULL;) {
		assert_true(argc < JSONQ_MAX_ARGS + 3);
		argv[argc++] = a;
	}
	va_end(ap);
	argv[argc] = NULL;

	/* The text through a file: no deadlock however much either side writes. */
	in = mkstemp(in_path);
	assert_true(in >= 0);
	unlink(in_path);
	assert_int_equal(write(in, text, len), (ssize_t)len);
	assert_int_equal(lseek(in, 0, SEEK_SET), 0);
	assert_int_equal(pipe(pipefd), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(in, 0);
		dup2(pipefd[1], 1);
		execvp(argv[0], (char *const *)argv);
		perror("jsonq: python3");
		_exit(127);
	}
	close(in);
	close(pipefd[1]);
	for (;;) {
		if (n + 4096 + 1 > cap) {
			cap = cap * 2 + 8192;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		ssize_t r = read(pipefd[0], buf + n, cap - n - 1);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(pipefd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
	if (out != NULL)
		*out = buf;
	else
		free(buf);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* text is one JSON document. */
__attribute__((unused)) static void assert_json(const char *text)
{
	if (jsonq(text, strlen(text), NULL, (char *)NULL) != 0)
		fail_msg("not JSON: %s", text);
}

/* The value of the Python expression expr over the JSON document text (the
 * document is d), as jsonq prints it: a string as it is, else JSON. */
__attribute__((unused)) static char *json_get(const char *text, const char *expr)
{
	char *out;

	if (jsonq(text, strlen(text), &out, expr, (char *)NULL) != 0)
		fail_msg("%s: not JSON, or no %s", text, expr);
	return out;
}

/* jsonq --each over the lines of text (every one ending in a newline), with
 * the condition cond (NULL: none): a malloc'd string with a letter a line,
 * 'y' where the line is JSON and cond holds, else 'n' (checks of the
 * checker itself, in one run). */
__attribute__((unused)) static char *jsonq_each(const char *text, size_t len, const char *cond)
{
	char *out, *w;

	if (cond != NULL)
		assert_int_equal(jsonq(text, len, &out, "--each", "-a", cond, (char *)NULL), 0);
	else
		assert_int_equal(jsonq(text, len, &out, "--each", (char *)NULL), 0);
	w = out;
	for (char *line = strtok(out, "\n"); line != NULL; line = strtok(NULL, "\n"))
		*w++ = strcmp(line, "ok") == 0 ? 'y' : 'n';
	*w = '\0';
	return out;
}

/* Texts a test collects to check in one jsonq run (one python3 start takes
 * about 0.1 s: a run a row would make a table test take seconds). */
struct jsonq_batch {
	char *buf; /* owned */
	size_t len, cap;
};

__attribute__((unused)) static void jsonq_batch_add(struct jsonq_batch *b, const char *s, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->buf = realloc(b->buf, b->cap);
		assert_non_null(b->buf);
	}
	memcpy(b->buf + b->len, s, n);
	b->len += n;
}

__attribute__((unused)) static void jsonq_batch_free(struct jsonq_batch *b)
{
	free(b->buf);
	*b = (struct jsonq_batch){0};
}

#endif

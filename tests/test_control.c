/* The control channel (SPEC §10): the request grammar, one row per accepted
 * or refused request; the wire form round trip; and a live socket: a
 * request answered, a bad one refused, a silent client timed out, a symlink
 * or FIFO at the name refused by both sides. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "control.h"

struct row {
	const char *in;
	int rc;
	enum control_verb verb;
	const char *job;
	int sig;
};

static const struct row rows[] = {
    {"reload", 0, CTL_RELOAD, "", 0},
    {"reload\n", 0, CTL_RELOAD, "", 0},
    {"restart", 0, CTL_RESTART, "", 0},
    {"restart\n", 0, CTL_RESTART, "", 0},
    {"restart sidekiq", 0, CTL_RESTART, "sidekiq", 0},
    {"restart a-1\n", 0, CTL_RESTART, "a-1", 0},
    {"signal sidekiq TSTP", 0, CTL_SIGNAL, "sidekiq", SIGTSTP},
    {"signal sidekiq SIGTSTP\n", 0, CTL_SIGNAL, "sidekiq", SIGTSTP},
    {"signal web hup", 0, CTL_SIGNAL, "web", SIGHUP},
    {"signal web sigusr1", 0, CTL_SIGNAL, "web", SIGUSR1},
    {"signal w 9", 0, CTL_SIGNAL, "w", 9},
    {"signal w 64", 0, CTL_SIGNAL, "w", 64},
    {"signal w KILL", 0, CTL_SIGNAL, "w", SIGKILL},
    {"restart "
     "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij123",
     0, CTL_RESTART, "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij123", 0},
    /* refused */
    {"", -EINVAL, 0, NULL, 0},
    {"\n", -EINVAL, 0, NULL, 0},
    {"reload\n\n", -EINVAL, 0, NULL, 0},
    {"reload now", -EINVAL, 0, NULL, 0},
    {"RELOAD", -EINVAL, 0, NULL, 0},
    {" reload", -EINVAL, 0, NULL, 0},
    {"reload ", -EINVAL, 0, NULL, 0},
    {"restart  sidekiq", -EINVAL, 0, NULL, 0},
    {"restart\tsidekiq", -EINVAL, 0, NULL, 0},
    {"restart a b", -EINVAL, 0, NULL, 0},
    {"restart Sidekiq", -EINVAL, 0, NULL, 0},
    {"restart side_kiq", -EINVAL, 0, NULL, 0},
    {"restart ../x", -EINVAL, 0, NULL, 0},
    {"restart "
     "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij1234",
     -EINVAL, 0, NULL, 0},
    {"restart sidekiq\r\n", -EINVAL, 0, NULL, 0},
    {"restart sid\xc3\xa9kiq", -EINVAL, 0, NULL, 0},
    {"signal sidekiq", -EINVAL, 0, NULL, 0},
    {"signal sidekiq TSTP now", -EINVAL, 0, NULL, 0},
    {"signal sidekiq FOO", -EINVAL, 0, NULL, 0},
    {"signal sidekiq SIG", -EINVAL, 0, NULL, 0},
    {"signal sidekiq 0", -EINVAL, 0, NULL, 0},
    {"signal sidekiq 65", -EINVAL, 0, NULL, 0},
    {"signal sidekiq 09", -EINVAL, 0, NULL, 0},
    {"signal sidekiq 100", -EINVAL, 0, NULL, 0},
    {"signal sidekiq -9", -EINVAL, 0, NULL, 0},
    {"signal sidekiq 9x", -EINVAL, 0, NULL, 0},
    {"stop sidekiq", -EINVAL, 0, NULL, 0},
    {"restart\nreload", -EINVAL, 0, NULL, 0},
};

static void test_parse_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct control_req req;
		struct err why = {0};
		int rc = control_parse(r->in, strlen(r->in), &req, &why);

		if (rc != r->rc)
			fail_msg("row %zu \"%s\": rc %d, want %d", i, r->in, rc, r->rc);
		if (rc < 0) {
			assert_true(why.msg[0] != '\0');
			continue;
		}
		assert_int_equal(req.verb, r->verb);
		assert_string_equal(req.job, r->job);
		assert_int_equal(req.sig, r->sig);
	}
}

static void test_parse_bounds(void **state)
{
	char buf[CONTROL_REQ_MAX + 2];
	struct control_req req;
	struct err why;

	(void)state;
	/* NUL inside the request, and a request of exactly the limit. */
	assert_int_equal(control_parse("reload\0x", 8, &req, &why), -EINVAL);
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "restart ", 8);
	assert_int_equal(control_parse(buf, CONTROL_REQ_MAX + 1, &req, &why), -EINVAL);
	assert_string_equal(why.msg, "request too long");
	assert_int_equal(control_parse(buf, CONTROL_REQ_MAX, &req, &why), -EINVAL);
}

static void test_format_round_trip(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct control_req a, b;
		struct err why;
		char buf[CONTROL_REQ_MAX + 1];
		int n;

		if (rows[i].rc < 0 || control_parse(rows[i].in, strlen(rows[i].in), &a, &why) < 0)
			continue;
		n = control_format(&a, buf, sizeof(buf));
		assert_true(n > 0);
		assert_int_equal(control_parse(buf, (size_t)n, &b, &why), 0);
		assert_memory_equal(&a, &b, sizeof(a));
	}
}

static void test_signal_names(void **state)
{
	(void)state;
	assert_int_equal(control_signal_parse("TERM", 4), SIGTERM);
	assert_int_equal(control_signal_parse("SIGTERM", 7), SIGTERM);
	assert_int_equal(control_signal_parse("Term", 4), SIGTERM);
	assert_int_equal(control_signal_parse("WINCH", 5), SIGWINCH);
	assert_int_equal(control_signal_parse("1", 1), 1);
	assert_int_equal(control_signal_parse("", 0), -EINVAL);
	assert_int_equal(control_signal_parse("SIGSIGTERM", 10), -EINVAL);
}

/* ------------------------------------------------------------ live socket */

static char dir[64];

static int setup(void **state)
{
	char tmpl[] = "/tmp/test_control.XXXXXX";

	(void)state;
	if (mkdtemp(tmpl) == NULL)
		return -1;
	snprintf(dir, sizeof(dir), "%s", tmpl);
	return 0;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

struct served {
	int calls;
	struct control_req last;
	uint32_t token;
};

static void on_req(void *ctx, uint32_t token, const struct control_req *req)
{
	struct served *sv = ctx;

	sv->calls++;
	sv->last = *req;
	sv->token = token;
}

/* Serves c until the child exits (or 5 s); answers each request with
 * "0 ok JOB". Returns the child's exit status. */
static int serve_until_exit(struct control *c, pid_t child, struct served *sv)
{
	uint64_t end = now_ms() + 5000;
	int status;

	while (now_ms() < end) {
		struct pollfd pfd[CONTROL_CONNS_MAX + 1];
		size_t n = control_pollfds(c, pfd, CONTROL_CONNS_MAX + 1);
		int calls = sv->calls;

		poll(pfd, n, 20);
		control_serve(c, pfd, n, now_ms(), on_req, sv);
		if (sv->calls != calls) {
			char text[80];
			snprintf(text, sizeof(text), "ok %s\n", sv->last.job);
			assert_true(control_waiting(c, sv->token));
			control_reply(c, sv->token, CONTROL_DONE, text);
			assert_false(control_waiting(c, sv->token));
		}
		if (waitpid(child, &status, WNOHANG) == child)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
	}
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	return 101;
}

static void test_live_request(void **state)
{
	struct control *c;
	struct served sv = {0};
	struct stat st;
	char path[96];
	pid_t child;

	(void)state;
	assert_int_equal(control_listen(dir, -1, &c), 0);
	snprintf(path, sizeof(path), "%s/%s", dir, CONTROL_SOCKET);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		struct control_req req = {.verb = CTL_RESTART};
		char reply[128];
		strcpy(req.job, "sidekiq");
		int r = control_request(dir, &req, 3000, reply, sizeof(reply));
		_exit(r == CONTROL_DONE && strcmp(reply, "ok sidekiq\n") == 0 ? 0 : 1);
	}
	assert_int_equal(serve_until_exit(c, child, &sv), 0);
	assert_int_equal(sv.calls, 1);
	assert_int_equal(sv.last.verb, CTL_RESTART);
	control_close(c);
	assert_int_equal(lstat(path, &st), -1); /* removed at close */
}

/* A raw client: sends text (may be malformed), returns the reply. */
static int raw_request(const char *text, size_t len, char *reply, size_t cap)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int s = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	ssize_t n;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s/%s", dir, CONTROL_SOCKET);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		return -1;
	if (len > 0 && send(s, text, len, 0) != (ssize_t)len)
		return -1;
	n = recv(s, reply, cap - 1, 0);
	close(s);
	if (n < 0)
		return -1;
	reply[n] = '\0';
	return (int)n;
}

static void test_live_bad_and_silent(void **state)
{
	struct control *c;
	struct served sv = {0};
	pid_t child;

	(void)state;
	assert_int_equal(control_listen(dir, -1, &c), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		char reply[256], big[4096];
		uint64_t t0;
		int ok = 1;

		ok &= raw_request("restart a  b", 12, reply, sizeof(reply)) > 0 &&
		      strncmp(reply, "2 jobshim: bad request: ", 24) == 0;
		memset(big, 'x', sizeof(big));
		ok &= raw_request(big, sizeof(big), reply, sizeof(reply)) > 0 &&
		      strstr(reply, "longer than") != NULL;
		/* Sends nothing: closed unanswered after CONTROL_IDLE_MS. */
		t0 = now_ms();
		ok &= raw_request("", 0, reply, sizeof(reply)) == 0;
		ok &= now_ms() - t0 >= CONTROL_IDLE_MS - 100 && now_ms() - t0 < 4000;
		_exit(ok ? 0 : 1);
	}
	assert_int_equal(serve_until_exit(c, child, &sv), 0);
	assert_int_equal(sv.calls, 0);
	control_close(c);
}

static void test_not_a_socket(void **state)
{
	struct control_req req = {.verb = CTL_RELOAD};
	struct control *c = NULL;
	char path[96], reply[64];

	(void)state;
	snprintf(path, sizeof(path), "%s/%s", dir, CONTROL_SOCKET);
	/* A symlink at the name: the server leaves it, the client refuses. */
	assert_int_equal(symlink("/nonexistent", path), 0);
	assert_int_equal(control_listen(dir, -1, &c), -EEXIST);
	assert_int_equal(control_request(dir, &req, 1000, reply, sizeof(reply)), -ENOTSOCK);
	unlink(path);
	/* A FIFO nobody reads: neither side opens it. */
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(control_listen(dir, -1, &c), -EEXIST);
	assert_int_equal(control_request(dir, &req, 1000, reply, sizeof(reply)), -ENOTSOCK);
	unlink(path);
	/* Nothing at all, and a stale socket nobody listens on. */
	assert_int_equal(control_request(dir, &req, 1000, reply, sizeof(reply)), -ENOENT);
	assert_int_equal(control_listen(dir, -1, &c), 0);
	control_close(c);
	{
		struct sockaddr_un a = {.sun_family = AF_UNIX};
		int s = socket(AF_UNIX, SOCK_SEQPACKET, 0);
		snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
		assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
		close(s);
	}
	assert_int_equal(control_request(dir, &req, 1000, reply, sizeof(reply)), -ECONNREFUSED);
	/* ... which the next jobshim replaces. */
	assert_int_equal(control_listen(dir, -1, &c), 0);
	control_close(c);
}

/* The run dir jobshim checked is where the socket goes: when the path has
 * been swapped for another directory since, the channel is not opened
 * rather than opened in the other one. */
static void test_swapped_run_dir(void **state)
{
	char run[96], old[96];
	struct control *c = NULL;
	struct stat st;
	int fd;

	(void)state;
	snprintf(run, sizeof(run), "%s/run", dir);
	snprintf(old, sizeof(old), "%s/old", dir);
	assert_int_equal(mkdir(run, 0700), 0);
	fd = open(run, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(rename(run, old), 0);
	assert_int_equal(mkdir(run, 0700), 0);
	assert_true(control_listen(run, fd, &c) < 0);
	assert_null(c);
	assert_int_equal(fstatat(fd, CONTROL_SOCKET, &st, AT_SYMLINK_NOFOLLOW), -1);
	/* Unswapped, the same call opens it in that directory. */
	assert_int_equal(rmdir(old), 0);
	close(fd);
	fd = open(run, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	unlinkat(fd, CONTROL_SOCKET, 0); /* the first attempt's, in the other directory */
	assert_int_equal(control_listen(run, fd, &c), 0);
	assert_int_equal(fstatat(fd, CONTROL_SOCKET, &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISSOCK(st.st_mode));
	control_close(c);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_table),	      cmocka_unit_test(test_parse_bounds),
	    cmocka_unit_test(test_format_round_trip), cmocka_unit_test(test_signal_names),
	    cmocka_unit_test(test_live_request),      cmocka_unit_test(test_live_bad_and_silent),
	    cmocka_unit_test(test_not_a_socket),      cmocka_unit_test(test_swapped_run_dir),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

/* Tests of the non-blocking output queue (runtime/outq.c): a full pipe
 * never blocks a write, the writer's own description stays blocking,
 * what waits comes out complete and in order, room shrinks for
 * back-pressure, EPIPE discards and counts; and the prefixer's worst-case
 * bound (logpfx_input_for) holds for the worst input. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cmocka.h>

#include "logpfx.h"
#include "outq.h"

static char pattern(size_t i)
{
	return (char)('a' + (i * 7 + i / 97) % 26);
}

static void test_full_pipe_never_blocks(void **state)
{
	int p[2];
	char *data = malloc(512 * 1024), *back = malloc(512 * 1024);
	size_t got = 0;
	struct outq *q;

	(void)state;
	assert_non_null(data);
	assert_int_equal(pipe(p), 0);
	for (size_t i = 0; i < 512 * 1024; i++)
		data[i] = pattern(i);
	q = outq_new(p[1]);
	assert_non_null(q);
	/* Nobody reads: 512 KiB do not fit a 64 KiB pipe, yet this returns. */
	for (size_t off = 0; off < 512 * 1024; off += 4096) {
		struct iovec iov = {.iov_base = data + off, .iov_len = 4096};
		assert_int_equal(outq_writev(q, &iov, 1), 0);
	}
	assert_true(outq_pending(q) > 0);
	assert_true(outq_room(q) < OUTQ_CAP - OUTQ_LOG_RESERVE);
	assert_true(outq_poll_fd(q) >= 0);
	/* The pipe's own (shared) description is still blocking. */
	assert_int_equal(fcntl(p[1], F_GETFL) & O_NONBLOCK, 0);
	/* Reading drains it, complete and in order. */
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	while (got < 512 * 1024) {
		ssize_t n = read(p[0], back + got, 512 * 1024 - got);
		if (n > 0)
			got += (size_t)n;
		outq_flush(q);
	}
	assert_int_equal(outq_pending(q), 0);
	assert_memory_equal(back, data, 512 * 1024);
	assert_int_equal(outq_lost(q), 0);
	outq_free(q);
	close(p[0]);
	close(p[1]);
	free(data);
	free(back);
}

static void test_epipe_discards(void **state)
{
	int p[2];
	struct iovec iov = {.iov_base = "line\n", .iov_len = 5};
	struct outq *q;
	sigset_t set;
	int err;

	(void)state;
	/* jobshim keeps SIGPIPE blocked; so does this test. */
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigprocmask(SIG_BLOCK, &set, NULL);
	assert_int_equal(pipe(p), 0);
	q = outq_new(p[1]);
	close(p[0]);
	assert_int_equal(outq_writev(q, &iov, 1), -EPIPE);
	assert_int_equal(outq_take_event(q, &err), OUTQ_CLOSED);
	assert_int_equal(err, EPIPE);
	assert_int_equal(outq_writev(q, &iov, 1), -EPIPE);
	assert_int_equal(outq_lost(q), 5);
	assert_int_equal(outq_take_event(q, &err), OUTQ_NONE);
	assert_int_equal(outq_pending(q), 0);
	outq_free(q);
	close(p[1]);
}

/* A sink that counts what the prefixer writes. */
static ssize_t count_sink(void *ctx, const struct iovec *iov, int cnt)
{
	size_t *total = ctx, n = 0;

	for (int i = 0; i < cnt; i++)
		n += iov[i].iov_len;
	*total += n;
	return (ssize_t)n;
}

/* The worst input (every byte a line; every byte escaped to 6 in JSON)
 * never makes more output than logpfx_input_for promised room for. */
static void test_input_bound(void **state)
{
	static const struct {
		enum log_format fmt;
		char fill;
	} rows[] = {{LOG_PLAIN, '\n'}, {LOG_JSON, '\n'}, {LOG_JSON, '\x01'}, {LOG_PLAIN, 'x'}};
	static const size_t rooms[] = {100, 4096, 65536, OUTQ_CAP};

	(void)state;
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		for (size_t k = 0; k < sizeof(rooms) / sizeof(rooms[0]); k++) {
			size_t total = 0, n;
			struct logpfx_opts o = {.job = "a-rather-long-job-name",
						.pad_to = 30,
						.color = "\x1b[36m",
						.format = rows[r].fmt,
						.timestamps = true,
						.stream = "stdout",
						.out_fd = 1,
						.sink = count_sink,
						.sink_ctx = &total};
			struct logpfx *p;
			char *buf;

			logpfx_new(&o, &p);
			assert_non_null(p);
			n = logpfx_input_for(p, rooms[k]);
			buf = malloc(n + 1);
			memset(buf, rows[r].fill, n + 1);
			if (n > 0)
				assert_int_equal(logpfx_feed(p, buf, n), 0);
			assert_true(total <= rooms[k]);
			/* The partial line's flush stays within its own bound. */
			size_t before = total, fmax = logpfx_flush_max(p);
			logpfx_flush(p);
			assert_true(total - before <= fmax);
			if (rooms[k] >= 4096)
				assert_true(n > 0); /* progress is always possible */
			free(buf);
			logpfx_free(p);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full_pipe_never_blocks),
	    cmocka_unit_test(test_epipe_discards),
	    cmocka_unit_test(test_input_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

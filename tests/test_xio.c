/* Tests of the syscall wrappers (STYLE pattern 8): complete writes through a
 * full non-blocking pipe, EPIPE without a stray SIGPIPE, bounded whole-file
 * reads and atomic replacement. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "xio.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define KiB  1024

static void sleep_us(long us)
{
	struct timespec t = {us / 1000000, (us % 1000000) * 1000L};

	nanosleep(&t, NULL);
}

/* Byte i of every payload, so that a lost, doubled or reordered chunk
 * shows. */
static char pattern(size_t i)
{
	return (char)((i * 7 + i / 251) & 0xff);
}

/* ------------------------------------------------------------ reader */

/* Drains a pipe in small, slow reads (so that the writer meets a full pipe,
 * EAGAIN and short writes) until EOF. */
struct reader {
	int fd;
	char *buf;
	size_t len, cap;
	pthread_t thread;
};

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	unsigned k = 0;
	char extra;

	for (;;) {
		size_t want = 1 + (k * 977) % 3000;
		char *dst = r->buf + r->len;
		ssize_t n;

		if (want > r->cap - r->len)
			want = r->cap - r->len;
		if (want == 0) /* more than expected: count it, fail later */
			dst = &extra, want = 1;
		n = read(r->fd, dst, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		r->len += (size_t)n;
		if (r->len > r->cap)
			r->len = r->cap; /* and keep draining */
		if (k++ % 16 == 0)
			sleep_us(200);
	}
	return NULL;
}

/* A pipe whose write end is non-blocking, with a reader thread on the other
 * end. Returns the write end. */
static int start_reader(struct reader *r, size_t cap)
{
	int p[2];

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(fcntl(p[1], F_SETFL, O_NONBLOCK), 0);
	/* The smallest pipe makes every write meet a full pipe. */
	(void)fcntl(p[1], F_SETPIPE_SZ, 4096);
	r->fd = p[0];
	r->buf = malloc(cap);
	assert_non_null(r->buf);
	r->len = 0;
	r->cap = cap;
	assert_int_equal(pthread_create(&r->thread, NULL, reader_main, r), 0);
	return p[1];
}

static void finish_reader(struct reader *r, int wfd)
{
	close(wfd);
	assert_int_equal(pthread_join(r->thread, NULL), 0);
	close(r->fd);
}

/* ------------------------------------------------------------ xwrite_all */

static void test_xwrite_all_sizes(void **state)
{
	static const size_t sizes[] = {0, 1, 4095, 4096, 4097, 65535, 65536, 65537, 1024 * KiB + 3};

	(void)state;
	for (size_t s = 0; s < N(sizes); s++) {
		size_t len = sizes[s];
		char *data = malloc(len + 1);
		struct reader r;
		int wfd;

		assert_non_null(data);
		for (size_t i = 0; i < len; i++)
			data[i] = pattern(i);
		wfd = start_reader(&r, len + 1);
		assert_int_equal(xwrite_all(wfd, data, len), 0);
		finish_reader(&r, wfd);
		assert_int_equal(r.len, len);
		if (len > 0)
			assert_memory_equal(r.buf, data, len);
		free(r.buf);
		free(data);
	}
}

/* Many iovecs (more than IOV_MAX, some empty, of every size) through a
 * non-blocking pipe: every byte in order, and the partial-write bookkeeping
 * survives iovecs cut in the middle. */
static void test_xwritev_all_many(void **state)
{
	enum { NIOV = 3000 };
	struct iovec *iov = calloc(NIOV, sizeof(*iov));
	size_t total = 0, off = 0;
	char *data;
	struct reader r;
	int wfd;

	(void)state;
	assert_non_null(iov);
	for (int i = 0; i < NIOV; i++)
		total += (size_t)(i * 37 % 200);
	data = malloc(total);
	assert_non_null(data);
	for (size_t i = 0; i < total; i++)
		data[i] = pattern(i);
	for (int i = 0; i < NIOV; i++) {
		iov[i].iov_base = data + off;
		iov[i].iov_len = (size_t)(i * 37 % 200); /* 0 every 200th */
		off += iov[i].iov_len;
	}
	assert_true(total > 64 * KiB);

	wfd = start_reader(&r, total + 1);
	assert_int_equal(xwritev_all(wfd, iov, NIOV), 0);
	finish_reader(&r, wfd);
	assert_int_equal(r.len, total);
	assert_memory_equal(r.buf, data, total);
	free(r.buf);
	free(data);
	free(iov);
}

/* Few big iovecs: each far larger than the pipe. */
static void test_xwritev_all_big(void **state)
{
	static const size_t lens[] = {100 * KiB, 0, 1, 70 * KiB, 3};
	struct iovec iov[N(lens)];
	size_t total = 0, off = 0;
	char *data;
	struct reader r;
	int wfd;

	(void)state;
	for (size_t i = 0; i < N(lens); i++)
		total += lens[i];
	data = malloc(total);
	assert_non_null(data);
	for (size_t i = 0; i < total; i++)
		data[i] = pattern(i);
	for (size_t i = 0; i < N(lens); i++) {
		iov[i].iov_base = data + off;
		iov[i].iov_len = lens[i];
		off += lens[i];
	}
	wfd = start_reader(&r, total + 1);
	assert_int_equal(xwritev_all(wfd, iov, (int)N(lens)), 0);
	finish_reader(&r, wfd);
	assert_int_equal(r.len, total);
	assert_memory_equal(r.buf, data, total);
	free(r.buf);
	free(data);
}

static void test_xwritev_all_empty(void **state)
{
	struct iovec iov[2] = {{NULL, 0}, {NULL, 0}};
	int p[2];
	char c;

	(void)state;
	assert_int_equal(pipe2(p, O_NONBLOCK), 0);
	assert_int_equal(xwritev_all(p[1], iov, 0), 0);
	assert_int_equal(xwritev_all(p[1], iov, 2), 0);
	assert_int_equal(read(p[0], &c, 1), -1);
	assert_int_equal(errno, EAGAIN);
	close(p[0]);
	close(p[1]);
}

/* ------------------------------------------------------------ EPIPE */

static int sigpipe_pending(void)
{
	sigset_t set;

	assert_int_equal(sigpending(&set), 0);
	return sigismember(&set, SIGPIPE);
}

static void block_sigpipe(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	assert_int_equal(sigprocmask(SIG_BLOCK, &set, old), 0);
}

static void drop_pending_sigpipe(void)
{
	sigset_t set;
	struct timespec zero = {0, 0};

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	while (sigtimedwait(&set, NULL, &zero) > 0)
		;
}

/* jobshim keeps SIGPIPE blocked; its own EPIPE must leave none pending, or
 * the event loop would forward it to the job. */
static void test_epipe_no_pending_sigpipe(void **state)
{
	static const int vectored[] = {0, 1};
	sigset_t old;

	(void)state;
	block_sigpipe(&old);
	drop_pending_sigpipe();
	for (size_t k = 0; k < N(vectored); k++) {
		int p[2];

		assert_int_equal(pipe(p), 0);
		close(p[0]);
		assert_false(sigpipe_pending());
		if (vectored[k]) {
			struct iovec iov[2] = {{(void *)"ab", 2}, {(void *)"c", 1}};
			assert_int_equal(xwritev_all(p[1], iov, 2), -EPIPE);
		} else {
			assert_int_equal(xwrite_all(p[1], "abc", 3), -EPIPE);
		}
		if (sigpipe_pending())
			fail_msg("%s left SIGPIPE pending",
				 vectored[k] ? "xwritev_all" : "xwrite_all");
		close(p[1]);
	}
	assert_int_equal(sigprocmask(SIG_SETMASK, &old, NULL), 0);
}

/* A SIGPIPE someone else sent to jobshim is data to forward: consuming our
 * own must not eat it. */
static void test_epipe_keeps_foreign_sigpipe(void **state)
{
	sigset_t old;
	int p[2];

	(void)state;
	block_sigpipe(&old);
	drop_pending_sigpipe();
	assert_int_equal(kill(getpid(), SIGPIPE), 0);
	assert_true(sigpipe_pending());
	assert_int_equal(pipe(p), 0);
	close(p[0]);
	assert_int_equal(xwrite_all(p[1], "x", 1), -EPIPE);
	assert_true(sigpipe_pending());
	drop_pending_sigpipe();
	assert_false(sigpipe_pending());
	close(p[1]);
	assert_int_equal(sigprocmask(SIG_SETMASK, &old, NULL), 0);
}

/* EPIPE after part of a large write was read: still -EPIPE, no signal. */
static void test_epipe_midway(void **state)
{
	enum { LEN = 512 * KiB };
	char *data = calloc(1, LEN);
	sigset_t old;
	int p[2], st;
	pid_t pid;

	(void)state;
	assert_non_null(data);
	block_sigpipe(&old);
	drop_pending_sigpipe();
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		static char sink[100 * KiB];
		size_t got = 0;
		close(p[1]);
		while (got < sizeof(sink)) {
			ssize_t n = read(p[0], sink, sizeof(sink) - got);
			if (n <= 0)
				_exit(1);
			got += (size_t)n;
		}
		_exit(0); /* closes the read end mid-stream */
	}
	close(p[0]);
	assert_int_equal(xwrite_all(p[1], data, LEN), -EPIPE);
	assert_false(sigpipe_pending());
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(st, 0);
	close(p[1]);
	free(data);
	assert_int_equal(sigprocmask(SIG_SETMASK, &old, NULL), 0);
}

static void test_write_errors(void **state)
{
	struct iovec iov = {(void *)"x", 1};
	int fd = open("/dev/null", O_RDONLY);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(xwrite_all(fd, "x", 1), -EBADF);
	assert_int_equal(xwritev_all(fd, &iov, 1), -EBADF);
	close(fd);
	assert_int_equal(xwrite_all(fd, "x", 1), -EBADF);
	assert_int_equal(xwrite_all(fd, "", 0), 0); /* nothing to write: no syscall */
}

static void test_xread(void **state)
{
	char buf[8];
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "hello", 5), 5);
	assert_int_equal(xread(p[0], buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "hello", 5);
	close(p[1]);
	assert_int_equal(xread(p[0], buf, sizeof(buf)), 0);
	close(p[0]);
	assert_int_equal(xread(p[0], buf, sizeof(buf)), -EBADF);
}

/* ------------------------------------------------------------ files */

static char tmpdir[64];

static int make_tmpdir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_xio.XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int remove_tmpdir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void put_file(const char *path, size_t len)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	for (size_t i = 0; i < len; i++)
		fputc(pattern(i) == '\0' ? 'z' : pattern(i), f);
	assert_int_equal(fclose(f), 0);
}

struct read_row {
	const char *name; /* file under tmpdir */
	long size;	  /* -1: do not create; -2: a directory */
	size_t cap;
	ssize_t want; /* length or -errno */
};

static const struct read_row read_rows[] = {
    {"empty", 0, 16, 0},
    {"small", 5, 16, 5},
    {"cap-2", 14, 16, 14},
    {"cap-1", 15, 16, 15}, /* exactly fits with its NUL */
    {"cap", 16, 16, -EFBIG},
    {"cap+1", 17, 16, -EFBIG},
    {"big", 100 * KiB, 16, -EFBIG},
    {"big-fits", 100 * KiB, 100 * KiB + 1, 100 * KiB},
    {"big-by-one", 100 * KiB, 100 * KiB, -EFBIG},
    {"one-cap1", 1, 1, -EFBIG},
    {"empty-cap1", 0, 1, 0},
    {"empty-cap0", 0, 0, -EINVAL}, /* no room even for the NUL */
    {"one-cap0", 1, 0, -EINVAL},
    {"missing", -1, 16, -ENOENT},
    {"dir", -2, 16, -EISDIR},
};

static void test_read_file_table(void **state)
{
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < N(read_rows); i++) {
		const struct read_row *r = &read_rows[i];
		char path[128], *buf = malloc(r->cap + 8), *want = malloc(r->cap + 8);
		ssize_t n;

		assert_non_null(buf);
		assert_non_null(want);
		snprintf(path, sizeof(path), "%s/%s", tmpdir, r->name);
		if (r->size >= 0)
			put_file(path, (size_t)r->size);
		else if (r->size == -2)
			assert_int_equal(mkdir(path, 0755), 0);
		memset(buf, 'X', r->cap + 8);
		n = read_file(path, buf, r->cap);
		if (n != r->want) {
			print_error("%s: read_file = %zd, expected %zd\n", r->name, n, r->want);
			bad++;
		} else if (n >= 0) {
			for (ssize_t k = 0; k < n; k++)
				want[k] = pattern((size_t)k) == '\0' ? 'z' : pattern((size_t)k);
			want[n] = '\0';
			if (memcmp(buf, want, (size_t)n + 1) != 0) {
				print_error("%s: wrong content\n", r->name);
				bad++;
			}
		}
		/* Never a byte written past cap. */
		for (size_t k = r->cap; k < r->cap + 8; k++)
			if (buf[k] != 'X') {
				print_error("%s: byte %zu past cap written\n", r->name, k);
				bad++;
				break;
			}
		free(buf);
		free(want);
	}
	assert_int_equal(bad, 0);
}

/* A source that delivers in pieces (a FIFO written in three chunks):
 * read_file keeps reading until EOF. */
static void test_read_file_short_reads(void **state)
{
	char path[128], buf[64];
	pid_t pid;
	int st;

	(void)state;
	snprintf(path, sizeof(path), "%s/fifo", tmpdir);
	assert_int_equal(mkfifo(path, 0600), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(path, O_WRONLY);
		if (fd < 0)
			_exit(1);
		if (write(fd, "one ", 4) != 4)
			_exit(2);
		sleep_us(20000);
		if (write(fd, "two ", 4) != 4)
			_exit(3);
		sleep_us(20000);
		if (write(fd, "three", 5) != 5)
			_exit(4);
		_exit(0);
	}
	assert_int_equal(read_file(path, buf, sizeof(buf)), 13);
	assert_string_equal(buf, "one two three");
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(st, 0);
}

/* /proc files report size 0 and must still be read whole. */
static void test_read_file_proc(void **state)
{
	char buf[8192];
	ssize_t n;

	(void)state;
	n = read_file("/proc/self/status", buf, sizeof(buf));
	assert_true(n > 100);
	assert_int_equal(strlen(buf), (size_t)n);
	assert_memory_equal(buf, "Name:", 5);
	assert_non_null(strstr(buf, "\nPid:"));
	assert_non_null(strstr(buf, "\nSigBlk:"));
}

static int exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static void read_back(const char *path, const char *want)
{
	char buf[256];

	assert_int_equal(read_file(path, buf, sizeof(buf)), (ssize_t)strlen(want));
	assert_string_equal(buf, want);
}

static void test_write_file_atomic(void **state)
{
	char path[128], tmp[160], buf[64];
	struct stat st1, st2;
	int old_fd;
	mode_t mask;

	(void)state;
	snprintf(path, sizeof(path), "%s/status.json", tmpdir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);

	/* Creates the file. */
	assert_int_equal(write_file_atomic(path, "{\"a\":1}\n", 8), 0);
	read_back(path, "{\"a\":1}\n");
	assert_false(exists(tmp));
	mask = umask(0);
	umask(mask);
	assert_int_equal(stat(path, &st1), 0);
	assert_int_equal(st1.st_mode & 07777, 0644 & ~mask);

	/* Replaces it whole, shorter content included (no stale tail), as a
	 * new inode: a reader that opened the old one still sees the old. */
	old_fd = open(path, O_RDONLY);
	assert_true(old_fd >= 0);
	assert_int_equal(write_file_atomic(path, "{}", 2), 0);
	read_back(path, "{}");
	assert_false(exists(tmp));
	assert_int_equal(stat(path, &st2), 0);
	assert_true(st1.st_ino != st2.st_ino);
	assert_int_equal(pread(old_fd, buf, sizeof(buf), 0), 8);
	assert_memory_equal(buf, "{\"a\":1}\n", 8);
	close(old_fd);

	/* Empty content. */
	assert_int_equal(write_file_atomic(path, "", 0), 0);
	read_back(path, "");

	/* A .tmp left by a crash is overwritten, then gone. */
	put_file(tmp, 1000);
	assert_int_equal(write_file_atomic(path, "new", 3), 0);
	read_back(path, "new");
	assert_false(exists(tmp));

	/* Large content. */
	{
		enum { LEN = 300 * KiB };
		char *big = malloc(LEN), *back = malloc(LEN + 1);
		assert_non_null(big);
		assert_non_null(back);
		for (size_t i = 0; i < LEN; i++)
			big[i] = pattern(i) == '\0' ? 'z' : pattern(i);
		assert_int_equal(write_file_atomic(path, big, LEN), 0);
		assert_int_equal(read_file(path, back, LEN + 1), LEN);
		assert_memory_equal(back, big, LEN);
		free(big);
		free(back);
	}
}

static void test_write_file_atomic_errors(void **state)
{
	char path[PATH_MAX + 64], tmp[PATH_MAX + 80];

	(void)state;
	/* Missing directory. */
	snprintf(path, sizeof(path), "%s/nodir/status.json", tmpdir);
	assert_int_equal(write_file_atomic(path, "x", 1), -ENOENT);

	/* The target is a directory: rename fails, the old one stays, no .tmp. */
	snprintf(path, sizeof(path), "%s/adir", tmpdir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(write_file_atomic(path, "x", 1), -EISDIR);
	assert_false(exists(tmp));

	/* A path whose .tmp name does not fit. */
	memset(path, 'a', sizeof(path));
	path[0] = '/';
	path[PATH_MAX - 2] = '\0';
	assert_int_equal(write_file_atomic(path, "x", 1), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_xwrite_all_sizes),
	    cmocka_unit_test(test_xwritev_all_many),
	    cmocka_unit_test(test_xwritev_all_big),
	    cmocka_unit_test(test_xwritev_all_empty),
	    cmocka_unit_test(test_epipe_no_pending_sigpipe),
	    cmocka_unit_test(test_epipe_keeps_foreign_sigpipe),
	    cmocka_unit_test(test_epipe_midway),
	    cmocka_unit_test(test_write_errors),
	    cmocka_unit_test(test_xread),
	    cmocka_unit_test(test_read_file_table),
	    cmocka_unit_test(test_read_file_short_reads),
	    cmocka_unit_test(test_read_file_proc),
	    cmocka_unit_test(test_write_file_atomic),
	    cmocka_unit_test(test_write_file_atomic_errors),
	};

	return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}

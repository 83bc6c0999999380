#include "outq.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum outq_mode {
	MODE_NONBLOCK, /* our own O_NONBLOCK description */
	MODE_SOCKET,   /* send with MSG_DONTWAIT */
	MODE_NEVER,    /* a regular file: writes never wait for a reader */
	MODE_POLLED,   /* shared blocking description: poll first, PIPE_BUF at most */
};

struct outq {
	bool ready;
	int fd; /* what is written to */
	enum outq_mode mode;
	char *buf;
	size_t start, len; /* waiting bytes: buf[start .. start+len) */
	bool closed;	   /* EPIPE: discard from now on */
	int failing;	   /* errno of the last failed write, 0 when fine */
	uint64_t retry_at;
	enum outq_event event;
	int event_err;
	uint64_t lost;
};

/* jobshim's stdout and stderr: one queue per stream of the process, shared
 * by the log prefixer and log.c, drained at exit (hence not a handle). */
static struct outq queues[2];

uint64_t outq_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* A reopened description of our own, so that O_NONBLOCK changes nobody
 * else's writes (the main app shares jobshim's stderr description). */
static void setup(struct outq *q, int fd)
{
	struct stat st;
	char path[64];
	int own;

	q->ready = true;
	q->fd = fd;
	q->mode = MODE_POLLED;
	if (fstat(fd, &st) < 0)
		return; /* closed: writes fail with EBADF, retried */
	if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)) {
		q->mode = MODE_NEVER;
		return;
	}
	if (S_ISSOCK(st.st_mode)) {
		q->mode = MODE_SOCKET;
		return;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	own = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (own < 0)
		return;
	/* Keep it above 2: fds 0-2 are the job's to inherit. */
	if (own <= 2) {
		int high = fcntl(own, F_DUPFD_CLOEXEC, 3);
		close(own);
		if (high < 0)
			return;
		own = high;
	}
	q->fd = own;
	q->mode = MODE_NONBLOCK;
}

struct outq *outq_new(int fd)
{
	struct outq *q = calloc(1, sizeof(*q));

	if (q != NULL)
		setup(q, fd);
	return q;
}

void outq_free(struct outq *q)
{
	if (q == NULL)
		return;
	if (q->mode == MODE_NONBLOCK)
		close(q->fd);
	free(q->buf);
	free(q);
}

struct outq *outq_std(int fd)
{
	struct outq *q;

	if (fd != 1 && fd != 2)
		return NULL;
	q = &queues[fd - 1];
	if (!q->ready)
		setup(q, fd);
	return q;
}

struct outq *outq_std_peek(int fd)
{
	return fd == 1 || fd == 2 ? &queues[fd - 1] : NULL;
}

/* Our own EPIPE raised a SIGPIPE (blocked in jobshim): take it off the
 * pending set so that it is not forwarded to the job. */
static void consume_sigpipe(void)
{
	sigset_t set;
	struct timespec zero = {0, 0};

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR)
		;
}

/* One non-blocking attempt: bytes written, or -errno (-EAGAIN: full). */
static ssize_t try_write(struct outq *q, const struct iovec *iov, int cnt)
{
	struct iovec one;
	ssize_t n;

	if (q->mode == MODE_POLLED) {
		struct pollfd p = {.fd = q->fd, .events = POLLOUT};
		if (poll(&p, 1, 0) <= 0 || !(p.revents & (POLLOUT | POLLERR | POLLHUP)))
			return -EAGAIN;
		/* At most PIPE_BUF: a pipe that polls writable has room for that
		 * much, so the blocking write does not wait. */
		one = iov[0];
		if (one.iov_len > PIPE_BUF)
			one.iov_len = PIPE_BUF;
		iov = &one, cnt = 1;
	}
	if (cnt > IOV_MAX)
		cnt = IOV_MAX;
	do {
		if (q->mode == MODE_SOCKET) {
			struct msghdr m = {.msg_iov = (struct iovec *)iov,
					   .msg_iovlen = (size_t)cnt};
			n = sendmsg(q->fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
		} else {
			n = writev(q->fd, iov, cnt);
		}
	} while (n < 0 && errno == EINTR);
	if (n >= 0)
		return n;
	if (errno == EWOULDBLOCK)
		return -EAGAIN;
	if (errno == EPIPE && q->mode != MODE_SOCKET)
		consume_sigpipe();
	return -errno;
}

static void set_event(struct outq *q, enum outq_event e, int err)
{
	q->event = e;
	q->event_err = err;
}

/* The result of a write: true when it went through (n bytes). */
static bool account(struct outq *q, ssize_t n)
{
	if (n >= 0) {
		if (q->failing != 0) {
			q->failing = 0;
			q->retry_at = 0;
			set_event(q, OUTQ_RECOVERED, 0);
		}
		return true;
	}
	if (n == -EAGAIN)
		return false;
	if (n == -EPIPE) {
		q->closed = true;
		q->lost += q->len;
		q->len = q->start = 0;
		set_event(q, OUTQ_CLOSED, EPIPE);
		return false;
	}
	if (q->failing == 0)
		set_event(q, OUTQ_FAILED, (int)-n);
	q->failing = (int)-n;
	q->retry_at = outq_now_ms() + OUTQ_RETRY_MS;
	return false;
}

static size_t iov_total(const struct iovec *iov, int cnt)
{
	size_t t = 0;

	for (int i = 0; i < cnt; i++)
		t += iov[i].iov_len;
	return t;
}

/* Appends iov[..] after skipping `skip` bytes; drops what does not fit
 * (counted). */
static int append(struct outq *q, const struct iovec *iov, int cnt, size_t skip)
{
	size_t dropped = 0;

	if (q->buf == NULL) {
		q->buf = malloc(OUTQ_CAP);
		if (q->buf == NULL) {
			q->lost += iov_total(iov, cnt) - skip;
			return -ENOMEM;
		}
	}
	if (q->start + q->len + (iov_total(iov, cnt) - skip) > OUTQ_CAP && q->start > 0) {
		memmove(q->buf, q->buf + q->start, q->len);
		q->start = 0;
	}
	for (int i = 0; i < cnt; i++) {
		const char *p = iov[i].iov_base;
		size_t l = iov[i].iov_len, room;
		if (skip >= l) {
			skip -= l;
			continue;
		}
		p += skip, l -= skip, skip = 0;
		room = OUTQ_CAP - q->start - q->len;
		if (l > room) {
			dropped += l - room;
			l = room;
		}
		memcpy(q->buf + q->start + q->len, p, l);
		q->len += l;
	}
	q->lost += dropped;
	return dropped > 0 ? -ENOBUFS : 0;
}

int outq_writev(struct outq *q, const struct iovec *iov, int cnt)
{
	size_t total = iov_total(iov, cnt), done = 0;

	if (q->closed) {
		q->lost += total;
		return -EPIPE;
	}
	if (total == 0)
		return 0;
	if (q->len == 0 && q->failing == 0) {
		/* The usual case: the stream takes it all at once, no copy. */
		while (done < total) {
			struct iovec tmp[IOV_MAX];
			int n = 0;
			size_t skip = done;
			for (int i = 0; i < cnt && n < IOV_MAX; i++) {
				if (skip >= iov[i].iov_len) {
					skip -= iov[i].iov_len;
					continue;
				}
				tmp[n].iov_base = (char *)iov[i].iov_base + skip;
				tmp[n].iov_len = iov[i].iov_len - skip;
				skip = 0;
				n++;
			}
			ssize_t w = try_write(q, tmp, n);
			if (!account(q, w))
				break;
			done += (size_t)w;
		}
		if (q->closed)
			return -EPIPE;
		if (done == total)
			return 0;
	}
	return append(q, iov, cnt, done);
}

ssize_t outq_sink(void *ctx, const struct iovec *iov, int cnt)
{
	int r = outq_writev(ctx, iov, cnt);

	return r == -EPIPE ? -EPIPE : (ssize_t)iov_total(iov, cnt);
}

void outq_flush(struct outq *q)
{
	if (!q->ready || q->closed)
		return;
	if (q->failing != 0 && outq_now_ms() < q->retry_at)
		return;
	while (q->len > 0) {
		struct iovec one = {.iov_base = q->buf + q->start, .iov_len = q->len};
		ssize_t n = try_write(q, &one, 1);
		if (!account(q, n))
			return;
		q->start += (size_t)n;
		q->len -= (size_t)n;
	}
	q->start = 0;
}

size_t outq_room(const struct outq *q)
{
	size_t used = q->len;

	if (q->closed)
		return OUTQ_CAP; /* discarded anyway */
	return used + OUTQ_LOG_RESERVE >= OUTQ_CAP ? 0 : OUTQ_CAP - OUTQ_LOG_RESERVE - used;
}

size_t outq_pending(const struct outq *q)
{
	return q->len;
}

int outq_poll_fd(const struct outq *q)
{
	return q->ready && q->len > 0 && !q->closed && q->failing == 0 ? q->fd : -1;
}

uint64_t outq_retry_at(const struct outq *q)
{
	return q->len > 0 && q->failing != 0 ? q->retry_at : 0;
}

enum outq_event outq_take_event(struct outq *q, int *err)
{
	enum outq_event e = q->event;

	*err = q->event_err;
	q->event = OUTQ_NONE;
	return e;
}

uint64_t outq_lost(const struct outq *q)
{
	return q->lost;
}

uint64_t outq_drain_all(uint64_t deadline_ms)
{
	for (;;) {
		struct pollfd p[2];
		nfds_t n = 0;
		uint64_t now = outq_now_ms(), next = deadline_ms;
		for (int i = 0; i < 2; i++) {
			struct outq *q = &queues[i];
			outq_flush(q);
			if (outq_poll_fd(q) >= 0)
				p[n++] = (struct pollfd){.fd = q->fd, .events = POLLOUT};
			if (outq_retry_at(q) != 0 && outq_retry_at(q) < next)
				next = outq_retry_at(q);
		}
		if (queues[0].len == 0 && queues[1].len == 0)
			return 0;
		if (now >= deadline_ms)
			break;
		if (next < now)
			next = now;
		int wait = (int)(next - now > 1000 ? 1000 : next - now);
		if (n > 0)
			(void)poll(p, n, wait);
		else if (wait > 0) {
			struct timespec t = {wait / 1000, (long)(wait % 1000) * 1000000L};
			nanosleep(&t, NULL);
		}
	}
	return queues[0].len + queues[1].len;
}

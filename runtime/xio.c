#include "xio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

ssize_t xread(int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

/* Our own EPIPE raised a thread-directed SIGPIPE; take it off the pending
 * set so that the event loop does not forward it to the job. */
static void consume_own_sigpipe(void)
{
	sigset_t set;
	struct timespec zero = {0, 0};

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR)
		;
}

static int wait_writable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLOUT};

	while (poll(&p, 1, -1) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

static int write_failed(int fd)
{
	int err = errno;

	if (err == EAGAIN || err == EWOULDBLOCK)
		return wait_writable(fd);
	if (err == EINTR)
		return 0;
	if (err == EPIPE)
		consume_own_sigpipe();
	return -err;
}

int xwrite_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			int r = write_failed(fd);
			if (r < 0)
				return r;
			continue;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void iov_advance(struct iovec **iov, int *cnt, size_t n)
{
	while (*cnt > 0 && n >= (*iov)->iov_len) {
		n -= (*iov)->iov_len;
		(*iov)++;
		(*cnt)--;
	}
	if (*cnt > 0 && n > 0) {
		(*iov)->iov_base = (char *)(*iov)->iov_base + n;
		(*iov)->iov_len -= n;
	}
}

int xwritev_all(int fd, struct iovec *iov, int iovcnt)
{
	while (iovcnt > 0) {
		int batch = iovcnt < IOV_MAX ? iovcnt : IOV_MAX;
		ssize_t n = writev(fd, iov, batch);
		if (n < 0) {
			int r = write_failed(fd);
			if (r < 0)
				return r;
			continue;
		}
		iov_advance(&iov, &iovcnt, (size_t)n);
	}
	return 0;
}

/* Reads all of fd (at most cap-1 bytes, NUL-terminated) and closes it. */
static ssize_t read_fd_all(int fd, char *buf, size_t cap)
{
	size_t len = 0;
	ssize_t r;
	char extra;

	for (;;) {
		if (len + 1 >= cap) {
			/* Full: one more byte means the file is too large. */
			r = xread(fd, &extra, 1);
			r = r > 0 ? -EFBIG : r;
			break;
		}
		r = xread(fd, buf + len, cap - 1 - len);
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	if (r < 0)
		return r;
	buf[len] = '\0';
	return (ssize_t)len;
}

ssize_t read_file(const char *path, char *buf, size_t cap)
{
	int fd;

	if (cap == 0) /* no room for the NUL */
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return read_fd_all(fd, buf, cap);
}

static ssize_t read_regular_fd(int fd, char *buf, size_t cap)
{
	struct stat st;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EFTYPE_NOT_REGULAR;
	}
	return read_fd_all(fd, buf, cap);
}

ssize_t read_regular_file(const char *path, char *buf, size_t cap)
{
	if (cap == 0)
		return -EINVAL;
	return read_regular_fd(open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC), buf, cap);
}

ssize_t read_regular_at(int dirfd, const char *name, char *buf, size_t cap)
{
	if (cap == 0)
		return -EINVAL;
	return read_regular_fd(
	    openat(dirfd, name, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW | O_CLOEXEC), buf,
	    cap);
}

int write_file_atomic(const char *path, const void *buf, size_t len)
{
	char tmp[PATH_MAX];
	int fd, r;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	r = xwrite_all(fd, buf, len);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

/* System calls wrapped once (STYLE pattern 8): EINTR is retried, short
 * writes completed, errors returned as -errno. */
#ifndef JOBSHIM_XIO_H
#define JOBSHIM_XIO_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

/* read(2) retried on EINTR: bytes read, 0 at EOF, or -errno. */
ssize_t xread(int fd, void *buf, size_t len);
/* Writes all of buf; on EAGAIN waits for the fd to become writable.
 * 0 or -errno. A write that fails with EPIPE consumes the SIGPIPE it
 * raised (jobshim keeps SIGPIPE blocked so that a signal sent to it can be
 * forwarded; its own EPIPE must not be). */
int xwrite_all(int fd, const void *buf, size_t len);
/* Like xwrite_all for an iovec array; iov is modified. */
int xwritev_all(int fd, struct iovec *iov, int iovcnt);
/* Skips n bytes already written: whole iovecs are dropped, a partly
 * written one is shortened. */
void iov_advance(struct iovec **iov, int *cnt, size_t n);
/* Reads a whole small file (at most cap-1 bytes, NUL-terminated).
 * Returns the length or -errno (-EFBIG when larger, -EINVAL when cap is 0). */
ssize_t read_file(const char *path, char *buf, size_t cap);
/* read_file for a file that must be a regular one: opened O_NONBLOCK (a
 * FIFO does not hang the open), then fstat: -EFTYPE_NOT_REGULAR for
 * anything else. Symlinks are followed (a Kubernetes ConfigMap is one). */
#define EFTYPE_NOT_REGULAR ENODEV
ssize_t read_regular_file(const char *path, char *buf, size_t cap);
/* The same relative to dirfd, never following a symlink at the last
 * component (O_NOFOLLOW): -ELOOP for one. */
ssize_t read_regular_at(int dirfd, const char *name, char *buf, size_t cap);
/* Writes a whole file atomically: path.tmp, fsync-free, rename. 0 or -errno. */
int write_file_atomic(const char *path, const void *buf, size_t len);

#endif

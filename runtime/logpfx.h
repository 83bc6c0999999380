/* The line prefixer (SPEC §5): reads a job's stdout or stderr pipe and
 * writes each line as "name | line" (or one JSON object) to jobshim's
 * matching stream. Lines are never torn or merged; a line longer than
 * LOGPFX_LINE_MAX is cut into pieces, each prefixed; memory is bounded.
 * Output is batched with writev (prefix + line pairs). */
#ifndef JOBSHIM_LOGPFX_H
#define JOBSHIM_LOGPFX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

#include "bounds.h"
#include "options.h"

/* Copied by logpfx_new; its strings are borrowed and must outlive the
 * prefixer. */
struct logpfx_opts {
	const char *job;	/* the prefix's name */
	size_t pad_to;		/* pad the name with spaces to this width (@all) */
	const char *color;	/* ANSI SGR sequence for the prefix, or NULL */
	enum log_format format; /* plain or json */
	bool timestamps;	/* RFC 3339 UTC ms before each line */
	const char *stream;	/* "stdout" or "stderr" (json "stream") */
	int out_fd;		/* where lines go: 1 or 2 */
	/* For tests: replaces writev(out_fd, ...) and clock_gettime. The sink
	 * returns the bytes written (short writes are completed), or -errno. */
	ssize_t (*sink)(void *ctx, const struct iovec *iov, int iovcnt);
	void *sink_ctx;
	void (*now)(struct timespec *t);
};

/* Owns its buffers (logpfx_free), not out_fd. */
struct logpfx;

/* 0 with *out set, or -EINVAL (no job, a name or pad too long) or -ENOMEM
 * with *out NULL. */
int logpfx_new(const struct logpfx_opts *o, struct logpfx **out);
void logpfx_free(struct logpfx *p);

/* Pure core: consume bytes, emit every complete line (and full 16 KiB
 * pieces). Returns 0, or -errno of the output (EPIPE: output is discarded
 * from then on, the caller carries on). */
int logpfx_feed(struct logpfx *p, const char *buf, size_t len);
/* One read(2) from fd into the buffer, then emit. Returns bytes read, 0 at
 * EOF, -EAGAIN when the (non-blocking) fd is empty, other -errno. */
ssize_t logpfx_read(struct logpfx *p, int fd);
/* logpfx_read reading at most max bytes (max 0: none, returns -EAGAIN). */
ssize_t logpfx_read_max(struct logpfx *p, int fd, size_t max);
/* The most input bytes whose output (with what is carried) fits in room
 * bytes, at worst: every byte a line, every byte escaped; 0 when even one
 * byte might not fit. For back-pressure: read no more than that. */
size_t logpfx_input_for(const struct logpfx *p, size_t room);
/* The most output a logpfx_flush can make now. */
size_t logpfx_flush_max(const struct logpfx *p);
/* Emit a pending partial line, terminated by a newline. */
int logpfx_flush(struct logpfx *p);
/* 0 while the output works; its -errno once it failed (EPIPE: jobshim's
 * stream was closed). Tells an output error returned by logpfx_read apart
 * from an input error: either way the caller keeps reading. */
int logpfx_output_error(const struct logpfx *p);
/* Bytes of a partial line held back (at most LOGPFX_LINE_MAX). */
size_t logpfx_pending(const struct logpfx *p);

#endif

/* jobshim's own stdout and stderr, never blocking it (SPEC §5). One queue
 * a stream, shared by every job's prefixer and by log.c, so that lines of
 * different jobs are never interleaved mid-line.
 *
 * Writes are non-blocking without changing the file status flags others
 * share: a pipe, FIFO or terminal is reopened through /proc/self/fd/N into a
 * description of jobshim's own, set O_NONBLOCK (the job and other writers
 * keep their blocking one); a socket gets MSG_DONTWAIT; a regular file or
 * block device never blocks. When the reopen is impossible (no /proc),
 * jobshim writes only when poll says the stream takes data, at most
 * PIPE_BUF bytes at once, which a pipe with room takes without blocking.
 *
 * What the stream does not take at once is copied into a bounded buffer
 * and written when poll says POLLOUT. Producers ask for room first
 * (outq_room): the job's pipes are not read while the queue is full, so
 * the back-pressure reaches the job and nothing is dropped. jobshim's own
 * messages never wait: when even they do not fit, they are counted as
 * lost. EPIPE is permanent (output discarded from then on); any other
 * error is retried every OUTQ_RETRY_MS, holding the output meanwhile. */
#ifndef JOBSHIM_OUTQ_H
#define JOBSHIM_OUTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#define OUTQ_CAP	 (1024 * 1024)
#define OUTQ_LOG_RESERVE (64 * 1024) /* room only jobshim's own messages may take */
#define OUTQ_RETRY_MS	 500

/* Owns its buffer and the file description outq_new reopened, not the fd
 * it was made for: outq_free. */
struct outq;

/* Events a caller reports (one message each way). */
enum outq_event { OUTQ_NONE, OUTQ_FAILED, OUTQ_RECOVERED, OUTQ_CLOSED };

/* A queue of its own for any fd (tests); outq_free closes nothing but the
 * description outq_new opened. */
struct outq *outq_new(int fd);
void outq_free(struct outq *q);
/* The queue of fd 1 or 2, set up on first use. NULL for other fds. */
struct outq *outq_std(int fd);
/* The same queue for questions only (poll fd, retry time, flush, losses):
 * not set up by asking, so a run that never writes to fd (the main app
 * writes straight to it) never reopens it. */
struct outq *outq_std_peek(int fd);
/* Queues (after a direct non-blocking attempt when nothing waits) all of
 * iov. Returns 0, or -EPIPE once the stream is closed (then discarded). A
 * producer asked outq_room first; what does not fit anyway is dropped and
 * counted (only jobshim's own messages can meet that: they may use the
 * reserve, and never wait). */
/* A logpfx sink: all bytes, or -EPIPE. */
ssize_t outq_sink(void *q, const struct iovec *iov, int cnt);
int outq_writev(struct outq *q, const struct iovec *iov, int cnt);
/* Writes what waits, as much as the stream takes now. */
void outq_flush(struct outq *q);
/* Room a job's output may take (excluding jobshim's reserve). */
size_t outq_room(const struct outq *q);
size_t outq_pending(const struct outq *q);
/* The fd to poll for POLLOUT, or -1 when nothing waits or a retry is due
 * by time (outq_retry_at). */
int outq_poll_fd(const struct outq *q);
/* Monotonic ms of the next retry after an error, 0 for none. */
uint64_t outq_retry_at(const struct outq *q);
/* The last change of state, once; *err its errno. */
enum outq_event outq_take_event(struct outq *q, int *err);
/* Bytes dropped: after EPIPE (job output), or jobshim's messages that did
 * not fit. */
uint64_t outq_lost(const struct outq *q);
/* Writes what waits on fds 1 and 2 until both are empty or deadline_ms
 * (monotonic) passes. Returns the bytes left undelivered. */
uint64_t outq_drain_all(uint64_t deadline_ms);
/* CLOCK_MONOTONIC in ms. */
uint64_t outq_now_ms(void);

#endif

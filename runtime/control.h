/* The control channel (SPEC §10): RUN_DIR/control, a Unix seqpacket socket
 * of mode 0600 through which `jobshim restart|signal|reload` talk to the
 * running jobshim. One request a connection, one reply, then close.
 *
 * Request: one line, at most CONTROL_REQ_MAX bytes, words separated by one
 * space, an optional final newline:
 *   restart [JOB]        reload        signal JOB SIG
 * Reply: "C TEXT", C the client's exit status (0 done, 1 jobshim cannot do
 * it now, 2 bad request), TEXT one or more lines.
 *
 * The server side never blocks: non-blocking sockets, a bounded number of
 * connections and of accepts a turn, a deadline for a client that sends
 * nothing, replies sent with MSG_DONTWAIT (a client that does not read its
 * reply costs at most one queued packet, then it is closed). */
#ifndef JOBSHIM_CONTROL_H
#define JOBSHIM_CONTROL_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bounds.h"
#include "err.h"

#define CONTROL_SOCKET		 "control"
#define CONTROL_REQ_MAX		 256 /* bytes of a request, newline included */
#define CONTROL_REPLY_MAX	 16384
#define CONTROL_CONNS_MAX	 8    /* connections being served at once */
#define CONTROL_ACCEPTS_PER_TURN 16   /* accepted a loop turn */
#define CONTROL_IDLE_MS		 2000 /* a client has this long to send its request */
#define CONTROL_JOB_MAX		 JOB_NAME_MAX

/* Reply codes: the client's exit status. */
#define CONTROL_DONE   0
#define CONTROL_CANNOT 1
#define CONTROL_BAD    2

enum control_verb { CTL_RESTART, CTL_SIGNAL, CTL_RELOAD };

struct control_req {
	enum control_verb verb;
	char job[CONTROL_JOB_MAX + 1]; /* "" for restart without a name, reload */
	int sig;		       /* CTL_SIGNAL: 1..64 */
};

/* ------------------------------------------------------------ pure */

/* Parses one request (len bytes, need not be NUL-terminated). 0, or
 * -EINVAL with err saying why ("unknown signal \"FOO\"" is reported as
 * "unknown signal"; the text says what is expected). */
int control_parse(const char *buf, size_t len, struct control_req *out, struct err *err);
/* The request's wire form, "signal sidekiq TSTP\n". Its length, or
 * -ENOSPC. control_parse(control_format(r)) gives r back. */
int control_format(const struct control_req *r, char *buf, size_t cap);
/* "TERM", "SIGTERM", "term", "15": a signal number 1..64, or -EINVAL. */
int control_signal_parse(const char *s, size_t len);

/* ------------------------------------------------------------ server */

/* Owns the listening socket and its connections' fds: control_close. */
struct control;

/* Creates RUN_DIR/control. run_fd is the run dir as jobshim opened and
 * checked it (rundir.h), or -1 to open run_dir here: the socket is then
 * made and checked in that very directory, even if the path is swapped. A
 * stale socket left by a jobshim that died is replaced; anything else at
 * that name (a symlink, a FIFO, a file) is left alone and the channel is
 * not opened (-EEXIST). 0 or -errno. */
int control_listen(const char *run_dir, int run_fd, struct control **out);
/* Closes every connection and removes the socket (only if the name still
 * is the socket jobshim bound). NULL is fine. */
void control_close(struct control *c);

/* The fds to poll: the listening socket (while a connection slot is free)
 * and each connection. Returns how many were written (at most cap). */
size_t control_pollfds(const struct control *c, struct pollfd *pfd, size_t cap);
/* The next idle client's deadline (CLOCK_MONOTONIC ms), or UINT64_MAX. */
uint64_t control_deadline(const struct control *c);

/* A parsed request from an allowed peer. token identifies the connection
 * for control_reply; the callee answers at once or later. */
typedef void (*control_fn)(void *ctx, uint32_t token, const struct control_req *req);

/* Serves what pfd (as filled by control_pollfds and polled) reports:
 * accepts, refuses other users (SO_PEERCRED), reads and parses requests
 * (a bad one is answered with CONTROL_BAD here), closes clients that hung
 * up or sent nothing for CONTROL_IDLE_MS. Bounded work. */
void control_serve(struct control *c, const struct pollfd *pfd, size_t n, uint64_t now_ms,
		   control_fn fn, void *ctx);

/* Answers the connection token and closes it. A token whose client is gone
 * is ignored. text may hold several lines; it is cut at CONTROL_REPLY_MAX. */
void control_reply(struct control *c, uint32_t token, int code, const char *text);
/* The client of token is still connected, waiting for its answer. */
bool control_waiting(const struct control *c, uint32_t token);

/* ------------------------------------------------------------ client */

/* The run dir of the running jobshim: opt if given, else the first default
 * candidate holding a control entry. 0 or -ENOENT. */
int control_find_dir(const char *opt, char *buf, size_t cap);

/* Sends req to the jobshim of run_dir and waits up to timeout_ms for its
 * answer. Returns the reply code (0..2) with the text in reply, or -errno:
 * -ENOENT / -ECONNREFUSED (no jobshim), -ENOTSOCK (the name is a symlink,
 * FIFO or file: not followed), -EPERM (the socket is another user's),
 * -EACCES, -ETIMEDOUT, -EPROTO (a malformed answer), -ECONNRESET (closed
 * without an answer). */
int control_request(const char *run_dir, const struct control_req *req, int timeout_ms, char *reply,
		    size_t cap);

#endif

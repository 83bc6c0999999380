#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "signame.h"
#include "sigspec.h"
#include "status.h"

#define LISTEN_BACKLOG	64
#define SIGNAL_MAX	SIGSPEC_MAX
#define TOKEN_SLOT_BITS 4 /* CONTROL_CONNS_MAX <= 16 */
#define REFUSAL_LOG_MS	1000

_Static_assert(CONTROL_CONNS_MAX <= (1 << TOKEN_SLOT_BITS), "token slot bits");

/* ------------------------------------------------------------ grammar */

static bool lower_eq(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);

	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++) {
		char x = a[i];
		if (x >= 'a' && x <= 'z')
			x = (char)(x - 'a' + 'A');
		if (x != b[i])
			return false;
	}
	return true;
}

int control_signal_parse(const char *s, size_t len)
{
	int n = 0;

	if (len == 0)
		return -EINVAL;
	if (s[0] >= '0' && s[0] <= '9') {
		if (s[0] == '0' || len > 2)
			return -EINVAL; /* no 0, no leading zeros, nothing above 64 */
		for (size_t i = 0; i < len; i++) {
			if (s[i] < '0' || s[i] > '9')
				return -EINVAL;
			n = n * 10 + (s[i] - '0');
		}
		return n <= SIGNAL_MAX ? n : -EINVAL;
	}
	if (len > 3 && lower_eq(s, 3, "SIG"))
		s += 3, len -= 3;
	for (int sig = 1; sig <= SIGNAL_MAX; sig++) {
		const char *name = signal_name(sig);
		if (name != NULL && lower_eq(s, len, name))
			return sig;
	}
	return -EINVAL;
}

static bool job_name_ok(const char *s, size_t len)
{
	if (len == 0 || len > CONTROL_JOB_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return false;
	}
	return true;
}

static bool word_is(const char *w, size_t len, const char *lit)
{
	return len == strlen(lit) && memcmp(w, lit, len) == 0;
}

#define WORDS_MAX 3

int control_parse(const char *buf, size_t len, struct control_req *out, struct err *err)
{
	const char *w[WORDS_MAX];
	size_t wl[WORDS_MAX], nw = 0, start = 0;

	memset(out, 0, sizeof(*out));
	err_clear(err);
	if (len > CONTROL_REQ_MAX)
		return err_set(err, -EINVAL, "request too long");
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len == 0)
		return err_set(err, -EINVAL, "empty request");
	for (size_t i = 0; i <= len; i++) {
		if (i < len && buf[i] != ' ') {
			if ((unsigned char)buf[i] < 0x21 || (unsigned char)buf[i] > 0x7e)
				return err_set(err, -EINVAL,
					       "a request is printable ASCII on one line");
			continue;
		}
		if (i == start)
			return err_set(err, -EINVAL, "words are separated by exactly one space");
		if (nw == WORDS_MAX)
			return err_set(err, -EINVAL, "too many words");
		w[nw] = buf + start, wl[nw] = i - start, nw++;
		start = i + 1;
	}
	if (word_is(w[0], wl[0], "reload")) {
		if (nw != 1)
			return err_set(err, -EINVAL, "reload takes no argument");
		out->verb = CTL_RELOAD;
		return 0;
	}
	if (word_is(w[0], wl[0], "restart")) {
		if (nw > 2)
			return err_set(err, -EINVAL, "usage: restart [JOB]");
		out->verb = CTL_RESTART;
	} else if (word_is(w[0], wl[0], "signal")) {
		if (nw != 3)
			return err_set(err, -EINVAL, "usage: signal JOB SIG");
		out->verb = CTL_SIGNAL;
	} else {
		return err_set(err, -EINVAL,
			       "unknown request (expected restart, signal or reload)");
	}
	if (nw >= 2) {
		if (!job_name_ok(w[1], wl[1]))
			return err_set(
			    err, -EINVAL,
			    "a job name is 1 to " BOUND_STR(CONTROL_JOB_MAX) " of a-z, 0-9 and -");
		memcpy(out->job, w[1], wl[1]);
		out->job[wl[1]] = '\0';
	}
	if (out->verb == CTL_SIGNAL) {
		int sig = control_signal_parse(w[2], wl[2]);
		if (sig < 0)
			return err_set(err, -EINVAL,
				       "unknown signal (expected a name such as TERM, HUP, USR1, "
				       "TSTP, or a number 1-" BOUND_STR(SIGSPEC_MAX) ")");
		out->sig = sig;
	}
	return 0;
}

int control_format(const struct control_req *r, char *buf, size_t cap)
{
	const char *name;
	int n = -1;

	switch (r->verb) {
	case CTL_RELOAD:
		n = snprintf(buf, cap, "reload\n");
		break;
	case CTL_RESTART:
		n = snprintf(buf, cap, r->job[0] ? "restart %s\n" : "restart\n", r->job);
		break;
	case CTL_SIGNAL:
		name = signal_name(r->sig);
		n = name != NULL ? snprintf(buf, cap, "signal %s %s\n", r->job, name)
				 : snprintf(buf, cap, "signal %s %d\n", r->job, r->sig);
		break;
	}
	if (n < 0 || (size_t)n >= cap || n > CONTROL_REQ_MAX)
		return -ENOSPC;
	return n;
}

/* ------------------------------------------------------------ server */

enum conn_state { CONN_FREE, CONN_READING, CONN_WAITING };

struct conn {
	int fd;
	enum conn_state st;
	uint32_t token;
	uint64_t deadline_ms; /* CONN_READING: closed unanswered after this */
	struct ucred peer;
	bool refused; /* another user: its request is read, then refused */
};

struct control {
	int lfd, dirfd;
	dev_t dev;
	ino_t ino;
	uint32_t serial;
	uint64_t refusal_logged_ms;
	unsigned refusals_unlogged;
	struct conn conns[CONTROL_CONNS_MAX];
	char out[CONTROL_REPLY_MAX];
};

static uint64_t mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* sun_path for NAME in the directory dirfd (or path): the plain path when it
 * fits, else the same directory through /proc/self/fd. */
static int sock_addr(struct sockaddr_un *a, const char *dir, int dirfd, const char *name)
{
	int n;

	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	n = snprintf(a->sun_path, sizeof(a->sun_path), "%s/%s", dir, name);
	if (n >= 0 && (size_t)n < sizeof(a->sun_path))
		return 0;
	if (dirfd < 0)
		return -ENAMETOOLONG;
	n = snprintf(a->sun_path, sizeof(a->sun_path), "/proc/self/fd/%d/%s", dirfd, name);
	return n >= 0 && (size_t)n < sizeof(a->sun_path) ? 0 : -ENAMETOOLONG;
}

int control_listen(const char *run_dir, int run_fd, struct control **out)
{
	struct control *c;
	struct sockaddr_un a;
	struct stat st;
	mode_t old;
	int r;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	c->lfd = -1;
	for (size_t i = 0; i < CONTROL_CONNS_MAX; i++)
		c->conns[i].fd = -1;
	c->dirfd = run_fd >= 0 ? fcntl(run_fd, F_DUPFD_CLOEXEC, 0)
			       : open(run_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->dirfd < 0) {
		r = -errno;
		goto fail;
	}
	/* Only the jobshim holding jobshim.lock gets here, so a socket at the
	 * name is a dead jobshim's. Anything else was put there by someone:
	 * neither followed nor removed. */
	if (fstatat(c->dirfd, CONTROL_SOCKET, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISSOCK(st.st_mode) || st.st_uid != geteuid()) {
			r = -EEXIST;
			goto fail;
		}
		if (unlinkat(c->dirfd, CONTROL_SOCKET, 0) < 0 && errno != ENOENT) {
			r = -errno;
			goto fail;
		}
	}
	r = sock_addr(&a, run_dir, c->dirfd, CONTROL_SOCKET);
	if (r < 0)
		goto fail;
	c->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->lfd < 0) {
		r = -errno;
		goto fail;
	}
	/* The socket is created 0600 (connecting needs write permission), so
	 * no other user can reach it even before SO_PEERCRED is checked.
	 * jobshim is single-threaded: the umask change is seen by nothing else. */
	old = umask(0177);
	r = bind(c->lfd, (struct sockaddr *)&a, sizeof(a)) < 0 ? -errno : 0;
	umask(old);
	if (r < 0)
		goto fail;
	if (listen(c->lfd, LISTEN_BACKLOG) < 0 ||
	    fstatat(c->dirfd, CONTROL_SOCKET, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		r = -errno;
		goto fail;
	}
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	*out = c;
	return 0;
fail:
	if (c->lfd >= 0)
		close(c->lfd);
	if (c->dirfd >= 0)
		close(c->dirfd);
	free(c);
	return r;
}

static void conn_close(struct conn *k)
{
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
	k->st = CONN_FREE;
	k->token = 0;
}

void control_close(struct control *c)
{
	struct stat st;

	if (c == NULL)
		return;
	for (size_t i = 0; i < CONTROL_CONNS_MAX; i++)
		conn_close(&c->conns[i]);
	close(c->lfd);
	/* Remove the name only while it still is our socket: whatever
	 * replaced it is not ours to delete. */
	if (fstatat(c->dirfd, CONTROL_SOCKET, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    st.st_dev == c->dev && st.st_ino == c->ino)
		unlinkat(c->dirfd, CONTROL_SOCKET, 0);
	close(c->dirfd);
	free(c);
}

static struct conn *free_slot(struct control *c)
{
	for (size_t i = 0; i < CONTROL_CONNS_MAX; i++)
		if (c->conns[i].st == CONN_FREE)
			return &c->conns[i];
	return NULL;
}

size_t control_pollfds(const struct control *c, struct pollfd *pfd, size_t cap)
{
	size_t n = 0;
	bool room = false;

	if (c == NULL)
		return 0;
	for (size_t i = 0; i < CONTROL_CONNS_MAX; i++)
		room = room || c->conns[i].st == CONN_FREE;
	/* With every slot taken, further clients wait in the backlog. */
	if (room && n < cap)
		pfd[n++] = (struct pollfd){.fd = c->lfd, .events = POLLIN};
	for (size_t i = 0; i < CONTROL_CONNS_MAX && n < cap; i++) {
		const struct conn *k = &c->conns[i];
		if (k->st == CONN_FREE)
			continue;
		/* A waiting client is watched for hanging up only: more input
		 * from it is ignored, so it cannot make the loop spin. */
		pfd[n++] =
		    (struct pollfd){.fd = k->fd, .events = k->st == CONN_READING ? POLLIN : 0};
	}
	return n;
}

uint64_t control_deadline(const struct control *c)
{
	uint64_t next = UINT64_MAX;

	for (size_t i = 0; c != NULL && i < CONTROL_CONNS_MAX; i++)
		if (c->conns[i].st == CONN_READING && c->conns[i].deadline_ms < next)
			next = c->conns[i].deadline_ms;
	return next;
}

static struct conn *conn_of_token(const struct control *c, uint32_t token)
{
	size_t slot = token & ((1u << TOKEN_SLOT_BITS) - 1);

	if (c == NULL || token == 0 || slot >= CONTROL_CONNS_MAX)
		return NULL;
	if (c->conns[slot].st == CONN_FREE || c->conns[slot].token != token)
		return NULL;
	return (struct conn *)&c->conns[slot];
}

bool control_waiting(const struct control *c, uint32_t token)
{
	const struct conn *k = conn_of_token(c, token);

	return k != NULL && k->st == CONN_WAITING;
}

static void send_reply(struct control *c, int fd, int code, const char *text)
{
	static const char cut[] = "\n... (answer cut)\n";
	size_t len;
	int n;

	n = snprintf(c->out, sizeof(c->out), "%d %s", code, text);
	if (n < 0)
		return;
	len = (size_t)n;
	if (len >= sizeof(c->out)) {
		memcpy(c->out + sizeof(c->out) - sizeof(cut), cut, sizeof(cut));
		len = sizeof(c->out) - 1;
	}
	/* One packet into the client's receive queue; if even that does not
	 * fit, the client gets nothing rather than jobshim waiting. */
	(void)send(fd, c->out, len, MSG_DONTWAIT | MSG_NOSIGNAL);
}

void control_reply(struct control *c, uint32_t token, int code, const char *text)
{
	struct conn *k = conn_of_token(c, token);

	if (k == NULL)
		return;
	send_reply(c, k->fd, code, text);
	conn_close(k);
}

/* The refusal is sent once the request is read: closing a socket with
 * unread data would reset the client's end, and it would not see why. */
static void refuse_peer(struct control *c, struct conn *k, uint64_t now)
{
	const struct ucred *cr = &k->peer;
	char msg[160];

	snprintf(msg, sizeof(msg),
		 "jobshim: refused: only uid %u may operate this jobshim, not uid %u\n",
		 (unsigned)geteuid(), (unsigned)cr->uid);
	send_reply(c, k->fd, CONTROL_BAD, msg);
	/* A flood of refused clients costs one log line a second. */
	if (now - c->refusal_logged_ms >= REFUSAL_LOG_MS || c->refusal_logged_ms == 0) {
		if (c->refusals_unlogged > 0)
			log_msg("control: refused %u more requests of other users",
				c->refusals_unlogged);
		log_msg("control: refused a request of uid %u (pid %d): only uid %u may operate "
			"jobshim",
			(unsigned)cr->uid, (int)cr->pid, (unsigned)geteuid());
		c->refusal_logged_ms = now;
		c->refusals_unlogged = 0;
	} else {
		c->refusals_unlogged++;
	}
	conn_close(k);
}

static void accept_some(struct control *c, uint64_t now)
{
	for (int n = 0; n < CONTROL_ACCEPTS_PER_TURN; n++) {
		struct conn *k = free_slot(c);
		struct ucred cr;
		socklen_t crlen = sizeof(cr);
		int fd;

		if (k == NULL)
			return;
		fd = accept4(c->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ECONNABORTED)
				log_debug("control: accept: %s", strerror(errno));
			return;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) < 0) {
			close(fd);
			continue;
		}
		c->serial++;
		if ((c->serial << TOKEN_SLOT_BITS) == 0)
			c->serial = 1;
		k->fd = fd;
		k->st = CONN_READING;
		k->token = (c->serial << TOKEN_SLOT_BITS) | (uint32_t)(k - c->conns);
		k->deadline_ms = now + CONTROL_IDLE_MS;
		k->peer = cr;
		k->refused = cr.uid != geteuid();
	}
}

static void read_request(struct control *c, struct conn *k, uint64_t now, control_fn fn, void *ctx)
{
	char buf[CONTROL_REQ_MAX + 1], msg[ERR_MSG_MAX + 32];
	struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	struct control_req req;
	struct err why;
	ssize_t n;

	do
		n = recvmsg(k->fd, &mh, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n <= 0) {
		conn_close(k);
		return;
	}
	if (k->refused) {
		refuse_peer(c, k, now);
		return;
	}
	if ((mh.msg_flags & MSG_TRUNC) || (size_t)n > CONTROL_REQ_MAX) {
		snprintf(msg, sizeof(msg), "jobshim: bad request: longer than %d bytes\n",
			 CONTROL_REQ_MAX);
		control_reply(c, k->token, CONTROL_BAD, msg);
		return;
	}
	if (control_parse(buf, (size_t)n, &req, &why) < 0) {
		snprintf(msg, sizeof(msg), "jobshim: bad request: %s\n", why.msg);
		log_msg("control: bad request: %s", why.msg);
		control_reply(c, k->token, CONTROL_BAD, msg);
		return;
	}
	k->st = CONN_WAITING;
	fn(ctx, k->token, &req);
}

static struct conn *conn_of_fd(struct control *c, int fd)
{
	for (size_t i = 0; i < CONTROL_CONNS_MAX; i++)
		if (c->conns[i].st != CONN_FREE && c->conns[i].fd == fd)
			return &c->conns[i];
	return NULL;
}

void control_serve(struct control *c, const struct pollfd *pfd, size_t n, uint64_t now_ms,
		   control_fn fn, void *ctx)
{
	bool listen_ready = false;

	if (c == NULL)
		return;
	/* Connections first, then accepts: a new connection may take the fd
	 * number of one closed here, and must not be matched to its entry. */
	for (size_t i = 0; i < n; i++) {
		struct conn *k;

		if (pfd[i].fd == c->lfd) {
			listen_ready = (pfd[i].revents & POLLIN) != 0;
			continue;
		}
		k = conn_of_fd(c, pfd[i].fd);
		if (k == NULL || pfd[i].revents == 0)
			continue;
		if (k->st == CONN_READING && (pfd[i].revents & POLLIN))
			read_request(c, k, now_ms, fn, ctx);
		else if (pfd[i].revents & (POLLHUP | POLLERR | POLLNVAL))
			conn_close(k); /* gone before its answer */
	}
	for (size_t i = 0; i < CONTROL_CONNS_MAX; i++) {
		struct conn *k = &c->conns[i];
		if (k->st == CONN_READING && now_ms >= k->deadline_ms) {
			log_debug("control: a client sent no request within %dms; closed",
				  CONTROL_IDLE_MS);
			conn_close(k);
		}
	}
	if (listen_ready)
		accept_some(c, now_ms);
}

/* ------------------------------------------------------------ client */

int control_find_dir(const char *opt, char *buf, size_t cap)
{
	char cand[RUN_DIR_MAX_CANDS][PATH_MAX], path[PATH_MAX + sizeof("/" CONTROL_SOCKET)];
	struct stat st;
	size_t n;

	if (opt != NULL && opt[0] != '\0') {
		if (strlen(opt) >= cap)
			return -ENAMETOOLONG;
		strcpy(buf, opt);
		return 0;
	}
	n = run_dir_candidates(RUN_DIR_DEFAULT, cand);
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/" CONTROL_SOCKET, cand[i]);
		/* Whatever the name is: a symlink found here is refused
		 * loudly by control_request, not skipped. */
		if (lstat(path, &st) == 0 && strlen(cand[i]) < cap) {
			strcpy(buf, cand[i]);
			return 0;
		}
	}
	return -ENOENT;
}

static int wait_reply(int fd, int timeout_ms, char *reply, size_t cap)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	uint64_t end = mono_ms() + (uint64_t)timeout_ms;
	char buf[CONTROL_REPLY_MAX];
	ssize_t n;

	for (;;) {
		uint64_t now = mono_ms();
		int r;

		if (now >= end)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)(end - now));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0)
			return -errno;
		break;
	}
	if (n == 0)
		return -ECONNRESET;
	buf[n] = '\0';
	if (n < 2 || buf[0] < '0' || buf[0] > '2' || buf[1] != ' ')
		return -EPROTO;
	snprintf(reply, cap, "%s", buf + 2);
	return buf[0] - '0';
}

int control_request(const char *run_dir, const struct control_req *req, int timeout_ms, char *reply,
		    size_t cap)
{
	char path[PATH_MAX + sizeof("/" CONTROL_SOCKET)], line[CONTROL_REQ_MAX + 1];
	struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
	struct sockaddr_un a;
	struct stat st;
	int pfd = -1, s = -1, r, len;

	len = control_format(req, line, sizeof(line));
	if (len < 0)
		return len;
	if (snprintf(path, sizeof(path), "%s/" CONTROL_SOCKET, run_dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	/* The name is looked at without following it, and the socket reached
	 * through that very inode (/proc/self/fd), so that a symlink or FIFO
	 * swapped in is never followed, not even between check and connect. */
	pfd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (pfd < 0)
		return -errno;
	if (fstat(pfd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISSOCK(st.st_mode)) {
		r = -ENOTSOCK;
		goto out;
	}
	if (st.st_uid != geteuid()) {
		r = -EPERM;
		goto out;
	}
	s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0) {
		r = -errno;
		goto out;
	}
	/* Bounds a connect that waits for room in a flooded backlog. */
	(void)setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	snprintf(a.sun_path, sizeof(a.sun_path), "/proc/self/fd/%d", pfd);
	r = connect(s, (struct sockaddr *)&a, sizeof(a)) < 0 ? -errno : 0;
	if (r == -ENOENT && access("/proc/self/fd", F_OK) < 0) {
		/* No /proc: the checked name itself (a swap in between is the
		 * remaining, documented window). */
		r = sock_addr(&a, run_dir, -1, CONTROL_SOCKET);
		if (r == 0)
			r = connect(s, (struct sockaddr *)&a, sizeof(a)) < 0 ? -errno : 0;
	}
	if (r == -EAGAIN || r == -EINPROGRESS)
		r = -ETIMEDOUT;
	if (r < 0)
		goto out;
	if (send(s, line, (size_t)len, MSG_NOSIGNAL) != len) {
		r = errno == EAGAIN ? -ETIMEDOUT : -errno;
		goto out;
	}
	r = wait_reply(s, timeout_ms, reply, cap);
out:
	if (s >= 0)
		close(s);
	close(pfd);
	return r;
}

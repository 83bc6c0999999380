/* The workers' output (SPEC §5): each job's stdout and stderr pipes,
 * read through its line prefixer (logpfx) into jobshim's non-blocking
 * stdout and stderr queues (outq) only as far as those have room
 * (back-pressure), an instance's last line ended once all its bytes are
 * read, and what is left drained at exit. */
#include "supervise_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "log.h"
#include "logpfx.h"
#include "outq.h"

#define READS_PER_TURN 16   /* fairness between busy pipes */
#define SHORT_READ     4096 /* below any read logpfx asks for (64 KiB) */
#define JOB_PIPE_SIZE  (1024 * 1024)

/* A job's pipe k (0 stdout, 1 stderr) and where its lines go. */
static struct logpfx *pfx_of(const struct job *j, int k)
{
	return k == 0 ? j->pfx_out : j->pfx_err;
}

static int pipe_of(const struct job *j, int k)
{
	return k == 0 ? j->out[0] : j->err[0];
}

/* How much may be read from pipe k now: what the output queue has room
 * for (back-pressure: nothing while jobshim's stdout is stalled), and no
 * more than the last instance's bytes while its partial line waits. */
static size_t readable_now(struct job *j, int k)
{
	size_t n = logpfx_input_for(pfx_of(j, k), outq_room(outq_std(k + 1)));

	if (j->flush_due[k] && j->owed[k] < n)
		n = j->owed[k];
	return n;
}

/* The last instance's bytes are all read: end its last line without
 * newline, once the queue has room for it. */
static void flush_if_due(struct job *j, int k)
{
	struct logpfx *p = pfx_of(j, k);

	if (!j->flush_due[k] || j->owed[k] > 0)
		return;
	if (outq_room(outq_std(k + 1)) < logpfx_flush_max(p))
		return;
	logpfx_flush(p);
	j->flush_due[k] = false;
}

/* Up to `max` reads from pipe k (fairness between busy pipes). An output
 * error (EPIPE: jobshim's stdout was closed) is said once; the prefixer
 * discards from then on and reading goes on, so that the job never blocks
 * on a full pipe and supervision continues. */
static void pump(struct job *j, int k, int max)
{
	for (int i = 0; i < max; i++) {
		size_t n = readable_now(j, k);
		ssize_t r = logpfx_read_max(pfx_of(j, k), pipe_of(j, k), n);
		if (r > 0) {
			if (j->flush_due[k])
				j->owed[k] -= (size_t)r < j->owed[k] ? (size_t)r : j->owed[k];
			/* A pipe read shorter than asked (the prefixer always asks
			 * for more than SHORT_READ) emptied the pipe: poll says
			 * when more comes, so no EAGAIN read follows. A worker
			 * writing line by line costs one read a line, not two. */
			if ((size_t)r < n && r < SHORT_READ)
				break;
			continue;
		}
		if (r < 0 && r != -EAGAIN && logpfx_output_error(pfx_of(j, k)) == (int)r) {
			log_msg("unable to write job output: %s; discarding it from now on",
				strerror((int)-r));
			continue;
		}
		break;
	}
	flush_if_due(j, k);
}

/* An instance's processes are gone, so everything it wrote is in the pipes
 * now: that many bytes are still its own, then its last line is ended.
 * They are read as the output drains (never waiting for it): the next
 * instance's bytes come after them. */
void sup_instance_done(struct job *j)
{
	if (j->out[0] < 0)
		return;
	for (int k = 0; k < 2; k++) {
		int avail = 0;
		if (ioctl(pipe_of(j, k), FIONREAD, &avail) < 0 || avail < 0)
			avail = 0;
		j->owed[k] = (size_t)avail;
		j->flush_due[k] = true;
		pump(j, k, READS_PER_TURN);
	}
}

/* True while a job's pipes hold output not yet handed to the queues. */
static bool output_left(const struct job *j)
{
	for (int k = 0; j->out[0] >= 0 && k < 2; k++) {
		int avail = 0;
		if (j->flush_due[k] || (ioctl(pipe_of(j, k), FIONREAD, &avail) == 0 && avail > 0))
			return true;
	}
	return false;
}

/* Bytes still in a job's pipes and prefixers. */
uint64_t sup_output_stuck(const struct job *j)
{
	uint64_t n = 0;

	for (int k = 0; j->out[0] >= 0 && k < 2; k++) {
		int avail = 0;
		if (ioctl(pipe_of(j, k), FIONREAD, &avail) == 0 && avail > 0)
			n += (uint64_t)avail;
		n += logpfx_pending(pfx_of(j, k));
	}
	return n;
}

/* Say how jobshim's stdout and stderr fare: one message each way. */
static void report_output_events(void)
{
	for (int fd = 1; fd <= 2; fd++) {
		const char *name = fd == 1 ? "stdout" : "stderr";
		int err;
		switch (outq_take_event(outq_std_peek(fd), &err)) {
		case OUTQ_FAILED:
			log_msg("unable to write to %s: %s; holding its output and retrying", name,
				strerror(err));
			break;
		case OUTQ_RECOVERED:
			log_msg("%s works again; its held output follows", name);
			break;
		case OUTQ_CLOSED:
			log_msg("%s is closed (%s): discarding what goes there from now on", name,
				strerror(err));
			break;
		case OUTQ_NONE:
			break;
		}
	}
}

static const char *const colors[] = {"\x1b[36m", "\x1b[33m", "\x1b[32m", "\x1b[35m"};

int sup_open_pipes(struct sup *s, struct job *j, size_t pad, bool color)
{
	struct logpfx_opts lo = {
	    .job = j->plan->name,
	    .pad_to = pad,
	    .color = color ? colors[(size_t)(j - s->jobs) % 4] : NULL,
	    .format = s->o->log_format,
	    .timestamps = s->o->log_timestamps,
	};
	int r;

	/* jobshim keeps the write ends too (close-on-exec), so a pipe outlives
	 * every instance and reading never sees EOF: after an instance's
	 * processes are gone, a non-blocking read until EAGAIN has it all. */
	if (pipe2(j->out, O_CLOEXEC) < 0 || pipe2(j->err, O_CLOEXEC) < 0)
		return -errno;
	if (fcntl(j->out[0], F_SETFL, O_NONBLOCK) < 0 || fcntl(j->err[0], F_SETFL, O_NONBLOCK) < 0)
		return -errno;
	/* A larger pipe lets a chatty job run ahead of jobshim's writes
	 * instead of waking it for every 64 KiB; where the system caps pipe
	 * sizes (pipe-max-size, an unprivileged user's quota) the default
	 * size is fine. */
	(void)fcntl(j->out[0], F_SETPIPE_SZ, JOB_PIPE_SIZE);
	(void)fcntl(j->err[0], F_SETPIPE_SZ, JOB_PIPE_SIZE);
	lo.sink = outq_sink;
	lo.stream = "stdout", lo.out_fd = STDOUT_FILENO, lo.sink_ctx = outq_std(STDOUT_FILENO);
	r = logpfx_new(&lo, &j->pfx_out);
	if (r < 0)
		return r;
	lo.stream = "stderr", lo.out_fd = STDERR_FILENO, lo.sink_ctx = outq_std(STDERR_FILENO);
	return logpfx_new(&lo, &j->pfx_err);
}

void sup_pollset_outputs(struct sup *s, struct pollset *ps)
{
	for (size_t i = 0; i < s->n; i++) {
		struct job *j = &s->jobs[i];
		for (int k = 0; j->out[0] >= 0 && k < 2; k++)
			if (readable_now(j, k) > 0)
				pollset_add(ps, pipe_of(j, k), POLLIN, j, k);
	}
	for (int fd = 1; fd <= 2; fd++) {
		int ofd = outq_poll_fd(outq_std_peek(fd));
		if (ofd >= 0)
			pollset_add(ps, ofd, POLLOUT, NULL, fd);
	}
}

void sup_pump_output(struct pollset *ps)
{
	for (nfds_t i = 0; i < ps->n; i++)
		if (ps->pfd[i].revents != 0 && ps->job[i] != NULL)
			pump(ps->job[i], ps->stream[i], READS_PER_TURN);
	outq_flush(outq_std_peek(STDOUT_FILENO));
	outq_flush(outq_std_peek(STDERR_FILENO));
	report_output_events();
}

/* Once the jobs are gone: what they wrote goes out for what is left of the
 * grace period (at least 1 s); a stalled reader does not keep jobshim. */
void sup_drain_at_exit(struct sup *s)
{
	uint64_t now = mono(), deadline = now + 1000;

	if (s->stopping && s->kill_at_ms > deadline)
		deadline = s->kill_at_ms;
	for (size_t i = 0; i < s->n; i++) {
		struct job *j = &s->jobs[i];
		for (int k = 0; j->out[0] >= 0 && k < 2; k++) {
			int avail = 0;
			if (ioctl(pipe_of(j, k), FIONREAD, &avail) < 0 || avail < 0)
				avail = 0;
			j->owed[k] = (size_t)avail;
			j->flush_due[k] = true;
		}
	}
	for (;;) {
		struct pollset ps = {.n = 0};
		bool left = false;
		uint64_t next = deadline;

		for (size_t i = 0; i < s->n; i++) {
			struct job *j = &s->jobs[i];
			for (int k = 0; j->out[0] >= 0 && k < 2; k++)
				pump(j, k, READS_PER_TURN);
			left = left || output_left(j);
		}
		outq_flush(outq_std_peek(STDOUT_FILENO));
		outq_flush(outq_std_peek(STDERR_FILENO));
		report_output_events();
		if (!left && outq_pending(outq_std_peek(1)) == 0 &&
		    outq_pending(outq_std_peek(2)) == 0)
			return;
		now = mono();
		if (now >= deadline)
			return;
		sup_pollset_outputs(s, &ps);
		for (int fd = 1; fd <= 2; fd++) {
			uint64_t r = outq_retry_at(outq_std_peek(fd));
			if (r != 0 && r < next)
				next = r;
		}
		(void)poll(ps.pfd, ps.n, (int)(next > now ? next - now : 0));
	}
}

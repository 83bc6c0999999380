/* What a running jobshim keeps in its run dir (SPEC §8, §10): the locks of
 * its jobs, status.json for `jobshim stats` (written at most
 * STATUS_DELAY_MS after a change, retried after a failure) and the control
 * socket, which opens with the first status write. */
#include "supervise_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bounds.h"
#include "control.h"
#include "jobstate.h"
#include "log.h"
#include "plan.h"
#include "rundir.h"
#include "status.h"

#define READY_AFTER_MS	5000 /* an instance is "progressing" before that */
#define STATUS_RETRY_MS 1000 /* after a failed status.json write */
#define STATUS_DELAY_MS 100  /* status.json lags changes by at most this */

/* Something stats shows changed. Changes are written together, at most
 * STATUS_DELAY_MS after the first one: a job that starts and exits at once
 * costs no file system work, and a crash loop one write a restart. */
void sup_status_changed(struct sup *s)
{
	if (s->status_on && s->status_due_ms == 0)
		s->status_due_ms = mono() + STATUS_DELAY_MS;
}

/* The same jobshim answers the control commands. Its socket opens with the
 * first status write, like status.json at most STATUS_DELAY_MS after the
 * start: a job that exits at once costs no socket (a bind on the run dir's
 * file system is a tenth of a start-up), and `jobshim restart` finds both
 * at the same moment. */
static void control_open(struct sup *s)
{
	int r = control_listen(s->run_dir, s->run_fd, &s->ctl);

	s->ctl_due = false;
	if (r < 0)
		log_msg("no control channel (%s/%s: %s): `jobshim restart|signal|reload` "
			"cannot reach this jobshim",
			s->run_dir, CONTROL_SOCKET,
			r == -EEXIST ? "exists and is not jobshim's socket" : strerror(-r));
}

static int run_dir_open_locked(struct sup *s);

void sup_status_write_now(struct sup *s)
{
	struct status_doc *d = &s->doc;

	if (s->run_dir_due) {
		s->run_dir_due = false;
		s->status_on = false; /* until jobshim.lock says it is ours */
		(void)run_dir_open_locked(s);
	}
	if (!s->status_on)
		return;
	if (s->ctl_due)
		control_open(s);
	memset(d, 0, sizeof(*d));
	d->jobshim_pid = getpid();
	d->written_unix_ms = (int64_t)now_ms(CLOCK_REALTIME);
	d->ready_after_ms = READY_AFTER_MS;
	for (size_t i = 0; i < s->n; i++) {
		const struct job *j = &s->jobs[i];
		struct job_status *js = &d->jobs[d->n_jobs];

		if (j->removed)
			continue; /* a reload removed it: gone from stats */
		d->n_jobs++;

		snprintf(js->name, sizeof(js->name), "%s", j->plan->name);
		snprintf(js->kind, sizeof(js->kind), "%s", sup_kind_name(j->plan->kind));
		snprintf(js->size, sizeof(js->size), "%s",
			 j->plan->size != NULL ? j->plan->size->name : "");
		js->pid = j->pid;
		js->restarts = j->restarts;
		js->last_exit_code = j->last_code;
		js->last_oom = j->last_oom;
		/* restarts since the last stable run: while waiting, the exit
		 * streak counts one restart that has not happened yet */
		js->unstable = j->phase == JS_WAITING && j->streak > 0 ? j->streak - 1 : j->streak;
		js->started_unix_ms = (int64_t)j->started_wall_ms;
		js->state =
		    jobstate_run_state(j->phase, sup_job_role(s, j), s->stopping, j->os.state);
		if (j->phase == JS_WAITING)
			js->next_start_unix_ms =
			    (int64_t)(now_ms(CLOCK_REALTIME) + (j->restart_at_ms - mono()));
		if (is_oneshot(j))
			sup_oneshot_status(s, j, js);
	}
	int r = status_write_at(s->run_fd, d);
	s->status_due_ms = 0;
	if (r == 0)
		s->status_written = true;
	if (r < 0 && !s->status_failing)
		log_msg("unable to write %s: %s; retrying every %dms", s->status_path, strerror(-r),
			STATUS_RETRY_MS);
	else if (r == 0 && s->status_failing)
		log_msg("%s written again", s->status_path);
	s->status_failing = r < 0;
	/* A failed write (ENOSPC) is retried until the file system recovers:
	 * a stale status.json must not be served for good. */
	if (r < 0)
		s->status_due_ms = mono() + STATUS_RETRY_MS;
}

/* The run dir holds status.json (owned by one jobshim a container: the one
 * holding jobshim.lock) and a lock a worker: a second jobshim for the same
 * job exits 75. Without a run dir of jobshim's own jobshim warns and runs
 * on without them. Everything in it is opened relative to its fd. */
static int run_dir_open_locked(struct sup *s)
{
	char name[JOB_NAME_MAX + 16];
	int r, fd;

	r = run_dir_resolve(s->o->run_dir, 1, s->run_dir, sizeof(s->run_dir));
	if (r >= 0)
		r = s->run_fd = run_dir_open(s->run_dir);
	if (r < 0) {
		const char *why = r == -EPERM	? "not a directory of jobshim's user that only it "
						  "can write to"
				  : r == -ELOOP ? "a symlink"
						: strerror(-r);
		log_msg("no run dir of jobshim's own (%s%s%s): no status for `jobshim stats`, no "
			"single-instance lock",
			s->o->run_dir ? s->o->run_dir : "", s->o->run_dir ? ": " : "", why);
		s->run_fd = -1;
		return 0;
	}
	for (size_t i = 0; i < s->n; i++) {
		const struct job_plan *p = s->jobs[i].plan;
		/* A scheduled job on its schedule locks each run instead. */
		if (p->kind == JOB_MAIN || (p->kind == JOB_SCHEDULED && !s->plan->oneshot))
			continue;
		snprintf(name, sizeof(name), "job-%s.lock", p->name);
		fd = run_dir_lock(s->run_fd, name);
		if (fd == -EWOULDBLOCK) {
			log_msg("%s already runs under another jobshim in this container (%s/%s is "
				"locked)",
				p->name, s->run_dir, name);
			return -EEXIST;
		}
		if (fd < 0)
			log_msg("unable to open %s/%s: %s", s->run_dir, name, strerror(-fd));
		/* fd stays open, and locked, until jobshim exits. */
	}
	fd = run_dir_lock(s->run_fd, "jobshim.lock");
	if (fd >= 0) {
		snprintf(s->status_path, sizeof(s->status_path), "%s/" STATUS_FILE, s->run_dir);
		s->status_on = true;
		s->ctl_due = true;
	} else {
		log_debug("another jobshim owns %s/" STATUS_FILE, s->run_dir);
	}
	return 0;
}

/* The main app alone takes no lock, so its run dir waits for the first
 * status write, STATUS_DELAY_MS after the start: a main app that exits at
 * once (a one-off command under jobshim, as under tini) costs no file
 * system work at all, which is a tenth of a start-up. Every other mode
 * locks its jobs before the first start. */
int sup_run_dir_setup(struct sup *s)
{
	bool locks = false;

	s->run_fd = -1;
	for (size_t i = 0; i < s->n; i++)
		locks |= s->jobs[i].plan->kind != JOB_MAIN;
	if (locks)
		return run_dir_open_locked(s);
	s->run_dir_due = true;
	s->status_on = true; /* so that the first change schedules a write */
	return 0;
}

/* A job's job-NAME.lock in the run dir, held in j->lock_fd: 0 (also
 * without a run dir, or when the lock cannot be opened: the job runs, as at
 * start-up), -EEXIST when another jobshim of the container holds it. */
int sup_job_lock(struct sup *s, struct job *j)
{
	char name[JOB_NAME_MAX + 16];
	int fd;

	if (s->run_fd < 0)
		return 0;
	snprintf(name, sizeof(name), "job-%s.lock", j->plan->name);
	fd = run_dir_lock(s->run_fd, name);
	if (fd == -EWOULDBLOCK)
		return -EEXIST;
	if (fd >= 0)
		j->lock_fd = fd;
	return 0;
}

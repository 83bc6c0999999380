/* Reload (SPEC §10): the configuration read again and validated, what
 * differs (reload.c) applied job by job while the unchanged jobs run on,
 * the client answered once the restarts and removals are done; and
 * --watch-config, which reloads when the file changes. */
#include "supervise_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "bounds.h"
#include "control.h"
#include "err.h"
#include "jobstate.h"
#include "log.h"
#include "logpfx.h"
#include "plan.h"
#include "reload.h"
#include "sandbox.h"
#include "xio.h"

#define WATCH_DEBOUNCE_MS    250  /* a burst of changes to the file is one reload */
#define WATCH_MAX_DELAY_MS   2000 /* ... but a steady stream still reloads this often */
#define WATCH_BUSY_RETRY_MS  200  /* a change seen during a restart waits this long */
#define WATCH_READS_PER_TURN 4

/* A reload's new definition takes over (before the next instance or run). */
void sup_apply_next(struct job *j)
{
	if (j->next_plan == NULL)
		return;
	sandbox_free(j->sandbox);
	j->sandbox = j->next_sandbox;
	j->plan = j->next_plan;
	j->owner = j->next_owner;
	j->next_plan = NULL;
	j->next_sandbox = NULL;
	j->next_owner = NULL;
}

static const char *config_file(const struct sup *s)
{
	if (s->config_path[0] != '\0')
		return s->config_path;
	if (s->cur->config_path != NULL)
		return s->cur->config_path;
	return s->o->config != NULL ? s->o->config : ".deploio.yaml";
}

/* FNV-1a of the file's bytes (bounded), 0 when it cannot be read. Opened
 * non-blocking and read only when it is a regular file: a FIFO put in its
 * place cannot hold jobshim. */
static uint64_t file_hash(const char *path)
{
	uint64_t h = 1469598103934665603ULL;
	size_t total = 0;
	char buf[4096];
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return 0;
	}
	while (total <= CONFIG_FILE_MAX && (n = xread(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++)
			h = (h ^ (unsigned char)buf[i]) * 1099511628211ULL;
		total += (size_t)n;
	}
	close(fd);
	return h == 0 ? 1 : h;
}

static void plans_gc(struct sup *s)
{
	for (size_t k = 0; k < PLANS_MAX; k++) {
		struct run_plan *p = s->owned[k];
		bool used = p == s->cur;

		for (size_t i = 0; p != NULL && i < s->n && !used; i++)
			used = s->jobs[i].owner == p || s->jobs[i].next_owner == p;
		if (p == NULL || used)
			continue;
		plan_free(p);
		free(p);
		s->owned[k] = NULL;
	}
}

static struct run_plan **plan_slot(struct sup *s)
{
	for (size_t k = 0; k < PLANS_MAX; k++)
		if (s->owned[k] == NULL)
			return &s->owned[k];
	return NULL;
}

/* The configuration read again and validated; nothing has changed yet.
 * NULL with the reply sent when it is not valid. */
static struct run_plan *reload_read(struct sup *s, uint32_t token)
{
	char *text = s->reply;
	struct errlist errs;
	struct run_plan *np;
	const char *path = config_file(s);
	struct stat st;
	size_t len = 0;
	int r;

	errlist_clear(&errs);

	/* read_file blocks on a FIFO: only a regular file (symlinks, as in a
	 * ConfigMap, followed) or none at all is read. */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		log_msg("reload refused: %s is not a regular file; nothing changed", path);
		sup_answer(s, token, CONTROL_BAD,
			   "jobshim: %s: not a regular file\njobshim: reload refused: nothing "
			   "changed\n",
			   path);
		return NULL;
	}
	np = calloc(1, sizeof(*np));
	if (np == NULL) {
		sup_answer(s, token, CONTROL_CANNOT, "jobshim: reload: out of memory\n");
		return NULL;
	}
	r = plan_build(s->o, environ, np, &errs);
	if (r == 0 && errs.n == 0)
		return np;
	for (size_t i = 0; i < errs.n; i++) {
		log_msg("%s", errs.item[i].msg);
		sup_append(text, sizeof(s->reply), &len, "jobshim: %s\n", errs.item[i].msg);
	}
	if (errs.dropped > 0)
		sup_append(text, sizeof(s->reply), &len, "jobshim: ... and %zu more errors\n",
			   errs.dropped);
	log_msg("reload refused: the configuration is not valid; nothing changed");
	sup_append(text, sizeof(s->reply), &len,
		   "jobshim: reload refused: the configuration is not valid; nothing changed, the "
		   "jobs go on\n");
	if (token != 0)
		control_reply(s->ctl, token, CONTROL_BAD, text);
	if (r == 0)
		plan_free(np);
	free(np);
	return NULL;
}

/* The new sandboxes of changed and added jobs, made before anything
 * changes: one that cannot be made refuses the whole reload. */
static int reload_prepare(struct sup *s, const struct run_plan *np, const struct plan_diff *d,
			  struct sandbox **changed, struct sandbox **added, uint32_t token)
{
	struct err err;

	for (size_t i = 0; i < s->cur->n_jobs; i++) {
		const struct job_plan *nj = &np->jobs[d->to_new[i]];
		if (d->old[i] != JC_CHANGED || nj->kind == JOB_MAIN || nj->kind == JOB_DEPLOY)
			continue;
		if (sandbox_prepare(&nj->sandbox, &changed[i], &err) < 0)
			goto fail;
	}
	for (size_t k = 0; k < d->n_added; k++) {
		const struct job_plan *nj = &np->jobs[d->added[k]];
		if (nj->kind == JOB_MAIN || nj->kind == JOB_DEPLOY)
			continue;
		if (sandbox_prepare(&nj->sandbox, &added[k], &err) < 0)
			goto fail;
	}
	return 0;
fail:
	log_msg("reload refused: %s; nothing changed", err.msg);
	sup_answer(s, token, CONTROL_BAD, "jobshim: %s\njobshim: reload refused: nothing changed\n",
		   err.msg);
	for (size_t i = 0; i < RELOAD_JOBS_MAX; i++) {
		sandbox_free(changed[i]);
		sandbox_free(added[i]);
	}
	return -EINVAL;
}

/* A scheduled job's new definition: at once when no run of it is under
 * way, else once that run is over (sup_oneshot_run_over). */
static void schedule_changed(struct sup *s, struct job *j)
{
	if (j->phase != JS_IDLE && j->phase != JS_HELD && j->phase != JS_DONE)
		return;
	sup_apply_next(j);
	if (s->tfd >= 0)
		sup_schedules_plan(s, wall_s());
}

/* The single-instance lock of a worker a reload added (sup_run_dir_setup takes
 * the others'): held while it is in the table. */
static int worker_lock(struct sup *s, struct job *j)
{
	return sup_job_lock(s, j);
}

/* A scheduled job a reload added waits for its first time. */
static void schedule_added(struct sup *s, struct job *j)
{
	if (s->tfd < 0) {
		s->tfd = timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC | TFD_NONBLOCK);
		if (s->tfd < 0) {
			log_msg("unable to create the schedules' timer: %s; %s never runs",
				strerror(errno), j->plan->name);
			job_on(s, j, JE_CANCEL, 0);
			return;
		}
		s->cron_anchor = wall_s();
	}
	job_on(s, j, JE_HOLD, 0);
	job_on(s, j, JE_RELEASE, 0);
	sup_schedules_plan(s, wall_s());
	log_msg("%s scheduled", j->plan->name);
}

static void reload_note(struct sup *s, enum note_kind k, const char *name, const char *what)
{
	struct reload_note *n;

	if (s->reload.n_notes >= RELOAD_JOBS_MAX)
		return;
	n = &s->reload.notes[s->reload.n_notes++];
	n->kind = k;
	snprintf(n->name, sizeof(n->name), "%s", name);
	snprintf(n->what, sizeof(n->what), "%s", what);
}

/* Re-reads the configuration and applies what differs: changed workers
 * restart gracefully, removed ones stop, added ones start once those are
 * gone (sup_reload_progress answers then); unchanged jobs and the main app are
 * left alone. token 0: a --watch-config reload. */
void sup_reload(struct sup *s, uint32_t token)
{
	struct sandbox *changed[RELOAD_JOBS_MAX] = {0}, *added[RELOAD_JOBS_MAX] = {0};
	struct run_plan *np, **slot;
	struct plan_diff d;
	char what[96];
	size_t live = 0;

	if (s->stopping) {
		sup_answer(s, token, CONTROL_CANNOT,
			   "jobshim: jobshim is stopping: nothing reloaded\n");
		return;
	}
	if (sup_busy(s)) {
		sup_answer(
		    s, token, CONTROL_CANNOT,
		    "jobshim: a restart or reload is in progress: nothing changed; try again "
		    "once it is done\n");
		return;
	}
	log_msg("reloading %s", config_file(s));
	if (s->watch_fd >= 0)
		s->config_hash = file_hash(config_file(s));
	np = reload_read(s, token);
	if (np == NULL)
		return;
	slot = plan_slot(s);
	for (size_t i = 0; i < s->n; i++)
		live += !s->jobs[i].removed;
	if (plan_diff(s->cur, np, &d) < 0 || slot == NULL ||
	    live - d.n_removed + d.n_added > JOBS_MAX ||
	    reload_prepare(s, np, &d, changed, added, token) < 0) {
		if (slot == NULL || live - d.n_removed + d.n_added > JOBS_MAX)
			sup_answer(s, token, CONTROL_BAD,
				   "jobshim: reload refused: too many jobs\n");
		plan_free(np);
		free(np);
		return;
	}
	memset(&s->reload, 0, sizeof(s->reload));
	*slot = np;
	for (size_t i = 0; i < s->cur->n_jobs; i++) {
		struct job *j = sup_job_named(s, s->cur->jobs[i].name);
		const struct job_plan *nj = &np->jobs[d.to_new[i]];

		if (j == NULL)
			continue;
		switch (d.old[i]) {
		case JC_SAME:
			j->plan = nj;
			j->owner = np;
			reload_note(s, RN_SAME, j->plan->name, "");
			break;
		case JC_CHANGED:
			job_fields_describe(d.fields[i], what, sizeof(what));
			if (j->plan->kind == JOB_MAIN) {
				log_msg("reload: %s (the main app) changed (%s): not restarted; "
					"restart the container to apply it",
					j->plan->name, what);
				reload_note(s, RN_MAIN, j->plan->name, what);
				break;
			}
			if (j->plan->kind == JOB_DEPLOY) {
				log_msg("reload: %s (the deploy job) changed (%s): it ran already; "
					"the change applies at the next start",
					j->plan->name, what);
				reload_note(s, RN_DEPLOY, j->plan->name, what);
				break;
			}
			log_msg("reload: %s changed (%s)", j->plan->name, what);
			sandbox_free(j->next_sandbox); /* an earlier reload's, not yet applied */
			j->next_plan = nj;
			j->next_owner = np;
			j->next_sandbox = changed[i];
			if (j->plan->kind == JOB_SCHEDULED) {
				reload_note(s, RN_SCHED, j->plan->name, what);
				schedule_changed(s, j);
				break;
			}
			reload_note(s, RN_RESTART, j->plan->name, what);
			sup_transition_begin(s, j, TR_RESTART);
			break;
		case JC_REMOVED:
			log_msg("reload: %s is no longer in the configuration", j->plan->name);
			reload_note(s, RN_REMOVE, j->plan->name, "");
			sup_transition_begin(s, j, TR_REMOVE);
			break;
		}
	}
	for (size_t k = 0; k < d.n_added; k++) {
		if (np->jobs[d.added[k]].kind == JOB_MAIN ||
		    np->jobs[d.added[k]].kind == JOB_DEPLOY)
			continue; /* the release phase is over: a deploy job is for the next start
				   */
		log_msg("reload: %s added", np->jobs[d.added[k]].name);
		reload_note(s, RN_ADD, np->jobs[d.added[k]].name, "");
		s->reload.add[s->reload.n_add] = &np->jobs[d.added[k]];
		s->reload.add_sb[s->reload.n_add++] = added[k];
	}
	if (d.n_changed == 0 && d.n_removed == 0 && d.n_added == 0)
		log_msg("reload: the configuration is unchanged; no job touched");
	s->cur = np;
	s->reload.active = true;
	s->reload.token = token;
	plans_gc(s);
}

/* A removed job's pipes, prefixers and sandboxes. */
static void job_release(struct job *j)
{
	int *fds[] = {&j->out[0], &j->out[1], &j->err[0], &j->err[1]};

	for (size_t i = 0; i < 4; i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
	logpfx_free(j->pfx_out);
	logpfx_free(j->pfx_err);
	sandbox_free(j->sandbox);
	sandbox_free(j->next_sandbox);
	j->pfx_out = j->pfx_err = NULL;
	j->sandbox = j->next_sandbox = NULL;
}

/* Once the restarts and removals of a reload are done: removed jobs leave
 * the table, added ones start, and the client gets the summary. */
void sup_reload_progress(struct sup *s)
{
	char *text = s->reply;
	size_t k = 0, len = 0, same = 0;

	if (!s->reload.active)
		return;
	for (size_t i = 0; i < s->n; i++)
		if (s->jobs[i].transition != TR_NONE)
			return;
	for (size_t i = 0; i < s->n; i++) {
		if (s->jobs[i].removed) {
			job_release(&s->jobs[i]);
			continue;
		}
		if (k != i)
			s->jobs[k] = s->jobs[i];
		k++;
	}
	s->n = k;
	for (size_t a = 0; a < s->reload.n_add && s->n < JOBS_MAX; a++) {
		struct job *j = &s->jobs[s->n];
		int r;

		memset(j, 0, sizeof(*j));
		j->out[0] = j->out[1] = j->err[0] = j->err[1] = -1;
		j->last_code = -1;
		j->lock_fd = -1;
		j->next_fire = -1;
		j->plan = s->reload.add[a];
		j->owner = (struct run_plan *)s->cur;
		j->sandbox = s->reload.add_sb[a];
		s->reload.add_sb[a] = NULL;
		s->n++;
		r = sup_open_pipes(s, j, s->pad, s->color);
		if (r == 0 && j->plan->kind == JOB_SCHEDULED) {
			schedule_added(s, j);
			continue;
		}
		if (r == 0 && worker_lock(s, j) < 0) {
			log_msg("%s already runs under another jobshim in this container: not "
				"started",
				j->plan->name);
			job_on(s, j, JE_CANCEL, 0);
			continue;
		}
		if (r == 0)
			r = job_on(s, j, JE_START, 0);
		if (r < 0) {
			log_msg("unable to start %s: %s; retried in %llums", j->plan->name,
				strerror(-r), (unsigned long long)s->o->backoff_max_ms);
			job_on(s, j, JE_RETRY_LATER, 0);
		} else {
			log_msg("%s started: pid %d", j->plan->name, (int)j->pid);
		}
	}
	text[0] = '\0';
	for (size_t i = 0; i < s->reload.n_notes; i++) {
		const struct reload_note *n = &s->reload.notes[i];
		const struct job *j = sup_job_named(s, n->name);
		int pid = j != NULL ? (int)j->pid : 0;

		switch (n->kind) {
		case RN_SAME:
			same++;
			break;
		case RN_RESTART:
			sup_append(text, sizeof(s->reply), &len,
				   "restarted %s (%s changed): pid %d\n", n->name, n->what, pid);
			break;
		case RN_ADD:
			if (j != NULL && j->plan->kind == JOB_SCHEDULED)
				sup_append(text, sizeof(s->reply), &len, "scheduled %s (added)\n",
					   n->name);
			else
				sup_append(text, sizeof(s->reply), &len,
					   "started %s (added): pid %d\n", n->name, pid);
			break;
		case RN_REMOVE:
			sup_append(text, sizeof(s->reply), &len, "stopped %s (removed)\n", n->name);
			break;
		case RN_MAIN:
			sup_append(text, sizeof(s->reply), &len,
				   "%s (the main app) changed (%s): not restarted; restart the "
				   "container to apply it\n",
				   n->name, n->what);
			break;
		case RN_DEPLOY:
			sup_append(text, sizeof(s->reply), &len,
				   "%s (the deploy job) changed (%s): applies at the next start\n",
				   n->name, n->what);
			break;
		case RN_SCHED:
			sup_append(text, sizeof(s->reply), &len, "%s changed (%s): %s\n", n->name,
				   n->what,
				   j != NULL && j->next_plan != NULL
				       ? "applies once its current run is over"
				       : "applies from its next time");
			break;
		}
	}
	if (len == 0)
		sup_append(text, sizeof(s->reply), &len,
			   "the configuration is unchanged: no job touched\n");
	else if (same > 0)
		sup_append(text, sizeof(s->reply), &len, "%zu unchanged job%s left alone\n", same,
			   same == 1 ? "" : "s");
	log_msg("reload done");
	if (s->reload.token != 0)
		control_reply(s->ctl, s->reload.token, CONTROL_DONE, text);
	memset(&s->reload, 0, sizeof(s->reload));
	plans_gc(s);
	sup_status_changed(s);
}

/* ------------------------------------------------------------ --watch-config */

/* The directory of path, and of what it resolves to: a ConfigMap mounts
 * the file as a symlink through ..data, which the kubelet swaps by renaming
 * a new symlink over it in that directory. inotify_add_watch on a watched
 * directory returns the same watch, so this is cheap to repeat. */
static void watch_dirs(struct sup *s)
{
	char dir[PATH_MAX], real[PATH_MAX];
	const char *path = config_file(s);
	const char *paths[2] = {path, NULL};

	if (realpath(path, real) != NULL)
		paths[1] = real;
	for (size_t i = 0; i < 2 && paths[i] != NULL; i++) {
		char *slash;

		snprintf(dir, sizeof(dir), "%s", paths[i]);
		slash = strrchr(dir, '/');
		if (slash == NULL)
			snprintf(dir, sizeof(dir), ".");
		else if (slash == dir)
			dir[1] = '\0';
		else
			*slash = '\0';
		if (inotify_add_watch(s->watch_fd, dir,
				      IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE |
					  IN_DELETE | IN_ATTRIB | IN_DONT_FOLLOW | IN_ONLYDIR) < 0)
			log_debug("watch-config: unable to watch %s: %s", dir, strerror(errno));
	}
}

void sup_watch_setup(struct sup *s)
{
	snprintf(s->config_path, sizeof(s->config_path), "%s", config_file(s));
	s->watch_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (s->watch_fd < 0) {
		log_msg("--watch-config: inotify: %s; the configuration is not watched",
			strerror(errno));
		return;
	}
	watch_dirs(s);
	s->config_hash = file_hash(s->config_path);
	log_debug("watching %s for changes", s->config_path);
}

/* Something changed in a watched directory: the reload is due a moment
 * after the last change of a burst, and at most WATCH_MAX_DELAY_MS after
 * the first. */
void sup_watch_read(struct sup *s)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool seen = false;
	uint64_t now;

	for (int i = 0; i < WATCH_READS_PER_TURN; i++) {
		ssize_t n = xread(s->watch_fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		seen = true;
	}
	if (!seen || s->stopping)
		return;
	now = mono();
	if (s->watch_due_ms == 0)
		s->watch_first_ms = now;
	s->watch_due_ms = now + WATCH_DEBOUNCE_MS;
	if (s->watch_due_ms > s->watch_first_ms + WATCH_MAX_DELAY_MS)
		s->watch_due_ms = s->watch_first_ms + WATCH_MAX_DELAY_MS;
}

void sup_watch_reload(struct sup *s, uint64_t now)
{
	uint64_t h;

	s->watch_due_ms = 0;
	watch_dirs(s);
	h = file_hash(s->config_path);
	if (h == s->config_hash)
		return; /* touched, not changed */
	if (sup_busy(s)) {
		s->watch_due_ms = now + WATCH_BUSY_RETRY_MS; /* queued, never doubled */
		return;
	}
	log_msg("%s changed: reloading", s->config_path);
	sup_reload(s, 0);
}

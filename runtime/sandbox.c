#include "sandbox.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "caps.h"
#include "joblimits.h"
#include "log.h"
#include "jobseccomp.h"
#include "userdb.h"

#define DEFAULT_CGROUP_ROOT "/sys/fs/cgroup"

/* The large members come last and are not cleared (sandbox_prepare): a
 * job that sets no user and gets no cgroup touches one page of it. */
struct sandbox {
	struct rlimit_set rlimits;
	int cgroup_fd; /* the job cgroup's cgroup.procs, or -1: not enforced */
	uint64_t caps_keep;
	bool caps_explicit;
	struct caps_plan caps; /* what the child does with capabilities */
	bool set_user;	       /* JOBSHIM_USER given: setgroups/setgid/setuid */
	bool nonroot;	       /* the job's uid is not 0 */
	const struct sock_fprog *filter;
	struct user_ids user;	   /* with set_user; groups[] read up to ngroups */
	char cgroup_dir[PATH_MAX]; /* with cgroup_fd >= 0: that cgroup */
};

/* What sandbox_prepare clears: all but user.groups and cgroup_dir. */
#define SANDBOX_CLEARED (offsetof(struct sandbox, user) + offsetof(struct user_ids, groups))

/* The warnings SPEC §6 says once per process, whichever job's sandbox is
 * prepared (every start and restart prepares one): the only mutable state
 * of this file, written only by the parent before a fork. A lowered rlimit
 * is said once for each size (a bit per size_table entry), so that in @all
 * every size's own value is named, not only the first one's. */
static struct {
	bool cgroup_not_enforced;
	unsigned rlimit_lowered[RLIMITS_COUNT];
} said;

/* Step names for a failed rlimit: string literals, since the child may not
 * format. */
static const char *const rlimit_steps[RLIMITS_COUNT] = {
    [RLIMIT_CPU] = "rlimits (cpu)",	      [RLIMIT_FSIZE] = "rlimits (fsize)",
    [RLIMIT_DATA] = "rlimits (data)",	      [RLIMIT_STACK] = "rlimits (stack)",
    [RLIMIT_CORE] = "rlimits (core)",	      [RLIMIT_RSS] = "rlimits (rss)",
    [RLIMIT_NPROC] = "rlimits (nproc)",	      [RLIMIT_NOFILE] = "rlimits (nofile)",
    [RLIMIT_MEMLOCK] = "rlimits (memlock)",   [RLIMIT_AS] = "rlimits (as)",
    [RLIMIT_LOCKS] = "rlimits (locks)",	      [RLIMIT_SIGPENDING] = "rlimits (sigpending)",
    [RLIMIT_MSGQUEUE] = "rlimits (msgqueue)", [RLIMIT_NICE] = "rlimits (nice)",
    [RLIMIT_RTPRIO] = "rlimits (rtprio)",     [RLIMIT_RTTIME] = "rlimits (rttime)",
};

int sandbox_validate(const struct sandbox_opts *o, struct errlist *errs)
{
	struct err err;
	uint64_t keep;
	bool explicit;
	size_t before = errs->n + errs->dropped;

	if (caps_parse(o->caps, &keep, &explicit, &err) < 0)
		errlist_add(errs, "caps: %s", err.msg);
	if (o->user && userdb_check_syntax(o->user, &err) < 0)
		errlist_add(errs, "user: %s", err.msg);
	if (rlimits_parse(o->rlimits, NULL, &err) < 0)
		errlist_add(errs, "rlimits: %s", err.msg);
	return errs->n + errs->dropped > before ? -EINVAL : 0;
}

static const char *cgroup_root(const struct sandbox_opts *o)
{
	return o->cgroup_root && *o->cgroup_root ? o->cgroup_root : DEFAULT_CGROUP_ROOT;
}

static void not_enforced_msg(const struct sandbox_opts *o, const struct err *reason, char *buf,
			     size_t cap)
{
	char mem[32];
	size_format_bytes(mem, sizeof(mem), (int64_t)o->size->memory_bytes);
	snprintf(buf, cap,
		 "cgroup v2 at %s is not writable (%s): size %s's memory (%s), pids and CPU are "
		 "not enforced by jobshim",
		 cgroup_root(o), reason->msg, o->size->name, mem);
}

/* Common to prepare and view: everything that needs no side effect. */
static int plan_sandbox(const struct sandbox_opts *o, struct sandbox *sb, struct err *err)
{
	sb->filter = seccomp_profile_prog(o->seccomp);
	if (caps_parse(o->caps, &sb->caps_keep, &sb->caps_explicit, err) < 0)
		return err_prefix(err, "caps");
	sb->set_user = o->user != NULL && *o->user;
	if (sb->set_user) {
		int rc = userdb_resolve(o->user, o->etc_dir, &sb->user, err);
		if (rc < 0) {
			err_prefix(err, "resolve user");
			return rc;
		}
		sb->nonroot = sb->user.uid != 0;
	} else {
		sb->nonroot = geteuid() != 0;
	}
	if (o->size != NULL)
		rlimits_from_size(o->size, sb->nonroot, &sb->rlimits);
	else
		memset(&sb->rlimits, 0, sizeof(sb->rlimits));
	if (rlimits_parse(o->rlimits, &sb->rlimits, err) < 0)
		return err_prefix(err, "rlimits");
	return 0;
}

/* A size's rlimit above the hard limit, which only CAP_SYS_RESOURCE may
 * raise, is lowered to that limit here in the parent, with one warning per
 * rlimit and process (SPEC §6); the child's fallback in rlimits_apply then
 * never needs to guess. Explicit JOBSHIM_RLIMITS values are left alone:
 * their setrlimit fails in the child (exit 125), as asked. With note (for
 * `check`), the first such message goes there instead of the log. */
static void lower_size_rlimits(const struct sandbox_opts *o, struct sandbox *sb,
			       const struct caps_now *now, char *note, size_t note_cap)
{
	struct rlimit cur;
	char msg[256];
	unsigned size_bit;

	if (o->size == NULL || (now->effective & (1ULL << CAP_SYS_RESOURCE)))
		return;
	/* Sizes come from size_table (size_lookup); any other is one more bit. */
	size_bit = o->size >= size_table && o->size < size_table + size_count
		       ? 1u << (unsigned)(o->size - size_table)
		       : 1u << 31;
	for (int res = 0; res < RLIMITS_COUNT; res++) {
		struct rlimit_entry *e = &sb->rlimits.r[res];

		if (!e->set || !e->from_size || getrlimit(res, &cur) < 0 ||
		    cur.rlim_max == RLIM_INFINITY || e->hard <= cur.rlim_max)
			continue;
		snprintf(
		    msg, sizeof(msg),
		    "size %s: rlimit %s %llu is above the hard limit %llu, which jobshim cannot "
		    "raise (no CAP_SYS_RESOURCE); the job gets %llu",
		    o->size->name, rlimit_name(res), (unsigned long long)e->hard,
		    (unsigned long long)cur.rlim_max, (unsigned long long)cur.rlim_max);
		if (note != NULL && note[0] == '\0') {
			snprintf(note, note_cap, "%s", msg);
		} else if (note == NULL && !(said.rlimit_lowered[res] & size_bit)) {
			said.rlimit_lowered[res] |= size_bit;
			log_msg("%s", msg);
		}
		e->hard = cur.rlim_max;
		if (e->soft > e->hard)
			e->soft = e->hard;
	}
}

int sandbox_prepare(const struct sandbox_opts *o, struct sandbox **out, struct err *err)
{
	char notes[512], msg[1024];
	struct err reason;
	struct cgroup_unset unset;
	struct cgroup_limits cl;
	int rc;

	*out = NULL;
	struct sandbox *sb = malloc(sizeof(*sb));
	if (!sb)
		return err_set(err, -ENOMEM, "%s", strerror(ENOMEM));
	memset(sb, 0, SANDBOX_CLEARED);
	sb->cgroup_fd = -1;
	if ((rc = plan_sandbox(o, sb, err)) < 0) {
		free(sb);
		return rc;
	}

	struct caps_now now;
	if ((rc = caps_current(&now.bounding, &now.permitted, &now.effective)) < 0) {
		free(sb);
		return err_set(err, rc, "read capabilities: %s", strerror(-rc));
	}
	caps_plan_make(sb->caps_keep, sb->nonroot, sb->caps_explicit, &now, &sb->caps);
	lower_size_rlimits(o, sb, &now, NULL, 0);
	if (o->size == NULL) {
		*out = sb; /* no size: no cgroup, nothing to say */
		return 0;
	}

	cgroup_limits_from_size(o->size, &cl);
	const char *root = cgroup_root(o);
	rc = cgroup_probe(root, o->cgroup_root != NULL && *o->cgroup_root, &reason);
	if (rc == 0)
		rc = cgroup_setup(root, o->job_name, &cl, &unset, &reason);
	if (rc >= 0) {
		sb->cgroup_fd = rc;
		snprintf(sb->cgroup_dir, sizeof(sb->cgroup_dir), "%s/jobshim/%s", root,
			 o->job_name);
		cgroup_unset_format(&unset, notes, sizeof(notes));
		if (notes[0])
			log_msg("cgroup %s/jobshim/%s: not set: %s", root, o->job_name, notes);
	} else if (!said.cgroup_not_enforced) {
		said.cgroup_not_enforced = true;
		not_enforced_msg(o, &reason, msg, sizeof(msg));
		log_msg("%s", msg);
	}
	*out = sb;
	return 0;
}

int sandbox_cgroup_kill(const struct sandbox *sb, const struct sandbox_opts *o)
{
	if (sb == NULL || sb->cgroup_fd < 0)
		return -ENOENT;
	return cgroup_kill(cgroup_root(o), o->job_name);
}

void sandbox_free(struct sandbox *sb)
{
	if (!sb)
		return;
	if (sb->cgroup_fd >= 0)
		close(sb->cgroup_fd);
	free(sb);
}

int sandbox_oom_kills(const struct sandbox *sb, uint64_t *kills)
{
	return sb && sb->cgroup_fd >= 0 ? cgroup_oom_kills(sb->cgroup_dir, kills) : -ENOENT;
}

void sandbox_oom_limit(const struct sandbox *sb, char *buf, size_t cap)
{
	uint64_t max = 0;

	if (sb && sb->cgroup_fd >= 0 && cgroup_memory_max(sb->cgroup_dir, &max) == 0 &&
	    max != UINT64_MAX)
		size_format_bytes(buf, cap, max > INT64_MAX ? INT64_MAX : (int64_t)max);
	else
		snprintf(buf, cap, "max");
}

int sandbox_child_limits(const struct sandbox *sb, const char **step)
{
	int rc, failed = 0;

	if (sb->cgroup_fd >= 0 && (rc = cgroup_join(sb->cgroup_fd)) < 0) {
		*step = "cgroup";
		return rc;
	}
	if ((rc = rlimits_apply(&sb->rlimits, &failed)) < 0) {
		*step = failed >= 0 && failed < RLIMITS_COUNT && rlimit_steps[failed]
			    ? rlimit_steps[failed]
			    : "rlimits";
		return rc;
	}
	return 0;
}

/* Raw system calls from here on (SPEC §7, STYLE 11): the child shares
 * jobshim's memory until execve, so nothing here allocates, formats or goes
 * through a libc wrapper with state of its own (glibc's set*id broadcast to
 * threads). */
int sandbox_child_lockdown(const struct sandbox *sb, const char **step)
{
	int rc;

	/* While still privileged: dropping from the bounding set needs
	 * CAP_SETPCAP, which the job will not keep. */
	if ((rc = caps_child_drop_bounding(&sb->caps)) < 0) {
		*step = "capability bounding set";
		return rc;
	}
	if (sb->set_user) {
		const struct user_ids *u = &sb->user;
		if (syscall(SYS_setgroups, (long)u->ngroups, u->groups) < 0) {
			*step = "setgroups";
			return -errno;
		}
		if (syscall(SYS_setgid, (long)u->gid) < 0) {
			*step = "setgid";
			return -errno;
		}
		/* A non-root job given capabilities keeps its permitted set
		 * across setuid, to raise them as ambient ones below. */
		if ((rc = caps_child_keepcaps(&sb->caps)) < 0) {
			*step = "setuid";
			return rc;
		}
		if (syscall(SYS_setuid, (long)u->uid) < 0) {
			*step = "setuid";
			return -errno;
		}
	}
	if ((rc = caps_child_set(&sb->caps)) < 0) {
		*step = "capabilities";
		return rc;
	}
	/* Always: no setuid binary or file capability can undo the above,
	 * and an unprivileged process may install the seccomp filter. */
	if (syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) < 0) {
		*step = "no_new_privs";
		return -errno;
	}
	if ((rc = seccomp_prog_load(sb->filter)) < 0) {
		*step = "seccomp";
		return rc;
	}
	return 0;
}

/* ---------------------------------------------------------------- view */

void sandbox_view(const struct sandbox_opts *o, struct sandbox_view *v)
{
	struct err err, reason;
	struct sandbox sb;
	struct caps_now now;
	const char *root = cgroup_root(o);

	memset(v, 0, sizeof(*v));
	memset(&sb, 0, sizeof(sb));
	if (plan_sandbox(o, &sb, &err) < 0) {
		snprintf(v->error, sizeof(v->error), "%s", err.msg);
		if (v->error[0] == '\0')
			snprintf(v->error, sizeof(v->error), "invalid");
		return;
	}
	v->seccomp = o->seccomp;
	v->seccomp_allowed = seccomp_profile_allowed(v->seccomp);
	/* The values the job would get, lowered as sandbox_prepare lowers them. */
	if (caps_current(&now.bounding, &now.permitted, &now.effective) == 0)
		lower_size_rlimits(o, &sb, &now, v->rlimits_lowered, sizeof(v->rlimits_lowered));
	v->rlimits = sb.rlimits;
	v->has_size = o->size != NULL;
	if (v->has_size) {
		cgroup_limits_from_size(o->size, &v->cgroup);
		v->cgroup_enforced =
		    cgroup_probe(root, o->cgroup_root != NULL && *o->cgroup_root, &reason) == 0;
		if (v->cgroup_enforced)
			snprintf(v->cgroup_path, sizeof(v->cgroup_path), "%s/jobshim/%s", root,
				 o->job_name);
		else
			not_enforced_msg(o, &reason, v->cgroup_why, sizeof(v->cgroup_why));
	}
	v->nonroot = sb.nonroot;
	v->caps_explicit = sb.caps_explicit;
	v->caps_bounding = sb.caps_keep;
	v->caps_effective = sb.nonroot && !sb.caps_explicit ? 0 : sb.caps_keep;
	v->caps_ambient = sb.nonroot && sb.caps_explicit ? sb.caps_keep : 0;
	v->user_set = sb.set_user;
	if (sb.set_user)
		v->user = sb.user;
	else
		v->user.uid = geteuid();
}

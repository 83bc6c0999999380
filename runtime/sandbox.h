/* The job's size and sandbox (SPEC §6, §7): rlimits, cgroup v2,
 * capabilities, user, no_new_privs, seccomp.
 *
 * Prepared in jobshim before fork (parse, resolve the user, mkdir the
 * cgroup, pick the seccomp program embedded at build time); applied in
 * the child in SPEC §7's order by spawn.c:
 *   sandbox_child_limits()   cgroup, rlimits
 *   (spawn: close fds, reset signal mask)
 *   sandbox_child_lockdown() bounding set, groups/gid/uid, cap sets,
 *                            no_new_privs, seccomp  -- then execve
 * jobshim itself is never filtered and keeps all its capabilities. */
#ifndef JOBSHIM_SANDBOX_H
#define JOBSHIM_SANDBOX_H

#include <stdbool.h>
#include <stdint.h>
#include <limits.h>

#include "err.h"
#include "joblimits.h"
#include "jobseccomp.h"
#include "sizes.h"
#include "userdb.h"

/* Borrows everything: the strings are the caller's (options, a job_plan)
 * and must outlive the struct sandbox prepared from them. */
struct sandbox_opts {
	const char *job_name;	      /* names the cgroup: <root>/jobshim/<job_name> */
	const struct size_spec *size; /* NULL: none, no limits (SPEC §6) */
	enum seccomp_profile seccomp; /* validated by shim/cli.c */
	const char *caps;	      /* "default", "none", or "CHOWN,NET_BIND_SERVICE" */
	const char *user;	      /* NULL or "name|uid[:group|gid]" */
	const char *rlimits;	      /* NULL or "nofile=4096,core=0,as=2G" */
	const char *cgroup_root;      /* NULL = /sys/fs/cgroup */
	const char *etc_dir;	      /* NULL = /etc (passwd, group); for tests */
};

/* Owns the job cgroup's cgroup.procs fd (or none): sandbox_free closes it. */
struct sandbox;

/* Syntax of caps, user and rlimits; no side effects. Each error is
 * "FIELD: message" appended to errs. Returns 0 or -EINVAL. */
int sandbox_validate(const struct sandbox_opts *o, struct errlist *errs);

/* Before fork. 0, or -errno with a message in err ("resolve user: no user
 * \"bob\" in /etc/passwd"). Warnings go to log_msg, each once per process:
 * the size's cgroup limits not enforced (cgroup v2 not writable), a size's
 * rlimit above a hard limit jobshim cannot raise (lowered to it). Without a
 * size: no cgroup, no size rlimits, nothing said. */
int sandbox_prepare(const struct sandbox_opts *o, struct sandbox **out, struct err *err);
void sandbox_free(struct sandbox *sb);
/* Parent side: kills everything in the job's cgroup (cgroup.kill) when
 * jobshim put the job in one. 0, -ENOENT (no cgroup), or -errno. */
int sandbox_cgroup_kill(const struct sandbox *sb, const struct sandbox_opts *o);

/* The job cgroup's memory.events oom_kill so far: 0, or -errno (-ENOENT
 * when jobshim put the job in no cgroup). */
int sandbox_oom_kills(const struct sandbox *sb, uint64_t *kills);
/* Its memory.max as the size table writes it ("256Mi"), for the message
 * naming the OOM killer; "max" when unlimited or unreadable. */
void sandbox_oom_limit(const struct sandbox *sb, char *buf, size_t cap);

/* In the child, which may not format (err.h's one exception): on failure
 * return -errno and set *step to the step's name, a string literal
 * ("cgroup", "rlimits", "capability bounding set", "setgroups", "setgid",
 * "setuid", "capabilities", "no_new_privs", "seccomp"). */
int sandbox_child_limits(const struct sandbox *sb, const char **step);
int sandbox_child_lockdown(const struct sandbox *sb, const char **step);

/* For `jobshim check`: what this job would get, as data (shim/check.c
 * renders it). Owns nothing. */
struct sandbox_view {
	char error[ERR_MSG_MAX];	 /* the options do not parse ("caps: ..."): nothing
					  * else is set */
	struct rlimit_set rlimits;	 /* lowered as sandbox_prepare lowers them */
	char rlimits_lowered[256];	 /* the first such lowering, "" for none */
	bool has_size;			 /* false: no cgroup (and no size rlimits) */
	bool cgroup_enforced;		 /* cgroup v2 writable at the root */
	char cgroup_path[PATH_MAX];	 /* enforced: <root>/jobshim/<job> */
	struct cgroup_limits cgroup;	 /* has_size: what the cgroup gets */
	char cgroup_why[PATH_MAX + 512]; /* not enforced: the warning a run logs */
	enum seccomp_profile seccomp;
	unsigned seccomp_allowed; /* syscalls the profile allows */
	uint64_t caps_bounding, caps_effective, caps_ambient;
	bool nonroot;	    /* the job's uid is not 0 */
	bool caps_explicit; /* JOBSHIM_CAPS named them */
	bool user_set;	    /* JOBSHIM_USER given; else the uid is jobshim's own */
	struct user_ids user;
};

/* Fills v for o; reads the capability sets, the rlimits, the user database
 * and the cgroup root, changes nothing. */
void sandbox_view(const struct sandbox_opts *o, struct sandbox_view *v);

#endif

/* The job's size as limits (SPEC §6): rlimits, and cgroup v2 when jobshim
 * may manage one. Parsing and planning are pure; the appliers are thin.
 * Implemented in limits.c; not called limits.h, which -Iruntime would make
 * shadow the C library's <limits.h>. */
#ifndef JOBSHIM_JOBLIMITS_H
#define JOBSHIM_JOBLIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>

#include "sizes.h"

/* ---------------------------------------------------------------- rlimits */

#define RLIMITS_COUNT RLIM_NLIMITS

struct rlimit_entry {
	bool set;
	bool from_size; /* derived from the size, not asked for explicitly */
	rlim_t soft, hard;
};

struct rlimit_set {
	struct rlimit_entry r[RLIMITS_COUNT]; /* indexed by RLIMIT_* */
};

/* "nofile" for RLIMIT_NOFILE; NULL for a resource without a name. */
const char *rlimit_name(int resource);

/* The size's rlimits: NOFILE = nofile (soft = hard), CORE = 0, and NPROC =
 * pids for a non-root job. Never AS or DATA (they break the JVM, Node.js
 * and Go). Resets rs. */
void rlimits_from_size(const struct size_spec *size, bool nonroot, struct rlimit_set *rs);

/* Overlays the JOBSHIM_RLIMITS list on rs: "name=value" (soft = hard) or
 * "name=soft:hard", comma-separated; value is a number with an optional K,
 * M, G (or Ki, Mi, Gi: all powers of 1024) suffix, or "unlimited". A soft
 * value above the hard one is lowered to it. rs may be NULL (syntax only).
 * 0 or -EINVAL with a message in err. */
int rlimits_parse(const char *s, struct rlimit_set *rs, char *err, size_t errlen);

/* In the child: setrlimit for every entry. A size-derived value the process
 * may not raise to (EPERM: above the hard limit, unprivileged) is lowered
 * to that hard limit; an explicit one fails. 0, or -errno with *failed set
 * to the resource. */
int rlimits_apply(const struct rlimit_set *rs, int *failed);

/* The i-th resource in the order rlimits are listed (nofile, core, nproc,
 * as, ...: JOBSHIM_RLIMITS's), -1 past the last. */
int rlimit_listed(size_t i);

/* ---------------------------------------------------------------- cgroup */

struct cgroup_limits {
	uint64_t memory_max; /* bytes */
	uint64_t swap_max;   /* always 0 */
	uint64_t pids_max;
	unsigned cpu_weight; /* cgroup_cpu_weight(cpu_millis) */
};

/* cpu.weight for a CPU share: millicores / 10, i.e. one core is the
 * kernel's default weight 100; clamped to cpu.weight's range 1..10000. */
unsigned cgroup_cpu_weight(unsigned millis);
void cgroup_limits_from_size(const struct size_spec *size, struct cgroup_limits *cl);

/* Whether root is a cgroup v2 that jobshim may manage, without changing
 * anything. 0, or -errno with why not in reason ("Read-only file system",
 * "no cgroup2 file system there (cgroup v1?)").
 *
 * Which roots count as cgroup v2: a cgroup2 file system (statfs magic
 * CGROUP2_SUPER_MAGIC); or, when the root was named explicitly
 * (JOBSHIM_CGROUP_ROOT, tests), any directory with a cgroup.controllers
 * file, so that tests can drive this code against a fake tree. For the
 * default root jobshim must also sit at the root of its cgroup namespace
 * ("0::/" in /proc/self/cgroup, or "/jobshim/init" once moved): otherwise
 * /sys/fs/cgroup is somebody else's hierarchy (a host, or a container
 * sharing the host's cgroup namespace) and is left alone. */
int cgroup_probe(const char *root, bool explicit_root, char *reason, size_t cap);

/* Sets up <root>/jobshim/<job> (root already probed):
 *  - cgroup v2's "no internal processes" rule: a cgroup that enables
 *    controllers for its children may not hold processes itself, so the
 *    processes of root (jobshim, docker exec'd shells) first move to the
 *    leaf <root>/jobshim/init, as nested container inits do. Skipped for a
 *    real root cgroup (one without cgroup.type), which is exempt;
 *  - memory, pids and cpu (those in cgroup.controllers) enabled in the
 *    subtree_control of root and of root/jobshim;
 *  - memory.max, memory.swap.max, pids.max only ever lowered: a value
 *    already lower is kept; cpu.weight written.
 * Returns an O_CLOEXEC fd open for writing on the job cgroup's
 * cgroup.procs (the child writes "0" to it), or -errno with reason. Limits
 * that could not be set are listed in notes ("" when all were). */
int cgroup_setup(const char *root, const char *job, const struct cgroup_limits *cl, char *reason,
		 size_t cap, char *notes, size_t notes_cap);

/* Kills every process in <root>/jobshim/<job> at once (cgroup.kill,
 * Linux 5.14+): what a job left there, daemons included. 0 or -errno
 * (-ENOENT: no cgroup.kill). */
int cgroup_kill(const char *root, const char *job);

/* In the child: moves the calling process into the cgroup. 0 or -errno. */
int cgroup_join(int procs_fd);

/* The value of key in a flat-keyed cgroup file's text ("low 0\nhigh 0\n
 * oom_kill 2\n", memory.events): 0, or -ENOENT when key is absent, -EINVAL
 * when its value is not a number. Pure. */
int cgroup_key_value(const char *text, const char *key, uint64_t *value);

/* The job cgroup dir's memory.events oom_kill: how many of its processes
 * the kernel's OOM killer has killed so far (SPEC §6). 0 or -errno. */
int cgroup_oom_kills(const char *dir, uint64_t *kills);

/* The dir's memory.max in bytes (UINT64_MAX for "max"). 0 or -errno. */
int cgroup_memory_max(const char *dir, uint64_t *bytes);

#endif

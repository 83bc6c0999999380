/* Capabilities of the job (SPEC §7), with libcap. Sets are bit masks: bit
 * n is capability n (CAP_CHOWN = 0 ... CAP_CHECKPOINT_RESTORE = 40). */
#ifndef JOBSHIM_CAPS_H
#define JOBSHIM_CAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/capability.h>

#include "err.h"

/* `default`: CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, SETGID, SETUID,
 * SETPCAP, NET_BIND_SERVICE. */
uint64_t caps_default_mask(void);

/* "default", "none" or a comma list of names (CAP_ prefix optional, any
 * case). *explicit is true for a list: a non-root job then gets those as
 * ambient capabilities. 0 or -EINVAL with a message in err. */
int caps_parse(const char *s, uint64_t *keep, bool *explicit, struct err *err);

/* "CHOWN,DAC_OVERRIDE" or "none"; returns the length (snprintf-like). */
size_t caps_format(uint64_t set, char *buf, size_t cap);

/* The process's own sets; bounding may be NULL (reading it costs one
 * prctl a capability). */
int caps_current(uint64_t *bounding, uint64_t *permitted, uint64_t *effective);

/* The process's sets as caps_current read them: the parent reads them
 * once, and the child it spawns has the same. */
struct caps_now {
	uint64_t bounding, permitted, effective;
};

/* Everything the child does with capabilities, computed in the parent: the
 * child only makes system calls (prctl, capset) from this, without libcap,
 * without reading anything back, without allocating. */
struct caps_plan {
	uint8_t drop[64]; /* bounding-set capabilities to drop: only those present */
	uint8_t ndrop;
	uint8_t raise[64]; /* ambient capabilities to raise after capset */
	uint8_t nraise;
	bool keepcaps;	     /* PR_SET_KEEPCAPS before setuid (a non-root job with a list) */
	bool ambient_kernel; /* the kernel has ambient sets (>= 4.3): clear them */
	struct __user_cap_data_struct data[2]; /* the final sets, for one capset */
};

/* The plan for keeping `keep` (SPEC §7). Bounding set: every capability
 * present and not kept is dropped; without CAP_SETPCAP nothing can be
 * dropped, which is only an error (left for the child's prctl to report)
 * when the process holds capabilities at all: a process with an empty
 * permitted set that execs under no_new_privs can never gain one. Final
 * sets: a root job has effective = permitted = keep (those it has); a
 * non-root job nothing, or with an explicit list exactly those (permitted,
 * effective, inheritable and ambient, so they survive execve). Capabilities
 * the container lacks are skipped. */
void caps_plan_make(uint64_t keep, bool nonroot, bool explicit, const struct caps_now *now,
		    struct caps_plan *p);

/* In the child, in SPEC §7's order; each returns 0 or -errno. */
int caps_child_drop_bounding(const struct caps_plan *p);
/* Before setuid: PR_SET_KEEPCAPS when the plan asks for it. */
int caps_child_keepcaps(const struct caps_plan *p);
/* After setuid: clear the ambient set, one capset, raise the ambient ones. */
int caps_child_set(const struct caps_plan *p);

#endif

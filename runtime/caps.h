/* Capabilities of the job (SPEC §7), with libcap. Sets are bit masks: bit
 * n is capability n (CAP_CHOWN = 0 ... CAP_CHECKPOINT_RESTORE = 40). */
#ifndef JOBSHIM_CAPS_H
#define JOBSHIM_CAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* `default`: CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, SETGID, SETUID,
 * SETPCAP, NET_BIND_SERVICE. */
uint64_t caps_default_mask(void);

/* "default", "none" or a comma list of names (CAP_ prefix optional, any
 * case). *explicit is true for a list: a non-root job then gets those as
 * ambient capabilities. 0 or -EINVAL with a message in err. */
int caps_parse(const char *s, uint64_t *keep, bool *explicit, char *err, size_t errlen);

/* "CHOWN,DAC_OVERRIDE" or "none"; returns the length (snprintf-like). */
size_t caps_format(uint64_t set, char *buf, size_t cap);

/* The process's own sets; bounding may be NULL (reading it costs one
 * prctl a capability). */
int caps_current(uint64_t *bounding, uint64_t *permitted, uint64_t *effective);

/* In the child, in SPEC §7's order. */

/* Drops every capability not in keep from the bounding set. Capabilities
 * already absent are skipped. Without CAP_SETPCAP nothing can be dropped:
 * that is only an error when there is something to drop and the process
 * holds capabilities at all (a process with an empty permitted set that
 * execs under no_new_privs can never gain one, so its bounding set does not
 * matter). `now` holds the process's sets as caps_current read them: the
 * parent reads them once, the forked child inherits the same, and the child
 * then needs no prctl a capability to find out. 0 or -errno. */
struct caps_now {
	uint64_t bounding, permitted, effective;
};
int caps_drop_bounding(uint64_t keep, const struct caps_now *now);

/* Before setuid to a non-root user that keeps capabilities (ambient):
 * PR_SET_KEEPCAPS, so that setuid keeps the permitted set. 0 or -errno. */
int caps_keep_across_setuid(void);

/* After setuid: the final sets. A root job: effective = permitted = keep
 * (those it has). A non-root job: nothing, or with an explicit list exactly
 * those (permitted, effective, inheritable and ambient, so they survive
 * execve). Inheritable otherwise cleared, ambient cleared. 0 or -errno. */
int caps_set_final(uint64_t keep, bool nonroot, bool explicit);

#endif

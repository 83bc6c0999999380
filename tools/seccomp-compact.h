/* jobshim's own compiler for its seccomp profiles (build time): the verdict
 * table of tools/seccomp-profile.c as a binary search over RANGES of syscall
 * numbers with the same action, instead of libseccomp's one comparison a
 * syscall. The same decisions, proven by tests/test_seccomp.c, which runs
 * both programs through a BPF interpreter for every syscall number, the x32
 * bit, foreign architectures and the argument rules' cases. */
#ifndef JOBSHIM_SECCOMP_COMPACT_H
#define JOBSHIM_SECCOMP_COMPACT_H

#include <linux/filter.h>
#include <stddef.h>

#include "seccomp-profile.h"

/* Writes profile p's program into out (cap instructions). Returns its
 * length, or -E2BIG (longer than cap) or -EINVAL. */
int scprof_compact(enum scprof p, struct sock_filter *out, size_t cap);

/* How many runs of equal action 0..SCPROF_MAX_NR-1 falls into (for the
 * generator's comment). */
size_t scprof_compact_runs(enum scprof p);

#endif

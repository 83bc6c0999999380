/* The job's seccomp filter (SPEC §7). The programs are generated at build
 * time by tools/seccomp-gen from tools/seccomp-profile.c and embedded
 * (build/gen/seccomp_filters.h); loading one is a single prctl. Implemented
 * in seccomp.c; not called seccomp.h, which -Iruntime would make shadow
 * libseccomp's <seccomp.h>. */
#ifndef JOBSHIM_JOBSECCOMP_H
#define JOBSHIM_JOBSECCOMP_H

#include <linux/filter.h>

/* DEFAULT is 0: zeroed options filter the job, they never turn seccomp off. */
enum seccomp_profile { SECCOMP_PROFILE_DEFAULT, SECCOMP_PROFILE_STRICT, SECCOMP_PROFILE_OFF };

/* "default", "strict", "off" → *out. 0 or -EINVAL. Called once, by shim/cli.c:
 * everything after it holds the enum. */
int seccomp_profile_parse(const char *s, enum seccomp_profile *out);
const char *seccomp_profile_name(enum seccomp_profile p);
/* The embedded program, or NULL for off. */
const struct sock_fprog *seccomp_profile_prog(enum seccomp_profile p);
/* How many syscalls the profile allows (some only by their arguments). */
unsigned seccomp_profile_allowed(enum seccomp_profile p);
/* In the child, after no_new_privs: installs prog. 0 or -errno. */
int seccomp_prog_load(const struct sock_fprog *prog);

#endif

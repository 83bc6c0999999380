/* jobshim's seccomp profiles as data (SPEC §7), and the one function that
 * turns them into a libseccomp filter. Build-time code: linked into the
 * generator (tools/seccomp-gen.c, which embeds the BPF into jobshim) and
 * into tests/test_seccomp.c (which proves the embedded BPF equals what this
 * builds). jobshim itself never links it. */
#ifndef JOBSHIM_SECCOMP_PROFILE_H
#define JOBSHIM_SECCOMP_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum scprof { SCPROF_DEFAULT, SCPROF_STRICT, SCPROF_COUNT };

/* What the profile does with x86_64 syscall nr. */
enum scprof_verdict {
	SCV_UNKNOWN, /* not a syscall we know: default action, ENOSYS */
	SCV_ALLOW,   /* allowed unconditionally */
	SCV_ARGS,    /* allowed or refused by its arguments */
	SCV_ENOSYS,  /* known, fails with ENOSYS so libc falls back (clone3) */
	SCV_EPERM,   /* known, refused with EPERM */
};

/* Syscall numbers considered: 0 .. SCPROF_MAX_NR-1 (x86_64 is at 469). */
#define SCPROF_MAX_NR 1024

/* The x86_64 number of a syscall name: >= 0; -1 when the name is another
 * architecture's only (e.g. _llseek, chown32); -2 when nobody knows it. */
int scprof_resolve(const char *name);
/* The name of x86_64 syscall nr, or NULL when unknown. */
const char *scprof_name(int nr);

enum scprof_verdict scprof_verdict(enum scprof p, int nr);
/* Syscalls allowed (unconditionally or by argument rules). */
unsigned scprof_allowed_count(enum scprof p);

/* Every name the tables mention, NULL-terminated, for the data checks. */
extern const char *const *const scprof_all_lists[];
extern const char *const scprof_all_list_names[];
/* strict's denials: systemd groups expanded plus the extra names. Calls
 * fn for each name; returns -1 on an unknown or too deeply nested group. */
int scprof_strict_denied_each(void (*fn)(const char *name, void *arg), void *arg);

/* The argument rule of a SCV_ARGS syscall, on the low 32 bits of its first
 * argument (the kernel truncates these int arguments, so the upper half of
 * the register never matters). */
enum scprof_argkind {
	SCA_REFUSE_VALUES, /* values[] get EPERM, every other value is allowed */
	SCA_ALLOW_VALUES,  /* values[] are allowed, every other value gets EPERM */
	SCA_REFUSE_FLAGS,  /* any bit of flags set: EPERM; else allowed */
};
struct scprof_argrule {
	enum scprof_argkind kind;
	const uint32_t *values;
	size_t n;
	uint32_t flags;
};
/* 0 and *r for syscall nr (a SCV_ARGS one), or -EINVAL. */
int scprof_argrule(int nr, struct scprof_argrule *r);

/* Builds profile p with libseccomp and writes its BPF program to fd
 * (seccomp_export_bpf). 0 or -errno; err says what failed. */
int scprof_export_bpf(enum scprof p, int fd, char *err, size_t errlen);

#endif

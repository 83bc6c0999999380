#include "jobseccomp.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "seccomp_filters.h"

/* struct sock_fprog wants a non-const pointer; the kernel only reads it. */
static const struct sock_fprog progs[] = {
    [SECCOMP_PROFILE_OFF] = {0, NULL},
    [SECCOMP_PROFILE_DEFAULT] = {SECCOMP_DEFAULT_LEN, (struct sock_filter *)seccomp_default_bpf},
    [SECCOMP_PROFILE_STRICT] = {SECCOMP_STRICT_LEN, (struct sock_filter *)seccomp_strict_bpf},
};

static const char *const names[] = {
    [SECCOMP_PROFILE_OFF] = "off",
    [SECCOMP_PROFILE_DEFAULT] = "default",
    [SECCOMP_PROFILE_STRICT] = "strict",
};

int seccomp_profile_parse(const char *s, enum seccomp_profile *out)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (s && strcmp(s, names[i]) == 0) {
			*out = (enum seccomp_profile)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *seccomp_profile_name(enum seccomp_profile p)
{
	return names[p];
}

const struct sock_fprog *seccomp_profile_prog(enum seccomp_profile p)
{
	return p == SECCOMP_PROFILE_OFF ? NULL : &progs[p];
}

unsigned seccomp_profile_allowed(enum seccomp_profile p)
{
	switch (p) {
	case SECCOMP_PROFILE_DEFAULT:
		return SECCOMP_DEFAULT_ALLOWED;
	case SECCOMP_PROFILE_STRICT:
		return SECCOMP_STRICT_ALLOWED;
	case SECCOMP_PROFILE_OFF:
		break;
	}
	return 0;
}

int seccomp_prog_load(const struct sock_fprog *prog)
{
	if (!prog)
		return 0;
	/* prctl rather than seccomp(2): no flags needed (the child is single
	 * threaded, so no TSYNC), and it exists on every kernel jobshim meets. */
	if (syscall(SYS_prctl, PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog, 0L, 0L) < 0)
		return -errno;
	return 0;
}

/* jobshim's seccomp profiles (SPEC §7) as readable tables, and the builder
 * that turns them into a libseccomp filter. Build-time only (see the header).
 *
 * Sources (the reference data shipped with the spec, data/ next to SPEC.md):
 *  - docker-default-allowed-syscalls.txt: the 366 names Docker's default
 *    profile (moby profiles/seccomp/default.json, 2026-05-06) allows on
 *    x86_64, kernel >= 4.8, no extra capabilities;
 *  - docker-default-conditional-rules.txt: its argument rules (socket,
 *    personality, clone);
 *  - systemd-syscall-groups.json: systemd's SystemCallFilter groups
 *    (src/shared/seccomp-util.c, v261 development tree).
 *
 * The lists keep every name of the sources, including other architectures'
 * (_llseek, _newselect, chown32, socketcall, riscv_hwprobe, ...): on x86_64
 * they resolve to no syscall and are skipped (scprof_resolve() == -1), which
 * tests/test_seccomp.c checks name by name.
 *
 * How the filter decides (native x86_64 only):
 *  - another architecture or ABI (i386 `int 0x80`; x32, whose numbers carry
 *    bit 30 under AUDIT_ARCH_X86_64 and which libseccomp rejects when x32 is
 *    not in the filter): the process is killed (SCMP_FLTATR_ACT_BADARCH);
 *  - clone3: ENOSYS, so that libc falls back to clone, whose flags a filter
 *    can see (clone3's are behind a pointer);
 *  - allowed names: allowed; socket, personality, clone and unshare by their
 *    first argument (the rules below);
 *  - every other syscall known on x86_64 (libseccomp's table plus
 *    newer_syscalls below): EPERM;
 *  - anything else (numbers newer than these tables): ENOSYS, the answer of
 *    a kernel that lacks the syscall, so programs fall back as they would. */
#include "seccomp-profile.h"

#include <errno.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Docker's default profile: docker-default-allowed-syscalls.txt, verbatim. */
static const char *const docker_allowed[] = {
    "_llseek",
    "_newselect",
    "accept",
    "accept4",
    "access",
    "adjtimex",
    "alarm",
    "arch_prctl",
    "bind",
    "brk",
    "cachestat",
    "capget",
    "capset",
    "chdir",
    "chmod",
    "chown",
    "chown32",
    "clock_adjtime",
    "clock_adjtime64",
    "clock_getres",
    "clock_getres_time64",
    "clock_gettime",
    "clock_gettime64",
    "clock_nanosleep",
    "clock_nanosleep_time64",
    "close",
    "close_range",
    "connect",
    "copy_file_range",
    "creat",
    "dup",
    "dup2",
    "dup3",
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_ctl_old",
    "epoll_pwait",
    "epoll_pwait2",
    "epoll_wait",
    "epoll_wait_old",
    "eventfd",
    "eventfd2",
    "execve",
    "execveat",
    "exit",
    "exit_group",
    "faccessat",
    "faccessat2",
    "fadvise64",
    "fadvise64_64",
    "fallocate",
    "fanotify_mark",
    "fchdir",
    "fchmod",
    "fchmodat",
    "fchmodat2",
    "fchown",
    "fchown32",
    "fchownat",
    "fcntl",
    "fcntl64",
    "fdatasync",
    "fgetxattr",
    "flistxattr",
    "flock",
    "fork",
    "fremovexattr",
    "fsetxattr",
    "fstat",
    "fstat64",
    "fstatat64",
    "fstatfs",
    "fstatfs64",
    "fsync",
    "ftruncate",
    "ftruncate64",
    "futex",
    "futex_requeue",
    "futex_time64",
    "futex_wait",
    "futex_waitv",
    "futex_wake",
    "futimesat",
    "get_robust_list",
    "get_thread_area",
    "getcpu",
    "getcwd",
    "getdents",
    "getdents64",
    "getegid",
    "getegid32",
    "geteuid",
    "geteuid32",
    "getgid",
    "getgid32",
    "getgroups",
    "getgroups32",
    "getitimer",
    "getpeername",
    "getpgid",
    "getpgrp",
    "getpid",
    "getppid",
    "getpriority",
    "getrandom",
    "getresgid",
    "getresgid32",
    "getresuid",
    "getresuid32",
    "getrlimit",
    "getrusage",
    "getsid",
    "getsockname",
    "getsockopt",
    "gettid",
    "gettimeofday",
    "getuid",
    "getuid32",
    "getxattr",
    "getxattrat",
    "inotify_add_watch",
    "inotify_init",
    "inotify_init1",
    "inotify_rm_watch",
    "io_cancel",
    "io_destroy",
    "io_getevents",
    "io_pgetevents",
    "io_pgetevents_time64",
    "io_setup",
    "io_submit",
    "ioctl",
    "ioprio_get",
    "ioprio_set",
    "ipc",
    "kill",
    "landlock_add_rule",
    "landlock_create_ruleset",
    "landlock_restrict_self",
    "lchown",
    "lchown32",
    "lgetxattr",
    "link",
    "linkat",
    "listen",
    "listmount",
    "listxattr",
    "listxattrat",
    "llistxattr",
    "lremovexattr",
    "lseek",
    "lsetxattr",
    "lstat",
    "lstat64",
    "madvise",
    "map_shadow_stack",
    "membarrier",
    "memfd_create",
    "memfd_secret",
    "mincore",
    "mkdir",
    "mkdirat",
    "mknod",
    "mknodat",
    "mlock",
    "mlock2",
    "mlockall",
    "mmap",
    "mmap2",
    "modify_ldt",
    "mprotect",
    "mq_getsetattr",
    "mq_notify",
    "mq_open",
    "mq_timedreceive",
    "mq_timedreceive_time64",
    "mq_timedsend",
    "mq_timedsend_time64",
    "mq_unlink",
    "mremap",
    "mseal",
    "msgctl",
    "msgget",
    "msgrcv",
    "msgsnd",
    "msync",
    "munlock",
    "munlockall",
    "munmap",
    "name_to_handle_at",
    "nanosleep",
    "newfstatat",
    "open",
    "openat",
    "openat2",
    "pause",
    "pidfd_open",
    "pidfd_send_signal",
    "pipe",
    "pipe2",
    "pkey_alloc",
    "pkey_free",
    "pkey_mprotect",
    "poll",
    "ppoll",
    "ppoll_time64",
    "prctl",
    "pread64",
    "preadv",
    "preadv2",
    "prlimit64",
    "process_mrelease",
    "process_vm_readv",
    "process_vm_writev",
    "pselect6",
    "pselect6_time64",
    "ptrace",
    "pwrite64",
    "pwritev",
    "pwritev2",
    "read",
    "readahead",
    "readlink",
    "readlinkat",
    "readv",
    "recv",
    "recvfrom",
    "recvmmsg",
    "recvmmsg_time64",
    "recvmsg",
    "remap_file_pages",
    "removexattr",
    "removexattrat",
    "rename",
    "renameat",
    "renameat2",
    "restart_syscall",
    "riscv_hwprobe",
    "rmdir",
    "rseq",
    "rt_sigaction",
    "rt_sigpending",
    "rt_sigprocmask",
    "rt_sigqueueinfo",
    "rt_sigreturn",
    "rt_sigsuspend",
    "rt_sigtimedwait",
    "rt_sigtimedwait_time64",
    "rt_tgsigqueueinfo",
    "sched_get_priority_max",
    "sched_get_priority_min",
    "sched_getaffinity",
    "sched_getattr",
    "sched_getparam",
    "sched_getscheduler",
    "sched_rr_get_interval",
    "sched_rr_get_interval_time64",
    "sched_setaffinity",
    "sched_setattr",
    "sched_setparam",
    "sched_setscheduler",
    "sched_yield",
    "seccomp",
    "select",
    "semctl",
    "semget",
    "semop",
    "semtimedop",
    "semtimedop_time64",
    "send",
    "sendfile",
    "sendfile64",
    "sendmmsg",
    "sendmsg",
    "sendto",
    "set_robust_list",
    "set_thread_area",
    "set_tid_address",
    "setfsgid",
    "setfsgid32",
    "setfsuid",
    "setfsuid32",
    "setgid",
    "setgid32",
    "setgroups",
    "setgroups32",
    "setitimer",
    "setpgid",
    "setpriority",
    "setregid",
    "setregid32",
    "setresgid",
    "setresgid32",
    "setresuid",
    "setresuid32",
    "setreuid",
    "setreuid32",
    "setrlimit",
    "setsid",
    "setsockopt",
    "setuid",
    "setuid32",
    "setxattr",
    "setxattrat",
    "shmat",
    "shmctl",
    "shmdt",
    "shmget",
    "shutdown",
    "sigaltstack",
    "signalfd",
    "signalfd4",
    "sigprocmask",
    "sigreturn",
    "socketcall",
    "socketpair",
    "splice",
    "stat",
    "stat64",
    "statfs",
    "statfs64",
    "statmount",
    "statx",
    "symlink",
    "symlinkat",
    "sync",
    "sync_file_range",
    "syncfs",
    "sysinfo",
    "tee",
    "tgkill",
    "time",
    "timer_create",
    "timer_delete",
    "timer_getoverrun",
    "timer_gettime",
    "timer_gettime64",
    "timer_settime",
    "timer_settime64",
    "timerfd_create",
    "timerfd_gettime",
    "timerfd_gettime64",
    "timerfd_settime",
    "timerfd_settime64",
    "times",
    "tkill",
    "truncate",
    "truncate64",
    "ugetrlimit",
    "umask",
    "uname",
    "unlink",
    "unlinkat",
    "uretprobe",
    "utime",
    "utimensat",
    "utimensat_time64",
    "utimes",
    "vfork",
    "vmsplice",
    "wait4",
    "waitid",
    "waitpid",
    "write",
    "writev",
    NULL,
};
/* systemd @clock */
static const char *const group_clock[] = {
    "adjtimex",
    "clock_adjtime",
    "clock_adjtime64",
    "clock_settime",
    "clock_settime64",
    "settimeofday",
    NULL,
};
/* systemd @cpu-emulation */
static const char *const group_cpu_emulation[] = {
    "modify_ldt", "subpage_prot", "switch_endian", "vm86", "vm86old", NULL,
};
/* systemd @debug */
static const char *const group_debug[] = {
    "lookup_dcookie", "perf_event_open",    "pidfd_getfd",	    "ptrace",
    "rtas",	      "s390_runtime_instr", "sys_debug_setcontext", NULL,
};
/* systemd @module */
static const char *const group_module[] = {
    "delete_module",
    "finit_module",
    "init_module",
    NULL,
};
/* systemd @mount */
static const char *const group_mount[] = {
    "chroot",	  "fsconfig",	    "fsmount",	  "fsopen", "fspick",  "mount", "mount_setattr",
    "move_mount", "open_tree_attr", "pivot_root", "umount", "umount2", NULL,
};
/* systemd @obsolete */
static const char *const group_obsolete[] = {
    "_sysctl",
    "afs_syscall",
    "bdflush",
    "break",
    "create_module",
    "ftime",
    "get_kernel_syms",
    "getpmsg",
    "gtty",
    "idle",
    "lock",
    "mpx",
    "prof",
    "profil",
    "putpmsg",
    "query_module",
    "security",
    "sgetmask",
    "ssetmask",
    "stime",
    "stty",
    "sysfs",
    "tuxcall",
    "ulimit",
    "uselib",
    "ustat",
    "vserver",
    NULL,
};
/* systemd @raw-io */
static const char *const group_raw_io[] = {
    "ioperm",
    "iopl",
    "pciconfig_iobase",
    "pciconfig_read",
    "pciconfig_write",
    "s390_pci_mmio_read",
    "s390_pci_mmio_write",
    NULL,
};
/* systemd @reboot */
static const char *const group_reboot[] = {
    "kexec_file_load",
    "kexec_load",
    "reboot",
    NULL,
};
/* systemd @swap */
static const char *const group_swap[] = {
    "swapoff",
    "swapon",
    NULL,
};

/* Syscalls that libseccomp 2.5.4 (Debian 12) does not know yet, with their
 * x86_64 numbers from the kernel's arch/x86/entry/syscalls/syscall_64.tbl
 * (-1: not an x86_64 syscall). Where a newer libseccomp knows a name, the
 * numbers must agree (tests/test_seccomp.c). */
static const struct {
	const char *name;
	int nr;
} newer_syscalls[] = {
    {"uretprobe", 335},
    {"statmount", 457},
    {"listmount", 458},
    {"lsm_get_self_attr", 459},
    {"lsm_set_self_attr", 460},
    {"lsm_list_modules", 461},
    {"mseal", 462},
    {"setxattrat", 463},
    {"getxattrat", 464},
    {"listxattrat", 465},
    {"removexattrat", 466},
    {"open_tree_attr", 467},
    {"file_getattr", 468},
    {"file_setattr", 469},
    {"riscv_hwprobe", -1},
};

/* A member starting with '@' names another group and is expanded. */
struct group {
	const char *name;
	const char *const *members;
};
static const struct group groups[] = {
    {"@clock", group_clock},   {"@cpu-emulation", group_cpu_emulation},
    {"@debug", group_debug},   {"@module", group_module},
    {"@mount", group_mount},   {"@obsolete", group_obsolete},
    {"@raw-io", group_raw_io}, {"@reboot", group_reboot},
    {"@swap", group_swap},
};

/* `strict` = `default` minus these (SPEC §7). */
static const char *const strict_groups[] = {
    "@clock",	 "@cpu-emulation", "@debug",  "@module", "@mount",
    "@obsolete", "@raw-io",	   "@reboot", "@swap",	 NULL,
};
static const char *const strict_extra[] = {
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "bpf",
    "userfaultfd",
    "keyctl",
    "add_key",
    "request_key",
    "ptrace",
    "personality",
    "unshare",
    "setns",
    NULL,
};

/* Argument rules, from docker-default-conditional-rules.txt. socket is
 * allowed when arg0 < 38, == 39 or > 40: AF_ALG (38) and AF_VSOCK (40) are
 * refused. */
static const uint32_t socket_refused[] = {38, 40};
/* personality: only PER_LINUX, PER_LINUX32, UNAME26, UNAME26|PER_LINUX32
 * and the 0xffffffff query. */
static const uint32_t personality_allowed[] = {0x0, 0x8, 0x20000, 0x20008, 0xffffffff};
/* clone: allowed when no CLONE_NEW* flag is set (arg0 & 0x7E020000 == 0:
 * NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET). Docker allows
 * unshare only with CAP_SYS_ADMIN; SPEC §7 refuses it with namespace flags,
 * so unshare(CLONE_FILES) and the like keep working (`strict`: refused). */
#define NAMESPACE_FLAGS 0x7E020000ULL
static const char *const conditional[] = {"socket", "personality", "clone", "unshare", NULL};
static const char *const enosys[] = {"clone3", NULL};

const char *const *const scprof_all_lists[] = {
    docker_allowed, group_clock,  group_cpu_emulation, group_debug, group_module, group_mount,
    group_obsolete, group_raw_io, group_reboot,	       group_swap,  strict_extra, conditional,
    enosys,	    NULL,
};
const char *const scprof_all_list_names[] = {
    "docker_allowed", "@clock",	     "@cpu-emulation", "@debug",  "@module",
    "@mount",	      "@obsolete",   "@raw-io",	       "@reboot", "@swap",
    "strict_extra",   "conditional", "enosys",	       NULL,
};

int scprof_resolve(const char *name)
{
	int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, name);
	if (nr >= 0)
		return nr;
	if (nr != __NR_SCMP_ERROR)
		return -1; /* a pseudo number: another architecture's syscall */
	for (size_t i = 0; i < sizeof(newer_syscalls) / sizeof(newer_syscalls[0]); i++)
		if (strcmp(newer_syscalls[i].name, name) == 0)
			return newer_syscalls[i].nr;
	return -2;
}

const char *scprof_name(int nr)
{
	static char *names[SCPROF_MAX_NR];
	static bool done[SCPROF_MAX_NR];

	if (nr < 0 || nr >= SCPROF_MAX_NR)
		return NULL;
	if (!done[nr]) {
		done[nr] = true;
		names[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, nr);
		for (size_t i = 0;
		     !names[nr] && i < sizeof(newer_syscalls) / sizeof(newer_syscalls[0]); i++)
			if (newer_syscalls[i].nr == nr)
				names[nr] = strdup(newer_syscalls[i].name);
	}
	return names[nr];
}

static bool in_list(const char *const *list, const char *name)
{
	for (; *list; list++)
		if (strcmp(*list, name) == 0)
			return true;
	return false;
}

static int expand(const char *name, int depth, void (*fn)(const char *, void *), void *arg)
{
	if (name[0] != '@') {
		fn(name, arg);
		return 0;
	}
	if (depth > 8)
		return -1;
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		if (strcmp(groups[i].name, name) != 0)
			continue;
		for (const char *const *m = groups[i].members; *m; m++)
			if (expand(*m, depth + 1, fn, arg) < 0)
				return -1;
		return 0;
	}
	return -1;
}

int scprof_strict_denied_each(void (*fn)(const char *name, void *arg), void *arg)
{
	for (const char *const *g = strict_groups; *g; g++)
		if (expand(*g, 0, fn, arg) < 0)
			return -1;
	for (const char *const *s = strict_extra; *s; s++)
		fn(*s, arg);
	return 0;
}

static void mark_denied(const char *name, void *arg)
{
	bool *denied = arg;
	int nr = scprof_resolve(name);
	if (nr >= 0 && nr < SCPROF_MAX_NR)
		denied[nr] = true;
}

static bool strict_denied(int nr)
{
	static bool denied[SCPROF_MAX_NR];
	static bool done;

	if (!done) {
		done = true;
		if (scprof_strict_denied_each(mark_denied, denied) < 0)
			abort(); /* a group the table lacks: tests/test_seccomp.c catches it */
	}
	return denied[nr];
}

static bool nr_in_list(const char *const *list, int nr)
{
	const char *name = scprof_name(nr);
	return name && in_list(list, name);
}

enum scprof_verdict scprof_verdict(enum scprof p, int nr)
{
	if (!scprof_name(nr))
		return SCV_UNKNOWN;
	if (nr_in_list(enosys, nr))
		return SCV_ENOSYS;
	if (p == SCPROF_STRICT && strict_denied(nr))
		return SCV_EPERM;
	if (nr_in_list(conditional, nr))
		return SCV_ARGS;
	if (nr_in_list(docker_allowed, nr))
		return SCV_ALLOW;
	return SCV_EPERM;
}

unsigned scprof_allowed_count(enum scprof p)
{
	unsigned n = 0;
	for (int nr = 0; nr < SCPROF_MAX_NR; nr++) {
		enum scprof_verdict v = scprof_verdict(p, nr);
		n += v == SCV_ALLOW || v == SCV_ARGS;
	}
	return n;
}

/* ---------------------------------------------------------------- builder */

#define EPERM_ACTION  SCMP_ACT_ERRNO(EPERM)
#define ENOSYS_ACTION SCMP_ACT_ERRNO(ENOSYS)

/* Rules for a 32-bit argument (the kernel truncates int arguments, so the
 * upper half of the register must not matter): values in special[] get
 * act_special, every other value act_other. The 2^32 values are cut into
 * disjoint prefix blocks (arg0 & mask == value, mask covering the leading
 * bits only), so that no two rules overlap and no value falls through to
 * the default action. About 32 rules per special value. */
static int add_split32(scmp_filter_ctx ctx, int nr, const uint32_t *special, size_t n,
		       uint32_t act_special, uint32_t act_other, uint32_t mask, uint32_t value,
		       int bit)
{
	size_t hits = 0;
	for (size_t i = 0; i < n; i++)
		hits += (special[i] & mask) == value;
	if (hits == 0)
		return seccomp_rule_add(
		    ctx, act_other, nr, 1,
		    SCMP_A0(SCMP_CMP_MASKED_EQ, (uint64_t)mask, (uint64_t)value));
	if (bit < 0)
		return seccomp_rule_add(
		    ctx, act_special, nr, 1,
		    SCMP_A0(SCMP_CMP_MASKED_EQ, (uint64_t)mask, (uint64_t)value));
	uint32_t b = 1U << bit;
	int rc = add_split32(ctx, nr, special, n, act_special, act_other, mask | b, value, bit - 1);
	if (rc == 0)
		rc = add_split32(ctx, nr, special, n, act_special, act_other, mask | b, value | b,
				 bit - 1);
	return rc;
}

/* arg0 & flags == 0: allowed; any of flags set: EPERM. One disjoint rule
 * per flag: "flags below this one clear, this one set". */
static int add_flag_rules(scmp_filter_ctx ctx, int nr, uint64_t flags)
{
	int rc =
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_A0(SCMP_CMP_MASKED_EQ, flags, 0));
	uint64_t seen = 0;
	for (int bit = 0; rc == 0 && bit < 64; bit++) {
		uint64_t b = 1ULL << bit;
		if (!(flags & b))
			continue;
		seen |= b;
		rc = seccomp_rule_add(ctx, EPERM_ACTION, nr, 1,
				      SCMP_A0(SCMP_CMP_MASKED_EQ, seen, b));
	}
	return rc;
}

int scprof_argrule(int nr, struct scprof_argrule *r)
{
	const char *name = scprof_name(nr);
	memset(r, 0, sizeof(*r));
	if (name == NULL)
		return -EINVAL;
	if (strcmp(name, "socket") == 0) {
		r->kind = SCA_REFUSE_VALUES;
		r->values = socket_refused;
		r->n = sizeof(socket_refused) / sizeof(socket_refused[0]);
		return 0;
	}
	if (strcmp(name, "personality") == 0) {
		r->kind = SCA_ALLOW_VALUES;
		r->values = personality_allowed;
		r->n = sizeof(personality_allowed) / sizeof(personality_allowed[0]);
		return 0;
	}
	if (strcmp(name, "clone") == 0 || strcmp(name, "unshare") == 0) {
		r->kind = SCA_REFUSE_FLAGS;
		r->flags = (uint32_t)NAMESPACE_FLAGS;
		return 0;
	}
	return -EINVAL;
}

static int add_argument_rules(scmp_filter_ctx ctx, int nr)
{
	struct scprof_argrule r;
	if (scprof_argrule(nr, &r) < 0)
		return -EINVAL;
	switch (r.kind) {
	case SCA_REFUSE_VALUES:
		return add_split32(ctx, nr, r.values, r.n, EPERM_ACTION, SCMP_ACT_ALLOW, 0, 0, 31);
	case SCA_ALLOW_VALUES:
		return add_split32(ctx, nr, r.values, r.n, SCMP_ACT_ALLOW, EPERM_ACTION, 0, 0, 31);
	case SCA_REFUSE_FLAGS:
		return add_flag_rules(ctx, nr, r.flags);
	}
	return -EINVAL;
}

static int build(enum scprof p, scmp_filter_ctx ctx, char *err, size_t errlen)
{
	int rc = 0;
	if (seccomp_arch_native() != SCMP_ARCH_X86_64) {
		snprintf(err, errlen, "only x86_64 is supported");
		return -ENOTSUP;
	}
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS)) < 0 ||
	    (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0)) < 0 ||
	    (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2)) < 0) {
		snprintf(err, errlen, "seccomp_attr_set: %s", strerror(-rc));
		return rc;
	}
	for (int nr = 0; nr < SCPROF_MAX_NR; nr++) {
		switch (scprof_verdict(p, nr)) {
		case SCV_UNKNOWN:
		case SCV_ENOSYS:
			/* The default action already; libseccomp refuses a rule
			 * that repeats it (-EACCES). */
			continue;
		case SCV_ALLOW:
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
			break;
		case SCV_ARGS:
			rc = add_argument_rules(ctx, nr);
			break;
		case SCV_EPERM:
			rc = seccomp_rule_add(ctx, EPERM_ACTION, nr, 0);
			break;
		}
		if (rc < 0) {
			snprintf(err, errlen, "rule for %s (%d): %s", scprof_name(nr), nr,
				 strerror(-rc));
			return rc;
		}
	}
	return 0;
}

int scprof_export_bpf(enum scprof p, int fd, char *err, size_t errlen)
{
	scmp_filter_ctx ctx = seccomp_init(ENOSYS_ACTION);
	if (!ctx) {
		snprintf(err, errlen, "seccomp_init failed");
		return -ENOMEM;
	}
	int rc = build(p, ctx, err, errlen);
	if (rc == 0 && (rc = seccomp_export_bpf(ctx, fd)) < 0)
		snprintf(err, errlen, "seccomp_export_bpf: %s", strerror(-rc));
	seccomp_release(ctx);
	return rc;
}

/* seccomp profiles (SPEC §7): the data tables, the embedded BPF against what
 * libseccomp makes of the tables now, and the filters' behaviour in a child. */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "seccomp-profile.h"
#include "jobseccomp.h"

/* ------------------------------------------------------------ data checks */

static void every_name_resolves_or_is_another_arch(void **state)
{
	(void)state;
	for (size_t l = 0; scprof_all_lists[l]; l++) {
		for (const char *const *n = scprof_all_lists[l]; *n; n++) {
			int nr = scprof_resolve(*n);
			if (nr == -2)
				fail_msg(
				    "%s: \"%s\" is unknown to libseccomp and to newer_syscalls",
				    scprof_all_list_names[l], *n);
			assert_true(nr >= -1 && nr < SCPROF_MAX_NR);
		}
	}
}

/* Names that are not x86_64 syscalls are skipped, and real ones are not. */
static void other_architectures_are_recognised(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		int nr;
	} rows[] = {
	    {"_llseek", -1},	   {"_newselect", -1},	 {"chown32", -1}, {"socketcall", -1},
	    {"riscv_hwprobe", -1}, {"read", 0},		 {"clone3", 435}, {"mseal", 462},
	    {"uretprobe", 335},	   {"no_such_call", -2},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (scprof_resolve(rows[i].name) != rows[i].nr)
			fail_msg("%s: %d, expected %d", rows[i].name, scprof_resolve(rows[i].name),
				 rows[i].nr);
	}
}

static void count_denied(const char *name, void *arg)
{
	int nr = scprof_resolve(name);
	int *bad = arg;
	if (nr >= 0 && scprof_verdict(SCPROF_STRICT, nr) != SCV_EPERM &&
	    scprof_verdict(SCPROF_STRICT, nr) != SCV_ENOSYS) {
		fprintf(stderr, "strict allows denied %s\n", name);
		(*bad)++;
	}
}

static void nothing_both_allowed_and_denied(void **state)
{
	(void)state;
	int bad = 0;
	assert_int_equal(scprof_strict_denied_each(count_denied, &bad), 0);
	assert_int_equal(bad, 0);
	/* strict is default minus something, never plus */
	for (int nr = 0; nr < SCPROF_MAX_NR; nr++) {
		enum scprof_verdict s = scprof_verdict(SCPROF_STRICT, nr);
		if (s == SCV_ALLOW || s == SCV_ARGS)
			assert_int_equal(scprof_verdict(SCPROF_DEFAULT, nr), s);
	}
	assert_true(scprof_allowed_count(SCPROF_STRICT) < scprof_allowed_count(SCPROF_DEFAULT));
}

static void verdict_table(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		enum scprof_verdict def, strict;
	} rows[] = {
	    {"read", SCV_ALLOW, SCV_ALLOW},	  {"clone3", SCV_ENOSYS, SCV_ENOSYS},
	    {"clone", SCV_ARGS, SCV_ARGS},	  {"socket", SCV_ARGS, SCV_ARGS},
	    {"personality", SCV_ARGS, SCV_EPERM}, {"unshare", SCV_ARGS, SCV_EPERM},
	    {"ptrace", SCV_ALLOW, SCV_EPERM},	  {"mount", SCV_EPERM, SCV_EPERM},
	    {"bpf", SCV_EPERM, SCV_EPERM},	  {"io_uring_setup", SCV_EPERM, SCV_EPERM},
	    {"adjtimex", SCV_ALLOW, SCV_EPERM},	  {"modify_ldt", SCV_ALLOW, SCV_EPERM},
	    {"setns", SCV_EPERM, SCV_EPERM},	  {"keyctl", SCV_EPERM, SCV_EPERM},
	    {"mseal", SCV_ALLOW, SCV_ALLOW},	  {"open_tree_attr", SCV_EPERM, SCV_EPERM},
	    {"kexec_load", SCV_EPERM, SCV_EPERM}, {"getpid", SCV_ALLOW, SCV_ALLOW},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int nr = scprof_resolve(rows[i].name);
		assert_true(nr >= 0);
		if (scprof_verdict(SCPROF_DEFAULT, nr) != rows[i].def ||
		    scprof_verdict(SCPROF_STRICT, nr) != rows[i].strict)
			fail_msg("%s: verdicts %d/%d, expected %d/%d", rows[i].name,
				 scprof_verdict(SCPROF_DEFAULT, nr),
				 scprof_verdict(SCPROF_STRICT, nr), rows[i].def, rows[i].strict);
	}
	assert_int_equal(scprof_verdict(SCPROF_DEFAULT, 1000), SCV_UNKNOWN);
}

/* ------------------------------------------------------- embedded == built */

static void embedded_equals_generated(void **state)
{
	(void)state;
	static const struct {
		enum scprof p;
		enum seccomp_profile rt;
	} rows[] = {
	    {SCPROF_DEFAULT, SECCOMP_PROFILE_DEFAULT},
	    {SCPROF_STRICT, SECCOMP_PROFILE_STRICT},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char err[256] = "";
		static unsigned char buf[BPF_MAXINSNS * sizeof(struct sock_filter) + 1];
		int fd = memfd_create("bpf", MFD_CLOEXEC);
		assert_true(fd >= 0);
		if (scprof_export_bpf(rows[i].p, fd, err, sizeof(err)) < 0)
			fail_msg("export: %s", err);
		ssize_t n = pread(fd, buf, sizeof(buf), 0);
		close(fd);
		const struct sock_fprog *prog = seccomp_profile_prog(rows[i].rt);
		assert_non_null(prog);
		assert_int_equal(n, (ssize_t)(prog->len * sizeof(struct sock_filter)));
		assert_memory_equal(buf, prog->filter, (size_t)n);
		assert_int_equal(seccomp_profile_allowed(rows[i].rt),
				 scprof_allowed_count(rows[i].p));
	}
	assert_null(seccomp_profile_prog(SECCOMP_PROFILE_OFF));
}

static void profile_names(void **state)
{
	(void)state;
	enum seccomp_profile p;
	assert_int_equal(seccomp_profile_parse("default", &p), 0);
	assert_int_equal(p, SECCOMP_PROFILE_DEFAULT);
	assert_int_equal(seccomp_profile_parse("strict", &p), 0);
	assert_int_equal(p, SECCOMP_PROFILE_STRICT);
	assert_int_equal(seccomp_profile_parse("off", &p), 0);
	assert_int_equal(p, SECCOMP_PROFILE_OFF);
	assert_int_equal(seccomp_profile_parse("Default", &p), -EINVAL);
	assert_int_equal(seccomp_profile_parse("", &p), -EINVAL);
	assert_int_equal(seccomp_profile_parse(NULL, &p), -EINVAL);
}

/* -------------------------------------------------------------- behaviour */

enum call {
	C_GETPID,
	C_SYSCALL_1000,
	C_MOUNT,
	C_CLONE3,
	C_SOCKET_INET,
	C_SOCKET_UNIX,
	C_SOCKET_VSOCK,
	C_SOCKET_ALG,
	C_SOCKET_VSOCK_HI,
	C_PERSONALITY_QUERY,
	C_PERSONALITY_LINUX32,
	C_PERSONALITY_NORANDOM,
	C_UNSHARE_USER,
	C_UNSHARE_FILES,
	C_CLONE_NEWNS,
	C_CLONE_PLAIN,
	C_PTRACE,
	C_ADJTIMEX,
	C_X32,
	C_BPF,
	C_KEYCTL,
};

static long do_call(enum call c)
{
	switch (c) {
	case C_GETPID:
		return syscall(SYS_getpid);
	case C_SYSCALL_1000:
		return syscall(1000);
	case C_MOUNT:
		return mount("none", "/nonexistent-test", "tmpfs", 0, NULL);
	case C_CLONE3:
		return syscall(SYS_clone3, NULL, 0UL);
	case C_SOCKET_INET:
		return socket(AF_INET, SOCK_STREAM, 0);
	case C_SOCKET_UNIX:
		return socket(AF_UNIX, SOCK_STREAM, 0);
	case C_SOCKET_VSOCK:
		return socket(40, SOCK_STREAM, 0);
	case C_SOCKET_ALG:
		return socket(38, SOCK_SEQPACKET, 0);
	case C_SOCKET_VSOCK_HI:
		return syscall(SYS_socket, 0x100000000L | 40, (long)SOCK_STREAM, 0L);
	case C_PERSONALITY_QUERY:
		return syscall(SYS_personality, 0xffffffffUL);
	case C_PERSONALITY_LINUX32:
		return syscall(SYS_personality, 0x8UL);
	case C_PERSONALITY_NORANDOM:
		return syscall(SYS_personality, (unsigned long)ADDR_NO_RANDOMIZE);
	case C_UNSHARE_USER:
		return unshare(CLONE_NEWUSER);
	case C_UNSHARE_FILES:
		return unshare(CLONE_FILES);
	case C_CLONE_NEWNS:
	case C_CLONE_PLAIN: {
		unsigned long flags = SIGCHLD | (c == C_CLONE_NEWNS ? CLONE_NEWNS : 0);
		long pid = syscall(SYS_clone, flags, NULL, NULL, NULL, 0UL);
		if (pid == 0)
			_exit(0);
		if (pid > 0)
			waitpid((pid_t)pid, NULL, 0);
		return pid;
	}
	case C_PTRACE:
		return syscall(SYS_ptrace, 3L /* PEEKUSER */, (long)getppid(), 0L, 0L);
	case C_ADJTIMEX:
		return syscall(SYS_adjtimex, NULL);
	case C_X32:
		return syscall(0x40000000L | SYS_getpid);
	case C_BPF:
		return syscall(SYS_bpf, 5, NULL, 0);
	case C_KEYCTL:
		return syscall(SYS_keyctl, 0, -3, 0);
	}
	return -1;
}

#define OK		 0
#define KILLED		 (-SIGSYS)
#define ANY_BUT_FILTERED 1000 /* ran: whatever the kernel said, not EPERM/ENOSYS */

/* In a child: no_new_privs, load the profile, make the call. Returns 0
 * (success), an errno, or -SIGNAL. */
static int run_filtered(enum seccomp_profile p, enum call c)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    seccomp_prog_load(seccomp_profile_prog(p)) < 0)
			_exit(250);
		errno = 0;
		long rc = do_call(c);
		_exit(rc < 0 ? (errno & 0xff) : 0);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (WIFSIGNALED(st))
		return -WTERMSIG(st);
	assert_int_not_equal(WEXITSTATUS(st), 250);
	return WEXITSTATUS(st);
}

static void filters_behave(void **state)
{
	(void)state;
	static const struct {
		enum seccomp_profile p;
		enum call c;
		const char *what;
		int want;
	} rows[] = {
	    {SECCOMP_PROFILE_DEFAULT, C_GETPID, "getpid", OK},
	    {SECCOMP_PROFILE_DEFAULT, C_SYSCALL_1000, "syscall 1000", ENOSYS},
	    {SECCOMP_PROFILE_DEFAULT, C_MOUNT, "mount", EPERM},
	    {SECCOMP_PROFILE_DEFAULT, C_CLONE3, "clone3", ENOSYS},
	    {SECCOMP_PROFILE_DEFAULT, C_SOCKET_INET, "socket inet", OK},
	    {SECCOMP_PROFILE_DEFAULT, C_SOCKET_UNIX, "socket unix", OK},
	    {SECCOMP_PROFILE_DEFAULT, C_SOCKET_VSOCK, "socket vsock", EPERM},
	    {SECCOMP_PROFILE_DEFAULT, C_SOCKET_ALG, "socket alg", EPERM},
	    {SECCOMP_PROFILE_DEFAULT, C_SOCKET_VSOCK_HI, "socket vsock high bits", EPERM},
	    {SECCOMP_PROFILE_DEFAULT, C_PERSONALITY_QUERY, "personality query", OK},
	    {SECCOMP_PROFILE_DEFAULT, C_PERSONALITY_LINUX32, "personality PER_LINUX32", OK},
	    {SECCOMP_PROFILE_DEFAULT, C_PERSONALITY_NORANDOM, "personality NO_RANDOMIZE", EPERM},
	    {SECCOMP_PROFILE_DEFAULT, C_UNSHARE_USER, "unshare NEWUSER", EPERM},
	    {SECCOMP_PROFILE_DEFAULT, C_UNSHARE_FILES, "unshare FILES", OK},
	    {SECCOMP_PROFILE_DEFAULT, C_CLONE_NEWNS, "clone NEWNS", EPERM},
	    {SECCOMP_PROFILE_DEFAULT, C_CLONE_PLAIN, "clone", OK},
	    {SECCOMP_PROFILE_DEFAULT, C_PTRACE, "ptrace", ESRCH},
	    {SECCOMP_PROFILE_DEFAULT, C_BPF, "bpf", EPERM},
	    {SECCOMP_PROFILE_DEFAULT, C_KEYCTL, "keyctl", EPERM},
	    {SECCOMP_PROFILE_DEFAULT, C_X32, "x32 getpid", KILLED},
	    {SECCOMP_PROFILE_STRICT, C_GETPID, "getpid", OK},
	    {SECCOMP_PROFILE_STRICT, C_PTRACE, "ptrace", EPERM},
	    {SECCOMP_PROFILE_STRICT, C_PERSONALITY_QUERY, "personality", EPERM},
	    {SECCOMP_PROFILE_STRICT, C_UNSHARE_FILES, "unshare FILES", EPERM},
	    {SECCOMP_PROFILE_STRICT, C_ADJTIMEX, "adjtimex", EPERM},
	    {SECCOMP_PROFILE_STRICT, C_SOCKET_VSOCK, "socket vsock", EPERM},
	    {SECCOMP_PROFILE_STRICT, C_SOCKET_INET, "socket inet", OK},
	    {SECCOMP_PROFILE_STRICT, C_CLONE3, "clone3", ENOSYS},
	    {SECCOMP_PROFILE_STRICT, C_X32, "x32 getpid", KILLED},
	};
	int failures = 0;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int got = run_filtered(rows[i].p, rows[i].c);
		if (got != rows[i].want) {
			fprintf(stderr, "%s %s: got %d (%s), want %d\n",
				seccomp_profile_name(rows[i].p), rows[i].what, got,
				got > 0 ? strerror(got) : "signal/ok", rows[i].want);
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_name_resolves_or_is_another_arch),
	    cmocka_unit_test(other_architectures_are_recognised),
	    cmocka_unit_test(nothing_both_allowed_and_denied),
	    cmocka_unit_test(verdict_table),
	    cmocka_unit_test(embedded_equals_generated),
	    cmocka_unit_test(profile_names),
	    cmocka_unit_test(filters_behave),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

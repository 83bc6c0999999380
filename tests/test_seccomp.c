/* seccomp profiles (SPEC §7): the data tables, the embedded BPF against what
 * libseccomp makes of the tables now, and the filters' behaviour in a child. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <stdbool.h>
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

#include "seccomp-compact.h"
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

/* A classic-BPF interpreter for seccomp programs: every instruction class
 * the kernel accepts in a filter. An instruction it does not know, a load
 * outside struct seccomp_data or a jump out of the program fails the test. */
static uint32_t bpf_run(const struct sock_filter *f, size_t len, const struct seccomp_data *d)
{
	uint32_t A = 0, X = 0, M[BPF_MEMWORDS] = {0};
	for (size_t pc = 0; pc < len; pc++) {
		const struct sock_filter *i = &f[pc];
		uint32_t k = i->k, src = BPF_SRC(i->code) == BPF_X ? X : k;
		switch (BPF_CLASS(i->code)) {
		case BPF_LD:
			if (i->code == (BPF_LD | BPF_W | BPF_ABS)) {
				if (k % 4 || k + 4 > sizeof(*d))
					fail_msg("pc %zu: load at %u", pc, k);
				memcpy(&A, (const char *)d + k, 4);
			} else if (i->code == (BPF_LD | BPF_IMM)) {
				A = k;
			} else if (i->code == (BPF_LD | BPF_MEM) && k < BPF_MEMWORDS) {
				A = M[k];
			} else if (i->code == (BPF_LD | BPF_W | BPF_LEN)) {
				A = sizeof(*d);
			} else {
				fail_msg("pc %zu: ld code 0x%x", pc, i->code);
			}
			break;
		case BPF_LDX:
			if (i->code == (BPF_LDX | BPF_IMM))
				X = k;
			else if (i->code == (BPF_LDX | BPF_MEM) && k < BPF_MEMWORDS)
				X = M[k];
			else if (i->code == (BPF_LDX | BPF_W | BPF_LEN))
				X = sizeof(*d);
			else
				fail_msg("pc %zu: ldx code 0x%x", pc, i->code);
			break;
		case BPF_ST:
		case BPF_STX:
			if (k >= BPF_MEMWORDS)
				fail_msg("pc %zu: store at %u", pc, k);
			M[k] = BPF_CLASS(i->code) == BPF_ST ? A : X;
			break;
		case BPF_ALU:
			switch (BPF_OP(i->code)) {
			case BPF_ADD:
				A += src;
				break;
			case BPF_SUB:
				A -= src;
				break;
			case BPF_MUL:
				A *= src;
				break;
			case BPF_DIV:
				if (!src)
					return 0;
				A /= src;
				break;
			case BPF_MOD:
				if (!src)
					return 0;
				A %= src;
				break;
			case BPF_OR:
				A |= src;
				break;
			case BPF_AND:
				A &= src;
				break;
			case BPF_XOR:
				A ^= src;
				break;
			case BPF_LSH:
				A = src < 32 ? A << src : 0;
				break;
			case BPF_RSH:
				A = src < 32 ? A >> src : 0;
				break;
			case BPF_NEG:
				A = -A;
				break;
			default:
				fail_msg("pc %zu: alu code 0x%x", pc, i->code);
			}
			break;
		case BPF_JMP: {
			size_t off;
			if (BPF_OP(i->code) == BPF_JA) {
				off = k;
			} else {
				bool t;
				switch (BPF_OP(i->code)) {
				case BPF_JEQ:
					t = A == src;
					break;
				case BPF_JGT:
					t = A > src;
					break;
				case BPF_JGE:
					t = A >= src;
					break;
				case BPF_JSET:
					t = (A & src) != 0;
					break;
				default:
					fail_msg("pc %zu: jmp code 0x%x", pc, i->code);
					return 0;
				}
				off = t ? i->jt : i->jf;
			}
			if (pc + 1 + off >= len)
				fail_msg("pc %zu: jump out of the program", pc);
			pc += off;
			break;
		}
		case BPF_RET:
			return BPF_RVAL(i->code) == BPF_A ? A : k;
		case BPF_MISC:
			if (BPF_MISCOP(i->code) == BPF_TAX)
				X = A;
			else
				A = X;
			break;
		}
	}
	fail_msg("ran off the end of the program");
	return 0;
}

static size_t libseccomp_prog(enum scprof p, struct sock_filter *out, size_t cap)
{
	char err[256] = "";
	int fd = memfd_create("bpf", MFD_CLOEXEC);
	assert_true(fd >= 0);
	if (scprof_export_bpf(p, fd, err, sizeof(err)) < 0)
		fail_msg("export: %s", err);
	ssize_t n = pread(fd, out, cap * sizeof(*out), 0);
	close(fd);
	assert_true(n > 0 && n % (ssize_t)sizeof(*out) == 0 && (size_t)n < cap * sizeof(*out));
	return (size_t)n / sizeof(*out);
}

static const struct {
	enum scprof p;
	enum seccomp_profile rt;
} profile_rows[] = {
    {SCPROF_DEFAULT, SECCOMP_PROFILE_DEFAULT},
    {SCPROF_STRICT, SECCOMP_PROFILE_STRICT},
};

/* The embedded programs are what the compiler makes of the tables now. */
static void embedded_equals_generated(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(profile_rows) / sizeof(profile_rows[0]); i++) {
		static struct sock_filter f[BPF_MAXINSNS];
		int n = scprof_compact(profile_rows[i].p, f, BPF_MAXINSNS);
		const struct sock_fprog *prog = seccomp_profile_prog(profile_rows[i].rt);
		assert_true(n > 0);
		assert_non_null(prog);
		assert_int_equal(n, prog->len);
		assert_memory_equal(f, prog->filter, (size_t)n * sizeof(*f));
		assert_int_equal(seccomp_profile_allowed(profile_rows[i].rt),
				 scprof_allowed_count(profile_rows[i].p));
	}
	assert_null(seccomp_profile_prog(SECCOMP_PROFILE_OFF));
}

static uint64_t lcg(uint64_t *x)
{
	*x = *x * 6364136223846793005ULL + 1442695040888963407ULL;
	return *x;
}

/* First arguments worth trying for a syscall with an argument rule: the
 * rule's values, their neighbours and upper halves, every single bit, and
 * pseudo-random ones. */
static size_t arg_cases(int nr, uint64_t *out, size_t cap)
{
	struct scprof_argrule r;
	size_t n = 0;
	uint64_t x = (uint64_t)nr;
	assert_int_equal(scprof_argrule(nr, &r), 0);
	for (size_t i = 0; i < r.n; i++) {
		uint64_t v = r.values[i];
		uint64_t vs[] = {v, v + 1, v - 1, v | 1ULL << 32, v | 0xffffffff00000000ULL, ~v};
		for (size_t j = 0; j < sizeof(vs) / sizeof(vs[0]) && n < cap; j++)
			out[n++] = vs[j];
	}
	for (int b = 0; b < 64 && n < cap; b++) {
		out[n++] = 1ULL << b;
		if (r.flags && n < cap)
			out[n++] = (1ULL << b) | r.flags;
	}
	uint64_t fixed[] = {0,	   0xffffffffULL, 0xffffffff00000000ULL,
			    ~0ULL, r.flags,	  ~(uint64_t)r.flags};
	for (size_t j = 0; j < sizeof(fixed) / sizeof(fixed[0]) && n < cap; j++)
		out[n++] = fixed[j];
	while (n < cap)
		out[n++] = lcg(&x) >> (lcg(&x) & 32);
	return n;
}

/* Both programs, libseccomp's from the table and the compact one, decide
 * the same for every input class: each number 0..1023 and those numbers
 * with the x32 bit, numbers far past the table and -1, other architectures
 * (i386, aarch64, nonsense), and for the argument-checked syscalls a range
 * of first arguments (other arguments must not matter: they vary too). */
static void compact_decides_as_libseccomp(void **state)
{
	(void)state;
	static const uint32_t arches[] = {AUDIT_ARCH_X86_64,  AUDIT_ARCH_I386,
					  AUDIT_ARCH_AARCH64, 0,
					  0xffffffffU,	      AUDIT_ARCH_X86_64 ^ 1};
	static const uint32_t far[] = {1024,	   1025,       4095,	   65535,
				       0x3fffffff, 0x40000000, 0x4000ffff, 0x7fffffff,
				       0x80000000, 0xfffffffe, 0xffffffff};
	for (size_t pi = 0; pi < sizeof(profile_rows) / sizeof(profile_rows[0]); pi++) {
		static struct sock_filter lib[BPF_MAXINSNS];
		const struct sock_fprog *mine = seccomp_profile_prog(profile_rows[pi].rt);
		size_t nlib = libseccomp_prog(profile_rows[pi].p, lib, BPF_MAXINSNS);
		unsigned long compared = 0, diffs = 0;
		uint64_t x = 42;

		printf("# %s: %u instructions, libseccomp's %zu\n",
		       seccomp_profile_name(profile_rows[pi].rt), mine->len, nlib);
		assert_true(mine->len * 3 < nlib); /* what the compact form is for */
		for (size_t ai = 0; ai < sizeof(arches) / sizeof(arches[0]); ai++) {
			for (uint32_t k = 0; k < 2 * SCPROF_MAX_NR + sizeof(far) / sizeof(far[0]);
			     k++) {
				uint32_t nr = k < SCPROF_MAX_NR ? k
					      : k < 2 * SCPROF_MAX_NR
						  ? (k - SCPROF_MAX_NR) | 0x40000000U
						  : far[k - 2 * SCPROF_MAX_NR];
				uint64_t args0[160];
				size_t nargs = 1;
				args0[0] = lcg(&x);
				if (nr < SCPROF_MAX_NR &&
				    scprof_verdict(profile_rows[pi].p, (int)nr) == SCV_ARGS)
					nargs = arg_cases((int)nr, args0,
							  sizeof(args0) / sizeof(args0[0]));
				for (size_t c = 0; c < nargs; c++) {
					struct seccomp_data d = {.nr = (int)nr,
								 .arch = arches[ai],
								 .instruction_pointer = lcg(&x)};
					d.args[0] = args0[c];
					for (int a = 1; a < 6; a++)
						d.args[a] = lcg(&x);
					uint32_t want = bpf_run(lib, nlib, &d);
					uint32_t got = bpf_run(mine->filter, mine->len, &d);
					compared++;
					if (want != got && diffs++ < 10)
						fprintf(stderr,
							"%s: arch 0x%x nr 0x%x arg0 0x%llx: "
							"libseccomp 0x%x, "
							"compact 0x%x\n",
							seccomp_profile_name(profile_rows[pi].rt),
							d.arch, nr, (unsigned long long)d.args[0],
							want, got);
				}
			}
		}
		printf("# %s: %lu inputs compared\n", seccomp_profile_name(profile_rows[pi].rt),
		       compared);
		assert_int_equal(diffs, 0);
	}
}

/* The interpreter itself is not vacuous: known answers of the default
 * program. */
static void interpreter_known_answers(void **state)
{
	(void)state;
	const struct sock_fprog *f = seccomp_profile_prog(SECCOMP_PROFILE_DEFAULT);
	static const struct {
		uint32_t arch, nr;
		uint64_t arg0;
		uint32_t want;
	} rows[] = {
	    {AUDIT_ARCH_X86_64, SYS_read, 0, SECCOMP_RET_ALLOW},
	    {AUDIT_ARCH_X86_64, SYS_mount, 0, SECCOMP_RET_ERRNO | EPERM},
	    {AUDIT_ARCH_X86_64, 1000, 0, SECCOMP_RET_ERRNO | ENOSYS},
	    {AUDIT_ARCH_X86_64, SYS_clone3, 0, SECCOMP_RET_ERRNO | ENOSYS},
	    {AUDIT_ARCH_X86_64, 0x40000000U | SYS_getpid, 0, SECCOMP_RET_KILL_PROCESS},
	    {AUDIT_ARCH_I386, 20, 0, SECCOMP_RET_KILL_PROCESS},
	    {AUDIT_ARCH_X86_64, SYS_socket, AF_INET, SECCOMP_RET_ALLOW},
	    {AUDIT_ARCH_X86_64, SYS_socket, 40, SECCOMP_RET_ERRNO | EPERM},
	    {AUDIT_ARCH_X86_64, SYS_socket, 0x100000000ULL | 38, SECCOMP_RET_ERRNO | EPERM},
	    {AUDIT_ARCH_X86_64, SYS_personality, 0xffffffffULL, SECCOMP_RET_ALLOW},
	    {AUDIT_ARCH_X86_64, SYS_personality, 0x40000, SECCOMP_RET_ERRNO | EPERM},
	    {AUDIT_ARCH_X86_64, SYS_clone, SIGCHLD, SECCOMP_RET_ALLOW},
	    {AUDIT_ARCH_X86_64, SYS_clone, SIGCHLD | CLONE_NEWUSER, SECCOMP_RET_ERRNO | EPERM},
	    {AUDIT_ARCH_X86_64, SYS_unshare, CLONE_FILES, SECCOMP_RET_ALLOW},
	    {AUDIT_ARCH_X86_64, SYS_unshare, CLONE_NEWNET, SECCOMP_RET_ERRNO | EPERM},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct seccomp_data d = {.nr = (int)rows[i].nr, .arch = rows[i].arch};
		d.args[0] = rows[i].arg0;
		uint32_t got = bpf_run(f->filter, f->len, &d);
		if (got != rows[i].want)
			fail_msg("row %zu: 0x%x, want 0x%x", i, got, rows[i].want);
	}
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
	    cmocka_unit_test(interpreter_known_answers),
	    cmocka_unit_test(compact_decides_as_libseccomp),
	    cmocka_unit_test(profile_names),
	    cmocka_unit_test(filters_behave),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

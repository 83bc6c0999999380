/* sysprobe: tries system calls and prints what happened, one line each, for
 * integration/test_sandbox.sh. Static, no libseccomp: it runs inside the
 * sandbox it inspects.
 *
 *   sysprobe PROBE [ARG] [PROBE [ARG]...]
 *
 * prints "PROBE: ok" or "PROBE: EPERM" (the errno's name). Every call is
 * harmless when it is NOT filtered, because under `--seccomp off` it runs
 * for real, as root: reboot gets an invalid magic, mount and swapon a
 * missing path, kexec_load an invalid architecture, init_module an empty
 * image. x32 and int80 are killed by SIGSYS under a filter: put them last. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#ifndef AF_ALG
#define AF_ALG 38
#endif
#define X32_SYSCALL_BIT 0x40000000L

static void report(const char *name, long rc, int err)
{
	if (rc >= 0)
		printf("%s: ok\n", name);
	else
		printf("%s: %s\n", name, strerrorname_np(err) ? strerrorname_np(err) : "E?");
	fflush(stdout);
}

#define PROBE(name, call)                                                                          \
	do {                                                                                       \
		errno = 0;                                                                         \
		long rc_ = (long)(call);                                                           \
		report((name), rc_, errno);                                                        \
	} while (0)

static void *thread_main(void *arg)
{
	return arg;
}

static void print_file(const char *path, const char *const *keys)
{
	char line[4096];
	FILE *f = fopen(path, "re");
	if (!f) {
		printf("%s: %s\n", path, strerrorname_np(errno));
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		if (!keys) {
			fputs(line, stdout);
			continue;
		}
		for (const char *const *k = keys; *k; k++)
			if (strncmp(line, *k, strlen(*k)) == 0 && line[strlen(*k)] == ':')
				fputs(line, stdout);
	}
	fclose(f);
	fflush(stdout);
}

static const char *const status_keys[] = {"Uid",	"Gid",	   "Groups", "CapInh",
					  "CapPrm",	"CapEff",  "CapBnd", "CapAmb",
					  "NoNewPrivs", "Seccomp", NULL};

static int fsize(const char *arg)
{
	char path[] = "/tmp/sysprobe-fsize.XXXXXX";
	char *end;
	unsigned long long n = strtoull(arg, &end, 10);
	if (*end || n > (1ULL << 30)) {
		fprintf(stderr, "sysprobe: bad size %s\n", arg);
		return 2;
	}
	int fd = mkstemp(path);
	if (fd < 0) {
		report("fsize", -1, errno);
		return 0;
	}
	unlink(path);
	char buf[4096] = {0};
	for (unsigned long long left = n + 1; left > 0;) {
		size_t chunk = left < sizeof(buf) ? (size_t)left : sizeof(buf);
		ssize_t w = write(fd, buf, chunk);
		if (w < 0) {
			report("fsize", -1, errno);
			close(fd);
			return 0;
		}
		left -= (unsigned long long)w;
	}
	close(fd);
	report("fsize", 0, 0);
	return 0;
}

/* i386 getpid (20) through the 32-bit entry point. */
static long int80_getpid(void)
{
	long ret = 20;
	__asm__ volatile("int $0x80" : "+a"(ret) : : "memory");
	return ret;
}

static int usage(void)
{
	fprintf(stderr, "usage: sysprobe PROBE [ARG]... (see the source)\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	for (int i = 1; i < argc; i++) {
		const char *p = argv[i];
		const char *arg = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(p, "mount") == 0) {
			PROBE("mount", mount("none", "/nonexistent-sysprobe", "tmpfs", 0, NULL));
		} else if (strcmp(p, "umount2") == 0) {
			PROBE("umount2", umount2("/nonexistent-sysprobe", 0));
		} else if (strcmp(p, "kexec_load") == 0) {
			/* architecture 0xdead0000: EINVAL before anything loads */
			PROBE("kexec_load", syscall(SYS_kexec_load, 0UL, 0UL, NULL, 0xdead0000UL));
		} else if (strcmp(p, "init_module") == 0) {
			PROBE("init_module", syscall(SYS_init_module, NULL, 0UL, ""));
		} else if (strcmp(p, "reboot") == 0) {
			/* wrong magic: EINVAL, never a reboot */
			PROBE("reboot", syscall(SYS_reboot, 0x12345678, 0x87654321, 0, NULL));
		} else if (strcmp(p, "swapon") == 0) {
			PROBE("swapon", syscall(SYS_swapon, "/nonexistent-sysprobe", 0));
		} else if (strcmp(p, "pivot_root") == 0) {
			PROBE("pivot_root", syscall(SYS_pivot_root, "/nonexistent-sysprobe",
						    "/nonexistent-sysprobe"));
		} else if (strcmp(p, "syscall") == 0 && arg) {
			char name[64];
			snprintf(name, sizeof(name), "syscall %s", arg);
			PROBE(name, syscall(strtol(arg, NULL, 0)));
			i++;
		} else if (strcmp(p, "clone3") == 0) {
			/* size 0: EINVAL from a kernel that has clone3 */
			PROBE("clone3", syscall(SYS_clone3, NULL, 0UL));
		} else if (strcmp(p, "pthread") == 0) {
			pthread_t t;
			int rc = pthread_create(&t, NULL, thread_main, NULL);
			if (rc == 0)
				pthread_join(t, NULL);
			report("pthread", rc ? -1 : 0, rc);
		} else if (strcmp(p, "fork") == 0) {
			pid_t pid = fork();
			if (pid == 0)
				_exit(0);
			if (pid > 0)
				waitpid(pid, NULL, 0);
			report("fork", pid, errno);
		} else if (strcmp(p, "unshare-user") == 0) {
			PROBE("unshare-user", unshare(CLONE_NEWUSER));
		} else if (strcmp(p, "unshare-files") == 0) {
			PROBE("unshare-files", unshare(CLONE_FILES));
		} else if (strcmp(p, "clone-newns") == 0) {
			/* raw clone: the child only exits */
			long pid = syscall(SYS_clone, (unsigned long)(CLONE_NEWNS | SIGCHLD), NULL,
					   NULL, NULL, 0UL);
			if (pid == 0)
				_exit(0);
			if (pid > 0)
				waitpid((pid_t)pid, NULL, 0);
			report("clone-newns", pid, errno);
		} else if (strcmp(p, "socket") == 0 && arg) {
			char name[64];
			int fam = strcmp(arg, "vsock") == 0  ? AF_VSOCK
				  : strcmp(arg, "alg") == 0  ? AF_ALG
				  : strcmp(arg, "inet") == 0 ? AF_INET
				  : strcmp(arg, "unix") == 0 ? AF_UNIX
							     : -1;
			snprintf(name, sizeof(name), "socket %s", arg);
			if (strcmp(arg, "vsock-hi") == 0)
				/* upper half set: the kernel truncates it to AF_VSOCK */
				PROBE(name, syscall(SYS_socket, 0x100000000L | AF_VSOCK,
						    (long)SOCK_STREAM, 0L));
			else if (fam < 0)
				return usage();
			else
				PROBE(name, socket(fam, SOCK_STREAM, 0));
			i++;
		} else if (strcmp(p, "ptrace") == 0) {
			/* peek at a process we do not trace: ESRCH, nothing attached
			 * (PTRACE_TRACEME would make jobshim our tracer) */
			PROBE("ptrace", ptrace(PTRACE_PEEKUSER, getppid(), NULL, NULL));
		} else if (strcmp(p, "bpf") == 0) {
			/* BPF_PROG_LOAD of nothing: EINVAL/EFAULT/EPERM (no CAP_BPF) */
			PROBE("bpf", syscall(SYS_bpf, 5, NULL, 0));
		} else if (strcmp(p, "io_uring") == 0) {
			PROBE("io_uring", syscall(SYS_io_uring_setup, 0, NULL));
		} else if (strcmp(p, "userfaultfd") == 0) {
			PROBE("userfaultfd", syscall(SYS_userfaultfd, O_CLOEXEC));
		} else if (strcmp(p, "keyctl") == 0) {
			/* KEYCTL_GET_KEYRING_ID of the session keyring, no create */
			PROBE("keyctl", syscall(SYS_keyctl, 0, -3, 0));
		} else if (strcmp(p, "personality") == 0) {
			unsigned long v = 0xffffffffUL;
			if (arg && arg[0] >= '0' && arg[0] <= '9') {
				v = strtoul(arg, NULL, 0);
				i++;
			}
			PROBE("personality", syscall(SYS_personality, v));
		} else if (strcmp(p, "status") == 0) {
			print_file("/proc/self/status", status_keys);
		} else if (strcmp(p, "status1") == 0) {
			/* jobshim, PID 1 of the namespace */
			static const char *const k[] = {"Seccomp", "NoNewPrivs", "CapBnd", NULL};
			print_file("/proc/1/status", k);
		} else if (strcmp(p, "limits") == 0) {
			print_file("/proc/self/limits", NULL);
		} else if (strcmp(p, "cgroup") == 0) {
			print_file("/proc/self/cgroup", NULL);
		} else if (strcmp(p, "fsize") == 0 && arg) {
			int rc = fsize(arg);
			if (rc)
				return rc;
			i++;
		} else if (strcmp(p, "x32") == 0) {
			/* x32's getpid: the x86_64 entry with bit 30 set */
			PROBE("x32", syscall(X32_SYSCALL_BIT | SYS_getpid));
		} else if (strcmp(p, "int80") == 0) {
			long r = int80_getpid();
			report("int80", r < 0 ? -1 : 0, r < 0 ? (int)-r : 0);
		} else {
			return usage();
		}
	}
	return 0;
}

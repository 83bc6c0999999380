/* i386probe: a 32-bit (i386) static program for the VM suite. Every system
 * call it makes goes through the kernel's IA32 entry, which a native-only
 * seccomp filter must kill (SIGSYS) before the first one returns. Unfiltered
 * it prints "i386probe: pid N" and exits 0, which shows that the kernel runs
 * i386 programs at all (IA32 emulation).
 *
 * Built with `gcc -m32 -static` (Debian's gcc-multilib) by mk/vm.mk. */
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	printf("i386probe: pid %ld\n", (long)syscall(SYS_getpid));
	return 0;
}

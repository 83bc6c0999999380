/* memhog: allocates and touches memory, for the cgroup tests of the VM
 * suite (integration/vm/suite.sh).
 *
 *   memhog MIB   touch MIB MiB, one MiB at a time, printing "memhog: N MiB"
 *                every 64 MiB; then exit 0 (only when nothing stopped it)
 *
 * Under a memory.max below MIB the kernel's OOM killer ends it by SIGKILL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	char *end;
	unsigned long mib = argc == 2 ? strtoul(argv[1], &end, 10) : 0;

	if (argc != 2 || *end != '\0' || mib == 0 || mib > 65536) {
		fprintf(stderr, "usage: memhog MIB (1..65536)\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (unsigned long i = 1; i <= mib; i++) {
		char *p = malloc(1 << 20);
		if (!p) {
			printf("memhog: malloc failed at %lu MiB\n", i);
			return 1;
		}
		memset(p, (int)i, 1 << 20);
		if (i % 64 == 0)
			printf("memhog: %lu MiB\n", i);
	}
	return 0;
}

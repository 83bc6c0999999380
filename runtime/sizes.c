#include "sizes.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define MiB (1024ULL * 1024ULL)

const struct size_spec size_table[] = {
    {"micro", 256 * MiB, 125, 256, 4096},	   {"mini", 512 * MiB, 250, 512, 8192},
    {"standard-1", 1024 * MiB, 500, 1024, 16384},  {"standard-2", 2048 * MiB, 750, 2048, 32768},
    {"standard-4", 4096 * MiB, 1500, 4096, 65536},
};
const size_t size_count = sizeof(size_table) / sizeof(size_table[0]);

const struct size_spec *size_lookup(const char *name)
{
	for (size_t i = 0; i < size_count; i++)
		if (strcmp(size_table[i].name, name) == 0)
			return &size_table[i];
	return NULL;
}

const char *size_names(void)
{
	return "micro, mini, standard-1, standard-2, standard-4";
}

int size_format_bytes(char *buf, size_t cap, int64_t bytes)
{
	static const char *const unit[] = {"Ti", "Gi", "Mi", "Ki"};
	uint64_t b = (uint64_t)bytes;

	if (bytes < 0)
		return snprintf(buf, cap, "-");
	for (size_t i = 0; i < sizeof(unit) / sizeof(unit[0]); i++) {
		unsigned shift = 40 - 10 * (unsigned)i;
		uint64_t v = b >> shift;
		/* Rounding 1.9Gi down to "1Gi" would lie by half: switch to the
		 * next unit unless the value is exact or has two digits. */
		if (v >= 10 || (v >= 1 && (b & ((UINT64_C(1) << shift) - 1)) == 0))
			return snprintf(buf, cap, "%" PRIu64 "%s", v, unit[i]);
	}
	if (b >= 1024) /* 1Ki to 10Ki, not exact: rounded down all the same */
		return snprintf(buf, cap, "%" PRIu64 "Ki", b >> 10);
	return snprintf(buf, cap, "%" PRIu64, b);
}

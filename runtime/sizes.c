#include "sizes.h"

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

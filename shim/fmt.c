#include "fmt.h"

#include <stdio.h>

#include "sizes.h"

int fmt_bytes(char *buf, size_t cap, int64_t bytes)
{
	/* runtime's messages ("memory.max 256Mi") use the same one */
	return size_format_bytes(buf, cap, bytes);
}

int fmt_duration(char *buf, size_t cap, int64_t ms, enum duration_style style)
{
	if (ms < 0)
		return snprintf(buf, cap, "-");
	/* messages use the same one (runtime/duration.c) */
	return duration_format(buf, cap, (uint64_t)ms, style);
}

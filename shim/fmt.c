#include "fmt.h"

#include <inttypes.h>
#include <stdio.h>

#include "sizes.h"

int fmt_bytes(char *buf, size_t cap, int64_t bytes)
{
	/* runtime's messages ("memory.max 256Mi") use the same one */
	return size_format_bytes(buf, cap, bytes);
}

static int duration_short(char *buf, size_t cap, int64_t s)
{
	if (s < 60)
		return snprintf(buf, cap, "%" PRId64 "s", s);
	if (s < 3600)
		return snprintf(buf, cap, "%" PRId64 "m%" PRId64 "s", s / 60, s % 60);
	if (s < 86400)
		return snprintf(buf, cap, "%" PRId64 "h%" PRId64 "m", s / 3600, s % 3600 / 60);
	return snprintf(buf, cap, "%" PRId64 "d%" PRId64 "h", s / 86400, s % 86400 / 3600);
}

static int duration_full(char *buf, size_t cap, int64_t ms)
{
	int64_t h = ms / 3600000, m = ms / 60000 % 60, s = ms / 1000 % 60, rest = ms % 1000;
	char hs[32] = "", ms_[8] = "", ss[32] = "";

	if (ms == 0)
		return snprintf(buf, cap, "0s");
	if (h > 0)
		snprintf(hs, sizeof(hs), "%" PRId64 "h", h);
	if (m > 0)
		snprintf(ms_, sizeof(ms_), "%" PRId64 "m", m);
	if (rest > 0)
		snprintf(ss, sizeof(ss), "%" PRId64 ".%03" PRId64 "s", s, rest);
	else if (s > 0)
		snprintf(ss, sizeof(ss), "%" PRId64 "s", s);
	return snprintf(buf, cap, "%s%s%s", hs, ms_, ss);
}

int fmt_duration(char *buf, size_t cap, int64_t ms, enum fmt_duration_style style)
{
	if (ms < 0)
		return snprintf(buf, cap, "-");
	return style == FMT_DURATION_SHORT ? duration_short(buf, cap, ms / 1000)
					   : duration_full(buf, cap, ms);
}

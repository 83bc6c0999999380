#include "fmt.h"

#include <inttypes.h>
#include <stdio.h>

int fmt_bytes(char *buf, size_t cap, int64_t bytes)
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

#include "duration.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define NS_MAX 9223372036854775807ULL /* Go's time.Duration is an int64 of ns */

struct unit {
	const char *name;
	uint64_t ns;
};

/* Longest names first where one is a prefix of another ("ms" before "m"). */
static const struct unit units[] = {
    {"ns", 1ULL},	    {"us", 1000ULL},	  {"\xc2\xb5s", 1000ULL}, /* U+00B5 micro sign */
    {"\xce\xbcs", 1000ULL},						  /* U+03BC Greek mu */
    {"ms", 1000000ULL},	    {"s", 1000000000ULL}, {"m", 60000000000ULL},  {"h", 3600000000000ULL},
};

static const struct unit *unit_match(const char *s, size_t *len)
{
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		size_t n = strlen(units[i].name);

		if (strncmp(s, units[i].name, n) != 0)
			continue;
		/* "m" must not swallow the "m" of "ms", nor "s" a following letter. */
		if (s[n] >= 'a' && s[n] <= 'z')
			continue;
		*len = n;
		return &units[i];
	}
	return NULL;
}

/* One "<digits>[.<digits>]<unit>" component; adds it to *total_ns. */
static int component(const char **sp, uint64_t *total_ns)
{
	const char *s = *sp;
	uint64_t whole = 0, frac = 0, scale = 1, add;
	int digits = 0;
	const struct unit *u;
	size_t ulen;

	while (*s >= '0' && *s <= '9') {
		unsigned d = (unsigned)(*s - '0');

		if (whole > (NS_MAX - d) / 10)
			return -ERANGE;
		whole = whole * 10 + d;
		s++, digits++;
	}
	if (*s == '.') {
		s++;
		while (*s >= '0' && *s <= '9') {
			/* Digits past ns precision cannot change the result. */
			if (scale < 1000000000000000000ULL) {
				frac = frac * 10 + (unsigned)(*s - '0');
				scale *= 10;
			}
			s++, digits++;
		}
	}
	if (digits == 0)
		return -EINVAL;
	u = unit_match(s, &ulen);
	if (u == NULL)
		return -EINVAL;
	if (whole > NS_MAX / u->ns)
		return -ERANGE;
	add = whole * u->ns;
	if (frac > 0) {
		/* Same arithmetic as Go: the fraction in floating point. */
		double f = (double)frac * ((double)u->ns / (double)scale);

		if (f > (double)(NS_MAX - add))
			return -ERANGE;
		add += (uint64_t)f;
	}
	if (add > NS_MAX - *total_ns)
		return -ERANGE;
	*total_ns += add;
	*sp = s + ulen;
	return 0;
}

int duration_parse(const char *s, uint64_t *ms)
{
	uint64_t ns = 0;
	int r;

	if (s == NULL || *s == '\0')
		return -EINVAL;
	if (strcmp(s, "0") == 0) {
		*ms = 0;
		return 0;
	}
	while (*s != '\0') {
		r = component(&s, &ns);
		if (r < 0)
			return r;
	}
	*ms = ns / 1000000ULL;
	return 0;
}

static int format_terse(char *buf, size_t cap, uint64_t ms)
{
	uint64_t s = ms / 1000;

	if (ms < 100)
		return snprintf(buf, cap, "%" PRIu64 "ms", ms);
	if (ms < 10000 && ms % 1000 != 0)
		return snprintf(buf, cap, "%" PRIu64 ".%" PRIu64 "s", s, ms % 1000 / 100);
	if (s < 60)
		return snprintf(buf, cap, "%" PRIu64 "s", s);
	if (s < 3600)
		return snprintf(buf, cap, "%" PRIu64 "m%" PRIu64 "s", s / 60, s % 60);
	return snprintf(buf, cap, "%" PRIu64 "h%" PRIu64 "m%" PRIu64 "s", s / 3600, s % 3600 / 60,
			s % 60);
}

static int format_written(char *buf, size_t cap, uint64_t ms)
{
	uint64_t h = ms / 3600000, m = ms / 60000 % 60;

	if (ms % 60000 != 0 || ms == 0)
		return format_terse(buf, cap, ms);
	if (h > 0 && m > 0)
		return snprintf(buf, cap, "%" PRIu64 "h%" PRIu64 "m", h, m);
	if (h > 0)
		return snprintf(buf, cap, "%" PRIu64 "h", h);
	return snprintf(buf, cap, "%" PRIu64 "m", m);
}

static int format_exact(char *buf, size_t cap, uint64_t ms)
{
	uint64_t h = ms / 3600000, m = ms / 60000 % 60, s = ms / 1000 % 60, rest = ms % 1000;
	char hs[32] = "", mins[8] = "", secs[32] = "";

	if (ms == 0)
		return snprintf(buf, cap, "0s");
	if (h > 0)
		snprintf(hs, sizeof(hs), "%" PRIu64 "h", h);
	if (m > 0)
		snprintf(mins, sizeof(mins), "%" PRIu64 "m", m);
	if (rest > 0)
		snprintf(secs, sizeof(secs), "%" PRIu64 ".%03" PRIu64 "s", s, rest);
	else if (s > 0)
		snprintf(secs, sizeof(secs), "%" PRIu64 "s", s);
	return snprintf(buf, cap, "%s%s%s", hs, mins, secs);
}

static int format_uptime(char *buf, size_t cap, uint64_t ms)
{
	uint64_t s = ms / 1000;

	if (s < 60)
		return snprintf(buf, cap, "%" PRIu64 "s", s);
	if (s < 3600)
		return snprintf(buf, cap, "%" PRIu64 "m%" PRIu64 "s", s / 60, s % 60);
	if (s < 86400)
		return snprintf(buf, cap, "%" PRIu64 "h%" PRIu64 "m", s / 3600, s % 3600 / 60);
	return snprintf(buf, cap, "%" PRIu64 "d%" PRIu64 "h", s / 86400, s % 86400 / 3600);
}

int duration_format(char *buf, size_t cap, uint64_t ms, enum duration_style style)
{
	switch (style) {
	case DURATION_WRITTEN:
		return format_written(buf, cap, ms);
	case DURATION_EXACT:
		return format_exact(buf, cap, ms);
	case DURATION_UPTIME:
		return format_uptime(buf, cap, ms);
	case DURATION_TERSE:
		break;
	}
	return format_terse(buf, cap, ms);
}

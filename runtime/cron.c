#include "cron.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

struct cron_field {
	const char *what;
	unsigned min, max;
	const char *const *names; /* names[i] means min + i */
	bool question;		  /* "?" allowed */
};

static const char *const months[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul",
				     "aug", "sep", "oct", "nov", "dec", NULL};
static const char *const weekdays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};
#define MONTH_NAMES   "jan feb mar apr may jun jul aug sep oct nov dec"
#define WEEKDAY_NAMES "sun mon tue wed thu fri sat"

static const struct cron_field fields[5] = {
    {"minute", 0, 59, NULL, false},	   {"hour", 0, 23, NULL, false},
    {"day of month", 1, 31, NULL, true},   {"month", 1, 12, months, false},
    {"day of week", 0, 6, weekdays, true},
};

static const char *const macros[] = {"@yearly", "@annually", "@monthly", "@weekly",
				     "@daily",	"@midnight", "@hourly",	 NULL};

/* A number or (where the field has them) a name; advances *p. Numbers are
 * parsed digit by digit with a bound, so "99999999999" cannot wrap. */
static int cron_value(const struct cron_field *f, const char **p, unsigned *v, char *err,
		      size_t errlen)
{
	const char *s = *p;
	unsigned n = 0;
	int digits = 0;

	if (f->names != NULL && isalpha((unsigned char)*s)) {
		size_t word = 0;

		while (isalpha((unsigned char)s[word]))
			word++;
		for (unsigned i = 0; word == 3 && f->names[i] != NULL; i++) {
			if (strncasecmp(s, f->names[i], 3) == 0) {
				*v = f->min + i;
				*p = s + 3;
				return 0;
			}
		}
		/* Vixie cron's names are exactly three letters: "monday" is not
		 * one. */
		snprintf(err, errlen, "%s: unknown name \"%.*s\" (expected %s, or %u-%u)", f->what,
			 (int)(word > 20 ? 20 : word), s,
			 f->names == months ? MONTH_NAMES : WEEKDAY_NAMES, f->min, f->max);
		return -EINVAL;
	}
	while (*s >= '0' && *s <= '9') {
		if (n > 1000) {
			snprintf(err, errlen, "%s: number too large", f->what);
			return -EINVAL;
		}
		n = n * 10 + (unsigned)(*s - '0');
		s++, digits++;
	}
	if (digits == 0) {
		snprintf(err, errlen, "%s: expected a number%s", f->what,
			 f->names != NULL ? " or a name" : "");
		return -EINVAL;
	}
	if (n < f->min || n > f->max) {
		snprintf(err, errlen, "%s: %u is out of range %u-%u", f->what, n, f->min, f->max);
		return -EINVAL;
	}
	*v = n;
	*p = s;
	return 0;
}

/* One comma-separated item: "*", "?", "N", "N-M", each with optional "/STEP". */
static int cron_item(const struct cron_field *f, const char *s, const char *end, char *err,
		     size_t errlen)
{
	unsigned lo = f->min, hi = f->max, step;
	int r;

	if (s == end) {
		snprintf(err, errlen, "%s: empty list item", f->what);
		return -EINVAL;
	}
	if (*s == '*' || (*s == '?' && f->question)) {
		s++;
	} else {
		r = cron_value(f, &s, &lo, err, errlen);
		if (r < 0)
			return r;
		hi = lo;
		if (s < end && *s == '-') {
			s++;
			r = cron_value(f, &s, &hi, err, errlen);
			if (r < 0)
				return r;
			if (hi < lo) {
				snprintf(err, errlen, "%s: range %u-%u is backwards", f->what, lo,
					 hi);
				return -EINVAL;
			}
		} else if (s < end && *s == '/') {
			hi = f->max; /* "N/STEP" = from N to the end */
		}
	}
	if (s < end && *s == '/') {
		const struct cron_field num = {f->what, 1, f->max - f->min + 1, NULL, false};

		s++;
		r = cron_value(&num, &s, &step, err, errlen);
		if (r < 0) {
			snprintf(err, errlen, "%s: step must be a number from 1 to %u", f->what,
				 num.max);
			return r;
		}
	}
	if (s != end) {
		snprintf(err, errlen, "%s: unexpected \"%c\"", f->what, *s);
		return -EINVAL;
	}
	return 0;
}

static int cron_field_check(const struct cron_field *f, const char *s, const char *end, char *err,
			    size_t errlen)
{
	while (true) {
		const char *comma = memchr(s, ',', (size_t)(end - s));
		const char *item_end = comma != NULL ? comma : end;
		int r = cron_item(f, s, item_end, err, errlen);

		if (r < 0)
			return r;
		if (comma == NULL)
			return 0;
		s = comma + 1;
	}
}

int cron_validate(const char *expr, char *err, size_t errlen)
{
	const char *s = expr;
	int n = 0, r;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '@') {
		size_t len = strcspn(s, " \t");

		for (int i = 0; macros[i] != NULL; i++) {
			if (strlen(macros[i]) == len && strncmp(s, macros[i], len) == 0 &&
			    s[len + strspn(s + len, " \t")] == '\0')
				return 0;
		}
		snprintf(err, errlen,
			 "unknown macro (expected @yearly, @annually, @monthly, "
			 "@weekly, @daily, @midnight or @hourly)");
		return -EINVAL;
	}
	while (*s != '\0') {
		const char *end = s + strcspn(s, " \t");

		if (n == 5) {
			snprintf(err, errlen,
				 "expected 5 fields (minute hour day-of-month month "
				 "day-of-week), found more");
			return -EINVAL;
		}
		r = cron_field_check(&fields[n], s, end, err, errlen);
		if (r < 0)
			return r;
		n++;
		s = end + strspn(end, " \t");
	}
	if (n != 5) {
		snprintf(err, errlen,
			 "expected 5 fields (minute hour day-of-month month day-of-week), found %d",
			 n);
		return -EINVAL;
	}
	return 0;
}

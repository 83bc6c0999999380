#include "cron.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "duration.h"
#include "xio.h"

#define SEARCH_YEARS 8 /* 29 February in a year divisible by 100 can be 8 years away */

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

enum { F_SEC, F_MIN, F_HOUR, F_DOM, F_MON, F_DOW, F_COUNT };

static const struct cron_field fields[F_COUNT] = {
    [F_SEC] = {"second", 0, 59, NULL, false},  [F_MIN] = {"minute", 0, 59, NULL, false},
    [F_HOUR] = {"hour", 0, 23, NULL, false},   [F_DOM] = {"day of month", 1, 31, NULL, true},
    [F_MON] = {"month", 1, 12, months, false}, [F_DOW] = {"day of week", 0, 7, weekdays, true},
};

struct macro {
	const char *name, *fields;
};

static const struct macro macros[] = {
    {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},	  {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
};

/* A number or (where the field has them) a name; advances *p. Numbers are
 * parsed digit by digit with a bound, so "99999999999" cannot wrap. */
static int cron_value(const struct cron_field *f, const char **p, unsigned *v, struct err *err)
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
		return err_set(err, -EINVAL, "%s: unknown name \"%.*s\" (expected %s, or %u-%u)",
			       f->what, (int)(word > 20 ? 20 : word), s,
			       f->names == months ? MONTH_NAMES : WEEKDAY_NAMES, f->min, f->max);
	}
	while (*s >= '0' && *s <= '9') {
		if (n > 1000)
			return err_set(err, -EINVAL, "%s: number too large", f->what);
		n = n * 10 + (unsigned)(*s - '0');
		s++, digits++;
	}
	if (digits == 0)
		return err_set(err, -EINVAL, "%s: expected a number%s", f->what,
			       f->names != NULL ? " or a name" : "");
	if (n < f->min || n > f->max)
		return err_set(err, -EINVAL, "%s: %u is out of range %u-%u", f->what, n, f->min,
			       f->max);
	*v = n;
	*p = s;
	return 0;
}

/* One comma-separated item: "*", "?", "N", "N-M", each with optional
 * "/STEP" ("N/STEP" runs from N to the field's end); its values are added
 * to *bits. */
static int cron_item(const struct cron_field *f, const char *s, const char *end, uint64_t *bits,
		     struct err *err)
{
	unsigned lo = f->min, hi = f->max, step = 1;
	int r;

	if (s == end)
		return err_set(err, -EINVAL, "%s: empty list item", f->what);
	if (*s == '*' || (*s == '?' && f->question)) {
		s++;
	} else {
		r = cron_value(f, &s, &lo, err);
		if (r < 0)
			return r;
		hi = lo;
		if (s < end && *s == '-') {
			s++;
			r = cron_value(f, &s, &hi, err);
			if (r < 0)
				return r;
			if (hi < lo)
				return err_set(err, -EINVAL, "%s: range %u-%u is backwards",
					       f->what, lo, hi);
		} else if (s < end && *s == '/') {
			hi = f->max;
		}
	}
	if (s < end && *s == '/') {
		const struct cron_field num = {f->what, 1, f->max - f->min + 1, NULL, false};

		s++;
		r = cron_value(&num, &s, &step, err);
		if (r < 0)
			return err_set(err, r, "%s: step must be a number from 1 to %u", f->what,
				       num.max);
	}
	if (s != end)
		return err_set(err, -EINVAL, "%s: unexpected \"%c\"", f->what, *s);
	for (unsigned v = lo; v <= hi; v += step)
		*bits |= 1ULL << v;
	return 0;
}

static int cron_field_parse(const struct cron_field *f, const char *s, const char *end,
			    uint64_t *bits, struct err *err)
{
	*bits = 0;
	while (true) {
		const char *comma = memchr(s, ',', (size_t)(end - s));
		const char *item_end = comma != NULL ? comma : end;
		int r = cron_item(f, s, item_end, bits, err);

		if (r < 0)
			return r;
		if (comma == NULL)
			return 0;
		s = comma + 1;
	}
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
	static const unsigned char dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

/* With the day-of-week field unrestricted only the day of month counts:
 * "0 0 31 4 *" or "0 0 30 2 *" would never fire. */
static bool days_can_meet(const struct cron_sched *s)
{
	if (s->dom_star || !s->dow_star)
		return true;
	for (unsigned m = 1; m <= 12; m++)
		for (unsigned d = 1; d <= days_in_month(2000, m); d++)
			if ((s->mon >> m & 1) && (s->dom >> d & 1))
				return true;
	return false;
}

static int parse_every(const char *arg, struct cron_sched *out, struct err *err)
{
	uint64_t ms;
	char buf[64];
	size_t len = strcspn(arg, " \t");

	if (len == 0 || len >= sizeof(buf) || arg[len + strspn(arg + len, " \t")] != '\0')
		return err_set(err, -EINVAL,
			       "@every needs one duration (e.g. @every 90s, @every 1h30m)");
	memcpy(buf, arg, len);
	buf[len] = '\0';
	if (duration_parse(buf, &ms) < 0)
		return err_set(err, -EINVAL,
			       "@every: invalid duration \"%s\" (e.g. 90s, 5m, 1h30m)", buf);
	if (ms < 1000)
		return err_set(err, -EINVAL, "@every: the interval must be at least 1s, found %s",
			       buf);
	out->every_s = ms / 1000;
	return 0;
}

static int parse_fields(const char *s, struct cron_sched *out, struct err *err)
{
	const char *start[F_COUNT + 1], *end[F_COUNT + 1];
	uint64_t bits[F_COUNT];
	int n = 0, first, r;

	while (*s != '\0') {
		if (n == F_COUNT) {
			n++;
			break;
		}
		start[n] = s;
		end[n] = s + strcspn(s, " \t");
		s = end[n] + strspn(end[n], " \t");
		n++;
	}
	if (n != 5 && n != 6)
		return err_set(
		    err, -EINVAL,
		    "expected 5 fields (minute hour day-of-month month day-of-week), or 6 "
		    "with seconds first, found %s%d",
		    n > F_COUNT ? "more than " : "", n > F_COUNT ? F_COUNT : n);
	out->seconds = n == 6;
	first = n == 6 ? F_SEC : F_MIN;
	bits[F_SEC] = 1; /* five fields: at second 0 */
	for (int i = 0; i < n; i++) {
		r = cron_field_parse(&fields[first + i], start[i], end[i], &bits[first + i], err);
		if (r < 0)
			return r;
	}
	if (bits[F_DOW] >> 7 & 1)
		bits[F_DOW] = (bits[F_DOW] | 1) & 0x7f; /* 7 is Sunday too */
	out->sec = bits[F_SEC];
	out->min = bits[F_MIN];
	out->hour = (uint32_t)bits[F_HOUR];
	out->dom = (uint32_t)bits[F_DOM];
	out->mon = (uint16_t)bits[F_MON];
	out->dow = (uint8_t)bits[F_DOW];
	/* Vixie cron's rule: a day field that starts with '*' is unrestricted
	 * ("*" and "* / 2" alike); when neither is, either may match. */
	out->dom_star = *start[F_DOM - first] == '*' || *start[F_DOM - first] == '?';
	out->dow_star = *start[F_DOW - first] == '*' || *start[F_DOW - first] == '?';
	if (!days_can_meet(out))
		return err_set(err, -EINVAL,
			       "day of month and month never meet: the schedule never fires");
	return 0;
}

int cron_parse(const char *expr, struct cron_sched *out, struct err *err)
{
	const char *s = expr + strspn(expr, " \t");

	memset(out, 0, sizeof(*out));
	if (*s != '@')
		return parse_fields(s, out, err);
	size_t len = strcspn(s, " \t");
	if (len == 6 && strncmp(s, "@every", 6) == 0)
		return parse_every(s + len + strspn(s + len, " \t"), out, err);
	for (size_t i = 0; i < sizeof(macros) / sizeof(macros[0]); i++) {
		if (strlen(macros[i].name) == len && strncmp(s, macros[i].name, len) == 0 &&
		    s[len + strspn(s + len, " \t")] == '\0')
			return parse_fields(macros[i].fields, out, err);
	}
	return err_set(err, -EINVAL,
		       "unknown macro (expected @yearly, @annually, @monthly, @weekly, @daily, "
		       "@midnight, @hourly or @every DURATION)");
}

int cron_validate(const char *expr, struct err *err)
{
	struct cron_sched s;

	return cron_parse(expr, &s, err);
}

const char *cron_extension(const struct cron_sched *s)
{
	if (s->every_s > 0)
		return "@every";
	return s->seconds ? "a seconds field" : NULL;
}

/* ------------------------------------------------------------ next time */

/* Days since 1970-01-01 of a proleptic Gregorian date, and back
 * (Howard Hinnant's civil-date algorithms). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;

	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static bool day_matches(const struct cron_sched *s, unsigned dom, unsigned wday)
{
	bool dom_ok = s->dom >> dom & 1, dow_ok = s->dow >> wday & 1;

	if (s->dom_star || s->dow_star)
		return dom_ok && dow_ok;
	return dom_ok || dow_ok;
}

/* The first wall-clock time after n that matches, as seconds since the
 * epoch of a zone-less calendar; -1 when none within SEARCH_YEARS. */
static int64_t next_civil(const struct cron_sched *s, int64_t n)
{
	int64_t t = s->seconds ? n + 1 : (floor_div(n, 60) + 1) * 60;
	int64_t limit = t + (int64_t)SEARCH_YEARS * 366 * 86400;

	while (t < limit) {
		int64_t days = floor_div(t, 86400), y;
		unsigned sod = (unsigned)(t - days * 86400), m, d;
		unsigned wday = (unsigned)((days % 7 + 11) % 7); /* 1970-01-01: Thursday */
		unsigned h = sod / 3600, mi = sod / 60 % 60;

		civil_from_days(days, &y, &m, &d);
		if (!(s->mon >> m & 1))
			t = days_from_civil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) * 86400;
		else if (!day_matches(s, d, wday))
			t = (days + 1) * 86400;
		else if (!(s->hour >> h & 1))
			t = days * 86400 + (h + 1) * 3600;
		else if (!(s->min >> mi & 1))
			t = days * 86400 + h * 3600 + (mi + 1) * 60;
		else if (!(s->sec >> (sod % 60) & 1))
			t++;
		else
			return t;
	}
	return -1;
}

static long utc_offset(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (localtime_r(&tt, &tm) == NULL)
		return 0;
	return tm.tm_gmtoff;
}

/* The first instant in (lo, hi] whose offset differs from lo's: where a
 * gap ends. */
static int64_t transition_after(int64_t lo, int64_t hi)
{
	long before = utc_offset(lo);

	while (hi - lo > 1) {
		int64_t mid = lo + (hi - lo) / 2;

		if (utc_offset(mid) == before)
			lo = mid;
		else
			hi = mid;
	}
	return hi;
}

int64_t cron_next(const struct cron_sched *s, int64_t anchor, int64_t after)
{
	int64_t n;

	if (s->every_s > 0) {
		int64_t every = (int64_t)s->every_s;

		if (after < anchor)
			return anchor + every;
		return anchor + ((after - anchor) / every + 1) * every;
	}
	n = after + utc_offset(after);
	/* Each turn moves n forward; a turn is a handful of localtime_r calls. */
	for (int turn = 0; turn < 100000; turn++) {
		int64_t civil = next_civil(s, n), u;
		long early, late;
		bool early_ok, late_ok;

		if (civil < 0)
			return -1;
		/* The offsets in force a day before and a day after: the local
		 * time exists at civil - early and/or at civil - late. */
		early = utc_offset(civil - 86400);
		late = utc_offset(civil + 86400);
		early_ok = utc_offset(civil - early) == early;
		late_ok = utc_offset(civil - late) == late;
		if (early_ok || late_ok) {
			/* Occurs twice (fall back): its first occurrence only. */
			if (early_ok && late_ok)
				u = civil - (early > late ? early : late);
			else
				u = early_ok ? civil - early : civil - late;
		} else {
			/* In a gap (spring forward): the first instant after it. */
			int64_t a = civil - early, b = civil - late;
			u = transition_after(a < b ? a : b, a < b ? b : a);
		}
		if (u > after)
			return u;
		n = civil;
	}
	return -1;
}

/* ------------------------------------------------------------ zones */

/* Only a regular file: a FIFO planted as a zone file would block the open
 * or the read (and libc's own read of it later), with jobshim's signals
 * blocked. */
static bool is_tzif(const char *path)
{
	char magic[4];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	bool ok;

	if (fd < 0)
		return false;
	ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	     xread(fd, magic, sizeof(magic)) == (ssize_t)sizeof(magic) &&
	     memcmp(magic, "TZif", 4) == 0;
	close(fd);
	return ok;
}

/* "CET-1CEST,M3.5.0", "<+03>-3", "EST5EDT", "UTC0": a name of at least
 * three letters (or <...>) followed by an offset. */
static bool is_posix_rule(const char *s)
{
	size_t n;

	if (*s == '<') {
		const char *close = strchr(s, '>');
		if (close == NULL)
			return false;
		s = close + 1;
	} else {
		for (n = 0; (s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= 'a' && s[n] <= 'z'); n++)
			;
		if (n < 3)
			return false;
		s += n;
	}
	if (*s == '+' || *s == '-')
		s++;
	return *s >= '0' && *s <= '9';
}

int cron_zone_check(const char *tz, struct err *err)
{
	struct stat st;
	char path[PATH_MAX];
	const char *s = tz;

	if (s == NULL || *s == '\0') {
		/* libc reads /etc/localtime itself: only a regular file (or none) */
		if (stat("/etc/localtime", &st) == 0 && !S_ISREG(st.st_mode))
			return err_set(
			    err, -EINVAL,
			    "/etc/localtime is not a zone file (not a regular file); set "
			    "TZ, or remove it for UTC");
		return 0;
	}
	if (*s == ':')
		s++;
	if (*s == '/') {
		if (is_tzif(s))
			return 0;
		return err_set(err, -ENOENT, "TZ: \"%s\" is not a zone file (looked for %s)", tz,
			       s);
	}
	if (is_posix_rule(s))
		return 0;
	if (strstr(s, "..") != NULL || strlen(s) > NAME_MAX)
		return err_set(err, -EINVAL, "TZ: \"%s\" is not a time zone name", tz);
	snprintf(path, sizeof(path), "%s/%s", CRON_ZONEINFO, s);
	if (is_tzif(path))
		return 0;
	return err_set(err, -ENOENT,
		       "TZ: unknown time zone \"%s\" (looked for the zone file %s; the image needs "
		       "the zone files of the tzdata package)",
		       tz, path);
}

void cron_zone_describe(const char *tz, char *buf, size_t cap)
{
	char target[PATH_MAX];
	const char *name;
	ssize_t n;

	if (tz != NULL && *tz != '\0') {
		snprintf(buf, cap, "%s", tz);
		return;
	}
	if (access("/etc/localtime", R_OK) < 0) {
		snprintf(buf, cap, "UTC");
		return;
	}
	n = readlink("/etc/localtime", target, sizeof(target) - 1);
	if (n > 0) {
		target[n] = '\0';
		name = strstr(target, "zoneinfo/");
		if (name != NULL) {
			snprintf(buf, cap, "/etc/localtime (%s)", name + strlen("zoneinfo/"));
			return;
		}
	}
	snprintf(buf, cap, "/etc/localtime");
}

void cron_format_local(int64_t t, bool with_seconds, char *buf, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (localtime_r(&tt, &tm) == NULL ||
	    strftime(buf, cap, with_seconds ? "%Y-%m-%d %H:%M:%S %Z" : "%Y-%m-%d %H:%M %Z", &tm) ==
		0)
		snprintf(buf, cap, "@%lld", (long long)t);
}

void cron_format_clock(int64_t t, bool with_seconds, char *buf, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (localtime_r(&tt, &tm) == NULL ||
	    strftime(buf, cap, with_seconds ? "%H:%M:%S" : "%H:%M", &tm) == 0)
		snprintf(buf, cap, "@%lld", (long long)t);
}

#include "sigspec.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "signame.h"

/* A decimal number in [0, max], nothing else around it. */
static int number(const char *s, size_t len, int max, int *out)
{
	int v = 0;

	if (len == 0 || len > 3)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	if (v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int sig_parse_n(const char *s, size_t len, bool allow_zero, int *sig)
{
	char name[16];

	if (len > 0 && s[0] >= '0' && s[0] <= '9') {
		if (number(s, len, SIGSPEC_MAX, sig) < 0 || (*sig == 0 && !allow_zero))
			return -EINVAL;
		return 0;
	}
	if (len >= 3 && strncasecmp(s, "SIG", 3) == 0)
		s += 3, len -= 3;
	if (len == 0 || len >= sizeof(name))
		return -EINVAL;
	memcpy(name, s, len);
	name[len] = '\0';
	for (int n = 1; n <= SIGSPEC_MAX; n++) {
		const char *known = signal_name(n);
		if (known != NULL && strcasecmp(known, name) == 0) {
			*sig = n;
			return 0;
		}
	}
	return -EINVAL;
}

int sig_parse(const char *s, bool allow_zero, int *sig)
{
	return sig_parse_n(s, strlen(s), allow_zero, sig);
}

void sig_rewrite_init(struct sig_rewrite *rw)
{
	memset(rw->to, -1, sizeof(rw->to));
}

int sig_rewrite_parse(const char *list, struct sig_rewrite *rw, struct err *err)
{
	const char *p = list;

	for (;;) {
		size_t len = strcspn(p, ",");
		const char *colon = memchr(p, ':', len);
		int from, to;

		if (colon == NULL || sig_parse_n(p, (size_t)(colon - p), false, &from) < 0 ||
		    sig_parse_n(colon + 1, len - (size_t)(colon - p) - 1, true, &to) < 0)
			return err_set(
			    err, -EINVAL,
			    "invalid rewrite \"%.*s\" (expected SIG:SIG, e.g. TERM:INT or "
			    "USR1:0 to drop it)",
			    (int)(len > 64 ? 64 : len), p);
		rw->to[from] = (int8_t)to;
		if (p[len] == '\0')
			return 0;
		p += len + 1;
	}
}

int sig_rewrite_apply(const struct sig_rewrite *rw, int sig)
{
	if (sig < 1 || sig > SIGSPEC_MAX || rw->to[sig] < 0)
		return sig;
	return rw->to[sig];
}

void exit_set_add(struct exit_set *set, int code)
{
	if (code >= 0 && code <= 255)
		set->bits[code / 32] |= 1u << (code % 32);
}

bool exit_set_has(const struct exit_set *set, int code)
{
	return code >= 0 && code <= 255 && (set->bits[code / 32] & (1u << (code % 32))) != 0;
}

int exit_set_parse(const char *list, struct exit_set *set, struct err *err)
{
	const char *p = list;
	size_t len;

	for (;;) {
		len = strcspn(p, ",");
		const char *dash = memchr(p, '-', len);
		int lo, hi;

		if (dash == NULL) {
			if (number(p, len, 255, &lo) < 0)
				goto invalid;
			hi = lo;
		} else if (number(p, (size_t)(dash - p), 255, &lo) < 0 ||
			   number(dash + 1, len - (size_t)(dash - p) - 1, 255, &hi) < 0 ||
			   lo > hi) {
			goto invalid;
		}
		for (int c = lo; c <= hi; c++)
			exit_set_add(set, c);
		if (p[len] == '\0')
			return 0;
		p += len + 1;
	}
invalid:
	return err_set(
	    err, -EINVAL,
	    "invalid exit code \"%.*s\" (expected 0-255 or a range, e.g. 143 or 128-159)",
	    (int)(len > 64 ? 64 : len), p);
}

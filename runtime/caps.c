#include "caps.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define BIT(c) (1ULL << (c))

/* Capabilities libcap and the kernel may know: bits 0..63 of our masks. */
static int cap_limit(void)
{
	int n = (int)cap_max_bits();
	return n > 64 ? 64 : n;
}

uint64_t caps_default_mask(void)
{
	return BIT(CAP_CHOWN) | BIT(CAP_DAC_OVERRIDE) | BIT(CAP_FOWNER) | BIT(CAP_FSETID) |
	       BIT(CAP_KILL) | BIT(CAP_SETGID) | BIT(CAP_SETUID) | BIT(CAP_SETPCAP) |
	       BIT(CAP_NET_BIND_SERVICE);
}

/* One name: "chown", "CAP_CHOWN", "Cap_Chown" → CAP_CHOWN. */
static int parse_one(const char *s, size_t len, int *out)
{
	char name[64] = "cap_";
	size_t off = 4;
	if (len >= 4 && strncasecmp(s, "cap_", 4) == 0) {
		s += 4;
		len -= 4;
	}
	if (len == 0 || len + off >= sizeof(name))
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		/* letters, digits and '_' only; no numbers (libcap takes "12") */
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return -EINVAL;
		name[off + i] = (char)tolower((unsigned char)s[i]);
	}
	name[off + len] = '\0';
	if (isdigit((unsigned char)name[4]))
		return -EINVAL;
	cap_value_t v;
	if (cap_from_name(name, &v) < 0 || v < 0 || v >= 64)
		return -EINVAL;
	*out = v;
	return 0;
}

int caps_parse(const char *s, uint64_t *keep, bool *explicit, struct err *err)
{
	*keep = 0;
	*explicit = false;
	if (!s || strcmp(s, "default") == 0) {
		*keep = caps_default_mask();
		return 0;
	}
	if (strcmp(s, "none") == 0)
		return 0;
	if (!*s)
		return err_set(err, -EINVAL, "empty capability list (use \"none\")");
	for (const char *p = s;;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		int c;
		if (len == 0)
			return err_set(err, -EINVAL, "empty capability name in \"%s\"", s);
		if (parse_one(p, len, &c) < 0)
			return err_set(err, -EINVAL, "unknown capability \"%.*s\"", (int)len, p);
		*keep |= BIT(c);
		if (!end)
			break;
		p = end + 1;
	}
	*explicit = true;
	return 0;
}

/* Appends s to buf (upper-cased), counting what does not fit. */
static void append_upper(char *buf, size_t cap, size_t *n, const char *s)
{
	for (; *s; s++, (*n)++) {
		if (*n + 1 < cap) {
			buf[*n] = (char)toupper((unsigned char)*s);
			buf[*n + 1] = '\0';
		}
	}
}

size_t caps_format(uint64_t set, char *buf, size_t cap)
{
	size_t n = 0;
	if (cap)
		buf[0] = '\0';
	if (!set)
		return (size_t)snprintf(buf, cap, "none");
	for (int c = 0; c < 64; c++) {
		if (!(set & BIT(c)))
			continue;
		char *name = cap_to_name(c);
		const char *shown = name ? name : "?";
		if (strncasecmp(shown, "cap_", 4) == 0)
			shown += 4;
		if (n)
			append_upper(buf, cap, &n, ",");
		append_upper(buf, cap, &n, shown);
		cap_free(name);
	}
	return n;
}

static uint64_t mask_of(cap_t c, cap_flag_t flag)
{
	uint64_t m = 0;
	int last = cap_limit();
	for (int i = 0; i < last; i++) {
		cap_flag_value_t v = CAP_CLEAR;
		if (cap_get_flag(c, i, flag, &v) == 0 && v == CAP_SET)
			m |= BIT(i);
	}
	return m;
}

int caps_current(uint64_t *bounding, uint64_t *permitted, uint64_t *effective)
{
	cap_t c = cap_get_proc();
	if (!c)
		return -errno;
	*permitted = mask_of(c, CAP_PERMITTED);
	*effective = mask_of(c, CAP_EFFECTIVE);
	cap_free(c);
	if (bounding == NULL)
		return 0; /* one prctl a capability: skipped when not needed */
	*bounding = 0;
	int last = cap_limit();
	for (int i = 0; i < last; i++)
		if (cap_get_bound(i) == 1)
			*bounding |= BIT(i);
	return 0;
}

void caps_plan_make(uint64_t keep, bool nonroot, bool explicit, const struct caps_now *now,
		    struct caps_plan *p)
{
	uint64_t drop = now->bounding & ~keep;
	/* Capabilities the container lacks are skipped, not errors. */
	uint64_t want = (!nonroot || explicit) ? keep & now->permitted : 0;
	bool ambient = nonroot && explicit;

	memset(p, 0, sizeof(*p));
	if (!(now->effective & BIT(CAP_SETPCAP)) && !now->permitted)
		drop = 0;
	for (int i = 0; i < 64; i++) {
		if (drop & BIT(i))
			p->drop[p->ndrop++] = (uint8_t)i;
		if (ambient && (want & BIT(i)))
			p->raise[p->nraise++] = (uint8_t)i;
	}
	p->keepcaps = ambient && want != 0;
	p->ambient_kernel = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, 0, 0, 0) >= 0;
	for (int w = 0; w < 2; w++) {
		uint32_t m = (uint32_t)(want >> (32 * w));
		p->data[w].effective = m;
		p->data[w].permitted = m;
		p->data[w].inheritable = ambient ? m : 0;
	}
}

/* The child's half: raw system calls only (no libcap, which allocates). */

int caps_child_drop_bounding(const struct caps_plan *p)
{
	for (unsigned i = 0; i < p->ndrop; i++)
		if (syscall(SYS_prctl, PR_CAPBSET_DROP, (long)p->drop[i], 0L, 0L, 0L) < 0)
			return -errno;
	return 0;
}

int caps_child_keepcaps(const struct caps_plan *p)
{
	if (p->keepcaps && syscall(SYS_prctl, PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) < 0)
		return -errno;
	return 0;
}

int caps_child_set(const struct caps_plan *p)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};

	/* Ambient first: lowering the sets below would clear it anyway, but a
	 * stale ambient set must never reach the job. */
	if (p->ambient_kernel &&
	    syscall(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0L, 0L, 0L) < 0)
		return -errno;
	if (syscall(SYS_capset, &h, p->data) < 0)
		return -errno;
	/* A non-root job keeps capabilities across execve only as ambient
	 * ones (permitted and inheritable are needed to raise them). */
	for (unsigned i = 0; i < p->nraise; i++)
		if (syscall(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, (long)p->raise[i], 0L,
			    0L) < 0)
			return -errno;
	return 0;
}

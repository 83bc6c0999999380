#include "namelist.h"

#include <stdio.h>
#include <string.h>

/* ", and 18446744073709551615 more": what the end may need. */
#define MORE_MAX sizeof(", and 18446744073709551615 more")

void namelist_init(struct namelist *l, char *buf, size_t cap)
{
	l->buf = buf;
	l->cap = cap;
	l->len = 0;
	l->more = 0;
	if (cap > 0)
		buf[0] = '\0';
}

void namelist_add(struct namelist *l, const char *name)
{
	size_t sep = l->len > 0 ? 2 : 0, n = strlen(name);

	/* Once one name is left out, so are the later ones: the list keeps
	 * its order. */
	if (l->more > 0 || l->len + sep + n + MORE_MAX > l->cap) {
		l->more++;
		return;
	}
	memcpy(l->buf + l->len, ", ", sep);
	memcpy(l->buf + l->len + sep, name, n + 1);
	l->len += sep + n;
}

const char *namelist_end(struct namelist *l)
{
	if (l->more > 0 && l->cap > l->len)
		snprintf(l->buf + l->len, l->cap - l->len, "%s%zu more", l->len > 0 ? ", and " : "",
			 l->more);
	return l->buf;
}

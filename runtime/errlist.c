#include "errlist.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void errlist_add(struct errlist *e, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	if (e->n >= ERRLIST_MAX) {
		e->dropped++;
		return;
	}
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s == NULL) {
		e->dropped++;
		return;
	}
	e->msg[e->n++] = s;
}

void errlist_free(struct errlist *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->msg[i]);
	e->n = 0;
	e->dropped = 0;
}

#include "err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void err_vformat(struct err *e, int code, const char *fmt, va_list ap)
{
	e->code = code;
	if (vsnprintf(e->msg, sizeof(e->msg), fmt, ap) < 0)
		e->msg[0] = '\0';
}

int err_set(struct err *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return code;
	va_start(ap, fmt);
	err_vformat(e, code, fmt, ap);
	va_end(ap);
	return code;
}

int err_prefix(struct err *e, const char *fmt, ...)
{
	char old[ERR_MSG_MAX], pre[ERR_MSG_MAX];
	va_list ap;

	if (e == NULL)
		return 0;
	memcpy(old, e->msg, sizeof(old));
	va_start(ap, fmt);
	if (vsnprintf(pre, sizeof(pre), fmt, ap) < 0)
		pre[0] = '\0';
	va_end(ap);
	return err_set(e, e->code, "%s: %s", pre, old);
}

void err_clear(struct err *e)
{
	if (e == NULL)
		return;
	e->code = 0;
	e->msg[0] = '\0';
}

void errlist_add(struct errlist *l, const char *fmt, ...)
{
	va_list ap;

	if (l->n >= ERRLIST_MAX) {
		l->dropped++;
		return;
	}
	va_start(ap, fmt);
	err_vformat(&l->item[l->n++], -EINVAL, fmt, ap);
	va_end(ap);
}

void errlist_push(struct errlist *l, const struct err *e)
{
	if (l->n >= ERRLIST_MAX) {
		l->dropped++;
		return;
	}
	l->item[l->n++] = *e;
}

void errlist_clear(struct errlist *l)
{
	l->n = 0;
	l->dropped = 0;
}

/* The one error convention of runtime/ (skalibs' single vocabulary, crun's
 * silent library): a function returns 0 (or a count, an fd) on success and
 * -errno on failure; when the caller needs words for it, the function takes
 * a `struct err *` and fills it, in the same return:
 *
 *	return err_set(e, -ENOENT, "unable to open %s: %s", path, strerror(errno));
 *
 * The message has no "jobshim: " and no newline: shim/ and log.c add them.
 * A fixed buffer, no allocation: usable before fork and in the event loop.
 *
 * Validation that reports every error (config, `check`) collects them in a
 * `struct errlist`: a bounded list of the same `struct err`.
 *
 * The one exception is a forked child (sandbox_child_*, spawn's result): it
 * may not format, so it reports the failed step as a `const char *` string
 * literal plus the errno, and the parent words it. */
#ifndef JOBSHIM_ERR_H
#define JOBSHIM_ERR_H

#include <stddef.h>

#define ERR_MSG_MAX 1024 /* longer messages are cut (still NUL-terminated) */

struct err {
	int code;	       /* -errno; 0 while nothing failed */
	char msg[ERR_MSG_MAX]; /* what failed, "" while nothing did */
};

/* Sets e (NULL: only the code counts) and returns code. */
int err_set(struct err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* "PREFIX: <e's message>" (e.g. "caps: ..."); returns e->code. */
int err_prefix(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Nothing failed (yet); e may be NULL. */
void err_clear(struct err *e);

#define ERRLIST_MAX 64 /* further errors are counted, not stored */

struct errlist {
	struct err item[ERRLIST_MAX];
	size_t n;	/* stored */
	size_t dropped; /* beyond ERRLIST_MAX */
};

/* Appends a printf-formatted message with code -EINVAL; never fails. */
void errlist_add(struct errlist *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends a copy of e. */
void errlist_push(struct errlist *l, const struct err *e);
/* Empty (again): nothing to free, the storage is the struct's own. Start a
 * list with it rather than `= {0}`, which would write all 64 KiB and fault
 * that much stack into jobshim's resident memory for nothing. */
void errlist_clear(struct errlist *l);

#endif

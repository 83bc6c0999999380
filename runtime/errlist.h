/* A list of formatted error messages: validation reports all of them. */
#ifndef JOBSHIM_ERRLIST_H
#define JOBSHIM_ERRLIST_H

#include <stddef.h>

#define ERRLIST_MAX 64 /* further errors are counted, not stored */

/* Owns msg[0..n): errlist_free. Zero-initialised before the first add. */
struct errlist {
	char *msg[ERRLIST_MAX];
	size_t n;	/* stored */
	size_t dropped; /* beyond ERRLIST_MAX */
};

/* Appends a printf-formatted message; never fails (drops on ENOMEM). */
void errlist_add(struct errlist *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void errlist_free(struct errlist *e);

#endif

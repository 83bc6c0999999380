/* A small JSON writer over a FILE *: it writes the commas and tracks the
 * nesting, escapes strings with log.h's json_escape (control characters,
 * '"' and '\\' escaped, invalid UTF-8 replaced by U+FFFD), and keeps the
 * first error so that the caller checks once, at the end. */
#ifndef JOBSHIM_JSONW_H
#define JOBSHIM_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JW_DEPTH_MAX 16

struct jw {
	FILE *f;	/* not owned */
	int err;	/* the first error: -errno (-EIO, -ENOMEM, -EINVAL misuse) */
	unsigned depth; /* open objects and arrays */
	bool
	    has_items[JW_DEPTH_MAX]; /* the level has a member or element: next one needs a comma */
	bool after_key;		     /* a key was written: its value follows, no comma */
};

void jw_init(struct jw *w, FILE *f);
void jw_obj_begin(struct jw *w);
void jw_obj_end(struct jw *w);
void jw_arr_begin(struct jw *w);
void jw_arr_end(struct jw *w);
/* A member's name; its value is the next call. */
void jw_key(struct jw *w, const char *key);
void jw_str(struct jw *w, const char *s); /* NULL writes null */
void jw_strn(struct jw *w, const char *s, size_t len);
void jw_int(struct jw *w, int64_t v);
void jw_uint(struct jw *w, uint64_t v);
void jw_bool(struct jw *w, bool v);
void jw_null(struct jw *w);
/* Ends the document with a newline and flushes. Returns 0, or the first
 * error: -EINVAL when objects or arrays are left open, else -errno of the
 * failed write. */
int jw_finish(struct jw *w);

/* Flushes a finished report, JSON or text: 0, or -errno of a write that
 * failed (-EIO when only the stream's error flag says so). The one place
 * where check, stats and the control commands learn that their output was
 * lost (stdout closed, /dev/full). */
int out_flush(FILE *f);

#endif

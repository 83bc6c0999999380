#include "jsonw.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

void jw_init(struct jw *w, FILE *f)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
}

static void put(struct jw *w, const char *s, size_t len)
{
	if (w->err == 0 && len > 0 && fwrite(s, 1, len, w->f) != len)
		w->err = errno != 0 ? -errno : -EIO;
}

static void puts_(struct jw *w, const char *s)
{
	put(w, s, strlen(s));
}

/* Before any value or key: the comma that separates it from the previous
 * one, unless it is a member's value. */
static void sep(struct jw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->depth > 0) {
		if (w->has_items[w->depth - 1])
			put(w, ",", 1);
		w->has_items[w->depth - 1] = true;
	}
}

static void open_(struct jw *w, const char *c)
{
	sep(w);
	if (w->depth >= JW_DEPTH_MAX) {
		if (w->err == 0)
			w->err = -EINVAL;
		return;
	}
	puts_(w, c);
	w->has_items[w->depth++] = false;
}

static void close_(struct jw *w, const char *c)
{
	if (w->depth == 0 || w->after_key) {
		if (w->err == 0)
			w->err = -EINVAL;
		return;
	}
	w->depth--;
	puts_(w, c);
}

void jw_obj_begin(struct jw *w)
{
	open_(w, "{");
}

void jw_obj_end(struct jw *w)
{
	close_(w, "}");
}

void jw_arr_begin(struct jw *w)
{
	open_(w, "[");
}

void jw_arr_end(struct jw *w)
{
	close_(w, "]");
}

static void quoted(struct jw *w, const char *s, size_t len)
{
	char small[512], *buf = small;
	size_t need = json_escape(NULL, 0, s, len);

	if (need + 1 > sizeof(small)) {
		buf = malloc(need + 1);
		if (buf == NULL) {
			if (w->err == 0)
				w->err = -ENOMEM;
			return;
		}
	}
	json_escape(buf, need + 1, s, len);
	put(w, "\"", 1);
	put(w, buf, need);
	put(w, "\"", 1);
	if (buf != small)
		free(buf);
}

void jw_key(struct jw *w, const char *key)
{
	sep(w);
	quoted(w, key, strlen(key));
	put(w, ":", 1);
	w->after_key = true;
}

void jw_strn(struct jw *w, const char *s, size_t len)
{
	sep(w);
	quoted(w, s, len);
}

void jw_str(struct jw *w, const char *s)
{
	if (s == NULL)
		jw_null(w);
	else
		jw_strn(w, s, strlen(s));
}

void jw_int(struct jw *w, int64_t v)
{
	char buf[24];

	sep(w);
	put(w, buf, (size_t)snprintf(buf, sizeof(buf), "%" PRId64, v));
}

void jw_uint(struct jw *w, uint64_t v)
{
	char buf[24];

	sep(w);
	put(w, buf, (size_t)snprintf(buf, sizeof(buf), "%" PRIu64, v));
}

void jw_bool(struct jw *w, bool v)
{
	sep(w);
	puts_(w, v ? "true" : "false");
}

void jw_null(struct jw *w)
{
	sep(w);
	puts_(w, "null");
}

int jw_finish(struct jw *w)
{
	if (w->err == 0 && (w->depth > 0 || w->after_key))
		w->err = -EINVAL;
	put(w, "\n", 1);
	int r = out_flush(w->f);
	if (w->err == 0)
		w->err = r;
	return w->err;
}

int out_flush(FILE *f)
{
	if (fflush(f) != 0)
		return errno != 0 ? -errno : -EIO;
	return ferror(f) ? -EIO : 0;
}

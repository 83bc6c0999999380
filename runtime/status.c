#include "status.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "procstat.h"
#include "xio.h"

#define STATUS_TEXT_MAX 65536  /* STATUS_JOBS_MAX jobs, fully escaped, fit */
#define STATUS_READ_MAX 131072 /* a larger file is not ours */
#define JSON_DEPTH_MAX	32

/* ------------------------------------------------------------ writing */

const char *run_state_name(enum run_state s)
{
	switch (s) {
	case RS_RUNNING:
		return "running";
	case RS_WAITING:
		return "waiting";
	case RS_TERMINATING:
		return "terminating";
	case RS_EXITED:
		return "exited";
	case RS_SUCCEEDED:
		return "succeeded";
	case RS_FAILED:
		return "failed";
	}
	return "running";
}

/* An output buffer that remembers running out of room. */
struct outbuf {
	char *buf;
	size_t cap, len;
	int overflow;
};

__attribute__((format(printf, 2, 3))) static void ob_printf(struct outbuf *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len) {
		o->overflow = 1;
		return;
	}
	o->len += (size_t)n;
}

/* A quoted JSON string of the NUL-terminated prefix of a fixed char array. */
static void ob_json_str(struct outbuf *o, const char *s, size_t maxlen)
{
	size_t need;

	if (o->overflow || o->cap - o->len < 3) {
		o->overflow = 1;
		return;
	}
	o->buf[o->len++] = '"';
	need = json_escape(o->buf + o->len, o->cap - o->len, s, strnlen(s, maxlen));
	if (need + 2 > o->cap - o->len) {
		o->overflow = 1;
		return;
	}
	o->len += need;
	o->buf[o->len++] = '"';
	o->buf[o->len] = '\0';
}

int status_format(char *buf, size_t cap, const struct status_doc *d)
{
	struct outbuf o = {buf, cap, 0, cap == 0};
	size_t n = d->n_jobs < STATUS_JOBS_MAX ? d->n_jobs : STATUS_JOBS_MAX;

	ob_printf(&o,
		  "{\"jobshim_pid\":%d,\"jobshim_starttime\":%" PRIu64 ",\"written\":%" PRId64
		  ",\"ready_after_ms\":%" PRIu64 ",\"jobs\":[",
		  (int)d->jobshim_pid, d->jobshim_starttime, d->written_unix_ms, d->ready_after_ms);
	for (size_t i = 0; i < n; i++) {
		const struct job_status *j = &d->jobs[i];

		ob_printf(&o, "%s{\"name\":", i ? "," : "");
		ob_json_str(&o, j->name, sizeof(j->name));
		ob_printf(&o, ",\"kind\":");
		ob_json_str(&o, j->kind, sizeof(j->kind));
		ob_printf(&o, ",\"size\":");
		ob_json_str(&o, j->size, sizeof(j->size));
		ob_printf(&o,
			  ",\"state\":\"%s\",\"pid\":%d,\"restarts\":%u,\"last_exit_code\":%d,"
			  "\"last_oom\":%s,\"unstable\":%u,\"started\":%" PRId64
			  ",\"next_start\":%" PRId64,
			  run_state_name(j->state), (int)j->pid, j->restarts, j->last_exit_code,
			  j->last_oom ? "true" : "false", j->unstable, j->started_unix_ms,
			  j->next_start_unix_ms);
		if (j->attempts > 0) {
			ob_printf(
			    &o,
			    ",\"attempt\":%u,\"attempts\":%u,\"timed_out\":%d,\"next_run\":%" PRId64
			    ",\"next_local\":",
			    j->attempt, j->attempts, j->timed_out ? 1 : 0, j->next_run_unix_ms);
			ob_json_str(&o, j->next_local, sizeof(j->next_local));
		}
		ob_printf(&o, "}");
	}
	ob_printf(&o, "]}\n");
	if (o.overflow)
		return -ENOBUFS;
	return (int)o.len;
}

/* The start time of process pid (ticks after boot), or 0 when unknown. */
uint64_t process_starttime(pid_t pid)
{
	char path[64], line[1024];
	struct procstat_fields f;
	ssize_t len;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	len = read_file(path, line, sizeof(line));
	if (len <= 0 || procstat_parse_stat(line, (size_t)len, &f) < 0)
		return 0;
	return f.starttime;
}

/* This process's start time. The one mutable state of this file: the value
 * never changes while the pid stays, and status.json is written at every
 * change of a job, so /proc/self/stat is read once, again only after a
 * fork (a new pid). */
static uint64_t self_starttime(pid_t self)
{
	static uint64_t start;
	static pid_t start_pid;

	if (start_pid != self) {
		start = process_starttime(self);
		start_pid = self;
	}
	return start;
}

int status_write(const char *path, const struct status_doc *d)
{
	char buf[STATUS_TEXT_MAX];
	struct status_doc copy;
	int len;

	if (d->jobshim_starttime == 0 && d->jobshim_pid == getpid()) {
		copy = *d;
		copy.jobshim_starttime = self_starttime(d->jobshim_pid);
		d = &copy;
	}
	len = status_format(buf, sizeof(buf), d);

	if (len < 0)
		return len;
	return write_file_atomic(path, buf, (size_t)len);
}

int status_write_at(int dirfd, const struct status_doc *d)
{
	char buf[STATUS_TEXT_MAX];
	struct status_doc copy = *d;
	int len;

	if (copy.jobshim_starttime == 0 && copy.jobshim_pid == getpid())
		copy.jobshim_starttime = self_starttime(copy.jobshim_pid);
	len = status_format(buf, sizeof(buf), &copy);
	if (len < 0)
		return len;
	return run_dir_write_atomic(dirfd, STATUS_FILE, buf, (size_t)len);
}

/* ------------------------------------------------------------ reading */

/* A strict JSON reader over [p, end): enough for the status file, and able
 * to skip any value under a key it does not know. Every step checks end. */
struct jp {
	const char *p, *end;
	int depth;
};

static void jp_ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

/* The next significant byte (not consumed), or -1 at the end. */
static int jp_peek(struct jp *j)
{
	jp_ws(j);
	return j->p < j->end ? (unsigned char)*j->p : -1;
}

static int jp_expect(struct jp *j, char c)
{
	if (jp_peek(j) != (unsigned char)c)
		return -EINVAL;
	j->p++;
	return 0;
}

static int hex4(const char *p, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -EINVAL;
	}
	*out = v;
	return 0;
}

/* Appends byte c to out unless full; *len counts all bytes. */
static void put_byte(char *out, size_t cap, size_t *len, unsigned c)
{
	if (out != NULL && *len + 1 < cap)
		out[*len] = (char)c;
	(*len)++;
}

static void put_utf8(char *out, size_t cap, size_t *len, unsigned cp)
{
	if (cp < 0x80) {
		put_byte(out, cap, len, cp);
	} else if (cp < 0x800) {
		put_byte(out, cap, len, 0xc0 | (cp >> 6));
		put_byte(out, cap, len, 0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		put_byte(out, cap, len, 0xe0 | (cp >> 12));
		put_byte(out, cap, len, 0x80 | ((cp >> 6) & 0x3f));
		put_byte(out, cap, len, 0x80 | (cp & 0x3f));
	} else {
		put_byte(out, cap, len, 0xf0 | (cp >> 18));
		put_byte(out, cap, len, 0x80 | ((cp >> 12) & 0x3f));
		put_byte(out, cap, len, 0x80 | ((cp >> 6) & 0x3f));
		put_byte(out, cap, len, 0x80 | (cp & 0x3f));
	}
}

/* One \uXXXX escape (j->p just after the 'u'), a surrogate pair joined. */
static int jp_unicode(struct jp *j, unsigned *cp)
{
	unsigned lo;

	if (j->end - j->p < 4 || hex4(j->p, cp) < 0)
		return -EINVAL;
	j->p += 4;
	if (*cp >= 0xdc00 && *cp <= 0xdfff)
		return -EINVAL; /* a lone low surrogate */
	if (*cp >= 0xd800 && *cp <= 0xdbff) {
		if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u' ||
		    hex4(j->p + 2, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
			return -EINVAL;
		j->p += 6;
		*cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	/* NUL would silently cut the C string it lands in. */
	return *cp == 0 ? -EINVAL : 0;
}

/* A string, decoded into out (NULL: skipped). Returns the decoded length
 * (which is >= cap when it did not fit; out then holds a prefix) or -EINVAL. */
static ssize_t jp_string(struct jp *j, char *out, size_t cap)
{
	size_t len = 0;

	if (jp_expect(j, '"') < 0)
		return -EINVAL;
	for (;;) {
		unsigned c, cp;

		if (j->p >= j->end)
			return -EINVAL;
		c = (unsigned char)*j->p++;
		if (c == '"')
			break;
		if (c < 0x20)
			return -EINVAL;
		if (c != '\\') {
			put_byte(out, cap, &len, c);
			continue;
		}
		if (j->p >= j->end)
			return -EINVAL;
		c = (unsigned char)*j->p++;
		switch (c) {
		case '"':
		case '\\':
		case '/':
			put_byte(out, cap, &len, c);
			break;
		case 'b':
			put_byte(out, cap, &len, '\b');
			break;
		case 'f':
			put_byte(out, cap, &len, '\f');
			break;
		case 'n':
			put_byte(out, cap, &len, '\n');
			break;
		case 'r':
			put_byte(out, cap, &len, '\r');
			break;
		case 't':
			put_byte(out, cap, &len, '\t');
			break;
		case 'u':
			if (jp_unicode(j, &cp) < 0)
				return -EINVAL;
			put_utf8(out, cap, &len, cp);
			break;
		default:
			return -EINVAL;
		}
	}
	if (out != NULL && cap > 0)
		out[len < cap ? len : cap - 1] = '\0';
	return (ssize_t)len;
}

/* A string that must fit in cap (NUL included). */
static int jp_string_into(struct jp *j, char *out, size_t cap)
{
	ssize_t n = jp_string(j, out, cap);

	return n < 0 || (size_t)n >= cap ? -EINVAL : 0;
}

static int jp_digits(struct jp *j)
{
	const char *start = j->p;

	while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
		j->p++;
	return j->p > start ? 0 : -EINVAL;
}

/* Any JSON number (for skipping). */
static int jp_skip_number(struct jp *j)
{
	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p < j->end && *j->p == '0')
		j->p++;
	else if (jp_digits(j) < 0)
		return -EINVAL;
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (jp_digits(j) < 0)
			return -EINVAL;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (jp_digits(j) < 0)
			return -EINVAL;
	}
	return 0;
}

/* An integer within [min, max]: no fraction, no exponent, no leading zeros. */
static int jp_int(struct jp *j, int64_t min, int64_t max, int64_t *out)
{
	uint64_t v = 0, limit;
	int neg = 0;

	if (jp_peek(j) == '-') {
		neg = 1;
		j->p++;
	}
	limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	if (j->p >= j->end || *j->p < '0' || *j->p > '9')
		return -EINVAL;
	if (*j->p == '0' && j->end - j->p > 1 && j->p[1] >= '0' && j->p[1] <= '9')
		return -EINVAL;
	while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
		unsigned d = (unsigned)(*j->p++ - '0');
		if (v > (limit - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	if (j->p < j->end && (*j->p == '.' || *j->p == 'e' || *j->p == 'E'))
		return -EINVAL;
	if (neg)
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	else
		*out = (int64_t)v;
	return *out < min || *out > max ? -EINVAL : 0;
}

static int jp_literal(struct jp *j, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
		return -EINVAL;
	j->p += n;
	return 0;
}

static int jp_bool(struct jp *j, bool *out)
{
	*out = jp_peek(j) == 't';
	return jp_literal(j, *out ? "true" : "false");
}

static int jp_skip(struct jp *j);

static int jp_object_begin(struct jp *j)
{
	if (jp_expect(j, '{') < 0 || ++j->depth > JSON_DEPTH_MAX)
		return -EINVAL;
	return 0;
}

/* The next member of an object: 1 with its key in key (a key that does not
 * fit reads as "") and j->p at the value, 0 at the closing brace, or -EINVAL. */
static int jp_object_next(struct jp *j, int *first, char *key, size_t cap)
{
	ssize_t n;

	if (jp_peek(j) == '}') {
		j->p++;
		j->depth--;
		return 0;
	}
	if (!*first && jp_expect(j, ',') < 0)
		return -EINVAL;
	*first = 0;
	n = jp_string(j, key, cap);
	if (n < 0 || jp_expect(j, ':') < 0)
		return -EINVAL;
	if ((size_t)n >= cap)
		key[0] = '\0';
	return 1;
}

static int jp_array_begin(struct jp *j)
{
	if (jp_expect(j, '[') < 0 || ++j->depth > JSON_DEPTH_MAX)
		return -EINVAL;
	return 0;
}

/* 1 when another element follows (j->p at it), 0 at the closing bracket. */
static int jp_array_next(struct jp *j, int *first)
{
	if (jp_peek(j) == ']') {
		j->p++;
		j->depth--;
		return 0;
	}
	if (!*first && jp_expect(j, ',') < 0)
		return -EINVAL;
	*first = 0;
	return 1;
}

static int jp_skip(struct jp *j)
{
	int c = jp_peek(j), first = 1, r;
	char key[1];

	switch (c) {
	case '"':
		return jp_string(j, NULL, 0) < 0 ? -EINVAL : 0;
	case '{':
		if (jp_object_begin(j) < 0)
			return -EINVAL;
		while ((r = jp_object_next(j, &first, key, sizeof(key))) == 1)
			if (jp_skip(j) < 0)
				return -EINVAL;
		return r;
	case '[':
		if (jp_array_begin(j) < 0)
			return -EINVAL;
		while ((r = jp_array_next(j, &first)) == 1)
			if (jp_skip(j) < 0)
				return -EINVAL;
		return r;
	case 't':
		return jp_literal(j, "true");
	case 'f':
		return jp_literal(j, "false");
	case 'n':
		return jp_literal(j, "null");
	default:
		if (c == '-' || (c >= '0' && c <= '9'))
			return jp_skip_number(j);
		return -EINVAL;
	}
}

static int parse_state(const char *s, enum run_state *out)
{
	static const enum run_state all[] = {RS_RUNNING, RS_WAITING,   RS_TERMINATING,
					     RS_EXITED,	 RS_SUCCEEDED, RS_FAILED};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (strcmp(s, run_state_name(all[i])) == 0) {
			*out = all[i];
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_job(struct jp *j, struct job_status *js)
{
	int first = 1, r, have_name = 0, have_state = 0;
	char key[32], state[16];
	int64_t v;

	memset(js, 0, sizeof(*js));
	js->last_exit_code = -1;
	if (jp_object_begin(j) < 0)
		return -EINVAL;
	while ((r = jp_object_next(j, &first, key, sizeof(key))) == 1) {
		if (strcmp(key, "name") == 0) {
			r = jp_string_into(j, js->name, sizeof(js->name));
			have_name = 1;
		} else if (strcmp(key, "kind") == 0) {
			r = jp_string_into(j, js->kind, sizeof(js->kind));
		} else if (strcmp(key, "size") == 0) {
			r = jp_string_into(j, js->size, sizeof(js->size));
		} else if (strcmp(key, "state") == 0) {
			r = jp_string_into(j, state, sizeof(state));
			if (r == 0)
				r = parse_state(state, &js->state);
			have_state = 1;
		} else if (strcmp(key, "pid") == 0) {
			r = jp_int(j, 0, INT_MAX, &v);
			js->pid = (pid_t)v;
		} else if (strcmp(key, "restarts") == 0) {
			r = jp_int(j, 0, UINT_MAX, &v);
			js->restarts = (unsigned)v;
		} else if (strcmp(key, "last_exit_code") == 0) {
			r = jp_int(j, -1, INT_MAX, &v);
			js->last_exit_code = (int)v;
		} else if (strcmp(key, "last_oom") == 0) {
			r = jp_bool(j, &js->last_oom);
		} else if (strcmp(key, "unstable") == 0) {
			r = jp_int(j, 0, UINT_MAX, &v);
			js->unstable = (unsigned)v;
		} else if (strcmp(key, "started") == 0) {
			r = jp_int(j, 0, INT64_MAX, &js->started_unix_ms);
		} else if (strcmp(key, "next_start") == 0) {
			r = jp_int(j, 0, INT64_MAX, &js->next_start_unix_ms);
		} else if (strcmp(key, "attempt") == 0 || strcmp(key, "attempts") == 0) {
			r = jp_int(j, 0, 1000, &v);
			*(key[7] == 's' ? &js->attempts : &js->attempt) = (unsigned)v;
		} else if (strcmp(key, "timed_out") == 0) {
			r = jp_int(j, 0, 1, &v);
			js->timed_out = (int)v;
		} else if (strcmp(key, "next_run") == 0) {
			r = jp_int(j, 0, INT64_MAX, &js->next_run_unix_ms);
		} else if (strcmp(key, "next_local") == 0) {
			r = jp_string_into(j, js->next_local, sizeof(js->next_local));
		} else {
			r = jp_skip(j);
		}
		if (r < 0)
			return -EINVAL;
	}
	if (r < 0 || js->name[0] == '\0' || !have_name || !have_state)
		return -EINVAL;
	return 0;
}

static int parse_jobs(struct jp *j, struct status_doc *d)
{
	int first = 1, r;

	d->n_jobs = 0;
	if (jp_array_begin(j) < 0)
		return -EINVAL;
	while ((r = jp_array_next(j, &first)) == 1) {
		if (d->n_jobs == STATUS_JOBS_MAX)
			return -EINVAL;
		if (parse_job(j, &d->jobs[d->n_jobs]) < 0)
			return -EINVAL;
		d->n_jobs++;
	}
	return r;
}

int status_parse(const char *text, size_t len, struct status_doc *d)
{
	struct jp j = {text, text + len, 0};
	int first = 1, r, have_pid = 0, have_jobs = 0;
	char key[32];
	int64_t v;

	memset(d, 0, sizeof(*d));
	if (jp_object_begin(&j) < 0)
		return -EINVAL;
	while ((r = jp_object_next(&j, &first, key, sizeof(key))) == 1) {
		if (strcmp(key, "jobshim_pid") == 0) {
			r = jp_int(&j, 1, INT_MAX, &v);
			d->jobshim_pid = (pid_t)v;
			have_pid = 1;
		} else if (strcmp(key, "jobshim_starttime") == 0) {
			r = jp_int(&j, 0, INT64_MAX, &v);
			d->jobshim_starttime = (uint64_t)v;
		} else if (strcmp(key, "written") == 0) {
			r = jp_int(&j, 0, INT64_MAX, &d->written_unix_ms);
		} else if (strcmp(key, "ready_after_ms") == 0) {
			r = jp_int(&j, 0, INT64_MAX, &v);
			d->ready_after_ms = (uint64_t)v;
		} else if (strcmp(key, "jobs") == 0) {
			r = parse_jobs(&j, d);
			have_jobs = 1;
		} else {
			r = jp_skip(&j);
		}
		if (r < 0)
			goto bad;
	}
	if (r < 0 || !have_pid || !have_jobs || jp_peek(&j) != -1)
		goto bad;
	return 0;
bad:
	memset(d, 0, sizeof(*d));
	return -EINVAL;
}

int status_read_at(int dirfd, struct status_doc *d)
{
	char *buf = malloc(STATUS_READ_MAX);
	ssize_t len;
	int r;

	if (buf == NULL)
		return -ENOMEM;
	/* Untrusted: a regular file within a size bound, or nothing. A FIFO
	 * there neither blocks the open (O_NONBLOCK) nor is read. */
	len = read_regular_at(dirfd, STATUS_FILE, buf, STATUS_READ_MAX);
	if (len < 0)
		r = len == -ENOENT ? -ENOENT : -EINVAL;
	else
		r = status_parse(buf, (size_t)len, d);
	free(buf);
	return r;
}

int status_read(const char *path, struct status_doc *d)
{
	char *buf = malloc(STATUS_READ_MAX);
	ssize_t len;
	int r;

	if (buf == NULL)
		return -ENOMEM;
	len = read_file(path, buf, STATUS_READ_MAX);
	if (len < 0) {
		r = len == -EFBIG ? -EINVAL : (int)len;
		goto out;
	}
	r = status_parse(buf, (size_t)len, d);
out:
	free(buf);
	return r;
}

/* ------------------------------------------------------------ labels */

const char *status_label(const struct job_status *j, int64_t now_unix_ms, uint64_t ready_after_ms)
{
	int64_t ran;

	/* One-shot jobs: running, waiting (between attempts, or for the
	 * next time), succeeded, failed. */
	if (j->attempts > 0 && j->state != RS_TERMINATING)
		return j->state == RS_RUNNING	  ? "running"
		       : j->state == RS_SUCCEEDED ? "succeeded"
		       : j->state == RS_FAILED	  ? "failed"
						  : "waiting";
	switch (j->state) {
	case RS_TERMINATING:
		return "terminating";
	case RS_EXITED:
		return j->last_exit_code == 0 ? "succeeded" : "failing";
	case RS_SUCCEEDED:
		return "succeeded";
	case RS_FAILED:
		return "failed";
	case RS_WAITING:
	case RS_RUNNING:
		break;
	}
	if (j->unstable > 2)
		return "failing";
	if (j->state == RS_WAITING)
		return "waiting";
	if (j->started_unix_ms <= 0)
		return "progressing";
	ran = now_unix_ms - j->started_unix_ms;
	if (ran < 0 || (uint64_t)ran < ready_after_ms)
		return "progressing";
	return "ready";
}

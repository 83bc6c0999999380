/* .deploio.yaml → struct config, in two passes: libyaml's event stream is
 * turned into a small bounded tree (depth, node count, no aliases), then the
 * tree is validated key by key so that every error is reported with the
 * line and column of the node it is about. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "cron.h"
#include "duration.h"
#include "xio.h"

/* ------------------------------------------------------------------ tree */

enum ytype { Y_SCALAR, Y_SEQ, Y_MAP };

struct ynode {
	enum ytype type;
	bool plain; /* scalar written without quotes: may be null, a bool, a number */
	unsigned line, col;
	char *value; /* scalar: NUL-terminated copy */
	size_t len;
	struct ynode **kids; /* list: items; mapping: key, value, key, value... */
	size_t n, cap;
};

static void ynode_free(struct ynode *n)
{
	if (n == NULL)
		return;
	/* Recursion is bounded by CONFIG_DEPTH_MAX. */
	for (size_t i = 0; i < n->n; i++)
		ynode_free(n->kids[i]);
	free(n->kids);
	free(n->value);
	free(n);
}

static int ynode_append(struct ynode *parent, struct ynode *kid)
{
	if (parent->n == parent->cap) {
		size_t cap = parent->cap ? parent->cap * 2 : 8;
		struct ynode **k = realloc(parent->kids, cap * sizeof(*k));

		if (k == NULL)
			return -ENOMEM;
		parent->kids = k;
		parent->cap = cap;
	}
	parent->kids[parent->n++] = kid;
	return 0;
}

/* libyaml's reader errors carry a byte offset, not a mark: count lines and
 * characters (not bytes) the way libyaml's marks do. */
static void offset_to_mark(const char *text, size_t len, size_t off, unsigned *line, unsigned *col)
{
	unsigned l = 1, c = 1;

	if (off > len)
		off = len;
	for (size_t i = 0; i < off; i++) {
		unsigned char b = (unsigned char)text[i];

		if (b == '\n' || (b == '\r' && (i + 1 >= len || text[i + 1] != '\n'))) {
			l++, c = 1;
		} else if (b != '\r' && (b & 0xc0) != 0x80) {
			c++;
		}
	}
	*line = l;
	*col = c;
}

/* The field where the parser stopped, from the partly built tree (SPEC §1's
 * "workerJobs[1].size"): each open container's last entry, and for the
 * innermost mapping the key whose value is being read. "" at the top. */
static void yaml_path(struct ynode *const *stack, size_t depth, char *buf, size_t cap)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < depth && o < cap; i++) {
		const struct ynode *c = stack[i];
		bool innermost = i + 1 == depth;

		if (c->type == Y_SEQ) {
			/* inside item n-1, or (innermost) before item n */
			size_t idx = innermost || c->n == 0 ? c->n : c->n - 1;
			o += (size_t)snprintf(buf + o, cap - o, "[%zu]", idx);
		} else if (c->type == Y_MAP && c->n > 0) {
			/* odd: a key waits for its value; even: in the last value */
			const struct ynode *key = c->kids[c->n % 2 ? c->n - 1 : c->n - 2];

			if ((innermost && c->n % 2 == 0) || key->type != Y_SCALAR)
				break;
			o += (size_t)snprintf(buf + o, cap - o, "%s%.*s", o > 0 ? "." : "", 64,
					      key->value);
		}
	}
	if (o >= cap)
		buf[cap - 1] = '\0';
}

/* The byte at a mark's line and column (columns count characters). */
static int char_at(const char *text, size_t len, size_t line, size_t col)
{
	size_t i = 0;

	for (size_t l = 0; l < line && i < len; i++)
		if (text[i] == '\n')
			l++;
	for (size_t c = 0; i < len && text[i] != '\n'; i++) {
		if (((unsigned char)text[i] & 0xc0) == 0x80)
			continue; /* UTF-8 continuation byte */
		if (c++ == col)
			return (unsigned char)text[i];
	}
	return -1;
}

/* What libyaml's message does not say, for the mistakes people make. */
static const char *yaml_hint(const yaml_parser_t *p, const char *text, size_t len, const char *path)
{
	size_t plen = strlen(path);
	bool schedule = plen >= 8 && strcmp(path + plen - 8, "schedule") == 0;

	if (p->context != NULL && strstr(p->context, "alias") != NULL)
		return schedule ? "a plain scalar cannot start with \"*\" (YAML reads an alias): "
				  "quote the schedule, e.g. \"*/15 * * * *\""
				: "a plain scalar cannot start with \"*\" (YAML reads an alias): "
				  "quote the value";
	if (p->problem != NULL &&
	    ((strstr(p->problem, "cannot start any token") != NULL &&
	      char_at(text, len, p->problem_mark.line, p->problem_mark.column) == '\t') ||
	     strstr(p->problem, "tab character") != NULL))
		return "a tab: tabs cannot indent YAML; use spaces";
	return NULL;
}

static int yaml_failure(const yaml_parser_t *p, const char *text, size_t len, const char *file,
			struct ynode *const *stack, size_t depth, struct errlist *errs)
{
	char path[256], field[260];
	const char *hint;
	const char *problem = p->problem ? p->problem : "unknown error";
	unsigned line, col;
	size_t off;

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return -ENOMEM;
	case YAML_READER_ERROR:
		off = p->problem_offset;
		/* libyaml points at the bad continuation byte; the character
		 * that is broken starts at its lead byte. */
		if (strstr(problem, "trailing") != NULL && off <= len) {
			size_t k = off;

			while (k > 0 && off - k < 3 && ((unsigned char)text[k - 1] & 0xc0) == 0x80)
				k--;
			if (k > 0 && ((unsigned char)text[k - 1] & 0xc0) == 0xc0)
				off = k - 1;
		}
		offset_to_mark(text, len, off, &line, &col);
		if (strstr(problem, "UTF-8") != NULL || strstr(problem, "Unicode") != NULL)
			errlist_add(errs, "%s:%u:%u: the file is not valid UTF-8 (%s)", file, line,
				    col, problem);
		else
			errlist_add(errs, "%s:%u:%u: invalid YAML: %s (byte 0x%02x)", file, line,
				    col, problem, (unsigned)p->problem_value & 0xffu);
		return -EINVAL;
	default:
		yaml_path(stack, depth, path, sizeof(path));
		snprintf(field, sizeof(field), "%s%s", path, path[0] ? ": " : "");
		hint = yaml_hint(p, text, len, path);
		if (hint != NULL)
			errlist_add(errs, "%s:%zu:%zu: %sinvalid YAML: %s (%s)", file,
				    p->problem_mark.line + 1, p->problem_mark.column + 1, field,
				    hint, problem);
		else if (p->context != NULL)
			errlist_add(errs, "%s:%zu:%zu: %sinvalid YAML: %s (%s at %zu:%zu)", file,
				    p->problem_mark.line + 1, p->problem_mark.column + 1, field,
				    problem, p->context, p->context_mark.line + 1,
				    p->context_mark.column + 1);
		else
			errlist_add(errs, "%s:%zu:%zu: %sinvalid YAML: %s", file,
				    p->problem_mark.line + 1, p->problem_mark.column + 1, field,
				    problem);
		return -EINVAL;
	}
}

/* Builds the tree of the first (only) document; *root is NULL for an empty
 * stream. 0, -EINVAL (error in errs), -ENOMEM. */
static int tree_build(const char *text, size_t len, const char *file, struct ynode **root,
		      struct errlist *errs)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	struct ynode *stack[CONFIG_DEPTH_MAX];
	size_t depth = 0, nodes = 0;
	char path[256];
	int documents = 0, r = 0;
	bool done = false;

	*root = NULL;
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	/* No guessing of UTF-16 from a BOM: the file is UTF-8 or an error. */
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);

	while (!done) {
		struct ynode *n = NULL;
		unsigned line, col;

		if (!yaml_parser_parse(&parser, &ev)) {
			r = yaml_failure(&parser, text, len, file, stack, depth, errs);
			goto out;
		}
		line = (unsigned)ev.start_mark.line + 1;
		col = (unsigned)ev.start_mark.column + 1;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++documents > 1) {
				errlist_add(errs,
					    "%s:%u:%u: more than one YAML document (only one is "
					    "allowed)",
					    file, line, col);
				r = -EINVAL;
			}
			break;
		case YAML_ALIAS_EVENT:
			/* Refused outright: alias expansion is how "billion laughs"
			 * documents grow without bound. */
			yaml_path(stack, depth, path, sizeof(path));
			errlist_add(
			    errs,
			    "%s:%u:%u: %s%saliases are not supported (to write a value that "
			    "starts with \"*\", quote it)",
			    file, line, col, path, path[0] ? ": " : "");
			r = -EINVAL;
			break;
		case YAML_SCALAR_EVENT:
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (++nodes > CONFIG_NODES_MAX) {
				errlist_add(errs, "%s:%u:%u: more than %d YAML nodes", file, line,
					    col, CONFIG_NODES_MAX);
				r = -EINVAL;
				break;
			}
			if (ev.type != YAML_SCALAR_EVENT && depth == CONFIG_DEPTH_MAX) {
				errlist_add(errs, "%s:%u:%u: nesting deeper than %d", file, line,
					    col, CONFIG_DEPTH_MAX);
				r = -EINVAL;
				break;
			}
			n = calloc(1, sizeof(*n));
			if (n == NULL) {
				r = -ENOMEM;
				break;
			}
			n->line = line;
			n->col = col;
			if (ev.type == YAML_SCALAR_EVENT) {
				n->type = Y_SCALAR;
				n->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
				n->len = ev.data.scalar.length;
				n->value = malloc(n->len + 1);
				if (n->value == NULL) {
					free(n);
					r = -ENOMEM;
					break;
				}
				memcpy(n->value, ev.data.scalar.value, n->len);
				n->value[n->len] = '\0';
			} else {
				n->type = ev.type == YAML_MAPPING_START_EVENT ? Y_MAP : Y_SEQ;
			}
			if (depth > 0) {
				if (ynode_append(stack[depth - 1], n) < 0) {
					ynode_free(n);
					r = -ENOMEM;
					break;
				}
			} else {
				*root = n;
			}
			if (n->type != Y_SCALAR)
				stack[depth++] = n;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (depth > 0)
				depth--;
			break;
		default: /* stream start, document end: nothing to do */
			break;
		}
		yaml_event_delete(&ev);
		if (r < 0)
			goto out;
	}
out:
	yaml_parser_delete(&parser);
	if (r < 0) {
		ynode_free(*root);
		*root = NULL;
	}
	return r;
}

/* ------------------------------------------------------------ validation */

struct seen_name {
	const char *name;
	unsigned line, col;
};

struct pending_err {
	unsigned line, col;
	char *msg;
};

#define PENDING_MAX 256

struct vctx {
	const char *file;
	struct errlist *errs;
	int nerr;
	/* Errors are sorted by position before they reach errs, so that they
	 * come in file order whatever order the checks ran in. */
	struct pending_err pending[PENDING_MAX];
	size_t n_pending;
	bool nomem;
	struct seen_name names[PLAN_JOBS_MAX]; /* bounded: see job_name_unique */
	size_t n_names;
};

static void verr(struct vctx *v, const struct ynode *n, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void verr(struct vctx *v, const struct ynode *n, const char *path, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	v->nerr++;
	if (v->n_pending == PENDING_MAX) {
		v->errs->dropped++;
		return;
	}
	if (asprintf(&v->pending[v->n_pending].msg, "%s:%u:%u: %s%s%s", v->file, n->line, n->col,
		     path, *path ? ": " : "", msg) < 0) {
		v->errs->dropped++;
		return;
	}
	v->pending[v->n_pending].line = n->line;
	v->pending[v->n_pending].col = n->col;
	v->n_pending++;
}

/* Moves the pending errors to errs in (line, col) order; insertion sort is
 * stable and the list is short. */
static void flush_errors(struct vctx *v)
{
	for (size_t i = 1; i < v->n_pending; i++) {
		struct pending_err e = v->pending[i];
		size_t j = i;

		while (j > 0 &&
		       (v->pending[j - 1].line > e.line ||
			(v->pending[j - 1].line == e.line && v->pending[j - 1].col > e.col))) {
			v->pending[j] = v->pending[j - 1];
			j--;
		}
		v->pending[j] = e;
	}
	for (size_t i = 0; i < v->n_pending; i++) {
		errlist_add(v->errs, "%s", v->pending[i].msg);
		free(v->pending[i].msg);
	}
	v->n_pending = 0;
}

/* A user string made safe to quote in a message: control characters,
 * quotes and backslashes escaped, cut at 64 bytes (on a character boundary:
 * libyaml has already checked that the text is UTF-8). */
static const char *shown(char *buf, size_t cap, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i;

	for (i = 0; i < len && i < 64; i++) {
		unsigned char c = (unsigned char)s[i];

		if (o + 8 >= cap)
			break;
		if (c < 0x20 || c == 0x7f) {
			buf[o++] = '\\', buf[o++] = 'x', buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 15];
		} else if (c == '"' || c == '\\') {
			buf[o++] = '\\', buf[o++] = (char)c;
		} else {
			buf[o++] = (char)c;
		}
	}
	if (i < len) {
		while (o > 0 && ((unsigned char)buf[o - 1] & 0xc0) == 0x80)
			o--; /* drop a torn sequence's continuation bytes... */
		if (o > 0 && ((unsigned char)buf[o - 1] & 0xc0) == 0xc0)
			o--; /* ...and its lead byte */
		if (o + 4 < cap)
			buf[o++] = '.', buf[o++] = '.', buf[o++] = '.';
	}
	buf[o] = '\0';
	return buf;
}

static const char *type_name(const struct ynode *n)
{
	return n->type == Y_MAP ? "a mapping" : n->type == Y_SEQ ? "a list" : "a scalar";
}

static bool is_null(const struct ynode *n)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};

	if (n == NULL)
		return true;
	if (n->type != Y_SCALAR || !n->plain)
		return false;
	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (strcmp(n->value, nulls[i]) == 0)
			return true;
	return false;
}

/* A scalar as a string (null counts as ""); NULL after reporting an error. */
static const char *scalar_string(struct vctx *v, const struct ynode *n, const char *path)
{
	if (n->type != Y_SCALAR) {
		verr(v, n, path, "expected a string, found %s", type_name(n));
		return NULL;
	}
	if (memchr(n->value, '\0', n->len) != NULL) {
		verr(v, n, path, "must not contain a NUL character");
		return NULL;
	}
	return is_null(n) ? "" : n->value;
}

static int scalar_bool(struct vctx *v, const struct ynode *n, const char *path, bool *out)
{
	static const char *const yes[] = {"true", "True", "TRUE"};
	static const char *const no[] = {"false", "False", "FALSE"};

	if (n->type == Y_SCALAR && n->plain) {
		for (size_t i = 0; i < 3; i++) {
			if (strcmp(n->value, yes[i]) == 0 || strcmp(n->value, no[i]) == 0) {
				*out = strcmp(n->value, yes[i]) == 0;
				return 0;
			}
		}
	}
	verr(v, n, path, "expected a boolean (true or false)");
	return -EINVAL;
}

static int scalar_int_range(struct vctx *v, const struct ynode *n, const char *path, long lo,
			    long hi, int *out)
{
	char buf[80];
	char *end;
	long x;

	if (n->type != Y_SCALAR || !n->plain || n->len == 0 || n->len > 20) {
		verr(v, n, path, "expected an integer");
		return -EINVAL;
	}
	errno = 0;
	x = strtol(n->value, &end, 10);
	if (*end != '\0' || n->value[0] == ' ') {
		verr(v, n, path, "expected an integer, found \"%s\"",
		     shown(buf, sizeof(buf), n->value, n->len));
		return -EINVAL;
	}
	if (errno == ERANGE || x < lo || x > hi) {
		verr(v, n, path, "must be between %ld and %ld, found %s", lo, hi,
		     shown(buf, sizeof(buf), n->value, n->len));
		return -EINVAL;
	}
	*out = (int)x;
	return 0;
}

/* Edit distance for "did you mean" hints (keys are short: bounded). */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[33];

	if (la > 32 || lb > 32)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t prev = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cur = row[j];
			size_t sub = prev + (a[i - 1] != b[j - 1]);
			size_t best = row[j] + 1 < row[j - 1] + 1 ? row[j] + 1 : row[j - 1] + 1;

			row[j] = sub < best ? sub : best;
			prev = cur;
		}
	}
	return row[lb];
}

static void child_path(char *buf, size_t cap, const char *path, const char *key)
{
	snprintf(buf, cap, "%s%s%s", path, *path ? "." : "", key);
}

/* Checks n is a mapping whose keys are all in allowed (NULL-terminated),
 * without duplicates; vals[i] receives the value of allowed[i] or NULL.
 * -EINVAL when n is not a mapping (other errors do not stop the caller). */
static int map_fields(struct vctx *v, const struct ynode *n, const char *path,
		      const char *const *allowed, const struct ynode **vals)
{
	const struct ynode *keys[16] = {NULL};
	size_t n_allowed = 0;

	while (allowed[n_allowed] != NULL)
		vals[n_allowed++] = NULL;
	if (n->type != Y_MAP) {
		verr(v, n, path, "expected a mapping, found %s", type_name(n));
		return -EINVAL;
	}
	for (size_t i = 0; i + 1 < n->n; i += 2) {
		const struct ynode *k = n->kids[i];
		char kp[192], shown_key[96];
		size_t j, best = 0, best_d = 99;

		if (k->type != Y_SCALAR) {
			verr(v, k, path, "expected a string key, found %s", type_name(k));
			continue;
		}
		for (j = 0; j < n_allowed; j++) {
			size_t d;

			if (k->len == strlen(allowed[j]) && strcmp(k->value, allowed[j]) == 0)
				break;
			d = distance(k->value, allowed[j]);
			if (d < best_d)
				best_d = d, best = j;
		}
		shown(shown_key, sizeof(shown_key), k->value, k->len);
		child_path(kp, sizeof(kp), path, shown_key);
		if (j == n_allowed) {
			char list[256] = "";

			if (best_d <= 2 && best_d < k->len) {
				verr(v, k, kp, "unknown key (did you mean \"%s\"?)", allowed[best]);
				continue;
			}
			for (size_t a = 0; a < n_allowed; a++)
				snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
					 a ? ", " : "", allowed[a]);
			verr(v, k, kp, "unknown key (allowed: %s)", list);
			continue;
		}
		if (keys[j] != NULL) {
			verr(v, k, kp, "duplicate key (first at %u:%u)", keys[j]->line,
			     keys[j]->col);
			continue;
		}
		keys[j] = k;
		vals[j] = n->kids[i + 1];
	}
	return 0;
}

bool config_valid_job_name(const char *s, size_t len)
{
	if (len == 0 || len > JOB_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (!alnum && (c != '-' || i == 0 || i == len - 1))
			return false;
	}
	return true;
}

bool config_valid_env_name(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
			  (i > 0 && c >= '0' && c <= '9');

		if (!ok)
			return false;
	}
	return true;
}

const char *config_kind_name(enum config_job_kind k)
{
	return k == CONFIG_WORKER ? "worker" : k == CONFIG_DEPLOY ? "deploy" : "scheduled";
}

static char *xstrdup(struct vctx *v, const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		v->nomem = true;
	return d;
}

/* Size value: NULL in *out when null/absent. */
static int size_field(struct vctx *v, const struct ynode *n, const char *path,
		      const struct size_spec **out)
{
	const char *s;
	char buf[96];

	*out = NULL;
	if (is_null(n))
		return 0;
	s = scalar_string(v, n, path);
	if (s == NULL)
		return -EINVAL;
	*out = size_lookup(s);
	if (*out == NULL) {
		verr(v, n, path, "unknown size \"%s\" (expected %s)",
		     shown(buf, sizeof(buf), n->value, n->len), size_names());
		return -EINVAL;
	}
	return 0;
}

/* Records a job name; reports it when taken (by an earlier job, or "web",
 * the main app's name in @all mode and in `check`). */
static int job_name_unique(struct vctx *v, const struct ynode *n, const char *path,
			   const char *name)
{
	if (strcmp(name, "web") == 0) {
		verr(v, n, path, "duplicate job name \"web\" (the main app is called web)");
		return -EINVAL;
	}
	for (size_t i = 0; i < v->n_names; i++) {
		if (strcmp(v->names[i].name, name) == 0) {
			verr(v, n, path, "duplicate job name \"%s\" (also at %u:%u)", name,
			     v->names[i].line, v->names[i].col);
			return -EINVAL;
		}
	}
	if (v->n_names < sizeof(v->names) / sizeof(v->names[0]))
		v->names[v->n_names++] = (struct seen_name){name, n->line, n->col};
	return 0;
}

static const char *const worker_keys[] = {"name", "command", "size", NULL};
static const char *const deploy_keys[] = {"name", "command", "size", "retries", "timeout", NULL};
static const char *const scheduled_keys[] = {"name",	"command", "schedule", "size",
					     "retries", "timeout", NULL};
enum { K_NAME, K_COMMAND }; /* the first two keys of every job kind */

static void job_free(struct config_job *j)
{
	free(j->name);
	free(j->command);
	free(j->schedule);
	memset(j, 0, sizeof(*j));
}

/* A required non-empty string: name or command. */
static const char *required_string(struct vctx *v, const struct ynode *map, const struct ynode *n,
				   const char *path, const char *key)
{
	char fp[128];
	const char *s;

	child_path(fp, sizeof(fp), path, key);
	if (n == NULL) {
		verr(v, map, fp, "required");
		return NULL;
	}
	s = scalar_string(v, n, fp);
	if (s == NULL)
		return NULL;
	if (s[strspn(s, " \t\r\n")] == '\0') {
		verr(v, n, fp, "must not be empty");
		return NULL;
	}
	return s;
}

static int timeout_field(struct vctx *v, const struct ynode *n, const char *path, uint64_t *ms)
{
	char buf[96];
	const char *s = scalar_string(v, n, path);
	int r;

	if (s == NULL)
		return -EINVAL;
	r = duration_parse(s, ms);
	if (r == -EINVAL) {
		verr(v, n, path, "invalid duration \"%s\" (e.g. 90s, 5m, 1h30m)",
		     shown(buf, sizeof(buf), n->value, n->len));
		return r;
	}
	if (r < 0 || *ms < CONFIG_TIMEOUT_MIN_MS || *ms > CONFIG_TIMEOUT_MAX_MS) {
		verr(v, n, path, "must be between %llum and %llum, found %s",
		     (unsigned long long)(CONFIG_TIMEOUT_MIN_MS / 60000),
		     (unsigned long long)(CONFIG_TIMEOUT_MAX_MS / 60000),
		     shown(buf, sizeof(buf), n->value, n->len));
		return -EINVAL;
	}
	return 0;
}

/* Validates one job mapping; 0 with *j filled, or -EINVAL (j left empty). */
static int job_check(struct vctx *v, const struct ynode *n, const char *path,
		     enum config_job_kind kind, struct config_job *j)
{
	const char *const *keys = kind == CONFIG_WORKER	  ? worker_keys
				  : kind == CONFIG_DEPLOY ? deploy_keys
							  : scheduled_keys;
	const struct ynode *vals[8];
	char fp[128];
	struct err err;
	const char *name, *command;
	int before = v->nerr;

	memset(j, 0, sizeof(*j));
	j->kind = kind;
	j->retries = -1;
	j->line = n->line;
	j->col = n->col;
	if (map_fields(v, n, path, keys, vals) < 0)
		return -EINVAL;

	name = required_string(v, n, vals[K_NAME], path, "name");
	if (name != NULL) {
		char buf[96];

		child_path(fp, sizeof(fp), path, "name");
		if (!config_valid_job_name(name, strlen(name)))
			verr(v, vals[K_NAME], fp,
			     "\"%s\" is not a valid name (lowercase letters, digits and '-', "
			     "starting and ending with a letter or digit, at most %d characters)",
			     shown(buf, sizeof(buf), name, strlen(name)), JOB_NAME_MAX);
		else
			job_name_unique(v, vals[K_NAME], fp, name);
	}
	command = required_string(v, n, vals[K_COMMAND], path, "command");

	for (size_t i = 2; keys[i] != NULL; i++) {
		const struct ynode *val = vals[i];

		if (val == NULL)
			continue;
		child_path(fp, sizeof(fp), path, keys[i]);
		if (strcmp(keys[i], "size") == 0) {
			size_field(v, val, fp, &j->size);
		} else if (strcmp(keys[i], "retries") == 0) {
			if (!is_null(val))
				scalar_int_range(v, val, fp, 0, CONFIG_RETRIES_MAX, &j->retries);
		} else if (strcmp(keys[i], "timeout") == 0) {
			if (!is_null(val))
				timeout_field(v, val, fp, &j->timeout_ms);
		} else if (strcmp(keys[i], "schedule") == 0) {
			const char *s = scalar_string(v, val, fp);

			if (s != NULL && *s == '\0')
				verr(v, val, fp, "must not be empty");
			else if (s != NULL && cron_validate(s, &err) < 0)
				verr(v, val, fp, "invalid cron schedule: %s", err.msg);
			else if (s != NULL)
				j->schedule = xstrdup(v, s);
		}
	}
	if (kind == CONFIG_SCHEDULED && vals[2] == NULL) {
		child_path(fp, sizeof(fp), path, "schedule");
		verr(v, n, fp, "required");
	}
	if (v->nerr != before) {
		job_free(j);
		return -EINVAL;
	}
	j->name = xstrdup(v, name);
	j->command = xstrdup(v, command);
	return 0;
}

struct job_lists {
	struct config_job workers[WORKERS_MAX], deploy, scheduled[SCHEDULED_MAX];
	size_t n_workers, n_scheduled;
	bool has_deploy;
};

static void workers_check(struct vctx *v, const struct ynode *n, struct job_lists *jl)
{
	char path[48];

	if (is_null(n))
		return;
	if (n->type != Y_SEQ) {
		verr(v, n, "workerJobs", "expected a list, found %s", type_name(n));
		return;
	}
	for (size_t i = 0; i < n->n; i++) {
		struct config_job j;

		snprintf(path, sizeof(path), "workerJobs[%zu]", i);
		if (i == WORKERS_MAX)
			verr(v, n->kids[i], "workerJobs",
			     "at most %d worker jobs are allowed, found %zu", WORKERS_MAX, n->n);
		if (job_check(v, n->kids[i], path, CONFIG_WORKER, &j) < 0)
			continue;
		if (jl->n_workers < WORKERS_MAX)
			jl->workers[jl->n_workers++] = j;
		else
			job_free(&j);
	}
}

static void scheduled_check(struct vctx *v, const struct ynode *n, struct job_lists *jl)
{
	const size_t max = sizeof(jl->scheduled) / sizeof(jl->scheduled[0]);
	char path[48];

	if (is_null(n))
		return;
	if (n->type != Y_SEQ) {
		verr(v, n, "scheduledJobs", "expected a list, found %s", type_name(n));
		return;
	}
	for (size_t i = 0; i < n->n; i++) {
		struct config_job j;

		snprintf(path, sizeof(path), "scheduledJobs[%zu]", i);
		if (i == max) {
			verr(v, n->kids[i], "scheduledJobs",
			     "at most %zu scheduled jobs are supported, found %zu", max, n->n);
			break;
		}
		if (job_check(v, n->kids[i], path, CONFIG_SCHEDULED, &j) == 0)
			jl->scheduled[jl->n_scheduled++] = j;
	}
}

static void deploy_check(struct vctx *v, const struct ynode *n, struct job_lists *jl)
{
	struct config_job j;

	if (is_null(n))
		return;
	if (job_check(v, n, "deployJob", CONFIG_DEPLOY, &j) == 0) {
		jl->deploy = j;
		jl->has_deploy = true;
	}
}

static const char *const env_keys[] = {"name", "value", "sensitive", NULL};

static void env_check(struct vctx *v, const struct ynode *n, struct config *c)
{
	char path[48], fp[64], buf[96];

	if (is_null(n))
		return;
	if (n->type != Y_SEQ) {
		verr(v, n, "env", "expected a list, found %s", type_name(n));
		return;
	}
	c->env = calloc(n->n ? n->n : 1, sizeof(*c->env));
	if (c->env == NULL) {
		v->nomem = true;
		return;
	}
	for (size_t i = 0; i < n->n; i++) {
		const struct ynode *vals[3];
		const char *name, *value = "";
		bool sensitive = false, bad = false;
		int before = v->nerr;

		snprintf(path, sizeof(path), "env[%zu]", i);
		if (map_fields(v, n->kids[i], path, env_keys, vals) < 0)
			continue;
		name = required_string(v, n->kids[i], vals[0], path, "name");
		child_path(fp, sizeof(fp), path, "name");
		if (name != NULL && !config_valid_env_name(name, strlen(name))) {
			verr(v, vals[0], fp,
			     "\"%s\" is not a valid environment variable name "
			     "([A-Za-z_][A-Za-z0-9_]*)",
			     shown(buf, sizeof(buf), name, strlen(name)));
			name = NULL;
		}
		for (size_t e = 0; name != NULL && e < c->n_env; e++) {
			if (strcmp(c->env[e].name, name) == 0) {
				verr(v, vals[0], fp, "duplicate environment variable \"%s\"", name);
				bad = true;
			}
		}
		child_path(fp, sizeof(fp), path, "value");
		if (vals[1] != NULL)
			value = scalar_string(v, vals[1], fp);
		child_path(fp, sizeof(fp), path, "sensitive");
		if (vals[2] != NULL && !is_null(vals[2]))
			scalar_bool(v, vals[2], fp, &sensitive);
		if (bad || name == NULL || value == NULL || v->nerr != before)
			continue;
		c->env[c->n_env].name = xstrdup(v, name);
		c->env[c->n_env].value = xstrdup(v, value);
		c->env[c->n_env].sensitive = sensitive;
		c->n_env++;
	}
}

static const char *const top_keys[] = {
    "size", "env",	"workerJobs",	   "deployJob",	  "scheduledJobs",
    "port", "replicas", "enableBasicAuth", "healthProbe", NULL,
};
enum { T_SIZE, T_ENV, T_WORKERS, T_DEPLOY, T_SCHEDULED };

static int jobs_combine(struct vctx *v, struct job_lists *jl, struct config *c)
{
	size_t n = jl->n_workers + (jl->has_deploy ? 1 : 0) + jl->n_scheduled;

	if (n == 0)
		return 0;
	c->jobs = calloc(n, sizeof(*c->jobs));
	if (c->jobs == NULL) {
		v->nomem = true;
		return -ENOMEM;
	}
	for (size_t i = 0; i < jl->n_workers; i++)
		c->jobs[c->n_jobs++] = jl->workers[i];
	if (jl->has_deploy)
		c->jobs[c->n_jobs++] = jl->deploy;
	for (size_t i = 0; i < jl->n_scheduled; i++)
		c->jobs[c->n_jobs++] = jl->scheduled[i];
	jl->n_workers = jl->n_scheduled = 0;
	jl->has_deploy = false;
	return 0;
}

static void validate(struct vctx *v, const struct ynode *root, struct config *c)
{
	const struct ynode *vals[10];
	struct job_lists *jl = NULL;

	if (is_null(root))
		return; /* an empty file is a valid, empty configuration */
	if (root->type != Y_MAP) {
		verr(v, root, "",
		     "expected a mapping at the top level (keys size, env, workerJobs, ...), "
		     "found %s",
		     type_name(root));
		return;
	}
	if (map_fields(v, root, "", top_keys, vals) < 0)
		return;
	jl = calloc(1, sizeof(*jl));
	if (jl == NULL) {
		v->nomem = true;
		return;
	}
	/* Top-level keys in file order (duplicate names point back to the
	 * first occurrence). */
	for (size_t i = 0; i + 1 < root->n; i += 2) {
		const struct ynode *val = root->kids[i + 1];

		if (val == vals[T_SIZE]) {
			if (size_field(v, val, "size", &c->size) == 0 && c->size != NULL) {
				c->size_line = val->line;
				c->size_col = val->col;
			}
		} else if (val == vals[T_ENV]) {
			env_check(v, val, c);
		} else if (val == vals[T_WORKERS]) {
			workers_check(v, val, jl);
		} else if (val == vals[T_DEPLOY]) {
			deploy_check(v, val, jl);
		} else if (val == vals[T_SCHEDULED]) {
			scheduled_check(v, val, jl);
		}
		/* port, replicas, enableBasicAuth, healthProbe: ignored. */
	}
	jobs_combine(v, jl, c);
	for (size_t i = 0; i < jl->n_workers; i++)
		job_free(&jl->workers[i]);
	for (size_t i = 0; i < jl->n_scheduled; i++)
		job_free(&jl->scheduled[i]);
	if (jl->has_deploy)
		job_free(&jl->deploy);
	free(jl);
}

/* ------------------------------------------------------------------- API */

int config_parse(const char *text, size_t len, const char *filename, struct config *out,
		 struct errlist *errs)
{
	struct vctx *v = NULL;
	struct ynode *root = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	out->path = strdup(filename);
	if (out->path == NULL)
		return -ENOMEM;
	if (len > CONFIG_FILE_MAX) {
		errlist_add(errs, "%s: file is larger than %d MiB", filename,
			    CONFIG_FILE_MAX / (1024 * 1024));
		return -EINVAL;
	}
	r = tree_build(text, len, filename, &root, errs);
	if (r < 0)
		goto out;
	v = calloc(1, sizeof(*v));
	if (v == NULL) {
		r = -ENOMEM;
		goto out;
	}
	v->file = filename;
	v->errs = errs;
	validate(v, root, out);
	flush_errors(v);
	r = v->nomem ? -ENOMEM : v->nerr > 0 ? -EINVAL : 0;
out:
	free(v);
	ynode_free(root);
	return r;
}

int config_load(const char *path, struct config *out, struct errlist *errs)
{
	char *buf = NULL;
	ssize_t n;
	int r;

	memset(out, 0, sizeof(*out));
	buf = malloc(CONFIG_FILE_MAX + 1);
	if (buf == NULL)
		return -ENOMEM;
	/* Never blocking, only a regular file: a FIFO planted as the file
	 * would otherwise hang jobshim before anything starts. */
	n = read_regular_file(path, buf, CONFIG_FILE_MAX + 1);
	if (n == -EFTYPE_NOT_REGULAR) {
		errlist_add(errs, "unable to read %s: not a regular file", path);
		r = -EINVAL;
	} else if (n == -EFBIG) {
		errlist_add(errs, "%s: file is larger than %d MiB", path,
			    CONFIG_FILE_MAX / (1024 * 1024));
		r = -EINVAL;
	} else if (n < 0) {
		errlist_add(errs, "unable to read %s: %s", path, strerror((int)-n));
		r = (int)n;
	} else {
		r = config_parse(buf, (size_t)n, path, out, errs);
	}
	free(buf);
	return r;
}

void config_free(struct config *c)
{
	if (c == NULL)
		return;
	free(c->path);
	for (size_t i = 0; i < c->n_env; i++) {
		free(c->env[i].name);
		free(c->env[i].value);
	}
	free(c->env);
	for (size_t i = 0; i < c->n_jobs; i++)
		job_free(&c->jobs[i]);
	free(c->jobs);
	memset(c, 0, sizeof(*c));
}

#include "userdb.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_LEN (64 * 1024) /* longer lines are skipped, not truncated */

/* A decimal id: digits only, at most 2^32-2 ((uid_t)-1 means "unchanged"
 * to setresuid and is no id). 0 or -EINVAL. */
static int parse_id(const char *s, size_t len, unsigned *out)
{
	unsigned long long v = 0;
	if (len == 0 || len > 10)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > 0xfffffffeULL)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

static bool all_digits(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return len > 0;
}

static int check_name(const char *what, const char *s, size_t len, char *err, size_t errlen)
{
	if (len == 0) {
		snprintf(err, errlen, "empty %s name", what);
		return -EINVAL;
	}
	if (all_digits(s, len)) {
		unsigned id;
		if (parse_id(s, len, &id) < 0) {
			snprintf(err, errlen, "%s id %.*s out of range", what, (int)len, s);
			return -EINVAL;
		}
		return 0;
	}
	if (len >= USERDB_NAME_MAX) {
		snprintf(err, errlen, "%s name too long (%zu bytes, at most %d)", what, len,
			 USERDB_NAME_MAX - 1);
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= ' ' || c == 0x7f || c == ':' || c == ',') {
			snprintf(err, errlen, "invalid character in %s name \"%.*s\"", what,
				 (int)len, s);
			return -EINVAL;
		}
	}
	return 0;
}

int userdb_check_syntax(const char *spec, char *err, size_t errlen)
{
	if (!spec || !*spec) {
		snprintf(err, errlen, "empty user");
		return -EINVAL;
	}
	const char *colon = strchr(spec, ':');
	size_t ulen = colon ? (size_t)(colon - spec) : strlen(spec);
	int rc = check_name("user", spec, ulen, err, errlen);
	if (rc == 0 && colon)
		rc = check_name("group", colon + 1, strlen(colon + 1), err, errlen);
	return rc;
}

/* Splits line (NUL-terminated, without newline) at ':' into at most max
 * fields. Returns the number of fields. */
static size_t split_fields(char *line, char **f, size_t max)
{
	size_t n = 0;
	f[n++] = line;
	for (char *p = line; *p && n < max; p++) {
		if (*p == ':') {
			*p = '\0';
			f[n++] = p + 1;
		}
	}
	return n;
}

struct dbfile {
	FILE *f;
	char *line;
	size_t cap;
	char path[4096];
};

static int db_open(struct dbfile *d, const char *etc_dir, const char *name)
{
	memset(d, 0, sizeof(*d));
	int n = snprintf(d->path, sizeof(d->path), "%s/%s", etc_dir ? etc_dir : "/etc", name);
	if (n < 0 || (size_t)n >= sizeof(d->path))
		return -ENAMETOOLONG;
	d->f = fopen(d->path, "re");
	return d->f ? 0 : -errno;
}

/* The next usable line, split into fields; 0 at EOF. */
static size_t db_next(struct dbfile *d, char **f, size_t max)
{
	ssize_t len;
	while (d->f && (len = getline(&d->line, &d->cap, d->f)) >= 0) {
		if (len > LINE_MAX_LEN)
			continue;
		if (len > 0 && d->line[len - 1] == '\n')
			d->line[--len] = '\0';
		/* comments, blank lines and NIS compat entries (+name, -name) */
		if (len == 0 || d->line[0] == '#' || d->line[0] == '+' || d->line[0] == '-')
			continue;
		return split_fields(d->line, f, max);
	}
	return 0;
}

static void db_close(struct dbfile *d)
{
	if (d->f)
		fclose(d->f);
	free(d->line);
}

/* passwd: name:password:uid:gid:gecos:home:shell. Finds by name (when name
 * is set) or by uid. 0 found, -ENOENT not found, other -errno. */
static int passwd_find(const char *etc_dir, const char *name, uid_t uid, struct user_ids *out,
		       char *path, size_t pathlen)
{
	struct dbfile d;
	int rc = db_open(&d, etc_dir, "passwd");
	snprintf(path, pathlen, "%s", d.path);
	if (rc < 0)
		goto out;
	rc = -ENOENT;
	char *f[7];
	size_t n;
	while ((n = db_next(&d, f, 7)) > 0) {
		unsigned id, gid;
		if (n < 4 || parse_id(f[2], strlen(f[2]), &id) < 0 ||
		    parse_id(f[3], strlen(f[3]), &gid) < 0 || strlen(f[0]) >= USERDB_NAME_MAX)
			continue;
		if (name ? strcmp(f[0], name) != 0 : id != uid)
			continue;
		out->uid = id;
		out->gid = gid;
		snprintf(out->name, sizeof(out->name), "%s", f[0]);
		rc = 0;
		break;
	}
	if (rc == -ENOENT && ferror(d.f))
		rc = -EIO;
out:
	db_close(&d);
	return rc;
}

static bool has_member(char *members, const char *name)
{
	char *save = NULL;
	for (char *m = strtok_r(members, ",", &save); m; m = strtok_r(NULL, ",", &save))
		if (strcmp(m, name) == 0)
			return true;
	return false;
}

static void add_group(struct user_ids *u, gid_t g, int *rc)
{
	for (size_t i = 0; i < u->ngroups; i++)
		if (u->groups[i] == g)
			return;
	if (u->ngroups == USERDB_GROUPS_MAX) {
		*rc = -E2BIG;
		return;
	}
	u->groups[u->ngroups++] = g;
}

/* group: name:password:gid:member,member. One pass: the gid of group_name
 * (when set, else the name of u->gid) and the groups listing u->name. */
static int group_scan(const char *etc_dir, const char *group_name, struct user_ids *u,
		      bool *group_found, char *path, size_t pathlen)
{
	struct dbfile d;
	int rc = db_open(&d, etc_dir, "group");
	snprintf(path, pathlen, "%s", d.path);
	*group_found = false;
	if (rc == -ENOENT && !group_name) /* FROM scratch: numeric ids still work */
		rc = 0;
	if (rc < 0 || !d.f)
		goto out;
	char *f[4];
	size_t n;
	while (rc == 0 && (n = db_next(&d, f, 4)) > 0) {
		unsigned gid;
		if (n < 3 || parse_id(f[2], strlen(f[2]), &gid) < 0)
			continue;
		if (group_name && !*group_found && strcmp(f[0], group_name) == 0) {
			u->gid = gid;
			*group_found = true;
		}
		if (!group_name && !*group_found && gid == u->gid &&
		    strlen(f[0]) < USERDB_NAME_MAX) {
			snprintf(u->group, sizeof(u->group), "%s", f[0]);
			*group_found = true;
		}
		if (u->name[0] && n == 4 && has_member(f[3], u->name))
			add_group(u, gid, &rc);
	}
	if (rc == 0 && ferror(d.f))
		rc = -EIO;
out:
	db_close(&d);
	return rc;
}

int userdb_resolve(const char *spec, const char *etc_dir, struct user_ids *out, char *err,
		   size_t errlen)
{
	char path[4096];
	char user[USERDB_NAME_MAX] = "", group[USERDB_NAME_MAX] = "";
	int rc = userdb_check_syntax(spec, err, errlen);
	if (rc < 0)
		return rc;
	memset(out, 0, sizeof(*out));

	const char *colon = strchr(spec, ':');
	size_t ulen = colon ? (size_t)(colon - spec) : strlen(spec);
	if (ulen >= sizeof(user) || (colon && strlen(colon + 1) >= sizeof(group))) {
		snprintf(err, errlen, "user or group too long");
		return -EINVAL;
	}
	memcpy(user, spec, ulen);
	if (colon)
		snprintf(group, sizeof(group), "%s", colon + 1);

	unsigned id;
	if (parse_id(user, ulen, &id) == 0) {
		rc = passwd_find(etc_dir, NULL, id, out, path, sizeof(path));
		if (rc == -ENOENT) { /* allowed: a uid without an entry */
			out->uid = id;
			out->gid = id;
			out->name[0] = '\0';
			rc = 0;
		}
		if (rc < 0) {
			snprintf(err, errlen, "read %s: %s", path, strerror(-rc));
			return rc;
		}
	} else {
		rc = passwd_find(etc_dir, user, 0, out, path, sizeof(path));
		if (rc == -ENOENT) {
			snprintf(err, errlen, "no user \"%s\" in %s", user, path);
			return rc;
		}
		if (rc < 0) {
			snprintf(err, errlen, "no user \"%s\": read %s: %s", user, path,
				 strerror(-rc));
			return rc;
		}
	}

	bool group_by_name = colon && parse_id(group, strlen(group), &id) != 0;
	if (colon && !group_by_name)
		out->gid = id;
	bool found;
	rc = group_scan(etc_dir, group_by_name ? group : NULL, out, &found, path, sizeof(path));
	if (rc == -E2BIG) {
		snprintf(err, errlen, "user \"%s\" is in more than %d groups", out->name,
			 USERDB_GROUPS_MAX);
		return rc;
	}
	if (rc < 0) {
		snprintf(err, errlen, "read %s: %s", path, strerror(-rc));
		return rc;
	}
	if (group_by_name) {
		if (!found) {
			snprintf(err, errlen, "no group \"%s\" in %s", group, path);
			return -ENOENT;
		}
		snprintf(out->group, sizeof(out->group), "%s", group);
	}
	return 0;
}

#include "userdb.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

static int check_name(const char *what, const char *s, size_t len, struct err *err)
{
	if (len == 0)
		return err_set(err, -EINVAL, "empty %s name", what);
	if (all_digits(s, len)) {
		unsigned id;
		if (parse_id(s, len, &id) < 0)
			return err_set(err, -EINVAL, "%s id %.*s out of range", what, (int)len, s);
		return 0;
	}
	if (len >= USERDB_NAME_MAX)
		return err_set(err, -EINVAL, "%s name too long (%zu bytes, at most %d)", what, len,
			       USERDB_NAME_MAX - 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= ' ' || c == 0x7f || c == ':' || c == ',')
			return err_set(err, -EINVAL, "invalid character in %s name \"%.*s\"", what,
				       (int)len, s);
	}
	return 0;
}

int userdb_check_syntax(const char *spec, struct err *err)
{
	if (!spec || !*spec)
		return err_set(err, -EINVAL, "empty user");
	const char *colon = strchr(spec, ':');
	size_t ulen = colon ? (size_t)(colon - spec) : strlen(spec);
	int rc = check_name("user", spec, ulen, err);
	if (rc == 0 && colon)
		rc = check_name("group", colon + 1, strlen(colon + 1), err);
	return rc;
}

/* Opens <etc_dir>/<name>; the path is kept for messages. The image's
 * file is untrusted: it is opened non-blocking and read only when it is a
 * regular file, so that a FIFO (open or read would wait for a writer) or a
 * device (/dev/zero never ends) planted there cannot hang jobshim, which
 * reads it before its event loop, with its signals blocked. */
static FILE *db_open(const char *etc_dir, const char *name, char *path, size_t pathlen, int *rc)
{
	int n = snprintf(path, pathlen, "%s/%s", etc_dir ? etc_dir : "/etc", name);
	struct stat st;
	FILE *f;
	int fd, flags;

	if (n < 0 || (size_t)n >= pathlen) {
		*rc = -ENAMETOOLONG;
		return NULL;
	}
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		*rc = -errno;
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		*rc = S_ISREG(st.st_mode) ? -errno : -EINVAL;
		close(fd);
		return NULL;
	}
	/* a regular file: blocking reads are fine (and what stdio expects) */
	flags = fcntl(fd, F_GETFL);
	if (flags >= 0)
		(void)fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	f = fdopen(fd, "re");
	if (f == NULL) {
		*rc = -errno;
		close(fd);
		return NULL;
	}
	*rc = 0;
	return f;
}

/* db_open's -EINVAL is a file that is not a regular one. */
static const char *db_strerror(int rc)
{
	return rc == -EINVAL ? "not a regular file" : strerror(-rc);
}

/* fgetpwent/fgetgrent return NULL at the end and on a read error alike;
 * errno tells them apart only when cleared first. */
static int db_end(FILE *f)
{
	return ferror(f) ? -EIO : -ENOENT;
}

/* The image's passwd, read with fgetpwent (no NSS: the static binary has
 * none, and the host's users are not the image's). Finds by name (when name
 * is set) or by uid. 0 found, -ENOENT not found, other -errno. */
static int passwd_find(const char *etc_dir, const char *name, uid_t uid, struct user_ids *out,
		       char *path, size_t pathlen)
{
	const struct passwd *pw;
	int rc;
	FILE *f = db_open(etc_dir, "passwd", path, pathlen, &rc);

	if (f == NULL)
		return rc;
	rc = -ENOENT;
	while ((pw = fgetpwent(f)) != NULL) {
		if (strlen(pw->pw_name) >= USERDB_NAME_MAX || pw->pw_uid == (uid_t)-1)
			continue;
		if (name ? strcmp(pw->pw_name, name) != 0 : pw->pw_uid != uid)
			continue;
		out->uid = pw->pw_uid;
		out->gid = pw->pw_gid;
		snprintf(out->name, sizeof(out->name), "%s", pw->pw_name);
		rc = 0;
		break;
	}
	if (rc == -ENOENT)
		rc = db_end(f);
	fclose(f);
	return rc;
}

static bool has_member(char *const *members, const char *name)
{
	for (; members && *members; members++)
		if (strcmp(*members, name) == 0)
			return true;
	return false;
}

static int add_group(struct user_ids *u, gid_t g)
{
	for (size_t i = 0; i < u->ngroups; i++)
		if (u->groups[i] == g)
			return 0;
	if (u->ngroups == USERDB_GROUPS_MAX)
		return -E2BIG;
	u->groups[u->ngroups++] = g;
	return 0;
}

/* The image's group file, read with fgetgrent, in one pass: the gid of
 * group_name (when set, else the name of u->gid) and the groups listing
 * u->name. */
static int group_scan(const char *etc_dir, const char *group_name, struct user_ids *u,
		      bool *group_found, char *path, size_t pathlen)
{
	const struct group *gr;
	int rc;
	FILE *f = db_open(etc_dir, "group", path, pathlen, &rc);

	*group_found = false;
	if (f == NULL) /* FROM scratch: numeric ids still work */
		return rc == -ENOENT && !group_name ? 0 : rc;
	while (rc == 0 && (gr = fgetgrent(f)) != NULL) {
		if (group_name && !*group_found && strcmp(gr->gr_name, group_name) == 0) {
			u->gid = gr->gr_gid;
			*group_found = true;
		}
		if (!group_name && !*group_found && gr->gr_gid == u->gid &&
		    strlen(gr->gr_name) < USERDB_NAME_MAX) {
			snprintf(u->group, sizeof(u->group), "%s", gr->gr_name);
			*group_found = true;
		}
		if (u->name[0] && has_member(gr->gr_mem, u->name))
			rc = add_group(u, gr->gr_gid);
	}
	if (rc == 0 && db_end(f) == -EIO)
		rc = -EIO;
	fclose(f);
	return rc;
}

int userdb_resolve(const char *spec, const char *etc_dir, struct user_ids *out, struct err *err)
{
	char path[4096];
	char user[USERDB_NAME_MAX] = "", group[USERDB_NAME_MAX] = "";
	int rc = userdb_check_syntax(spec, err);
	if (rc < 0)
		return rc;
	memset(out, 0, sizeof(*out));

	const char *colon = strchr(spec, ':');
	size_t ulen = colon ? (size_t)(colon - spec) : strlen(spec);
	if (ulen >= sizeof(user) || (colon && strlen(colon + 1) >= sizeof(group)))
		return err_set(err, -EINVAL, "user or group too long");
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
		if (rc < 0)
			return err_set(err, rc, "read %s: %s", path, db_strerror(rc));
	} else {
		rc = passwd_find(etc_dir, user, 0, out, path, sizeof(path));
		if (rc == -ENOENT)
			return err_set(err, rc, "no user \"%s\" in %s", user, path);
		if (rc < 0)
			return err_set(err, rc, "no user \"%s\": read %s: %s", user, path,
				       db_strerror(rc));
	}

	bool group_by_name = colon && parse_id(group, strlen(group), &id) != 0;
	if (colon && !group_by_name)
		out->gid = id;
	bool found;
	rc = group_scan(etc_dir, group_by_name ? group : NULL, out, &found, path, sizeof(path));
	if (rc == -E2BIG)
		return err_set(err, rc, "user \"%s\" is in more than %d groups", out->name,
			       USERDB_GROUPS_MAX);
	if (rc < 0)
		return err_set(err, rc, "read %s: %s", path, db_strerror(rc));
	if (group_by_name) {
		if (!found)
			return err_set(err, -ENOENT, "no group \"%s\" in %s", group, path);
		snprintf(out->group, sizeof(out->group), "%s", group);
	}
	return 0;
}

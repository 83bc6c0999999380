/* A run dir in a world-writable /tmp, or one named with JOBSHIM_RUN_DIR,
 * may have been planted by another user (or be a symlink to somewhere) to
 * take jobshim's locks (a second instance runs), feed `stats` forged rows,
 * or have jobshim overwrite a file through a link. So a directory is used
 * only when it is jobshim's user's own and nobody else can write in it, and
 * everything in it is opened relative to its fd without following links. */
#include "rundir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xio.h"

/* Parents as 0755 (they may be shared), the run dir itself 0700. */
static int mkdir_parents(const char *path)
{
	char tmp[PATH_MAX];
	size_t len = strlen(path);

	if (len == 0)
		return -EINVAL;
	if (len >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(tmp, path, len + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int run_dir_check(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (st.st_uid != geteuid() || (st.st_mode & 0022) != 0)
		return -EPERM;
	return 0;
}

int run_dir_open(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), r;

	struct stat st;

	/* O_NOFOLLOW with O_DIRECTORY reports a symlink as ENOTDIR. */
	if (fd < 0)
		return errno == ENOTDIR && lstat(path, &st) == 0 && S_ISLNK(st.st_mode) ? -ELOOP
											: -errno;
	r = run_dir_check(fd);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

/* A symlink at path itself is refused (O_NOFOLLOW reports ELOOP or,
 * with O_DIRECTORY, ENOTDIR). */
static int private_dir_ok(const char *path)
{
	struct stat st;
	int fd;

	if (lstat(path, &st) < 0)
		return -errno;
	if (S_ISLNK(st.st_mode))
		return -ELOOP;
	fd = run_dir_open(path);
	if (fd < 0)
		return fd;
	close(fd);
	return access(path, W_OK | X_OK) < 0 ? -errno : 0;
}

size_t run_dir_candidates(const char *primary, char out[RUN_DIR_MAX_CANDS][PATH_MAX])
{
	const char *t = getenv("TMPDIR");
	char name[32];
	size_t n = 0, tlen, nlen;

	snprintf(name, sizeof(name), "/jobshim-%u", (unsigned)geteuid());
	nlen = strlen(name);
	if (strlen(primary) < PATH_MAX)
		strcpy(out[n++], primary);
	if (t == NULL || t[0] != '/')
		t = "/tmp";
	tlen = strlen(t);
	while (tlen > 1 && t[tlen - 1] == '/')
		tlen--;
	if (tlen == 1)
		tlen = 0; /* TMPDIR=/ */
	if (tlen + nlen + 1 <= PATH_MAX) {
		memcpy(out[n], t, tlen);
		memcpy(out[n] + tlen, name, nlen + 1);
		n++;
	}
	/* /tmp too when TMPDIR is elsewhere: `docker exec` may not share the
	 * container's TMPDIR. */
	if (strncmp(out[n - 1], "/tmp/", 5) != 0 || strcmp(out[n - 1] + 4, name) != 0)
		snprintf(out[n++], PATH_MAX, "/tmp%s", name);
	return n;
}

static int copy_path(char *buf, size_t cap, const char *path)
{
	size_t len = strlen(path);

	if (len >= cap)
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	return 0;
}

int run_dir_resolve(const char *opt, int create, char *buf, size_t cap)
{
	return run_dir_resolve_at(RUN_DIR_DEFAULT, opt, create, buf, cap);
}

int run_dir_resolve_at(const char *primary, const char *opt, int create, char *buf, size_t cap)
{
	char cand[RUN_DIR_MAX_CANDS][PATH_MAX];
	size_t n;
	int r = -ENOENT;

	if (opt != NULL && opt[0] != '\0') {
		if (strlen(opt) >= cap)
			return -ENAMETOOLONG;
		if (create && (r = mkdir_parents(opt)) < 0)
			return r;
		r = private_dir_ok(opt);
		return r < 0 ? r : copy_path(buf, cap, opt);
	}
	n = run_dir_candidates(primary, cand);
	for (size_t i = 0; i < n; i++) {
		if (create) {
			r = mkdir_parents(cand[i]);
			if (r == 0)
				r = private_dir_ok(cand[i]);
		} else {
			char file[PATH_MAX + 16];
			struct stat st;

			r = private_dir_ok(cand[i]);
			snprintf(file, sizeof(file), "%s/status.json", cand[i]);
			if (r == 0 && lstat(file, &st) < 0)
				r = -errno;
		}
		if (r == 0)
			return copy_path(buf, cap, cand[i]);
	}
	return r;
}

int run_dir_lock(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int err = errno;
		close(fd);
		return -err;
	}
	return fd;
}

int run_dir_write_atomic(int dirfd, const char *name, const void *buf, size_t len)
{
	char tmp[NAME_MAX + 1];
	int fd = -1, r;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", name) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	for (int attempt = 0; attempt < 2 && fd < 0; attempt++) {
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		/* A leftover (or something planted): removed, not followed;
		 * unlinkat removes a symlink itself, never its target. */
		if (fd < 0 && errno == EEXIST && attempt == 0)
			(void)unlinkat(dirfd, tmp, 0);
		else if (fd < 0)
			return -errno;
	}
	if (fd < 0)
		return -EEXIST;
	r = xwrite_all(fd, buf, len);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		r = -errno;
	if (r < 0)
		(void)unlinkat(dirfd, tmp, 0);
	return r;
}

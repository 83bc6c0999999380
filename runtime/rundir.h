/* The run dir (SPEC §8): jobshim's own directory for status.json, the
 * locks and the control channel. Created 0700 by jobshim's user; an
 * existing one is used only when it is a real directory (not a symlink),
 * owned by that user and writable by nobody else, on the writing and the
 * reading side alike. Files in it are opened relative to its fd, never
 * following a symlink. */
#ifndef JOBSHIM_RUNDIR_H
#define JOBSHIM_RUNDIR_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#define RUN_DIR_DEFAULT	  "/run/jobshim"
#define RUN_DIR_MAX_CANDS 3

/* The run dir: opt if given, else /run/jobshim when it can be created,
 * else $TMPDIR/jobshim-UID, else /tmp/jobshim-UID (the uid keeps users
 * apart). create=0 only looks for an existing one holding a status file
 * (for stats). Every candidate, opt included, must pass run_dir_check.
 * 0 or -errno (-EPERM: not jobshim's own; -ELOOP: a symlink). */
int run_dir_resolve(const char *opt, int create, char *buf, size_t cap);
/* The same with another first choice than /run/jobshim (for tests). */
int run_dir_resolve_at(const char *primary, const char *opt, int create, char *buf, size_t cap);
/* The default run dirs in the order they are tried, primary first. */
size_t run_dir_candidates(const char *primary, char out[RUN_DIR_MAX_CANDS][PATH_MAX]);
/* Whether the directory open as fd is jobshim's own: a directory, owned by
 * the effective uid, no write bit for group or others. 0, -ENOTDIR or
 * -EPERM. */
int run_dir_check(int fd);
/* Opens path (a directory, not a symlink) and checks it. fd or -errno. */
int run_dir_open(const char *path);
/* Opens (creating, 0600) and locks name in the run dir: the fd, kept open
 * to hold the lock; -EWOULDBLOCK when another process holds it. */
int run_dir_lock(int dirfd, const char *name);
/* Writes name atomically: name.tmp created O_EXCL|O_NOFOLLOW (a planted
 * file or symlink there is removed, never followed), then renameat. */
int run_dir_write_atomic(int dirfd, const char *name, const void *buf, size_t len);

#endif

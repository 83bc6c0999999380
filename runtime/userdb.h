/* JOBSHIM_USER (SPEC §7): "name", "uid", "name:group", "uid:gid" resolved
 * from the image's own passwd and group files, read with fgetpwent and
 * fgetgrent: the static binary has no NSS, and getpwnam would read the
 * host's idea of users anyway. */
#ifndef JOBSHIM_USERDB_H
#define JOBSHIM_USERDB_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

#define USERDB_NAME_MAX	  64   /* longest user or group name accepted, with NUL */
#define USERDB_GROUPS_MAX 1024 /* supplementary groups of one user */

struct user_ids {
	uid_t uid;
	gid_t gid;
	char name[USERDB_NAME_MAX];  /* "" for a uid without a passwd entry */
	char group[USERDB_NAME_MAX]; /* gid's name, "" when not in the group file */
	size_t ngroups;		     /* supplementary groups (setgroups) */
	gid_t groups[USERDB_GROUPS_MAX];
};

/* Syntax of spec only. 0 or -EINVAL with a message in err. */
int userdb_check_syntax(const char *spec, struct err *err);

/* Resolves spec with <etc_dir>/passwd and <etc_dir>/group (etc_dir NULL =
 * /etc). A numeric uid need not exist: its gid is then the same number and
 * it has no supplementary groups. The supplementary groups are those of the
 * group file that list the user's name. 0, or -errno with a message in err
 * ("no user \"bob\" in /etc/passwd"). */
int userdb_resolve(const char *spec, const char *etc_dir, struct user_ids *out, struct err *err);

#endif

/* JOBSHIM_USER resolution (SPEC §7) against fixture passwd/group files. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "userdb.h"

static char dir[64];
static char empty_dir[64];

static const char passwd[] = "# comment\n"
			     "root:x:0:0:root:/root:/bin/bash\n"
			     "\n"
			     "+nis\n"
			     "app:x:1000:1000:App:/home/app:/bin/sh\n"
			     "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
			     "broken:x:notanumber:1:::\n"
			     "short:x:7\n"
			     "worker:x:1001:100::/:/bin/sh"; /* no final newline */

static const char group[] = "root:x:0:\n"
			    "users:x:100:app,worker\n"
			    "app:x:1000:\n"
			    "docker:x:999:worker,app\n"
			    "video:x:44:someoneelse\n"
			    "nogroup:x:65534:\n"
			    "bad:x:zz:app\n";

static void write_fixture(const char *d, const char *name, const char *text)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", d, name);
	FILE *f = fopen(path, "we");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_userdb.XXXXXX");
	snprintf(empty_dir, sizeof(empty_dir), "/tmp/test_userdb_empty.XXXXXX");
	if (!mkdtemp(dir) || !mkdtemp(empty_dir))
		return -1;
	write_fixture(dir, "passwd", passwd);
	write_fixture(dir, "group", group);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char path[128];
	snprintf(path, sizeof(path), "%s/passwd", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/group", dir);
	unlink(path);
	rmdir(dir);
	rmdir(empty_dir);
	return 0;
}

struct row {
	const char *spec;
	int rc;
	unsigned uid, gid;
	const char *name, *group;
	size_t ngroups;
	unsigned groups[4];
	const char *err; /* substring */
};

static const struct row rows[] = {
    {"root", 0, 0, 0, "root", "root", 0, {0}, NULL},
    {"app", 0, 1000, 1000, "app", "app", 2, {100, 999}, NULL},
    {"worker", 0, 1001, 100, "worker", "users", 2, {100, 999}, NULL},
    {"nobody", 0, 65534, 65534, "nobody", "nogroup", 0, {0}, NULL},
    {"1000", 0, 1000, 1000, "app", "app", 2, {100, 999}, NULL},
    {"4242", 0, 4242, 4242, "", "", 0, {0}, NULL},
    {"4242:44", 0, 4242, 44, "", "video", 0, {0}, NULL},
    {"app:docker", 0, 1000, 999, "app", "docker", 2, {100, 999}, NULL},
    {"app:44", 0, 1000, 44, "app", "video", 2, {100, 999}, NULL},
    {"1001:users", 0, 1001, 100, "worker", "users", 2, {100, 999}, NULL},
    {"0:0", 0, 0, 0, "root", "root", 0, {0}, NULL},
    {"bob", -ENOENT, 0, 0, NULL, NULL, 0, {0}, "no user \"bob\" in "},
    {"broken", -ENOENT, 0, 0, NULL, NULL, 0, {0}, "no user \"broken\""},
    {"app:wheel", -ENOENT, 0, 0, NULL, NULL, 0, {0}, "no group \"wheel\" in "},
    {"", -EINVAL, 0, 0, NULL, NULL, 0, {0}, "empty user"},
    {":0", -EINVAL, 0, 0, NULL, NULL, 0, {0}, "empty user name"},
    {"app:", -EINVAL, 0, 0, NULL, NULL, 0, {0}, "empty group name"},
    {"a b", -EINVAL, 0, 0, NULL, NULL, 0, {0}, "invalid character"},
    {"app:x:y", -EINVAL, 0, 0, NULL, NULL, 0, {0}, "invalid character"},
    {"4294967295", -EINVAL, 0, 0, NULL, NULL, 0, {0}, "out of range"},
    {"99999999999", -EINVAL, 0, 0, NULL, NULL, 0, {0}, "out of range"},
};

static void resolve_table(void **state)
{
	(void)state;
	static struct user_ids u;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct err err = {0};
		int rc = userdb_resolve(r->spec, dir, &u, &err);
		if (rc != r->rc)
			fail_msg("\"%s\": rc %d (%s), want %d", r->spec, rc, err, r->rc);
		if (rc < 0) {
			if (!strstr(err.msg, r->err))
				fail_msg("\"%s\": error \"%s\" lacks \"%s\"", r->spec, err, r->err);
			continue;
		}
		if (u.uid != r->uid || u.gid != r->gid || strcmp(u.name, r->name) != 0 ||
		    strcmp(u.group, r->group) != 0 || u.ngroups != r->ngroups)
			fail_msg("\"%s\": got %u:%u %s:%s ngroups %zu", r->spec, (unsigned)u.uid,
				 (unsigned)u.gid, u.name, u.group, u.ngroups);
		for (size_t g = 0; g < r->ngroups; g++)
			assert_int_equal(u.groups[g], r->groups[g]);
	}
}

/* FROM scratch: no passwd, no group. Numbers still work, names do not. */
static void no_files(void **state)
{
	(void)state;
	static struct user_ids u;
	struct err err = {0};
	assert_int_equal(userdb_resolve("1234:55", empty_dir, &u, &err), 0);
	assert_int_equal(u.uid, 1234);
	assert_int_equal(u.gid, 55);
	assert_int_equal(u.ngroups, 0);
	assert_int_equal(userdb_resolve("app", empty_dir, &u, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "no user \"app\""));
}

static void syntax_only(void **state)
{
	(void)state;
	struct err err = {0};
	assert_int_equal(userdb_check_syntax("whoever:whatever", &err), 0);
	assert_int_equal(userdb_check_syntax("65534", &err), 0);
	assert_int_equal(userdb_check_syntax("x:", &err), -EINVAL);
	assert_int_equal(userdb_check_syntax(NULL, &err), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(resolve_table),
	    cmocka_unit_test(no_files),
	    cmocka_unit_test(syntax_only),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

#include "joblimits.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "xio.h"

/* ---------------------------------------------------------------- rlimits */

/* In the order they are listed. */
static const struct {
	const char *name;
	int resource;
} rlimit_names[] = {
    {"nofile", RLIMIT_NOFILE}, {"core", RLIMIT_CORE},	      {"nproc", RLIMIT_NPROC},
    {"as", RLIMIT_AS},	       {"data", RLIMIT_DATA},	      {"fsize", RLIMIT_FSIZE},
    {"stack", RLIMIT_STACK},   {"cpu", RLIMIT_CPU},	      {"memlock", RLIMIT_MEMLOCK},
    {"rss", RLIMIT_RSS},       {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},
    {"rtprio", RLIMIT_RTPRIO}, {"rttime", RLIMIT_RTTIME},     {"sigpending", RLIMIT_SIGPENDING},
    {"locks", RLIMIT_LOCKS},
};
#define RLIMIT_NAMES (sizeof(rlimit_names) / sizeof(rlimit_names[0]))

const char *rlimit_name(int resource)
{
	for (size_t i = 0; i < RLIMIT_NAMES; i++)
		if (rlimit_names[i].resource == resource)
			return rlimit_names[i].name;
	return NULL;
}

static int rlimit_lookup(const char *s, size_t len)
{
	for (size_t i = 0; i < RLIMIT_NAMES; i++)
		if (strlen(rlimit_names[i].name) == len &&
		    strncmp(rlimit_names[i].name, s, len) == 0)
			return rlimit_names[i].resource;
	return -1;
}

static void set_entry(struct rlimit_set *rs, int res, rlim_t soft, rlim_t hard, bool from_size)
{
	rs->r[res] =
	    (struct rlimit_entry){.set = true, .from_size = from_size, .soft = soft, .hard = hard};
}

void rlimits_from_size(const struct size_spec *size, bool nonroot, struct rlimit_set *rs)
{
	memset(rs, 0, sizeof(*rs));
	set_entry(rs, RLIMIT_NOFILE, size->nofile, size->nofile, true);
	/* No core dumps: a crashing worker would fill the container's disk
	 * at every restart. */
	set_entry(rs, RLIMIT_CORE, 0, 0, true);
	/* RLIMIT_NPROC counts every process of the real uid: for root that
	 * would be all of the container (and root ignores it anyway). */
	if (nonroot)
		set_entry(rs, RLIMIT_NPROC, size->pids, size->pids, true);
}

/* One value: digits with an optional suffix, or "unlimited". */
static int parse_value(const char *s, size_t len, rlim_t *out)
{
	static const struct {
		const char *suffix;
		unsigned long long mult;
	} suffixes[] = {
	    {"", 1},	       {"K", 1ULL << 10},  {"k", 1ULL << 10}, {"Ki", 1ULL << 10},
	    {"M", 1ULL << 20}, {"Mi", 1ULL << 20}, {"G", 1ULL << 30}, {"Gi", 1ULL << 30},
	};
	if (len == 9 && strncmp(s, "unlimited", 9) == 0) {
		*out = RLIM_INFINITY;
		return 0;
	}
	size_t digits = 0;
	unsigned long long v = 0;
	while (digits < len && s[digits] >= '0' && s[digits] <= '9') {
		unsigned d = (unsigned)(s[digits] - '0');
		if (v > (ULLONG_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
		digits++;
	}
	if (digits == 0)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		size_t sl = strlen(suffixes[i].suffix);
		if (len - digits != sl || strncmp(s + digits, suffixes[i].suffix, sl) != 0)
			continue;
		/* RLIM_INFINITY (2^64-1) is spelled "unlimited", never reached
		 * by a number */
		if (v > (RLIM_INFINITY - 1) / suffixes[i].mult)
			return -ERANGE;
		*out = (rlim_t)(v * suffixes[i].mult);
		return 0;
	}
	return -EINVAL;
}

static const char *names_list(void)
{
	return "nofile, core, nproc, as, data, fsize, stack, cpu, memlock, rss, msgqueue, nice, "
	       "rtprio, rttime, sigpending, locks";
}

static int parse_item(const char *item, size_t len, struct rlimit_set *rs, char *err, size_t errlen)
{
	const char *eq = memchr(item, '=', len);
	if (!eq) {
		snprintf(err, errlen, "\"%.*s\": expected NAME=VALUE or NAME=SOFT:HARD", (int)len,
			 item);
		return -EINVAL;
	}
	size_t nlen = (size_t)(eq - item);
	int res = rlimit_lookup(item, nlen);
	if (res < 0) {
		snprintf(err, errlen, "unknown limit \"%.*s\" (expected %s)", (int)nlen, item,
			 names_list());
		return -EINVAL;
	}
	const char *v = eq + 1;
	size_t vlen = len - nlen - 1;
	const char *colon = memchr(v, ':', vlen);
	rlim_t soft, hard;
	int rc;
	if (colon) {
		rc = parse_value(v, (size_t)(colon - v), &soft);
		if (rc == 0)
			rc = parse_value(colon + 1, vlen - (size_t)(colon - v) - 1, &hard);
	} else {
		rc = parse_value(v, vlen, &soft);
		hard = soft;
	}
	if (rc == -ERANGE) {
		snprintf(err, errlen, "%.*s: value \"%.*s\" too large", (int)nlen, item, (int)vlen,
			 v);
		return -EINVAL;
	}
	if (rc < 0) {
		snprintf(err, errlen,
			 "%.*s: bad value \"%.*s\" (expected a number with an optional K, M or G "
			 "suffix, or unlimited; SOFT:HARD for two)",
			 (int)nlen, item, (int)vlen, v);
		return -EINVAL;
	}
	if (soft > hard)
		soft = hard;
	if (rs)
		set_entry(rs, res, soft, hard, false);
	return 0;
}

int rlimits_parse(const char *s, struct rlimit_set *rs, char *err, size_t errlen)
{
	if (!s || !*s)
		return 0;
	for (const char *p = s;;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len == 0) {
			snprintf(err, errlen, "empty item in \"%s\"", s);
			return -EINVAL;
		}
		int rc = parse_item(p, len, rs, err, errlen);
		if (rc < 0)
			return rc;
		if (!end)
			return 0;
		p = end + 1;
	}
}

int rlimits_apply(const struct rlimit_set *rs, int *failed)
{
	for (int res = 0; res < RLIMITS_COUNT; res++) {
		const struct rlimit_entry *e = &rs->r[res];
		if (!e->set)
			continue;
		struct rlimit want = {e->soft, e->hard};
		if (setrlimit(res, &want) == 0)
			continue;
		int err = errno;
		struct rlimit cur;
		if (err == EPERM && e->from_size && getrlimit(res, &cur) == 0 &&
		    want.rlim_max > cur.rlim_max) {
			want.rlim_max = cur.rlim_max;
			if (want.rlim_cur > want.rlim_max)
				want.rlim_cur = want.rlim_max;
			if (setrlimit(res, &want) == 0)
				continue;
			err = errno;
		}
		*failed = res;
		return -err;
	}
	return 0;
}

/* snprintf into buf at *n, counting what does not fit. */
__attribute__((format(printf, 4, 5))) static void appendf(char *buf, size_t cap, size_t *n,
							  const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int w = vsnprintf(*n < cap ? buf + *n : NULL, *n < cap ? cap - *n : 0, fmt, ap);
	va_end(ap);
	if (w > 0)
		*n += (size_t)w;
}

int rlimit_listed(size_t i)
{
	return i < RLIMIT_NAMES ? rlimit_names[i].resource : -1;
}

/* ---------------------------------------------------------------- cgroup */

unsigned cgroup_cpu_weight(unsigned millis)
{
	unsigned w = millis / 10;
	return w < 1 ? 1 : w > 10000 ? 10000 : w;
}

void cgroup_limits_from_size(const struct size_spec *size, struct cgroup_limits *cl)
{
	cl->memory_max = size->memory_bytes;
	cl->swap_max = 0;
	cl->pids_max = size->pids;
	cl->cpu_weight = cgroup_cpu_weight(size->cpu_millis);
}

static int path_join(char *out, size_t cap, const char *a, const char *b)
{
	int n = snprintf(out, cap, "%s/%s", a, b);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* A whole small cgroup file, trailing newline removed. */
static ssize_t read_small(const char *dir, const char *file, char *buf, size_t cap)
{
	char path[4096];
	int rc = path_join(path, sizeof(path), dir, file);
	if (rc < 0)
		return rc;
	ssize_t n = read_file(path, buf, cap);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return n;
}

/* Writes s to dir/file with one write(2): cgroup files take one value a
 * write. O_TRUNC is harmless on cgroupfs and keeps a fake tree exact. */
static int write_small(const char *dir, const char *file, const char *s)
{
	char path[4096];
	int rc = path_join(path, sizeof(path), dir, file);
	if (rc < 0)
		return rc;
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	ssize_t w = write(fd, s, strlen(s));
	rc = w < 0 ? -errno : (size_t)w != strlen(s) ? -EIO : 0;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	return rc;
}

/* Whether the space-separated list has word. */
static bool has_word(const char *list, const char *word)
{
	size_t wl = strlen(word);
	for (const char *p = list; (p = strstr(p, word)) != NULL; p += wl) {
		bool start = p == list || p[-1] == ' ';
		bool end = p[wl] == '\0' || p[wl] == ' ' || p[wl] == '\n';
		if (start && end)
			return true;
	}
	return false;
}

static int own_cgroup_is_ns_root(char *reason, size_t cap)
{
	char buf[4096];
	ssize_t n = read_file("/proc/self/cgroup", buf, sizeof(buf));
	if (n < 0) {
		snprintf(reason, cap, "/proc/self/cgroup: %s", strerror((int)-n));
		return (int)n;
	}
	for (char *line = buf, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (strncmp(line, "0::", 3) != 0)
			continue;
		if (strcmp(line + 3, "/") == 0 || strcmp(line + 3, "/jobshim/init") == 0)
			return 0;
		snprintf(reason, cap,
			 "jobshim is in cgroup %.200s, not at the root of its own cgroup namespace",
			 line + 3);
		return -EBUSY;
	}
	snprintf(reason, cap, "jobshim is in no cgroup v2");
	return -ENOENT;
}

int cgroup_probe(const char *root, bool explicit_root, char *reason, size_t cap)
{
	struct statfs sf;
	char path[4096];
	int rc;

	if (statfs(root, &sf) < 0) {
		rc = -errno;
		snprintf(reason, cap, "%s", strerror(-rc));
		return rc;
	}
	if (sf.f_type != CGROUP2_SUPER_MAGIC) {
		struct stat st;
		if (!explicit_root ||
		    path_join(path, sizeof(path), root, "cgroup.controllers") < 0 ||
		    stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
			snprintf(reason, cap, "no cgroup2 file system there: cgroup v1?");
			return -EOPNOTSUPP;
		}
	}
	if (!explicit_root && (rc = own_cgroup_is_ns_root(reason, cap)) < 0)
		return rc;
	if ((rc = path_join(path, sizeof(path), root, "cgroup.subtree_control")) < 0) {
		snprintf(reason, cap, "%s", strerror(-rc));
		return rc;
	}
	if (access(root, W_OK | X_OK) < 0 || access(path, W_OK) < 0) {
		rc = -errno;
		snprintf(reason, cap, "%s", strerror(-rc));
		return rc;
	}
	return 0;
}

static int mkdir_ok(const char *path)
{
	return mkdir(path, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

/* Moves every process of dir into dest (one pid a write, as cgroup.procs
 * wants). Processes that exit meanwhile are fine. */
static int move_procs(const char *dir, const char *dest)
{
	char buf[64 * 1024];
	ssize_t n = read_small(dir, "cgroup.procs", buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	char *save = NULL;
	for (char *pid = strtok_r(buf, "\n", &save); pid; pid = strtok_r(NULL, "\n", &save)) {
		int rc = write_small(dest, "cgroup.procs", pid);
		if (rc < 0 && rc != -ESRCH)
			return rc;
	}
	return 0;
}

static const char *const controllers[] = {"memory", "pids", "cpu"};

/* Enables in dir's subtree_control each controller dir offers; returns the
 * space-separated list now enabled in *enabled. */
static int enable_controllers(const char *dir, char *enabled, size_t cap)
{
	char avail[512], on[512];
	ssize_t n = read_small(dir, "cgroup.controllers", avail, sizeof(avail));
	if (n < 0)
		return (int)n;
	n = read_small(dir, "cgroup.subtree_control", on, sizeof(on));
	if (n < 0)
		return (int)n;
	enabled[0] = '\0';
	size_t len = 0;
	for (size_t i = 0; i < sizeof(controllers) / sizeof(controllers[0]); i++) {
		const char *c = controllers[i];
		if (!has_word(avail, c))
			continue;
		if (!has_word(on, c)) {
			char cmd[32];
			snprintf(cmd, sizeof(cmd), "+%s", c);
			if (write_small(dir, "cgroup.subtree_control", cmd) < 0)
				continue; /* reported as a limit not set */
		}
		appendf(enabled, cap, &len, "%s%s", len ? " " : "", c);
	}
	return 0;
}

/* Writes value to dir/file unless the value there is already lower. */
static int write_lowering(const char *dir, const char *file, uint64_t value)
{
	char cur[64], s[32];
	ssize_t n = read_small(dir, file, cur, sizeof(cur));
	if (n > 0 && strcmp(cur, "max") != 0) {
		char *end;
		errno = 0;
		unsigned long long v = strtoull(cur, &end, 10);
		if (errno == 0 && *end == '\0' && cur[0] != '-' && v <= value)
			return 0;
	}
	snprintf(s, sizeof(s), "%llu", (unsigned long long)value);
	return write_small(dir, file, s);
}

static void note(char *notes, size_t cap, const char *what, int err)
{
	size_t n = strlen(notes);
	appendf(notes, cap, &n, "%s%s (%s)", n ? ", " : "", what, strerror(-err));
}

int cgroup_setup(const char *root, const char *job, const struct cgroup_limits *cl, char *reason,
		 size_t cap, char *notes, size_t notes_cap)
{
	char top[4096], init[4096], dir[4096], path[4096], enabled[512];
	struct stat st;
	int rc;

	notes[0] = '\0';
	if (!job || !*job || strchr(job, '/') || job[0] == '.' || strcmp(job, "init") == 0) {
		snprintf(reason, cap, "bad job name for a cgroup");
		return -EINVAL;
	}
	if ((rc = path_join(top, sizeof(top), root, "jobshim")) < 0 ||
	    (rc = path_join(init, sizeof(init), top, "init")) < 0 ||
	    (rc = path_join(dir, sizeof(dir), top, job)) < 0 ||
	    (rc = path_join(path, sizeof(path), root, "cgroup.type")) < 0) {
		snprintf(reason, cap, "%s", strerror(-rc));
		return rc;
	}
	if ((rc = mkdir_ok(top)) < 0 || (rc = mkdir_ok(init)) < 0) {
		snprintf(reason, cap, "mkdir %s: %s", top, strerror(-rc));
		return rc;
	}
	/* The real root cgroup has no cgroup.type and is exempt from the
	 * no-internal-processes rule (and holds kernel threads, which never
	 * move): leave its processes where they are. */
	if (stat(path, &st) == 0 && (rc = move_procs(root, init)) < 0) {
		snprintf(reason, cap, "move processes of %s into %s: %s", root, init,
			 strerror(-rc));
		return rc;
	}
	if ((rc = enable_controllers(root, enabled, sizeof(enabled))) < 0 ||
	    (rc = enable_controllers(top, enabled, sizeof(enabled))) < 0) {
		snprintf(reason, cap, "enable controllers: %s", strerror(-rc));
		return rc;
	}
	if ((rc = mkdir_ok(dir)) < 0) {
		snprintf(reason, cap, "mkdir %s: %s", dir, strerror(-rc));
		return rc;
	}

	char weight[16];
	snprintf(weight, sizeof(weight), "%u", cl->cpu_weight);
	if (!has_word(enabled, "memory")) {
		note(notes, notes_cap, "memory.max", -ENOTSUP);
	} else {
		if ((rc = write_lowering(dir, "memory.max", cl->memory_max)) < 0)
			note(notes, notes_cap, "memory.max", rc);
		/* no swap accounting in the kernel: the file does not exist */
		if ((rc = write_lowering(dir, "memory.swap.max", cl->swap_max)) < 0)
			note(notes, notes_cap, "memory.swap.max", rc);
	}
	if (!has_word(enabled, "pids"))
		note(notes, notes_cap, "pids.max", -ENOTSUP);
	else if ((rc = write_lowering(dir, "pids.max", cl->pids_max)) < 0)
		note(notes, notes_cap, "pids.max", rc);
	if (!has_word(enabled, "cpu"))
		note(notes, notes_cap, "cpu.weight", -ENOTSUP);
	else if ((rc = write_small(dir, "cpu.weight", weight)) < 0)
		note(notes, notes_cap, "cpu.weight", rc);

	if ((rc = path_join(path, sizeof(path), dir, "cgroup.procs")) < 0) {
		snprintf(reason, cap, "%s", strerror(-rc));
		return rc;
	}
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		rc = -errno;
		snprintf(reason, cap, "open %s: %s", path, strerror(-rc));
		return rc;
	}
	return fd;
}

int cgroup_join(int procs_fd)
{
	/* "0": the writing process itself. */
	ssize_t w = write(procs_fd, "0", 1);
	return w == 1 ? 0 : w < 0 ? -errno : -EIO;
}

int cgroup_kill(const char *root, const char *job)
{
	char top[4096], dir[4096], path[4096];
	int fd, rc;

	if ((rc = path_join(top, sizeof(top), root, "jobshim")) < 0 ||
	    (rc = path_join(dir, sizeof(dir), top, job)) < 0 ||
	    (rc = path_join(path, sizeof(path), dir, "cgroup.kill")) < 0)
		return rc;
	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	rc = xwrite_all(fd, "1", 1);
	close(fd);
	return rc;
}

int cgroup_key_value(const char *text, const char *key, uint64_t *value)
{
	size_t kl = strlen(key);

	for (const char *line = text; line; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		if (strncmp(line, key, kl) != 0 || line[kl] != ' ')
			continue;
		const char *num = line + kl + 1;
		char *end;
		if (*num < '0' || *num > '9')
			return -EINVAL;
		errno = 0;
		unsigned long long v = strtoull(num, &end, 10);
		if (errno != 0 || (*end != '\n' && *end != '\0'))
			return -EINVAL;
		*value = v;
		return 0;
	}
	return -ENOENT;
}

int cgroup_oom_kills(const char *dir, uint64_t *kills)
{
	char buf[1024];
	ssize_t n = read_small(dir, "memory.events", buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	return cgroup_key_value(buf, "oom_kill", kills);
}

int cgroup_memory_max(const char *dir, uint64_t *bytes)
{
	char buf[64], *end;
	ssize_t n = read_small(dir, "memory.max", buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	if (strcmp(buf, "max") == 0) {
		*bytes = UINT64_MAX;
		return 0;
	}
	if (buf[0] < '0' || buf[0] > '9')
		return -EINVAL;
	errno = 0;
	unsigned long long v = strtoull(buf, &end, 10);
	if (errno != 0 || *end != '\0')
		return -EINVAL;
	*bytes = v;
	return 0;
}

#include "procstat.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "xio.h"

/* proc(5) numbers the fields of /proc/PID/stat from 1; these are the ones
 * read here, all after comm (field 2). */
enum {
	F_STATE = 3,
	F_PPID = 4,
	F_PGRP = 5,
	F_UTIME = 14,
	F_STIME = 15,
	F_CUTIME = 16,
	F_CSTIME = 17,
	F_STARTTIME = 22,
	F_RSS = 24,
};

/* Bounded decimal parsing of one token: digits only (an optional '-' for
 * the signed form), overflow is an error. */
static int parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned char)s[i] - '0';
		if (d > 9)
			return -EINVAL;
		if (v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static int parse_i64(const char *s, size_t len, int64_t *out)
{
	uint64_t v;
	int neg = len > 0 && s[0] == '-';

	if (parse_u64(s + neg, len - (size_t)neg, &v) < 0)
		return -EINVAL;
	if (v > (uint64_t)INT64_MAX)
		return -EINVAL;
	*out = neg ? -(int64_t)v : (int64_t)v;
	return 0;
}

static int parse_pid(const char *s, size_t len, pid_t *out)
{
	int64_t v;

	if (parse_i64(s, len, &v) < 0 || v < 0 || v > INT_MAX)
		return -EINVAL;
	*out = (pid_t)v;
	return 0;
}

/* The kernel prints cutime/cstime/rss as signed longs; they are counts, so
 * a negative value (rss can transiently be one) reads as 0. */
static int parse_count(const char *s, size_t len, uint64_t *out)
{
	int64_t v;

	if (parse_i64(s, len, &v) < 0)
		return -EINVAL;
	*out = v < 0 ? 0 : (uint64_t)v;
	return 0;
}

int procstat_parse_stat(const char *line, size_t len, struct procstat_fields *f)
{
	const char *end = line + len, *open, *close = NULL, *p;
	const char *tok[F_RSS + 1];
	size_t toklen[F_RSS + 1];
	int nf = F_STATE;
	size_t clen;

	memset(f, 0, sizeof(*f));
	open = memchr(line, '(', len);
	if (open == NULL || open < line + 2 || open[-1] != ' ')
		return -EINVAL;
	if (parse_pid(line, (size_t)(open - 1 - line), &f->pid) < 0)
		return -EINVAL;
	/* comm is whatever the process named itself: it may hold ')' and
	 * spaces, but the fields after it never hold ')', so the last one ends it. */
	for (p = open + 1; p < end; p++)
		if (*p == ')')
			close = p;
	if (close == NULL)
		return -EINVAL;
	clen = (size_t)(close - open - 1);
	if (clen >= sizeof(f->comm))
		clen = sizeof(f->comm) - 1;
	memcpy(f->comm, open + 1, clen);
	f->comm[clen] = '\0';

	p = close + 1;
	while (nf <= F_RSS) {
		if (p >= end || *p != ' ')
			return -EINVAL;
		p++;
		tok[nf] = p;
		while (p < end && *p != ' ' && *p != '\n')
			p++;
		toklen[nf] = (size_t)(p - tok[nf]);
		if (toklen[nf] == 0)
			return -EINVAL;
		nf++;
	}
	if (toklen[F_STATE] != 1)
		return -EINVAL;
	f->state = tok[F_STATE][0];
	if (parse_pid(tok[F_PPID], toklen[F_PPID], &f->ppid) < 0 ||
	    parse_pid(tok[F_PGRP], toklen[F_PGRP], &f->pgrp) < 0 ||
	    parse_u64(tok[F_UTIME], toklen[F_UTIME], &f->utime) < 0 ||
	    parse_u64(tok[F_STIME], toklen[F_STIME], &f->stime) < 0 ||
	    parse_count(tok[F_CUTIME], toklen[F_CUTIME], &f->cutime) < 0 ||
	    parse_count(tok[F_CSTIME], toklen[F_CSTIME], &f->cstime) < 0 ||
	    parse_u64(tok[F_STARTTIME], toklen[F_STARTTIME], &f->starttime) < 0 ||
	    parse_count(tok[F_RSS], toklen[F_RSS], &f->rss_pages) < 0)
		return -EINVAL;
	return 0;
}

static int all_digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

int procstat_sample(const char *proc_root, const pid_t *pgrps, size_t n, struct pgrp_usage *out)
{
	long page = sysconf(_SC_PAGESIZE);
	struct dirent *de;
	DIR *dir;

	memset(out, 0, n * sizeof(*out));
	if (proc_root == NULL)
		proc_root = "/proc";
	dir = opendir(proc_root);
	if (dir == NULL)
		return -errno;
	if (page <= 0)
		page = 4096;
	/* /proc lists thread-group leaders only; their stat already sums all
	 * threads, so no thread is counted twice. */
	while ((errno = 0, de = readdir(dir)) != NULL) {
		char path[PATH_MAX], line[1024];
		struct procstat_fields f;
		ssize_t len;

		if (!all_digits(de->d_name))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s/stat", proc_root, de->d_name) >=
		    (int)sizeof(path))
			continue;
		/* A process that exited since readdir gives ENOENT/ESRCH: skip it. */
		len = read_file(path, line, sizeof(line));
		if (len <= 0 || procstat_parse_stat(line, (size_t)len, &f) < 0)
			continue;
		if (f.pgrp <= 0)
			continue; /* kernel threads */
		for (size_t i = 0; i < n; i++) {
			if (pgrps[i] != f.pgrp)
				continue;
			/* cutime/cstime keep the ticks of members that were
			 * waited for by another member (a shell's short-lived
			 * commands): without them they would vanish between two
			 * samples. */
			out[i].cpu_ticks += f.utime + f.stime + f.cutime + f.cstime;
			out[i].rss_bytes += f.rss_pages * (uint64_t)page;
			out[i].nprocs++;
		}
	}
	closedir(dir);
	return 0;
}

uint64_t procstat_millicores(uint64_t delta_ticks, uint64_t ticks_per_sec, uint64_t elapsed_ns)
{
	/* ticks * 1e12 / (hz * ns), computed in long double to stay clear of
	 * overflow for any plausible input. */
	long double m;

	if (ticks_per_sec == 0 || elapsed_ns == 0)
		return 0;
	m = (long double)delta_ticks * 1e12L /
	    ((long double)ticks_per_sec * (long double)elapsed_ns);
	if (m >= (long double)UINT64_MAX)
		return UINT64_MAX;
	return (uint64_t)(m + 0.5L);
}

int procstat_status_kib(const char *text, const char *key, uint64_t *kib)
{
	size_t klen = strlen(key);
	const char *line = text;

	while (line != NULL && *line != '\0') {
		const char *eol = strchr(line, '\n');
		const char *lend = eol ? eol : line + strlen(line);

		if ((size_t)(lend - line) > klen && strncmp(line, key, klen) == 0 &&
		    line[klen] == ':') {
			const char *p = line + klen + 1, *num;
			while (p < lend && (*p == ' ' || *p == '\t'))
				p++;
			num = p;
			while (p < lend && *p >= '0' && *p <= '9')
				p++;
			if (parse_u64(num, (size_t)(p - num), kib) < 0)
				return -EINVAL;
			if (lend - p != 3 || memcmp(p, " kB", 3) != 0)
				return -EINVAL;
			return 0;
		}
		line = eol ? eol + 1 : NULL;
	}
	return -ENOENT;
}

/* CPU time and memory of a job's processes, read from /proc (SPEC §8).
 * A job's instance leads its own process group, so "the job's processes"
 * are the processes whose pgrp is the instance's pid. */
#ifndef JOBSHIM_PROCSTAT_H
#define JOBSHIM_PROCSTAT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The fields of one /proc/PID/stat line that jobshim uses (proc(5)). */
struct procstat_fields {
	pid_t pid;
	char comm[64]; /* truncated when longer */
	char state;
	pid_t ppid;
	pid_t pgrp;
	uint64_t utime, stime;	 /* clock ticks */
	uint64_t cutime, cstime; /* waited-for children, clock ticks */
	uint64_t starttime;	 /* clock ticks after boot */
	uint64_t rss_pages;	 /* a transiently negative count reads as 0 */
};

/* Parses one /proc/PID/stat line (len bytes, need not be NUL-terminated).
 * comm may hold spaces and parentheses: it ends at the LAST ')'.
 * 0 or -EINVAL. Pure. */
int procstat_parse_stat(const char *line, size_t len, struct procstat_fields *f);

/* The CPU ticks and resident memory of one process group. */
struct pgrp_usage {
	uint64_t cpu_ticks; /* utime+stime+cutime+cstime of its members */
	uint64_t rss_bytes;
	unsigned nprocs; /* members found; 0: the group is gone */
};

/* One pass over PROC_ROOT/[0-9]*\/stat (proc_root NULL = "/proc") summing,
 * for each pgrps[i] > 0, the usage of the processes in that group into
 * out[i]. Processes that vanish during the scan are skipped. 0 or -errno
 * (the directory cannot be read). */
int procstat_sample(const char *proc_root, const pid_t *pgrps, size_t n, struct pgrp_usage *out);

/* CPU use in millicores: delta_ticks clock ticks consumed over elapsed_ns
 * wall-clock nanoseconds, with ticks_per_sec (sysconf(_SC_CLK_TCK)).
 * 0 when elapsed_ns or ticks_per_sec is 0. Pure, overflow-safe. */
uint64_t procstat_millicores(uint64_t delta_ticks, uint64_t ticks_per_sec, uint64_t elapsed_ns);

/* The value of a "Key:   1234 kB" line of /proc/PID/status text (e.g.
 * key "VmHWM"), in KiB. 0, -ENOENT (no such line) or -EINVAL. Pure. */
int procstat_status_kib(const char *text, const char *key, uint64_t *kib);

#endif

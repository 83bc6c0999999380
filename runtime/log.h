/* jobshim's own messages: "jobshim: ..." on stderr, or one JSON object a
 * line with "stream":"jobshim" (SPEC §5). Safe to call at any time in the
 * parent; never in a forked child (use log_child_error there). */
#ifndef JOBSHIM_LOG_H
#define JOBSHIM_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "options.h"

void log_setup(enum log_format format, bool timestamps, int verbose);
/* The job name that JSON messages carry ("jobshim" until set). */
void log_set_job(const char *name);

void log_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A command's message (`jobshim stats`, `jobshim restart`): "jobshim
 * stats: ..." on stderr, or in JSON a message "stats: ...". */
void log_cmd_msg(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Only with -v / JOBSHIM_VERBOSE=1. */
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Only with -vv / JOBSHIM_VERBOSE=2 (every forwarded signal). */
void log_trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* At exit (also registered with atexit by log_setup; the first call
 * counts): writes what waits on stdout and stderr until deadline_ms
 * (monotonic), then says how many bytes could not be delivered, adding
 * `undelivered` (bytes still in the jobs' pipes), if any. */
void log_finish(uint64_t deadline_ms, uint64_t undelivered);

/* In a forked child: "jobshim: <step>: <strerror(err)>\n" with one write(2),
 * no stdio, no allocation. */
void log_child_error(const char *what, const char *detail, int err);

/* "2026-11-29T03:10:00.123Z" (24 chars + NUL). Returns the length. */
size_t log_format_time(char *buf, size_t cap, const struct timespec *t);

/* JSON string escaping for logs and machine output: writes the escaped
 * form of src (without quotes) to dst, replacing invalid UTF-8 with U+FFFD.
 * Returns the length written, or the length needed when it exceeds cap
 * (dst then holds a truncated, still valid prefix). */
size_t json_escape(char *dst, size_t cap, const char *src, size_t len);

#endif

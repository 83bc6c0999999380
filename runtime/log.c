#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "outq.h"
#include "xio.h"

#define LOG_LINE_MAX 4096

/* The logger's settings and its end: process-wide on purpose. Every module
 * logs through log_msg without carrying a handle, and log_finish runs from
 * atexit. Set by log_setup/log_set_job in the parent; a forked child only
 * uses log_child_error, which reads none of it. */
static struct {
	enum log_format format;
	bool timestamps;
	int verbose;
	const char *job;    /* what JSON lines carry as "job" */
	bool at_exit_added; /* atexit(log_at_exit) registered */
	bool finished;	    /* log_finish ran: the first call counts */
} lg = {.format = LOG_PLAIN, .job = "jobshim"};

static void log_at_exit(void)
{
	log_finish(outq_now_ms() + 1000, 0);
}

void log_finish(uint64_t deadline_ms, uint64_t undelivered)
{
	uint64_t left, lost;

	if (lg.finished)
		return;
	lg.finished = true;
	left = outq_drain_all(deadline_ms);
	lost = outq_lost(outq_std_peek(STDOUT_FILENO)) + outq_lost(outq_std_peek(STDERR_FILENO));
	if (left + lost + undelivered == 0)
		return;
	log_msg("%llu bytes of output could not be delivered (%llu discarded, %llu still "
		"waiting at exit)",
		(unsigned long long)(left + lost + undelivered), (unsigned long long)lost,
		(unsigned long long)(left + undelivered));
	(void)outq_drain_all(outq_now_ms());
}

void log_setup(enum log_format format, bool timestamps, int verbose)
{
	if (!lg.at_exit_added && atexit(log_at_exit) == 0)
		lg.at_exit_added = true;
	lg.format = format;
	lg.timestamps = timestamps;
	lg.verbose = verbose;
}

void log_set_job(const char *name)
{
	lg.job = name;
}

/* UTC by arithmetic (days to civil date, proleptic Gregorian), not
 * gmtime_r: glibc's reads /etc/localtime at its first call, a file read
 * that UTC timestamps never need. */
size_t log_format_time(char *buf, size_t cap, const struct timespec *t)
{
	long long secs = t->tv_sec, days = secs / 86400, rem = secs % 86400;
	int n;

	if (rem < 0)
		rem += 86400, days--;
	long long z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
	long long doe = z - era * 146097;
	long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long long mp = (5 * doy + 2) / 153, day = doy - (153 * mp + 2) / 5 + 1;
	long long month = mp < 10 ? mp + 3 : mp - 9, year = yoe + era * 400 + (month <= 2);

	n = snprintf(buf, cap, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%03ldZ", year, month, day,
		     rem / 3600, rem / 60 % 60, rem % 60, t->tv_nsec / 1000000);
	return n < 0 ? 0 : (size_t)n;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid. */
static size_t utf8_seq(const unsigned char *s, size_t len)
{
	unsigned char c = s[0];
	size_t n;
	unsigned cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF. */
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

size_t json_escape(char *dst, size_t cap, const char *src, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)src;
	size_t out = 0, i = 0;

	while (i < len) {
		char tmp[8];
		const char *piece = tmp;
		size_t plen, adv = 1;
		unsigned char c = s[i];

		if (c == '"' || c == '\\') {
			tmp[0] = '\\', tmp[1] = (char)c, plen = 2;
		} else if (c == '\n') {
			piece = "\\n", plen = 2;
		} else if (c == '\r') {
			piece = "\\r", plen = 2;
		} else if (c == '\t') {
			piece = "\\t", plen = 2;
		} else if (c < 0x20 || c == 0x7f) {
			memcpy(tmp, "\\u00", 4);
			tmp[4] = hex[c >> 4], tmp[5] = hex[c & 15], plen = 6;
		} else if (c < 0x80) {
			tmp[0] = (char)c, plen = 1;
		} else {
			adv = utf8_seq(s + i, len - i);
			if (adv == 0) {
				piece = "\xef\xbf\xbd", plen = 3, adv = 1; /* U+FFFD */
			} else {
				piece = src + i, plen = adv;
			}
		}
		if (out + plen < cap)
			memcpy(dst + out, piece, plen);
		else if (out < cap)
			dst[out] = '\0', cap = out; /* stop writing, keep counting */
		out += plen;
		i += adv;
	}
	if (out < cap)
		dst[out] = '\0';
	return out;
}

static void log_emit_as(const char *cmd, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* cmd: NULL, or the command that speaks ("stats"): "jobshim stats: ..." */
static void log_emit_as(const char *cmd, const char *fmt, va_list ap)
{
	char msg[LOG_LINE_MAX], line[LOG_LINE_MAX * 2], ts[40];
	struct timespec now;
	int saved = errno, n;
	size_t len = 0;

	n = cmd != NULL ? snprintf(msg, sizeof(msg), "%s: ", cmd) : 0;
	if (n < 0 || (size_t)n >= sizeof(msg))
		goto out;
	n = vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	if (n < 0)
		goto out;
	clock_gettime(CLOCK_REALTIME, &now);
	log_format_time(ts, sizeof(ts), &now);
	if (lg.format == LOG_JSON) {
		char job[256], esc[LOG_LINE_MAX * 2 - 400];
		json_escape(job, sizeof(job), lg.job, strlen(lg.job));
		json_escape(esc, sizeof(esc), msg, strlen(msg));
		n = snprintf(
		    line, sizeof(line),
		    "{\"time\":\"%s\",\"job\":\"%s\",\"stream\":\"jobshim\",\"message\":\"%s\"}\n",
		    ts, job, esc);
	} else if (lg.timestamps) {
		n = snprintf(line, sizeof(line), "%s jobshim%s%s\n", ts, cmd != NULL ? " " : ": ",
			     msg);
	} else {
		n = snprintf(line, sizeof(line), "jobshim%s%s\n", cmd != NULL ? " " : ": ", msg);
	}
	if (n < 0)
		goto out;
	len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
	if (line[len - 1] != '\n')
		line[len - 1] = '\n';
	{
		/* Never blocking: into stderr's queue, dropped (and counted)
		 * only when even jobshim's reserve there is full. */
		struct iovec iov = {.iov_base = line, .iov_len = len};
		(void)outq_writev(outq_std(STDERR_FILENO), &iov, 1);
	}
out:
	errno = saved;
}

static void log_emit(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

static void log_emit(const char *fmt, va_list ap)
{
	log_emit_as(NULL, fmt, ap);
}

void log_msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(fmt, ap);
	va_end(ap);
}

void log_cmd_msg(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit_as(cmd, fmt, ap);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	if (lg.verbose <= 0)
		return;
	va_start(ap, fmt);
	log_emit(fmt, ap);
	va_end(ap);
}

void log_trace(const char *fmt, ...)
{
	va_list ap;

	if (lg.verbose <= 1)
		return;
	va_start(ap, fmt);
	log_emit(fmt, ap);
	va_end(ap);
}

void log_child_error(const char *what, const char *detail, int err)
{
	const char *parts[7];
	char buf[512];
	size_t len = 0, n = 0;

	parts[n++] = "jobshim: ";
	parts[n++] = what;
	if (detail != NULL) {
		parts[n++] = " ";
		parts[n++] = detail;
	}
	parts[n++] = ": ";
	parts[n++] = strerror(err);
	parts[n++] = "\n";
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(parts[i]);
		if (len + l >= sizeof(buf))
			l = sizeof(buf) - 1 - len;
		memcpy(buf + len, parts[i], l);
		len += l;
	}
	while (write(STDERR_FILENO, buf, len) < 0 && errno == EINTR)
		;
}

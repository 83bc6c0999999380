/* libFuzzer target for the status.json reader (SPEC §8).
 *
 * Input: the bytes `jobshim stats` finds in RUN_DIR/status.json, which it
 * treats as untrusted. status_parse must never crash, never read beyond
 * len, and bound what it accepts: at most STATUS_JOBS_MAX jobs, every name
 * NUL-terminated within its field. What it accepts, status_format writes
 * back. When its strings are printable ASCII, as jobshim's own are (job
 * names are DNS labels), that text parses to a document that formats the
 * same (a fixed point); other bytes are normalized by the writer (invalid
 * UTF-8 becomes U+FFFD), which may make a field too long to read back.
 *
 *   make fuzz-run FUZZ_TARGETS=status */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "status.h"

static bool printable(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s < 0x20 || *s > 0x7e)
			return false;
	return true;
}

static bool ascii_doc(const struct status_doc *d)
{
	for (size_t i = 0; i < d->n_jobs; i++) {
		const struct job_status *j = &d->jobs[i];
		if (!printable(j->name) || !printable(j->kind) || !printable(j->size) ||
		    !printable(j->next_local))
			return false;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what)
{
	fprintf(stderr, "fuzz_status: invariant broken: %s\n", what);
	abort();
}

static void check_bounded(const struct status_doc *d)
{
	if (d->n_jobs > STATUS_JOBS_MAX)
		die("more jobs than the table holds");
	for (size_t i = 0; i < d->n_jobs; i++) {
		const struct job_status *j = &d->jobs[i];
		if (memchr(j->name, '\0', sizeof(j->name)) == NULL ||
		    memchr(j->kind, '\0', sizeof(j->kind)) == NULL ||
		    memchr(j->size, '\0', sizeof(j->size)) == NULL ||
		    memchr(j->next_local, '\0', sizeof(j->next_local)) == NULL)
			die("a string field without its NUL");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* static: a document holds STATUS_JOBS_MAX jobs */
	static struct status_doc a, b;
	static char text[256 * 1024], again[256 * 1024];
	char *copy;
	int n, m;

	/* An exact-size heap copy: ASan sees any read past len. */
	copy = malloc(size ? size : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	memset(&a, 0, sizeof(a));
	if (status_parse(copy, size, &a) < 0) {
		free(copy);
		return 0;
	}
	free(copy);
	check_bounded(&a);
	n = status_format(text, sizeof(text), &a);
	if (n < 0)
		die("an accepted document does not format");
	if (!ascii_doc(&a))
		return 0;
	memset(&b, 0, sizeof(b));
	if (status_parse(text, (size_t)n, &b) < 0)
		die("status_format's own text is refused");
	check_bounded(&b);
	m = status_format(again, sizeof(again), &b);
	if (m != n || memcmp(text, again, (size_t)n) != 0)
		die("format(parse(format(d))) differs from format(d)");
	return 0;
}

/* libFuzzer target for the control request grammar (SPEC §10).
 *
 * Input: the bytes a client sends. control_parse must never crash, never
 * read beyond len, and accept only what it documents: an accepted request
 * has a valid verb, a job name of a-z, 0-9 and - (at most 63), a signal in
 * 1..64 for `signal`; its wire form (control_format) parses back to the
 * same request, and is itself a fixed point.
 *
 *   make fuzz-run FUZZ_TARGETS=control */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what)
{
	fprintf(stderr, "fuzz_control: invariant broken: %s\n", what);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct control_req a, b;
	char wire[CONTROL_REQ_MAX + 1], again[CONTROL_REQ_MAX + 1];
	struct err why;
	char *copy;
	int n, m;

	/* An exact-size heap copy: ASan sees any read past len. */
	copy = malloc(size ? size : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	if (control_parse(copy, size, &a, &why) < 0) {
		free(copy);
		if (why.msg[0] == '\0')
			die("a refusal without a reason");
		return 0;
	}
	free(copy);
	if (size > CONTROL_REQ_MAX)
		die("an oversized request accepted");
	if (a.verb != CTL_RESTART && a.verb != CTL_SIGNAL && a.verb != CTL_RELOAD)
		die("unknown verb");
	if (strlen(a.job) > CONTROL_JOB_MAX ||
	    strspn(a.job, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(a.job))
		die("a job name outside the alphabet");
	if ((a.verb == CTL_SIGNAL) != (a.sig != 0) || a.sig < 0 || a.sig > 64)
		die("signal number");
	if ((a.verb == CTL_SIGNAL) && a.job[0] == '\0')
		die("signal without a job");
	if (a.verb == CTL_RELOAD && a.job[0] != '\0')
		die("reload with a job");
	n = control_format(&a, wire, sizeof(wire));
	if (n <= 0)
		die("an accepted request cannot be formatted");
	if (control_parse(wire, (size_t)n, &b, &why) < 0 || memcmp(&a, &b, sizeof(a)) != 0)
		die("the wire form does not parse back to the request");
	m = control_format(&b, again, sizeof(again));
	if (m != n || memcmp(wire, again, (size_t)n) != 0)
		die("the wire form is not a fixed point");
	return 0;
}

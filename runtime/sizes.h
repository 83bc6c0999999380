/* Deploio job sizes (SPEC §6): the one table every limit is derived from. */
#ifndef JOBSHIM_SIZES_H
#define JOBSHIM_SIZES_H

#include <stddef.h>
#include <stdint.h>

struct size_spec {
	const char *name;
	uint64_t memory_bytes; /* memory.max */
	unsigned cpu_millis;   /* CPU share in millicores */
	unsigned pids;	       /* pids.max, RLIMIT_NPROC for non-root jobs */
	unsigned nofile;       /* RLIMIT_NOFILE, soft = hard */
};

extern const struct size_spec size_table[];
extern const size_t size_count;

/* The size called `name`, or NULL. */
const struct size_spec *size_lookup(const char *name);
/* "micro, mini, standard-1, standard-2, standard-4", for error messages. */
const char *size_names(void);

/* Bytes as the size table writes memory, in binary units rounded down: the
 * largest of Ki, Mi, Gi, Ti that gives an exact value or one of at least 10
 * ("87Mi", "2Gi", "1536Mi"); plain bytes below 1Ki; "-" for a negative
 * value. snprintf-like. The one bytes formatter: shim/fmt.h's fmt_bytes
 * for output, runtime's messages directly. */
int size_format_bytes(char *buf, size_t cap, int64_t bytes);

#endif

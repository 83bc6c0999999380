/* Lists of job names in messages: "web, sidekiq, mailer", or, when they do
 * not all fit, the whole names that do and ", and N more". A name is never
 * cut in the middle, and the buffer is always terminated. */
#ifndef JOBSHIM_NAMELIST_H
#define JOBSHIM_NAMELIST_H

#include <stddef.h>

/* Writes into buf, which it does not own. */
struct namelist {
	char *buf;
	size_t cap;
	size_t len;  /* of what buf holds */
	size_t more; /* names that did not fit */
};

void namelist_init(struct namelist *l, char *buf, size_t cap);
/* Appends name (", name" after the first), or counts it when it, and room
 * for ", and N more" after it, do not fit. */
void namelist_add(struct namelist *l, const char *name);
/* Appends ", and N more" ("N more" alone) when names were left out;
 * returns buf. */
const char *namelist_end(struct namelist *l);

#endif

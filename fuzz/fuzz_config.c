/* libFuzzer target: any bytes as .deploio.yaml. config_parse must return
 * 0/-EINVAL/-ENOMEM, never crash, hang or leak; every message it reports
 * must be a valid C string. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c;
	struct errlist e = {0};
	int r = config_parse((const char *)data, size, "f.yaml", &c, &e);

	if (r != 0 && r != -EINVAL && r != -ENOMEM)
		abort();
	if (r == 0 && e.n != 0)
		abort(); /* valid means no errors */
	if (r == -EINVAL && e.n == 0 && e.dropped == 0)
		abort(); /* invalid means at least one error */
	for (size_t i = 0; i < e.n; i++)
		if (strncmp(e.item[i].msg, "f.yaml", 6) != 0)
			abort(); /* every message names the file */
	for (size_t i = 0; i < c.n_jobs; i++)
		if (c.jobs[i].name == NULL || c.jobs[i].command == NULL)
			abort();
	config_free(&c);
	return 0;
}

/* yamlcheck: parse each YAML file named on the command line with libyaml,
 * every document of it, and report the first syntax error of each as
 * FILE:LINE:COL: PROBLEM. Exit 0 when all parse, 1 when any does not, 2 on
 * usage or I/O errors. integration/test_examples.sh runs it on the example
 * Compose and Kubernetes files; it checks syntax only, not schemas.
 *
 *   yamlcheck [-c] FILE...   -c: print the number of documents of each file
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

static int check_file(const char *path, int count)
{
	yaml_parser_t parser;
	yaml_event_t event;
	int documents = 0, rc = 0, done = 0;
	FILE *f = fopen(path, "rbe");

	if (!f) {
		fprintf(stderr, "yamlcheck: unable to open %s: %s\n", path, strerror(errno));
		return 2;
	}
	if (!yaml_parser_initialize(&parser)) {
		fprintf(stderr, "yamlcheck: out of memory\n");
		fclose(f);
		return 2;
	}
	yaml_parser_set_input_file(&parser, f);
	while (!done) {
		if (!yaml_parser_parse(&parser, &event)) {
			/* libyaml's marks count from 0; editors count from 1. */
			fprintf(stderr, "%s:%zu:%zu: %s%s%s\n", path, parser.problem_mark.line + 1,
				parser.problem_mark.column + 1,
				parser.context ? parser.context : "", parser.context ? ": " : "",
				parser.problem ? parser.problem : "syntax error");
			rc = 1;
			break;
		}
		if (event.type == YAML_DOCUMENT_START_EVENT)
			documents++;
		done = event.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&event);
	}
	yaml_parser_delete(&parser);
	fclose(f);
	if (rc == 0 && count)
		printf("%s: %d\n", path, documents);
	return rc;
}

int main(int argc, char **argv)
{
	int rc = 0, count = 0, i = 1;

	if (i < argc && strcmp(argv[i], "-c") == 0) {
		count = 1;
		i++;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: yamlcheck [-c] FILE...\n");
		return 2;
	}
	for (; i < argc; i++) {
		int r = check_file(argv[i], count);
		if (r > rc)
			rc = r;
	}
	return rc;
}

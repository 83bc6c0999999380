/* shim/jsonw: commas and nesting, string escaping, the first error kept. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jsonq.h"
#include "jsonw.h"

/* Each row writes one document; want is what it reads as. */
struct doc_row {
	const char *name;
	void (*write)(struct jw *w);
	const char *want;
	int rc;
};

static void doc_empty_obj(struct jw *w)
{
	jw_obj_begin(w);
	jw_obj_end(w);
}

static void doc_members(struct jw *w)
{
	jw_obj_begin(w);
	jw_key(w, "a");
	jw_int(w, -3);
	jw_key(w, "b");
	jw_uint(w, UINT64_MAX);
	jw_key(w, "c");
	jw_bool(w, true);
	jw_key(w, "d");
	jw_bool(w, false);
	jw_key(w, "e");
	jw_null(w);
	jw_key(w, "f");
	jw_str(w, NULL);
	jw_obj_end(w);
}

static void doc_nested(struct jw *w)
{
	jw_obj_begin(w);
	jw_key(w, "jobs");
	jw_arr_begin(w);
	for (int i = 0; i < 3; i++) {
		jw_obj_begin(w);
		jw_key(w, "n");
		jw_int(w, i);
		jw_key(w, "tags");
		jw_arr_begin(w);
		for (int k = 0; k < i; k++)
			jw_str(w, "x");
		jw_arr_end(w);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_key(w, "empty");
	jw_arr_begin(w);
	jw_arr_end(w);
	jw_obj_end(w);
}

static void doc_escapes(struct jw *w)
{
	jw_arr_begin(w);
	jw_str(w, "q\"b\\s/");
	jw_str(w, "\n\r\t\x01\x1f\x7f");
	jw_str(w, "caf\xc3\xa9 \xe2\x82\xac");
	jw_str(w, "bad \xff \xc3");
	jw_strn(w, "nul\0after", 9);
	jw_arr_end(w);
}

static void doc_escaped_key(struct jw *w)
{
	jw_obj_begin(w);
	jw_key(w, "memory.max\"");
	jw_int(w, 1);
	jw_obj_end(w);
}

static void doc_long_string(struct jw *w)
{
	char s[3001];

	memset(s, 'a', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	s[1500] = '"';
	jw_arr_begin(w);
	jw_str(w, s);
	jw_arr_end(w);
}

static void doc_unclosed(struct jw *w)
{
	jw_obj_begin(w);
	jw_key(w, "a");
	jw_arr_begin(w);
}

static void doc_close_too_many(struct jw *w)
{
	jw_arr_begin(w);
	jw_arr_end(w);
	jw_arr_end(w);
}

static void doc_key_without_value(struct jw *w)
{
	jw_obj_begin(w);
	jw_key(w, "a");
	jw_obj_end(w);
}

static void doc_too_deep(struct jw *w)
{
	for (int i = 0; i < JW_DEPTH_MAX + 1; i++)
		jw_arr_begin(w);
	for (int i = 0; i < JW_DEPTH_MAX + 1; i++)
		jw_arr_end(w);
}

static void test_jw_documents(void **state)
{
	static char long_want[3001 + 8];
	struct doc_row rows[] = {
	    {"empty object", doc_empty_obj, "{}\n", 0},
	    {"members", doc_members,
	     "{\"a\":-3,\"b\":18446744073709551615,\"c\":true,\"d\":false,\"e\":null,\"f\":null}"
	     "\n",
	     0},
	    {"nested", doc_nested,
	     "{\"jobs\":[{\"n\":0,\"tags\":[]},{\"n\":1,\"tags\":[\"x\"]},{\"n\":2,\"tags\":"
	     "[\"x\",\"x\"]}],\"empty\":[]}\n",
	     0},
	    {"escapes", doc_escapes,
	     "[\"q\\\"b\\\\s/\",\"\\n\\r\\t\\u0001\\u001f\\u007f\",\"caf\xc3\xa9 \xe2\x82\xac\","
	     "\"bad \xef\xbf\xbd \xef\xbf\xbd\",\"nul\\u0000after\"]\n",
	     0},
	    {"escaped key", doc_escaped_key, "{\"memory.max\\\"\":1}\n", 0},
	    {"long string", doc_long_string, long_want, 0},
	    {"unclosed", doc_unclosed, NULL, -EINVAL},
	    {"closed too often", doc_close_too_many, NULL, -EINVAL},
	    {"key without value", doc_key_without_value, NULL, -EINVAL},
	    {"too deep", doc_too_deep, NULL, -EINVAL},
	};

	struct jsonq_batch valid = {0};

	(void)state;
	memset(long_want, 'a', sizeof(long_want));
	memcpy(long_want, "[\"", 2);
	memcpy(long_want + 2 + 1500, "\\\"", 2);
	memcpy(long_want + 2 + 3001, "\"]\n", 4);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		struct jw w;
		int rc;

		assert_non_null(f);
		jw_init(&w, f);
		rows[i].write(&w);
		rc = jw_finish(&w);
		fclose(f);
		if (rc != rows[i].rc)
			fail_msg("%s: rc %d, want %d", rows[i].name, rc, rows[i].rc);
		if (rows[i].want != NULL && strcmp(buf, rows[i].want) != 0)
			fail_msg("%s: wrote\n%s\nwant\n%s", rows[i].name, buf, rows[i].want);
		if (rows[i].rc == 0)
			jsonq_batch_add(&valid, buf, len);
		free(buf);
	}
	/* What it wrote is JSON to python3's json module too, a document a line. */
	assert_int_equal(jsonq(valid.buf, valid.len, NULL, "--lines", (char *)NULL), 0);
	jsonq_batch_free(&valid);
}

/* A failed write is kept and returned by jw_finish; nothing after it is
 * written. */
static void test_jw_write_error(void **state)
{
	FILE *f = fopen("/dev/full", "w");
	struct jw w;

	(void)state;
	if (f == NULL)
		fail_msg("/dev/full: %s", strerror(errno));
	setvbuf(f, NULL, _IONBF, 0);
	jw_init(&w, f);
	jw_obj_begin(&w);
	assert_int_equal(w.err, -ENOSPC);
	jw_key(&w, "a");
	jw_int(&w, 1);
	jw_obj_end(&w);
	assert_int_equal(jw_finish(&w), -ENOSPC);
	fclose(f);

	/* Buffered: the error comes at the flush. */
	f = fopen("/dev/full", "w");
	assert_non_null(f);
	jw_init(&w, f);
	jw_arr_begin(&w);
	jw_str(&w, "x");
	jw_arr_end(&w);
	assert_int_equal(w.err, 0);
	assert_int_equal(jw_finish(&w), -ENOSPC);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_jw_documents),
	    cmocka_unit_test(test_jw_write_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

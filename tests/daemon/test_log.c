/*
 * test_log.c - the logger (daemon/log.c): text lines, JSON lines with their
 * fields, levels, and bytes that are not UTF-8 in JSON
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "tapir/log.h"

/* Everything @l wrote, as one string (freed by the caller) */
static char *drain(struct tapir_logger *l)
{
	fflush(l->out);
	long n = ftell(l->out);
	rewind(l->out);
	char *s = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(s, 1, (size_t)n, l->out), (size_t)n);
	fclose(l->out);
	return s;
}

static void test_text(void **state)
{
	struct tapir_logger l;
	tapir_logger_init(&l, TAPIR_LOG_LEVEL_INFO, false);
	l.out = tmpfile();
	tapir_log_info(&l, "hello %d", 42);
	tapir_log_debug(&l, "not shown");
	const char *const f[] = { "k", "v", NULL };
	tapir_log_fields(&l, TAPIR_LOG_LEVEL_WARN, f, "with fields");
	char *s = drain(&l);
	assert_string_equal(s, "tapird: info: hello 42\ntapird: warn: with fields\n");
	free(s);
}

static void test_json(void **state)
{
	struct tapir_logger l;
	tapir_logger_init(&l, TAPIR_LOG_LEVEL_INFO, false);
	tapir_logger_set_json(&l, true, "inst");
	l.out = tmpfile();
	tapir_log_err(&l, "plain \"quoted\" \\ %s", "x");
	const char *const f[] = { "status", "200", "skipped", NULL, "bad", "a\xff\xc3(b", NULL };
	tapir_log_fields(&l, TAPIR_LOG_LEVEL_INFO, f, "bytes \xe2\x82 end");
	tapir_log_debug(&l, "not shown");
	char *s = drain(&l);
	char *nl = strchr(s, '\n');
	assert_non_null(nl);
	assert_string_equal(nl + 1 + strcspn(nl + 1, "\n"), "\n");  /* two lines */
	json_error_t e;
	json_t *a = json_loadb(s, (size_t)(nl - s), 0, &e);
	json_t *b = json_loads(nl + 1, 0, &e);
	assert_non_null(a);
	assert_non_null(b);
	assert_string_equal(json_string_value(json_object_get(a, "level")), "error");
	assert_string_equal(json_string_value(json_object_get(a, "instance")), "inst");
	assert_string_equal(json_string_value(json_object_get(a, "message")), "plain \"quoted\" \\ x");
	assert_int_equal(json_object_size(json_object_get(a, "fields")), 0);
	const char *t = json_string_value(json_object_get(a, "time"));
	assert_non_null(t);
	assert_int_equal(strlen(t), 24);  /* 2024-05-01T12:00:00.123Z */
	assert_int_equal(t[23], 'Z');
	assert_string_equal(json_string_value(json_object_get(b, "level")), "info");
	assert_string_equal(json_string_value(json_object_get(b, "message")),
			    "bytes \xef\xbf\xbd\xef\xbf\xbd end");
	json_t *fl = json_object_get(b, "fields");
	assert_int_equal(json_object_size(fl), 2);
	assert_string_equal(json_string_value(json_object_get(fl, "status")), "200");
	assert_string_equal(json_string_value(json_object_get(fl, "bad")),
			    "a\xef\xbf\xbd\xef\xbf\xbd(b");
	json_decref(a);
	json_decref(b);
	free(s);
	/* and back to text */
	tapir_logger_set_json(&l, false, NULL);
	l.out = tmpfile();
	tapir_log_info(&l, "again");
	s = drain(&l);
	assert_string_equal(s, "tapird: info: again\n");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_bootargs.c - MirageOS-style boot-argument tokenizer and the
 * --section.key=value split
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "bootargs.h"

#define MAXTOK 8

struct tcase {
	const char *line;
	size_t n;
	const char *tok[MAXTOK];
};

static void check(const struct tcase *c)
{
	char **v = (char **)1;
	size_t n = 99;
	char err[128] = "";
	int rc = bootargs_tokenize(c->line, &v, &n, err, sizeof(err));
	if (rc)
		fail_msg("'%s': %s", c->line, err);
	if (n != c->n)
		fail_msg("'%s': %zu tokens, expected %zu", c->line, n, c->n);
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], c->tok[i]))
			fail_msg("'%s': token %zu is '%s', expected '%s'", c->line, i, v[i],
				 c->tok[i]);
	if (n == 0)
		assert_null(v);
	bootargs_free(v, n);
}

static void test_tokens(void **state)
{
	static const struct tcase cases[] = {
		{ "", 0, { NULL } },
		{ "    ", 0, { NULL } },
		{ "a", 1, { "a" } },
		{ "a b c", 3, { "a", "b", "c" } },
		/* multiple, leading and trailing spaces */
		{ "  a    b  ", 2, { "a", "b" } },
		/* escaped space */
		{ "a\\ b c", 2, { "a b", "c" } },
		{ "\\ ", 1, { " " } },
		/* escaped quote, escaped backslash, escaped ordinary character */
		{ "a\\\"b", 1, { "a\"b" } },
		{ "a\\\\b", 1, { "a\\b" } },
		{ "\\x", 1, { "x" } },
		/* quotes: spaces kept, quotes removed, inside a token too */
		{ "\"a b\" c", 2, { "a b", "c" } },
		{ "--x.y=\"hello  world\" --z.w=1", 2, { "--x.y=hello  world", "--z.w=1" } },
		{ "ab\"c d\"ef", 1, { "abc def" } },
		{ "\"a\\\"b\"", 1, { "a\"b" } },
		{ "\"a\\ b\"", 1, { "a b" } },
		/* empty quotes: an empty token */
		{ "\"\"", 1, { "" } },
		{ "a \"\" b", 3, { "a", "", "b" } },
		{ "--a.b=\"\"", 1, { "--a.b=" } },
		/* only spaces split: tabs and newlines are ordinary characters */
		{ "a\tb\nc", 1, { "a\tb\nc" } },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check(&cases[i]);
}

static void test_errors(void **state)
{
	static const struct {
		const char *line;
		const char *msg;
	} bad[] = {
		{ "\"abc", "unterminated quote" },
		{ "a \"b c", "unterminated quote (opened at offset 2)" },
		{ "\"a\" \"", "unterminated quote (opened at offset 4)" },
		{ "abc\\", "trailing backslash at offset 3" },
		{ "\\", "trailing backslash" },
		{ "\"a b\\", "trailing backslash" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char **v = (char **)1;
		size_t n = 99;
		char err[128] = "";
		assert_int_equal(bootargs_tokenize(bad[i].line, &v, &n, err, sizeof(err)), -EINVAL);
		assert_null(v);
		assert_int_equal(n, 0);
		if (!strstr(err, bad[i].msg))
			fail_msg("'%s': message '%s', expected '%s'", bad[i].line, err, bad[i].msg);
	}
	/* a NULL error buffer is fine */
	char **v;
	size_t n;
	assert_int_equal(bootargs_tokenize("\"", &v, &n, NULL, 0), -EINVAL);
}

static void test_split(void **state)
{
	static const struct {
		const char *tok, *section, *key, *value;
	} ok[] = {
		{ "--app.echo.port=7", "app.echo", "port", "7" },
		{ "--netif.impair.loss=1%", "netif", "impair.loss", "1%" },
		{ "--ipv4.address=192.0.2.2/24", "ipv4", "address", "192.0.2.2/24" },
		{ "--kv.data.path=/srv/x", "kv.data", "path", "/srv/x" },
		{ "--app.e.x.y=1", "app.e", "x.y", "1" },
		{ "--a.b=c=d", "a", "b", "c=d" },
		{ "--a.b=", "a", "b", "" },
		{ "--application.x=1", "application", "x", "1" },
		{ "--kvs.x=1", "kvs", "x", "1" },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct bootarg a;
		char err[128] = "";
		int rc = bootarg_split(ok[i].tok, &a, err, sizeof(err));
		if (rc)
			fail_msg("'%s': %s", ok[i].tok, err);
		assert_string_equal(a.section, ok[i].section);
		assert_string_equal(a.key, ok[i].key);
		assert_string_equal(a.value, ok[i].value);
		bootarg_release(&a);
	}
	static const struct {
		const char *tok, *msg;
	} bad[] = {
		{ "netif.mtu=1", "expected --section.key=value" },
		{ "-netif.mtu=1", "expected --section.key=value" },
		{ "--netif.mtu", "no '='" },
		{ "--mtu=1", "no section" },
		{ "--.mtu=1", "no section" },
		{ "--netif.=1", "no key" },
		{ "--app.echo=1", "expected --app.NAME.key=value" },
		{ "--kv.x=1", "expected --kv.NAME.key=value" },
		{ "--app..port=1", "empty name" },
		{ "--app.echo.=1", "no key" },
		{ "", "expected --section.key=value" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct bootarg a;
		char err[128] = "";
		assert_int_equal(bootarg_split(bad[i].tok, &a, err, sizeof(err)), -EINVAL);
		assert_null(a.section);
		if (!strstr(err, bad[i].msg))
			fail_msg("'%s': message '%s', expected '%s'", bad[i].tok, err, bad[i].msg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_split),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

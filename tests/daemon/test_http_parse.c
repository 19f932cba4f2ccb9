/*
 * test_http_parse.c - the HTTP request parser: heads, limits, statuses,
 *                     ranges, paths, dates
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "http_parse.h"

static struct http_header hdrs[8];
static const struct http_limits lim = { .max_head = 256, .max_target = 64, .max_headers = 8 };

static int parse(const char *s, struct http_request *r)
{
	return http_parse_request((const uint8_t *)s, strlen(s), &lim, r, hdrs);
}

static void test_good(void **state)
{
	struct http_request r;
	const char *s = "GET /a%20b?x=1 HTTP/1.1\r\nHost: h\r\nX-A:  v  \r\n\r\nNEXT";
	assert_int_equal(parse(s, &r), (int)strlen(s) - 4);
	assert_int_equal(r.method, HTTP_M_GET);
	assert_int_equal(r.minor, 1);
	assert_true(r.keep_alive);
	assert_int_equal(r.nheaders, 2);
	assert_true(http_str_ieq(http_header_find(&r, "x-a"), "v"));
	assert_null(http_header_find(&r, "range"));
	char path[64];
	assert_int_equal(http_url_decode(&r.target, path, sizeof(path)), 4);
	assert_string_equal(path, "/a b");

	/* HTTP/1.0: no Host needed, closes unless keep-alive; bare LF */
	assert_true(parse("HEAD / HTTP/1.0\n\n", &r) > 0);
	assert_int_equal(r.method, HTTP_M_HEAD);
	assert_false(r.keep_alive);
	assert_true(parse("GET / HTTP/1.0\nConnection: Keep-Alive\n\n", &r) > 0);
	assert_true(r.keep_alive);
	assert_true(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: x, close\r\n\r\n", &r) > 0);
	assert_false(r.keep_alive);
	/* a body's framing */
	assert_true(parse("PUT /k HTTP/1.1\r\nHost: h\r\nContent-Length: 12\r\n"
			  "Expect: 100-continue\r\n\r\n", &r) > 0);
	assert_true(r.has_length);
	assert_int_equal(r.content_length, 12);
	assert_true(r.expect_continue);
	assert_true(parse("POST /k HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", &r) > 0);
	assert_true(r.chunked);
	/* an empty line before the request is ignored */
	assert_true(parse("\r\nDELETE /x HTTP/1.1\r\nHost: h\r\n\r\n", &r) > 0);
	assert_int_equal(r.method, HTTP_M_DELETE);
}

static void test_incomplete_and_limits(void **state)
{
	struct http_request r;
	assert_int_equal(parse("", &r), 0);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: h\r\n", &r), 0);
	assert_int_equal(parse("GET /aaaa", &r), 0);
	char big[400];
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /", 5);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(parse(big, &r), -414);  /* the target alone is too long */
	snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nHost: h\r\nX: %0300d", 0);
	assert_int_equal(parse(big, &r), -431);
	const char *many = "GET / HTTP/1.1\r\nHost: h\r\na:1\r\nb:1\r\nc:1\r\nd:1\r\ne:1\r\n"
			   "f:1\r\ng:1\r\nh:1\r\n\r\n";
	assert_int_equal(parse(many, &r), -431);
}

static void test_bad(void **state)
{
	static const struct { const char *s; int want; } bad[] = {
		{ "GARBAGE\r\n\r\n", -400 },
		{ "GET / HTTP/1.1\r\n\r\n", -400 },                       /* no Host */
		{ "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", -400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\n x\r\n\r\n", -400 },      /* folding */
		{ "GET / HTTP/1.1\r\nHost : a\r\n\r\n", -400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", -400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n", -400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n", -400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", -501 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", -501 },
		{ "GET / HTTP/2.0\r\nHost: a\r\n\r\n", -505 },
		{ "GET / HTTP/1.2\r\nHost: a\r\n\r\n", -505 },
		{ "GET / HTTP/1.10\r\nHost: a\r\n\r\n", -400 },
		{ "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", -400 },
		{ "G@T / HTTP/1.1\r\nHost: a\r\n\r\n", -400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nX: \x01\r\n\r\n", -400 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct http_request r;
		int rc = parse(bad[i].s, &r);
		if (rc != bad[i].want)
			fail_msg("case %zu: got %d, want %d", i, rc, bad[i].want);
	}
}

static void test_range(void **state)
{
	static const struct { const char *v; uint64_t size; int rc; uint64_t a, b; } t[] = {
		{ "bytes=0-9", 100, 1, 0, 9 },
		{ "bytes=90-", 100, 1, 90, 99 },
		{ "bytes=-10", 100, 1, 90, 99 },
		{ "bytes=-1000", 100, 1, 0, 99 },
		{ "bytes=50-1000", 100, 1, 50, 99 },
		{ "bytes=100-", 100, -416, 0, 0 },
		{ "bytes=-0", 100, -416, 0, 0 },
		{ "bytes=0-0", 0, -416, 0, 0 },
		{ "bytes=5-1", 100, 0, 0, 0 },
		{ "bytes=0-1,3-4", 100, 0, 0, 0 },
		{ "items=0-1", 100, 0, 0, 0 },
		{ "bytes=x-1", 100, 0, 0, 0 },
		{ "bytes=99999999999999999999-", 100, 0, 0, 0 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct http_str v = { t[i].v, strlen(t[i].v) };
		uint64_t a = 0, b = 0;
		int rc = http_parse_range(&v, t[i].size, &a, &b);
		if (rc != t[i].rc || (rc == 1 && (a != t[i].a || b != t[i].b)))
			fail_msg("%s: got %d %llu-%llu", t[i].v, rc, (unsigned long long)a,
				 (unsigned long long)b);
	}
}

static void test_path_and_date(void **state)
{
	char out[16];
	static const struct { const char *t; int rc; const char *p; } u[] = {
		{ "/", 1, "/" }, { "/a%2Fb", 4, "/a/b" }, { "http://h/x?y", 2, "/x" },
		{ "/a#f", 2, "/a" }, { "x", -400, NULL }, { "/%0", -400, NULL },
		{ "/%00", -400, NULL }, { "/%zz", -400, NULL }, { "/aaaaaaaaaaaaaaaaaaaa", -400, NULL },
		{ "http://h", -400, NULL },
	};
	for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
		struct http_str t = { u[i].t, strlen(u[i].t) };
		int rc = http_url_decode(&t, out, sizeof(out));
		if (rc != u[i].rc || (rc >= 0 && strcmp(out, u[i].p)))
			fail_msg("%s: got %d", u[i].t, rc);
	}
	char buf[32];
	assert_string_equal(http_date_format(784111777, buf), "Sun, 06 Nov 1994 08:49:37 GMT");
	struct http_str d = { buf, strlen(buf) };
	time_t t;
	assert_int_equal(http_date_parse(&d, &t), 0);
	assert_int_equal(t, 784111777);
	struct http_str bad = { "Sunday, 06-Nov-94 08:49:37 GMT", 30 };
	assert_int_equal(http_date_parse(&bad, &t), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_incomplete_and_limits),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_path_and_date),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_http_response.c - the http apps' responses without a stack: heads,
 *                        error pages, ETag, conditional requests, ranges,
 *                        the JSON listing (apps/http/response.c)
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_internal.h"

#define MTIME 784111777  /* Sun, 06 Nov 1994 08:49:37 GMT */
#define SIZE 100

static struct http_header hdrs[16];
static const struct http_limits lim = { .max_head = 2048, .max_target = 256,
					 .max_headers = 16 };

/* Parse @head (a full request head), failing the test if it is not one. */
static struct http_request req_of(const char *head)
{
	struct http_request r;
	int rc = http_parse_request((const uint8_t *)head, strlen(head), &lim, &r, hdrs);
	assert_int_equal(rc, (int)strlen(head));
	return r;
}

static const char *etag(void)
{
	static char e[HTTP_ETAG_LEN];
	uint8_t d[TAPIR_KV_DIGEST_LEN];
	for (size_t i = 0; i < sizeof(d); i++)
		d[i] = (uint8_t)(0xa0 + i);
	http_etag_format(d, e);
	return e;
}

static char *head(const struct http_head *hd)
{
	struct http_buf b = { 0 };
	http_head_build(&b, hd);
	assert_false(b.oom);
	return b.p;
}

static void test_head(void **state)
{
	const char *date = "Sun, 06 Nov 1994 08:49:37 GMT";
	char *h = head(&(struct http_head){ .status = 200, .date = date,
		.ctype = "text/html; charset=utf-8", .extra = "ETag: \"x\"\r\n",
		.content_length = 12 });
	assert_string_equal(h, "HTTP/1.1 200 OK\r\nServer: tapir\r\n"
			    "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
			    "Content-Type: text/html; charset=utf-8\r\nContent-Length: 12\r\n"
			    "ETag: \"x\"\r\n\r\n");
	free(h);
	/* 204 and 304 carry no Content-Length; close wins over keep-alive */
	h = head(&(struct http_head){ .status = 204, .date = date, .content_length = 5,
		.close = true, .keep_alive = true });
	assert_string_equal(h, "HTTP/1.1 204 No Content\r\nServer: tapir\r\n"
			    "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\nConnection: close\r\n\r\n");
	free(h);
	h = head(&(struct http_head){ .status = 304, .date = date, .keep_alive = true });
	assert_string_equal(h, "HTTP/1.1 304 Not Modified\r\nServer: tapir\r\n"
			    "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\nConnection: keep-alive\r\n\r\n");
	free(h);
	h = head(&(struct http_head){ .status = 404, .date = date, .content_length = 0 });
	assert_string_equal(h, "HTTP/1.1 404 Not Found\r\nServer: tapir\r\n"
			    "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Length: 0\r\n\r\n");
	free(h);
	/* every digit of a length (built without printf), two extra sets of fields */
	h = head(&(struct http_head){ .status = 206, .date = date, .extra = "A: 1\r\n",
		.extra2 = "B: 2\r\n", .content_length = UINT64_MAX });
	assert_string_equal(h, "HTTP/1.1 206 Partial Content\r\nServer: tapir\r\n"
			    "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
			    "Content-Length: 18446744073709551615\r\nA: 1\r\nB: 2\r\n\r\n");
	free(h);
	h = head(&(struct http_head){ .status = 200, .date = date, .content_length = 1024 });
	assert_non_null(strstr(h, "\r\nContent-Length: 1024\r\n"));
	free(h);
}

static void test_errors(void **state)
{
	char b[64];
	assert_int_equal(http_error_body(404, b, sizeof(b)), 14);
	assert_string_equal(b, "404 Not Found\n");
	assert_int_equal(http_error_body(416, b, sizeof(b)), 26);
	assert_string_equal(b, "416 Range Not Satisfiable\n");
	assert_int_equal(http_error_body(404, b, 5), 4);  /* truncated, terminated */
	assert_string_equal(b, "404 ");
	assert_string_equal(http_status_text(299), "Unknown");
	int closing[] = { 400, 408, 411, 413, 414, 431, 501, 505 };
	for (size_t i = 0; i < sizeof(closing) / sizeof(closing[0]); i++)
		assert_true(http_status_closes(closing[i]));
	assert_false(http_status_closes(404));
	assert_false(http_status_closes(416));
	assert_int_equal(http_kv_status(-TAPIR_KV_E_NOT_FOUND), 404);
	assert_int_equal(http_kv_status(TAPIR_KV_E_ALREADY_PRESENT), 409);
	assert_int_equal(http_kv_status(-TAPIR_KV_E_NO_SPACE), 507);
	assert_int_equal(http_kv_status(-TAPIR_KV_E_STORAGE), 500);
	assert_string_equal(http_content_type("/a/b.HTML"), "text/html; charset=utf-8");
	assert_string_equal(http_content_type("/a.d/readme"), "application/octet-stream");
	assert_string_equal(http_content_type("/x."), "application/octet-stream");
}

static void test_etag(void **state)
{
	const char *e = etag();
	assert_string_equal(e, "\"a0a1a2a3a4a5a6a7a8a9aaabacadaeaf\"");
	struct http_str star = { "*", 1 };
	assert_true(http_etag_match(&star, e));
	char list[128];
	snprintf(list, sizeof(list), "\"zz\", W/%s", e);  /* weak comparison */
	struct http_str l = { list, strlen(list) };
	assert_true(http_etag_match(&l, e));
	struct http_str other = { "\"a0a1\"", 6 };
	assert_false(http_etag_match(&other, e));
}

#define FIELDS "ETag: \"a0a1a2a3a4a5a6a7a8a9aaabacadaeaf\"\r\n" \
	"Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\nAccept-Ranges: bytes\r\n"

static struct http_value_reply reply(const char *hd)
{
	struct http_request r = req_of(hd);
	struct http_value_reply v;
	memset(&v, 0xa5, sizeof(v));
	http_value_reply(&r, SIZE, MTIME, etag(), &v);
	return v;
}

/* The fields made once per value (the digest cache's) give the same answers */
static void test_value_fields(void **state)
{
	char f[HTTP_VALUE_FIELDS_LEN];
	size_t n = http_value_fields(MTIME, etag(), f, sizeof(f));
	assert_int_equal(n, strlen(FIELDS));
	assert_string_equal(f, FIELDS);
	char small[50];
	assert_int_equal(http_value_fields(MTIME, etag(), small, sizeof(small)), 0);
	assert_string_equal(small, "");
	struct http_request r = req_of("GET /a HTTP/1.1\r\nHost: h\r\nRange: bytes=10-19\r\n\r\n");
	struct http_value_reply v, w;
	memset(&v, 0xa5, sizeof(v));
	memset(&w, 0x5a, sizeof(w));
	http_value_reply(&r, SIZE, MTIME, etag(), &v);
	http_value_reply_fields(&r, SIZE, MTIME, etag(), f, n, &w);
	assert_int_equal(v.status, 206);
	assert_int_equal(w.status, 206);
	assert_int_equal(v.first, w.first);
	assert_int_equal(v.len, w.len);
	assert_string_equal(v.extra, w.extra);
}

static void test_conditional(void **state)
{
	struct http_value_reply v = reply("GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
	assert_int_equal(v.status, 200);
	assert_int_equal(v.first, 0);
	assert_int_equal(v.len, SIZE);
	assert_string_equal(v.extra, FIELDS);

	v = reply("GET /a HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"x\", "
		  "\"a0a1a2a3a4a5a6a7a8a9aaabacadaeaf\"\r\n\r\n");
	assert_int_equal(v.status, 304);
	assert_string_equal(v.extra, FIELDS);
	v = reply("HEAD /a HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"x\"\r\n\r\n");
	assert_int_equal(v.status, 200);
	/* If-Modified-Since: not modified at or after mtime */
	v = reply("GET /a HTTP/1.1\r\nHost: h\r\n"
		  "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n");
	assert_int_equal(v.status, 304);
	v = reply("GET /a HTTP/1.1\r\nHost: h\r\n"
		  "If-Modified-Since: Sun, 06 Nov 1994 08:49:36 GMT\r\n\r\n");
	assert_int_equal(v.status, 200);
	/* If-None-Match wins over If-Modified-Since (RFC 9110 13.1.3) */
	v = reply("GET /a HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"x\"\r\n"
		  "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n");
	assert_int_equal(v.status, 200);
	/* a date that is not IMF-fixdate is ignored */
	v = reply("GET /a HTTP/1.1\r\nHost: h\r\nIf-Modified-Since: yesterday\r\n\r\n");
	assert_int_equal(v.status, 200);
}

static void test_range(void **state)
{
	struct http_value_reply v = reply("GET /a HTTP/1.1\r\nHost: h\r\nRange: bytes=10-19\r\n\r\n");
	assert_int_equal(v.status, 206);
	assert_int_equal(v.first, 10);
	assert_int_equal(v.len, 10);
	assert_string_equal(v.extra, FIELDS "Content-Range: bytes 10-19/100\r\n");
	v = reply("GET /a HTTP/1.1\r\nHost: h\r\nRange: bytes=-5\r\n\r\n");
	assert_int_equal(v.status, 206);
	assert_int_equal(v.first, 95);
	assert_int_equal(v.len, 5);
	v = reply("GET /a HTTP/1.1\r\nHost: h\r\nRange: bytes=90-\r\n\r\n");
	assert_int_equal(v.status, 206);
	assert_string_equal(v.extra, FIELDS "Content-Range: bytes 90-99/100\r\n");
	v = reply("GET /a HTTP/1.1\r\nHost: h\r\nRange: bytes=100-\r\n\r\n");
	assert_int_equal(v.status, 416);
	assert_string_equal(v.extra, FIELDS "Content-Range: bytes */100\r\n");
	/* several ranges, other units, HEAD: the whole value */
	v = reply("GET /a HTTP/1.1\r\nHost: h\r\nRange: bytes=0-1,5-6\r\n\r\n");
	assert_int_equal(v.status, 200);
	assert_int_equal(v.len, SIZE);
	v = reply("GET /a HTTP/1.1\r\nHost: h\r\nRange: lines=1-2\r\n\r\n");
	assert_int_equal(v.status, 200);
	v = reply("HEAD /a HTTP/1.1\r\nHost: h\r\nRange: bytes=10-19\r\n\r\n");
	assert_int_equal(v.status, 200);
	assert_string_equal(v.extra, FIELDS);
	/* If-Range: the range only for the current ETag */
	v = reply("GET /a HTTP/1.1\r\nHost: h\r\nRange: bytes=0-0\r\n"
		  "If-Range: \"a0a1a2a3a4a5a6a7a8a9aaabacadaeaf\"\r\n\r\n");
	assert_int_equal(v.status, 206);
	assert_int_equal(v.len, 1);
	v = reply("GET /a HTTP/1.1\r\nHost: h\r\nRange: bytes=0-0\r\nIf-Range: \"old\"\r\n\r\n");
	assert_int_equal(v.status, 200);
	assert_int_equal(v.len, SIZE);
	/* a range after a matching If-None-Match is still 304 */
	v = reply("GET /a HTTP/1.1\r\nHost: h\r\nRange: bytes=0-0\r\nIf-None-Match: *\r\n\r\n");
	assert_int_equal(v.status, 304);
}

static void test_listing(void **state)
{
	char n0[] = "b", n1[] = "q\"u\\o\x01te", n2[] = "\xc3\xa9t\xe9", n3[] = "x\xed\xa0\x80y";
	struct tapir_kv_entry e[] = {
		{ .name = n0, .kind = TAPIR_KV_DICT }, { .name = n1, .kind = TAPIR_KV_VALUE },
		{ .name = n2, .kind = TAPIR_KV_VALUE }, { .name = n3, .kind = TAPIR_KV_VALUE },
	};
	char *s = http_listing_json(e, 1);
	assert_string_equal(s, "[{\"name\":\"b\",\"type\":\"dictionary\"}]\n");
	free(s);
	s = http_listing_json(e, 0);
	assert_string_equal(s, "[]\n");
	free(s);
	s = http_listing_json(e + 1, 3);
	assert_string_equal(s, "[{\"name\":\"q\\\"u\\\\o\\u0001te\",\"type\":\"value\"},"
			    "{\"name\":\"\xc3\xa9t\xef\xbf\xbd\",\"type\":\"value\"},"
			    "{\"name\":\"x\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdy\",\"type\":\"value\"}]\n");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_head),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_etag),
		cmocka_unit_test(test_conditional),
		cmocka_unit_test(test_value_fields),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_listing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

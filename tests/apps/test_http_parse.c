/*
 * test_http_parse.c - the HTTP request parser: heads, limits, statuses,
 *                     chunked bodies, ranges, paths, dates
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
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
		{ "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: x;q=\"a,b\", chunked\r\n\r\n", -501 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", -400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", -400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;x=1\r\n\r\n", -400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked x\r\n\r\n", -400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: x;q=\"a\r\n\r\n", -400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: x;q\r\n\r\n", -400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \"chunked\"\r\n\r\n", -400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n", -400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ,\r\n\r\n", -400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
		  "Transfer-Encoding: chunked\r\n\r\n", -400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
		  "Transfer-Encoding: chunked\r\n\r\n", -400 },
		{ "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", -400 },
		{ "POST / HTTP/1.0\r\nTransfer-Encoding: gzip\r\n\r\n", -400 },
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

/* ---- chunked bodies ---- */

/* Decode @body (@len bytes) in pieces of @step bytes, the way a connection
 * does it: in place, the undecoded rest moved behind the data after each
 * call.  Return: the decoder's last answer; *@data, *@data_len the body;
 * *@end where the body ended in the input */
static int decode_steps(const char *body, size_t len, size_t step, uint64_t max,
			size_t max_trailers, uint8_t *buf, size_t *data_len, size_t *end)
{
	struct http_chunked d;
	http_chunked_init(&d, max, max_trailers);
	size_t have = 0, dec = 0, fed = 0;
	int rc = 0;
	*end = 0;
	while (fed < len || have > dec) {
		size_t n = len - fed < step ? len - fed : step;
		memcpy(buf + have, body + fed, n);  /* a TCP read arrives */
		have += n;
		fed += n;
		size_t used, produced;
		rc = http_chunked_decode(&d, buf + dec, have - dec, buf + dec, &used, &produced);
		assert_true(produced <= used);
		assert_true(used <= have - dec);
		memmove(buf + dec + produced, buf + dec + used, have - dec - used);
		have -= used - produced;
		dec += produced;
		if (rc != 0) {
			*end = fed - (have - dec);
			/* what follows the body (pipelined) is behind the data, intact */
			assert_memory_equal(buf + dec, body + *end, have - dec);
			break;
		}
	}
	*data_len = dec;
	return rc;
}

static int decode(const char *body, uint64_t max, uint8_t *buf, size_t *data_len, size_t *end)
{
	return decode_steps(body, strlen(body), strlen(body) + 1, max, 256, buf, data_len, end);
}

static void test_chunked_good(void **state)
{
	static const struct { const char *body, *data; } t[] = {
		{ "0\r\n\r\n", "" },
		{ "5\r\nhello\r\n0\r\n\r\n", "hello" },
		{ "5\r\nhello\r\n1\r\n \r\n6\r\nworld!\r\n0\r\n\r\n", "hello world!" },
		{ "A\r\n0123456789\r\na\r\nabcdefghij\r\n0\r\n\r\n", "0123456789abcdefghij" },
		{ "00000003\r\nabc\r\n000\r\n\r\n", "abc" },
		/* chunk-ext: ignored, BWS before ';', quoted values */
		{ "3;name=value\r\nabc\r\n0;last\r\n\r\n", "abc" },
		{ "3 ;a=\"x;y\\\"z\" ; b\r\nabc\r\n0\t;x\r\n\r\n", "abc" },
		/* trailers: checked, ignored */
		{ "3\r\nabc\r\n0\r\nX-Sum: 12\r\nY:\r\n\r\n", "abc" },
		/* data is binary: CR, LF and NUL inside a chunk are data */
		{ "4\r\n\r\n\n\0\r\n0\r\n\r\n", "\r\n\n" },  /* (strlen stops at NUL: 3 bytes) */
	};
	uint8_t buf[256];
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (i == 8)
			continue;  /* below, with its length */
		size_t dl, end;
		int rc = decode(t[i].body, UINT64_MAX, buf, &dl, &end);
		if (rc != 1 || dl != strlen(t[i].data) || memcmp(buf, t[i].data, dl) ||
		    end != strlen(t[i].body))
			fail_msg("case %zu: rc %d, %zu data bytes, end %zu", i, rc, dl, end);
	}
	static const char bin[] = "4\r\n\r\n\n\0\r\n0\r\n\r\n";
	size_t dl, end;
	assert_int_equal(decode_steps(bin, sizeof(bin) - 1, 1, 4, 0, buf, &dl, &end), 1);
	assert_int_equal(dl, 4);
	assert_memory_equal(buf, "\r\n\n\0", 4);

	/* exactly max_body is allowed; NULL output drops the data */
	assert_int_equal(decode("5\r\nhello\r\n0\r\n\r\n", 5, buf, &dl, &end), 1);
	struct http_chunked d;
	http_chunked_init(&d, 5, 0);
	size_t used, produced;
	const char *b = "5\r\nhello\r\n0\r\n\r\n";
	assert_int_equal(http_chunked_decode(&d, (const uint8_t *)b, strlen(b), NULL, &used,
					     &produced), 1);
	assert_int_equal(used, strlen(b));
	assert_int_equal(produced, 5);
	assert_int_equal(d.total, 5);
	/* complete: later calls take nothing and say so again */
	assert_int_equal(http_chunked_decode(&d, (const uint8_t *)"GET", 3, buf, &used,
					     &produced), 1);
	assert_int_equal(used, 0);
	assert_int_equal(produced, 0);
	/* empty input, incomplete */
	http_chunked_init(&d, 5, 0);
	assert_int_equal(http_chunked_decode(&d, (const uint8_t *)"", 0, buf, &used, &produced), 0);
	assert_int_equal(used, 0);
}

/* Every way a body can be split across reads decodes the same. */
static void test_chunked_split(void **state)
{
	static const char body[] = "3;ext=\"q\"\r\nabc\r\n10\r\n0123456789abcdef\r\n"
				   "1 ; x\r\nZ\r\n0\r\nTrailer-A: 1\r\nB: two words\r\n\r\n"
				   "GET /next HTTP/1.1\r\n";
	const size_t body_end = sizeof(body) - 1 - strlen("GET /next HTTP/1.1\r\n");
	const char *want = "abc0123456789abcdefZ";
	uint8_t buf[256];
	for (size_t step = 1; step <= sizeof(body); step++) {
		size_t dl, end;
		int rc = decode_steps(body, sizeof(body) - 1, step, 64, 64, buf, &dl, &end);
		if (rc != 1 || dl != strlen(want) || memcmp(buf, want, dl) || end != body_end)
			fail_msg("step %zu: rc %d, %zu bytes, end %zu", step, rc, dl, end);
	}
	/* two pieces, split at every byte */
	for (size_t cut = 0; cut <= body_end; cut++) {
		struct http_chunked d;
		http_chunked_init(&d, 64, 64);
		size_t u1, p1, u2, p2;
		uint8_t out[64];
		int r1 = http_chunked_decode(&d, (const uint8_t *)body, cut, out, &u1, &p1);
		int r2 = http_chunked_decode(&d, (const uint8_t *)body + cut, sizeof(body) - 1 - cut,
					     out + p1, &u2, &p2);
		if (r1 != (cut == body_end) || (r1 == 0 && u1 != cut) || r2 != 1 ||
		    u1 + u2 != body_end || p1 + p2 != strlen(want) || memcmp(out, want, p1 + p2))
			fail_msg("cut %zu: %d/%d used %zu+%zu", cut, r1, r2, u1, u2);
	}
}

static void test_chunked_bad(void **state)
{
	static const struct { const char *body; uint64_t max; int want; } t[] = {
		/* sizes */
		{ "\r\n", 100, -400 },                         /* no digits */
		{ "g\r\n", 100, -400 },
		{ "5g\r\n", 100, -400 },
		{ "-5\r\n", 100, -400 },
		{ "+5\r\n", 100, -400 },
		{ "0x5\r\nhello\r\n0\r\n\r\n", 100, -400 },
		{ " 5\r\n", 100, -400 },
		{ "5 \r\nhello\r\n", 100, -400 },             /* BWS only before ';' */
		{ "5 x\r\n", 100, -400 },
		{ "65\r\n", 100, -413 },                       /* 101 > 100 */
		{ "64\r\n", 100, 0 },                          /* 100: fine, waits */
		{ "32\r\n" "0123456789012345678901234567890123456789012345678" "9\r\n"
		  "33\r\n", 100, -413 },                       /* 50 + 51 */
		{ "ffffffffffffffff\r\n", UINT64_MAX, 0 },    /* 2^64-1: no wrap, waits */
		{ "10000000000000000\r\n", UINT64_MAX, -413 }, /* 2^64 */
		{ "fffffffffffffffffffffffff\r\n", UINT64_MAX, -413 },
		{ "100000000000000001\r\n", 1 << 20, -413 },
		{ "00000000000000000000000000000000000000001\r\nx\r\n0\r\n\r\n", 100, 1 },
		/* line ends: CRLF only */
		{ "5\nhello\r\n0\r\n\r\n", 100, -400 },
		{ "5\r\nhello\n0\r\n\r\n", 100, -400 },
		{ "5\r\nhello\r0\r\n\r\n", 100, -400 },
		{ "5\rhello\r\n", 100, -400 },
		{ "5;a\nhello\r\n", 100, -400 },
		{ "0\r\n\n", 100, -400 },
		{ "0\r\n\r\r", 100, -400 },
		{ "0\n\r\n", 100, -400 },
		{ "0\r\nX: y\n\r\n", 100, -400 },
		{ "0\r\nX: y\r\r\n", 100, -400 },
		/* data not followed by CRLF */
		{ "5\r\nhelloX\r\n0\r\n\r\n", 100, -400 },
		{ "5\r\nhell\r\n0\r\n\r\n", 100, -400 },
		/* extensions: no controls */
		{ "5;a\x01\r\nhello\r\n", 100, -400 },
		{ "5;a\x7f\r\nhello\r\n", 100, -400 },
		{ "5;a\0", 100, 0 },                           /* (NUL ends the literal) */
		/* trailers */
		{ "0\r\nX: a\r\n  b\r\n\r\n", 100, -400 },      /* folding */
		{ "0\r\n: a\r\n\r\n", 100, -400 },
		{ "0\r\nX\r\n\r\n", 100, -400 },
		{ "0\r\nX Y: a\r\n\r\n", 100, -400 },
		{ "0\r\nX: a\x01\r\n\r\n", 100, -400 },
	};
	uint8_t buf[256];
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		size_t dl, end;
		int rc = decode(t[i].body, t[i].max, buf, &dl, &end);
		if (rc != t[i].want)
			fail_msg("case %zu: got %d, want %d", i, rc, t[i].want);
		/* byte by byte: the same answer */
		rc = decode_steps(t[i].body, strlen(t[i].body), 1, t[i].max, 256, buf, &dl, &end);
		if (rc != t[i].want)
			fail_msg("case %zu, 1 byte at a time: got %d, want %d", i, rc, t[i].want);
	}
	/* errors are sticky */
	struct http_chunked d;
	size_t used, produced;
	http_chunked_init(&d, 100, 100);
	assert_int_equal(http_chunked_decode(&d, (const uint8_t *)"z", 1, buf, &used, &produced),
			 -400);
	assert_int_equal(http_chunked_decode(&d, (const uint8_t *)"0\r\n\r\n", 5, buf, &used,
					     &produced), -400);
	assert_int_equal(used, 0);
}

static void test_chunked_limits(void **state)
{
	size_t big = HTTP_CHUNK_EXT_MAX * 2 + 64;
	char *b = malloc(big);
	uint8_t *buf = malloc(big);
	assert_non_null(b);
	assert_non_null(buf);
	size_t dl, end;

	/* one chunk-size line: up to HTTP_CHUNK_LINE_MAX bytes */
	memset(b, '0', HTTP_CHUNK_LINE_MAX - 1);
	strcpy(b + HTTP_CHUNK_LINE_MAX - 1, "1\r\nx\r\n0\r\n\r\n");
	assert_int_equal(decode(b, 100, buf, &dl, &end), 1);
	memset(b, '0', HTTP_CHUNK_LINE_MAX);
	strcpy(b + HTTP_CHUNK_LINE_MAX, "1\r\nx\r\n0\r\n\r\n");
	assert_int_equal(decode(b, 100, buf, &dl, &end), -400);
	memset(b, 'e', HTTP_CHUNK_LINE_MAX + 8);
	memcpy(b, "1;", 2);
	strcpy(b + HTTP_CHUNK_LINE_MAX + 8, "\r\nx\r\n0\r\n\r\n");
	assert_int_equal(decode(b, 100, buf, &dl, &end), -400);

	/* chunk-ext over a whole body: HTTP_CHUNK_EXT_MAX */
	size_t n = 0;
	while (n < HTTP_CHUNK_EXT_MAX + 100) {
		memcpy(b + n, "1;", 2);
		memset(b + n + 2, 'e', 1000);
		memcpy(b + n + 1002, "\r\nx\r\n", 5);
		n += 1007;
	}
	strcpy(b + n, "0\r\n\r\n");
	assert_int_equal(decode(b, 1000, buf, &dl, &end), -400);
	strcpy(b + 1007 * 15, "0\r\n\r\n");  /* 15 x 1001 bytes: fine */
	assert_int_equal(decode(b, 1000, buf, &dl, &end), 1);
	assert_int_equal(dl, 15);

	/* trailers: max_trailers bytes, with their CRLFs */
	const char *tr = "0\r\nA: 12345\r\nB:\r\n\r\n";   /* 10 + 4 bytes */
	assert_int_equal(decode_steps(tr, strlen(tr), 100, 10, 14, buf, &dl, &end), 1);
	assert_int_equal(decode_steps(tr, strlen(tr), 1, 10, 14, buf, &dl, &end), 1);
	assert_int_equal(decode_steps(tr, strlen(tr), 100, 10, 13, buf, &dl, &end), -431);
	assert_int_equal(decode_steps(tr, strlen(tr), 1, 10, 9, buf, &dl, &end), -431);
	assert_int_equal(decode_steps("0\r\n\r\n", 5, 1, 10, 0, buf, &dl, &end), 1);
	free(b);
	free(buf);
}

/* A head, its chunked body, and the next request in one read. */
static void test_chunked_pipelined(void **state)
{
	static const char in[] = "PUT /k HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:  Chunked \r\n"
				 "Expect: 100-continue\r\n\r\n"
				 "4\r\nabcd\r\n0\r\n\r\n"
				 "GET /k HTTP/1.1\r\nHost: h\r\n\r\n";
	uint8_t buf[sizeof(in)];
	memcpy(buf, in, sizeof(in));
	struct http_request r;
	int head = http_parse_request(buf, sizeof(in) - 1, &lim, &r, hdrs);
	assert_true(head > 0);
	assert_true(r.chunked);
	assert_false(r.has_length);
	assert_true(r.expect_continue);
	struct http_chunked d;
	http_chunked_init(&d, 4, 100);
	size_t used, produced;
	assert_int_equal(http_chunked_decode(&d, buf + head, sizeof(in) - 1 - (size_t)head,
					     buf + head, &used, &produced), 1);
	assert_int_equal(produced, 4);
	assert_memory_equal(buf + head, "abcd", 4);
	size_t next = (size_t)head + used;
	assert_int_equal(http_parse_request(buf + next, sizeof(in) - 1 - next, &lim, &r, hdrs),
			 (int)(sizeof(in) - 1 - next));
	assert_int_equal(r.method, HTTP_M_GET);
	assert_false(r.chunked);
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

/* The Accept field's weights, as the metrics app negotiates */
static void test_accept(void **state)
{
	static const struct {
		const char *v, *type;
		int w;
	} t[] = {
		{ "application/openmetrics-text;version=1.0.0;q=0.9,text/plain;q=0.5",
		  "application/openmetrics-text", 900 },
		{ "application/openmetrics-text;version=1.0.0;q=0.9,text/plain;q=0.5", "text/plain",
		  500 },
		{ "Text/Plain", "text/plain", 1000 },
		{ "text/plain ; q=0", "text/plain", 0 },
		{ "text/plain;q=0.001, text/plain;q=0.25", "text/plain", 250 },
		{ "text/plain;q=1.0", "text/plain", 1000 },
		{ "text/plain;q=0.12345", "text/plain", 123 },
		{ "text/plainx", "text/plain", -1 },
		{ "*/*", "text/plain", -1 },
		{ "", "text/plain", -1 },
		{ ",,; ;q=, ;", "text/plain", -1 },
		{ "text/html, text/plain;level=1;q=0.3", "text/plain", 300 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct http_str v = { t[i].v, strlen(t[i].v) };
		assert_int_equal(http_accept_weight(&v, t[i].type), t[i].w);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_incomplete_and_limits),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_chunked_good),
		cmocka_unit_test(test_chunked_split),
		cmocka_unit_test(test_chunked_bad),
		cmocka_unit_test(test_chunked_limits),
		cmocka_unit_test(test_chunked_pipelined),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_path_and_date),
		cmocka_unit_test(test_accept),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

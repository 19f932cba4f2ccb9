/*
 * http_parse.h - HTTP/1.x request heads: parse and check, no allocation
 *
 * Theory of operation
 *
 * http_parse_request() looks at the bytes received so far on a connection.
 * Until the head is complete (an empty line ends it) it answers 0, or an
 * error status as soon as a limit is crossed, so a caller buffers at most
 * limits->max_head bytes.  A complete head is checked in one pass: request
 * line "METHOD SP TARGET SP HTTP/1.x" (tokens, visible ASCII), header
 * fields "name: value" (token name, no space before the colon, no obsolete
 * line folding), CRLF or bare LF line ends.  The fields are returned as
 * (pointer, length) pairs into the caller's buffer, in a caller's array.
 *
 * What the framing depends on is digested and checked (RFC 9112): exactly
 * one Host in HTTP/1.1, Content-Length digits only and all copies equal,
 * Transfer-Encoding not together with Content-Length, persistence from the
 * version and Connection.
 *
 * Errors are the status to answer (negated): 400 malformed, 414 target
 * longer than max_target, 431 head longer than max_head or more than
 * max_headers fields, 505 a version other than HTTP/1.0 and HTTP/1.1,
 * 501 a transfer coding other than chunked.
 *
 * Everything is length-checked before each read; the fuzz harness is
 * fuzz/http_request.
 *
 * Why our own: Debian 12 packages only libhttp-parser (nodejs/http-parser
 * 2.9.4), whose upstream is archived and unmaintained since 2022; its
 * successor llhttp is not packaged.  A request head is all a GET/PUT server
 * needs parsed (bodies are framed by Content-Length only), which this file
 * does in a few hundred lines that fit our limits and statuses exactly.
 */
#ifndef TAPIR_HTTP_PARSE_H
#define TAPIR_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum http_method {
	HTTP_M_OTHER = 0,
	HTTP_M_GET,
	HTTP_M_HEAD,
	HTTP_M_PUT,
	HTTP_M_DELETE,
	HTTP_M_POST,
};

struct http_str {
	const char *p;   /* into the caller's buffer, not NUL-terminated */
	size_t len;
};

struct http_header {
	struct http_str name, value;   /* value without surrounding whitespace */
};

struct http_limits {
	size_t max_head;      /* request line + fields + the empty line, bytes */
	size_t max_target;    /* request target, bytes */
	size_t max_headers;   /* fields, at most the size of the caller's array */
};

struct http_request {
	enum http_method method;
	struct http_str method_str, target;
	int minor;                       /* HTTP/1.@minor: 0 or 1 */
	struct http_header *headers;     /* the caller's array */
	size_t nheaders;
	size_t head_len;                 /* bytes of the head, empty line included */
	bool keep_alive;                 /* persistence after this request */
	bool has_length;                 /* Content-Length given */
	uint64_t content_length;
	bool chunked;                    /* Transfer-Encoding: chunked (last coding) */
	bool expect_continue;            /* Expect: 100-continue */
};

/**
 * http_parse_request() - Parse a request head from the start of @buf
 * @buf, @len: Bytes received (borrowed; @req points into them)
 * @lim:       Limits (max_headers at most the size of @hdrs)
 * @req:       Filled when the head is complete
 * @hdrs:      Array of @lim->max_headers fields
 *
 * Return: head length (> 0) when complete, 0 when more bytes are needed,
 *         or -STATUS (-400, -414, -431, -501, -505)
 */
int http_parse_request(const uint8_t *buf, size_t len, const struct http_limits *lim,
		       struct http_request *req, struct http_header *hdrs);

/* Return: the value of the first field called @name (any case), or NULL */
const struct http_str *http_header_find(const struct http_request *req, const char *name);

/* Return: true if @s equals the NUL-terminated @lit ignoring ASCII case */
bool http_str_ieq(const struct http_str *s, const char *lit);

/**
 * http_parse_range() - A Range field against a value of @size bytes
 * @v:           The field's value
 * @first, @last: Receive the byte range (inclusive) when satisfiable
 *
 * Only one range "bytes=A-B", "bytes=A-" or "bytes=-N" is served; several
 * ranges, other units and syntax errors are ignored (the whole value is
 * sent, as RFC 9110 14.2 allows).
 * Return: 1 a satisfiable range, 0 ignore the field, -416 unsatisfiable
 */
int http_parse_range(const struct http_str *v, uint64_t size, uint64_t *first, uint64_t *last);

/**
 * http_url_decode() - The path of a request target, percent-decoded
 * @target: Origin form "/path?query" (absolute form "http://host/path" too)
 * @out:    Buffer of @outlen bytes, NUL-terminated on success
 * Return: length of the path, or -400 (not a path, bad or NUL escape, or
 *         longer than @outlen - 1)
 */
int http_url_decode(const struct http_str *target, char *out, size_t outlen);

/* Format @t as an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") into @buf
 * (>= 30 bytes).  Return: @buf */
char *http_date_format(time_t t, char *buf);

/* Parse an IMF-fixdate.  Return: 0 and *@t, or -1 (other forms are ignored) */
int http_date_parse(const struct http_str *s, time_t *t);

#endif /* TAPIR_HTTP_PARSE_H */

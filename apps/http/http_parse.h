/*
 * http_parse.h - HTTP/1.x request heads and chunked bodies: parse and check,
 *                no allocation
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
 * Transfer-Encoding not together with Content-Length (rejected, not
 * resolved: RFC 9112 6.3 allows either, and rejecting leaves no smuggling
 * ambiguity), not in HTTP/1.0, and exactly "chunked" (one field), and
 * persistence from the version and Connection.
 *
 * Transfer-Encoding, precisely: a list of codings (tokens, optional
 * ";params", empty elements ignored).  "chunked" alone frames the body.
 * chunked anywhere but last, or twice, is 400 (RFC 9112 6.1, 6.3: the
 * length cannot be determined).  Any other coding (gzip, or gzip before
 * chunked) is 501, a coding we do not implement, as nginx answers; the
 * caller closes the connection after either.
 *
 * Chunked bodies (RFC 9112 7.1) are decoded by http_chunked_decode(), a
 * byte-driven state machine that resumes wherever a TCP read ended:
 *
 *   chunk      = chunk-size [ BWS chunk-ext ] CRLF chunk-data CRLF
 *   last-chunk = 1*"0" [ chunk-ext ] CRLF
 *   then       *( field-line CRLF ) CRLF   (trailers: checked, ignored)
 *
 * Strict as llhttp: CRLF only (a bare LF or CR is 400), hex digits only,
 * no space before the size's line end unless a ';' follows.  Bounds: the
 * sum of chunk sizes is at most the caller's max_body (413 as soon as a
 * size says it would be more, so 2^64 and more is 413 too, never a wrap); a
 * chunk-size line at most HTTP_CHUNK_LINE_MAX bytes and all chunk-ext of a
 * body at most HTTP_CHUNK_EXT_MAX (400); the trailer section at most the
 * caller's max_trailers (431).  Extensions and trailer fields are checked
 * for characters (no CTLs) and ignored.  The decoder allocates nothing and
 * copies data bytes to a caller's buffer, which may be the input itself:
 * decoding in place compacts the body at the front of what was received.
 *
 * Errors are the status to answer (negated): 400 malformed, 413 body too
 * large, 414 target longer than max_target, 431 head (or trailers) longer
 * than max_head or more than max_headers fields, 505 a version other than
 * HTTP/1.0 and HTTP/1.1, 501 a transfer coding other than chunked.
 *
 * Everything is length-checked before each read; the fuzz harness is
 * fuzz/http_request (heads, and bodies after them, fed in pieces).
 *
 * Why our own: Debian 12 packages only libhttp-parser (nodejs/http-parser
 * 2.9.4), whose upstream is archived and unmaintained since 2022; its
 * successor llhttp is not packaged.  A GET/PUT server needs the request
 * head and the two body framings (Content-Length, chunked), which this file
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
 *         or -STATUS (-400, -414, -431, -501, -505); a body follows the
 *         head when @req->has_length or @req->chunked
 */
int http_parse_request(const uint8_t *buf, size_t len, const struct http_limits *lim,
		       struct http_request *req, struct http_header *hdrs);

#define HTTP_CHUNK_LINE_MAX 4096    /* one chunk-size line: size, BWS, chunk-ext */
#define HTTP_CHUNK_EXT_MAX 16384    /* chunk-ext bytes in one body, all lines */

/* A chunked body being decoded: set up by http_chunked_init(), then only
 * http_chunked_decode() touches it.  Plain data, no pointers: a caller may
 * keep it in a connection and move its buffers between calls. */
struct http_chunked {
	uint64_t max_body;       /* decoded bytes allowed */
	size_t max_trailers;     /* trailer section bytes allowed */
	uint64_t total;          /* data bytes decoded so far */
	uint64_t left;           /* chunk-size being read, then data left in the chunk */
	size_t line;             /* bytes of the current chunk-size line */
	size_t ext;              /* chunk-ext bytes so far, all lines */
	size_t trailers;         /* trailer section bytes so far */
	int state;               /* private */
	int error;               /* once failed, the -STATUS every later call returns */
};

/* Start decoding a body of at most @max_body data bytes whose trailer
 * section may take @max_trailers bytes. */
void http_chunked_init(struct http_chunked *d, uint64_t max_body, size_t max_trailers);

/**
 * http_chunked_decode() - Decode the next received bytes of a chunked body
 * @d:            Decoder state
 * @in, @in_len:  Bytes received after those earlier calls consumed (borrowed)
 * @out:          Receives the data bytes: room for @in_len bytes; may be @in
 *                or overlap it from below (in-place decoding); NULL drops
 *                them (a body nobody needs, still framed and bounded)
 * @used:         Receives how many bytes of @in were consumed (always set)
 * @produced:     Receives how many data bytes went to @out (always set;
 *                never more than *@used)
 *
 * Return: 1 the body is complete: it ended at *@used bytes into @in, and
 *         what follows is the next request (later calls consume nothing
 *         and return 1); 0 all of @in consumed, more is needed;
 *         -400, -413, -431 (sticky: every later call returns it)
 */
int http_chunked_decode(struct http_chunked *d, const uint8_t *in, size_t in_len, uint8_t *out,
			size_t *used, size_t *produced);

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

/**
 * http_accept_weight() - How much an Accept field wants one media type
 * @v:    The field's value: media ranges with optional parameters, e.g.
 *        "application/openmetrics-text;version=1.0.0;q=0.9, text/plain;q=0.5"
 * @type: The media type, lower case ("text/plain"); compared ignoring case,
 *        wildcards are not expanded
 *
 * RFC 9110 12.5.1: q is 0 to 1 with at most three decimals (more digits are
 * cut off, values above 1 count as 1); without q the weight is 1.
 * Return: the highest weight given to @type, 0 to 1000, or -1 if not listed
 */
int http_accept_weight(const struct http_str *v, const char *type);

/* Format @t as an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") into @buf
 * (>= 30 bytes).  Return: @buf */
char *http_date_format(time_t t, char *buf);

/* Parse an IMF-fixdate.  Return: 0 and *@t, or -1 (other forms are ignored) */
int http_date_parse(const struct http_str *s, time_t *t);

#endif /* TAPIR_HTTP_PARSE_H */

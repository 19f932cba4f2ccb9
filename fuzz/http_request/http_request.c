/*
 * http_request.c - fuzz the HTTP request parser (apps/http/http_parse.c)
 *
 * Arbitrary bytes as what a connection received: every prefix length the
 * app could see is parsed (the head completes or fails consistently), then
 * the helpers the http app applies to a parsed request: the target's path,
 * Range against a few sizes, the If-Modified-Since date, the weights of
 * the Accept field (the metrics app).
 *
 * The chunked body decoder gets what follows a head with Transfer-Encoding:
 * chunked (and, to reach it without a head, the whole input when the head
 * does not parse), three ways that must agree: in one call into another
 * buffer, one byte per call in place as the app does it, and in pieces of
 * sizes taken from the input with the data dropped.  The same answer, the
 * same end of the body, the same data; after the body, the next request
 * is parsed as the app would (pipelining).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_BODY 1500
#define MAX_TRAILERS 200

/* Feed @body to a decoder in pieces whose sizes come from @sizes (1 at a
 * time when NULL), in place when @keep, dropping data otherwise.  Return:
 * the last answer; *@end where the body ended, *@dlen the data length */
static int decode_pieces(uint8_t *body, size_t len, const uint8_t *sizes, size_t nsizes,
			 bool keep, size_t *end, size_t *dlen)
{
	struct http_chunked d;
	http_chunked_init(&d, MAX_BODY, MAX_TRAILERS);
	size_t pos = 0, dec = 0, k = 0;
	int rc = 0;
	*end = *dlen = 0;
	while (pos < len) {
		size_t n = sizes ? (size_t)(sizes[k++ % nsizes] % 64) + 1 : 1;
		if (n > len - pos)
			n = len - pos;
		size_t used, produced;
		rc = http_chunked_decode(&d, body + pos, n, keep ? body + dec : NULL, &used,
					 &produced);
		if (produced > used || used > n || d.total > MAX_BODY || (rc == 0 && used != n))
			abort();
		pos += used;
		dec += produced;
		if (rc != 0)
			break;
	}
	*end = pos;
	*dlen = dec;
	return rc;
}

/* The three ways of decoding @body agree. */
static void check_chunked(const uint8_t *body, size_t len, const struct http_limits *lim,
			  struct http_header *hdrs)
{
	uint8_t *out = malloc(len ? len : 1), *inplace = malloc(len ? len : 1);
	uint8_t *drop = malloc(len ? len : 1);
	if (!out || !inplace || !drop)
		goto done;
	memcpy(inplace, body, len);
	memcpy(drop, body, len);
	struct http_chunked d;
	http_chunked_init(&d, MAX_BODY, MAX_TRAILERS);
	size_t used, produced;
	int rc = http_chunked_decode(&d, body, len, out, &used, &produced);
	if (produced > used || used > len || (rc == 0 && used != len) || d.total != produced)
		abort();
	size_t end, dlen;
	if (decode_pieces(inplace, len, NULL, 0, true, &end, &dlen) != rc || dlen != produced ||
	    memcmp(inplace, out, dlen) || (rc >= 0 && end != used))
		abort();
	if (decode_pieces(drop, len, body, len < 8 ? len : 8, false, &end, &dlen) != rc ||
	    dlen != produced || (rc >= 0 && end != used))
		abort();
	if (rc == 1) {
		struct http_request next;
		int n = http_parse_request(body + used, len - used, lim, &next, hdrs);
		if (n > 0 && (size_t)n > len - used)
			abort();
	}
done:
	free(out);
	free(inplace);
	free(drop);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct http_header hdrs[16];
	const struct http_limits lim = { .max_head = 2048, .max_target = 512, .max_headers = 16 };
	struct http_request req;
	if (size > 4096)
		size = 4096;
	/* Copy so that reading past @size is caught by ASan. */
	uint8_t *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);

	int full = http_parse_request(buf, size, &lim, &req, hdrs);
	if (full > 0) {
		if ((size_t)full > size || req.head_len != (size_t)full || req.nheaders > 16)
			abort();
		/* The head alone parses to the same result. */
		struct http_request again;
		if (http_parse_request(buf, (size_t)full, &lim, &again, hdrs) != full)
			abort();
		char path[600];
		int n = http_url_decode(&req.target, path, sizeof(path));
		if (n >= 0 && (size_t)n != strlen(path))
			abort();
		const struct http_str *r = http_header_find(&req, "range");
		static const uint64_t sizes[] = { 0, 1, 100, UINT64_MAX / 2 };
		for (size_t i = 0; r && i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			uint64_t first, last;
			if (http_parse_range(r, sizes[i], &first, &last) == 1 &&
			    (first > last || last >= sizes[i]))
				abort();
		}
		/* Accept, as the metrics app weighs it; and the whole input as one */
		const struct http_str *acc = http_header_find(&req, "accept");
		struct http_str whole = { (const char *)buf, size };
		int w = acc ? http_accept_weight(acc, "application/openmetrics-text") : -1;
		int w2 = http_accept_weight(&whole, "text/plain");
		if (w < -1 || w > 1000 || w2 < -1 || w2 > 1000)
			abort();
		const struct http_str *d = http_header_find(&req, "if-modified-since");
		time_t t;
		if (d && !http_date_parse(d, &t)) {
			char back[32];
			http_date_format(t, back);
		}
		if (req.chunked)
			check_chunked(buf + full, size - (size_t)full, &lim, hdrs);
	} else {
		check_chunked(buf, size, &lim, hdrs);
	}
	/* A shorter prefix never completes differently: it is incomplete, or the
	 * same error (a limit crossed early), or complete at the same length. */
	for (size_t cut = size / 2; size && cut < size; cut += (size - cut + 1) / 2) {
		int p = http_parse_request(buf, cut, &lim, &req, hdrs);
		if (p > 0 && full > 0 && p != full)
			abort();
		if (cut + 1 >= size)
			break;
	}
	free(buf);
	return 0;
}

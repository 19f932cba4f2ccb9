/*
 * http_request.c - fuzz the HTTP request parser (daemon/http_parse.c)
 *
 * Arbitrary bytes as what a connection received: every prefix length the
 * app could see is parsed (the head completes or fails consistently), then
 * the helpers the http app applies to a parsed request: the target's path,
 * Range against a few sizes, the If-Modified-Since date.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
		const struct http_str *d = http_header_find(&req, "if-modified-since");
		time_t t;
		if (d && !http_date_parse(d, &t)) {
			char back[32];
			http_date_format(t, back);
		}
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

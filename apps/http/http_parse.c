/*
 * http_parse.c - HTTP/1.x request heads and chunked bodies: parse and check,
 *                no allocation
 */
#include "http_parse.h"

#include <stdio.h>
#include <string.h>

/* RFC 9110 5.6.2 tchar */
static bool is_tchar(uint8_t c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_vchar(uint8_t c)
{
	return c > 0x20 && c < 0x7f;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static uint8_t lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

bool http_str_ieq(const struct http_str *s, const char *lit)
{
	size_t n = strlen(lit);
	if (s->len != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower((uint8_t)s->p[i]) != lower((uint8_t)lit[i]))
			return false;
	return true;
}

const struct http_str *http_header_find(const struct http_request *req, const char *name)
{
	for (size_t i = 0; i < req->nheaders; i++)
		if (http_str_ieq(&req->headers[i].name, name))
			return &req->headers[i].value;
	return NULL;
}

/*
 * Find the end of the head: the first empty line.  Return: the offset just
 * after it, or 0 when not there yet.
 */
static size_t head_end(const uint8_t *buf, size_t len)
{
	/* An empty line: "\n" followed by "\r\n" or "\n" (or one at the very start). */
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (i + 1 < len && buf[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* One line from @pos to before its "\r\n" or "\n"; Return: start of the next line */
static size_t line_at(const uint8_t *buf, size_t end, size_t pos, size_t *line_len)
{
	const uint8_t *nl = memchr(buf + pos, '\n', end - pos);
	size_t e = nl ? (size_t)(nl - buf) : end;
	size_t next = nl ? e + 1 : end;
	if (e > pos && buf[e - 1] == '\r')
		e--;
	*line_len = e - pos;
	return next;
}

static enum http_method method_of(const struct http_str *m)
{
	static const struct { const char *s; enum http_method m; } tab[] = {
		{ "GET", HTTP_M_GET }, { "HEAD", HTTP_M_HEAD }, { "PUT", HTTP_M_PUT },
		{ "DELETE", HTTP_M_DELETE }, { "POST", HTTP_M_POST },
	};
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (m->len == strlen(tab[i].s) && !memcmp(m->p, tab[i].s, m->len))
			return tab[i].m;  /* methods are case-sensitive */
	return HTTP_M_OTHER;
}

/* Request line; Return: 0 or -STATUS */
static int parse_request_line(const uint8_t *l, size_t n, const struct http_limits *lim,
			      struct http_request *req)
{
	size_t i = 0;
	while (i < n && is_tchar(l[i]))
		i++;
	if (i == 0 || i >= n || l[i] != ' ')
		return -400;
	req->method_str.p = (const char *)l;
	req->method_str.len = i;
	req->method = method_of(&req->method_str);
	size_t t = ++i;
	while (i < n && is_vchar(l[i]))
		i++;
	if (i - t > lim->max_target)
		return -414;
	if (i == t || i >= n || l[i] != ' ')
		return -400;
	req->target.p = (const char *)l + t;
	req->target.len = i - t;
	i++;
	/* HTTP-version = "HTTP/" DIGIT "." DIGIT */
	if (n - i != 8 || memcmp(l + i, "HTTP/", 5) || l[i + 6] != '.' ||
	    l[i + 5] < '0' || l[i + 5] > '9' || l[i + 7] < '0' || l[i + 7] > '9')
		return -400;
	if (l[i + 5] != '1' || l[i + 7] > '1')
		return -505;
	req->minor = l[i + 7] - '0';
	return 0;
}

/* Does the comma-separated list @v contain the token @tok (any case)? */
static bool list_has(const struct http_str *v, const char *tok)
{
	size_t i = 0;
	while (i < v->len) {
		while (i < v->len && (v->p[i] == ' ' || v->p[i] == '\t' || v->p[i] == ','))
			i++;
		size_t s = i;
		while (i < v->len && v->p[i] != ',')
			i++;
		size_t e = i;
		while (e > s && (v->p[e - 1] == ' ' || v->p[e - 1] == '\t'))
			e--;
		struct http_str item = { v->p + s, e - s };
		if (item.len && http_str_ieq(&item, tok))
			return true;
	}
	return false;
}

static bool is_ows(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/*
 * A Transfer-Encoding value: #( token *( OWS ";" OWS token BWS "=" BWS
 * ( token / quoted-string ) ) ), empty list elements allowed (RFC 9110 5.6.1).
 * Return: 0 "chunked" alone; -400 malformed, no coding, chunked with
 *         parameters, twice or not last; -501 another coding
 */
static int transfer_codings(const struct http_str *v)
{
	const uint8_t *p = (const uint8_t *)v->p;
	size_t i = 0, n = 0, nchunked = 0, chunked_at = 0;
	bool other = false, chunked_params = false;
	while (i < v->len) {
		if (is_ows(p[i]) || p[i] == ',') {
			i++;
			continue;
		}
		size_t s = i;
		while (i < v->len && is_tchar(p[i]))
			i++;
		if (i == s)
			return -400;
		struct http_str name = { v->p + s, i - s };
		bool chunked = http_str_ieq(&name, "chunked");
		n++;
		if (chunked) {
			nchunked++;
			chunked_at = n;
		} else {
			other = true;
		}
		for (;;) {  /* parameters, up to the next element */
			while (i < v->len && is_ows(p[i]))
				i++;
			if (i == v->len || p[i] == ',')
				break;
			if (p[i] != ';')
				return -400;
			chunked_params |= chunked;
			i++;
			while (i < v->len && is_ows(p[i]))
				i++;
			s = i;
			while (i < v->len && is_tchar(p[i]))
				i++;
			if (i == s)
				return -400;
			while (i < v->len && is_ows(p[i]))
				i++;
			if (i == v->len || p[i] != '=')
				return -400;
			i++;
			while (i < v->len && is_ows(p[i]))
				i++;
			if (i < v->len && p[i] == '"') {
				for (i++; i < v->len && p[i] != '"'; i++)
					if (p[i] == '\\' && ++i == v->len)
						return -400;
				if (i == v->len)
					return -400;
				i++;
			} else {
				s = i;
				while (i < v->len && is_tchar(p[i]))
					i++;
				if (i == s)
					return -400;
			}
		}
	}
	if (n == 0 || nchunked > 1 || (nchunked && chunked_at != n) || chunked_params)
		return -400;  /* the body's length cannot be determined */
	if (other)
		return -501;  /* a coding we do not implement */
	return 0;
}

/* Fields that frame the message; Return: 0 or -STATUS */
static int digest_fields(struct http_request *req)
{
	size_t hosts = 0;
	bool te = false, close = false, keep = false;
	for (size_t i = 0; i < req->nheaders; i++) {
		const struct http_str *nm = &req->headers[i].name;
		const struct http_str *v = &req->headers[i].value;
		if (http_str_ieq(nm, "host")) {
			hosts++;
		} else if (http_str_ieq(nm, "content-length")) {
			uint64_t x = 0;
			if (v->len == 0 || v->len > 15)  /* up to 10^15 - 1: no overflow */
				return -400;
			for (size_t k = 0; k < v->len; k++) {
				if (v->p[k] < '0' || v->p[k] > '9')
					return -400;
				x = x * 10 + (uint64_t)(v->p[k] - '0');
			}
			if (req->has_length && x != req->content_length)
				return -400;
			req->has_length = true;
			req->content_length = x;
		} else if (http_str_ieq(nm, "transfer-encoding")) {
			/* One field only (a second one is a smuggling attempt more
			 * likely than a list split in two), never in HTTP/1.0
			 * (RFC 9112 6.1: the framing is faulty). */
			if (te || req->minor == 0)
				return -400;
			te = true;
			int rc = transfer_codings(v);
			if (rc)
				return rc;
			req->chunked = true;
		} else if (http_str_ieq(nm, "connection")) {
			close |= list_has(v, "close");
			keep |= list_has(v, "keep-alive");
		} else if (http_str_ieq(nm, "expect")) {
			if (!http_str_ieq(v, "100-continue"))
				return -400;  /* 417 would be exact; 400 is allowed too */
			req->expect_continue = true;
		}
	}
	if (te && req->has_length)
		return -400;  /* RFC 9112 6.1, 6.3: a request smuggling attempt */
	if (req->minor == 1 && hosts != 1)
		return -400;
	if (hosts > 1)
		return -400;
	req->keep_alive = req->minor == 1 ? !close : (keep && !close);
	return 0;
}

int http_parse_request(const uint8_t *buf, size_t len, const struct http_limits *lim,
		       struct http_request *req, struct http_header *hdrs)
{
	size_t pos = 0;
	/* RFC 9112 2.2: ignore at least one empty line before the request line. */
	while (pos < len && pos < 4 && (buf[pos] == '\r' || buf[pos] == '\n'))
		pos++;
	size_t end = head_end(buf + pos, len - pos);
	if (!end) {
		/* Incomplete.  Refuse early what can only get worse. */
		const uint8_t *nl = memchr(buf + pos, '\n', len - pos);
		if (!nl) {
			/* Still in the request line: method, then target. */
			const uint8_t *sp = memchr(buf + pos, ' ', len - pos);
			if (sp && (size_t)(buf + len - sp) > lim->max_target + 10)
				return -414;
			if (len >= lim->max_head)
				return sp ? -414 : -400;
		} else if (len >= lim->max_head) {
			return -431;
		}
		return 0;
	}
	end += pos;
	if (end > lim->max_head)
		return -431;

	memset(req, 0, sizeof(*req));
	req->headers = hdrs;
	size_t n;
	size_t next = line_at(buf, end, pos, &n);
	int rc = parse_request_line(buf + pos, n, lim, req);
	if (rc)
		return rc;
	pos = next;
	for (;;) {
		next = line_at(buf, end, pos, &n);
		if (n == 0)
			break;  /* the empty line */
		const uint8_t *l = buf + pos;
		if (l[0] == ' ' || l[0] == '\t')
			return -400;  /* obsolete line folding */
		size_t i = 0;
		while (i < n && is_tchar(l[i]))
			i++;
		if (i == 0 || i >= n || l[i] != ':')
			return -400;
		size_t vs = i + 1, ve = n;
		while (vs < ve && (l[vs] == ' ' || l[vs] == '\t'))
			vs++;
		while (ve > vs && (l[ve - 1] == ' ' || l[ve - 1] == '\t'))
			ve--;
		for (size_t k = vs; k < ve; k++)
			if (l[k] < 0x20 ? l[k] != '\t' : l[k] == 0x7f)
				return -400;  /* CR, NUL, controls */
		if (req->nheaders >= lim->max_headers)
			return -431;
		struct http_header *h = &hdrs[req->nheaders++];
		h->name.p = (const char *)l;
		h->name.len = i;
		h->value.p = (const char *)l + vs;
		h->value.len = ve - vs;
		pos = next;
	}
	req->head_len = end;
	rc = digest_fields(req);
	if (rc)
		return rc;
	return (int)end;
}

/* ---- chunked bodies ---- */

enum {
	CK_SIZE_FIRST,   /* the first hex digit of a chunk-size */
	CK_SIZE,         /* more hex digits, or what ends them */
	CK_SIZE_BWS,     /* SP/HTAB after the size: only before ';' */
	CK_EXT,          /* chunk-ext, up to CR */
	CK_SIZE_LF,      /* LF ending the chunk-size line */
	CK_DATA,         /* chunk-data: d->left bytes */
	CK_DATA_CR,      /* CRLF after the data */
	CK_DATA_LF,
	CK_TRAILER,      /* start of a trailer field line, or CR of the last line */
	CK_TRAILER_NAME,
	CK_TRAILER_VALUE,
	CK_TRAILER_LF,
	CK_LAST_LF,      /* LF of the empty line that ends the body */
	CK_DONE,
};

void http_chunked_init(struct http_chunked *d, uint64_t max_body, size_t max_trailers)
{
	memset(d, 0, sizeof(*d));
	d->max_body = max_body;
	d->max_trailers = max_trailers;
	d->state = CK_SIZE_FIRST;
}

/* Characters of chunk-ext and trailer values: HTAB, SP, VCHAR, obs-text */
static bool is_field_char(uint8_t c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

int http_chunked_decode(struct http_chunked *d, const uint8_t *in, size_t in_len, uint8_t *out,
			size_t *used, size_t *produced)
{
	size_t i = 0, o = 0;
	int rc = 0;
	if (d->error) {
		rc = d->error;
		goto out;
	}
	while (i < in_len && d->state != CK_DONE) {
		uint8_t c = in[i];
		if (d->state == CK_DATA) {
			size_t n = in_len - i;
			if (n > d->left)
				n = (size_t)d->left;
			if (out)
				memmove(out + o, in + i, n);
			o += n;
			i += n;
			d->left -= n;
			d->total += n;
			if (!d->left)
				d->state = CK_DATA_CR;
			continue;
		}
		i++;
		switch (d->state) {
		case CK_SIZE_FIRST:
		case CK_SIZE: {
			int x = hexval((char)c);
			if (c != '\r' && ++d->line > HTTP_CHUNK_LINE_MAX) {
				rc = -400;
				goto fail;
			}
			if (x >= 0) {
				/* No wrap, and never more than the body may hold. */
				if (d->left > (UINT64_MAX >> 4) ||
				    (d->left << 4 | (uint64_t)x) > d->max_body - d->total) {
					rc = -413;
					goto fail;
				}
				d->left = d->left << 4 | (uint64_t)x;
				d->state = CK_SIZE;
			} else if (d->state == CK_SIZE_FIRST) {
				rc = -400;
				goto fail;
			} else if (c == '\r') {
				d->state = CK_SIZE_LF;
			} else if (c == ';') {
				d->state = CK_EXT;
			} else if (is_ows(c)) {
				d->state = CK_SIZE_BWS;
			} else {
				rc = -400;
				goto fail;
			}
			break;
		}
		case CK_SIZE_BWS:
		case CK_EXT:
			if (c != '\r' && (++d->line > HTTP_CHUNK_LINE_MAX ||
					    ++d->ext > HTTP_CHUNK_EXT_MAX)) {
				rc = -400;
				goto fail;
			}
			if (d->state == CK_SIZE_BWS) {
				if (c == ';')
					d->state = CK_EXT;
				else if (!is_ows(c))
					goto bad;
			} else if (c == '\r') {
				d->state = CK_SIZE_LF;
			} else if (!is_field_char(c)) {
				goto bad;
			}
			break;
		case CK_SIZE_LF:
			if (c != '\n')
				goto bad;
			d->line = 0;
			d->state = d->left ? CK_DATA : CK_TRAILER;
			break;
		case CK_DATA_CR:
			if (c != '\r')
				goto bad;
			d->state = CK_DATA_LF;
			break;
		case CK_DATA_LF:
			if (c != '\n')
				goto bad;
			d->state = CK_SIZE_FIRST;
			break;
		case CK_TRAILER:
		case CK_TRAILER_NAME:
		case CK_TRAILER_VALUE:
			/* Field lines count with their CRLF; the empty line not. */
			if (!(c == '\r' && d->state == CK_TRAILER) &&
			    ++d->trailers > d->max_trailers) {
				rc = -431;
				goto fail;
			}
			if (c == '\r' && d->state == CK_TRAILER)
				d->state = CK_LAST_LF;
			else if (c == '\r' && d->state == CK_TRAILER_VALUE)
				d->state = CK_TRAILER_LF;
			else if (is_tchar(c) && d->state != CK_TRAILER_VALUE)
				d->state = CK_TRAILER_NAME;
			else if (c == ':' && d->state == CK_TRAILER_NAME)
				d->state = CK_TRAILER_VALUE;
			else if (d->state != CK_TRAILER_VALUE || !is_field_char(c))
				goto bad;  /* bare LF, folding, no name, controls */
			break;
		case CK_TRAILER_LF:
			if (c != '\n')
				goto bad;
			if (++d->trailers > d->max_trailers) {
				rc = -431;
				goto fail;
			}
			d->state = CK_TRAILER;
			break;
		case CK_LAST_LF:
			if (c != '\n')
				goto bad;
			d->state = CK_DONE;
			break;
		default:
			goto bad;
		}
	}
	rc = d->state == CK_DONE;
	goto out;
bad:
	rc = -400;
fail:
	d->error = rc;
out:
	*used = i;
	*produced = o;
	return rc;
}

static bool parse_u64(const char *p, size_t n, uint64_t *out)
{
	uint64_t x = 0;
	if (n == 0 || n > 19)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		x = x * 10 + (uint64_t)(p[i] - '0');
	}
	*out = x;
	return true;
}

int http_parse_range(const struct http_str *v, uint64_t size, uint64_t *first, uint64_t *last)
{
	if (v->len < 7 || memcmp(v->p, "bytes=", 6))
		return 0;
	const char *p = v->p + 6;
	size_t n = v->len - 6;
	while (n && (*p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (memchr(p, ',', n))
		return 0;  /* several ranges: the whole value */
	const char *dash = memchr(p, '-', n);
	if (!dash)
		return 0;
	size_t a_len = (size_t)(dash - p), b_len = n - a_len - 1;
	uint64_t a, b;
	if (a_len == 0) {  /* suffix: the last b bytes */
		if (!parse_u64(dash + 1, b_len, &b))
			return 0;
		if (b == 0 || size == 0)
			return -416;
		*first = b >= size ? 0 : size - b;
		*last = size - 1;
		return 1;
	}
	if (!parse_u64(p, a_len, &a))
		return 0;
	if (b_len == 0) {
		b = UINT64_MAX;
	} else {
		if (!parse_u64(dash + 1, b_len, &b))
			return 0;
		if (b < a)
			return 0;  /* invalid: ignored */
	}
	if (a >= size)
		return -416;
	*first = a;
	*last = b >= size ? size - 1 : b;
	return 1;
}

int http_url_decode(const struct http_str *target, char *out, size_t outlen)
{
	const char *p = target->p;
	size_t n = target->len;
	/* absolute form: skip "http://authority" */
	if (n >= 7 && !memcmp(p, "http://", 7)) {
		const char *s = memchr(p + 7, '/', n - 7);
		if (!s)
			return -400;
		n -= (size_t)(s - p);
		p = s;
	}
	if (n == 0 || p[0] != '/')
		return -400;
	size_t o = 0;
	for (size_t i = 0; i < n && p[i] != '?' && p[i] != '#'; i++) {
		char c = p[i];
		if (c == '%') {
			if (i + 2 >= n)
				return -400;
			int h = hexval(p[i + 1]), l = hexval(p[i + 2]);
			if (h < 0 || l < 0)
				return -400;
			c = (char)(h * 16 + l);
			if (c == '\0')
				return -400;
			i += 2;
		}
		if (o + 1 >= outlen)
			return -400;
		out[o++] = c;
	}
	if (!outlen)
		return -400;
	out[o] = '\0';
	return (int)o;
}

static const char *const wdays[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
				      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

char *http_date_format(time_t t, char *buf)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	snprintf(buf, 30, "%s, %02d %s %04d %02d:%02d:%02d GMT", wdays[tm.tm_wday % 7],
		 tm.tm_mday, months[tm.tm_mon % 12], (tm.tm_year + 1900) % 10000, tm.tm_hour,
		 tm.tm_min, tm.tm_sec);
	return buf;
}

static bool two_digits(const char *p, int *out)
{
	if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
		return false;
	*out = (p[0] - '0') * 10 + (p[1] - '0');
	return true;
}

int http_date_parse(const struct http_str *s, time_t *t)
{
	/* "Sun, 06 Nov 1994 08:49:37 GMT": 29 bytes */
	const char *p = s->p;
	if (s->len != 29 || p[3] != ',' || p[4] != ' ' || p[7] != ' ' || p[11] != ' ' ||
	    p[16] != ' ' || p[19] != ':' || p[22] != ':' || memcmp(p + 25, " GMT", 4))
		return -1;
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	int y1, y2;
	if (!two_digits(p + 5, &tm.tm_mday) || !two_digits(p + 12, &y1) ||
	    !two_digits(p + 14, &y2) || !two_digits(p + 17, &tm.tm_hour) ||
	    !two_digits(p + 20, &tm.tm_min) || !two_digits(p + 23, &tm.tm_sec))
		return -1;
	tm.tm_mon = -1;
	for (int i = 0; i < 12; i++)
		if (!memcmp(p + 8, months[i], 3))
			tm.tm_mon = i;
	if (tm.tm_mon < 0 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	tm.tm_year = y1 * 100 + y2 - 1900;
	*t = timegm(&tm);
	return 0;
}

int http_accept_weight(const struct http_str *v, const char *type)
{
	size_t i = 0, tl = strlen(type);
	int best = -1;
	while (i < v->len) {
		while (i < v->len && (v->p[i] == ' ' || v->p[i] == '\t' || v->p[i] == ','))
			i++;
		size_t start = i;
		while (i < v->len && v->p[i] != ',' && v->p[i] != ';' && v->p[i] != ' ' &&
		       v->p[i] != '\t')
			i++;
		struct http_str name = { v->p + start, i - start };
		int q = 1000;
		/* parameters up to the next ',' */
		while (i < v->len && v->p[i] != ',') {
			if (v->p[i] == ';') {
				i++;
				while (i < v->len && (v->p[i] == ' ' || v->p[i] == '\t'))
					i++;
				if (i + 1 < v->len && (v->p[i] == 'q' || v->p[i] == 'Q') &&
				    v->p[i + 1] == '=') {
					i += 2;
					int w = 0, digits = 0;
					bool frac = false;
					for (; i < v->len && digits < 4; i++) {
						char ch = v->p[i];
						if (ch == '.' && !frac) {
							frac = true;
						} else if (ch >= '0' && ch <= '9') {
							w = w * 10 + (ch - '0');
							digits++;
						} else {
							break;
						}
					}
					while (digits++ < 4)
						w *= 10;
					q = w > 1000 ? 1000 : w;
				}
				continue;
			}
			i++;
		}
		if (i == start && i < v->len && v->p[i] != ',')
			i++;  /* never stuck on a stray byte */
		if (name.len == tl && http_str_ieq(&name, type) && q > best)
			best = q;
	}
	return best;
}

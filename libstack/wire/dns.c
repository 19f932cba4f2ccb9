/*
 * dns.c - DNS message view, name compression and the message builder
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "wire/bytes.h"
#include "wire/dns.h"

int dns_name_read(const uint8_t *msg, size_t len, size_t *off, struct dns_name *out)
{
	size_t p = *off, after = 0, limit = *off;
	unsigned hops = 0;
	struct dns_name n = { 0 };

	for (;;) {
		uint8_t l;

		if (p >= len)
			return -EBADMSG;
		l = msg[p];
		if ((l & 0xc0) == 0xc0) {
			size_t to;

			if (p + 1 >= len)
				return -EBADMSG;
			to = (size_t)(l & 0x3f) << 8 | msg[p + 1];
			/* strictly before where this run of labels began:
			 * every jump goes further back, so no loop exists */
			if (to >= limit || to < DNS_HDR_LEN || ++hops > DNS_PTR_HOPS_MAX)
				return -EBADMSG;
			if (!after)
				after = p + 2;
			p = limit = to;
			continue;
		}
		if (l & 0xc0)
			return -EBADMSG;   /* 0x40 (extended) and 0x80: unknown */
		if (l == 0) {
			if (n.len + 1 > DNS_NAME_MAX)
				return -EBADMSG;
			n.b[n.len++] = 0;
			break;
		}
		if (p + 1 + l > len || n.len + 1 + l + 1 > DNS_NAME_MAX)
			return -EBADMSG;
		memcpy(n.b + n.len, msg + p, 1 + (size_t)l);
		n.len = (uint8_t)(n.len + 1 + l);
		p += 1 + (size_t)l;
	}
	*off = after ? after : p + 1;
	*out = n;
	return 0;
}

int dns_name_from_text(const char *s, struct dns_name *out)
{
	struct dns_name n = { 0 };
	size_t i = 0, slen = strlen(s);

	if (slen == 1 && s[0] == '.') {
		out->len = 1;
		out->b[0] = 0;
		return 0;
	}
	if (slen == 0)
		return -EINVAL;
	while (i < slen) {
		size_t j = i;

		while (j < slen && s[j] != '.') {
			unsigned char c = (unsigned char)s[j];

			if (c < 0x21 || c > 0x7e)
				return -EINVAL;
			j++;
		}
		if (j == i || j - i > DNS_LABEL_MAX || n.len + 1 + (j - i) + 1 > DNS_NAME_MAX)
			return -EINVAL;
		n.b[n.len] = (uint8_t)(j - i);
		memcpy(n.b + n.len + 1, s + i, j - i);
		n.len = (uint8_t)(n.len + 1 + (j - i));
		i = j + 1;     /* past the dot; a final dot ends the loop */
	}
	n.b[n.len++] = 0;
	*out = n;
	return 0;
}

char *dns_name_to_text(const struct dns_name *n, char *buf)
{
	size_t p = 0, o = 0;

	if (n->len <= 1) {
		strcpy(buf, ".");
		return buf;
	}
	while (p < n->len && n->b[p]) {
		uint8_t l = n->b[p++];

		if (o)
			buf[o++] = '.';
		for (uint8_t k = 0; k < l && p < n->len; k++, p++) {
			unsigned char c = n->b[p];

			if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') || c == '-' || c == '_') {
				buf[o++] = (char)c;
			} else if (c == '.' || c == '\\') {
				buf[o++] = '\\';
				buf[o++] = (char)c;
			} else {
				snprintf(buf + o, 5, "\\%03u", c);
				o += 4;
			}
		}
	}
	buf[o] = 0;
	return buf;
}

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

bool dns_name_eq(const struct dns_name *a, const struct dns_name *b)
{
	if (a->len != b->len)
		return false;
	/* the length bytes are < 64 and never letters, so one loop does */
	for (size_t i = 0; i < a->len; i++)
		if (lower(a->b[i]) != lower(b->b[i]))
			return false;
	return true;
}

unsigned dns_name_labels(const struct dns_name *n)
{
	unsigned k = 0;

	for (size_t p = 0; p < n->len && n->b[p]; p += 1 + (size_t)n->b[p])
		k++;
	return k;
}

int dns_name_join(const struct dns_name *a, const struct dns_name *b, struct dns_name *out)
{
	struct dns_name n;

	if (a->len < 1 || b->len < 1 || a->len - 1 + b->len > DNS_NAME_MAX)
		return -EINVAL;
	memcpy(n.b, a->b, a->len - 1u);
	memcpy(n.b + a->len - 1, b->b, b->len);
	n.len = (uint8_t)(a->len - 1 + b->len);
	*out = n;
	return 0;
}

/* Skip a question (@rr false) or a record, checking it. */
static int walk(const uint8_t *buf, size_t len, size_t *off, bool rr)
{
	struct dns_name n;
	size_t p = *off;

	if (dns_name_read(buf, len, &p, &n))
		return -EBADMSG;
	if (!rr) {
		if (len - p < 4)
			return -EBADMSG;
		*off = p + 4;
		return 0;
	}
	if (len - p < 10 || len - p - 10 < get_be16(buf + p + 8))
		return -EBADMSG;
	*off = p + 10 + get_be16(buf + p + 8);
	return 0;
}

int dns_msg_parse(struct dns_msg *m, const uint8_t *buf, size_t len)
{
	struct dns_msg r = { .buf = buf, .len = len };
	size_t p = DNS_HDR_LEN;

	if (len < DNS_HDR_LEN)
		return -EBADMSG;
	r.id = get_be16(buf);
	r.flags = get_be16(buf + 2);
	for (int s = 0; s < DNS_SEC__COUNT; s++) {
		r.count[s] = get_be16(buf + 4 + 2 * s);
		r.off[s] = p;
		/* each entry takes at least 5 (question) or 11 bytes: a count
		 * the rest cannot hold fails before any walking */
		if ((size_t)r.count[s] * (s == DNS_SEC_QD ? 5 : 11) > len - p)
			return -EBADMSG;
		for (unsigned i = 0; i < r.count[s]; i++)
			if (walk(buf, len, &p, s != DNS_SEC_QD))
				return -EBADMSG;
	}
	r.end = p;
	*m = r;
	return 0;
}

int dns_msg_question(const struct dns_msg *m, size_t *off, struct dns_question *q)
{
	size_t p = *off;

	if (dns_name_read(m->buf, m->len, &p, &q->name) || m->len - p < 4)
		return -EBADMSG;
	q->type = get_be16(m->buf + p);
	q->qclass = get_be16(m->buf + p + 2);
	*off = p + 4;
	return 0;
}

int dns_msg_rr(const struct dns_msg *m, size_t *off, struct dns_rr *rr)
{
	size_t p = *off;

	if (dns_name_read(m->buf, m->len, &p, &rr->name) || m->len - p < 10)
		return -EBADMSG;
	rr->type = get_be16(m->buf + p);
	rr->rclass = get_be16(m->buf + p + 2);
	rr->ttl = get_be32(m->buf + p + 4);
	rr->rdlen = get_be16(m->buf + p + 8);
	if (m->len - p - 10 < rr->rdlen)
		return -EBADMSG;
	rr->rdata_off = p + 10;
	rr->rdata = m->buf + p + 10;
	*off = p + 10 + rr->rdlen;
	return 0;
}

void dns_build_init(struct dns_builder *b, uint8_t *buf, size_t cap, uint16_t id, uint16_t flags)
{
	memset(b, 0, sizeof(*b));
	b->buf = buf;
	b->cap = cap;
	if (cap < DNS_HDR_LEN) {
		b->err = -EMSGSIZE;
		return;
	}
	memset(buf, 0, DNS_HDR_LEN);
	put_be16(buf, id);
	put_be16(buf + 2, flags);
	b->len = DNS_HDR_LEN;
}

static bool room(struct dns_builder *b, size_t n)
{
	if (b->err)
		return false;
	if (b->cap - b->len < n) {
		b->err = -EMSGSIZE;
		return false;
	}
	return true;
}

static bool enter(struct dns_builder *b, enum dns_section sec)
{
	if (b->err)
		return false;
	if (sec < b->sec || sec >= DNS_SEC__COUNT || b->count[sec] == UINT16_MAX) {
		b->err = -EINVAL;
		return false;
	}
	b->sec = sec;
	return true;
}

void dns_build_question(struct dns_builder *b, const struct dns_name *n, uint16_t type,
			uint16_t qclass)
{
	if (!enter(b, DNS_SEC_QD) || !room(b, (size_t)n->len + 4))
		return;
	memcpy(b->buf + b->len, n->b, n->len);
	b->len += n->len;
	put_be16(b->buf + b->len, type);
	put_be16(b->buf + b->len + 2, qclass);
	b->len += 4;
	b->count[DNS_SEC_QD]++;
}

void dns_build_rr(struct dns_builder *b, enum dns_section sec, const struct dns_name *n,
		  uint16_t type, uint16_t rclass, uint32_t ttl, const void *rdata, uint16_t rdlen)
{
	if (sec == DNS_SEC_QD) {
		if (!b->err)
			b->err = -EINVAL;
		return;
	}
	if (!enter(b, sec) || !room(b, (size_t)n->len + 10 + rdlen))
		return;
	memcpy(b->buf + b->len, n->b, n->len);
	b->len += n->len;
	put_be16(b->buf + b->len, type);
	put_be16(b->buf + b->len + 2, rclass);
	put_be32(b->buf + b->len + 4, ttl);
	put_be16(b->buf + b->len + 8, rdlen);
	b->len += 10;
	if (rdlen)
		memcpy(b->buf + b->len, rdata, rdlen);
	b->len += rdlen;
	b->count[sec]++;
}

void dns_build_opt(struct dns_builder *b, uint16_t udp_size, uint8_t ext_rcode, bool dnssec_ok)
{
	static const struct dns_name root = { .len = 1 };
	uint32_t ttl = (uint32_t)ext_rcode << 24 | (dnssec_ok ? 0x8000u : 0);

	/* OPT: CLASS is the requester's UDP payload size, TTL the extended
	 * RCODE, version 0 and the DO bit (RFC 6891 6.1.3) */
	dns_build_rr(b, DNS_SEC_AR, &root, DNS_TYPE_OPT, udp_size, ttl, NULL, 0);
}

long dns_build_finish(struct dns_builder *b)
{
	if (b->err)
		return b->err;
	for (int s = 0; s < DNS_SEC__COUNT; s++)
		put_be16(b->buf + 4 + 2 * s, b->count[s]);
	return (long)b->len;
}

const char *dns_type_name(uint16_t type)
{
	switch (type) {
	case DNS_TYPE_A: return "A";
	case DNS_TYPE_NS: return "NS";
	case DNS_TYPE_CNAME: return "CNAME";
	case DNS_TYPE_SOA: return "SOA";
	case DNS_TYPE_PTR: return "PTR";
	case DNS_TYPE_MX: return "MX";
	case DNS_TYPE_TXT: return "TXT";
	case DNS_TYPE_AAAA: return "AAAA";
	case DNS_TYPE_OPT: return "OPT";
	default: return NULL;
	}
}

const char *dns_rcode_name(unsigned rcode)
{
	static const char *const names[] = {
		[DNS_RCODE_NOERROR] = "NOERROR", [DNS_RCODE_FORMERR] = "FORMERR",
		[DNS_RCODE_SERVFAIL] = "SERVFAIL", [DNS_RCODE_NXDOMAIN] = "NXDOMAIN",
		[DNS_RCODE_NOTIMP] = "NOTIMP", [DNS_RCODE_REFUSED] = "REFUSED",
	};

	return rcode < sizeof(names) / sizeof(names[0]) ? names[rcode] : NULL;
}

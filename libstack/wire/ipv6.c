/*
 * ipv6.c - IPv6 header and extension header views and reprs (RFC 8200), address helpers
 */
#include "ipv6.h"

#include <errno.h>

#include "checksum.h"

const uint8_t ipv6_all_nodes[16] = { 0xff, 0x02, [15] = 1 };
const uint8_t ipv6_all_routers[16] = { 0xff, 0x02, [15] = 2 };
const uint8_t ipv6_all_mldv2[16] = { 0xff, 0x02, [15] = 0x16 };

int ipv6_view_check(struct ipv6_view *v, const uint8_t *buf, size_t len)
{
	size_t total;

	if (len < IPV6_HDR_LEN)
		return -IPV6_BAD_TRUNCATED;
	if (buf[0] >> 4 != 6)
		return -IPV6_BAD_VERSION;
	total = IPV6_HDR_LEN + (size_t)get_be16(buf + 4);
	if (total > len)
		return -IPV6_BAD_TRUNCATED;
	v->buf = buf;
	v->len = total;
	return 0;
}

void ipv6_repr_parse(struct ipv6_repr *r, const struct ipv6_view *v)
{
	memcpy(r->src, ipv6_src(v), 16);
	memcpy(r->dst, ipv6_dst(v), 16);
	r->next_header = ipv6_next_header(v);
	r->hop_limit = ipv6_hop_limit(v);
	r->tclass = ipv6_traffic_class(v);
	r->flow_label = ipv6_flow_label(v);
	r->payload_len = ipv6_payload_len(v);
}

void ipv6_repr_emit(const struct ipv6_repr *r, uint8_t *buf)
{
	put_be32(buf, 6u << 28 | (uint32_t)r->tclass << 20 | (r->flow_label & 0xfffff));
	put_be16(buf + 4, r->payload_len);
	buf[6] = r->next_header;
	buf[7] = r->hop_limit;
	memcpy(buf + 8, r->src, 16);
	memcpy(buf + 24, r->dst, 16);
}

int ipv6_ext_check(struct ipv6_ext *e, uint8_t type, const uint8_t *buf, size_t len)
{
	size_t hlen;

	if (!ipv6_nh_is_ext(type) || len < 8)
		return -EBADMSG;
	hlen = type == IPV6_NH_FRAGMENT ? 8 : ((size_t)buf[1] + 1) * 8;
	if (hlen > len)
		return -EBADMSG;
	e->type = type;
	e->next = buf[0];
	e->buf = buf;
	e->len = hlen;
	return 0;
}

void ipv6_frag_parse(struct ipv6_frag_repr *f, const struct ipv6_ext *e)
{
	uint16_t w = get_be16(e->buf + 2);

	f->next = e->buf[0];
	f->offset = w & 0xfff8;
	f->more = w & 1;
	f->id = get_be32(e->buf + 4);
}

void ipv6_frag_emit(const struct ipv6_frag_repr *f, uint8_t *buf)
{
	buf[0] = f->next;
	buf[1] = 0;
	put_be16(buf + 2, (uint16_t)((f->offset & 0xfff8) | (f->more ? 1 : 0)));
	put_be32(buf + 4, f->id);
}

int ipv6_opt_next(const struct ipv6_ext *e, size_t *pos, struct ipv6_opt *o)
{
	size_t p = *pos;

	if (p >= e->len)
		return 0;
	o->type = e->buf[p];
	o->offset = p;
	if (o->type == IPV6_OPT_PAD1) {
		o->len = 0;
		o->data = NULL;
		*pos = p + 1;
		return 1;
	}
	if (p + 2 > e->len || p + 2 + e->buf[p + 1] > e->len)
		return -EBADMSG;
	o->len = e->buf[p + 1];
	o->data = e->buf + p + 2;
	*pos = p + 2 + o->len;
	return 1;
}

bool ipv6_prefix_eq(const uint8_t a[16], const uint8_t b[16], unsigned plen)
{
	unsigned bytes = plen / 8, bits = plen % 8;

	if (plen > 128)
		return false;
	if (memcmp(a, b, bytes))
		return false;
	if (bits) {
		uint8_t m = (uint8_t)(0xff00 >> bits);

		return (a[bytes] & m) == (b[bytes] & m);
	}
	return true;
}

unsigned ipv6_common_prefix(const uint8_t a[16], const uint8_t b[16])
{
	for (unsigned i = 0; i < 16; i++) {
		uint8_t x = a[i] ^ b[i];

		if (x) {
			unsigned n = i * 8;

			while (!(x & 0x80)) {
				x <<= 1;
				n++;
			}
			return n;
		}
	}
	return 128;
}

void ipv6_solicited_node(const uint8_t a[16], uint8_t out[16])
{
	static const uint8_t p[13] = { 0xff, 0x02, [11] = 0x01, [12] = 0xff };

	memcpy(out, p, 13);
	memcpy(out + 13, a + 13, 3);
}

void ipv6_mcast_mac(const uint8_t a[16], uint8_t mac[6])
{
	mac[0] = 0x33;
	mac[1] = 0x33;
	memcpy(mac + 2, a + 12, 4);
}

uint64_t ipv6_csum_pseudo(const uint8_t src[16], const uint8_t dst[16], uint32_t len,
			  uint8_t next_header)
{
	uint8_t tail[8];
	uint64_t sum;

	put_be32(tail, len);
	tail[4] = tail[5] = tail[6] = 0;
	tail[7] = next_header;
	sum = inet_csum_add(0, src, 16);
	sum = inet_csum_add(sum, dst, 16);
	return inet_csum_add(sum, tail, 8);
}

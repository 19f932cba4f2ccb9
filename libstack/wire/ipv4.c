/*
 * ipv4.c - IPv4 header view and representation (RFC 791), options included,
 *          and the text form of addresses
 */
#include "ipv4.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "checksum.h"

static const char *const ipv4_bad_str[] = {
	[0]			= "ok",
	[IPV4_BAD_TRUNCATED]	= "truncated",
	[IPV4_BAD_VERSION]	= "bad version",
	[IPV4_BAD_IHL]		= "bad header length",
	[IPV4_BAD_TOTAL_LEN]	= "bad total length",
	[IPV4_BAD_CHECKSUM]	= "bad header checksum",
	[IPV4_BAD_OPTIONS]	= "bad options",
};
static_assert(sizeof(ipv4_bad_str) / sizeof(ipv4_bad_str[0]) == IPV4_BAD_MAX + 1,
	      "ipv4_bad_str must name every enum ipv4_bad");

const char *ipv4_bad_strerror(int err)
{
	if (err < 0)
		err = -err;
	if (err > IPV4_BAD_MAX)
		return "unknown";
	return ipv4_bad_str[err];
}

int ipv4_view_check(struct ipv4_view *v, const uint8_t *buf, size_t len)
{
	size_t hlen, total;

	if (len < IPV4_HDR_LEN)
		return -IPV4_BAD_TRUNCATED;
	if (buf[0] >> 4 != 4)
		return -IPV4_BAD_VERSION;
	hlen = (size_t)(buf[0] & 0x0f) * 4;
	if (hlen < IPV4_HDR_LEN)
		return -IPV4_BAD_IHL;
	if (hlen > len)
		return -IPV4_BAD_TRUNCATED;
	total = get_be16(buf + 2);
	if (total < hlen)
		return -IPV4_BAD_TOTAL_LEN;
	if (total > len)
		return -IPV4_BAD_TRUNCATED;

	v->buf = buf;
	v->len = total;
	return 0;
}

bool ipv4_checksum_ok(const struct ipv4_view *v)
{
	return inet_csum(v->buf, ipv4_header_len(v)) == 0;
}

int ipv4_options_parse(const uint8_t *opt, size_t len, struct ipv4_options_info *info)
{
	struct ipv4_options_info seen = { 0 };
	size_t i = 0;
	int ret = 0;

	while (i < len) {
		uint8_t type = opt[i];
		size_t optlen;

		if (type == IPV4_OPT_EOL)
			break;
		if (type == IPV4_OPT_NOP) {
			i++;
			continue;
		}
		if (len - i < 2)		/* no room for the length byte */
			goto bad;
		optlen = opt[i + 1];
		if (optlen < 2 || optlen > len - i)
			goto bad;

		/* From here on, opt[i .. i + optlen - 1] is inside @opt */
		switch (type) {
		case IPV4_OPT_RR:
		case IPV4_OPT_LSRR:
		case IPV4_OPT_SSRR:
			if (optlen < 3 || opt[i + 2] < 4)
				goto bad;
			if (type == IPV4_OPT_RR)
				seen.record_route = true;
			else
				seen.source_route = true;
			break;
		case IPV4_OPT_TS:
			if (optlen < 4 || opt[i + 2] < 5)
				goto bad;
			seen.timestamp = true;
			break;
		case IPV4_OPT_RA:
			if (optlen != 4)
				goto bad;
			seen.router_alert = true;
			break;
		default:
			break;
		}
		i += optlen;
	}
	goto out;
bad:
	ret = -IPV4_BAD_OPTIONS;
out:
	if (info)
		*info = seen;
	return ret;
}

int ipv4_repr_parse(struct ipv4_repr *r, const struct ipv4_view *v)
{
	uint16_t frag;
	int ret;

	if (!ipv4_checksum_ok(v))
		return -IPV4_BAD_CHECKSUM;
	ret = ipv4_options_parse(ipv4_options(v), ipv4_options_len(v), NULL);
	if (ret < 0)
		return ret;

	frag = get_be16(v->buf + 6);
	r->src = ipv4_src(v);
	r->dst = ipv4_dst(v);
	r->proto = ipv4_proto(v);
	r->ttl = ipv4_ttl(v);
	r->tos = ipv4_tos(v);
	r->id = ipv4_id(v);
	r->df = frag & IPV4_FLAG_DF;
	r->mf = frag & IPV4_FLAG_MF;
	r->frag_offset = (uint32_t)(frag & IPV4_OFFSET_MASK) * 8;
	r->options_len = ipv4_options_len(v);
	r->options = r->options_len ? ipv4_options(v) : NULL;
	r->payload_len = ipv4_payload_len(v);
	return 0;
}

/* Options bytes emit copies: none without a pointer, at most 40 */
static size_t ipv4_repr_raw_options_len(const struct ipv4_repr *r)
{
	if (!r->options)
		return 0;
	return r->options_len > IPV4_MAX_OPTIONS_LEN ? IPV4_MAX_OPTIONS_LEN : r->options_len;
}

size_t ipv4_repr_header_len(const struct ipv4_repr *r)
{
	return IPV4_HDR_LEN + ((ipv4_repr_raw_options_len(r) + 3) & ~(size_t)3);
}

void ipv4_repr_emit(const struct ipv4_repr *r, uint8_t *buf)
{
	size_t hlen = ipv4_repr_header_len(r);
	size_t optlen = ipv4_repr_raw_options_len(r);
	uint16_t frag;

	buf[0] = (uint8_t)(0x40 | hlen / 4);
	buf[1] = r->tos;
	put_be16(buf + 2, (uint16_t)(hlen + r->payload_len));
	put_be16(buf + 4, r->id);
	frag = (uint16_t)((r->frag_offset / 8) & IPV4_OFFSET_MASK);
	if (r->df)
		frag |= IPV4_FLAG_DF;
	if (r->mf)
		frag |= IPV4_FLAG_MF;
	put_be16(buf + 6, frag);
	buf[8] = r->ttl;
	buf[9] = r->proto;
	put_be16(buf + 10, 0);
	put_be32(buf + 12, r->src);
	put_be32(buf + 16, r->dst);
	if (optlen)
		memcpy(buf + IPV4_HDR_LEN, r->options, optlen);
	memset(buf + IPV4_HDR_LEN + optlen, IPV4_OPT_EOL, hlen - IPV4_HDR_LEN - optlen);
	put_be16(buf + 10, inet_csum(buf, hlen));
}

int tapir_ipv4_addr_parse(const char *s, uint32_t *out)
{
	uint32_t addr = 0;

	if (!s)
		return -EINVAL;
	for (int part = 0; part < 4; part++) {
		unsigned v = 0, digits = 0;

		if (part && *s++ != '.')
			return -EINVAL;
		while (*s >= '0' && *s <= '9') {
			if (digits == 1 && v == 0)
				return -EINVAL;	/* leading zero */
			v = v * 10 + (unsigned)(*s - '0');
			if (++digits > 3 || v > 255)
				return -EINVAL;
			s++;
		}
		if (!digits)
			return -EINVAL;
		addr = addr << 8 | v;
	}
	if (*s)
		return -EINVAL;
	*out = addr;
	return 0;
}

char *tapir_ipv4_addr_format(uint32_t addr, char *buf)
{
	snprintf(buf, IPV4_ADDR_STRLEN, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 255,
		 (addr >> 8) & 255, addr & 255);
	return buf;
}

/*
 * icmpv6.c - ICMPv6 checksum, NDP messages and options, MLDv2 reports and queries
 */
#include "icmpv6.h"

#include <errno.h>
#include <string.h>

#include "bytes.h"
#include "checksum.h"
#include "ipv6.h"

uint16_t icmpv6_csum(const uint8_t src[16], const uint8_t dst[16], const uint8_t *msg, size_t len)
{
	uint64_t sum = ipv6_csum_pseudo(src, dst, (uint32_t)len, IPV6_NH_ICMPV6);

	return inet_csum_fold(inet_csum_add(sum, msg, len));
}

void icmpv6_set_csum(const uint8_t src[16], const uint8_t dst[16], uint8_t *msg, size_t len)
{
	put_be16(msg + 2, 0);
	put_be16(msg + 2, icmpv6_csum(src, dst, msg, len));
}

int ndp_opts_parse(struct ndp_opts *o, const uint8_t *buf, size_t len)
{
	size_t pos = 0;

	memset(o, 0, sizeof(*o));
	while (pos < len) {
		const uint8_t *p = buf + pos;
		size_t olen;

		if (len - pos < 2 || p[1] == 0)
			return -EBADMSG;
		olen = (size_t)p[1] * 8;
		if (olen > len - pos)
			return -EBADMSG;
		switch (p[0]) {
		case NDP_OPT_SLLA:
		case NDP_OPT_TLLA:
			if (olen != 8)
				return -EBADMSG;
			if (p[0] == NDP_OPT_SLLA && !o->slla)
				o->slla = p + 2;
			else if (p[0] == NDP_OPT_TLLA && !o->tlla)
				o->tlla = p + 2;
			break;
		case NDP_OPT_PREFIX:
			if (olen != 32)
				return -EBADMSG;
			if (o->nprefix < NDP_MAX_PREFIXES) {
				struct ndp_prefix *x = &o->prefix[o->nprefix++];

				x->prefix_len = p[2];
				x->flags = p[3];
				x->valid_lifetime = get_be32(p + 4);
				x->preferred_lifetime = get_be32(p + 8);
				x->prefix = p + 16;
			}
			break;
		case NDP_OPT_MTU:
			if (olen != 8)
				return -EBADMSG;
			o->mtu = get_be32(p + 4);
			break;
		case NDP_OPT_RDNSS:
			if (olen < 24 || (p[1] % 2) == 0)
				return -EBADMSG;
			if (o->nrdnss == 0)
				o->rdnss_lifetime = get_be32(p + 4);
			for (size_t a = 8; a + 16 <= olen && o->nrdnss < NDP_MAX_RDNSS; a += 16)
				o->rdnss[o->nrdnss++] = p + a;
			break;
		case NDP_OPT_REDIRECTED:
			if (!o->redirected) {
				o->redirected = p + 8;
				o->redirected_len = olen - 8;
			}
			break;
		case NDP_OPT_NONCE:
			o->has_nonce = true;
			break;
		default:
			break;  /* unknown: skipped (RFC 4861 4.6) */
		}
		pos += olen;
	}
	return 0;
}

int ndp_parse(struct ndp_msg *m, const uint8_t *msg, size_t len)
{
	size_t optoff;

	if (len < ICMPV6_HDR_LEN || msg[1] != 0)
		return -EBADMSG;
	memset(m, 0, sizeof(*m));
	m->type = msg[0];
	switch (m->type) {
	case ICMPV6_ROUTER_SOLICIT:
		optoff = 8;
		break;
	case ICMPV6_ROUTER_ADVERT:
		if (len < 16)
			return -EBADMSG;
		m->cur_hop_limit = msg[4];
		m->flags = msg[5];
		m->router_lifetime = get_be16(msg + 6);
		m->reachable_ms = get_be32(msg + 8);
		m->retrans_ms = get_be32(msg + 12);
		optoff = 16;
		break;
	case ICMPV6_NEIGHBOR_SOLICIT:
	case ICMPV6_NEIGHBOR_ADVERT:
		if (len < 24)
			return -EBADMSG;
		m->flags = msg[4];
		m->target = msg + 8;
		if (ipv6_addr_is_multicast(m->target))
			return -EBADMSG;
		optoff = 24;
		break;
	case ICMPV6_REDIRECT:
		if (len < 40)
			return -EBADMSG;
		m->target = msg + 8;
		m->dest = msg + 24;
		if (ipv6_addr_is_multicast(m->dest))
			return -EBADMSG;
		optoff = 40;
		break;
	default:
		return -EBADMSG;
	}
	return ndp_opts_parse(&m->opts, msg + optoff, len - optoff);
}

static size_t lla_opt(uint8_t *p, uint8_t type, const uint8_t mac[6])
{
	p[0] = type;
	p[1] = 1;
	memcpy(p + 2, mac, 6);
	return NDP_LLA_OPT_LEN;
}

size_t ndp_emit_ns(uint8_t *buf, const uint8_t target[16], const uint8_t *slla,
		   const uint8_t src[16], const uint8_t dst[16])
{
	size_t n = NDP_NS_LEN;

	memset(buf, 0, NDP_NS_LEN);
	buf[0] = ICMPV6_NEIGHBOR_SOLICIT;
	memcpy(buf + 8, target, 16);
	if (slla)
		n += lla_opt(buf + n, NDP_OPT_SLLA, slla);
	icmpv6_set_csum(src, dst, buf, n);
	return n;
}

size_t ndp_emit_na(uint8_t *buf, uint8_t flags, const uint8_t target[16], const uint8_t *tlla,
		   const uint8_t src[16], const uint8_t dst[16])
{
	size_t n = NDP_NS_LEN;

	memset(buf, 0, NDP_NS_LEN);
	buf[0] = ICMPV6_NEIGHBOR_ADVERT;
	buf[4] = flags & (NDP_NA_ROUTER | NDP_NA_SOLICITED | NDP_NA_OVERRIDE);
	memcpy(buf + 8, target, 16);
	if (tlla)
		n += lla_opt(buf + n, NDP_OPT_TLLA, tlla);
	icmpv6_set_csum(src, dst, buf, n);
	return n;
}

size_t ndp_emit_rs(uint8_t *buf, const uint8_t *slla, const uint8_t src[16], const uint8_t dst[16])
{
	size_t n = 8;

	memset(buf, 0, 8);
	buf[0] = ICMPV6_ROUTER_SOLICIT;
	if (slla)
		n += lla_opt(buf + n, NDP_OPT_SLLA, slla);
	icmpv6_set_csum(src, dst, buf, n);
	return n;
}

size_t mld2_emit_report(uint8_t *buf, uint8_t rtype, const uint8_t (*groups)[16], size_t n,
			const uint8_t src[16], const uint8_t dst[16])
{
	size_t len = 8 + 20 * n;

	memset(buf, 0, 8);
	buf[0] = ICMPV6_MLD2_REPORT;
	put_be16(buf + 6, (uint16_t)n);
	for (size_t i = 0; i < n; i++) {
		uint8_t *r = buf + 8 + 20 * i;

		r[0] = rtype;
		r[1] = 0;
		put_be16(r + 2, 0);
		memcpy(r + 4, groups[i], 16);
	}
	icmpv6_set_csum(src, dst, buf, len);
	return len;
}

int mld_query_parse(struct mld_query *q, const uint8_t *msg, size_t len)
{
	uint16_t mrc;

	if (len < 24 || msg[0] != ICMPV6_MLD_QUERY)
		return -EBADMSG;
	q->group = msg + 8;
	mrc = get_be16(msg + 4);
	if (len == 24) {
		q->v2 = false;
		q->max_resp_ms = mrc;
		return 0;
	}
	if (len < 28 || len < 28 + (size_t)get_be16(msg + 26) * 16)
		return -EBADMSG;
	q->v2 = true;
	/* RFC 3810 5.1.3: values from 32768 on are a floating-point form */
	if (mrc < 32768)
		q->max_resp_ms = mrc;
	else
		q->max_resp_ms = (uint32_t)((mrc & 0x0fff) | 0x1000) << (((mrc >> 12) & 7) + 3);
	return 0;
}

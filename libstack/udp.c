/*
 * udp.c - UDP (RFC 768) over IPv4 and IPv6 (RFC 8200): listeners, delivery, sending
 *
 * Theory of operation
 *
 * Listeners are kept in a small array sorted by port (binary search); each
 * takes both families unless it asked for one (tapir_udp_listen_family()).
 * UDP registers with IPv4 and, when the stack has it, with IPv6 (udp_init()),
 * as any protocol above them, so it gets their datagrams and the ICMP and
 * ICMPv6 errors about the datagrams it sent.
 *
 * Input: the length field is checked against the IP payload.  Over IPv4 the
 * checksum is verified unless it is 0 (not computed); over IPv6 it is
 * mandatory (RFC 8200 8.1): a zero checksum is dropped and counted
 * (udp.drop.zero_checksum), and the pseudo-header is IPv6's.  A datagram to a
 * port without a listener (of its family) is answered with ICMP port
 * unreachable, unless it was a broadcast, or ICMPv6 port unreachable through
 * icmpv6.c's error path, which rate-limits and never answers a datagram sent
 * to a multicast group.  Multicast destinations come from the IPv6 layer only
 * for groups we are in; UDP checks again (udp.drop.multicast) and tells the
 * listener (struct tapir_udp_meta's multicast).  Reassembled datagrams come
 * whole from either IP layer.  A datagram to a foreign address (forwarder
 * mode, tapir/forward.h) goes to the forwarder.
 *
 * Output: a datagram over IPv4 or IPv6 by the destination's family (an
 * IPv4-mapped IPv6 address goes over IPv4).  The checksum is always computed
 * (0 goes out as 0xffff); over IPv6 the source address is chosen here (RFC
 * 6724, tapir_ipv6_select_source()) since the checksum covers it.  Datagrams
 * larger than the path MTU are fragmented by the IP layer.  An ephemeral
 * source port is chosen at random in 49152-65535.
 *
 * Errors: each ICMP error is counted, and passed to the listener of the
 * quoted source port if it asked for errors (tapir_udp_listen_err()).  UDP
 * has no sequence numbers, so the check of RFC 5927 is the port: an error
 * quoting a source port without a socket (nothing we could have sent, or an
 * ephemeral port of tapir_udp_sendto() with nobody to tell) is dropped and
 * counted (udp.drop.icmp_invalid).  Over IPv4 only a validated
 * "fragmentation needed" may lower the path MTU (ipv4_pmtu_frag_needed(),
 * which also wants DF in the quote: our UDP never sets it, so a forged error
 * must lie about that too, and then lowers the MTU no further than
 * min_pmtu); over IPv6 icmpv6.c has applied a Packet Too Big already (never
 * below 1,280, validated against the quoted packet's size).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "ipv6_internal.h"
#include "tapir/udp.h"
#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/icmp.h"
#include "wire/icmpv6.h"
#include "wire/ipv4.h"
#include "wire/ipv6.h"
#include "wire/udp.h"

#define UDP_MAX_PAYLOAD (65535 - IPV4_HDR_LEN - UDP_HDR_LEN)
/* An IPv6 payload of 65,535 at most, less a fragment header and UDP's */
#define UDP6_MAX_PAYLOAD (65535 - IPV6_FRAG_HDR_LEN - UDP_HDR_LEN)

/* Return: index of @port, or -(insertion point) - 1 */
static long udp_find(const struct tapir_stack *st, uint16_t port)
{
	size_t lo = 0, hi = st->nudp;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (st->udp[mid].port == port)
			return (long)mid;
		if (st->udp[mid].port < port)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -(long)lo - 1;
}

/* The listener of @port taking @family.  Return: its index, or -1 */
static long udp_find_fam(const struct tapir_stack *st, uint16_t port, uint8_t family)
{
	long at = udp_find(st, port);

	if (at < 0)
		return -1;
	if (st->udp[at].family != TAPIR_AF_UNSPEC && st->udp[at].family != family)
		return -1;
	return at;
}

int tapir_udp_listen(struct tapir_stack *st, uint16_t port, tapir_udp_recv_fn cb, void *ctx)
{
	return tapir_udp_listen_family(st, port, TAPIR_AF_UNSPEC, cb, NULL, ctx);
}

int tapir_udp_listen_err(struct tapir_stack *st, uint16_t port, tapir_udp_recv_fn cb,
			 tapir_udp_err_fn err, void *ctx)
{
	return tapir_udp_listen_family(st, port, TAPIR_AF_UNSPEC, cb, err, ctx);
}

int tapir_udp_listen_family(struct tapir_stack *st, uint16_t port, enum tapir_family fam,
			    tapir_udp_recv_fn cb, tapir_udp_err_fn err, void *ctx)
{
	long at;

	if (port == 0 || !cb ||
	    (fam != TAPIR_AF_UNSPEC && fam != TAPIR_AF_INET && fam != TAPIR_AF_INET6))
		return -EINVAL;
	at = udp_find(st, port);
	if (at >= 0)
		return -EADDRINUSE;
	at = -at - 1;
	if (st->nudp == st->udp_cap) {
		size_t cap = st->udp_cap ? st->udp_cap * 2 : 8;
		struct udp_listener *n = realloc(st->udp, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		st->udp = n;
		st->udp_cap = cap;
	}
	memmove(&st->udp[at + 1], &st->udp[at], (st->nudp - (size_t)at) * sizeof(*st->udp));
	st->udp[at] = (struct udp_listener){ .port = port, .family = (uint8_t)fam, .cb = cb,
					     .err = err, .ctx = ctx };
	st->nudp++;
	return 0;
}

int tapir_udp_unlisten(struct tapir_stack *st, uint16_t port)
{
	long at = udp_find(st, port);

	if (at < 0)
		return -ENOENT;
	memmove(&st->udp[at], &st->udp[at + 1], (st->nudp - (size_t)at - 1) * sizeof(*st->udp));
	st->nudp--;
	return 0;
}

size_t tapir_udp_list_info(const struct tapir_stack *st, struct tapir_udp_listener_info *out,
			   size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < st->nudp && n < max; i++)
		out[n++] = (struct tapir_udp_listener_info){ st->udp[i].port, st->udp[i].family };
	return n;
}

void udp_free_all(struct tapir_stack *st)
{
	free(st->udp);
	st->udp = NULL;
	st->nudp = st->udp_cap = 0;
}

/* Count a parse failure of udp_repr_parse*() */
static void count_parse_error(struct tapir_stack *st, int rc, size_t len)
{
	if (rc == -EILSEQ)
		CTR_INC(st, UDP_DROP_CHECKSUM);
	else if (rc == -ENODATA)
		CTR_INC(st, UDP_DROP_ZERO_CSUM);
	else if (len < UDP_HDR_LEN)
		CTR_INC(st, UDP_DROP_MALFORMED);
	else
		CTR_INC(st, UDP_DROP_LENGTH);
}

static struct tapir_addr addr6(const uint8_t a[16])
{
	struct tapir_addr r = { .family = TAPIR_AF_INET6 };

	memcpy(r.v6, a, 16);
	return r;
}

static int udp_rx(void *ctx, const struct tapir_ipv4_rx_meta *m, const uint8_t *data, size_t len)
{
	struct tapir_stack *st = ctx;
	struct udp_repr r;
	struct tapir_udp_meta um;
	long at;
	int rc;

	CTR_INC(st, UDP_RX);
	rc = udp_repr_parse_opt(&r, data, len, m->src, m->dst, !m->l4_csum_ok);
	if (rc < 0) {
		count_parse_error(st, rc, len);
		return 0;
	}
	if (r.dst_port == 0) {
		CTR_INC(st, UDP_DROP_BAD_PORT);
		return 0;
	}
	um = (struct tapir_udp_meta){ .src = tapir_addr_v4(m->src), .dst = tapir_addr_v4(m->dst),
				      .src_port = r.src_port, .dst_port = r.dst_port,
				      .ttl = m->ttl };
	if (m->dst != st->cfg.addr && !m->ip_broadcast) {
		/* forwarder mode: ipv4_input() took a foreign address */
		if (!st->udp_fwd) {
			CTR_INC(st, UDP_DROP_NO_FORWARDER);
			return 0;
		}
		CTR_INC(st, UDP_FORWARDED);
		st->udp_fwd(st->udp_fwd_ctx, &um, r.payload, r.payload_len);
		return 0;
	}
	at = udp_find_fam(st, r.dst_port, TAPIR_AF_INET);
	if (at < 0) {
		CTR_INC(st, UDP_DROP_NO_LISTENER);
		icmp_send_error(st, TAPIR_ICMP_DEST_UNREACH, TAPIR_ICMP_UNREACH_PORT, 0, m->ip_header,
				m->ip_header_len, data, len, m->link_broadcast || m->ip_broadcast);
		return 0;
	}
	um.broadcast = m->ip_broadcast;
	CTR_INC(st, UDP_DELIVERED);
	st->udp[at].cb(st->udp[at].ctx, &um, r.payload, r.payload_len);
	return 0;
}

static int udp_rx6(void *ctx, const struct tapir_ipv6_rx_meta *m, const uint8_t *data, size_t len)
{
	struct tapir_stack *st = ctx;
	struct udp_repr r;
	struct tapir_udp_meta um;
	uint64_t pseudo;
	long at;
	int rc;

	CTR_INC(st, UDP_RX);
	if (len < UDP_HDR_LEN) {
		CTR_INC(st, UDP_DROP_MALFORMED);
		return 0;
	}
	pseudo = ipv6_csum_pseudo(m->src, m->dst, get_be16(data + 4), TAPIR_IP_PROTO_UDP);
	rc = udp_repr_parse_sum(&r, data, len, pseudo, !m->l4_csum_ok, false);
	if (rc < 0) {
		count_parse_error(st, rc, len);
		return 0;
	}
	if (r.dst_port == 0) {
		CTR_INC(st, UDP_DROP_BAD_PORT);
		return 0;
	}
	um = (struct tapir_udp_meta){ .src = addr6(m->src), .dst = addr6(m->dst),
				      .src_port = r.src_port, .dst_port = r.dst_port,
				      .ttl = m->hop_limit, .multicast = m->multicast };
	if (m->multicast) {
		if (!ipv6_addr_in_group(st, m->dst)) {
			CTR_INC(st, UDP_DROP_MULTICAST);
			return 0;
		}
	} else if (!ipv6_is_our_addr(st, m->dst)) {
		/* forwarder mode: the IPv6 layer took a foreign address */
		if (!st->udp_fwd) {
			CTR_INC(st, UDP_DROP_NO_FORWARDER);
			return 0;
		}
		CTR_INC(st, UDP_FORWARDED);
		st->udp_fwd(st->udp_fwd_ctx, &um, r.payload, r.payload_len);
		return 0;
	}
	at = udp_find_fam(st, r.dst_port, TAPIR_AF_INET6);
	if (at < 0) {
		CTR_INC(st, UDP_DROP_NO_LISTENER);
		/* never about a multicast datagram (RFC 4443 2.4 e.3): icmpv6.c checks */
		tapir_ipv6_send_unreachable(st, m, ICMPV6_UNREACH_PORT);
		return 0;
	}
	CTR_INC(st, UDP_DELIVERED);
	st->udp[at].cb(st->udp[at].ctx, &um, r.payload, r.payload_len);
	return 0;
}

/* Deliver @ue about the datagram sent from @src_port, if a listener wants it */
static void udp_err_deliver(struct tapir_stack *st, long at, struct tapir_udp_err *ue)
{
	if (!st->udp[at].err)
		return;
	CTR_INC(st, UDP_ICMP_ERRORS_DELIVERED);
	st->udp[at].err(st->udp[at].ctx, ue);
}

static void udp_icmp_err(void *ctx, const struct tapir_ipv4_icmp_err *e)
{
	struct tapir_stack *st = ctx;
	const struct tapir_icmp_quote *q = e->quote;
	struct tapir_udp_err ue;
	long at;

	CTR_INC(st, UDP_ICMP_ERRORS_RX);
	at = q->have_ports ? udp_find_fam(st, q->src_port, TAPIR_AF_INET) : -1;
	if (at < 0 || q->dst_port == 0) {
		CTR_INC(st, UDP_DROP_ICMP_INVALID);
		return;
	}
	if (e->mtu)
		(void)ipv4_pmtu_frag_needed(st, e);
	ue = (struct tapir_udp_err){ .from = tapir_addr_v4(e->from), .type = e->type,
				     .code = e->code, .mtu = e->mtu, .dst = tapir_addr_v4(q->dst),
				     .src_port = q->src_port, .dst_port = q->dst_port };
	if (q->l4_len > UDP_HDR_LEN) {
		ue.data = q->l4 + UDP_HDR_LEN;
		ue.data_len = q->l4_len - UDP_HDR_LEN;
	}
	udp_err_deliver(st, at, &ue);
}

static void udp_icmp6_err(void *ctx, const struct tapir_ipv6_icmp_err *e)
{
	struct tapir_stack *st = ctx;
	struct tapir_udp_err ue;
	uint16_t sport, dport;
	long at = -1;

	CTR_INC(st, UDP_ICMP_ERRORS_RX);
	if (e->l4_len >= UDP_HDR_LEN) {
		sport = get_be16(e->l4);
		dport = get_be16(e->l4 + 2);
		at = dport ? udp_find_fam(st, sport, TAPIR_AF_INET6) : -1;
	}
	if (at < 0) {
		CTR_INC(st, UDP_DROP_ICMP_INVALID);
		return;
	}
	ue = (struct tapir_udp_err){ .from = addr6(e->from), .type = e->type, .code = e->code,
				     .mtu = e->mtu, .dst = addr6(e->dst), .src_port = sport,
				     .dst_port = dport };
	if (e->l4_len > UDP_HDR_LEN) {
		ue.data = e->l4 + UDP_HDR_LEN;
		ue.data_len = e->l4_len - UDP_HDR_LEN;
	}
	udp_err_deliver(st, at, &ue);
}

int tapir_udp_err_errno(const struct tapir_udp_err *e)
{
	if (e->from.family == TAPIR_AF_INET6) {
		switch (e->type) {
		case ICMPV6_DEST_UNREACH:
			if (e->code == ICMPV6_UNREACH_PORT)
				return -ECONNREFUSED;
			if (e->code == ICMPV6_UNREACH_ADMIN)
				return -EACCES;
			return -EHOSTUNREACH;
		case ICMPV6_PKT_TOO_BIG:
			return -EMSGSIZE;
		case ICMPV6_TIME_EXCEEDED:
			return -EHOSTUNREACH;
		default:
			return -EPROTO;
		}
	}
	switch (e->type) {
	case TAPIR_ICMP_DEST_UNREACH:
		switch (e->code) {
		case TAPIR_ICMP_UNREACH_NET:
			return -ENETUNREACH;
		case TAPIR_ICMP_UNREACH_PROTOCOL:
			return -ENOPROTOOPT;
		case TAPIR_ICMP_UNREACH_PORT:
			return -ECONNREFUSED;
		case TAPIR_ICMP_UNREACH_FRAG_NEEDED:
			return -EMSGSIZE;
		case TAPIR_ICMP_UNREACH_ADMIN:
			return -EACCES;
		default:
			return -EHOSTUNREACH;
		}
	case TAPIR_ICMP_TIME_EXCEEDED:
		return -EHOSTUNREACH;
	default:
		return -EPROTO;
	}
}

int udp_init(struct tapir_stack *st)
{
	int rc = tapir_ipv4_register_proto(st, TAPIR_IP_PROTO_UDP, udp_rx, udp_icmp_err, st);

	if (rc == 0 && st->ip6)
		rc = tapir_ipv6_register_proto(st, TAPIR_IP_PROTO_UDP, udp_rx6, udp_icmp6_err, st);
	return rc;
}

struct udp_fill_ctx {
	struct udp_repr r;
	uint64_t pseudo;
};

static size_t udp_fill(uint8_t *buf, size_t size, void *arg)
{
	struct udp_fill_ctx *c = arg;

	(void)size;
	udp_repr_emit_sum(&c->r, buf, c->pseudo);
	return UDP_HDR_LEN;
}

int tapir_udp_forwarder_set(struct tapir_stack *st, tapir_udp_recv_fn cb, void *ctx)
{
	st->udp_fwd = cb;
	st->udp_fwd_ctx = cb ? ctx : NULL;
	return 0;
}

int tapir_udp_sendto(struct tapir_stack *st, uint16_t src_port, const struct tapir_addr *dst,
		     uint16_t dst_port, uint8_t ttl, const uint8_t *data, size_t len)
{
	if (src_port == 0)
		src_port = (uint16_t)(49152 + stack_random32(st) % 16384);
	return tapir_udp_sendto_from(st, NULL, src_port, dst, dst_port, ttl, data, len);
}

static int udp_send4(struct tapir_stack *st, uint32_t src, uint32_t dst, struct udp_fill_ctx *c,
		     uint8_t ttl)
{
	struct tapir_ipv4_write_opts o = { .fragment = true, .ttl = ttl, .src = src };
	struct tapir_stack_iov iov = { c->r.payload, c->r.payload_len };

	if (c->r.payload_len > UDP_MAX_PAYLOAD)
		return -EMSGSIZE;
	if (!src)
		src = st->cfg.addr;
	c->pseudo = inet_csum_pseudo(src, dst, TAPIR_IP_PROTO_UDP,
				     (uint16_t)(UDP_HDR_LEN + c->r.payload_len));
	return tapir_ipv4_write(st, &o, dst, TAPIR_IP_PROTO_UDP, UDP_HDR_LEN, udp_fill, c, &iov, 1);
}

static int udp_send6(struct tapir_stack *st, const struct tapir_addr *src,
		     const struct tapir_addr *dst, struct udp_fill_ctx *c, uint8_t ttl)
{
	struct tapir_ipv6_write_opts o = { .fragment = true, .hop_limit = ttl };
	struct tapir_stack_iov iov = { c->r.payload, c->r.payload_len };
	uint8_t s[16];

	if (!st->ip6)
		return -EAFNOSUPPORT;
	if (c->r.payload_len > UDP6_MAX_PAYLOAD)
		return -EMSGSIZE;
	if (src && src->family == TAPIR_AF_INET6)
		memcpy(s, src->v6, 16);
	else if (tapir_ipv6_select_source(st, dst->v6, s) < 0)
		return -EADDRNOTAVAIL;
	o.src = s;
	c->pseudo = ipv6_csum_pseudo(s, dst->v6, (uint32_t)(UDP_HDR_LEN + c->r.payload_len),
				     TAPIR_IP_PROTO_UDP);
	return tapir_ipv6_write(st, &o, dst->v6, TAPIR_IP_PROTO_UDP, UDP_HDR_LEN, udp_fill, c,
				&iov, 1);
}

int tapir_udp_sendto_from(struct tapir_stack *st, const struct tapir_addr *src, uint16_t src_port,
			  const struct tapir_addr *dst, uint16_t dst_port, uint8_t ttl,
			  const uint8_t *data, size_t len)
{
	struct udp_fill_ctx c;
	uint32_t d4, s4 = 0;
	bool sv4 = false;
	int rc;

	if (dst_port == 0 || src_port == 0 || !dst || (len && !data))
		return -EINVAL;
	if (src && src->family == TAPIR_AF_INET) {
		s4 = src->v4;
		sv4 = true;
	} else if (src && src->family == TAPIR_AF_INET6 && tapir_addr_is_v4mapped(src, &s4)) {
		sv4 = true;
	} else if (src && src->family != TAPIR_AF_INET6 && src->family != TAPIR_AF_UNSPEC) {
		return -EINVAL;
	}
	c.r.src_port = src_port;
	c.r.dst_port = dst_port;
	c.r.payload = data;
	c.r.payload_len = len;
	if (dst->family == TAPIR_AF_INET || tapir_addr_is_v4mapped(dst, &d4)) {
		if (dst->family == TAPIR_AF_INET)
			d4 = dst->v4;
		if (src && src->family != TAPIR_AF_UNSPEC && !sv4)
			return -EINVAL;
		rc = udp_send4(st, s4, d4, &c, ttl);
	} else if (dst->family == TAPIR_AF_INET6) {
		if (sv4)
			return -EINVAL;
		rc = udp_send6(st, src, dst, &c, ttl);
	} else {
		return -EINVAL;
	}
	if (rc == 0)
		CTR_INC(st, UDP_TX);
	return rc;
}

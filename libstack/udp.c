/*
 * udp.c - UDP (RFC 768): listeners, delivery, sending
 *
 * Listeners are kept in a small array sorted by port (binary search).
 * Received datagrams have their length checked against the IP payload and
 * their checksum verified unless it is 0 (not computed).  A datagram to a
 * port without a listener is answered with ICMP port unreachable, unless it
 * was a broadcast.  Sent datagrams always carry a checksum (0 goes out as
 * 0xffff).  An ephemeral source port is chosen at random in 49152-65535.
 *
 * UDP registers with IPv4 like any protocol above it (udp_init()), so it
 * also gets the ICMP errors about datagrams it sent: each is counted, and
 * passed to the listener of the quoted source port if it asked for errors
 * (tapir_udp_listen_err()).  UDP has no sequence numbers, so the check of RFC 5927
 * is the port: an error quoting a source port without a socket (nothing we
 * could have sent, or an ephemeral port of tapir_udp_sendto() with nobody to tell)
 * is dropped and counted (udp.drop.icmp_invalid).  Only a validated
 * "fragmentation needed" may lower the path MTU (ipv4_pmtu_frag_needed(),
 * which also wants DF in the quote: our UDP never sets it, so a forged error
 * must lie about that too, and then lowers the MTU no further than min_pmtu).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "tapir/udp.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"
#include "wire/udp.h"

#define UDP_MAX_PAYLOAD (65535 - IPV4_HDR_LEN - UDP_HDR_LEN)

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

int tapir_udp_listen(struct tapir_stack *st, uint16_t port, tapir_udp_recv_fn cb, void *ctx)
{
	return tapir_udp_listen_err(st, port, cb, NULL, ctx);
}

int tapir_udp_listen_err(struct tapir_stack *st, uint16_t port, tapir_udp_recv_fn cb,
			 tapir_udp_err_fn err, void *ctx)
{
	long at;

	if (port == 0 || !cb)
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
	st->udp[at] = (struct udp_listener){ port, cb, err, ctx };
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

void udp_free_all(struct tapir_stack *st)
{
	free(st->udp);
	st->udp = NULL;
	st->nudp = st->udp_cap = 0;
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
	if (rc == -EILSEQ) {
		CTR_INC(st, UDP_DROP_CHECKSUM);
		return 0;
	}
	if (rc < 0) {
		if (len < UDP_HDR_LEN)
			CTR_INC(st, UDP_DROP_MALFORMED);
		else
			CTR_INC(st, UDP_DROP_LENGTH);
		return 0;
	}
	if (r.dst_port == 0) {
		CTR_INC(st, UDP_DROP_BAD_PORT);
		return 0;
	}
	if (m->dst != st->cfg.addr && !m->ip_broadcast) {
		/* forwarder mode: ipv4_input() took a foreign address */
		if (!st->udp_fwd) {
			CTR_INC(st, UDP_DROP_NO_FORWARDER);
			return 0;
		}
		um = (struct tapir_udp_meta){ .src = m->src, .dst = m->dst,
					      .src_port = r.src_port, .dst_port = r.dst_port,
					      .ttl = m->ttl };
		CTR_INC(st, UDP_FORWARDED);
		st->udp_fwd(st->udp_fwd_ctx, &um, r.payload, r.payload_len);
		return 0;
	}
	at = udp_find(st, r.dst_port);
	if (at < 0) {
		CTR_INC(st, UDP_DROP_NO_LISTENER);
		icmp_send_error(st, TAPIR_ICMP_DEST_UNREACH, TAPIR_ICMP_UNREACH_PORT, 0, m->ip_header,
				m->ip_header_len, data, len, m->link_broadcast || m->ip_broadcast);
		return 0;
	}
	um.src = m->src;
	um.dst = m->dst;
	um.src_port = r.src_port;
	um.dst_port = r.dst_port;
	um.ttl = m->ttl;
	um.broadcast = m->ip_broadcast;
	CTR_INC(st, UDP_DELIVERED);
	st->udp[at].cb(st->udp[at].ctx, &um, r.payload, r.payload_len);
	return 0;
}

static void udp_icmp_err(void *ctx, const struct tapir_ipv4_icmp_err *e)
{
	struct tapir_stack *st = ctx;
	const struct tapir_icmp_quote *q = e->quote;
	struct tapir_udp_err ue;
	long at;

	CTR_INC(st, UDP_ICMP_ERRORS_RX);
	at = q->have_ports ? udp_find(st, q->src_port) : -1;
	if (at < 0 || q->dst_port == 0) {
		CTR_INC(st, UDP_DROP_ICMP_INVALID);
		return;
	}
	if (e->mtu)
		(void)ipv4_pmtu_frag_needed(st, e);
	if (!st->udp[at].err)
		return;
	ue.from = e->from;
	ue.type = e->type;
	ue.code = e->code;
	ue.mtu = e->mtu;
	ue.dst = q->dst;
	ue.src_port = q->src_port;
	ue.dst_port = q->dst_port;
	ue.data = q->l4_len > UDP_HDR_LEN ? q->l4 + UDP_HDR_LEN : NULL;
	ue.data_len = q->l4_len > UDP_HDR_LEN ? q->l4_len - UDP_HDR_LEN : 0;
	CTR_INC(st, UDP_ICMP_ERRORS_DELIVERED);
	st->udp[at].err(st->udp[at].ctx, &ue);
}

int udp_init(struct tapir_stack *st)
{
	return tapir_ipv4_register_proto(st, TAPIR_IP_PROTO_UDP, udp_rx, udp_icmp_err, st);
}

struct udp_fill_ctx {
	struct udp_repr r;
	uint32_t src, dst;
};

static size_t udp_fill(uint8_t *buf, size_t size, void *arg)
{
	struct udp_fill_ctx *c = arg;

	(void)size;
	udp_repr_emit(&c->r, buf, c->src, c->dst);
	return UDP_HDR_LEN;
}

int tapir_udp_forwarder_set(struct tapir_stack *st, tapir_udp_recv_fn cb, void *ctx)
{
	st->udp_fwd = cb;
	st->udp_fwd_ctx = cb ? ctx : NULL;
	return 0;
}

int tapir_udp_sendto(struct tapir_stack *st, uint16_t src_port, uint32_t dst, uint16_t dst_port,
		     uint8_t ttl, const uint8_t *data, size_t len)
{
	if (src_port == 0)
		src_port = (uint16_t)(49152 + stack_random32(st) % 16384);
	return tapir_udp_sendto_from(st, 0, src_port, dst, dst_port, ttl, data, len);
}

int tapir_udp_sendto_from(struct tapir_stack *st, uint32_t src, uint16_t src_port, uint32_t dst,
			  uint16_t dst_port, uint8_t ttl, const uint8_t *data, size_t len)
{
	struct udp_fill_ctx c;
	struct tapir_ipv4_write_opts o = { .fragment = true, .ttl = ttl, .src = src };
	struct tapir_stack_iov iov = { data, len };
	int rc;

	if (len > UDP_MAX_PAYLOAD)
		return -EMSGSIZE;
	if (dst_port == 0 || src_port == 0)
		return -EINVAL;
	c.r.src_port = src_port;
	c.r.dst_port = dst_port;
	c.r.payload = data;
	c.r.payload_len = len;
	c.src = src ? src : st->cfg.addr;
	c.dst = dst;
	rc = tapir_ipv4_write(st, &o, dst, TAPIR_IP_PROTO_UDP, UDP_HDR_LEN, udp_fill, &c, &iov, 1);
	if (rc == 0)
		CTR_INC(st, UDP_TX);
	return rc;
}

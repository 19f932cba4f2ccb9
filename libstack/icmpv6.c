/*
 * icmpv6.c - ICMPv6 (RFC 4443): echo, errors out and in, Packet Too Big (RFC 8201)
 *
 * Theory of operation
 *
 * Input: the checksum (with the pseudo-header) is verified, then by type:
 * echo requests are answered from the address they were sent to (or, for a
 * multicast one, from the address RFC 6724 picks), with the same data, of
 * any size reassembly allows (the reply is fragmented as needed); echo
 * replies to us go to the handler set with
 * tapir_icmpv6_set_echo_reply_handler() (tapird's ping and traceroute: it
 * matches them to its requests by identifier, sequence and source); NDP
 * messages go to ndp.c, MLD queries to ipv6_addr.c; errors are matched to
 * the packet they quote: it must have come from one of our addresses.  A
 * Packet Too Big must also quote a packet larger than the MTU it reports
 * (RFC 8201 4: what we sent, not anything) and then lowers the path MTU to
 * the destination (never below 1,280); the protocol that sent the packet
 * gets the error through its registered error function.  In forwarder mode
 * (tapir/forward.h) a message to a foreign address is an echo request for
 * the echo forwarder, or dropped (icmpv6.drop.forward).
 *
 * Errors out (icmpv6_send_error()): RFC 4443 2.4 (e): never about an ICMPv6
 * error or a Redirect, about a packet to a multicast group or that came as a
 * link-layer multicast (except Packet Too Big and Parameter Problem code 2),
 * about a packet whose source is not a unicast address; they quote as much
 * of the packet as fits in 1,280 bytes, and a token bucket (the [icmp]
 * error_rate and error_burst of IPv4, a bucket of its own) limits them.
 */
#include <errno.h>
#include <string.h>

#include "ipv6_internal.h"
#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/icmpv6.h"
#include "wire/ipv6.h"

#define ERR_QUOTE_MAX (IPV6_MIN_MTU - IPV6_HDR_LEN - ICMPV6_HDR_LEN)

static bool rate_ok(struct tapir_stack *st)
{
	struct ipv6_state *s = st->ip6;
	uint64_t cap = (uint64_t)st->cfg.icmp_error_burst * TAPIR_STACK_NS_PER_SEC;
	uint64_t elapsed = st->now - s->err_refill;

	if (s->err_refill == 0)
		s->err_tokens = cap;  /* a full bucket to start with */
	if (elapsed > TAPIR_STACK_NS_PER_SEC * 3600)
		elapsed = TAPIR_STACK_NS_PER_SEC * 3600;
	s->err_tokens += elapsed * st->cfg.icmp_error_rate;
	if (s->err_tokens > cap)
		s->err_tokens = cap;
	s->err_refill = st->now ? st->now : 1;
	if (s->err_tokens < TAPIR_STACK_NS_PER_SEC)
		return false;
	s->err_tokens -= TAPIR_STACK_NS_PER_SEC;
	return true;
}

struct msg_fill {
	uint8_t hdr[ICMPV6_HDR_LEN];
	const uint8_t *src, *dst;
	const uint8_t *data;
	size_t len;
};

/* Writes the 8-byte header with the checksum over header and data */
static size_t msg_fill(uint8_t *buf, size_t size, void *arg)
{
	struct msg_fill *m = arg;
	uint64_t sum = ipv6_csum_pseudo(m->src, m->dst, (uint32_t)(ICMPV6_HDR_LEN + m->len),
					IPV6_NH_ICMPV6);

	(void)size;
	memcpy(buf, m->hdr, ICMPV6_HDR_LEN);
	put_be16(buf + 2, 0);
	sum = inet_csum_add(sum, buf, ICMPV6_HDR_LEN);
	sum = inet_csum_add(sum, m->data, m->len);
	put_be16(buf + 2, inet_csum_fold(sum));
	return ICMPV6_HDR_LEN;
}

/* Send type/code/rest + @data from @src (chosen if NULL) to @dst */
static int send_msg(struct tapir_stack *st, const uint8_t *src, const uint8_t dst[16],
		    uint8_t type, uint8_t code, uint32_t rest, const uint8_t *data, size_t len,
		    uint8_t hop_limit)
{
	struct tapir_ipv6_write_opts o = { .fragment = true, .hop_limit = hop_limit };
	struct tapir_stack_iov iov = { data, len };
	uint8_t s[16];
	struct msg_fill m;

	if (src)
		memcpy(s, src, 16);
	else if (tapir_ipv6_select_source(st, dst, s) < 0)
		return -EADDRNOTAVAIL;
	o.src = s;
	m.hdr[0] = type;
	m.hdr[1] = code;
	put_be32(m.hdr + 4, rest);
	m.src = s;
	m.dst = dst;
	m.data = data;
	m.len = len;
	return tapir_ipv6_write(st, &o, dst, IPV6_NH_ICMPV6, ICMPV6_HDR_LEN, msg_fill, &m, &iov, 1);
}

void icmpv6_send_error(struct tapir_stack *st, uint8_t type, uint8_t code, uint32_t info,
		       const uint8_t *pkt, size_t len, bool link_multicast)
{
	const uint8_t *src = pkt + 8, *dst = pkt + 24;
	bool mcast_ok = type == ICMPV6_PKT_TOO_BIG ||
			(type == ICMPV6_PARAM_PROBLEM && code == ICMPV6_PARAM_OPTION);
	size_t off;
	int nh;

	if (len < IPV6_HDR_LEN)
		return;
	nh = ipv6_upper_layer(pkt, len, &off);
	if ((nh == IPV6_NH_ICMPV6 && off < len &&
	     (icmpv6_is_error(pkt[off]) || pkt[off] == ICMPV6_REDIRECT)) ||
	    ((ipv6_addr_is_multicast(dst) || link_multicast) && !mcast_ok) ||
	    ipv6_addr_is_unspecified(src) || ipv6_addr_is_multicast(src)) {
		CTR_INC(st, ICMPV6_ERRORS_SUPPRESSED);
		return;
	}
	if (!rate_ok(st)) {
		CTR_INC(st, ICMPV6_ERRORS_RATE_LIMITED);
		return;
	}
	if (len > ERR_QUOTE_MAX)
		len = ERR_QUOTE_MAX;
	/* From the address the packet was sent to, if it is ours */
	if (send_msg(st, ipv6_is_our_addr(st, dst) ? dst : NULL, src, type, code, info, pkt, len,
		     0) == 0)
		CTR_INC(st, ICMPV6_ERRORS_SENT);
}

void tapir_ipv6_send_unreachable(struct tapir_stack *st, const struct tapir_ipv6_rx_meta *m,
				 uint8_t code)
{
	icmpv6_send_error(st, ICMPV6_DEST_UNREACH, code, 0, m->packet, m->packet_len, m->multicast);
}

int tapir_icmpv6_send_echo(struct tapir_stack *st, const uint8_t dst[16], uint16_t id,
			   uint16_t seq, uint8_t hop_limit, const uint8_t *data, size_t len)
{
	if (!st->ip6)
		return -ENOTSUP;
	return send_msg(st, NULL, dst, ICMPV6_ECHO_REQUEST, 0, (uint32_t)id << 16 | seq, data, len,
			hop_limit);
}

int tapir_icmpv6_echo_forwarder_set(struct tapir_stack *st, tapir_icmpv6_echo_fwd_fn fn, void *ctx)
{
	st->echo6_fwd = fn;
	st->echo6_fwd_ctx = fn ? ctx : NULL;
	return 0;
}

int tapir_icmpv6_echo_reply_from(struct tapir_stack *st, const uint8_t src[16], const uint8_t dst[16],
				 uint16_t id, uint16_t seq, const uint8_t *data, size_t len)
{
	int rc;

	if (!st->ip6)
		return -ENOTSUP;
	if (len > IPV6_MAX_PAYLOAD - ICMPV6_HDR_LEN)
		return -EMSGSIZE;
	rc = send_msg(st, src, dst, ICMPV6_ECHO_REPLY, 0, (uint32_t)id << 16 | seq, data, len, 0);
	if (rc == 0)
		CTR_INC(st, ICMPV6_ECHO_REPLIES_SENT);
	return rc;
}

void tapir_icmpv6_set_echo_reply_handler(struct tapir_stack *st, tapir_icmpv6_echo_reply_fn fn,
					 void *ctx)
{
	if (!st->ip6)
		return;
	st->ip6->echo_reply = fn;
	st->ip6->echo_reply_ctx = fn ? ctx : NULL;
}

/* An error about a packet we sent: check the quote, apply PTB, tell the protocol */
static void error_input(struct tapir_stack *st, const struct tapir_ipv6_rx_meta *m,
			const uint8_t *msg, size_t len)
{
	const uint8_t *q = msg + ICMPV6_HDR_LEN;
	size_t qlen = len - ICMPV6_HDR_LEN, off;
	struct tapir_ipv6_icmp_err e;
	int nh;

	CTR_INC(st, ICMPV6_ERRORS_RX);
	if (qlen < IPV6_HDR_LEN || (q[0] >> 4) != 6 || !ipv6_is_our_addr(st, q + 8)) {
		CTR_INC(st, ICMPV6_DROP_UNMATCHED);
		return;
	}
	memset(&e, 0, sizeof(e));
	e.from = m->src;
	e.type = msg[0];
	e.code = msg[1];
	e.info = get_be32(msg + 4);
	e.src = q + 8;
	e.dst = q + 24;
	if (e.type == ICMPV6_PKT_TOO_BIG) {
		/* RFC 8201 4: the quoted packet must have been larger than the MTU */
		size_t sent = IPV6_HDR_LEN + get_be16(q + 4);

		if (sent <= e.info) {
			CTR_INC(st, IPV6_PMTU_IGNORED);
			return;
		}
		e.mtu = ipv6_pmtu_update(st, e.dst, e.info);
	}
	nh = ipv6_upper_layer(q, qlen, &off);
	if (nh < 0 || nh == IPV6_NH_ICMPV6 || !st->ip6->protos[nh].err)
		return;
	e.l4 = q + off;
	e.l4_len = qlen - off;
	st->ip6->protos[nh].err(st->ip6->protos[nh].ctx, &e);
}

void icmpv6_input(struct tapir_stack *st, const struct tapir_ipv6_rx_meta *m, const uint8_t *msg,
		  size_t len)
{
	CTR_INC(st, ICMPV6_RX);
	if (len < 4) {
		CTR_INC(st, ICMPV6_DROP_MALFORMED);
		return;
	}
	if (icmpv6_csum(m->src, m->dst, msg, len) != 0) {
		CTR_INC(st, ICMPV6_DROP_CHECKSUM);
		return;
	}
	if (!m->multicast && !ipv6_is_our_addr(st, m->dst)) {
		/* forwarder mode: an echo for a foreign address goes to the app */
		if (msg[0] != ICMPV6_ECHO_REQUEST || len < ICMPV6_HDR_LEN || !st->echo6_fwd) {
			CTR_INC(st, ICMPV6_DROP_FORWARD);
			return;
		}
		CTR_INC(st, ICMPV6_FORWARD_ECHO);
		st->echo6_fwd(st->echo6_fwd_ctx, m->src, m->dst, get_be16(msg + 4), get_be16(msg + 6),
			      msg + ICMPV6_HDR_LEN, len - ICMPV6_HDR_LEN);
		return;
	}
	switch (msg[0]) {
	case ICMPV6_ECHO_REQUEST:
		if (len < ICMPV6_HDR_LEN) {
			CTR_INC(st, ICMPV6_DROP_MALFORMED);
			return;
		}
		if (send_msg(st, m->multicast ? NULL : m->dst, m->src, ICMPV6_ECHO_REPLY, 0,
			     get_be32(msg + 4), msg + ICMPV6_HDR_LEN, len - ICMPV6_HDR_LEN, 0) == 0)
			CTR_INC(st, ICMPV6_ECHO_REPLIES_SENT);
		return;
	case ICMPV6_ECHO_REPLY:
		if (len < ICMPV6_HDR_LEN) {
			CTR_INC(st, ICMPV6_DROP_MALFORMED);
			return;
		}
		CTR_INC(st, ICMPV6_ECHO_REPLIES_RX);
		if (st->ip6->echo_reply)
			st->ip6->echo_reply(st->ip6->echo_reply_ctx, m->src, get_be16(msg + 4),
					    get_be16(msg + 6), msg + ICMPV6_HDR_LEN,
					    len - ICMPV6_HDR_LEN, st->now);
		return;
	case ICMPV6_ROUTER_SOLICIT:
	case ICMPV6_ROUTER_ADVERT:
	case ICMPV6_NEIGHBOR_SOLICIT:
	case ICMPV6_NEIGHBOR_ADVERT:
	case ICMPV6_REDIRECT:
		ndp_input(st, m, msg, len);
		return;
	case ICMPV6_MLD_QUERY:
		mld_query_input(st, m, msg, len);
		return;
	case ICMPV6_MLD_REPORT:
	case ICMPV6_MLD_DONE:
	case ICMPV6_MLD2_REPORT:
		return;  /* other listeners' reports: nothing for a host to do */
	case ICMPV6_DEST_UNREACH:
	case ICMPV6_PKT_TOO_BIG:
	case ICMPV6_TIME_EXCEEDED:
	case ICMPV6_PARAM_PROBLEM:
		if (len < ICMPV6_HDR_LEN) {
			CTR_INC(st, ICMPV6_DROP_MALFORMED);
			return;
		}
		error_input(st, m, msg, len);
		return;
	default:
		/* RFC 4443 2.4 (a), (b): unknown errors would go up; informational are dropped */
		CTR_INC(st, ICMPV6_DROP_TYPE);
		return;
	}
}

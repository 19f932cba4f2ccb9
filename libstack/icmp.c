/*
 * icmp.c - ICMPv4 (RFC 792, RFC 1122 3.2.2): echo, errors out and in, PMTU
 *
 * Echo requests to our address are answered with the same identifier,
 * sequence number and data, whatever the size (up to 65,507 bytes: the reply
 * is fragmented like any datagram); echo requests to a broadcast address are
 * ignored (as Linux does by default, against smurf amplification).
 *
 * Errors we send (destination unreachable: port, protocol; time exceeded:
 * reassembly) quote the offending IP header and the first 8 bytes of its
 * data.  None is sent about an ICMP error, a datagram sent to a broadcast or
 * multicast address (IP or link layer), a non-first fragment, or a source
 * that is not a single host; and they pass a token bucket of
 * cfg.icmp_error_rate per second with a burst of cfg.icmp_error_burst.
 *
 * Errors we receive are checked (the quote, parsed once by icmp_quote_parse(),
 * must hold a whole IP header and 8 bytes of data and be from our address)
 * and passed as a struct tapir_ipv4_icmp_err to the protocol that sent the quoted
 * datagram.  For "fragmentation needed" the error carries the next-hop MTU
 * (RFC 1191; 0 is taken as the plateau below the quoted length), but the path
 * MTU is not touched here: anyone can forge an error, so only the transport,
 * which can check the quote against its state (RFC 5927: TCP the sequence
 * number within SND.UNA..SND.MAX, UDP a port with a socket), applies it with
 * ipv4_pmtu_frag_needed().  Errors quoting ICMP (our echo requests) or a
 * protocol without an error handler are counted (icmp.drop.unmatched) and
 * change nothing: we send ICMP without DF, and there is no state to check an
 * echo quote against that a forger could not guess.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"
#include "wire/bytes.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"

#define QUOTE_DATA 8

struct icmp_fill_ctx {
	struct icmp_repr r;
};

static size_t icmp_fill(uint8_t *buf, size_t size, void *arg)
{
	struct icmp_fill_ctx *c = arg;

	(void)size;
	icmp_repr_emit(&c->r, buf);
	return ICMP_HDR_LEN;
}

/* Take a token from the error bucket.  Return: true if allowed */
static bool rate_ok(struct tapir_stack *st)
{
	uint64_t cap = (uint64_t)st->cfg.icmp_error_burst * TAPIR_STACK_NS_PER_SEC;
	uint64_t elapsed = st->now - st->icmp_refill;

	/* Tokens are kept in units of 1/1e9 of a message. */
	if (elapsed > TAPIR_STACK_NS_PER_SEC * 3600)
		elapsed = TAPIR_STACK_NS_PER_SEC * 3600;
	st->icmp_tokens += elapsed * st->cfg.icmp_error_rate;
	if (st->icmp_tokens > cap)
		st->icmp_tokens = cap;
	st->icmp_refill = st->now;
	if (st->icmp_tokens < TAPIR_STACK_NS_PER_SEC)
		return false;
	st->icmp_tokens -= TAPIR_STACK_NS_PER_SEC;
	return true;
}

void icmp_send_error(struct tapir_stack *st, uint8_t type, uint8_t code, uint32_t rest,
		     const uint8_t *ip_hdr, size_t ip_hdr_len, const uint8_t *payload,
		     size_t payload_len, bool broadcast)
{
	struct icmp_fill_ctx c;
	uint8_t quote[IPV4_MAX_HDR_LEN + QUOTE_DATA];
	struct tapir_stack_iov iov;
	size_t qdata = payload_len < QUOTE_DATA ? payload_len : QUOTE_DATA;
	uint32_t src, dst;
	uint16_t frag;

	if (ip_hdr_len < IPV4_HDR_LEN || ip_hdr_len > IPV4_MAX_HDR_LEN) {
		CTR_INC(st, ICMP_ERRORS_SUPPRESSED);
		return;
	}
	src = get_be32(ip_hdr + 12);
	dst = get_be32(ip_hdr + 16);
	frag = get_be16(ip_hdr + 6);
	if (broadcast || ipv4_addr_is_multicast(dst) || dst == IPV4_ADDR_BROADCAST ||
	    (frag & IPV4_OFFSET_MASK) != 0 || src == 0 || src == IPV4_ADDR_BROADCAST ||
	    ipv4_addr_is_multicast(src) || (st->bcast && src == st->bcast)) {
		CTR_INC(st, ICMP_ERRORS_SUPPRESSED);
		return;
	}
	/* Never an error about an ICMP error (or about an unreadable ICMP message). */
	if (ip_hdr[9] == TAPIR_IP_PROTO_ICMP && (payload_len < 1 || icmp_type_is_error(payload[0]))) {
		CTR_INC(st, ICMP_ERRORS_SUPPRESSED);
		return;
	}
	if (!rate_ok(st)) {
		CTR_INC(st, ICMP_ERRORS_RATE_LIMITED);
		return;
	}
	memcpy(quote, ip_hdr, ip_hdr_len);
	memcpy(quote + ip_hdr_len, payload, qdata);
	memset(&c, 0, sizeof(c));
	c.r.type = type;
	c.r.code = code;
	c.r.rest = rest;
	c.r.data = quote;
	c.r.data_len = ip_hdr_len + qdata;
	iov.base = quote;
	iov.len = c.r.data_len;
	if (tapir_ipv4_write(st, NULL, src, TAPIR_IP_PROTO_ICMP, ICMP_HDR_LEN, icmp_fill, &c, &iov,
			     1) == 0)
		CTR_INC(st, ICMP_ERRORS_SENT);
}

static void error_input(struct tapir_stack *st, const struct tapir_ipv4_rx_meta *m,
			const struct icmp_repr *r)
{
	struct tapir_icmp_quote q;
	struct tapir_ipv4_icmp_err e;
	struct proto_handler *h;

	/* The quote: an IP header (possibly cut short in its total length) + data. */
	if (icmp_quote_parse(&q, r->data, r->data_len) < 0 || q.l4_len < QUOTE_DATA) {
		CTR_INC(st, ICMP_DROP_MALFORMED);
		return;
	}
	if (q.src != st->cfg.addr) {
		CTR_INC(st, ICMP_DROP_MALFORMED);
		return;
	}
	CTR_INC(st, ICMP_ERRORS_RX);
	e.from = m->src;
	e.type = r->type;
	e.code = r->code;
	e.info = r->rest;
	e.mtu = 0;
	e.quote = &q;
	h = &st->protos[q.proto];
	if (r->type == TAPIR_ICMP_DEST_UNREACH && r->code == TAPIR_ICMP_UNREACH_FRAG_NEEDED) {
		e.mtu = icmp_mtu(r);
		if (e.mtu == 0)
			e.mtu = ipv4_pmtu_plateau(q.total_len);
	}
	/* The transport validates the quote; it alone applies e.mtu. */
	if (h->err)
		h->err(h->ctx, &e);
	else
		CTR_INC(st, ICMP_DROP_UNMATCHED);
}

/*
 * A Record Route option in an echo request goes back in the reply with our
 * address added (RFC 1122 3.2.2.6), when there is room; other options are not
 * returned (Timestamp would need a wall clock the stack does not have).
 * Return: length of the option written to @out, 0 if none
 */
static size_t echo_record_route(const struct tapir_stack *st, const struct tapir_ipv4_rx_meta *m,
				uint8_t out[IPV4_MAX_OPTIONS_LEN])
{
	const uint8_t *opt = m->ip_header + IPV4_HDR_LEN;
	size_t len = m->ip_header_len - IPV4_HDR_LEN, i = 0;

	while (i < len && opt[i] != IPV4_OPT_EOL) {
		size_t ol;

		if (opt[i] == IPV4_OPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= len || opt[i + 1] < 2 || opt[i + 1] > len - i)
			return 0;
		ol = opt[i + 1];
		if (opt[i] == IPV4_OPT_RR && ol >= 3) {
			uint8_t ptr = opt[i + 2];

			memcpy(out, opt + i, ol);
			if (ptr >= 4 && (size_t)ptr + 3 <= ol) {
				put_be32(out + ptr - 1, st->cfg.addr);
				out[2] = (uint8_t)(ptr + 4);
			}
			return ol;
		}
		i += ol;
	}
	return 0;
}

void icmp_input(struct tapir_stack *st, const struct tapir_ipv4_rx_meta *m, const uint8_t *data,
		size_t len)
{
	struct icmp_repr r;
	int rc;

	CTR_INC(st, ICMP_RX);
	rc = icmp_repr_parse(&r, data, len);
	if (rc == -EILSEQ) {
		CTR_INC(st, ICMP_DROP_CHECKSUM);
		return;
	}
	if (rc < 0) {
		CTR_INC(st, ICMP_DROP_MALFORMED);
		return;
	}
	if (m->dst != st->cfg.addr && !m->ip_broadcast) {
		/* forwarder mode: an echo for a foreign address goes to the app */
		if (r.type != TAPIR_ICMP_ECHO_REQUEST || !st->echo_fwd) {
			CTR_INC(st, ICMP_DROP_FORWARD);
			return;
		}
		CTR_INC(st, ICMP_FORWARD_ECHO);
		st->echo_fwd(st->echo_fwd_ctx, m->src, m->dst, (uint16_t)(r.rest >> 16),
			     (uint16_t)r.rest, r.data, r.data_len);
		return;
	}
	switch (r.type) {
	case TAPIR_ICMP_ECHO_REQUEST: {
		struct icmp_fill_ctx c;
		struct tapir_stack_iov iov = { r.data, r.data_len };
		uint8_t rr[IPV4_MAX_OPTIONS_LEN];
		struct tapir_ipv4_write_opts o = { .fragment = true };

		if (m->ip_broadcast || m->link_broadcast) {
			CTR_INC(st, ICMP_DROP_BROADCAST_ECHO);
			return;
		}
		memset(&c, 0, sizeof(c));
		c.r.type = TAPIR_ICMP_ECHO_REPLY;
		c.r.rest = r.rest;
		c.r.data = r.data;
		c.r.data_len = r.data_len;
		o.options_len = echo_record_route(st, m, rr);
		o.options = rr;
		if (tapir_ipv4_write(st, &o, m->src, TAPIR_IP_PROTO_ICMP, ICMP_HDR_LEN, icmp_fill, &c, &iov,
			       1) == 0)
			CTR_INC(st, ICMP_ECHO_REPLIES_SENT);
		return;
	}
	case TAPIR_ICMP_ECHO_REPLY:
		if (st->echo_reply)
			st->echo_reply(st->echo_reply_ctx, m->src, (uint16_t)(r.rest >> 16),
				       (uint16_t)r.rest, r.data, r.data_len, st->now);
		return;
	case TAPIR_ICMP_DEST_UNREACH:
	case TAPIR_ICMP_TIME_EXCEEDED:
	case TAPIR_ICMP_PARAM_PROBLEM:
		error_input(st, m, &r);
		return;
	default:
		/* Redirects (we have one router), source quench (deprecated, RFC
		 * 6633), timestamps and the rest are not answered. */
		CTR_INC(st, ICMP_DROP_TYPE);
		return;
	}
}

void tapir_icmp_set_echo_reply_handler(struct tapir_stack *st, tapir_icmp_echo_reply_fn fn,
				       void *ctx)
{
	st->echo_reply = fn;
	st->echo_reply_ctx = ctx;
}

int tapir_icmp_echo_forwarder_set(struct tapir_stack *st, tapir_icmp_echo_fwd_fn fn, void *ctx)
{
	st->echo_fwd = fn;
	st->echo_fwd_ctx = fn ? ctx : NULL;
	return 0;
}

int tapir_icmp_echo_reply_from(struct tapir_stack *st, uint32_t src, uint32_t dst, uint16_t id,
			       uint16_t seq, const uint8_t *data, size_t len)
{
	struct icmp_fill_ctx c;
	struct tapir_stack_iov iov = { data, len };
	struct tapir_ipv4_write_opts o = { .fragment = true, .src = src };
	int rc;

	if (len > 65535 - IPV4_HDR_LEN - ICMP_HDR_LEN)
		return -EMSGSIZE;
	memset(&c, 0, sizeof(c));
	c.r.type = TAPIR_ICMP_ECHO_REPLY;
	c.r.rest = (uint32_t)id << 16 | seq;
	c.r.data = data;
	c.r.data_len = len;
	rc = tapir_ipv4_write(st, &o, dst, TAPIR_IP_PROTO_ICMP, ICMP_HDR_LEN, icmp_fill, &c, &iov, 1);
	if (rc == 0)
		CTR_INC(st, ICMP_ECHO_REPLIES_SENT);
	return rc;
}

int tapir_icmp_send_unreach(struct tapir_stack *st, uint8_t code, const uint8_t *quote, size_t len)
{
	size_t hl;

	if (!quote || len < IPV4_HDR_LEN || (quote[0] >> 4) != 4)
		return -EINVAL;
	hl = (size_t)(quote[0] & 0x0f) * 4;
	if (hl < IPV4_HDR_LEN || hl > len)
		return -EINVAL;
	icmp_send_error(st, TAPIR_ICMP_DEST_UNREACH, code, 0, quote, hl, quote + hl, len - hl, false);
	return 0;
}

int tapir_icmp_send_echo(struct tapir_stack *st, uint32_t dst, uint16_t id, uint16_t seq,
			 uint8_t ttl, const uint8_t *data, size_t len)
{
	struct icmp_fill_ctx c;
	struct tapir_stack_iov iov = { data, len };
	struct tapir_ipv4_write_opts o = { .fragment = true, .ttl = ttl };

	if (len > 65535 - IPV4_HDR_LEN - ICMP_HDR_LEN)
		return -EMSGSIZE;
	memset(&c, 0, sizeof(c));
	c.r.type = TAPIR_ICMP_ECHO_REQUEST;
	c.r.rest = (uint32_t)id << 16 | seq;
	c.r.data = data;
	c.r.data_len = len;
	return tapir_ipv4_write(st, &o, dst, TAPIR_IP_PROTO_ICMP, ICMP_HDR_LEN, icmp_fill, &c, &iov, 1);
}

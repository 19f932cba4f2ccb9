/*
 * ipv6.c - IPv6 input (RFC 8200 with RFC 5095, 6946, 7112), output with
 *          fragmentation, the path-MTU cache and the protocols above IPv6
 *
 * Theory of operation
 *
 * Input (ipv6_input()): the fixed header is checked (version, payload length
 * against the bytes received; padding trimmed).  Sources that cannot be one
 * host are dropped: multicast, loopback, IPv4-mapped, one of our own
 * addresses; :: only for the NDP and MLD messages that allow it.  The
 * destination must be one of our addresses (not tentative, RFC 4862 5.4,
 * except for NDP), or a group we listen to (all-nodes, our solicited-node
 * groups); a unicast destination that came as a link-layer multicast is
 * dropped.  In forwarder mode (any forwarder set, tapir/forward.h) a
 * packet for a foreign unicast address is taken too (forward_input()), but
 * delivered only to TCP, UDP (each hands it to its forwarder or refuses it)
 * and ICMPv6 (echo requests to the echo forwarder, the rest dropped).  The extension headers are then walked in order, each length
 * checked against what is left:
 *   - hop-by-hop: only right after the fixed header (else Parameter Problem
 *     code 1); its options and the destination options' obey the two high
 *     bits of their type when unknown (skip, discard, discard + Parameter
 *     Problem code 2, the same only if the destination was unicast).
 *   - routing: ignored when Segments Left is 0; otherwise refused with a
 *     Parameter Problem (code 0, at the Routing Type): type 0 is deprecated
 *     (RFC 5095) and a host forwards nothing.
 *   - fragment: offset 0 without M is an atomic fragment, processed as a
 *     whole packet (RFC 6946).  A first fragment must carry the whole header
 *     chain up to the upper layer (RFC 7112, else Parameter Problem code 3);
 *     a non-last fragment whose length is not a multiple of 8 gets code 0 at
 *     the payload length, one that would end past 65,535 bytes code 0 at the
 *     offset.  Fragments go to a reassembly table of their own
 *     (ipv4_reasm.c in its IPv6 mode: RFC 5722 overlaps kill the datagram,
 *     cfg.ipv6.reasm_timeout_ns, 60 s, then Time Exceeded code 1 when the
 *     first fragment was held, a byte cap, REASM6_* counters); the rebuilt
 *     packet is input once more and may not contain another fragment header.
 *   - an upper layer: ICMPv6 (icmpv6.c), No Next Header (dropped quietly),
 *     or the protocol registered with tapir_ipv6_register_proto(); any other
 *     gets a Parameter Problem code 1 pointing at its Next Header byte.
 *
 * Output (tapir_ipv6_write()): the source is chosen (ipv6_addr.c, RFC 6724)
 * unless given; the next hop is the destination if on-link or multicast, a
 * redirect's target, or the default router (ndp.c); NDP resolves it or
 * queues the packet.  A packet larger than the path MTU is sent as fragments
 * of (MTU - 48) & ~7 bytes with a fragment header whose ID is a per-bucket
 * counter (256 buckets chosen by SipHash-2-4 of the destination, each started
 * at random): unpredictable to others and unique per destination for far
 * longer than a fragment lives (RFC 7739).  With router_alert a hop-by-hop
 * header carrying a Router Alert (RFC 2711) comes first (MLD, RFC 3810).
 *
 * Path MTU (RFC 8201): a Packet Too Big lowers a per-destination entry
 * (IPV6_PMTU_SLOTS, the oldest replaced; 10 min lifetime), never below
 * 1,280 nor above the link MTU; icmpv6.c checks the quote first.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ipv6_internal.h"
#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/eth.h"
#include "wire/icmpv6.h"
#include "wire/ipv6.h"

#define MAX_PIECES 18
#define PMTU_LIFETIME (600 * SEC6)

/* The IPv6 reassembly table counts into the REASM6_* block, laid out as the
 * REASM_* block: the table gets the stack's counters shifted by the gap. */
#define REASM6_SHIFT (TAPIR_CTR_REASM6_FRAGS_IN - TAPIR_CTR_REASM_FRAGS_IN)
#define SAME_ORDER(n) static_assert(TAPIR_CTR_REASM6_##n - TAPIR_CTR_REASM_##n == REASM6_SHIFT, \
				    "REASM6_" #n " in the order of REASM_" #n)
SAME_ORDER(COMPLETED);
SAME_ORDER(DUPLICATE);
SAME_ORDER(DROP_OVERLAP);
SAME_ORDER(DROP_DEAD);
SAME_ORDER(DROP_TOO_BIG);
SAME_ORDER(DROP_BAD_LEN);
SAME_ORDER(DROP_BAD_END);
SAME_ORDER(DROP_TIMEOUT);
SAME_ORDER(DROP_EVICTED);
SAME_ORDER(DROP_NOMEM);
static_assert(TAPIR_CTR_REASM_DROP_NOMEM - TAPIR_CTR_REASM_FRAGS_IN == 10, "11 reassembly counters");

int ipv6_init(struct tapir_stack *st)
{
	struct ipv6_state *s;
	struct reasm_config rc;
	uint64_t key[2];

	if (!st->cfg.ipv6.enabled)
		return 0;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cfg = st->cfg.ipv6;
	s->hop_limit = s->cfg.hop_limit ? s->cfg.hop_limit : 64;
	s->link_mtu = st->mtu < IPV6_MIN_MTU ? IPV6_MIN_MTU : (uint32_t)st->mtu;
	s->base_reachable_ms = 30000;
	s->retrans_ms = 1000;
	rc = (struct reasm_config){
		.max_bytes = s->cfg.reasm_max_bytes,
		.timeout_ns = s->cfg.reasm_timeout_ns ? s->cfg.reasm_timeout_ns : 60 * SEC6,
		.family = 6,
	};
	s->reasm = reasm_new(&rc, st->ctr + REASM6_SHIFT);
	if (!s->reasm) {
		free(s);
		return -ENOMEM;
	}
	st->cfg.random(st->cfg.random_ctx, key, sizeof(key));
	reasm_set_hash_key(s->reasm, key[0], key[1]);
	st->cfg.random(st->cfg.random_ctx, s->secret, sizeof(s->secret));
	st->cfg.random(st->cfg.random_ctx, s->frag_ids, sizeof(s->frag_ids));
	st->cfg.random(st->cfg.random_ctx, &s->reachable_ms, sizeof(s->reachable_ms));
	/* RFC 4861 6.3.2: ReachableTime uniformly in [0.5, 1.5] x BaseReachableTime */
	s->reachable_ms = s->base_reachable_ms / 2 + s->reachable_ms % s->base_reachable_ms;
	st->ip6 = s;
	if (ndp_init(st) < 0) {
		reasm_free(s->reasm);
		free(s);
		st->ip6 = NULL;
		return -ENOMEM;
	}
	return 0;
}

void ipv6_free(struct tapir_stack *st)
{
	if (!st->ip6)
		return;
	ndp_free(st);
	reasm_free(st->ip6->reasm);
	free(st->ip6);
	st->ip6 = NULL;
}

void ipv6_start(struct tapir_stack *st)
{
	if (st->ip6)
		ipv6_addr_start(st);
}

int tapir_ipv6_register_proto(struct tapir_stack *st, uint8_t proto, tapir_ipv6_proto_fn rx,
			      tapir_ipv6_icmp_err_fn err, void *ctx)
{
	struct ipv6_proto *p;

	if (!st->ip6)
		return -ENOTSUP;
	if (proto == IPV6_NH_ICMPV6 || ipv6_nh_is_ext(proto) || proto == IPV6_NH_NONE)
		return -EADDRINUSE;
	p = &st->ip6->protos[proto];
	if (rx && p->rx)
		return -EADDRINUSE;
	p->rx = rx;
	p->err = err;
	p->ctx = ctx;
	return 0;
}

uint64_t tapir_ipv6_csum_pseudo(const uint8_t src[16], const uint8_t dst[16], uint32_t len,
				uint8_t next_header)
{
	return ipv6_csum_pseudo(src, dst, len, next_header);
}

/* ---- path MTU ---- */

static struct ipv6_pmtu *pmtu_find(const struct tapir_stack *st, const uint8_t dst[16])
{
	struct ipv6_state *s = st->ip6;

	for (size_t i = 0; i < IPV6_PMTU_SLOTS; i++)
		if (s->pmtu[i].expires > st->now && !memcmp(s->pmtu[i].dst, dst, 16))
			return &s->pmtu[i];
	return NULL;
}

size_t tapir_ipv6_mtu(struct tapir_stack *st, const uint8_t dst[16])
{
	const struct ipv6_pmtu *p;

	if (!st->ip6)
		return 0;
	p = pmtu_find(st, dst);
	return p && p->mtu < st->ip6->link_mtu ? p->mtu : st->ip6->link_mtu;
}

uint32_t ipv6_pmtu_update(struct tapir_stack *st, const uint8_t dst[16], uint32_t mtu)
{
	struct ipv6_state *s = st->ip6;
	struct ipv6_pmtu *p = pmtu_find(st, dst);

	if (mtu < IPV6_MIN_MTU) {
		CTR_INC(st, IPV6_PMTU_CLAMPED);
		mtu = IPV6_MIN_MTU;  /* RFC 8201 4: never below the IPv6 minimum */
	}
	if (mtu >= tapir_ipv6_mtu(st, dst)) {
		CTR_INC(st, IPV6_PMTU_IGNORED);
		return (uint32_t)tapir_ipv6_mtu(st, dst);
	}
	if (!p) {
		p = &s->pmtu[0];
		for (size_t i = 1; i < IPV6_PMTU_SLOTS; i++)
			if (s->pmtu[i].expires < p->expires)
				p = &s->pmtu[i];
		memcpy(p->dst, dst, 16);
	}
	p->mtu = mtu;
	p->expires = st->now + PMTU_LIFETIME;
	CTR_INC(st, IPV6_PMTU_UPDATED);
	return mtu;
}

size_t tapir_ipv6_pmtu_list(const struct tapir_stack *st, struct tapir_ipv6_pmtu_info *out,
			    size_t max)
{
	size_t k = 0;

	if (!st->ip6)
		return 0;
	for (size_t i = 0; i < IPV6_PMTU_SLOTS && k < max; i++) {
		const struct ipv6_pmtu *p = &st->ip6->pmtu[i];

		if (p->expires <= st->now)
			continue;
		memcpy(out[k].dst, p->dst, 16);
		out[k].mtu = p->mtu;
		out[k].expires = p->expires;
		k++;
	}
	return k;
}

/* ---- output ---- */

struct frag6_ctx {
	struct ipv6_repr hdr;
	const uint8_t *hbh;            /* hop-by-hop header to put first, or NULL */
	uint8_t proto;
	bool frag;
	struct ipv6_frag_repr fh;
	const struct tapir_stack_iov *pieces;
	int npieces;
	size_t offset, len;
};

static size_t frag6_fill(uint8_t *buf, size_t size, void *arg)
{
	struct frag6_ctx *c = arg;
	size_t hl = IPV6_HDR_LEN;
	uint8_t *nh = &c->hdr.next_header;

	(void)size;
	c->hdr.payload_len = (uint16_t)((c->hbh ? 8 : 0) + (c->frag ? 8 : 0) + c->len);
	*nh = c->hbh ? IPV6_NH_HOPOPTS : c->frag ? IPV6_NH_FRAGMENT : c->proto;
	ipv6_repr_emit(&c->hdr, buf);
	if (c->hbh) {
		memcpy(buf + hl, c->hbh, 8);
		buf[hl] = c->frag ? IPV6_NH_FRAGMENT : c->proto;
		hl += 8;
	}
	if (c->frag) {
		ipv6_frag_emit(&c->fh, buf + hl);
		hl += 8;
	}
	ip_gather(buf + hl, c->pieces, c->npieces, c->offset, c->len);
	return hl + c->len;
}

static uint32_t next_frag_id(struct ipv6_state *s, const uint8_t dst[16])
{
	uint32_t b = (uint32_t)siphash24(s->secret, dst, 16) & 255;

	return ++s->frag_ids[b];
}

/*
 * Send the TCP super-segment in @c (@total bytes of TCP header + data) as one
 * frame through the device's TSO (TAPIR_NETIF_OFF_TSO6); each segment it is
 * cut into must fit @mtu.
 */
static int send_gso(struct tapir_stack *st, const struct tapir_ipv6_write_opts *opts,
		    struct frag6_ctx *c, const uint8_t mac[6], size_t total, size_t mtu)
{
	struct tapir_netif_gso g;
	int rc;

	if (!st->tso6 || c->proto != TAPIR_IP_PROTO_TCP || opts->fragment || c->hbh ||
	    ip_tcp_gso(&g, TAPIR_NETIF_GSO_TCPV6, c->pieces, c->npieces, total, IPV6_HDR_LEN, mtu,
		       opts->gso_size)) {
		CTR_INC(st, IPV6_DROP_TX_TOO_BIG);
		return -EMSGSIZE;
	}
	c->len = total;
	rc = eth_write_gso(st, mac, IPV6_HDR_LEN + total, &g, frag6_fill, c);
	if (rc == 0)
		CTR_INC(st, IPV6_TX);
	return rc;
}

/* Send @pieces (@total bytes of upper layer) to @mac, fragmenting if needed. */
static int send_pieces(struct tapir_stack *st, const struct tapir_ipv6_write_opts *opts,
		       const uint8_t src[16], const uint8_t dst[16], uint8_t proto,
		       const uint8_t mac[6], const struct tapir_stack_iov *pieces, int npieces,
		       size_t total)
{
	static const uint8_t ra_hbh[8] = { 0, 0, IPV6_OPT_ROUTER_ALERT, 2, 0, 0, IPV6_OPT_PADN, 0 };
	struct ipv6_state *s = st->ip6;
	struct frag6_ctx c;
	size_t mtu = tapir_ipv6_mtu(st, dst), ext, maxfrag;
	int rc;

	memset(&c, 0, sizeof(c));
	memcpy(c.hdr.src, src, 16);
	memcpy(c.hdr.dst, dst, 16);
	c.hdr.hop_limit = opts->hop_limit ? opts->hop_limit : s->hop_limit;
	c.hdr.tclass = opts->tclass;
	c.hbh = opts->router_alert ? ra_hbh : NULL;
	c.proto = proto;
	c.pieces = pieces;
	c.npieces = npieces;
	ext = c.hbh ? 8 : 0;
	if (opts->gso_size)
		return send_gso(st, opts, &c, mac, total, mtu);
	if (IPV6_HDR_LEN + ext + total <= mtu) {
		c.len = total;
		rc = tapir_eth_write(st, NULL, mac, TAPIR_ETHERTYPE_IPV6, IPV6_HDR_LEN + ext + total,
				     frag6_fill, &c);
		if (rc == 0)
			CTR_INC(st, IPV6_TX);
		return rc;
	}
	if (!opts->fragment) {
		CTR_INC(st, IPV6_DROP_TX_TOO_BIG);
		return -EMSGSIZE;
	}
	c.frag = true;
	c.fh.next = proto;
	c.fh.id = next_frag_id(s, dst);
	maxfrag = (mtu - IPV6_HDR_LEN - ext - IPV6_FRAG_HDR_LEN) & ~(size_t)7;
	for (size_t off = 0; off < total; off += c.len) {
		c.offset = off;
		c.len = total - off < maxfrag ? total - off : maxfrag;
		c.fh.offset = (uint16_t)off;
		c.fh.more = off + c.len < total;
		rc = tapir_eth_write(st, NULL, mac, TAPIR_ETHERTYPE_IPV6,
				     IPV6_HDR_LEN + ext + IPV6_FRAG_HDR_LEN + c.len, frag6_fill, &c);
		if (rc < 0)
			return rc;
		CTR_INC(st, IPV6_FRAGS_TX);
	}
	CTR_INC(st, IPV6_TX);
	return 0;
}

int ipv6_send_pending(struct tapir_stack *st, const struct ndp_pending *p, const uint8_t mac[6])
{
	struct tapir_stack_iov piece = { p->data, p->len };
	uint8_t src[16];

	if (p->has_src)
		memcpy(src, p->src, 16);
	else if (tapir_ipv6_select_source(st, p->dst, src) < 0)
		return -EADDRNOTAVAIL;
	return send_pieces(st, &p->opts, src, p->dst, p->proto, mac, &piece, 1, p->len);
}

int tapir_ipv6_write(struct tapir_stack *st, const struct tapir_ipv6_write_opts *opts,
		     const uint8_t dst[16], uint8_t proto, size_t size, tapir_netif_fill_fn fill,
		     void *ctx, const struct tapir_stack_iov *iov, int iovcnt)
{
	static const struct tapir_ipv6_write_opts defaults = { .fragment = true };
	struct tapir_stack_iov pieces[MAX_PIECES];
	uint8_t hdrbuf[128], *hdr = hdrbuf, src[16], hop[16], mac[6];
	size_t total = 0;
	int npieces = 0, rc;

	if (!st->ip6)
		return -ENOTSUP;
	if (!opts)
		opts = &defaults;
	if (iovcnt < 0 || iovcnt > MAX_PIECES - 1 || (size && !fill))
		return -EINVAL;
	if (opts->src)
		memcpy(src, opts->src, 16);
	else if (tapir_ipv6_select_source(st, dst, src) < 0)
		return -EADDRNOTAVAIL;
	if (ipv6_addr_is_multicast(dst)) {
		ipv6_mcast_mac(dst, mac);
		rc = 0;
	} else {
		rc = ndp_next_hop(st, dst, hop);
		if (rc < 0) {
			CTR_INC(st, IPV6_DROP_NO_ROUTE);
			return rc;
		}
		rc = ndp_resolve(st, hop, mac);
		if (rc < 0 && rc != -EAGAIN)
			return rc;
	}
	if (size > sizeof(hdrbuf)) {
		hdr = malloc(size);
		if (!hdr)
			return -ENOMEM;
	}
	if (size) {
		size_t n = fill(hdr, size, ctx);

		pieces[npieces++] = (struct tapir_stack_iov){ hdr, n };
		total += n;
	}
	for (int i = 0; i < iovcnt; i++) {
		if (!iov[i].len)
			continue;
		pieces[npieces++] = iov[i];
		total += iov[i].len;
	}
	if (total > IPV6_MAX_PAYLOAD - 8) {
		rc = -EMSGSIZE;
	} else if (rc == -EAGAIN) {
		struct ndp_pending *p = malloc(sizeof(*p) + total);

		if (!p) {
			rc = -ENOMEM;
		} else {
			p->next = NULL;
			p->opts = *opts;
			p->opts.src = NULL;
			memcpy(p->src, src, 16);
			p->has_src = true;
			memcpy(p->dst, dst, 16);
			p->proto = proto;
			p->len = total;
			ip_gather(p->data, pieces, npieces, 0, total);
			rc = ndp_queue(st, hop, p);  /* takes @p either way */
		}
	} else {
		rc = send_pieces(st, opts, src, dst, proto, mac, pieces, npieces, total);
	}
	if (hdr != hdrbuf)
		free(hdr);
	return rc;
}

/* ---- input ---- */

int ipv6_upper_layer(const uint8_t *pkt, size_t len, size_t *off)
{
	size_t pos = IPV6_HDR_LEN;
	uint8_t nh;

	if (len < IPV6_HDR_LEN)
		return -1;
	nh = pkt[6];
	while (ipv6_nh_is_ext(nh)) {
		struct ipv6_ext e;

		if (ipv6_ext_check(&e, nh, pkt + pos, len - pos) < 0)
			return -1;
		if (nh == IPV6_NH_FRAGMENT && (get_be16(e.buf + 2) & 0xfff8))
			return -1;  /* not the first fragment: no upper layer here */
		nh = e.next;
		pos += e.len;
	}
	*off = pos;
	return nh;
}

bool ipv6_is_our_addr(const struct tapir_stack *st, const uint8_t a[16])
{
	const struct ipv6_addr_ent *e = ipv6_addr_find((struct tapir_stack *)st, a);

	return e && (e->state == TAPIR_IPV6_ADDR_PREFERRED || e->state == TAPIR_IPV6_ADDR_DEPRECATED);
}

struct rx6 {
	const uint8_t *pkt;
	size_t len;
	bool link_multicast;
	bool dst_multicast;
	bool foreign;             /* for a foreign address, taken for a forwarder */
	bool reassembled;
	unsigned flags;
};

static void param_problem(struct tapir_stack *st, const struct rx6 *r, uint8_t code, size_t ptr)
{
	icmpv6_send_error(st, ICMPV6_PARAM_PROBLEM, code, (uint32_t)ptr, r->pkt, r->len,
			  r->link_multicast);
}

/* Walk the options of a hop-by-hop or destination options header.
 * Return: true to go on, false if the packet was dropped (and counted) */
static bool options_ok(struct tapir_stack *st, const struct rx6 *r, const struct ipv6_ext *e,
		       size_t hdr_off)
{
	struct ipv6_opt o;
	size_t pos = 2;
	int rc;

	while ((rc = ipv6_opt_next(e, &pos, &o)) == 1) {
		if (o.type == IPV6_OPT_PAD1 || o.type == IPV6_OPT_PADN ||
		    (e->type == IPV6_NH_HOPOPTS && o.type == IPV6_OPT_ROUTER_ALERT && o.len == 2))
			continue;
		switch (IPV6_OPT_ACTION(o.type)) {
		case IPV6_OPT_SKIP:
			continue;
		case IPV6_OPT_DISCARD:
			break;
		case IPV6_OPT_DISCARD_ICMP:
			param_problem(st, r, ICMPV6_PARAM_OPTION, hdr_off + o.offset);
			break;
		case IPV6_OPT_DISCARD_ICMP_UNICAST:
			if (!r->dst_multicast)
				param_problem(st, r, ICMPV6_PARAM_OPTION, hdr_off + o.offset);
			break;
		}
		CTR_INC(st, IPV6_DROP_OPTION);
		return false;
	}
	if (rc < 0) {
		CTR_INC(st, IPV6_DROP_EXT_HDR);
		return false;
	}
	return true;
}

static void input_chain(struct tapir_stack *st, struct rx6 *r);

static void fragment_input(struct tapir_stack *st, struct rx6 *r, const struct ipv6_ext *e,
			   size_t pos, size_t nh_off)
{
	struct ipv6_frag_repr f;
	struct reasm_frag rf;
	size_t data = pos + 8, dlen = r->len - data;
	uint8_t *whole = NULL;
	size_t whole_len = 0;

	ipv6_frag_parse(&f, e);
	if (f.offset == 0 && !f.more) {
		CTR_INC(st, IPV6_ATOMIC_FRAGS);  /* RFC 6946: a whole packet */
		return;
	}
	if (r->reassembled) {
		CTR_INC(st, IPV6_DROP_NESTED_FRAG);
		return;
	}
	if (f.more && (dlen == 0 || dlen % 8)) {
		CTR_INC(st, IPV6_DROP_FRAG_LEN);
		param_problem(st, r, ICMPV6_PARAM_HEADER, 4);  /* at the payload length */
		return;
	}
	if ((size_t)f.offset + dlen > IPV6_MAX_PAYLOAD) {
		CTR_INC(st, IPV6_DROP_FRAG_LEN);
		param_problem(st, r, ICMPV6_PARAM_HEADER, pos + 2);  /* at the offset */
		return;
	}
	if (f.offset == 0) {
		/* RFC 7112: the whole header chain in the first fragment */
		size_t p = data;
		uint8_t nh = f.next;
		bool ok = true;

		while (ok && ipv6_nh_is_ext(nh) && nh != IPV6_NH_FRAGMENT) {
			struct ipv6_ext x;

			if (ipv6_ext_check(&x, nh, r->pkt + p, r->len - p) < 0)
				ok = false;
			else {
				nh = x.next;
				p += x.len;
			}
		}
		if (ok && nh == IPV6_NH_FRAGMENT)
			ok = false;
		if (ok && ((nh == IPV6_NH_TCP && r->len - p < 20) ||
			   (nh == IPV6_NH_UDP && r->len - p < 8) ||
			   (nh == IPV6_NH_ICMPV6 && r->len - p < 4)))
			ok = false;
		if (!ok) {
			CTR_INC(st, IPV6_DROP_FIRST_FRAG);
			param_problem(st, r, ICMPV6_PARAM_FIRST_FRAG, 0);
			return;
		}
	}
	memset(&rf, 0, sizeof(rf));
	rf.src6 = r->pkt + 8;
	rf.dst6 = r->pkt + 24;
	rf.id6 = f.id;
	rf.offset = f.offset;
	rf.more = f.more;
	rf.hdr = r->pkt;
	rf.hdr_len = data;
	rf.nh_off = (uint16_t)nh_off;
	rf.payload = r->pkt + data;
	rf.len = dlen;
	if (reasm_input(st->ip6->reasm, st->now, &rf, &whole, &whole_len) == 1) {
		struct rx6 w = *r;

		w.pkt = whole;
		w.len = whole_len;
		w.reassembled = true;
		w.flags = 0;
		input_chain(st, &w);
		free(whole);
	}
}

static void deliver(struct tapir_stack *st, const struct rx6 *r, uint8_t nh, size_t pos,
		    size_t nh_off)
{
	struct tapir_ipv6_rx_meta m = {
		.src = r->pkt + 8, .dst = r->pkt + 24, .proto = nh, .hop_limit = r->pkt[7],
		.tclass = (uint8_t)(get_be16(r->pkt) >> 4), .multicast = r->dst_multicast,
		.packet = r->pkt, .packet_len = r->len,
		.l4_csum_ok = (r->flags & (TAPIR_NETIF_RX_CSUM_PARTIAL | TAPIR_NETIF_RX_CSUM_VALID)) != 0,
		.gso = (r->flags & TAPIR_NETIF_RX_GSO) != 0,
	};
	struct ipv6_proto *p = &st->ip6->protos[nh];

	if (r->foreign && nh != TAPIR_IP_PROTO_TCP && nh != TAPIR_IP_PROTO_UDP &&
	    nh != IPV6_NH_ICMPV6) {
		/* nothing forwards other protocols; nothing answers for the address */
		CTR_INC(st, IPV6_DROP_NOT_US);
		return;
	}
	if (nh == IPV6_NH_NONE) {
		CTR_INC(st, IPV6_DELIVERED);
		return;
	}
	if (nh == IPV6_NH_ICMPV6) {
		CTR_INC(st, IPV6_DELIVERED);
		icmpv6_input(st, &m, r->pkt + pos, r->len - pos);
		return;
	}
	if (p->rx && p->rx(p->ctx, &m, r->pkt + pos, r->len - pos) != -EPROTONOSUPPORT) {
		CTR_INC(st, IPV6_DELIVERED);
		return;
	}
	CTR_INC(st, IPV6_DROP_PROTO);
	param_problem(st, r, ICMPV6_PARAM_NEXT_HEADER, nh_off);
}

/*
 * Forwarder mode (tapir/forward.h): take a unicast packet for a foreign
 * address (TCP, UDP and ICMPv6 only, see deliver())?  Never for ::/8 (unspecified, loopback,
 * IPv4-mapped and -compatible: RFC 4291's reserved block), link-local
 * (fe80::/10: the link's own, not routed through us) or a link-layer
 * multicast; a packet whose hop limit ends here gets a Time Exceeded (RFC
 * 4443 3.3: traceroute sees us) and is dropped.  Counts the drop when not.
 */
static bool forward_input(struct tapir_stack *st, const uint8_t *pkt, size_t len,
			  const uint8_t dst[16], bool link_multicast)
{
	if (!tapir_stack_forwarding(st) || link_multicast) {
		CTR_INC(st, IPV6_DROP_NOT_US);
		return false;
	}
	if (dst[0] == 0 || ipv6_addr_is_link_local(dst)) {
		CTR_INC(st, IPV6_DROP_FORWARD_ADDR);
		return false;
	}
	if (pkt[7] <= 1) {
		CTR_INC(st, IPV6_DROP_FORWARD_HOP_LIMIT);
		icmpv6_send_error(st, ICMPV6_TIME_EXCEEDED, 0, 0, pkt, len, false);
		return false;
	}
	CTR_INC(st, IPV6_FORWARD_RX);
	return true;
}

/* Walk the extension headers after the fixed header, then deliver. */
static void input_chain(struct tapir_stack *st, struct rx6 *r)
{
	size_t pos = IPV6_HDR_LEN, nh_off = 6;
	uint8_t nh = r->pkt[6];

	while (ipv6_nh_is_ext(nh)) {
		struct ipv6_ext e;

		if (ipv6_ext_check(&e, nh, r->pkt + pos, r->len - pos) < 0) {
			CTR_INC(st, IPV6_DROP_EXT_HDR);
			param_problem(st, r, ICMPV6_PARAM_HEADER, pos + 1 < r->len ? pos + 1 : 4);
			return;
		}
		switch (nh) {
		case IPV6_NH_HOPOPTS:
			if (pos != IPV6_HDR_LEN) {
				CTR_INC(st, IPV6_DROP_HBH_POSITION);
				param_problem(st, r, ICMPV6_PARAM_NEXT_HEADER, nh_off);
				return;
			}
			/* fall through */
		case IPV6_NH_DSTOPTS:
			if (!options_ok(st, r, &e, pos))
				return;
			break;
		case IPV6_NH_ROUTING:
			if (ipv6_rh_segments_left(&e) == 0)
				break;
			if (ipv6_rh_type(&e) == 0)
				CTR_INC(st, IPV6_DROP_RH0);
			else
				CTR_INC(st, IPV6_DROP_ROUTING);
			param_problem(st, r, ICMPV6_PARAM_HEADER, pos + 2);
			return;
		case IPV6_NH_FRAGMENT: {
			struct ipv6_frag_repr f;

			ipv6_frag_parse(&f, &e);
			if (f.offset != 0 || f.more) {
				fragment_input(st, r, &e, pos, nh_off);
				return;
			}
			CTR_INC(st, IPV6_ATOMIC_FRAGS);
			break;
		}
		}
		nh_off = pos;
		nh = e.next;
		pos += e.len;
	}
	deliver(st, r, nh, pos, nh_off);
}

/* Is this an NDP or MLD message, which may come from :: or to a tentative address? */
static bool is_ndp_or_mld(const uint8_t *pkt, size_t len)
{
	size_t off;
	int nh = ipv6_upper_layer(pkt, len, &off);

	if (nh != IPV6_NH_ICMPV6 || off >= len)
		return false;
	return (pkt[off] >= ICMPV6_MLD_QUERY && pkt[off] <= ICMPV6_REDIRECT) ||
	       pkt[off] == ICMPV6_MLD2_REPORT;
}

void ipv6_input(struct tapir_stack *st, const uint8_t *pkt, size_t len, bool link_multicast,
		unsigned flags)
{
	struct ipv6_view v;
	struct rx6 r;
	const uint8_t *src, *dst;
	struct ipv6_addr_ent *own;
	int rc;

	if (!st->ip6) {
		CTR_INC(st, ETH_DROP_ETHERTYPE);
		return;
	}
	CTR_INC(st, IPV6_RX);
	rc = ipv6_view_check(&v, pkt, len);
	if (rc < 0) {
		if (rc == -IPV6_BAD_VERSION)
			CTR_INC(st, IPV6_DROP_VERSION);
		else
			CTR_INC(st, IPV6_DROP_TRUNCATED);
		return;
	}
	src = ipv6_src(&v);
	dst = ipv6_dst(&v);
	if (ipv6_addr_is_multicast(src) || ipv6_addr_is_loopback(src) ||
	    ipv6_addr_is_v4mapped(src) || ipv6_addr_is_loopback(dst) ||
	    ipv6_addr_is_unspecified(dst) ||
	    (ipv6_addr_is_unspecified(src) && !is_ndp_or_mld(pkt, v.len))) {
		CTR_INC(st, IPV6_DROP_BAD_SRC);
		return;
	}
	if (ipv6_is_our_addr(st, src)) {
		/* our own address, looped or spoofed (a tentative or duplicate one is
		 * another node's: DAD needs to hear from it) */
		CTR_INC(st, IPV6_DROP_BAD_SRC);
		return;
	}
	memset(&r, 0, sizeof(r));
	r.pkt = pkt;
	r.len = v.len;
	r.link_multicast = link_multicast;
	r.flags = flags;
	if (ipv6_addr_is_multicast(dst)) {
		if (!ipv6_addr_in_group(st, dst)) {
			CTR_INC(st, IPV6_DROP_NOT_US);
			return;
		}
		r.dst_multicast = true;
	} else {
		own = ipv6_addr_find(st, dst);
		if (!own) {
			if (!forward_input(st, pkt, v.len, dst, link_multicast))
				return;
			r.foreign = true;
		} else if (own->state == TAPIR_IPV6_ADDR_DUPLICATE) {
			CTR_INC(st, IPV6_DROP_NOT_US);
			return;
		} else if (own->state == TAPIR_IPV6_ADDR_TENTATIVE && !is_ndp_or_mld(pkt, v.len)) {
			CTR_INC(st, IPV6_DROP_TENTATIVE);
			return;
		}
		if (link_multicast) {
			CTR_INC(st, IPV6_DROP_LINK_MCAST);
			return;
		}
	}
	input_chain(st, &r);
}

/* ---- timers ---- */

static void reasm_expired(void *ctx, const uint8_t *quote, size_t quote_len)
{
	struct tapir_stack *st = ctx;

	/* RFC 8200 4.5: Time Exceeded code 1 to the source of the first fragment */
	icmpv6_send_error(st, ICMPV6_TIME_EXCEEDED, ICMPV6_TIME_REASM, 0, quote, quote_len, false);
}

void ipv6_poll(struct tapir_stack *st)
{
	if (!st->ip6)
		return;
	reasm_poll(st->ip6->reasm, st->now, reasm_expired, st);
	ndp_poll(st);
	ipv6_addr_poll(st);
}

uint64_t ipv6_next_deadline(const struct tapir_stack *st)
{
	uint64_t a, b, c;

	if (!st->ip6)
		return TAPIR_STACK_NO_DEADLINE;
	a = reasm_next_deadline(st->ip6->reasm);
	b = ndp_next_deadline(st);
	c = ipv6_addr_next_deadline(st);
	if (b < a)
		a = b;
	return c < a ? c : a;
}

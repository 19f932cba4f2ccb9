/*
 * ipv4.c - IPv4 input validation and delivery, output with routing and
 *          fragmentation, and the path-MTU cache
 *
 * Theory of operation
 *
 * Input: the header is checked (version, IHL, total length against the bytes
 * received, so Ethernet padding is trimmed; checksum; options walked and
 * length-checked).  Source-routed datagrams are dropped (we never forward).
 * Sources that cannot be a single host (broadcast, multicast, reserved,
 * loopback, our own address, 0.0.0.0 except a UDP broadcast as DHCP sends)
 * are dropped.  We accept datagrams to our address, 255.255.255.255 and the
 * subnet broadcast; a unicast datagram that came as a link-layer broadcast is
 * dropped (RFC 1122 3.3.6).  Fragments go to the reassembly table
 * (ipv4_reasm.c); whole datagrams are delivered to ICMP or to the protocol
 * registered with tapir_ipv4_register_proto() (UDP, TCP), and an unknown protocol
 * gets an ICMP protocol unreachable.
 *
 * Output: tapir_ipv4_write() routes on-link destinations through ARP and the rest
 * through the gateway; broadcasts go to ff:ff:ff:ff:ff:ff.  The transport
 * header written by the caller's fill and the payload pieces are gathered
 * into one frame, or into fragments of (path MTU - 20) & ~7 bytes when the
 * datagram is larger than the path MTU.  With fragment = false, DF is set and
 * a datagram larger than the path MTU fails with -EMSGSIZE.
 *
 * IDs: not one global counter, which lets anyone who pings us count the
 * datagrams we send to others (the "idle scan", and predictable IDs as in
 * INFRA:HALT/NUMBER:JACK).  As RFC 7739 5.3 suggests and as Linux does
 * (ip_idents_reserve), the ID comes from one of IPV4_ID_BUCKETS counters
 * chosen by a keyed SipHash of (src, dst, proto), each started at random;
 * a counter not used in the current millisecond first jumps ahead by a
 * random amount below the milliseconds since its last use (at most 32,767),
 * so that what one destination sees says little even about destinations
 * that share its bucket.  IDs stay unique per (src, dst, proto) for far
 * longer than a datagram lives (RFC 6864 4.2).
 *
 * Path MTU: ICMP "fragmentation needed" lowers a per-destination entry
 * (RFC 1191); entries expire after cfg.pmtu_timeout_ns.  The cache is a small
 * array (cfg.pmtu_cache_size); when full, the entry closest to expiry is
 * replaced.  icmp.c parses the error; the transport that sent the quoted
 * datagram checks the quote against its state (RFC 5927: TCP the sequence
 * number, UDP the port) and only then calls ipv4_pmtu_frag_needed(), which
 * also ignores an error about a datagram that fit the reported MTU or did
 * not have DF set (RFC 1191: neither can have needed fragmentation).  A
 * reported MTU below cfg.min_pmtu (552 by default, Linux's ip_rt_min_pmtu)
 * sets the path MTU to min_pmtu and locks the entry, as Linux does: datagrams
 * to that destination then go without DF, so that a router with a really
 * smaller MTU fragments them rather than drops them, and further reports are
 * ignored until the entry expires.  One forged error thus costs at most a
 * smaller MSS for a while, never a path on which nothing can be sent (the
 * floor of RFC 1191, 68, is the lowest min_pmtu allowed).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "wire/bytes.h"
#include "wire/eth.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"

#define IPV4_MIN_MTU 68
#define IPV4_MAX_PAYLOAD (65535 - IPV4_HDR_LEN)
#define MAX_PIECES 18

static void reasm_expired(void *ctx, const uint8_t *quote, size_t quote_len);

int ipv4_init(struct tapir_stack *st)
{
	struct reasm_config rc = {
		.max_bytes = st->cfg.reasm_max_bytes,
		.timeout_ns = st->cfg.reasm_timeout_ns,
	};

	st->reasm = reasm_new(&rc, st->ctr);
	st->pmtu = calloc(st->cfg.pmtu_cache_size, sizeof(*st->pmtu));
	if (!st->reasm || !st->pmtu) {
		reasm_free(st->reasm);
		free(st->pmtu);
		return -ENOMEM;
	}
	st->cfg.random(st->cfg.random_ctx, st->ip_ids, sizeof(st->ip_ids));
	st->cfg.random(st->cfg.random_ctx, st->ip_id_key, sizeof(st->ip_id_key));
	uint64_t key[2];

	st->cfg.random(st->cfg.random_ctx, key, sizeof(key));
	reasm_set_hash_key(st->reasm, key[0], key[1]);
	return 0;
}

void ipv4_free(struct tapir_stack *st)
{
	reasm_free(st->reasm);
	st->reasm = NULL;
	free(st->pmtu);
	st->pmtu = NULL;
}

int tapir_ipv4_register_proto(struct tapir_stack *st, uint8_t proto, tapir_ipv4_proto_fn rx,
			      tapir_ipv4_icmp_err_fn err, void *ctx)
{
	if (proto == TAPIR_IP_PROTO_ICMP)
		return -EADDRINUSE;
	if (rx && st->protos[proto].rx)
		return -EADDRINUSE;
	st->protos[proto].rx = rx;
	st->protos[proto].err = err;
	st->protos[proto].ctx = ctx;
	return 0;
}

/* ---- path MTU ---- */

static struct pmtu_slot *pmtu_find(struct tapir_stack *st, uint32_t dst)
{
	for (size_t i = 0; i < st->npmtu; i++) {
		struct pmtu_slot *p = &st->pmtu[i];

		if (p->dst != dst)
			continue;
		if (p->expires <= st->now) {
			st->pmtu[i] = st->pmtu[--st->npmtu];
			return NULL;
		}
		return p;
	}
	return NULL;
}

size_t tapir_ipv4_mtu(struct tapir_stack *st, uint32_t dst)
{
	struct pmtu_slot *p = st->npmtu ? pmtu_find(st, dst) : NULL;

	if (p && p->mtu < st->mtu)
		return p->mtu;
	return st->mtu;
}

/* Datagrams to @dst go without DF (a report below min_pmtu locked the entry). */
static bool pmtu_locked(struct tapir_stack *st, uint32_t dst)
{
	struct pmtu_slot *p = st->npmtu ? pmtu_find(st, dst) : NULL;

	return p && p->locked;
}

void ipv4_pmtu_update(struct tapir_stack *st, uint32_t dst, uint32_t mtu)
{
	struct pmtu_slot *p;
	char addr[IPV4_ADDR_STRLEN];
	size_t cur = tapir_ipv4_mtu(st, dst);
	bool lock = false;

	p = st->npmtu ? pmtu_find(st, dst) : NULL;
	if (p && p->locked) {
		CTR_INC(st, IPV4_PMTU_IGNORED);
		return;
	}
	if (mtu < st->cfg.min_pmtu) {
		CTR_INC(st, IPV4_PMTU_CLAMPED);
		mtu = st->cfg.min_pmtu;
		lock = true;
	}
	if (mtu > cur)
		mtu = (uint32_t)cur;
	if (mtu == cur && !lock) {
		CTR_INC(st, IPV4_PMTU_IGNORED);
		return;
	}
	if (!p) {
		if (st->npmtu < st->cfg.pmtu_cache_size) {
			p = &st->pmtu[st->npmtu++];
		} else {
			p = &st->pmtu[0];
			for (size_t i = 1; i < st->npmtu; i++)
				if (st->pmtu[i].expires < p->expires)
					p = &st->pmtu[i];
		}
		p->dst = dst;
	}
	p->mtu = mtu;
	p->locked = lock;
	p->expires = st->now + st->cfg.pmtu_timeout_ns;
	CTR_INC(st, IPV4_PMTU_UPDATED);
	stack_log(st, TAPIR_STACK_LOG_INFO, "ipv4: path MTU to %s is now %u%s",
		  tapir_ipv4_addr_format(dst, addr), mtu, lock ? " (reported below min_pmtu: DF off)" : "");
}

uint32_t ipv4_pmtu_frag_needed(struct tapir_stack *st, const struct tapir_ipv4_icmp_err *e)
{
	const struct tapir_icmp_quote *q = e->quote;

	if (e->type != TAPIR_ICMP_DEST_UNREACH || e->code != TAPIR_ICMP_UNREACH_FRAG_NEEDED)
		return 0;
	/* Only a datagram sent with DF and larger than the next hop's MTU can
	 * have needed fragmentation (RFC 1191 section 4). */
	if (!(get_be16(q->ip_header + 6) & IPV4_FLAG_DF) || q->total_len <= e->mtu) {
		CTR_INC(st, IPV4_PMTU_IGNORED);
		return 0;
	}
	ipv4_pmtu_update(st, q->dst, e->mtu);
	return (uint32_t)tapir_ipv4_mtu(st, q->dst);
}

/*
 * The plateaus of RFC 1191 section 7 (table 7-1), highest first.  65535
 * can never be strictly below a 16-bit total length; it stays so that the
 * table is the RFC's.
 */
static const uint32_t pmtu_plateaus[] = { 65535, 32000, 17914, 8166, 4352, 2002, 1492,
					  1006,  508,   296,   68 };

uint32_t ipv4_pmtu_plateau(uint32_t total_len)
{
	for (size_t i = 0; i < sizeof(pmtu_plateaus) / sizeof(pmtu_plateaus[0]); i++)
		if (pmtu_plateaus[i] < total_len)
			return pmtu_plateaus[i];
	return IPV4_MIN_MTU;
}

size_t tapir_ipv4_pmtu_list(const struct tapir_stack *st, struct tapir_pmtu_entry *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < st->npmtu && n < max; i++) {
		if (st->pmtu[i].expires <= st->now)
			continue;
		out[n].dst = st->pmtu[i].dst;
		out[n].mtu = st->pmtu[i].mtu;
		out[n].expires = st->pmtu[i].expires;
		out[n].locked = st->pmtu[i].locked;
		n++;
	}
	return n;
}

/* ---- output ---- */

/* The ID of the next datagram from @src to @dst (see "IDs" above). */
static uint16_t ipv4_next_id(struct tapir_stack *st, uint32_t src, uint32_t dst, uint8_t proto)
{
	size_t b = (size_t)(siphash24_2w(st->ip_id_key, (uint64_t)src << 32 | dst, proto) %
			    IPV4_ID_BUCKETS);
	uint32_t now_ms = (uint32_t)(st->now / 1000000), delta = 0;

	if (st->ip_id_stamp[b] != now_ms) {
		uint32_t elapsed = now_ms - st->ip_id_stamp[b];

		st->ip_id_stamp[b] = now_ms;
		delta = stack_random32(st) % (elapsed < 32768 ? elapsed : 32768);
	}
	st->ip_ids[b] = (uint16_t)(st->ip_ids[b] + 1 + delta);
	return st->ip_ids[b];
}

struct frag_fill_ctx {
	struct ipv4_repr hdr;
	const struct tapir_stack_iov *pieces;
	int npieces;
	size_t offset;   /* into the gathered payload */
	size_t len;      /* bytes of payload in this frame */
};

static size_t frag_fill(uint8_t *buf, size_t size, void *arg)
{
	struct frag_fill_ctx *c = arg;
	size_t hl = ipv4_repr_header_len(&c->hdr);

	(void)size;
	c->hdr.payload_len = c->len;
	ipv4_repr_emit(&c->hdr, buf);
	ip_gather(buf + hl, c->pieces, c->npieces, c->offset, c->len);
	return hl + c->len;
}

/* Copy the options of @opt that have the copy flag into @out.  Return: length */
static size_t copied_options(const uint8_t *opt, size_t len, uint8_t *out)
{
	size_t i = 0, n = 0;

	while (i < len) {
		size_t ol;

		if (opt[i] == 0) /* end of list */
			break;
		if (opt[i] == 1) { /* no-op */
			i++;
			continue;
		}
		if (i + 1 >= len || opt[i + 1] < 2 || opt[i + 1] > len - i)
			break;
		ol = opt[i + 1];
		if (opt[i] & 0x80) {
			memcpy(out + n, opt + i, ol);
			n += ol;
		}
		i += ol;
	}
	return n;
}

/*
 * Send the TCP super-segment in @c (@hl bytes of IP header, @total of TCP
 * header + data) as one frame through the device's TSO; each segment it is
 * cut into must fit @mtu.  The device increments the IP ID per segment.
 */
static int write_gso(struct tapir_stack *st, const struct tapir_ipv4_write_opts *opts,
		     const uint8_t mac[6], struct frag_fill_ctx *c, size_t hl, size_t total,
		     size_t mtu)
{
	struct tapir_netif_gso g;
	int rc;

	if (!st->tso || c->hdr.proto != TAPIR_IP_PROTO_TCP || opts->fragment ||
	    ip_tcp_gso(&g, TAPIR_NETIF_GSO_TCPV4, c->pieces, c->npieces, total, hl, mtu,
		       opts->gso_size)) {
		CTR_INC(st, IPV4_DROP_TX_TOO_BIG);
		return -EMSGSIZE;
	}
	c->len = total;
	rc = eth_write_gso(st, mac, hl + total, &g, frag_fill, c);
	if (rc == 0)
		CTR_INC(st, IPV4_TX);
	return rc;
}

/* Next-hop MAC for @dst, or -EAGAIN (queue for @nexthop), or -ENETUNREACH. */
static int route(struct tapir_stack *st, const struct tapir_ipv4_write_opts *opts, uint32_t dst,
		 uint8_t mac[6], uint32_t *nexthop)
{
	if (opts->link_broadcast || dst == IPV4_ADDR_BROADCAST || (st->bcast && dst == st->bcast)) {
		memcpy(mac, eth_broadcast, 6);
		return 0;
	}
	if (ipv4_addr_is_multicast(dst)) {
		mac[0] = 0x01;
		mac[1] = 0x00;
		mac[2] = 0x5e;
		mac[3] = (dst >> 16) & 0x7f;
		mac[4] = (dst >> 8) & 0xff;
		mac[5] = dst & 0xff;
		return 0;
	}
	if (dst == 0 || ipv4_addr_is_loopback(dst) || ipv4_addr_is_reserved(dst) ||
	    dst == st->cfg.addr || !st->cfg.addr)
		return -ENETUNREACH;
	if (stack_on_link(st, dst))
		*nexthop = dst;
	else if (st->cfg.gateway)
		*nexthop = st->cfg.gateway;
	else
		return -ENETUNREACH;
	return arp_resolve(st, *nexthop, mac);
}

int tapir_ipv4_write(struct tapir_stack *st, const struct tapir_ipv4_write_opts *opts, uint32_t dst,
		     uint8_t proto, size_t size, tapir_netif_fill_fn fill, void *ctx,
		     const struct tapir_stack_iov *iov, int iovcnt)
{
	static const struct tapir_ipv4_write_opts defaults = { .fragment = true };
	struct tapir_stack_iov pieces[MAX_PIECES];
	uint8_t hdrbuf[128], *hdr = hdrbuf;
	struct frag_fill_ctx c;
	uint8_t mac[6], rest_opts[IPV4_MAX_OPTIONS_LEN];
	uint32_t nexthop = 0;
	size_t total = 0, mtu, maxfrag, hl;
	int npieces = 0, rc;

	if (!opts)
		opts = &defaults;
	if (iovcnt < 0 || iovcnt > MAX_PIECES - 1 || (size && !fill) ||
	    opts->options_len > IPV4_MAX_OPTIONS_LEN || (opts->options_len && !opts->options))
		return -EINVAL;
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
	if (total > IPV4_MAX_PAYLOAD) {
		rc = -EMSGSIZE;
		goto out;
	}
	rc = route(st, opts, dst, mac, &nexthop);
	if (rc == -EAGAIN) {
		rc = arp_queue(st, nexthop, opts, dst, proto, pieces, npieces, total);
		goto out;
	}
	if (rc < 0) {
		CTR_INC(st, IPV4_DROP_NO_ROUTE);
		goto out;
	}
	mtu = tapir_ipv4_mtu(st, dst);
	memset(&c, 0, sizeof(c));
	c.hdr.src = opts->src ? opts->src : st->cfg.addr;
	c.hdr.dst = dst;
	c.hdr.proto = proto;
	c.hdr.ttl = opts->ttl ? opts->ttl : st->cfg.default_ttl;
	c.hdr.tos = opts->tos;
	c.hdr.id = ipv4_next_id(st, c.hdr.src, dst, proto);
	c.hdr.df = !opts->fragment && !pmtu_locked(st, dst);
	c.hdr.options = opts->options_len ? opts->options : NULL;
	c.hdr.options_len = opts->options_len;
	c.pieces = pieces;
	c.npieces = npieces;
	hl = ipv4_repr_header_len(&c.hdr);
	if (opts->gso_size) {
		rc = write_gso(st, opts, mac, &c, hl, total, mtu);
		goto out;
	}
	if (hl + total <= mtu) {
		c.len = total;
		rc = tapir_eth_write(st, NULL, mac, TAPIR_ETHERTYPE_IPV4, hl + total, frag_fill, &c);
		if (rc == 0)
			CTR_INC(st, IPV4_TX);
		goto out;
	}
	if (!opts->fragment) {
		CTR_INC(st, IPV4_DROP_TX_TOO_BIG);
		rc = -EMSGSIZE;
		goto out;
	}
	for (size_t off = 0; off < total; off += c.len) {
		if (off > 0 && c.hdr.options) {
			/* Later fragments repeat only the options marked "copy". */
			c.hdr.options_len = copied_options(opts->options, opts->options_len, rest_opts);
			c.hdr.options = c.hdr.options_len ? rest_opts : NULL;
			hl = ipv4_repr_header_len(&c.hdr);
		}
		maxfrag = (mtu - hl) & ~(size_t)7;
		c.offset = off;
		c.len = total - off < maxfrag ? total - off : maxfrag;
		c.hdr.frag_offset = (uint32_t)off;
		c.hdr.mf = off + c.len < total;
		rc = tapir_eth_write(st, NULL, mac, TAPIR_ETHERTYPE_IPV4, hl + c.len, frag_fill, &c);
		if (rc < 0)
			goto out;
		CTR_INC(st, IPV4_FRAGS_TX);
	}
	CTR_INC(st, IPV4_TX);
out:
	if (hdr != hdrbuf)
		free(hdr);
	return rc;
}

/* ---- input ---- */

static bool src_ok(const struct tapir_stack *st, uint32_t src, uint32_t dst, uint8_t proto)
{
	if (src == 0)
		return dst == IPV4_ADDR_BROADCAST && proto == TAPIR_IP_PROTO_UDP;
	if (src == IPV4_ADDR_BROADCAST || (st->bcast && src == st->bcast))
		return false;
	if (ipv4_addr_is_multicast(src) || ipv4_addr_is_reserved(src) ||
	    ipv4_addr_is_loopback(src) || src == st->cfg.addr)
		return false;
	return true;
}

static void deliver(struct tapir_stack *st, const struct tapir_ipv4_rx_meta *m,
		    const uint8_t *payload, size_t len)
{
	struct proto_handler *h;

	CTR_INC(st, IPV4_DELIVERED);
	switch (m->proto) {
	case TAPIR_IP_PROTO_ICMP:
		icmp_input(st, m, payload, len);
		return;
	}
	h = &st->protos[m->proto];
	if (h->rx && h->rx(h->ctx, m, payload, len) != -EPROTONOSUPPORT)
		return;
	CTR_INC(st, IPV4_DROP_PROTO);
	icmp_send_error(st, TAPIR_ICMP_DEST_UNREACH, TAPIR_ICMP_UNREACH_PROTOCOL, 0, m->ip_header,
			m->ip_header_len, payload, len, m->link_broadcast || m->ip_broadcast);
}

static int check_header(struct tapir_stack *st, struct ipv4_view *v, struct ipv4_repr *r,
			const uint8_t *pkt, size_t len)
{
	static const enum tapir_stack_counter bad[] = {
		[IPV4_BAD_TRUNCATED] = TAPIR_CTR_IPV4_DROP_TRUNCATED,
		[IPV4_BAD_VERSION] = TAPIR_CTR_IPV4_DROP_VERSION,
		[IPV4_BAD_IHL] = TAPIR_CTR_IPV4_DROP_IHL,
		[IPV4_BAD_TOTAL_LEN] = TAPIR_CTR_IPV4_DROP_TOTAL_LEN,
		[IPV4_BAD_CHECKSUM] = TAPIR_CTR_IPV4_DROP_CHECKSUM,
		[IPV4_BAD_OPTIONS] = TAPIR_CTR_IPV4_DROP_OPTIONS,
	};
	int rc = ipv4_view_check(v, pkt, len);

	if (rc == 0)
		rc = ipv4_repr_parse(r, v);
	if (rc < 0) {
		unsigned why = (unsigned)-rc;

		st->ctr[why < sizeof(bad) / sizeof(bad[0]) && bad[why] ? bad[why]
								      : TAPIR_CTR_IPV4_DROP_TRUNCATED]++;
		return rc;
	}
	return 0;
}

/* Forwarder mode (tapir/forward.h): take a unicast datagram for a foreign
 * address?  Counts the drop when not. */
static bool forward_input(struct tapir_stack *st, const uint8_t *pkt, const struct ipv4_view *v,
			  const struct ipv4_repr *r, bool link_broadcast)
{
	if (!tapir_stack_forwarding(st) || link_broadcast) {
		CTR_INC(st, IPV4_DROP_NOT_US);
		return false;
	}
	if ((r->dst >> 24) == 0 || ipv4_addr_is_multicast(r->dst) || ipv4_addr_is_loopback(r->dst) ||
	    ipv4_addr_is_reserved(r->dst)) {
		CTR_INC(st, IPV4_DROP_FORWARD_ADDR);
		return false;
	}
	if (r->ttl <= 1) {
		/* it dies at this router (RFC 1812 5.3.1): traceroute sees us */
		CTR_INC(st, IPV4_DROP_FORWARD_TTL);
		icmp_send_error(st, TAPIR_ICMP_TIME_EXCEEDED, 0, 0, pkt, ipv4_header_len(v),
				ipv4_payload(v), ipv4_payload_len(v), false);
		return false;
	}
	CTR_INC(st, IPV4_FORWARD_RX);
	return true;
}

bool tapir_stack_forwarding(const struct tapir_stack *st)
{
	return st->tcp_fwd || st->udp_fwd || st->echo_fwd || st->echo6_fwd;
}

void ipv4_input(struct tapir_stack *st, const uint8_t *pkt, size_t len, bool link_broadcast,
		unsigned flags)
{
	struct ipv4_view v;
	struct ipv4_repr r;
	struct tapir_ipv4_rx_meta m;
	uint8_t *whole = NULL;
	size_t whole_len = 0;
	bool ip_bcast;

	CTR_INC(st, IPV4_RX);
	if (check_header(st, &v, &r, pkt, len) < 0)
		return;
	if (r.options_len) {
		struct ipv4_options_info oi;

		if (ipv4_options_parse(r.options, r.options_len, &oi) < 0) {
			CTR_INC(st, IPV4_DROP_OPTIONS);
			return;
		}
		if (oi.source_route) {
			CTR_INC(st, IPV4_DROP_SOURCE_ROUTE);
			return;
		}
	}
	if (!src_ok(st, r.src, r.dst, r.proto)) {
		CTR_INC(st, IPV4_DROP_BAD_SRC);
		return;
	}
	ip_bcast = r.dst == IPV4_ADDR_BROADCAST || (st->bcast && r.dst == st->bcast);
	if ((r.dst != st->cfg.addr || !st->cfg.addr) && !ip_bcast &&
	    !forward_input(st, pkt, &v, &r, link_broadcast))
		return;
	if (link_broadcast && !ip_bcast) {
		CTR_INC(st, IPV4_DROP_LINK_BCAST);
		return;
	}
	if (r.mf || r.frag_offset) {
		struct reasm_frag f = {
			.src = r.src, .dst = r.dst, .id = r.id, .proto = r.proto,
			.offset = r.frag_offset, .more = r.mf,
			.hdr = pkt, .hdr_len = ipv4_header_len(&v),
			.payload = ipv4_payload(&v), .len = ipv4_payload_len(&v),
		};

		if (reasm_input(st->reasm, st->now, &f, &whole, &whole_len) != 1)
			return;
		if (ipv4_view_check(&v, whole, whole_len) < 0) {
			free(whole);
			return;
		}
		flags = 0;	/* they spoke of one fragment, not of the datagram */
	}
	m.src = r.src;
	m.dst = r.dst;
	m.proto = r.proto;
	m.ttl = r.ttl;
	m.tos = r.tos;
	m.link_broadcast = link_broadcast;
	m.ip_broadcast = ip_bcast;
	m.ip_header = v.buf;
	m.ip_header_len = ipv4_header_len(&v);
	m.l4_csum_ok = (flags & (TAPIR_NETIF_RX_CSUM_PARTIAL | TAPIR_NETIF_RX_CSUM_VALID)) != 0;
	m.gso = (flags & TAPIR_NETIF_RX_GSO) != 0;
	deliver(st, &m, ipv4_payload(&v), ipv4_payload_len(&v));
	free(whole);
}

/* ---- timers ---- */

static void reasm_expired(void *ctx, const uint8_t *quote, size_t quote_len)
{
	struct tapir_stack *st = ctx;
	size_t hl;

	if (quote_len < IPV4_HDR_LEN)
		return;
	hl = (size_t)(quote[0] & 0x0f) * 4;
	if (hl < IPV4_HDR_LEN || hl > quote_len)
		return;
	/* The quoted datagram was addressed to us or to a broadcast address. */
	uint32_t dst = get_be32(quote + 16);
	bool bcast = dst == IPV4_ADDR_BROADCAST || (st->bcast && dst == st->bcast);

	icmp_send_error(st, TAPIR_ICMP_TIME_EXCEEDED, 1, 0, quote, hl, quote + hl, quote_len - hl,
			bcast);
}

void ipv4_poll(struct tapir_stack *st)
{
	reasm_poll(st->reasm, st->now, reasm_expired, st);
}

uint64_t ipv4_next_deadline(const struct tapir_stack *st)
{
	return reasm_next_deadline(st->reasm);
}

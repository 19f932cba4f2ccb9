/*
 * dhcp.c - the DHCPv4 client (RFC 2131) with the ARP probe of RFC 5227
 *
 * Theory of operation: see include/tapir/dhcp.h (states, timers).  This
 * file keeps one struct dhcp_client per stack (st->dhcp).  Messages are
 * built and parsed by wire/dhcp.c; they go out as UDP from port 68 through
 * tapir_ipv4_write() (a RELEASE to a server whose MAC is not in the ARP
 * cache goes to the Ethernet broadcast address, since it is sent as the
 * stack stops and could not wait for ARP).  Replies are matched on op,
 * hardware type and address, xid and message type; anything else is
 * dropped and counted (tapir_dhcp_get_stats()).  The times of a lease count
 * from when the REQUEST that got the ACK was sent (RFC 2131 4.4.1).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "tapir/dhcp.h"
#include "wire/dhcp.h"
#include "wire/ipv4.h"
#include "wire/udp.h"

#define NS TAPIR_STACK_NS_PER_SEC
#define RTX_FIRST (4 * NS)
#define RTX_MAX (64 * NS)
#define RENEW_MIN (60 * NS)
#define REQUEST_TRIES 4
#define REBOOT_TRIES 2
#define DECLINE_WAIT (10 * NS)       /* RFC 2131 3.1 step 5 */
#define PROBE_WAIT NS                /* RFC 5227 section 1.1 */
#define PROBE_NUM 3
#define PROBE_MIN NS
#define PROBE_MAX (2 * NS)
#define ANNOUNCE_WAIT (2 * NS)

struct dhcp_client {
	struct tapir_stack *st;
	struct tapir_dhcp_config cfg;
	char hostname[DHCP_HOSTNAME_MAX + 1];
	uint8_t client_id[DHCP_CLIENT_ID_MAX];
	size_t client_id_len;
	enum tapir_dhcp_state state;
	uint32_t xid;
	uint64_t deadline;
	uint64_t began;           /* start of the exchange (the secs field) */
	uint64_t sent_at;         /* last REQUEST sent */
	unsigned tries;
	uint32_t offered, server; /* REQUESTING: from the OFFER */
	uint32_t reboot_addr;
	struct tapir_dhcp_lease lease;    /* have_lease: ours */
	bool have_lease;
	struct tapir_dhcp_lease pending;  /* PROBING: ACKed, being checked */
	unsigned probes;
	struct tapir_dhcp_stats stats;
};

static const uint8_t param_req[] = {
	DHCP_OPT_SUBNET_MASK, DHCP_OPT_ROUTER, DHCP_OPT_DNS,  DHCP_OPT_DOMAIN, DHCP_OPT_MTU,
	DHCP_OPT_LEASE_TIME,  DHCP_OPT_T1,     DHCP_OPT_T2,   DHCP_OPT_SEARCH,
};

static const char *const state_names[] = {
	[TAPIR_DHCP_STOPPED] = "STOPPED",       [TAPIR_DHCP_INIT] = "INIT",
	[TAPIR_DHCP_SELECTING] = "SELECTING",   [TAPIR_DHCP_REQUESTING] = "REQUESTING",
	[TAPIR_DHCP_PROBING] = "PROBING",       [TAPIR_DHCP_INIT_REBOOT] = "INIT-REBOOT",
	[TAPIR_DHCP_REBOOTING] = "REBOOTING",   [TAPIR_DHCP_BOUND] = "BOUND",
	[TAPIR_DHCP_RENEWING] = "RENEWING",     [TAPIR_DHCP_REBINDING] = "REBINDING",
	[TAPIR_DHCP_DECLINED] = "DECLINED",
};
_Static_assert(sizeof(state_names) / sizeof(state_names[0]) == TAPIR_DHCP__NSTATES,
	       "every state has a name");

const char *tapir_dhcp_state_name(enum tapir_dhcp_state s)
{
	return (unsigned)s < TAPIR_DHCP__NSTATES ? state_names[s] : "?";
}

/* A random time in [0, @range) ns */
static uint64_t rand_ns(struct tapir_stack *st, uint64_t range)
{
	uint64_t v = 0;

	if (!range)
		return 0;
	st->cfg.random(st->cfg.random_ctx, &v, sizeof(v));
	return v % range;
}

static void set_state(struct dhcp_client *c, enum tapir_dhcp_state s)
{
	if (c->state != s)
		stack_log(c->st, TAPIR_STACK_LOG_DEBUG, "dhcp: %s -> %s", state_names[c->state],
			  state_names[s]);
	c->state = s;
}

/* ---- sending ---- */

struct send_ctx {
	struct udp_repr u;
	uint32_t src, dst;
};

static size_t udp_hdr_fill(uint8_t *buf, size_t size, void *arg)
{
	struct send_ctx *s = arg;

	(void)size;
	udp_repr_emit(&s->u, buf, s->src, s->dst);
	return UDP_HDR_LEN;
}

static void send_msg(struct dhcp_client *c, uint8_t type)
{
	struct tapir_stack *st = c->st;
	struct dhcp_repr r;
	uint8_t buf[576];
	struct send_ctx s;
	struct tapir_ipv4_write_opts o = { .fragment = true };
	struct tapir_stack_iov iov;
	uint64_t secs = (st->now - c->began) / NS;
	uint32_t dst = IPV4_ADDR_BROADCAST;
	size_t len;

	memset(&r, 0, sizeof(r));
	r.op = DHCP_OP_REQUEST;
	r.htype = 1;
	r.hlen = 6;
	r.xid = c->xid;
	r.secs = (uint16_t)(secs > 65535 ? 65535 : secs);
	memcpy(r.chaddr, st->mac, 6);
	r.msg_type = type;
	memcpy(r.client_id, c->client_id, c->client_id_len);
	r.client_id_len = (uint8_t)c->client_id_len;
	if (type != DHCP_DECLINE && type != DHCP_RELEASE) {
		memcpy(r.hostname, c->hostname, sizeof(r.hostname));
		r.param_req = param_req;
		r.param_req_len = sizeof(param_req);
		r.max_msg_size = 576;
	}
	switch (type) {
	case DHCP_DISCOVER:
		r.flags = DHCP_FLAG_BROADCAST;
		break;
	case DHCP_REQUEST:
		c->sent_at = st->now;
		if (c->state == TAPIR_DHCP_REQUESTING) {
			r.flags = DHCP_FLAG_BROADCAST;
			r.has_requested_ip = r.has_server_id = true;
			r.requested_ip = c->offered;
			r.server_id = c->server;
		} else if (c->state == TAPIR_DHCP_REBOOTING) {
			r.flags = DHCP_FLAG_BROADCAST;
			r.has_requested_ip = true;
			r.requested_ip = c->reboot_addr;
		} else {	/* RENEWING: unicast to the server; REBINDING: broadcast */
			r.ciaddr = c->lease.addr;
			if (c->state == TAPIR_DHCP_RENEWING)
				dst = c->lease.server;
		}
		break;
	case DHCP_DECLINE:
		r.has_requested_ip = r.has_server_id = true;
		r.requested_ip = c->pending.addr;
		r.server_id = c->pending.server;
		break;
	case DHCP_RELEASE:
		r.ciaddr = c->lease.addr;
		r.has_server_id = true;
		r.server_id = c->lease.server;
		dst = c->lease.server;
		break;
	}
	len = dhcp_repr_emit(&r, buf, sizeof(buf));
	s.u.src_port = DHCP_CLIENT_PORT;
	s.u.dst_port = DHCP_SERVER_PORT;
	s.u.payload = buf;
	s.u.payload_len = len;
	s.src = st->cfg.addr;
	s.dst = dst;
	if (dst != IPV4_ADDR_BROADCAST) {
		uint8_t mac[6];

		/* The stack stops right after a RELEASE: no time for ARP. */
		o.link_broadcast = type == DHCP_RELEASE && tapir_arp_lookup(st, dst, mac) < 0;
	}
	iov.base = buf;
	iov.len = len;
	if (tapir_ipv4_write(st, &o, dst, TAPIR_IP_PROTO_UDP, UDP_HDR_LEN, udp_hdr_fill, &s, &iov,
			     1) == 0) {
		CTR_INC(st, UDP_TX);
		CTR_INC(st, DHCP_TX);
		c->stats.tx[type]++;
	}
	stack_log(st, TAPIR_STACK_LOG_DEBUG, "dhcp: sent %s", dhcp_msg_type_name(type));
}

/* Retransmission time after the @tries-th send (RFC 2131 4.1) */
static uint64_t backoff(struct dhcp_client *c)
{
	uint64_t d = RTX_FIRST << (c->tries > 4 ? 4 : c->tries);

	if (d > RTX_MAX)
		d = RTX_MAX;
	return d - NS + rand_ns(c->st, 2 * NS);
}

/* RENEWING/REBINDING: half the time left to @until, at least 60 s, not past it */
static uint64_t renew_next(struct dhcp_client *c, uint64_t until)
{
	uint64_t now = c->st->now, d;

	if (until <= now)
		return now;
	d = (until - now) / 2;
	if (d < RENEW_MIN)
		d = RENEW_MIN;
	return d > until - now ? until : now + d;
}

static void new_xid(struct dhcp_client *c)
{
	c->xid = stack_random32(c->st);
	c->began = c->st->now;
	c->tries = 0;
}

/* ---- the address ---- */

static void notify(struct dhcp_client *c, const struct tapir_dhcp_lease *l)
{
	if (c->cfg.lease_changed)
		c->cfg.lease_changed(c->cfg.ctx, l);
}

static void unbind(struct dhcp_client *c, const char *why)
{
	char a[IPV4_ADDR_STRLEN];

	if (!c->have_lease)
		return;
	c->have_lease = false;
	stack_log(c->st, TAPIR_STACK_LOG_INFO, "dhcp: %s: address %s taken away", why,
		  tapir_ipv4_addr_format(c->lease.addr, a));
	tapir_stack_set_addr(c->st, 0, 0, 0);
	c->st->mtu = c->st->dev_mtu;
	notify(c, NULL);
}

static void bind_lease(struct dhcp_client *c, const struct tapir_dhcp_lease *l)
{
	struct tapir_stack *st = c->st;
	char a[IPV4_ADDR_STRLEN], g[IPV4_ADDR_STRLEN];
	bool same = c->have_lease && c->lease.addr == l->addr &&
		    c->lease.prefix_len == l->prefix_len && c->lease.router == l->router;

	c->lease = *l;
	c->have_lease = true;
	if (!same) {
		if (tapir_stack_set_addr(st, l->addr, l->prefix_len, l->router) < 0)
			tapir_stack_set_addr(st, l->addr, l->prefix_len, 0);
	}
	st->mtu = l->mtu && l->mtu < st->dev_mtu ? l->mtu : st->dev_mtu;
	set_state(c, TAPIR_DHCP_BOUND);
	c->deadline = l->t1;
	stack_log(st, TAPIR_STACK_LOG_INFO, "dhcp: bound to %s/%u router %s, lease %us",
		  tapir_ipv4_addr_format(l->addr, a), l->prefix_len,
		  tapir_ipv4_addr_format(l->router, g), l->lease_secs);
	notify(c, &c->lease);
}

/* ---- the states ---- */

static void enter_init(struct dhcp_client *c, uint64_t wait)
{
	set_state(c, TAPIR_DHCP_INIT);
	c->deadline = c->st->now + wait;
}

static void start_probe(struct dhcp_client *c)
{
	if (c->cfg.no_probe) {
		bind_lease(c, &c->pending);
		return;
	}
	set_state(c, TAPIR_DHCP_PROBING);
	c->probes = 0;
	c->deadline = c->st->now + rand_ns(c->st, PROBE_WAIT);
}

static void conflict(struct dhcp_client *c)
{
	char a[IPV4_ADDR_STRLEN];

	c->stats.conflicts++;
	CTR_INC(c->st, DHCP_CONFLICTS);
	stack_log(c->st, TAPIR_STACK_LOG_WARN, "dhcp: %s is in use by another host: declined",
		  tapir_ipv4_addr_format(c->pending.addr, a));
	send_msg(c, DHCP_DECLINE);
	set_state(c, TAPIR_DHCP_DECLINED);
	c->deadline = c->st->now + DECLINE_WAIT;
}

void dhcp_arp_input(struct tapir_stack *st, uint16_t op, const uint8_t sha[6], uint32_t spa,
		    uint32_t tpa)
{
	struct dhcp_client *c = st->dhcp;

	if (!c || c->state != TAPIR_DHCP_PROBING || !memcmp(sha, st->mac, 6))
		return;
	/* RFC 5227 2.1.1: a packet from the address, or another host's probe for it */
	if (spa == c->pending.addr || (spa == 0 && op == 1 && tpa == c->pending.addr))
		conflict(c);
}

static void poll_probe(struct dhcp_client *c)
{
	struct tapir_stack *st = c->st;

	if (c->probes < PROBE_NUM) {
		arp_probe(st, c->pending.addr);
		c->stats.probes++;
		c->probes++;
		c->deadline = st->now + (c->probes < PROBE_NUM ?
					 PROBE_MIN + rand_ns(st, PROBE_MAX - PROBE_MIN) :
					 ANNOUNCE_WAIT);
		return;
	}
	bind_lease(c, &c->pending);
}

void dhcp_poll(struct tapir_stack *st)
{
	struct dhcp_client *c = st->dhcp;
	uint64_t now = st->now;

	if (!c || c->deadline > now)
		return;
	switch (c->state) {
	case TAPIR_DHCP_STOPPED:
		c->deadline = TAPIR_STACK_NO_DEADLINE;
		return;
	case TAPIR_DHCP_INIT:
	case TAPIR_DHCP_DECLINED:
		new_xid(c);
		set_state(c, TAPIR_DHCP_SELECTING);
		send_msg(c, DHCP_DISCOVER);
		c->deadline = now + backoff(c);
		c->tries++;
		return;
	case TAPIR_DHCP_SELECTING:
		send_msg(c, DHCP_DISCOVER);
		c->deadline = now + backoff(c);
		c->tries++;
		return;
	case TAPIR_DHCP_REQUESTING:
	case TAPIR_DHCP_REBOOTING:
		if (c->tries >= (c->state == TAPIR_DHCP_REQUESTING ? REQUEST_TRIES : REBOOT_TRIES)) {
			enter_init(c, 0);
			dhcp_poll(st);
			return;
		}
		send_msg(c, DHCP_REQUEST);
		c->deadline = now + backoff(c);
		c->tries++;
		return;
	case TAPIR_DHCP_INIT_REBOOT:
		new_xid(c);
		set_state(c, TAPIR_DHCP_REBOOTING);
		send_msg(c, DHCP_REQUEST);
		c->deadline = now + backoff(c);
		c->tries++;
		return;
	case TAPIR_DHCP_PROBING:
		poll_probe(c);
		return;
	case TAPIR_DHCP_BOUND:
		new_xid(c);
		set_state(c, TAPIR_DHCP_RENEWING);
		/* fall through */
	case TAPIR_DHCP_RENEWING:
		if (now < c->lease.t2) {
			send_msg(c, DHCP_REQUEST);
			c->deadline = renew_next(c, c->lease.t2);
			return;
		}
		set_state(c, TAPIR_DHCP_REBINDING);
		/* fall through */
	case TAPIR_DHCP_REBINDING:
		if (now < c->lease.expiry) {
			send_msg(c, DHCP_REQUEST);
			c->deadline = renew_next(c, c->lease.expiry);
			return;
		}
		c->stats.expired++;
		unbind(c, "lease expired");
		enter_init(c, 0);
		dhcp_poll(st);
		return;
	case TAPIR_DHCP__NSTATES:
		break;
	}
}

uint64_t dhcp_next_deadline(const struct tapir_stack *st)
{
	const struct dhcp_client *c = st->dhcp;

	return c && c->state != TAPIR_DHCP_STOPPED ? c->deadline : TAPIR_STACK_NO_DEADLINE;
}

/* ---- receiving ---- */

static bool unicast_ok(uint32_t a)
{
	return a && !ipv4_addr_is_multicast(a) && !ipv4_addr_is_loopback(a) &&
	       !ipv4_addr_is_reserved(a) && a != IPV4_ADDR_BROADCAST && (a >> 24) != 0;
}

static uint8_t classful_prefix(uint32_t a)
{
	return a < 0x80000000u ? 8 : a < 0xc0000000u ? 16 : 24;
}

/* A contiguous mask.  Return: its prefix length, or -1 */
static int mask_prefix(uint32_t m)
{
	int p = 0;

	while (p < 32 && (m & (0x80000000u >> p)))
		p++;
	return (p < 32 ? (m << p) : 0) == 0 ? p : -1;
}

static uint64_t at(uint64_t base, uint32_t secs)
{
	return secs == DHCP_INFINITE ? TAPIR_DHCP_INFINITE : base + (uint64_t)secs * NS;
}

/* Make a lease of an ACK.  Return: 0 or -EINVAL (unusable) */
static int lease_from_ack(struct dhcp_client *c, const struct dhcp_repr *r,
			  struct tapir_dhcp_lease *l)
{
	int p = r->has_mask ? mask_prefix(r->mask) : classful_prefix(r->yiaddr);
	uint32_t mask, lease;

	memset(l, 0, sizeof(*l));
	if (!unicast_ok(r->yiaddr) || p < 0 || p > 32 || (p == 0))
		return -EINVAL;
	mask = p ? ~0u << (32 - p) : 0;
	if (p <= 30 && ((r->yiaddr & ~mask) == 0 || (r->yiaddr & ~mask) == ~mask))
		return -EINVAL;
	l->addr = r->yiaddr;
	l->prefix_len = (uint8_t)p;
	if (r->router && unicast_ok(r->router) && r->router != r->yiaddr &&
	    (r->router & mask) == (r->yiaddr & mask) && p < 32)
		l->router = r->router;
	l->ndns = r->ndns;
	memcpy(l->dns, r->dns, sizeof(l->dns));
	memcpy(l->domain, r->domain, sizeof(l->domain));
	l->nsearch = r->nsearch;
	memcpy(l->search, r->search, sizeof(l->search));
	l->mtu = r->has_mtu ? r->mtu : 0;
	l->server = r->has_server_id ? r->server_id : c->server;
	lease = r->has_lease ? r->lease : DHCP_INFINITE;
	if (lease < 1)
		lease = 1;
	l->lease_secs = lease;
	if (lease == DHCP_INFINITE) {
		l->t1_secs = l->t2_secs = DHCP_INFINITE;
	} else {
		uint32_t t1 = lease / 2, t2 = (uint32_t)((uint64_t)lease * 7 / 8);

		if (r->has_t2 && r->t2 < lease)
			t2 = r->t2;
		if (r->has_t1 && r->t1 < t2)
			t1 = r->t1;
		if (t1 > t2)
			t1 = t2;
		l->t1_secs = t1;
		l->t2_secs = t2;
	}
	l->obtained = c->st->now;
	l->t1 = at(c->sent_at, l->t1_secs);
	l->t2 = at(c->sent_at, l->t2_secs);
	l->expiry = at(c->sent_at, l->lease_secs);
	return 0;
}

static void on_ack(struct dhcp_client *c, const struct dhcp_repr *r)
{
	struct tapir_dhcp_lease l;

	if (lease_from_ack(c, r, &l) < 0) {
		CTR_INC(c->st, DHCP_DROP_UNEXPECTED);
		c->stats.rx_dropped++;
		stack_log(c->st, TAPIR_STACK_LOG_WARN, "dhcp: unusable ACK ignored");
		return;
	}
	switch (c->state) {
	case TAPIR_DHCP_REQUESTING:
	case TAPIR_DHCP_REBOOTING:
		c->pending = l;
		start_probe(c);
		return;
	case TAPIR_DHCP_RENEWING:
	case TAPIR_DHCP_REBINDING:
		if (l.addr != c->lease.addr) {
			unbind(c, "server gave another address");
			c->pending = l;
			start_probe(c);
			return;
		}
		bind_lease(c, &l);
		return;
	default:
		CTR_INC(c->st, DHCP_DROP_UNEXPECTED);
		c->stats.rx_dropped++;
	}
}

static void on_nak(struct dhcp_client *c, const struct dhcp_repr *r)
{
	c->stats.naks++;
	unbind(c, "NAK");
	stack_log(c->st, TAPIR_STACK_LOG_INFO, "dhcp: NAK in %s", state_names[c->state]);
	/* RFC 2131 3.1 step 5: restart; a short random wait against NAK storms */
	enter_init(c, rand_ns(c->st, NS));
	(void)r;
}

static void dhcp_rx(void *ctx, const struct tapir_udp_meta *m, const uint8_t *data, size_t len)
{
	struct dhcp_client *c = ctx;
	struct dhcp_repr r;

	CTR_INC(c->st, DHCP_RX);
	if (m->src_port != DHCP_SERVER_PORT || dhcp_repr_parse(&r, data, len) < 0 ||
	    r.op != DHCP_OP_REPLY || r.msg_type == 0 || r.msg_type > DHCP_INFORM) {
		CTR_INC(c->st, DHCP_DROP_MALFORMED);
		c->stats.rx_dropped++;
		return;
	}
	if (r.htype != 1 || r.hlen != 6 || memcmp(r.chaddr, c->st->mac, 6) || r.xid != c->xid) {
		CTR_INC(c->st, DHCP_DROP_NOT_OURS);
		c->stats.rx_dropped++;
		return;
	}
	c->stats.rx[r.msg_type]++;
	switch (r.msg_type) {
	case DHCP_OFFER:
		if (c->state != TAPIR_DHCP_SELECTING || !unicast_ok(r.yiaddr) || !r.has_server_id ||
		    !unicast_ok(r.server_id))
			break;
		c->offered = r.yiaddr;
		c->server = r.server_id;
		set_state(c, TAPIR_DHCP_REQUESTING);
		c->tries = 0;
		send_msg(c, DHCP_REQUEST);
		c->deadline = c->st->now + backoff(c);
		c->tries++;
		return;
	case DHCP_ACK:
		if (c->state == TAPIR_DHCP_REQUESTING && r.has_server_id && r.server_id != c->server)
			break;
		on_ack(c, &r);
		return;
	case DHCP_NAK:
		if (c->state != TAPIR_DHCP_REQUESTING && c->state != TAPIR_DHCP_REBOOTING &&
		    c->state != TAPIR_DHCP_RENEWING && c->state != TAPIR_DHCP_REBINDING)
			break;
		if (c->state == TAPIR_DHCP_REQUESTING && r.has_server_id && r.server_id != c->server)
			break;
		on_nak(c, &r);
		return;
	}
	CTR_INC(c->st, DHCP_DROP_UNEXPECTED);
	c->stats.rx_dropped++;
}

/* ---- the API ---- */

int tapir_dhcp_start(struct tapir_stack *st, const struct tapir_dhcp_config *cfg, uint64_t now)
{
	struct dhcp_client *c;
	size_t hl = cfg->hostname ? strlen(cfg->hostname) : 0;
	int rc;

	if (now > st->now)
		st->now = now;
	if (st->dhcp && st->dhcp->state != TAPIR_DHCP_STOPPED)
		return -EALREADY;
	if (st->cfg.addr || hl > DHCP_HOSTNAME_MAX ||
	    (cfg->client_id && (cfg->client_id_len < 1 || cfg->client_id_len > DHCP_CLIENT_ID_MAX)))
		return -EINVAL;
	c = st->dhcp;
	if (!c) {
		c = calloc(1, sizeof(*c));
		if (!c)
			return -ENOMEM;
	}
	rc = tapir_udp_listen_family(st, DHCP_CLIENT_PORT, TAPIR_AF_INET, dhcp_rx, NULL, c);
	if (rc < 0) {
		if (c != st->dhcp)
			free(c);
		return rc;
	}
	memset(c, 0, sizeof(*c));
	c->st = st;
	c->cfg = *cfg;
	if (hl)
		memcpy(c->hostname, cfg->hostname, hl);
	c->cfg.hostname = c->hostname;
	if (cfg->client_id) {
		memcpy(c->client_id, cfg->client_id, cfg->client_id_len);
		c->client_id_len = cfg->client_id_len;
	} else {	/* RFC 2132 9.14: type 1 (Ethernet) and the MAC */
		c->client_id[0] = 1;
		memcpy(c->client_id + 1, st->mac, 6);
		c->client_id_len = 7;
	}
	c->cfg.client_id = c->client_id;
	st->dhcp = c;
	if (unicast_ok(cfg->reboot_addr)) {
		c->reboot_addr = cfg->reboot_addr;
		set_state(c, TAPIR_DHCP_INIT_REBOOT);
		c->deadline = st->now + rand_ns(st, NS);
	} else {
		enter_init(c, rand_ns(st, NS));
	}
	return 0;
}

void dhcp_free(struct tapir_stack *st)
{
	free(st->dhcp);
	st->dhcp = NULL;
}

void tapir_dhcp_stop(struct tapir_stack *st, bool release, uint64_t now)
{
	struct dhcp_client *c = st->dhcp;

	if (now > st->now)
		st->now = now;
	if (!c || c->state == TAPIR_DHCP_STOPPED)
		return;
	if (release && c->have_lease)
		send_msg(c, DHCP_RELEASE);
	unbind(c, release ? "released" : "stopped");
	tapir_udp_unlisten(st, DHCP_CLIENT_PORT);
	set_state(c, TAPIR_DHCP_STOPPED);
	c->deadline = TAPIR_STACK_NO_DEADLINE;
}

int tapir_dhcp_renew(struct tapir_stack *st, uint64_t now)
{
	struct dhcp_client *c = st->dhcp;

	if (now > st->now)
		st->now = now;
	if (!c || c->state == TAPIR_DHCP_STOPPED)
		return -ENOTCONN;
	if (c->state == TAPIR_DHCP_BOUND || c->state == TAPIR_DHCP_RENEWING ||
	    c->state == TAPIR_DHCP_REBINDING) {
		new_xid(c);
		set_state(c, c->state == TAPIR_DHCP_REBINDING ? TAPIR_DHCP_REBINDING
							      : TAPIR_DHCP_RENEWING);
		send_msg(c, DHCP_REQUEST);
		c->deadline = renew_next(c, c->state == TAPIR_DHCP_RENEWING ? c->lease.t2
									   : c->lease.expiry);
		return 0;
	}
	if (c->state != TAPIR_DHCP_PROBING && c->state != TAPIR_DHCP_DECLINED) {
		enter_init(c, 0);
		dhcp_poll(st);
	}
	return 0;
}

int tapir_dhcp_release(struct tapir_stack *st, uint64_t now)
{
	struct dhcp_client *c = st->dhcp;

	if (now > st->now)
		st->now = now;
	if (!c || c->state == TAPIR_DHCP_STOPPED)
		return -ENOTCONN;
	if (!c->have_lease)
		return -EADDRNOTAVAIL;
	send_msg(c, DHCP_RELEASE);
	unbind(c, "released");
	/* Released: no address until tapir_dhcp_renew() */
	set_state(c, TAPIR_DHCP_INIT);
	c->deadline = TAPIR_STACK_NO_DEADLINE;
	return 0;
}

enum tapir_dhcp_state tapir_dhcp_state(const struct tapir_stack *st)
{
	return st->dhcp ? st->dhcp->state : TAPIR_DHCP_STOPPED;
}

const struct tapir_dhcp_lease *tapir_dhcp_lease(const struct tapir_stack *st)
{
	return st->dhcp && st->dhcp->have_lease ? &st->dhcp->lease : NULL;
}

void tapir_dhcp_get_stats(const struct tapir_stack *st, struct tapir_dhcp_stats *out)
{
	if (st->dhcp)
		*out = st->dhcp->stats;
	else
		memset(out, 0, sizeof(*out));
}

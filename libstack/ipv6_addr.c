/*
 * ipv6_addr.c - our IPv6 addresses (RFC 4862 SLAAC and DAD, RFC 7217 interface
 *               IDs), Router Solicitations, MLDv2 (RFC 3810) and source address
 *               selection (RFC 6724)
 *
 * Theory of operation
 *
 * Addresses live in IPV6_MAX_ADDRS slots: the link-local one (fe80::/64 +
 * an interface ID, always), the static ones of the config (their prefix is
 * on-link) and the SLAAC ones made from Router Advertisements' prefix
 * options with A set and a /64 prefix (RFC 4862 5.5.3, the two-hour rule
 * on valid lifetimes included).  Interface IDs are stable-privacy by default
 * (RFC 7217: SipHash-2-4 keyed by cfg.stable_secret, or a random key, of
 * the prefix, Net_Iface (cfg.net_iface, the interface's name, or the MAC
 * when none is given) and the DAD counter; reserved IDs (RFC 5453) skipped),
 * or modified EUI-64 (RFC 4291 appendix A) when cfg.addr_gen says so.
 *
 * Each address starts TENTATIVE when cfg.dad is on: we join its
 * solicited-node group (an MLDv2 report), wait a random 0..1 s, send one NS
 * from :: (RFC 4862 5.4.2) and, if nothing objects within RetransTimer, it
 * becomes PREFERRED.  An NS from :: or an NA for a tentative address makes
 * it DUPLICATE (NDP_DAD_CONFLICTS, logged); a SLAAC address then tries the
 * next DAD counter (RFC 7217 6, 3 times at most).  Lifetimes: PREFERRED ->
 * DEPRECATED at the preferred lifetime, gone at the valid one
 * (NDP_ADDR_EXPIRED).  Once the link-local address is preferred, with
 * cfg.slaac on, up to 3 Router Solicitations go every 4 s until a default
 * router is known.
 *
 * MLDv2: the groups we report are the solicited-node groups of our
 * addresses (all-nodes is never reported, RFC 3810 6).  Each change sends
 * an unsolicited report twice (Robustness Variable 2) 1 s apart; a query
 * from a link-local source is answered after a random part of its maximum
 * response delay.  Reports go to ff02::16 with hop limit 1 and a Router
 * Alert, from the link-local address or :: while it is tentative.
 *
 * Source selection (RFC 6724 5, the rules a host with one interface needs):
 * the destination itself; the smallest scope not below the destination's;
 * not deprecated; longest matching prefix.  Tentative and duplicate
 * addresses are never candidates.
 */
#include <errno.h>
#include <string.h>

#include "ipv6_internal.h"
#include "tapir/addr.h"
#include "wire/bytes.h"
#include "wire/icmpv6.h"
#include "wire/ipv6.h"

#define RTR_SOLICITATION_INTERVAL (4 * SEC6)
#define MAX_RTR_SOLICITATIONS 3
#define IDGEN_RETRIES 3
#define TWO_HOURS (7200 * SEC6)

static const char *const state_names[] = {
	[TAPIR_IPV6_ADDR_TENTATIVE] = "tentative", [TAPIR_IPV6_ADDR_PREFERRED] = "preferred",
	[TAPIR_IPV6_ADDR_DEPRECATED] = "deprecated", [TAPIR_IPV6_ADDR_DUPLICATE] = "duplicate",
};
static const char *const origin_names[] = {
	[TAPIR_IPV6_ORIGIN_LINK_LOCAL] = "link-local", [TAPIR_IPV6_ORIGIN_STATIC] = "static",
	[TAPIR_IPV6_ORIGIN_SLAAC] = "slaac",
};

const char *tapir_ipv6_addr_state_name(unsigned state)
{
	return state < 4 ? state_names[state] : "?";
}

const char *tapir_ipv6_addr_origin_name(unsigned origin)
{
	return origin < 3 ? origin_names[origin] : "?";
}

static uint64_t lifetime_end(const struct tapir_stack *st, uint32_t secs)
{
	return secs == 0xffffffffu ? UINT64_MAX : st->now + (uint64_t)secs * SEC6;
}

static uint64_t random_below(struct tapir_stack *st, uint64_t max_ns)
{
	return max_ns ? ((uint64_t)stack_random32(st) * 1000) % max_ns : 0;
}

/* ---- interface IDs ---- */

static bool iid_reserved(const uint8_t iid[8])
{
	static const uint8_t zero[8];
	static const uint8_t anycast[7] = { 0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	/* RFC 5453: the subnet-router anycast ID and fdff:ffff:ffff:ff80..ffff */
	return !memcmp(iid, zero, 8) || (!memcmp(iid, anycast, 7) && iid[7] >= 0x80);
}

/* Fill the low 64 bits of @addr (whose prefix is set) */
static void make_iid(struct tapir_stack *st, uint8_t addr[16], uint8_t dad_counter)
{
	struct ipv6_state *s = st->ip6;
	static const uint8_t zero[16];

	if (s->cfg.addr_gen == TAPIR_IPV6_ADDR_GEN_EUI64) {
		addr[8] = st->mac[0] ^ 0x02;
		addr[9] = st->mac[1];
		addr[10] = st->mac[2];
		addr[11] = 0xff;
		addr[12] = 0xfe;
		memcpy(addr + 13, st->mac + 3, 3);
		return;
	}
	for (;; dad_counter++) {
		/* F(Prefix, Net_Iface, DAD_Counter, secret_key) (RFC 7217 5) */
		uint8_t msg[8 + sizeof(s->cfg.net_iface) + 1];
		size_t n = strnlen(s->cfg.net_iface, sizeof(s->cfg.net_iface) - 1);
		uint64_t key[2], h;

		if (memcmp(s->cfg.stable_secret, zero, 16)) {
			memcpy(key, s->cfg.stable_secret, 16);
		} else {
			key[0] = s->secret[0];
			key[1] = s->secret[1];
		}
		memcpy(msg, addr, 8);
		if (n) {
			memcpy(msg + 8, s->cfg.net_iface, n);
		} else {
			memcpy(msg + 8, st->mac, 6);
			n = 6;
		}
		msg[8 + n] = dad_counter;
		h = siphash24(key, msg, 8 + n + 1);
		for (int i = 0; i < 8; i++)
			addr[8 + i] = (uint8_t)(h >> (56 - 8 * i));
		if (!iid_reserved(addr + 8))
			return;
	}
}

/* ---- MLD ---- */

static size_t groups(const struct tapir_stack *st, uint8_t (*out)[16], size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < IPV6_MAX_ADDRS; i++) {
		const struct ipv6_addr_ent *a = &st->ip6->addrs[i];
		uint8_t g[16];
		bool dup = false;

		if (!a->used || a->state == TAPIR_IPV6_ADDR_DUPLICATE)
			continue;
		ipv6_solicited_node(a->addr, g);
		for (size_t k = 0; k < n; k++)
			dup |= !memcmp(out[k], g, 16);
		if (!dup && n < max)
			memcpy(out[n++], g, 16);
	}
	return n;
}

struct bytes_fill {
	const uint8_t *b;
	size_t n;
};

static size_t bytes_fill(uint8_t *buf, size_t size, void *arg)
{
	struct bytes_fill *f = arg;

	(void)size;
	memcpy(buf, f->b, f->n);
	return f->n;
}

static void mld_report(struct tapir_stack *st, uint8_t rtype)
{
	static const uint8_t any[16];
	uint8_t g[NDP_MAX_MCAST][16], msg[8 + 20 * NDP_MAX_MCAST];
	const uint8_t *ll = ipv6_link_local(st);
	struct tapir_ipv6_write_opts o = {
		.src = ll ? ll : any, .hop_limit = 1, .fragment = true, .router_alert = true,
	};
	size_t n = groups(st, g, NDP_MAX_MCAST);
	struct bytes_fill f = { msg, 0 };

	if (!n)
		return;
	f.n = mld2_emit_report(msg, rtype, g, n, o.src, ipv6_all_mldv2);
	if (tapir_ipv6_write(st, &o, ipv6_all_mldv2, IPV6_NH_ICMPV6, f.n, bytes_fill, &f, NULL, 0) == 0)
		CTR_INC(st, NDP_MLD_REPORTS_SENT);
}

/* Groups changed: report now and once more in a second */
static void mld_changed(struct tapir_stack *st)
{
	mld_report(st, MLD2_CHANGE_TO_EXCLUDE);
	st->ip6->mld_unsolicited = 1;
	st->ip6->mld_timer = st->now + SEC6;
}

void mld_query_input(struct tapir_stack *st, const struct tapir_ipv6_rx_meta *m,
		     const uint8_t *msg, size_t len)
{
	struct ipv6_state *s = st->ip6;
	struct mld_query q;
	uint64_t when;

	if (!ipv6_addr_is_link_local(m->src)) {
		CTR_INC(st, NDP_DROP_BAD_SRC);  /* RFC 3810 5.1.14 */
		return;
	}
	if (mld_query_parse(&q, msg, len) < 0) {
		CTR_INC(st, NDP_DROP_MALFORMED);
		return;
	}
	CTR_INC(st, NDP_MLD_QUERIES_RX);
	if (!ipv6_addr_is_unspecified(q.group) && !ipv6_addr_in_group(st, q.group))
		return;
	when = st->now + random_below(st, (uint64_t)q.max_resp_ms * MS);
	if (!s->mld_timer || when < s->mld_timer)
		s->mld_timer = when;
}

/* ---- addresses ---- */

struct ipv6_addr_ent *ipv6_addr_find(struct tapir_stack *st, const uint8_t a[16])
{
	if (!st->ip6)
		return NULL;
	for (size_t i = 0; i < IPV6_MAX_ADDRS; i++)
		if (st->ip6->addrs[i].used && !memcmp(st->ip6->addrs[i].addr, a, 16))
			return &st->ip6->addrs[i];
	return NULL;
}

bool ipv6_addr_in_group(const struct tapir_stack *st, const uint8_t a[16])
{
	if (!memcmp(a, ipv6_all_nodes, 16))
		return true;
	for (size_t i = 0; i < IPV6_MAX_ADDRS; i++) {
		const struct ipv6_addr_ent *e = &st->ip6->addrs[i];
		uint8_t g[16];

		if (!e->used || e->state == TAPIR_IPV6_ADDR_DUPLICATE)
			continue;
		ipv6_solicited_node(e->addr, g);
		if (!memcmp(g, a, 16))
			return true;
	}
	return false;
}

const uint8_t *ipv6_link_local(const struct tapir_stack *st)
{
	for (size_t i = 0; i < IPV6_MAX_ADDRS; i++) {
		const struct ipv6_addr_ent *e = &st->ip6->addrs[i];

		if (e->used && e->origin == TAPIR_IPV6_ORIGIN_LINK_LOCAL &&
		    (e->state == TAPIR_IPV6_ADDR_PREFERRED || e->state == TAPIR_IPV6_ADDR_DEPRECATED))
			return e->addr;
	}
	return NULL;
}

static struct ipv6_addr_ent *addr_add(struct tapir_stack *st, const uint8_t addr[16],
				      uint8_t plen, uint8_t origin, uint64_t preferred,
				      uint64_t valid, uint8_t dad_counter)
{
	struct ipv6_state *s = st->ip6;
	struct ipv6_addr_ent *e = ipv6_addr_find(st, addr);
	char buf[TAPIR_ADDR_STRLEN];
	struct tapir_addr ta = { .family = TAPIR_AF_INET6 };

	if (e)
		return NULL;  /* already ours (say a static address equal to a SLAAC one) */
	for (size_t i = 0; i < IPV6_MAX_ADDRS && !e; i++)
		if (!s->addrs[i].used)
			e = &s->addrs[i];
	if (!e) {
		stack_log(st, TAPIR_STACK_LOG_WARN, "ipv6: no room for another address");
		return NULL;
	}
	memset(e, 0, sizeof(*e));
	memcpy(e->addr, addr, 16);
	e->prefix_len = plen;
	e->origin = origin;
	e->used = true;
	e->dad_counter = dad_counter;
	e->preferred_until = preferred;
	e->valid_until = valid;
	if (s->cfg.dad) {
		e->state = TAPIR_IPV6_ADDR_TENTATIVE;
		e->dad_left = 1;
		e->dad_timer = st->now + random_below(st, SEC6) + 1;
	} else {
		e->state = TAPIR_IPV6_ADDR_PREFERRED;
	}
	CTR_INC(st, NDP_ADDR_ADDED);
	memcpy(ta.v6, addr, 16);
	stack_log(st, TAPIR_STACK_LOG_INFO, "ipv6: address %s/%u (%s)%s",
		  tapir_addr_format(&ta, buf), plen, origin_names[origin],
		  s->cfg.dad ? ", tentative" : "");
	mld_changed(st);
	return e;
}

static void start_rs(struct tapir_stack *st)
{
	if (!st->ip6->cfg.slaac)
		return;
	st->ip6->rs_left = MAX_RTR_SOLICITATIONS;
	st->ip6->rs_timer = st->now + random_below(st, SEC6) + 1;
}

void ipv6_addr_start(struct tapir_stack *st)
{
	struct ipv6_state *s = st->ip6;
	uint8_t ll[16] = { 0xfe, 0x80 };

	make_iid(st, ll, 0);
	addr_add(st, ll, 64, TAPIR_IPV6_ORIGIN_LINK_LOCAL, UINT64_MAX, UINT64_MAX, 0);
	for (size_t i = 0; i < s->cfg.naddrs && i < TAPIR_IPV6_MAX_STATIC; i++)
		addr_add(st, s->cfg.addrs[i].addr, s->cfg.addrs[i].prefix_len,
			 TAPIR_IPV6_ORIGIN_STATIC, UINT64_MAX, UINT64_MAX, 0);
	if (!s->cfg.dad)
		start_rs(st);
}

void ipv6_addr_dad_conflict(struct tapir_stack *st, struct ipv6_addr_ent *e)
{
	char buf[TAPIR_ADDR_STRLEN];
	struct tapir_addr ta = { .family = TAPIR_AF_INET6 };

	CTR_INC(st, NDP_DAD_CONFLICTS);
	memcpy(ta.v6, e->addr, 16);
	stack_log(st, TAPIR_STACK_LOG_WARN, "ipv6: duplicate address %s: another node uses it",
		  tapir_addr_format(&ta, buf));
	e->state = TAPIR_IPV6_ADDR_DUPLICATE;
	e->dad_timer = 0;
	if (e->origin == TAPIR_IPV6_ORIGIN_SLAAC &&
	    st->ip6->cfg.addr_gen == TAPIR_IPV6_ADDR_GEN_STABLE_PRIVACY &&
	    e->dad_counter < IDGEN_RETRIES) {
		uint8_t a[16];

		memcpy(a, e->addr, 16);
		make_iid(st, a, (uint8_t)(e->dad_counter + 1));
		e->used = false;  /* the new address takes its place */
		addr_add(st, a, e->prefix_len, e->origin, e->preferred_until, e->valid_until,
			 (uint8_t)(e->dad_counter + 1));
	}
}

void ipv6_addr_slaac(struct tapir_stack *st, const uint8_t prefix[16], uint8_t len,
		     uint32_t valid, uint32_t preferred)
{
	struct ipv6_state *s = st->ip6;
	uint8_t a[16] = { 0 };

	if (len != 64)
		return;  /* RFC 4862 5.5.3 (d): prefix + 64-bit ID must make 128 */
	for (size_t i = 0; i < IPV6_MAX_ADDRS; i++) {
		struct ipv6_addr_ent *e = &s->addrs[i];
		uint64_t vend = lifetime_end(st, valid), remaining;

		if (!e->used || e->origin != TAPIR_IPV6_ORIGIN_SLAAC ||
		    !ipv6_prefix_eq(e->addr, prefix, 64))
			continue;
		/* 5.5.3 (e): the two-hour rule against a forged short lifetime */
		e->preferred_until = lifetime_end(st, preferred);
		remaining = e->valid_until > st->now ? e->valid_until - st->now : 0;
		if (vend > st->now + TWO_HOURS || vend > e->valid_until)
			e->valid_until = vend;
		else if (remaining > TWO_HOURS)
			e->valid_until = st->now + TWO_HOURS;
		if (e->state == TAPIR_IPV6_ADDR_DEPRECATED && e->preferred_until > st->now)
			e->state = TAPIR_IPV6_ADDR_PREFERRED;
		return;
	}
	if (valid == 0)
		return;
	memcpy(a, prefix, 8);
	make_iid(st, a, 0);
	addr_add(st, a, 64, TAPIR_IPV6_ORIGIN_SLAAC, lifetime_end(st, preferred),
		 lifetime_end(st, valid), 0);
}

static void send_rs(struct tapir_stack *st)
{
	static const uint8_t any[16];
	const uint8_t *ll = ipv6_link_local(st);
	struct tapir_ipv6_write_opts o = { .src = ll ? ll : any, .hop_limit = 255, .fragment = true };
	uint8_t msg[16];
	struct bytes_fill f = { msg, 0 };

	f.n = ndp_emit_rs(msg, ll ? st->mac : NULL, o.src, ipv6_all_routers);
	if (tapir_ipv6_write(st, &o, ipv6_all_routers, IPV6_NH_ICMPV6, f.n, bytes_fill, &f, NULL,
			     0) == 0)
		CTR_INC(st, NDP_RS_SENT);
}

void ipv6_addr_poll(struct tapir_stack *st)
{
	struct ipv6_state *s = st->ip6;
	bool changed = false;

	for (size_t i = 0; i < IPV6_MAX_ADDRS; i++) {
		struct ipv6_addr_ent *e = &s->addrs[i];

		if (!e->used)
			continue;
		if (e->valid_until <= st->now) {
			CTR_INC(st, NDP_ADDR_EXPIRED);
			e->used = false;
			changed = true;
			/* RFC 4862 5.5.4: the address is gone, and its connections with it */
			tcp_reset_laddr6(st, e->addr);
			continue;
		}
		if (e->state == TAPIR_IPV6_ADDR_TENTATIVE && e->dad_timer && e->dad_timer <= st->now) {
			if (e->dad_left) {
				uint8_t sn[16];

				e->dad_left--;
				ipv6_solicited_node(e->addr, sn);
				ndp_send_ns(st, e->addr, NULL, sn);
				e->dad_timer = st->now + (uint64_t)s->retrans_ms * MS;
			} else {
				e->state = TAPIR_IPV6_ADDR_PREFERRED;
				e->dad_timer = 0;
				if (e->origin == TAPIR_IPV6_ORIGIN_LINK_LOCAL) {
					start_rs(st);
					changed = true;  /* reports from the link-local now */
				}
			}
		}
		if (e->state == TAPIR_IPV6_ADDR_PREFERRED && e->preferred_until <= st->now)
			e->state = TAPIR_IPV6_ADDR_DEPRECATED;
	}
	if (s->rs_timer && s->rs_timer <= st->now) {
		struct tapir_ipv6_router_info r;

		if (s->rs_left && tapir_ipv6_router_list(st, &r, 1) == 0) {
			send_rs(st);
			s->rs_left--;
			s->rs_timer = s->rs_left ? st->now + RTR_SOLICITATION_INTERVAL : 0;
		} else {
			s->rs_timer = 0;
		}
	}
	if (changed) {
		mld_changed(st);
	} else if (s->mld_timer && s->mld_timer <= st->now) {
		s->mld_timer = 0;
		if (s->mld_unsolicited) {
			s->mld_unsolicited--;
			mld_report(st, MLD2_CHANGE_TO_EXCLUDE);
		} else {
			mld_report(st, MLD2_MODE_IS_EXCLUDE);
		}
	}
}

uint64_t ipv6_addr_next_deadline(const struct tapir_stack *st)
{
	const struct ipv6_state *s = st->ip6;
	uint64_t d = TAPIR_STACK_NO_DEADLINE;

	for (size_t i = 0; i < IPV6_MAX_ADDRS; i++) {
		const struct ipv6_addr_ent *e = &s->addrs[i];

		if (!e->used)
			continue;
		if (e->valid_until < d)
			d = e->valid_until;
		if (e->state == TAPIR_IPV6_ADDR_TENTATIVE && e->dad_timer && e->dad_timer < d)
			d = e->dad_timer;
		if (e->state == TAPIR_IPV6_ADDR_PREFERRED && e->preferred_until < d)
			d = e->preferred_until;
	}
	if (s->rs_timer && s->rs_timer < d)
		d = s->rs_timer;
	if (s->mld_timer && s->mld_timer < d)
		d = s->mld_timer;
	return d;
}

/* ---- source address selection (RFC 6724 5) ---- */

static unsigned scope_of(const uint8_t a[16])
{
	if (ipv6_addr_is_multicast(a))
		return ipv6_mcast_scope(a);
	if (ipv6_addr_is_link_local(a) || ipv6_addr_is_loopback(a))
		return 2;
	return 14;
}

/* Is @a better than @b as a source for @dst? */
static bool better(const struct ipv6_addr_ent *a, const struct ipv6_addr_ent *b,
		   const uint8_t dst[16])
{
	unsigned sa = scope_of(a->addr), sb = scope_of(b->addr), sd = scope_of(dst);
	bool da = a->state == TAPIR_IPV6_ADDR_DEPRECATED, db = b->state == TAPIR_IPV6_ADDR_DEPRECATED;

	if (sa != sb) {  /* rule 2 */
		if (sa < sb)
			return sa >= sd;
		return sb < sd;
	}
	if (da != db)    /* rule 3 */
		return db;
	return ipv6_common_prefix(a->addr, dst) > ipv6_common_prefix(b->addr, dst); /* rule 8 */
}

int tapir_ipv6_select_source(const struct tapir_stack *st, const uint8_t dst[16],
			     uint8_t src[16])
{
	const struct ipv6_addr_ent *best = NULL;

	if (!st->ip6)
		return -EADDRNOTAVAIL;
	for (size_t i = 0; i < IPV6_MAX_ADDRS; i++) {
		const struct ipv6_addr_ent *e = &st->ip6->addrs[i];

		if (!e->used || (e->state != TAPIR_IPV6_ADDR_PREFERRED &&
				 e->state != TAPIR_IPV6_ADDR_DEPRECATED))
			continue;
		if (!memcmp(e->addr, dst, 16)) {  /* rule 1 */
			best = e;
			break;
		}
		if (!best || better(e, best, dst))
			best = e;
	}
	if (!best)
		return -EADDRNOTAVAIL;
	memcpy(src, best->addr, 16);
	return 0;
}

size_t tapir_ipv6_addr_list(const struct tapir_stack *st, struct tapir_ipv6_addr_info *out,
			    size_t max)
{
	size_t k = 0;

	if (!st->ip6)
		return 0;
	for (size_t i = 0; i < IPV6_MAX_ADDRS && k < max; i++) {
		const struct ipv6_addr_ent *e = &st->ip6->addrs[i];

		if (!e->used)
			continue;
		memcpy(out[k].addr, e->addr, 16);
		out[k].prefix_len = e->prefix_len;
		out[k].state = e->state;
		out[k].origin = e->origin;
		out[k].preferred_until = e->preferred_until;
		out[k].valid_until = e->valid_until;
		k++;
	}
	return k;
}

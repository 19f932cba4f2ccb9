/*
 * ipv6_internal.h - IPv6 state shared by ipv6.c, icmpv6.c, ndp.c and ipv6_addr.c
 *
 * One struct ipv6_state per stack (st->ip6), allocated by ipv6_init() when
 * IPv6 is enabled.  Every table is a fixed-size array sized at creation:
 * neighbours (cfg.neigh_cache_size), routers, prefixes, redirects, addresses,
 * path MTUs; a full table drops (and counts) or replaces its oldest entry.
 */
#ifndef TAPIR_IPV6_INTERNAL_H
#define TAPIR_IPV6_INTERNAL_H

#include "internal.h"
#include "tapir/ipv6.h"

#define IPV6_MAX_ADDRS 16
#define IPV6_MAX_ROUTERS 8
#define IPV6_MAX_PREFIXES 16
#define IPV6_MAX_REDIRECTS 64
#define IPV6_PMTU_SLOTS 128
#define NDP_PENDING_PER_ADDR 3
#define NDP_PENDING_BYTES (512 * 1024)
#define NDP_MAX_MCAST 32

#define MS ((uint64_t)1000000)
#define SEC6 ((uint64_t)1000000000)

/* A packet waiting for its next hop's MAC: the upper-layer payload, copied */
struct ndp_pending {
	struct ndp_pending *next;
	struct tapir_ipv6_write_opts opts;
	uint8_t src[16], dst[16];
	bool has_src;
	uint8_t proto;
	size_t len;
	uint8_t data[];
};

struct ndp_neigh {
	uint8_t ip[16];
	uint8_t mac[6];
	uint8_t state;            /* enum tapir_ndp_state, 0 = free */
	bool router;
	uint8_t probes;           /* solicitations sent in this state */
	uint64_t timer;           /* when the state's timer fires (0 = none) */
	uint64_t used;            /* last use, for replacement */
	struct ndp_pending *pending;
	size_t npending;
};

struct ndp_router {
	uint8_t addr[16];         /* link-local */
	uint64_t expires;         /* 0 = free slot; UINT64_MAX = static */
};

struct ndp_onlink {
	uint8_t prefix[16];
	uint8_t len;
	uint64_t expires;         /* 0 = free */
};

struct ndp_redirect {
	uint8_t dst[16], target[16];
	uint64_t expires;         /* 0 = free */
};

struct ipv6_addr_ent {
	uint8_t addr[16];
	uint8_t prefix_len;
	uint8_t state;            /* enum tapir_ipv6_addr_state */
	uint8_t origin;
	bool used;
	uint8_t dad_left;         /* DAD probes still to send */
	uint8_t dad_counter;      /* RFC 7217 DAD_Counter */
	uint64_t dad_timer;       /* next DAD step, 0 = none */
	uint64_t preferred_until, valid_until;
};

struct ipv6_pmtu {
	uint8_t dst[16];
	uint32_t mtu;
	uint64_t expires;         /* 0 = free */
};

struct ipv6_proto {
	tapir_ipv6_proto_fn rx;
	tapir_ipv6_icmp_err_fn err;
	void *ctx;
};

struct ipv6_state {
	struct tapir_ipv6_config cfg;
	uint8_t hop_limit;
	uint32_t link_mtu;        /* device MTU, or lower from an RA's MTU option */
	uint32_t base_reachable_ms, reachable_ms, retrans_ms;
	uint64_t secret[2];       /* RFC 7217 key and fragment IDs */
	uint32_t frag_ids[256];
	struct reasm *reasm;
	struct ipv6_proto protos[256];
	struct ipv6_pmtu pmtu[IPV6_PMTU_SLOTS];

	/* ICMPv6 errors: token bucket (icmpv6.c) */
	uint64_t err_tokens, err_refill;
	/* echo replies for a pinger above the stack (icmpv6.c) */
	tapir_icmpv6_echo_reply_fn echo_reply;
	void *echo_reply_ctx;

	/* NDP (ndp.c) */
	struct ndp_neigh *neigh;
	size_t nneigh;            /* slots */
	size_t pending_bytes;
	struct ndp_router routers[IPV6_MAX_ROUTERS];
	struct ndp_onlink onlink[IPV6_MAX_PREFIXES];
	struct ndp_redirect redirects[IPV6_MAX_REDIRECTS];
	uint8_t rdnss[4][16];
	size_t nrdnss;
	uint64_t rdnss_expires;

	/* addresses, RS, MLD (ipv6_addr.c) */
	struct ipv6_addr_ent addrs[IPV6_MAX_ADDRS];
	uint8_t rs_left;
	uint64_t rs_timer;
	uint64_t mld_timer;       /* pending report (unsolicited or a query's answer) */
	uint8_t mld_unsolicited;  /* unsolicited reports still to send (RFC 3810 robustness) */
};

/* ipv6.c */
int ipv6_init(struct tapir_stack *st);
void ipv6_free(struct tapir_stack *st);
void ipv6_input(struct tapir_stack *st, const uint8_t *pkt, size_t len, bool link_multicast,
		unsigned flags);
void ipv6_poll(struct tapir_stack *st);
uint64_t ipv6_next_deadline(const struct tapir_stack *st);
void ipv6_start(struct tapir_stack *st);
/* Record a Packet Too Big: never below 1280, never raises.  Return: the new MTU */
uint32_t ipv6_pmtu_update(struct tapir_stack *st, const uint8_t dst[16], uint32_t mtu);
/* Send a built upper-layer payload from a queue (ndp.c) */
int ipv6_send_pending(struct tapir_stack *st, const struct ndp_pending *p, const uint8_t mac[6]);
/* Walk the extension headers of a (possibly truncated) packet at @pkt to its
 * upper layer.  Return: the upper-layer protocol with *@off its offset, or -1 */
int ipv6_upper_layer(const uint8_t *pkt, size_t len, size_t *off);
/* Is @a one of our addresses in a usable state (not tentative/duplicate)? */
bool ipv6_is_our_addr(const struct tapir_stack *st, const uint8_t a[16]);

/* icmpv6.c */
void icmpv6_input(struct tapir_stack *st, const struct tapir_ipv6_rx_meta *m, const uint8_t *msg,
		  size_t len);
/*
 * icmpv6_send_error() - An ICMPv6 error about @pkt (@len bytes from its IPv6
 * header), unless RFC 4443 2.4 (e) forbids it or the rate limit says no.
 * @link_multicast: the packet came as a link-layer multicast/broadcast
 */
void icmpv6_send_error(struct tapir_stack *st, uint8_t type, uint8_t code, uint32_t info,
		       const uint8_t *pkt, size_t len, bool link_multicast);

/* ndp.c */
int ndp_init(struct tapir_stack *st);
void ndp_free(struct tapir_stack *st);
void ndp_input(struct tapir_stack *st, const struct tapir_ipv6_rx_meta *m, const uint8_t *msg,
	       size_t len);
void ndp_poll(struct tapir_stack *st);
uint64_t ndp_next_deadline(const struct tapir_stack *st);
/* Return: 0 with @mac, -EAGAIN: queue with ndp_queue(); other negative errno */
int ndp_resolve(struct tapir_stack *st, const uint8_t ip[16], uint8_t mac[6]);
int ndp_queue(struct tapir_stack *st, const uint8_t nexthop[16], struct ndp_pending *p);
/* Next hop for @dst: on-link, redirect or default router.  Return: 0 or -ENETUNREACH */
int ndp_next_hop(const struct tapir_stack *st, const uint8_t dst[16], uint8_t hop[16]);
bool ndp_on_link(const struct tapir_stack *st, const uint8_t dst[16]);
/* Send an NS for @target: from @src (NULL = ::) to @dst */
void ndp_send_ns(struct tapir_stack *st, const uint8_t target[16], const uint8_t *src,
		 const uint8_t dst[16]);
/* A router stopped being one (NA with R = 0, lifetime 0) */
void ndp_router_remove(struct tapir_stack *st, const uint8_t addr[16]);
void ndp_router_add(struct tapir_stack *st, const uint8_t addr[16], uint64_t expires);
void ndp_onlink_add(struct tapir_stack *st, const uint8_t prefix[16], uint8_t len,
		    uint64_t expires);

/* ipv6_addr.c */
void ipv6_addr_start(struct tapir_stack *st);
void ipv6_addr_poll(struct tapir_stack *st);
uint64_t ipv6_addr_next_deadline(const struct tapir_stack *st);
/* Our address entry for @a in any state, or NULL */
struct ipv6_addr_ent *ipv6_addr_find(struct tapir_stack *st, const uint8_t a[16]);
/* Is @a a group we listen to (all-nodes, a solicited-node group of ours)? */
bool ipv6_addr_in_group(const struct tapir_stack *st, const uint8_t a[16]);
/* DAD found @a in use (an NS from :: or an NA for a tentative address) */
void ipv6_addr_dad_conflict(struct tapir_stack *st, struct ipv6_addr_ent *e);
/* A prefix information option with A set (RFC 4862 5.5.3) */
void ipv6_addr_slaac(struct tapir_stack *st, const uint8_t prefix[16], uint8_t len,
		     uint32_t valid, uint32_t preferred);
void mld_query_input(struct tapir_stack *st, const struct tapir_ipv6_rx_meta *m,
		     const uint8_t *msg, size_t len);
/* The link-local address if preferred, else NULL */
const uint8_t *ipv6_link_local(const struct tapir_stack *st);

#endif /* TAPIR_IPV6_INTERNAL_H */

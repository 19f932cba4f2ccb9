/*
 * stack.c - stack lifetime, the host-facing entry points, counters and helpers
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "ipv6_internal.h"
#include "tapir/udp.h"
#include "wire/eth.h"

static const char *const counter_names[] = {
#define X(id, name) [TAPIR_CTR_##id] = name,
	TAPIR_STACK_COUNTERS(X)
#undef X
};
static_assert(sizeof(counter_names) / sizeof(counter_names[0]) == TAPIR_CTR__COUNT,
	      "every counter has a name");

const char *tapir_stack_counter_name(enum tapir_stack_counter c)
{
	if ((unsigned)c >= TAPIR_CTR__COUNT)
		return "?";
	return counter_names[c];
}

uint64_t tapir_stack_counter(const struct tapir_stack *st, enum tapir_stack_counter c)
{
	if ((unsigned)c >= TAPIR_CTR__COUNT)
		return 0;
	return st->ctr[c];
}

void tapir_stack_stats(const struct tapir_stack *st, uint64_t out[TAPIR_CTR__COUNT])
{
	memcpy(out, st->ctr, sizeof(st->ctr));
}

void tapir_stack_config_defaults(struct tapir_stack_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->prefix_len = 24;
	cfg->default_ttl = 64;
	cfg->arp_cache_size = 1024;
	cfg->arp_timeout_ns = 60 * TAPIR_STACK_NS_PER_SEC;
	cfg->arp_pending_per_addr = 3;
	cfg->arp_pending_bytes = 256 * 1024;
	cfg->reasm_max_bytes = 4 * 1024 * 1024;
	cfg->reasm_timeout_ns = 30 * TAPIR_STACK_NS_PER_SEC;
	cfg->icmp_error_rate = 100;
	cfg->icmp_error_burst = 50;
	cfg->pmtu_cache_size = 256;
	cfg->pmtu_timeout_ns = 600 * TAPIR_STACK_NS_PER_SEC;
	cfg->min_pmtu = 552;
	tapir_tcp_config_defaults(&cfg->tcp);
	cfg->ipv6.slaac = true;
	cfg->ipv6.dad = true;
	cfg->ipv6.hop_limit = 64;
	cfg->ipv6.reasm_max_bytes = 4 * 1024 * 1024;
	cfg->ipv6.reasm_timeout_ns = 60 * TAPIR_STACK_NS_PER_SEC;
	cfg->ipv6.neigh_cache_size = 256;
}

void stack_log(struct tapir_stack *st, enum tapir_stack_log_level level, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (!st->cfg.log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	st->cfg.log(st->cfg.log_ctx, level, msg);
}

uint32_t stack_random32(struct tapir_stack *st)
{
	uint32_t v = 0;

	st->cfg.random(st->cfg.random_ctx, &v, sizeof(v));
	return v;
}

/*
 * The subnet of cfg.addr/prefix_len.  Without an address nothing is on our
 * link (a /32 around 0.0.0.0) and only 255.255.255.255 is a broadcast.
 */
static void stack_set_net(struct tapir_stack *st)
{
	if (!st->cfg.addr) {
		st->netmask = ~0u;
		st->bcast = 0;
		return;
	}
	st->netmask = st->cfg.prefix_len ? ~0u << (32 - st->cfg.prefix_len) : 0;
	st->bcast = st->cfg.prefix_len <= 30 ? (st->cfg.addr | ~st->netmask) : 0;
}

static int config_check(const struct tapir_stack_config *cfg, const struct tapir_netif *nif)
{
	if (!cfg->random || !nif || !nif->ops || !nif->ops->write || !nif->ops->mtu ||
	    !nif->ops->mac)
		return -EINVAL;
	if (cfg->prefix_len > 32 || cfg->default_ttl == 0 || (cfg->addr == 0 && cfg->gateway))
		return -EINVAL;
	if (cfg->arp_cache_size == 0 || cfg->arp_cache_size > (1u << 24))
		return -EINVAL;
	if (cfg->pmtu_cache_size == 0 || cfg->pmtu_cache_size > 65536)
		return -EINVAL;
	if (cfg->min_pmtu && (cfg->min_pmtu < 68 || cfg->min_pmtu > 65535))
		return -EINVAL;
	return 0;
}

int tapir_stack_new(struct tapir_stack **out, const struct tapir_stack_config *cfg,
		    const struct tapir_netif *nif, uint64_t now)
{
	struct tapir_stack *st;
	int rc = config_check(cfg, nif);

	if (rc < 0)
		return rc;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->cfg = *cfg;
	if (!st->cfg.min_pmtu)
		st->cfg.min_pmtu = 552;
	st->nif = *nif;
	st->now = now;
	st->nif.ops->mac(st->nif.dev, st->mac);
	st->mtu = st->nif.ops->mtu(st->nif.dev);
	if (st->mtu < 68 || st->mtu > 65535 - ETH_HDR_LEN || eth_addr_is_multicast(st->mac) ||
	    eth_addr_is_zero(st->mac)) {
		free(st);
		return -EINVAL;
	}
	st->dev_mtu = st->mtu;
	stack_set_net(st);
	if (cfg->gateway && !stack_on_link(st, cfg->gateway)) {
		free(st);
		return -EINVAL;
	}
	rc = arp_init(st);
	if (rc == 0) {
		rc = ipv4_init(st);
		if (rc < 0)
			arp_free(st);
	}
	/* IPv6 before the transports, so that they can register with it */
	if (rc == 0) {
		rc = ipv6_init(st);
		if (rc < 0) {
			ipv4_free(st);
			arp_free(st);
		}
	}
	if (rc == 0) {
		rc = udp_init(st);
		if (rc < 0) {
			ipv6_free(st);
			ipv4_free(st);
			arp_free(st);
		}
	}
	if (rc == 0) {
		rc = tcp_init(st);
		if (rc < 0) {
			ipv6_free(st);
			ipv4_free(st);
			arp_free(st);
		}
	}
	if (rc < 0) {
		free(st);
		return rc;
	}
	st->icmp_tokens = (uint64_t)cfg->icmp_error_burst * TAPIR_STACK_NS_PER_SEC;
	st->icmp_refill = now;
	*out = st;
	return 0;
}

void tapir_stack_free(struct tapir_stack *st)
{
	if (!st)
		return;
	dhcp_free(st);
	tcp_fini(st);
	udp_free_all(st);
	ipv6_free(st);
	ipv4_free(st);
	arp_free(st);
	free(st);
}

void tapir_stack_set_offload(struct tapir_stack *st, const struct tapir_netif_offload *off)
{
	st->tso = st->tso6 = false;
	memset(&st->off, 0, sizeof(st->off));
	if (!off || !off->ops || !off->ops->offloads || !off->ops->set_gso)
		return;
	st->off = *off;
	st->tso = (off->ops->offloads(off->dev) & TAPIR_NETIF_OFF_TSO4) != 0;
	st->tso6 = (off->ops->offloads(off->dev) & TAPIR_NETIF_OFF_TSO6) != 0;
}

void tapir_stack_start(struct tapir_stack *st, uint64_t now)
{
	st->now = now;
	if (st->cfg.addr)
		arp_announce(st);
	ipv6_start(st);
}

void tapir_stack_input(struct tapir_stack *st, const uint8_t *frame, size_t len, unsigned flags,
		 uint64_t now)
{
	if (now > st->now)
		st->now = now;
	eth_input(st, frame, len, flags);
}

void tapir_stack_poll(struct tapir_stack *st, uint64_t now)
{
	if (now > st->now)
		st->now = now;
	arp_poll(st);
	ipv4_poll(st);
	ipv6_poll(st);
	tcp_poll(st);
	dhcp_poll(st);
}

uint64_t tapir_stack_next_deadline(const struct tapir_stack *st)
{
	uint64_t a = st->arp.deadline, b = ipv4_next_deadline(st), c = tcp_next_deadline(st);
	uint64_t d = dhcp_next_deadline(st), e = ipv6_next_deadline(st);

	if (e < d)
		d = e;

	if (b < a)
		a = b;
	if (d < a)
		a = d;
	return c < a ? c : a;
}

void tapir_stack_flush(struct tapir_stack *st)
{
	if (st->nif.ops->flush)
		st->nif.ops->flush(st->nif.dev);
}

uint32_t tapir_stack_addr(const struct tapir_stack *st)
{
	return st->cfg.addr;
}

uint8_t tapir_stack_prefix_len(const struct tapir_stack *st)
{
	return st->cfg.prefix_len;
}

uint32_t tapir_stack_gateway(const struct tapir_stack *st)
{
	return st->cfg.gateway;
}

size_t tapir_stack_mtu(const struct tapir_stack *st)
{
	return st->mtu;
}

int tapir_stack_set_addr(struct tapir_stack *st, uint32_t addr, uint8_t prefix_len,
			 uint32_t gateway)
{
	uint32_t old = st->cfg.addr;
	char a[16];

	if (!addr)
		prefix_len = 0, gateway = 0;
	if (prefix_len > 32)
		return -EINVAL;
	if (gateway) {
		uint32_t mask = prefix_len ? ~0u << (32 - prefix_len) : 0;

		if (prefix_len == 32 || gateway == addr || (gateway & mask) != (addr & mask))
			return -EINVAL;
	}
	/* The RSTs go out from the old address, while it is still ours */
	if (old && old != addr)
		tcp_reset_laddr(st, old);
	st->cfg.addr = addr;
	st->cfg.prefix_len = prefix_len;
	st->cfg.gateway = gateway;
	stack_set_net(st);
	if (old == addr)
		return 0;
	stack_log(st, TAPIR_STACK_LOG_INFO, "address is now %s/%u",
		  tapir_ipv4_addr_format(addr, a), prefix_len);
	tapir_arp_flush(st);
	if (addr)
		arp_announce(st);
	return 0;
}

void tapir_stack_mac(const struct tapir_stack *st, uint8_t mac[6])
{
	memcpy(mac, st->mac, 6);
}

size_t tapir_stack_reasm_list(const struct tapir_stack *st, struct tapir_reasm_info *out,
			      size_t max)
{
	size_t n = st->reasm ? reasm_list(st->reasm, out, max) : 0;

	if (st->ip6 && st->ip6->reasm && n < max)
		n += reasm_list(st->ip6->reasm, out + n, max - n);
	return n;
}

size_t tapir_udp_list(const struct tapir_stack *st, uint16_t *ports, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < st->nudp && n < max; i++)
		ports[n++] = st->udp[i].port;
	return n;
}

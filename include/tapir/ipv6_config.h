/*
 * ipv6_config.h - IPv6 settings of a stack (part of struct tapir_stack_config)
 */
#ifndef TAPIR_IPV6_CONFIG_H
#define TAPIR_IPV6_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TAPIR_IPV6_MAX_STATIC 8

enum tapir_ipv6_addr_gen {
	TAPIR_IPV6_ADDR_GEN_STABLE_PRIVACY = 0, /* RFC 7217 interface IDs */
	TAPIR_IPV6_ADDR_GEN_EUI64 = 1,          /* modified EUI-64 from the MAC (RFC 4291 A) */
};

/* An address with its prefix length (the address in network order) */
struct tapir_ipv6_prefix {
	uint8_t addr[16];
	uint8_t prefix_len;
};

/**
 * struct tapir_ipv6_config - IPv6 of a stack (tapir_stack_config_defaults() fills it)
 * @enabled:          IPv6 on (default false in the library; tapird turns it on)
 * @addrs:            Static addresses with their on-link prefix, @naddrs of them
 * @gateway:          Static default router (link-local or on-link), if @gateway_set
 * @slaac:            Addresses from Router Advertisements (RFC 4862), default true
 * @addr_gen:         How SLAAC and the link-local address make interface IDs
 * @stable_secret:    Key of the RFC 7217 IDs; all zero = random at stack creation
 *                    (then the IDs change with every stack: keep a secret for
 *                    stable addresses, as tapird does in its state directory)
 * @net_iface:        RFC 7217's Net_Iface, a stable name of the interface
 *                    (tapird: the interface's name), NUL-terminated; "" = the
 *                    MAC (stable only when the MAC is)
 * @dad:              Duplicate Address Detection (RFC 4862 5.4), default true
 * @hop_limit:        Hop limit of what we send, 64 (an RA may set another)
 * @reasm_max_bytes:  Reassembly memory cap, 4 MiB (its own, not IPv4's)
 * @reasm_timeout_ns: Reassembly timeout, 60 s (RFC 8200 4.5)
 * @neigh_cache_size: Neighbour cache entries, 256
 */
struct tapir_ipv6_config {
	bool enabled;
	struct tapir_ipv6_prefix addrs[TAPIR_IPV6_MAX_STATIC];
	size_t naddrs;
	uint8_t gateway[16];
	bool gateway_set;
	bool slaac;
	int addr_gen;                 /* enum tapir_ipv6_addr_gen */
	uint8_t stable_secret[16];
	char net_iface[16];
	bool dad;
	uint8_t hop_limit;
	size_t reasm_max_bytes;
	uint64_t reasm_timeout_ns;
	size_t neigh_cache_size;
};

#endif /* TAPIR_IPV6_CONFIG_H */

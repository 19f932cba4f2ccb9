/*
 * stack.h - libstack's public API: a sans-I/O Ethernet/ARP/IPv4/ICMP/UDP stack
 *
 * Theory of operation
 *
 * The host drives the stack.  It passes every received frame to
 * tapir_stack_input(), calls tapir_stack_poll() when the time returned by
 * tapir_stack_next_deadline() has come, and supplies time (a monotonic nanosecond
 * count) and randomness.  The stack never calls the operating system: frames
 * go out through the struct tapir_netif it was created with.  There is no global
 * state; any number of stacks may live in one process.
 *
 * Layers and their write path (after MirageOS 3.5):
 *   tapir_eth_write()  -> netif write: Ethernet header, then @fill at offset 14
 *   tapir_ipv4_write() -> routes (ARP for on-link, else gateway), fragments, DF
 *   tapir_udp_sendto() -> tapir_ipv4_write (or tapir_ipv6_write) with the UDP header
 *                         filled, data as an iovec (udp.h)
 *
 * Memory is bounded by struct tapir_stack_config; when a bound is hit the packet is
 * dropped and a counter says why (see counters.h and tapir_stack_stats()).
 *
 * Addresses are IPv4 addresses in host byte order.  Errors are negative errno
 * values; a function that takes a callback and returns an error never calls it.
 */
#ifndef TAPIR_STACK_H
#define TAPIR_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "counters.h"
#include "ipv6_config.h"
#include "netif.h"
#include "tcp_config.h"

#define TAPIR_STACK_NS_PER_SEC 1000000000ull
#define TAPIR_STACK_NO_DEADLINE UINT64_MAX

struct tapir_stack;

enum tapir_stack_log_level {
	TAPIR_STACK_LOG_ERR,
	TAPIR_STACK_LOG_WARN,
	TAPIR_STACK_LOG_INFO,
	TAPIR_STACK_LOG_DEBUG
};

struct tapir_stack_config {
	uint32_t addr;              /* our address (host order); 0: none yet (DHCP,
				     * tapir_stack_set_addr()); then no gateway */
	uint8_t prefix_len;         /* 0..32, default 24 */
	uint32_t gateway;           /* 0 = no default route */
	uint8_t default_ttl;        /* 64 */
	size_t arp_cache_size;      /* entries, 1024 */
	uint64_t arp_timeout_ns;    /* entry lifetime, 60 s */
	size_t arp_pending_per_addr;/* packets queued per unresolved address, 3 */
	size_t arp_pending_bytes;   /* all queued packets together, 256 KiB */
	size_t reasm_max_bytes;     /* reassembly memory cap, 4 MiB */
	uint64_t reasm_timeout_ns;  /* 30 s */
	uint32_t icmp_error_rate;   /* ICMP errors per second, 100 */
	uint32_t icmp_error_burst;  /* bucket size, 50 */
	size_t pmtu_cache_size;     /* path-MTU entries, 256 */
	uint64_t pmtu_timeout_ns;   /* 10 min (RFC 1191) */
	uint32_t min_pmtu;          /* floor of a learned path MTU, 552 (Linux's
				     * ip_rt_min_pmtu); 68..65535, 0 = 552.  A
				     * report below it gives min_pmtu without DF */
	struct tapir_tcp_config tcp;      /* TCP defaults (tcp_config.h) */
	struct tapir_ipv6_config ipv6;    /* IPv6 (ipv6_config.h; off by default) */
	/* Fill @len bytes with random bytes; required. */
	void (*random)(void *ctx, void *buf, size_t len);
	void *random_ctx;
	/* Optional logger; @msg is valid during the call only. */
	void (*log)(void *ctx, enum tapir_stack_log_level level, const char *msg);
	void *log_ctx;
};

/* Fill @cfg with the defaults above (addr left 0, random/log NULL). */
void tapir_stack_config_defaults(struct tapir_stack_config *cfg);

/**
 * tapir_stack_new() - Create a stack on a network interface
 * @out: Where to store the new stack
 * @cfg: Configuration (copied)
 * @nif: Device (copied; the device must outlive the stack)
 * @now: Current time, ns
 *
 * Return: 0, or -EINVAL for a bad configuration, -ENOMEM
 */
int tapir_stack_new(struct tapir_stack **out, const struct tapir_stack_config *cfg,
		    const struct tapir_netif *nif, uint64_t now);

/* Free the stack and everything it holds.  NULL is allowed. */
void tapir_stack_free(struct tapir_stack *st);

/**
 * tapir_stack_set_offload() - Use the device's offloads (netif.h)
 * @st:  Stack, before any TCP connection exists
 * @off: The device's offload ops (copied; the device must outlive the
 *       stack), or NULL for none
 *
 * With TAPIR_NETIF_OFF_TSO4 (TAPIR_NETIF_OFF_TSO6), TCP over IPv4 (IPv6) sends new
 * data in super-segments of up to 64 KiB (whole MSS-sized segments within the
 * windows); retransmissions stay one MSS.
 */
void tapir_stack_set_offload(struct tapir_stack *st, const struct tapir_netif_offload *off);

/* Announce ourselves: send a gratuitous ARP.  Call once after tapir_stack_new(). */
void tapir_stack_start(struct tapir_stack *st, uint64_t now);

/**
 * tapir_stack_input() - Process one received Ethernet frame
 * @st:    Stack
 * @frame: Frame, Ethernet header included; lent for this call only
 * @len:   Length of @frame (a TAPIR_NETIF_RX_GSO frame may exceed the MTU)
 * @flags: NETIF_RX_* (netif.h) the device reported: checksum already good or
 *         partial, GSO; 0 when it says nothing
 * @now:   Current time, ns
 *
 * The flags cover the TCP or UDP checksum of an unfragmented datagram only;
 * the IP header checksum is always verified.
 */
void tapir_stack_input(struct tapir_stack *st, const uint8_t *frame, size_t len, unsigned flags,
		 uint64_t now);

/* Run the timers that are due at @now (ARP, reassembly, ...). */
void tapir_stack_poll(struct tapir_stack *st, uint64_t now);

/* Return: time of the next timer, or TAPIR_STACK_NO_DEADLINE when none is armed */
uint64_t tapir_stack_next_deadline(const struct tapir_stack *st);

/* Flush frames written since the last flush (calls the netif's flush). */
void tapir_stack_flush(struct tapir_stack *st);

/* Counters */
const char *tapir_stack_counter_name(enum tapir_stack_counter c);
uint64_t tapir_stack_counter(const struct tapir_stack *st, enum tapir_stack_counter c);
/* Copy all counters into @out (TAPIR_CTR__COUNT entries). */
void tapir_stack_stats(const struct tapir_stack *st, uint64_t out[TAPIR_CTR__COUNT]);

/* Addresses and helpers */
uint32_t tapir_stack_addr(const struct tapir_stack *st);    /* 0: none (yet) */
uint8_t tapir_stack_prefix_len(const struct tapir_stack *st);
uint32_t tapir_stack_gateway(const struct tapir_stack *st); /* 0: none */
/* Return: the MTU IP uses (the device's, or lower: DHCP's option 26) */
size_t tapir_stack_mtu(const struct tapir_stack *st);

/**
 * tapir_stack_set_addr() - Change our address at run time
 * @st:         Stack
 * @addr:       The new address, or 0 for none (only broadcasts from
 *              0.0.0.0 can then be sent, and only broadcasts received)
 * @prefix_len: 0..32 (ignored when @addr is 0)
 * @gateway:    Default router on the new subnet, or 0
 *
 * When the address changes, every TCP flow bound to the old one is reset
 * (an RST to the peer, the app's closed callback with -EADDRNOTAVAIL), the
 * ARP cache is flushed, and the new address is announced (gratuitous ARP).
 * The DHCP client (dhcp.h) calls it; a host may call it for static changes.
 *
 * Return: 0, or -EINVAL (a gateway off the subnet, a bad prefix)
 */
int tapir_stack_set_addr(struct tapir_stack *st, uint32_t addr, uint8_t prefix_len,
			 uint32_t gateway);
void tapir_stack_mac(const struct tapir_stack *st, uint8_t mac[6]);
/* The reassembly tables, for listings (ipv4_reasm.h): IPv4's entries, then
 * IPv6's (@family says which).  Return: entries copied */
struct tapir_reasm_info;
size_t tapir_stack_reasm_list(const struct tapir_stack *st, struct tapir_reasm_info *out,
			      size_t max);
/* Address text, defined in wire/ipv4.c (declared in wire/ipv4.h too).
 * Parse "a.b.c.d" (no leading zeros) into host order.  Return: 0 or -EINVAL */
int tapir_ipv4_addr_parse(const char *s, uint32_t *out);
/* Format into @buf (at least 16 bytes).  Return: @buf */
char *tapir_ipv4_addr_format(uint32_t addr, char *buf);

/* ---- Ethernet ---- */

#define TAPIR_ETHERTYPE_IPV4 0x0800
#define TAPIR_ETHERTYPE_ARP 0x0806
#define TAPIR_ETHERTYPE_IPV6 0x86DD

/**
 * tapir_eth_write() - Write one Ethernet frame
 * @st:        Stack
 * @src:       Source MAC, or NULL for ours
 * @dst:       Destination MAC
 * @ethertype: EtherType
 * @size:      Payload bytes to lend to @fill; 0 = the MTU
 * @fill:      Writes the payload from offset 0 (the header is invisible to it)
 * @ctx:       Passed to @fill
 *
 * Return: 0, -EMSGSIZE if @size exceeds the MTU, or the device's error
 */
int tapir_eth_write(struct tapir_stack *st, const uint8_t *src, const uint8_t dst[6],
		    uint16_t ethertype, size_t size, tapir_netif_fill_fn fill, void *ctx);

/* ---- IPv4 ---- */

#define TAPIR_IP_PROTO_ICMP 1
#define TAPIR_IP_PROTO_TCP 6
#define TAPIR_IP_PROTO_UDP 17

struct tapir_stack_iov {
	const void *base;
	size_t len;
};

struct tapir_ipv4_write_opts {
	bool fragment;  /* true: fragment when needed; false: set DF, -EMSGSIZE if too big */
	uint8_t ttl;    /* 0 = the default TTL */
	uint32_t src;   /* 0 = our address */
	uint8_t tos;
	/* IP options (at most 40 bytes, borrowed for the call; copied when the
	 * datagram must wait for ARP).  In fragments after the first only the
	 * options with the copy flag (RFC 791) are repeated. */
	const uint8_t *options;
	size_t options_len;
	/* TCP segmentation offload: nonzero = the datagram is a TCP super-segment
	 * (with fragment = false) sent as one frame through the device's
	 * set_gso() + write() (tapir_stack_set_offload() with TAPIR_NETIF_OFF_TSO4, else
	 * -EMSGSIZE), to be cut into segments of @gso_size payload bytes, each of
	 * which must fit the path MTU.  The TCP checksum field holds the
	 * pseudo-header sum (struct tapir_netif_gso).  The device increments the IP ID
	 * per segment (DF is set, so IDs carry no meaning, RFC 6864). */
	uint16_t gso_size;
	/* Send to the Ethernet broadcast address whatever @dst is (no ARP):
	 * for a DHCPRELEASE to a server whose MAC is not known */
	bool link_broadcast;
};

/**
 * tapir_ipv4_write() - Send one IPv4 datagram
 * @st:     Stack
 * @opts:   Options, or NULL for { fragment = true, default TTL, our address }
 * @dst:    Destination
 * @proto:  IP protocol
 * @size:   Bytes of transport header that @fill writes (may be 0)
 * @fill:   Writes the transport header at offset 0 (may be NULL if @size is 0);
 *          it returns how many bytes it wrote (<= @size)
 * @ctx:    Passed to @fill
 * @iov:    Payload pieces copied after the header (borrowed for the call)
 * @iovcnt: Number of pieces
 *
 * A datagram to an on-link address whose MAC is not yet known is queued
 * (copied) and sent when ARP resolves it.
 *
 * Return: 0, -EMSGSIZE (too big with fragment = false, or over 65,535 bytes),
 *         -ENETUNREACH (off-link and no gateway), -ENOBUFS (queue full),
 *         -EINVAL, or the device's error
 */
int tapir_ipv4_write(struct tapir_stack *st, const struct tapir_ipv4_write_opts *opts, uint32_t dst,
		     uint8_t proto, size_t size, tapir_netif_fill_fn fill, void *ctx,
		     const struct tapir_stack_iov *iov, int iovcnt);

/* Return: path MTU towards @dst (device MTU or smaller, from the PMTU cache) */
size_t tapir_ipv4_mtu(struct tapir_stack *st, uint32_t dst);

/* Handler for an IP protocol above IPv4 (UDP and TCP register here). */
struct tapir_ipv4_rx_meta {
	uint32_t src, dst;
	uint8_t proto, ttl, tos;
	bool link_broadcast;  /* arrived as an Ethernet broadcast/multicast */
	bool ip_broadcast;    /* sent to 255.255.255.255 or the subnet broadcast */
	const uint8_t *ip_header;  /* whole IP header of the datagram */
	size_t ip_header_len;
	bool l4_csum_ok;      /* the device vouched for the TCP/UDP checksum: skip it */
	bool gso;             /* a received super-segment (TAPIR_NETIF_RX_GSO) */
};
/**
 * typedef tapir_ipv4_proto_fn - Deliver a datagram's payload
 * Return: 0 if handled, -EPROTONOSUPPORT to make the stack answer with an
 *         ICMP protocol unreachable
 */
typedef int (*tapir_ipv4_proto_fn)(void *ctx, const struct tapir_ipv4_rx_meta *m,
				   const uint8_t *payload, size_t len);
/* The quote of an ICMP error, parsed (wire/icmp.h: addresses, protocol,
 * ports, TCP sequence number, the quoted header and data) */
struct tapir_icmp_quote;
/**
 * struct tapir_ipv4_icmp_err - An ICMP error about a datagram we sent
 * @from:  Who sent the error (a router on the path, or the destination)
 * @type:  TAPIR_ICMP_DEST_UNREACH, TAPIR_ICMP_TIME_EXCEEDED or TAPIR_ICMP_PARAM_PROBLEM
 * @code:  ICMP_UNREACH_* ...
 * @info:  Bytes 4..7 of the ICMP header, as one big-endian word
 * @mtu:   For "fragmentation needed": the next-hop MTU the router reported,
 *         or when it reported 0 the RFC 1191 plateau below the quoted total
 *         length; 0 for other errors.  Not checked against anything and not
 *         yet applied: a transport validates the quote against its state
 *         (RFC 5927) and then passes @e to ipv4_pmtu_frag_needed() (internal)
 * @quote: The quoted datagram: from our address, IP header complete, at
 *         least 8 bytes of data
 * All of it is lent for the call only.
 */
struct tapir_ipv4_icmp_err {
	uint32_t from;
	uint8_t type, code;
	uint32_t info;
	uint32_t mtu;
	const struct tapir_icmp_quote *quote;
};
/* ICMP error about a datagram of the protocol (@e: lent for the call) */
typedef void (*tapir_ipv4_icmp_err_fn)(void *ctx, const struct tapir_ipv4_icmp_err *e);
int tapir_ipv4_register_proto(struct tapir_stack *st, uint8_t proto, tapir_ipv4_proto_fn rx,
			      tapir_ipv4_icmp_err_fn err, void *ctx);

/* Path-MTU cache entry, for listings */
struct tapir_pmtu_entry {
	uint32_t dst;
	uint32_t mtu;
	uint64_t expires;
	bool locked;    /* reported below min_pmtu: min_pmtu, sent without DF */
};
/* Copy up to @max entries into @out.  Return: number of entries */
size_t tapir_ipv4_pmtu_list(const struct tapir_stack *st, struct tapir_pmtu_entry *out, size_t max);

/* ---- ARP ---- */

struct tapir_arp_entry {
	uint32_t ip;
	uint8_t mac[6];
	bool resolved;
	uint64_t expires;  /* resolved: when it expires */
};
/* Copy up to @max entries into @out.  Return: number of entries */
size_t tapir_arp_list(const struct tapir_stack *st, struct tapir_arp_entry *out, size_t max);
void tapir_arp_flush(struct tapir_stack *st);
/* Return: 0 and the MAC in @mac, or -ENOENT */
int tapir_arp_lookup(const struct tapir_stack *st, uint32_t ip, uint8_t mac[6]);

/* ---- ICMPv4 ---- */

#define TAPIR_ICMP_ECHO_REPLY 0
#define TAPIR_ICMP_DEST_UNREACH 3
#define TAPIR_ICMP_REDIRECT 5
#define TAPIR_ICMP_ECHO_REQUEST 8
#define TAPIR_ICMP_TIME_EXCEEDED 11
#define TAPIR_ICMP_PARAM_PROBLEM 12

#define TAPIR_ICMP_UNREACH_NET 0
#define TAPIR_ICMP_UNREACH_HOST 1
#define TAPIR_ICMP_UNREACH_PROTOCOL 2
#define TAPIR_ICMP_UNREACH_PORT 3
#define TAPIR_ICMP_UNREACH_FRAG_NEEDED 4
#define TAPIR_ICMP_UNREACH_ADMIN 13	/* communication administratively prohibited (RFC 1812) */

/* Echo replies addressed to us, for ping from inside the stack */
typedef void (*tapir_icmp_echo_reply_fn)(void *ctx, uint32_t src, uint16_t id, uint16_t seq,
				   const uint8_t *data, size_t len, uint64_t now);
void tapir_icmp_set_echo_reply_handler(struct tapir_stack *st, tapir_icmp_echo_reply_fn fn,
				       void *ctx);
/* Send an echo request.  Return: 0 or negative errno (as tapir_ipv4_write) */
int tapir_icmp_send_echo(struct tapir_stack *st, uint32_t dst, uint16_t id, uint16_t seq,
			 uint8_t ttl, const uint8_t *data, size_t len);

#endif /* TAPIR_STACK_H */

/*
 * stack.h - libstack's public API: a sans-I/O Ethernet/ARP/IPv4/ICMP/UDP stack
 *
 * Theory of operation
 *
 * The host drives the stack.  It passes every received frame to
 * stack_input(), calls stack_poll() when the time returned by
 * stack_next_deadline() has come, and supplies time (a monotonic nanosecond
 * count) and randomness.  The stack never calls the operating system: frames
 * go out through the struct netif it was created with.  There is no global
 * state; any number of stacks may live in one process.
 *
 * Layers and their write path (after MirageOS 3.5):
 *   eth_write()  -> netif write: Ethernet header, then @fill at offset 14
 *   ipv4_write() -> routes (ARP for on-link, else gateway), fragments, DF
 *   udp_sendto() -> ipv4_write with the UDP header filled, data as an iovec
 *
 * Memory is bounded by struct stack_config; when a bound is hit the packet is
 * dropped and a counter says why (see counters.h and stack_stats()).
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
#include "netif.h"
#include "tcp_config.h"

#define STACK_NS_PER_SEC 1000000000ull
#define STACK_NO_DEADLINE UINT64_MAX

struct stack;

enum stack_log_level { STACK_LOG_ERR, STACK_LOG_WARN, STACK_LOG_INFO, STACK_LOG_DEBUG };

struct stack_config {
	uint32_t addr;              /* our address (host order); required */
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
	struct tcp_config tcp;      /* TCP defaults (tcp_config.h) */
	/* Fill @len bytes with random bytes; required. */
	void (*random)(void *ctx, void *buf, size_t len);
	void *random_ctx;
	/* Optional logger; @msg is valid during the call only. */
	void (*log)(void *ctx, enum stack_log_level level, const char *msg);
	void *log_ctx;
};

/* Fill @cfg with the defaults above (addr left 0, random/log NULL). */
void stack_config_defaults(struct stack_config *cfg);

/**
 * stack_new() - Create a stack on a network interface
 * @out: Where to store the new stack
 * @cfg: Configuration (copied)
 * @nif: Device (copied; the device must outlive the stack)
 * @now: Current time, ns
 *
 * Return: 0, or -EINVAL for a bad configuration, -ENOMEM
 */
int stack_new(struct stack **out, const struct stack_config *cfg, const struct netif *nif,
	      uint64_t now);

/* Free the stack and everything it holds.  NULL is allowed. */
void stack_free(struct stack *st);

/**
 * stack_set_offload() - Use the device's offloads (netif.h)
 * @st:  Stack, before any TCP connection exists
 * @off: The device's offload ops (copied; the device must outlive the
 *       stack), or NULL for none
 *
 * With NETIF_OFF_TSO4, TCP sends new data in super-segments of up to 64 KiB
 * (whole MSS-sized segments within the windows); retransmissions stay one MSS.
 */
void stack_set_offload(struct stack *st, const struct netif_offload *off);

/* Announce ourselves: send a gratuitous ARP.  Call once after stack_new(). */
void stack_start(struct stack *st, uint64_t now);

/**
 * stack_input() - Process one received Ethernet frame
 * @st:    Stack
 * @frame: Frame, Ethernet header included; lent for this call only
 * @len:   Length of @frame (a NETIF_RX_GSO frame may exceed the MTU)
 * @flags: NETIF_RX_* (netif.h) the device reported: checksum already good or
 *         partial, GSO; 0 when it says nothing
 * @now:   Current time, ns
 *
 * The flags cover the TCP or UDP checksum of an unfragmented datagram only;
 * the IP header checksum is always verified.
 */
void stack_input(struct stack *st, const uint8_t *frame, size_t len, unsigned flags,
		 uint64_t now);

/* Run the timers that are due at @now (ARP, reassembly, ...). */
void stack_poll(struct stack *st, uint64_t now);

/* Return: time of the next timer, or STACK_NO_DEADLINE when none is armed */
uint64_t stack_next_deadline(const struct stack *st);

/* Flush frames written since the last flush (calls the netif's flush). */
void stack_flush(struct stack *st);

/* Counters */
const char *stack_counter_name(enum stack_counter c);
uint64_t stack_counter(const struct stack *st, enum stack_counter c);
/* Copy all counters into @out (CTR__COUNT entries). */
void stack_stats(const struct stack *st, uint64_t out[CTR__COUNT]);

/* Addresses and helpers */
uint32_t stack_addr(const struct stack *st);
void stack_mac(const struct stack *st, uint8_t mac[6]);
/* The reassembly table, for listings (ipv4_reasm.h).  Return: entries copied */
struct reasm_info;
size_t stack_reasm_list(const struct stack *st, struct reasm_info *out, size_t max);
/* Address text, defined in wire/ipv4.c (declared in wire/ipv4.h too).
 * Parse "a.b.c.d" (no leading zeros) into host order.  Return: 0 or -EINVAL */
int ipv4_addr_parse(const char *s, uint32_t *out);
/* Format into @buf (at least 16 bytes).  Return: @buf */
char *ipv4_addr_format(uint32_t addr, char *buf);

/* ---- Ethernet ---- */

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP 0x0806

/**
 * eth_write() - Write one Ethernet frame
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
int eth_write(struct stack *st, const uint8_t *src, const uint8_t dst[6], uint16_t ethertype,
	      size_t size, netif_fill_fn fill, void *ctx);

/* ---- IPv4 ---- */

#define IP_PROTO_ICMP 1
#define IP_PROTO_TCP 6
#define IP_PROTO_UDP 17

struct stack_iov {
	const void *base;
	size_t len;
};

struct ipv4_write_opts {
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
	 * set_gso() + write() (stack_set_offload() with NETIF_OFF_TSO4, else
	 * -EMSGSIZE), to be cut into segments of @gso_size payload bytes, each of
	 * which must fit the path MTU.  The TCP checksum field holds the
	 * pseudo-header sum (struct netif_gso).  The device increments the IP ID
	 * per segment (DF is set, so IDs carry no meaning, RFC 6864). */
	uint16_t gso_size;
};

/**
 * ipv4_write() - Send one IPv4 datagram
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
int ipv4_write(struct stack *st, const struct ipv4_write_opts *opts, uint32_t dst, uint8_t proto,
	       size_t size, netif_fill_fn fill, void *ctx, const struct stack_iov *iov, int iovcnt);

/* Return: path MTU towards @dst (device MTU or smaller, from the PMTU cache) */
size_t ipv4_mtu(struct stack *st, uint32_t dst);

/* Handler for an IP protocol above IPv4 (UDP and TCP register here). */
struct ipv4_rx_meta {
	uint32_t src, dst;
	uint8_t proto, ttl, tos;
	bool link_broadcast;  /* arrived as an Ethernet broadcast/multicast */
	bool ip_broadcast;    /* sent to 255.255.255.255 or the subnet broadcast */
	const uint8_t *ip_header;  /* whole IP header of the datagram */
	size_t ip_header_len;
	bool l4_csum_ok;      /* the device vouched for the TCP/UDP checksum: skip it */
	bool gso;             /* a received super-segment (NETIF_RX_GSO) */
};
/**
 * typedef ipv4_proto_fn - Deliver a datagram's payload
 * Return: 0 if handled, -EPROTONOSUPPORT to make the stack answer with an
 *         ICMP protocol unreachable
 */
typedef int (*ipv4_proto_fn)(void *ctx, const struct ipv4_rx_meta *m, const uint8_t *payload,
			     size_t len);
/* The quote of an ICMP error, parsed (wire/icmp.h: addresses, protocol,
 * ports, TCP sequence number, the quoted header and data) */
struct icmp_quote;
/**
 * struct ipv4_icmp_err - An ICMP error about a datagram we sent
 * @from:  Who sent the error (a router on the path, or the destination)
 * @type:  ICMP_DEST_UNREACH, ICMP_TIME_EXCEEDED or ICMP_PARAM_PROBLEM
 * @code:  ICMP_UNREACH_* ...
 * @info:  Bytes 4..7 of the ICMP header, as one big-endian word
 * @mtu:   For "fragmentation needed": the next-hop MTU the router reported,
 *         or when it reported 0 the RFC 1191 plateau below the quoted total
 *         length; 0 for other errors.  Not checked against anything: a
 *         transport validates the quote before it believes this
 * @quote: The quoted datagram: from our address, IP header complete, at
 *         least 8 bytes of data
 * All of it is lent for the call only.
 */
struct ipv4_icmp_err {
	uint32_t from;
	uint8_t type, code;
	uint32_t info;
	uint32_t mtu;
	const struct icmp_quote *quote;
};
/* ICMP error about a datagram of the protocol (@e: lent for the call) */
typedef void (*ipv4_icmp_err_fn)(void *ctx, const struct ipv4_icmp_err *e);
int ipv4_register_proto(struct stack *st, uint8_t proto, ipv4_proto_fn rx, ipv4_icmp_err_fn err,
			void *ctx);

/* Path-MTU cache entry, for listings */
struct pmtu_entry {
	uint32_t dst;
	uint32_t mtu;
	uint64_t expires;
};
/* Copy up to @max entries into @out.  Return: number of entries */
size_t ipv4_pmtu_list(const struct stack *st, struct pmtu_entry *out, size_t max);

/* ---- ARP ---- */

struct arp_entry {
	uint32_t ip;
	uint8_t mac[6];
	bool resolved;
	uint64_t expires;  /* resolved: when it expires */
};
/* Copy up to @max entries into @out.  Return: number of entries */
size_t arp_list(const struct stack *st, struct arp_entry *out, size_t max);
void arp_flush(struct stack *st);
/* Return: 0 and the MAC in @mac, or -ENOENT */
int arp_lookup(const struct stack *st, uint32_t ip, uint8_t mac[6]);

/* ---- ICMPv4 ---- */

#define ICMP_ECHO_REPLY 0
#define ICMP_DEST_UNREACH 3
#define ICMP_REDIRECT 5
#define ICMP_ECHO_REQUEST 8
#define ICMP_TIME_EXCEEDED 11
#define ICMP_PARAM_PROBLEM 12

#define ICMP_UNREACH_NET 0
#define ICMP_UNREACH_HOST 1
#define ICMP_UNREACH_PROTOCOL 2
#define ICMP_UNREACH_PORT 3
#define ICMP_UNREACH_FRAG_NEEDED 4

/* Echo replies addressed to us, for ping from inside the stack */
typedef void (*icmp_echo_reply_fn)(void *ctx, uint32_t src, uint16_t id, uint16_t seq,
				   const uint8_t *data, size_t len, uint64_t now);
void icmp_set_echo_reply_handler(struct stack *st, icmp_echo_reply_fn fn, void *ctx);
/* Send an echo request.  Return: 0 or negative errno (as ipv4_write) */
int icmp_send_echo(struct stack *st, uint32_t dst, uint16_t id, uint16_t seq, uint8_t ttl,
		   const uint8_t *data, size_t len);

/* ---- UDP ---- */

struct udp_meta {
	uint32_t src, dst;
	uint16_t src_port, dst_port;
	uint8_t ttl;
	bool broadcast;  /* sent to a broadcast address */
};

/* Datagram received; @data is lent for the call only. */
typedef void (*udp_recv_fn)(void *ctx, const struct udp_meta *m, const uint8_t *data,
			    size_t len);

/**
 * struct udp_err - An ICMP error about a datagram sent from a listened port
 * @from:     Who sent the error (a router on the path, or the destination)
 * @type:     ICMP_DEST_UNREACH, ICMP_TIME_EXCEEDED or ICMP_PARAM_PROBLEM
 * @code:     ICMP_UNREACH_PORT ...
 * @mtu:      For "fragmentation needed", the next-hop MTU (already in the
 *            path-MTU cache); else 0
 * @dst:      Destination of the datagram the error is about
 * @src_port: Its source port (the listener's)
 * @dst_port: Its destination port
 * @data:     The quoted UDP payload (often none: routers quote 8 bytes, the
 *            UDP header); lent for the call only
 * @data_len: Length of @data
 */
struct udp_err {
	uint32_t from;
	uint8_t type, code;
	uint32_t mtu;
	uint32_t dst;
	uint16_t src_port, dst_port;
	const uint8_t *data;
	size_t data_len;
};
typedef void (*udp_err_fn)(void *ctx, const struct udp_err *e);

/* Return: 0, -EADDRINUSE, -EINVAL (port 0), -ENOMEM */
int udp_listen(struct stack *st, uint16_t port, udp_recv_fn cb, void *ctx);
/* As udp_listen(), and @err (may be NULL) receives the ICMP errors about
 * datagrams sent from @port (RFC 1122 4.1.3.3). */
int udp_listen_err(struct stack *st, uint16_t port, udp_recv_fn cb, udp_err_fn err, void *ctx);
/* Return: 0 or -ENOENT */
int udp_unlisten(struct stack *st, uint16_t port);
/* Copy up to @max listening ports into @ports.  Return: number copied */
size_t udp_list(const struct stack *st, uint16_t *ports, size_t max);

/**
 * udp_sendto() - Send one UDP datagram
 * @src_port: Source port, 0 = a random ephemeral port (49152-65535)
 * @ttl:      0 = the default TTL
 * @data:     Payload, copied before return
 *
 * Return: 0, -EMSGSIZE if larger than 65,507 bytes, or as ipv4_write()
 */
int udp_sendto(struct stack *st, uint16_t src_port, uint32_t dst, uint16_t dst_port, uint8_t ttl,
	       const uint8_t *data, size_t len);

#endif /* TAPIR_STACK_H */

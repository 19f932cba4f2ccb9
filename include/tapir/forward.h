/*
 * forward.h - forwarder mode: the stack answers TCP, UDP and ICMP echo for
 * any address routed through it (as gVisor netstack's forwarders), so that an
 * application (the gateway) can splice each flow to the host
 *
 * Theory of operation
 *
 * Normally the stack takes only datagrams addressed to its own address (or a
 * broadcast).  Once any forwarder below is set, IPv4 also takes unicast
 * datagrams for other addresses (never for 0/8, 127/8, 240/4, multicast or a
 * link-layer broadcast) and hands them to the transport, which finds the flow
 * by the full 4-tuple, our side's address included.  IPv6 likewise takes
 * TCP, UDP and ICMPv6 packets for foreign unicast addresses (never ::/8,
 * which holds ::, ::1 and the IPv4-mapped block, link-local fe80::/10,
 * multicast, or a link-layer multicast; hop limit 1 gets a Time Exceeded
 * from our address, ipv6.drop.forward_hop_limit):
 *
 * - TCP: a SYN for a foreign address that matches no flow calls the
 *   forwarder's syn() with a request (the tuple and a copy of the SYN).  The
 *   application decides now or later: tapir_tcp_forward_accept() answers the
 *   SYN (SYN-ACK from the foreign address; the listener's backlog, SYN cookies
 *   and the connection limit apply exactly as for a listener), and accept()
 *   is called once the handshake completes; tapir_tcp_forward_refuse() answers
 *   with a RST (-ECONNREFUSED) or an ICMP destination unreachable
 *   (-EHOSTUNREACH, -ENETUNREACH, -EACCES: administratively prohibited), or
 *   nothing at all (any other error: the peer's SYN times out).  Until one of
 *   the two is called the stack keeps nothing: a retransmitted SYN calls
 *   syn() again with the same tuple, so the application keeps its pending
 *   requests (and caps them) itself.  Segments other than a SYN for a foreign
 *   tuple without a flow get a RST, or make a flow when they carry a valid
 *   SYN cookie.  Forwarded flows are ordinary flows afterwards (struct
 *   tapir_tcp_flow_info's local_addr is the foreign address).
 * - UDP: a datagram for a foreign address goes to the UDP forwarder's
 *   callback (struct tapir_udp_meta names both ends, struct tapir_addr of
 *   either family); replies go out with tapir_udp_sendto_from() from that
 *   foreign address and port.
 * - ICMP: an echo request for a foreign address goes to the echo forwarder;
 *   tapir_icmp_echo_reply_from() answers it from that address.  Other ICMP
 *   messages for foreign addresses are dropped (icmp.drop.forward).  ICMPv6
 *   has its own echo forwarder (tapir_icmpv6_echo_forwarder_set(),
 *   tapir_icmpv6_echo_reply_from(); icmpv6.forward_echo, icmpv6.drop.forward).
 *
 * A datagram for a foreign address that arrives with TTL 1 or 0 would die at
 * this router: it gets an ICMP time exceeded (so traceroute shows tapird as
 * the first hop) and is dropped (ipv4.drop.forward_ttl).
 *
 * TCP requests and UDP metas carry struct tapir_addr (IPv4 or IPv6); the ICMP
 * echo forwarder is IPv4 (host byte order), the ICMPv6 one IPv6 (16 bytes).
 * All callbacks run from tapir_stack_input(); data is lent for the call only.
 */
#ifndef TAPIR_FORWARD_H
#define TAPIR_FORWARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcp.h"
#include "udp.h"

#define TAPIR_FWD_QUOTE_MAX 68	/* an IPv4 header with options and 8 bytes after it
				 * (IPv6: the fixed header and 8 bytes, 48) */

/**
 * struct tapir_tcp_fwd_req - A SYN for a foreign address, waiting for a decision
 * @src:      The peer (the namespace side)
 * @dst:      The address it asked for
 * @src_port: Its port
 * @dst_port: The port it asked for
 * @syn:      Private: what the stack needs to answer the SYN later
 *
 * The application may copy the request and answer from the copy at any later
 * time (it holds no pointer into the stack).
 */
struct tapir_tcp_fwd_req {
	struct tapir_addr src, dst;   /* both IPv4 or both IPv6 */
	uint16_t src_port, dst_port;
	struct {
		uint32_t seq, ts_val;
		uint16_t window, mss;
		int8_t wscale;
		bool has_mss, sack_perm, has_ts;
		uint8_t quote_len;
		uint8_t quote[TAPIR_FWD_QUOTE_MAX];
	} syn;
};

/**
 * struct tapir_tcp_forwarder - what the stack calls for forwarded TCP
 * @syn:    A new SYN for a foreign address (see the theory above); required
 * @accept: A forwarded connection completed its handshake; the flow is the
 *          application's from here, as a listener's (required)
 * @opts:   Options for forwarded flows (copied), or NULL for the defaults
 */
struct tapir_tcp_forwarder {
	void (*syn)(void *ctx, const struct tapir_tcp_fwd_req *req);
	tapir_tcp_accept_fn accept;
	const struct tapir_tcp_flow_opts *opts;
};

/**
 * tapir_tcp_forwarder_set() - Take TCP for any address (forwarder mode)
 * @st:  Stack
 * @fw:  Callbacks and options (copied), or NULL to turn the mode off (flows
 *       already made stay; SYN cookies sent before are no longer honoured)
 * @ctx: Passed to the callbacks
 *
 * Return: 0, -EINVAL (a callback missing), -ENOMEM
 */
int tapir_tcp_forwarder_set(struct tapir_stack *st, const struct tapir_tcp_forwarder *fw, void *ctx);

/**
 * tapir_tcp_forward_accept() - Answer a forwarded SYN: the handshake goes on
 * @st:  Stack
 * @req: The request syn() reported (or a copy)
 *
 * The forwarder's accept() follows when the peer's ACK arrives (not before
 * this returns).  If a flow for the tuple exists already (a duplicate
 * answer), nothing happens.
 *
 * Return: 0 (SYN-ACK sent, or a SYN cookie when the backlog or the
 *         connection table is full), -EINVAL (no forwarder, or a request for
 *         the stack's own address), -EEXIST (the tuple has a flow), -ENOBUFS
 *         (connection limit, no SYN cookies), -ENOMEM
 */
int tapir_tcp_forward_accept(struct tapir_stack *st, const struct tapir_tcp_fwd_req *req);

/**
 * tapir_tcp_forward_refuse() - Answer a forwarded SYN with a refusal
 * @st:  Stack
 * @req: The request
 * @err: -ECONNREFUSED: a RST; -EHOSTUNREACH, -ENETUNREACH, -EACCES: ICMP
 *       destination unreachable (host, net, administratively prohibited),
 *       rate-limited as every ICMP error; anything else: no answer
 *
 * Counted as tcp.forward_refused.
 */
void tapir_tcp_forward_refuse(struct tapir_stack *st, const struct tapir_tcp_fwd_req *req, int err);

/**
 * tapir_udp_forwarder_set() - Take UDP for any foreign address
 * @st:  Stack
 * @cb:  Called for each datagram to a foreign address (@m->dst is it), or
 *       NULL to turn UDP forwarding off
 * @ctx: Passed to @cb
 *
 * Datagrams to the stack's own addresses still go to its listeners only.
 * IPv6 datagrams for foreign addresses reach @cb too (@m's addresses IPv6).
 * Return: 0
 */
int tapir_udp_forwarder_set(struct tapir_stack *st, tapir_udp_recv_fn cb, void *ctx);

/**
 * tapir_udp_sendto_from() - Send a UDP datagram from a given address and port
 * @st:       Stack
 * @src:      Source address: family TAPIR_AF_UNSPEC (or NULL) for the
 *            stack's choice (its IPv4 address; over IPv6 RFC 6724's), one of
 *            ours, or a foreign address (a forwarded reply); of @dst's family
 * @src_port: Source port (not 0)
 * @dst:      Destination (IPv4-mapped IPv6 goes over IPv4)
 * @dst_port: Destination port (not 0)
 * @ttl:      TTL or hop limit, 0 = the default
 * @data:     Payload, copied before return
 * @len:      Its length
 *
 * Return: as tapir_udp_sendto(), -EINVAL for port 0 or a @src of the other
 *         family
 */
int tapir_udp_sendto_from(struct tapir_stack *st, const struct tapir_addr *src, uint16_t src_port,
			  const struct tapir_addr *dst, uint16_t dst_port, uint8_t ttl,
			  const uint8_t *data, size_t len);

/**
 * tapir_icmp_send_unreach() - Send an ICMP destination unreachable about a datagram
 * @st:    Stack
 * @code:  TAPIR_ICMP_UNREACH_* code
 * @quote: The start of the datagram it is about (IP header first)
 * @len:   Bytes of @quote (at least the IP header)
 *
 * From the stack's own address (a router's answer), rate-limited and never
 * about a broadcast, a fragment or an ICMP error.  Return: 0, -EINVAL
 */
int tapir_icmp_send_unreach(struct tapir_stack *st, uint8_t code, const uint8_t *quote, size_t len);

/* An echo request to a foreign address @dst: id, sequence and data (lent) */
typedef void (*tapir_icmp_echo_fwd_fn)(void *ctx, uint32_t src, uint32_t dst, uint16_t id,
				       uint16_t seq, const uint8_t *data, size_t len);
/* Take echo requests for foreign addresses (@fn NULL: off).  Return: 0 */
int tapir_icmp_echo_forwarder_set(struct tapir_stack *st, tapir_icmp_echo_fwd_fn fn, void *ctx);
/**
 * tapir_icmp_echo_reply_from() - Send an echo reply from @src (a forwarded echo's answer)
 *
 * Return: 0, -EMSGSIZE, or as tapir_ipv4_write()
 */
int tapir_icmp_echo_reply_from(struct tapir_stack *st, uint32_t src, uint32_t dst, uint16_t id,
			       uint16_t seq, const uint8_t *data, size_t len);

/* An ICMPv6 echo request to a foreign address @dst: id, sequence and data (lent) */
typedef void (*tapir_icmpv6_echo_fwd_fn)(void *ctx, const uint8_t src[16], const uint8_t dst[16],
					 uint16_t id, uint16_t seq, const uint8_t *data, size_t len);
/* Take ICMPv6 echo requests for foreign addresses (@fn NULL: off).  Return: 0 */
int tapir_icmpv6_echo_forwarder_set(struct tapir_stack *st, tapir_icmpv6_echo_fwd_fn fn, void *ctx);
/**
 * tapir_icmpv6_echo_reply_from() - Send an ICMPv6 echo reply from @src (a forwarded echo's answer)
 * @st:   Stack
 * @src:  The foreign address the request was sent to
 * @dst:  The requester
 * @id:   Identifier of the request
 * @seq:  Its sequence number
 * @data: Data to echo
 * @len:  Its length
 *
 * Return: 0, -ENOTSUP (IPv6 off), -EMSGSIZE, or as tapir_ipv6_write()
 */
int tapir_icmpv6_echo_reply_from(struct tapir_stack *st, const uint8_t src[16], const uint8_t dst[16],
				 uint16_t id, uint16_t seq, const uint8_t *data, size_t len);

/* Return: true when any forwarder is set (the stack takes foreign addresses) */
bool tapir_stack_forwarding(const struct tapir_stack *st);

#endif /* TAPIR_FORWARD_H */

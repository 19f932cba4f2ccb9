/*
 * netif.h - the device interface libstack writes frames through (after Mirage_net)
 *
 * A backend (tap, vnetif, pcap, impair wrapper) implements these operations.
 * The write path is the seed's: the stack asks the device for a buffer of a
 * requested size and fills the whole Ethernet frame in place, so a frame is
 * written once, into the device's memory.
 *
 * Ownership: the buffer given to @fill is lent by the device for the duration
 * of the call only; @fill must not keep the pointer.  Received frames are lent
 * to stack_input() for the duration of that call only.
 */
#ifndef TAPIR_NETIF_H
#define TAPIR_NETIF_H

#include <stddef.h>
#include <stdint.h>

/**
 * netif_fill_fn - Write a frame into a lent buffer
 * @buf:  Buffer lent by the device, at least @size bytes
 * @size: Size that was requested
 * @ctx:  Caller's context
 *
 * Cannot fail.  Return: number of bytes written (<= @size)
 */
typedef size_t (*netif_fill_fn)(uint8_t *buf, size_t size, void *ctx);

/* Offload capabilities (netif_offload_ops.offloads) */
#define NETIF_OFF_TSO4 1u     /* set_gso() + write() take TCPv4 super-segments */
#define NETIF_OFF_RX_CSUM 2u  /* received frames may carry NETIF_RX_* flags */

/*
 * Receive flags: what the device (the host kernel) says about a received
 * frame; passed to stack_input().
 *
 * NETIF_RX_CSUM_PARTIAL: the frame's TCP or UDP checksum field holds only
 *   the pseudo-header sum (Linux CHECKSUM_PARTIAL; the data was never on a
 *   wire): the checksum must not be verified.
 * NETIF_RX_CSUM_VALID: the device verified the TCP or UDP checksum.
 * NETIF_RX_GSO: a TCP super-segment (GRO/GSO): larger than the MTU, its
 *   size says nothing of the peer's MSS.
 */
#define NETIF_RX_CSUM_PARTIAL 1u
#define NETIF_RX_CSUM_VALID 2u
#define NETIF_RX_GSO 4u

#define NETIF_GSO_TCPV4 1

/*
 * A TCP/IPv4 super-segment (netif_offload_ops.set_gso).  Offsets are from the
 * start of the frame.  The TCP checksum field holds the folded, not
 * complemented, pseudo-header sum over the whole TCP length (as Linux's
 * CHECKSUM_PARTIAL): the device completes it from @csum_start.
 */
struct netif_gso {
	uint8_t type;          /* NETIF_GSO_TCPV4 */
	uint16_t hdr_len;      /* Ethernet + IP + TCP headers */
	uint16_t gso_size;     /* TCP payload bytes per segment (the MSS) */
	uint16_t csum_start;   /* start of the TCP header */
	uint16_t csum_offset;  /* of the checksum field from @csum_start: 16 */
};

struct netif_ops {
	/* Largest Ethernet payload the device carries (the IP MTU), e.g. 1500 */
	size_t (*mtu)(void *dev);
	/* The device's MAC address */
	void (*mac)(void *dev, uint8_t mac[6]);
	/*
	 * Lend a buffer of at least @size bytes (a whole frame, Ethernet header
	 * included) to @fill and send what it wrote.  Return: 0, or a negative
	 * errno (-EMSGSIZE if @size exceeds the device's frame size, -ENOBUFS
	 * if the device queue is full).  A device that learns of the error
	 * only when sending (a TAP's write(2)) may have called @fill already;
	 * either way the frame is dropped and the caller keeps nothing.
	 */
	int (*write)(void *dev, size_t size, netif_fill_fn fill, void *ctx);
	/* Optional (may be NULL): push out frames queued since the last flush. */
	void (*flush)(void *dev);
};

struct netif {
	const struct netif_ops *ops;
	void *dev;
};

/*
 * Offloads, apart from struct netif_ops so that every netif without them
 * stays as it is (stack_set_offload() hands them to the stack).
 *
 * A super-segment goes out as set_gso() then one ordinary netif write() of
 * up to 65535 + 14 bytes, more than the MTU: set_gso() describes the next
 * write() on the device only (any write consumes it; set_gso(NULL) cancels
 * it).  The device (or the host kernel behind it) cuts the frame into
 * segments of @gso_size payload bytes, each with a copy of the headers, the
 * IP ID incremented per segment and the TCP checksum completed.  Because it
 * is an ordinary write(), a netif wrapper that records frames (the daemon's
 * capture) sees the super-segment as one frame without knowing about it.
 */
struct netif_offload_ops {
	/* The offloads the device takes, a mask of NETIF_OFF_* */
	unsigned (*offloads)(void *dev);
	/* Describe the next write() (NULL: a plain frame). */
	void (*set_gso)(void *dev, const struct netif_gso *g);
};

struct netif_offload {
	const struct netif_offload_ops *ops;  /* NULL: no offloads */
	void *dev;
};

#endif /* TAPIR_NETIF_H */

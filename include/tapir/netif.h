/*
 * netif.h - the device interface libstack writes frames through (after Mirage_net),
 *           and the filters that sit between a device and the stack
 *
 * A backend (tap, vnetif, pcap) implements these operations; a filter
 * (impair, the daemon's capture) implements them over the next stage.
 * The write path is the seed's: the stack asks the device for a buffer of a
 * requested size and fills the whole Ethernet frame in place, so a frame is
 * written once, into the device's memory.
 *
 * Ownership: the buffer given to @fill is lent by the device for the duration
 * of the call only; @fill must not keep the pointer.  Received frames are lent
 * to each filter's rx() and to tapir_stack_input() for the duration of that call
 * only.
 */
#ifndef TAPIR_NETIF_H
#define TAPIR_NETIF_H

#include <stddef.h>
#include <stdint.h>

/**
 * tapir_netif_fill_fn - Write a frame into a lent buffer
 * @buf:  Buffer lent by the device, at least @size bytes
 * @size: Size that was requested
 * @ctx:  Caller's context
 *
 * Cannot fail.  Return: number of bytes written (<= @size)
 */
typedef size_t (*tapir_netif_fill_fn)(uint8_t *buf, size_t size, void *ctx);

/* Offload capabilities (netif_offload_ops.offloads) */
#define TAPIR_NETIF_OFF_TSO4 1u     /* set_gso() + write() take TCPv4 super-segments */
#define TAPIR_NETIF_OFF_RX_CSUM 2u  /* received frames may carry NETIF_RX_* flags */
#define TAPIR_NETIF_OFF_TSO6 4u     /* set_gso() + write() take TCPv6 super-segments */

/*
 * Receive flags: what the device (the host kernel) says about a received
 * frame; passed to tapir_stack_input().
 *
 * TAPIR_NETIF_RX_CSUM_PARTIAL: the frame's TCP or UDP checksum field holds only
 *   the pseudo-header sum (Linux CHECKSUM_PARTIAL; the data was never on a
 *   wire): the checksum must not be verified.
 * TAPIR_NETIF_RX_CSUM_VALID: the device verified the TCP or UDP checksum.
 * TAPIR_NETIF_RX_GSO: a TCP super-segment (GRO/GSO): larger than the MTU, its
 *   size says nothing of the peer's MSS.
 */
#define TAPIR_NETIF_RX_CSUM_PARTIAL 1u
#define TAPIR_NETIF_RX_CSUM_VALID 2u
#define TAPIR_NETIF_RX_GSO 4u

#define TAPIR_NETIF_GSO_TCPV4 1
#define TAPIR_NETIF_GSO_TCPV6 2

/*
 * A TCP/IPv4 or TCP/IPv6 super-segment (netif_offload_ops.set_gso).  Offsets are from the
 * start of the frame.  The TCP checksum field holds the folded, not
 * complemented, pseudo-header sum over the whole TCP length (as Linux's
 * CHECKSUM_PARTIAL): the device completes it from @csum_start.
 */
struct tapir_netif_gso {
	uint8_t type;          /* TAPIR_NETIF_GSO_TCPV4 or TAPIR_NETIF_GSO_TCPV6 */
	uint16_t hdr_len;      /* Ethernet + IP + TCP headers */
	uint16_t gso_size;     /* TCP payload bytes per segment (the MSS) */
	uint16_t csum_start;   /* start of the TCP header */
	uint16_t csum_offset;  /* of the checksum field from @csum_start: 16 */
};

struct tapir_netif_ops {
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
	int (*write)(void *dev, size_t size, tapir_netif_fill_fn fill, void *ctx);
	/* Optional (may be NULL): push out frames queued since the last flush. */
	void (*flush)(void *dev);
};

struct tapir_netif {
	const struct tapir_netif_ops *ops;
	void *dev;
};

/*
 * Offloads, apart from struct tapir_netif_ops so that every netif without them
 * stays as it is (tapir_stack_set_offload() hands them to the stack).
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
struct tapir_netif_offload_ops {
	/* The offloads the device takes, a mask of NETIF_OFF_* */
	unsigned (*offloads)(void *dev);
	/* Describe the next write() (NULL: a plain frame). */
	void (*set_gso)(void *dev, const struct tapir_netif_gso *g);
};

struct tapir_netif_offload {
	const struct tapir_netif_offload_ops *ops;  /* NULL: no offloads */
	void *dev;
};

/*
 * Filters (after smoltcp's phy wrappers PcapWriter and FaultInjector)
 *
 * A filter is a stage between a device and the stack that sees frames in
 * both directions: transmit through its netif operations (write, flush),
 * which end in @lower, the next stage towards the device; receive through
 * its rx(), which hands each frame to @upper, the next stage towards the
 * stack, with tapir_netif_filter_pass(): at once, later (a copy, e.g. delayed or
 * reordered), or never (dropped).  Because every stage takes the same two
 * calls, filters stack in any order:
 *
 *   stack --write--> f[n-1] --> ... --> f[0] --write--> device
 *   stack <--rx----- f[n-1] <-- ... <-- f[0] <--rx----- device (host's read)
 *
 * tapir_netif_chain() links such a chain; the stack is created on the netif it
 * returns, and the host hands every frame it reads to the netif_rx it
 * returns (one call, which ends in the host's own call of tapir_stack_input).  A
 * filter that holds frames has its own poll/deadline calls, which the host
 * drives with the stack's.  Frames are lent for the duration of a call
 * only, in both directions, and the rx flags (NETIF_RX_*) travel with them.
 */

/**
 * tapir_netif_rx_fn - Take a received frame
 * @ctx:   Receiver's context
 * @frame: The frame, lent for the call only
 * @len:   Its length
 * @flags: NETIF_RX_* the device reported
 */
typedef void (*tapir_netif_rx_fn)(void *ctx, const uint8_t *frame, size_t len, unsigned flags);

/* Where received frames go: a filter's rx side, or the end of the chain. */
struct tapir_netif_rx {
	tapir_netif_rx_fn input;
	void *ctx;
};

struct tapir_netif_filter;

struct tapir_netif_filter_ops {
	/* Transmit side: @dev of each call is the struct tapir_netif_filter; what is
	 * written goes to @lower (now or later).  mtu and mac usually ask
	 * @lower.  flush may be NULL. */
	struct tapir_netif_ops tx;
	/* Receive side: @frame (lent for the call only) came from below; pass
	 * it on with tapir_netif_filter_pass(), now or later, or drop it. */
	void (*rx)(struct tapir_netif_filter *f, const uint8_t *frame, size_t len, unsigned flags);
};

/*
 * Embedded in each filter's own struct (first member or not: filters find
 * their struct from it).  @lower and @upper are set by tapir_netif_filter_link()
 * (or tapir_netif_chain()) before the filter is used; a filter is in one chain.
 */
struct tapir_netif_filter {
	const struct tapir_netif_filter_ops *ops;
	struct tapir_netif lower;     /* next stage towards the device */
	struct tapir_netif_rx upper;  /* next stage towards the stack */
};

/* Hand @frame to @rx (lent for the call only). */
static inline void tapir_netif_rx_input(const struct tapir_netif_rx *rx, const uint8_t *frame,
					size_t len, unsigned flags)
{
	rx->input(rx->ctx, frame, len, flags);
}

/* Put @f between @lower (towards the device) and @upper (towards the stack); both copied. */
static inline void tapir_netif_filter_link(struct tapir_netif_filter *f,
					   const struct tapir_netif *lower,
					   const struct tapir_netif_rx *upper)
{
	f->lower = *lower;
	f->upper = *upper;
}

/* Fill @out with @f's transmit side (the netif the stage above writes through). */
static inline void tapir_netif_filter_netif(struct tapir_netif_filter *f, struct tapir_netif *out)
{
	out->ops = &f->ops->tx;
	out->dev = f;
}

static inline void tapir_netif_filter_input(void *ctx, const uint8_t *frame, size_t len,
				      unsigned flags)
{
	struct tapir_netif_filter *f = ctx;
	f->ops->rx(f, frame, len, flags);
}

/* Fill @out with @f's receive side (where the stage below hands frames). */
static inline void tapir_netif_filter_rx(struct tapir_netif_filter *f, struct tapir_netif_rx *out)
{
	out->input = tapir_netif_filter_input;
	out->ctx = f;
}

/* From a filter's rx(): pass @frame on to the next stage towards the stack. */
static inline void tapir_netif_filter_pass(const struct tapir_netif_filter *f, const uint8_t *frame,
				     size_t len, unsigned flags)
{
	f->upper.input(f->upper.ctx, frame, len, flags);
}

/**
 * tapir_netif_chain() - Link filters between a device and the stack
 * @dev:   The device's netif
 * @up:    End of the receive chain (the host's function that calls tapir_stack_input)
 * @f:     Filters, @f[0] next to the device, @f[n-1] next to the stack
 * @n:     How many (0: @tx is @dev and @rx is @up)
 * @tx:    Receives the netif the stack is to write through (the top of the chain)
 * @rx:    Receives where the host is to hand every frame it reads (the bottom)
 */
static inline void tapir_netif_chain(const struct tapir_netif *dev, const struct tapir_netif_rx *up,
			       struct tapir_netif_filter *const *f, size_t n, struct tapir_netif *tx,
			       struct tapir_netif_rx *rx)
{
	struct tapir_netif lower = *dev;
	for (size_t i = 0; i < n; i++) {
		struct tapir_netif_rx upper = *up;
		if (i + 1 < n)
			tapir_netif_filter_rx(f[i + 1], &upper);
		tapir_netif_filter_link(f[i], &lower, &upper);
		tapir_netif_filter_netif(f[i], &lower);
	}
	*tx = lower;
	if (n)
		tapir_netif_filter_rx(f[0], rx);
	else
		*rx = *up;
}

#endif /* TAPIR_NETIF_H */

/*
 * vnetif.h - in-process virtual Ethernet switch joining any number of stacks
 *
 * Theory of operation
 *
 * A struct vnet is a switch with a single FIFO queue.  Each attached port has
 * a MAC address, an MTU and a receive callback; vnet_attach() fills a struct
 * netif whose write() copies the frame into the queue (nothing is delivered
 * from inside write(), so a stack never re-enters itself).  vnet_deliver()
 * pops frames in order and switches each one:
 *
 *   - a frame shorter than an Ethernet header is dropped (drop_runt);
 *   - broadcast/multicast destinations (I/G bit set) go to every port but
 *     the sender;
 *   - a unicast destination goes to the port attached with that MAC, else to
 *     the port that last sent from that MAC (learning), else it is flooded to
 *     every port but the sender (as a real switch floods unknown unicast);
 *   - a frame is never sent back to its sender, and a frame longer than a
 *     receiver's mtu + 14 is not delivered to that receiver (drop_too_big).
 *
 * Frames written by receivers during delivery are appended to the queue and
 * delivered by the same vnet_deliver() call (subject to @max).
 *
 * Bounds: at most VNET_QUEUE_MAX_FRAMES frames and VNET_QUEUE_MAX_BYTES bytes
 * are queued; beyond that write() returns -ENOBUFS (fill is not called) and
 * drop_queue_full is incremented.
 *
 * Single-threaded; no global state.  The struct tapir_netif filled by
 * vnet_attach() points into the vnet: the vnet must outlive every user of it
 * (free stacks before vnet_free()).
 */
#ifndef TAPIR_VNETIF_H
#define TAPIR_VNETIF_H

#include <stddef.h>
#include <stdint.h>

#include "tapir/netif.h"

#define VNET_QUEUE_MAX_FRAMES 65536u
#define VNET_QUEUE_MAX_BYTES (64u << 20)
#define VNET_MAX_PORTS 1024u

struct vnet;

/* Receive callback; @frame is lent for the duration of the call only. */
typedef void (*vnet_rx_fn)(void *ctx, const uint8_t *frame, size_t len);

/* Return: a new, empty switch, or NULL (out of memory) */
struct vnet *vnet_new(void);

/* Free the switch, its ports and queued frames.  NULL is allowed. */
void vnet_free(struct vnet *n);

/**
 * vnet_attach() - Attach a port to the switch
 * @n:   Switch
 * @mac: Port's MAC address (copied)
 * @mtu: Largest Ethernet payload of the port (frames up to @mtu + 14 bytes)
 * @rx:  Called from vnet_deliver() for every frame switched to this port
 * @ctx: Passed to @rx
 * @out: Filled with a netif whose write() queues a copy of the frame
 *
 * Return: 0, -EINVAL (NULL argument, @mtu 0 or above 65535, too many ports)
 *         or -ENOMEM; on error @out is untouched
 */
int vnet_attach(struct vnet *n, const uint8_t mac[6], size_t mtu, vnet_rx_fn rx, void *ctx,
		struct tapir_netif *out);

/**
 * vnet_deliver() - Switch queued frames to their ports
 * @n:   Switch
 * @max: Most frames to take off the queue, 0 = until the queue is empty
 *
 * Frames written by receivers during delivery are queued and delivered by
 * this call too.  A nested call from a receive callback returns 0.
 *
 * Return: number of frames taken off the queue (a broadcast frame counts once)
 */
size_t vnet_deliver(struct vnet *n, size_t max);

/* Return: number of frames queued */
size_t vnet_pending(const struct vnet *n);

/* Optional tap for tests: @fn sees every frame written, before switching (may be NULL). */
void vnet_set_monitor(struct vnet *n, vnet_rx_fn fn, void *ctx);

struct vnet_stats {
	uint64_t queued;            /* frames accepted by write() */
	uint64_t delivered;         /* frames taken off the queue by vnet_deliver() */
	uint64_t port_deliveries;   /* rx callbacks made (a broadcast counts per port) */
	uint64_t flooded;           /* unknown unicast frames flooded */
	uint64_t drop_queue_full;   /* write() refused: queue bound reached */
	uint64_t drop_too_big;      /* write() larger than the sender's mtu + 14, or
				     * deliveries skipped for a receiver's MTU */
	uint64_t drop_runt;         /* frames shorter than 14 bytes */
	uint64_t drop_no_port;      /* frames with no receiver at all */
};

/* Copy the switch's counters into @out. */
void vnet_get_stats(const struct vnet *n, struct vnet_stats *out);

#endif /* TAPIR_VNETIF_H */

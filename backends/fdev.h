/*
 * fdev.h - generic frame device over a file descriptor (one frame per
 *          read/write), shared by the TAP backend and, later, vmnet
 *
 * Theory of operation
 *
 * An fdev owns two buffers: a transmit buffer of mtu + 14 bytes, lent to the
 * stack's fill callback and then written with one write(2), and a receive
 * buffer of FDEV_RX_MAX bytes (any frame a TAP can carry, up to 65535 + 14)
 * into which fdev_read_batch() reads frame after frame until the descriptor
 * has no more (EAGAIN) or @max frames were read, lending each to a callback.
 * The descriptor must be non-blocking.  Both buffers are 64-byte aligned.
 *
 * Virtio-net header (fdev_enable_vnet(), the TAP with IFF_VNET_HDR): every
 * read and write is prefixed by a 10-byte struct virtio_net_hdr, in little-
 * endian order (the TAP is set to TUNSETVNETLE).  Received frames then may
 * be super-segments (up to 65535 + 14 bytes) and carry checksum flags,
 * passed on as NETIF_RX_* (fdev_read_batch()); fdev_netif_offload()
 * gives TAPIR_NETIF_OFF_TSO4 | TAPIR_NETIF_OFF_TSO6 | TAPIR_NETIF_OFF_RX_CSUM (a write
 * after set_gso() may be
 * a super-segment of up to 65535 + 14 bytes, sent with NEEDS_CSUM and
 * GSO_TCPV4 or GSO_TCPV6), and the transmit buffer grows to that size.  Header and frame go out with
 * one write(2) and come in with one read(2): both buffers have 64 bytes of
 * room in front, the header sits right before the frame, and the frames
 * stay 64-byte aligned (one buffer to the kernel: no iovec to import).
 *
 * Errors: a full device (EAGAIN, ENOBUFS on write) is a counted drop and
 * -ENOBUFS; since the frame exists only once filled, the fill callback has
 * already run when a write fails (the frame is dropped, as on a wire).
 */
#ifndef TAPIR_FDEV_H
#define TAPIR_FDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tapir/netif.h"

#define FDEV_ETH_HLEN 14
#define FDEV_MTU_MAX 65521                 /* Linux TAP: 65535 - 14 */
#define FDEV_RX_MAX (65535 + FDEV_ETH_HLEN)

struct fdev_stats {
	uint64_t rx_frames, rx_bytes;
	uint64_t tx_frames, tx_bytes;
	uint64_t tx_drops;       /* device full (EAGAIN/ENOBUFS) */
	uint64_t tx_errors;      /* other write errors, short writes */
	uint64_t rx_errors;      /* read errors other than EAGAIN/EINTR */
	uint64_t rx_empty;       /* zero-length reads (ignored) */
	uint64_t rx_capped;      /* batches stopped at @max with frames left */
};

struct fdev {
	int fd;
	bool vnet;                 /* fdev_enable_vnet(): virtio-net header */
	bool gso_pending;          /* @gso describes the next write */
	struct tapir_netif_gso gso;
	size_t mtu;
	uint8_t mac[6];
	uint8_t *tx_buf, *rx_buf;
	struct fdev_stats stats;
};

/* Frame received with its NETIF_RX_* flags (0 without the virtio-net
 * header); @frame is lent for the call only.  Same shape as tapir_netif_rx_fn. */
typedef void (*fdev_rx_fn)(void *ctx, const uint8_t *frame, size_t len, unsigned flags);

/**
 * fdev_init() - Set up a device on an open, non-blocking descriptor
 * @d:   Device to fill
 * @fd:  Descriptor (owned by the caller; fdev_destroy() does not close it)
 * @mtu: Largest Ethernet payload, 68..FDEV_MTU_MAX
 * @mac: Our MAC address (copied)
 *
 * Return: 0, -EINVAL (bad @mtu) or -ENOMEM
 */
int fdev_init(struct fdev *d, int fd, size_t mtu, const uint8_t mac[6]);

/**
 * fdev_enable_vnet() - Expect a virtio-net header on every read and write
 * @d: Device (its descriptor is a TAP opened with IFF_VNET_HDR, set to
 *     little-endian headers, with TUNSETOFFLOAD done)
 *
 * Return: 0 or -ENOMEM (the device is left as it was)
 */
int fdev_enable_vnet(struct fdev *d);

/* Free the buffers.  Safe on a zeroed or failed struct. */
void fdev_destroy(struct fdev *d);

/* Fill @out with the netif of @d (valid while @d lives). */
void fdev_netif(struct fdev *d, struct tapir_netif *out);

/* Fill @out with the offloads of @d (ops NULL without fdev_enable_vnet()). */
void fdev_netif_offload(struct fdev *d, struct tapir_netif_offload *out);

/**
 * fdev_rx_area() - Where a read of one frame goes, for a reader of its own
 * (daemon/uring.c): *@buf, *@len bytes (the virtio-net header first when
 * enabled).  The area is fdev_read_batch()'s too: one read into it at a time.
 */
void fdev_rx_area(struct fdev *d, void **buf, size_t *len);

/**
 * fdev_rx_frame() - Pass on what a read of @n bytes into fdev_rx_area() got,
 * as fdev_read_batch() does with each of its reads (header flags, counters)
 *
 * Return: 1 if a frame went to @cb, 0 if the read held none (counted as
 * empty, or as an error when shorter than the header)
 */
int fdev_rx_frame(struct fdev *d, size_t n, fdev_rx_fn cb, void *ctx);

/**
 * fdev_read_batch() - Read frames until none is left or @max were read
 * @d:   Device
 * @max: Most frames to read in this call
 * @cb:  Called with each frame and its NETIF_RX_* flags (0 without the
 *       virtio-net header)
 * @ctx: Passed to @cb
 *
 * Return: number of frames read (0 if none was ready), or a negative errno
 *         from read(2) other than EAGAIN/EINTR (the device is unusable)
 */
int fdev_read_batch(struct fdev *d, size_t max, fdev_rx_fn cb, void *ctx);

#endif /* TAPIR_FDEV_H */

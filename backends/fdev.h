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
 * Errors: a full device (EAGAIN, ENOBUFS on write) is a counted drop and
 * -ENOBUFS; since the frame exists only once filled, the fill callback has
 * already run when a write fails (the frame is dropped, as on a wire).
 */
#ifndef TAPIR_FDEV_H
#define TAPIR_FDEV_H

#include <stddef.h>
#include <stdint.h>

#include "netif.h"

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
	size_t mtu;
	uint8_t mac[6];
	uint8_t *tx_buf, *rx_buf;
	struct fdev_stats stats;
};

/* Frame received; @frame is lent for the call only. */
typedef void (*fdev_rx_fn)(void *ctx, const uint8_t *frame, size_t len);

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

/* Free the buffers.  Safe on a zeroed or failed struct. */
void fdev_destroy(struct fdev *d);

/* Fill @out with the netif of @d (valid while @d lives). */
void fdev_netif(struct fdev *d, struct netif *out);

/**
 * fdev_read_batch() - Read frames until none is left or @max were read
 * @d:   Device
 * @max: Most frames to read in this call
 * @cb:  Called with each frame
 * @ctx: Passed to @cb
 *
 * Return: number of frames read (0 if none was ready), or a negative errno
 *         from read(2) other than EAGAIN/EINTR (the device is unusable)
 */
int fdev_read_batch(struct fdev *d, size_t max, fdev_rx_fn cb, void *ctx);

#endif /* TAPIR_FDEV_H */

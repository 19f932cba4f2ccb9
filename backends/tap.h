/*
 * tap.h - frame-device backends behind one handle: Linux TAP, pcap, macOS vmnet
 *
 * tap_open_backend() opens the backend named in the config ("tap", "pcap",
 * "vmnet"); the rest of this interface is the same for all three.
 *
 * tap_open() attaches to the TAP interface @name in the current network
 * namespace (IFF_TAP | IFF_NO_PI, non-blocking), creating it when it does
 * not exist.  When tapird created it, it also sets the interface's MTU to
 * the configured one and brings it up, so that the kernel side is usable at
 * once; an interface that already existed is left as it is.  A created
 * interface disappears when the descriptor is closed (it is not persistent).
 *
 * The frame logic (buffers, batching, MTU, MAC) is the generic fdev core
 * (fdev.h), which the macOS vmnet backend shares: vmnet.c only bridges
 * vmnet.framework to a socketpair whose other end is an fdev (vmnet.h), so
 * tap_read_batch(), tap_netif(), tap_fd() and tap_get_stats() are the TAP's
 * code for it too.  The TAP itself is Linux-only: elsewhere tap_open()
 * returns -ENOTSUP; vmnet is macOS-only: elsewhere opening it returns
 * -ENOTSUP.
 */
#ifndef TAPIR_TAP_H
#define TAPIR_TAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fdev.h"
#include "tapir/netif.h"

#define TAP_BATCH_MAX 256  /* frames per tap_read_batch(), so timers still run */

struct tap;

/* Frame received with its NETIF_RX_* flags (always 0 without offloads);
 * @frame is lent for the call only.  Same shape as tapir_netif_rx_fn. */
typedef void (*tap_rx_fn)(void *ctx, const uint8_t *frame, size_t len, unsigned flags);

/**
 * tap_open_backend() - Open the backend called @backend
 * @out:     Receives the device
 * @backend: "tap" (tap_open()), "pcap" (tap_open_pcap()) or "vmnet"
 * @name:    Interface name for tap and pcap; ignored by vmnet, whose
 *           tap_name() is "vmnet"
 * @mtu:     Largest Ethernet payload, 68..65521 (vmnet: at most vmnet's MTU)
 * @mac:     Our MAC address for tap and pcap; vmnet assigns the one the
 *           stack must use, which tap_mac() tells
 * @offload: Ask for offloads.  For "tap": open with IFF_VNET_HDR and
 *           TUNSETOFFLOAD (TUN_F_CSUM | TUN_F_TSO4): the netif then takes TSO
 *           super-segments and received frames carry NETIF_RX_* flags
 *           (tap_read_batch()).  When the TAP cannot (an existing TAP that
 *           refuses the header, an old kernel), it is opened without:
 *           tap_offloads() tells.  Other backends ignore it.
 * @err:     Receives a message on error
 * @errlen:  Size of @err
 *
 * A vmnet interface is created by the call and gone when closed, so
 * tap_created() is true for it.
 *
 * Return: 0, -ENOTSUP (backend not available on this system), -EINVAL
 *         (unknown backend, bad @name or @mtu) or another negative errno;
 *         the message is in @err
 */
int tap_open_backend(struct tap **out, const char *backend, const char *name, size_t mtu,
		     const uint8_t mac[6], bool offload, char *err, size_t errlen);

/* Fill @out with the offloads of @t (ops NULL = none; valid while @t lives). */
void tap_netif_offload(struct tap *t, struct tapir_netif_offload *out);

/* Return: the NETIF_OFF_* offloads in use on @t (0 = none) */
unsigned tap_offloads(const struct tap *t);
/* Return: why offloads asked of tap_open_backend() are off ("" if
 * they are on or were not asked for); owned by @t */
const char *tap_offload_error(const struct tap *t);

/**
 * tap_open() - Attach to (or create) a TAP interface
 * @out:    Receives the device
 * @name:   Interface name (1..15 characters)
 * @mtu:    Largest Ethernet payload, 68..65521; frames up to @mtu + 14 bytes
 * @mac:    Our MAC address (the stack's, not the kernel side's)
 * @err:    Receives a message on error
 * @errlen: Size of @err
 *
 * Return: 0, or a negative errno (message in @err); -ENOTSUP when not on Linux
 */
int tap_open(struct tap **out, const char *name, size_t mtu, const uint8_t mac[6], char *err,
	     size_t errlen);

/* The pcap backend (pcap.h) behind the same interface: @device must exist;
 * tap_created() is false.  Return: 0, or a negative errno (message in @err) */
int tap_open_pcap(struct tap **out, const char *device, size_t mtu, const uint8_t mac[6],
		  char *err, size_t errlen);

/**
 * tap_open_fd() - Take a TAP descriptor attached elsewhere (another namespace)
 * @out:  Receives the device
 * @fd:   A TAP descriptor (TUNSETIFF done; taken over, closed by tap_close())
 * @vnet: It was attached with IFF_VNET_HDR (and the offloads tap_open_backend()
 *        sets): frames carry the virtio-net header and TSO is on
 * @mtu:  Largest Ethernet payload; the interface itself is left as it is
 * @mac:  Our MAC address
 *
 * `tapir up --netns new --gateway` opens the TAP inside the new namespace and
 * hands it to tapird, which stays in the caller's namespace for its sockets.
 * Return: 0, or a negative errno (message in @err)
 */
int tap_open_fd(struct tap **out, int fd, bool vnet, size_t mtu, const uint8_t mac[6],
		char *err, size_t errlen);

/* Close the descriptor and free the device.  NULL is allowed. */
void tap_close(struct tap *t);

/* Fill @out with the netif of @t (valid while @t lives). */
void tap_netif(struct tap *t, struct tapir_netif *out);

/* Return: the descriptor, for polling (owned by @t) */
int tap_fd(const struct tap *t);

/* Return: the interface name given by the kernel ("vmnet" for vmnet) */
const char *tap_name(const struct tap *t);

/* Copy the MAC address the stack uses on @t into @mac (vmnet: vmnet's). */
void tap_mac(const struct tap *t, uint8_t mac[6]);

/* Return: true if tap_open() created the interface */
bool tap_created(const struct tap *t);

/* Return: the kernel's MTU of the interface, or a negative errno (-ENOTSUP
 * for vmnet, and anywhere but Linux) */
int tap_kernel_mtu(const struct tap *t);

/**
 * tap_read_batch() - Read the frames that are ready, at most TAP_BATCH_MAX
 * @t:   Device
 * @cb:  Called with each frame and its NETIF_RX_* flags, for the netif chain
 *       that ends in tapir_stack_input() (always 0 without offloads; a device
 *       with offloads may deliver partial checksums)
 * @ctx: Passed to @cb
 *
 * Return: frames read, or a negative errno if the device failed
 */
int tap_read_batch(struct tap *t, tap_rx_fn cb, void *ctx);

/**
 * tap_rx_area() - For a reader of its own (daemon/uring.c): where one read of
 * the TAP's descriptor goes (fdev_rx_area()); the frame it gets is passed on
 * with tap_rx_frame().  Only for a TAP read through its descriptor.
 *
 * Return: 0, or -ENOTSUP (libpcap reads for itself)
 */
int tap_rx_area(struct tap *t, void **buf, size_t *len);

/* tap_rx_frame() - Pass on what a read of @n bytes into tap_rx_area() got, as
 * tap_read_batch() does (fdev_rx_frame()).  Return: 1 if a frame went to @cb */
int tap_rx_frame(struct tap *t, size_t n, tap_rx_fn cb, void *ctx);

/* Copy the device's counters into @out (vmnet: the bridge's own failures are
 * added: frames vmnet delivered that the socketpair could not take count as
 * rx_errors, vmnet_write() failures as tx_errors; see vmnet.h). */
void tap_get_stats(const struct tap *t, struct fdev_stats *out);

#endif /* TAPIR_TAP_H */

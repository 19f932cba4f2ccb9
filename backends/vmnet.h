/*
 * vmnet.h - macOS vmnet.framework bridged to a datagram socketpair (macOS only)
 *
 * Theory of operation
 *
 * vmnet hands frames over on a dispatch queue, not through a descriptor.
 * To keep the macOS-only part small, this file only bridges vmnet to one end
 * of an AF_UNIX SOCK_DGRAM socketpair (a datagram is a frame, as a TAP read
 * is).  The other end is given to the caller: tap.c runs it with the same
 * fdev core as the Linux TAP (fdev.h: buffers, batching, MTU, MAC, counters),
 * and the daemon polls it with the same libuv loop, so from the descriptor
 * up everything is the TAP's code.
 *
 * All bridge work runs on one serial dispatch queue, so the two directions
 * never run at the same time and share one set of buffers of
 * vmnet_max_packet_size_key bytes each, a batch of them: 32, fewer when
 * that would pass the 256 KiB vmnet allows per read or write call.
 *
 * - vmnet -> loop: vmnet's VMNET_INTERFACE_PACKETS_AVAILABLE event calls
 *   vmnet_read() for a batch (*pktcnt is the array size on input, the number
 *   read on output, vm_pkt_size the buffer size in and the frame size out)
 *   until it returns less than a batch, and sends each frame into the pair.
 *   A full pair drops the frame, as a wire does.
 * - loop -> vmnet: a dispatch read source on the pair receives what the stack
 *   wrote, a batch at most, and hands it to one vmnet_write().
 *
 * vmnet_start_interface() is asked for VMNET_SHARED_MODE (the host NATs
 * to the outside and serves DHCP) with our MTU; its completion
 * handler gives the MAC the stack must use (vmnet_mac_address_key), the MTU
 * and the largest frame.  The start and the stop are waited for with a
 * semaphore: the calling thread blocks until vmnet answers, once at start
 * and once at close.  Close disables the event, cancels the read source and
 * waits for its cancel handler, stops the interface and waits, drains the
 * queue, and only then closes the pair and frees the buffers.
 *
 * The pair's buffers are set to 4 MiB at both ends: on macOS SO_SNDBUF also
 * bounds the size of one datagram (net.local.dgram.maxdgram, 2048 bytes, is
 * only the default), so frames up to 64 KiB fit.
 *
 * Needs root or the com.apple.vm.networking entitlement.  Never run: this
 * file is type-checked on Linux against stub headers (tests/vmnet/), but the
 * vmnet calls, the dispatch queue and the entitlement are unverified.
 */
#ifndef TAPIR_VMNET_H
#define TAPIR_VMNET_H

#include <stddef.h>
#include <stdint.h>

struct vmnet_bridge;

/**
 * vmnet_bridge_open() - Start a shared-mode vmnet interface and its bridge
 * @out:    Receives the bridge
 * @mtu:    Largest Ethernet payload; must fit vmnet's MTU and frame size
 * @fd:     Receives the loop's end of the pair: non-blocking, close-on-exec,
 *          one frame per datagram (owned by the bridge, valid until
 *          vmnet_bridge_close())
 * @mac:    Receives the MAC address vmnet assigned (the stack's)
 * @err:    Receives a message on error
 * @errlen: Size of @err
 *
 * Return: 0, or a negative errno (-EPERM: not root nor entitled; -EINVAL:
 *         @mtu above vmnet's); the message is in @err
 */
int vmnet_bridge_open(struct vmnet_bridge **out, size_t mtu, int *fd, uint8_t mac[6],
		      char *err, size_t errlen);

/* Stop vmnet and the bridge, then close both ends of the pair and free @b.
 * Blocks until vmnet confirms the stop.  NULL is allowed. */
void vmnet_bridge_close(struct vmnet_bridge *b);

/* The bridge's own losses: @rx_errors, frames vmnet delivered that were not
 * passed on (pair full, vmnet_read() failure, oversized); @tx_errors, frames
 * the stack wrote that vmnet_write() did not take.  Any thread. */
void vmnet_bridge_get_stats(const struct vmnet_bridge *b, uint64_t *rx_errors,
			    uint64_t *tx_errors);

#endif /* TAPIR_VMNET_H */

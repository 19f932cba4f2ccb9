/*
 * vmnet.h - macOS vmnet.framework backend (compiled on macOS only)
 *
 * Theory of operation
 *
 * vmnet hands frames over on a dispatch queue, not through a descriptor.
 * To keep the untested part small, this file only bridges vmnet to one end
 * of an AF_UNIX SOCK_DGRAM socketpair (a datagram is a frame, as a TAP read
 * is); the other end is an ordinary non-blocking descriptor run by the same
 * fdev core as the Linux TAP (fdev.h: buffers, batching, MTU, MAC, counters)
 * and polled by the same libuv loop.  vmnet's "packets available" event
 * reads frames with vmnet_read() and sends each into the pair; a dispatch
 * read source on the pair takes frames the stack wrote and vmnet_write()s
 * them.  The MAC is the one vmnet assigns (vmnet_mac_address_key).
 *
 * Not verified on Linux (it is not compiled there): everything in vmnet.c.
 * Limits to know: macOS caps AF_UNIX datagrams at net.local.dgram.maxdgram
 * (2048 bytes by default), so frames above that need the sysctl raised;
 * vmnet needs the com.apple.vm.networking entitlement or root.
 */
#ifndef TAPIR_VMNET_H
#define TAPIR_VMNET_H

#include <stddef.h>
#include <stdint.h>

#include "fdev.h"
#include "netif.h"

struct vmnet_dev;

/**
 * vmnet_dev_open() - Start a shared-mode vmnet interface
 * @mtu: Largest Ethernet payload (vmnet's own maximum is checked)
 * Return: 0, or a negative errno (message in @err)
 */
int vmnet_dev_open(struct vmnet_dev **out, size_t mtu, char *err, size_t errlen);
void vmnet_dev_close(struct vmnet_dev *v);
void vmnet_dev_netif(struct vmnet_dev *v, struct netif *out);
int vmnet_dev_fd(const struct vmnet_dev *v);
int vmnet_dev_read_batch(struct vmnet_dev *v, size_t max, fdev_rx_fn cb, void *ctx);
void vmnet_dev_mac(const struct vmnet_dev *v, uint8_t mac[6]);

#endif /* TAPIR_VMNET_H */

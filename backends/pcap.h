/*
 * pcap.h - pcap backend: frames on an existing interface through libpcap
 *
 * For hosts where a TAP is not possible: tapird sends and receives raw
 * Ethernet frames on an interface that exists already (a veth end, a
 * bridge port, a NIC given to it), with libpcap's injection and capture.
 * The handle is non-blocking, in immediate mode, promiscuous, and sees only
 * the frames that arrive (PCAP_D_IN), not the ones we inject.  The frame
 * logic (MTU, MAC, one frame per write, batches of at most @max) is the same
 * as the fd device's (fdev.h), with the same counters.
 */
#ifndef TAPIR_PCAP_H
#define TAPIR_PCAP_H

#include <stddef.h>
#include <stdint.h>

#include "fdev.h"
#include "tapir/netif.h"

struct pcapdev;

/* Return: 0, or negative errno (message in @err) */
int pcapdev_open(struct pcapdev **out, const char *device, size_t mtu, const uint8_t mac[6],
		 char *err, size_t errlen);
void pcapdev_close(struct pcapdev *p);
void pcapdev_netif(struct pcapdev *p, struct tapir_netif *out);
/* Return: a descriptor to poll for readability */
int pcapdev_fd(const struct pcapdev *p);
/* Return: frames read (0 if none), or negative errno if the device failed */
int pcapdev_read_batch(struct pcapdev *p, size_t max, fdev_rx_fn cb, void *ctx);
void pcapdev_get_stats(const struct pcapdev *p, struct fdev_stats *out);

#endif /* TAPIR_PCAP_H */

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

#endif /* TAPIR_NETIF_H */

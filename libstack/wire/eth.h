/*
 * eth.h - Ethernet II frame view and representation
 *
 * A struct eth_view is only ever filled by a successful eth_view_check(),
 * after which every accessor reads inside the checked buffer.  The view
 * borrows the buffer: it is valid as long as the bytes it was checked over.
 * 802.1Q tags and 802.3 length frames are not interpreted here: the
 * ethertype is returned as it stands and the caller decides.
 */
#ifndef TAPIR_WIRE_ETH_H
#define TAPIR_WIRE_ETH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "tapir/stack.h"	/* TAPIR_ETHERTYPE_IPV4, _ARP */

#define ETH_HDR_LEN 14
#define ETH_ALEN 6
#define ETH_ADDR_STRLEN 18		/* "xx:xx:xx:xx:xx:xx" and NUL */

/* TAPIR_ETHERTYPE_IPV4 and _ARP are include/tapir/stack.h's */
#define ETHERTYPE_IPV6 0x86dd

/* The all-ones address ff:ff:ff:ff:ff:ff */
extern const uint8_t eth_broadcast[ETH_ALEN];

/**
 * struct eth_view - a checked Ethernet frame, borrowed from the caller
 * @buf:	First byte of the frame (destination address)
 * @len:	Length of the frame, at least ETH_HDR_LEN
 */
struct eth_view {
	const uint8_t *buf;
	size_t len;
};

/**
 * eth_view_check() - Check that @len bytes at @buf can hold an Ethernet header
 * @v:		View to fill, untouched on error
 * @buf:	Frame, borrowed for as long as @v is used
 * @len:	Length of the frame
 *
 * Return: 0 on success, -EBADMSG if @len < ETH_HDR_LEN
 */
int eth_view_check(struct eth_view *v, const uint8_t *buf, size_t len);

/* Accessors: pointers point into the frame, valid as long as it is. */
static inline const uint8_t *eth_dst(const struct eth_view *v)
{
	return v->buf;
}

static inline const uint8_t *eth_src(const struct eth_view *v)
{
	return v->buf + 6;
}

static inline uint16_t eth_ethertype(const struct eth_view *v)
{
	return get_be16(v->buf + 12);
}

static inline const uint8_t *eth_payload(const struct eth_view *v)
{
	return v->buf + ETH_HDR_LEN;
}

static inline size_t eth_payload_len(const struct eth_view *v)
{
	return v->len - ETH_HDR_LEN;
}

/**
 * struct eth_repr - the meaning of an Ethernet II header
 * @dst:	Destination MAC address
 * @src:	Source MAC address
 * @ethertype:	Type of the payload (ETHERTYPE_*)
 */
struct eth_repr {
	uint8_t dst[ETH_ALEN], src[ETH_ALEN];
	uint16_t ethertype;
};

/**
 * eth_repr_parse() - Copy the header of a checked frame into @r
 * @r:	Representation to fill
 * @v:	Checked view
 */
void eth_repr_parse(struct eth_repr *r, const struct eth_view *v);

/**
 * eth_repr_emit() - Write the header described by @r
 * @r:		Header to write
 * @buf:	At least ETH_HDR_LEN bytes; exactly ETH_HDR_LEN are written
 */
void eth_repr_emit(const struct eth_repr *r, uint8_t *buf);

/**
 * eth_addr_is_broadcast() - Is @mac ff:ff:ff:ff:ff:ff?
 * @mac:	ETH_ALEN bytes
 *
 * Return: true for the broadcast address only
 */
bool eth_addr_is_broadcast(const uint8_t *mac);

/**
 * eth_addr_is_multicast() - Is the group bit (bit 0 of the first byte) set?
 * @mac:	ETH_ALEN bytes
 *
 * Return: true for multicast addresses, broadcast included
 */
bool eth_addr_is_multicast(const uint8_t *mac);

/**
 * eth_addr_is_zero() - Is @mac 00:00:00:00:00:00?
 * @mac:	ETH_ALEN bytes
 *
 * Return: true for the all-zeroes address only
 */
bool eth_addr_is_zero(const uint8_t *mac);

/**
 * eth_addr_parse() - Parse "xx:xx:xx:xx:xx:xx" (hex digits, either case)
 * @s:		NUL-terminated string: exactly six pairs of hex digits and
 *		five colons, nothing before or after
 * @mac:	Address to fill, untouched on error
 *
 * Return: 0 on success, -EINVAL if @s is not exactly such an address
 */
int eth_addr_parse(const char *s, uint8_t mac[ETH_ALEN]);
/* As eth_addr_parse(), also taking one hex digit per byte ("2:0:5e:0:53:1"),
 * as ether_ntoa() and macOS's vmnet print them.  Return: 0 or -EINVAL */
int eth_addr_parse_short(const char *s, uint8_t mac[ETH_ALEN]);

/**
 * eth_addr_format() - Format @mac as "xx:xx:xx:xx:xx:xx" (lower case)
 * @mac:	ETH_ALEN bytes
 * @buf:	ETH_ADDR_STRLEN (18) bytes, NUL-terminated on return
 */
void eth_addr_format(const uint8_t *mac, char buf[ETH_ADDR_STRLEN]);

#endif /* TAPIR_WIRE_ETH_H */

/*
 * udp.h - UDP datagram representation (RFC 768)
 *
 * The checksum covers the IP pseudo-header, so parse and emit take the
 * source and destination addresses (IPv4: host byte order), or, for IPv6
 * (RFC 8200 8.1), the pseudo-header's partial sum (udp_repr_parse_sum(),
 * udp_repr_emit_sum()).  A checksum field of 0 means "not computed": over
 * IPv4 it is accepted, over IPv6 it is an error (-ENODATA, the caller drops
 * and counts it).  A computed checksum of 0 is sent as 0xffff, its other
 * one's-complement form.
 */
#ifndef TAPIR_WIRE_UDP_H
#define TAPIR_WIRE_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UDP_HDR_LEN 8
#define UDP_MAX_PAYLOAD_LEN (65535 - UDP_HDR_LEN)

/**
 * struct udp_repr - a UDP datagram
 * @src_port:		Source port (0 is not rejected here)
 * @dst_port:		Destination port (0 is not rejected here)
 * @payload:		Data after the header.  From udp_repr_parse() it points
 *			into the caller's buffer (valid as long as it is); for
 *			emit it is read during the call only
 * @payload_len:	Length of @payload
 */
struct udp_repr {
	uint16_t src_port, dst_port;
	const uint8_t *payload;
	size_t payload_len;
};

/**
 * udp_repr_parse() - Check and decode a UDP datagram
 * @r:		Representation to fill, untouched on error
 * @buf:	Datagram (the IPv4 payload)
 * @len:	Bytes at @buf; bytes past the UDP length field are ignored
 * @src:	IPv4 source address, host byte order, for the pseudo-header
 * @dst:	IPv4 destination address, host byte order
 *
 * The payload is trimmed to the length field.  A checksum field of 0 is
 * accepted unverified; otherwise the checksum over pseudo-header, header and
 * payload must verify.
 *
 * Return: 0 on success, -EBADMSG if @len < 8 or the length field is < 8 or
 *	   > @len, -EILSEQ if the checksum is present and wrong
 */
int udp_repr_parse(struct udp_repr *r, const uint8_t *buf, size_t len,
		   uint32_t src, uint32_t dst);

/* As udp_repr_parse(), but the checksum is verified only if @verify (a
 * device vouched for it, or it holds only the pseudo-header sum). */
int udp_repr_parse_opt(struct udp_repr *r, const uint8_t *buf, size_t len,
		       uint32_t src, uint32_t dst, bool verify);

/**
 * udp_repr_emit() - Write the 8-byte header of @r, checksum included
 * @r:		Datagram to write; @r->payload_len <= UDP_MAX_PAYLOAD_LEN
 *		(the caller's bug otherwise: the length field wraps)
 * @buf:	At least UDP_HDR_LEN bytes; exactly UDP_HDR_LEN are written
 * @src:	IPv4 source address, host byte order, for the pseudo-header
 * @dst:	IPv4 destination address, host byte order
 *
 * The checksum covers pseudo-header, header and @r->payload, which is NOT
 * copied: the caller places it right after the header.  A computed checksum
 * of 0 is written as 0xffff.
 */
void udp_repr_emit(const struct udp_repr *r, uint8_t *buf, uint32_t src, uint32_t dst);

/**
 * udp_repr_parse_sum() - udp_repr_parse_opt() with the pseudo-header given as a sum
 * @r:         Representation to fill, untouched on error
 * @buf:       Datagram
 * @len:       Bytes at @buf
 * @pseudo:    Partial sum of the pseudo-header, its length the UDP length
 *             field (RFC 8200 8.1: the upper-layer packet's length)
 * @verify:    Verify the checksum (false: a device vouched for it)
 * @zero_ok:   A checksum field of 0 is "not computed" (IPv4); false: it is
 *             refused (IPv6)
 *
 * Return: 0, -EBADMSG (length), -EILSEQ (checksum wrong), -ENODATA (zero
 *         checksum where @zero_ok is false)
 */
int udp_repr_parse_sum(struct udp_repr *r, const uint8_t *buf, size_t len, uint64_t pseudo,
		       bool verify, bool zero_ok);

/* udp_repr_emit() with the pseudo-header's partial sum (see udp_repr_parse_sum()). */
void udp_repr_emit_sum(const struct udp_repr *r, uint8_t *buf, uint64_t pseudo);

#endif /* TAPIR_WIRE_UDP_H */

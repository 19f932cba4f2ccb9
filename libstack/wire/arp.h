/*
 * arp.h - ARP packet representation, Ethernet/IPv4 only (RFC 826)
 *
 * Only the one combination the stack speaks is accepted: hardware type 1
 * (Ethernet), protocol type 0x0800 (IPv4), address lengths 6 and 4, and the
 * operations request and reply.  Anything else is malformed for us, so the
 * fixed 28-byte layout needs no view: parse checks and copies in one step.
 */
#ifndef TAPIR_WIRE_ARP_H
#define TAPIR_WIRE_ARP_H

#include <stddef.h>
#include <stdint.h>

#define ARP_LEN 28
#define ARP_HTYPE_ETHERNET 1
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2

/**
 * struct arp_repr - an Ethernet/IPv4 ARP packet
 * @op:		ARP_OP_REQUEST or ARP_OP_REPLY
 * @sha:	Sender hardware address
 * @spa:	Sender protocol address, host byte order
 * @tha:	Target hardware address (zero in a request)
 * @tpa:	Target protocol address, host byte order
 */
struct arp_repr {
	uint16_t op;
	uint8_t sha[6];
	uint32_t spa;
	uint8_t tha[6];
	uint32_t tpa;
};

/**
 * arp_repr_parse() - Check and decode an ARP packet
 * @r:		Representation to fill, untouched on error
 * @buf:	ARP packet (Ethernet payload); bytes after the 28th, such as
 *		Ethernet padding, are ignored
 * @len:	Length of @buf
 *
 * Return: 0 on success, -EBADMSG if @len < ARP_LEN, the hardware type is not
 *	   1, the protocol type not 0x0800, the hardware length not 6, the
 *	   protocol length not 4, or the operation neither 1 nor 2
 */
int arp_repr_parse(struct arp_repr *r, const uint8_t *buf, size_t len);

/**
 * arp_repr_emit() - Write the ARP packet described by @r
 * @r:		Packet to write (@r->op is written as it is)
 * @buf:	At least ARP_LEN bytes; exactly ARP_LEN are written
 */
void arp_repr_emit(const struct arp_repr *r, uint8_t *buf);

#endif /* TAPIR_WIRE_ARP_H */

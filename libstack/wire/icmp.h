/*
 * icmp.h - ICMPv4 message representation (RFC 792)
 *
 * Every ICMP message starts with the same 8 bytes: type, code, checksum and
 * four bytes whose meaning depends on the type (echo identifier and
 * sequence, next-hop MTU, parameter-problem pointer, or unused).  The data
 * after it is an echo payload, handed on as it is, or in an error the
 * offending datagram's IP header and the start of its data (the "quote"),
 * which icmp_quote_parse() decodes for the transports.
 */
#ifndef TAPIR_WIRE_ICMP_H
#define TAPIR_WIRE_ICMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tapir/stack.h"	/* TAPIR_ICMP_*: the public types and codes */

#define ICMP_HDR_LEN 8

/*
 * Types and codes: the public ones (TAPIR_ICMP_*) are include/tapir/stack.h's;
 * these are the ones only the wire code needs.
 */
#define ICMP_SOURCE_QUENCH 4

/* Codes of TAPIR_ICMP_DEST_UNREACH */
#define ICMP_UNREACH_SRC_ROUTE_FAILED 5

/* Codes of TAPIR_ICMP_TIME_EXCEEDED */
#define ICMP_EXCEEDED_TTL 0
#define ICMP_EXCEEDED_REASM 1

/**
 * struct icmp_repr - an ICMPv4 message
 * @type:	TAPIR_ICMP_ECHO_REPLY, TAPIR_ICMP_DEST_UNREACH, ...
 * @code:	ICMP_UNREACH_* or ICMP_EXCEEDED_* for those types, else 0
 * @rest:	Bytes 4..7 of the header as one big-endian word: echo
 *		id << 16 | seq, frag-needed next-hop MTU in the low 16 bits,
 *		parameter-problem pointer in the top 8 bits, else usually 0
 * @data:	Bytes after the 8-byte header.  From icmp_repr_parse() it
 *		points into the caller's buffer (valid as long as it is); for
 *		emit it is read during the call only
 * @data_len:	Length of @data
 */
struct icmp_repr {
	uint8_t type, code;
	uint32_t rest;
	const uint8_t *data;
	size_t data_len;
};

/**
 * icmp_repr_parse() - Check and decode an ICMP message
 * @r:		Representation to fill, untouched on error
 * @buf:	The whole message (the IPv4 payload)
 * @len:	Its length
 *
 * Return: 0 on success, -EBADMSG if @len < ICMP_HDR_LEN, -EILSEQ if the
 *	   checksum over the whole message does not verify
 */
int icmp_repr_parse(struct icmp_repr *r, const uint8_t *buf, size_t len);

/**
 * icmp_repr_emit() - Write the 8-byte header of @r, checksum included
 * @r:		Message to write
 * @buf:	At least ICMP_HDR_LEN bytes; exactly ICMP_HDR_LEN are written
 *
 * The checksum covers the header and @r->data, which is NOT copied: the
 * caller places it right after the header (e.g. as an IPv4 payload iovec).
 */
void icmp_repr_emit(const struct icmp_repr *r, uint8_t *buf);

/**
 * icmp_type_is_error() - Is @type an error message (RFC 1122 3.2.2)?
 * @type:	ICMP type
 *
 * Return: true for destination unreachable, source quench, redirect, time
 *	   exceeded and parameter problem (3, 4, 5, 11, 12): messages that
 *	   must never be sent in answer to one another
 */
bool icmp_type_is_error(uint8_t type);

/* Echo identifier of an echo request or reply */
static inline uint16_t icmp_echo_id(const struct icmp_repr *r)
{
	return (uint16_t)(r->rest >> 16);
}

/* Echo sequence number of an echo request or reply */
static inline uint16_t icmp_echo_seq(const struct icmp_repr *r)
{
	return (uint16_t)r->rest;
}

/* Next-hop MTU of a fragmentation-needed message (RFC 1191) */
static inline uint16_t icmp_mtu(const struct icmp_repr *r)
{
	return (uint16_t)r->rest;
}

/* Offending byte offset of a parameter-problem message */
static inline uint8_t icmp_pointer(const struct icmp_repr *r)
{
	return (uint8_t)(r->rest >> 24);
}

/* @rest for an echo request or reply */
static inline uint32_t icmp_rest_echo(uint16_t id, uint16_t seq)
{
	return (uint32_t)id << 16 | seq;
}

/* @rest for a fragmentation-needed message */
static inline uint32_t icmp_rest_mtu(uint16_t mtu)
{
	return mtu;
}

/* @rest for a parameter-problem message */
static inline uint32_t icmp_rest_pointer(uint8_t pointer)
{
	return (uint32_t)pointer << 24;
}

/**
 * struct tapir_icmp_quote - the datagram an ICMP error quotes (RFC 792: its IP
 *		       header and at least the first 8 bytes of its data;
 *		       RFC 1812 routers may quote more)
 * @src:	Quoted source address (host order): ours, if we sent it
 * @dst:	Quoted destination address
 * @proto:	Quoted IP protocol
 * @total_len:	Quoted total length, of the datagram as it was sent (the
 *		quote itself is usually shorter)
 * @frag_offset: Quoted fragment offset in bytes; not 0 means the quoted data
 *		does not start with a transport header
 * @have_ports:	@src_port and @dst_port were read: TCP or UDP, fragment
 *		offset 0 and at least 4 bytes of data quoted
 * @src_port:	Quoted source port (our port, if we sent it)
 * @dst_port:	Quoted destination port
 * @have_seq:	@tcp_seq was read: TCP, fragment offset 0, at least 8 bytes
 * @tcp_seq:	Quoted TCP sequence number
 * @ip_header:	The quoted IP header, options included (into the caller's
 *		buffer, valid as long as it is)
 * @ip_header_len: Its length, from the IHL: 20 to 60
 * @l4:		The quoted data after the header
 * @l4_len:	How many bytes of it were quoted (0 or more)
 */
struct tapir_icmp_quote {
	uint32_t src, dst;
	uint8_t proto;
	uint16_t total_len;
	uint32_t frag_offset;
	bool have_ports;
	uint16_t src_port, dst_port;
	bool have_seq;
	uint32_t tcp_seq;
	const uint8_t *ip_header;
	size_t ip_header_len;
	const uint8_t *l4;
	size_t l4_len;
};

/**
 * icmp_quote_parse() - Decode the quote of an ICMP error
 * @q:		Quote to fill, untouched on error
 * @buf:	The data after the ICMP header (struct icmp_repr .data)
 * @len:	Its length
 *
 * The quoted header's checksum and total length are not checked: routers
 * may have changed the datagram (TTL, options) or cut it.
 *
 * Return: 0 on success, -EBADMSG if @buf cannot hold an IPv4 header: shorter
 *	   than 20 bytes, version not 4, IHL below 5 or beyond @len
 */
int icmp_quote_parse(struct tapir_icmp_quote *q, const uint8_t *buf, size_t len);

#endif /* TAPIR_WIRE_ICMP_H */

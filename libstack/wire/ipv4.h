/*
 * ipv4.h - IPv4 header view and representation (RFC 791), options included
 *
 * A struct ipv4_view is only ever filled by a successful ipv4_view_check(),
 * which checks every length: after it, every accessor reads inside the
 * header, and the payload ends at the total length field (Ethernet padding
 * after it is trimmed away).  The view borrows the caller's buffer.
 *
 * The semantic checks -- header checksum, well-formed options -- are done by
 * ipv4_repr_parse().  Errors are the negated values of enum ipv4_bad, one per
 * reason, so the stack can count each drop under its own name.
 *
 * Addresses are host-order numbers; tapir_ipv4_addr_parse() and tapir_ipv4_addr_format()
 * are their one text form (dotted quad), for the stack, the config and the
 * CLI alike.
 */
#ifndef TAPIR_WIRE_IPV4_H
#define TAPIR_WIRE_IPV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytes.h"

#define IPV4_HDR_LEN 20			/* without options */
#define IPV4_ADDR_STRLEN 16		/* "255.255.255.255" and NUL */
#define IPV4_MAX_HDR_LEN 60
#define IPV4_MAX_OPTIONS_LEN 40
#define IPV4_FLAG_RESERVED 0x8000
#define IPV4_FLAG_DF 0x4000
#define IPV4_FLAG_MF 0x2000
#define IPV4_OFFSET_MASK 0x1fff
#define IPV4_ADDR_BROADCAST 0xffffffffu

#define IPV4_PROTO_ICMP 1
#define IPV4_PROTO_TCP 6
#define IPV4_PROTO_UDP 17

/* Option types (copied flag, class and number in one byte) */
#define IPV4_OPT_EOL 0
#define IPV4_OPT_NOP 1
#define IPV4_OPT_RR 7
#define IPV4_OPT_TS 68
#define IPV4_OPT_LSRR 131
#define IPV4_OPT_SSRR 137
#define IPV4_OPT_RA 148

/* Why a header was refused; functions return the negated value. */
enum ipv4_bad {
	IPV4_BAD_TRUNCATED = 1,		/* buffer shorter than a header, IHL or total length */
	IPV4_BAD_VERSION,		/* version is not 4 */
	IPV4_BAD_IHL,			/* IHL < 5 */
	IPV4_BAD_TOTAL_LEN,		/* total length < IHL * 4 */
	IPV4_BAD_CHECKSUM,		/* header checksum does not verify */
	IPV4_BAD_OPTIONS,		/* malformed option */
	IPV4_BAD_MAX = IPV4_BAD_OPTIONS,
};

/**
 * ipv4_bad_strerror() - Name the reason behind a negative IPv4 wire error
 * @err:	A return value of ipv4_view_check(), ipv4_options_parse() or
 *		ipv4_repr_parse(), negative or not
 *
 * Return: static string, "unknown" for values outside enum ipv4_bad
 */
const char *ipv4_bad_strerror(int err);

/**
 * struct ipv4_view - a length-checked IPv4 datagram, borrowed from the caller
 * @buf:	First byte of the IPv4 header
 * @len:	The total length field: header, options and payload, without
 *		any link-layer padding that followed in the caller's buffer
 */
struct ipv4_view {
	const uint8_t *buf;
	size_t len;
};

/**
 * ipv4_view_check() - Check the lengths of an IPv4 header and make a view
 * @v:		View to fill, untouched on error
 * @buf:	Datagram, borrowed for as long as @v is used
 * @len:	Bytes available at @buf (may include link-layer padding)
 *
 * Checks, in this order: @len >= 20, version 4, IHL >= 5, IHL * 4 <= @len,
 * total length >= IHL * 4, total length <= @len.  Sets @v->len to the total
 * length.  Does not verify the checksum or the options: ipv4_repr_parse() does.
 *
 * Return: 0 on success, -IPV4_BAD_TRUNCATED if @len < 20, IHL * 4 > @len or
 *	   total length > @len; -IPV4_BAD_VERSION if version != 4;
 *	   -IPV4_BAD_IHL if IHL < 5; -IPV4_BAD_TOTAL_LEN if total length < IHL * 4
 */
int ipv4_view_check(struct ipv4_view *v, const uint8_t *buf, size_t len);

/* Accessors of a checked view.  Addresses come out in host byte order. */
static inline uint8_t ipv4_version(const struct ipv4_view *v)
{
	return v->buf[0] >> 4;
}

/* Header length in bytes, options included: IHL * 4, 20 to 60 */
static inline size_t ipv4_header_len(const struct ipv4_view *v)
{
	return (size_t)(v->buf[0] & 0x0f) * 4;
}

static inline uint8_t ipv4_tos(const struct ipv4_view *v)
{
	return v->buf[1];
}

static inline uint16_t ipv4_total_len(const struct ipv4_view *v)
{
	return get_be16(v->buf + 2);
}

static inline uint16_t ipv4_id(const struct ipv4_view *v)
{
	return get_be16(v->buf + 4);
}

static inline bool ipv4_df(const struct ipv4_view *v)
{
	return get_be16(v->buf + 6) & IPV4_FLAG_DF;
}

static inline bool ipv4_mf(const struct ipv4_view *v)
{
	return get_be16(v->buf + 6) & IPV4_FLAG_MF;
}

/* Fragment offset in bytes (the field counts 8-byte units) */
static inline uint32_t ipv4_frag_offset(const struct ipv4_view *v)
{
	return (uint32_t)(get_be16(v->buf + 6) & IPV4_OFFSET_MASK) * 8;
}

static inline uint8_t ipv4_ttl(const struct ipv4_view *v)
{
	return v->buf[8];
}

static inline uint8_t ipv4_proto(const struct ipv4_view *v)
{
	return v->buf[9];
}

static inline uint16_t ipv4_checksum_field(const struct ipv4_view *v)
{
	return get_be16(v->buf + 10);
}

static inline uint32_t ipv4_src(const struct ipv4_view *v)
{
	return get_be32(v->buf + 12);
}

static inline uint32_t ipv4_dst(const struct ipv4_view *v)
{
	return get_be32(v->buf + 16);
}

/* Raw options, ipv4_options_len() bytes (0 to 40), unvalidated */
static inline const uint8_t *ipv4_options(const struct ipv4_view *v)
{
	return v->buf + IPV4_HDR_LEN;
}

static inline size_t ipv4_options_len(const struct ipv4_view *v)
{
	return ipv4_header_len(v) - IPV4_HDR_LEN;
}

static inline const uint8_t *ipv4_payload(const struct ipv4_view *v)
{
	return v->buf + ipv4_header_len(v);
}

static inline size_t ipv4_payload_len(const struct ipv4_view *v)
{
	return v->len - ipv4_header_len(v);
}

/**
 * ipv4_checksum_ok() - Verify the header checksum of a checked view
 * @v:	Checked view
 *
 * Return: true if the checksum over the header, options included, verifies
 */
bool ipv4_checksum_ok(const struct ipv4_view *v);

/**
 * struct ipv4_options_info - options found by ipv4_options_parse()
 * @source_route:	Loose or strict source route present
 * @record_route:	Record route present
 * @timestamp:		Timestamp present
 * @router_alert:	Router alert present (RFC 2113)
 */
struct ipv4_options_info {
	bool source_route;
	bool record_route;
	bool timestamp;
	bool router_alert;
};

/**
 * ipv4_options_parse() - Validate IPv4 options and note the known ones
 * @opt:	Options (the bytes between the fixed header and the payload)
 * @len:	Length of @opt, 0 to 40
 * @info:	Filled (zeroed first) with the options seen; may be NULL
 *
 * EOL (0) ends the list, whatever follows it; NOP (1) is one byte; every
 * other option has a length byte >= 2 that fits in the remaining bytes.
 * Known options must also have their minimum form: RR, LSRR and SSRR a
 * length >= 3 and a pointer >= 4; TS a length >= 4 and a pointer >= 5; RA a
 * length of exactly 4.  Unknown options with a valid length are skipped.
 * Never reads past @len.  @info may be partly filled on error.
 *
 * Return: 0 if the options are well formed, -IPV4_BAD_OPTIONS otherwise
 */
int ipv4_options_parse(const uint8_t *opt, size_t len, struct ipv4_options_info *info);

/**
 * struct ipv4_repr - the meaning of an IPv4 header
 * @src:		Source address, host byte order
 * @dst:		Destination address, host byte order
 * @proto:		Payload protocol (IPV4_PROTO_*)
 * @ttl:		Time to live
 * @tos:		Type of service (DSCP and ECN) byte
 * @id:			Identification
 * @df:			Don't fragment
 * @mf:			More fragments
 * @frag_offset:	Fragment offset in bytes, a multiple of 8 (< 65536)
 * @options:		Raw options, NULL if none.  From ipv4_repr_parse() it
 *			points into the view's buffer (valid as long as it is);
 *			for emit it is the caller's, read during the call only
 * @options_len:	Raw length of @options; emit pads it with EOL to a
 *			multiple of 4.  At most IPV4_MAX_OPTIONS_LEN (40)
 * @payload_len:	Bytes after the header
 */
struct ipv4_repr {
	uint32_t src, dst;
	uint8_t proto, ttl, tos;
	uint16_t id;
	bool df, mf;
	uint32_t frag_offset;
	const uint8_t *options;
	size_t options_len;
	size_t payload_len;
};

/**
 * ipv4_repr_parse() - Verify the checksum and options of a view, decode it
 * @r:	Representation to fill, untouched on error
 * @v:	Checked view
 *
 * The reserved flag bit is ignored.
 *
 * Return: 0 on success, -IPV4_BAD_CHECKSUM if the header checksum does not
 *	   verify, -IPV4_BAD_OPTIONS if the options are malformed (checksum
 *	   first)
 */
int ipv4_repr_parse(struct ipv4_repr *r, const struct ipv4_view *v);

/**
 * ipv4_repr_header_len() - Length of the header ipv4_repr_emit() will write
 * @r:	Header to write
 *
 * Return: 20 + options length rounded up to a multiple of 4 (20 to 60);
 *	   options are counted only if @r->options is not NULL, and an
 *	   @r->options_len over 40 counts as 40
 */
size_t ipv4_repr_header_len(const struct ipv4_repr *r);

/**
 * ipv4_repr_emit() - Write the header described by @r, checksum included
 * @r:		Header to write.  Total length is written as header length +
 *		@r->payload_len, which the caller keeps <= 65535; options
 *		longer than 40 bytes are a caller bug and are cut at 40
 * @buf:	At least ipv4_repr_header_len(@r) bytes; exactly that many are
 *		written.  The payload is not touched.
 */
void ipv4_repr_emit(const struct ipv4_repr *r, uint8_t *buf);

/* Address classes (host byte order) */

/* Return: true for 224.0.0.0/4 */
static inline bool ipv4_addr_is_multicast(uint32_t a)
{
	return (a >> 28) == 0xe;
}

/* Return: true for 127.0.0.0/8 */
static inline bool ipv4_addr_is_loopback(uint32_t a)
{
	return (a >> 24) == 127;
}

/* Return: true for 240.0.0.0/4 except 255.255.255.255 */
static inline bool ipv4_addr_is_reserved(uint32_t a)
{
	return (a >> 28) == 0xf && a != IPV4_ADDR_BROADCAST;
}

/* Return: true for 0.0.0.0 */
static inline bool ipv4_addr_is_unspecified(uint32_t a)
{
	return a == 0;
}

/**
 * tapir_ipv4_addr_parse() - Parse a dotted quad "a.b.c.d"
 * @s:		NUL-terminated string: four decimal numbers 0..255 of one to
 *		three digits, without leading zeros (which inet_aton() would
 *		read as octal), separated by dots, nothing before or after
 * @out:	Address in host order, untouched on error
 *
 * Return: 0 on success, -EINVAL if @s is not exactly such an address
 */
int tapir_ipv4_addr_parse(const char *s, uint32_t *out);

/**
 * tapir_ipv4_addr_format() - Format @addr (host order) as a dotted quad
 * @addr:	Address
 * @buf:	IPV4_ADDR_STRLEN (16) bytes, NUL-terminated on return
 *
 * Return: @buf
 */
char *tapir_ipv4_addr_format(uint32_t addr, char *buf);

#endif /* TAPIR_WIRE_IPV4_H */

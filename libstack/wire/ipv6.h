/*
 * ipv6.h - IPv6 header and extension header views and reprs (RFC 8200), address helpers
 *
 * struct ipv6_view is filled only by ipv6_view_check(): the buffer holds the
 * 40-byte header and the whole payload its length field announces (link
 * padding after it is trimmed away).  Extension headers are walked one at a
 * time with ipv6_ext_check(), which checks each header's length against the
 * bytes left; options inside hop-by-hop and destination options headers are
 * walked with ipv6_opt_next().  Nothing is ever read before its length is
 * checked.  Addresses are 16 bytes in network order, as on the wire.
 */
#ifndef TAPIR_WIRE_IPV6_H
#define TAPIR_WIRE_IPV6_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bytes.h"

#define IPV6_HDR_LEN 40
#define IPV6_MIN_MTU 1280
#define IPV6_FRAG_HDR_LEN 8
#define IPV6_MAX_PAYLOAD 65535u

/* Next Header values */
#define IPV6_NH_HOPOPTS 0
#define IPV6_NH_TCP 6
#define IPV6_NH_UDP 17
#define IPV6_NH_ROUTING 43
#define IPV6_NH_FRAGMENT 44
#define IPV6_NH_ICMPV6 58
#define IPV6_NH_NONE 59
#define IPV6_NH_DSTOPTS 60

/* Option types (RFC 8200 4.2): the two high bits say what to do if unknown */
#define IPV6_OPT_PAD1 0
#define IPV6_OPT_PADN 1
#define IPV6_OPT_ROUTER_ALERT 5
#define IPV6_OPT_ACTION(t) ((t) >> 6)
enum ipv6_opt_action {
	IPV6_OPT_SKIP = 0,          /* skip over the option */
	IPV6_OPT_DISCARD = 1,       /* discard the packet silently */
	IPV6_OPT_DISCARD_ICMP = 2,  /* discard, Parameter Problem code 2 (even to multicast) */
	IPV6_OPT_DISCARD_ICMP_UNICAST = 3, /* as 2, only if the destination was not multicast */
};

/**
 * struct ipv6_view - a length-checked IPv6 packet, borrowed from the caller
 * @buf: First byte of the IPv6 header
 * @len: 40 + the payload length field (padding beyond it excluded)
 */
struct ipv6_view {
	const uint8_t *buf;
	size_t len;
};

/* Why a header was refused; functions return the negated value */
enum ipv6_bad {
	IPV6_BAD_TRUNCATED = 1,  /* shorter than 40 bytes or than the payload length says */
	IPV6_BAD_VERSION,        /* version is not 6 */
};

/**
 * ipv6_view_check() - Check an IPv6 header's lengths and make a view
 * @v:   View to fill, untouched on error
 * @buf: Packet, borrowed while @v is used
 * @len: Bytes at @buf (may include link-layer padding)
 *
 * Return: 0, -IPV6_BAD_TRUNCATED or -IPV6_BAD_VERSION
 */
int ipv6_view_check(struct ipv6_view *v, const uint8_t *buf, size_t len);

static inline uint8_t ipv6_traffic_class(const struct ipv6_view *v)
{
	return (uint8_t)(get_be16(v->buf) >> 4);
}

static inline uint32_t ipv6_flow_label(const struct ipv6_view *v)
{
	return get_be32(v->buf) & 0xfffff;
}

static inline uint16_t ipv6_payload_len(const struct ipv6_view *v)
{
	return get_be16(v->buf + 4);
}

static inline uint8_t ipv6_next_header(const struct ipv6_view *v)
{
	return v->buf[6];
}

static inline uint8_t ipv6_hop_limit(const struct ipv6_view *v)
{
	return v->buf[7];
}

static inline const uint8_t *ipv6_src(const struct ipv6_view *v)
{
	return v->buf + 8;
}

static inline const uint8_t *ipv6_dst(const struct ipv6_view *v)
{
	return v->buf + 24;
}

/**
 * struct ipv6_repr - the fixed header's meaning
 * @payload_len: Bytes after the fixed header (extension headers included)
 */
struct ipv6_repr {
	uint8_t src[16], dst[16];
	uint8_t next_header;
	uint8_t hop_limit;
	uint8_t tclass;
	uint32_t flow_label;
	uint16_t payload_len;
};

void ipv6_repr_parse(struct ipv6_repr *r, const struct ipv6_view *v);
/* Write the 40-byte header at @buf (which has at least 40 bytes). */
void ipv6_repr_emit(const struct ipv6_repr *r, uint8_t *buf);

/* ---- extension headers ---- */

/* Is @nh one of the extension headers the stack walks (hop-by-hop,
 * routing, fragment, destination options)? */
static inline bool ipv6_nh_is_ext(uint8_t nh)
{
	return nh == IPV6_NH_HOPOPTS || nh == IPV6_NH_ROUTING || nh == IPV6_NH_FRAGMENT ||
	       nh == IPV6_NH_DSTOPTS;
}

/**
 * struct ipv6_ext - one extension header, length-checked
 * @type: Its own type (the Next Header value that pointed at it)
 * @next: Its Next Header field
 * @buf:  First byte of the header
 * @len:  Whole length in bytes ((Hdr Ext Len + 1) * 8, or 8 for a fragment header)
 */
struct ipv6_ext {
	uint8_t type;
	uint8_t next;
	const uint8_t *buf;
	size_t len;
};

/**
 * ipv6_ext_check() - Check one extension header of type @type at @buf
 * @e:    Filled on success
 * @type: IPV6_NH_HOPOPTS, _ROUTING, _FRAGMENT or _DSTOPTS
 * @buf:  The header
 * @len:  Bytes left in the packet from @buf
 *
 * Return: 0, or -EBADMSG if the header does not fit in @len (or @type is
 *         not an extension header)
 */
int ipv6_ext_check(struct ipv6_ext *e, uint8_t type, const uint8_t *buf, size_t len);

/* The routing header's type and segments left (e->type == IPV6_NH_ROUTING) */
static inline uint8_t ipv6_rh_type(const struct ipv6_ext *e)
{
	return e->buf[2];
}

static inline uint8_t ipv6_rh_segments_left(const struct ipv6_ext *e)
{
	return e->buf[3];
}

/* A fragment header's meaning */
struct ipv6_frag_repr {
	uint8_t next;
	uint16_t offset;   /* in bytes (the field counts 8-byte units) */
	bool more;
	uint32_t id;
};

void ipv6_frag_parse(struct ipv6_frag_repr *f, const struct ipv6_ext *e);
/* Write an 8-byte fragment header at @buf. */
void ipv6_frag_emit(const struct ipv6_frag_repr *f, uint8_t *buf);

/* One option of a hop-by-hop or destination options header */
struct ipv6_opt {
	uint8_t type;
	uint8_t len;          /* data length (0 for Pad1) */
	const uint8_t *data;
	size_t offset;        /* of the type byte, from the start of the ext header */
};

/**
 * ipv6_opt_next() - The next option of an options header
 * @e:   A hop-by-hop or destination options header
 * @pos: Cursor: set to 2 before the first call
 * @o:   Filled with the option when 1 is returned
 *
 * Return: 1 with @o filled, 0 at the end, -EBADMSG if an option runs past
 *         the header
 */
int ipv6_opt_next(const struct ipv6_ext *e, size_t *pos, struct ipv6_opt *o);

/* ---- addresses ---- */

#define IPV6_ADDR_STRLEN 46

static inline bool ipv6_addr_is_unspecified(const uint8_t a[16])
{
	static const uint8_t z[16];

	return memcmp(a, z, 16) == 0;
}

static inline bool ipv6_addr_is_loopback(const uint8_t a[16])
{
	static const uint8_t lo[16] = { [15] = 1 };

	return memcmp(a, lo, 16) == 0;
}

static inline bool ipv6_addr_is_multicast(const uint8_t a[16])
{
	return a[0] == 0xff;
}

/* fe80::/10 */
static inline bool ipv6_addr_is_link_local(const uint8_t a[16])
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

/* ::ffff:0:0/96 */
static inline bool ipv6_addr_is_v4mapped(const uint8_t a[16])
{
	static const uint8_t p[12] = { [10] = 0xff, [11] = 0xff };

	return memcmp(a, p, 12) == 0;
}

/* The scope of a multicast address (RFC 4291 2.7), e.g. 2 = link-local */
static inline uint8_t ipv6_mcast_scope(const uint8_t a[16])
{
	return a[1] & 0x0f;
}

/* Do @a and @b share the first @plen bits? */
bool ipv6_prefix_eq(const uint8_t a[16], const uint8_t b[16], unsigned plen);
/* Length of the common prefix of @a and @b, 0..128 */
unsigned ipv6_common_prefix(const uint8_t a[16], const uint8_t b[16]);

/* ff02::1:ffXX:XXXX, the solicited-node group of @a (RFC 4291 2.7.1) */
void ipv6_solicited_node(const uint8_t a[16], uint8_t out[16]);
/* 33:33 + the low 32 bits of a multicast address (RFC 2464 7) */
void ipv6_mcast_mac(const uint8_t a[16], uint8_t mac[6]);

/* Well-known addresses */
extern const uint8_t ipv6_all_nodes[16];    /* ff02::1 */
extern const uint8_t ipv6_all_routers[16];  /* ff02::2 */
extern const uint8_t ipv6_all_mldv2[16];    /* ff02::16 */

/* Partial checksum of the IPv6 pseudo-header (RFC 8200 8.1), for inet_csum_add() */
uint64_t ipv6_csum_pseudo(const uint8_t src[16], const uint8_t dst[16], uint32_t len,
			  uint8_t next_header);

#endif /* TAPIR_WIRE_IPV6_H */

/*
 * icmpv6.h - ICMPv6 messages (RFC 4443), NDP messages and options (RFC 4861,
 *            RFC 8106 RDNSS) and MLDv2 (RFC 3810): views, parsers and emitters
 *
 * The checksum covers the IPv6 pseudo-header (RFC 8200 8.1), so every parse
 * and emit takes the source and destination addresses.  NDP options are
 * walked with their lengths checked: an option of length 0, or one that runs
 * past the message, makes the whole message invalid (RFC 4861 4.6).  Known
 * options with a wrong length do too.  Unknown options are skipped.
 */
#ifndef TAPIR_WIRE_ICMPV6_H
#define TAPIR_WIRE_ICMPV6_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ICMPV6_HDR_LEN 8

#define ICMPV6_DEST_UNREACH 1
#define ICMPV6_PKT_TOO_BIG 2
#define ICMPV6_TIME_EXCEEDED 3
#define ICMPV6_PARAM_PROBLEM 4
#define ICMPV6_ECHO_REQUEST 128
#define ICMPV6_ECHO_REPLY 129
#define ICMPV6_MLD_QUERY 130
#define ICMPV6_MLD_REPORT 131
#define ICMPV6_MLD_DONE 132
#define ICMPV6_ROUTER_SOLICIT 133
#define ICMPV6_ROUTER_ADVERT 134
#define ICMPV6_NEIGHBOR_SOLICIT 135
#define ICMPV6_NEIGHBOR_ADVERT 136
#define ICMPV6_REDIRECT 137
#define ICMPV6_MLD2_REPORT 143

/* Codes */
#define ICMPV6_UNREACH_NOROUTE 0
#define ICMPV6_UNREACH_ADMIN 1
#define ICMPV6_UNREACH_BEYOND_SCOPE 2
#define ICMPV6_UNREACH_ADDR 3
#define ICMPV6_UNREACH_PORT 4
#define ICMPV6_TIME_HOP_LIMIT 0
#define ICMPV6_TIME_REASM 1
#define ICMPV6_PARAM_HEADER 0      /* erroneous header field */
#define ICMPV6_PARAM_NEXT_HEADER 1 /* unrecognized Next Header type */
#define ICMPV6_PARAM_OPTION 2      /* unrecognized IPv6 option */
#define ICMPV6_PARAM_FIRST_FRAG 3  /* first fragment without the whole header chain (RFC 7112) */

/* Is @type an error message (RFC 4443 2.1: types 0..127)? */
static inline bool icmpv6_is_error(uint8_t type)
{
	return type < 128;
}

/**
 * icmpv6_csum() - The checksum an ICMPv6 message must carry
 * @src, @dst: IPv6 addresses of the packet
 * @msg:       The message, checksum field included (it is summed as is: to
 *             compute, zero it first; to verify, compare the result with 0)
 * @len:       Its length
 */
uint16_t icmpv6_csum(const uint8_t src[16], const uint8_t dst[16], const uint8_t *msg, size_t len);

/* Compute and store the checksum of @msg (@len bytes). */
void icmpv6_set_csum(const uint8_t src[16], const uint8_t dst[16], uint8_t *msg, size_t len);

/* ---- NDP ---- */

#define NDP_OPT_SLLA 1
#define NDP_OPT_TLLA 2
#define NDP_OPT_PREFIX 3
#define NDP_OPT_REDIRECTED 4
#define NDP_OPT_MTU 5
#define NDP_OPT_NONCE 14
#define NDP_OPT_RDNSS 25

#define NDP_MAX_PREFIXES 8
#define NDP_MAX_RDNSS 4

#define NDP_NA_ROUTER 0x80
#define NDP_NA_SOLICITED 0x40
#define NDP_NA_OVERRIDE 0x20
#define NDP_RA_MANAGED 0x80
#define NDP_RA_OTHER 0x40
#define NDP_PI_ONLINK 0x80
#define NDP_PI_AUTO 0x40

struct ndp_prefix {
	uint8_t prefix_len;
	uint8_t flags;            /* NDP_PI_* */
	uint32_t valid_lifetime;  /* seconds, 0xffffffff = infinity */
	uint32_t preferred_lifetime;
	const uint8_t *prefix;    /* 16 bytes in the message */
};

/* The options of one NDP message; pointers into the message. */
struct ndp_opts {
	const uint8_t *slla;      /* 6 bytes (Ethernet), or NULL */
	const uint8_t *tlla;
	uint32_t mtu;             /* 0 if absent */
	size_t nprefix;
	struct ndp_prefix prefix[NDP_MAX_PREFIXES]; /* the first NDP_MAX_PREFIXES */
	size_t nrdnss;
	const uint8_t *rdnss[NDP_MAX_RDNSS];        /* 16 bytes each */
	uint32_t rdnss_lifetime;  /* of the first RDNSS option */
	const uint8_t *redirected;  /* the Redirected Header option's data, or NULL */
	size_t redirected_len;
	bool has_nonce;
};

/**
 * ndp_opts_parse() - Walk NDP options
 * @o:   Filled (zeroed first)
 * @buf: First option
 * @len: Bytes of options
 *
 * Return: 0, or -EBADMSG for a length 0, an option past @len, a link-layer
 *         address option of other than 8 bytes, a prefix option of other
 *         than 32 bytes, an MTU option of other than 8 bytes, an RDNSS
 *         option of fewer than 24 bytes or an even length (RFC 8106 5.1)
 */
int ndp_opts_parse(struct ndp_opts *o, const uint8_t *buf, size_t len);

/* A parsed NDP message (RS, RA, NS, NA or Redirect) */
struct ndp_msg {
	uint8_t type;
	uint8_t flags;            /* NA: NDP_NA_*; RA: NDP_RA_* */
	uint8_t cur_hop_limit;    /* RA */
	uint16_t router_lifetime; /* RA, seconds */
	uint32_t reachable_ms;    /* RA */
	uint32_t retrans_ms;      /* RA */
	const uint8_t *target;    /* NS, NA, Redirect: 16 bytes */
	const uint8_t *dest;      /* Redirect */
	struct ndp_opts opts;
};

/**
 * ndp_parse() - Parse an NDP message whose checksum was already verified
 * @m:   Filled on success
 * @msg: ICMPv6 message (type 133..137)
 * @len: Its length
 *
 * Checks the code (0), the minimum length of the type, a multicast target
 * (NS, NA) and the options.
 *
 * Return: 0, or -EBADMSG
 */
int ndp_parse(struct ndp_msg *m, const uint8_t *msg, size_t len);

/* Bytes of an NS or NA with (or without) a link-layer address option */
#define NDP_NS_LEN 24
#define NDP_LLA_OPT_LEN 8

/**
 * ndp_emit_ns() - Write a Neighbor Solicitation (checksum included)
 * @buf:    At least 32 bytes
 * @target: Address asked about
 * @slla:   Our MAC for the SLLA option, or NULL (DAD: none from ::)
 * @src, @dst: The IPv6 addresses it goes with (for the checksum)
 *
 * Return: its length, 24 or 32
 */
size_t ndp_emit_ns(uint8_t *buf, const uint8_t target[16], const uint8_t *slla,
		   const uint8_t src[16], const uint8_t dst[16]);
/* A Neighbor Advertisement with @flags (NDP_NA_*) and the TLLA option if
 * @tlla; @buf at least 32 bytes.  Return: its length */
size_t ndp_emit_na(uint8_t *buf, uint8_t flags, const uint8_t target[16], const uint8_t *tlla,
		   const uint8_t src[16], const uint8_t dst[16]);
/* A Router Solicitation, with SLLA if @slla; @buf at least 16 bytes.  Return: length */
size_t ndp_emit_rs(uint8_t *buf, const uint8_t *slla, const uint8_t src[16], const uint8_t dst[16]);

/* ---- MLDv2 (RFC 3810) ---- */

#define MLD2_MODE_IS_EXCLUDE 2
#define MLD2_CHANGE_TO_EXCLUDE 4
#define MLD2_CHANGE_TO_INCLUDE 3

/**
 * mld2_emit_report() - A Version 2 Multicast Listener Report
 * @buf:     At least 8 + 20 * @n bytes
 * @rtype:   Record type of every record (MLD2_*), no sources
 * @groups:  @n group addresses
 * @src, @dst: for the checksum
 *
 * Return: its length
 */
size_t mld2_emit_report(uint8_t *buf, uint8_t rtype, const uint8_t (*groups)[16], size_t n,
			const uint8_t src[16], const uint8_t dst[16]);

/* A parsed Multicast Listener Query (MLDv1: 24 bytes; MLDv2: 28 + sources) */
struct mld_query {
	bool v2;
	uint32_t max_resp_ms;
	const uint8_t *group;     /* :: = general query */
};
/* Return: 0 or -EBADMSG */
int mld_query_parse(struct mld_query *q, const uint8_t *msg, size_t len);

#endif /* TAPIR_WIRE_ICMPV6_H */

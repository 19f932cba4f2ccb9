/*
 * tcp.h - TCP segment representation (RFC 9293) with options (RFC 7323, 2018)
 *
 * tcp_repr_parse() checks the header (length, data offset) and optionally the
 * checksum, then walks the options.  Option parsing follows Linux: an EOL or a
 * kind/length pair that cannot be read (length < 2, or running past the
 * header) ends the walk -- the options read so far are kept and the segment
 * is not dropped (r->opt_malformed says it happened); an option of a known
 * kind with the wrong length is ignored.  No read ever leaves the header.
 *
 * tcp_repr_emit() writes header + options and the checksum over the
 * pseudo-header, header and payload, which may be given as two pieces (the
 * second starting at any offset, as when a ring buffer wraps).  The payload
 * is not copied: the caller places it after the header.
 */
#ifndef TAPIR_WIRE_TCP_H
#define TAPIR_WIRE_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TCP_HDR_LEN 20
#define TCP_MAX_HDR_LEN 60
#define TCP_MAX_OPT_LEN 40

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20
#define TCP_ECE 0x40
#define TCP_CWR 0x80

#define TCP_OPT_EOL 0
#define TCP_OPT_NOP 1
#define TCP_OPT_MSS 2
#define TCP_OPT_WS 3
#define TCP_OPT_SACK_PERM 4
#define TCP_OPT_SACK 5
#define TCP_OPT_TS 8

#define TCP_MAX_WSCALE 14
#define TCP_MAX_SACK 4

struct tcp_sack_block {
	uint32_t left, right;	/* [left, right) */
};

/**
 * struct tcp_repr - a TCP segment
 * @src_port, @dst_port:	Ports
 * @seq, @ack:			Sequence and acknowledgment numbers
 * @flags:			TCP_FIN ... TCP_CWR
 * @window:			Window field as sent (unscaled)
 * @urgent:			Urgent pointer
 * @has_mss, @mss:		MSS option
 * @wscale:			Window scale shift, -1 when absent (parse caps
 *				values above 14 at 14, RFC 7323 2.3)
 * @sack_perm:			SACK-permitted option
 * @has_ts, @ts_val, @ts_ecr:	Timestamps option
 * @nsack, @sack:		SACK blocks (at most 4; emit writes at most 3
 *				with timestamps, 4 without)
 * @opt_malformed:		Parse only: option walk stopped at a bad length
 * @payload, @payload_len:	Data.  From parse, points into the caller's
 *				buffer; for emit, read during the call only
 * @payload2, @payload2_len:	Emit only: a second piece of data following
 *				@payload (may be NULL/0)
 */
struct tcp_repr {
	uint16_t src_port, dst_port;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t window;
	uint16_t urgent;
	bool has_mss;
	uint16_t mss;
	int8_t wscale;
	bool sack_perm;
	bool has_ts;
	uint32_t ts_val, ts_ecr;
	uint8_t nsack;
	struct tcp_sack_block sack[TCP_MAX_SACK];
	bool opt_malformed;
	const uint8_t *payload;
	size_t payload_len;
	const uint8_t *payload2;
	size_t payload2_len;
	/* Not on the wire: emit stores only the pseudo-header sum in the checksum
	 * field, for a device that completes it (TSO, netif_gso); parse leaves
	 * it false */
	bool csum_partial;
	/* Not on the wire: received as a super-segment (TAPIR_NETIF_RX_GSO); parse
	 * leaves it false, the caller sets it */
	bool coalesced;
};

/* Set @r to an empty segment: no options (wscale -1), no data. */
void tcp_repr_init(struct tcp_repr *r);

/**
 * tcp_repr_parse() - Check and decode a TCP segment
 * @r:		Filled on success (untouched on error)
 * @buf:	Segment (the IPv4 payload)
 * @len:	Bytes at @buf
 * @src, @dst:	IPv4 addresses (host order) for the pseudo-header
 * @verify:	Verify the checksum
 *
 * Return: 0, -EBADMSG (shorter than 20 bytes, data offset < 5 or past @len),
 *	   -EILSEQ (bad checksum)
 */
int tcp_repr_parse(struct tcp_repr *r, const uint8_t *buf, size_t len, uint32_t src,
		   uint32_t dst, bool verify);

/*
 * tcp_repr_parse_sum() - tcp_repr_parse() for either IP version
 * @pseudo: Partial sum of the pseudo-header with a length of 0 (IPv4's
 *          inet_csum_pseudo(), IPv6's ipv6_csum_pseudo()); the TCP length
 *          is added here
 */
int tcp_repr_parse_sum(struct tcp_repr *r, const uint8_t *buf, size_t len, uint64_t pseudo,
		       bool verify);

/* Return: bytes of header + options tcp_repr_emit() writes for @r (20..60) */
size_t tcp_repr_header_len(const struct tcp_repr *r);

/**
 * tcp_repr_emit() - Write header and options of @r, checksum included
 * @r:		Segment; the checksum covers @r->payload then @r->payload2
 * @buf:	At least tcp_repr_header_len(@r) bytes, all of them written
 * @src, @dst:	IPv4 addresses (host order) for the pseudo-header
 *
 * Return: header length written
 */
size_t tcp_repr_emit(const struct tcp_repr *r, uint8_t *buf, uint32_t src, uint32_t dst);

/* tcp_repr_emit() for either IP version: @pseudo as tcp_repr_parse_sum()'s */
size_t tcp_repr_emit_sum(const struct tcp_repr *r, uint8_t *buf, uint64_t pseudo);

/* Sequence-space comparisons (RFC 9293 3.4), modulo 2^32 */
static inline bool seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline bool seq_le(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }
static inline bool seq_gt(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }
static inline bool seq_ge(uint32_t a, uint32_t b) { return (int32_t)(a - b) >= 0; }

#endif /* TAPIR_WIRE_TCP_H */

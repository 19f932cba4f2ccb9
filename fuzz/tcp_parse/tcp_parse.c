/*
 * tcp_parse.c - fuzz target: TCP header + options parse -> emit -> parse
 *
 * The input is a TCP segment (checksum not verified).  A segment that parses
 * is emitted again into a buffer pre-filled with 0xa5 and parsed back (with
 * the checksum verified this time); both representations must agree on every
 * field emit writes, and the payload must be carried over byte for byte.  The
 * emitted segment is then checksummed again with an IPv6 pseudo-header
 * (tcp_repr_emit_sum()) and must verify with it (tcp_repr_parse_sum()) and
 * fail with the IPv4 one unless the two sums happen to agree.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/checksum.h"
#include "wire/tcp.h"

#define SRC 0xc0000201u
#define DST 0xc0000202u

/* the IPv6 pseudo-header with a length of 0: 2001:db8::1 -> 2001:db8::2, TCP */
static uint64_t pseudo6(void)
{
	static const uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const uint8_t b[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };

	return inet_csum_add(inet_csum_add(6, a, 16), b, 16);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[65536];
	struct tcp_repr a, b;
	size_t hl;

	if (tcp_repr_parse(&a, data, size, SRC, DST, false) < 0)
		return 0;
	if (a.payload_len > sizeof(out) - TCP_MAX_HDR_LEN)
		return 0;
	/* split the payload at an odd point to exercise the two-piece checksum */
	if (a.payload_len > 3) {
		a.payload2 = a.payload + a.payload_len / 2 + 1;
		a.payload2_len = a.payload_len - (a.payload_len / 2 + 1);
		a.payload_len = a.payload_len / 2 + 1;
	}
	memset(out, 0xa5, sizeof(out));
	hl = tcp_repr_header_len(&a);
	if (hl < TCP_HDR_LEN || hl > TCP_MAX_HDR_LEN || hl % 4)
		abort();
	if (tcp_repr_emit(&a, out, SRC, DST) != hl)
		abort();
	if (a.payload_len)
		memcpy(out + hl, a.payload, a.payload_len);
	if (a.payload2_len)
		memcpy(out + hl + a.payload_len, a.payload2, a.payload2_len);
	if (tcp_repr_parse(&b, out, hl + a.payload_len + a.payload2_len, SRC, DST, true) < 0)
		abort();
	if (a.src_port != b.src_port || a.dst_port != b.dst_port || a.seq != b.seq ||
	    a.ack != b.ack || a.flags != b.flags || a.window != b.window || a.urgent != b.urgent)
		abort();
	if (a.has_mss != b.has_mss || (a.has_mss && a.mss != b.mss))
		abort();
	if (a.wscale != b.wscale || a.sack_perm != b.sack_perm || a.has_ts != b.has_ts)
		abort();
	if (a.has_ts && (a.ts_val != b.ts_val || a.ts_ecr != b.ts_ecr))
		abort();
	if (b.nsack > a.nsack || b.opt_malformed)
		abort();
	for (size_t i = 0; i < b.nsack; i++)
		if (a.sack[i].left != b.sack[i].left || a.sack[i].right != b.sack[i].right)
			abort();
	if (b.payload_len != a.payload_len + a.payload2_len ||
	    memcmp(b.payload, data + (a.payload - data), b.payload_len) != 0)
		abort();
	/* the same segment over IPv6 */
	if (tcp_repr_emit_sum(&a, out, pseudo6()) != hl)
		abort();
	if (tcp_repr_parse_sum(&b, out, hl + a.payload_len + a.payload2_len, pseudo6(), true) < 0)
		abort();
	if (b.seq != a.seq || b.ack != a.ack || b.payload_len != a.payload_len + a.payload2_len)
		abort();
	if (inet_csum_fold(inet_csum_pseudo(SRC, DST, 6, 0)) != inet_csum_fold(pseudo6()) &&
	    tcp_repr_parse(&b, out, hl + a.payload_len + a.payload2_len, SRC, DST, true) == 0)
		abort();
	return 0;
}

/*
 * tcp.c - TCP segment representation (RFC 9293) with options (RFC 7323, 2018)
 */
#include "tcp.h"

#include <errno.h>
#include <string.h>

#include "bytes.h"
#include "checksum.h"
#include "ipv4.h"

void tcp_repr_init(struct tcp_repr *r)
{
	memset(r, 0, sizeof(*r));
	r->wscale = -1;
}

static void parse_options(struct tcp_repr *r, const uint8_t *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint8_t kind = p[i], olen;

		if (kind == TCP_OPT_EOL)
			return;
		if (kind == TCP_OPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= len) {
			r->opt_malformed = true;
			return;
		}
		olen = p[i + 1];
		if (olen < 2 || olen > len - i) {
			r->opt_malformed = true;
			return;
		}
		switch (kind) {
		case TCP_OPT_MSS:
			if (olen == 4) {
				r->has_mss = true;
				r->mss = get_be16(p + i + 2);
			}
			break;
		case TCP_OPT_WS:
			if (olen == 3)
				r->wscale = (int8_t)(p[i + 2] > TCP_MAX_WSCALE ? TCP_MAX_WSCALE
									   : p[i + 2]);
			break;
		case TCP_OPT_SACK_PERM:
			if (olen == 2)
				r->sack_perm = true;
			break;
		case TCP_OPT_TS:
			if (olen == 10) {
				r->has_ts = true;
				r->ts_val = get_be32(p + i + 2);
				r->ts_ecr = get_be32(p + i + 6);
			}
			break;
		case TCP_OPT_SACK:
			if (olen >= 10 && (olen - 2) % 8 == 0) {
				size_t n = (size_t)(olen - 2) / 8;

				r->nsack = 0;
				for (size_t b = 0; b < n && b < TCP_MAX_SACK; b++) {
					r->sack[b].left = get_be32(p + i + 2 + 8 * b);
					r->sack[b].right = get_be32(p + i + 6 + 8 * b);
					r->nsack++;
				}
			}
			break;
		default:
			break;
		}
		i += olen;
	}
}

int tcp_repr_parse(struct tcp_repr *r, const uint8_t *buf, size_t len, uint32_t src,
		   uint32_t dst, bool verify)
{
	return tcp_repr_parse_sum(r, buf, len, inet_csum_pseudo(src, dst, IPV4_PROTO_TCP, 0),
				  verify);
}

int tcp_repr_parse_sum(struct tcp_repr *r, const uint8_t *buf, size_t len, uint64_t pseudo,
		       bool verify)
{
	struct tcp_repr t;
	size_t off;

	if (len < TCP_HDR_LEN || len > 65535)
		return -EBADMSG;
	off = (size_t)(buf[12] >> 4) * 4;
	if (off < TCP_HDR_LEN || off > len)
		return -EBADMSG;
	if (verify) {
		uint64_t sum = pseudo + len;

		if (inet_csum_fold(inet_csum_add(sum, buf, len)) != 0)
			return -EILSEQ;
	}
	tcp_repr_init(&t);
	t.src_port = get_be16(buf);
	t.dst_port = get_be16(buf + 2);
	t.seq = get_be32(buf + 4);
	t.ack = get_be32(buf + 8);
	t.flags = buf[13];
	t.window = get_be16(buf + 14);
	t.urgent = get_be16(buf + 18);
	parse_options(&t, buf + TCP_HDR_LEN, off - TCP_HDR_LEN);
	t.payload = buf + off;
	t.payload_len = len - off;
	*r = t;
	return 0;
}

static size_t sack_count(const struct tcp_repr *r)
{
	size_t space = TCP_MAX_OPT_LEN, max;

	space -= r->has_mss ? 4 : 0;
	space -= r->has_ts ? 12 : r->sack_perm ? 4 : 0;
	space -= r->wscale >= 0 ? 4 : 0;
	max = space >= 12 ? (space - 4) / 8 : 0;
	if (max > TCP_MAX_SACK)
		max = TCP_MAX_SACK;
	return r->nsack < max ? r->nsack : max;
}

size_t tcp_repr_header_len(const struct tcp_repr *r)
{
	size_t n = 0;

	if (r->has_mss)
		n += 4;
	if (r->has_ts)
		n += 12;	/* NOP NOP TS, or SACK_PERM TS */
	else if (r->sack_perm)
		n += 4;		/* NOP NOP SACK_PERM */
	if (r->wscale >= 0)
		n += 4;		/* NOP WS */
	if (sack_count(r))
		n += 4 + 8 * sack_count(r);
	return TCP_HDR_LEN + n;
}

/* Add a piece starting at an odd offset of the checksummed stream. */
static uint64_t csum_add_odd(uint64_t sum, const uint8_t *p, size_t len)
{
	uint16_t s = (uint16_t)~inet_csum_fold(inet_csum_add(0, p, len));

	return sum + (uint16_t)(s << 8 | s >> 8);
}

size_t tcp_repr_emit(const struct tcp_repr *r, uint8_t *buf, uint32_t src, uint32_t dst)
{
	return tcp_repr_emit_sum(r, buf, inet_csum_pseudo(src, dst, IPV4_PROTO_TCP, 0));
}

size_t tcp_repr_emit_sum(const struct tcp_repr *r, uint8_t *buf, uint64_t pseudo)
{
	size_t hl = tcp_repr_header_len(r), i = TCP_HDR_LEN, ns = sack_count(r);
	size_t total = hl + r->payload_len + r->payload2_len;
	uint64_t sum;

	put_be16(buf, r->src_port);
	put_be16(buf + 2, r->dst_port);
	put_be32(buf + 4, r->seq);
	put_be32(buf + 8, r->ack);
	buf[12] = (uint8_t)((hl / 4) << 4);
	buf[13] = r->flags;
	put_be16(buf + 14, r->window);
	put_be16(buf + 16, 0);
	put_be16(buf + 18, r->urgent);
	if (r->has_mss) {
		buf[i] = TCP_OPT_MSS;
		buf[i + 1] = 4;
		put_be16(buf + i + 2, r->mss);
		i += 4;
	}
	if (r->has_ts) {
		if (r->sack_perm) {
			buf[i] = TCP_OPT_SACK_PERM;
			buf[i + 1] = 2;
		} else {
			buf[i] = TCP_OPT_NOP;
			buf[i + 1] = TCP_OPT_NOP;
		}
		buf[i + 2] = TCP_OPT_TS;
		buf[i + 3] = 10;
		put_be32(buf + i + 4, r->ts_val);
		put_be32(buf + i + 8, r->ts_ecr);
		i += 12;
	} else if (r->sack_perm) {
		buf[i] = TCP_OPT_NOP;
		buf[i + 1] = TCP_OPT_NOP;
		buf[i + 2] = TCP_OPT_SACK_PERM;
		buf[i + 3] = 2;
		i += 4;
	}
	if (r->wscale >= 0) {
		buf[i] = TCP_OPT_NOP;
		buf[i + 1] = TCP_OPT_WS;
		buf[i + 2] = 3;
		buf[i + 3] = (uint8_t)r->wscale;
		i += 4;
	}
	if (ns) {
		buf[i] = TCP_OPT_NOP;
		buf[i + 1] = TCP_OPT_NOP;
		buf[i + 2] = TCP_OPT_SACK;
		buf[i + 3] = (uint8_t)(2 + 8 * ns);
		i += 4;
		for (size_t b = 0; b < ns; b++) {
			put_be32(buf + i, r->sack[b].left);
			put_be32(buf + i + 4, r->sack[b].right);
			i += 8;
		}
	}
	sum = pseudo + total;
	if (r->csum_partial) {
		put_be16(buf + 16, (uint16_t)~inet_csum_fold(sum));
		return hl;
	}
	sum = inet_csum_add(sum, buf, hl);
	if (r->payload_len)
		sum = inet_csum_add(sum, r->payload, r->payload_len);
	if (r->payload2_len) {
		if (r->payload_len & 1)
			sum = csum_add_odd(sum, r->payload2, r->payload2_len);
		else
			sum = inet_csum_add(sum, r->payload2, r->payload2_len);
	}
	put_be16(buf + 16, inet_csum_fold(sum));
	return hl;
}

/*
 * icmp.c - ICMPv4 message representation and error quotes (RFC 792)
 */
#include "icmp.h"

#include <errno.h>

#include "bytes.h"
#include "checksum.h"
#include "ipv4.h"

int icmp_repr_parse(struct icmp_repr *r, const uint8_t *buf, size_t len)
{
	if (len < ICMP_HDR_LEN)
		return -EBADMSG;
	if (inet_csum(buf, len) != 0)
		return -EILSEQ;
	r->type = buf[0];
	r->code = buf[1];
	r->rest = get_be32(buf + 4);
	r->data = buf + ICMP_HDR_LEN;
	r->data_len = len - ICMP_HDR_LEN;
	return 0;
}

void icmp_repr_emit(const struct icmp_repr *r, uint8_t *buf)
{
	uint64_t sum;

	buf[0] = r->type;
	buf[1] = r->code;
	put_be16(buf + 2, 0);
	put_be32(buf + 4, r->rest);
	/* 8 bytes, even: the data piece starts at an even offset */
	sum = inet_csum_add(0, buf, ICMP_HDR_LEN);
	if (r->data_len)
		sum = inet_csum_add(sum, r->data, r->data_len);
	put_be16(buf + 2, inet_csum_fold(sum));
}

bool icmp_type_is_error(uint8_t type)
{
	switch (type) {
	case TAPIR_ICMP_DEST_UNREACH:
	case ICMP_SOURCE_QUENCH:
	case TAPIR_ICMP_REDIRECT:
	case TAPIR_ICMP_TIME_EXCEEDED:
	case TAPIR_ICMP_PARAM_PROBLEM:
		return true;
	default:
		return false;
	}
}

int icmp_quote_parse(struct tapir_icmp_quote *q, const uint8_t *buf, size_t len)
{
	size_t hl;
	bool first;

	if (len < IPV4_HDR_LEN || (buf[0] >> 4) != 4)
		return -EBADMSG;
	hl = (size_t)(buf[0] & 0x0f) * 4;
	if (hl < IPV4_HDR_LEN || hl > len)
		return -EBADMSG;
	q->src = get_be32(buf + 12);
	q->dst = get_be32(buf + 16);
	q->proto = buf[9];
	q->total_len = get_be16(buf + 2);
	q->frag_offset = (uint32_t)(get_be16(buf + 6) & IPV4_OFFSET_MASK) * 8;
	q->ip_header = buf;
	q->ip_header_len = hl;
	q->l4 = buf + hl;
	q->l4_len = len - hl;
	first = q->frag_offset == 0;
	q->have_ports = first && (q->proto == IPV4_PROTO_TCP || q->proto == IPV4_PROTO_UDP) &&
			q->l4_len >= 4;
	q->src_port = q->have_ports ? get_be16(q->l4) : 0;
	q->dst_port = q->have_ports ? get_be16(q->l4 + 2) : 0;
	q->have_seq = first && q->proto == IPV4_PROTO_TCP && q->l4_len >= 8;
	q->tcp_seq = q->have_seq ? get_be32(q->l4 + 4) : 0;
	return 0;
}

/*
 * udp.c - UDP datagram representation (RFC 768)
 */
#include "udp.h"

#include <errno.h>

#include "bytes.h"
#include "checksum.h"
#include "ipv4.h"

int udp_repr_parse(struct udp_repr *r, const uint8_t *buf, size_t len,
		   uint32_t src, uint32_t dst)
{
	return udp_repr_parse_opt(r, buf, len, src, dst, true);
}

int udp_repr_parse_opt(struct udp_repr *r, const uint8_t *buf, size_t len,
		       uint32_t src, uint32_t dst, bool verify)
{
	uint16_t ulen;

	if (len < UDP_HDR_LEN)
		return -EBADMSG;
	ulen = get_be16(buf + 4);
	if (ulen < UDP_HDR_LEN || ulen > len)
		return -EBADMSG;
	return udp_repr_parse_sum(r, buf, len, inet_csum_pseudo(src, dst, IPV4_PROTO_UDP, ulen),
				  verify, true);
}

int udp_repr_parse_sum(struct udp_repr *r, const uint8_t *buf, size_t len, uint64_t pseudo,
		       bool verify, bool zero_ok)
{
	uint16_t ulen;

	if (len < UDP_HDR_LEN)
		return -EBADMSG;
	ulen = get_be16(buf + 4);
	if (ulen < UDP_HDR_LEN || ulen > len)
		return -EBADMSG;
	if (get_be16(buf + 6) == 0) {
		if (!zero_ok)
			return -ENODATA;
	} else if (verify && inet_csum_fold(inet_csum_add(pseudo, buf, ulen)) != 0) {
		return -EILSEQ;
	}
	r->src_port = get_be16(buf + 0);
	r->dst_port = get_be16(buf + 2);
	r->payload = buf + UDP_HDR_LEN;
	r->payload_len = ulen - UDP_HDR_LEN;
	return 0;
}

void udp_repr_emit(const struct udp_repr *r, uint8_t *buf, uint32_t src, uint32_t dst)
{
	uint16_t ulen = (uint16_t)(UDP_HDR_LEN + r->payload_len);

	udp_repr_emit_sum(r, buf, inet_csum_pseudo(src, dst, IPV4_PROTO_UDP, ulen));
}

void udp_repr_emit_sum(const struct udp_repr *r, uint8_t *buf, uint64_t pseudo)
{
	uint16_t ulen = (uint16_t)(UDP_HDR_LEN + r->payload_len);
	uint64_t sum;
	uint16_t csum;

	put_be16(buf + 0, r->src_port);
	put_be16(buf + 2, r->dst_port);
	put_be16(buf + 4, ulen);
	put_be16(buf + 6, 0);
	sum = inet_csum_add(pseudo, buf, UDP_HDR_LEN);
	if (r->payload_len)
		sum = inet_csum_add(sum, r->payload, r->payload_len);
	csum = inet_csum_fold(sum);
	put_be16(buf + 6, csum ? csum : 0xffff);
}

/*
 * icmp.c - ICMPv4 message representation (RFC 792)
 */
#include "icmp.h"

#include <errno.h>

#include "bytes.h"
#include "checksum.h"

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
	case ICMP_DEST_UNREACH:
	case ICMP_SOURCE_QUENCH:
	case ICMP_REDIRECT:
	case ICMP_TIME_EXCEEDED:
	case ICMP_PARAM_PROBLEM:
		return true;
	default:
		return false;
	}
}

/*
 * arp.c - ARP packet representation, Ethernet/IPv4 only (RFC 826)
 *
 * Layout: htype(2) ptype(2) hlen(1) plen(1) op(2) sha(6) spa(4) tha(6) tpa(4)
 */
#include "arp.h"

#include <errno.h>
#include <string.h>

#include "bytes.h"
#include "eth.h"

int arp_repr_parse(struct arp_repr *r, const uint8_t *buf, size_t len)
{
	uint16_t op;

	if (len < ARP_LEN)
		return -EBADMSG;
	if (get_be16(buf + 0) != ARP_HTYPE_ETHERNET ||
	    get_be16(buf + 2) != TAPIR_ETHERTYPE_IPV4 ||
	    buf[4] != ETH_ALEN || buf[5] != 4)
		return -EBADMSG;
	op = get_be16(buf + 6);
	if (op != ARP_OP_REQUEST && op != ARP_OP_REPLY)
		return -EBADMSG;

	r->op = op;
	memcpy(r->sha, buf + 8, ETH_ALEN);
	r->spa = get_be32(buf + 14);
	memcpy(r->tha, buf + 18, ETH_ALEN);
	r->tpa = get_be32(buf + 24);
	return 0;
}

void arp_repr_emit(const struct arp_repr *r, uint8_t *buf)
{
	put_be16(buf + 0, ARP_HTYPE_ETHERNET);
	put_be16(buf + 2, TAPIR_ETHERTYPE_IPV4);
	buf[4] = ETH_ALEN;
	buf[5] = 4;
	put_be16(buf + 6, r->op);
	memcpy(buf + 8, r->sha, ETH_ALEN);
	put_be32(buf + 14, r->spa);
	memcpy(buf + 18, r->tha, ETH_ALEN);
	put_be32(buf + 24, r->tpa);
}

/*
 * eth.c - Ethernet II frame view and representation
 */
#include "eth.h"

#include <errno.h>
#include <stdio.h>
#include <stdbool.h>
#include <string.h>

const uint8_t eth_broadcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static const uint8_t eth_zero[ETH_ALEN];

int eth_view_check(struct eth_view *v, const uint8_t *buf, size_t len)
{
	if (len < ETH_HDR_LEN)
		return -EBADMSG;
	v->buf = buf;
	v->len = len;
	return 0;
}

void eth_repr_parse(struct eth_repr *r, const struct eth_view *v)
{
	memcpy(r->dst, eth_dst(v), ETH_ALEN);
	memcpy(r->src, eth_src(v), ETH_ALEN);
	r->ethertype = eth_ethertype(v);
}

void eth_repr_emit(const struct eth_repr *r, uint8_t *buf)
{
	memcpy(buf, r->dst, ETH_ALEN);
	memcpy(buf + 6, r->src, ETH_ALEN);
	put_be16(buf + 12, r->ethertype);
}

bool eth_addr_is_broadcast(const uint8_t *mac)
{
	return !memcmp(mac, eth_broadcast, ETH_ALEN);
}

bool eth_addr_is_multicast(const uint8_t *mac)
{
	return mac[0] & 0x01;
}

bool eth_addr_is_zero(const uint8_t *mac)
{
	return !memcmp(mac, eth_zero, ETH_ALEN);
}

/* Value of hex digit @c, or -1 */
static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int addr_parse(const char *s, uint8_t mac[ETH_ALEN], bool short_ok)
{
	uint8_t tmp[ETH_ALEN];
	int i;

	for (i = 0; i < ETH_ALEN; i++) {
		int hi, lo;

		/* Stops at the NUL: hexval('\0') is -1 */
		hi = hexval(s[0]);
		if (hi < 0)
			return -EINVAL;
		lo = hexval(s[1]);
		if (lo < 0 && !short_ok)
			return -EINVAL;
		tmp[i] = (uint8_t)(lo < 0 ? hi : hi << 4 | lo);
		s += lo < 0 ? 1 : 2;
		if (*s != (i == ETH_ALEN - 1 ? '\0' : ':'))
			return -EINVAL;
		s++;
	}
	memcpy(mac, tmp, ETH_ALEN);
	return 0;
}

int eth_addr_parse(const char *s, uint8_t mac[ETH_ALEN])
{
	return addr_parse(s, mac, false);
}

int eth_addr_parse_short(const char *s, uint8_t mac[ETH_ALEN])
{
	return addr_parse(s, mac, true);
}

void eth_addr_format(const uint8_t *mac, char buf[ETH_ADDR_STRLEN])
{
	snprintf(buf, ETH_ADDR_STRLEN, "%02x:%02x:%02x:%02x:%02x:%02x",
		 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

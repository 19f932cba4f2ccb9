/* addr.c - struct tapir_addr: comparison, IPv4-mapped forms, text both ways */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "tapir/addr.h"

bool tapir_addr_eq(const struct tapir_addr *a, const struct tapir_addr *b)
{
	if (a->family != b->family)
		return false;
	if (a->family == TAPIR_AF_INET)
		return a->v4 == b->v4;
	if (a->family == TAPIR_AF_INET6)
		return memcmp(a->v6, b->v6, 16) == 0;
	return true;
}

static const uint8_t v4mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

bool tapir_addr_is_v4mapped(const struct tapir_addr *a, uint32_t *v4)
{
	if (a->family != TAPIR_AF_INET6 || memcmp(a->v6, v4mapped_prefix, 12) != 0)
		return false;
	if (v4)
		*v4 = (uint32_t)a->v6[12] << 24 | (uint32_t)a->v6[13] << 16 |
		      (uint32_t)a->v6[14] << 8 | a->v6[15];
	return true;
}

struct tapir_addr tapir_addr_to_v6(const struct tapir_addr *a)
{
	struct tapir_addr m = { .family = TAPIR_AF_INET6 };

	if (a->family != TAPIR_AF_INET)
		return *a;
	memcpy(m.v6, v4mapped_prefix, 12);
	m.v6[12] = (uint8_t)(a->v4 >> 24);
	m.v6[13] = (uint8_t)(a->v4 >> 16);
	m.v6[14] = (uint8_t)(a->v4 >> 8);
	m.v6[15] = (uint8_t)a->v4;
	return m;
}

/* inet_pton()/inet_ntop() are plain libc text conversions (no system call);
 * glibc's and the BSDs' inet_ntop() write RFC 5952's canonical form. */
int tapir_addr_parse(const char *s, struct tapir_addr *out)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (!s)
		return -EINVAL;
	if (inet_pton(AF_INET, s, &a4) == 1) {
		*out = tapir_addr_v4(ntohl(a4.s_addr));
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a6) == 1) {
		out->family = TAPIR_AF_INET6;
		memcpy(out->v6, a6.s6_addr, 16);
		return 0;
	}
	return -EINVAL;
}

char *tapir_addr_format(const struct tapir_addr *a, char *buf)
{
	if (a->family == TAPIR_AF_INET) {
		struct in_addr a4 = { .s_addr = htonl(a->v4) };

		if (inet_ntop(AF_INET, &a4, buf, TAPIR_ADDR_STRLEN))
			return buf;
	} else if (a->family == TAPIR_AF_INET6) {
		struct in6_addr a6;

		memcpy(a6.s6_addr, a->v6, 16);
		if (inet_ntop(AF_INET6, &a6, buf, TAPIR_ADDR_STRLEN))
			return buf;
	}
	strcpy(buf, "?");
	return buf;
}

/*
 * checksum.c - the Internet checksum (RFC 1071)
 *
 * Adds 32-bit big-endian words into a 64-bit accumulator (no carry is lost
 * before 2^32 words, far beyond any datagram), then folds.  The one's
 * complement sum of 16-bit words equals the folded sum of 32-bit words.
 */
#include "checksum.h"

#include <string.h>

#include "bytes.h"

uint64_t inet_csum_add(uint64_t sum, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len >= 32) {
		sum += get_be32(p) + (uint64_t)get_be32(p + 4) + get_be32(p + 8) +
		       get_be32(p + 12) + get_be32(p + 16) + get_be32(p + 20) +
		       get_be32(p + 24) + get_be32(p + 28);
		p += 32;
		len -= 32;
	}
	while (len >= 4) {
		sum += get_be32(p);
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		sum += get_be16(p);
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint64_t)p[0] << 8;
	return sum;
}

uint64_t inet_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
	return (uint64_t)src + dst + proto + len;
}

uint16_t inet_csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint16_t inet_csum(const void *buf, size_t len)
{
	return inet_csum_fold(inet_csum_add(0, buf, len));
}

/*
 * checksum.h - the Internet checksum (RFC 1071), the one routine of the stack
 *
 * Sums are carried as 64-bit partial sums so pieces can be chained:
 *   sum = inet_csum_pseudo(src, dst, proto, len);
 *   sum = inet_csum_add(sum, hdr, hdr_len);     // every piece but the last
 *   sum = inet_csum_add(sum, data, data_len);   // must start at an even offset
 *   put_be16(p, inet_csum_fold(sum));
 * A piece of odd length may only be the last one of a chain.
 */
#ifndef TAPIR_WIRE_CHECKSUM_H
#define TAPIR_WIRE_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/* Add @len bytes at @buf (big-endian 16-bit words) to the partial sum @sum. */
uint64_t inet_csum_add(uint64_t sum, const void *buf, size_t len);

/* Partial sum of the IPv4 pseudo-header (addresses in host order). */
uint64_t inet_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len);

/* Fold a partial sum to 16 bits and complement it: the value to store. */
uint16_t inet_csum_fold(uint64_t sum);

/* Checksum of one buffer: inet_csum_fold(inet_csum_add(0, buf, len)).
 * A buffer that includes a correct checksum field yields 0. */
uint16_t inet_csum(const void *buf, size_t len);

#endif /* TAPIR_WIRE_CHECKSUM_H */

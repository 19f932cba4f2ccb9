/*
 * siphash.h - SipHash-2-4 and SipHash-1-3, the keyed 64-bit hashes of the stack
 *
 * SipHash (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012)
 * keys every table and secret a peer could aim at: TCP initial sequence
 * numbers, SYN cookies and timestamp offsets and the flow hash, the IP ID
 * buckets (SipHash-2-4), and the reassembly table (SipHash-1-3, the faster
 * variant for hash tables, as Linux's hsiphash and Python's str hash use).
 *
 * The key is two 64-bit words: key[0] holds bytes 0..7 of the 16-byte key of
 * the paper read as a little-endian number, key[1] bytes 8..15.  The *_2w
 * functions hash the 16-byte message made of @a then @b, each as eight
 * little-endian bytes: the same value the byte functions give for that
 * message, without building it.
 */
#ifndef TAPIR_SIPHASH_H
#define TAPIR_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/**
 * siphash24() - SipHash-2-4 of a byte string
 * @key: 128-bit key
 * @msg: Message (may be NULL if @len is 0)
 * @len: Its length in bytes
 *
 * Return: the 64-bit hash
 */
uint64_t siphash24(const uint64_t key[2], const void *msg, size_t len);

/* SipHash-1-3 of a byte string, as siphash24() */
uint64_t siphash13(const uint64_t key[2], const void *msg, size_t len);

/**
 * siphash24_2w() - SipHash-2-4 of two 64-bit words
 * @key: 128-bit key
 * @a:   First word (message bytes 0..7, little-endian)
 * @b:   Second word (message bytes 8..15)
 *
 * Return: the 64-bit hash
 */
uint64_t siphash24_2w(const uint64_t key[2], uint64_t a, uint64_t b);

/* SipHash-1-3 of two 64-bit words, as siphash24_2w() */
uint64_t siphash13_2w(const uint64_t key[2], uint64_t a, uint64_t b);

#endif /* TAPIR_SIPHASH_H */

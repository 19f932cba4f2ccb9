/*
 * siphash.c - SipHash-2-4 and SipHash-1-3 (one core, the round counts as
 *             parameters)
 */
#include "siphash.h"

struct sip {
	uint64_t v0, v1, v2, v3;
};

static inline uint64_t rotl64(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

static inline void sip_init(struct sip *s, const uint64_t key[2])
{
	s->v0 = 0x736f6d6570736575ull ^ key[0];
	s->v1 = 0x646f72616e646f6dull ^ key[1];
	s->v2 = 0x6c7967656e657261ull ^ key[0];
	s->v3 = 0x7465646279746573ull ^ key[1];
}

static inline void sip_rounds(struct sip *s, unsigned n)
{
	while (n--) {
		s->v0 += s->v1; s->v1 = rotl64(s->v1, 13); s->v1 ^= s->v0; s->v0 = rotl64(s->v0, 32);
		s->v2 += s->v3; s->v3 = rotl64(s->v3, 16); s->v3 ^= s->v2;
		s->v0 += s->v3; s->v3 = rotl64(s->v3, 21); s->v3 ^= s->v0;
		s->v2 += s->v1; s->v1 = rotl64(s->v1, 17); s->v1 ^= s->v2; s->v2 = rotl64(s->v2, 32);
	}
}

/* Compress one message word with @c rounds. */
static inline void sip_word(struct sip *s, uint64_t m, unsigned c)
{
	s->v3 ^= m;
	sip_rounds(s, c);
	s->v0 ^= m;
}

static inline uint64_t sip_final(struct sip *s, unsigned d)
{
	s->v2 ^= 0xff;
	sip_rounds(s, d);
	return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

static inline uint64_t load_le64(const uint8_t *p, size_t n)
{
	uint64_t w = 0;

	for (size_t i = 0; i < n; i++)
		w |= (uint64_t)p[i] << (8 * i);
	return w;
}

static inline uint64_t sip_bytes(const uint64_t key[2], const void *msg, size_t len, unsigned c,
				 unsigned d)
{
	const uint8_t *p = msg;
	size_t whole = len & ~(size_t)7;
	struct sip s;

	sip_init(&s, key);
	for (size_t i = 0; i < whole; i += 8)
		sip_word(&s, load_le64(p + i, 8), c);
	/* The last word: the remaining bytes and the length's low byte on top. */
	sip_word(&s, (uint64_t)len << 56 | load_le64(p + whole, len - whole), c);
	return sip_final(&s, d);
}

static inline uint64_t sip_2w(const uint64_t key[2], uint64_t a, uint64_t b, unsigned c,
			      unsigned d)
{
	struct sip s;

	sip_init(&s, key);
	sip_word(&s, a, c);
	sip_word(&s, b, c);
	sip_word(&s, (uint64_t)16 << 56, c);
	return sip_final(&s, d);
}

uint64_t siphash24(const uint64_t key[2], const void *msg, size_t len)
{
	return sip_bytes(key, msg, len, 2, 4);
}

uint64_t siphash13(const uint64_t key[2], const void *msg, size_t len)
{
	return sip_bytes(key, msg, len, 1, 3);
}

uint64_t siphash24_2w(const uint64_t key[2], uint64_t a, uint64_t b)
{
	return sip_2w(key, a, b, 2, 4);
}

uint64_t siphash13_2w(const uint64_t key[2], uint64_t a, uint64_t b)
{
	return sip_2w(key, a, b, 1, 3);
}

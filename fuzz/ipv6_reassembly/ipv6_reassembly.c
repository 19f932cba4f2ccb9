/*
 * ipv6_reassembly.c - libFuzzer harness for the reassembly table in its IPv6 mode
 *
 * Input format (every read past the end yields 0):
 *   byte 0      cap: 0 -> 16 KiB, 1 -> 64 KiB, 2 -> 1 MiB (mod 3)
 *   then commands, each starting with one byte op:
 *     op % 4 == 3  op & 4 clear: clock forward by (next byte) * 500 ms, then
 *                  reasm_poll; op & 12 == 4: clock back by (next byte) * 250 ms;
 *                  op & 12 == 12: rekey the hash with (next byte)
 *     otherwise    fragment: key(1) offset units(2, 13 bits used) flags(1) len(2)
 *                  key bits: 0-1 src, 2-3 id, 4 dst
 *                  flags: bit 0 M, bits 1-2 what precedes the fragment
 *                         header: nothing, an 8-byte hop-by-hop, a 16-byte
 *                         destination options, both (48, 56, 64, 72 bytes),
 *                         bit 3 round len down to a multiple of 8,
 *                         bit 5 take len modulo 64 (tiny fragments)
 * The data of every fragment is a pattern of (key, position in the packet),
 * so a completed packet can be checked byte by byte.
 *
 * Invariants (abort() on failure): reasm_bytes() <= cap; each drop bumps
 * exactly one drop counter; every completed packet has the payload length
 * of its size, no fragment header, the upper-layer Next Header (58) where
 * the fragment header was named, the first fragment's other headers and the
 * pattern data; every expiry quote is the first fragment as received (its
 * headers, then pattern data), at most 1,232 bytes.  At the end, polling past
 * every deadline must leave the table empty, and everything is freed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tapir/counters.h"
#include "../../libstack/ipv4_reasm.h"
#include "../../libstack/wire/bytes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SEC 1000000000ULL
#define NKEYS 32

struct in {
	const uint8_t *p;
	size_t len, pos;
};

static uint8_t next8(struct in *in)
{
	return in->pos < in->len ? in->p[in->pos++] : 0;
}

static uint16_t next16(struct in *in)
{
	uint16_t hi = next8(in);

	return (uint16_t)(hi << 8 | next8(in));
}

static uint8_t (*pats)[65536];

static void make_patterns(void)
{
	if (pats)
		return;
	pats = malloc(sizeof(*pats) * NKEYS);
	if (!pats)
		abort();
	for (size_t k = 0; k < NKEYS; k++)
		for (size_t pos = 0; pos < 65536; pos++)
			pats[k][pos] = (uint8_t)(pos * 29 + (pos >> 8) + k * 11);
}

static void check(int ok)
{
	if (!ok)
		abort();
}

static void addr(uint8_t a[16], unsigned v)
{
	memset(a, 0, 16);
	a[0] = 0x20;
	a[1] = 0x01;
	a[2] = 0x0d;
	a[3] = 0xb8;
	a[15] = (uint8_t)v;
}

static unsigned key_of(const uint8_t *src, const uint8_t *dst, uint32_t id)
{
	return (src[15] & 3) | (id & 3) << 2 | (dst[15] & 1) << 4;
}

/* Build the headers before the data: fixed header, optional HBH and DSTOPTS, fragment */
static size_t build_hdr(uint8_t *h, unsigned variant, const uint8_t *src, const uint8_t *dst,
			uint32_t id, uint32_t off, int more, size_t len, uint16_t *nh_off)
{
	size_t pos = 40;
	uint8_t *nh = h + 6;

	memset(h, 0, 72);
	h[0] = 0x60;
	h[7] = 64;
	memcpy(h + 8, src, 16);
	memcpy(h + 24, dst, 16);
	*nh_off = 6;
	if (variant & 1) {
		*nh = 0;           /* hop-by-hop, 8 bytes of padding */
		h[pos + 2] = 1;
		h[pos + 3] = 4;
		*nh_off = (uint16_t)pos;
		nh = h + pos;
		pos += 8;
	}
	if (variant & 2) {
		*nh = 60;          /* destination options, 16 bytes */
		h[pos + 1] = 1;
		h[pos + 2] = 1;
		h[pos + 3] = 12;
		*nh_off = (uint16_t)pos;
		nh = h + pos;
		pos += 16;
	}
	*nh = 44;
	h[pos] = 58;
	put_be16(h + pos + 2, (uint16_t)(off | (more ? 1 : 0)));
	put_be32(h + pos + 4, id);
	pos += 8;
	put_be16(h + 4, (uint16_t)(pos - 40 + len));
	return pos;
}

static void on_expired(void *ctx, const uint8_t *q, size_t qlen)
{
	size_t pos = 40;
	uint8_t nh;

	(void)ctx;
	check(qlen >= 48 && qlen <= 1232 && (q[0] >> 4) == 6);
	nh = q[6];
	while (nh == 0 || nh == 60) {
		check(pos + 8 <= qlen);
		nh = q[pos];
		pos += ((size_t)q[pos + 1] + 1) * 8;
	}
	check(nh == 44 && pos + 8 <= qlen);
	check((get_be16(q + pos + 2) & 0xfff8) == 0);  /* the first fragment */
	unsigned key = key_of(q + 8, q + 24, get_be32(q + pos + 4));
	pos += 8;
	check(memcmp(q + pos, pats[key], qlen - pos) == 0);
}

static const enum tapir_stack_counter drops[] = {
	TAPIR_CTR_REASM_DROP_OVERLAP, TAPIR_CTR_REASM_DROP_DEAD, TAPIR_CTR_REASM_DROP_TOO_BIG,
	TAPIR_CTR_REASM_DROP_BAD_LEN, TAPIR_CTR_REASM_DROP_BAD_END, TAPIR_CTR_REASM_DROP_NOMEM,
};

static uint64_t drop_sum(const uint64_t *ctr)
{
	uint64_t s = 0;

	for (size_t i = 0; i < sizeof(drops) / sizeof(drops[0]); i++)
		s += ctr[drops[i]];
	return s;
}

static void fragment(struct reasm *r, uint64_t now, struct in *in, const uint64_t *ctr)
{
	uint8_t k = next8(in), fl, src[16], dst[16], hdr[72];
	uint32_t off = (next16(in) & 0x1fff) * 8u, id;
	struct reasm_frag f;
	size_t hl, len;
	uint64_t before_drops = drop_sum(ctr), before_done = ctr[TAPIR_CTR_REASM_COMPLETED];
	uint8_t *out = NULL;
	size_t out_len = 0;
	unsigned key, variant;
	int ret;

	fl = next8(in);
	len = next16(in);
	if (fl & 0x20)
		len %= 64;
	if (fl & 0x08)
		len &= ~(size_t)7;
	if (len > 65536 - off)
		len = 65536 - off;
	variant = (fl >> 1) & 3;
	addr(src, k & 3);
	addr(dst, 0x10 | ((k >> 4) & 1));
	id = 0xabc00000u | ((k >> 2) & 3);
	key = key_of(src, dst, id);
	memset(&f, 0, sizeof(f));
	hl = build_hdr(hdr, variant, src, dst, id, off, fl & 1, len, &f.nh_off);
	f.src6 = src;
	f.dst6 = dst;
	f.id6 = id;
	f.offset = off;
	f.more = fl & 1;
	f.hdr = hdr;
	f.hdr_len = hl;
	f.payload = pats[key] + off;
	f.len = len;

	ret = reasm_input(r, now, &f, &out, &out_len);
	if (ret < 0) {
		check(drop_sum(ctr) == before_drops + 1);
		check(out == NULL);
	} else if (ret == 0) {
		check(drop_sum(ctr) == before_drops);
		check(ctr[TAPIR_CTR_REASM_COMPLETED] == before_done);
		check(out == NULL);
	} else {
		size_t pos = 40;
		uint8_t nh;

		check(ret == 1);
		check(ctr[TAPIR_CTR_REASM_COMPLETED] == before_done + 1);
		check(out != NULL && out_len > 40 && out_len - 40 <= 65535);
		check(get_be16(out + 4) == out_len - 40);
		check(!memcmp(out + 8, src, 16) && !memcmp(out + 24, dst, 16));
		nh = out[6];
		while (nh == 0 || nh == 60) {
			check(pos + 8 <= out_len);
			nh = out[pos];
			pos += ((size_t)out[pos + 1] + 1) * 8;
		}
		check(nh == 58 && pos <= out_len);
		check(memcmp(out + pos, pats[key], out_len - pos) == 0);
		free(out);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t caps[3] = {16 << 10, 64 << 10, 1 << 20};
	uint64_t ctr[TAPIR_CTR__COUNT] = {0};
	struct reasm_config cfg = {0};
	struct in in = {data, size, 0};
	struct reasm *r;
	uint64_t now = 1000 * SEC, latest = now;

	cfg.max_bytes = caps[next8(&in) % 3];
	cfg.timeout_ns = 60 * SEC;
	cfg.family = 6;
	r = reasm_new(&cfg, ctr);
	make_patterns();
	if (!r)
		abort();
	reasm_set_hash_key(r, 0x0123456789abcdefULL, (uint64_t)size);

	while (in.pos < in.len) {
		uint8_t op = next8(&in);

		if (op % 4 == 3 && !(op & 4)) {
			now += next8(&in) * (SEC / 2);
			if (now > latest)
				latest = now;
			reasm_poll(r, now, on_expired, NULL);
			check(reasm_next_deadline(r) > now);
		} else if (op % 4 == 3 && !(op & 8)) {
			uint64_t back = next8(&in) * (SEC / 4);

			now = back < now ? now - back : 0;
		} else if (op % 4 == 3) {
			reasm_set_hash_key(r, next8(&in), 0x5a5a5a5a5a5a5a5aULL);
		} else {
			fragment(r, now, &in, ctr);
		}
		check(reasm_bytes(r) <= cfg.max_bytes);
		check((reasm_count(r) == 0) == (reasm_bytes(r) == 0));
	}
	reasm_poll(r, latest + cfg.timeout_ns, on_expired, NULL);
	check(reasm_bytes(r) == 0 && reasm_count(r) == 0);
	check(reasm_next_deadline(r) == UINT64_MAX);
	reasm_free(r);
	return 0;
}

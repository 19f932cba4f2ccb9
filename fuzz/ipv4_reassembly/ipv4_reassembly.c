/*
 * ipv4_reassembly.c - libFuzzer harness for the IPv4 reassembly table
 *
 * Input format (every read past the end yields 0):
 *   byte 0      cap: 0 -> 16 KiB, 1 -> 64 KiB, 2 -> 1 MiB (mod 3)
 *   then commands, each starting with one byte op:
 *     op % 4 == 3  op & 4 clear: clock forward by (next byte) * 250 ms, then
 *                  reasm_poll; op & 12 == 4: clock back by (next byte) * 250 ms;
 *                  op & 12 == 12: rekey the hash with (next byte)
 *     otherwise    fragment: key(1) offset units(2, 13 bits used) flags(1) len(2)
 *                  key bits: 0-1 src, 2-3 id, 4 proto, 5 dst
 *                  flags: bit 0 MF, bits 1-2 header length 20/24/44/60,
 *                         bit 3 round len down to a multiple of 8,
 *                         bit 4 DF, bit 5 take len modulo 64 (tiny fragments)
 * The data of every fragment is a pattern of (key, position in the datagram),
 * so a completed datagram can be checked byte by byte; a fragment reaching
 * past 65,536 bytes is cut there (still far beyond the limit).
 *
 * Invariants (abort() on failure): reasm_bytes() <= cap; reasm_count() equals
 * what reasm_list() reports; each drop bumps exactly one drop counter; every
 * completed datagram has a valid header checksum, the right total length,
 * MF and offset clear, DF as sent, and the pattern data; every expiry quote
 * is a header plus at most 8 bytes of pattern data.  At the end, polling past
 * every deadline must leave the table empty.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tapir/counters.h"
#include "../../libstack/ipv4_reasm.h"
#include "../../libstack/wire/bytes.h"
#include "../../libstack/wire/checksum.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SEC 1000000000ULL

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

#define NKEYS 64

/* pats[key][pos]: the data of every datagram, made once */
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
			pats[k][pos] = (uint8_t)(pos * 31 + (pos >> 8) + k * 13);
}

static unsigned int key_of(uint32_t src, uint32_t dst, uint16_t id, uint8_t proto)
{
	return (src & 3) | (id & 3) << 2 | (proto == 17) << 4 | (dst & 1) << 5;
}

static void check(int ok)
{
	if (!ok)
		abort();
}

static void on_expired(void *ctx, const uint8_t *q, size_t qlen)
{
	size_t hl;
	unsigned int key;

	(void)ctx;
	check(qlen >= 21 && qlen <= 68);
	hl = (size_t)(q[0] & 0xf) * 4;
	check(hl >= 20 && hl < qlen && qlen - hl <= 8);
	check((get_be16(q + 6) & 0x1fff) == 0); /* the first fragment */
	key = key_of(get_be32(q + 12), get_be32(q + 16), get_be16(q + 4), q[9]);
	check(memcmp(q + hl, pats[key], qlen - hl) == 0);
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
	static const uint8_t hls[4] = {20, 24, 44, 60};
	uint8_t k = next8(in), fl;
	uint32_t off = (next16(in) & 0x1fff) * 8u;
	uint8_t hdr[60];
	struct reasm_frag f;
	size_t hl, len;
	uint64_t before_drops = drop_sum(ctr), before_done = ctr[TAPIR_CTR_REASM_COMPLETED];
	uint8_t *out = NULL;
	size_t out_len = 0;
	unsigned int key;
	int ret;

	fl = next8(in);
	len = next16(in);
	if (fl & 0x20)
		len %= 64;
	if (fl & 0x08)
		len &= ~(size_t)7;
	if (len > 65536 - off)
		len = 65536 - off; /* still too big: the pattern ends at 65,536 */
	hl = hls[(fl >> 1) & 3];

	memset(&f, 0, sizeof(f));
	f.src = 0xc0000200u | (k & 3);
	f.dst = 0xc6336400u | ((k >> 5) & 1);
	f.id = (uint16_t)(0x1000 | ((k >> 2) & 3));
	f.proto = (k & 0x10) ? 17 : 6;
	f.offset = off;
	f.more = fl & 1;
	key = key_of(f.src, f.dst, f.id, f.proto);

	memset(hdr, 1, sizeof(hdr)); /* NOP options */
	hdr[0] = (uint8_t)(0x40 | hl / 4);
	hdr[1] = 0;
	put_be16(hdr + 2, (uint16_t)(hl + len));
	put_be16(hdr + 4, f.id);
	put_be16(hdr + 6, (uint16_t)((fl & 0x10 ? 0x4000 : 0) | (f.more ? 0x2000 : 0) |
				     (off / 8)));
	hdr[8] = 64;
	hdr[9] = f.proto;
	put_be16(hdr + 10, 0);
	put_be32(hdr + 12, f.src);
	put_be32(hdr + 16, f.dst);
	put_be16(hdr + 10, inet_csum(hdr, hl));
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
		size_t ohl;

		check(ret == 1);
		check(ctr[TAPIR_CTR_REASM_COMPLETED] == before_done + 1);
		check(drop_sum(ctr) == before_drops);
		check(out != NULL && out_len >= 21 && out_len <= 65535);
		ohl = (size_t)(out[0] & 0xf) * 4;
		check(ohl >= 20 && ohl < out_len);
		check(get_be16(out + 2) == out_len);
		check((get_be16(out + 6) & 0xbfff) == 0);
		check(inet_csum(out, ohl) == 0);
		check(get_be16(out + 4) == f.id && out[9] == f.proto);
		check(get_be32(out + 12) == f.src && get_be32(out + 16) == f.dst);
		check(memcmp(out + ohl, pats[key], out_len - ohl) == 0);
		free(out);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t caps[3] = {16 << 10, 64 << 10, 1 << 20};
	uint64_t ctr[TAPIR_CTR__COUNT] = {0};
	struct reasm_config cfg = {0};
	struct in in = {data, size, 0};
	struct tapir_reasm_info info[64];
	struct reasm *r;
	uint64_t now = 1000 * SEC, latest = now;
	unsigned int steps = 0;

	cfg.max_bytes = caps[next8(&in) % 3];
	cfg.timeout_ns = 30 * SEC;
	r = reasm_new(&cfg, ctr);
	make_patterns();
	if (!r)
		abort();
	reasm_set_hash_key(r, 0x0123456789abcdefULL, (uint64_t)size);

	while (in.pos < in.len) {
		uint8_t op = next8(&in);

		if (op % 4 == 3 && !(op & 4)) {
			now += next8(&in) * (SEC / 4);
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
		if (++steps % 16 == 0 && reasm_count(r) <= 64)
			check(reasm_list(r, info, 64) == reasm_count(r));
		if (reasm_count(r))
			check(reasm_next_deadline(r) <= latest + cfg.timeout_ns);
		else
			check(reasm_next_deadline(r) == UINT64_MAX);
	}

	reasm_poll(r, latest + cfg.timeout_ns, on_expired, NULL);
	check(reasm_bytes(r) == 0 && reasm_count(r) == 0);
	check(reasm_next_deadline(r) == UINT64_MAX);
	check(ctr[TAPIR_CTR_REASM_FRAGS_IN] >= ctr[TAPIR_CTR_REASM_COMPLETED]);
	reasm_free(r);
	return 0;
}

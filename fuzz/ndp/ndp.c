/*
 * ndp.c - fuzz target: ICMPv6 messages (NDP and its options, MLD queries,
 *         errors, echo) into a stack with IPv6, and the clock
 *
 * Input: a sequence of records, each starting with an op byte:
 *   op % 4 == 0: a message: a byte of addressing, a 2-byte big-endian length
 *                (cut to what is left), the ICMPv6 message.  Addressing bits
 *                0-1: source fe80::1, 2001:db8::99, ::, fe80::2; bits 2-3:
 *                destination 2001:db8::2 (ours), ff02::1, ff02::1:ff00:2,
 *                2001:db8::5 (not ours); bit 4: hop limit 64 instead of 255;
 *                bit 5: keep the checksum as given (else it is made valid);
 *                bit 6: behind an 8-byte hop-by-hop header (Router Alert)
 *   op % 4 == 1: the clock forward by (next byte) * 100 ms, timers run
 *   op % 4 == 2: the clock forward by 31 s
 *   op % 4 == 3: the stack pings 2001:db8::(next byte), or with op & 4
 *                2001:db8:77::(next byte) (off-link: through a router, if any)
 * The messages are also given to the wire parsers directly (ndp_parse,
 * mld_query_parse).  The stack is 2001:db8::2/64 with DAD and SLAAC on, MTU
 * 1500, into a device that checks each frame's size.  At the end the clock
 * goes past every timer: no deadline may be left, then everything is freed
 * (LeakSanitizer checks).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tapir/ipv6.h"
#include "tapir/stack.h"
#include "wire/checksum.h"
#include "wire/icmpv6.h"
#include "wire/ipv6.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t sinkbuf[65536];

static size_t sink_mtu(void *dev)
{
	(void)dev;
	return 1500;
}

static void sink_mac(void *dev, uint8_t mac[6])
{
	static const uint8_t m[6] = { 2, 0, 0, 0, 0, 2 };

	(void)dev;
	memcpy(mac, m, 6);
}

static int sink_write(void *dev, size_t size, tapir_netif_fill_fn fill, void *ctx)
{
	(void)dev;
	if (size > 1514 || fill(sinkbuf, size, ctx) > size)
		abort();
	return 0;
}

static const struct tapir_netif_ops sink_ops = { sink_mtu, sink_mac, sink_write, NULL };

static void fixed_random(void *ctx, void *buf, size_t len)
{
	uint64_t *state = ctx;
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i++) {
		*state = *state * 6364136223846793005ull + 1442695040888963407ull;
		p[i] = (uint8_t)(*state >> 56);
	}
}

static const uint8_t srcs[4][16] = {
	{ 0xfe, 0x80, [15] = 1 }, { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x99 }, { 0 },
	{ 0xfe, 0x80, [15] = 2 },
};
static const uint8_t dsts[4][16] = {
	{ 0x20, 0x01, 0x0d, 0xb8, [15] = 2 }, { 0xff, 0x02, [15] = 1 },
	{ 0xff, 0x02, [11] = 1, 0xff, 0, 0, 2 }, { 0x20, 0x01, 0x0d, 0xb8, [15] = 5 },
};

static void message(struct tapir_stack *st, uint8_t how, const uint8_t *msg, size_t len,
		    uint64_t now)
{
	static uint8_t frame[14 + 40 + 8 + 65535];
	const uint8_t *src = srcs[how & 3], *dst = dsts[(how >> 2) & 3];
	size_t hbh = (how & 0x40) ? 8 : 0, pos = 14;
	struct ndp_msg n;
	struct mld_query q;
	uint8_t *m;

	(void)ndp_parse(&n, msg, len);
	(void)mld_query_parse(&q, msg, len);
	if (len > 65535 - hbh)
		len = 65535 - hbh;
	if (dst[0] == 0xff) {
		frame[0] = 0x33;
		frame[1] = 0x33;
		memcpy(frame + 2, dst + 12, 4);
	} else {
		memcpy(frame, "\x02\0\0\0\0\x02", 6);
	}
	memcpy(frame + 6, "\x02\0\0\0\0\x01", 6);
	frame[12] = 0x86;
	frame[13] = 0xdd;
	memset(frame + pos, 0, 40);
	frame[pos] = 0x60;
	frame[pos + 4] = (uint8_t)((len + hbh) >> 8);
	frame[pos + 5] = (uint8_t)(len + hbh);
	frame[pos + 6] = hbh ? 0 : 58;
	frame[pos + 7] = (how & 0x10) ? 64 : 255;
	memcpy(frame + pos + 8, src, 16);
	memcpy(frame + pos + 24, dst, 16);
	pos += 40;
	if (hbh) {
		static const uint8_t ra[8] = { 58, 0, 5, 2, 0, 0, 1, 0 };

		memcpy(frame + pos, ra, 8);
		pos += 8;
	}
	m = frame + pos;
	memcpy(m, msg, len);
	if (!(how & 0x20) && len >= 4)
		icmpv6_set_csum(src, dst, m, len);
	tapir_stack_input(st, frame, pos + len, 0, now);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tapir_netif nif = { &sink_ops, NULL };
	struct tapir_stack_config cfg;
	struct tapir_stack *st;
	uint64_t rng = 7, now = 1000000000ull;
	size_t i = 0;

	tapir_stack_config_defaults(&cfg);
	cfg.addr = 0xc0000202;
	cfg.random = fixed_random;
	cfg.random_ctx = &rng;
	cfg.ipv6.enabled = true;
	cfg.ipv6.naddrs = 1;
	memcpy(cfg.ipv6.addrs[0].addr, dsts[0], 16);
	cfg.ipv6.addrs[0].prefix_len = 64;
	cfg.ipv6.neigh_cache_size = 16;
	if (tapir_stack_new(&st, &cfg, &nif, now) < 0)
		abort();
	tapir_stack_start(st, now);

	while (i < size) {
		uint8_t op = data[i++];

		switch (op % 4) {
		case 0: {
			size_t len;
			uint8_t how;

			if (size - i < 3) {
				i = size;
				break;
			}
			how = data[i];
			len = (size_t)data[i + 1] << 8 | data[i + 2];
			i += 3;
			if (len > size - i)
				len = size - i;
			message(st, how, data + i, len, now);
			i += len;
			break;
		}
		case 1:
			if (i < size)
				now += (uint64_t)data[i++] * 100000000ull;
			tapir_stack_poll(st, now);
			break;
		case 2:
			now += 31000000000ull;
			tapir_stack_poll(st, now);
			break;
		case 3: {
			uint8_t dst[16] = { 0x20, 0x01, 0x0d, 0xb8 };

			if (op & 4)
				dst[5] = 0x77;
			dst[15] = i < size ? data[i++] : 1;
			tapir_icmpv6_send_echo(st, dst, 1, 1, 0, (const uint8_t *)"ping", 4);
			break;
		}
		}
		tapir_stack_flush(st);
	}
	for (int k = 0; k < 10000 && tapir_stack_next_deadline(st) != TAPIR_STACK_NO_DEADLINE; k++) {
		uint64_t d = tapir_stack_next_deadline(st);

		now = d > now ? d : now + 1000000;
		tapir_stack_poll(st, now);
	}
	for (int k = 0; k < 8; k++) {
		now += 3600ull * 1000000000ull;
		tapir_stack_poll(st, now);
	}
	/* infinite lifetimes (0xffffffff) from an RA keep no timer */
	if (tapir_stack_next_deadline(st) != TAPIR_STACK_NO_DEADLINE)
		abort();
	tapir_stack_free(st);
	return 0;
}

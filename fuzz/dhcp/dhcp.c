/*
 * dhcp.c - fuzz target: the DHCP message and option parser, and the client
 *          fed arbitrary replies, ARP packets and clock steps
 *
 * The whole input is first parsed as one DHCP message (dhcp_repr_parse(),
 * then emitted again when it parses) and as an RFC 3397 search list.  Then
 * it is read as a sequence of records driving a stack without an address
 * that runs the DHCP client:
 *   op % 4 == 0: a DHCP reply: 2-byte big-endian length (cut to what is
 *                left), the UDP payload, sent from 192.0.2.1:67 to
 *                255.255.255.255:68 (or, with op & 0x10, to our address).
 *                With op & 4 its xid and chaddr are replaced by those of the
 *                client's last message, so that OFFERs and ACKs are taken.
 *   op % 4 == 1: advance the clock by (next byte) * 100 ms
 *   op % 4 == 2: an ARP reply from another host for address 192.0.2.(next
 *                byte), or for the address being probed with op & 4
 *   op % 4 == 3: (next byte) % 3: renew, release, stop and start again
 * Invariants checked after every record: the stack's address is the
 * lease's while there is one and 0.0.0.0 otherwise.  At the end the clock
 * runs an hour, the client stops (releasing), and the stack is freed.
 * DHCP_FUZZ_DEBUG=1 in the environment prints the state after each record.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tapir/dhcp.h"
#include "tapir/stack.h"
#include "wire/arp.h"
#include "wire/bytes.h"
#include "wire/dhcp.h"
#include "wire/eth.h"
#include "wire/ipv4.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NS 1000000000ull

static const uint8_t our_mac[6] = { 2, 0, 0, 0, 0, 2 };
static const uint8_t srv_mac[6] = { 2, 0, 0, 0, 0, 1 };

struct dev {
	uint8_t buf[2048];
	uint32_t xid;            /* of the client's last DHCP message */
	uint32_t probed;         /* target of the last ARP probe */
};

static size_t dev_mtu(void *d) { (void)d; return 1500; }
static void dev_mac(void *d, uint8_t mac[6]) { (void)d; memcpy(mac, our_mac, 6); }

static int dev_write(void *d, size_t size, tapir_netif_fill_fn fill, void *ctx)
{
	struct dev *v = d;
	size_t n;

	if (size > 1514)
		abort();
	n = fill(v->buf, size, ctx);
	if (n > size)
		abort();
	if (n >= ETH_HDR_LEN + 28 + DHCP_MIN_LEN && get_be16(v->buf + 12) == 0x0800 &&
	    get_be16(v->buf + ETH_HDR_LEN + 22) == DHCP_SERVER_PORT)
		v->xid = get_be32(v->buf + ETH_HDR_LEN + 28 + 4);
	if (n >= ETH_HDR_LEN + ARP_LEN && get_be16(v->buf + 12) == 0x0806 &&
	    get_be32(v->buf + ETH_HDR_LEN + 14) == 0)
		v->probed = get_be32(v->buf + ETH_HDR_LEN + 24);
	return 0;
}

static const struct tapir_netif_ops dev_ops = { dev_mtu, dev_mac, dev_write, NULL };

static void rnd(void *ctx, void *buf, size_t len)
{
	uint64_t *s = ctx;
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i++) {
		*s = *s * 6364136223846793005ull + 1442695040888963407ull;
		p[i] = (uint8_t)(*s >> 56);
	}
}

static void on_lease(void *ctx, const struct tapir_dhcp_lease *l)
{
	struct tapir_stack **st = ctx;

	if (l && tapir_stack_addr(*st) != l->addr)
		abort();
}

static void check(struct tapir_stack *st)
{
	const struct tapir_dhcp_lease *l = tapir_dhcp_lease(st);

	if (tapir_stack_addr(st) != (l ? l->addr : 0))
		abort();
}

static void advance(struct tapir_stack *st, uint64_t *now, uint64_t ns)
{
	uint64_t end = *now + ns;

	for (int i = 0; i < 100000; i++) {
		uint64_t d = tapir_stack_next_deadline(st);

		if (d > end)
			break;
		if (d > *now)
			*now = d;
		tapir_stack_poll(st, *now);
	}
	*now = end;
	tapir_stack_poll(st, *now);
}

static void send_reply(struct tapir_stack *st, struct dev *v, uint8_t op, const uint8_t *p,
		       size_t len, uint64_t now)
{
	static uint8_t f[ETH_HDR_LEN + 28 + 1472];
	struct eth_repr e = { .ethertype = 0x0800 };
	struct ipv4_repr ip = { .src = 0xc0000201, .proto = 17, .ttl = 64 };
	uint8_t *u = f + ETH_HDR_LEN + 20;

	if (len > 1472)
		len = 1472;
	ip.dst = (op & 0x10) && tapir_stack_addr(st) ? tapir_stack_addr(st) : IPV4_ADDR_BROADCAST;
	memcpy(e.dst, ip.dst == IPV4_ADDR_BROADCAST ? eth_broadcast : our_mac, 6);
	memcpy(e.src, srv_mac, 6);
	eth_repr_emit(&e, f);
	ip.payload_len = 8 + len;
	ipv4_repr_emit(&ip, f + ETH_HDR_LEN);
	put_be16(u, DHCP_SERVER_PORT);
	put_be16(u + 2, DHCP_CLIENT_PORT);
	put_be16(u + 4, (uint16_t)(8 + len));
	put_be16(u + 6, 0);	/* no checksum */
	memcpy(u + 8, p, len);
	if ((op & 4) && len >= 34) {
		put_be32(u + 8 + 4, v->xid);
		memcpy(u + 8 + 28, our_mac, 6);
	}
	tapir_stack_input(st, f, ETH_HDR_LEN + 28 + len, 0, now);
}

static void send_arp(struct tapir_stack *st, uint32_t spa, uint64_t now)
{
	uint8_t f[ETH_HDR_LEN + ARP_LEN];
	static const uint8_t other[6] = { 2, 0, 0, 0, 0, 9 };
	struct eth_repr e = { .ethertype = 0x0806 };
	struct arp_repr a = { .op = 2, .spa = spa, .tpa = tapir_stack_addr(st) };

	memcpy(e.dst, eth_broadcast, 6);
	memcpy(e.src, other, 6);
	eth_repr_emit(&e, f);
	memcpy(a.sha, other, 6);
	arp_repr_emit(&a, f + ETH_HDR_LEN);
	tapir_stack_input(st, f, sizeof(f), 0, now);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dev v;
	struct tapir_stack *st = NULL;
	struct tapir_stack_config c;
	struct tapir_netif nif = { &dev_ops, &v };
	struct tapir_dhcp_config dc = { .hostname = "fuzz", .lease_changed = on_lease };
	uint64_t now = 1000 * NS, seed = 1;
	struct dhcp_repr r;
	char names[DHCP_MAX_SEARCH][DHCP_NAME_MAX + 1];
	size_t i = 0;
	bool debug = getenv("DHCP_FUZZ_DEBUG") != NULL;

	/* the parser alone */
	if (dhcp_repr_parse(&r, data, size) == 0) {
		static uint8_t out[2048];

		r.param_req = data;
		r.param_req_len = size < 255 ? (uint8_t)size : 255;
		if (dhcp_repr_emit_len(&r) > sizeof(out))
			abort();
		dhcp_repr_emit(&r, out, sizeof(out));
	}
	(void)dhcp_search_decode(data, size, names, DHCP_MAX_SEARCH);

	/* the client */
	memset(&v, 0, sizeof(v));
	tapir_stack_config_defaults(&c);
	c.random = rnd;
	c.random_ctx = &seed;
	if (tapir_stack_new(&st, &c, &nif, now))
		abort();
	dc.ctx = &st;
	dc.reboot_addr = size && (data[0] & 0x80) ? 0xc0000232 : 0;
	if (tapir_dhcp_start(st, &dc, now))
		abort();
	while (i < size) {
		uint8_t op = data[i++];

		switch (op % 4) {
		case 0: {
			size_t len = 0;

			if (i + 2 <= size) {
				len = get_be16(data + i);
				i += 2;
			}
			if (len > size - i)
				len = size - i;
			send_reply(st, &v, op, data + i, len, now);
			i += len;
			break;
		}
		case 1:
			advance(st, &now, (uint64_t)(i < size ? data[i++] : 1) * NS / 10);
			break;
		case 2:
			send_arp(st, (op & 4) ? v.probed : 0xc0000200u | (i < size ? data[i] : 0), now);
			i += i < size;
			break;
		case 3: {
			uint8_t b = i < size ? data[i++] : 0;

			if (b % 3 == 0)
				tapir_dhcp_renew(st, now);
			else if (b % 3 == 1)
				tapir_dhcp_release(st, now);
			else {
				tapir_dhcp_stop(st, true, now);
				if (tapir_dhcp_start(st, &dc, now))
					abort();
			}
			break;
		}
		}
		check(st);
		if (debug)
			fprintf(stderr, "op %u: %s\n", op, tapir_dhcp_state_name(tapir_dhcp_state(st)));
	}
	advance(st, &now, 3600 * NS);
	check(st);
	tapir_dhcp_stop(st, true, now);
	if (tapir_stack_addr(st) != 0)
		abort();
	tapir_stack_free(st);
	return 0;
}

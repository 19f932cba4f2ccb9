/*
 * eth_input.c - fuzz target: arbitrary frames and clock steps into a full stack
 *
 * Input: a sequence of records.  Each starts with an op byte:
 *   op % 4 == 0: a frame: 2-byte big-endian length (cut to what is left), bytes;
 *                (op >> 2) & 7 are its NETIF_RX_* flags (tapir_stack_input():
 *                partial/valid checksum, super-segment)
 *   op % 4 == 1: advance the clock by (next byte) * 50 ms, run timers
 *   op % 4 == 2: advance the clock by 31 s (reassembly and ARP timers)
 *   op % 4 == 3: the stack sends a UDP datagram of (next byte) * 64 bytes to
 *                192.0.2.(next byte): exercises ARP queueing and fragmentation;
 *                with op & 4 an ICMPv6 echo request of that size to
 *                2001:db8::(next byte) instead (NDP queueing, fragments),
 *                with op & 8 a UDP datagram to [2001:db8::(next byte)]:9
 * The stack (192.0.2.2/24 and 2001:db8::2/64 with DAD and SLAAC, MTU 1500, UDP listener on 7 that echoes, TCP
 * listener on 80 that sends 20,000 bytes to each connection and closes, so
 * that flows with data in flight are there for ICMP errors, path-MTU changes
 * and retransmissions) writes to a device that discards frames but checks
 * their size.  At the end the clock is advanced past every timer: every ARP
 * entry, queued datagram and partial datagram must be gone, then the stack is
 * freed (LeakSanitizer checks).
 *
 * Built with FUZZ_FORWARD (fuzz/forward/), the stack is in forwarder mode
 * (tapir/forward.h) as the gateway runs it: SYNs for foreign addresses are
 * accepted at once (destination port % 4 == 0), accepted at the next clock
 * step (1), refused with a RST (2) or an ICMP host unreachable (3); UDP and
 * echo requests to foreign addresses are answered from those addresses.
 *
 * With ETH_INPUT_DUMP=FILE in the environment, every frame the stack writes is
 * appended to FILE (2-byte big-endian length, bytes): gen_corpus.py uses it to
 * learn the ISS of a SYN-ACK and quote our segments in its ICMP seeds.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tapir/forward.h"
#include "tapir/ipv6.h"
#include "tapir/stack.h"
#include "tapir/tcp.h"
#include "tapir/udp.h"

/* An IPv4 address (host order) as a struct tapir_addr pointer, for the UDP API */
#define V4(a) (&(struct tapir_addr){ .family = TAPIR_AF_INET, .v4 = (a) })

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct sink {
	uint8_t buf[65536];
	size_t frames;
	FILE *dump;
};

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
	struct sink *s = dev;
	size_t n;

	if (size > 1514)
		abort();
	n = fill(s->buf, size, ctx);
	if (n > size)
		abort();
	s->frames++;
	if (s->dump) {
		uint8_t l[2] = { (uint8_t)(n >> 8), (uint8_t)n };

		fwrite(l, 1, 2, s->dump);
		fwrite(s->buf, 1, n, s->dump);
	}
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

struct echo_ctx {
	struct tapir_stack *st;
};

static void udp_echo(void *ctx, const struct tapir_udp_meta *m, const uint8_t *data, size_t len)
{
	struct echo_ctx *e = ctx;

	tapir_udp_sendto(e->st, m->dst_port, &m->src, m->src_port ? m->src_port : 7, 0, data, len);
}

static void tcp_recv(void *ctx, struct tapir_tcp_flow *f, const uint8_t *data, size_t len)
{
	(void)ctx;
	(void)f;
	(void)data;
	(void)len;
}

static void tcp_writable(void *ctx, struct tapir_tcp_flow *f)
{
	(void)ctx;
	(void)f;
}

static void tcp_closed(void *ctx, struct tapir_tcp_flow *f, int err)
{
	(void)ctx;
	(void)f;
	(void)err;
}

static const struct tapir_tcp_callbacks server_cbs = { tcp_recv, tcp_writable, tcp_closed };

/* A server that sends 20,000 bytes and closes its side. */
static void tcp_accepted(void *ctx, struct tapir_tcp_flow *f)
{
	static uint8_t reply[20000];

	(void)ctx;
	memset(reply, 0x5a, sizeof(reply));
	tapir_tcp_flow_set_callbacks(f, &server_cbs, NULL);
	tapir_tcp_write(f, reply, sizeof(reply));
	tapir_tcp_shutdown(f, false, true);
}

#ifdef FUZZ_FORWARD
struct fwd_state {
	struct tapir_stack *st;
	struct tapir_tcp_fwd_req later[8];
	size_t nlater;
};

static void fwd_syn(void *ctx, const struct tapir_tcp_fwd_req *req)
{
	struct fwd_state *s = ctx;

	switch (req->dst_port % 4) {
	case 0:
		(void)tapir_tcp_forward_accept(s->st, req);
		break;
	case 1:
		if (s->nlater < 8)
			s->later[s->nlater++] = *req;
		break;
	case 2:
		tapir_tcp_forward_refuse(s->st, req, -ECONNREFUSED);
		break;
	default:
		tapir_tcp_forward_refuse(s->st, req, -EHOSTUNREACH);
		break;
	}
}

static void fwd_later(struct fwd_state *s)
{
	for (size_t k = 0; k < s->nlater; k++)
		(void)tapir_tcp_forward_accept(s->st, &s->later[k]);
	s->nlater = 0;
}

static void fwd_udp(void *ctx, const struct tapir_udp_meta *m, const uint8_t *data, size_t len)
{
	struct fwd_state *s = ctx;

	(void)tapir_udp_sendto_from(s->st, &m->dst, m->dst_port, &m->src, m->src_port, 0, data, len);
}

static void fwd_echo(void *ctx, uint32_t src, uint32_t dst, uint16_t id, uint16_t seq,
		     const uint8_t *data, size_t len)
{
	struct fwd_state *s = ctx;

	(void)tapir_icmp_echo_reply_from(s->st, dst, src, id, seq, data, len);
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sink sink; /* a scratch buffer only: no state crosses runs */
	static int dump_checked;
	struct tapir_netif nif = { &sink_ops, &sink };
	struct tapir_stack_config cfg;
	struct tapir_stack *st;
	struct echo_ctx echo;
	uint64_t rng = 1, now = 1000000000ull;
	static uint8_t payload[255 * 64];
	size_t i = 0;

	if (!dump_checked) {
		const char *path = getenv("ETH_INPUT_DUMP");

		dump_checked = 1;
		sink.dump = path ? fopen(path, "ab") : NULL;
	}
	tapir_stack_config_defaults(&cfg);
	cfg.addr = 0xc0000202;
	cfg.prefix_len = 24;
	cfg.gateway = 0xc0000201;
	cfg.random = fixed_random;
	cfg.random_ctx = &rng;
	cfg.reasm_max_bytes = 256 * 1024;
	cfg.arp_cache_size = 16;
	cfg.tcp.max_connections = 64;
	cfg.ipv6.enabled = true;
	cfg.ipv6.naddrs = 1;
	memcpy(cfg.ipv6.addrs[0].addr, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x02", 16);
	cfg.ipv6.addrs[0].prefix_len = 64;
	cfg.ipv6.neigh_cache_size = 16;
	if (tapir_stack_new(&st, &cfg, &nif, now) < 0)
		abort();
	echo.st = st;
	tapir_udp_listen(st, 7, udp_echo, &echo);
	tapir_tcp_listen(st, 80, NULL, tcp_accepted, NULL);
#ifdef FUZZ_FORWARD
	struct fwd_state fs = { .st = st };
	const struct tapir_tcp_forwarder fw = { .syn = fwd_syn, .accept = tcp_accepted };

	if (tapir_tcp_forwarder_set(st, &fw, &fs) < 0)
		abort();
	tapir_udp_forwarder_set(st, fwd_udp, &fs);
	tapir_icmp_echo_forwarder_set(st, fwd_echo, &fs);
#endif
	tapir_stack_start(st, now);

	while (i < size) {
		uint8_t op = data[i++];

		switch (op % 4) {
		case 0: {
			size_t len;

			if (size - i < 2) {
				i = size;
				break;
			}
			len = (size_t)data[i] << 8 | data[i + 1];
			i += 2;
			if (len > size - i)
				len = size - i;
			tapir_stack_input(st, data + i, len, (op >> 2) & 7u, now);
			i += len;
			break;
		}
		case 1:
			if (i < size)
				now += (uint64_t)data[i++] * 50000000ull;
#ifdef FUZZ_FORWARD
			fwd_later(&fs);
#endif
			tapir_stack_poll(st, now);
			break;
		case 2:
			now += 31000000000ull;
			tapir_stack_poll(st, now);
			break;
		case 3:
			if (size - i < 2) {
				i = size;
				break;
			}
			memset(payload, 0x42, sizeof(payload));
			if (op & 8) {
				struct tapir_addr dst = { .family = TAPIR_AF_INET6,
							  .v6 = { 0x20, 0x01, 0x0d, 0xb8,
								  [15] = data[i + 1] } };

				tapir_udp_sendto(st, 0, &dst, 9, 0, payload, (size_t)data[i] * 64);
			} else if (op & 4) {
				uint8_t dst[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = data[i + 1] };

				tapir_icmpv6_send_echo(st, dst, 1, 1, 0, payload, (size_t)data[i] * 64);
			} else {
				tapir_udp_sendto(st, 0, V4(0xc0000200 | data[i + 1]), 9, 0, payload,
						 (size_t)data[i] * 64);
			}
			i += 2;
			break;
		}
		tapir_stack_flush(st);
	}

	/* Past every timer: nothing may be left behind.  A flow's timers fire one
	 * at a time (each retransmission arms the next): follow the deadlines
	 * first, a bounded number of times, then jump hours ahead. */
	for (int k = 0; k < 10000 && tapir_stack_next_deadline(st) != TAPIR_STACK_NO_DEADLINE; k++) {
		uint64_t d = tapir_stack_next_deadline(st);

		now = d > now ? d : now + 1000000;
		tapir_stack_poll(st, now);
	}
	for (int k = 0; k < 8; k++) {
		now += 3600ull * 1000000000ull;
		tapir_stack_poll(st, now);
	}
	if (tapir_stack_next_deadline(st) != TAPIR_STACK_NO_DEADLINE)
		abort();
	struct tapir_arp_entry ents[16];

	if (tapir_arp_list(st, ents, 16) != 0)
		abort();
	tapir_stack_free(st);
	if (sink.dump)
		fflush(sink.dump);
	return 0;
}

/*
 * test_tcp.c - TCP unit tests: crafted segments from the raw port against one
 *              stack, and two stacks talking over vnetif, on a fake clock
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcp_helper.h"
#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"
#include "wire/eth.h"

#define SEC TAPIR_STACK_NS_PER_SEC
#define CTR(h, c) tapir_stack_counter((h)->st, TAPIR_CTR_##c)
#define PORT TH_PORT
#define SPORT TH_SPORT

static struct tcp_repr segs[RAW_MAX_FRAMES];

/* ---- wire: fixed segments (checksums computed independently) ---- */

/* A Linux-style SYN: MSS 1460, SACK_PERM, TS, NOP, WS 7. */
static const uint8_t syn_fixture[] = {
	0xa8, 0xca, 0x00, 0x50, 0x11, 0x22, 0x33, 0x44, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x02,
	0xfa, 0xf0, 0xd7, 0x84, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a,
	0x01, 0x02, 0x03, 0x04, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
};
/* Data with NOP NOP TS, NOP NOP SACK (2 blocks) and "hello". */
static const uint8_t data_fixture[] = {
	0x00, 0x50, 0xa8, 0xca, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xd0, 0x18,
	0x01, 0xf5, 0x63, 0x01, 0x00, 0x00, 0x01, 0x01, 0x08, 0x0a, 0x00, 0x00, 0x00, 0x64,
	0x00, 0x00, 0x00, 0xc8, 0x01, 0x01, 0x05, 0x12, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00,
	0x07, 0xd0, 0x00, 0x00, 0x0b, 0xb8, 0x00, 0x00, 0x0f, 0xa0, 0x68, 0x65, 0x6c, 0x6c,
	0x6f,
};

static void test_wire_fixtures(void **state)
{
	const uint32_t a = IP(192, 0, 2, 1), b = IP(192, 0, 2, 2);
	struct tcp_repr r;
	uint8_t out[128];
	uint8_t bad[sizeof(syn_fixture)];

	(void)state;
	assert_int_equal(tcp_repr_parse(&r, syn_fixture, sizeof(syn_fixture), a, b, true), 0);
	assert_int_equal(r.src_port, 43210);
	assert_int_equal(r.dst_port, 80);
	assert_int_equal(r.seq, 0x11223344);
	assert_int_equal(r.flags, TCP_SYN);
	assert_int_equal(r.window, 64240);
	assert_true(r.has_mss);
	assert_int_equal(r.mss, 1460);
	assert_true(r.sack_perm);
	assert_true(r.has_ts);
	assert_int_equal(r.ts_val, 0x01020304);
	assert_int_equal(r.ts_ecr, 0);
	assert_int_equal(r.wscale, 7);
	assert_false(r.opt_malformed);
	assert_int_equal(r.payload_len, 0);
	/* emit: the same bytes (same option layout as Linux), nothing past it */
	memset(out, 0xa5, sizeof(out));
	assert_int_equal(tcp_repr_header_len(&r), sizeof(syn_fixture));
	assert_int_equal(tcp_repr_emit(&r, out, a, b), sizeof(syn_fixture));
	assert_memory_equal(out, syn_fixture, sizeof(syn_fixture));
	assert_int_equal(out[sizeof(syn_fixture)], 0xa5);
	/* a flipped bit fails the checksum, and is accepted unverified */
	memcpy(bad, syn_fixture, sizeof(bad));
	bad[5] ^= 0x10;
	assert_int_equal(tcp_repr_parse(&r, bad, sizeof(bad), a, b, true), -EILSEQ);
	assert_int_equal(tcp_repr_parse(&r, bad, sizeof(bad), a, b, false), 0);

	assert_int_equal(tcp_repr_parse(&r, data_fixture, sizeof(data_fixture), b, a, true), 0);
	assert_int_equal(r.flags, TCP_ACK | TCP_PSH);
	assert_int_equal(r.ack, 0x99aabbcc);
	assert_true(r.has_ts);
	assert_int_equal(r.ts_val, 100);
	assert_int_equal(r.ts_ecr, 200);
	assert_int_equal(r.nsack, 2);
	assert_int_equal(r.sack[0].left, 1000);
	assert_int_equal(r.sack[1].right, 4000);
	assert_int_equal(r.payload_len, 5);
	assert_memory_equal(r.payload, "hello", 5);
	memset(out, 0xa5, sizeof(out));
	/* the payload in two pieces split at an odd offset: same checksum */
	r.payload_len = 3;
	r.payload2 = (const uint8_t *)"lo";
	r.payload2_len = 2;
	assert_int_equal(tcp_repr_emit(&r, out, b, a), sizeof(data_fixture) - 5);
	memcpy(out + sizeof(data_fixture) - 5, "hello", 5);
	assert_memory_equal(out, data_fixture, sizeof(data_fixture));
	/* truncated: shorter than the header, or than the data offset */
	assert_int_equal(tcp_repr_parse(&r, syn_fixture, 19, a, b, false), -EBADMSG);
	assert_int_equal(tcp_repr_parse(&r, syn_fixture, 39, a, b, false), -EBADMSG);
}

/* ---- state machine ---- */

static void test_passive_open_close(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tcp_repr r, s;
	uint32_t ps, iss;
	struct tapir_tcp_flow_info fi;

	(void)state;
	app_listen(&t->a, t->h, PORT, NULL);
	r = th_seg(SPORT, PORT, 1000, 0, TCP_SYN, 65535);
	r.has_mss = true;
	r.mss = 1460;
	r.wscale = 2;
	r.sack_perm = true;
	r.has_ts = true;
	r.ts_val = 77;
	th_send(t->w, t->h, &r);
	assert_true(th_last(t->w, &s));
	assert_int_equal(s.flags, TCP_SYN | TCP_ACK);
	assert_int_equal(s.ack, 1001);
	assert_true(s.has_mss);
	assert_int_equal(s.mss, 1460);
	assert_true(s.wscale >= 3);
	assert_true(s.sack_perm);
	assert_true(s.has_ts);
	assert_int_equal(s.ts_ecr, 77);
	assert_int_equal(t->a.accepts, 0);
	iss = s.seq;
	/* data before the handshake completes is not delivered */
	r = th_seg(SPORT, PORT, 1001, 0, TCP_PSH, 65535);
	r.payload = (const uint8_t *)"early";
	r.payload_len = 5;
	th_send(t->w, t->h, &r);
	assert_int_equal(t->a.len, 0);
	r = th_seg(SPORT, PORT, 1001, iss + 1, TCP_ACK, 1000);
	r.has_ts = true;
	r.ts_val = 78;
	r.ts_ecr = s.ts_val;
	th_send(t->w, t->h, &r);
	assert_int_equal(t->a.accepts, 1);
	assert_int_equal(tapir_tcp_flow_info(t->a.flow, &fi), 0);
	assert_int_equal(fi.state, TAPIR_TCP_STATE_ESTABLISHED);
	assert_int_equal(fi.snd_wnd, 4000);
	assert_true(fi.timestamps && fi.sack && fi.wscale);
	assert_int_equal(fi.mss, 1460 - 12);
	/* data, then FIN */
	ps = 1001;
	r = th_data_seg(ps, iss + 1, "hello", 5);
	r.has_ts = true;
	r.ts_val = 79;
	th_send(t->w, t->h, &r);
	ps += 5;
	assert_int_equal(t->a.len, 5);
	assert_memory_equal(t->a.data, "hello", 5);
	r = th_seg(SPORT, PORT, ps, iss + 1, TCP_ACK | TCP_FIN, 1000);
	r.has_ts = true;
	r.ts_val = 80;
	raw_clear(t->w);
	th_send(t->w, t->h, &r);
	ps++;
	assert_int_equal(t->a.eofs, 1);
	assert_true(th_last(t->w, &s));
	assert_int_equal(s.ack, ps);
	tapir_tcp_flow_info(t->a.flow, &fi);
	assert_int_equal(fi.state, TAPIR_TCP_STATE_CLOSE_WAIT);
	/* we close: FIN, LAST_ACK, then the peer's ACK frees the flow */
	raw_clear(t->w);
	tapir_tcp_close(t->a.flow);
	world_pump(t->w);
	assert_true(th_last(t->w, &s));
	assert_true(s.flags & TCP_FIN);
	assert_int_equal(s.seq, iss + 1);
	assert_int_equal(tapir_tcp_flow_count(t->h->st), 1);
	r = th_seg(SPORT, PORT, ps, iss + 2, TCP_ACK, 1000);
	r.has_ts = true;
	r.ts_val = 81;
	th_send(t->w, t->h, &r);
	assert_int_equal(tapir_tcp_flow_count(t->h->st), 0);
	assert_int_equal(t->a.closes, 0); /* closed before: no callback */
	th_case_free(t);
}

static void test_active_open(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tcp_repr s, r;

	(void)state;
	assert_int_equal(tapir_tcp_connect(t->h->st, A4(PEER_IP), 80, NULL, app_connect, &t->a), 0);
	world_pump(t->w);
	assert_true(th_last(t->w, &s));
	assert_int_equal(s.flags, TCP_SYN);
	assert_true(s.src_port >= 49152);
	assert_true(s.has_mss && s.sack_perm && s.has_ts && s.wscale >= 0);
	assert_int_equal(t->a.connects, 0);
	r = th_seg(80, s.src_port, 5000, s.seq + 1, TCP_SYN | TCP_ACK, 65535);
	r.has_mss = true;
	r.mss = 9000; /* clamped to the path MTU */
	th_send(t->w, t->h, &r);
	assert_int_equal(t->a.connects, 1);
	assert_int_equal(t->a.connect_err, 0);
	assert_true(th_last(t->w, &s));
	assert_int_equal(s.flags, TCP_ACK);
	assert_int_equal(s.ack, 5001);
	struct tapir_tcp_flow_info fi;

	tapir_tcp_flow_info(t->a.flow, &fi);
	assert_int_equal(fi.mss, 1460); /* no timestamps: the peer did not offer them */
	assert_false(fi.wscale);
	tapir_tcp_abort(t->a.flow);
	world_pump(t->w);
	assert_true(th_last(t->w, &s));
	assert_true(s.flags & TCP_RST);
	assert_int_equal(tapir_tcp_flow_count(t->h->st), 0);
	th_case_free(t);
}

/* Ephemeral ports: random in 49152-65535, never a tuple in use. */
static void test_ephemeral_ports(void **state)
{
	struct th_case *t = th_case_new(NULL);
	uint16_t ports[64];
	size_t n;
	unsigned sequential = 0;

	(void)state;
	for (int i = 0; i < 64; i++) {
		assert_int_equal(tapir_tcp_connect(t->h->st, A4(PEER_IP), 80, NULL, app_connect, &t->a), 0);
		world_pump(t->w); /* (the ARP queue holds 3 datagrams per address) */
	}
	n = th_segs(t->w, segs, RAW_MAX_FRAMES);
	assert_int_equal(n, 64);
	for (size_t i = 0; i < n; i++) {
		ports[i] = segs[i].src_port;
		assert_true(ports[i] >= 49152);
		for (size_t j = 0; j < i; j++)
			assert_true(ports[i] != ports[j]);
		if (i && ports[i] == ports[i - 1] + 1)
			sequential++;
	}
	assert_true(sequential < 4);
	assert_int_equal(tapir_tcp_flow_count(t->h->st), 64);
	world_advance(t->w, 200 * SEC);
	assert_int_equal(t->a.connects, 64);
	assert_int_equal(t->a.connect_err, -ETIMEDOUT);
	assert_int_equal(tapir_tcp_flow_count(t->h->st), 0);
	th_case_free(t);
}

static void test_connect_unreachable(void **state)
{
	struct th_case *t = th_case_new(NULL);

	(void)state;
	/* off-link and no gateway: an error at once, no callback */
	assert_int_equal(tapir_tcp_connect(t->h->st, A4(IP(198, 51, 100, 1)), 80, NULL, app_connect, &t->a),
			 -ENETUNREACH);
	assert_int_equal(tapir_tcp_flow_count(t->h->st), 0);
	assert_int_equal(tapir_tcp_connect(t->h->st, A4(t->h->ip), 80, NULL, app_connect, &t->a), -EINVAL);
	assert_int_equal(tapir_tcp_connect(t->h->st, A4(PEER_IP), 0, NULL, app_connect, &t->a), -EINVAL);
	world_advance(t->w, 10 * SEC);
	assert_int_equal(t->a.connects, 0);
	th_case_free(t);
}

static void test_connect_refused(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tcp_repr s, r;

	(void)state;
	tapir_tcp_connect(t->h->st, A4(PEER_IP), 80, NULL, app_connect, &t->a);
	world_pump(t->w);
	th_last(t->w, &s);
	/* RST without ACK in SYN_SENT: ignored */
	r = th_seg(80, s.src_port, 0, 0, TCP_RST, 0);
	th_send(t->w, t->h, &r);
	assert_int_equal(t->a.connects, 0);
	/* bad ACK: answered with RST, ignored */
	raw_clear(t->w);
	r = th_seg(80, s.src_port, 0, s.seq + 7, TCP_ACK, 0);
	th_send(t->w, t->h, &r);
	struct tcp_repr x;

	assert_true(th_last(t->w, &x));
	assert_int_equal(x.flags, TCP_RST);
	assert_int_equal(x.seq, s.seq + 7);
	r = th_seg(80, s.src_port, 0, s.seq + 1, TCP_RST | TCP_ACK, 0);
	th_send(t->w, t->h, &r);
	assert_int_equal(t->a.connects, 1);
	assert_int_equal(t->a.connect_err, -ECONNREFUSED);
	assert_null(t->a.flow);
	assert_int_equal(tapir_tcp_flow_count(t->h->st), 0);
	th_case_free(t);
}

static void test_simultaneous_open(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tcp_repr s, r;
	struct tapir_tcp_flow_info fi;

	(void)state;
	tapir_tcp_connect(t->h->st, A4(PEER_IP), 7777, NULL, app_connect, &t->a);
	world_pump(t->w);
	th_last(t->w, &s);
	uint32_t iss = s.seq;
	uint16_t lport = s.src_port;
	/* the peer's SYN crosses ours */
	raw_clear(t->w);
	r = th_seg(7777, lport, 9000, 0, TCP_SYN, 65535);
	r.has_mss = true;
	r.mss = 1400;
	th_send(t->w, t->h, &r);
	assert_true(th_last(t->w, &s));
	assert_int_equal(s.flags, TCP_SYN | TCP_ACK);
	assert_int_equal(s.seq, iss);
	assert_int_equal(s.ack, 9001);
	assert_int_equal(t->a.connects, 0);
	/* the peer's SYN-ACK */
	r = th_seg(7777, lport, 9000, iss + 1, TCP_SYN | TCP_ACK, 65535);
	th_send(t->w, t->h, &r);
	/* that was a retransmitted SYN (seq 9000 < rcv_nxt): ACK it */
	r = th_seg(7777, lport, 9001, iss + 1, TCP_ACK, 65535);
	th_send(t->w, t->h, &r);
	assert_int_equal(t->a.connects, 1);
	tapir_tcp_flow_info(t->a.flow, &fi);
	assert_int_equal(fi.state, TAPIR_TCP_STATE_ESTABLISHED);
	assert_int_equal(fi.mss, 1400);
	tapir_tcp_abort(t->a.flow);
	th_case_free(t);
}

static void test_simultaneous_close(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tcp_repr s, r;
	struct tapir_tcp_flow_info fi;
	uint32_t ps, iss = th_case_open(t, false, &ps);
	struct tapir_tcp_flow *f = t->a.flow;

	(void)state;
	tapir_tcp_shutdown(f, false, true);
	world_pump(t->w);
	assert_true(th_last(t->w, &s));
	assert_true(s.flags & TCP_FIN);
	tapir_tcp_flow_info(f, &fi);
	assert_int_equal(fi.state, TAPIR_TCP_STATE_FIN_WAIT_1);
	/* the peer's FIN crosses ours (it has not seen our FIN) */
	r = th_seg(SPORT, PORT, ps, iss + 1, TCP_ACK | TCP_FIN, 65535);
	th_send(t->w, t->h, &r);
	tapir_tcp_flow_info(f, &fi);
	assert_int_equal(fi.state, TAPIR_TCP_STATE_CLOSING);
	assert_int_equal(t->a.eofs, 1);
	r = th_seg(SPORT, PORT, ps + 1, iss + 2, TCP_ACK, 65535);
	th_send(t->w, t->h, &r);
	tapir_tcp_flow_info(f, &fi);
	assert_int_equal(fi.state, TAPIR_TCP_STATE_TIME_WAIT);
	assert_int_equal(t->a.closes, 1);
	assert_int_equal(t->a.close_err, 0);
	tapir_tcp_close(f);
	assert_int_equal(tapir_tcp_flow_count(t->h->st), 1);
	/* retransmitted FIN in TIME_WAIT is re-ACKed */
	raw_clear(t->w);
	world_advance(t->w, 30 * SEC);
	r = th_seg(SPORT, PORT, ps, iss + 2, TCP_ACK | TCP_FIN, 65535);
	th_send(t->w, t->h, &r);
	assert_true(th_last(t->w, &s));
	assert_int_equal(s.flags, TCP_ACK);
	assert_int_equal(s.ack, ps + 1);
	/* ... and restarts 2 MSL */
	world_advance(t->w, 59 * SEC);
	assert_int_equal(tapir_tcp_flow_count(t->h->st), 1);
	world_advance(t->w, 2 * SEC);
	assert_int_equal(tapir_tcp_flow_count(t->h->st), 0);
	th_case_free(t);
}

static void test_rst_rules(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tcp_repr r, s;

	(void)state;
	/* SYN to a closed port: RST|ACK, seq 0, ack = seq + 1 */
	r = th_seg(SPORT, 81, 500, 0, TCP_SYN, 65535);
	th_send(t->w, t->h, &r);
	assert_true(th_last(t->w, &s));
	assert_int_equal(s.flags, TCP_RST | TCP_ACK);
	assert_int_equal(s.seq, 0);
	assert_int_equal(s.ack, 501);
	/* ACK to a closed port: RST with seq = ack */
	raw_clear(t->w);
	r = th_seg(SPORT, 81, 500, 12345, TCP_ACK, 65535);
	th_send(t->w, t->h, &r);
	assert_true(th_last(t->w, &s));
	assert_int_equal(s.flags, TCP_RST);
	assert_int_equal(s.seq, 12345);
	/* RST to a closed port: nothing */
	raw_clear(t->w);
	r = th_seg(SPORT, 81, 500, 12345, TCP_RST, 65535);
	th_send(t->w, t->h, &r);
	assert_int_equal(th_count(t->w), 0);
	/* bare ACK to a listener: RST */
	app_listen(&t->a, t->h, PORT, NULL);
	r = th_seg(SPORT, PORT, 500, 777, TCP_ACK, 65535);
	th_send(t->w, t->h, &r);
	assert_true(th_last(t->w, &s));
	assert_int_equal(s.flags, TCP_RST);
	assert_int_equal(s.seq, 777);
	assert_int_equal(tapir_tcp_flow_count(t->h->st), 0);
	assert_true(CTR(t->h, TCP_RESETS_SENT) >= 3);
	/* SYN+FIN (dropped, as Linux), null and Xmas to a listener: nothing */
	raw_clear(t->w);
	r = th_seg(SPORT, PORT, 500, 0, TCP_SYN | TCP_FIN, 65535);
	th_send(t->w, t->h, &r);
	r = th_seg(SPORT, PORT, 500, 0, 0, 65535);
	th_send(t->w, t->h, &r);
	r = th_seg(SPORT, PORT, 500, 0, TCP_FIN | TCP_PSH | TCP_URG, 65535);
	th_send(t->w, t->h, &r);
	assert_int_equal(th_count(t->w), 0);
	assert_int_equal(tapir_tcp_flow_count(t->h->st), 0);
	assert_int_equal(CTR(t->h, TCP_PASSIVE_OPENS), 0);
	/* null and Xmas to a closed port: RST|ACK acking what they occupy */
	r = th_seg(SPORT, 81, 900, 0, 0, 65535);
	th_send(t->w, t->h, &r);
	assert_true(th_last(t->w, &s));
	assert_int_equal(s.flags, TCP_RST | TCP_ACK);
	assert_int_equal(s.ack, 900);
	r = th_seg(SPORT, 81, 900, 0, TCP_FIN | TCP_PSH | TCP_URG, 65535);
	th_send(t->w, t->h, &r);
	assert_true(th_last(t->w, &s));
	assert_int_equal(s.flags, TCP_RST | TCP_ACK);
	assert_int_equal(s.ack, 901);
	th_case_free(t);
}

static void test_malformed_options(void **state)
{
	struct th_case *t = th_case_new(NULL);
	uint8_t seg[64];
	struct tcp_repr r, s;
	struct tapir_tcp_flow_info fi;
	static const uint8_t bad[][4] = {
		{ 2, 0, 5, 0xb4 },   /* MSS with length 0 */
		{ 8, 1, 0, 0 },      /* length 1 */
		{ 1, 1, 8, 10 },     /* TS running past the header */
	};

	(void)state;
	app_listen(&t->a, t->h, PORT, NULL);
	for (unsigned i = 0; i < 3; i++) {
		/* parse: the walk stops, the segment is kept */
		memset(seg, 0, sizeof(seg));
		put_be16(seg, 1000 + i);
		put_be16(seg + 2, PORT);
		put_be32(seg + 4, 100);
		seg[12] = 6 << 4;
		seg[13] = TCP_SYN;
		put_be16(seg + 14, 1000);
		memcpy(seg + 20, bad[i], 4);
		assert_int_equal(tcp_repr_parse(&r, seg, 24, PEER_IP, t->h->ip, false), 0);
		assert_true(r.opt_malformed);
		assert_false(r.has_mss);
		assert_false(r.has_ts);
	}
	/* through the stack: a SYN whose MSS option is cut gets MSS 536 */
	r = th_seg(SPORT, PORT, 100, 0, TCP_SYN, 65535);
	raw_clear(t->w);
	th_send(t->w, t->h, &r);
	assert_true(th_last(t->w, &s));
	r = th_seg(SPORT, PORT, 101, s.seq + 1, TCP_ACK, 65535);
	th_send(t->w, t->h, &r);
	tapir_tcp_flow_info(t->a.flow, &fi);
	assert_int_equal(fi.mss, 536);
	/* data offset past the segment: dropped, counted */
	memset(seg, 0, sizeof(seg));
	seg[12] = 15 << 4;
	assert_int_equal(tcp_repr_parse(&r, seg, 40, 1, 2, false), -EBADMSG);
	seg[12] = 4 << 4;
	assert_int_equal(tcp_repr_parse(&r, seg, 40, 1, 2, false), -EBADMSG);
	tapir_tcp_abort(t->a.flow);
	th_case_free(t);
}

static void test_mss_zero(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tcp_repr r, s;
	struct tapir_tcp_flow_info fi;

	(void)state;
	app_listen(&t->a, t->h, PORT, NULL);
	r = th_seg(SPORT, PORT, 100, 0, TCP_SYN, 65535);
	r.has_mss = true;
	r.mss = 0;
	th_send(t->w, t->h, &r);
	th_last(t->w, &s);
	r = th_seg(SPORT, PORT, 101, s.seq + 1, TCP_ACK, 65535);
	th_send(t->w, t->h, &r);
	tapir_tcp_flow_info(t->a.flow, &fi);
	assert_int_equal(fi.mss, 536);
	tapir_tcp_abort(t->a.flow);
	th_case_free(t);
}

/* Window scaling: the peer's window is shifted, ours offers rcvbuf. */
static void test_wscale(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tcp_repr r, s;
	struct tapir_tcp_flow_info fi;
	uint32_t ps, iss = th_case_open(t, true, &ps);

	(void)state;
	(void)iss;
	tapir_tcp_flow_info(t->a.flow, &fi);
	assert_int_equal(fi.snd_wnd, 65535u << 7);
	assert_true(fi.rcv_wscale >= 3);
	tapir_tcp_write(t->a.flow, "x", 1);
	world_pump(t->w);
	assert_true(th_last(t->w, &s));
	assert_true(((uint32_t)s.window << fi.rcv_wscale) >= 256 * 1024 - 1024);
	(void)r;
	tapir_tcp_abort(t->a.flow);
	th_case_free(t);
}

/* Timestamps: RTT from the echo, PAWS drops an old timestamp. */
static void test_timestamps_paws(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tcp_repr r, s;
	struct tapir_tcp_flow_info fi;
	uint32_t ps, iss = th_case_open(t, true, &ps);

	(void)state;
	tapir_tcp_write(t->a.flow, "abc", 3);
	world_pump(t->w);
	assert_true(th_last(t->w, &s));
	assert_true(s.has_ts);
	assert_int_equal(s.ts_ecr, 1001);
	world_advance(t->w, 50 * MSEC);
	r = th_seg(SPORT, PORT, ps, iss + 4, TCP_ACK, 65535);
	r.has_ts = true;
	r.ts_val = 1100;
	r.ts_ecr = s.ts_val;
	th_send(t->w, t->h, &r);
	tapir_tcp_flow_info(t->a.flow, &fi);
	/* samples: ~0 (the handshake, same instant), then 50 ms */
	assert_int_equal(fi.srtt_us, (7 * 1 + 50000) / 8);
	assert_int_equal(fi.rttvar_us, (3 * 0 + 49999) / 4);
	/* old timestamp: dropped by PAWS, answered with an ACK */
	raw_clear(t->w);
	r = th_data_seg(ps, iss + 4, "zz", 2);
	r.has_ts = true;
	r.ts_val = 900;
	th_send(t->w, t->h, &r);
	assert_int_equal(t->a.len, 0);
	assert_int_equal(CTR(t->h, TCP_DROP_PAWS), 1);
	assert_true(th_last(t->w, &s));
	assert_int_equal(s.ack, ps);
	r.ts_val = 1200;
	th_send(t->w, t->h, &r);
	assert_int_equal(t->a.len, 2);
	tapir_tcp_abort(t->a.flow);
	th_case_free(t);
}

/* ---- receiving ---- */

static void test_ooo_sack_out(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tcp_repr r, s;
	uint32_t ps, iss = th_case_open(t, true, &ps);
	uint8_t *p = th_pattern(3000, 1);

	(void)state;
	/* segments 2 and 3 of 3 arrive first */
	r = th_data_seg(ps + 1000, iss + 1, p + 1000, 1000);
	r.has_ts = true;
	r.ts_val = 2000;
	th_send(t->w, t->h, &r);
	assert_true(th_last(t->w, &s)); /* immediate ACK with SACK */
	assert_int_equal(s.ack, ps);
	assert_int_equal(s.nsack, 1);
	assert_int_equal(s.sack[0].left, ps + 1000);
	assert_int_equal(s.sack[0].right, ps + 2000);
	assert_int_equal(t->a.len, 0);
	r = th_data_seg(ps + 2500, iss + 1, p + 2500, 500);
	r.has_ts = true;
	r.ts_val = 2001;
	th_send(t->w, t->h, &r);
	th_last(t->w, &s);
	assert_int_equal(s.nsack, 2);
	assert_int_equal(s.sack[0].left, ps + 2500); /* the latest first */
	assert_int_equal(s.sack[1].left, ps + 1000);
	/* fill the holes */
	r = th_data_seg(ps, iss + 1, p, 1000);
	r.has_ts = true;
	r.ts_val = 2002;
	th_send(t->w, t->h, &r);
	assert_int_equal(t->a.len, 2000);
	r = th_data_seg(ps + 2000, iss + 1, p + 2000, 500);
	r.has_ts = true;
	r.ts_val = 2003;
	raw_clear(t->w);
	th_send(t->w, t->h, &r);
	assert_int_equal(t->a.len, 3000);
	assert_memory_equal(t->a.data, p, 3000);
	assert_true(th_last(t->w, &s)); /* hole filled: ACK at once */
	assert_int_equal(s.ack, ps + 3000);
	assert_int_equal(s.nsack, 0);
	free(p);
	tapir_tcp_abort(t->a.flow);
	th_case_free(t);
}

static void test_ooo_bound(void **state)
{
	struct tapir_stack_config cfg;

	tapir_stack_config_defaults(&cfg);
	cfg.tcp.ooo_max_bytes = 4096;
	struct th_case *t = th_case_new(&cfg);
	struct tcp_repr r;
	uint32_t ps, iss = th_case_open(t, false, &ps);
	uint8_t *p = th_pattern(20000, 2);
	struct tapir_tcp_flow_info fi;

	(void)state;
	for (int i = 1; i < 10; i++) {
		r = th_data_seg(ps + 1000 * i, iss + 1, p + 1000 * i, 1000);
		th_send(t->w, t->h, &r);
	}
	tapir_tcp_flow_info(t->a.flow, &fi);
	assert_true(fi.ooo_bytes <= 4096);
	assert_true(CTR(t->h, TCP_DROP_OOO_FULL) > 0);
	/* still correct once the rest comes in order */
	for (int i = 0; i < 10; i++) {
		r = th_data_seg(ps + 1000 * i, iss + 1, p + 1000 * i, 1000);
		th_send(t->w, t->h, &r);
	}
	assert_int_equal(t->a.len, 10000);
	assert_memory_equal(t->a.data, p, 10000);
	free(p);
	tapir_tcp_abort(t->a.flow);
	th_case_free(t);
}

static void test_delayed_ack(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tcp_repr r, s;
	uint32_t ps, iss = th_case_open(t, false, &ps);
	uint8_t *p = th_pattern(4000, 3);

	(void)state;
	r = th_data_seg(ps, iss + 1, p, 1460);
	th_send(t->w, t->h, &r);
	assert_int_equal(th_count(t->w), 0); /* delayed */
	world_advance(t->w, 39 * MSEC);
	assert_int_equal(th_count(t->w), 0);
	world_advance(t->w, 2 * MSEC);
	assert_int_equal(th_count(t->w), 1);
	th_last(t->w, &s);
	assert_int_equal(s.ack, ps + 1460);
	/* every second full segment is ACKed at once */
	raw_clear(t->w);
	r = th_data_seg(ps + 1460, iss + 1, p, 1460);
	th_send(t->w, t->h, &r);
	assert_int_equal(th_count(t->w), 0);
	r = th_data_seg(ps + 2920, iss + 1, p, 1460);
	th_send(t->w, t->h, &r);
	assert_int_equal(th_count(t->w), 1);
	th_last(t->w, &s);
	assert_int_equal(s.ack, ps + 4380);
	free(p);
	tapir_tcp_abort(t->a.flow);
	th_case_free(t);
}

static void test_read_pause_window(void **state)
{
	struct tapir_stack_config cfg;

	tapir_stack_config_defaults(&cfg);
	cfg.tcp.rcvbuf = 8192;
	struct th_case *t = th_case_new(&cfg);
	struct tcp_repr r, s;
	uint32_t ps, iss = th_case_open(t, false, &ps);
	uint8_t *p = th_pattern(9000, 4);
	size_t sent = 0;

	(void)state;
	tapir_tcp_read_pause(t->a.flow, true);
	while (sent < 9000) {
		r = th_data_seg(ps + (uint32_t)sent, iss + 1, p + sent, 1000);
		th_send(t->w, t->h, &r);
		sent += 1000;
	}
	world_advance(t->w, 100 * MSEC);
	assert_int_equal(t->a.len, 0);
	th_last(t->w, &s);
	assert_int_equal(s.ack, ps + 8192); /* cut at the window */
	assert_int_equal(s.window, 0);
	/* a zero-window probe carrying one byte is answered */
	raw_clear(t->w);
	r = th_data_seg(ps + 8192, iss + 1, p + 8192, 1);
	th_send(t->w, t->h, &r);
	assert_true(th_last(t->w, &s));
	assert_int_equal(s.ack, ps + 8192);
	assert_int_equal(s.window, 0);
	/* resume: the queue is delivered and the window reopens */
	raw_clear(t->w);
	tapir_tcp_read_pause(t->a.flow, false);
	world_pump(t->w);
	assert_int_equal(t->a.len, 8192);
	assert_memory_equal(t->a.data, p, 8192);
	assert_true(th_last(t->w, &s));
	assert_int_equal(s.window, 8192);
	free(p);
	tapir_tcp_abort(t->a.flow);
	th_case_free(t);
}

/* Resuming reading from inside recv (while the queue is being delivered)
 * neither reorders nor frees what is being delivered. */
static void test_read_resume_reentrant(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tcp_repr r;
	uint32_t ps, iss = th_case_open(t, false, &ps);
	uint8_t *p = th_pattern(4000, 17);

	(void)state;
	tapir_tcp_read_pause(t->a.flow, true);
	for (int i = 0; i < 4; i++) {
		r = th_data_seg(ps + 1000 * (uint32_t)i, iss + 1, p + 1000 * i, 1000);
		th_send(t->w, t->h, &r);
	}
	r = th_seg(SPORT, PORT, ps + 4000, iss + 1, TCP_ACK | TCP_FIN, 65535);
	th_send(t->w, t->h, &r);
	assert_int_equal(t->a.len, 0);
	assert_int_equal(t->a.eofs, 0);
	t->a.unpause_in_recv = true;
	tapir_tcp_read_pause(t->a.flow, false);
	assert_int_equal(t->a.len, 4000);
	assert_memory_equal(t->a.data, p, 4000);
	assert_int_equal(t->a.eofs, 1);
	free(p);
	tapir_tcp_abort(t->a.flow);
	th_case_free(t);
}

/* Receiver SWS: reading a little does not move the window edge. */
static void test_sws_receiver(void **state)
{
	struct tapir_stack_config cfg;

	tapir_stack_config_defaults(&cfg);
	cfg.tcp.rcvbuf = 65535;
	struct th_case *t = th_case_new(&cfg);
	struct tcp_repr r, s;
	uint32_t ps, iss = th_case_open(t, false, &ps);
	uint8_t *p = th_pattern(2000, 4);

	(void)state;
	tapir_tcp_read_pause(t->a.flow, true);
	r = th_data_seg(ps, iss + 1, p, 100);
	th_send(t->w, t->h, &r);
	world_advance(t->w, 100 * MSEC);
	th_last(t->w, &s);
	/* the right edge does not move back, nor forward by less than an MSS */
	assert_int_equal(s.ack + s.window, ps + 65535);
	free(p);
	tapir_tcp_abort(t->a.flow);
	th_case_free(t);
}

/* ---- sending ---- */

/* Sender SWS (RFC 1122 4.2.3.4): no small segment for a small usable window. */
static void test_sws_sender(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tcp_repr r;
	uint32_t ps, iss = th_case_open(t, false, &ps);
	uint8_t *p = th_pattern(10000, 13);
	size_t n;

	(void)state;
	/* the peer's window shrinks to 1000 bytes (max seen: 65535) */
	r = th_seg(SPORT, PORT, ps, iss + 1, TCP_ACK, 1000);
	th_send(t->w, t->h, &r);
	tapir_tcp_write(t->a.flow, p, 10000);
	world_pump(t->w);
	n = th_segs(t->w, segs, RAW_MAX_FRAMES);
	assert_int_equal(n, 1);
	assert_int_equal(segs[0].payload_len, 536);
	/* acked, window still 1000 from there: 464 usable is under half of the
	 * largest window seen, so nothing but a full segment goes */
	raw_clear(t->w);
	r = th_seg(SPORT, PORT, ps, iss + 1 + 536, TCP_ACK, 1000);
	th_send(t->w, t->h, &r);
	n = th_segs(t->w, segs, RAW_MAX_FRAMES);
	assert_int_equal(n, 1);
	assert_int_equal(segs[0].payload_len, 536);
	raw_clear(t->w);
	r = th_seg(SPORT, PORT, ps, iss + 1 + 536, TCP_ACK, 1000);
	r.window = 1000;
	r.seq = ps;
	th_send(t->w, t->h, &r);
	assert_int_equal(th_count(t->w), 0);
	free(p);
	tapir_tcp_abort(t->a.flow);
	th_case_free(t);
}

/* A retransmitted SYN in SYN_RECEIVED gets the SYN-ACK again. */
static void test_syn_retransmitted(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tcp_repr r, s1, s2;

	(void)state;
	app_listen(&t->a, t->h, PORT, NULL);
	r = th_seg(SPORT, PORT, 700, 0, TCP_SYN, 65535);
	th_send(t->w, t->h, &r);
	th_last(t->w, &s1);
	raw_clear(t->w);
	th_send(t->w, t->h, &r);
	assert_true(th_last(t->w, &s2));
	assert_int_equal(s2.flags, TCP_SYN | TCP_ACK);
	assert_int_equal(s2.seq, s1.seq);
	assert_int_equal(tapir_tcp_flow_count(t->h->st), 1);
	/* SYN-ACK retransmitted by the timer too, then given up */
	raw_clear(t->w);
	world_advance(t->w, 2 * SEC);
	assert_true(th_count(t->w) >= 1);
	world_advance(t->w, 300 * SEC);
	assert_int_equal(tapir_tcp_flow_count(t->h->st), 0);
	assert_int_equal(t->a.accepts, 0);
	th_case_free(t);
}


static void test_nagle(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tcp_repr r, s;
	uint32_t ps, iss = th_case_open(t, false, &ps);

	(void)state;
	tapir_tcp_write(t->a.flow, "aaaa", 4);
	tapir_tcp_write(t->a.flow, "bbbb", 4);
	tapir_tcp_write(t->a.flow, "cccc", 4);
	world_pump(t->w);
	assert_int_equal(th_count(t->w), 1); /* the rest waits for the ACK */
	r = th_seg(SPORT, PORT, ps, iss + 5, TCP_ACK, 65535);
	th_send(t->w, t->h, &r);
	assert_int_equal(th_count(t->w), 2);
	th_last(t->w, &s);
	assert_int_equal(s.payload_len, 8);
	/* write_nodelay pushes at once */
	raw_clear(t->w);
	tapir_tcp_write_nodelay(t->a.flow, "dd", 2);
	world_pump(t->w);
	assert_int_equal(th_count(t->w), 1);
	tapir_tcp_abort(t->a.flow);
	th_case_free(t);
}

static void test_nodelay_opt(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tapir_tcp_flow_opts o;
	uint32_t ps;

	(void)state;
	tapir_tcp_flow_opts_defaults(t->h->st, &o);
	o.nodelay = true;
	app_listen(&t->a, t->h, PORT, &o);
	th_handshake(t->w, t->h, SPORT, PORT, 1000, false, &ps);
	raw_clear(t->w);
	tapir_tcp_write(t->a.flow, "aaaa", 4);
	tapir_tcp_write(t->a.flow, "bbbb", 4);
	world_pump(t->w);
	assert_int_equal(th_count(t->w), 2);
	tapir_tcp_abort(t->a.flow);
	th_case_free(t);
}

static void test_writable_and_sndbuf(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tapir_tcp_flow_opts o;
	struct tcp_repr r;
	uint32_t ps, iss;
	uint8_t *p = th_pattern(20000, 5);
	long n;

	(void)state;
	tapir_tcp_flow_opts_defaults(t->h->st, &o);
	o.sndbuf = 8192;
	app_listen(&t->a, t->h, PORT, &o);
	iss = th_handshake(t->w, t->h, SPORT, PORT, 1000, false, &ps);
	n = tapir_tcp_write(t->a.flow, p, 20000);
	assert_int_equal(n, 8192);
	assert_int_equal(tapir_tcp_write(t->a.flow, p, 10), 0);
	assert_int_equal(t->a.writables, 0);
	r = th_seg(SPORT, PORT, ps, iss + 1 + 4000, TCP_ACK, 65535);
	th_send(t->w, t->h, &r);
	assert_int_equal(t->a.writables, 1);
	assert_int_equal(tapir_tcp_write(t->a.flow, p, 10000), 4000);
	tapir_tcp_shutdown(t->a.flow, false, true);
	assert_int_equal(tapir_tcp_write(t->a.flow, p, 1), -EPIPE);
	free(p);
	tapir_tcp_abort(t->a.flow);
	th_case_free(t);
}

static void test_rto_karn_backoff(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tcp_repr r, s;
	uint32_t ps, iss = th_case_open(t, false, &ps);
	uint64_t t0;
	struct tapir_tcp_flow_info fi;

	(void)state;
	/* first RTT sample: 100 ms */
	tapir_tcp_write(t->a.flow, "a", 1);
	world_advance(t->w, 100 * MSEC);
	r = th_seg(SPORT, PORT, ps, iss + 2, TCP_ACK, 65535);
	th_send(t->w, t->h, &r);
	tapir_tcp_flow_info(t->a.flow, &fi);
	assert_int_equal(fi.srtt_us, 100000);
	assert_int_equal(fi.rto_ms, 300); /* 100 + 4 * 50 */
	raw_clear(t->w);
	tapir_tcp_write(t->a.flow, "b", 1);
	world_pump(t->w);
	t0 = t->w->now;
	assert_int_equal(th_count(t->w), 1);
	/* retransmissions at 300, 600 (x2), 1200 (x4) ms after */
	world_advance(t->w, 299 * MSEC);
	assert_int_equal(th_count(t->w), 1);
	world_advance(t->w, 2 * MSEC);
	assert_int_equal(th_count(t->w), 2);
	world_advance(t->w, 598 * MSEC);
	assert_int_equal(th_count(t->w), 2);
	world_advance(t->w, 2 * MSEC);
	assert_int_equal(th_count(t->w), 3);
	world_advance(t->w, 1198 * MSEC);
	assert_int_equal(th_count(t->w), 3);
	world_advance(t->w, 2 * MSEC);
	assert_int_equal(th_count(t->w), 4);
	(void)t0;
	/* Karn: the ACK of a retransmitted segment gives no sample */
	r = th_seg(SPORT, PORT, ps, iss + 3, TCP_ACK, 65535);
	th_send(t->w, t->h, &r);
	tapir_tcp_flow_info(t->a.flow, &fi);
	assert_int_equal(fi.srtt_us, 100000);
	assert_int_equal(fi.rto_timeouts, 3);
	th_last(t->w, &s);
	tapir_tcp_abort(t->a.flow);
	th_case_free(t);
}

static void test_retries_abort(void **state)
{
	struct tapir_stack_config cfg;

	tapir_stack_config_defaults(&cfg);
	cfg.tcp.max_retries = 5;
	struct th_case *t = th_case_new(&cfg);
	uint32_t ps;

	(void)state;
	th_case_open(t, false, &ps);
	t->a.close_on_closed = true;
	tapir_tcp_write(t->a.flow, "a", 1);
	world_advance(t->w, 60 * SEC);
	assert_int_equal(t->a.closes, 0); /* RFC 1122 R2: not before 100 s */
	world_advance(t->w, 200 * SEC);
	assert_int_equal(t->a.closes, 1);
	assert_int_equal(t->a.close_err, -ETIMEDOUT);
	assert_int_equal(tapir_tcp_flow_count(t->h->st), 0);
	assert_int_equal(CTR(t->h, TCP_ABORT_TIMEOUT), 1);
	th_case_free(t);
}

static void test_syn_retries(void **state)
{
	struct th_case *t = th_case_new(NULL);

	(void)state;
	tapir_tcp_connect(t->h->st, A4(PEER_IP), 80, NULL, app_connect, &t->a);
	world_pump(t->w);
	world_advance(t->w, 64 * SEC);
	/* at 0, 1, 3, 7, 15, 31, 63 s: 7 SYNs sent, still waiting for the last */
	assert_int_equal(th_count(t->w), 7);
	assert_int_equal(t->a.connects, 0);
	world_advance(t->w, 70 * SEC);
	assert_int_equal(t->a.connects, 1);
	assert_int_equal(t->a.connect_err, -ETIMEDOUT);
	assert_int_equal(tapir_tcp_flow_count(t->h->st), 0);
	th_case_free(t);
}

static void test_fast_retransmit_newreno(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tcp_repr r, s;
	uint32_t ps, iss = th_case_open(t, false, &ps);
	uint8_t *p = th_pattern(20000, 6);
	size_t n;
	struct tapir_tcp_flow_info fi0;
	uint32_t M;

	(void)state;
	tapir_tcp_flow_info(t->a.flow, &fi0);
	M = fi0.mss;
	assert_int_equal(M, 536);
	tapir_tcp_write(t->a.flow, p, 10 * M);
	world_pump(t->w);
	n = th_segs(t->w, segs, RAW_MAX_FRAMES);
	assert_int_equal(n, 10); /* IW10 */
	raw_clear(t->w);
	/* segment 1 lost: an ACK for segment 0, then 3 duplicates */
	for (int i = 0; i < 4; i++) {
		r = th_seg(SPORT, PORT, ps, iss + 1 + M, TCP_ACK, 65535);
		th_send(t->w, t->h, &r);
	}
	assert_true(th_last(t->w, &s));
	assert_int_equal(s.seq, iss + 1 + M);
	assert_int_equal(s.payload_len, M);
	assert_int_equal(CTR(t->h, TCP_FAST_RETRANSMITS), 1);
	/* partial ACK (segment 4 also lost): retransmit it at once */
	raw_clear(t->w);
	r = th_seg(SPORT, PORT, ps, iss + 1 + 4 * M, TCP_ACK, 65535);
	th_send(t->w, t->h, &r);
	n = th_segs(t->w, segs, RAW_MAX_FRAMES);
	assert_true(n >= 1);
	assert_int_equal(segs[0].seq, iss + 1 + 4 * M);
	/* full ACK ends recovery */
	r = th_seg(SPORT, PORT, ps, iss + 1 + 10 * M, TCP_ACK, 65535);
	th_send(t->w, t->h, &r);
	struct tapir_tcp_flow_info fi;

	tapir_tcp_flow_info(t->a.flow, &fi);
	/* RFC 6582 3.2 step 6: min(ssthresh, FlightSize + SMSS); nothing in flight */
	assert_int_equal(fi.cwnd, 2 * M);
	assert_int_equal(fi.ssthresh, 5 * M * 9 / 10 > 2 * M ? fi.ssthresh : 2 * M);
	free(p);
	tapir_tcp_abort(t->a.flow);
	th_case_free(t);
}

static void test_sack_recovery(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tcp_repr r;
	uint32_t ps, iss = th_case_open(t, true, &ps);
	uint8_t *p = th_pattern(20000, 7);
	uint32_t mss = 1448, base = iss + 1;
	size_t n;

	(void)state;
	tapir_tcp_write(t->a.flow, p, 10 * mss);
	world_pump(t->w);
	assert_int_equal(th_count(t->w), 10);
	raw_clear(t->w);
	/* segments 0 and 3 lost; the rest SACKed */
	for (int i = 0; i < 4; i++) {
		r = th_seg(SPORT, PORT, ps, base, TCP_ACK, 65535);
		r.has_ts = true;
		r.ts_val = 5000;
		r.nsack = 2;
		r.sack[0] = (struct tcp_sack_block){ base + 4 * mss, base + (5 + (uint32_t)i) * mss };
		r.sack[1] = (struct tcp_sack_block){ base + mss, base + 3 * mss };
		th_send(t->w, t->h, &r);
	}
	n = th_segs(t->w, segs, RAW_MAX_FRAMES);
	assert_true(n >= 2);
	assert_int_equal(segs[0].seq, base);
	assert_int_equal(segs[1].seq, base + 3 * mss); /* only the holes */
	for (size_t i = 0; i < n; i++)
		assert_true(segs[i].seq == base || segs[i].seq == base + 3 * mss ||
			    seq_ge(segs[i].seq, base + 10 * mss));
	free(p);
	tapir_tcp_abort(t->a.flow);
	th_case_free(t);
}

/* Tail loss probe (RFC 8985 7): the last segment again after 2 SRTT, and
 * its SACK starts recovery for the hole before it. */
static void test_tail_loss_probe(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tcp_repr r, s;
	uint32_t ps, iss = th_case_open(t, true, &ps);
	uint8_t *p = th_pattern(20000, 15);
	uint32_t mss = 1448, base = iss + 1;

	(void)state;
	tapir_tcp_write(t->a.flow, p, 5 * mss);
	world_pump(t->w);
	assert_int_equal(th_count(t->w), 5);
	world_advance(t->w, 9 * MSEC);
	assert_int_equal(th_count(t->w), 5);
	world_advance(t->w, 2 * MSEC); /* PTO: 10 ms (SRTT ~0) */
	assert_int_equal(th_count(t->w), 6);
	th_last(t->w, &s);
	assert_int_equal(s.seq, base + 4 * mss);
	assert_int_equal(CTR(t->h, TCP_TAIL_LOSS_PROBES), 1);
	/* the probe is SACKed, the first four are not: fast retransmit */
	raw_clear(t->w);
	r = th_seg(SPORT, PORT, ps, base, TCP_ACK, 65535);
	r.has_ts = true;
	r.ts_val = 3000;
	r.nsack = 1;
	r.sack[0] = (struct tcp_sack_block){ base + 4 * mss, base + 5 * mss };
	th_send(t->w, t->h, &r);
	assert_true(th_last(t->w, &s) || true);
	assert_int_equal(th_segs(t->w, segs, RAW_MAX_FRAMES) >= 1, 1);
	assert_int_equal(segs[0].seq, base);
	assert_int_equal(CTR(t->h, TCP_FAST_RETRANSMITS), 1);
	free(p);
	tapir_tcp_abort(t->a.flow);
	th_case_free(t);
}

/* With new data waiting (cwnd-limited), the probe still resends the last
 * segment sent: a delayed-ACK receiver answers a duplicate at once. */
static void test_tail_loss_probe_resends_last(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tcp_repr s;
	uint32_t ps, iss = th_case_open(t, true, &ps);
	uint8_t *p = th_pattern(40000, 16);
	uint32_t mss = 1448, base = iss + 1;

	(void)state;
	(void)ps;
	tapir_tcp_write(t->a.flow, p, 20 * mss);
	world_pump(t->w);
	size_t sent = th_count(t->w);

	assert_true(sent >= 2 && sent < 20); /* the initial window, not all 20 */
	world_advance(t->w, 11 * MSEC);
	assert_int_equal(th_count(t->w), sent + 1);
	th_last(t->w, &s);
	assert_int_equal(s.seq, base + (uint32_t)(sent - 1) * mss);
	assert_int_equal(s.payload_len, mss);
	assert_int_equal(CTR(t->h, TCP_TAIL_LOSS_PROBES), 1);
	free(p);
	tapir_tcp_abort(t->a.flow);
	th_case_free(t);
}

static void test_zero_window_probe(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tcp_repr r, s;
	uint32_t ps, iss = th_case_open(t, false, &ps);
	size_t n, probes = 0;

	(void)state;
	/* the peer closes its window */
	r = th_seg(SPORT, PORT, ps, iss + 1, TCP_ACK, 0);
	th_send(t->w, t->h, &r);
	tapir_tcp_write(t->a.flow, "data", 4);
	world_pump(t->w);
	assert_int_equal(th_count(t->w), 0);
	/* probes back off; answered with a zero window, never abort */
	uint64_t last = 0, gap = 0;

	for (int sec = 0; sec < 1200; sec++) {
		size_t before = th_count(t->w);

		world_advance(t->w, SEC);
		n = th_count(t->w);
		if (n > before) {
			th_last(t->w, &s);
			assert_int_equal(s.seq, iss);      /* SND.UNA - 1 */
			assert_int_equal(s.payload_len, 0);
			probes++;
			if (last)
				gap = (uint64_t)sec - last;
			last = (uint64_t)sec;
			r = th_seg(SPORT, PORT, ps, iss + 1, TCP_ACK, 0);
			th_send(t->w, t->h, &r);
		}
	}
	assert_true(probes >= 20);
	assert_true(gap >= 59 && gap <= 61); /* backed off to 60 s */
	assert_int_equal(t->a.closes, 0);
	/* the window opens: data flows */
	raw_clear(t->w);
	r = th_seg(SPORT, PORT, ps, iss + 1, TCP_ACK, 1000);
	th_send(t->w, t->h, &r);
	th_last(t->w, &s);
	assert_int_equal(s.payload_len, 4);
	tapir_tcp_abort(t->a.flow);
	th_case_free(t);
}

/* The window closes with data in flight: the RTO turns into probing and the
 * connection survives as long as the probes are answered. */
static void test_zero_window_inflight(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tcp_repr r, s;
	uint32_t ps, iss = th_case_open(t, false, &ps);
	uint8_t *p = th_pattern(3000, 14);

	(void)state;
	tapir_tcp_write(t->a.flow, p, 1608);
	world_pump(t->w);
	assert_int_equal(th_count(t->w), 3);
	/* the first segment acked, window 0: two segments stay in flight */
	r = th_seg(SPORT, PORT, ps, iss + 1 + 536, TCP_ACK, 0);
	th_send(t->w, t->h, &r);
	for (int i = 0; i < 40; i++) {
		raw_clear(t->w);
		world_advance(t->w, 30 * SEC);
		if (th_last(t->w, &s)) {
			assert_int_equal(s.payload_len, 0);
			assert_int_equal(s.seq, iss + 536);
			r = th_seg(SPORT, PORT, ps, iss + 1 + 536, TCP_ACK, 0);
			th_send(t->w, t->h, &r);
		}
	}
	assert_int_equal(t->a.closes, 0);
	raw_clear(t->w);
	r = th_seg(SPORT, PORT, ps, iss + 1 + 536, TCP_ACK, 65535);
	th_send(t->w, t->h, &r);
	assert_int_equal(th_segs(t->w, segs, RAW_MAX_FRAMES), 2);
	assert_int_equal(segs[0].seq, iss + 1 + 536);
	free(p);
	tapir_tcp_abort(t->a.flow);
	th_case_free(t);
}

static void test_zero_window_unanswered(void **state)
{
	struct tapir_stack_config cfg;

	tapir_stack_config_defaults(&cfg);
	cfg.tcp.max_retries = 4;
	struct th_case *t = th_case_new(&cfg);
	struct tcp_repr r;
	uint32_t ps, iss = th_case_open(t, false, &ps);

	(void)state;
	r = th_seg(SPORT, PORT, ps, iss + 1, TCP_ACK, 0);
	th_send(t->w, t->h, &r);
	tapir_tcp_write(t->a.flow, "data", 4);
	world_advance(t->w, 1000 * SEC);
	assert_int_equal(t->a.closes, 1);
	assert_int_equal(t->a.close_err, -ETIMEDOUT);
	tapir_tcp_close(t->a.flow);
	th_case_free(t);
}

static void test_keepalive(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tapir_tcp_flow_opts o;
	struct tcp_repr r, s;
	uint32_t ps, iss;

	(void)state;
	tapir_tcp_flow_opts_defaults(t->h->st, &o);
	assert_false(o.keepalive);
	o.keepalive = true;
	o.ka_idle_ns = 10 * SEC;
	o.ka_intvl_ns = 2 * SEC;
	o.ka_count = 3;
	app_listen(&t->a, t->h, PORT, &o);
	iss = th_handshake(t->w, t->h, SPORT, PORT, 1000, false, &ps);
	raw_clear(t->w);
	world_advance(t->w, 9 * SEC);
	assert_int_equal(th_count(t->w), 0);
	world_advance(t->w, 2 * SEC);
	assert_int_equal(th_count(t->w), 1);
	th_last(t->w, &s);
	assert_int_equal(s.seq, iss); /* SND.NXT - 1 */
	assert_int_equal(s.payload_len, 0);
	/* answered: idle again */
	r = th_seg(SPORT, PORT, ps, iss + 1, TCP_ACK, 65535);
	th_send(t->w, t->h, &r);
	world_advance(t->w, 9 * SEC);
	assert_int_equal(th_count(t->w), 1);
	/* unanswered: 3 probes 2 s apart, then abort */
	world_advance(t->w, 2 * SEC);
	assert_int_equal(th_count(t->w), 2);
	world_advance(t->w, 4 * SEC + MSEC);
	assert_int_equal(th_count(t->w), 4);
	assert_int_equal(t->a.closes, 0);
	world_advance(t->w, 2 * SEC);
	assert_int_equal(t->a.closes, 1);
	assert_int_equal(t->a.close_err, -ETIMEDOUT);
	assert_int_equal(CTR(t->h, TCP_KEEPALIVE_PROBES), 4);
	tapir_tcp_close(t->a.flow);
	th_case_free(t);
}

/* The stack answers a (kernel-style) keepalive probe: seq = RCV.NXT - 1. */
static void test_keepalive_answered(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tcp_repr r, s;
	uint32_t ps, iss = th_case_open(t, false, &ps);

	(void)state;
	r = th_seg(SPORT, PORT, ps - 1, iss + 1, TCP_ACK, 65535);
	th_send(t->w, t->h, &r);
	assert_true(th_last(t->w, &s));
	assert_int_equal(s.ack, ps);
	assert_int_equal(s.flags, TCP_ACK);
	tapir_tcp_abort(t->a.flow);
	th_case_free(t);
}

static void test_rfc5961(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tcp_repr r, s;
	uint32_t ps, iss = th_case_open(t, false, &ps);
	struct tapir_tcp_flow_info fi;

	(void)state;
	/* RST in the window but not at RCV.NXT: challenge ACK */
	r = th_seg(SPORT, PORT, ps + 100, 0, TCP_RST, 0);
	th_send(t->w, t->h, &r);
	assert_true(th_last(t->w, &s));
	assert_int_equal(s.flags, TCP_ACK);
	assert_int_equal(s.ack, ps);
	tapir_tcp_flow_info(t->a.flow, &fi);
	assert_int_equal(fi.state, TAPIR_TCP_STATE_ESTABLISHED);
	/* RST outside the window: dropped silently */
	raw_clear(t->w);
	r = th_seg(SPORT, PORT, ps + 10000000, 0, TCP_RST, 0);
	th_send(t->w, t->h, &r);
	assert_int_equal(th_count(t->w), 0);
	/* SYN in ESTABLISHED: challenge ACK */
	r = th_seg(SPORT, PORT, ps + 5, 0, TCP_SYN, 0);
	th_send(t->w, t->h, &r);
	assert_true(th_last(t->w, &s));
	assert_int_equal(s.flags, TCP_ACK);
	tapir_tcp_flow_info(t->a.flow, &fi);
	assert_int_equal(fi.state, TAPIR_TCP_STATE_ESTABLISHED);
	/* ACK of data never sent: challenge/ACK, dropped */
	raw_clear(t->w);
	r = th_data_seg(ps, iss + 1000, "x", 1);
	th_send(t->w, t->h, &r);
	assert_int_equal(t->a.len, 0);
	/* rate limit: 10 a second */
	raw_clear(t->w);
	for (int i = 0; i < 30; i++) {
		r = th_seg(SPORT, PORT, ps + 1 + (uint32_t)i, 0, TCP_RST, 0);
		th_send(t->w, t->h, &r);
	}
	assert_true(th_count(t->w) <= 10);
	assert_true(CTR(t->h, TCP_CHALLENGE_ACKS_LIMITED) > 0);
	/* exact RST: reset */
	r = th_seg(SPORT, PORT, ps, 0, TCP_RST, 0);
	th_send(t->w, t->h, &r);
	assert_int_equal(t->a.closes, 1);
	assert_int_equal(t->a.close_err, -ECONNRESET);
	tapir_tcp_close(t->a.flow);
	assert_int_equal(tapir_tcp_flow_count(t->h->st), 0);
	th_case_free(t);
}

/*
 * RFC 9293 3.10.7.4: a SYN (not the retransmitted one) in SYN-RECEIVED of a
 * passive open returns the connection to LISTEN; the retransmitted SYN gets
 * the SYN-ACK again.  Unacceptable pure ACKs are answered at most once per
 * 500 ms (as Linux), unacceptable data always.
 */
static void test_syn_in_syn_received_and_oow_acks(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tcp_repr r, s;

	(void)state;
	app_listen(&t->a, t->h, PORT, NULL);
	r = th_seg(SPORT, PORT, 1000, 0, TCP_SYN, 65535);
	th_send(t->w, t->h, &r);
	assert_true(th_last(t->w, &s));
	assert_int_equal(s.flags, TCP_SYN | TCP_ACK);
	raw_clear(t->w);
	th_send(t->w, t->h, &r);  /* retransmitted: the SYN-ACK again */
	assert_true(th_last(t->w, &s));
	assert_int_equal(s.flags, TCP_SYN | TCP_ACK);
	assert_int_equal(s.ack, 1001);
	raw_clear(t->w);
	r = th_seg(SPORT, PORT, 1001 + 10, 0, TCP_SYN, 65535);  /* another, in window */
	th_send(t->w, t->h, &r);
	assert_int_equal(th_count(t->w), 0);
	assert_int_equal(tapir_tcp_flow_count(t->h->st), 0);
	assert_int_equal(CTR(t->h, TCP_SYN_RECEIVED_ABORTED), 1);
	assert_int_equal(t->a.accepts, 0);
	th_case_free(t);

	t = th_case_new(NULL);
	uint32_t ps, iss = th_case_open(t, false, &ps);
	raw_clear(t->w);
	for (int i = 0; i < 5; i++) {  /* pure ACKs far beyond the window */
		r = th_seg(SPORT, PORT, ps + 100000000u, iss + 1, TCP_ACK, 65535);
		th_send(t->w, t->h, &r);
	}
	assert_int_equal(th_count(t->w), 1);
	assert_int_equal(CTR(t->h, TCP_OOW_ACKS_LIMITED), 4);
	raw_clear(t->w);
	for (int i = 0; i < 3; i++) {  /* old data: each answered */
		r = th_data_seg(ps - 10, iss + 1, "0123456789", 10);
		th_send(t->w, t->h, &r);
	}
	assert_int_equal(th_count(t->w), 3);
	world_advance(t->w, 501 * MSEC);
	raw_clear(t->w);
	r = th_seg(SPORT, PORT, ps + 100000000u, iss + 1, TCP_ACK, 65535);
	th_send(t->w, t->h, &r);
	assert_true(th_last(t->w, &s));
	assert_int_equal(s.flags, TCP_ACK);
	assert_int_equal(s.ack, ps);
	th_case_free(t);
}

/* After a reset, while the application still holds the flow, the tuple is
 * closed: a later segment gets a RST and nothing reaches the application. */
static void test_closed_flow_held(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tcp_repr r, s;
	uint32_t ps, iss = th_case_open(t, false, &ps);
	struct tapir_tcp_flow_info fi;

	(void)state;
	r = th_seg(SPORT, PORT, ps, 0, TCP_RST, 0);
	th_send(t->w, t->h, &r);
	assert_int_equal(t->a.closes, 1);
	assert_int_equal(tapir_tcp_flow_count(t->h->st), 1);
	tapir_tcp_flow_info(t->a.flow, &fi);
	assert_int_equal(fi.state, TAPIR_TCP_STATE_CLOSED);
	raw_clear(t->w);
	r = th_data_seg(ps, iss + 1, "late", 4);
	r.flags |= TCP_FIN;
	th_send(t->w, t->h, &r);
	assert_true(th_last(t->w, &s));
	assert_true(s.flags & TCP_RST);
	assert_int_equal(t->a.len, 0);
	assert_int_equal(t->a.eofs, 0);
	assert_int_equal(tapir_tcp_write(t->a.flow, "x", 1), -EPIPE);
	tapir_tcp_close(t->a.flow);
	assert_int_equal(tapir_tcp_flow_count(t->h->st), 0);
	th_case_free(t);
}

static void test_isn(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tcp_repr r, s;
	uint32_t isn[3];

	(void)state;
	app_listen(&t->a, t->h, PORT, NULL);
	for (int i = 0; i < 3; i++) {
		r = th_seg(SPORT, PORT, 100, 0, TCP_SYN, 65535);
		raw_clear(t->w);
		th_send(t->w, t->h, &r);
		th_last(t->w, &s);
		isn[i] = s.seq;
		/* reset the embryonic flow, move the clock */
		r = th_seg(SPORT, PORT, 101, 0, TCP_RST, 0);
		th_send(t->w, t->h, &r);
		assert_int_equal(tapir_tcp_flow_count(t->h->st), 0);
		world_advance(t->w, SEC);
	}
	/* same tuple: increasing with the 4 us clock (250000 per second) */
	assert_int_equal(isn[1] - isn[0], 250000);
	assert_int_equal(isn[2] - isn[1], 250000);
	/* other tuples: unrelated */
	r = th_seg(SPORT + 1, PORT, 100, 0, TCP_SYN, 65535);
	raw_clear(t->w);
	th_send(t->w, t->h, &r);
	th_last(t->w, &s);
	assert_true(s.seq - isn[2] > 1000000 || isn[2] - s.seq > 1000000);
	th_case_free(t);
}

static void test_time_wait_reuse(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tcp_repr r, s;
	uint32_t ps, iss = th_case_open(t, false, &ps);
	struct tapir_tcp_flow *f = t->a.flow;

	(void)state;
	/* we close first: FIN_WAIT_1 -> FIN_WAIT_2 -> TIME_WAIT */
	tapir_tcp_close(f);
	world_pump(t->w);
	r = th_seg(SPORT, PORT, ps, iss + 2, TCP_ACK, 65535);
	th_send(t->w, t->h, &r);
	r = th_seg(SPORT, PORT, ps, iss + 2, TCP_ACK | TCP_FIN, 65535);
	th_send(t->w, t->h, &r);
	assert_int_equal(tapir_tcp_flow_count(t->h->st), 1);
	struct tapir_tcp_flow_info fi;

	assert_int_equal(tapir_tcp_flow_list(t->h->st, &fi, 1), 1);
	assert_int_equal(fi.state, TAPIR_TCP_STATE_TIME_WAIT);
	/* an old duplicate SYN gets an ACK */
	raw_clear(t->w);
	r = th_seg(SPORT, PORT, ps - 100, 0, TCP_SYN, 65535);
	th_send(t->w, t->h, &r);
	th_last(t->w, &s);
	assert_int_equal(s.flags, TCP_ACK);
	/* a new SYN above RCV.NXT reuses the tuple */
	raw_clear(t->w);
	r = th_seg(SPORT, PORT, ps + 100000, 0, TCP_SYN, 65535);
	th_send(t->w, t->h, &r);
	th_last(t->w, &s);
	assert_int_equal(s.flags, TCP_SYN | TCP_ACK);
	assert_int_equal(s.ack, ps + 100001);
	assert_int_equal(CTR(t->h, TCP_TIME_WAIT_REUSED), 1);
	th_case_free(t);
}

static void test_fin_wait2_timeout(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tcp_repr r;
	uint32_t ps, iss = th_case_open(t, false, &ps);

	(void)state;
	tapir_tcp_close(t->a.flow);
	world_pump(t->w);
	r = th_seg(SPORT, PORT, ps, iss + 2, TCP_ACK, 65535);
	th_send(t->w, t->h, &r);
	assert_int_equal(tapir_tcp_flow_count(t->h->st), 1);
	world_advance(t->w, 59 * SEC);
	assert_int_equal(tapir_tcp_flow_count(t->h->st), 1);
	world_advance(t->w, 2 * SEC);
	assert_int_equal(tapir_tcp_flow_count(t->h->st), 0);
	assert_int_equal(CTR(t->h, TCP_FIN_WAIT2_TIMEOUTS), 1);
	th_case_free(t);
}

/* The port-exhaustion test's ends: the server closes on the peer's EOF; the
 * client closes as soon as it is connected, so its side ends in TIME_WAIT */
static void eof_close_recv(void *ctx, struct tapir_tcp_flow *f, const uint8_t *data, size_t len)
{
	(void)ctx;
	(void)data;
	if (!len)
		tapir_tcp_close(f);
}

static void ignore_closed(void *ctx, struct tapir_tcp_flow *f, int err)
{
	(void)ctx;
	(void)f;
	(void)err;
}

static const struct tapir_tcp_callbacks eof_close_cbs = {
	.recv = eof_close_recv, .closed = ignore_closed,
};

static void eof_close_accept(void *ctx, struct tapir_tcp_flow *f)
{
	(void)ctx;
	tapir_tcp_flow_set_callbacks(f, &eof_close_cbs, NULL);
}

struct opener {
	int ok, err;
};

static void opener_connect(void *ctx, struct tapir_tcp_flow *f, int err)
{
	struct opener *o = ctx;

	if (err) {
		o->err++;
		return;
	}
	o->ok++;
	tapir_tcp_close(f);
}

/* More connections to one address and port within 2 MSL than there are
 * ephemeral ports (16,384), each closed by us first: with timestamps on, a
 * connect takes over a tuple in TIME_WAIT that is over a second old (as
 * Linux's tcp_tw_reuse), starting past its sequence space, instead of
 * failing with -EAGAIN (the gateway's port forwards met this at 6,000
 * connections a second). */
static void test_connect_reuses_time_wait(void **state)
{
	struct world *w = world_new();
	struct host *srv = world_add(w, 2, NULL);
	struct host *cli = world_add(w, 3, NULL);
	struct opener o = { 0 };
	const int n = 16384 + 400;

	(void)state;
	assert_int_equal(tapir_tcp_listen(srv->st, PORT, NULL, eof_close_accept, NULL), 0);
	world_pump(w);
	for (int i = 0; i < n; i++) {
		int rc = tapir_tcp_connect(cli->st, A4(srv->ip), PORT, NULL, opener_connect, &o);

		if (rc)
			fail_msg("connect %d: %d (%d in TIME_WAIT)", i, rc,
				 (int)tapir_tcp_time_wait_count(cli->st));
		world_advance(w, MSEC);
	}
	world_advance(w, 500 * MSEC);
	assert_int_equal(o.ok, n);
	assert_int_equal(o.err, 0);
	assert_true(CTR(cli, TCP_TIME_WAIT_REUSED) >= 400);
	/* all that is left: our TIME_WAITs (the taken ones gone from the set) */
	assert_int_equal(tapir_tcp_flow_count(cli->st), tapir_tcp_time_wait_count(cli->st));
	assert_true(tapir_tcp_time_wait_count(cli->st) < 16384);
	assert_int_equal(tapir_tcp_flow_count(srv->st), 0);
	world_free(w);
}

static void test_syn_flood_cookies(void **state)
{
	struct tapir_stack_config cfg;

	tapir_stack_config_defaults(&cfg);
	cfg.tcp.backlog = 8;
	struct world *w = world_new();
	struct host *srv = world_add(w, 2, &cfg);
	struct host *cli = world_add(w, 3, NULL);
	struct app sa, ca;
	struct tcp_repr r;

	(void)state;
	app_init(&sa, srv->st);
	app_init(&ca, cli->st);
	app_listen(&sa, srv, PORT, NULL);
	world_pump(w);
	/* a flood of SYNs from spoofed ports fills the SYN queue */
	for (int i = 0; i < 200; i++) {
		r = th_seg((uint16_t)(10000 + i), PORT, (uint32_t)i * 7919, 0, TCP_SYN, 65535);
		r.has_mss = true;
		r.mss = 1460;
		th_send(w, srv, &r);
	}
	assert_int_equal(tapir_tcp_flow_count(srv->st), 8);
	assert_true(tapir_stack_counter(srv->st, TAPIR_CTR_TCP_SYNCOOKIES_SENT) >= 190);
	/* a legitimate client still connects, through a cookie */
	assert_int_equal(tapir_tcp_connect(cli->st, A4(srv->ip), PORT, NULL, app_connect, &ca), 0);
	world_advance(w, 10 * MSEC);
	assert_int_equal(ca.connects, 1);
	assert_int_equal(ca.connect_err, 0);
	assert_int_equal(sa.accepts, 1);
	assert_int_equal(tapir_stack_counter(srv->st, TAPIR_CTR_TCP_SYNCOOKIES_OK), 1);
	struct tapir_tcp_flow_info fi;

	tapir_tcp_flow_info(sa.flow, &fi);
	assert_true(fi.timestamps && fi.sack && fi.wscale);
	assert_int_equal(fi.mss, 1460 - 12);
	/* and data flows both ways */
	uint8_t *p = th_pattern(300000, 9);

	assert_int_equal(tapir_tcp_write(ca.flow, p, 200000), 200000);
	world_advance(w, SEC);
	assert_int_equal(sa.len, 200000);
	assert_memory_equal(sa.data, p, 200000);
	/* a forged cookie fails */
	r = th_seg(12345, PORT, 1, 0xdeadbeef, TCP_ACK, 65535);
	th_send(w, srv, &r);
	assert_true(tapir_stack_counter(srv->st, TAPIR_CTR_TCP_SYNCOOKIES_FAILED) >= 1);
	assert_int_equal(sa.accepts, 1);
	free(p);
	tapir_tcp_abort(ca.flow);
	tapir_tcp_abort(sa.flow);
	/* the half-open flows time out */
	world_advance(w, 200 * SEC);
	assert_int_equal(tapir_tcp_flow_count(srv->st), 0);
	app_fini(&sa);
	app_fini(&ca);
	world_free(w);
}

static void test_conn_limit(void **state)
{
	struct tapir_stack_config cfg;

	tapir_stack_config_defaults(&cfg);
	cfg.tcp.max_connections = 3;
	cfg.tcp.syn_cookies = false;
	struct th_case *t = th_case_new(&cfg);
	struct tcp_repr r;

	(void)state;
	app_listen(&t->a, t->h, PORT, NULL);
	for (int i = 0; i < 10; i++) {
		r = th_seg((uint16_t)(10000 + i), PORT, 1, 0, TCP_SYN, 65535);
		th_send(t->w, t->h, &r);
	}
	assert_int_equal(tapir_tcp_flow_count(t->h->st), 3);
	assert_int_equal(CTR(t->h, TCP_DROP_CONN_LIMIT), 7);
	assert_int_equal(tapir_tcp_connect(t->h->st, A4(PEER_IP), 1, NULL, app_connect, &t->a), -ENOBUFS);
	world_advance(t->w, 300 * SEC);
	assert_int_equal(tapir_tcp_flow_count(t->h->st), 0);
	th_case_free(t);
}

static void test_backlog_no_cookies(void **state)
{
	struct tapir_stack_config cfg;

	tapir_stack_config_defaults(&cfg);
	cfg.tcp.backlog = 2;
	cfg.tcp.syn_cookies = false;
	struct th_case *t = th_case_new(&cfg);
	struct tcp_repr r;

	(void)state;
	app_listen(&t->a, t->h, PORT, NULL);
	for (int i = 0; i < 5; i++) {
		r = th_seg((uint16_t)(10000 + i), PORT, 1, 0, TCP_SYN, 65535);
		th_send(t->w, t->h, &r);
	}
	assert_int_equal(tapir_tcp_flow_count(t->h->st), 2);
	assert_int_equal(CTR(t->h, TCP_DROP_BACKLOG), 3);
	th_case_free(t);
}

/* ICMP frag needed quoting one of our segments lowers the MSS. */
static void send_frag_needed(struct th_case *t, uint16_t mtu, uint32_t qseq)
{
	uint8_t icmp[8 + 28], frame[128];
	struct ipv4_repr q = { .src = t->h->ip, .dst = PEER_IP, .proto = 6, .ttl = 64,
			       .payload_len = 1480, .df = true };
	struct ipv4_repr ip = { .src = PEER_IP, .dst = t->h->ip, .proto = 1, .ttl = 64,
				.payload_len = sizeof(icmp) };
	struct eth_repr e;

	memset(icmp, 0, sizeof(icmp));
	icmp[0] = 3;
	icmp[1] = 4;
	put_be16(icmp + 6, mtu);
	ipv4_repr_emit(&q, icmp + 8);
	put_be16(icmp + 28, PORT);
	put_be16(icmp + 30, SPORT);
	put_be32(icmp + 32, qseq);
	put_be16(icmp + 2, inet_csum(icmp, sizeof(icmp)));
	memcpy(e.dst, t->h->mac, 6);
	memcpy(e.src, t->w->raw_mac, 6);
	e.ethertype = TAPIR_ETHERTYPE_IPV4;
	eth_repr_emit(&e, frame);
	ipv4_repr_emit(&ip, frame + 14);
	memcpy(frame + 34, icmp, sizeof(icmp));
	raw_send(t->w, frame, 34 + sizeof(icmp));
	world_pump(t->w);
}

static void test_pmtu(void **state)
{
	struct th_case *t = th_case_new(NULL);
	uint32_t ps, iss = th_case_open(t, true, &ps);
	uint8_t *p = th_pattern(5000, 10);
	struct tapir_tcp_flow_info fi;
	size_t n;

	(void)state;
	tapir_tcp_write(t->a.flow, p, 3000);
	world_pump(t->w);
	/* quoting a sequence number outside the window: ignored */
	send_frag_needed(t, 1000, iss + 100000);
	tapir_tcp_flow_info(t->a.flow, &fi);
	assert_int_equal(fi.mss, 1448);
	assert_int_equal(CTR(t->h, TCP_DROP_ICMP_INVALID), 1);
	/* valid: MSS 960, the data is resent in smaller segments */
	raw_clear(t->w);
	send_frag_needed(t, 1000, iss + 1);
	tapir_tcp_flow_info(t->a.flow, &fi);
	assert_int_equal(fi.mss, 948);
	n = th_segs(t->w, segs, RAW_MAX_FRAMES);
	assert_true(n >= 3);
	for (size_t i = 0; i < n; i++)
		assert_true(segs[i].payload_len <= 948);
	assert_int_equal(segs[0].seq, iss + 1);
	/* an MTU below min_pmtu (552): 552, without DF, and no further change */
	raw_clear(t->w);
	send_frag_needed(t, 40, iss + 1);
	tapir_tcp_flow_info(t->a.flow, &fi);
	assert_int_equal(fi.mss, 552 - 52);
	assert_int_equal(CTR(t->h, IPV4_PMTU_CLAMPED), 1);
	n = th_segs(t->w, segs, RAW_MAX_FRAMES);
	assert_true(n >= 6);
	for (size_t i = 0; i < n; i++)
		assert_true(segs[i].payload_len <= 500);
	assert_int_equal(tapir_ipv4_mtu(t->h->st, PEER_IP), 552);
	send_frag_needed(t, 300, iss + 1);
	assert_int_equal(tapir_ipv4_mtu(t->h->st, PEER_IP), 552);
	free(p);
	tapir_tcp_abort(t->a.flow);
	th_case_free(t);
}

/* Another flow's ICMP lowered the path MTU: the next send that does not fit
 * makes this flow pick it up, and the data goes out at once in smaller
 * segments (nothing counted as sent that did not leave). */
static void test_pmtu_shared(void **state)
{
	struct th_case *t = th_case_new(NULL);
	uint32_t ps1, ps2, iss1;
	struct tapir_tcp_flow *f1, *f2;
	uint8_t *p = th_pattern(5000, 16);
	struct tapir_tcp_flow_info fi;
	uint64_t rtx0;
	size_t n;

	(void)state;
	app_listen(&t->a, t->h, PORT, NULL);
	iss1 = th_handshake(t->w, t->h, SPORT, PORT, 1000, true, &ps1);
	f1 = t->a.flow;
	th_handshake(t->w, t->h, SPORT + 1, PORT, 5000, true, &ps2);
	f2 = t->a.flow;
	tapir_tcp_write(f1, p, 100);
	world_pump(t->w);
	send_frag_needed(t, 1000, iss1 + 1);
	tapir_tcp_flow_info(f1, &fi);
	assert_int_equal(fi.mss, 948);
	tapir_tcp_flow_info(f2, &fi);
	assert_int_equal(fi.mss, 1448);
	raw_clear(t->w);
	rtx0 = CTR(t->h, TCP_RETRANSMITS);
	tapir_tcp_write(f2, p, 3000);
	world_pump(t->w);
	assert_true(CTR(t->h, TCP_TX_ERR) >= 1);
	assert_true(CTR(t->h, TCP_TX_EMSGSIZE) >= 1);
	tapir_tcp_flow_info(f2, &fi);
	assert_int_equal(fi.mss, 948);
	/* sent again at once at the new size, not after a retransmission timeout */
	n = th_segs(t->w, segs, RAW_MAX_FRAMES);
	assert_true(n >= 3);
	assert_int_equal(CTR(t->h, TCP_RETRANSMITS), rtx0);
	for (size_t i = 0; i < n; i++)
		if (segs[i].dst_port == SPORT + 1)
			assert_true(segs[i].payload_len <= 948);
	free(p);
	tapir_tcp_abort(f1);
	tapir_tcp_abort(f2);
	th_case_free(t);
}

/* ---- API safety ---- */

static void test_close_in_callbacks(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tcp_repr r, s;
	uint32_t ps, iss;

	(void)state;
	t->a.close_in_recv = true;
	iss = th_case_open(t, false, &ps);
	r = th_data_seg(ps, iss + 1, "hello", 5);
	th_send(t->w, t->h, &r);
	assert_int_equal(t->a.len, 5);
	assert_null(t->a.flow);
	assert_true(th_last(t->w, &s));
	assert_true(s.flags & TCP_FIN);
	/* more data after close: RST, freed */
	r = th_data_seg(ps + 5, iss + 1, "more", 4);
	th_send(t->w, t->h, &r);
	assert_int_equal(t->a.len, 5);
	assert_int_equal(tapir_tcp_flow_count(t->h->st), 0);
	/* close inside accept */
	tapir_tcp_unlisten(t->h->st, PORT);
	struct app b;

	app_init(&b, t->h->st);
	b.close_in_accept = true;
	app_listen(&b, t->h, PORT, NULL);
	th_handshake(t->w, t->h, SPORT + 1, PORT, 5000, false, &ps);
	assert_int_equal(b.accepts, 1);
	th_last(t->w, &s);
	assert_true(s.flags & TCP_FIN);
	app_fini(&b);
	th_case_free(t);
}

static void test_two_stacks_echo(void **state)
{
	struct world *w = world_new();
	struct host *a = world_add(w, 2, NULL), *b = world_add(w, 3, NULL);
	struct app sa, ca;
	uint8_t *p = th_pattern(1000000, 11);
	size_t off = 0;

	(void)state;
	app_init(&sa, a->st);
	app_init(&ca, b->st);
	sa.write_in_recv = true;
	app_listen(&sa, a, 7, NULL);
	world_pump(w);
	assert_int_equal(tapir_tcp_connect(b->st, A4(a->ip), 7, NULL, app_connect, &ca), 0);
	world_advance(w, MSEC);
	assert_int_equal(ca.connects, 1);
	while (off < 1000000) {
		long n = tapir_tcp_write(ca.flow, p + off, 1000000 - off);

		assert_true(n >= 0);
		off += (size_t)n;
		world_advance(w, MSEC);
	}
	world_advance(w, SEC);
	assert_int_equal(ca.len, 1000000);
	assert_memory_equal(ca.data, p, 1000000);
	/* orderly close from the client, then the server */
	tapir_tcp_shutdown(ca.flow, false, true);
	world_advance(w, MSEC);
	assert_int_equal(sa.eofs, 1);
	tapir_tcp_close(sa.flow);
	world_advance(w, MSEC);
	assert_int_equal(ca.eofs, 1);
	assert_int_equal(ca.closes, 1);
	assert_int_equal(ca.close_err, 0);
	tapir_tcp_close(ca.flow);
	world_advance(w, 61 * SEC);
	assert_int_equal(tapir_tcp_flow_count(a->st), 0);
	assert_int_equal(tapir_tcp_flow_count(b->st), 0);
	free(p);
	app_fini(&sa);
	app_fini(&ca);
	world_free(w);
}

/* One RTT of a raw peer: ACK every second segment the stack sent. */
static void ack_round(struct th_case *t, uint32_t ps, uint32_t *tsv)
{
	size_t n = th_segs(t->w, segs, RAW_MAX_FRAMES), k = 0;
	static uint32_t acks[RAW_MAX_FRAMES], ecrs[RAW_MAX_FRAMES];
	struct tcp_repr r;

	for (size_t i = 0; i < n; i++) {
		if (!segs[i].payload_len || (i % 2 == 0 && i + 1 < n))
			continue;
		acks[k] = segs[i].seq + (uint32_t)segs[i].payload_len;
		ecrs[k++] = segs[i].ts_val;
	}
	raw_clear(t->w);	/* what the ACKs make the stack send is the next round */
	for (size_t i = 0; i < k; i++) {
		r = th_seg(SPORT, PORT, ps, acks[i], TCP_ACK, 65535);
		r.has_ts = true;
		r.ts_val = ++*tsv;
		r.ts_ecr = ecrs[i];
		th_send(t->w, t->h, &r);
	}
}

/* CUBIC (RFC 9438): beta 0.7 on loss, then W_max is reached after about K
 * seconds and passed after (concave, then convex). */
static void test_cubic_curve(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tapir_tcp_flow_opts o;
	struct tapir_tcp_flow_info fi;
	struct tcp_repr r;
	static uint8_t junk[65536];
	uint32_t ps, iss, tsv = 2000, wmax, cw_before;
	double k;

	(void)state;
	tapir_tcp_flow_opts_defaults(t->h->st, &o);
	o.cc = TAPIR_TCP_CC_CUBIC;
	o.sndbuf = 8 << 20;
	app_listen(&t->a, t->h, PORT, &o);
	iss = th_handshake(t->w, t->h, SPORT, PORT, 1000, true, &ps);
	(void)iss;
	raw_clear(t->w);
	/* slow start to about 100 segments, 100 ms rounds (W_cubic, not
	 * the Reno-friendly estimate, leads at this RTT) */
	for (int i = 0; i < 200; i++) {
		while (tapir_tcp_write(t->a.flow, junk, sizeof(junk)) > 0)
			;
		world_advance(t->w, 100 * MSEC);
		tapir_tcp_flow_info(t->a.flow, &fi);
		if (getenv("CUBIC_TRACE"))
			print_message("round %d cwnd %u flight segs %zu\n", i, fi.cwnd,
				      th_count(t->w));
		if (fi.cwnd >= 100 * fi.mss)
			break;
		ack_round(t, ps, &tsv);
	}
	tapir_tcp_flow_info(t->a.flow, &fi);
	cw_before = fi.cwnd;
	assert_true(cw_before >= 100 * fi.mss);
	/* loss of the first segment of the window: 3 dupacks */
	th_segs(t->w, segs, RAW_MAX_FRAMES);
	uint32_t una = segs[0].seq;

	for (int i = 0; i < 4; i++) {
		r = th_seg(SPORT, PORT, ps, una, TCP_ACK, 65535);
		r.has_ts = true;
		r.ts_val = ++tsv;
		r.nsack = 1;
		r.sack[0] = (struct tcp_sack_block){ una + fi.mss, una + fi.mss * (2 + (uint32_t)i) };
		th_send(t->w, t->h, &r);
	}
	tapir_tcp_flow_info(t->a.flow, &fi);
	assert_int_equal(fi.fast_retransmits, 1);
	assert_true(fi.ssthresh >= cw_before * 7 / 10 - fi.mss &&
		    fi.ssthresh <= cw_before * 7 / 10 + fi.mss);
	wmax = cw_before;
	/* recover: ACK everything sent */
	ack_round(t, ps, &tsv);
	k = 0;
	{
		double x = (double)wmax / fi.mss * 0.3 / 0.4;

		for (k = 1; k * k * k < x; k += 0.01)
			;
	}
	/* run rounds for K seconds: cwnd approaches W_max from below */
	uint64_t start = t->w->now;
	uint32_t at_half = 0, at_k = 0, at_2k = 0;

	while (t->w->now - start < (uint64_t)(2 * k * SEC)) {
		while (tapir_tcp_write(t->a.flow, junk, sizeof(junk)) > 0)
			;
		world_advance(t->w, 100 * MSEC);
		ack_round(t, ps, &tsv);
		tapir_tcp_flow_info(t->a.flow, &fi);
		double el = (double)(t->w->now - start) / SEC;

		if (getenv("CUBIC_TRACE"))
			print_message("t %.2f cwnd %u ssth %u rto %llu fr %llu\n", el, fi.cwnd, fi.ssthresh,
				      (unsigned long long)fi.rto_timeouts, (unsigned long long)fi.fast_retransmits);

		if (!at_half && el >= k / 2)
			at_half = fi.cwnd;
		if (!at_k && el >= k)
			at_k = fi.cwnd;
		at_2k = fi.cwnd;
	}
	print_message("cubic: W_max %u, K %.2f s, cwnd at K/2 %u, at K %u, at 2K %u\n", wmax, k,
		      at_half, at_k, at_2k);
	assert_true(at_half > wmax * 7 / 10 && at_half < wmax);
	assert_true(at_k > wmax * 9 / 10 && at_k < wmax * 11 / 10);
	assert_true(at_2k > wmax * 12 / 10);
	tapir_tcp_abort(t->a.flow);
	th_case_free(t);
}

static void test_cubic(void **state)
{
	struct world *w = world_new();
	struct host *a = world_add(w, 2, NULL), *b = world_add(w, 3, NULL);
	struct app sa, ca;
	struct tapir_tcp_flow_opts o;
	struct tapir_tcp_flow_info fi;
	uint8_t *p = th_pattern(4000000, 12);
	size_t off = 0;
	uint32_t cw[3];

	(void)state;
	app_init(&sa, a->st);
	app_init(&ca, b->st);
	app_listen(&sa, a, 9, NULL);
	tapir_tcp_flow_opts_defaults(b->st, &o);
	o.cc = TAPIR_TCP_CC_CUBIC;
	o.sndbuf = 4 << 20;
	world_pump(w);
	tapir_tcp_connect(b->st, A4(a->ip), 9, &o, app_connect, &ca);
	world_advance(w, MSEC);
	assert_int_equal(ca.connects, 1);
	/* fake a loss epoch: cwnd 100 segments, W_max 100 */
	tapir_tcp_flow_info(ca.flow, &fi);
	assert_int_equal(fi.cc, TAPIR_TCP_CC_CUBIC);
	off += (size_t)tapir_tcp_write(ca.flow, p, 4000000);
	for (int i = 0; i < 3; i++) {
		world_advance(w, 20 * MSEC);
		tapir_tcp_flow_info(ca.flow, &fi);
		cw[i] = fi.cwnd;
	}
	assert_true(cw[1] >= cw[0] && cw[2] >= cw[1]);
	world_advance(w, 10 * SEC);
	assert_int_equal(sa.len, off);
	assert_memory_equal(sa.data, p, off);
	free(p);
	tapir_tcp_abort(ca.flow);
	tapir_tcp_abort(sa.flow);
	app_fini(&sa);
	app_fini(&ca);
	world_free(w);
}

/* ---- zero-copy send: tapir_tcp_write_reserve() / tapir_tcp_write_commit() ---- */

/* Play the receiving peer: store the data of every segment the stack sent at
 * its offset, ACK what arrived in order, until @total bytes arrived. */
static void peer_take(struct th_case *t, uint32_t iss, uint32_t ps, uint8_t *buf, uint8_t *have,
		      size_t total)
{
	size_t got = 0;

	for (int round = 0; round < 1000 && got < total; round++) {
		struct tcp_repr r;
		size_t n;

		world_pump(t->w);
		n = th_segs(t->w, segs, RAW_MAX_FRAMES);
		for (size_t i = 0; i < n; i++) {
			uint32_t off = segs[i].seq - (iss + 1);

			if (!segs[i].payload_len)
				continue;
			assert_true(off + segs[i].payload_len <= total);
			memcpy(buf + off, segs[i].payload, segs[i].payload_len);
			memset(have + off, 1, segs[i].payload_len);
		}
		raw_clear(t->w);
		while (got < total && have[got])
			got++;
		r = th_seg(SPORT, PORT, ps, iss + 1 + (uint32_t)got, TCP_ACK, 65535);
		th_send(t->w, t->h, &r);
	}
	assert_int_equal(got, total);
}

static void test_write_reserve_commit(void **state)
{
	struct th_case *t = th_case_new(NULL);
	uint32_t ps, iss = th_case_open(t, false, &ps);
	uint8_t *p = th_pattern(20000, 9), *buf = calloc(1, 20000), *have = calloc(1, 20000);
	size_t len, off = 0;
	uint8_t *w;
	int err = 1;

	(void)state;
	/* a piece of the size asked for */
	len = 100;
	w = tapir_tcp_write_reserve(t->a.flow, &len, &err);
	assert_non_null(w);
	assert_int_equal(len, 100);
	assert_int_equal(err, 0);
	memcpy(w, p, 100);
	assert_int_equal(tapir_tcp_write_commit(t->a.flow, 100, false), 100);
	off = 100;
	/* more than the ring holds now: it grows */
	len = 10000;
	w = tapir_tcp_write_reserve(t->a.flow, &len, NULL);
	assert_non_null(w);
	assert_int_equal(len, 10000);
	memcpy(w, p + off, 7000);
	assert_int_equal(tapir_tcp_write_commit(t->a.flow, 7000, false), 7000);	/* part of it */
	off += 7000;
	peer_take(t, iss, ps, buf, have, off);
	assert_memory_equal(buf, p, off);
	assert_int_equal(CTR(t->h, TCP_RETRANSMITS), 0);
	free(p);
	free(buf);
	free(have);
	tapir_tcp_abort(t->a.flow);
	th_case_free(t);
}

static void test_write_reserve_wrap_full(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tapir_tcp_flow_opts o;
	struct tcp_repr r;
	uint32_t ps, iss;
	uint8_t *p = th_pattern(20000, 10), *buf = calloc(1, 20000), *have = calloc(1, 20000);
	size_t len, off = 0;
	uint8_t *w;
	int err;

	(void)state;
	tapir_tcp_flow_opts_defaults(t->h->st, &o);
	o.sndbuf = 8192;
	app_listen(&t->a, t->h, PORT, &o);
	iss = th_handshake(t->w, t->h, SPORT, PORT, 1000, false, &ps);
	raw_clear(t->w);
	/* 0: as much as the send buffer allows, in one piece while it is empty */
	len = 0;
	w = tapir_tcp_write_reserve(t->a.flow, &len, &err);
	assert_non_null(w);
	assert_int_equal(len, 8192);
	memcpy(w, p, 6000);
	assert_int_equal(tapir_tcp_write_commit(t->a.flow, 6000, false), 6000);
	off = 6000;
	/* the peer takes 4000: the free space wraps around the ring's end */
	r = th_seg(SPORT, PORT, ps, iss + 1 + 4000, TCP_ACK, 65535);
	th_send(t->w, t->h, &r);
	len = 0;
	w = tapir_tcp_write_reserve(t->a.flow, &len, &err);
	assert_non_null(w);
	assert_int_equal(len, 8192 - 6000);	/* up to the end of the ring */
	memcpy(w, p + off, len);
	assert_int_equal(tapir_tcp_write_commit(t->a.flow, len, false), (long)len);
	off += len;
	len = 0;
	w = tapir_tcp_write_reserve(t->a.flow, &len, &err);
	assert_non_null(w);
	assert_int_equal(len, 4000);	/* the start of the ring */
	memcpy(w, p + off, len);
	assert_int_equal(tapir_tcp_write_commit(t->a.flow, len, false), (long)len);
	off += len;
	/* full: no space, -EAGAIN, and writable() once the peer takes some */
	len = 1;
	assert_null(tapir_tcp_write_reserve(t->a.flow, &len, &err));
	assert_int_equal(len, 0);
	assert_int_equal(err, -EAGAIN);
	assert_int_equal(t->a.writables, 0);
	peer_take(t, iss, ps, buf, have, off);
	assert_int_equal(t->a.writables, 1);
	assert_memory_equal(buf, p, off);
	free(p);
	free(buf);
	free(have);
	tapir_tcp_abort(t->a.flow);
	th_case_free(t);
}

static void test_write_reserve_rules(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tcp_repr r, s;
	uint32_t ps, iss = th_case_open(t, false, &ps);
	size_t len;
	uint8_t *w;
	int err;

	(void)state;
	/* no reservation, or more than reserved */
	assert_int_equal(tapir_tcp_write_commit(t->a.flow, 1, false), -EINVAL);
	len = 10;
	w = tapir_tcp_write_reserve(t->a.flow, &len, &err);
	assert_non_null(w);
	assert_int_equal(tapir_tcp_write_commit(t->a.flow, 11, false), -EINVAL);
	/* a tapir_tcp_write() ends the reservation */
	tapir_tcp_write(t->a.flow, "aaaa", 4);
	assert_int_equal(tapir_tcp_write_commit(t->a.flow, 4, false), -EINVAL);
	world_pump(t->w);
	assert_int_equal(th_count(t->w), 1);
	/* a reservation survives the ACK that empties the send buffer */
	len = 4;
	w = tapir_tcp_write_reserve(t->a.flow, &len, &err);
	assert_non_null(w);
	assert_int_equal(len, 4);
	r = th_seg(SPORT, PORT, ps, iss + 5, TCP_ACK, 65535);
	th_send(t->w, t->h, &r);
	memcpy(w, "bbbb", 4);
	raw_clear(t->w);
	assert_int_equal(tapir_tcp_write_commit(t->a.flow, 4, false), 4);
	world_pump(t->w);
	assert_int_equal(th_count(t->w), 1);
	th_last(t->w, &s);
	assert_int_equal(s.seq, iss + 5);
	assert_int_equal(s.payload_len, 4);
	assert_memory_equal(s.payload, "bbbb", 4);
	/* Nagle holds a small commit while data is in flight; push sends it */
	raw_clear(t->w);
	len = 2;
	w = tapir_tcp_write_reserve(t->a.flow, &len, &err);
	assert_non_null(w);
	memcpy(w, "cc", 2);
	assert_int_equal(tapir_tcp_write_commit(t->a.flow, 2, false), 2);
	world_pump(t->w);
	assert_int_equal(th_count(t->w), 0);
	len = 2;
	w = tapir_tcp_write_reserve(t->a.flow, &len, &err);
	assert_non_null(w);
	memcpy(w, "dd", 2);
	assert_int_equal(tapir_tcp_write_commit(t->a.flow, 2, true), 2);
	world_pump(t->w);
	assert_int_equal(th_count(t->w), 1);
	th_last(t->w, &s);
	assert_int_equal(s.payload_len, 4);
	assert_memory_equal(s.payload, "ccdd", 4);
	/* 0 bytes: the reservation ends, nothing is sent */
	raw_clear(t->w);
	len = 8;
	assert_non_null(tapir_tcp_write_reserve(t->a.flow, &len, &err));
	assert_int_equal(tapir_tcp_write_commit(t->a.flow, 0, false), 0);
	assert_int_equal(tapir_tcp_write_commit(t->a.flow, 1, false), -EINVAL);
	world_pump(t->w);
	assert_int_equal(th_count(t->w), 0);
	/* after shutdown(write): -EPIPE */
	len = 8;
	assert_non_null(tapir_tcp_write_reserve(t->a.flow, &len, &err));
	tapir_tcp_shutdown(t->a.flow, false, true);
	assert_int_equal(tapir_tcp_write_commit(t->a.flow, 8, false), -EPIPE);
	len = 8;
	assert_null(tapir_tcp_write_reserve(t->a.flow, &len, &err));
	assert_int_equal(len, 0);
	assert_int_equal(err, -EPIPE);
	/* bad arguments */
	len = 8;
	assert_null(tapir_tcp_write_reserve(NULL, &len, &err));
	assert_int_equal(err, -EINVAL);
	assert_null(tapir_tcp_write_reserve(t->a.flow, NULL, &err));
	assert_int_equal(err, -EINVAL);
	assert_int_equal(tapir_tcp_write_commit(NULL, 0, false), -EINVAL);
	tapir_tcp_abort(t->a.flow);
	th_case_free(t);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wire_fixtures),
		cmocka_unit_test(test_passive_open_close),
		cmocka_unit_test(test_active_open),
		cmocka_unit_test(test_ephemeral_ports),
		cmocka_unit_test(test_connect_unreachable),
		cmocka_unit_test(test_connect_refused),
		cmocka_unit_test(test_simultaneous_open),
		cmocka_unit_test(test_simultaneous_close),
		cmocka_unit_test(test_rst_rules),
		cmocka_unit_test(test_malformed_options),
		cmocka_unit_test(test_mss_zero),
		cmocka_unit_test(test_wscale),
		cmocka_unit_test(test_timestamps_paws),
		cmocka_unit_test(test_ooo_sack_out),
		cmocka_unit_test(test_ooo_bound),
		cmocka_unit_test(test_delayed_ack),
		cmocka_unit_test(test_read_pause_window),
		cmocka_unit_test(test_read_resume_reentrant),
		cmocka_unit_test(test_sws_receiver),
		cmocka_unit_test(test_sws_sender),
		cmocka_unit_test(test_syn_retransmitted),
		cmocka_unit_test(test_nagle),
		cmocka_unit_test(test_nodelay_opt),
		cmocka_unit_test(test_writable_and_sndbuf),
		cmocka_unit_test(test_write_reserve_commit),
		cmocka_unit_test(test_write_reserve_wrap_full),
		cmocka_unit_test(test_write_reserve_rules),
		cmocka_unit_test(test_rto_karn_backoff),
		cmocka_unit_test(test_retries_abort),
		cmocka_unit_test(test_syn_retries),
		cmocka_unit_test(test_fast_retransmit_newreno),
		cmocka_unit_test(test_sack_recovery),
		cmocka_unit_test(test_tail_loss_probe),
		cmocka_unit_test(test_tail_loss_probe_resends_last),
		cmocka_unit_test(test_zero_window_probe),
		cmocka_unit_test(test_zero_window_inflight),
		cmocka_unit_test(test_zero_window_unanswered),
		cmocka_unit_test(test_keepalive),
		cmocka_unit_test(test_keepalive_answered),
		cmocka_unit_test(test_rfc5961),
		cmocka_unit_test(test_syn_in_syn_received_and_oow_acks),
		cmocka_unit_test(test_closed_flow_held),
		cmocka_unit_test(test_isn),
		cmocka_unit_test(test_time_wait_reuse),
		cmocka_unit_test(test_connect_reuses_time_wait),
		cmocka_unit_test(test_fin_wait2_timeout),
		cmocka_unit_test(test_syn_flood_cookies),
		cmocka_unit_test(test_conn_limit),
		cmocka_unit_test(test_backlog_no_cookies),
		cmocka_unit_test(test_pmtu),
		cmocka_unit_test(test_pmtu_shared),
		cmocka_unit_test(test_close_in_callbacks),
		cmocka_unit_test(test_two_stacks_echo),
		cmocka_unit_test(test_cubic),
		cmocka_unit_test(test_cubic_curve),
	};

	struct CMUnitTest sel[sizeof(tests) / sizeof(tests[0])];
	size_t n = 0;

	/* optional argument: run only the tests whose name contains it */
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		if (argc < 2 || strstr(tests[i].name, argv[1]))
			sel[n++] = tests[i];
	return _cmocka_run_group_tests("tcp", sel, n, NULL, NULL);
}

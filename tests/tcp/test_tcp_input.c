/*
 * test_tcp_input.c - TCP hardening tests (issue 11): the order of the input
 *                    checks, TIME_WAIT, the send window, cwnd, FIN and SACK
 *                    corner cases, ephemeral ports; crafted segments from the
 *                    raw port on a fake clock, and a few white-box setups
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
#include "tcp/tcp_conn.h"

#define CTR(h, c) tapir_stack_counter((h)->st, TAPIR_CTR_##c)
#define PORT TH_PORT
#define SPORT TH_SPORT

static struct tcp_repr segs[RAW_MAX_FRAMES];

static int state_of(struct th_case *t)
{
	struct tapir_tcp_flow_info fi;

	tapir_tcp_flow_info(t->a.flow, &fi);
	return fi.state;
}

/* ---- item 3: the order of the checks (RFC 9293 3.10.7.4, RFC 5961) ---- */

/* A RST carrying N bytes that starts N bytes behind RCV.NXT used to be
 * trimmed to RCV.NXT first and then accepted: RFC 5961 3.2 wants SEG.SEQ ==
 * RCV.NXT exactly, else a challenge ACK. */
static void test_rst_with_data_behind_rcv_nxt(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tcp_repr r, s;
	uint32_t ps, iss = th_case_open(t, false, &ps);

	(void)state;
	r = th_data_seg(ps, iss + 1, "0123456789", 10);
	th_send(t->w, t->h, &r);
	assert_int_equal(t->a.len, 10);
	ps += 10;
	raw_clear(t->w);
	/* 10 bytes from ps - 5: ends in the window, starts behind it */
	r = th_data_seg(ps - 5, iss + 1, "abcdefghij", 10);
	r.flags = TCP_RST | TCP_ACK;
	th_send(t->w, t->h, &r);
	assert_int_equal(t->a.closes, 0);
	assert_int_equal(state_of(t), TAPIR_TCP_STATE_ESTABLISHED);
	assert_true(th_last(t->w, &s));
	assert_int_equal(s.flags, TCP_ACK);	/* the challenge ACK */
	assert_int_equal(s.ack, ps);
	assert_int_equal(CTR(t->h, TCP_CHALLENGE_ACKS), 1);
	assert_int_equal(t->a.len, 10);		/* nothing delivered */
	/* the exact RST still resets */
	r = th_seg(SPORT, PORT, ps, 0, TCP_RST, 0);
	th_send(t->w, t->h, &r);
	assert_int_equal(t->a.closes, 1);
	assert_int_equal(t->a.close_err, -ECONNRESET);
	tapir_tcp_close(t->a.flow);
	th_case_free(t);
}

/* A SYN|ACK (a SYN in a synchronized state) with data just behind RCV.NXT
 * used to lose its SYN to the left trim and have its data delivered; RFC
 * 5961 4.2: a challenge ACK and nothing of it used. */
static void test_synack_with_data_behind_rcv_nxt(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tcp_repr r, s;
	uint32_t ps, iss = th_case_open(t, false, &ps);

	(void)state;
	r = th_data_seg(ps - 1, iss + 1, "XYZxyz", 6);	/* SYN at ps - 1, data from ps */
	r.flags = TCP_SYN | TCP_ACK;
	th_send(t->w, t->h, &r);
	assert_int_equal(t->a.len, 0);
	assert_int_equal(state_of(t), TAPIR_TCP_STATE_ESTABLISHED);
	assert_true(th_last(t->w, &s));
	assert_int_equal(s.flags, TCP_ACK);
	assert_int_equal(s.ack, ps);
	assert_int_equal(CTR(t->h, TCP_CHALLENGE_ACKS), 1);
	/* the real data at ps is still taken */
	r = th_data_seg(ps, iss + 1, "ok", 2);
	th_send(t->w, t->h, &r);
	assert_int_equal(t->a.len, 2);
	assert_memory_equal(t->a.data, "ok", 2);
	tapir_tcp_abort(t->a.flow);
	th_case_free(t);
}

/* One blind segment at RCV.NXT with a huge TSval and an unacceptable ACK
 * used to set TS.Recent before the ACK check, so PAWS then dropped every
 * later segment of the peer (RFC 7323 4.3: only acceptable segments). */
static void test_huge_tsval_blind_segment(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tcp_repr r;
	uint32_t ps, iss = th_case_open(t, true, &ps);

	(void)state;
	/* ACK far beyond what we sent: the segment is not acceptable */
	r = th_data_seg(ps, iss + 1 + 1000000, "evil", 4);
	r.has_ts = true;
	r.ts_val = 0x7fff0000u;
	th_send(t->w, t->h, &r);
	assert_int_equal(t->a.len, 0);
	assert_int_equal(CTR(t->h, TCP_DROP_BAD_ACK), 1);
	/* ACK too old (more than MAX.SND.WND below SND.UNA): the same */
	r = th_data_seg(ps, iss + 1 - 10000000, "evil", 4);
	r.has_ts = true;
	r.ts_val = 0x7fff0000u;
	th_send(t->w, t->h, &r);
	assert_int_equal(t->a.len, 0);
	/* an in-window segment beyond RCV.NXT (out of order, acceptable) does
	 * not move TS.Recent either: SEG.SEQ > Last.ACK.sent */
	r = th_data_seg(ps + 100, iss + 1, "later", 5);
	r.has_ts = true;
	r.ts_val = 0x7fff0000u;
	th_send(t->w, t->h, &r);
	/* the peer's real segment passes PAWS */
	r = th_data_seg(ps, iss + 1, "hello", 5);
	r.has_ts = true;
	r.ts_val = 1002;
	th_send(t->w, t->h, &r);
	assert_int_equal(t->a.len, 5);
	assert_memory_equal(t->a.data, "hello", 5);
	assert_int_equal(CTR(t->h, TCP_DROP_PAWS), 0);
	tapir_tcp_abort(t->a.flow);
	th_case_free(t);
}

/* A pure ACK at RCV.NXT whose ACK is older than SND.UNA must not move the
 * send window (RFC 9293 3.10.7.4: only SND.UNA =< SEG.ACK); before, a
 * forged old ACK with window 0 stalled the flow. */
static void test_window_not_from_old_ack(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tcp_repr r;
	struct tapir_tcp_flow_info fi;
	uint32_t ps, iss = th_case_open(t, false, &ps);

	(void)state;
	tapir_tcp_write(t->a.flow, "0123456789", 10);
	world_pump(t->w);
	r = th_seg(SPORT, PORT, ps, iss + 11, TCP_ACK, 30000);
	th_send(t->w, t->h, &r);
	tapir_tcp_flow_info(t->a.flow, &fi);
	assert_int_equal(fi.snd_wnd, 30000);
	r = th_data_seg(ps, iss + 11, "x", 1);
	r.window = 30000;
	th_send(t->w, t->h, &r);
	/* newer by SEG.SEQ (SND.WL1 < SEG.SEQ), but its ACK is below SND.UNA */
	r = th_data_seg(ps + 1, iss + 5, "y", 1);
	r.window = 0;
	th_send(t->w, t->h, &r);
	tapir_tcp_flow_info(t->a.flow, &fi);
	assert_int_equal(fi.snd_wnd, 30000);
	assert_int_equal(t->a.len, 2);	/* the data itself is fine (RFC 9293: ignore the old ACK) */
	tapir_tcp_abort(t->a.flow);
	th_case_free(t);
}

/* ---- TIME_WAIT ---- */

/* Only the retransmitted FIN (at RCV.NXT - 1) restarts 2 MSL; a FIN with a
 * wrong sequence number used to restart it too.  RST is ignored (RFC 1337). */
static void test_time_wait_fin_sequence(void **state)
{
	struct tapir_stack_config cfg;
	struct th_case *t;
	struct tcp_repr r, s;
	uint32_t ps, iss;
	uint64_t msl2;

	(void)state;
	tapir_stack_config_defaults(&cfg);
	cfg.tcp.msl_ns = 10 * TAPIR_STACK_NS_PER_SEC;
	msl2 = 2 * cfg.tcp.msl_ns;
	t = th_case_new(&cfg);
	iss = th_case_open(t, false, &ps);
	tapir_tcp_close(t->a.flow);
	world_pump(t->w);
	r = th_seg(SPORT, PORT, ps, iss + 2, TCP_ACK | TCP_FIN, 65535);
	th_send(t->w, t->h, &r);
	assert_int_equal(tapir_tcp_flow_count(t->h->st), 1);
	/* 3/4 of the way: FINs with wrong sequence numbers, a RST, a data segment */
	world_advance(t->w, msl2 * 3 / 4);
	raw_clear(t->w);
	r = th_seg(SPORT, PORT, ps + 1000, iss + 2, TCP_ACK | TCP_FIN, 65535);
	th_send(t->w, t->h, &r);
	assert_true(th_last(t->w, &s));	/* answered with an ACK ... */
	assert_int_equal(s.flags, TCP_ACK);
	assert_int_equal(s.ack, ps + 1);
	r = th_seg(SPORT, PORT, ps - 1000, iss + 2, TCP_ACK | TCP_FIN, 65535);
	th_send(t->w, t->h, &r);
	r = th_seg(SPORT, PORT, ps + 1, 0, TCP_RST, 0);
	th_send(t->w, t->h, &r);
	assert_int_equal(tapir_tcp_flow_count(t->h->st), 1);
	/* ... but the timer was not restarted */
	world_advance(t->w, msl2 / 4 + MSEC);
	assert_int_equal(tapir_tcp_flow_count(t->h->st), 0);
	th_case_free(t);

	/* the retransmitted FIN restarts it */
	t = th_case_new(&cfg);
	iss = th_case_open(t, false, &ps);
	tapir_tcp_close(t->a.flow);
	world_pump(t->w);
	r = th_seg(SPORT, PORT, ps, iss + 2, TCP_ACK | TCP_FIN, 65535);
	th_send(t->w, t->h, &r);
	world_advance(t->w, msl2 * 3 / 4);
	raw_clear(t->w);
	th_send(t->w, t->h, &r);
	assert_true(th_last(t->w, &s));
	assert_int_equal(s.ack, ps + 1);
	world_advance(t->w, msl2 / 4 + MSEC);
	assert_int_equal(tapir_tcp_flow_count(t->h->st), 1);
	world_advance(t->w, msl2);
	assert_int_equal(tapir_tcp_flow_count(t->h->st), 0);
	th_case_free(t);
}

/* RFC 6191: with timestamps a SYN with a newer TSval reuses the tuple even
 * below RCV.NXT; an older TSval does not. */
static void test_time_wait_reuse_by_timestamp(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tcp_repr r, s;
	uint32_t ps, iss = th_case_open(t, true, &ps);

	(void)state;
	tapir_tcp_close(t->a.flow);
	world_pump(t->w);
	r = th_seg(SPORT, PORT, ps, iss + 2, TCP_ACK | TCP_FIN, 65535);
	r.has_ts = true;
	r.ts_val = 1010;
	th_send(t->w, t->h, &r);
	assert_int_equal(tapir_tcp_flow_count(t->h->st), 1);
	raw_clear(t->w);
	r = th_seg(SPORT, PORT, ps - 5000, 0, TCP_SYN, 65535);
	r.has_ts = true;
	r.ts_val = 1005;	/* older: an old duplicate */
	th_send(t->w, t->h, &r);
	assert_int_equal(CTR(t->h, TCP_TIME_WAIT_REUSED), 0);
	r.ts_val = 2000;	/* newer */
	th_send(t->w, t->h, &r);
	assert_int_equal(CTR(t->h, TCP_TIME_WAIT_REUSED), 1);
	assert_true(th_last(t->w, &s));
	assert_int_equal(s.flags, TCP_SYN | TCP_ACK);
	assert_int_equal(s.ack, ps - 5000 + 1);
	th_case_free(t);
}

/* ---- item 5: cwnd ---- */

/* An application-limited flow (one small write per round trip) does not
 * grow cwnd (RFC 7661); it used to grow by up to 2 MSS per ACK. */
static void test_cwnd_app_limited(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tcp_repr r;
	struct tapir_tcp_flow_info fi;
	uint32_t ps, iss = th_case_open(t, false, &ps), una = iss + 1, iw;

	(void)state;
	tapir_tcp_flow_info(t->a.flow, &fi);
	iw = fi.cwnd;
	for (int i = 0; i < 200; i++) {
		tapir_tcp_write(t->a.flow, "0123456789", 10);
		world_pump(t->w);
		una += 10;
		r = th_seg(SPORT, PORT, ps, una, TCP_ACK, 65535);
		th_send(t->w, t->h, &r);
	}
	tapir_tcp_flow_info(t->a.flow, &fi);
	assert_int_equal(fi.snd_queue, 0);
	assert_int_equal(fi.cwnd, iw);
	tapir_tcp_abort(t->a.flow);
	th_case_free(t);
}

/* cwnd near 4 GiB in slow start used to wrap to less than one MSS; it is
 * clamped at TCP_CWND_MAX (white box: cwnd and flight set by hand). */
static void test_cwnd_clamp(void **state)
{
	for (int algo = 0; algo < 2; algo++) {
		struct th_case *t = th_case_new(NULL);
		struct tapir_tcp_flow *f;
		uint32_t ps, iss = th_case_open(t, false, &ps);

		(void)state;
		f = t->a.flow;
		f->o.cc = algo ? TAPIR_TCP_CC_CUBIC : TAPIR_TCP_CC_NEWRENO;
		memset(&f->ccs, 0, sizeof(f->ccs));
		tapir_tcp_write(f, "0123456789", 10);
		world_pump(t->w);
		/* pretend a huge window is full and almost at the limit */
		f->ssthresh = UINT32_MAX;
		f->cwnd = UINT32_MAX - 100;
		f->snd_max = f->snd_una + 0x7fffffffu;	/* flight: cwnd-limited */
		tcp_cc_on_ack(f, 2 * f->mss);
		assert_int_equal(f->cwnd, TCP_CWND_MAX);	/* no wrap */
		/* congestion avoidance near the limit */
		f->ssthresh = f->cwnd = TCP_CWND_MAX - 10;
		for (int i = 0; i < 10000; i++)
			tcp_cc_on_ack(f, 2 * f->mss);
		assert_true(f->cwnd >= TCP_CWND_MAX - 10 && f->cwnd <= TCP_CWND_MAX);
		f->snd_max = f->snd_nxt;
		f->cwnd = f->mss;
		f->ssthresh = 10 * f->mss;
		(void)iss;
		tapir_tcp_abort(f);
		th_case_free(t);
	}
}

/* ---- item 6: FIN beside SACK blocks with a small MSS ---- */

/* Peer MSS 88, SACK without timestamps, four out-of-order runs held: our
 * data segments carry up to 4 SACK blocks (36 bytes).  A write of 80 bytes
 * and a shutdown used to clear the FIN without shortening the data, count the
 * FIN as sent, and send it only after an RTO. */
static void test_fin_beside_sack_small_mss(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tcp_repr r, s;
	uint32_t ps = 1001, iss, data = 0;
	uint8_t buf[80];
	bool fin = false;
	size_t n;

	(void)state;
	app_listen(&t->a, t->h, PORT, NULL);
	r = th_seg(SPORT, PORT, 1000, 0, TCP_SYN, 65535);
	r.has_mss = true;
	r.mss = 88;
	r.sack_perm = true;
	th_send(t->w, t->h, &r);
	assert_true(th_last(t->w, &s));
	iss = s.seq;
	r = th_seg(SPORT, PORT, ps, iss + 1, TCP_ACK, 65535);
	th_send(t->w, t->h, &r);
	assert_non_null(t->a.flow);
	for (uint32_t i = 0; i < 4; i++) {
		r = th_data_seg(ps + 10 + 20 * i, iss + 1, "abcd", 4);
		th_send(t->w, t->h, &r);
	}
	/* a first small segment stays unacknowledged, so Nagle holds the next
	 * write until the FIN comes: then data and FIN go out together */
	tapir_tcp_write(t->a.flow, "0123456789", 10);
	world_pump(t->w);
	raw_clear(t->w);
	memset(buf, 'q', sizeof(buf));
	tapir_tcp_write(t->a.flow, buf, sizeof(buf));
	tapir_tcp_shutdown(t->a.flow, false, true);	/* (a close would reset: unread data) */
	world_pump(t->w);
	n = th_segs(t->w, segs, RAW_MAX_FRAMES);
	for (size_t i = 0; i < n; i++) {
		assert_true(segs[i].payload_len + 4u + 8u * segs[i].nsack <= 88u + 4u);
		data += (uint32_t)segs[i].payload_len;
		if (segs[i].flags & TCP_FIN) {
			fin = true;
			assert_int_equal(segs[i].seq + segs[i].payload_len, iss + 1 + 90);
		}
	}
	assert_int_equal(data, 80);
	assert_true(fin);	/* at once, not after an RTO */
	r = th_seg(SPORT, PORT, ps, iss + 92, TCP_ACK | TCP_RST, 0);
	th_send(t->w, t->h, &r);
	th_case_free(t);
}

/* ---- suspected items ---- */

/* SACK recovery: a FIN sent alone and lost is retransmitted once everything
 * before it is acknowledged (it used to wait for the RTO, nothing can be
 * SACKed above a FIN). */
static void test_fin_hole_sack_recovery(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tcp_repr r;
	uint32_t ps, iss = th_case_open(t, true, &ps), mss = 1448, base = iss + 1;
	uint8_t *p = th_pattern(4 * 1448, 3);
	bool fin = false;
	size_t n;

	(void)state;
	tapir_tcp_write(t->a.flow, p, 4 * mss);
	world_pump(t->w);
	tapir_tcp_close(t->a.flow);
	world_pump(t->w);
	n = th_segs(t->w, segs, RAW_MAX_FRAMES);
	assert_true(segs[n - 1].flags & TCP_FIN);
	assert_int_equal(segs[n - 1].payload_len, 0);
	raw_clear(t->w);
	/* segment 0 lost, 1-3 SACKed, the FIN lost */
	for (int i = 0; i < 3; i++) {
		r = th_seg(SPORT, PORT, ps, base, TCP_ACK, 65535);
		r.has_ts = true;
		r.ts_val = 5000;
		r.nsack = 1;
		r.sack[0] = (struct tcp_sack_block){ base + mss, base + (2 + (uint32_t)i) * mss };
		th_send(t->w, t->h, &r);
	}
	assert_true(th_last(t->w, &segs[0]));
	assert_int_equal(segs[0].seq, base);	/* fast retransmit of segment 0 */
	raw_clear(t->w);
	/* it arrives: everything but the FIN is acknowledged */
	r = th_seg(SPORT, PORT, ps, base + 4 * mss, TCP_ACK, 65535);
	r.has_ts = true;
	r.ts_val = 5001;
	th_send(t->w, t->h, &r);
	n = th_segs(t->w, segs, RAW_MAX_FRAMES);
	for (size_t i = 0; i < n; i++)
		if ((segs[i].flags & TCP_FIN) && segs[i].seq == base + 4 * mss)
			fin = true;
	assert_true(fin);
	free(p);
	r = th_seg(SPORT, PORT, ps, base + 4 * mss + 1, TCP_ACK | TCP_RST, 0);
	th_send(t->w, t->h, &r);
	th_case_free(t);
}

/* The same without SACK: NewReno's partial ACK resends the lone FIN. */
static void test_fin_hole_newreno(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tcp_repr r;
	uint32_t ps, iss = th_case_open(t, false, &ps), mss = 536, base = iss + 1;
	uint8_t *p = th_pattern(4 * 536, 4);
	bool fin = false;
	size_t n;

	(void)state;
	tapir_tcp_write(t->a.flow, p, 4 * mss);
	world_pump(t->w);
	tapir_tcp_close(t->a.flow);
	world_pump(t->w);
	raw_clear(t->w);
	for (int i = 0; i < 3; i++) {
		r = th_seg(SPORT, PORT, ps, base, TCP_ACK, 65535);
		th_send(t->w, t->h, &r);
	}
	assert_true(th_last(t->w, &segs[0]));
	assert_int_equal(segs[0].seq, base);
	raw_clear(t->w);
	r = th_seg(SPORT, PORT, ps, base + 4 * mss, TCP_ACK, 65535);
	th_send(t->w, t->h, &r);
	n = th_segs(t->w, segs, RAW_MAX_FRAMES);
	for (size_t i = 0; i < n; i++)
		if ((segs[i].flags & TCP_FIN) && segs[i].seq == base + 4 * mss)
			fin = true;
	assert_true(fin);
	free(p);
	r = th_seg(SPORT, PORT, ps, base + 4 * mss + 1, TCP_ACK | TCP_RST, 0);
	th_send(t->w, t->h, &r);
	th_case_free(t);
}

/* A retransmission record ending at sequence 0 used to move rexmit_nxt to
 * 1, so byte 0 was skipped in the recovery (white box: the flow's sequence
 * space is shifted so that a segment ends at 0, and the recovery state is
 * set by hand: segment 0 to resend, segment 1 retransmitted and live). */
static void test_rtx_record_ending_at_zero(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tapir_tcp_flow *f;
	uint32_t ps, mss = 1448, x = 0u - 1448u * 2;
	uint8_t *p = th_pattern(6 * 1448, 5);
	bool zero = false;
	size_t n;

	(void)state;
	(void)th_case_open(t, true, &ps);
	f = t->a.flow;
	/* nothing is in flight: move the send sequence space to x */
	f->iss = x - 1;
	f->snd_una = f->snd_nxt = f->snd_max = f->sbuf_seq = f->push_seq = x;
	f->recover = f->high_sack = f->rexmit_nxt = f->snd_wl2 = x;
	f->cwnd = 10 * mss;
	tapir_tcp_write(f, p, 6 * mss);
	world_pump(t->w);
	assert_int_equal(f->snd_max, x + 6 * mss);
	raw_clear(t->w);
	/* recovery: [x + 4 mss, x + 6 mss) SACKed; [x + mss, 0) retransmitted */
	tcp_sb_add(f, x + 4 * mss, x + 6 * mss);
	f->in_recovery = true;
	f->recover = f->snd_max;
	f->cwnd = 10 * mss;
	assert_non_null(tcp_loss_get(f));
	f->loss->rtx[0] = (struct tcp_rtx_rec){ x + mss, 0, f->snd_max, 0 };
	f->loss->nrtx = 1;
	f->rexmit_nxt = x;
	tcp_output(f);
	world_pump(t->w);
	n = th_segs(t->w, segs, RAW_MAX_FRAMES);
	assert_true(n >= 2);
	assert_int_equal(segs[0].seq, x);
	for (size_t i = 0; i < n; i++) {
		assert_true(segs[i].seq != 1);
		if (segs[i].seq == 0)
			zero = true;
	}
	assert_true(zero);
	free(p);
	tapir_tcp_abort(f);
	th_case_free(t);
}

/* tapir_tcp_connect never picks an ephemeral port a listener holds. */
static void test_ephemeral_skips_listeners(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tcp_repr s;
	uint16_t free_port = TCP_EPHEMERAL_LO + 1234;

	(void)state;
	for (uint32_t i = 0; i < TCP_EPHEMERAL_N; i++) {
		uint16_t port = (uint16_t)(TCP_EPHEMERAL_LO + i);

		if (port != free_port)
			app_listen(&t->a, t->h, port, NULL);
	}
	for (int k = 0; k < 3; k++) {
		raw_clear(t->w);
		assert_int_equal(tapir_tcp_connect(t->h->st, A4(PEER_IP), 8000 + k, NULL, app_connect, &t->a), 0);
		world_pump(t->w);
		assert_true(th_last(t->w, &s));
		assert_int_equal(s.flags, TCP_SYN);
		assert_int_equal(s.src_port, free_port);
	}
	th_case_free(t);
}

/* The invariants hold through a plain exchange (and name what breaks). */
static void test_check_invariants(void **state)
{
	char why[256];
	struct th_case *t = th_case_new(NULL);
	struct tcp_repr r;
	uint32_t ps, iss = th_case_open(t, true, &ps);

	(void)state;
	assert_null(tapir_tcp_check_invariants(t->h->st, why, sizeof(why)));
	tapir_tcp_write(t->a.flow, "abc", 3);
	world_pump(t->w);
	assert_null(tapir_tcp_check_invariants(t->h->st, why, sizeof(why)));
	t->a.flow->cwnd = 1;
	assert_non_null(tapir_tcp_check_invariants(t->h->st, why, sizeof(why)));
	assert_non_null(strstr(tapir_tcp_check_invariants(t->h->st, why, sizeof(why)), "cwnd"));
	t->a.flow->cwnd = 10 * t->a.flow->mss;
	t->a.flow->t_rtx = 0;
	assert_non_null(strstr(tapir_tcp_check_invariants(t->h->st, why, sizeof(why)),
			       "retransmission timer"));
	tcp_arm_rtx(t->a.flow);
	r = th_seg(SPORT, PORT, ps, iss + 4, TCP_ACK, 65535);
	r.has_ts = true;
	r.ts_val = 1002;
	th_send(t->w, t->h, &r);
	assert_null(tapir_tcp_check_invariants(t->h->st, why, sizeof(why)));
	tapir_tcp_abort(t->a.flow);
	th_case_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rst_with_data_behind_rcv_nxt),
		cmocka_unit_test(test_synack_with_data_behind_rcv_nxt),
		cmocka_unit_test(test_huge_tsval_blind_segment),
		cmocka_unit_test(test_window_not_from_old_ack),
		cmocka_unit_test(test_time_wait_fin_sequence),
		cmocka_unit_test(test_time_wait_reuse_by_timestamp),
		cmocka_unit_test(test_cwnd_app_limited),
		cmocka_unit_test(test_cwnd_clamp),
		cmocka_unit_test(test_fin_beside_sack_small_mss),
		cmocka_unit_test(test_fin_hole_sack_recovery),
		cmocka_unit_test(test_fin_hole_newreno),
		cmocka_unit_test(test_rtx_record_ending_at_zero),
		cmocka_unit_test(test_ephemeral_skips_listeners),
		cmocka_unit_test(test_check_invariants),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * output.c - TCP output: building and sending segments (RST, SYN, ACK, data),
 * the receive window we offer, SACK blocks, TSO super-segments
 */
#include <errno.h>
#include <stdlib.h>

#include "tcp/tcp_conn.h"
#include "wire/checksum.h"
#include "wire/ipv6.h"

/* ---- output ---- */

struct seg_fill {
	struct tcp_repr r;
	uint64_t pseudo;                  /* pseudo-header sum, length 0 */
};

static size_t seg_fill_fn(uint8_t *buf, size_t size, void *ctx)
{
	struct seg_fill *c = ctx;

	(void)size;
	return tcp_repr_emit_sum(&c->r, buf, c->pseudo);
}

/* Send @r from @src to @dst over their family; with @gso_size nonzero as a
 * TSO super-segment (ipv4_write_opts). */
static int send_repr_gso(struct tapir_stack *st, const struct tcp_ip *src,
			 const struct tcp_ip *dst, struct tcp_repr *r, uint32_t gso_size)
{
	struct seg_fill c;
	struct tapir_stack_iov iov[2];
	int n = 0, rc;

	c.r = *r;
	c.r.csum_partial = gso_size != 0;
	if (r->payload_len)
		iov[n++] = (struct tapir_stack_iov){ r->payload, r->payload_len };
	if (r->payload2_len)
		iov[n++] = (struct tapir_stack_iov){ r->payload2, r->payload2_len };
	if (tcp_ip_is4(dst)) {
		uint32_t s4 = tcp_ip_v4(src);
		struct tapir_ipv4_write_opts o = { .fragment = false,
						   .gso_size = (uint16_t)gso_size, .src = s4 };

		c.pseudo = inet_csum_pseudo(s4 ? s4 : st->cfg.addr, tcp_ip_v4(dst),
					    TAPIR_IP_PROTO_TCP, 0);
		rc = tapir_ipv4_write(st, &o, tcp_ip_v4(dst), TAPIR_IP_PROTO_TCP,
				      tcp_repr_header_len(r), seg_fill_fn, &c, iov, n);
	} else {
		struct tapir_ipv6_write_opts o = { .fragment = false, .src = src->b,
						   .gso_size = (uint16_t)gso_size };

		c.pseudo = ipv6_csum_pseudo(src->b, dst->b, 0, TAPIR_IP_PROTO_TCP);
		rc = tapir_ipv6_write(st, &o, dst->b, TAPIR_IP_PROTO_TCP, tcp_repr_header_len(r),
				      seg_fill_fn, &c, iov, n);
	}
	if (rc == 0)
		CTR_INC(st, TCP_TX);
	else
		CTR_INC(st, TCP_TX_ERR);
	return rc;
}

/* @src: our address on the segment (a flow's laddr; IPv4 0.0.0.0: the stack's) */
int tcp_send_repr(struct tapir_stack *st, const struct tcp_ip *src, const struct tcp_ip *dst,
		  struct tcp_repr *r)
{
	return send_repr_gso(st, src, dst, r, 0);
}

/* A RST (or RST+ACK) in answer to @seg, which arrived from @raddr for @laddr; no flow. */
void tcp_send_reset_for(struct tapir_stack *st, const struct tcp_ip *laddr,
			const struct tcp_ip *raddr, const struct tcp_repr *seg)
{
	struct tcp_repr r;

	if (seg->flags & TCP_RST)
		return;
	tcp_repr_init(&r);
	r.src_port = seg->dst_port;
	r.dst_port = seg->src_port;
	if (seg->flags & TCP_ACK) {
		r.seq = seg->ack;
		r.flags = TCP_RST;
	} else {
		r.seq = 0;
		r.ack = seg->seq + (uint32_t)seg->payload_len + !!(seg->flags & TCP_SYN) +
			!!(seg->flags & TCP_FIN);
		r.flags = TCP_RST | TCP_ACK;
	}
	if (tcp_send_repr(st, laddr, raddr, &r) == 0)
		CTR_INC(st, TCP_RESETS_SENT);
}

/* The window we offer, with receiver SWS avoidance; updates rcv_adv. */
uint16_t tcp_rcv_window(struct tapir_tcp_flow *f)
{
	size_t space = tcp_mem_rcv_space(f, f->o.rcvbuf > f->rlen ? f->o.rcvbuf - f->rlen : 0);
	uint32_t right = f->rcv_nxt + (uint32_t)space;
	uint32_t step = min32((uint32_t)(f->o.rcvbuf / 2), f->rcv_mss ? f->rcv_mss : f->mss);
	uint32_t wnd, field;
	uint8_t ws = f->ws_ok ? f->rcv_ws : 0;

	if (seq_lt(f->rcv_adv, f->rcv_nxt))
		f->rcv_adv = f->rcv_nxt;
	if (seq_ge(right, f->rcv_adv + step) || (space == f->o.rcvbuf && seq_gt(right, f->rcv_adv)))
		f->rcv_adv = right;
	wnd = f->rcv_adv - f->rcv_nxt;
	field = (wnd + (1u << ws) - 1) >> ws;	/* round up: never move the edge back */
	if (field > 65535) {
		/* the field cannot say more: the edge is what it says (an edge
		 * advertised before is never beyond it) */
		field = 65535;
		f->rcv_adv = f->rcv_nxt + (field << ws);
	}
	if (seq_gt(f->rcv_nxt + (field << ws), f->rcv_adv))
		f->rcv_adv = f->rcv_nxt + (field << ws);
	return (uint16_t)field;
}

/* SACK blocks to report: the run holding the latest arrival first. */
static uint8_t build_sack(const struct tapir_tcp_flow *f, struct tcp_sack_block *out, size_t max)
{
	struct tcp_sack_block runs[TCP_MAX_SACK + 1];
	size_t n = 0, first = SIZE_MAX;
	const struct tcp_ooo *o = f->ooo.head;
	uint8_t k = 0;

	while (o) {
		uint32_t l = o->seq, r = o->seq + o->len;
		bool has_last = seq_ge(f->ooo.last_seq, l) && seq_lt(f->ooo.last_seq, r);

		while (o->next && o->next->seq == r) {
			o = o->next;
			r += o->len;
			if (seq_ge(f->ooo.last_seq, o->seq) && seq_lt(f->ooo.last_seq, r))
				has_last = true;
		}
		o = o->next;
		if (has_last && first == SIZE_MAX) {
			first = n < TCP_MAX_SACK + 1 ? n : TCP_MAX_SACK;
			runs[first] = (struct tcp_sack_block){ l, r };
			if (n < TCP_MAX_SACK + 1)
				n++;
		} else if (n < TCP_MAX_SACK + 1) {
			runs[n++] = (struct tcp_sack_block){ l, r };
		}
	}
	if (first != SIZE_MAX)
		out[k++] = runs[first];
	for (size_t i = 0; i < n && k < max; i++)
		if (i != first)
			out[k++] = runs[i];
	return k;
}

void tcp_fill_common(struct tapir_tcp_flow *f, struct tcp_repr *r, uint32_t seq, uint8_t flags)
{
	tcp_repr_init(r);
	r->src_port = f->lport;
	r->dst_port = f->rport;
	r->seq = seq;
	r->flags = flags;
	if (f->state != TAPIR_TCP_STATE_SYN_SENT || (flags & TCP_ACK)) {
		r->flags |= TCP_ACK;
		r->ack = f->rcv_nxt;
	}
	if (flags & TCP_SYN) {
		/* never scaled in a SYN */
		r->window = (uint16_t)min32((uint32_t)f->o.rcvbuf, 65535);
		if (f->state != TAPIR_TCP_STATE_SYN_SENT && seq_lt(f->rcv_adv, f->rcv_nxt + r->window))
			f->rcv_adv = f->rcv_nxt + r->window;
	} else
		r->window = tcp_rcv_window(f);
	if (f->ts_ok) {
		r->has_ts = true;
		r->ts_val = ts_now(f);
		r->ts_ecr = f->ts_recent;
	}
	if (f->sack_ok && f->ooo.head && !(flags & TCP_SYN))
		r->nsack = build_sack(f, r->sack, TCP_MAX_SACK);
}

/* Note that an ACK went out. */
void tcp_ack_sent(struct tapir_tcp_flow *f, const struct tcp_repr *r)
{
	if (r->flags & TCP_ACK) {
		f->last_ack_sent = r->ack;
		f->t_delack = 0;
		f->ack_now = false;
	}
	f->segs_out++;
}

void tcp_send_ack(struct tapir_tcp_flow *f)
{
	struct tcp_repr r;

	tcp_fill_common(f, &r, f->snd_nxt, TCP_ACK);
	if (tcp_send_repr(f->st, &f->laddr, &f->raddr, &r) == 0)
		tcp_ack_sent(f, &r);
}

/* RFC 5961 challenge ACK, at most challenge_ack_limit a second per flow. */
void tcp_challenge_ack(struct tapir_tcp_flow *f)
{
	struct tapir_stack *st = f->st;

	if (tcp_ms32(st) - f->chal_start >= SEC / MS) {
		f->chal_start = tcp_ms32(st);
		f->chal_count = 0;
	}
	if (f->chal_count >= min32(st->cfg.tcp.challenge_ack_limit, UINT16_MAX)) {
		CTR_INC(st, TCP_CHALLENGE_ACKS_LIMITED);
		return;
	}
	f->chal_count++;
	CTR_INC(st, TCP_CHALLENGE_ACKS);
	tcp_send_ack(f);
}

/*
 * The ACK that RFC 9293 3.10.7.4 asks for when a segment is not acceptable.
 * For one that occupies no sequence space (a pure ACK) or carries SYN, at
 * most one per 500 ms per flow, as Linux's tcp_invalid_ratelimit: two ends
 * whose views of the connection differ, or a forger, cannot drive an ACK
 * storm.  A segment with data or FIN (a zero-window probe, a duplicate) is
 * always answered.
 */
void tcp_oow_ack(struct tapir_tcp_flow *f, const struct tcp_repr *seg)
{
	struct tapir_stack *st = f->st;

	if (!(seg->payload_len || (seg->flags & TCP_FIN)) || (seg->flags & TCP_SYN)) {
		if (f->oow_last && tcp_ms32(st) - f->oow_last < SEC / 2 / MS) {
			CTR_INC(st, TCP_OOW_ACKS_LIMITED);
			return;
		}
		f->oow_last = max32(tcp_ms32(st), 1);
	}
	tcp_send_ack(f);
}

void tcp_send_rst(struct tapir_tcp_flow *f)
{
	struct tcp_repr r;

	tcp_repr_init(&r);
	r.src_port = f->lport;
	r.dst_port = f->rport;
	r.seq = f->snd_nxt;
	r.flags = TCP_RST;
	if (f->state != TAPIR_TCP_STATE_SYN_SENT) {
		r.flags |= TCP_ACK;
		r.ack = f->rcv_nxt;
	}
	if (tcp_send_repr(f->st, &f->laddr, &f->raddr, &r) == 0)
		CTR_INC(f->st, TCP_RESETS_SENT);
}

/* Return: as tapir_ipv4_write() */
int tcp_send_syn(struct tapir_tcp_flow *f)
{
	struct tcp_repr r;
	size_t mtu = tcp_path_mtu(f->st, &f->raddr);
	uint32_t hdrs = tcp_ip_hdrs(&f->raddr);
	bool active = f->state == TAPIR_TCP_STATE_SYN_SENT;
	int rc;

	tcp_fill_common(f, &r, f->iss, active ? TCP_SYN : TCP_SYN | TCP_ACK);
	r.has_mss = true;
	r.mss = (uint16_t)(mtu > hdrs + TCP_MIN_MSS ? mtu - hdrs : TCP_MIN_MSS);
	if (active || f->ws_ok)
		r.wscale = (int8_t)f->rcv_ws;
	if (active || f->sack_ok)
		r.sack_perm = true;
	if (active || f->ts_ok) {
		r.has_ts = true;
		r.ts_val = ts_now(f);
		r.ts_ecr = active ? 0 : f->ts_recent;
	}
	f->snd_nxt = f->iss + 1;
	if (seq_gt(f->snd_nxt, f->snd_max))
		f->snd_max = f->snd_nxt;
	rc = tcp_send_repr(f->st, &f->laddr, &f->raddr, &r);
	if (rc == 0)
		tcp_ack_sent(f, &r);
	if (!f->t_rtx)
		f->t_rtx = f->st->now + f->rto;
	tcp_timer_update(f);
	return rc;
}

/*
 * Effective send MSS: the data that fits one segment, from the peer's MSS
 * (at least TCP_MIN_MSS, input.c) and the path MTU (at least 68, and
 * cfg.min_pmtu after an ICMP report), less the IP and TCP headers and the
 * timestamp option.  The path MTU bounds it always, so that a full segment
 * fits whatever MTU was learnt: with an MTU of 68 and timestamps that is 16
 * bytes.  SACK blocks that do not fit beside the data are dropped or cut
 * from the data when the segment is built (tcp_xmit_data()).
 */
void tcp_update_mss(struct tapir_tcp_flow *f)
{
	size_t mtu = tcp_path_mtu(f->st, &f->raddr);
	uint32_t opt = f->ts_ok ? 12 : 0, hdrs = tcp_ip_hdrs(&f->raddr);
	uint32_t path = mtu > hdrs + opt + 1 ? (uint32_t)(mtu - hdrs - opt) : 1;
	uint32_t peer = f->peer_mss > opt ? f->peer_mss - opt : 1;

	f->mss = min32(path, peer);
}

/* Send [seq, seq + len) from the send ring, with FIN if @fin.  SACK blocks
 * take room from the data so the segment still fits the MTU.  More than one
 * MSS (only from tcp_output() when the device takes TSO) goes out as one
 * super-segment that the device cuts into MSS-sized segments; with SACK
 * blocks to send it is cut down to one segment here.  If IP refuses the
 * segment as too big (the path MTU went down: another flow's ICMP), the MSS
 * is derived again and the segment sent again at once at the new size, so
 * the caller, which goes on from what was sent, never counts data that did
 * not leave (and waits for no timer to send it).
 * Return: data bytes sent (may be less than @len) */
uint32_t tcp_xmit_data(struct tapir_tcp_flow *f, uint32_t seq, uint32_t len, bool fin, bool rtx)
{
	struct tcp_repr r;
	size_t off = seq - f->sbuf_seq, pos, extra;
	uint8_t flags = TCP_ACK;
	uint32_t sending, len0 = len, mss0 = f->mss;
	bool fin0 = fin;
	int rc;

	if (fin)
		flags |= TCP_FIN;
	if (len && seq + len == f->sbuf_seq + (uint32_t)f->slen)
		flags |= TCP_PSH;
	tcp_fill_common(f, &r, seq, flags);
	/* SACK blocks beside the data: with a small MSS drop blocks until at
	 * least 64 data bytes fit beside them; then shorten the data to what
	 * fits.  Only a shortened segment loses its FIN (and PSH): the caller
	 * counts the FIN as sent exactly when all of @len went. */
	extra = tcp_repr_header_len(&r) - TCP_HDR_LEN - (f->ts_ok ? 12 : 0);
	while (r.nsack && len + extra > f->mss && f->mss <= extra + 64) {
		r.nsack--;
		extra = tcp_repr_header_len(&r) - TCP_HDR_LEN - (f->ts_ok ? 12 : 0);
	}
	if (extra && len + extra > f->mss) {
		len = f->mss - (uint32_t)extra;
		r.flags &= (uint8_t)~(TCP_FIN | TCP_PSH);
		fin = false;
	}
	if (len) {
		pos = (f->shead + off) % f->scap;
		r.payload = f->sbuf + pos;
		r.payload_len = minsz(len, f->scap - pos);
		if (r.payload_len < len) {
			r.payload2 = f->sbuf;
			r.payload2_len = len - r.payload_len;
		}
	}
	if (len > f->mss)
		CTR_INC(f->st, TCP_TSO_TX);
	rc = send_repr_gso(f->st, &f->laddr, &f->raddr, &r, len > f->mss ? f->mss : 0);
	if (rc == 0) {
		tcp_ack_sent(f, &r);
		tcp_rack_sent(f, seq, len, rtx);	/* RACK's transmission log (rack.c) */
	} else if (rc == -EMSGSIZE) {
		CTR_INC(f->st, TCP_TX_EMSGSIZE);
		tcp_update_mss(f);
		if (f->mss < mss0)	/* smaller now: at most twice, the MSS only shrinks */
			return tcp_xmit_data(f, seq, min32(len0, f->mss), fin0 && len0 <= f->mss,
					     rtx);
		/* not the MTU: as a loss, the retransmission timer (armed below) resends */
	}
	f->bytes_sent += len;
	if (rtx) {
		f->retransmits++;
		CTR_INC(f->st, TCP_RETRANSMITS);
		if (!f->ts_ok)
			f->rtt_timing = false;	/* Karn */
	} else if (!f->rtt_timing && len) {
		f->rtt_timing = true;
		f->rtt_seq = seq + len;
		f->rtt_start = tcp_us32(f->st);
	}
	sending = !rtx && len > f->mss ? len : 0;
	if (!f->t_rtx || f->persist) {
		f->persist = false;
		tcp_arm_rtx_ext(f, sending);
	} else if (!rtx && f->retries == 0) {
		uint64_t pto;

		if (tcp_pto_get_ext(f, sending, &pto))
			tcp_arm_rtx_ext(f, sending);	/* new data: the probe timeout starts again */
	}
	return len;
}

/*
 * TSO for this flow?  Not below the default MSS: a peer that announces less
 * (a broken path or an attack) gets one segment per frame, so that what we
 * write is what it receives.
 */
static bool tso_ok(const struct tapir_tcp_flow *f)
{
	return (tcp_ip_is4(&f->raddr) ? f->st->tso : f->st->tso6) && f->mss > TCP_DEFAULT_MSS;
}

/*
 * Largest TSO super-segment payload: whole MSS, within a 64 KiB datagram, and
 * at most half of cwnd (at least 2 MSS), so that a window holds at least two
 * super-segments: the peer then ACKs more than once per round trip, and one
 * lost ACK or frame does not stall the flight.  Not smaller: where a device
 * or filter drops whole super-segments (a qdisc, nftables on a TAP or veth:
 * the kernel's own GSO packets fare the same), each is one loss event, and
 * with a quarter of cwnd, a flow at 1 % loss had four times Linux's loss
 * events per window (Linux sizes by ~1 ms of data, limited by cwnd).
 */
static uint32_t tso_max(const struct tapir_tcp_flow *f)
{
	uint32_t room = 65535 - tcp_ip_hdrs(&f->raddr) - 12;

	room = min32(room, max32(f->cwnd / 2, 2 * f->mss));
	return room / f->mss * f->mss;
}

/*
 * TSO deferral (as Linux's tcp_tso_should_defer()): the windows allow only
 * @len of the @want bytes a super-segment would carry, and that is less than
 * a third of the window: wait for the ACK that opens more, if it is due
 * soon, i.e. the oldest data in flight was sent half an SRTT ago or longer.
 * Where frames are dropped whole per super-segment (a qdisc, nftables on the
 * host's side of the TAP), each is a loss event: segments sent two at a time
 * as ACKs open the window made 13 times Linux's recoveries per byte at 5 %
 * loss.  Not in a recovery, not after a timeout, not without RTT or the loss
 * state's transmission times.
 */
static bool tso_defer(const struct tapir_tcp_flow *f, uint32_t len, uint32_t want)
{
	const struct tcp_loss *l = f->loss;
	uint32_t chunk = min32(f->snd_wnd, f->cwnd) / 3, now_us, ts = 0;
	bool found = false;

	if (len >= want || len >= chunk || !l || !f->rtt_valid || f->in_recovery ||
	    seq_lt(f->snd_una, f->recover) || f->snd_una == f->snd_nxt)
		return false;
	for (unsigned i = 0; i < l->ln; i++) {
		const struct tcp_xmit *e = &l->log[(l->lhead + i) % TCP_XLOG];

		if (seq_gt(e->end, f->snd_una)) {
			ts = e->ts;
			found = true;
			break;
		}
	}
	if (!found)
		return false;
	now_us = (uint32_t)(f->st->now / 1000);
	return now_us - ts >= f->srtt_us / 2;
}

/* Send what the windows, Nagle and the state allow; then a pending ACK. */
void tcp_output(struct tapir_tcp_flow *f)
{
	uint32_t data_end;
	int guard;

	if (f->zombie || !can_send_data(f)) {
		if (f->zombie)
			return;
		goto ack;
	}
	if (f->in_recovery && f->sack_ok) {
		tcp_output_recovery(f);
		goto ack;
	}
	data_end = f->sbuf_seq + (uint32_t)f->slen;
	for (guard = 0; guard < 100000; guard++) {
		uint32_t avail, inflight, wnd, usable, len, limit = 0, sent;
		bool rtx, fin;

		if (seq_ge(f->snd_nxt, data_end)) {
			if (f->fin_queued && f->snd_nxt == data_end) {
				rtx = seq_lt(f->snd_nxt, f->snd_max);
				tcp_xmit_data(f, f->snd_nxt, 0, true, rtx);
				f->snd_nxt++;
				if (seq_gt(f->snd_nxt, f->snd_max))
					f->snd_max = f->snd_nxt;
			}
			break;
		}
		rtx = seq_lt(f->snd_nxt, f->snd_max);
		if (rtx && f->nsb) {
			uint32_t s = tcp_skip_sacked(f, f->snd_nxt, &limit);

			if (s != f->snd_nxt) {
				f->snd_nxt = seq_gt(s, data_end) ? data_end : s;
				continue;
			}
		}
		avail = data_end - f->snd_nxt;
		wnd = f->cwnd;
		if (!f->in_recovery && f->dupacks && f->dupacks < 3)
			wnd += f->dupacks * f->mss;	/* limited transmit (RFC 3042) */
		wnd = min32(f->snd_wnd, wnd);
		inflight = f->snd_nxt - f->snd_una;
		usable = wnd > inflight ? wnd - inflight : 0;
		len = min32(rtx || !tso_ok(f) ? f->mss : tso_max(f), avail);
		if (len > f->mss) {
			/* TSO: whole segments within the windows; a short tail only
			 * where the one-segment rules below would send it too (Nagle) */
			uint32_t tail = len % f->mss;

			if (len > usable) {
				if (tso_defer(f, usable / f->mss * f->mss, len))
					break;
				len = usable / f->mss * f->mss;
			}
			else if (tail && len == avail && !f->fin_queued && !f->o.nodelay &&
				 seq_ge(f->snd_nxt + len - tail, f->push_seq))
				len -= tail;
			if (len < f->mss)
				len = min32(f->mss, avail);
		}
		if (rtx && f->nsb && seq_lt(limit, f->snd_nxt + len))
			len = limit - f->snd_nxt;
		if (len > usable) {
			uint32_t swnd_usable = f->snd_wnd > inflight ? f->snd_wnd - inflight : 0;

			if (usable == 0)
				break;
			/* sender SWS: a short segment only for half the peer's max window,
			 * or when the persist timer says so (RFC 1122 4.2.3.4) */
			if (usable == swnd_usable && (usable >= f->max_snd_wnd / 2 || f->sws_override))
				len = usable;
			else
				break;
		}
		if (len < f->mss && len == avail && !f->fin_queued && !rtx && !f->o.nodelay &&
		    f->snd_nxt != f->snd_una && seq_ge(f->snd_nxt, f->push_seq))
			break;	/* Nagle */
		fin = f->fin_queued && f->snd_nxt + len == data_end;
		sent = tcp_xmit_data(f, f->snd_nxt, len, fin, rtx);
		f->snd_nxt += sent + (fin && sent == len);
		if (seq_gt(f->snd_nxt, f->snd_max))
			f->snd_max = f->snd_nxt;
	}
	/* zero window: probe when nothing is outstanding */
	if (f->snd_una == f->snd_max &&
	    (seq_lt(f->snd_nxt, data_end) || (f->fin_queued && f->snd_nxt == data_end)) &&
	    (!f->t_rtx || f->persist)) {
		if (!f->persist)
			tcp_arm_persist(f);
	}
ack:
	if ((f->ack_now || (seq_gt(f->rcv_nxt, f->last_ack_sent) && !f->t_delack)) &&
	    f->state != TAPIR_TCP_STATE_SYN_SENT && f->state != TAPIR_TCP_STATE_SYN_RECEIVED &&
	    f->state != TAPIR_TCP_STATE_CLOSED)
		tcp_send_ack(f);
}

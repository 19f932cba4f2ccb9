/*
 * syncookie.c - TCP SYN cookies (RFC 4987): MSS in the cookie, window scale and
 * SACK in the low bits of the timestamp
 */
#include "tcp/tcp_conn.h"

static const uint16_t cookie_mss[8] = { 216, 536, 1200, 1360, 1440, 1460, 4312, 8960 };

static uint32_t cookie_hash(struct tcp_stack *t, const struct tcp_ip *laddr,
			    const struct tcp_ip *raddr, uint16_t rport, uint16_t lport,
			    uint32_t peer_isn, uint32_t count, uint32_t mssidx)
{
	/* the local address counts: forwarded flows answer for any address */
	return (uint32_t)tcp_tuple_sip(t->cookie_key, laddr, raddr, rport, lport,
				       (uint64_t)peer_isn << 32 | count << 3 | mssidx) & 0xffffff;
}

void tcp_syncookie_send(struct tapir_stack *st, struct tcp_listener *l,
			const struct tcp_ip *laddr, const struct tcp_ip *src,
			const struct tcp_repr *seg)
{
	struct tcp_stack *t = T(st);
	uint32_t count = (uint32_t)(st->now / TCP_COOKIE_PERIOD), mssidx = 0;
	uint16_t peer_mss = seg->has_mss && seg->mss ? seg->mss : TCP_DEFAULT_MSS;
	size_t mtu = tcp_path_mtu(st, src);
	struct tcp_repr r;

	for (uint32_t i = 0; i < 8; i++)
		if (cookie_mss[i] <= peer_mss)
			mssidx = i;
	tcp_repr_init(&r);
	r.src_port = seg->dst_port;
	r.dst_port = seg->src_port;
	r.seq = (count & 31) << 27 | mssidx << 24 |
		cookie_hash(t, laddr, src, seg->src_port, seg->dst_port, seg->seq, count & 31, mssidx);
	r.ack = seg->seq + 1;
	r.flags = TCP_SYN | TCP_ACK;
	r.window = (uint16_t)min32((uint32_t)tcp_opts_rcvbuf(st, &l->o), 65535);
	r.has_mss = true;
	r.mss = (uint16_t)(mtu - tcp_ip_hdrs(src));
	if (seg->has_ts) {
		/* window scale (4 bits, 15 = none) and SACK in the low 5 bits */
		uint32_t now = (uint32_t)(st->now / MS), bits, tsv;

		bits = (seg->wscale >= 0 ? (uint32_t)seg->wscale : 15) << 1 | seg->sack_perm;
		tsv = (now & ~31u) | bits;
		if (tsv > now)
			tsv -= 32;
		r.has_ts = true;
		r.ts_val = tsv;
		r.ts_ecr = seg->ts_val;
		r.sack_perm = seg->sack_perm;
		if (seg->wscale >= 0)
			r.wscale = (int8_t)tcp_opts_wscale(st, &l->o);
	}
	l->last_cookie = st->now ? st->now : 1;
	if (tcp_send_repr(st, laddr, src, &r) == 0)
		CTR_INC(st, TCP_SYNCOOKIES_SENT);
}

/* A bare ACK to a listener: a valid cookie makes an established flow. */
struct tapir_tcp_flow *tcp_syncookie_check(struct tapir_stack *st, struct tcp_listener *l,
					   const struct tcp_ip *laddr, const struct tcp_ip *src,
					   const struct tcp_repr *seg)
{
	struct tcp_stack *t = T(st);
	uint32_t cookie = seg->ack - 1, peer_isn = seg->seq - 1;
	uint32_t count = (uint32_t)(st->now / TCP_COOKIE_PERIOD);
	uint32_t c5 = cookie >> 27, mssidx = (cookie >> 24) & 7;
	struct tapir_tcp_flow *f;
	bool ok = false;

	if (!l->last_cookie || st->now - l->last_cookie > 2 * TCP_COOKIE_PERIOD)
		return NULL;
	for (uint32_t back = 0; back < 2 && !ok; back++) {
		uint32_t c = (count - back) & 31;

		if (c == c5 && cookie_hash(t, laddr, src, seg->src_port, seg->dst_port, peer_isn,
					   c, mssidx) == (cookie & 0xffffff))
			ok = true;
	}
	if (!ok) {
		CTR_INC(st, TCP_SYNCOOKIES_FAILED);
		return NULL;
	}
	if (t->nflows >= st->cfg.tcp.max_connections)
		(void)tcp_synq_evict(st);	/* a proven peer before a half-open one */
	f = tcp_flow_new(st, laddr, src, seg->src_port, seg->dst_port, &l->o);
	if (!f)
		return NULL;
	CTR_INC(st, TCP_SYNCOOKIES_OK);
	CTR_INC(st, TCP_PASSIVE_OPENS);
	f->iss = cookie;
	f->snd_una = f->snd_nxt = f->snd_max = seg->ack;
	f->sbuf_seq = f->push_seq = f->recover = f->high_sack = f->rexmit_nxt = seg->ack;
	f->irs = peer_isn;
	f->rcv_nxt = f->last_ack_sent = seg->seq;
	f->rcv_adv = f->rcv_nxt + min32((uint32_t)f->o.rcvbuf, 65535);
	f->peer_mss = cookie_mss[mssidx];
	if (seg->has_ts) {
		uint32_t bits = seg->ts_ecr & 31, ws = bits >> 1;

		f->ts_ok = true;
		f->ts_recent = seg->ts_val;
		f->ts_offset = 0;	/* the cookie's timestamps had none */
		f->sack_ok = bits & 1;
		if (ws != 15) {
			f->ws_ok = true;
			f->snd_ws = (uint8_t)(ws > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : ws);
			f->rcv_ws = tcp_opts_wscale(st, &l->o);	/* what the cookie's SYN-ACK said */
		} else {
			f->rcv_ws = 0;
		}
	} else {
		f->rcv_ws = 0;
	}
	f->snd_wnd = (uint32_t)seg->window << f->snd_ws;
	f->max_snd_wnd = f->snd_wnd;
	f->snd_wl1 = seg->seq;
	f->snd_wl2 = seg->ack;
	f->state = TAPIR_TCP_STATE_SYN_RECEIVED;	/* tcp_flow_established() takes it from here */
	tcp_flow_set_listener(f, l);
	return f;
}

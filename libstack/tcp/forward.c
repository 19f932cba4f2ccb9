/*
 * forward.c - TCP forwarder mode (tapir/forward.h): SYNs for foreign addresses
 * go to the application, which accepts or refuses them, now or later
 *
 * The forwarder is a listener of its own (port 0, never in the listener
 * table): tapir_tcp_forward_accept() replays the stored SYN through
 * tcp_listen_input() with it, so the backlog, SYN cookies, the connection
 * limit and the SYN-queue eviction work as for any listener, and an accepted
 * flow reaches the forwarder's accept() on the peer's ACK.  Segments other
 * than a bare SYN for a foreign tuple without a flow go the same way (a valid
 * cookie's ACK makes the flow; anything else gets a RST).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcp/tcp_conn.h"

/* Retire the forwarder's listener; its half-open flows are reset. */
static int fwd_retire(struct tapir_stack *st)
{
	struct tcp_stack *t = T(st);
	struct tcp_listener *l = t->fwd;

	if (!l)
		return 0;
	if (t->ndead == t->dead_cap) {
		size_t cap = t->dead_cap ? t->dead_cap * 2 : 8;
		struct tcp_listener **n = realloc(t->dead_lsn, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		t->dead_lsn = n;
		t->dead_cap = cap;
	}
	t->fwd = NULL;
	t->fwd_syn = NULL;
	st->tcp_fwd = false;
	l->dead = true;
	t->dead_lsn[t->ndead++] = l;
	t->depth++;
	for (struct tapir_tcp_flow *f = t->all, *n; f; f = n) {
		n = f->next;
		if (f->lsn == l && !f->zombie) {
			tcp_send_rst(f);
			f->state = TAPIR_TCP_STATE_CLOSED;
			tcp_flow_maybe_free(f);
		}
	}
	t->depth--;
	tcp_reap(t);
	return 0;
}

int tapir_tcp_forwarder_set(struct tapir_stack *st, const struct tapir_tcp_forwarder *fw, void *ctx)
{
	struct tcp_stack *t = T(st);
	struct tcp_listener *l;
	int rc;

	if (!t || (fw && (!fw->syn || !fw->accept)))
		return -EINVAL;
	if (!fw)
		return fwd_retire(st);
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	rc = fwd_retire(st);
	if (rc < 0) {
		free(l);
		return rc;
	}
	if (fw->opts)
		l->o = *fw->opts;
	else
		tapir_tcp_flow_opts_defaults(st, &l->o);
	l->cb = fw->accept;
	l->ctx = ctx;
	t->fwd = l;
	t->fwd_syn = fw->syn;
	st->tcp_fwd = true;
	return 0;
}

void tcp_fwd_fini(struct tcp_stack *t)
{
	free(t->fwd);
	t->fwd = NULL;
}

static void req_from_seg(struct tapir_tcp_fwd_req *req, const struct tcp_rx *m,
			 const struct tcp_repr *seg)
{
	/* the quote for an ICMP error: the IP header and 8 bytes of TCP (the
	 * TCP header is right after the IP header; IPv6: the fixed header, the
	 * IPv6 layer took the extension headers) */
	const uint8_t *ip = m->v6 ? m->m6->packet : m->m4->ip_header;
	size_t q = m->v6 ? 40 : m->m4->ip_header_len;

	memset(req, 0, sizeof(*req));
	req->src = tcp_ip_to_addr(&m->src, false);
	req->dst = tcp_ip_to_addr(&m->dst, false);
	req->src_port = seg->src_port;
	req->dst_port = seg->dst_port;
	req->syn.seq = seg->seq;
	req->syn.window = seg->window;
	req->syn.has_mss = seg->has_mss;
	req->syn.mss = seg->mss;
	req->syn.wscale = seg->wscale;
	req->syn.sack_perm = seg->sack_perm;
	req->syn.has_ts = seg->has_ts;
	req->syn.ts_val = seg->ts_val;
	if (q <= TAPIR_FWD_QUOTE_MAX - 8 && (!m->v6 || m->m6->packet[6] == TAPIR_IP_PROTO_TCP)) {
		memcpy(req->syn.quote, ip, q);
		memcpy(req->syn.quote + q, ip + q, 8);
		req->syn.quote_len = (uint8_t)(q + 8);
	}
}

/* Our side and the peer of @req as TCP keeps them.  Return: false if unusable */
static bool req_addrs(struct tapir_stack *st, const struct tapir_tcp_fwd_req *req,
		      struct tcp_ip *laddr, struct tcp_ip *raddr)
{
	if (!tcp_ip_from_addr(laddr, &req->dst) || !tcp_ip_from_addr(raddr, &req->src) ||
	    tcp_ip_is4(laddr) != tcp_ip_is4(raddr))
		return false;
	return tcp_ip_is4(laddr) ? tcp_ip_v4(laddr) != st->cfg.addr
				 : !ipv6_is_our_addr(st, laddr->b);
}

static void seg_from_req(struct tcp_repr *seg, const struct tapir_tcp_fwd_req *req)
{
	tcp_repr_init(seg);
	seg->src_port = req->src_port;
	seg->dst_port = req->dst_port;
	seg->seq = req->syn.seq;
	seg->flags = TCP_SYN;
	seg->window = req->syn.window;
	seg->has_mss = req->syn.has_mss;
	seg->mss = req->syn.mss;
	seg->wscale = req->syn.wscale;
	seg->sack_perm = req->syn.sack_perm;
	seg->has_ts = req->syn.has_ts;
	seg->ts_val = req->syn.ts_val;
}

void tcp_fwd_input(struct tapir_stack *st, const struct tcp_rx *m, struct tcp_repr *seg,
		   const uint32_t *isn)
{
	struct tcp_stack *t = T(st);
	struct tapir_tcp_fwd_req req;

	if (!t->fwd) {
		CTR_INC(st, TCP_DROP_NO_FORWARDER);
		tcp_send_reset_for(st, &m->dst, &m->src, seg);
		return;
	}
	if ((seg->flags & (TCP_SYN | TCP_ACK | TCP_RST | TCP_FIN)) == TCP_SYN) {
		req_from_seg(&req, m, seg);
		CTR_INC(st, TCP_FORWARD_SYNS);
		t->fwd_syn(t->fwd->ctx, &req);
		return;
	}
	tcp_listen_input(st, t->fwd, m, seg, isn);
}

int tapir_tcp_forward_accept(struct tapir_stack *st, const struct tapir_tcp_fwd_req *req)
{
	struct tcp_stack *t = T(st);
	struct tcp_rx m;
	struct tcp_repr seg;
	uint64_t cookies;
	int rc = 0;

	memset(&m, 0, sizeof(m));
	if (!t || !t->fwd || !req || !req->src_port || !req->dst_port ||
	    !req_addrs(st, req, &m.dst, &m.src))
		return -EINVAL;
	m.v6 = !tcp_ip_is4(&m.dst);
	if (tcp_flow_lookup(t, &m.dst, &m.src, req->src_port, req->dst_port))
		return -EEXIST;
	seg_from_req(&seg, req);
	cookies = st->ctr[TAPIR_CTR_TCP_SYNCOOKIES_SENT];
	t->depth++;
	tcp_listen_input(st, t->fwd, &m, &seg, NULL);
	if (tcp_flow_lookup(t, &m.dst, &m.src, req->src_port, req->dst_port) ||
	    st->ctr[TAPIR_CTR_TCP_SYNCOOKIES_SENT] != cookies)
		CTR_INC(st, TCP_FORWARD_ACCEPTED);
	else
		rc = -ENOBUFS;
	t->depth--;
	tcp_reap(t);
	return rc;
}

/* An ICMP or ICMPv6 destination unreachable about the SYN of @req */
static void refuse_unreach(struct tapir_stack *st, const struct tapir_tcp_fwd_req *req,
			   uint8_t code4, uint8_t code6)
{
	if (req->dst.family == TAPIR_AF_INET6) {
		if (req->syn.quote_len)
			icmpv6_send_error(st, 1, code6, 0, req->syn.quote, req->syn.quote_len,
					  false);
		return;
	}
	(void)tapir_icmp_send_unreach(st, code4, req->syn.quote, req->syn.quote_len);
}

void tapir_tcp_forward_refuse(struct tapir_stack *st, const struct tapir_tcp_fwd_req *req, int err)
{
	struct tcp_repr seg;

	if (!req)
		return;
	CTR_INC(st, TCP_FORWARD_REFUSED);
	switch (err) {
	case -ECONNREFUSED: {
		struct tcp_ip laddr, raddr;

		if (!tcp_ip_from_addr(&laddr, &req->dst) || !tcp_ip_from_addr(&raddr, &req->src))
			break;
		seg_from_req(&seg, req);
		tcp_send_reset_for(st, &laddr, &raddr, &seg);
		break;
	}
	case -EHOSTUNREACH:	/* ICMPv6: address unreachable */
		refuse_unreach(st, req, TAPIR_ICMP_UNREACH_HOST, 3);
		break;
	case -ENETUNREACH:	/* ICMPv6: no route to destination */
		refuse_unreach(st, req, TAPIR_ICMP_UNREACH_NET, 0);
		break;
	case -EACCES:		/* ICMPv6: administratively prohibited */
		refuse_unreach(st, req, TAPIR_ICMP_UNREACH_ADMIN, 1);
		break;
	default:
		break;
	}
}

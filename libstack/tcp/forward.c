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

static void req_from_seg(struct tapir_tcp_fwd_req *req, const struct tapir_ipv4_rx_meta *m,
			 const struct tcp_repr *seg, const uint8_t *l4, size_t l4_len)
{
	size_t q = m->ip_header_len;

	memset(req, 0, sizeof(*req));
	req->src = m->src;
	req->dst = m->dst;
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
	/* the quote for an ICMP error: the IP header and 8 bytes of TCP */
	if (q <= TAPIR_FWD_QUOTE_MAX - 8 && l4_len >= 8) {
		memcpy(req->syn.quote, m->ip_header, q);
		memcpy(req->syn.quote + q, l4, 8);
		req->syn.quote_len = (uint8_t)(q + 8);
	}
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

void tcp_fwd_input(struct tapir_stack *st, const struct tapir_ipv4_rx_meta *m,
		   struct tcp_repr *seg, const uint32_t *isn)
{
	struct tcp_stack *t = T(st);
	struct tapir_tcp_fwd_req req;

	if (!t->fwd) {
		CTR_INC(st, TCP_DROP_NO_FORWARDER);
		tcp_send_reset_for(st, m->dst, m->src, seg);
		return;
	}
	if ((seg->flags & (TCP_SYN | TCP_ACK | TCP_RST | TCP_FIN)) == TCP_SYN) {
		/* the TCP header is right after the IP header in the datagram */
		const uint8_t *l4 = m->ip_header + m->ip_header_len;

		req_from_seg(&req, m, seg, l4, 8);
		CTR_INC(st, TCP_FORWARD_SYNS);
		t->fwd_syn(t->fwd->ctx, &req);
		return;
	}
	tcp_listen_input(st, t->fwd, m, seg, isn);
}

int tapir_tcp_forward_accept(struct tapir_stack *st, const struct tapir_tcp_fwd_req *req)
{
	struct tcp_stack *t = T(st);
	struct tapir_ipv4_rx_meta m;
	struct tcp_repr seg;
	uint64_t cookies;
	int rc = 0;

	if (!t || !t->fwd || !req || req->dst == st->cfg.addr || !req->src_port ||
	    !req->dst_port)
		return -EINVAL;
	if (tcp_flow_lookup(t, req->dst, req->src, req->src_port, req->dst_port))
		return -EEXIST;
	memset(&m, 0, sizeof(m));
	m.src = req->src;
	m.dst = req->dst;
	m.proto = TAPIR_IP_PROTO_TCP;
	seg_from_req(&seg, req);
	cookies = st->ctr[TAPIR_CTR_TCP_SYNCOOKIES_SENT];
	t->depth++;
	tcp_listen_input(st, t->fwd, &m, &seg, NULL);
	if (tcp_flow_lookup(t, req->dst, req->src, req->src_port, req->dst_port) ||
	    st->ctr[TAPIR_CTR_TCP_SYNCOOKIES_SENT] != cookies)
		CTR_INC(st, TCP_FORWARD_ACCEPTED);
	else
		rc = -ENOBUFS;
	t->depth--;
	tcp_reap(t);
	return rc;
}

void tapir_tcp_forward_refuse(struct tapir_stack *st, const struct tapir_tcp_fwd_req *req, int err)
{
	struct tcp_repr seg;

	if (!req)
		return;
	CTR_INC(st, TCP_FORWARD_REFUSED);
	switch (err) {
	case -ECONNREFUSED:
		seg_from_req(&seg, req);
		tcp_send_reset_for(st, req->dst, req->src, &seg);
		break;
	case -EHOSTUNREACH:
		(void)tapir_icmp_send_unreach(st, TAPIR_ICMP_UNREACH_HOST, req->syn.quote,
					      req->syn.quote_len);
		break;
	case -ENETUNREACH:
		(void)tapir_icmp_send_unreach(st, TAPIR_ICMP_UNREACH_NET, req->syn.quote,
					      req->syn.quote_len);
		break;
	case -EACCES:
		(void)tapir_icmp_send_unreach(st, TAPIR_ICMP_UNREACH_ADMIN, req->syn.quote,
					      req->syn.quote_len);
		break;
	default:
		break;
	}
}

/*
 * tcp.c - TCP (RFC 9293): state machine, input, output, timers and the flow API
 *
 * Theory of operation
 *
 * Flows.  Every connection (listeners aside) is a struct tcp_flow found by a
 * chained hash on (remote address, remote port, local port); all flows are
 * also on a list (for listings and teardown).  A flow is "known" to the
 * application once its accept or connect callback ran; it is freed when it is
 * CLOSED and either unknown or released by tcp_close().  Freeing is deferred:
 * the flow goes on a zombie list that is reaped when no TCP code is running
 * (end of input, of poll, or of an API call made outside any callback), so
 * nothing is freed under a running callback.  Listeners are an array; a
 * removed listener is freed the same way.
 *
 * Input (tcp_rx): checksum, then a flow, a listener, or a RST.  Listener: a
 * SYN makes a SYN_RECEIVED flow (at most backlog per listener; beyond that a
 * SYN cookie answers when enabled: RFC 4987, with MSS in the cookie and
 * window scale + SACK in the low bits of the timestamp), a bare ACK is checked
 * as a cookie or answered with RST.  Flows follow RFC 9293 3.10.7 with PAWS
 * (RFC 7323), RFC 5961 (RST and SYN in synchronized states get a
 * rate-limited challenge ACK; ACKs far below SND.UNA are refused), SACK
 * (RFC 2018) and RFC 6675 recovery or NewReno (RFC 6582) without SACK,
 * with limited transmit (RFC 3042).  In SACK recovery each retransmitted
 * hole remembers SND.MAX at the time; once data sent after it is SACKed
 * (more than one MSS beyond), the retransmission is taken as lost and sent
 * again instead of waiting for the RTO (as Linux's lost-retransmit marking).
 * The scoreboard is a sorted array of at most 32 merged ranges, so every
 * operation is O(ranges), never O(segments^2).  A reordered bare ACK that
 * fails PAWS is dropped without an answer (no ACK ping-pong).
 * In-order data goes straight from the frame to recv(); out-of-order data is
 * copied into a sorted list bounded by ooo_max_bytes (each piece costs at
 * least 512 bytes against the bound) and answered by an immediate ACK with SACK
 * blocks.  Data is queued only while the application pauses reading or has
 * no recv callback yet.
 *
 * Output (tcp_output): the send buffer is a ring that grows by doubling from
 * 2 KiB up to sndbuf and is freed whenever everything is acked (an idle flow
 * holds no buffer; nor does a reader that keeps up, see Input); a
 * segment is gathered from the ring (one or two pieces) into the device
 * buffer by ipv4_write (DF set).  Sending obeys the peer's window, cwnd,
 * Nagle (unless nodelay or pushed by tcp_write_nodelay), and sender SWS
 * avoidance.  With a TSO device (stack_set_offload()), new data outside
 * recovery goes out in super-segments of whole MSS-sized segments, at most
 * 64 KiB and a quarter of cwnd (several ACKs per window, as Linux's TSO
 * autosizing), which the device cuts up; a short tail only where Nagle would
 * send it anyway; retransmissions, probes, segments with SACK blocks and
 * flows with an MSS of 536 or less stay one MSS per frame.  Received
 * super-segments (GRO) are taken whole and do not raise the receive-MSS
 * estimate.  In SACK recovery, the RFC 6675 pipe decides: holes below the
 * highest SACKed byte are retransmitted first, then new data.  ACKs: at least
 * every second full segment, else after delack_ns; immediately for
 * out-of-order data or a filled hole.  The receive window's right edge only
 * moves in steps of min(rcvbuf/2, MSS) (receiver SWS avoidance) and never
 * back; window scaling offers at least rcvbuf.
 *
 * Timers: each flow has retransmit/persist, delayed ACK, keepalive and
 * TIME_WAIT/FIN_WAIT_2 deadlines; the earliest is its key in a binary
 * min-heap of flows, so tcp_next_deadline() is O(1).  Keys are updated
 * lazily: a later deadline leaves the key alone and the flow is re-keyed
 * when it pops.  RTO per RFC 6298 (1 s initial, Karn via timestamps or one
 * timed segment, doubling backoff, cfg min/max); after max_retries timeouts
 * (and at least 100 s, RFC 1122 R2) the flow is reset with -ETIMEDOUT; SYN
 * and SYN-ACK after syn_retries.  Zero-window probes (one byte below
 * SND.UNA) back off to 60 s and abort only after max_retries unanswered ones.
 * Keepalive (RFC 1122 4.2.3.6) probes with SND.NXT-1 and aborts after
 * ka_count unanswered probes.  TIME_WAIT lasts 2 MSL, re-ACKs retransmitted
 * FINs (restarting the timer) and yields to a new SYN with a higher sequence
 * number (RFC 6191 style reuse).  An orphaned FIN_WAIT_2 ends after
 * fin_wait2_ns.
 *
 * Congestion control: IW per RFC 6928, slow start with ABC (L = 2),
 * congestion avoidance per RFC 5681 or CUBIC (RFC 9438, beta 0.7, C 0.4,
 * with the Reno-friendly region), selected per flow.
 *
 * ISNs: RFC 6528, SipHash-2-4 of the 4-tuple under a random key plus a 4 us
 * clock.  Ephemeral ports: random start in 49152-65535, then linear probing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "tcp.h"
#include "wire/bytes.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"

#define MS 1000000ull
#define SEC STACK_NS_PER_SEC

#define TCP_DEFAULT_MSS 536
#define TCP_MIN_MSS 88
#define TCP_SB_MAX 32           /* SACK scoreboard ranges */
#define TCP_RTX_REC 64          /* retransmissions tracked in a recovery */
#define TCP_OOO_MIN_CHARGE 512  /* an out-of-order piece costs at least this */
#define TCP_PERSIST_MAX (60 * SEC)
#define TCP_R2_FLOOR (100 * SEC)
#define TCP_SNDBUF_MIN 4096
#define TCP_RCVBUF_MIN 4096
#define TCP_COOKIE_PERIOD (64 * SEC)
#define TCP_EPHEMERAL_LO 49152
#define TCP_EPHEMERAL_N 16384

struct tcp_ooo {
	struct tcp_ooo *next;
	uint32_t seq;
	uint32_t len;
	uint8_t data[];
};

struct tcp_rtx_rec {
	uint32_t seq, end, mark;
};

struct tcp_listener {
	uint16_t port;
	bool dead;
	struct tcp_flow_opts o;
	tcp_accept_fn cb;
	void *ctx;
	size_t nsyn;              /* SYN_RECEIVED flows from this listener */
	uint64_t last_cookie;     /* when we last answered with a cookie */
};

struct tcp_flow {
	struct stack *st;
	struct tcp_flow *hnext;           /* hash chain */
	struct tcp_flow *next, *prev;     /* all flows */
	struct tcp_flow *znext;           /* zombie list */
	struct tcp_listener *lsn;         /* SYN_RECEIVED from a listener, not yet accepted */
	uint32_t laddr, raddr;
	uint16_t lport, rport;
	uint8_t state;
	bool in_hash, zombie, known, app_closed, closed_reported;
	bool rd_shut, fin_queued, fin_rcvd, eof_delivered, paused;
	bool want_writable, ws_ok, sack_ok, ts_ok, persist, rtt_timing, in_recovery, ack_now;
	bool sws_override;                /* persist timer: send a short segment */
	bool pto_armed, tlp_out;          /* t_rtx is a tail loss probe; one is out */
	bool in_deliver;                  /* deliver_queue() is running */
	uint32_t tlp_end;                 /* end of the probe segment */
	uint8_t snd_ws, rcv_ws;
	struct tcp_flow_opts o;

	/* application */
	struct tcp_callbacks cb;
	void *cb_ctx;
	tcp_connect_fn on_connect;
	void *connect_ctx;

	/* send */
	uint32_t iss, snd_una, snd_nxt, snd_max, snd_wnd, max_snd_wnd, snd_wl1, snd_wl2;
	uint32_t push_seq;                /* Nagle does not hold data below this */
	uint32_t mss, peer_mss;
	uint8_t *sbuf;
	size_t scap, shead, slen;         /* ring: bytes from sbuf_seq */
	uint32_t sbuf_seq;

	/* receive */
	uint32_t irs, rcv_nxt, rcv_adv, last_ack_sent, rcv_mss;
	uint8_t *rbuf;
	size_t rcap, rhead, rlen;         /* in-order data not yet delivered */
	struct tcp_ooo *ooo;
	size_t ooo_bytes, ooo_charge;
	uint32_t ooo_last_seq;            /* most recent out-of-order arrival */
	bool ooo_fin;
	uint32_t ooo_fin_seq;

	/* timestamps */
	uint32_t ts_recent, ts_offset;

	/* RTT / RTO */
	uint32_t srtt_us, rttvar_us;
	bool rtt_valid;
	uint64_t rto;
	uint32_t rtt_seq;
	uint64_t rtt_start;

	/* congestion control */
	uint32_t cwnd, ssthresh, recover, bytes_acked_ca;
	unsigned dupacks;
	uint32_t cubic_wmax, cubic_west;
	uint64_t cubic_epoch;
	double cubic_k;

	/* SACK scoreboard (sender side), sorted, merged */
	struct tcp_sack_block sb[TCP_SB_MAX];
	unsigned nsb;
	uint32_t sacked, high_sack, rexmit_nxt;
	/* holes retransmitted in this recovery and the SND.MAX at that time: one
	 * is lost again once data sent after it is SACKed */
	struct tcp_rtx_rec *rtx;          /* TCP_RTX_REC entries, allocated at first use */
	unsigned nrtx;

	/* timers (0 = off) */
	uint64_t t_rtx, t_delack, t_ka, t_wait;
	uint64_t heap_key;
	size_t heap_idx;                  /* SIZE_MAX: not in the heap */
	unsigned retries, probes, ka_probes, backoff;
	uint64_t first_rtx;
	uint64_t last_rcv;

	/* RFC 5961 rate limit */
	uint64_t chal_start;
	uint32_t chal_count;
	uint64_t oow_last;                /* last rate-limited ACK to an unacceptable segment */

	int err;
	/* statistics */
	uint64_t bytes_sent, bytes_acked, bytes_received, segs_in, segs_out;
	uint64_t retransmits, fast_retransmits, rto_timeouts, dup_acks_in, ooo_segs_in;
};

struct tcp_stack {
	struct tcp_flow **hash;
	size_t hmask;
	struct tcp_flow *all;
	size_t nflows;
	struct tcp_flow *zombies;
	struct tcp_flow **heap;
	size_t nheap, heap_cap;
	struct tcp_listener **lsn;
	size_t nlsn, lsn_cap;
	struct tcp_listener **dead_lsn;
	size_t ndead, dead_cap;
	int depth;                        /* > 0 while TCP code or a callback runs */
	uint64_t isn_key[2], cookie_key[2], hash_key;
};

static const char *const state_names[] = {
	[TCP_CLOSED] = "CLOSED",
	[TCP_LISTEN] = "LISTEN",
	[TCP_SYN_SENT] = "SYN_SENT",
	[TCP_SYN_RECEIVED] = "SYN_RECEIVED",
	[TCP_ESTABLISHED] = "ESTABLISHED",
	[TCP_FIN_WAIT_1] = "FIN_WAIT_1",
	[TCP_FIN_WAIT_2] = "FIN_WAIT_2",
	[TCP_CLOSE_WAIT] = "CLOSE_WAIT",
	[TCP_CLOSING] = "CLOSING",
	[TCP_LAST_ACK] = "LAST_ACK",
	[TCP_TIME_WAIT] = "TIME_WAIT",
};
_Static_assert(sizeof(state_names) / sizeof(state_names[0]) == TCP__NSTATES,
	       "every state has a name");

const char *tcp_state_name(int state)
{
	if (state < 0 || state >= TCP__NSTATES)
		return "?";
	return state_names[state];
}

void tcp_config_defaults(struct tcp_config *c)
{
	c->max_connections = 16384;
	c->backlog = 128;
	c->sndbuf = 256 * 1024;
	c->rcvbuf = 256 * 1024;
	c->ooo_max_bytes = 256 * 1024;
	c->msl_ns = 30 * SEC;
	c->fin_wait2_ns = 60 * SEC;
	c->max_retries = 15;
	c->syn_retries = 6;
	c->keepalive = false;
	c->keepalive_idle_ns = 7200 * SEC;
	c->keepalive_intvl_ns = 75 * SEC;
	c->keepalive_count = 9;
	c->nodelay = false;
	c->cc = TCP_CC_NEWRENO;
	c->syn_cookies = true;
	c->challenge_ack_limit = 10;
	c->delack_ns = 40 * MS;
	c->rto_initial_ns = 1 * SEC;
	c->rto_min_ns = 200 * MS;
	c->rto_max_ns = 120 * SEC;
}

void tcp_flow_opts_defaults(const struct stack *st, struct tcp_flow_opts *o)
{
	const struct tcp_config *c = &st->cfg.tcp;

	o->keepalive = c->keepalive;
	o->ka_idle_ns = c->keepalive_idle_ns;
	o->ka_intvl_ns = c->keepalive_intvl_ns;
	o->ka_count = c->keepalive_count;
	o->nodelay = c->nodelay;
	o->sndbuf = c->sndbuf;
	o->rcvbuf = c->rcvbuf;
	o->cc = c->cc;
}

/* ---- ISNs, cookies and the flow hash are keyed siphash24_2w() (siphash.c) ---- */

static uint64_t tuple_word(uint32_t raddr, uint16_t rport, uint16_t lport)
{
	return (uint64_t)raddr << 32 | (uint32_t)rport << 16 | lport;
}

/* ---- small helpers ---- */

static inline uint32_t min32(uint32_t a, uint32_t b) { return a < b ? a : b; }
static inline uint32_t max32(uint32_t a, uint32_t b) { return a > b ? a : b; }
static inline size_t minsz(size_t a, size_t b) { return a < b ? a : b; }

static struct tcp_stack *T(const struct stack *st)
{
	return st->tcp;
}

static uint32_t ts_now(const struct tcp_flow *f)
{
	return (uint32_t)(f->st->now / MS) + f->ts_offset;
}

static bool synchronized(const struct tcp_flow *f)
{
	return f->state >= TCP_ESTABLISHED;
}

/* ---- timer heap ---- */

static void heap_swap(struct tcp_stack *t, size_t a, size_t b)
{
	struct tcp_flow *x = t->heap[a];

	t->heap[a] = t->heap[b];
	t->heap[b] = x;
	t->heap[a]->heap_idx = a;
	t->heap[b]->heap_idx = b;
}

static void heap_up(struct tcp_stack *t, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (t->heap[p]->heap_key <= t->heap[i]->heap_key)
			break;
		heap_swap(t, p, i);
		i = p;
	}
}

static void heap_down(struct tcp_stack *t, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < t->nheap && t->heap[l]->heap_key < t->heap[m]->heap_key)
			m = l;
		if (r < t->nheap && t->heap[r]->heap_key < t->heap[m]->heap_key)
			m = r;
		if (m == i)
			return;
		heap_swap(t, i, m);
		i = m;
	}
}

static void heap_remove(struct tcp_stack *t, struct tcp_flow *f)
{
	size_t i = f->heap_idx;

	if (i == SIZE_MAX)
		return;
	f->heap_idx = SIZE_MAX;
	t->nheap--;
	if (i == t->nheap)
		return;
	t->heap[i] = t->heap[t->nheap];
	t->heap[i]->heap_idx = i;
	heap_up(t, i);
	heap_down(t, t->heap[i]->heap_idx);
}

static uint64_t flow_deadline(const struct tcp_flow *f)
{
	uint64_t d = UINT64_MAX;

	if (f->t_rtx && f->t_rtx < d)
		d = f->t_rtx;
	if (f->t_delack && f->t_delack < d)
		d = f->t_delack;
	if (f->t_ka && f->t_ka < d)
		d = f->t_ka;
	if (f->t_wait && f->t_wait < d)
		d = f->t_wait;
	return d;
}

/* Make the heap key no later than the flow's earliest timer (lazy: a later
 * deadline is picked up when the flow pops). */
static void timer_update(struct tcp_flow *f)
{
	struct tcp_stack *t = T(f->st);
	uint64_t d = flow_deadline(f);

	if (f->zombie || d == UINT64_MAX)
		return;
	if (f->heap_idx != SIZE_MAX) {
		if (d < f->heap_key) {
			f->heap_key = d;
			heap_up(t, f->heap_idx);
		}
		return;
	}
	if (t->nheap == t->heap_cap) {
		size_t cap = t->heap_cap ? t->heap_cap * 2 : 64;
		struct tcp_flow **n = realloc(t->heap, cap * sizeof(*n));

		if (!n)
			return; /* the flow's timers wait for the next update */
		t->heap = n;
		t->heap_cap = cap;
	}
	f->heap_key = d;
	f->heap_idx = t->nheap;
	t->heap[t->nheap++] = f;
	heap_up(t, f->heap_idx);
}

/* ---- flow table ---- */

static size_t hash_idx(const struct tcp_stack *t, uint32_t raddr, uint16_t rport, uint16_t lport)
{
	uint64_t h = (tuple_word(raddr, rport, lport) ^ t->hash_key) * 0x9e3779b97f4a7c15ull;

	return (size_t)(h >> 32) & t->hmask;
}

static struct tcp_flow *flow_lookup(const struct tcp_stack *t, uint32_t raddr, uint16_t rport,
				    uint16_t lport)
{
	for (struct tcp_flow *f = t->hash[hash_idx(t, raddr, rport, lport)]; f; f = f->hnext)
		if (f->raddr == raddr && f->rport == rport && f->lport == lport)
			return f;
	return NULL;
}

static void hash_remove(struct tcp_stack *t, struct tcp_flow *f)
{
	struct tcp_flow **pp = &t->hash[hash_idx(t, f->raddr, f->rport, f->lport)];

	if (!f->in_hash)
		return;
	while (*pp && *pp != f)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = f->hnext;
	f->in_hash = false;
}

static struct tcp_listener *listener_find(const struct tcp_stack *t, uint16_t port)
{
	for (size_t i = 0; i < t->nlsn; i++)
		if (t->lsn[i]->port == port)
			return t->lsn[i];
	return NULL;
}

static void flow_free_mem(struct tcp_flow *f)
{
	struct tcp_ooo *o = f->ooo;

	while (o) {
		struct tcp_ooo *n = o->next;

		free(o);
		o = n;
	}
	free(f->sbuf);
	free(f->rbuf);
	free(f->rtx);
	free(f);
}

static void reap(struct tcp_stack *t)
{
	if (t->depth > 0)
		return;
	while (t->zombies) {
		struct tcp_flow *f = t->zombies;

		t->zombies = f->znext;
		flow_free_mem(f);
	}
	for (size_t i = 0; i < t->ndead; i++)
		free(t->dead_lsn[i]);
	t->ndead = 0;
}

/* Unlink a flow that is over and, if the application let go, free it later. */
static void flow_maybe_free(struct tcp_flow *f)
{
	struct tcp_stack *t = T(f->st);

	if (f->zombie)
		return;
	if (f->state == TCP_CLOSED) {
		/* a closed flow no longer owns its 4-tuple, even while the
		 * application still holds it: segments get the closed-port answer */
		hash_remove(t, f);
		heap_remove(t, f);
	}
	if (f->state != TCP_CLOSED || (f->known && !f->app_closed))
		return;
	if (f->prev)
		f->prev->next = f->next;
	else
		t->all = f->next;
	if (f->next)
		f->next->prev = f->prev;
	if (f->lsn) {
		f->lsn->nsyn--;
		f->lsn = NULL;
	}
	t->nflows--;
	f->zombie = true;
	f->znext = t->zombies;
	t->zombies = f;
}

static uint32_t make_isn(struct stack *st, uint32_t raddr, uint16_t rport, uint16_t lport)
{
	struct tcp_stack *t = T(st);
	uint64_t h = siphash24_2w(t->isn_key, tuple_word(raddr, rport, lport), st->cfg.addr);

	return (uint32_t)h + (uint32_t)(st->now / 4000);
}

static uint8_t pick_wscale(size_t rcvbuf)
{
	uint8_t ws = 0;

	while (ws < TCP_MAX_WSCALE && (rcvbuf >> ws) > 65535)
		ws++;
	return ws;
}

static struct tcp_flow *flow_new(struct stack *st, uint32_t raddr, uint16_t rport, uint16_t lport,
				 const struct tcp_flow_opts *o)
{
	struct tcp_stack *t = T(st);
	struct tcp_flow *f;
	size_t h;

	if (t->nflows >= st->cfg.tcp.max_connections) {
		CTR_INC(st, TCP_DROP_CONN_LIMIT);
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		CTR_INC(st, TCP_DROP_NOMEM);
		return NULL;
	}
	f->st = st;
	f->laddr = st->cfg.addr;
	f->raddr = raddr;
	f->rport = rport;
	f->lport = lport;
	f->o = *o;
	if (f->o.sndbuf < TCP_SNDBUF_MIN)
		f->o.sndbuf = TCP_SNDBUF_MIN;
	if (f->o.rcvbuf < TCP_RCVBUF_MIN)
		f->o.rcvbuf = TCP_RCVBUF_MIN;
	if (f->o.rcvbuf > (65535u << TCP_MAX_WSCALE))
		f->o.rcvbuf = 65535u << TCP_MAX_WSCALE;
	f->heap_idx = SIZE_MAX;
	f->rto = st->cfg.tcp.rto_initial_ns;
	f->iss = make_isn(st, raddr, rport, lport);
	f->snd_una = f->snd_nxt = f->snd_max = f->iss;
	f->sbuf_seq = f->iss + 1;
	f->push_seq = f->iss + 1;
	f->recover = f->iss;
	f->high_sack = f->rexmit_nxt = f->iss;
	f->peer_mss = TCP_DEFAULT_MSS;
	f->mss = TCP_DEFAULT_MSS;
	f->rcv_ws = pick_wscale(f->o.rcvbuf);
	f->ssthresh = UINT32_MAX;
	f->ts_offset = (uint32_t)siphash24_2w(t->isn_key, tuple_word(raddr, rport, lport), 1);
	f->last_rcv = st->now;
	h = hash_idx(t, raddr, rport, lport);
	f->hnext = t->hash[h];
	t->hash[h] = f;
	f->in_hash = true;
	f->next = t->all;
	if (t->all)
		t->all->prev = f;
	t->all = f;
	t->nflows++;
	return f;
}

/* ---- output ---- */

struct seg_fill {
	struct tcp_repr r;
	uint32_t src, dst;
};

static size_t seg_fill_fn(uint8_t *buf, size_t size, void *ctx)
{
	struct seg_fill *c = ctx;

	(void)size;
	return tcp_repr_emit(&c->r, buf, c->src, c->dst);
}

/* Send @r; with @gso_size nonzero as a TSO super-segment (ipv4_write_opts). */
static int send_repr_gso(struct stack *st, uint32_t dst, struct tcp_repr *r, uint32_t gso_size)
{
	struct seg_fill c;
	struct ipv4_write_opts o = { .fragment = false, .gso_size = (uint16_t)gso_size };
	struct stack_iov iov[2];
	int n = 0, rc;

	c.r = *r;
	c.r.csum_partial = gso_size != 0;
	c.src = st->cfg.addr;
	c.dst = dst;
	if (r->payload_len)
		iov[n++] = (struct stack_iov){ r->payload, r->payload_len };
	if (r->payload2_len)
		iov[n++] = (struct stack_iov){ r->payload2, r->payload2_len };
	rc = ipv4_write(st, &o, dst, IP_PROTO_TCP, tcp_repr_header_len(r), seg_fill_fn, &c, iov, n);
	if (rc == 0)
		CTR_INC(st, TCP_TX);
	else
		CTR_INC(st, TCP_TX_ERR);
	return rc;
}

static int send_repr(struct stack *st, uint32_t dst, struct tcp_repr *r)
{
	return send_repr_gso(st, dst, r, 0);
}

/* A RST (or RST+ACK) in answer to @seg, which arrived from @src; no flow. */
static void send_reset_for(struct stack *st, uint32_t src, const struct tcp_repr *seg)
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
	if (send_repr(st, src, &r) == 0)
		CTR_INC(st, TCP_RESETS_SENT);
}

/* The window we offer, with receiver SWS avoidance; updates rcv_adv. */
static uint16_t rcv_window(struct tcp_flow *f)
{
	size_t space = f->o.rcvbuf > f->rlen ? f->o.rcvbuf - f->rlen : 0;
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
	if (field > 65535)
		field = 65535;
	if (seq_gt(f->rcv_nxt + (field << ws), f->rcv_adv))
		f->rcv_adv = f->rcv_nxt + (field << ws);
	return (uint16_t)field;
}

/* SACK blocks to report: the run holding the latest arrival first. */
static uint8_t build_sack(const struct tcp_flow *f, struct tcp_sack_block *out, size_t max)
{
	struct tcp_sack_block runs[TCP_MAX_SACK + 1];
	size_t n = 0, first = SIZE_MAX;
	const struct tcp_ooo *o = f->ooo;
	uint8_t k = 0;

	while (o) {
		uint32_t l = o->seq, r = o->seq + o->len;
		bool has_last = seq_ge(f->ooo_last_seq, l) && seq_lt(f->ooo_last_seq, r);

		while (o->next && o->next->seq == r) {
			o = o->next;
			r += o->len;
			if (seq_ge(f->ooo_last_seq, o->seq) && seq_lt(f->ooo_last_seq, r))
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

static void fill_common(struct tcp_flow *f, struct tcp_repr *r, uint32_t seq, uint8_t flags)
{
	tcp_repr_init(r);
	r->src_port = f->lport;
	r->dst_port = f->rport;
	r->seq = seq;
	r->flags = flags;
	if (f->state != TCP_SYN_SENT || (flags & TCP_ACK)) {
		r->flags |= TCP_ACK;
		r->ack = f->rcv_nxt;
	}
	if (flags & TCP_SYN) {
		/* never scaled in a SYN */
		r->window = (uint16_t)min32((uint32_t)f->o.rcvbuf, 65535);
		if (f->state != TCP_SYN_SENT && seq_lt(f->rcv_adv, f->rcv_nxt + r->window))
			f->rcv_adv = f->rcv_nxt + r->window;
	} else
		r->window = rcv_window(f);
	if (f->ts_ok) {
		r->has_ts = true;
		r->ts_val = ts_now(f);
		r->ts_ecr = f->ts_recent;
	}
	if (f->sack_ok && f->ooo && !(flags & TCP_SYN))
		r->nsack = build_sack(f, r->sack, TCP_MAX_SACK);
}

/* Note that an ACK went out. */
static void ack_sent(struct tcp_flow *f, const struct tcp_repr *r)
{
	if (r->flags & TCP_ACK) {
		f->last_ack_sent = r->ack;
		f->t_delack = 0;
		f->ack_now = false;
	}
	f->segs_out++;
}

static void send_ack(struct tcp_flow *f)
{
	struct tcp_repr r;

	fill_common(f, &r, f->snd_nxt, TCP_ACK);
	if (send_repr(f->st, f->raddr, &r) == 0)
		ack_sent(f, &r);
}

/* RFC 5961 challenge ACK, at most challenge_ack_limit a second per flow. */
static void challenge_ack(struct tcp_flow *f)
{
	struct stack *st = f->st;

	if (st->now - f->chal_start >= SEC) {
		f->chal_start = st->now;
		f->chal_count = 0;
	}
	if (f->chal_count >= st->cfg.tcp.challenge_ack_limit) {
		CTR_INC(st, TCP_CHALLENGE_ACKS_LIMITED);
		return;
	}
	f->chal_count++;
	CTR_INC(st, TCP_CHALLENGE_ACKS);
	send_ack(f);
}

/*
 * The ACK that RFC 9293 3.10.7.4 asks for when a segment is not acceptable.
 * For one that occupies no sequence space (a pure ACK) or carries SYN, at
 * most one per 500 ms per flow, as Linux's tcp_invalid_ratelimit: two ends
 * whose views of the connection differ, or a forger, cannot drive an ACK
 * storm.  A segment with data or FIN (a zero-window probe, a duplicate) is
 * always answered.
 */
static void oow_ack(struct tcp_flow *f, const struct tcp_repr *seg)
{
	struct stack *st = f->st;

	if (!(seg->payload_len || (seg->flags & TCP_FIN)) || (seg->flags & TCP_SYN)) {
		if (f->oow_last && st->now - f->oow_last < SEC / 2) {
			CTR_INC(st, TCP_OOW_ACKS_LIMITED);
			return;
		}
		f->oow_last = st->now;
	}
	send_ack(f);
}

static void send_rst(struct tcp_flow *f)
{
	struct tcp_repr r;

	tcp_repr_init(&r);
	r.src_port = f->lport;
	r.dst_port = f->rport;
	r.seq = f->snd_nxt;
	r.flags = TCP_RST;
	if (f->state != TCP_SYN_SENT) {
		r.flags |= TCP_ACK;
		r.ack = f->rcv_nxt;
	}
	if (send_repr(f->st, f->raddr, &r) == 0)
		CTR_INC(f->st, TCP_RESETS_SENT);
}

/* Return: as ipv4_write() */
static int send_syn(struct tcp_flow *f)
{
	struct tcp_repr r;
	size_t mtu = ipv4_mtu(f->st, f->raddr);
	bool active = f->state == TCP_SYN_SENT;
	int rc;

	fill_common(f, &r, f->iss, active ? TCP_SYN : TCP_SYN | TCP_ACK);
	r.has_mss = true;
	r.mss = (uint16_t)(mtu > 40 + TCP_MIN_MSS ? mtu - 40 : TCP_MIN_MSS);
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
	rc = send_repr(f->st, f->raddr, &r);
	if (rc == 0)
		ack_sent(f, &r);
	if (!f->t_rtx)
		f->t_rtx = f->st->now + f->rto;
	timer_update(f);
	return rc;
}

/* Effective send MSS: peer's MSS, the path MTU, minus timestamp option. */
static void update_mss(struct tcp_flow *f)
{
	size_t mtu = ipv4_mtu(f->st, f->raddr);
	uint32_t m = mtu > 40 ? (uint32_t)(mtu - 40) : TCP_MIN_MSS;

	m = min32(m, f->peer_mss);
	if (f->ts_ok)
		m -= 12;
	if (m < TCP_MIN_MSS - 12)
		m = TCP_MIN_MSS - 12;
	f->mss = m;
}

static uint32_t flight(const struct tcp_flow *f);

/*
 * Arm the retransmission timer: a tail loss probe timeout (RFC 8985 7.2:
 * 2 SRTT, + 200 ms with one segment in flight, at least 10 ms) when it comes
 * before the RTO and SACK can tell what the probe finds, else the RTO.
 */
static bool pto_get_ext(const struct tcp_flow *f, uint32_t sending, uint64_t *out)
{
	uint64_t pto = (uint64_t)f->srtt_us * 2000;

	if (flight(f) + sending <= f->mss)
		pto += 200 * MS;
	if (pto < 10 * MS)
		pto = 10 * MS;
	*out = pto;
	return f->sack_ok && f->rtt_valid && !f->in_recovery && !f->tlp_out && f->retries == 0 &&
	       (f->state == TCP_ESTABLISHED || f->state == TCP_CLOSE_WAIT) && pto < f->rto;
}

static bool pto_get(const struct tcp_flow *f, uint64_t *out)
{
	return pto_get_ext(f, 0, out);
}

/* @sending: bytes going out now, not yet in the flight (a TSO super-segment:
 * many segments, so no delayed-ACK allowance for a flight of one) */
static void arm_rtx_ext(struct tcp_flow *f, uint32_t sending)
{
	uint64_t pto;

	f->pto_armed = pto_get_ext(f, sending, &pto);
	f->t_rtx = f->st->now + (f->pto_armed ? pto : f->rto);
	timer_update(f);
}

static void arm_rtx(struct tcp_flow *f)
{
	uint64_t pto;

	f->pto_armed = pto_get(f, &pto);
	f->t_rtx = f->st->now + (f->pto_armed ? pto : f->rto);
	timer_update(f);
}

/* Send [seq, seq + len) from the send ring, with FIN if @fin.  SACK blocks
 * take room from the data so the segment still fits the MTU.  More than one
 * MSS (only from tcp_output() when the device takes TSO) goes out as one
 * super-segment that the device cuts into MSS-sized segments; with SACK
 * blocks to send it is cut down to one segment here.
 * Return: data bytes sent (may be less than @len) */
static uint32_t xmit_data(struct tcp_flow *f, uint32_t seq, uint32_t len, bool fin, bool rtx)
{
	struct tcp_repr r;
	size_t off = seq - f->sbuf_seq, pos, extra;
	uint8_t flags = TCP_ACK;
	uint32_t sending;
	int rc;

	if (fin)
		flags |= TCP_FIN;
	if (len && seq + len == f->sbuf_seq + (uint32_t)f->slen)
		flags |= TCP_PSH;
	fill_common(f, &r, seq, flags);
	extra = tcp_repr_header_len(&r) - TCP_HDR_LEN - (f->ts_ok ? 12 : 0);
	if (extra && len + extra > f->mss) {
		if (f->mss > extra + 64) {
			len = f->mss - (uint32_t)extra;
		} else {
			r.nsack = 0;
		}
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
	rc = send_repr_gso(f->st, f->raddr, &r, len > f->mss ? f->mss : 0);
	if (rc == 0)
		ack_sent(f, &r);
	else if (rc == -EMSGSIZE)
		update_mss(f);	/* the path MTU went down (another flow's ICMP) */
	f->bytes_sent += len;
	if (rtx) {
		f->retransmits++;
		CTR_INC(f->st, TCP_RETRANSMITS);
		if (!f->ts_ok)
			f->rtt_timing = false;	/* Karn */
	} else if (!f->rtt_timing && len) {
		f->rtt_timing = true;
		f->rtt_seq = seq + len;
		f->rtt_start = f->st->now;
	}
	sending = !rtx && len > f->mss ? len : 0;
	if (!f->t_rtx || f->persist) {
		f->persist = false;
		arm_rtx_ext(f, sending);
	} else if (!rtx && f->retries == 0) {
		uint64_t pto;

		if (pto_get_ext(f, sending, &pto))
			arm_rtx_ext(f, sending);	/* new data: the probe timeout starts again */
	}
	return len;
}

/* If @seq is inside a SACKed range, return its end, else @seq. */
static uint32_t skip_sacked(const struct tcp_flow *f, uint32_t seq, uint32_t *limit)
{
	for (unsigned i = 0; i < f->nsb; i++) {
		if (seq_ge(seq, f->sb[i].left) && seq_lt(seq, f->sb[i].right))
			seq = f->sb[i].right;
		else if (seq_lt(seq, f->sb[i].left)) {
			*limit = f->sb[i].left;
			return seq;
		}
	}
	*limit = seq + 0x7fffffff;
	return seq;
}

/* RFC 6675 pipe: outstanding bytes neither SACKed nor deemed lost. */
static uint32_t sack_pipe(const struct tcp_flow *f)
{
	uint32_t out = f->snd_max - f->snd_una, lost = 0;

	if (seq_lt(f->rexmit_nxt, f->high_sack)) {
		uint32_t above = 0;

		for (unsigned i = 0; i < f->nsb; i++) {
			uint32_t l = f->sb[i].left, r = f->sb[i].right;

			if (seq_le(r, f->rexmit_nxt))
				continue;
			if (seq_lt(l, f->rexmit_nxt))
				l = f->rexmit_nxt;
			above += r - l;
		}
		lost = (f->high_sack - f->rexmit_nxt) - above;
		for (unsigned i = 0; i < f->nrtx; i++) {
			uint32_t l = f->rtx[i].seq, r = f->rtx[i].end;

			if (seq_lt(l, f->rexmit_nxt))
				l = f->rexmit_nxt;
			if (seq_gt(r, f->high_sack))
				r = f->high_sack;
			if (seq_lt(l, r) && lost >= r - l)
				lost -= r - l;
		}
	}
	if (f->sacked + lost >= out)
		return 0;
	return out - f->sacked - lost;
}

static bool can_send_data(const struct tcp_flow *f)
{
	return f->state == TCP_ESTABLISHED || f->state == TCP_CLOSE_WAIT ||
	       f->state == TCP_FIN_WAIT_1 || f->state == TCP_CLOSING || f->state == TCP_LAST_ACK;
}

/* Return: end of a live retransmission record holding @seq, or 0 */
static uint32_t rtx_covering(const struct tcp_flow *f, uint32_t seq)
{
	for (unsigned i = 0; i < f->nrtx; i++)
		if (seq_ge(seq, f->rtx[i].seq) && seq_lt(seq, f->rtx[i].end))
			return f->rtx[i].end ? f->rtx[i].end : 1;
	return 0;
}

static void rtx_note(struct tcp_flow *f, uint32_t seq, uint32_t end)
{
	if (seq == end)
		return;
	if (!f->rtx) {
		f->rtx = calloc(TCP_RTX_REC, sizeof(*f->rtx));
		if (!f->rtx)
			return;	/* lost retransmissions then wait for the RTO */
		f->nrtx = 0;
	}
	if (f->nrtx == TCP_RTX_REC) {
		memmove(&f->rtx[0], &f->rtx[1], (TCP_RTX_REC - 1) * sizeof(f->rtx[0]));
		f->nrtx--;
	}
	f->rtx[f->nrtx].seq = seq;
	f->rtx[f->nrtx].end = end;
	f->rtx[f->nrtx].mark = f->snd_max;
	f->nrtx++;
}

/* Drop records that are acked or SACKed; a record whose retransmission was
 * overtaken by SACKed later data is lost again: walk back to it. */
static void rtx_check(struct tcp_flow *f)
{
	unsigned j = 0;

	for (unsigned i = 0; i < f->nrtx; i++) {
		uint32_t lim, s = f->rtx[i].seq;

		if (seq_le(f->rtx[i].end, f->snd_una))
			continue;
		if (seq_lt(s, f->snd_una))
			s = f->snd_una;
		s = skip_sacked(f, s, &lim);
		if (seq_ge(s, f->rtx[i].end))
			continue;
		if (seq_gt(f->high_sack, f->rtx[i].mark + f->mss)) {
			if (seq_lt(s, f->rexmit_nxt))
				f->rexmit_nxt = s;
			CTR_INC(f->st, TCP_LOST_RETRANSMITS);
			continue;
		}
		f->rtx[j++] = f->rtx[i];
	}
	f->nrtx = j;
}

static void output_recovery(struct tcp_flow *f)
{
	uint32_t data_end = f->sbuf_seq + (uint32_t)f->slen;

	for (int guard = 0; guard < 1024; guard++) {
		uint32_t pipe = sack_pipe(f), limit, s, len, sent;
		bool fin;

		if (pipe + f->mss > f->cwnd)
			break;
		if (seq_lt(f->rexmit_nxt, f->snd_una))
			f->rexmit_nxt = f->snd_una;
		s = skip_sacked(f, f->rexmit_nxt, &limit);
		if (seq_lt(s, f->high_sack) && seq_lt(s, data_end)) {
			uint32_t in_flight = rtx_covering(f, s);

			if (in_flight) {
				f->rexmit_nxt = in_flight;	/* retransmitted, not lost */
				continue;
			}
			len = min32(f->mss, min32(limit - s, data_end - s));
			len = xmit_data(f, s, len, false, true);
			rtx_note(f, s, s + len);
			f->rexmit_nxt = s + len;
			continue;
		}
		f->rexmit_nxt = s;
		/* new data */
		if (seq_lt(f->snd_max, data_end)) {
			uint32_t wnd_end = f->snd_una + f->snd_wnd;

			len = min32(f->mss, data_end - f->snd_max);
			if (seq_lt(wnd_end, f->snd_max + len))
				break;
			f->snd_nxt = f->snd_max;
			fin = f->fin_queued && f->snd_nxt + len == data_end;
			sent = xmit_data(f, f->snd_nxt, len, fin, false);
			f->snd_nxt += sent + (fin && sent == len);
			f->snd_max = f->snd_nxt;
			continue;
		}
		break;
	}
}

/*
 * TSO for this flow?  Not below the default MSS: a peer that announces less
 * (a broken path or an attack) gets one segment per frame, so that what we
 * write is what it receives.
 */
static bool tso_ok(const struct tcp_flow *f)
{
	return f->st->tso && f->mss > TCP_DEFAULT_MSS;
}

/*
 * Largest TSO super-segment payload: whole MSS, within a 64 KiB datagram, and
 * at most a quarter of cwnd (at least 2 MSS), so that a window holds several
 * super-segments: the peer then ACKs several times per round trip, and one
 * lost ACK or frame does not stall the flight (as Linux's TSO autosizing).
 */
static uint32_t tso_max(const struct tcp_flow *f)
{
	uint32_t room = 65535 - 20 - TCP_HDR_LEN - 12;

	room = min32(room, max32(f->cwnd / 4, 2 * f->mss));
	return room / f->mss * f->mss;
}

static void arm_persist(struct tcp_flow *f)
{
	uint64_t iv = f->rto << (f->backoff < 16 ? f->backoff : 16);

	if (iv > TCP_PERSIST_MAX || iv == 0)
		iv = TCP_PERSIST_MAX;
	f->persist = true;
	f->t_rtx = f->st->now + iv;
	timer_update(f);
}

/* Send what the windows, Nagle and the state allow; then a pending ACK. */
static void tcp_output(struct tcp_flow *f)
{
	uint32_t data_end;
	int guard;

	if (f->zombie || !can_send_data(f)) {
		if (f->zombie)
			return;
		goto ack;
	}
	if (f->in_recovery && f->sack_ok) {
		output_recovery(f);
		goto ack;
	}
	data_end = f->sbuf_seq + (uint32_t)f->slen;
	for (guard = 0; guard < 100000; guard++) {
		uint32_t avail, inflight, wnd, usable, len, limit = 0, sent;
		bool rtx, fin;

		if (seq_ge(f->snd_nxt, data_end)) {
			if (f->fin_queued && f->snd_nxt == data_end) {
				rtx = seq_lt(f->snd_nxt, f->snd_max);
				xmit_data(f, f->snd_nxt, 0, true, rtx);
				f->snd_nxt++;
				if (seq_gt(f->snd_nxt, f->snd_max))
					f->snd_max = f->snd_nxt;
			}
			break;
		}
		rtx = seq_lt(f->snd_nxt, f->snd_max);
		if (rtx && f->nsb) {
			uint32_t s = skip_sacked(f, f->snd_nxt, &limit);

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

			if (len > usable)
				len = usable / f->mss * f->mss;
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
		sent = xmit_data(f, f->snd_nxt, len, fin, rtx);
		f->snd_nxt += sent + (fin && sent == len);
		if (seq_gt(f->snd_nxt, f->snd_max))
			f->snd_max = f->snd_nxt;
	}
	/* zero window: probe when nothing is outstanding */
	if (f->snd_una == f->snd_max &&
	    (seq_lt(f->snd_nxt, data_end) || (f->fin_queued && f->snd_nxt == data_end)) &&
	    (!f->t_rtx || f->persist)) {
		if (!f->persist)
			arm_persist(f);
	}
ack:
	if ((f->ack_now || (seq_gt(f->rcv_nxt, f->last_ack_sent) && !f->t_delack)) &&
	    f->state != TCP_SYN_SENT && f->state != TCP_SYN_RECEIVED && f->state != TCP_CLOSED)
		send_ack(f);
}

/* ---- application notification ---- */

static void report_closed(struct tcp_flow *f, int err)
{
	if (f->closed_reported || !f->known || f->app_closed)
		return;
	f->closed_reported = true;
	if (f->cb.closed)
		f->cb.closed(f->cb_ctx, f, err);
}

/* Tear the connection down: CLOSED, tell the application, maybe free. */
static void flow_drop(struct tcp_flow *f, int err)
{
	f->state = TCP_CLOSED;
	f->t_rtx = f->t_delack = f->t_ka = f->t_wait = 0;
	hash_remove(T(f->st), f);	/* before the callbacks: the tuple is free */
	if (!f->known && f->on_connect) {
		tcp_connect_fn cb = f->on_connect;

		f->on_connect = NULL;
		cb(f->connect_ctx, NULL, err ? err : -ECONNABORTED);
	} else {
		report_closed(f, err);
	}
	flow_maybe_free(f);
}

static void enter_time_wait(struct tcp_flow *f)
{
	f->state = TCP_TIME_WAIT;
	f->t_rtx = f->t_ka = f->t_delack = 0;
	f->persist = false;
	f->t_wait = f->st->now + 2 * f->st->cfg.tcp.msl_ns;
	timer_update(f);
	report_closed(f, 0);
}

static void flow_established(struct tcp_flow *f)
{
	struct stack *st = f->st;

	f->state = TCP_ESTABLISHED;
	CTR_INC(st, TCP_ESTABLISHED);
	update_mss(f);
	/* RFC 6928 initial window */
	f->cwnd = min32(10 * f->mss, max32(2 * f->mss, 14600));
	f->last_rcv = st->now;
	if (f->o.keepalive) {
		f->t_ka = st->now + f->o.ka_idle_ns;
		timer_update(f);
	}
	if (f->lsn) {
		struct tcp_listener *l = f->lsn;

		l->nsyn--;
		f->lsn = NULL;
		f->known = true;
		if (l->dead) {
			send_rst(f);
			flow_drop(f, -ECONNABORTED);
			return;
		}
		l->cb(l->ctx, f);
	} else if (f->on_connect) {
		tcp_connect_fn cb = f->on_connect;

		f->on_connect = NULL;
		f->known = true;
		cb(f->connect_ctx, f, 0);
	}
}

static void maybe_writable(struct tcp_flow *f)
{
	if (!f->want_writable || f->app_closed || f->fin_queued)
		return;
	if (f->o.sndbuf - f->slen < f->o.sndbuf / 4)
		return;
	f->want_writable = false;
	if (f->cb.writable)
		f->cb.writable(f->cb_ctx, f);
}

/* ---- receive queue ---- */


/*
 * ring_regrow() - Copy the @len bytes of a ring (@cap bytes, data from @head,
 * wrapping) to the start of a new buffer of @newcap bytes (>= @len)
 *
 * Return: the new buffer (the caller frees the old one), or NULL
 */
static uint8_t *ring_regrow(const uint8_t *buf, size_t cap, size_t head, size_t len,
			    size_t newcap)
{
	uint8_t *n = malloc(newcap);

	if (!n)
		return NULL;
	for (size_t i = 0; i < len;) {
		size_t pos = (head + i) % cap, k = minsz(len - i, cap - pos);

		memcpy(n + i, buf + pos, k);
		i += k;
	}
	return n;
}
static bool rq_push(struct tcp_flow *f, const uint8_t *data, size_t len)
{
	if (f->rlen + len > f->rcap) {
		size_t cap = f->rcap ? f->rcap : 4096;
		uint8_t *n;

		while (cap < f->rlen + len)
			cap *= 2;
		n = ring_regrow(f->rbuf, f->rcap, f->rhead, f->rlen, cap);
		if (!n)
			return false;
		free(f->rbuf);
		f->rbuf = n;
		f->rcap = cap;
		f->rhead = 0;
	}
	for (size_t i = 0; i < len;) {
		size_t pos = (f->rhead + f->rlen) % f->rcap, k = minsz(len - i, f->rcap - pos);

		memcpy(f->rbuf + pos, data + i, k);
		f->rlen += k;
		i += k;
	}
	return true;
}

static bool can_deliver(const struct tcp_flow *f)
{
	return !f->paused && f->cb.recv && !f->app_closed && !f->zombie;
}

/* Deliver queued data then a pending end of stream, while allowed. */
static void deliver_queue(struct tcp_flow *f)
{
	size_t before = f->rlen;

	if (f->in_deliver)
		return;	/* called again from a recv callback: the outer loop goes on */
	f->in_deliver = true;
	while (f->rlen && can_deliver(f)) {
		size_t k = minsz(f->rlen, f->rcap - f->rhead);
		const uint8_t *p = f->rbuf + f->rhead;

		f->rhead = (f->rhead + k) % f->rcap;
		f->rlen -= k;
		f->cb.recv(f->cb_ctx, f, p, k);
	}
	if (f->rlen == 0 && f->rbuf) {
		free(f->rbuf);
		f->rbuf = NULL;
		f->rcap = f->rhead = 0;
	}
	if (!f->rlen && f->fin_rcvd && !f->eof_delivered && can_deliver(f)) {
		f->eof_delivered = true;
		f->cb.recv(f->cb_ctx, f, NULL, 0);
	}
	f->in_deliver = false;
	if (before && !f->zombie && synchronized(f) && f->state != TCP_TIME_WAIT &&
	    f->rlen < before) {
		/* the window opened: tell the peer if it moved enough */
		uint32_t old = f->rcv_adv;

		(void)rcv_window(f);
		if (f->rcv_adv != old || before >= f->o.rcvbuf / 2)
			send_ack(f);
	}
}

/* In-order data: straight to the application, or into the queue. */
static void deliver_data(struct tcp_flow *f, const uint8_t *data, size_t len)
{
	f->bytes_received += len;
	if (f->rd_shut) {
		CTR_INC(f->st, TCP_DROP_SHUT_RD);
		return;
	}
	if (f->rlen == 0 && can_deliver(f)) {
		f->cb.recv(f->cb_ctx, f, data, len);
		return;
	}
	if (!rq_push(f, data, len))
		CTR_INC(f->st, TCP_DROP_NOMEM);
}

/* ---- out-of-order queue ---- */

static size_t ooo_cost(uint32_t len)
{
	return len < TCP_OOO_MIN_CHARGE ? TCP_OOO_MIN_CHARGE : len;
}

static void ooo_insert(struct tcp_flow *f, uint32_t seq, const uint8_t *data, uint32_t len)
{
	struct tcp_ooo **pp = &f->ooo, *n;
	uint32_t end = seq + len;

	/* skip pieces that end before us; trim against the one before */
	while (*pp && seq_le((*pp)->seq + (*pp)->len, seq))
		pp = &(*pp)->next;
	if (*pp && seq_le((*pp)->seq, seq)) {
		/* starts inside an existing piece */
		uint32_t pend = (*pp)->seq + (*pp)->len;

		if (seq_ge(pend, end)) {
			CTR_INC(f->st, TCP_DUP_DATA);
			f->ooo_last_seq = seq;
			return;
		}
		data += pend - seq;
		seq = pend;
		pp = &(*pp)->next;
	}
	/* drop pieces we cover entirely; trim our end against the next one */
	while (*pp && seq_le((*pp)->seq + (*pp)->len, end) && seq_ge((*pp)->seq, seq)) {
		struct tcp_ooo *d = *pp;

		*pp = d->next;
		f->ooo_bytes -= d->len;
		f->ooo_charge -= ooo_cost(d->len);
		free(d);
	}
	if (*pp && seq_lt((*pp)->seq, end))
		end = (*pp)->seq;
	len = end - seq;
	if (len == 0)
		return;
	if (f->ooo_charge + ooo_cost(len) > f->st->cfg.tcp.ooo_max_bytes) {
		CTR_INC(f->st, TCP_DROP_OOO_FULL);
		return;
	}
	n = malloc(sizeof(*n) + len);
	if (!n) {
		CTR_INC(f->st, TCP_DROP_NOMEM);
		return;
	}
	n->seq = seq;
	n->len = len;
	memcpy(n->data, data, len);
	n->next = *pp;
	*pp = n;
	f->ooo_bytes += len;
	f->ooo_charge += ooo_cost(len);
	f->ooo_last_seq = seq;
	CTR_INC(f->st, TCP_OOO_QUEUED);
}

/* Move pieces that became in order to the application. */
static void ooo_drain(struct tcp_flow *f)
{
	while (f->ooo && seq_le(f->ooo->seq, f->rcv_nxt) && !f->zombie) {
		struct tcp_ooo *o = f->ooo;
		uint32_t end = o->seq + o->len;

		f->ooo = o->next;
		f->ooo_bytes -= o->len;
		f->ooo_charge -= ooo_cost(o->len);
		if (seq_gt(end, f->rcv_nxt)) {
			uint32_t skip = f->rcv_nxt - o->seq;

			f->rcv_nxt = end;
			deliver_data(f, o->data + skip, o->len - skip);
		}
		free(o);
	}
}

/* ---- congestion control ---- */

static double cubic_cbrt(double x)
{
	double y = x > 1 ? x / 3 : 1;

	if (x <= 0)
		return 0;
	for (int i = 0; i < 60; i++) {
		double n = (2 * y + x / (y * y)) / 3;

		if (n == y)
			break;
		y = n;
	}
	return y;
}

static uint32_t flight(const struct tcp_flow *f)
{
	return f->snd_max - f->snd_una;
}

/* ssthresh after a loss (RFC 5681 eq. 4; CUBIC: beta 0.7) */
static uint32_t loss_ssthresh(struct tcp_flow *f)
{
	uint32_t fl = flight(f);

	if (f->o.cc == TCP_CC_CUBIC) {
		uint32_t w = f->cwnd;

		/* fast convergence (RFC 9438 4.7) */
		if (w < f->cubic_wmax)
			f->cubic_wmax = (uint32_t)(w * (1.0 + 0.7) / 2.0);
		else
			f->cubic_wmax = w;
		f->cubic_epoch = 0;
		return max32((uint32_t)(w * 0.7), 2 * f->mss);
	}
	return max32(fl / 2, 2 * f->mss);
}

static void cc_on_ack(struct tcp_flow *f, uint32_t acked)
{
	uint32_t mss = f->mss;

	if (f->cwnd < f->ssthresh) {
		f->cwnd += min32(acked, 2 * mss);	/* ABC, L = 2 */
		return;
	}
	if (f->o.cc == TCP_CC_CUBIC) {
		double t, wc, target, segs_wmax = (double)f->cubic_wmax / mss;
		uint32_t cw;

		if (!f->cubic_epoch) {
			f->cubic_epoch = f->st->now;
			if (f->cwnd < f->cubic_wmax)
				f->cubic_k = cubic_cbrt((segs_wmax - (double)f->cwnd / mss) / 0.4);
			else {
				f->cubic_k = 0;
				f->cubic_wmax = f->cwnd;
				segs_wmax = (double)f->cwnd / mss;
			}
			f->cubic_west = f->cwnd;
			f->bytes_acked_ca = 0;
		}
		t = (double)(f->st->now - f->cubic_epoch) / SEC +
		    (f->rtt_valid ? f->srtt_us / 1e6 : 0);
		wc = 0.4 * (t - f->cubic_k) * (t - f->cubic_k) * (t - f->cubic_k) + segs_wmax;
		/* Reno-friendly estimate (RFC 9438 4.3, alpha = 3(1-beta)/(1+beta)) */
		f->bytes_acked_ca += acked;
		if (f->bytes_acked_ca >= f->cubic_west) {
			f->bytes_acked_ca -= f->cubic_west;
			f->cubic_west += (uint32_t)(mss * 3.0 * 0.3 / 1.7);
		}
		target = wc * mss;
		if (target > 1.5 * f->cwnd)
			target = 1.5 * f->cwnd;
		cw = f->cwnd;
		if ((double)f->cubic_west > target)
			target = f->cubic_west;
		if (target > cw)	/* (target - cwnd) / cwnd per segment acked */
			f->cwnd = cw + (uint32_t)((target - cw) * acked / cw) + 1;
		if (f->cwnd > (1u << 30))
			f->cwnd = 1u << 30;
		return;
	}
	/* RFC 5681 congestion avoidance, byte counting */
	f->bytes_acked_ca += acked;
	if (f->bytes_acked_ca >= f->cwnd) {
		f->bytes_acked_ca -= f->cwnd;
		f->cwnd += mss;
	}
}

/* ---- RTT ---- */

static void rtt_sample(struct tcp_flow *f, uint64_t rtt_ns);

/* An RTT sample from a timestamp echo, if the echo is plausible (RFC 7323
 * 4.1: an echo from the future or from long ago is not used). */
static void ts_sample(struct tcp_flow *f, uint32_t ecr)
{
	uint32_t d = ts_now(f) - ecr;

	if (ecr && d < 120000)
		rtt_sample(f, (uint64_t)d * MS);
}

static void rtt_sample(struct tcp_flow *f, uint64_t rtt_ns)
{
	const struct tcp_config *c = &f->st->cfg.tcp;
	uint32_t r = (uint32_t)minsz(rtt_ns / 1000, 0xffffffffu);
	uint64_t rto;

	if (r == 0)
		r = 1;
	if (!f->rtt_valid) {
		f->srtt_us = r;
		f->rttvar_us = r / 2;
		f->rtt_valid = true;
	} else {
		uint32_t d = f->srtt_us > r ? f->srtt_us - r : r - f->srtt_us;

		f->rttvar_us = (3 * f->rttvar_us + d) / 4;
		f->srtt_us = (7 * f->srtt_us + r) / 8;
		if (f->srtt_us == 0)
			f->srtt_us = 1;
	}
	rto = ((uint64_t)f->srtt_us + max32(1000, 4 * f->rttvar_us)) * 1000;
	if (rto < c->rto_min_ns)
		rto = c->rto_min_ns;
	if (rto > c->rto_max_ns)
		rto = c->rto_max_ns;
	f->rto = rto;
	f->backoff = 0;
}

/* ---- SACK scoreboard ---- */

static void sb_prune(struct tcp_flow *f)
{
	unsigned j = 0;

	f->sacked = 0;
	for (unsigned i = 0; i < f->nsb; i++) {
		struct tcp_sack_block b = f->sb[i];

		if (seq_le(b.right, f->snd_una))
			continue;
		if (seq_lt(b.left, f->snd_una))
			b.left = f->snd_una;
		f->sb[j++] = b;
		f->sacked += b.right - b.left;
	}
	f->nsb = j;
	if (seq_lt(f->high_sack, f->snd_una))
		f->high_sack = f->snd_una;
}

static void sb_add(struct tcp_flow *f, uint32_t l, uint32_t r)
{
	unsigned i = 0, j;

	if (seq_le(r, f->snd_una) || seq_gt(r, f->snd_max) || seq_ge(l, r) ||
	    seq_lt(l, f->snd_una - 0x40000000u))
		return;
	if (seq_lt(l, f->snd_una))
		l = f->snd_una;
	while (i < f->nsb && seq_lt(f->sb[i].right, l))
		i++;
	/* merge with every range that touches [l, r) */
	j = i;
	while (j < f->nsb && seq_le(f->sb[j].left, r)) {
		if (seq_lt(f->sb[j].left, l))
			l = f->sb[j].left;
		if (seq_gt(f->sb[j].right, r))
			r = f->sb[j].right;
		j++;
	}
	if (j == i) {
		if (f->nsb == TCP_SB_MAX)
			return;	/* full: ignore (conservative) */
		memmove(&f->sb[i + 1], &f->sb[i], (f->nsb - i) * sizeof(f->sb[0]));
		f->nsb++;
	} else if (j > i + 1) {
		memmove(&f->sb[i + 1], &f->sb[j], (f->nsb - j) * sizeof(f->sb[0]));
		f->nsb -= j - i - 1;
	}
	f->sb[i].left = l;
	f->sb[i].right = r;
	if (seq_gt(r, f->high_sack))
		f->high_sack = r;
	f->sacked = 0;
	for (i = 0; i < f->nsb; i++)
		f->sacked += f->sb[i].right - f->sb[i].left;
}

/* ---- input ---- */

static void take_options(struct tcp_flow *f, const struct tcp_repr *seg)
{
	if (seg->has_mss && seg->mss)
		f->peer_mss = max32(seg->mss, TCP_MIN_MSS);
	else
		f->peer_mss = TCP_DEFAULT_MSS;
	f->ws_ok = seg->wscale >= 0;
	if (f->ws_ok)
		f->snd_ws = (uint8_t)seg->wscale;
	else
		f->snd_ws = f->rcv_ws = 0;
	f->sack_ok = seg->sack_perm;
	f->ts_ok = seg->has_ts;
	if (f->ts_ok)
		f->ts_recent = seg->ts_val;
}

/* A new ACK covering [snd_una, ack). */
static void ack_new(struct tcp_flow *f, const struct tcp_repr *seg)
{
	struct stack *st = f->st;
	uint32_t ack = seg->ack, acked = ack - f->snd_una;
	size_t n = 0;

	if (seq_gt(ack, f->sbuf_seq))
		n = minsz(ack - f->sbuf_seq, f->slen);
	if (n) {
		f->shead = (f->shead + n) % f->scap;
		f->slen -= n;
		f->sbuf_seq += (uint32_t)n;
		f->bytes_acked += n;
		if (f->slen == 0) {
			/* idle flows hold no send buffer */
			free(f->sbuf);
			f->sbuf = NULL;
			f->scap = f->shead = 0;
		}
	}
	f->snd_una = ack;
	if (seq_lt(f->snd_nxt, ack))
		f->snd_nxt = ack;
	/* RTT: timestamps (RFC 7323 4.1), else the timed segment (Karn) */
	if (f->ts_ok && seg->has_ts && seg->ts_ecr) {
		ts_sample(f, seg->ts_ecr);
	} else if (f->rtt_timing && seq_ge(ack, f->rtt_seq)) {
		f->rtt_timing = false;
		rtt_sample(f, st->now - f->rtt_start);
	}
	f->retries = 0;
	f->first_rtx = 0;
	f->probes = 0;
	if (f->sack_ok)
		sb_prune(f);
	/* congestion control */
	if (f->in_recovery) {
		if (seq_ge(ack, f->recover)) {
			f->in_recovery = false;
			f->dupacks = 0;
			f->cwnd = f->sack_ok ? f->ssthresh
					     : min32(f->ssthresh, max32(flight(f), f->mss) + f->mss);
		} else if (!f->sack_ok) {
			/* NewReno partial ACK (RFC 6582 3.2 step 5) */
			xmit_data(f, f->snd_una, min32(f->mss, f->sbuf_seq + (uint32_t)f->slen -
								f->snd_una),
				  false, true);
			f->cwnd = f->cwnd > acked ? f->cwnd - acked : 0;
			f->cwnd += f->mss;
			f->t_rtx = st->now + f->rto;
		}
	} else {
		f->dupacks = 0;
		cc_on_ack(f, acked);
	}
	/* retransmission timer (RFC 6298 5.2, 5.3) */
	f->tlp_out = false;
	if (f->snd_una == f->snd_max) {
		f->t_rtx = 0;
		f->pto_armed = false;
		f->persist = false;
	} else if (!f->persist) {
		arm_rtx(f);
	}
	timer_update(f);
}

static void enter_recovery(struct tcp_flow *f)
{
	struct stack *st = f->st;
	uint32_t data_end = f->sbuf_seq + (uint32_t)f->slen;

	f->ssthresh = loss_ssthresh(f);
	f->recover = f->snd_max;
	f->in_recovery = true;
	f->fast_retransmits++;
	CTR_INC(st, TCP_FAST_RETRANSMITS);
	f->nrtx = 0;
	if (f->sack_ok) {
		f->cwnd = f->ssthresh;
		f->rexmit_nxt = f->snd_una;
		if (seq_lt(f->high_sack, f->snd_una + 1))
			f->high_sack = f->snd_una + 1; /* snd_una's segment is lost */
		/* retransmit the first segment at once (RFC 6675 step 4.3) */
		if (seq_lt(f->snd_una, data_end)) {
			uint32_t limit, len;

			(void)skip_sacked(f, f->snd_una, &limit);
			len = min32(f->mss, min32(data_end - f->snd_una, limit - f->snd_una));
			len = xmit_data(f, f->snd_una, len, false, true);
			rtx_note(f, f->snd_una, f->snd_una + len);
			f->rexmit_nxt = f->snd_una + len;
		}
	} else {
		f->cwnd = f->ssthresh + 3 * f->mss;
		if (seq_lt(f->snd_una, data_end))
			xmit_data(f, f->snd_una, min32(f->mss, data_end - f->snd_una), false,
				  true);
		else if (f->fin_queued)
			xmit_data(f, f->snd_una, 0, true, true);
	}
}

/* Step 5 of RFC 9293 3.10.7.4 for synchronized states.  Return: false to
 * stop processing the segment. */
static bool process_ack(struct tcp_flow *f, const struct tcp_repr *seg)
{
	uint32_t ack = seg->ack;
	uint32_t wnd = (uint32_t)seg->window << f->snd_ws;
	bool dup = false;

	if (seq_gt(ack, f->snd_max)) {
		CTR_INC(f->st, TCP_DROP_BAD_ACK);
		challenge_ack(f);
		return false;
	}
	if (seq_lt(ack, f->snd_una - max32(f->max_snd_wnd, 1))) {
		CTR_INC(f->st, TCP_DROP_BAD_ACK);
		challenge_ack(f);
		return false;
	}
	if (f->sack_ok && seg->nsack) {
		for (unsigned i = 0; i < seg->nsack; i++)
			sb_add(f, seg->sack[i].left, seg->sack[i].right);
	}
	if (seq_gt(ack, f->snd_una)) {
		ack_new(f, seg);
	} else if (ack == f->snd_una && seg->payload_len == 0 &&
		   !(seg->flags & (TCP_SYN | TCP_FIN)) && f->snd_max != f->snd_una &&
		   wnd == f->snd_wnd) {
		dup = true;
		f->dup_acks_in++;
	}
	/* window update (RFC 9293 3.10.7.4) */
	if (seq_lt(f->snd_wl1, seg->seq) ||
	    (f->snd_wl1 == seg->seq && seq_le(f->snd_wl2, ack))) {
		bool opened = f->snd_wnd == 0 && wnd > 0;

		f->snd_wnd = wnd;
		f->snd_wl1 = seg->seq;
		f->snd_wl2 = ack;
		if (wnd > f->max_snd_wnd)
			f->max_snd_wnd = wnd;
		if (opened && f->persist) {
			f->persist = false;
			f->t_rtx = 0;
			f->backoff = 0;
			if (f->snd_una != f->snd_max)
				f->t_rtx = f->st->now + f->rto;
		}
	}
	if (f->persist && seg->flags & TCP_ACK)
		f->probes = 0;	/* the peer answers our probes */
	if (f->in_recovery && f->sack_ok && f->nrtx)
		rtx_check(f);
	if (f->tlp_out && !f->in_recovery && f->sack_ok && seq_ge(f->high_sack, f->tlp_end) &&
	    seq_lt(f->snd_una, f->high_sack) && seq_gt(f->snd_una, f->recover)) {
		f->tlp_out = false;
		enter_recovery(f);	/* the probe arrived, something before it did not */
	}
	if (dup) {
		f->dupacks++;
		if (f->in_recovery && !f->sack_ok) {
			f->cwnd += f->mss;	/* NewReno inflation */
		} else if (!f->in_recovery && seq_gt(f->snd_una, f->recover) &&
			   (f->dupacks >= 3 || (f->sack_ok && f->sacked > 3 * f->mss))) {
			enter_recovery(f);
		} else if (!f->in_recovery && f->snd_una == f->recover &&
			   (f->dupacks >= 3 || (f->sack_ok && f->sacked > 3 * f->mss))) {
			/* RFC 6582 4.1: recover reached exactly after an RTO */
			enter_recovery(f);
		}
	} else if (f->sack_ok && !f->in_recovery && f->sacked > 3 * f->mss &&
		   seq_ge(f->snd_una, f->recover) && f->snd_una != f->snd_max) {
		enter_recovery(f);
	}
	return true;
}

/* Our FIN is acknowledged? */
static bool fin_acked(const struct tcp_flow *f)
{
	return f->fin_queued && f->snd_una == f->sbuf_seq + (uint32_t)f->slen + 1;
}

static void schedule_ack(struct tcp_flow *f, bool now)
{
	uint32_t mss2 = 2 * (f->rcv_mss ? f->rcv_mss : f->mss);

	if (now || f->rcv_nxt - f->last_ack_sent >= mss2) {
		f->t_delack = 0;
		f->ack_now = true;
		return;	/* tcp_output() sends it */
	}
	if (!f->t_delack) {
		f->t_delack = f->st->now + f->st->cfg.tcp.delack_ns;
		timer_update(f);
	}
}

static void time_wait_input(struct tcp_flow *f, const struct tcp_repr *seg)
{
	if (seg->flags & TCP_RST) {
		CTR_INC(f->st, TCP_DROP_RST_INVALID);
		return;	/* RFC 1337: no assassination */
	}
	if (seg->flags & TCP_FIN) {
		f->t_wait = f->st->now + 2 * f->st->cfg.tcp.msl_ns;
		timer_update(f);
	}
	if (seg->flags & TCP_SYN)
		challenge_ack(f);
	else if (seg->payload_len || (seg->flags & TCP_FIN))
		send_ack(f);	/* a bare ACK is not answered: no ACK loops */
}

static void flow_input(struct tcp_flow *f, struct tcp_repr *seg);

/* SYN_SENT (RFC 9293 3.10.7.3). */
static void syn_sent_input(struct tcp_flow *f, struct tcp_repr *seg)
{
	struct stack *st = f->st;

	if (seg->flags & TCP_ACK) {
		if (seq_le(seg->ack, f->iss) || seq_gt(seg->ack, f->snd_max)) {
			CTR_INC(st, TCP_DROP_SYN_SENT);
			if (!(seg->flags & TCP_RST))
				send_reset_for(st, f->raddr, seg);
			return;
		}
	}
	if (seg->flags & TCP_RST) {
		CTR_INC(st, TCP_RESETS_RX);
		if (seg->flags & TCP_ACK)
			flow_drop(f, -ECONNREFUSED);
		else
			CTR_INC(st, TCP_DROP_RST_INVALID);
		return;
	}
	if (!(seg->flags & TCP_SYN)) {
		CTR_INC(st, TCP_DROP_SYN_SENT);
		return;
	}
	f->irs = seg->seq;
	f->rcv_nxt = seg->seq + 1;
	f->rcv_adv = f->rcv_nxt + min32((uint32_t)f->o.rcvbuf, 65535);
	take_options(f, seg);
	f->snd_wl1 = seg->seq;
	f->snd_wl2 = seg->ack;
	if (seg->flags & TCP_ACK) {
		f->snd_una = seg->ack;
		f->snd_wnd = (uint32_t)seg->window << f->snd_ws;
		f->max_snd_wnd = f->snd_wnd;
		if (f->ts_ok && seg->ts_ecr)
			ts_sample(f, seg->ts_ecr);
		else if (f->retries == 0)
			rtt_sample(f, st->now - f->rtt_start);
		f->t_rtx = 0;
		f->retries = 0;
		flow_established(f);
		if (f->zombie || f->state == TCP_CLOSED)
			return;
		send_ack(f);
		tcp_output(f);
		return;
	}
	/* simultaneous open */
	f->state = TCP_SYN_RECEIVED;
	f->snd_wnd = seg->window;	/* not scaled in a SYN */
	f->max_snd_wnd = f->snd_wnd;
	f->t_rtx = 0;
	f->retries = 0;
	send_syn(f);
}

/* Trim @seg to the receive window.  Return: false if it is not acceptable. */
static bool seq_check(struct tcp_flow *f, struct tcp_repr *seg)
{
	uint32_t wnd = seq_gt(f->rcv_adv, f->rcv_nxt) ? f->rcv_adv - f->rcv_nxt : 0;
	uint32_t slen = (uint32_t)seg->payload_len + !!(seg->flags & TCP_SYN) +
			!!(seg->flags & TCP_FIN);
	uint32_t seq = seg->seq, end = seq + slen;
	bool ok;

	if (slen == 0)
		ok = wnd == 0 ? seq == f->rcv_nxt
			      : seq_ge(seq, f->rcv_nxt) && seq_lt(seq, f->rcv_nxt + wnd);
	else if (wnd == 0)
		ok = seq == f->rcv_nxt;	/* ACK, RST, URG only: the data is cut below */
	else
		ok = (seq_ge(seq, f->rcv_nxt) && seq_lt(seq, f->rcv_nxt + wnd)) ||
		     (seq_ge(end - 1, f->rcv_nxt) && seq_lt(end - 1, f->rcv_nxt + wnd));
	if (!ok)
		return false;
	/* left trim: data we already have */
	if (seq_lt(seq, f->rcv_nxt)) {
		uint32_t d = f->rcv_nxt - seq;

		if (seg->flags & TCP_SYN) {
			seg->flags &= (uint8_t)~TCP_SYN;
			d--;
			seg->seq++;
		}
		if (d >= seg->payload_len) {
			d -= (uint32_t)seg->payload_len;
			seg->payload_len = 0;
			if (d && (seg->flags & TCP_FIN))
				seg->flags &= (uint8_t)~TCP_FIN;
		} else {
			seg->payload += d;
			seg->payload_len -= d;
		}
		seg->seq = f->rcv_nxt;
		CTR_INC(f->st, TCP_DUP_DATA);
		f->ack_now = true;	/* our ACK may have been lost */
	}
	/* right trim: beyond the window */
	if (seq_gt(seg->seq + (uint32_t)seg->payload_len, f->rcv_nxt + wnd)) {
		seg->payload_len = (f->rcv_nxt + wnd) - seg->seq;
		seg->flags &= (uint8_t)~TCP_FIN;
		f->ack_now = true;	/* e.g. a zero-window probe: tell the window */
	}
	return true;
}

/* Process the FIN at rcv_nxt. */
static void fin_input(struct tcp_flow *f)
{
	f->rcv_nxt++;
	f->fin_rcvd = true;
	switch (f->state) {
	case TCP_SYN_RECEIVED:
	case TCP_ESTABLISHED:
		f->state = TCP_CLOSE_WAIT;
		break;
	case TCP_FIN_WAIT_1:
		if (fin_acked(f))
			enter_time_wait(f);
		else
			f->state = TCP_CLOSING;
		break;
	case TCP_FIN_WAIT_2:
		f->t_wait = 0;
		enter_time_wait(f);
		break;
	default:
		break;
	}
	send_ack(f);
	deliver_queue(f);
}

static void flow_input(struct tcp_flow *f, struct tcp_repr *seg)
{
	struct stack *st = f->st;
	bool was_ooo = f->ooo != NULL;

	f->segs_in++;
	if (f->state == TCP_SYN_SENT) {
		syn_sent_input(f, seg);
		return;
	}
	if (f->state == TCP_TIME_WAIT) {
		uint32_t slen = (uint32_t)seg->payload_len + !!(seg->flags & TCP_FIN);

		if (!(seg->flags & TCP_RST) && (seg->flags & TCP_FIN) &&
		    seg->seq + slen == f->rcv_nxt) {
			time_wait_input(f, seg);	/* retransmitted FIN */
			return;
		}
		time_wait_input(f, seg);
		return;
	}
	/* a retransmitted SYN while we wait for the handshake's ACK */
	if (f->state == TCP_SYN_RECEIVED && f->lsn &&
	    (seg->flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN && seg->seq == f->irs) {
		if (f->ts_ok && seg->has_ts)
			f->ts_recent = seg->ts_val;
		send_syn(f);
		return;
	}
	/* PAWS (RFC 7323 5); a reordered bare ACK is dropped without an answer */
	if (f->ts_ok && seg->has_ts && !(seg->flags & TCP_RST) &&
	    seq_lt(seg->ts_val, f->ts_recent)) {
		CTR_INC(st, TCP_DROP_PAWS);
		if (seg->payload_len || (seg->flags & (TCP_SYN | TCP_FIN)))
			send_ack(f);
		return;
	}
	if (!seq_check(f, seg)) {
		CTR_INC(st, TCP_DROP_OUT_OF_WINDOW);
		if (!(seg->flags & TCP_RST))
			oow_ack(f, seg);
		return;
	}
	f->last_rcv = st->now;
	f->ka_probes = 0;
	/* timestamps to echo (RFC 7323 4.3) */
	if (f->ts_ok && seg->has_ts && seq_le(seg->seq, f->last_ack_sent))
		f->ts_recent = seg->ts_val;
	/* RST (RFC 5961 3.2) */
	if (seg->flags & TCP_RST) {
		CTR_INC(st, TCP_RESETS_RX);
		if (seg->seq != f->rcv_nxt) {
			CTR_INC(st, TCP_DROP_RST_INVALID);
			challenge_ack(f);
			return;
		}
		if (f->state == TCP_SYN_RECEIVED && f->lsn) {
			flow_drop(f, 0);	/* passive open: back to LISTEN */
			return;
		}
		flow_drop(f, f->state == TCP_SYN_RECEIVED ? -ECONNREFUSED : -ECONNRESET);
		return;
	}
	/*
	 * SYN (RFC 9293 3.10.7.4, fourth): in SYN-RECEIVED of a passive open
	 * the half-open connection goes back to LISTEN (silently, as Linux
	 * drops the request); in a synchronized state, a challenge ACK (RFC
	 * 5961 4).  A retransmission of the SYN itself was answered above.
	 */
	if (seg->flags & TCP_SYN) {
		if (f->state == TCP_SYN_RECEIVED && f->lsn) {
			CTR_INC(st, TCP_SYN_RECEIVED_ABORTED);
			flow_drop(f, 0);
			return;
		}
		challenge_ack(f);
		return;
	}
	if (!(seg->flags & TCP_ACK)) {
		CTR_INC(st, TCP_DROP_NO_ACK);
		return;
	}
	if (f->state == TCP_SYN_RECEIVED) {
		if (seq_le(seg->ack, f->snd_una) || seq_gt(seg->ack, f->snd_max)) {
			CTR_INC(st, TCP_DROP_BAD_ACK);
			send_reset_for(st, f->raddr, seg);
			return;
		}
		f->snd_una = seg->ack;
		f->snd_wnd = (uint32_t)seg->window << f->snd_ws;
		f->max_snd_wnd = f->snd_wnd;
		f->snd_wl1 = seg->seq;
		f->snd_wl2 = seg->ack;
		f->t_rtx = 0;
		f->retries = 0;
		if (f->ts_ok && seg->has_ts && seg->ts_ecr)
			ts_sample(f, seg->ts_ecr);
		flow_established(f);
		if (f->zombie || f->state == TCP_CLOSED)
			return;
	} else {
		bool fin_was_acked = fin_acked(f);

		if (!process_ack(f, seg))
			return;
		if (!fin_was_acked && fin_acked(f)) {
			switch (f->state) {
			case TCP_FIN_WAIT_1:
				f->state = TCP_FIN_WAIT_2;
				f->t_rtx = 0;
				if (f->app_closed) {
					f->t_wait = st->now + st->cfg.tcp.fin_wait2_ns;
					timer_update(f);
				}
				break;
			case TCP_CLOSING:
				enter_time_wait(f);
				return;
			case TCP_LAST_ACK:
				flow_drop(f, 0);
				return;
			default:
				break;
			}
		}
		maybe_writable(f);
		if (f->zombie || f->state == TCP_CLOSED)
			return;
	}
	/* data (step 7) */
	if (seg->payload_len && (f->state == TCP_ESTABLISHED || f->state == TCP_FIN_WAIT_1 ||
				 f->state == TCP_FIN_WAIT_2)) {
		if (f->app_closed) {
			/* nobody will read it: reset (as Linux) */
			CTR_INC(st, TCP_DROP_AFTER_CLOSE);
			send_rst(f);
			flow_drop(f, -ECONNABORTED);
			return;
		}
		if (seg->payload_len > f->rcv_mss && !seg->coalesced)
			f->rcv_mss = (uint32_t)minsz(seg->payload_len, 65535);
		if (seg->seq == f->rcv_nxt) {
			f->rcv_nxt += (uint32_t)seg->payload_len;
			deliver_data(f, seg->payload, seg->payload_len);
			if (f->zombie || f->state == TCP_CLOSED)
				return;
			if (f->ooo) {
				ooo_drain(f);
				if (f->zombie || f->state == TCP_CLOSED)
					return;
			}
			if (f->ooo_fin && f->rcv_nxt == f->ooo_fin_seq && !f->ooo) {
				f->ooo_fin = false;
				fin_input(f);
				if (f->zombie || f->state == TCP_CLOSED)
					return;
			}
			schedule_ack(f, was_ooo || f->ooo || f->rlen);
		} else {
			f->ooo_segs_in++;
			ooo_insert(f, seg->seq, seg->payload, (uint32_t)seg->payload_len);
			if ((seg->flags & TCP_FIN) && !f->ooo_fin) {
				f->ooo_fin = true;
				f->ooo_fin_seq = seg->seq + (uint32_t)seg->payload_len;
			}
			schedule_ack(f, true);
			tcp_output(f);
			return;
		}
	} else if (seg->payload_len && synchronized(f)) {
		CTR_INC(st, TCP_DROP_AFTER_FIN);	/* data after the peer's FIN */
	}
	/* FIN (step 8) */
	if ((seg->flags & TCP_FIN) && seg->seq + (uint32_t)seg->payload_len == f->rcv_nxt &&
	    !f->fin_rcvd) {
		fin_input(f);
		if (f->zombie || f->state == TCP_CLOSED)
			return;
	}
	tcp_output(f);
}

/* ---- listeners ---- */

static const uint16_t cookie_mss[8] = { 216, 536, 1200, 1360, 1440, 1460, 4312, 8960 };

static uint32_t cookie_hash(struct tcp_stack *t, uint32_t raddr, uint16_t rport, uint16_t lport,
			    uint32_t peer_isn, uint32_t count, uint32_t mssidx)
{
	return (uint32_t)siphash24_2w(t->cookie_key, tuple_word(raddr, rport, lport),
				      (uint64_t)peer_isn << 32 | count << 3 | mssidx) &
	       0xffffff;
}

static void send_cookie(struct stack *st, struct tcp_listener *l, uint32_t src,
			const struct tcp_repr *seg)
{
	struct tcp_stack *t = T(st);
	uint32_t count = (uint32_t)(st->now / TCP_COOKIE_PERIOD), mssidx = 0;
	uint16_t peer_mss = seg->has_mss && seg->mss ? seg->mss : TCP_DEFAULT_MSS;
	size_t mtu = ipv4_mtu(st, src);
	struct tcp_repr r;

	for (uint32_t i = 0; i < 8; i++)
		if (cookie_mss[i] <= peer_mss)
			mssidx = i;
	tcp_repr_init(&r);
	r.src_port = seg->dst_port;
	r.dst_port = seg->src_port;
	r.seq = (count & 31) << 27 | mssidx << 24 |
		cookie_hash(t, src, seg->src_port, seg->dst_port, seg->seq, count & 31, mssidx);
	r.ack = seg->seq + 1;
	r.flags = TCP_SYN | TCP_ACK;
	r.window = (uint16_t)min32((uint32_t)l->o.rcvbuf, 65535);
	r.has_mss = true;
	r.mss = (uint16_t)(mtu - 40);
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
			r.wscale = (int8_t)pick_wscale(l->o.rcvbuf);
	}
	l->last_cookie = st->now ? st->now : 1;
	if (send_repr(st, src, &r) == 0)
		CTR_INC(st, TCP_SYNCOOKIES_SENT);
}

/* A bare ACK to a listener: a valid cookie makes an established flow. */
static struct tcp_flow *cookie_check(struct stack *st, struct tcp_listener *l, uint32_t src,
				     const struct tcp_repr *seg)
{
	struct tcp_stack *t = T(st);
	uint32_t cookie = seg->ack - 1, peer_isn = seg->seq - 1;
	uint32_t count = (uint32_t)(st->now / TCP_COOKIE_PERIOD);
	uint32_t c5 = cookie >> 27, mssidx = (cookie >> 24) & 7;
	struct tcp_flow *f;
	bool ok = false;

	if (!l->last_cookie || st->now - l->last_cookie > 2 * TCP_COOKIE_PERIOD)
		return NULL;
	for (uint32_t back = 0; back < 2 && !ok; back++) {
		uint32_t c = (count - back) & 31;

		if (c == c5 && cookie_hash(t, src, seg->src_port, seg->dst_port, peer_isn, c,
					   mssidx) == (cookie & 0xffffff))
			ok = true;
	}
	if (!ok) {
		CTR_INC(st, TCP_SYNCOOKIES_FAILED);
		return NULL;
	}
	f = flow_new(st, src, seg->src_port, seg->dst_port, &l->o);
	if (!f)
		return NULL;
	CTR_INC(st, TCP_SYNCOOKIES_OK);
	CTR_INC(st, TCP_PASSIVE_OPENS);
	f->iss = cookie;
	f->snd_una = f->snd_nxt = f->snd_max = seg->ack;
	f->sbuf_seq = f->push_seq = f->recover = f->high_sack = f->rexmit_nxt = seg->ack;
	f->irs = peer_isn;
	f->rcv_nxt = f->last_ack_sent = seg->seq;
	f->rcv_adv = f->rcv_nxt + min32((uint32_t)l->o.rcvbuf, 65535);
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
			f->rcv_ws = pick_wscale(f->o.rcvbuf);
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
	f->state = TCP_SYN_RECEIVED;	/* flow_established() takes it from here */
	f->lsn = l;
	l->nsyn++;
	return f;
}

static void listen_input(struct stack *st, struct tcp_listener *l, const struct ipv4_rx_meta *m,
			 struct tcp_repr *seg)
{
	struct tcp_flow *f;

	if (seg->flags & TCP_RST) {
		CTR_INC(st, TCP_DROP_LISTEN);
		return;
	}
	if (seg->flags & TCP_ACK) {
		if (!(seg->flags & TCP_SYN) && st->cfg.tcp.syn_cookies) {
			f = cookie_check(st, l, m->src, seg);
			if (f) {
				flow_established(f);
				if (!f->zombie && f->state != TCP_CLOSED) {
					seg->flags &= (uint8_t)~TCP_SYN;
					flow_input(f, seg);
				}
				return;
			}
		}
		CTR_INC(st, TCP_DROP_LISTEN);
		send_reset_for(st, m->src, seg);
		return;
	}
	/* RFC 9293 3.10.7.2: without SYN, drop.  SYN+FIN opens nothing real (a
	 * scanner's probe, or an attempt to slip past filters): drop it, as
	 * Linux does (tcp_rcv_state_process, TCP_LISTEN). */
	if (!(seg->flags & TCP_SYN) || (seg->flags & TCP_FIN)) {
		CTR_INC(st, TCP_DROP_LISTEN);
		return;
	}
	if (l->nsyn >= st->cfg.tcp.backlog) {
		if (st->cfg.tcp.syn_cookies) {
			send_cookie(st, l, m->src, seg);
			return;
		}
		CTR_INC(st, TCP_DROP_BACKLOG);
		return;
	}
	f = flow_new(st, m->src, seg->src_port, seg->dst_port, &l->o);
	if (!f)
		return;
	CTR_INC(st, TCP_PASSIVE_OPENS);
	f->lsn = l;
	l->nsyn++;
	f->state = TCP_SYN_RECEIVED;
	f->irs = seg->seq;
	f->rcv_nxt = seg->seq + 1;
	f->rcv_adv = f->rcv_nxt;
	take_options(f, seg);
	f->snd_wnd = seg->window;
	f->max_snd_wnd = f->snd_wnd;
	f->snd_wl1 = seg->seq;
	f->rtt_start = st->now;
	send_syn(f);
}

/* ---- entry points from IPv4 ---- */

static int tcp_rx(void *ctx, const struct ipv4_rx_meta *m, const uint8_t *payload, size_t len)
{
	struct stack *st = ctx;
	struct tcp_stack *t = T(st);
	struct tcp_repr seg;
	struct tcp_flow *f;
	struct tcp_listener *l;
	int rc;

	CTR_INC(st, TCP_RX);
	if (m->link_broadcast || m->ip_broadcast || m->dst != st->cfg.addr) {
		CTR_INC(st, TCP_DROP_BROADCAST);
		return 0;
	}
	rc = tcp_repr_parse(&seg, payload, len, m->src, m->dst, !m->l4_csum_ok);
	seg.coalesced = m->gso;
	if (seg.coalesced)
		CTR_INC(st, TCP_RX_COALESCED);
	if (rc == -EILSEQ) {
		CTR_INC(st, TCP_DROP_CHECKSUM);
		return 0;
	}
	if (rc < 0 || seg.src_port == 0 || seg.dst_port == 0) {
		CTR_INC(st, TCP_DROP_MALFORMED);
		return 0;
	}
	t->depth++;
	f = flow_lookup(t, m->src, seg.src_port, seg.dst_port);
	if (f && f->state == TCP_TIME_WAIT && (seg.flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN &&
	    seq_gt(seg.seq, f->rcv_nxt) && listener_find(t, seg.dst_port) &&
	    !(f->ts_ok && seg.has_ts && seq_lt(seg.ts_val, f->ts_recent))) {
		/* reuse of a TIME_WAIT tuple by a new connection */
		CTR_INC(st, TCP_TIME_WAIT_REUSED);
		f->state = TCP_CLOSED;
		flow_maybe_free(f);
		f = NULL;
	}
	if (f) {
		flow_input(f, &seg);
	} else if ((l = listener_find(t, seg.dst_port)) != NULL) {
		listen_input(st, l, m, &seg);
	} else {
		CTR_INC(st, TCP_DROP_NO_LISTENER);
		send_reset_for(st, m->src, &seg);
	}
	t->depth--;
	reap(t);
	return 0;
}

static void tcp_icmp_err(void *ctx, const struct ipv4_icmp_err *e)
{
	struct stack *st = ctx;
	struct tcp_stack *t = T(st);
	const struct icmp_quote *q = e->quote;
	uint32_t mtu;
	struct tcp_flow *f;

	f = q->have_seq ? flow_lookup(t, q->dst, q->dst_port, q->src_port) : NULL;
	if (!f || f->state == TCP_TIME_WAIT || seq_lt(q->tcp_seq, f->snd_una) ||
	    seq_ge(q->tcp_seq, f->snd_max)) {
		CTR_INC(st, TCP_DROP_ICMP_INVALID);
		return;
	}
	if (e->type != ICMP_DEST_UNREACH || e->code != ICMP_UNREACH_FRAG_NEEDED)
		return;	/* soft errors (RFC 1122 4.2.3.9) */
	mtu = e->mtu;	/* the plateau below the quoted length if the router said 0 */
	if (mtu < 68) {
		CTR_INC(st, TCP_DROP_ICMP_INVALID);
		return;
	}
	ipv4_pmtu_update(st, q->dst, mtu);
	CTR_INC(st, TCP_PMTU_UPDATES);
	t->depth++;
	{
		uint32_t old = f->mss;

		update_mss(f);
		if (f->mss < old && synchronized(f)) {
			/* resend what did not fit (RFC 1191: no congestion response) */
			f->snd_nxt = f->snd_una;
			f->rtt_timing = false;
			tcp_output(f);
		}
	}
	t->depth--;
	reap(t);
}

/* ---- timers ---- */

static void flow_timeout_abort(struct tcp_flow *f)
{
	CTR_INC(f->st, TCP_ABORT_TIMEOUT);
	if (f->state != TCP_SYN_SENT)
		send_rst(f);
	flow_drop(f, -ETIMEDOUT);
}

/* RFC 8985 7.3: send one new segment, or the last one again. */
static void tail_loss_probe(struct tcp_flow *f)
{
	uint32_t data_end = f->sbuf_seq + (uint32_t)f->slen, len, seq;

	uint32_t end = seq_lt(data_end, f->snd_max) ? data_end : f->snd_max;

	f->pto_armed = false;
	f->tlp_out = true;
	CTR_INC(f->st, TCP_TAIL_LOSS_PROBES);
	/*
	 * The probe resends the last segment sent, even when new data is
	 * waiting (RFC 8985 7.3 prefers new data).  A receiver that delays
	 * ACKs (Linux: 40 ms) acknowledges a duplicate at once but sits on a
	 * lone new segment, so when the ACK that ended the flight was lost, a
	 * new-data probe adds the delayed-ACK time to the PTO: measured over
	 * TAP with 1 % loss each way, that stall was a third of the time.  The
	 * resent segment also repairs a lost tail directly.
	 */
	len = min32(f->mss, end - f->snd_una);
	seq = end - len;
	len = xmit_data(f, seq, len, f->fin_queued && f->snd_max == data_end + 1, true);
	f->tlp_end = seq + len;
	f->t_rtx = f->st->now + f->rto;
	timer_update(f);
}

static void rtx_timeout(struct tcp_flow *f)
{
	struct stack *st = f->st;
	const struct tcp_config *c = &st->cfg.tcp;

	f->t_rtx = 0;
	if (f->persist) {
		/* zero-window probe */
		if (f->probes >= (c->max_retries ? c->max_retries : 1)) {
			flow_timeout_abort(f);
			return;
		}
		f->probes++;
		f->backoff++;
		CTR_INC(st, TCP_ZERO_WINDOW_PROBES);
		f->persist = false;
		if (f->snd_wnd > 0) {
			f->sws_override = true;	/* window too small for SWS: override */
			tcp_output(f);
			f->sws_override = false;
		} else {
			struct tcp_repr r;

			fill_common(f, &r, f->snd_una - 1, TCP_ACK);
			if (send_repr(st, f->raddr, &r) == 0)
				ack_sent(f, &r);
		}
		if (!f->t_rtx)
			arm_persist(f);
		return;
	}
	if (f->state == TCP_SYN_SENT || f->state == TCP_SYN_RECEIVED) {
		if (f->retries >= (c->syn_retries ? c->syn_retries : 1)) {
			if (f->state == TCP_SYN_RECEIVED && !f->known) {
				f->state = TCP_CLOSED;
				flow_maybe_free(f);
				return;
			}
			flow_timeout_abort(f);
			return;
		}
		f->retries++;
		f->rto = f->rto * 2 > c->rto_max_ns ? c->rto_max_ns : f->rto * 2;
		f->retransmits++;
		CTR_INC(st, TCP_RETRANSMITS);
		send_syn(f);
		return;
	}
	if (!can_send_data(f) || f->snd_una == f->snd_max)
		return;
	if (f->pto_armed) {
		tail_loss_probe(f);
		return;
	}
	if (f->snd_wnd == 0) {
		/* the peer closed its window with data in flight: probe it */
		f->snd_nxt = f->snd_una;
		arm_persist(f);
		return;
	}
	if (!f->first_rtx)
		f->first_rtx = st->now;
	if (f->retries >= c->max_retries && st->now - f->first_rtx >= TCP_R2_FLOOR) {
		flow_timeout_abort(f);
		return;
	}
	f->retries++;
	f->rto_timeouts++;
	CTR_INC(st, TCP_RTO_TIMEOUTS);
	/* RFC 5681 eq. 4 on the first timeout; loss window */
	if (f->retries == 1)
		f->ssthresh = loss_ssthresh(f);
	f->cwnd = f->mss;
	f->bytes_acked_ca = 0;
	f->in_recovery = false;
	f->nrtx = 0;
	f->pto_armed = false;
	if (f->retries >= 2) {
		/* a second timeout in a row: forget SACK info, in case the
		 * receiver dropped what it SACKed (RFC 2018 8) */
		f->nsb = 0;
		f->sacked = 0;
		f->high_sack = f->snd_una;
	}
	f->dupacks = 0;
	f->recover = f->snd_max;
	f->snd_nxt = f->snd_una;
	f->rtt_timing = false;
	f->rto = f->rto * 2 > c->rto_max_ns ? c->rto_max_ns : f->rto * 2;
	f->backoff++;
	if (f->o.cc == TCP_CC_CUBIC)
		f->cubic_epoch = 0;
	tcp_output(f);
	if (!f->t_rtx) {
		f->t_rtx = st->now + f->rto;
		timer_update(f);
	}
}

static void flow_timers(struct tcp_flow *f)
{
	struct stack *st = f->st;
	uint64_t now = st->now;

	if (f->t_wait && f->t_wait <= now) {
		f->t_wait = 0;
		if (f->state == TCP_FIN_WAIT_2)
			CTR_INC(st, TCP_FIN_WAIT2_TIMEOUTS);
		if (f->state == TCP_TIME_WAIT || f->state == TCP_FIN_WAIT_2) {
			flow_drop(f, 0);
			return;
		}
	}
	if (f->t_delack && f->t_delack <= now) {
		f->t_delack = 0;
		if (seq_gt(f->rcv_nxt, f->last_ack_sent)) {
			CTR_INC(st, TCP_DELAYED_ACKS);
			send_ack(f);
		}
	}
	if (f->t_rtx && f->t_rtx <= now) {
		rtx_timeout(f);
		if (f->zombie || f->state == TCP_CLOSED)
			return;
	}
	if (f->t_ka && f->t_ka <= now) {
		f->t_ka = 0;
		if (f->o.keepalive && (f->state == TCP_ESTABLISHED || f->state == TCP_CLOSE_WAIT)) {
			uint64_t idle_end = f->last_rcv + f->o.ka_idle_ns;

			if (f->ka_probes == 0 && idle_end > now) {
				f->t_ka = idle_end;
			} else if (f->snd_una != f->snd_max || f->persist) {
				/* data in flight: retransmissions or probes watch the peer */
				f->ka_probes = 0;
				f->t_ka = now + f->o.ka_idle_ns;
			} else if (f->ka_probes >= f->o.ka_count) {
				flow_timeout_abort(f);
				return;
			} else {
				struct tcp_repr r;

				f->ka_probes++;
				CTR_INC(st, TCP_KEEPALIVE_PROBES);
				fill_common(f, &r, f->snd_una - 1, TCP_ACK);
				if (send_repr(st, f->raddr, &r) == 0)
					ack_sent(f, &r);
				f->t_ka = now + f->o.ka_intvl_ns;
			}
		}
	}
}

void tcp_poll(struct stack *st)
{
	struct tcp_stack *t = T(st);

	if (!t)
		return;
	t->depth++;
	while (t->nheap && t->heap[0]->heap_key <= st->now) {
		struct tcp_flow *f = t->heap[0];

		heap_remove(t, f);
		flow_timers(f);
		if (!f->zombie)
			timer_update(f);
	}
	t->depth--;
	reap(t);
}

uint64_t tcp_next_deadline(const struct stack *st)
{
	const struct tcp_stack *t = T(st);

	if (!t || !t->nheap)
		return STACK_NO_DEADLINE;
	return t->heap[0]->heap_key;
}

/* ---- lifetime ---- */

int tcp_init(struct stack *st)
{
	struct tcp_stack *t = calloc(1, sizeof(*t));
	size_t n = 64;

	if (!t)
		return -ENOMEM;
	while (n < st->cfg.tcp.max_connections && n < (1u << 20))
		n *= 2;
	t->hash = calloc(n, sizeof(*t->hash));
	if (!t->hash) {
		free(t);
		return -ENOMEM;
	}
	t->hmask = n - 1;
	st->cfg.random(st->cfg.random_ctx, t->isn_key, sizeof(t->isn_key));
	st->cfg.random(st->cfg.random_ctx, t->cookie_key, sizeof(t->cookie_key));
	st->cfg.random(st->cfg.random_ctx, &t->hash_key, sizeof(t->hash_key));
	st->tcp = t;
	if (ipv4_register_proto(st, IP_PROTO_TCP, tcp_rx, tcp_icmp_err, st) < 0) {
		free(t->hash);
		free(t);
		st->tcp = NULL;
		return -EINVAL;
	}
	return 0;
}

void tcp_fini(struct stack *st)
{
	struct tcp_stack *t = T(st);

	if (!t)
		return;
	while (t->all) {
		struct tcp_flow *f = t->all;

		t->all = f->next;
		flow_free_mem(f);
	}
	t->depth = 0;
	reap(t);
	for (size_t i = 0; i < t->nlsn; i++)
		free(t->lsn[i]);
	free(t->lsn);
	free(t->dead_lsn);
	free(t->heap);
	free(t->hash);
	free(t);
	st->tcp = NULL;
}

/* ---- API ---- */

static void api_enter(struct stack *st)
{
	T(st)->depth++;
}

static void api_leave(struct stack *st)
{
	T(st)->depth--;
	reap(T(st));
}

int tcp_listen(struct stack *st, uint16_t port, const struct tcp_flow_opts *o, tcp_accept_fn cb,
	       void *ctx)
{
	struct tcp_stack *t = T(st);
	struct tcp_listener *l;

	if (!t || port == 0 || !cb)
		return -EINVAL;
	if (listener_find(t, port))
		return -EADDRINUSE;
	if (t->nlsn == t->lsn_cap) {
		size_t cap = t->lsn_cap ? t->lsn_cap * 2 : 8;
		struct tcp_listener **n = realloc(t->lsn, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		t->lsn = n;
		t->lsn_cap = cap;
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->port = port;
	if (o)
		l->o = *o;
	else
		tcp_flow_opts_defaults(st, &l->o);
	l->cb = cb;
	l->ctx = ctx;
	t->lsn[t->nlsn++] = l;
	return 0;
}

int tcp_unlisten(struct stack *st, uint16_t port)
{
	struct tcp_stack *t = T(st);
	struct tcp_listener *l = NULL;
	size_t i;

	if (!t)
		return -ENOENT;
	for (i = 0; i < t->nlsn; i++)
		if (t->lsn[i]->port == port) {
			l = t->lsn[i];
			break;
		}
	if (!l)
		return -ENOENT;
	if (t->ndead == t->dead_cap) {
		size_t cap = t->dead_cap ? t->dead_cap * 2 : 8;
		struct tcp_listener **n = realloc(t->dead_lsn, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		t->dead_lsn = n;
		t->dead_cap = cap;
	}
	t->lsn[i] = t->lsn[--t->nlsn];
	l->dead = true;
	t->dead_lsn[t->ndead++] = l;
	api_enter(st);
	for (struct tcp_flow *f = t->all, *n; f; f = n) {
		n = f->next;
		if (f->lsn == l && !f->zombie) {
			send_rst(f);
			f->state = TCP_CLOSED;
			flow_maybe_free(f);
		}
	}
	api_leave(st);
	return 0;
}

int tcp_connect(struct stack *st, uint32_t dst, uint16_t port, const struct tcp_flow_opts *o,
		tcp_connect_fn cb, void *ctx)
{
	struct tcp_stack *t = T(st);
	struct tcp_flow_opts def;
	struct tcp_flow *f;
	uint32_t start;
	uint16_t lport = 0;
	int rc;

	if (!t || port == 0 || !cb || dst == 0 || dst == st->cfg.addr ||
	    ipv4_addr_is_multicast(dst) || dst == IPV4_ADDR_BROADCAST ||
	    (st->bcast && dst == st->bcast))
		return -EINVAL;
	if (t->nflows >= st->cfg.tcp.max_connections)
		return -ENOBUFS;
	if (!o) {
		tcp_flow_opts_defaults(st, &def);
		o = &def;
	}
	start = stack_random32(st);
	for (uint32_t i = 0; i < TCP_EPHEMERAL_N; i++) {
		uint16_t p = (uint16_t)(TCP_EPHEMERAL_LO + (start + i) % TCP_EPHEMERAL_N);

		if (!flow_lookup(t, dst, port, p)) {
			lport = p;
			break;
		}
	}
	if (!lport)
		return -EAGAIN;
	f = flow_new(st, dst, port, lport, o);
	if (!f)
		return -ENOMEM;
	CTR_INC(st, TCP_ACTIVE_OPENS);
	f->state = TCP_SYN_SENT;
	f->on_connect = cb;
	f->connect_ctx = ctx;
	f->rtt_start = st->now;
	api_enter(st);
	rc = send_syn(f);
	if (rc == -ENETUNREACH || rc == -EINVAL) {
		/* no route: fail now, without a callback */
		f->on_connect = NULL;
		f->state = TCP_CLOSED;
		f->t_rtx = 0;
		flow_maybe_free(f);
	}
	api_leave(st);
	return rc == -ENETUNREACH || rc == -EINVAL ? rc : 0;
}

void tcp_flow_set_callbacks(struct tcp_flow *f, const struct tcp_callbacks *cb, void *ctx)
{
	if (!f || f->app_closed)
		return;
	if (cb)
		f->cb = *cb;
	else
		memset(&f->cb, 0, sizeof(f->cb));
	f->cb_ctx = ctx;
	/* data that arrived before there was a reader */
	if (f->rlen || (f->fin_rcvd && !f->eof_delivered)) {
		api_enter(f->st);
		deliver_queue(f);
		api_leave(f->st);
	}
}

static bool sbuf_reserve(struct tcp_flow *f, size_t want)
{
	size_t cap = f->scap, need = f->slen + want;
	uint8_t *n;

	if (need <= cap)
		return true;
	if (cap == f->o.sndbuf)
		return false;
	if (cap == 0)
		cap = minsz(2048, f->o.sndbuf);
	while (cap < need && cap < f->o.sndbuf)
		cap = minsz(cap * 2, f->o.sndbuf);
	n = ring_regrow(f->sbuf, f->scap, f->shead, f->slen, cap);
	if (!n)
		return false;
	free(f->sbuf);
	f->sbuf = n;
	f->scap = cap;
	f->shead = 0;
	return true;
}

static long write_common(struct tcp_flow *f, const struct stack_iov *iov, int iovcnt, bool push)
{
	size_t total = 0, room;

	if (!f || iovcnt < 0)
		return -EINVAL;
	if (f->app_closed || f->fin_queued)
		return -EPIPE;
	if (f->state == TCP_CLOSED || f->state == TCP_TIME_WAIT)
		return -EPIPE;
	if (f->state != TCP_ESTABLISHED && f->state != TCP_CLOSE_WAIT)
		return -ENOTCONN;
	for (int i = 0; i < iovcnt; i++)
		total += iov[i].len;
	room = f->o.sndbuf - f->slen;
	if (total > room)
		total = room;
	if (total && !sbuf_reserve(f, total)) {
		total = f->scap - f->slen;
	}
	{
		size_t left = total;

		for (int i = 0; i < iovcnt && left; i++) {
			const uint8_t *p = iov[i].base;
			size_t k = minsz(iov[i].len, left);

			left -= k;
			while (k) {
				size_t pos = (f->shead + f->slen) % f->scap;
				size_t c = minsz(k, f->scap - pos);

				memcpy(f->sbuf + pos, p, c);
				f->slen += c;
				p += c;
				k -= c;
			}
		}
	}
	{
		size_t asked = 0;

		for (int i = 0; i < iovcnt; i++)
			asked += iov[i].len;
		if (total < asked)
			f->want_writable = true;
	}
	if (push)
		f->push_seq = f->sbuf_seq + (uint32_t)f->slen;
	if (total || push) {
		api_enter(f->st);
		tcp_output(f);
		api_leave(f->st);
	}
	return (long)total;
}

long tcp_write(struct tcp_flow *f, const void *data, size_t len)
{
	struct stack_iov iov = { data, len };

	return write_common(f, &iov, 1, false);
}

long tcp_writev(struct tcp_flow *f, const struct stack_iov *iov, int iovcnt)
{
	return write_common(f, iov, iovcnt, false);
}

long tcp_write_nodelay(struct tcp_flow *f, const void *data, size_t len)
{
	struct stack_iov iov = { data, len };

	return write_common(f, &iov, 1, true);
}

/* Queue our FIN and move to the state that waits for it to be acked. */
static void queue_fin(struct tcp_flow *f)
{
	if (f->fin_queued)
		return;
	if (f->state == TCP_ESTABLISHED) {
		f->state = TCP_FIN_WAIT_1;
	} else if (f->state == TCP_CLOSE_WAIT) {
		f->state = TCP_LAST_ACK;
	} else {
		return;
	}
	f->fin_queued = true;
	tcp_output(f);
}

int tcp_shutdown(struct tcp_flow *f, bool rd, bool wr)
{
	if (!f || f->app_closed)
		return -EINVAL;
	if (!synchronized(f) || f->state == TCP_TIME_WAIT)
		return -ENOTCONN;
	api_enter(f->st);
	if (rd) {
		f->rd_shut = true;
		f->rlen = 0;
		f->rhead = 0;
	}
	if (wr)
		queue_fin(f);
	api_leave(f->st);
	return 0;
}

void tcp_close(struct tcp_flow *f)
{
	struct stack *st;

	if (!f || f->app_closed)
		return;
	st = f->st;
	api_enter(st);
	f->app_closed = true;
	memset(&f->cb, 0, sizeof(f->cb));
	f->cb_ctx = NULL;
	switch (f->state) {
	case TCP_SYN_SENT:
	case TCP_SYN_RECEIVED:
		send_rst(f);
		f->state = TCP_CLOSED;
		break;
	case TCP_ESTABLISHED:
	case TCP_CLOSE_WAIT:
		if (f->rlen || f->ooo) {
			send_rst(f);	/* unread data: RFC 2525 2.17 */
			f->state = TCP_CLOSED;
			break;
		}
		queue_fin(f);
		break;
	case TCP_FIN_WAIT_2:
		f->t_wait = st->now + st->cfg.tcp.fin_wait2_ns;
		timer_update(f);
		break;
	default:
		break;
	}
	if (f->state == TCP_CLOSED)
		f->t_rtx = f->t_delack = f->t_ka = f->t_wait = 0;
	flow_maybe_free(f);
	api_leave(st);
}

void tcp_abort(struct tcp_flow *f)
{
	struct stack *st;

	if (!f || f->app_closed)
		return;
	st = f->st;
	api_enter(st);
	f->app_closed = true;
	memset(&f->cb, 0, sizeof(f->cb));
	if (f->state != TCP_CLOSED && f->state != TCP_TIME_WAIT)
		send_rst(f);
	f->state = TCP_CLOSED;
	f->t_rtx = f->t_delack = f->t_ka = f->t_wait = 0;
	flow_maybe_free(f);
	api_leave(st);
}

void tcp_read_pause(struct tcp_flow *f, bool paused)
{
	if (!f || f->app_closed)
		return;
	f->paused = paused;
	if (!paused) {
		api_enter(f->st);
		deliver_queue(f);
		api_leave(f->st);
	}
}

int tcp_flow_info(const struct tcp_flow *f, struct tcp_flow_info *o)
{
	if (!f || !o)
		return -EINVAL;
	memset(o, 0, sizeof(*o));
	o->local_addr = f->laddr;
	o->remote_addr = f->raddr;
	o->local_port = f->lport;
	o->remote_port = f->rport;
	o->state = f->state;
	o->snd_queue = f->slen;
	o->rcv_queue = f->rlen;
	o->ooo_bytes = f->ooo_bytes;
	o->srtt_us = f->srtt_us;
	o->rttvar_us = f->rttvar_us;
	o->rto_ms = (uint32_t)(f->rto / MS);
	o->cwnd = f->cwnd;
	o->ssthresh = f->ssthresh;
	o->mss = f->mss;
	o->snd_wnd = f->snd_wnd;
	o->rcv_wnd = seq_gt(f->rcv_adv, f->rcv_nxt) ? f->rcv_adv - f->rcv_nxt : 0;
	o->wscale = f->ws_ok;
	o->snd_wscale = f->ws_ok ? f->snd_ws : 0;
	o->rcv_wscale = f->ws_ok ? f->rcv_ws : 0;
	o->sack = f->sack_ok;
	o->timestamps = f->ts_ok;
	o->cc = f->o.cc;
	o->bytes_sent = f->bytes_sent;
	o->bytes_acked = f->bytes_acked;
	o->bytes_received = f->bytes_received;
	o->segs_in = f->segs_in;
	o->segs_out = f->segs_out;
	o->retransmits = f->retransmits;
	o->fast_retransmits = f->fast_retransmits;
	o->rto_timeouts = f->rto_timeouts;
	o->dup_acks_in = f->dup_acks_in;
	o->ooo_segs_in = f->ooo_segs_in;
	return 0;
}

size_t tcp_flow_list(const struct stack *st, struct tcp_flow_info *out, size_t max)
{
	size_t n = 0;

	if (!T(st))
		return 0;
	for (const struct tcp_flow *f = T(st)->all; f && n < max; f = f->next)
		tcp_flow_info(f, &out[n++]);
	return n;
}

size_t tcp_flow_count(const struct stack *st)
{
	return T(st) ? T(st)->nflows : 0;
}

/*
 * check.c - TCP invariants: a cheap walk over every flow that names the first
 * broken rule (for fuzzers and tests; always compiled, never called by the stack)
 */
#include <stdio.h>

#include "tcp/tcp_conn.h"

/* check_flow() names the broken rule; the flow is described by the caller */
#define bad(f, what) (what)

static const char *describe(char *buf, size_t len, const struct tapir_tcp_flow *f,
			    const char *what)
{
	snprintf(buf, len, "flow :%u->%u in %s: %s", f->lport, f->rport,
		 tapir_tcp_state_name(f->state), what);
	return buf;
}

static const char *check_flow(const struct tcp_stack *t, const struct tapir_tcp_flow *f)
{
	uint32_t data_end = f->sbuf_seq + (uint32_t)f->slen;
	uint64_t d = tcp_flow_deadline(f);
	bool orphan = f->app_closed || (!f->known && !f->lsn && f->state != TAPIR_TCP_STATE_SYN_SENT);

	if (f->zombie || f->state == TAPIR_TCP_STATE_CLOSED)
		return NULL;	/* waits for the application or the reaper */
	if (tcp_flow_lookup(t, &f->laddr, &f->raddr, f->rport, f->lport) != f)
		return bad(f, "not found in the flow hash");
	/* sequence space */
	if (seq_gt(f->snd_una, f->snd_nxt))
		return bad(f, "SND.UNA > SND.NXT");
	if (seq_gt(f->snd_nxt, f->snd_max))
		return bad(f, "SND.NXT > SND.MAX");
	if (synchronized(f)) {
		if (seq_gt(f->snd_una, data_end + (f->fin_queued ? 1 : 0)))
			return bad(f, "SND.UNA beyond the data and FIN");
		if (seq_gt(f->snd_max, data_end + (f->fin_queued ? 1 : 0)))
			return bad(f, "SND.MAX beyond the data and FIN");
		if (seq_gt(f->sbuf_seq, f->snd_una))
			return bad(f, "send buffer starts above SND.UNA");
		if (f->slen > f->scap || (f->scap && !f->sbuf))
			return bad(f, "send ring length");
		/* congestion window: at least one MSS, clamped, no wrap */
		if (f->cwnd < f->mss)
			return bad(f, "cwnd below one MSS");
		if (f->cwnd > TCP_CWND_MAX)
			return bad(f, "cwnd above TCP_CWND_MAX");
		if (f->mss == 0)	/* 16 bits wide: never above 65535 */
			return bad(f, "MSS out of range");
		/* receive window: never more than the buffer (rounded up to the
		 * scale) or what the 16-bit field can say */
		if (seq_gt(f->rcv_adv, f->rcv_nxt)) {
			uint64_t wnd = f->rcv_adv - f->rcv_nxt;
			uint64_t max = f->o.rcvbuf > 65535 ? f->o.rcvbuf : 65535;

			if (wnd > max + (1u << (f->ws_ok ? f->rcv_ws : 0)) ||
			    wnd > (uint64_t)65535 << (f->ws_ok ? f->rcv_ws : 0))
				return bad(f, "receive window beyond the buffer or what the field can say");
		}
		if (f->rlen > f->rcap || (f->rcap && !f->rbuf))
			return bad(f, "receive queue length");
		if (f->in_recovery && f->sack_ok && seq_gt(f->high_sack, f->snd_max))
			return bad(f, "highest SACK above SND.MAX");
	}
	/* timers: a flow the application does not hold lives only on a timer;
	 * unacknowledged data or a handshake always has one */
	if (f->state == TAPIR_TCP_STATE_TIME_WAIT && !f->t_wait)
		return bad(f, "TIME_WAIT without its timer");
	if ((f->state == TAPIR_TCP_STATE_SYN_SENT || f->state == TAPIR_TCP_STATE_SYN_RECEIVED) &&
	    !f->t_rtx)
		return bad(f, "handshake without a retransmission timer");
	if (can_send_data(f) && f->snd_una != f->snd_max && !f->t_rtx)
		return bad(f, "unacknowledged data without a retransmission timer");
	if (orphan && d == UINT64_MAX)
		return bad(f, "orphan without a timer");
	if (d != UINT64_MAX && t->heap) {
		if (f->heap_idx == TCP_HEAP_NONE) {
			if (t->nheap < t->heap_cap)
				return bad(f, "timer set but not in the heap");
		} else if (f->heap_idx >= t->nheap || t->heap[f->heap_idx] != f) {
			return bad(f, "heap index wrong");
		} else if (f->heap_key > d) {
			return bad(f, "heap key later than the earliest timer");
		}
	}
	return NULL;
}

/**
 * tapir_tcp_check_invariants() - Check what must hold between any two calls into the stack
 * @st:  Stack
 * @buf: Where the description goes (256 bytes is plenty)
 * @len: Its size
 *
 * For every live flow: SND.UNA <= SND.NXT <= SND.MAX within the data (and
 * FIN) sent; cwnd in [MSS, TCP_CWND_MAX]; the receive window within the
 * buffer; a retransmission timer while data is unacknowledged; a timer on
 * every flow that only a timer can end (TIME_WAIT, orphans, handshakes);
 * the timer heap consistent.  O(flows).
 *
 * Return: NULL, or @buf holding a description of the first violation
 */
const char *tapir_tcp_check_invariants(const struct tapir_stack *st, char *buf, size_t len)
{
	const struct tcp_stack *t = T(st);
	size_t n = 0;

	if (!t)
		return NULL;
	for (const struct tapir_tcp_flow *f = t->all; f; f = f->next) {
		const char *e = check_flow(t, f);

		if (e)
			return describe(buf, len, f, e);
		if (!f->uncounted)	/* a closed shell the app still holds is not counted */
			n++;
	}
	if (n != t->nflows) {
		snprintf(buf, len, "%zu counted flows on the list, nflows %zu", n, t->nflows);
		return buf;
	}
	for (size_t i = 0; i < t->nheap; i++) {
		if (t->heap[i]->heap_idx != i)
			return describe(buf, len, t->heap[i], "heap back-index wrong");
		if (i && t->heap[(i - 1) / 2]->heap_key > t->heap[i]->heap_key)
			return describe(buf, len, t->heap[i], "heap order");
	}
	return NULL;
}

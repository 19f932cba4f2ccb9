/*
 * tcp_conn.h - TCP internals shared by the parts in libstack/tcp/: the flow, the stack's
 * TCP state, and the calls the parts make on each other
 *
 * Where things are: flow.c (flow table, lifecycle, ISNs, ports, deferred free,
 * the SYN queue and orphan lists),
 * input.c (segment input, the state machine, listeners, ICMP errors),
 * output.c (building and sending segments, TSO), timer.c (timer heap, RTT/RTO,
 * retransmission, persist, keepalive, delayed ACK), sack.c (SACK
 * scoreboard and loss recovery), rack.c (RACK-TLP loss detection), prr.c
 * (Proportional Rate Reduction), loss.h (their state, only while data is in
 * flight), cc.h/cc.c + cc_reno.c + cc_cubic.c + hystart.c
 * (congestion control, HyStart++), ooo.c (out-of-order queue), buf.c (send and receive
 * buffers, the memory budget), syncookie.c (SYN cookies), tw.c (the
 * TIME_WAIT set), api.c (the calls in tcp.h).
 *
 * Theory of operation
 *
 * Families.  TCP runs over IPv4 (tcp_rx, registered with IPv4) and IPv6
 * (tcp_rx6, registered with IPv6 when it is on) through the same code: a
 * flow's addresses are struct tcp_ip, 16 bytes with IPv4 as ::ffff:a.b.c.d,
 * and only the edges look at the family: the pseudo-header of the checksum,
 * the write (tapir_ipv4_write with DF, or tapir_ipv6_write without
 * fragmentation), the path MTU and the header overhead (MSS = MTU - 40 over
 * IPv4, MTU - 60 over IPv6), ICMP or ICMPv6 errors (a Packet Too Big lowers
 * the MSS as a fragmentation-needed does, RFC 8201; IPv6 never goes below
 * 1,280), and our address (the stack's IPv4 address, or the IPv6 source RFC
 * 6724 selects for the peer).  The ISN, the timestamp offset and the SYN
 * cookie are keyed SipHash of the full 4-tuple (tcp_tuple_sip(), all 128
 * address bits).  A listener takes both families unless it was made for one
 * (tapir_tcp_listen_family()); a SYN of a family no listener of the port
 * takes gets a RST.
 *
 * Flows.  Every connection (listeners aside) is a struct tapir_tcp_flow found by a
 * chained hash on (remote address, remote port, local port); all flows are
 * also on a list (for listings and teardown).  A flow is "known" to the
 * application once its accept or connect callback ran; it is freed when it is
 * CLOSED and either unknown or released by tapir_tcp_close().  Freeing is deferred:
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
 * rate-limited challenge ACK; ACKs far below SND.UNA are refused), in the
 * RFC's order and all on the segment as it arrived: PAWS, sequence
 * acceptability, RST (only exactly at RCV.NXT), SYN (never used, whatever
 * its sequence number), ACK acceptability (RFC 5961 5.2); only a segment
 * that passed them all may set TS.Recent (and only if SEG.SEQ <=
 * Last.ACK.sent, RFC 7323 4.3), is trimmed to the window and has its data
 * taken.  The send window moves only with ACKs not below SND.UNA.  SACK
 * (RFC 2018) with RACK-TLP loss detection (RFC 8985, rack.c: lost by time,
 * with a reordering window and its timer; DSACKs widen it) and RFC 6675
 * recovery paced by PRR (RFC 6937, prr.c), or NewReno (RFC 6582) without
 * SACK, with limited transmit (RFC 3042).  In SACK recovery each
 * retransmitted hole remembers when it was sent and SND.MAX at the time; once
 * data sent after it is delivered and RACK's window passed, the
 * retransmission is taken as lost and sent again instead of waiting for the
 * RTO.
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
 * 2 KiB up to sndbuf (which autotuning raises with cwnd, buf.c) and is
 * freed whenever everything is acked (an idle flow
 * holds no buffer; nor does a reader that keeps up, see Input); a
 * segment is gathered from the ring (one or two pieces) into the device
 * buffer by tapir_ipv4_write (DF set).  Sending obeys the peer's window, cwnd,
 * Nagle (unless nodelay or pushed by tapir_tcp_write_nodelay), and sender SWS
 * avoidance.  With a TSO device (tapir_stack_set_offload()), new data outside
 * recovery goes out in super-segments of whole MSS-sized segments, at most
 * 64 KiB and half of cwnd (at least two ACKs per window), which the device
 * cuts up; a short tail only where Nagle would
 * send it anyway; retransmissions, probes, segments with SACK blocks and
 * flows with an MSS of 536 or less stay one MSS per frame.  Received
 * super-segments (GRO) are taken whole and do not raise the receive-MSS
 * estimate.  In SACK recovery, the RFC 6675 pipe decides: holes below the
 * highest SACKed byte are retransmitted first, then new data.  ACKs: at least
 * every second full segment, else after delack_ns; immediately for
 * out-of-order data or a filled hole.  The receive window's right edge only
 * moves in steps of min(rcvbuf/2, MSS) (receiver SWS avoidance) and never
 * back; window scaling offers at least rcvbuf, or rcvbuf_max when the
 * window is autotuned (buf.c: dynamic right-sizing, measured in input.c).
 *
 * TIME_WAIT (tw.c).  A flow that reaches TIME_WAIT leaves the flow table:
 * a compact entry (4-tuple, SND.NXT, RCV.NXT, the window, TS.Recent, the
 * expiry: under 100 bytes) holds the tuple for 2 MSL in a hash of its own
 * and a list in expiry order.  TIME_WAIT does not count toward
 * max_connections; the set is bounded by max_tw, and when it is full the
 * oldest entry is recycled (Linux's tcp_max_tw_buckets).  A flow the
 * application still holds stays as a CLOSED shell (shown as TIME_WAIT) until
 * tapir_tcp_close().  An entry re-ACKs a retransmitted FIN (exactly RCV.NXT - 1,
 * restarting 2 MSL), ignores RSTs (RFC 1337), answers other segments with a
 * rate-limited ACK, and yields to a SYN above RCV.NXT or with a newer
 * timestamp (RFC 6191, as Linux): the new flow's ISS is SND.NXT + 65537,
 * and timestamps keep running (a per-tuple offset on one clock).
 *
 * Limits.  A SYN that finds the table full (max_connections) is answered
 * with a SYN cookie; a valid cookie ACK takes a free slot, or the place of
 * the oldest half-open (SYN_RECEIVED) flow, which is dropped.  Orphans
 * (flows the application closed that still send or wait for the peer's
 * FIN) are on a list, oldest first: beyond max_orphans the oldest is reset;
 * an orphan facing a zero window is reset after orphan_retries probes
 * during which SND.UNA did not move, however the peer answers them (as
 * Linux's tcp_orphan_retries); an orphan in FIN_WAIT_2 ends after
 * fin_wait2_ns.
 *
 * Idle flows.  An established flow with nothing in flight and nothing
 * queued holds only its struct (584 bytes on x86-64, laid out by size, flags
 * as bits) and a hash slot: rings, the SACK scoreboard, the loss state and
 * out-of-order pieces are allocated while needed and freed when empty, and
 * it is in the timer heap only while a timer runs (the heap's array shrinks
 * after a burst).  test_tcp_limits.c holds it to 600 bytes all told.
 *
 * Memory (buf.c).  The bytes held in send rings, receive rings and
 * out-of-order pieces of all flows are counted in tcp_stack.mem
 * (tapir_tcp_mem_check() recounts them).  Above 3/4 of max_memory (pressure):
 * out-of-order data is dropped (tcp.drop.ooo_mem) and the offered window of
 * a flow that queues data stops growing beyond the ring it has (the right
 * edge never moves back).  Send rings may not grow past max_memory: a write
 * that gets nothing returns -ENOBUFS and writable() follows once the memory
 * is below the pressure mark again.  In-window data is always taken.
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
 * ka_count unanswered probes.  TIME_WAIT lasts 2 MSL in the TIME_WAIT set
 * (tw.c): entries are not flows; they expire from the head of their list
 * (tcp_tw_expire() in tcp_poll()), and tcp_next_deadline() is the earlier
 * of the heap's top and the oldest entry.  Only the peer's retransmitted FIN
 * (just below RCV.NXT, passing PAWS) is re-ACKed and restarts the timer;
 * other segments get a rate-limited ACK, a RST is ignored (RFC 1337), and a
 * new SYN with a higher sequence number or a newer timestamp reuses the
 * tuple (RFC 6191, as Linux).  An orphaned FIN_WAIT_2 ends after
 * fin_wait2_ns.
 *
 * Congestion control: IW per RFC 6928, slow start with ABC (L = 2) and, in
 * the first slow start, HyStart++ (RFC 9406, hystart.c), congestion
 * avoidance by CUBIC (RFC 9438, the default: beta 0.7, C 0.4, fast
 * convergence, the Reno-friendly region) or RFC 5681, selected per flow.  cwnd grows only while
 * the flow is cwnd-limited (flight at least half of cwnd, RFC 7661) and is
 * clamped to [MSS, TCP_CWND_MAX].
 *
 * Invariants: tapir_tcp_check_invariants() (check.c) names the first broken one
 * (sequence variables in order, cwnd bounds, the receive window, timers on
 * flows that need one, the heap); the stateful fuzzer checks it after every
 * step.
 *
 * ISNs: RFC 6528, SipHash-2-4 of the 4-tuple (both addresses in full) under a
 * random key plus a 4 us clock.  Ephemeral ports: random start in 49152-65535, then linear probing.
 */
#ifndef TAPIR_TCP_CONN_H
#define TAPIR_TCP_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"
#include "tapir/forward.h"
#include "tapir/ipv6.h"
#include "tapir/tcp.h"
#include "tcp/cc.h"
#include "tcp/loss.h"
#include "tcp/ooo.h"
#include "tcp/pool.h"
#include "wire/bytes.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"

#define MS 1000000ull
#define SEC TAPIR_STACK_NS_PER_SEC

#define TCP_DEFAULT_MSS 536
#define TCP_MIN_MSS 88
#define TCP_CWND_MAX (1u << 30) /* bytes: cwnd is clamped here, never wraps */
#define TCP_SB_MAX 32           /* SACK scoreboard ranges */
#define TCP_PERSIST_MAX (60 * SEC)
#define TCP_R2_FLOOR (100 * SEC)
#define TCP_SNDBUF_MIN 4096
#define TCP_RCVBUF_MIN 4096
#define TCP_COOKIE_PERIOD (64 * SEC)
#define TCP_EPHEMERAL_LO 49152
#define TCP_EPHEMERAL_N 16384
#define TCP_HEAP_NONE UINT32_MAX /* tapir_tcp_flow.heap_idx: not in the heap */

/*
 * An address as TCP keeps it (flows, TIME_WAIT, cookies, hashes): 16 bytes in
 * network order, an IPv4 address as ::ffff:a.b.c.d (RFC 4291 2.5.5.2).  Both
 * families share every table; an IPv4-mapped address never arrives over
 * IPv6 (the IPv6 layer drops it), so the form says which family a flow uses.
 */
struct tcp_ip {
	uint8_t b[16];
};

/* What TCP needs of a received segment's IP layer, either family */
struct tcp_rx {
	struct tcp_ip src, dst;
	bool v6;
	const struct tapir_ipv4_rx_meta *m4;  /* IPv4: the datagram's meta, else NULL */
	const struct tapir_ipv6_rx_meta *m6;  /* IPv6: the packet's meta, else NULL */
};

struct tcp_listener {
	uint16_t port;
	uint8_t family;           /* enum tapir_family: the peers it takes (UNSPEC: both) */
	bool dead;
	struct tapir_tcp_flow_opts o;
	tapir_tcp_accept_fn cb;
	void *ctx;
	size_t nsyn;              /* SYN_RECEIVED flows from this listener */
	uint64_t last_cookie;     /* when we last answered with a cookie */
};

/*
 * The flow.  Every idle connection pays for all of it, so it is laid out by
 * size without holes, flags are bits, and what only a busy flow needs lives
 * in parts allocated on demand: the rings (buf.c), the SACK scoreboard
 * (sack.c), the loss state (loss.h) and out-of-order pieces (ooo.c).
 * test_tcp_limits.c's footprint test fails if it grows past its budget.
 */
struct tapir_tcp_flow {
	struct tapir_stack *st;
	struct tapir_tcp_flow *hnext;           /* hash chain */
	struct tapir_tcp_flow *next, *prev;     /* all flows */
	struct tcp_listener *lsn;         /* SYN_RECEIVED from a listener, not yet accepted */
	union {
		struct tapir_tcp_flow *lnext;   /* list lq, oldest first */
		struct tapir_tcp_flow *znext;   /* zombie list (a zombie is on no lq) */
	};
	struct tapir_tcp_flow *lprev;
	struct tapir_tcp_flow_opts o;

	/* application */
	struct tapir_tcp_callbacks cb;
	void *cb_ctx;
	tapir_tcp_connect_fn on_connect;
	void *connect_ctx;

	uint8_t *sbuf;                    /* send ring */
	uint8_t *rbuf;                    /* receive ring */
	struct tcp_ooo_queue ooo;         /* out-of-order data (ooo.h) */
	union tcp_cc_state ccs;           /* the state of the algorithm o.cc names (cc.h) */
	/* SACK scoreboard (sender side), sorted, merged: TCP_SB_MAX entries,
	 * allocated only while nsb > 0 (sack.c) */
	struct tcp_sack_block *sb;
	/* RACK's log, the retransmissions of a recovery, PRR (loss.h): only
	 * while data is in flight */
	struct tcp_loss *loss;

	/* RTT / RTO */
	uint64_t rto;

	/* timers (0 = off) */
	uint64_t t_rtx, t_delack, t_ka, t_wait;
	uint64_t heap_key;

	/* statistics */
	uint64_t bytes_sent, bytes_acked, bytes_received;

	struct tcp_ip laddr, raddr;

	/* send */
	uint32_t iss, snd_una, snd_nxt, snd_max, snd_wnd, max_snd_wnd, snd_wl1, snd_wl2;
	uint32_t push_seq;                /* Nagle does not hold data below this */
	uint32_t scap, shead, slen;       /* ring: bytes from sbuf_seq (sndbuf < 4 GiB) */
	uint32_t sres;                    /* reserved after the data (tapir_tcp_write_reserve) */
	uint32_t sbuf_seq;
	uint32_t tlp_end;                 /* end of the probe segment */
	uint32_t probe_una;               /* orphan: SND.UNA at the last probe */

	/* receive */
	uint32_t irs, rcv_nxt, rcv_adv, last_ack_sent;
	uint32_t rcap, rhead, rlen;       /* in-order data not yet delivered */

	/* timestamps */
	uint32_t ts_recent, ts_offset;

	/* RTT */
	uint32_t srtt_us, rttvar_us;
	uint32_t rtt_seq;
	uint32_t rtt_start;               /* tcp_us32() when rtt_seq was sent */
	uint32_t first_rtx;               /* tcp_ms32() of the series' first retransmission (0: none) */

	/* RFC 5961 rate limit (tcp_ms32() clocks) */
	uint32_t chal_start;
	uint32_t oow_last;                /* last rate-limited ACK to an unacceptable segment (0: none) */

	/* congestion control */
	uint32_t cwnd, ssthresh, recover, bytes_acked_ca;
	uint32_t sacked, high_sack, rexmit_nxt;

	uint32_t heap_idx;                /* TCP_HEAP_NONE: not in the heap */

	/* statistics: segment counters, 32 bits, wrap */
	uint32_t segs_in, segs_out;
	uint32_t retransmits, fast_retransmits, rto_timeouts, dup_acks_in, ooo_segs_in;
	uint32_t last_rcv_ms;             /* tcp_ms32() of the last segment received (keepalive) */
	/* receive autotuning (buf.c): RCV.NXT less the queue (what the
	 * application took) when this measurement began */
	uint32_t rcvq_seq;

	uint16_t lport, rport;
	uint16_t mss, peer_mss, rcv_mss;  /* send MSS, the peer's option, receive-MSS estimate */
	int16_t err;                      /* -errno the flow ended with */
	uint16_t chal_count;              /* saturates */
	uint16_t retries, ka_probes, backoff;
	uint16_t rcvq_time;               /* tcp_ms32(), low 16 bits, when it began */
	uint8_t state;
	uint8_t snd_ws, rcv_ws;
	uint8_t nsb;                      /* scoreboard ranges (<= TCP_SB_MAX) */
	uint8_t probes;                   /* zero-window probes (<= [tcp] max_retries, 100) */
	uint8_t orphan_probes;            /* orphan: probes since SND.UNA moved (<= orphan_retries, 100) */
	uint8_t dupacks;                  /* saturates (only compared with 3) */
	uint8_t reo_wnd_mult, reo_persist; /* RACK.reo_wnd_mult, recoveries it lasts */

	/* flags */
	bool in_hash : 1, zombie : 1, known : 1, app_closed : 1, closed_reported : 1;
	bool rd_shut : 1, fin_queued : 1, fin_rcvd : 1, eof_delivered : 1, paused : 1;
	bool want_writable : 1, ws_ok : 1, sack_ok : 1, ts_ok : 1, persist : 1;
	bool rtt_timing : 1, in_recovery : 1, ack_now : 1;
	bool sws_override : 1;            /* persist timer: send a short segment */
	bool pto_armed : 1, tlp_out : 1;  /* t_rtx is a tail loss probe; one is out */
	bool in_deliver : 1;              /* deliver_queue() is running */
	bool in_tw : 1;                   /* a shell: its TIME_WAIT is in the tw set */
	bool uncounted : 1;               /* no longer in nflows */
	bool mem_wait : 1;                /* a write was refused for memory (buf.c) */
	bool ooo_fin : 1;                 /* a FIN at ooo.fin_seq is held */
	bool rtt_valid : 1;
	bool reo_armed : 1;               /* t_rtx is RACK's reordering timer */
	bool reord_seen : 1;              /* RACK.reord: reordering observed */
	bool tlp_episode : 1;             /* a probe is out and no DSACK or ACK past it yet */
	bool rcv_auto : 1, snd_auto : 1;  /* o.rcvbuf, o.sndbuf autotuned (buf.c) */
	uint8_t lq : 2;                   /* list it is on: enum tcp_lq (in the flags' last byte) */
	bool in_writable : 1;             /* the writable() callback runs: writes cork (flow.c) */
};

/* Lists of flows kept oldest first (tcp_flow.lq) */
enum tcp_lq {
	TCP_LQ_NONE = 0,
	TCP_LQ_SYN,                       /* SYN_RECEIVED from a listener */
	TCP_LQ_ORPHAN,                    /* closed by the application, not yet over */
	TCP_LQ__N
};
_Static_assert(TCP_LQ__N <= 4, "tcp_flow.lq is 2 bits");

/* A TIME_WAIT entry (tw.c) */
struct tcp_tw {
	struct tcp_tw *hnext;             /* hash chain */
	struct tcp_tw *next, *prev;       /* expiry order */
	uint64_t expiry;
	uint64_t last_ack;                /* 0: none yet */
	struct tcp_ip laddr, raddr;
	uint32_t snd_nxt, rcv_nxt, ts_recent, ts_offset;
	uint16_t rport, lport, window;    /* window: the field we send */
	bool ts_ok;
};

struct tcp_stack {
	struct tapir_tcp_flow **hash;
	size_t hmask;
	struct tapir_tcp_flow *all;
	size_t nflows;
	struct tapir_tcp_flow *zombies;
	struct tapir_tcp_flow **heap;
	size_t nheap, heap_cap;
	struct tcp_listener **lsn;
	size_t nlsn, lsn_cap;
	struct tcp_listener **dead_lsn;
	size_t ndead, dead_cap;
	int depth;                        /* > 0 while TCP code or a callback runs */
	uint64_t isn_key[2], cookie_key[2], hash_key;
	struct tapir_tcp_flow *lq_head[TCP_LQ__N], *lq_tail[TCP_LQ__N];
	size_t lq_n[TCP_LQ__N];
	struct tcp_tw **tw_hash;          /* TIME_WAIT set (tw.c) */
	size_t tw_hmask, ntw;
	struct tcp_tw *tw_head, *tw_tail; /* oldest first */
	size_t mem;                       /* bytes held by rings and OOO pieces (buf.c) */
	size_t mem_waiters;               /* flows with mem_wait */
	bool mem_pressure;
	struct tcp_pool pool;             /* the flows' memory (pool.c) */
	struct tcp_listener *fwd;         /* forwarder mode: port 0, not in lsn (forward.c) */
	void (*fwd_syn)(void *ctx, const struct tapir_tcp_fwd_req *req);
};

/* ---- ISNs, cookies and the flow hash are keyed siphash24_2w() (siphash.c) ---- */

static inline struct tcp_ip tcp_ip4(uint32_t a)
{
	struct tcp_ip ip = { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff } };

	put_be32(ip.b + 12, a);
	return ip;
}

static inline struct tcp_ip tcp_ip6(const uint8_t a[16])
{
	struct tcp_ip ip;

	memcpy(ip.b, a, 16);
	return ip;
}

/* An IPv4 address (mapped)? */
static inline bool tcp_ip_is4(const struct tcp_ip *a)
{
	static const uint8_t pfx[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return memcmp(a->b, pfx, 12) == 0;
}

/* The IPv4 address of a mapped one, host order */
static inline uint32_t tcp_ip_v4(const struct tcp_ip *a)
{
	return get_be32(a->b + 12);
}

static inline bool tcp_ip_eq(const struct tcp_ip *a, const struct tcp_ip *b)
{
	return memcmp(a->b, b->b, 16) == 0;
}

/* IP + TCP header bytes (no options) over @a's family */
static inline uint32_t tcp_ip_hdrs(const struct tcp_ip *a)
{
	return tcp_ip_is4(a) ? 40 : 60;
}

/* The public form of @a: native, or IPv4 as ::ffff:a.b.c.d with @v4mapped */
struct tapir_addr tcp_ip_to_addr(const struct tcp_ip *a, bool v4mapped);
/* @a (IPv4 or IPv6; IPv4-mapped IPv6 becomes IPv4).  Return: false for UNSPEC */
bool tcp_ip_from_addr(struct tcp_ip *out, const struct tapir_addr *a);
/* Path MTU towards @dst over its family */
size_t tcp_path_mtu(struct tapir_stack *st, const struct tcp_ip *dst);

/* SipHash-2-4 under @key of the 4-tuple and @tag (ISNs, timestamp offsets, cookies) */
uint64_t tcp_tuple_sip(const uint64_t key[2], const struct tcp_ip *laddr,
		       const struct tcp_ip *raddr, uint16_t rport, uint16_t lport, uint64_t tag);

/* The flow and TIME_WAIT hash of a 4-tuple over all 256 address bits: the
 * local address counts since forwarded flows (tapir_tcp_forwarder_set())
 * answer for any address. */
static inline uint64_t tuple_hash(uint64_t key, const struct tcp_ip *laddr,
				  const struct tcp_ip *raddr, uint16_t rport, uint16_t lport)
{
	uint64_t w[4], h = key ^ ((uint64_t)rport << 16 | lport);

	memcpy(w, raddr->b, 16);
	memcpy(w + 2, laddr->b, 16);
	for (int i = 0; i < 4; i++) {
		h = (h ^ w[i]) * 0x9e3779b97f4a7c15ull;
		h ^= h >> 29;
	}
	return h * 0x9e3779b97f4a7c15ull;
}

/* Not in ipv6_internal.h's company (its MS differs): is @a ours and usable? */
bool ipv6_is_our_addr(const struct tapir_stack *st, const uint8_t a[16]);
void icmpv6_send_error(struct tapir_stack *st, uint8_t type, uint8_t code, uint32_t info,
		       const uint8_t *pkt, size_t len, bool link_multicast);

/* ---- small helpers ---- */

static inline uint32_t min32(uint32_t a, uint32_t b) { return a < b ? a : b; }
static inline uint32_t max32(uint32_t a, uint32_t b) { return a > b ? a : b; }
static inline size_t minsz(size_t a, size_t b) { return a < b ? a : b; }

static inline struct tcp_stack *T(const struct tapir_stack *st)
{
	return st->tcp;
}

/* The stack's clock in 32 bits (wrapping): what a flow keeps for times it
 * only compares over short spans (rate limits, RTT timing, the R2 floor) */
static inline uint32_t tcp_ms32(const struct tapir_stack *st)
{
	return (uint32_t)(st->now / MS);
}

static inline uint32_t tcp_us32(const struct tapir_stack *st)
{
	return (uint32_t)(st->now / 1000);
}

/* Nanoseconds since @us (a tcp_us32() value) */
static inline uint64_t tcp_us32_since(const struct tapir_stack *st, uint32_t us)
{
	return (uint64_t)(uint32_t)(tcp_us32(st) - us) * 1000;
}

static inline uint32_t ts_now(const struct tapir_tcp_flow *f)
{
	return (uint32_t)(f->st->now / MS) + f->ts_offset;
}

static inline bool synchronized(const struct tapir_tcp_flow *f)
{
	return f->state >= TAPIR_TCP_STATE_ESTABLISHED;
}

static inline bool can_send_data(const struct tapir_tcp_flow *f)
{
	return f->state == TAPIR_TCP_STATE_ESTABLISHED || f->state == TAPIR_TCP_STATE_CLOSE_WAIT ||
	       f->state == TAPIR_TCP_STATE_FIN_WAIT_1 || f->state == TAPIR_TCP_STATE_CLOSING ||
	       f->state == TAPIR_TCP_STATE_LAST_ACK;
}

static inline uint32_t flight(const struct tapir_tcp_flow *f)
{
	return f->snd_max - f->snd_una;
}

/* ---- what the parts call on each other ---- */

/* flow.c: flow table and lifecycle */
struct tapir_tcp_flow *tcp_flow_lookup(const struct tcp_stack *t, const struct tcp_ip *laddr,
				       const struct tcp_ip *raddr, uint16_t rport, uint16_t lport);
/* The listener of @port that takes peers of @family (UNSPEC: any listener of @port) */
struct tcp_listener *tcp_listener_find(const struct tcp_stack *t, uint16_t port, uint8_t family);
struct tapir_tcp_flow *tcp_flow_new(struct tapir_stack *st, const struct tcp_ip *laddr,
				    const struct tcp_ip *raddr, uint16_t rport, uint16_t lport,
				    const struct tapir_tcp_flow_opts *o);
uint8_t tcp_pick_wscale(size_t rcvbuf);
uint16_t tcp_ephemeral_port(struct tapir_stack *st, const struct tcp_ip *laddr,
			    const struct tcp_ip *dst, uint16_t port, uint32_t *iss);
void tcp_reap(struct tcp_stack *t);
void tcp_flow_maybe_free(struct tapir_tcp_flow *f);
void tcp_flow_drop(struct tapir_tcp_flow *f, int err);
void tcp_enter_time_wait(struct tapir_tcp_flow *f);
void tcp_flow_established(struct tapir_tcp_flow *f);
void tcp_maybe_writable(struct tapir_tcp_flow *f);
void tcp_flow_set_iss(struct tapir_tcp_flow *f, uint32_t iss);
void tcp_flow_set_listener(struct tapir_tcp_flow *f, struct tcp_listener *l);
bool tcp_synq_evict(struct tapir_stack *st);
void tcp_orphan_add(struct tapir_tcp_flow *f);
void tcp_orphans_limit(struct tapir_stack *st);

/* tw.c: the TIME_WAIT set */
int tcp_tw_init(struct tcp_stack *t, size_t max_tw);
void tcp_tw_fini(struct tcp_stack *t);
void tcp_tw_add(struct tapir_tcp_flow *f);
struct tcp_tw *tcp_tw_lookup(const struct tcp_stack *t, const struct tcp_ip *laddr,
			     const struct tcp_ip *raddr, uint16_t rport, uint16_t lport);
bool tcp_tw_input(struct tapir_stack *st, struct tcp_tw *tw, const struct tcp_repr *seg,
		  uint32_t *isn);
uint32_t tcp_tw_take(struct tapir_stack *st, struct tcp_tw *tw);
void tcp_tw_expire(struct tapir_stack *st);
uint64_t tcp_tw_deadline(const struct tcp_stack *t);
size_t tcp_tw_list(const struct tcp_stack *t, struct tapir_tcp_flow_info *out, size_t max);

/* input.c: registered with IPv4 and IPv6 by tcp_init() */
int tcp_rx(void *ctx, const struct tapir_ipv4_rx_meta *m, const uint8_t *payload, size_t len);
int tcp_rx6(void *ctx, const struct tapir_ipv6_rx_meta *m, const uint8_t *payload, size_t len);
void tcp_listen_input(struct tapir_stack *st, struct tcp_listener *l, const struct tcp_rx *m,
		      struct tcp_repr *seg, const uint32_t *isn);

/* forward.c: forwarder mode (tapir/forward.h) */
void tcp_fwd_input(struct tapir_stack *st, const struct tcp_rx *m, struct tcp_repr *seg,
		   const uint32_t *isn);
void tcp_fwd_fini(struct tcp_stack *t);
void tcp_icmp_err(void *ctx, const struct tapir_ipv4_icmp_err *e);
void tcp_icmp6_err(void *ctx, const struct tapir_ipv6_icmp_err *e);

/* output.c: building and sending segments */
int tcp_send_repr(struct tapir_stack *st, const struct tcp_ip *src, const struct tcp_ip *dst,
		  struct tcp_repr *r);
void tcp_send_reset_for(struct tapir_stack *st, const struct tcp_ip *laddr,
			const struct tcp_ip *raddr, const struct tcp_repr *seg);
uint16_t tcp_rcv_window(struct tapir_tcp_flow *f);
void tcp_fill_common(struct tapir_tcp_flow *f, struct tcp_repr *r, uint32_t seq, uint8_t flags);
void tcp_ack_sent(struct tapir_tcp_flow *f, const struct tcp_repr *r);
void tcp_send_ack(struct tapir_tcp_flow *f);
void tcp_challenge_ack(struct tapir_tcp_flow *f);
void tcp_oow_ack(struct tapir_tcp_flow *f, const struct tcp_repr *seg);
void tcp_send_rst(struct tapir_tcp_flow *f);
int tcp_send_syn(struct tapir_tcp_flow *f);
void tcp_update_mss(struct tapir_tcp_flow *f);
uint32_t tcp_xmit_data(struct tapir_tcp_flow *f, uint32_t seq, uint32_t len, bool fin, bool rtx);
void tcp_output(struct tapir_tcp_flow *f);

/* timer.c: the timer heap, RTT and RTO, retransmission and persist timers */
void tcp_heap_remove(struct tcp_stack *t, struct tapir_tcp_flow *f);
void tcp_timer_update(struct tapir_tcp_flow *f);
uint64_t tcp_flow_deadline(const struct tapir_tcp_flow *f);
bool tcp_pto_get_ext(const struct tapir_tcp_flow *f, uint32_t sending, uint64_t *out);
void tcp_arm_rtx_ext(struct tapir_tcp_flow *f, uint32_t sending);
void tcp_arm_rtx(struct tapir_tcp_flow *f);
void tcp_arm_persist(struct tapir_tcp_flow *f);
void tcp_ts_sample(struct tapir_tcp_flow *f, uint32_t ecr);
void tcp_rtt_sample(struct tapir_tcp_flow *f, uint64_t rtt_ns);

/* sack.c: SACK scoreboard and loss recovery */
uint32_t tcp_skip_sacked(const struct tapir_tcp_flow *f, uint32_t seq, uint32_t *limit);
void tcp_sb_prune(struct tapir_tcp_flow *f);
void tcp_sb_add(struct tapir_tcp_flow *f, uint32_t l, uint32_t r);
void tcp_sb_clear(struct tapir_tcp_flow *f);
uint32_t tcp_sack_pipe(const struct tapir_tcp_flow *f);
void tcp_rtx_check(struct tapir_tcp_flow *f);
void tcp_enter_recovery(struct tapir_tcp_flow *f);
void tcp_output_recovery(struct tapir_tcp_flow *f);

/* buf.c: send and receive buffers */
bool tcp_sbuf_reserve(struct tapir_tcp_flow *f, size_t want);
void tcp_buf_opts(struct tapir_tcp_flow *f, const struct tapir_tcp_flow_opts *o);
size_t tcp_opts_rcvbuf(const struct tapir_stack *st, const struct tapir_tcp_flow_opts *o);
uint8_t tcp_opts_wscale(const struct tapir_stack *st, const struct tapir_tcp_flow_opts *o);
void tcp_autotune_init(struct tapir_tcp_flow *f);
void tcp_rcv_space_adjust(struct tapir_tcp_flow *f, uint32_t ts_rtt_ms);
void tcp_sndbuf_adjust(struct tapir_tcp_flow *f);
size_t tcp_ooo_limit(const struct tapir_tcp_flow *f);
void tcp_sbuf_free(struct tapir_tcp_flow *f);
void tcp_mem_add(struct tapir_stack *st, long delta);
bool tcp_mem_under_pressure(const struct tapir_stack *st);
size_t tcp_mem_rcv_space(struct tapir_tcp_flow *f, size_t space);
void tcp_mem_wake(struct tapir_stack *st);
bool tcp_mem_wake_pending(const struct tapir_stack *st);
void tcp_deliver_queue(struct tapir_tcp_flow *f);
void tcp_deliver_data(struct tapir_tcp_flow *f, const uint8_t *data, size_t len);

/* syncookie.c: SYN cookies (RFC 4987) */
void tcp_syncookie_send(struct tapir_stack *st, struct tcp_listener *l,
			const struct tcp_ip *laddr, const struct tcp_ip *src,
			const struct tcp_repr *seg);
struct tapir_tcp_flow *tcp_syncookie_check(struct tapir_stack *st, struct tcp_listener *l,
					   const struct tcp_ip *laddr, const struct tcp_ip *src,
					   const struct tcp_repr *seg);

#endif /* TAPIR_TCP_CONN_H */

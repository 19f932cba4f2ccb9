/*
 * loss.h - TCP loss recovery state kept only while data is in flight: RACK's
 * transmission log (rack.c), the retransmissions of a recovery (sack.c), PRR
 * (prr.c); and the calls of rack.c, prr.c and hystart.c
 *
 * struct tcp_loss is allocated for a SACK flow when it has more than one
 * segment in flight (or a recovery starts) and freed when everything sent is
 * acknowledged (tcp_loss_free()), so an idle flow, and one that answers with
 * single segments, pays only the pointer.  Without it (allocation failed, or no SACK) the
 * RFC 6675 rules of sack.c stand alone: a hole below the highest SACK is lost.
 */
#ifndef TAPIR_TCP_LOSS_H
#define TAPIR_TCP_LOSS_H

#include <stdbool.h>
#include <stdint.h>

struct tapir_tcp_flow;
struct tcp_repr;

#define TCP_XLOG 64             /* RACK: original transmissions remembered */
#define TCP_RTX_REC 64          /* retransmissions tracked in a recovery */

/* A retransmission in this recovery: [seq, end) sent at ts (us) when SND.MAX
 * was mark (what lies above mark was sent after it) */
struct tcp_rtx_rec {
	uint32_t seq, end, mark, ts;
};

/* Original transmissions: the data below end (and above the previous entry's
 * end) was sent at ts, microseconds of the stack's clock (wrapping) */
struct tcp_xmit {
	uint32_t end, ts;
};

struct tcp_loss {
	/* RACK (RFC 8985): the log, oldest first, ends increasing */
	struct tcp_xmit log[TCP_XLOG];
	unsigned lhead, ln;
	uint32_t base_ts;           /* data above the log's last end: sent before it */
	bool rack_valid;            /* xmit_ts, end_seq, rtt_us hold a delivery */
	uint32_t xmit_ts, end_seq;  /* RACK.xmit_ts, RACK.end_seq: the latest sent delivered */
	uint32_t rtt_us;            /* RACK.rtt */
	uint32_t min_rtt_us;        /* RACK.min_RTT of this busy period (0: none yet) */
	uint32_t lost_end;          /* unSACKed data below it is lost (RACK's marks) */
	uint32_t dsack_end;         /* a DSACK round: snd_max at the last DSACK counted */
	/* the retransmissions of this recovery (sack.c) */
	struct tcp_rtx_rec rtx[TCP_RTX_REC];
	unsigned nrtx;
	/* PRR (RFC 6937) */
	uint32_t prr_delivered, prr_out, recover_fs;
	/* HyStart++ (RFC 9406, hystart.c): min RTTs in us (UINT32_MAX: none) */
	uint32_t hs_window_end;     /* the round ends when this is acked (0: none yet) */
	uint32_t hs_last_min, hs_cur_min, hs_css_base;
	uint8_t hs_samples, hs_css_rounds;
	bool hs_css, hs_done;
};

/* rack.c: RACK-TLP loss detection */
struct tcp_loss *tcp_loss_get(struct tapir_tcp_flow *f);
void tcp_loss_free(struct tapir_tcp_flow *f);
void tcp_rack_sent(struct tapir_tcp_flow *f, uint32_t seq, uint32_t len, bool rtx);
bool tcp_rack_dsack(const struct tcp_repr *seg);
void tcp_rack_on_ack(struct tapir_tcp_flow *f, const struct tcp_repr *seg, bool dsack);
bool tcp_rack_detect(struct tapir_tcp_flow *f);
uint32_t tcp_rack_lost_end(const struct tapir_tcp_flow *f);
uint32_t tcp_rack_reo_wnd(const struct tapir_tcp_flow *f);
void tcp_rack_on_rto(struct tapir_tcp_flow *f);
void tcp_rack_timeout(struct tapir_tcp_flow *f);
void tcp_rack_recovery_end(struct tapir_tcp_flow *f);

/* sack.c: a recovery of the resends after a timeout */
bool tcp_rto_recovery(struct tapir_tcp_flow *f);

/* prr.c: Proportional Rate Reduction */
void tcp_prr_start(struct tapir_tcp_flow *f);
void tcp_prr_ack(struct tapir_tcp_flow *f, uint32_t delivered);
void tcp_prr_sent(struct tapir_tcp_flow *f, uint32_t bytes);

/* hystart.c: HyStart++ (RFC 9406) */
void tcp_hystart_rtt(struct tapir_tcp_flow *f, uint32_t rtt_us);
uint32_t tcp_hystart_ss_incr(struct tapir_tcp_flow *f, uint32_t incr);

#endif /* TAPIR_TCP_LOSS_H */

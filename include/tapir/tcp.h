/*
 * tcp.h - libstack's TCP API (after Mirage's TCP flow): listen, connect, flows
 *
 * Theory of operation (for users; the implementation notes are in tcp/tcp_conn.h)
 *
 * A struct tapir_tcp_flow is one connection, owned by the stack.  The application
 * learns a flow pointer from its accept callback (tapir_tcp_listen()) or its
 * connect callback (tapir_tcp_connect()); from then on the pointer stays valid
 * until the application calls tapir_tcp_close() (or tapir_tcp_abort()) on it, whatever
 * happens on the wire.  After tapir_tcp_close() returns, no callback is ever made
 * for the flow again and the pointer must not be used: the stack finishes
 * the close (FIN, TIME_WAIT, ...) on its own and frees the memory at a safe
 * point (never under a running callback, as libuv's uv_close()).
 *
 * Callbacks run from tapir_stack_input() and tapir_stack_poll() (and never from a call
 * the application makes, except that tapir_tcp_connect()'s callback never runs
 * before tapir_tcp_connect() has returned).  Inside any callback the application
 * may call any function here on any flow, including tapir_tcp_close() on the flow
 * whose callback is running.
 *
 * Receiving: in-order data is handed to recv() straight from the received
 * frame (no copy) unless reading is paused (tapir_tcp_read_pause()) or no recv
 * callback is set yet, in which case it is queued (at most rcvbuf bytes; the
 * advertised window closes as the queue fills).  Unless the application set
 * them, rcvbuf and sndbuf grow while the flow needs them (autotuning, as
 * Linux's): the window to about twice what the application takes per round
 * trip, the send buffer to about twice the congestion window.  recv() with len == 0 means
 * end of stream (the peer's FIN).  Sending: tapir_tcp_write() copies into the
 * flow's send buffer (a ring of sndbuf bytes) and returns how much it took;
 * when it took less than asked, writable() is called once there is room
 * again.  tapir_tcp_write_reserve()/tapir_tcp_write_commit() let the application write
 * straight into that ring instead (no copy).  closed() reports the end of the connection: -ECONNRESET (reset by
 * the peer), -ETIMEDOUT (retransmissions, keepalive or zero-window probes
 * unanswered), -ECONNABORTED (the stack gave up, e.g. data arrived after
 * shutdown), or 0 after an orderly close in both directions; the application
 * must still call tapir_tcp_close() to release the flow.
 *
 * Addresses are struct tapir_addr (addr.h) in their native family: TCP runs
 * over IPv4 and IPv6 alike, and a listener takes both unless
 * tapir_tcp_listen_family() says otherwise (a dual-stack listener reports an
 * IPv4 peer as IPv4, or as ::ffff:a.b.c.d with the flow option v4mapped, as
 * a dual-stack BSD socket does).  Errors are negative
 * errno values; a function that takes a callback and returns an error never
 * calls it.
 */
#ifndef TAPIR_TCP_H
#define TAPIR_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "stack.h"

struct tapir_tcp_flow;

/* RFC 9293 states; TAPIR_TCP_STATE_LISTEN is only reported for listeners. */
enum tapir_tcp_state {
	TAPIR_TCP_STATE_CLOSED = 0,
	TAPIR_TCP_STATE_LISTEN,
	TAPIR_TCP_STATE_SYN_SENT,
	TAPIR_TCP_STATE_SYN_RECEIVED,
	TAPIR_TCP_STATE_ESTABLISHED,
	TAPIR_TCP_STATE_FIN_WAIT_1,
	TAPIR_TCP_STATE_FIN_WAIT_2,
	TAPIR_TCP_STATE_CLOSE_WAIT,
	TAPIR_TCP_STATE_CLOSING,
	TAPIR_TCP_STATE_LAST_ACK,
	TAPIR_TCP_STATE_TIME_WAIT,
	TAPIR_TCP_STATE__COUNT
};

/**
 * struct tapir_tcp_flow_opts - per-flow options (defaults from stack_config.tcp)
 * @keepalive:	Send keepalive probes (RFC 1122 4.2.3.6); off by default
 * @ka_idle_ns:	Idle time before the first probe
 * @ka_intvl_ns: Time between probes
 * @ka_count:	Unanswered probes before the connection is dropped
 * @nodelay:	Disable Nagle's algorithm
 * @sndbuf:	Send buffer, bytes (at least 4 KiB is used), or 0 (the
 *		default): [tcp] sndbuf to begin with, then autotuned (it grows
 *		with the congestion window up to [tcp] sndbuf_max).  A size
 *		set here stays fixed, as SO_SNDBUF turns Linux's autotuning
 *		off.  Allocated as needed: the ring starts at 2 KiB, doubles,
 *		and is freed when everything sent is acknowledged
 * @rcvbuf:	Receive buffer: the largest window offered, bytes (4 KiB to
 *		65535 << 14), or 0 (the default): [tcp] rcvbuf to begin with,
 *		then autotuned (it grows with what the application takes per
 *		round trip, up to [tcp] rcvbuf_max).  A size set here stays
 *		fixed (as SO_RCVBUF).  Memory is used only for data the
 *		application has not taken (paused, or no recv callback yet)
 * @cc:		Congestion control: TAPIR_TCP_CC_CUBIC (the default) or TAPIR_TCP_CC_NEWRENO
 * @v4mapped:	Report an IPv4 peer (and our IPv4 address) as an IPv4-mapped
 *		IPv6 address ::ffff:a.b.c.d in struct tapir_tcp_flow_info, as
 *		a dual-stack BSD socket does; off by default (native IPv4)
 */
struct tapir_tcp_flow_opts {
	uint64_t ka_idle_ns, ka_intvl_ns;
	size_t sndbuf, rcvbuf;
	unsigned ka_count;
	enum tapir_tcp_cc_algo cc;
	bool keepalive;
	bool nodelay;
	bool v4mapped;
};

/* Fill @o with the stack's defaults (stack_config.tcp); sndbuf and rcvbuf
 * are 0: the stack's sizes, autotuned unless [tcp] autotune is off. */
void tapir_tcp_flow_opts_defaults(const struct tapir_stack *st, struct tapir_tcp_flow_opts *o);

/**
 * struct tapir_tcp_callbacks - what a flow tells its application
 * @recv:	Data in order; @data is lent for the call only.  len == 0: end
 *		of stream (FIN), delivered once, after all data
 * @writable:	Room in the send buffer again after a short tapir_tcp_write();
 *		what it writes goes out when it returns (autocork: one run of
 *		full segments, not a short tail per write)
 * @closed:	The connection is over (see the theory above); called once
 *
 * Any member may be NULL.
 */
struct tapir_tcp_callbacks {
	void (*recv)(void *ctx, struct tapir_tcp_flow *f, const uint8_t *data, size_t len);
	void (*writable)(void *ctx, struct tapir_tcp_flow *f);
	void (*closed)(void *ctx, struct tapir_tcp_flow *f, int err);
};

/* A new connection is established; set its callbacks here (the flow is the
 * application's until it calls tapir_tcp_close()). */
typedef void (*tapir_tcp_accept_fn)(void *ctx, struct tapir_tcp_flow *f);
/* Active open finished: @err 0 and @f established, or @err < 0
 * (-ECONNREFUSED, -ETIMEDOUT, -ENETUNREACH...) and @f NULL. */
typedef void (*tapir_tcp_connect_fn)(void *ctx, struct tapir_tcp_flow *f, int err);

/**
 * tapir_tcp_listen() - Accept connections on a port, over IPv4 and IPv6
 * @st:   Stack
 * @port: Local port (not 0)
 * @o:    Options for accepted flows, or NULL for the defaults (copied)
 * @cb:   Called for each established connection
 * @ctx:  Passed to @cb
 *
 * Return: 0, -EINVAL, -EADDRINUSE, -ENOMEM
 */
int tapir_tcp_listen(struct tapir_stack *st, uint16_t port, const struct tapir_tcp_flow_opts *o,
		     tapir_tcp_accept_fn cb, void *ctx);

/**
 * tapir_tcp_listen_family() - Accept connections on a port from one family
 * @st:   Stack
 * @port: Local port (not 0)
 * @fam:  TAPIR_AF_INET, TAPIR_AF_INET6 (only those peers; a SYN of the
 *        other family is answered with RST unless another listener of the
 *        port takes it), or TAPIR_AF_UNSPEC for both (tapir_tcp_listen())
 * @o:    Options for accepted flows, or NULL for the defaults (copied)
 * @cb:   Called for each established connection
 * @ctx:  Passed to @cb
 *
 * A port may have one listener per family, or one for both.
 *
 * Return: 0, -EINVAL, -EADDRINUSE (a listener of the port takes that family
 *         already), -EAFNOSUPPORT (IPv6 asked for, and IPv6 is off), -ENOMEM
 */
int tapir_tcp_listen_family(struct tapir_stack *st, uint16_t port, enum tapir_family fam,
			    const struct tapir_tcp_flow_opts *o, tapir_tcp_accept_fn cb,
			    void *ctx);

/* Stop listening (every listener of the port, both families); half-open
 * connections of the port are reset.
 * Return: 0 or -ENOENT */
int tapir_tcp_unlisten(struct tapir_stack *st, uint16_t port);

/**
 * tapir_tcp_connect() - Open a connection from a random ephemeral port
 * @st:   Stack
 * @dst:  Remote address, IPv4 or IPv6 (an IPv4-mapped IPv6 address is IPv4);
 *        borrowed for the call
 * @port: Remote port (not 0)
 * @o:    Options, or NULL for the defaults (copied)
 * @cb:   Called once, from tapir_stack_input()/tapir_stack_poll(), with the result
 * @ctx:  Passed to @cb
 *
 * Our address: the stack's IPv4 address, or over IPv6 the one RFC 6724
 * selects for @dst (tapir_ipv6_select_source()).
 *
 * Return: 0 (the SYN is on its way), -EINVAL (no address, port 0, or an
 *         address that cannot be a peer: 0.0.0.0, ::, ::1, broadcast,
 *         multicast, our own), -EAFNOSUPPORT (IPv6 is off), -EADDRNOTAVAIL
 *         (no usable IPv6 source), -ENETUNREACH (no route), -EAGAIN (no free
 *         port), -ENOBUFS (connection limit), -ENOMEM
 */
int tapir_tcp_connect(struct tapir_stack *st, const struct tapir_addr *dst, uint16_t port,
		      const struct tapir_tcp_flow_opts *o, tapir_tcp_connect_fn cb, void *ctx);

/**
 * tapir_tcp_connect_cancel() - Give up active opens still under way
 * @st:  Stack
 * @cb:  The callback given to tapir_tcp_connect()
 * @ctx: Its context
 *
 * Every connection started with this @cb and @ctx whose callback has not run
 * yet is reset (RST if the SYN was answered) and released; its callback is
 * never made.  For an application that stops while connecting.
 *
 * Return: number of connections cancelled
 */
int tapir_tcp_connect_cancel(struct tapir_stack *st, tapir_tcp_connect_fn cb, void *ctx);

/* Set the callbacks and their context (@cb is copied; NULL clears them). */
void tapir_tcp_flow_set_callbacks(struct tapir_tcp_flow *f, const struct tapir_tcp_callbacks *cb,
				  void *ctx);

/**
 * tapir_tcp_write() - Queue data for sending
 * @f:    Flow
 * @data: Bytes, copied before return
 * @len:  Length
 *
 * Return: bytes taken (may be fewer than @len; 0 when the buffer is full,
 *         and writable() follows when there is room), -ENOBUFS when the
 *         buffer cannot grow because the TCP memory of the stack is used up
 *         ([tcp] max_memory; writable() follows when memory is back below
 *         the pressure mark), -EPIPE after shutdown(write)/close or once the
 *         connection is over, -ENOTCONN
 */
long tapir_tcp_write(struct tapir_tcp_flow *f, const void *data, size_t len);
/**
 * tapir_tcp_write_reserve() - Lend the application free space in the send ring
 * @f:   Flow
 * @len: In: bytes wanted (0: as many as the send buffer allows).  Out: bytes
 *       writable at the returned pointer (at most what was wanted; 0 with NULL)
 * @err: If not NULL: 0 with space; -EAGAIN when the send buffer is full
 *       (writable() follows when there is room), -ENOBUFS, -EPIPE, -ENOTCONN
 *       as tapir_tcp_write(), -ENOMEM, -EINVAL
 *
 * Zero-copy sending: write the data at the returned pointer, then queue it
 * with tapir_tcp_write_commit().  The space is one contiguous piece of the ring,
 * which grows (up to sndbuf) to fit @len; when the free space wraps around
 * the ring's end, the piece is shorter than wanted: commit it and reserve
 * again for the rest.  When less than wanted is free in all, writable()
 * follows once there is room, as after a short tapir_tcp_write().
 *
 * The memory stays the stack's.  The application may write to it until it
 * commits, reserves again, or calls tapir_tcp_write()/tapir_tcp_writev()/
 * tapir_tcp_write_nodelay(), tapir_tcp_shutdown(), tapir_tcp_close() or tapir_tcp_abort() on @f;
 * any of these ends the reservation (uncommitted bytes are not sent).
 * tapir_stack_input() and tapir_stack_poll() may run in between: the reservation
 * survives them.
 *
 * Return: pointer to *@len writable bytes, or NULL (*@len 0)
 */
void *tapir_tcp_write_reserve(struct tapir_tcp_flow *f, size_t *len, int *err);

/**
 * tapir_tcp_write_commit() - Queue bytes written at the tapir_tcp_write_reserve() pointer
 * @f:    Flow
 * @n:    Bytes written (at most the reserved length; 0 ends the reservation)
 * @push: Send now whatever Nagle says (as tapir_tcp_write_nodelay())
 *
 * The bytes are sent as tapir_tcp_write() would send them.  The reservation ends.
 *
 * Return: @n, or -EINVAL (@n more than reserved, or no reservation), -EPIPE,
 *         -ENOTCONN as tapir_tcp_write()
 */
long tapir_tcp_write_commit(struct tapir_tcp_flow *f, size_t n, bool push);

/* As tapir_tcp_write() for several pieces. */
long tapir_tcp_writev(struct tapir_tcp_flow *f, const struct tapir_stack_iov *iov, int iovcnt);
/* As tapir_tcp_write(), and push what is queued now whatever Nagle says. */
long tapir_tcp_write_nodelay(struct tapir_tcp_flow *f, const void *data, size_t len);

/**
 * tapir_tcp_shutdown() - Close one or both directions
 * @rd: No more data is delivered (arriving data is acknowledged and dropped)
 * @wr: Send a FIN after the queued data
 *
 * Return: 0, -ENOTCONN (not established, or over), -EINVAL (NULL or
 *         closed flow)
 */
int tapir_tcp_shutdown(struct tapir_tcp_flow *f, bool rd, bool wr);

/* Release the flow: FIN after queued data (RST if received data was left
 * unread).  No callback after it returns; @f must not be used again. */
void tapir_tcp_close(struct tapir_tcp_flow *f);
/* Reset the connection (RST) and release the flow, as tapir_tcp_close(). */
void tapir_tcp_abort(struct tapir_tcp_flow *f);
/**
 * tapir_tcp_close_ctx() - Close every flow whose callbacks' context is @ctx
 * @st:  Stack
 * @ctx: The context given to tapir_tcp_flow_set_callbacks()
 *
 * tapir_tcp_close() on each such flow the application holds (for a server
 * that keeps no record of its idle connections and stops).
 *
 * Return: number of flows closed
 */
size_t tapir_tcp_close_ctx(struct tapir_stack *st, void *ctx);

/* Stop (true) or resume (false) delivering data.  While paused, data is
 * queued up to rcvbuf and the window closes; resuming delivers the queue. */
void tapir_tcp_read_pause(struct tapir_tcp_flow *f, bool paused);

struct tapir_tcp_flow_info {
	struct tapir_addr local_addr, remote_addr;  /* native family (v4mapped: see the opts) */
	uint16_t local_port, remote_port;
	int state;                      /* enum tapir_tcp_state */
	size_t snd_queue;               /* bytes in the send buffer (unacked + unsent) */
	size_t rcv_queue;               /* bytes received in order, not yet delivered */
	size_t ooo_bytes;               /* out-of-order bytes held */
	size_t sndbuf, rcvbuf;          /* the buffers' current limits (autotuning grows them) */
	uint32_t srtt_us, rttvar_us, rto_ms;
	uint32_t cwnd, ssthresh;        /* bytes */
	uint32_t mss;                   /* payload bytes per full segment we send */
	uint32_t snd_wnd, rcv_wnd;      /* bytes */
	uint8_t snd_wscale, rcv_wscale; /* 0 when not in use */
	bool sack, timestamps, wscale;  /* negotiated options */
	int cc;                         /* enum tapir_tcp_cc_algo */
	uint64_t bytes_sent;            /* data bytes sent, retransmissions included */
	uint64_t bytes_acked, bytes_received;
	uint64_t segs_in, segs_out;
	uint64_t retransmits;           /* segments retransmitted */
	uint64_t fast_retransmits, rto_timeouts;
	uint64_t dup_acks_in, ooo_segs_in;
};

/* Return: 0 and @out filled, or -EINVAL */
int tapir_tcp_flow_info(const struct tapir_tcp_flow *f, struct tapir_tcp_flow_info *out);
/* Return: "ESTABLISHED" etc., "?" for an unknown value */
const char *tapir_tcp_state_name(int state);
/* Copy the info of up to @max flows (not listeners).  Return: number copied */
size_t tapir_tcp_flow_list(const struct tapir_stack *st, struct tapir_tcp_flow_info *out,
			   size_t max);
/* Return: number of flows the stack holds (TIME_WAIT and orphans included) */
size_t tapir_tcp_flow_count(const struct tapir_stack *st);
/* Return: entries in the TIME_WAIT set (outside max_connections, at most max_tw) */
size_t tapir_tcp_time_wait_count(const struct tapir_stack *st);
/* Return: flows closed by the application that are not over (at most max_orphans) */
size_t tapir_tcp_orphan_count(const struct tapir_stack *st);
/* Return: bytes held by send rings, receive rings and out-of-order data of all
 * flows (counted against max_memory) */
size_t tapir_tcp_mem_used(const struct tapir_stack *st);
/**
 * tapir_tcp_mem_check() - Recount the memory of every flow (tests, fuzzers)
 * @st: Stack
 *
 * Return: true when what the flows hold equals tapir_tcp_mem_used()
 */
bool tapir_tcp_mem_check(const struct tapir_stack *st);
/* Check the TCP invariants (tcp/check.c; for fuzzers and tests).
 * Return: NULL, or @buf (@len bytes) describing the first violation */
const char *tapir_tcp_check_invariants(const struct tapir_stack *st, char *buf, size_t len);

#endif /* TAPIR_TCP_H */

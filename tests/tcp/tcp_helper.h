/*
 * tcp_helper.h - segment builders and a recording application for TCP tests
 *                (after lwIP's test/unit/tcp/tcp_helper.c)
 *
 * The stack under test is a host on the harness world (192.0.2.2); the test
 * plays the peer from the raw port (192.0.2.99), crafting segments with
 * th_send() and reading what the stack sent with th_segs()/th_last().
 */
#ifndef TAPIR_TCP_HELPER_H
#define TAPIR_TCP_HELPER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness.h"
#include "tapir/tcp.h"
#include "wire/tcp.h"

#define PEER_IP IP(192, 0, 2, 99)
#define MSEC 1000000ull

/* Send @r (checksum computed) from the raw port to @h and deliver it. */
void th_send(struct world *w, struct host *h, const struct tcp_repr *r);
/* As th_send() from @src instead of the raw port's address. */
void th_send_from(struct world *w, struct host *h, uint32_t src, const struct tcp_repr *r);
/* Parse the TCP segments the raw port recorded (payloads point into them). */
size_t th_segs(struct world *w, struct tcp_repr *out, size_t max);
/* The last TCP segment recorded.  Return: false if none */
bool th_last(struct world *w, struct tcp_repr *out);
size_t th_count(struct world *w);

/* A repr from the peer's port @sport to @dport. */
struct tcp_repr th_seg(uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
		       uint16_t window);

/* A recording application. */
struct app {
	struct tapir_stack *st;
	struct tapir_tcp_flow *flow;          /* last accepted/connected flow */
	int accepts, connects, connect_err;
	uint8_t *data;
	size_t len, cap;
	int eofs, closes, close_err, writables;
	bool close_in_recv, close_in_accept, write_in_recv;
	bool close_on_closed;
	bool unpause_in_recv;           /* call tapir_tcp_read_pause(false) from recv */
};
void app_init(struct app *a, struct tapir_stack *st);
void app_fini(struct app *a);
void app_accept(void *ctx, struct tapir_tcp_flow *f);
void app_connect(void *ctx, struct tapir_tcp_flow *f, int err);
extern const struct tapir_tcp_callbacks app_cbs;

/* A listener on @port of @h with @o (NULL: defaults) recording into @a. */
void app_listen(struct app *a, struct host *h, uint16_t port, const struct tapir_tcp_flow_opts *o);

/* Three-way handshake from the raw port to a listener on @h:@port.
 * Returns the stack's ISS; *@peer_seq is the next sequence number to send. */
uint32_t th_handshake(struct world *w, struct host *h, uint16_t sport, uint16_t port,
		      uint32_t peer_isn, bool opts, uint32_t *peer_seq);

uint8_t *th_pattern(size_t len, unsigned seed);

/* The ports of the flows th_case_open() makes: the stack listens on TH_PORT,
 * the peer (the raw port) sends from TH_SPORT */
#define TH_PORT 80
#define TH_SPORT 40000

/* A stack under test on a world of its own, with an app recording its flows */
struct th_case {
	struct world *w;
	struct host *h;
	struct app a;
};
/* @cfg: the stack's configuration (NULL: defaults) */
struct th_case *th_case_new(const struct tapir_stack_config *cfg);
void th_case_free(struct th_case *t);
/* An established passive flow (with the TCP options if @opts).
 * Return: our ISS; *@ps gets the peer's next sequence number */
uint32_t th_case_open(struct th_case *t, bool opts, uint32_t *ps);
/* A data segment from the peer (TH_SPORT -> TH_PORT, ACK|PSH, window 65535) */
struct tcp_repr th_data_seg(uint32_t seq, uint32_t ack, const void *p, size_t len);

#endif

/*
 * test_forward.c - the forwarder mode (tapir/forward.h): a client stack routes
 * through a router stack that takes TCP, UDP and pings for any address
 *
 * World: the client 192.0.2.1 (gateway 192.0.2.2), the router 192.0.2.2 with
 * the forwarders set; the foreign address is 198.51.100.7.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tapir/forward.h"
#include "tapir/ipv6.h"
#include "tcp_helper.h"
#include "wire/eth.h"
#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/ipv4.h"
#include "wire/ipv6.h"

/* An IPv4 address (host order) as a struct tapir_addr pointer, for the UDP API */
#define V4(a) (&(struct tapir_addr){ .family = TAPIR_AF_INET, .v4 = (a) })

#define FOREIGN IP(198, 51, 100, 7)
#define OTHER IP(198, 51, 100, 8)

struct router {
	struct tapir_stack *st;
	struct tapir_tcp_fwd_req reqs[8];
	int nreq;
	bool accept_now;            /* accept in syn() */
	struct app a;               /* the forwarded flows */
	/* UDP */
	int udp_n;
	struct tapir_udp_meta udp_m;
	uint8_t udp_data[64];
	size_t udp_len;
	/* echo */
	int echo_n;
	uint32_t echo_src, echo_dst;
	uint16_t echo_id, echo_seq;
};

static void r_syn(void *ctx, const struct tapir_tcp_fwd_req *req)
{
	struct router *r = ctx;

	if (r->nreq < 8)
		r->reqs[r->nreq++] = *req;
	if (r->accept_now)
		assert_int_equal(tapir_tcp_forward_accept(r->st, req), 0);
}

static void r_accept(void *ctx, struct tapir_tcp_flow *f)
{
	struct router *r = ctx;

	app_accept(&r->a, f);
}

static void r_udp(void *ctx, const struct tapir_udp_meta *m, const uint8_t *data, size_t len)
{
	struct router *r = ctx;

	r->udp_n++;
	r->udp_m = *m;
	r->udp_len = len < sizeof(r->udp_data) ? len : sizeof(r->udp_data);
	memcpy(r->udp_data, data, r->udp_len);
}

static void r_echo(void *ctx, uint32_t src, uint32_t dst, uint16_t id, uint16_t seq,
		   const uint8_t *data, size_t len)
{
	struct router *r = ctx;

	r->echo_n++;
	r->echo_src = src;
	r->echo_dst = dst;
	r->echo_id = id;
	r->echo_seq = seq;
	assert_int_equal(tapir_icmp_echo_reply_from(r->st, dst, src, id, seq, data, len), 0);
}

struct fx {
	struct world *w;
	struct host *c, *rt;
	struct app ca;              /* the client's flows */
	struct router r;
};

static struct fx *fx_new(const struct tapir_stack_config *rcfg)
{
	struct fx *x = calloc(1, sizeof(*x));
	struct tapir_stack_config cc;
	const struct tapir_tcp_forwarder fw = { .syn = r_syn, .accept = r_accept };

	tapir_stack_config_defaults(&cc);
	cc.gateway = IP(192, 0, 2, 2);
	x->w = world_new();
	x->c = world_add(x->w, 1, &cc);
	x->rt = world_add(x->w, 2, rcfg);
	app_init(&x->ca, x->c->st);
	app_init(&x->r.a, x->rt->st);
	x->r.st = x->rt->st;
	assert_int_equal(tapir_tcp_forwarder_set(x->rt->st, &fw, &x->r), 0);
	assert_true(tapir_stack_forwarding(x->rt->st));
	return x;
}

static void fx_free(struct fx *x)
{
	app_fini(&x->ca);
	app_fini(&x->r.a);
	world_free(x->w);
	free(x);
}

static uint64_t ctr(struct host *h, enum tapir_stack_counter c)
{
	return tapir_stack_counter(h->st, c);
}

/* Accepted later: SYN-ACK from the foreign address, data both ways, FIN both ways */
static void test_tcp_accept_later(void **state)
{
	(void)state;
	struct fx *x = fx_new(NULL);
	struct tapir_tcp_flow_info fi;

	assert_int_equal(tapir_tcp_connect(x->c->st, A4(FOREIGN), 443, NULL, app_connect, &x->ca), 0);
	world_pump(x->w);
	assert_int_equal(x->r.nreq, 1);
	assert_true(tapir_addr_eq(&x->r.reqs[0].src, A4(x->c->ip)));
	assert_true(tapir_addr_eq(&x->r.reqs[0].dst, A4(FOREIGN)));
	assert_int_equal(x->r.reqs[0].dst_port, 443);
	assert_true(x->r.reqs[0].syn.has_mss);
	assert_int_equal(x->r.reqs[0].syn.quote_len, 20 + 8);
	assert_int_equal(x->ca.connects, 0);
	assert_int_equal(tapir_tcp_flow_count(x->rt->st), 0);   /* nothing kept yet */

	/* the client's SYN is retransmitted while the app decides: asked again */
	world_advance(x->w, 1100 * MSEC);
	assert_int_equal(x->r.nreq, 2);
	assert_int_equal(x->r.reqs[1].src_port, x->r.reqs[0].src_port);

	assert_int_equal(tapir_tcp_forward_accept(x->rt->st, &x->r.reqs[0]), 0);
	world_pump(x->w);
	assert_int_equal(x->ca.connects, 1);
	assert_int_equal(x->ca.connect_err, 0);
	assert_int_equal(x->r.a.accepts, 1);
	/* a second answer for the tuple finds its flow */
	assert_int_equal(tapir_tcp_forward_accept(x->rt->st, &x->r.reqs[1]), -EEXIST);

	assert_int_equal(tapir_tcp_flow_info(x->r.a.flow, &fi), 0);
	assert_true(tapir_addr_eq(&fi.local_addr, A4(FOREIGN)));
	assert_int_equal(fi.local_port, 443);
	assert_true(tapir_addr_eq(&fi.remote_addr, A4(x->c->ip)));
	assert_int_equal(tapir_tcp_flow_info(x->ca.flow, &fi), 0);
	assert_true(tapir_addr_eq(&fi.remote_addr, A4(FOREIGN)));

	assert_int_equal(tapir_tcp_write(x->ca.flow, "ping", 4), 4);
	assert_int_equal(tapir_tcp_write(x->r.a.flow, "pong!", 5), 5);
	world_pump(x->w);
	world_advance(x->w, 300 * MSEC);
	assert_int_equal(x->r.a.len, 4);
	assert_memory_equal(x->r.a.data, "ping", 4);
	assert_int_equal(x->ca.len, 5);
	assert_memory_equal(x->ca.data, "pong!", 5);

	/* half-close from the client, then from the router */
	assert_int_equal(tapir_tcp_shutdown(x->ca.flow, false, true), 0);
	world_pump(x->w);
	assert_int_equal(x->r.a.eofs, 1);
	assert_int_equal(tapir_tcp_write(x->r.a.flow, "after", 5), 5);
	assert_int_equal(tapir_tcp_shutdown(x->r.a.flow, false, true), 0);
	world_pump(x->w);
	world_advance(x->w, 300 * MSEC);
	assert_int_equal(x->ca.len, 10);
	assert_int_equal(x->ca.eofs, 1);
	assert_int_equal(ctr(x->rt, TAPIR_CTR_TCP_FORWARD_SYNS), 2);
	assert_int_equal(ctr(x->rt, TAPIR_CTR_TCP_FORWARD_ACCEPTED), 1);
	assert_true(tapir_tcp_mem_check(x->rt->st));
	fx_free(x);
}

/* Two foreign addresses, same ports: two flows (the local address is in the key) */
static void test_tcp_two_addresses(void **state)
{
	(void)state;
	struct fx *x = fx_new(NULL);

	x->r.accept_now = true;
	assert_int_equal(tapir_tcp_connect(x->c->st, A4(FOREIGN), 80, NULL, app_connect, &x->ca), 0);
	assert_int_equal(tapir_tcp_connect(x->c->st, A4(OTHER), 80, NULL, app_connect, &x->ca), 0);
	world_pump(x->w);
	assert_int_equal(x->ca.connects, 2);
	assert_int_equal(x->r.a.accepts, 2);
	assert_int_equal(tapir_tcp_flow_count(x->rt->st), 2);
	fx_free(x);
}

/* Refused: RST (the client's connect fails with ECONNREFUSED), ICMP unreachable */
static void test_tcp_refuse(void **state)
{
	(void)state;
	struct fx *x = fx_new(NULL);

	assert_int_equal(tapir_tcp_connect(x->c->st, A4(FOREIGN), 81, NULL, app_connect, &x->ca), 0);
	world_pump(x->w);
	assert_int_equal(x->r.nreq, 1);
	tapir_tcp_forward_refuse(x->rt->st, &x->r.reqs[0], -ECONNREFUSED);
	world_pump(x->w);
	assert_int_equal(x->ca.connects, 1);
	assert_int_equal(x->ca.connect_err, -ECONNREFUSED);

	assert_int_equal(tapir_tcp_connect(x->c->st, A4(FOREIGN), 82, NULL, app_connect, &x->ca), 0);
	world_pump(x->w);
	assert_int_equal(x->r.nreq, 2);
	tapir_tcp_forward_refuse(x->rt->st, &x->r.reqs[1], -EHOSTUNREACH);
	world_pump(x->w);
	assert_int_equal(ctr(x->rt, TAPIR_CTR_ICMP_ERRORS_SENT), 1);
	assert_int_equal(ctr(x->c, TAPIR_CTR_ICMP_ERRORS_RX), 1);
	assert_int_equal(ctr(x->rt, TAPIR_CTR_TCP_FORWARD_REFUSED), 2);
	assert_int_equal(tapir_tcp_flow_count(x->rt->st), 0);
	fx_free(x);
}

/* A full backlog: the forwarded SYN is answered with a cookie, and the
 * cookie's ACK makes the flow (accept() follows) */
static void test_tcp_syncookie(void **state)
{
	(void)state;
	struct tapir_stack_config rc;
	struct fx *x;

	tapir_stack_config_defaults(&rc);
	rc.tcp.backlog = 1;
	rc.tcp.syn_cookies = true;
	x = fx_new(&rc);
	assert_int_equal(tapir_tcp_connect(x->c->st, A4(FOREIGN), 80, NULL, app_connect, &x->ca), 0);
	assert_int_equal(tapir_tcp_connect(x->c->st, A4(FOREIGN), 80, NULL, app_connect, &x->ca), 0);
	world_pump(x->w);
	assert_int_equal(x->r.nreq, 2);
	/* both accepted before either handshake completes: the second is a cookie */
	assert_int_equal(tapir_tcp_forward_accept(x->rt->st, &x->r.reqs[0]), 0);
	assert_int_equal(tapir_tcp_forward_accept(x->rt->st, &x->r.reqs[1]), 0);
	assert_int_equal(ctr(x->rt, TAPIR_CTR_TCP_SYNCOOKIES_SENT), 1);
	world_pump(x->w);
	assert_int_equal(ctr(x->rt, TAPIR_CTR_TCP_SYNCOOKIES_OK), 1);
	assert_int_equal(x->ca.connects, 2);
	assert_int_equal(x->r.a.accepts, 2);
	fx_free(x);
}

/* Turning TCP forwarding off resets the half-open flows (the client saw the
 * SYN-ACK first: reset after connecting); later SYNs get a RST */
static void test_tcp_forwarder_off(void **state)
{
	(void)state;
	struct fx *x = fx_new(NULL);

	assert_int_equal(tapir_tcp_connect(x->c->st, A4(FOREIGN), 80, NULL, app_connect, &x->ca), 0);
	world_pump(x->w);
	assert_int_equal(tapir_tcp_forward_accept(x->rt->st, &x->r.reqs[0]), 0);
	assert_int_equal(tapir_tcp_forwarder_set(x->rt->st, NULL, NULL), 0);
	/* UDP forwarding keeps the stack taking foreign addresses */
	assert_int_equal(tapir_udp_forwarder_set(x->rt->st, r_udp, &x->r), 0);
	world_pump(x->w);
	assert_int_equal(x->ca.connects, 1);
	assert_int_equal(x->ca.close_err, -ECONNRESET);
	assert_int_equal(x->r.a.accepts, 0);
	assert_int_equal(tapir_tcp_flow_count(x->rt->st), 0);
	assert_int_equal(tapir_tcp_connect(x->c->st, A4(FOREIGN), 80, NULL, app_connect, &x->ca), 0);
	world_pump(x->w);
	/* the client's handshake ACK for the reset flow, then the new SYN */
	assert_int_equal(ctr(x->rt, TAPIR_CTR_TCP_DROP_NO_FORWARDER), 2);
	assert_int_equal(x->ca.connects, 2);
	assert_int_equal(x->ca.connect_err, -ECONNREFUSED);
	fx_free(x);
}

struct crecv {
	int n;
	struct tapir_udp_meta m;
	uint8_t data[64];
	size_t len;
};

static void c_udp(void *ctx, const struct tapir_udp_meta *m, const uint8_t *data, size_t len)
{
	struct crecv *c = ctx;

	c->n++;
	c->m = *m;
	c->len = len;
	memcpy(c->data, data, len);
}

/* UDP: a datagram to a foreign address reaches the forwarder; the reply comes
 * from that address; the stack's own listeners are unaffected */
static void test_udp(void **state)
{
	(void)state;
	struct fx *x = fx_new(NULL);
	struct crecv cr = { 0 };

	assert_int_equal(tapir_udp_forwarder_set(x->rt->st, r_udp, &x->r), 0);
	assert_int_equal(tapir_udp_listen(x->c->st, 5000, c_udp, &cr), 0);
	assert_int_equal(tapir_udp_sendto(x->c->st, 5000, V4(FOREIGN), 53, 0, (const uint8_t *)"q", 1),
			 0);
	world_pump(x->w);
	assert_int_equal(x->r.udp_n, 1);
	assert_int_equal(x->r.udp_m.src.v4, x->c->ip);
	assert_int_equal(x->r.udp_m.dst.family, TAPIR_AF_INET);
	assert_int_equal(x->r.udp_m.dst.v4, FOREIGN);
	assert_int_equal(x->r.udp_m.src_port, 5000);
	assert_int_equal(x->r.udp_m.dst_port, 53);
	assert_int_equal(tapir_udp_sendto_from(x->rt->st, V4(FOREIGN), 53, V4(x->c->ip), 5000, 0,
					       (const uint8_t *)"answer", 6),
			 0);
	world_pump(x->w);
	assert_int_equal(cr.n, 1);
	assert_int_equal(cr.m.src.v4, FOREIGN);
	assert_int_equal(cr.m.src_port, 53);
	assert_memory_equal(cr.data, "answer", 6);
	assert_int_equal(tapir_udp_sendto_from(x->rt->st, V4(FOREIGN), 0, V4(x->c->ip), 5000, 0, NULL, 0),
			 -EINVAL);

	/* to the router's own address: its listeners only (none: port unreachable) */
	assert_int_equal(tapir_udp_sendto(x->c->st, 5000, V4(x->rt->ip), 53, 0, (const uint8_t *)"q", 1),
			 0);
	world_pump(x->w);
	assert_int_equal(x->r.udp_n, 1);
	assert_int_equal(ctr(x->rt, TAPIR_CTR_UDP_DROP_NO_LISTENER), 1);

	/* TTL 1 dies here: time exceeded back, not forwarded */
	assert_int_equal(tapir_udp_sendto(x->c->st, 5000, V4(FOREIGN), 53, 1, (const uint8_t *)"q", 1),
			 0);
	world_pump(x->w);
	assert_int_equal(x->r.udp_n, 1);
	assert_int_equal(ctr(x->rt, TAPIR_CTR_IPV4_DROP_FORWARD_TTL), 1);
	assert_int_equal(ctr(x->c, TAPIR_CTR_ICMP_ERRORS_RX), 2);	/* port unreachable, then this */
	fx_free(x);
}

/* A TCP segment from the raw port to @dst through @h's MAC (a routed datagram) */
static void send_via(struct world *w, struct host *h, uint32_t dst, const struct tcp_repr *r)
{
	static uint8_t buf[2048];
	struct eth_repr e;
	struct ipv4_repr ip;
	size_t hl = tcp_repr_header_len(r);

	memcpy(e.dst, h->mac, 6);
	memcpy(e.src, w->raw_mac, 6);
	e.ethertype = TAPIR_ETHERTYPE_IPV4;
	eth_repr_emit(&e, buf);
	memset(&ip, 0, sizeof(ip));
	ip.src = PEER_IP;
	ip.dst = dst;
	ip.proto = IPV4_PROTO_TCP;
	ip.ttl = 64;
	ip.id = 1;
	ip.payload_len = hl;
	ipv4_repr_emit(&ip, buf + ETH_HDR_LEN);
	tcp_repr_emit(r, buf + ETH_HDR_LEN + IPV4_HDR_LEN, PEER_IP, dst);
	raw_send(w, buf, ETH_HDR_LEN + IPV4_HDR_LEN + hl);
	world_pump(w);
}

/* Loopback, 0/8, reserved and multicast destinations are never taken; a
 * stray ACK for a foreign tuple gets a RST from that foreign address */
static void test_bad_destinations(void **state)
{
	(void)state;
	struct fx *x = fx_new(NULL);
	static const uint32_t dsts[] = { IP(127, 0, 0, 1), IP(0, 1, 2, 3), IP(240, 0, 0, 1),
					 IP(224, 0, 0, 5) };
	struct tcp_repr r = th_seg(40000, 80, 1, 0, TCP_SYN, 65535), got;

	for (size_t i = 0; i < 4; i++)
		send_via(x->w, x->rt, dsts[i], &r);
	assert_int_equal(x->r.nreq, 0);
	assert_int_equal(ctr(x->rt, TAPIR_CTR_IPV4_DROP_FORWARD_ADDR), 4);

	send_via(x->w, x->rt, FOREIGN, &r);
	assert_int_equal(x->r.nreq, 1);
	raw_clear(x->w);
	r = th_seg(40001, 80, 1, 77, TCP_ACK, 65535);
	send_via(x->w, x->rt, FOREIGN, &r);
	assert_true(th_last(x->w, &got));
	assert_true(got.flags & TCP_RST);
	assert_int_equal(got.seq, 77);
	assert_int_equal(get_be32(x->w->raw[x->w->nraw - 1].data + ETH_HDR_LEN + 12), FOREIGN);
	fx_free(x);
}

struct echo_seen {
	int n;
	uint32_t from;
	uint16_t id, seq;
};

static void c_echo(void *ctx, uint32_t from, uint16_t id, uint16_t seq, const uint8_t *data,
		   size_t len, uint64_t now)
{
	struct echo_seen *e = ctx;

	(void)data;
	(void)len;
	(void)now;
	e->n++;
	e->from = from;
	e->id = id;
	e->seq = seq;
}

/* ICMP echo to a foreign address: the forwarder answers from that address */
static void test_echo(void **state)
{
	(void)state;
	struct fx *x = fx_new(NULL);
	struct echo_seen e = { 0 };

	tapir_icmp_set_echo_reply_handler(x->c->st, c_echo, &e);
	/* without an echo forwarder: dropped, counted */
	assert_int_equal(tapir_icmp_send_echo(x->c->st, FOREIGN, 7, 1, 0, (const uint8_t *)"x", 1),
			 0);
	world_pump(x->w);
	assert_int_equal(e.n, 0);
	assert_int_equal(ctr(x->rt, TAPIR_CTR_ICMP_DROP_FORWARD), 1);

	assert_int_equal(tapir_icmp_echo_forwarder_set(x->rt->st, r_echo, &x->r), 0);
	assert_int_equal(tapir_icmp_send_echo(x->c->st, FOREIGN, 7, 2, 0, (const uint8_t *)"x", 1),
			 0);
	world_pump(x->w);
	assert_int_equal(x->r.echo_n, 1);
	assert_int_equal(x->r.echo_dst, FOREIGN);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.from, FOREIGN);
	assert_int_equal(e.id, 7);
	assert_int_equal(e.seq, 2);
	fx_free(x);
}

/* Without any forwarder a foreign address is not ours */
static void test_off_by_default(void **state)
{
	(void)state;
	struct world *w = world_new();
	struct tapir_stack_config cc;
	struct host *c, *rt;
	struct app a;

	tapir_stack_config_defaults(&cc);
	cc.gateway = IP(192, 0, 2, 2);
	c = world_add(w, 1, &cc);
	rt = world_add(w, 2, NULL);
	app_init(&a, c->st);
	assert_false(tapir_stack_forwarding(rt->st));
	assert_int_equal(tapir_tcp_connect(c->st, A4(FOREIGN), 80, NULL, app_connect, &a), 0);
	world_pump(w);
	assert_int_equal(ctr(rt, TAPIR_CTR_IPV4_DROP_NOT_US), 1);
	assert_int_equal(ctr(rt, TAPIR_CTR_TCP_RX), 0);
	app_fini(&a);
	world_free(w);
}

/* ---- IPv6: the client's default router is the forwarder ---- */

static const uint8_t C6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t RT6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
static const uint8_t FOREIGN6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, [15] = 7 };

static void cfg6(struct tapir_stack_config *c, const uint8_t a[16], const uint8_t *gw)
{
	tapir_stack_config_defaults(c);
	c->ipv6.enabled = true;
	c->ipv6.dad = false;
	c->ipv6.slaac = false;
	c->ipv6.naddrs = 1;
	memcpy(c->ipv6.addrs[0].addr, a, 16);
	c->ipv6.addrs[0].prefix_len = 64;
	if (gw) {
		memcpy(c->ipv6.gateway, gw, 16);
		c->ipv6.gateway_set = true;
	}
}

static struct fx *fx6_new(void)
{
	struct fx *x = calloc(1, sizeof(*x));
	struct tapir_stack_config cc, rc;
	const struct tapir_tcp_forwarder fw = { .syn = r_syn, .accept = r_accept };

	cfg6(&cc, C6, RT6);
	cfg6(&rc, RT6, NULL);
	x->w = world_new();
	x->c = world_add(x->w, 1, &cc);
	x->rt = world_add(x->w, 2, &rc);
	app_init(&x->ca, x->c->st);
	app_init(&x->r.a, x->rt->st);
	x->r.st = x->rt->st;
	assert_int_equal(tapir_tcp_forwarder_set(x->rt->st, &fw, &x->r), 0);
	world_advance(x->w, 100 * MSEC);
	return x;
}

/* A connection to a foreign IPv6 address through the forwarder: the request
 * names both IPv6 ends, accepting makes a flow whose local address is the
 * foreign one, data passes; a refusal is a RST over IPv6; without a
 * forwarder the packet is not ours. */
static void test_tcp6_forward(void **state)
{
	struct fx *x = fx6_new();
	struct tapir_addr to = { .family = TAPIR_AF_INET6 }, c6 = { .family = TAPIR_AF_INET6 };
	struct tapir_tcp_flow_info fi;

	(void)state;
	memcpy(to.v6, FOREIGN6, 16);
	memcpy(c6.v6, C6, 16);
	assert_int_equal(tapir_tcp_connect(x->c->st, &to, 443, NULL, app_connect, &x->ca), 0);
	world_advance(x->w, 10 * MSEC);
	assert_int_equal(x->r.nreq, 1);
	assert_true(tapir_addr_eq(&x->r.reqs[0].src, &c6));
	assert_true(tapir_addr_eq(&x->r.reqs[0].dst, &to));
	assert_int_equal(x->r.reqs[0].dst_port, 443);
	assert_int_equal(x->r.reqs[0].syn.quote_len, 40 + 8);
	assert_int_equal(ctr(x->rt, TAPIR_CTR_IPV6_FORWARD_RX), 1);
	assert_int_equal(tapir_tcp_flow_count(x->rt->st), 0);

	assert_int_equal(tapir_tcp_forward_accept(x->rt->st, &x->r.reqs[0]), 0);
	world_advance(x->w, 10 * MSEC);
	assert_int_equal(x->ca.connects, 1);
	assert_int_equal(x->ca.connect_err, 0);
	assert_int_equal(x->r.a.accepts, 1);
	assert_int_equal(tapir_tcp_flow_info(x->r.a.flow, &fi), 0);
	assert_true(tapir_addr_eq(&fi.local_addr, &to));
	assert_int_equal(fi.local_port, 443);
	assert_true(tapir_addr_eq(&fi.remote_addr, &c6));
	assert_int_equal(tapir_tcp_write(x->ca.flow, "ping6", 5), 5);
	world_advance(x->w, 10 * MSEC);
	assert_int_equal(x->r.a.len, 5);
	assert_memory_equal(x->r.a.data, "ping6", 5);

	/* refused: a RST from the foreign address */
	assert_int_equal(tapir_tcp_connect(x->c->st, &to, 444, NULL, app_connect, &x->ca), 0);
	world_advance(x->w, 10 * MSEC);
	assert_int_equal(x->r.nreq, 2);
	tapir_tcp_forward_refuse(x->rt->st, &x->r.reqs[1], -ECONNREFUSED);
	world_advance(x->w, 10 * MSEC);
	assert_int_equal(x->ca.connects, 2);
	assert_int_equal(x->ca.connect_err, -ECONNREFUSED);

	/* no forwarder: the foreign address is nobody's here */
	assert_int_equal(tapir_tcp_forwarder_set(x->rt->st, NULL, NULL), 0);
	assert_int_equal(tapir_tcp_connect(x->c->st, &to, 445, NULL, app_connect, &x->ca), 0);
	world_advance(x->w, 10 * MSEC);
	assert_int_equal(x->r.nreq, 2);
	assert_true(ctr(x->rt, TAPIR_CTR_IPV6_DROP_NOT_US) >= 1);
	assert_int_equal(tapir_tcp_connect_cancel(x->c->st, app_connect, &x->ca), 1);
	fx_free(x);
}

/* ICMPv6 echo forwarder: answers from the foreign address it was sent to */
struct echo6 {
	struct tapir_stack *st;
	int n;
	uint8_t src[16], dst[16];
	uint16_t id, seq;
};

static void r_echo6(void *ctx, const uint8_t src[16], const uint8_t dst[16], uint16_t id,
		    uint16_t seq, const uint8_t *data, size_t len)
{
	struct echo6 *e = ctx;

	e->n++;
	memcpy(e->src, src, 16);
	memcpy(e->dst, dst, 16);
	e->id = id;
	e->seq = seq;
	assert_int_equal(tapir_icmpv6_echo_reply_from(e->st, dst, src, id, seq, data, len), 0);
}

struct echo6_seen {
	int n;
	uint8_t from[16];
	uint16_t id, seq;
	uint8_t data[16];
	size_t len;
};

static void c_echo6(void *ctx, const uint8_t src[16], uint16_t id, uint16_t seq,
		    const uint8_t *data, size_t len, uint64_t now)
{
	struct echo6_seen *e = ctx;

	(void)now;
	e->n++;
	memcpy(e->from, src, 16);
	e->id = id;
	e->seq = seq;
	e->len = len < sizeof(e->data) ? len : sizeof(e->data);
	memcpy(e->data, data, e->len);
}

/* UDP to a foreign IPv6 address: taken only with a UDP forwarder (a TCP one
 * is not enough), the meta names both IPv6 ends, the reply comes from the
 * foreign address; hop limit 1 dies here with a Time Exceeded from the
 * router's own address */
static void test_udp6_forward(void **state)
{
	struct fx *x = fx6_new();
	struct tapir_addr to = { .family = TAPIR_AF_INET6 }, c6 = { .family = TAPIR_AF_INET6 };
	struct crecv cr = { 0 };

	(void)state;
	memcpy(to.v6, FOREIGN6, 16);
	memcpy(c6.v6, C6, 16);
	assert_int_equal(tapir_udp_listen(x->c->st, 5000, c_udp, &cr), 0);
	/* a TCP forwarder only: UDP has no taker, counted, nothing sent back */
	assert_int_equal(tapir_udp_sendto(x->c->st, 5000, &to, 53, 0, (const uint8_t *)"q", 1), 0);
	world_advance(x->w, 10 * MSEC);
	assert_int_equal(x->r.udp_n, 0);
	assert_int_equal(ctr(x->rt, TAPIR_CTR_UDP_DROP_NO_FORWARDER), 1);

	assert_int_equal(tapir_udp_forwarder_set(x->rt->st, r_udp, &x->r), 0);
	assert_int_equal(tapir_udp_sendto(x->c->st, 5000, &to, 53, 0, (const uint8_t *)"q6", 2), 0);
	world_advance(x->w, 10 * MSEC);
	assert_int_equal(x->r.udp_n, 1);
	assert_true(tapir_addr_eq(&x->r.udp_m.src, &c6));
	assert_true(tapir_addr_eq(&x->r.udp_m.dst, &to));
	assert_int_equal(x->r.udp_m.src_port, 5000);
	assert_int_equal(x->r.udp_m.dst_port, 53);
	assert_int_equal(x->r.udp_len, 2);
	assert_memory_equal(x->r.udp_data, "q6", 2);
	assert_int_equal(tapir_udp_sendto_from(x->rt->st, &to, 53, &c6, 5000, 0,
					       (const uint8_t *)"answer6", 7), 0);
	world_advance(x->w, 10 * MSEC);
	assert_int_equal(cr.n, 1);
	assert_true(tapir_addr_eq(&cr.m.src, &to));
	assert_int_equal(cr.m.src_port, 53);
	assert_int_equal(cr.len, 7);
	assert_memory_equal(cr.data, "answer6", 7);

	/* hop limit 1: Time Exceeded back (from the router's address), not forwarded */
	uint64_t errs = ctr(x->c, TAPIR_CTR_ICMPV6_ERRORS_RX);

	assert_int_equal(tapir_udp_sendto(x->c->st, 5000, &to, 53, 1, (const uint8_t *)"q", 1), 0);
	world_advance(x->w, 10 * MSEC);
	assert_int_equal(x->r.udp_n, 1);
	assert_int_equal(ctr(x->rt, TAPIR_CTR_IPV6_DROP_FORWARD_HOP_LIMIT), 1);
	assert_int_equal(ctr(x->rt, TAPIR_CTR_ICMPV6_ERRORS_SENT), 1);
	assert_int_equal(ctr(x->c, TAPIR_CTR_ICMPV6_ERRORS_RX), errs + 1);
	fx_free(x);
}

/* ICMPv6 echo to a foreign address: dropped without an echo forwarder (a TCP
 * one set), answered from the foreign address with one; other ICMPv6 types
 * to a foreign address are dropped; hop limit 1 gets Time Exceeded */
static void test_echo6_forward(void **state)
{
	struct fx *x = fx6_new();
	struct echo6 r6 = { .st = x->rt->st };
	struct echo6_seen e = { 0 };

	(void)state;
	tapir_icmpv6_set_echo_reply_handler(x->c->st, c_echo6, &e);
	assert_int_equal(tapir_icmpv6_send_echo(x->c->st, FOREIGN6, 9, 1, 0, (const uint8_t *)"x", 1),
			 0);
	world_advance(x->w, 10 * MSEC);
	assert_int_equal(e.n, 0);
	assert_int_equal(ctr(x->rt, TAPIR_CTR_ICMPV6_DROP_FORWARD), 1);
	assert_int_equal(ctr(x->rt, TAPIR_CTR_ICMPV6_ECHO_REPLIES_SENT), 0);

	assert_int_equal(tapir_icmpv6_echo_forwarder_set(x->rt->st, r_echo6, &r6), 0);
	assert_int_equal(tapir_icmpv6_send_echo(x->c->st, FOREIGN6, 9, 2, 0, (const uint8_t *)"hello6", 6),
			 0);
	world_advance(x->w, 10 * MSEC);
	assert_int_equal(r6.n, 1);
	assert_memory_equal(r6.src, C6, 16);
	assert_memory_equal(r6.dst, FOREIGN6, 16);
	assert_int_equal(ctr(x->rt, TAPIR_CTR_ICMPV6_FORWARD_ECHO), 1);
	assert_int_equal(e.n, 1);
	assert_memory_equal(e.from, FOREIGN6, 16);
	assert_int_equal(e.id, 9);
	assert_int_equal(e.seq, 2);
	assert_int_equal(e.len, 6);
	assert_memory_equal(e.data, "hello6", 6);

	/* the router's own address still answers itself, not through the forwarder */
	assert_int_equal(tapir_icmpv6_send_echo(x->c->st, RT6, 9, 3, 0, (const uint8_t *)"y", 1), 0);
	world_advance(x->w, 10 * MSEC);
	assert_int_equal(r6.n, 1);
	assert_int_equal(e.n, 2);
	assert_memory_equal(e.from, RT6, 16);

	/* hop limit 1: Time Exceeded from the router, the forwarder not called */
	assert_int_equal(tapir_icmpv6_send_echo(x->c->st, FOREIGN6, 9, 4, 1, (const uint8_t *)"z", 1),
			 0);
	world_advance(x->w, 10 * MSEC);
	assert_int_equal(r6.n, 1);
	assert_int_equal(e.n, 2);
	assert_int_equal(ctr(x->rt, TAPIR_CTR_IPV6_DROP_FORWARD_HOP_LIMIT), 1);

	/* off again: no forwarder at all, the foreign address is nobody's */
	assert_int_equal(tapir_icmpv6_echo_forwarder_set(x->rt->st, NULL, NULL), 0);
	assert_int_equal(tapir_tcp_forwarder_set(x->rt->st, NULL, NULL), 0);
	assert_false(tapir_stack_forwarding(x->rt->st));
	uint64_t not_us = ctr(x->rt, TAPIR_CTR_IPV6_DROP_NOT_US);

	assert_int_equal(tapir_icmpv6_send_echo(x->c->st, FOREIGN6, 9, 5, 0, (const uint8_t *)"x", 1),
			 0);
	world_advance(x->w, 10 * MSEC);
	assert_int_equal(ctr(x->rt, TAPIR_CTR_IPV6_DROP_NOT_US), not_us + 1);
	assert_int_equal(r6.n, 1);
	fx_free(x);
}

/* A UDP datagram over IPv6 from the raw port to @dst through @h's MAC */
static void send6_via(struct world *w, struct host *h, const uint8_t dst[16])
{
	static const uint8_t src[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x99 };
	uint8_t buf[ETH_HDR_LEN + 40 + 12];
	uint8_t *ip = buf + ETH_HDR_LEN, *u = ip + 40;
	struct eth_repr e;
	uint64_t sum;

	memcpy(e.dst, h->mac, 6);
	memcpy(e.src, w->raw_mac, 6);
	e.ethertype = TAPIR_ETHERTYPE_IPV6;
	eth_repr_emit(&e, buf);
	memset(ip, 0, 40);
	ip[0] = 0x60;
	put_be16(ip + 4, 12);
	ip[6] = 17;
	ip[7] = 64;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
	put_be16(u, 4000);
	put_be16(u + 2, 53);
	put_be16(u + 4, 12);
	put_be16(u + 6, 0);
	memcpy(u + 8, "abcd", 4);
	sum = ipv6_csum_pseudo(src, dst, 12, 17);
	sum = inet_csum_add(sum, u, 12);
	put_be16(u + 6, inet_csum_fold(sum));
	raw_send(w, buf, sizeof(buf));
	world_pump(w);
}

/* Never taken with every forwarder set: ::, ::1, IPv4-mapped, link-local,
 * a multicast group we are not in; a foreign unicast address is */
static void test_bad_destinations6(void **state)
{
	struct fx *x = fx6_new();
	static const uint8_t unspec[16] = { 0 }, loop[16] = { [15] = 1 },
			     mapped[16] = { [10] = 0xff, [11] = 0xff, 198, 51, 100, 7 },
			     ll[16] = { 0xfe, 0x80, [15] = 7 },
			     mcast[16] = { 0xff, 0x0e, [15] = 0x77 };
	struct echo6 r6 = { .st = x->rt->st };

	(void)state;
	assert_int_equal(tapir_udp_forwarder_set(x->rt->st, r_udp, &x->r), 0);
	assert_int_equal(tapir_icmpv6_echo_forwarder_set(x->rt->st, r_echo6, &r6), 0);
	send6_via(x->w, x->rt, unspec);
	send6_via(x->w, x->rt, loop);
	assert_int_equal(ctr(x->rt, TAPIR_CTR_IPV6_DROP_BAD_SRC), 2);
	send6_via(x->w, x->rt, mapped);
	send6_via(x->w, x->rt, ll);
	assert_int_equal(ctr(x->rt, TAPIR_CTR_IPV6_DROP_FORWARD_ADDR), 2);
	uint64_t not_us = ctr(x->rt, TAPIR_CTR_IPV6_DROP_NOT_US);

	send6_via(x->w, x->rt, mcast);
	assert_int_equal(ctr(x->rt, TAPIR_CTR_IPV6_DROP_NOT_US), not_us + 1);
	assert_int_equal(x->r.udp_n, 0);
	assert_int_equal(ctr(x->rt, TAPIR_CTR_IPV6_FORWARD_RX), 0);

	send6_via(x->w, x->rt, FOREIGN6);
	assert_int_equal(x->r.udp_n, 1);
	assert_int_equal(x->r.udp_m.src_port, 4000);
	assert_memory_equal(x->r.udp_data, "abcd", 4);
	assert_int_equal(ctr(x->rt, TAPIR_CTR_IPV6_FORWARD_RX), 1);
	fx_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_accept_later),
		cmocka_unit_test(test_tcp_two_addresses),
		cmocka_unit_test(test_tcp_refuse),
		cmocka_unit_test(test_tcp_syncookie),
		cmocka_unit_test(test_tcp_forwarder_off),
		cmocka_unit_test(test_udp),
		cmocka_unit_test(test_bad_destinations),
		cmocka_unit_test(test_echo),
		cmocka_unit_test(test_off_by_default),
		cmocka_unit_test(test_tcp6_forward),
		cmocka_unit_test(test_udp6_forward),
		cmocka_unit_test(test_echo6_forward),
		cmocka_unit_test(test_bad_destinations6),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * tcp_helper.c - segment builders and a recording application for TCP tests
 */
#include "tcp_helper.h"

#include <stdlib.h>
#include <string.h>

#include "wire/bytes.h"
#include "wire/eth.h"
#include "wire/ipv4.h"

void th_send_from(struct world *w, struct host *h, uint32_t src, const struct tcp_repr *r)
{
	static uint8_t buf[70000];
	struct eth_repr e;
	struct ipv4_repr ip;
	size_t hl = tcp_repr_header_len(r), tl = hl + r->payload_len;

	memcpy(e.dst, h->mac, 6);
	memcpy(e.src, w->raw_mac, 6);
	e.ethertype = TAPIR_ETHERTYPE_IPV4;
	eth_repr_emit(&e, buf);
	memset(&ip, 0, sizeof(ip));
	ip.src = src;
	ip.dst = h->ip;
	ip.proto = IPV4_PROTO_TCP;
	ip.ttl = 64;
	ip.id = 1;
	ip.payload_len = tl;
	ipv4_repr_emit(&ip, buf + ETH_HDR_LEN);
	tcp_repr_emit(r, buf + ETH_HDR_LEN + IPV4_HDR_LEN, src, h->ip);
	if (r->payload_len)
		memcpy(buf + ETH_HDR_LEN + IPV4_HDR_LEN + hl, r->payload, r->payload_len);
	raw_send(w, buf, ETH_HDR_LEN + IPV4_HDR_LEN + tl);
	world_pump(w);
}

void th_send(struct world *w, struct host *h, const struct tcp_repr *r)
{
	th_send_from(w, h, PEER_IP, r);
}

size_t th_segs(struct world *w, struct tcp_repr *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < w->nraw && n < max; i++) {
		const uint8_t *f = w->raw[i].data;
		size_t len = w->raw[i].len;

		if (len < 34 || get_be16(f + 12) != TAPIR_ETHERTYPE_IPV4 || f[23] != IPV4_PROTO_TCP)
			continue;
		size_t ihl = (size_t)(f[14] & 15) * 4, tot = get_be16(f + 16);

		if (tcp_repr_parse(&out[n], f + 14 + ihl, tot - ihl, get_be32(f + 26),
				   get_be32(f + 30), true) == 0)
			n++;
	}
	return n;
}

size_t th_count(struct world *w)
{
	static struct tcp_repr segs[RAW_MAX_FRAMES];

	return th_segs(w, segs, RAW_MAX_FRAMES);
}

bool th_last(struct world *w, struct tcp_repr *out)
{
	static struct tcp_repr segs[RAW_MAX_FRAMES];
	size_t n = th_segs(w, segs, RAW_MAX_FRAMES);

	if (!n)
		return false;
	*out = segs[n - 1];
	return true;
}

struct tcp_repr th_seg(uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
		       uint16_t window)
{
	struct tcp_repr r;

	tcp_repr_init(&r);
	r.src_port = sport;
	r.dst_port = dport;
	r.seq = seq;
	r.ack = ack;
	r.flags = flags;
	r.window = window;
	return r;
}

static void app_recv(void *ctx, struct tapir_tcp_flow *f, const uint8_t *data, size_t len)
{
	struct app *a = ctx;

	if (a->unpause_in_recv)
		tapir_tcp_read_pause(f, false);	/* before @data is read: it must stay valid */
	if (len == 0) {
		a->eofs++;
	} else {
		if (a->len + len > a->cap) {
			a->cap = (a->len + len) * 2;
			a->data = realloc(a->data, a->cap);
		}
		memcpy(a->data + a->len, data, len);
		a->len += len;
	}
	if (a->write_in_recv && len)
		tapir_tcp_write(f, data, len);
	if (a->close_in_recv) {
		tapir_tcp_close(f);
		a->flow = NULL;
	}
}

static void app_writable(void *ctx, struct tapir_tcp_flow *f)
{
	struct app *a = ctx;

	(void)f;
	a->writables++;
}

static void app_closed(void *ctx, struct tapir_tcp_flow *f, int err)
{
	struct app *a = ctx;

	a->closes++;
	a->close_err = err;
	if (a->close_on_closed) {
		tapir_tcp_close(f);
		if (a->flow == f)
			a->flow = NULL;
	}
}

const struct tapir_tcp_callbacks app_cbs = { app_recv, app_writable, app_closed };

void app_init(struct app *a, struct tapir_stack *st)
{
	memset(a, 0, sizeof(*a));
	a->st = st;
}

void app_fini(struct app *a)
{
	free(a->data);
	a->data = NULL;
}

void app_accept(void *ctx, struct tapir_tcp_flow *f)
{
	struct app *a = ctx;

	a->accepts++;
	a->flow = f;
	tapir_tcp_flow_set_callbacks(f, &app_cbs, a);
	if (a->close_in_accept) {
		tapir_tcp_close(f);
		a->flow = NULL;
	}
}

void app_connect(void *ctx, struct tapir_tcp_flow *f, int err)
{
	struct app *a = ctx;

	a->connects++;
	a->connect_err = err;
	if (f) {
		a->flow = f;
		tapir_tcp_flow_set_callbacks(f, &app_cbs, a);
	}
}

void app_listen(struct app *a, struct host *h, uint16_t port, const struct tapir_tcp_flow_opts *o)
{
	if (tapir_tcp_listen(h->st, port, o, app_accept, a) != 0)
		abort();
}

uint32_t th_handshake(struct world *w, struct host *h, uint16_t sport, uint16_t port,
		      uint32_t peer_isn, bool opts, uint32_t *peer_seq)
{
	struct tcp_repr r = th_seg(sport, port, peer_isn, 0, TCP_SYN, 65535), s;

	if (opts) {
		r.has_mss = true;
		r.mss = 1460;
		r.wscale = 7;
		r.sack_perm = true;
		r.has_ts = true;
		r.ts_val = 1000;
	}
	raw_clear(w);
	th_send(w, h, &r);
	if (!th_last(w, &s) || s.flags != (TCP_SYN | TCP_ACK) || s.ack != peer_isn + 1)
		abort();
	r = th_seg(sport, port, peer_isn + 1, s.seq + 1, TCP_ACK, 65535);
	if (opts) {
		r.has_ts = true;
		r.ts_val = 1001;
		r.ts_ecr = s.ts_val;
	}
	th_send(w, h, &r);
	*peer_seq = peer_isn + 1;
	return s.seq;
}

uint8_t *th_pattern(size_t len, unsigned seed)
{
	uint8_t *p = malloc(len ? len : 1);
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
	return p;
}

struct th_case *th_case_new(const struct tapir_stack_config *cfg)
{
	struct th_case *t = calloc(1, sizeof(*t));

	if (!t)
		abort();
	t->w = world_new();
	t->h = world_add(t->w, 2, cfg);
	world_pump(t->w);
	app_init(&t->a, t->h->st);
	raw_clear(t->w);
	return t;
}

void th_case_free(struct th_case *t)
{
	app_fini(&t->a);
	world_free(t->w);
	free(t);
}

uint32_t th_case_open(struct th_case *t, bool opts, uint32_t *ps)
{
	uint32_t iss;

	app_listen(&t->a, t->h, TH_PORT, NULL);
	iss = th_handshake(t->w, t->h, TH_SPORT, TH_PORT, 1000, opts, ps);
	if (t->a.accepts != 1 || !t->a.flow)
		abort();	/* the handshake must make exactly one flow */
	raw_clear(t->w);
	return iss;
}

struct tcp_repr th_data_seg(uint32_t seq, uint32_t ack, const void *p, size_t len)
{
	struct tcp_repr r = th_seg(TH_SPORT, TH_PORT, seq, ack, TCP_ACK | TCP_PSH, 65535);

	r.payload = p;
	r.payload_len = len;
	return r;
}

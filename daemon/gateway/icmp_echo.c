/*
 * icmp_echo.c - the gateway's pings: echo requests from the namespace go out
 * through unprivileged ping sockets (SOCK_DGRAM, IPPROTO_ICMP; IPv6's
 * IPPROTO_ICMPV6 ones for ICMPv6 echo)
 *
 * One ping socket per (namespace source, destination, echo identifier),
 * closed after udp_idle_timeout without traffic.  The kernel picks the
 * identifier on the wire (the socket's "port") and hands back only the
 * replies to it; the gateway answers the namespace with its own identifier
 * and the reply's sequence number and data, from the destination's address.
 * Where net.ipv4.ping_group_range (which governs IPv6 ping sockets as well)
 * does not include tapird's group the socket
 * cannot be made: the request is dropped and counted (icmp_refused), as with
 * [gateway] icmp_echo = false.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gw.h"
#include "tapir/ipv6.h"

struct gw_ping {
	struct gw_ping *next, *prev;
	struct gateway *gw;
	struct tapir_addr ns_addr, dst;   /* both IPv4 or both IPv6 */
	uint16_t id;
	int fd;
	uv_poll_t poll;
	struct sockaddr_storage to;
	uint64_t last;
	uint64_t sent, replies;
	bool closing;
};

static void ping_closed(uv_handle_t *h)
{
	struct gw_ping *p = h->data;
	struct gateway *gw = p->gw;

	close(p->fd);
	if (p->prev)
		p->prev->next = p->next;
	else
		gw->ping = p->next;
	if (p->next)
		p->next->prev = p->prev;
	gw->pool.nflows--;
	gw->handles--;
	free(p);
}

static void ping_end(struct gw_ping *p)
{
	if (p->closing)
		return;
	p->closing = true;
	uv_close((uv_handle_t *)&p->poll, ping_closed);
}

static void on_reply(uv_poll_t *h, int status, int events)
{
	struct gw_ping *p = h->data;
	struct gateway *gw = p->gw;

	(void)events;
	if (p->closing)
		return;
	if (status < 0) {
		ping_end(p);
		return;
	}
	bool v6 = p->dst.family == TAPIR_AF_INET6;

	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(p->fd, gw->pool.rbuf, sizeof(gw->pool.rbuf), MSG_DONTWAIT,
				     (struct sockaddr *)&from, &fl);
		const uint8_t *r = gw->pool.rbuf;

		if (n < 0)
			break;
		if (n < 8 || r[0] != (v6 ? 129 : 0) /* echo reply */)
			continue;
		p->last = uv_hrtime();
		p->replies++;
		GW_INC(gw, ICMP_ECHO_REPLIES);
		uint16_t seq = (uint16_t)(r[6] << 8 | r[7]);
		if (v6)
			(void)tapir_icmpv6_echo_reply_from(gw->st, p->dst.v6, p->ns_addr.v6, p->id,
							   seq, r + 8, (size_t)n - 8);
		else
			(void)tapir_icmp_echo_reply_from(gw->st, p->dst.v4, p->ns_addr.v4, p->id,
							 seq, r + 8, (size_t)n - 8);
	}
	gw_after(gw);
}

static struct gw_ping *ping_open(struct gateway *gw, const struct tapir_addr *src,
				 const struct tapir_addr *dst, uint16_t id)
{
	struct gw_ping *p;
	struct sockaddr_storage to;
	bool v6 = dst->family == TAPIR_AF_INET6;
	int fd;

	if (!gw->cfg.icmp_echo || !gw_host_sockaddr(gw, dst, 0, &to)) {
		GW_INC(gw, ICMP_REFUSED);
		return NULL;
	}
	if (gw->pool.nflows >= gw->pool.max_flows) {
		GW_INC(gw, ICMP_REFUSED_LIMIT);
		return NULL;
	}
	fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP);
	if (fd < 0) {
		/* EACCES: not in net.ipv4.ping_group_range */
		GW_INC(gw, ICMP_REFUSED);
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		close(fd);
		GW_INC(gw, ICMP_REFUSED_LIMIT);
		return NULL;
	}
	if (uv_poll_init(gw->loop, &p->poll, fd) < 0) {
		close(fd);
		free(p);
		GW_INC(gw, ICMP_REFUSED);
		return NULL;
	}
	p->gw = gw;
	p->fd = fd;
	p->ns_addr = *src;
	p->dst = *dst;
	p->id = id;
	p->to = to;
	p->poll.data = p;
	gw->handles++;
	p->next = gw->ping;
	if (gw->ping)
		gw->ping->prev = p;
	gw->ping = p;
	gw->pool.nflows++;
	uv_poll_start(&p->poll, UV_READABLE, on_reply);
	return p;
}

static void echo_out(struct gateway *gw, const struct tapir_addr *src, const struct tapir_addr *dst,
		     uint16_t id, uint16_t seq, const uint8_t *data, size_t len)
{
	struct gw_ping *p;
	uint8_t *msg;

	if (gw->stopping || len > 65507 - 8)
		return;
	for (p = gw->ping; p; p = p->next)
		if (!p->closing && tapir_addr_eq(&p->ns_addr, src) && tapir_addr_eq(&p->dst, dst) &&
		    p->id == id)
			break;
	if (!p && !(p = ping_open(gw, src, dst, id)))
		return;
	msg = gw->pool.rbuf;
	/* echo request; the kernel fills in the checksum and identifier */
	msg[0] = dst->family == TAPIR_AF_INET6 ? 128 : 8;
	msg[1] = 0;
	msg[2] = msg[3] = 0;
	msg[4] = (uint8_t)(id >> 8);
	msg[5] = (uint8_t)id;
	msg[6] = (uint8_t)(seq >> 8);
	msg[7] = (uint8_t)seq;
	memcpy(msg + 8, data, len);
	p->last = uv_hrtime();
	if (sendto(p->fd, msg, len + 8, MSG_DONTWAIT, (struct sockaddr *)&p->to,
		   p->to.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
						 sizeof(struct sockaddr_in)) < 0) {
		GW_INC(gw, ICMP_DROP_SEND);
		return;
	}
	p->sent++;
	GW_INC(gw, ICMP_ECHO_SENT);
}

static void fwd_echo(void *ctx, uint32_t src, uint32_t dst, uint16_t id, uint16_t seq,
		     const uint8_t *data, size_t len)
{
	struct tapir_addr s = tapir_addr_v4(src), d = tapir_addr_v4(dst);

	echo_out(ctx, &s, &d, id, seq, data, len);
}

static void fwd_echo6(void *ctx, const uint8_t src[16], const uint8_t dst[16], uint16_t id,
		      uint16_t seq, const uint8_t *data, size_t len)
{
	struct tapir_addr s = { .family = TAPIR_AF_INET6 }, d = { .family = TAPIR_AF_INET6 };

	memcpy(s.v6, src, 16);
	memcpy(d.v6, dst, 16);
	echo_out(ctx, &s, &d, id, seq, data, len);
}

int gw_ping_start(struct gateway *gw)
{
	(void)tapir_icmpv6_echo_forwarder_set(gw->st, fwd_echo6, gw);
	return tapir_icmp_echo_forwarder_set(gw->st, fwd_echo, gw);
}

void gw_ping_stop(struct gateway *gw)
{
	(void)tapir_icmp_echo_forwarder_set(gw->st, NULL, NULL);
	(void)tapir_icmpv6_echo_forwarder_set(gw->st, NULL, NULL);
	for (struct gw_ping *p = gw->ping; p; p = p->next)
		ping_end(p);
}

void gw_ping_sweep(struct gateway *gw, uint64_t now)
{
	for (struct gw_ping *p = gw->ping; p; p = p->next)
		if (!p->closing && now - p->last > gw->cfg.udp_idle_ns)
			ping_end(p);
}

void gw_ping_json(const struct gateway *gw, void *arr)
{
	for (const struct gw_ping *p = gw->ping; p; p = p->next) {
		json_t *e = json_object();

		json_object_set_new(e, "proto", json_string(p->dst.family == TAPIR_AF_INET6 ?
								"icmpv6" : "icmp"));
		json_object_set_new(e, "ns_addr", gw_taddr_json(&p->ns_addr));
		json_object_set_new(e, "ns_port", json_integer(p->id));
		json_object_set_new(e, "dst_addr", gw_taddr_json(&p->dst));
		json_object_set_new(e, "dst_port", json_integer(0));
		json_object_set_new(e, "host_peer_addr", gw_sockaddr_json(&p->to));
		json_object_set_new(e, "state", json_string(p->closing ? "CLOSING" : "OPEN"));
		json_object_set_new(e, "echo_sent", json_integer((json_int_t)p->sent));
		json_object_set_new(e, "echo_replies", json_integer((json_int_t)p->replies));
		json_array_append_new(arr, e);
	}
}

/*
 * udp_flow.c - the gateway's UDP: one connected host socket per namespace
 * 4-tuple, closed after udp_idle_timeout without a datagram either way
 *
 * A datagram from the namespace finds its flow (source address and port,
 * destination address and port) or opens one: a UDP socket in tapird's
 * namespace (AF_INET or AF_INET6 as the destination), connected to the
 * destination (host_loopback mapped to 127.0.0.1, host_loopback6 to ::1), so
 * the host's answers come back on it alone.  Sending uses
 * uv_udp_try_send(): a full socket buffer drops the datagram (counted), as a
 * router would, so nothing queues up.  Answers go to the namespace from the
 * destination's address and port (tapir_udp_sendto_from()).  An ICMP port
 * unreachable the host got for the flow (ECONNREFUSED on the connected
 * socket) goes back to the namespace as one (ICMPv6 for an IPv6 flow).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "gw.h"

struct gw_udp {
	struct gw_udp *next, *prev;
	struct gateway *gw;
	struct tapir_addr ns_addr, dst;   /* both IPv4 or both IPv6 */
	uint16_t ns_port, dst_port;
	uv_udp_t sock;
	struct sockaddr_storage host_local, host_peer;
	uint64_t last;
	uint64_t dgrams_to_host, dgrams_to_ns, bytes_to_host, bytes_to_ns;
	bool closing;
};

static void udp_closed(uv_handle_t *h)
{
	struct gw_udp *u = h->data;
	struct gateway *gw = u->gw;

	if (u->prev)
		u->prev->next = u->next;
	else
		gw->udp = u->next;
	if (u->next)
		u->next->prev = u->prev;
	gw->pool.nflows--;
	gw->handles--;
	free(u);
}

static void udp_end(struct gw_udp *u)
{
	if (u->closing)
		return;
	u->closing = true;
	uv_close((uv_handle_t *)&u->sock, udp_closed);
}

static void host_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct gw_udp *u = h->data;

	(void)suggested;
	*buf = uv_buf_init((char *)u->gw->pool.rbuf, sizeof(u->gw->pool.rbuf));
}

static void host_recv(uv_udp_t *s, ssize_t nread, const uv_buf_t *buf,
		      const struct sockaddr *addr, unsigned flags)
{
	struct gw_udp *u = s->data;
	struct gateway *gw = u->gw;

	if (u->closing || (nread == 0 && !addr))
		return;
	if (nread < 0) {
		if (nread == UV_ECONNREFUSED) {
			/* the host got a port unreachable for what we sent */
			GW_INC(gw, UDP_PORT_UNREACH);
			gw_send_unreach_addr(gw, TAPIR_ICMP_UNREACH_PORT, TAPIR_IP_PROTO_UDP,
					     &u->ns_addr, u->ns_port, &u->dst, u->dst_port);
			gw_after(gw);
		}
		return;
	}
	if (flags & UV_UDP_PARTIAL)
		return;	/* larger than 64 KiB: cannot be one datagram */
	u->last = uv_hrtime();
	if (tapir_udp_sendto_from(gw->st, &u->dst, u->dst_port, &u->ns_addr, u->ns_port, 0,
				  (const uint8_t *)buf->base, (size_t)nread) == 0) {
		u->dgrams_to_ns++;
		u->bytes_to_ns += (size_t)nread;
		GW_INC(gw, UDP_TO_NS);
	}
	gw_after(gw);
}

static struct gw_udp *udp_open(struct gateway *gw, const struct tapir_udp_meta *m)
{
	struct gw_udp *u;
	struct sockaddr_storage to;
	int len = sizeof(u->host_local);

	if (!gw_host_sockaddr(gw, &m->dst, m->dst_port, &to)) {
		GW_INC(gw, UDP_REFUSED_LOOPBACK);
		gw_send_unreach_addr(gw, TAPIR_ICMP_UNREACH_PORT, TAPIR_IP_PROTO_UDP, &m->src,
				     m->src_port, &m->dst, m->dst_port);
		return NULL;
	}
	if (gw->pool.nflows >= gw->pool.max_flows) {
		GW_INC(gw, UDP_REFUSED_LIMIT);
		return NULL;
	}
	u = calloc(1, sizeof(*u));
	if (!u) {
		GW_INC(gw, UDP_REFUSED_LIMIT);
		return NULL;
	}
	u->gw = gw;
	u->ns_addr = m->src;
	u->ns_port = m->src_port;
	u->dst = m->dst;
	u->dst_port = m->dst_port;
	u->host_peer = to;
	uv_udp_init(gw->loop, &u->sock);
	u->sock.data = u;
	gw->handles++;
	u->next = gw->udp;
	if (gw->udp)
		gw->udp->prev = u;
	gw->udp = u;
	gw->pool.nflows++;
	int rc = uv_udp_connect(&u->sock, (const struct sockaddr *)&to);
	if (rc == 0)
		rc = uv_udp_recv_start(&u->sock, host_alloc, host_recv);
	if (rc < 0) {
		gw_send_unreach_addr(gw, rc == UV_EHOSTUNREACH ? TAPIR_ICMP_UNREACH_HOST :
					 TAPIR_ICMP_UNREACH_NET, TAPIR_IP_PROTO_UDP, &m->src,
				     m->src_port, &m->dst, m->dst_port);
		GW_INC(gw, UDP_DROP_SEND);
		udp_end(u);
		return NULL;
	}
	uv_udp_getsockname(&u->sock, (struct sockaddr *)&u->host_local, &len);
	GW_INC(gw, UDP_OPENED);
	return u;
}

static void fwd_udp(void *ctx, const struct tapir_udp_meta *m, const uint8_t *data, size_t len)
{
	struct gateway *gw = ctx;
	struct gw_udp *u;
	uv_buf_t b;
	int rc;

	if (gw->stopping || m->src.family != m->dst.family)
		return;
	for (u = gw->udp; u; u = u->next)
		if (!u->closing && tapir_addr_eq(&u->ns_addr, &m->src) && u->ns_port == m->src_port &&
		    tapir_addr_eq(&u->dst, &m->dst) && u->dst_port == m->dst_port)
			break;
	if (!u && !(u = udp_open(gw, m)))
		return;
	u->last = uv_hrtime();
	b = uv_buf_init((char *)data, (unsigned)len);
	rc = uv_udp_try_send(&u->sock, &b, 1, NULL);
	if (rc == UV_ECONNREFUSED) {
		/* an earlier datagram was refused: say so, as the host would */
		GW_INC(gw, UDP_PORT_UNREACH);
		gw_send_unreach_addr(gw, TAPIR_ICMP_UNREACH_PORT, TAPIR_IP_PROTO_UDP, &m->src,
				     m->src_port, &m->dst, m->dst_port);
		return;
	}
	if (rc < 0) {
		GW_INC(gw, UDP_DROP_SEND);
		return;
	}
	u->dgrams_to_host++;
	u->bytes_to_host += len;
	GW_INC(gw, UDP_TO_HOST);
}

int gw_udp_start(struct gateway *gw)
{
	return tapir_udp_forwarder_set(gw->st, fwd_udp, gw);
}

void gw_udp_stop(struct gateway *gw)
{
	(void)tapir_udp_forwarder_set(gw->st, NULL, NULL);
	for (struct gw_udp *u = gw->udp; u; u = u->next)
		udp_end(u);
}

void gw_udp_sweep(struct gateway *gw, uint64_t now)
{
	for (struct gw_udp *u = gw->udp; u; u = u->next)
		if (!u->closing && now - u->last > gw->cfg.udp_idle_ns) {
			GW_INC(gw, UDP_EXPIRED);
			udp_end(u);
		}
}

void gw_udp_json(const struct gateway *gw, void *arr)
{
	uint64_t now = uv_hrtime();

	for (const struct gw_udp *u = gw->udp; u; u = u->next) {
		json_t *e = json_object();

		json_object_set_new(e, "proto", json_string("udp"));
		json_object_set_new(e, "ns_addr", gw_taddr_json(&u->ns_addr));
		json_object_set_new(e, "ns_port", json_integer(u->ns_port));
		json_object_set_new(e, "dst_addr", gw_taddr_json(&u->dst));
		json_object_set_new(e, "dst_port", json_integer(u->dst_port));
		json_object_set_new(e, "host_local_addr", gw_sockaddr_json(&u->host_local));
		json_object_set_new(e, "host_local_port",
				    json_integer(gw_sockaddr_port(&u->host_local)));
		json_object_set_new(e, "host_peer_addr", gw_sockaddr_json(&u->host_peer));
		json_object_set_new(e, "host_peer_port", json_integer(gw_sockaddr_port(&u->host_peer)));
		json_object_set_new(e, "state", json_string(u->closing ? "CLOSING" : "OPEN"));
		json_object_set_new(e, "bytes_to_host", json_integer((json_int_t)u->bytes_to_host));
		json_object_set_new(e, "bytes_to_ns", json_integer((json_int_t)u->bytes_to_ns));
		json_object_set_new(e, "idle_ms", json_integer((json_int_t)((now - u->last) / 1000000)));
		json_array_append_new(arr, e);
	}
}

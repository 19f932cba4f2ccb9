/*
 * gateway.c - the gateway's core: start and stop, the sweep timer, the host
 * address of a destination, ICMP errors to the namespace, counters and listings
 *
 * Theory of operation
 *
 * With [gateway] enabled, tapird is the default router of the namespace on
 * the other side of its TAP.  The stack's forwarder mode (tapir/forward.h)
 * hands the gateway every TCP SYN, UDP datagram and echo request addressed
 * to anyone but tapird; the gateway opens a socket in tapird's own network
 * namespace (the host's) for each flow and copies between the two:
 *
 *   splice_tcp.c  TCP: connect on the host first, answer the SYN only then
 *                 (refused: RST; unreachable: ICMP; no answer: nothing),
 *                 then copy both ways with back-pressure, half-closes and
 *                 resets carried across
 *   udp_flow.c    UDP: a connected host socket per namespace 4-tuple, closed
 *                 after udp_idle_timeout without traffic
 *   icmp_echo.c   pings through unprivileged ping sockets (SOCK_DGRAM,
 *                 IPPROTO_ICMP) where net.ipv4.ping_group_range allows
 *
 * IPv6: the stack takes TCP, UDP and ICMPv6 echo to foreign IPv6 addresses
 * as it does IPv4 (tapir/forward.h); the host side of such a flow is an
 * AF_INET6 socket (gw_host_sockaddr(): host_loopback6 stands for the host's
 * ::1, which is otherwise refused with ::, link-local and IPv4-mapped
 * addresses), a ping goes through an IPv6 ping socket, and host-side
 * unreachable errors go back as ICMPv6 from tapird's address
 * (gw_send_unreach_addr()).  The sandbox allows AF_INET6 sockets with the
 * gateway on.
 *
 * Destinations: host_loopback (when set) stands for the host's 127.0.0.1;
 * the stack never forwards 127/8 itself, so without it the host's loopback
 * cannot be reached.  Limits: max_flows flows of all kinds (pending connects
 * count, and so do the port forwards' connections and UDP flows); per TCP
 * flow at most flow_buffer bytes held each way, and total_buffer for all
 * flows together, the forwards' included: the splice pool (splice.c) holds
 * these budgets and copies every spliced connection; every refusal is
 * counted (gateway.* in stats).
 *
 * One timer (the sweep, once a second) ends connects past connect_timeout
 * and idle UDP flows and pings.  Everything runs on the daemon's loop; a
 * flow's memory is freed in its handle's close callback.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <string.h>

#include "gw.h"
#include "tapir/ipv6.h"
#include "tapir/tcp.h"

static const char *const gw_counter_names[GW__COUNT] = {
#define X(id, name) [GW_##id] = name,
	GW_COUNTERS(X)
#undef X
};

bool gw_host_addr(const struct gateway *gw, uint32_t dst, struct sockaddr_in *out)
{
	memset(out, 0, sizeof(*out));
	out->sin_family = AF_INET;
	if (gw->cfg.host_loopback && dst == gw->cfg.host_loopback)
		dst = INADDR_LOOPBACK;
	else if ((dst >> 24) == 127)
		return false;	/* never forwarded by the stack; refuse all the same */
	out->sin_addr.s_addr = htonl(dst);
	return true;
}

bool gw_host_sockaddr(const struct gateway *gw, const struct tapir_addr *dst, uint16_t port,
		      struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	if (dst->family == TAPIR_AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)out;
		if (!gw_host_addr(gw, dst->v4, sin))
			return false;
		sin->sin_port = htons(port);
		return true;
	}
	if (dst->family != TAPIR_AF_INET6)
		return false;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)out;
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(port);
	memcpy(&s6->sin6_addr, dst->v6, 16);
	if (gw->cfg.host_loopback6_set && !memcmp(dst->v6, gw->cfg.host_loopback6, 16)) {
		s6->sin6_addr = in6addr_loopback;
		return true;
	}
	/* the host's loopback (only through host_loopback6), ::, ::ffff:0:0/96
	 * (the host's IPv4 by a back door) and link-local (no scope here) */
	return !IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr) && !IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr) &&
	       !IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) && !IN6_IS_ADDR_LINKLOCAL(&s6->sin6_addr);
}

json_t *gw_taddr_json(const struct tapir_addr *a)
{
	char buf[TAPIR_ADDR_STRLEN];

	return json_string(tapir_addr_format(a, buf));
}

json_t *gw_sockaddr_json(const struct sockaddr_storage *ss)
{
	char buf[INET6_ADDRSTRLEN] = "";

	if (ss->ss_family == AF_INET6)
		uv_ip6_name((const struct sockaddr_in6 *)ss, buf, sizeof(buf));
	else if (ss->ss_family == AF_INET)
		uv_ip4_name((const struct sockaddr_in *)ss, buf, sizeof(buf));
	return json_string(buf);
}

uint16_t gw_sockaddr_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

json_t *gw_addr_json(uint32_t a)
{
	char buf[INET_ADDRSTRLEN];
	struct in_addr in = { htonl(a) };

	return json_string(inet_ntop(AF_INET, &in, buf, sizeof(buf)));
}

void gw_after(struct gateway *gw)
{
	if (gw->after)
		gw->after(gw->after_ctx);
}

void gw_send_unreach(struct gateway *gw, uint8_t code, uint8_t proto, uint32_t src,
		     uint16_t sport, uint32_t dst, uint16_t dport)
{
	uint8_t q[28] = { 0x45, 0, 0, 28, 0, 0, 0x40, 0, 64, proto };
	uint32_t sum = 0;

	q[12] = (uint8_t)(src >> 24);
	q[13] = (uint8_t)(src >> 16);
	q[14] = (uint8_t)(src >> 8);
	q[15] = (uint8_t)src;
	q[16] = (uint8_t)(dst >> 24);
	q[17] = (uint8_t)(dst >> 16);
	q[18] = (uint8_t)(dst >> 8);
	q[19] = (uint8_t)dst;
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)q[i] << 8 | q[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	q[10] = (uint8_t)(~sum >> 8);
	q[11] = (uint8_t)~sum;
	q[20] = (uint8_t)(sport >> 8);
	q[21] = (uint8_t)sport;
	q[22] = (uint8_t)(dport >> 8);
	q[23] = (uint8_t)dport;
	(void)tapir_icmp_send_unreach(gw->st, code, q, sizeof(q));
}

void gw_send_unreach_addr(struct gateway *gw, uint8_t code, uint8_t proto,
			  const struct tapir_addr *src, uint16_t sport,
			  const struct tapir_addr *dst, uint16_t dport)
{
	/* ICMPv6 (RFC 4443 3.1): no route 0, address unreachable 3, port 4 */
	uint8_t q[48] = { 0x60, 0, 0, 0, 0, 8, proto, 64 };
	struct tapir_ipv6_rx_meta m = { .src = q + 8, .dst = q + 24, .proto = proto,
					.hop_limit = 64, .packet = q, .packet_len = sizeof(q) };
	uint8_t code6 = code == TAPIR_ICMP_UNREACH_PORT ? 4 :
			code == TAPIR_ICMP_UNREACH_HOST ? 3 : 0;

	if (src->family == TAPIR_AF_INET) {
		gw_send_unreach(gw, code, proto, src->v4, sport, dst->v4, dport);
		return;
	}
	memcpy(q + 8, src->v6, 16);
	memcpy(q + 24, dst->v6, 16);
	q[40] = (uint8_t)(sport >> 8);
	q[41] = (uint8_t)sport;
	q[42] = (uint8_t)(dport >> 8);
	q[43] = (uint8_t)dport;
	q[45] = 8;
	tapir_ipv6_send_unreachable(gw->st, &m, code6);
}

static void on_sweep(uv_timer_t *t)
{
	struct gateway *gw = t->data;
	uint64_t now = uv_hrtime();

	gw_tcp_sweep(gw, now);
	gw_udp_sweep(gw, now);
	gw_ping_sweep(gw, now);
	gw_after(gw);
}

static void sweep_closed(uv_handle_t *h)
{
	struct gateway *gw = h->data;

	gw->handles--;
}

int gateway_start(struct gateway **out, uv_loop_t *loop, struct tapir_stack *st,
		  const struct gateway_config *cfg, struct tapir_logger *log,
		  void (*after)(void *ctx), void *ctx)
{
	struct gateway *gw = calloc(1, sizeof(*gw));
	int rc;

	if (!gw)
		return -ENOMEM;
	gw->loop = loop;
	gw->st = st;
	gw->cfg = *cfg;
	gw->log = log;
	gw->after = after;
	gw->after_ctx = ctx;
	gw->pool.flow_max = cfg->flow_buffer;
	gw->pool.total_max = cfg->total_buffer;
	gw->pool.max_flows = cfg->max_flows;
	gw->pool.after = after;
	gw->pool.ctx = ctx;
	tapir_tcp_flow_opts_defaults(st, &gw->pool.opts);
	/* set, so fixed (no autotuning): a splice holds at most flow_buffer
	 * each way, which total_buffer and max_flows are reckoned on */
	gw->pool.opts.sndbuf = (size_t)cfg->flow_buffer;
	gw->pool.opts.rcvbuf = (size_t)cfg->flow_buffer;
	gw->pool.opts.nodelay = true;	/* the host side decides the segmenting */
	/* a socket per flow: take the hard limit of descriptors (before the sandbox) */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	uv_timer_init(loop, &gw->sweep);
	gw->sweep.data = gw;
	gw->handles++;
	if ((rc = gw_tcp_start(gw)) < 0 || (rc = gw_udp_start(gw)) < 0 ||
	    (rc = gw_ping_start(gw)) < 0) {
		tapir_log_err(log, "gateway: %s", strerror(-rc));
		gateway_stop(gw);
		*out = gw;
		return rc;
	}
	uv_timer_start(&gw->sweep, on_sweep, 1000, 1000);
	*out = gw;
	tapir_log_info(log, "gateway: on (max_flows %u, flow_buffer %llu, total_buffer %llu)",
		       cfg->max_flows, (unsigned long long)cfg->flow_buffer,
		       (unsigned long long)cfg->total_buffer);
	return 0;
}

void gateway_stop(struct gateway *gw)
{
	if (!gw || gw->stopping)
		return;
	gw->stopping = true;
	gw_tcp_stop(gw);
	gw_udp_stop(gw);
	gw_ping_stop(gw);
	uv_close((uv_handle_t *)&gw->sweep, sweep_closed);
}

void gateway_free(struct gateway *gw)
{
	if (!gw)
		return;
	if (gw->handles)
		tapir_log_warn(gw->log, "gateway: %zu handle(s) still open at exit", gw->handles);
	free(gw);
}

void gateway_stats_json(const struct gateway *gw, void *json_obj)
{
	json_t *l;

	if (!gw)
		return;
	l = json_object();
	for (int i = 0; i < GW__COUNT; i++)
		json_object_set_new(l, gw_counter_names[i], json_integer((json_int_t)gw->ctr[i]));
	const struct splice_pool *p = &gw->pool;
	const char *const pn[] = { "tcp_rst_to_host", "tcp_rst_to_ns", "tcp_ns_paused",
				   "tcp_host_paused", "tcp_bytes_to_host", "tcp_bytes_to_ns" };
	const uint64_t pv[] = { p->rst_to_host, p->rst_to_ns, p->ns_paused, p->host_paused,
				p->bytes_to_host, p->bytes_to_ns };
	for (size_t i = 0; i < sizeof(pv) / sizeof(pv[0]); i++)
		json_object_set_new(l, pn[i], json_integer((json_int_t)pv[i]));
	json_object_set_new(l, "flows", json_integer((json_int_t)p->nflows));
	json_object_set_new(l, "buffered", json_integer((json_int_t)p->buffered));
	json_object_set_new(json_obj, "gateway", l);
}

struct splice_pool *gateway_pool(struct gateway *gw)
{
	return gw ? &gw->pool : NULL;
}

void *gateway_flows_json(const struct gateway *gw)
{
	json_t *arr = json_array();

	if (gw) {
		gw_tcp_json(gw, arr);
		gw_udp_json(gw, arr);
		gw_ping_json(gw, arr);
	}
	return arr;
}

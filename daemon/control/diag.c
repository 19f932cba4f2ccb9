/*
 * diag.c - control commands that probe the network: ping and traceroute, IPv4 and IPv6
 *          (deferred operations)
 *
 * Theory of operation
 *
 * Ping and traceroute create a deferred operation (struct op) that collects
 * answers until every probe is answered (traceroute: up to the first probe
 * that reached the destination) or its deadline; the reply is then given
 * to env->deliver.  The destination's family decides how probes go out and
 * how answers come back:
 *
 *   ping        ICMP / ICMPv6 echo requests (identifier: the op's, sequence
 *               1..count), sizes up to what reassembly allows (fragmented
 *               out by the stack).  Replies come through the stack's echo
 *               reply handlers (control_on_echo_reply(),
 *               control_on_echo_reply6()) and are matched by identifier,
 *               sequence and source (the address pinged).
 *   traceroute  UDP probes from source port = the op's identifier to ports
 *               33434 + i with TTL / hop limit i + 1 (IPv4 through the
 *               stack's UDP; IPv6 written here through tapir_ipv6_write(),
 *               UDP header and checksum included).  The answers are ICMP
 *               errors, seen in the received frames (control_rx_frame()):
 *               Time Exceeded from a router, Destination Unreachable (port)
 *               from the destination, matched through the quoted UDP header
 *               (source port, destination port) and quoted destination.
 *               Any Destination Unreachable ends the trace; it reached the
 *               destination when it is a Port Unreachable or came from it
 *               (the others are shown with their code, as traceroute's !N,
 *               !H, !X).
 *
 * At most CONTROL_MAX_OPS operations run at once; a client that goes away
 * takes its operations with it (control_client_gone()).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "tapir/addr.h"
#include "tapir/ipv6.h"
#include "tapir/stack.h"
#include "tapir/udp.h"
#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/icmp.h"
#include "wire/icmpv6.h"
#include "wire/ipv6.h"

#define TRACE_PAYLOAD 32
/* Largest echo data: what a 65,535-byte IPv4 datagram holds; IPv6: the 65,527
 * bytes of upper layer tapir_ipv6_write() sends (a fragment header's room left
 * in the 65,535-byte payload) less the ICMPv6 header */
#define PING_MAX_V4 (65535 - 20 - 8)
#define PING_MAX_V6 (65535 - 8 - 8)

static json_t *addr_json(const struct tapir_addr *a)
{
	char b[TAPIR_ADDR_STRLEN];
	return json_string(tapir_addr_format(a, b));
}

static struct op *op_alloc(struct control *c)
{
	for (size_t i = 0; i < CONTROL_MAX_OPS; i++)
		if (c->ops[i].kind == OP_NONE)
			return &c->ops[i];
	return NULL;
}

static void op_release(struct op *o)
{
	json_decref(o->id);
	memset(o, 0, sizeof(*o));
}

/* A Destination Unreachable ends a traceroute: no later hop can answer */
static bool probe_final(const struct op *o, const struct probe *p)
{
	if (o->dst.family == TAPIR_AF_INET6)
		return p->type == ICMPV6_DEST_UNREACH;
	return p->type == TAPIR_ICMP_DEST_UNREACH;
}

/* ... and it reached the destination when that is a Port Unreachable or came from it */
static bool probe_reached(const struct op *o, const struct probe *p)
{
	if (!probe_final(o, p))
		return false;
	if (tapir_addr_eq(&p->from, &o->dst))
		return true;
	return p->code == (o->dst.family == TAPIR_AF_INET6 ? ICMPV6_UNREACH_PORT
							   : TAPIR_ICMP_UNREACH_PORT);
}

static json_t *op_result(struct control *c, struct op *o)
{
	json_t *arr = json_array();
	unsigned got = 0;
	bool reached = false, final = false;
	for (unsigned i = 0; i < o->n; i++) {
		struct probe *p = &o->p[i];
		if (o->kind == OP_TRACE && final)
			break;
		json_t *e = json_object();
		json_object_set_new(e, o->kind == OP_PING ? "seq" : "ttl", json_integer(i + 1));
		if (p->answered) {
			got++;
			json_object_set_new(e, "from", addr_json(&p->from));
			json_object_set_new(e, "rtt_us", json_integer((json_int_t)(p->rtt / 1000)));
			if (o->kind == OP_PING) {
				json_object_set_new(e, "bytes", json_integer((json_int_t)p->bytes));
			} else {
				json_object_set_new(e, "icmp_type", json_integer(p->type));
				json_object_set_new(e, "icmp_code", json_integer(p->code));
				final = probe_final(o, p);
				reached = probe_reached(o, p);
				json_object_set_new(e, "reached", json_boolean(reached));
			}
		} else {
			json_object_set_new(e, "from", json_null());
		}
		json_array_append_new(arr, e);
	}
	json_t *r = json_object();
	json_object_set_new(r, "addr", addr_json(&o->dst));
	json_object_set_new(r, "family", json_integer(o->dst.family));
	if (o->kind == OP_PING) {
		json_object_set_new(r, "sent", json_integer(o->n));
		json_object_set_new(r, "received", json_integer(got));
		json_object_set_new(r, "replies", arr);
	} else {
		json_object_set_new(r, "reached", json_boolean(reached));
		json_object_set_new(r, "hops", arr);
	}
	return r;
}

static void op_finish(struct control *c, struct op *o)
{
	size_t len;
	char *line = control_reply_ok(o->id, op_result(c, o), &len);
	uint64_t client = o->client;
	op_release(o);
	if (line && c->env.deliver)
		c->env.deliver(c->env.ctx, client, line, len);
	else
		free(line);
}

static bool op_complete(const struct op *o)
{
	for (unsigned i = 0; i < o->n; i++) {
		if (!o->p[i].answered)
			return false;
		if (o->kind == OP_TRACE && probe_final(o, &o->p[i]))
			return true;
	}
	return true;
}

/* An echo reply from @from: the ping it answers, if any */
static void echo_reply(struct control *c, const struct tapir_addr *from, uint16_t id,
		       uint16_t seq, size_t len, uint64_t now)
{
	for (size_t i = 0; i < CONTROL_MAX_OPS; i++) {
		struct op *o = &c->ops[i];
		if (o->kind != OP_PING || o->ident != id || !tapir_addr_eq(from, &o->dst) ||
		    seq < 1 || seq > o->n)
			continue;
		struct probe *p = &o->p[seq - 1];
		if (p->answered)
			return;  /* a duplicate */
		p->answered = true;
		p->from = *from;
		p->rtt = now > p->sent ? now - p->sent : 0;
		p->bytes = len + 8;
		if (op_complete(o))
			op_finish(c, o);
		return;
	}
}

void control_on_echo_reply(void *ctx, uint32_t src, uint16_t id, uint16_t seq, const uint8_t *data,
			  size_t len, uint64_t now)
{
	struct tapir_addr from = tapir_addr_v4(src);
	echo_reply(ctx, &from, id, seq, len, now);
}

void control_on_echo_reply6(void *ctx, const uint8_t src[16], uint16_t id, uint16_t seq,
			    const uint8_t *data, size_t len, uint64_t now)
{
	struct tapir_addr from = { .family = TAPIR_AF_INET6 };
	memcpy(from.v6, src, 16);
	echo_reply(ctx, &from, id, seq, len, now);
}

static int send_probe(struct control *c, const struct op *o, unsigned i, uint8_t ttl,
		      const uint8_t *payload, size_t size)
{
	struct tapir_stack *st = c->env.st;
	bool v6 = o->dst.family == TAPIR_AF_INET6;
	if (o->kind == OP_PING)
		return v6 ? tapir_icmpv6_send_echo(st, o->dst.v6, o->ident, (uint16_t)(i + 1), ttl,
						   payload, size)
			  : tapir_icmp_send_echo(st, o->dst.v4, o->ident, (uint16_t)(i + 1), ttl,
						 payload, size);
	return tapir_udp_sendto(st, o->ident, &o->dst, (uint16_t)(TRACE_PORT_BASE + i),
				(uint8_t)(i + 1), payload, TRACE_PAYLOAD);
}

int control_start_op(struct control *c, enum op_kind kind, uint64_t client, json_t *id,
		    json_t *args, uint64_t now, char *err, size_t errlen)
{
	struct tapir_addr dst;
	uint64_t count, size, timeout, ttl;
	int rc = control_arg_addr(args, &dst, err, errlen);
	if (rc)
		return rc;
	bool v6 = dst.family == TAPIR_AF_INET6;
	if ((rc = control_arg_uint(args, kind == OP_PING ? "count" : "max_hops", kind == OP_PING ? 3 : 16,
			   1, CONTROL_MAX_PROBES, &count, err, errlen)) ||
	    (rc = control_arg_uint(args, "size", 56, 0, v6 ? PING_MAX_V6 : PING_MAX_V4, &size, err,
				   errlen)) ||
	    (rc = control_arg_uint(args, "ttl", 0, 0, 255, &ttl, err, errlen)) ||
	    (rc = control_arg_uint(args, "timeout_ms", 2000, 1, 60000, &timeout, err, errlen)))
		return rc;
	if (kind == OP_TRACE)
		size = TRACE_PAYLOAD;
	struct op *o = op_alloc(c);
	if (!o)
		ERR(EBUSY, "too many operations in progress (at most %d)", CONTROL_MAX_OPS);
	uint8_t *payload = malloc(size ? size : 1);
	if (!payload)
		ERR(ENOMEM, "out of memory");
	for (size_t i = 0; i < size; i++)
		payload[i] = (uint8_t)i;
	memset(o, 0, sizeof(*o));
	o->kind = kind;
	o->client = client;
	o->dst = dst;
	o->n = (unsigned)count;
	o->ident = ++c->next_ident;
	if (kind == OP_TRACE)
		o->ident = (uint16_t)(49152 + (c->next_ident % 16384));
	o->deadline = now + timeout * 1000000;
	for (unsigned i = 0; i < o->n; i++) {
		o->p[i].sent = now;
		rc = send_probe(c, o, i, (uint8_t)ttl, payload, (size_t)size);
		if (rc && i == 0) {
			memset(o, 0, sizeof(*o));
			free(payload);
			ERR(-rc, "cannot send to the address: %s", strerror(-rc));
		}
	}
	free(payload);
	o->id = json_incref(id);
	return 0;
}

/* A traceroute answer: @from sent @type/@code about the probe to @qdst, @sport -> @dport */
static void trace_answer(struct control *c, const struct tapir_addr *from,
			 const struct tapir_addr *qdst, uint16_t sport, uint16_t dport, uint8_t type,
			 uint8_t code, uint64_t now)
{
	for (size_t i = 0; i < CONTROL_MAX_OPS; i++) {
		struct op *o = &c->ops[i];
		if (o->kind != OP_TRACE || o->ident != sport || !tapir_addr_eq(&o->dst, qdst) ||
		    dport < TRACE_PORT_BASE || dport >= TRACE_PORT_BASE + o->n)
			continue;
		struct probe *p = &o->p[dport - TRACE_PORT_BASE];
		if (p->answered)
			return;
		p->answered = true;
		p->from = *from;
		p->type = type;
		p->code = code;
		p->rtt = now > p->sent ? now - p->sent : 0;
		if (op_complete(o))
			op_finish(c, o);
		return;
	}
}

/* IPv4: an ICMP error quoting one of our UDP probes */
static void rx_frame4(struct control *c, const uint8_t *ip, size_t iplen, uint64_t now)
{
	if (iplen < 20 + 8 + 20 + 8 || (ip[0] >> 4) != 4 || ip[9] != TAPIR_IP_PROTO_ICMP)
		return;
	size_t hl = (size_t)(ip[0] & 15) * 4;
	if (hl < 20 || hl + 8 + 28 > iplen || ((ip[6] & 0x3f) | ip[7]))  /* fragments: no */
		return;
	const uint8_t *icmp = ip + hl;
	uint8_t type = icmp[0], code = icmp[1];
	if (type != TAPIR_ICMP_TIME_EXCEEDED && type != TAPIR_ICMP_DEST_UNREACH)
		return;
	struct tapir_icmp_quote q;
	if (icmp_quote_parse(&q, icmp + 8, iplen - hl - 8) < 0 || q.l4_len < 8 ||
	    q.proto != TAPIR_IP_PROTO_UDP || !q.have_ports)
		return;
	struct tapir_addr from = tapir_addr_v4(get_be32(ip + 12)), qdst = tapir_addr_v4(q.dst);
	trace_answer(c, &from, &qdst, q.src_port, q.dst_port, type, code, now);
}

/*
 * IPv6: an ICMPv6 Time Exceeded or Destination Unreachable (RFC 4443 3.1,
 * 3.3) straight after the IPv6 header, quoting an IPv6 header whose Next
 * Header is UDP (our probes carry no extension headers) and 8 bytes of it.
 * The frame is only read here: the stack checks the checksum when it gets it.
 */
static void rx_frame6(struct control *c, const uint8_t *ip, size_t iplen, uint64_t now)
{
	if (iplen < IPV6_HDR_LEN + ICMPV6_HDR_LEN + IPV6_HDR_LEN + 8 || (ip[0] >> 4) != 6 ||
	    ip[6] != IPV6_NH_ICMPV6)
		return;
	size_t plen = get_be16(ip + 4);
	if (plen > iplen - IPV6_HDR_LEN)
		return;
	const uint8_t *icmp = ip + IPV6_HDR_LEN;
	uint8_t type = icmp[0], code = icmp[1];
	if ((type != ICMPV6_TIME_EXCEEDED && type != ICMPV6_DEST_UNREACH) ||
	    plen < ICMPV6_HDR_LEN + IPV6_HDR_LEN + 8)
		return;
	if (icmpv6_csum(ip + 8, ip + 24, icmp, plen) != 0)
		return;
	const uint8_t *q = icmp + ICMPV6_HDR_LEN;
	if ((q[0] >> 4) != 6 || q[6] != IPV6_NH_UDP)
		return;
	struct tapir_addr from = { .family = TAPIR_AF_INET6 }, qdst = { .family = TAPIR_AF_INET6 };
	memcpy(from.v6, ip + 8, 16);
	memcpy(qdst.v6, q + 24, 16);
	const uint8_t *udp = q + IPV6_HDR_LEN;
	trace_answer(c, &from, &qdst, get_be16(udp), get_be16(udp + 2), type, code, now);
}

/* An ICMP error quoting one of our traceroute probes (frames with no VLAN tag) */
void control_rx_frame(struct control *c, const uint8_t *f, size_t len, uint64_t now)
{
	if (len < 14)
		return;
	if (f[12] == 0x08 && f[13] == 0x00)
		rx_frame4(c, f + 14, len - 14, now);
	else if (f[12] == 0x86 && f[13] == 0xdd)
		rx_frame6(c, f + 14, len - 14, now);
}

void control_poll(struct control *c, uint64_t now)
{
	for (size_t i = 0; i < CONTROL_MAX_OPS; i++)
		if (c->ops[i].kind != OP_NONE && c->ops[i].deadline <= now)
			op_finish(c, &c->ops[i]);
}

uint64_t control_next_deadline(const struct control *c)
{
	uint64_t d = UINT64_MAX;
	for (size_t i = 0; i < CONTROL_MAX_OPS; i++)
		if (c->ops[i].kind != OP_NONE && c->ops[i].deadline < d)
			d = c->ops[i].deadline;
	return d;
}

void control_client_gone(struct control *c, uint64_t client)
{
	for (size_t i = 0; i < CONTROL_MAX_OPS; i++)
		if (c->ops[i].kind != OP_NONE && c->ops[i].client == client)
			op_release(&c->ops[i]);
	control_resolve_client_gone(c, client);
}

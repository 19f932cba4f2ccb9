/*
 * diag.c - control commands that probe the network: ping and traceroute (deferred operations)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "tapir/stack.h"
#include "tapir/udp.h"
#include "wire/bytes.h"
#include "wire/icmp.h"

/*
 * Ping and traceroute create a deferred operation (struct op) that collects
 * echo replies (the stack's echo-reply handler) or ICMP errors (seen in the
 * received frames, control_rx_frame()) until it is complete or its
 * deadline; the reply is then given to env->deliver.
 */

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

static json_t *op_result(struct control *c, struct op *o)
{
	json_t *arr = json_array();
	unsigned got = 0;
	bool reached = false;
	for (unsigned i = 0; i < o->n; i++) {
		struct probe *p = &o->p[i];
		if (o->kind == OP_TRACE && reached)
			break;
		json_t *e = json_object();
		json_object_set_new(e, o->kind == OP_PING ? "seq" : "ttl", json_integer(i + 1));
		if (p->answered) {
			got++;
			json_object_set_new(e, "from", control_ip_json(p->from));
			json_object_set_new(e, "rtt_us", json_integer((json_int_t)(p->rtt / 1000)));
			if (o->kind == OP_PING) {
				json_object_set_new(e, "bytes", json_integer((json_int_t)p->bytes));
			} else {
				json_object_set_new(e, "icmp_type", json_integer(p->type));
				json_object_set_new(e, "icmp_code", json_integer(p->code));
				reached = p->type == TAPIR_ICMP_DEST_UNREACH;
				json_object_set_new(e, "reached", json_boolean(reached));
			}
		} else {
			json_object_set_new(e, "from", json_null());
		}
		json_array_append_new(arr, e);
	}
	json_t *r = json_object();
	json_object_set_new(r, "addr", control_ip_json(o->dst));
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
		if (o->kind == OP_TRACE && o->p[i].type == TAPIR_ICMP_DEST_UNREACH)
			return true;
	}
	return true;
}

void control_on_echo_reply(void *ctx, uint32_t src, uint16_t id, uint16_t seq, const uint8_t *data,
			  size_t len, uint64_t now)
{
	struct control *c = ctx;
	for (size_t i = 0; i < CONTROL_MAX_OPS; i++) {
		struct op *o = &c->ops[i];
		if (o->kind != OP_PING || o->ident != id || src != o->dst || seq < 1 || seq > o->n)
			continue;
		struct probe *p = &o->p[seq - 1];
		if (p->answered)
			return;
		p->answered = true;
		p->from = src;
		p->rtt = now > p->sent ? now - p->sent : 0;
		p->bytes = len + 8;
		if (op_complete(o))
			op_finish(c, o);
		return;
	}
}

int control_start_op(struct control *c, enum op_kind kind, uint64_t client, json_t *id,
		    json_t *args, uint64_t now, char *err, size_t errlen)
{
	uint32_t dst;
	uint64_t count, size, timeout, ttl;
	int rc = control_arg_addr(args, &dst, err, errlen);
	if (rc)
		return rc;
	if ((rc = control_arg_uint(args, kind == OP_PING ? "count" : "max_hops", kind == OP_PING ? 3 : 16,
			   1, CONTROL_MAX_PROBES, &count, err, errlen)) ||
	    (rc = control_arg_uint(args, "size", 56, 0, 1400, &size, err, errlen)) ||
	    (rc = control_arg_uint(args, "ttl", 0, 0, 255, &ttl, err, errlen)) ||
	    (rc = control_arg_uint(args, "timeout_ms", 2000, 1, 60000, &timeout, err, errlen)))
		return rc;
	struct op *o = op_alloc(c);
	if (!o)
		ERR(EBUSY, "too many operations in progress (at most %d)", CONTROL_MAX_OPS);
	memset(o, 0, sizeof(*o));
	o->kind = kind;
	o->client = client;
	o->dst = dst;
	o->n = (unsigned)count;
	o->ident = ++c->next_ident;
	if (kind == OP_TRACE)
		o->ident = (uint16_t)(49152 + (c->next_ident % 16384));
	o->deadline = now + timeout * 1000000;
	uint8_t payload[1400];
	for (size_t i = 0; i < size; i++)
		payload[i] = (uint8_t)i;
	for (unsigned i = 0; i < o->n; i++) {
		o->p[i].sent = now;
		if (kind == OP_PING)
			rc = tapir_icmp_send_echo(c->env.st, dst, o->ident, (uint16_t)(i + 1), (uint8_t)ttl,
					    payload, (size_t)size);
		else
			rc = tapir_udp_sendto(c->env.st, o->ident, &(struct tapir_addr){
						      .family = TAPIR_AF_INET, .v4 = dst },
					      (uint16_t)(TRACE_PORT_BASE + i),
					(uint8_t)(i + 1), payload, 32);
		if (rc && i == 0) {
			memset(o, 0, sizeof(*o));
			ERR(-rc, "cannot send to the address: %s", strerror(-rc));
		}
	}
	o->id = json_incref(id);
	return 0;
}

/* An ICMP error quoting one of our traceroute probes (frames with no VLAN tag) */
void control_rx_frame(struct control *c, const uint8_t *f, size_t len, uint64_t now)
{
	if (len < 14 + 20 + 8 + 20 + 8 || f[12] != 0x08 || f[13] != 0x00)
		return;
	const uint8_t *ip = f + 14;
	size_t iplen = len - 14;
	if ((ip[0] >> 4) != 4 || ip[9] != TAPIR_IP_PROTO_ICMP)
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
	uint32_t from = get_be32(ip + 12);
	uint32_t qdst = q.dst;
	uint16_t sport = q.src_port;
	uint16_t dport = q.dst_port;
	for (size_t i = 0; i < CONTROL_MAX_OPS; i++) {
		struct op *o = &c->ops[i];
		if (o->kind != OP_TRACE || o->ident != sport || o->dst != qdst ||
		    dport < TRACE_PORT_BASE || dport >= TRACE_PORT_BASE + o->n)
			continue;
		struct probe *p = &o->p[dport - TRACE_PORT_BASE];
		if (p->answered)
			return;
		p->answered = true;
		p->from = from;
		p->type = type;
		p->code = code;
		p->rtt = now > p->sent ? now - p->sent : 0;
		if (op_complete(o))
			op_finish(c, o);
		return;
	}
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

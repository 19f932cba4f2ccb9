/*
 * dns.c - the "resolve" control command: a name through the instance's
 *         resolver (tapir/dns.h), answered when the resolver is done
 *
 * Arguments: "name" (required), "family": "4", "6" or "any" (default
 * "any").  The reply is deferred: the resolver's callback delivers it.
 * Result: { "name", "canonical", "addresses": [ { "addr", "family", "ttl" } ],
 * "cached" }.  NXDOMAIN and the other DNS failures are error replies whose
 * message starts with the DNS name of the failure ("NXDOMAIN: ...").
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "tapir/dns.h"

static int dns_errno(int err)
{
	switch (err) {
	case TAPIR_DNS_ENXDOMAIN:
	case TAPIR_DNS_ENODATA:
		return ENOENT;
	case TAPIR_DNS_ESERVFAIL:
		return EIO;
	case TAPIR_DNS_EREFUSED:
		return EACCES;
	case TAPIR_DNS_ETIMEOUT:
		return ETIMEDOUT;
	case TAPIR_DNS_ENOSERVER:
		return ENETUNREACH;
	case TAPIR_DNS_EBADREPLY:
		return EBADMSG;
	case TAPIR_DNS_ECNAME_LOOP:
		return EPROTO;
	default:
		return err < 0 && err > -1000 ? -err : EIO;
	}
}

static void release(struct resolve_op *o)
{
	json_decref(o->id);
	memset(o, 0, sizeof(*o));
}

static void on_result(void *ctx, const struct tapir_dns_result *r)
{
	struct resolve_op *o = ctx;
	struct control *c = o->c;
	uint64_t client = o->client;
	json_t *id = json_incref(o->id);
	char *line;
	size_t len;

	release(o);
	if (r->err) {
		char msg[300];

		snprintf(msg, sizeof(msg), "%s: %s: %s", tapir_dns_errname(r->err), r->name,
			 tapir_dns_strerror(r->err));
		line = control_reply_error(id, dns_errno(r->err), msg, &len);
	} else {
		json_t *res = json_object(), *arr = json_array();
		char buf[TAPIR_ADDR_STRLEN];

		for (size_t i = 0; i < r->naddrs; i++) {
			json_t *e = json_object();

			json_object_set_new(e, "addr", json_string(tapir_addr_format(&r->addrs[i], buf)));
			json_object_set_new(e, "family", json_integer(r->addrs[i].family));
			json_object_set_new(e, "ttl", json_integer(r->ttl[i]));
			json_array_append_new(arr, e);
		}
		json_object_set_new(res, "name", json_string(r->name));
		json_object_set_new(res, "canonical", json_string(r->canon));
		json_object_set_new(res, "addresses", arr);
		json_object_set_new(res, "cached", json_boolean(r->from_cache));
		line = control_reply_ok(id, res, &len);
	}
	json_decref(id);
	if (line && c->env.deliver)
		c->env.deliver(c->env.ctx, client, line, len);
	else
		free(line);
}

int control_start_resolve(struct control *c, uint64_t client, json_t *id, json_t *args,
			  char *err, size_t errlen)
{
	const char *name, *fam;
	enum tapir_family family = TAPIR_AF_UNSPEC;
	struct resolve_op *o = NULL;
	int rc;

	if ((rc = control_arg_str(args, "name", &name, err, errlen)) ||
	    (rc = control_arg_str(args, "family", &fam, err, errlen)))
		return rc;
	if (!name)
		ERR(EINVAL, "'name' is required");
	if (fam && !strcmp(fam, "4"))
		family = TAPIR_AF_INET;
	else if (fam && !strcmp(fam, "6"))
		family = TAPIR_AF_INET6;
	else if (fam && strcmp(fam, "any"))
		ERR(EINVAL, "'family' must be 4, 6 or any");
	if (!c->env.dns)
		ERR(ENOTSUP, "this instance has no resolver");
	for (size_t i = 0; i < CONTROL_MAX_OPS && !o; i++)
		if (!c->rops[i].c)
			o = &c->rops[i];
	if (!o)
		ERR(EBUSY, "too many operations in progress (at most %d)", CONTROL_MAX_OPS);
	o->c = c;
	o->client = client;
	rc = tapir_dns_resolve_owner(c->env.dns, c, name, family, on_result, o, &o->q);
	if (rc) {
		memset(o, 0, sizeof(*o));
		ERR(-rc, "%s: %s", name, rc == -EINVAL ? "not a host name" : strerror(-rc));
	}
	o->id = json_incref(id);
	return 0;
}

void control_resolve_client_gone(struct control *c, uint64_t client)
{
	for (size_t i = 0; i < CONTROL_MAX_OPS; i++) {
		struct resolve_op *o = &c->rops[i];

		if (o->c && o->client == client) {
			tapir_dns_cancel(o->q);
			release(o);
		}
	}
}

void control_resolve_free(struct control *c)
{
	for (size_t i = 0; i < CONTROL_MAX_OPS; i++) {
		if (c->rops[i].c) {
			tapir_dns_cancel(c->rops[i].q);
			release(&c->rops[i]);
		}
	}
}

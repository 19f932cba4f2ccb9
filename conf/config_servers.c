/*
 * config_servers.c - the setters of [dns] and [gateway] that parse lists:
 *                    servers, search domains, hosts, forwards, host loopbacks
 *
 * The key tables stay in config_keys.c (one place to read every key); these
 * are the TAPIR_CONF_CUSTOM setters the [dns] and [gateway] tables name, with
 * the list helpers they share (parse_servers(): resolver addresses for the
 * instance's resolver and for the gateway's DNS relay).  Declared in config.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "tapir/conf.h"
#include "tapir/addr.h"
#include "units.h"
#include "wire/dns.h"

/* ---- [dns] ---- */

/* The next item of a list separated by commas and/or spaces into @buf.
 * Return: 1 with an item, 0 at the end, -EINVAL when one is too long */
static int next_item(const char **p, char *buf, size_t len)
{
	const char *s = *p, *e;

	while (*s == ',' || *s == ' ' || *s == '\t')
		s++;
	if (!*s)
		return 0;
	e = s;
	while (*e && *e != ',' && *e != ' ' && *e != '\t')
		e++;
	if ((size_t)(e - s) >= len)
		return -EINVAL;
	memcpy(buf, s, (size_t)(e - s));
	buf[e - s] = '\0';
	*p = e;
	return 1;
}

/* A host name as the resolver takes it (wire/dns.h): labels of 1..63
 * printable bytes, 253 in all */
static bool dns_name_ok(const char *s)
{
	struct dns_name n;

	return strlen(s) <= CONFIG_DNS_NAME_MAX && !dns_name_from_text(s, &n) && n.len > 1;
}

/* Not multicast, :: or ::1: an address a DNS server can have */
static bool ipv6_unicast(const uint8_t a[16])
{
	static const uint8_t zero[15];

	return a[0] != 0xff && (memcmp(a, zero, 15) || a[15] > 1);
}

/*
 * A list of DNS servers, "A, B, ..." ("" or none: no servers), each a unicast
 * IPv4 or IPv6 address: [dns] servers (the stack's: never loopback) and
 * [gateway] dns (the host's resolvers: @loopback, 127/8 and ::1 allowed).
 * Return: 0 with *@n set, or -EINVAL with @msg
 */
static int parse_servers(const char *value, bool loopback, struct tapir_addr *out, size_t max,
			 size_t *n, char *msg, size_t msglen)
{
	struct tapir_addr a[CONFIG_DNS_MAX_SERVERS];
	char item[64];
	size_t k = 0;
	int rc;

	if (max > CONFIG_DNS_MAX_SERVERS)
		max = CONFIG_DNS_MAX_SERVERS;
	if (!strcmp(value, "none"))
		value = "";
	while ((rc = next_item(&value, item, sizeof(item))) > 0) {
		if (k == max) {
			snprintf(msg, msglen, "more than %zu servers", max);
			return -EINVAL;
		}
		static const uint8_t lo6[16] = { [15] = 1 };
		bool lo = loopback && !tapir_addr_parse(item, &a[k]) &&
			  (a[k].family == TAPIR_AF_INET ? (a[k].v4 >> 24) == 127 :
							  !memcmp(a[k].v6, lo6, 16));

		if (!lo && (tapir_addr_parse(item, &a[k]) ||
			    (a[k].family == TAPIR_AF_INET && config_unicast_problem(a[k].v4)) ||
			    (a[k].family == TAPIR_AF_INET6 && !ipv6_unicast(a[k].v6)))) {
			snprintf(msg, msglen, "'%s' is not a unicast IPv4 or IPv6 address", item);
			return -EINVAL;
		}
		k++;
	}
	if (rc < 0) {
		snprintf(msg, msglen, "'%.60s' is not an address list", value);
		return -EINVAL;
	}
	memcpy(out, a, k * sizeof(a[0]));
	*n = k;
	return 0;
}

/* [dns] servers = ADDR, ...: replaces the list; "" or none: no servers */
int config_set_dns_servers(void *base, const char *value, const char *where, char *msg,
			   size_t msglen)
{
	struct tapird_config *c = base;

	(void)where;
	return parse_servers(value, false, c->dns_servers, CONFIG_DNS_MAX_SERVERS, &c->dns_nservers,
			     msg, msglen);
}

/* [dns] search = DOMAIN ...: replaces the list */
int config_set_dns_search(void *base, const char *value, const char *where, char *msg,
			  size_t msglen)
{
	struct tapird_config *c = base;
	char list[CONFIG_DNS_MAX_SEARCH][CONFIG_DNS_NAME_MAX + 1];
	char item[CONFIG_DNS_NAME_MAX + 2];
	size_t n = 0;
	int rc;

	(void)where;
	while ((rc = next_item(&value, item, sizeof(item))) > 0) {
		if (n == CONFIG_DNS_MAX_SEARCH) {
			snprintf(msg, msglen, "more than %d search domains", CONFIG_DNS_MAX_SEARCH);
			return -EINVAL;
		}
		if (!dns_name_ok(item) || !strcmp(item, ".")) {
			snprintf(msg, msglen, "'%.60s' is not a domain name", item);
			return -EINVAL;
		}
		snprintf(list[n++], sizeof(list[0]), "%s", item);
	}
	if (rc < 0) {
		snprintf(msg, msglen, "a search domain is longer than %d bytes", CONFIG_DNS_NAME_MAX);
		return -EINVAL;
	}
	memcpy(c->dns_search, list, n * sizeof(list[0]));
	c->dns_nsearch = n;
	return 0;
}

/* [dns] hosts = NAME=ADDR, ...: adds to the table (the key may be repeated) */
int config_set_dns_hosts(void *base, const char *value, const char *where, char *msg,
			 size_t msglen)
{
	struct tapird_config *c = base;
	char item[CONFIG_DNS_NAME_MAX + 64];
	int rc;

	(void)where;
	while ((rc = next_item(&value, item, sizeof(item))) > 0) {
		char *eq = strchr(item, '=');
		struct config_dns_host h = { 0 };

		if (!eq) {
			snprintf(msg, msglen, "'%.60s' is not NAME=ADDRESS", item);
			return -EINVAL;
		}
		*eq = '\0';
		if (!dns_name_ok(item)) {
			snprintf(msg, msglen, "'%.60s' is not a host name", item);
			return -EINVAL;
		}
		if (tapir_addr_parse(eq + 1, &h.addr)) {
			snprintf(msg, msglen, "'%.60s' is not an IPv4 or IPv6 address", eq + 1);
			return -EINVAL;
		}
		if (c->dns_nhosts >= CONFIG_DNS_MAX_HOSTS) {
			snprintf(msg, msglen, "more than %d static hosts", CONFIG_DNS_MAX_HOSTS);
			return -EINVAL;
		}
		snprintf(h.name, sizeof(h.name), "%s", item);
		struct config_dns_host *nh = realloc(c->dns_hosts, (c->dns_nhosts + 1) * sizeof(*nh));
		if (!nh)
			return -ENOMEM;
		c->dns_hosts = nh;
		c->dns_hosts[c->dns_nhosts++] = h;
	}
	if (rc < 0) {
		snprintf(msg, msglen, "an entry is longer than a name and an address");
		return -EINVAL;
	}
	return 0;
}

/* ---- [gateway] ---- */

int config_forward_parse(const char *s, struct config_forward *out, char *msg, size_t msglen)
{
	char buf[64];
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0 || n >= sizeof(buf)) {
		snprintf(msg, msglen, "'%.*s' is not a forward (tcp|udp/HOSTPORT[:NSPORT])",
			 (int)(n < 60 ? n : 60), s);
		return -EINVAL;
	}
	memcpy(buf, s, n);
	buf[n] = 0;
	struct config_forward f = { 0 };
	char *p;
	if (!strncmp(buf, "tcp/", 4))
		f.proto = CONFIG_FWD_TCP;
	else if (!strncmp(buf, "udp/", 4))
		f.proto = CONFIG_FWD_UDP;
	if (!f.proto) {
		snprintf(msg, msglen, "'%s': a forward starts with tcp/ or udp/", buf);
		return -EINVAL;
	}
	p = buf + 4;
	char *colon = strchr(p, ':');
	if (colon)
		*colon = 0;
	uint64_t hp, np;
	if (units_parse_u64(p, 65535, &hp) || hp == 0 ||
	    (colon && (units_parse_u64(colon + 1, 65535, &np) || np == 0))) {
		snprintf(msg, msglen, "'%.*s': ports are 1 to 65535", (int)n, s);
		return -EINVAL;
	}
	f.host_port = (uint16_t)hp;
	f.ns_port = colon ? (uint16_t)np : (uint16_t)hp;
	*out = f;
	return 0;
}

/* forward = tcp/8080:80, udp/5353:53 (replaces the list; "" or none: none) */
int config_set_forward(void *base, const char *value, const char *where, char *msg,
		       size_t msglen)
{
	struct gateway_config *c = base;
	struct config_forward fw[CONFIG_MAX_FORWARDS];
	size_t n = 0;
	if (*value && strcmp(value, "none")) {
		const char *p = value;
		for (;;) {
			const char *e = strchr(p, ',');
			size_t len = e ? (size_t)(e - p) : strlen(p);
			char one[64];
			if (len >= sizeof(one)) {
				snprintf(msg, msglen, "'%.40s...' is not a forward", p);
				return -EINVAL;
			}
			memcpy(one, p, len);
			one[len] = 0;
			if (n == CONFIG_MAX_FORWARDS) {
				snprintf(msg, msglen, "more than %d forwards", CONFIG_MAX_FORWARDS);
				return -EINVAL;
			}
			int rc = config_forward_parse(one, &fw[n], msg, msglen);
			if (rc)
				return rc;
			for (size_t i = 0; i < n; i++)
				if (fw[i].proto == fw[n].proto && fw[i].host_port == fw[n].host_port) {
					snprintf(msg, msglen, "%s/%u is forwarded twice",
						 fw[n].proto == CONFIG_FWD_TCP ? "tcp" : "udp",
						 fw[n].host_port);
					return -EINVAL;
				}
			n++;
			if (!e)
				break;
			p = e + 1;
		}
	}
	memcpy(c->forwards, fw, n * sizeof(fw[0]));
	c->nforwards = n;
	return 0;
}

/* forward_address = A[, B]: up to one address per family (any address the
 * host has, 0.0.0.0 or :: for all); default 127.0.0.1,::1 */
int config_set_forward_address(void *base, const char *value, const char *where, char *msg,
			       size_t msglen)
{
	struct gateway_config *c = base;
	bool v4 = false, v6 = false;
	uint32_t a = 0;
	uint8_t a6[16] = { 0 };
	char buf[128];
	if (strlen(value) >= sizeof(buf)) {
		snprintf(msg, msglen, "'%.40s...' is too long", value);
		return -EINVAL;
	}
	strcpy(buf, value);
	char *save = NULL;
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		while (*t == ' ' || *t == '\t')
			t++;
		char *e = t + strlen(t);
		while (e > t && (e[-1] == ' ' || e[-1] == '\t'))
			*--e = 0;
		if (strchr(t, ':')) {
			if (v6) {
				snprintf(msg, msglen, "one IPv6 address at most");
				return -EINVAL;
			}
			/* (not config_parse6(): ::1 and :: are the point here) */
			if (inet_pton(AF_INET6, t, a6) != 1) {
				snprintf(msg, msglen, "'%s' is not an IPv4 or IPv6 address", t);
				return -EINVAL;
			}
			if (a6[0] == 0xff) {
				snprintf(msg, msglen, "%s is a multicast address", t);
				return -EINVAL;
			}
			v6 = true;
			continue;
		}
		if (v4) {
			snprintf(msg, msglen, "one IPv4 address at most");
			return -EINVAL;
		}
		if (units_parse_ipv4(t, &a)) {
			snprintf(msg, msglen, "'%s' is not an IPv4 or IPv6 address", t);
			return -EINVAL;
		}
		if ((a >> 28) >= 0xe && a != 0) {
			snprintf(msg, msglen, "%s is a multicast or reserved address", t);
			return -EINVAL;
		}
		v4 = true;
	}
	if (!v4 && !v6) {
		snprintf(msg, msglen, "'%s': an IPv4 address, an IPv6 address, or one of each",
			 value);
		return -EINVAL;
	}
	c->forward_v4 = v4;
	c->forward_addr = a;
	c->forward_v6 = v6;
	memcpy(c->forward_addr6, a6, 16);
	return 0;
}

/* dns = A, B (up to CONFIG_MAX_DNS, either family; "" or none: the host's resolv.conf) */
int config_set_gw_dns(void *base, const char *value, const char *where, char *msg, size_t msglen)
{
	struct gateway_config *c = base;

	(void)where;
	return parse_servers(value, true, c->dns, CONFIG_MAX_DNS, &c->ndns, msg, msglen);
}

/* [gateway] host_loopback = A, or "" / none */
int config_set_host_loopback(void *base, const char *value, const char *where, char *msg,
			     size_t msglen)
{
	struct gateway_config *g = base;
	uint32_t a;
	if (config_unicast_or_none(value, &a, msg, msglen))
		return -EINVAL;
	g->host_loopback = a;
	snprintf(g->w_host_loopback.text, sizeof(g->w_host_loopback.text), "%s", where);
	return 0;
}

/* [gateway] host_loopback6 = A (IPv6), or "" / none */
int config_set_host_loopback6(void *base, const char *value, const char *where, char *msg,
			      size_t msglen)
{
	struct gateway_config *g = base;

	snprintf(g->w_host_loopback6.text, sizeof(g->w_host_loopback6.text), "%s", where);
	if (!*value || !strcmp(value, "none")) {
		g->host_loopback6_set = false;
		return 0;
	}
	if (config_parse6(value, g->host_loopback6, msg, msglen))
		return -EINVAL;
	g->host_loopback6_set = true;
	return 0;
}

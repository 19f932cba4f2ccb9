/*
 * config.c - tapird's configuration: INI file, boot arguments, validation
 */
#include "config.h"

#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootargs.h"
#include "units.h"

#define NS_PER_SEC 1000000000ull

/* ---- messages ---- */

static int errf(char *err, size_t errlen, const char *where, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int errf(char *err, size_t errlen, const char *where, const char *fmt, ...)
{
	if (err && errlen) {
		char msg[CONFIG_ERR_MAX];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		snprintf(err, errlen, "%s: %s", where, msg);
	}
	return -EINVAL;
}

static void set_where(struct config_where *w, const char *where)
{
	snprintf(w->text, sizeof(w->text), "%s", where);
}

const char *config_log_level_name(enum config_log_level l)
{
	static const char *const names[] = {
		[CONFIG_LOG_ERR] = "error",
		[CONFIG_LOG_WARN] = "warn",
		[CONFIG_LOG_INFO] = "info",
		[CONFIG_LOG_DEBUG] = "debug",
	};
	_Static_assert(sizeof(names) / sizeof(names[0]) == CONFIG_LOG_DEBUG + 1, "log names");
	return (unsigned)l <= CONFIG_LOG_DEBUG ? names[l] : "?";
}

char *config_format_ipv4(uint32_t a, char *buf)
{
	snprintf(buf, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
	return buf;
}

char *config_format_mac(const uint8_t m[6], char *buf)
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	return buf;
}

/* ---- applications: the config side of each type ---- */

struct app_conf_type {
	const char *name;
	void (*defaults)(union app_params *p);
	/* Return: 0, -ENOENT (unknown key) or -EINVAL (message in @msg) */
	int (*set)(union app_params *p, const char *key, const char *value, char *msg,
		   size_t msglen);
	/* UDP and TCP ports the app listens on (for the uniqueness checks); NULL if none */
	uint16_t (*udp_port)(const union app_params *p);
	uint16_t (*tcp_port)(const union app_params *p);
};

static int parse_port(const char *value, uint16_t *port, char *msg, size_t msglen)
{
	uint64_t v = 0;
	if (units_parse_u64(value, 65535, &v) || v == 0) {
		snprintf(msg, msglen, "'%s' is not a port (1 to 65535)", value);
		return -EINVAL;
	}
	*port = (uint16_t)v;
	return 0;
}

/* echo, discard and source share one shape: a port. */
static int port_app_set(union app_params *p, const char *key, const char *value, char *msg,
			size_t msglen)
{
	if (!strcmp(key, "port"))
		return parse_port(value, &p->echo.port, msg, msglen);
	return -ENOENT;
}

static uint16_t port_app_port(const union app_params *p)
{
	return p->echo.port;
}

static void echo_defaults(union app_params *p)
{
	p->echo.port = 7;
}

static void discard_defaults(union app_params *p)
{
	p->discard.port = 9;
}

static void source_defaults(union app_params *p)
{
	p->source.port = 19;
}

/* http and kvhttp: struct app_http_config */
static void http_defaults(union app_params *p)
{
	struct app_http_config *h = &p->http;
	memset(h, 0, sizeof(*h));
	h->port = 80;
	strcpy(h->index, "index.html");
	h->idle_timeout_ns = 30 * NS_PER_SEC;
	h->max_header_bytes = 8192;
	h->max_headers = 64;
	h->max_connections = 1024;
	h->max_body = 1u << 20;
	h->access_log = true;
}

static void kvhttp_defaults(union app_params *p)
{
	http_defaults(p);
	p->kvhttp.port = 8080;
	p->kvhttp.index[0] = '\0';
}

static int http_common_set(struct app_http_config *h, const char *key, const char *value,
			   char *msg, size_t msglen)
{
	uint64_t v = 0;
	if (!strcmp(key, "port"))
		return parse_port(value, &h->port, msg, msglen);
	if (!strcmp(key, "kv")) {
		size_t n = strlen(value);
		if (n == 0 || n > CONFIG_APP_NAME_MAX) {
			snprintf(msg, msglen, "'%s' is not the NAME of a [kv.NAME] section", value);
			return -EINVAL;
		}
		memcpy(h->kv, value, n + 1);
		return 0;
	}
	if (!strcmp(key, "idle_timeout")) {
		int rc = units_parse_duration(value, &v);
		if (rc || v < NS_PER_SEC / 10 || v > 3600 * NS_PER_SEC) {
			snprintf(msg, msglen, "'%s' is not a duration from 100ms to 1h", value);
			return -EINVAL;
		}
		h->idle_timeout_ns = v;
		return 0;
	}
	if (!strcmp(key, "max_header_bytes")) {
		if (units_parse_size(value, &v) || v < 256 || v > 65536) {
			snprintf(msg, msglen, "'%s' is not a size from 256 to 65536 bytes", value);
			return -EINVAL;
		}
		h->max_header_bytes = (uint32_t)v;
		return 0;
	}
	if (!strcmp(key, "max_headers")) {
		if (units_parse_u64(value, 1000, &v) || v == 0) {
			snprintf(msg, msglen, "'%s' is not a number from 1 to 1000", value);
			return -EINVAL;
		}
		h->max_headers = (uint32_t)v;
		return 0;
	}
	if (!strcmp(key, "max_connections")) {
		if (units_parse_u64(value, 1u << 20, &v) || v == 0) {
			snprintf(msg, msglen, "'%s' is not a number from 1 to 1048576", value);
			return -EINVAL;
		}
		h->max_connections = (uint32_t)v;
		return 0;
	}
	if (!strcmp(key, "access_log")) {
		if (units_parse_bool(value, &h->access_log)) {
			snprintf(msg, msglen, "'%s' is not true or false", value);
			return -EINVAL;
		}
		return 0;
	}
	return -ENOENT;
}

static int http_set(union app_params *p, const char *key, const char *value, char *msg,
		    size_t msglen)
{
	if (!strcmp(key, "index")) {
		size_t n = strlen(value);
		if (n == 0 || n > CONFIG_HTTP_INDEX_MAX || strchr(value, '/') ||
		    !strcmp(value, ".") || !strcmp(value, "..")) {
			snprintf(msg, msglen, "'%s' is not a file name (at most %d bytes, no '/')",
				 value, CONFIG_HTTP_INDEX_MAX);
			return -EINVAL;
		}
		memcpy(p->http.index, value, n + 1);
		return 0;
	}
	return http_common_set(&p->http, key, value, msg, msglen);
}

static int kvhttp_set(union app_params *p, const char *key, const char *value, char *msg,
		      size_t msglen)
{
	uint64_t v = 0;
	if (!strcmp(key, "token")) {
		size_t n = strlen(value);
		if (n > CONFIG_HTTP_TOKEN_MAX) {
			snprintf(msg, msglen, "too long (at most %d characters)",
				 CONFIG_HTTP_TOKEN_MAX);
			return -EINVAL;
		}
		for (size_t i = 0; i < n; i++)
			if (value[i] <= ' ' || value[i] > '~') {
				snprintf(msg, msglen, "must be printable ASCII without spaces");
				return -EINVAL;
			}
		memcpy(p->kvhttp.token, value, n + 1);
		return 0;
	}
	if (!strcmp(key, "max_body")) {
		if (units_parse_size(value, &v) || v > (64u << 20)) {
			snprintf(msg, msglen, "'%s' is not a size up to 64MiB", value);
			return -EINVAL;
		}
		p->kvhttp.max_body = v;
		return 0;
	}
	return http_common_set(&p->kvhttp, key, value, msg, msglen);
}

static uint16_t http_port(const union app_params *p)
{
	return p->http.port;
}

static const struct app_conf_type app_conf_types[] = {
	{ "echo", echo_defaults, port_app_set, port_app_port, port_app_port },
	{ "discard", discard_defaults, port_app_set, port_app_port, port_app_port },
	{ "source", source_defaults, port_app_set, NULL, port_app_port },
	{ "http", http_defaults, http_set, NULL, http_port },
	{ "kvhttp", kvhttp_defaults, kvhttp_set, NULL, http_port },
};

#define APP_TYPE_NAMES "echo, discard, source, http, kvhttp"

static const struct app_conf_type *app_conf_type(const char *name)
{
	for (size_t i = 0; i < sizeof(app_conf_types) / sizeof(app_conf_types[0]); i++)
		if (!strcmp(app_conf_types[i].name, name))
			return &app_conf_types[i];
	return NULL;
}

/* ---- init / free ---- */

void config_init(struct tapird_config *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->backend, "tap");
	strcpy(c->ifname, "tap0");
	c->mtu = 1500;
	c->offload = true;
	impair_config_defaults(&c->impair);
	c->prefix_len = 24;
	c->ttl = 64;
	c->reasm_max_bytes = 4u << 20;
	c->reasm_timeout_ns = 30 * NS_PER_SEC;
	tcp_config_defaults(&c->tcp);
	c->arp_cache_size = 1024;
	c->arp_timeout_ns = 60 * NS_PER_SEC;
	c->icmp_error_rate = 100;
	c->icmp_error_burst = 50;
	c->sandbox = true;  /* [control] sandbox = false or --no-sandbox: off */
	c->log_level = CONFIG_LOG_INFO;
}

void config_free(struct tapird_config *c)
{
	for (size_t i = 0; i < c->napps; i++)
		for (size_t k = 0; k < c->apps[i].nkeys; k++) {
			free(c->apps[i].keys[k].key);
			free(c->apps[i].keys[k].value);
		}
	free(c->apps);
	c->apps = NULL;
	c->napps = 0;
	for (size_t i = 0; i < c->nkvs; i++)
		free(c->kvs[i].spec);
	free(c->kvs);
	c->kvs = NULL;
	c->nkvs = 0;
}

const struct kv_config *config_kv_find(const struct tapird_config *c, const char *name)
{
	for (size_t i = 0; i < c->nkvs; i++)
		if (!strcmp(c->kvs[i].name, name))
			return &c->kvs[i];
	return NULL;
}

/* ---- sections ---- */

enum section_kind {
	SEC_NETIF, SEC_IPV4, SEC_ARP, SEC_ICMP, SEC_LOG, SEC_TCP, SEC_APP, SEC_KV, SEC_BAD
};

static enum section_kind section_kind(const char *s)
{
	static const char *const fixed[] = { "netif", "ipv4", "arp", "icmp", "log", "tcp" };
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (!strcmp(s, fixed[i]))
			return (enum section_kind)i;
	if (!strncmp(s, "app.", 4))
		return SEC_APP;
	if (!strncmp(s, "kv.", 3))
		return SEC_KV;
	return SEC_BAD;
}

static bool app_name_ok(const char *n)
{
	size_t len = strlen(n);
	if (len == 0 || len > CONFIG_APP_NAME_MAX)
		return false;
	for (const char *p = n; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			return false;
	return true;
}

/* [kv.NAME]: find or create the store's entry */
static int kv_section_check(struct tapird_config *c, const char *name, const char *where,
			    struct kv_config **out, char *err, size_t errlen)
{
	if (out)
		*out = NULL;
	if (!app_name_ok(name))
		return errf(err, errlen, where,
			    "bad key-value store name '%s' (1 to %d letters, digits, '-' or '_')",
			    name, CONFIG_APP_NAME_MAX);
	for (size_t i = 0; i < c->nkvs; i++)
		if (!strcmp(c->kvs[i].name, name)) {
			if (out)
				*out = &c->kvs[i];
			return 0;
		}
	if (c->nkvs >= CONFIG_MAX_KV)
		return errf(err, errlen, where, "too many key-value stores (at most %d)",
			    CONFIG_MAX_KV);
	struct kv_config *k = realloc(c->kvs, (c->nkvs + 1) * sizeof(*k));
	if (!k)
		return -ENOMEM;
	c->kvs = k;
	k = &c->kvs[c->nkvs++];
	memset(k, 0, sizeof(*k));
	strcpy(k->name, name);
	set_where(&k->where, where);
	if (out)
		*out = k;
	return 0;
}

static int set_kv(struct tapird_config *c, const char *section, const char *key,
		  const char *value, const char *where, char *err, size_t errlen)
{
	struct kv_config *k;
	int rc = kv_section_check(c, section + 3, where, &k, err, errlen);
	if (rc)
		return rc;
	if (!strcmp(key, "store")) {
		static const char *const kinds[] = { "mem:", "dir:", "tar:", "embedded:" };
		bool ok = false;
		for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
			if (!strncmp(value, kinds[i], strlen(kinds[i])))
				ok = true;
		if (!ok)
			return errf(err, errlen, where,
				    "[%s] store: '%s' is not a store (mem:, dir:PATH, tar:FILE or "
				    "embedded:NAME)", section, value);
		char *v = strdup(value);
		if (!v)
			return -ENOMEM;
		free(k->spec);
		k->spec = v;
		set_where(&k->where_spec, where);
		return 0;
	}
	if (!strcmp(key, "writable")) {
		if (units_parse_bool(value, &k->writable))
			return errf(err, errlen, where, "[%s] writable: '%s' is not true or false",
				    section, value);
		return 0;
	}
	return errf(err, errlen, where, "unknown key '%s' in [%s] (expected store, writable)", key,
		    section);
}

/*
 * section_check() - Check a section name; for [app.NAME] find or create the app
 * @app: Receives the app for app sections (may be NULL)
 */
static int section_check(struct tapird_config *c, const char *section, const char *where,
			 struct app_config **app, char *err, size_t errlen)
{
	enum section_kind k = section_kind(section);
	if (app)
		*app = NULL;
	if (k == SEC_BAD)
		return errf(err, errlen, where,
			    "unknown section [%s] (expected netif, ipv4, arp, icmp, log, tcp, "
			    "kv.NAME or app.NAME)", section);
	if (k == SEC_KV)
		return kv_section_check(c, section + 3, where, NULL, err, errlen);
	if (k != SEC_APP)
		return 0;
	const char *name = section + 4;
	if (!app_name_ok(name))
		return errf(err, errlen, where,
			    "bad application name '%s' (1 to %d letters, digits, '-' or '_')", name,
			    CONFIG_APP_NAME_MAX);
	for (size_t i = 0; i < c->napps; i++)
		if (!strcmp(c->apps[i].name, name)) {
			if (app)
				*app = &c->apps[i];
			return 0;
		}
	if (c->napps >= CONFIG_MAX_APPS)
		return errf(err, errlen, where, "too many applications (at most %d)",
			    CONFIG_MAX_APPS);
	struct app_config *a = realloc(c->apps, (c->napps + 1) * sizeof(*a));
	if (!a)
		return -ENOMEM;
	c->apps = a;
	a = &c->apps[c->napps++];
	memset(a, 0, sizeof(*a));
	strcpy(a->name, name);
	set_where(&a->where, where);
	if (app)
		*app = a;
	return 0;
}

static int app_key_set(struct app_config *a, const char *key, const char *value,
		       const char *where, char *err, size_t errlen)
{
	if (!*key)
		return errf(err, errlen, where, "empty key");
	struct app_key *k = NULL;
	for (size_t i = 0; i < a->nkeys; i++)
		if (!strcmp(a->keys[i].key, key))
			k = &a->keys[i];
	char *v = strdup(value);
	if (!v)
		return -ENOMEM;
	if (k) {  /* given again: the last value wins */
		free(k->value);
		k->value = v;
		set_where(&k->where, where);
		return 0;
	}
	if (a->nkeys >= CONFIG_MAX_APP_KEYS) {
		free(v);
		return errf(err, errlen, where, "too many keys in [app.%s] (at most %d)", a->name,
			    CONFIG_MAX_APP_KEYS);
	}
	char *kk = strdup(key);
	if (!kk) {
		free(v);
		return -ENOMEM;
	}
	k = &a->keys[a->nkeys++];
	k->key = kk;
	k->value = v;
	set_where(&k->where, where);
	return 0;
}

/* ---- keys of the fixed sections ---- */

/* Checks shared by the address and the gateway: a usable unicast address. */
static const char *unicast_problem(uint32_t a)
{
	if ((a >> 24) == 0)
		return "is in 0.0.0.0/8 (this network)";
	if ((a >> 24) == 127)
		return "is a loopback address";
	if ((a >> 28) == 0xe)
		return "is a multicast address";
	if ((a >> 28) == 0xf)
		return "is a reserved or broadcast address";
	return NULL;
}

static uint32_t prefix_mask(uint8_t p)
{
	return p ? 0xffffffffu << (32 - p) : 0;
}

static int set_address(struct tapird_config *c, const char *value, const char *where, char *err,
		       size_t errlen)
{
	char buf[32];
	const char *slash = strchr(value, '/');
	size_t alen = slash ? (size_t)(slash - value) : strlen(value);
	if (!slash || alen >= sizeof(buf))
		return errf(err, errlen, where,
			    "[ipv4] address: '%s' is not ADDRESS/PREFIX (e.g. 192.0.2.2/24)", value);
	memcpy(buf, value, alen);
	buf[alen] = '\0';
	uint32_t a;
	uint64_t p;
	if (units_parse_ipv4(buf, &a))
		return errf(err, errlen, where, "[ipv4] address: '%s' is not an IPv4 address",
			    buf);
	if (units_parse_u64(slash + 1, 32, &p))
		return errf(err, errlen, where,
			    "[ipv4] address: prefix length '%s' is not 0 to 32", slash + 1);
	const char *why = unicast_problem(a);
	if (why)
		return errf(err, errlen, where, "[ipv4] address: %s %s", buf, why);
	uint32_t mask = prefix_mask((uint8_t)p);
	if (p <= 30 && (a & ~mask) == 0)
		return errf(err, errlen, where,
			    "[ipv4] address: %s is the network address of /%u", buf, (unsigned)p);
	if (p <= 30 && (a & ~mask) == ~mask)
		return errf(err, errlen, where,
			    "[ipv4] address: %s is the broadcast address of /%u", buf, (unsigned)p);
	c->addr = a;
	c->prefix_len = (uint8_t)p;
	c->addr_set = true;
	set_where(&c->w_addr, where);
	return 0;
}

static int set_gateway(struct tapird_config *c, const char *value, const char *where, char *err,
		       size_t errlen)
{
	uint32_t a;
	if (!*value || !strcmp(value, "none")) {
		c->gateway = 0;
		set_where(&c->w_gateway, where);
		return 0;
	}
	if (units_parse_ipv4(value, &a))
		return errf(err, errlen, where, "[ipv4] gateway: '%s' is not an IPv4 address",
			    value);
	const char *why = unicast_problem(a);
	if (why)
		return errf(err, errlen, where, "[ipv4] gateway: %s %s", value, why);
	c->gateway = a;
	set_where(&c->w_gateway, where);
	return 0;
}

/* Integer in [min, max] */
static int set_uint(const char *sec, const char *key, const char *value, uint64_t min,
		    uint64_t max, uint64_t *out, const char *where, char *err, size_t errlen)
{
	uint64_t v = 0;
	int rc = units_parse_u64(value, UINT64_MAX, &v);
	if (rc == -EINVAL)
		return errf(err, errlen, where, "[%s] %s: '%s' is not a number", sec, key, value);
	if (rc || v < min || v > max)
		return errf(err, errlen, where,
			    "[%s] %s: %s is out of range (%llu to %llu)", sec, key, value,
			    (unsigned long long)min, (unsigned long long)max);
	*out = v;
	return 0;
}

static int set_duration(const char *sec, const char *key, const char *value, uint64_t min,
			uint64_t max, const char *range, uint64_t *out, const char *where,
			char *err, size_t errlen)
{
	uint64_t v = 0;
	int rc = units_parse_duration(value, &v);
	if (rc == -EINVAL)
		return errf(err, errlen, where,
			    "[%s] %s: '%s' is not a duration (e.g. 500ms, 30s, 2min)", sec, key,
			    value);
	if (rc || v < min || v > max)
		return errf(err, errlen, where, "[%s] %s: %s is out of range (%s)", sec, key,
			    value, range);
	*out = v;
	return 0;
}

static int set_netif(struct tapird_config *c, const char *key, const char *value,
		     const char *where, char *err, size_t errlen)
{
	if (!strncmp(key, "impair.", 7)) {
		char msg[CONFIG_ERR_MAX];
		int rc = impair_config_set(&c->impair, key + 7, value, msg, sizeof(msg));
		if (rc)
			return errf(err, errlen, where, "[netif] %s: %s", key, msg);
		if (!strcmp(key + 7, "seed"))
			c->impair_seed_set = true;
		return 0;
	}
	if (!strcmp(key, "backend")) {
		if (strcmp(value, "tap") && strcmp(value, "pcap") && strcmp(value, "vmnet"))
			return errf(err, errlen, where,
				    "[netif] backend: '%s' is not a backend (tap, pcap or vmnet)",
				    value);
#ifndef __APPLE__
		if (!strcmp(value, "vmnet"))  /* backends/vmnet.c is built on macOS only */
			return errf(err, errlen, where,
				    "[netif] backend: vmnet is macOS-only (vmnet.framework); "
				    "use tap or pcap");
#endif
		strcpy(c->backend, value);
		return 0;
	}
	if (!strcmp(key, "name") || !strcmp(key, "device")) {  /* device: pcap's word */
		size_t len = strlen(value);
		bool ok = len >= 1 && len <= CONFIG_IFNAME_MAX && strcmp(value, ".") &&
			  strcmp(value, "..");
		for (const char *p = value; ok && *p; p++)
			if (*p == '/' || *p == ':' || (unsigned char)*p <= ' ' ||
			    (unsigned char)*p >= 0x7f)
				ok = false;
		if (!ok)
			return errf(err, errlen, where,
				    "[netif] name: '%s' is not an interface name (1 to %d "
				    "printable characters, no '/', ':' or spaces)", value,
				    CONFIG_IFNAME_MAX);
		strcpy(c->ifname, value);
		return 0;
	}
	if (!strcmp(key, "mac")) {
		uint8_t m[6];
		if (units_parse_mac(value, m))
			return errf(err, errlen, where,
				    "[netif] mac: '%s' is not a MAC address (xx:xx:xx:xx:xx:xx)",
				    value);
		if (m[0] & 1)
			return errf(err, errlen, where,
				    "[netif] mac: %s is a multicast address (need unicast)", value);
		static const uint8_t zero[6];
		if (!memcmp(m, zero, 6))
			return errf(err, errlen, where, "[netif] mac: %s is all zeros", value);
		memcpy(c->mac, m, 6);
		c->mac_set = true;
		return 0;
	}
	if (!strcmp(key, "offload")) {
		if (units_parse_bool(value, &c->offload))
			return errf(err, errlen, where, "[netif] offload: '%s' is not true or false",
				    value);
		return 0;
	}
	if (!strcmp(key, "mtu")) {
		uint64_t v = 0;
		int rc = set_uint("netif", key, value, 68, 65521, &v, where, err, errlen);
		if (!rc)
			c->mtu = (uint32_t)v;
		return rc;
	}
	return errf(err, errlen, where,
		    "unknown key '%s' in [netif] (expected backend, name, device, mac, mtu, offload, impair.*)",
		    key);
}

static int set_ipv4(struct tapird_config *c, const char *key, const char *value,
		    const char *where, char *err, size_t errlen)
{
	uint64_t v = 0;
	int rc;
	if (!strcmp(key, "address"))
		return set_address(c, value, where, err, errlen);
	if (!strcmp(key, "gateway"))
		return set_gateway(c, value, where, err, errlen);
	if (!strcmp(key, "ttl")) {
		rc = set_uint("ipv4", key, value, 1, 255, &v, where, err, errlen);
		if (!rc)
			c->ttl = (uint8_t)v;
		return rc;
	}
	if (!strcmp(key, "reassembly_max_bytes")) {
		rc = units_parse_size(value, &v);
		if (rc == -EINVAL)
			return errf(err, errlen, where,
				    "[ipv4] %s: '%s' is not a size (e.g. 4194304, 4MiB)", key,
				    value);
		if (rc || v < 65535 || v > (1ull << 30))
			return errf(err, errlen, where,
				    "[ipv4] %s: %s is out of range (64KiB to 1GiB)", key, value);
		c->reasm_max_bytes = v;
		return 0;
	}
	if (!strcmp(key, "reassembly_timeout"))
		return set_duration("ipv4", key, value, 1000000, 3600 * NS_PER_SEC, "1ms to 1h",
				    &c->reasm_timeout_ns, where, err, errlen);
	return errf(err, errlen, where,
		    "unknown key '%s' in [ipv4] (expected address, gateway, ttl, "
		    "reassembly_max_bytes, reassembly_timeout)", key);
}

static int set_arp(struct tapird_config *c, const char *key, const char *value,
		   const char *where, char *err, size_t errlen)
{
	if (!strcmp(key, "cache_size"))
		return set_uint("arp", key, value, 1, 1u << 20, &c->arp_cache_size, where, err,
				errlen);
	if (!strcmp(key, "timeout"))
		return set_duration("arp", key, value, NS_PER_SEC, 86400 * NS_PER_SEC,
				    "1s to 24h", &c->arp_timeout_ns, where, err, errlen);
	return errf(err, errlen, where,
		    "unknown key '%s' in [arp] (expected cache_size, timeout)", key);
}

static int set_icmp(struct tapird_config *c, const char *key, const char *value,
		    const char *where, char *err, size_t errlen)
{
	uint64_t v = 0;
	int rc;
	if (!strcmp(key, "error_rate") || !strcmp(key, "error_burst")) {
		rc = set_uint("icmp", key, value, 0, 1000000, &v, where, err, errlen);
		if (rc)
			return rc;
		if (key[6] == 'r')
			c->icmp_error_rate = (uint32_t)v;
		else
			c->icmp_error_burst = (uint32_t)v;
		return 0;
	}
	return errf(err, errlen, where,
		    "unknown key '%s' in [icmp] (expected error_rate, error_burst)", key);
}

/* A size in bytes in [min, max] ("256KiB", "1MiB", "65536") */
static int set_size(const char *sec, const char *key, const char *value, uint64_t min,
		    uint64_t max, uint64_t *out, const char *where, char *err, size_t errlen)
{
	uint64_t v = 0;
	int rc = units_parse_size(value, &v);
	if (rc == -EINVAL)
		return errf(err, errlen, where, "[%s] %s: '%s' is not a size (e.g. 256KiB)", sec,
			    key, value);
	if (rc || v < min || v > max)
		return errf(err, errlen, where, "[%s] %s: %s is out of range (%llu to %llu bytes)",
			    sec, key, value, (unsigned long long)min, (unsigned long long)max);
	*out = v;
	return 0;
}

static int set_tcp_bool(const char *key, const char *value, bool *out, const char *where,
			char *err, size_t errlen)
{
	if (units_parse_bool(value, out))
		return errf(err, errlen, where, "[tcp] %s: '%s' is not true or false", key, value);
	return 0;
}

/*
 * [tcp]: the defaults of every flow (libstack's struct tcp_config).  The
 * floors follow RFC 1122 4.2.3.5 (R2 of at least 100 s: with a 200 ms
 * minimum RTO and doubling, 8 retransmissions take more than 100 s) and
 * 3 minutes for SYNs (6 retries from a 1 s RTO).
 */
static int set_tcp(struct tapird_config *c, const char *key, const char *value,
		   const char *where, char *err, size_t errlen)
{
	struct tcp_config *t = &c->tcp;
	uint64_t v = 0;
	int rc;

	if (!strcmp(key, "keepalive"))
		return set_tcp_bool(key, value, &t->keepalive, where, err, errlen);
	if (!strcmp(key, "keepalive_idle"))
		return set_duration("tcp", key, value, NS_PER_SEC, 86400 * 7 * NS_PER_SEC,
				    "1s to 7d", &t->keepalive_idle_ns, where, err, errlen);
	if (!strcmp(key, "keepalive_interval"))
		return set_duration("tcp", key, value, NS_PER_SEC, 86400 * NS_PER_SEC,
				    "1s to 24h", &t->keepalive_intvl_ns, where, err, errlen);
	if (!strcmp(key, "keepalive_count")) {
		rc = set_uint("tcp", key, value, 1, 1000, &v, where, err, errlen);
		if (!rc)
			t->keepalive_count = (unsigned)v;
		return rc;
	}
	if (!strcmp(key, "nodelay"))
		return set_tcp_bool(key, value, &t->nodelay, where, err, errlen);
	if (!strcmp(key, "syn_cookies"))
		return set_tcp_bool(key, value, &t->syn_cookies, where, err, errlen);
	if (!strcmp(key, "congestion_control")) {
		if (!strcmp(value, "newreno"))
			t->cc = TCP_CC_NEWRENO;
		else if (!strcmp(value, "cubic"))
			t->cc = TCP_CC_CUBIC;
		else
			return errf(err, errlen, where,
				    "[tcp] %s: '%s' is not newreno or cubic", key, value);
		return 0;
	}
	if (!strcmp(key, "sndbuf") || !strcmp(key, "rcvbuf")) {
		rc = set_size("tcp", key, value, 4096, 64u << 20, &v, where, err, errlen);
		if (rc)
			return rc;
		if (key[0] == 's') {
			t->sndbuf = (size_t)v;
		} else {
			t->rcvbuf = (size_t)v;
			t->ooo_max_bytes = (size_t)v;
		}
		return 0;
	}
	if (!strcmp(key, "msl"))
		return set_duration("tcp", key, value, NS_PER_SEC / 1000, 600 * NS_PER_SEC,
				    "1ms to 10min", &t->msl_ns, where, err, errlen);
	if (!strcmp(key, "fin_wait2_timeout"))
		return set_duration("tcp", key, value, NS_PER_SEC, 3600 * NS_PER_SEC, "1s to 1h",
				    &t->fin_wait2_ns, where, err, errlen);
	if (!strcmp(key, "backlog") || !strcmp(key, "max_connections")) {
		rc = set_uint("tcp", key, value, 1, 1u << 20, &v, where, err, errlen);
		if (rc)
			return rc;
		if (key[0] == 'b')
			t->backlog = (size_t)v;
		else
			t->max_connections = (size_t)v;
		return 0;
	}
	if (!strcmp(key, "max_retries") || !strcmp(key, "syn_retries")) {
		rc = set_uint("tcp", key, value, key[0] == 'm' ? 8 : 1, 100, &v, where, err,
			      errlen);
		if (rc)
			return rc;
		if (key[0] == 'm')
			t->max_retries = (unsigned)v;
		else
			t->syn_retries = (unsigned)v;
		return 0;
	}
	return errf(err, errlen, where,
		    "unknown key '%s' in [tcp] (expected keepalive, keepalive_idle, "
		    "keepalive_interval, keepalive_count, nodelay, congestion_control, sndbuf, "
		    "rcvbuf, msl, fin_wait2_timeout, backlog, max_connections, max_retries, "
		    "syn_retries, syn_cookies)", key);
}

static int set_log(struct tapird_config *c, const char *key, const char *value,
		   const char *where, char *err, size_t errlen)
{
	if (!strcmp(key, "level")) {
		static const struct { const char *name; enum config_log_level l; } lv[] = {
			{ "error", CONFIG_LOG_ERR }, { "err", CONFIG_LOG_ERR },
			{ "warn", CONFIG_LOG_WARN }, { "warning", CONFIG_LOG_WARN },
			{ "info", CONFIG_LOG_INFO }, { "debug", CONFIG_LOG_DEBUG },
		};
		for (size_t i = 0; i < sizeof(lv) / sizeof(lv[0]); i++)
			if (!strcmp(value, lv[i].name)) {
				c->log_level = lv[i].l;
				return 0;
			}
		return errf(err, errlen, where,
			    "[log] level: '%s' is not a level (error, warn, info, debug)", value);
	}
	if (!strcmp(key, "timestamps")) {
		if (units_parse_bool(value, &c->log_timestamps))
			return errf(err, errlen, where,
				    "[log] timestamps: '%s' is not true or false", value);
		return 0;
	}
	return errf(err, errlen, where, "unknown key '%s' in [log] (expected level, timestamps)",
		    key);
}

/* [control]: name, socket, enabled */
static int set_control(struct tapird_config *c, const char *key, const char *value,
		       const char *where, char *err, size_t errlen)
{
	if (!strcmp(key, "name")) {
		size_t n = strlen(value);
		bool ok = n >= 1 && n < sizeof(c->control_name) && value[0] != '.';
		for (const char *p = value; ok && *p; p++)
			ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			     (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.';
		if (!ok)
			return errf(err, errlen, where,
				    "[control] name: '%s' is not an instance name (1 to 32 letters, "
				    "digits, '-', '_' or '.', not first)", value);
		strcpy(c->control_name, value);
		return 0;
	}
	if (!strcmp(key, "socket")) {
		if (value[0] != '/' || strlen(value) >= sizeof(c->control_socket))
			return errf(err, errlen, where,
				    "[control] socket: '%s' is not an absolute path of at most "
				    "107 bytes", value);
		strcpy(c->control_socket, value);
		return 0;
	}
	if (!strcmp(key, "enabled")) {
		bool on;
		if (units_parse_bool(value, &on))
			return errf(err, errlen, where,
				    "[control] enabled: '%s' is not true or false", value);
		c->control_disabled = !on;
		return 0;
	}
	if (!strcmp(key, "user")) {
		size_t n = strlen(value);
		bool ok = n >= 1 && n < sizeof(c->control_user);
		for (const char *p = value; ok && *p; p++)
			ok = (unsigned char)*p > ' ' && (unsigned char)*p < 0x7f && *p != ':' &&
			     *p != '/';
		if (!ok)
			return errf(err, errlen, where, "[control] user: '%s' is not a user name",
				    value);
		strcpy(c->control_user, value);
		return 0;
	}
	if (!strcmp(key, "sandbox")) {
		if (units_parse_bool(value, &c->sandbox))
			return errf(err, errlen, where,
				    "[control] sandbox: '%s' is not true or false", value);
		return 0;
	}
	return errf(err, errlen, where,
		    "unknown key '%s' in [control] (expected name, socket, enabled, user, "
		    "sandbox)", key);
}

int config_set(struct tapird_config *c, const char *section, const char *key, const char *value,
	       const char *where, char *err, size_t errlen)
{
	struct app_config *app;
	if (!*section)
		return errf(err, errlen, where, "key '%s' outside of a [section]", key);
	if (!strcmp(section, "control"))
		return set_control(c, key, value, where, err, errlen);
	int rc = section_check(c, section, where, &app, err, errlen);
	if (rc)
		return rc;
	if (!*key)
		return errf(err, errlen, where, "empty key in [%s]", section);
	switch (section_kind(section)) {
	case SEC_NETIF:
		return set_netif(c, key, value, where, err, errlen);
	case SEC_IPV4:
		return set_ipv4(c, key, value, where, err, errlen);
	case SEC_ARP:
		return set_arp(c, key, value, where, err, errlen);
	case SEC_ICMP:
		return set_icmp(c, key, value, where, err, errlen);
	case SEC_LOG:
		return set_log(c, key, value, where, err, errlen);
	case SEC_TCP:
		return set_tcp(c, key, value, where, err, errlen);
	case SEC_APP:
		return app_key_set(app, key, value, where, err, errlen);
	case SEC_KV:
		return set_kv(c, section, key, value, where, err, errlen);
	case SEC_BAD:
		break;
	}
	return -EINVAL;  /* not reached: section_check() refused it */
}

/* ---- INI text ---- */

/*
 * The reader hands inih one line at a time, so that we know the line number
 * of every key, see sections that have no keys, refuse NUL bytes and
 * overlong lines (which inih would silently split), and get an error out.
 */
struct ini_state {
	struct tapird_config *c;
	const char *name;
	const char *text;
	size_t len, pos;
	unsigned line;
	bool prev_name;  /* a key was seen since the last section (continuation) */
	int rc;          /* first error */
	unsigned err_line;
	char *err;
	size_t errlen;
};

static void ini_error(struct ini_state *s, int rc, const char *msg)
{
	if (s->rc)
		return;
	s->rc = rc;
	s->err_line = s->line;
	if (msg && s->err && s->errlen)
		snprintf(s->err, s->errlen, "%s", msg);
}

static void where_line(const struct ini_state *s, char *buf, size_t len)
{
	snprintf(buf, len, "%s:%u", s->name, s->line);
}

static bool is_inline_comment(const char *start, const char *p)
{
	return *p == ';' && p > start && (p[-1] == ' ' || p[-1] == '\t');
}

/* Mirror of inih's line classification, for section headers only. */
static void ini_see_line(struct ini_state *s, const char *line)
{
	const char *start = line;
	if (s->line == 1 && (unsigned char)start[0] == 0xEF && (unsigned char)start[1] == 0xBB &&
	    (unsigned char)start[2] == 0xBF)
		start += 3;
	while (*start == ' ' || *start == '\t' || *start == '\r' || *start == '\n' ||
	       *start == '\f' || *start == '\v')
		start++;
	if (*start == '\0' || *start == ';' || *start == '#')
		return;
	if (s->prev_name && start > line)
		return;  /* continuation of the previous value */
	if (*start == '[') {
		const char *p = start + 1;
		while (*p && *p != ']' && !is_inline_comment(start + 1, p))
			p++;
		if (*p != ']')
			return;  /* inih reports it */
		char section[CONFIG_WHERE_MAX];
		size_t n = (size_t)(p - start - 1);
		char where[CONFIG_WHERE_MAX];
		where_line(s, where, sizeof(where));
		s->prev_name = false;
		if (n >= 50) {  /* inih would truncate it */
			char msg[CONFIG_ERR_MAX];
			errf(msg, sizeof(msg), where, "section name too long");
			ini_error(s, -EINVAL, msg);
			return;
		}
		memcpy(section, start + 1, n);
		section[n] = '\0';
		char msg[CONFIG_ERR_MAX];
		int rc = strcmp(section, "control") ?
			 section_check(s->c, section, where, NULL, msg, sizeof(msg)) : 0;
		if (rc)
			ini_error(s, rc, msg);
		return;
	}
	/* name=value (or name:value): a name that later lines may continue */
	const char *p = start;
	while (*p && *p != '=' && *p != ':' && !is_inline_comment(start, p))
		p++;
	if (*p == '=' || *p == ':') {
		const char *e = p;
		while (e > start && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		s->prev_name = e > start;
	}
}

static char *cfg_ini_reader(char *str, int num, void *stream)
{
	struct ini_state *s = stream;
	if (s->pos >= s->len || num < 2)
		return NULL;
	const char *p = s->text + s->pos;
	size_t rest = s->len - s->pos;
	const char *nl = memchr(p, '\n', rest);
	size_t n = nl ? (size_t)(nl - p) + 1 : rest;
	s->line++;
	if (memchr(p, '\0', n)) {
		char where[CONFIG_WHERE_MAX], msg[CONFIG_ERR_MAX];
		where_line(s, where, sizeof(where));
		errf(msg, sizeof(msg), where, "NUL byte in the line");
		ini_error(s, -EINVAL, msg);
		return NULL;
	}
	size_t content = n;
	if (content && p[content - 1] == '\n')
		content--;
	if (content && p[content - 1] == '\r')
		content--;
	if (content > CONFIG_MAX_LINE || n > (size_t)num - 1) {
		char where[CONFIG_WHERE_MAX], msg[CONFIG_ERR_MAX];
		where_line(s, where, sizeof(where));
		errf(msg, sizeof(msg), where, "line too long (at most %d characters)",
		     CONFIG_MAX_LINE);
		ini_error(s, -EINVAL, msg);
		return NULL;
	}
	memcpy(str, p, n);
	str[n] = '\0';
	s->pos += n;
	ini_see_line(s, str);
	return str;
}

static int cfg_ini_handler(void *user, const char *section, const char *name, const char *value)
{
	struct ini_state *s = user;
	char where[CONFIG_WHERE_MAX], msg[CONFIG_ERR_MAX];
	if (s->rc)
		return 1;  /* the first error is the one reported */
	where_line(s, where, sizeof(where));
	int rc = config_set(s->c, section, name, value, where, msg, sizeof(msg));
	if (rc) {
		ini_error(s, rc, rc == -ENOMEM ? "out of memory" : msg);
		return 0;
	}
	return 1;
}

int config_parse_ini(struct tapird_config *c, const char *name, const char *text, size_t len,
		     char *err, size_t errlen)
{
	struct ini_state s = {
		.c = c, .name = name, .text = text, .len = len, .err = err, .errlen = errlen,
	};
	int r = ini_parse_stream(cfg_ini_reader, &s, cfg_ini_handler, &s);
	/* Our first error, unless inih found a syntax error on an earlier line. */
	if (r > 0 && (!s.rc || (unsigned)r < s.err_line)) {
		if (err && errlen)
			snprintf(err, errlen,
				 "%s:%d: syntax error (expected [section], key = value or a "
				 "comment)", name, r);
		return -EINVAL;
	}
	if (s.rc)
		return s.rc;
	if (r == -2) {
		if (err && errlen)
			snprintf(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	if (r < 0) {
		if (err && errlen)
			snprintf(err, errlen, "%s: cannot be parsed", name);
		return -EINVAL;
	}
	return 0;
}

int config_load_file(struct tapird_config *c, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		int e = errno;
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	char *buf = malloc(CONFIG_MAX_FILE + 1);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	size_t len = fread(buf, 1, CONFIG_MAX_FILE + 1, f);
	int rerr = ferror(f) ? errno : 0;
	fclose(f);
	int rc;
	if (rerr) {
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(rerr));
		rc = -rerr;
	} else if (len > CONFIG_MAX_FILE) {
		if (err && errlen)
			snprintf(err, errlen, "%s: file too large (at most %u bytes)", path,
				 CONFIG_MAX_FILE);
		rc = -EINVAL;
	} else {
		rc = config_parse_ini(c, path, buf, len, err, errlen);
	}
	free(buf);
	return rc;
}

/* ---- boot arguments ---- */

int config_apply_args(struct tapird_config *c, char *const *args, size_t nargs, char *err,
		      size_t errlen)
{
	size_t total = 1;
	for (size_t i = 0; i < nargs; i++)
		total += strlen(args[i]) + 1;
	char *line = malloc(total);
	if (!line)
		return -ENOMEM;
	size_t pos = 0;
	for (size_t i = 0; i < nargs; i++) {
		size_t l = strlen(args[i]);
		if (i)
			line[pos++] = ' ';
		memcpy(line + pos, args[i], l);
		pos += l;
	}
	line[pos] = '\0';

	char **tok;
	size_t ntok;
	char msg[CONFIG_ERR_MAX];
	int rc = bootargs_tokenize(line, &tok, &ntok, msg, sizeof(msg));
	if (rc) {
		if (err && errlen)
			snprintf(err, errlen, "arguments '%s': %s", line, msg);
		free(line);
		return rc;
	}
	free(line);
	for (size_t i = 0; i < ntok && !rc; i++) {
		char where[CONFIG_WHERE_MAX];
		snprintf(where, sizeof(where), "argument '%s'", tok[i]);
		struct bootarg a;
		rc = bootarg_split(tok[i], &a, msg, sizeof(msg));
		if (rc) {
			errf(err, errlen, where, "%s", msg);
			break;
		}
		rc = config_set(c, a.section, a.key, a.value, where, err, errlen);
		bootarg_release(&a);
	}
	bootargs_free(tok, ntok);
	return rc;
}

/* ---- checks across keys ---- */

/* An app of a type from outside: check its keys against the type's list. */
static int finish_ext_app(struct app_config *a, const struct config_ext_type *t, char *err,
			  size_t errlen)
{
	a->type = t->name;
	for (size_t i = 0; i < a->nkeys; i++) {
		const struct app_key *k = &a->keys[i];
		bool known = !strcmp(k->key, "type");
		for (size_t j = 0; !known && t->keys && t->keys[j]; j++)
			known = !strcmp(t->keys[j], k->key);
		if (!known)
			return errf(err, errlen, k->where.text,
				    "unknown key '%s' in [app.%s] (type %s)", k->key, a->name,
				    t->name);
	}
	return 0;
}

static int finish_app(const struct tapird_config *c, struct app_config *a, char *err,
		      size_t errlen)
{
	const char *type = a->name;
	const struct config_where *type_where = &a->where;
	for (size_t i = 0; i < a->nkeys; i++)
		if (!strcmp(a->keys[i].key, "type")) {
			type = a->keys[i].value;
			type_where = &a->keys[i].where;
		}
	const struct app_conf_type *t = app_conf_type(type);
	if (!t) {
		for (size_t i = 0; i < c->n_ext_types; i++)
			if (!strcmp(c->ext_types[i].name, type))
				return finish_ext_app(a, &c->ext_types[i], err, errlen);
	}
	if (!t) {
		if (type == a->name)
			return errf(err, errlen, type_where->text,
				    "[app.%s]: unknown application type '%s' (set type = one of " APP_TYPE_NAMES ")",
				    a->name, type);
		return errf(err, errlen, type_where->text,
			    "[app.%s] type: unknown application type '%s' (known: " APP_TYPE_NAMES ")", a->name,
			    type);
	}
	a->type = t->name;
	t->defaults(&a->params);
	for (size_t i = 0; i < a->nkeys; i++) {
		const struct app_key *k = &a->keys[i];
		char msg[CONFIG_ERR_MAX] = "";
		if (!strcmp(k->key, "type"))
			continue;
		int rc = t->set(&a->params, k->key, k->value, msg, sizeof(msg));
		if (rc == -ENOENT)
			return errf(err, errlen, k->where.text,
				    "unknown key '%s' in [app.%s] (type %s)", k->key, a->name,
				    t->name);
		if (rc)
			return errf(err, errlen, k->where.text, "[app.%s] %s: %s", a->name, k->key,
				    msg);
	}
	return 0;
}

/* Where an app's @key came from: the key's line, else the section's. */
static const char *key_where(const struct app_config *a, const char *key)
{
	for (size_t i = 0; i < a->nkeys; i++)
		if (!strcmp(a->keys[i].key, key))
			return a->keys[i].where.text;
	return a->where.text;
}

/* Where the app's UDP port came from: its port key, else its section. */
static const char *port_where(const struct app_config *a)
{
	return key_where(a, "port");
}

int config_finish(struct tapird_config *c, const char *source, char *err, size_t errlen)
{
	char ab[16], gb[16];
	if (!c->addr_set)
		return errf(err, errlen, source, "[ipv4] address is required");
	if (c->gateway) {
		uint32_t mask = prefix_mask(c->prefix_len);
		const char *gw = c->w_gateway.text;
		config_format_ipv4(c->gateway, gb);
		config_format_ipv4(c->addr, ab);
		if (c->gateway == c->addr)
			return errf(err, errlen, gw, "[ipv4] gateway: %s is our own address", gb);
		if ((c->gateway & mask) != (c->addr & mask) || c->prefix_len == 32)
			return errf(err, errlen, gw,
				    "[ipv4] gateway: %s is not on the subnet of %s/%u", gb, ab,
				    c->prefix_len);
		if (c->prefix_len <= 30 && (c->gateway & ~mask) == 0)
			return errf(err, errlen, gw,
				    "[ipv4] gateway: %s is the network address of %s/%u", gb, ab,
				    c->prefix_len);
		if (c->prefix_len <= 30 && (c->gateway & ~mask) == ~mask)
			return errf(err, errlen, gw,
				    "[ipv4] gateway: %s is the broadcast address of %s/%u", gb,
				    ab, c->prefix_len);
	}
	for (size_t i = 0; i < c->nkvs; i++)
		if (!c->kvs[i].spec)
			return errf(err, errlen, c->kvs[i].where.text,
				    "[kv.%s]: store = SPEC is required", c->kvs[i].name);
	for (size_t i = 0; i < c->napps; i++) {
		int rc = finish_app(c, &c->apps[i], err, errlen);
		if (rc)
			return rc;
		const struct app_config *a = &c->apps[i];
		bool kvhttp = !strcmp(a->type, "kvhttp");
		if (!kvhttp && strcmp(a->type, "http"))
			continue;
		const struct kv_config *kv = a->params.http.kv[0] ?
			config_kv_find(c, a->params.http.kv) : NULL;
		if (!a->params.http.kv[0])
			return errf(err, errlen, a->where.text,
				    "[app.%s]: kv = NAME (a [kv.NAME] section) is required", a->name);
		if (!kv)
			return errf(err, errlen, key_where(a, "kv"),
				    "[app.%s] kv: no section [kv.%s]", a->name, a->params.http.kv);
		if (kvhttp && !kv->writable)
			return errf(err, errlen, key_where(a, "kv"),
				    "[app.%s] kv: [kv.%s] is read-only (kvhttp needs writable = true)",
				    a->name, kv->name);
	}
	for (size_t i = 0; i < c->napps; i++) {
		const struct app_conf_type *ti = app_conf_type(c->apps[i].type);
		if (!ti)
			continue;  /* a type from outside: no ports known */
		for (int tcp = 0; tcp < 2; tcp++) {
			uint16_t (*port_i)(const union app_params *) = tcp ? ti->tcp_port : ti->udp_port;
			uint16_t pi = port_i ? port_i(&c->apps[i].params) : 0;
			for (size_t j = 0; pi && j < i; j++) {
				const struct app_conf_type *tj = app_conf_type(c->apps[j].type);
				if (!tj)
					continue;
				uint16_t (*port_j)(const union app_params *) =
					tcp ? tj->tcp_port : tj->udp_port;
				if (port_j && port_j(&c->apps[j].params) == pi)
					return errf(err, errlen, port_where(&c->apps[i]),
						    "[app.%s]: %s port %u is already used by [app.%s]",
						    c->apps[i].name, tcp ? "TCP" : "UDP", pi,
						    c->apps[j].name);
			}
		}
	}
	return 0;
}

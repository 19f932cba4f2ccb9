/*
 * config.c - tapird's configuration: sections, apps, boot arguments, validation
 *
 * What each key accepts is in the key tables (config_keys.c, tapir/conf.h); the
 * INI syntax is ini_read.c's.  This file finds the section of a key, keeps the
 * [app.NAME] keys until the type is known, and checks across keys.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootargs.h"
#include "ini_read.h"
#include "tapir/conf.h"
#include "tapir/stack.h"

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

const char *config_log_level_name(enum tapir_log_level l)
{
	static const char *const names[] = {
		[TAPIR_LOG_LEVEL_ERR] = "error",
		[TAPIR_LOG_LEVEL_WARN] = "warn",
		[TAPIR_LOG_LEVEL_INFO] = "info",
		[TAPIR_LOG_LEVEL_DEBUG] = "debug",
	};
	_Static_assert(sizeof(names) / sizeof(names[0]) == TAPIR_LOG_LEVEL_DEBUG + 1, "log names");
	return (unsigned)l <= TAPIR_LOG_LEVEL_DEBUG ? names[l] : "?";
}

/* ---- init / free ---- */

void config_init(struct tapird_config *c)
{
	char msg[CONFIG_ERR_MAX];
	memset(c, 0, sizeof(*c));
	/* The tables' defaults; [tcp]'s are libstack's, impair.* backends/impair's */
	for (size_t i = 0; i < config_nsections; i++)
		tapir_conf_keys_defaults(config_sections[i].keys, config_sections[i].nkeys,
				   (char *)c + config_sections[i].offset, msg, sizeof(msg));
	tapir_tcp_config_defaults(&c->tcp);
	c->ipv6.neigh_cache_size = 256;
	impair_config_defaults(&c->impair);
	c->prefix_len = 24;
	c->gw.forward_addr = 0x7f000001;  /* 127.0.0.1 */
	c->gw.forward_v4 = true;
	c->gw.forward_v6 = true;
	c->gw.forward_addr6[15] = 1;      /* ::1 */
}

void config_free(struct tapird_config *c)
{
	for (size_t i = 0; i < c->napps; i++) {
		for (size_t k = 0; k < c->apps[i].nkeys; k++) {
			free(c->apps[i].keys[k].key);
			free(c->apps[i].keys[k].value);
		}
		free(c->apps[i].params);
	}
	free(c->apps);
	c->apps = NULL;
	c->napps = 0;
	for (size_t i = 0; i < c->nkvs; i++)
		free(c->kvs[i].spec);
	free(c->kvs);
	c->kvs = NULL;
	c->nkvs = 0;
	free(c->dns_hosts);
	c->dns_hosts = NULL;
	c->dns_nhosts = 0;
}

const struct kv_config *config_kv_find(const struct tapird_config *c, const char *name)
{
	for (size_t i = 0; i < c->nkvs; i++)
		if (!strcmp(c->kvs[i].name, name))
			return &c->kvs[i];
	return NULL;
}

/* ---- sections ---- */

/* Return: the fixed section called @name, or NULL */
static const struct config_section *fixed_section(const char *name)
{
	for (size_t i = 0; i < config_nsections; i++)
		if (!strcmp(config_sections[i].name, name))
			return &config_sections[i];
	return NULL;
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
	char msg[CONFIG_ERR_MAX];
	tapir_conf_keys_defaults(config_kv_keys, config_kv_nkeys, k, msg, sizeof(msg));
	if (out)
		*out = k;
	return 0;
}

/* A key of a table (@keys over @base): unknown keys and bad values are errors */
static int set_by_table(const struct tapir_conf_key *keys, size_t nkeys, const char *more,
			void *base, const char *section, const char *key, const char *value,
			const char *where, char *err, size_t errlen)
{
	char msg[CONFIG_ERR_MAX], names[CONFIG_ERR_MAX];
	const struct tapir_conf_key *k = tapir_conf_key_find(keys, nkeys, key);
	if (!k)
		return errf(err, errlen, where, "unknown key '%s' in [%s] (expected %s%s)", key,
			    section, tapir_conf_keys_names(keys, nkeys, names, sizeof(names)), more);
	int rc = tapir_conf_key_set(k, base, value, where, msg, sizeof(msg));
	if (rc == -EINVAL)
		return errf(err, errlen, where, "[%s] %s: %s", section, key, msg);
	return rc;
}

/*
 * section_check() - Check a section name; for [app.NAME] find or create the app
 * @app: Receives the app for app sections (may be NULL)
 */
static int section_check(struct tapird_config *c, const char *section, const char *where,
			 struct app_config **app, char *err, size_t errlen)
{
	if (app)
		*app = NULL;
	if (fixed_section(section))
		return 0;
	if (!strncmp(section, "kv.", 3))
		return kv_section_check(c, section + 3, where, NULL, err, errlen);
	if (strncmp(section, "app.", 4))
		return errf(err, errlen, where,
			    "unknown section [%s] (expected netif, ipv4, arp, icmp, log, tcp, "
			    "control, dhcp, kv.NAME or app.NAME)", section);
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

int config_set(struct tapird_config *c, const char *section, const char *key, const char *value,
	       const char *where, char *err, size_t errlen)
{
	struct app_config *app;
	if (!*section)
		return errf(err, errlen, where, "key '%s' outside of a [section]", key);
	int rc = section_check(c, section, where, &app, err, errlen);
	if (rc)
		return rc;
	if (!*key)
		return errf(err, errlen, where, "empty key in [%s]", section);
	if (app)
		return app_key_set(app, key, value, where, err, errlen);
	if (!strncmp(section, "kv.", 3)) {
		struct kv_config *k;
		rc = kv_section_check(c, section + 3, where, &k, err, errlen);
		return rc ? rc : set_by_table(config_kv_keys, config_kv_nkeys, "", k, section, key,
					      value, where, err, errlen);
	}
	if (!strcmp(section, "netif") && !strncmp(key, "impair.", 7)) {
		char msg[CONFIG_ERR_MAX];
		rc = impair_config_set(&c->impair, key + 7, value, msg, sizeof(msg));
		if (rc)
			return errf(err, errlen, where, "[netif] %s: %s", key, msg);
		if (!strcmp(key + 7, "seed"))
			c->impair_seed_set = true;
		return 0;
	}
	const struct config_section *sec = fixed_section(section);
	return set_by_table(sec->keys, sec->nkeys, sec->more, (char *)c + sec->offset, section, key,
			    value, where, err, errlen);
}

/* ---- INI text ---- */

static int ini_section(void *ctx, const char *section, const char *where, char *err,
		       size_t errlen)
{
	return section_check(ctx, section, where, NULL, err, errlen);
}

static int ini_set(void *ctx, const char *section, const char *key, const char *value,
		   const char *where, char *err, size_t errlen)
{
	return config_set(ctx, section, key, value, where, err, errlen);
}

static const struct conf_ini_ops config_ini_ops = { ini_section, ini_set };

int config_parse_ini(struct tapird_config *c, const char *name, const char *text, size_t len,
		     char *err, size_t errlen)
{
	return conf_ini_parse(name, text, len, &config_ini_ops, c, err, errlen);
}

int config_load_file(struct tapird_config *c, const char *path, char *err, size_t errlen)
{
	return conf_ini_load(path, &config_ini_ops, c, err, errlen);
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

/* "a, b, c": the names of @types into @buf.  Return: @buf */
static char *type_names(const struct tapir_app_conf_type *const *types, size_t ntypes, char *buf,
			size_t len)
{
	size_t pos = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < ntypes && pos < len; i++) {
		int w = snprintf(buf + pos, len - pos, "%s%s", i ? ", " : "", types[i]->name);
		if (w < 0)
			break;
		pos += (size_t)w;
	}
	return buf;
}

/* What a type's check() sees (struct tapir_app_check's callbacks) */
struct check_priv {
	const struct tapird_config *c;
	const struct app_config *a;
};

static const char *check_key_where(const struct tapir_app_check *k, const char *key)
{
	const struct check_priv *p = k->priv;
	return config_app_where(p->a, key);
}

static bool check_kv_section(const struct tapir_app_check *k, const char *name, bool *writable)
{
	const struct check_priv *p = k->priv;
	const struct kv_config *kv = config_kv_find(p->c, name);
	if (kv && writable)
		*writable = kv->writable;
	return kv != NULL;
}

/* An app: its type from @types, its params from the type's defaults and keys,
 * then the type's check. */
static int finish_app(const struct tapird_config *c, struct app_config *a,
		      const struct tapir_app_conf_type *const *types, size_t ntypes, char *err,
		      size_t errlen)
{
	char msg[CONFIG_ERR_MAX], names[CONFIG_ERR_MAX];
	const char *type = a->name;
	const struct config_where *type_where = &a->where;
	for (size_t i = 0; i < a->nkeys; i++)
		if (!strcmp(a->keys[i].key, "type")) {
			type = a->keys[i].value;
			type_where = &a->keys[i].where;
		}
	const struct tapir_app_conf_type *t = NULL;
	size_t ti;
	for (ti = 0; ti < ntypes && !t; ti++)
		if (!strcmp(types[ti]->name, type))
			t = types[ti];
	if (!t) {
		type_names(types, ntypes, names, sizeof(names));
		if (type == a->name)
			return errf(err, errlen, type_where->text,
				    "[app.%s]: unknown application type '%s' (set type = one of %s)",
				    a->name, type, names);
		return errf(err, errlen, type_where->text,
			    "[app.%s] type: unknown application type '%s' (known: %s)", a->name,
			    type, names);
	}
	a->type = t->name;
	a->ctype = t;
	a->type_index = ti - 1;
	free(a->params);
	a->params = calloc(1, t->params_size ? t->params_size : 1);
	if (!a->params)
		return -ENOMEM;
	int rc = tapir_conf_keys_defaults(t->keys, t->nkeys, a->params, msg, sizeof(msg));
	if (rc == -EINVAL)  /* the type's own table is wrong */
		return errf(err, errlen, a->where.text, "[app.%s]: a default of type %s: %s",
			    a->name, t->name, msg);
	if (rc)
		return rc;
	for (size_t i = 0; i < a->nkeys; i++) {
		const struct app_key *k = &a->keys[i];
		if (!strcmp(k->key, "type"))
			continue;
		const struct tapir_conf_key *ck = tapir_conf_key_find(t->keys, t->nkeys, k->key);
		if (!ck && t->nkeys)
			return errf(err, errlen, k->where.text,
				    "unknown key '%s' in [app.%s] (type %s), expected %s", k->key,
				    a->name, t->name, tapir_conf_keys_names(t->keys, t->nkeys, names,
								      sizeof(names)));
		if (!ck)
			return errf(err, errlen, k->where.text,
				    "unknown key '%s' in [app.%s] (type %s), which takes none",
				    k->key, a->name, t->name);
		rc = tapir_conf_key_set(ck, a->params, k->value, k->where.text, msg, sizeof(msg));
		if (rc == -EINVAL)
			return errf(err, errlen, k->where.text, "[app.%s] %s: %s", a->name, k->key,
				    msg);
		if (rc)
			return rc;
	}
	if (t->check) {
		if (err && errlen)
			err[0] = '\0';
		struct tapir_app_check k = {
			.name = a->name,
			.type = t,
			.params = a->params,
			.where = a->where.text,
			.key_where = check_key_where,
			.kv_section = check_kv_section,
			.priv = &(struct check_priv){ c, a },
		};
		return t->check(&k, err, errlen);
	}
	return 0;
}

const char *config_app_where(const struct app_config *a, const char *key)
{
	for (size_t i = 0; i < a->nkeys; i++)
		if (!strcmp(a->keys[i].key, key))
			return a->keys[i].where.text;
	return a->where.text;
}

uint16_t config_app_port(const struct app_config *a, bool tcp)
{
	uint16_t p = 0;
	size_t off = !a->ctype ? 0 : tcp ? a->ctype->tcp_port : a->ctype->udp_port;
	if (off)
		memcpy(&p, (const char *)a->params + off - 1, sizeof(p));
	return p;
}

int config_finish(struct tapird_config *c, const struct tapir_app_conf_type *const *types,
		  size_t ntypes, const char *source, char *err, size_t errlen)
{
	char ab[16], gb[16];
	if (!c->addr_set)
		return errf(err, errlen, source, "[ipv4] address is required");
	if (c->dhcp)
		c->gateway = 0;  /* the lease's router */
	if (c->gateway) {
		uint32_t mask = config_prefix_mask(c->prefix_len);
		const char *gw = c->w_gateway.text;
		tapir_ipv4_addr_format(c->gateway, gb);
		tapir_ipv4_addr_format(c->addr, ab);
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
	if (c->gw.enabled && c->gw.nforwards && !c->gateway)
		return errf(err, errlen, source,
			    "[gateway] forward needs [ipv4] gateway (the namespace's kernel side, "
			    "where forwarded ports go)");
	if (c->gw.host_loopback && c->gw.host_loopback == c->addr) {
		tapir_ipv4_addr_format(c->addr, ab);
		return errf(err, errlen, c->gw.w_host_loopback.text,
			    "[gateway] host_loopback: %s is our own address", ab);
	}
	for (size_t i = 0; c->gw.host_loopback6_set && i < c->ipv6.naddrs; i++)
		if (!memcmp(c->ipv6.addrs[i].addr, c->gw.host_loopback6, 16))
			return errf(err, errlen, c->gw.w_host_loopback6.text,
				    "[gateway] host_loopback6: our own IPv6 address");
	for (size_t i = 0; i < c->nkvs; i++)
		if (!c->kvs[i].spec)
			return errf(err, errlen, c->kvs[i].where.text,
				    "[kv.%s]: store = SPEC is required", c->kvs[i].name);
	for (size_t i = 0; i < c->napps; i++) {
		int rc = finish_app(c, &c->apps[i], types, ntypes, err, errlen);
		if (rc)
			return rc;
	}
	/* Ports: no two apps listen on one (TCP, then UDP: the first clash) */
	for (size_t i = 0; i < c->napps; i++) {
		for (int tcp = 0; tcp < 2; tcp++) {
			uint16_t pi = config_app_port(&c->apps[i], tcp);
			if (!pi)
				continue;
			for (size_t j = 0; j < i; j++)
				if (config_app_port(&c->apps[j], tcp) == pi)
					return errf(err, errlen, config_app_where(&c->apps[i], "port"),
						    "[app.%s]: %s port %u is already used by [app.%s]",
						    c->apps[i].name, tcp ? "TCP" : "UDP", pi,
						    c->apps[j].name);
		}
	}
	return 0;
}

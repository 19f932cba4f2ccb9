/*
 * peek.c - read the [netif], [ipv4] and [ipv6] keys the CLI needs (see peek.h)
 */
#include "peek.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "ini_read.h"
#include "tapir/conf.h"

static const struct config_section *peeked(const char *name)
{
	for (size_t i = 0; i < config_nsections; i++)
		if ((!strcmp(name, "netif") || !strcmp(name, "ipv4") || !strcmp(name, "ipv6") ||
		     !strcmp(name, "gateway")) &&
		    !strcmp(config_sections[i].name, name))
			return &config_sections[i];
	return NULL;
}

static int peek_set(void *ctx, const char *section, const char *key, const char *value,
		    const char *where, char *err, size_t errlen)
{
	const struct config_section *sec = peeked(section);
	const struct tapir_conf_key *k = sec ? tapir_conf_key_find(sec->keys, sec->nkeys, key) : NULL;
	if (!k)
		return 0;  /* not ours: tapird checks it */
	char msg[CONFIG_ERR_MAX];
	int rc = tapir_conf_key_set(k, (char *)ctx + sec->offset, value, where, msg, sizeof(msg));
	if (rc == -EINVAL && err && errlen)
		snprintf(err, errlen, "%s: [%s] %s: %s", where, section, key, msg);
	return rc;
}

int config_peek_file(const char *path, struct config_peek *out, char *err, size_t errlen)
{
	static const struct conf_ini_ops ops = { NULL, peek_set };
	struct tapird_config c;
	char msg[CONFIG_ERR_MAX];
	memset(&c, 0, sizeof(c));
	c.prefix_len = 24;
	for (const char *const *s = (const char *const[]){ "netif", "ipv4", "ipv6", "gateway", NULL }; *s; s++) {
		const struct config_section *sec = peeked(*s);
		tapir_conf_keys_defaults(sec->keys, sec->nkeys, (char *)&c + sec->offset, msg,
				   sizeof(msg));
	}
	int rc = path ? conf_ini_load(path, &ops, &c, err, errlen)
		      : conf_ini_parse("(built-in)", config_default_ini, strlen(config_default_ini),
				       &ops, &c, err, errlen);
	if (rc)
		return rc;
	snprintf(out->ifname, sizeof(out->ifname), "%s", c.ifname);
	out->mtu = c.mtu;
	out->addr = c.addr;
	out->prefix_len = c.prefix_len;
	out->addr_set = c.addr_set;
	out->gateway = c.dhcp ? 0 : c.gateway;  /* address = dhcp: the lease's */
	out->gateway_enabled = c.gw.enabled;
	out->ipv6_enabled = c.ipv6.enabled;
	out->ipv6_addr_set = c.ipv6.naddrs > 0;
	out->ipv6_gateway_set = c.ipv6.gateway_set;
	if (out->ipv6_addr_set)
		memcpy(out->ipv6_addr, c.ipv6.addrs[0].addr, 16);
	return 0;
}

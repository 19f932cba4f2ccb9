/*
 * keys.c - key tables: the generic setter (see include/tapir/conf.h)
 */
#include "tapir/conf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "units.h"
#include "wire/eth.h"

const struct tapir_conf_key *tapir_conf_key_find(const struct tapir_conf_key *keys, size_t n,
						 const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(keys[i].name, name))
			return &keys[i];
	return NULL;
}

/* Store @v in an unsigned field of @size bytes */
static void store_uint(void *field, size_t size, uint64_t v)
{
	switch (size) {
	case 1: *(uint8_t *)field = (uint8_t)v; break;
	case 2: *(uint16_t *)field = (uint16_t)v; break;
	case 4: *(uint32_t *)field = (uint32_t)v; break;
	default: *(uint64_t *)field = v; break;
	}
}

/* "'VALUE' is not WHAT", when the key has its own words for every error */
static int not_what(const struct tapir_conf_key *k, const char *value, const char *fallback,
		    char *msg, size_t msglen)
{
	if (k->what)
		snprintf(msg, msglen, "'%s' is not %s", value, k->what);
	else
		snprintf(msg, msglen, "%s", fallback);
	return -EINVAL;
}

static int out_of_range(const struct tapir_conf_key *k, const char *value, const char *unit,
			char *msg, size_t msglen)
{
	char fb[256];
	if (k->range)
		snprintf(fb, sizeof(fb), "%s is out of range (%s)", value, k->range);
	else
		snprintf(fb, sizeof(fb), "%s is out of range (%llu to %llu%s)", value,
			 (unsigned long long)k->min, (unsigned long long)k->max, unit);
	return not_what(k, value, fb, msg, msglen);
}

/* Numbers, sizes and durations: parse, then the limits */
static int set_number(const struct tapir_conf_key *k, void *field, const char *value, char *msg,
		      size_t msglen)
{
	uint64_t v = 0;
	int rc;
	char fb[256];
	const char *unit = "";
	switch (k->kind) {
	case TAPIR_CONF_UINT:
		rc = units_parse_u64(value, UINT64_MAX, &v);
		snprintf(fb, sizeof(fb), "'%s' is not a number", value);
		break;
	case TAPIR_CONF_SIZE:
		rc = units_parse_size(value, &v);
		snprintf(fb, sizeof(fb), "'%s' is not a size (e.g. 65536, 256KiB, 4MiB)", value);
		unit = " bytes";
		break;
	default:
		rc = units_parse_duration(value, &v);
		snprintf(fb, sizeof(fb), "'%s' is not a duration (e.g. 500ms, 30s, 2min)", value);
		break;
	}
	if (rc == -EINVAL)
		return not_what(k, value, fb, msg, msglen);
	if (rc || v < k->min || v > k->max)
		return out_of_range(k, value, unit, msg, msglen);
	store_uint(field, k->kind == TAPIR_CONF_DURATION ? sizeof(uint64_t) : k->size, v);
	return 0;
}

static int set_string(const struct tapir_conf_key *k, void *field, const char *value, char *msg,
		      size_t msglen)
{
	size_t n = strlen(value);
	char fb[256];
	if (k->min)
		snprintf(fb, sizeof(fb), "'%s' is not %zu to %zu characters", value,
			 (size_t)k->min, (size_t)k->max);
	else
		snprintf(fb, sizeof(fb), "too long (at most %zu characters)", (size_t)k->max);
	if (k->check) {
		int rc = k->check(field, value, msg, msglen);
		if (rc)
			return k->what ? not_what(k, value, fb, msg, msglen) : rc;
	}
	if (n < k->min || n > k->max || n >= k->size)
		return not_what(k, value, fb, msg, msglen);
	memcpy(field, value, n + 1);
	return 0;
}

int tapir_conf_key_set(const struct tapir_conf_key *k, void *base, const char *value,
		       const char *where, char *msg, size_t msglen)
{
	void *field = (char *)base + k->offset;
	char fb[256];
	int rc = 0;
	switch (k->kind) {
	case TAPIR_CONF_BOOL:
		snprintf(fb, sizeof(fb), "'%s' is not true or false", value);
		if (units_parse_bool(value, (bool *)field))
			return not_what(k, value, fb, msg, msglen);
		break;
	case TAPIR_CONF_UINT:
	case TAPIR_CONF_SIZE:
	case TAPIR_CONF_DURATION:
		rc = set_number(k, field, value, msg, msglen);
		break;
	case TAPIR_CONF_STRING:
		rc = set_string(k, field, value, msg, msglen);
		break;
	case TAPIR_CONF_IPV4: {
		uint32_t a;
		snprintf(fb, sizeof(fb), "'%s' is not an IPv4 address", value);
		if (units_parse_ipv4(value, &a))
			return not_what(k, value, fb, msg, msglen);
		if (k->check && (rc = k->check(&a, value, msg, msglen)))
			return rc;
		*(uint32_t *)field = a;
		break;
	}
	case TAPIR_CONF_MAC: {
		uint8_t m[ETH_ALEN];
		snprintf(fb, sizeof(fb), "'%s' is not a MAC address (xx:xx:xx:xx:xx:xx)", value);
		if (units_parse_mac(value, m))
			return not_what(k, value, fb, msg, msglen);
		if (k->check && (rc = k->check(m, value, msg, msglen)))
			return rc;
		memcpy(field, m, ETH_ALEN);
		break;
	}
	case TAPIR_CONF_ENUM:
		for (const struct tapir_conf_enum *e = k->names; e && e->name; e++)
			if (!strcmp(e->name, value)) {
				*(int *)field = e->value;
				goto done;
			}
		snprintf(fb, sizeof(fb), "'%s' is not a valid value", value);
		return not_what(k, value, fb, msg, msglen);
	case TAPIR_CONF_CUSTOM:
		rc = k->set(base, value, where, msg, msglen);
		break;
	}
done:
	if (!rc && k->flag)
		*(bool *)((char *)base + k->flag - 1) = true;
	return rc;
}

int tapir_conf_keys_defaults(const struct tapir_conf_key *keys, size_t n, void *base, char *msg,
		       size_t msglen)
{
	for (size_t i = 0; i < n; i++) {
		if (!keys[i].def)
			continue;
		int rc = tapir_conf_key_set(&keys[i], base, keys[i].def, "(default)", msg, msglen);
		if (rc)
			return rc;
		if (keys[i].flag)  /* a default is not "given" */
			*(bool *)((char *)base + keys[i].flag - 1) = false;
	}
	return 0;
}

char *tapir_conf_keys_names(const struct tapir_conf_key *keys, size_t n, char *buf, size_t len)
{
	size_t pos = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n && pos < len; i++) {
		int w = snprintf(buf + pos, len - pos, "%s%s", i ? ", " : "", keys[i].name);
		if (w < 0)
			break;
		pos += (size_t)w;
	}
	return buf;
}

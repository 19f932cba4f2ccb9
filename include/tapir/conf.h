/*
 * conf.h - key tables: what a configuration section accepts, and one setter
 *
 * Theory of operation
 *
 * A section ([netif], [tcp], an [app.NAME] of type http ...) is described
 * by a table of struct tapir_conf_key: the key's name, the kind of its value, its
 * limits, its default (as text, parsed by the same setter), where the value
 * goes (offsetof into the struct the section fills) and a one-line help.
 * tapir_conf_key_set() checks a value and stores it by table; nothing else in the
 * configuration compares key names.
 *
 * Messages say what is wrong with the value only ("'x' is not a number",
 * "70000 is out of range (1 to 65535)"); the caller puts "WHERE: [section]
 * key: " in front.  A key's @what, when given, replaces them with
 * "'VALUE' is not WHAT".
 *
 * Pure functions over caller-owned memory; no global state.
 */
#ifndef TAPIR_CONF_KEYS_H
#define TAPIR_CONF_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tapir_conf_kind {
	TAPIR_CONF_BOOL,       /* bool: true/false, yes/no, on/off, 1/0 */
	TAPIR_CONF_UINT,       /* unsigned integer of @size bytes in [min, max] */
	TAPIR_CONF_SIZE,       /* bytes with units (64K, 4MiB) in [min, max], @size bytes */
	TAPIR_CONF_DURATION,   /* uint64_t ns with a unit (500ms, 30s) in [min, max] */
	TAPIR_CONF_STRING,     /* char[@size], length in [min, max], then @check */
	TAPIR_CONF_IPV4,       /* uint32_t, host order (dotted quad), then @check */
	TAPIR_CONF_MAC,        /* uint8_t[6] (xx:xx:xx:xx:xx:xx), then @check */
	TAPIR_CONF_ENUM,       /* int: one of @names */
	TAPIR_CONF_CUSTOM,     /* @set does everything */
};

struct tapir_conf_enum {
	const char *name;
	int value;
};

struct tapir_conf_key {
	const char *name;
	enum tapir_conf_kind kind;
	size_t offset;           /* where the value goes: offsetof in the section's struct */
	size_t size;             /* sizeof that field (integers: 1, 2, 4, 8; strings: buffer) */
	uint64_t min, max;       /* limits: numbers, sizes, ns; string lengths */
	const char *range;       /* limits as text for messages ("1s to 24h"); NULL: numbers */
	const char *def;         /* default, as a value of the key; NULL: zero */
	const char *what;        /* NULL, or the message "'VALUE' is not WHAT" on any error */
	const struct tapir_conf_enum *names;  /* TAPIR_CONF_ENUM: NULL-terminated */
	size_t flag;             /* 1 + offsetof a bool set true when the key is given; 0: none */
	/* TAPIR_CONF_STRING, TAPIR_CONF_IPV4, TAPIR_CONF_MAC: a further check of the parsed value
	 * (@field points at it).  Return: 0 or -EINVAL (message in @msg) */
	int (*check)(const void *field, const char *value, char *msg, size_t msglen);
	/* TAPIR_CONF_CUSTOM: parse and store.  Return: 0, -EINVAL (message), -ENOMEM */
	int (*set)(void *base, const char *value, const char *where, char *msg, size_t msglen);
	const char *help;        /* one line */
};

/* Fill a key's offset and size from a struct type and a field */
#define TAPIR_CONF_AT(type, field) \
	.offset = offsetof(type, field), .size = sizeof(((type *)0)->field)
#define TAPIR_CONF_FLAG(type, field) .flag = offsetof(type, field) + 1

/* Return: the key called @name in @keys (@n entries), or NULL */
const struct tapir_conf_key *tapir_conf_key_find(const struct tapir_conf_key *keys, size_t n,
						 const char *name);

/**
 * tapir_conf_key_set() - Check @value for key @k and store it in @base
 * @where: Origin, for TAPIR_CONF_CUSTOM setters that keep it
 *
 * Return: 0, -EINVAL (what is wrong in @msg), -ENOMEM
 */
int tapir_conf_key_set(const struct tapir_conf_key *k, void *base, const char *value,
		       const char *where, char *msg, size_t msglen);

/* Set every key of @keys that has a default.  Return: 0 or the first error */
int tapir_conf_keys_defaults(const struct tapir_conf_key *keys, size_t n, void *base, char *msg,
		       size_t msglen);

/* "a, b, c": the names of @keys into @buf.  Return: @buf */
char *tapir_conf_keys_names(const struct tapir_conf_key *keys, size_t n, char *buf, size_t len);

#endif /* TAPIR_CONF_KEYS_H */

/*
 * dump_keys.c - build-time tool: every config section and key from the key tables, as scdoc
 *
 * tapir.conf(5)'s key reference is generated, so that it cannot drift from
 * the tables the configuration is read with: the fixed sections
 * (config_sections[], conf/config_keys.c), [kv.NAME] (config_kv_keys[]) and
 * each built-in app type's [app.NAME] keys (app_builtin_confs[],
 * apps/app_conf.h).  A key's default is its table's .def text; without one,
 * the value config_init() leaves in the field (the [tcp] keys take
 * libstack's defaults), formatted in the key's unit.
 *
 *   dump_keys          the reference as scdoc text (man/gen.py puts it in
 *                      man/tapir.conf.5.scd where "@KEYS@" stands)
 *   dump_keys --list   one "[SECTION]<TAB>KEY" line per key, for
 *                      tests/man.sh to find each key in the rendered page
 *
 * Exit status: 0, 1 usage error, 2 a default that does not parse (a bug
 * in a table).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_conf.h"
#include "config.h"

static bool list_mode;

/* scdoc text: \, * and _ are markup, escaped with a backslash */
static void esc(const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '*' || *s == '_')
			putchar('\\');
		putchar(*s);
	}
}

static uint64_t read_uint(const void *p, size_t size)
{
	switch (size) {
	case 1: return *(const uint8_t *)p;
	case 2: return *(const uint16_t *)p;
	case 4: return *(const uint32_t *)p;
	default: return *(const uint64_t *)p;
	}
}

static void fmt_size(char *buf, size_t len, uint64_t v)
{
	static const struct { const char *u; unsigned shift; } units[] = {
		{ "GiB", 30 }, { "MiB", 20 }, { "KiB", 10 },
	};
	for (size_t i = 0; i < 3; i++)
		if (v && !(v & ((1ull << units[i].shift) - 1))) {
			snprintf(buf, len, "%" PRIu64 "%s", v >> units[i].shift, units[i].u);
			return;
		}
	snprintf(buf, len, "%" PRIu64, v);
}

static void fmt_duration(char *buf, size_t len, uint64_t ns)
{
	static const struct { const char *u; uint64_t scale; } units[] = {
		{ "h", 3600000000000ull }, { "min", 60000000000ull }, { "s", 1000000000ull },
		{ "ms", 1000000ull }, { "us", 1000ull },
	};
	for (size_t i = 0; i < 5; i++)
		if (ns && ns % units[i].scale == 0) {
			snprintf(buf, len, "%" PRIu64 "%s", ns / units[i].scale, units[i].u);
			return;
		}
	snprintf(buf, len, "%" PRIu64 "ns", ns);
}

/* The kind of @k's value, and its limits, as a reader writes them */
static void fmt_kind(char *buf, size_t len, const struct tapir_conf_key *k)
{
	char lo[32], hi[32];
	size_t pos;
	switch (k->kind) {
	case TAPIR_CONF_BOOL:
		snprintf(buf, len, "boolean");
		break;
	case TAPIR_CONF_UINT:
		snprintf(buf, len, "integer, %" PRIu64 " to %" PRIu64, k->min, k->max);
		break;
	case TAPIR_CONF_SIZE:
		fmt_size(lo, sizeof(lo), k->min);
		fmt_size(hi, sizeof(hi), k->max);
		if (k->range)
			snprintf(buf, len, "size, %s", k->range);
		else
			snprintf(buf, len, "size, %s to %s", lo, hi);
		break;
	case TAPIR_CONF_DURATION:
		fmt_duration(lo, sizeof(lo), k->min);
		fmt_duration(hi, sizeof(hi), k->max);
		if (k->range)
			snprintf(buf, len, "duration, %s", k->range);
		else
			snprintf(buf, len, "duration, %s to %s", lo, hi);
		break;
	case TAPIR_CONF_STRING:
		if (k->min == k->max || !k->max)
			snprintf(buf, len, "string");
		else
			snprintf(buf, len, "string, %" PRIu64 " to %" PRIu64 " bytes", k->min, k->max);
		break;
	case TAPIR_CONF_IPV4:
		snprintf(buf, len, "IPv4 address");
		break;
	case TAPIR_CONF_MAC:
		snprintf(buf, len, "MAC address");
		break;
	case TAPIR_CONF_ENUM:
		pos = (size_t)snprintf(buf, len, "one of ");
		for (const struct tapir_conf_enum *e = k->names; e && e->name && pos < len; e++)
			pos += (size_t)snprintf(buf + pos, len - pos, "%s%s", e == k->names ? "" : ", ",
						e->name);
		break;
	case TAPIR_CONF_CUSTOM:
	default:
		buf[0] = '\0';
		break;
	}
}

/* The default of @k as text: its .def, else the value in @base; "" for none */
static void fmt_default(char *buf, size_t len, const struct tapir_conf_key *k, const void *base)
{
	const char *p = (const char *)base + k->offset;
	buf[0] = '\0';
	if (k->def) {
		snprintf(buf, len, "%s", k->def);
		return;
	}
	switch (k->kind) {
	case TAPIR_CONF_BOOL:
		snprintf(buf, len, "%s", *(const bool *)p ? "true" : "false");
		break;
	case TAPIR_CONF_UINT:
		snprintf(buf, len, "%" PRIu64, read_uint(p, k->size));
		break;
	case TAPIR_CONF_SIZE:
		fmt_size(buf, len, read_uint(p, k->size));
		break;
	case TAPIR_CONF_DURATION:
		fmt_duration(buf, len, read_uint(p, k->size));
		break;
	case TAPIR_CONF_STRING:
		snprintf(buf, len, "%s", p);
		break;
	case TAPIR_CONF_ENUM:
		for (const struct tapir_conf_enum *e = k->names; e && e->name; e++)
			if (e->value == *(const int *)p) {
				snprintf(buf, len, "%s", e->name);
				break;
			}
		break;
	case TAPIR_CONF_IPV4:   /* zero: none */
	case TAPIR_CONF_MAC:
	case TAPIR_CONF_CUSTOM: /* the help line says it */
	default:
		break;
	}
}

/* One key of the section headed @label ("[netif]", "[app.NAME] type = echo") */
static void key(const char *label, const struct tapir_conf_key *k, const void *base)
{
	char kind[512], def[256];
	if (list_mode) {
		printf("%s\t%s\n", label, k->name);
		return;
	}
	fmt_kind(kind, sizeof(kind), k);
	fmt_default(def, sizeof(def), k, base);
	printf("*");
	esc(k->name);
	printf("*");
	if (kind[0]) {
		printf(" (");
		esc(kind);
		printf(")");
	}
	/* "HELP. Default: DEF." (one full stop after the help, given or not) */
	char help[512];
	snprintf(help, sizeof(help), "%s", k->help ? k->help : "");
	size_t n = strlen(help);
	if (n && help[n - 1] == '.')
		help[n - 1] = '\0';
	printf("\n\t");
	esc(help);
	if (def[0] && strlen(def) > 48 && strchr(def, ':') && !strchr(def, ' ')) {
		/* a long ':'-joined list (cipher suites): items a line may break
		 * between, so that man renders it without an overlong line */
		printf(". Default, joined by ':': ");
		for (char *item = def, *next; item; item = next) {
			next = strchr(item, ':');
			if (next)
				*next++ = '\0';
			esc(item);
			printf("%s", next ? ", " : "");
		}
	} else if (def[0]) {
		printf(". Default: ");
		esc(def);
	}
	printf(".\n\n");
}

static void section(const char *label)
{
	if (list_mode)
		return;
	printf("## ");
	esc(label);
	printf("\n\n");
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--list")) {
		list_mode = true;
	} else if (argc != 1) {
		fprintf(stderr, "usage: dump_keys [--list]\n");
		return 1;
	}
	struct tapird_config c;
	config_init(&c);
	for (size_t s = 0; s < config_nsections; s++) {
		const struct config_section *sec = &config_sections[s];
		char label[64];
		snprintf(label, sizeof(label), "[%s]", sec->name);
		section(label);
		for (size_t i = 0; i < sec->nkeys; i++)
			key(label, &sec->keys[i], (const char *)&c + sec->offset);
	}
	config_free(&c);

	struct kv_config kv;
	char msg[CONFIG_ERR_MAX];
	memset(&kv, 0, sizeof(kv));
	if (tapir_conf_keys_defaults(config_kv_keys, config_kv_nkeys, &kv, msg, sizeof(msg))) {
		fprintf(stderr, "dump_keys: [kv.NAME]: %s\n", msg);
		return 2;
	}
	section("[kv.NAME]");
	for (size_t i = 0; i < config_kv_nkeys; i++)
		key("[kv.NAME]", &config_kv_keys[i], &kv);
	free(kv.spec);

	for (size_t t = 0; t < app_builtin_nconfs; t++) {
		const struct tapir_app_conf_type *ty = app_builtin_confs[t];
		char label[128];
		void *params = calloc(1, ty->params_size ? ty->params_size : 1);
		if (!params) {
			fprintf(stderr, "dump_keys: out of memory\n");
			return 2;
		}
		if (tapir_conf_keys_defaults(ty->keys, ty->nkeys, params, msg, sizeof(msg))) {
			fprintf(stderr, "dump_keys: type %s: %s\n", ty->name, msg);
			free(params);
			return 2;
		}
		snprintf(label, sizeof(label), "[app.NAME] type = %s", ty->name);
		section(label);
		if (!ty->nkeys && !list_mode)
			printf("No keys besides *type*.\n\n");
		for (size_t i = 0; i < ty->nkeys; i++)
			key(label, &ty->keys[i], params);
		free(params);
	}
	return 0;
}

/*
 * fuzz/bootargs/bootargs.c - boot arguments on arbitrary bytes
 *
 * The input is split at NUL bytes into argv entries.  Checks: the tokenizer
 * round-trips (tokens escaped and joined tokenize to the same tokens), and
 * the arguments applied over the built-in default either succeed with
 * in-range values or fail with an "argument..." message.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app_conf.h"
#include "bootargs.h"
#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)
#define MAX_INPUT 65536

/* Escape every space, quote and backslash; "" for an empty token. */
static char *escape_join(char **tok, size_t n)
{
	size_t len = 1;
	for (size_t i = 0; i < n; i++)
		len += 2 * strlen(tok[i]) + 3;
	char *out = malloc(len), *p = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (i)
			*p++ = ' ';
		if (!tok[i][0]) {
			*p++ = '"';
			*p++ = '"';
		}
		for (const char *s = tok[i]; *s; s++) {
			if (*s == ' ' || *s == '"' || *s == '\\')
				*p++ = '\\';
			*p++ = *s;
		}
	}
	*p = '\0';
	return out;
}

static void roundtrip(const char *line)
{
	char **tok, **tok2;
	size_t n, n2;
	char err[256];
	if (bootargs_tokenize(line, &tok, &n, err, sizeof(err)))
		return;
	char *again = escape_join(tok, n);
	if (again) {
		CHECK(bootargs_tokenize(again, &tok2, &n2, err, sizeof(err)) == 0);
		CHECK(n2 == n);
		for (size_t i = 0; i < n; i++)
			CHECK(!strcmp(tok[i], tok2[i]));
		bootargs_free(tok2, n2);
		free(again);
	}
	for (size_t i = 0; i < n; i++) {
		struct bootarg a;
		if (bootarg_split(tok[i], &a, err, sizeof(err)) == 0) {
			CHECK(a.section[0] && a.key[0]);
			bootarg_release(&a);
		}
	}
	bootargs_free(tok, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > MAX_INPUT)
		return 0;
	char *buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';

	/* argv: the NUL-separated pieces */
	size_t argc = 1;
	for (size_t i = 0; i < size; i++)
		argc += buf[i] == '\0';
	char **argv = malloc(argc * sizeof(*argv));
	if (!argv) {
		free(buf);
		return 0;
	}
	size_t k = 0;
	argv[k++] = buf;
	for (size_t i = 0; i < size; i++)
		if (buf[i] == '\0')
			argv[k++] = buf + i + 1;

	roundtrip(buf);

	struct tapird_config c;
	char err[CONFIG_ERR_MAX];
	config_init(&c);
	CHECK(config_parse_ini(&c, "(built-in)", config_default_ini, strlen(config_default_ini),
			       err, sizeof(err)) == 0);
	err[0] = '\0';
	int rc = config_apply_args(&c, argv, argc, err, sizeof(err));
	if (!rc)
		rc = config_finish(&c, app_builtin_confs, app_builtin_nconfs, "(built-in)", err,
				   sizeof(err));
	if (rc) {
		CHECK(rc == -EINVAL || rc == -ENOMEM);
		CHECK(!strncmp(err, "argument", 8) || !strncmp(err, "(built-in)", 10));
	} else {
		CHECK(c.mtu >= 68 && c.mtu <= 65521 && c.prefix_len <= 32);
	}
	config_free(&c);
	free(argv);
	free(buf);
	return 0;
}

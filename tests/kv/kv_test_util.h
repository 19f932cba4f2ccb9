/*
 * kv_test_util.h - helpers shared by the kvstore tests (keys, temp dirs, shell)
 */
#ifndef TAPIR_KV_TEST_UTIL_H
#define TAPIR_KV_TEST_UTIL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tapir/kv.h"

/* A ring of parsed keys, so tests can write K("/a/b") inline; freed by tk_reset(). */
#define TK_RING 64
static struct tapir_kv_key tk_ring[TK_RING];
static unsigned tk_next;

static inline const struct tapir_kv_key *K(const char *s)
{
	struct tapir_kv_key *k = &tk_ring[tk_next++ % TK_RING];
	tapir_kv_key_free(k);
	if (tapir_kv_key_parse(s, k)) {
		fprintf(stderr, "bad test key %s\n", s);
		abort();
	}
	return k;
}

static inline void tk_reset(void)
{
	for (unsigned i = 0; i < TK_RING; i++)
		tapir_kv_key_free(&tk_ring[i]);
}

/* Make a fresh directory under $TMPDIR (or /tmp); Return: malloc'd path. */
static inline char *tmpdir_new(const char *tag)
{
	const char *base = getenv("TMPDIR");
	char *p;
	if (!base || !*base)
		base = "/tmp";
	if (asprintf(&p, "%s/tapir-kv-%s-XXXXXX", base, tag) < 0)
		abort();
	if (!mkdtemp(p))
		abort();
	return p;
}

static inline int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline int sh(const char *fmt, ...)
{
	char *cmd;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		abort();
	va_end(ap);
	int rc = system(cmd);
	free(cmd);
	return rc;
}

static inline void tmpdir_rm(char *p)
{
	if (p) {
		sh("chmod -R u+rwx '%s' 2>/dev/null; rm -rf '%s'", p, p);
		free(p);
	}
}

/* The fixture directory: $KV_FIXTURE, set by meson. */
static inline const char *fixture_dir(void)
{
	const char *f = getenv("KV_FIXTURE");
	return f ? f : "tests/kv/fixture";
}

/* Return: malloc'd NUL-terminated value of @k, or NULL on error. */
static inline char *getstr(struct tapir_kv_store *s, const struct tapir_kv_key *k)
{
	uint8_t *v;
	size_t n;
	if (tapir_kv_get(s, k, &v, &n))
		return NULL;
	return (char *)v;
}

#endif

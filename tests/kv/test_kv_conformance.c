/*
 * test_kv_conformance.c - one suite of KV API cases run against every store
 *
 * Every store starts with the content of tests/kv/fixture (mem: copied in with
 * tapir_kv_set; dir: cp -r; tar: made by GNU tar; embedded: compiled in by kv-embed
 * as "kvfixture").  Read-only cases run on all four, read-write cases on mem,
 * dir and tar (where tar answers "append only", that is checked instead).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <openssl/evp.h>

#include "kv_test_util.h"

enum kind { S_MEM, S_DIR, S_TAR, S_EMB };
static const char *const kind_names[] = { "mem", "dir", "tar", "embedded" };

struct fx {
	enum kind kind;
	bool rw;
	char *tmp;
	char spec[512];
	struct tapir_kv_store *s;
};

static void load_dir(struct tapir_kv_store *s, const char *full, const char *rel)
{
	DIR *d = opendir(full);
	assert_non_null(d);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char cf[1024], cr[1024];
		struct stat st;
		snprintf(cf, sizeof(cf), "%s/%s", full, de->d_name);
		snprintf(cr, sizeof(cr), "%s/%s", rel, de->d_name);
		assert_int_equal(stat(cf, &st), 0);
		if (S_ISDIR(st.st_mode)) {
			load_dir(s, cf, cr);
			continue;
		}
		FILE *f = fopen(cf, "rb");
		assert_non_null(f);
		uint8_t buf[4096];
		size_t n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		assert_int_equal(tapir_kv_set(s, K(cr), buf, n), 0);
	}
	closedir(d);
}

static int open_fx(struct fx *f)
{
	char err[256] = "";
	int rc = tapir_kv_open(f->spec, f->rw, &f->s, err, sizeof(err));
	if (rc)
		fprintf(stderr, "open %s: %s\n", f->spec, err);
	return rc;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	const struct fx *proto = *state;
	f->kind = proto->kind;
	f->rw = proto->rw;
	switch (f->kind) {
	case S_MEM:
		snprintf(f->spec, sizeof(f->spec), "mem:");
		break;
	case S_DIR:
		f->tmp = tmpdir_new("conf");
		assert_int_equal(sh("cp -a '%s'/. '%s'/", fixture_dir(), f->tmp), 0);
		snprintf(f->spec, sizeof(f->spec), "dir:%s", f->tmp);
		break;
	case S_TAR:
		f->tmp = tmpdir_new("conf");
		assert_int_equal(sh("tar -C '%s' -cf '%s/x.tar' .", fixture_dir(), f->tmp), 0);
		snprintf(f->spec, sizeof(f->spec), "tar:%s/x.tar", f->tmp);
		break;
	case S_EMB:
		snprintf(f->spec, sizeof(f->spec), "embedded:kvfixture");
		break;
	}
	if (open_fx(f))
		return -1;
	if (f->kind == S_MEM)
		load_dir(f->s, fixture_dir(), "");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	tapir_kv_close(f->s);
	tmpdir_rm(f->tmp);
	free(f);
	tk_reset();
	return 0;
}

/* Close and reopen the store (dir, tar: checks persistence). */
static void reopen(struct fx *f)
{
	if (f->kind == S_MEM)
		return;
	tapir_kv_close(f->s);
	f->s = NULL;
	assert_int_equal(open_fx(f), 0);
}

static void assert_str_value(struct tapir_kv_store *s, const char *key, const char *want,
			     size_t len)
{
	uint8_t *v;
	size_t n;
	int rc = tapir_kv_get(s, K(key), &v, &n);
	if (rc)
		fprintf(stderr, "get %s: %s\n", key, tapir_kv_last_error(s));
	assert_int_equal(rc, 0);
	assert_int_equal(n, len);
	assert_memory_equal(v, want, len);
	free(v);
}

static enum tapir_kv_kind kind_of(struct tapir_kv_store *s, const char *key)
{
	enum tapir_kv_kind k = TAPIR_KV_NONE;
	assert_int_equal(tapir_kv_exists(s, K(key), &k), 0);
	return k;
}

/* ---- read-only cases ---- */

static void t_exists(void **state)
{
	struct fx *f = *state;
	assert_int_equal(kind_of(f->s, "/a.txt"), TAPIR_KV_VALUE);
	assert_int_equal(kind_of(f->s, "a.txt"), TAPIR_KV_VALUE);
	assert_int_equal(kind_of(f->s, "/b"), TAPIR_KV_DICT);
	assert_int_equal(kind_of(f->s, "/b/d"), TAPIR_KV_DICT);
	assert_int_equal(kind_of(f->s, "/b//d/e.bin"), TAPIR_KV_VALUE);
	assert_int_equal(kind_of(f->s, "/nope"), TAPIR_KV_NONE);
	assert_int_equal(kind_of(f->s, "/a.txt/x"), TAPIR_KV_NONE);
	assert_int_equal(kind_of(f->s, "/"), TAPIR_KV_DICT);
	assert_int_equal(kind_of(f->s, ""), TAPIR_KV_DICT);
}

/* tapir_kv_retain(): the store outlives the opener's tapir_kv_close() until the last
 * reference goes (ASan's leak check sees the final close free it). */
static void t_retain(void **state)
{
	struct fx *f = *state;
	assert_ptr_equal(tapir_kv_retain(f->s), f->s);
	assert_ptr_equal(tapir_kv_retain(f->s), f->s);
	tapir_kv_close(f->s);
	tapir_kv_close(f->s);
	assert_str_value(f->s, "/a.txt", "hello\n", 6);  /* still the opener's */
}

static void t_get(void **state)
{
	struct fx *f = *state;
	assert_str_value(f->s, "/a.txt", "hello\n", 6);
	assert_str_value(f->s, "/b/c.txt", "nested c\n", 9);
	assert_str_value(f->s, "/b/d/e.bin", "\x00\x01\x02" "binary\xff\xfe\n", 12);
	assert_str_value(f->s, "/empty", "", 0);
	uint8_t *v = (uint8_t *)"x";
	size_t n = 7;
	assert_int_equal(tapir_kv_get(f->s, K("/b"), &v, &n), -TAPIR_KV_E_VALUE_EXPECTED);
	assert_null(v);
	assert_true(strlen(tapir_kv_last_error(f->s)) > 0);
	assert_int_equal(tapir_kv_get(f->s, K("/missing"), &v, &n), -TAPIR_KV_E_NOT_FOUND);
	assert_non_null(strstr(tapir_kv_last_error(f->s), "/missing"));
	assert_int_equal(tapir_kv_get(f->s, K("/a.txt/under"), &v, &n), -TAPIR_KV_E_NOT_FOUND);
	assert_int_equal(tapir_kv_get(f->s, K("/"), &v, &n), -TAPIR_KV_E_VALUE_EXPECTED);
}

static void t_partial(void **state)
{
	struct fx *f = *state;
	uint8_t *v;
	size_t n;
	uint64_t size;
	assert_int_equal(tapir_kv_size(f->s, K("/a.txt"), &size), 0);
	assert_int_equal(size, 6);
	assert_int_equal(tapir_kv_size(f->s, K("/b"), &size), -TAPIR_KV_E_VALUE_EXPECTED);
	assert_int_equal(tapir_kv_size(f->s, K("/zz"), &size), -TAPIR_KV_E_NOT_FOUND);
	assert_int_equal(tapir_kv_get_partial(f->s, K("/a.txt"), 1, 3, &v, &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(v, "ell", 3);
	free(v);
	assert_int_equal(tapir_kv_get_partial(f->s, K("/a.txt"), 4, 100, &v, &n), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(v, "o\n", 2);
	free(v);
	assert_int_equal(tapir_kv_get_partial(f->s, K("/a.txt"), 6, 10, &v, &n), 0);
	assert_int_equal(n, 0);
	assert_non_null(v);
	free(v);
	assert_int_equal(tapir_kv_get_partial(f->s, K("/a.txt"), UINT64_MAX, 10, &v, &n), 0);
	assert_int_equal(n, 0);
	free(v);
	assert_int_equal(tapir_kv_get_partial(f->s, K("/empty"), 0, 10, &v, &n), 0);
	assert_int_equal(n, 0);
	free(v);
	assert_int_equal(tapir_kv_get_partial(f->s, K("/b/d"), 0, 1, &v, &n), -TAPIR_KV_E_VALUE_EXPECTED);
	char buf[4];
	assert_int_equal(tapir_kv_read(f->s, K("/b/d/e.bin"), 3, buf, 4), 4);
	assert_memory_equal(buf, "bina", 4);
}

static void t_list(void **state)
{
	struct fx *f = *state;
	struct tapir_kv_entry *e;
	size_t n;
	assert_int_equal(tapir_kv_list(f->s, K("/"), &e, &n), 0);
	assert_int_equal(n, 4);
	const char *names[] = { "a.txt", "b", "empty", "zeta" };
	enum tapir_kv_kind kinds[] = { TAPIR_KV_VALUE, TAPIR_KV_DICT, TAPIR_KV_VALUE, TAPIR_KV_VALUE };
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(e[i].name, names[i]);
		assert_int_equal(e[i].kind, kinds[i]);
	}
	tapir_kv_entries_free(e, n);
	assert_int_equal(tapir_kv_list(f->s, K("/b"), &e, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(e[0].name, "c.txt");
	assert_int_equal(e[0].kind, TAPIR_KV_VALUE);
	assert_string_equal(e[1].name, "d");
	assert_int_equal(e[1].kind, TAPIR_KV_DICT);
	tapir_kv_entries_free(e, n);
	assert_int_equal(tapir_kv_list(f->s, K("/a.txt"), &e, &n), -TAPIR_KV_E_DICT_EXPECTED);
	assert_int_equal(tapir_kv_list(f->s, K("/none"), &e, &n), -TAPIR_KV_E_NOT_FOUND);
}

static void sha256_of(const void *d, size_t n, uint8_t out[32])
{
	unsigned int l = 32;
	EVP_Digest(d, n, out, &l, EVP_sha256(), NULL);
}

static void t_digest(void **state)
{
	struct fx *f = *state;
	uint8_t d[32], want[32];
	assert_int_equal(tapir_kv_digest(f->s, K("/a.txt"), d), 0);
	sha256_of("hello\n", 6, want);
	assert_memory_equal(d, want, 32);
	assert_int_equal(tapir_kv_digest(f->s, K("/empty"), d), 0);
	sha256_of("", 0, want);
	assert_memory_equal(d, want, 32);
	assert_int_equal(tapir_kv_digest(f->s, K("/nope"), d), -TAPIR_KV_E_NOT_FOUND);

	/* Dictionary digests equal a mem store's holding the same content. */
	struct tapir_kv_store *m;
	assert_int_equal(tapir_kv_mem_open(&m), 0);
	load_dir(m, fixture_dir(), "");
	uint8_t md[32];
	assert_int_equal(tapir_kv_digest(f->s, K("/"), d), 0);
	assert_int_equal(tapir_kv_digest(m, K("/"), md), 0);
	assert_memory_equal(d, md, 32);
	assert_int_equal(tapir_kv_digest(f->s, K("/b"), d), 0);
	assert_int_equal(tapir_kv_digest(m, K("/b"), md), 0);
	assert_memory_equal(d, md, 32);
	/* ... and differ from a different dictionary. */
	assert_int_equal(tapir_kv_digest(m, K("/b/d"), md), 0);
	assert_memory_not_equal(d, md, 32);
	/* The dictionary encoding is the documented one. */
	uint8_t ed[32], buf[1 + 6 + 32];
	assert_int_equal(tapir_kv_digest(f->s, K("/b/d/e.bin"), ed), 0);
	buf[0] = 'v';
	memcpy(buf + 1, "e.bin", 6);
	memcpy(buf + 7, ed, 32);
	sha256_of(buf, sizeof(buf), want);
	assert_int_equal(tapir_kv_digest(f->s, K("/b/d"), d), 0);
	assert_memory_equal(d, want, 32);
	tapir_kv_close(m);
}

static void t_last_modified(void **state)
{
	struct fx *f = *state;
	struct timespec t;
	assert_int_equal(tapir_kv_last_modified(f->s, K("/a.txt"), &t), 0);
	assert_true(t.tv_sec > 0);
	struct stat st;
	char p[1024];
	snprintf(p, sizeof(p), "%s/a.txt", fixture_dir());
	assert_int_equal(stat(p, &st), 0);
	if (f->kind == S_DIR || f->kind == S_TAR)
		assert_int_equal(t.tv_sec, st.st_mtime);   /* cp/tar keep it to the second */
	if (f->kind == S_EMB) {
		struct timespec t2;
		assert_int_equal(tapir_kv_last_modified(f->s, K("/b/d"), &t2), 0);
		assert_int_equal(t.tv_sec, t2.tv_sec);
	}
	assert_int_equal(tapir_kv_last_modified(f->s, K("/b"), &t), 0);
	assert_int_equal(tapir_kv_last_modified(f->s, K("/gone"), &t), -TAPIR_KV_E_NOT_FOUND);
}

/* Open values (tapir_kv_value_open()): the size and mtime of the same
 * look-up as tapir_kv_size()/_last_modified(), reads at offsets, the errors of
 * a dictionary, a missing key and a bad key, and a handle outliving the
 * opener's reference to its store. */
static void t_value_open(void **state)
{
	struct fx *f = *state;
	struct tapir_kv_value *v = NULL;
	struct tapir_kv_stat st;
	struct timespec lm;
	uint8_t buf[16];
	assert_int_equal(tapir_kv_value_open(f->s, K("/b/d/e.bin"), &v, &st), 0);
	assert_non_null(v);
	assert_int_equal(st.size, 12);
	assert_int_equal(tapir_kv_last_modified(f->s, K("/b/d/e.bin"), &lm), 0);
	assert_int_equal(st.mtime.tv_sec, lm.tv_sec);
	assert_int_equal(st.mtime.tv_nsec, lm.tv_nsec);
	assert_int_equal(tapir_kv_value_read(v, 3, buf, 4), 4);
	assert_memory_equal(buf, "bina", 4);
	assert_int_equal(tapir_kv_value_read(v, 0, buf, sizeof(buf)), 12);
	assert_memory_equal(buf, "\x00\x01\x02" "binary\xff\xfe\n", 12);
	assert_int_equal(tapir_kv_value_read(v, 10, buf, sizeof(buf)), 2);
	assert_int_equal(tapir_kv_value_read(v, 12, buf, sizeof(buf)), 0);
	assert_int_equal(tapir_kv_value_read(v, UINT64_MAX, buf, sizeof(buf)), 0);
	/* the handle holds the store: the opener's reference may go first */
	struct tapir_kv_store *s = f->s;
	assert_ptr_equal(tapir_kv_retain(s), s);
	tapir_kv_close(s);
	assert_int_equal(tapir_kv_value_read(v, 0, buf, 5), 5);
	assert_memory_equal(buf, "\x00\x01\x02" "bi", 5);
	tapir_kv_value_close(v);
	tapir_kv_value_close(NULL);

	assert_int_equal(tapir_kv_value_open(f->s, K("/empty"), &v, NULL), 0);
	assert_int_equal(tapir_kv_value_read(v, 0, buf, sizeof(buf)), 0);
	tapir_kv_value_close(v);
	v = (struct tapir_kv_value *)buf;
	assert_int_equal(tapir_kv_value_open(f->s, K("/b"), &v, &st), -TAPIR_KV_E_VALUE_EXPECTED);
	assert_null(v);
	assert_int_equal(tapir_kv_value_open(f->s, K("/"), &v, &st), -TAPIR_KV_E_VALUE_EXPECTED);
	assert_int_equal(tapir_kv_value_open(f->s, K("/nope"), &v, &st), -TAPIR_KV_E_NOT_FOUND);
	assert_non_null(strstr(tapir_kv_last_error(f->s), "/nope"));
	assert_int_equal(tapir_kv_value_open(f->s, K("/a.txt/x"), &v, &st), -TAPIR_KV_E_NOT_FOUND);
	char seg0[] = "a/b";
	char *segs[] = { seg0 };
	struct tapir_kv_key bad = { 1, segs };
	assert_int_equal(tapir_kv_value_open(f->s, &bad, &v, &st), -TAPIR_KV_E_INVALID);
	assert_null(v);
	tk_reset();
}

static void t_readonly(void **state)
{
	struct fx *f = *state;
	if (f->kind == S_MEM)
		return;   /* always writable */
	assert_int_equal(tapir_kv_set(f->s, K("/new"), "x", 1), -TAPIR_KV_E_INVALID);
	assert_int_equal(tapir_kv_remove(f->s, K("/a.txt")), -TAPIR_KV_E_INVALID);
	assert_int_equal(tapir_kv_rename(f->s, K("/a.txt"), K("/q")), -TAPIR_KV_E_INVALID);
	assert_int_equal(tapir_kv_set_partial(f->s, K("/a.txt"), 0, "x", 1), -TAPIR_KV_E_INVALID);
	assert_true(strlen(tapir_kv_last_error(f->s)) > 0);
	assert_int_equal(kind_of(f->s, "/new"), TAPIR_KV_NONE);
}

static void t_bad_keys(void **state)
{
	struct fx *f = *state;
	char *seg[] = { "a", "..", "x/y", "." };
	enum tapir_kv_kind kind;
	for (size_t i = 1; i < 4; i++) {
		char *two[2] = { seg[0], seg[i] };
		struct tapir_kv_key k = { 2, two };
		assert_int_equal(tapir_kv_exists(f->s, &k, &kind), -TAPIR_KV_E_INVALID);
		assert_int_equal(tapir_kv_set(f->s, &k, "x", 1), -TAPIR_KV_E_INVALID);
	}
	char *empty[1] = { "" };
	struct tapir_kv_key ke = { 1, empty };
	assert_int_equal(tapir_kv_exists(f->s, &ke, &kind), -TAPIR_KV_E_INVALID);
}

/* ---- read-write cases ---- */

static void t_set(void **state)
{
	struct fx *f = *state;
	assert_int_equal(tapir_kv_set(f->s, K("/x/y/z"), "v1", 2), 0);
	assert_int_equal(kind_of(f->s, "/x"), TAPIR_KV_DICT);
	assert_int_equal(kind_of(f->s, "/x/y"), TAPIR_KV_DICT);
	assert_str_value(f->s, "/x/y/z", "v1", 2);
	assert_int_equal(tapir_kv_set(f->s, K("/x/y/z"), "value two", 9), 0);
	assert_str_value(f->s, "/x/y/z", "value two", 9);
	assert_int_equal(tapir_kv_set(f->s, K("/x/y/e"), "", 0), 0);
	assert_int_equal(tapir_kv_set(f->s, K("/a.txt"), "new a", 5), 0);
	reopen(f);
	assert_str_value(f->s, "/x/y/z", "value two", 9);
	assert_str_value(f->s, "/x/y/e", "", 0);
	assert_str_value(f->s, "/a.txt", "new a", 5);
	struct tapir_kv_entry *e;
	size_t n;
	assert_int_equal(tapir_kv_list(f->s, K("/x/y"), &e, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(e[0].name, "e");
	assert_string_equal(e[1].name, "z");
	tapir_kv_entries_free(e, n);
	struct timespec t;
	assert_int_equal(tapir_kv_last_modified(f->s, K("/x/y/z"), &t), 0);
	assert_true(t.tv_sec >= time(NULL) - 60);
}

static void t_set_errors(void **state)
{
	struct fx *f = *state;
	assert_int_equal(tapir_kv_set(f->s, K("/a.txt/x"), "1", 1), -TAPIR_KV_E_DICT_EXPECTED);
	assert_int_equal(tapir_kv_set(f->s, K("/a.txt/x/y"), "1", 1), -TAPIR_KV_E_DICT_EXPECTED);
	assert_int_equal(tapir_kv_set(f->s, K("/b"), "1", 1), -TAPIR_KV_E_VALUE_EXPECTED);
	assert_int_equal(tapir_kv_set(f->s, K("/"), "1", 1), -TAPIR_KV_E_VALUE_EXPECTED);
	assert_int_equal(tapir_kv_set_partial(f->s, K("/b/d"), 0, "1", 1), -TAPIR_KV_E_VALUE_EXPECTED);
	assert_str_value(f->s, "/a.txt", "hello\n", 6);
	assert_int_equal(kind_of(f->s, "/b"), TAPIR_KV_DICT);
}

static void t_set_partial(void **state)
{
	struct fx *f = *state;
	assert_int_equal(tapir_kv_set(f->s, K("/p"), "hello", 5), 0);
	assert_int_equal(tapir_kv_set_partial(f->s, K("/p"), 1, "EL", 2), 0);
	assert_str_value(f->s, "/p", "hELlo", 5);
	assert_int_equal(tapir_kv_set_partial(f->s, K("/p"), 7, "x", 1), 0);
	assert_str_value(f->s, "/p", "hELlo\0\0x", 8);
	assert_int_equal(tapir_kv_set_partial(f->s, K("/q/r"), 2, "ab", 2), 0);
	assert_str_value(f->s, "/q/r", "\0\0ab", 4);
	reopen(f);
	assert_str_value(f->s, "/p", "hELlo\0\0x", 8);
}

static void t_remove(void **state)
{
	struct fx *f = *state;
	if (f->kind == S_TAR) {
		/* GNU tar wrote a.txt last: it could go; b/c.txt cannot. */
		assert_int_equal(tapir_kv_remove(f->s, K("/b/c.txt")), -TAPIR_KV_E_APPEND_ONLY);
		assert_int_equal(tapir_kv_remove(f->s, K("/b")), -TAPIR_KV_E_APPEND_ONLY);
		assert_int_equal(tapir_kv_set(f->s, K("/n/last"), "L", 1), 0);
		assert_int_equal(tapir_kv_remove(f->s, K("/n/last")), 0);
		assert_int_equal(kind_of(f->s, "/n/last"), TAPIR_KV_NONE);
		assert_int_equal(kind_of(f->s, "/n"), TAPIR_KV_NONE);
		reopen(f);
		assert_int_equal(kind_of(f->s, "/n/last"), TAPIR_KV_NONE);
		assert_str_value(f->s, "/a.txt", "hello\n", 6);
		/* The old last member was already gone: nothing else can go. */
		assert_int_equal(tapir_kv_remove(f->s, K("/zeta")), -TAPIR_KV_E_APPEND_ONLY);
		return;
	}
	assert_int_equal(tapir_kv_remove(f->s, K("/a.txt")), 0);
	assert_int_equal(kind_of(f->s, "/a.txt"), TAPIR_KV_NONE);
	assert_int_equal(tapir_kv_remove(f->s, K("/b")), 0);
	assert_int_equal(kind_of(f->s, "/b"), TAPIR_KV_NONE);
	assert_int_equal(kind_of(f->s, "/b/d/e.bin"), TAPIR_KV_NONE);
	assert_int_equal(tapir_kv_remove(f->s, K("/b")), -TAPIR_KV_E_NOT_FOUND);
	assert_int_equal(tapir_kv_remove(f->s, K("/")), -TAPIR_KV_E_INVALID);
	reopen(f);
	struct tapir_kv_entry *e;
	size_t n;
	assert_int_equal(tapir_kv_list(f->s, K("/"), &e, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(e[0].name, "empty");
	assert_string_equal(e[1].name, "zeta");
	tapir_kv_entries_free(e, n);
}

static void t_rename(void **state)
{
	struct fx *f = *state;
	assert_int_equal(tapir_kv_rename(f->s, K("/b"), K("/b/x")), -TAPIR_KV_E_RENAME_PREFIX);
	assert_int_equal(tapir_kv_rename(f->s, K("/b"), K("/b")), -TAPIR_KV_E_RENAME_PREFIX);
	assert_int_equal(tapir_kv_rename(f->s, K("/"), K("/x")), -TAPIR_KV_E_RENAME_PREFIX);
	assert_int_equal(tapir_kv_rename(f->s, K("/nope"), K("/x")), -TAPIR_KV_E_NOT_FOUND);
	assert_int_equal(tapir_kv_rename(f->s, K("/a.txt"), K("/b")), -TAPIR_KV_E_ALREADY_PRESENT);
	assert_int_equal(tapir_kv_rename(f->s, K("/a.txt"), K("/zeta/x")), -TAPIR_KV_E_DICT_EXPECTED);
	if (f->kind == S_TAR) {
		assert_int_equal(tapir_kv_rename(f->s, K("/b/c.txt"), K("/n")), -TAPIR_KV_E_APPEND_ONLY);
		assert_int_equal(tapir_kv_rename(f->s, K("/b"), K("/n")), -TAPIR_KV_E_APPEND_ONLY);
		assert_int_equal(tapir_kv_set(f->s, K("/last"), "L!", 2), 0);
		assert_int_equal(tapir_kv_rename(f->s, K("/last"), K("/moved/here")), 0);
		assert_int_equal(kind_of(f->s, "/last"), TAPIR_KV_NONE);
		reopen(f);
		assert_int_equal(kind_of(f->s, "/last"), TAPIR_KV_NONE);
		assert_str_value(f->s, "/moved/here", "L!", 2);
		return;
	}
	assert_int_equal(tapir_kv_rename(f->s, K("/b"), K("/zeta")), -TAPIR_KV_E_ALREADY_PRESENT);
	assert_int_equal(tapir_kv_rename(f->s, K("/a.txt"), K("/n/m.txt")), 0);
	assert_int_equal(kind_of(f->s, "/a.txt"), TAPIR_KV_NONE);
	assert_str_value(f->s, "/n/m.txt", "hello\n", 6);
	assert_int_equal(tapir_kv_rename(f->s, K("/b"), K("/c/b2")), 0);
	assert_int_equal(kind_of(f->s, "/b"), TAPIR_KV_NONE);
	assert_str_value(f->s, "/c/b2/d/e.bin", "\x00\x01\x02" "binary\xff\xfe\n", 12);
	/* A value replaces a value. */
	assert_int_equal(tapir_kv_rename(f->s, K("/zeta"), K("/n/m.txt")), 0);
	assert_str_value(f->s, "/n/m.txt", "zz", 2);
	reopen(f);
	assert_str_value(f->s, "/c/b2/c.txt", "nested c\n", 9);
	assert_int_equal(kind_of(f->s, "/zeta"), TAPIR_KV_NONE);
}

struct bctx {
	struct tapir_kv_store *base;
	int step;
	bool with_removes;
};

static int batch_ok(struct tapir_kv_store *txn, void *arg)
{
	struct bctx *c = arg;
	enum tapir_kv_kind k;
	assert_int_equal(tapir_kv_set(txn, K("/t/1"), "one", 3), 0);
	assert_int_equal(tapir_kv_set(txn, K("/t/2"), "two", 3), 0);
	assert_int_equal(tapir_kv_set_partial(txn, K("/t/2"), 3, "!", 1), 0);
	/* The transaction sees its writes; the store does not yet. */
	assert_str_value(txn, "/t/2", "two!", 4);
	assert_int_equal(tapir_kv_exists(c->base, K("/t/1"), &k), 0);
	assert_int_equal(k, TAPIR_KV_NONE);
	assert_int_equal(tapir_kv_set(c->base, K("/direct"), "x", 1), -TAPIR_KV_E_INVALID);
	struct tapir_kv_entry *e;
	size_t n;
	assert_int_equal(tapir_kv_list(txn, K("/t"), &e, &n), 0);
	assert_int_equal(n, 2);
	tapir_kv_entries_free(e, n);
	assert_int_equal(tapir_kv_list(txn, K("/"), &e, &n), 0);
	assert_int_equal(n, 5);
	tapir_kv_entries_free(e, n);
	if (c->with_removes) {
		assert_int_equal(tapir_kv_remove(txn, K("/b")), 0);
		assert_int_equal(tapir_kv_exists(txn, K("/b/c.txt"), &k), 0);
		assert_int_equal(k, TAPIR_KV_NONE);
		assert_int_equal(tapir_kv_rename(txn, K("/a.txt"), K("/b")), 0);
		assert_int_equal(tapir_kv_rename(txn, K("/t"), K("/u/t")), 0);
		assert_str_value(txn, "/u/t/1", "one", 3);
		assert_int_equal(tapir_kv_set(txn, K("/b2/again"), "A", 1), 0);
		assert_int_equal(tapir_kv_remove(txn, K("/b2")), 0);
		assert_int_equal(tapir_kv_set(txn, K("/b2/x"), "X", 1), 0);
	}
	return 0;
}

static int batch_abort(struct tapir_kv_store *txn, void *arg)
{
	assert_int_equal(tapir_kv_set(txn, K("/ab/1"), "x", 1), 0);
	return -TAPIR_KV_E_INVALID;
}

static int batch_bad_op(struct tapir_kv_store *txn, void *arg)
{
	assert_int_equal(tapir_kv_set(txn, K("/bo/1"), "x", 1), 0);
	/* After batch_ok, /u (mem, dir) or /t (tar) is a dictionary. */
	int rc = tapir_kv_set(txn, K(*(bool *)arg ? "/u" : "/t"), "not a dict", 10);
	assert_int_equal(rc, -TAPIR_KV_E_VALUE_EXPECTED);
	return rc;
}

static void t_batch(void **state)
{
	struct fx *f = *state;
	struct bctx c = { f->s, 0, f->kind != S_TAR };
	assert_int_equal(tapir_kv_batch(f->s, batch_ok, &c), 0);
	reopen(f);
	if (c.with_removes) {
		assert_str_value(f->s, "/u/t/1", "one", 3);
		assert_str_value(f->s, "/u/t/2", "two!", 4);
		assert_str_value(f->s, "/b", "hello\n", 6);
		assert_str_value(f->s, "/b2/x", "X", 1);
		assert_int_equal(kind_of(f->s, "/b2/again"), TAPIR_KV_NONE);
		assert_int_equal(kind_of(f->s, "/a.txt"), TAPIR_KV_NONE);
		assert_int_equal(kind_of(f->s, "/t"), TAPIR_KV_NONE);
	} else {
		assert_str_value(f->s, "/t/1", "one", 3);
		assert_str_value(f->s, "/t/2", "two!", 4);
	}
	assert_int_equal(tapir_kv_batch(f->s, batch_abort, NULL), -TAPIR_KV_E_INVALID);
	assert_int_equal(kind_of(f->s, "/ab"), TAPIR_KV_NONE);
	assert_int_equal(tapir_kv_batch(f->s, batch_bad_op, &c.with_removes), -TAPIR_KV_E_VALUE_EXPECTED);
	assert_non_null(strstr(tapir_kv_last_error(f->s), "dictionary"));
	assert_int_equal(kind_of(f->s, "/bo"), TAPIR_KV_NONE);
	reopen(f);
	assert_int_equal(kind_of(f->s, "/bo"), TAPIR_KV_NONE);
	assert_int_equal(kind_of(f->s, "/ab"), TAPIR_KV_NONE);
}

static int batch_tar_remove(struct tapir_kv_store *txn, void *arg)
{
	assert_int_equal(tapir_kv_set(txn, K("/new"), "n", 1), 0);
	return tapir_kv_remove(txn, K("/a.txt"));
}

static void t_batch_tar_append_only(void **state)
{
	struct fx *f = *state;
	if (f->kind != S_TAR)
		return;
	assert_int_equal(tapir_kv_batch(f->s, batch_tar_remove, NULL), -TAPIR_KV_E_APPEND_ONLY);
	assert_int_equal(kind_of(f->s, "/new"), TAPIR_KV_NONE);
	assert_str_value(f->s, "/a.txt", "hello\n", 6);
}

static void t_keys(void **state)
{
	struct tapir_kv_key k;
	assert_int_equal(tapir_kv_key_parse("", &k), 0);
	assert_int_equal(k.n, 0);
	char *s = tapir_kv_key_to_string(&k);
	assert_string_equal(s, "/");
	free(s);
	tapir_kv_key_free(&k);
	assert_int_equal(tapir_kv_key_parse("/", &k), 0);
	assert_int_equal(k.n, 0);
	tapir_kv_key_free(&k);
	assert_int_equal(tapir_kv_key_parse("//a///b/", &k), 0);
	assert_int_equal(k.n, 2);
	assert_string_equal(k.seg[0], "a");
	assert_string_equal(k.seg[1], "b");
	s = tapir_kv_key_to_string(&k);
	assert_string_equal(s, "/a/b");
	free(s);
	tapir_kv_key_free(&k);
	assert_int_equal(tapir_kv_key_parse("/a/./b", &k), -TAPIR_KV_E_INVALID);
	assert_int_equal(tapir_kv_key_parse("/a/../b", &k), -TAPIR_KV_E_INVALID);
	assert_int_equal(tapir_kv_key_parse("..", &k), -TAPIR_KV_E_INVALID);
	assert_int_equal(tapir_kv_key_parse("/a/...b/..c", &k), 0);
	assert_int_equal(k.n, 3);
	tapir_kv_key_free(&k);
	/* No length limit of our own. */
	char big[5000];
	memset(big, 'k', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	big[0] = '/';
	assert_int_equal(tapir_kv_key_parse(big, &k), 0);
	assert_int_equal(k.n, 1);
	tapir_kv_key_free(&k);
	assert_true(tapir_kv_key_is_prefix(K("/a"), K("/a/b")));
	assert_false(tapir_kv_key_is_prefix(K("/a/b"), K("/a")));
	assert_false(tapir_kv_key_is_prefix(K("/ab"), K("/a/b")));
	assert_string_equal(tapir_kv_strerror(-TAPIR_KV_E_RENAME_PREFIX),
			    "rename source is a prefix of destination");
	assert_string_equal(tapir_kv_strerror(TAPIR_KV_E_APPEND_ONLY), "append only");
	assert_string_equal(tapir_kv_strerror(999), "unknown error");
	struct tapir_kv_store *s2;
	char err[128];
	assert_int_equal(tapir_kv_open("nope:x", false, &s2, err, sizeof(err)), -TAPIR_KV_E_INVALID);
	assert_non_null(strstr(err, "unknown store"));
	assert_int_equal(tapir_kv_open("embedded:nosuch", false, &s2, err, sizeof(err)),
			 -TAPIR_KV_E_NOT_FOUND);
	assert_int_equal(tapir_kv_open("embedded:kvfixture", true, &s2, err, sizeof(err)),
			 -TAPIR_KV_E_INVALID);
	assert_int_equal(tapir_kv_open("dir:/nonexistent/x", false, &s2, err, sizeof(err)),
			 -TAPIR_KV_E_NOT_FOUND);
	assert_int_equal(tapir_kv_open("tar:/nonexistent/x.tar", false, &s2, err, sizeof(err)),
			 -TAPIR_KV_E_NOT_FOUND);
	tk_reset();
}

/* A value replaced (set) while it is open: dir reads the file it opened,
 * whole and unchanged; the other stores read by key, the new bytes.  A
 * removed value: dir still reads it, the others find it gone. */
static void t_value_replaced(void **state)
{
	struct fx *f = *state;
	if (f->kind == S_TAR)
		return;  /* append only: a value is never replaced */
	struct tapir_kv_value *v;
	struct tapir_kv_stat st;
	uint8_t buf[16];
	assert_int_equal(tapir_kv_value_open(f->s, K("/a.txt"), &v, &st), 0);
	assert_int_equal(st.size, 6);
	assert_int_equal(tapir_kv_set(f->s, K("/a.txt"), "HELLO!", 6), 0);
	assert_int_equal(tapir_kv_value_read(v, 0, buf, sizeof(buf)), 6);
	assert_memory_equal(buf, f->kind == S_DIR ? "hello\n" : "HELLO!", 6);
	assert_int_equal(tapir_kv_remove(f->s, K("/a.txt")), 0);
	int64_t n = tapir_kv_value_read(v, 0, buf, sizeof(buf));
	if (f->kind == S_DIR) {
		assert_int_equal(n, 6);
		assert_memory_equal(buf, "hello\n", 6);
	} else {
		assert_int_equal(n, -TAPIR_KV_E_NOT_FOUND);
		assert_true(strlen(tapir_kv_value_error(v)) > 0);
	}
	tapir_kv_value_close(v);
	tk_reset();
}

static struct fx protos[2][4];

#define RO(fn, k) cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, &protos[0][k])
#define RW(fn, k) cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, &protos[1][k])
#define RO_ALL(k) RO(t_exists, k), RO(t_get, k), RO(t_partial, k), RO(t_list, k), \
	RO(t_digest, k), RO(t_last_modified, k), RO(t_readonly, k), RO(t_bad_keys, k), RO(t_retain, k), \
	RO(t_value_open, k)
#define RW_ALL(k) RW(t_set, k), RW(t_set_errors, k), RW(t_set_partial, k), RW(t_remove, k), \
	RW(t_rename, k), RW(t_batch, k), RW(t_exists, k), RW(t_get, k), RW(t_list, k), \
	RW(t_digest, k), RW(t_bad_keys, k), RW(t_value_open, k), RW(t_value_replaced, k)

int main(void)
{
	for (int k = 0; k < 4; k++) {
		protos[0][k].kind = (enum kind)k;
		protos[1][k].kind = (enum kind)k;
		protos[1][k].rw = true;
	}
	const struct CMUnitTest keys[] = { cmocka_unit_test(t_keys) };
	const struct CMUnitTest mem[] = { RO_ALL(S_MEM), RW_ALL(S_MEM) };
	const struct CMUnitTest dir[] = { RO_ALL(S_DIR), RW_ALL(S_DIR) };
	const struct CMUnitTest tar[] = { RO_ALL(S_TAR), RW_ALL(S_TAR),
					  RW(t_batch_tar_append_only, S_TAR) };
	const struct CMUnitTest emb[] = { RO_ALL(S_EMB) };
	int fails = 0;
	fails += cmocka_run_group_tests_name("keys", keys, NULL, NULL);
	fails += cmocka_run_group_tests_name(kind_names[S_MEM], mem, NULL, NULL);
	fails += cmocka_run_group_tests_name(kind_names[S_DIR], dir, NULL, NULL);
	fails += cmocka_run_group_tests_name(kind_names[S_TAR], tar, NULL, NULL);
	fails += cmocka_run_group_tests_name(kind_names[S_EMB], emb, NULL, NULL);
	return fails ? 1 : 0;
}

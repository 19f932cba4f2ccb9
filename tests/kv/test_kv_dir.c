/*
 * test_kv_dir.c - directory store: path traversal, locking, crash safety
 *
 * The crash test forks a writer that loops over set and batch on a dir
 * store, SIGKILLs it at a random moment (seeded, KV_CRASH_SEED), reopens the
 * store (which replays or discards the journal) and checks that every key
 * holds a whole value of some generation, that the keys only ever written
 * together by one batch all hold the same generation, and that no staging
 * file is left behind.  200 kills.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "kv_test_util.h"

static struct tapir_kv_store *open_dir(const char *path, bool rw)
{
	char spec[1100], err[256] = "";
	struct tapir_kv_store *s = NULL;
	snprintf(spec, sizeof(spec), "dir:%s", path);
	if (tapir_kv_open(spec, rw, &s, err, sizeof(err)))
		fprintf(stderr, "open %s: %s\n", spec, err);
	return s;
}

static void t_traversal(void **state)
{
	char *top = tmpdir_new("trav");
	char root[1024];
	snprintf(root, sizeof(root), "%s/root", top);
	assert_int_equal(sh("mkdir -p '%s/root/sub' '%s/outside' && echo secret > '%s/outside/s' && "
			    "echo hi > '%s/a.txt' && ln -s a.txt '%s/inlink' && "
			    "ln -s ../a.txt '%s/sub/up' && ln -s ../outside '%s/esc' && "
			    "ln -s /etc '%s/etc' && ln -s ../outside/s '%s/escfile'",
			    top, top, top, root, root, root, root, root, root), 0);
	struct tapir_kv_store *s = open_dir(root, true);
	assert_non_null(s);
	enum tapir_kv_kind k;
	uint8_t *v;
	size_t n;
	/* Symlinks that stay inside are followed. */
	assert_int_equal(tapir_kv_get(s, K("/inlink"), &v, &n), 0);
	assert_memory_equal(v, "hi\n", 3);
	free(v);
	assert_int_equal(tapir_kv_get(s, K("/sub/up"), &v, &n), 0);
	free(v);
	/* Those that lead out are refused, for reads and writes. */
	assert_int_equal(tapir_kv_get(s, K("/esc/s"), &v, &n), -TAPIR_KV_E_INVALID);
	assert_non_null(strstr(tapir_kv_last_error(s), "escapes"));
	assert_int_equal(tapir_kv_get(s, K("/escfile"), &v, &n), -TAPIR_KV_E_INVALID);
	assert_int_equal(tapir_kv_get(s, K("/etc/passwd"), &v, &n), -TAPIR_KV_E_INVALID);
	assert_int_equal(tapir_kv_exists(s, K("/esc"), &k), -TAPIR_KV_E_INVALID);
	assert_int_equal(tapir_kv_set(s, K("/esc/pwn"), "x", 1), -TAPIR_KV_E_INVALID);
	assert_int_equal(tapir_kv_set(s, K("/esc/new/pwn"), "x", 1), -TAPIR_KV_E_INVALID);
	assert_int_equal(tapir_kv_set_partial(s, K("/escfile"), 0, "x", 1), -TAPIR_KV_E_INVALID);
	assert_int_equal(tapir_kv_rename(s, K("/a.txt"), K("/esc/a")), -TAPIR_KV_E_INVALID);
	assert_int_equal(tapir_kv_rename(s, K("/esc/s"), K("/stolen")), -TAPIR_KV_E_INVALID);
	assert_int_equal(tapir_kv_remove(s, K("/esc/s")), -TAPIR_KV_E_INVALID);
	struct stat st;
	char p[1200];
	snprintf(p, sizeof(p), "%s/outside/pwn", top);
	assert_int_equal(stat(p, &st), -1);
	snprintf(p, sizeof(p), "%s/outside/new", top);
	assert_int_equal(stat(p, &st), -1);
	snprintf(p, sizeof(p), "%s/outside/s", top);
	assert_int_equal(stat(p, &st), 0);
	/* Listings hide them. */
	struct tapir_kv_entry *e;
	assert_int_equal(tapir_kv_list(s, K("/"), &e, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(e[0].name, "a.txt");
	assert_string_equal(e[1].name, "inlink");
	assert_string_equal(e[2].name, "sub");
	tapir_kv_entries_free(e, n);
	/* Reserved names. */
	assert_int_equal(tapir_kv_set(s, K("/.tapir-kv-journal"), "x", 1), -TAPIR_KV_E_INVALID);
	assert_int_equal(tapir_kv_get(s, K("/d/.tapir-kv-tmp.1"), &v, &n), -TAPIR_KV_E_INVALID);
	/* One writer at a time. */
	char spec[1100], err[256];
	struct tapir_kv_store *s2;
	snprintf(spec, sizeof(spec), "dir:%s", root);
	assert_int_equal(tapir_kv_open(spec, true, &s2, err, sizeof(err)), -TAPIR_KV_E_STORAGE);
	assert_non_null(strstr(err, "another process"));
	assert_int_equal(tapir_kv_open(spec, false, &s2, err, sizeof(err)), 0);
	tapir_kv_close(s2);
	tapir_kv_close(s);
	tmpdir_rm(top);
	tk_reset();
}

/* A recognisable value: header + body derived from (gen, key, len). */
static size_t make_value(uint8_t *buf, uint32_t gen, uint32_t key, uint32_t len)
{
	int h = snprintf((char *)buf, 64, "gen=%08u key=%02u len=%08u\n", gen, key, len);
	for (uint32_t j = (uint32_t)h; j < len; j++)
		buf[j] = (uint8_t)(gen * 31u + key + j);
	return len;
}

/* Return: the generation of a whole value for @key, or -1 if it is torn. */
static long check_value(const uint8_t *v, size_t n, uint32_t key)
{
	unsigned gen, k, len;
	char hdr[64];
	if (n < 38)
		return -1;
	memcpy(hdr, v, 38);
	hdr[38] = 0;
	if (sscanf(hdr, "gen=%08u key=%02u len=%08u\n", &gen, &k, &len) != 3 || k != key ||
	    len != n)
		return -1;
	for (size_t j = 38; j < n; j++)
		if (v[j] != (uint8_t)(gen * 31u + key + j))
			return -1;
	return gen;
}

#define NSINGLE 6
#define NBATCH 16

struct wctx {
	uint32_t gen;
	unsigned seed;
	uint8_t *buf;
};

static int writer_batch(struct tapir_kv_store *txn, void *arg)
{
	struct wctx *c = arg;
	for (uint32_t i = 0; i < NBATCH; i++) {
		char key[32];
		uint32_t len = 64 + (uint32_t)(rand_r(&c->seed) % 2048);
		snprintf(key, sizeof(key), "/b/%u", i);
		make_value(c->buf, c->gen, 50 + i, len);
		if (tapir_kv_set(txn, K(key), c->buf, len))
			return -TAPIR_KV_E_STORAGE;
	}
	/* A removal in the batch too: /b/tmp exists after every other batch. */
	enum tapir_kv_kind k;
	tapir_kv_exists(txn, K("/b/x/tmp"), &k);
	if (k == TAPIR_KV_VALUE)
		return tapir_kv_remove(txn, K("/b/x"));
	return tapir_kv_set(txn, K("/b/x/tmp"), "t", 1);
}

static void writer(const char *root, uint32_t gen, unsigned seed)
{
	struct tapir_kv_store *s = open_dir(root, true);
	struct wctx c = { gen, seed, malloc(1 << 16) };
	if (!s || !c.buf)
		_exit(3);
	for (;;) {
		c.gen++;
		if (rand_r(&c.seed) % 3 == 0) {
			if (tapir_kv_batch(s, writer_batch, &c))
				_exit(4);
		} else {
			uint32_t key = (uint32_t)(rand_r(&c.seed) % NSINGLE);
			uint32_t len = 64 + (uint32_t)(rand_r(&c.seed) % 32768);
			char k[32];
			snprintf(k, sizeof(k), "/s/%u", key);
			make_value(c.buf, c.gen, key, len);
			if (tapir_kv_set(s, K(k), c.buf, len))
				_exit(5);
		}
	}
}

static void verify(const char *root, unsigned round)
{
	struct tapir_kv_store *s = open_dir(root, true);
	assert_non_null(s);
	uint8_t *v;
	size_t n;
	for (uint32_t i = 0; i < NSINGLE; i++) {
		char k[32];
		snprintf(k, sizeof(k), "/s/%u", i);
		assert_int_equal(tapir_kv_get(s, K(k), &v, &n), 0);
		if (check_value(v, n, i) < 0)
			fail_msg("round %u: %s is torn (%zu bytes)", round, k, n);
		free(v);
	}
	long bgen = -1;
	for (uint32_t i = 0; i < NBATCH; i++) {
		char k[32];
		snprintf(k, sizeof(k), "/b/%u", i);
		assert_int_equal(tapir_kv_get(s, K(k), &v, &n), 0);
		long g = check_value(v, n, 50 + i);
		free(v);
		if (g < 0)
			fail_msg("round %u: %s is torn", round, k);
		if (i && g != bgen)
			fail_msg("round %u: batch torn: /b/0 gen %ld, %s gen %ld", round, bgen, k, g);
		bgen = g;
	}
	tapir_kv_close(s);
	/* Recovery left no staging file, trash or journal. */
	DIR *d = opendir(root);
	struct dirent *de;
	assert_non_null(d);
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, ".tapir-kv-", 10))
			fail_msg("round %u: left over %s", round, de->d_name);
	closedir(d);
	tk_reset();
}

static int init_batch(struct tapir_kv_store *txn, void *arg)
{
	struct wctx *c = arg;
	for (uint32_t i = 0; i < NBATCH; i++) {
		char key[32];
		snprintf(key, sizeof(key), "/b/%u", i);
		make_value(c->buf, 0, 50 + i, 100);
		assert_int_equal(tapir_kv_set(txn, K(key), c->buf, 100), 0);
	}
	return 0;
}

static void t_crash(void **state)
{
	char *root = tmpdir_new("crash");
	const char *se = getenv("KV_CRASH_SEED");
	unsigned seed = se ? (unsigned)strtoul(se, NULL, 0) : 20240611u;
	uint8_t buf[256];
	struct tapir_kv_store *s = open_dir(root, true);
	assert_non_null(s);
	for (uint32_t i = 0; i < NSINGLE; i++) {
		char k[32];
		snprintf(k, sizeof(k), "/s/%u", i);
		make_value(buf, 0, i, 200);
		assert_int_equal(tapir_kv_set(s, K(k), buf, 200), 0);
	}
	struct wctx c = { 0, 0, malloc(1 << 16) };
	assert_int_equal(tapir_kv_batch(s, init_batch, &c), 0);
	free(c.buf);
	tapir_kv_close(s);
	tk_reset();

	unsigned rounds = 200, replays = 0;
	for (unsigned r = 0; r < rounds; r++) {
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0)
			writer(root, (r + 1) * 100000u, seed + r);
		/* Kill 0.2 to 100 ms in: a set takes ~10 ms and a batch ~50 ms here
		 * (device flushes), so kills land in every phase of both. */
		struct timespec ts = { 0, 200000 + (long)(rand_r(&seed) % 100000) * 1000 };
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		int st;
		assert_int_equal(waitpid(pid, &st, 0), pid);
		if (!(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL))
			fail_msg("writer exited by itself (status %d)", st);
		char jp[1100];
		struct stat sb;
		snprintf(jp, sizeof(jp), "%s/.tapir-kv-journal", root);
		if (!stat(jp, &sb))
			replays++;
		verify(root, r);
	}
	print_message("%u kills, %u with a journal to replay\n", rounds, replays);
	tmpdir_rm(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_traversal),
		cmocka_unit_test(t_crash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

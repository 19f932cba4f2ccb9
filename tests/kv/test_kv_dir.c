/*
 * test_kv_dir.c - directory store: path traversal, locking, crash safety
 *
 * The crash test forks a writer that loops over set and batch on a dir
 * store, SIGKILLs it at a random moment (seeded, KV_CRASH_SEED), reopens the
 * store (which replays or discards the journal) and checks that every key
 * holds a whole value of some generation, that the keys only ever written
 * together by one batch all hold the same generation, and that no staging
 * file is left behind.  200 kills.
 *
 * The crafted-journal tests plant journals that verify but name a staged file
 * outside the store's staging names (traversal, absolute path, a symlink, an
 * oversized name), and journals that do not verify (truncated, oversized,
 * not a regular file): none is replayed, each is moved aside and counted, and
 * a read-only open changes nothing.
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

#include <openssl/evp.h>

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


/* Journal records for write_journal(): type 'S' or 'R', key, staged name. */
struct jr {
	char type;
	const char *key, *tmp;
};

static void put32(FILE *f, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	fwrite(x, 1, 4, f);
}

/* Write a journal that verifies (magic, records, SHA-256) to @root; cut it to @cut bytes if set. */
static void write_journal(const char *root, const struct jr *r, size_t n, long cut)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	fputs("TAPIRKV-JOURNAL1\n", m);
	put32(m, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		fputc(r[i].type, m);
		put32(m, (uint32_t)strlen(r[i].key));
		fputs(r[i].key, m);
		put32(m, (uint32_t)strlen(r[i].tmp));
		fputs(r[i].tmp, m);
	}
	fclose(m);
	uint8_t sum[32];
	unsigned sl = 32;
	EVP_Digest(buf, len, sum, &sl, EVP_sha256(), NULL);
	char p[1200];
	snprintf(p, sizeof(p), "%s/.tapir-kv-journal", root);
	FILE *f = fopen(p, "wb");
	assert_non_null(f);
	fwrite(buf, 1, len, f);
	fwrite(sum, 1, 32, f);
	fclose(f);
	if (cut >= 0)
		assert_int_equal(truncate(p, cut), 0);
	free(buf);
}

static bool exists_at(const char *dir, const char *name)
{
	char p[1200];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return !lstat(p, &st);
}

/*
 * Plant the journal made by @plant in a fresh store beside an outside
 * "secret", check that a read-only open refuses it and changes nothing, then
 * that a writable open moves it aside without replaying it.
 */
static void crafted(const char *tag, void (*plant)(const char *top, const char *root))
{
	char *top = tmpdir_new(tag);
	char root[1024];
	snprintf(root, sizeof(root), "%s/root", top);
	assert_int_equal(sh("mkdir -p '%s/root/d' && echo secret > '%s/secret' && "
			    "echo old > '%s/d/v'", top, top, root), 0);
	plant(top, root);
	/* Read-only: refused, nothing moved, the journal left for a writer. */
	char spec[1100], err[512] = "";
	struct tapir_kv_store *s = NULL;
	snprintf(spec, sizeof(spec), "dir:%s", root);
	assert_int_equal(tapir_kv_open(spec, false, &s, err, sizeof(err)), -TAPIR_KV_E_STORAGE);
	assert_non_null(strstr(err, "interrupted batch"));
	assert_true(exists_at(root, ".tapir-kv-journal"));
	assert_false(exists_at(root, ".tapir-kv-quarantine.journal"));
	assert_true(exists_at(top, "secret"));
	/* Writable: moved aside, counted, never replayed. */
	unsigned long before = tapir_kv_dir_journals_refused();
	s = open_dir(root, true);
	assert_non_null(s);
	assert_int_equal(tapir_kv_dir_journals_refused(), before + 1);
	assert_false(exists_at(root, ".tapir-kv-journal"));
	assert_true(exists_at(root, ".tapir-kv-quarantine.journal"));
	assert_true(exists_at(top, "secret"));
	uint8_t *v;
	size_t n;
	assert_int_equal(tapir_kv_get(s, K("/stolen"), &v, &n), -TAPIR_KV_E_NOT_FOUND);
	assert_int_equal(tapir_kv_get(s, K("/d/v"), &v, &n), 0);
	assert_memory_equal(v, "old\n", 4);
	free(v);
	struct tapir_kv_entry *e;
	assert_int_equal(tapir_kv_list(s, K("/"), &e, &n), 0);
	assert_int_equal(n, 1);
	tapir_kv_entries_free(e, n);
	/* The store works on, and a later batch replaces nothing of the quarantine. */
	assert_int_equal(tapir_kv_set(s, K("/d/v"), "new", 3), 0);
	tapir_kv_close(s);
	/* Reopening finds no journal: nothing more is counted. */
	s = open_dir(root, false);
	assert_non_null(s);
	assert_int_equal(tapir_kv_dir_journals_refused(), before + 1);
	tapir_kv_close(s);
	tmpdir_rm(top);
	tk_reset();
}

static void plant_traversal(const char *top, const char *root)
{
	(void)top;
	struct jr r[] = { { 'R', "/d/v", "" }, { 'S', "/stolen", ".tapir-kv-tmp./../../secret" } };
	write_journal(root, r, 2, -1);
}

static void plant_absolute(const char *top, const char *root)
{
	char abs[1100];
	snprintf(abs, sizeof(abs), "%s/secret", top);
	struct jr r[] = { { 'S', "/stolen", abs } };
	write_journal(root, r, 1, -1);
}

static void plant_symlink(const char *top, const char *root)
{
	assert_int_equal(sh("ln -s '%s/secret' '%s/.tapir-kv-tmp.1.1'", top, root), 0);
	struct jr r[] = { { 'S', "/stolen", ".tapir-kv-tmp.1.1" } };
	write_journal(root, r, 1, -1);
}

static void plant_hardlink(const char *top, const char *root)
{
	assert_int_equal(sh("ln '%s/secret' '%s/.tapir-kv-tmp.1.1'", top, root), 0);
	struct jr r[] = { { 'S', "/stolen", ".tapir-kv-tmp.1.1" } };
	write_journal(root, r, 1, -1);
}

static void plant_reserved_key(const char *top, const char *root)
{
	(void)top;
	assert_int_equal(sh("echo x > '%s/.tapir-kv-tmp.1.1'", root), 0);
	struct jr r[] = { { 'S', "/.tapir-kv-journal", ".tapir-kv-tmp.1.1" } };
	write_journal(root, r, 1, -1);
}

static void plant_long_name(const char *top, const char *root)
{
	(void)top;
	char name[300] = ".tapir-kv-tmp.";
	memset(name + 14, '1', 250);
	name[264] = 0;
	struct jr r[] = { { 'S', "/stolen", name } };
	write_journal(root, r, 1, -1);
}

static void plant_truncated(const char *top, const char *root)
{
	(void)top;
	assert_int_equal(sh("echo x > '%s/.tapir-kv-tmp.1.1'", root), 0);
	struct jr r[] = { { 'R', "/d/v", "" }, { 'S', "/stolen", ".tapir-kv-tmp.1.1" } };
	write_journal(root, r, 2, 30);
}

static void plant_oversized(const char *top, const char *root)
{
	(void)top;
	/* Sparse: larger than any journal (256 MiB) without using the disk. */
	assert_int_equal(sh("truncate -s 300M '%s/.tapir-kv-journal'", root), 0);
}

static void plant_symlink_journal(const char *top, const char *root)
{
	assert_int_equal(sh("ln -s '%s/secret' '%s/.tapir-kv-journal'", top, root), 0);
}

static void plant_fifo(const char *top, const char *root)
{
	(void)top;
	assert_int_equal(sh("mkfifo '%s/.tapir-kv-journal'", root), 0);
}

static void t_journal_traversal(void **state) { (void)state; crafted("jtrav", plant_traversal); }
static void t_journal_absolute(void **state) { (void)state; crafted("jabs", plant_absolute); }
static void t_journal_symlink(void **state) { (void)state; crafted("jsym", plant_symlink); }
static void t_journal_hardlink(void **state) { (void)state; crafted("jhard", plant_hardlink); }
static void t_journal_reserved(void **state) { (void)state; crafted("jres", plant_reserved_key); }
static void t_journal_long(void **state) { (void)state; crafted("jlong", plant_long_name); }
static void t_journal_truncated(void **state) { (void)state; crafted("jtrunc", plant_truncated); }
static void t_journal_oversized(void **state) { (void)state; crafted("jbig", plant_oversized); }
static void t_journal_link(void **state) { (void)state; crafted("jlink", plant_symlink_journal); }
static void t_journal_fifo(void **state) { (void)state; crafted("jfifo", plant_fifo); }

/* A genuine journal (staged file present) is still replayed by a writable open. */
static void t_journal_genuine(void **state)
{
	(void)state;
	char *root = tmpdir_new("jok");
	assert_int_equal(sh("mkdir -p '%s/d' && echo old > '%s/d/v' && echo new > "
			    "'%s/.tapir-kv-tmp.7.3'", root, root, root), 0);
	struct jr r[] = { { 'R', "/d/gone", "" }, { 'S', "/d/v", ".tapir-kv-tmp.7.3" } };
	write_journal(root, r, 2, -1);
	unsigned long before = tapir_kv_dir_journals_refused();
	struct tapir_kv_store *s = open_dir(root, true);
	assert_non_null(s);
	assert_int_equal(tapir_kv_dir_journals_refused(), before);
	uint8_t *v;
	size_t n;
	assert_int_equal(tapir_kv_get(s, K("/d/v"), &v, &n), 0);
	assert_memory_equal(v, "new\n", 4);
	free(v);
	assert_false(exists_at(root, ".tapir-kv-journal"));
	assert_false(exists_at(root, ".tapir-kv-tmp.7.3"));
	tapir_kv_close(s);
	tmpdir_rm(root);
	tk_reset();
}

/* Open descriptors of this process */
static int count_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void value_is(struct tapir_kv_store *s, const char *key, const char *want)
{
	struct tapir_kv_value *v = NULL;
	struct tapir_kv_stat st;
	char buf[64];
	int rc = tapir_kv_value_open(s, K(key), &v, &st);
	if (rc)
		fprintf(stderr, "value_open %s: %s\n", key, tapir_kv_last_error(s));
	assert_int_equal(rc, 0);
	assert_int_equal(st.size, strlen(want));
	assert_int_equal(tapir_kv_value_read(v, 0, buf, sizeof(buf)), (int64_t)strlen(want));
	assert_memory_equal(buf, want, strlen(want));
	tapir_kv_value_close(v);
	/* a read by key goes through the same cache */
	assert_int_equal(tapir_kv_read(s, K(key), 0, buf, sizeof(buf)), (int64_t)strlen(want));
	assert_memory_equal(buf, want, strlen(want));
}

/*
 * The descriptor cache behind open values (kv_dir.c): a value opened again
 * is the file the path leads to now, whoever changed it: replaced by a
 * rename (a new inode), rewritten in place, removed, made a directory, made
 * a symlink leading outside the root (refused as before).  More values than
 * cache slots keep the descriptors bounded; closing the store closes them.
 */
static void t_fd_cache(void **state)
{
	(void)state;
	char *top = tmpdir_new("fdc");
	char root[1024];
	snprintf(root, sizeof(root), "%s/root", top);
	assert_int_equal(sh("mkdir -p '%s' '%s/outside' && echo secret > '%s/outside/s' && "
			    "printf one > '%s/a' && printf inplace > '%s/b'", root, top, top, root,
			    root), 0);
	int fds0 = count_fds();
	struct tapir_kv_store *s = open_dir(root, false);
	assert_non_null(s);
	value_is(s, "/a", "one");
	value_is(s, "/a", "one");
	assert_int_equal(sh("printf two > '%s/a.new' && mv '%s/a.new' '%s/a'", root, root, root), 0);
	value_is(s, "/a", "two");
	value_is(s, "/b", "inplace");
	assert_int_equal(sh("printf 'in place, longer' >> '%s/b'", root), 0);
	value_is(s, "/b", "inplacein place, longer");
	struct tapir_kv_value *v;
	struct tapir_kv_stat st;
	assert_int_equal(sh("rm '%s/a'", root), 0);
	assert_int_equal(tapir_kv_value_open(s, K("/a"), &v, &st), -TAPIR_KV_E_NOT_FOUND);
	assert_int_equal(sh("mkdir '%s/a'", root), 0);
	assert_int_equal(tapir_kv_value_open(s, K("/a"), &v, &st), -TAPIR_KV_E_VALUE_EXPECTED);
	value_is(s, "/b", "inplacein place, longer");
	assert_int_equal(sh("rm '%s/b' && ln -s ../outside/s '%s/b'", root, root), 0);
	assert_int_equal(tapir_kv_value_open(s, K("/b"), &v, &st), -TAPIR_KV_E_INVALID);
	/* more values than slots: the descriptors stay bounded */
	for (int i = 0; i < 100; i++)
		assert_int_equal(sh("printf v%d > '%s/k%d'", i, root, i), 0);
	for (int i = 0; i < 100; i++) {
		char key[16], want[16];
		snprintf(key, sizeof(key), "/k%d", i);
		snprintf(want, sizeof(want), "v%d", i);
		value_is(s, key, want);
	}
	assert_true(count_fds() <= fds0 + 1 + 32);
	/* a write through the store empties the cache (nothing of the old file kept) */
	tapir_kv_close(s);
	assert_int_equal(count_fds(), fds0);
	s = open_dir(root, true);
	assert_non_null(s);
	value_is(s, "/k1", "v1");
	assert_int_equal(tapir_kv_set(s, K("/k1"), "new", 3), 0);
	value_is(s, "/k1", "new");
	assert_int_equal(count_fds(), fds0 + 1 + 1);
	assert_int_equal(tapir_kv_remove(s, K("/k1")), 0);
	assert_int_equal(count_fds(), fds0 + 1);
	tapir_kv_close(s);
	assert_int_equal(count_fds(), fds0);
	tmpdir_rm(top);
	tk_reset();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_traversal),
		cmocka_unit_test(t_journal_traversal),
		cmocka_unit_test(t_journal_absolute),
		cmocka_unit_test(t_journal_symlink),
		cmocka_unit_test(t_journal_hardlink),
		cmocka_unit_test(t_journal_reserved),
		cmocka_unit_test(t_journal_long),
		cmocka_unit_test(t_journal_truncated),
		cmocka_unit_test(t_journal_oversized),
		cmocka_unit_test(t_journal_link),
		cmocka_unit_test(t_journal_fifo),
		cmocka_unit_test(t_journal_genuine),
		cmocka_unit_test(t_crash),
		cmocka_unit_test(t_fd_cache),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

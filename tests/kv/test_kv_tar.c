/*
 * test_kv_tar.c - tar store: GNU tar's and bsdtar's formats, long names, 4 GiB+
 * sizes, sparse members, appending (checked with tar/bsdtar -t and -x), torn
 * tails, refused members, and the index's bounds (name length, depth, memory)
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>

#include "kv_test_util.h"
#include "tar_format.h"

static struct tapir_kv_store *open_tar(const char *path, bool rw, char *err, size_t errlen)
{
	char spec[1024];
	struct tapir_kv_store *s = NULL;
	snprintf(spec, sizeof(spec), "tar:%s", path);
	if (tapir_kv_open(spec, rw, &s, err, errlen))
		return NULL;
	return s;
}

static void assert_value(struct tapir_kv_store *s, const char *key, const char *want)
{
	uint8_t *v;
	size_t n;
	int rc = tapir_kv_get(s, K(key), &v, &n);
	if (rc)
		fail_msg("get %s: %s", key, tapir_kv_last_error(s));
	assert_int_equal(n, strlen(want));
	assert_memory_equal(v, want, n);
	free(v);
}

static char long_dir[200], long_file[200];

/* Source tree: a.txt, d/b.txt, L(120)/F(100) (221 chars), L/F/.. deeper (>255). */
static char *make_src(void)
{
	char *t = tmpdir_new("tarsrc");
	memset(long_dir, 'L', 120);
	long_dir[120] = 0;
	memset(long_file, 'F', 100);
	long_file[100] = 0;
	assert_int_equal(sh("cd '%s' && mkdir -p src/d src/%s/%s.dir && echo hello > src/a.txt && "
			    "echo bee > src/d/b.txt && echo long1 > src/%s/%s && "
			    "echo long2 > src/%s/%s.dir/%s", t, long_dir, long_file, long_dir,
			    long_file, long_dir, long_file, long_file), 0);
	return t;
}

static void check_src_store(struct tapir_kv_store *s, bool deep)
{
	char k[1024];
	assert_value(s, "/a.txt", "hello\n");
	assert_value(s, "/d/b.txt", "bee\n");
	snprintf(k, sizeof(k), "/%s/%s", long_dir, long_file);
	assert_true(strlen(k) > 200);
	assert_value(s, k, "long1\n");
	if (deep) {
		snprintf(k, sizeof(k), "/%s/%s.dir/%s", long_dir, long_file, long_file);
		assert_true(strlen(k) > 255);
		assert_value(s, k, "long2\n");
	}
	struct tapir_kv_entry *e;
	size_t n;
	assert_int_equal(tapir_kv_list(s, K("/"), &e, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(e[0].name, long_dir);
	assert_string_equal(e[1].name, "a.txt");
	assert_string_equal(e[2].name, "d");
	tapir_kv_entries_free(e, n);
}

static void t_formats(void **state)
{
	char *t = make_src();
	const char *fmts[] = { "gnu", "pax", "ustar", "oldgnu", "posix" };
	for (size_t i = 0; i < 5; i++) {
		bool ustar = !strcmp(fmts[i], "ustar");
		char path[600], err[256];
		snprintf(path, sizeof(path), "%s/%s.tar", t, fmts[i]);
		/* ustar cannot hold names over 255 bytes: leave that file out. */
		assert_int_equal(sh("tar --format=%s -C '%s/src' -cf '%s' %s a.txt d '%s/%s' %s%s/%s.dir",
				    fmts[i], t, path, "", long_dir, long_file, ustar ? "#" : "",
				    long_dir, long_file), 0);
		struct tapir_kv_store *s = open_tar(path, false, err, sizeof(err));
		if (!s)
			fail_msg("%s: %s", fmts[i], err);
		check_src_store(s, !ustar);
		tapir_kv_close(s);
	}
	/* And of "." (names start with "./"), appended to: entries stay the same. */
	char path[600], err[256];
	snprintf(path, sizeof(path), "%s/dot.tar", t);
	assert_int_equal(sh("tar --format=gnu -C '%s/src' -cf '%s' .", t, path), 0);
	struct tapir_kv_store *s = open_tar(path, false, err, sizeof(err));
	assert_non_null(s);
	check_src_store(s, true);
	tapir_kv_close(s);
	tmpdir_rm(t);
	tk_reset();
}

/* A sparse archive holding one member of @size bytes whose last 4 are "TAIL". */
static void make_big(const char *path, uint64_t size, bool gnu_base256)
{
	uint8_t hdr[4096];
	size_t hl = tar_header_build(hdr, sizeof(hdr), "big/file", size, 1700000000);
	assert_true(hl > 0);
	if (gnu_base256) {
		/* GNU: no pax header, size in base-256, GNU magic. */
		uint8_t *b = hdr + hl - TAR_BLOCK;
		memmove(hdr, b, TAR_BLOCK);
		hl = TAR_BLOCK;
		memcpy(hdr + TAR_MAGIC, "ustar  \0", 8);
		hdr[TAR_SIZE] = 0x80;
		memset(hdr + TAR_SIZE + 1, 0, 11);
		for (int i = 11; i >= 4; i--)
			hdr[TAR_SIZE + i] = (uint8_t)(size >> (8 * (11 - i)));
		tar_checksum_set(hdr);
	} else {
		assert_true(hl > TAR_BLOCK);   /* a pax header carries size= */
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, hdr, hl, 0), (ssize_t)hl);
	assert_int_equal(pwrite(fd, "TAIL", 4, (off_t)(hl + size - 4)), 4);
	uint64_t end = hl + tar_pad(size);
	static const uint8_t zero[1024];
	assert_int_equal(pwrite(fd, zero, sizeof(zero), (off_t)end), 1024);
	close(fd);
}

static void t_big(void **state)
{
	char *t = tmpdir_new("tarbig");
	const uint64_t size = 9ULL << 30;   /* over ustar's 8 GiB: pax size= / base-256 */
	for (int gnu = 0; gnu < 2; gnu++) {
		char path[600], err[256], out[700];
		snprintf(path, sizeof(path), "%s/big%d.tar", t, gnu);
		make_big(path, size, gnu);
		struct stat st;
		assert_int_equal(stat(path, &st), 0);
		assert_true((uint64_t)st.st_blocks * 512 < (1u << 20));   /* sparse: < 1 MiB used */
		/* GNU tar agrees on the size. */
		snprintf(out, sizeof(out), "%s/list", t);
		assert_int_equal(sh("tar -tvf '%s' > '%s'", path, out), 0);
		assert_int_equal(sh("grep -q ' 9663676416 .*big/file' '%s'", out), 0);
		struct tapir_kv_store *s = open_tar(path, false, err, sizeof(err));
		if (!s)
			fail_msg("%s", err);
		uint64_t sz;
		assert_int_equal(tapir_kv_size(s, K("/big/file"), &sz), 0);
		assert_int_equal(sz, size);
		uint8_t *v;
		size_t n;
		assert_int_equal(tapir_kv_get_partial(s, K("/big/file"), size - 6, 100, &v, &n), 0);
		assert_int_equal(n, 6);
		assert_memory_equal(v, "\0\0TAIL", 6);
		free(v);
		assert_int_equal(tapir_kv_get_partial(s, K("/big/file"), 5ULL << 30, 4, &v, &n), 0);
		assert_int_equal(n, 4);
		assert_memory_equal(v, "\0\0\0\0", 4);
		free(v);
		tapir_kv_close(s);
		unlink(path);
	}
	tmpdir_rm(t);
	tk_reset();
}

static int batch_two(struct tapir_kv_store *txn, void *arg)
{
	assert_int_equal(tapir_kv_set(txn, K("/batch/one"), "1\n", 2), 0);
	assert_int_equal(tapir_kv_set(txn, K("/batch/two"), "2\n", 2), 0);
	return 0;
}

static void t_append(void **state)
{
	char *t = make_src();
	char path[600], err[256], lk[700];
	snprintf(path, sizeof(path), "%s/a.tar", t);
	assert_int_equal(sh("tar --format=gnu -C '%s/src' -cf '%s' .", t, path), 0);
	struct tapir_kv_store *s = open_tar(path, true, err, sizeof(err));
	if (!s)
		fail_msg("%s", err);
	assert_int_equal(tapir_kv_set(s, K("/a.txt"), "changed\n", 8), 0);
	assert_int_equal(tapir_kv_set(s, K("/new/file"), "new\n", 4), 0);
	snprintf(lk, sizeof(lk), "/%s/%s.dir/%s", long_dir, long_file, "appended-with-a-long-name");
	assert_int_equal(tapir_kv_set(s, K(lk), "lng\n", 4), 0);
	uint8_t big[70000];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)('a' + i % 26);
	big[sizeof(big) - 1] = '\n';
	assert_int_equal(tapir_kv_set(s, K("/bigish"), big, sizeof(big)), 0);
	assert_int_equal(tapir_kv_batch(s, batch_two, NULL), 0);
	assert_int_equal(tapir_kv_set_partial(s, K("/d/b.txt"), 1, "EE", 2), 0);
	assert_value(s, "/a.txt", "changed\n");
	assert_value(s, "/d/b.txt", "bEE\n");
	assert_int_equal(tapir_kv_set(s, K("/a.txt/x"), "x", 1), -TAPIR_KV_E_DICT_EXPECTED);
	tapir_kv_close(s);

	/* GNU tar lists the appended members and extracts the same contents. */
	assert_int_equal(sh("tar -tf '%s' > '%s/list' && grep -qx 'new/file' '%s/list' && "
			    "grep -qx 'batch/two' '%s/list' && grep -q 'appended-with-a-long-name' '%s/list'",
			    path, t, t, t, t), 0);
	assert_int_equal(sh("mkdir '%s/x' && tar -C '%s/x' -xf '%s'", t, t, path), 0);
	assert_int_equal(sh("cd '%s/x' && printf 'changed\\n' | cmp - a.txt && "
			    "printf 'new\\n' | cmp - new/file && printf 'bEE\\n' | cmp - d/b.txt && "
			    "printf '1\\n' | cmp - batch/one && printf 'lng\\n' | cmp - %s/%s.dir/"
			    "appended-with-a-long-name", t, long_dir, long_file), 0);
	char bp[700];
	snprintf(bp, sizeof(bp), "%s/x/bigish", t);
	FILE *f = fopen(bp, "rb");
	assert_non_null(f);
	static uint8_t back[70000];
	assert_int_equal(fread(back, 1, sizeof(back), f), sizeof(back));
	fclose(f);
	assert_memory_equal(back, big, sizeof(big));

	/* The store reads the same after reopening, read-only. */
	s = open_tar(path, false, err, sizeof(err));
	assert_non_null(s);
	assert_value(s, "/a.txt", "changed\n");
	assert_value(s, "/batch/two", "2\n");
	assert_value(s, lk, "lng\n");
	uint8_t d1[32], d2[32];
	tapir_kv_close(s);
	/* Digest of the extracted tree (dir store) equals the tar store's. */
	char spec[700];
	snprintf(spec, sizeof(spec), "dir:%s/x", t);
	struct tapir_kv_store *ds;
	assert_int_equal(tapir_kv_open(spec, false, &ds, err, sizeof(err)), 0);
	s = open_tar(path, false, err, sizeof(err));
	assert_int_equal(tapir_kv_digest(s, K("/"), d1), 0);
	assert_int_equal(tapir_kv_digest(ds, K("/"), d2), 0);
	assert_memory_equal(d1, d2, 32);
	tapir_kv_close(ds);
	tapir_kv_close(s);

	/* A store-created archive: new file, then tar -t. */
	snprintf(path, sizeof(path), "%s/fresh.tar", t);
	s = open_tar(path, true, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(tapir_kv_set(s, K("/only"), "o", 1), 0);
	tapir_kv_close(s);
	assert_int_equal(sh("test \"$(tar -tf '%s')\" = only", path), 0);
	tmpdir_rm(t);
	tk_reset();
}

/*
 * bsdtar (libarchive) archives.  Every shell command runs with LC_ALL set
 * explicitly: bsdtar's pax writer marks names it cannot convert from the
 * locale with hdrcharset=BINARY (LC_ALL=C), else it writes UTF-8 path=.
 */
#define UTF8_NAME "h\xc3\xa9llo-w\xc3\xb6rld-\xe6\x97\xa5\xe6\x9c\xac.txt"

static char bs_seg150[151];

static void put_file(const char *dir, const char *rel, const void *data, size_t len)
{
	char p[2048];
	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	FILE *f = fopen(p, "wb");
	if (!f)
		fail_msg("create %s", p);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/*
 * Source trees under @t: src holds a.txt, empty (0 bytes), multi.bin (5000
 * bytes), d/e/f/g.txt, d/UTF8_NAME, L(120)/F(100) (221 chars: fits the ustar
 * prefix split), L/F.dir/F (326 chars) and S(150) (one 150-char segment);
 * srcu is src without the last two, which ustar cannot hold.
 */
static char *make_bsd_src(void)
{
	char *t = tmpdir_new("bsdsrc");
	char rel[1024];
	memset(long_dir, 'L', 120);
	long_dir[120] = 0;
	memset(long_file, 'F', 100);
	long_file[100] = 0;
	memset(bs_seg150, 'S', 150);
	bs_seg150[150] = 0;
	assert_int_equal(sh("mkdir -p '%s/src/d/e/f' '%s/src/%s/%s.dir'", t, t, long_dir,
			    long_file), 0);
	char dir[700];
	snprintf(dir, sizeof(dir), "%s/src", t);
	put_file(dir, "a.txt", "hello\n", 6);
	put_file(dir, "empty", "", 0);
	static uint8_t multi[5000];
	for (size_t i = 0; i < sizeof(multi); i++)
		multi[i] = (uint8_t)(i * 7 + i / 512);
	put_file(dir, "multi.bin", multi, sizeof(multi));
	put_file(dir, "d/e/f/g.txt", "deep\n", 5);
	put_file(dir, "d/" UTF8_NAME, "\xc3\xbctf\n", 5);
	snprintf(rel, sizeof(rel), "%s/%s", long_dir, long_file);
	put_file(dir, rel, "long1\n", 6);
	snprintf(rel, sizeof(rel), "%s/%s.dir/%s", long_dir, long_file, long_file);
	assert_true(strlen(rel) > 255);
	put_file(dir, rel, "long2\n", 6);
	put_file(dir, bs_seg150, "seg150\n", 7);
	assert_int_equal(sh("cp -a '%s/src' '%s/srcu' && rm -r '%s/srcu/%s/%s.dir' '%s/srcu/%s'",
			    t, t, t, long_dir, long_file, t, bs_seg150), 0);
	return t;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("open %s", path);
	size_t cap = 4096, n = 0;
	uint8_t *b = malloc(cap);
	assert_non_null(b);
	for (;;) {
		size_t r = fread(b + n, 1, cap - n, f);
		n += r;
		if (n < cap)
			break;
		cap *= 2;
		b = realloc(b, cap);
		assert_non_null(b);
	}
	fclose(f);
	*len = n;
	return b;
}

/* @key's value equals the file @path: tapir_kv_size, tapir_kv_get, tapir_kv_get_partial (edges, blocks). */
static void compare_value(struct tapir_kv_store *s, const char *key, const char *path,
			  int check_mtime)
{
	size_t flen;
	uint8_t *want = slurp(path, &flen);
	uint64_t sz;
	if (tapir_kv_size(s, K(key), &sz))
		fail_msg("size %s: %s", key, tapir_kv_last_error(s));
	assert_int_equal(sz, flen);
	uint8_t *v;
	size_t n;
	if (tapir_kv_get(s, K(key), &v, &n))
		fail_msg("get %s: %s", key, tapir_kv_last_error(s));
	assert_int_equal(n, flen);
	if (flen)
		assert_memory_equal(v, want, flen);
	assert_int_equal(v[n], 0);
	free(v);
	const uint64_t offs[] = { 0, 1, 511, 512, 513, flen / 2, flen ? flen - 1 : 0, flen,
				  flen + 5, 1ULL << 40 };
	const size_t lens[] = { 0, 1, 7, 512, 1000, flen + 10 };
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		for (size_t j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
			if (tapir_kv_get_partial(s, K(key), offs[i], lens[j], &v, &n))
				fail_msg("get_partial %s @%llu: %s", key,
					 (unsigned long long)offs[i], tapir_kv_last_error(s));
			assert_non_null(v);
			size_t exp = offs[i] >= flen ? 0 :
				flen - offs[i] < lens[j] ? (size_t)(flen - offs[i]) : lens[j];
			assert_int_equal(n, exp);
			if (exp)
				assert_memory_equal(v, want + offs[i], exp);
			free(v);
		}
	}
	if (check_mtime) {
		struct stat st;
		struct timespec t;
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(tapir_kv_last_modified(s, K(key), &t), 0);
		assert_int_equal(t.tv_sec, st.st_mtim.tv_sec);
		if (check_mtime > 1)   /* pax mtime= carries nanoseconds */
			assert_int_equal(t.tv_nsec, st.st_mtim.tv_nsec);
	}
	free(want);
}

static int not_dots(const struct dirent *d)
{
	return strcmp(d->d_name, ".") && strcmp(d->d_name, "..");
}

static int by_strcmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* The store under @key ("" for the root) lists and reads exactly like the directory @dir. */
static void compare_tree(struct tapir_kv_store *s, const char *dir, const char *key,
			 int check_mtime)
{
	struct dirent **de;
	int nd = scandir(dir, &de, not_dots, by_strcmp);
	assert_true(nd >= 0);
	struct tapir_kv_entry *e;
	size_t n;
	if (tapir_kv_list(s, K(key[0] ? key : "/"), &e, &n))
		fail_msg("list %s: %s", key[0] ? key : "/", tapir_kv_last_error(s));
	if (n != (size_t)nd) {
		for (size_t i = 0; i < n; i++)
			print_message("store %s: %s\n", key, e[i].name);
		for (int i = 0; i < nd; i++)
			print_message("dir %s: %s\n", dir, de[i]->d_name);
		fail_msg("%s: %zu entries, directory has %d", key[0] ? key : "/", n, nd);
	}
	for (size_t i = 0; i < n; i++) {
		char cp[2048], ck[2048];
		struct stat st;
		assert_string_equal(e[i].name, de[i]->d_name);
		snprintf(cp, sizeof(cp), "%s/%s", dir, de[i]->d_name);
		snprintf(ck, sizeof(ck), "%s/%s", key, de[i]->d_name);
		assert_int_equal(lstat(cp, &st), 0);
		if (S_ISDIR(st.st_mode)) {
			assert_int_equal(e[i].kind, TAPIR_KV_DICT);
			compare_tree(s, cp, ck, check_mtime);
		} else {
			assert_true(S_ISREG(st.st_mode));
			assert_int_equal(e[i].kind, TAPIR_KV_VALUE);
			compare_value(s, ck, cp, check_mtime);
		}
	}
	for (int i = 0; i < nd; i++)
		free(de[i]);
	free(de);
	tapir_kv_entries_free(e, n);
}

/* The tar store's root digest equals the dir store's over @dir. */
static void compare_digest(struct tapir_kv_store *s, const char *dir)
{
	char spec[1024], err[256];
	struct tapir_kv_store *ds;
	uint8_t d1[TAPIR_KV_DIGEST_LEN], d2[TAPIR_KV_DIGEST_LEN];
	snprintf(spec, sizeof(spec), "dir:%s", dir);
	if (tapir_kv_open(spec, false, &ds, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(tapir_kv_digest(s, K("/"), d1), 0);
	assert_int_equal(tapir_kv_digest(ds, K("/"), d2), 0);
	assert_memory_equal(d1, d2, TAPIR_KV_DIGEST_LEN);
	tapir_kv_close(ds);
}

struct bsd_fmt {
	const char *fmt;      /* bsdtar --format */
	const char *lc;       /* LC_ALL for bsdtar */
	const char *marker;   /* a string the archive must hold (NULL: none) */
	const char *absent;   /* an ERE it must not match (NULL: none) */
	int mtime;            /* compare_value's check_mtime */
};

/*
 * ustar: plain headers, the 221-char name split into prefix + name.  pax:
 * path= records (and mtime= with nanoseconds); under LC_ALL=C bsdtar adds
 * hdrcharset=BINARY for the UTF-8 name.  gnutar: ././@LongLink 'L' members.
 * rpax: "restricted pax" (bsdtar has no "--format restricted"; rpax is its
 * name for it): ustar headers, a pax header (no atime=/ctime=) only for
 * members ustar cannot hold.
 */
static const struct bsd_fmt bsd_fmts[] = {
	{ "ustar", "C.UTF-8", "ustar", "path=|@LongLink", 1 },
	{ "pax", "C.UTF-8", "path=", "hdrcharset", 2 },
	{ "pax", "C", "hdrcharset=BINARY", NULL, 2 },
	{ "gnutar", "C.UTF-8", "././@LongLink", "path=", 1 },
	{ "rpax", "C.UTF-8", "path=", "ctime=", 1 },
};

/* Build @path from @t/src (srcu for ustar) with bsdtar; Return: the source dir used. */
static const char *bsd_make(const char *t, const struct bsd_fmt *f, const char *path)
{
	bool ustar = !strcmp(f->fmt, "ustar");
	if (ustar) {
		/* Names listed one by one: "./L/" (123 chars with the slash) has no split. */
		assert_int_equal(sh("LC_ALL=%s bsdtar --format ustar -C '%s/srcu' -cf '%s' a.txt "
				    "empty multi.bin d '%s/%s' 2>'%s.err' && ! test -s '%s.err'",
				    f->lc, t, path, long_dir, long_file, path, path), 0);
	} else {
		/* Under LC_ALL=C bsdtar warns "Can't translate pathname" (and exits 0). */
		assert_int_equal(sh("LC_ALL=%s bsdtar --format %s -C '%s/src' -cf '%s' . 2>'%s.err' "
				    "&& %s '%s.err'", f->lc, f->fmt, t, path, path,
				    strcmp(f->lc, "C") ? "! test -s" : "grep -q translate", path), 0);
	}
	/* The archive really is in the format under test. */
	if (f->marker)
		assert_int_equal(sh("grep -aqF '%s' '%s'", f->marker, path), 0);
	if (f->absent)
		assert_int_not_equal(sh("grep -aqE '%s' '%s'", f->absent, path), 0);
	return ustar ? "srcu" : "src";
}

static void t_bsdtar_formats(void **state)
{
	char *t = make_bsd_src();
	for (size_t i = 0; i < sizeof(bsd_fmts) / sizeof(bsd_fmts[0]); i++) {
		const struct bsd_fmt *f = &bsd_fmts[i];
		char path[700], dir[700], err[256];
		snprintf(path, sizeof(path), "%s/%s-%s.tar", t, f->fmt, f->lc);
		snprintf(dir, sizeof(dir), "%s/%s", t, bsd_make(t, f, path));
		for (int rw = 0; rw < 2; rw++) {
			struct tapir_kv_store *s = open_tar(path, rw, err, sizeof(err));
			if (!s)
				fail_msg("bsdtar %s (%s): %s", f->fmt, f->lc, err);
			compare_tree(s, dir, "", f->mtime);
			compare_digest(s, dir);
			tapir_kv_close(s);
		}
		/* And from memory (the fuzzer's entry point). */
		size_t len;
		uint8_t *buf = slurp(path, &len);
		struct tapir_kv_store *s;
		assert_int_equal(tapir_kv_tar_open_buffer(buf, len, &s, err, sizeof(err)), 0);
		compare_tree(s, dir, "", f->mtime);
		tapir_kv_close(s);
		free(buf);
		tk_reset();
	}
	tmpdir_rm(t);
	tk_reset();
}

/*
 * A bsdtar pax archive holding a 5 GiB sparse file (GNU.sparse.major=1: the
 * member is named GNUSparseFile.0/big, its data starts with the sparse map).
 * The store skips sparse members, as kv_tar.c documents: the members around
 * it stay readable, the sparse one is not visible under either name.
 */
static void t_bsdtar_sparse(void **state)
{
	char *t = tmpdir_new("bsdsparse");
	char path[700], err[256];
	snprintf(path, sizeof(path), "%s/sp.tar", t);
	assert_int_equal(sh("mkdir '%s/sp' && printf 'hi\\n' > '%s/sp/small' && "
			    "printf 'after\\n' > '%s/sp/after.txt' && truncate -s 5G '%s/sp/big' && "
			    "printf TAIL | dd of='%s/sp/big' bs=1 seek=5368709116 conv=notrunc "
			    "2>/dev/null", t, t, t, t, t), 0);
	/* ulimit: should bsdtar not find the holes, fail instead of writing 5 GiB. */
	if (sh("ulimit -f 20480 && LC_ALL=C.UTF-8 bsdtar --format pax -C '%s/sp' -cf '%s' "
	       "small big after.txt", t, path)) {
		tmpdir_rm(t);
		skip();   /* no SEEK_HOLE on $TMPDIR's file system */
	}
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size < (1 << 20));
	assert_int_equal(sh("grep -aq 'GNU.sparse.major=1' '%s' && grep -aq GNUSparseFile '%s'",
			    path, path), 0);
	/* Both tars see the 5 GiB member. */
	assert_int_equal(sh("LC_ALL=C.UTF-8 tar -tvf '%s' | grep -q ' 5368709120 .*big$' && "
			    "LC_ALL=C.UTF-8 bsdtar -tvf '%s' | grep -q ' 5368709120 .*big$'",
			    path, path), 0);
	for (int rw = 0; rw < 2; rw++) {
		struct tapir_kv_store *s = open_tar(path, rw, err, sizeof(err));
		if (!s)
			fail_msg("%s", err);
		enum tapir_kv_kind kind;
		assert_int_equal(tapir_kv_exists(s, K("/big"), &kind), 0);
		assert_int_equal(kind, TAPIR_KV_NONE);
		assert_int_equal(tapir_kv_exists(s, K("/GNUSparseFile.0"), &kind), 0);
		assert_int_equal(kind, TAPIR_KV_NONE);
		assert_value(s, "/small", "hi\n");
		assert_value(s, "/after.txt", "after\n");
		struct tapir_kv_entry *e;
		size_t n;
		assert_int_equal(tapir_kv_list(s, K("/"), &e, &n), 0);
		assert_int_equal(n, 2);
		assert_string_equal(e[0].name, "after.txt");
		assert_string_equal(e[1].name, "small");
		tapir_kv_entries_free(e, n);
		if (rw) {
			/* Appending after a sparse member keeps it intact for bsdtar. */
			assert_int_equal(tapir_kv_set(s, K("/added"), "add\n", 4), 0);
		}
		tapir_kv_close(s);
	}
	assert_int_equal(sh("test \"$(LC_ALL=C.UTF-8 bsdtar -tf '%s' | tr '\\n' ' ')\" = "
			    "'small big after.txt added ' && mkdir '%s/x' && "
			    "LC_ALL=C.UTF-8 bsdtar -C '%s/x' -xf '%s' big added && "
			    "printf 'add\\n' | cmp - '%s/x/added' && "
			    "test \"$(tail -c 4 '%s/x/big')\" = TAIL && "
			    "test \"$(stat -c %%s '%s/x/big')\" = 5368709120",
			    path, t, t, path, t, t, t), 0);
	tmpdir_rm(t);
	tk_reset();
}

/*
 * Appending to bsdtar archives: the store's members (a shadowing a.txt, new
 * dictionaries, a UTF-8 name, an empty value, a > 255-char name, a value of
 * several blocks) are listed alike by GNU tar and bsdtar, and both extract
 * the same tree, which is the source with the same changes made to it.
 */
static void t_bsdtar_append(void **state)
{
	char *t = make_bsd_src();
	static uint8_t blob[3000];
	for (size_t i = 0; i < sizeof(blob); i++)
		blob[i] = (uint8_t)(255 - i % 251);
	for (size_t i = 0; i < sizeof(bsd_fmts) / sizeof(bsd_fmts[0]); i++) {
		const struct bsd_fmt *f = &bsd_fmts[i];
		char path[700], exp[700], err[256], lk[1100], rel[1024];
		snprintf(path, sizeof(path), "%s/ap-%s-%s.tar", t, f->fmt, f->lc);
		const char *sdir = bsd_make(t, f, path);
		snprintf(exp, sizeof(exp), "%s/exp%zu", t, i);
		assert_int_equal(sh("cp -a '%s/%s' '%s'", t, sdir, exp), 0);
		struct tapir_kv_store *s = open_tar(path, true, err, sizeof(err));
		if (!s)
			fail_msg("%s: %s", f->fmt, err);
		snprintf(rel, sizeof(rel), "%s/%s.dir2/%s-appended", long_dir, long_file, long_file);
		snprintf(lk, sizeof(lk), "/%s", rel);
		assert_true(strlen(rel) > 255);
		assert_int_equal(tapir_kv_set(s, K("/a.txt"), "changed\n", 8), 0);
		assert_int_equal(tapir_kv_set(s, K("/new/file"), "new\n", 4), 0);
		assert_int_equal(tapir_kv_set(s, K("/new/empty"), "", 0), 0);
		assert_int_equal(tapir_kv_set(s, K("/d/e/f/" UTF8_NAME), "u\n", 2), 0);
		assert_int_equal(tapir_kv_set(s, K(lk), "lng\n", 4), 0);
		assert_int_equal(tapir_kv_set(s, K("/blob"), blob, sizeof(blob)), 0);
		tapir_kv_close(s);
		assert_int_equal(sh("mkdir -p '%s/new' '%s/%s/%s.dir2'", exp, exp, long_dir,
				    long_file), 0);
		put_file(exp, "a.txt", "changed\n", 8);
		put_file(exp, "new/file", "new\n", 4);
		put_file(exp, "new/empty", "", 0);
		put_file(exp, "d/e/f/" UTF8_NAME, "u\n", 2);
		put_file(exp, rel, "lng\n", 4);
		put_file(exp, "blob", blob, sizeof(blob));

		/* The store, reopened, reads the expected tree. */
		s = open_tar(path, false, err, sizeof(err));
		if (!s)
			fail_msg("%s: %s", f->fmt, err);
		compare_tree(s, exp, "", 0);
		compare_digest(s, exp);
		tapir_kv_close(s);

		/* GNU tar and bsdtar list the same members, including the appended ones. */
		assert_int_equal(sh("cd '%s' && export LC_ALL=C.UTF-8 && "
				    "tar -tf '%s' 2>/dev/null | sort > gl%zu && "
				    "bsdtar -tf '%s' | sort > bl%zu && cmp gl%zu bl%zu && "
				    "grep -qx new/file bl%zu && grep -qx new/empty bl%zu && "
				    "grep -qx blob bl%zu && grep -qx 'd/e/f/" UTF8_NAME "' bl%zu && "
				    "grep -qx '%s' bl%zu && test $(grep -c 'a.txt$' bl%zu) = 2",
				    t, path, i, path, i, i, i, i, i, i, i, rel, i, i), 0);
		/* ... and extract the same tree, equal to the expected one. */
		assert_int_equal(sh("cd '%s' && export LC_ALL=C.UTF-8 && mkdir gx%zu bx%zu && "
				    "tar -C gx%zu -xf '%s' 2>/dev/null && bsdtar -C bx%zu -xf '%s' && "
				    "diff -r gx%zu bx%zu && diff -r '%s' gx%zu",
				    t, i, i, i, path, i, path, i, i, exp, i), 0);
		tk_reset();
	}
	tmpdir_rm(t);
	tk_reset();
}

static void write_member(int fd, uint64_t *pos, const char *name, const char *data)
{
	uint8_t hdr[4096];
	size_t hl = tar_header_build(hdr, sizeof(hdr), "placeholder", strlen(data), 0);
	assert_int_equal(hl, TAR_BLOCK);
	memset(hdr + TAR_NAME, 0, 100);
	memcpy(hdr + TAR_NAME, name, strlen(name));
	tar_checksum_set(hdr);
	assert_int_equal(pwrite(fd, hdr, hl, (off_t)*pos), (ssize_t)hl);
	*pos += hl;
	assert_int_equal(pwrite(fd, data, strlen(data), (off_t)*pos), (ssize_t)strlen(data));
	*pos += tar_pad(strlen(data));
}

static void t_traversal(void **state)
{
	char *t = tmpdir_new("tartrav");
	const char *bad[] = { "/etc/passwd", "a/../../x", "..", "ok/../../../../tmp/pwn" };
	for (size_t i = 0; i < 4; i++) {
		char path[600], err[256] = "";
		snprintf(path, sizeof(path), "%s/bad%zu.tar", t, i);
		int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
		uint64_t pos = 0;
		write_member(fd, &pos, "fine", "ok");
		write_member(fd, &pos, bad[i], "evil");
		static const uint8_t zero[1024];
		assert_int_equal(pwrite(fd, zero, sizeof(zero), (off_t)pos), 1024);
		close(fd);
		for (int rw = 0; rw < 2; rw++) {
			assert_null(open_tar(path, rw, err, sizeof(err)));
			assert_non_null(strstr(err, "refused"));
			assert_non_null(strstr(err, i == 0 ? "absolute" : ".."));
		}
	}
	/* GNU tar -P keeps absolute names: refused too. */
	char path[600], err[256] = "";
	snprintf(path, sizeof(path), "%s/abs.tar", t);
	assert_int_equal(sh("touch '%s/f' && tar -P -cf '%s' '%s/f'", t, path, t), 0);
	assert_null(open_tar(path, false, err, sizeof(err)));
	assert_non_null(strstr(err, "absolute"));
	/* A member name of exactly 100 bytes (no NUL) is read as 100 bytes. */
	snprintf(path, sizeof(path), "%s/n100.tar", t);
	char n100[101];
	memset(n100, 'n', 100);
	n100[100] = 0;
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	uint64_t pos = 0;
	write_member(fd, &pos, n100, "x");
	static const uint8_t zero2[1024];
	assert_int_equal(pwrite(fd, zero2, sizeof(zero2), (off_t)pos), 1024);
	close(fd);
	struct tapir_kv_store *s = open_tar(path, false, err, sizeof(err));
	assert_non_null(s);
	char key[102] = "/";
	strcat(key, n100);
	assert_value(s, key, "x");
	tapir_kv_close(s);
	tmpdir_rm(t);
	tk_reset();
}

static void t_torn_and_corrupt(void **state)
{
	char *t = tmpdir_new("tartorn");
	char path[600], err[256];
	snprintf(path, sizeof(path), "%s/t.tar", t);
	struct tapir_kv_store *s = open_tar(path, true, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(tapir_kv_set(s, K("/keep"), "kept", 4), 0);
	tapir_kv_close(s);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	/* Where the end-of-archive blocks are: after one header + one data block. */
	off_t e = 2 * TAR_BLOCK;
	/* 1. An append interrupted before its first header block: data after E. */
	int fd = open(path, O_RDWR);
	uint8_t junk[3 * TAR_BLOCK];
	memset(junk, 'J', sizeof(junk));
	assert_int_equal(pwrite(fd, junk, sizeof(junk), e + TAR_BLOCK), (ssize_t)sizeof(junk));
	close(fd);
	s = open_tar(path, false, err, sizeof(err));
	assert_non_null(s);
	assert_value(s, "/keep", "kept");
	tapir_kv_close(s);
	/* 2. A torn header at E (bad checksum): read-only open refuses... */
	fd = open(path, O_RDWR);
	assert_int_equal(pwrite(fd, junk, TAR_BLOCK, e), TAR_BLOCK);
	close(fd);
	assert_null(open_tar(path, false, err, sizeof(err)));
	assert_non_null(strstr(err, "checksum"));
	/* ... a writable open cuts the torn tail, and appends work again. */
	s = open_tar(path, true, err, sizeof(err));
	if (!s)
		fail_msg("%s", err);
	assert_value(s, "/keep", "kept");
	assert_int_equal(tapir_kv_set(s, K("/after"), "A", 1), 0);
	tapir_kv_close(s);
	assert_int_equal(sh("test \"$(tar -tf '%s' | tr '\\n' ' ')\" = 'keep after '", path), 0);
	/* 3. A member running past the end of the file. */
	snprintf(path, sizeof(path), "%s/short.tar", t);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	uint8_t hdr[4096];
	size_t hl = tar_header_build(hdr, sizeof(hdr), "f", 100000, 0);
	assert_int_equal(pwrite(fd, hdr, hl, 0), (ssize_t)hl);
	assert_int_equal(pwrite(fd, "abc", 3, (off_t)hl), 3);
	close(fd);
	assert_null(open_tar(path, false, err, sizeof(err)));
	assert_non_null(strstr(err, "past the end"));
	/* 4. Bad numbers: octal garbage, negative base-256. */
	const uint8_t bads[][12] = { "12345678x01", { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
						      0xff, 0xff, 0xff, 0xff, 0xff, 0xfe } };
	for (size_t i = 0; i < 2; i++) {
		hl = tar_header_build(hdr, sizeof(hdr), "f", 1, 0);
		memcpy(hdr + TAR_SIZE, bads[i], 12);
		tar_checksum_set(hdr);
		fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
		assert_int_equal(pwrite(fd, hdr, hl, 0), (ssize_t)hl);
		close(fd);
		assert_null(open_tar(path, false, err, sizeof(err)));
		assert_non_null(strstr(err, "size"));
	}
	/* 5. pax record with a length past its body. */
	uint8_t a[3 * TAR_BLOCK] = { 0 };
	hl = tar_header_build(a, sizeof(a), "x", 12, 0);
	a[TAR_TYPE] = 'x';
	tar_checksum_set(a);
	memcpy(a + TAR_BLOCK, "99 path=abc\n", 12);
	tar_header_build(a + 2 * TAR_BLOCK, TAR_BLOCK, "y", 0, 0);
	assert_int_equal(tar_header_build(a + 2 * TAR_BLOCK, TAR_BLOCK, "y", 0, 0), TAR_BLOCK);
	assert_int_equal(tapir_kv_tar_open_buffer(a, sizeof(a), &s, err, sizeof(err)),
			 -TAPIR_KV_E_STORAGE);
	assert_non_null(strstr(err, "pax"));
	tmpdir_rm(t);
	tk_reset();
}

/* An archive in memory: members appended with tar_header_build(), then E. */
struct abuf {
	uint8_t *p;
	size_t len, cap;
};

static uint8_t *abuf_room(struct abuf *a, size_t n)
{
	if (a->len + n > a->cap) {
		a->cap = (a->len + n) * 2;
		a->p = realloc(a->p, a->cap);
		assert_non_null(a->p);
	}
	memset(a->p + a->len, 0, n);
	uint8_t *r = a->p + a->len;
	a->len += n;
	return r;
}

static void abuf_member(struct abuf *a, const char *name)
{
	size_t cap = strlen(name) + 4 * TAR_BLOCK;
	uint8_t *h = abuf_room(a, cap);
	size_t hl = tar_header_build(h, cap, name, 0, 0);
	assert_true(hl > 0);
	a->len -= cap - hl;
}

/* A GNU 'L' long name member followed by its file. */
static void abuf_gnu_long(struct abuf *a, const char *name)
{
	size_t nl = strlen(name) + 1;
	uint8_t *h = abuf_room(a, TAR_BLOCK);
	assert_int_equal(tar_header_build(h, TAR_BLOCK, "././@LongLink", nl, 0), TAR_BLOCK);
	h[TAR_TYPE] = 'L';
	tar_checksum_set(h);
	memcpy(abuf_room(a, tar_pad(nl)), name, nl);
	h = abuf_room(a, TAR_BLOCK);
	assert_int_equal(tar_header_build(h, TAR_BLOCK, "short", 0, 0), TAR_BLOCK);
}

static int abuf_open(struct abuf *a, struct tapir_kv_store **s, char *err, size_t errlen)
{
	abuf_room(a, 2 * TAR_BLOCK);
	return tapir_kv_tar_open_buffer(a->p, a->len, s, err, errlen);
}

/* "a/a/.../a" of @n segments (after @lead, if any). */
static char *deep_name(const char *lead, size_t n, size_t seglen)
{
	char *p = malloc(strlen(lead) + n * (seglen + 1) + 2), *q = p;
	q += sprintf(q, "%s", lead);
	for (size_t i = 0; i < n; i++) {
		if (q != p)
			*q++ = '/';
		memset(q, 'a' + (char)(i % 26), seglen);
		q += seglen;
	}
	*q = 0;
	return p;
}

/* Set *@arg keys "/kNNNN/a/b/.../x" (256 segments each) in @txn. */
static int deep_batch(struct tapir_kv_store *txn, void *arg)
{
	unsigned n = *(unsigned *)arg;
	for (unsigned i = 0; i < n; i++) {
		char lead[16];
		snprintf(lead, sizeof(lead), "/k%04u", i);
		char *k = deep_name(lead, 255, 1);
		struct tapir_kv_key key;
		assert_int_equal(tapir_kv_key_parse(k, &key), 0);
		free(k);
		int rc = tapir_kv_set(txn, &key, "v", 1);
		tapir_kv_key_free(&key);
		if (rc)
			return rc;
	}
	return 0;
}

static void t_index_bounds(void **state)
{
	char err[512];
	struct tapir_kv_store *s;
	/* Names: 4096 bytes open (pax path), 4097 do not, nor a GNU long name of 4097. */
	for (int over = 0; over < 2; over++) {
		char *name = deep_name("", 16, 255);   /* 16 x 256 - 1 = 4095 */
		strcat(name, over ? "bb" : "b");
		assert_int_equal(strlen(name), 4096 + over);
		struct abuf a = { 0 };
		abuf_member(&a, "first");
		abuf_member(&a, name);
		int rc = abuf_open(&a, &s, err, sizeof(err));
		if (!over) {
			assert_int_equal(rc, 0);
			tapir_kv_close(s);
		} else {
			assert_int_equal(rc, -TAPIR_KV_E_STORAGE);
			assert_non_null(strstr(err, "member at offset 512"));
			assert_non_null(strstr(err, "longer than 4096 bytes"));
		}
		free(a.p);
		a = (struct abuf){ 0 };
		abuf_gnu_long(&a, name);
		rc = abuf_open(&a, &s, err, sizeof(err));
		assert_int_equal(rc, over ? -TAPIR_KV_E_STORAGE : 0);
		if (over)
			assert_non_null(strstr(err, "GNU long name"));
		else
			tapir_kv_close(s);
		free(a.p);
		free(name);
	}
	/* Depth: 256 segments open, 257 do not; the error names the member. */
	for (int over = 0; over < 2; over++) {
		char *name = deep_name("", 256 + (size_t)over, 1);
		struct abuf a = { 0 };
		abuf_member(&a, name);
		int rc = abuf_open(&a, &s, err, sizeof(err));
		if (!over) {
			assert_int_equal(rc, 0);
			tapir_kv_close(s);
		} else {
			assert_int_equal(rc, -TAPIR_KV_E_STORAGE);
			assert_non_null(strstr(err, "more than 256 segments"));
			assert_non_null(strstr(err, "'a/b/c/d"));
		}
		free(a.p);
		free(name);
	}
	/* Memory: 512-byte ustar headers of 125 new one-letter segments each
	 * (~40x the archive in nodes).  A few hundred fit the fixed allowance;
	 * 3000 (1.5 MB of archive, ~60 MB of index) are refused. */
	for (int over = 0; over < 2; over++) {
		unsigned members = over ? 3000 : 300;
		struct abuf a = { 0 };
		for (unsigned i = 0; i < members; i++) {
			char lead[16];
			snprintf(lead, sizeof(lead), "m%04u", i);
			char *name = deep_name(lead, 124, 1);
			assert_true(strlen(name) <= 255);
			size_t before = a.len;
			abuf_member(&a, name);
			assert_int_equal(a.len - before, TAR_BLOCK);   /* ustar only */
			free(name);
		}
		int rc = abuf_open(&a, &s, err, sizeof(err));
		if (!over) {
			assert_int_equal(rc, 0);
			struct tapir_kv_entry *e;
			size_t n;
			assert_int_equal(tapir_kv_list(s, K("/"), &e, &n), 0);
			assert_int_equal(n, members);
			tapir_kv_entries_free(e, n);
			tapir_kv_close(s);
		} else {
			assert_int_equal(rc, -TAPIR_KV_E_STORAGE);
			assert_non_null(strstr(err, "index would exceed"));
			assert_non_null(strstr(err, "'m"));
		}
		free(a.p);
	}
	/* A writable store refuses keys it could not open again. */
	char *t = tmpdir_new("tarbound");
	char path[600];
	snprintf(path, sizeof(path), "%s/w.tar", t);
	s = open_tar(path, true, err, sizeof(err));
	assert_non_null(s);
	char *deep = deep_name("/", 257, 1);
	assert_int_equal(tapir_kv_set(s, K(deep), "x", 1), -TAPIR_KV_E_INVALID);
	free(deep);
	deep = deep_name("/", 256, 1);
	assert_int_equal(tapir_kv_set(s, K(deep), "x", 1), 0);
	free(deep);
	char *longk = deep_name("/", 17, 255);
	assert_int_equal(tapir_kv_set(s, K(longk), "x", 1), -TAPIR_KV_E_INVALID);
	free(longk);
	/* Nor a batch that would take the index over the budget of the grown
	 * archive: 500 new 256-deep keys (~30 MB of index for ~1 MB). */
	unsigned count = 500;
	assert_int_equal(tapir_kv_batch(s, deep_batch, &count), -TAPIR_KV_E_STORAGE);
	assert_non_null(strstr(tapir_kv_last_error(s), "could not be opened again"));
	count = 100;
	assert_int_equal(tapir_kv_batch(s, deep_batch, &count), 0);
	tapir_kv_close(s);
	s = open_tar(path, false, err, sizeof(err));
	if (!s)
		fail_msg("%s", err);
	tapir_kv_close(s);
	tmpdir_rm(t);
	tk_reset();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_formats),
		cmocka_unit_test(t_big),
		cmocka_unit_test(t_append),
		cmocka_unit_test(t_bsdtar_formats),
		cmocka_unit_test(t_bsdtar_sparse),
		cmocka_unit_test(t_bsdtar_append),
		cmocka_unit_test(t_traversal),
		cmocka_unit_test(t_torn_and_corrupt),
		cmocka_unit_test(t_index_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

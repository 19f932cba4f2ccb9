/*
 * test_kv_tar.c - tar store: GNU tar's formats, long names, 4 GiB+ sizes,
 * appending (checked with tar -t and tar -x), torn tails, refused members
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>

#include "kv_test_util.h"
#include "tar_format.h"

static struct kv_store *open_tar(const char *path, bool rw, char *err, size_t errlen)
{
	char spec[1024];
	struct kv_store *s = NULL;
	snprintf(spec, sizeof(spec), "tar:%s", path);
	if (kv_open(spec, rw, &s, err, errlen))
		return NULL;
	return s;
}

static void assert_value(struct kv_store *s, const char *key, const char *want)
{
	uint8_t *v;
	size_t n;
	int rc = kv_get(s, K(key), &v, &n);
	if (rc)
		fail_msg("get %s: %s", key, kv_last_error(s));
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

static void check_src_store(struct kv_store *s, bool deep)
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
	struct kv_entry *e;
	size_t n;
	assert_int_equal(kv_list(s, K("/"), &e, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(e[0].name, long_dir);
	assert_string_equal(e[1].name, "a.txt");
	assert_string_equal(e[2].name, "d");
	kv_entries_free(e, n);
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
		struct kv_store *s = open_tar(path, false, err, sizeof(err));
		if (!s)
			fail_msg("%s: %s", fmts[i], err);
		check_src_store(s, !ustar);
		kv_close(s);
	}
	/* And of "." (names start with "./"), appended to: entries stay the same. */
	char path[600], err[256];
	snprintf(path, sizeof(path), "%s/dot.tar", t);
	assert_int_equal(sh("tar --format=gnu -C '%s/src' -cf '%s' .", t, path), 0);
	struct kv_store *s = open_tar(path, false, err, sizeof(err));
	assert_non_null(s);
	check_src_store(s, true);
	kv_close(s);
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
		struct kv_store *s = open_tar(path, false, err, sizeof(err));
		if (!s)
			fail_msg("%s", err);
		uint64_t sz;
		assert_int_equal(kv_size(s, K("/big/file"), &sz), 0);
		assert_int_equal(sz, size);
		uint8_t *v;
		size_t n;
		assert_int_equal(kv_get_partial(s, K("/big/file"), size - 6, 100, &v, &n), 0);
		assert_int_equal(n, 6);
		assert_memory_equal(v, "\0\0TAIL", 6);
		free(v);
		assert_int_equal(kv_get_partial(s, K("/big/file"), 5ULL << 30, 4, &v, &n), 0);
		assert_int_equal(n, 4);
		assert_memory_equal(v, "\0\0\0\0", 4);
		free(v);
		kv_close(s);
		unlink(path);
	}
	tmpdir_rm(t);
	tk_reset();
}

static int batch_two(struct kv_store *txn, void *arg)
{
	assert_int_equal(kv_set(txn, K("/batch/one"), "1\n", 2), 0);
	assert_int_equal(kv_set(txn, K("/batch/two"), "2\n", 2), 0);
	return 0;
}

static void t_append(void **state)
{
	char *t = make_src();
	char path[600], err[256], lk[700];
	snprintf(path, sizeof(path), "%s/a.tar", t);
	assert_int_equal(sh("tar --format=gnu -C '%s/src' -cf '%s' .", t, path), 0);
	struct kv_store *s = open_tar(path, true, err, sizeof(err));
	if (!s)
		fail_msg("%s", err);
	assert_int_equal(kv_set(s, K("/a.txt"), "changed\n", 8), 0);
	assert_int_equal(kv_set(s, K("/new/file"), "new\n", 4), 0);
	snprintf(lk, sizeof(lk), "/%s/%s.dir/%s", long_dir, long_file, "appended-with-a-long-name");
	assert_int_equal(kv_set(s, K(lk), "lng\n", 4), 0);
	uint8_t big[70000];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)('a' + i % 26);
	big[sizeof(big) - 1] = '\n';
	assert_int_equal(kv_set(s, K("/bigish"), big, sizeof(big)), 0);
	assert_int_equal(kv_batch(s, batch_two, NULL), 0);
	assert_int_equal(kv_set_partial(s, K("/d/b.txt"), 1, "EE", 2), 0);
	assert_value(s, "/a.txt", "changed\n");
	assert_value(s, "/d/b.txt", "bEE\n");
	assert_int_equal(kv_set(s, K("/a.txt/x"), "x", 1), -KV_E_DICT_EXPECTED);
	kv_close(s);

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
	kv_close(s);
	/* Digest of the extracted tree (dir store) equals the tar store's. */
	char spec[700];
	snprintf(spec, sizeof(spec), "dir:%s/x", t);
	struct kv_store *ds;
	assert_int_equal(kv_open(spec, false, &ds, err, sizeof(err)), 0);
	s = open_tar(path, false, err, sizeof(err));
	assert_int_equal(kv_digest(s, K("/"), d1), 0);
	assert_int_equal(kv_digest(ds, K("/"), d2), 0);
	assert_memory_equal(d1, d2, 32);
	kv_close(ds);
	kv_close(s);

	/* A store-created archive: new file, then tar -t. */
	snprintf(path, sizeof(path), "%s/fresh.tar", t);
	s = open_tar(path, true, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(kv_set(s, K("/only"), "o", 1), 0);
	kv_close(s);
	assert_int_equal(sh("test \"$(tar -tf '%s')\" = only", path), 0);
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
	struct kv_store *s = open_tar(path, false, err, sizeof(err));
	assert_non_null(s);
	char key[102] = "/";
	strcat(key, n100);
	assert_value(s, key, "x");
	kv_close(s);
	tmpdir_rm(t);
	tk_reset();
}

static void t_torn_and_corrupt(void **state)
{
	char *t = tmpdir_new("tartorn");
	char path[600], err[256];
	snprintf(path, sizeof(path), "%s/t.tar", t);
	struct kv_store *s = open_tar(path, true, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(kv_set(s, K("/keep"), "kept", 4), 0);
	kv_close(s);
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
	kv_close(s);
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
	assert_int_equal(kv_set(s, K("/after"), "A", 1), 0);
	kv_close(s);
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
	assert_int_equal(kv_tar_open_buffer(a, sizeof(a), &s, err, sizeof(err)), -KV_E_STORAGE);
	assert_non_null(strstr(err, "pax"));
	tmpdir_rm(t);
	tk_reset();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_formats),
		cmocka_unit_test(t_big),
		cmocka_unit_test(t_append),
		cmocka_unit_test(t_traversal),
		cmocka_unit_test(t_torn_and_corrupt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

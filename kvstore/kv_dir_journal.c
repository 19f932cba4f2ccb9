/*
 * kv_dir_journal.c - the directory store's batch journal: encode, decode, replay
 *
 * The journal's format and the recovery rules are in the theory of operation
 * in kv_dir.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "kv_dir_internal.h"

/* Journal encoding. */
struct jbuf {
	uint8_t *p;
	size_t len, cap;
};

static int jput(struct jbuf *b, const void *data, size_t len)
{
	if (b->len + len > b->cap) {
		size_t nc = b->cap ? b->cap : 4096;
		while (nc < b->len + len)
			nc *= 2;
		uint8_t *np = realloc(b->p, nc);
		if (!np)
			return -1;
		b->p = np;
		b->cap = nc;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
	return 0;
}

static int jput32(struct jbuf *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	return jput(b, x, 4);
}

static int jput_str(struct jbuf *b, const char *s)
{
	size_t l = strlen(s);
	return jput32(b, (uint32_t)l) || jput(b, s, l);
}

static void sha256(const void *data, size_t len, uint8_t out[32])
{
	unsigned int ol = 32;
	EVP_Digest(data, len, out, &ol, EVP_sha256(), NULL);
}

/* A decoded journal record. */
struct jrec {
	char type;
	struct tapir_kv_key key;
	char *tmp;
};

static void jrecs_free(struct jrec *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		tapir_kv_key_free(&r[i].key);
		free(r[i].tmp);
	}
	free(r);
}

static int jget32(const uint8_t *p, size_t len, size_t *pos, uint32_t *v)
{
	if (len - *pos < 4)
		return -1;
	p += *pos;
	*v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	*pos += 4;
	return 0;
}

static int jget_str(const uint8_t *p, size_t len, size_t *pos, char **out)
{
	uint32_t l;
	if (jget32(p, len, pos, &l) || len - *pos < l || memchr(p + *pos, 0, l))
		return -1;
	*out = strndup((const char *)p + *pos, l);
	*pos += l;
	return *out ? 0 : -1;
}

/*
 * Return: true if @t is a name kv_dir_stage_file() makes: one path segment
 * in the root, TMP_PREFIX then "PID.N" (digits and dots), bounded.
 */
static bool staged_name_ok(const char *t)
{
	size_t pl = strlen(TMP_PREFIX), l = strlen(t);
	return l > pl && l < STAGED_NAME_MAX && !strncmp(t, TMP_PREFIX, pl) &&
	       strspn(t + pl, "0123456789.") == l - pl;
}

/* Return: true if no segment of @k is reserved (a replay never writes there). */
static bool key_unreserved(const struct tapir_kv_key *k)
{
	for (size_t i = 0; i < k->n; i++)
		if (!strncmp(k->seg[i], RESERVED_PREFIX, strlen(RESERVED_PREFIX)))
			return false;
	return true;
}

/*
 * Decode and verify a journal.  *@why says what is wrong on failure.
 * Return: 0, or -1 if it does not verify (bad magic or checksum, truncated,
 * malformed), or -2 if it verifies but names what no batch can (a staged
 * file that is not one TMP_PREFIX name in the root, a reserved key).
 */
static int journal_decode(const uint8_t *p, size_t len, struct jrec **out, size_t *n,
			  const char **why)
{
	size_t ml = strlen(JOURNAL_MAGIC), pos = ml;
	uint8_t sum[32];
	uint32_t cnt;
	*why = "bad magic or truncated";
	if (len < ml + 4 + 32 || memcmp(p, JOURNAL_MAGIC, ml))
		return -1;
	*why = "checksum mismatch";
	sha256(p, len - 32, sum);
	if (memcmp(sum, p + len - 32, 32))
		return -1;
	len -= 32;
	*why = "malformed records";
	if (jget32(p, len, &pos, &cnt) || cnt > len)
		return -1;
	struct jrec *r = calloc(cnt ? cnt : 1, sizeof(*r));
	if (!r)
		return -1;
	size_t i;
	int bad = -1;
	for (i = 0; i < cnt; i++) {
		char *ks = NULL;
		if (pos >= len || (p[pos] != 'R' && p[pos] != 'S'))
			break;
		r[i].type = (char)p[pos++];
		if (jget_str(p, len, &pos, &ks))
			break;
		int rc = tapir_kv_key_parse(ks, &r[i].key);
		free(ks);
		if (rc || !r[i].key.n || jget_str(p, len, &pos, &r[i].tmp))
			break;
		if (!key_unreserved(&r[i].key)) {
			*why = "a record names a reserved key";
			bad = -2;
			break;
		}
		if (r[i].type == 'S' ? !staged_name_ok(r[i].tmp) : *r[i].tmp != 0) {
			*why = "a record names a staged file outside the store's staging names";
			bad = -2;
			break;
		}
	}
	if (i < cnt || pos != len) {
		jrecs_free(r, i + 1 < cnt ? i + 1 : cnt);
		return bad;
	}
	*out = r;
	*n = cnt;
	return 0;
}

/*
 * Check that every staged file a replay would move is a plain file of the
 * store (a regular file with one link, never a symlink), or gone.
 * Return: 0, or -1 with *@why set.
 */
static int journal_check_staged(struct kv_dir *d, const struct jrec *r, size_t n,
				const char **why)
{
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (r[i].type != 'S' || fstatat(d->rootfd, r[i].tmp, &st, AT_SYMLINK_NOFOLLOW))
			continue;
		if (!S_ISREG(st.st_mode)) {
			*why = "a staged file is not a regular file";
			return -1;
		}
		if (st.st_nlink != 1) {
			*why = "a staged file has other links";
			return -1;
		}
	}
	return 0;
}

static unsigned long journals_refused;

unsigned long tapir_kv_dir_journals_refused(void)
{
	return __atomic_load_n(&journals_refused, __ATOMIC_RELAXED);
}

/*
 * Move a refused journal aside to QUARANTINE (replacing an older one), or
 * delete it if that fails; log and count it.  Return: 0 or -KV_E_*.
 */
static int journal_quarantine(struct tapir_kv_store *s, const char *why)
{
	struct kv_dir *d = D(s);
	__atomic_add_fetch(&journals_refused, 1, __ATOMIC_RELAXED);
	fprintf(stderr, "kv: dir %s: batch journal %s refused (%s): not replayed, moved aside "
		"to %s\n", d->path, JOURNAL, why, QUARANTINE);
	if (renameat(d->rootfd, JOURNAL, d->rootfd, QUARANTINE) &&
	    kv_dir_rm_rf(d->rootfd, JOURNAL, 0))
		return kv_fail(s, kv_errno_code(errno), "%s: refused (%s) and cannot be moved "
			       "aside: %s", JOURNAL, why, strerror(errno));
	kv_dir_fsync(d->rootfd);
	return 0;
}

/* Apply journal records (see the theory).  Return: 0 or -KV_E_*. */
static int journal_apply(struct tapir_kv_store *s, const struct jrec *r, size_t n, bool replay)
{
	struct kv_dir *d = D(s);
	bool skip_removes = false;
	if (replay) {
		for (size_t i = 0; i < n; i++) {
			struct stat st;
			if (r[i].type == 'S' &&
			    fstatat(d->rootfd, r[i].tmp, &st, AT_SYMLINK_NOFOLLOW))
				skip_removes = true;
		}
	}
	for (size_t i = 0; i < n; i++) {
		int rc = 0;
		if (r[i].type == 'R') {
			if (!skip_removes)
				rc = kv_dir_remove_at(s, &r[i].key, true);
		} else {
			struct stat st;
			if (!fstatat(d->rootfd, r[i].tmp, &st, AT_SYMLINK_NOFOLLOW))
				rc = kv_dir_place(s, &r[i].key, r[i].tmp, false);
		}
		if (rc)
			return rc;
	}
	/* Every rename and removal above becomes durable here, before the
	 * journal may be deleted. */
	return syncfs(d->rootfd) ? kv_fail(s, TAPIR_KV_E_STORAGE, "syncfs failed: %s", strerror(errno))
				 : 0;
}

static int read_file_at(int dfd, const char *name, uint8_t **out, size_t *len)
{
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > JOURNAL_MAX) {
		close(fd);
		return -EINVAL;
	}
	uint8_t *b = malloc((size_t)st.st_size + 1);
	size_t got = 0;
	while (b && got < (size_t)st.st_size) {
		ssize_t r = pread(fd, b + got, (size_t)st.st_size - got, (off_t)got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (!b || got != (size_t)st.st_size) {
		free(b);
		return -EIO;
	}
	*out = b;
	*len = got;
	return 0;
}

/*
 * Replay a journal that verifies and names only the store's own staged
 * files; move any other aside (journal_quarantine).  Then delete left-over
 * staged files.  Only for a writable store.  Return: 0 or -KV_E_*.
 */
int kv_dir_recover(struct tapir_kv_store *s)
{
	struct kv_dir *d = D(s);
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc = read_file_at(d->rootfd, JOURNAL, &buf, &len);
	if (rc == 0) {
		struct jrec *r;
		size_t n;
		const char *why;
		int dec = journal_decode(buf, len, &r, &n, &why);
		free(buf);
		if (dec == 0 && journal_check_staged(d, r, n, &why)) {
			jrecs_free(r, n);
			dec = -2;
		}
		if (dec == 0) {
			rc = journal_apply(s, r, n, true);
			jrecs_free(r, n);
			if (rc)
				return rc;
			if (unlinkat(d->rootfd, JOURNAL, 0))
				return kv_fail(s, kv_errno_code(errno),
					       "cannot delete the journal: %s", strerror(errno));
			kv_dir_fsync(d->rootfd);
		} else if ((rc = journal_quarantine(s, why))) {
			return rc;
		}
	} else if (rc == -EINVAL || rc == -ELOOP) {
		/* Not a regular file (a symlink, a FIFO...) or larger than any journal. */
		if ((rc = journal_quarantine(s, rc == -ELOOP ? "a symlink" :
					     "not a regular file, or too large")))
			return rc;
	} else if (rc != -ENOENT) {
		/* Unreadable: refuse to guess. */
		return kv_fail(s, TAPIR_KV_E_STORAGE, "%s: unreadable journal: %s", JOURNAL,
			       strerror(-rc));
	}
	int fd = openat(d->rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (!dir) {
		if (fd >= 0)
			close(fd);
		return kv_fail(s, TAPIR_KV_E_STORAGE, "cannot list the root");
	}
	struct dirent *de;
	while ((de = readdir(dir))) {
		if (!strncmp(de->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) ||
		    !strncmp(de->d_name, TRASH_PREFIX, strlen(TRASH_PREFIX)) ||
		    !strcmp(de->d_name, JOURNAL_TMP))
			kv_dir_rm_rf(d->rootfd, de->d_name, 0);
	}
	closedir(dir);
	kv_dir_fsync(d->rootfd);
	return 0;
}

int kv_dir_commit(struct tapir_kv_store *s, const struct tapir_kv_op *ops, size_t n)
{
	struct kv_dir *d = D(s);
	kv_dir_fdcache_flush(d);
	struct jrec *r = calloc(n, sizeof(*r));
	struct jbuf jb = { 0 };
	int rc = 0;
	size_t staged = 0;
	if (!r)
		return kv_fail(s, TAPIR_KV_E_NOMEM, "out of memory");
	/* 1. Stage every value. */
	for (size_t i = 0; !rc && i < n; i++) {
		rc = kv_dir_check_reserved(s, &ops[i].key);
		if (rc)
			break;
		r[i].type = ops[i].type == TAPIR_KV_OP_SET ? 'S' : 'R';
		r[i].key = ops[i].key;   /* borrowed, never freed through r */
		if (ops[i].type == TAPIR_KV_OP_SET) {
			char tmp[64];
			int e = kv_dir_stage_file(d, -1, 0, ops[i].data, ops[i].len, 0, tmp,
						  sizeof(tmp), false);
			if (e)
				rc = kv_dir_errfail(s, -e, &ops[i].key, "write");
			else if (!(r[i].tmp = strdup(tmp)))
				rc = kv_fail(s, TAPIR_KV_E_NOMEM, "out of memory");
			else
				staged = i + 1;
		}
	}
	/* Then make them durable with one syncfs(): an fsync per file costs a
	 * device flush each (~10 ms on a VM disk), syncfs one for all. */
	if (!rc && syncfs(d->rootfd))
		rc = kv_fail(s, kv_errno_code(errno), "syncfs: %s", strerror(errno));
	/* 2. Write the journal and make it durable: the commit point. */
	if (!rc) {
		int bad = jput(&jb, JOURNAL_MAGIC, strlen(JOURNAL_MAGIC)) || jput32(&jb, (uint32_t)n);
		for (size_t i = 0; !bad && i < n; i++) {
			char *ks = tapir_kv_key_to_string(&r[i].key);
			bad = !ks || jput(&jb, &r[i].type, 1) || jput_str(&jb, ks) ||
			      jput_str(&jb, r[i].tmp ? r[i].tmp : "");
			free(ks);
		}
		uint8_t sum[32];
		if (!bad) {
			sha256(jb.p, jb.len, sum);
			bad = jput(&jb, sum, sizeof(sum));
		}
		if (bad)
			rc = kv_fail(s, TAPIR_KV_E_NOMEM, "out of memory");
		else if (jb.len > JOURNAL_MAX)
			rc = kv_fail(s, TAPIR_KV_E_INVALID, "batch too large: its journal would exceed "
				     "%u bytes", JOURNAL_MAX);
	}
	if (!rc) {
		int fd = openat(d->rootfd, JOURNAL_TMP, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
				0644);
		int e = fd < 0 ? -errno : kv_pwrite_all(fd, jb.p, jb.len, 0);
		if (!e)
			e = kv_dir_fsync(fd);
		if (fd >= 0)
			close(fd);
		if (!e && renameat(d->rootfd, JOURNAL_TMP, d->rootfd, JOURNAL))
			e = -errno;
		if (!e)
			e = kv_dir_fsync(d->rootfd);
		if (e) {
			unlinkat(d->rootfd, JOURNAL_TMP, 0);
			rc = kv_fail(s, kv_errno_code(-e), "cannot write the batch journal: %s",
				     strerror(-e));
		}
	}
	free(jb.p);
	if (rc) {
		for (size_t i = 0; i < staged; i++)
			if (r[i].tmp)
				unlinkat(d->rootfd, r[i].tmp, 0);
		for (size_t i = 0; i < n; i++)
			free(r[i].tmp);
		free(r);
		return rc;
	}
	/* 3. Apply, then drop the journal. */
	rc = journal_apply(s, r, n, false);
	for (size_t i = 0; i < n; i++)
		free(r[i].tmp);
	free(r);
	if (rc)
		return kv_fail(s, s->last_err ? s->last_err : TAPIR_KV_E_STORAGE,
			       "batch partly applied (%s); it is completed when the store is "
			       "opened again", s->errmsg);
	if (unlinkat(d->rootfd, JOURNAL, 0) || kv_dir_fsync(d->rootfd))
		return kv_fail(s, TAPIR_KV_E_STORAGE, "cannot delete the batch journal: %s",
			       strerror(errno));
	return 0;
}


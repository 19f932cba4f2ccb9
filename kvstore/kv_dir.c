/*
 * kv_dir.c - the directory store (dir:/path)
 *
 * Theory of operation
 * -------------------
 * Keys map to paths below the root: values are regular files, dictionaries
 * directories.  Other file types are invisible.  Every path is opened with
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) relative to the root's fd,
 * so ".." and symlinks can never reach outside (-KV_E_INVALID, "escapes the
 * store"); symlinks that stay inside are followed.  Without openat2 (old
 * kernels) paths are walked one segment at a time with O_NOFOLLOW and every
 * symlink is refused.
 *
 * Names starting with ".tapir-kv-" are reserved (refused in keys, hidden from
 * listings).  The root holds the store's own files:
 *   .tapir-kv-tmp.PID.N      staged values (created, written, fsynced)
 *   .tapir-kv-trash.PID.N    a removed dictionary being deleted
 *   .tapir-kv-journal        the intent log of a batch being applied
 *
 * set: write a staged file, fsync it, rename() it over the key, fsync the
 * directory: a crash leaves the old or the new value, never a mix.
 * set_partial copies the old value into the staged file first (O(size)).
 * remove of a dictionary renames it to a trash name first (atomic), then
 * deletes it.  rename is rename(2) plus fsyncs.
 *
 * batch: all new values are staged and made durable with one syncfs() (an
 * fsync per file costs a device flush each).  Then the journal (REMOVE and
 * SET records, each SET naming its staged file, closed by a SHA-256 of the
 * whole) is written to .tapir-kv-journal.tmp, fsynced, and renamed to
 * .tapir-kv-journal (the commit point), and the root fsynced.  The records
 * are applied (all REMOVEs, then the SETs by rename), made durable by one
 * more syncfs(), and the journal deleted.  When a store is opened and a
 * journal is present and its checksum verifies, it is applied again: REMOVEs
 * are skipped if any staged file is already gone (the SETs had started, so
 * every REMOVE was done), and a SET whose staged file is gone was already
 * done.  A journal that does not verify is discarded (the commit point was
 * never reached).  Left-over staged and trash files are then deleted.  A
 * read-only open performs this recovery too when it can lock the store and
 * write to it, and fails otherwise.
 *
 * A writable store holds an exclusive flock() on its root directory: one
 * writer process at a time.  Atomicity is against crashes and for users of the
 * store handle; other processes reading the directory directly may observe a
 * batch half applied.
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
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/openat2.h>
#include <openssl/evp.h>

#include "kv_internal.h"

#define RESERVED_PREFIX ".tapir-kv-"
#define TMP_PREFIX ".tapir-kv-tmp."
#define TRASH_PREFIX ".tapir-kv-trash."
#define JOURNAL ".tapir-kv-journal"
#define JOURNAL_TMP ".tapir-kv-journal.tmp"
#define JOURNAL_MAGIC "TAPIRKV-JOURNAL1\n"
#define JOURNAL_MAX (256u << 20)

struct kv_dir {
	struct kv_store s;
	int rootfd;
	bool have_openat2;
	unsigned seq;
	char *path;
};

static struct kv_dir *D(struct kv_store *s)
{
	return (struct kv_dir *)s;
}

/* Relative path of @k ("." for the root), malloc'd. */
static char *relpath(const struct kv_key *k, size_t n)
{
	if (!n)
		return strdup(".");
	size_t len = 0;
	for (size_t i = 0; i < n; i++)
		len += strlen(k->seg[i]) + 1;
	char *s = malloc(len), *p = s;
	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(k->seg[i]);
		memcpy(p, k->seg[i], l);
		p += l;
		*p++ = '/';
	}
	p[-1] = 0;
	return s;
}

/* Walk @rel one segment at a time, refusing every symlink (no openat2). */
static int open_walk(struct kv_dir *d, const char *rel, int flags, mode_t mode)
{
	char *copy = strdup(rel);
	if (!copy)
		return -ENOMEM;
	int cur = dup(d->rootfd);
	char *save = NULL, *seg = strtok_r(copy, "/", &save);
	if (cur < 0) {
		free(copy);
		return -errno;
	}
	if (!strcmp(rel, ".")) {
		seg = NULL;
		int fd = openat(d->rootfd, ".", flags | O_CLOEXEC, mode);
		close(cur);
		free(copy);
		return fd < 0 ? -errno : fd;
	}
	while (seg) {
		char *next = strtok_r(NULL, "/", &save);
		int fl = next ? (O_PATH | O_DIRECTORY) : flags;
		int fd = openat(cur, seg, fl | O_NOFOLLOW | O_CLOEXEC, mode);
		int e = errno;
		close(cur);
		if (fd < 0) {
			free(copy);
			return e == ELOOP ? -EXDEV : -e;
		}
		struct stat st;
		if ((fl & O_PATH) && !fstat(fd, &st) && S_ISLNK(st.st_mode)) {
			close(fd);
			free(copy);
			return -EXDEV;
		}
		cur = fd;
		seg = next;
	}
	free(copy);
	return cur;
}

/* Return: fd of @rel below the root, or -errno (-EXDEV: escapes the root). */
static int open_beneath(struct kv_dir *d, const char *rel, int flags, mode_t mode)
{
#ifdef SYS_openat2
	if (d->have_openat2) {
		struct open_how how = {
			.flags = (uint64_t)(flags | O_CLOEXEC),
			.mode = (flags & O_CREAT) ? mode : 0,
			.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
		};
		long fd = syscall(SYS_openat2, d->rootfd, rel, &how, sizeof(how));
		if (fd >= 0)
			return (int)fd;
		if (errno != ENOSYS && errno != EPERM)
			return -errno;
		d->have_openat2 = false;
	}
#endif
	return open_walk(d, rel, flags, mode);
}

static int errfail(struct kv_store *s, int e, const struct kv_key *k, const char *op)
{
	char *ks = kv_key_to_string(k);
	int rc;
	if (e == EXDEV)
		rc = kv_fail(s, KV_E_INVALID, "%s: escapes the store (symlink leading outside "
			     "the root)", ks ? ks : "key");
	else
		rc = kv_fail(s, kv_errno_code(e), "%s: %s: %s", ks ? ks : "key", op, strerror(e));
	free(ks);
	return rc;
}

static int check_reserved(struct kv_store *s, const struct kv_key *k)
{
	for (size_t i = 0; i < k->n; i++)
		if (!strncmp(k->seg[i], RESERVED_PREFIX, strlen(RESERVED_PREFIX)))
			return kv_key_fail(s, KV_E_INVALID, k, "names starting with "
				       RESERVED_PREFIX " are reserved");
	return 0;
}

/* Kind of the first @n segments of @k; *kind KV_NONE if absent. */
static int kind_of(struct kv_store *s, const struct kv_key *k, size_t n, enum kv_kind *kind,
		   struct stat *stp)
{
	char *rel = relpath(k, n);
	if (!rel)
		return kv_fail(s, KV_E_NOMEM, "out of memory");
	int fd = open_beneath(D(s), rel, O_PATH, 0);
	free(rel);
	*kind = KV_NONE;
	if (fd < 0) {
		if (fd == -ENOENT || fd == -ENOTDIR)
			return 0;
		return errfail(s, -fd, k, "open");
	}
	struct stat st;
	int rc = fstat(fd, &st);
	int e = errno;
	close(fd);
	if (rc)
		return errfail(s, e, k, "stat");
	if (S_ISREG(st.st_mode))
		*kind = KV_VALUE;
	else if (S_ISDIR(st.st_mode))
		*kind = KV_DICT;
	if (stp)
		*stp = st;
	return 0;
}

static int dir_exists(struct kv_store *s, const struct kv_key *k, enum kv_kind *kind)
{
	int rc = check_reserved(s, k);
	return rc ? rc : kind_of(s, k, k->n, kind, NULL);
}

/* Open the value @k for reading; Return: fd or -KV_E_*. */
static int open_value(struct kv_store *s, const struct kv_key *k, struct stat *st)
{
	int rc = check_reserved(s, k);
	if (rc)
		return rc;
	char *rel = relpath(k, k->n);
	if (!rel)
		return kv_fail(s, KV_E_NOMEM, "out of memory");
	int fd = open_beneath(D(s), rel, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
	free(rel);
	if (fd < 0)
		return errfail(s, -fd, k, "open");
	if (fstat(fd, st)) {
		int e = errno;
		close(fd);
		return errfail(s, e, k, "stat");
	}
	if (S_ISREG(st->st_mode))
		return fd;
	close(fd);
	if (S_ISDIR(st->st_mode))
		return kv_key_fail(s, KV_E_VALUE_EXPECTED, k, "is a dictionary");
	return kv_key_fail(s, KV_E_NOT_FOUND, k, "not found");
}

static int dir_size(struct kv_store *s, const struct kv_key *k, uint64_t *size)
{
	struct stat st;
	int fd = open_value(s, k, &st);
	if (fd < 0)
		return fd;
	close(fd);
	*size = (uint64_t)st.st_size;
	return 0;
}

static int dir_read(struct kv_store *s, const struct kv_key *k, uint64_t off, void *buf,
		    size_t len, size_t *got)
{
	struct stat st;
	int fd = open_value(s, k, &st);
	if (fd < 0)
		return fd;
	size_t done = 0;
	while (done < len && off + done < (uint64_t)INT64_MAX) {
		ssize_t r = pread(fd, (uint8_t *)buf + done, len - done, (off_t)(off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			close(fd);
			return errfail(s, e, k, "read");
		}
		if (!r)
			break;
		done += (size_t)r;
	}
	close(fd);
	*got = done;
	return 0;
}

static int dir_list(struct kv_store *s, const struct kv_key *k, struct kv_entry **out, size_t *cnt)
{
	int rc = check_reserved(s, k);
	if (rc)
		return rc;
	char *rel = relpath(k, k->n);
	if (!rel)
		return kv_fail(s, KV_E_NOMEM, "out of memory");
	int fd = open_beneath(D(s), rel, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0) {
		free(rel);
		if (fd == -ENOTDIR) {
			enum kv_kind kind;
			rc = kind_of(s, k, k->n, &kind, NULL);
			if (!rc && kind == KV_VALUE)
				return kv_key_fail(s, KV_E_DICT_EXPECTED, k, "is a value");
		}
		return errfail(s, -fd, k, "open");
	}
	DIR *dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		free(rel);
		return kv_fail(s, KV_E_NOMEM, "out of memory");
	}
	struct kv_entry *e = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	rc = 0;
	while ((de = readdir(dir))) {
		const char *name = de->d_name;
		if (!kv_segment_valid(name) ||
		    !strncmp(name, RESERVED_PREFIX, strlen(RESERVED_PREFIX)))
			continue;
		enum kv_kind kind = KV_NONE;
		if (de->d_type == DT_REG) {
			kind = KV_VALUE;
		} else if (de->d_type == DT_DIR) {
			kind = KV_DICT;
		} else if (de->d_type == DT_LNK || de->d_type == DT_UNKNOWN) {
			struct kv_key ck;
			if (kv_key_copy(&ck, k, name)) {
				rc = kv_fail(s, KV_E_NOMEM, "out of memory");
				break;
			}
			if (kind_of(s, &ck, ck.n, &kind, NULL))
				kind = KV_NONE;   /* escaping symlinks are hidden */
			kv_key_free(&ck);
			s->last_err = 0;
		}
		if (kind == KV_NONE)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			struct kv_entry *ne = realloc(e, cap * sizeof(*ne));
			if (!ne) {
				rc = kv_fail(s, KV_E_NOMEM, "out of memory");
				break;
			}
			e = ne;
		}
		e[n].name = strdup(name);
		if (!e[n].name) {
			rc = kv_fail(s, KV_E_NOMEM, "out of memory");
			break;
		}
		e[n++].kind = kind;
	}
	closedir(dir);
	free(rel);
	if (rc) {
		kv_entries_free(e, n);
		return rc;
	}
	if (!e && !(e = calloc(1, sizeof(*e))))
		return kv_fail(s, KV_E_NOMEM, "out of memory");
	*out = e;
	*cnt = n;
	return 0;
}

static int dir_last_modified(struct kv_store *s, const struct kv_key *k, struct timespec *t)
{
	enum kv_kind kind = KV_NONE;
	struct stat st;
	int rc = check_reserved(s, k);
	if (!rc)
		rc = kind_of(s, k, k->n, &kind, &st);
	if (rc)
		return rc;
	if (kind == KV_NONE)
		return kv_key_fail(s, KV_E_NOT_FOUND, k, "not found");
	*t = st.st_mtim;
	return 0;
}

static int fsync_fd(int fd)
{
	while (fsync(fd)) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

/*
 * Open (creating as needed, like mkdir -p) the directory holding @k's last
 * segment, with every directory made durable.  Return: fd or -KV_E_*.
 */
static int make_parents(struct kv_store *s, const struct kv_key *k)
{
	int cur = open_beneath(D(s), ".", O_RDONLY | O_DIRECTORY, 0);
	if (cur < 0)
		return errfail(s, -cur, k, "open root");
	for (size_t i = 0; i + 1 < k->n; i++) {
		char *rel = relpath(k, i + 1);
		if (!rel) {
			close(cur);
			return kv_fail(s, KV_E_NOMEM, "out of memory");
		}
		int fd = open_beneath(D(s), rel, O_RDONLY | O_DIRECTORY, 0);
		if (fd == -ENOENT) {
			if (mkdirat(cur, k->seg[i], 0755) && errno != EEXIST) {
				int e = errno;
				free(rel);
				close(cur);
				return errfail(s, e, k, "mkdir");
			}
			fsync_fd(cur);
			fd = open_beneath(D(s), rel, O_RDONLY | O_DIRECTORY, 0);
		}
		free(rel);
		close(cur);
		if (fd == -ENOTDIR)
			return kv_key_fail(s, KV_E_DICT_EXPECTED, k, "a parent is a value");
		if (fd < 0)
			return errfail(s, -fd, k, "open");
		cur = fd;
	}
	return cur;
}

static int write_all(int fd, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t w = pwrite(fd, p, len, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		len -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

/* Create a staged file in the root; @name gets its name.  Return: fd or -errno. */
static int stage_open(struct kv_dir *d, const char *prefix, char *name, size_t namelen)
{
	for (int tries = 0; tries < 1000; tries++) {
		snprintf(name, namelen, "%s%ld.%u", prefix, (long)getpid(), d->seq++);
		int fd = openat(d->rootfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd >= 0 || errno != EEXIST)
			return fd >= 0 ? fd : -errno;
	}
	return -EEXIST;
}

/*
 * Stage a file holding (@copy_from's content, or nothing) with @data written
 * at @off, fsynced.  Return: 0 or -errno.
 */
static int stage_file(struct kv_dir *d, int copy_from, uint64_t copy_len, const void *data,
		      size_t len, uint64_t off, char *name, size_t namelen, bool sync)
{
	int fd = stage_open(d, TMP_PREFIX, name, namelen);
	if (fd < 0)
		return fd;
	int rc = 0;
	if (copy_from >= 0) {
		loff_t in = 0, outo = 0;
		while (!rc && (uint64_t)in < copy_len) {
			ssize_t c = copy_file_range(copy_from, &in, fd, &outo,
						    (size_t)(copy_len - (uint64_t)in), 0);
			if (c < 0 && errno == EINTR)
				continue;
			if (c < 0)
				rc = -errno;
			else if (c == 0)
				break;
		}
	}
	if (!rc)
		rc = write_all(fd, data, len, off);
	if (!rc && len == 0 && off > copy_len && ftruncate(fd, (off_t)off))
		rc = -errno;
	if (!rc && sync)
		rc = fsync_fd(fd);
	close(fd);
	if (rc)
		unlinkat(d->rootfd, name, 0);
	return rc;
}

/* Move staged @tmp to @k (parents made), make it durable.  Return: 0 or -KV_E_*. */
static int place(struct kv_store *s, const struct kv_key *k, const char *tmp, bool sync)
{
	int pfd = make_parents(s, k);
	if (pfd < 0)
		return pfd;
	const char *name = k->seg[k->n - 1];
	int rc = 0;
	if (renameat(D(s)->rootfd, tmp, pfd, name))
		rc = errfail(s, errno, k, "rename");
	else if (sync && (rc = fsync_fd(pfd)))
		rc = errfail(s, -rc, k, "fsync");
	close(pfd);
	return rc;
}

static int do_set(struct kv_store *s, const struct kv_key *k, const void *data, size_t len,
		  bool partial, uint64_t off)
{
	struct kv_dir *d = D(s);
	enum kv_kind kind = KV_NONE;
	int rc = check_reserved(s, k);
	for (size_t i = 1; !rc && i < k->n; i++) {
		rc = kind_of(s, k, i, &kind, NULL);
		if (!rc && kind == KV_VALUE)
			return kv_key_fail(s, KV_E_DICT_EXPECTED, k, "a parent is a value");
	}
	if (!rc)
		rc = kind_of(s, k, k->n, &kind, NULL);
	if (rc)
		return rc;
	if (kind == KV_DICT)
		return kv_key_fail(s, KV_E_VALUE_EXPECTED, k, "is a dictionary");
	int from = -1;
	struct stat st = { 0 };
	if (partial && kind == KV_VALUE) {
		from = open_value(s, k, &st);
		if (from < 0)
			return from;
	}
	char tmp[64];
	rc = stage_file(d, from, (uint64_t)st.st_size, data, len, partial ? off : 0, tmp,
			sizeof(tmp), true);
	if (from >= 0)
		close(from);
	if (rc)
		return errfail(s, -rc, k, "write");
	rc = place(s, k, tmp, true);
	if (rc)
		unlinkat(d->rootfd, tmp, 0);
	return rc;
}

static int dir_set(struct kv_store *s, const struct kv_key *k, const void *data, size_t len)
{
	return do_set(s, k, data, len, false, 0);
}

static int dir_set_partial(struct kv_store *s, const struct kv_key *k, uint64_t off,
			   const void *data, size_t len)
{
	return do_set(s, k, data, len, true, off);
}

/* rm -rf below @dfd/@name, never following symlinks. */
static int rm_rf(int dfd, const char *name, unsigned depth)
{
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dfd, name, 0) && errno != ENOENT ? -errno : 0;
	if (depth > 4096)
		return -ELOOP;
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	DIR *dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return -ENOMEM;
	}
	struct dirent *de;
	int rc = 0;
	while (!rc && (de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		rc = rm_rf(dirfd(dir), de->d_name, depth + 1);
	}
	closedir(dir);
	if (!rc && unlinkat(dfd, name, AT_REMOVEDIR) && errno != ENOENT)
		rc = -errno;
	return rc;
}

/* Remove @k (not found is fine when @quiet).  Return: 0 or -KV_E_*. */
static int do_remove(struct kv_store *s, const struct kv_key *k, bool quiet)
{
	struct kv_dir *d = D(s);
	struct kv_key pk = { k->n - 1, k->seg };
	char *prel = relpath(&pk, pk.n);
	if (!prel)
		return kv_fail(s, KV_E_NOMEM, "out of memory");
	int pfd = open_beneath(d, prel, O_RDONLY | O_DIRECTORY, 0);
	free(prel);
	if (pfd < 0) {
		if (quiet && (pfd == -ENOENT || pfd == -ENOTDIR))
			return 0;
		return errfail(s, -pfd, k, "open");
	}
	const char *name = k->seg[k->n - 1];
	struct stat st;
	int rc = 0;
	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW)) {
		rc = (quiet && errno == ENOENT) ? 0 : errfail(s, errno, k, "stat");
	} else if (S_ISDIR(st.st_mode)) {
		char trash[64];
		int tfd = stage_open(d, TRASH_PREFIX, trash, sizeof(trash));
		if (tfd >= 0) {
			close(tfd);
			unlinkat(d->rootfd, trash, 0);
		}
		if (tfd < 0 || renameat(pfd, name, d->rootfd, trash)) {
			rc = errfail(s, tfd < 0 ? -tfd : errno, k, "rename");
		} else {
			if (!quiet)
				fsync_fd(pfd);
			rm_rf(d->rootfd, trash, 0);
		}
	} else if (unlinkat(pfd, name, 0)) {
		rc = errfail(s, errno, k, "unlink");
	} else if (!quiet) {
		fsync_fd(pfd);
	}
	close(pfd);
	return rc;
}

static int dir_remove(struct kv_store *s, const struct kv_key *k)
{
	enum kv_kind kind = KV_NONE;
	int rc = dir_exists(s, k, &kind);
	if (rc)
		return rc;
	if (kind == KV_NONE)
		return kv_key_fail(s, KV_E_NOT_FOUND, k, "not found");
	return do_remove(s, k, false);
}

static int dir_rename(struct kv_store *s, const struct kv_key *src, const struct kv_key *dst)
{
	enum kv_kind sk, dk;
	int rc = dir_exists(s, src, &sk);
	if (!rc)
		rc = dir_exists(s, dst, &dk);
	for (size_t i = 1; !rc && i < dst->n; i++) {
		enum kv_kind pk;
		rc = kind_of(s, dst, i, &pk, NULL);
		if (!rc && pk == KV_VALUE)
			return kv_key_fail(s, KV_E_DICT_EXPECTED, dst, "a parent is a value");
	}
	if (rc)
		return rc;
	if (sk == KV_NONE)
		return kv_key_fail(s, KV_E_NOT_FOUND, src, "not found");
	if (dk != KV_NONE && !(dk == KV_VALUE && sk == KV_VALUE))
		return kv_key_fail(s, KV_E_ALREADY_PRESENT, dst, "already present");
	struct kv_key spk = { src->n - 1, src->seg };
	char *srel = relpath(&spk, spk.n);
	if (!srel)
		return kv_fail(s, KV_E_NOMEM, "out of memory");
	int sfd = open_beneath(D(s), srel, O_RDONLY | O_DIRECTORY, 0);
	free(srel);
	if (sfd < 0)
		return errfail(s, -sfd, src, "open");
	int dfd = make_parents(s, dst);
	if (dfd < 0) {
		close(sfd);
		return dfd;
	}
	if (renameat(sfd, src->seg[src->n - 1], dfd, dst->seg[dst->n - 1])) {
		rc = errfail(s, errno, dst, "rename");
	} else {
		fsync_fd(dfd);
		fsync_fd(sfd);
	}
	close(sfd);
	close(dfd);
	return rc;
}

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
	struct kv_key key;
	char *tmp;
};

static void jrecs_free(struct jrec *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		kv_key_free(&r[i].key);
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

/* Decode and verify a journal.  Return: 0, or -1 if it does not verify. */
static int journal_decode(const uint8_t *p, size_t len, struct jrec **out, size_t *n)
{
	size_t ml = strlen(JOURNAL_MAGIC), pos = ml;
	uint8_t sum[32];
	uint32_t cnt;
	if (len < ml + 4 + 32 || memcmp(p, JOURNAL_MAGIC, ml))
		return -1;
	sha256(p, len - 32, sum);
	if (memcmp(sum, p + len - 32, 32))
		return -1;
	len -= 32;
	if (jget32(p, len, &pos, &cnt) || cnt > len)
		return -1;
	struct jrec *r = calloc(cnt ? cnt : 1, sizeof(*r));
	if (!r)
		return -1;
	size_t i;
	for (i = 0; i < cnt; i++) {
		char *ks = NULL;
		if (pos >= len || (p[pos] != 'R' && p[pos] != 'S'))
			break;
		r[i].type = (char)p[pos++];
		if (jget_str(p, len, &pos, &ks))
			break;
		int rc = kv_key_parse(ks, &r[i].key);
		free(ks);
		if (rc || !r[i].key.n || jget_str(p, len, &pos, &r[i].tmp))
			break;
		if (r[i].type == 'S' && strncmp(r[i].tmp, TMP_PREFIX, strlen(TMP_PREFIX)))
			break;
	}
	if (i < cnt || pos != len) {
		jrecs_free(r, i + 1 < cnt ? i + 1 : cnt);
		return -1;
	}
	*out = r;
	*n = cnt;
	return 0;
}

/* Apply journal records (see the theory).  Return: 0 or -KV_E_*. */
static int journal_apply(struct kv_store *s, const struct jrec *r, size_t n, bool replay)
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
				rc = do_remove(s, &r[i].key, true);
		} else {
			struct stat st;
			if (!fstatat(d->rootfd, r[i].tmp, &st, AT_SYMLINK_NOFOLLOW))
				rc = place(s, &r[i].key, r[i].tmp, false);
		}
		if (rc)
			return rc;
	}
	/* Every rename and removal above becomes durable here, before the
	 * journal may be deleted. */
	return syncfs(d->rootfd) ? kv_fail(s, KV_E_STORAGE, "syncfs failed: %s", strerror(errno))
				 : 0;
}

static int read_file_at(int dfd, const char *name, uint8_t **out, size_t *len)
{
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
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

/* Replay or discard a journal, then delete left-over staged files.  Return: 0 or -KV_E_*. */
static int recover(struct kv_store *s)
{
	struct kv_dir *d = D(s);
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc = read_file_at(d->rootfd, JOURNAL, &buf, &len);
	if (rc == 0) {
		struct jrec *r;
		size_t n;
		if (journal_decode(buf, len, &r, &n) == 0) {
			rc = journal_apply(s, r, n, true);
			jrecs_free(r, n);
			if (rc) {
				free(buf);
				return rc;
			}
		}
		free(buf);
		if (unlinkat(d->rootfd, JOURNAL, 0))
			return kv_fail(s, kv_errno_code(errno), "cannot delete the journal: %s",
				       strerror(errno));
		fsync_fd(d->rootfd);
	} else if (rc != -ENOENT) {
		/* Not a regular file, unreadable or absurdly large: refuse to guess. */
		return kv_fail(s, KV_E_STORAGE, "%s: unreadable journal: %s", JOURNAL,
			       strerror(-rc));
	}
	int fd = openat(d->rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (!dir) {
		if (fd >= 0)
			close(fd);
		return kv_fail(s, KV_E_STORAGE, "cannot list the root");
	}
	struct dirent *de;
	while ((de = readdir(dir))) {
		if (!strncmp(de->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) ||
		    !strncmp(de->d_name, TRASH_PREFIX, strlen(TRASH_PREFIX)) ||
		    !strcmp(de->d_name, JOURNAL_TMP))
			rm_rf(d->rootfd, de->d_name, 0);
	}
	closedir(dir);
	fsync_fd(d->rootfd);
	return 0;
}

static int dir_commit(struct kv_store *s, const struct kv_op *ops, size_t n)
{
	struct kv_dir *d = D(s);
	struct jrec *r = calloc(n, sizeof(*r));
	struct jbuf jb = { 0 };
	int rc = 0;
	size_t staged = 0;
	if (!r)
		return kv_fail(s, KV_E_NOMEM, "out of memory");
	/* 1. Stage every value. */
	for (size_t i = 0; !rc && i < n; i++) {
		rc = check_reserved(s, &ops[i].key);
		if (rc)
			break;
		r[i].type = ops[i].type == KV_OP_SET ? 'S' : 'R';
		r[i].key = ops[i].key;   /* borrowed, never freed through r */
		if (ops[i].type == KV_OP_SET) {
			char tmp[64];
			int e = stage_file(d, -1, 0, ops[i].data, ops[i].len, 0, tmp, sizeof(tmp),
					   false);
			if (e)
				rc = errfail(s, -e, &ops[i].key, "write");
			else if (!(r[i].tmp = strdup(tmp)))
				rc = kv_fail(s, KV_E_NOMEM, "out of memory");
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
			char *ks = kv_key_to_string(&r[i].key);
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
			rc = kv_fail(s, KV_E_NOMEM, "out of memory");
	}
	if (!rc) {
		int fd = openat(d->rootfd, JOURNAL_TMP, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
				0644);
		int e = fd < 0 ? -errno : write_all(fd, jb.p, jb.len, 0);
		if (!e)
			e = fsync_fd(fd);
		if (fd >= 0)
			close(fd);
		if (!e && renameat(d->rootfd, JOURNAL_TMP, d->rootfd, JOURNAL))
			e = -errno;
		if (!e)
			e = fsync_fd(d->rootfd);
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
		return kv_fail(s, s->last_err ? s->last_err : KV_E_STORAGE,
			       "batch partly applied (%s); it is completed when the store is "
			       "opened again", s->errmsg);
	if (unlinkat(d->rootfd, JOURNAL, 0) || fsync_fd(d->rootfd))
		return kv_fail(s, KV_E_STORAGE, "cannot delete the batch journal: %s",
			       strerror(errno));
	return 0;
}

static void dir_close(struct kv_store *s)
{
	close(D(s)->rootfd);
	free(D(s)->path);
	free(s);
}

static const struct kv_ops dir_ops_ro = {
	.name = "dir",
	.close = dir_close,
	.exists = dir_exists,
	.size = dir_size,
	.read = dir_read,
	.list = dir_list,
	.last_modified = dir_last_modified,
};

static const struct kv_ops dir_ops_rw = {
	.name = "dir",
	.close = dir_close,
	.exists = dir_exists,
	.size = dir_size,
	.read = dir_read,
	.list = dir_list,
	.last_modified = dir_last_modified,
	.set = dir_set,
	.set_partial = dir_set_partial,
	.remove = dir_remove,
	.rename = dir_rename,
	.commit = dir_commit,
};

int kv_dir_open(const char *path, bool writable, struct kv_store **out, char *err, size_t errlen)
{
	*out = NULL;
	if (!path || !*path)
		return kv_errbuf(err, errlen, KV_E_INVALID, "dir: needs a path");
	struct kv_dir *d = calloc(1, sizeof(*d));
	if (!d || !(d->path = strdup(path))) {
		free(d);
		return kv_errbuf(err, errlen, KV_E_NOMEM, "out of memory");
	}
	d->s.ops = writable ? &dir_ops_rw : &dir_ops_ro;
	d->s.writable = writable;
	d->have_openat2 = true;
	d->rootfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->rootfd < 0) {
		int e = errno;
		free(d->path);
		free(d);
		return kv_errbuf(err, errlen, kv_errno_code(e), "%s: %s", path, strerror(e));
	}
	int rc = 0;
	struct stat st;
	bool pending = !fstatat(d->rootfd, JOURNAL, &st, AT_SYMLINK_NOFOLLOW);
	if (writable) {
		if (flock(d->rootfd, LOCK_EX | LOCK_NB))
			rc = kv_errbuf(err, errlen, KV_E_STORAGE, "%s: %s", path,
				       errno == EWOULDBLOCK ?
				       "opened for writing by another process" : strerror(errno));
		else if ((rc = recover(&d->s)))
			kv_errbuf(err, errlen, -rc, "%s: recovery failed: %s", path, d->s.errmsg);
	} else if (pending && !flock(d->rootfd, LOCK_EX | LOCK_NB)) {
		/* No writer holds the store: finish the interrupted batch. */
		if ((rc = recover(&d->s)))
			kv_errbuf(err, errlen, -rc, "%s: an interrupted batch needs recovery, "
				  "which failed (%s); open it writable", path, d->s.errmsg);
		flock(d->rootfd, LOCK_UN);
	}
	if (rc) {
		dir_close(&d->s);
		return rc;
	}
	d->s.last_err = 0;
	*out = &d->s;
	return 0;
}

/*
 * kv_dir.c - the directory store (dir:/path)
 *
 * Theory of operation
 * -------------------
 * Keys map to paths below the root: values are regular files, dictionaries
 * directories.  Other file types are invisible.  Every path is opened with
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) relative to the root's fd,
 * so ".." and symlinks can never reach outside (-TAPIR_KV_E_INVALID, "escapes the
 * store"); symlinks that stay inside are followed.  Without openat2 (old
 * kernels) paths are walked one segment at a time with O_NOFOLLOW and every
 * symlink is refused.
 *
 * Names starting with ".tapir-kv-" are reserved (refused in keys, hidden from
 * listings).  The root holds the store's own files:
 *   .tapir-kv-tmp.PID.N      staged values (created, written, fsynced)
 *   .tapir-kv-trash.PID.N    a removed dictionary being deleted
 *   .tapir-kv-journal        the intent log of a batch being applied
 *   .tapir-kv-quarantine.journal  the latest journal refused (see below)
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
 * never reached).  Left-over staged and trash files are then deleted.
 *
 * A journal is only trusted as far as it names what a batch can: every SET's
 * staged file must be one TMP_PREFIX "PID.N" name in the root (no '/', no
 * "..", bounded), a regular file with one link (never a symlink) when it is
 * still there, and no key may be reserved.  Whoever can write the directory
 * could otherwise make a replay rename any file of that filesystem into the
 * store.  A journal that breaks these rules, does not verify, or is not a
 * regular file is never replayed: it is renamed to .tapir-kv-quarantine.journal
 * (the latest one is kept), logged on stderr and counted
 * (tapir_kv_dir_journals_refused()); the open then goes on as after a discard.
 *
 * Recovery only runs on a writable open.  A read-only open never writes (as
 * git's readers and SQLite's read-only connections): when a journal is
 * present and no writer holds the store, the batch was interrupted and the
 * open fails with TAPIR_KV_E_STORAGE, saying to open the store writable once.
 * When a writer holds the lock, the journal is its batch in progress and the
 * read-only open succeeds.
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

#include "kv_dir_internal.h"

/* Relative path of @k ("." for the root), malloc'd. */
char *kv_dir_relpath(const struct tapir_kv_key *k, size_t n)
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
int kv_dir_open_beneath(struct kv_dir *d, const char *rel, int flags, mode_t mode)
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

int kv_dir_errfail(struct tapir_kv_store *s, int e, const struct tapir_kv_key *k, const char *op)
{
	char *ks = tapir_kv_key_to_string(k);
	int rc;
	if (e == EXDEV)
		rc = kv_fail(s, TAPIR_KV_E_INVALID, "%s: escapes the store (symlink leading outside "
			     "the root)", ks ? ks : "key");
	else
		rc = kv_fail(s, kv_errno_code(e), "%s: %s: %s", ks ? ks : "key", op, strerror(e));
	free(ks);
	return rc;
}

int kv_dir_check_reserved(struct tapir_kv_store *s, const struct tapir_kv_key *k)
{
	for (size_t i = 0; i < k->n; i++)
		if (!strncmp(k->seg[i], RESERVED_PREFIX, strlen(RESERVED_PREFIX)))
			return kv_key_fail(s, TAPIR_KV_E_INVALID, k, "names starting with "
				       RESERVED_PREFIX " are reserved");
	return 0;
}

/* Kind of the first @n segments of @k; *kind TAPIR_KV_NONE if absent. */
int kv_dir_kind_of(struct tapir_kv_store *s, const struct tapir_kv_key *k, size_t n,
		   enum tapir_kv_kind *kind, struct stat *stp)
{
	char *rel = kv_dir_relpath(k, n);
	if (!rel)
		return kv_fail(s, TAPIR_KV_E_NOMEM, "out of memory");
	int fd = kv_dir_open_beneath(D(s), rel, O_PATH, 0);
	free(rel);
	*kind = TAPIR_KV_NONE;
	if (fd < 0) {
		if (fd == -ENOENT || fd == -ENOTDIR)
			return 0;
		return kv_dir_errfail(s, -fd, k, "open");
	}
	struct stat st;
	int rc = fstat(fd, &st);
	int e = errno;
	close(fd);
	if (rc)
		return kv_dir_errfail(s, e, k, "stat");
	if (S_ISREG(st.st_mode))
		*kind = TAPIR_KV_VALUE;
	else if (S_ISDIR(st.st_mode))
		*kind = TAPIR_KV_DICT;
	if (stp)
		*stp = st;
	return 0;
}

int kv_dir_exists(struct tapir_kv_store *s, const struct tapir_kv_key *k, enum tapir_kv_kind *kind)
{
	int rc = kv_dir_check_reserved(s, k);
	return rc ? rc : kv_dir_kind_of(s, k, k->n, kind, NULL);
}

/* Open the value @k for reading; Return: fd or -KV_E_*. */
int kv_dir_open_value(struct tapir_kv_store *s, const struct tapir_kv_key *k, struct stat *st)
{
	int rc = kv_dir_check_reserved(s, k);
	if (rc)
		return rc;
	char *rel = kv_dir_relpath(k, k->n);
	if (!rel)
		return kv_fail(s, TAPIR_KV_E_NOMEM, "out of memory");
	int fd = kv_dir_open_beneath(D(s), rel, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
	free(rel);
	if (fd < 0)
		return kv_dir_errfail(s, -fd, k, "open");
	if (fstat(fd, st)) {
		int e = errno;
		close(fd);
		return kv_dir_errfail(s, e, k, "stat");
	}
	if (S_ISREG(st->st_mode))
		return fd;
	close(fd);
	if (S_ISDIR(st->st_mode))
		return kv_key_fail(s, TAPIR_KV_E_VALUE_EXPECTED, k, "is a dictionary");
	return kv_key_fail(s, TAPIR_KV_E_NOT_FOUND, k, "not found");
}

static int dir_size(struct tapir_kv_store *s, const struct tapir_kv_key *k, uint64_t *size)
{
	struct stat st;
	int fd = kv_dir_open_value(s, k, &st);
	if (fd < 0)
		return fd;
	close(fd);
	*size = (uint64_t)st.st_size;
	return 0;
}

/* Up to @len bytes at @off of @fd into @buf (fewer at the end): *@got.
 * Return: 0 or -errno */
static int pread_upto(int fd, uint64_t off, void *buf, size_t len, size_t *got)
{
	size_t done = 0;
	while (done < len && off + done < (uint64_t)INT64_MAX) {
		ssize_t r = pread(fd, (uint8_t *)buf + done, len - done, (off_t)(off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (!r)
			break;
		done += (size_t)r;
	}
	*got = done;
	return 0;
}


/*
 * Open values and the descriptor cache.  A value opened (tapir_kv_value_open())
 * is read from its file, opened once.  The last DIR_FD_CACHE value files
 * opened stay open, by relative path: opening the same key again costs one
 * fstatat() of the path instead of openat2(), fstat() and close(), and is
 * answered from the cached file only if the path still leads to the same
 * file (device and inode; the open descriptor keeps the inode from being
 * reused), else the file is opened again.  The path is only compared there:
 * what is read always comes from a file that was opened beneath the root.
 * Writes through the store empty the cache; a file removed by someone else
 * stays open (its space held) until its slot is reused or the store closes.
 */
struct dir_value {
	struct tapir_kv_value v;
	struct dir_file *f;
};

static void file_put(struct dir_file *f)
{
	if (f && !--f->refs) {
		close(f->fd);
		free(f);
	}
}

static void slot_clear(struct dir_fd_slot *sl)
{
	free(sl->rel);
	sl->rel = NULL;
	file_put(sl->f);
	sl->f = NULL;
}

void kv_dir_fdcache_flush(struct kv_dir *d)
{
	for (size_t i = 0; i < DIR_FD_CACHE; i++)
		if (d->fdc[i].rel)
			slot_clear(&d->fdc[i]);
}

/* Keep @f (one more reference) as the file of @rel (taken over), in the
 * least recently used slot. */
static void fdcache_put(struct kv_dir *d, char *rel, struct dir_file *f)
{
	struct dir_fd_slot *sl = &d->fdc[0];
	for (size_t i = 0; i < DIR_FD_CACHE; i++) {
		if (!d->fdc[i].rel) {
			sl = &d->fdc[i];
			break;
		}
		if (d->fdc[i].used < sl->used)
			sl = &d->fdc[i];
	}
	if (sl->rel)
		slot_clear(sl);
	sl->rel = rel;
	sl->f = f;
	sl->used = ++d->fdc_tick;
	f->refs++;
}

/* The cached file of @rel if the path still leads to it (its stat in @sb),
 * else NULL (a stale slot is emptied). */
static struct dir_file *fdcache_get(struct kv_dir *d, const char *rel, struct stat *sb)
{
	for (size_t i = 0; i < DIR_FD_CACHE; i++) {
		struct dir_fd_slot *sl = &d->fdc[i];
		if (!sl->rel || strcmp(sl->rel, rel))
			continue;
		if (!fstatat(d->rootfd, rel, sb, 0) && S_ISREG(sb->st_mode) &&
		    sb->st_dev == sl->f->dev && sb->st_ino == sl->f->ino) {
			sl->used = ++d->fdc_tick;
			return sl->f;
		}
		slot_clear(sl);
		return NULL;
	}
	return NULL;
}

/* The file of value @k, with its stat in @sb: cached or opened (and cached).
 * Return: the file, one reference the caller's, or NULL with *@rc -KV_E_* */
static struct dir_file *value_file(struct tapir_kv_store *s, const struct tapir_kv_key *k,
				   struct stat *sb, int *rc)
{
	struct kv_dir *d = D(s);
	*rc = kv_dir_check_reserved(s, k);
	if (*rc)
		return NULL;
	char *rel = kv_dir_relpath(k, k->n);
	if (!rel) {
		*rc = kv_fail(s, TAPIR_KV_E_NOMEM, "out of memory");
		return NULL;
	}
	struct dir_file *f = fdcache_get(d, rel, sb);
	if (f) {
		free(rel);
		f->refs++;
		return f;
	}
	free(rel);
	int fd = kv_dir_open_value(s, k, sb);
	if (fd < 0) {
		*rc = fd;
		return NULL;
	}
	f = malloc(sizeof(*f));
	rel = kv_dir_relpath(k, k->n);
	if (!f || !rel) {
		free(f);
		free(rel);
		close(fd);
		*rc = kv_fail(s, TAPIR_KV_E_NOMEM, "out of memory");
		return NULL;
	}
	*f = (struct dir_file){ .fd = fd, .dev = sb->st_dev, .ino = sb->st_ino, .refs = 1 };
	fdcache_put(d, rel, f);
	return f;
}

static int dir_value_open(struct tapir_kv_store *s, const struct tapir_kv_key *k,
			  struct tapir_kv_value **out, struct tapir_kv_stat *st)
{
	struct stat sb;
	int rc;
	struct dir_value *dv = malloc(sizeof(*dv));
	if (!dv)
		return kv_fail(s, TAPIR_KV_E_NOMEM, "out of memory");
	dv->f = value_file(s, k, &sb, &rc);
	if (!dv->f) {
		free(dv);
		return rc;
	}
	st->size = (uint64_t)sb.st_size;
	st->mtime = sb.st_mtim;
	*out = &dv->v;
	return 0;
}

static int dir_value_read(struct tapir_kv_value *v, uint64_t off, void *buf, size_t len,
			  size_t *got)
{
	int rc = pread_upto(((struct dir_value *)v)->f->fd, off, buf, len, got);
	return rc ? kv_fail(v->s, kv_errno_code(-rc), "read: %s", strerror(-rc)) : 0;
}

static void dir_value_close(struct tapir_kv_value *v)
{
	file_put(((struct dir_value *)v)->f);
	free(v);
}

static int dir_read(struct tapir_kv_store *s, const struct tapir_kv_key *k, uint64_t off, void *buf,
		    size_t len, size_t *got)
{
	struct stat st;
	int rc;
	struct dir_file *f = value_file(s, k, &st, &rc);
	if (!f)
		return rc;
	rc = pread_upto(f->fd, off, buf, len, got);
	file_put(f);
	return rc ? kv_dir_errfail(s, -rc, k, "read") : 0;
}

static int dir_list(struct tapir_kv_store *s, const struct tapir_kv_key *k,
		    struct tapir_kv_entry **out, size_t *cnt)
{
	int rc = kv_dir_check_reserved(s, k);
	if (rc)
		return rc;
	char *rel = kv_dir_relpath(k, k->n);
	if (!rel)
		return kv_fail(s, TAPIR_KV_E_NOMEM, "out of memory");
	int fd = kv_dir_open_beneath(D(s), rel, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0) {
		free(rel);
		if (fd == -ENOTDIR) {
			enum tapir_kv_kind kind;
			rc = kv_dir_kind_of(s, k, k->n, &kind, NULL);
			if (!rc && kind == TAPIR_KV_VALUE)
				return kv_key_fail(s, TAPIR_KV_E_DICT_EXPECTED, k, "is a value");
		}
		return kv_dir_errfail(s, -fd, k, "open");
	}
	DIR *dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		free(rel);
		return kv_fail(s, TAPIR_KV_E_NOMEM, "out of memory");
	}
	struct tapir_kv_entry *e = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	rc = 0;
	while ((de = readdir(dir))) {
		const char *name = de->d_name;
		if (!kv_segment_valid(name) ||
		    !strncmp(name, RESERVED_PREFIX, strlen(RESERVED_PREFIX)))
			continue;
		enum tapir_kv_kind kind = TAPIR_KV_NONE;
		if (de->d_type == DT_REG) {
			kind = TAPIR_KV_VALUE;
		} else if (de->d_type == DT_DIR) {
			kind = TAPIR_KV_DICT;
		} else if (de->d_type == DT_LNK || de->d_type == DT_UNKNOWN) {
			struct tapir_kv_key ck;
			if (tapir_kv_key_copy(&ck, k, name)) {
				rc = kv_fail(s, TAPIR_KV_E_NOMEM, "out of memory");
				break;
			}
			if (kv_dir_kind_of(s, &ck, ck.n, &kind, NULL))
				kind = TAPIR_KV_NONE;   /* escaping symlinks are hidden */
			tapir_kv_key_free(&ck);
			s->last_err = 0;
		}
		if (kind == TAPIR_KV_NONE)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			struct tapir_kv_entry *ne = realloc(e, cap * sizeof(*ne));
			if (!ne) {
				rc = kv_fail(s, TAPIR_KV_E_NOMEM, "out of memory");
				break;
			}
			e = ne;
		}
		e[n].name = strdup(name);
		if (!e[n].name) {
			rc = kv_fail(s, TAPIR_KV_E_NOMEM, "out of memory");
			break;
		}
		e[n++].kind = kind;
	}
	closedir(dir);
	free(rel);
	if (rc) {
		tapir_kv_entries_free(e, n);
		return rc;
	}
	if (!e && !(e = calloc(1, sizeof(*e))))
		return kv_fail(s, TAPIR_KV_E_NOMEM, "out of memory");
	*out = e;
	*cnt = n;
	return 0;
}

static int dir_last_modified(struct tapir_kv_store *s, const struct tapir_kv_key *k,
			     struct timespec *t)
{
	enum tapir_kv_kind kind = TAPIR_KV_NONE;
	struct stat st;
	int rc = kv_dir_check_reserved(s, k);
	if (!rc)
		rc = kv_dir_kind_of(s, k, k->n, &kind, &st);
	if (rc)
		return rc;
	if (kind == TAPIR_KV_NONE)
		return kv_key_fail(s, TAPIR_KV_E_NOT_FOUND, k, "not found");
	*t = st.st_mtim;
	return 0;
}

static void dir_close(struct tapir_kv_store *s)
{
	kv_dir_fdcache_flush(D(s));
	close(D(s)->rootfd);
	free(D(s)->path);
	free(s);
}

static const struct tapir_kv_ops dir_ops_ro = {
	.name = "dir",
	.close = dir_close,
	.exists = kv_dir_exists,
	.size = dir_size,
	.read = dir_read,
	.list = dir_list,
	.last_modified = dir_last_modified,
	.value_open = dir_value_open,
	.value_read = dir_value_read,
	.value_close = dir_value_close,
};

static const struct tapir_kv_ops dir_ops_rw = {
	.name = "dir",
	.close = dir_close,
	.exists = kv_dir_exists,
	.size = dir_size,
	.read = dir_read,
	.list = dir_list,
	.last_modified = dir_last_modified,
	.set = kv_dir_set,
	.set_partial = kv_dir_set_partial,
	.remove = kv_dir_remove,
	.rename = kv_dir_rename,
	.commit = kv_dir_commit,
	.value_open = dir_value_open,
	.value_read = dir_value_read,
	.value_close = dir_value_close,
};

int tapir_kv_dir_open(const char *path, bool writable, struct tapir_kv_store **out, char *err,
		      size_t errlen)
{
	*out = NULL;
	if (!path || !*path)
		return kv_errbuf(err, errlen, TAPIR_KV_E_INVALID, "dir: needs a path");
	struct kv_dir *d = calloc(1, sizeof(*d));
	if (!d || !(d->path = strdup(path))) {
		free(d);
		return kv_errbuf(err, errlen, TAPIR_KV_E_NOMEM, "out of memory");
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
			rc = kv_errbuf(err, errlen, TAPIR_KV_E_STORAGE, "%s: %s", path,
				       errno == EWOULDBLOCK ?
				       "opened for writing by another process" : strerror(errno));
		else if ((rc = kv_dir_recover(&d->s)))
			kv_errbuf(err, errlen, -rc, "%s: recovery failed: %s", path, d->s.errmsg);
	} else if (pending && !flock(d->rootfd, LOCK_EX | LOCK_NB)) {
		/* No writer holds the store: a batch was interrupted.  A read-only
		 * open never writes, so it neither replays nor discards it. */
		flock(d->rootfd, LOCK_UN);
		rc = kv_errbuf(err, errlen, TAPIR_KV_E_STORAGE, "%s: an interrupted batch is pending "
			       "(%s); a read-only open does not recover it: open the store "
			       "writable once", path, JOURNAL);
	}
	if (rc) {
		dir_close(&d->s);
		return rc;
	}
	d->s.last_err = 0;
	*out = &d->s;
	return 0;
}

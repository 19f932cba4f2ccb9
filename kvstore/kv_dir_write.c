/*
 * kv_dir_write.c - the directory store's writes: set, set_partial, remove, rename
 *
 * Staged files, rename into place, fsyncs: see the theory of operation in kv_dir.c.
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


#include "kv_dir_internal.h"

int kv_dir_fsync(int fd)
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
static int make_parents(struct tapir_kv_store *s, const struct tapir_kv_key *k)
{
	int cur = kv_dir_open_beneath(D(s), ".", O_RDONLY | O_DIRECTORY, 0);
	if (cur < 0)
		return kv_dir_errfail(s, -cur, k, "open root");
	for (size_t i = 0; i + 1 < k->n; i++) {
		char *rel = kv_dir_relpath(k, i + 1);
		if (!rel) {
			close(cur);
			return kv_fail(s, TAPIR_KV_E_NOMEM, "out of memory");
		}
		int fd = kv_dir_open_beneath(D(s), rel, O_RDONLY | O_DIRECTORY, 0);
		if (fd == -ENOENT) {
			if (mkdirat(cur, k->seg[i], 0755) && errno != EEXIST) {
				int e = errno;
				free(rel);
				close(cur);
				return kv_dir_errfail(s, e, k, "mkdir");
			}
			kv_dir_fsync(cur);
			fd = kv_dir_open_beneath(D(s), rel, O_RDONLY | O_DIRECTORY, 0);
		}
		free(rel);
		close(cur);
		if (fd == -ENOTDIR)
			return kv_key_fail(s, TAPIR_KV_E_DICT_EXPECTED, k, "a parent is a value");
		if (fd < 0)
			return kv_dir_errfail(s, -fd, k, "open");
		cur = fd;
	}
	return cur;
}

/* Create a staged file in the root; @name gets its name.  Return: fd or -errno. */
int kv_dir_stage_open(struct kv_dir *d, const char *prefix, char *name, size_t namelen)
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
int kv_dir_stage_file(struct kv_dir *d, int copy_from, uint64_t copy_len, const void *data,
		      size_t len, uint64_t off, char *name, size_t namelen, bool sync)
{
	int fd = kv_dir_stage_open(d, TMP_PREFIX, name, namelen);
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
		rc = kv_pwrite_all(fd, data, len, off);
	if (!rc && len == 0 && off > copy_len && ftruncate(fd, (off_t)off))
		rc = -errno;
	if (!rc && sync)
		rc = kv_dir_fsync(fd);
	close(fd);
	if (rc)
		unlinkat(d->rootfd, name, 0);
	return rc;
}

/* Move staged @tmp to @k (parents made), make it durable.  Return: 0 or -KV_E_*. */
int kv_dir_place(struct tapir_kv_store *s, const struct tapir_kv_key *k, const char *tmp, bool sync)
{
	int pfd = make_parents(s, k);
	if (pfd < 0)
		return pfd;
	const char *name = k->seg[k->n - 1];
	int rc = 0;
	if (renameat(D(s)->rootfd, tmp, pfd, name))
		rc = kv_dir_errfail(s, errno, k, "rename");
	else if (sync && (rc = kv_dir_fsync(pfd)))
		rc = kv_dir_errfail(s, -rc, k, "fsync");
	close(pfd);
	return rc;
}

static int do_set(struct tapir_kv_store *s, const struct tapir_kv_key *k, const void *data,
		  size_t len, bool partial, uint64_t off)
{
	struct kv_dir *d = D(s);
	enum tapir_kv_kind kind = TAPIR_KV_NONE;
	int rc = kv_dir_check_reserved(s, k);
	for (size_t i = 1; !rc && i < k->n; i++) {
		rc = kv_dir_kind_of(s, k, i, &kind, NULL);
		if (!rc && kind == TAPIR_KV_VALUE)
			return kv_key_fail(s, TAPIR_KV_E_DICT_EXPECTED, k, "a parent is a value");
	}
	if (!rc)
		rc = kv_dir_kind_of(s, k, k->n, &kind, NULL);
	if (rc)
		return rc;
	if (kind == TAPIR_KV_DICT)
		return kv_key_fail(s, TAPIR_KV_E_VALUE_EXPECTED, k, "is a dictionary");
	int from = -1;
	struct stat st = { 0 };
	if (partial && kind == TAPIR_KV_VALUE) {
		from = kv_dir_open_value(s, k, &st);
		if (from < 0)
			return from;
	}
	char tmp[64];
	rc = kv_dir_stage_file(d, from, (uint64_t)st.st_size, data, len, partial ? off : 0, tmp,
			sizeof(tmp), true);
	if (from >= 0)
		close(from);
	if (rc)
		return kv_dir_errfail(s, -rc, k, "write");
	rc = kv_dir_place(s, k, tmp, true);
	if (rc)
		unlinkat(d->rootfd, tmp, 0);
	return rc;
}

int kv_dir_set(struct tapir_kv_store *s, const struct tapir_kv_key *k, const void *data, size_t len)
{
	kv_dir_fdcache_flush(D(s));
	return do_set(s, k, data, len, false, 0);
}

int kv_dir_set_partial(struct tapir_kv_store *s, const struct tapir_kv_key *k, uint64_t off,
		       const void *data, size_t len)
{
	kv_dir_fdcache_flush(D(s));
	return do_set(s, k, data, len, true, off);
}

/* rm -rf below @dfd/@name, never following symlinks. */
int kv_dir_rm_rf(int dfd, const char *name, unsigned depth)
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
		rc = kv_dir_rm_rf(dirfd(dir), de->d_name, depth + 1);
	}
	closedir(dir);
	if (!rc && unlinkat(dfd, name, AT_REMOVEDIR) && errno != ENOENT)
		rc = -errno;
	return rc;
}

/* Remove @k (not found is fine when @quiet).  Return: 0 or -KV_E_*. */
int kv_dir_remove_at(struct tapir_kv_store *s, const struct tapir_kv_key *k, bool quiet)
{
	struct kv_dir *d = D(s);
	struct tapir_kv_key pk = { k->n - 1, k->seg };
	char *prel = kv_dir_relpath(&pk, pk.n);
	if (!prel)
		return kv_fail(s, TAPIR_KV_E_NOMEM, "out of memory");
	int pfd = kv_dir_open_beneath(d, prel, O_RDONLY | O_DIRECTORY, 0);
	free(prel);
	if (pfd < 0) {
		if (quiet && (pfd == -ENOENT || pfd == -ENOTDIR))
			return 0;
		return kv_dir_errfail(s, -pfd, k, "open");
	}
	const char *name = k->seg[k->n - 1];
	struct stat st;
	int rc = 0;
	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW)) {
		rc = (quiet && errno == ENOENT) ? 0 : kv_dir_errfail(s, errno, k, "stat");
	} else if (S_ISDIR(st.st_mode)) {
		char trash[64];
		int tfd = kv_dir_stage_open(d, TRASH_PREFIX, trash, sizeof(trash));
		if (tfd >= 0) {
			close(tfd);
			unlinkat(d->rootfd, trash, 0);
		}
		if (tfd < 0 || renameat(pfd, name, d->rootfd, trash)) {
			rc = kv_dir_errfail(s, tfd < 0 ? -tfd : errno, k, "rename");
		} else {
			if (!quiet)
				kv_dir_fsync(pfd);
			kv_dir_rm_rf(d->rootfd, trash, 0);
		}
	} else if (unlinkat(pfd, name, 0)) {
		rc = kv_dir_errfail(s, errno, k, "unlink");
	} else if (!quiet) {
		kv_dir_fsync(pfd);
	}
	close(pfd);
	return rc;
}

int kv_dir_remove(struct tapir_kv_store *s, const struct tapir_kv_key *k)
{
	kv_dir_fdcache_flush(D(s));
	enum tapir_kv_kind kind = TAPIR_KV_NONE;
	int rc = kv_dir_exists(s, k, &kind);
	if (rc)
		return rc;
	if (kind == TAPIR_KV_NONE)
		return kv_key_fail(s, TAPIR_KV_E_NOT_FOUND, k, "not found");
	return kv_dir_remove_at(s, k, false);
}

int kv_dir_rename(struct tapir_kv_store *s, const struct tapir_kv_key *src,
		  const struct tapir_kv_key *dst)
{
	kv_dir_fdcache_flush(D(s));
	enum tapir_kv_kind sk, dk;
	int rc = kv_dir_exists(s, src, &sk);
	if (!rc)
		rc = kv_dir_exists(s, dst, &dk);
	for (size_t i = 1; !rc && i < dst->n; i++) {
		enum tapir_kv_kind pk;
		rc = kv_dir_kind_of(s, dst, i, &pk, NULL);
		if (!rc && pk == TAPIR_KV_VALUE)
			return kv_key_fail(s, TAPIR_KV_E_DICT_EXPECTED, dst, "a parent is a value");
	}
	if (rc)
		return rc;
	if (sk == TAPIR_KV_NONE)
		return kv_key_fail(s, TAPIR_KV_E_NOT_FOUND, src, "not found");
	if (dk != TAPIR_KV_NONE && !(dk == TAPIR_KV_VALUE && sk == TAPIR_KV_VALUE))
		return kv_key_fail(s, TAPIR_KV_E_ALREADY_PRESENT, dst, "already present");
	struct tapir_kv_key spk = { src->n - 1, src->seg };
	char *srel = kv_dir_relpath(&spk, spk.n);
	if (!srel)
		return kv_fail(s, TAPIR_KV_E_NOMEM, "out of memory");
	int sfd = kv_dir_open_beneath(D(s), srel, O_RDONLY | O_DIRECTORY, 0);
	free(srel);
	if (sfd < 0)
		return kv_dir_errfail(s, -sfd, src, "open");
	int dfd = make_parents(s, dst);
	if (dfd < 0) {
		close(sfd);
		return dfd;
	}
	if (renameat(sfd, src->seg[src->n - 1], dfd, dst->seg[dst->n - 1])) {
		rc = kv_dir_errfail(s, errno, dst, "rename");
	} else {
		kv_dir_fsync(dfd);
		kv_dir_fsync(sfd);
	}
	close(sfd);
	close(dfd);
	return rc;
}


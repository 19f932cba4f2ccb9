/*
 * kv_dir_internal.h - shared by the directory store's files (not public)
 *
 * kv_dir.c opens the store and reads, kv_dir_write.c writes (set, remove,
 * rename), kv_dir_journal.c holds the batch journal (encode, decode, replay).
 * The theory of operation is in kv_dir.c.
 */
#ifndef TAPIR_KV_DIR_INTERNAL_H
#define TAPIR_KV_DIR_INTERNAL_H

#include <sys/stat.h>
#include <sys/types.h>

#include "kv_internal.h"

#define RESERVED_PREFIX ".tapir-kv-"
#define TMP_PREFIX ".tapir-kv-tmp."
#define TRASH_PREFIX ".tapir-kv-trash."
#define JOURNAL ".tapir-kv-journal"
#define JOURNAL_TMP ".tapir-kv-journal.tmp"
#define JOURNAL_MAGIC "TAPIRKV-JOURNAL1\n"
#define JOURNAL_MAX (256u << 20)
/* Where a refused journal is moved aside (the latest one only). */
#define QUARANTINE ".tapir-kv-quarantine.journal"
/* Longest staged file name, with its NUL (kv_dir_stage_file makes < 40). */
#define STAGED_NAME_MAX 64

/* An open value file, shared by the descriptor cache and open values */
struct dir_file {
	int fd;
	dev_t dev;
	ino_t ino;
	unsigned refs;               /* the cache's slot and each open value */
};

#define DIR_FD_CACHE 32          /* value files kept open per store (kv_dir.c) */

struct dir_fd_slot {
	char *rel;                   /* NULL: free */
	struct dir_file *f;
	uint64_t used;               /* kv_dir.fdc_tick of the last hit (LRU) */
};

struct kv_dir {
	struct tapir_kv_store s;
	int rootfd;
	bool have_openat2;
	unsigned seq;
	char *path;
	struct dir_fd_slot fdc[DIR_FD_CACHE];
	uint64_t fdc_tick;
};

static inline struct kv_dir *D(struct tapir_kv_store *s)
{
	return (struct kv_dir *)s;
}

/* kv_dir.c: paths and reading */

/* Return: relative path of the first @n segments of @k ("." for none), malloc'd, or NULL. */
char *kv_dir_relpath(const struct tapir_kv_key *k, size_t n);
/* Return: fd of @rel below the root, or -errno (-EXDEV: escapes the root). */
int kv_dir_open_beneath(struct kv_dir *d, const char *rel, int flags, mode_t mode);
/* Record errno @e of operation @op on @k as @s's error.  Return: -KV_E_* */
int kv_dir_errfail(struct tapir_kv_store *s, int e, const struct tapir_kv_key *k, const char *op);
/* Return: 0, or -TAPIR_KV_E_INVALID if a segment of @k uses the reserved prefix. */
int kv_dir_check_reserved(struct tapir_kv_store *s, const struct tapir_kv_key *k);
/* Kind of the first @n segments of @k; *@kind TAPIR_KV_NONE if absent.  Return: 0 or -KV_E_*. */
int kv_dir_kind_of(struct tapir_kv_store *s, const struct tapir_kv_key *k, size_t n,
		   enum tapir_kv_kind *kind, struct stat *stp);
int kv_dir_exists(struct tapir_kv_store *s, const struct tapir_kv_key *k, enum tapir_kv_kind *kind);
/* Open the value @k for reading; Return: fd or -KV_E_*. */
int kv_dir_open_value(struct tapir_kv_store *s, const struct tapir_kv_key *k, struct stat *st);

/* Close the cached value files (writes call it: a replaced or removed
 * file's space is not held by the cache). */
void kv_dir_fdcache_flush(struct kv_dir *d);

/* kv_dir_write.c: staging, placing, removing, and the write operations */

/* fsync(2) retried on EINTR.  Return: 0 or -errno. */
int kv_dir_fsync(int fd);
/* Create a file named @prefix.PID.N in the root; @name gets its name.  Return: fd or -errno. */
int kv_dir_stage_open(struct kv_dir *d, const char *prefix, char *name, size_t namelen);
/*
 * Stage a file holding (@copy_from's content, or nothing) with @data written
 * at @off, fsynced when @sync.  Return: 0 or -errno.
 */
int kv_dir_stage_file(struct kv_dir *d, int copy_from, uint64_t copy_len, const void *data,
		      size_t len, uint64_t off, char *name, size_t namelen, bool sync);
/* Move staged @tmp to @k (parents made), durable when @sync.  Return: 0 or -KV_E_*. */
int kv_dir_place(struct tapir_kv_store *s, const struct tapir_kv_key *k, const char *tmp,
		 bool sync);
/* rm -rf below @dfd/@name, never following symlinks.  Return: 0 or -errno. */
int kv_dir_rm_rf(int dfd, const char *name, unsigned depth);
/* Remove @k (not found is fine when @quiet).  Return: 0 or -KV_E_*. */
int kv_dir_remove_at(struct tapir_kv_store *s, const struct tapir_kv_key *k, bool quiet);
int kv_dir_set(struct tapir_kv_store *s, const struct tapir_kv_key *k, const void *data,
	       size_t len);
int kv_dir_set_partial(struct tapir_kv_store *s, const struct tapir_kv_key *k, uint64_t off,
		       const void *data, size_t len);
int kv_dir_remove(struct tapir_kv_store *s, const struct tapir_kv_key *k);
int kv_dir_rename(struct tapir_kv_store *s, const struct tapir_kv_key *src,
		  const struct tapir_kv_key *dst);

/* kv_dir_journal.c: batches */

/*
 * Replay a valid journal or move a refused one aside, then delete left-over
 * staged files; writable stores only.  Return: 0 or -KV_E_*.
 */
int kv_dir_recover(struct tapir_kv_store *s);
/* Apply a batch atomically through the journal.  Return: 0 or -KV_E_*. */
int kv_dir_commit(struct tapir_kv_store *s, const struct tapir_kv_op *ops, size_t n);

#endif /* TAPIR_KV_DIR_INTERNAL_H */

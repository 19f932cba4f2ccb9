/*
 * kv.h - key-value stores: the MirageOS KV API (mirage-kv 2.0 and later) in C
 *
 * Theory of operation
 * -------------------
 * A store maps keys to values (byte strings) arranged in dictionaries, like a
 * file system without links or metadata.  One vtable (struct kv_ops) serves
 * every store; stores are opened from a spec string:
 *
 *   mem:                 hierarchical, in memory (always writable)
 *   dir:/path            a directory on disk (crash-safe writes, atomic batch)
 *   tar:/path/file.tar   a tar archive (ustar, GNU, pax); writes append
 *   embedded:NAME        a directory compiled into the program by kv-embed
 *
 * Keys are paths of segments ("/a/b").  kv_key_parse() drops empty segments,
 * so "" and "/" are the root, and rejects a segment "." or "..".  A segment
 * can never contain '/' (struct kv_key built by hand is checked by every
 * call).  There is no length limit beyond a store's own (dir: NAME_MAX).
 *
 * Errors: every fallible call returns 0 (or a length) on success and a
 * negative enum kv_err (-KV_E_NOT_FOUND, ...) on failure.  The store keeps a
 * message for its most recent failure, kv_last_error(); kv_strerror() names
 * the code.  Reads of a key below a value answer -KV_E_NOT_FOUND; writes
 * below a value answer -KV_E_DICT_EXPECTED.
 *
 * Ownership: keys and buffers passed in are borrowed for the call.  Buffers
 * and lists returned (kv_get, kv_get_partial, kv_list, kv_key_to_string) are
 * malloc'd and owned by the caller (free() / kv_entries_free()).  A store
 * handle is used by one thread at a time; it is freed by kv_close().
 *
 * Batch: kv_batch(s, fn, ctx) calls fn with a transaction view: reads through
 * it see the store plus the transaction's own writes, writes are staged.
 * When fn returns 0 the staged writes are committed all at once; when fn
 * fails (or the commit fails) nothing is written.  The commit is atomic
 * across a crash for dir (intent log) and tar (member headers written last);
 * for mem it is atomic by copy-and-swap (cost O(store size)).  Rename of a
 * dictionary inside a batch copies its values into the transaction; empty
 * dictionaries created inside a batch are not kept by the commit.  The store
 * itself must not be written while fn runs (-KV_E_INVALID).
 *
 * Digest: SHA-256 of a value's bytes.  For a dictionary, SHA-256 over its
 * sorted entries, each encoded as kind byte ('v' or 'd'), name, a NUL byte,
 * and the entry's 32-byte digest: equal content gives equal digests in every
 * store.
 *
 * Last modified: dir gives the file's or directory's mtime.  mem, tar and
 * embedded give a value's time (mem: when it was set; tar: the member's
 * mtime; embedded: the build's fixed time) and, for a dictionary, the newest
 * time among its entries (0 for an empty one).
 */
#ifndef TAPIR_KV_H
#define TAPIR_KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Error codes; calls return them negated. */
enum kv_err {
	KV_OK = 0,
	KV_E_NOT_FOUND,        /* no such key */
	KV_E_VALUE_EXPECTED,   /* key is a dictionary, a value was expected */
	KV_E_DICT_EXPECTED,    /* key (or a parent) is a value, a dictionary was expected */
	KV_E_ALREADY_PRESENT,  /* destination exists and cannot be replaced */
	KV_E_RENAME_PREFIX,    /* rename source is a prefix of (or equal to) the destination */
	KV_E_APPEND_ONLY,      /* tar: only appending is possible */
	KV_E_NO_SPACE,         /* the storage is full (ENOSPC, EDQUOT) */
	KV_E_STORAGE,          /* I/O error, corrupt archive, ... (see the message) */
	KV_E_INVALID,          /* bad key, spec, argument, or write to a read-only store */
	KV_E_NOMEM,            /* out of memory */
	KV_E__COUNT
};

/* Return: static name of @err (accepts the code or its negation). */
const char *kv_strerror(int err);

/* A key: @n segments, each a NUL-terminated string.  Owned by whoever made it. */
struct kv_key {
	size_t n;
	char **seg;
};

/**
 * kv_key_parse() - Parse "/a/b" into a key
 * @str:   Path; empty segments are dropped ("" and "/" give the root)
 * @out:   Key to fill; on success the caller frees it with kv_key_free()
 *
 * Return: 0, -KV_E_INVALID for a "." or ".." segment, -KV_E_NOMEM
 */
int kv_key_parse(const char *str, struct kv_key *out);

/* Free the segments of @k (not @k itself) and reset it to the root. */
void kv_key_free(struct kv_key *k);

/* Return: "/a/b" ("/" for the root), malloc'd and owned by the caller, or NULL (ENOMEM). */
char *kv_key_to_string(const struct kv_key *k);

/* Return: true if every segment of @k is valid (non-empty, no '/', not "." or ".."). */
bool kv_key_valid(const struct kv_key *k);

/* Return: true if @prefix is a prefix of (or equal to) @k. */
bool kv_key_is_prefix(const struct kv_key *prefix, const struct kv_key *k);

/**
 * kv_key_copy() - Deep copy, optionally with one more segment
 * @dst:   Filled with a new key the caller frees with kv_key_free()
 * @src:   Key to copy
 * @extra: Segment to append, or NULL
 *
 * Return: 0 or -KV_E_NOMEM
 */
int kv_key_copy(struct kv_key *dst, const struct kv_key *src, const char *extra);

enum kv_kind {
	KV_NONE = 0,
	KV_VALUE,
	KV_DICT,
};

/* One list entry; @name is owned by the array. */
struct kv_entry {
	char *name;
	enum kv_kind kind;
};

/* Free an array returned by kv_list(). */
void kv_entries_free(struct kv_entry *e, size_t n);

#define KV_DIGEST_LEN 32

/* One staged write of a batch, handed to a store's commit (internal use). */
enum kv_op_type { KV_OP_REMOVE, KV_OP_SET };
struct kv_op {
	enum kv_op_type type;
	struct kv_key key;
	const uint8_t *data;   /* KV_OP_SET: borrowed for the commit */
	size_t len;
};

struct kv_store;

/*
 * The vtable.  Every function gets keys already checked with kv_key_valid()
 * and returns 0 or -KV_E_*, with the store's message set on failure.  Write
 * functions are NULL for read-only stores.  See the kv_* wrappers for the
 * meaning of each.
 */
struct kv_ops {
	const char *name;
	void (*close)(struct kv_store *s);
	int (*exists)(struct kv_store *s, const struct kv_key *k, enum kv_kind *kind);
	int (*size)(struct kv_store *s, const struct kv_key *k, uint64_t *size);
	/* Read up to @len bytes at @off into @buf; @got gets the count (short at the end). */
	int (*read)(struct kv_store *s, const struct kv_key *k, uint64_t off, void *buf,
		    size_t len, size_t *got);
	int (*list)(struct kv_store *s, const struct kv_key *k, struct kv_entry **out, size_t *n);
	int (*last_modified)(struct kv_store *s, const struct kv_key *k, struct timespec *t);
	int (*set)(struct kv_store *s, const struct kv_key *k, const void *data, size_t len);
	int (*set_partial)(struct kv_store *s, const struct kv_key *k, uint64_t off,
			   const void *data, size_t len);
	int (*remove)(struct kv_store *s, const struct kv_key *k);
	int (*rename)(struct kv_store *s, const struct kv_key *src, const struct kv_key *dst);
	/* Apply @ops (all REMOVEs first, then SETs) atomically. */
	int (*commit)(struct kv_store *s, const struct kv_op *ops, size_t n);
};

#define KV_ERRMSG_LEN 256

/* Common head of every store; the implementation embeds it first. */
struct kv_store {
	const struct kv_ops *ops;
	bool writable;
	bool in_batch;                 /* kv_batch() running: direct writes refused */
	int last_err;                  /* most recent failure code (positive) */
	unsigned extra_refs;           /* kv_retain()s not yet matched by kv_close() */
	char errmsg[KV_ERRMSG_LEN];    /* and its message */
};

/**
 * kv_open() - Open a store from a spec
 * @spec:     "mem:", "dir:/path", "tar:/path/file.tar" or "embedded:NAME"
 * @writable: Open for writing (embedded: refused; mem: always writable).  A
 *            writable dir store takes an exclusive flock on its root, a
 *            writable tar store creates a missing archive
 * @out:      The store, freed with kv_close()
 * @err:      Buffer for a message on failure (may be NULL)
 * @errlen:   Its size
 *
 * Return: 0 or -KV_E_*
 */
int kv_open(const char *spec, bool writable, struct kv_store **out, char *err, size_t errlen);

/*
 * Drop one reference to @s: the store is closed and freed when the last one
 * goes (NULL is accepted).  kv_open() gives the caller one reference.
 */
void kv_close(struct kv_store *s);

/*
 * Take another reference to @s, matched later by one kv_close(): what a
 * reader that outlives its lookup keeps (an HTTP response streamed from a
 * store while the daemon re-opens its stores).  Return: @s
 */
struct kv_store *kv_retain(struct kv_store *s);

/* Return: message of the most recent failure on @s ("" if none); valid until the next call. */
const char *kv_last_error(const struct kv_store *s);

/* Read-only API.  Each returns 0 (or a count) or -KV_E_*. */

/* @kind: KV_VALUE, KV_DICT or KV_NONE (then the return is 0, not an error). */
int kv_exists(struct kv_store *s, const struct kv_key *k, enum kv_kind *kind);

/* @out: malloc'd value (plus one NUL byte not counted in @len), caller frees. */
int kv_get(struct kv_store *s, const struct kv_key *k, uint8_t **out, size_t *len);

/**
 * kv_get_partial() - Read part of a value
 * @s, @k:  Store and key
 * @off:    Offset; at or past the end gives 0 bytes
 * @len:    Maximum bytes; fewer near the end
 * @out:    malloc'd buffer (never NULL on success), caller frees
 * @outlen: Bytes read
 *
 * Costs O(@len), never O(value size): tar and dir read at the offset.
 *
 * Return: 0 or -KV_E_*
 */
int kv_get_partial(struct kv_store *s, const struct kv_key *k, uint64_t off, size_t len,
		   uint8_t **out, size_t *outlen);

/* Like kv_get_partial() into a caller's buffer; Return: bytes read or -KV_E_*. */
int64_t kv_read(struct kv_store *s, const struct kv_key *k, uint64_t off, void *buf, size_t len);

int kv_size(struct kv_store *s, const struct kv_key *k, uint64_t *size);

/* @out: entries sorted by name (strcmp), owned by the caller: kv_entries_free(). */
int kv_list(struct kv_store *s, const struct kv_key *k, struct kv_entry **out, size_t *n);

int kv_last_modified(struct kv_store *s, const struct kv_key *k, struct timespec *t);

/* @out: KV_DIGEST_LEN bytes (see the theory above). */
int kv_digest(struct kv_store *s, const struct kv_key *k, uint8_t out[KV_DIGEST_LEN]);

/* Read-write API. */

/* Create or replace a value; missing parent dictionaries are created. */
int kv_set(struct kv_store *s, const struct kv_key *k, const void *data, size_t len);

/* Write @data at @off of a value (created if missing; a gap is zero-filled). */
int kv_set_partial(struct kv_store *s, const struct kv_key *k, uint64_t off, const void *data,
		   size_t len);

/* Remove a value or a dictionary with everything in it.  The root cannot be removed. */
int kv_remove(struct kv_store *s, const struct kv_key *k);

/*
 * Rename @src to @dst (parents of @dst created).  A value replaces a value at
 * @dst; any other existing @dst answers -KV_E_ALREADY_PRESENT; @src a prefix
 * of (or equal to) @dst answers -KV_E_RENAME_PREFIX.
 */
int kv_rename(struct kv_store *s, const struct kv_key *src, const struct kv_key *dst);

typedef int (*kv_batch_fn)(struct kv_store *txn, void *ctx);

/**
 * kv_batch() - Run @fn on a transaction view, commit its writes atomically
 * @s:   A writable store
 * @fn:  Called once with the view (valid only during the call); returns 0 to
 *       commit or a negative value to abort
 * @ctx: Passed to @fn
 *
 * Return: 0 if committed, @fn's negative value if it aborted (nothing
 *         written), or -KV_E_* if the commit failed (nothing written)
 */
int kv_batch(struct kv_store *s, kv_batch_fn fn, void *ctx);

/* Store-specific openers (kv_open() calls these). */
int kv_mem_open(struct kv_store **out);
int kv_dir_open(const char *path, bool writable, struct kv_store **out, char *err, size_t errlen);
int kv_tar_open(const char *path, bool writable, struct kv_store **out, char *err, size_t errlen);
/* Read-only tar over a buffer the caller keeps alive and unchanged until kv_close(). */
int kv_tar_open_buffer(const uint8_t *buf, size_t len, struct kv_store **out, char *err,
		       size_t errlen);

/*
 * Embedded stores (MirageOS crunch).  kv-embed NAME DIR OUT.c writes a C file
 * defining `const struct kv_embedded_fs kv_embedded_NAME` and placing a
 * pointer to it in the linker section "kv_embedded".  Linking that file into
 * a program is all the registration there is: kv_open("embedded:NAME") finds
 * it through the linker's __start_kv_embedded/__stop_kv_embedded symbols (a
 * read-only table, no constructor, no global state).  kv_embedded_open()
 * opens one directly.
 */
struct kv_embedded_file {
	const char *path;          /* "/a/b", normalised, sorted by strcmp */
	const uint8_t *data;
	size_t len;
};

struct kv_embedded_fs {
	const char *name;
	int64_t mtime;             /* SOURCE_DATE_EPOCH, else the newest file's mtime */
	const struct kv_embedded_file *files;
	size_t n_files;
};

/* @fs must outlive the store. */
int kv_embedded_open(const struct kv_embedded_fs *fs, struct kv_store **out, char *err,
		     size_t errlen);
/* Return: the linked-in fs called @name, or NULL. */
const struct kv_embedded_fs *kv_embedded_find(const char *name);

#endif /* TAPIR_KV_H */

/*
 * kv.h - key-value stores: the MirageOS KV API (mirage-kv 2.0 and later) in C
 *
 * Theory of operation
 * -------------------
 * A store maps keys to values (byte strings) arranged in dictionaries, like a
 * file system without links or metadata.  One vtable (struct tapir_kv_ops) serves
 * every store; stores are opened from a spec string:
 *
 *   mem:                 hierarchical, in memory (always writable)
 *   dir:/path            a directory on disk (crash-safe writes, atomic batch)
 *   tar:/path/file.tar   a tar archive (ustar, GNU, pax); writes append
 *   embedded:NAME        a directory compiled into the program by kv-embed
 *
 * Keys are paths of segments ("/a/b").  tapir_kv_key_parse() drops empty segments,
 * so "" and "/" are the root, and rejects a segment "." or "..".  A segment
 * can never contain '/' (struct tapir_kv_key built by hand is checked by every
 * call).  There is no length limit beyond a store's own (dir: NAME_MAX).
 *
 * Errors: every fallible call returns 0 (or a length) on success and a
 * negative enum tapir_kv_err (-TAPIR_KV_E_NOT_FOUND, ...) on failure.  The store keeps a
 * message for its most recent failure, tapir_kv_last_error(); tapir_kv_strerror() names
 * the code.  Reads of a key below a value answer -TAPIR_KV_E_NOT_FOUND; writes
 * below a value answer -TAPIR_KV_E_DICT_EXPECTED.
 *
 * Ownership: keys and buffers passed in are borrowed for the call.  Buffers
 * and lists returned (tapir_kv_get, tapir_kv_get_partial, tapir_kv_list, tapir_kv_key_to_string) are
 * malloc'd and owned by the caller (free() / tapir_kv_entries_free()).  A store
 * handle is used by one thread at a time; it is freed by tapir_kv_close().
 *
 * Batch: tapir_kv_batch(s, fn, ctx) calls fn with a transaction view: reads through
 * it see the store plus the transaction's own writes, writes are staged.
 * When fn returns 0 the staged writes are committed all at once; when fn
 * fails (or the commit fails) nothing is written.  The commit is atomic
 * across a crash for dir (intent log) and tar (member headers written last);
 * for mem it is atomic by copy-and-swap (cost O(store size)).  Rename of a
 * dictionary inside a batch copies its values into the transaction; empty
 * dictionaries created inside a batch are not kept by the commit.  The store
 * itself must not be written while fn runs (-TAPIR_KV_E_INVALID).
 *
 * Digest: SHA-256 of a value's bytes.  For a dictionary, SHA-256 over its
 * sorted entries, each encoded as kind byte ('v' or 'd'), name, a NUL byte,
 * and the entry's 32-byte digest: equal content gives equal digests in every
 * store.
 *
 * Open values (tapir_kv_value_open()): a value opened once and read at
 * offsets, with its size and mtime from the same look-up; what a reader that
 * streams a value (the http app) uses instead of a look-up per call.  A dir
 * store reads the file it opened, so a value replaced (set, rename) while it
 * is read is read whole, as it was; the other stores read by key.
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
enum tapir_kv_err {
	TAPIR_KV_OK = 0,
	TAPIR_KV_E_NOT_FOUND,        /* no such key */
	TAPIR_KV_E_VALUE_EXPECTED,   /* key is a dictionary, a value was expected */
	TAPIR_KV_E_DICT_EXPECTED,    /* key (or a parent) is a value, a dictionary was expected */
	TAPIR_KV_E_ALREADY_PRESENT,  /* destination exists and cannot be replaced */
	TAPIR_KV_E_RENAME_PREFIX,    /* rename source is a prefix of (or equal to) the destination */
	TAPIR_KV_E_APPEND_ONLY,      /* tar: only appending is possible */
	TAPIR_KV_E_NO_SPACE,         /* the storage is full (ENOSPC, EDQUOT) */
	TAPIR_KV_E_STORAGE,          /* I/O error, corrupt archive, ... (see the message) */
	TAPIR_KV_E_INVALID,          /* bad key, spec, argument, or write to a read-only store */
	TAPIR_KV_E_NOMEM,            /* out of memory */
	TAPIR_KV_E__COUNT
};

/* Return: static name of @err (accepts the code or its negation). */
const char *tapir_kv_strerror(int err);

/* A key: @n segments, each a NUL-terminated string.  Owned by whoever made it. */
struct tapir_kv_key {
	size_t n;
	char **seg;
};

/**
 * tapir_kv_key_parse() - Parse "/a/b" into a key
 * @str:   Path; empty segments are dropped ("" and "/" give the root)
 * @out:   Key to fill; on success the caller frees it with tapir_kv_key_free()
 *
 * Return: 0, -TAPIR_KV_E_INVALID for a "." or ".." segment, -TAPIR_KV_E_NOMEM
 */
int tapir_kv_key_parse(const char *str, struct tapir_kv_key *out);

/* Free the segments of @k (not @k itself) and reset it to the root. */
void tapir_kv_key_free(struct tapir_kv_key *k);

/* Return: "/a/b" ("/" for the root), malloc'd and owned by the caller, or NULL (ENOMEM). */
char *tapir_kv_key_to_string(const struct tapir_kv_key *k);

/* Return: true if every segment of @k is valid (non-empty, no '/', not "." or ".."). */
bool tapir_kv_key_valid(const struct tapir_kv_key *k);

/* Return: true if @prefix is a prefix of (or equal to) @k. */
bool tapir_kv_key_is_prefix(const struct tapir_kv_key *prefix, const struct tapir_kv_key *k);

/**
 * tapir_kv_key_copy() - Deep copy, optionally with one more segment
 * @dst:   Filled with a new key the caller frees with tapir_kv_key_free()
 * @src:   Key to copy
 * @extra: Segment to append, or NULL
 *
 * Return: 0 or -TAPIR_KV_E_NOMEM
 */
int tapir_kv_key_copy(struct tapir_kv_key *dst, const struct tapir_kv_key *src, const char *extra);

enum tapir_kv_kind {
	TAPIR_KV_NONE = 0,
	TAPIR_KV_VALUE,
	TAPIR_KV_DICT,
};

/* One list entry; @name is owned by the array. */
struct tapir_kv_entry {
	char *name;
	enum tapir_kv_kind kind;
};

/* Free an array returned by tapir_kv_list(). */
void tapir_kv_entries_free(struct tapir_kv_entry *e, size_t n);

#define TAPIR_KV_DIGEST_LEN 32

/* One staged write of a batch, handed to a store's commit (internal use). */
enum tapir_kv_op_type { TAPIR_KV_OP_REMOVE, TAPIR_KV_OP_SET };
struct tapir_kv_op {
	enum tapir_kv_op_type type;
	struct tapir_kv_key key;
	const uint8_t *data;   /* TAPIR_KV_OP_SET: borrowed for the commit */
	size_t len;
};

struct tapir_kv_store;
struct tapir_kv_value;

/* What tapir_kv_value_open() tells of a value */
struct tapir_kv_stat {
	uint64_t size;
	struct timespec mtime;         /* as tapir_kv_last_modified() */
};

/*
 * The vtable.  Every function gets keys already checked with tapir_kv_key_valid()
 * and returns 0 or -KV_E_*, with the store's message set on failure.  Write
 * functions are NULL for read-only stores.  See the kv_* wrappers for the
 * meaning of each.
 */
struct tapir_kv_ops {
	const char *name;
	void (*close)(struct tapir_kv_store *s);
	int (*exists)(struct tapir_kv_store *s, const struct tapir_kv_key *k, enum tapir_kv_kind *kind);
	int (*size)(struct tapir_kv_store *s, const struct tapir_kv_key *k, uint64_t *size);
	/* Read up to @len bytes at @off into @buf; @got gets the count (short at the end). */
	int (*read)(struct tapir_kv_store *s, const struct tapir_kv_key *k, uint64_t off, void *buf,
		    size_t len, size_t *got);
	int (*list)(struct tapir_kv_store *s, const struct tapir_kv_key *k,
		    struct tapir_kv_entry **out, size_t *n);
	int (*last_modified)(struct tapir_kv_store *s, const struct tapir_kv_key *k, struct timespec *t);
	int (*set)(struct tapir_kv_store *s, const struct tapir_kv_key *k, const void *data, size_t len);
	int (*set_partial)(struct tapir_kv_store *s, const struct tapir_kv_key *k, uint64_t off,
			   const void *data, size_t len);
	int (*remove)(struct tapir_kv_store *s, const struct tapir_kv_key *k);
	int (*rename)(struct tapir_kv_store *s, const struct tapir_kv_key *src,
		      const struct tapir_kv_key *dst);
	/* Apply @ops (all REMOVEs first, then SETs) atomically. */
	int (*commit)(struct tapir_kv_store *s, const struct tapir_kv_op *ops, size_t n);
	/* Optional (NULL: kv.c reads by key): open the value @k as *@out (a struct
	 * whose head is struct tapir_kv_value, its @s set by kv.c), with its size
	 * and mtime in @st; value_read() and value_close() serve it. */
	int (*value_open)(struct tapir_kv_store *s, const struct tapir_kv_key *k,
			  struct tapir_kv_value **out, struct tapir_kv_stat *st);
	int (*value_read)(struct tapir_kv_value *v, uint64_t off, void *buf, size_t len,
			  size_t *got);
	void (*value_close)(struct tapir_kv_value *v);
};

#define TAPIR_KV_ERRMSG_LEN 256

/* Common head of every store; the implementation embeds it first. */
struct tapir_kv_store {
	const struct tapir_kv_ops *ops;
	bool writable;
	bool in_batch;                 /* tapir_kv_batch() running: direct writes refused */
	int last_err;                  /* most recent failure code (positive) */
	unsigned extra_refs;           /* tapir_kv_retain()s not yet matched by tapir_kv_close() */
	char errmsg[TAPIR_KV_ERRMSG_LEN];    /* and its message */
};

/**
 * tapir_kv_open() - Open a store from a spec
 * @spec:     "mem:", "dir:/path", "tar:/path/file.tar" or "embedded:NAME"
 * @writable: Open for writing (embedded: refused; mem: always writable).  A
 *            writable dir store takes an exclusive flock on its root, a
 *            writable tar store creates a missing archive
 * @out:      The store, freed with tapir_kv_close()
 * @err:      Buffer for a message on failure (may be NULL)
 * @errlen:   Its size
 *
 * Return: 0 or -KV_E_*
 */
int tapir_kv_open(const char *spec, bool writable, struct tapir_kv_store **out, char *err,
		  size_t errlen);

/*
 * Return: how many batch journals dir stores opened by this process refused
 * (crafted or corrupt: moved aside, never replayed), for statistics.
 */
unsigned long tapir_kv_dir_journals_refused(void);

/*
 * Drop one reference to @s: the store is closed and freed when the last one
 * goes (NULL is accepted).  tapir_kv_open() gives the caller one reference.
 */
void tapir_kv_close(struct tapir_kv_store *s);

/*
 * Take another reference to @s, matched later by one tapir_kv_close(): what a
 * reader that outlives its lookup keeps (an HTTP response streamed from a
 * store while the daemon re-opens its stores).  Return: @s
 */
struct tapir_kv_store *tapir_kv_retain(struct tapir_kv_store *s);

/* Return: message of the most recent failure on @s ("" if none); valid until the next call. */
const char *tapir_kv_last_error(const struct tapir_kv_store *s);

/* Read-only API.  Each returns 0 (or a count) or -KV_E_*. */

/* @kind: TAPIR_KV_VALUE, TAPIR_KV_DICT or TAPIR_KV_NONE (then the return is 0, not an error). */
int tapir_kv_exists(struct tapir_kv_store *s, const struct tapir_kv_key *k,
		    enum tapir_kv_kind *kind);

/* @out: malloc'd value (plus one NUL byte not counted in @len), caller frees. */
int tapir_kv_get(struct tapir_kv_store *s, const struct tapir_kv_key *k, uint8_t **out,
		 size_t *len);

/**
 * tapir_kv_get_partial() - Read part of a value
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
int tapir_kv_get_partial(struct tapir_kv_store *s, const struct tapir_kv_key *k, uint64_t off,
			 size_t len, uint8_t **out, size_t *outlen);

/* Like tapir_kv_get_partial() into a caller's buffer; Return: bytes read or -KV_E_*. */
int64_t tapir_kv_read(struct tapir_kv_store *s, const struct tapir_kv_key *k, uint64_t off,
		      void *buf, size_t len);

int tapir_kv_size(struct tapir_kv_store *s, const struct tapir_kv_key *k, uint64_t *size);

/* @out: entries sorted by name (strcmp), owned by the caller: tapir_kv_entries_free(). */
int tapir_kv_list(struct tapir_kv_store *s, const struct tapir_kv_key *k,
		  struct tapir_kv_entry **out, size_t *n);

int tapir_kv_last_modified(struct tapir_kv_store *s, const struct tapir_kv_key *k,
			   struct timespec *t);

/* @out: TAPIR_KV_DIGEST_LEN bytes (see the theory above). */
int tapir_kv_digest(struct tapir_kv_store *s, const struct tapir_kv_key *k,
		    uint8_t out[TAPIR_KV_DIGEST_LEN]);

/**
 * tapir_kv_value_open() - Open a value to read it at offsets
 * @s:   Store (retained by the handle: it may be closed before the handle)
 * @k:   Key of a value
 * @out: The handle, freed with tapir_kv_value_close()
 * @st:  The value's size and mtime (may be NULL)
 *
 * One look-up for what tapir_kv_size(), tapir_kv_last_modified() and each
 * tapir_kv_read() would look up again (dir: one open and one fstat in all,
 * then a pread per read).
 *
 * Return: 0, -TAPIR_KV_E_VALUE_EXPECTED (a dictionary), -TAPIR_KV_E_NOT_FOUND,
 *         or another -KV_E_* (the store's message says more)
 */
int tapir_kv_value_open(struct tapir_kv_store *s, const struct tapir_kv_key *k,
			struct tapir_kv_value **out, struct tapir_kv_stat *st);
/* Read up to @len bytes at @off (fewer at the end, 0 past it).
 * Return: bytes read or -KV_E_* (tapir_kv_value_error() says more) */
int64_t tapir_kv_value_read(struct tapir_kv_value *v, uint64_t off, void *buf, size_t len);
/* Return: the message of the handle's most recent failure ("" if none) */
const char *tapir_kv_value_error(const struct tapir_kv_value *v);
/* Free @v (NULL is accepted) and drop its reference to the store. */
void tapir_kv_value_close(struct tapir_kv_value *v);

/* Head of every open value; the implementation embeds it first. */
struct tapir_kv_value {
	struct tapir_kv_store *s;
};

/* Read-write API. */

/* Create or replace a value; missing parent dictionaries are created. */
int tapir_kv_set(struct tapir_kv_store *s, const struct tapir_kv_key *k, const void *data,
		 size_t len);

/* Write @data at @off of a value (created if missing; a gap is zero-filled). */
int tapir_kv_set_partial(struct tapir_kv_store *s, const struct tapir_kv_key *k, uint64_t off,
			 const void *data, size_t len);

/* Remove a value or a dictionary with everything in it.  The root cannot be removed. */
int tapir_kv_remove(struct tapir_kv_store *s, const struct tapir_kv_key *k);

/*
 * Rename @src to @dst (parents of @dst created).  A value replaces a value at
 * @dst; any other existing @dst answers -TAPIR_KV_E_ALREADY_PRESENT; @src a prefix
 * of (or equal to) @dst answers -TAPIR_KV_E_RENAME_PREFIX.
 */
int tapir_kv_rename(struct tapir_kv_store *s, const struct tapir_kv_key *src,
		    const struct tapir_kv_key *dst);

typedef int (*tapir_kv_batch_fn)(struct tapir_kv_store *txn, void *ctx);

/**
 * tapir_kv_batch() - Run @fn on a transaction view, commit its writes atomically
 * @s:   A writable store
 * @fn:  Called once with the view (valid only during the call); returns 0 to
 *       commit or a negative value to abort
 * @ctx: Passed to @fn
 *
 * Return: 0 if committed, @fn's negative value if it aborted (nothing
 *         written), or -KV_E_* if the commit failed (nothing written)
 */
int tapir_kv_batch(struct tapir_kv_store *s, tapir_kv_batch_fn fn, void *ctx);

/* Store-specific openers (tapir_kv_open() calls these). */
int tapir_kv_mem_open(struct tapir_kv_store **out);
int tapir_kv_dir_open(const char *path, bool writable, struct tapir_kv_store **out, char *err,
		      size_t errlen);
int tapir_kv_tar_open(const char *path, bool writable, struct tapir_kv_store **out, char *err,
		      size_t errlen);
/* Read-only tar over a buffer the caller keeps alive and unchanged until tapir_kv_close(). */
int tapir_kv_tar_open_buffer(const uint8_t *buf, size_t len, struct tapir_kv_store **out, char *err,
		       size_t errlen);

/*
 * Embedded stores (MirageOS crunch).  kv-embed NAME DIR OUT.c writes a C file
 * defining `const struct tapir_kv_embedded_fs kv_embedded_NAME` and placing a
 * pointer to it in the linker section "kv_embedded".  Linking that file into
 * a program is all the registration there is: tapir_kv_open("embedded:NAME") finds
 * it through the linker's __start_kv_embedded/__stop_kv_embedded symbols (a
 * read-only table, no constructor, no global state).  tapir_kv_embedded_open()
 * opens one directly.
 */
struct tapir_kv_embedded_file {
	const char *path;          /* "/a/b", normalised, sorted by strcmp */
	const uint8_t *data;
	size_t len;
};

struct tapir_kv_embedded_fs {
	const char *name;
	int64_t mtime;             /* SOURCE_DATE_EPOCH, else the newest file's mtime */
	const struct tapir_kv_embedded_file *files;
	size_t n_files;
};

/* @fs must outlive the store. */
int tapir_kv_embedded_open(const struct tapir_kv_embedded_fs *fs, struct tapir_kv_store **out,
			   char *err, size_t errlen);
/* Return: the linked-in fs called @name, or NULL. */
const struct tapir_kv_embedded_fs *tapir_kv_embedded_find(const char *name);

#endif /* TAPIR_KV_H */

/*
 * kv_internal.h - helpers shared by the store implementations (not public)
 *
 * kv_tree is the in-memory tree behind mem, tar (the index), embedded and the
 * batch overlay: nodes with a name, a kind and a payload, children kept in an
 * array (sorted lazily, for listing) and found through one hash table keyed by
 * (parent, name), so building an index of N members costs O(N) whatever
 * their order.
 */
#ifndef TAPIR_KV_INTERNAL_H
#define TAPIR_KV_INTERNAL_H

#include <stdarg.h>

#include "tapir/kv.h"

/* Node flags. */
#define KV_NODE_WHITEOUT 0x1   /* overlay: removed in the transaction */
#define KV_NODE_OPAQUE   0x2   /* overlay: the base at this path is replaced */
#define KV_NODE_OWNED    0x4   /* @data is malloc'd and owned by the node */

struct kv_node {
	char *name;                 /* owned; "" for the root */
	struct kv_node *parent;
	struct kv_node *hnext;      /* hash chain */
	enum tapir_kv_kind kind;          /* TAPIR_KV_NONE only for overlay whiteouts */
	unsigned flags;
	struct kv_node **child;
	size_t nchild, cap;
	bool sorted;
	/* Value payload: */
	uint8_t *data;              /* mem/overlay/embedded: bytes (see OWNED) */
	uint64_t size;
	uint64_t off;               /* tar: offset of the data in the archive */
	uint64_t hdr_off;           /* tar: offset of the member's first header */
	uint32_t seq;               /* tar: member sequence number */
	struct timespec mtime;
};

struct kv_tree {
	struct kv_node root;
	struct kv_node **bucket;
	size_t nbucket, count;
};

void kv_tree_init(struct kv_tree *t);
void kv_tree_free(struct kv_tree *t);
/* Return: the child of @p named @name, or NULL. */
struct kv_node *kv_tree_child(const struct kv_tree *t, const struct kv_node *p, const char *name);
/* Return: new child of @p (kind TAPIR_KV_DICT, no payload), or NULL (ENOMEM).  @name must be absent. */
struct kv_node *kv_tree_add(struct kv_tree *t, struct kv_node *p, const char *name, size_t nlen);
/* Unlink @n from its parent and free it with its subtree. */
void kv_tree_del(struct kv_tree *t, struct kv_node *n);
/* Move @n under @p as @name (see kv_tree.c).  Return: 0 or -TAPIR_KV_E_NOMEM. */
int kv_tree_move(struct kv_tree *t, struct kv_node *n, struct kv_node *p, const char *name);
/* Rebuild parent links and hash after the struct kv_tree was moved in memory. */
void kv_tree_relocated(struct kv_tree *t);
/* Free every child of @n. */
void kv_tree_clear(struct kv_tree *t, struct kv_node *n);
/* Sort the children of @n by name if needed. */
void kv_tree_sort(struct kv_node *n);
/*
 * Walk @k from the root.  Return: the node or NULL; *@blocked (may be NULL)
 * tells whether a value was met before the end of the key.
 */
struct kv_node *kv_tree_lookup(const struct kv_tree *t, const struct tapir_kv_key *k,
			       bool *blocked);
/* List the children of dictionary @n (whiteouts skipped).  Return: 0 or -TAPIR_KV_E_NOMEM. */
int kv_tree_list(struct kv_node *n, struct tapir_kv_entry **out, size_t *cnt);
/* Deep copy of @src into empty @dst; owned data copied.  Return: 0 or -TAPIR_KV_E_NOMEM. */
int kv_tree_clone(struct kv_tree *dst, const struct kv_tree *src);

/* Set @s's message and return -@code. */
int kv_fail(struct tapir_kv_store *s, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Record "KEY: @what" as @s's error.  Return: -@code */
int kv_key_fail(struct tapir_kv_store *s, int code, const struct tapir_kv_key *k, const char *what);
/*
 * kv_tree_find() - Look @k up in @t for store @s
 * @want: TAPIR_KV_VALUE or TAPIR_KV_DICT to require that kind, TAPIR_KV_NONE for either
 *
 * Return: 0 and the node in @out, or the failure recorded on @s (not found,
 *         value expected, dictionary expected)
 */
int kv_tree_find(struct tapir_kv_store *s, const struct kv_tree *t, const struct tapir_kv_key *k,
		 enum tapir_kv_kind want, struct kv_node **out);
/* Map an errno value to a kv_err code (positive). */
int kv_errno_code(int e);
/* Fill a caller's error buffer (may be NULL) and return -@code. */
int kv_errbuf(char *err, size_t errlen, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Return: current wall-clock time. */
struct timespec kv_now(void);

/* Write all of @buf at @off (pwrite, EINTR retried).  Return: 0 or -errno */
int kv_pwrite_all(int fd, const void *buf, size_t len, uint64_t off);
/* Return: true if @name is a valid key segment. */
bool kv_segment_valid(const char *name);

/* Return: the view store of a new transaction over @base (freed by tapir_kv_close), or NULL. */
struct tapir_kv_store *kv_txn_new(struct tapir_kv_store *base);
/*
 * Collect the staged writes of @txn: all REMOVEs, then all SETs.  @ops is
 * malloc'd; the keys in it are owned by it (kv_ops_free), data borrowed from
 * @txn.  Return: 0 or -TAPIR_KV_E_NOMEM.
 */
int kv_txn_ops(struct tapir_kv_store *txn, struct tapir_kv_op **ops, size_t *n);
void kv_ops_free(struct tapir_kv_op *ops, size_t n);

#endif /* TAPIR_KV_INTERNAL_H */

/*
 * kv_mem.c - the in-memory store (mem:)
 *
 * A kv_tree whose values are owned buffers.  A dictionary's last_modified is
 * the time of the last write below it.  Batch commit applies the operations
 * to a copy of the tree and swaps it in, so a failure (out of memory) leaves
 * the store untouched; that costs O(store size) per batch.
 */
#include <stdlib.h>
#include <string.h>

#include "kv_internal.h"

struct kv_mem {
	struct tapir_kv_store s;
	struct kv_tree t;
};

static struct kv_mem *M(struct tapir_kv_store *s)
{
	return (struct kv_mem *)s;
}

static void touch(struct kv_node *n, struct timespec now)
{
	for (; n; n = n->parent)
		n->mtime = now;
}

static int mem_exists(struct tapir_kv_store *s, const struct tapir_kv_key *k,
		      enum tapir_kv_kind *kind)
{
	struct kv_node *n = kv_tree_lookup(&M(s)->t, k, NULL);
	*kind = n ? n->kind : TAPIR_KV_NONE;
	return 0;
}

static int mem_size(struct tapir_kv_store *s, const struct tapir_kv_key *k, uint64_t *size)
{
	struct kv_node *n = NULL;
	int rc = kv_tree_find(s, &M(s)->t, k, TAPIR_KV_VALUE, &n);
	if (!rc)
		*size = n->size;
	return rc;
}

static int mem_read(struct tapir_kv_store *s, const struct tapir_kv_key *k, uint64_t off, void *buf,
		    size_t len, size_t *got)
{
	struct kv_node *n = NULL;
	int rc = kv_tree_find(s, &M(s)->t, k, TAPIR_KV_VALUE, &n);
	if (rc)
		return rc;
	*got = 0;
	if (off < n->size) {
		size_t c = n->size - off < len ? (size_t)(n->size - off) : len;
		memcpy(buf, n->data + off, c);
		*got = c;
	}
	return 0;
}

static int mem_list(struct tapir_kv_store *s, const struct tapir_kv_key *k,
		    struct tapir_kv_entry **out, size_t *n)
{
	struct kv_node *d = NULL;
	int rc = kv_tree_find(s, &M(s)->t, k, TAPIR_KV_DICT, &d);
	if (rc)
		return rc;
	rc = kv_tree_list(d, out, n);
	return rc ? kv_fail(s, TAPIR_KV_E_NOMEM, "out of memory") : 0;
}

static int mem_last_modified(struct tapir_kv_store *s, const struct tapir_kv_key *k,
			     struct timespec *t)
{
	struct kv_node *n = NULL;
	int rc = kv_tree_find(s, &M(s)->t, k, TAPIR_KV_NONE, &n);
	if (!rc)
		*t = n->mtime;
	return rc;
}

/*
 * Make the parents of @k dictionaries and return the node for @k (created as
 * an empty value if missing).  @data: the new content, adopted on success.
 */
static int tree_set(struct tapir_kv_store *s, struct kv_tree *t, const struct tapir_kv_key *k,
		    uint8_t *data, uint64_t len, struct timespec now)
{
	struct kv_node *n = &t->root;
	for (size_t i = 0; i < k->n; i++) {
		if (n->kind != TAPIR_KV_DICT)
			return kv_key_fail(s, TAPIR_KV_E_DICT_EXPECTED, k, "a parent is a value");
		struct kv_node *c = kv_tree_child(t, n, k->seg[i]);
		if (!c) {
			c = kv_tree_add(t, n, k->seg[i], strlen(k->seg[i]));
			if (!c)
				return kv_fail(s, TAPIR_KV_E_NOMEM, "out of memory");
			c->mtime = now;
			if (i + 1 == k->n) {
				c->kind = TAPIR_KV_VALUE;
				c->flags = KV_NODE_OWNED;
			}
		}
		n = c;
	}
	if (n->kind != TAPIR_KV_VALUE)
		return kv_key_fail(s, TAPIR_KV_E_VALUE_EXPECTED, k, "is a dictionary");
	if (n->flags & KV_NODE_OWNED)
		free(n->data);
	n->data = data;
	n->size = len;
	n->flags |= KV_NODE_OWNED;
	touch(n, now);
	return 0;
}

static int mem_set(struct tapir_kv_store *s, const struct tapir_kv_key *k, const void *data,
		   size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		return kv_fail(s, TAPIR_KV_E_NOMEM, "out of memory");
	if (len)
		memcpy(copy, data, len);
	int rc = tree_set(s, &M(s)->t, k, copy, len, kv_now());
	if (rc)
		free(copy);
	return rc;
}

static int mem_set_partial(struct tapir_kv_store *s, const struct tapir_kv_key *k, uint64_t off,
			   const void *data, size_t len)
{
	struct kv_node *n = kv_tree_lookup(&M(s)->t, k, NULL);
	uint64_t old = n && n->kind == TAPIR_KV_VALUE ? n->size : 0;
	if (n && n->kind != TAPIR_KV_VALUE)
		return kv_key_fail(s, TAPIR_KV_E_VALUE_EXPECTED, k, "is a dictionary");
	uint64_t nsize = off + len > old ? off + len : old;
	if (nsize >= SIZE_MAX)
		return kv_fail(s, TAPIR_KV_E_NOMEM, "value too large");
	uint8_t *buf = calloc(1, nsize ? (size_t)nsize : 1);
	if (!buf)
		return kv_fail(s, TAPIR_KV_E_NOMEM, "out of memory");
	if (old)
		memcpy(buf, n->data, old);
	if (len)
		memcpy(buf + off, data, len);
	int rc = tree_set(s, &M(s)->t, k, buf, nsize, kv_now());
	if (rc)
		free(buf);
	return rc;
}

static int mem_remove(struct tapir_kv_store *s, const struct tapir_kv_key *k)
{
	struct kv_node *n = NULL;
	int rc = kv_tree_find(s, &M(s)->t, k, TAPIR_KV_NONE, &n);
	if (rc)
		return rc;
	struct kv_node *p = n->parent;
	kv_tree_del(&M(s)->t, n);
	touch(p, kv_now());
	return 0;
}

static int mem_rename(struct tapir_kv_store *s, const struct tapir_kv_key *src,
		      const struct tapir_kv_key *dst)
{
	struct kv_tree *t = &M(s)->t;
	struct kv_node *n = NULL, *d = NULL;
	bool blocked;
	int rc = kv_tree_find(s, &M(s)->t, src, TAPIR_KV_NONE, &n);
	if (rc)
		return rc;
	d = kv_tree_lookup(t, dst, &blocked);
	if (blocked)
		return kv_key_fail(s, TAPIR_KV_E_DICT_EXPECTED, dst, "a parent is a value");
	if (d && !(d->kind == TAPIR_KV_VALUE && n->kind == TAPIR_KV_VALUE))
		return kv_key_fail(s, TAPIR_KV_E_ALREADY_PRESENT, dst, "already present");
	struct timespec now = kv_now();
	if (n->kind == TAPIR_KV_VALUE) {
		/* Move the buffer: set @dst to it, then drop @src's node. */
		rc = tree_set(s, t, dst, n->data, n->size, now);
		if (rc)
			return rc;
		n->flags &= ~KV_NODE_OWNED;
		n->data = NULL;
		struct kv_node *p = n->parent;
		kv_tree_del(t, n);
		touch(p, now);
		return 0;
	}
	/* A dictionary: create @dst's parents, then re-link the node. */
	struct kv_node *p = &t->root;
	for (size_t i = 0; i + 1 < dst->n; i++) {
		struct kv_node *c = kv_tree_child(t, p, dst->seg[i]);
		if (!c) {
			c = kv_tree_add(t, p, dst->seg[i], strlen(dst->seg[i]));
			if (!c)
				return kv_fail(s, TAPIR_KV_E_NOMEM, "out of memory");
		}
		p = c;
	}
	struct kv_node *sp = n->parent;
	rc = kv_tree_move(t, n, p, dst->seg[dst->n - 1]);
	if (rc)
		return kv_fail(s, TAPIR_KV_E_NOMEM, "out of memory");
	touch(n, now);
	touch(sp, now);
	return 0;
}

/* Apply batch operations to @t (a copy of the store's tree). */
static int apply_ops(struct tapir_kv_store *s, struct kv_tree *t, const struct tapir_kv_op *ops,
		     size_t n)
{
	struct timespec now = kv_now();
	for (size_t i = 0; i < n; i++) {
		const struct tapir_kv_op *op = &ops[i];
		if (op->type == TAPIR_KV_OP_REMOVE) {
			struct kv_node *x = kv_tree_lookup(t, &op->key, NULL);
			if (x && x != &t->root) {
				struct kv_node *p = x->parent;
				kv_tree_del(t, x);
				touch(p, now);
			}
			continue;
		}
		uint8_t *copy = malloc(op->len ? op->len : 1);
		if (!copy)
			return kv_fail(s, TAPIR_KV_E_NOMEM, "out of memory");
		if (op->len)
			memcpy(copy, op->data, op->len);
		int rc = tree_set(s, t, &op->key, copy, op->len, now);
		if (rc) {
			free(copy);
			return rc;
		}
	}
	return 0;
}

static int mem_commit(struct tapir_kv_store *s, const struct tapir_kv_op *ops, size_t n)
{
	struct kv_tree copy;
	kv_tree_init(&copy);
	int rc = kv_tree_clone(&copy, &M(s)->t);
	if (rc)
		rc = kv_fail(s, TAPIR_KV_E_NOMEM, "out of memory");
	else
		rc = apply_ops(s, &copy, ops, n);
	if (rc) {
		kv_tree_free(&copy);
		return rc;
	}
	kv_tree_free(&M(s)->t);
	M(s)->t = copy;
	kv_tree_relocated(&M(s)->t);   /* the root moved: re-parent and re-hash */
	return 0;
}

static void mem_close(struct tapir_kv_store *s)
{
	kv_tree_free(&M(s)->t);
	free(s);
}

static const struct tapir_kv_ops mem_ops = {
	.name = "mem",
	.close = mem_close,
	.exists = mem_exists,
	.size = mem_size,
	.read = mem_read,
	.list = mem_list,
	.last_modified = mem_last_modified,
	.set = mem_set,
	.set_partial = mem_set_partial,
	.remove = mem_remove,
	.rename = mem_rename,
	.commit = mem_commit,
};

/**
 * tapir_kv_mem_open() - Open an empty in-memory store
 * @out: The store, freed with tapir_kv_close()
 *
 * Return: 0 or -TAPIR_KV_E_NOMEM
 */
int tapir_kv_mem_open(struct tapir_kv_store **out)
{
	struct kv_mem *m = calloc(1, sizeof(*m));
	if (!m)
		return -TAPIR_KV_E_NOMEM;
	m->s.ops = &mem_ops;
	m->s.writable = true;
	kv_tree_init(&m->t);
	m->t.root.mtime = kv_now();
	*out = &m->s;
	return 0;
}

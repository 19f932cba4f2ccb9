/*
 * kv_txn.c - the transaction view of tapir_kv_batch(): an overlay over a base store
 *
 * Theory of operation
 * -------------------
 * Writes go to an overlay kv_tree; the base store is only read.  An overlay
 * node is a value (new content), a dictionary (ancestor of a write), or a
 * whiteout (removed).  OPAQUE marks a node whose base content is replaced: a
 * whiteout that was written again, or a renamed dictionary.  Reads walk the
 * overlay first: a whiteout or overlay value on the way ends the walk, an
 * OPAQUE node hides the base below it, and a path the overlay does not know
 * is read from the base.  Listings merge the overlay's children into the
 * base's unless hidden.
 *
 * At commit the overlay becomes a list of operations: REMOVE for whiteouts
 * and OPAQUE nodes, then SET for every value, which the store applies
 * atomically.  REMOVE of a missing key is a no-op for every store.
 */
#include <stdlib.h>
#include <string.h>

#include "kv_internal.h"

struct kv_txn {
	struct tapir_kv_store s;
	struct tapir_kv_store *base;
	struct kv_tree ov;
};

static struct kv_txn *T(struct tapir_kv_store *s)
{
	return (struct kv_txn *)s;
}

enum src { SRC_NONE, SRC_OV, SRC_BASE };

/* Resolve @k: overlay node (SRC_OV, @merge: base children show through), base, or none. */
static enum src resolve(struct kv_txn *x, const struct tapir_kv_key *k, struct kv_node **node,
			bool *merge)
{
	struct kv_node *cur = &x->ov.root;
	bool hidden = false;
	for (size_t i = 0; i < k->n; i++) {
		if (cur->kind != TAPIR_KV_DICT)
			return SRC_NONE;
		struct kv_node *c = kv_tree_child(&x->ov, cur, k->seg[i]);
		if (!c)
			return hidden ? SRC_NONE : SRC_BASE;
		if (c->flags & KV_NODE_WHITEOUT)
			return SRC_NONE;
		if (c->flags & KV_NODE_OPAQUE)
			hidden = true;
		cur = c;
	}
	*node = cur;
	*merge = !hidden;
	return SRC_OV;
}

/* Copy the base's last failure into the view. */
static int from_base(struct kv_txn *x, int rc)
{
	if (rc < 0 && x->base->last_err)
		kv_fail(&x->s, x->base->last_err, "%s", x->base->errmsg);
	return rc;
}

static int view_kind(struct kv_txn *x, const struct tapir_kv_key *k, enum tapir_kv_kind *kind)
{
	struct kv_node *n = NULL;
	bool merge;
	switch (resolve(x, k, &n, &merge)) {
	case SRC_OV:
		*kind = n->kind;
		return 0;
	case SRC_BASE:
		return from_base(x, x->base->ops->exists(x->base, k, kind));
	default:
		*kind = TAPIR_KV_NONE;
		return 0;
	}
}

static int txn_exists(struct tapir_kv_store *s, const struct tapir_kv_key *k,
		      enum tapir_kv_kind *kind)
{
	return view_kind(T(s), k, kind);
}

static int txn_size(struct tapir_kv_store *s, const struct tapir_kv_key *k, uint64_t *size)
{
	struct kv_node *n = NULL;
	bool merge;
	switch (resolve(T(s), k, &n, &merge)) {
	case SRC_OV:
		if (n->kind != TAPIR_KV_VALUE)
			return kv_key_fail(s, TAPIR_KV_E_VALUE_EXPECTED, k, "is a dictionary");
		*size = n->size;
		return 0;
	case SRC_BASE:
		return from_base(T(s), T(s)->base->ops->size(T(s)->base, k, size));
	default:
		return kv_key_fail(s, TAPIR_KV_E_NOT_FOUND, k, "not found");
	}
}

static int txn_read(struct tapir_kv_store *s, const struct tapir_kv_key *k, uint64_t off, void *buf,
		    size_t len, size_t *got)
{
	struct kv_node *n = NULL;
	bool merge;
	switch (resolve(T(s), k, &n, &merge)) {
	case SRC_OV:
		if (n->kind != TAPIR_KV_VALUE)
			return kv_key_fail(s, TAPIR_KV_E_VALUE_EXPECTED, k, "is a dictionary");
		*got = 0;
		if (off < n->size) {
			*got = n->size - off < len ? (size_t)(n->size - off) : len;
			memcpy(buf, n->data + off, *got);
		}
		return 0;
	case SRC_BASE:
		return from_base(T(s), T(s)->base->ops->read(T(s)->base, k, off, buf, len, got));
	default:
		return kv_key_fail(s, TAPIR_KV_E_NOT_FOUND, k, "not found");
	}
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct tapir_kv_entry *)a)->name, ((const struct tapir_kv_entry *)b)->name);
}

static int txn_list(struct tapir_kv_store *s, const struct tapir_kv_key *k,
		    struct tapir_kv_entry **out, size_t *cnt)
{
	struct kv_txn *x = T(s);
	struct kv_node *n = NULL;
	bool merge;
	enum src src = resolve(x, k, &n, &merge);
	if (src == SRC_BASE)
		return from_base(x, x->base->ops->list(x->base, k, out, cnt));
	if (src == SRC_NONE)
		return kv_key_fail(s, TAPIR_KV_E_NOT_FOUND, k, "not found");
	if (n->kind != TAPIR_KV_DICT)
		return kv_key_fail(s, TAPIR_KV_E_DICT_EXPECTED, k, "is a value");
	struct tapir_kv_entry *be = NULL;
	size_t bn = 0;
	if (merge) {
		enum tapir_kv_kind bk;
		int rc = from_base(x, x->base->ops->exists(x->base, k, &bk));
		if (rc)
			return rc;
		if (bk == TAPIR_KV_DICT) {
			rc = from_base(x, x->base->ops->list(x->base, k, &be, &bn));
			if (rc)
				return rc;
		}
	}
	struct tapir_kv_entry *e = calloc(bn + n->nchild + 1, sizeof(*e));
	if (!e) {
		tapir_kv_entries_free(be, bn);
		return kv_fail(s, TAPIR_KV_E_NOMEM, "out of memory");
	}
	size_t m = 0;
	for (size_t i = 0; i < bn; i++) {
		if (kv_tree_child(&x->ov, n, be[i].name)) {
			free(be[i].name);
			continue;
		}
		e[m++] = be[i];
	}
	free(be);
	for (size_t i = 0; i < n->nchild; i++) {
		struct kv_node *c = n->child[i];
		if (c->flags & KV_NODE_WHITEOUT)
			continue;
		e[m].name = strdup(c->name);
		if (!e[m].name) {
			tapir_kv_entries_free(e, m);
			return kv_fail(s, TAPIR_KV_E_NOMEM, "out of memory");
		}
		e[m++].kind = c->kind;
	}
	qsort(e, m, sizeof(*e), cmp_entry);
	*out = e;
	*cnt = m;
	return 0;
}

static int txn_last_modified(struct tapir_kv_store *s, const struct tapir_kv_key *k,
			     struct timespec *t)
{
	struct kv_node *n = NULL;
	bool merge;
	switch (resolve(T(s), k, &n, &merge)) {
	case SRC_OV:
		*t = n->mtime;
		return 0;
	case SRC_BASE:
		return from_base(T(s), T(s)->base->ops->last_modified(T(s)->base, k, t));
	default:
		return kv_key_fail(s, TAPIR_KV_E_NOT_FOUND, k, "not found");
	}
}

/* Overlay node for @k with dictionary ancestors; whiteouts on the way become OPAQUE dicts. */
static struct kv_node *ov_path(struct kv_txn *x, const struct tapir_kv_key *k, size_t upto)
{
	struct kv_node *cur = &x->ov.root;
	struct timespec now = kv_now();
	for (size_t i = 0; i < upto; i++) {
		struct kv_node *c = kv_tree_child(&x->ov, cur, k->seg[i]);
		if (!c) {
			c = kv_tree_add(&x->ov, cur, k->seg[i], strlen(k->seg[i]));
			if (!c)
				return NULL;
		} else if (c->flags & KV_NODE_WHITEOUT) {
			c->flags = KV_NODE_OPAQUE;
			c->kind = TAPIR_KV_DICT;
		}
		c->mtime = now;
		cur = c;
	}
	return cur;
}

/* Check that no proper prefix of @k is a value in the view. */
static int check_parents(struct kv_txn *x, const struct tapir_kv_key *k)
{
	struct tapir_kv_key p = { 0, k->seg };
	for (size_t i = 1; i < k->n; i++) {
		enum tapir_kv_kind kind;
		p.n = i;
		int rc = view_kind(x, &p, &kind);
		if (rc)
			return rc;
		if (kind == TAPIR_KV_VALUE)
			return kv_key_fail(&x->s, TAPIR_KV_E_DICT_EXPECTED, k, "a parent is a value");
	}
	return 0;
}

/* Stage @data (adopted) as the value of @k. */
static int stage_value(struct kv_txn *x, const struct tapir_kv_key *k, uint8_t *data, uint64_t len)
{
	enum tapir_kv_kind kind;
	int rc = check_parents(x, k);
	if (!rc)
		rc = view_kind(x, k, &kind);
	if (rc)
		return rc;
	if (kind == TAPIR_KV_DICT)
		return kv_key_fail(&x->s, TAPIR_KV_E_VALUE_EXPECTED, k, "is a dictionary");
	struct kv_node *p = ov_path(x, k, k->n - 1);
	struct kv_node *n = p ? kv_tree_child(&x->ov, p, k->seg[k->n - 1]) : NULL;
	if (p && !n)
		n = kv_tree_add(&x->ov, p, k->seg[k->n - 1], strlen(k->seg[k->n - 1]));
	if (!n)
		return kv_fail(&x->s, TAPIR_KV_E_NOMEM, "out of memory");
	if (n->flags & KV_NODE_WHITEOUT)
		n->flags = KV_NODE_OPAQUE;
	if (n->flags & KV_NODE_OWNED)
		free(n->data);
	n->kind = TAPIR_KV_VALUE;
	n->data = data;
	n->size = len;
	n->flags |= KV_NODE_OWNED;
	n->mtime = kv_now();
	return 0;
}

static int txn_set(struct tapir_kv_store *s, const struct tapir_kv_key *k, const void *data,
		   size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		return kv_fail(s, TAPIR_KV_E_NOMEM, "out of memory");
	if (len)
		memcpy(copy, data, len);
	int rc = stage_value(T(s), k, copy, len);
	if (rc)
		free(copy);
	return rc;
}

/* Read the whole value @k through the view into a malloc'd buffer of at least @need bytes. */
static int view_get(struct kv_txn *x, const struct tapir_kv_key *k, uint64_t need, uint8_t **out,
		    uint64_t *len)
{
	uint64_t size;
	int rc = txn_size(&x->s, k, &size);
	if (rc)
		return rc;
	uint64_t cap = size > need ? size : need;
	if (cap >= SIZE_MAX)
		return kv_fail(&x->s, TAPIR_KV_E_NOMEM, "value too large");
	uint8_t *buf = calloc(1, cap ? (size_t)cap : 1);
	if (!buf)
		return kv_fail(&x->s, TAPIR_KV_E_NOMEM, "out of memory");
	uint64_t off = 0;
	while (off < size) {
		size_t got = 0;
		rc = txn_read(&x->s, k, off, buf + off, (size_t)(size - off), &got);
		if (!rc && !got)
			rc = kv_fail(&x->s, TAPIR_KV_E_STORAGE, "value shrank while read");
		if (rc) {
			free(buf);
			return rc;
		}
		off += got;
	}
	*out = buf;
	*len = cap;
	return 0;
}

static int txn_set_partial(struct tapir_kv_store *s, const struct tapir_kv_key *k, uint64_t off,
			   const void *data, size_t len)
{
	struct kv_txn *x = T(s);
	enum tapir_kv_kind kind;
	int rc = view_kind(x, k, &kind);
	if (rc)
		return rc;
	uint8_t *buf;
	uint64_t blen;
	if (kind == TAPIR_KV_DICT)
		return kv_key_fail(s, TAPIR_KV_E_VALUE_EXPECTED, k, "is a dictionary");
	if (kind == TAPIR_KV_VALUE) {
		rc = view_get(x, k, off + len, &buf, &blen);
		if (rc)
			return rc;
	} else {
		blen = off + len;
		if (blen >= SIZE_MAX || !(buf = calloc(1, blen ? (size_t)blen : 1)))
			return kv_fail(s, TAPIR_KV_E_NOMEM, "out of memory");
	}
	if (len)
		memcpy(buf + off, data, len);
	rc = stage_value(x, k, buf, blen);
	if (rc)
		free(buf);
	return rc;
}

static int txn_remove(struct tapir_kv_store *s, const struct tapir_kv_key *k)
{
	struct kv_txn *x = T(s);
	enum tapir_kv_kind kind;
	int rc = view_kind(x, k, &kind);
	if (rc)
		return rc;
	if (kind == TAPIR_KV_NONE)
		return kv_key_fail(s, TAPIR_KV_E_NOT_FOUND, k, "not found");
	struct kv_node *p = ov_path(x, k, k->n - 1);
	struct kv_node *n = p ? kv_tree_child(&x->ov, p, k->seg[k->n - 1]) : NULL;
	if (p && !n)
		n = kv_tree_add(&x->ov, p, k->seg[k->n - 1], strlen(k->seg[k->n - 1]));
	if (!n)
		return kv_fail(s, TAPIR_KV_E_NOMEM, "out of memory");
	kv_tree_clear(&x->ov, n);
	if (n->flags & KV_NODE_OWNED)
		free(n->data);
	n->data = NULL;
	n->size = 0;
	n->kind = TAPIR_KV_NONE;
	n->flags = KV_NODE_WHITEOUT;
	return 0;
}

/* Copy the view's subtree at @src to @dst (which the caller made an OPAQUE dict). */
static int copy_tree(struct kv_txn *x, struct tapir_kv_key *src, struct tapir_kv_key *dst,
		     unsigned depth)
{
	struct tapir_kv_entry *e = NULL;
	size_t n = 0;
	if (depth > 4096)
		return kv_fail(&x->s, TAPIR_KV_E_STORAGE, "dictionaries nested too deeply");
	int rc = txn_list(&x->s, src, &e, &n);
	for (size_t i = 0; !rc && i < n; i++) {
		struct tapir_kv_key cs, cd;
		if (tapir_kv_key_copy(&cs, src, e[i].name)) {
			rc = kv_fail(&x->s, TAPIR_KV_E_NOMEM, "out of memory");
			break;
		}
		if (tapir_kv_key_copy(&cd, dst, e[i].name)) {
			tapir_kv_key_free(&cs);
			rc = kv_fail(&x->s, TAPIR_KV_E_NOMEM, "out of memory");
			break;
		}
		if (e[i].kind == TAPIR_KV_VALUE) {
			uint8_t *buf;
			uint64_t len;
			rc = view_get(x, &cs, 0, &buf, &len);
			if (!rc) {
				rc = stage_value(x, &cd, buf, len);
				if (rc)
					free(buf);
			}
		} else {
			if (!ov_path(x, &cd, cd.n))
				rc = kv_fail(&x->s, TAPIR_KV_E_NOMEM, "out of memory");
			else
				rc = copy_tree(x, &cs, &cd, depth + 1);
		}
		tapir_kv_key_free(&cs);
		tapir_kv_key_free(&cd);
	}
	tapir_kv_entries_free(e, n);
	return rc;
}

static int txn_rename(struct tapir_kv_store *s, const struct tapir_kv_key *src,
		      const struct tapir_kv_key *dst)
{
	struct kv_txn *x = T(s);
	enum tapir_kv_kind sk, dk;
	int rc = view_kind(x, src, &sk);
	if (!rc)
		rc = view_kind(x, dst, &dk);
	if (!rc)
		rc = check_parents(x, dst);
	if (rc)
		return rc;
	if (sk == TAPIR_KV_NONE)
		return kv_key_fail(s, TAPIR_KV_E_NOT_FOUND, src, "not found");
	if (dk != TAPIR_KV_NONE && !(dk == TAPIR_KV_VALUE && sk == TAPIR_KV_VALUE))
		return kv_key_fail(s, TAPIR_KV_E_ALREADY_PRESENT, dst, "already present");
	if (sk == TAPIR_KV_VALUE) {
		uint8_t *buf;
		uint64_t len;
		rc = view_get(x, src, 0, &buf, &len);
		if (rc)
			return rc;
		rc = stage_value(x, dst, buf, len);
		if (rc) {
			free(buf);
			return rc;
		}
	} else {
		struct kv_node *d = ov_path(x, dst, dst->n);
		if (!d)
			return kv_fail(s, TAPIR_KV_E_NOMEM, "out of memory");
		d->flags |= KV_NODE_OPAQUE;
		rc = copy_tree(x, (struct tapir_kv_key *)src, (struct tapir_kv_key *)dst, 0);
		if (rc)
			return rc;
	}
	return txn_remove(s, src);
}

static void txn_close(struct tapir_kv_store *s)
{
	kv_tree_free(&T(s)->ov);
	free(s);
}

static const struct tapir_kv_ops txn_ops = {
	.name = "txn",
	.close = txn_close,
	.exists = txn_exists,
	.size = txn_size,
	.read = txn_read,
	.list = txn_list,
	.last_modified = txn_last_modified,
	.set = txn_set,
	.set_partial = txn_set_partial,
	.remove = txn_remove,
	.rename = txn_rename,
	.commit = NULL,
};

struct tapir_kv_store *kv_txn_new(struct tapir_kv_store *base)
{
	struct kv_txn *x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	x->s.ops = &txn_ops;
	x->s.writable = true;
	x->base = base;
	kv_tree_init(&x->ov);
	return &x->s;
}

struct oplist {
	struct tapir_kv_op *v;
	size_t n, cap;
};

static int push(struct oplist *l, enum tapir_kv_op_type type, const struct tapir_kv_key *k,
		const struct kv_node *node)
{
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 16;
		struct tapir_kv_op *v = realloc(l->v, nc * sizeof(*v));
		if (!v)
			return -TAPIR_KV_E_NOMEM;
		l->v = v;
		l->cap = nc;
	}
	struct tapir_kv_op *op = &l->v[l->n];
	if (tapir_kv_key_copy(&op->key, k, NULL))
		return -TAPIR_KV_E_NOMEM;
	op->type = type;
	op->data = node ? node->data : NULL;
	op->len = node ? (size_t)node->size : 0;
	l->n++;
	return 0;
}

static int collect(struct kv_node *n, struct tapir_kv_key *k, struct oplist *rm, struct oplist *set)
{
	int rc = 0;
	if (k->n && (n->flags & (KV_NODE_WHITEOUT | KV_NODE_OPAQUE)))
		rc = push(rm, TAPIR_KV_OP_REMOVE, k, NULL);
	if (!rc && n->kind == TAPIR_KV_VALUE)
		rc = push(set, TAPIR_KV_OP_SET, k, n);
	if (rc || n->kind != TAPIR_KV_DICT)
		return rc;
	kv_tree_sort(n);
	for (size_t i = 0; !rc && i < n->nchild; i++) {
		struct tapir_kv_key ck;
		if (tapir_kv_key_copy(&ck, k, n->child[i]->name))
			return -TAPIR_KV_E_NOMEM;
		rc = collect(n->child[i], &ck, rm, set);
		tapir_kv_key_free(&ck);
	}
	return rc;
}

int kv_txn_ops(struct tapir_kv_store *txn, struct tapir_kv_op **ops, size_t *n)
{
	struct oplist rm = { 0 }, set = { 0 };
	struct tapir_kv_key root = { 0, NULL };
	int rc = collect(&T(txn)->ov.root, &root, &rm, &set);
	if (!rc && set.n) {
		struct tapir_kv_op *v = realloc(rm.v, (rm.n + set.n) * sizeof(*v));
		if (!v) {
			rc = -TAPIR_KV_E_NOMEM;
		} else {
			rm.v = v;
			memcpy(rm.v + rm.n, set.v, set.n * sizeof(*v));
			rm.n += set.n;
			free(set.v);
			set.v = NULL;
			set.n = 0;
		}
	}
	if (rc) {
		kv_ops_free(rm.v, rm.n);
		kv_ops_free(set.v, set.n);
		return rc;
	}
	*ops = rm.v;
	*n = rm.n;
	return 0;
}

void kv_ops_free(struct tapir_kv_op *ops, size_t n)
{
	for (size_t i = 0; i < n; i++)
		tapir_kv_key_free(&ops[i].key);
	free(ops);
}

/*
 * kv_tree.c - in-memory tree of keys with a (parent, name) hash index
 */
#include <stdlib.h>
#include <string.h>

#include "kv_internal.h"

static size_t hash_of(const struct kv_node *p, const char *name)
{
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)(uintptr_t)p;
	for (const unsigned char *c = (const unsigned char *)name; *c; c++) {
		h ^= *c;
		h *= 1099511628211ULL;
	}
	h ^= h >> 29;
	return (size_t)h;
}

/**
 * kv_tree_init() - Make an empty tree (a root dictionary)
 * @t: Tree
 */
void kv_tree_init(struct kv_tree *t)
{
	memset(t, 0, sizeof(*t));
	t->root.kind = TAPIR_KV_DICT;
	t->root.name = NULL;
	t->root.sorted = true;
}

static void node_free_rec(struct kv_node *n)
{
	for (size_t i = 0; i < n->nchild; i++)
		node_free_rec(n->child[i]);
	free(n->child);
	if (n->flags & KV_NODE_OWNED)
		free(n->data);
	free(n->name);
	free(n);
}

/**
 * kv_tree_free() - Free every node of a tree
 * @t: Tree (left empty and reusable after kv_tree_init())
 */
void kv_tree_free(struct kv_tree *t)
{
	for (size_t i = 0; i < t->root.nchild; i++)
		node_free_rec(t->root.child[i]);
	free(t->root.child);
	if (t->root.flags & KV_NODE_OWNED)
		free(t->root.data);
	free(t->bucket);
	kv_tree_init(t);
}

/**
 * kv_tree_child() - Find a child by name
 * @t:    Tree
 * @p:    Parent node
 * @name: Child's name
 *
 * Return: the node or NULL
 */
struct kv_node *kv_tree_child(const struct kv_tree *t, const struct kv_node *p, const char *name)
{
	if (!t->nbucket)
		return NULL;
	struct kv_node *n = t->bucket[hash_of(p, name) & (t->nbucket - 1)];
	for (; n; n = n->hnext)
		if (n->parent == p && !strcmp(n->name, name))
			return n;
	return NULL;
}

static int grow_hash(struct kv_tree *t)
{
	size_t nb = t->nbucket ? t->nbucket * 2 : 64;
	struct kv_node **b = calloc(nb, sizeof(*b));
	if (!b)
		return -TAPIR_KV_E_NOMEM;
	for (size_t i = 0; i < t->nbucket; i++) {
		struct kv_node *n = t->bucket[i], *next;
		for (; n; n = next) {
			next = n->hnext;
			size_t h = hash_of(n->parent, n->name) & (nb - 1);
			n->hnext = b[h];
			b[h] = n;
		}
	}
	free(t->bucket);
	t->bucket = b;
	t->nbucket = nb;
	return 0;
}

/**
 * kv_tree_add() - Add a child dictionary node
 * @t:    Tree
 * @p:    Parent (a dictionary)
 * @name: Name, @nlen bytes (no NUL needed)
 * @nlen: Length of @name
 *
 * Return: the new node, or NULL if out of memory
 */
struct kv_node *kv_tree_add(struct kv_tree *t, struct kv_node *p, const char *name, size_t nlen)
{
	if (t->count + 1 > t->nbucket && grow_hash(t))
		return NULL;
	if (p->nchild == p->cap) {
		size_t nc = p->cap ? p->cap * 2 : 4;
		struct kv_node **c = realloc(p->child, nc * sizeof(*c));
		if (!c)
			return NULL;
		p->child = c;
		p->cap = nc;
	}
	struct kv_node *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->name = strndup(name, nlen);
	if (!n->name) {
		free(n);
		return NULL;
	}
	n->kind = TAPIR_KV_DICT;
	n->parent = p;
	n->sorted = true;
	if (p->nchild && p->sorted && strcmp(p->child[p->nchild - 1]->name, n->name) > 0)
		p->sorted = false;
	p->child[p->nchild++] = n;
	size_t h = hash_of(p, n->name) & (t->nbucket - 1);
	n->hnext = t->bucket[h];
	t->bucket[h] = n;
	t->count++;
	return n;
}

static void unhash_rec(struct kv_tree *t, struct kv_node *n)
{
	struct kv_node **pp = &t->bucket[hash_of(n->parent, n->name) & (t->nbucket - 1)];
	for (; *pp; pp = &(*pp)->hnext) {
		if (*pp == n) {
			*pp = n->hnext;
			break;
		}
	}
	t->count--;
	for (size_t i = 0; i < n->nchild; i++)
		unhash_rec(t, n->child[i]);
}

/**
 * kv_tree_clear() - Free all children of a node
 * @t: Tree
 * @n: Node
 */
void kv_tree_clear(struct kv_tree *t, struct kv_node *n)
{
	for (size_t i = 0; i < n->nchild; i++) {
		unhash_rec(t, n->child[i]);
		node_free_rec(n->child[i]);
	}
	n->nchild = 0;
	n->sorted = true;
}

/**
 * kv_tree_del() - Remove a node and its subtree
 * @t: Tree
 * @n: Node (not the root)
 */
void kv_tree_del(struct kv_tree *t, struct kv_node *n)
{
	struct kv_node *p = n->parent;
	for (size_t i = 0; i < p->nchild; i++) {
		if (p->child[i] == n) {
			memmove(&p->child[i], &p->child[i + 1], (p->nchild - i - 1) * sizeof(n));
			p->nchild--;
			break;
		}
	}
	unhash_rec(t, n);
	node_free_rec(n);
}

static int cmp_node(const void *a, const void *b)
{
	return strcmp((*(struct kv_node *const *)a)->name, (*(struct kv_node *const *)b)->name);
}

/**
 * kv_tree_sort() - Sort a node's children by name
 * @n: Node
 */
void kv_tree_sort(struct kv_node *n)
{
	if (!n->sorted) {
		qsort(n->child, n->nchild, sizeof(*n->child), cmp_node);
		n->sorted = true;
	}
}

/**
 * kv_tree_lookup() - Find the node of a key
 * @t:       Tree
 * @k:       Key
 * @blocked: Set to true if a value sits on a proper prefix of @k (may be NULL)
 *
 * Return: node or NULL
 */
struct kv_node *kv_tree_lookup(const struct kv_tree *t, const struct tapir_kv_key *k, bool *blocked)
{
	const struct kv_node *n = &t->root;
	if (blocked)
		*blocked = false;
	for (size_t i = 0; i < k->n; i++) {
		if (n->kind != TAPIR_KV_DICT) {
			if (blocked)
				*blocked = true;
			return NULL;
		}
		n = kv_tree_child(t, n, k->seg[i]);
		if (!n)
			return NULL;
	}
	return (struct kv_node *)n;
}

/**
 * kv_tree_list() - Sorted entries of a dictionary node
 * @n:   Node
 * @out: malloc'd entries (caller frees with tapir_kv_entries_free())
 * @cnt: Number of entries
 *
 * Return: 0 or -TAPIR_KV_E_NOMEM
 */
int kv_tree_list(struct kv_node *n, struct tapir_kv_entry **out, size_t *cnt)
{
	kv_tree_sort(n);
	struct tapir_kv_entry *e = calloc(n->nchild ? n->nchild : 1, sizeof(*e));
	if (!e)
		return -TAPIR_KV_E_NOMEM;
	size_t j = 0;
	for (size_t i = 0; i < n->nchild; i++) {
		if (n->child[i]->kind == TAPIR_KV_NONE)
			continue;
		e[j].name = strdup(n->child[i]->name);
		if (!e[j].name) {
			tapir_kv_entries_free(e, j);
			return -TAPIR_KV_E_NOMEM;
		}
		e[j].kind = n->child[i]->kind;
		j++;
	}
	*out = e;
	*cnt = j;
	return 0;
}

static int clone_rec(struct kv_tree *t, struct kv_node *dst, const struct kv_node *src)
{
	for (size_t i = 0; i < src->nchild; i++) {
		const struct kv_node *c = src->child[i];
		struct kv_node *d = kv_tree_add(t, dst, c->name, strlen(c->name));
		if (!d)
			return -TAPIR_KV_E_NOMEM;
		d->kind = c->kind;
		d->flags = c->flags;
		d->size = c->size;
		d->off = c->off;
		d->hdr_off = c->hdr_off;
		d->seq = c->seq;
		d->mtime = c->mtime;
		if (c->flags & KV_NODE_OWNED) {
			d->flags &= ~KV_NODE_OWNED;
			d->data = malloc(c->size ? c->size : 1);
			if (!d->data)
				return -TAPIR_KV_E_NOMEM;
			d->flags |= KV_NODE_OWNED;
			if (c->size)
				memcpy(d->data, c->data, c->size);
		} else {
			d->data = c->data;
		}
		int rc = clone_rec(t, d, c);
		if (rc)
			return rc;
	}
	return 0;
}

/**
 * kv_tree_clone() - Deep copy a tree
 * @dst: Initialised, empty tree
 * @src: Tree to copy
 *
 * Return: 0 or -TAPIR_KV_E_NOMEM (then @dst holds a partial copy to free)
 */
int kv_tree_clone(struct kv_tree *dst, const struct kv_tree *src)
{
	dst->root.mtime = src->root.mtime;
	return clone_rec(dst, &dst->root, &src->root);
}

/**
 * kv_tree_move() - Re-link a node (with its subtree) under a new parent and name
 * @t:    Tree
 * @n:    Node (not the root, not an ancestor of @p)
 * @p:    New parent dictionary, without a child named @name
 * @name: New name
 *
 * Children keep their parent pointer, so only @n is re-hashed.
 *
 * Return: 0 or -TAPIR_KV_E_NOMEM (then nothing changed)
 */
int kv_tree_move(struct kv_tree *t, struct kv_node *n, struct kv_node *p, const char *name)
{
	char *nn = strdup(name);
	if (!nn)
		return -TAPIR_KV_E_NOMEM;
	if (p->nchild == p->cap) {
		size_t nc = p->cap ? p->cap * 2 : 4;
		struct kv_node **c = realloc(p->child, nc * sizeof(*c));
		if (!c) {
			free(nn);
			return -TAPIR_KV_E_NOMEM;
		}
		p->child = c;
		p->cap = nc;
	}
	struct kv_node *op = n->parent;
	for (size_t i = 0; i < op->nchild; i++) {
		if (op->child[i] == n) {
			memmove(&op->child[i], &op->child[i + 1], (op->nchild - i - 1) * sizeof(n));
			op->nchild--;
			break;
		}
	}
	struct kv_node **pp = &t->bucket[hash_of(n->parent, n->name) & (t->nbucket - 1)];
	for (; *pp; pp = &(*pp)->hnext) {
		if (*pp == n) {
			*pp = n->hnext;
			break;
		}
	}
	free(n->name);
	n->name = nn;
	n->parent = p;
	if (p->nchild && strcmp(p->child[p->nchild - 1]->name, nn) > 0)
		p->sorted = false;
	p->child[p->nchild++] = n;
	size_t h = hash_of(p, nn) & (t->nbucket - 1);
	n->hnext = t->bucket[h];
	t->bucket[h] = n;
	return 0;
}

static void rehash_rec(struct kv_tree *t, struct kv_node *n)
{
	for (size_t i = 0; i < n->nchild; i++) {
		struct kv_node *c = n->child[i];
		c->parent = n;
		size_t h = hash_of(n, c->name) & (t->nbucket - 1);
		c->hnext = t->bucket[h];
		t->bucket[h] = c;
		rehash_rec(t, c);
	}
}

/**
 * kv_tree_relocated() - Fix the tree after its struct was copied to a new address
 * @t: Tree at its new address
 */
void kv_tree_relocated(struct kv_tree *t)
{
	if (!t->nbucket)
		return;
	memset(t->bucket, 0, t->nbucket * sizeof(*t->bucket));
	rehash_rec(t, &t->root);
}

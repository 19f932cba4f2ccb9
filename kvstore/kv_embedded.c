/*
 * kv_embedded.c - read-only stores compiled into the program (embedded:NAME)
 *
 * kv-embed (kv_embed.c) turns a directory into a C file that defines a
 * struct tapir_kv_embedded_fs and puts a pointer to it in the "kv_embedded" linker
 * section.  The linker gathers those pointers between __start_kv_embedded and
 * __stop_kv_embedded (GNU ld, gold, lld on ELF), so linking the generated
 * file is the registration: no constructor, no mutable global.  The symbols
 * are weak, so a program without embedded stores links too.
 *
 * Opening builds a kv_tree whose values point at the compiled-in bytes (not
 * copied).  Every entry has the fs's fixed mtime.  Only files are embedded,
 * so an empty directory does not appear.
 */
#include <stdlib.h>
#include <string.h>

#include "kv_internal.h"

extern const struct tapir_kv_embedded_fs *const __start_kv_embedded[] __attribute__((weak));
extern const struct tapir_kv_embedded_fs *const __stop_kv_embedded[] __attribute__((weak));

struct kv_emb {
	struct tapir_kv_store s;
	struct kv_tree t;
};

static struct kv_emb *E(struct tapir_kv_store *s)
{
	return (struct kv_emb *)s;
}

const struct tapir_kv_embedded_fs *tapir_kv_embedded_find(const char *name)
{
	if (!__start_kv_embedded || !__stop_kv_embedded || !name)
		return NULL;
	for (const struct tapir_kv_embedded_fs *const *p = __start_kv_embedded;
	     p < __stop_kv_embedded; p++)
		if (*p && (*p)->name && !strcmp((*p)->name, name))
			return *p;
	return NULL;
}

static int emb_exists(struct tapir_kv_store *s, const struct tapir_kv_key *k,
		      enum tapir_kv_kind *kind)
{
	struct kv_node *n = kv_tree_lookup(&E(s)->t, k, NULL);
	*kind = n ? n->kind : TAPIR_KV_NONE;
	return 0;
}

static int emb_size(struct tapir_kv_store *s, const struct tapir_kv_key *k, uint64_t *size)
{
	struct kv_node *n = NULL;
	int rc = kv_tree_find(s, &E(s)->t, k, TAPIR_KV_VALUE, &n);
	if (!rc)
		*size = n->size;
	return rc;
}

static int emb_read(struct tapir_kv_store *s, const struct tapir_kv_key *k, uint64_t off, void *buf,
		    size_t len, size_t *got)
{
	struct kv_node *n = NULL;
	int rc = kv_tree_find(s, &E(s)->t, k, TAPIR_KV_VALUE, &n);
	if (rc)
		return rc;
	*got = 0;
	if (off < n->size) {
		*got = n->size - off < len ? (size_t)(n->size - off) : len;
		memcpy(buf, n->data + off, *got);
	}
	return 0;
}

static int emb_list(struct tapir_kv_store *s, const struct tapir_kv_key *k,
		    struct tapir_kv_entry **out, size_t *cnt)
{
	struct kv_node *n = NULL;
	int rc = kv_tree_find(s, &E(s)->t, k, TAPIR_KV_DICT, &n);
	if (rc)
		return rc;
	return kv_tree_list(n, out, cnt) ? kv_fail(s, TAPIR_KV_E_NOMEM, "out of memory") : 0;
}

static int emb_last_modified(struct tapir_kv_store *s, const struct tapir_kv_key *k,
			     struct timespec *t)
{
	struct kv_node *n = NULL;
	int rc = kv_tree_find(s, &E(s)->t, k, TAPIR_KV_NONE, &n);
	if (!rc)
		*t = n->mtime;
	return rc;
}

static void emb_close(struct tapir_kv_store *s)
{
	kv_tree_free(&E(s)->t);
	free(s);
}

static const struct tapir_kv_ops emb_ops = {
	.name = "embedded",
	.close = emb_close,
	.exists = emb_exists,
	.size = emb_size,
	.read = emb_read,
	.list = emb_list,
	.last_modified = emb_last_modified,
};

int tapir_kv_embedded_open(const struct tapir_kv_embedded_fs *fs, struct tapir_kv_store **out,
			   char *err, size_t errlen)
{
	*out = NULL;
	struct kv_emb *e = calloc(1, sizeof(*e));
	if (!e)
		return kv_errbuf(err, errlen, TAPIR_KV_E_NOMEM, "out of memory");
	e->s.ops = &emb_ops;
	kv_tree_init(&e->t);
	struct timespec mt = { (time_t)fs->mtime, 0 };
	e->t.root.mtime = mt;
	for (size_t i = 0; i < fs->n_files; i++) {
		struct tapir_kv_key k;
		const struct tapir_kv_embedded_file *f = &fs->files[i];
		int rc = tapir_kv_key_parse(f->path, &k);
		if (rc || !k.n) {
			if (!rc)
				tapir_kv_key_free(&k);
			emb_close(&e->s);
			return kv_errbuf(err, errlen, TAPIR_KV_E_INVALID, "embedded:%s: bad path '%s'",
					 fs->name, f->path);
		}
		struct kv_node *n = &e->t.root;
		for (size_t j = 0; n && j < k.n; j++) {
			struct kv_node *c = kv_tree_child(&e->t, n, k.seg[j]);
			if (c && (c->kind == TAPIR_KV_VALUE) != (j + 1 == k.n))
				c = NULL, n = NULL;   /* a file and a directory of one name */
			else if (!c && !(c = kv_tree_add(&e->t, n, k.seg[j], strlen(k.seg[j]))))
				n = NULL;
			else
				n = c;
			if (n)
				n->mtime = mt;
		}
		tapir_kv_key_free(&k);
		if (!n) {
			emb_close(&e->s);
			return kv_errbuf(err, errlen, TAPIR_KV_E_INVALID, "embedded:%s: cannot add '%s'",
					 fs->name, f->path);
		}
		n->kind = TAPIR_KV_VALUE;
		n->data = (uint8_t *)(uintptr_t)f->data;
		n->size = f->len;
	}
	*out = &e->s;
	return 0;
}

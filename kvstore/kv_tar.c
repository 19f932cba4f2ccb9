/*
 * kv_tar.c - the tar store (tar:/path/file.tar), read and append
 *
 * Theory of operation
 * -------------------
 * Opening walks every header once with tar_scan() (tar_format.c, which
 * holds the header parser: formats, limits, checks, the end of the archive)
 * and builds an index (kv_tree) of the members it reports: a value records
 * the offset and size of its data, so get_partial is one pread at the right
 * place.  The archive is read through tar_format's source, a file descriptor
 * or a memory buffer (tapir_kv_tar_open_buffer, used by the fuzzer).
 *
 * Regular files are values, directories dictionaries; parent dictionaries are
 * implied by names.  Members the parser skips (links, devices, fifos, sparse
 * members, volume labels, unknown types) are not visible.  Names are
 * normalised (empty and "." segments dropped); an absolute name or a ".."
 * segment makes the open fail.  A later member with the same name shadows the
 * earlier one (as tar -x would leave it); a later "a/b" turns an earlier value
 * "a" into a dictionary, and a later value "a" replaces an earlier dictionary
 * "a".  Dictionaries get the newest mtime of their entries.
 *
 * Limits: those of the parser (tar_format.c: names at most TAR_NAME_MAX
 * bytes), names of at most TAR_DEPTH_MAX (256) segments, and an index memory
 * budget per archive, tar_index_budget(): 16 MiB plus 16 bytes per archive
 * byte.  Every node the index creates is charged (its struct, its name, its
 * child array, its hash bucket, malloc's overhead); nodes freed when a later
 * member shadows a dictionary are not given back, so the budget also bounds
 * the work of an archive that builds and drops trees.  An honest archive
 * needs well under 1 byte of index per byte (a node costs ~240 bytes, a
 * member at least 512); a crafted one packing 128 new segments in every
 * 512-byte header would need ~60 times its size.  Over any bound the open
 * fails with TAPIR_KV_E_STORAGE and a message naming the member.  Keys written by
 * set and batch obey the same name and depth limits (TAPIR_KV_E_INVALID), and a
 * set or batch whose nodes would take the index over the budget of the grown
 * archive is refused (TAPIR_KV_E_STORAGE), so an archive this store writes always
 * opens again.
 *
 * End of archive: the first all-zero block (E).  A header with a bad
 * checksum or a member running past the end of the file is an error for a
 * read-only store; for a writable one it is the torn tail of an interrupted
 * append: E is set there and the tail is overwritten with end-of-archive
 * blocks at open.
 *
 * Writing is append-only.  A set (or a batch of sets) is written at E as new
 * members: every block except the very first header block is written, then
 * two zero blocks and zero padding to a multiple of 10240 bytes (GNU tar's
 * record), then fsync; then the first header block (one 512-byte write) and
 * fsync again.  Until that block lands, the block at E is still zero and the
 * archive ends where it did: a crash leaves the old archive or the new one,
 * for GNU tar and for us.  New members are ustar, with a pax header when the
 * name, size or mtime does not fit (as GNU tar --format=pax).
 *
 * remove is possible only for the last member, when it does not shadow an
 * earlier one: its first header block is zeroed (atomic) and the file cut.
 * rename is possible for the same member: its data is read into memory, the
 * member removed and re-appended under the new name; a crash between the two
 * steps loses it (rename on tar is not crash-atomic).  Everything else
 * answers -TAPIR_KV_E_APPEND_ONLY, as do batches that remove existing keys.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kv_internal.h"
#include "tar_format.h"

#define KV_NODE_EXPLICIT 0x8  /* dictionary that has its own member */

struct kv_tar {
	struct tapir_kv_store s;
	struct tar_source src;
	struct kv_tree t;
	char *path;
	uint64_t end;          /* E: offset of the end-of-archive blocks */
	uint32_t seq;          /* members indexed */
	struct kv_node *last;  /* last visible member ending at E, if removable */
	uint64_t mem;          /* index memory charged (node_cost()), for the budget */
};

static struct kv_tar *TT(struct tapir_kv_store *s)
{
	return (struct kv_tar *)s;
}

struct ictx {
	struct kv_tar *x;
	char *err;
	size_t errlen;
	bool torn;             /* stopped at a torn tail (writable) */
	uint64_t mem;          /* index memory charged so far */
	uint64_t budget;       /* tar_index_budget() of the archive */
};

/*
 * What one index node costs: its struct and name, its own child array (4
 * slots at first), its hash bucket (doubled on growth) and malloc's chunk
 * headers (three chunks).
 */
static uint64_t node_cost(const char *name)
{
	return sizeof(struct kv_node) + strlen(name) + 1 + 12 * sizeof(void *);
}

/* Put the message in the caller's buffer.  Return: -@code */
#define ifail(c, code, ...) kv_errbuf((c)->err, (c)->errlen, (code), __VA_ARGS__)

/* Normalise @name into a key.  Return: 0, 1 for the root itself, or -KV_E_*. */
static int name_to_key(struct ictx *c, const char *name, struct tapir_kv_key *k, uint64_t at)
{
	if (name[0] == '/')
		return ifail(c, TAPIR_KV_E_INVALID, "member at offset %llu has an absolute name '%.200s': "
			     "refused", (unsigned long long)at, name);
	k->n = 0;
	k->seg = NULL;
	/* tapir_kv_key_parse refuses "." and "..": split by hand to drop "." and refuse "..". */
	size_t cap = 0;
	const char *p = name;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *e = strchrnul(p, '/');
		size_t l = (size_t)(e - p);
		if (l == 2 && p[0] == '.' && p[1] == '.') {
			tapir_kv_key_free(k);
			return ifail(c, TAPIR_KV_E_INVALID, "member at offset %llu has a '..' in its name "
				     "'%.200s': refused", (unsigned long long)at, name);
		}
		if (!(l == 1 && p[0] == '.')) {
			if (k->n == TAR_DEPTH_MAX) {
				tapir_kv_key_free(k);
				return ifail(c, TAPIR_KV_E_STORAGE, "member at offset %llu: name '%.200s' "
					     "has more than %u segments: refused",
					     (unsigned long long)at, name, TAR_DEPTH_MAX);
			}
			if (k->n == cap) {
				cap = cap ? cap * 2 : 8;
				char **ns = realloc(k->seg, cap * sizeof(*ns));
				if (!ns) {
					tapir_kv_key_free(k);
					return ifail(c, TAPIR_KV_E_NOMEM, "out of memory");
				}
				k->seg = ns;
			}
			if (!(k->seg[k->n] = strndup(p, l))) {
				tapir_kv_key_free(k);
				return ifail(c, TAPIR_KV_E_NOMEM, "out of memory");
			}
			k->n++;
		}
		p = e;
	}
	return k->n ? 0 : 1;
}

/*
 * Insert a member into the index (last one wins).  Return: the node or NULL
 * (ENOMEM); *@shadows tells whether anything existing was replaced.
 */
static struct kv_node *index_insert(struct kv_tree *t, const struct tapir_kv_key *k, bool dir,
				    bool *shadows, uint64_t *mem)
{
	struct kv_node *n = &t->root;
	*shadows = false;
	for (size_t i = 0; i < k->n; i++) {
		struct kv_node *c = kv_tree_child(t, n, k->seg[i]);
		bool lastseg = i + 1 == k->n;
		if (!c) {
			if (mem)
				*mem += node_cost(k->seg[i]);
			c = kv_tree_add(t, n, k->seg[i], strlen(k->seg[i]));
			if (!c)
				return NULL;
			if (lastseg && !dir)
				c->kind = TAPIR_KV_VALUE;
		} else if (lastseg) {
			*shadows = true;
			if (!dir && c->kind == TAPIR_KV_DICT) {
				kv_tree_clear(t, c);
				c->kind = TAPIR_KV_VALUE;
				c->flags = 0;
			} else if (dir && c->kind == TAPIR_KV_VALUE) {
				c->kind = TAPIR_KV_DICT;
			}
		} else if (c->kind == TAPIR_KV_VALUE) {
			*shadows = true;
			c->kind = TAPIR_KV_DICT;
		}
		n = c;
	}
	return n;
}

static void dict_times(struct kv_node *n)
{
	struct timespec best = { 0, 0 };
	for (size_t i = 0; i < n->nchild; i++) {
		struct kv_node *c = n->child[i];
		if (c->kind == TAPIR_KV_DICT)
			dict_times(c);
		if (c->mtime.tv_sec > best.tv_sec ||
		    (c->mtime.tv_sec == best.tv_sec && c->mtime.tv_nsec > best.tv_nsec))
			best = c->mtime;
	}
	n->mtime = best;
}

/* Return: what the nodes index_insert() would create for @k cost (node_cost()). */
static uint64_t new_nodes_cost(struct kv_tree *t, const struct tapir_kv_key *k)
{
	uint64_t cost = 0;
	struct kv_node *at = &t->root;
	for (size_t i = 0; i < k->n && at; i++) {
		struct kv_node *ch = at->kind == TAPIR_KV_DICT ? kv_tree_child(t, at, k->seg[i]) : NULL;
		if (!ch) {
			for (; i < k->n; i++)
				cost += node_cost(k->seg[i]);
		}
		at = ch;
	}
	return cost;
}

/* Add one scanned member to the index (see the theory).  Return: 0 or -KV_E_*. */
static int index_member(void *ctx, const struct tar_member *m)
{
	struct ictx *c = ctx;
	struct kv_tar *x = c->x;
	if (m->kind == TAR_MEMBER_SKIPPED) {
		x->last = NULL;
		return 0;
	}
	bool is_dir = m->kind == TAR_MEMBER_DIR;
	struct tapir_kv_key k;
	int rc = name_to_key(c, m->name, &k, m->at);
	if (rc < 0)
		return rc;
	if (rc == 1) {
		x->last = NULL;
		return 0;
	}
	/* Charge the nodes this member would add before adding them. */
	uint64_t cost = new_nodes_cost(&x->t, &k);
	if (cost > c->budget - c->mem) {
		tapir_kv_key_free(&k);
		return ifail(c, TAPIR_KV_E_STORAGE, "member at offset %llu: '%.200s': the archive's "
			     "index would exceed %llu bytes (%u MiB + %u per archive byte): refused",
			     (unsigned long long)m->at, m->name, (unsigned long long)c->budget,
			     TAR_INDEX_FIXED >> 20, TAR_INDEX_PER_BYTE);
	}
	bool shadows;
	struct kv_node *n = index_insert(&x->t, &k, is_dir, &shadows, &c->mem);
	tapir_kv_key_free(&k);
	if (!n)
		return ifail(c, TAPIR_KV_E_NOMEM, "out of memory");
	n->mtime = m->mtime;
	if (is_dir) {
		n->flags |= KV_NODE_EXPLICIT;
	} else {
		n->off = m->data_off;
		n->size = m->size;
	}
	n->hdr_off = m->hdr_off;
	n->seq = x->seq++;
	x->last = shadows ? NULL : n;
	return 0;
}

/* Build the index.  Return: 0 or -KV_E_*, message in the context. */
static int tar_index(struct ictx *c, bool writable)
{
	struct kv_tar *x = c->x;
	struct tar_scan sc = {
		.src = &x->src, .writable = writable, .member = index_member, .ctx = c,
		.err = c->err, .errlen = c->errlen,
	};
	x->last = NULL;
	c->mem = 0;
	c->budget = tar_index_budget(x->src.len);
	int rc = tar_scan(&sc);
	if (rc)
		return rc;
	c->torn = sc.torn;
	x->end = sc.end;
	x->mem = c->mem;
	if (x->last && x->last->kind == TAPIR_KV_DICT && x->last->nchild)
		x->last = NULL;
	dict_times(&x->t.root);
	return 0;
}

static int tar_exists(struct tapir_kv_store *s, const struct tapir_kv_key *k,
		      enum tapir_kv_kind *kind)
{
	struct kv_node *n = kv_tree_lookup(&TT(s)->t, k, NULL);
	*kind = n ? n->kind : TAPIR_KV_NONE;
	return 0;
}

static int tar_size(struct tapir_kv_store *s, const struct tapir_kv_key *k, uint64_t *size)
{
	struct kv_node *n = NULL;
	int rc = kv_tree_find(s, &TT(s)->t, k, TAPIR_KV_VALUE, &n);
	if (!rc)
		*size = n->size;
	return rc;
}

static int tar_read(struct tapir_kv_store *s, const struct tapir_kv_key *k, uint64_t off, void *buf,
		    size_t len, size_t *got)
{
	struct kv_node *n = NULL;
	int rc = kv_tree_find(s, &TT(s)->t, k, TAPIR_KV_VALUE, &n);
	if (rc)
		return rc;
	*got = 0;
	if (off >= n->size)
		return 0;
	size_t want = n->size - off < len ? (size_t)(n->size - off) : len;
	if (tar_source_read(&TT(s)->src, n->off + off, buf, want))
		return kv_key_fail(s, TAPIR_KV_E_STORAGE, k, "read error (archive truncated?)");
	*got = want;
	return 0;
}

static int tar_list(struct tapir_kv_store *s, const struct tapir_kv_key *k,
		    struct tapir_kv_entry **out, size_t *cnt)
{
	struct kv_node *n = NULL;
	int rc = kv_tree_find(s, &TT(s)->t, k, TAPIR_KV_DICT, &n);
	if (rc)
		return rc;
	return kv_tree_list(n, out, cnt) ? kv_fail(s, TAPIR_KV_E_NOMEM, "out of memory") : 0;
}

static int tar_last_modified(struct tapir_kv_store *s, const struct tapir_kv_key *k,
			     struct timespec *t)
{
	struct kv_node *n = NULL;
	int rc = kv_tree_find(s, &TT(s)->t, k, TAPIR_KV_NONE, &n);
	if (!rc)
		*t = n->mtime;
	return rc;
}

static int sync_fd(int fd)
{
	while (fsync(fd))
		if (errno != EINTR)
			return -errno;
	return 0;
}

/* Write end-of-archive blocks at @at and cut the file after its record.  Return: 0 or -errno. */
static int write_end(struct kv_tar *x, uint64_t at)
{
	static const uint8_t zero[2 * TAR_RECORD];   /* > 2 blocks + a record */
	uint64_t total = (at + 2 * TAR_BLOCK + TAR_RECORD - 1) / TAR_RECORD * TAR_RECORD;
	int rc = kv_pwrite_all(x->src.fd, zero, (size_t)(total - at), at);
	if (!rc && ftruncate(x->src.fd, (off_t)total))
		rc = -errno;
	if (!rc) {
		struct stat st;
		x->src.len = fstat(x->src.fd, &st) ? total : (uint64_t)st.st_size;
	}
	return rc;
}

static int wfail(struct tapir_kv_store *s, int e, const char *what)
{
	return kv_fail(s, kv_errno_code(e), "%s: %s: %s", TT(s)->path, what, strerror(e));
}

/* Check that @k can be set (parents not values, @k not a dictionary). */
static int check_set(struct tapir_kv_store *s, const struct tapir_kv_key *k)
{
	size_t len = 0;
	for (size_t i = 0; i < k->n; i++)
		len += strlen(k->seg[i]) + 1;
	if (k->n > TAR_DEPTH_MAX || len - 1 > TAR_NAME_MAX)
		return kv_key_fail(s, TAPIR_KV_E_INVALID, k, "longer than a tar member name may be "
				   "(4096 bytes, 256 segments)");
	bool blocked;
	struct kv_node *n = kv_tree_lookup(&TT(s)->t, k, &blocked);
	if (blocked)
		return kv_key_fail(s, TAPIR_KV_E_DICT_EXPECTED, k, "a parent is a value");
	if (n && n->kind == TAPIR_KV_DICT)
		return kv_key_fail(s, TAPIR_KV_E_VALUE_EXPECTED, k, "is a dictionary");
	return 0;
}

/* Append SET operations as new members, atomically (see the theory).  Return: 0 or -KV_E_*. */
static int append(struct tapir_kv_store *s, const struct tapir_kv_op *ops, size_t n)
{
	struct kv_tar *x = TT(s);
	int fd = x->src.fd;
	uint8_t first[TAR_BLOCK];
	uint64_t pos = x->end;
	struct timespec now = kv_now();
	uint64_t *hdr = calloc(n ? n : 1, sizeof(*hdr)), *dat = calloc(n ? n : 1, sizeof(*dat));
	int rc = 0;
	if (!hdr || !dat) {
		free(hdr);
		free(dat);
		return kv_fail(s, TAPIR_KV_E_NOMEM, "out of memory");
	}
	/* What would not open again is not written: the index of the grown
	 * archive must stay within its budget (shared prefixes in a batch are
	 * charged once per op: an overestimate). */
	uint64_t cost = 0, grow = 2 * TAR_BLOCK;
	for (size_t i = 0; i < n; i++) {
		cost += new_nodes_cost(&x->t, &ops[i].key);
		grow += TAR_BLOCK + tar_pad(ops[i].len);
	}
	if (x->mem + cost > tar_index_budget(x->end + grow)) {
		free(hdr);
		free(dat);
		return kv_fail(s, TAPIR_KV_E_STORAGE, "%s: the archive's index would exceed its budget "
			       "(%u MiB + %u per archive byte) and could not be opened again",
			       x->path, TAR_INDEX_FIXED >> 20, TAR_INDEX_PER_BYTE);
	}
	for (size_t i = 0; !rc && i < n; i++) {
		char *ks = tapir_kv_key_to_string(&ops[i].key);
		size_t cap = ks ? strlen(ks) + 4 * TAR_BLOCK : 0;
		uint8_t *h = ks ? malloc(cap) : NULL;
		size_t hl = h ? tar_header_build(h, cap, ks + 1, ops[i].len, now.tv_sec) : 0;
		free(ks);
		if (!hl) {
			free(h);
			rc = kv_fail(s, TAPIR_KV_E_NOMEM, "out of memory");
			break;
		}
		hdr[i] = pos;
		if (i == 0) {
			memcpy(first, h, TAR_BLOCK);
			rc = kv_pwrite_all(fd, h + TAR_BLOCK, hl - TAR_BLOCK, pos + TAR_BLOCK);
		} else {
			rc = kv_pwrite_all(fd, h, hl, pos);
		}
		free(h);
		pos += hl;
		dat[i] = pos;
		if (!rc)
			rc = kv_pwrite_all(fd, ops[i].data, ops[i].len, pos);
		pos += tar_pad(ops[i].len);
		if (rc)
			rc = wfail(s, -rc, "write");
	}
	if (!rc && (rc = write_end(x, pos)))
		rc = wfail(s, -rc, "write");
	if (!rc && (rc = sync_fd(fd)))
		rc = wfail(s, -rc, "fsync");
	/* The commit point: the first header block replaces the zero block at E. */
	if (!rc && (rc = kv_pwrite_all(fd, first, TAR_BLOCK, x->end)))
		rc = wfail(s, -rc, "write");
	if (!rc && (rc = sync_fd(fd)))
		rc = wfail(s, -rc, "fsync");
	if (rc) {
		/* Nothing visible was written: restore the end marker at E. */
		write_end(x, x->end);
		free(hdr);
		free(dat);
		return rc;
	}
	for (size_t i = 0; i < n; i++) {
		bool shadows;
		struct kv_node *node = index_insert(&x->t, &ops[i].key, false, &shadows, &x->mem);
		if (!node) {
			/* The archive is right; the index is not: make the store unusable. */
			rc = kv_fail(s, TAPIR_KV_E_NOMEM, "out of memory updating the index; reopen");
			break;
		}
		node->off = dat[i];
		node->size = ops[i].len;
		node->hdr_off = hdr[i];
		node->mtime.tv_sec = now.tv_sec;
		node->mtime.tv_nsec = 0;
		node->seq = x->seq++;
		x->last = shadows ? NULL : node;
		for (struct kv_node *p = node->parent; p; p = p->parent)
			p->mtime = node->mtime;
	}
	x->end = pos;
	free(hdr);
	free(dat);
	return rc;
}

static int tar_set(struct tapir_kv_store *s, const struct tapir_kv_key *k, const void *data,
		   size_t len)
{
	int rc = check_set(s, k);
	if (rc)
		return rc;
	struct tapir_kv_op op = { TAPIR_KV_OP_SET, *k, data, len };
	return append(s, &op, 1);
}

static int tar_set_partial(struct tapir_kv_store *s, const struct tapir_kv_key *k, uint64_t off,
			   const void *data, size_t len)
{
	int rc = check_set(s, k);
	if (rc)
		return rc;
	struct kv_node *n = kv_tree_lookup(&TT(s)->t, k, NULL);
	uint64_t old = n ? n->size : 0;
	uint64_t size = off + len > old ? off + len : old;
	if (size >= SIZE_MAX)
		return kv_fail(s, TAPIR_KV_E_NOMEM, "value too large");
	uint8_t *buf = calloc(1, size ? (size_t)size : 1);
	if (!buf)
		return kv_fail(s, TAPIR_KV_E_NOMEM, "out of memory");
	if (old && tar_source_read(&TT(s)->src, n->off, buf, (size_t)old)) {
		free(buf);
		return kv_key_fail(s, TAPIR_KV_E_STORAGE, k, "read error");
	}
	if (len)
		memcpy(buf + off, data, len);
	struct tapir_kv_op op = { TAPIR_KV_OP_SET, *k, buf, (size_t)size };
	rc = append(s, &op, 1);
	free(buf);
	return rc;
}

/* Return: true if @n is the last member and removing it reveals nothing older. */
static bool removable(struct kv_tar *x, struct kv_node *n)
{
	return x->last == n && (n->kind == TAPIR_KV_VALUE || n->nchild == 0);
}

static int tar_remove(struct tapir_kv_store *s, const struct tapir_kv_key *k)
{
	struct kv_tar *x = TT(s);
	struct kv_node *n = NULL;
	int rc = kv_tree_find(s, &TT(s)->t, k, TAPIR_KV_NONE, &n);
	if (rc)
		return rc;
	if (!removable(x, n))
		return kv_key_fail(s, TAPIR_KV_E_APPEND_ONLY, k, "only the last member of a tar archive can "
			       "be removed");
	static const uint8_t zero[TAR_BLOCK];
	uint64_t at = n->hdr_off;
	if ((rc = kv_pwrite_all(x->src.fd, zero, TAR_BLOCK, at)) || (rc = sync_fd(x->src.fd)) ||
	    (rc = write_end(x, at)) || (rc = sync_fd(x->src.fd)))
		return wfail(s, -rc, "remove");
	struct kv_node *p = n->parent;
	kv_tree_del(&x->t, n);
	/* Prune dictionaries that existed only through this member. */
	while (p != &x->t.root && !p->nchild && !(p->flags & KV_NODE_EXPLICIT)) {
		struct kv_node *pp = p->parent;
		kv_tree_del(&x->t, p);
		p = pp;
	}
	x->end = at;
	x->last = NULL;
	return 0;
}

static int tar_rename(struct tapir_kv_store *s, const struct tapir_kv_key *src,
		      const struct tapir_kv_key *dst)
{
	struct kv_tar *x = TT(s);
	struct kv_node *n = NULL;
	int rc = kv_tree_find(s, &TT(s)->t, src, TAPIR_KV_NONE, &n);
	if (rc)
		return rc;
	bool blocked;
	struct kv_node *d = kv_tree_lookup(&x->t, dst, &blocked);
	if (blocked)
		return kv_key_fail(s, TAPIR_KV_E_DICT_EXPECTED, dst, "a parent is a value");
	if (d && !(d->kind == TAPIR_KV_VALUE && n->kind == TAPIR_KV_VALUE))
		return kv_key_fail(s, TAPIR_KV_E_ALREADY_PRESENT, dst, "already present");
	if (n->kind != TAPIR_KV_VALUE || !removable(x, n))
		return kv_key_fail(s, TAPIR_KV_E_APPEND_ONLY, src, "only the last member of a tar archive "
			       "can be renamed");
	if (n->size >= SIZE_MAX)
		return kv_fail(s, TAPIR_KV_E_NOMEM, "value too large");
	uint8_t *buf = malloc(n->size ? (size_t)n->size : 1);
	size_t len = (size_t)n->size;
	if (!buf)
		return kv_fail(s, TAPIR_KV_E_NOMEM, "out of memory");
	if (tar_source_read(&x->src, n->off, buf, len)) {
		free(buf);
		return kv_key_fail(s, TAPIR_KV_E_STORAGE, src, "read error");
	}
	rc = tar_remove(s, src);
	if (!rc) {
		struct tapir_kv_op op = { TAPIR_KV_OP_SET, *dst, buf, len };
		rc = append(s, &op, 1);
	}
	free(buf);
	return rc;
}

static int tar_commit(struct tapir_kv_store *s, const struct tapir_kv_op *ops, size_t n)
{
	size_t i = 0;
	for (; i < n && ops[i].type == TAPIR_KV_OP_REMOVE; i++) {
		if (kv_tree_lookup(&TT(s)->t, &ops[i].key, NULL))
			return kv_key_fail(s, TAPIR_KV_E_APPEND_ONLY, &ops[i].key, "a batch on a tar "
				       "archive cannot remove existing keys");
	}
	for (size_t j = i; j < n; j++) {
		int rc = check_set(s, &ops[j].key);
		if (rc)
			return rc;
	}
	return i < n ? append(s, ops + i, n - i) : 0;
}

static void tar_close(struct tapir_kv_store *s)
{
	struct kv_tar *x = TT(s);
	if (x->src.fd >= 0)
		close(x->src.fd);
	kv_tree_free(&x->t);
	free(x->path);
	free(x);
}

static const struct tapir_kv_ops tar_ops_ro = {
	.name = "tar",
	.close = tar_close,
	.exists = tar_exists,
	.size = tar_size,
	.read = tar_read,
	.list = tar_list,
	.last_modified = tar_last_modified,
};

static const struct tapir_kv_ops tar_ops_rw = {
	.name = "tar",
	.close = tar_close,
	.exists = tar_exists,
	.size = tar_size,
	.read = tar_read,
	.list = tar_list,
	.last_modified = tar_last_modified,
	.set = tar_set,
	.set_partial = tar_set_partial,
	.remove = tar_remove,
	.rename = tar_rename,
	.commit = tar_commit,
};

static int tar_new(struct kv_tar **out, const char *path, bool writable)
{
	struct kv_tar *x = calloc(1, sizeof(*x));
	if (!x || !(x->path = strdup(path))) {
		free(x);
		return -TAPIR_KV_E_NOMEM;
	}
	x->s.ops = writable ? &tar_ops_rw : &tar_ops_ro;
	x->s.writable = writable;
	x->src.fd = -1;
	kv_tree_init(&x->t);
	*out = x;
	return 0;
}

int tapir_kv_tar_open_buffer(const uint8_t *buf, size_t len, struct tapir_kv_store **out, char *err,
		       size_t errlen)
{
	struct kv_tar *x;
	*out = NULL;
	if (tar_new(&x, "(buffer)", false))
		return kv_errbuf(err, errlen, TAPIR_KV_E_NOMEM, "out of memory");
	x->src.buf = buf;
	x->src.len = len;
	struct ictx c = { .x = x, .err = err, .errlen = errlen };
	int rc = tar_index(&c, false);
	if (rc) {
		tar_close(&x->s);
		return rc;
	}
	*out = &x->s;
	return 0;
}

int tapir_kv_tar_open(const char *path, bool writable, struct tapir_kv_store **out, char *err,
		      size_t errlen)
{
	struct kv_tar *x;
	*out = NULL;
	if (!path || !*path)
		return kv_errbuf(err, errlen, TAPIR_KV_E_INVALID, "tar: needs a file name");
	if (tar_new(&x, path, writable))
		return kv_errbuf(err, errlen, TAPIR_KV_E_NOMEM, "out of memory");
	x->src.fd = open(path, (writable ? O_RDWR | O_CREAT : O_RDONLY) | O_CLOEXEC, 0644);
	struct stat st;
	if (x->src.fd < 0 || fstat(x->src.fd, &st)) {
		int e = errno;
		tar_close(&x->s);
		return kv_errbuf(err, errlen, kv_errno_code(e), "%s: %s", path, strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		tar_close(&x->s);
		return kv_errbuf(err, errlen, TAPIR_KV_E_INVALID, "%s: not a regular file", path);
	}
	x->src.len = (uint64_t)st.st_size;
	struct ictx c = { .x = x, .err = err, .errlen = errlen };
	int rc = tar_index(&c, writable);
	if (!rc && writable && (c.torn || x->src.len == 0 || x->src.len - x->end < 2 * TAR_BLOCK)) {
		/* New, torn or unterminated archive: write end-of-archive blocks at E. */
		rc = write_end(x, x->end);
		if (!rc)
			rc = sync_fd(x->src.fd);
		if (rc)
			rc = kv_errbuf(err, errlen, kv_errno_code(-rc), "%s: %s", path,
				       strerror(-rc));
	}
	if (rc) {
		tar_close(&x->s);
		return rc;
	}
	*out = &x->s;
	return 0;
}

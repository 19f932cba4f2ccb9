/*
 * kv.c - keys, errors, the checked wrappers around the vtable, digest, batch
 * (the base library: no store type here; kv_open.c is the factory)
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "kv_internal.h"

static const char *const kv_err_names[] = {
	[TAPIR_KV_OK] = "success",
	[TAPIR_KV_E_NOT_FOUND] = "not found",
	[TAPIR_KV_E_VALUE_EXPECTED] = "value expected",
	[TAPIR_KV_E_DICT_EXPECTED] = "dictionary expected",
	[TAPIR_KV_E_ALREADY_PRESENT] = "already present",
	[TAPIR_KV_E_RENAME_PREFIX] = "rename source is a prefix of destination",
	[TAPIR_KV_E_APPEND_ONLY] = "append only",
	[TAPIR_KV_E_NO_SPACE] = "no space",
	[TAPIR_KV_E_STORAGE] = "storage error",
	[TAPIR_KV_E_INVALID] = "invalid argument",
	[TAPIR_KV_E_NOMEM] = "out of memory",
};
static_assert(sizeof(kv_err_names) / sizeof(kv_err_names[0]) == TAPIR_KV_E__COUNT,
	      "kv_err_names covers enum tapir_kv_err");

/**
 * tapir_kv_strerror() - Name of an error code
 * @err: Code, positive or negative
 *
 * Return: static string
 */
const char *tapir_kv_strerror(int err)
{
	if (err < 0)
		err = -err;
	if (err >= TAPIR_KV_E__COUNT)
		return "unknown error";
	return kv_err_names[err];
}

/**
 * kv_fail() - Record a failure on a store
 * @s:    Store
 * @code: enum tapir_kv_err (positive)
 * @fmt:  Message format
 *
 * Return: -@code
 */
int kv_fail(struct tapir_kv_store *s, int code, const char *fmt, ...)
{
	va_list ap;
	s->last_err = code;
	va_start(ap, fmt);
	vsnprintf(s->errmsg, sizeof(s->errmsg), fmt, ap);
	va_end(ap);
	return -code;
}

int kv_key_fail(struct tapir_kv_store *s, int code, const struct tapir_kv_key *k, const char *what)
{
	char *ks = tapir_kv_key_to_string(k);
	int rc = kv_fail(s, code, "%s: %s", ks ? ks : "key", what);
	free(ks);
	return rc;
}

int kv_tree_find(struct tapir_kv_store *s, const struct kv_tree *t, const struct tapir_kv_key *k,
		 enum tapir_kv_kind want, struct kv_node **out)
{
	struct kv_node *n = kv_tree_lookup(t, k, NULL);
	if (!n)
		return kv_key_fail(s, TAPIR_KV_E_NOT_FOUND, k, "not found");
	if (want == TAPIR_KV_VALUE && n->kind != TAPIR_KV_VALUE)
		return kv_key_fail(s, TAPIR_KV_E_VALUE_EXPECTED, k, "is a dictionary");
	if (want == TAPIR_KV_DICT && n->kind != TAPIR_KV_DICT)
		return kv_key_fail(s, TAPIR_KV_E_DICT_EXPECTED, k, "is a value");
	*out = n;
	return 0;
}

/**
 * kv_errbuf() - Write a message to a caller's buffer
 * @err:    Buffer or NULL
 * @errlen: Its size
 * @code:   enum tapir_kv_err (positive)
 * @fmt:    Message format
 *
 * Return: -@code
 */
int kv_errbuf(char *err, size_t errlen, int code, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -code;
}

/**
 * kv_errno_code() - Map errno to a kv_err
 * @e: errno value
 *
 * Return: positive kv_err
 */
int kv_errno_code(int e)
{
	switch (e) {
	case ENOENT:
	case ENOTDIR:
		return TAPIR_KV_E_NOT_FOUND;
	case ENOSPC:
	case EDQUOT:
		return TAPIR_KV_E_NO_SPACE;
	case ENOMEM:
		return TAPIR_KV_E_NOMEM;
	default:
		return TAPIR_KV_E_STORAGE;
	}
}

/* Return: wall-clock time now. */
struct timespec kv_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return t;
}

/**
 * kv_segment_valid() - Check one key segment
 * @name: Segment
 *
 * Return: true if non-empty, without '/', and not "." or ".."
 */
bool kv_segment_valid(const char *name)
{
	if (!name || !*name || strchr(name, '/'))
		return false;
	return strcmp(name, ".") && strcmp(name, "..");
}

int tapir_kv_key_parse(const char *str, struct tapir_kv_key *out)
{
	out->n = 0;
	out->seg = NULL;
	if (!str)
		return -TAPIR_KV_E_INVALID;
	size_t cap = 0;
	const char *p = str;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *e = strchrnul(p, '/');
		size_t len = (size_t)(e - p);
		if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.')) {
			tapir_kv_key_free(out);
			return -TAPIR_KV_E_INVALID;
		}
		if (out->n == cap) {
			cap = cap ? cap * 2 : 4;
			char **ns = realloc(out->seg, cap * sizeof(*ns));
			if (!ns) {
				tapir_kv_key_free(out);
				return -TAPIR_KV_E_NOMEM;
			}
			out->seg = ns;
		}
		out->seg[out->n] = strndup(p, len);
		if (!out->seg[out->n]) {
			tapir_kv_key_free(out);
			return -TAPIR_KV_E_NOMEM;
		}
		out->n++;
		p = e;
	}
	return 0;
}

void tapir_kv_key_free(struct tapir_kv_key *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->seg[i]);
	free(k->seg);
	k->seg = NULL;
	k->n = 0;
}

char *tapir_kv_key_to_string(const struct tapir_kv_key *k)
{
	size_t len = 1;
	for (size_t i = 0; i < k->n; i++)
		len += strlen(k->seg[i]) + 1;
	char *s = malloc(len + 1), *p = s;
	if (!s)
		return NULL;
	if (!k->n)
		*p++ = '/';
	for (size_t i = 0; i < k->n; i++) {
		size_t l = strlen(k->seg[i]);
		*p++ = '/';
		memcpy(p, k->seg[i], l);
		p += l;
	}
	*p = 0;
	return s;
}

bool tapir_kv_key_valid(const struct tapir_kv_key *k)
{
	if (!k || (k->n && !k->seg))
		return false;
	for (size_t i = 0; i < k->n; i++)
		if (!kv_segment_valid(k->seg[i]))
			return false;
	return true;
}

bool tapir_kv_key_is_prefix(const struct tapir_kv_key *prefix, const struct tapir_kv_key *k)
{
	if (prefix->n > k->n)
		return false;
	for (size_t i = 0; i < prefix->n; i++)
		if (strcmp(prefix->seg[i], k->seg[i]))
			return false;
	return true;
}

int tapir_kv_key_copy(struct tapir_kv_key *dst, const struct tapir_kv_key *src, const char *extra)
{
	size_t n = src->n + (extra ? 1 : 0);
	dst->n = 0;
	dst->seg = calloc(n ? n : 1, sizeof(char *));
	if (!dst->seg)
		return -TAPIR_KV_E_NOMEM;
	for (size_t i = 0; i < n; i++) {
		dst->seg[i] = strdup(i < src->n ? src->seg[i] : extra);
		if (!dst->seg[i]) {
			tapir_kv_key_free(dst);
			return -TAPIR_KV_E_NOMEM;
		}
		dst->n++;
	}
	return 0;
}

void tapir_kv_entries_free(struct tapir_kv_entry *e, size_t n)
{
	if (!e)
		return;
	for (size_t i = 0; i < n; i++)
		free(e[i].name);
	free(e);
}

void tapir_kv_close(struct tapir_kv_store *s)
{
	if (!s)
		return;
	if (s->extra_refs)
		s->extra_refs--;
	else
		s->ops->close(s);
}

struct tapir_kv_store *tapir_kv_retain(struct tapir_kv_store *s)
{
	s->extra_refs++;
	return s;
}

const char *tapir_kv_last_error(const struct tapir_kv_store *s)
{
	return s->last_err ? s->errmsg : "";
}

static int check_key(struct tapir_kv_store *s, const struct tapir_kv_key *k)
{
	if (!tapir_kv_key_valid(k))
		return kv_fail(s, TAPIR_KV_E_INVALID, "invalid key");
	return 0;
}

static int check_write(struct tapir_kv_store *s, const struct tapir_kv_key *k)
{
	int rc = check_key(s, k);
	if (rc)
		return rc;
	if (!s->writable || !s->ops->set)
		return kv_fail(s, TAPIR_KV_E_INVALID, "store is read-only");
	if (s->in_batch)
		return kv_fail(s, TAPIR_KV_E_INVALID, "store is in a batch: write through the transaction");
	return 0;
}

int tapir_kv_exists(struct tapir_kv_store *s, const struct tapir_kv_key *k,
		    enum tapir_kv_kind *kind)
{
	int rc = check_key(s, k);
	if (rc)
		return rc;
	return s->ops->exists(s, k, kind);
}

int tapir_kv_size(struct tapir_kv_store *s, const struct tapir_kv_key *k, uint64_t *size)
{
	int rc = check_key(s, k);
	if (rc)
		return rc;
	return s->ops->size(s, k, size);
}

int64_t tapir_kv_read(struct tapir_kv_store *s, const struct tapir_kv_key *k, uint64_t off,
		      void *buf, size_t len)
{
	int rc = check_key(s, k);
	if (rc)
		return rc;
	if (len > INT64_MAX)
		len = INT64_MAX;
	size_t got = 0;
	rc = s->ops->read(s, k, off, buf, len, &got);
	return rc ? rc : (int64_t)got;
}

/* An open value of a store without value_open(): read by key */
struct kv_value_bykey {
	struct tapir_kv_value v;
	struct tapir_kv_key k;
};

int tapir_kv_value_open(struct tapir_kv_store *s, const struct tapir_kv_key *k,
			struct tapir_kv_value **out, struct tapir_kv_stat *st)
{
	struct tapir_kv_stat tmp;
	struct tapir_kv_value *v = NULL;
	*out = NULL;
	if (!st)
		st = &tmp;
	int rc = check_key(s, k);
	if (rc)
		return rc;
	if (s->ops->value_open) {
		rc = s->ops->value_open(s, k, &v, st);
		if (rc)
			return rc;
	} else {
		rc = s->ops->size(s, k, &st->size);
		if (!rc)
			rc = s->ops->last_modified(s, k, &st->mtime);
		if (rc)
			return rc;
		struct kv_value_bykey *b = calloc(1, sizeof(*b));
		if (!b || tapir_kv_key_copy(&b->k, k, NULL)) {
			free(b);
			return kv_fail(s, TAPIR_KV_E_NOMEM, "out of memory");
		}
		v = &b->v;
	}
	v->s = tapir_kv_retain(s);
	*out = v;
	return 0;
}

int64_t tapir_kv_value_read(struct tapir_kv_value *v, uint64_t off, void *buf, size_t len)
{
	struct tapir_kv_store *s = v->s;
	size_t got = 0;
	int rc;
	if (len > INT64_MAX)
		len = INT64_MAX;
	if (s->ops->value_open)
		rc = s->ops->value_read(v, off, buf, len, &got);
	else
		rc = s->ops->read(s, &((struct kv_value_bykey *)v)->k, off, buf, len, &got);
	return rc ? rc : (int64_t)got;
}

const char *tapir_kv_value_error(const struct tapir_kv_value *v)
{
	return tapir_kv_last_error(v->s);
}

void tapir_kv_value_close(struct tapir_kv_value *v)
{
	if (!v)
		return;
	struct tapir_kv_store *s = v->s;
	if (s->ops->value_open) {
		s->ops->value_close(v);
	} else {
		tapir_kv_key_free(&((struct kv_value_bykey *)v)->k);
		free(v);
	}
	tapir_kv_close(s);
}

int tapir_kv_get_partial(struct tapir_kv_store *s, const struct tapir_kv_key *k, uint64_t off,
			 size_t len, uint8_t **out, size_t *outlen)
{
	*out = NULL;
	*outlen = 0;
	uint64_t size;
	int rc = tapir_kv_size(s, k, &size);
	if (rc)
		return rc;
	size_t want = 0;
	if (off < size)
		want = (size - off < len) ? (size_t)(size - off) : len;
	uint8_t *buf = malloc(want + 1);
	if (!buf)
		return kv_fail(s, TAPIR_KV_E_NOMEM, "cannot allocate %zu bytes", want);
	size_t got = 0;
	if (want) {
		rc = s->ops->read(s, k, off, buf, want, &got);
		if (rc) {
			free(buf);
			return rc;
		}
	}
	buf[got] = 0;
	*out = buf;
	*outlen = got;
	return 0;
}

int tapir_kv_get(struct tapir_kv_store *s, const struct tapir_kv_key *k, uint8_t **out, size_t *len)
{
	uint64_t size;
	*out = NULL;
	*len = 0;
	int rc = tapir_kv_size(s, k, &size);
	if (rc)
		return rc;
	if (size >= SIZE_MAX)
		return kv_fail(s, TAPIR_KV_E_NOMEM, "value too large for memory");
	rc = tapir_kv_get_partial(s, k, 0, (size_t)size, out, len);
	if (!rc && *len != size) {
		free(*out);
		*out = NULL;
		return kv_fail(s, TAPIR_KV_E_STORAGE, "value changed size while read");
	}
	return rc;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct tapir_kv_entry *)a)->name, ((const struct tapir_kv_entry *)b)->name);
}

int tapir_kv_list(struct tapir_kv_store *s, const struct tapir_kv_key *k,
		  struct tapir_kv_entry **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	int rc = check_key(s, k);
	if (rc)
		return rc;
	rc = s->ops->list(s, k, out, n);
	if (!rc)
		qsort(*out, *n, sizeof(**out), cmp_entry);
	return rc;
}

int tapir_kv_last_modified(struct tapir_kv_store *s, const struct tapir_kv_key *k,
			   struct timespec *t)
{
	int rc = check_key(s, k);
	if (rc)
		return rc;
	return s->ops->last_modified(s, k, t);
}

#define DIGEST_CHUNK (1u << 20)

static int digest_rec(struct tapir_kv_store *s, const struct tapir_kv_key *k, uint8_t *out,
		      enum tapir_kv_kind kind, uint8_t *buf, unsigned depth)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int rc = 0;
	if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(md);
		return kv_fail(s, TAPIR_KV_E_NOMEM, "cannot create a SHA-256 context");
	}
	if (depth > 4096) {
		rc = kv_fail(s, TAPIR_KV_E_STORAGE, "dictionaries nested too deeply");
	} else if (kind == TAPIR_KV_VALUE) {
		uint64_t size, off = 0;
		rc = s->ops->size(s, k, &size);
		while (!rc && off < size) {
			size_t want = size - off < DIGEST_CHUNK ? (size_t)(size - off) : DIGEST_CHUNK;
			size_t got = 0;
			rc = s->ops->read(s, k, off, buf, want, &got);
			if (!rc && got == 0)
				rc = kv_fail(s, TAPIR_KV_E_STORAGE, "value shrank while hashed");
			if (!rc)
				EVP_DigestUpdate(md, buf, got);
			off += got;
		}
	} else {
		struct tapir_kv_entry *e;
		size_t n;
		rc = tapir_kv_list(s, k, &e, &n);
		for (size_t i = 0; !rc && i < n; i++) {
			struct tapir_kv_key ck;
			uint8_t sub[TAPIR_KV_DIGEST_LEN];
			uint8_t kb = e[i].kind == TAPIR_KV_VALUE ? 'v' : 'd';
			rc = tapir_kv_key_copy(&ck, k, e[i].name);
			if (rc) {
				rc = kv_fail(s, TAPIR_KV_E_NOMEM, "out of memory");
				break;
			}
			rc = digest_rec(s, &ck, sub, e[i].kind, buf, depth + 1);
			tapir_kv_key_free(&ck);
			if (rc)
				break;
			EVP_DigestUpdate(md, &kb, 1);
			EVP_DigestUpdate(md, e[i].name, strlen(e[i].name) + 1);
			EVP_DigestUpdate(md, sub, sizeof(sub));
		}
		if (!rc)
			tapir_kv_entries_free(e, n);
	}
	if (!rc)
		EVP_DigestFinal_ex(md, out, NULL);
	EVP_MD_CTX_free(md);
	return rc;
}

int tapir_kv_digest(struct tapir_kv_store *s, const struct tapir_kv_key *k,
		    uint8_t out[TAPIR_KV_DIGEST_LEN])
{
	enum tapir_kv_kind kind;
	int rc = tapir_kv_exists(s, k, &kind);
	if (rc)
		return rc;
	if (kind == TAPIR_KV_NONE) {
		char *ks = tapir_kv_key_to_string(k);
		rc = kv_fail(s, TAPIR_KV_E_NOT_FOUND, "%s: not found", ks ? ks : "key");
		free(ks);
		return rc;
	}
	uint8_t *buf = malloc(DIGEST_CHUNK);
	if (!buf)
		return kv_fail(s, TAPIR_KV_E_NOMEM, "out of memory");
	rc = digest_rec(s, k, out, kind, buf, 0);
	free(buf);
	return rc;
}

int tapir_kv_set(struct tapir_kv_store *s, const struct tapir_kv_key *k, const void *data,
		 size_t len)
{
	int rc = check_write(s, k);
	if (rc)
		return rc;
	if (!data && len)
		return kv_fail(s, TAPIR_KV_E_INVALID, "NULL data");
	if (!k->n)
		return kv_fail(s, TAPIR_KV_E_VALUE_EXPECTED, "/: the root is a dictionary");
	return s->ops->set(s, k, data, len);
}

int tapir_kv_set_partial(struct tapir_kv_store *s, const struct tapir_kv_key *k, uint64_t off,
			 const void *data, size_t len)
{
	int rc = check_write(s, k);
	if (rc)
		return rc;
	if (!data && len)
		return kv_fail(s, TAPIR_KV_E_INVALID, "NULL data");
	if (!k->n)
		return kv_fail(s, TAPIR_KV_E_VALUE_EXPECTED, "/: the root is a dictionary");
	if (off > INT64_MAX || len > INT64_MAX - off)
		return kv_fail(s, TAPIR_KV_E_INVALID, "offset too large");
	return s->ops->set_partial(s, k, off, data, len);
}

int tapir_kv_remove(struct tapir_kv_store *s, const struct tapir_kv_key *k)
{
	int rc = check_write(s, k);
	if (rc)
		return rc;
	if (!k->n)
		return kv_fail(s, TAPIR_KV_E_INVALID, "the root cannot be removed");
	return s->ops->remove(s, k);
}

int tapir_kv_rename(struct tapir_kv_store *s, const struct tapir_kv_key *src,
		    const struct tapir_kv_key *dst)
{
	int rc = check_write(s, src);
	if (!rc)
		rc = check_key(s, dst);
	if (rc)
		return rc;
	if (tapir_kv_key_is_prefix(src, dst)) {
		char *a = tapir_kv_key_to_string(src), *b = tapir_kv_key_to_string(dst);
		rc = kv_fail(s, TAPIR_KV_E_RENAME_PREFIX, "cannot rename %s to %s: source is a prefix "
			     "of destination", a ? a : "?", b ? b : "?");
		free(a);
		free(b);
		return rc;
	}
	if (!dst->n)
		return kv_fail(s, TAPIR_KV_E_ALREADY_PRESENT, "/: destination exists");
	return s->ops->rename(s, src, dst);
}

int tapir_kv_batch(struct tapir_kv_store *s, tapir_kv_batch_fn fn, void *ctx)
{
	if (!s->writable || !s->ops->commit)
		return kv_fail(s, TAPIR_KV_E_INVALID, "store is read-only");
	if (s->in_batch)
		return kv_fail(s, TAPIR_KV_E_INVALID, "batches do not nest");
	struct tapir_kv_store *txn = kv_txn_new(s);
	if (!txn)
		return kv_fail(s, TAPIR_KV_E_NOMEM, "out of memory");
	s->in_batch = true;
	int rc = fn(txn, ctx);
	s->in_batch = false;
	if (rc) {
		if (rc > 0)
			rc = -TAPIR_KV_E_INVALID;
		if (txn->last_err)
			kv_fail(s, txn->last_err, "batch aborted: %s", txn->errmsg);
		else
			kv_fail(s, -rc < TAPIR_KV_E__COUNT ? -rc : TAPIR_KV_E_INVALID,
				"batch aborted by its function (%d)", rc);
		tapir_kv_close(txn);
		return rc;
	}
	struct tapir_kv_op *ops;
	size_t n;
	rc = kv_txn_ops(txn, &ops, &n);
	if (rc) {
		tapir_kv_close(txn);
		return kv_fail(s, TAPIR_KV_E_NOMEM, "out of memory");
	}
	s->last_err = 0;
	if (n)
		rc = s->ops->commit(s, ops, n);
	kv_ops_free(ops, n);
	tapir_kv_close(txn);
	return rc;
}

/* Write all of @buf at @off (pwrite, EINTR retried).  Return: 0 or -errno */
int kv_pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t w = pwrite(fd, p, len, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		len -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

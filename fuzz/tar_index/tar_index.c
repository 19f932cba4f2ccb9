/*
 * tar_index.c - fuzz the tar store: arbitrary bytes as an archive, indexed
 * from memory (kv_tar_open_buffer, no disk), then every key listed, sized,
 * read whole and in parts, and digested.  Reads stay inside the buffer
 * (libFuzzer / the replay main hand over an exact-size allocation, so ASan
 * sees any read past it).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(struct kv_store *s, struct kv_key *k, unsigned depth, unsigned *budget)
{
	struct kv_entry *e;
	size_t n;
	if (depth > 64 || !*budget || kv_list(s, k, &e, &n))
		return;
	for (size_t i = 0; i < n && *budget; i++, (*budget)--) {
		struct kv_key c;
		if (kv_key_copy(&c, k, e[i].name))
			break;
		enum kv_kind kind;
		if (kv_exists(s, &c, &kind) || kind != e[i].kind)
			abort();   /* list and exists disagree */
		struct timespec t;
		kv_last_modified(s, &c, &t);
		if (e[i].kind == KV_DICT) {
			walk(s, &c, depth + 1, budget);
		} else {
			uint64_t sz;
			uint8_t *v;
			size_t len;
			if (kv_size(s, &c, &sz))
				abort();
			/* Whole reads only for small values: a header may claim 8 EiB
			 * of data, and the index must check it exists before that. */
			if (sz <= (1u << 20) && !kv_get(s, &c, &v, &len)) {
				if (len != sz)
					abort();
				free(v);
			}
			if (!kv_get_partial(s, &c, sz / 2, 1000, &v, &len))
				free(v);
			if (!kv_get_partial(s, &c, sz, 10, &v, &len)) {
				if (len)
					abort();
				free(v);
			}
			uint8_t d[KV_DIGEST_LEN];
			if (sz <= (1u << 20))
				kv_digest(s, &c, d);
		}
		kv_key_free(&c);
	}
	kv_entries_free(e, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kv_store *s;
	char err[256];
	if (kv_tar_open_buffer(data, size, &s, err, sizeof(err)))
		return 0;
	struct kv_key root = { 0, NULL };
	unsigned budget = 10000;
	walk(s, &root, 0, &budget);
	kv_close(s);
	return 0;
}

/*
 * tar_index.c - fuzz the tar store: arbitrary bytes as an archive, indexed
 * from memory (tapir_kv_tar_open_buffer, no disk), then every key listed, sized,
 * read whole and in parts, and digested.  Reads stay inside the buffer
 * (libFuzzer / the replay main hand over an exact-size allocation, so ASan
 * sees any read past it).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tapir/kv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(struct tapir_kv_store *s, struct tapir_kv_key *k, unsigned depth, unsigned *budget)
{
	struct tapir_kv_entry *e;
	size_t n;
	if (depth > 64 || !*budget || tapir_kv_list(s, k, &e, &n))
		return;
	for (size_t i = 0; i < n && *budget; i++, (*budget)--) {
		struct tapir_kv_key c;
		if (tapir_kv_key_copy(&c, k, e[i].name))
			break;
		enum tapir_kv_kind kind;
		if (tapir_kv_exists(s, &c, &kind) || kind != e[i].kind)
			abort();   /* list and exists disagree */
		struct timespec t;
		tapir_kv_last_modified(s, &c, &t);
		if (e[i].kind == TAPIR_KV_DICT) {
			walk(s, &c, depth + 1, budget);
		} else {
			uint64_t sz;
			uint8_t *v;
			size_t len;
			if (tapir_kv_size(s, &c, &sz))
				abort();
			/* Whole reads only for small values: a header may claim 8 EiB
			 * of data, and the index must check it exists before that. */
			if (sz <= (1u << 20) && !tapir_kv_get(s, &c, &v, &len)) {
				if (len != sz)
					abort();
				free(v);
			}
			if (!tapir_kv_get_partial(s, &c, sz / 2, 1000, &v, &len))
				free(v);
			if (!tapir_kv_get_partial(s, &c, sz, 10, &v, &len)) {
				if (len)
					abort();
				free(v);
			}
			uint8_t d[TAPIR_KV_DIGEST_LEN];
			if (sz <= (1u << 20))
				tapir_kv_digest(s, &c, d);
		}
		tapir_kv_key_free(&c);
	}
	tapir_kv_entries_free(e, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tapir_kv_store *s;
	char err[256];
	if (tapir_kv_tar_open_buffer(data, size, &s, err, sizeof(err)))
		return 0;
	struct tapir_kv_key root = { 0, NULL };
	unsigned budget = 10000;
	walk(s, &root, 0, &budget);
	tapir_kv_close(s);
	return 0;
}

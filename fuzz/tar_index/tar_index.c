/*
 * tar_index.c - fuzz the tar store: arbitrary bytes as an archive, indexed
 * from memory (tapir_kv_tar_open_buffer, no disk), then every key listed, sized,
 * read whole and in parts, and digested.  Reads stay inside the buffer
 * (libFuzzer / the replay main hand over an exact-size allocation, so ASan
 * sees any read past it).
 *
 * Memory blow-up is searched for too: the heap the open store holds (ASan's
 * count of live bytes, or mallinfo2() without ASan) must stay within the
 * index budget of the archive (tar_index_budget(): a fixed allowance plus a
 * multiple of its size) and within 64 times its size plus 1 MiB, which the
 * name and depth limits guarantee; over either, the harness aborts.  Run the
 * fuzzer with -malloc_limit_mb=64 -rss_limit_mb=512 as well, so one huge
 * allocation or a growing footprint is reported at once.
 */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tapir/kv.h"
#include "tar_format.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TAR_FUZZ_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define TAR_FUZZ_ASAN 1
#endif
#ifdef TAR_FUZZ_ASAN
/* <sanitizer/allocator_interface.h>, which gcc does not install */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

/* Return: bytes of heap in use now. */
static size_t heap_in_use(void)
{
#ifdef TAR_FUZZ_ASAN
	return __sanitizer_get_current_allocated_bytes();
#else
	struct mallinfo2 mi = mallinfo2();
	return mi.uordblks + mi.hblkhd;
#endif
}

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
	size_t before = heap_in_use();
	if (tapir_kv_tar_open_buffer(data, size, &s, err, sizeof(err)))
		return 0;
	size_t held = heap_in_use() - before;
	if (held > tar_index_budget(size) || held > 64 * (uint64_t)size + (1u << 20)) {
		fprintf(stderr, "tar_index: a %zu-byte archive holds %zu bytes of index\n", size,
			held);
		abort();
	}
	struct tapir_kv_key root = { 0, NULL };
	unsigned budget = 10000;
	walk(s, &root, 0, &budget);
	tapir_kv_close(s);
	return 0;
}

/*
 * test_pool.c - the flows' allocator (libstack/tcp/pool.c): slots, slabs,
 *               the spare, zeroed reuse
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "tcp/pool.h"

#define OBJ 561                 /* rounded up to 568 */

/* Objects are slot-sized, 8-byte aligned, zeroed and distinct; a slab holds
 * nslots; the count of mapped slabs follows the objects out, with one spare
 * kept when they all come back; a freed slot comes back zeroed. */
static void test_pool_slabs(void **state)
{
	struct tcp_pool p;
	size_t n, slab = tcp_pool_slab_bytes();
	uint8_t **objs;

	(void)state;
	assert_true(tcp_pool_init(&p, OBJ));
	assert_int_equal(p.slot, 568);
	assert_true(p.nslots > 400 && p.nslots * p.slot <= slab);
	assert_true(tcp_pool_obj_bytes(&p) * p.nslots >= slab);
	assert_int_equal(p.bytes, 0);
	n = 3 * p.nslots + 1;
	objs = calloc(n, sizeof(*objs));
	for (size_t i = 0; i < n; i++) {
		objs[i] = tcp_pool_alloc(&p);
		assert_non_null(objs[i]);
		assert_int_equal((uintptr_t)objs[i] % 8, 0);
		for (size_t k = 0; k < p.slot; k++)
			assert_int_equal(objs[i][k], 0);
		memset(objs[i], 0xa5, p.slot);
	}
	assert_int_equal(p.used, n);
	assert_int_equal(p.bytes, 4 * slab);
	/* no two objects overlap */
	for (size_t i = 1; i < n; i++)
		assert_true(objs[i] >= objs[i - 1] + p.slot || objs[i] + p.slot <= objs[i - 1]);
	/* a slot freed and taken again: the same memory, zeroed */
	uint8_t *mid = objs[p.nslots + 3];
	tcp_pool_free(&p, mid);
	objs[p.nslots + 3] = tcp_pool_alloc(&p);
	assert_ptr_equal(objs[p.nslots + 3], mid);
	for (size_t k = 0; k < p.slot; k++)
		assert_int_equal(mid[k], 0);
	/* all back: the slabs are unmapped but one spare */
	for (size_t i = 0; i < n; i++)
		tcp_pool_free(&p, objs[i]);
	assert_int_equal(p.used, 0);
	assert_int_equal(p.bytes, slab);
	/* the spare serves the next allocation */
	objs[0] = tcp_pool_alloc(&p);
	assert_non_null(objs[0]);
	assert_int_equal(p.bytes, slab);
	tcp_pool_free(&p, objs[0]);
	tcp_pool_free(&p, NULL);
	tcp_pool_fini(&p);
	assert_int_equal(p.bytes, 0);
	free(objs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pool_slabs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

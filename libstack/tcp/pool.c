/*
 * pool.c - the flows' allocator: slabs of equal slots, no header per object
 *
 * Theory of operation
 *
 * A million idle connections are a million flows, so a flow's allocation is
 * most of what a connection costs.  malloc adds an 8-byte header to each
 * chunk and rounds it to 16 bytes (a 568-byte flow takes 576); here a flow
 * takes its size rounded to 8, in a slot of a slab.
 *
 * A slab is TCP_SLAB_BYTES of anonymous memory aligned to TCP_SLAB_BYTES, so
 * a slot finds its slab by masking its address: a struct tcp_slab header,
 * then as many slots as fit.  Slots are handed out from the slab's list of
 * freed slots (linked through their first word), else from its never-used
 * tail, so pages are touched only as flows need them.  Slabs with a free
 * slot are on the pool's partial list (the newest first); a slab whose
 * slots are all free again is unmapped, except one kept as the spare (no
 * map/unmap churn when the count of flows moves around a slab boundary).
 * The memory is the pool's high-water mark at most, and goes back to the
 * system as slabs empty.
 *
 * Under AddressSanitizer, free slots are poisoned, so a use after free of a
 * flow is still reported.
 */
#include "tcp/pool.h"

#include <string.h>
#include <sys/mman.h>

#define TCP_SLAB_BYTES (256 * 1024)

#if defined(__SANITIZE_ADDRESS__)
void __asan_poison_memory_region(void const volatile *addr, size_t size);
void __asan_unpoison_memory_region(void const volatile *addr, size_t size);
#define POISON(p, n) __asan_poison_memory_region((p), (n))
#define UNPOISON(p, n) __asan_unpoison_memory_region((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

struct tcp_slab {
	struct tcp_slab *next, *prev;     /* on the partial list */
	void *free;                       /* freed slots */
	uint32_t used;                    /* slots handed out */
	uint32_t fresh;                   /* slots from here on were never handed out */
	bool listed;                      /* on the partial list */
	_Alignas(16) unsigned char slots[];
};

static struct tcp_slab *slab_of(const void *obj)
{
	return (struct tcp_slab *)((uintptr_t)obj & ~(uintptr_t)(TCP_SLAB_BYTES - 1));
}

bool tcp_pool_init(struct tcp_pool *p, size_t size)
{
	memset(p, 0, sizeof(*p));
	p->slot = (size + 7) & ~(size_t)7;
	if (p->slot < sizeof(void *))
		p->slot = sizeof(void *);
	p->nslots = (TCP_SLAB_BYTES - sizeof(struct tcp_slab)) / p->slot;
	return p->nslots > 0;
}

/* A new slab, aligned to its size: map twice that, unmap the rest */
static struct tcp_slab *slab_map(struct tcp_pool *p)
{
	size_t len = 2 * TCP_SLAB_BYTES;
	uint8_t *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uintptr_t a;

	if (m == MAP_FAILED)
		return NULL;
	a = ((uintptr_t)m + TCP_SLAB_BYTES - 1) & ~(uintptr_t)(TCP_SLAB_BYTES - 1);
	if (a > (uintptr_t)m)
		munmap(m, a - (uintptr_t)m);
	if ((uintptr_t)m + len > a + TCP_SLAB_BYTES)
		munmap((void *)(a + TCP_SLAB_BYTES), (uintptr_t)m + len - (a + TCP_SLAB_BYTES));
	p->bytes += TCP_SLAB_BYTES;
	POISON(((struct tcp_slab *)a)->slots, p->nslots * p->slot);
	return (struct tcp_slab *)a;    /* zero: mapped anonymous */
}

static void slab_unmap(struct tcp_pool *p, struct tcp_slab *s)
{
	UNPOISON(s->slots, p->nslots * p->slot);
	munmap(s, TCP_SLAB_BYTES);
	p->bytes -= TCP_SLAB_BYTES;
}

static void list_add(struct tcp_pool *p, struct tcp_slab *s)
{
	s->prev = NULL;
	s->next = p->partial;
	if (p->partial)
		p->partial->prev = s;
	p->partial = s;
	s->listed = true;
}

static void list_remove(struct tcp_pool *p, struct tcp_slab *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		p->partial = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->next = s->prev = NULL;
	s->listed = false;
}

void *tcp_pool_alloc(struct tcp_pool *p)
{
	struct tcp_slab *s = p->partial;
	void *obj;

	if (!s) {
		s = p->spare ? p->spare : slab_map(p);
		if (!s)
			return NULL;
		p->spare = NULL;
		list_add(p, s);
	}
	if (s->free) {
		obj = s->free;
		UNPOISON(obj, p->slot);
		memcpy(&s->free, obj, sizeof(void *));
		memset(obj, 0, p->slot);
	} else {
		obj = s->slots + (size_t)s->fresh++ * p->slot;
		UNPOISON(obj, p->slot);   /* never used: still zero */
	}
	s->used++;
	p->used++;
	if (!s->free && s->fresh == p->nslots)
		list_remove(p, s);    /* full */
	return obj;
}

void tcp_pool_free(struct tcp_pool *p, void *obj)
{
	struct tcp_slab *s;

	if (!obj)
		return;
	s = slab_of(obj);
	memcpy(obj, &s->free, sizeof(void *));
	POISON(obj, p->slot);
	s->free = obj;
	s->used--;
	p->used--;
	if (!s->listed)
		list_add(p, s);
	if (s->used)
		return;
	list_remove(p, s);
	if (!p->spare) {
		p->spare = s;
		return;
	}
	slab_unmap(p, s);
}

size_t tcp_pool_obj_bytes(const struct tcp_pool *p)
{
	return (TCP_SLAB_BYTES + p->nslots - 1) / p->nslots;
}

size_t tcp_pool_slab_bytes(void)
{
	return TCP_SLAB_BYTES;
}

void tcp_pool_fini(struct tcp_pool *p)
{
	/* full slabs are on no list: find them through nothing but the
	 * caller, who frees every object first (tcp_fini()); what is left
	 * here is partial or spare */
	while (p->partial) {
		struct tcp_slab *s = p->partial;

		list_remove(p, s);
		slab_unmap(p, s);
	}
	if (p->spare)
		slab_unmap(p, p->spare);
	p->spare = NULL;
}

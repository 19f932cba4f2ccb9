/*
 * pool.h - the flows' allocator (pool.c): slabs of equal slots, no header per object
 */
#ifndef TAPIR_TCP_POOL_H
#define TAPIR_TCP_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tcp_slab;

struct tcp_pool {
	size_t slot;                      /* bytes per object (a multiple of 8) */
	size_t nslots;                    /* objects per slab */
	struct tcp_slab *partial;         /* slabs with a free slot */
	struct tcp_slab *spare;           /* one empty slab kept for the next allocations */
	size_t bytes;                     /* slabs mapped, bytes */
	size_t used;                      /* objects handed out */
};

/* Objects of @size bytes; nothing is mapped yet.  Return: false if @size
 * does not fit a slab */
bool tcp_pool_init(struct tcp_pool *p, size_t size);
/* A zeroed object, or NULL without memory */
void *tcp_pool_alloc(struct tcp_pool *p);
/* Give back an object of @p (NULL: nothing) */
void tcp_pool_free(struct tcp_pool *p, void *obj);
/* What an object costs in a full slab (its slot, a share of the slab's
 * header and of the tail no slot fits), bytes */
size_t tcp_pool_obj_bytes(const struct tcp_pool *p);
/* Bytes a slab maps */
size_t tcp_pool_slab_bytes(void);
/* Unmap every slab (objects still out are gone) */
void tcp_pool_fini(struct tcp_pool *p);

#endif /* TAPIR_TCP_POOL_H */

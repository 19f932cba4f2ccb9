/*
 * ipv4_reasm.h - IPv4 and IPv6 fragment reassembly (RFC 791, RFC 815, RFC 8200 4.5,
 *                RFC 5722 policy)
 *
 * A self-contained table of partial datagrams keyed by (src, dst, id, proto)
 * for IPv4, (src, dst, id) for IPv6 (one family per table).
 * Pure: no syscalls, time passed in, memory bounded by a byte cap.  Counters
 * are the stack's (counters.h, REASM_*), passed in as an array.
 */
#ifndef TAPIR_IPV4_REASM_H
#define TAPIR_IPV4_REASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct reasm;

struct reasm_config {
	size_t max_bytes;    /* cap on all held data + per-fragment overhead, 4 MiB */
	uint64_t timeout_ns; /* lifetime of a partial datagram, 30 s */
	uint8_t family;      /* 0 or 4: IPv4; 6: IPv6 */
};

/* One received fragment; every pointer is borrowed for the call only. */
struct reasm_frag {
	uint32_t src, dst;        /* host order */
	uint16_t id;
	uint8_t proto;
	uint32_t offset;          /* in bytes (fragment offset field * 8) */
	bool more;                /* MF */
	const uint8_t *hdr;       /* IPv4: this fragment's IP header (with options);
				   * IPv6: its unfragmentable part and fragment header,
				   * as received (48..1,280 bytes) */
	size_t hdr_len;
	/* IPv6 tables only: the key, and the offset in @hdr of the Next Header
	 * byte that names the fragment header (6 when no header precedes it) */
	const uint8_t *src6, *dst6;
	uint32_t id6;
	uint16_t nh_off;
	const uint8_t *payload;   /* fragment data */
	size_t len;
};

/* Called for a datagram that timed out and whose first fragment was held:
 * @quote is that fragment's IP header followed by up to 8 bytes of its data
 * (IPv6: the first fragment as received, cut at 1,232 bytes). */
typedef void (*reasm_expired_fn)(void *ctx, const uint8_t *quote, size_t quote_len);

/* Return: new table or NULL (out of memory).  @counters: TAPIR_CTR__COUNT entries. */
struct reasm *reasm_new(const struct reasm_config *cfg, uint64_t *counters);
void reasm_free(struct reasm *r);

/**
 * reasm_input() - Add a fragment to its datagram, complete it if possible
 * @r:       Table
 * @now:     Current time, ns
 * @f:       The fragment
 * @out:     On completion: a malloc'd buffer with the whole datagram (the
 *           first fragment's header, total length, MF and offset fixed,
 *           checksum recomputed, then the data); the caller frees it
 * @out_len: On completion: its length
 *
 * Exact duplicates and fragments inside data already held are ignored
 * (counted REASM_DUPLICATE, return 0).  A partial overlap drops the whole
 * datagram and every later fragment of it until it times out (RFC 5722).
 * Non-last fragments whose length is not a multiple of 8, and data beyond
 * 65,535 bytes, are dropped.
 *
 * Return: 1 if complete, 0 if held (or ignored), negative errno if dropped
 */
int reasm_input(struct reasm *r, uint64_t now, const struct reasm_frag *f, uint8_t **out,
		size_t *out_len);

/* Expire datagrams older than the timeout; @expired may be NULL. */
void reasm_poll(struct reasm *r, uint64_t now, reasm_expired_fn expired, void *ctx);

/* Return: when the oldest datagram expires, or UINT64_MAX if none */
uint64_t reasm_next_deadline(const struct reasm *r);

/* Bytes accounted (data + overhead) and number of datagrams held */
size_t reasm_bytes(const struct reasm *r);
size_t reasm_count(const struct reasm *r);

/* For listings: fill up to @max entries.  Return: number of entries */
struct tapir_reasm_info {
	uint8_t family;       /* 4 or 6 (the table's) */
	uint32_t src, dst;    /* IPv4 */
	uint16_t id;          /* IPv4 */
	uint8_t proto;        /* IPv4 */
	uint8_t src6[16], dst6[16];  /* IPv6 */
	uint32_t id6;         /* IPv6 */
	size_t bytes_held;
	uint32_t total_len;   /* 0 until the last fragment arrived */
	bool dead;            /* dropped after an overlap, waiting to time out */
	uint64_t expires;
};
size_t reasm_list(const struct reasm *r, struct tapir_reasm_info *out, size_t max);

/* Key the table's hash with 128 secret random bits (the host's random
 * source), so senders cannot choose keys that share a bucket.  Any time;
 * held entries are rehashed.  Until called the key is 0. */
void reasm_set_hash_key(struct reasm *r, uint64_t k0, uint64_t k1);

#endif /* TAPIR_IPV4_REASM_H */

/*
 * impair.h - seeded network impairment (loss, duplication, reordering, delay,
 *            corruption) around any netif, in either direction
 *
 * Theory of operation
 *
 * An impair is a netif filter (netif.h): it sits anywhere in the chain
 * between a stack and its device (impair_filter(), then tapir_netif_chain() or
 * tapir_netif_filter_link()).  Transmit: the stage above writes through the
 * filter's netif; the frame is filled into a scratch buffer, impaired, and
 * written to the filter's @lower now or later.  Receive: the stage below
 * hands every received frame to the filter's rx; it is impaired and passed
 * to the filter's @upper now or later, with its NETIF_RX_* flags.  Sans-I/O:
 * the time is the one given to the last impair_poll(), which also releases
 * frames that are due; impair_next_deadline() says when to call it next.
 *
 * Per frame, in this order (each with its own probability, ppm):
 *   loss      - the frame is dropped (counted);
 *   corrupt   - one random bit is flipped, in the bytes after the Ethernet
 *               header when there are any (so the frame still reaches its
 *               destination and the checksums above must catch it);
 *   duplicate - a second copy is sent right after the first;
 *   reorder   - the frame is held back and sent right after the next frame
 *               in the same direction, or at the latest
 *               IMPAIR_REORDER_MAX_HOLD_NS after it would have been sent;
 *               only one frame per direction is held at a time;
 *   delay     - every frame is sent delay + uniform(0..jitter) later; jitter
 *               can reorder frames too, as it does on a real path.
 * A direction that is not enabled (cfg.tx / cfg.rx) passes frames through
 * untouched (transmit then writes straight into @lower's buffer).  Frames
 * of any size the chain carries are taken (the scratch buffers grow).
 *
 * Randomness: xoshiro256** seeded from cfg.seed through splitmix64, one
 * generator per direction, so the same seed, configuration and input give
 * the same decisions (a run can be replayed).  Random draws are made only for
 * impairments whose rate is non-zero.
 *
 * Memory: frames held for later are copied; at most IMPAIR_QUEUE_MAX_FRAMES
 * frames and IMPAIR_QUEUE_MAX_BYTES bytes are held (beyond: dropped and
 * counted in queue_full).
 */
#ifndef TAPIR_IMPAIR_H
#define TAPIR_IMPAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tapir/netif.h"

#define IMPAIR_QUEUE_MAX_FRAMES 16384u
#define IMPAIR_QUEUE_MAX_BYTES (64u << 20)
#define IMPAIR_REORDER_MAX_HOLD_NS 10000000ull  /* 10 ms */
#define IMPAIR_MAX_DELAY_NS (3600ull * 1000000000ull)  /* delay and jitter, each */

struct impair_config {
	uint32_t loss_ppm, dup_ppm, reorder_ppm, corrupt_ppm;
	uint64_t delay_ns, jitter_ns;
	uint64_t seed;
	bool tx, rx;  /* directions impaired */
};

/* All rates 0, no delay, seed 0, both directions. */
void impair_config_defaults(struct impair_config *c);

/* Return: true if @c changes anything (some rate, delay or jitter non-zero) */
bool impair_config_active(const struct impair_config *c);

/**
 * impair_config_set() - Set one key from its text form
 * @c:      Configuration to update
 * @key:    loss, duplicate, reorder, corrupt ("1%", "0.5%", "2500ppm"),
 *          delay, jitter ("10ms", "500us", "1s"; at most 1 h),
 *          seed (decimal or 0x hex, 64 bit), direction (tx, rx or both)
 * @value:  Text value
 * @err:    Receives a message on error (may be NULL)
 * @errlen: Size of @err
 *
 * Return: 0, -ENOENT (unknown key), -EINVAL (bad value); @c unchanged on error
 */
int impair_config_set(struct impair_config *c, const char *key, const char *value, char *err,
		      size_t errlen);

struct impair;

/**
 * impair_new() - Create an impairment filter
 * @cfg: Configuration (copied)
 *
 * Link it into a chain (impair_filter(), tapir_netif_chain()) before the first
 * frame or impair_poll(); the stages it is linked to must outlive it.
 *
 * Return: the filter, or NULL (out of memory, or NULL @cfg)
 */
struct impair *impair_new(const struct impair_config *cfg);

/* Free the filter and every frame still held (they are dropped).  NULL ok. */
void impair_free(struct impair *im);

/* Return: @im as a netif filter (owned by @im), for tapir_netif_chain() */
struct tapir_netif_filter *impair_filter(struct impair *im);

/* Set the time to @now (ns, monotonic) and release due frames, both directions. */
void impair_poll(struct impair *im, uint64_t now);

/* Return: when impair_poll() must next be called, or UINT64_MAX if nothing is held */
uint64_t impair_next_deadline(const struct impair *im);

struct impair_stats {
	uint64_t tx_frames, rx_frames;  /* frames that entered each direction */
	uint64_t dropped;               /* loss */
	uint64_t duplicated;
	uint64_t reordered;
	uint64_t corrupted;
	uint64_t delayed;               /* frames held for a non-zero delay */
	uint64_t queue_full;            /* dropped because the hold queue was full */
	uint64_t lower_errors;          /* deferred writes that @lower refused */
};

/* Copy the counters into @out. */
void impair_get_stats(const struct impair *im, struct impair_stats *out);

#endif /* TAPIR_IMPAIR_H */

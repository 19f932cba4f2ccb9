/*
 * impair.h - seeded network impairment (loss, duplication, reordering, delay,
 *            corruption) around any netif, in either direction
 *
 * Theory of operation
 *
 * An impair sits between a stack and its device.  Transmit: the stack writes
 * through the netif filled by impair_netif(); the frame is filled into a
 * scratch buffer, impaired, and written to @lower now or later.  Receive:
 * the host passes every received frame to impair_rx() instead of the stack;
 * it is impaired and handed to @deliver now or later.  Sans-I/O: the time is
 * the one given to the last impair_poll(), which also releases frames that
 * are due; impair_next_deadline() says when to call it next.
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
 * untouched (transmit then writes straight into @lower's buffer).
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

#include "netif.h"

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

/* Same shape as vnet_rx_fn: @frame is lent for the call only. */
typedef void (*impair_rx_fn)(void *ctx, const uint8_t *frame, size_t len);

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
 * impair_new() - Create an impairment wrapper
 * @cfg:         Configuration (copied)
 * @lower:       Device frames are written to (copied; must outlive the impair)
 * @deliver:     Receives frames passed to impair_rx(), when they are released
 * @deliver_ctx: Passed to @deliver
 *
 * Return: the wrapper, or NULL (out of memory, or NULL @lower/@deliver)
 */
struct impair *impair_new(const struct impair_config *cfg, const struct netif *lower,
			  impair_rx_fn deliver, void *deliver_ctx);

/* Free the wrapper and every frame still held (they are dropped).  NULL ok. */
void impair_free(struct impair *im);

/* Fill @out with the transmit side: writes go through the impairment to @lower. */
void impair_netif(struct impair *im, struct netif *out);

/* Receive side: impair @frame (lent for this call) and deliver it now or later. */
void impair_rx(struct impair *im, const uint8_t *frame, size_t len);

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

/*
 * capture.h - packet capture to a pcap file (libpcap's dump writer)
 *
 * capture_netif() wraps a netif so that every frame the stack writes is
 * recorded after it is filled in place (no copy); the daemon passes every
 * frame it reads to capture_frame().  Both go to the open dump, if any, with
 * the wall-clock time of the write or read.  A capture stops by itself after
 * @max_frames frames or once the file holds @max_bytes bytes.
 */
#ifndef TAPIR_CAPTURE_H
#define TAPIR_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netif.h"

struct capture;

struct capture_info {
	bool active;
	char file[4096];
	uint64_t frames, bytes;         /* written to the current (or last) file */
	uint64_t max_frames, max_bytes; /* 0: no limit */
	uint32_t snaplen;
};

/* Return: a capture point (not capturing), or NULL */
struct capture *capture_new(void);
/* Stop (if capturing) and free.  NULL is allowed. */
void capture_free(struct capture *c);

/* Fill @out with a netif that records what goes through @inner (copied). */
void capture_netif(struct capture *c, const struct netif *inner, struct netif *out);

/**
 * capture_start() - Open @path and record every frame from now on
 * @snaplen: Bytes kept per frame (0: 262144)
 *
 * Return: 0, -EBUSY (already capturing), or -errno of the open (message in @err)
 */
int capture_start(struct capture *c, const char *path, uint64_t max_frames, uint64_t max_bytes,
		  uint32_t snaplen, char *err, size_t errlen);
/* Close the file.  Return: 0 or -ENOENT if not capturing */
int capture_stop(struct capture *c);
void capture_get_info(const struct capture *c, struct capture_info *out);

/* Record one frame (a no-op when not capturing) */
void capture_frame(struct capture *c, const uint8_t *frame, size_t len);

#endif /* TAPIR_CAPTURE_H */

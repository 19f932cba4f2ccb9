/*
 * capture.h - packet capture to pcap files (libpcap's dump writer), with rotation
 *
 * Theory of operation
 *
 * A capture is a netif filter (netif.h, capture_filter()): every frame
 * written through it is recorded after it is filled in place (no copy), and
 * every frame received through it is recorded before it is passed on.  Both
 * go to the open dump, if any, with the wall-clock time of the write or
 * read (microseconds), so one file holds both directions in the order this
 * point of the chain saw them: next to the device it records what the wire
 * carried; above an impair filter, what the stack sent and got.
 * capture_frame() records one frame by hand.
 *
 * Snap length: each record keeps caplen = min(len, snaplen) bytes of the
 * frame and the original length; the file header's snaplen is the same
 * value.  0 means CAPTURE_SNAPLEN_MAX; other values below CAPTURE_SNAPLEN_MIN
 * or above CAPTURE_SNAPLEN_MAX are rejected (-EINVAL), not clamped.
 *
 * Sizes: a file's size is counted exactly as written (24-byte file header,
 * 16 bytes + caplen per record).  With @max_bytes, a file never grows past
 * @max_bytes, except that a file always takes at least one frame (a limit
 * smaller than one record still makes progress); a frame is never split.
 *
 * Limits: @max_frames counts frames over the whole capture (all files); the
 * capture ends after that many.  When the next frame does not fit in the
 * current file:
 *  - without rotation (@max_files 0), the capture ends (that frame is not
 *    recorded); it also ends as soon as not even an empty record would fit;
 *  - with rotation (@max_files N, 2..CAPTURE_FILES_MAX), the file is closed
 *    and renamed as logrotate/tcpdump -C -W do: FILE.(N-2) -> FILE.(N-1),
 *    ..., FILE.1 -> FILE.2, FILE -> FILE.1 (the oldest, FILE.(N-1), is
 *    replaced), then a fresh FILE is opened and takes the frame.  FILE is
 *    always the newest, FILE.(N-1) the oldest.  Only the files of this
 *    capture are shifted: FILE.k left by an earlier capture is not moved and
 *    is simply replaced once this capture's set grows that far.
 * A failed rename or open during a rotation, or a write error seen when the
 * file is flushed, ends the capture with CAPTURE_END_ERROR and a message in
 * the info (and in the log); the frames already written stay in their files.
 */
#ifndef TAPIR_CAPTURE_H
#define TAPIR_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tapir/netif.h"

#define CAPTURE_SNAPLEN_MIN 60
#define CAPTURE_SNAPLEN_MAX 262144
#define CAPTURE_FILES_MIN 2
#define CAPTURE_FILES_MAX 1000

struct capture;
struct tapir_logger;

/* Why the last capture ended */
enum capture_end {
	CAPTURE_END_NONE,   /* still capturing, or never started */
	CAPTURE_END_STOP,   /* capture_stop() */
	CAPTURE_END_COUNT,  /* max_frames reached */
	CAPTURE_END_SIZE,   /* the file is full and there is no rotation */
	CAPTURE_END_ERROR,  /* see capture_info.error */
	CAPTURE_END_COUNT_
};

struct capture_opts {
	uint64_t max_frames;  /* frames over all files; 0: no limit */
	uint64_t max_bytes;   /* per file, headers included; 0: no limit */
	uint32_t snaplen;     /* 0: CAPTURE_SNAPLEN_MAX */
	uint32_t max_files;   /* 0: no rotation; else needs max_bytes */
	struct tapir_logger *log;   /* optional; borrowed until the capture ends */
};

struct capture_info {
	bool active;
	char file[4096];
	uint64_t frames, bytes;            /* over all files of the capture */
	uint64_t file_frames, file_bytes;  /* in the current (or last) file */
	uint64_t truncated;                /* frames cut to snaplen */
	uint64_t max_frames, max_bytes;    /* 0: no limit */
	uint32_t snaplen;
	uint32_t max_files;                /* 0: no rotation */
	uint32_t files;                    /* files opened (1 + rotations) */
	uint32_t rotations;
	enum capture_end end;
	char error[2 * 4096 + 256];        /* set with CAPTURE_END_ERROR */
};

/* Return: a capture point (not capturing), or NULL */
struct capture *capture_new(void);
/* Stop (if capturing) and free.  NULL is allowed. */
void capture_free(struct capture *c);

/* Return: @c as a netif filter (owned by @c), for tapir_netif_chain(); it records
 * both directions while a capture runs and passes every frame on. */
struct tapir_netif_filter *capture_filter(struct capture *c);

/**
 * capture_start() - Open (truncate) @path and record every frame from now on
 * @c:      Capture point
 * @path:   File name (copied); with rotation, FILE.1 ... are made next to it
 * @opts:   Limits, snap length, rotation (copied; opts->log borrowed)
 * @err:    Message on failure
 * @errlen: Size of @err
 *
 * Return: 0, -EBUSY (already capturing), -EINVAL (bad @path or @opts, see
 *         the header comment), or -errno of the open (message in @err)
 */
int capture_start(struct capture *c, const char *path, const struct capture_opts *opts,
		  char *err, size_t errlen);
/* Close the file.  Return: 0 or -ENOENT if not capturing */
int capture_stop(struct capture *c);
void capture_get_info(const struct capture *c, struct capture_info *out);

/* "stop", "count", "size", "error", or NULL for CAPTURE_END_NONE */
const char *capture_end_str(enum capture_end e);

/* Record one frame (a no-op when not capturing) */
void capture_frame(struct capture *c, const uint8_t *frame, size_t len);

#endif /* TAPIR_CAPTURE_H */

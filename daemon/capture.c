/*
 * capture.c - packet capture to pcap files (libpcap's dump writer), with rotation
 *
 * Theory of operation: see capture.h.
 */
#include <assert.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "capture.h"
#include "tapir/log.h"

#define PCAP_FILE_HDR 24  /* struct pcap_file_header on disk */
#define PCAP_REC_HDR 16   /* struct pcap_sf_pkthdr on disk */
#define FLUSH_EVERY 64    /* frames between flushes of the current file */

struct capture {
	struct tapir_netif_filter f;  /* lower: the device side; upper: the stack side */
	pcap_t *dead;
	pcap_dumper_t *dump;
	struct tapir_logger *log;  /* borrowed while capturing, else NULL */
	struct capture_info info;
};

static const char *const end_names[] = {
	[CAPTURE_END_NONE] = NULL,
	[CAPTURE_END_STOP] = "stop",
	[CAPTURE_END_COUNT] = "count",
	[CAPTURE_END_SIZE] = "size",
	[CAPTURE_END_ERROR] = "error",
};
static_assert(sizeof(end_names) / sizeof(end_names[0]) == CAPTURE_END_COUNT_,
	      "one name per enum capture_end");

const char *capture_end_str(enum capture_end e)
{
	return (unsigned)e < CAPTURE_END_COUNT_ ? end_names[e] : NULL;
}

static const struct tapir_netif_filter_ops cap_ops;

struct capture *capture_new(void)
{
	struct capture *c = calloc(1, sizeof(struct capture));
	if (c)
		c->f.ops = &cap_ops;
	return c;
}

void capture_free(struct capture *c)
{
	if (!c)
		return;
	capture_stop(c);
	free(c);
}

/* Close the dump and the dead handle; record why the capture ended */
static void finish(struct capture *c, enum capture_end why)
{
	if (c->dump)
		pcap_dump_close(c->dump);
	if (c->dead)
		pcap_close(c->dead);
	c->dump = NULL;
	c->dead = NULL;
	c->info.active = false;
	c->info.end = why;
	c->log = NULL;
}

/* End the capture with the error in info.error (and log it) */
static void end_error(struct capture *c)
{
	if (c->log)
		tapir_log_err(c->log, "capture: %s; capture stopped after %llu frames in %u files",
			c->info.error, (unsigned long long)c->info.frames, c->info.files);
	finish(c, CAPTURE_END_ERROR);
}

/* End the capture after @what on @path failed with errno @e */
static void fail(struct capture *c, int e, const char *what, const char *path)
{
	snprintf(c->info.error, sizeof(c->info.error), "%s %s: %s", what, path, strerror(e));
	end_error(c);
}

/* Open info.file afresh (truncated) for the next frames.  Return: 0 or -errno */
static int open_file(struct capture *c, char *err, size_t errlen)
{
	errno = 0;
	pcap_dumper_t *dump = pcap_dump_open(c->dead, c->info.file);
	if (!dump) {
		int e = errno ? errno : EIO;
		snprintf(err, errlen, "%s", pcap_geterr(c->dead));
		return -e;
	}
	c->dump = dump;
	c->info.files++;
	c->info.file_frames = 0;
	c->info.file_bytes = PCAP_FILE_HDR;
	c->info.bytes += PCAP_FILE_HDR;
	return 0;
}

/* Flush the current file.  Return: 0 or the errno of a failed write */
static int flush(struct capture *c)
{
	errno = 0;
	if (pcap_dump_flush(c->dump) || ferror(pcap_dump_file(c->dump)))
		return errno ? errno : EIO;
	return 0;
}

/* FILE for @k == 0, else FILE.k */
static void rotated_name(char *out, size_t outlen, const char *file, unsigned k)
{
	if (k)
		snprintf(out, outlen, "%s.%u", file, k);
	else
		snprintf(out, outlen, "%s", file);
}

/*
 * rotate() - Close the current file, shift the set by one, open a fresh FILE
 *
 * Return: 0, or -errno with the capture ended (CAPTURE_END_ERROR)
 */
static int rotate(struct capture *c)
{
	char from[sizeof(c->info.file) + 16], to[sizeof(c->info.file) + 16];
	int e = flush(c);
	if (e) {
		fail(c, e, "write", c->info.file);
		return -e;
	}
	pcap_dump_close(c->dump);
	c->dump = NULL;
	/* This capture's files are FILE, FILE.1 .. FILE.(files-1), newest first;
	 * renaming onto FILE.(max_files-1) replaces the oldest. */
	unsigned top = c->info.files < c->info.max_files ? c->info.files
							 : c->info.max_files - 1;
	for (unsigned k = top; k >= 1; k--) {
		rotated_name(from, sizeof(from), c->info.file, k - 1);
		rotated_name(to, sizeof(to), c->info.file, k);
		if (rename(from, to) && errno != ENOENT) {  /* ENOENT: removed by hand */
			e = errno;
			snprintf(c->info.error, sizeof(c->info.error), "rename %s to %s: %s", from,
				 to, strerror(e));
			end_error(c);
			return -e;
		}
	}
	char err[PCAP_ERRBUF_SIZE];
	int rc = open_file(c, err, sizeof(err));
	if (rc) {
		snprintf(c->info.error, sizeof(c->info.error), "open %s", err);  /* has the name */
		end_error(c);
		return rc;
	}
	c->info.rotations++;
	if (c->log)
		tapir_log_debug(c->log, "capture: rotated %s (%u rotations)", c->info.file,
			  c->info.rotations);
	return 0;
}

int capture_start(struct capture *c, const char *path, const struct capture_opts *opts,
		  char *err, size_t errlen)
{
	if (c->dump) {
		snprintf(err, errlen, "already capturing to %s", c->info.file);
		return -EBUSY;
	}
	if (!*path || strlen(path) >= sizeof(c->info.file) - 8) {
		snprintf(err, errlen, "bad file name");
		return -EINVAL;
	}
	uint32_t snaplen = opts->snaplen ? opts->snaplen : CAPTURE_SNAPLEN_MAX;
	if (snaplen < CAPTURE_SNAPLEN_MIN || snaplen > CAPTURE_SNAPLEN_MAX) {
		snprintf(err, errlen, "snaplen must be 0 (%u) or from %u to %u",
			 CAPTURE_SNAPLEN_MAX, CAPTURE_SNAPLEN_MIN, CAPTURE_SNAPLEN_MAX);
		return -EINVAL;
	}
	if (opts->max_files &&
	    (opts->max_files < CAPTURE_FILES_MIN || opts->max_files > CAPTURE_FILES_MAX)) {
		snprintf(err, errlen, "files must be 0 (no rotation) or from %u to %u",
			 CAPTURE_FILES_MIN, CAPTURE_FILES_MAX);
		return -EINVAL;
	}
	if (opts->max_files && !opts->max_bytes) {
		snprintf(err, errlen, "rotation (files) needs a size limit (max_bytes)");
		return -EINVAL;
	}
	pcap_t *dead = pcap_open_dead(DLT_EN10MB, (int)snaplen);
	if (!dead) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	memset(&c->info, 0, sizeof(c->info));
	strcpy(c->info.file, path);
	c->info.max_frames = opts->max_frames;
	c->info.max_bytes = opts->max_bytes;
	c->info.snaplen = snaplen;
	c->info.max_files = opts->max_files;
	c->dead = dead;
	int rc = open_file(c, err, errlen);
	if (rc) {
		pcap_close(dead);
		c->dead = NULL;
		c->info.files = 0;
		c->info.bytes = 0;
		return rc;
	}
	c->info.active = true;
	c->log = opts->log;
	return 0;
}

int capture_stop(struct capture *c)
{
	if (!c->dump)
		return -ENOENT;
	int e = flush(c);
	if (e)
		fail(c, e, "write", c->info.file);  /* still stopped, and says why */
	else
		finish(c, CAPTURE_END_STOP);
	return 0;
}

void capture_get_info(const struct capture *c, struct capture_info *out)
{
	*out = c->info;
}

void capture_frame(struct capture *c, const uint8_t *frame, size_t len)
{
	if (!c || !c->dump)
		return;
	struct capture_info *in = &c->info;
	struct pcap_pkthdr h;
	gettimeofday(&h.ts, NULL);
	h.len = (bpf_u_int32)len;
	h.caplen = (bpf_u_int32)(len < in->snaplen ? len : in->snaplen);
	uint64_t rec = PCAP_REC_HDR + (uint64_t)h.caplen;
	if (in->max_bytes && in->file_frames && in->file_bytes + rec > in->max_bytes) {
		if (!in->max_files) {
			if (c->log)
				tapir_log_info(c->log, "capture: %s is full (%llu bytes); stopped",
					 in->file, (unsigned long long)in->file_bytes);
			finish(c, CAPTURE_END_SIZE);
			return;
		}
		if (rotate(c))
			return;
	}
	pcap_dump((u_char *)c->dump, &h, frame);
	in->frames++;
	in->file_frames++;
	in->bytes += rec;
	in->file_bytes += rec;
	if (h.caplen < h.len)
		in->truncated++;
	if (in->max_frames && in->frames >= in->max_frames) {
		if (c->log)
			tapir_log_info(c->log, "capture: %llu frames written to %s; stopped",
				 (unsigned long long)in->frames, in->file);
		finish(c, CAPTURE_END_COUNT);
	} else if (!in->max_files && in->max_bytes &&
		   in->file_bytes + PCAP_REC_HDR > in->max_bytes) {
		if (c->log)
			tapir_log_info(c->log, "capture: %s is full (%llu bytes); stopped", in->file,
				 (unsigned long long)in->file_bytes);
		finish(c, CAPTURE_END_SIZE);
	} else if (in->file_frames % FLUSH_EVERY == 0) {
		int e = flush(c);
		if (e)
			fail(c, e, "write", in->file);
	}
}

/* ---- the filter: transmit (netif) and receive ---- */

static struct capture *CAP(void *dev)
{
	return (struct capture *)((char *)dev - offsetof(struct capture, f));
}

struct fill_wrap {
	struct capture *c;
	tapir_netif_fill_fn fill;
	void *ctx;
};

static size_t wrap_fill(uint8_t *buf, size_t size, void *arg)
{
	struct fill_wrap *w = arg;
	size_t n = w->fill(buf, size, w->ctx);
	capture_frame(w->c, buf, n);
	return n;
}

static size_t cap_mtu(void *dev)
{
	struct capture *c = CAP(dev);
	return c->f.lower.ops->mtu(c->f.lower.dev);
}

static void cap_mac(void *dev, uint8_t mac[6])
{
	struct capture *c = CAP(dev);
	c->f.lower.ops->mac(c->f.lower.dev, mac);
}

static int cap_write(void *dev, size_t size, tapir_netif_fill_fn fill, void *ctx)
{
	struct capture *c = CAP(dev);
	const struct tapir_netif *lower = &c->f.lower;
	if (!c->dump)
		return lower->ops->write(lower->dev, size, fill, ctx);
	struct fill_wrap w = { c, fill, ctx };
	return lower->ops->write(lower->dev, size, wrap_fill, &w);
}

static void cap_flush(void *dev)
{
	struct capture *c = CAP(dev);
	if (c->f.lower.ops->flush)
		c->f.lower.ops->flush(c->f.lower.dev);
}

static void cap_rx(struct tapir_netif_filter *f, const uint8_t *frame, size_t len, unsigned flags)
{
	capture_frame(CAP(f), frame, len);
	tapir_netif_filter_pass(f, frame, len, flags);
}

static const struct tapir_netif_filter_ops cap_ops = {
	.tx = {
		.mtu = cap_mtu,
		.mac = cap_mac,
		.write = cap_write,
		.flush = cap_flush,
	},
	.rx = cap_rx,
};

struct tapir_netif_filter *capture_filter(struct capture *c)
{
	return &c->f;
}

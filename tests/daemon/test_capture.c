/*
 * test_capture.c - packet capture (daemon/capture.c) read back with libpcap:
 * snap length and byte accounting, size and count limits, rotation naming
 * (FILE newest, FILE.1 ... oldest), limits across files, a size limit smaller
 * than one frame, a failed rotation, the tap-through netif (both directions
 * in order), and the "capture" control command's arguments and reply.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <jansson.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture.h"
#include "control.h"
#include "tapir/log.h"

#define MAXF 256

/* One frame as read back */
struct rec {
	uint32_t caplen, len, seq;
	struct timeval ts;
};

struct fx {
	char dir[64];
	char file[128];
	struct capture *c;
	char *logbuf;
	size_t loglen;
	struct tapir_logger log;
};

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(p);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	strcpy(f->dir, "/tmp/test_capture.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->file, sizeof(f->file), "%s/c.pcap", f->dir);
	f->c = capture_new();
	assert_non_null(f->c);
	tapir_logger_init(&f->log, TAPIR_LOG_LEVEL_DEBUG, false);
	f->log.out = open_memstream(&f->logbuf, &f->loglen);
	assert_non_null(f->log.out);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	capture_free(f->c);
	fclose(f->log.out);
	free(f->logbuf);
	nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* A frame of @len bytes numbered @seq: seq (BE) then a pattern derived from it */
static void make_frame(uint8_t *buf, size_t len, uint32_t seq)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seq * 7 + i);
	if (len >= 4) {
		buf[0] = (uint8_t)(seq >> 24);
		buf[1] = (uint8_t)(seq >> 16);
		buf[2] = (uint8_t)(seq >> 8);
		buf[3] = (uint8_t)seq;
	}
}

static void send_frame(struct capture *c, size_t len, uint32_t seq)
{
	static uint8_t buf[70000];
	make_frame(buf, len, seq);
	capture_frame(c, buf, len);
}

/* Name of file @k of the set (0: FILE) */
static const char *name_k(struct fx *f, unsigned k)
{
	static char n[160];
	if (k)
		snprintf(n, sizeof(n), "%s.%u", f->file, k);
	else
		snprintf(n, sizeof(n), "%s", f->file);
	return n;
}

static bool exists(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0;
}

static uint64_t file_size(const char *p)
{
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	return (uint64_t)st.st_size;
}

/*
 * read_back() - Read @path with pcap_open_offline, check the header (Ethernet,
 * @snaplen) and that each record's bytes are the start of the frame it names.
 * Return: number of records appended to @out (from index *n)
 */
static unsigned read_back(const char *path, uint32_t snaplen, struct rec *out, unsigned *n)
{
	char eb[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, eb);
	if (!p)
		fail_msg("pcap_open_offline %s: %s", path, eb);
	assert_int_equal(pcap_datalink(p), DLT_EN10MB);
	assert_int_equal(pcap_snapshot(p), (int)snaplen);
	struct pcap_pkthdr *h;
	const u_char *data;
	unsigned got = 0;
	int rc;
	static uint8_t want[70000];
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		assert_true(*n < MAXF);
		struct rec *r = &out[(*n)++];
		r->caplen = h->caplen;
		r->len = h->len;
		r->ts = h->ts;
		assert_true(h->caplen >= 4);
		r->seq = (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 |
			 (uint32_t)data[2] << 8 | data[3];
		make_frame(want, h->len, r->seq);
		assert_memory_equal(data, want, h->caplen);
		got++;
	}
	assert_int_equal(rc, PCAP_ERROR_BREAK);  /* end of file, not a truncated record */
	pcap_close(p);
	return got;
}

/* Check that @r[0..n) are frames first..first+n-1, all @len long, in time order */
static void check_seq(const struct rec *r, unsigned n, uint32_t first, uint32_t len,
		      uint32_t snaplen)
{
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(r[i].seq, first + i);
		assert_int_equal(r[i].len, len);
		assert_int_equal(r[i].caplen, len < snaplen ? len : snaplen);
		if (i)
			assert_true(timercmp(&r[i - 1].ts, &r[i].ts, <=));
	}
}

static const char *logged(struct fx *f)
{
	fflush(f->log.out);
	return f->logbuf ? f->logbuf : "";
}

static void test_snaplen(void **state)
{
	struct fx *f = *state;
	char err[256];
	struct capture_opts o = { .snaplen = 60 };
	assert_int_equal(capture_start(f->c, f->file, &o, err, sizeof(err)), 0);
	static const size_t lens[] = { 10, 59, 60, 61, 1514, 9000, 65535 };
	uint64_t bytes = 24;
	for (uint32_t i = 0; i < 7; i++) {
		send_frame(f->c, lens[i], i);
		bytes += 16 + (lens[i] < 60 ? lens[i] : 60);
	}
	struct capture_info ci;
	capture_get_info(f->c, &ci);
	assert_true(ci.active);
	assert_int_equal(ci.snaplen, 60);
	assert_int_equal(ci.frames, 7);
	assert_int_equal(ci.truncated, 4);
	assert_int_equal(ci.bytes, bytes);
	assert_int_equal(ci.file_bytes, bytes);
	assert_int_equal(ci.files, 1);
	assert_int_equal(capture_stop(f->c), 0);
	assert_int_equal(capture_stop(f->c), -ENOENT);
	capture_get_info(f->c, &ci);
	assert_false(ci.active);
	assert_int_equal(ci.end, CAPTURE_END_STOP);
	assert_string_equal(capture_end_str(ci.end), "stop");
	assert_int_equal(file_size(f->file), bytes);  /* the accounting is the file */
	struct rec r[MAXF];
	unsigned n = 0;
	assert_int_equal(read_back(f->file, 60, r, &n), 7);
	for (unsigned i = 0; i < 7; i++) {
		assert_int_equal(r[i].seq, i);
		assert_int_equal(r[i].len, lens[i]);
		assert_int_equal(r[i].caplen, lens[i] < 60 ? lens[i] : 60);
	}
	/* not capturing: frames are ignored */
	send_frame(f->c, 100, 99);
	capture_get_info(f->c, &ci);
	assert_int_equal(ci.frames, 7);
}

static void test_snaplen_default(void **state)
{
	struct fx *f = *state;
	char err[256];
	struct capture_opts o = { 0 };
	assert_int_equal(capture_start(f->c, f->file, &o, err, sizeof(err)), 0);
	send_frame(f->c, 65535, 1);
	send_frame(f->c, 64, 2);
	assert_int_equal(capture_stop(f->c), 0);
	struct capture_info ci;
	capture_get_info(f->c, &ci);
	assert_int_equal(ci.snaplen, CAPTURE_SNAPLEN_MAX);
	assert_int_equal(ci.truncated, 0);
	struct rec r[MAXF];
	unsigned n = 0;
	assert_int_equal(read_back(f->file, CAPTURE_SNAPLEN_MAX, r, &n), 2);
	assert_int_equal(r[0].caplen, 65535);
	assert_int_equal(r[0].len, 65535);
	assert_int_equal(file_size(f->file), 24 + 16 + 65535 + 16 + 64);
}

static void test_bad_options(void **state)
{
	struct fx *f = *state;
	char err[256];
	static const struct {
		struct capture_opts o;
		const char *msg;
	} bad[] = {
		{ { .snaplen = 59 }, "snaplen" },
		{ { .snaplen = CAPTURE_SNAPLEN_MAX + 1 }, "snaplen" },
		{ { .max_files = 3 }, "size limit" },
		{ { .max_bytes = 1000, .max_files = 1 }, "files" },
		{ { .max_bytes = 1000, .max_files = CAPTURE_FILES_MAX + 1 }, "files" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		assert_int_equal(capture_start(f->c, f->file, &bad[i].o, err, sizeof(err)),
				 -EINVAL);
		assert_non_null(strstr(err, bad[i].msg));
	}
	struct capture_opts ok = { .snaplen = CAPTURE_SNAPLEN_MIN };
	assert_int_equal(capture_start(f->c, "", &ok, err, sizeof(err)), -EINVAL);
	char nodir[200];
	snprintf(nodir, sizeof(nodir), "%s/no/such/dir.pcap", f->dir);
	assert_int_equal(capture_start(f->c, nodir, &ok, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "dir.pcap"));
	struct capture_info ci;
	capture_get_info(f->c, &ci);
	assert_false(ci.active);
	assert_int_equal(ci.files, 0);
	assert_false(exists(f->file));  /* nothing made by a refused start */
	assert_int_equal(capture_start(f->c, f->file, &ok, err, sizeof(err)), 0);
	assert_int_equal(capture_start(f->c, f->file, &ok, err, sizeof(err)), -EBUSY);
	struct capture_opts most = { .max_bytes = 1, .max_files = CAPTURE_FILES_MAX };
	assert_int_equal(capture_stop(f->c), 0);
	assert_int_equal(capture_start(f->c, f->file, &most, err, sizeof(err)), 0);
}

/* 100-byte frames, 5 per file of 24 + 5 * 116 = 604 bytes */
#define FLEN 100
#define PER_FILE 5
#define FSIZE (24 + PER_FILE * (16 + FLEN))

static void test_rotation(void **state)
{
	struct fx *f = *state;
	char err[256];
	struct capture_opts o = { .max_bytes = FSIZE, .max_files = 3, .log = &f->log };
	assert_int_equal(capture_start(f->c, f->file, &o, err, sizeof(err)), 0);
	struct capture_info ci;
	for (uint32_t i = 0; i < 23; i++) {
		send_frame(f->c, FLEN, i);
		capture_get_info(f->c, &ci);
		/* a full file is rotated when the next frame comes, not before */
		assert_int_equal(ci.files, i / PER_FILE + 1);
		assert_int_equal(ci.file_frames, i % PER_FILE + 1);
		if (i == 4)  /* FILE is exactly full; nothing renamed yet */
			assert_false(exists(name_k(f, 1)));
	}
	assert_true(ci.active);
	assert_int_equal(ci.frames, 23);
	assert_int_equal(ci.files, 5);
	assert_int_equal(ci.rotations, 4);
	assert_int_equal(ci.max_files, 3);
	assert_int_equal(ci.bytes, 5 * 24 + 23 * (16 + FLEN));
	assert_int_equal(capture_stop(f->c), 0);
	/* FILE: frames 20-22, FILE.1: 15-19, FILE.2: 10-14; 0-9 rotated away */
	assert_true(exists(name_k(f, 0)) && exists(name_k(f, 1)) && exists(name_k(f, 2)));
	assert_false(exists(name_k(f, 3)));
	assert_int_equal(file_size(name_k(f, 2)), FSIZE);
	assert_int_equal(file_size(name_k(f, 1)), FSIZE);
	assert_int_equal(file_size(name_k(f, 0)), 24 + 3 * (16 + FLEN));
	struct rec r[MAXF];
	unsigned n = 0;
	assert_int_equal(read_back(name_k(f, 2), CAPTURE_SNAPLEN_MAX, r, &n), 5);
	assert_int_equal(read_back(name_k(f, 1), CAPTURE_SNAPLEN_MAX, r, &n), 5);
	assert_int_equal(read_back(name_k(f, 0), CAPTURE_SNAPLEN_MAX, r, &n), 3);
	check_seq(r, n, 10, FLEN, CAPTURE_SNAPLEN_MAX);
	assert_non_null(strstr(logged(f), "rotated"));
}

static void test_rotation_snaplen(void **state)
{
	struct fx *f = *state;
	char err[256];
	/* 1500-byte frames cut to 96: records of 112 bytes, 4 to a file */
	struct capture_opts o = { .max_bytes = 24 + 4 * 112 + 50, .max_files = 4,
				  .snaplen = 96 };
	assert_int_equal(capture_start(f->c, f->file, &o, err, sizeof(err)), 0);
	for (uint32_t i = 0; i < 14; i++)
		send_frame(f->c, 1500, i);
	struct capture_info ci;
	capture_get_info(f->c, &ci);
	assert_int_equal(ci.files, 4);
	assert_int_equal(ci.rotations, 3);
	assert_int_equal(ci.truncated, 14);
	assert_int_equal(ci.bytes, 4 * 24 + 14 * 112);
	assert_int_equal(capture_stop(f->c), 0);
	struct rec r[MAXF];
	unsigned n = 0;
	for (unsigned k = 4; k-- > 0;)
		read_back(name_k(f, k), 96, r, &n);
	assert_int_equal(n, 14);
	check_seq(r, n, 0, 1500, 96);
}

static void test_count_across_files(void **state)
{
	struct fx *f = *state;
	char err[256];
	struct capture_opts o = { .max_frames = 12, .max_bytes = FSIZE, .max_files = 4,
				  .log = &f->log };
	assert_int_equal(capture_start(f->c, f->file, &o, err, sizeof(err)), 0);
	for (uint32_t i = 0; i < 30; i++)
		send_frame(f->c, FLEN, i);
	struct capture_info ci;
	capture_get_info(f->c, &ci);
	assert_false(ci.active);
	assert_int_equal(ci.end, CAPTURE_END_COUNT);
	assert_int_equal(ci.frames, 12);
	assert_int_equal(ci.files, 3);
	assert_int_equal(ci.rotations, 2);
	assert_int_equal(ci.file_frames, 2);
	assert_int_equal(capture_stop(f->c), -ENOENT);
	assert_false(exists(name_k(f, 3)));
	struct rec r[MAXF];
	unsigned n = 0;
	assert_int_equal(read_back(name_k(f, 2), CAPTURE_SNAPLEN_MAX, r, &n), 5);
	assert_int_equal(read_back(name_k(f, 1), CAPTURE_SNAPLEN_MAX, r, &n), 5);
	assert_int_equal(read_back(name_k(f, 0), CAPTURE_SNAPLEN_MAX, r, &n), 2);
	check_seq(r, n, 0, FLEN, CAPTURE_SNAPLEN_MAX);
	assert_non_null(strstr(logged(f), "12 frames"));
}

static void test_size_stops_without_files(void **state)
{
	struct fx *f = *state;
	char err[256];
	struct capture_opts o = { .max_bytes = FSIZE + 20 };
	assert_int_equal(capture_start(f->c, f->file, &o, err, sizeof(err)), 0);
	for (uint32_t i = 0; i < 9; i++)
		send_frame(f->c, FLEN, i);
	struct capture_info ci;
	capture_get_info(f->c, &ci);
	assert_false(ci.active);
	assert_int_equal(ci.end, CAPTURE_END_SIZE);
	assert_int_equal(ci.frames, PER_FILE);  /* the 6th did not fit: not recorded */
	assert_int_equal(ci.files, 1);
	assert_int_equal(ci.rotations, 0);
	assert_false(exists(name_k(f, 1)));
	assert_true(file_size(f->file) <= FSIZE + 20);
	struct rec r[MAXF];
	unsigned n = 0;
	assert_int_equal(read_back(f->file, CAPTURE_SNAPLEN_MAX, r, &n), PER_FILE);
	check_seq(r, n, 0, FLEN, CAPTURE_SNAPLEN_MAX);

	/* exactly full: ends right after the frame that fills it */
	o.max_bytes = FSIZE;
	assert_int_equal(capture_start(f->c, f->file, &o, err, sizeof(err)), 0);
	for (uint32_t i = 0; i < PER_FILE; i++)
		send_frame(f->c, FLEN, i);
	capture_get_info(f->c, &ci);
	assert_false(ci.active);
	assert_int_equal(ci.frames, PER_FILE);
	assert_int_equal(file_size(f->file), FSIZE);
}

static void test_tiny_size(void **state)
{
	struct fx *f = *state;
	char err[256];
	/* smaller than any record: one frame per file, still progressing */
	struct capture_opts o = { .max_bytes = 1, .max_files = 3 };
	assert_int_equal(capture_start(f->c, f->file, &o, err, sizeof(err)), 0);
	for (uint32_t i = 0; i < 7; i++)
		send_frame(f->c, 200 + i, i);
	struct capture_info ci;
	capture_get_info(f->c, &ci);
	assert_true(ci.active);
	assert_int_equal(ci.frames, 7);
	assert_int_equal(ci.files, 7);
	assert_int_equal(ci.rotations, 6);
	assert_int_equal(capture_stop(f->c), 0);
	assert_false(exists(name_k(f, 3)));
	struct rec r[MAXF];
	for (unsigned k = 0; k < 3; k++) {
		unsigned n = 0;
		assert_int_equal(read_back(name_k(f, k), CAPTURE_SNAPLEN_MAX, r, &n), 1);
		assert_int_equal(r[0].seq, 6 - k);
		assert_int_equal(r[0].len, 206 - k);
	}

	/* without rotation: the first frame is written, then the capture ends */
	struct capture_opts o2 = { .max_bytes = 1 };
	assert_int_equal(capture_start(f->c, f->file, &o2, err, sizeof(err)), 0);
	send_frame(f->c, 300, 1);
	send_frame(f->c, 300, 2);
	capture_get_info(f->c, &ci);
	assert_false(ci.active);
	assert_int_equal(ci.end, CAPTURE_END_SIZE);
	assert_int_equal(ci.frames, 1);
	unsigned n = 0;
	assert_int_equal(read_back(f->file, CAPTURE_SNAPLEN_MAX, r, &n), 1);
}

/* FILE.k from an earlier capture is not shifted, only replaced in turn */
static void test_stale_files(void **state)
{
	struct fx *f = *state;
	char err[256];
	FILE *s = fopen(name_k(f, 2), "w");
	assert_non_null(s);
	fputs("stale", s);
	fclose(s);
	struct capture_opts o = { .max_bytes = FSIZE, .max_files = 3 };
	assert_int_equal(capture_start(f->c, f->file, &o, err, sizeof(err)), 0);
	for (uint32_t i = 0; i < 2 * PER_FILE; i++)
		send_frame(f->c, FLEN, i);
	assert_int_equal(file_size(name_k(f, 2)), 5);  /* still the stale one */
	send_frame(f->c, FLEN, 10);
	send_frame(f->c, FLEN, 11);
	assert_int_equal(capture_stop(f->c), 0);
	assert_int_equal(file_size(name_k(f, 2)), FSIZE);  /* ours, frames 0-4 */
	struct rec r[MAXF];
	unsigned n = 0;
	for (unsigned k = 3; k-- > 0;)
		read_back(name_k(f, k), CAPTURE_SNAPLEN_MAX, r, &n);
	assert_int_equal(n, 12);
	check_seq(r, n, 0, FLEN, CAPTURE_SNAPLEN_MAX);
}

/* A rename that fails (FILE.1 is a non-empty directory) ends the capture */
static void test_rotation_failure(void **state)
{
	struct fx *f = *state;
	char err[256], inner[200];
	assert_int_equal(mkdir(name_k(f, 1), 0700), 0);
	snprintf(inner, sizeof(inner), "%s/x", name_k(f, 1));
	FILE *s = fopen(inner, "w");
	assert_non_null(s);
	fclose(s);
	struct capture_opts o = { .max_bytes = FSIZE, .max_files = 3, .log = &f->log };
	assert_int_equal(capture_start(f->c, f->file, &o, err, sizeof(err)), 0);
	for (uint32_t i = 0; i < 3 * PER_FILE; i++)
		send_frame(f->c, FLEN, i);
	struct capture_info ci;
	capture_get_info(f->c, &ci);
	assert_false(ci.active);
	assert_int_equal(ci.end, CAPTURE_END_ERROR);
	assert_string_equal(capture_end_str(ci.end), "error");
	assert_non_null(strstr(ci.error, "rename"));
	assert_non_null(strstr(ci.error, name_k(f, 1)));
	assert_int_equal(ci.frames, PER_FILE);
	assert_int_equal(ci.rotations, 0);
	assert_non_null(strstr(logged(f), "capture stopped"));
	assert_int_equal(capture_stop(f->c), -ENOENT);
	/* the frames written stay readable */
	struct rec r[MAXF];
	unsigned n = 0;
	assert_int_equal(read_back(f->file, CAPTURE_SNAPLEN_MAX, r, &n), PER_FILE);
	check_seq(r, n, 0, FLEN, CAPTURE_SNAPLEN_MAX);
	/* and a new capture can start */
	assert_int_equal(capture_start(f->c, f->file, &o, err, sizeof(err)), 0);
	capture_get_info(f->c, &ci);
	assert_true(ci.active);
	assert_int_equal(ci.end, CAPTURE_END_NONE);
	assert_null(capture_end_str(ci.end));
	assert_string_equal(ci.error, "");
}

/* ---- the filter: sent frames and received ones, in order ---- */

static unsigned inner_writes, upper_frames;
static uint8_t inner_buf[2048];

static size_t in_mtu(void *dev) { return 1500; }
static void in_mac(void *dev, uint8_t mac[6]) { memset(mac, 2, 6); }
static int in_write(void *dev, size_t size, tapir_netif_fill_fn fill, void *ctx)
{
	if (size > sizeof(inner_buf))
		return -EMSGSIZE;
	fill(inner_buf, size, ctx);
	inner_writes++;
	return 0;
}
static const struct tapir_netif_ops in_ops = { in_mtu, in_mac, in_write, NULL };

static void up_rx(void *ctx, const uint8_t *frame, size_t len, unsigned flags)
{
	assert_int_equal(len, 300);
	assert_int_equal(flags, TAPIR_NETIF_RX_CSUM_VALID);  /* flags travel with the frame */
	upper_frames++;
}

static size_t fill_seq(uint8_t *buf, size_t size, void *ctx)
{
	make_frame(buf, 300, *(uint32_t *)ctx);
	return 300;
}

static void test_netif(void **state)
{
	struct fx *f = *state;
	char err[256];
	struct tapir_netif inner = { &in_ops, NULL }, nif;
	struct tapir_netif_rx up = { up_rx, NULL }, rx;
	struct tapir_netif_filter *flt = capture_filter(f->c);
	tapir_netif_chain(&inner, &up, &flt, 1, &nif, &rx);
	assert_int_equal(nif.ops->mtu(nif.dev), 1500);
	uint32_t seq = 100;
	assert_int_equal(nif.ops->write(nif.dev, 1514, fill_seq, &seq), 0);  /* not captured */
	struct capture_opts o = { .snaplen = 128, .max_bytes = 24 + 3 * (16 + 128),
				  .max_files = 2 };
	assert_int_equal(capture_start(f->c, f->file, &o, err, sizeof(err)), 0);
	for (seq = 0; seq < 10; seq++) {
		if (seq % 2) {  /* received */
			uint8_t buf[300];
			make_frame(buf, sizeof(buf), seq);
			tapir_netif_rx_input(&rx, buf, sizeof(buf), TAPIR_NETIF_RX_CSUM_VALID);
		} else
			assert_int_equal(nif.ops->write(nif.dev, 1514, fill_seq, &seq), 0);
	}
	assert_int_equal(inner_writes, 6);
	assert_int_equal(upper_frames, 5);
	assert_int_equal(capture_stop(f->c), 0);
	struct rec r[MAXF];
	unsigned n = 0;
	assert_int_equal(read_back(name_k(f, 1), 128, r, &n), 3);
	assert_int_equal(read_back(name_k(f, 0), 128, r, &n), 1);
	check_seq(r, n, 6, 300, 128);
}

/* ---- the control command ---- */

static uint8_t sink[70000];
static size_t sink_mtu(void *dev) { return 1500; }
static void sink_mac(void *dev, uint8_t mac[6]) { memset(mac, 2, 6); }
static int sink_write(void *dev, size_t size, tapir_netif_fill_fn fill, void *ctx)
{
	fill(sink, size, ctx);
	return 0;
}
static const struct tapir_netif_ops sink_ops = { sink_mtu, sink_mac, sink_write, NULL };
static void rnd(void *ctx, void *buf, size_t len) { memset(buf, 7, len); }

static json_t *ctl_req(struct control *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static json_t *ctl_req(struct control *c, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	size_t len = 0;
	char *out = control_handle(c, 1, line, strlen(line), 1000000000ull, &len);
	assert_non_null(out);
	json_t *j = json_loadb(out, len, 0, NULL);
	free(out);
	assert_non_null(j);
	return j;
}

static void expect_err(struct control *c, const char *args, const char *code, const char *msg)
{
	json_t *j = ctl_req(c, "{\"cmd\":\"capture\",\"args\":%s}", args);
	json_t *e = json_object_get(j, "error");
	if (!json_is_false(json_object_get(j, "ok")) ||
	    strcmp(json_string_value(json_object_get(e, "code")), code) ||
	    !strstr(json_string_value(json_object_get(e, "message")), msg)) {
		char *s = json_dumps(j, 0);
		fail_msg("%s: want %s '%s', got %s", args, code, msg, s);
	}
	json_decref(j);
}

static void test_control(void **state)
{
	struct fx *f = *state;
	struct tapir_stack_config sc;
	tapir_stack_config_defaults(&sc);
	sc.addr = 0xc0000202;
	sc.gateway = 0xc0000201;
	sc.random = rnd;
	struct tapir_netif nif = { &sink_ops, NULL };
	struct tapir_stack *st;
	assert_int_equal(tapir_stack_new(&st, &sc, &nif, 1000000000ull), 0);
	struct control_env env = {
		.st = st, .log = &f->log, .name = "t", .version = "9", .backend = "sink",
		.ifname = "s0", .mtu = 1500, .prefix_len = 24, .gateway = sc.gateway,
		.started = 1000000000ull, .pid = 42, .cap = f->c,
	};
	struct control *c = control_new(&env);
	assert_non_null(c);

	char a[512];
	expect_err(c, "{\"action\":\"start\",\"file\":\"/x\",\"snaplen\":59}", "EINVAL", "snaplen");
	expect_err(c, "{\"action\":\"start\",\"file\":\"/x\",\"snaplen\":262145}", "EINVAL",
		   "snaplen");
	expect_err(c, "{\"action\":\"start\",\"file\":\"/x\",\"snaplen\":-1}", "EINVAL", "snaplen");
	expect_err(c, "{\"action\":\"start\",\"file\":\"/x\",\"files\":3}", "EINVAL", "max_bytes");
	expect_err(c, "{\"action\":\"start\",\"file\":\"/x\",\"files\":1,\"max_bytes\":9}", "EINVAL",
		   "'files'");
	expect_err(c, "{\"action\":\"start\",\"file\":\"/x\",\"files\":1001,\"max_bytes\":9}",
		   "EINVAL", "'files'");
	expect_err(c, "{\"action\":\"start\",\"file\":\"/x\",\"files\":\"3\",\"max_bytes\":9}",
		   "EINVAL", "'files'");
	expect_err(c, "{\"action\":\"start\",\"file\":\"/x\",\"max_bytes\":1.5}", "EINVAL",
		   "max_bytes");
	expect_err(c, "{\"action\":\"start\",\"file\":\"x.pcap\"}", "EINVAL", "absolute");
	expect_err(c, "{\"action\":\"start\"}", "EINVAL", "'file'");
	expect_err(c, "{\"action\":\"rotate\"}", "EINVAL", "action");
	expect_err(c, "{\"action\":\"stop\"}", "ENOENT", "not capturing");
	snprintf(a, sizeof(a), "{\"action\":\"start\",\"file\":\"%s/no/dir\"}", f->dir);
	expect_err(c, a, "ENOENT", "no/dir");

	json_t *j = ctl_req(c, "{\"cmd\":\"capture\",\"args\":{\"action\":\"start\",\"file\":\"%s\","
			       "\"snaplen\":96,\"max_bytes\":%d,\"files\":3,\"count\":40}}",
			    f->file, 24 + 2 * 112);
	json_t *r = json_object_get(j, "result");
	assert_true(json_is_true(json_object_get(j, "ok")));
	assert_true(json_is_true(json_object_get(r, "active")));
	assert_string_equal(json_string_value(json_object_get(r, "file")), f->file);
	assert_int_equal(json_integer_value(json_object_get(r, "snaplen")), 96);
	assert_int_equal(json_integer_value(json_object_get(r, "max_files")), 3);
	assert_int_equal(json_integer_value(json_object_get(r, "max_bytes")), 24 + 2 * 112);
	assert_int_equal(json_integer_value(json_object_get(r, "max_frames")), 40);
	assert_int_equal(json_integer_value(json_object_get(r, "files")), 1);
	assert_true(json_is_null(json_object_get(r, "end")));
	assert_true(json_is_null(json_object_get(r, "error")));
	json_decref(j);
	expect_err(c, "{\"action\":\"start\",\"file\":\"/x\"}", "EBUSY", "already");
	for (uint32_t i = 0; i < 7; i++)
		send_frame(f->c, 1000, i);
	j = ctl_req(c, "{\"cmd\":\"capture\",\"args\":{\"action\":\"status\"}}");
	r = json_object_get(j, "result");
	assert_int_equal(json_integer_value(json_object_get(r, "frames")), 7);
	assert_int_equal(json_integer_value(json_object_get(r, "truncated")), 7);
	assert_int_equal(json_integer_value(json_object_get(r, "files")), 4);
	assert_int_equal(json_integer_value(json_object_get(r, "rotations")), 3);
	assert_int_equal(json_integer_value(json_object_get(r, "file_frames")), 1);
	assert_int_equal(json_integer_value(json_object_get(r, "file_bytes")), 24 + 112);
	assert_int_equal(json_integer_value(json_object_get(r, "bytes")), 4 * 24 + 7 * 112);
	json_decref(j);
	j = ctl_req(c, "{\"cmd\":\"capture\",\"args\":{\"action\":\"stop\"}}");
	r = json_object_get(j, "result");
	assert_true(json_is_false(json_object_get(r, "active")));
	assert_string_equal(json_string_value(json_object_get(r, "end")), "stop");
	json_decref(j);
	control_free(c);
	tapir_stack_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_snaplen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snaplen_default, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_options, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation_snaplen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_count_across_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_stops_without_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tiny_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_netif, setup, teardown),
		cmocka_unit_test_setup_teardown(test_control, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_filters.c - netif filters (netif.h) composed: the impairment
 * (backends/impair.c) and the capture (daemon/capture.c) chained in both
 * orders between a fake device and a fake stack, frames sent and received
 * through the chain, each filter seeing both directions at its place.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "impair.h"
#include "tapir/netif.h"

#define N 5
#define FRAME_LEN 200
#define DELAY_NS 1000000ull

/* The device under the chain and the stack above it: frame counters. */
struct ends {
	unsigned dev_frames;      /* written to the device */
	unsigned dev_flushes;
	unsigned stack_frames;    /* received by the stack */
	unsigned stack_bad_flags; /* received without the device's flags */
	uint8_t last_tx[FRAME_LEN];
};

static size_t dev_mtu(void *dev) { return 1500; }
static void dev_mac(void *dev, uint8_t mac[6]) { memset(mac, 2, 6); }

static int dev_write(void *dev, size_t size, tapir_netif_fill_fn fill, void *ctx)
{
	struct ends *e = dev;
	uint8_t buf[1514];
	if (size > sizeof(buf))
		return -EMSGSIZE;
	size_t n = fill(buf, size, ctx);
	assert_int_equal(n, FRAME_LEN);
	memcpy(e->last_tx, buf, FRAME_LEN);
	e->dev_frames++;
	return 0;
}

static void dev_flush(void *dev)
{
	((struct ends *)dev)->dev_flushes++;
}

static const struct tapir_netif_ops dev_ops = { dev_mtu, dev_mac, dev_write, dev_flush };

static void stack_rx(void *ctx, const uint8_t *frame, size_t len, unsigned flags)
{
	struct ends *e = ctx;
	assert_int_equal(len, FRAME_LEN);
	e->stack_frames++;
	if (flags != TAPIR_NETIF_RX_CSUM_VALID)
		e->stack_bad_flags++;
}

static size_t fill_frame(uint8_t *buf, size_t size, void *ctx)
{
	memset(buf, *(uint8_t *)ctx, FRAME_LEN);
	return FRAME_LEN;
}

struct fx {
	char dir[64], file[128];
	struct ends e;
	struct impair *im;
	struct capture *cap;
	struct tapir_netif top;      /* the stack writes here */
	struct tapir_netif_rx bottom; /* the device's frames go here */
};

/* Build device - f[0] - f[1] - stack; @capture_first: the capture next to the device. */
static void fx_init(struct fx *f, bool capture_first)
{
	char err[256];
	memset(f, 0, sizeof(*f));
	strcpy(f->dir, "/tmp/test_filters.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->file, sizeof(f->file), "%s/c.pcap", f->dir);

	struct impair_config c;
	impair_config_defaults(&c);
	assert_int_equal(impair_config_set(&c, "duplicate", "100%", err, sizeof(err)), 0);
	assert_int_equal(impair_config_set(&c, "delay", "1ms", err, sizeof(err)), 0);
	f->im = impair_new(&c);
	f->cap = capture_new();
	assert_non_null(f->im);
	assert_non_null(f->cap);

	struct tapir_netif_filter *chain[2];
	chain[capture_first ? 0 : 1] = capture_filter(f->cap);
	chain[capture_first ? 1 : 0] = impair_filter(f->im);
	struct tapir_netif dev = { &dev_ops, &f->e };
	struct tapir_netif_rx up = { stack_rx, &f->e };
	tapir_netif_chain(&dev, &up, chain, 2, &f->top, &f->bottom);
	impair_poll(f->im, 0);

	struct capture_opts o = { 0 };
	assert_int_equal(capture_start(f->cap, f->file, &o, err, sizeof(err)), 0);
}

static void fx_free(struct fx *f)
{
	capture_free(f->cap);
	impair_free(f->im);
	unlink(f->file);
	rmdir(f->dir);
}

/* Send N and receive N frames through the chain. */
static void traffic(struct fx *f)
{
	for (uint8_t i = 0; i < N; i++) {
		uint8_t tag = (uint8_t)(0x10 + i);
		assert_int_equal(f->top.ops->write(f->top.dev, FRAME_LEN, fill_frame, &tag), 0);
		uint8_t frame[FRAME_LEN];
		memset(frame, 0x80 + i, sizeof(frame));
		tapir_netif_rx_input(&f->bottom, frame, sizeof(frame), TAPIR_NETIF_RX_CSUM_VALID);
	}
	f->top.ops->flush(f->top.dev);
}

static uint64_t captured(const struct fx *f)
{
	struct capture_info ci;
	capture_get_info(f->cap, &ci);
	return ci.frames;
}

/* The transmit side is the same netif in both orders (mtu, mac pass down). */
static void check_netif(struct fx *f)
{
	uint8_t mac[6];
	assert_int_equal(f->top.ops->mtu(f->top.dev), 1500);
	f->top.ops->mac(f->top.dev, mac);
	assert_int_equal(mac[0], 2);
}

/*
 * device - capture - impair - stack: the capture sees the wire.  Sent frames
 * are recorded after the impairment (both copies, when the delay has
 * passed), received ones before it (once, at once).
 */
static void test_capture_next_to_device(void **state)
{
	struct fx f;
	fx_init(&f, true);
	check_netif(&f);
	traffic(&f);
	assert_int_equal(f.e.dev_frames, 0);     /* held by the delay */
	assert_int_equal(f.e.stack_frames, 0);
	assert_int_equal(captured(&f), N);       /* the received ones, as they came */

	impair_poll(f.im, DELAY_NS);
	assert_int_equal(f.e.dev_frames, 2 * N); /* duplicated */
	assert_int_equal(f.e.last_tx[0], 0x10 + N - 1);
	assert_true(f.e.dev_flushes >= 1);       /* impair_poll flushes what it sent */
	assert_int_equal(f.e.stack_frames, 2 * N);
	assert_int_equal(f.e.stack_bad_flags, 0);  /* flags held with the frames */
	assert_int_equal(captured(&f), N + 2 * N);  /* + both copies of each sent one */

	struct impair_stats st;
	impair_get_stats(f.im, &st);
	assert_int_equal(st.tx_frames, N);
	assert_int_equal(st.rx_frames, N);
	assert_int_equal(st.duplicated, 2 * N);
	fx_free(&f);
}

/*
 * device - impair - capture - stack: the capture sees what the stack sees.
 * Sent frames are recorded before the impairment (once, at once), received
 * ones after it (both copies, when the delay has passed).
 */
static void test_capture_next_to_stack(void **state)
{
	struct fx f;
	fx_init(&f, false);
	check_netif(&f);
	traffic(&f);
	assert_int_equal(f.e.dev_frames, 0);
	assert_int_equal(f.e.stack_frames, 0);
	assert_int_equal(captured(&f), N);       /* the sent ones, as the stack wrote them */

	impair_poll(f.im, DELAY_NS);
	assert_int_equal(f.e.dev_frames, 2 * N);
	assert_int_equal(f.e.stack_frames, 2 * N);
	assert_int_equal(f.e.stack_bad_flags, 0);
	assert_int_equal(captured(&f), N + 2 * N);  /* + both copies of each received one */
	fx_free(&f);
}

/* A stopped capture passes frames both ways untouched; no filter at all is the device. */
static void test_pass_through(void **state)
{
	struct fx f;
	fx_init(&f, true);
	assert_int_equal(capture_stop(f.cap), 0);
	traffic(&f);
	impair_poll(f.im, DELAY_NS);
	assert_int_equal(f.e.dev_frames, 2 * N);
	assert_int_equal(f.e.stack_frames, 2 * N);
	assert_int_equal(captured(&f), 0);
	fx_free(&f);

	struct ends e = { 0 };
	struct tapir_netif dev = { &dev_ops, &e }, top;
	struct tapir_netif_rx up = { stack_rx, &e }, bottom;
	tapir_netif_chain(&dev, &up, NULL, 0, &top, &bottom);
	assert_ptr_equal(top.dev, &e);
	assert_ptr_equal(bottom.ctx, &e);
	uint8_t tag = 1, frame[FRAME_LEN] = { 0 };
	assert_int_equal(top.ops->write(top.dev, FRAME_LEN, fill_frame, &tag), 0);
	tapir_netif_rx_input(&bottom, frame, sizeof(frame), TAPIR_NETIF_RX_CSUM_VALID);
	assert_int_equal(e.dev_frames, 1);
	assert_int_equal(e.stack_frames, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capture_next_to_device),
		cmocka_unit_test(test_capture_next_to_stack),
		cmocka_unit_test(test_pass_through),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

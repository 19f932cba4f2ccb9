/*
 * test_vnetif.c - the in-process switch: switching by MAC, broadcast,
 * learning, delivery during delivery, bounds
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vnetif.h"

#define MAXRX 16

struct port {
	struct tapir_netif nif;
	uint8_t mac[6];
	unsigned rx;
	uint8_t last[2048];
	size_t last_len;
	/* optional: reply to every frame with a frame to @reply_to */
	const uint8_t *reply_to;
	unsigned replies_left;
};

static const uint8_t MAC_A[6] = { 0x02, 0, 0, 0, 0, 0xa };
static const uint8_t MAC_B[6] = { 0x02, 0, 0, 0, 0, 0xb };
static const uint8_t MAC_C[6] = { 0x02, 0, 0, 0, 0, 0xc };
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t MCAST[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };

struct frame_spec {
	const uint8_t *dst, *src;
	size_t len;
	uint8_t fillbyte;
	unsigned calls;
};

static size_t fill_frame(uint8_t *buf, size_t size, void *ctx)
{
	struct frame_spec *s = ctx;
	s->calls++;
	assert_true(size >= s->len);
	memset(buf, s->fillbyte, s->len);
	if (s->len >= 14) {
		memcpy(buf, s->dst, 6);
		memcpy(buf + 6, s->src, 6);
		buf[12] = 0x08;
		buf[13] = 0x00;
	}
	return s->len;
}

static int send_frame(struct port *p, const uint8_t *dst, const uint8_t *src, size_t len,
		      uint8_t b)
{
	struct frame_spec s = { dst, src ? src : p->mac, len, b, 0 };
	int rc = p->nif.ops->write(p->nif.dev, len, fill_frame, &s);
	if (rc == 0)
		assert_int_equal(s.calls, 1);
	else
		assert_int_equal(s.calls, 0);
	return rc;
}

static void port_rx(void *ctx, const uint8_t *frame, size_t len)
{
	struct port *p = ctx;
	p->rx++;
	p->last_len = len;
	memcpy(p->last, frame, len < sizeof(p->last) ? len : sizeof(p->last));
	if (p->reply_to && p->replies_left) {
		p->replies_left--;
		assert_int_equal(send_frame(p, p->reply_to, NULL, 60, 0x77), 0);
	}
}

static struct vnet *setup3(struct port *a, struct port *b, struct port *c)
{
	struct vnet *n = vnet_new();
	assert_non_null(n);
	struct port *ps[3] = { a, b, c };
	const uint8_t *macs[3] = { MAC_A, MAC_B, MAC_C };
	for (int i = 0; i < 3; i++) {
		memset(ps[i], 0, sizeof(*ps[i]));
		memcpy(ps[i]->mac, macs[i], 6);
		assert_int_equal(vnet_attach(n, macs[i], 1500, port_rx, ps[i], &ps[i]->nif), 0);
	}
	return n;
}

static void test_unicast(void **state)
{
	struct port a, b, c;
	struct vnet *n = setup3(&a, &b, &c);

	uint8_t mac[6];
	a.nif.ops->mac(a.nif.dev, mac);
	assert_memory_equal(mac, MAC_A, 6);
	assert_int_equal(a.nif.ops->mtu(a.nif.dev), 1500);

	assert_int_equal(send_frame(&a, MAC_B, NULL, 100, 0x42), 0);
	assert_int_equal(vnet_pending(n), 1);
	assert_int_equal(b.rx, 0);  /* nothing delivered from inside write() */
	assert_int_equal(vnet_deliver(n, 0), 1);
	assert_int_equal(vnet_pending(n), 0);
	assert_int_equal(a.rx, 0);
	assert_int_equal(b.rx, 1);
	assert_int_equal(c.rx, 0);
	assert_int_equal(b.last_len, 100);
	assert_memory_equal(b.last, MAC_B, 6);
	assert_memory_equal(b.last + 6, MAC_A, 6);
	assert_int_equal(b.last[99], 0x42);

	assert_int_equal(send_frame(&c, MAC_A, NULL, 60, 1), 0);
	assert_int_equal(vnet_deliver(n, 0), 1);
	assert_int_equal(a.rx, 1);
	assert_int_equal(b.rx, 1);
	assert_int_equal(c.rx, 0);
	vnet_free(n);
}

static void test_broadcast_multicast(void **state)
{
	struct port a, b, c;
	struct vnet *n = setup3(&a, &b, &c);
	assert_int_equal(send_frame(&b, BCAST, NULL, 60, 0), 0);
	assert_int_equal(send_frame(&b, MCAST, NULL, 60, 0), 0);
	assert_int_equal(vnet_deliver(n, 0), 2);
	assert_int_equal(a.rx, 2);
	assert_int_equal(b.rx, 0);
	assert_int_equal(c.rx, 2);
	struct vnet_stats st;
	vnet_get_stats(n, &st);
	assert_int_equal(st.delivered, 2);
	assert_int_equal(st.port_deliveries, 4);
	vnet_free(n);
}

static void test_learning_and_flood(void **state)
{
	struct port a, b, c;
	struct vnet *n = setup3(&a, &b, &c);
	static const uint8_t X[6] = { 0x02, 0x11, 0x11, 0x11, 0x11, 0x11 };
	/* Unknown unicast: flooded to all but the sender. */
	assert_int_equal(send_frame(&a, X, NULL, 60, 0), 0);
	assert_int_equal(vnet_deliver(n, 0), 1);
	assert_int_equal(b.rx, 1);
	assert_int_equal(c.rx, 1);
	/* C sends from X: the switch learns X is behind C. */
	assert_int_equal(send_frame(&c, MAC_A, X, 60, 0), 0);
	assert_int_equal(send_frame(&a, X, NULL, 60, 0), 0);
	assert_int_equal(vnet_deliver(n, 0), 2);
	assert_int_equal(a.rx, 1);
	assert_int_equal(b.rx, 1);
	assert_int_equal(c.rx, 2);
	struct vnet_stats st;
	vnet_get_stats(n, &st);
	assert_int_equal(st.flooded, 1);
	/* A frame to the sender's own MAC goes nowhere. */
	assert_int_equal(send_frame(&a, MAC_A, NULL, 60, 0), 0);
	assert_int_equal(vnet_deliver(n, 0), 1);
	assert_int_equal(a.rx, 1);
	assert_int_equal(b.rx, 1);
	assert_int_equal(c.rx, 2);
	vnet_free(n);
}

static void test_deliver_during_delivery(void **state)
{
	struct port a, b, c;
	struct vnet *n = setup3(&a, &b, &c);
	/* B answers A, A answers B, three round trips in all. */
	b.reply_to = MAC_A;
	b.replies_left = 3;
	a.reply_to = MAC_B;
	a.replies_left = 2;
	assert_int_equal(send_frame(&c, MAC_B, NULL, 60, 0), 0);
	assert_int_equal(vnet_deliver(n, 0), 6);
	assert_int_equal(b.rx, 3);
	assert_int_equal(a.rx, 3);
	assert_int_equal(c.rx, 0);
	assert_int_equal(vnet_pending(n), 0);
	assert_int_equal(a.last[20], 0x77);

	/* With a limit: one frame per call. */
	b.replies_left = 1;
	assert_int_equal(send_frame(&c, MAC_B, NULL, 60, 0), 0);
	assert_int_equal(vnet_deliver(n, 1), 1);
	assert_int_equal(vnet_pending(n), 1);
	assert_int_equal(a.rx, 3);
	assert_int_equal(vnet_deliver(n, 1), 1);
	assert_int_equal(a.rx, 4);
	assert_int_equal(vnet_deliver(n, 1), 0);
	vnet_free(n);
}

static void nested_rx(void *ctx, const uint8_t *frame, size_t len)
{
	struct vnet *n = ctx;
	assert_int_equal(vnet_deliver(n, 0), 0);
}

static void test_nested_deliver(void **state)
{
	struct vnet *n = vnet_new();
	struct port a = { .mac = { 0x02, 0, 0, 0, 0, 0xa } };
	struct tapir_netif bn;
	assert_int_equal(vnet_attach(n, MAC_A, 1500, port_rx, &a, &a.nif), 0);
	assert_int_equal(vnet_attach(n, MAC_B, 1500, nested_rx, n, &bn), 0);
	assert_int_equal(send_frame(&a, MAC_B, NULL, 60, 0), 0);
	assert_int_equal(send_frame(&a, MAC_B, NULL, 60, 0), 0);
	assert_int_equal(vnet_deliver(n, 0), 2);
	vnet_free(n);
}

static unsigned monitored;
static size_t monitored_bytes;
static void monitor(void *ctx, const uint8_t *frame, size_t len)
{
	assert_ptr_equal(ctx, &monitored);
	monitored++;
	monitored_bytes += len;
}

static void test_monitor_and_sizes(void **state)
{
	struct port a, b, c;
	struct vnet *n = setup3(&a, &b, &c);
	monitored = 0;
	monitored_bytes = 0;
	vnet_set_monitor(n, monitor, &monitored);
	assert_int_equal(send_frame(&a, MAC_B, NULL, 1514, 0), 0);
	assert_int_equal(send_frame(&a, MAC_B, NULL, 1515, 0), -EMSGSIZE);
	assert_int_equal(send_frame(&a, MAC_B, NULL, 10, 0), 0);  /* runt */
	assert_int_equal(monitored, 2);
	assert_int_equal(monitored_bytes, 1524);
	assert_int_equal(vnet_deliver(n, 0), 2);
	assert_int_equal(b.rx, 1);
	struct vnet_stats st;
	vnet_get_stats(n, &st);
	assert_int_equal(st.drop_runt, 1);
	assert_int_equal(st.drop_too_big, 1);

	/* A jumbo port: its big frames are not delivered to 1500-byte ports. */
	struct port j = { .mac = { 0x02, 0, 0, 0, 0, 0x1 } };
	assert_int_equal(vnet_attach(n, j.mac, 65535, port_rx, &j, &j.nif), 0);
	assert_int_equal(send_frame(&j, BCAST, NULL, 65535 + 14, 0), 0);
	assert_int_equal(send_frame(&j, MAC_C, NULL, 9000, 0), 0);
	assert_int_equal(send_frame(&a, j.mac, NULL, 1514, 0), 0);
	assert_int_equal(vnet_deliver(n, 0), 3);
	assert_int_equal(a.rx, 0);
	assert_int_equal(c.rx, 0);
	assert_int_equal(j.rx, 1);
	vnet_set_monitor(n, NULL, NULL);
	vnet_free(n);
}

static void test_attach_errors(void **state)
{
	struct vnet *n = vnet_new();
	struct tapir_netif nif = { 0 };
	assert_int_equal(vnet_attach(n, MAC_A, 0, port_rx, NULL, &nif), -EINVAL);
	assert_int_equal(vnet_attach(n, MAC_A, 65536, port_rx, NULL, &nif), -EINVAL);
	assert_int_equal(vnet_attach(n, MAC_A, 1500, NULL, NULL, &nif), -EINVAL);
	assert_int_equal(vnet_attach(NULL, MAC_A, 1500, port_rx, NULL, &nif), -EINVAL);
	assert_null(nif.ops);
	vnet_free(n);
	vnet_free(NULL);
}

static void test_queue_bound_frames(void **state)
{
	struct port a, b, c;
	struct vnet *n = setup3(&a, &b, &c);
	for (unsigned i = 0; i < VNET_QUEUE_MAX_FRAMES; i++)
		assert_int_equal(send_frame(&a, MAC_B, NULL, 60, 0), 0);
	assert_int_equal(vnet_pending(n), VNET_QUEUE_MAX_FRAMES);
	assert_int_equal(send_frame(&a, MAC_B, NULL, 60, 0), -ENOBUFS);
	struct vnet_stats st;
	vnet_get_stats(n, &st);
	assert_int_equal(st.drop_queue_full, 1);
	assert_int_equal(vnet_deliver(n, 10), 10);
	assert_int_equal(send_frame(&a, MAC_B, NULL, 60, 0), 0);
	assert_int_equal(vnet_deliver(n, 0), VNET_QUEUE_MAX_FRAMES - 9);
	assert_int_equal(b.rx, VNET_QUEUE_MAX_FRAMES + 1);
	vnet_free(n);
}

static void test_queue_bound_bytes(void **state)
{
	struct vnet *n = vnet_new();
	struct port a = { .mac = { 0x02, 0, 0, 0, 0, 0xa } };
	struct port b = { .mac = { 0x02, 0, 0, 0, 0, 0xb } };
	assert_int_equal(vnet_attach(n, a.mac, 65535, port_rx, &a, &a.nif), 0);
	assert_int_equal(vnet_attach(n, b.mac, 65535, port_rx, &b, &b.nif), 0);
	size_t fits = VNET_QUEUE_MAX_BYTES / (65535 + 14);
	for (size_t i = 0; i < fits; i++)
		assert_int_equal(send_frame(&a, b.mac, NULL, 65535 + 14, 0), 0);
	assert_int_equal(send_frame(&a, b.mac, NULL, 65535 + 14, 0), -ENOBUFS);
	assert_int_equal(vnet_deliver(n, 1), 1);
	assert_int_equal(send_frame(&a, b.mac, NULL, 65535 + 14, 0), 0);
	assert_int_equal(vnet_deliver(n, 0), fits);
	vnet_free(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unicast),
		cmocka_unit_test(test_broadcast_multicast),
		cmocka_unit_test(test_learning_and_flood),
		cmocka_unit_test(test_deliver_during_delivery),
		cmocka_unit_test(test_nested_deliver),
		cmocka_unit_test(test_monitor_and_sizes),
		cmocka_unit_test(test_attach_errors),
		cmocka_unit_test(test_queue_bound_frames),
		cmocka_unit_test(test_queue_bound_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * vmnet.c - macOS vmnet.framework backend, bridged to the fdev core
 *
 * See vmnet.h.  Compiled on macOS only; not verified by the Linux tests.
 */
#include <dispatch/dispatch.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <vmnet/vmnet.h>

#include "vmnet.h"

#define VMNET_BATCH 32

struct vmnet_dev {
	interface_ref iface;
	dispatch_queue_t q;
	dispatch_source_t tx_src;
	int pair[2];            /* [0]: fdev's (the loop), [1]: the bridge's */
	size_t frame_max;       /* vmnet_max_packet_size_key */
	uint8_t mac[6];
	struct fdev dev;
};

/* vmnet -> pair: called on the queue when frames are waiting */
static void bridge_rx(struct vmnet_dev *v)
{
	uint8_t *bufs = malloc(VMNET_BATCH * v->frame_max);
	if (!bufs)
		return;
	for (;;) {
		struct vmpktdesc pkts[VMNET_BATCH];
		struct iovec iov[VMNET_BATCH];
		for (int i = 0; i < VMNET_BATCH; i++) {
			iov[i].iov_base = bufs + (size_t)i * v->frame_max;
			iov[i].iov_len = v->frame_max;
			pkts[i] = (struct vmpktdesc){ .vm_pkt_size = v->frame_max,
						      .vm_pkt_iov = &iov[i], .vm_pkt_iovcnt = 1 };
		}
		int n = VMNET_BATCH;
		if (vmnet_read(v->iface, pkts, &n) != VMNET_SUCCESS || n <= 0)
			break;
		for (int i = 0; i < n; i++)  /* a full pair drops the frame, as a wire */
			send(v->pair[1], iov[i].iov_base, pkts[i].vm_pkt_size, MSG_DONTWAIT);
		if (n < VMNET_BATCH)
			break;
	}
	free(bufs);
}

/* pair -> vmnet: the frames the stack wrote */
static void bridge_tx(struct vmnet_dev *v)
{
	uint8_t *buf = malloc(v->frame_max);
	if (!buf)
		return;
	for (;;) {
		ssize_t n = recv(v->pair[1], buf, v->frame_max, MSG_DONTWAIT);
		if (n <= 0)
			break;
		struct iovec iov = { buf, (size_t)n };
		struct vmpktdesc pkt = { .vm_pkt_size = (size_t)n, .vm_pkt_iov = &iov,
					 .vm_pkt_iovcnt = 1 };
		int cnt = 1;
		vmnet_write(v->iface, &pkt, &cnt);
	}
	free(buf);
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned m[6];
	if (!s || sscanf(s, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)m[i];
	return 0;
}

int vmnet_dev_open(struct vmnet_dev **out, size_t mtu, char *err, size_t errlen)
{
	struct vmnet_dev *v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->pair[0] = v->pair[1] = -1;
	v->q = dispatch_queue_create("tapir.vmnet", DISPATCH_QUEUE_SERIAL);
	xpc_object_t desc = xpc_dictionary_create(NULL, NULL, 0);
	xpc_dictionary_set_uint64(desc, vmnet_operation_mode_key, VMNET_SHARED_MODE);
	dispatch_semaphore_t done = dispatch_semaphore_create(0);
	__block vmnet_return_t status = VMNET_FAILURE;
	__block struct vmnet_dev *vb = v;
	v->iface = vmnet_start_interface(desc, v->q, ^(vmnet_return_t st, xpc_object_t param) {
		status = st;
		if (st == VMNET_SUCCESS) {
			parse_mac(xpc_dictionary_get_string(param, vmnet_mac_address_key), vb->mac);
			vb->frame_max = xpc_dictionary_get_uint64(param, vmnet_max_packet_size_key);
		}
		dispatch_semaphore_signal(done);
	});
	dispatch_semaphore_wait(done, DISPATCH_TIME_FOREVER);
	xpc_release(desc);
	if (!v->iface || status != VMNET_SUCCESS) {
		snprintf(err, errlen, "vmnet_start_interface failed (%d); root or the "
			 "com.apple.vm.networking entitlement is needed", (int)status);
		vmnet_dev_close(v);
		return -EPERM;
	}
	if (mtu + FDEV_ETH_HLEN > v->frame_max) {
		snprintf(err, errlen, "MTU %zu is above vmnet's frame size %zu", mtu, v->frame_max);
		vmnet_dev_close(v);
		return -EINVAL;
	}
	int sz = 4 << 20;
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, v->pair) ||
	    fcntl(v->pair[0], F_SETFL, O_NONBLOCK) || fcntl(v->pair[1], F_SETFL, O_NONBLOCK)) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		vmnet_dev_close(v);
		return -errno;
	}
	for (int i = 0; i < 2; i++) {
		setsockopt(v->pair[i], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		setsockopt(v->pair[i], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	}
	int rc = fdev_init(&v->dev, v->pair[0], mtu, v->mac);
	if (rc) {
		snprintf(err, errlen, "bad MTU %zu", mtu);
		vmnet_dev_close(v);
		return rc;
	}
	vmnet_interface_set_event_callback(v->iface, VMNET_INTERFACE_PACKETS_AVAILABLE, v->q,
					   ^(interface_event_t ev, xpc_object_t e) {
		bridge_rx(vb);
	});
	v->tx_src = dispatch_source_create(DISPATCH_SOURCE_TYPE_READ, (uintptr_t)v->pair[1], 0,
					   v->q);
	dispatch_source_set_event_handler(v->tx_src, ^{
		bridge_tx(vb);
	});
	dispatch_resume(v->tx_src);
	*out = v;
	return 0;
}

void vmnet_dev_close(struct vmnet_dev *v)
{
	if (!v)
		return;
	if (v->tx_src) {
		dispatch_source_cancel(v->tx_src);
		dispatch_release(v->tx_src);
	}
	if (v->iface) {
		dispatch_semaphore_t done = dispatch_semaphore_create(0);
		vmnet_interface_set_event_callback(v->iface, VMNET_INTERFACE_PACKETS_AVAILABLE,
						   NULL, NULL);
		vmnet_stop_interface(v->iface, v->q, ^(vmnet_return_t st) {
			dispatch_semaphore_signal(done);
		});
		dispatch_semaphore_wait(done, DISPATCH_TIME_FOREVER);
	}
	if (v->q) {
		dispatch_sync(v->q, ^{});  /* no bridge call still running */
		dispatch_release(v->q);
	}
	fdev_destroy(&v->dev);
	for (int i = 0; i < 2; i++)
		if (v->pair[i] >= 0)
			close(v->pair[i]);
	free(v);
}

void vmnet_dev_netif(struct vmnet_dev *v, struct netif *out)
{
	fdev_netif(&v->dev, out);
}

int vmnet_dev_fd(const struct vmnet_dev *v)
{
	return v->pair[0];
}

int vmnet_dev_read_batch(struct vmnet_dev *v, size_t max, fdev_rx_fn cb, void *ctx)
{
	return fdev_read_batch(&v->dev, max, cb, ctx);
}

void vmnet_dev_mac(const struct vmnet_dev *v, uint8_t mac[6])
{
	memcpy(mac, v->mac, 6);
}

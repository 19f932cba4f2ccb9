/*
 * vmnet.c - macOS vmnet.framework bridged to a datagram socketpair
 *
 * See vmnet.h.  Compiled on macOS only; on Linux tests/vmnet type-checks it
 * against stub headers, nothing more.
 */
#include <dispatch/dispatch.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <vmnet/vmnet.h>

#include "fdev.h"
#include "vmnet.h"
#include "wire/eth.h"

#define VMNET_BATCH 32             /* frames per vmnet_read() / vmnet_write() */
#define VMNET_CALL_BYTES (256 << 10)  /* vmnet's limit per read/write call */
#define VMNET_SOCKBUF (4 << 20)    /* each end of the pair, both directions */

struct vmnet_bridge {
	interface_ref iface;            /* NULL until started, and if it failed */
	dispatch_queue_t q;             /* serial: every bridge call runs on it */
	dispatch_source_t tx_src;       /* pair[1] readable: frames from the stack */
	dispatch_semaphore_t tx_gone;   /* signalled by tx_src's cancel handler */
	int pair[2];                    /* [0]: the loop's (fdev), [1]: the bridge's */
	size_t frame_max;               /* vmnet_max_packet_size_key */
	int batch;                      /* frames per call: <= VMNET_BATCH, and
					 * batch * frame_max <= VMNET_CALL_BYTES */
	uint8_t *bufs;                  /* batch * frame_max; used on @q only */
	struct iovec iov[VMNET_BATCH];
	struct vmpktdesc pkts[VMNET_BATCH];
	uint64_t rx_errors, tx_errors;  /* atomic: written on @q, read anywhere */
};

/* What the start completion handler saw (copied out of its dictionary). */
struct start_result {
	vmnet_return_t status;
	bool have_mac;
	uint8_t mac[6];
	uint64_t mtu, frame_max;
};

static void bump(uint64_t *c, uint64_t n)
{
	__atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

static const char *status_str(vmnet_return_t st)
{
	switch (st) {
	case VMNET_SUCCESS: return "success";
	case VMNET_FAILURE: return "general failure";
	case VMNET_MEM_FAILURE: return "out of memory";
	case VMNET_INVALID_ARGUMENT: return "invalid argument";
	case VMNET_SETUP_INCOMPLETE: return "setup incomplete";
	case VMNET_INVALID_ACCESS:
		return "permission denied (needs root or the com.apple.vm.networking entitlement)";
	case VMNET_PACKET_TOO_BIG: return "packet too big";
	case VMNET_BUFFER_EXHAUSTED: return "buffers exhausted";
	case VMNET_TOO_MANY_PACKETS: return "too many packets";
	default: return "unknown status";
	}
}

/* Point the descriptors at the buffers, frame_max bytes each (for a read). */
static void reset_pkts(struct vmnet_bridge *b)
{
	for (int i = 0; i < b->batch; i++) {
		b->iov[i].iov_base = b->bufs + (size_t)i * b->frame_max;
		b->iov[i].iov_len = b->frame_max;
		b->pkts[i] = (struct vmpktdesc){ .vm_pkt_size = b->frame_max,
						 .vm_pkt_iov = &b->iov[i], .vm_pkt_iovcnt = 1,
						 .vm_flags = 0 };
	}
}

/* vmnet -> pair, on @q: read until vmnet has less than a batch left */
static void bridge_rx(struct vmnet_bridge *b)
{
	for (;;) {
		reset_pkts(b);
		int n = b->batch;  /* in: size of pkts[]; out: frames read */
		if (vmnet_read(b->iface, b->pkts, &n) != VMNET_SUCCESS) {
			bump(&b->rx_errors, 1);
			return;
		}
		for (int i = 0; i < n; i++) {
			size_t len = b->pkts[i].vm_pkt_size;
			if (len == 0 || len > FDEV_RX_MAX) {
				bump(&b->rx_errors, 1);
				continue;
			}
			ssize_t s;
			do
				s = send(b->pair[1], b->iov[i].iov_base, len, 0);
			while (s < 0 && errno == EINTR);
			if (s < 0)  /* full (EAGAIN/ENOBUFS): dropped, as on a wire */
				bump(&b->rx_errors, 1);
		}
		if (n < b->batch)
			return;
	}
}

/* pair -> vmnet, on @q: up to a batch per vmnet_write() until the pair is empty */
static void bridge_tx(struct vmnet_bridge *b)
{
	for (;;) {
		reset_pkts(b);
		int n = 0;
		while (n < b->batch) {
			ssize_t len = recv(b->pair[1], b->iov[n].iov_base, b->frame_max, 0);
			if (len < 0 && errno == EINTR)
				continue;
			if (len <= 0)  /* EAGAIN: empty */
				break;
			b->iov[n].iov_len = (size_t)len;
			b->pkts[n].vm_pkt_size = (size_t)len;
			n++;
		}
		if (n == 0)
			return;
		int sent = n;  /* in: frames to write; out: frames written */
		if (vmnet_write(b->iface, b->pkts, &sent) != VMNET_SUCCESS || sent < 0)
			sent = 0;
		if (sent < n)
			bump(&b->tx_errors, (uint64_t)(n - sent));
		if (n < b->batch)
			return;
	}
}

/* The socketpair: non-blocking, close-on-exec, 4 MiB each way, no SIGPIPE. */
static int open_pair(struct vmnet_bridge *b, char *err, size_t errlen)
{
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, b->pair)) {
		int e = errno;
		b->pair[0] = b->pair[1] = -1;
		snprintf(err, errlen, "vmnet: socketpair: %s", strerror(e));
		return -e;
	}
	int sz = VMNET_SOCKBUF;
	for (int i = 0; i < 2; i++) {
		int fl = fcntl(b->pair[i], F_GETFL);
		const char *what = NULL;
		if (fl < 0 || fcntl(b->pair[i], F_SETFL, fl | O_NONBLOCK) < 0 ||
		    fcntl(b->pair[i], F_SETFD, FD_CLOEXEC) < 0)
			what = "fcntl";
		else if (setsockopt(b->pair[i], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)) ||
			 setsockopt(b->pair[i], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz)))
			what = "4 MiB socket buffers (kern.ipc.maxsockbuf?)";
#ifdef SO_NOSIGPIPE
		int one = 1;
		if (!what && setsockopt(b->pair[i], SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof(one)))
			what = "SO_NOSIGPIPE";
#endif
		if (what) {
			int e = errno;
			snprintf(err, errlen, "vmnet: socketpair: %s: %s", what, strerror(e));
			return -e;
		}
	}
	return 0;
}

/* Start the interface and wait for its completion handler. */
static int start_iface(struct vmnet_bridge *b, size_t mtu, uint8_t mac[6], char *err,
		       size_t errlen)
{
	xpc_object_t desc = xpc_dictionary_create(NULL, NULL, 0);
	xpc_dictionary_set_uint64(desc, vmnet_operation_mode_key, VMNET_SHARED_MODE);
	xpc_dictionary_set_uint64(desc, vmnet_mtu_key, mtu);
	dispatch_semaphore_t done = dispatch_semaphore_create(0);
	__block struct start_result r = { .status = VMNET_FAILURE };
	b->iface = vmnet_start_interface(desc, b->q, ^(vmnet_return_t status, xpc_object_t param) {
		r.status = status;
		if (status == VMNET_SUCCESS && param) {
			const char *m = xpc_dictionary_get_string(param, vmnet_mac_address_key);
			r.have_mac = m && eth_addr_parse_short(m, r.mac) == 0;
			r.mtu = xpc_dictionary_get_uint64(param, vmnet_mtu_key);
			r.frame_max = xpc_dictionary_get_uint64(param, vmnet_max_packet_size_key);
		}
		dispatch_semaphore_signal(done);
	});
	xpc_release(desc);
	if (!b->iface) {
		/* The handler may still run: @done is left to it (a leak, on this
		 * error path only); @r lives in the block's storage. */
		snprintf(err, errlen, "vmnet: vmnet_start_interface refused the request "
			 "(shared mode, MTU %zu)", mtu);
		return -EINVAL;
	}
	dispatch_semaphore_wait(done, DISPATCH_TIME_FOREVER);
	dispatch_release(done);
	if (r.status != VMNET_SUCCESS) {
		b->iface = NULL;  /* not started: nothing to stop */
		snprintf(err, errlen, "vmnet: cannot start the interface: %s (%u)",
			 status_str(r.status), (unsigned)r.status);
		return r.status == VMNET_INVALID_ACCESS ? -EPERM :
		       r.status == VMNET_MEM_FAILURE ? -ENOMEM : -EIO;
	}
	if (!r.have_mac) {
		snprintf(err, errlen, "vmnet: the interface has no usable MAC address");
		return -EIO;
	}
	if ((r.mtu && mtu > r.mtu) || mtu + FDEV_ETH_HLEN > r.frame_max) {
		snprintf(err, errlen, "vmnet: MTU %zu is above vmnet's (MTU %llu, frames up to "
			 "%llu bytes)", mtu, (unsigned long long)r.mtu,
			 (unsigned long long)r.frame_max);
		return -EINVAL;
	}
	b->frame_max = (size_t)r.frame_max;
	b->batch = (int)(VMNET_CALL_BYTES / b->frame_max);
	if (b->batch > VMNET_BATCH)
		b->batch = VMNET_BATCH;
	if (b->batch < 1)
		b->batch = 1;
	memcpy(mac, r.mac, 6);
	return 0;
}

int vmnet_bridge_open(struct vmnet_bridge **out, size_t mtu, int *fd, uint8_t mac[6],
		      char *err, size_t errlen)
{
	struct vmnet_bridge *b = calloc(1, sizeof(*b));
	if (!b) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	b->pair[0] = b->pair[1] = -1;
	int rc = open_pair(b, err, errlen);
	if (rc)
		goto fail;
	b->q = dispatch_queue_create("tapir.vmnet", DISPATCH_QUEUE_SERIAL);
	b->tx_gone = dispatch_semaphore_create(0);
	if (!b->q || !b->tx_gone) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	rc = start_iface(b, mtu, mac, err, errlen);
	if (rc)
		goto fail;
	b->bufs = malloc((size_t)b->batch * b->frame_max);
	if (!b->bufs) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	b->tx_src = dispatch_source_create(DISPATCH_SOURCE_TYPE_READ, (uintptr_t)b->pair[1], 0,
					   b->q);
	if (!b->tx_src) {
		snprintf(err, errlen, "vmnet: cannot watch the socketpair");
		rc = -ENOMEM;
		goto fail;
	}
	dispatch_source_set_event_handler(b->tx_src, ^{
		bridge_tx(b);
	});
	dispatch_source_set_cancel_handler(b->tx_src, ^{
		dispatch_semaphore_signal(b->tx_gone);
	});
	dispatch_resume(b->tx_src);
	vmnet_return_t st = vmnet_interface_set_event_callback(b->iface,
		VMNET_INTERFACE_PACKETS_AVAILABLE, b->q,
		^(interface_event_t events, xpc_object_t event) {
			if (events & VMNET_INTERFACE_PACKETS_AVAILABLE)
				bridge_rx(b);
		});
	if (st != VMNET_SUCCESS) {
		snprintf(err, errlen, "vmnet: cannot receive: %s (%u)", status_str(st),
			 (unsigned)st);
		rc = -EIO;
		goto fail;
	}
	dispatch_async(b->q, ^{  /* frames that came before the callback was set */
		bridge_rx(b);
	});
	*fd = b->pair[0];
	*out = b;
	return 0;
fail:
	vmnet_bridge_close(b);
	return rc;
}

void vmnet_bridge_close(struct vmnet_bridge *b)
{
	if (!b)
		return;
	if (b->iface)  /* no new events */
		vmnet_interface_set_event_callback(b->iface, VMNET_INTERFACE_PACKETS_AVAILABLE,
						   NULL, NULL);
	if (b->tx_src) {  /* pair[1] may be closed only after the cancel handler ran */
		dispatch_source_cancel(b->tx_src);
		dispatch_semaphore_wait(b->tx_gone, DISPATCH_TIME_FOREVER);
		dispatch_release(b->tx_src);
	}
	if (b->iface) {
		dispatch_semaphore_t done = dispatch_semaphore_create(0);
		vmnet_return_t st = vmnet_stop_interface(b->iface, b->q, ^(vmnet_return_t status) {
			dispatch_semaphore_signal(done);
		});
		if (st == VMNET_SUCCESS)  /* else the handler was not scheduled */
			dispatch_semaphore_wait(done, DISPATCH_TIME_FOREVER);
		dispatch_release(done);
		b->iface = NULL;
	}
	if (b->q) {
		dispatch_sync(b->q, ^{});  /* no bridge call still queued or running */
		dispatch_release(b->q);
	}
	if (b->tx_gone)
		dispatch_release(b->tx_gone);
	for (int i = 0; i < 2; i++)
		if (b->pair[i] >= 0)
			close(b->pair[i]);
	free(b->bufs);
	free(b);
}

void vmnet_bridge_get_stats(const struct vmnet_bridge *b, uint64_t *rx_errors,
			    uint64_t *tx_errors)
{
	*rx_errors = __atomic_load_n(&b->rx_errors, __ATOMIC_RELAXED);
	*tx_errors = __atomic_load_n(&b->tx_errors, __ATOMIC_RELAXED);
}

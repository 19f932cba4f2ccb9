/*
 * vmnet/vmnet.h - stub of vmnet.framework for type-checking backends/vmnet.c
 * on Linux (tests/vmnet/meson.build)
 *
 * Declarations and values as in the macOS SDK's <vmnet/vmnet.h> (macOS
 * 10.10+ API, plus the 10.15 MAC allocation key), for plain C: the
 * OBJC_ENUM/OBJC_OPTIONS types are uint32_t typedefs with an anonymous enum
 * of that underlying type, pointers are non-null unless marked _Nullable.
 * Only what vmnet.c uses or might use; nothing here is linked or run.
 */
#ifndef TAPIR_STUB_VMNET_H
#define TAPIR_STUB_VMNET_H

#include <stddef.h>
#include <stdint.h>

#include <dispatch/dispatch.h>
#include <xpc/xpc.h>

struct iovec;

_Pragma("clang assume_nonnull begin")

typedef uint32_t operating_modes_t;
enum : uint32_t {
	VMNET_HOST_MODE = 1000,
	VMNET_SHARED_MODE = 1001,
	VMNET_BRIDGED_MODE = 1002,
};

typedef uint32_t interface_event_t;
enum : uint32_t {
	VMNET_INTERFACE_PACKETS_AVAILABLE = 1 << 0,
};

typedef uint32_t vmnet_return_t;
enum : uint32_t {
	VMNET_SUCCESS = 1000,
	VMNET_FAILURE = 1001,
	VMNET_MEM_FAILURE = 1002,
	VMNET_INVALID_ARGUMENT = 1003,
	VMNET_SETUP_INCOMPLETE = 1004,
	VMNET_INVALID_ACCESS = 1005,
	VMNET_PACKET_TOO_BIG = 1006,
	VMNET_BUFFER_EXHAUSTED = 1007,
	VMNET_TOO_MANY_PACKETS = 1008,
};

struct vmpktdesc {
	size_t vm_pkt_size;          /* in (read): buffer size; out: frame size */
	struct iovec *vm_pkt_iov;
	uint32_t vm_pkt_iovcnt;
	uint32_t vm_flags;           /* 0 on read */
};

typedef struct vmnet_interface *interface_ref;

/* interface_desc (in) and interface_param (out) dictionary keys */
extern const char *vmnet_operation_mode_key;          /* uint64, in */
extern const char *vmnet_mac_address_key;             /* string, out */
extern const char *vmnet_allocate_mac_address_key;    /* bool, in (10.15) */
extern const char *vmnet_mtu_key;                     /* uint64, in and out */
extern const char *vmnet_max_packet_size_key;         /* uint64, out */
extern const char *vmnet_interface_id_key;            /* uuid */
extern const char *vmnet_estimated_packets_available_key;  /* uint64, event */

typedef void (^vmnet_start_interface_completion_handler_t)(vmnet_return_t status,
							   xpc_object_t _Nullable interface_param);
interface_ref _Nullable
vmnet_start_interface(xpc_object_t interface_desc, dispatch_queue_t queue,
		      vmnet_start_interface_completion_handler_t handler);

typedef void (^vmnet_interface_event_callback_t)(interface_event_t event_mask,
						 xpc_object_t event);
vmnet_return_t
vmnet_interface_set_event_callback(interface_ref interface, interface_event_t event_mask,
				   dispatch_queue_t _Nullable queue,
				   _Nullable vmnet_interface_event_callback_t callback);

vmnet_return_t vmnet_write(interface_ref interface, struct vmpktdesc *packets, int *pktcnt);
vmnet_return_t vmnet_read(interface_ref interface, struct vmpktdesc *packets, int *pktcnt);

typedef void (^vmnet_interface_completion_handler_t)(vmnet_return_t status);
vmnet_return_t vmnet_stop_interface(interface_ref interface, dispatch_queue_t queue,
				    vmnet_interface_completion_handler_t handler);

_Pragma("clang assume_nonnull end")

#endif /* TAPIR_STUB_VMNET_H */

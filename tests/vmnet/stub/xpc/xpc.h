/*
 * xpc/xpc.h - stub of the XPC object API for type-checking backends/vmnet.c
 * on Linux (tests/vmnet/meson.build)
 *
 * Only the dictionary calls vmnet.c uses, declared as the macOS SDK does for
 * plain C: xpc_object_t is void *, getters and constructors warn when the
 * result is ignored, and every pointer is non-null unless marked _Nullable.
 */
#ifndef TAPIR_STUB_XPC_H
#define TAPIR_STUB_XPC_H

#include <stddef.h>
#include <stdint.h>

_Pragma("clang assume_nonnull begin")

typedef void *xpc_object_t;

__attribute__((__warn_unused_result__)) xpc_object_t
xpc_dictionary_create(const char *const _Nullable *_Nullable keys,
		      const xpc_object_t _Nullable *_Nullable values, size_t count);
void xpc_dictionary_set_uint64(xpc_object_t xdict, const char *key, uint64_t value);
void xpc_dictionary_set_bool(xpc_object_t xdict, const char *key, _Bool value);
void xpc_dictionary_set_string(xpc_object_t xdict, const char *key, const char *string);
__attribute__((__warn_unused_result__)) uint64_t
xpc_dictionary_get_uint64(xpc_object_t xdict, const char *key);
__attribute__((__warn_unused_result__)) const char *_Nullable
xpc_dictionary_get_string(xpc_object_t xdict, const char *key);
void xpc_retain(xpc_object_t object);
void xpc_release(xpc_object_t object);

_Pragma("clang assume_nonnull end")

#endif /* TAPIR_STUB_XPC_H */

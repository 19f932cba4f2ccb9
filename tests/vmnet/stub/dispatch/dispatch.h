/*
 * dispatch/dispatch.h - stub of libdispatch (GCD) for type-checking
 * backends/vmnet.c on Linux (tests/vmnet/meson.build)
 *
 * Only what vmnet.c uses, declared as the macOS SDK declares it for plain C
 * (OS_OBJECT_USE_OBJC = 0): objects are pointers to distinct opaque structs,
 * dispatch_object_t is a transparent union of them, pointers are non-null
 * unless marked _Nullable, and the constructors warn when the result is
 * ignored.  Nothing here is ever linked or run.
 */
#ifndef TAPIR_STUB_DISPATCH_H
#define TAPIR_STUB_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

_Pragma("clang assume_nonnull begin")

#define TAPIR_STUB_WARN_RESULT __attribute__((__warn_unused_result__))

typedef struct dispatch_queue_s *dispatch_queue_t;
typedef struct dispatch_queue_attr_s *dispatch_queue_attr_t;
typedef struct dispatch_source_s *dispatch_source_t;
typedef struct dispatch_semaphore_s *dispatch_semaphore_t;
typedef const struct dispatch_source_type_s *dispatch_source_type_t;

typedef union {
	struct dispatch_object_s *_do;
	struct dispatch_queue_s *_dq;
	struct dispatch_queue_attr_s *_dqa;
	struct dispatch_source_s *_ds;
	struct dispatch_semaphore_s *_dsema;
} dispatch_object_t __attribute__((__transparent_union__));

typedef void (^dispatch_block_t)(void);
typedef uint64_t dispatch_time_t;

#define DISPATCH_TIME_NOW (0ull)
#define DISPATCH_TIME_FOREVER (~0ull)

/* queue.h */
#define DISPATCH_QUEUE_SERIAL NULL
TAPIR_STUB_WARN_RESULT dispatch_queue_t
dispatch_queue_create(const char *_Nullable label, dispatch_queue_attr_t _Nullable attr);
void dispatch_async(dispatch_queue_t queue, dispatch_block_t block);
void dispatch_sync(dispatch_queue_t queue, dispatch_block_t block);

/* object.h */
void dispatch_retain(dispatch_object_t object);
void dispatch_release(dispatch_object_t object);
void dispatch_resume(dispatch_object_t object);
void dispatch_suspend(dispatch_object_t object);

/* semaphore.h */
TAPIR_STUB_WARN_RESULT dispatch_semaphore_t dispatch_semaphore_create(intptr_t value);
intptr_t dispatch_semaphore_wait(dispatch_semaphore_t dsema, dispatch_time_t timeout);
intptr_t dispatch_semaphore_signal(dispatch_semaphore_t dsema);

/* source.h */
extern const struct dispatch_source_type_s _dispatch_source_type_read;
#define DISPATCH_SOURCE_TYPE_READ (&_dispatch_source_type_read)
TAPIR_STUB_WARN_RESULT dispatch_source_t
dispatch_source_create(dispatch_source_type_t type, uintptr_t handle, uintptr_t mask,
		       dispatch_queue_t _Nullable queue);
void dispatch_source_set_event_handler(dispatch_source_t source,
				       dispatch_block_t _Nullable handler);
void dispatch_source_set_cancel_handler(dispatch_source_t source,
					dispatch_block_t _Nullable handler);
void dispatch_source_cancel(dispatch_source_t source);

_Pragma("clang assume_nonnull end")

#endif /* TAPIR_STUB_DISPATCH_H */

/*
 * apps.c - the list of built-in application types
 */
#include "apps.h"

#define APP_TYPE_REF(name) &app_##name##_type,
const struct tapir_app_type *const app_builtin_types[] = { APP_BUILTINS(APP_TYPE_REF) };
#undef APP_TYPE_REF

const size_t app_builtin_ntypes = sizeof(app_builtin_types) / sizeof(app_builtin_types[0]);

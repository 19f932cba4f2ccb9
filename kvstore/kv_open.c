/*
 * kv_open.c - the store factory: tapir_kv_open() turns a spec into a store
 *
 * The one place that knows every store type ("mem:", "dir:PATH", "tar:FILE",
 * "embedded:NAME").  The base library (kv.c) only calls through the vtable, so
 * a program that opens one store type directly (tapir_kv_dir_open, tapir_kv_tar_open ...)
 * does not depend on the others through kv.c.
 */
#include <string.h>

#include "kv_internal.h"

/**
 * tapir_kv_open() - Open a store from a spec (see kv.h)
 * @spec:     "mem:", "dir:/path", "tar:/path/file.tar" or "embedded:NAME"
 * @writable: Open for writing
 * @out:      The store, one reference
 * @err:      Buffer for a message, or NULL
 * @errlen:   Its size
 *
 * Return: 0 or -KV_E_*
 */
int tapir_kv_open(const char *spec, bool writable, struct tapir_kv_store **out, char *err,
		  size_t errlen)
{
	*out = NULL;
	if (!spec)
		return kv_errbuf(err, errlen, TAPIR_KV_E_INVALID, "no store spec");
	if (!strcmp(spec, "mem:"))
		return tapir_kv_mem_open(out);
	if (!strncmp(spec, "dir:", 4))
		return tapir_kv_dir_open(spec + 4, writable, out, err, errlen);
	if (!strncmp(spec, "tar:", 4))
		return tapir_kv_tar_open(spec + 4, writable, out, err, errlen);
	if (!strncmp(spec, "embedded:", 9)) {
		if (writable)
			return kv_errbuf(err, errlen, TAPIR_KV_E_INVALID,
					 "embedded stores are read-only");
		const struct tapir_kv_embedded_fs *fs = tapir_kv_embedded_find(spec + 9);
		if (!fs)
			return kv_errbuf(err, errlen, TAPIR_KV_E_NOT_FOUND,
					 "no embedded store named '%s' is linked in", spec + 9);
		return tapir_kv_embedded_open(fs, out, err, errlen);
	}
	return kv_errbuf(err, errlen, TAPIR_KV_E_INVALID,
			 "unknown store spec '%s' (mem:, dir:PATH, tar:FILE, embedded:NAME)", spec);
}

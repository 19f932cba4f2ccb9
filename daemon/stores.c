/*
 * stores.c - the instance's [kv.NAME] stores: opened at start, re-opened on
 *            reload (control "reload", SIGHUP)
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "config.h"
#include "runtime.h"
#include "tapir/kv.h"
#include "tapir/log.h"
#include "tapird_ctl.h"

/* Open the [kv.NAME] stores.  Return: 0, or -1 (logged, as "WHERE: ...") */
int stores_open(struct daemon *d)
{
	struct tapird_config *c = &d->cfg;
	d->kvs = calloc(c->nkvs ? c->nkvs : 1, sizeof(*d->kvs));
	if (!d->kvs) {
		tapir_log_err(&d->log, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < c->nkvs; i++) {
		char err[CONFIG_ERR_MAX] = "";
		int rc = tapir_kv_open(c->kvs[i].spec, c->kvs[i].writable, &d->kvs[d->nkvs].store, err,
				 sizeof(err));
		if (rc) {
			tapir_log_err(&d->log, "%s: [kv.%s] store: cannot open '%s'%s: %s",
				c->kvs[i].where_spec.text, c->kvs[i].name, c->kvs[i].spec,
				c->kvs[i].writable ? " writable" : "", *err ? err : tapir_kv_strerror(rc));
			return -1;
		}
		tapird_ctl_add_kv(d->ctl, c->kvs[i].name, d->kvs[d->nkvs].store);
		d->kvs[d->nkvs++].cfg = &c->kvs[i];
		tapir_log_info(&d->log, "kv %s: %s%s", c->kvs[i].name, c->kvs[i].spec,
			 c->kvs[i].writable ? " (writable)" : "");
	}
	return 0;
}

/*
 * Re-open the read-only stores (control "reload", SIGHUP): the operator put
 * a new site tar file in place or changed the directory.  Every one opens
 * before any is swapped, so a store that fails leaves all as they were.
 * Writable stores are kept as they are: their contents are tapir's own and
 * already current (and a mem: store would lose them).  A value still being
 * streamed goes on from the store it started on (tapir_kv_retain()), which closes
 * with the last such response.  Apps drop their caches (reloaded()).
 * Return: 0, or a negative errno with @err set
 */
int stores_reload(struct daemon *d, json_t *res, char *err, size_t errlen)
{
	struct tapir_kv_store **fresh = calloc(d->nkvs ? d->nkvs : 1, sizeof(*fresh));
	json_t *reopened = json_array(), *kept = json_array();
	if (!fresh || !reopened || !kept) {
		free(fresh);
		json_decref(reopened);
		json_decref(kept);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < d->nkvs; i++) {
		const struct kv_config *kc = d->kvs[i].cfg;
		if (kc->writable || !strncmp(kc->spec, "mem:", 4)) {
			json_array_append_new(kept, json_pack("{s:s, s:s}", "name", kc->name,
				"reason", kc->writable ? "writable" : "mem: has nothing to re-read"));
			continue;
		}
		char e[CONFIG_ERR_MAX] = "";
		int rc = tapir_kv_open(kc->spec, false, &fresh[i], e, sizeof(e));
		if (rc) {
			snprintf(err, errlen, "[kv.%s] store: cannot re-open '%s': %s (no store "
				 "was changed)", kc->name, kc->spec, *e ? e : tapir_kv_strerror(rc));
			for (size_t j = 0; j < i; j++)
				tapir_kv_close(fresh[j]);
			free(fresh);
			json_decref(reopened);
			json_decref(kept);
			return rc == -TAPIR_KV_E_NOT_FOUND ? -ENOENT : -EIO;
		}
	}
	for (size_t i = 0; i < d->nkvs; i++) {
		if (!fresh[i])
			continue;
		tapir_kv_close(d->kvs[i].store);  /* streams still reading hold their own */
		d->kvs[i].store = fresh[i];
		tapird_ctl_add_kv(d->ctl, d->kvs[i].cfg->name, fresh[i]);
		json_array_append_new(reopened, json_string(d->kvs[i].cfg->name));
	}
	free(fresh);
	for (size_t i = 0; i < d->napps; i++)
		if (d->apps[i].type->reloaded)
			d->apps[i].type->reloaded(d->apps[i].state);
	/* What apps load from the stores themselves (TLS certificates): one
	 * that fails keeps what it had, and the reload says why. */
	int failed = 0;
	for (size_t i = 0; i < d->napps; i++) {
		char e[CONFIG_ERR_MAX] = "";
		int rc = d->apps[i].type->reread ?
			d->apps[i].type->reread(d->apps[i].state, e, sizeof(e)) : 0;
		if (rc && !failed) {
			failed = rc;
			snprintf(err, errlen, "%s", *e ? e : strerror(-rc));
		}
	}
	if (failed) {
		json_decref(reopened);
		json_decref(kept);
		return failed == -ENOMEM ? -ENOMEM : -EINVAL;
	}
	tapir_log_info(&d->log, "reload: %zu store(s) re-opened, %zu kept", json_array_size(reopened),
		 json_array_size(kept));
	json_object_set_new(res, "reopened", reopened);
	json_object_set_new(res, "kept", kept);
	return 0;
}

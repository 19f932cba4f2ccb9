/*
 * kv.c - the control command "kv": list, read and write the instance's key-value stores
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "tapir/kv.h"

/* kv.h errors as errno values */
static int kv_errno(int rc)
{
	switch (-rc) {
	case TAPIR_KV_E_NOT_FOUND: return ENOENT;
	case TAPIR_KV_E_VALUE_EXPECTED: return EISDIR;
	case TAPIR_KV_E_DICT_EXPECTED: return ENOTDIR;
	case TAPIR_KV_E_ALREADY_PRESENT: return EEXIST;
	case TAPIR_KV_E_NO_SPACE: return ENOSPC;
	case TAPIR_KV_E_NOMEM: return ENOMEM;
	case TAPIR_KV_E_INVALID: return EINVAL;
	default: return EIO;
	}
}

static struct tapir_kv_store *kv_find(struct control *c, const char *name)
{
	for (size_t i = 0; i < c->env.nkv; i++)
		if (!strcmp(c->env.kv[i].name, name))
			return c->env.kv[i].store;
	return NULL;
}

static int kv_action(struct tapir_kv_store *s, const char *store, const char *action,
		     const char *key, const char *value, const struct tapir_kv_key *kp,
		     json_t **res, char *err, size_t errlen);

int control_cmd_kv(struct control *c, json_t *args, uint64_t now, json_t **res, char *err,
		  size_t errlen)
{
	const char *action, *store, *key, *value;
	int rc;
	if ((rc = control_arg_str(args, "action", &action, err, errlen)) ||
	    (rc = control_arg_str(args, "store", &store, err, errlen)) ||
	    (rc = control_arg_str(args, "key", &key, err, errlen)) ||
	    (rc = control_arg_str(args, "value", &value, err, errlen)))
		return rc;
	if (!action || !strcmp(action, "stores")) {
		json_t *arr = json_array();
		for (size_t i = 0; i < c->env.nkv; i++)
			json_array_append_new(arr, json_string(c->env.kv[i].name));
		/* journals_refused: crafted or corrupt dir-store batch journals
		 * moved aside instead of replayed (tapir_kv_dir_journals_refused()) */
		*res = json_pack("{s:o, s:I}", "stores", arr, "journals_refused",
				 (json_int_t)tapir_kv_dir_journals_refused());
		return 0;
	}
	if (!store) {
		if (c->env.nkv == 0)
			ERR(ENOENT, "this instance has no key-value stores");
		store = c->env.kv[0].name;
	}
	struct tapir_kv_store *s = kv_find(c, store);
	if (!s)
		ERR(ENOENT, "no store named '%s'", store);
	struct tapir_kv_key k;
	if (tapir_kv_key_parse(key ? key : "", &k))
		ERR(EINVAL, "'%s' is not a key", key ? key : "");
	rc = kv_action(s, store, action, key, value, &k, res, err, errlen);
	tapir_kv_key_free(&k);
	return rc;
}

static int kv_action(struct tapir_kv_store *s, const char *store, const char *action,
		     const char *key, const char *value, const struct tapir_kv_key *kp,
		     json_t **res, char *err, size_t errlen)
{
	int rc;
	const struct tapir_kv_key k = *kp;
	if (!strcmp(action, "ls")) {
		struct tapir_kv_entry *ents = NULL;
		size_t n = 0;
		rc = tapir_kv_list(s, &k, &ents, &n);
		if (rc)
			ERR(kv_errno(rc), "%s: %s", key ? key : "/", tapir_kv_strerror(rc));
		json_t *arr = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, json_pack("{s:s,s:s}", "name", ents[i].name, "kind",
							     ents[i].kind == TAPIR_KV_DICT ? "dict"
										     : "value"));
		tapir_kv_entries_free(ents, n);
		*res = json_pack("{s:s,s:o}", "store", store, "entries", arr);
		return 0;
	}
	if (!strcmp(action, "get")) {
		uint8_t *data;
		size_t len;
		rc = tapir_kv_get(s, &k, &data, &len);
		if (rc)
			ERR(kv_errno(rc), "%s: %s", key ? key : "/", tapir_kv_strerror(rc));
		json_t *v = json_stringn((const char *)data, len);
		json_t *r = json_pack("{s:s,s:s,s:I}", "store", store, "key", key ? key : "", "size",
				      (json_int_t)len);
		json_object_set_new(r, "value", v ? v : json_null());  /* null: not UTF-8 */
		free(data);
		*res = r;
		return 0;
	}
	if (!strcmp(action, "put")) {
		if (!value)
			ERR(EINVAL, "'value' is required");
		rc = tapir_kv_set(s, &k, value, strlen(value));
		if (rc)
			ERR(kv_errno(rc), "%s: %s", key ? key : "/", tapir_kv_strerror(rc));
		*res = json_pack("{s:s,s:s}", "store", store, "key", key ? key : "");
		return 0;
	}
	if (!strcmp(action, "rm")) {
		rc = tapir_kv_remove(s, &k);
		if (rc)
			ERR(kv_errno(rc), "%s: %s", key ? key : "/", tapir_kv_strerror(rc));
		*res = json_pack("{s:s,s:s}", "store", store, "key", key ? key : "");
		return 0;
	}
	ERR(EINVAL, "'action' must be stores, ls, get, put or rm");
}

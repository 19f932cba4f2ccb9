/*
 * proto.c - the control protocol: envelope, errno table, names and socket paths
 */
#include "proto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- errors ---- */

static const struct {
	int err;
	const char *name, *message;
} errno_table[] = {
#define CONTROL_ERRNO_ENTRY(e, msg) { e, #e, msg },
	CONTROL_ERRNO_MAP(CONTROL_ERRNO_ENTRY)
#undef CONTROL_ERRNO_ENTRY
};

const char *control_errno_name(int err)
{
	for (size_t i = 0; i < sizeof(errno_table) / sizeof(errno_table[0]); i++)
		if (errno_table[i].err == err)
			return errno_table[i].name;
	return "EUNKNOWN";
}

const char *control_strerror(int err)
{
	for (size_t i = 0; i < sizeof(errno_table) / sizeof(errno_table[0]); i++)
		if (errno_table[i].err == err)
			return errno_table[i].message;
	return strerror(err);
}

int control_errno_from_name(const char *name)
{
	for (size_t i = 0; name && i < sizeof(errno_table) / sizeof(errno_table[0]); i++)
		if (!strcmp(errno_table[i].name, name))
			return errno_table[i].err;
	return 0;
}

/* ---- envelope ---- */

/* Dump @o (reference taken over) as one line */
static char *dump_line(json_t *o, size_t *len_out)
{
	if (!o)
		return NULL;
	char *s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(o);
	if (!s)
		return NULL;
	size_t n = strlen(s);
	char *r = realloc(s, n + 2);
	if (!r) {
		free(s);
		return NULL;
	}
	r[n] = '\n';
	r[n + 1] = 0;
	*len_out = n + 1;
	return r;
}

static json_t *envelope(json_t *id)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	json_object_set_new(o, "v", json_integer(CONTROL_VERSION));
	json_object_set(o, "id", id ? id : json_null());
	return o;
}

char *control_request_encode(const char *cmd, json_t *args, json_t *id, size_t *len_out)
{
	json_t *o = json_object();
	if (!o) {
		json_decref(args);
		return NULL;
	}
	json_object_set_new(o, "v", json_integer(CONTROL_VERSION));
	if (id)
		json_object_set(o, "id", id);
	json_object_set_new(o, "cmd", json_string(cmd));
	if (args)
		json_object_set_new(o, "args", args);
	return dump_line(o, len_out);
}

char *control_reply_error(json_t *id, int err, const char *msg, size_t *len_out)
{
	json_t *o = envelope(id);
	json_t *e = json_object();
	if (!o || !e) {
		json_decref(o);
		json_decref(e);
		return NULL;
	}
	json_object_set_new(o, "ok", json_false());
	json_object_set_new(e, "errno", json_integer(err));
	json_object_set_new(e, "code", json_string(control_errno_name(err)));
	json_object_set_new(e, "message", json_string(msg && *msg ? msg : control_strerror(err)));
	json_object_set_new(o, "error", e);
	return dump_line(o, len_out);
}

char *control_reply_ok(json_t *id, json_t *result, size_t *len_out)
{
	json_t *o = envelope(id);
	if (!o) {
		json_decref(result);
		return NULL;
	}
	json_object_set_new(o, "ok", json_true());
	json_object_set_new(o, "result", result);
	return dump_line(o, len_out);
}

char *control_error_reply(int err, const char *message, size_t *len_out)
{
	return control_reply_error(NULL, err, message, len_out);
}

#define FAIL(code, ...)                                         \
	do {                                                    \
		if (err && errlen)                              \
			snprintf(err, errlen, __VA_ARGS__);     \
		return -(code);                                 \
	} while (0)

int control_request_decode(const char *line, size_t len, struct control_request *req,
			   char *err, size_t errlen)
{
	json_error_t jerr;
	memset(req, 0, sizeof(*req));
	if (len > CONTROL_MAX_LINE)
		FAIL(EMSGSIZE, "request too long");
	req->root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!req->root)
		FAIL(EBADMSG, "malformed JSON: %s (column %d)", jerr.text, jerr.column);
	if (!json_is_object(req->root))
		FAIL(EBADMSG, "a request is a JSON object");
	req->id = json_object_get(req->root, "id");
	json_t *v = json_object_get(req->root, "v");
	json_t *cmd = json_object_get(req->root, "cmd");
	json_t *args = json_object_get(req->root, "args");
	if (v && !(json_is_integer(v) && json_integer_value(v) == CONTROL_VERSION))
		FAIL(EPROTONOSUPPORT, "unsupported protocol version (this is %d)", CONTROL_VERSION);
	if (!json_is_string(cmd))
		FAIL(EINVAL, "'cmd' (a string) is required");
	if (args && !json_is_object(args))
		FAIL(EINVAL, "'args' must be an object");
	req->cmd = json_string_value(cmd);
	req->args = args;
	return 0;
}

void control_request_release(struct control_request *req)
{
	json_decref(req->root);
	memset(req, 0, sizeof(*req));
}

int control_reply_decode(const char *line, size_t len, struct control_reply *rep)
{
	json_error_t jerr;
	memset(rep, 0, sizeof(*rep));
	rep->root = json_loadb(line, len, JSON_DISABLE_EOF_CHECK, &jerr);
	if (!json_is_object(rep->root)) {
		json_decref(rep->root);
		rep->root = NULL;
		return -EBADMSG;
	}
	rep->ok = json_is_true(json_object_get(rep->root, "ok"));
	if (rep->ok) {
		rep->result = json_object_get(rep->root, "result");
		return 0;
	}
	json_t *e = json_object_get(rep->root, "error");
	json_t *n = json_object_get(e, "errno");
	rep->err = json_is_integer(n) ? (int)json_integer_value(n) : 0;
	rep->code = json_string_value(json_object_get(e, "code"));
	rep->message = json_string_value(json_object_get(e, "message"));
	if (!rep->code)
		rep->code = "error";
	if (!rep->message)
		rep->message = "?";
	return 0;
}

void control_reply_release(struct control_reply *rep)
{
	json_decref(rep->root);
	memset(rep, 0, sizeof(*rep));
}

/* ---- names and paths ---- */

bool control_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > CONTROL_NAME_MAX || name[0] == '.')
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
			return false;
	return true;
}

int control_runtime_dir(char *buf, size_t len)
{
	const char *d = getenv("TAPIR_RUNTIME_DIR");
	int n;
	if (d && *d)
		n = snprintf(buf, len, "%s", d);
	else if (geteuid() == 0)
		n = snprintf(buf, len, "/run/tapir");
	else if ((d = getenv("XDG_RUNTIME_DIR")) && *d)
		n = snprintf(buf, len, "%s/tapir", d);
	else
		n = snprintf(buf, len, "/tmp/tapir-%u", (unsigned)geteuid());
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int control_socket_path(const char *name, char *buf, size_t len)
{
	if (!control_name_ok(name))
		return -EINVAL;
	char dir[4096];
	int rc = control_runtime_dir(dir, sizeof(dir));
	if (rc)
		return rc;
	int n = snprintf(buf, len, "%s/%s.sock", dir, name);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int control_dir_check(const char *dir, bool client, char *why, size_t whylen)
{
	struct stat st;
	char dummy[1];
	if (!why || !whylen) {
		why = dummy;
		whylen = sizeof(dummy);
	}
	*why = 0;
	if (lstat(dir, &st))
		return -errno;
	uid_t me = geteuid();
	if (S_ISLNK(st.st_mode)) {
		snprintf(why, whylen, "%s: is a symlink, not a directory of ours", dir);
		return -EPERM;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, whylen, "%s: not a directory", dir);
		return -ENOTDIR;
	}
	if (st.st_uid != me && !(client && (st.st_uid == 0 || me == 0))) {
		snprintf(why, whylen, "%s: owned by uid %u, not by us (uid %u)", dir,
			 (unsigned)st.st_uid, (unsigned)me);
		return -EPERM;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(why, whylen, "%s: writable by group or others (mode %04o; 0700 wanted)",
			 dir, (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

int control_socket_dir_check(const char *path, bool client, char *why, size_t whylen)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	if (!slash)
		return control_dir_check(".", client, why, whylen);
	size_t n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, path, n);
	dir[n] = 0;
	return control_dir_check(dir, client, why, whylen);
}

/*
 * proto.h - the control protocol: version, envelope, errno names, socket paths
 *
 * Theory of operation
 *
 * tapird and the tapir CLI talk over a Unix stream socket, one JSON object
 * per line each way, replies in the order of the requests:
 *
 *   Request:  {"v":1, "id":ANY, "cmd":"NAME", "args":{...}}   (v, id, args optional)
 *   Reply:    {"v":1, "id":ANY, "ok":true,  "result":{...}}
 *             {"v":1, "id":ANY, "ok":false, "error":{"errno":22, "code":"EINVAL",
 *                                                    "message":"..."}}
 *
 * Requests are at most CONTROL_MAX_LINE bytes.  Errors are positive errno
 * values on the wire with their name ("code"); the names and the default
 * messages come from one table, CONTROL_ERRNO_MAP.
 *
 * An instance NAME (1 to CONTROL_NAME_MAX of [A-Za-z0-9_.-], not starting
 * with '.') listens on RUNDIR/NAME.sock, where RUNDIR is $TAPIR_RUNTIME_DIR,
 * else /run/tapir for root, else $XDG_RUNTIME_DIR/tapir, else /tmp/tapir-UID.
 *
 * A socket's directory is trusted only if nobody else can put a socket there
 * (control_dir_check(), as XDG asks of its runtime directory): a real
 * directory (lstat: never a symlink), owned by us, not writable by group or
 * others.  Otherwise another local user could create /tmp/tapir-UID first and
 * impersonate an instance.  tapird refuses to listen in any other directory
 * (EPERM, with the path and the reason); the CLI refuses to talk through
 * one, accepting root as the owner too (a system instance's /run/tapir), and
 * any owner when it runs as root (a service user's /run/tapir).
 *
 * This library is what the daemon and the CLI share: it knows nothing of
 * the stack, the stores or the commands (their arguments and results are
 * the daemon's, daemon/control/).  Encoding and decoding go through
 * jansson.  No global state.
 *
 * Ownership: encoded lines are malloc'd, '\n'-terminated and owned by the
 * caller; a decoded request or reply owns its JSON until released.
 */
#ifndef TAPIR_CONTROL_PROTO_H
#define TAPIR_CONTROL_PROTO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define CONTROL_VERSION 1
#define CONTROL_MAX_LINE 65536
#define CONTROL_NAME_MAX 32

/*
 * The errors a reply can carry: X(name, default message).  The messages are
 * glibc's strerror() texts, used when a command gives none.
 */
#define CONTROL_ERRNO_MAP(X)                                             \
	X(EINVAL, "Invalid argument")                                    \
	X(ENOENT, "No such file or directory")                           \
	X(ENOMEM, "Cannot allocate memory")                              \
	X(EACCES, "Permission denied")                                   \
	X(EBUSY, "Device or resource busy")                              \
	X(ENOTSUP, "Operation not supported")                            \
	X(ENOSYS, "Function not implemented")                            \
	X(EMSGSIZE, "Message too long")                                  \
	X(EBADMSG, "Bad message")                                        \
	X(EPROTO, "Protocol error")                                      \
	X(EPROTONOSUPPORT, "Protocol not supported")                     \
	X(ENETUNREACH, "Network is unreachable")                         \
	X(ENOBUFS, "No buffer space available")                          \
	X(ETIMEDOUT, "Connection timed out")                             \
	X(EAGAIN, "Resource temporarily unavailable")                    \
	X(EEXIST, "File exists")                                         \
	X(EROFS, "Read-only file system")                                \
	X(EIO, "Input/output error")                                     \
	X(E2BIG, "Argument list too long")                               \
	X(ENOTDIR, "Not a directory")                                    \
	X(EISDIR, "Is a directory")                                      \
	X(ENOSPC, "No space left on device")                             \
	X(EADDRINUSE, "Address already in use")

/* Return: "EINVAL" ... for @err (positive), "EUNKNOWN" for others */
const char *control_errno_name(int err);
/* Return: the table's message for @err (positive), else strerror(@err) */
const char *control_strerror(int err);
/* Return: the errno called @name ("EINVAL"), or 0 */
int control_errno_from_name(const char *name);

/* ---- envelope ---- */

/**
 * control_request_encode() - A request line
 * @cmd:  Command name
 * @args: Arguments (an object; reference taken over), or NULL
 * @id:   Request id (borrowed), or NULL for none
 * @len_out: Receives the line's length
 *
 * Return: the line (malloc'd, '\n'-terminated), or NULL (out of memory)
 */
char *control_request_encode(const char *cmd, json_t *args, json_t *id, size_t *len_out);

/* A decoded request: borrowed views into @root, valid until released */
struct control_request {
	json_t *root;       /* owned */
	json_t *id;         /* NULL: none */
	const char *cmd;
	json_t *args;       /* an object, or NULL */
};

/**
 * control_request_decode() - Parse and check a request line
 * @line:   The request, without its newline; any bytes
 * @req:    Filled; release with control_request_release() whatever the result
 * @err:    Receives the message of a failure
 *
 * Return: 0, or -EMSGSIZE (too long), -EBADMSG (not a JSON object),
 *         -EPROTONOSUPPORT (another "v"), -EINVAL (no "cmd", "args" not an
 *         object); req->id is set when the request had one
 */
int control_request_decode(const char *line, size_t len, struct control_request *req,
			   char *err, size_t errlen);
void control_request_release(struct control_request *req);

/* Success reply: @result's reference is taken over, @id is borrowed.
 * Return: the line (malloc'd, '\n'-terminated), or NULL (out of memory) */
char *control_reply_ok(json_t *id, json_t *result, size_t *len_out);
/* Error reply for errno @err (positive); @message NULL or "": the table's */
char *control_reply_error(json_t *id, int err, const char *message, size_t *len_out);
/* An error reply without an id, for a request that could not be read */
char *control_error_reply(int err, const char *message, size_t *len_out);

/* A decoded reply: borrowed views into @root, valid until released */
struct control_reply {
	json_t *root;       /* owned */
	bool ok;
	json_t *result;     /* ok: the result (an object, possibly empty) */
	int err;            /* !ok: positive errno, 0 if unknown */
	const char *code;   /* !ok: "EINVAL" ..., never NULL */
	const char *message; /* !ok: never NULL */
};

/**
 * control_reply_decode() - Parse a reply line
 * Return: 0, or -EBADMSG (not a reply; @rep->root is NULL)
 */
int control_reply_decode(const char *line, size_t len, struct control_reply *rep);
void control_reply_release(struct control_reply *rep);

/* ---- names and paths ---- */

/* Return: true if @name is a valid instance name */
bool control_name_ok(const char *name);
/* Runtime directory (the rules above).  Return: 0 or -ENAMETOOLONG */
int control_runtime_dir(char *buf, size_t len);
/* RUNDIR/NAME.sock.  Return: 0, -EINVAL (bad name) or -ENAMETOOLONG */
int control_socket_path(const char *name, char *buf, size_t len);
/*
 * control_dir_check() - May @dir hold our control sockets?
 * @client: checking for the CLI, not the daemon: accept root as the owner
 *          too (a system instance's /run/tapir), and when we are root any
 *          owner (root may address any user's instance, whose daemon
 *          accepts root as a peer; root's own default, /run/tapir, only root
 *          can create)
 * @why:    on -EPERM, the reason with the path (may be NULL)
 *
 * Return: 0; -EPERM if it is a symlink, owned by another user, or writable by
 *         group or others; -ENOTDIR; or -errno of lstat() (-ENOENT: absent)
 */
int control_dir_check(const char *dir, bool client, char *why, size_t whylen);
/* control_dir_check() of the directory holding socket @path. */
int control_socket_dir_check(const char *path, bool client, char *why, size_t whylen);

#endif /* TAPIR_CONTROL_PROTO_H */

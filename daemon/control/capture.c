/*
 * capture.c - the control command "capture" (start, stop, status of a packet capture)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "commands.h"

static json_t *capture_json(const struct capture_info *ci)
{
	const char *end = capture_end_str(ci->end);
	return json_pack("{s:b,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:i,s:i,s:i,s:i,s:s?,s:s?}",
			 "active", ci->active, "file", ci->file,
			 "frames", (json_int_t)ci->frames, "bytes", (json_int_t)ci->bytes,
			 "file_frames", (json_int_t)ci->file_frames,
			 "file_bytes", (json_int_t)ci->file_bytes,
			 "truncated", (json_int_t)ci->truncated,
			 "max_frames", (json_int_t)ci->max_frames,
			 "max_bytes", (json_int_t)ci->max_bytes, "snaplen", (int)ci->snaplen,
			 "max_files", (int)ci->max_files, "files", (int)ci->files,
			 "rotations", (int)ci->rotations, "end", end,
			 "error", ci->end == CAPTURE_END_ERROR ? ci->error : NULL);
}

/*
 * control_cmd_capture() - "capture": start (file, count, max_bytes, snaplen, files),
 * stop, status.  Every argument is checked (EINVAL) before the capture point
 * is looked at, so the fuzzer, which has none, sees all of it.
 */
int control_cmd_capture(struct control *c, json_t *args, uint64_t now, json_t **res, char *err,
		       size_t errlen)
{
	const char *action, *file;
	uint64_t count, max_bytes, snaplen, files;
	int rc;
	if ((rc = control_arg_str(args, "action", &action, err, errlen)) ||
	    (rc = control_arg_str(args, "file", &file, err, errlen)) ||
	    (rc = control_arg_uint(args, "count", 0, 0, UINT32_MAX, &count, err, errlen)) ||
	    (rc = control_arg_uint(args, "max_bytes", 0, 0, UINT64_MAX >> 1, &max_bytes, err, errlen)) ||
	    (rc = control_arg_uint(args, "snaplen", 0, 0, UINT64_MAX >> 1, &snaplen, err, errlen)) ||
	    (rc = control_arg_uint(args, "files", 0, 0, UINT64_MAX >> 1, &files, err, errlen)))
		return rc;
	if (snaplen && (snaplen < CAPTURE_SNAPLEN_MIN || snaplen > CAPTURE_SNAPLEN_MAX))
		ERR(EINVAL, "'snaplen' must be 0 (the default, %u) or from %u to %u",
		    CAPTURE_SNAPLEN_MAX, CAPTURE_SNAPLEN_MIN, CAPTURE_SNAPLEN_MAX);
	if (files && (files < CAPTURE_FILES_MIN || files > CAPTURE_FILES_MAX))
		ERR(EINVAL, "'files' must be 0 (no rotation) or from %u to %u", CAPTURE_FILES_MIN,
		    CAPTURE_FILES_MAX);
	if (files && !max_bytes)
		ERR(EINVAL, "'files' (rotation) needs 'max_bytes', the size of one file");
	if (!c->env.cap)
		ERR(ENOTSUP, "capture is not available");
	if (!action || !strcmp(action, "status")) {
		/* nothing to do */
	} else if (!strcmp(action, "start")) {
		if (!file)
			ERR(EINVAL, "'file' is required");
		if (file[0] != '/')
			ERR(EINVAL, "'file' must be an absolute path");
		struct capture_opts o = {
			.max_frames = count, .max_bytes = max_bytes, .snaplen = (uint32_t)snaplen,
			.max_files = (uint32_t)files, .log = c->env.log,
		};
		rc = capture_start(c->env.cap, file, &o, err, errlen);
		if (rc)
			return rc;
		if (c->env.log)
			tapir_log_info(c->env.log, "capture: started to %s", file);
	} else if (!strcmp(action, "stop")) {
		if (capture_stop(c->env.cap))
			ERR(ENOENT, "not capturing");
	} else {
		ERR(EINVAL, "'action' must be start, stop or status");
	}
	struct capture_info *ci = malloc(sizeof(*ci));
	if (!ci)
		return -ENOMEM;
	capture_get_info(c->env.cap, ci);
	*res = capture_json(ci);
	free(ci);
	return *res ? 0 : -ENOMEM;
}

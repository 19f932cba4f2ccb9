/*
 * admin.c - control commands that operate the daemon: log, reload, shutdown
 */
#include <errno.h>
#include <string.h>

#include "commands.h"

const char *const control_level_names[4] = { "error", "warn", "info", "debug" };

int control_cmd_log(struct control *c, json_t *args, uint64_t now, json_t **res, char *err,
		   size_t errlen)
{
	const char *lv;
	int rc = control_arg_str(args, "level", &lv, err, errlen);
	if (rc)
		return rc;
	if (!c->env.log)
		ERR(ENOTSUP, "no logger");
	if (lv) {
		size_t i;
		for (i = 0; i < 4; i++)
			if (!strcmp(lv, control_level_names[i]))
				break;
		if (i == 4)
			ERR(EINVAL, "'%s' is not a level (error, warn, info, debug)", lv);
		c->env.log->level = (enum tapir_log_level)i;
		tapir_log_info(c->env.log, "control: log level %s", lv);
	}
	*res = json_pack("{s:s}", "level", control_level_names[c->env.log->level & 3]);
	return 0;
}

int control_cmd_shutdown(struct control *c, json_t *args, uint64_t now, json_t **res, char *err,
			size_t errlen)
{
	if (!c->env.shutdown)
		ERR(ENOTSUP, "shutdown is not available");
	c->env.shutdown(c->env.ctx);
	*res = json_object();
	return 0;
}

int control_cmd_reload(struct control *c, json_t *args, uint64_t now, json_t **res, char *err,
		      size_t errlen)
{
	if (!c->env.reload)
		ERR(ENOTSUP, "reload is not available");
	json_t *o = json_object();
	int rc = c->env.reload(c->env.ctx, o, err, errlen);
	if (rc) {
		json_decref(o);
		return rc;
	}
	*res = o;
	return 0;
}

/* The capture's state as the reply of every capture action */

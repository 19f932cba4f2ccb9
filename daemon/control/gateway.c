/*
 * gateway.c - the control command "forward": the gateway's port forwards (add, rm, ls)
 *
 * Arguments: {"action": "add"|"rm"|"ls", "proto": "tcp"|"udp", "host_port": N,
 * "ns_port": N (add; default host_port)}.  Every argument is checked here
 * (EINVAL); the runtime's env->forward does the work.  Without a gateway
 * ([gateway] enabled = false) the command fails with ENOTSUP.
 */
#include <errno.h>
#include <string.h>

#include "commands.h"

int control_cmd_forward(struct control *c, json_t *args, uint64_t now, json_t **res, char *err,
			size_t errlen)
{
	const char *action, *proto;
	uint64_t hp, np;
	int rc = control_arg_str(args, "action", &action, err, errlen);
	if (rc)
		return rc;
	if (!action)
		action = "ls";
	if (strcmp(action, "add") && strcmp(action, "rm") && strcmp(action, "ls"))
		ERR(EINVAL, "'action' must be add, rm or ls");
	uint8_t p = 0;
	hp = np = 0;
	if (strcmp(action, "ls")) {
		if ((rc = control_arg_str(args, "proto", &proto, err, errlen)))
			return rc;
		if (!proto || (strcmp(proto, "tcp") && strcmp(proto, "udp")))
			ERR(EINVAL, "'proto' must be tcp or udp");
		p = !strcmp(proto, "tcp") ? 6 : 17;
		if (!json_object_get(args, "host_port"))
			ERR(EINVAL, "'host_port' is required");
		if ((rc = control_arg_uint(args, "host_port", 0, 1, 65535, &hp, err, errlen)) ||
		    (rc = control_arg_uint(args, "ns_port", hp, 1, 65535, &np, err, errlen)))
			return rc;
	}
	if (!c->env.forward)
		ERR(ENOTSUP, "no gateway ([gateway] enabled = false)");
	json_t *o = json_object();
	if (!o)
		ERR(ENOMEM, "out of memory");
	rc = c->env.forward(c->env.ctx, action, p, (uint16_t)hp, (uint16_t)np, o, err, errlen);
	if (rc) {
		json_decref(o);
		return rc;
	}
	*res = o;
	return 0;
}

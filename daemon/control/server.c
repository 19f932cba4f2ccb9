/*
 * server.c - the control protocol on a Unix socket in a libuv loop
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "server.h"

struct conn {
	uv_pipe_t pipe;
	struct control_server *srv;
	struct conn *next;
	uint64_t id;
	char *buf;
	size_t len, cap;
	bool closing;
};

struct control_server {
	uv_pipe_t listener;
	struct control *ctl;
	struct tapir_logger *log;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct conn *conns;
	uint64_t next_id;
	void (*after)(void *ctx);
	void *ctx;
	bool stopping;
};

struct wreq {
	uv_write_t w;
	char *data;
};

static void on_written(uv_write_t *w, int status)
{
	struct wreq *r = (struct wreq *)w;
	free(r->data);
	free(r);
}

static void on_conn_closed(uv_handle_t *h)
{
	struct conn *c = h->data;
	free(c->buf);
	free(c);
}

static void conn_close(struct conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	control_client_gone(c->srv->ctl, c->id);
	for (struct conn **p = &c->srv->conns; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	uv_close((uv_handle_t *)&c->pipe, on_conn_closed);
}

/* Send @data (malloc'd, taken over) */
static void conn_send(struct conn *c, char *data, size_t len)
{
	if (!data)
		return;
	struct wreq *r = malloc(sizeof(*r));
	if (!r || c->closing) {
		free(r);
		free(data);
		return;
	}
	r->data = data;
	uv_buf_t b = uv_buf_init(data, (unsigned)len);
	if (uv_write(&r->w, (uv_stream_t *)&c->pipe, &b, 1, on_written)) {
		free(data);
		free(r);
		conn_close(c);
	}
}

void control_server_deliver(void *server, uint64_t client, char *reply, size_t len)
{
	struct control_server *s = server;
	for (struct conn *c = s->conns; c; c = c->next)
		if (c->id == client) {
			conn_send(c, reply, len);
			return;
		}
	free(reply);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	struct conn *c = h->data;
	if (c->cap - c->len < 4096) {
		size_t ncap = c->cap ? c->cap * 2 : 8192;
		char *n = realloc(c->buf, ncap);
		if (!n) {
			*b = uv_buf_init(NULL, 0);
			return;
		}
		c->buf = n;
		c->cap = ncap;
	}
	*b = uv_buf_init(c->buf + c->len, (unsigned)(c->cap - c->len));
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct conn *c = st->data;
	struct control_server *s = c->srv;
	if (n < 0) {
		conn_close(c);
		return;
	}
	c->len += (size_t)n;
	size_t start = 0;
	uint64_t now = uv_hrtime();
	for (size_t i = 0; i < c->len && !c->closing; i++) {
		if (c->buf[i] != '\n')
			continue;
		size_t rlen;
		size_t l = i - start;
		if (l && c->buf[start + l - 1] == '\r')
			l--;
		if (l) {
			char *r = control_handle(s->ctl, c->id, c->buf + start, l, now, &rlen);
			conn_send(c, r, rlen);
		}
		start = i + 1;
	}
	memmove(c->buf, c->buf + start, c->len - start);
	c->len -= start;
	if (c->len > CONTROL_MAX_LINE && !c->closing) {
		size_t rlen = 0;
		char *r = control_error_reply(EMSGSIZE, "request too long", &rlen);
		conn_send(c, r, rlen);
		uv_read_stop(st);
		conn_close(c);
	}
	if (s->after)
		s->after(s->ctx);
}

static void on_connection(uv_stream_t *l, int status)
{
	struct control_server *s = l->data;
	if (status < 0)
		return;
	struct conn *c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->srv = s;
	c->id = ++s->next_id;
	uv_pipe_init(l->loop, &c->pipe, 0);
	c->pipe.data = c;
	c->next = s->conns;
	s->conns = c;
	if (uv_accept(l, (uv_stream_t *)&c->pipe)) {
		conn_close(c);
		return;
	}
	uv_os_fd_t fd;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	if (uv_fileno((uv_handle_t *)&c->pipe, &fd) ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) ||
	    (cred.uid != geteuid() && cred.uid != 0)) {
		size_t rlen;
		tapir_log_warn(s->log, "control: refused a client with uid %u",
			 clen == sizeof(cred) ? (unsigned)cred.uid : 0u);
		char *r = control_error_reply(EACCES, "permission denied: uid not allowed", &rlen);
		if (r) {
			uv_buf_t b = uv_buf_init(r, (unsigned)rlen);
			uv_try_write((uv_stream_t *)&c->pipe, &b, 1);
			free(r);
		}
		conn_close(c);
		return;
	}
	uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
}

static void on_listener_closed(uv_handle_t *h)
{
	free(h->data);
}

/* mkdir -p with mode 0700 for what it creates */
static int mkdirs(const char *path)
{
	char tmp[4096];
	if (strlen(path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	strcpy(tmp, path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

/* Return: true if something accepts connections on @path */
static bool socket_alive(const char *path)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	strcpy(a.sun_path, path);
	bool alive = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return alive;
}

int control_server_start(struct control_server **out, uv_loop_t *loop, const char *path,
			 struct control *ctl, struct tapir_logger *log, void (*after)(void *ctx),
			 void *ctx)
{
	struct control_server *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	if (strlen(path) >= sizeof(s->path)) {
		tapir_log_err(log, "control: %s: path too long", path);
		free(s);
		return -ENAMETOOLONG;
	}
	strcpy(s->path, path);
	s->ctl = ctl;
	s->log = log;
	s->after = after;
	s->ctx = ctx;

	char dir[sizeof(s->path)];
	strcpy(dir, path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		int rc = mkdirs(dir);
		if (rc) {
			tapir_log_err(log, "control: %s: %s", dir, strerror(-rc));
			free(s);
			return rc;
		}
	}
	char why[4200];
	int crc = control_socket_dir_check(path, false, why, sizeof(why));
	if (crc) {
		if (!*why)
			snprintf(why, sizeof(why), "%s: %s", dir, strerror(-crc));
		tapir_log_err(log, "control: refusing the socket directory: %s", why);
		free(s);
		return crc;
	}
	if (socket_alive(path)) {
		tapir_log_err(log, "control: %s: another instance is listening", path);
		free(s);
		return -EADDRINUSE;
	}
	unlink(path);

	uv_pipe_init(loop, &s->listener, 0);
	s->listener.data = s;
	mode_t old = umask(0177);
	int rc = uv_pipe_bind(&s->listener, path);
	umask(old);
	if (!rc)
		rc = uv_listen((uv_stream_t *)&s->listener, 16, on_connection);
	if (rc) {
		tapir_log_err(log, "control: %s: %s", path, uv_strerror(rc));
		s->stopping = true;
		uv_close((uv_handle_t *)&s->listener, on_listener_closed);
		return rc;
	}
	chmod(path, 0600);
	*out = s;
	return 0;
}

void control_server_stop(struct control_server *s)
{
	if (!s || s->stopping)
		return;
	s->stopping = true;
	while (s->conns)
		conn_close(s->conns);
	unlink(s->path);
	uv_close((uv_handle_t *)&s->listener, on_listener_closed);
}

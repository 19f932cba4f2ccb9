/*
 * tls.h - TLS for the http and kvhttp apps: OpenSSL with memory BIOs over tapir's TCP flows
 *
 * Not an API: conn.c drives it, fuzz/tls_glue feeds it peer bytes.  See the
 * theory of operation at the top of tls.c.
 *
 * Ownership: a struct tls_server belongs to its app (tls_server_new() ..
 * tls_server_free()); a certificate set (struct tls_certs) is reference
 * counted and a server holds the current one; a struct tls_conn belongs to
 * its connection and keeps what it was started with (its SSL_CTX) however
 * often the server's certificates are replaced.
 */
#ifndef TAPIR_HTTP_TLS_H
#define TAPIR_HTTP_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tapir/kv.h"

/* Counters of one server, in tls_counter_names[] order (the control socket's
 * `stats`, layer "tls.APP").  _LIVE and _IN_HANDSHAKE are gauges. */
#define TLS_COUNTERS(X)                                                                    \
	X(ACCEPTED, "accepted")                  /* connections: handshakes + failures */ \
	X(HANDSHAKES, "handshakes")              /* completed */                          \
	X(RESUMED, "resumed")                    /* of which resumed a session */          \
	X(TLS12, "tls1_2")                                                                  \
	X(TLS13, "tls1_3")                                                                  \
	X(FAILURES, "failures")                  /* every handshake that did not complete */ \
	X(FAIL_TIMEOUT, "fail_timeout")          /* tls_handshake_timeout passed */        \
	X(FAIL_BUSY, "fail_busy")                /* tls_max_handshakes reached */          \
	X(FAIL_EOF, "fail_eof")                  /* the peer sent FIN mid-handshake */     \
	X(FAIL_CLOSED, "fail_closed")            /* ended otherwise mid-handshake (reset) */ \
	X(FAIL_NOT_TLS, "fail_not_tls")          /* the first byte is no handshake record */ \
	X(FAIL_VERSION, "fail_version")          /* no common protocol version */          \
	X(FAIL_CIPHER, "fail_cipher")            /* no common cipher */                    \
	X(FAIL_SNI, "fail_sni")                  /* an unknown name and no default/ */     \
	X(FAIL_ALERT, "fail_alert")              /* the peer sent a fatal alert */         \
	X(FAIL_PROTOCOL, "fail_protocol")        /* anything else the peer got wrong */    \
	X(FAIL_RESOURCE, "fail_resource")        /* out of memory, output over its bound */ \
	X(ERRORS, "errors")                      /* errors after the handshake */          \
	X(TICKET_KEYS, "ticket_keys")            /* ticket keys made (rotations + 1) */    \
	X(RELOADS, "reloads")                    /* certificate sets loaded */             \
	X(RELOAD_FAILURES, "reload_failures")                                               \
	X(LIVE, "connections")                   /* gauge: TLS connections now */          \
	X(IN_HANDSHAKE, "in_handshake")          /* gauge: of which in their handshake */

#define TLS_CTR_ENUM(id, name) TLS_CTR_##id,
enum tls_counter { TLS_COUNTERS(TLS_CTR_ENUM) TLS_CTR__COUNT };
#undef TLS_CTR_ENUM
extern const char *const tls_counter_names[TLS_CTR__COUNT];

/* What a server is configured with (the app's keys; see conf/tapird.conf) */
struct tls_config {
	int min_version;               /* 12 or 13 */
	const char *ciphers;           /* TLS 1.2 cipher list (OpenSSL syntax) */
	const char *ciphersuites;      /* TLS 1.3 suites */
	uint32_t session_cache;        /* server session cache entries; 0: none */
	uint64_t ticket_rotation_ns;   /* a ticket key encrypts this long, decrypts twice */
	uint32_t max_handshakes;       /* connections in handshake at once */
	uint64_t handshake_timeout_ns;
	void (*random)(void *buf, size_t len);  /* strong randomness (ticket keys) */
	uint64_t (*mono_ns)(void);     /* monotonic ns (ticket key age) */
};

struct tls_server;
struct tls_conn;

/*
 * The transport under a TLS connection (the flow): the send ring lent and
 * committed as tapir_tcp_write_reserve()/_commit() do.
 */
struct tls_io {
	void *(*reserve)(void *io, size_t *len, int *err);
	long (*commit)(void *io, size_t n, bool push);
};

/**
 * tls_server_new() - A TLS server without certificates yet
 * @cfg:  Its configuration (copied; the strings too)
 * @out:  The server
 * @err:  The reason when it fails (a bad cipher list)
 *
 * Return: 0, -EINVAL (@err set) or -ENOMEM
 */
int tls_server_new(const struct tls_config *cfg, struct tls_server **out, char *err,
		   size_t errlen);
void tls_server_free(struct tls_server *s);

/**
 * tls_server_load() - Read the certificates of a store and serve them to new connections
 * @s:     The server
 * @kv:    The store: NAME/cert.pem (leaf first, then the chain) and
 *         NAME/key.pem for each NAME served, default/ for clients that
 *         send no or an unknown server name
 * @err:   The reason it failed ("www.example/key.pem: ...")
 *
 * All or nothing: when any name fails, the certificates served so far stay.
 * Connections already started keep theirs.
 *
 * Return: the number of names loaded, or -EINVAL/-ENOENT/-ENOMEM with @err set
 */
int tls_server_load(struct tls_server *s, struct tapir_kv_store *kv, char *err, size_t errlen);

/* Return: the counters (TLS_CTR__COUNT values), live */
const uint64_t *tls_server_counters(const struct tls_server *s);

/*
 * tls_conn_new() - Start the server side of a connection
 * @s:      A server with certificates (tls_server_load())
 * @io:     The transport, @io_ctx its argument (the flow)
 * @now:    Monotonic ns (for the handshake timeout)
 *
 * Refused (NULL) when the server holds tls_max_handshakes connections in
 * their handshake, or out of memory: counted as fail_busy/fail_resource.
 */
struct tls_conn *tls_conn_new(struct tls_server *s, const struct tls_io *io, void *io_ctx,
			      uint64_t now);
void tls_conn_free(struct tls_conn *t);

/* Plaintext in order; Return: false if the receiver is gone (do not touch @t) */
typedef bool (*tls_deliver_fn)(void *arg, const uint8_t *data, size_t len);

/*
 * tls_conn_input() - Bytes from the peer
 * @data, @len: Received in order (lent); len 0: the peer's FIN
 * @deliver:    Gets the plaintext, and len 0 at the peer's close_notify
 *
 * Runs the handshake, decrypts what is complete, writes what OpenSSL
 * answers (handshake flights, alerts, post-handshake messages) to the
 * transport.
 *
 * Return: 1 ok, 0 the receiver is gone (@deliver said so; @t is gone too),
 *         -EPROTO (a failed handshake, counted by reason, or a bad record),
 *         -ENOBUFS (output over its bound), -EPIPE (transport): close.
 */
int tls_conn_input(struct tls_conn *t, const uint8_t *data, size_t len, tls_deliver_fn deliver,
		   void *arg);

/*
 * Sending plaintext, with the transport's back-pressure: tls_conn_reserve()
 * lends a buffer of at most one record (16 KiB) once every byte of
 * ciphertext so far is in the transport (else NULL, *@err -EAGAIN: call
 * tls_conn_flush() from writable()); tls_conn_commit() encrypts @n bytes of
 * it and writes them out.  So at most one record waits outside the ring.
 * Return: as tapir_tcp_write_reserve()/_commit()
 */
void *tls_conn_reserve(struct tls_conn *t, size_t *len, int *err);
long tls_conn_commit(struct tls_conn *t, size_t n, bool push);
/* Write @len bytes (at most 16 KiB) as one record, copied.  Return: @len, 0 (full), < 0 */
long tls_conn_write(struct tls_conn *t, const void *data, size_t len);

/* Move waiting ciphertext to the transport.  Return: 0 all out, -EAGAIN, < 0 error */
int tls_conn_flush(struct tls_conn *t);

/* Send close_notify (best effort, as room allows). */
void tls_conn_shutdown(struct tls_conn *t);

/* Return: whether the handshake is done */
bool tls_conn_established(const struct tls_conn *t);

/* Close it if its handshake began more than tls_handshake_timeout before
 * @now (counted).  Return: true if it timed out */
bool tls_conn_timed_out(struct tls_conn *t, uint64_t now);

/* Its version ("TLSv1.3"), cipher and server name ("" when none) */
struct tls_conn_info {
	const char *version, *cipher;
	char sni[256];
	bool resumed, established;
};
void tls_conn_get_info(const struct tls_conn *t, struct tls_conn_info *out);

#endif /* TAPIR_HTTP_TLS_H */

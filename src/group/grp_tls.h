/* SPDX-License-Identifier: MPL-2.0 */
/* TLS for mesh links: an OpenSSL context from PEM files, one session per link over memory BIOs. */
#ifndef GRP_TLS_H
#define GRP_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core_err.h"

/*
 * Every link of a node with TLS runs TLS 1.2 or 1.3 (1.3 when both ends have it) with mutual
 * authentication: each end presents its certificate and verifies the other's chain against the
 * CA file. There is no host name check: the cluster's identity is "holds a certificate the
 * cluster's CA signed" (nodes dial numeric addresses learned by gossip, as Galera does).
 *
 * A session never touches a socket: the owner feeds it the bytes it read (grp_tls_feed), takes
 * what it must write (grp_tls_take), and moves plaintext with grp_tls_read / grp_tls_write. So
 * the link keeps its one libuv read and write path, on its node's loop thread, and nothing
 * blocks. OpenSSL's error queue is per thread; every call here clears it first.
 */

struct grp_tls_ctx;
struct grp_tls;

/* What grp_node_config.tls names (see grp_node.h). Paths are read during grp_tls_ctx_new only. */
struct grp_tls_files {
	const char *cert;    /* PEM: this node's certificate, then any intermediates */
	const char *key;     /* PEM: its private key, unencrypted */
	const char *ca;      /* PEM: the CA certificate(s) peers must chain to; NULL: cert */
	const char *ciphers; /* OpenSSL cipher list for TLS 1.2; NULL: OpenSSL's default */
};

#define GRP_TLS_PATH_MAX 4096
#define GRP_TLS_ERR_MAX 256 /* a session's last error text, for the log line */

/*
 * Loads and checks the files: they exist and are readable, the key matches the certificate,
 * the certificate is within its validity period, may serve as a TLS client and server
 * (extendedKeyUsage), and chains to the CA. Logs the reason of a failure (file, OpenSSL's
 * error text) at error level. Returns 0 with *out set, or -ENOENT / -EACCES (a file),
 * -EINVAL (not PEM, or the cipher list), -EKEYREJECTED (key mismatch, not signed by the CA,
 * wrong usage), -EKEYEXPIRED (expired or not yet valid), -ENOMEM. Any thread.
 */
int grp_tls_ctx_new(const struct grp_tls_files *f, struct grp_tls_ctx **out) CORE_WARN_UNUSED;
void grp_tls_ctx_free(struct grp_tls_ctx *c);

/*
 * A session on c (which must outlive it) for one connection: server for an accepted one.
 * NULL on ENOMEM. The rest is called on the owning loop thread only.
 */
struct grp_tls *grp_tls_new(struct grp_tls_ctx *c, bool server);
void grp_tls_free(struct grp_tls *t);

/*
 * Hands over len bytes read from the socket and advances the handshake. Returns 1 when the
 * handshake is (or was already) complete with a verified peer, 0 while it goes on, or
 * CORE_EMALFORMED when it failed (a bad or missing certificate, another CA, a plain peer, a
 * protocol error), with grp_tls_error() saying why. After 1, take plaintext with
 * grp_tls_read(). Either way, send what grp_tls_take() has.
 */
int grp_tls_feed(struct grp_tls *t, const void *data, size_t len) CORE_WARN_UNUSED;

/* Starts the handshake (the client's first flight); grp_tls_take() then has it. Returns as
 * grp_tls_feed. */
int grp_tls_start(struct grp_tls *t) CORE_WARN_UNUSED;

/*
 * Decrypted bytes, up to cap. Returns how many (0: none ready now), or CORE_EMALFORMED when
 * the stream is broken (a bad record, an alert, the peer's close_notify).
 */
int64_t grp_tls_read(struct grp_tls *t, void *buf, size_t cap) CORE_WARN_UNUSED;

/* Encrypts len bytes (all of them: the output BIO grows); only after the handshake. Returns 0
 * or CORE_EMALFORMED. */
int grp_tls_write(struct grp_tls *t, const void *data, size_t len) CORE_WARN_UNUSED;

/* Bytes waiting to go to the socket. */
size_t grp_tls_pending(struct grp_tls *t);
/* Moves up to cap of them into buf; returns how many. */
size_t grp_tls_take(struct grp_tls *t, void *buf, size_t cap);

/* Why the last call failed (never NULL), and the negotiated protocol ("TLSv1.3"). */
const char *grp_tls_error(const struct grp_tls *t);
const char *grp_tls_version(const struct grp_tls *t);

#endif

/*
 * tls.h - the client side of TLS, through GnuTLS, behind an opaque struct.
 *
 * Lifecycle: tls_new() on a connected non-blocking socket, tls_handshake()
 * until it returns TLS_OK (TLS_AGAIN: poll for tls_want() and call again),
 * then tls_check() collects the certificate facts and verifies them, then
 * tls_read()/tls_write().  No GnuTLS type leaks out of this header.
 *
 * Certificate facts are collected before the verdict, so a failing
 * certificate can still be shown in full.
 */
#ifndef SMTPDX_TLS_H
#define SMTPDX_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define TLS_MAX_CHAIN 8

struct cert_info {
	char *subject, *issuer;
	char *not_before, *not_after;	/* "2026-11-24T10:00:00Z" */
	char **names;			/* DNS and IP subject alternative names */
	size_t nnames;
	char *key;			/* "EC/ECDSA SECP256R1", "RSA 2048 bits" */
	char *sig;			/* "ECDSA-SHA256" */
	char *sha256;			/* "AB:CD:..." */
	bool self_signed;
	bool is_ca;			/* basicConstraints CA:TRUE */
	bool has_aia_issuer;		/* authorityInfoAccess caIssuers URI */
};

/* Verification problems, as bits (a certificate can have several). */
enum cert_problem {
	CP_UNTRUSTED	= 1u << 0,	/* no chain to a trust anchor */
	CP_HOSTNAME	= 1u << 1,	/* names do not cover servername */
	CP_EXPIRED	= 1u << 2,
	CP_NOT_YET_VALID = 1u << 3,
	CP_OTHER	= 1u << 4,	/* revoked, bad signature, weak algo... */
	CP_NO_CERT	= 1u << 5,	/* the server sent none */
	CP_PURPOSE	= 1u << 6,	/* extended key usage is not serverAuth */
	CP_WEAK		= 1u << 7,	/* refused: a weak algorithm (SHA-1, MD5,
					 * a short key) */
	CP_CHAIN_INCOMPLETE = 1u << 8	/* an intermediate the server should
					 * have sent is missing */
};

struct tls_info {
	bool done;			/* handshake completed */
	char version[16];		/* "TLS1.3" */
	int version_num;		/* 10, 11, 12, 13 */
	char cipher[96];		/* "TLS_AES_256_GCM_SHA384" */
	char kx[64];			/* key exchange group, "X25519" */
	bool verified;
	unsigned problems;		/* enum cert_problem bits */
	char verdict[256];		/* GnuTLS's words for the status */
	struct cert_info chain[TLS_MAX_CHAIN];
	size_t nchain;
	char alert[128];		/* handshake failure, in words */
	/* a weak key or signature in the chain the server sent, in words
	 * ("leaf key RSA 1024 bits"); "" if none.  A warning on its own;
	 * a failure (CP_WEAK) only where GnuTLS refused it. */
	char weak[160];
	size_t nsent;			/* certificates the server sent */
	char missing_issuer[256];	/* CP_CHAIN_INCOMPLETE: whose certificate
					 * is missing (escaped DN) */
};

enum tls_rc {
	TLS_OK = 0,
	TLS_AGAIN = -3,		/* would block (negative: never a byte count) */
	TLS_ERR = -1,		/* fatal: tls_error() says why */
	TLS_CLOSED = -2		/* peer closed */
};

enum tls_fail {
	TF_NONE,
	TF_VERSION,		/* no protocol version in common */
	TF_NOT_TLS,		/* the peer's bytes were not TLS at all */
	TF_CLOSED,		/* the peer hung up during the handshake */
	TF_CLIENT_CERT,		/* the server wants a client certificate */
	TF_SERVER_ERROR,	/* the server's own TLS failed (internal_error) */
	TF_OTHER
};

struct tls_conn;

struct tls_opts {
	const char *servername;	/* SNI (unless an IP literal) and name check */
	const char *cafile;	/* NULL: system trust store */
	const char *ca_pem;	/* trust anchors in memory; wins over cafile */
	int min_version;	/* 10..13 */
	const char *cert, *key;	/* --cert/--key: a client certificate (PEM
				 * files), sent if the server asks; NULL none */
	const char *key_pass;	/* an encrypted key's passphrase, or NULL */
};

/* Load a client certificate and its key (PEM; pass for an encrypted
 * key) to check them: 0 with the certificate's subject in subject, or -1
 * with why in err (one line); TLS_KEY_LOCKED (also < 0) when the key is
 * encrypted and pass (NULL or wrong) does not open it. */
#define TLS_KEY_LOCKED (-2)
int tls_client_cert_load(const char *cert, const char *key, const char *pass,
			 char *subject, size_t sublen, char *err, size_t errlen);

/* The smallest RSA/DSA key not called weak. */
#define TLS_MIN_RSA_BITS 2048

struct tls_conn *tls_new(int fd, const struct tls_opts *o, char *err,
			 size_t errlen);
void tls_free(struct tls_conn *t);	/* does not close fd */

enum tls_rc tls_handshake(struct tls_conn *t);
/* After TLS_AGAIN: POLLIN or POLLOUT, what the handshake waits for. */
short tls_want(const struct tls_conn *t);
/* After TLS_ERR from the handshake, or TLS_ERR / TLS_CLOSED from a read
 * (a TLS 1.3 server refuses a missing client certificate after the
 * client's handshake is done): why, and in words. */
enum tls_fail tls_failure(const struct tls_conn *t);
/* Every TLS alert received, in words ("fatal alert certificate_required
 * (116)"), "; "-separated; "" if none. */
const char *tls_alerts(const struct tls_conn *t);
/* Did the server send a CertificateRequest? */
bool tls_cert_requested(const struct tls_conn *t);
const char *tls_error(const struct tls_conn *t);
/* The first bytes the peer sent during the handshake (evidence when it
 * was not TLS at all: "220 mx.example.com ESMTP"). */
const char *tls_first_bytes(const struct tls_conn *t, size_t *len);

/* Fill info: version, cipher, chain facts, verification result. */
void tls_check(struct tls_conn *t, struct tls_info *info);

/* Read into buf: >0 bytes, TLS_AGAIN, TLS_CLOSED or TLS_ERR. */
ssize_t tls_read(struct tls_conn *t, void *buf, size_t n);
/* Write: >0 bytes accepted, TLS_AGAIN or TLS_ERR.  After TLS_AGAIN call
 * again with the same data. */
ssize_t tls_write(struct tls_conn *t, const void *buf, size_t n);
bool tls_pending(const struct tls_conn *t);	/* decrypted bytes waiting */
void tls_bye(struct tls_conn *t);		/* best-effort close_notify */

/* Channel binding for SCRAM-*-PLUS: base64 of tls-exporter (TLS 1.3) or
 * tls-unique (TLS 1.2); NULL if none.  New string. */
char *tls_channel_binding(struct tls_conn *t, bool *exporter);

void tls_info_free(struct tls_info *info);
const char *tls_library_version(void);

#endif

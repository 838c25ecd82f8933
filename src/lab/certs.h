/*
 * certs.h - the lab's throwaway PKI, made in memory with GnuTLS.
 *
 * Every lab_start() makes a fresh ECDSA P-256 certificate authority
 * ("smtpdx lab CA") and the one server certificate its scenario presents
 * (enum lab_cert).  Nothing touches the disk; the keys die with the
 * process.  ECDSA keys are made in a millisecond or two, so a TUI that
 * restarts the lab on every session does not wait.
 *
 * Lab-internal: only src/lab/ includes this header.
 */
#ifndef SMTPDX_LAB_CERTS_H
#define SMTPDX_LAB_CERTS_H

#include <stddef.h>
#include "lab.h"

/*
 * All three strings are PEM, NUL-terminated, on the heap, owned by the
 * struct: lab_pki_free() releases them (and wipes the key first).
 */
struct lab_pki {
	char *ca_pem;		/* the CA certificate: the client's trust anchor */
	char *cert_pem;		/* the server certificate (leaf only, no chain) */
	char *key_pem;		/* its private key, PKCS#8: a secret */
	char *client_pem;	/* a client certificate from the same CA
				 * ("CN=alice@smtpdx.lab", TLS client use)
				 * and its key, for --cert/--key: a secret */
};

/*
 * Make the CA and the server certificate `which`.  Returns 0 with *pki
 * filled, or -1 with a message in err and *pki empty (safe to free).
 * The result is ready for gnutls_certificate_set_x509_key_mem().
 */
int lab_pki_make(struct lab_pki *pki, enum lab_cert which,
		 char *err, size_t errlen);

/*
 * A CA shared by several servers (--lab all: every scenario's
 * certificate from one CA, so one CA file trusts them all).
 * lab_pki_make_ca() issues from it (NULL: a CA of its own, as
 * lab_pki_make()); the CA must outlive the call only.
 */
struct lab_ca;
struct lab_ca *lab_ca_new(char *err, size_t errlen);
void lab_ca_free(struct lab_ca *ca);
int lab_pki_make_ca(struct lab_pki *pki, const struct lab_ca *ca,
		    enum lab_cert which, char *err, size_t errlen);

/* Release what lab_pki_make() made; the struct may be reused. */
void lab_pki_free(struct lab_pki *pki);

#endif

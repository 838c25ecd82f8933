/*
 * certs.c - the lab's throwaway PKI: one CA and one server certificate,
 * made in memory with GnuTLS's X.509 API.
 *
 * The certificates are shaped like real ones so the client's checks meet
 * what they meet in the wild: version 3, a random positive serial, SHA-256
 * ECDSA signatures, a CA with basicConstraints CA:TRUE and keyCertSign, a
 * leaf with CA:FALSE, digitalSignature, serverAuth, the name in the
 * subjectAltName (clients ignore the CN when a SAN is present) and key
 * identifiers that link the two.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "../util.h"
#include "certs.h"

#define DAY		(24 * 60 * 60)
#define LAB_ORG		"O=smtpdx lab"

/* What one certificate says; everything else is common to all. */
struct cert_spec {
	const char *dn;		/* subject, RFC 4514 */
	const char *dns_name;	/* subjectAltName dNSName; NULL for the CA */
	time_t not_before, not_after;
	bool is_ca;
	int path_len;		/* CA: how many CAs may follow (0: leaves only) */
	const char *purpose;	/* leaf: extended key usage OID; NULL: serverAuth */
	gnutls_digest_algorithm_t digest;	/* the issuer's signature; 0: SHA-256 */
};

/* Format "what: GnuTLS's words" into err; returns -1 for `return fail()`. */
static int
fail(char *err, size_t errlen, const char *what, int rc)
{
	snprintf(err, errlen, "lab certificates: %s: %s", what,
		 gnutls_strerror(rc));
	return -1;
}

/* An ECDSA P-256 key, or an RSA key of rsa_bits bits. */
static int
make_key(gnutls_x509_privkey_t *key, unsigned rsa_bits)
{
	int rc = gnutls_x509_privkey_init(key);
	if (rc < 0)
		return rc;
	if (rsa_bits)
		rc = gnutls_x509_privkey_generate(*key, GNUTLS_PK_RSA, rsa_bits, 0);
	else
		rc = gnutls_x509_privkey_generate(*key, GNUTLS_PK_ECDSA,
			GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
	if (rc < 0) {
		gnutls_x509_privkey_deinit(*key);
		*key = NULL;
	}
	return rc;
}

/*
 * Make and sign one certificate for `key`.  issuer == NULL makes it
 * self-signed (signed by `key` itself).  Returns 0 or a GnuTLS error code,
 * with *what naming the step that failed.
 */
static int
make_cert(const struct cert_spec *spec, gnutls_x509_privkey_t key,
	  gnutls_x509_crt_t issuer, gnutls_x509_privkey_t issuer_key,
	  gnutls_x509_crt_t *out, const char **what)
{
	gnutls_x509_crt_t crt = NULL;
	unsigned char serial[16], id[64];
	size_t idlen;
	const char *errpos;
	int rc;

	*out = NULL;
	if ((rc = gnutls_x509_crt_init(&crt)) < 0) {
		*what = "init";
		return rc;
	}

	/* RFC 5280: positive, at most 20 octets; 16 random ones, top bit 0. */
	*what = "serial";
	if ((rc = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof serial)) < 0)
		goto out;
	serial[0] = (unsigned char)((serial[0] & 0x7f) | 0x40);

	*what = "fields";
	if ((rc = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
	    (rc = gnutls_x509_crt_set_serial(crt, serial, sizeof serial)) < 0 ||
	    (rc = gnutls_x509_crt_set_activation_time(crt,
						spec->not_before)) < 0 ||
	    (rc = gnutls_x509_crt_set_expiration_time(crt,
						spec->not_after)) < 0 ||
	    (rc = gnutls_x509_crt_set_key(crt, key)) < 0)
		goto out;

	*what = "subject";
	if ((rc = gnutls_x509_crt_set_dn(crt, spec->dn, &errpos)) < 0)
		goto out;

	*what = "extensions";
	if (spec->is_ca) {
		/* pathLen 0: this CA signs leaves only */
		if ((rc = gnutls_x509_crt_set_basic_constraints(crt, 1,
							spec->path_len)) < 0 ||
		    (rc = gnutls_x509_crt_set_key_usage(crt,
				GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN |
				GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0)
			goto out;
	} else {
		if ((rc = gnutls_x509_crt_set_basic_constraints(crt, 0, -1)) < 0 ||
		    (rc = gnutls_x509_crt_set_key_usage(crt,
				GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0 ||
		    (rc = gnutls_x509_crt_set_key_purpose_oid(crt,
				spec->purpose ? spec->purpose :
				GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0 ||
		    (rc = gnutls_x509_crt_set_subject_alt_name(crt,
				GNUTLS_SAN_DNSNAME, spec->dns_name,
				(unsigned)strlen(spec->dns_name),
				GNUTLS_FSAN_SET)) < 0)
			goto out;
	}

	*what = "key identifiers";
	idlen = sizeof id;
	if ((rc = gnutls_x509_crt_get_key_id(crt, 0, id, &idlen)) < 0 ||
	    (rc = gnutls_x509_crt_set_subject_key_id(crt, id, idlen)) < 0)
		goto out;
	if (issuer) {
		idlen = sizeof id;
		if ((rc = gnutls_x509_crt_get_subject_key_id(issuer, id, &idlen,
							     NULL)) < 0 ||
		    (rc = gnutls_x509_crt_set_authority_key_id(crt, id,
							       idlen)) < 0)
			goto out;
	}

	*what = "signature";
	rc = gnutls_x509_crt_sign2(crt, issuer ? issuer : crt,
				   issuer ? issuer_key : key,
				   spec->digest ? spec->digest : GNUTLS_DIG_SHA256, 0);
out:
	if (rc < 0) {
		gnutls_x509_crt_deinit(crt);
		return rc;
	}
	*out = crt;
	return 0;
}

static int
export_crt(gnutls_x509_crt_t crt, char **pem)
{
	gnutls_datum_t d = { NULL, 0 };
	int rc = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &d);
	if (rc < 0)
		return rc;
	*pem = xstrndup((const char *)d.data, d.size);
	gnutls_free(d.data);
	return 0;
}

static int
export_key(gnutls_x509_privkey_t key, char **pem)
{
	gnutls_datum_t d = { NULL, 0 };
	int rc = gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM,
						   NULL, GNUTLS_PKCS_PLAIN, &d);
	if (rc < 0)
		return rc;
	*pem = xstrndup((const char *)d.data, d.size);
	wipe(d.data, d.size);
	gnutls_free(d.data);
	return 0;
}

struct lab_ca {
	gnutls_x509_crt_t crt;
	gnutls_x509_privkey_t key;
};

int
lab_pki_make(struct lab_pki *pki, enum lab_cert which,
	     char *err, size_t errlen)
{
	return lab_pki_make_ca(pki, NULL, which, err, errlen);
}

int
lab_pki_make_ca(struct lab_pki *pki, const struct lab_ca *shared,
		enum lab_cert which, char *err, size_t errlen)
{
	gnutls_x509_privkey_t cakey = NULL, key = NULL, ikey = NULL, ckey = NULL;
	gnutls_x509_crt_t ca = NULL, crt = NULL, inter = NULL, ccrt = NULL;
	time_t now = time(NULL);
	const char *what = "CA key";
	unsigned rsa_bits = 0;
	int rc;

	memset(pki, 0, sizeof *pki);

	/*
	 * The CA outlives every leaf on both sides, so that an expired or
	 * not-yet-valid leaf is the only thing wrong with its chain.
	 */
	struct cert_spec ca_spec = {
		.dn = "CN=smtpdx lab CA," LAB_ORG,
		.not_before = now - 800 * DAY,
		.not_after = now + 800 * DAY,
		.is_ca = true,
	};
	struct cert_spec inter_spec = {
		.dn = "CN=smtpdx lab intermediate CA," LAB_ORG,
		.not_before = now - 400 * DAY,
		.not_after = now + 400 * DAY,
		.is_ca = true,
	};
	struct cert_spec leaf = {
		.dn = "CN=" LAB_SERVERNAME "," LAB_ORG,
		.dns_name = LAB_SERVERNAME,
		.not_before = now - DAY,
		.not_after = now + 30 * DAY,
	};
	switch (which) {
	case LC_GOOD:
	case LC_SELF_SIGNED:
		break;
	case LC_WRONG_NAME:
		leaf.dn = "CN=" LAB_OTHERNAME "," LAB_ORG;
		leaf.dns_name = LAB_OTHERNAME;
		break;
	case LC_EXPIRED:	/* a 30-day certificate that ended a year ago */
		leaf.not_before = now - 395 * DAY;
		leaf.not_after = now - 365 * DAY;
		break;
	case LC_NOT_YET_VALID:	/* a 30-day certificate that starts next year */
		leaf.not_before = now + 365 * DAY;
		leaf.not_after = now + 395 * DAY;
		break;
	case LC_CLIENT_ONLY:	/* a client certificate on a server */
		leaf.purpose = GNUTLS_KP_TLS_WWW_CLIENT;
		break;
	case LC_RSA1024:
		rsa_bits = 1024;
		break;
	case LC_SHA1:
		leaf.digest = GNUTLS_DIG_SHA1;
		break;
	case LC_NO_INTERMEDIATE:	/* root -> intermediate -> leaf */
		ca_spec.path_len = 1;
		break;
	}

	if (shared) {		/* made with path_len 1 (lab_ca_new) */
		ca = shared->crt;
		cakey = shared->key;
	} else if ((rc = make_key(&cakey, 0)) < 0 ||
		   (rc = make_cert(&ca_spec, cakey, NULL, NULL, &ca, &what)) < 0)
		goto out;
	if (which == LC_NO_INTERMEDIATE) {
		what = "intermediate key";
		if ((rc = make_key(&ikey, 0)) < 0 ||
		    (rc = make_cert(&inter_spec, ikey, ca, cakey, &inter,
				    &what)) < 0)
			goto out;
	}
	what = "server key";
	if ((rc = make_key(&key, rsa_bits)) < 0)
		goto out;
	if (which == LC_SELF_SIGNED)
		rc = make_cert(&leaf, key, NULL, NULL, &crt, &what);
	else if (inter)		/* the server sends the leaf alone */
		rc = make_cert(&leaf, key, inter, ikey, &crt, &what);
	else
		rc = make_cert(&leaf, key, ca, cakey, &crt, &what);
	if (rc < 0)
		goto out;

	/* the client certificate --lab-server hands out: signed by the
	 * root, for TLS client use */
	what = "client key";
	struct cert_spec cspec = {
		.dn = "CN=" LAB_USER "@smtpdx.lab," LAB_ORG,
		.not_before = now - DAY,
		.not_after = now + 30 * DAY,
		.purpose = GNUTLS_KP_TLS_WWW_CLIENT,
		.dns_name = "client.smtpdx.lab",
	};
	if ((rc = make_key(&ckey, 0)) < 0 ||
	    (rc = make_cert(&cspec, ckey, ca, cakey, &ccrt, &what)) < 0)
		goto out;
	what = "export";
	char *cc = NULL, *ck = NULL;
	if ((rc = export_crt(ccrt, &cc)) < 0 || (rc = export_key(ckey, &ck)) < 0) {
		free(cc);
		free(ck);
		goto out;
	}
	pki->client_pem = xasprintf("%s%s", cc, ck);
	wipe(ck, strlen(ck));
	free(ck);
	free(cc);
	if ((rc = export_crt(ca, &pki->ca_pem)) < 0 ||
	    (rc = export_crt(crt, &pki->cert_pem)) < 0 ||
	    (rc = export_key(key, &pki->key_pem)) < 0)
		goto out;
out:
	gnutls_x509_crt_deinit(ccrt);
	gnutls_x509_privkey_deinit(ckey);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_crt_deinit(inter);
	gnutls_x509_privkey_deinit(key);
	gnutls_x509_privkey_deinit(ikey);
	if (!shared) {
		gnutls_x509_crt_deinit(ca);
		gnutls_x509_privkey_deinit(cakey);
	}
	if (rc < 0) {
		lab_pki_free(pki);
		return fail(err, errlen, what, rc);
	}
	return 0;
}

void
lab_pki_free(struct lab_pki *pki)
{
	if (pki->key_pem)
		wipe(pki->key_pem, strlen(pki->key_pem));
	free(pki->key_pem);
	if (pki->client_pem)
		wipe(pki->client_pem, strlen(pki->client_pem));
	free(pki->client_pem);
	free(pki->cert_pem);
	free(pki->ca_pem);
	memset(pki, 0, sizeof *pki);
}

struct lab_ca *
lab_ca_new(char *err, size_t errlen)
{
	time_t now = time(NULL);
	const char *what = "CA key";
	struct cert_spec spec = {
		.dn = "CN=smtpdx lab CA," LAB_ORG,
		.not_before = now - 800 * DAY,
		.not_after = now + 800 * DAY,
		.is_ca = true,
		.path_len = 1,		/* room for LC_NO_INTERMEDIATE */
	};
	struct lab_ca *ca = xcalloc(1, sizeof *ca);
	int rc;
	if ((rc = make_key(&ca->key, 0)) < 0 ||
	    (rc = make_cert(&spec, ca->key, NULL, NULL, &ca->crt, &what)) < 0) {
		lab_ca_free(ca);
		fail(err, errlen, what, rc);
		return NULL;
	}
	return ca;
}

void
lab_ca_free(struct lab_ca *ca)
{
	if (!ca)
		return;
	gnutls_x509_crt_deinit(ca->crt);
	gnutls_x509_privkey_deinit(ca->key);
	free(ca);
}

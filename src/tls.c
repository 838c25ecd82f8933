/* tls.c - GnuTLS client: handshake, certificate facts, verdict, records. */
#include <ctype.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <arpa/inet.h>

#include "addr.h"
#include "tls.h"
#include "util.h"

struct tls_conn {
	int fd;
	gnutls_session_t s;
	gnutls_certificate_credentials_t cred;
	char *servername;
	int last_rc;			/* last GnuTLS error code */
	char err[256];
	char alerts[256];		/* every alert received, in words */
	bool explicit_anchors;		/* --cafile or the lab CA, not the system */
	unsigned char first[128];	/* first bytes read from the peer */
	size_t nfirst;
	bool peer_closed;
	bool got_app_data;		/* a record of data came after the handshake */
	unsigned nonfatal;		/* renegotiation requests, warnings */
};

/* GnuTLS leaves a client free to ignore a TLS 1.2 HelloRequest (RFC 5246
 * §7.4.1.1: GNUTLS_E_REHANDSHAKE) and warning alerts; it stops empty
 * records itself (GNUTLS_E_TOO_MANY_EMPTY_PACKETS after 200 in a row) and
 * TLS 1.3 KeyUpdate floods (GNUTLS_E_TOO_MANY_HANDSHAKE_PACKETS).  The
 * non-fatal ones are skipped, up to this many a connection: a server that
 * sends them without end is stopped, never spun on. */
#define TLS_MAX_NONFATAL 64

/* Our own transport functions: they keep the first bytes the peer sent,
 * so a plaintext greeting on a TLS attempt can be shown as evidence. */
static ssize_t
pull(gnutls_transport_ptr_t p, void *buf, size_t n)
{
	struct tls_conn *t = p;
	ssize_t r = recv(t->fd, buf, n, 0);
	if (r < 0) {
		gnutls_transport_set_errno(t->s, errno == EWOULDBLOCK ? EAGAIN : errno);
		return -1;
	}
	if (r == 0)
		t->peer_closed = true;
	if (r > 0 && t->nfirst < sizeof t->first) {
		size_t k = sizeof t->first - t->nfirst;
		if (k > (size_t)r)
			k = (size_t)r;
		memcpy(t->first + t->nfirst, buf, k);
		t->nfirst += k;
	}
	return r;
}

static ssize_t
push(gnutls_transport_ptr_t p, const void *buf, size_t n)
{
	struct tls_conn *t = p;
	ssize_t r = send(t->fd, buf, n, MSG_NOSIGNAL);
	if (r < 0)
		gnutls_transport_set_errno(t->s, errno == EWOULDBLOCK ? EAGAIN : errno);
	return r;
}

static int
pull_timeout(gnutls_transport_ptr_t p, unsigned int ms)
{
	struct tls_conn *t = p;
	struct pollfd pfd = { .fd = t->fd, .events = POLLIN };
	return poll(&pfd, 1, (int)ms);
}

static bool
is_ip_literal(const char *s)
{
	unsigned char b[16];
	return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

struct tls_conn *
tls_new(int fd, const struct tls_opts *o, char *err, size_t errlen)
{
	static int inited;
	struct tls_conn *t = xcalloc(1, sizeof *t);
	char prio[160];
	int rc;
	const char *where = "";

	if (!inited) {
		gnutls_global_init();
		inited = 1;
	}
	t->fd = fd;
	/* SNI and the certificate's names are A-labels (RFC 6066 §3) */
	t->servername = idna_lookup_name(o->servername ? o->servername : "");
	if ((rc = gnutls_certificate_allocate_credentials(&t->cred)) < 0) {
		where = "credentials";
		goto fail;
	}
	t->explicit_anchors = o->ca_pem || o->cafile;
	if (o->ca_pem) {
		gnutls_datum_t d = { (unsigned char *)o->ca_pem,
				     (unsigned)strlen(o->ca_pem) };
		rc = gnutls_certificate_set_x509_trust_mem(t->cred, &d,
							   GNUTLS_X509_FMT_PEM);
		where = "the lab CA";
	} else if (o->cafile) {
		rc = gnutls_certificate_set_x509_trust_file(t->cred, o->cafile,
							    GNUTLS_X509_FMT_PEM);
		where = o->cafile;
		if (rc == 0)
			rc = GNUTLS_E_NO_CERTIFICATE_FOUND;
	} else {
		rc = gnutls_certificate_set_x509_system_trust(t->cred);
		where = "the system trust store";
		if (rc == 0)	/* an empty store: everything will be untrusted */
			rc = 1;
	}
	if (rc < 0)
		goto fail;
	if (o->cert && o->key) {
		rc = gnutls_certificate_set_x509_key_file2(t->cred, o->cert, o->key,
							   GNUTLS_X509_FMT_PEM,
							   o->key_pass, 0);
		where = o->cert;
		if (rc < 0)
			goto fail;
	}

	if ((rc = gnutls_init(&t->s, GNUTLS_CLIENT | GNUTLS_NONBLOCK)) < 0) {
		where = "session";
		goto fail;
	}
	/* TLS 1.3 first; older versions only as far as the user allows. */
	snprintf(prio, sizeof prio, "NORMAL:-VERS-ALL:+VERS-TLS1.3%s%s%s",
		 o->min_version <= 12 ? ":+VERS-TLS1.2" : "",
		 o->min_version <= 11 ? ":+VERS-TLS1.1" : "",
		 o->min_version <= 10 ? ":+VERS-TLS1.0:%COMPAT" : "");
	if ((rc = gnutls_priority_set_direct(t->s, prio, NULL)) < 0) {
		where = "priority";
		goto fail;
	}
	gnutls_credentials_set(t->s, GNUTLS_CRD_CERTIFICATE, t->cred);
	if (*t->servername && !is_ip_literal(t->servername))
		gnutls_server_name_set(t->s, GNUTLS_NAME_DNS, t->servername,
				       strlen(t->servername));
	gnutls_transport_set_ptr(t->s, t);
	gnutls_transport_set_pull_function(t->s, pull);
	gnutls_transport_set_push_function(t->s, push);
	gnutls_transport_set_pull_timeout_function(t->s, pull_timeout);
	gnutls_handshake_set_timeout(t->s, 0);	/* the session keeps time */
	return t;
fail:
	snprintf(err, errlen, "TLS setup (%s): %s", where, gnutls_strerror(rc));
	tls_free(t);
	return NULL;
}

void
tls_free(struct tls_conn *t)
{
	if (!t)
		return;
	if (t->s)
		gnutls_deinit(t->s);
	if (t->cred)
		gnutls_certificate_free_credentials(t->cred);
	free(t->servername);
	free(t);
}

/* Keep the alert the peer just sent, in words, for the evidence. */
static void
note_alert(struct tls_conn *t, int rc)
{
	if (rc != GNUTLS_E_WARNING_ALERT_RECEIVED &&
	    rc != GNUTLS_E_FATAL_ALERT_RECEIVED)
		return;
	gnutls_alert_description_t a = gnutls_alert_get(t->s);
	/* the protocol's own name: "GNUTLS_A_INTERNAL_ERROR" -> "internal_error" */
	const char *sym = gnutls_alert_get_strname(a);
	const char *words = gnutls_alert_get_name(a);
	char name[64] = "";
	if (sym && !strncmp(sym, "GNUTLS_A_", 9))
		sym += 9;
	for (size_t i = 0; sym && sym[i] && i + 1 < sizeof name; i++) {
		name[i] = (char)tolower((unsigned char)sym[i]);
		name[i + 1] = '\0';
	}
	size_t n = strlen(t->alerts);
	snprintf(t->alerts + n, sizeof t->alerts - n, "%s%s alert %s (%d: %s)",
		 n ? "; " : "", rc == GNUTLS_E_FATAL_ALERT_RECEIVED ? "fatal"
								   : "warning",
		 *name ? name : "unknown", (int)a, words ? words : "?");
}

enum tls_rc
tls_handshake(struct tls_conn *t)
{
	int rc = gnutls_handshake(t->s);
	if (rc == GNUTLS_E_SUCCESS)
		return TLS_OK;
	if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED)
		return TLS_AGAIN;
	if (!gnutls_error_is_fatal(rc) && rc != GNUTLS_E_WARNING_ALERT_RECEIVED)
		return TLS_AGAIN;
	t->last_rc = rc;
	note_alert(t, rc);
	if (rc == GNUTLS_E_WARNING_ALERT_RECEIVED || rc == GNUTLS_E_FATAL_ALERT_RECEIVED)
		snprintf(t->err, sizeof t->err, "%s (alert: %s)", gnutls_strerror(rc),
			 gnutls_alert_get_name(gnutls_alert_get(t->s)));
	else
		snprintf(t->err, sizeof t->err, "%s", gnutls_strerror(rc));
	return TLS_ERR;
}

const char *
tls_alerts(const struct tls_conn *t)
{
	return t->alerts;
}

bool
tls_cert_requested(const struct tls_conn *t)
{
	return gnutls_certificate_client_get_request_status(t->s) != 0;
}

short
tls_want(const struct tls_conn *t)
{
	return gnutls_record_get_direction(t->s) ? POLLOUT : POLLIN;
}

/* A server that asked for a client certificate and ended the connection
 * before a byte of data: it refused to go on without one.  (A server that
 * only asks, as Postfix's smtpd_tls_ask_ccert does, greets normally.) */
static bool
cert_refusal(const struct tls_conn *t)
{
	return !t->got_app_data && tls_cert_requested(t);
}

enum tls_fail
tls_failure(const struct tls_conn *t)
{
	/* Bytes that look like an SMTP reply or any plain text: not TLS. */
	if (t->nfirst >= 3 && t->first[0] != 0x15 && t->first[0] != 0x16 &&
	    t->first[0] != 0x17 && t->first[0] != 0x14)
		return TF_NOT_TLS;
	switch (t->last_rc) {
	case GNUTLS_E_UNSUPPORTED_VERSION_PACKET:
	case GNUTLS_E_INSUFFICIENT_SECURITY:
		return TF_VERSION;
	case GNUTLS_E_FATAL_ALERT_RECEIVED: {
		gnutls_alert_description_t a = gnutls_alert_get(t->s);
		if (a == GNUTLS_A_PROTOCOL_VERSION ||
		    a == GNUTLS_A_INSUFFICIENT_SECURITY)
			return TF_VERSION;
		/* TLS 1.3 (RFC 8446 §4.4.2.4): an empty client Certificate
		 * is answered with certificate_required */
		if (a == GNUTLS_A_CERTIFICATE_REQUIRED)
			return TF_CLIENT_CERT;
		/* nothing this client sent makes a server fail inside */
		if (a == GNUTLS_A_INTERNAL_ERROR)
			return TF_SERVER_ERROR;
		/* TLS 1.2: a CertificateRequest, our empty Certificate, then
		 * handshake_failure or bad_certificate */
		if (cert_refusal(t) && (a == GNUTLS_A_HANDSHAKE_FAILURE ||
		    a == GNUTLS_A_BAD_CERTIFICATE ||
		    a == GNUTLS_A_CERTIFICATE_UNKNOWN ||
		    /* ours was presented and refused (Postfix with
		     * smtpd_tls_req_ccert: unknown_ca) */
		    a == GNUTLS_A_UNKNOWN_CA ||
		    a == GNUTLS_A_CERTIFICATE_EXPIRED ||
		    a == GNUTLS_A_CERTIFICATE_REVOKED ||
		    a == GNUTLS_A_DECODE_ERROR ||	/* GnuTLS 3.7's servers */
		    a == GNUTLS_A_UNSUPPORTED_CERTIFICATE ||
		    a == GNUTLS_A_ACCESS_DENIED))
			return TF_CLIENT_CERT;
		return TF_OTHER;
	}
	case GNUTLS_E_PREMATURE_TERMINATION:
	case GNUTLS_E_PUSH_ERROR:
	case GNUTLS_E_PULL_ERROR:
		/* asked for a certificate, got none, hung up */
		return cert_refusal(t) ? TF_CLIENT_CERT : TF_CLOSED;
	case GNUTLS_E_UNEXPECTED_PACKET_LENGTH:
	case GNUTLS_E_UNEXPECTED_PACKET:
		return t->nfirst == 0 ? TF_CLOSED : TF_OTHER;
	}
	if (t->peer_closed)
		return cert_refusal(t) ? TF_CLIENT_CERT : TF_CLOSED;
	return TF_OTHER;
}

const char *
tls_error(const struct tls_conn *t)
{
	return t->err;
}

const char *
tls_first_bytes(const struct tls_conn *t, size_t *len)
{
	*len = t->nfirst;
	return (const char *)t->first;
}

static char *
time_str(time_t tt)
{
	struct tm tm;
	char b[32];
	gmtime_r(&tt, &tm);
	strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return xstrdup(b);
}

static char *
dn_str(gnutls_x509_crt_t c, bool issuer)
{
	gnutls_datum_t d = { 0 };
	int rc = issuer ? gnutls_x509_crt_get_issuer_dn3(c, &d, 0)
			: gnutls_x509_crt_get_dn3(c, &d, 0);
	if (rc < 0)
		return xstrdup("");
	char *raw = xstrndup((const char *)d.data, d.size);
	gnutls_free(d.data);
	char *s = vis_escape(raw, strlen(raw));	/* names are untrusted too */
	free(raw);
	return s;
}

static void
cert_facts(gnutls_x509_crt_t c, struct cert_info *ci)
{
	char buf[512];
	size_t n;
	unsigned bits = 0;
	int rc;

	ci->subject = dn_str(c, false);
	ci->issuer = dn_str(c, true);
	ci->not_before = time_str(gnutls_x509_crt_get_activation_time(c));
	ci->not_after = time_str(gnutls_x509_crt_get_expiration_time(c));
	for (unsigned i = 0; i < 64; i++) {
		n = sizeof buf - 1;
		rc = gnutls_x509_crt_get_subject_alt_name(c, i, buf, &n, NULL);
		if (rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (rc == GNUTLS_SAN_DNSNAME) {
			buf[n] = '\0';
			ci->names = xrealloc(ci->names, (ci->nnames + 1) * sizeof(char *));
			ci->names[ci->nnames++] = vis_escape(buf, n);
		} else if (rc == GNUTLS_SAN_IPADDRESS) {
			char ip[64];
			if (inet_ntop(n == 4 ? AF_INET : AF_INET6, buf, ip, sizeof ip)) {
				ci->names = xrealloc(ci->names, (ci->nnames + 1) * sizeof(char *));
				ci->names[ci->nnames++] = xstrdup(ip);
			}
		}
	}
	int pk = gnutls_x509_crt_get_pk_algorithm(c, &bits);
	if (pk == GNUTLS_PK_ECDSA) {
		gnutls_ecc_curve_t curve;
		if (gnutls_x509_crt_get_pk_ecc_raw(c, &curve, NULL, NULL) >= 0)
			ci->key = xasprintf("ECDSA %s", gnutls_ecc_curve_get_name(curve));
		else
			ci->key = xasprintf("ECDSA %u bits", bits);
	} else {
		ci->key = xasprintf("%s %u bits",
				    gnutls_pk_algorithm_get_name((gnutls_pk_algorithm_t)pk),
				    bits);
	}
	int sig = gnutls_x509_crt_get_signature_algorithm(c);
	const char *sn = gnutls_sign_get_name((gnutls_sign_algorithm_t)sig);
	ci->sig = xstrdup(sn ? sn : "unknown");
	unsigned char fp[32];
	n = sizeof fp;
	if (gnutls_x509_crt_get_fingerprint(c, GNUTLS_DIG_SHA256, fp, &n) >= 0) {
		struct buf b = { 0 };
		for (size_t i = 0; i < n; i++)
			buf_printf(&b, "%s%02X", i ? ":" : "", fp[i]);
		ci->sha256 = buf_steal(&b);
	} else {
		ci->sha256 = xstrdup("");
	}
	ci->self_signed = strcmp(ci->subject, ci->issuer) == 0;
	unsigned ca = 0;
	ci->is_ca = gnutls_x509_crt_get_basic_constraints(c, NULL, &ca, NULL) >= 0 &&
		    ca;
	gnutls_datum_t aia = { 0 };
	for (unsigned seq = 0; seq < 8; seq++) {
		rc = gnutls_x509_crt_get_authority_info_access(c, seq,
				GNUTLS_IA_CAISSUERS_URI, &aia, NULL);
		if (rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (rc >= 0) {
			gnutls_free(aia.data);
			ci->has_aia_issuer = true;
			break;
		}
	}
}

/* Weak algorithms in one certificate the server sent, in words, appended
 * to w ("leaf key RSA 1024 bits"). */
static void
weak_facts(gnutls_x509_crt_t c, unsigned idx, bool self_signed, char *w,
	   size_t wlen)
{
	unsigned bits = 0;
	int pk = gnutls_x509_crt_get_pk_algorithm(c, &bits);
	const char *who = idx == 0 ? "leaf" : "intermediate";
	size_t n = strlen(w);
	if ((pk == GNUTLS_PK_RSA || pk == GNUTLS_PK_RSA_PSS || pk == GNUTLS_PK_DSA) &&
	    bits < TLS_MIN_RSA_BITS) {
		snprintf(w + n, wlen - n, "%s%s key %s %u bits (under %d)",
			 n ? "; " : "", who,
			 gnutls_pk_algorithm_get_name((gnutls_pk_algorithm_t)pk),
			 bits, TLS_MIN_RSA_BITS);
		n = strlen(w);
	}
	/* a root's own signature is not checked by anyone: skip it */
	if (self_signed)
		return;
	int sig = gnutls_x509_crt_get_signature_algorithm(c);
	gnutls_digest_algorithm_t dig =
		gnutls_sign_get_hash_algorithm((gnutls_sign_algorithm_t)sig);
	if (dig == GNUTLS_DIG_SHA1 || dig == GNUTLS_DIG_MD5 ||
	    dig == GNUTLS_DIG_MD2) {
		const char *sn = gnutls_sign_get_name((gnutls_sign_algorithm_t)sig);
		snprintf(w + n, wlen - n, "%s%s signed with %s", n ? "; " : "",
			 who, sn ? sn : gnutls_digest_get_name(dig));
	}
}

/* Does a trust anchor carry the name of c's issuer?  Then the issuer is
 * not missing: another CA of that name signed c (a wrong --cafile, a
 * re-made private CA), and the chain is untrusted, not incomplete. */
static bool
anchor_named_like_issuer(struct tls_conn *t, const gnutls_datum_t *der)
{
	gnutls_x509_crt_t c, issuer = NULL;
	gnutls_x509_trust_list_t tl = NULL;
	gnutls_datum_t dn = { 0 };
	bool found = false;

	gnutls_certificate_get_trust_list(t->cred, &tl);
	if (!tl || gnutls_x509_crt_init(&c) < 0)
		return false;
	if (gnutls_x509_crt_import(c, der, GNUTLS_X509_FMT_DER) >= 0 &&
	    gnutls_x509_crt_get_raw_issuer_dn(c, &dn) >= 0) {
		found = gnutls_x509_trust_list_get_issuer_by_dn(tl, &dn, &issuer,
								0) >= 0;
		if (issuer)
			gnutls_x509_crt_deinit(issuer);
		gnutls_free(dn.data);
	}
	gnutls_x509_crt_deinit(c);
	return found;
}

void
tls_check(struct tls_conn *t, struct tls_info *info)
{
	gnutls_protocol_t v = gnutls_protocol_get_version(t->s);
	const char *vn = gnutls_protocol_get_name(v);
	unsigned status = 0;

	info->done = true;
	snprintf(info->version, sizeof info->version, "%s", vn ? vn : "?");
	info->version_num = v == GNUTLS_TLS1_3 ? 13 : v == GNUTLS_TLS1_2 ? 12 :
			    v == GNUTLS_TLS1_1 ? 11 : v == GNUTLS_TLS1_0 ? 10 : 0;
	const char *cs = gnutls_ciphersuite_get(t->s);
	snprintf(info->cipher, sizeof info->cipher, "%s", cs ? cs : "?");
	const char *grp = gnutls_group_get_name(gnutls_group_get(t->s));
	snprintf(info->kx, sizeof info->kx, "%s", grp ? grp : "");

	unsigned ncert = 0;
	const gnutls_datum_t *certs = gnutls_certificate_get_peers(t->s, &ncert);
	for (unsigned i = 0; i < ncert && info->nchain < TLS_MAX_CHAIN; i++) {
		gnutls_x509_crt_t c;
		if (gnutls_x509_crt_init(&c) < 0)
			break;
		if (gnutls_x509_crt_import(c, &certs[i], GNUTLS_X509_FMT_DER) >= 0)
			cert_facts(c, &info->chain[info->nchain++]);
		gnutls_x509_crt_deinit(c);
	}
	if (ncert == 0) {
		info->problems = CP_NO_CERT | CP_UNTRUSTED;
		snprintf(info->verdict, sizeof info->verdict,
			 "the server sent no certificate");
		return;
	}

	info->nsent = ncert;
	for (unsigned i = 0; i < ncert && i < TLS_MAX_CHAIN; i++) {
		gnutls_x509_crt_t c;
		if (gnutls_x509_crt_init(&c) < 0)
			break;
		if (gnutls_x509_crt_import(c, &certs[i], GNUTLS_X509_FMT_DER) >= 0 &&
		    i < info->nchain)
			weak_facts(c, i, info->chain[i].self_signed, info->weak,
				   sizeof info->weak);
		gnutls_x509_crt_deinit(c);
	}

	/* The name and the purpose (RFC 5280 §4.2.1.12: id-kp-serverAuth)
	 * are checked by the library, with the chain. */
	gnutls_typed_vdata_st vd[2];
	unsigned nvd = 0;
	if (*t->servername) {
		vd[nvd].type = GNUTLS_DT_DNS_HOSTNAME;
		vd[nvd].data = (unsigned char *)t->servername;
		vd[nvd].size = 0;
		nvd++;
	}
	vd[nvd].type = GNUTLS_DT_KEY_PURPOSE_OID;
	vd[nvd].data = (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER;
	vd[nvd].size = 0;
	nvd++;
	int rc = gnutls_certificate_verify_peers(t->s, vd, nvd, &status);
	if (rc < 0) {
		info->problems = CP_OTHER;
		snprintf(info->verdict, sizeof info->verdict, "verification failed: %s",
			 gnutls_strerror(rc));
		return;
	}
	if (status & GNUTLS_CERT_SIGNER_NOT_FOUND) {
		/* The last certificate sent was issued by someone we do not
		 * know.  If it is not itself a CA and its issuer is not a
		 * root the server could leave out, an intermediate is
		 * missing: the leaf points at its issuer's certificate
		 * (authorityInfoAccess caIssuers, which public CAs always
		 * put there), or the user named the anchors (--cafile) and
		 * the leaf is not issued by one of them. */
		const struct cert_info *last = info->nchain ?
			&info->chain[info->nchain - 1] : NULL;
		if (last && info->nchain == ncert && !last->self_signed &&
		    !last->is_ca && (last->has_aia_issuer || t->explicit_anchors) &&
		    !anchor_named_like_issuer(t, &certs[ncert - 1])) {
			info->problems |= CP_CHAIN_INCOMPLETE;
			snprintf(info->missing_issuer, sizeof info->missing_issuer,
				 "%s", last->issuer);
		} else {
			info->problems |= CP_UNTRUSTED;
		}
	}
	if (status & GNUTLS_CERT_UNEXPECTED_OWNER)
		info->problems |= CP_HOSTNAME;
	if (status & GNUTLS_CERT_EXPIRED)
		info->problems |= CP_EXPIRED;
	if (status & GNUTLS_CERT_NOT_ACTIVATED)
		info->problems |= CP_NOT_YET_VALID;
	if (status & GNUTLS_CERT_PURPOSE_MISMATCH)
		info->problems |= CP_PURPOSE;
	if (status & GNUTLS_CERT_INSECURE_ALGORITHM)
		info->problems |= CP_WEAK;
	if (status & ~(unsigned)(GNUTLS_CERT_INVALID | GNUTLS_CERT_SIGNER_NOT_FOUND |
				 GNUTLS_CERT_UNEXPECTED_OWNER | GNUTLS_CERT_EXPIRED |
				 GNUTLS_CERT_NOT_ACTIVATED |
				 GNUTLS_CERT_PURPOSE_MISMATCH |
				 GNUTLS_CERT_INSECURE_ALGORITHM))
		info->problems |= CP_OTHER;
	/* No name, no check: nothing may turn the name check off (only
	 * --insecure goes on past it, and says so). */
	if (!*t->servername)
		info->problems |= CP_HOSTNAME;
	/* GnuTLS does not check dates or names on an untrusted chain the same
	 * way; look at the leaf ourselves so every problem is named. */
	time_t now = time(NULL);
	if (info->nchain > 0) {
		gnutls_x509_crt_t c;
		if (gnutls_x509_crt_init(&c) >= 0) {
			if (gnutls_x509_crt_import(c, &certs[0], GNUTLS_X509_FMT_DER) >= 0) {
				if (gnutls_x509_crt_get_expiration_time(c) < now)
					info->problems |= CP_EXPIRED;
				if (gnutls_x509_crt_get_activation_time(c) > now)
					info->problems |= CP_NOT_YET_VALID;
				if (*t->servername &&
				    !gnutls_x509_crt_check_hostname2(c, t->servername, 0))
					info->problems |= CP_HOSTNAME;
				if (!gnutls_x509_crt_check_key_purpose(c,
					GNUTLS_KP_TLS_WWW_SERVER, 0))
					info->problems |= CP_PURPOSE;
			}
			gnutls_x509_crt_deinit(c);
		}
	}
	info->verified = status == 0 && info->problems == 0;
	gnutls_datum_t out = { 0 };
	if (gnutls_certificate_verification_status_print(status,
			GNUTLS_CRT_X509, &out, 0) >= 0) {
		while (out.size && out.data[out.size - 1] == ' ')
			out.size--;
		snprintf(info->verdict, sizeof info->verdict, "%.*s%s",
			 (int)out.size, out.data, *t->servername ? "" :
			 " No server name to check the certificate against.");
		gnutls_free(out.data);
	}
}

ssize_t
tls_read(struct tls_conn *t, void *buf, size_t n)
{
	for (;;) {
		ssize_t r = gnutls_record_recv(t->s, buf, n);
		if (r > 0) {
			t->got_app_data = true;
			return r;
		}
		if (r == 0) {
			t->peer_closed = true;	/* close_notify */
			return TLS_CLOSED;
		}
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			return TLS_AGAIN;
		note_alert(t, (int)r);
		if (r == GNUTLS_E_PREMATURE_TERMINATION) {
			t->last_rc = (int)r;
			return TLS_CLOSED;
		}
		if (!gnutls_error_is_fatal((int)r) && ++t->nonfatal <= TLS_MAX_NONFATAL)
			continue;	/* the next record may be data */
		t->last_rc = (int)r;
		if (!gnutls_error_is_fatal((int)r))
			snprintf(t->err, sizeof t->err, "the server sent more than "
				 "%d renegotiation requests or warning alerts (last: "
				 "%s)", TLS_MAX_NONFATAL, gnutls_strerror((int)r));
		else if (r == GNUTLS_E_FATAL_ALERT_RECEIVED)
			snprintf(t->err, sizeof t->err, "%s (alert: %s)",
				 gnutls_strerror((int)r),
				 gnutls_alert_get_name(gnutls_alert_get(t->s)));
		else
			snprintf(t->err, sizeof t->err, "%s", gnutls_strerror((int)r));
		return TLS_ERR;
	}
}

ssize_t
tls_write(struct tls_conn *t, const void *buf, size_t n)
{
	ssize_t r = gnutls_record_send(t->s, buf, n);
	if (r >= 0)
		return r;
	if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
		return TLS_AGAIN;
	t->last_rc = (int)r;
	snprintf(t->err, sizeof t->err, "%s", gnutls_strerror((int)r));
	return TLS_ERR;
}

bool
tls_pending(const struct tls_conn *t)
{
	return gnutls_record_check_pending(t->s) > 0;
}

void
tls_bye(struct tls_conn *t)
{
	gnutls_bye(t->s, GNUTLS_SHUT_WR);
}

char *
tls_channel_binding(struct tls_conn *t, bool *exporter)
{
	gnutls_datum_t cb = { 0 };
	*exporter = gnutls_protocol_get_version(t->s) == GNUTLS_TLS1_3;
	if (gnutls_session_channel_binding(t->s,
		*exporter ? GNUTLS_CB_TLS_EXPORTER : GNUTLS_CB_TLS_UNIQUE, &cb) < 0)
		return NULL;
	char *s = b64_encode(cb.data, cb.size);
	gnutls_free(cb.data);
	return s;
}

void
tls_info_free(struct tls_info *info)
{
	for (size_t i = 0; i < info->nchain; i++) {
		struct cert_info *c = &info->chain[i];
		free(c->subject);
		free(c->issuer);
		free(c->not_before);
		free(c->not_after);
		for (size_t k = 0; k < c->nnames; k++)
			free(c->names[k]);
		free(c->names);
		free(c->key);
		free(c->sig);
		free(c->sha256);
	}
	memset(info, 0, sizeof *info);
}

const char *
tls_library_version(void)
{
	return gnutls_check_version(NULL);
}

int
tls_client_cert_load(const char *cert, const char *key, const char *pass,
		     char *subject, size_t sublen, char *err, size_t errlen)
{
	gnutls_certificate_credentials_t cred = NULL;
	gnutls_x509_crt_t *crts = NULL;
	unsigned ncrt = 0;
	int rc;

	if (subject && sublen)
		*subject = '\0';
	if ((rc = gnutls_certificate_allocate_credentials(&cred)) < 0) {
		snprintf(err, errlen, "client certificate: %s", gnutls_strerror(rc));
		return -1;
	}
	rc = gnutls_certificate_set_x509_key_file2(cred, cert, key,
						   GNUTLS_X509_FMT_PEM, pass, 0);
	if (rc < 0) {
		bool locked = rc == GNUTLS_E_DECRYPTION_FAILED ||
			rc == GNUTLS_E_PK_INVALID_PRIVKEY ||
			rc == GNUTLS_E_PKCS1_WRONG_PAD;
		snprintf(err, errlen, "--cert %s --key %s: %s%s", cert, key,
			 gnutls_strerror(rc), locked ? (pass ?
			 " (a wrong passphrase?)" : " (an encrypted key: give its "
			 "passphrase with --key-password-command CMD or "
			 "SMTPDX_KEY_PASSWORD, or run on a terminal to be asked)")
			 : "");
		gnutls_certificate_free_credentials(cred);
		return locked ? TLS_KEY_LOCKED : -1;
	}
	if (subject && sublen &&
	    gnutls_certificate_get_x509_crt(cred, 0, &crts, &ncrt) == 0) {
		gnutls_datum_t dn = { 0 };
		if (ncrt && gnutls_x509_crt_get_dn3(crts[0], &dn, 0) == 0) {
			char *v = vis_escape((const char *)dn.data, dn.size);
			snprintf(subject, sublen, "%s", v);
			free(v);
			gnutls_free(dn.data);
		}
		for (unsigned i = 0; i < ncrt; i++)
			gnutls_x509_crt_deinit(crts[i]);
		gnutls_free(crts);
	}
	gnutls_certificate_free_credentials(cred);
	return 0;
}

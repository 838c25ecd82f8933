/* tls.c - GnuTLS client: handshake, certificate facts, verdict, records. */
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

#include "tls.h"
#include "util.h"

struct tls_conn {
	int fd;
	gnutls_session_t s;
	gnutls_certificate_credentials_t cred;
	char *servername;
	int last_rc;			/* last GnuTLS error code */
	char err[256];
	unsigned char first[128];	/* first bytes read from the peer */
	size_t nfirst;
	bool peer_closed;
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
	t->servername = xstrdup(o->servername ? o->servername : "");
	if ((rc = gnutls_certificate_allocate_credentials(&t->cred)) < 0) {
		where = "credentials";
		goto fail;
	}
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
	if (rc == GNUTLS_E_WARNING_ALERT_RECEIVED || rc == GNUTLS_E_FATAL_ALERT_RECEIVED)
		snprintf(t->err, sizeof t->err, "%s (alert: %s)", gnutls_strerror(rc),
			 gnutls_alert_get_name(gnutls_alert_get(t->s)));
	else
		snprintf(t->err, sizeof t->err, "%s", gnutls_strerror(rc));
	return TLS_ERR;
}

short
tls_want(const struct tls_conn *t)
{
	return gnutls_record_get_direction(t->s) ? POLLOUT : POLLIN;
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
		return TF_OTHER;
	}
	case GNUTLS_E_PREMATURE_TERMINATION:
	case GNUTLS_E_PUSH_ERROR:
	case GNUTLS_E_PULL_ERROR:
		return TF_CLOSED;
	case GNUTLS_E_UNEXPECTED_PACKET_LENGTH:
	case GNUTLS_E_UNEXPECTED_PACKET:
		return t->nfirst == 0 ? TF_CLOSED : TF_OTHER;
	}
	if (t->peer_closed)
		return TF_CLOSED;
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

	int rc = gnutls_certificate_verify_peers3(t->s,
		*t->servername ? t->servername : NULL, &status);
	if (rc < 0) {
		info->problems = CP_OTHER;
		snprintf(info->verdict, sizeof info->verdict, "verification failed: %s",
			 gnutls_strerror(rc));
		return;
	}
	if (status & GNUTLS_CERT_SIGNER_NOT_FOUND)
		info->problems |= CP_UNTRUSTED;
	if (status & GNUTLS_CERT_UNEXPECTED_OWNER)
		info->problems |= CP_HOSTNAME;
	if (status & GNUTLS_CERT_EXPIRED)
		info->problems |= CP_EXPIRED;
	if (status & GNUTLS_CERT_NOT_ACTIVATED)
		info->problems |= CP_NOT_YET_VALID;
	if (status & ~(unsigned)(GNUTLS_CERT_INVALID | GNUTLS_CERT_SIGNER_NOT_FOUND |
				 GNUTLS_CERT_UNEXPECTED_OWNER | GNUTLS_CERT_EXPIRED |
				 GNUTLS_CERT_NOT_ACTIVATED))
		info->problems |= CP_OTHER;
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
			}
			gnutls_x509_crt_deinit(c);
		}
	}
	info->verified = status == 0 && info->problems == 0;
	gnutls_datum_t out = { 0 };
	if (gnutls_certificate_verification_status_print(status,
			GNUTLS_CRT_X509, &out, 0) >= 0) {
		snprintf(info->verdict, sizeof info->verdict, "%.*s",
			 (int)out.size, out.data);
		gnutls_free(out.data);
	}
}

ssize_t
tls_read(struct tls_conn *t, void *buf, size_t n)
{
	for (;;) {
		ssize_t r = gnutls_record_recv(t->s, buf, n);
		if (r > 0)
			return r;
		if (r == 0)
			return TLS_CLOSED;
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			return TLS_AGAIN;
		if (r == GNUTLS_E_PREMATURE_TERMINATION)
			return TLS_CLOSED;
		if (!gnutls_error_is_fatal((int)r) && ++t->nonfatal <= TLS_MAX_NONFATAL)
			continue;	/* the next record may be data */
		t->last_rc = (int)r;
		if (!gnutls_error_is_fatal((int)r))
			snprintf(t->err, sizeof t->err, "the server sent more than "
				 "%d renegotiation requests or warning alerts (last: "
				 "%s)", TLS_MAX_NONFATAL, gnutls_strerror((int)r));
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

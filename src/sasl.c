/* sasl.c - SMTP AUTH client mechanisms through GNU SASL, plus XOAUTH2. */
#include <gsasl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sasl.h"
#include "util.h"

struct sasl {
	Gsasl_session *sctx;	/* NULL for XOAUTH2 */
	char *mech;
	bool proof_needed;	/* SCRAM: the server must sign */
	bool complete;		/* GNU SASL said GSASL_OK */
};

static Gsasl *ctx;

static int
ensure_ctx(char *err, size_t errlen)
{
	int rc;
	if (ctx)
		return 0;
	if ((rc = gsasl_init(&ctx)) != GSASL_OK) {
		snprintf(err, errlen, "GNU SASL: %s", gsasl_strerror(rc));
		ctx = NULL;
		return -1;
	}
	return 0;
}

static bool
offered_has(const char *offered, const char *mech)
{
	size_t n = strlen(mech);
	for (const char *p = offered; p && *p;) {
		while (*p == ' ')
			p++;
		const char *e = strchr(p, ' ');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == n && strncasecmp(p, mech, n) == 0)
			return true;
		p += len;
	}
	return false;
}

const char *
sasl_pick(enum auth_mech want, const char *offered, bool have_cb)
{
	static const char *const order[] = {
		"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256", "CRAM-MD5", "PLAIN", "LOGIN"
	};
	char e[64];
	bool ok = ensure_ctx(e, sizeof e) == 0;

	switch (want) {
	case AM_PLAIN:
		return offered_has(offered, "PLAIN") ? "PLAIN" : NULL;
	case AM_LOGIN:
		return offered_has(offered, "LOGIN") ? "LOGIN" : NULL;
	case AM_CRAM_MD5:
		return offered_has(offered, "CRAM-MD5") ? "CRAM-MD5" : NULL;
	case AM_XOAUTH2:
		return offered_has(offered, "XOAUTH2") ? "XOAUTH2" : NULL;
	case AM_SCRAM_SHA_256:
		if (ok && have_cb && offered_has(offered, "SCRAM-SHA-256-PLUS") &&
		    gsasl_client_support_p(ctx, "SCRAM-SHA-256-PLUS"))
			return "SCRAM-SHA-256-PLUS";
		return offered_has(offered, "SCRAM-SHA-256") ? "SCRAM-SHA-256" : NULL;
	case AM_AUTO:
		break;
	}
	if (!ok)
		return offered_has(offered, "PLAIN") ? "PLAIN" : NULL;
	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		if (i == 0 && !have_cb)
			continue;
		if (offered_has(offered, order[i]) &&
		    gsasl_client_support_p(ctx, order[i]))
			return order[i];
	}
	return NULL;
}

struct sasl *
sasl_start(const char *mech, const char *user, const char *password,
	   const char *cb, bool cb_exporter, char **initial, char *err,
	   size_t errlen)
{
	struct sasl *s = xcalloc(1, sizeof *s);
	int rc;

	*initial = NULL;
	s->mech = xstrdup(mech);
	if (strcasecmp(mech, "XOAUTH2") == 0) {
		/* "user=" user ^A "auth=Bearer " token ^A ^A */
		struct buf b = { 0 };	/* pieces: no unwiped temporary copy */
		buf_adds(&b, "user=");
		buf_adds(&b, user);
		buf_adds(&b, "\001auth=Bearer ");
		buf_adds(&b, password);
		buf_adds(&b, "\001\001");
		*initial = b64_encode(b.data, b.len);
		buf_free(&b);
		return s;
	}
	if (ensure_ctx(err, errlen) < 0)
		goto fail;
	if ((rc = gsasl_client_start(ctx, mech, &s->sctx)) != GSASL_OK) {
		snprintf(err, errlen, "GNU SASL cannot start %s: %s", mech,
			 gsasl_strerror(rc));
		goto fail;
	}
	gsasl_property_set(s->sctx, GSASL_AUTHID, user);
	gsasl_property_set(s->sctx, GSASL_PASSWORD, password);
	/* channel binding only for the -PLUS variants: offered to a plain
	 * SCRAM it would tell the server we could have bound (gs2 "y") */
	if (cb && strstr(mech, "-PLUS"))
		gsasl_property_set(s->sctx, cb_exporter ? GSASL_CB_TLS_EXPORTER
						     : GSASL_CB_TLS_UNIQUE, cb);
	/* Mechanisms where the client speaks first get an initial response
	 * (RFC 4954 §4): one round trip fewer. */
	s->proof_needed = strncasecmp(mech, "SCRAM-", 6) == 0;
	if (!strcasecmp(mech, "PLAIN") || !strncasecmp(mech, "SCRAM-", 6)) {
		char *out = NULL;
		rc = gsasl_step64(s->sctx, "", &out);
		if (rc != GSASL_OK && rc != GSASL_NEEDS_MORE) {
			snprintf(err, errlen, "%s: %s", mech, gsasl_strerror(rc));
			goto fail;
		}
		*initial = xstrdup(out && *out ? out : "=");
		if (out) {
			wipe(out, strlen(out));
			gsasl_free(out);
		}
	}
	return s;
fail:
	sasl_free(s);
	return NULL;
}

int
sasl_step(struct sasl *s, const char *challenge, char **out, char *err,
	  size_t errlen)
{
	char *o = NULL;
	if (!s->sctx) {
		/* XOAUTH2: the server's 334 carries an error in JSON; the
		 * answer is an empty line, after which it sends the failure. */
		*out = xstrdup("");
		return 0;
	}
	int rc = gsasl_step64(s->sctx, challenge, &o);
	if (rc == GSASL_OK)
		s->complete = true;
	if (rc != GSASL_OK && rc != GSASL_NEEDS_MORE) {
		snprintf(err, errlen, "%s: %s", s->mech, gsasl_strerror(rc));
		if (o)
			gsasl_free(o);
		return -1;
	}
	*out = xstrdup(o ? o : "");
	if (o) {
		wipe(o, strlen(o));
		gsasl_free(o);
	}
	return 0;
}

bool
sasl_complete(const struct sasl *s)
{
	return !s->proof_needed || s->complete;
}

void
sasl_free(struct sasl *s)
{
	if (!s)
		return;
	if (s->sctx)
		gsasl_finish(s->sctx);	/* frees properties; GNU SASL wipes */
	free(s->mech);
	free(s);
}

/* Printable rendering of decoded bytes, NULs as \0. */
static void
add_decoded(struct buf *b, const unsigned char *p, size_t n)
{
	char *v = vis_escape((const char *)p, n);
	buf_adds(b, v);
	free(v);
}

char *
sasl_describe(const char *mech, const char *b64, bool from_client, int round)
{
	struct buf b = { 0 };
	unsigned char *d = NULL;
	size_t n = 0;

	if (strcmp(b64, "=") == 0 || *b64 == '\0')
		return xstrdup("(empty)");
	if (b64_decode(b64, &d, &n) < 0)
		return xstrdup("(not valid base64)");
	if (!from_client) {
		buf_adds(&b, "server says: ");
		add_decoded(&b, d, n);
	} else if (!strcasecmp(mech, "PLAIN")) {
		/* authzid NUL authcid NUL password */
		unsigned char *z1 = memchr(d, 0, n);
		unsigned char *z2 = z1 ? memchr(z1 + 1, 0, n - (size_t)(z1 + 1 - d)) : NULL;
		if (z1 && z2) {
			buf_adds(&b, "authzid=\"");
			add_decoded(&b, d, (size_t)(z1 - d));
			buf_adds(&b, "\" user=\"");
			add_decoded(&b, z1 + 1, (size_t)(z2 - z1 - 1));
			buf_printf(&b, "\" password=<%zu characters, hidden>",
				   n - (size_t)(z2 + 1 - d));
		} else {
			buf_adds(&b, "(malformed PLAIN message)");
		}
	} else if (!strcasecmp(mech, "LOGIN")) {
		if (round == 0) {
			buf_adds(&b, "user name \"");
			add_decoded(&b, d, n);
			buf_adds(&b, "\"");
		} else {
			buf_printf(&b, "password <%zu characters, hidden>", n);
		}
	} else if (!strcasecmp(mech, "CRAM-MD5")) {
		unsigned char *sp = memchr(d, ' ', n);
		buf_adds(&b, "user \"");
		add_decoded(&b, d, sp ? (size_t)(sp - d) : n);
		buf_adds(&b, "\" and an HMAC-MD5 of the challenge keyed with the password");
	} else if (!strncasecmp(mech, "SCRAM-", 6)) {
		if (round == 0) {
			buf_adds(&b, "client-first: ");
			add_decoded(&b, d, n);
		} else {
			/* client-final: c=...,r=...,p=proof: the proof is not
			 * the password, but it is kept out of sight anyway */
			unsigned char *p = NULL;
			for (size_t i = 0; i + 2 < n; i++)
				if (d[i] == ',' && d[i + 1] == 'p' && d[i + 2] == '=')
					p = d + i;
			buf_adds(&b, "client-final: ");
			add_decoded(&b, d, p ? (size_t)(p - d) : n);
			if (p)
				buf_adds(&b, ",p=<proof, hidden>");
		}
	} else if (!strcasecmp(mech, "XOAUTH2")) {
		unsigned char *a = memchr(d, 1, n);
		buf_adds(&b, "");
		add_decoded(&b, d, a ? (size_t)(a - d) : 0);
		buf_adds(&b, " auth=Bearer <token, hidden>");
	} else {
		buf_printf(&b, "%zu bytes", n);
	}
	wipe(d, n);
	free(d);
	return buf_steal(&b);
}

const char *
sasl_library_version(void)
{
	return gsasl_check_version(NULL);
}

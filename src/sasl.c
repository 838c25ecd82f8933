/* sasl.c - SMTP AUTH client mechanisms through GNU SASL, plus XOAUTH2. */
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gsasl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sasl.h"
#include "util.h"

/* What each mechanism's definition allows the server to send: the
 * number of 334 challenges a complete exchange has.  One more is a server
 * that broke the exchange (RFC 4954 §4: the client cancels with "*"). */
enum kind { K_PLAIN, K_LOGIN, K_CRAM, K_SCRAM, K_XOAUTH2, K_OAUTHBEARER,
	    K_EXTERNAL, K_OTHER };

static const struct {
	const char *name;	/* prefix for SCRAM */
	enum kind kind;
	int max_rounds;
} mechs[] = {
	/* RFC 4616 with an initial response (always sent): nothing more */
	{ "PLAIN", K_PLAIN, 0 },
	/* draft-murchison-sasl-login: "Username:", "Password:" */
	{ "LOGIN", K_LOGIN, 2 },
	/* RFC 2195: one challenge, one answer */
	{ "CRAM-MD5", K_CRAM, 1 },
	/* RFC 5802 §5: server-first, then server-final (its signature),
	 * which RFC 4954 §4 carries in a 334 answered by an empty line */
	{ "SCRAM-", K_SCRAM, 2 },
	/* Google's XOAUTH2: at most one 334 carrying the error, answered
	 * by an empty line; the failure reply follows */
	{ "XOAUTH2", K_XOAUTH2, 1 },
	/* RFC 7628 §3.2.2: on failure one 334 with the error JSON, which
	 * the client must answer with %x01; the failure reply follows */
	{ "OAUTHBEARER", K_OAUTHBEARER, 1 },
	/* RFC 4422 Appendix A: the (empty) authzid as initial response;
	 * the identity is the client certificate */
	{ "EXTERNAL", K_EXTERNAL, 0 },
};

/* RFC 7677 §4 asks for at least 4096 iterations; Dovecot, Cyrus SASL and
 * PostgreSQL use 4096 by default, MongoDB 15000; OWASP's 2023 advice for
 * PBKDF2-HMAC-SHA256 is 600000, the most a careful administrator sets.
 * Above that it is a server making us burn CPU: 600000 takes about 0.45 s
 * on one core of a 2020 machine (2147483647 would take half an hour), so
 * the event loop is never held for long. */
#define SCRAM_MAX_ITERATIONS 600000UL
#define SCRAM_HASH_LEN 32		/* SHA-256 */

struct sasl {
	Gsasl_session *sctx;	/* PLAIN and CRAM-MD5; NULL for the rest */
	char *mech;
	enum kind kind;
	int rounds;		/* challenges answered so far */
	int max_rounds;
	bool complete;		/* SCRAM: the server's signature checked */
	char *user, *password;	/* LOGIN, SCRAM: copies, wiped on free */
	/* SCRAM (RFC 5802), done here: GNU SASL 2.2 cannot say "y" in the
	 * gs2 header, and its PBKDF2 would run on any iteration count */
	char *gs2;		/* "n,,", "y,," or "p=tls-exporter,," */
	unsigned char *cb;	/* channel-binding data, -PLUS only */
	size_t cblen;
	char *cnonce, *first_bare;
	unsigned char server_sig[SCRAM_HASH_LEN];
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
	case AM_OAUTHBEARER:
		return offered_has(offered, "OAUTHBEARER") ? "OAUTHBEARER" : NULL;
	case AM_EXTERNAL:
		return offered_has(offered, "EXTERNAL") ? "EXTERNAL" : NULL;
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

const char *sasl_test_nonce;

static enum kind
kind_of(const char *mech, int *max_rounds)
{
	for (size_t i = 0; i < ARRAY_SIZE(mechs); i++) {
		size_t n = strlen(mechs[i].name);
		bool prefix = mechs[i].kind == K_SCRAM;
		if (prefix ? !strncasecmp(mech, mechs[i].name, n)
			   : !strcasecmp(mech, mechs[i].name)) {
			*max_rounds = mechs[i].max_rounds;
			return mechs[i].kind;
		}
	}
	*max_rounds = 2;
	return K_OTHER;
}

int
sasl_round_limit(const char *mech)
{
	int n;
	kind_of(mech, &n);
	return n;
}

/* RFC 5802 §5.1: "=" and "," in a user name are written =3D and =2C. */
static void
add_saslname(struct buf *b, const char *name)
{
	for (; *name; name++) {
		if (*name == '=')
			buf_adds(b, "=3D");
		else if (*name == ',')
			buf_adds(b, "=2C");
		else
			buf_addc(b, *name);
	}
}

static int
scram_start(struct sasl *s, const char *user, const char *cb, bool exporter,
	    char **initial, char *err, size_t errlen)
{
	unsigned char nonce[18];
	char *prepped = NULL;
	struct buf b = { 0 };

	if (gsasl_saslprep(user, GSASL_ALLOW_UNASSIGNED, &prepped, NULL) != GSASL_OK) {
		snprintf(err, errlen, "%s: the user name cannot be prepared "
			 "(SASLprep, RFC 4013)", s->mech);
		return -1;
	}
	bool plus = strstr(s->mech, "-PLUS") != NULL;
	if (plus) {
		if (!cb || b64_decode(cb, &s->cb, &s->cblen) < 0) {
			free(prepped);
			snprintf(err, errlen, "%s: no channel-binding data", s->mech);
			return -1;
		}
		s->gs2 = xstrdup(exporter ? "p=tls-exporter,," : "p=tls-unique,,");
	} else {
		/* RFC 5802 §6: "y": we could bind, the server did not offer
		 * -PLUS.  A server that did offer it sees the downgrade. */
		s->gs2 = xstrdup(cb ? "y,," : "n,,");
	}
	if (gsasl_nonce((char *)nonce, sizeof nonce) != GSASL_OK) {
		free(prepped);
		snprintf(err, errlen, "%s: no random numbers", s->mech);
		return -1;
	}
	s->cnonce = sasl_test_nonce ? xstrdup(sasl_test_nonce)
				    : b64_encode(nonce, sizeof nonce);
	buf_adds(&b, "n=");
	add_saslname(&b, prepped);
	buf_adds(&b, ",r=");
	buf_adds(&b, s->cnonce);
	s->first_bare = buf_steal(&b);
	gsasl_free(prepped);
	buf_adds(&b, s->gs2);
	buf_adds(&b, s->first_bare);
	*initial = b64_encode(b.data, b.len);
	buf_free(&b);
	return 0;
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
	s->kind = kind_of(mech, &s->max_rounds);
	switch (s->kind) {
	case K_XOAUTH2: {
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
	case K_OAUTHBEARER: {
		/* RFC 7628 §3.1: gs2-header "n,a=user," then kvpairs:
		 * ^A "auth=Bearer " token ^A ^A.  A "," or "=" in the user is
		 * written =2C / =3D (RFC 5801 saslname). */
		struct buf b = { 0 };
		buf_adds(&b, "n,a=");
		for (const char *q = user; *q; q++) {
			if (*q == ',')
				buf_adds(&b, "=2C");
			else if (*q == '=')
				buf_adds(&b, "=3D");
			else
				buf_addc(&b, *q);
		}
		buf_adds(&b, ",\001auth=Bearer ");
		buf_adds(&b, password);
		buf_adds(&b, "\001\001");
		*initial = b64_encode(b.data, b.len);
		buf_free(&b);
		return s;
	}
	case K_EXTERNAL:
		/* the empty authorization identity: act as the certificate */
		*initial = xstrdup("=");
		return s;
	case K_LOGIN:
		/* the prompts' text is ignored, so done here: a server that
		 * sends "334 Username:" unencoded still works (smtplib and
		 * swaks accept it too) */
		s->user = xstrdup(user);
		s->password = xstrdup(password);
		return s;
	case K_SCRAM:
		if (strncasecmp(mech, "SCRAM-SHA-256", 13) != 0) {
			snprintf(err, errlen, "%s is not supported (SCRAM-SHA-256 is)",
				 mech);
			goto fail;
		}
		s->user = xstrdup(user);
		s->password = xstrdup(password);
		if (scram_start(s, user, cb, cb_exporter, initial, err, errlen) < 0)
			goto fail;
		return s;
	default:
		break;
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
	/* PLAIN speaks first: the initial response (RFC 4954 §4) saves a
	 * round trip, and leaves the server nothing to ask. */
	if (s->kind == K_PLAIN) {
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

static int
broken(char *err, size_t errlen, const char *fmt, ...) PRINTF(3, 4);

static int
broken(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return SASL_BROKEN;
}

/* Constant time, for the server's signature. */
static bool
same_bytes(const unsigned char *a, const unsigned char *b, size_t n)
{
	unsigned char d = 0;
	for (size_t i = 0; i < n; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

/* One "k=value" attribute of a SCRAM message at *p; advances *p. */
static bool
scram_attr(const char **p, char k, const char **val, size_t *len)
{
	const char *q = *p;
	if (q[0] != k || q[1] != '=')
		return false;
	q += 2;
	const char *e = strchr(q, ',');
	*val = q;
	*len = e ? (size_t)(e - q) : strlen(q);
	*p = e ? e + 1 : q + *len;
	return true;
}

static int
hmac(const unsigned char *key, size_t klen, const char *msg, size_t mlen,
     unsigned char out[SCRAM_HASH_LEN])
{
	return gnutls_hmac_fast(GNUTLS_MAC_SHA256, key, klen, msg, mlen, out);
}

/* server-first (RFC 5802 §7): r=nonce,s=salt,i=count[,ext]; answer with
 * client-final.  The count is checked before any hashing. */
static int
scram_first(struct sasl *s, const char *msg, char **out, char *err,
	    size_t errlen)
{
	const char *p = msg, *r, *salt64, *it;
	size_t rl, sl, il;
	unsigned char *salt = NULL;
	size_t saltlen = 0;
	char salted[SCRAM_HASH_LEN], ckey[SCRAM_HASH_LEN], skey[SCRAM_HASH_LEN],
	     stored[SCRAM_HASH_LEN];
	unsigned char csig[SCRAM_HASH_LEN], proof[SCRAM_HASH_LEN];

	if (!scram_attr(&p, 'r', &r, &rl) || !scram_attr(&p, 's', &salt64, &sl) ||
	    !scram_attr(&p, 'i', &it, &il))
		return broken(err, errlen, "%s: the server-first message is not "
			      "r=...,s=...,i=... (RFC 5802 §7)", s->mech);
	size_t cn = strlen(s->cnonce);
	if (rl <= cn || strncmp(r, s->cnonce, cn) != 0 || memchr(r, ',', rl))
		return broken(err, errlen, "%s: the server's nonce does not "
			      "extend ours (RFC 5802 §5.1)", s->mech);
	unsigned long iter = 0;
	bool digits = il > 0 && il <= 10;
	for (size_t i = 0; digits && i < il; i++)
		if (it[i] < '0' || it[i] > '9')
			digits = false;
	if (digits)
		iter = strtoul(it, NULL, 10);
	if (!digits || iter == 0)
		return broken(err, errlen, "%s: the iteration count i=%.*s is not "
			      "a number", s->mech, (int)(il > 12 ? 12 : il), it);
	if (iter > SCRAM_MAX_ITERATIONS)
		return broken(err, errlen, "%s: the server asks for %lu PBKDF2 "
			      "iterations (i=%lu); smtpdx stops above %lu, which "
			      "already costs about half a second", s->mech, iter,
			      iter, SCRAM_MAX_ITERATIONS);
	char *salt_s = xasprintf("%.*s", (int)sl, salt64);
	int bad = sl == 0 || b64_decode(salt_s, &salt, &saltlen) < 0;
	free(salt_s);
	if (bad)
		return broken(err, errlen, "%s: the salt is not base64", s->mech);

	int rc = gsasl_scram_secrets_from_password(GSASL_HASH_SHA256, s->password,
						   (unsigned)iter, (char *)salt,
						   saltlen, salted, ckey, skey,
						   stored);
	free(salt);
	if (rc != GSASL_OK) {
		snprintf(err, errlen, "%s: %s", s->mech, gsasl_strerror(rc));
		return SASL_ERROR;
	}
	/* c=: the gs2 header, and for -PLUS the channel binding data */
	struct buf cbin = { 0 }, b = { 0 };
	buf_adds(&cbin, s->gs2);
	if (s->cb)
		buf_add(&cbin, s->cb, s->cblen);
	char *c64 = b64_encode(cbin.data, cbin.len);
	buf_free(&cbin);
	buf_printf(&b, "c=%s,r=%.*s", c64, (int)rl, r);
	free(c64);
	size_t without_proof = b.len;
	char *authmsg = xasprintf("%s,%s,%.*s", s->first_bare, msg,
				  (int)without_proof, b.data);
	rc = hmac((unsigned char *)stored, sizeof stored, authmsg, strlen(authmsg),
		  csig);
	if (rc == 0)
		rc = hmac((unsigned char *)skey, sizeof skey, authmsg,
			  strlen(authmsg), s->server_sig);
	free(authmsg);
	for (size_t i = 0; i < SCRAM_HASH_LEN; i++)
		proof[i] = (unsigned char)ckey[i] ^ csig[i];
	char *p64 = b64_encode(proof, sizeof proof);
	buf_printf(&b, ",p=%s", p64);
	free(p64);
	*out = b64_encode(b.data, b.len);
	buf_free(&b);
	wipe(salted, sizeof salted);
	wipe(ckey, sizeof ckey);
	wipe(skey, sizeof skey);
	wipe(stored, sizeof stored);
	wipe(proof, sizeof proof);
	wipe(csig, sizeof csig);
	if (rc != 0) {
		free(*out);
		*out = NULL;
		snprintf(err, errlen, "%s: HMAC failed", s->mech);
		return SASL_ERROR;
	}
	return SASL_CONT;
}

/* server-final (RFC 5802 §7): v=signature, or e=error. */
static int
scram_final(struct sasl *s, const char *msg, char **out, char *err,
	    size_t errlen)
{
	const char *p = msg, *v;
	size_t vl;
	if (scram_attr(&p, 'e', &v, &vl)) {
		/* the server judged our proof: its failure reply follows */
		*out = xstrdup("");
		snprintf(err, errlen, "%s: the server says e=%.*s", s->mech,
			 (int)(vl > 60 ? 60 : vl), v);
		return SASL_CONT;
	}
	if (!scram_attr(&p, 'v', &v, &vl))
		return broken(err, errlen, "%s: the server-final message is "
			      "neither v=... nor e=... (RFC 5802 §7)", s->mech);
	char *v_s = xasprintf("%.*s", (int)vl, v);
	unsigned char *sig = NULL;
	size_t siglen = 0;
	int bad = b64_decode(v_s, &sig, &siglen) < 0;
	free(v_s);
	bool ok = !bad && siglen == SCRAM_HASH_LEN &&
		  same_bytes(sig, s->server_sig, SCRAM_HASH_LEN);
	free(sig);
	if (!ok) {
		snprintf(err, errlen, "%s: the server's signature (v=) is wrong: "
			 "it does not prove that it knows the password", s->mech);
		return SASL_UNVERIFIED;
	}
	s->complete = true;
	*out = xstrdup("");
	return SASL_CONT;
}

/*
 * The value of "key" in a flat JSON object, unescaped (\" \\ \/ and \uXXXX
 * below 0x80; others kept as '?'), into v.  Returns false if absent.
 * The server's error is small and flat (RFC 7628 §3.2.2); nested values
 * are not looked into.
 */
static bool
json_get(const char *j, size_t n, const char *key, char *v, size_t vlen)
{
	size_t kl = strlen(key);
	for (size_t i = 0; i + kl + 2 < n; i++) {
		if (j[i] != '"' || strncmp(j + i + 1, key, kl) || j[i + kl + 1] != '"')
			continue;
		size_t k = i + kl + 2;
		while (k < n && (j[k] == ' ' || j[k] == '\t' || j[k] == '\n' ||
				 j[k] == '\r'))
			k++;
		if (k >= n || j[k] != ':')
			continue;
		k++;
		while (k < n && (j[k] == ' ' || j[k] == '\t'))
			k++;
		size_t o = 0;
		if (k < n && j[k] == '"') {
			for (k++; k < n && j[k] != '"' && o + 1 < vlen; k++) {
				char c = j[k];
				if (c == '\\' && k + 1 < n) {
					c = j[++k];
					if (c == 'u' && k + 4 < n) {
						unsigned u = 0;
						if (sscanf(j + k + 1, "%4x", &u) == 1)
							c = u > 0x1f && u < 0x7f ? (char)u : '?';
						k += 4;
					} else if (c == 'n' || c == 't' || c == 'r') {
						c = ' ';
					}
				}
				v[o++] = (unsigned char)c < 0x20 || c == 0x7f ? '?' : c;
			}
		} else {	/* a number or a word */
			for (; k < n && j[k] != ',' && j[k] != '}' && j[k] != ' ' &&
			       o + 1 < vlen; k++)
				v[o++] = (unsigned char)j[k] < 0x20 ? '?' : j[k];
		}
		v[o] = '\0';
		return true;
	}
	return false;
}

void
sasl_oauth_error(const char *j, size_t n, char *err, size_t errlen)
{
	char status[128] = "", scope[256] = "", oidc[256] = "";
	struct buf b = { 0 };
	if (!err || !errlen)
		return;
	bool any = json_get(j, n, "status", status, sizeof status);
	any |= json_get(j, n, "scope", scope, sizeof scope);
	any |= json_get(j, n, "openid-configuration", oidc, sizeof oidc);
	if (!any) {
		char *v = vis_escape(j, n > 200 ? 200 : n);
		snprintf(err, errlen, "the server's 334 after the token is not the "
			 "error JSON of RFC 7628 §3.2.2: \"%s\"", v);
		free(v);
		return;
	}
	buf_adds(&b, "the server's OAuth error:");
	if (*status) {
		const char *why =
			!strcmp(status, "invalid_token") ? "the token is expired, "
				"revoked or not for this server: get a fresh one" :
			!strcmp(status, "insufficient_scope") ? "the token lacks "
				"the scope sending mail needs" :
			!strcmp(status, "invalid_request") ? "the request was "
				"malformed (user and token do not belong together?)" :
			!strcmp(status, "401") ? "the token is expired or invalid, "
				"or not for this user: get a fresh one" :
			!strcmp(status, "400") ? "the token is invalid or was "
				"issued for another scope or user" :
			!strcmp(status, "403") ? "the token is valid but lacks the "
				"scope or right to send mail" :
			"a status RFC 7628 does not name";
		buf_printf(&b, " status \"%s\" (%s)", status, why);
	}
	if (*scope)
		buf_printf(&b, "%s scope needed: \"%s\"", *status ? ";" : "", scope);
	if (*oidc)
		buf_printf(&b, "%s where to get a token: %s",
			   *status || *scope ? ";" : "", oidc);
	snprintf(err, errlen, "%s", b.data);
	buf_free(&b);
}

int
sasl_step(struct sasl *s, const char *challenge, char **out, char *err,
	  size_t errlen)
{
	unsigned char *d = NULL;
	size_t n = 0;
	int round = s->rounds;

	*out = NULL;
	if (err && errlen)
		*err = '\0';
	if (s->rounds >= s->max_rounds)
		return broken(err, errlen, "challenge %d where %s has %s%d: the "
			      "server does not follow the mechanism", round + 1,
			      s->mech, s->max_rounds ? "at most " : "",
			      s->max_rounds);
	s->rounds++;
	if (s->kind == K_LOGIN) {
		/* the prompt's text does not matter: the user, then the
		 * password, each sent once */
		const char *v = round == 0 ? s->user : s->password;
		*out = b64_encode(v, strlen(v));
		return SASL_CONT;
	}
	/* everything else must be base64 (RFC 4954 §4) */
	if (b64_decode(challenge, &d, &n) < 0)
		return broken(err, errlen, "%s: the challenge is not base64",
			      s->mech);
	if (s->kind == K_XOAUTH2 || s->kind == K_OAUTHBEARER) {
		/* an error in JSON: explained in err; the answer is an empty
		 * line (XOAUTH2) or %x01 (RFC 7628 §3.2.3), after which the
		 * server sends the failure */
		sasl_oauth_error((const char *)d, n, err, errlen);
		free(d);
		*out = s->kind == K_OAUTHBEARER ? b64_encode("\001", 1) : xstrdup("");
		return SASL_CONT;
	}
	if (s->kind == K_SCRAM) {
		/* NUL bytes have no place in SCRAM messages */
		int rc;
		if (memchr(d, '\0', n)) {
			free(d);
			return broken(err, errlen, "%s: a NUL byte in the server's "
				      "message", s->mech);
		}
		d = xrealloc(d, n + 1);
		d[n] = '\0';
		rc = round == 0 ? scram_first(s, (char *)d, out, err, errlen)
				: scram_final(s, (char *)d, out, err, errlen);
		free(d);
		return rc;
	}
	if (s->kind == K_CRAM && n == 0) {
		free(d);
		return broken(err, errlen, "%s: an empty challenge", s->mech);
	}
	free(d);
	if (!s->sctx)
		return broken(err, errlen, "%s: no challenge expected", s->mech);
	char *o = NULL;
	int rc = gsasl_step64(s->sctx, challenge, &o);
	if (rc != GSASL_OK && rc != GSASL_NEEDS_MORE) {
		snprintf(err, errlen, "%s: %s", s->mech, gsasl_strerror(rc));
		if (o)
			gsasl_free(o);
		return SASL_ERROR;
	}
	*out = xstrdup(o ? o : "");
	if (o) {
		wipe(o, strlen(o));
		gsasl_free(o);
	}
	return SASL_CONT;
}

bool
sasl_complete(const struct sasl *s)
{
	return s->kind != K_SCRAM || s->complete;
}

static void
free_secret(char *p)
{
	if (p) {
		wipe(p, strlen(p));
		free(p);
	}
}

void
sasl_free(struct sasl *s)
{
	if (!s)
		return;
	if (s->sctx)
		gsasl_finish(s->sctx);	/* frees properties; GNU SASL wipes */
	free_secret(s->user);
	free_secret(s->password);
	free(s->gs2);
	free(s->cb);
	free(s->cnonce);
	free(s->first_bare);
	wipe(s->server_sig, sizeof s->server_sig);
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
	if (b64_decode(b64, &d, &n) < 0) {
		if (from_client || strcasecmp(mech, "LOGIN") != 0)
			return xstrdup("(not valid base64)");
		/* LOGIN prompts are ignored: shown as the text they are */
		char *v = vis_escape(b64, strlen(b64));
		char *m = xasprintf("server says, in plain text instead of base64 "
				    "(accepted: the prompt is ignored): %s", v);
		free(v);
		return m;
	}
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
	} else if (!strcasecmp(mech, "OAUTHBEARER")) {
		unsigned char *a = memchr(d, 1, n);
		add_decoded(&b, d, a ? (size_t)(a - d) : 0);
		buf_adds(&b, " auth=Bearer <token, hidden>");
	} else if (!strcasecmp(mech, "EXTERNAL")) {
		buf_adds(&b, n ? "authorization identity \"" : "");
		add_decoded(&b, d, n);
		buf_adds(&b, n ? "\"" : "");
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

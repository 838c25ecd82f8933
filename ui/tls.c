/*
 * tls.c - the TLS details screen (`t`): version, cipher, and each
 * certificate of the chain with why it was or was not trusted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ui.h"
#include "../src/util.h"

/* ---- TLS ------------------------------------------------------------------ */

/* Days from now to an ISO time "2026-11-24T10:00:00Z"; false if unparsable. */
static bool
days_until(const char *iso, long *days)
{
	struct tm tm = { 0 };
	if (!iso || !strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm))
		return false;
	time_t t = timegm(&tm);
	*days = (long)((t - time(NULL)) / 86400);
	return true;
}

static void
cert_block(struct doc *d, const struct cert_info *c, size_t i, size_t n)
{
	char *h = xasprintf("Certificate %zu of %zu%s", i + 1, n,
			    i == 0 ? ": the server's own" : c->self_signed ?
			    ": a root (self-signed)" : ": an intermediate");
	doc_nl(d);
	doc_heading(d, h);
	free(h);
	doc_wrap(d, 11, "Subject", ST_LABEL, ST_BOLD, c->subject ? c->subject : "?");
	doc_wrap(d, 11, "Issuer", ST_LABEL, ST_NORMAL, c->issuer ? c->issuer : "?");
	long days;
	char *v;
	if (days_until(c->not_after, &days)) {
		long from;
		bool early = days_until(c->not_before, &from) && from > 0;
		v = xasprintf("%s to %s (%s %ld day%s)", c->not_before, c->not_after,
			      early ? "valid only in" : days < 0 ? "expired" :
			      "expires in", early ? from : days < 0 ? -days : days,
			      (early ? from : days < 0 ? -days : days) == 1 ? "" : "s");
		if (days < 0 || early) {
			char *w = xasprintf("%s%s", v, days < 0 ? " ago" : "");
			free(v);
			doc_wrap(d, 11, "Valid", ST_LABEL, ST_FAIL, w);
			free(w);
		} else {
			doc_wrap(d, 11, "Valid", ST_LABEL, ST_NORMAL, v);
			free(v);
		}
	} else {
		v = xasprintf("%s to %s", c->not_before ? c->not_before : "?",
			      c->not_after ? c->not_after : "?");
		doc_wrap(d, 11, "Valid", ST_LABEL, ST_NORMAL, v);
		free(v);
	}
	struct buf b = { 0 };
	for (size_t k = 0; k < c->nnames; k++)
		buf_printf(&b, "%s%s", k ? ", " : "", c->names[k]);
	doc_wrap(d, 11, "Names", ST_LABEL, ST_NORMAL, b.len ? b.data :
		 "(none: only the subject's CN)");
	buf_free(&b);
	if (c->key)
		doc_wrap(d, 11, "Key", ST_LABEL, ST_NORMAL, c->key);
	if (c->sig)
		doc_wrap(d, 11, "Signature", ST_LABEL, ST_NORMAL, c->sig);
	if (c->sha256)
		doc_wrap(d, 11, "SHA-256", ST_LABEL, ST_DIM, c->sha256);
}

static void
explain_tls(struct doc *d, const struct session *s)
{
	const struct tls_info *ti = &s->tls;
	const char *name = s->cfg.servername ? s->cfg.servername :
			   s->cfg.host ? s->cfg.host : "?";

	if (!ti->done && !ti->nchain) {
		doc_nl(d);
		if (s->tls_mode == TLSM_NONE)
			doc_wrap(d, 0, NULL, 0, ST_WARN, "This session does not use "
				 "TLS (--tls none): everything travels in plaintext.");
		else if (*ti->alert)
			doc_wrap(d, 10, "Failed", ST_LABEL, ST_FAIL, ti->alert);
		else
			doc_wrap(d, 0, NULL, 0, ST_NORMAL, s->tls_mode == TLSM_IMPLICIT ?
				 "No TLS yet: this session starts TLS right after "
				 "connecting (implicit TLS).  Press n until the tls step "
				 "has run." :
				 "No TLS yet: this session upgrades with STARTTLS after "
				 "the first EHLO.  Press n until the tls step has run.");
		return;
	}
	doc_heading(d, "Connection");
	char *v = xasprintf("%s%s", ti->version, ti->version_num && ti->version_num < 12 ?
			    "  (old: TLS 1.2 or newer is expected today)" : "");
	doc_wrap(d, 11, "Version", ST_LABEL, ti->version_num && ti->version_num < 12 ?
		 ST_WARN : ST_BOLD, v);
	free(v);
	doc_wrap(d, 11, "Cipher", ST_LABEL, ST_NORMAL, ti->cipher);
	if (*ti->kx)
		doc_wrap(d, 11, "Key group", ST_LABEL, ST_NORMAL, ti->kx);
	if (*ti->alert)
		doc_wrap(d, 11, "Alert", ST_LABEL, ST_FAIL, ti->alert);

	doc_nl(d);
	doc_heading(d, "Verification");
	if (ti->verified) {
		v = xasprintf("The certificate is valid for %s and leads to an "
			      "authority this client trusts.", name);
		doc_nl(d);
		doc_addmark(d, ST_OK, MK_OK);
		doc_add(d, ST_OK, " verified");
		doc_wrap(d, 2, NULL, 0, ST_NORMAL, v);
		free(v);
	} else {
		doc_nl(d);
		doc_addmark(d, ST_FAIL, MK_FAIL);
		doc_add(d, ST_FAIL, s->cfg.insecure ? " NOT verified (--insecure: "
			"going on anyway)" : " NOT verified");
		static const struct { unsigned bit; const char *words; } probs[] = {
			{ CP_UNTRUSTED, "it does not lead to an authority this client "
			  "trusts (self-signed, or a private CA)" },
			{ CP_HOSTNAME, "its names do not cover the server name asked for" },
			{ CP_EXPIRED, "it has expired" },
			{ CP_NOT_YET_VALID, "it is not valid yet (check the clocks)" },
			{ CP_CHAIN_INCOMPLETE, "the server left out an intermediate "
			  "certificate (it must send the full chain)" },
			{ CP_PURPOSE, "it is not meant for a TLS server (extended "
			  "key usage)" },
			{ CP_WEAK, "it uses a weak algorithm (SHA-1, MD5, a short key)" },
			{ CP_OTHER, "something else is wrong (revoked, bad signature, "
			  "broken constraints)" },
			{ CP_NO_CERT, "the server sent no certificate at all" },
		};
		for (size_t k = 0; k < ARRAY_SIZE(probs); k++) {
			if (!(ti->problems & probs[k].bit))
				continue;
			char *p = probs[k].bit == CP_HOSTNAME ?
				  xasprintf("its names do not cover %s", name) :
				  xstrdup(probs[k].words);
			doc_wrap(d, 4, mark_u8(MK_DOT), ST_FAIL, ST_NORMAL, p);
			free(p);
		}
	}
	if (*ti->verdict)
		doc_wrap(d, 11, "GnuTLS", ST_LABEL, ST_DIM, ti->verdict);
	doc_wrap(d, 11, "Checked", ST_LABEL, ST_DIM, name);
	for (size_t i = 0; i < ti->nchain; i++)
		cert_block(d, &ti->chain[i], i, ti->nchain);
}

/* ---- the screen --------------------------------------------------------------- */

enum { TA_HELP = KA_FIRST };

static const struct keydef tls_keys[] = {
	DOC_KEYS,
	{ '/', false, KA_NONE, "/", "search; n N next and previous match", NULL,
	  0, NULL },
	{ 't', false, KA_DOC_CLOSE, "t", NULL, NULL, 0, NULL },
	{ '?', false, TA_HELP, "?", "the key map", NULL, 0, NULL },
	{ 0, false, 0, NULL, NULL, NULL, 0, NULL }
};

static void
tls_build(struct tui *t)
{
	doc_reset(&t->ovdoc, docview_width(t));
	explain_tls(&t->ovdoc, t->s);
}

static void
tls_resize(struct tui *t, int *h, int *w)
{
	tls_build(t);
	docview_size(t, h, w);
}

static void
tls_draw(struct tui *t, unsigned dirty)
{
	(void)dirty;
	snprintf(t->ov_title, sizeof t->ov_title, "TLS details");
	tls_build(t);		/* the handshake may have happened meanwhile */
	docview_draw(t);
}

static void
tls_key(struct tui *t, int action, wint_t ch, bool keycode)
{
	(void)ch;
	(void)keycode;
	if (action == TA_HELP)
		ui_open(t, SCREEN_HELP);
	else
		docview_key(t, action);
}

const struct screen screen_tls = {
	.name = "TLS details",
	.overlay = true,
	.keys = tls_keys,
	.draw = tls_draw,
	.key = tls_key,
	.resize = tls_resize,
	.find = docview_find,
};

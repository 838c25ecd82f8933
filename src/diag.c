/*
 * diag.c - the diagnosis catalog and the decision tree over it.
 *
 * The tree is a table of nodes.  Each node asks one question of the facts
 * (the step that failed, the kind of failure, the reply code, words in
 * the reply, a flag) and names the next node for each answer; an answer
 * of "*" matches anything.  A next node that starts with '=' is a leaf:
 * the catalog id of the diagnosis.  "-" means "nothing to report".
 *
 * The main tree starts at "root".  Warnings are small trees of their own
 * (warning_roots), walked on every session, failed or not.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "diag.h"
#include "tls.h"
#include "util.h"

static const struct diag_info catalog[] = {
#define DIAG(sym, id, sev, step, title, expl, fix, rfc) \
	{ id, sev, step, title, expl, fix, rfc },
#include "diag.def"
#undef DIAG
};

const struct diag_info *
diag_info(enum diag_id d)
{
	return (unsigned)d < D_COUNT ? &catalog[d] : NULL;
}

int
diag_from_id(const char *id)
{
	for (int i = 0; i < D_COUNT; i++)
		if (strcmp(catalog[i].id, id) == 0)
			return i;
	return -1;
}

const char *
severity_name(enum severity s)
{
	return s == SEV_ERROR ? "error" : s == SEV_WARNING ? "warning" : "info";
}

static const char *const kind_words[] = {
#define X(sym, words) words,
	FAIL_KINDS(X)
#undef X
};

const char *
fail_kind_name(enum fail_kind k)
{
	return (unsigned)k < ARRAY_SIZE(kind_words) ? kind_words[k] : "?";
}

/* ---- the tree ----------------------------------------------------------- */

enum dt_test {
	T_FAILED,	/* "yes" / "no" */
	T_STEP,		/* name of the failed step */
	T_KIND,		/* fail_kind words */
	T_CODE,		/* "535" */
	T_CLASS,	/* "2xx" .. "5xx" */
	T_ENH,		/* "5.7.8" */
	T_TEXT,		/* arg: "a|b|c": does the reply hold any? yes/no */
	T_FLAG,		/* arg: a fact flag; yes/no */
	T_PORT,		/* "25" */
	T_TLSMODE	/* "starttls", "implicit", "none" */
};

struct dt_branch {
	const char *when, *next;
};

struct dt_node {
	const char *id;
	const char *question;
	enum dt_test test;
	const char *arg;
	struct dt_branch br[14];
};

#define Y(next) { "yes", next }
#define N(next) { "no", next }
#define ANY(next) { "*", next }

static const struct dt_node tree[] = {
	{ "root", "Did a step of the session fail?", T_FAILED, NULL,
	  { Y("stage"), N("-") } },
	{ "stage", "Which step failed?", T_STEP, NULL, {
		{ "resolve", "resolve.kind" }, { "connect", "connect.kind" },
		{ "greeting", "greeting.kind" }, { "ehlo", "ehlo.kind" },
		{ "ehlo_tls", "ehlo.kind" }, { "starttls", "starttls.kind" },
		{ "tls", "tls.kind" }, { "auth", "auth.kind" },
		{ "mail", "mail.kind" }, { "rcpt", "rcpt.kind" },
		{ "data", "data.kind" }, ANY("any.kind") } },

	/* resolve and connect */
	{ "resolve.kind", "What did the name lookup say?", T_KIND, NULL, {
		{ "name not found", "=dns.not_found" },
		{ "no address of that family", "=dns.no_address" },
		{ "null MX", "=dns.null_mx" },
		{ "cancelled", "=session.cancelled" },
		ANY("=dns.failure") } },
	{ "connect.kind", "How did the TCP connection fail?", T_KIND, NULL, {
		{ "connection refused", "=connect.refused" },
		{ "timed out", "connect.port" },
		{ "network unreachable", "=connect.unreachable" },
		{ "cancelled", "=session.cancelled" },
		ANY("=connect.unreachable") } },
	{ "connect.port", "Was it port 25, which many networks block?", T_PORT, NULL, {
		{ "25", "=connect.port25_blocked" }, ANY("=connect.timeout") } },

	/* greeting */
	{ "greeting.kind", "What happened while waiting for the greeting?",
	  T_KIND, NULL, {
		{ "timed out", "greeting.probe" },
		{ "error reply", "greeting.class" },
		{ "not SMTP", "=greeting.not_smtp" },
		{ "malformed reply", "=greeting.not_smtp" },
		ANY("any.kind") } },
	{ "greeting.probe", "Did a TLS handshake work on a second connection?",
	  T_FLAG, "probe_ok", { Y("=tls.expected_implicit"), N("=greeting.timeout") } },
	{ "greeting.class", "Was the refusal temporary (4xx) or permanent (5xx)?",
	  T_CLASS, NULL, {
		{ "4xx", "=greeting.busy" }, ANY("greeting.sync") } },
	{ "greeting.sync", "Does the server complain about protocol synchronization?",
	  T_TEXT, "synchroni", { Y("=proto.sync_error"), N("=greeting.rejected") } },

	/* EHLO */
	{ "ehlo.kind", "How did the server answer EHLO?", T_KIND, NULL, {
		{ "error reply", "ehlo.code" }, ANY("any.kind") } },
	{ "ehlo.code", "Is it a 421 (the server is closing the session)?", T_CODE, NULL, {
		{ "421", "any.421" }, ANY("=ehlo.rejected") } },

	/* STARTTLS */
	{ "starttls.kind", "What went wrong with STARTTLS?", T_KIND, NULL, {
		{ "extension not offered", "=starttls.not_offered" },
		{ "error reply", "starttls.version" },
		{ "plaintext injected after STARTTLS", "=starttls.injection" },
		{ "bytes before the TLS handshake", "=starttls.unexpected_data" },
		ANY("any.kind") } },
	{ "starttls.version", "Does the refusal talk about TLS versions?", T_TEXT,
	  "TLS 1.0 and 1.1|TLS 1.2|upgrade/update your client",
	  { Y("=tls.version_mismatch"), N("=starttls.refused") } },

	/* TLS */
	{ "tls.kind", "How did TLS fail?", T_KIND, NULL, {
		{ "plaintext where TLS was expected", "=tls.expected_starttls" },
		{ "no TLS version in common", "=tls.version_mismatch" },
		{ "certificate failed verification", "tls.cert" },
		{ "timed out", "tls.silent" },
		{ "cancelled", "=session.cancelled" },
		ANY("=tls.handshake_failed") } },
	{ "tls.silent", "Was this implicit TLS from the first byte?", T_TLSMODE, NULL, {
		{ "implicit", "=greeting.timeout" }, ANY("=tls.handshake_failed") } },
	{ "tls.cert", "Does the certificate chain lead to a trusted authority?",
	  T_FLAG, "cert_untrusted", { Y("=tls.cert_untrusted"), N("tls.cert.expired") } },
	{ "tls.cert.expired", "Has the certificate expired?", T_FLAG, "cert_expired",
	  { Y("=tls.cert_expired"), N("tls.cert.early") } },
	{ "tls.cert.early", "Is the certificate not valid yet?", T_FLAG,
	  "cert_not_yet_valid", { Y("=tls.cert_not_yet_valid"), N("tls.cert.name") } },
	{ "tls.cert.name", "Is the certificate for another name?", T_FLAG,
	  "cert_hostname", { Y("=tls.cert_hostname_mismatch"), N("=tls.cert_untrusted") } },

	/* AUTH */
	{ "auth.kind", "What went wrong with AUTH?", T_KIND, NULL, {
		{ "extension not offered", "auth.encrypted" },
		{ "refused to send credentials in plaintext", "=auth.plaintext_refused" },
		{ "no common AUTH mechanism", "=auth.mech_unsupported" },
		{ "SASL exchange failed", "=auth.failed" },
		{ "the server broke the SASL exchange", "=auth.exchange_broken" },
		{ "the server did not prove it knows the password",
		  "=auth.server_unverified" },
		{ "error reply", "auth.code" },
		ANY("any.kind") } },
	{ "auth.encrypted", "Was the connection encrypted when AUTH was missing?",
	  T_FLAG, "encrypted", { Y("=auth.not_offered"), N("auth.starttls") } },
	{ "auth.starttls", "Did the server offer STARTTLS (AUTH may hide until TLS)?",
	  T_FLAG, "starttls_offered", { Y("=auth.requires_tls"), N("=auth.not_offered") } },
	{ "auth.code", "Which reply code did AUTH get?", T_CODE, NULL, {
		{ "534", "auth.534" }, { "535", "auth.535" },
		{ "454", "auth.generic" }, { "538", "=auth.requires_tls" },
		{ "530", "auth.530" }, { "503", "=auth.not_offered" },
		{ "504", "=auth.mech_unsupported" }, { "421", "any.421" },
		ANY("auth.class") } },
	{ "auth.class", "Was the refusal temporary (4xx)?", T_CLASS, NULL, {
		{ "4xx", "=auth.temporary" }, ANY("=auth.failed") } },
	{ "auth.534", "Does Google ask for a sign-in through the web?", T_TEXT,
	  "WebLoginRequired|log in via your web browser|5.7.14",
	  { Y("=auth.web_login_required"), N("auth.534.app") } },
	{ "auth.534.app", "Does the server ask for an application-specific password?",
	  T_TEXT, "Application-specific password|InvalidSecondFactor|5.7.9",
	  { Y("=auth.app_password_required"), N("=auth.mech_unsupported") } },
	{ "auth.535", "Does Microsoft 365 say SMTP AUTH is disabled?", T_TEXT,
	  "SmtpClientAuthentication is disabled|smtp_auth_disabled",
	  { Y("=auth.disabled_for_account"), N("auth.535.basic") } },
	{ "auth.535.basic", "Does the server say basic authentication is disabled?",
	  T_TEXT, "basic authentication is disabled",
	  { Y("=auth.basic_disabled"), N("auth.generic") } },
	{ "auth.generic", "Does the server blame its own SASL backend?", T_TEXT,
	  "generic failure|temporary authentication failure|local problem",
	  { Y("auth.generic.class"), N("auth.535.139") } },
	{ "auth.generic.class", "Was it a 4xx (try again later)?", T_CLASS, NULL, {
		{ "4xx", "=auth.temporary" }, ANY("=auth.server_error") } },
	{ "auth.535.139", "Is it Microsoft's 5.7.139 (account policy)?", T_ENH, NULL, {
		{ "5.7.139", "=auth.disabled_for_account" }, ANY("auth.class") } },
	{ "auth.530", "Does the server want STARTTLS first?", T_TEXT, "STARTTLS|TLS",
	  { Y("=auth.requires_tls"), N("=auth.failed") } },

	/* MAIL */
	{ "mail.kind", "How did the server answer MAIL FROM?", T_KIND, NULL, {
		{ "error reply", "mail.tls" }, ANY("any.kind") } },
	{ "mail.tls", "Does the server want STARTTLS first?", T_TEXT, "STARTTLS",
	  { Y("=mail.tls_required"), N("mail.code") } },
	{ "mail.code", "Which reply code did MAIL FROM get?", T_CODE, NULL, {
		{ "530", "=mail.auth_required" }, { "552", "=mail.size_exceeded" },
		{ "555", "mail.utf8" }, { "421", "any.421" }, ANY("mail.auth") } },
	{ "mail.utf8", "Does the sender address hold non-ASCII characters?", T_FLAG,
	  "from_utf8", { Y("=mail.smtputf8_required"), N("=mail.sender_rejected") } },
	{ "mail.auth", "Does the server say we are not authenticated?", T_TEXT,
	  "Authentication required|not authenticated|5.7.57|authenticate first",
	  { Y("=mail.auth_required"), N("mail.size") } },
	{ "mail.size", "Does the server talk about message size?", T_TEXT,
	  "size|too big|5.3.4|5.2.3",
	  { Y("=mail.size_exceeded"), N("=mail.sender_rejected") } },

	/* RCPT */
	{ "rcpt.kind", "How did the server answer RCPT TO?", T_KIND, NULL, {
		{ "error reply", "rcpt.relay" }, ANY("any.kind") } },
	{ "rcpt.relay", "Does the server refuse to relay?", T_TEXT,
	  "Relay access denied|relaying denied|relay not permitted|Unable to relay|"
	  "5.7.54|not permitted to relay",
	  { Y("=rcpt.relay_denied"), N("rcpt.grey") } },
	{ "rcpt.grey", "Is it greylisting (come back later)?", T_TEXT,
	  "greylist|graylist|Greylisted",
	  { Y("=rcpt.greylisted"), N("rcpt.sender") } },
	{ "rcpt.sender", "Is it the sender the server objects to?", T_TEXT,
	  "not owned by user|Sender address rejected: not logged in",
	  { Y("=rcpt.sender_not_owned"), N("rcpt.helo") } },
	{ "rcpt.helo", "Is the server rejecting our EHLO name?", T_TEXT,
	  "Helo command rejected",
	  { Y("=rcpt.helo_rejected"), N("rcpt.client") } },
	{ "rcpt.client", "Is it our address or its reverse DNS?", T_TEXT,
	  "Client host rejected|reverse hostname|cannot find your hostname",
	  { Y("=rcpt.client_host_rejected"), N("rcpt.dnsbl") } },
	{ "rcpt.dnsbl", "Is our address on a block list?", T_TEXT,
	  "blocked using|spamhaus|blocklist|blacklist|RBL",
	  { Y("=rcpt.blocklisted"), N("rcpt.auth") } },
	{ "rcpt.auth", "Does the server say we are not authenticated?", T_TEXT,
	  "Authentication required|not authenticated|5.7.57",
	  { Y("=mail.auth_required"), N("rcpt.noauth") } },
	/*
	 * Postfix submission (smtpd_relay_restrictions = permit_sasl_
	 * authenticated, reject) takes MAIL from anyone and refuses every
	 * RCPT of a session that did not log in with a bare '554 5.7.1
	 * <rcpt>: Recipient address rejected: Access denied'.  The words say
	 * nothing of AUTH; the session's facts do.
	 */
	{ "rcpt.noauth", "Did we skip AUTH although the server offered it?",
	  T_FLAG, "skipped_offered_auth",
	  { Y("rcpt.noauth.denied"), N("rcpt.user") } },
	{ "rcpt.noauth.denied", "Is it a bare policy refusal (Access denied)?",
	  T_TEXT, "Recipient address rejected: Access denied",
	  { Y("=mail.auth_required"), N("rcpt.user") } },
	{ "rcpt.user", "Is the mailbox unknown?", T_TEXT,
	  "User unknown|unknown user|no such user|does not exist|5.1.1|"
	  "mailbox unavailable|Recipient address rejected: undeliverable|5.1.10",
	  { Y("=rcpt.unknown_user"), N("rcpt.code") } },
	{ "rcpt.code", "Which reply code did RCPT TO get?", T_CODE, NULL, {
		{ "421", "any.421" }, { "530", "=mail.auth_required" },
		ANY("rcpt.temp") } },
	{ "rcpt.temp", "Was the refusal temporary (4xx)?", T_CLASS, NULL, {
		{ "4xx", "rcpt.temp.try" }, ANY("=rcpt.rejected") } },
	{ "rcpt.temp.try", "Does the server say to try again later?", T_TEXT,
	  "try again|later|deferred",
	  { Y("=rcpt.greylisted"), N("=rcpt.rejected") } },

	/* DATA */
	{ "data.kind", "How did the server answer the message?", T_KIND, NULL, {
		{ "error reply", "data.sendas" }, ANY("any.kind") } },
	{ "data.sendas", "Is the account not allowed to send as this sender?", T_TEXT,
	  "5.7.60|send as this sender|SendAsDenied",
	  { Y("=data.send_as_denied"), N("data.auth") } },
	{ "data.auth", "Did SPF, DKIM or DMARC fail?", T_TEXT,
	  "5.7.26|SPF|DKIM|DMARC|unauthenticated",
	  { Y("=data.unauthenticated"), N("data.ses") } },
	{ "data.ses", "Is the sender identity unverified (Amazon SES)?", T_TEXT,
	  "not verified|identities failed",
	  { Y("=data.identity_unverified"), N("data.size") } },
	{ "data.size", "Is the message too big?", T_TEXT,
	  "size|too big|too large|5.3.4|5.2.3",
	  { Y("=data.size_exceeded"), N("data.code") } },
	{ "data.code", "Which reply code did the message get?", T_CODE, NULL, {
		{ "421", "any.421" }, ANY("data.class") } },
	{ "data.class", "Was the refusal temporary (4xx)?", T_CLASS, NULL, {
		{ "4xx", "=data.temporary" }, ANY("=data.rejected") } },

	/* anywhere */
	{ "any.kind", "What kind of failure was it?", T_KIND, NULL, {
		{ "connection closed", "=session.closed" },
		{ "timed out", "=session.timeout" },
		{ "malformed reply", "=proto.malformed_reply" },
		{ "line too long", "=proto.line_too_long" },
		{ "reply too long", "=proto.reply_too_long" },
		{ "not SMTP", "=greeting.not_smtp" },
		{ "cancelled", "=session.cancelled" },
		{ "error reply", "any.reply" },
		ANY("=session.closed") } },
	{ "any.reply", "Is it a 421 (the server is closing the session)?", T_CODE, NULL, {
		{ "421", "any.421" }, ANY("any.sync") } },
	{ "any.sync", "Does the server complain about protocol synchronization?",
	  T_TEXT, "synchroni", { Y("=proto.sync_error"), N("=session.closed") } },
	{ "any.421", "What reason does the 421 give?", T_TEXT, "too many errors",
	  { Y("=session.too_many_errors"), N("any.421.rate") } },
	{ "any.421.rate", "Is it a rate or reputation limit?", T_TEXT,
	  "rate|unsolicited|TSS04|deferred|complaints|too many messages",
	  { Y("=session.rate_limited"), N("any.421.tls") } },
	{ "any.421.tls", "Does it talk about TLS versions?", T_TEXT,
	  "TLS 1.0 and 1.1|TLS 1.2", { Y("=tls.version_mismatch"), N("=session.closed") } },

	/* warnings */
	{ "w.tls", "Was an old TLS version (1.0 or 1.1) negotiated?", T_FLAG,
	  "tls_old", { Y("=tls.weak_version"), N("-") } },
	{ "w.auth", "Did the server offer AUTH before TLS?", T_FLAG,
	  "auth_before_tls", { Y("=auth.offered_in_plaintext"), N("-") } },
	{ "w.port25", "Did an authenticated submission use port 25?", T_FLAG,
	  "port25_auth", { Y("=port25.submission"), N("-") } },
	{ "w.cert", "Did --insecure carry on past a certificate failure?", T_FLAG,
	  "cert_ignored", { Y("tls.cert"), N("-") } },
	{ "w.insecure", "Is the connection encrypted but not authenticated?",
	  T_FLAG, "cert_ignored", { Y("=tls.cert_ignored"), N("-") } },
	{ "w.helo", "Did the server refuse EHLO and take only HELO?", T_FLAG,
	  "helo_fallback", { Y("=ehlo.helo_fallback"), N("-") } },
};

static const struct {
	const char *root;
	int evidence;		/* which evidence string: see warn_evidence() */
} warning_roots[] = {
	{ "w.tls", 0 }, { "w.auth", 1 }, { "w.port25", 2 }, { "w.cert", 3 },
	{ "w.insecure", 3 }, { "w.helo", 4 },
};

static const struct dt_node *
node(const char *id)
{
	for (size_t i = 0; i < ARRAY_SIZE(tree); i++)
		if (strcmp(tree[i].id, id) == 0)
			return &tree[i];
	return NULL;
}

const struct dt_view *
diag_tree_nodes(size_t *n)
{
	static struct dt_view v[ARRAY_SIZE(tree)];
	for (size_t i = 0; i < ARRAY_SIZE(tree); i++) {
		v[i].id = tree[i].id;
		v[i].question = tree[i].question;
	}
	*n = ARRAY_SIZE(tree);
	return v;
}

static bool
has_non_ascii(const char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s >= 0x80)
			return true;
	return false;
}

static bool
flag(const struct facts *f, const char *name)
{
	if (!strcmp(name, "probe_ok"))
		return f->probe_ok;
	if (!strcmp(name, "encrypted"))
		return f->encrypted;
	if (!strcmp(name, "starttls_offered"))
		return f->starttls_offered;
	if (!strcmp(name, "cert_untrusted"))
		return f->cert_problems & (CP_UNTRUSTED | CP_NO_CERT);
	if (!strcmp(name, "cert_expired"))
		return f->cert_problems & CP_EXPIRED;
	if (!strcmp(name, "cert_not_yet_valid"))
		return f->cert_problems & CP_NOT_YET_VALID;
	if (!strcmp(name, "cert_hostname"))
		return f->cert_problems & CP_HOSTNAME;
	if (!strcmp(name, "from_utf8"))
		return has_non_ascii(f->from);
	if (!strcmp(name, "tls_old"))
		return f->tls_version == 10 || f->tls_version == 11;
	if (!strcmp(name, "auth_before_tls"))
		return f->auth_before_tls;
	if (!strcmp(name, "port25_auth"))
		return f->port == 25 && f->has_user;
	if (!strcmp(name, "cert_ignored"))
		return f->insecure && f->cert_problems;
	if (!strcmp(name, "helo_fallback"))
		return f->helo_fallback;
	if (!strcmp(name, "skipped_offered_auth"))
		return f->auth_offered && !f->authenticated;
	return false;
}

/* Does needle occur in text at the start of a word (ASCII, any case)?
 * "RBL" must not match inside "marble". */
static bool
has_word(const char *text, const char *needle)
{
	size_t n = strlen(needle);
	for (const char *p = text; *p; p++) {
		if ((p == text || !isalnum((unsigned char)p[-1])) &&
		    strncasecmp(p, needle, n) == 0)
			return true;
	}
	return false;
}

/* Does the failing reply hold any of the '|'-separated needles? */
static bool
text_has_any(const char *text, const char *needles)
{
	char *copy = xstrdup(needles), *save = NULL;
	bool hit = false;
	for (char *w = strtok_r(copy, "|", &save); w && !hit;
	     w = strtok_r(NULL, "|", &save))
		hit = has_word(text, w);
	free(copy);
	return hit;
}

static char *
answer(const struct facts *f, const struct dt_node *n)
{
	switch (n->test) {
	case T_FAILED:
		return xstrdup(f->failed_step >= 0 ? "yes" : "no");
	case T_STEP:
		return xstrdup(f->failed_step >= 0 ? step_name(f->failed_step) : "none");
	case T_KIND:
		return xstrdup(fail_kind_name(f->kind));
	case T_CODE:
		return f->code ? xasprintf("%03d", f->code) : xstrdup("none");
	case T_CLASS:
		return f->code ? xasprintf("%dxx", f->code / 100) : xstrdup("none");
	case T_ENH:
		return f->enh_class ? xasprintf("%d.%d.%d", f->enh_class,
						f->enh_subject, f->enh_detail)
				    : xstrdup("none");
	case T_TEXT:
		return xstrdup(text_has_any(f->text ? f->text : "", n->arg) ? "yes" : "no");
	case T_FLAG:
		return xstrdup(flag(f, n->arg) ? "yes" : "no");
	case T_PORT:
		return xasprintf("%d", f->port);
	case T_TLSMODE:
		return xstrdup(tls_mode_name((enum tls_mode)f->tls_mode));
	}
	return xstrdup("?");
}

/* Fill {placeholders} from the facts. */
static char *
expand(const char *tmpl, const struct facts *f, enum diag_id id)
{
	struct buf b = { 0 };
	/* the other standard submission port: 465 (implicit TLS), or 587
	 * (STARTTLS) where 465 is the port in trouble or the mode is wrong */
	int alt = f->port == 465 ? 587 : 465;
	if (id == D_TLS_EXPECTED_STARTTLS ||
	    (id == D_TLS_EXPECTED_IMPLICIT && f->port != 587))
		alt = 587;
	const char *altmode = alt == 465 ? "implicit" : "starttls";

	for (const char *p = tmpl; *p;) {
		if (*p != '{') {
			buf_addc(&b, *p++);
			continue;
		}
		const char *e = strchr(p, '}');
		if (!e) {
			buf_adds(&b, p);
			break;
		}
		size_t n = (size_t)(e - p - 1);
		const char *k = p + 1;
		char num[16];
		const char *v = NULL;
#define KEY(name) (n == strlen(name) && !strncmp(k, name, n))
		if (KEY("host"))
			v = f->host;
		else if (KEY("port")) {
			snprintf(num, sizeof num, "%d", f->port);
			v = num;
		} else if (KEY("servername"))
			v = f->servername;
		else if (KEY("user"))
			v = f->user;
		else if (KEY("helo"))
			v = f->helo;
		else if (KEY("from"))
			v = f->from;
		else if (KEY("to"))
			v = f->to;
		else if (KEY("mech"))
			v = f->mech;
		else if (KEY("tlsmode"))
			v = tls_mode_name((enum tls_mode)f->tls_mode);
		else if (KEY("altport")) {
			snprintf(num, sizeof num, "%d", alt);
			v = num;
		} else if (KEY("altmode"))
			v = altmode;
#undef KEY
		if (v) {
			char *safe = vis_escape(v, strlen(v));
			buf_adds(&b, safe);
			free(safe);
		} else {
			buf_add(&b, p, n + 2);
		}
		p = e + 1;
	}
	return buf_steal(&b);
}

/* Walk from root; on a leaf append a diagnosis.  Returns true if one was
 * added. */
static bool
walk(const struct facts *f, const char *root, bool as_warning,
     const char *evidence, struct diag_list *out)
{
	struct path_step path[40];
	size_t np = 0;
	const char *at = root;

	while (at && *at != '=' && strcmp(at, "-") != 0 && np < ARRAY_SIZE(path)) {
		const struct dt_node *n = node(at);
		if (!n)
			break;
		char *a = answer(f, n);
		path[np].node = n->id;
		path[np].question = n->question;
		path[np].answer = a;
		np++;
		const char *next = NULL;
		for (size_t i = 0; i < ARRAY_SIZE(n->br) && n->br[i].when; i++) {
			if (!strcmp(n->br[i].when, "*") || !strcmp(n->br[i].when, a)) {
				next = n->br[i].next;
				break;
			}
		}
		at = next;
	}
	int id = at && *at == '=' ? diag_from_id(at + 1) : -1;
	if (id < 0) {
		for (size_t i = 0; i < np; i++)
			free(path[i].answer);
		return false;
	}
	const struct diag_info *di = &catalog[id];
	out->v = xrealloc(out->v, (out->n + 1) * sizeof *out->v);
	struct diagnosis *d = &out->v[out->n++];
	d->id = (enum diag_id)id;
	d->sev = as_warning && di->sev == SEV_ERROR ? SEV_WARNING : di->sev;
	d->step = di->step;
	if (!as_warning && f->failed_step >= 0)
		d->step = (enum step)f->failed_step;
	d->evidence = xstrdup(evidence ? evidence : "");
	d->explanation = expand(di->explanation, f, d->id);
	d->fix = expand(di->fix, f, d->id);
	d->path = xmalloc(np * sizeof *d->path);
	memcpy(d->path, path, np * sizeof *path);
	d->npath = np;
	return true;
}

void
diag_decide(const struct facts *f, struct diag_list *out)
{
	walk(f, "root", false, f->evidence, out);
	for (size_t i = 0; i < ARRAY_SIZE(warning_roots); i++) {
		const char *ev = "";
		char *own = NULL;
		switch (warning_roots[i].evidence) {
		case 0: ev = f->tls_evidence; break;
		case 1: ev = f->auth_plain_evidence; break;
		case 2:
			ev = own = xasprintf("AUTH as %s on port 25",
					      f->user ? f->user : "");
			break;
		case 3: ev = f->cert_evidence; break;
		case 4: ev = f->helo_evidence; break;
		}
		/* a failed certificate that stopped the session is already
		 * the main diagnosis */
		if (warning_roots[i].evidence == 3 && !f->insecure) {
			free(own);
			continue;
		}
		walk(f, warning_roots[i].root, true, ev, out);
		free(own);
	}
}

void
diag_list_free(struct diag_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		struct diagnosis *d = &l->v[i];
		free(d->evidence);
		free(d->explanation);
		free(d->fix);
		for (size_t k = 0; k < d->npath; k++)
			free(d->path[k].answer);
		free(d->path);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

bool
diag_has_error(const struct diag_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].sev == SEV_ERROR)
			return true;
	return false;
}

/*
 * diag.c - the diagnosis catalog and the decision tree over it.
 *
 * The tree is a table of nodes.  Each node asks one question of the facts
 * (the step that failed, the kind of failure, the reply code, a flag, the
 * recipient's domain, words of a meaning in the reply) and names the next
 * node for each answer; an answer of "*" matches anything.  An answer may
 * carry its reasons after a space ("own (example.com is ...)"): a branch
 * matches its first word.  A next node that starts with '=' is a leaf:
 * the catalog id of the diagnosis.  "-" means "nothing to report".
 *
 * Facts come first, words last: in the MAIL and RCPT subtrees the code,
 * the enhanced code, the login and the recipient's domain are asked
 * before any wording, and wording is looked up in the knowledge table
 * (vocab.def) by meaning, each entry with its source.
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
	T_VOCAB,	/* arg: a vocab tag name: words of that meaning? */
	T_DOMAIN,	/* the recipient's domain: own, foreign, unknown */
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
	  { Y("sync"), N("-") } },
	/* before anything else: once a reply answered the wrong command,
	 * no reply code says anything about the step it arrived in */
	{ "sync", "Did every reply fit the command it answered, with no line "
	  "nobody asked for?", T_KIND, NULL, {
		{ "out of step", "=proto.sync_error" }, ANY("stage") } },
	{ "stage", "Which step failed?", T_STEP, NULL, {
		{ "resolve", "resolve.kind" }, { "connect", "connect.kind" },
		{ "greeting", "greeting.mb" }, { "ehlo", "ehlo.mb" },
		{ "ehlo_tls", "ehlo.kind" }, { "starttls", "starttls.mb" },
		{ "tls", "tls.kind" }, { "auth", "auth.kind" },
		{ "mail", "mail.kind" }, { "rcpt", "rcpt.kind" },
		{ "data", "data.kind" }, ANY("any.kind") } },

	/* resolve and connect */
	{ "resolve.kind", "What did the name lookup say?", T_KIND, NULL, {
		{ "name not found", "=dns.not_found" },
		{ "no address of that family", "=dns.no_address" },
		{ "null MX", "=dns.null_mx" },
		{ "proxy name not found", "=proxy.not_found" },
		{ "cancelled", "=session.cancelled" },
		ANY("=dns.failure") } },
	{ "connect.kind", "How did the TCP connection fail?", T_KIND, NULL, {
		{ "connection refused", "=connect.refused" },
		{ "proxy not reachable", "=proxy.refused" },
		{ "proxy did not answer", "=proxy.timeout" },
		{ "proxy authentication", "=proxy.auth_failed" },
		{ "proxy could not reach the server", "=proxy.target_unreachable" },
		{ "proxy turned the request down", "=proxy.denied" },
		{ "not a proxy answer", "=proxy.protocol_error" },
		{ "timed out", "connect.port" },
		{ "network unreachable", "=connect.unreachable" },
		{ "cancelled", "=session.cancelled" },
		ANY("=connect.unreachable") } },
	{ "connect.port", "Was it port 25, which many networks block?", T_PORT, NULL, {
		{ "25", "=connect.port25_blocked" }, ANY("=connect.timeout") } },

	/*
	 * Was it the server at all?  A firewall's SMTP inspection (Cisco
	 * ASA: a masked banner, STARTTLS masked as XXXXXXXA, EHLO turned
	 * into XXXX) or an antivirus proxy writes replies of its own
	 * (middlebox.def).  Asked where such replies break a step: the
	 * greeting, EHLO, STARTTLS, AUTH missing.
	 */
	{ "greeting.mb", "Did something on the path answer in the server's "
	  "place?", T_FLAG, "middlebox_banner",
	  { Y("=net.middlebox_banner"), N("greeting.kind") } },
	{ "ehlo.mb", "Did something on the path answer in the server's place?",
	  T_FLAG, "middlebox_banner",
	  { Y("=net.middlebox_banner"), N("ehlo.kind") } },
	{ "starttls.mb", "Did something on the path answer in the server's "
	  "place?", T_FLAG, "middlebox_banner",
	  { Y("=net.middlebox_banner"), N("starttls.kind") } },
	{ "auth.mb", "Did something on the path answer in the server's place?",
	  T_FLAG, "middlebox_banner",
	  { Y("=net.middlebox_banner"), N("auth.encrypted") } },

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
		{ "4xx", "greeting.rate" }, ANY("greeting.sync") } },
	{ "greeting.rate", "Does the server name a rate or connection limit?",
	  T_VOCAB, "RATE", { Y("=session.rate_limited"), N("=greeting.busy") } },
	{ "greeting.sync", "Does the server complain about protocol synchronization?",
	  T_VOCAB, "SYNC", { Y("=proto.sync_error"), N("=greeting.rejected") } },

	/* EHLO */
	{ "ehlo.kind", "How did the server answer EHLO?", T_KIND, NULL, {
		{ "error reply", "ehlo.code" }, ANY("any.kind") } },
	{ "ehlo.code", "Is it a 421 (the server is closing the session)?", T_CODE, NULL, {
		{ "421", "any.421" }, ANY("ehlo.unknown") } },
	{ "ehlo.unknown", "Did the server answer both EHLO and HELO with 500 or "
	  "502 (command unknown, not a name refused)?", T_FLAG, "hello_unknown",
	  { Y("=ehlo.not_understood"), N("=ehlo.rejected") } },

	/* STARTTLS */
	{ "starttls.kind", "What went wrong with STARTTLS?", T_KIND, NULL, {
		{ "extension not offered", "starttls.helo" },
		{ "error reply", "starttls.version" },
		{ "plaintext injected after STARTTLS", "=starttls.injection" },
		{ "bytes before the TLS handshake", "=starttls.unexpected_data" },
		ANY("any.kind") } },
	/* an extension missing because EHLO was refused for its name (a
	 * 501 or 550, not the 500/502 of a command unknown) and the session
	 * fell back to HELO: the server speaks ESMTP, the name is the fault
	 * (Haraka's helo.checks: "550 Invalid address format in HELO") */
	{ "starttls.helo", "Was EHLO refused for its name (not 500/502) and "
	  "only HELO taken, which hides every extension?", T_FLAG,
	  "helo_name_refused", { Y("=ehlo.rejected"), N("=starttls.not_offered") } },
	{ "starttls.version", "Does the refusal talk about TLS versions?", T_TEXT,
	  "TLS 1.0 and 1.1|TLS 1.2|upgrade/update your client",
	  { Y("=tls.version_mismatch"), N("=starttls.refused") } },

	/* TLS */
	{ "tls.kind", "How did TLS fail?", T_KIND, NULL, {
		{ "plaintext where TLS was expected", "=tls.expected_starttls" },
		{ "no TLS version in common", "=tls.version_mismatch" },
		{ "certificate failed verification", "tls.intercept" },
		{ "client certificate required", "=tls.client_cert_required" },
		{ "server-side TLS error", "=tls.server_error" },
		{ "timed out", "tls.silent" },
		{ "cancelled", "=session.cancelled" },
		ANY("=tls.handshake_failed") } },
	{ "tls.silent", "Was this implicit TLS from the first byte?", T_TLSMODE, NULL, {
		{ "implicit", "=greeting.timeout" }, ANY("=tls.handshake_failed") } },
	{ "tls.intercept", "Was the certificate issued by a TLS inspection "
	  "product (a firewall, a cloud proxy, an antivirus)?", T_FLAG,
	  "cert_intercepted", { Y("=tls.intercepted"), N("tls.cert") } },
	{ "tls.cert", "Does the certificate chain lead to a trusted authority?",
	  T_FLAG, "cert_trusted", { Y("tls.cert.expired"), N("tls.cert.chain") } },
	{ "tls.cert.chain", "Did the server leave out an intermediate certificate?",
	  T_FLAG, "cert_chain_incomplete",
	  { Y("=tls.chain_incomplete"), N("=tls.cert_untrusted") } },
	{ "tls.cert.expired", "Has the certificate expired?", T_FLAG, "cert_expired",
	  { Y("=tls.cert_expired"), N("tls.cert.early") } },
	{ "tls.cert.early", "Is the certificate not valid yet?", T_FLAG,
	  "cert_not_yet_valid", { Y("=tls.cert_not_yet_valid"), N("tls.cert.name") } },
	{ "tls.cert.name", "Is the certificate for another name?", T_FLAG,
	  "cert_hostname", { Y("=tls.cert_hostname_mismatch"), N("tls.cert.purpose") } },
	{ "tls.cert.purpose", "Is the certificate meant for something other than "
	  "a TLS server?", T_FLAG, "cert_wrong_purpose",
	  { Y("=tls.cert_wrong_purpose"), N("tls.cert.weak") } },
	{ "tls.cert.weak", "Was it refused for a weak key or signature (SHA-1, MD5, "
	  "a short key)?", T_FLAG, "cert_weak_refused",
	  { Y("=tls.weak_key"), N("=tls.cert_invalid") } },

	/* AUTH */
	{ "auth.oauth.ms", "Was it OAUTHBEARER at Microsoft, which takes only "
	  "XOAUTH2?", T_FLAG, "oauthbearer_microsoft",
	  { Y("=auth.oauthbearer_microsoft"), N("=auth.mech_unsupported") } },
	{ "auth.helo", "Was EHLO refused for its name (not 500/502) and only "
	  "HELO taken, which hides every extension?", T_FLAG,
	  "helo_name_refused", { Y("=ehlo.rejected"), N("auth.mb") } },
	{ "auth.kind", "What went wrong with AUTH?", T_KIND, NULL, {
		{ "extension not offered", "auth.helo" },
		{ "refused to send credentials in plaintext", "=auth.plaintext_refused" },
		{ "no common AUTH mechanism", "auth.oauth.ms" },
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
		{ "530", "auth.530" }, { "503", "auth.503" },
		{ "504", "auth.oauth.ms" }, { "421", "any.421" },
		ANY("auth.class") } },
	{ "auth.503", "Had a MAIL FROM typed on the : line opened a transaction?",
	  T_FLAG, "raw_transaction", { Y("=auth.bad_sequence"), N("auth.503.text") } },
	{ "auth.503.text", "Does the server say a mail transaction is open?",
	  T_TEXT, "transaction in progress|transaction already open|"
	  "nested MAIL", { Y("=auth.bad_sequence"), N("=auth.not_offered") } },
	{ "auth.class", "Was the refusal temporary (4xx)?", T_CLASS, NULL, {
		{ "4xx", "=auth.temporary" }, ANY("auth.oauth") } },
	{ "auth.oauth", "Did the server answer the OAuth token with its error "
	  "(RFC 7628 §3.2.2)?", T_FLAG, "oauth_error",
	  { Y("=auth.oauth_token_rejected"), N("=auth.failed") } },
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

	/* MAIL: the facts (code, encryption, login) before the words */
	{ "mail.kind", "How did the server answer MAIL FROM?", T_KIND, NULL, {
		{ "error reply", "mail.code" },
		{ "extension not offered", "mail.ext" },
		ANY("any.kind") } },
	{ "mail.ext", "Was it SMTPUTF8 that an address needed?", T_FLAG,
	  "smtputf8_missing", { Y("=mail.smtputf8_not_offered"),
	  N("=mail.requiretls_not_offered") } },
	{ "mail.code", "Which reply code did MAIL FROM get?", T_CODE, NULL, {
		{ "421", "any.421" }, { "555", "mail.utf8" }, ANY("mail.rate") } },
	{ "mail.utf8", "Does the sender address hold non-ASCII characters?", T_FLAG,
	  "from_utf8", { Y("=mail.smtputf8_required"), N("=mail.sender_rejected") } },
	{ "mail.rate", "Does the server name a rate or connection limit?", T_VOCAB,
	  "RATE", { Y("=session.rate_limited"), N("mail.encrypted") } },
	{ "mail.encrypted", "Was the session encrypted?", T_FLAG, "encrypted",
	  { Y("mail.login"), N("mail.tls") } },
	{ "mail.tls", "Does the server want STARTTLS first?", T_VOCAB, "TLS_REQUIRED",
	  { Y("=mail.tls_required"), N("mail.login") } },
	{ "mail.login", "Did this session log in (235)?", T_FLAG, "authenticated",
	  { Y("mail.size"), N("mail.auth") } },
	{ "mail.auth", "Does the server ask for a login?", T_VOCAB, "AUTH_REQUIRED",
	  { Y("=mail.auth_required"), N("mail.530") } },
	{ "mail.530", "Is the code 530 (authentication required)?", T_CODE, NULL, {
		{ "530", "=mail.auth_required" }, ANY("mail.size") } },
	{ "mail.size", "Does the server talk about size or storage?", T_VOCAB,
	  "SIZE", { Y("=mail.size_exceeded"), N("mail.552") } },
	{ "mail.552", "Is the code 552 (storage allocation exceeded)?", T_CODE, NULL, {
		{ "552", "=mail.size_exceeded" }, ANY("mail.sender") } },
	{ "mail.sender", "Does the server say this sender is not yours to use?",
	  T_VOCAB, "SENDER_NOT_OWNED", { Y("=mail.sender_rejected"), N("mail.class") } },
	{ "mail.class", "Was the refusal temporary (4xx)?", T_CLASS, NULL, {
		{ "4xx", "mail.t.domain" }, ANY("mail.utf8.offered") } },
	/* a non-ASCII address to a server without SMTPUTF8 is not SMTP it
	 * can read, whatever code it answers with (aiosmtpd: 500) */
	{ "mail.utf8.offered", "Does the sender hold non-ASCII characters, "
	  "and the server not offer SMTPUTF8?", T_FLAG, "from_utf8_unoffered",
	  { Y("=mail.smtputf8_required"), N("=mail.sender_rejected") } },
	{ "mail.t.domain", "Does the server say the sender's domain does not resolve?",
	  T_VOCAB, "SENDER_DOMAIN",
	  { Y("=mail.sender_rejected"), N("=mail.temporary") } },

	/*
	 * RCPT.  Postfix reports its client, EHLO and sender checks here too
	 * (smtpd_delay_reject), so those come first.  Then the facts: a
	 * temporary refusal is not a refusal; a permanent one is read in the
	 * light of the login and of whose domain the recipient is in.  The
	 * same words ("550 Invalid recipient") mean "no such user" for the
	 * server's own domain and "not relaying for you" for any other.
	 */
	{ "rcpt.kind", "How did the server answer RCPT TO?", T_KIND, NULL, {
		{ "error reply", "rcpt.code" }, ANY("any.kind") } },
	{ "rcpt.code", "Which reply code did RCPT TO get?", T_CODE, NULL, {
		{ "421", "any.421" }, { "556", "=rcpt.domain_no_mail" },
		{ "530", "=mail.auth_required" }, ANY("rcpt.rate") } },
	{ "rcpt.rate", "Does the server name a rate or connection limit?", T_VOCAB,
	  "RATE", { Y("=session.rate_limited"), N("rcpt.enh") } },
	{ "rcpt.enh", "Which enhanced status code came with it?", T_ENH, NULL, {
		{ "5.1.10", "rcpt.5110" }, { "5.1.1", "rcpt.511" },
		{ "5.1.2", "=rcpt.domain_not_found" },
		{ "4.1.2", "rcpt.t.domain" },
		{ "5.2.2", "=rcpt.mailbox_full" }, { "4.2.2", "=rcpt.mailbox_full" },
		{ "5.7.54", "=rcpt.relay_denied" }, { "5.7.57", "=mail.auth_required" },
		{ "4.5.3", "=rcpt.too_many_recipients" },
		{ "5.5.3", "=rcpt.too_many_recipients" },
		ANY("rcpt.sender") } },
	/*
	 * 5.1.1 is "no such mailbox", but some server libraries put an
	 * enhanced code on every reply by its number alone (Nodemailer's
	 * smtp-server: 550 -> 5.1.1, whatever the app's reason), so an
	 * app's "550 5.1.1 Relay access denied" is a relay refusal.  Words
	 * that say no such user agree with the code and end it; only words
	 * of another meaning overrule it.
	 */
	{ "rcpt.511", "Does the server say there is no such user, as the "
	  "code 5.1.1 does?", T_VOCAB, "USER_UNKNOWN",
	  { Y("=rcpt.unknown_user"), N("rcpt.511.relay") } },
	{ "rcpt.511.relay", "Do the words refuse to relay, against the code?",
	  T_VOCAB, "RELAY", { Y("=rcpt.relay_denied"), N("rcpt.511.auth") } },
	{ "rcpt.511.auth", "Do the words ask for a login, against the code?",
	  T_VOCAB, "AUTH_REQUIRED", { Y("=mail.auth_required"), N("=rcpt.unknown_user") } },
	{ "rcpt.5110", "Is it Microsoft's 'recipient not found' rather than a null MX?",
	  T_VOCAB, "USER_UNKNOWN",
	  { Y("=rcpt.unknown_user"), N("=rcpt.domain_no_mail") } },
	{ "rcpt.sender", "Is it the sender the server objects to?", T_VOCAB,
	  "SENDER_NOT_OWNED", { Y("=rcpt.sender_not_owned"), N("rcpt.sender_domain") } },
	{ "rcpt.sender_domain", "Does the sender's domain fail to resolve?", T_VOCAB,
	  "SENDER_DOMAIN", { Y("=mail.sender_rejected"), N("rcpt.names_sender") } },
	/* a fact before the recipient's words: Exim's sender verification
	 * answers RCPT with "550-Verification failed for <sender> /
	 * 550-Unrouteable address / 550 Sender verify failed", whose
	 * "Unrouteable address" is the sender's, not the recipient's */
	{ "rcpt.names_sender", "Does the reply quote the sender's address, and "
	  "not the recipient's?", T_FLAG, "reply_names_sender",
	  { Y("=mail.sender_rejected"), N("rcpt.helo") } },
	{ "rcpt.helo", "Is the server rejecting our EHLO name?", T_VOCAB, "HELO",
	  { Y("=rcpt.helo_rejected"), N("rcpt.client") } },
	{ "rcpt.client", "Is it our address or its reverse DNS?", T_VOCAB,
	  "CLIENT_HOST", { Y("=rcpt.client_host_rejected"), N("rcpt.dnsbl") } },
	{ "rcpt.dnsbl", "Is our address on a block list?", T_VOCAB, "BLOCKLIST",
	  { Y("=rcpt.blocklisted"), N("rcpt.class") } },
	{ "rcpt.class", "Was the refusal temporary (4xx) or permanent (5xx)?",
	  T_CLASS, NULL, { { "4xx", "rcpt.t.grey" }, ANY("rcpt.utf8") } },
	{ "rcpt.utf8", "Does the recipient hold non-ASCII characters, and the "
	  "server not offer SMTPUTF8?", T_FLAG, "rcpt_utf8_unoffered",
	  { Y("=rcpt.smtputf8_required"), N("rcpt.login") } },

	/* RCPT, 4xx: not a refusal; what is the server waiting for? */
	{ "rcpt.t.grey", "Is it greylisting?", T_VOCAB, "GREYLIST",
	  { Y("=rcpt.greylisted"), N("rcpt.t.many") } },
	{ "rcpt.t.many", "Does the server say the message has too many "
	  "recipients (a limit per message, without 4.5.3)?", T_VOCAB,
	  "TOO_MANY_RCPTS", { Y("=rcpt.too_many_recipients"), N("rcpt.t.unverified") } },
	{ "rcpt.t.unverified", "Is the server still verifying the recipient?",
	  T_VOCAB, "UNVERIFIED", { Y("=rcpt.temporary"), N("rcpt.t.full") } },
	{ "rcpt.t.full", "Does the server say the mailbox is full?", T_VOCAB,
	  "MAILBOX_FULL", { Y("=rcpt.mailbox_full"), N("rcpt.t.relay") } },
	{ "rcpt.t.relay", "Does the server refuse to relay (for now)?", T_VOCAB,
	  "RELAY", { Y("=rcpt.relay_denied"), N("rcpt.t.domain") } },
	{ "rcpt.t.domain", "Does the recipient's domain fail to resolve?", T_VOCAB,
	  "RCPT_DOMAIN", { Y("=rcpt.domain_not_found"), N("rcpt.t.user") } },
	{ "rcpt.t.user", "Does the server say there is no such user?", T_VOCAB,
	  "USER_UNKNOWN", { Y("=rcpt.unknown_user"), N("=rcpt.temporary") } },

	/* RCPT, 5xx: logged in or not, then whose domain */
	{ "rcpt.login", "Did this session log in (235)?", T_FLAG, "authenticated",
	  { Y("rcpt.in.relay"), N("rcpt.out.relay") } },
	{ "rcpt.in.relay", "Does the server refuse to relay, in so many words?",
	  T_VOCAB, "RELAY", { Y("=rcpt.relay_denied"), N("rcpt.in.domain") } },
	{ "rcpt.in.domain", "Does the recipient's domain take no mail (null MX)?",
	  T_VOCAB, "NULL_MX", { Y("=rcpt.domain_no_mail"), N("rcpt.in.user") } },
	{ "rcpt.in.user", "Does the server say there is no such user?", T_VOCAB,
	  "USER_UNKNOWN", { Y("=rcpt.unknown_user"), N("rcpt.in.full") } },
	{ "rcpt.in.full", "Does the server say the mailbox is full?", T_VOCAB,
	  "MAILBOX_FULL", { Y("=rcpt.mailbox_full"), N("rcpt.in.whose") } },
	{ "rcpt.in.whose", "Is the recipient's domain the server's own?", T_DOMAIN,
	  NULL, { { "own", "rcpt.in.own" }, { "foreign", "rcpt.in.foreign" },
		  ANY("=rcpt.rejected") } },
	{ "rcpt.in.own", "Is it a refusal that names no reason (not hosted here)?",
	  T_VOCAB, "NOT_HOSTED", { Y("=rcpt.unknown_user"), N("=rcpt.rejected") } },
	{ "rcpt.in.foreign", "Is it a refusal that names no reason (not hosted here)?",
	  T_VOCAB, "NOT_HOSTED", { Y("=rcpt.relay_denied"), N("=rcpt.rejected") } },

	{ "rcpt.out.relay", "Does the server refuse to relay, in so many words?",
	  T_VOCAB, "RELAY", { Y("=rcpt.relay_denied"), N("rcpt.out.auth") } },
	{ "rcpt.out.auth", "Does the server ask for a login?", T_VOCAB,
	  "AUTH_REQUIRED", { Y("=mail.auth_required"), N("rcpt.out.user") } },
	{ "rcpt.out.user", "Does the server say there is no such user?", T_VOCAB,
	  "USER_UNKNOWN", { Y("=rcpt.unknown_user"), N("rcpt.out.offered") } },
	{ "rcpt.out.offered", "Did the server offer AUTH (and the session skip it)?",
	  T_FLAG, "skipped_offered_auth", { Y("rcpt.out.denied"), N("rcpt.out.domain") } },
	/*
	 * Postfix submission (smtpd_relay_restrictions = permit_sasl_
	 * authenticated, reject) takes MAIL from anyone and refuses every
	 * RCPT of a session that did not log in with a bare '554 5.7.1
	 * <rcpt>: Recipient address rejected: Access denied'.  The words say
	 * nothing of AUTH; the session's facts do.
	 */
	{ "rcpt.out.denied", "Is it a bare policy refusal (Access denied)?", T_VOCAB,
	  "ACCESS_DENIED", { Y("=mail.auth_required"), N("rcpt.out.domain") } },
	{ "rcpt.out.domain", "Does the recipient's domain take no mail (null MX)?",
	  T_VOCAB, "NULL_MX", { Y("=rcpt.domain_no_mail"), N("rcpt.out.full") } },
	{ "rcpt.out.full", "Does the server say the mailbox is full?", T_VOCAB,
	  "MAILBOX_FULL", { Y("=rcpt.mailbox_full"), N("rcpt.out.whose") } },
	{ "rcpt.out.whose", "Is the recipient's domain the server's own?", T_DOMAIN,
	  NULL, { { "own", "rcpt.out.own" }, { "foreign", "rcpt.out.foreign" },
		  ANY("=rcpt.rejected") } },
	{ "rcpt.out.own", "Is it a refusal that names no reason (not hosted here)?",
	  T_VOCAB, "NOT_HOSTED", { Y("=rcpt.unknown_user"), N("=rcpt.rejected") } },
	{ "rcpt.out.foreign", "Is it a refusal that names no reason (not hosted here)?",
	  T_VOCAB, "NOT_HOSTED", { Y("=rcpt.relay_denied"), N("=rcpt.rejected") } },

	/* DATA */
	{ "data.kind", "How did the server answer the message?", T_KIND, NULL, {
		{ "error reply", "data.code" }, ANY("any.kind") } },
	{ "data.code", "Which reply code did the message get?", T_CODE, NULL, {
		{ "421", "any.421" }, ANY("data.rate") } },
	{ "data.rate", "Does the server name a rate or connection limit?", T_VOCAB,
	  "RATE", { Y("=session.rate_limited"), N("data.sendas") } },
	{ "data.sendas", "Is the account not allowed to send as this sender?", T_VOCAB,
	  "SEND_AS", { Y("=data.send_as_denied"), N("data.auth") } },
	{ "data.auth", "Did SPF, DKIM or DMARC fail?", T_VOCAB, "UNAUTHENTICATED",
	  { Y("=data.unauthenticated"), N("data.ses") } },
	{ "data.ses", "Is the sender identity unverified (Amazon SES)?", T_VOCAB,
	  "IDENTITY", { Y("=data.identity_unverified"), N("data.size") } },
	{ "data.size", "Is the message too big?", T_VOCAB, "SIZE",
	  { Y("=data.size_exceeded"), N("data.enh") } },
	{ "data.enh", "Which enhanced status code came with it?", T_ENH, NULL, {
		{ "5.3.4", "=data.size_exceeded" }, { "5.2.3", "=data.size_exceeded" },
		{ "5.2.2", "data.552" }, { "none", "data.552" },
		ANY("data.class") } },
	/* 552 after the message is RFC 1870's size refusal ("exceeded storage
	 * allocation"), unless the words say the mailbox is full: a code
	 * that names another cause (5.7.x: content) went to data.class */
	{ "data.552", "Is the code 552 (exceeded storage allocation)?", T_CODE,
	  NULL, { { "552", "data.552.full" }, ANY("data.class") } },
	{ "data.552.full", "Does the server say the mailbox is full?", T_VOCAB,
	  "MAILBOX_FULL", { Y("=rcpt.mailbox_full"), N("=data.size_exceeded") } },
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
	  T_VOCAB, "SYNC", { Y("=proto.sync_error"), N("=session.closed") } },
	{ "any.421", "Does the 421 say there were too many errors?", T_VOCAB,
	  "TOO_MANY_ERRORS", { Y("=session.too_many_errors"), N("any.421.limit") } },
	{ "any.421.limit", "Does the 421 say a command was sent too many times?",
	  T_VOCAB, "COMMAND_LIMIT",
	  { Y("=session.command_limit"), N("any.421.rate") } },
	{ "any.421.rate", "Is it a rate, connection or reputation limit?", T_VOCAB,
	  "RATE", { Y("=session.rate_limited"), N("any.421.tls") } },
	{ "any.421.tls", "Does it talk about TLS versions?", T_VOCAB,
	  "TLS_VERSION", { Y("=tls.version_mismatch"), N("=session.closed") } },

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
	  "helo_fallback", { Y("w.helo.name"), N("-") } },
	{ "w.helo.name", "Was EHLO refused for its name (not 500/502): a "
	  "server that speaks ESMTP and dislikes the name?", T_FLAG,
	  "helo_name_refused", { Y("=ehlo.rejected"), N("=ehlo.helo_fallback") } },
	{ "w.weak", "Does the server's certificate use a weak key or signature "
	  "(SHA-1, RSA under 2048 bits) that was not refused?", T_FLAG,
	  "cert_weak_accepted", { Y("=tls.weak_key"), N("-") } },
	{ "w.dsn", "Were DSN parameters asked for that the server does not "
	  "offer?", T_FLAG, "dsn_dropped", { Y("=mail.dsn_not_offered"), N("-") } },
	{ "w.mbox", "Did something on the path answer in the server's place?",
	  T_FLAG, "middlebox_banner", { Y("w.mbox.failed"), N("w.mbox.note") } },
	{ "w.mbox.failed", "Did the session fail where that is asked (the "
	  "greeting, EHLO, STARTTLS, AUTH missing): the main diagnosis "
	  "already?", T_FLAG, "middlebox_asked",
	  { Y("-"), N("=net.middlebox_banner") } },
	{ "w.mbox.note", "Does the greeting name a mail gateway or security "
	  "product?", T_FLAG, "middlebox_note",
	  { Y("=net.middlebox_possible"), N("-") } },
	{ "w.intercept", "Was the certificate issued by a TLS inspection "
	  "product?", T_FLAG, "cert_intercepted",
	  { Y("w.intercept.stop"), N("-") } },
	{ "w.intercept.stop", "Did the certificate check stop the session (then "
	  "it is the main diagnosis already)?", T_FLAG, "cert_stopped",
	  { Y("-"), N("=tls.intercepted") } },
};

/* ---- the reply-text knowledge table ------------------------------------ */

static const struct vocab_entry vocab[] = {
#define VOCAB(tag, steps, words, source) { V_##tag, steps, words, source },
#include "vocab.def"
#undef VOCAB
};

static const char *const vocab_tags[] = {
#define X(sym, words) #sym,
	VOCAB_TAGS(X)
#undef X
};

const struct vocab_entry *
diag_vocab(size_t *n)
{
	*n = ARRAY_SIZE(vocab);
	return vocab;
}

const char *
vocab_tag_name(enum vocab_tag t)
{
	return (unsigned)t < ARRAY_SIZE(vocab_tags) ? vocab_tags[t] : "?";
}

static int
vocab_tag_from_name(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(vocab_tags); i++)
		if (!strcmp(vocab_tags[i], name))
			return (int)i;
	return -1;
}

static bool has_word(const char *text, const char *needle);

const struct vocab_entry *
vocab_match(const char *text, int st, enum vocab_tag tag)
{
	if (!text)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(vocab); i++) {
		const struct vocab_entry *v = &vocab[i];
		if (v->tag != tag)
			continue;
		if (v->steps != VS_ANY && (st < 0 || !(v->steps & VS(st))))
			continue;
		if (has_word(text, v->words))
			return v;
	}
	return NULL;
}

/* ---- whose domain is the recipient in? ----------------------------------- */

static size_t
labels(const char *d)
{
	size_t n = *d ? 1 : 0;
	for (; *d; d++)
		n += *d == '.';
	return n;
}

/*
 * Two labels that look like a public suffix ("co.uk", "com.au"): never
 * taken as anyone's own domain.  A heuristic, not the Public Suffix List:
 * it only keeps "the domain of the server's name" from growing into a
 * whole country's namespace.
 */
static bool
suffix_like(const char *d)
{
	static const char *const second[] = {
		"co", "com", "net", "org", "ac", "gov", "edu", "or", "ne", "go",
		"mil", "ltd", "plc", "sch", "gob", "nic",
	};
	if (labels(d) < 2)
		return true;
	if (labels(d) > 2)
		return false;
	const char *dot = strchr(d, '.');
	if (strlen(dot + 1) != 2)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(second); i++)
		if (strlen(second[i]) == (size_t)(dot - d) &&
		    !strncasecmp(d, second[i], (size_t)(dot - d)))
			return true;
	return false;
}

/* Is sub equal to dom, or a name under it? */
static bool
under(const char *sub, const char *dom)
{
	size_t a = strlen(sub), b = strlen(dom);
	if (a == b)
		return !strcasecmp(sub, dom);
	return a > b && sub[a - b - 1] == '.' && !strcasecmp(sub + a - b, dom);
}

static bool
is_address_literal(const char *n)
{
	if (*n == '[')
		return true;
	size_t k = strspn(n, "0123456789.");
	return n[k] == '\0' || strchr(n, ':') != NULL;
}

/* The domain of an address, lower-case, without a trailing dot; or NULL. */
static char *
domain_of(const char *addr)
{
	const char *at = addr ? strrchr(addr, '@') : NULL;
	if (!at || !at[1])
		return NULL;
	char *d = xstrdup(at + 1);
	size_t n = strlen(d);
	if (n && d[n - 1] == '>')
		d[--n] = '\0';
	if (n && d[n - 1] == '.')
		d[--n] = '\0';
	for (char *p = d; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return d;
}

/*
 * Is rcpt (a domain) related to the name a server goes by?  The server's
 * own domain is its name without the first label (mail.example.com:
 * example.com), unless that would leave a public-suffix-like rest; the
 * recipient is own when it is that domain, above it (example.com for
 * mx.eu.example.com) or below it.
 */
static bool
related_to_server_name(const char *rcpt, const char *name)
{
	if (!name || !*name || is_address_literal(name) || labels(name) < 2)
		return false;
	const char *base = name;
	const char *dot = strchr(name, '.');
	if (labels(name) >= 3 && !suffix_like(dot + 1))
		base = dot + 1;
	if (under(rcpt, base))
		return true;
	return !suffix_like(rcpt) && under(name, rcpt);
}

/* Is rcpt related to a mail domain (equal, above or below it)? */
static bool
related_to_domain(const char *rcpt, const char *dom)
{
	if (!dom || !*dom)
		return false;
	return under(rcpt, dom) || (!suffix_like(rcpt) && under(dom, rcpt));
}

enum rcpt_domain
diag_rcpt_domain(const struct facts *f, char **why)
{
	char *rd = domain_of(f->to);
	struct buf b = { 0 };
	enum rcpt_domain r = RD_UNKNOWN;
	if (why)
		*why = NULL;
	if (!rd || labels(rd) < 2) {
		if (why)
			*why = xstrdup("the recipient address has no domain to compare");
		free(rd);
		return RD_UNKNOWN;
	}
	struct cand {
		const char *name;
		const char *what;
		bool server;	/* a server's host name, not a mail domain */
	} c[6];
	int nc = 0;
	char *sd = f->from_given ? domain_of(f->from) : NULL;
	char *ud = f->has_user ? domain_of(f->user) : NULL;
	c[nc++] = (struct cand){ f->ehlo_name, "the server's EHLO name", true };
	c[nc++] = (struct cand){ f->greeting_name, "the server's greeting name", true };
	c[nc++] = (struct cand){ f->servername, "the name connected to", true };
	c[nc++] = (struct cand){ f->mx_domain, "the mail domain of --mx", false };
	c[nc++] = (struct cand){ sd, "the sender's domain", false };
	c[nc++] = (struct cand){ ud, "the login's domain", false };

	int compared = 0;
	for (int i = 0; i < nc && r != RD_OWN; i++) {
		const char *n = c[i].name;
		if (!n || !*n || (c[i].server && (is_address_literal(n) ||
						  labels(n) < 2)))
			continue;
		compared++;
		if (c[i].server ? related_to_server_name(rd, n)
				: related_to_domain(rd, n)) {
			r = RD_OWN;
			buf_printf(&b, "%s belongs with %s %s", rd, c[i].what, n);
		}
	}
	if (r != RD_OWN && compared) {
		r = RD_FOREIGN;
		buf_printf(&b, "%s is not related to", rd);
		const char *sep = " ";
		for (int i = 0; i < nc; i++) {
			const char *n = c[i].name;
			if (!n || !*n || (c[i].server && (is_address_literal(n) ||
							  labels(n) < 2)))
				continue;
			bool dup = false;	/* "EHLO name x" once, not thrice */
			for (int k = 0; k < i; k++)
				dup = dup || (c[k].name && !strcasecmp(c[k].name, n));
			if (dup)
				continue;
			buf_printf(&b, "%s%s %s", sep, c[i].what, n);
			sep = ", ";
		}
		buf_adds(&b, "; the server may still host it");
	} else if (!compared) {
		buf_printf(&b, "no name of the server to compare %s with", rd);
	}
	free(rd);
	free(sd);
	free(ud);
	if (why)
		*why = buf_steal(&b);
	else
		buf_free(&b);
	return r;
}

static const struct {
	const char *root;
	int evidence;		/* which evidence string: see warn_evidence() */
} warning_roots[] = {
	{ "w.tls", 0 }, { "w.auth", 1 }, { "w.port25", 2 }, { "w.cert", 3 },
	{ "w.insecure", 3 }, { "w.helo", 4 }, { "w.weak", 5 }, { "w.dsn", 6 },
	{ "w.mbox", 7 }, { "w.intercept", 8 },
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

size_t
diag_tree_branches(const char *id, const char **when, const char **next,
		   size_t max)
{
	for (size_t i = 0; i < ARRAY_SIZE(tree); i++) {
		if (strcmp(tree[i].id, id))
			continue;
		size_t n = 0;
		for (size_t b = 0; b < ARRAY_SIZE(tree[i].br) && tree[i].br[b].when &&
		     n < max; b++, n++) {
			when[n] = tree[i].br[b].when;
			next[n] = tree[i].br[b].next;
		}
		return n;
	}
	return 0;
}

static bool
has_non_ascii(const char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s >= 0x80)
			return true;
	return false;
}

/* Does text quote the address as "<addr>", in any case?  An empty
 * address (the null sender) is never found. */
static bool
quotes_address(const char *text, const char *addr)
{
	if (!text || !addr || !*addr)
		return false;
	char *q = xasprintf("<%s>", addr);
	bool hit = strcasestr_ascii(text, q);
	free(q);
	return hit;
}

/* The names flag() knows: tree nodes and {?name:...} segments use them. */
static const char *const flag_names[] = {
	"probe_ok", "encrypted", "starttls_offered", "cert_trusted",
	"cert_chain_incomplete", "cert_wrong_purpose", "cert_weak_refused",
	"cert_weak_accepted",
	"cert_expired", "cert_not_yet_valid", "cert_hostname", "from_utf8",
	"tls_old", "auth_before_tls", "port25_auth", "cert_ignored",
	"helo_fallback", "skipped_offered_auth", "authenticated",
	"auth_offered", "has_user", "from_given", "user_is_address",
	"rcpt_own", "rcpt_foreign", "port25", "cafile_given",
	"dsn_dropped", "oauth_error", "oauthbearer_microsoft", "client_cert",
	"smtputf8_missing",
	"middlebox_banner", "middlebox_note", "cert_intercepted", "cert_stopped",
	"cb_intercepted", "middlebox_asked",
	"from_utf8_unoffered", "rcpt_utf8_unoffered", "tls_implicit",
	"reply_names_sender", "oauth_only", "mech_auto", "hello_unknown",
	"helo_name_refused",
};

bool
diag_flag_known(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(flag_names); i++)
		if (!strcmp(flag_names[i], name))
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
	if (!strcmp(name, "cert_trusted"))
		return !(f->cert_problems & (CP_UNTRUSTED | CP_NO_CERT |
					     CP_CHAIN_INCOMPLETE));
	if (!strcmp(name, "cert_chain_incomplete"))
		return f->cert_problems & CP_CHAIN_INCOMPLETE;
	if (!strcmp(name, "cert_wrong_purpose"))
		return f->cert_problems & CP_PURPOSE;
	if (!strcmp(name, "cert_weak_refused"))
		return f->cert_problems & CP_WEAK;
	if (!strcmp(name, "cert_weak_accepted"))
		return f->weak && *f->weak && !(f->cert_problems & CP_WEAK);
	if (!strcmp(name, "cert_expired"))
		return f->cert_problems & CP_EXPIRED;
	if (!strcmp(name, "cert_not_yet_valid"))
		return f->cert_problems & CP_NOT_YET_VALID;
	if (!strcmp(name, "cert_hostname"))
		return f->cert_problems & CP_HOSTNAME;
	if (!strcmp(name, "smtputf8_missing"))
		return f->smtputf8_missing;
	if (!strcmp(name, "from_utf8"))
		return has_non_ascii(f->from);
	if (!strcmp(name, "middlebox_banner"))
		return f->middlebox_banner;
	if (!strcmp(name, "middlebox_note"))
		return f->middlebox_note;
	if (!strcmp(name, "cert_intercepted"))
		return f->cert_intercepted;
	if (!strcmp(name, "middlebox_asked"))
		return f->kind != FK_OUT_OF_STEP &&
		       (f->failed_step == STEP_GREETING ||
			f->failed_step == STEP_EHLO ||
			f->failed_step == STEP_STARTTLS ||
			(f->failed_step == STEP_AUTH && f->kind == FK_NOT_OFFERED));
	if (!strcmp(name, "cb_intercepted")) {
		size_t n = f->mech ? strlen(f->mech) : 0;
		return f->cert_intercepted && f->failed_step == STEP_AUTH &&
		       n > 5 && !strcasecmp(f->mech + n - 5, "-PLUS");
	}
	if (!strcmp(name, "cert_stopped"))
		return f->failed_step == STEP_TLS && f->kind == FK_CERT;
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
	if (!strcmp(name, "raw_transaction"))
		return f->raw_transaction;
	if (!strcmp(name, "skipped_offered_auth"))
		return f->auth_offered && !f->authenticated;
	if (!strcmp(name, "authenticated"))
		return f->authenticated;
	if (!strcmp(name, "auth_offered"))
		return f->auth_offered;
	if (!strcmp(name, "has_user"))
		return f->has_user;
	if (!strcmp(name, "from_given"))
		return f->from_given;
	if (!strcmp(name, "user_is_address"))
		return f->has_user && f->user && strchr(f->user, '@');
	if (!strcmp(name, "rcpt_own"))
		return diag_rcpt_domain(f, NULL) == RD_OWN;
	if (!strcmp(name, "rcpt_foreign"))
		return diag_rcpt_domain(f, NULL) == RD_FOREIGN;
	if (!strcmp(name, "port25"))
		return f->port == 25;
	if (!strcmp(name, "cafile_given"))
		return f->cafile_given;
	if (!strcmp(name, "dsn_dropped"))
		return f->dsn_dropped;
	if (!strcmp(name, "oauth_error"))
		return f->oauth_error;
	if (!strcmp(name, "oauthbearer_microsoft"))
		return f->oauthbearer_microsoft &&
		       (f->kind == FK_MECH_UNSUPPORTED || f->kind == FK_REPLY);
	if (!strcmp(name, "client_cert"))
		return f->client_cert;
	if (!strcmp(name, "hello_unknown"))
		return f->hello_unknown;
	if (!strcmp(name, "helo_name_refused"))
		return f->helo_name_refused;
	if (!strcmp(name, "oauth_only"))
		return f->oauth_only;
	if (!strcmp(name, "mech_auto"))
		return f->mech_auto;
	if (!strcmp(name, "reply_names_sender"))
		return quotes_address(f->text, f->from) &&
		       !quotes_address(f->text, f->to);
	if (!strcmp(name, "tls_implicit"))
		return f->tls_mode == TLSM_IMPLICIT && f->encrypted;
	if (!strcmp(name, "from_utf8_unoffered"))
		return has_non_ascii(f->from) && !f->smtputf8_offered;
	if (!strcmp(name, "rcpt_utf8_unoffered"))
		return has_non_ascii(f->to) && !f->smtputf8_offered;
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
	case T_VOCAB: {
		int tag = vocab_tag_from_name(n->arg);
		const struct vocab_entry *v = tag < 0 ? NULL :
			vocab_match(f->text, f->failed_step, (enum vocab_tag)tag);
		if (!v)
			return xstrdup("no");
		/* the server's name: the first word of the source */
		size_t k = strcspn(v->source, " ");
		return xasprintf("yes (\"%s\", %.*s)", v->words, (int)k, v->source);
	}
	case T_DOMAIN: {
		char *why = NULL;
		enum rcpt_domain r = diag_rcpt_domain(f, &why);
		char *a = xasprintf("%s (%s)", r == RD_OWN ? "own" :
				    r == RD_FOREIGN ? "foreign" : "unknown", why);
		free(why);
		return a;
	}
	case T_FLAG:
		return xstrdup(flag(f, n->arg) ? "yes" : "no");
	case T_PORT:
		return xasprintf("%d", f->port);
	case T_TLSMODE:
		return xstrdup(tls_mode_name((enum tls_mode)f->tls_mode));
	}
	return xstrdup("?");
}

/*
 * Fill {placeholders} from the facts, and keep or drop conditional
 * segments: "{?flag:text}" keeps text when the flag (see flag()) is true,
 * "{!flag:text}" when it is false.  text may hold placeholders and further
 * segments.  So a fix says "add -u" only to a session that did not log in.
 */
static void
expand_into(struct buf *b, const char *p, const char *end, const struct facts *f,
	    enum diag_id id)
{
	/* the other standard submission port: 465 (implicit TLS), or 587
	 * (STARTTLS) where 465 is the port in trouble or the mode is wrong */
	int alt = f->port == 465 ? 587 : 465;
	if (id == D_TLS_EXPECTED_STARTTLS ||
	    (id == D_TLS_EXPECTED_IMPLICIT && f->port != 587))
		alt = 587;
	const char *altmode = alt == 465 ? "implicit" : "starttls";

	while (p < end) {
		if (*p != '{') {
			buf_addc(b, *p++);
			continue;
		}
		if (p + 1 < end && (p[1] == '?' || p[1] == '!')) {
			const char *colon = memchr(p, ':', (size_t)(end - p));
			const char *q = p + 1;
			int depth = 1;
			while (++q < end && depth)
				depth += *q == '{' ? 1 : *q == '}' ? -1 : 0;
			if (!colon || depth) {	/* malformed: keep as is */
				buf_add(b, p, (size_t)(end - p));
				return;
			}
			const char *close = q - 1;	/* the matching '}' */
			char *key = xstrndup(p + 2, (size_t)(colon - p - 2));
			bool on = flag(f, key) == (p[1] == '?');
			free(key);
			if (on && colon < close)
				expand_into(b, colon + 1, close, f, id);
			p = close + 1;
			continue;
		}
		const char *e = memchr(p, '}', (size_t)(end - p));
		if (!e) {
			buf_add(b, p, (size_t)(end - p));
			return;
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
			buf_adds(b, safe);
			free(safe);
		} else {
			buf_add(b, p, n + 2);
		}
		p = e + 1;
	}
}

char *
diag_expand(const char *tmpl, const struct facts *f, enum diag_id id)
{
	struct buf b = { 0 };
	expand_into(&b, tmpl, tmpl + strlen(tmpl), f, id);
	if (!b.data)
		return xstrdup("");
	/* a dropped segment may leave two spaces side by side */
	char *s = buf_steal(&b), *w = s;
	for (const char *r = s; *r; r++)
		if (!(*r == ' ' && (w == s || w[-1] == ' ')))
			*w++ = *r;
	while (w > s && w[-1] == ' ')
		w--;
	*w = '\0';
	return s;
}

/* Does the branch label when take answer a?  "*" takes anything; an
 * answer may carry its reasons after a space: "own (example.com ...)". */
static bool
branch_matches(const char *when, const char *a)
{
	if (!strcmp(when, "*"))
		return true;
	size_t n = strlen(when);
	return !strncmp(when, a, n) && (a[n] == '\0' || a[n] == ' ');
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
			if (branch_matches(n->br[i].when, a)) {
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
	/* what stopped a session is an error, whatever it is elsewhere
	 * (tls.weak_key: a warning when the certificate was accepted) */
	if (!as_warning && f->failed_step >= 0 && d->sev == SEV_WARNING)
		d->sev = SEV_ERROR;
	d->step = di->step;
	if (!as_warning && f->failed_step >= 0)
		d->step = (enum step)f->failed_step;
	d->evidence = xstrdup(evidence ? evidence : "");
	d->explanation = diag_expand(di->explanation, f, d->id);
	d->fix = diag_expand(di->fix, f, d->id);
	d->path = xmalloc(np * sizeof *d->path);
	memcpy(d->path, path, np * sizeof *path);
	d->npath = np;
	return true;
}

void
diag_decide(const struct facts *f, struct diag_list *out)
{
	walk(f, "root", false, f->evidence, out);
	/* ehlo.rejected reached from a missing extension: the refusal of
	 * EHLO is the evidence, not the reply to HELO */
	if (out->n && out->v[out->n - 1].id == D_EHLO_REJECTED &&
	    f->helo_name_refused && f->helo_evidence && *f->helo_evidence) {
		free(out->v[out->n - 1].evidence);
		out->v[out->n - 1].evidence = xstrdup(f->helo_evidence);
	}
	/* a middlebox's own words are the evidence, not the failing line */
	if (out->n && (out->v[out->n - 1].id == D_NET_MIDDLEBOX_BANNER ||
		       out->v[out->n - 1].id == D_TLS_INTERCEPTED)) {
		const char *ev = out->v[out->n - 1].id == D_NET_MIDDLEBOX_BANNER ?
			f->middlebox_evidence : f->intercept_evidence;
		if (ev && *ev) {
			free(out->v[out->n - 1].evidence);
			out->v[out->n - 1].evidence = xstrdup(ev);
		}
	}
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
		case 5: ev = f->weak; break;
		case 6: ev = f->dsn_evidence; break;
		case 7: ev = f->middlebox_evidence; break;
		case 8: ev = f->intercept_evidence; break;
		}
		/* a failed certificate that stopped the session is already
		 * the main diagnosis */
		if ((warning_roots[i].evidence == 3 && !f->insecure) ||
		    (warning_roots[i].evidence == 4 && out->n &&
		     out->v[0].id == D_EHLO_REJECTED)) {
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

const char *
diag_step_name(const struct diagnosis *d)
{
	if (!strncmp(diag_info(d->id)->id, "fetchback.", 10))
		return "fetch_back";
	return step_name(d->step);
}

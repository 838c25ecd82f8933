/*
 * scenarios.c - the lab's scenario table.
 *
 * Each entry pairs a server behaviour with the client settings that meet
 * it, and says what the session should conclude.  Names are stable (the
 * CONTRACT and workshop handouts use them): a diagnosis id for the
 * scenario that reproduces it, or a descriptive name for the rest.
 * Descriptions are one line under 70 characters, written for `--lab list`
 * in a workshop: what the server does and what you will see.
 *
 * Canned replies are real servers' words (shared/FIELD-NOTES.md):
 * Postfix's by default, Gmail's and Microsoft 365's where the scenario
 * imitates them.  "\n" separates the lines of a multi-line reply.
 */
#include <string.h>

#include "../diag.h"
#include "../util.h"
#include "lab.h"

#define GMAIL_ID	"x1-20020a05 - gsmtp"
#define M365_ID		"[AM0PR02CA0001.eurprd02.prod.outlook.com]"

static const struct lab_scenario scenarios[] = {
	/* ---- sessions that work ---- */
	{
		.name = "ok",
		.desc = "A healthy submission server: STARTTLS, AUTH, the mail accepted",
	},
	{
		.name = "ok-oauth",
		.desc = "OAUTHBEARER (RFC 7628) with a valid token: the mail accepted",
		.tls_flags = LT_OAUTH,
		.mech = AM_OAUTHBEARER,
	},
	{
		.name = "ok-implicit",
		.desc = "The same over implicit TLS (port 465 style)",
		.flags = LF_IMPLICIT,
	},
	{
		.name = "ok-smtputf8",
		.desc = "SMTPUTF8: jösé@bücher.lab writes to zoë@bücher.lab",
		.from = "jösé@bücher.lab",
		.to = "zoë@bücher.lab",
	},
	{
		.name = "ok-relay",
		.desc = "A port-25 MX: STARTTLS, no AUTH, mail to a local user taken",
		.flags = LF_NO_AUTH,
		.role_port = 25,
		.no_user = true,
	},

	/* ---- resolve and connect ---- */
	{
		.name = "dns.not_found",
		.desc = "The client is given a host name that does not exist",
		.host = "no-such-host.invalid",
		.expect = "dns.not_found", .expect_exit = 1,
	},
	{
		.name = "dns.no_address",
		.desc = "IPv6 only (-6) for a server that has an IPv4 address only",
		.family = FAM_V6,
		.expect = "dns.no_address", .expect_exit = 1,
	},
	{
		.name = "connect.refused",
		.desc = "Nothing listens on the port: the connection is refused",
		.flags = LF_REFUSE,
		.expect = "connect.refused", .expect_exit = 1,
	},
	{
		.name = "connect.timeout",
		.desc = "The server's queue is full, SYNs are dropped: connect times out",
		.flags = LF_BACKLOG_FULL,
		.timeout = 2,
		.expect = "connect.timeout", .expect_exit = 1,
	},
	/* the lab's mail host (issue 14): a network that blocks some ports;
	 * `w` (--sweep) finds the one that works, offline */
	{
		.name = "ports.587-blocked",
		.desc = "587 is dropped on the way; 465 works: press w (--sweep)",
		.flags = LF_BACKLOG_FULL,
		.role_port = 587,
		.timeout = 3,
		.expect = "connect.timeout", .expect_exit = 1,
	},
	{
		.name = "ports.25-blocked",
		.desc = "Port 25 is dropped, as most clouds do; 587 and 465 work",
		.flags = LF_BACKLOG_FULL,
		.role_port = 25,
		.no_user = true,
		.timeout = 3,
		.expect = "connect.port25_blocked", .expect_exit = 1,
	},
	{
		.name = "ports.only-2525",
		.desc = "25, 465 and 587 are dropped (Linode-style); 2525 works",
		.flags = LF_BACKLOG_FULL,
		.role_port = 587,
		.mailhost = "465=dropped,2525=starttls,25=dropped",
		.timeout = 3,
		.expect = "connect.timeout", .expect_exit = 1,
	},

	/* ---- greeting ---- */
	{
		.name = "greeting.timeout",
		.desc = "The server accepts the connection and never says a word",
		.flags = LF_SILENT,
		.timeout = 2,
		.expect = "greeting.timeout", .expect_exit = 1,
	},
	{
		.name = "greeting.not_smtp",
		.desc = "A web server sits on the mail port and answers in HTTP",
		.flags = LF_HTTP,
		.expect = "greeting.not_smtp", .expect_exit = 1,
	},
	{
		.name = "greeting.rejected",
		.desc = "Greeting 554: the server will not talk to this client",
		.replies = { { "GREETING", "554 5.7.1 " LAB_SERVERNAME " ESMTP "
			       "not accepting messages from your address" } },
		.expect = "greeting.rejected", .expect_exit = 1,
	},
	{
		.name = "greeting.busy",
		.desc = "The server greets with 421 Temporary failure, hangs up",
		.replies = { { "GREETING", "421 " LAB_SERVERNAME " Temporary "
			       "failure" } },
		.expect = "greeting.busy", .expect_exit = 1,
	},
	{
		.name = "session.rate_limited",
		.desc = "421 too many connections from you, hangs up",
		.replies = { { "GREETING", "421 4.7.0 " LAB_SERVERNAME " Error: "
			       "too many connections from 127.0.0.1" } },
		.expect = "session.rate_limited", .expect_exit = 1,
	},

	/* ---- TLS mode ---- */
	{
		.name = "tls.expected_implicit",
		.desc = "The port wants TLS at once; the client waits for a 220",
		.flags = LF_IMPLICIT,
		.tls = TLSM_STARTTLS,
		.timeout = 2,
		.expect = "tls.expected_implicit", .expect_exit = 1,
	},
	{
		.name = "tls.expected_starttls",
		.desc = "A plaintext SMTP port; the client starts TLS at once",
		.tls = TLSM_IMPLICIT,
		.expect = "tls.expected_starttls", .expect_exit = 1,
	},

	/* ---- EHLO and STARTTLS ---- */
	{
		.name = "ehlo.rejected",
		.desc = "EHLO is not understood, and HELO is refused with 550",
		.flags = LF_EHLO_REJECT,
		.replies = { { "HELO", "550 5.7.1 <client.smtpdx.lab>: Helo "
			       "command rejected: Access denied" } },
		.expect = "ehlo.rejected", .expect_exit = 1,
	},
	{
		.name = "starttls.not_offered",
		.desc = "The server does not offer STARTTLS",
		.flags = LF_NO_STARTTLS,
		.expect = "starttls.not_offered", .expect_exit = 1,
	},
	{
		.name = "starttls.refused",
		.desc = "STARTTLS is offered but fails: 454 TLS not available",
		.replies = { { "STARTTLS", "454 4.7.0 TLS not available due to "
			       "local problem" } },
		.expect = "starttls.refused", .expect_exit = 1,
	},
	{
		.name = "starttls.injection",
		.desc = "Plaintext replies ride along with STARTTLS's 220 (MitM)",
		.flags = LF_INJECT,
		.expect = "starttls.injection", .expect_exit = 1,
	},

	/* ---- TLS ---- */
	{
		.name = "tls.handshake_failed",
		.desc = "STARTTLS answered 220, then the connection closes",
		.flags = LF_TLS_CLOSE,
		.expect = "tls.handshake_failed", .expect_exit = 1,
	},
	{
		.name = "tls.version_mismatch",
		.desc = "Server TLS 1.0/1.1 only; the client wants 1.2+",
		.flags = LF_TLS_OLD,
		.expect = "tls.version_mismatch", .expect_exit = 1,
	},
	{
		.name = "tls.cert_untrusted",
		.desc = "The server shows a self-signed certificate",
		.cert = LC_SELF_SIGNED,
		.expect = "tls.cert_untrusted", .expect_exit = 1,
	},
	{
		.name = "tls.cert_hostname_mismatch",
		.desc = "The certificate names " LAB_OTHERNAME,
		.cert = LC_WRONG_NAME,
		.expect = "tls.cert_hostname_mismatch", .expect_exit = 1,
	},
	{
		.name = "tls.cert_expired",
		.desc = "The server's certificate expired a year ago",
		.cert = LC_EXPIRED,
		.expect = "tls.cert_expired", .expect_exit = 1,
	},
	{
		.name = "tls.cert_not_yet_valid",
		.desc = "The server's certificate only becomes valid next year",
		.cert = LC_NOT_YET_VALID,
		.expect = "tls.cert_not_yet_valid", .expect_exit = 1,
	},
	{
		.name = "tls.cert_wrong_purpose",
		.desc = "The server shows a client certificate (clientAuth only)",
		.cert = LC_CLIENT_ONLY,
		.expect = "tls.cert_wrong_purpose", .expect_exit = 1,
	},
	{
		.name = "tls.chain_incomplete",
		.desc = "The server leaves out its intermediate CA certificate",
		.cert = LC_NO_INTERMEDIATE,
		.expect = "tls.chain_incomplete", .expect_exit = 1,
	},
	{
		.name = "tls-weak-sha1",
		.desc = "The server's certificate is signed with SHA-1: refused",
		.cert = LC_SHA1,
		.expect = "tls.weak_key", .expect_exit = 1,
	},
	{
		.name = "tls.client_cert_required",
		.desc = "TLS 1.3 server that demands a client certificate",
		.tls_flags = LT_REQUIRE_CLIENT_CERT,
		.expect = "tls.client_cert_required", .expect_exit = 1,
	},
	{
		.name = "tls-client-cert-12",
		.desc = "TLS 1.2 (implicit) demanding a client certificate",
		.flags = LF_IMPLICIT,
		.tls_flags = LT_REQUIRE_CLIENT_CERT | LT_TLS12,
		.expect = "tls.client_cert_required", .expect_exit = 1,
	},
	{
		.name = "tls-client-cert-implicit",
		.desc = "Implicit TLS that demands a client certificate",
		.flags = LF_IMPLICIT,
		.tls_flags = LT_REQUIRE_CLIENT_CERT,
		.expect = "tls.client_cert_required", .expect_exit = 1,
	},
	{
		.name = "tls.server_error",
		.desc = "The server answers the TLS handshake with internal_error",
		.tls_flags = LT_INTERNAL_ERROR,
		.expect = "tls.server_error", .expect_exit = 1,
	},

	/* ---- AUTH ---- */
	{
		.name = "auth.not_offered",
		.desc = "The server offers no AUTH at all, even inside TLS",
		.flags = LF_NO_AUTH,
		.expect = "auth.not_offered", .expect_exit = 1,
	},
	{
		.name = "auth.requires_tls",
		.desc = "AUTH only after STARTTLS; the client stays plain",
		.tls = TLSM_NONE,
		.expect = "auth.requires_tls", .expect_exit = 1,
	},
	{
		.name = "auth.plaintext_refused",
		.desc = "AUTH offered without TLS; no password is sent",
		.flags = LF_AUTH_PLAIN_TOO,
		.tls = TLSM_NONE,
		.expect = "auth.plaintext_refused", .expect_exit = 1,
	},
	{
		.name = "auth.mech_unsupported",
		.desc = "The client wants XOAUTH2; the server has PLAIN, ...",
		.mech = AM_XOAUTH2,
		.expect = "auth.mech_unsupported", .expect_exit = 1,
	},
	{
		.name = "auth.oauth_token_rejected",
		.desc = "OAUTHBEARER, expired token: error JSON, then 535",
		.tls_flags = LT_OAUTH,
		.mech = AM_OAUTHBEARER,
		.password = "ya29.expired-token",
		.expect = "auth.oauth_token_rejected", .expect_exit = 1,
	},
	{
		.name = "auth-xoauth2-expired",
		.desc = "XOAUTH2, expired token: Google-style error in a 334, 535",
		.tls_flags = LT_OAUTH,
		.mech = AM_XOAUTH2,
		.password = "ya29.expired-token",
		.replies = { { "AUTH", "535-5.7.8 Username and Password not "
			       "accepted. For more information, go to\n535 5.7.8  "
			       "https://support.google.com/mail/?p=BadCredentials "
			       GMAIL_ID } },
		.expect = "auth.oauth_token_rejected", .expect_exit = 1,
	},
	{
		.name = "auth.failed",
		.desc = "The password is wrong: 535 5.7.8 authentication failed",
		.password = "wrong-password",
		.expect = "auth.failed", .expect_exit = 1,
	},
	{
		.name = "auth-user-form",
		.desc = "535 for the right password: the login is the full "
			"address",
		.tls_flags = LT_LOGIN_ADDRESS,
		.expect = "auth.failed", .expect_exit = 1,
	},
	{
		.name = "auth.app_password_required",
		.desc = "Gmail-style 534 5.7.9: an app password is needed",
		.replies = { { "AUTH", "534-5.7.9 Application-specific password "
			       "required. Learn more at\n534 5.7.9 "
			       "https://support.google.com/mail/"
			       "?p=InvalidSecondFactor " GMAIL_ID } },
		.expect = "auth.app_password_required", .expect_exit = 1,
	},
	{
		.name = "auth.disabled_for_account",
		.desc = "Microsoft 365-style 535 5.7.139: SMTP AUTH off",
		.replies = { { "AUTH", "535 5.7.139 Authentication unsuccessful, "
			       "SmtpClientAuthentication is disabled for the "
			       "Tenant. Visit https://aka.ms/smtp_auth_disabled "
			       "for more information. " M365_ID } },
		.expect = "auth.disabled_for_account", .expect_exit = 1,
	},
	{
		.name = "auth.temporary",
		.desc = "AUTH fails for now: 454 4.7.0 temporary failure",
		.replies = { { "AUTH", "454 4.7.0 Temporary authentication "
			       "failure" } },
		.expect = "auth.temporary", .expect_exit = 1,
	},

	/* ---- MAIL ---- */
	{
		.name = "mail.auth_required",
		.desc = "The client sends no AUTH; MAIL FROM gets 530",
		.flags = LF_REQUIRE_AUTH,
		.no_user = true,
		.expect = "mail.auth_required", .expect_exit = 1,
	},
	{
		.name = "mail.sender_rejected",
		.desc = "MAIL FROM is refused: 553 sender address rejected",
		.replies = { { "MAIL", "553 5.7.1 <" LAB_FROM ">: Sender address "
			       "rejected: Access denied" } },
		.expect = "mail.sender_rejected", .expect_exit = 1,
	},
	{
		.name = "mail.size_exceeded",
		.desc = "SIZE 200: the server takes 200 bytes at most",
		.flags = LF_SIZE_LIMIT,
		.expect = "mail.size_exceeded", .expect_exit = 1,
	},

	{
		.name = "mail.temporary",
		.desc = "MAIL FROM gets 451 4.3.0: not now, come back later",
		.replies = { { "MAIL", "451 4.3.0 <" LAB_FROM ">: Temporary "
			       "lookup failure" } },
		.expect = "mail.temporary", .expect_exit = 1,
	},
	{
		.name = "mail.requiretls_not_offered",
		.desc = "--requiretls; no REQUIRETLS offered inside TLS",
		.tls_flags = LT_NO_REQUIRETLS,
		.requiretls = true,
		.expect = "mail.requiretls_not_offered", .expect_exit = 1,
	},
	{
		.name = "mail.smtputf8_not_offered",
		.desc = "To jösé@...: no SMTPUTF8 offered, no mail sent",
		.tls_flags = LT_NO_SMTPUTF8,
		.to = "jösé@smtpdx.lab",
		.expect = "mail.smtputf8_not_offered", .expect_exit = 1,
	},
	{
		.name = "mail.dsn_not_offered",
		.desc = "--notify; no DSN offered: sent without it, a warning",
		.tls_flags = LT_NO_DSN,
		.notify = "SUCCESS,FAILURE",
		.expect = "mail.dsn_not_offered", .expect_exit = 0,
	},

	/* ---- RCPT ---- */
	{
		.name = "rcpt.temporary",
		.desc = "RCPT gets 450 4.1.1 unverified address",
		.replies = { { "RCPT", "450 4.1.1 <" LAB_TO ">: Recipient address "
			       "rejected: unverified address: Address "
			       "verification in progress" } },
		.expect = "rcpt.temporary", .expect_exit = 1,
	},
	{
		.name = "rcpt.domain_no_mail",
		.desc = "RCPT gets 556 5.1.10: the domain has a null MX",
		.to = "someone@nullmx.example",
		.replies = { { "RCPT", "556 5.1.10 <someone@nullmx.example>: "
			       "Recipient address rejected: Domain "
			       "nullmx.example does not accept mail (nullMX)" } },
		.reply_when = { "arg:nullmx.example" },
		.expect = "rcpt.domain_no_mail", .expect_exit = 1,
	},
	{
		.name = "rcpt.domain_not_found",
		.desc = "RCPT gets 450 4.1.2: the domain is not in DNS",
		.to = "someone@no-such-domain.invalid",
		.replies = { { "RCPT", "450 4.1.2 <someone@no-such-domain.invalid>: "
			       "Recipient address rejected: Domain not found" } },
		.reply_when = { "arg:no-such-domain.invalid" },
		.expect = "rcpt.domain_not_found", .expect_exit = 1,
	},
	{
		.name = "rcpt.mailbox_full",
		.desc = "RCPT gets Gmail's 452 4.2.2: inbox full",
		.replies = { { "RCPT", "452-4.2.2 The recipient's inbox is out of "
			       "storage space. Please direct the recipient to\n"
			       "452 4.2.2 https://support.google.com/mail/?p="
			       "OverQuotaTemp " GMAIL_ID } },
		.expect = "rcpt.mailbox_full", .expect_exit = 1,
	},
	{
		.name = "relay-no-reason",
		.desc = "No login, foreign domain: Haraka's 550 with no reason",
		.no_user = true,
		.to = "someone@example.org",
		.replies = { { "RCPT", "550 I cannot deliver mail for "
			       "<someone@example.org>" } },
		.reply_when = { "noauth" },
		.expect = "rcpt.relay_denied", .expect_exit = 1,
	},
	{
		.name = "own-no-reason",
		.desc = "The same 550 for the server's own domain",
		.no_user = true,
		.to = "nobody@smtpdx.lab",
		.replies = { { "RCPT", "550 I cannot deliver mail for "
			       "<nobody@smtpdx.lab>" } },
		.reply_when = { "arg:<nobody@" },
		.expect = "rcpt.unknown_user", .expect_exit = 1,
	},
	{
		.name = "rcpt.relay_denied",
		.desc = "Mail for another domain: 554 relay access denied",
		.to = "someone@example.org",
		.replies = { { "RCPT", "554 5.7.1 <someone@example.org>: Relay "
			       "access denied" } },
		.expect = "rcpt.relay_denied", .expect_exit = 1,
	},
	{
		.name = "rcpt.unknown_user",
		.desc = "The recipient does not exist: 550 5.1.1 user unknown",
		.to = "nobody@smtpdx.lab",
		.replies = { { "RCPT", "550 5.1.1 <nobody@smtpdx.lab>: Recipient "
			       "address rejected: User unknown in local "
			       "recipient table" } },
		.reply_when = { "arg:nobody@smtpdx.lab" },
		.expect = "rcpt.unknown_user", .expect_exit = 1,
	},
	{
		.name = "rcpt.greylisted",
		.desc = "The recipient is greylisted: 450 4.2.0, try again later",
		.replies = { { "RCPT", "450 4.2.0 <" LAB_TO ">: Recipient address "
			       "rejected: Greylisted, see "
			       "http://postgrey.schweikert.ch/help/smtpdx.lab.html" } },
		.expect = "rcpt.greylisted", .expect_exit = 1,
	},
	{
		.name = "rcpt.rejected",
		.desc = "The recipient is refused by policy: 550 5.7.1 access denied",
		.replies = { { "RCPT", "550 5.7.1 <" LAB_TO ">: Recipient address "
			       "rejected: Access denied" } },
		.expect = "rcpt.rejected", .expect_exit = 1,
	},

	/* ---- DATA ---- */
	{
		.name = "data.rejected",
		.desc = "The message is refused after its end: 554 content policy",
		.replies = { { "DOT", "554 5.7.1 Message rejected: content "
			       "policy" } },
		.expect = "data.rejected", .expect_exit = 1,
	},
	{
		.name = "data.temporary",
		.desc = "The message fails for now: 451 4.3.0 queue file write error",
		.replies = { { "DOT", "451 4.3.0 Error: queue file write error" } },
		.expect = "data.temporary", .expect_exit = 1,
	},
	{
		.name = "data.size_exceeded",
		.desc = "The message is refused after its end: 552 size limit",
		.replies = { { "DOT", "552 5.3.4 Message size exceeds fixed "
			       "limit" } },
		.expect = "data.size_exceeded", .expect_exit = 1,
	},

	/* ---- the session ---- */
	{
		.name = "session.closed",
		.desc = "The server hangs up without a word after MAIL FROM",
		.flags = LF_DROP_AFTER_MAIL,
		.expect = "session.closed", .expect_exit = 1,
	},
	{
		.name = "session.timeout",
		.desc = "The server answers EHLO, then never answers again",
		.flags = LF_HANG_AFTER_EHLO,
		.timeout = 2,
		.expect = "session.timeout", .expect_exit = 1,
	},
	{
		.name = "proto.malformed_reply",
		.desc = "The server answers EHLO with text that is not SMTP",
		.flags = LF_MALFORMED,
		.expect = "proto.malformed_reply", .expect_exit = 1,
	},
	{
		.name = "proto.sync_error",
		.desc = "An extra 250 line comes with the greeting, in one write",
		/* curl's test pattern: every later reply would be shifted */
		.replies = { { "GREETING", "220 " LAB_SERVERNAME " ESMTP smtpdx-lab\n"
			       "250 2.1.5 Ok" } },
		.expect = "proto.sync_error", .expect_exit = 1,
	},
	{
		.name = "proto.line_too_long",
		.desc = "EHLO answered by one 4 MiB line that never ends",
		.flags = LF_LONG_LINE,
		.expect = "proto.line_too_long", .expect_exit = 1,
	},

	/* ---- warnings: the session works ---- */
	{
		.name = "tls.weak_version",
		.desc = "Only TLS 1.1, the client allows it: a warning",
		.flags = LF_TLS_OLD,
		.tls_min = 10,
		.expect = "tls.weak_version", .expect_exit = 0,
	},
	{
		.name = "tls.weak_key",
		.desc = "The certificate has a 1024-bit RSA key: works, with a warning",
		.cert = LC_RSA1024,
		.expect = "tls.weak_key", .expect_exit = 0,
	},
	{
		.name = "auth.offered_in_plaintext",
		.desc = "AUTH offered before TLS too: a warning",
		.flags = LF_AUTH_PLAIN_TOO,
		.expect = "auth.offered_in_plaintext", .expect_exit = 0,
	},
	{
		.name = "port25.submission",
		.desc = "Submission with AUTH on port 25: a warning",
		.role_port = 25,
		.expect = "port25.submission", .expect_exit = 0,
	},

	/* ---- more of the wild ---- */
	{
		.name = "auth.web_login_required",
		.desc = "Gmail-style 534 5.7.14: sign in with a web browser first",
		.replies = { { "AUTH", "534-5.7.14 <https://accounts.google.com/"
			       "signin/continue?sarp=1&scc=1>\n"
			       "534-5.7.14 Please log in via your web browser "
			       "and\n534-5.7.14 then try again.\n"
			       "534 5.7.14 Learn more at https://support.google"
			       ".com/mail/answer/78754 " GMAIL_ID } },
		.expect = "auth.web_login_required", .expect_exit = 1,
	},
	{
		.name = "auth.basic_disabled",
		.desc = "Microsoft 365-style 535 5.7.139: basic auth is disabled",
		.replies = { { "AUTH", "535 5.7.139 Authentication unsuccessful, "
			       "basic authentication is disabled. " M365_ID } },
		.expect = "auth.basic_disabled", .expect_exit = 1,
	},
	{
		.name = "auth.server_error",
		.desc = "535 generic failure: the server's SASL backend is broken",
		.replies = { { "AUTH", "535 5.7.8 Error: authentication failed: "
			       "generic failure" } },
		.expect = "auth.server_error", .expect_exit = 1,
	},
	{
		.name = "auth.exchange_broken",
		.desc = "The server answers every AUTH line with another 334",
		.sasl_attack = LSA_ENDLESS,
		.mech = AM_PLAIN,
		.expect = "auth.exchange_broken", .expect_exit = 1,
	},
	{
		.name = "auth.server_unverified",
		.desc = "SCRAM: the server's signature is wrong (an impostor?)",
		.sasl_attack = LSA_BAD_SIG,
		.mech = AM_SCRAM_SHA_256,
		.expect = "auth.server_unverified", .expect_exit = 1,
	},
	{
		.name = "mail.tls_required",
		.desc = "MAIL FROM without TLS: 530 must issue STARTTLS first",
		.tls = TLSM_NONE,
		.no_user = true,
		.replies = { { "MAIL", "530 5.7.0 Must issue a STARTTLS command "
			       "first" } },
		.reply_when = { "plain" },
		.expect = "mail.tls_required", .expect_exit = 1,
	},
	{
		.name = "rcpt.sender_not_owned",
		.desc = "RCPT refused: the sender address is not owned by alice",
		.flags = LF_CHECK_SENDER,
		.from = "boss@smtpdx.lab",
		.expect = "rcpt.sender_not_owned", .expect_exit = 1,
	},
	{
		.name = "rcpt.helo_rejected",
		.desc = "RCPT refused for the HELO name: not fully qualified",
		.replies = { { "RCPT", "504 5.5.2 <client.smtpdx.lab>: Helo "
			       "command rejected: need fully-qualified "
			       "hostname" } },
		.expect = "rcpt.helo_rejected", .expect_exit = 1,
	},
	{
		.name = "rcpt.blocklisted",
		.desc = "RCPT refused: the client's address is on a DNS blocklist",
		.replies = { { "RCPT", "554 5.7.1 Service unavailable; Client host "
			       "[127.0.0.1] blocked using zen.spamhaus.org" } },
		.expect = "rcpt.blocklisted", .expect_exit = 1,
	},
	{
		.name = "data.send_as_denied",
		.desc = "Microsoft 365-style 550 5.7.60: not as this sender",
		.replies = { { "DOT", "550 5.7.60 SMTP; Client does not have "
			       "permissions to send as this sender" } },
		.expect = "data.send_as_denied", .expect_exit = 1,
	},
	{
		.name = "ehlo.helo_fallback",
		.desc = "EHLO refused, HELO works: old SMTP, a warning",
		.flags = LF_EHLO_REJECT,
		.tls = TLSM_NONE,
		.no_user = true,
		.expect = "ehlo.helo_fallback", .expect_exit = 0,
	},
	{
		.name = "proto.reply_too_long",
		.desc = "The server answers EHLO with a reply of 1001 lines",
		.flags = LF_MANY_LINES,
		.expect = "proto.reply_too_long", .expect_exit = 1,
	},
	{
		.name = "starttls.unexpected_data",
		.desc = "TLS-like bytes come with STARTTLS's 220",
		.flags = LF_TLS_GARBAGE,
		.expect = "starttls.unexpected_data", .expect_exit = 1,
	},
	{
		.name = "hostile-escapes",
		.desc = "Replies hold terminal escapes, a NUL, bad UTF-8; all else works",
		.flags = LF_ESCAPES,
	},
	{
		.name = "hostile-trickle",
		.desc = "The greeting comes one byte a second, too slow to wait for",
		.flags = LF_TRICKLE,
		.timeout = 2,
		.expect = "greeting.timeout", .expect_exit = 1,
	},
	{
		.name = "hostile-drop",
		.desc = "The server hangs up in the middle of its EHLO reply",
		.flags = LF_DROP_MID_REPLY,
		.expect = "session.closed", .expect_exit = 1,
	},
	{
		.name = "hostile-escapes-all",
		.desc = "Escapes, NUL, bad UTF-8 in every reply: all works",
		.flags = LF_ESCAPES_ALL,
	},
	{
		.name = "hostile-trickle-mid",
		.desc = "Inside TLS the answer to MAIL comes one byte a second",
		.flags = LF_TRICKLE_MAIL,
		.timeout = 2,
		.expect = "session.timeout", .expect_exit = 1,
	},
	{
		.name = "hostile-endless-line",
		.desc = "The greeting is one line that never ends",
		.flags = LF_ENDLESS_LINE,
		.expect = "proto.line_too_long", .expect_exit = 1,
	},
	{
		.name = "hostile-endless-reply",
		.desc = "MAIL answered by '451-' lines without end",
		.flags = LF_ENDLESS_CONT,
		.expect = "proto.reply_too_long", .expect_exit = 1,
	},
	{
		.name = "hostile-4xx-flood",
		.desc = "EHLO is answered by 451 replies, unasked and without end",
		.flags = LF_FLOOD_4XX,
		.expect = "ehlo.rejected", .expect_exit = 1,
	},
	{
		.name = "hostile-drop-tls",
		.desc = "Inside TLS, a hang-up half-way through a reply",
		.flags = LF_DROP_MID_TLS,
		.expect = "session.closed", .expect_exit = 1,
	},
	{
		.name = "hostile-renegotiate",
		.desc = "Inside TLS 1.2, EHLO answered by HelloRequests",
		.tls_flags = LT_TLS12 | LT_RENEGOTIATE,
		.expect = "session.closed", .expect_exit = 1,
	},
	{
		.name = "hostile-empty-records",
		.desc = "Inside TLS 1.3, EHLO answered by empty records",
		.tls_flags = LT_EMPTY_RECORDS,
		.expect = "session.timeout", .expect_exit = 1,
	},
};

const struct lab_scenario *
lab_scenarios(size_t *n)
{
	*n = ARRAY_SIZE(scenarios);
	return scenarios;
}

/* NULL: "ok", the default. */
const struct lab_scenario *
lab_find(const char *name)
{
	if (!name)
		name = "ok";
	for (size_t i = 0; i < ARRAY_SIZE(scenarios); i++)
		if (strcmp(scenarios[i].name, name) == 0)
			return &scenarios[i];
	return NULL;
}

/* ---- stages, for --lab list, --lab handout and the picker --------------- */

static const struct {
	const char *id, *title;
} stages[] = {
	{ "healthy", "Healthy servers" },
	{ "connect", "Resolve and connect" },
	{ "greeting", "Greeting" },
	{ "tls-mode", "TLS mode" },
	{ "ehlo", "EHLO" },
	{ "starttls", "STARTTLS" },
	{ "tls", "TLS and certificates" },
	{ "auth", "AUTH" },
	{ "mail", "MAIL FROM" },
	{ "rcpt", "RCPT TO" },
	{ "data", "DATA" },
	{ "session", "The whole session" },
	{ "warnings", "Works, with a warning" },
	{ "hostile", "Hostile servers" },
};

const char *
lab_stage(const struct lab_scenario *sc)
{
	if (!strncmp(sc->name, "hostile", 7))
		return "hostile";
	if (!sc->expect)
		return "healthy";
	if (!strncmp(sc->expect, "tls.expected_", 13))
		return "tls-mode";
	int d = diag_from_id(sc->expect);
	if (d < 0)
		return "session";
	const struct diag_info *di = diag_info((enum diag_id)d);
	if (di->sev == SEV_WARNING)
		return "warnings";
	switch (di->step) {
	case STEP_RESOLVE:
	case STEP_CONNECT: return "connect";
	case STEP_GREETING: return "greeting";
	case STEP_EHLO:
	case STEP_EHLO_TLS: return "ehlo";
	case STEP_STARTTLS: return "starttls";
	case STEP_TLS: return "tls";
	case STEP_AUTH: return "auth";
	case STEP_MAIL: return "mail";
	case STEP_RCPT: return "rcpt";
	case STEP_DATA: return "data";
	default: return "session";
	}
}

const char *
lab_stage_title(const char *stage)
{
	for (size_t i = 0; i < ARRAY_SIZE(stages); i++)
		if (!strcmp(stages[i].id, stage))
			return stages[i].title;
	return stage;
}

size_t
lab_ordered(const struct lab_scenario **out, size_t max)
{
	size_t k = 0;
	for (size_t s = 0; s < ARRAY_SIZE(stages); s++)
		for (size_t i = 0; i < ARRAY_SIZE(scenarios) && k < max; i++)
			if (!strcmp(lab_stage(&scenarios[i]), stages[s].id))
				out[k++] = &scenarios[i];
	return k;
}

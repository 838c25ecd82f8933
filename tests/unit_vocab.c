/*
 * unit_vocab.c - included by unit.c: real reply lines from real servers,
 * each with the session's facts and the diagnosis it must get; the
 * reply-text table (src/vocab.def); and the honesty of the tree's paths:
 * every answer a path records is checked against the facts by an oracle
 * written from the node's question, independently of the tree.
 */
#include <ctype.h>

/* Session facts of a corpus line. */
enum {
	VF_LOGIN = 1,		/* the session logged in (235 seen) */
	VF_AUTH = 2,		/* the server offered AUTH */
	VF_OWN = 4,		/* recipient in the server's own domain */
	VF_PLAIN = 8,		/* no TLS */
	VF_NOFROM = 16,		/* no --from: smtpdx's default sender */
	VF_UTF8TO = 32,		/* a non-ASCII recipient (bøb@) */
	VF_UTF8FROM = 64,	/* a non-ASCII sender (ålice@) */
	VF_SMTPUTF8 = 128,	/* the server offered SMTPUTF8 */
	VF_HELLO500 = 256,	/* EHLO got 500/502 before this reply to HELO */
};

struct vcase {
	const char *server;	/* whose words */
	int step;
	const char *line;	/* the reply as sent; "\n" between lines */
	unsigned facts;		/* VF_* */
	const char *want;
	const char *source;	/* where the line comes from */
};

#define NOLOGIN_OFFERED	VF_AUTH
#define LOGGED_IN	(VF_LOGIN | VF_AUTH)

static const struct vcase vcases[] = {
	/* ---- Postfix ---- */
	{ "Postfix", STEP_RCPT, "554 5.7.1 <bob@example.org>: Relay access denied",
	  NOLOGIN_OFFERED, "rcpt.relay_denied", "smtpd_check.c:1772" },
	{ "Postfix", STEP_RCPT, "554 5.7.1 <bob@example.org>: Relay access denied",
	  LOGGED_IN, "rcpt.relay_denied", "smtpd_check.c:1772" },
	{ "Postfix", STEP_RCPT, "454 4.7.1 <bob@example.org>: Relay access denied",
	  NOLOGIN_OFFERED, "rcpt.relay_denied", "defer_unauth_destination" },
	{ "Postfix", STEP_RCPT, "550 5.1.1 <bob@example.com>: Recipient address "
	  "rejected: User unknown in local recipient table", VF_OWN,
	  "rcpt.unknown_user", "smtpd_check.c:5421" },
	{ "Postfix", STEP_RCPT, "554 5.7.1 <bob@example.org>: Recipient address "
	  "rejected: Access denied", NOLOGIN_OFFERED, "mail.auth_required",
	  "smtpd_check.c:4307, submission without a login" },
	{ "Postfix", STEP_RCPT, "554 5.7.1 <bob@example.org>: Recipient address "
	  "rejected: Access denied", LOGGED_IN, "rcpt.rejected",
	  "smtpd_check.c:4307, a 'reject' that a login does not lift" },
	{ "Postfix", STEP_RCPT, "450 4.1.1 <bob@example.com>: Recipient address "
	  "rejected: unverified address: host mx.example.com[192.0.2.1] said: 550 "
	  "5.1.1 User unknown", VF_OWN | LOGGED_IN, "rcpt.temporary",
	  "smtpd_check.c:2293" },
	{ "Postfix", STEP_RCPT, "450 4.1.2 <bob@nosuch.example>: Recipient address "
	  "rejected: Domain not found", LOGGED_IN, "rcpt.domain_not_found",
	  "smtpd_check.c:1597" },
	{ "Postfix", STEP_RCPT, "556 5.1.10 <bob@nullmx.example>: Recipient address "
	  "rejected: Domain nullmx.example does not accept mail (nullMX)",
	  LOGGED_IN, "rcpt.domain_no_mail", "smtpd_check.c:1581" },
	{ "Postfix", STEP_RCPT, "450 4.1.8 <alice@example.com>: Sender address "
	  "rejected: Domain not found", LOGGED_IN, "mail.sender_rejected",
	  "smtpd_check.c:1597" },
	{ "Postfix", STEP_RCPT, "553 5.7.1 <alice@example.com>: Sender address "
	  "rejected: not owned by user carol", LOGGED_IN, "rcpt.sender_not_owned",
	  "smtpd_check.c:3966" },
	{ "Postfix", STEP_RCPT, "553 5.7.1 <alice@example.com>: Sender address "
	  "rejected: not logged in", NOLOGIN_OFFERED, "rcpt.sender_not_owned",
	  "smtpd_check.c:3989" },
	{ "Postfix", STEP_RCPT, "450 4.7.25 Client host rejected: cannot find your "
	  "hostname, [192.0.2.10]", NOLOGIN_OFFERED, "rcpt.client_host_rejected",
	  "smtpd_check.c:1289" },
	{ "Postfix", STEP_RCPT, "450 4.7.1 Error: too many recipients from "
	  "192.0.2.10", LOGGED_IN, "session.rate_limited", "smtpd.c:3098" },
	{ "Postfix", STEP_MAIL, "450 4.7.1 Error: too much mail from 192.0.2.10",
	  LOGGED_IN, "session.rate_limited", "smtpd.c:2683" },
	{ "Postfix", STEP_GREETING, "421 4.7.0 mail.example.com Error: too many "
	  "connections from 192.0.2.10", 0, "session.rate_limited", "smtpd.c:6017" },
	{ "Postfix", STEP_MAIL, "452 4.3.1 Insufficient system storage", LOGGED_IN,
	  "mail.size_exceeded", "smtpd_check.c:5529" },
	{ "Postfix", STEP_MAIL, "451 4.3.0 <alice@example.com>: Temporary lookup "
	  "failure", LOGGED_IN, "mail.temporary", "smtpd_check.c:1226" },
	{ "Postfix", STEP_MAIL, "530 5.7.0 Must issue a STARTTLS command first",
	  VF_PLAIN, "mail.tls_required", "smtpd.c:6236" },
	{ "Postfix", STEP_DATA, "552 5.3.4 Message size exceeds fixed limit",
	  LOGGED_IN, "data.size_exceeded", "smtpd_check.c:5490" },
	{ "Postfix", STEP_RCPT, "421 4.7.0 mail.example.com Error: too many errors",
	  0, "session.too_many_errors", "smtpd.c:6126" },
	{ "Postfix", STEP_GREETING, "554 5.5.0 Error: SMTP protocol synchronization",
	  0, "proto.sync_error", "smtpd.c:5989" },
	{ "Postfix", STEP_RCPT, "504 5.5.2 <localhost>: Helo command rejected: need "
	  "fully-qualified hostname", NOLOGIN_OFFERED, "rcpt.helo_rejected",
	  "FIELD-NOTES #25" },

	/* ---- Exim ---- */
	{ "Exim", STEP_RCPT, "550 relay not permitted", NOLOGIN_OFFERED,
	  "rcpt.relay_denied", "configure.default:515" },
	{ "Exim", STEP_RCPT, "550 relay not permitted", 0, "rcpt.relay_denied",
	  "configure.default:515, port 25 without AUTH" },
	{ "Exim", STEP_RCPT, "550 Unrouteable address", NOLOGIN_OFFERED,
	  "rcpt.relay_denied", "route.c:1914, a foreign domain" },
	{ "Exim", STEP_RCPT, "550 Unrouteable address", VF_OWN | NOLOGIN_OFFERED,
	  "rcpt.unknown_user", "route.c:1914, the server's own domain" },
	{ "Exim", STEP_RCPT, "550 Unrouteable address", VF_OWN | LOGGED_IN,
	  "rcpt.unknown_user", "route.c:1914, logged in, own domain" },
	{ "Exim", STEP_RCPT, "550 Unknown user", VF_OWN, "rcpt.unknown_user",
	  "configure.default:808" },
	{ "Exim", STEP_MAIL, "550 Sender rate overlimit - 290.8 / 24h", LOGGED_IN,
	  "session.rate_limited", "cPanel Exim ACL, help.reg.ru" },
	{ "Exim", STEP_MAIL, "451 Sender rate overlimit - 51.3 / 1h", LOGGED_IN,
	  "session.rate_limited", "issue 9" },
	{ "Exim", STEP_GREETING, "421 Too many concurrent SMTP connections from this "
	  "IP address; please try again later.", 0, "session.rate_limited",
	  "daemon.c:345" },
	{ "Exim", STEP_GREETING, "554 SMTP synchronization error", 0,
	  "proto.sync_error", "smtp_in.c:2837" },
	{ "Exim", STEP_DATA, "552 Message size exceeds maximum permitted",
	  LOGGED_IN, "data.size_exceeded", "receive.c:3342" },

	/* ---- Sendmail ---- */
	{ "Sendmail", STEP_RCPT, "550 5.7.1 <bob@example.org>... Relaying denied. "
	  "Proper authentication required.", NOLOGIN_OFFERED, "rcpt.relay_denied",
	  "cf/m4/proto.m4 confRELAY_MSG" },
	{ "Sendmail", STEP_RCPT, "550 5.1.1 <bob@example.com>... User unknown",
	  VF_OWN, "rcpt.unknown_user", "sisimai test data" },
	{ "Sendmail", STEP_GREETING, "421 4.3.2 Connection rate limit exceeded.", 0,
	  "session.rate_limited", "ratectrl" },

	/* ---- OpenSMTPD ---- */
	{ "OpenSMTPD", STEP_RCPT, "550 Invalid recipient: <bob@example.org>",
	  NOLOGIN_OFFERED, "rcpt.relay_denied", "lka_session.c:220, foreign" },
	{ "OpenSMTPD", STEP_RCPT, "550 Invalid recipient: <bob@example.com>",
	  VF_OWN | NOLOGIN_OFFERED, "rcpt.unknown_user", "lka_session.c:220, own" },
	{ "OpenSMTPD", STEP_RCPT, "550 Invalid recipient: <bob@example.org>",
	  LOGGED_IN, "rcpt.relay_denied", "lka_session.c:220, no relay rule" },
	{ "OpenSMTPD", STEP_RCPT, "451 Temporary failure: <bob@example.com>",
	  VF_OWN, "rcpt.temporary", "lka_session.c:222" },
	{ "OpenSMTPD", STEP_MAIL, "530 5.5.1 Invalid command: Must issue an AUTH "
	  "command first", NOLOGIN_OFFERED, "mail.auth_required",
	  "smtp_session.c:1570" },
	{ "OpenSMTPD", STEP_MAIL, "452 4.5.3 Too many recipients: Too many messages "
	  "sent", LOGGED_IN, "session.rate_limited", "smtp_session.c:1578" },
	{ "OpenSMTPD", STEP_DATA, "554 5.3.4 Message too big for system: "
	  "Transaction failed, message too big", LOGGED_IN, "data.size_exceeded",
	  "smtp_session.c:2849" },
	{ "OpenSMTPD", STEP_GREETING, "421 mail.example.com Temporary failure", 0,
	  "greeting.busy", "smtp_session.c:894" },

	/* ---- Haraka ---- */
	{ "Haraka", STEP_RCPT, "550 I cannot deliver mail for <bob@example.org>",
	  NOLOGIN_OFFERED, "rcpt.relay_denied", "connection.js:1129, foreign" },
	{ "Haraka", STEP_RCPT, "550 I cannot deliver mail for <bob@example.com>",
	  VF_OWN | NOLOGIN_OFFERED, "rcpt.unknown_user", "connection.js:1129, own" },
	{ "Haraka", STEP_RCPT, "550 I cannot deliver mail for <bob@example.org>", 0,
	  "rcpt.relay_denied", "connection.js:1129, port 25 without AUTH" },
	{ "Haraka", STEP_RCPT, "450 recipient <bob@example.com> denied", VF_OWN,
	  "rcpt.temporary", "connection.js:1109 (denysoft)" },
	{ "Haraka", STEP_GREETING, "421 Come back later", 0, "greeting.busy",
	  "connection.js:778" },

	/* ---- qmail / netqmail ---- */
	{ "qmail", STEP_RCPT, "553 sorry, that domain isn't in my list of allowed "
	  "rcpthosts (#5.7.1)", NOLOGIN_OFFERED, "rcpt.relay_denied",
	  "qmail-smtpd.c err_nogateway" },
	{ "qmail", STEP_DATA, "552 sorry, that message size exceeds my databytes "
	  "limit (#5.3.4)", 0, "data.size_exceeded", "qmail-smtpd.c err_size" },
	{ "qmail", STEP_DATA, "451 qq temporary problem (#4.3.0)", 0,
	  "data.temporary", "qmail-smtpd.c qqx" },

	/* ---- Courier ---- */
	{ "Courier", STEP_RCPT, "513 Relaying denied.", NOLOGIN_OFFERED,
	  "rcpt.relay_denied", "courier tests, couriertcpd acceptmailfor" },
	{ "Courier", STEP_RCPT, "550 User unknown.", VF_OWN, "rcpt.unknown_user",
	  "courierlocal" },

	/* ---- Exchange / Microsoft 365 ---- */
	{ "Microsoft 365", STEP_RCPT, "550 5.7.54 SMTP; Unable to relay recipient "
	  "in non-accepted domain", LOGGED_IN, "rcpt.relay_denied", "NDR 5.7.54" },
	{ "Microsoft 365", STEP_RCPT, "550 5.1.10 RESOLVER.ADR.RecipientNotFound; "
	  "Recipient not found by SMTP address lookup", VF_OWN,
	  "rcpt.unknown_user", "NDR 5.1.10" },
	{ "Microsoft 365", STEP_RCPT, "550 5.4.1 Recipient address rejected: Access "
	  "denied. AS(201806281)", VF_OWN | NOLOGIN_OFFERED, "rcpt.unknown_user",
	  "NDR 5.4.1, directory-based edge blocking" },
	{ "Microsoft 365", STEP_MAIL, "530 5.7.57 Client not authenticated to send "
	  "mail", NOLOGIN_OFFERED, "mail.auth_required", "FIELD-NOTES #10" },
	{ "Microsoft 365", STEP_MAIL, "451 5.7.3 STARTTLS is required to send mail "
	  "[AM0PR02CA0001.eurprd02.prod.outlook.com]", VF_PLAIN,
	  "mail.tls_required", "FIELD-NOTES #5" },
	{ "Microsoft 365", STEP_DATA, "550 5.7.60 SMTP; Client does not have "
	  "permissions to send as this sender", LOGGED_IN, "data.send_as_denied",
	  "FIELD-NOTES #11" },
	{ "Microsoft 365", STEP_RCPT, "451 4.7.500 Server busy. Please try again "
	  "later from [192.0.2.10]. (S77714)", LOGGED_IN, "session.rate_limited",
	  "NDR 4.7.500-699" },
	{ "Microsoft 365", STEP_MAIL, "421 4.7.66 TLS 1.0 and 1.1 are not "
	  "supported. Please upgrade/update your client to support TLS 1.2.", 0,
	  "tls.version_mismatch", "FIELD-NOTES #12" },

	/* ---- Gmail / Workspace ---- */
	{ "Gmail", STEP_RCPT, "550-5.1.1 The email account that you tried to reach "
	  "does not exist. Please try\n550 5.1.1 double-checking the recipient's "
	  "email address for typos or", VF_OWN, "rcpt.unknown_user",
	  "support.google.com/mail/answer/3726730" },
	{ "Gmail", STEP_RCPT, "452-4.2.2 The recipient's inbox is out of storage "
	  "space. Please direct the\n452 4.2.2 recipient to", VF_OWN,
	  "rcpt.mailbox_full", "answer/3726730" },
	{ "Gmail", STEP_RCPT, "450-4.2.1 The user you are trying to contact is "
	  "receiving mail at a rate that\n450 4.2.1 prevents additional messages "
	  "from being delivered.", VF_OWN, "session.rate_limited",
	  "answer/3726730" },
	{ "Gmail", STEP_DATA, "421-4.7.28 Our system has detected an unusual rate "
	  "of unsolicited mail\n421 4.7.28 originating from your IP address.", 0,
	  "session.rate_limited", "answer/3726730" },
	{ "Gmail", STEP_DATA, "550-5.7.26 This mail is unauthenticated, which poses "
	  "a security risk to the\n550 5.7.26 sender and Gmail users", 0,
	  "data.unauthenticated", "answer/3726730" },
	{ "Gmail", STEP_RCPT, "553 5.1.2 We weren't able to find the recipient "
	  "domain. Please check for any", 0, "rcpt.domain_not_found",
	  "answer/3726730" },
	{ "Gmail", STEP_MAIL, "530-5.7.0 Authentication Required. Learn more at\n530 "
	  "5.7.0 https://support.google.com/mail/?p=WantAuthError", NOLOGIN_OFFERED,
	  "mail.auth_required", "PROVIDERS.md [GM6]" },
	{ "Gmail", STEP_DATA, "552-5.2.3 Your message exceeded Google's message size "
	  "limits.", LOGGED_IN, "data.size_exceeded", "FIELD-NOTES #30" },

	/* ---- Yahoo ---- */
	{ "Yahoo", STEP_RCPT, "421 4.7.0 [TSS04] Messages from 192.0.2.10 "
	  "temporarily deferred due to unexpected volume or user complaints", 0,
	  "session.rate_limited", "senders.yahooinc.com/smtp-error-codes" },
	{ "Yahoo", STEP_RCPT, "554 delivery error: dd This user doesn't have a "
	  "yahoo.com account (bob@yahoo.com) [0]", 0, "rcpt.unknown_user",
	  "senders.yahooinc.com/smtp-error-codes" },
	{ "Yahoo", STEP_GREETING, "553 5.7.1 [BL21] Connections will not be accepted "
	  "from 192.0.2.10, because the ip is in Spamhaus's list", 0,
	  "greeting.rejected", "senders.yahooinc.com/smtp-error-codes" },

	/* ---- iCloud ---- */
	{ "iCloud", STEP_DATA, "554 5.7.1 [HM08] Message rejected due to local "
	  "policy. Please visit https://support.apple.com/en-us/HT204137", 0,
	  "data.rejected", "support.apple.com/en-us/HT204137" },

	/* ---- Amazon SES ---- */
	{ "Amazon SES", STEP_DATA, "554 Message rejected: Email address is not "
	  "verified. The following identities failed the check in region "
	  "US-EAST-1: alice@example.com", LOGGED_IN, "data.identity_unverified",
	  "PROVIDERS.md [SES3]" },
	{ "Amazon SES", STEP_MAIL, "454 Throttling failure: Maximum sending rate "
	  "exceeded.", LOGGED_IN, "session.rate_limited", "PROVIDERS.md [SES4]" },
	{ "Amazon SES", STEP_MAIL, "530 Must issue a STARTTLS command first",
	  VF_PLAIN, "mail.tls_required", "PROVIDERS.md [SES7]" },
	{ "Amazon SES", STEP_MAIL, "530 Authentication required", NOLOGIN_OFFERED,
	  "mail.auth_required", "PROVIDERS.md [SES5]" },

	/* ---- SendGrid ---- */
	{ "SendGrid", STEP_MAIL, "550 Unauthenticated senders not allowed",
	  NOLOGIN_OFFERED, "mail.auth_required", "PROVIDERS.md [SG3]" },
	{ "SendGrid", STEP_DATA, "421 Message from (192.0.2.10) temporarily "
	  "deferred", LOGGED_IN, "session.rate_limited", "PROVIDERS.md [SG2]" },
	{ "SendGrid", STEP_MAIL, "403 You are not authorized to send from that "
	  "email address", LOGGED_IN, "mail.sender_rejected", "PROVIDERS.md [SG2]" },

	/* ---- Mailgun ---- */
	{ "Mailgun", STEP_RCPT, "550 5.7.1 Relaying denied", LOGGED_IN,
	  "rcpt.relay_denied", "axllent/mailpit#337" },

	/* ---- Zimbra (its MTA is Postfix) and Zoho ---- */
	{ "Zimbra", STEP_RCPT, "553 5.7.1 <alice@example.com>: Sender address "
	  "rejected: not owned by user carol@example.com", LOGGED_IN,
	  "rcpt.sender_not_owned", "Zimbra admin guide, MTA = Postfix" },
	{ "Zimbra", STEP_RCPT, "554 5.7.1 <bob@example.org>: Relay access denied",
	  NOLOGIN_OFFERED, "rcpt.relay_denied", "Zimbra admin guide" },
	{ "Zoho", STEP_RCPT, "553 Relaying disallowed as alice@example.com",
	  LOGGED_IN, "rcpt.sender_not_owned", "PROVIDERS.md [ZO2]" },

	/* ---- Dovecot submission ---- */
	{ "Dovecot", STEP_MAIL, "530 5.7.0 Authentication required.",
	  NOLOGIN_OFFERED, "mail.auth_required", "smtp-server-command.c:268" },
	{ "Dovecot", STEP_RCPT, "451 4.4.0 Failed to connect to relay server",
	  LOGGED_IN, "rcpt.temporary", "submission-backend.c" },
	{ "Dovecot", STEP_MAIL, "554 5.7.1 Access denied (anonymous user)",
	  NOLOGIN_OFFERED, "mail.auth_required", "submission-commands.c:150" },
	{ "Dovecot", STEP_DATA, "552 5.2.3 Message size exceeds administrative "
	  "limit", LOGGED_IN, "data.size_exceeded", "smtp-server-cmd-mail.c:171" },

	/* ---- aiosmtpd ---- */
	{ "aiosmtpd", STEP_MAIL, "530 5.7.0 Authentication required", NOLOGIN_OFFERED,
	  "mail.auth_required", "smtp.py:820" },
	{ "aiosmtpd", STEP_MAIL, "530 Must issue a STARTTLS command first", VF_PLAIN,
	  "mail.tls_required", "smtp.py:724" },
	{ "aiosmtpd", STEP_RCPT, "550 not relaying to that domain", 0,
	  "rcpt.relay_denied", "docs/controller.rst:51" },
	{ "aiosmtpd", STEP_MAIL, "552 Error: message size exceeds fixed maximum "
	  "message size", 0, "mail.size_exceeded", "smtp.py:1328" },
	{ "aiosmtpd", STEP_MAIL, "553 5.1.3 Error: malformed address", 0,
	  "mail.sender_rejected", "smtp.py:1289" },

	/* ---- Nodemailer smtp-server (lib/smtp-connection.js, 3.18.0): with
	 * enhanced codes on, the library puts one on every reply by number
	 * alone (550 -> 5.1.1, 552 -> 5.2.2), whatever the app's words ---- */
	{ "smtp-server", STEP_RCPT, "550 5.1.1 Relay access denied",
	  NOLOGIN_OFFERED, "rcpt.relay_denied",
	  "onRcptTo new Error(), ENHANCED_STATUS_CODES[550]" },
	{ "smtp-server", STEP_RCPT, "550 5.1.1 Error: authentication Required",
	  NOLOGIN_OFFERED, "mail.auth_required", "an app's onRcptTo, 550 -> 5.1.1" },
	{ "smtp-server", STEP_RCPT, "550 5.1.1 Not accepted", VF_OWN | LOGGED_IN,
	  "rcpt.unknown_user", "examples/server.js:81, 550 -> 5.1.1" },
	{ "smtp-server", STEP_RCPT, "550 Relay access denied", NOLOGIN_OFFERED,
	  "rcpt.relay_denied", "onRcptTo new Error(), enhanced codes off" },
	{ "smtp-server", STEP_MAIL, "530 Error: authentication Required",
	  NOLOGIN_OFFERED, "mail.auth_required", "smtp-connection.js:633" },
	{ "smtp-server", STEP_MAIL, "552 Error: message exceeds fixed maximum "
	  "message size 200", LOGGED_IN, "mail.size_exceeded",
	  "smtp-connection.js:1582" },
	{ "smtp-server", STEP_DATA, "552 5.2.2 Error: message exceeds fixed "
	  "maximum message size 10 MB", LOGGED_IN, "data.size_exceeded",
	  "examples/server.js:100" },
	{ "smtp-server", STEP_AUTH, "538 Error: Must issue a STARTTLS command first",
	  VF_PLAIN | VF_AUTH, "auth.requires_tls", "smtp-connection.js:1448" },
	/* 552 after the message: RFC 1870's size refusal, unless full */
	{ "generic", STEP_DATA, "552 Requested mail action aborted: exceeded "
	  "storage allocation", LOGGED_IN, "data.size_exceeded",
	  "RFC 5321 §4.2.2 text for 552" },
	{ "Dovecot", STEP_DATA, "552 5.2.2 <bob@example.com> Quota exceeded "
	  "(mailbox for user is full)", VF_OWN | LOGGED_IN, "rcpt.mailbox_full",
	  "quota plugin quota_exceeded_message, LMTP after DATA" },
	{ "Gmail", STEP_DATA, "552-5.7.0 This message was blocked because its "
	  "content presents a potential\n552-5.7.0 security issue.", LOGGED_IN,
	  "data.rejected", "support.google.com/mail/answer/6590 (5.7.0 is "
	  "content, not size)" },

	{ "aiosmtpd", STEP_EHLO_TLS, "421 4.7.0 EHLO sent too many times", 0,
	  "session.command_limit", "smtp.py:722 (command_call_limit)" },
	{ "aiosmtpd", STEP_RCPT, "421 4.7.0 RCPT sent too many times", LOGGED_IN,
	  "session.command_limit", "smtp.py:722 (command_call_limit)" },

	/* ---- Exim sender verification (acl.c), at RCPT: the lines are
	 * about the sender, "Unrouteable address" included ---- */
	{ "Exim", STEP_RCPT, "550-Verification failed for <alice@example.com>\n"
	  "550-Unrouteable address\n550 Sender verify failed", VF_OWN | LOGGED_IN,
	  "mail.sender_rejected", "acl.c (verify = sender), interop exim" },
	{ "Exim", STEP_RCPT, "550-Verification failed for <alice@example.com>\n"
	  "550-Unrouteable address\n550 Sender verify failed", NOLOGIN_OFFERED,
	  "mail.sender_rejected", "acl.c (verify = sender), foreign recipient" },
	{ "Exim", STEP_RCPT, "550-rejected because 192.0.2.10 is in a black list "
	  "at bl.spamcop.net\n550 Blocked - see https://www.spamcop.net/bl.shtml"
	  "?192.0.2.10", VF_OWN, "rcpt.blocklisted",
	  "configure.default dnslists message" },
	{ "Exim", STEP_RCPT, "550 Administrative prohibition", VF_OWN | LOGGED_IN,
	  "rcpt.rejected", "acl.c, a deny without a message" },

	/* ---- EHLO and HELO unknown: an LMTP port (RFC 2033) ---- */
	{ "smtp-server", STEP_EHLO, "500 Error: HELO not allowed in LMTP server",
	  VF_HELLO500, "ehlo.not_understood", "smtp-connection.js:587 (lmtp: true)" },
	{ "aiosmtpd", STEP_EHLO, "500 Error: command \"HELO\" not recognized",
	  VF_HELLO500, "ehlo.not_understood", "smtp.py:745, aiosmtpd.lmtp.LMTP" },
	{ "Postfix", STEP_EHLO, "501 5.5.2 <localhost>: Helo command rejected: "
	  "need fully-qualified hostname", VF_HELLO500, "ehlo.rejected",
	  "a name refused after EHLO's 500: not 'unknown'" },

	/* ---- a non-ASCII address, no SMTPUTF8 in EHLO (RFC 6531) ---- */
	{ "aiosmtpd", STEP_RCPT, "500 Error: strict ASCII mode",
	  VF_UTF8TO | VF_OWN | LOGGED_IN, "rcpt.smtputf8_required",
	  "smtp.py:693 (enable_SMTPUTF8=False)" },
	{ "aiosmtpd", STEP_MAIL, "500 Error: strict ASCII mode",
	  VF_UTF8FROM | LOGGED_IN, "mail.smtputf8_required",
	  "smtp.py:693 (enable_SMTPUTF8=False)" },
	{ "Postfix", STEP_RCPT, "550 5.1.1 <b\xc3\xb8" "b@example.com>: Recipient "
	  "address rejected: User unknown in local recipient table",
	  VF_UTF8TO | VF_OWN | LOGGED_IN | VF_SMTPUTF8, "rcpt.unknown_user",
	  "smtpd_check.c:5421, SMTPUTF8 offered: the address was valid" },
	{ "Postfix", STEP_MAIL, "553 5.7.1 <\xc3\xa5lice@example.com>: Sender "
	  "address rejected: not owned by user carol", VF_UTF8FROM | LOGGED_IN |
	  VF_SMTPUTF8, "mail.sender_rejected",
	  "smtpd_check.c:3966, SMTPUTF8 offered" },

	/* ---- too many recipients: a limit per message, not "later" ---- */
	{ "OpenSMTPD", STEP_RCPT, "451 4.5.3 Too many recipients: Too many "
	  "recipients", VF_OWN, "rcpt.too_many_recipients",
	  "smtpd 6.8.0 (smtp limit max-rcpt), interop opensmtpd" },
	{ "Postfix", STEP_RCPT, "452 4.5.3 Error: too many recipients",
	  LOGGED_IN, "rcpt.too_many_recipients", "smtpd.c (smtpd_recipient_limit)" },
	{ "Exim", STEP_RCPT, "452 too many recipients", VF_OWN,
	  "rcpt.too_many_recipients", "smtp_in.c (recipients_max)" },
	{ "Haraka", STEP_RCPT, "450 Too many recipient attempts", VF_OWN,
	  "rcpt.too_many_recipients", "haraka-plugin-limit index.js:153" },
	{ "OpenSMTPD", STEP_RCPT, "452 4.5.3 Too many recipients: Too many "
	  "messages sent", VF_OWN, "session.rate_limited",
	  "smtp_session.c:1578: messages per session, a rate" },

	/* ---- temporary is not refused (issue 9) ---- */
	{ "Postfix", STEP_RCPT, "450 4.3.0 <bob@example.com>: Temporary lookup "
	  "failure", VF_OWN, "rcpt.temporary", "issue 9" },
	{ "generic", STEP_MAIL, "451 Requested action aborted: local error in "
	  "processing", 0, "mail.temporary", "RFC 5321 §4.2.2, issue 9" },
	{ "rspamd", STEP_RCPT, "451 4.7.1 Try again later", 0, "rcpt.greylisted",
	  "rspamd greylist, FIELD-NOTES #21" },
};

/* Facts for one corpus line: a server mail.example.com that offered what
 * the line's facts say, a sender alice@example.com given with --from. */
static void
vcase_facts(struct facts *f, const struct vcase *c, char *text, size_t textlen)
{
	facts_init(f);
	f->ehlo_name = "mail.example.com";
	f->greeting_name = "mail.example.com";
	f->servername = f->host = "mail.example.com";
	f->from_given = !(c->facts & VF_NOFROM);
	f->authenticated = f->has_user = c->facts & VF_LOGIN;
	if (!f->has_user)
		f->user = "";
	f->auth_offered = c->facts & VF_AUTH;
	if (c->facts & VF_PLAIN) {
		f->encrypted = false;
		f->tls_version = 0;
	}
	f->to = (c->facts & VF_OWN) ? "bob@example.com" : "bob@example.org";
	if (c->facts & VF_UTF8TO)
		f->to = (c->facts & VF_OWN) ? "b\xc3\xb8" "b@example.com"
					    : "b\xc3\xb8" "b@example.org";
	if (c->facts & VF_UTF8FROM)
		f->from = "\xc3\xa5lice@example.com";
	f->smtputf8_offered = c->facts & VF_SMTPUTF8;
	f->hello_unknown = (c->facts & VF_HELLO500) &&
		(atoi(c->line) == 500 || atoi(c->line) == 502);
	/* the reply as the session keeps it: the text after "NNN-"/"NNN "
	 * of each line, joined with " / " */
	size_t o = 0;
	text[0] = '\0';
	for (const char *p = c->line; *p;) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n > 4)
			o += (size_t)snprintf(text + o, textlen - o, "%s%.*s",
					      o ? " / " : "", (int)(n - 4), p + 4);
		p += n + (e != NULL);
	}
	facts_reply(f, c->step, atoi(c->line), text);
	f->evidence = c->line;
}

/* ---- honesty: oracles written from each node's question ---------------- */

enum oracle_kind {
	O_FAILED, O_STEP, O_KIND, O_CODE, O_CLASS, O_ENH, O_PORT, O_TLSMODE,
	O_FLAG,		/* arg: which fact, see flag_oracle() */
	O_VOCAB,	/* arg: the vocab tag the question asks about */
	O_DOMAIN,	/* whose domain the recipient is in */
	O_WORDS,	/* a wording question of another subtree: yes or no */
};

struct oracle {
	const char *node;
	enum oracle_kind kind;
	const char *arg;
};

static const struct oracle oracles[] = {
	{ "root", O_FAILED, NULL }, { "sync", O_KIND, NULL },
	{ "stage", O_STEP, NULL },
	{ "auth.503", O_FLAG, "a MAIL FROM typed on the : line opened a transaction" },
	{ "auth.503.text", O_WORDS, NULL },
	{ "resolve.kind", O_KIND, NULL }, { "connect.kind", O_KIND, NULL },
	{ "connect.port", O_PORT, NULL },
	{ "greeting.kind", O_KIND, NULL },
	{ "greeting.probe", O_FLAG, "a second connection's TLS handshake worked" },
	{ "greeting.class", O_CLASS, NULL },
	{ "greeting.rate", O_VOCAB, "RATE" }, { "greeting.sync", O_VOCAB, "SYNC" },
	{ "ehlo.kind", O_KIND, NULL }, { "ehlo.code", O_CODE, NULL },
	{ "ehlo.unknown", O_FLAG, "EHLO and HELO both answered 500 or 502" },
	{ "starttls.kind", O_KIND, NULL }, { "starttls.version", O_WORDS, NULL },
	{ "starttls.helo", O_FLAG, "EHLO was refused for its name and HELO taken" },
	{ "auth.helo", O_FLAG, "EHLO was refused for its name and HELO taken" },
	{ "w.helo.name", O_FLAG, "EHLO was refused for its name and HELO taken" },
	{ "tls.kind", O_KIND, NULL }, { "tls.silent", O_TLSMODE, NULL },
	{ "tls.cert", O_FLAG, "the chain reaches a trusted authority" },
	{ "tls.cert.chain", O_FLAG, "the server left out an intermediate" },
	{ "tls.cert.purpose", O_FLAG, "the certificate is not for a TLS server" },
	{ "tls.cert.weak", O_FLAG, "refused for a weak algorithm" },
	{ "tls.cert.expired", O_FLAG, "the certificate has expired" },
	{ "tls.cert.early", O_FLAG, "the certificate is not valid yet" },
	{ "tls.cert.name", O_FLAG, "the certificate is for another name" },
	{ "auth.kind", O_KIND, NULL },
	{ "auth.encrypted", O_FLAG, "the session was encrypted" },
	{ "auth.starttls", O_FLAG, "the server offered STARTTLS" },
	{ "auth.code", O_CODE, NULL }, { "auth.class", O_CLASS, NULL },
	{ "auth.534", O_WORDS, NULL }, { "auth.534.app", O_WORDS, NULL },
	{ "auth.535", O_WORDS, NULL }, { "auth.535.basic", O_WORDS, NULL },
	{ "auth.generic", O_WORDS, NULL }, { "auth.generic.class", O_CLASS, NULL },
	{ "auth.535.139", O_ENH, NULL }, { "auth.530", O_WORDS, NULL },
	{ "auth.oauth.ms", O_FLAG, "OAUTHBEARER refused at a Microsoft host" },
	{ "auth.oauth", O_FLAG, "the server answered the token with its error" },
	{ "mail.kind", O_KIND, NULL }, { "mail.code", O_CODE, NULL },
	{ "mail.utf8", O_FLAG, "the sender holds non-ASCII" },
	{ "mail.ext", O_FLAG, "an address needed SMTPUTF8, not offered" },
	{ "mail.rate", O_VOCAB, "RATE" },
	{ "mail.encrypted", O_FLAG, "the session was encrypted" },
	{ "mail.tls", O_VOCAB, "TLS_REQUIRED" },
	{ "mail.login", O_FLAG, "the session logged in" },
	{ "mail.auth", O_VOCAB, "AUTH_REQUIRED" }, { "mail.530", O_CODE, NULL },
	{ "mail.size", O_VOCAB, "SIZE" }, { "mail.552", O_CODE, NULL },
	{ "mail.sender", O_VOCAB, "SENDER_NOT_OWNED" },
	{ "mail.class", O_CLASS, NULL },
	{ "mail.utf8.offered", O_FLAG, "a non-ASCII sender, no SMTPUTF8 offered" },
	{ "rcpt.utf8", O_FLAG, "a non-ASCII recipient, no SMTPUTF8 offered" },
	{ "mail.t.domain", O_VOCAB, "SENDER_DOMAIN" },
	{ "rcpt.kind", O_KIND, NULL }, { "rcpt.code", O_CODE, NULL },
	{ "rcpt.rate", O_VOCAB, "RATE" }, { "rcpt.enh", O_ENH, NULL },
	{ "rcpt.5110", O_VOCAB, "USER_UNKNOWN" },
	{ "rcpt.511", O_VOCAB, "USER_UNKNOWN" },
	{ "rcpt.511.relay", O_VOCAB, "RELAY" },
	{ "rcpt.511.auth", O_VOCAB, "AUTH_REQUIRED" },
	{ "rcpt.sender", O_VOCAB, "SENDER_NOT_OWNED" },
	{ "rcpt.sender_domain", O_VOCAB, "SENDER_DOMAIN" },
	{ "rcpt.names_sender", O_FLAG, "the reply names the sender, not the recipient" },
	{ "rcpt.helo", O_VOCAB, "HELO" }, { "rcpt.client", O_VOCAB, "CLIENT_HOST" },
	{ "rcpt.dnsbl", O_VOCAB, "BLOCKLIST" }, { "rcpt.class", O_CLASS, NULL },
	{ "rcpt.t.grey", O_VOCAB, "GREYLIST" },
	{ "rcpt.t.unverified", O_VOCAB, "UNVERIFIED" },
	{ "rcpt.t.full", O_VOCAB, "MAILBOX_FULL" },
	{ "rcpt.t.relay", O_VOCAB, "RELAY" },
	{ "rcpt.t.domain", O_VOCAB, "RCPT_DOMAIN" },
	{ "rcpt.t.user", O_VOCAB, "USER_UNKNOWN" },
	{ "rcpt.login", O_FLAG, "the session logged in" },
	{ "rcpt.in.relay", O_VOCAB, "RELAY" }, { "rcpt.in.domain", O_VOCAB, "NULL_MX" },
	{ "rcpt.in.user", O_VOCAB, "USER_UNKNOWN" },
	{ "rcpt.in.full", O_VOCAB, "MAILBOX_FULL" },
	{ "rcpt.in.whose", O_DOMAIN, NULL },
	{ "rcpt.in.own", O_VOCAB, "NOT_HOSTED" },
	{ "rcpt.in.foreign", O_VOCAB, "NOT_HOSTED" },
	{ "rcpt.out.auth", O_VOCAB, "AUTH_REQUIRED" },
	{ "rcpt.out.user", O_VOCAB, "USER_UNKNOWN" },
	{ "rcpt.out.offered", O_FLAG, "AUTH was offered and not used" },
	{ "rcpt.out.denied", O_VOCAB, "ACCESS_DENIED" },
	{ "rcpt.out.relay", O_VOCAB, "RELAY" },
	{ "rcpt.out.domain", O_VOCAB, "NULL_MX" },
	{ "rcpt.out.full", O_VOCAB, "MAILBOX_FULL" },
	{ "rcpt.out.whose", O_DOMAIN, NULL },
	{ "rcpt.out.own", O_VOCAB, "NOT_HOSTED" },
	{ "rcpt.out.foreign", O_VOCAB, "NOT_HOSTED" },
	{ "data.kind", O_KIND, NULL }, { "data.code", O_CODE, NULL },
	{ "data.rate", O_VOCAB, "RATE" }, { "data.sendas", O_VOCAB, "SEND_AS" },
	{ "data.auth", O_VOCAB, "UNAUTHENTICATED" },
	{ "data.ses", O_VOCAB, "IDENTITY" }, { "data.size", O_VOCAB, "SIZE" },
	{ "data.enh", O_ENH, NULL }, { "data.class", O_CLASS, NULL },
	{ "data.552", O_CODE, NULL }, { "data.552.full", O_VOCAB, "MAILBOX_FULL" },
	{ "any.kind", O_KIND, NULL }, { "any.reply", O_CODE, NULL },
	{ "rcpt.t.many", O_VOCAB, "TOO_MANY_RCPTS" },
	{ "any.sync", O_VOCAB, "SYNC" }, { "any.421", O_VOCAB, "TOO_MANY_ERRORS" },
	{ "any.421.rate", O_VOCAB, "RATE" },
	{ "any.421.limit", O_VOCAB, "COMMAND_LIMIT" }, { "any.421.tls", O_VOCAB, "TLS_VERSION" },
	{ "w.tls", O_FLAG, "TLS 1.0 or 1.1 was negotiated" },
	{ "w.auth", O_FLAG, "AUTH was offered before TLS" },
	{ "w.port25", O_FLAG, "a login on port 25" },
	{ "w.cert", O_FLAG, "--insecure went past a certificate problem" },
	{ "w.insecure", O_FLAG, "--insecure went past a certificate problem" },
	{ "w.helo", O_FLAG, "only HELO was taken" },
	{ "w.weak", O_FLAG, "a weak algorithm, accepted" },
	{ "w.dsn", O_FLAG, "DSN asked for and left out" },
	{ "greeting.mb", O_FLAG, "something on the path answered in the server's place" },
	{ "ehlo.mb", O_FLAG, "something on the path answered in the server's place" },
	{ "starttls.mb", O_FLAG, "something on the path answered in the server's place" },
	{ "auth.mb", O_FLAG, "something on the path answered in the server's place" },
	{ "tls.intercept", O_FLAG, "the issuer is a TLS inspection product" },
	{ "w.mbox", O_FLAG, "something on the path answered in the server's place" },
	{ "w.mbox.failed", O_FLAG, "the middlebox question was asked on the main path" },
	{ "w.mbox.note", O_FLAG, "the greeting names a gateway product" },
	{ "w.intercept", O_FLAG, "the issuer is a TLS inspection product" },
	{ "w.intercept.stop", O_FLAG, "the certificate check stopped the session" },
};

/* The truth of a yes/no fact, from the question's own words. */
static bool
flag_oracle(const char *what, const struct facts *f)
{
	if (!strcmp(what, "a second connection's TLS handshake worked"))
		return f->probe_ok;
	if (!strcmp(what, "the chain reaches a trusted authority"))
		return !(f->cert_problems & (CP_UNTRUSTED | CP_NO_CERT |
					     CP_CHAIN_INCOMPLETE));
	if (!strcmp(what, "the server left out an intermediate"))
		return f->cert_problems & CP_CHAIN_INCOMPLETE;
	if (!strcmp(what, "the certificate is not for a TLS server"))
		return f->cert_problems & CP_PURPOSE;
	if (!strcmp(what, "refused for a weak algorithm"))
		return f->cert_problems & CP_WEAK;
	if (!strcmp(what, "a weak algorithm, accepted"))
		return f->weak && *f->weak && !(f->cert_problems & CP_WEAK);
	if (!strcmp(what, "the certificate has expired"))
		return f->cert_problems & CP_EXPIRED;
	if (!strcmp(what, "the certificate is not valid yet"))
		return f->cert_problems & CP_NOT_YET_VALID;
	if (!strcmp(what, "the certificate is for another name"))
		return f->cert_problems & CP_HOSTNAME;
	if (!strcmp(what, "the session was encrypted"))
		return f->encrypted;
	if (!strcmp(what, "the server offered STARTTLS"))
		return f->starttls_offered;
	if (!strcmp(what, "an address needed SMTPUTF8, not offered"))
		return f->smtputf8_missing;
	if (!strcmp(what, "the sender holds non-ASCII")) {
		for (const char *p = f->from; p && *p; p++)
			if ((unsigned char)*p >= 0x80)
				return true;
		return false;
	}
	if (!strcmp(what, "a non-ASCII sender, no SMTPUTF8 offered") ||
	    !strcmp(what, "a non-ASCII recipient, no SMTPUTF8 offered")) {
		const char *a = strstr(what, "sender") ? f->from : f->to;
		bool wide = false;
		for (const char *p = a; p && *p; p++)
			wide = wide || (unsigned char)*p >= 0x80;
		return wide && !f->smtputf8_offered;
	}
	if (!strcmp(what, "the reply names the sender, not the recipient")) {
		char s[300], r[300];
		snprintf(s, sizeof s, "<%s>", f->from ? f->from : "");
		snprintf(r, sizeof r, "<%s>", f->to ? f->to : "");
		return f->text && f->from && *f->from && strcasestr(f->text, s) &&
		       !strcasestr(f->text, r);
	}
	if (!strcmp(what, "EHLO and HELO both answered 500 or 502"))
		return f->hello_unknown;
	if (!strcmp(what, "the session logged in"))
		return f->authenticated;
	if (!strcmp(what, "AUTH was offered and not used"))
		return f->auth_offered && !f->authenticated;
	if (!strcmp(what, "TLS 1.0 or 1.1 was negotiated"))
		return f->tls_version == 10 || f->tls_version == 11;
	if (!strcmp(what, "AUTH was offered before TLS"))
		return f->auth_before_tls;
	if (!strcmp(what, "a login on port 25"))
		return f->port == 25 && f->has_user;
	if (!strcmp(what, "--insecure went past a certificate problem"))
		return f->insecure && f->cert_problems;
	if (!strcmp(what, "only HELO was taken"))
		return f->helo_fallback;
	/* the code of the EHLO refusal, as quoted: 500/502 is "unknown" */
	if (!strcmp(what, "EHLO was refused for its name and HELO taken")) {
		int code = f->helo_evidence ? atoi(f->helo_evidence) : 0;
		return f->helo_fallback && code >= 500 && code != 500 &&
		       code != 502;
	}
	if (!strcmp(what, "DSN asked for and left out"))
		return f->dsn_dropped;
	if (!strcmp(what, "a MAIL FROM typed on the : line opened a transaction"))
		return f->raw_transaction;
	if (!strcmp(what, "OAUTHBEARER refused at a Microsoft host"))
		return f->oauthbearer_microsoft && (f->kind == FK_REPLY ||
						    f->kind == FK_MECH_UNSUPPORTED);
	if (!strcmp(what, "the server answered the token with its error"))
		return f->oauth_error;
	if (!strcmp(what, "something on the path answered in the server's place"))
		return f->middlebox_banner;
	if (!strcmp(what, "a -PLUS login failed through an inspection product"))
		return f->cert_intercepted && f->failed_step == STEP_AUTH &&
		       f->mech && strstr(f->mech, "-PLUS") &&
		       !strcmp(strstr(f->mech, "-PLUS"), "-PLUS");
	if (!strcmp(what, "the middlebox question was asked on the main path")) {
		static const int asked[] = { STEP_GREETING, STEP_EHLO, STEP_STARTTLS };
		if (!strcmp(fail_kind_name(f->kind), "out of step"))
			return false;
		for (size_t i = 0; i < ARRAY_SIZE(asked); i++)
			if (f->failed_step == asked[i])
				return true;
		return f->failed_step == STEP_AUTH &&
		       !strcmp(fail_kind_name(f->kind), "extension not offered");
	}
	if (!strcmp(what, "the greeting names a gateway product"))
		return f->middlebox_note;
	if (!strcmp(what, "the issuer is a TLS inspection product"))
		return f->cert_intercepted;
	if (!strcmp(what, "the certificate check stopped the session"))
		return f->failed_step == STEP_TLS &&
		       !strcmp(fail_kind_name(f->kind), "certificate failed verification");
	return false;
}

/* The last two labels of a domain name ("example.com"), lower-case. */
static void
last_two(const char *name, char *out, size_t n)
{
	const char *at = strrchr(name, '@');
	const char *d = at ? at + 1 : name;
	const char *p = d + strlen(d), *dots = NULL;
	int seen = 0;
	while (p > d && seen < 2)
		if (*--p == '.' && ++seen == 2)
			dots = p + 1;
	snprintf(out, n, "%s", dots ? dots : d);
	for (char *c = out; *c; c++)
		*c = (char)tolower((unsigned char)*c);
}

/* Own: the recipient's domain shares its registered domain with a name the
 * server goes by (or the sender's, when given); foreign: with none. */
static const char *
domain_oracle(const struct facts *f)
{
	const char *at = f->to ? strrchr(f->to, '@') : NULL;
	if (!at)
		return "unknown";
	char rd[256], c[256];
	last_two(f->to, rd, sizeof rd);
	const char *names[] = { f->ehlo_name, f->greeting_name, f->servername,
				f->mx_domain, f->from_given ? f->from : NULL };
	bool any = false;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (!names[i] || !*names[i] || isdigit((unsigned char)*names[i]))
			continue;
		any = true;
		last_two(names[i], c, sizeof c);
		if (!strcmp(c, rd))
			return "own";
	}
	return any ? "foreign" : "unknown";
}

/* The answer's first word: what the branches match on. */
static void
answer_key(const char *a, char *out, size_t n)
{
	size_t k = strcspn(a, " ");
	snprintf(out, n, "%.*s", (int)k, a);
}

/* Check every recorded answer of d against the oracles; problems go to
 * bad.  seen[i] marks oracle i as exercised. */
static void
check_path(const struct facts *f, const struct diagnosis *d, bool *seen,
	   struct buf *bad, const char *what)
{
	for (size_t k = 0; k < d->npath; k++) {
		const struct path_step *ps = &d->path[k];
		const struct oracle *o = NULL;
		for (size_t i = 0; i < ARRAY_SIZE(oracles); i++)
			if (!strcmp(oracles[i].node, ps->node)) {
				o = &oracles[i];
				seen[i] = true;
			}
		if (!o) {
			buf_printf(bad, "[%s] node %s has no oracle\n", what, ps->node);
			continue;
		}
		char key[64], want[64] = "";
		answer_key(ps->answer, key, sizeof key);
		switch (o->kind) {
		case O_FAILED:
			snprintf(want, sizeof want, "%s", f->failed_step >= 0 ? "yes" : "no");
			break;
		case O_STEP:
			snprintf(want, sizeof want, "%s", f->failed_step >= 0 ?
				 step_name(f->failed_step) : "none");
			break;
		case O_KIND:
			/* the kind's words may hold spaces: compare whole */
			snprintf(key, sizeof key, "%s", ps->answer);
			snprintf(want, sizeof want, "%s", fail_kind_name(f->kind));
			break;
		case O_CODE:
			snprintf(want, sizeof want, f->code ? "%03d" : "none", f->code);
			break;
		case O_CLASS:
			if (f->code)
				snprintf(want, sizeof want, "%dxx", f->code / 100);
			else
				snprintf(want, sizeof want, "none");
			break;
		case O_ENH:
			if (f->enh_class)
				snprintf(want, sizeof want, "%d.%d.%d", f->enh_class,
					 f->enh_subject, f->enh_detail);
			else
				snprintf(want, sizeof want, "none");
			break;
		case O_PORT:
			snprintf(want, sizeof want, "%d", f->port);
			break;
		case O_TLSMODE:
			snprintf(want, sizeof want, "%s",
				 tls_mode_name((enum tls_mode)f->tls_mode));
			break;
		case O_FLAG:
			snprintf(want, sizeof want, "%s",
				 flag_oracle(o->arg, f) ? "yes" : "no");
			break;
		case O_VOCAB: {
			/* yes: some entry of that meaning, for this step, is in the
			 * text; and the words the answer quotes are really there */
			bool any = false;
			size_t nv;
			const struct vocab_entry *v = diag_vocab(&nv);
			for (size_t i = 0; i < nv; i++)
				if (!strcmp(vocab_tag_name(v[i].tag), o->arg) &&
				    (v[i].steps == VS_ANY ||
				     (f->failed_step >= 0 && (v[i].steps & VS(f->failed_step)))) &&
				    f->text && strcasestr(f->text, v[i].words))
					any = true;
			snprintf(want, sizeof want, "%s", any ? "yes" : "no");
			const char *q = strchr(ps->answer, '"');
			if (!strcmp(key, "yes") && q) {
				const char *e = strchr(q + 1, '"');
				char words[200];
				snprintf(words, sizeof words, "%.*s",
					 (int)(e ? e - q - 1 : 0), q + 1);
				if (!f->text || !strcasestr(f->text, words))
					buf_printf(bad, "[%s] %s quotes \"%s\", not in the reply\n",
						   what, ps->node, words);
			}
			break;
		}
		case O_DOMAIN:
			snprintf(want, sizeof want, "%s", domain_oracle(f));
			break;
		case O_WORDS:
			snprintf(want, sizeof want, "%s", !strcmp(key, "yes") ? "yes" : "no");
			break;
		}
		if (strcmp(key, want))
			buf_printf(bad, "[%s] %s \"%s\" answered \"%s\", the facts say \"%s\"\n",
				   what, ps->node, d->path[k].question, ps->answer, want);
	}
}

static void
test_vocab_corpus(void)
{
	const char *last = "";
	int n_server = 0;
	for (size_t i = 0; i < ARRAY_SIZE(vcases); i++) {
		const struct vcase *c = &vcases[i];
		struct facts f;
		char text[1024];
		struct diag_list l = { 0 };
		vcase_facts(&f, c, text, sizeof text);
		diag_decide(&f, &l);
		char oneline[600];
		snprintf(oneline, sizeof oneline, "%s", c->line);
		for (char *p = oneline; (p = strchr(p, '\n'));)
			*p = '|';
		if (!CHECK_STR(diag_id_of(&l, 0), c->want,
			       nm("corpus: %s %s '%s' (%s%s%s) -> %s", c->server,
				  step_name((enum step)c->step), oneline,
				  c->facts & VF_LOGIN ? "logged in" : "no login",
				  c->facts & VF_AUTH ? ", AUTH offered" : "",
				  c->facts & VF_OWN ? ", own domain" : ", foreign domain",
				  c->want)) && l.n)
			for (size_t k = 0; k < l.v[0].npath; k++)
				printf("#   %s = %s\n", l.v[0].path[k].node,
				       l.v[0].path[k].answer);
		if (strcmp(last, c->server)) {
			n_server++;
			last = c->server;
		}
		diag_list_free(&l);
	}
	CHECK(n_server >= 18, nm("corpus: lines from %d servers", n_server));

	/* the servers issue 9 names, each with lines in the corpus */
	static const char *const must[] = {
		"Postfix", "Exim", "Sendmail", "OpenSMTPD", "Haraka", "qmail",
		"Courier", "Microsoft 365", "Gmail", "Yahoo", "iCloud",
		"Amazon SES", "SendGrid", "Mailgun", "Zimbra", "Dovecot", "aiosmtpd",
	};
	for (size_t i = 0; i < ARRAY_SIZE(must); i++) {
		int k = 0;
		for (size_t j = 0; j < ARRAY_SIZE(vcases); j++)
			k += !strcmp(vcases[j].server, must[i]);
		CHECK(k >= 1, nm("corpus: %s has lines (%d)", must[i], k));
	}
}

/* auth.mech_unsupported: a server that offers only OAuth 2.0 wants a
 * token, and "use --auth auto" is no advice to a session that did. */
static void
test_mech_fix_texts(void)
{
	struct facts f;
	struct diag_list l = { 0 };
	facts_init(&f);
	f.failed_step = STEP_AUTH;
	f.kind = FK_MECH_UNSUPPORTED;
	f.has_user = true;
	f.auth_offered = true;
	f.oauth_only = true;
	f.mech_auto = true;
	f.evidence = "server offers AUTH XOAUTH2; smtpdx was asked for auto";
	diag_decide(&f, &l);
	CHECK(l.n && !strcmp(diag_info(l.v[0].id)->id, "auth.mech_unsupported") &&
	      has(l.v[0].fix, "--auth xoauth2") && has(l.v[0].fix, "token") &&
	      !has(l.v[0].fix, "let smtpdx pick"),
	      "fix: only XOAUTH2 offered, --auth auto: give a token with --auth xoauth2");
	diag_list_free(&l);
	f.oauth_only = false;
	diag_decide(&f, &l);
	CHECK(l.n && !has(l.v[0].fix, "--auth auto") && has(l.v[0].fix, "with --auth"),
	      "fix: no mechanism in common under --auth auto does not say 'use --auth auto'");
	diag_list_free(&l);
	f.mech_auto = false;
	diag_decide(&f, &l);
	CHECK(l.n && has(l.v[0].fix, "use --auth auto"),
	      "fix: an explicit --auth may be told to try --auth auto");
	diag_list_free(&l);
}

/* Fix texts say only what applies: no "add -u" after a login, no empty
 * "-f " when there is no login, no "add -f" when --from was given. */
static void
test_vocab_fix_texts(void)
{
	struct facts f;
	char text[512];
	struct diag_list l = { 0 };

	const struct vcase relay_in = { "Postfix", STEP_RCPT,
		"554 5.7.1 <bob@example.org>: Relay access denied", LOGGED_IN,
		"rcpt.relay_denied", "" };
	vcase_facts(&f, &relay_in, text, sizeof text);
	diag_decide(&f, &l);
	CHECK(l.n && !has(l.v[0].fix, "add -u") && !has(l.v[0].fix, "Log in") &&
	      has(l.v[0].explanation, "did log in as alice@example.com"),
	      "fix: relay denied after a 235 does not say 'log in: add -u'");
	diag_list_free(&l);

	const struct vcase relay_out = { "Haraka", STEP_RCPT,
		"550 I cannot deliver mail for <bob@example.org>", NOLOGIN_OFFERED,
		"rcpt.relay_denied", "" };
	vcase_facts(&f, &relay_out, text, sizeof text);
	diag_decide(&f, &l);
	CHECK(l.n && has(l.v[0].fix, "add -u") &&
	      has(l.v[0].explanation, "did not log in, although the server offers AUTH"),
	      "fix: relay denied without a login says: log in, AUTH was offered");
	CHECK(l.n && !strstr(l.v[0].explanation, "  ") && !strstr(l.v[0].fix, "  "),
	      "fix: dropped segments leave no double spaces");
	diag_list_free(&l);

	/* no login, no --from: the sender fix must not print "-f " + nothing */
	const struct vcase sender = { "aiosmtpd", STEP_MAIL,
		"553 5.1.3 Error: malformed address", VF_NOFROM,
		"mail.sender_rejected", "" };
	vcase_facts(&f, &sender, text, sizeof text);
	f.from = "smtpdx@client.example.org";
	diag_decide(&f, &l);
	CHECK(l.n && !has(l.v[0].fix, "-f  ") && !has(l.v[0].fix, "-f .") &&
	      !has(l.v[0].fix, "try -f") && has(l.v[0].fix, "no sender was given"),
	      "fix: sender refused without a login or --from: no empty -f, says none was given");
	diag_list_free(&l);

	const struct vcase sender2 = { "aiosmtpd", STEP_MAIL,
		"553 5.1.3 Error: malformed address", LOGGED_IN,
		"mail.sender_rejected", "" };
	vcase_facts(&f, &sender2, text, sizeof text);
	diag_decide(&f, &l);
	CHECK(l.n && !has(l.v[0].fix, "-f you@yourdomain") &&
	      has(l.v[0].fix, "alice@example.com") &&
	      has(l.v[0].fix, "try -f alice@example.com"),
	      "fix: --from given: not told to add -f; logged in as an address: try -f it");
	diag_list_free(&l);

	const struct vcase authreq = { "Postfix", STEP_RCPT,
		"554 5.7.1 <bob@example.org>: Recipient address rejected: Access denied",
		NOLOGIN_OFFERED, "mail.auth_required", "" };
	vcase_facts(&f, &authreq, text, sizeof text);
	diag_decide(&f, &l);
	CHECK(l.n && has(l.v[0].fix, "Run again with -u") &&
	      !has(l.v[0].fix, "You gave -u") &&
	      has(l.v[0].explanation, "offered AUTH"),
	      "fix: auth required without -u: run with -u; the server offered AUTH");
	diag_list_free(&l);

	/* every catalog text, under every combination of the facts the
	 * segments test: no leftover braces, no double spaces, no empty
	 * "-f ", and no "add -u" / "Run again with -u" after a login */
	struct buf bad = { 0 };
	for (int id = 0; id < D_COUNT; id++) {
		const struct diag_info *di = diag_info((enum diag_id)id);
		for (unsigned m = 0; m < 32; m++) {
			facts_init(&f);
			f.authenticated = f.has_user = m & 1;
			f.auth_offered = m & 2;
			f.from_given = m & 4;
			f.user = (m & 8) ? "alice" : "alice@example.com";
			if (!f.has_user)
				f.user = "";
			f.to = (m & 16) ? "bob@example.com" : "bob@example.org";
			const char *t[2] = { di->explanation, di->fix };
			for (int k = 0; k < 2; k++) {
				char *x = diag_expand(t[k], &f, (enum diag_id)id);
				if (strchr(x, '{') || strchr(x, '}'))
					buf_printf(&bad, "%s: braces left (m=%u) ", di->id, m);
				if (strstr(x, "  "))
					buf_printf(&bad, "%s: double space (m=%u) ", di->id, m);
				if (strstr(x, "-f  ") || strstr(x, "-f .") ||
				    strstr(x, "-f ,") || (x[0] && !strcmp(x + strlen(x) - 3, "-f ")))
					buf_printf(&bad, "%s: empty -f (m=%u) ", di->id, m);
				if (f.authenticated && (strstr(x, "add -u") ||
							strstr(x, "Run again with -u")))
					buf_printf(&bad, "%s: -u after a login (m=%u) ", di->id, m);
				free(x);
			}
		}
	}
	CHECK(bad.len == 0, "fix: every catalog text expands cleanly under every login/"
	      "sender/domain combination");
	if (bad.len)
		printf("# %.600s\n", bad.data);
	buf_free(&bad);
}

static void
test_vocab_table(void)
{
	size_t n;
	const struct vocab_entry *v = diag_vocab(&n);
	struct buf bad = { 0 };
	bool used[V_COUNT] = { false };
	for (size_t i = 0; i < n; i++) {
		used[v[i].tag] = true;
		if (!v[i].words || strlen(v[i].words) < 3)
			buf_printf(&bad, "#%zu: words too short ", i);
		if (!v[i].source || strlen(v[i].source) < 10)
			buf_printf(&bad, "%s: no source ", v[i].words);
		if (!v[i].steps)
			buf_printf(&bad, "%s: no step ", v[i].words);
	}
	CHECK(bad.len == 0, nm("vocab: all %zu entries have words, steps and a source", n));
	if (bad.len)
		printf("# %s\n", bad.data);
	buf_free(&bad);
	bool all = true;
	for (int t = 0; t < V_COUNT; t++)
		all = all && used[t];
	CHECK(all, "vocab: every meaning has words");

	/* words count only at their steps: "Relay access denied" means
	 * nothing at DATA */
	CHECK(vocab_match("5.7.1 <b@example.org>: Relay access denied", STEP_RCPT,
			  V_RELAY) != NULL, "vocab: relay words at RCPT");
	CHECK(vocab_match("5.7.1 <b@example.org>: Relay access denied", STEP_DATA,
			  V_RELAY) == NULL, "vocab: relay words mean nothing at DATA");
	CHECK(vocab_match("a marble RBLx", STEP_RCPT, V_BLOCKLIST) != NULL &&
	      vocab_match("marble", STEP_RCPT, V_BLOCKLIST) == NULL,
	      "vocab: words match at a word start only");
}

static void
test_vocab_domains(void)
{
	struct facts f;
	char *why = NULL;
	struct {
		const char *to, *ehlo, *server, *from, *mx;
		bool from_given;
		enum rcpt_domain want;
	} c[] = {
		{ "b@example.com", "mail.example.com", NULL, NULL, NULL, false, RD_OWN },
		{ "b@sub.example.com", "mail.example.com", NULL, NULL, NULL, false, RD_OWN },
		{ "b@example.com", "mx.eu.example.com", NULL, NULL, NULL, false, RD_OWN },
		{ "b@example.org", "mail.example.com", NULL, NULL, NULL, false, RD_FOREIGN },
		{ "b@other.co.uk", "mail.example.co.uk", NULL, NULL, NULL, false, RD_FOREIGN },
		{ "b@example.co.uk", "mail.example.co.uk", NULL, NULL, NULL, false, RD_OWN },
		{ "b@co.uk", "mail.example.co.uk", NULL, NULL, NULL, false, RD_FOREIGN },
		{ "b@gmail.com", "mx.google.com", "smtp.gmail.com", NULL, NULL, false, RD_OWN },
		{ "b@example.org", NULL, "192.0.2.1", NULL, NULL, false, RD_UNKNOWN },
		{ "b@example.org", NULL, "192.0.2.1", "a@example.org", NULL, true, RD_OWN },
		{ "b@example.org", NULL, "192.0.2.1", "a@example.org", NULL, false, RD_UNKNOWN },
		{ "b@example.net", "mx1.mailhost.test", NULL, NULL, "example.net", false, RD_OWN },
		{ "nobody", "mail.example.com", NULL, NULL, NULL, false, RD_UNKNOWN },
	};
	for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
		facts_init(&f);
		f.to = c[i].to;
		f.ehlo_name = c[i].ehlo;
		f.servername = f.host = c[i].server ? c[i].server : "";
		f.from = c[i].from ? c[i].from : "smtpdx@client.example.org";
		f.from_given = c[i].from_given;
		f.has_user = false;
		f.user = "";
		f.mx_domain = c[i].mx;
		enum rcpt_domain r = diag_rcpt_domain(&f, &why);
		CHECK_INT(r, c[i].want, nm("domain: %s vs EHLO %s, server %s, from %s%s, "
					   "mx %s -> %d (%s)", c[i].to, c[i].ehlo ? c[i].ehlo : "-",
					   c[i].server ? c[i].server : "-",
					   c[i].from ? c[i].from : "-",
					   c[i].from_given ? " (given)" : "",
					   c[i].mx ? c[i].mx : "-", (int)c[i].want, why));
		free(why);
	}
}

/*
 * Honesty: for every path the tree records, over the corpus, the catalog
 * cases and a sweep of made-up facts, each answer is true of the facts
 * by an oracle written from the node's question.  Every node must have
 * an oracle and be exercised.
 */
static void
test_vocab_honest_paths(void)
{
	bool seen[ARRAY_SIZE(oracles)] = { false };
	struct buf bad = { 0 };
	struct facts f;
	char text[1024];
	struct diag_list l = { 0 };
	int npaths = 0;

#define WALK(what) do {						\
		diag_decide(&f, &l);				\
		for (size_t q = 0; q < l.n; q++) {		\
			check_path(&f, &l.v[q], seen, &bad, what);	\
			npaths++;				\
		}						\
		diag_list_free(&l);				\
	} while (0)

	for (size_t i = 0; i < ARRAY_SIZE(vcases); i++) {
		vcase_facts(&f, &vcases[i], text, sizeof text);
		WALK(vcases[i].line);
	}
	for (size_t i = 0; i < ARRAY_SIZE(dcases); i++) {
		facts_from_case(&f, &dcases[i]);
		WALK(dcases[i].what);
	}

	/* a sweep: every step and kind, codes of every class, every vocab
	 * entry's words as the text, the facts the tree asks about */
	static const int codes[] = { 421, 450, 451, 452, 454, 503, 504, 530, 534,
				     535, 538, 550, 552, 553, 554, 555, 556 };
	static const char *const enh[] = { "", "5.1.1 ", "5.1.10 ", "5.1.2 ",
		"4.1.2 ", "4.2.2 ", "5.2.2 ", "5.7.54 ", "5.7.57 ", "5.7.139 ",
		"5.3.4 ", "5.2.3 " };
	size_t nv;
	const struct vocab_entry *v = diag_vocab(&nv);
	for (int st = 0; st < STEP_COUNT; st++) {
		for (int k = 0; k <= FK_CANCELLED; k++) {
			for (unsigned m = 0; m < 64; m++) {
				facts_init(&f);
				f.failed_step = st;
				f.kind = (enum fail_kind)k;
				f.authenticated = f.has_user = m & 1;
				f.auth_offered = m & 2;
				f.encrypted = !(m & 4);
				f.to = (m & 8) ? "bob@example.com" : "bob@example.org";
				f.ehlo_name = "mail.example.com";
				f.probe_ok = f.probe_tried = m & 16;
				f.port = (m & 32) ? 25 : 465;
				f.tls_mode = (m & 32) ? TLSM_IMPLICIT : TLSM_STARTTLS;
				static const unsigned cps[] = { CP_UNTRUSTED,
					CP_EXPIRED, CP_NOT_YET_VALID, CP_HOSTNAME,
					CP_CHAIN_INCOMPLETE, CP_PURPOSE, CP_WEAK,
					CP_OTHER, 0, 0 };
				f.cert_problems = cps[m % ARRAY_SIZE(cps)];
				f.weak = (m & 16) ? "leaf key RSA 1024 bits" : "";
				f.insecure = m & 8;
				f.tls_version = (m & 4) ? 11 : 13;
				f.helo_fallback = m == 5;
				f.auth_before_tls = m == 6;
				f.dsn_dropped = m == 7;
				f.smtputf8_missing = m == 9;
				f.oauth_error = (m & 24) == 24;
				f.oauthbearer_microsoft = m == 3 || m == 35;
				f.middlebox_banner = m == 9 || m == 41;
				f.middlebox_note = m == 10;
				f.cert_intercepted = m % 10 == 0 && (m & 2);
				if (k != FK_REPLY) {
					WALK("sweep");
					continue;
				}
				for (size_t c = 0; c < ARRAY_SIZE(codes); c++) {
					size_t e = (c + m) % ARRAY_SIZE(enh);
					size_t w = (c * 7 + m * 13 + (size_t)st) % nv;
					snprintf(text, sizeof text, "%s%s", enh[e],
						 v[w].words);
					facts_reply(&f, st, codes[c], text);
					WALK("sweep");
				}
			}
		}
	}
	/* sessions that did not fail, with a middlebox's marks */
	for (unsigned m = 0; m < 8; m++) {
		facts_init(&f);
		f.middlebox_banner = m & 1;
		f.middlebox_note = m & 2;
		f.cert_intercepted = m & 4;
		WALK("middlebox sweep");
	}
	/* and every vocab entry's words at every step, as a 4xx and a 5xx,
	 * logged in or not, own domain or not */
	for (size_t w = 0; w < nv; w++)
		for (int st = STEP_GREETING; st < STEP_COUNT; st++)
			for (unsigned m = 0; m < 8; m++) {
				facts_init(&f);
				f.authenticated = f.has_user = m & 1;
				f.auth_offered = true;
				f.ehlo_name = "mail.example.com";
				f.to = (m & 2) ? "bob@example.com" : "bob@example.org";
				facts_reply(&f, st, (m & 4) ? 450 : 550, v[w].words);
				WALK("vocab sweep");
			}
#undef WALK

	CHECK(bad.len == 0, nm("honest: every answer of %d recorded paths is true "
			       "of the facts", npaths));
	if (bad.len) {
		/* by node: how many wrong answers, and the first of each */
		char seen_nodes[2048] = " ";
		for (char *p = bad.data; p && *p;) {
			char *e = strchr(p, '\n');
			char *nd = strstr(p, "] ");
			char node[64] = "?";
			if (nd)
				sscanf(nd + 2, "%63s", node);
			char pat[70];
			snprintf(pat, sizeof pat, " %s ", node);
			if (!strstr(seen_nodes, pat) &&
			    strlen(seen_nodes) + strlen(pat) < sizeof seen_nodes) {
				int count = 0;
				for (char *q = strstr(bad.data, node); q;
				     q = strstr(q + 1, node))
					count++;
				strcat(seen_nodes, node);
				strcat(seen_nodes, " ");
				printf("# %s: %d wrong; first: %.*s\n", node, count,
				       (int)(e ? e - p : (long)strlen(p)), p);
			}
			p = e ? e + 1 : NULL;
		}
	}
	buf_free(&bad);

	struct buf unseen = { 0 }, missing = { 0 };
	for (size_t i = 0; i < ARRAY_SIZE(oracles); i++)
		if (!seen[i])
			buf_printf(&unseen, "%s ", oracles[i].node);
	size_t nn;
	const struct dt_view *tv = diag_tree_nodes(&nn);
	for (size_t i = 0; i < nn; i++) {
		bool have = false;
		for (size_t k = 0; k < ARRAY_SIZE(oracles); k++)
			have = have || !strcmp(oracles[k].node, tv[i].id);
		if (!have)
			buf_printf(&missing, "%s ", tv[i].id);
	}
	CHECK(missing.len == 0, "honest: every node of the tree has an oracle");
	if (missing.len)
		printf("# no oracle: %s\n", missing.data);
	CHECK(unseen.len == 0, "honest: every node was walked and checked");
	if (unseen.len)
		printf("# never walked: %s\n", unseen.data);
	buf_free(&unseen);
	buf_free(&missing);
}

static void
test_vocab(void)
{
	test_vocab_table();
	test_vocab_domains();
	test_vocab_corpus();
	test_vocab_fix_texts();
	test_mech_fix_texts();
	test_vocab_honest_paths();
}

/*
 * provider.c - the provider table and what follows from it.
 *
 * Every fact carries the key of its source in ../shared/PROVIDERS.md,
 * where the page or issue behind the key is listed; the keys are repeated
 * here so that a reader can check a port or a login rule without leaving
 * this file:
 *
 *   GM1  Nylas, "Gmail SMTP settings: ports, auth, limits"
 *   GM8  warmbly#594/#577: app passwords need 2-Step Verification
 *   MS1  Microsoft Learn, "How to set up a multifunction device or
 *        application to send email using Microsoft 365" (Exchange docs)
 *   MS7  StruisICT/smtp-test-tool providers.rs; FlowCrypt provider wiki
 *   MS8  Outlook.com: basic auth for third-party apps removed 2024-09-16
 *   MC786329  Exchange Online message center: SMTP AUTH basic auth off by
 *        default for existing tenants from the end of December 2026
 *   YH1  chatmail provider-db yahoo.md;  YH2 PHPMailer#2034/#3291
 *   IC1  chatmail provider-db icloud.md; IC3 msmtp gist (full address)
 *   FM1  nodemailer well-known services.json; FM2 smtp-test-tool
 *   ZO1  Zoho settings text; chatmail provider-db zoho.md
 *   SES1 AWS, "Connecting to an Amazon SES SMTP endpoint"
 *   SES2 AWS, "Using the Amazon SES SMTP interface" (per-Region users)
 *   SG1  Twilio SendGrid, "Integrating with the SMTP API"
 *   MG1  Mailgun, "Send via SMTP"
 *   PM1  Postmark, "What are the SMTP details / API Tokens ...";
 *   PM2  Spree, "Postmark" (465 "produces a connection that hangs")
 *   MJ1  Mailjet::Mailer (rubydoc); MJ2 Google Cloud, "Sending email
 *        with Mailjet" (port 2525; its TLS mode there is unconfirmed)
 *   BR1  Brevo, "SMTP relay integration"
 *   SP1  SparkPost, "SMTP API"
 *   RS1  Resend, "Send emails with SMTP"; RS2 Resend changelog
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "provider.h"
#include "util.h"

#define S(p) { p, TLSM_STARTTLS }
#define T(p) { p, TLSM_IMPLICIT }

static const struct provider table[] = {
	{ "gmail", "Gmail / Google Workspace", "smtp.gmail.com",
	  "smtp.gmail.com|smtp-relay.gmail.com|.gmail.com|.googlemail.com",
	  { S(587), T(465) }, NULL,
	  "the full address and an app password (needs 2-Step Verification), "
	  "or an OAuth token with --auth xoauth2",
	  "less secure apps gone (Workspace 2024-09-30); TLS 1.2+",
	  "GM1 GM8" },
	{ "microsoft365", "Microsoft 365", "smtp.office365.com",
	  "smtp.office365.com|.office365.com",
	  { S(587), S(25) },
	  "465: Microsoft 365 has no implicit-TLS submission port",
	  "the mailbox address and its password, with SMTP AUTH enabled for "
	  "the mailbox; OAuth (--auth xoauth2) where basic auth is off",
	  "basic auth off by default for existing tenants from end of Dec "
	  "2026 (MC786329)",
	  "MS1 MC786329" },
	{ "outlook", "Outlook.com / Hotmail", "smtp-mail.outlook.com",
	  "smtp-mail.outlook.com|smtp.live.com",
	  { S(587) }, NULL,
	  "an OAuth token (--auth xoauth2): password sign-in for personal "
	  "accounts ended on 2024-09-16",
	  "modern auth only since 2024-09-16",
	  "MS7 MS8" },
	{ "yahoo", "Yahoo Mail", "smtp.mail.yahoo.com",
	  "smtp.mail.yahoo.com|.mail.yahoo.com",
	  { T(465), S(587) }, NULL,
	  "the full address and an app password (needs 2-step verification)",
	  "the normal password draws '535 5.7.0 (#AUTH005)'",
	  "YH1 YH2" },
	{ "icloud", "iCloud Mail", "smtp.mail.me.com",
	  "smtp.mail.me.com|.mail.me.com",
	  { S(587) }, NULL,
	  "the full address and an app-specific password",
	  "app-specific password required",
	  "IC1 IC3" },
	{ "fastmail", "Fastmail", "smtp.fastmail.com",
	  "smtp.fastmail.com|.fastmail.com",
	  { T(465), S(587) }, NULL,
	  "the full address and an app password with SMTP access",
	  "app password needed",
	  "FM1 FM2" },
	{ "zoho", "Zoho Mail", "smtp.zoho.com",
	  "smtp.zoho.com|smtp.zoho.eu|smtppro.zoho.com|.zoho.com|.zoho.eu",
	  { S(587), T(465) }, NULL,
	  "the full address; the sender must be the account or one of its "
	  "aliases",
	  "AUTH offered only after STARTTLS; region hosts (smtp.zoho.eu)",
	  "ZO1" },
	{ "ses", "Amazon SES", "email-smtp.us-east-1.amazonaws.com",
	  ".amazonaws.com",
	  { S(587), T(465), S(2587), T(2465), S(25) }, NULL,
	  "the SMTP user name and password generated for this Region (not "
	  "IAM access keys)",
	  "host per Region (us-east-1 preset); sandbox sends to verified "
	  "addresses only",
	  "SES1 SES2" },
	{ "sendgrid", "SendGrid", "smtp.sendgrid.net",
	  "smtp.sendgrid.net|.sendgrid.net",
	  { S(587), T(465), S(2525), S(25) }, NULL,
	  "the user name 'apikey' (literally) and an API key with Mail Send "
	  "permission as the password",
	  "user is the word apikey",
	  "SG1" },
	{ "mailgun", "Mailgun", "smtp.mailgun.org",
	  "smtp.mailgun.org|smtp.eu.mailgun.org|.mailgun.org",
	  { S(587), T(465), S(2525), S(25) }, NULL,
	  "the domain's SMTP credentials (user such as postmaster@your-domain)",
	  "EU accounts use smtp.eu.mailgun.org",
	  "MG1" },
	{ "postmark", "Postmark", "smtp.postmarkapp.com",
	  "smtp.postmarkapp.com|smtp-broadcasts.postmarkapp.com|.postmarkapp.com",
	  { S(587), S(2525), S(25) },
	  "465: Postmark has no implicit-TLS port (a connection there hangs)",
	  "the Server API token as both user name and password",
	  "no 465; token as user and password",
	  "PM1 PM2" },
	{ "mailjet", "Mailjet", "in-v3.mailjet.com",
	  "in-v3.mailjet.com|.mailjet.com",
	  { S(587), S(2525) }, NULL,
	  "the API key as user name and the secret key as password",
	  "2525's TLS mode unconfirmed",
	  "MJ1 MJ2" },
	{ "brevo", "Brevo", "smtp-relay.brevo.com",
	  "smtp-relay.brevo.com|smtp-relay.sendinblue.com|.brevo.com",
	  { S(587), T(465), S(2525) }, NULL,
	  "the SMTP login shown in Brevo's settings and an SMTP key (not the "
	  "API key, not the account password)",
	  "SMTP key, not API key",
	  "BR1" },
	{ "sparkpost", "SparkPost", "smtp.sparkpostmail.com",
	  "smtp.sparkpostmail.com|smtp.eu.sparkpostmail.com|.sparkpostmail.com",
	  { S(587), S(2525) },
	  "465: SparkPost does not list an implicit-TLS port",
	  "the user name 'SMTP_Injection' and an API key with Send via SMTP "
	  "permission as the password",
	  "user is SMTP_Injection",
	  "SP1" },
	{ "resend", "Resend", "smtp.resend.com",
	  "smtp.resend.com|.resend.com",
	  { S(587), T(465), S(2587), T(2465), S(25) }, NULL,
	  "the user name 'resend' (literally) and an API key (re_...) as the "
	  "password",
	  "user is resend",
	  "RS1 RS2" },
};

#undef S
#undef T

const struct provider *
provider_table(size_t *n)
{
	*n = ARRAY_SIZE(table);
	return table;
}

const struct provider *
provider_find(const char *name)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(table); i++)
		if (!strcasecmp(table[i].name, name))
			return &table[i];
	return NULL;
}

/* Does host match one pattern of a "a|b|.suffix" list (case-insensitive,
 * a trailing dot on host ignored)? */
static bool
host_matches(const char *host, const char *patterns)
{
	size_t hl = strlen(host);
	if (hl && host[hl - 1] == '.')
		hl--;
	for (const char *p = patterns; *p; ) {
		size_t pl = strcspn(p, "|");
		if (pl && p[0] == '.') {
			/* ".example.com": any name under it */
			if (hl > pl && !strncasecmp(host + hl - pl, p, pl))
				return true;
		} else if (pl && hl == pl && !strncasecmp(host, p, pl)) {
			return true;
		}
		p += pl;
		if (*p == '|')
			p++;
	}
	return false;
}

/*
 * Signs of a provider besides the name we connected to: the names its MX
 * hosts and its greetings carry, and words of its greetings.  Kept apart
 * from the host patterns of the table on purpose: ".amazonaws.com" is
 * right for a host the user named for SES, and wrong for a greeting from
 * any EC2 machine.
 */
enum sign_kind { SIGN_NAME, SIGN_WORD };
static const struct {
	const char *provider;
	enum sign_kind kind;
	const char *what;	/* host patterns, or one word */
	const char *source;
} signs[] = {
	{ "gmail", SIGN_NAME, "aspmx.l.google.com|.aspmx.l.google.com|"
	  "gmail-smtp-in.l.google.com|.gmail-smtp-in.l.google.com|"
	  "mx.google.com",
	  "Google Workspace MX values (gist ergin/3e3ab90c, citing "
	  "support.google.com/a/answer/140034); gmail.com's MX "
	  "gmail-smtp-in.l.google.com (hashicorp/terraform#14021)" },
	{ "gmail", SIGN_WORD, "gsmtp",
	  "GM4: every Gmail reply ends '- gsmtp'; '220 smtp.gmail.com ESMTP "
	  "x62sm16538695wmf.13 - gsmtp' (mrisher/smtp-sts#58)" },
	{ "microsoft365", SIGN_NAME, ".mail.protection.outlook.com|"
	  ".outlook.office365.com|.prod.outlook.com",
	  "MS1 (port 25 to <domain>.mail.protection.outlook.com); '220 "
	  "xx.outlook.office365.com Microsoft ESMTP MAIL Service ready' and "
	  "'[xx.xx.PROD.OUTLOOK.COM ...]' (simonrob/email-oauth2-proxy#232)" },
	{ "ses", SIGN_NAME, "email-smtp.amazonaws.com",
	  "SES1 (the endpoint names email-smtp.<region>.amazonaws.com)" },
	{ "ses", SIGN_WORD, "SimpleEmailService",
	  "Amazon SES greeting '220 email-smtp.amazonaws.com ESMTP "
	  "SimpleEmailService-...' (U: seen in transcripts, no stored source)" },
};

static bool
sign_word(const char *text, const char *w)
{
	size_t n = strlen(w);
	for (const char *p = text; *p; p++)
		if ((p == text || !isalnum((unsigned char)p[-1])) &&
		    !strncasecmp(p, w, n) && !isalnum((unsigned char)p[n]))
			return true;
	return false;
}

/* SES endpoints carry the Region: email-smtp.<region>.amazonaws.com */
static bool
ses_endpoint(const char *name)
{
	static const char pre[] = "email-smtp.", suf[] = ".amazonaws.com";
	size_t n = strlen(name);
	return n > sizeof pre + sizeof suf &&
	       !strncasecmp(name, pre, sizeof pre - 1) &&
	       !strcasecmp(name + n - (sizeof suf - 1), suf) &&
	       !memchr(name + sizeof pre - 1, '.',
		       n - (sizeof pre - 1) - (sizeof suf - 1));
}

static const struct provider *
by_sign(const char *name, const char *text)
{
	for (size_t i = 0; i < ARRAY_SIZE(signs); i++) {
		bool hit = signs[i].kind == SIGN_NAME ?
			name && *name && host_matches(name, signs[i].what) :
			text && sign_word(text, signs[i].what);
		if (hit)
			return provider_find(signs[i].provider);
	}
	if (name && ses_endpoint(name))
		return provider_find("ses");
	return NULL;
}

/* The first word after the code of a greeting, into name. */
static void
greeting_name_of(const char *greeting, char *name, size_t len)
{
	const char *g = greeting;
	name[0] = '\0';
	if (strlen(g) > 4 && (g[3] == ' ' || g[3] == '-'))
		g += 4;
	size_t n = strcspn(g, " \t");
	if (n < len) {
		memcpy(name, g, n);
		name[n] = '\0';
	}
}

int
provider_greets_as(const struct provider *p, const char *greeting)
{
	bool known = false;
	for (size_t i = 0; p && i < ARRAY_SIZE(signs); i++)
		known |= !strcmp(signs[i].provider, p->name);
	if (!known || !greeting || strncmp(greeting, "220", 3))
		return -1;
	char name[256];
	greeting_name_of(greeting, name, sizeof name);
	if (by_sign(name, greeting) == p || (*name && host_matches(name, p->hosts)))
		return 1;
	return 0;
}

const struct provider *
provider_recognise(const char *host, const char *servername,
		   const char *greeting, const char *ehlo_name, const char **how)
{
	const struct provider *p;
	const char *dummy;
	if (!how)
		how = &dummy;
	*how = "the host name";
	if ((p = provider_by_host(host)) || (p = by_sign(host, NULL)))
		return p;
	*how = "the server name (the MX host with --mx)";
	if (servername && (!host || strcasecmp(servername, host)) &&
	    ((p = provider_by_host(servername)) || (p = by_sign(servername, NULL))))
		return p;
	*how = "the greeting";
	if (greeting) {
		char name[256];
		greeting_name_of(greeting, name, sizeof name);
		if ((p = by_sign(name, greeting)))
			return p;
	}
	*how = "the EHLO reply";
	if (ehlo_name && (p = by_sign(ehlo_name, NULL)))
		return p;
	*how = NULL;
	return NULL;
}

const struct provider *
provider_by_host(const char *host)
{
	if (!host || !*host)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(table); i++)
		if (host_matches(host, table[i].hosts))
			return &table[i];
	return NULL;
}

static const char *
mode_word(enum tls_mode m)
{
	return m == TLSM_IMPLICIT ? "implicit" : "starttls";
}

void
provider_ports_str(const struct provider *p, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (int i = 0; i < PROVIDER_MAX_PORTS && p->ports[i].port; i++) {
		int w = snprintf(buf + used, len - used, "%s%d/%s", i ? "," : "",
				 p->ports[i].port, mode_word(p->ports[i].mode));
		if (w < 0 || (size_t)w >= len - used)
			break;
		used += (size_t)w;
	}
}

enum tls_mode
provider_port_mode(const struct provider *p, int port)
{
	for (int i = 0; i < PROVIDER_MAX_PORTS && p->ports[i].port; i++)
		if (p->ports[i].port == port)
			return p->ports[i].mode;
	return TLSM_AUTO;
}

int
provider_alt_ports(const char *host, int failed_port, int *ports, int max)
{
	static const int std[] = { 587, 465, 2525 };
	const struct provider *pv = provider_by_host(host);
	int cand[PROVIDER_MAX_PORTS + 3], nc = 0, n = 0;
	if (pv)
		for (int i = 0; i < PROVIDER_MAX_PORTS && pv->ports[i].port; i++)
			cand[nc++] = pv->ports[i].port;
	for (size_t i = 0; i < ARRAY_SIZE(std); i++)
		cand[nc++] = std[i];
	for (int i = 0; i < nc && n < max; i++) {
		bool dup = cand[i] == failed_port || cand[i] == 25;
		for (int k = 0; k < n; k++)
			dup |= ports[k] == cand[i];
		if (!dup)
			ports[n++] = cand[i];
	}
	return n;
}

void
provider_list(FILE *out)
{
	char ports[128];
	for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
		provider_ports_str(&table[i], ports, sizeof ports);
		fprintf(out, "%s\t%s\t%s\t%s\n", table[i].name, table[i].host,
			ports, table[i].notes);
	}
}

/* "587 (--tls starttls) or 2525 (--tls starttls)": the provider's ports
 * other than skip, in its order of preference. */
static void
other_ports(const struct provider *p, int skip, struct buf *b)
{
	int n = 0;
	for (int i = 0; i < PROVIDER_MAX_PORTS && p->ports[i].port; i++) {
		if (p->ports[i].port == skip || p->ports[i].port == 25)
			continue;	/* never 25 for submission */
		buf_printf(b, "%s-p %d --tls %s", n ? " or " : "",
			   p->ports[i].port, mode_word(p->ports[i].mode));
		n++;
	}
	if (!n)
		buf_adds(b, "none other");
}

/* Is the diagnosis about reaching the port at all, or about speaking the
 * wrong TLS mode there? */
static bool
about_the_port(const char *id)
{
	static const char *const ids[] = {
		"connect.refused", "connect.timeout", "connect.port25_blocked",
		"connect.unreachable", "greeting.timeout", "greeting.not_smtp",
		"tls.expected_implicit", "tls.expected_starttls",
		"tls.handshake_failed", "session.closed", "session.timeout",
	};
	for (size_t i = 0; i < ARRAY_SIZE(ids); i++)
		if (!strcmp(id, ids[i]))
			return true;
	return false;
}

void
provider_annotate(struct diag_list *l, const struct provider *p, int port,
		  enum tls_mode mode)
{
	if (!p)
		return;
	for (size_t i = 0; i < l->n; i++) {
		struct diagnosis *d = &l->v[i];
		const struct diag_info *di = diag_info(d->id);
		if (d->sev != SEV_ERROR || !di)
			continue;
		struct buf b = { 0 };
		enum tls_mode want = provider_port_mode(p, port);
		if (about_the_port(di->id)) {
			size_t nl = p->not_offered ? strcspn(p->not_offered, ":") : 0;
			char portstr[16];
			snprintf(portstr, sizeof portstr, "%d", port);
			if (nl && strlen(portstr) == nl &&
			    !strncmp(p->not_offered, portstr, nl)) {
				buf_printf(&b, "%s (%s): use ",
					   p->not_offered + nl + 2, p->sources);
				other_ports(p, port, &b);
				buf_adds(&b, ".");
			} else if (want == TLSM_AUTO) {
				buf_printf(&b, "%s does not document port %d; its "
					   "ports are ", p->title, port);
				other_ports(p, -1, &b);
				buf_printf(&b, " (%s).", p->sources);
			} else if (mode != want && mode != TLSM_AUTO) {
				buf_printf(&b, "%s speaks %s TLS on port %d: use "
					   "--tls %s (%s).", p->title,
					   want == TLSM_IMPLICIT ? "implicit" :
					   "STARTTLS", port, mode_word(want),
					   p->sources);
			} else {
				buf_printf(&b, "%s also offers ", p->title);
				other_ports(p, port, &b);
				buf_printf(&b, ", if this network filters port "
					   "%d (%s).", port, p->sources);
			}
		} else if (d->step == STEP_AUTH &&
			   strcmp(di->id, "auth.plaintext_refused") != 0) {
			buf_printf(&b, "%s wants %s (%s).", p->title, p->login,
				   p->sources);
		}
		if (!b.len) {
			buf_free(&b);
			continue;
		}
		char *fix = xasprintf("%s%s%s", d->fix ? d->fix : "",
				d->fix && *d->fix ? " " : "", b.data);
		free(d->fix);
		d->fix = fix;
		buf_free(&b);
	}
}

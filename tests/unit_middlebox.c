/*
 * unit_middlebox.c - included by unit.c: the marks of a middlebox
 * (src/middlebox.def) and the provider recognised from the MX name, the
 * greeting and the EHLO name (provider_recognise).
 */
#include "../src/middlebox.h"

/* A transcript line as the session binds it: the verb it answers, its
 * code. */
static void
mb_line(struct transcript *tr, const char *verb, int code, const char *text)
{
	tr_add(tr, TR_SERVER, false, STEP_GREETING, text, strlen(text));
	struct tr_line *l = &tr->v[tr->n - 1];
	snprintf(l->verb, sizeof l->verb, "%s", verb);
	l->code = code;
}

static void
mb_check(const char *greeting, const char *ehlo_line, const char *err_line,
	 const char *issuer, bool provider_host, struct mb_seen *banner,
	 struct mb_seen *cert)
{
	struct transcript tr = { 0 };
	struct tls_info ti;
	memset(&ti, 0, sizeof ti);
	if (greeting)
		mb_line(&tr, "greeting", 220, greeting);
	if (ehlo_line)
		mb_line(&tr, "EHLO", 250, ehlo_line);
	if (err_line)
		mb_line(&tr, "EHLO", atoi(err_line), err_line);
	if (issuer) {
		ti.nchain = 1;
		ti.chain[0].issuer = (char *)issuer;
	}
	middlebox_check(&tr, &ti, provider_host, banner, cert);
	tr_free(&tr);
}

static void
test_middlebox(void)
{
	struct mb_seen b, c;

	/* Cisco ASA: the banner masked (jez.io log), STARTTLS masked in
	 * place, a command turned into X's (Cisco TAC 113423) */
	mb_check("220 ************************************", NULL, NULL, NULL,
		 false, &b, &c);
	CHECK(b.strong && strstr(b.product, "Cisco"),
	      "middlebox: a greeting of asterisks is Cisco ESMTP inspection");
	mb_check("220 *****************************0*0*2******0***2*00*", NULL,
		 NULL, NULL, false, &b, &c);
	CHECK(b.strong, "middlebox: the odd digit left in the mask still counts");
	mb_check("220 mail.example.com ESMTP Postfix", "250-XXXXXXXA", NULL,
		 NULL, false, &b, &c);
	CHECK(b.strong && !strcmp(b.evidence, "250-XXXXXXXA"),
	      "middlebox: STARTTLS masked as XXXXXXXA in the EHLO reply");
	mb_check("220 mail.example.com ESMTP", NULL,
		 "500 5.5.1 Command unrecognized: \"XXXX client.example.org\"",
		 NULL, false, &b, &c);
	CHECK(b.strong, "middlebox: the server complains of XXXX");

	/* what real servers say, never a mark */
	static const char *const clean[] = {
		"220 ip-10-0-1-17.ec2.internal ESMTP Postfix (Ubuntu)",
		("220 BN0PR04CA0123.outlook.office365.com Microsoft ESMTP MAIL "
		 "Service ready at Thu, 6 Sep 2018 15:14:16 +0800"),
		"220 mail.example.com ESMTP *** no UCE ***",
		("220 ************ Welcome to the Example mail service "
		 "************"),
		"220 smtp.gmail.com ESMTP x62sm16538695wmf.13 - gsmtp",
		"220 mx.example.com ESMTP Exim 4.96 Sat, 01 Dec 2026",
	};
	for (size_t i = 0; i < ARRAY_SIZE(clean); i++) {
		mb_check(clean[i], "250-XEXCH50", "502 5.5.2 Error: command not "
			 "recognized", "CN=R11,O=Let's Encrypt,C=US", false, &b, &c);
		CHECK(!b.strong && !b.note && !c.strong && !c.note,
		      nm("middlebox: no mark in a real server's '%.40s'", clean[i]));
	}

	/* gateway products: a note, unless the host is a provider's */
	mb_check("220 mx.example.com ESMTP Barracuda", NULL, NULL, NULL, false,
		 &b, &c);
	CHECK(!b.strong && b.note, "middlebox: a Barracuda greeting is a note only");
	mb_check("220 mx.example.com ESMTP Barracuda", NULL, NULL, NULL, true,
		 &b, &c);
	CHECK(b.strong, "middlebox: a Barracuda greeting for a provider's host is "
	      "strong");

	/* TLS interception, by the issuer */
	mb_check(NULL, NULL, NULL, "EMAIL=support@fortinet.com,CN=FortiGate CA,"
		 "OU=Certificate Authority,O=Fortinet,L=Sunnyvale,ST=California,"
		 "C=US", false, &b, &c);
	CHECK(c.strong && strstr(c.evidence, "FortiGate CA"),
	      "middlebox: a FortiGate CA issuer is TLS interception");
	mb_check(NULL, NULL, NULL, "CN=Zscaler Intermediate Root CA,O=Zscaler "
		 "Inc.", false, &b, &c);
	CHECK(c.strong, "middlebox: a Zscaler issuer is TLS interception");
	mb_check(NULL, NULL, NULL, "CN=FortiMail,O=Fortinet", false, &b, &c);
	CHECK(!c.strong && c.note, "middlebox: a bare Fortinet issuer is a note");
	size_t n;
	const struct mb_entry *t = middlebox_table(&n);
	bool sourced = n > 10;
	for (size_t i = 0; i < n; i++)
		sourced &= t[i].source && strlen(t[i].source) > 10 && *t[i].product;
	CHECK(sourced, "middlebox: every mark names its product and source");

	/* the tree: the banner is the diagnosis of the step it broke */
	struct facts f;
	struct diag_list l = { 0 };
	facts_init(&f);
	f.failed_step = STEP_STARTTLS;
	f.kind = FK_NOT_OFFERED;
	f.evidence = "250 SIZE 10240000";
	f.middlebox_banner = true;
	f.middlebox_evidence = "220 ****************";
	diag_decide(&f, &l);
	CHECK(l.n && !strcmp(diag_info(l.v[0].id)->id, "net.middlebox_banner") &&
	      l.v[0].sev == SEV_ERROR && !strcmp(l.v[0].evidence,
						 "220 ****************"),
	      "middlebox: STARTTLS missing behind a masked banner is "
	      "net.middlebox_banner, an error, its evidence the banner");
	diag_list_free(&l);
	/* broken elsewhere (AUTH masked, MAIL refused): still said, as a
	 * warning beside the step's own diagnosis */
	facts_init(&f);
	f.failed_step = STEP_MAIL;
	f.kind = FK_REPLY;
	f.code = 530;
	f.text = "530 5.7.0 Authentication required";
	f.middlebox_banner = true;
	f.middlebox_evidence = "220 ****************";
	diag_decide(&f, &l);
	CHECK(l.n == 2 && !strcmp(diag_info(l.v[0].id)->id, "mail.auth_required") &&
	      !strcmp(diag_info(l.v[1].id)->id, "net.middlebox_banner") &&
	      l.v[1].sev == SEV_WARNING,
	      "middlebox: a masked banner on a session that failed at MAIL is "
	      "still said, as a warning");
	diag_list_free(&l);
	facts_init(&f);
	f.failed_step = STEP_TLS;
	f.kind = FK_CERT;
	f.cert_problems = CP_UNTRUSTED;
	f.cert_intercepted = true;
	f.intercept_evidence = "certificate issuer: CN=FortiGate CA";
	diag_decide(&f, &l);
	CHECK(l.n == 1 && !strcmp(diag_info(l.v[0].id)->id, "tls.intercepted") &&
	      l.v[0].sev == SEV_ERROR,
	      "middlebox: an untrusted inspection CA is tls.intercepted, once");
	diag_list_free(&l);
	facts_init(&f);
	f.failed_step = STEP_AUTH;
	f.kind = FK_REPLY;
	f.code = 535;
	f.text = "535 5.7.8 Error: authentication failed";
	f.mech = "SCRAM-SHA-256-PLUS";
	f.cert_intercepted = true;
	f.intercept_evidence = "certificate issuer: CN=FortiGate CA";
	diag_decide(&f, &l);
	CHECK(l.n == 2 && !strcmp(diag_info(l.v[0].id)->id, "auth.failed") &&
	      strstr(l.v[0].explanation, "channel binding") &&
	      strstr(l.v[0].fix, "Do not change the password yet") &&
	      !strcmp(diag_info(l.v[1].id)->id, "tls.intercepted") &&
	      l.v[1].sev == SEV_WARNING &&
	      strstr(l.v[1].explanation, "SCRAM-SHA-256-PLUS"),
	      "middlebox: SCRAM-PLUS refused through an inspection CA: "
	      "auth.failed says the binding caught the proxy, and "
	      "tls.intercepted follows");
	diag_list_free(&l);
	f.mech = "PLAIN";
	diag_decide(&f, &l);
	CHECK(l.n && !strcmp(diag_info(l.v[0].id)->id, "auth.failed") &&
	      !strstr(l.v[0].explanation, "channel binding"),
	      "middlebox: PLAIN refused through it is plain auth.failed");
	diag_list_free(&l);
	facts_init(&f);
	f.cert_intercepted = true;
	f.intercept_evidence = "certificate issuer: CN=FortiGate CA";
	diag_decide(&f, &l);
	CHECK(l.n == 1 && !strcmp(diag_info(l.v[0].id)->id, "tls.intercepted") &&
	      l.v[0].sev == SEV_WARNING,
	      "middlebox: a trusted inspection CA (a session that worked) is a "
	      "tls.intercepted warning");
	diag_list_free(&l);
}

static void
test_provider_recognise(void)
{
	const char *how = NULL;
	const struct provider *p;
	p = provider_recognise("192.0.2.7", "aspmx.l.google.com", NULL, NULL, &how);
	CHECK(p && !strcmp(p->name, "gmail") && strstr(how, "MX"),
	      "recognise: the MX host aspmx.l.google.com is Google");
	p = provider_recognise("192.0.2.7", "alt2.aspmx.l.google.com", NULL, NULL, NULL);
	CHECK(p && !strcmp(p->name, "gmail"), "recognise: alt2.aspmx.l.google.com");
	p = provider_recognise("192.0.2.7", "example-org.mail.protection.outlook.com",
			       NULL, NULL, NULL);
	CHECK(p && !strcmp(p->name, "microsoft365"),
	      "recognise: *.mail.protection.outlook.com is Microsoft 365");
	p = provider_recognise("127.0.0.1", NULL, "220 smtp.gmail.com ESMTP "
			       "a640c23a62f3a-abc.123 - gsmtp", NULL, &how);
	CHECK(p && !strcmp(p->name, "gmail") && !strcmp(how, "the greeting"),
	      "recognise: a greeting ending in - gsmtp is Gmail");
	p = provider_recognise("127.0.0.1", NULL, "220 mx.relay.example ESMTP "
			       "ready - gsmtp", NULL, NULL);
	CHECK(p && !strcmp(p->name, "gmail"), "recognise: the gsmtp word alone");
	p = provider_recognise("127.0.0.1", NULL, "220 BN0PR04CA0123.outlook."
			       "office365.com Microsoft ESMTP MAIL Service ready",
			       NULL, NULL);
	CHECK(p && !strcmp(p->name, "microsoft365"),
	      "recognise: an outlook.office365.com greeting is Microsoft 365");
	p = provider_recognise("127.0.0.1", NULL, "220 exch01.corp.example "
			       "Microsoft ESMTP MAIL Service ready", NULL, NULL);
	CHECK(p == NULL, "recognise: an on-premises Exchange greeting is no "
	      "provider");
	p = provider_recognise("127.0.0.1", NULL, "220 email-smtp.amazonaws.com "
			       "ESMTP SimpleEmailService-d-ABC", NULL, NULL);
	CHECK(p && !strcmp(p->name, "ses"), "recognise: the SES greeting");
	p = provider_recognise("127.0.0.1", NULL, "220 email-smtp.eu-west-1."
			       "amazonaws.com ESMTP", NULL, NULL);
	CHECK(p && !strcmp(p->name, "ses"), "recognise: a regional SES endpoint name");
	p = provider_recognise("127.0.0.1", NULL, "220 ec2-198-51-100-7.compute-1."
			       "amazonaws.com ESMTP Postfix", NULL, NULL);
	CHECK(p == NULL, "recognise: any EC2 machine's greeting is not SES");
	p = provider_recognise("127.0.0.1", NULL, "220 mail.example.com ESMTP",
			       "mx.google.com", NULL);
	CHECK(p && !strcmp(p->name, "gmail"), "recognise: the EHLO name");
	p = provider_recognise("smtp.postmarkapp.com", NULL, "220 smtp.gmail.com "
			       "ESMTP - gsmtp", NULL, &how);
	CHECK(p && !strcmp(p->name, "postmark") && !strcmp(how, "the host name"),
	      "recognise: the host name first");
	const struct provider *gm = provider_find("gmail");
	CHECK_INT(provider_greets_as(gm, "220 smtp.gmail.com ESMTP "
				     "a640c23a62f3a-abc.123 - gsmtp"), 1,
		  "greets as: Gmail's own greeting");
	CHECK_INT(provider_greets_as(gm, "220 captive.hotel.example ESMTP "
				     "Postfix"), 0,
		  "greets as: a hotel's proxy greeting for smtp.gmail.com is not "
		  "Gmail's");
	CHECK_INT(provider_greets_as(gm, "554 5.7.1 go away"), -1,
		  "greets as: a refusal says nothing");
	CHECK_INT(provider_greets_as(provider_find("postmark"), "220 x ESMTP"), -1,
		  "greets as: a provider with no greeting marks on record");
	CHECK(provider_recognise("127.0.0.1", "mail.smtpdx.lab", "220 "
				 "mail.smtpdx.lab ESMTP", "mail.smtpdx.lab",
				 NULL) == NULL, "recognise: the lab is no provider");
}

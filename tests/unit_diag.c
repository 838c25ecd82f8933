/*
 * unit_diag.c - included by unit.c: the decision tree and the diagnosis
 * catalog (src/diag.h), fed with hand-made facts.
 */

/* A session that got as far as it could with everything fine. */
static void
facts_init(struct facts *f)
{
	memset(f, 0, sizeof *f);
	f->failed_step = -1;
	f->port = 587;
	f->tls_mode = TLSM_STARTTLS;
	f->tls_version = 13;
	f->encrypted = true;
	f->starttls_offered = true;
	f->host = "mx.example.com";
	f->servername = "mx.example.com";
	f->user = "alice@example.com";
	f->helo = "client.example.org";
	f->from = "alice@example.com";
	f->to = "bob@example.org";
	f->mech = "PLAIN";
	f->evidence = "";
}

/* The failing reply, with its enhanced code as the session takes it. */
static void
facts_reply(struct facts *f, int step, int code, const char *text)
{
	struct enh_code e = { 0, 0, 0 };
	f->failed_step = step;
	f->kind = FK_REPLY;
	f->code = code;
	f->text = text;
	enh_parse(text, &e);
	f->enh_class = e.cls;
	f->enh_subject = e.subject;
	f->enh_detail = e.detail;
}

static const char *
diag_id_of(const struct diag_list *l, size_t i)
{
	return i < l->n ? diag_info(l->v[i].id)->id : "(none)";
}

/* Is there a '{' left in the filled-in texts of d? */
static bool
leftover_placeholder(const struct diagnosis *d)
{
	return strchr(d->explanation, '{') || strchr(d->fix, '{') ||
	       strchr(d->explanation, '}') || strchr(d->fix, '}');
}

enum { DF_PROBE_OK = 1, DF_PLAINTEXT = 2, DF_NO_STARTTLS = 4 };

struct dcase {
	const char *what;
	int step;
	enum fail_kind kind;
	int code;
	const char *text;
	const char *want;
	int port;		/* 0: 587 */
	int tlsmode;		/* 0: starttls */
	unsigned cert;		/* CP_* bits */
	unsigned flags;		/* DF_* */
	enum severity sev;	/* expected; SEV_ERROR is 0 */
};

/* Short positional rows; the fields left out are zero. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const struct dcase dcases[] = {
	/* AUTH */
	{ "auth 535 5.7.8 authentication failure", STEP_AUTH, FK_REPLY, 535,
	  "5.7.8 Error: authentication failed: authentication failure", "auth.failed" },
	{ "auth 535 Gmail BadCredentials", STEP_AUTH, FK_REPLY, 535,
	  "5.7.8 Username and Password not accepted. Learn more at "
	  "https://support.google.com/mail/?p=BadCredentials", "auth.failed" },
	{ "auth 535 5.7.3 (Microsoft) unsuccessful", STEP_AUTH, FK_REPLY, 535,
	  "5.7.3 Authentication unsuccessful [AM0PR02CA0001.eurprd02.prod.outlook.com]",
	  "auth.failed" },
	{ "auth 534 5.7.9 application-specific password", STEP_AUTH, FK_REPLY, 534,
	  "5.7.9 Application-specific password required", "auth.app_password_required" },
	{ "auth 534 5.7.14 web login", STEP_AUTH, FK_REPLY, 534,
	  "5.7.14 <https://accounts.google.com/signin/continue?sarp=1> Please log "
	  "in via your web browser and then try again.", "auth.web_login_required" },
	{ "auth 535 5.7.139 SmtpClientAuthentication disabled", STEP_AUTH, FK_REPLY, 535,
	  "5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled "
	  "for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.",
	  "auth.disabled_for_account" },
	{ "auth 535 5.7.139 basic authentication disabled", STEP_AUTH, FK_REPLY, 535,
	  "5.7.139 Authentication unsuccessful, basic authentication is disabled. "
	  "[DB8PR04CA0001.eurprd04.prod.outlook.com]", "auth.basic_disabled" },
	{ "auth 535 5.7.139 other account policy", STEP_AUTH, FK_REPLY, 535,
	  "5.7.139 Authentication unsuccessful, the request did not meet the "
	  "criteria to be authenticated successfully.", "auth.disabled_for_account" },
	{ "auth 535 generic failure", STEP_AUTH, FK_REPLY, 535,
	  "generic failure", "auth.server_error" },
	{ "auth 454 temporary authentication failure", STEP_AUTH, FK_REPLY, 454,
	  "4.7.0 Temporary authentication failure", "auth.temporary" },
	{ "auth 538 encryption required", STEP_AUTH, FK_REPLY, 538,
	  "5.7.11 Encryption required for requested authentication mechanism",
	  "auth.requires_tls" },
	{ "auth 504 unrecognized type", STEP_AUTH, FK_REPLY, 504,
	  "5.5.4 Unrecognized authentication type", "auth.mech_unsupported" },
	{ "auth not offered, plaintext with STARTTLS offered", STEP_AUTH,
	  FK_NOT_OFFERED, 0, NULL, "auth.requires_tls", 0, 0, 0, DF_PLAINTEXT },
	{ "auth not offered inside TLS", STEP_AUTH, FK_NOT_OFFERED, 0, NULL,
	  "auth.not_offered" },
	{ "auth not offered, plaintext, no STARTTLS", STEP_AUTH, FK_NOT_OFFERED, 0,
	  NULL, "auth.not_offered", 0, 0, 0, DF_PLAINTEXT | DF_NO_STARTTLS },
	{ "auth refused in plaintext", STEP_AUTH, FK_PLAINTEXT_REFUSED, 0, NULL,
	  "auth.plaintext_refused" },
	{ "auth no common mechanism", STEP_AUTH, FK_MECH_UNSUPPORTED, 0, NULL,
	  "auth.mech_unsupported" },

	/* RCPT */
	{ "rcpt 554 Relay access denied", STEP_RCPT, FK_REPLY, 554,
	  "5.7.1 <bob@example.org>: Relay access denied", "rcpt.relay_denied" },
	{ "rcpt 550 5.7.54 unable to relay", STEP_RCPT, FK_REPLY, 550,
	  "5.7.54 SMTP; Unable to relay recipient in non-accepted domain",
	  "rcpt.relay_denied" },
	{ "rcpt 450 Greylisted", STEP_RCPT, FK_REPLY, 450,
	  "4.2.0 <bob@example.org>: Recipient address rejected: Greylisted, see "
	  "http://postgrey.schweikert.ch/help/example.org.html", "rcpt.greylisted" },
	/* "try again later" alone proves no greylisting: a 4xx is a 'not now' */
	{ "rcpt 451 please try again later", STEP_RCPT, FK_REPLY, 451,
	  "4.7.1 Please try again later", "rcpt.temporary" },
	{ "rcpt 451 rspamd greylist wording", STEP_RCPT, FK_REPLY, 451,
	  "4.7.1 Try again later", "rcpt.greylisted" },
	{ "rcpt 550 5.1.1 User unknown", STEP_RCPT, FK_REPLY, 550,
	  "5.1.1 User unknown", "rcpt.unknown_user" },
	{ "rcpt 550 5.1.1 user unknown, mailbox named marble", STEP_RCPT, FK_REPLY, 550,
	  "5.1.1 <marble@example.org>: Recipient address rejected: User unknown in "
	  "local recipient table", "rcpt.unknown_user" },
	{ "rcpt 504 Helo command rejected", STEP_RCPT, FK_REPLY, 504,
	  "5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname",
	  "rcpt.helo_rejected" },
	{ "rcpt 554 blocked using zen.spamhaus.org", STEP_RCPT, FK_REPLY, 554,
	  "5.7.1 Service unavailable; Client host [192.0.2.10] blocked using "
	  "zen.spamhaus.org", "rcpt.blocklisted" },
	{ "rcpt 450 Client host rejected", STEP_RCPT, FK_REPLY, 450,
	  "4.7.25 Client host rejected: cannot find your hostname, [192.0.2.10]",
	  "rcpt.client_host_rejected" },
	{ "rcpt 550 rejected by policy", STEP_RCPT, FK_REPLY, 550,
	  "5.7.1 Recipient rejected by policy", "rcpt.rejected" },

	/* MAIL */
	{ "mail 530 Must issue a STARTTLS command first", STEP_MAIL, FK_REPLY, 530,
	  "5.7.0 Must issue a STARTTLS command first", "mail.tls_required",
	  0, 0, 0, DF_PLAINTEXT },
	{ "mail 451 STARTTLS is required", STEP_MAIL, FK_REPLY, 451,
	  "5.7.3 STARTTLS is required to send mail", "mail.tls_required",
	  0, 0, 0, DF_PLAINTEXT },
	{ "mail 530 Authentication required", STEP_MAIL, FK_REPLY, 530,
	  "5.7.0 Authentication required", "mail.auth_required" },
	{ "mail 552 size", STEP_MAIL, FK_REPLY, 552,
	  "5.3.4 Message size exceeds fixed limit", "mail.size_exceeded" },
	{ "mail 553 sender rejected", STEP_MAIL, FK_REPLY, 553,
	  "5.7.1 <a@example.com>: Sender address rejected: not owned by user alice",
	  "mail.sender_rejected" },
	{ "mail 421 too many errors", STEP_MAIL, FK_REPLY, 421,
	  "4.7.0 mx.example.com Error: too many errors", "session.too_many_errors" },
	{ "mail 421 unsolicited mail rate", STEP_MAIL, FK_REPLY, 421,
	  "4.7.0 Our system has detected an unusual rate of unsolicited mail",
	  "session.rate_limited" },
	{ "mail connection closed", STEP_MAIL, FK_CLOSED, 0, NULL, "session.closed" },

	/* DATA */
	{ "data 552 size", STEP_DATA, FK_REPLY, 552,
	  "5.3.4 Message size exceeds fixed maximum message size", "data.size_exceeded" },
	{ "data 451 queue file write error", STEP_DATA, FK_REPLY, 451,
	  "4.3.0 Error: queue file write error", "data.temporary" },
	{ "data 550 5.7.26 unauthenticated", STEP_DATA, FK_REPLY, 550,
	  "5.7.26 This mail is unauthenticated, which poses a security risk to the "
	  "sender and Gmail users", "data.unauthenticated" },
	{ "data 554 SendAsDenied", STEP_DATA, FK_REPLY, 554,
	  "5.2.0 STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied",
	  "data.send_as_denied" },
	{ "data 554 content rejected", STEP_DATA, FK_REPLY, 554,
	  "5.6.0 Message rejected: content", "data.rejected" },
	{ "data timed out", STEP_DATA, FK_TIMEOUT, 0, NULL, "session.timeout" },

	/* greeting, connect, resolve */
	{ "greeting timeout, TLS probe worked", STEP_GREETING, FK_TIMEOUT, 0, NULL,
	  "tls.expected_implicit", 465, TLSM_STARTTLS, 0, DF_PROBE_OK },
	{ "greeting timeout, no probe", STEP_GREETING, FK_TIMEOUT, 0, NULL,
	  "greeting.timeout" },
	{ "greeting 554 refused", STEP_GREETING, FK_REPLY, 554,
	  "5.7.1 Service unavailable; Client host [192.0.2.10] blocked",
	  "greeting.rejected" },
	{ "greeting 421 too many connections: a limit on us", STEP_GREETING,
	  FK_REPLY, 421, "4.7.0 mx.example.com Error: too many connections from "
	  "192.0.2.10", "session.rate_limited" },
	{ "greeting 421 busy", STEP_GREETING, FK_REPLY, 421,
	  "mx.example.com Temporary failure", "greeting.busy" },
	{ "greeting 554 synchronization", STEP_GREETING, FK_REPLY, 554,
	  "5.5.0 Error: SMTP protocol synchronization", "proto.sync_error" },
	{ "greeting not SMTP", STEP_GREETING, FK_NOT_SMTP, 0, NULL, "greeting.not_smtp" },
	{ "greeting line too long", STEP_GREETING, FK_LINE_TOO_LONG, 0, NULL,
	  "proto.line_too_long" },
	{ "connect timeout on 25", STEP_CONNECT, FK_TIMEOUT, 0, NULL,
	  "connect.port25_blocked", 25 },
	{ "connect timeout on 587", STEP_CONNECT, FK_TIMEOUT, 0, NULL,
	  "connect.timeout", 587 },
	{ "connect refused", STEP_CONNECT, FK_REFUSED, 0, NULL, "connect.refused" },
	{ "connect unreachable", STEP_CONNECT, FK_UNREACHABLE, 0, NULL,
	  "connect.unreachable" },
	{ "connect cancelled", STEP_CONNECT, FK_CANCELLED, 0, NULL,
	  "session.cancelled", 0, 0, 0, 0, SEV_INFO },
	{ "resolve not found", STEP_RESOLVE, FK_DNS_NOT_FOUND, 0, NULL, "dns.not_found" },
	{ "resolve temporary failure", STEP_RESOLVE, FK_DNS_TEMPORARY, 0, NULL,
	  "dns.failure" },
	{ "resolve null MX", STEP_RESOLVE, FK_NULL_MX, 0, NULL, "dns.null_mx" },

	/* EHLO, STARTTLS, TLS */
	{ "ehlo 501 rejected", STEP_EHLO, FK_REPLY, 501, "5.5.2 Syntax: EHLO hostname",
	  "ehlo.rejected" },
	{ "ehlo malformed reply", STEP_EHLO, FK_MALFORMED, 0, NULL,
	  "proto.malformed_reply" },
	{ "ehlo reply too long", STEP_EHLO, FK_REPLY_TOO_LONG, 0, NULL,
	  "proto.reply_too_long" },
	{ "starttls not offered", STEP_STARTTLS, FK_NOT_OFFERED, 0, NULL,
	  "starttls.not_offered", 0, 0, 0, DF_PLAINTEXT | DF_NO_STARTTLS },
	{ "starttls 454 refused", STEP_STARTTLS, FK_REPLY, 454,
	  "4.7.0 TLS not available due to local problem", "starttls.refused" },
	{ "starttls injection", STEP_STARTTLS, FK_INJECTION, 0, NULL,
	  "starttls.injection" },
	{ "tls: plaintext where TLS was expected", STEP_TLS, FK_TLS_NOT_TLS, 0, NULL,
	  "tls.expected_starttls", 2525, TLSM_IMPLICIT },
	{ "tls: no version in common", STEP_TLS, FK_TLS_VERSION, 0, NULL,
	  "tls.version_mismatch" },
	{ "tls: handshake failed", STEP_TLS, FK_TLS_OTHER, 0, NULL,
	  "tls.handshake_failed" },
	{ "tls: silent implicit-TLS port", STEP_TLS, FK_TIMEOUT, 0, NULL,
	  "greeting.timeout", 465, TLSM_IMPLICIT },
	{ "tls: certificate untrusted", STEP_TLS, FK_CERT, 0, NULL,
	  "tls.cert_untrusted", 0, 0, CP_UNTRUSTED },
	{ "tls: no certificate", STEP_TLS, FK_CERT, 0, NULL,
	  "tls.cert_untrusted", 0, 0, CP_NO_CERT },
	{ "tls: certificate expired", STEP_TLS, FK_CERT, 0, NULL,
	  "tls.cert_expired", 0, 0, CP_EXPIRED },
	{ "tls: certificate not yet valid", STEP_TLS, FK_CERT, 0, NULL,
	  "tls.cert_not_yet_valid", 0, 0, CP_NOT_YET_VALID },
	{ "tls: certificate for another name", STEP_TLS, FK_CERT, 0, NULL,
	  "tls.cert_hostname_mismatch", 0, 0, CP_HOSTNAME },
	{ "tls: untrusted and wrong name: untrusted first", STEP_TLS, FK_CERT, 0, NULL,
	  "tls.cert_untrusted", 0, 0, CP_UNTRUSTED | CP_HOSTNAME },
	{ "tls: expired and wrong name: expired first", STEP_TLS, FK_CERT, 0, NULL,
	  "tls.cert_expired", 0, 0, CP_EXPIRED | CP_HOSTNAME },
	{ "tls: an intermediate left out", STEP_TLS, FK_CERT, 0, NULL,
	  "tls.chain_incomplete", 0, 0, CP_CHAIN_INCOMPLETE },
	{ "tls: a clientAuth-only leaf", STEP_TLS, FK_CERT, 0, NULL,
	  "tls.cert_wrong_purpose", 0, 0, CP_PURPOSE },
	{ "tls: refused for SHA-1: weak, an error", STEP_TLS, FK_CERT, 0, NULL,
	  "tls.weak_key", 0, 0, CP_WEAK },
	{ "tls: revoked or bad signature", STEP_TLS, FK_CERT, 0, NULL,
	  "tls.cert_invalid", 0, 0, CP_OTHER },
	{ "tls: the server wants a client certificate", STEP_TLS,
	  FK_TLS_CLIENT_CERT, 0, NULL, "tls.client_cert_required" },
	{ "tls: internal_error from the server", STEP_TLS, FK_TLS_SERVER_ERROR,
	  0, NULL, "tls.server_error" },
};
#pragma GCC diagnostic pop

static void
facts_from_case(struct facts *f, const struct dcase *c)
{
	facts_init(f);
	if (c->kind == FK_REPLY) {
		facts_reply(f, c->step, c->code, c->text);
	} else {
		f->failed_step = c->step;
		f->kind = c->kind;
	}
	if (c->port)
		f->port = c->port;
	if (c->tlsmode)
		f->tls_mode = c->tlsmode;
	f->cert_problems = c->cert;
	if (c->cert)
		f->cert_evidence = "certificate problem";
	if (c->flags & DF_PROBE_OK)
		f->probe_tried = f->probe_ok = true;
	if (c->flags & DF_PLAINTEXT) {
		f->encrypted = false;
		f->tls_version = 0;
	}
	if (c->flags & DF_NO_STARTTLS)
		f->starttls_offered = false;
	if (c->step >= STEP_AUTH)
		f->has_user = true;
	f->evidence = c->text ? c->text : fail_kind_name(c->kind);
}

static void
test_diag_tree(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(dcases); i++) {
		const struct dcase *c = &dcases[i];
		struct facts f;
		struct diag_list l = { 0 };

		facts_from_case(&f, c);
		diag_decide(&f, &l);
		CHECK_STR(diag_id_of(&l, 0), c->want, nm("diag: %s -> %s", c->what, c->want));
		if (l.n == 0) {
			CHECK(false, nm("diag: %s: severity", c->what));
			CHECK(false, nm("diag: %s: path from root", c->what));
			CHECK(false, nm("diag: %s: step", c->what));
			CHECK(false, nm("diag: %s: placeholders filled", c->what));
			continue;
		}
		const struct diagnosis *d = &l.v[0];
		CHECK_STR(severity_name(d->sev), severity_name(c->sev),
			  nm("diag: %s: severity %s", c->what, severity_name(c->sev)));
		CHECK_STR(d->npath ? d->path[0].node : NULL, "root",
			  nm("diag: %s: path starts at root", c->what));
		CHECK_STR(step_name(d->step), step_name((enum step)c->step),
			  nm("diag: %s: step %s", c->what, step_name((enum step)c->step)));
		CHECK(!leftover_placeholder(d),
		      nm("diag: %s: no {placeholder} left", c->what));
		diag_list_free(&l);
	}

	/* a closer look at one walk */
	struct facts f;
	struct diag_list l = { 0 };
	facts_init(&f);
	facts_reply(&f, STEP_AUTH, 535, "5.7.8 Error: authentication failed: "
		    "authentication failure");
	f.evidence = "535 5.7.8 Error: authentication failed: authentication failure";
	f.has_user = true;
	diag_decide(&f, &l);
	CHECK_INT(l.n, 1, "diag: auth.failed: one diagnosis, no warnings");
	{
		static const struct diagnosis none;
		const struct diagnosis *d = l.n ? &l.v[0] : &none;
		bool seen_code = false, seen_stage = false;
		for (size_t k = 0; k < d->npath; k++) {
			if (!strcmp(d->path[k].node, "auth.code") &&
			    !strcmp(d->path[k].answer, "535"))
				seen_code = true;
			if (!strcmp(d->path[k].node, "stage") &&
			    !strcmp(d->path[k].answer, "auth"))
				seen_stage = true;
		}
		CHECK(seen_stage, "diag: auth.failed: path answers stage=auth");
		CHECK(seen_code, "diag: auth.failed: path answers auth.code=535");
		CHECK_STR(d->evidence, f.evidence, "diag: auth.failed: evidence kept");
		CHECK(d->npath && d->path[0].question && *d->path[0].question,
		      "diag: path nodes carry their question");
		CHECK(diag_has_error(&l), "diag: auth.failed: diag_has_error");
	}
	diag_list_free(&l);
	CHECK(l.v == NULL && l.n == 0, "diag: diag_list_free empties the list");

	/* placeholders: filled with the facts, escaped */
	facts_init(&f);
	f.failed_step = STEP_CONNECT;
	f.kind = FK_TIMEOUT;
	f.port = 2525;
	diag_decide(&f, &l);
	CHECK(l.n && has(l.v[0].explanation, "mx.example.com port 2525"),
	      "diag: connect.timeout explanation names {host} port {port}");
	diag_list_free(&l);

	facts_init(&f);
	f.failed_step = STEP_CONNECT;
	f.kind = FK_TIMEOUT;
	f.port = 25;
	diag_decide(&f, &l);
	CHECK(l.n && has(l.v[0].fix, "-p 465 --tls implicit"),
	      "diag: port25_blocked fix: {altport} {altmode} = 465 implicit");
	diag_list_free(&l);

	facts_init(&f);
	f.failed_step = STEP_GREETING;
	f.kind = FK_TIMEOUT;
	f.port = 465;
	f.probe_tried = f.probe_ok = true;
	diag_decide(&f, &l);
	CHECK(l.n && has(l.v[0].fix, "--tls implicit on port 465") &&
	      has(l.v[0].fix, "-p 587 --tls starttls"),
	      "diag: expected_implicit on 465: try implicit, or 587 starttls");
	CHECK(l.n && has(l.v[0].explanation, "in starttls mode"),
	      "diag: expected_implicit: {tlsmode} is the mode used");
	diag_list_free(&l);

	/* A STARTTLS client met implicit TLS on 587 itself: the alternative
	 * the fix offers must not be the very thing that just failed. */
	facts_init(&f);
	f.failed_step = STEP_GREETING;
	f.kind = FK_TIMEOUT;
	f.port = 587;
	f.probe_tried = f.probe_ok = true;
	diag_decide(&f, &l);
	if (!CHECK(l.n && !strcmp(diag_id_of(&l, 0), "tls.expected_implicit") &&
		   !has(l.v[0].fix, "-p 587 --tls starttls"),
		   "diag: expected_implicit on 587: fix does not suggest -p 587 --tls starttls") &&
	    l.n)
		printf("# fix: %s\n", l.v[0].fix);
	diag_list_free(&l);

	facts_init(&f);
	f.failed_step = STEP_TLS;
	f.kind = FK_TLS_NOT_TLS;
	f.port = 2525;
	f.tls_mode = TLSM_IMPLICIT;
	diag_decide(&f, &l);
	CHECK(l.n && has(l.v[0].fix, "--tls starttls on port 2525") &&
	      has(l.v[0].fix, "-p 587 --tls starttls"),
	      "diag: expected_starttls: starttls on this port, or 587");
	diag_list_free(&l);

	facts_init(&f);
	f.failed_step = STEP_RESOLVE;
	f.kind = FK_DNS_NOT_FOUND;
	f.host = "evil\x1b[2J.example\n";
	diag_decide(&f, &l);
	CHECK(l.n && has(l.v[0].explanation, "evil\\x1b[2J.example\\n") &&
	      !strchr(l.v[0].explanation, '\x1b') && !strchr(l.v[0].fix, '\n'),
	      "diag: placeholder values are escaped (no raw ESC or LF)");
	diag_list_free(&l);
}

/* Exactly n diagnoses, the first want, with severity sev. */
static void
expect_n(const struct facts *f, size_t n, const char *want, enum severity sev,
	 const char *what)
{
	struct diag_list l = { 0 };
	diag_decide(f, &l);
	CHECK_INT(l.n, n, nm("warn: %s: exactly %zu diagnos%s", what, n,
			     n == 1 ? "is" : "es"));
	CHECK_STR(diag_id_of(&l, 0), want, nm("warn: %s -> %s", what, want));
	CHECK_STR(l.n ? severity_name(l.v[0].sev) : "(none)", severity_name(sev),
		  nm("warn: %s: severity %s", what, severity_name(sev)));
	CHECK(l.n && !leftover_placeholder(&l.v[0]),
	      nm("warn: %s: no {placeholder} left", what));
	CHECK(!diag_has_error(&l) == (sev != SEV_ERROR),
	      nm("warn: %s: diag_has_error is %s", what, sev == SEV_ERROR ? "true" : "false"));
	diag_list_free(&l);
}

static void
expect_only(const struct facts *f, const char *want, enum severity sev,
	    const char *what)
{
	expect_n(f, 1, want, sev, what);
}

/* --insecure past a bad certificate: the specific problem as a warning,
 * then tls.cert_ignored (encrypted but not authenticated). */
static void
expect_insecure(const struct facts *f, const char *want, const char *what)
{
	struct diag_list l = { 0 };
	expect_n(f, 2, want, SEV_WARNING, what);
	diag_decide(f, &l);
	CHECK_STR(diag_id_of(&l, 1), "tls.cert_ignored",
		  nm("warn: %s: then tls.cert_ignored", what));
	diag_list_free(&l);
}

static void
test_diag_warnings(void)
{
	struct facts f;
	struct diag_list l = { 0 };

	facts_init(&f);
	f.has_user = f.authenticated = true;
	diag_decide(&f, &l);
	CHECK_INT(l.n, 0, "warn: a clean session has no diagnosis");
	CHECK(!diag_has_error(&l), "warn: a clean session has no error");
	diag_list_free(&l);

	facts_init(&f);
	f.tls_version = 11;
	f.tls_evidence = "TLS1.1";
	expect_only(&f, "tls.weak_version", SEV_WARNING, "TLS 1.1");
	diag_decide(&f, &l);
	CHECK(l.n && !strcmp(l.v[0].path[0].node, "w.tls") &&
	      !strcmp(l.v[0].evidence, "TLS1.1"), "warn: TLS 1.1: path w.tls, evidence");
	diag_list_free(&l);

	facts_init(&f);
	f.tls_version = 10;
	expect_only(&f, "tls.weak_version", SEV_WARNING, "TLS 1.0");

	facts_init(&f);
	f.tls_version = 12;
	diag_decide(&f, &l);
	CHECK_INT(l.n, 0, "warn: TLS 1.2 is no warning");
	diag_list_free(&l);

	facts_init(&f);
	f.auth_before_tls = true;
	f.auth_plain_evidence = "250-AUTH PLAIN LOGIN";
	expect_only(&f, "auth.offered_in_plaintext", SEV_WARNING, "AUTH before TLS");
	diag_decide(&f, &l);
	CHECK(l.n && !strcmp(l.v[0].evidence, "250-AUTH PLAIN LOGIN"),
	      "warn: AUTH before TLS: evidence is the EHLO line");
	diag_list_free(&l);

	facts_init(&f);
	f.port = 25;
	f.has_user = f.authenticated = true;
	expect_only(&f, "port25.submission", SEV_WARNING, "AUTH on port 25");
	diag_decide(&f, &l);
	CHECK(l.n && has(l.v[0].evidence, "alice@example.com") &&
	      has(l.v[0].evidence, "25"), "warn: port 25: evidence names user and port");
	CHECK(l.n && has(l.v[0].fix, "-p 465 --tls implicit"),
	      "warn: port 25: fix suggests 465 implicit");
	diag_list_free(&l);

	facts_init(&f);
	f.port = 25;
	f.user = NULL;
	diag_decide(&f, &l);
	CHECK_INT(l.n, 0, "warn: port 25 without -u is fine (relay)");
	diag_list_free(&l);

	facts_init(&f);
	f.insecure = true;
	f.cert_problems = CP_UNTRUSTED;
	f.cert_evidence = "signer not found";
	expect_insecure(&f, "tls.cert_untrusted", "--insecure, untrusted");

	facts_init(&f);
	f.insecure = true;
	f.cert_problems = CP_EXPIRED;
	expect_insecure(&f, "tls.cert_expired", "--insecure, expired");

	facts_init(&f);
	f.insecure = true;
	f.cert_problems = CP_HOSTNAME;
	expect_insecure(&f, "tls.cert_hostname_mismatch", "--insecure, wrong name");

	facts_init(&f);
	f.cert_problems = CP_UNTRUSTED;
	diag_decide(&f, &l);
	CHECK_INT(l.n, 0, "warn: certificate problems without --insecure add no warning");
	diag_list_free(&l);

	facts_init(&f);
	f.insecure = true;
	diag_decide(&f, &l);
	CHECK_INT(l.n, 0, "warn: --insecure with a good certificate is quiet");
	diag_list_free(&l);

	facts_init(&f);
	f.helo_fallback = true;
	f.helo_evidence = "502 5.5.1 EHLO not implemented";
	expect_only(&f, "ehlo.helo_fallback", SEV_WARNING, "HELO fallback");

	/* EHLO refused for its name (Haraka helo.checks bare_ip), HELO
	 * taken: the name is the fault, on a clean run too */
	facts_init(&f);
	f.helo_fallback = f.helo_name_refused = true;
	f.helo_evidence = "550 Invalid address format in HELO";
	expect_only(&f, "ehlo.rejected", SEV_WARNING, "EHLO name refused, HELO taken");

	/* ... and then no STARTTLS, no AUTH: ehlo.rejected, quoting the
	 * refusal of EHLO, once; with 502 (EHLO unknown) as before */
	for (int st = 0; st < 2; st++) {
		for (int name = 0; name < 2; name++) {
			facts_init(&f);
			f.failed_step = st ? STEP_AUTH : STEP_STARTTLS;
			f.kind = FK_NOT_OFFERED;
			f.helo_fallback = true;
			f.helo_name_refused = name;
			f.helo_evidence = name ? "550 Invalid address format in HELO"
					       : "502 5.5.1 EHLO not implemented";
			f.encrypted = false;
			f.tls_version = 0;
			diag_decide(&f, &l);
			CHECK_STR(diag_id_of(&l, 0), name ? "ehlo.rejected" :
				  st ? "auth.requires_tls" : "starttls.not_offered",
				  nm("helo fallback (%s) then %s not offered",
				     name ? "550" : "502", st ? "AUTH" : "STARTTLS"));
			if (name) {
				CHECK_STR(l.n ? l.v[0].evidence : "",
					  "550 Invalid address format in HELO",
					  "ehlo.rejected quotes the EHLO refusal");
				CHECK_INT(l.n, 1, "ehlo.rejected once, no helo_fallback");
			}
			diag_list_free(&l);
		}
	}

	/* a failure and a warning: error first, then the warning */
	facts_init(&f);
	facts_reply(&f, STEP_AUTH, 535, "5.7.8 Error: authentication failed");
	f.tls_version = 11;
	diag_decide(&f, &l);
	CHECK_INT(l.n, 2, "warn: failure plus old TLS: two diagnoses");
	CHECK(l.n == 2 && !strcmp(diag_id_of(&l, 0), "auth.failed") &&
	      l.v[0].sev == SEV_ERROR && !strcmp(diag_id_of(&l, 1), "tls.weak_version") &&
	      l.v[1].sev == SEV_WARNING, "warn: the error comes first, then the warning");
	CHECK(diag_has_error(&l), "warn: failure plus warning has an error");
	diag_list_free(&l);
}

/* The ids of CONTRACT.md, "Diagnosis catalog": every build must know them. */
static const char *const contract_ids[] = {
	"dns.not_found", "dns.failure", "connect.refused", "connect.timeout",
	"connect.unreachable",
	"greeting.timeout", "greeting.not_smtp", "greeting.rejected", "greeting.busy",
	"tls.expected_implicit", "tls.expected_starttls",
	"ehlo.rejected",
	"starttls.not_offered", "starttls.refused", "starttls.injection",
	"tls.handshake_failed", "tls.version_mismatch", "tls.cert_untrusted",
	"tls.cert_hostname_mismatch", "tls.cert_expired", "tls.cert_not_yet_valid",
	"tls.cert_wrong_purpose", "tls.weak_key", "tls.chain_incomplete",
	"tls.client_cert_required", "tls.server_error", "tls.cert_invalid",
	"auth.not_offered", "auth.requires_tls", "auth.plaintext_refused",
	"auth.mech_unsupported", "auth.failed", "auth.app_password_required",
	"auth.disabled_for_account", "auth.temporary",
	"mail.auth_required", "mail.sender_rejected", "mail.size_exceeded",
	"rcpt.relay_denied", "rcpt.unknown_user", "rcpt.greylisted", "rcpt.rejected",
	"data.rejected", "data.temporary", "data.size_exceeded",
	"session.closed", "session.timeout", "proto.malformed_reply",
	"proto.line_too_long",
	"tls.weak_version", "auth.offered_in_plaintext", "port25.submission",
};

/* Number of UTF-8 characters in s. */
static size_t
utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* Placeholders in s that diag.h does not list, conditional segments on
 * flags diag.c does not know, and unbalanced braces; appended to bad. */
static void
unknown_placeholders(const char *s, const char *id, struct buf *bad)
{
	static const char *const known[] = {
		"host", "port", "servername", "user", "helo", "from", "to", "mech",
		"tlsmode", "altport", "altmode",
	};
	int depth = 0;
	for (const char *p = s; *p; p++) {
		if (*p == '}') {
			if (--depth < 0) {
				buf_printf(bad, "%s: unbalanced braces ", id);
				return;
			}
			continue;
		}
		if (*p != '{')
			continue;
		if (p[1] == '?' || p[1] == '!') {
			const char *c = strchr(p, ':');
			size_t n = c ? (size_t)(c - p - 2) : 0;
			char key[40];
			snprintf(key, sizeof key, "%.*s", (int)(n < 39 ? n : 39), p + 2);
			if (!c || !diag_flag_known(key))
				buf_printf(bad, "%s: {%c%s: is no known flag ", id, p[1], key);
			depth++;
			if (c)
				p = c;
			continue;
		}
		const char *e = strchr(p, '}');
		size_t n = e ? (size_t)(e - p - 1) : strlen(p + 1);
		bool ok = false;
		for (size_t k = 0; e && k < ARRAY_SIZE(known); k++)
			ok = ok || (strlen(known[k]) == n && !strncmp(p + 1, known[k], n));
		if (!ok)
			buf_printf(bad, "%s: {%.*s ", id, (int)(n > 20 ? 20 : n), p + 1);
		if (e)
			p = e;
	}
	if (depth)
		buf_printf(bad, "%s: unbalanced braces ", id);
}

static void
test_diag_catalog(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(contract_ids); i++) {
		int d = diag_from_id(contract_ids[i]);
		const struct diag_info *di = d >= 0 ? diag_info((enum diag_id)d) : NULL;
		CHECK(di && di->title && *di->title && di->explanation &&
		      *di->explanation && di->fix && *di->fix,
		      nm("catalog: %s has title, explanation and fix", contract_ids[i]));
	}
	static const char *const warnings[] = {
		"tls.weak_version", "auth.offered_in_plaintext", "port25.submission",
		"tls.weak_key",
	};
	bool warn_ok = true;
	for (size_t i = 0; i < ARRAY_SIZE(warnings); i++) {
		int d = diag_from_id(warnings[i]);
		warn_ok = warn_ok && d >= 0 && diag_info((enum diag_id)d)->sev == SEV_WARNING;
	}
	CHECK(warn_ok, "catalog: the contract's warnings have severity warning");

	struct buf long_titles = { 0 }, bad_ph = { 0 }, bad_ids = { 0 }, empty = { 0 };
	for (int i = 0; i < D_COUNT; i++) {
		const struct diag_info *di = diag_info((enum diag_id)i);
		if (utf8_chars(di->title) >= 70)
			buf_printf(&long_titles, "%s (%zu) ", di->id, utf8_chars(di->title));
		if (strchr(di->title, '{'))
			buf_printf(&bad_ph, "%s: title has a placeholder ", di->id);
		unknown_placeholders(di->explanation, di->id, &bad_ph);
		unknown_placeholders(di->fix, di->id, &bad_ph);
		if (diag_from_id(di->id) != i)
			buf_printf(&bad_ids, "%s (duplicate) ", di->id);
		const char *dot = strchr(di->id, '.');
		if (!dot || dot == di->id || !dot[1] || strspn(di->id,
		    "abcdefghijklmnopqrstuvwxyz0123456789_.") != strlen(di->id))
			buf_printf(&bad_ids, "%s (form) ", di->id);
		if ((unsigned)di->step >= STEP_COUNT)
			buf_printf(&bad_ids, "%s (step) ", di->id);
		if (!*di->title || !*di->explanation || !*di->fix || !di->rfc)
			buf_printf(&empty, "%s ", di->id);
	}
	CHECK(long_titles.len == 0, nm("catalog: all %d titles are under 70 characters",
				       (int)D_COUNT));
	if (long_titles.len)
		printf("# too long: %s\n", long_titles.data);
	CHECK(bad_ph.len == 0, "catalog: only the placeholders diag.h lists");
	if (bad_ph.len)
		printf("# %s\n", bad_ph.data);
	CHECK(bad_ids.len == 0, "catalog: ids unique, well-formed, steps valid");
	if (bad_ids.len)
		printf("# %s\n", bad_ids.data);
	CHECK(empty.len == 0, "catalog: no entry with an empty title, explanation or fix");
	if (empty.len)
		printf("# empty: %s\n", empty.data);
	buf_free(&long_titles);
	buf_free(&bad_ph);
	buf_free(&bad_ids);
	buf_free(&empty);

	CHECK_INT(diag_from_id("no.such_id"), -1, "catalog: unknown id is -1");
	CHECK(diag_info(D_COUNT) == NULL, "catalog: diag_info out of range is NULL");
	CHECK_STR(severity_name(SEV_WARNING), "warning", "catalog: severity_name warning");
	CHECK_STR(fail_kind_name(FK_TLS_NOT_TLS), "plaintext where TLS was expected",
		  "catalog: fail_kind_name");

	size_t nn = 0;
	const struct dt_view *v = diag_tree_nodes(&nn);
	CHECK(nn > 0 && !strcmp(v[0].id, "root"), "tree: the first node is root");
	bool uniq = true, asks = true;
	for (size_t i = 0; i < nn; i++) {
		size_t ql = strlen(v[i].question);
		asks = asks && ql > 1 && v[i].question[ql - 1] == '?';
		for (size_t k = i + 1; k < nn; k++)
			uniq = uniq && strcmp(v[i].id, v[k].id) != 0;
	}
	CHECK(uniq, "tree: node ids are unique");
	CHECK(asks, "tree: every node asks a question");
}

/*
 * Every question on every TLS path is answered truly: for each kind of
 * TLS failure, each set of certificate problems and each TLS mode, the
 * answer recorded on the path is what the facts say (an oracle of our
 * own, written from the questions' words), and the leaf reached is true
 * of the facts too.  A node under "tls." without an oracle here fails:
 * a new question must say what its true answer is.
 */
static const char *
tls_oracle(const char *node, const struct facts *f)
{
	unsigned p = f->cert_problems;
#define YN(c) ((c) ? "yes" : "no")
	if (!strcmp(node, "tls.kind"))
		return fail_kind_name(f->kind);
	if (!strcmp(node, "tls.silent"))
		return tls_mode_name((enum tls_mode)f->tls_mode);
	if (!strcmp(node, "tls.intercept"))	/* issued by an inspection product? */
		return YN(f->cert_intercepted);
	if (!strcmp(node, "tls.cert"))	/* leads to a trusted authority? */
		return YN(!(p & (CP_UNTRUSTED | CP_NO_CERT | CP_CHAIN_INCOMPLETE)));
	if (!strcmp(node, "tls.cert.chain"))	/* an intermediate left out? */
		return YN(p & CP_CHAIN_INCOMPLETE);
	if (!strcmp(node, "tls.cert.expired"))
		return YN(p & CP_EXPIRED);
	if (!strcmp(node, "tls.cert.early"))
		return YN(p & CP_NOT_YET_VALID);
	if (!strcmp(node, "tls.cert.name"))
		return YN(p & CP_HOSTNAME);
	if (!strcmp(node, "tls.cert.purpose"))
		return YN(p & CP_PURPOSE);
	if (!strcmp(node, "tls.cert.weak"))	/* refused for a weak algorithm? */
		return YN(p & CP_WEAK);
	if (!strcmp(node, "w.weak"))
		return YN(*f->weak && !(p & CP_WEAK));
	if (!strcmp(node, "w.cert") || !strcmp(node, "w.insecure"))
		return YN(f->insecure && p);
#undef YN
	return NULL;
}

/* Is the leaf true of the facts? */
static bool
tls_leaf_true(const char *id, const struct facts *f)
{
	unsigned p = f->cert_problems;
	if (!strcmp(id, "tls.intercepted"))
		return f->cert_intercepted;
	if (!strcmp(id, "tls.cert_untrusted"))
		return p & (CP_UNTRUSTED | CP_NO_CERT);
	if (!strcmp(id, "tls.chain_incomplete"))
		return p & CP_CHAIN_INCOMPLETE;
	if (!strcmp(id, "tls.cert_expired"))
		return p & CP_EXPIRED;
	if (!strcmp(id, "tls.cert_not_yet_valid"))
		return p & CP_NOT_YET_VALID;
	if (!strcmp(id, "tls.cert_hostname_mismatch"))
		return p & CP_HOSTNAME;
	if (!strcmp(id, "tls.cert_wrong_purpose"))
		return p & CP_PURPOSE;
	if (!strcmp(id, "tls.weak_key"))
		return (p & CP_WEAK) || *f->weak;
	if (!strcmp(id, "tls.cert_invalid"))
		return p & CP_OTHER;
	if (!strcmp(id, "tls.client_cert_required"))
		return f->kind == FK_TLS_CLIENT_CERT;
	if (!strcmp(id, "tls.server_error"))
		return f->kind == FK_TLS_SERVER_ERROR;
	return true;	/* leaves decided on the kind alone */
}

static void
test_diag_tls_paths(void)
{
	static const enum fail_kind kinds[] = {
		FK_CERT, FK_TLS_CLIENT_CERT, FK_TLS_SERVER_ERROR, FK_TLS_NOT_TLS,
		FK_TLS_VERSION, FK_TLS_CLOSED, FK_TLS_OTHER, FK_TIMEOUT,
		FK_CANCELLED, FK_NONE,
	};
	static const int modes[] = { TLSM_STARTTLS, TLSM_IMPLICIT };
	unsigned all = CP_UNTRUSTED | CP_HOSTNAME | CP_EXPIRED | CP_NOT_YET_VALID |
		       CP_OTHER | CP_NO_CERT | CP_PURPOSE | CP_WEAK |
		       CP_CHAIN_INCOMPLETE;
	size_t paths = 0, answers = 0;
	struct buf bad = { 0 };

	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++)
	for (size_t m = 0; m < ARRAY_SIZE(modes); m++)
	for (unsigned p = 0; p <= all; p++) {
		if (p & ~all)
			continue;
		if (kinds[k] != FK_CERT && kinds[k] != FK_NONE && p)
			continue;
		for (int w = 0; w < 4; w++) {
			struct facts f;
			struct diag_list l = { 0 };
			facts_init(&f);
			f.failed_step = kinds[k] == FK_NONE ? -1 : STEP_TLS;
			f.kind = kinds[k];
			f.tls_mode = modes[m];
			f.cert_problems = kinds[k] == FK_CERT && !p ? CP_OTHER : p;
			f.weak = (w & 1) ? "leaf key RSA 1024 bits (under 2048)" : "";
			f.insecure = (w & 2) != 0;
			if (f.insecure && kinds[k] == FK_CERT)
				continue;	/* --insecure goes on past it */
			f.cert_evidence = "certificate problem";
			diag_decide(&f, &l);
			for (size_t i = 0; i < l.n; i++) {
				const struct diagnosis *d = &l.v[i];
				bool tls_path = false;
				for (size_t s = 0; s < d->npath; s++) {
					const char *node = d->path[s].node;
					if (strncmp(node, "tls.", 4) && strncmp(node, "w.", 2))
						continue;
					tls_path = true;
					const char *want = tls_oracle(node, &f);
					answers++;
					if (!want)
						buf_printf(&bad, "[no oracle for %s] ", node);
					else if (strcmp(want, d->path[s].answer))
						buf_printf(&bad, "[%s kind=%s problems=%#x: "
							   "answered %s, true is %s] ",
							   node, fail_kind_name(f.kind),
							   f.cert_problems,
							   d->path[s].answer, want);
				}
				const char *id = diag_info(d->id)->id;
				if (tls_path) {
					paths++;
					if (!tls_leaf_true(id, &f))
						buf_printf(&bad, "[leaf %s untrue: "
							   "problems=%#x] ", id,
							   f.cert_problems);
				}
			}
			diag_list_free(&l);
			if (bad.len > 2000)
				goto out;
		}
	}
out:
	CHECK(!bad.len && paths > 1000 && answers > paths,
	      nm("diag: every answer on every TLS path is true of the facts "
		 "(%zu paths, %zu answers)%s%.600s", paths, answers,
		 bad.len ? ": " : "", bad.data ? bad.data : ""));
	buf_free(&bad);

	/* the inversion the issue found, spelled out */
	struct facts f;
	struct diag_list l = { 0 };
	facts_init(&f);
	f.failed_step = STEP_TLS;
	f.kind = FK_CERT;
	f.cert_problems = CP_UNTRUSTED;
	f.weak = "";
	diag_decide(&f, &l);
	const char *a = NULL;
	for (size_t s = 0; l.n && s < l.v[0].npath; s++)
		if (!strcmp(l.v[0].path[s].node, "tls.cert"))
			a = l.v[0].path[s].answer;
	CHECK_STR(a, "no", "diag: an untrusted chain: 'leads to a trusted "
		  "authority?' is answered no");
	diag_list_free(&l);
}

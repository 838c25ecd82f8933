/*
 * unit_provider.c - included by unit.c: the provider table (src/provider.h),
 * --provider presets, and the provider's rules added to diagnoses.
 */

/* A one-diagnosis list for provider_annotate(). */
static void
one_diag(struct diag_list *l, const char *id, const char *fix)
{
	memset(l, 0, sizeof *l);
	l->v = xcalloc(1, sizeof *l->v);
	l->n = 1;
	int d = diag_from_id(id);
	l->v[0].id = (enum diag_id)(d < 0 ? 0 : d);
	l->v[0].sev = SEV_ERROR;
	l->v[0].step = diag_info(l->v[0].id)->step;
	l->v[0].fix = xstrdup(fix);
}

static void
test_provider(void)
{
	size_t n;
	const struct provider *t = provider_table(&n);
	static const char *const want[] = {
		"gmail", "microsoft365", "outlook", "yahoo", "icloud", "fastmail",
		"zoho", "ses", "sendgrid", "mailgun", "postmark", "mailjet",
		"brevo", "sparkpost", "resend",
	};
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		CHECK(provider_find(want[i]) != NULL,
		      nm("provider: %s is in the table (CONTRACT.md)", want[i]));
	for (size_t i = 0; i < n; i++) {
		const struct provider *p = &t[i];
		CHECK(p->host && *p->host && p->ports[0].port && p->login &&
		      p->sources && *p->sources,
		      nm("provider %s: host, a port, login and sources", p->name));
		CHECK(provider_by_host(p->host) == p,
		      nm("provider %s: its own host %s is recognised", p->name,
			 p->host));
		bool modes_ok = true;
		for (int k = 0; k < PROVIDER_MAX_PORTS && p->ports[k].port; k++)
			modes_ok &= p->ports[k].mode == TLSM_STARTTLS ||
				    p->ports[k].mode == TLSM_IMPLICIT;
		CHECK(modes_ok, nm("provider %s: every port has a TLS mode", p->name));
	}
	CHECK(provider_find("POSTMARK") == provider_find("postmark"),
	      "provider: names are case-insensitive");
	CHECK(provider_find("nonesuch") == NULL, "provider: unknown name");
	CHECK_STR(provider_by_host("email-smtp.eu-west-1.amazonaws.com")->name,
		  "ses", "provider: any SES Region host is SES");
	CHECK_STR(provider_by_host("SMTP.GMAIL.COM.")->name, "gmail",
		  "provider: host match ignores case and a trailing dot");
	CHECK(provider_by_host("notgmail.com") == NULL,
	      "provider: a suffix matches whole labels only");
	CHECK(provider_by_host("mail.example.org") == NULL,
	      "provider: an unknown host is no provider");

	char ports[128];
	provider_ports_str(provider_find("resend"), ports, sizeof ports);
	CHECK_STR(ports, "587/starttls,465/implicit,2587/starttls,2465/implicit,"
		  "25/starttls", "provider: Resend's ports, with 2587/2465 (RS1)");
	CHECK_INT(provider_port_mode(provider_find("postmark"), 465), TLSM_AUTO,
		  "provider: Postmark has no 465 (PM2)");
	CHECK_INT(provider_port_mode(provider_find("microsoft365"), 465), TLSM_AUTO,
		  "provider: Microsoft 365 has no 465 (MS1)");

	/* presets */
	struct options o;
	char err[256];
	CHECK_INT(parse_args(&o, err, sizeof err, "--provider", "postmark", NULL), 0,
		  "options: --provider postmark");
	options_apply_provider(&o);
	CHECK_STR(o.cfg.host, "smtp.postmarkapp.com", "--provider postmark: host");
	CHECK_INT(o.cfg.port, 587, "--provider postmark: port 587");
	CHECK_INT(o.cfg.tls, TLSM_STARTTLS, "--provider postmark: STARTTLS");
	options_free(&o);
	CHECK_INT(parse_args(&o, err, sizeof err, "--provider", "ses", "-p", "2465",
			     NULL), 0, "options: --provider ses -p 2465");
	options_apply_provider(&o);
	CHECK_INT(o.cfg.tls, TLSM_IMPLICIT, "--provider ses -p 2465: implicit TLS");
	options_free(&o);
	CHECK_INT(parse_args(&o, err, sizeof err, "--provider", "gmail", "--tls",
			     "starttls", "-p", "465", "smtp.example.net", NULL), 0,
		  "options: --provider with explicit host, port, TLS");
	options_apply_provider(&o);
	CHECK(!strcmp(o.cfg.host, "smtp.example.net") && o.cfg.port == 465 &&
	      o.cfg.tls == TLSM_STARTTLS, "--provider: explicit options win");
	options_free(&o);
	CHECK_INT(parse_args(&o, err, sizeof err, "--provider", "sendgrid",
			     "--sweep", NULL), 0, "options: --provider sendgrid --sweep");
	options_apply_provider(&o);
	CHECK_STR(o.ports, "587,465,2525,25",
		  "--provider sendgrid --sweep: the sweep takes SendGrid's ports");
	options_free(&o);
	expect_fail("--provider", "nonesuch", NULL);
	expect_fail("--provider", "gmail", "--lab", NULL);

	/* the provider's rules in the fix */
	struct diag_list l;
	one_diag(&l, "connect.timeout", "Check the firewall.");
	provider_annotate(&l, provider_find("postmark"), 465, TLSM_IMPLICIT);
	CHECK(has(l.v[0].fix, "Check the firewall.") &&
	      has(l.v[0].fix, "no implicit-TLS port") &&
	      has(l.v[0].fix, "-p 587 --tls starttls") &&
	      has(l.v[0].fix, "-p 2525 --tls starttls") && !has(l.v[0].fix, "-p 25 "),
	      "annotate: Postmark on 465 says it has no 465, names 587 and 2525");
	diag_list_free(&l);
	one_diag(&l, "tls.expected_implicit", "x");
	provider_annotate(&l, provider_find("ses"), 2465, TLSM_STARTTLS);
	CHECK(has(l.v[0].fix, "implicit TLS on port 2465") &&
	      has(l.v[0].fix, "--tls implicit"),
	      "annotate: wrong TLS mode on SES 2465 names the provider's mode");
	diag_list_free(&l);
	one_diag(&l, "auth.failed", "x");
	provider_annotate(&l, provider_find("sendgrid"), 587, TLSM_STARTTLS);
	CHECK(has(l.v[0].fix, "'apikey'"),
	      "annotate: a failed SendGrid login says the user is 'apikey'");
	diag_list_free(&l);
	one_diag(&l, "rcpt.unknown_user", "x");
	provider_annotate(&l, provider_find("sendgrid"), 587, TLSM_STARTTLS);
	CHECK_STR(l.v[0].fix, "x", "annotate: other diagnoses keep their fix");
	diag_list_free(&l);
	one_diag(&l, "connect.timeout", "x");
	provider_annotate(&l, NULL, 587, TLSM_STARTTLS);
	CHECK_STR(l.v[0].fix, "x", "annotate: no provider, no change");
	diag_list_free(&l);
}

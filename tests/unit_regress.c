/*
 * unit_regress.c - included by unit.c: regression tests for engine bugs
 * found by the real-MTA tests (tests/mta/), the hostile suite and the
 * fuzzers (tests/fuzz/).  Each test names where the bug was found.
 */

/*
 * tests/mta: Postfix submission without -u.  Postfix takes MAIL and
 * refuses RCPT with a bare "Access denied" (smtpd_relay_restrictions =
 * permit_sasl_authenticated, reject); the words never say AUTH, but the
 * server offered AUTH and the session skipped it.  Was rcpt.rejected.
 */
static void
test_regress_postfix_submission_noauth(void)
{
	struct facts f;
	struct diag_list l = { 0 };
	static const char text[] = "554 5.7.1 <tester@mta.test>: Recipient "
				   "address rejected: Access denied";

	facts_init(&f);
	facts_reply(&f, STEP_RCPT, 554, text);
	f.has_user = false;
	f.authenticated = false;
	f.auth_offered = true;
	diag_decide(&f, &l);
	CHECK_STR(diag_id_of(&l, 0), "mail.auth_required",
		  "regress: Postfix submission RCPT 'Access denied' without "
		  "AUTH is mail.auth_required");
	diag_list_free(&l);

	/* The same words after a successful AUTH stay a policy refusal. */
	facts_init(&f);
	facts_reply(&f, STEP_RCPT, 554, text);
	f.has_user = true;
	f.authenticated = true;
	f.auth_offered = true;
	diag_decide(&f, &l);
	CHECK_STR(diag_id_of(&l, 0), "rcpt.rejected",
		  "regress: 'Access denied' after AUTH stays rcpt.rejected");
	diag_list_free(&l);

	/* Port 25 without AUTH on offer: a policy refusal, not a login. */
	facts_init(&f);
	facts_reply(&f, STEP_RCPT, 554, text);
	f.port = 25;
	diag_decide(&f, &l);
	CHECK_STR(diag_id_of(&l, 0), "rcpt.rejected",
		  "regress: 'Access denied' with no AUTH on offer stays "
		  "rcpt.rejected");
	diag_list_free(&l);
}

/*
 * Review: a mechanism name with escape bytes in "250-AUTH" reached the
 * auth.offered_in_plaintext evidence and the sweep's AUTH column raw.
 * Names are now RFC 4422 characters only; the EHLO domain is printable.
 */
static void
test_regress_auth_mech_bytes(void)
{
	struct replyparser p = { 0 };
	struct reply r;
	struct caps c;
	static const char *const lines[] = {
		"250-mx\x1b]0;t\x07.example",
		"250-AUTH PLAIN \x1b[2J\x1b[31mOWNED LOGIN",
		"250 AUTH TOOLONGMECHANISMNAMEOVER20CHARS XOAUTH2",
	};

	for (size_t i = 0; i < ARRAY_SIZE(lines); i++)
		rp_feed(&p, lines[i]);
	rp_take(&p, &r);
	caps_parse(&c, &r);
	CHECK_STR(c.mechs, "PLAIN LOGIN XOAUTH2",
		  "regress: AUTH keeps only RFC 4422 mechanism names");
	bool clean = true;
	for (const char *q = c.domain; *q; q++)
		if ((unsigned char)*q < 0x20 || (unsigned char)*q == 0x7f)
			clean = false;
	CHECK(clean, "regress: the EHLO domain holds no control byte");
	reply_free(&r);
}

static void
test_regress(void)
{
	test_regress_postfix_submission_noauth();
	test_regress_auth_mech_bytes();
}

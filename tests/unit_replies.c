/*
 * unit_replies.c - included by unit.c: every reply belongs to the command
 * it answers (issue 9 §1).  The per-command table of reply codes RFC 5321
 * §4.3.2 allows (reply_fits), and the decision tree's branches for a
 * session out of step and for AUTH refused inside a mail transaction.
 */

static void
test_reply_fits(void)
{
	static const struct {
		const char *verb;
		int code;
		bool fits;
	} t[] = {
		/* the greeting: 220, or a refusal */
		{ "greeting", 220, true }, { "greeting", 554, true },
		{ "greeting", 421, true }, { "greeting", 250, false },
		{ "greeting", 354, false }, { "greeting", 221, false },
		{ "EHLO", 250, true }, { "EHLO", 502, true }, { "EHLO", 550, true },
		{ "EHLO", 421, true }, { "EHLO", 220, false }, { "EHLO", 354, false },
		{ "HELO", 250, true }, { "HELO", 221, false },
		{ "STARTTLS", 220, true }, { "STARTTLS", 454, true },
		{ "STARTTLS", 501, true }, { "STARTTLS", 250, false },
		{ "AUTH", 235, true }, { "AUTH", 334, true }, { "AUTH", 535, true },
		{ "AUTH", 454, true }, { "AUTH", 250, false }, { "AUTH", 354, false },
		{ "MAIL", 250, true }, { "MAIL", 553, true }, { "MAIL", 451, true },
		{ "MAIL", 354, false }, { "MAIL", 251, false }, { "MAIL", 221, false },
		{ "RCPT", 250, true }, { "RCPT", 251, true }, { "RCPT", 550, true },
		{ "RCPT", 354, false }, { "RCPT", 235, false },
		/* DATA: 354 or an error, never 250 */
		{ "DATA", 354, true }, { "DATA", 554, true }, { "DATA", 451, true },
		{ "DATA", 250, false }, { "DATA", 220, false },
		{ ".", 250, true }, { ".", 552, true }, { ".", 451, true },
		{ ".", 354, false },
		{ "RSET", 250, true }, { "RSET", 221, false },
		{ "NOOP", 250, true }, { "VRFY", 252, true }, { "HELP", 214, true },
		/* QUIT: 221 (or 421), nothing else */
		{ "QUIT", 221, true }, { "QUIT", 421, true }, { "QUIT", 250, false },
		{ "QUIT", 503, false }, { "QUIT", 500, false },
		/* a raw verb the table does not know: any valid code */
		{ "XCLIENT", 220, true }, { "XFOO", 550, true },
		/* never a valid code */
		{ "MAIL", 199, false }, { "XFOO", 600, false }, { "RCPT", 0, false },
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		CHECK(reply_fits(t[i].verb, t[i].code) == t[i].fits,
		      nm("reply_fits: %s answered %d %s", t[i].verb, t[i].code,
			 t[i].fits ? "fits" : "does not fit"));
	CHECK(has(reply_allowed("DATA"), "354") && has(reply_allowed("DATA"), "never 250"),
	      "reply_allowed: DATA says 354, never 250");
	CHECK(has(reply_allowed("QUIT"), "221"), "reply_allowed: QUIT says 221");
}

static const char *
first_id(const struct facts *f)
{
	struct diag_list l = { 0 };
	static char id[64];
	diag_decide(f, &l);
	snprintf(id, sizeof id, "%s", l.n ? diag_info(l.v[0].id)->id : "(none)");
	diag_list_free(&l);
	return id;
}

static void
test_sync_tree(void)
{
	struct facts f;

	/* out of step at any step: proto.sync_error, whatever the code */
	static const int steps[] = { STEP_GREETING, STEP_EHLO, STEP_MAIL, STEP_DATA,
				     STEP_QUIT };
	for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
		facts_init(&f);
		facts_reply(&f, steps[i], 250, "2.1.5 Ok");
		f.kind = FK_OUT_OF_STEP;
		f.evidence = "the command DATA was answered \"250 2.1.5 Ok\"";
		CHECK_STR(first_id(&f), "proto.sync_error",
			  nm("tree: out of step at %s is proto.sync_error",
			     step_name(steps[i])));
	}
	/* the same 250 at DATA as an ordinary reply is not a sync error */
	facts_init(&f);
	facts_reply(&f, STEP_DATA, 554, "5.5.1 Error: no valid recipients");
	CHECK(strcmp(first_id(&f), "proto.sync_error") != 0,
	      "tree: an ordinary refusal at DATA is not proto.sync_error");

	/* a 503 to AUTH after the user's own MAIL FROM on the : line */
	facts_init(&f);
	facts_reply(&f, STEP_AUTH, 503, "5.5.1 Error: MAIL transaction in progress");
	f.has_user = true;
	f.auth_offered = true;
	f.raw_transaction = true;
	CHECK_STR(first_id(&f), "auth.bad_sequence",
		  "tree: 503 to AUTH after a raw MAIL FROM is auth.bad_sequence");
	f.raw_transaction = false;
	CHECK_STR(first_id(&f), "auth.bad_sequence",
		  "tree: 503 'MAIL transaction in progress' is auth.bad_sequence");
	facts_init(&f);
	facts_reply(&f, STEP_AUTH, 503, "5.5.1 Error: authentication not enabled");
	f.has_user = true;
	CHECK_STR(first_id(&f), "auth.not_offered",
		  "tree: 503 'authentication not enabled' stays auth.not_offered");
}

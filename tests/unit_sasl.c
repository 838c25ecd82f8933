/*
 * unit_sasl.c - included by unit.c: SMTP AUTH through GNU SASL and the
 * redacting describer (src/sasl.h).
 */

/* sasl_describe() of raw bytes (base64-encoded here). */
static char *
describe_raw(const char *mech, const void *raw, size_t n, bool from_client,
	     int round)
{
	char *b = b64_encode(raw, n);
	char *d = sasl_describe(mech, b, from_client, round);
	free(b);
	return d;
}

/* Decode base64 that must be valid; returns the bytes (NUL-terminated). */
static unsigned char *
unb64(const char *s, size_t *n)
{
	unsigned char *d = NULL;
	*n = 0;
	if (!s || b64_decode(s, &d, n) < 0)
		return NULL;
	d = xrealloc(d, *n + 1);
	d[*n] = '\0';
	return d;
}

/* b64 of a C string, for challenges written as text */
static char *
b64s(const char *t)
{
	return b64_encode(t, strlen(t));
}

/* The answer's decoded text (NUL-terminated), or NULL. */
static char *
step_text(struct sasl *s, const char *challenge, int *rc, char *err, size_t errlen)
{
	char *out = NULL;
	size_t n;
	*rc = sasl_step(s, challenge, &out, err, errlen);
	if (*rc != SASL_CONT)
		return NULL;
	char *t = (char *)unb64(*out ? out : "", &n);
	free(out);
	return t ? t : xstrdup("");
}

/* Round limits from each mechanism's definition, SCRAM against RFC 7677's
 * example, the gs2 header, the iteration-count ceiling. */
static void
test_sasl_limits(void)
{
	char err[256], *initial = NULL, *t;
	struct sasl *s;
	int rc;
	size_t n;

	CHECK(sasl_round_limit("PLAIN") == 0 && sasl_round_limit("LOGIN") == 2 &&
	      sasl_round_limit("CRAM-MD5") == 1 && sasl_round_limit("XOAUTH2") == 1 &&
	      sasl_round_limit("SCRAM-SHA-256") == 2 &&
	      sasl_round_limit("SCRAM-SHA-256-PLUS") == 2,
	      "sasl_round_limit: PLAIN 0, LOGIN 2, CRAM-MD5 1, XOAUTH2 1, SCRAM 2");

	/* PLAIN: the initial response said everything */
	s = sasl_start("PLAIN", "u", "p", NULL, false, &initial, err, sizeof err);
	free(initial);
	t = step_text(s, "", &rc, err, sizeof err);
	CHECK(rc == SASL_BROKEN && !t && *err, "sasl_step: a 334 after PLAIN's "
	      "initial response is a broken exchange");
	sasl_free(s);

	/* LOGIN: two prompts, plain text accepted, a third refused */
	s = sasl_start("LOGIN", "u", "pw", NULL, false, &initial, err, sizeof err);
	t = step_text(s, "Username:", &rc, err, sizeof err);
	CHECK(rc == SASL_CONT && t && !strcmp(t, "u"),
	      "sasl_step: LOGIN answers a plain-text 'Username:' with the user");
	free(t);
	t = step_text(s, "Password:", &rc, err, sizeof err);
	CHECK(rc == SASL_CONT && t && !strcmp(t, "pw"),
	      "sasl_step: LOGIN answers a plain-text 'Password:' with the password");
	free(t);
	t = step_text(s, "UGFzc3dvcmQ6", &rc, err, sizeof err);
	CHECK(rc == SASL_BROKEN && !t, "sasl_step: a third LOGIN prompt is refused "
	      "(the password is never sent twice)");
	sasl_free(s);

	/* CRAM-MD5: one challenge, in base64 */
	s = sasl_start("CRAM-MD5", "u", "p", NULL, false, &initial, err, sizeof err);
	t = step_text(s, "Rubbish", &rc, err, sizeof err);
	CHECK(rc == SASL_BROKEN && strstr(err, "base64"),
	      "sasl_step: CRAM-MD5 '334 Rubbish' is a broken exchange (curl test 932)");
	sasl_free(s);
	s = sasl_start("CRAM-MD5", "u", "p", NULL, false, &initial, err, sizeof err);
	t = step_text(s, "PDEyMz4=", &rc, err, sizeof err);
	CHECK(rc == SASL_CONT, "sasl_step: CRAM-MD5 answers one challenge");
	free(t);
	t = step_text(s, "PDEyMz4=", &rc, err, sizeof err);
	CHECK(rc == SASL_BROKEN, "sasl_step: a second CRAM-MD5 challenge is refused");
	sasl_free(s);

	/* XOAUTH2: the one error challenge, then no more */
	s = sasl_start("XOAUTH2", "u", "tok", NULL, false, &initial, err, sizeof err);
	free(initial);
	t = step_text(s, "eyJzdGF0dXMiOiI0MDEifQ==", &rc, err, sizeof err);
	CHECK(rc == SASL_CONT && t && !*t, "sasl_step: XOAUTH2 error challenge: \"\"");
	free(t);
	t = step_text(s, "eyJzdGF0dXMiOiI0MDEifQ==", &rc, err, sizeof err);
	CHECK(rc == SASL_BROKEN, "sasl_step: a second XOAUTH2 challenge is refused");
	sasl_free(s);

	/* OAUTHBEARER (RFC 7628): gs2 header with a=, %x01 to the error */
	s = sasl_start("OAUTHBEARER", "a,b=c", "tok", NULL, false, &initial, err,
		       sizeof err);
	t = (char *)unb64(initial, &n);
	CHECK(t && n == 32 && !memcmp(t, "n,a=a=2Cb=3Dc,\001auth=Bearer tok\001\001", n),
	      "sasl_start: OAUTHBEARER initial response, saslname escaped");
	free(t);
	free(initial);
	char *js = b64s("{\"status\":\"invalid_token\",\"scope\":"
			"\"https://mail.google.com/\",\"openid-configuration\":"
			"\"https://x.test/.well-known/openid-configuration\"}");
	t = step_text(s, js, &rc, err, sizeof err);
	free(js);
	CHECK(rc == SASL_CONT && t && !strcmp(t, "\001"),
	      "sasl_step: OAUTHBEARER's error answered with %x01");
	CHECK(strstr(err, "invalid_token") && strstr(err, "expired") &&
	      strstr(err, "https://mail.google.com/") &&
	      strstr(err, "x.test/.well-known"),
	      nm("sasl_step: OAUTHBEARER's error JSON explained: %s", err));
	free(t);
	t = step_text(s, "eyJzdGF0dXMiOiI0MDEifQ==", &rc, err, sizeof err);
	CHECK(rc == SASL_BROKEN, "sasl_step: a second OAUTHBEARER challenge is refused");
	sasl_free(s);
	{
		char e[300];
		const char *j = "{\"status\" : \"insufficient_scope\", \"scope\":"
				"\"a\\u0041\\\"\\n\\u001b\"}";
		sasl_oauth_error(j, strlen(j), e, sizeof e);
		CHECK(strstr(e, "lacks the scope") && strstr(e, "aA\" ?") &&
		      !strchr(e, 0x1b) && !strchr(e, '\n'),
		      nm("sasl_oauth_error: escapes decoded, control bytes never "
			 "shown: %s", e));
		sasl_oauth_error("not json", 8, e, sizeof e);
		CHECK(strstr(e, "not the error JSON"), "sasl_oauth_error: not JSON said so");
	}
	/* EXTERNAL: the empty authzid, nothing more */
	s = sasl_start("EXTERNAL", "", "", NULL, false, &initial, err, sizeof err);
	CHECK(s && initial && !strcmp(initial, "="),
	      "sasl_start: EXTERNAL's initial response is empty (\"=\")");
	free(initial);
	t = step_text(s, "", &rc, err, sizeof err);
	CHECK(rc == SASL_BROKEN, "sasl_step: EXTERNAL takes no challenge");
	free(t);
	sasl_free(s);

	/* SCRAM-SHA-256: RFC 7677 §3, user "user", password "pencil" */
	sasl_test_nonce = "rOprNGfwEbeRWgbNEkqO";
	s = sasl_start("SCRAM-SHA-256", "user", "pencil", NULL, false, &initial,
		       err, sizeof err);
	t = (char *)unb64(initial, &n);
	CHECK_STR(t, "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
		  "sasl_start: SCRAM client-first as in RFC 7677 §3");
	free(t);
	free(initial);
	char *sf = b64s("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
			"s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
	t = step_text(s, sf, &rc, err, sizeof err);
	CHECK_STR(t, "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
		  "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
		  "sasl_step: SCRAM client-final and proof as in RFC 7677 §3");
	free(t);
	char *v = b64s("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
	CHECK(!sasl_complete(s), "sasl_complete: not before the server's signature");
	t = step_text(s, v, &rc, err, sizeof err);
	CHECK(rc == SASL_CONT && t && !*t && sasl_complete(s),
	      "sasl_step: SCRAM accepts RFC 7677's server signature, answers \"\"");
	free(t);
	t = step_text(s, v, &rc, err, sizeof err);
	CHECK(rc == SASL_BROKEN, "sasl_step: a third SCRAM challenge is refused");
	sasl_free(s);

	/* a wrong signature: unverified, not a wrong password */
	s = sasl_start("SCRAM-SHA-256", "user", "pencil", NULL, false, &initial,
		       err, sizeof err);
	free(initial);
	t = step_text(s, sf, &rc, err, sizeof err);
	free(t);
	char *badv = b64s("v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
	t = step_text(s, badv, &rc, err, sizeof err);
	CHECK(rc == SASL_UNVERIFIED && !sasl_complete(s),
	      "sasl_step: a wrong SCRAM server signature is SASL_UNVERIFIED");
	free(badv);
	sasl_free(s);

	/* the iteration count is refused before any hashing */
	s = sasl_start("SCRAM-SHA-256", "user", "pencil", NULL, false, &initial,
		       err, sizeof err);
	free(initial);
	char *huge = b64s("r=rOprNGfwEbeRWgbNEkqOsrv,s=W22ZaJ0SNY7soEsUEjb6gQ==,"
			  "i=2147483647");
	double t0 = now_mono();
	t = step_text(s, huge, &rc, err, sizeof err);
	CHECK(rc == SASL_BROKEN && strstr(err, "2147483647") && now_mono() - t0 < 0.1,
	      "sasl_step: SCRAM i=2147483647 refused at once, the count in the words");
	free(huge);
	sasl_free(s);
	s = sasl_start("SCRAM-SHA-256", "user", "pencil", NULL, false, &initial,
		       err, sizeof err);
	free(initial);
	char *bad = b64s("r=someoneelse,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
	t = step_text(s, bad, &rc, err, sizeof err);
	CHECK(rc == SASL_BROKEN, "sasl_step: a SCRAM nonce not extending ours is refused");
	free(bad);
	sasl_free(s);
	free(sf);
	free(v);
	sasl_test_nonce = NULL;

	/* gs2 header: "y" when we could bind but the server has no -PLUS,
	 * so a server that did offer it sees the downgrade (RFC 5802 §6) */
	static const char cbdata[] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
	s = sasl_start("SCRAM-SHA-256", "user", "p", cbdata, true, &initial, err,
		       sizeof err);
	t = (char *)unb64(initial, &n);
	CHECK(t && !strncmp(t, "y,,n=user,r=", 12),
	      "sasl_start: SCRAM with channel-binding data, no -PLUS: gs2 \"y,,\"");
	free(t);
	free(initial);
	sasl_free(s);
	s = sasl_start("SCRAM-SHA-256", "user", "p", NULL, false, &initial, err,
		       sizeof err);
	t = (char *)unb64(initial, &n);
	CHECK(t && !strncmp(t, "n,,n=user,r=", 12),
	      "sasl_start: SCRAM without channel-binding data: gs2 \"n,,\"");
	free(t);
	free(initial);
	sasl_free(s);
	s = sasl_start("SCRAM-SHA-256-PLUS", "user", "p", cbdata, true, &initial,
		       err, sizeof err);
	t = (char *)unb64(initial, &n);
	CHECK(t && !strncmp(t, "p=tls-exporter,,n=user,r=", 25),
	      "sasl_start: SCRAM-SHA-256-PLUS: gs2 \"p=tls-exporter,,\"");
	free(t);
	free(initial);
	sasl_free(s);
	s = sasl_start("SCRAM-SHA-256", "a,b=c", "p", NULL, false, &initial, err,
		       sizeof err);
	t = (char *)unb64(initial, &n);
	CHECK(t && !strncmp(t, "n,,n=a=2Cb=3Dc,r=", 17),
	      "sasl_start: SCRAM escapes ',' and '=' in the user name");
	free(t);
	free(initial);
	sasl_free(s);
	initial = NULL;
}

/* What a server drives is bounded: the AUTH list of a server offering
 * 100 mechanisms still holds PLAIN; a transcript flooded with 100000
 * lines keeps its head and its last lines in fixed space. */
static void
test_server_bounds(void)
{
	struct buf line = { 0 };
	buf_adds(&line, "AUTH");
	for (int i = 0; i < 100; i++)
		buf_printf(&line, " X-UNUSABLE-MECH-%03d", i);
	buf_adds(&line, " PLAIN");
	const char *lines[] = { "mx.example", line.data };
	struct reply r = { .code = 250, .lines = (char **)lines, .nlines = 2 };
	struct caps c;
	memset(&c, 0, sizeof c);
	caps_parse(&c, &r);
	CHECK(caps_has_mech(&c, "PLAIN") && c.mechs_left_out > 0,
	      "caps: 100 unknown mechanisms, then PLAIN: PLAIN kept, the rest counted");
	CHECK_STR(sasl_pick(AM_AUTO, c.mechs, false), "PLAIN",
		  "sasl_pick: PLAIN after 100 unknown mechanisms");
	buf_free(&line);

	struct transcript tr = { .t0 = now_mono() };
	char big[5000];
	memset(big, 'x', sizeof big);
	tr_add(&tr, TR_SERVER, false, 0, "220 first line", 14);
	for (int i = 0; i < 100000; i++) {
		char l[64];
		int n = snprintf(l, sizeof l, "451 flood line %d", i);
		tr_add(&tr, TR_SERVER, false, 0, i % 100 ? l : big,
		       i % 100 ? (size_t)n : sizeof big);
		tr_note(&tr, "a note");
	}
	tr_add(&tr, TR_SERVER, false, 0, "221 last line", 13);
	tr_seal(&tr);
	size_t bytes = 0;
	bool marker = false, long_cut = true;
	for (size_t i = 0; i < tr.n; i++) {
		bytes += strlen(tr.v[i].text) + 64 +
			 (tr.v[i].note ? strlen(tr.v[i].note) : 0);
		if (strstr(tr.v[i].text, "lines left out"))
			marker = true;
		if (strlen(tr.v[i].text) > TR_LINE_MAX + 64)
			long_cut = false;
	}
	CHECK(tr.n <= TR_HEAD_LINES + 2 + TR_TAIL_LINES && bytes < 48 * 1024,
	      "transcript: 100000 lines flood: bounded lines and bytes");
	CHECK(tr.n > 2 && !strcmp(tr.v[0].text, "220 first line") &&
	      !strcmp(tr.v[tr.n - 1].text, "221 last line") && marker,
	      "transcript: the first and the last lines kept, the gap counted");
	CHECK(long_cut, "transcript: a 5000-byte line is cut, saying so");
	tr_add(&tr, TR_INFO, false, 0, "after", 5);
	CHECK(!strcmp(tr.v[tr.n - 1].text, "after"), "transcript: sealed, lines append");
	tr_free(&tr);
}

static void
test_sasl(void)
{
	char *d;

	/* describe: secrets hidden */
	d = describe_raw("PLAIN", "\0alice\0s3cret", 13, true, 0);
	CHECK(has(d, "alice"), "sasl_describe: PLAIN names the user");
	CHECK(!has(d, "s3cret"), "sasl_describe: PLAIN hides the password");
	CHECK(has(d, "6 characters"), "sasl_describe: PLAIN gives the password length");
	free(d);
	d = describe_raw("PLAIN", "admin\0alice\0pw", 14, true, 0);
	CHECK(has(d, "authzid=\"admin\"") && has(d, "user=\"alice\"") && !has(d, "pw\""),
	      "sasl_describe: PLAIN with an authzid");
	free(d);
	d = describe_raw("PLAIN", "alice-s3cret", 12, true, 0);
	CHECK(!has(d, "s3cret"), "sasl_describe: malformed PLAIN shows nothing of it");
	free(d);
	d = describe_raw("LOGIN", "alice", 5, true, 0);
	CHECK(has(d, "alice"), "sasl_describe: LOGIN round 0 names the user");
	free(d);
	d = describe_raw("LOGIN", "s3cret", 6, true, 1);
	CHECK(d && !has(d, "s3cret") && has(d, "hidden"),
	      "sasl_describe: LOGIN round 1 hides the password");
	free(d);
	static const char xo[] = "user=alice@example.com\001auth=Bearer ya29.SECRETTOKEN\001\001";
	d = describe_raw("XOAUTH2", xo, sizeof xo - 1, true, 0);
	CHECK(has(d, "alice@example.com"), "sasl_describe: XOAUTH2 names the user");
	CHECK(!has(d, "ya29") && !has(d, "SECRETTOKEN"), "sasl_describe: XOAUTH2 hides the token");
	free(d);
	d = describe_raw("XOAUTH2", "auth=Bearer ya29.SECRETTOKEN", 28, true, 0);
	CHECK(!has(d, "SECRETTOKEN"), "sasl_describe: malformed XOAUTH2 hides the token");
	free(d);
	d = describe_raw("CRAM-MD5", "tim b913a602c7eda7a495b4e6e7334d3890", 36, true, 0);
	CHECK(has(d, "\"tim\""), "sasl_describe: CRAM-MD5 names the user");
	free(d);
	static const char final[] = "c=biws,r=abcdefNONCE,p=dHr8PROOFxyz=";
	d = describe_raw("SCRAM-SHA-256", final, sizeof final - 1, true, 1);
	CHECK(has(d, "r=abcdefNONCE") && !has(d, "PROOF"),
	      "sasl_describe: SCRAM client-final hides the proof");
	free(d);
	d = describe_raw("LOGIN", "Password:", 9, false, 1);
	CHECK(has(d, "Password:"), "sasl_describe: a server challenge is shown");
	free(d);
	static const char esc_user[] = "\0al\x1b[2Jice\0pw";
	d = describe_raw("PLAIN", esc_user, sizeof esc_user - 1, true, 0);
	CHECK(d && !strchr(d, '\x1b'), "sasl_describe: user name is escaped");
	free(d);
	d = sasl_describe("PLAIN", "=", true, 0);
	CHECK_STR(d, "(empty)", "sasl_describe: \"=\" is empty");
	free(d);
	d = sasl_describe("PLAIN", "!!!", true, 0);
	CHECK_STR(d, "(not valid base64)", "sasl_describe: bad base64 says so");
	free(d);

	/* choosing a mechanism */
	static const char all[] = "PLAIN LOGIN SCRAM-SHA-256 SCRAM-SHA-256-PLUS CRAM-MD5";
	CHECK_STR(sasl_pick(AM_AUTO, all, true), "SCRAM-SHA-256-PLUS",
		  "sasl_pick: auto with channel binding: SCRAM-SHA-256-PLUS");
	CHECK_STR(sasl_pick(AM_AUTO, all, false), "SCRAM-SHA-256",
		  "sasl_pick: auto without channel binding: SCRAM-SHA-256");
	CHECK_STR(sasl_pick(AM_AUTO, "PLAIN SCRAM-SHA-256", false), "SCRAM-SHA-256",
		  "sasl_pick: auto prefers SCRAM-SHA-256 over PLAIN");
	CHECK_STR(sasl_pick(AM_AUTO, "LOGIN PLAIN", true), "PLAIN",
		  "sasl_pick: auto prefers PLAIN over LOGIN");
	CHECK_STR(sasl_pick(AM_AUTO, "LOGIN", false), "LOGIN", "sasl_pick: auto LOGIN only");
	CHECK_STR(sasl_pick(AM_AUTO, "PLAIN-CLIENTTOKEN XOAUTH", false), NULL,
		  "sasl_pick: auto, nothing usable: NULL");
	CHECK_STR(sasl_pick(AM_AUTO, "", false), NULL, "sasl_pick: nothing offered: NULL");
	CHECK_STR(sasl_pick(AM_XOAUTH2, "LOGIN PLAIN XOAUTH", false), NULL,
		  "sasl_pick: xoauth2 not offered (XOAUTH is not XOAUTH2): NULL");
	CHECK_STR(sasl_pick(AM_XOAUTH2, "LOGIN XOAUTH2", false), "XOAUTH2",
		  "sasl_pick: xoauth2 offered");
	CHECK_STR(sasl_pick(AM_PLAIN, "PLAIN-CLIENTTOKEN LOGIN", false), NULL,
		  "sasl_pick: plain wanted, only PLAIN-CLIENTTOKEN: NULL");
	CHECK_STR(sasl_pick(AM_SCRAM_SHA_256, all, true), "SCRAM-SHA-256-PLUS",
		  "sasl_pick: scram-sha-256 with channel binding takes -PLUS");
	CHECK_STR(sasl_pick(AM_SCRAM_SHA_256, "SCRAM-SHA-256-PLUS", false), NULL,
		  "sasl_pick: -PLUS alone without channel binding: NULL");
	CHECK_STR(sasl_pick(AM_LOGIN, "plain login", false), "LOGIN",
		  "sasl_pick: offered names are case-insensitive");

	/* exchanges */
	char err[256] = "";
	char *initial = NULL, *out = NULL;
	size_t n;
	unsigned char *raw;
	struct sasl *s;

	s = sasl_start("PLAIN", "user", "pass", NULL, false, &initial, err, sizeof err);
	CHECK(s != NULL, "sasl_start: PLAIN starts");
	if (!s)
		printf("# err: %s\n", err);
	raw = unb64(initial, &n);
	/* the wire payload does hold the secret: check it, then wipe */
	check_mem(raw, n, "\0user\0pass", 10, "sasl_start: PLAIN initial response");
	if (raw)
		wipe(raw, n);
	free(raw);
	if (initial)
		wipe(initial, strlen(initial));
	free(initial);
	sasl_free(s);

	s = sasl_start("LOGIN", "user", "pass", NULL, false, &initial, err, sizeof err);
	CHECK(s && initial == NULL, "sasl_start: LOGIN waits for the server");
	CHECK(s && sasl_step(s, "VXNlcm5hbWU6", &out, err, sizeof err) == 0,
	      "sasl_step: LOGIN Username:");
	raw = unb64(out, &n);
	check_mem(raw, n, "user", 4, "sasl_step: LOGIN sends the user");
	free(raw);
	free(out);
	out = NULL;
	CHECK(s && sasl_step(s, "UGFzc3dvcmQ6", &out, err, sizeof err) == 0,
	      "sasl_step: LOGIN Password:");
	raw = unb64(out, &n);
	check_mem(raw, n, "pass", 4, "sasl_step: LOGIN sends the password");
	if (raw)
		wipe(raw, n);
	free(raw);
	free(out);
	out = NULL;
	sasl_free(s);

	/* RFC 2195's example */
	s = sasl_start("CRAM-MD5", "tim", "tanstaaftanstaaf", NULL, false, &initial,
		       err, sizeof err);
	CHECK(s && initial == NULL, "sasl_start: CRAM-MD5 waits for the challenge");
	{
		int rc = s ? sasl_step(s, "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+",
				       &out, err, sizeof err) : -1;
		CHECK(rc == 0, "sasl_step: CRAM-MD5 answers");
		CHECK_STR(out, "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw",
			  "sasl_step: CRAM-MD5 RFC 2195 example");
		free(out);
		out = NULL;
	}
	sasl_free(s);

	s = sasl_start("XOAUTH2", "alice@example.com", "ya29.tok", NULL, false, &initial,
		       err, sizeof err);
	raw = unb64(initial, &n);
	static const char xo_want[] = "user=alice@example.com\001auth=Bearer ya29.tok\001\001";
	check_mem(raw, n, xo_want, sizeof xo_want - 1, "sasl_start: XOAUTH2 initial response");
	if (raw)
		wipe(raw, n);
	free(raw);
	free(initial);
	initial = NULL;
	CHECK(s && sasl_step(s, "eyJzdGF0dXMiOiI0MDEifQ==", &out, err, sizeof err) == 0 &&
	      out && !strcmp(out, ""), "sasl_step: XOAUTH2 answers an error with \"\"");
	free(out);
	out = NULL;
	sasl_free(s);

	s = sasl_start("SCRAM-SHA-256", "user", "pass", NULL, false, &initial, err,
		       sizeof err);
	raw = unb64(initial, &n);
	CHECK(raw && !strncmp((char *)raw, "n,,n=user,r=", 12),
	      "sasl_start: SCRAM-SHA-256 client-first \"n,,n=user,r=...\"");
	free(raw);
	free(initial);
	initial = NULL;
	sasl_free(s);

	test_sasl_limits();
	test_server_bounds();

	s = sasl_start("NO-SUCH-MECH", "u", "p", NULL, false, &initial, err, sizeof err);
	CHECK(s == NULL && err[0] && initial == NULL, "sasl_start: unknown mechanism fails");
	sasl_free(s);
	CHECK(sasl_library_version() && *sasl_library_version(), "sasl: library version");
}

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

	s = sasl_start("NO-SUCH-MECH", "u", "p", NULL, false, &initial, err, sizeof err);
	CHECK(s == NULL && err[0] && initial == NULL, "sasl_start: unknown mechanism fails");
	sasl_free(s);
	CHECK(sasl_library_version() && *sasl_library_version(), "sasl: library version");
}

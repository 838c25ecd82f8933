/*
 * unit_reply.c - included by unit.c: SMTP replies, enhanced status codes,
 * the line reader, EHLO capabilities (src/reply.h).
 */

/* Feed lines[0..n) to a fresh parser; every line but the last must say
 * RP_MORE.  Returns the status of the last line; *r gets the reply. */
static enum rp_status
feed_lines(const char *const *lines, size_t n, struct reply *r,
	   size_t *more_count)
{
	struct replyparser p = { 0 };
	enum rp_status st = RP_MORE;
	size_t more = 0;

	for (size_t i = 0; i < n; i++) {
		st = rp_feed(&p, lines[i]);
		if (st == RP_MORE)
			more++;
		if (st != RP_MORE)
			break;
	}
	if (more_count)
		*more_count = more;
	rp_take(&p, r);
	rp_reset(&p);
	return st;
}

static void
test_reply_parser(void)
{
	struct replyparser p = { 0 };
	struct reply r;

	/* one line */
	CHECK_INT(rp_feed(&p, "220 mx.example.com ESMTP Postfix (Debian/GNU)"),
		  RP_DONE, "reply: single line is RP_DONE");
	rp_take(&p, &r);
	CHECK_INT(r.code, 220, "reply: single line code 220");
	CHECK_INT(r.nlines, 1, "reply: single line nlines 1");
	CHECK_STR(r.lines[0], "mx.example.com ESMTP Postfix (Debian/GNU)",
		  "reply: single line text after the code");
	CHECK_INT(r.enh.cls, 0, "reply: greeting has no enhanced code");
	CHECK(p.r.lines == NULL && p.r.nlines == 0, "reply: rp_take resets the parser");
	reply_free(&r);

	/* a multi-line EHLO reply, line by line */
	static const char *const ehlo[] = {
		"250-mail.example.com Hello client.example.org [192.0.2.10]",
		"250-PIPELINING",
		"250-SIZE 10240000",
		"250-STARTTLS",
		"250-AUTH PLAIN LOGIN",
		"250-ENHANCEDSTATUSCODES",
		"250 8BITMIME",
	};
	enum rp_status st[ARRAY_SIZE(ehlo)];
	for (size_t i = 0; i < ARRAY_SIZE(ehlo); i++)
		st[i] = rp_feed(&p, ehlo[i]);
	bool all_more = true;
	for (size_t i = 0; i + 1 < ARRAY_SIZE(ehlo); i++)
		all_more = all_more && st[i] == RP_MORE;
	CHECK(all_more, "reply: EHLO continuation lines are RP_MORE");
	CHECK_INT(st[ARRAY_SIZE(ehlo) - 1], RP_DONE, "reply: EHLO last line is RP_DONE");
	rp_take(&p, &r);
	CHECK_INT(r.code, 250, "reply: EHLO code 250");
	CHECK_INT(r.nlines, 7, "reply: EHLO nlines 7");
	CHECK_STR(r.lines[0], "mail.example.com Hello client.example.org [192.0.2.10]",
		  "reply: EHLO first line text");
	CHECK_STR(r.lines[2], "SIZE 10240000", "reply: EHLO third line text");
	CHECK_STR(r.lines[6], "8BITMIME", "reply: EHLO last line text");
	char *j = reply_joined(&r);
	CHECK(has(j, "PIPELINING / SIZE 10240000 / STARTTLS"),
	      "reply: reply_joined joins with \" / \"");
	free(j);
	char *first = reply_first_line(&r);
	CHECK_STR(first, "250 mail.example.com Hello client.example.org [192.0.2.10]",
		  "reply: reply_first_line rebuilds the first line");
	free(first);
	CHECK(reply_has(&r, "starttls"), "reply: reply_has is case-insensitive");
	CHECK(!reply_has(&r, "CHUNKING"), "reply: reply_has says no when absent");
	reply_free(&r);

	/* a bare code */
	CHECK_INT(rp_feed(&p, "250"), RP_DONE, "reply: bare \"250\" is RP_DONE");
	rp_take(&p, &r);
	CHECK_INT(r.code, 250, "reply: bare \"250\" code");
	CHECK_INT(r.nlines, 1, "reply: bare \"250\" has one line");
	CHECK_STR(r.nlines ? r.lines[0] : NULL, "", "reply: bare \"250\" text is empty");
	reply_free(&r);

	CHECK_INT(rp_feed(&p, "250 "), RP_DONE, "reply: \"250 \" is RP_DONE");
	rp_take(&p, &r);
	CHECK_STR(r.nlines ? r.lines[0] : NULL, "", "reply: \"250 \" text is empty");
	reply_free(&r);

	/* mixed codes */
	CHECK_INT(rp_feed(&p, "250-first"), RP_MORE, "reply: mixed: first line RP_MORE");
	CHECK_INT(rp_feed(&p, "251 second"), RP_MIXED_CODES,
		  "reply: 250- then 251 is RP_MIXED_CODES");
	CHECK_STR(p.r.bad_line, "251 second", "reply: mixed codes keeps the bad line");
	rp_reset(&p);

	/* malformed */
	CHECK_INT(rp_feed(&p, "hello"), RP_MALFORMED, "reply: \"hello\" is RP_MALFORMED");
	CHECK_STR(p.r.bad_line, "hello", "reply: malformed keeps bad_line");
	rp_reset(&p);
	CHECK_STR(p.r.bad_line, NULL, "reply: rp_reset clears bad_line");

	static const char *const bad[] = {
		"600 x", "099 x", "199 x", "25", "2500 ok", "250x", "25a ok",
		"", "+OK POP3 ready", "* OK IMAP4rev1", "SSH-2.0-OpenSSH_9.2",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		CHECK_INT(rp_feed(&p, bad[i]), RP_MALFORMED,
			  nm("reply: \"%s\" is RP_MALFORMED", bad[i]));
		rp_reset(&p);
	}
	CHECK_INT(rp_feed(&p, "334 VXNlcm5hbWU6"), RP_DONE, "reply: 334 (3xx) is accepted");
	rp_reset(&p);
	CHECK_INT(rp_feed(&p, "554 5.7.1 no"), RP_DONE, "reply: 554 (5xx) is accepted");
	rp_reset(&p);

	/* bounds: lines */
	{
		const char **many = xcalloc(REPLY_MAX_LINES + 1, sizeof *many);
		size_t more;
		for (size_t i = 0; i < REPLY_MAX_LINES; i++)
			many[i] = "250-x";
		many[REPLY_MAX_LINES - 1] = "250 last";
		CHECK_INT(feed_lines(many, REPLY_MAX_LINES, &r, &more), RP_DONE,
			  "reply: exactly REPLY_MAX_LINES lines is fine");
		CHECK_INT(r.nlines, REPLY_MAX_LINES, "reply: REPLY_MAX_LINES lines kept");
		reply_free(&r);

		many[REPLY_MAX_LINES - 1] = "250-x";
		many[REPLY_MAX_LINES] = "250 last";
		CHECK_INT(feed_lines(many, REPLY_MAX_LINES + 1, &r, &more),
			  RP_TOO_MANY_LINES, "reply: REPLY_MAX_LINES+1 lines is RP_TOO_MANY_LINES");
		CHECK_INT(more, REPLY_MAX_LINES, "reply: the first REPLY_MAX_LINES were RP_MORE");
		reply_free(&r);
		free(many);
	}

	/* bounds: bytes */
	{
		size_t len = 60000;
		char *big = xmalloc(len + 5);
		memcpy(big, "250-", 4);
		memset(big + 4, 'a', len);
		big[len + 4] = '\0';
		enum rp_status s = RP_MORE;
		int i;
		for (i = 0; i < 10 && s == RP_MORE; i++)
			s = rp_feed(&p, big);
		CHECK_INT(s, RP_TOO_MANY_LINES, "reply: over REPLY_MAX_BYTES is RP_TOO_MANY_LINES");
		CHECK_INT(i, REPLY_MAX_BYTES / (len + 4) + 1,
			  "reply: the byte limit trips on the first line over it");
		rp_reset(&p);
		free(big);
	}
}

static void
test_enhanced_codes(void)
{
	struct replyparser p = { 0 };
	struct reply r;

	rp_feed(&p, "535 5.7.8 Error: authentication failed: authentication failure");
	rp_take(&p, &r);
	CHECK(enh_is(&r.enh, 5, 7, 8), "enh: \"535 5.7.8 Error\" gives 5.7.8");
	reply_free(&r);

	rp_feed(&p, "250-mail.example.com");
	rp_feed(&p, "250 2.0.0 Ok");
	rp_take(&p, &r);
	CHECK(enh_is(&r.enh, 2, 0, 0), "enh: code taken from the first line that has one");
	reply_free(&r);

	rp_feed(&p, "550-5.1.1 first");
	rp_feed(&p, "550 5.7.1 second");
	rp_take(&p, &r);
	CHECK(enh_is(&r.enh, 5, 1, 1), "enh: the first line's code wins over later ones");
	reply_free(&r);

	rp_feed(&p, "250 2.3.4.5 Hello");
	rp_take(&p, &r);
	CHECK_INT(r.enh.cls, 0, "enh: an IP address \"2.3.4.5\" is not an enhanced code");
	reply_free(&r);

	struct enh_code e;
	memset(&e, 0, sizeof e);
	CHECK_INT(enh_parse("5.7.139", &e), 7, "enh_parse: \"5.7.139\" uses 7 chars");
	CHECK(enh_is(&e, 5, 7, 139), "enh_parse: \"5.7.139\" is 5.7.139");
	memset(&e, 0, sizeof e);
	CHECK_INT(enh_parse("2.0.0", &e), 5, "enh_parse: \"2.0.0\" ok");
	CHECK(enh_is(&e, 2, 0, 0), "enh_parse: \"2.0.0\" is 2.0.0");
	CHECK_INT(enh_parse("4.7.0 Try later", &e), 5, "enh_parse: \"4.7.0 Try later\" uses 5");
	static const char *const no[] = {
		"5.7", "5.7.8x", "3.0.0", "5.1000.1", "5.7.1000", "1.2.3", "6.0.0",
		"5..8", ".5.7.8", "5.7.", "x5.7.8", "", "55.7.8",
	};
	for (size_t i = 0; i < ARRAY_SIZE(no); i++) {
		memset(&e, 0, sizeof e);
		int used = enh_parse(no[i], &e);
		CHECK(used == 0 && e.cls == 0,
		      nm("enh_parse: \"%s\" is not an enhanced code", no[i]));
	}

	struct enh_code e578 = { 5, 7, 8 }, e511 = { 5, 1, 1 }, none = { 0, 0, 0 };
	CHECK(strcasestr_ascii(enh_describe(&e578), "authentication"),
	      "enh_describe: 5.7.8 talks about authentication");
	CHECK(strcasestr_ascii(enh_describe(&e511), "mailbox"),
	      "enh_describe: 5.1.1 talks about the mailbox");
	CHECK_STR(enh_describe(&none), "", "enh_describe: no code, no words");
	CHECK(strcasestr_ascii(code_describe(535), "authentication"),
	      "code_describe: 535 talks about authentication");
	CHECK(strlen(code_describe(550)) > 0, "code_describe: 550 has words");
	CHECK(strcasestr_ascii(code_describe(421), "closing") ||
	      strcasestr_ascii(code_describe(421), "not available"),
	      "code_describe: 421 says the service is closing");
	CHECK(strcasestr_ascii(code_describe(459), "temporary"),
	      "code_describe: unknown 4xx falls back to 'temporary'");
}

static void
test_line_reader(void)
{
	struct linereader lr = { 0 };
	char *line = NULL;
	size_t len = 99;

	buf_adds(&lr.in, "220 a\r\n250 b\n");
	CHECK_INT(lr_getline(&lr, &line, &len), 1, "lr: CRLF ends a line");
	CHECK_STR(line, "220 a", "lr: CRLF stripped");
	CHECK_INT(len, 5, "lr: CRLF line length");
	free(line);
	CHECK_INT(lr_getline(&lr, &line, &len), 1, "lr: bare LF ends a line");
	CHECK_STR(line, "250 b", "lr: LF stripped");
	free(line);
	CHECK_INT(lr_getline(&lr, &line, &len), 0, "lr: nothing more: 0");

	/* split across two (three) arrivals */
	buf_adds(&lr.in, "250 sp");
	CHECK_INT(lr_getline(&lr, &line, &len), 0, "lr: half a line: 0");
	buf_adds(&lr.in, "lit\r");
	CHECK_INT(lr_getline(&lr, &line, &len), 0, "lr: line without LF yet: 0");
	buf_adds(&lr.in, "\n250 next\r\n");
	CHECK_INT(lr_getline(&lr, &line, &len), 1, "lr: split line completes");
	CHECK_STR(line, "250 split", "lr: split line joined");
	free(line);
	CHECK_INT(lr_getline(&lr, &line, &len), 1, "lr: line after the split one");
	CHECK_STR(line, "250 next", "lr: line after the split one text");
	free(line);

	/* NULs and stray CRs inside */
	buf_add(&lr.in, "250 a\0b\r\n", 9);
	CHECK_INT(lr_getline(&lr, &line, &len), 1, "lr: line with NUL");
	check_mem(line, len, "250 a\0b", 7, "lr: NUL kept, length 7");
	free(line);
	buf_adds(&lr.in, "a\rb\n\r\n");
	lr_getline(&lr, &line, &len);
	check_mem(line, len, "a\rb", 3, "lr: a CR inside a line is kept");
	free(line);
	CHECK_INT(lr_getline(&lr, &line, &len), 1, "lr: empty line is a line");
	CHECK_INT(len, 0, "lr: empty line has length 0");
	free(line);

	char *c = line_cstr("a\0b", 3);
	CHECK_STR(c, "a\xe2\x90\x80" "b", "line_cstr: NUL becomes U+2400");
	free(c);
	c = line_cstr("\0", 1);
	CHECK_INT(strlen(c), 3, "line_cstr: one NUL is three bytes");
	free(c);
	lr_free(&lr);

	/* bounds */
	char *big = xmalloc(LINE_MAX_BYTES + 8);
	memset(big, 'x', LINE_MAX_BYTES + 8);

	struct linereader a = { 0 };
	buf_add(&a.in, big, LINE_MAX_BYTES + 1);
	CHECK_INT(lr_getline(&a, &line, &len), -1, "lr: partial line over LINE_MAX_BYTES: -1");
	lr_free(&a);

	buf_add(&a.in, big, LINE_MAX_BYTES + 1);
	buf_adds(&a.in, "\r\n");
	CHECK_INT(lr_getline(&a, &line, &len), -1, "lr: complete line of LINE_MAX_BYTES+1: -1");
	lr_free(&a);

	buf_add(&a.in, big, LINE_MAX_BYTES);
	CHECK_INT(lr_getline(&a, &line, &len), 0, "lr: pending LINE_MAX_BYTES bytes: 0 (wait)");
	buf_adds(&a.in, "\n");
	int rc = lr_getline(&a, &line, &len);
	CHECK_INT(rc, 1, "lr: exactly LINE_MAX_BYTES then LF is a line");
	CHECK_INT(rc == 1 ? len : 0, LINE_MAX_BYTES, "lr: LINE_MAX_BYTES line length");
	if (rc == 1)
		free(line);
	lr_free(&a);

	/* the same line with CRLF must be just as fine: the line end is not
	 * part of the line */
	buf_add(&a.in, big, LINE_MAX_BYTES);
	buf_adds(&a.in, "\r");
	CHECK_INT(lr_getline(&a, &line, &len), 0,
		  "lr: LINE_MAX_BYTES bytes + CR, LF still to come: 0 (wait)");
	buf_adds(&a.in, "\n");
	rc = lr_getline(&a, &line, &len);
	CHECK_INT(rc, 1, "lr: exactly LINE_MAX_BYTES then CRLF is a line");
	CHECK_INT(rc == 1 ? len : 0, LINE_MAX_BYTES, "lr: LINE_MAX_BYTES CRLF line length");
	if (rc == 1)
		free(line);
	lr_free(&a);
	free(big);
}

/* Parse an EHLO reply given as lines into caps. */
static void
caps_from(struct caps *c, const char *const *lines, size_t n)
{
	struct reply r;
	feed_lines(lines, n, &r, NULL);
	caps_parse(c, &r);
	reply_free(&r);
}

static void
test_caps(void)
{
	struct caps c;

	static const char *const postfix[] = {
		"250-mail.example.com",
		"250-PIPELINING",
		"250-SIZE 10240000",
		"250-VRFY",
		"250-ETRN",
		"250-STARTTLS",
		"250-AUTH PLAIN LOGIN",
		"250-AUTH=PLAIN LOGIN",
		"250-ENHANCEDSTATUSCODES",
		"250-8BITMIME",
		"250-DSN",
		"250-SMTPUTF8",
		"250 CHUNKING",
	};
	caps_from(&c, postfix, ARRAY_SIZE(postfix));
	CHECK(c.valid, "caps: Postfix reply is valid");
	CHECK_STR(c.domain, "mail.example.com", "caps: Postfix domain");
	CHECK(c.pipelining && c.starttls && c.auth && c.eightbitmime &&
	      c.smtputf8 && c.enhancedstatuscodes && c.chunking && c.dsn,
	      "caps: Postfix extensions all seen");
	CHECK(!c.requiretls, "caps: REQUIRETLS not offered, not set");
	CHECK(c.size, "caps: SIZE seen");
	CHECK_INT(c.size_limit, 10240000, "caps: SIZE 10240000");
	CHECK_STR(c.mechs, "PLAIN LOGIN", "caps: AUTH and AUTH= give PLAIN LOGIN once");

	static const char *const gmail[] = {
		"250-smtp.gmail.com at your service, [203.0.113.7]",
		"250-SIZE 35882577",
		"250-8BITMIME",
		"250-AUTH LOGIN PLAIN XOAUTH2 PLAIN-CLIENTTOKEN OAUTHBEARER XOAUTH",
		"250-ENHANCEDSTATUSCODES",
		"250-PIPELINING",
		"250-CHUNKING",
		"250 SMTPUTF8",
	};
	caps_from(&c, gmail, ARRAY_SIZE(gmail));
	CHECK_STR(c.domain, "smtp.gmail.com", "caps: Gmail domain is the first word");
	CHECK_STR(c.mechs, "LOGIN PLAIN XOAUTH2 PLAIN-CLIENTTOKEN OAUTHBEARER XOAUTH",
		  "caps: Gmail mechanisms in order");
	CHECK(!c.starttls, "caps: Gmail (inside TLS) has no STARTTLS");
	CHECK_INT(c.size_limit, 35882577, "caps: Gmail SIZE");
	CHECK(caps_has_mech(&c, "XOAUTH2"), "caps_has_mech: XOAUTH2");
	CHECK(caps_has_mech(&c, "XOAUTH"), "caps_has_mech: XOAUTH (last word)");
	CHECK(caps_has_mech(&c, "plain"), "caps_has_mech: case-insensitive");
	CHECK(!caps_has_mech(&c, "OAUTH"), "caps_has_mech: OAUTH is no word of the list");
	CHECK(!caps_has_mech(&c, "CRAM-MD5"), "caps_has_mech: CRAM-MD5 absent");

	static const char *const oldform[] = {
		"250-old.example.net", "250-AUTH=LOGIN PLAIN", "250 HELP",
	};
	caps_from(&c, oldform, ARRAY_SIZE(oldform));
	CHECK(c.auth, "caps: AUTH=LOGIN PLAIN sets auth");
	CHECK_STR(c.mechs, "LOGIN PLAIN", "caps: AUTH= form mechanisms");

	static const char *const clienttoken[] = {
		"250-x.example", "250 AUTH PLAIN-CLIENTTOKEN",
	};
	caps_from(&c, clienttoken, ARRAY_SIZE(clienttoken));
	CHECK(caps_has_mech(&c, "PLAIN-CLIENTTOKEN"), "caps_has_mech: PLAIN-CLIENTTOKEN");
	CHECK(!caps_has_mech(&c, "PLAIN"), "caps_has_mech: PLAIN-CLIENTTOKEN alone is no PLAIN");

	static const char *const mixed[] = {
		"250-MX.Example.ORG greets you",
		"250-starttls",
		"250-Size",
		"250-auth plain Login  plain cram-md5 ",
		"250-PipeLining",
		"250 RequireTLS",
	};
	caps_from(&c, mixed, ARRAY_SIZE(mixed));
	CHECK(c.starttls && c.pipelining && c.requiretls,
	      "caps: keywords are case-insensitive");
	CHECK(c.size, "caps: SIZE without a number is still SIZE");
	CHECK_INT(c.size_limit, 0, "caps: SIZE without a number: no limit");
	CHECK_STR(c.mechs, "PLAIN LOGIN CRAM-MD5",
		  "caps: mechanisms upper-cased, duplicates dropped, extra spaces ignored");
	CHECK_STR(c.domain, "MX.Example.ORG", "caps: domain as sent");

	static const char *const err[] = { "502 5.5.1 EHLO not implemented" };
	memset(&c, 0xff, sizeof c);
	caps_from(&c, err, 1);
	CHECK(!c.valid, "caps: a 502 reply leaves caps invalid");
	CHECK(!c.auth && !c.starttls && c.mechs[0] == '\0',
	      "caps: a 502 reply leaves caps empty");

	static const char *const single[] = { "250 tiny.example" };
	caps_from(&c, single, 1);
	CHECK(c.valid && !c.auth && !c.starttls && !c.size,
	      "caps: one-line 250 is valid with no extensions");
	CHECK_STR(c.domain, "tiny.example", "caps: one-line 250 domain");
}

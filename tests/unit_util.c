/*
 * unit_util.c - included by unit.c: escaping, JSON strings, base64, small
 * string helpers and buffers (src/util.h), and the transcript.
 */

static void
check_vis(const char *in, size_t n, const char *want, const char *name)
{
	char *got = vis_escape(in, n);
	check_str_(got, want, name);
	free(got);
}

/* What vis_escape promises: printable ASCII and valid, printable UTF-8
 * only.  Returns NULL if s keeps the promise, else the reason. */
static const char *
vis_violation(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), i = 0;
	while (i < n) {
		unsigned cp;
		if (u[i] < 0x20 || u[i] == 0x7f)
			return "control byte";
		int len = utf8_seq(u + i, n - i, &cp);
		if (len == 0)
			return "invalid UTF-8";
		if ((cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
		    (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200e || cp == 0x200f)
			return "C1 control or bidi mark";
		i += (size_t)len;
	}
	return NULL;
}

static uint32_t rng_state = 12345;

static uint32_t
rng(void)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return rng_state >> 8;
}

static void
test_vis_escape(void)
{
	check_vis("\x1b[31mred", 8, "\\x1b[31mred", "vis: ESC as \\x1b");
	check_vis("\a", 1, "\\x07", "vis: BEL as \\x07");
	check_vis("a\0b", 3, "a\\x00b", "vis: NUL as \\x00");
	check_vis("\r\n\t", 3, "\\r\\n\\t", "vis: CR LF TAB as \\r \\n \\t");
	check_vis("\x7f", 1, "\\x7f", "vis: DEL as \\x7f");
	check_vis("a\\b", 3, "a\\\\b", "vis: backslash doubled");
	check_vis("plain ASCII ~!", 14, "plain ASCII ~!", "vis: printable ASCII kept");
	check_vis("caf\xc3\xa9", 5, "caf\xc3\xa9", "vis: UTF-8 e-acute kept");
	check_vis("\xe6\x97\xa5\xe6\x9c\xac", 6, "\xe6\x97\xa5\xe6\x9c\xac",
		  "vis: UTF-8 CJK kept");
	check_vis("\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80", "vis: 4-byte UTF-8 kept");
	check_vis("\xff", 1, "\\xff", "vis: 0xff as \\xff");
	check_vis("\xc0\xaf", 2, "\\xc0\\xaf", "vis: overlong C0 AF byte by byte");
	check_vis("\xe0\x80\xaf", 3, "\\xe0\\x80\\xaf", "vis: overlong 3-byte escaped");
	check_vis("\xed\xa0\x80", 3, "\\xed\\xa0\\x80", "vis: surrogate D800 escaped");
	check_vis("\xe2\x82", 2, "\\xe2\\x82", "vis: truncated sequence escaped");
	check_vis("\xe2\x82" "A", 3, "\\xe2\\x82" "A", "vis: truncated sequence before ASCII");
	check_vis("\xf4\x90\x80\x80", 4, "\\xf4\\x90\\x80\\x80", "vis: beyond U+10FFFF escaped");
	check_vis("\x80", 1, "\\x80", "vis: lone continuation byte escaped");

	char *got = vis_escape("\xc2\x85", 2);
	CHECK(!strcasecmp(got, "\\u{0085}"), "vis: C1 control U+0085 as \\u{0085}");
	if (strcasecmp(got, "\\u{0085}"))
		printf("# got \"%s\"\n", got);
	free(got);
	got = vis_escape("a\xe2\x80\xae" "b", 5);
	CHECK(!strcasecmp(got, "a\\u{202e}b"), "vis: bidi override U+202E as \\u{202e}");
	if (strcasecmp(got, "a\\u{202e}b"))
		printf("# got \"%s\"\n", got);
	free(got);
	got = vis_escape("\xe2\x81\xa6", 3);
	CHECK(!strcasecmp(got, "\\u{2066}"), "vis: bidi isolate U+2066 escaped");
	free(got);

	/* the promise, over every byte, every pair, and random strings */
	const char *why = NULL;
	char in[16];
	for (unsigned b = 0; b < 256 && !why; b++) {
		in[0] = (char)b;
		char *e = vis_escape(in, 1);
		why = vis_violation(e);
		free(e);
	}
	CHECK_STR(why, NULL, "vis: every single byte escapes to safe text");
	why = NULL;
	for (unsigned b = 0; b < 65536 && !why; b++) {
		in[0] = (char)(b >> 8);
		in[1] = (char)b;
		char *e = vis_escape(in, 2);
		why = vis_violation(e);
		free(e);
	}
	CHECK_STR(why, NULL, "vis: every byte pair escapes to safe text");
	why = NULL;
	for (int k = 0; k < 50000 && !why; k++) {
		size_t n = 1 + rng() % sizeof in;
		for (size_t i = 0; i < n; i++) {
			uint32_t r = rng();
			/* favour the interesting bytes */
			static const unsigned char pick[] = {
				0x00, 0x1b, 0x7f, 0x80, 0x85, 0x9f, 0xc2, 0xe2,
				0x80, 0xae, 0xed, 0xa0, 0xf0, 0xf4, 0x9f, 0xff
			};
			in[i] = (char)(r & 0x100 ? pick[r % sizeof pick] : r & 0xff);
		}
		char *e = vis_escape(in, n);
		why = vis_violation(e);
		free(e);
	}
	CHECK_STR(why, NULL, "vis: 50000 random strings escape to safe text");
}

static void
check_json(const char *in, const char *want, const char *name)
{
	struct buf b = { 0 };
	json_string(&b, in);
	check_str_(b.data, want, name);
	buf_free(&b);
}

static bool
have_python3(void)
{
	return system("command -v python3 >/dev/null 2>&1") == 0;
}

/* Write data to a new temporary file; returns its malloc'd name. */
static char *
temp_file(const void *data, size_t n)
{
	char *name = xstrdup("/tmp/smtpdx-unit-XXXXXX");
	int fd = mkstemp(name);
	if (fd < 0) {
		free(name);
		return NULL;
	}
	bool ok = write(fd, data, n) == (ssize_t)n;
	close(fd);
	if (!ok) {
		unlink(name);
		free(name);
		return NULL;
	}
	return name;
}

static void
test_json_string(void)
{
	check_json("say \"hi\" \\ ok", "\"say \\\"hi\\\" \\\\ ok\"",
		   "json: quotes and backslash escaped");
	check_json("a\nb\rc\td", "\"a\\nb\\rc\\td\"", "json: \\n \\r \\t");
	check_json("\x01\x1b[0m\x1f", "\"\\u0001\\u001b[0m\\u001f\"",
		   "json: control bytes as \\u00XX");
	check_json("\x7f", "\"\\u007f\"", "json: DEL as \\u007f");
	check_json("x\xff" "y", "\"x\\ufffdy\"", "json: invalid byte as \\ufffd");
	check_json("\xc0\xaf", "\"\\ufffd\\ufffd\"", "json: overlong as two \\ufffd");
	check_json("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"", "json: surrogate as \\ufffd");
	check_json("caf\xc3\xa9 \xe6\x97\xa5", "\"caf\xc3\xa9 \xe6\x97\xa5\"",
		   "json: valid UTF-8 kept");
	check_json("", "\"\"", "json: empty string");
	struct buf b = { 0 };
	buf_adds(&b, "{\"k\":");
	json_string(&b, "v");
	buf_addc(&b, '}');
	CHECK_STR(b.data, "{\"k\":\"v\"}", "json: json_string appends to what is there");
	buf_free(&b);

	if (!have_python3()) {
		skip("json: python3 parses a nasty string", "python3 not found");
		skip("json: python3 round-trips a valid one", "python3 not found");
		return;
	}
	/* anything at all must come out as valid JSON */
	static const char nasty[] =
		"\"\\/\x01\x02\x1b[2J\x7f\x80\xff\xc0\xaf\xed\xa0\x80\xe2\x82"
		"\xc2\x85\xe2\x80\xae\xf4\x90\x80\x80 caf\xc3\xa9 \xe2\x80\xa8 end";
	json_string(&b, nasty);
	char *f = temp_file(b.data, b.len);
	buf_free(&b);
	char *cmd = xasprintf("python3 -c 'import json,sys; "
			      "json.load(open(sys.argv[1], encoding=\"utf-8\"))' %s", f);
	CHECK(f && system(cmd) == 0, "json: python3 parses a nasty string");
	free(cmd);
	if (f)
		unlink(f);
	free(f);

	/* valid UTF-8 with control bytes decodes to exactly the input */
	static const char valid[] = "tab\there \"q\" back\\slash \x01\x1f\x7f "
				    "\r\n caf\xc3\xa9 \xf0\x9f\x98\x80";
	json_string(&b, valid);
	char *jf = temp_file(b.data, b.len);
	char *rf = temp_file(valid, sizeof valid - 1);
	buf_free(&b);
	cmd = xasprintf("python3 -c 'import json,sys; "
			"v = json.load(open(sys.argv[1], encoding=\"utf-8\")); "
			"w = open(sys.argv[2], encoding=\"utf-8\", newline=\"\").read(); "
			"sys.exit(0 if v == w else 1)' %s %s", jf, rf);
	CHECK(jf && rf && system(cmd) == 0, "json: python3 round-trips a valid one");
	free(cmd);
	if (jf)
		unlink(jf);
	if (rf)
		unlink(rf);
	free(jf);
	free(rf);
}

static void
test_base64(void)
{
	/* round trip, lengths 0..10, bytes that cover 0x00 and 0xff */
	for (size_t n = 0; n <= 10; n++) {
		unsigned char in[10], *out = NULL;
		size_t outlen = 99;
		for (size_t i = 0; i < n; i++)
			in[i] = (unsigned char)(i == 0 ? 0x00 : i == 1 ? 0xff : i * 97 + n * 31);
		char *e = b64_encode(in, n);
		bool len_ok = strlen(e) == 4 * ((n + 2) / 3);
		int rc = b64_decode(e, &out, &outlen);
		CHECK(len_ok && rc == 0 && outlen == n && (n == 0 || !memcmp(in, out, n)),
		      nm("b64: round trip of %zu bytes", n));
		free(e);
		free(out);
	}
	static const struct { const char *plain, *enc; } v[] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		char *e = b64_encode(v[i].plain, strlen(v[i].plain));
		check_str_(e, v[i].enc, nm("b64: RFC 4648 \"%s\" -> \"%s\"", v[i].plain, v[i].enc));
		free(e);
		unsigned char *d = NULL;
		size_t dl = 0;
		int rc = b64_decode(v[i].enc, &d, &dl);
		CHECK(rc == 0 && dl == strlen(v[i].plain) &&
		      (dl == 0 || !memcmp(d, v[i].plain, dl)),
		      nm("b64: RFC 4648 \"%s\" decodes to \"%s\"", v[i].enc, v[i].plain));
		free(d);
	}
	static const char *const bad[] = {
		"Zg=", "Z===", "====", "=", "Zg==Zg==", "Zg=A", "Zm9v!A==", "Zm 9v",
		"Zm9", "Zm9vY", "Zm9v\n",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		unsigned char *d = NULL;
		size_t dl = 0;
		char *shown_bad = vis_escape(bad[i], strlen(bad[i]));
		CHECK_INT(b64_decode(bad[i], &d, &dl), -1,
			  nm("b64: \"%s\" rejected", shown_bad));
		free(shown_bad);
		free(d);
	}
	unsigned char *d = NULL;
	size_t dl = 0;
	CHECK(b64_decode("AP8=", &d, &dl) == 0 && dl == 2 && d[0] == 0 && d[1] == 0xff,
	      "b64: \"AP8=\" is 00 ff");
	free(d);
}

static void
test_strings_and_bufs(void)
{
	char *sub = str_subst("{host} and {host}.", "{host}", "mx.example");
	CHECK_STR(sub, "mx.example and mx.example.", "str_subst: every occurrence");
	free(sub);
	sub = str_subst("", "{host}", "x");
	CHECK_STR(sub, "", "str_subst: an empty text stays empty (not NULL)");
	free(sub);

	CHECK(strcasestr_ascii("Relay access DENIED", "access denied"),
	      "strcasestr_ascii: case-insensitive hit");
	CHECK(strcasestr_ascii("abc", "abc"), "strcasestr_ascii: whole string");
	CHECK(strcasestr_ascii("xyz", ""), "strcasestr_ascii: empty needle");
	CHECK(!strcasestr_ascii("abc", "abcd"), "strcasestr_ascii: longer needle");
	CHECK(!strcasestr_ascii("", "a"), "strcasestr_ascii: empty haystack");
	CHECK(!strcasestr_ascii("greylisting", "graylist"), "strcasestr_ascii: miss");

	struct buf b = { 0 };
	buf_adds(&b, "hello");
	buf_addc(&b, ' ');
	buf_printf(&b, "%d-%s", 42, "x");
	CHECK_STR(b.data, "hello 42-x", "buf: adds, addc, printf");
	CHECK_INT(b.len, 10, "buf: len counts bytes");
	buf_consume(&b, 6);
	CHECK_STR(b.data, "42-x", "buf_consume: drops from the front");
	CHECK_INT(b.len, 4, "buf_consume: len updated");
	buf_consume(&b, 100);
	CHECK(b.len == 0 && b.data && b.data[0] == '\0', "buf_consume: more than len empties");
	buf_add(&b, "a\0b", 3);
	CHECK(b.len == 3 && b.data[1] == '\0' && b.data[3] == '\0',
	      "buf_add: NUL inside kept, terminated after");
	buf_reset(&b);
	CHECK(b.len == 0 && b.data[0] == '\0', "buf_reset: empty, NUL-terminated");
	for (int i = 0; i < 1000; i++)
		buf_printf(&b, "%03d", i);
	CHECK(b.len == 3000 && !memcmp(b.data + 2997, "999", 3) && b.data[3000] == '\0',
	      "buf: grows past many doublings");
	char *s = buf_steal(&b);
	CHECK(s && b.data == NULL && b.len == 0 && b.cap == 0, "buf_steal: hands over");
	free(s);
	s = buf_steal(&b);
	CHECK_STR(s, "", "buf_steal: empty buffer gives \"\"");
	free(s);
	buf_free(&b);

	char secret[] = "s3cret";
	wipe(secret, sizeof secret);
	CHECK(!memcmp(secret, "\0\0\0\0\0\0\0", sizeof secret), "wipe: zeroes");
}

static void
test_transcript(void)
{
	struct transcript tr = { 0 };
	tr.t0 = now_mono();

	static const char raw[] = "220 \x1b[2Jhi\0there\r\n";
	tr_add(&tr, TR_SERVER, false, STEP_GREETING, raw, sizeof raw - 1);
	CHECK_INT(tr.n, 1, "transcript: one line");
	CHECK_STR(tr.v[0].text, "220 \\x1b[2Jhi\\x00there\\r\\n",
		  "transcript: ESC, NUL, CRLF stored escaped");
	CHECK(tr.v[0].dir == TR_SERVER && !tr.v[0].tls && tr.v[0].step == STEP_GREETING,
	      "transcript: direction, tls flag, step kept");
	CHECK(tr.v[0].t >= 0 && tr.v[0].t < 60, "transcript: time since start");
	CHECK(tr.v[0].note == NULL, "transcript: no note by default");

	tr_add(&tr, TR_CLIENT, true, STEP_EHLO_TLS, "EHLO c\xe2\x80\xae" "x", 10);
	CHECK(!strcasecmp(tr.v[1].text, "EHLO c\\u{202e}x"),
	      "transcript: bidi override escaped");
	CHECK(tr.v[1].dir == TR_CLIENT && tr.v[1].tls, "transcript: client line in TLS");

	tr_info(&tr, -1, "connected to %s port %d", "127.0.0.1", 2525);
	CHECK_STR(tr.v[2].text, "connected to 127.0.0.1 port 2525", "transcript: tr_info text");
	CHECK(tr.v[2].dir == TR_INFO, "transcript: tr_info is an I line");
	tr_note(&tr, "user \"alice\"");
	CHECK_STR(tr.v[2].note, "user \"alice\"", "transcript: tr_note on the last line");
	CHECK(tr.v[1].note == NULL, "transcript: tr_note leaves earlier lines");
	for (int i = 0; i < 200; i++)
		tr_info(&tr, STEP_DATA, "line %d", i);
	CHECK(tr.n == 203 && !strcmp(tr.v[202].text, "line 199") &&
	      !strcmp(tr.v[0].text, "220 \\x1b[2Jhi\\x00there\\r\\n"),
	      "transcript: grows, keeps earlier lines");
	tr_free(&tr);
	CHECK(tr.n == 0 && tr.v == NULL, "transcript: tr_free empties");
}

/* Every format character (Unicode category Cf) is escaped, as C0/C1 and
 * the bidi controls are: none reaches a terminal raw. */
static size_t
utf8_put(unsigned cp, char *o)
{
	if (cp < 0x80) { o[0] = (char)cp; return 1; }
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6); o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12); o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18); o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f)); o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static void
test_vis_format_chars(void)
{
	static const unsigned cf[][2] = {	/* ranges of category Cf */
		{ 0x00ad, 0x00ad }, { 0x0600, 0x0605 }, { 0x061c, 0x061c },
		{ 0x06dd, 0x06dd }, { 0x070f, 0x070f }, { 0x0890, 0x0891 },
		{ 0x08e2, 0x08e2 }, { 0x180e, 0x180e }, { 0x200b, 0x200f },
		{ 0x202a, 0x202e }, { 0x2060, 0x2064 }, { 0x2066, 0x206f },
		{ 0xfeff, 0xfeff }, { 0xfff9, 0xfffb }, { 0x110bd, 0x110bd },
		{ 0x110cd, 0x110cd }, { 0x13430, 0x1343f }, { 0x1bca0, 0x1bca3 },
		{ 0x1d173, 0x1d17a }, { 0xe0001, 0xe0001 }, { 0xe0020, 0xe007f },
	};
	struct buf bad = { 0 };
	size_t n = 0;
	for (size_t i = 0; i < ARRAY_SIZE(cf); i++)
		for (unsigned cp = cf[i][0]; cp <= cf[i][1]; cp++) {
			char in[8], want[16];
			size_t k = utf8_put(cp, in);
			snprintf(want, sizeof want, "\\u{%04x}", cp);
			char *got = vis_escape(in, k);
			if (strcasecmp(got, want))
				buf_printf(&bad, "U+%04X ", cp);
			free(got);
			n++;
		}
	CHECK(!bad.len, nm("vis: all %zu format characters (Cf) escaped%s%.300s", n,
			   bad.len ? "; raw: " : "", bad.data ? bad.data : ""));
	buf_free(&bad);
	/* and letters around them are left alone */
	char *got = vis_escape("caf\xc3\xa9 \xd8\xb9", 8);
	CHECK_STR(got, "caf\xc3\xa9 \xd8\xb9", "vis: accented and Arabic letters stay");
	free(got);
}

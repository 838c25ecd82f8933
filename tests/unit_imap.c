/* unit_imap.c - --fetch-back's pure parts: the URL, dates, the header
 * taken apart, and the verdicts judged (included by unit.c). */

static void
test_fb_url(void)
{
	struct fb_url u;
	char err[256];
	CHECK(fb_url_parse("imaps://bob@example.org@imap.example.org", &u, err,
			   sizeof err) == 0 && u.implicit && u.port == 993 &&
	      !strcmp(u.user, "bob@example.org") &&
	      !strcmp(u.host, "imap.example.org"),
	      "fb_url: imaps://USER@HOST, the user holding '@', port 993");
	CHECK(fb_url_parse("imap://bob%40example.org@[::1]:1143/", &u, err,
			   sizeof err) == 0 && !u.implicit && u.port == 1143 &&
	      !strcmp(u.user, "bob@example.org") && !strcmp(u.host, "::1"),
	      "fb_url: imap:// with %40, [v6]:port and a trailing slash");
	CHECK(fb_url_parse("imap://bob@h", &u, err, sizeof err) == 0 &&
	      u.port == 143, "fb_url: imap:// defaults to 143 (STARTTLS)");
	CHECK(fb_url_parse("imaps://bob:secret@h", &u, err, sizeof err) < 0 &&
	      strstr(err, "no password"), "fb_url: a password in the URL refused");
	CHECK(fb_url_parse("imaps://h", &u, err, sizeof err) < 0,
	      "fb_url: a user is required");
	CHECK(fb_url_parse("pop3://bob@h", &u, err, sizeof err) < 0,
	      "fb_url: other schemes refused");
	CHECK(fb_url_parse("imaps://bob@h:0", &u, err, sizeof err) < 0 &&
	      fb_url_parse("imaps://bob@h:99999", &u, err, sizeof err) < 0 &&
	      fb_url_parse("imaps://bob@h/Junk", &u, err, sizeof err) < 0 &&
	      fb_url_parse("imaps://b%0aob@h", &u, err, sizeof err) < 0,
	      "fb_url: bad ports, a mailbox path, a control byte in the user");
}

static void
test_fb_dates(void)
{
	CHECK(fb_parse_date("Wed, 2 Dec 2026 04:00:09 +0000 (UTC)") ==
	      1796184009.0, "fb_date: RFC 5322 date with a comment");
	CHECK(fb_parse_date("2 Dec 2026 05:00:09 +0100") == 1796184009.0,
	      "fb_date: no day name, a positive offset");
	CHECK(fb_parse_date("Tue, 1 Dec 2026 23:00:09 -0500") == 1796184009.0,
	      "fb_date: a negative offset across midnight");
	CHECK(fb_parse_date("Wed, 2 Dec 2026 04:00:09 GMT") == 1796184009.0,
	      "fb_date: an obsolete zone name");
	CHECK(fb_parse_date("Wed, 2 Dec 2026 04:00 +0000") == 1796184000.0,
	      "fb_date: no seconds");
	CHECK(fb_parse_date("yesterday") < 0 && fb_parse_date("") < 0 &&
	      fb_parse_date("Wed, 32 Foo 2026 25:61:00 +0000") < 0,
	      "fb_date: nonsense is -1");
}

static void
test_fb_header(void)
{
	static const char hdr[] =
		"Received: from mx.example.org (mx.example.org [192.0.2.7])\r\n"
		"\tby imap.example.org (Postfix) with ESMTPS id 111AAA\r\n"
		"\tfor <bob@example.org>; Wed, 2 Dec 2026 04:00:09 +0000 (UTC)\r\n"
		"Authentication-Results: imap.example.org;\r\n"
		"\tdkim=pass (2048-bit key; unprotected) header.d=example.com "
		"header.s=sel header.b=abc;\r\n"
		"\tspf=softfail (domain of transitioning a@example.com does not "
		"designate 192.0.2.1 as permitted sender) smtp.mailfrom=a@example.com;\r\n"
		"\tdmarc=pass (p=NONE sp=NONE dis=NONE) header.from=example.com\r\n"
		"Authentication-Results: other.example; none\r\n"
		"Received-SPF: Pass (mailfrom) identity=mailfrom; client-ip=192.0.2.1\r\n"
		"X-Spam-Status: No, score=-0.1\r\n"
		"X-Rspamd-Action: add header\r\n"
		"Received: from client (client [198.51.100.3]) by mx.example.org\r\n"
		" (Postfix) with ESMTPSA id 222BBB; Wed, 2 Dec 2026 04:00:02 +0000\r\n"
		"Received: by localhost; not a date\r\n"
		"Date: Wed, 2 Dec 2026 04:00:00 +0000\r\n"
		"Subject: hi\r\n"
		"\r\n"
		"Received: this is the body, not a header\r\n";
	struct fb_header h;
	fb_header_parse(hdr, sizeof hdr - 1, &h);
	CHECK_INT(h.nhops, 3, "fb_header: three Received, the body's ignored");
	CHECK(h.nhops == 3 && !strcmp(h.hops[0].by, "localhost") &&
	      h.hops[0].epoch < 0 && !h.hops[0].has_delay,
	      "fb_header: the bottom Received is the oldest; no date, no delay");
	CHECK(h.nhops == 3 && !strcmp(h.hops[1].by, "mx.example.org (Postfix)") &&
	      !strcmp(h.hops[1].with, "ESMTPSA") && !strcmp(h.hops[1].id, "222BBB") &&
	      h.hops[1].delay == 2.0,
	      "fb_header: a folded Received taken apart, its delay from Date:");
	CHECK(h.nhops == 3 && !strcmp(h.hops[2].from,
				      "mx.example.org (mx.example.org [192.0.2.7])") &&
	      !strcmp(h.hops[2].by, "imap.example.org (Postfix)") &&
	      h.hops[2].delay == 7.0,
	      "fb_header: 'from' keeps its comment; 'for' is not 'from'; +7 s");
	CHECK_INT(h.nauth, 4, "fb_header: three A-R verdicts and Received-SPF");
	CHECK(h.nauth == 4 && !strcmp(h.auth[0].method, "dkim") &&
	      !strcmp(h.auth[0].result, "pass") &&
	      !strcmp(h.auth[0].authserv, "imap.example.org") &&
	      strstr(h.auth[0].detail, "header.d=example.com") &&
	      !strstr(h.auth[0].detail, "2048"),
	      "fb_header: dkim=pass with its properties, the comment dropped");
	CHECK(h.nauth == 4 && !strcmp(h.auth[1].result, "softfail") &&
	      !strcmp(h.auth[3].authserv, "Received-SPF") &&
	      !strcmp(h.auth[3].result, "pass"),
	      "fb_header: spf=softfail; Received-SPF's Pass in lower case");
	CHECK_INT(h.nspam, 2, "fb_header: X-Spam-Status and X-Rspamd-Action");
	struct diag_list l = { 0 };
	fb_judge(&h, "a@example.com", &l);
	CHECK(l.n == 2 && l.v[0].id == D_FETCHBACK_SPF_FAIL &&
	      l.v[1].id == D_FETCHBACK_SPAM_FLAGGED &&
	      strstr(l.v[0].fix, "a@example.com") && !strchr(l.v[0].fix, '{'),
	      "fb_judge: softfail is spf_fail, an rspamd action is spam_flagged; "
	      "placeholders filled");
	diag_list_free(&l);
	fb_header_free(&h);

	/* what the sender wrote below the oldest Received is shown, not
	 * believed */
	static const char forged[] =
		"Authentication-Results: mx.example.org; dkim=pass header.d=a.example\r\n"
		"Received: from c by mx.example.org; Wed, 2 Dec 2026 04:00:02 +0000\r\n"
		"Authentication-Results: mx.example.org; dmarc=fail; spf=fail\r\n"
		"X-Spam-Flag: YES\r\n"
		"Subject: hi\r\n\r\n";
	fb_header_parse(forged, sizeof forged - 1, &h);
	CHECK(h.nauth == 3 && h.auth[0].trusted && !h.auth[1].trusted &&
	      !h.auth[2].trusted && h.nspam == 1 && !h.spam[0].trusted,
	      "fb_header: verdicts below the oldest Received are the sender's");
	fb_judge(&h, "a@a.example", &l);
	CHECK(l.n == 0, "fb_judge: a forged dmarc=fail or spam flag is not believed");
	diag_list_free(&l);
	fb_header_free(&h);

	/* hostile shapes: no crash, no hop without a name, bounded */
	static const char junk[] =
		" continuation of nothing\r\n"
		"NoColonHere\r\n"
		"Received: ;\r\n"
		"Received: (((((unclosed from by with\r\n"
		"Authentication-Results: ;;;=;a=;=b; x\r\n"
		"Authentication-Results:\r\n"
		"X-Spam-Flag: \x1b[2J YES\r\n";
	fb_header_parse(junk, sizeof junk - 1, &h);
	CHECK(h.nhops == 2 && h.nauth == 0 && h.nspam == 1 &&
	      !strchr(h.spam[0].value, '\x1b'),
	      "fb_header: junk parses to what is there, escapes made safe");
	fb_header_free(&h);
	struct buf big = { 0 };
	for (int i = 0; i < 5000; i++)
		buf_adds(&big, "Received: from a by b; Wed, 2 Dec 2026 04:00:00 +0000\r\n");
	fb_header_parse(big.data, big.len, &h);
	CHECK(h.nhops == 100, "fb_header: at most 100 hops kept of 5000");
	fb_header_free(&h);
	static const char skew[] =
		"Received: by c; Wed, 2 Dec 2026 03:59:00 +0000\r\n"
		"Received: by b; Wed, 2 Dec 2026 04:00:00 +0000\r\n"
		"Received: by a; Wed, 2 Dec 2026 04:00:08 +0000\r\n"
		"Date: Wed, 2 Dec 2026 04:00:10 +0000\r\n\r\n";
	fb_header_parse(skew, sizeof skew - 1, &h);
	CHECK(h.nhops == 3 && h.hops[0].has_delay && h.hops[0].delay == 0 &&
	      h.hops[1].delay == -8 && h.hops[2].delay == -60,
	      "fb_header: 2 s before Date: is 0 (stamps at MAIL, Date: at "
	      "DATA); 8 s and a minute early are clock skew, negative");
	fb_header_free(&h);
	buf_free(&big);
	fb_header_parse("", 0, &h);
	CHECK(h.nhops == 0 && h.nauth == 0 && h.date && h.subject,
	      "fb_header: an empty header");
	fb_header_free(&h);
}

/* The client against hostile byte streams (fb_run_fd on a socketpair, as
 * if TLS were done): each ends quickly, "failed" with a fetchback
 * diagnosis, whatever comes.  The stream is written from a child
 * process, so more than a socket buffer can come. */
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/wait.h>

static void
fb_hostile(const char *name, const char *pre, size_t prelen, char fill,
	   size_t nfill, const char *want_status, enum diag_id want)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
		CHECK(0, "socketpair");
		return;
	}
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		if (write(sv[1], pre, prelen) < 0)
			_exit(0);
		char b[4096];
		memset(b, fill, sizeof b);
		for (size_t left = nfill; left > 0;) {
			size_t k = left < sizeof b ? left : sizeof b;
			if (write(sv[1], b, k) <= 0)
				_exit(0);
			left -= k;
		}
		shutdown(sv[1], SHUT_WR);
		char sink[4096];	/* hold the connection until read */
		while (read(sv[1], sink, sizeof sink) > 0)
			;
		_exit(0);
	}
	close(sv[1]);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	struct fb_opts o = { .url = { .implicit = true, .host = "imap.test",
				      .port = 993, .user = "bob" },
			     .password = "pw-Secret-9", .timeout = 2,
			     .interval = 0.05, .token_header = FB_TOKEN_HEADER,
			     .token = "tok1" };
	struct fetchback fb;
	double t0 = now_mono();
	fb_run_fd(&o, &fb, sv[0]);
	double dt = now_mono() - t0;
	close(sv[0]);
	waitpid(pid, NULL, 0);
	bool has = false;
	for (size_t i = 0; i < fb.diags.n; i++)
		has |= fb.diags.v[i].id == want;
	char msg[200];
	snprintf(msg, sizeof msg, "fetch-back against %s: %s with the "
		 "diagnosis, %.1f s", name, want_status, dt);
	CHECK(dt < 3 * o.timeout && !strcmp(fb.status, want_status) && has, msg);
	fetchback_free(&fb);
}

#define FB_PRE	"* OK hi\r\n* CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR\r\n" \
		"a1 OK\r\na2 OK in\r\na3 OK\r\n* SEARCH 7\r\na4 OK\r\n"
#define FB_S(s)	s, sizeof s - 1

static void
test_fb_hostile(void)
{
	fb_hostile("a literal, then the end", FB_S(FB_PRE
		   "* 7 FETCH (BODY[HEADER] {500}\r\nSubject: x"), 0, 0,
		   "failed", D_FETCHBACK_PROTOCOL_ERROR);
	fb_hostile("a literal of 99999999999 bytes", FB_S(FB_PRE
		   "* 7 FETCH (BODY[HEADER] {99999999999}\r\n"), 'x', 100000,
		   "failed", D_FETCHBACK_PROTOCOL_ERROR);
	fb_hostile("a literal of 4 MiB sent whole", FB_S(FB_PRE
		   "* 7 FETCH (BODY[HEADER] {4194304}\r\n"), 'x', 4194304,
		   "failed", D_FETCHBACK_PROTOCOL_ERROR);
	fb_hostile("* SEARCH with a million UIDs", FB_S("* OK hi\r\n"
		   "a1 OK\r\na2 OK\r\na3 OK\r\n* SEARCH"), ' ', 1000000,
		   "failed", D_FETCHBACK_PROTOCOL_ERROR);
	fb_hostile("an untagged line of 10 MiB", FB_S("* OK hi\r\n* "),
		   'A', 10 << 20, "failed", D_FETCHBACK_PROTOCOL_ERROR);
	fb_hostile("NULs, a tag never sent, nested parentheses, a BYE",
		   FB_S("* OK h\0i\r\na9 OK\r\n* CAPABILITY \0\r\na1 OK\r\n"
			"* BYE mid-command\r\na2 OK\r\na3 OK\r\n* SEARCH 3\r\n"
			"a4 OK\r\n* 3 FETCH (((((((((((BODY[HEADER] {3}\r\n\0\0\0"
			")))))))\r\n"), ')', 100000,
		   "failed", D_FETCHBACK_PROTOCOL_ERROR);
	fb_hostile("a million untagged lines", FB_S("* OK hi\r\na1 OK\r\n"),
		   '\n', 1000000, "failed", D_FETCHBACK_PROTOCOL_ERROR);
}

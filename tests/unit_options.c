/*
 * unit_options.c - included by unit.c: the command line (src/options.h),
 * the client settings (src/config.h) and the step names (src/steps.h).
 */

/* Every argv string handed to options_parse() stays alive until the end:
 * getopt keeps pointers into them between calls. */
static char **argpool;
static size_t nargpool, capargpool;

static char *
pooled(const char *s)
{
	if (nargpool == capargpool) {
		capargpool = capargpool ? 2 * capargpool : 64;
		argpool = xrealloc(argpool, capargpool * sizeof *argpool);
	}
	return argpool[nargpool++] = xstrdup(s);
}

static void
options_pool_free(void)
{
	for (size_t i = 0; i < nargpool; i++)
		free(argpool[i]);
	free(argpool);
	argpool = NULL;
	nargpool = capargpool = 0;
}

/* options_parse() over "smtpdx" and args[0..n). */
static int
run_parse(struct options *o, char *err, size_t errlen, const char *const *args,
	  int n)
{
	char *argv[42];
	int argc = 0;

	argv[argc++] = pooled("smtpdx");
	for (int i = 0; i < n && argc < 41; i++)
		argv[argc++] = pooled(args[i]);
	argv[argc] = NULL;
	err[0] = '\0';
	return options_parse(o, argc, argv, err, errlen);
}

/* Collect a NULL-terminated argument list; returns the count. */
static int
collect(const char **args, int max, const char *first, va_list ap)
{
	int n = 0;
	for (const char *a = first; a && n < max; a = va_arg(ap, const char *))
		args[n++] = a;
	return n;
}

/* options_parse() over "smtpdx" and the NULL-terminated arguments. */
static int parse_args(struct options *o, char *err, size_t errlen,
		      const char *first, ...) __attribute__((sentinel));

static int
parse_args(struct options *o, char *err, size_t errlen, const char *first, ...)
{
	const char *args[40];
	va_list ap;
	va_start(ap, first);
	int n = collect(args, 40, first, ap);
	va_end(ap);
	return run_parse(o, err, errlen, args, n);
}

/* A usage error: -1, and one line of text in err.  Two test points. */
static void expect_fail(const char *first, ...) __attribute__((sentinel));

static void
expect_fail(const char *first, ...)
{
	struct options o;
	char err[256], what[256];
	const char *args[40];
	va_list ap;

	va_start(ap, first);
	int n = collect(args, 40, first, ap);
	va_end(ap);
	size_t k = 0;
	what[0] = '\0';
	for (int i = 0; i < n && k < sizeof what; i++)
		k += (size_t)snprintf(what + k, sizeof what - k, "%s%s", i ? " " : "",
				      args[i]);

	int rc = run_parse(&o, err, sizeof err, args, n);
	CHECK_INT(rc, -1, nm("options: \"%s\" fails", what));
	bool one_line = err[0] != '\0' && strchr(err, '\n') == NULL;
	CHECK(one_line, nm("options: \"%s\" says why in one line", what));
	if (!one_line)
		printf("# err: \"%s\"\n", err);
	options_free(&o);
}

static void
test_options(void)
{
	struct options o;
	char err[256];
	int rc;

	rc = parse_args(&o, err, sizeof err, "mx.example.com", (char *)NULL);
	CHECK_INT(rc, 0, "options: host only parses");
	CHECK_STR(o.cfg.host, "mx.example.com", "options: host only: host");
	CHECK_INT(o.cfg.port, 0, "options: host only: port left to the default");
	CHECK_INT(config_port(&o.cfg), 587, "options: host only: default port 587");
	CHECK_INT(o.set, OB_HOST, "options: host only: only OB_HOST set");
	CHECK(!o.lab && !o.batch && !o.json, "options: host only: no modes");
	options_free(&o);

	rc = parse_args(&o, err, sizeof err, "mx.example.com:2525", (char *)NULL);
	CHECK(rc == 0 && o.cfg.host && !strcmp(o.cfg.host, "mx.example.com") &&
	      o.cfg.port == 2525 && (o.set & OB_PORT),
	      "options: \"mx.example.com:2525\" is host and port");
	options_free(&o);

	rc = parse_args(&o, err, sizeof err, "[2001:db8::1]:465", (char *)NULL);
	CHECK_INT(rc, 0, "options: \"[2001:db8::1]:465\" parses");
	CHECK_STR(o.cfg.host, "2001:db8::1", "options: \"[2001:db8::1]:465\" host");
	CHECK_INT(o.cfg.port, 465, "options: \"[2001:db8::1]:465\" port");
	CHECK_INT(config_tls(&o.cfg), TLSM_IMPLICIT, "options: port 465 means implicit TLS");
	options_free(&o);

	rc = parse_args(&o, err, sizeof err, "[::1]", (char *)NULL);
	CHECK(rc == 0 && o.cfg.host && !strcmp(o.cfg.host, "::1") && o.cfg.port == 0,
	      "options: \"[::1]\" is host ::1, default port");
	options_free(&o);

	rc = parse_args(&o, err, sizeof err, "2001:db8::1", (char *)NULL);
	CHECK(rc == 0 && o.cfg.host && !strcmp(o.cfg.host, "2001:db8::1") && o.cfg.port == 0,
	      "options: bare \"2001:db8::1\" is a host, not host:port");
	options_free(&o);

	rc = parse_args(&o, err, sizeof err, "-p", "2525", "--tls", "none", "-u", "alice",
			"-f", "a@example.com", "-t", "b@example.org", "-t", "c@example.org",
			"--timeout", "2.5", "-4", "--no-send", "--tls-min", "1.3",
			"--helo", "client.example", "--auth", "SCRAM-SHA-256",
			"mx.example.com", (char *)NULL);
	CHECK_INT(rc, 0, "options: a full command line parses");
	if (rc)
		printf("# err: %s\n", err);
	CHECK_INT(o.cfg.port, 2525, "options: -p 2525");
	CHECK_INT(o.cfg.tls, TLSM_NONE, "options: --tls none");
	CHECK_STR(o.cfg.user, "alice", "options: -u alice");
	CHECK_STR(o.cfg.from, "a@example.com", "options: -f");
	CHECK_INT(o.cfg.nto, 2, "options: repeated --to collects both");
	CHECK(o.cfg.nto == 2 && !strcmp(o.cfg.to[0], "b@example.org") &&
	      !strcmp(o.cfg.to[1], "c@example.org"), "options: --to in order");
	CHECK(o.cfg.timeout == 2.5, "options: --timeout 2.5");
	CHECK_INT(o.cfg.family, FAM_V4, "options: -4");
	CHECK(o.cfg.no_send, "options: --no-send");
	CHECK_INT(o.cfg.tls_min, 13, "options: --tls-min 1.3");
	CHECK_STR(o.cfg.helo, "client.example", "options: --helo");
	CHECK_INT(o.cfg.mech, AM_SCRAM_SHA_256, "options: --auth is case-insensitive");
	CHECK_INT(o.set, OB_HOST | OB_PORT | OB_TLS | OB_USER | OB_FROM | OB_TO |
		  OB_TIMEOUT | OB_FAMILY | OB_NOSEND | OB_TLSMIN | OB_HELO | OB_MECH,
		  "options: o->set has exactly the bits given");
	options_free(&o);

	rc = parse_args(&o, err, sizeof err, "--lab", "auth.failed", (char *)NULL);
	CHECK(rc == 0 && o.lab, "options: --lab auth.failed parses");
	CHECK_STR(o.lab_name, "auth.failed", "options: --lab auth.failed sets lab_name");
	CHECK_STR(o.cfg.host, NULL, "options: --lab SCENARIO is not a host");
	options_free(&o);

	rc = parse_args(&o, err, sizeof err, "--lab=ok", (char *)NULL);
	CHECK(rc == 0 && o.lab, "options: --lab=ok parses");
	CHECK_STR(o.lab_name, "ok", "options: --lab=ok sets lab_name");
	options_free(&o);

	rc = parse_args(&o, err, sizeof err, "--lab", (char *)NULL);
	CHECK(rc == 0 && o.lab, "options: --lab alone parses");
	CHECK_STR(o.lab_name, NULL, "options: --lab alone leaves lab_name NULL");
	options_free(&o);

	rc = parse_args(&o, err, sizeof err, "--json", "mx.example.com", (char *)NULL);
	CHECK(rc == 0 && o.json && !o.batch, "options: --json alone is fine");
	options_free(&o);

	rc = parse_args(&o, err, sizeof err, "--help", (char *)NULL);
	CHECK(rc == 0 && o.help, "options: --help needs no host");
	options_free(&o);

	rc = parse_args(&o, err, sizeof err, "--list-diagnoses", (char *)NULL);
	CHECK(rc == 0 && o.list_diagnoses, "options: --list-diagnoses needs no host");
	options_free(&o);

	rc = parse_args(&o, err, sizeof err, "--sweep", "--ports", "587,465",
			"mx.example.com", (char *)NULL);
	CHECK(rc == 0 && o.sweep && o.ports && !strcmp(o.ports, "587,465"),
	      "options: --sweep --ports 587,465");
	options_free(&o);

	expect_fail("-p", "0", "mx.example.com", (char *)NULL);
	expect_fail("-p", "70000", "mx.example.com", (char *)NULL);
	expect_fail("-p", "abc", "mx.example.com", (char *)NULL);
	expect_fail("-p", "25x", "mx.example.com", (char *)NULL);
	expect_fail("mx.example.com:0", (char *)NULL);
	expect_fail("mx.example.com:", (char *)NULL);
	expect_fail(":25", (char *)NULL);
	expect_fail("[::1", (char *)NULL);
	expect_fail("[::1]x", (char *)NULL);
	expect_fail("-p", "25", "mx.example.com:2525", (char *)NULL);
	expect_fail("--tls", "bogus", "mx.example.com", (char *)NULL);
	expect_fail("--servername", "", "mx.example.com", (char *)NULL);
	expect_fail("--servername=", "mx.example.com", (char *)NULL);
	expect_fail("--servername", " ", "--lab", (char *)NULL);
	expect_fail("--auth", "digest-md5", "mx.example.com", (char *)NULL);
	expect_fail("--timeout", "-1", "mx.example.com", (char *)NULL);
	expect_fail("--timeout", "0", "mx.example.com", (char *)NULL);
	expect_fail("--timeout", "nan", "mx.example.com", (char *)NULL);
	expect_fail("--timeout", "3601", "mx.example.com", (char *)NULL);
	expect_fail("--timeout", "2s", "mx.example.com", (char *)NULL);
	expect_fail("--tls-min", "1.4", "mx.example.com", (char *)NULL);
	expect_fail("-4", "-6", "mx.example.com", (char *)NULL);
	expect_fail("mx.example.com", "mx2.example.com", (char *)NULL);
	expect_fail("--lab", "ok", "extra", (char *)NULL);
	expect_fail("--lab=ok", "extra", (char *)NULL);
	expect_fail("--batch", "--json", "mx.example.com", (char *)NULL);
	{
		int r0 = run_parse(&o, err, sizeof err, NULL, 0);
		CHECK(r0 == -1 && err[0] && !strchr(err, '\n'),
		      "options: no host and no --lab fails with one line");
		options_free(&o);
	}
	expect_fail("-u", "alice", (char *)NULL);
	expect_fail("--bogus", "mx.example.com", (char *)NULL);
	expect_fail("-z", "mx.example.com", (char *)NULL);
	expect_fail("mx.example.com", "-p", (char *)NULL);
	expect_fail("--to", "<bob@example.org>", "mx.example.com", (char *)NULL);
	expect_fail("--helo", "two words", "mx.example.com", (char *)NULL);
	/* --helo in U-labels: taken (EHLO sends the A-labels); not IDNA2008:
	 * one line that names --helo */
	expect_fail("--helo", "☃.net", "mx.example.com", (char *)NULL);
	expect_fail("--helo", "-bücher.test", "mx.example.com", (char *)NULL);
	{
		int r1 = parse_args(&o, err, sizeof err, "--helo", "bücher.test",
				    "mx.example.com", (char *)NULL);
		CHECK(r1 == 0 && o.cfg.helo && !strcmp(o.cfg.helo, "bücher.test"),
		      "options: --helo bücher.test taken (U-labels)");
		options_free(&o);
		r1 = parse_args(&o, err, sizeof err, "--helo", "☃.net",
				"mx.example.com", (char *)NULL);
		CHECK(r1 < 0 && has(err, "--helo") && has(err, "IDNA2008") &&
		      !strchr(err, '\n'), "options: --helo ☃.net: one line, "
		      "names --helo and IDNA2008");
		options_free(&o);
		r1 = setting_check("helo", "xn--bcher-kva.test", err, sizeof err);
		CHECK_INT(r1, 0, "settings: helo in A-labels taken");
		r1 = setting_check("helo", "xn--zz.test", err, sizeof err);
		CHECK(r1 < 0 && has(err, "--helo"), "settings: helo with a bad "
		      "A-label refused");
	}
	expect_fail("--ports", "25", "mx.example.com", (char *)NULL);

	rc = parse_args(&o, err, sizeof err, "--bogus", "mx.example.com", (char *)NULL);
	CHECK(has(err, "--bogus"), "options: the unknown option is named in err");
	options_free(&o);
}

static void
test_options_merge(void)
{
	struct config base;
	struct options o;
	char err[256];

	/* a lab scenario's client settings */
	config_defaults(&base);
	config_set(&base.host, "127.0.0.1");
	base.port = 1234;
	base.role_port = 587;
	config_set(&base.ca_pem, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
	config_set(&base.user, "lab-user");
	base.to[base.nto++] = xstrdup("lab@example.test");

	int rc = parse_args(&o, err, sizeof err, "--lab", "--tls", "implicit",
			    "--cafile", "/etc/passwd", "-t", "me@example.org",
			    (char *)NULL);
	CHECK_INT(rc, 0, "merge: user options parse");
	options_merge(&base, &o);
	CHECK_INT(base.port, 1234, "merge: the lab's port stays");
	CHECK_INT(base.role_port, 587, "merge: the lab's role port stays");
	CHECK_STR(base.host, "127.0.0.1", "merge: the lab's host stays");
	CHECK_INT(base.tls, TLSM_IMPLICIT, "merge: --tls implicit wins");
	CHECK_INT(config_tls(&base), TLSM_IMPLICIT, "merge: resolved mode implicit");
	CHECK_STR(base.cafile, "/etc/passwd", "merge: --cafile set");
	CHECK_STR(base.ca_pem, NULL, "merge: --cafile clears the lab's ca_pem");
	CHECK_STR(base.user, "lab-user", "merge: settings not given stay (user)");
	CHECK(base.nto == 1 && !strcmp(base.to[0], "me@example.org"),
	      "merge: --to replaces the lab's recipients");
	CHECK(base.timeout == 15, "merge: default timeout stays");
	options_free(&o);
	config_free(&base);
}

static void
test_options_password(void)
{
	struct options o;
	char err[256];

	unsetenv("SMTPDX_PASSWORD");
	setenv("SMTPDX_PASSWORD", "env-s3cret", 1);
	parse_args(&o, err, sizeof err, "-u", "alice", "mx.example.com", (char *)NULL);
	CHECK_INT(options_password(&o, err, sizeof err), 0, "password: from SMTPDX_PASSWORD");
	CHECK_STR(o.cfg.password, "env-s3cret", "password: SMTPDX_PASSWORD value");
	CHECK(o.set & OB_PASSWORD, "password: OB_PASSWORD set");
	CHECK(getenv("SMTPDX_PASSWORD") == NULL, "password: SMTPDX_PASSWORD unset after");
	options_free(&o);

	char *f = temp_file("file-s3cret\r\nsecond line\n", 25);
	parse_args(&o, err, sizeof err, "--password-file", f ? f : "/nonexistent",
		   "mx.example.com", (char *)NULL);
	CHECK_INT(options_password(&o, err, sizeof err), 0, "password: from --password-file");
	CHECK_STR(o.cfg.password, "file-s3cret", "password: first line, CRLF stripped");
	options_free(&o);
	if (f)
		unlink(f);
	free(f);

	parse_args(&o, err, sizeof err, "--password-file", "/nonexistent/pw",
		   "mx.example.com", (char *)NULL);
	CHECK(options_password(&o, err, sizeof err) == -1 && has(err, "/nonexistent/pw") &&
	      !strchr(err, '\n'), "password: unreadable file is a one-line error");
	options_free(&o);
}

/*
 * options_parse() may be called more than once in a process (the tests do;
 * a settings form could).  A parse that fails in the middle of a group of
 * short options ("-z4") must not leak getopt state into the next parse.
 */
static void
test_options_reentry(void)
{
	struct options o;
	char err[256];

	int rc = parse_args(&o, err, sizeof err, "-z4", "mx.example.com", (char *)NULL);
	CHECK_INT(rc, -1, "options: \"-z4\" fails (unknown -z)");
	CHECK(has(err, "-z"), "options: \"-z4\": err names -z");
	if (!has(err, "-z"))
		printf("# err: \"%s\"\n", err);
	options_free(&o);

	rc = parse_args(&o, err, sizeof err, "-6", "mx.example.com", (char *)NULL);
	CHECK_INT(rc, 0, "options: a parse after a failed \"-z4\" starts afresh");
	CHECK_INT(o.cfg.family, FAM_V6, "options: -6 after a failed \"-z4\" is -6");
	options_free(&o);

	rc = parse_args(&o, err, sizeof err, "mx.example.com", (char *)NULL);
	CHECK(rc == 0 && o.cfg.family == FAM_ANY, "options: and the next parse too");
	options_free(&o);
}

static void
test_config_and_steps(void)
{
	struct config c;
	config_defaults(&c);
	CHECK_INT(config_port(&c), 587, "config: default port 587");
	CHECK_INT(config_tls(&c), TLSM_STARTTLS, "config: auto on 587 is starttls");
	CHECK(c.timeout == 15 && c.tls_min == 12 && c.mech == AM_AUTO,
	      "config: defaults timeout 15, tls_min 1.2, auth auto");
	c.port = 465;
	CHECK_INT(config_tls(&c), TLSM_IMPLICIT, "config: auto on 465 is implicit");
	c.port = 25;
	CHECK_INT(config_tls(&c), TLSM_STARTTLS, "config: auto on 25 is starttls");
	c.port = 2525;
	CHECK_INT(config_tls(&c), TLSM_STARTTLS, "config: auto on 2525 is starttls");
	c.port = 0;
	c.tls = TLSM_IMPLICIT;
	CHECK_INT(config_port(&c), 465, "config: --tls implicit defaults to 465");
	c.port = 587;
	CHECK_INT(config_tls(&c), TLSM_IMPLICIT, "config: explicit mode beats the port");
	CHECK_INT(config_port(&c), 587, "config: explicit port beats the mode");
	c.port = 0;
	c.tls = TLSM_NONE;
	CHECK_INT(config_port(&c), 587, "config: --tls none defaults to 587");
	CHECK_INT(config_role_port(&c), 587, "config: role port defaults to the port");
	c.role_port = 25;
	CHECK_INT(config_role_port(&c), 25, "config: role port when set");

	bool rt = true;
	for (int m = AM_AUTO; m <= AM_XOAUTH2; m++)
		rt = rt && auth_mech_from_name(auth_mech_name((enum auth_mech)m)) == m;
	CHECK(rt, "config: auth_mech_name/from_name round trip");
	CHECK_STR(auth_mech_name(AM_CRAM_MD5), "cram-md5", "config: auth_mech_name cram-md5");
	CHECK_INT(auth_mech_from_name("XOAUTH2"), AM_XOAUTH2, "config: auth mech names ignore case");
	CHECK_INT(auth_mech_from_name("ntlm"), -1, "config: unknown auth mech is -1");
	rt = true;
	for (int m = TLSM_AUTO; m <= TLSM_NONE; m++)
		rt = rt && tls_mode_from_name(tls_mode_name((enum tls_mode)m)) == m;
	CHECK(rt, "config: tls_mode_name/from_name round trip");
	CHECK_STR(tls_mode_name(TLSM_IMPLICIT), "implicit", "config: tls_mode_name implicit");
	CHECK_INT(tls_mode_from_name("ssl"), -1, "config: unknown tls mode is -1");

	/* copies are deep; free wipes */
	config_set(&c.host, "mx.example.com");
	config_set(&c.password, "s3cret");
	c.to[c.nto++] = xstrdup("a@example.org");
	struct config d;
	config_copy(&d, &c);
	CHECK(d.host != c.host && d.password != c.password && d.to[0] != c.to[0] &&
	      !strcmp(d.password, "s3cret") && d.nto == 1, "config: config_copy is deep");
	config_free(&c);
	CHECK(c.host == NULL && c.password == NULL && c.nto == 0, "config: config_free clears");
	config_set(&d.host, NULL);
	CHECK(d.host == NULL, "config: config_set NULL clears a field");
	config_free(&d);

	/* the contract's step names, in order */
	static const char *const names[] = {
		"resolve", "connect", "greeting", "ehlo", "starttls", "tls",
		"ehlo_tls", "auth", "mail", "rcpt", "data", "quit",
	};
	CHECK_INT(STEP_COUNT, ARRAY_SIZE(names), "steps: twelve steps");
	bool same = true;
	for (size_t i = 0; i < ARRAY_SIZE(names) && i < STEP_COUNT; i++)
		same = same && !strcmp(step_name((enum step)i), names[i]) &&
		       step_from_name(names[i]) == (int)i && *step_title((enum step)i);
	CHECK(same, "steps: names and order as in CONTRACT.md");
	CHECK_INT(step_from_name("helo"), -1, "steps: unknown name is -1");
	CHECK_STR(step_status_name(SS_SKIPPED), "skipped", "steps: status name skipped");
}

/* --proxy URLs taken apart (config_proxy_parse) */
static void
test_proxy_url(void)
{
	struct config c;
	char err[256];
	config_defaults(&c);
	CHECK(config_proxy_parse(&c, "socks5://127.0.0.1:1080", err, sizeof err) == 0 &&
	      c.proxy == PX_SOCKS5 && !strcmp(c.proxy_host, "127.0.0.1") &&
	      c.proxy_port == 1080 && !c.proxy_user && !c.proxy_pass,
	      "proxy: socks5://127.0.0.1:1080");
	CHECK(config_proxy_parse(&c, "SOCKS5H://u%40x:p%3Aw@[::1]:9050/", err,
				 sizeof err) == 0 && c.proxy == PX_SOCKS5H &&
	      !strcmp(c.proxy_host, "::1") && c.proxy_port == 9050 &&
	      !strcmp(c.proxy_user, "u@x") && !strcmp(c.proxy_pass, "p:w"),
	      "proxy: socks5h with %XX credentials and [v6]:port");
	CHECK(config_proxy_parse(&c, "http://proxy.corp:3128", err, sizeof err) == 0 &&
	      c.proxy == PX_HTTP && !c.proxy_user && !c.proxy_pass,
	      "proxy: http:// clears earlier credentials");
	const char *bad[] = { "socks4://h:1", "socks5://h", "socks5://h:0",
			      "socks5://h:70000", "socks5://:1080", "http://h:80/x",
			      "socks5://@h:1", "socks5://u%zz@h:1", "socks5://u%00@h:1",
			      "socks5://h h:1" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK(config_proxy_parse(&c, bad[i], err, sizeof err) < 0 &&
		      !strchr(err, '\n'), nm("proxy: '%s' refused in one line", bad[i]));
	config_free(&c);
}

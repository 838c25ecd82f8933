/*
 * unit_profile.c - included by unit.c: writing a [profile NAME] section
 * (profile_save) and reading it back (profile_load), the rest of the file
 * kept, no password ever written, symbolic links refused.
 */
#include <sys/stat.h>

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	struct buf b = { 0 };
	char chunk[1024];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	return b.data ? buf_steal(&b) : xstrdup("");
}

static void
spit(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void
test_profile_save(void)
{
	char dir[] = "/tmp/smtpdx-unit-profile.XXXXXX";
	if (!mkdtemp(dir)) {
		skip("profile_save", "no temporary directory");
		return;
	}
	char *path = xasprintf("%s/new/smtpdx/config", dir);
	char err[256] = "";

	struct config c;
	config_defaults(&c);
	config_set(&c.host, "mail.example.org");
	c.port = 465;
	c.tls = TLSM_IMPLICIT;
	config_set(&c.user, "alice@example.org");
	config_set(&c.password, "s3cret-pw");
	config_set(&c.password_command, "pass show mail/work");
	c.mech = AM_PLAIN;
	c.to[c.nto++] = xstrdup("bob@example.org");
	c.to[c.nto++] = xstrdup("carol@example.org");
	config_set(&c.headers, "X-Test: one\r\nX-Other: two; three\r\n");
	config_set(&c.notify, "SUCCESS,FAILURE");
	c.ret = DSN_RET_HDRS;
	config_set(&c.envid, "abc123");
	c.requiretls = true;
	c.bdat = true;
	c.proxy = PX_SOCKS5H;
	config_set(&c.proxy_host, "127.0.0.1");
	c.proxy_port = 1080;
	config_set(&c.proxy_user, "pu");
	config_set(&c.proxy_pass, "proxy-secret");

	CHECK_INT(profile_save(path, "work", &c, NULL, false, err, sizeof err), 0,
		  "profile_save: a new file in a new directory");
	struct stat st;
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600,
	      "profile_save: the file is 0600");
	char *d = xasprintf("%s/new/smtpdx", dir);
	CHECK(stat(d, &st) == 0 && (st.st_mode & 0777) == 0700,
	      "profile_save: its directory is 0700");
	free(d);
	char *text = slurp(path);
	CHECK(has(text, "[profile work]\n") && has(text, "tls = implicit\n") &&
	      has(text, "password-command = pass show mail/work\n") &&
	      has(text, "header = X-Other: two; three\n") &&
	      has(text, "proxy = socks5h://pu@127.0.0.1:1080\n") &&
	      has(text, "bdat = yes\n"), "profile_save: the keys written");
	CHECK(!has(text, "s3cret-pw") && !has(text, "proxy-secret") &&
	      !has(text, "password ="), "profile_save: never a password");
	free(text);

	/* read back through the command line's own parser */
	struct options po;
	int rc = profile_load(path, "work", &po, err, sizeof err);
	CHECK_INT(rc, 0, nm("profile_load reads it back (%s)", rc ? err : "ok"));
	if (rc == 0) {
		CHECK(po.cfg.host && !strcmp(po.cfg.host, "mail.example.org") &&
		      po.cfg.port == 465 && po.cfg.tls == TLSM_IMPLICIT &&
		      po.cfg.mech == AM_PLAIN && po.cfg.nto == 2 &&
		      po.cfg.requiretls && po.cfg.bdat &&
		      po.cfg.ret == DSN_RET_HDRS && po.cfg.proxy == PX_SOCKS5H &&
		      po.cfg.headers && !strcmp(po.cfg.headers, c.headers) &&
		      po.password_command &&
		      !strcmp(po.password_command, "pass show mail/work"),
		      "profile_load: the same settings");
		options_free(&po);
	}

	/* an existing profile: asked first, then replaced; the rest kept */
	const char *before =
		"# my smtpdx profiles\n"
		"[profile home]\n"
		"host = smtp.home.example  ; the router\n"
		"\n"
		"; work is below\n"
		"[profile work]\n"
		"# keep this note\n"
		"host = old.example.org\n"
		"port = 25\n"
		"\n"
		"# about the last one\n"
		"[profile last]\n"
		"host = last.example.org\n";
	spit(path, before);
	CHECK_INT(profile_save(path, "work", &c, NULL, false, err, sizeof err), 1,
		  "profile_save: an existing profile is not replaced unasked");
	text = slurp(path);
	CHECK_STR(text, before, "profile_save: ... and the file is untouched");
	free(text);
	CHECK_INT(profile_save(path, "work", &c, NULL, true, err, sizeof err), 0,
		  "profile_save: replaced when asked to");
	text = slurp(path);
	CHECK(text && !strncmp(text, "# my smtpdx profiles\n[profile home]\n"
			       "host = smtp.home.example  ; the router\n\n"
			       "; work is below\n[profile work]\n", 90) &&
	      has(text, "# keep this note\n") && !has(text, "old.example.org") &&
	      has(text, "# about the last one\n[profile last]\nhost = "
		  "last.example.org\n"), "profile_save: other sections and "
	      "comments kept");
	int count = 0;
	for (const char *p = text; p && (p = strstr(p, "[profile work]")); p++)
		count++;
	CHECK_INT(count, 1, "profile_save: one [profile work]");
	free(text);
	FILE *mem = fopen("/dev/null", "w");
	CHECK_INT(profile_list(path, mem), 3, "profile_list: home, work, last");
	CHECK_INT(profile_list(path, mem), 3, "profile_list: the same the "
		  "second time");
	fclose(mem);

	/* a symbolic link is never followed */
	char *target = xasprintf("%s/target", dir), *link = xasprintf("%s/link", dir);
	spit(target, "[profile x]\nhost = x.example\n");
	if (symlink(target, link) == 0) {
		CHECK_INT(profile_save(link, "work", &c, NULL, true, err, sizeof err),
			  -1, "profile_save: refuses a symbolic link");
		CHECK(has(err, "symbolic link"), "profile_save: ... and says so");
		text = slurp(target);
		CHECK_STR(text, "[profile x]\nhost = x.example\n",
			  "profile_save: ... the link's target untouched");
		free(text);
	}
	CHECK_INT(profile_save(path, "bad name", &c, NULL, true, err, sizeof err),
		  -1, "profile_save: a name with a space is refused");
	config_set(&c.envid, "x ;y");
	CHECK_INT(profile_save(path, "work", &c, NULL, true, err, sizeof err), -1,
		  "profile_save: a value inih would cut (' ;') is refused");

	/* against a base (the lab): only what differs */
	struct config base;
	config_copy(&base, &c);
	base.tls = TLSM_STARTTLS;
	struct profile_kv v[PROFILE_KEYS_MAX];
	int n = profile_keys(&c, &base, v);
	CHECK(n == 1 && !strcmp(v[0].key, "tls") && !strcmp(v[0].value, "implicit"),
	      "profile_keys: only what differs from the base");
	profile_kv_free(v, n);
	char **argv;
	int argc = profile_argv(&c, &base, "ok", &argv);
	CHECK(argc == 5 && !strcmp(argv[1], "--lab") && !strcmp(argv[3], "--tls"),
	      "profile_argv: smtpdx --lab ok --tls implicit");
	profile_argv_free(argc, argv);
	config_free(&base);

	config_free(&c);
	unlink(link);
	unlink(target);
	free(link);
	free(target);
	char *cmd = xasprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	free(cmd);
	free(path);
}

/* find-fix's result through the TUI's pipe: encoded, decoded whole */
static void
test_findfix_codec(void)
{
	struct findfix ff = { 0 };
	ff.best = 1;
	ff.n = 2;
	ff.v[0].ch.opt[0] = "--tls";
	snprintf(ff.v[0].ch.val[0], sizeof ff.v[0].ch.val[0], "implicit");
	ff.v[0].change = xstrdup("--tls implicit");
	ff.v[0].why = xstrdup("the port speaks\tthe other TLS mode");
	ff.v[0].outcome = xstrdup("tls.handshake_failed");
	ff.v[1].ch.opt[0] = "-p";
	snprintf(ff.v[1].ch.val[0], sizeof ff.v[1].ch.val[0], "465");
	ff.v[1].ch.opt[1] = "--tls";
	snprintf(ff.v[1].ch.val[1], sizeof ff.v[1].ch.val[1], "implicit");
	ff.v[1].change = xstrdup("-p 465 --tls implicit");
	ff.v[1].why = xstrdup("a port that works");
	ff.v[1].outcome = xstrdup("works");
	ff.v[1].works = true;
	ff.command = xstrdup("smtpdx mail.example.org -p 465 --tls implicit");
	struct buf b = { 0 };
	findfix_encode(&b, &ff, NULL);
	buf_addc(&b, '\0');
	struct findfix back;
	char **diffs;
	int nd;
	int rc = findfix_decode(b.data, &back, &diffs, &nd);
	CHECK_INT(rc, 0, "findfix_decode: a whole result");
	CHECK(back.n == 2 && back.best == 1 && back.v[1].works &&
	      !back.v[0].works && back.v[1].ch.opt[1] &&
	      !strcmp(back.v[1].ch.opt[1], "--tls") &&
	      !strcmp(back.v[1].ch.val[0], "465"),
	      "findfix_decode: the tries and the best");
	CHECK_STR(back.v[0].why, "the port speaks the other TLS mode",
		  "findfix_decode: a tab in a field is a space");
	CHECK_STR(back.command, ff.command, "findfix_decode: the command line");
	struct config c;
	config_defaults(&c);
	findfix_apply(&c, &back.v[back.best].ch);
	CHECK(c.port == 465 && c.tls == TLSM_IMPLICIT,
	      "findfix_apply: the change in the settings");
	config_free(&c);
	findfix_free(&back);
	/* cut short (the child died): not a result */
	b.data[b.len / 2] = '\0';
	CHECK_INT(findfix_decode(b.data, &back, &diffs, &nd), -1,
		  "findfix_decode: a cut result is refused");
	findfix_free(&back);
	buf_free(&b);
	findfix_free(&ff);
}

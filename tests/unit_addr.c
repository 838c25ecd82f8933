/* unit_addr.c - IDNA2008 domains and the SMTPUTF8 rules (src/addr.c). */

static void
test_addr(void)
{
	char err[300];
	char *a;

	/* U-labels to A-labels (UTS #46 mapping, non-transitional) */
	static const struct { const char *in, *want; } ok[] = {
		{ "bücher.example", "xn--bcher-kva.example" },
		{ "Bücher.EXAMPLE", "xn--bcher-kva.example" },
		{ "straße.de", "xn--strae-oqa.de" },	/* not strasse.de */
		{ "xn--bcher-kva.example", "xn--bcher-kva.example" },
		{ "mail.example.org", "mail.example.org" },
		{ "ab--cd.example", "ab--cd.example" },	/* plain ASCII: as is */
		{ "例え.テスト", "xn--r8jz45g.xn--zckzah" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		a = NULL;
		int rc = idna_to_ascii(ok[i].in, &a, err, sizeof err);
		CHECK_INT(rc, 0, nm("idna: %s is valid", ok[i].want));
		CHECK_STR(a, ok[i].want, nm("idna: -> %s", ok[i].want));
		free(a);
	}
	static const char *const bad[] = {
		"☃.net", "xn--n3h.net", "xn--zz.example", "ab--cd.bücher.example",
		"-bücher.example", "bücher\xff.example",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		a = (char *)"x";
		int rc = idna_to_ascii(bad[i], &a, err, sizeof err);
		char *v = vis_escape(bad[i], strlen(bad[i]));
		CHECK(rc < 0 && a == NULL && (strstr(err, "IDNA2008") ||
					      strstr(err, "UTF-8")),
		      nm("idna: '%s' refused, the reason given", v));
		free(v);
	}
	a = idna_to_unicode("xn--bcher-kva.example");
	CHECK_STR(a, "bücher.example", "idna: A-labels shown as U-labels");
	free(a);
	CHECK(idna_to_unicode("example.org") == NULL,
	      "idna: plain ASCII: no other form");
	a = idna_lookup_name("bücher.example");
	CHECK_STR(a, "xn--bcher-kva.example", "idna: looked up as A-labels");
	free(a);
	a = idna_lookup_name("192.0.2.1");
	CHECK_STR(a, "192.0.2.1", "idna: an address is looked up as it is");
	free(a);

	/* the wire rules */
	struct addr_forms f;
	CHECK_INT(addr_forms("user@bücher.example", &f, err, sizeof err), 0,
		  "addr: user@bücher.example is valid");
	CHECK(!f.utf8_local && f.idn, "addr: ASCII local part: no SMTPUTF8 needed");
	CHECK_STR(addr_wire(&f, false), "user@xn--bcher-kva.example",
		  "addr: without SMTPUTF8 it goes as A-labels");
	CHECK_STR(addr_wire(&f, true), "user@bücher.example",
		  "addr: with SMTPUTF8 as given");
	a = addr_display(&f, false);
	CHECK_STR(a, "user@bücher.example (user@xn--bcher-kva.example)",
		  "addr: shown with the A-labels beside");
	free(a);
	addr_forms_free(&f);

	CHECK_INT(addr_forms("jösé@bücher.example", &f, err, sizeof err), 0,
		  "addr: jösé@bücher.example is valid");
	CHECK(f.utf8_local, "addr: non-ASCII local part: SMTPUTF8 needed");
	CHECK_STR(addr_wire(&f, true), "jösé@bücher.example",
		  "addr: UTF-8 local part goes as given with SMTPUTF8");
	addr_forms_free(&f);

	CHECK_INT(addr_forms("user@xn--bcher-kva.example", &f, err, sizeof err), 0,
		  "addr: A-labels given");
	a = addr_display(&f, false);
	CHECK_STR(a, "user@xn--bcher-kva.example (user@bücher.example)",
		  "addr: A-labels given: the U-labels shown beside");
	free(a);
	addr_forms_free(&f);

	CHECK_INT(addr_forms("root@[192.0.2.1]", &f, err, sizeof err), 0,
		  "addr: an address literal is kept");
	CHECK_STR(addr_wire(&f, false), "root@[192.0.2.1]", "addr: literal as is");
	addr_forms_free(&f);

	CHECK(addr_forms("a@☃.net", &f, err, sizeof err) < 0 && f.given == NULL,
	      "addr: a@☃.net refused");
	CHECK(addr_forms("j\xc3@example.org", &f, err, sizeof err) < 0 &&
	      strstr(err, "local part"), "addr: bad UTF-8 in the local part refused");

	/* the option checks use the same rules: one line, exit 2 */
	CHECK_INT(setting_check("to", "jösé@bücher.example", err, sizeof err), 0,
		  "settings: --to jösé@bücher.example accepted");
	CHECK_INT(setting_check("host", "mail.bücher.example", err, sizeof err), 0,
		  "settings: host mail.bücher.example accepted");
	CHECK(setting_check("to", "a@☃.net", err, sizeof err) < 0 &&
	      !strchr(err, '\n') && strstr(err, "--to 'a@☃.net'") &&
	      strstr(err, "IDNA2008"), "settings: --to a@☃.net: one line naming it");
	CHECK(setting_check("host", "xn--zz.example", err, sizeof err) < 0 &&
	      strstr(err, "IDNA2008"), "settings: host xn--zz.example refused");

	/* the tree: SMTPUTF8 needed and not offered is its own diagnosis */
	struct facts fa;
	struct diag_list l = { 0 };
	facts_init(&fa);
	fa.failed_step = STEP_MAIL;
	fa.kind = FK_NOT_OFFERED;
	fa.smtputf8_missing = true;
	fa.evidence = "the EHLO reply lists no SMTPUTF8";
	diag_decide(&fa, &l);
	CHECK_STR(diag_id_of(&l, 0), "mail.smtputf8_not_offered",
		  "diag: SMTPUTF8 needed, not offered -> mail.smtputf8_not_offered");
	CHECK(l.n && !leftover_placeholder(&l.v[0]),
	      "diag: mail.smtputf8_not_offered: placeholders filled");
	diag_list_free(&l);
	fa.smtputf8_missing = false;
	diag_decide(&fa, &l);
	CHECK_STR(diag_id_of(&l, 0), "mail.requiretls_not_offered",
		  "diag: the other extension at MAIL stays REQUIRETLS");
	diag_list_free(&l);

	/* RFC 6533 §3: ORCPT=utf-8;... for an internationalised address */
	a = utf8_addr_encode("jösé@bücher.test", true);
	CHECK_STR(a, "jösé@bücher.test", "orcpt: unitext keeps UTF-8 as it is");
	free(a);
	a = utf8_addr_encode("jösé@bücher.test", false);
	CHECK_STR(a, "j\\x{F6}s\\x{E9}@b\\x{FC}cher.test",
		  "orcpt: utf-8-addr-xtext, 7-bit: \\x{HEX} per character");
	free(a);
	a = utf8_addr_encode("a+b=c\\d e@例え.テスト", true);
	CHECK_STR(a, "a\\x{2B}b\\x{3D}c\\x{5C}d\\x{20}e@例え.テスト",
		  "orcpt: '+', '=', '\\' and space escaped, even in unitext");
	free(a);
	a = utf8_addr_encode("😀@x.test", false);
	CHECK_STR(a, "\\x{1F600}@x.test", "orcpt: a 4-byte character, one escape");
	free(a);
	a = utf8_addr_encode("a\xff\r\n@x.test", true);
	CHECK_STR(a, "a\\x{FF}\\x{0D}\\x{0A}@x.test",
		  "orcpt: a stray byte and CR LF escaped, never raw");
	free(a);
}

/*
 * unit_settings.c - included by unit.c: the settings table (src/settings.h)
 * and the command line that checks with it.
 */

struct scase {
	const char *name, *value;
	bool ok;
};

static void
test_settings(void)
{
	static const struct scase c[] = {
		{ "host", "mail.example.org", true },
		{ "host", "192.0.2.25", true },
		{ "host", "2001:db8::25", true },
		{ "host", "mail.example.org.", true },
		{ "host", "bad host!", false },
		{ "host", "host:25:25", false },
		{ "host", "", false },
		{ "host", "-mx.example.org", false },
		{ "host", "a..b", false },
		{ "port", "587", true },
		{ "port", "0", false },
		{ "port", "65536", false },
		{ "port", "25x", false },
		{ "to", "bob@example.org", true },
		{ "to", "bob", false },
		{ "to", "<bob@example.org>", false },
		{ "to", "bob@", false },
		{ "to", "@example.org", false },
		{ "to", "bob@exa mple.org", false },
		{ "to", "bob@[192.0.2.1]", true },
		{ "from", "alice@example.org", true },
		{ "from", "alice", false },
		{ "helo", "client.example.org", true },
		{ "helo", "localhost", true },
		{ "helo", "[192.0.2.1]", true },
		{ "helo", "[IPv6:2001:db8::1]", true },
		{ "helo", "two words", false },
		{ "helo", "bad!name", false },
		{ "helo", "[not-an-ip]", false },
		{ "cafile", "/etc/passwd", true },
		{ "cafile", "/nonexistent/ca.pem", false },
		{ "cafile", "/etc", false },
		{ "timeout", "15", true },
		{ "timeout", "0", false },
		{ "timeout", "abc", false },
		{ "user", "alice", true },
	};
	char err[256];
	for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
		err[0] = '\0';
		int rc = setting_check(c[i].name, c[i].value, err, sizeof err);
		CHECK_INT(rc, c[i].ok ? 0 : -1, nm("settings: %s '%s' %s", c[i].name,
						   c[i].value, c[i].ok ? "accepted" : "refused"));
		if (!c[i].ok)
			CHECK(*err && !strchr(err, '\n') && strstr(err, c[i].name),
			      nm("settings: %s '%s': one line that names it", c[i].name,
				 c[i].value));
	}
	/* every setting in the table has words, and is found by name */
	size_t n = 0;
	for (const struct setting *s = settings; s->name; s++, n++)
		CHECK(s->help && *s->help && setting_find(s->name) == s,
		      nm("settings: '%s' has help and is found", s->name));
	CHECK(n >= 8, "settings: the table has the client's settings");
	CHECK(setting_find("no-such") == NULL, "settings: unknown name: NULL");

	/* the command line refuses what the table refuses */
	expect_fail("--cafile", "/nonexistent", "mx.example.com", (char *)NULL);
	expect_fail("--to", "bob", "mx.example.com", (char *)NULL);
	expect_fail("bad host!", (char *)NULL);
	expect_fail("host:25:25", (char *)NULL);
	expect_fail("--from", "alice", "mx.example.com", (char *)NULL);
	expect_fail("--helo", "bad!name", "mx.example.com", (char *)NULL);
}

/*
 * workshop.c - the lab's lessons: level, goal, where the fix lies, the
 * fix and its hints, one entry per scenario of scenarios.c (by name).
 *
 * A goal says what to find out or what to reach, never the diagnosis:
 * the TUI's header shows it.  Hints go from where to look to what to
 * change; only the last one names the setting.  A client-side fix is
 * made of the settings form's fields (struct lab_fix), so that a student
 * can reach it with `e`; tests/workshop.py applies every one as options
 * against the lab and expects a passing session.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util.h"
#include "workshop.h"

#define SERVER(n, lv, g, f) \
	{ .name = (n), .level = (lv), .goal = (g), .fix = (f) }

static const struct lab_lesson lessons[] = {
	/* healthy */
	SERVER("ok", 1, "Walk a healthy session: what does each reply mean?",
	       "Nothing to fix: every step works"),
	SERVER("ok-oauth", 2, "Log in with an OAuth bearer token, then send",
	       "Nothing to fix: every step works"),
	SERVER("ok-implicit", 1, "Compare with port 587: when does TLS start here?",
	       "Nothing to fix: every step works"),
	SERVER("ok-relay", 1, "Hand mail to a server the way one MX hands it to another",
	       "Nothing to fix: every step works"),
	SERVER("ok-smtputf8", 2, "Mail jösé@bücher.lab: which form goes on the wire?",
	       "Nothing to fix: every step works"),

	/* resolve and connect */
	{ .name = "dns.not_found", .level = 1, .client = true,
	  .goal = "The session never reaches a server: find out why",
	  .fix = "Name a host that exists: the lab is 127.0.0.1",
	  .set = { .host = "127.0.0.1" },
	  .hints = { "Which step fails first? Nothing was sent yet.",
		     "Read the host name in the header letter by letter.",
		     "Set Host (e) to 127.0.0.1, where the lab listens." } },
	{ .name = "dns.no_address", .level = 2, .client = true,
	  .goal = "The name resolves, yet there is nothing to connect to",
	  .fix = "Start again without -6: the server has IPv4 only",
	  .hints = { "Which kinds of address does the server have?",
		     "The client asked for one family of addresses only.",
		     "Run it without -6 (the form has no family field)." } },
	SERVER("connect.refused", 1, "The server does not answer the door: why?",
	       "On the server: start the mail server, or open the port"),
	SERVER("connect.timeout", 2, "Connecting takes forever: who drops what?",
	       "On the server or the path: a firewall drops SYNs, or the "
	       "listen queue is full"),
	/* the lab's mail host: the fix is another port (the form's Port
	 * and TLS mode; `w` finds it, -p follows it); the lab maps the port
	 * number onto the listener that plays it (config.portmap) */
	{ .name = "ports.587-blocked", .level = 1, .client = true,
	  .goal = "Port 587 never answers: which port works from here?",
	  .fix = "Port 465, TLS mode implicit: 587 is dropped on the path, "
		 "465 gets through (w finds it)",
	  .set = { .port = "465", .tls = "implicit" },
	  .hints = { "Did the server say no, or say nothing at all?",
		     "Something on the path drops 587; a mail server has more "
		     "than one submission port (w tries them).",
		     "Set Port (e) to 465 and TLS mode to implicit." } },
	{ .name = "ports.25-blocked", .level = 1, .client = true,
	  .goal = "Port 25 never answers: is it the port to use anyway?",
	  .fix = "Port 587: 25 is dropped, as most clouds do; a mail client "
		 "submits on 587 (or 465)",
	  .set = { .port = "587" },
	  .hints = { "Did the server say no, or say nothing at all?",
		     "Port 25 is for servers handing mail to servers; clouds "
		     "drop it.",
		     "Set Port (e) to 587, the submission port." } },
	{ .name = "ports.only-2525", .level = 2, .client = true,
	  .goal = "Nothing answers on the usual ports: is there a way out?",
	  .fix = "Port 2525, TLS mode starttls: 25, 465 and 587 are dropped; "
		 "the provider's fallback port gets through",
	  .set = { .port = "2525", .tls = "starttls" },
	  .hints = { "Try the other usual ports (w): which one answers?",
		     "Some providers (Linode, SendGrid) listen on 2525 too.",
		     "Set Port (e) to 2525 and TLS mode to starttls." } },

	/* greeting */
	SERVER("greeting.timeout", 2, "Connected, yet nothing happens: why?",
	       "On the server: its greeting never comes (overloaded, or not "
	       "a mail server)"),
	SERVER("greeting.not_smtp", 1, "Something answers, but is it a mail server?",
	       "On the server: a web server took the mail port"),
	SERVER("greeting.rejected", 2, "The server refuses before the first command",
	       "On the server: its access policy refuses this address"),
	SERVER("greeting.busy", 2, "The server hangs up at once: for how long?",
	       "On the server: it is busy; try again later"),
	SERVER("session.rate_limited", 2, "Hung up at once, with a reason: which?",
	       "On the server: too many connections from one address; wait, "
	       "or raise its limit"),

	/* TLS mode */
	{ .name = "tls.expected_implicit", .level = 1, .client = true,
	  .goal = "Get a test mail through this port",
	  .fix = "TLS mode implicit: the port speaks TLS from the first byte",
	  .set = { .tls = "implicit" },
	  .hints = { "The server said nothing at all. Does it wait for you?",
		     "Port 465 style servers start TLS before any SMTP.",
		     "Set TLS mode (e) to implicit." } },
	{ .name = "tls.expected_starttls", .level = 1, .client = true,
	  .goal = "Get a test mail through this port",
	  .fix = "TLS mode starttls: the port speaks plain SMTP first",
	  .set = { .tls = "starttls" },
	  .hints = { "What did the server send back to the TLS hello?",
		     "It greets in plain text: TLS comes after EHLO here.",
		     "Set TLS mode (e) to starttls." } },

	/* EHLO and STARTTLS */
	SERVER("ehlo.rejected", 2, "Not even EHLO works: what does the server want?",
	       "On the server: its HELO restrictions refuse this client"),
	SERVER("starttls.not_offered", 2, "Get a private channel to this server",
	       "On the server: turn TLS on (Postfix: smtpd_tls_security_level)"),
	SERVER("starttls.refused", 2, "TLS is offered, then refused: why?",
	       "On the server: its certificate or key cannot be loaded"),
	SERVER("starttls.injection", 3, "Look closely at the bytes after STARTTLS",
	       "On the server or the path: something injects plaintext; fix "
	       "the server, or find the man in the middle"),

	/* TLS */
	SERVER("tls.handshake_failed", 2, "The upgrade to TLS dies: where?",
	       "On the server: its TLS layer drops the connection"),
	SERVER("tls.version_mismatch", 2, "Client and server cannot agree on TLS: why?",
	       "On the server: enable TLS 1.2 or later"),
	SERVER("tls.cert_untrusted", 2, "Can this server prove who it is?",
	       "On the server: a certificate from a public CA"),
	{ .name = "tls.cert_hostname_mismatch", .level = 2, .client = true,
	  .goal = "Can this server prove who it is?",
	  .fix = "TLS name " LAB_OTHERNAME ": the name the certificate is for "
		 "(or a certificate for the name on the server)",
	  .set = { .servername = LAB_OTHERNAME },
	  .hints = { "Open the certificate (t): whom is it for?",
		     "The client checks the name it was given, not the IP.",
		     "Set TLS name (e) to " LAB_OTHERNAME "." } },
	SERVER("tls.cert_expired", 1, "Can this server prove who it is, today?",
	       "On the server: renew the certificate"),
	SERVER("tls.cert_not_yet_valid", 2, "Can this server prove who it is, today?",
	       "On the server: a certificate valid now (or fix its clock)"),
	SERVER("tls.cert_wrong_purpose", 3, "The certificate looks right: is it?",
	       "On the server: a certificate made for TLS servers"),
	SERVER("tls.chain_incomplete", 3, "Who signed this certificate?",
	       "On the server: send the intermediate certificate too"),
	SERVER("tls-weak-sha1", 3, "Why is this certificate refused?",
	       "On the server: a certificate signed with SHA-256"),
	SERVER("tls.client_cert_required", 3, "TLS stops half-way: what is missing?",
	       "From the server's admin: a client certificate (--cert, --key)"),
	SERVER("tls-client-cert-12", 3, "TLS stops half-way: what is missing?",
	       "From the server's admin: a client certificate (--cert, --key)"),
	SERVER("tls-client-cert-implicit", 3, "TLS stops half-way: what is missing?",
	       "From the server's admin: a client certificate (--cert, --key)"),
	SERVER("tls.server_error", 3, "The handshake gets an alert: whose fault?",
	       "On the server: its TLS setup is broken (key, certificate)"),

	/* AUTH */
	SERVER("auth.not_offered", 2, "Log in to this server",
	       "On the server: enable SMTP AUTH (or use its submission port)"),
	{ .name = "auth.requires_tls", .level = 1, .client = true,
	  .goal = "Log in and send a test mail",
	  .fix = "TLS mode starttls: AUTH is offered inside TLS only",
	  .set = { .tls = "starttls" },
	  .hints = { "Compare what EHLO offers with what you need.",
		     "Servers hide AUTH until the channel is private.",
		     "Set TLS mode (e) to starttls." } },
	{ .name = "auth.plaintext_refused", .level = 1, .client = true,
	  .goal = "Log in and send a test mail, safely",
	  .fix = "TLS mode starttls: never a password without TLS",
	  .set = { .tls = "starttls" },
	  .hints = { "AUTH was offered: why was no password sent?",
		     "Who would read a password sent now?",
		     "Set TLS mode (e) to starttls." } },
	{ .name = "auth.mech_unsupported", .level = 2, .client = true,
	  .goal = "Log in and send a test mail",
	  .fix = "Mechanism auto (or plain): one the server offers",
	  .set = { .mech = "auto" },
	  .hints = { "Read the AUTH line of the second EHLO reply.",
		     "The client insists on a mechanism of its own.",
		     "Set Mechanism (e) to auto." } },
	{ .name = "auth.oauth_token_rejected", .level = 2, .client = true,
	  .goal = "Log in with an OAuth token and send a test mail",
	  .fix = "A fresh token: in the lab, the Password field holds it "
		 "(" LAB_PASSWORD ")",
	  .set = { .password = LAB_PASSWORD },
	  .hints = { "Explain (Enter) the server's 334 line: what does it say?",
		     "Tokens expire within the hour.",
		     "Set Password (e) to the lab's token, " LAB_PASSWORD "." } },
	SERVER("auth-xoauth2-expired", 2, "Log in with an OAuth token and send",
	       "At the provider: a fresh token (the lab refuses every one here)"),
	{ .name = "auth.failed", .level = 1, .client = true,
	  .goal = "Log in and send a test mail",
	  .fix = "The right password: " LAB_PASSWORD,
	  .set = { .password = LAB_PASSWORD },
	  .hints = { "Which step fails, and what is its reply code?",
		     "5.7.8: the server checked the login and said no.",
		     "Set Password (e) to the lab's, shown in the header." } },
	{ .name = "auth-user-form", .level = 2, .client = true,
	  .goal = "Log in with the right password and send a test mail",
	  .fix = "User " LAB_FROM ": this server wants the full address as "
		 "the login",
	  .set = { .user = LAB_FROM },
	  .hints = { "The password is right. What else does the login hold?",
		     "Microsoft 365 and others log in with the whole address.",
		     "Set User (e) to " LAB_FROM "." } },
	SERVER("auth.app_password_required", 2, "Log in to a Gmail-like server",
	       "At the provider: make an app password, use it instead"),
	SERVER("auth.disabled_for_account", 2, "Log in to a Microsoft 365-like server",
	       "At the provider: the tenant admin enables SMTP AUTH"),
	SERVER("auth.temporary", 2, "The login fails, but for how long?",
	       "On the server: its password backend is down; try later"),

	/* MAIL */
	{ .name = "mail.auth_required", .level = 1, .client = true,
	  .goal = "Send a test mail through this server",
	  .fix = "User " LAB_USER " (and its password): this server wants a login",
	  .set = { .user = LAB_USER, .password = LAB_PASSWORD },
	  .hints = { "Which command was refused, and with which code?",
		     "530 at MAIL: the server does not know who you are.",
		     "Set User (e) to " LAB_USER ", Password to the lab's." } },
	SERVER("mail.sender_rejected", 2, "The server refuses the sender: why?",
	       "On the server: its sender restrictions refuse this address"),
	SERVER("mail.size_exceeded", 2, "Send a test mail: how big may it be?",
	       "On the server: raise its size limit (or send less)"),
	SERVER("mail.temporary", 2, "MAIL fails, but for how long?",
	       "On the server: its lookup tables fail; try later"),
	SERVER("mail.requiretls_not_offered", 3, "Send a mail that must stay in TLS",
	       "On the server: offer REQUIRETLS (RFC 8689)"),
	SERVER("mail.smtputf8_not_offered", 2, "Write to jösé@...: why does no mail go?",
	       "On the server: offer SMTPUTF8 (RFC 6531); or use an ASCII address"),
	SERVER("mail.dsn_not_offered", 3, "Ask for a delivery report: do you get one?",
	       "On the server: offer DSN (RFC 3461)"),

	/* RCPT */
	SERVER("rcpt.temporary", 2, "The recipient is put off: until when?",
	       "On the server: address verification is still running; try later"),
	{ .name = "rcpt.domain_no_mail", .level = 2, .client = true,
	  .goal = "Send a test mail to a colleague",
	  .fix = "A recipient whose domain takes mail: " LAB_TO,
	  .set = { .to = LAB_TO },
	  .hints = { "Read RCPT's reply: who refuses, the server or the domain?",
		     "5.1.10: that domain says it takes no mail at all.",
		     "Set To (e) to " LAB_TO "." } },
	{ .name = "rcpt.domain_not_found", .level = 2, .client = true,
	  .goal = "Send a test mail to a colleague",
	  .fix = "A recipient in a domain that exists: " LAB_TO,
	  .set = { .to = LAB_TO },
	  .hints = { "Read RCPT's reply code: 4.1.2 is about which part?",
		     "Look at the recipient's domain.",
		     "Set To (e) to " LAB_TO "." } },
	SERVER("rcpt.mailbox_full", 1, "The recipient is put off: why?",
	       "At the recipient: empty the mailbox, or wait"),
	{ .name = "relay-no-reason", .level = 3, .client = true,
	  .goal = "Send a test mail to another domain",
	  .fix = "User " LAB_USER " (and its password): relaying needs a login",
	  .set = { .user = LAB_USER, .password = LAB_PASSWORD },
	  .hints = { "The reply gives no reason: whose domain is the recipient's?",
		     "Who may send mail to other domains through a server?",
		     "Set User (e) to " LAB_USER ", Password to the lab's." } },
	{ .name = "own-no-reason", .level = 3, .client = true,
	  .goal = "Send a test mail to a colleague",
	  .fix = "A recipient that exists: " LAB_TO,
	  .set = { .to = LAB_TO },
	  .hints = { "The reply gives no reason: whose domain is the recipient's?",
		     "The server is the final stop for that domain.",
		     "Set To (e) to " LAB_TO "." } },
	SERVER("rcpt.relay_denied", 2, "Send a test mail to another domain",
	       "On the server: let logged-in users relay (Postfix: "
	       "permit_sasl_authenticated)"),
	{ .name = "rcpt.unknown_user", .level = 1, .client = true,
	  .goal = "Send a test mail to a colleague",
	  .fix = "A recipient that exists: " LAB_TO,
	  .set = { .to = LAB_TO },
	  .hints = { "Which command was refused, and with which code?",
		     "5.1.1: the address, not the server, is the problem.",
		     "Set To (e) to " LAB_TO "." } },
	SERVER("rcpt.greylisted", 1, "The recipient is put off: until when?",
	       "Nothing to change: greylisting; the retry minutes later works"),
	SERVER("rcpt.rejected", 2, "The recipient is refused: by whom, why?",
	       "On the server: its recipient restrictions refuse this address"),

	/* DATA */
	SERVER("data.rejected", 2, "The message is refused after it was sent: why?",
	       "On the server: its content filter refuses the message"),
	SERVER("data.temporary", 2, "The message fails after it was sent: for how long?",
	       "On the server: its disk or queue fails; try later"),
	SERVER("data.size_exceeded", 2, "The message is refused after it was sent",
	       "On the server: raise its size limit (or send less)"),

	/* the session */
	SERVER("session.closed", 2, "The server vanishes mid-way: when, why?",
	       "On the server: it crashes or drops connections; read its log"),
	SERVER("session.timeout", 2, "The session stalls: at which step?",
	       "On the server: it hangs after EHLO; read its log"),
	SERVER("proto.malformed_reply", 3, "Read what the server really says",
	       "On the server: it does not speak SMTP correctly"),
	SERVER("proto.sync_error", 3, "Does every reply answer its command?",
	       "On the server or the path: replies come that nobody asked for"),
	SERVER("proto.line_too_long", 3, "How long may a reply line be?",
	       "On the server: it sends a line without end"),

	/* warnings */
	SERVER("tls.weak_version", 2, "It works: is it good enough?",
	       "On the server: enable TLS 1.2 or later"),
	SERVER("tls.weak_key", 2, "It works: is the certificate strong enough?",
	       "On the server: a 2048-bit (or EC) key"),
	SERVER("auth.offered_in_plaintext", 2, "It works: what was offered too early?",
	       "On the server: offer AUTH only after STARTTLS"),
	{ .name = "port25.submission", .level = 1, .client = true,
	  .goal = "It works: is it the right port for a mail client?",
	  .fix = "Submit on port 587 (or 465): port 25 is for servers",
	  .hints = { "Which port does the session reason about?",
		     "Port 25 is for server-to-server relay.",
		     "Use port 587 in real life (the lab plays port 25)." } },

	/* more of the wild */
	SERVER("auth.web_login_required", 2, "Log in to a Gmail-like server",
	       "At the provider: sign in with a web browser once"),
	SERVER("auth.basic_disabled", 2, "Log in to a Microsoft 365-like server",
	       "At the provider: OAuth instead of a password"),
	SERVER("auth.server_error", 3, "The login fails: is it the password?",
	       "On the server: its SASL backend is broken; read its log"),
	SERVER("auth.exchange_broken", 3, "The login never ends: whose fault?",
	       "On the server: its SASL exchange is broken"),
	SERVER("auth.server_unverified", 3, "Does the server know your password?",
	       "On the server: it cannot prove the password (SCRAM); an impostor?"),
	{ .name = "mail.tls_required", .level = 1, .client = true,
	  .goal = "Send a test mail through this server",
	  .fix = "TLS mode starttls: this server takes mail inside TLS only",
	  .set = { .tls = "starttls" },
	  .hints = { "Which command was refused, and what does it ask for?",
		     "The session never left plain text.",
		     "Set TLS mode (e) to starttls." } },
	{ .name = "rcpt.sender_not_owned", .level = 2, .client = true,
	  .goal = "Send a test mail as yourself",
	  .fix = "From " LAB_FROM ": a login sends as its own address",
	  .set = { .from = LAB_FROM },
	  .hints = { "RCPT is refused: read its words, they are about MAIL.",
		     "Whose address is in MAIL FROM, and who logged in?",
		     "Set From (e) to " LAB_FROM "." } },
	SERVER("rcpt.helo_rejected", 2, "RCPT is refused: for the recipient?",
	       "On the client's host in real life: a fully qualified EHLO "
	       "name; the lab's rule refuses every name"),
	SERVER("rcpt.blocklisted", 2, "RCPT is refused: for the recipient?",
	       "From the sender's side: get the address off the blocklist"),
	SERVER("data.send_as_denied", 2, "The message is refused at its end: why?",
	       "At the provider: grant Send As for this sender"),
	SERVER("ehlo.helo_fallback", 2, "It works: what kind of server is this?",
	       "On the server: speak ESMTP (EHLO)"),
	SERVER("proto.reply_too_long", 3, "How long may a reply be?",
	       "On the server: it sends a reply without end"),
	SERVER("starttls.unexpected_data", 3, "Look closely at the bytes after STARTTLS",
	       "On the server or the path: bytes ride along with the 220"),

	/* hostile servers: the client must hold */
	SERVER("hostile-escapes", 3, "The replies hold escapes: does the screen hold?",
	       "Nothing to fix in the client: it shows them safely"),
	SERVER("hostile-trickle", 3, "The greeting comes a byte a second: then what?",
	       "On the server: it is too slow (or under attack)"),
	SERVER("hostile-drop", 3, "The server hangs up mid-reply: what is shown?",
	       "On the server: it crashes mid-reply"),
	SERVER("hostile-escapes-all", 3, "Escapes in every reply: does it all work?",
	       "Nothing to fix in the client: it shows them safely"),
	SERVER("hostile-trickle-mid", 3, "Inside TLS, a reply crawls: then what?",
	       "On the server: it is too slow"),
	SERVER("hostile-endless-line", 3, "A greeting without end: then what?",
	       "On the server: it sends a line without end"),
	SERVER("hostile-endless-reply", 3, "A reply without end: then what?",
	       "On the server: it sends a reply without end"),
	SERVER("hostile-4xx-flood", 3, "Replies nobody asked for: then what?",
	       "On the server: it floods the client"),
	SERVER("hostile-drop-tls", 3, "A hang-up inside TLS: then what?",
	       "On the server: it crashes inside TLS"),
	SERVER("hostile-renegotiate", 3, "TLS renegotiation without end: then what?",
	       "On the server: it renegotiates forever"),
	SERVER("hostile-empty-records", 3, "Empty TLS records without end: then what?",
	       "On the server: it sends empty records forever"),
};

const struct lab_lesson *
lab_lesson(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(lessons); i++)
		if (!strcmp(lessons[i].name, name))
			return &lessons[i];
	return NULL;
}

const char *
lab_level_name(int level)
{
	return level <= 1 ? "beginner" : level == 2 ? "practised" : "expert";
}

int
lab_hint_count(const struct lab_lesson *l)
{
	int n = 0;
	while (n < LAB_MAX_HINTS && l->hints[n])
		n++;
	return n;
}

static bool
fix_empty(const struct lab_fix *f)
{
	return !f->host && !f->port && !f->tls && !f->servername && !f->user &&
	       !f->password && !f->mech && !f->from && !f->to;
}

bool
lab_fixable(const struct lab_scenario *sc)
{
	const struct lab_lesson *l = lab_lesson(sc->name);
	return l && l->client && sc->expect_exit == 1 && !fix_empty(&l->set);
}

/* A small deterministic mixer (the seed may be a time or a test's). */
static unsigned
mix(unsigned x)
{
	x ^= x >> 16;
	x *= 0x7feb352dU;
	x ^= x >> 15;
	x *= 0x846ca68bU;
	x ^= x >> 16;
	return x;
}

/* Mystery scenarios: an error is diagnosed, and the stage is not the
 * hostile one (whose ids repeat the others'). */
static bool
mystery_ok(const struct lab_scenario *sc)
{
	return sc->expect && sc->expect_exit == 1 &&
	       strcmp(lab_stage(sc), "hostile") != 0;
}

static const struct lab_scenario *
pick(unsigned seed, bool (*ok)(const struct lab_scenario *))
{
	size_t n, k = 0;
	const struct lab_scenario *v = lab_scenarios(&n);
	for (size_t i = 0; i < n; i++)
		k += ok(&v[i]);
	if (!k)
		return NULL;
	size_t want = mix(seed) % k;
	for (size_t i = 0; i < n; i++)
		if (ok(&v[i]) && want-- == 0)
			return &v[i];
	return NULL;
}

const struct lab_scenario *
lab_mystery_pick(unsigned seed)
{
	return pick(seed, mystery_ok);
}

const struct lab_scenario *
lab_fixit_pick(unsigned seed)
{
	return pick(seed, lab_fixable);
}

static bool
has(const char **out, size_t k, const char *id)
{
	for (size_t i = 0; i < k; i++)
		if (!strcmp(out[i], id))
			return true;
	return false;
}

size_t
lab_mystery_choices(const struct lab_scenario *sc, unsigned seed,
		    const char **out, size_t max)
{
	const struct lab_scenario *v[256];
	size_t n = lab_ordered(v, ARRAY_SIZE(v)), k = 0, at = 0;
	if (!max || !sc->expect)
		return 0;
	out[k++] = sc->expect;
	for (size_t i = 0; i < n; i++)
		if (v[i] == sc)
			at = i;
	/* the same stage first, then outwards in session order */
	const char *stage = lab_stage(sc);
	for (size_t i = 0; i < n && k < max; i++)
		if (mystery_ok(v[i]) && !strcmp(lab_stage(v[i]), stage) &&
		    !has(out, k, v[i]->expect))
			out[k++] = v[i]->expect;
	for (size_t d = 1; d < n && k < max; d++) {
		if (at + d < n && mystery_ok(v[at + d]) &&
		    !has(out, k, v[at + d]->expect))
			out[k++] = v[at + d]->expect;
		if (k < max && at >= d && mystery_ok(v[at - d]) &&
		    !has(out, k, v[at - d]->expect))
			out[k++] = v[at - d]->expect;
	}
	/* shuffle (Fisher-Yates on the seed) */
	unsigned r = mix(seed ^ 0x9e3779b9U);
	for (size_t i = k - 1; i > 0; i--) {
		r = mix(r + (unsigned)i);
		size_t j = r % (i + 1);
		const char *tmp = out[i];
		out[i] = out[j];
		out[j] = tmp;
	}
	return k;
}

/* ---- progress ------------------------------------------------------------ */

char *
lab_progress_path(void)
{
	const char *x = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	if (x && *x == '/')
		return xasprintf("%s/smtpdx/workshop", x);
	if (home && *home)
		return xasprintf("%s/.local/state/smtpdx/workshop", home);
	return NULL;
}

void
lab_progress_load(struct lab_progress *p)
{
	memset(p, 0, sizeof *p);
	char *path = lab_progress_path();
	FILE *f = path ? fopen(path, "re") : NULL;
	free(path);
	if (!f)
		return;
	char line[256];
	size_t used = 0;
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\r\n")] = '\0';
		char name[128];
		if (sscanf(line, "mystery %d %d", &p->mystery_played,
			   &p->mystery_right) == 2)
			continue;
		if (sscanf(line, "fixed %d", &p->fixed) == 1)
			continue;
		if (sscanf(line, "done %127s", name) == 1 &&
		    used + strlen(name) + 2 < sizeof p->done) {
			used += (size_t)snprintf(p->done + used, sizeof p->done - used,
						 "%s\n", name);
		}
	}
	fclose(f);
}

bool
lab_progress_done(const struct lab_progress *p, const char *name)
{
	size_t n = strlen(name);
	for (const char *s = p->done; *s; ) {
		const char *nl = strchr(s, '\n');
		size_t k = nl ? (size_t)(nl - s) : strlen(s);
		if (k == n && !strncmp(s, name, n))
			return true;
		if (!nl)
			break;
		s = nl + 1;
	}
	return false;
}

void
lab_progress_mark(struct lab_progress *p, const char *name)
{
	size_t used = strlen(p->done);
	if (!lab_progress_done(p, name) && used + strlen(name) + 2 < sizeof p->done)
		snprintf(p->done + used, sizeof p->done - used, "%s\n", name);
}

/* mkdir -p for the directories above path, private (0700). */
static int
make_dirs(char *path)
{
	for (char *s = path + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		int rc = mkdir(path, 0700);
		*s = '/';
		if (rc < 0 && errno != EEXIST)
			return -1;
	}
	return 0;
}

int
lab_progress_save(const struct lab_progress *p, char *err, size_t errlen)
{
	char *path = lab_progress_path();
	if (!path) {
		snprintf(err, errlen, "no HOME: progress not kept");
		return -1;
	}
	char *tmp = xasprintf("%s.XXXXXX", path);
	int fd = -1;
	FILE *f = NULL;
	if (make_dirs(path) < 0 || (fd = mkstemp(tmp)) < 0 ||
	    fchmod(fd, 0600) < 0 || !(f = fdopen(fd, "w"))) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		free(tmp);
		free(path);
		return -1;
	}
	fprintf(f, "# smtpdx workshop progress\nmystery %d %d\nfixed %d\n",
		p->mystery_played, p->mystery_right, p->fixed);
	for (const char *s = p->done; *s; ) {
		const char *nl = strchr(s, '\n');
		size_t k = nl ? (size_t)(nl - s) : strlen(s);
		fprintf(f, "done %.*s\n", (int)k, s);
		if (!nl)
			break;
		s = nl + 1;
	}
	bool ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
	ok = fclose(f) == 0 && ok;
	if (!ok || rename(tmp, path) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		free(tmp);
		free(path);
		return -1;
	}
	free(tmp);
	free(path);
	return 0;
}

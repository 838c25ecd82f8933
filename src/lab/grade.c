/*
 * grade.c - the report card: the facts of one connection (grade.h) turned
 * into marks, written as text and as one JSON line.
 *
 * The rules are a table of functions, one per mark, each deciding from
 * the facts alone: pass, fail, warn, or not tested by this scenario (and
 * which scenario tests it).  A mark never guesses: "fail" is said only
 * when the server saw the careless act itself.
 */
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../util.h"
#include "grade.h"

enum mark { M_PASS, M_FAIL, M_WARN, M_NA };

static const char *const mark_word[] = { "pass", "fail", "warn", "n/a" };
static const char *const mark_tag[] = { " ok ", "FAIL", "warn", " -- " };

struct verdict {
	enum mark m;
	char text[400];
};

static void PRINTF(3, 4)
say(struct verdict *v, enum mark m, const char *fmt, ...)
{
	va_list ap;
	v->m = m;
	va_start(ap, fmt);
	vsnprintf(v->text, sizeof v->text, fmt, ap);
	va_end(ap);
}

/* A certificate a careful client refuses, in words; NULL: a good one. */
static const char *
bad_cert(const struct lab_scenario *sc)
{
	switch (sc->cert) {
	case LC_WRONG_NAME:
		return "a certificate for " LAB_OTHERNAME ", not " LAB_SERVERNAME;
	case LC_SELF_SIGNED:
		return "a self-signed certificate";
	case LC_EXPIRED:
		return "a certificate that expired a year ago";
	case LC_NOT_YET_VALID:
		return "a certificate valid only from next year";
	case LC_CLIENT_ONLY:
		return "a certificate for TLS clients only";
	case LC_NO_INTERMEDIATE:
		return "a certificate whose intermediate CA is missing";
	default:
		return NULL;
	}
}

static void
g_cert(const struct lab_facts *f, struct verdict *v)
{
	const char *bad = bad_cert(f->sc);
	if (!bad) {
		say(v, M_NA, "not tested here: the certificate is valid (try "
		    "tls.cert_hostname_mismatch or tls.cert_untrusted)");
		return;
	}
	if (!f->tls_tried) {
		say(v, M_NA, "no TLS handshake was tried");
		return;
	}
	if (!f->tls_up) {
		say(v, M_PASS, "refused %s during the handshake%s%s", bad,
		    *f->tls_alert ? " (alert: " : "", *f->tls_alert ?
		    f->tls_alert : "");
		if (*f->tls_alert)
			strncat(v->text, ")", sizeof v->text - strlen(v->text) - 1);
		return;
	}
	/* a wrong name under a trusted CA: what a client that checks the
	 * chain and not the name lets through */
	const char *what = f->sc->cert == LC_WRONG_NAME ?
		"did not verify the certificate's name" :
		"did not verify the certificate";
	if (f->auth_after_tls)
		say(v, M_FAIL, "%s: went on after a handshake with %s, up to "
		    "AUTH: the password went to a server it cannot tell from an "
		    "impostor", what, bad);
	else if (f->cmds_after_tls)
		say(v, M_FAIL, "%s: went on after a handshake with %s (%d "
		    "command%s inside TLS)", what, bad, f->cmds_after_tls,
		    f->cmds_after_tls == 1 ? "" : "s");
	else
		say(v, M_PASS, "hung up after the handshake (%s) without a "
		    "command inside TLS", bad);
}

static void
g_plaintext(const struct lab_facts *f, struct verdict *v)
{
	if (f->auth_secret_plain)
		say(v, M_FAIL, "sent the password in plaintext (AUTH %s on a "
		    "connection that was not encrypted): anyone on the path "
		    "can read it", f->mech);
	else if (f->auth_plain_text)
		say(v, M_WARN, "tried AUTH %s on a connection that was not "
		    "encrypted; the server refused before a password went",
		    f->mech);
	else if (f->auth_offered_plain && f->tls_up)
		say(v, M_PASS, "AUTH was offered before TLS; it waited for "
		    "TLS");
	else if (f->auth_offered_plain)
		say(v, M_PASS, "AUTH was offered without TLS; it kept the "
		    "password to itself");
	else if (*f->mech)
		say(v, M_PASS, "the password went inside TLS only");
	else
		say(v, M_NA, "no AUTH (try auth.offered_in_plaintext: AUTH "
		    "offered before STARTTLS)");
}

static void
g_injection(const struct lab_facts *f, struct verdict *v)
{
	if (!f->injected) {
		say(v, M_NA, "not tested here (try starttls.injection)");
		return;
	}
	if (f->injection_acted)
		say(v, M_FAIL, "acted on the lines injected after \"220 Ready\": "
		    "it sent its next command before the real reply to EHLO "
		    "inside TLS (CVE-2011-0411 style; RFC 3207 §4.2: discard "
		    "what came before TLS)");
	else if (f->injection_waited)
		say(v, M_PASS, "ignored the lines injected after \"220 Ready\" "
		    "and waited for the real reply inside TLS");
	else
		say(v, M_PASS, "hung up after the lines injected after \"220 "
		    "Ready\"%s", f->tls_up ? "" : " (no TLS session)");
}

/* Where a mechanism ranks: higher is stronger; 0 unknown. */
static int
mech_rank(const char *m)
{
	static const char *const order[] = {
		"LOGIN", "PLAIN", "CRAM-MD5", "XOAUTH2", "OAUTHBEARER",
		"SCRAM-SHA-256", "SCRAM-SHA-256-PLUS", "EXTERNAL"
	};
	for (size_t i = 0; i < ARRAY_SIZE(order); i++)
		if (!strcasecmp(m, order[i]))
			return (int)i + 1;
	return 0;
}

static void
g_mechanism(const struct lab_facts *f, struct verdict *v)
{
	if (!*f->mech) {
		say(v, M_NA, "no AUTH");
		return;
	}
	char best[32] = "", words[sizeof f->offered];
	snprintf(words, sizeof words, "%s", f->offered);
	for (char *save = NULL, *t = strtok_r(words, " ", &save); t;
	     t = strtok_r(NULL, " ", &save))
		if (mech_rank(t) > mech_rank(best) && strcasecmp(t, "EXTERNAL") &&
		    strncasecmp(t, "XOAUTH", 6) && strcasecmp(t, "OAUTHBEARER"))
			snprintf(best, sizeof best, "%s", t);
	bool token = !strcasecmp(f->mech, "XOAUTH2") ||
		     !strcasecmp(f->mech, "OAUTHBEARER") ||
		     !strcasecmp(f->mech, "EXTERNAL");
	if (token || !*best || mech_rank(f->mech) >= mech_rank(best))
		say(v, M_PASS, "used %s, the strongest offered for a password%s",
		    f->mech, token ? " (or a token/certificate)" : "");
	else if (!strncasecmp(f->mech, "SCRAM", 5))
		say(v, M_PASS, "used %s (%s was offered too: it also binds the "
		    "login to the TLS session)", f->mech, best);
	else if (!strcasecmp(f->mech, "CRAM-MD5"))
		say(v, M_WARN, "used CRAM-MD5 although %s was offered: CRAM-MD5 "
		    "rests on MD5 and makes the server keep the password in the "
		    "clear; SCRAM proves the password without either (RFC 7677)",
		    best);
	else
		say(v, M_WARN, "used %s although %s was offered: %s hands the "
		    "password itself to the server (inside TLS, so only the "
		    "server sees it); SCRAM proves it without sending it "
		    "(RFC 7677)", f->mech, best, f->mech);
}

static void
g_tempfail(const struct lab_facts *f, struct verdict *v)
{
	if (f->grey_retry > 0 && f->grey_passed)
		say(v, M_PASS, "retried %.0f s after the greylisting 4xx (the "
		    "greylist wants %.0f s) and got through", f->grey_retry,
		    f->grey_delay);
	else if (f->grey_retry > 0)
		say(v, M_WARN, "retried after %.0f s, before the greylist's %.0f s: "
		    "a 4xx again; a mail server retries with a back-off of "
		    "minutes", f->grey_retry, f->grey_delay);
	else if (!f->rcpt_4xx)
		say(v, M_NA, "no 4xx to answer (try rcpt.greylisted)");
	else if (f->data_after_4xx)
		say(v, M_FAIL, "pushed on to DATA after the 4xx to RCPT, with no "
		    "recipient accepted");
	else if (f->ended_after_4xx)
		say(v, M_PASS, "took the 4xx to RCPT as temporary and ended the "
		    "transaction: a mail server queues and retries later "
		    "(greylisting wants a retry after some minutes)");
	else
		say(v, M_PASS, "stopped after the 4xx to RCPT");
}

static void
g_greeting(const struct lab_facts *f, struct verdict *v)
{
	if (f->sc->flags & LF_IMPLICIT)
		say(v, M_NA, "implicit TLS: the client speaks first (the "
		    "ClientHello)");
	else if (f->early_talker)
		say(v, M_FAIL, "spoke before the greeting (RFC 5321 §3.1: the "
		    "client waits for 220); spam engines talk early, and "
		    "servers such as Postfix's postscreen drop them");
	else
		say(v, M_PASS, "waited for the greeting");
}

static void
g_pipelining(const struct lab_facts *f, struct verdict *v)
{
	if (*f->no_wait && !f->pipelining_offered)
		say(v, M_FAIL, "sent more after %s without waiting for its "
		    "reply, and the server does not offer PIPELINING",
		    f->no_wait);
	else if (*f->no_wait)
		say(v, M_FAIL, "sent more after %s without waiting for its "
		    "reply (RFC 2920 §3.1: EHLO, HELO, STARTTLS and DATA end "
		    "a group; wait for their reply)", f->no_wait);
	else if (f->commands)
		say(v, M_PASS, "waited for the replies it must wait for "
		    "(RFC 2920)");
	else
		say(v, M_NA, "no command");
}

static void
g_message(const struct lab_facts *f, struct verdict *v)
{
	if (!f->data) {
		say(v, M_NA, "no message sent");
		return;
	}
	char miss[32] = "";
	if (!f->hdr_date)
		strcat(miss, "Date");
	if (!f->hdr_from)
		strcat(miss, *miss ? ", From" : "From");
	if (f->bare_lf || f->unstuffed || !f->hdr_date || !f->hdr_from) {
		struct buf b = { 0 };
		if (f->bare_lf)
			buf_printf(&b, "%d line%s ended in a bare LF, not CRLF "
				   "(RFC 5321 §2.3.8: the SMTP smuggling vector)",
				   f->bare_lf, f->bare_lf == 1 ? "" : "s");
		if (f->unstuffed)
			buf_printf(&b, "%s%d line%s began with a dot that was not "
				   "doubled (RFC 5321 §4.5.2 dot-stuffing)",
				   b.len ? "; " : "", f->unstuffed,
				   f->unstuffed == 1 ? "" : "s");
		if (!f->hdr_date || !f->hdr_from)
			buf_printf(&b, "%smissing header%s: %s (RFC 5322 §3.6)",
				   b.len ? "; " : "", strchr(miss, ',') ? "s" : "",
				   miss);
		if (!f->hdr_msgid)
			buf_printf(&b, "; no Message-ID (§3.6.4: SHOULD)");
		say(v, M_FAIL, "%s", b.data);
		buf_free(&b);
	} else if (!f->hdr_msgid)
		say(v, M_WARN, "well-formed, but no Message-ID (RFC 5322 §3.6.4: "
		    "SHOULD)");
	else
		say(v, M_PASS, "well-formed: Date, From, Message-ID, CRLF line "
		    "ends, dot-stuffed");
	if (f->bare_lf_cmd && v->m != M_FAIL)
		say(v, M_FAIL, "command lines ended in a bare LF, not CRLF");
}

static const struct rule {
	const char *id;
	const char *title;
	void (*fn)(const struct lab_facts *f, struct verdict *v);
} rules[] = {
	{ "certificate", "verifies the certificate", g_cert },
	{ "plaintext", "no password in plaintext", g_plaintext },
	{ "injection", "STARTTLS injection", g_injection },
	{ "mechanism", "strongest AUTH mechanism", g_mechanism },
	{ "tempfail", "4xx is temporary", g_tempfail },
	{ "greeting", "waits for the greeting", g_greeting },
	{ "pipelining", "waits where RFC 2920 says", g_pipelining },
	{ "message", "well-formed message", g_message },
};

/*
 * Write all of p to fd (-1: nowhere); one write() when it can.  A reader
 * that does not read (a test that took the port line and left the pipe
 * alone) must not stop the server: after a quarter of a second without
 * room, the rest of the card is dropped (and the connection's process,
 * which counts against the server's limit, ends).
 */
static void
put(int fd, const char *p, size_t n)
{
	while (fd >= 0 && n > 0) {
		struct pollfd pw = { .fd = fd, .events = POLLOUT };
		if (poll(&pw, 1, 250) != 1 || !(pw.revents & POLLOUT))
			return;
		ssize_t k = write(fd, p, n);
		if (k <= 0)
			return;
		p += k;
		n -= (size_t)k;
	}
}

#define INDENT 35	/* "  " tag "  " title(26) " " */

void
grade_card(const struct lab_facts *f, int text_fd, int json_fd, bool color)
{
	/* SGR for each mark's tag: green, red bold, yellow, dim */
	static const char *const sgr[] = { "\033[32m", "\033[1;31m",
					   "\033[33m", "\033[2m" };
	struct verdict v[ARRAY_SIZE(rules)];
	int count[4] = { 0 };
	for (size_t i = 0; i < ARRAY_SIZE(rules); i++) {
		rules[i].fn(f, &v[i]);
		count[v[i].m]++;
	}
	double secs = now_mono() - f->t0;

	struct buf t = { 0 };
	buf_printf(&t, "%s--- report card for %s on %s (port %d)%s\n",
		   color ? "\033[1m" : "", f->client, f->sc->name, f->port,
		   color ? "\033[0m" : "");
	for (size_t i = 0; i < ARRAY_SIZE(rules); i++) {
		buf_printf(&t, "  %s%s%s  %-26s ", color ? sgr[v[i].m] : "",
			   mark_tag[v[i].m], color ? "\033[0m" : "", rules[i].title);
		/* wrap the words under themselves, 78 columns */
		const char *s = v[i].text;
		int col = INDENT;
		while (*s) {
			while (*s == ' ')
				s++;
			size_t w = strcspn(s, " ");
			if (!w)
				break;
			if (col > INDENT && col + 1 + (int)w > 78) {
				buf_printf(&t, "\n%*s", INDENT, "");
				col = INDENT;
			} else if (col > INDENT) {
				buf_addc(&t, ' ');
				col++;
			}
			buf_add(&t, s, w);
			col += (int)w;
			s += w;
		}
		buf_addc(&t, '\n');
	}
	buf_printf(&t, "  grade: %d passed, %d failed, %d warning%s, %d not "
		   "tested here (%d command%s, %.2f s)\n", count[M_PASS],
		   count[M_FAIL], count[M_WARN], count[M_WARN] == 1 ? "" : "s",
		   count[M_NA], f->commands, f->commands == 1 ? "" : "s", secs);
	put(text_fd, t.data, t.len);
	buf_free(&t);

	if (json_fd < 0)
		return;
	struct buf j = { 0 };
	buf_adds(&j, "{\"client\":");
	json_string(&j, f->client);
	buf_adds(&j, ",\"scenario\":");
	json_string(&j, f->sc->name);
	buf_printf(&j, ",\"port\":%d,\"seconds\":%.3f,\"commands\":%d,\"marks\":[",
		   f->port, secs, f->commands);
	for (size_t i = 0; i < ARRAY_SIZE(rules); i++) {
		buf_printf(&j, "%s{\"id\":\"%s\",\"status\":\"%s\",\"text\":",
			   i ? "," : "", rules[i].id, mark_word[v[i].m]);
		json_string(&j, v[i].text);
		buf_addc(&j, '}');
	}
	buf_printf(&j, "],\"passed\":%d,\"failed\":%d,\"warnings\":%d}\n",
		   count[M_PASS], count[M_FAIL], count[M_WARN]);
	put(json_fd, j.data, j.len);
	buf_free(&j);
}

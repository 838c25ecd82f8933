/*
 * explain.c - words for one transcript line: the explain screen (Enter)
 * and the teaching view's notes.
 *
 * Server replies are explained from their codes (code_describe and
 * enh_describe from the engine, RFC 5321 §4.2 and RFC 3463), EHLO
 * capability lines from a small table of extensions, client commands from
 * a table of SMTP verbs: what the command asks and why a session sends it.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ui.h"
#include "../src/util.h"

struct verb {
	const char *verb;
	const char *asks;	/* what the command asks for */
	const char *why;	/* why a session sends it */
	const char *rfc;
};

static const struct verb verbs[] = {
	{ "EHLO", "The client says who it is and asks the server to list the "
	  "extensions it supports (SIZE, STARTTLS, AUTH ...).",
	  "Every session opens with it, and sends it again right after "
	  "STARTTLS: what was said in plaintext cannot be trusted, so the list "
	  "is asked for again inside TLS.", "RFC 5321 \u00a74.1.1.1" },
	{ "HELO", "The old greeting, without extensions.",
	  "The fallback for a server that does not understand EHLO.",
	  "RFC 5321 \u00a74.1.1.1" },
	{ "STARTTLS", "Asks to turn this plaintext connection into an "
	  "encrypted one.  After the server's 220 both sides start the TLS "
	  "handshake; nothing else may be sent in between.",
	  "Sent when the server offered STARTTLS and TLS is wanted, so that the "
	  "password and the message do not travel in the clear.", "RFC 3207" },
	{ "AUTH", "Starts a login with the named SASL mechanism.  The payload "
	  "holds the credentials: smtpdx shows it as <redacted>, and the "
	  "teaching view decodes it with the secret masked.",
	  "A submission server (port 587 or 465) only relays mail for users who "
	  "logged in.", "RFC 4954" },
	{ "MAIL", "MAIL FROM:<address> opens a mail transaction and names the "
	  "envelope sender: where bounces go, and whom the server checks the "
	  "login against.", "The first command of every message.",
	  "RFC 5321 \u00a74.1.1.2" },
	{ "RCPT", "RCPT TO:<address> names one recipient; the server says "
	  "whether it will take mail for that address.",
	  "Once per recipient, after MAIL FROM.", "RFC 5321 \u00a74.1.1.3" },
	{ "DATA", "Asks to send the message itself.  After the server's 354 the "
	  "headers and body follow, ended by a line holding a single dot.",
	  "The test message proves the server takes mail, not only logins.",
	  "RFC 5321 \u00a74.1.1.4" },
	{ "BDAT", "Sends the message in chunks of a given size (CHUNKING).",
	  "An alternative to DATA.", "RFC 3030" },
	{ "RSET", "Abandons the mail transaction under way; the connection "
	  "stays open.", "Sent to end cleanly without delivering, e.g. with "
	  "--no-send.", "RFC 5321 \u00a74.1.1.5" },
	{ "VRFY", "Asks whether a mailbox exists.  Most servers decline to say "
	  "(252) so that addresses cannot be harvested.", "Only typed by hand.",
	  "RFC 5321 \u00a74.1.1.6" },
	{ "EXPN", "Asks the server to expand a mailing list into its members; "
	  "usually refused.", "Only typed by hand.", "RFC 5321 \u00a74.1.1.7" },
	{ "HELP", "Asks for help text.", "Only typed by hand.",
	  "RFC 5321 \u00a74.1.1.8" },
	{ "NOOP", "Does nothing: the server answers 250 if it is still there.",
	  "Keeps a connection alive, or tests it.", "RFC 5321 \u00a74.1.1.9" },
	{ "QUIT", "Ends the session politely: the server answers 221 and "
	  "closes the connection.", "The last step of every session.",
	  "RFC 5321 \u00a74.1.1.10" },
	{ "*", "Cancels an AUTH exchange in the middle.",
	  "smtpdx could not answer the server's challenge.", "RFC 4954 \u00a74" },
	{ "<redacted>", "An answer to the server's AUTH challenge (334): "
	  "credentials, so smtpdx does not show them.",
	  "Part of the login.", "RFC 4954 \u00a74" },
	{ ".", "A line with a single dot ends the message.",
	  "The server answers it with the fate of the message: 250 means "
	  "queued for delivery.", "RFC 5321 \u00a74.1.1.4" },
};

struct capdef {
	const char *kw;
	const char *words;
	const char *rfc;
};

static const struct capdef capdefs[] = {
	{ "PIPELINING", "the client may send several commands at once, "
	  "without waiting for each reply", "RFC 2920" },
	{ "SIZE", "the largest message the server takes, in bytes", "RFC 1870" },
	{ "STARTTLS", "this plaintext connection can be upgraded to TLS",
	  "RFC 3207" },
	{ "AUTH", "logging in is possible, with these SASL mechanisms",
	  "RFC 4954" },
	{ "ENHANCEDSTATUSCODES", "replies carry a detailed status code such "
	  "as 5.7.8", "RFC 2034" },
	{ "8BITMIME", "message bodies may hold 8-bit text", "RFC 6152" },
	{ "SMTPUTF8", "addresses and headers may be written in UTF-8",
	  "RFC 6531" },
	{ "CHUNKING", "the message may be sent in pieces with BDAT", "RFC 3030" },
	{ "BINARYMIME", "message bodies may be raw binary (with BDAT)",
	  "RFC 3030" },
	{ "DSN", "the sender can ask for delivery status notifications",
	  "RFC 3461" },
	{ "REQUIRETLS", "the sender can demand TLS on every hop of the way",
	  "RFC 8689" },
	{ "DELIVERBY", "the sender can set a delivery deadline", "RFC 2852" },
	{ "ETRN", "a client can ask for queued mail to be sent now", "RFC 1985" },
	{ "VRFY", "the server answers VRFY", "RFC 5321 \u00a73.5" },
	{ "EXPN", "the server answers EXPN", "RFC 5321 \u00a73.5" },
	{ "HELP", "the server answers HELP", "RFC 5321 \u00a74.1.1.8" },
	{ "MT-PRIORITY", "messages can carry a priority", "RFC 6710" },
	{ "LIMITS", "the server states its limits up front", "RFC 9422" },
};

static const struct verb *
find_verb(const char *text)
{
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++) {
		const char *v = verbs[i].verb;
		size_t n = strlen(v);
		if (!isalpha((unsigned char)v[0])) {
			if (!strcmp(text, v))
				return &verbs[i];
		} else if (!strncasecmp(text, v, n) &&
			   (text[n] == '\0' || text[n] == ' ')) {
			return &verbs[i];
		}
	}
	return NULL;
}

bool
explain_is_command(const char *text)
{
	return find_verb(text) != NULL;
}

/* A reply line: its code, the separator and where the text starts. */
static bool
parse_reply_line(const char *text, int *code, char *sep, const char **rest)
{
	if (!isdigit((unsigned char)text[0]) || !isdigit((unsigned char)text[1]) ||
	    !isdigit((unsigned char)text[2]))
		return false;
	if (text[3] != '\0' && text[3] != ' ' && text[3] != '-')
		return false;
	*code = (text[0] - '0') * 100 + (text[1] - '0') * 10 + (text[2] - '0');
	*sep = text[3];
	*rest = text[3] ? text + 4 : text + 3;
	return true;
}

/* Is line i a capability line of an EHLO reply (not its first line)? */
static const char *
capability_of(const struct session *s, size_t i, const struct capdef **cd)
{
	const struct tr_line *l = &s->tr.v[i];
	int code;
	char sep;
	const char *rest;
	*cd = NULL;
	/* the session marked the line: a capability of an EHLO reply */
	if (l->dir != TR_SERVER || !*l->capability ||
	    !parse_reply_line(l->text, &code, &sep, &rest))
		return NULL;
	for (size_t k = 0; k < ARRAY_SIZE(capdefs); k++)
		if (!strcasecmp(l->capability, capdefs[k].kw)) {
			*cd = &capdefs[k];
			break;
		}
	return rest;
}

static const char *
class_words(int code)
{
	switch (code / 100) {
	case 2: return "2xx positive completion: the command worked";
	case 3: return "3xx positive intermediate: go on, the server waits for more";
	case 4: return "4xx transient failure: it may work if tried again later";
	case 5: return "5xx permanent failure: the same command will fail again";
	}
	return "not a valid reply class";
}

static const char *
enh_class_words(int cls)
{
	switch (cls) {
	case 2: return "success";
	case 4: return "persistent transient failure";
	case 5: return "permanent failure";
	}
	return "unknown class";
}

void
explain_reply_words(struct doc *d, const char *text)
{
	int code;
	char sep;
	const char *rest;
	if (!parse_reply_line(text, &code, &sep, &rest)) {
		doc_wrap(d, 10, "Reply", ST_LABEL, ST_NORMAL,
			 "not a valid SMTP reply line: it should start with three "
			 "digits (RFC 5321 \u00a74.2)");
		return;
	}
	char *w = xasprintf("%d: %s", code, code_describe(code));
	doc_wrap(d, 10, "Code", ST_LABEL, ST_ANSWER, w);
	free(w);
	doc_wrap(d, 10, "Class", ST_LABEL, ST_NORMAL, class_words(code));
	struct enh_code e = { 0 };
	if (enh_parse(rest, &e) && e.cls) {
		w = xasprintf("%d.%d.%d: %s (%s)", e.cls, e.subject, e.detail,
			      enh_describe(&e), enh_class_words(e.cls));
		doc_wrap(d, 10, "Enhanced", ST_LABEL, ST_ANSWER, w);
		free(w);
	}
	if (sep == '-')
		doc_wrap(d, 10, "More", ST_LABEL, ST_DIM,
			 "a dash after the code: more lines of this reply follow");
}

char *
tr_gloss(const struct session *s, size_t i)
{
	const struct tr_line *l = &s->tr.v[i];
	const struct capdef *cd;
	if (l->dir == TR_SERVER) {
		if (capability_of(s, i, &cd) && cd) {
			if (l->note)
				return xasprintf("%s: %s (%s); %s", cd->kw, cd->words,
						 cd->rfc, l->note);
			return xasprintf("%s: %s (%s)", cd->kw, cd->words, cd->rfc);
		}
		return l->note ? xstrdup(l->note) : NULL;
	}
	if (l->dir == TR_CLIENT) {
		const struct verb *v = find_verb(l->text);
		if (l->note && v)
			return xasprintf("%s", l->note);
		if (l->note)
			return xstrdup(l->note);
		if (v)
			return xstrdup(v->asks);
		/* the message itself: one gloss for its first line is enough */
		if (l->step == STEP_DATA) {
			const struct tr_line *p = i > 0 ? &s->tr.v[i - 1] : NULL;
			if (p && p->dir == TR_CLIENT && p->step == STEP_DATA &&
			    !find_verb(p->text))
				return NULL;
			return xstrdup("the test message begins: headers, a blank "
				       "line, then the body; the server keeps it "
				       "until the final dot");
		}
	}
	return l->note ? xstrdup(l->note) : NULL;
}

void
explain_line(struct doc *d, const struct session *s, size_t i)
{
	if (i >= s->tr.n) {
		doc_wrap(d, 0, NULL, 0, ST_DIM, "Nothing selected: the transcript "
			 "is empty.  Press n to run the first step.");
		return;
	}
	const struct tr_line *l = &s->tr.v[i];
	int st = l->dir == TR_SERVER ? ST_SERVER : l->dir == TR_CLIENT ? ST_CLIENT :
		 ST_INFO;
	doc_wrap(d, 2, NULL, 0, st | 0, l->text);
	doc_nl(d);

	char *w;
	if (l->dir == TR_SERVER)
		w = xasprintf("server %s client%s", "\u2192", l->tls ? ", inside TLS" :
			      ", in plaintext");
	else if (l->dir == TR_CLIENT)
		w = xasprintf("client %s server%s", "\u2192", l->tls ? ", inside TLS" :
			      ", in plaintext");
	else
		w = xstrdup("a note from smtpdx: this did not travel on the wire");
	if (!ui_utf8) {
		char *a = strstr(w, "\u2192");
		if (a) {
			char *r = xasprintf("%.*s->%s", (int)(a - w), w, a + 3);
			free(w);
			w = r;
		}
	}
	doc_wrap(d, 10, "Who", ST_LABEL, ST_NORMAL, w);
	free(w);
	if (l->step >= 0)
		w = xasprintf("%.3f s, step %s: %s", l->t, step_name(l->step),
			      step_title(l->step));
	else
		w = xasprintf("%.3f s, a command typed on the : line", l->t);
	doc_wrap(d, 10, "When", ST_LABEL, ST_NORMAL, w);
	free(w);

	if (l->dir == TR_SERVER) {
		explain_reply_words(d, l->text);
		const struct capdef *cd;
		const char *kw = capability_of(s, i, &cd);
		if (kw) {
			if (cd)
				w = xasprintf("%s: %s (%s)", cd->kw, cd->words, cd->rfc);
			else if (!strncasecmp(kw, "X", 1))
				w = xasprintf("%s: a vendor's own extension", kw);
			else
				w = xasprintf("%s: an extension smtpdx has no words for", kw);
			doc_wrap(d, 10, "Offers", ST_LABEL, ST_NORMAL, w);
			free(w);
		}
		/* the command it answers, as the session bound it */
		if (l->answers >= 0 && (size_t)l->answers < s->tr.n)
			doc_wrap(d, 10, "Answers", ST_LABEL, ST_CLIENT,
				 s->tr.v[l->answers].text);
		else if (!strcmp(l->verb, "greeting"))
			doc_wrap(d, 10, "Answers", ST_LABEL, ST_NORMAL,
				 "nothing: this is the greeting");
		else if (l->unsolicited)
			doc_wrap(d, 10, "Answers", ST_LABEL, ST_NORMAL,
				 "nothing: no command asked for this line, so client "
				 "and server are out of step (RFC 5321 \u00a74.3.2)");
	} else if (l->dir == TR_CLIENT) {
		const struct verb *v = find_verb(l->text);
		if (v) {
			doc_wrap(d, 10, "Asks", ST_LABEL, ST_NORMAL, v->asks);
			doc_wrap(d, 10, "Why", ST_LABEL, ST_NORMAL, l->step < 0 ?
				 "you typed it on the : command line" : v->why);
			doc_wrap(d, 10, "See", ST_LABEL, ST_DIM, v->rfc);
		} else if (l->step == STEP_DATA) {
			doc_wrap(d, 10, "What", ST_LABEL, ST_NORMAL,
				 "a line of the test message smtpdx sends: headers, a "
				 "blank line, then the body; the server stores it until "
				 "the final dot");
		} else if (l->step < 0) {
			doc_wrap(d, 10, "What", ST_LABEL, ST_NORMAL,
				 "a command you typed on the : line that smtpdx has no "
				 "words for; the reply says what the server made of it");
		}
		/* its reply: the first server line the session bound to it
		 * (under PIPELINING it may come after later commands) */
		for (size_t k = i + 1; k < s->tr.n; k++) {
			const struct tr_line *r = &s->tr.v[k];
			if (r->dir == TR_SERVER && r->answers == (long)i) {
				doc_wrap(d, 10, "Reply", ST_LABEL, ST_SERVER, r->text);
				break;
			}
		}
	}
	/* a server line's note usually says what Code and Enhanced said */
	int code;
	char sep;
	const char *rest;
	bool same = l->dir == TR_SERVER && l->note &&
		    parse_reply_line(l->text, &code, &sep, &rest) &&
		    !strncmp(l->note, l->text, 3) && l->note[3] == ':';
	if (l->note && !same) {
		doc_nl(d);
		doc_wrap(d, 10, "Note", ST_LABEL, ST_NOTE, l->note);
	}
}

/* ---- the screen --------------------------------------------------------------- */

enum { EA_HELP = KA_FIRST };

static const struct keydef explain_keys[] = {
	DOC_KEYS,
	{ '/', false, KA_NONE, "/", "search; n N next and previous match", NULL,
	  0, NULL },
	{ '?', false, EA_HELP, "?", "the key map", NULL, 0, NULL },
	{ 0, false, 0, NULL, NULL, NULL, 0, NULL }
};

static void
explain_build(struct tui *t)
{
	doc_reset(&t->ovdoc, docview_width(t));
	explain_line(&t->ovdoc, t->s, t->sel);
}

static void
explain_resize(struct tui *t, int *h, int *w)
{
	explain_build(t);
	docview_size(t, h, w);
}

static void
explain_draw(struct tui *t, unsigned dirty)
{
	(void)dirty;
	snprintf(t->ov_title, sizeof t->ov_title, "Line %zu explained", t->sel + 1);
	explain_build(t);	/* the line may have changed under it */
	docview_draw(t);
}

static void
explain_key(struct tui *t, int action, wint_t ch, bool keycode)
{
	(void)ch;
	(void)keycode;
	if (action == EA_HELP)
		ui_open(t, SCREEN_HELP);
	else
		docview_key(t, action);
}

const struct screen screen_explain = {
	.name = "explained",
	.overlay = true,
	.keys = explain_keys,
	.draw = explain_draw,
	.key = explain_key,
	.resize = explain_resize,
	.find = docview_find,
};

/*
 * help.c - the one-screen key map (`?`).
 *
 * The keys of CONTRACT.md come first, in its words, since workshop
 * handouts name them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui.h"
#include "../src/util.h"

struct helpkey {
	const char *key, *words;
};

static const struct helpkey run_keys[] = {
	{ "n  space", "run the next step" },
	{ "r", "run to the end" },
	{ "R", "start over (a new session, same settings; asks first in the "
	       "middle of a session)" },
	{ "w", "which port: sweep this host's ports (587, 465, 2525, 25) at "
	       "once; back to the sweep when the session came from one" },
	{ "Esc", "cancel the step under way" },
	{ ":", "raw command line: type SMTP into the live session" },
	{ "?", "this help" },
	{ "q", "quit (status 4 in the middle of a session)" },
	{ "Ctrl-Z", "suspend to the shell; fg comes back" },
};

static const struct helpkey look_keys[] = {
	{ "Up Down", "select a transcript line" },
	{ "PgUp PgDn", "scroll a page" },
	{ "Home End", "first line, newest line (and follow it)" },
	{ "Enter", "explain the selected line" },
	{ "v", "teaching view: words under every line" },
	{ "t", "TLS details: version, cipher, certificates" },
	{ "Tab  1 2 3", "switch region (arrows act on it)" },
	{ "z", "zoom the region to the whole screen" },
	{ "e", "settings: host, port, TLS, login ... then start over" },
	{ "s", "save the transcript to a file (passwords redacted)" },
	{ "Ctrl-L", "redraw the screen" },
};

static const struct helpkey cl_keys[] = {
	{ "Tab", "complete a verb, or an extension the server offered" },
	{ "Up Down", "history (kept across runs, never AUTH lines)" },
	{ "Ctrl-A E B F", "start, end, back, forward (emacs keys)" },
	{ "Ctrl-W U K", "delete a word, the line, to the end" },
	{ "Enter", "send;  Esc leaves the line" },
	{ "Ctrl-C D", "leave the line when it is empty (Ctrl-C clears text)" },
};

static void
keys(struct doc *d, const char *title, const struct helpkey *k, size_t n)
{
	doc_nl(d);
	doc_heading(d, title);
	for (size_t i = 0; i < n; i++)
		doc_wrap(d, 15, k[i].key, ST_KEY, ST_NORMAL, k[i].words);
}

void
help_build(struct doc *d, const struct tui *t)
{
	if (t->scr == SCR_SWEEP) {
		adv_help(d, t);
		return;
	}
	keys(d, "Run the session", run_keys, ARRAY_SIZE(run_keys));
	keys(d, "Look closer", look_keys, ARRAY_SIZE(look_keys));
	keys(d, "On the : line", cl_keys, ARRAY_SIZE(cl_keys));

	doc_nl(d);
	doc_heading(d, "Marks");
	char *m = xasprintf("%s ok   %s failed   %s warning   %s to do   %s skipped"
			    "   %s next", mark_u8(MK_OK), mark_u8(MK_FAIL),
			    mark_u8(MK_WARN), mark_u8(MK_PENDING), mark_u8(MK_SKIPPED),
			    mark_u8(MK_NEXT));
	doc_wrap(d, 2, NULL, 0, ST_NORMAL, m);
	free(m);
	m = xasprintf("%s server says   %s client says   %s smtpdx notes   "
		      "%s inside TLS", mark_u8(MK_SERVER), mark_u8(MK_CLIENT),
		      mark_u8(MK_INFO), mark_u8(MK_TLS));
	doc_wrap(d, 2, NULL, 0, ST_NORMAL, m);
	free(m);
	const char *hp = t->cl ? cmdline_history_path(t->cl) : "";
	if (*hp) {
		doc_nl(d);
		doc_wrap(d, 9, "History", ST_DIM, ST_DIM, hp);
	}
}

/*
 * picker.c - the lab's scenario picker (`L`) and naming a mystery's
 * diagnosis (`d`): the screens of the workshop (workshop.c has its
 * state and words).  Choosing a scenario starts the lab on it again and
 * a new session.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ui.h"
#include "../src/diag.h"
#include "../src/lab/workshop.h"
#include "../src/util.h"

/* The lab again on sc, in mode; a new session. */
static void
ws_switch(struct tui *t, const struct lab_scenario *sc, int mode)
{
	char err[256];
	if (!t->opts->lab_switch) {
		tui_message(t, true, "The scenarios are the lab's: start smtpdx --lab.");
		return;
	}
	if (t->opts->lab_switch(t->opts->lab_ctx, sc->name, t->cfg, err,
				sizeof err) < 0) {
		tui_message(t, true, "lab: %s", err);
		return;
	}
	ws_set(t, sc, mode);
	ui_close(t);
	tui_restart(t);
	if (mode == WS_MYSTERY)
		tui_message(t, false, "A mystery: step through (n, r), then d names "
			    "what went wrong.");
	else if (mode == WS_FIXIT)
		tui_message(t, false, "Fix it: make the session pass.  e changes the "
			    "settings, h gives a hint.");
	else
		tui_message(t, false, "Lab scenario %s: n steps, r runs.", sc->name);
}

/* ---- the picker -------------------------------------------------------------------- */

enum { PK_UP = KA_FIRST, PK_DOWN, PK_PGUP, PK_PGDN, PK_HOME, PK_END, PK_RUN,
       PK_FIX, PK_MYSTERY, PK_CLOSE };

static const struct keydef picker_keys[] = {
	{ KEY_UP, true, PK_UP, "Up", "the scenario above", NULL, 0, "Scenarios" },
	{ 'k', false, PK_UP, "k", NULL, NULL, 0, NULL },
	{ KEY_DOWN, true, PK_DOWN, "Down", "the scenario below", NULL, 0, NULL },
	{ 'j', false, PK_DOWN, "j", NULL, NULL, 0, NULL },
	{ KEY_PPAGE, true, PK_PGUP, "PgUp", "a page up", NULL, 0, NULL },
	{ KEY_NPAGE, true, PK_PGDN, "PgDn", "a page down", NULL, 0, NULL },
	{ KEY_HOME, true, PK_HOME, "Home", "the first", NULL, 0, NULL },
	{ KEY_END, true, PK_END, "End", "the last", NULL, 0, NULL },
	{ '\r', false, PK_RUN, "Enter", "run the scenario (a new session)", NULL,
	  0, NULL },
	{ '\n', false, PK_RUN, "Enter", NULL, NULL, 0, NULL },
	{ KEY_ENTER, true, PK_RUN, "Enter", NULL, NULL, 0, NULL },
	{ 'f', false, PK_FIX, "f", "fix-it: the client's settings are wrong; "
	  "fix them with e", NULL, 0, NULL },
	{ '?', false, PK_MYSTERY, "?", "a mystery: a scenario at random, its "
	  "name hidden", NULL, 0, NULL },
	{ 27, false, PK_CLOSE, "Esc", "close", NULL, 0, NULL },
	{ 'q', false, PK_CLOSE, "q", NULL, NULL, 0, NULL },
	{ 3, false, PK_CLOSE, "Ctrl-C", NULL, NULL, 0, NULL },
	{ 0, false, 0, NULL, NULL, NULL, 0, NULL }
};

static const struct lab_scenario *pk_v[256];
static size_t pk_n;

/* The picker's text width: wider than a document's, for the goals. */
static int
picker_width(const struct tui *t)
{
	return (t->cols - 2 < 112 ? t->cols - 2 : 112) - 4;
}

/* Build the list; the selected row's line in *sel_line. */
static void
picker_build(struct tui *t, int *sel_line)
{
	struct lab_progress p;
	lab_progress_load(&p);
	int w = picker_width(t);
	doc_reset(&t->ovdoc, w);
	pk_n = lab_ordered(pk_v, ARRAY_SIZE(pk_v));
	const char *stage = NULL;
	*sel_line = 0;
	int gw = w - 2 - 28 - 10;
	for (size_t i = 0; i < pk_n; i++) {
		const char *st = lab_stage(pk_v[i]);
		if (!stage || strcmp(stage, st)) {
			stage = st;
			if (i)
				doc_nl(&t->ovdoc);
			doc_heading(&t->ovdoc, lab_stage_title(st));
		}
		const struct lab_lesson *l = lab_lesson(pk_v[i]->name);
		bool on = (int)i == t->ws.sel;
		doc_nl(&t->ovdoc);
		if (on)
			*sel_line = (int)t->ovdoc.n - 1;
		int sty = on ? ST_SELECTED : ST_NORMAL;
		char row[512];
		snprintf(row, sizeof row, "%-27.27s %-9s ", pk_v[i]->name,
			 l ? lab_level_name(l->level) : "");
		doc_add(&t->ovdoc, on ? ST_SELECTED : ST_OK,
			lab_progress_done(&p, pk_v[i]->name) ? mark_u8(MK_OK) : " ");
		doc_add(&t->ovdoc, sty, " ");
		doc_add(&t->ovdoc, on ? ST_SELECTED : ST_BOLD, row);
		char goal[256];
		snprintf(goal, sizeof goal, "%s", l ? l->goal : pk_v[i]->desc);
		/* cut to the room left, by display width */
		while (u8_width(goal) > gw && *goal) {
			size_t n = strlen(goal);
			do
				n--;
			while (n && (goal[n] & 0xc0) == 0x80);
			goal[n] = '\0';
		}
		doc_add(&t->ovdoc, on ? ST_SELECTED : ST_DIM, goal);
	}
}

static void
picker_open(struct tui *t)
{
	/* start on the scenario in use, unless that would tell a mystery */
	t->ws.sel = 0;
	size_t n = lab_ordered(pk_v, ARRAY_SIZE(pk_v));
	for (size_t i = 0; i < n && t->ws.sc && !ws_secret(t); i++)
		if (pk_v[i] == t->ws.sc)
			t->ws.sel = (int)i;
	t->ov_top = 0;
}

static void
picker_resize(struct tui *t, int *h, int *w)
{
	int sl;
	picker_build(t, &sl);
	*w = picker_width(t) + 4;
	*h = t->rows - 2;
}

static void
picker_draw(struct tui *t, unsigned dirty)
{
	(void)dirty;
	int sl;
	picker_build(t, &sl);
	int inner = getmaxy(t->ov) - 3;
	if (sl < t->ov_top + 1)
		t->ov_top = sl - 1 < 0 ? 0 : sl - 1;
	if (sl >= t->ov_top + inner)
		t->ov_top = sl - inner + 1;
	snprintf(t->ov_title, sizeof t->ov_title, "Lab scenarios (%zu)", pk_n);
	docview_draw(t);
	int h, wd;
	getmaxyx(t->ov, h, wd);
	const char *hint = " Enter run  f fix-it  ? mystery  Esc close ";
	put_fill(t->ov, h - 1, 2, wd - 4, ST_BORDER_FOCUS, 0);
	ui_hline(t->ov, h - 1, 1, wd - 2);
	put_str(t->ov, h - 1, wd - 2 - u8_width(hint), hint, wd - 4, ST_DIM, 0,
		false);
}

static void
picker_key(struct tui *t, int action, wint_t ch, bool keycode)
{
	(void)ch;
	(void)keycode;
	int page = t->ov ? getmaxy(t->ov) / 2 : 10;
	const struct lab_scenario *sc = t->ws.sel >= 0 && (size_t)t->ws.sel < pk_n ?
					pk_v[t->ws.sel] : NULL;
	switch (action) {
	case PK_UP: t->ws.sel--; break;
	case PK_DOWN: t->ws.sel++; break;
	case PK_PGUP: t->ws.sel -= page; break;
	case PK_PGDN: t->ws.sel += page; break;
	case PK_HOME: t->ws.sel = 0; break;
	case PK_END: t->ws.sel = (int)pk_n - 1; break;
	case PK_CLOSE: ui_close(t); return;
	case PK_RUN:
		if (sc)
			ws_switch(t, sc, WS_PLAIN);
		return;
	case PK_FIX:
		if (!sc)
			return;
		if (!lab_fixable(sc)) {
			const struct lab_lesson *l = lab_lesson(sc->name);
			if (!sc->expect_exit)
				tui_message(t, false, "%s passes already: nothing "
					    "to fix.", sc->name);
			else if (l)
				tui_message(t, false, "%s: %s%s.", sc->name,
					    l->client ? "not with the form: " :
					    "the fix is on the server's side: ",
					    l->fix);
			return;
		}
		ws_switch(t, sc, WS_FIXIT);
		return;
	case PK_MYSTERY: {
		t->ws.seed = t->ws.seed * 1103515245u + 12345u +
			     (unsigned)time(NULL);
		const struct lab_scenario *m = lab_mystery_pick(t->ws.seed);
		if (m)
			ws_switch(t, m, WS_MYSTERY);
		return;
	}
	default:
		return;
	}
	if (t->ws.sel < 0)
		t->ws.sel = 0;
	if ((size_t)t->ws.sel >= pk_n)
		t->ws.sel = pk_n ? (int)pk_n - 1 : 0;
	t->dirty |= DIRTY_OVERLAY;
}

const struct screen screen_picker = {
	.name = "Lab scenarios",
	.overlay = true,
	.keys = picker_keys,
	.open = picker_open,
	.draw = picker_draw,
	.key = picker_key,
	.resize = picker_resize,
};


/* ---- naming the diagnosis (mystery) ------------------------------------------------ */

enum { GS_UP = KA_FIRST, GS_DOWN, GS_PICK, GS_CLOSE };

static const struct keydef guess_keys[] = {
	{ KEY_UP, true, GS_UP, "Up", "the choice above", NULL, 0, "Name it" },
	{ 'k', false, GS_UP, "k", NULL, NULL, 0, NULL },
	{ KEY_DOWN, true, GS_DOWN, "Down", "the choice below", NULL, 0, NULL },
	{ 'j', false, GS_DOWN, "j", NULL, NULL, 0, NULL },
	{ '\r', false, GS_PICK, "Enter", "this is my answer", NULL, 0, NULL },
	{ '\n', false, GS_PICK, "Enter", NULL, NULL, 0, NULL },
	{ KEY_ENTER, true, GS_PICK, "Enter", NULL, NULL, 0, NULL },
	{ 27, false, GS_CLOSE, "Esc", "close (answer later)", NULL, 0, NULL },
	{ 'q', false, GS_CLOSE, "q", NULL, NULL, 0, NULL },
	{ 0, false, 0, NULL, NULL, NULL, 0, NULL }
};

static void
guess_build(struct tui *t)
{
	struct doc *d = &t->ovdoc;
	doc_reset(d, docview_width(t));
	if (!t->ws.named) {
		doc_wrap(d, 0, NULL, 0, ST_NORMAL, "What went wrong?  Choose the "
			 "diagnosis (Up/Down, Enter; 1-5 choose at once):");
		doc_nl(d);
		for (size_t i = 0; i < t->ws.nchoices; i++) {
			doc_nl(d);
			bool on = (int)i == t->ws.sel;
			doc_addf(d, on ? ST_SELECTED : ST_KEY, " %zu ", i + 1);
			doc_addf(d, on ? ST_SELECTED : ST_BOLD, " %-36s", t->ws.choices[i]);
		}
		return;
	}
	const struct lab_scenario *sc = t->ws.sc;
	int id = diag_from_id(sc->expect);
	const struct diag_info *di = id >= 0 ? diag_info((enum diag_id)id) : NULL;
	if (t->ws.right)
		doc_wrap(d, 2, mark_u8(MK_OK), ST_OK, ST_OK, "Right.");
	else
		doc_wrap(d, 2, mark_u8(MK_FAIL), ST_FAIL, ST_FAIL, "Not this time.");
	doc_nl(d);
	char *v = xasprintf("%s: %s", sc->expect, di ? di->title : "");
	doc_wrap(d, 11, "Answer", ST_LABEL, ST_BOLD, v);
	free(v);
	v = xasprintf("%s (smtpdx --lab %s)", sc->name, sc->name);
	doc_wrap(d, 11, "Scenario", ST_LABEL, ST_NORMAL, v);
	free(v);
	doc_wrap(d, 11, "What", ST_LABEL, ST_NORMAL, sc->desc);
	const struct lab_lesson *l = lab_lesson(sc->name);
	if (l)
		doc_wrap(d, 11, "The fix", ST_LABEL, ST_NORMAL, l->fix);
	doc_nl(d);
	doc_wrap(d, 0, NULL, 0, ST_HINT, "The diagnosis and the tree are shown now "
		 "(3, T).  Esc closes; L: another scenario.");
}

static void
guess_open(struct tui *t)
{
	t->ws.sel = 0;
	t->ov_top = 0;
}

static void
guess_resize(struct tui *t, int *h, int *w)
{
	guess_build(t);
	docview_size(t, h, w);
}

static void
guess_draw(struct tui *t, unsigned dirty)
{
	(void)dirty;
	guess_build(t);
	snprintf(t->ov_title, sizeof t->ov_title, t->ws.named ? "The answer" :
		 "Name the diagnosis");
	docview_draw(t);
}

static void
guess_key(struct tui *t, int action, wint_t ch, bool keycode)
{
	if (action == GS_CLOSE) {
		ui_close(t);
		t->dirty = DIRTY_ALL;
		return;
	}
	if (t->ws.named) {
		if (action == GS_PICK)
			ui_close(t);
		t->dirty = DIRTY_ALL;
		return;
	}
	if (!keycode && ch >= '1' && ch < '1' + (wint_t)t->ws.nchoices) {
		t->ws.sel = (int)(ch - '1');
		action = GS_PICK;
	}
	switch (action) {
	case GS_UP: if (t->ws.sel > 0) t->ws.sel--; break;
	case GS_DOWN:
		if ((size_t)t->ws.sel + 1 < t->ws.nchoices)
			t->ws.sel++;
		break;
	case GS_PICK:
		t->ws.named = true;
		t->ws.right = !strcmp(t->ws.choices[t->ws.sel], t->ws.sc->expect);
		ws_progress(t, true, t->ws.right);
		ui_place(t);
		t->dirty = DIRTY_ALL;
		tui_message(t, false, t->ws.right ? "Right: %s." :
			    "Not this time: it was %s.", t->ws.sc->expect);
		return;
	}
	t->dirty |= DIRTY_OVERLAY;
}

const struct screen screen_guess = {
	.name = "Name the diagnosis",
	.overlay = true,
	.keys = guess_keys,
	.open = guess_open,
	.draw = guess_draw,
	.key = guess_key,
	.resize = guess_resize,
};


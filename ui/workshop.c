/*
 * workshop.c - the lab as a workshop (issue 14): the scenario picker
 * (`L`), mystery mode (the scenario's name hidden until the student
 * names the diagnosis, `d`), fix-it mode (the client's settings are
 * wrong: fix them with `e`, hints one at a time with `h`), and the score
 * kept in the student's state directory.
 *
 * Mystery mode hides the name everywhere the screen could show it: the
 * header, the plan, the verdict, the diagnosis pane and the tree (until
 * named), the help, the save prompt.  ws_secret() is the one question
 * every one of those asks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ui.h"
#include "../src/diag.h"
#include "../src/lab/workshop.h"
#include "../src/util.h"

#define MODE_PLAIN	0
#define MODE_MYSTERY	1
#define MODE_FIXIT	2

/*
 * The lab's login, for the header and the plan: the password is drawn
 * when the student needs it (the session has another one, or no login:
 * the password exercises), never when it is the session's own or about
 * to be asked for, since a password in use is never drawn
 * (tests/secrets.py).  `?` always says it.
 */
const char *
ws_login(const struct tui *t, char *buf, size_t len)
{
	if (!t->ws.sc)
		return NULL;
	const char *pw = t->cfg->password;
	if (t->cfg->user && (!pw || !strcmp(pw, LAB_PASSWORD)))
		snprintf(buf, len, "%s, the lab's password (? shows it)", LAB_USER);
	else
		snprintf(buf, len, "%s / %s", LAB_USER, LAB_PASSWORD);
	return buf;
}

bool
ws_secret(const struct tui *t)
{
	return t->ws.sc && t->ws.mode == MODE_MYSTERY && !t->ws.named;
}

const char *
ws_label(const struct tui *t)
{
	if (!t->ws.sc)
		return NULL;
	return ws_secret(t) ? "mystery" : t->ws.sc->name;
}

static void
set_scenario(struct tui *t, const struct lab_scenario *sc, int mode)
{
	t->ws.sc = sc;
	t->ws.mode = mode;
	t->ws.named = t->ws.right = t->ws.solved = false;
	t->ws.hints = 0;
	t->ws.nchoices = 0;
	if (sc && mode == MODE_MYSTERY)
		t->ws.nchoices = lab_mystery_choices(sc, t->ws.seed, t->ws.choices,
						     ARRAY_SIZE(t->ws.choices));
}

void
ws_init(struct tui *t)
{
	t->ws.seed = t->opts->lab_seed;
	set_scenario(t, t->opts->lab_name ? lab_find(t->opts->lab_name) : NULL,
		     t->opts->lab_mode);
}

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
	set_scenario(t, sc, mode);
	ui_close(t);
	tui_restart(t);
	if (mode == MODE_MYSTERY)
		tui_message(t, false, "A mystery: step through (n, r), then d names "
			    "what went wrong.");
	else if (mode == MODE_FIXIT)
		tui_message(t, false, "Fix it: make the session pass.  e changes the "
			    "settings, h gives a hint.");
	else
		tui_message(t, false, "Lab scenario %s: n steps, r runs.", sc->name);
}

/* ---- what the session screen asks ------------------------------------------ */

void
ws_plan(const struct tui *t, struct doc *d)
{
	const struct lab_scenario *sc = t->ws.sc;
	if (!sc)
		return;
	const struct lab_lesson *l = lab_lesson(sc->name);
	char *v;
	if (ws_secret(t))
		v = xstrdup("a mystery: a scenario chosen at random.  Step through, "
			    "then d names what went wrong.");
	else if (t->ws.mode == MODE_FIXIT)
		v = xasprintf("fix-it on %s: make the session pass by changing the "
			      "settings (e); h gives a hint.", sc->name);
	else
		v = xasprintf("%s%s%s", sc->name, l ? ": " : "", l ? l->goal : "");
	doc_wrap(d, 9, "Lab", ST_LABEL, ST_NORMAL, v);
	free(v);
	if (l && !ws_secret(t) && t->ws.mode != MODE_FIXIT) {
		v = xasprintf("%s, %s", lab_level_name(l->level),
			      lab_stage_title(lab_stage(sc)));
		doc_wrap(d, 9, "Level", ST_LABEL, ST_DIM, v);
		free(v);
	} else if (l && t->ws.mode == MODE_FIXIT) {
		doc_wrap(d, 9, "Goal", ST_LABEL, ST_NORMAL, l->goal);
	}
	char login[128];
	doc_wrap(d, 9, "Lab login", ST_LABEL, ST_NORMAL, ws_login(t, login,
								  sizeof login));
}

/* The diagnosis pane while the answer is hidden: what each step did,
 * never the tree's words or the diagnosis. */
void
ws_hidden(const struct tui *t, struct doc *d)
{
	const struct session *s = t->s;
	doc_nl(d);
	doc_wrap(d, 2, mark_u8(MK_STAR), ST_NOTE, ST_BOLD, "A mystery: the diagnosis "
		 "is hidden until you name it.");
	doc_nl(d);
	for (int st = 0; st < STEP_COUNT; st++) {
		if (s->status[st] == SS_PENDING || s->status[st] == SS_SKIPPED)
			continue;
		enum mark m = s->status[st] == SS_OK ? MK_OK : s->status[st] ==
			      SS_FAIL ? MK_FAIL : s->status[st] == SS_WARN ? MK_WARN :
			      MK_SKIPPED;
		char *v = xasprintf("%s %s", mark_u8(m), step_name((enum step)st));
		doc_wrap(d, 4, NULL, 0, s->status[st] == SS_FAIL ? ST_FAIL :
			 ST_NORMAL, v);
		free(v);
	}
	doc_nl(d);
	doc_wrap(d, 2, NULL, 0, ST_HINT, s->finished ?
		 "Read the transcript (Enter explains a line, v the teaching "
		 "view).  Then d: name the diagnosis." :
		 "n runs the next step, r runs to the end.");
}

void
ws_help(struct doc *d, const struct tui *t)
{
	if (!t->ws.sc)
		return;
	doc_nl(d);
	doc_heading(d, "The lab");
	const struct lab_lesson *l = lab_lesson(t->ws.sc->name);
	if (ws_secret(t))
		doc_wrap(d, 12, "Scenario", ST_LABEL, ST_NORMAL, "hidden (a "
			 "mystery): d names the diagnosis");
	else
		doc_wrap(d, 12, "Scenario", ST_LABEL, ST_NORMAL, t->ws.sc->name);
	if (l && !ws_secret(t))
		doc_wrap(d, 12, "Goal", ST_LABEL, ST_NORMAL, l->goal);
	char *v = xasprintf("user %s, password %s", LAB_USER, LAB_PASSWORD);
	doc_wrap(d, 12, "Login", ST_LABEL, ST_NORMAL, v);
	free(v);
	v = xasprintf("from %s to %s; the server is %s", LAB_FROM, LAB_TO,
		      LAB_SERVERNAME);
	doc_wrap(d, 12, "Mail", ST_LABEL, ST_NORMAL, v);
	free(v);
	doc_wrap(d, 12, "L", ST_KEY, ST_NORMAL, "the scenarios by stage; Enter "
		 "runs one, f fixes one (fix-it), ? a mystery");
	struct lab_progress p;
	lab_progress_load(&p);
	v = xasprintf("mysteries named %d of %d, sessions fixed %d",
		      p.mystery_right, p.mystery_played, p.fixed);
	doc_wrap(d, 12, "Score", ST_LABEL, ST_NORMAL, v);
	free(v);
}

static void
progress(struct tui *t, bool mystery, bool right)
{
	struct lab_progress p;
	char err[256];
	lab_progress_load(&p);
	if (mystery) {
		p.mystery_played++;
		p.mystery_right += right;
	} else {
		p.fixed++;
	}
	if (right)
		lab_progress_mark(&p, t->ws.sc->name);
	if (lab_progress_save(&p, err, sizeof err) < 0)
		tui_message(t, true, "score not kept: %s", err);
}

/* The session just finished. */
void
ws_finished(struct tui *t)
{
	if (!t->ws.sc)
		return;
	if (ws_secret(t)) {
		tui_message(t, false, "Finished.  What went wrong?  d names the "
			    "diagnosis.");
		return;
	}
	if (t->ws.mode != MODE_FIXIT || t->ws.solved)
		return;
	if (session_exit_status(t->s) == 0) {
		t->ws.solved = true;
		progress(t, false, true);
		tui_message(t, false, "Fixed: the session passes.  L for another "
			    "scenario.");
	} else {
		tui_message(t, false, "Not fixed yet: e changes the settings, h "
			    "gives a hint.");
	}
}

void
ws_hint(struct tui *t)
{
	const struct lab_lesson *l = t->ws.sc ? lab_lesson(t->ws.sc->name) : NULL;
	if (!l) {
		tui_message(t, false, "Hints are for the lab's scenarios (L).");
		return;
	}
	if (ws_secret(t)) {
		tui_message(t, false, "No hints in a mystery: read the transcript; "
			    "Enter explains a line.");
		return;
	}
	if (!l->client) {
		tui_message(t, false, "The fix is on the server's side: %s.", l->fix);
		return;
	}
	int n = lab_hint_count(l);
	if (!n) {
		tui_message(t, false, "%s.", l->fix);
		return;
	}
	int k = t->ws.hints < n ? t->ws.hints : n - 1;
	if (t->ws.hints < n)
		t->ws.hints++;
	tui_message(t, false, "Hint %d of %d: %s", k + 1, n, l->hints[k]);
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
			ws_switch(t, sc, MODE_PLAIN);
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
		ws_switch(t, sc, MODE_FIXIT);
		return;
	case PK_MYSTERY: {
		t->ws.seed = t->ws.seed * 1103515245u + 12345u +
			     (unsigned)time(NULL);
		const struct lab_scenario *m = lab_mystery_pick(t->ws.seed);
		if (m)
			ws_switch(t, m, MODE_MYSTERY);
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

void
ws_picker(struct tui *t)
{
	if (!t->opts->lab_switch) {
		tui_message(t, false, "L lists the lab's scenarios: start smtpdx "
			    "--lab.");
		return;
	}
	if (session_busy(t->s)) {
		tui_message(t, false, "A step is under way: wait for it, or Esc "
			    "cancels it; then L.");
		return;
	}
	ui_open(t, SCREEN_PICKER);
}

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
		progress(t, true, t->ws.right);
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

void
ws_name_it(struct tui *t)
{
	if (!t->ws.sc || t->ws.mode != MODE_MYSTERY) {
		tui_message(t, false, "d names the diagnosis in a mystery (L, then ?).");
		return;
	}
	if (t->ws.named) {
		ui_open(t, SCREEN_GUESS);
		return;
	}
	if (!t->s->finished) {
		tui_message(t, false, "Step through first (n, r); then d names what "
			    "went wrong.");
		return;
	}
	ui_open(t, SCREEN_GUESS);
}

/*
 * layout.c - where the regions go, for the size the terminal has now.
 *
 *   >=  80 x 24   STACKED  steps | transcript on top, decision tree below
 *   >= 112 x 16   WIDE     steps | transcript | decision tree, side by side
 *                          (short and wide: fewer than 24 rows)
 *   >=  60 x 16   TABS     one region at a time; Tab or 1 2 3 switch
 *   smaller       a "terminal too small" notice
 *
 * Of the layouts that show several regions, a larger terminal never gives
 * the transcript fewer columns: STACKED gives it all but the steps'
 * column, and grows with the terminal; WIDE, only where STACKED cannot
 * be, keeps at least the 60 columns it has at 80x24.
 *
 * A row of header above, a row of footer below, always.  layout_apply() is
 * the one place that reacts to a size change (KEY_RESIZE): it remakes the
 * windows and marks everything dirty; the state they show lives in struct
 * tui, so nothing is lost.  A screen's own windows (the port advisor's)
 * are its own: ui_relayout() (core.c) asks it for them after this.  Borders are curses' own line drawing (ACS),
 * which every terminal with an acsc capability draws as lines and the rest
 * as + - |.
 */
#include <string.h>

#include "ui.h"

#define MIN_COLS	60
#define MIN_ROWS	16
#define WIDE_COLS	112	/* the transcript keeps TRANS_MIN columns */
#define TRANS_MIN	60	/* what it has at 80x24, borders included */
#define STEPS_COLS	20
#define STACK_COLS	80
#define STACK_ROWS	24
#define STEPS_ROWS	14	/* 12 steps and a border */

static const char *const region_names[RG_COUNT] = {
	"Steps", "Transcript", "Decision tree"
};

static void
del(WINDOW **w)
{
	if (*w) {
		delwin(*w);
		*w = NULL;
	}
}

void
layout_free(struct tui *t)
{
	del(&t->header);
	del(&t->footer);
	for (int i = 0; i < RG_COUNT; i++)
		del(&t->rg[i]);
	del(&t->ov);
}

WINDOW *
ui_newwin(int h, int w, int y, int x)
{
	if (h < 1)
		h = 1;
	if (w < 1)
		w = 1;
	WINDOW *win = newwin(h, w, y, x);
	if (win)
		leaveok(win, TRUE);
	return win;
}

void
layout_apply(struct tui *t)
{
	layout_free(t);
	getmaxyx(stdscr, t->rows, t->cols);
	int rows = t->rows, cols = t->cols;

	if (cols < MIN_COLS || rows < MIN_ROWS)
		t->mode = LM_TOO_SMALL;
	else if (cols >= STACK_COLS && rows >= STACK_ROWS)
		t->mode = LM_STACKED;
	else if (cols >= WIDE_COLS)
		t->mode = LM_WIDE;
	else
		t->mode = LM_TABS;

	/* wnoutrefresh of the new windows paints over everything; the
	 * old contents of stdscr must not come back */
	werase(stdscr);
	wnoutrefresh(stdscr);
	t->dirty = DIRTY_ALL;
	if (t->mode == LM_TOO_SMALL)
		return;

	int body = rows - 2;
	t->header = ui_newwin(1, cols, 0, 0);
	t->footer = ui_newwin(1, cols, rows - 1, 0);

	if (t->mode == LM_TABS || t->zoom) {
		for (int i = 0; i < RG_COUNT; i++)
			t->rg[i] = ui_newwin(body, cols, 1, 0);
	} else if (t->mode == LM_WIDE) {
		/* the decision tree gets its share, but never at the cost of
		 * the transcript: a larger terminal never gives it fewer
		 * columns than 80x24 does (the width grows with cols) */
		int sw = STEPS_COLS;
		int dw = (cols - sw) * 9 / 20;
		if (dw < 32)
			dw = 32;
		if (dw > 64)
			dw = 64;
		if (dw > cols - sw - TRANS_MIN)
			dw = cols - sw - TRANS_MIN;
		int tw = cols - sw - dw;
		t->rg[RG_STEPS] = ui_newwin(body, sw, 1, 0);
		t->rg[RG_TRANS] = ui_newwin(body, tw, 1, sw);
		t->rg[RG_DIAG] = ui_newwin(body, dw, 1, sw + tw);
	} else {
		int top = body / 2 > STEPS_ROWS ? body / 2 : STEPS_ROWS;
		t->rg[RG_STEPS] = ui_newwin(top, 20, 1, 0);
		t->rg[RG_TRANS] = ui_newwin(top, cols - 20, 1, 20);
		t->rg[RG_DIAG] = ui_newwin(body - top, cols, 1 + top, 0);
	}
}

bool
region_visible(const struct tui *t, enum region r)
{
	if (t->mode == LM_TOO_SMALL || !t->rg[r])
		return false;
	if (t->mode == LM_TABS || t->zoom)
		return r == t->focus;
	return true;
}

void
region_inner(const struct tui *t, enum region r, int *h, int *w)
{
	int hh = 0, ww = 0;
	if (t->rg[r])
		getmaxyx(t->rg[r], hh, ww);
	*h = hh - 2 > 0 ? hh - 2 : 0;
	*w = ww - 2 > 0 ? ww - 2 : 0;
}

/* The tab row in the top border: " 1 Steps  2 Transcript  3 Decision tree " */
static int
draw_tabs(struct tui *t, WINDOW *w, int wd)
{
	int x = 2;
	for (int i = 0; i < RG_COUNT; i++) {
		char label[48];
		snprintf(label, sizeof label, " %d %s ", i + 1,
			 i == RG_DIAG && t->s && t->s->finished ? "Diagnosis" :
			 region_names[i]);
		int st = (enum region)i == t->focus ? ST_TAB_ON : ST_TAB;
		x += put_str(w, 0, x, label, wd - x - 1, st, 0, false);
		if (x < wd - 2) {
			x += 1;
		}
	}
	return x;
}

/*
 * Borders: in a UTF-8 locale the box-drawing characters themselves (they
 * survive terminals that mishandle the alternate character set in UTF-8
 * mode, and tmux captures); elsewhere curses' ACS line drawing, which
 * terminfo maps to the terminal's own lines or to + - |.
 */
void
ui_box(WINDOW *w)
{
	if (!ui_utf8) {
		box(w, 0, 0);
		return;
	}
	cchar_t v, h, tl, tr, bl, br;
	attr_t a;
	short pair;
	wattr_get(w, &a, &pair, NULL);
	setcchar(&v, L"\u2502", a, pair, NULL);
	setcchar(&h, L"\u2500", a, pair, NULL);
	setcchar(&tl, L"\u256d", a, pair, NULL);
	setcchar(&tr, L"\u256e", a, pair, NULL);
	setcchar(&bl, L"\u2570", a, pair, NULL);
	setcchar(&br, L"\u256f", a, pair, NULL);
	wborder_set(w, &v, &v, &h, &h, &tl, &tr, &bl, &br);
}

void
ui_hline(WINDOW *w, int y, int x, int n)
{
	if (!ui_utf8) {
		mvwhline(w, y, x, ACS_HLINE, n);
		return;
	}
	cchar_t h;
	attr_t a;
	short pair;
	wattr_get(w, &a, &pair, NULL);
	setcchar(&h, L"\u2500", a, pair, NULL);
	mvwhline_set(w, y, x, &h, n);
}

void
region_frame(struct tui *t, enum region r, const char *title, const char *right)
{
	WINDOW *w = t->rg[r];
	int h, wd;
	getmaxyx(w, h, wd);
	(void)h;
	bool focused = r == t->focus && t->mode != LM_TABS && !t->zoom &&
		       r != RG_STEPS;
	style_set(w, focused ? ST_BORDER_FOCUS : ST_BORDER, 0);
	ui_box(w);
	int x;
	if (t->mode == LM_TABS || t->zoom) {
		x = draw_tabs(t, w, wd);
		if (t->zoom && t->mode != LM_TABS)
			x += put_str(w, 0, x, " z: back ", wd - x - 2, ST_DIM, 0, false);
	} else {
		char label[64];
		snprintf(label, sizeof label, " %d %s ", (int)r + 1,
			 title ? title : region_names[r]);
		x = 1 + put_str(w, 0, 1, label, wd - 3, focused ? ST_TAB_ON : ST_TITLE,
				0, true);
	}
	if (right && *right) {
		int rw = u8_width(right) + 2;
		if (wd - rw - 1 > x) {
			put_str(w, 0, wd - rw - 1, " ", 1, ST_DIM, 0, false);
			put_str(w, 0, wd - rw, right, rw - 2, ST_DIM, 0, false);
			put_str(w, 0, wd - 2, " ", 1, ST_DIM, 0, false);
		}
	}
	style_set(w, ST_NORMAL, 0);
}

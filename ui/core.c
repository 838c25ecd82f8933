/*
 * core.c - the machinery every screen uses: which screen is shown, keys
 * through the key tables, the footer's key hints and the help made from
 * the same tables, messages and questions in the footer, the overlay's
 * window, and the one draw of a turn.
 *
 * It knows screens only through the registry (ui_screen[], filled by
 * tui.c), never by name: no ui/ file below tui.c depends on a screen.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui.h"
#include "../src/util.h"

#define MSG_SECONDS 6.0

const struct screen *ui_screen[SCREEN_COUNT];

/* ---- messages and questions ------------------------------------------------ */

void
tui_message(struct tui *t, bool err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *m = xvasprintf(fmt, ap);
	va_end(ap);
	/* the message is shown by curses: make it safe text first */
	char *v = vis_escape(m, strlen(m));
	snprintf(t->msg, sizeof t->msg, "%s", v);
	free(v);
	free(m);
	t->msg_err = err;
	t->msg_until = now_mono() + (err ? 2 * MSG_SECONDS : MSG_SECONDS);
	t->dirty |= DIRTY_FOOTER;
}

void
ui_ask(struct tui *t, enum screen_id who, int yes, const char *no_words,
       const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *m = xvasprintf(fmt, ap);
	va_end(ap);
	char *v = vis_escape(m, strlen(m));
	snprintf(t->ask_q, sizeof t->ask_q, "%s  y: yes, any other key: no", v);
	free(v);
	free(m);
	snprintf(t->ask_no, sizeof t->ask_no, "%s", no_words);
	t->ask = true;
	t->ask_screen = who;
	t->ask_yes = yes;
	t->msg[0] = '\0';
	t->dirty |= DIRTY_FOOTER;
}

void
ui_answer(struct tui *t, bool yes)
{
	t->ask = false;
	t->dirty |= DIRTY_FOOTER;
	if (yes)
		ui_screen[t->ask_screen]->key(t, t->ask_yes, 'y', false);
	else
		tui_message(t, false, "%s", t->ask_no);
}

/* ---- the overlay's window -------------------------------------------------- */

void
overlay_open(struct tui *t, int h, int w)
{
	if (t->ov) {
		delwin(t->ov);
		t->ov = NULL;
	}
	if (t->mode == LM_TOO_SMALL)
		return;
	int maxh = t->rows - 2, maxw = t->cols - 2;
	if (h > maxh)
		h = maxh;
	if (w > maxw)
		w = maxw;
	int y = 1 + (t->rows - 2 - h) / 2;
	int x = (t->cols - w) / 2;
	t->ov = newwin(h, w, y, x);
	if (t->ov)
		leaveok(t->ov, TRUE);
	t->dirty |= DIRTY_OVERLAY;
}

void
overlay_close(struct tui *t)
{
	if (t->ov) {
		delwin(t->ov);
		t->ov = NULL;
	}
	t->dirty = DIRTY_ALL;
}

void
ui_place(struct tui *t)
{
	if (t->over == SCREEN_NONE || t->mode == LM_TOO_SMALL) {
		if (t->ov)
			overlay_close(t);
		return;
	}
	int h = 10, w = t->cols - 2 < 84 ? t->cols - 2 : 84;
	const struct screen *sc = ui_screen[t->over];
	if (sc->resize)
		sc->resize(t, &h, &w);
	overlay_open(t, h, w);
}

void
ui_relayout(struct tui *t)
{
	layout_apply(t);
	const struct screen *b = ui_screen[t->body];
	if (b->resize && t->mode != LM_TOO_SMALL)
		b->resize(t, NULL, NULL);
	if (t->over != SCREEN_NONE)
		ui_place(t);
	t->dirty = DIRTY_ALL;
}

/* ---- screens ----------------------------------------------------------------- */

void
ui_close(struct tui *t)
{
	if (t->over == SCREEN_NONE)
		return;
	const struct screen *sc = ui_screen[t->over];
	if (sc->close)
		sc->close(t);
	t->over = SCREEN_NONE;
	t->ov_cury = t->ov_curx = -1;
	t->find.active = t->find.typing = false;
	overlay_close(t);
	t->dirty |= DIRTY_FOOTER;
}

void
ui_open(struct tui *t, enum screen_id id)
{
	const struct screen *sc = ui_screen[id];
	if (sc->overlay) {
		if (t->over != SCREEN_NONE && ui_screen[t->over]->close)
			ui_screen[t->over]->close(t);
		t->over = id;
		t->find.active = t->find.typing = false;
		t->find.line = -1;
		t->ov_top = 0;
		t->ov_title[0] = '\0';
		t->ov_cury = t->ov_curx = -1;
		if (sc->open)
			sc->open(t);
		ui_place(t);
		t->dirty |= DIRTY_OVERLAY | DIRTY_FOOTER;
		return;
	}
	ui_close(t);
	const struct screen *old = ui_screen[t->body];
	if (t->body != id && old->close)
		old->close(t);
	t->body = id;
	t->cl_on = false;
	t->msg[0] = '\0';
	if (sc->open)
		sc->open(t);
	ui_relayout(t);
}

const struct screen *
ui_keyscreen(const struct tui *t)
{
	return ui_screen[t->over != SCREEN_NONE ? t->over : t->body];
}

static const struct keydef *
find_key(const struct keydef *k, wint_t ch, bool keycode)
{
	for (; k && k->name; k++)
		if (k->ch == ch && k->code == keycode)
			return k;
	return NULL;
}

/* ---- `/`: search, for every screen that has a find member ------------------- */

static void
find_go(struct tui *t, const struct screen *sc, int dir)
{
	sc->find(t, dir);
	t->find.active = true;
	t->dirty |= DIRTY_ALL;
}

/* A key on the / line: text, Backspace, ^U; Enter searches; only Esc,
 * Enter and ^C leave it (no key typed here reaches the screen). */
static void
find_edit(struct tui *t, const struct screen *sc, wint_t ch, bool keycode)
{
	t->dirty |= DIRTY_FOOTER;
	if (keycode) {
		if (ch == KEY_BACKSPACE && t->find.n)
			t->find.n--;
		else if (ch == KEY_ENTER)
			goto enter;
		return;
	}
	switch (ch) {
	case 27:
	case 3:
		t->find.typing = false;
		return;
	case 127:
	case 8:
		if (t->find.n)
			t->find.n--;
		return;
	case 21:		/* ^U */
		t->find.n = 0;
		return;
	case '\r':
	case '\n':
		goto enter;
	}
	if (ch >= 32 && t->find.n + 1 < ARRAY_SIZE(t->find.w))
		t->find.w[t->find.n++] = (wchar_t)ch;
	return;
enter:
	t->find.typing = false;
	if (t->find.n)
		find_go(t, sc, 0);
}

/* The footer while searching: "/TEXT" being typed, or "/TEXT  K/M". */
static void
draw_find(struct tui *t)
{
	WINDOW *w = t->footer;
	werase(w);
	put_fill(w, 0, 0, t->cols, ST_NORMAL, 0);
	int x = put_str(w, 0, 0, "/", 1, ST_KEY, 0, false);
	x += put_wcs(w, 0, x, t->find.w, t->find.n, t->cols / 2, ST_BOLD, 0, true);
	t->cl_curx = x;
	if (t->find.typing) {
		put_str(w, 0, x + 2, "Enter search   Esc cancel", t->cols - x - 3,
			ST_DIM, 0, true);
	} else {
		char b[64];
		snprintf(b, sizeof b, "  %d/%d", t->find.k, t->find.m);
		x += put_str(w, 0, x, b, t->cols - x, t->find.m ? ST_BOLD : ST_ERR,
			     0, false);
		x += 2;
		static const struct keyhint h[] = {
			{ "n", "next" }, { "N", "previous" }, { "Esc", "end search" },
		};
		if (!t->find.m)
			x += put_str(w, 0, x, "no match  ", t->cols - x, ST_ERR, 0, false);
		for (size_t i = 0; i < ARRAY_SIZE(h); i++) {
			int used = put_hint(w, x, t->cols - x, &h[i]);
			if (used < 0)
				break;
			x += used;
		}
	}
	wnoutrefresh(w);
}

void
ui_key(struct tui *t, wint_t ch, bool keycode)
{
	const struct screen *sc = ui_keyscreen(t);
	bool typing = sc->typing && sc->typing(t);
	if (sc->find && t->find.typing) {
		find_edit(t, sc, ch, keycode);
		return;
	}
	if (sc->find && !typing && !keycode) {
		if (ch == '/') {
			t->find.typing = true;
			t->find.active = false;
			t->find.n = 0;
			t->dirty |= DIRTY_FOOTER;
			return;
		}
		if (t->find.active && (ch == 'n' || ch == 'N')) {
			find_go(t, sc, ch == 'n' ? 1 : -1);
			return;
		}
		if (t->find.active && ch == 27) {
			t->find.active = false;
			t->dirty |= DIRTY_FOOTER;
			return;
		}
	}
	/* search mode lasts while the keys move about */
	if (t->find.active && !(keycode && (ch == KEY_UP || ch == KEY_DOWN ||
					    ch == KEY_PPAGE || ch == KEY_NPAGE ||
					    ch == KEY_HOME || ch == KEY_END))) {
		t->find.active = false;
		t->dirty |= DIRTY_FOOTER;
	}
	if (typing) {
		sc->key(t, KA_NONE, ch, keycode);
		return;
	}
	const struct keydef *k = find_key(sc->keys, ch, keycode);
	sc->key(t, k ? k->action : KA_NONE, ch, keycode);
}

/* ---- the footer and the help, from the key tables ---------------------------- */

int
ui_footer_keys(struct tui *t, WINDOW *w, int x, const struct screen *sc)
{
	unsigned now = sc->state ? sc->state(t) : 0;
	const struct keydef *v[64];
	int n = 0;
	for (const struct keydef *k = sc->keys; k && k->name && n < 64; k++)
		if (k->footer && (k->when & now) == k->when)
			v[n++] = k;
	/* the last two (help, quit) are kept room for */
	int tail = n >= 2 ? 2 : n, tailw = 0;
	for (int i = n - tail; i < n; i++)
		tailw += u8_width(v[i]->name) + 1 + u8_width(v[i]->footer) + 2;
	for (int i = 0; i < n - tail; i++) {
		struct keyhint h = { v[i]->name, v[i]->footer };
		int used = put_hint(w, x, t->cols - x - tailw, &h);
		if (used < 0)
			break;
		x += used;
	}
	for (int i = n - tail; i < n; i++) {
		struct keyhint h = { v[i]->name, v[i]->footer };
		int used = put_hint(w, x, t->cols - x, &h);
		if (used < 0)
			break;
		x += used;
	}
	return x;
}

void
ui_help_keys(struct doc *d, const struct tui *t, const struct screen *sc)
{
	for (const struct keydef *k = sc->keys; k && k->name; k++) {
		if (k->section) {
			doc_nl(d);
			doc_heading(d, k->section);
		}
		if (!k->help)
			continue;
		/* the names of every key with this action: "n  space" */
		char names[96];
		size_t len = (size_t)snprintf(names, sizeof names, "%s", k->name);
		for (const struct keydef *o = k + 1; o->name && !o->help && !o->section;
		     o++) {
			if (o->action != k->action || strstr(names, o->name))
				continue;
			len += (size_t)snprintf(names + len, len < sizeof names ?
						sizeof names - len : 0, "  %s", o->name);
			if (len >= sizeof names)
				break;
		}
		doc_wrap(d, 15, names, ST_KEY, ST_NORMAL, k->help);
	}
	if (sc->help)
		sc->help(d, t);
}

/* ---- documents in an overlay ------------------------------------------------- */

int
docview_width(const struct tui *t)
{
	int w = t->cols - 2 < 84 ? t->cols - 2 : 84;
	return w - 4;
}

void
docview_size(struct tui *t, int *h, int *w)
{
	*w = docview_width(t) + 4;
	*h = (int)t->ovdoc.n + 3;
}

bool
docview_key(struct tui *t, int action)
{
	int h = t->ov ? getmaxy(t->ov) - 3 : 10;
	switch (action) {
	case KA_DOC_UP: t->ov_top--; break;
	case KA_DOC_DOWN: t->ov_top++; break;
	case KA_DOC_PGUP: t->ov_top -= h - 1; break;
	case KA_DOC_PGDN: t->ov_top += h - 1; break;
	case KA_DOC_HOME: t->ov_top = 0; break;
	case KA_DOC_END: t->ov_top = (int)t->ovdoc.n; break;
	case KA_DOC_CLOSE: ui_close(t); return true;
	default: return false;
	}
	t->dirty |= DIRTY_OVERLAY;
	return true;
}

void
docview_draw(struct tui *t)
{
	WINDOW *w = t->ov;
	int h, wd;
	getmaxyx(w, h, wd);
	int inner = h - 3;
	int maxtop = (int)t->ovdoc.n - inner;
	if (maxtop < 0)
		maxtop = 0;
	if (t->ov_top > maxtop)
		t->ov_top = maxtop;
	if (t->ov_top < 0)
		t->ov_top = 0;
	doc_draw(w, &t->ovdoc, t->ov_top, 1, 2, inner, wd - 4);
	const char *hint = maxtop > 0 ? " Up/Down/PgUp/PgDn scroll   Esc close " :
			   " Esc close ";
	put_str(w, h - 1, wd - 2 - u8_width(hint), hint, wd - 4, ST_DIM, 0, false);
	if (t->ov_top > 0)
		put_mark(w, 0, wd - 2, MK_UP, ST_BORDER_FOCUS, 0);
	if (t->ov_top < maxtop)
		put_mark(w, h - 1, 2, MK_DOWN, ST_BORDER_FOCUS, 0);
}

static bool
doc_match(const void *ctx, size_t i)
{
	const struct tui *t = ctx;
	const struct dline *l = &t->ovdoc.v[i];
	return find_in(l->w, l->n, t->find.w, t->find.n);
}

void
docview_find(struct tui *t, int dir)
{
	size_t cur = t->find.active && t->find.line >= 0 ? (size_t)t->find.line :
		     (size_t)(t->ov_top > 0 ? t->ov_top : 0);
	long at = find_pick(t->ovdoc.n, cur, dir, doc_match, t, &t->find.k,
			    &t->find.m);
	if (at < 0)
		return;
	t->find.line = (int)at;
	t->ov_top = (int)at - 1 > 0 ? (int)at - 1 : 0;
	t->dirty |= DIRTY_OVERLAY;
}

/* ---- the one draw of a turn -------------------------------------------------- */

static void
draw_too_small(struct tui *t)
{
	werase(stdscr);
	char buf[128];
	snprintf(buf, sizeof buf, "Terminal too small: %dx%d", t->cols, t->rows);
	int y = t->rows / 2 - 1;
	if (y < 0)
		y = 0;
	put_str(stdscr, y, 1, buf, t->cols - 2, ST_BOLD, 0, true);
	put_str(stdscr, y + 1, 1, "smtpdx needs at least 60x16.", t->cols - 2,
		ST_NORMAL, 0, true);
	put_str(stdscr, y + 2, 1, "q quits.", t->cols - 2, ST_DIM, 0, true);
	wnoutrefresh(stdscr);
}

static void
draw_overlay(struct tui *t)
{
	WINDOW *w = t->ov;
	const struct screen *sc = ui_screen[t->over];
	int wd = getmaxx(w);
	werase(w);
	style_set(w, ST_BORDER_FOCUS, 0);
	ui_box(w);
	t->ov_cury = t->ov_curx = -1;
	if (sc->draw)
		sc->draw(t, DIRTY_OVERLAY);
	char *tt = xasprintf(" %s ", *t->ov_title ? t->ov_title : sc->name);
	put_str(w, 0, 2, tt, wd - 4, ST_TAB_ON, 0, true);
	free(tt);
	touchwin(w);
	wnoutrefresh(w);
}

/* The footer while a question waits for its answer. */
static void
draw_question(struct tui *t)
{
	WINDOW *w = t->footer;
	werase(w);
	put_fill(w, 0, 0, t->cols, ST_BAR_WARN, 0);
	put_str(w, 0, 1, t->ask_q, t->cols - 2, ST_BAR_WARN, 0, true);
	wnoutrefresh(w);
}

void
ui_draw(struct tui *t)
{
	if (t->mode == LM_TOO_SMALL) {
		if (t->dirty)
			draw_too_small(t);
		t->dirty = 0;
		doupdate();
		return;
	}
	unsigned d = t->dirty;
	if (t->ov && (d & ~DIRTY_OVERLAY))
		d |= DIRTY_OVERLAY;	/* it sits on top of what changed */
	if (t->cl_on || t->find.typing || t->find.active)
		d |= DIRTY_FOOTER;
	if (d & ~DIRTY_OVERLAY)
		ui_screen[t->body]->draw(t, d);
	if (t->ask && (d & DIRTY_FOOTER))
		draw_question(t);
	else if ((t->find.typing || t->find.active) && (d & DIRTY_FOOTER))
		draw_find(t);
	if ((d & DIRTY_OVERLAY) && t->ov)
		draw_overlay(t);
	if ((t->cl_on || t->find.typing) && !t->ask) {
		/* the one visible cursor: on the command line */
		leaveok(t->footer, FALSE);
		wmove(t->footer, 0, t->cl_curx < t->cols ? t->cl_curx : t->cols - 1);
		wnoutrefresh(t->footer);
		curs_set(1);
	} else if (t->ov && t->ov_cury >= 0) {
		/* a form's field */
		leaveok(t->ov, FALSE);
		wmove(t->ov, t->ov_cury, t->ov_curx);
		wnoutrefresh(t->ov);
		curs_set(1);
	} else {
		if (t->footer)
			leaveok(t->footer, TRUE);
		curs_set(0);
	}
	t->dirty = 0;
	doupdate();
}

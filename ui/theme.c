/*
 * theme.c - the colour table and the marks.
 *
 * One colour pair per style, made from STYLE_LIST at start-up.  Without
 * colour (NO_COLOR, --no-color, a terminal without colours) every style
 * falls back to its monochrome attributes, which are chosen so that the
 * states still differ: failures are bold and underlined, the selected
 * line reversed, pending steps dim.
 */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>

#include "ui.h"

struct style_def {
	short fg, bg;
	attr_t color_attr, mono_attr;
};

static const struct style_def styles[ST_COUNT] = {
#define X(sym, fg, bg, ca, ma) [ST_##sym] = { fg, bg, ca, ma },
	STYLE_LIST(X)
#undef X
};

static bool use_color;

static const wchar_t *const marks_utf8[MK_COUNT] = {
#define X(sym, u, a) [MK_##sym] = u,
	MARK_LIST(X)
#undef X
};

static const wchar_t *const marks_ascii[MK_COUNT] = {
#define X(sym, u, a) [MK_##sym] = a,
	MARK_LIST(X)
#undef X
};

bool ui_utf8;

const wchar_t *
mark(enum mark m)
{
	if ((unsigned)m >= MK_COUNT)
		return L"?";
	return ui_utf8 ? marks_utf8[m] : marks_ascii[m];
}

const char *
mark_u8(enum mark m)
{
	static char cache[2][MK_COUNT][16];
	if ((unsigned)m >= MK_COUNT)
		return "?";
	char *c = cache[ui_utf8][m];
	if (!*c) {
		const wchar_t *w = mark(m);
		char *s = wcs_to_u8(w, wcslen(w));
		snprintf(c, sizeof cache[0][0], "%s", s);
		free(s);
	}
	return c;
}

void
theme_init(bool color)
{
	use_color = color && has_colors() && start_color() == OK;
	if (!use_color)
		return;
	/* -1 means the terminal's own colour; without default-colour support
	 * fall back to white on black */
	bool defaults = use_default_colors() == OK;
	for (int i = 0; i < ST_COUNT; i++) {
		short fg = styles[i].fg, bg = styles[i].bg;
		if (!defaults) {
			if (fg < 0)
				fg = COLOR_WHITE;
			if (bg < 0)
				bg = COLOR_BLACK;
		}
		init_pair((short)(i + 1), fg, bg);
	}
}

void
style_set(WINDOW *w, int st, attr_t extra)
{
	if ((unsigned)st >= ST_COUNT)
		st = ST_NORMAL;
	if (use_color)
		wattr_set(w, styles[st].color_attr | extra, (short)(st + 1), NULL);
	else
		wattr_set(w, styles[st].mono_attr | extra, 0, NULL);
}

/*
 * theme.c - the colour table.
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

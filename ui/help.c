/*
 * help.c - the key map (`?`), made from the key table of the screen below
 * it (screen.h), so that what `?` says and what the keys do never drift.
 *
 * On the session screen the keys of CONTRACT.md come first, in its words,
 * since workshop handouts name them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui.h"
#include "../src/util.h"

static const struct keydef help_keys[] = {
	DOC_KEYS,
	{ '/', false, KA_NONE, "/", "search; n N next and previous match", NULL,
	  0, NULL },
	{ '?', false, KA_DOC_CLOSE, "?", NULL, NULL, 0, NULL },
	{ 0, false, 0, NULL, NULL, NULL, 0, NULL }
};

static void
help_build(struct tui *t)
{
	doc_reset(&t->ovdoc, docview_width(t));
	ui_help_keys(&t->ovdoc, t, ui_screen[t->body]);
}

static void
help_resize(struct tui *t, int *h, int *w)
{
	help_build(t);
	docview_size(t, h, w);
}

static void
help_draw(struct tui *t, unsigned dirty)
{
	(void)dirty;
	snprintf(t->ov_title, sizeof t->ov_title, "Keys");
	docview_draw(t);
}

static void
help_key(struct tui *t, int action, wint_t ch, bool keycode)
{
	(void)ch;
	(void)keycode;
	docview_key(t, action);
}

const struct screen screen_help = {
	.name = "Keys",
	.overlay = true,
	.keys = help_keys,
	.draw = help_draw,
	.key = help_key,
	.resize = help_resize,
	.find = docview_find,
};

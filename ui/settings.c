/*
 * settings.c - the settings screen (`e`): the form of form.c on the
 * session's settings; Ctrl-S applies them and starts a new session.
 */
#include <stdio.h>
#include <stdlib.h>

#include "ui.h"
#include "../src/util.h"

static void
settings_open(struct tui *t)
{
	t->form = form_settings(t->cfg);
}

static void
settings_close(struct tui *t)
{
	form_free(t->form);
	t->form = NULL;
}

static void
settings_resize(struct tui *t, int *h, int *w)
{
	*w = t->cols - 2 < 72 ? t->cols - 2 : 72;
	*h = form_height(t->form);
}

static void
settings_draw(struct tui *t, unsigned dirty)
{
	int h, wd;
	(void)dirty;
	getmaxyx(t->ov, h, wd);
	form_draw(t->form, t->ov, h, wd, &t->ov_cury, &t->ov_curx);
}

static void
settings_key(struct tui *t, int action, wint_t ch, bool keycode)
{
	(void)action;
	enum form_rc rc = form_key(t->form, (int)ch, keycode);
	t->dirty |= DIRTY_OVERLAY | DIRTY_FOOTER;
	if (rc == FORM_MORE)
		return;
	if (rc == FORM_CANCEL) {
		ui_close(t);
		return;
	}
	char err[256];
	if (form_apply(t->form, t->cfg, err, sizeof err) < 0)
		return;
	ui_close(t);
	tui_restart(t);
	tui_message(t, false, "New settings: a new session is ready.  n steps, r "
		    "runs.");
}

static bool
settings_typing(const struct tui *t)
{
	(void)t;
	return true;
}

const struct screen screen_settings = {
	.name = "Settings",
	.overlay = true,
	.open = settings_open,
	.draw = settings_draw,
	.key = settings_key,
	.resize = settings_resize,
	.close = settings_close,
	.typing = settings_typing,
};

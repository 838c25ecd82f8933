/*
 * settings.c - the settings screen (`e`): the form of form.c on the
 * session's settings; Ctrl-S applies them and starts a new session,
 * Ctrl-P saves them as a [profile NAME] of the config file (profile.c
 * writes it; asked first when the profile exists).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui.h"
#include "../src/profile.h"
#include "../src/util.h"

enum { SE_REPLACE = KA_FIRST };

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

/* Ctrl-P, a name typed (or y to replace it): the form's settings as
 * [profile NAME]. */
static void
save_profile(struct tui *t, bool replace)
{
	char err[256];
	struct config n;
	const char *path = t->opts->config_path;
	if (!path) {
		form_error(t->form, "No config file to save a profile in.");
		return;
	}
	if (form_check(t->form, t->cfg, &n, err, sizeof err) < 0)
		return;
	char *name = form_profile_name(t->form);
	int rc = profile_save(path, name, &n, t->opts->base, replace, err,
			      sizeof err);
	config_free(&n);
	if (rc == 1) {
		form_info(t->form, "");		/* the name asked: the form again */
		char *no = xasprintf("Not saved: [profile %s] is as it was.", name);
		ui_ask(t, SCREEN_SETTINGS, SE_REPLACE, no, "Replace [profile %s] "
		       "in %s?", name, path);
		free(no);
	} else if (rc < 0) {
		form_error(t->form, err);
	} else {
		char *m = xasprintf("Saved [profile %s] in %s; p loads it.", name,
				    path);
		form_info(t->form, m);
		free(m);
	}
	free(name);
	t->dirty |= DIRTY_OVERLAY | DIRTY_FOOTER;
}

static void
settings_key(struct tui *t, int action, wint_t ch, bool keycode)
{
	if (action == SE_REPLACE) {	/* the answer to ui_ask: yes */
		if (t->form)
			save_profile(t, true);
		return;
	}
	enum form_rc rc = form_key(t->form, (int)ch, keycode);
	t->dirty |= DIRTY_OVERLAY | DIRTY_FOOTER;
	if (rc == FORM_MORE)
		return;
	if (rc == FORM_CANCEL) {
		ui_close(t);
		return;
	}
	if (rc == FORM_PROFILE) {
		save_profile(t, false);
		return;
	}
	char err[256];
	struct config n;
	if (form_check(t->form, t->cfg, &n, err, sizeof err) < 0)
		return;
	if (form_passcmd_changed(t->form, t->cfg)) {
		/* a keyring answers at once; 20 s at most */
		char *pw = password_command(n.password_command, 20, err, sizeof err);
		if (!pw) {
			form_error(t->form, err);
			config_free(&n);
			return;
		}
		config_set(&n.password, pw);
		wipe(pw, strlen(pw));
		free(pw);
	}
	config_free(t->cfg);
	*t->cfg = n;
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

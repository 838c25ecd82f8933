/*
 * profiles.c - the profile picker (`p`): the [profile NAME] sections of
 * the config file (src/profile.c reads it), the selected one's keys, and
 * Enter to load it: the profile over the settings the TUI started from
 * (the lab scenario's, or the defaults), as `--profile NAME` would, and
 * the session starts over.  A password is never in the file: the
 * profile's password-command or password-file gives one, or the session
 * asks, as at start-up.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui.h"
#include "../src/message.h"
#include "../src/profile.h"
#include "../src/util.h"

struct picker {
	char **names;
	int n, sel;
};

enum { PK_UP = KA_FIRST, PK_DOWN, PK_LOAD, PK_CLOSE, PK_HOME, PK_END };

static const struct keydef picker_keys[] = {
	{ KEY_UP, true, PK_UP, "Up", "the profile above", NULL, 0, "Profiles" },
	{ 'k', false, PK_UP, "k", NULL, NULL, 0, NULL },
	{ KEY_DOWN, true, PK_DOWN, "Down", "the profile below", NULL, 0, NULL },
	{ 'j', false, PK_DOWN, "j", NULL, NULL, 0, NULL },
	{ KEY_HOME, true, PK_HOME, "Home", "the first", NULL, 0, NULL },
	{ KEY_END, true, PK_END, "End", "the last", NULL, 0, NULL },
	{ '\r', false, PK_LOAD, "Enter", "load it: the session starts over with "
	  "it", NULL, 0, NULL },
	{ '\n', false, PK_LOAD, "Enter", NULL, NULL, 0, NULL },
	{ KEY_ENTER, true, PK_LOAD, "Enter", NULL, NULL, 0, NULL },
	{ 27, false, PK_CLOSE, "Esc", "close", NULL, 0, NULL },
	{ 'q', false, PK_CLOSE, "q", NULL, NULL, 0, NULL },
	{ 'p', false, PK_CLOSE, "p", NULL, NULL, 0, NULL },
	{ 3, false, PK_CLOSE, "Ctrl-C", NULL, NULL, 0, NULL },
	{ 0, false, 0, NULL, NULL, NULL, 0, NULL }
};

static struct picker *
pk(struct tui *t)
{
	return t->state[SCREEN_PROFILES];
}

static void
picker_build(struct tui *t)
{
	struct picker *p = pk(t);
	struct doc *d = &t->ovdoc;
	const char *path = t->opts->config_path ? t->opts->config_path : "";
	doc_reset(d, docview_width(t));
	doc_wrap(d, 0, NULL, 0, ST_DIM, path);
	doc_nl(d);
	if (!p->n) {
		doc_wrap(d, 0, NULL, 0, ST_NORMAL, "No profiles in this file yet: "
			 "e opens the settings, Ctrl-P there saves them as one.");
		return;
	}
	for (int i = 0; i < p->n; i++) {
		doc_nl(d);
		bool on = i == p->sel;
		doc_add(d, on ? ST_SELECTED : ST_NORMAL, on ? " \u203a " : "   ");
		if (!ui_utf8 && on)
			d->v[d->n - 1].w[1] = L'>';
		doc_addf(d, on ? ST_SELECTED : ST_NORMAL, "%-*s", d->width - 3,
			 p->names[i]);
	}
	doc_nl(d);
	doc_heading(d, p->names[p->sel]);
	struct options po;
	char err[256];
	if (profile_load(path, p->names[p->sel], &po, err, sizeof err) < 0) {
		doc_wrap(d, 2, NULL, 0, ST_ERR, err);
		return;
	}
	struct profile_kv v[PROFILE_KEYS_MAX];
	int n = profile_keys(&po.cfg, NULL, v);
	for (int i = 0; i < n; i++) {
		doc_nl(d);
		doc_addf(d, ST_LABEL, "  %s", v[i].key);
		doc_addf(d, ST_NORMAL, " = %s", v[i].value ? v[i].value : "yes");
	}
	if (!n) {
		doc_nl(d);
		doc_add(d, ST_DIM, "  (no keys: the starting settings as they are)");
	}
	profile_kv_free(v, n);
	options_free(&po);
	doc_nl(d);
	doc_wrap(d, 0, NULL, 0, ST_DIM, t->opts->lab_name ?
		 "Enter loads it over the lab's own settings; the session starts "
		 "over." : "Enter loads it; the session starts over.");
}

static void
picker_open(struct tui *t)
{
	struct picker *p = xcalloc(1, sizeof *p);
	t->state[SCREEN_PROFILES] = p;
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	if (m && t->opts->config_path)
		profile_list(t->opts->config_path, m);
	if (m)
		fclose(m);
	for (char *q = text, *line; q && (line = strsep(&q, "\n")) != NULL;) {
		if (!*line)
			continue;
		p->names = xrealloc(p->names, (size_t)(p->n + 1) * sizeof *p->names);
		p->names[p->n++] = xstrdup(line);
	}
	free(text);
	snprintf(t->ov_title, sizeof t->ov_title, "Profiles");
}

static void
picker_close(struct tui *t)
{
	struct picker *p = pk(t);
	if (!p)
		return;
	for (int i = 0; i < p->n; i++)
		free(p->names[i]);
	free(p->names);
	free(p);
	t->state[SCREEN_PROFILES] = NULL;
}

static void
picker_resize(struct tui *t, int *h, int *w)
{
	picker_build(t);
	docview_size(t, h, w);
}

static void
picker_draw(struct tui *t, unsigned dirty)
{
	(void)dirty;
	snprintf(t->ov_title, sizeof t->ov_title, "Profiles");
	docview_draw(t);
}

/* Enter: the profile over the starting settings, as --profile does. */
static void
load(struct tui *t, const char *name)
{
	char err[512];
	struct options po;
	const char *path = t->opts->config_path;
	if (profile_load(path, name, &po, err, sizeof err) < 0) {
		tui_message(t, true, "%s", err);
		return;
	}
	if (options_password(&po, err, sizeof err) < 0) {
		tui_message(t, true, "[profile %s]: %s", name, err);
		options_free(&po);
		return;
	}
	options_apply_provider(&po);
	struct config n;
	config_copy(&n, t->opts->base);
	if (!n.host && !(po.set & OB_HOST)) {
		/* a profile of settings only: on the host in use */
		config_set(&n.host, t->cfg->host);
		n.port = t->cfg->port;
	}
	bool same_user = n.user && t->cfg->user && !strcmp(n.user, t->cfg->user);
	options_merge(&n, &po);
	same_user = n.user && t->cfg->user && !strcmp(n.user, t->cfg->user);
	if (!(po.set & OB_PASSWORD) && same_user && t->cfg->password &&
	    !n.password)
		config_set(&n.password, t->cfg->password);	/* still in memory */
	options_free(&po);
	const char *secret = msg_holds_secret(&n);
	if (secret) {
		tui_message(t, true, "[profile %s]: %s holds the AUTH password: not "
			    "loaded", name, secret);
		config_free(&n);
		return;
	}
	config_free(t->cfg);
	*t->cfg = n;
	ui_close(t);
	tui_restart(t);
	tui_message(t, false, "Loaded [profile %s]: a new session is ready.  n "
		    "steps, r runs.", name);
}

static void
picker_key(struct tui *t, int action, wint_t ch, bool keycode)
{
	(void)ch;
	(void)keycode;
	struct picker *p = pk(t);
	int old = p->sel;
	switch (action) {
	case PK_UP: if (p->sel > 0) p->sel--; break;
	case PK_DOWN: if (p->sel + 1 < p->n) p->sel++; break;
	case PK_HOME: p->sel = 0; break;
	case PK_END: p->sel = p->n ? p->n - 1 : 0; break;
	case PK_CLOSE: ui_close(t); return;
	case PK_LOAD:
		if (p->n) {
			char *name = xstrdup(p->names[p->sel]);
			load(t, name);
			free(name);
		}
		return;
	}
	if (p->sel != old) {
		picker_build(t);
		/* keep the selected row in view */
		int row = 2 + p->sel;
		int h, w;
		getmaxyx(t->ov, h, w);
		(void)w;
		if (row < t->ov_top)
			t->ov_top = row;
		if (row >= t->ov_top + h - 3)
			t->ov_top = row - (h - 4);
		t->dirty |= DIRTY_OVERLAY;
	}
}

const struct screen screen_profiles = {
	.name = "Profiles",
	.overlay = true,
	.keys = picker_keys,
	.open = picker_open,
	.draw = picker_draw,
	.key = picker_key,
	.resize = picker_resize,
	.close = picker_close,
	.find = docview_find,
};

/*
 * form.c - the settings form (`e`) and the one-line prompts (the password,
 * asked for without echo, and the file name for `s`).
 *
 * Fields hold wide characters, edited in place; nothing typed here goes
 * to libedit or to the history.  A password field shows a fixed row of
 * dots, never its length; the password prompt shows nothing at all.
 * form_free() wipes every buffer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui.h"
#include "../src/settings.h"
#include "../src/util.h"

#define FIELD_MAX 256
#define MAX_FIELDS 16

enum ftype { FT_TEXT, FT_NUMBER, FT_SECRET, FT_CHOICE };

struct field {
	const char *label;
	const char *help;
	enum ftype type;
	wchar_t buf[FIELD_MAX];
	size_t n, cur;
	const char *const *choices;
	int nchoices, choice;
	bool kept;		/* FT_SECRET: the old value, untouched */
	bool had;		/* FT_SECRET: there was an old value */
};

enum form_kind { FORM_SETTINGS, FORM_PASSWORD, FORM_SAVE };

struct form {
	enum form_kind kind;
	char intro[256];
	struct field f[MAX_FIELDS];
	int nf, at;
	char err[256];
};

static const char *const tls_choices[] = { "auto", "starttls", "implicit", "none" };
static const char *const mech_choices[] = {
	"auto", "plain", "login", "cram-md5", "scram-sha-256", "xoauth2",
	"oauthbearer", "external"
};

enum {
	F_HOST, F_PORT, F_TLS, F_SERVERNAME, F_USER, F_PASSWORD, F_MECH, F_FROM,
	F_TO, F_HELO, F_TIMEOUT
};

static void
field_set(struct field *f, const char *s)
{
	size_t n;
	wchar_t *w = u8_to_wcs(s ? s : "", s ? strlen(s) : 0, &n);
	if (n >= FIELD_MAX)
		n = FIELD_MAX - 1;
	memcpy(f->buf, w, n * sizeof *w);
	f->n = f->cur = n;
	wipe(w, n * sizeof *w);
	free(w);
}

static struct field *
add(struct form *fm, const char *label, enum ftype type, const char *value,
    const char *help)
{
	struct field *f = &fm->f[fm->nf++];
	f->label = label;
	f->type = type;
	f->help = help;
	field_set(f, value);
	return f;
}

static void
choice(struct field *f, const char *const *c, int n, int at)
{
	f->choices = c;
	f->nchoices = n;
	f->choice = at >= 0 && at < n ? at : 0;
}

struct form *
form_settings(const struct config *cfg)
{
	struct form *fm = xcalloc(1, sizeof *fm);
	char num[32];
	fm->kind = FORM_SETTINGS;
	snprintf(fm->intro, sizeof fm->intro, "Change what the session does, "
		 "then save: it starts over with the new settings.");
	add(fm, "Host", FT_TEXT, cfg->host, "the server: a name or an address");
	snprintf(num, sizeof num, "%d", cfg->port);
	add(fm, "Port", FT_NUMBER, cfg->port ? num : "",
	    "empty: 587, or 465 with implicit TLS");
	choice(add(fm, "TLS mode", FT_CHOICE, "", "Left/Right: auto, starttls, "
		   "implicit (port 465), none"), tls_choices, 4, (int)cfg->tls);
	add(fm, "TLS name", FT_TEXT, cfg->servername,
	    "the name the certificate must carry; empty: the host");
	add(fm, "User", FT_TEXT, cfg->user, "empty: no AUTH");
	struct field *pw = add(fm, "Password", FT_SECRET, "",
			       "typing replaces it; empty: asked for when needed");
	pw->had = pw->kept = cfg->password != NULL;
	choice(add(fm, "Mechanism", FT_CHOICE, "", "Left/Right: the SASL mechanism"),
	       mech_choices, 8, (int)cfg->mech);
	add(fm, "From", FT_TEXT, cfg->from, "envelope sender; empty: the user");
	struct buf b = { 0 };
	for (int i = 0; i < cfg->nto; i++)
		buf_printf(&b, "%s%s", i ? ", " : "", cfg->to[i]);
	add(fm, "To", FT_TEXT, b.data ? b.data : "",
	    "recipients, separated by commas");
	buf_free(&b);
	add(fm, "HELO name", FT_TEXT, cfg->helo, "empty: this host's name");
	snprintf(num, sizeof num, "%g", cfg->timeout > 0 ? cfg->timeout : 15.0);
	add(fm, "Timeout", FT_NUMBER, num, "seconds each step may take");
	return fm;
}

struct form *
form_password(const char *user, const char *where)
{
	struct form *fm = xcalloc(1, sizeof *fm);
	fm->kind = FORM_PASSWORD;
	snprintf(fm->intro, sizeof fm->intro, "Password for %s at %s.  What you "
		 "type is not shown, and never kept.", user, where);
	add(fm, "Password", FT_SECRET, "", "Enter: use it   Esc: go on without");
	return fm;
}

struct form *
form_save(const char *suggest)
{
	struct form *fm = xcalloc(1, sizeof *fm);
	fm->kind = FORM_SAVE;
	snprintf(fm->intro, sizeof fm->intro, "Save the transcript and the "
		 "diagnosis as text (passwords are never in it).");
	add(fm, "File", FT_TEXT, suggest, "Enter: save   Esc: cancel");
	return fm;
}

void
form_free(struct form *f)
{
	if (!f)
		return;
	wipe(f, sizeof *f);
	free(f);
}

int
form_height(const struct form *f)
{
	/* intro (2), a blank, the fields, a blank, help, error, borders; the
	 * settings form has a row of keys too */
	return 2 + 1 + f->nf + 1 + 1 + 1 + 2 + (f->kind == FORM_SETTINGS ? 1 : 0);
}

static void
insert(struct field *f, wchar_t c)
{
	if (f->type == FT_SECRET && f->kept) {
		f->kept = false;
		f->n = f->cur = 0;
	}
	if (f->n + 1 >= FIELD_MAX)
		return;
	if (f->type == FT_NUMBER && !(c >= L'0' && c <= L'9') && c != L'.')
		return;
	memmove(f->buf + f->cur + 1, f->buf + f->cur, (f->n - f->cur) * sizeof *f->buf);
	f->buf[f->cur++] = c;
	f->n++;
}

static void
field_erase(struct field *f, bool before)
{
	if (f->type == FT_SECRET && f->kept) {
		f->kept = false;
		f->n = f->cur = 0;
		return;
	}
	if (before) {
		if (f->cur == 0)
			return;
		f->cur--;
	} else if (f->cur >= f->n) {
		return;
	}
	memmove(f->buf + f->cur, f->buf + f->cur + 1,
		(f->n - f->cur - 1) * sizeof *f->buf);
	f->n--;
	f->buf[f->n] = 0;
}

enum form_rc
form_key(struct form *fm, int ch, bool keycode)
{
	struct field *f = &fm->f[fm->at];
	fm->err[0] = '\0';
	if (keycode) {
		switch (ch) {
		case KEY_UP:
		case KEY_BTAB:
			if (fm->at > 0)
				fm->at--;
			return FORM_MORE;
		case KEY_DOWN:
			if (fm->at + 1 < fm->nf)
				fm->at++;
			return FORM_MORE;
		case KEY_LEFT:
			if (f->type == FT_CHOICE)
				f->choice = (f->choice + f->nchoices - 1) % f->nchoices;
			else if (f->cur > 0)
				f->cur--;
			return FORM_MORE;
		case KEY_RIGHT:
			if (f->type == FT_CHOICE)
				f->choice = (f->choice + 1) % f->nchoices;
			else if (f->cur < f->n)
				f->cur++;
			return FORM_MORE;
		case KEY_HOME:
			f->cur = 0;
			return FORM_MORE;
		case KEY_END:
			f->cur = f->n;
			return FORM_MORE;
		case KEY_BACKSPACE:
			field_erase(f, true);
			return FORM_MORE;
		case KEY_DC:
			field_erase(f, false);
			return FORM_MORE;
		case KEY_F(2):
			return FORM_DONE;
		case KEY_ENTER:
			ch = '\r';
			break;
		default:
			return FORM_MORE;
		}
	}
	switch (ch) {
	case 27:		/* Esc */
	case 3:			/* ^C */
	case 7:			/* ^G */
		return FORM_CANCEL;
	case '\r':
	case '\n':
		if (fm->kind != FORM_SETTINGS || fm->at + 1 == fm->nf)
			return FORM_DONE;
		fm->at++;
		return FORM_MORE;
	case '\t':
		fm->at = (fm->at + 1) % fm->nf;
		return FORM_MORE;
	case 19:		/* ^S */
		return FORM_DONE;
	case 127:
	case 8:
		field_erase(f, true);
		return FORM_MORE;
	case 1:			/* ^A */
		f->cur = 0;
		return FORM_MORE;
	case 5:			/* ^E */
		f->cur = f->n;
		return FORM_MORE;
	case 21:		/* ^U */
		f->n = f->cur = 0;
		f->kept = false;
		return FORM_MORE;
	case ' ':
		if (f->type == FT_CHOICE) {
			f->choice = (f->choice + 1) % f->nchoices;
			return FORM_MORE;
		}
		break;
	}
	/* no control characters (C0, DEL, C1) in a field */
	if (ch < 0x20 || (ch >= 0x7f && ch < 0xa0) || f->type == FT_CHOICE)
		return FORM_MORE;
	insert(f, (wchar_t)ch);
	return FORM_MORE;
}

void
form_draw(struct form *fm, WINDOW *w, int h, int wd, int *cy, int *cx)
{
	int y = 1;
	*cy = *cx = -1;
	struct doc d = { 0 };
	doc_reset(&d, wd - 4);
	doc_wrap(&d, 0, NULL, 0, ST_NORMAL, fm->intro);
	int n = doc_draw(w, &d, 0, y, 2, 2 < (int)d.n ? 2 : (int)d.n, wd - 4);
	doc_free(&d);
	y += n + 1;

	int lw = 11;
	int fw = wd - 4 - lw - 1;
	if (fw > 48)
		fw = 48;
	for (int i = 0; i < fm->nf && y < h - 4; i++, y++) {
		struct field *f = &fm->f[i];
		bool on = i == fm->at;
		put_str(w, y, 2, f->label, lw, on ? ST_BOLD : ST_NORMAL, 0, true);
		int x = 2 + lw + 1;
		int st = on ? ST_FIELD_ON : ST_FIELD;
		put_fill(w, y, x, fw, st, 0);
		if (f->type == FT_CHOICE) {
			char *c = xasprintf("%s %s %s", ui_utf8 ? "\u2039" : "<",
					    f->choices[f->choice], ui_utf8 ? "\u203a" : ">");
			put_str(w, y, x, c, fw, st, 0, false);
			free(c);
		} else if (f->type == FT_SECRET && fm->kind == FORM_PASSWORD) {
			/* no echo, but how many characters it holds, so a
			 * key meant for the session shows up as typed */
			char *c = xasprintf("(%zu character%s typed)", f->n,
					    f->n == 1 ? "" : "s");
			put_str(w, y, x, c, fw, st, A_DIM, false);
			free(c);
			if (on)
				*cy = y, *cx = x;
		} else if (f->type == FT_SECRET) {
			if (f->kept || f->n) {
				wchar_t dots[9];
				for (int k = 0; k < 8; k++)
					dots[k] = mark(MK_MASK)[0];
				dots[8] = 0;
				put_wcs(w, y, x, dots, 8, fw, st, 0, false);
				put_str(w, y, x + 9, f->kept ? "(unchanged)" : "(new)",
					fw - 9, st, A_DIM, false);
			} else {
				put_str(w, y, x, "(none)", fw, st, A_DIM, false);
			}
			if (on)
				*cy = y, *cx = x + (f->kept || f->n ? 8 : 0);
		} else {
			/* scroll long values so the cursor stays in view */
			size_t first = 0;
			while (first < f->cur && wcs_width(f->buf + first,
							    f->cur - first) > fw - 1)
				first++;
			put_wcs(w, y, x, f->buf + first, f->n - first, fw, st, 0, false);
			if (on)
				*cy = y, *cx = x + wcs_width(f->buf + first, f->cur - first);
		}
	}
	y++;
	const struct field *f = &fm->f[fm->at];
	if (y < h - 1)
		put_str(w, y++, 2, f->help ? f->help : "", wd - 4, ST_DIM, 0, true);
	if (y < h - 1 && *fm->err)
		put_str(w, y, 2, fm->err, wd - 4, ST_ERR, 0, true);
	y++;
	if (fm->kind == FORM_SETTINGS && h - 2 > 0) {
		int x = 2;
		static const struct { const char *k, *w; } keys[] = {
			{ "Up/Down", "field" }, { "Enter", "next" },
			{ "Ctrl-S", "save and start over" }, { "Esc", "cancel" },
		};
		for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
			int need = u8_width(keys[i].k) + u8_width(keys[i].w) + 3;
			if (x + need > wd - 2)
				break;
			x += put_str(w, h - 2, x, keys[i].k, wd - x, ST_KEY, 0, false);
			x += put_str(w, h - 2, x, " ", 1, ST_NORMAL, 0, false);
			x += put_str(w, h - 2, x, keys[i].w, wd - x, ST_HINT, 0, false);
			x += 2;
		}
	}
}

void
form_error(struct form *f, const char *msg)
{
	snprintf(f->err, sizeof f->err, "%s", msg);
}

static char *
field_u8(const struct field *f)
{
	char *s = wcs_to_u8(f->buf, f->n);
	/* trim spaces at both ends */
	char *a = s;
	while (*a == ' ')
		a++;
	size_t n = strlen(a);
	while (n && a[n - 1] == ' ')
		a[--n] = '\0';
	char *r = xstrdup(a);
	wipe(s, strlen(s));
	free(s);
	return r;
}

size_t
form_length(const struct form *f)
{
	return f->f[0].n;
}

char *
form_value(const struct form *f)
{
	return field_u8(&f->f[0]);
}

int
form_apply(struct form *fm, struct config *cfg, char *err, size_t errlen)
{
	char *v[MAX_FIELDS] = { 0 };
	int rc = -1;
	for (int i = 0; i < fm->nf; i++)
		v[i] = field_u8(&fm->f[i]);

	/* the same checks as the command line's (src/settings.h) */
	static const struct { int field; const char *name; bool empty_ok; } chk[] = {
		{ F_HOST, "host", false }, { F_PORT, "port", true },
		{ F_SERVERNAME, "servername", true }, { F_FROM, "from", true },
		{ F_HELO, "helo", true }, { F_TIMEOUT, "timeout", false },
	};
	for (size_t i = 0; i < ARRAY_SIZE(chk); i++) {
		const char *val = v[chk[i].field];
		if (!*val && chk[i].empty_ok)
			continue;
		if (setting_check(chk[i].name, val, err, errlen) < 0) {
			fm->at = chk[i].field;
			goto out;
		}
	}
	{
		char *copy = xstrdup(v[F_TO]);
		bool bad = false;
		for (char *p = copy, *tok; !bad && (tok = strsep(&p, ", ")) != NULL;)
			if (*tok && setting_check("to", tok, err, errlen) < 0)
				bad = true;
		free(copy);
		if (bad) {
			fm->at = F_TO;
			goto out;
		}
	}
	char *end;
	long port = 0;
	if (*v[F_PORT]) {
		port = strtol(v[F_PORT], &end, 10);
		if (*end || port < 1 || port > 65535) {
			snprintf(err, errlen, "Port: a number from 1 to 65535 (or empty)");
			fm->at = F_PORT;
			goto out;
		}
	}
	double timeout = strtod(v[F_TIMEOUT], &end);
	if (*end || !(timeout > 0 && timeout <= 3600)) {
		snprintf(err, errlen, "Timeout: seconds, more than 0 and at most 3600");
		fm->at = F_TIMEOUT;
		goto out;
	}
	int tls = tls_mode_from_name(tls_choices[fm->f[F_TLS].choice]);
	int mech = auth_mech_from_name(mech_choices[fm->f[F_MECH].choice]);
	if (tls < 0 || mech < 0) {
		snprintf(err, errlen, "internal: unknown TLS mode or mechanism");
		goto out;
	}
	if (cfg->port != (int)port)
		cfg->role_port = 0;	/* the lab's stand-in port no longer holds */
	config_set(&cfg->host, v[F_HOST]);
	config_set(&cfg->mx_domain, NULL);	/* set again when an MX is picked */
	cfg->port = (int)port;
	cfg->tls = (enum tls_mode)tls;
	config_set(&cfg->servername, *v[F_SERVERNAME] ? v[F_SERVERNAME] : NULL);
	bool user_changed = !cfg->user || strcmp(cfg->user, v[F_USER]) != 0;
	config_set(&cfg->user, *v[F_USER] ? v[F_USER] : NULL);
	const struct field *pw = &fm->f[F_PASSWORD];
	if (!cfg->user) {
		config_set(&cfg->password, NULL);
	} else if (!pw->kept) {
		config_set(&cfg->password, *v[F_PASSWORD] ? v[F_PASSWORD] : NULL);
	} else if (user_changed && !pw->had) {
		config_set(&cfg->password, NULL);
	}
	cfg->mech = (enum auth_mech)mech;
	config_set(&cfg->from, *v[F_FROM] ? v[F_FROM] : NULL);
	for (int i = 0; i < cfg->nto; i++)
		free(cfg->to[i]);
	cfg->nto = 0;
	for (char *p = v[F_TO], *tok; (tok = strsep(&p, ", ")) != NULL;)
		if (*tok && cfg->nto < MAX_RCPT)
			cfg->to[cfg->nto++] = xstrdup(tok);
	config_set(&cfg->helo, *v[F_HELO] ? v[F_HELO] : NULL);
	cfg->timeout = timeout;
	rc = 0;
out:
	for (int i = 0; i < fm->nf; i++) {
		if (v[i]) {
			wipe(v[i], strlen(v[i]));
			free(v[i]);
		}
	}
	if (rc < 0)
		form_error(fm, err);
	return rc;
}

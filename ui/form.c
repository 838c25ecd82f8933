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
#include "../src/message.h"
#include "../src/options.h"
#include "../src/profile.h"
#include "../src/provider.h"
#include "../src/settings.h"
#include "../src/util.h"

#define FIELD_MAX 256
#define MAX_FIELDS 48
#define MAX_HEADERS 6

enum ftype { FT_TEXT, FT_NUMBER, FT_SECRET, FT_CHOICE };

struct field {
	const char *label;
	const char *help;
	const char *section;	/* a heading above it, or NULL */
	const char *opt;	/* the command line's option, for errors */
	int id;			/* enum fid */
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
	int top;		/* first row shown (settings: headings count) */
	char err[256];
	bool info;		/* err is news, not an error */
	bool naming;		/* the profile name is being typed */
	struct field name;	/* the profile's name */
};

static const char *const tls_choices[] = { "auto", "starttls", "implicit", "none" };
static const char *const mech_choices[] = {
	"auto", "plain", "login", "cram-md5", "scram-sha-256", "xoauth2",
	"oauthbearer", "external"
};
static const char *const yesno_choices[] = { "no", "yes" };
static const char *const ret_choices[] = { "(none)", "full", "hdrs" };
static const char *provider_choices[64];
static int nprovider_choices;

/* The fields; the first eleven keep the order they always had (the
 * workshop sheets count Down presses). */
enum fid {
	F_HOST, F_PORT, F_TLS, F_SERVERNAME, F_USER, F_PASSWORD, F_MECH, F_FROM,
	F_TO, F_HELO, F_TIMEOUT, F_PROVIDER, F_CAFILE, F_INSECURE, F_PROXY,
	F_CERT, F_KEY, F_PASSCMD, F_BODY, F_HEADER, F_DATA, F_NOSEND, F_BDAT,
	F_NOTIFY, F_RET, F_ENVID, F_REQUIRETLS
};

static void
field_set(struct field *f, const char *s)
{
	size_t n;
	wchar_t *w = u8_to_wcs(s ? s : "", s ? strlen(s) : 0, &n);
	if (n >= FIELD_MAX)
		n = FIELD_MAX - 1;
	memcpy(f->buf, w, n * sizeof *w);
	f->buf[n] = 0;
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
	f->id = fm->nf - 1;
	field_set(f, value);
	return f;
}

/* A field of the settings form: its id, option and section. */
static struct field *
addf(struct form *fm, int id, const char *section, const char *opt,
     const char *label, enum ftype type, const char *value, const char *help)
{
	struct field *f = add(fm, label, type, value, help);
	f->id = id;
	f->section = section;
	f->opt = opt;
	return f;
}

static void
choice(struct field *f, const char *const *c, int n, int at)
{
	f->choices = c;
	f->nchoices = n;
	f->choice = at >= 0 && at < n ? at : 0;
}

static void
yesno(struct field *f, bool on)
{
	choice(f, yesno_choices, 2, on ? 1 : 0);
}

static void
providers_init(void)
{
	if (nprovider_choices)
		return;
	size_t n;
	const struct provider *p = provider_table(&n);
	provider_choices[nprovider_choices++] = "(none)";
	for (size_t i = 0; i < n && nprovider_choices < 64; i++)
		provider_choices[nprovider_choices++] = p[i].name;
}

struct form *
form_settings(const struct config *cfg)
{
	struct form *fm = xcalloc(1, sizeof *fm);
	char num[32];
	fm->kind = FORM_SETTINGS;
	snprintf(fm->intro, sizeof fm->intro, "Change what the session does, "
		 "then Ctrl-S: it starts over with the new settings.");
	addf(fm, F_HOST, "Server", NULL, "Host", FT_TEXT, cfg->host,
	     "the server: a name or an address");
	/* the lab's mail host: the number its listener plays (587), not the
	 * loopback port behind it; Ctrl-S maps it back (session_new()) */
	int port = cfg->port;
	for (int i = 0; i < cfg->nportmap; i++)
		if (cfg->portmap[i].port == cfg->port)
			port = cfg->portmap[i].role;
	snprintf(num, sizeof num, "%d", port);
	addf(fm, F_PORT, NULL, "--port", "Port", FT_NUMBER, cfg->port ? num : "",
	     "empty: 587, or 465 with implicit TLS");
	choice(addf(fm, F_TLS, NULL, "--tls", "TLS mode", FT_CHOICE, "",
		    "Left/Right: auto, starttls, implicit (port 465), none"),
	       tls_choices, 4, (int)cfg->tls);
	addf(fm, F_SERVERNAME, NULL, "--servername", "TLS name", FT_TEXT,
	     cfg->servername, "the name the certificate must carry; empty: the "
	     "host");
	addf(fm, F_USER, "Login", "--user", "User", FT_TEXT, cfg->user,
	     "empty: no AUTH");
	struct field *pw = addf(fm, F_PASSWORD, NULL, NULL, "Password", FT_SECRET,
				"", "typing replaces it; empty: asked for when "
				"needed; never saved");
	pw->had = pw->kept = cfg->password != NULL;
	choice(addf(fm, F_MECH, NULL, "--auth", "Mechanism", FT_CHOICE, "",
		    "Left/Right: the SASL mechanism"), mech_choices, 8,
	       (int)cfg->mech);
	addf(fm, F_FROM, "Envelope", "--from", "From", FT_TEXT, cfg->from,
	     "envelope sender; empty: the user");
	struct buf b = { 0 };
	for (int i = 0; i < cfg->nto; i++)
		buf_printf(&b, "%s%s", i ? ", " : "", cfg->to[i]);
	addf(fm, F_TO, NULL, "--to", "To", FT_TEXT, b.data ? b.data : "",
	     "recipients, separated by commas");
	buf_free(&b);
	addf(fm, F_HELO, NULL, "--helo", "HELO name", FT_TEXT, cfg->helo,
	     "empty: this host's name");
	snprintf(num, sizeof num, "%g", cfg->timeout > 0 ? cfg->timeout : 15.0);
	addf(fm, F_TIMEOUT, NULL, "--timeout", "Timeout", FT_NUMBER, num,
	     "seconds each step may take");

	providers_init();
	int pat = 0;
	for (int i = 1; cfg->provider && i < nprovider_choices; i++)
		if (!strcmp(provider_choices[i], cfg->provider))
			pat = i;
	choice(addf(fm, F_PROVIDER, "Connection", "--provider", "Provider",
		    FT_CHOICE, "", "Left/Right: a provider's host, port and TLS "
		    "mode fill the fields above"), provider_choices,
	       nprovider_choices, pat);
	addf(fm, F_CAFILE, NULL, "--cafile", "CA file", FT_TEXT, cfg->cafile,
	     "PEM trust anchors; empty: the system's");
	yesno(addf(fm, F_INSECURE, NULL, "--insecure", "Insecure", FT_CHOICE, "",
		   "yes: go on after a certificate failure (still reported)"),
	      cfg->insecure);
	char *url = NULL;
	if (cfg->proxy != PX_NONE && cfg->proxy_host) {
		struct buf u = { 0 };
		buf_adds(&u, cfg->proxy == PX_SOCKS5H ? "socks5h://" :
			 cfg->proxy == PX_HTTP ? "http://" : "socks5://");
		if (cfg->proxy_user)
			buf_printf(&u, "%s@", cfg->proxy_user);
		buf_printf(&u, strchr(cfg->proxy_host, ':') ? "[%s]:%d" : "%s:%d",
			   cfg->proxy_host, cfg->proxy_port);
		url = buf_steal(&u);
	}
	addf(fm, F_PROXY, NULL, "--proxy", "Proxy", FT_TEXT, url,
	     "socks5://, socks5h:// or http://HOST:PORT; a password: "
	     "SMTPDX_PROXY_PASSWORD");
	free(url);
	addf(fm, F_CERT, NULL, "--cert", "Client cert", FT_TEXT, cfg->cert,
	     "PEM client certificate (with --auth external to log in with it)");
	addf(fm, F_KEY, NULL, "--key", "Client key", FT_TEXT, cfg->key,
	     "its PEM private key (may be the same file)");
	addf(fm, F_PASSCMD, NULL, "--password-command", "Passwd cmd", FT_TEXT,
	     cfg->password_command, "a command that prints the password "
	     "(pass show mail); run when changed");

	addf(fm, F_BODY, "Message", "--body", "Body file", FT_TEXT, cfg->body_file,
	     "the test message's body; empty: the generated one");
	int nh = 0;
	const char *hp = cfg->headers;
	while (hp && *hp && nh < MAX_HEADERS - 1) {
		size_t l = strcspn(hp, "\r\n");
		char *h = xstrndup(hp, l);
		addf(fm, F_HEADER, NULL, "--header", "Header", FT_TEXT, h,
		     "an extra header: Name: value");
		free(h);
		nh++;
		hp += l;
		while (*hp == '\r' || *hp == '\n')
			hp++;
	}
	do {
		addf(fm, F_HEADER, NULL, "--header", "Header", FT_TEXT, "",
		     "an extra header: Name: value");
	} while (++nh < 2);
	addf(fm, F_DATA, NULL, "--data", "Data file", FT_TEXT, cfg->data_file,
	     "the whole message, sent as it is (no body or headers with it)");
	yesno(addf(fm, F_NOSEND, NULL, "--no-send", "No send", FT_CHOICE, "",
		   "yes: stop after RCPT (RSET, QUIT), no mail"), cfg->no_send);
	yesno(addf(fm, F_BDAT, NULL, "--bdat", "BDAT", FT_CHOICE, "",
		   "yes: send with BDAT when the server offers CHUNKING"),
	      cfg->bdat);
	addf(fm, F_NOTIFY, "DSN and REQUIRETLS", "--notify", "Notify", FT_TEXT,
	     cfg->notify, "NEVER, or SUCCESS,FAILURE,DELAY (RFC 3461); empty: "
	     "none");
	choice(addf(fm, F_RET, NULL, "--ret", "Ret", FT_CHOICE, "",
		    "Left/Right: what a bounce returns: full or hdrs"),
	       ret_choices, 3, cfg->ret == DSN_RET_FULL ? 1 :
	       cfg->ret == DSN_RET_HDRS ? 2 : 0);
	addf(fm, F_ENVID, NULL, "--envid", "Envid", FT_TEXT, cfg->envid,
	     "an envelope id for DSNs: printable ASCII");
	yesno(addf(fm, F_REQUIRETLS, NULL, "--requiretls", "REQUIRETLS",
		   FT_CHOICE, "", "yes: REQUIRETLS on MAIL (RFC 8689)"),
	      cfg->requiretls);
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
	/* intro (2), a blank, the fields (and the settings' headings), a
	 * blank, help, error, borders; the settings form has a row of keys
	 * too (the window is cut to the terminal: the fields scroll) */
	int rows = f->nf;
	for (int i = 0; i < f->nf; i++)
		rows += f->f[i].section != NULL;
	return 2 + 1 + rows + 1 + 1 + 1 + 2 + (f->kind == FORM_SETTINGS ? 1 : 0);
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

static struct field *
field_of(struct form *fm, int id)
{
	for (int i = 0; i < fm->nf; i++)
		if (fm->f[i].id == id)
			return &fm->f[i];
	return NULL;
}

/* A provider chosen: its host, preferred port and that port's mode in
 * the fields (as --provider presets them). */
static void
provider_fill(struct form *fm, const struct field *f)
{
	const struct provider *p = f->choice ?
				   provider_find(f->choices[f->choice]) : NULL;
	if (!p)
		return;
	char num[16];
	field_set(field_of(fm, F_HOST), p->host);
	snprintf(num, sizeof num, "%d", p->ports[0].port);
	field_set(field_of(fm, F_PORT), num);
	field_of(fm, F_TLS)->choice = (int)p->ports[0].mode;
	field_set(field_of(fm, F_SERVERNAME), "");
	snprintf(fm->err, sizeof fm->err, "%s: %s port %d, %s", p->title, p->host,
		 p->ports[0].port, tls_mode_name(p->ports[0].mode));
	fm->info = true;
}

static void
choose(struct form *fm, struct field *f, int delta)
{
	f->choice = (f->choice + f->nchoices + delta) % f->nchoices;
	if (f->id == F_PROVIDER && fm->kind == FORM_SETTINGS)
		provider_fill(fm, f);
}

/* Keys for one text field (the profile's name): false if not one. */
static bool
edit_key(struct field *f, int ch, bool keycode)
{
	if (keycode) {
		switch (ch) {
		case KEY_LEFT: if (f->cur > 0) f->cur--; return true;
		case KEY_RIGHT: if (f->cur < f->n) f->cur++; return true;
		case KEY_HOME: f->cur = 0; return true;
		case KEY_END: f->cur = f->n; return true;
		case KEY_BACKSPACE: field_erase(f, true); return true;
		case KEY_DC: field_erase(f, false); return true;
		}
		return false;
	}
	switch (ch) {
	case 127: case 8: field_erase(f, true); return true;
	case 1: f->cur = 0; return true;
	case 5: f->cur = f->n; return true;
	case 21: f->n = f->cur = 0; f->kept = false; return true;
	}
	if (ch < 0x20 || (ch >= 0x7f && ch < 0xa0))
		return false;
	insert(f, (wchar_t)ch);
	return true;
}

enum form_rc
form_key(struct form *fm, int ch, bool keycode)
{
	struct field *f = &fm->f[fm->at];
	fm->err[0] = '\0';
	fm->info = false;
	if (fm->naming) {
		if (keycode && ch == KEY_ENTER)
			ch = '\r', keycode = false;
		if (!keycode && (ch == '\r' || ch == '\n'))
			return FORM_PROFILE;
		if (!keycode && (ch == 27 || ch == 3 || ch == 7)) {
			fm->naming = false;
			return FORM_MORE;
		}
		edit_key(&fm->name, ch, keycode);
		return FORM_MORE;
	}
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
		case KEY_PPAGE:
			fm->at = fm->at > 8 ? fm->at - 8 : 0;
			return FORM_MORE;
		case KEY_NPAGE:
			fm->at = fm->at + 8 < fm->nf ? fm->at + 8 : fm->nf - 1;
			return FORM_MORE;
		case KEY_LEFT:
			if (f->type == FT_CHOICE)
				choose(fm, f, -1);
			else if (f->cur > 0)
				f->cur--;
			return FORM_MORE;
		case KEY_RIGHT:
			if (f->type == FT_CHOICE)
				choose(fm, f, 1);
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
		case KEY_F(3):
			ch = 16;
			break;
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
	case 16:		/* ^P: save as a profile */
		if (fm->kind != FORM_SETTINGS)
			return FORM_MORE;
		fm->naming = true;
		fm->name.type = FT_TEXT;
		field_set(&fm->name, "");
		return FORM_MORE;
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
			choose(fm, f, 1);
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

/* Draw field f's value at (y, x) in fw columns; the cursor if on. */
static void
draw_value(struct form *fm, struct field *f, bool on, WINDOW *w, int y, int x,
	   int fw, int *cy, int *cx)
{
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
	/* the rows: a heading before a field that opens a section */
	int rows[MAX_FIELDS * 2], nrows = 0, atrow = 0;
	for (int i = 0; i < fm->nf; i++) {
		if (fm->f[i].section)
			rows[nrows++] = -1 - i;
		if (i == fm->at)
			atrow = nrows;
		rows[nrows++] = i;
	}
	int room = h - 4 - (fm->kind == FORM_SETTINGS ? 1 : 0) - y;
	if (room < 1)
		room = 1;
	/* keep the field (and its heading) in view */
	int want = atrow > 0 && rows[atrow - 1] < 0 ? atrow - 1 : atrow;
	if (want < fm->top)
		fm->top = want;
	if (atrow >= fm->top + room)
		fm->top = atrow - room + 1;
	if (fm->top > nrows - room)
		fm->top = nrows - room > 0 ? nrows - room : 0;
	if (fm->top < 0)
		fm->top = 0;
	int y0 = y;
	for (int r = fm->top; r < nrows && y < y0 + room; r++, y++) {
		if (rows[r] < 0) {
			struct field *f = &fm->f[-1 - rows[r]];
			put_str(w, y, 2, f->section, wd - 4, ST_HEADING, 0, true);
			continue;
		}
		struct field *f = &fm->f[rows[r]];
		bool on = rows[r] == fm->at && !fm->naming;
		put_str(w, y, 2, f->label, lw, on ? ST_BOLD : ST_NORMAL, 0, true);
		draw_value(fm, f, on, w, y, 2 + lw + 1, fw, cy, cx);
	}
	if (fm->top > 0)
		put_mark(w, y0, wd - 3, MK_UP, ST_DIM, 0);
	if (fm->top + room < nrows)
		put_mark(w, y0 + room - 1, wd - 3, MK_DOWN, ST_DIM, 0);
	y = y0 + (room < nrows ? room : nrows);
	y++;
	const struct field *f = &fm->f[fm->at];
	if (fm->naming) {
		if (y < h - 1) {
			int x = 2 + put_str(w, y, 2, "Profile name ", wd - 4, ST_BOLD,
					    0, false);
			draw_value(fm, &fm->name, true, w, y, x, wd - 2 - x > 32 ?
				   32 : wd - 2 - x, cy, cx);
			y++;
		}
	} else if (y < h - 1) {
		put_str(w, y++, 2, f->help ? f->help : "", wd - 4, ST_DIM, 0, true);
	}
	if (y < h - 1 && *fm->err)
		put_str(w, y, 2, fm->err, wd - 4, fm->info ? ST_MSG : ST_ERR, 0, true);
	y++;
	if (fm->kind == FORM_SETTINGS && h - 2 > 0) {
		int x = 2;
		static const struct { const char *k, *w; } keys[] = {
			{ "Ctrl-S", "apply, start over" }, { "Ctrl-P", "save as profile" },
			{ "Esc", "cancel" }, { "Up/Down", "field" },
		}, naming[] = {
			{ "Enter", "save the profile" }, { "Esc", "back to the form" },
		};
		size_t nk = fm->naming ? ARRAY_SIZE(naming) : ARRAY_SIZE(keys);
		for (size_t i = 0; i < nk; i++) {
			const char *k = fm->naming ? naming[i].k : keys[i].k;
			const char *ww = fm->naming ? naming[i].w : keys[i].w;
			int need = u8_width(k) + u8_width(ww) + 3;
			if (x + need > wd - 2)
				break;
			x += put_str(w, h - 2, x, k, wd - x, ST_KEY, 0, false);
			x += put_str(w, h - 2, x, " ", 1, ST_NORMAL, 0, false);
			x += put_str(w, h - 2, x, ww, wd - x, ST_HINT, 0, false);
			x += 2;
		}
	}
}

void
form_error(struct form *f, const char *msg)
{
	snprintf(f->err, sizeof f->err, "%s", msg);
	f->info = false;
}

void
form_info(struct form *f, const char *msg)
{
	snprintf(f->err, sizeof f->err, "%s", msg);
	f->info = true;
	f->naming = false;
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

char *
form_profile_name(const struct form *f)
{
	return field_u8(&f->name);
}

/* Put the cursor on the field the error names ("--notify ..."). */
static void
blame(struct form *fm, const char *err)
{
	const char *best = NULL;
	for (int i = 0; i < fm->nf; i++) {
		const char *o = fm->f[i].opt;
		const char *at = o ? strstr(err, o) : NULL;
		if (fm->f[i].id == F_HOST && !strncmp(err, "host ", 5))
			at = err;
		if (fm->f[i].id == F_PORT && !at)
			at = strstr(err, "port");
		if (at && (!best || at < best)) {
			best = at;
			fm->at = i;
		}
	}
}

static void
push(char **argv, int *argc, const char *w)
{
	if (*argc < 2 * MAX_FIELDS + MAX_RCPT * 2 + 4)
		argv[(*argc)++] = xstrdup(w);
}

int
form_check(struct form *fm, const struct config *cur, struct config *out,
	   char *err, size_t errlen)
{
	char *v[MAX_FIELDS] = { 0 };
	char *argv[2 * MAX_FIELDS + MAX_RCPT * 2 + 5] = { 0 };
	int argc = 0, rc = -1;
	struct options po;
	bool parsed = false;
	for (int i = 0; i < fm->nf; i++)
		v[i] = field_u8(&fm->f[i]);
#define V(id) v[field_of(fm, id) - fm->f]
#define CH(id) field_of(fm, id)->choice

	/* the form as the command line it stands for, parsed by the
	 * command line's own code: the form refuses what it refuses */
	push(argv, &argc, "smtpdx");
	if (!*V(F_HOST)) {
		snprintf(err, errlen, "Host is empty: a server name or address is "
			 "needed");
		fm->at = field_of(fm, F_HOST) - fm->f;
		goto out;
	}
	static const struct { int id; const char *opt; } text[] = {
		{ F_PORT, "--port" }, { F_SERVERNAME, "--servername" },
		{ F_USER, "--user" }, { F_FROM, "--from" }, { F_HELO, "--helo" },
		{ F_TIMEOUT, "--timeout" }, { F_CAFILE, "--cafile" },
		{ F_PROXY, "--proxy" }, { F_CERT, "--cert" }, { F_KEY, "--key" },
		{ F_PASSCMD, "--password-command" }, { F_BODY, "--body" },
		{ F_DATA, "--data" }, { F_NOTIFY, "--notify" },
		{ F_ENVID, "--envid" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(text); i++) {
		if (!*V(text[i].id))
			continue;
		push(argv, &argc, text[i].opt);
		push(argv, &argc, V(text[i].id));
	}
	push(argv, &argc, "--tls");
	push(argv, &argc, tls_choices[CH(F_TLS)]);
	push(argv, &argc, "--auth");
	push(argv, &argc, mech_choices[CH(F_MECH)]);
	if (CH(F_PROVIDER)) {
		push(argv, &argc, "--provider");
		push(argv, &argc, provider_choices[CH(F_PROVIDER)]);
	}
	if (CH(F_RET)) {
		push(argv, &argc, "--ret");
		push(argv, &argc, ret_choices[CH(F_RET)]);
	}
	static const struct { int id; const char *opt; } flags[] = {
		{ F_INSECURE, "--insecure" }, { F_NOSEND, "--no-send" },
		{ F_BDAT, "--bdat" }, { F_REQUIRETLS, "--requiretls" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(flags); i++)
		if (CH(flags[i].id))
			push(argv, &argc, flags[i].opt);
	for (int i = 0; i < fm->nf; i++)
		if (fm->f[i].id == F_HEADER && *v[i]) {
			push(argv, &argc, "--header");
			push(argv, &argc, v[i]);
		}
	{
		char *copy = xstrdup(V(F_TO));
		for (char *p = copy, *tok; (tok = strsep(&p, ", ")) != NULL;)
			if (*tok) {
				push(argv, &argc, "--to");
				push(argv, &argc, tok);
			}
		free(copy);
	}
	push(argv, &argc, V(F_HOST));
	{
		/* user:password@: a password typed here would be on the screen */
		const char *u = strstr(V(F_PROXY), "://");
		const char *at = u ? strrchr(u, '@') : NULL;
		const char *colon = at ? strchr(u + 3, ':') : NULL;
		if (colon && colon < at) {
			snprintf(err, errlen, "--proxy: no password in the URL (it "
				 "would be on the screen): user@ only, and the "
				 "password in SMTPDX_PROXY_PASSWORD");
			fm->at = field_of(fm, F_PROXY) - fm->f;
			goto out;
		}
	}
	char why[256];
	if (options_parse(&po, argc, argv, why, sizeof why) < 0) {
		options_free(&po);
		snprintf(err, errlen, "%s", why);
		blame(fm, why);
		goto out;
	}
	parsed = true;
	/* the trailing positional is a host only if it parsed as one */
	if (!(po.set & OB_HOST)) {
		snprintf(err, errlen, "Host '%s' is not a host", V(F_HOST));
		fm->at = field_of(fm, F_HOST) - fm->f;
		goto out;
	}

	/* what the form holds, over everything else the session had */
	const struct config *u = &po.cfg;
	config_copy(out, cur);
	if (out->port != u->port || strcmp(out->host ? out->host : "", u->host))
		out->role_port = 0;	/* the lab's stand-in port no longer holds */
	config_set(&out->host, u->host);
	config_set(&out->mx_domain, NULL);	/* set again when an MX is picked */
	out->port = (po.set & OB_PORT) ? u->port : 0;
	out->tls = u->tls;
	config_set(&out->servername, u->servername);
	bool user_changed = !cur->user || !u->user || strcmp(cur->user, u->user);
	config_set(&out->user, u->user);
	const struct field *pw = field_of(fm, F_PASSWORD);
	if (!out->user) {
		config_set(&out->password, NULL);
	} else if (!pw->kept) {
		config_set(&out->password, *V(F_PASSWORD) ? V(F_PASSWORD) : NULL);
	} else if (user_changed && !pw->had) {
		config_set(&out->password, NULL);
	}
	out->mech = u->mech;
	config_set(&out->from, u->from);
	for (int i = 0; i < out->nto; i++)
		free(out->to[i]);
	out->nto = u->nto;
	for (int i = 0; i < u->nto; i++)
		out->to[i] = xstrdup(u->to[i]);
	config_set(&out->helo, u->helo);
	out->timeout = u->timeout;
	config_set(&out->provider, u->provider);
	if (u->cafile && (!cur->cafile || strcmp(cur->cafile, u->cafile)))
		config_set(&out->ca_pem, NULL);	/* the user's anchors win */
	config_set(&out->cafile, u->cafile);
	out->insecure = u->insecure;
	bool same_proxy = u->proxy == cur->proxy && u->proxy_host &&
			  cur->proxy_host && !strcmp(u->proxy_host, cur->proxy_host) &&
			  u->proxy_port == cur->proxy_port && u->proxy_user &&
			  cur->proxy_user && !strcmp(u->proxy_user, cur->proxy_user);
	out->proxy = u->proxy;
	out->proxy_port = u->proxy_port;
	config_set(&out->proxy_host, u->proxy_host);
	config_set(&out->proxy_user, u->proxy_user);
	config_set(&out->proxy_pass, same_proxy ? cur->proxy_pass : NULL);
	bool same_key = u->key && cur->key && !strcmp(u->key, cur->key);
	config_set(&out->cert, u->cert);
	config_set(&out->key, u->key);
	if (!same_key)
		config_set(&out->key_pass, NULL);
	config_set(&out->password_command, u->password_command);
	config_set(&out->body, u->body);
	config_set(&out->body_file, u->body_file);
	config_set(&out->headers, u->headers);
	config_set(&out->data, u->data);
	config_set(&out->data_file, u->data_file);
	out->no_send = u->no_send;
	out->bdat = u->bdat;
	config_set(&out->notify, u->notify);
	out->ret = u->ret;
	config_set(&out->envid, u->envid);
	out->requiretls = u->requiretls;
	const char *secret = msg_holds_secret(out);
	if (secret) {
		snprintf(err, errlen, "%s holds the AUTH password: refusing to "
			 "send it (or show it)", secret);
		blame(fm, secret);
		config_free(out);
		goto out;
	}
	rc = 0;
out:
#undef V
#undef CH
	if (parsed)
		options_free(&po);
	for (int i = 0; i < argc; i++) {
		wipe(argv[i], strlen(argv[i]));
		free(argv[i]);
	}
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

bool
form_passcmd_changed(const struct form *fm, const struct config *cur)
{
	const struct field *f = NULL;
	for (int i = 0; i < fm->nf; i++)
		if (fm->f[i].id == F_PASSCMD)
			f = &fm->f[i];
	if (!f)
		return false;
	char *v = field_u8(f);
	bool changed = *v && (!cur->password_command ||
			      strcmp(v, cur->password_command) != 0);
	const struct field *pw = NULL;
	for (int i = 0; i < fm->nf; i++)
		if (fm->f[i].id == F_PASSWORD)
			pw = &fm->f[i];
	if (pw && !pw->kept && pw->n)
		changed = false;	/* a password typed wins */
	free(v);
	return changed;
}

int
form_apply(struct form *fm, struct config *cfg, char *err, size_t errlen)
{
	struct config n;
	if (form_check(fm, cfg, &n, err, errlen) < 0)
		return -1;
	config_free(cfg);
	*cfg = n;
	return 0;
}

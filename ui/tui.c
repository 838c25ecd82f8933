/*
 * tui.c - the curses front end: start-up, the one event loop, the keys.
 *
 * One poll() waits on the terminal and on the session's socket, with the
 * session's deadline and, while a step waits, a 250 ms tick for the clock
 * on screen.  Each turn: let the session work, read every key there is,
 * see what changed, draw what is dirty, one doupdate().  The session is
 * driven exactly as --batch drives it (src/main.c), a step per `n`.
 *
 * While curses owns the screen, stderr goes to a temporary file and is
 * replayed after endwin(), so a stray message never tears the display.
 */
#include <errno.h>
#include <histedit.h>
#include <langinfo.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ui.h"
#include "../src/report.h"
#include "../src/util.h"

#define TICK_MS 250
#define MSG_SECONDS 6.0

static volatile sig_atomic_t got_signal;

static void
on_signal(int sig)
{
	got_signal = sig;
}

/* ---- small things ---------------------------------------------------------- */

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

int
tui_step_order(const struct session *s, int out[STEP_COUNT])
{
	return session_step_order(s, out);
}

/* Remember what the screen shows now, to see later what changed. */
static void
seen(struct tui *t)
{
	const struct session *s = t->s;
	t->seen_tr = s->tr.n;
	memcpy(t->seen_status, s->status, sizeof t->seen_status);
	t->seen_finished = s->finished;
	t->seen_busy = session_busy(s);
}

static void
watch(struct tui *t)
{
	const struct session *s = t->s;
	bool changed = s->tr.n != t->seen_tr || s->finished != t->seen_finished ||
		       session_busy(s) != t->seen_busy ||
		       memcmp(s->status, t->seen_status, sizeof t->seen_status) != 0;
	if (!changed)
		return;
	bool just_finished = s->finished && !t->seen_finished;
	t->dirty |= DIRTY_HEADER | DIRTY_FOOTER | DIRTY_STEPS | DIRTY_TRANS |
		    DIRTY_DIAG;
	if (t->ovk == OV_TLS || t->ovk == OV_EXPLAIN)
		t->dirty |= DIRTY_OVERLAY;
	if (just_finished) {
		t->run_all = false;
		t->diag_top = 0;
		/* a failure: the diagnosis takes the focus (and, one region
		 * at a time, the screen), so the arrows scroll it */
		if (diag_has_error(&s->diags) && t->focus != RG_DIAG) {
			t->focus = RG_DIAG;
			if (t->mode == LM_TABS || t->zoom)
				layout_apply(t);
		}
	}
	seen(t);
}

/* ---- overlays ---------------------------------------------------------------- */

static bool
ov_is_form(enum overlay k)
{
	return k == OV_FORM || k == OV_PASSWORD || k == OV_SAVE;
}

static void ov_build(struct tui *t);

/* (Re)open the overlay's window at the size its content wants. */
static void
ov_place(struct tui *t)
{
	if (t->ovk == OV_NONE || t->mode == LM_TOO_SMALL) {
		if (t->ov)
			overlay_close(t);
		return;
	}
	int w = t->cols - 2 < 84 ? t->cols - 2 : 84;
	if (ov_is_form(t->ovk)) {
		w = t->cols - 2 < 72 ? t->cols - 2 : 72;
		overlay_open(t, form_height(t->form), w);
		return;
	}
	t->ovdoc.width = w - 4;
	ov_build(t);
	overlay_open(t, (int)t->ovdoc.n + 3, w);
}

static void
ov_build(struct tui *t)
{
	int width = t->ovdoc.width;
	doc_reset(&t->ovdoc, width);
	switch (t->ovk) {
	case OV_HELP:
		snprintf(t->ov_title, sizeof t->ov_title, "Keys");
		help_build(&t->ovdoc, t);
		break;
	case OV_EXPLAIN:
		snprintf(t->ov_title, sizeof t->ov_title, "Line %zu explained",
			 t->sel + 1);
		explain_line(&t->ovdoc, t->s, t->sel);
		break;
	case OV_TLS:
		snprintf(t->ov_title, sizeof t->ov_title, "TLS details");
		explain_tls(&t->ovdoc, t->s);
		break;
	default:
		break;
	}
}

static void
ov_show(struct tui *t, enum overlay k)
{
	t->ovk = k;
	t->ov_top = 0;
	t->ov_cury = t->ov_curx = -1;
	ov_place(t);
	t->dirty |= DIRTY_OVERLAY;
}

static void
ov_hide(struct tui *t)
{
	if (t->form) {
		form_free(t->form);
		t->form = NULL;
	}
	t->ovk = OV_NONE;
	t->ov_cury = t->ov_curx = -1;
	overlay_close(t);
}

void
overlay_draw(struct tui *t)
{
	WINDOW *w = t->ov;
	int h, wd;
	getmaxyx(w, h, wd);
	werase(w);
	style_set(w, ST_BORDER_FOCUS, 0);
	ui_box(w);
	const char *title = t->ov_title;
	if (ov_is_form(t->ovk))
		title = t->ovk == OV_FORM ? "Settings" : t->ovk == OV_PASSWORD ?
			"Password" : "Save the transcript";
	char *tt = xasprintf(" %s ", title);
	put_str(w, 0, 2, tt, wd - 4, ST_TAB_ON, 0, true);
	free(tt);
	t->ov_cury = t->ov_curx = -1;
	if (ov_is_form(t->ovk)) {
		form_draw(t->form, w, h, wd, &t->ov_cury, &t->ov_curx);
	} else {
		if (t->ovk == OV_TLS || t->ovk == OV_EXPLAIN)
			ov_build(t);
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
		put_str(w, h - 1, wd - 2 - u8_width(hint), hint, wd - 4, ST_DIM, 0,
			false);
		if (t->ov_top > 0)
			put_mark(w, 0, wd - 2, MK_UP, ST_BORDER_FOCUS, 0);
		if (t->ov_top < maxtop)
			put_mark(w, h - 1, 2, MK_DOWN, ST_BORDER_FOCUS, 0);
	}
	touchwin(w);
	wnoutrefresh(w);
}

/* ---- the session --------------------------------------------------------------- */

static void
ask_password(struct tui *t)
{
	char where[300];
	snprintf(where, sizeof where, "%s:%d", t->cfg->host ? t->cfg->host : "?",
		 config_port(t->cfg));
	t->form = form_password(t->cfg->user, where);
	ov_show(t, OV_PASSWORD);
}

static void
new_session(struct tui *t)
{
	if (t->s)
		session_free(t->s);
	t->s = session_new(t->cfg);
	t->sel = t->top = 0;
	t->follow = true;
	t->run_all = false;
	t->diag_top = 0;
	t->raw_from = (size_t)-1;
	seen(t);
	t->dirty = DIRTY_ALL;
}

void
tui_restart(struct tui *t)
{
	new_session(t);
	if (t->cfg->user && !t->cfg->password && t->ovk == OV_NONE)
		ask_password(t);
}

static void
step(struct tui *t)
{
	struct session *s = t->s;
	if (s->finished) {
		tui_message(t, false, "The session is over: R starts over, e changes "
			    "the settings.");
		return;
	}
	if (session_busy(s)) {
		tui_message(t, false, "A step is under way: wait for it, or Esc "
			    "cancels it.");
		return;
	}
	t->follow = true;
	t->raw_from = (size_t)-1;
	session_go(s, RUN_STEP);
	t->dirty |= DIRTY_ALL & ~DIRTY_OVERLAY;
}

static void
run_all(struct tui *t)
{
	struct session *s = t->s;
	if (s->finished) {
		tui_message(t, false, "The session is over: R starts over.");
		return;
	}
	t->run_all = true;
	t->follow = true;
	t->raw_from = (size_t)-1;
	session_go(s, RUN_ALL);
}

static void
save_transcript(struct tui *t, const char *name)
{
	char path[4096];
	const char *home = getenv("HOME");
	if (name[0] == '~' && name[1] == '/' && home)
		snprintf(path, sizeof path, "%s%s", home, name + 1);
	else
		snprintf(path, sizeof path, "%s", name);
	FILE *f = fopen(path, "w");
	if (!f) {
		tui_message(t, true, "Could not save to %s: %s", path, strerror(errno));
		return;
	}
	for (size_t i = 0; i < t->s->tr.n; i++)
		report_line(f, &t->s->tr.v[i], false);
	if (t->s->finished)
		report_summary(f, t->s, false);
	if (fclose(f) != 0) {
		tui_message(t, true, "Could not save to %s: %s", path, strerror(errno));
		return;
	}
	tui_message(t, false, "Saved %zu lines to %s", t->s->tr.n, path);
}

static char *
save_name(const struct tui *t)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
	const char *what = t->opts->lab_name ? t->opts->lab_name :
			   t->cfg->host ? t->cfg->host : "session";
	char *n = xasprintf("smtpdx-%s-%s.txt", what, stamp);
	for (char *p = n; *p; p++)
		if (*p == '/' || *p == ':' || *p == ' ')
			*p = '_';
	return n;
}

/* ---- keys ---------------------------------------------------------------------- */

static void
resize(struct tui *t)
{
	layout_apply(t);
	if (t->ovk != OV_NONE)
		ov_place(t);
	t->dirty = DIRTY_ALL;
}

static void
focus(struct tui *t, enum region r)
{
	t->focus = r;
	if (t->mode == LM_TABS || t->zoom) {
		layout_apply(t);
		if (t->ovk != OV_NONE)
			ov_place(t);
	}
	t->dirty = DIRTY_ALL;
}

static void
key_overlay(struct tui *t, wint_t ch, bool keycode)
{
	if (ov_is_form(t->ovk)) {
		enum form_rc rc = form_key(t->form, (int)ch, keycode);
		t->dirty |= DIRTY_OVERLAY;
		if (rc == FORM_MORE)
			return;
		if (t->ovk == OV_FORM) {
			if (rc == FORM_CANCEL) {
				ov_hide(t);
				return;
			}
			char err[256];
			if (form_apply(t->form, t->cfg, err, sizeof err) < 0)
				return;
			ov_hide(t);
			tui_restart(t);
			tui_message(t, false, "New settings: a new session is ready.  "
				    "n steps, r runs.");
			return;
		}
		if (t->ovk == OV_PASSWORD) {
			if (rc == FORM_DONE) {
				char *pw = form_value(t->form);
				config_set(&t->cfg->password, *pw ? pw : NULL);
				wipe(pw, strlen(pw));
				free(pw);
			}
			ov_hide(t);
			new_session(t);
			if (!t->cfg->password)
				tui_message(t, true, "No password: the auth step will fail.  "
					    "e sets one.");
			return;
		}
		/* OV_SAVE */
		if (rc == FORM_DONE) {
			char *name = form_value(t->form);
			if (*name)
				save_transcript(t, name);
			free(name);
		}
		ov_hide(t);
		return;
	}

	int h = t->ov ? getmaxy(t->ov) - 3 : 10;
	if (keycode) {
		switch (ch) {
		case KEY_UP: t->ov_top--; break;
		case KEY_DOWN: t->ov_top++; break;
		case KEY_PPAGE: t->ov_top -= h - 1; break;
		case KEY_NPAGE: t->ov_top += h - 1; break;
		case KEY_HOME: t->ov_top = 0; break;
		case KEY_END: t->ov_top = (int)t->ovdoc.n; break;
		case KEY_ENTER: ov_hide(t); return;
		default: return;
		}
		t->dirty |= DIRTY_OVERLAY;
		return;
	}
	switch (ch) {
	case 'k': t->ov_top--; break;
	case 'j': t->ov_top++; break;
	case ' ': t->ov_top += h - 1; break;
	case 27: case 'q': case '\r': case '\n': case 3:
		ov_hide(t);
		return;
	case '?':
		if (t->ovk == OV_HELP) {
			ov_hide(t);
			return;
		}
		ov_show(t, OV_HELP);
		return;
	case 't':
		if (t->ovk == OV_TLS) {
			ov_hide(t);
			return;
		}
		if (t->scr == SCR_SESSION)
			ov_show(t, OV_TLS);
		return;
	default:
		return;
	}
	t->dirty |= DIRTY_OVERLAY;
}

static void
key_cmdline(struct tui *t, wint_t ch, bool keycode, bool meta)
{
	char *line = NULL;
	int rc = cmdline_key(t->cl, t->s, ch, keycode, meta, &line, t->cl_hint,
			     sizeof t->cl_hint);
	t->dirty |= DIRTY_FOOTER;
	if (rc < 0) {
		t->cl_on = false;
		cmdline_reset(t->cl);
		return;
	}
	if (rc == 0)
		return;
	t->cl_on = false;
	if (!*line) {
		free(line);
		return;
	}
	cmdline_remember(t->cl, line);
	char err[256];
	if (session_raw(t->s, line, err, sizeof err) < 0) {
		tui_message(t, true, "%s", err);
	} else {
		t->raw_from = t->s->tr.n ? t->s->tr.n - 1 : 0;
		t->follow = true;
		t->diag_top = 0;
		t->dirty |= DIRTY_ALL & ~DIRTY_OVERLAY;
	}
	wipe(line, strlen(line));
	free(line);
}

static void
scroll_diag(struct tui *t, int delta, bool absolute)
{
	if (absolute)
		t->diag_top = delta;
	else
		t->diag_top += delta;
	t->dirty |= DIRTY_DIAG;
}

static void
key_nav(struct tui *t, int ch)
{
	int page = trans_page(t);
	if (t->focus == RG_DIAG) {
		int h, w;
		region_inner(t, RG_DIAG, &h, &w);
		switch (ch) {
		case KEY_UP: scroll_diag(t, -1, false); break;
		case KEY_DOWN: scroll_diag(t, 1, false); break;
		case KEY_PPAGE: scroll_diag(t, -(h - 1), false); break;
		case KEY_NPAGE: scroll_diag(t, h - 1, false); break;
		case KEY_HOME: scroll_diag(t, 0, true); break;
		case KEY_END: scroll_diag(t, 1 << 20, true); break;
		}
		return;
	}
	switch (ch) {
	case KEY_UP: trans_move(t, -1); break;
	case KEY_DOWN: trans_move(t, 1); break;
	case KEY_PPAGE: trans_move(t, -page); break;
	case KEY_NPAGE: trans_move(t, page); break;
	case KEY_HOME: trans_home(t); break;
	case KEY_END: trans_end(t); break;
	}
}

/* ---- the port advisor's screen ----------------------------------------------- */

static void
show_screen(struct tui *t, enum ui_screen scr)
{
	t->scr = scr;
	t->cl_on = false;
	t->msg[0] = '\0';
	layout_apply(t);
	if (t->ovk != OV_NONE)
		ov_place(t);
	t->dirty = DIRTY_ALL;
}

/* `w` on the session screen: back to the sweep this session came from,
 * or a new sweep of the session's host on the default ports. */
static void
which_port(struct tui *t)
{
	if (session_busy(t->s)) {
		tui_message(t, false, "A step is under way: wait for it, or Esc "
			    "cancels it; then w sweeps the ports.");
		return;
	}
	if (!t->cfg->host || !*t->cfg->host) {
		tui_message(t, true, "No host to sweep: e sets one.");
		return;
	}
	t->adv.have_session = true;
	if (t->adv.w && !strcmp(sweep_host(t->adv.w), t->cfg->host)) {
		show_screen(t, SCR_SWEEP);
		return;
	}
	char err[256];
	if (adv_init(t, NULL, false, err, sizeof err) < 0) {
		tui_message(t, true, "%s", err);
		return;
	}
	adv_start(t);
	show_screen(t, SCR_SWEEP);
}

/* Enter on a row: the step-by-step session on that port and mode. */
static void
sweep_enter(struct tui *t)
{
	struct advisor *a = &t->adv;
	const struct sweep_port *p = adv_selected(t);
	if (!p)
		return;
	if (p->state != SWS_DONE) {
		tui_message(t, false, "Port %d is still being probed: wait for its "
			    "verdict.", p->port);
		return;
	}
	int port = p->port;
	enum tls_mode mode = p->mode != TLSM_NONE ? p->mode : TLSM_AUTO;
	t->cfg->port = port;
	t->cfg->role_port = 0;
	t->cfg->tls = mode;
	if (*a->address) {
		/* the mail domain stays known to the diagnosis: its
		 * recipients are the MX host's own */
		if (t->cfg->mx && !t->cfg->mx_domain)
			config_set(&t->cfg->mx_domain, t->cfg->host);
		config_set(&t->cfg->host, a->address);
		if (!a->own_servername)
			config_set(&t->cfg->servername, a->host);
	}
	a->have_session = true;
	show_screen(t, SCR_SESSION);
	tui_restart(t);
	tui_message(t, false, "Port %d, %s: n steps, r runs to the end, w goes "
		    "back to the ports.", port, adv_mode_words(config_tls(t->cfg)));
}

static void
key_sweep(struct tui *t, wint_t ch, bool keycode)
{
	struct advisor *a = &t->adv;
	int ph = a->pane[a->pane[1] ? a->focus : 0] ?
		 getmaxy(a->pane[a->pane[1] ? a->focus : 0]) - 3 : 5;
	if (ph < 1)
		ph = 1;
	if (keycode) {
		switch (ch) {
		case KEY_UP: adv_move(t, -1, false); return;
		case KEY_DOWN: adv_move(t, 1, false); return;
		case KEY_HOME: adv_move(t, 0, true); return;
		case KEY_END: adv_move(t, SWEEP_MAX_PORTS, true); return;
		case KEY_PPAGE: adv_scroll(t, -ph, false); return;
		case KEY_NPAGE: adv_scroll(t, ph, false); return;
		case KEY_ENTER: sweep_enter(t); return;
		case KEY_BTAB:
			a->focus = !a->focus;
			t->dirty |= DIRTY_ALL & ~DIRTY_OVERLAY;
			return;
		case KEY_F(1): ov_show(t, OV_HELP); return;
		}
		return;
	}
	switch (ch) {
	case 'q':
	case 3:
		t->quit = true;
		return;
	case 'k': adv_move(t, -1, false); return;
	case 'j': adv_move(t, 1, false); return;
	case 'g': adv_move(t, 0, true); return;
	case 'G': adv_move(t, SWEEP_MAX_PORTS, true); return;
	case ' ': adv_scroll(t, ph, false); return;
	case '\r':
	case '\n':
		sweep_enter(t);
		return;
	case 'R':
		a->target = 0;
		a->note[0] = '\0';
		adv_start(t);
		tui_message(t, false, "Sweeping again.");
		return;
	case 'r':
	case 'n':
		tui_message(t, false, "Enter runs the session on the selected port; "
			    "R sweeps again.");
		return;
	case 27:
	case 'b':
		if (a->have_session)
			show_screen(t, SCR_SESSION);
		else
			tui_message(t, false, "No session yet: Enter starts one on the "
				    "selected port; q quits.");
		return;
	case 'w':
		tui_message(t, false, "This is the port sweep: R sweeps again.");
		return;
	case '\t':
		a->focus = !a->focus;
		t->dirty |= DIRTY_ALL & ~DIRTY_OVERLAY;
		return;
	case '?':
		ov_show(t, OV_HELP);
		return;
	case 12:
		clearok(curscr, TRUE);
		t->dirty = DIRTY_ALL;
		return;
	}
}

static void
key_main(struct tui *t, wint_t ch, bool keycode)
{
	if (keycode) {
		switch (ch) {
		case KEY_UP: case KEY_DOWN: case KEY_PPAGE: case KEY_NPAGE:
		case KEY_HOME: case KEY_END:
			key_nav(t, (int)ch);
			return;
		case KEY_ENTER:
			ov_show(t, OV_EXPLAIN);
			return;
		case KEY_BTAB:
			focus(t, t->mode == LM_TABS || t->zoom ?
			      (enum region)((t->focus + RG_COUNT - 1) % RG_COUNT) :
			      t->focus == RG_DIAG ? RG_TRANS : RG_DIAG);
			return;
		case KEY_F(1):
			ov_show(t, OV_HELP);
			return;
		}
		return;
	}
	switch (ch) {
	case 'q':
	case 3:			/* ^C */
		t->quit = true;
		return;
	case 'n':
	case ' ':
		step(t);
		return;
	case 'r':
		run_all(t);
		return;
	case 'R':
		tui_restart(t);
		tui_message(t, false, "Started over: a new session is ready.");
		return;
	case 27:		/* Esc */
		if (session_busy(t->s)) {
			t->run_all = false;
			session_cancel(t->s);
			tui_message(t, false, "Cancelled.");
		} else if (t->zoom) {
			t->zoom = false;
			resize(t);
		} else if (t->adv.w) {
			show_screen(t, SCR_SWEEP);
		}
		return;
	case 'w':
		which_port(t);
		return;
	case 'b':
		if (t->adv.w && !session_busy(t->s))
			show_screen(t, SCR_SWEEP);
		else if (t->adv.w)
			tui_message(t, false, "A step is under way: wait for it, or "
				    "Esc cancels it.");
		else
			tui_message(t, false, "No port sweep yet: w sweeps this "
				    "host's ports.");
		return;
	case ':':
		if (!t->cl) {
			char err[256];
			t->cl = cmdline_new(err, sizeof err);
			if (!t->cl) {
				tui_message(t, true, "%s", err);
				return;
			}
		}
		t->cl_on = true;
		t->cl_hint[0] = '\0';
		if (!t->s->started || t->s->finished)
			snprintf(t->cl_hint, sizeof t->cl_hint, "not connected yet: "
				 "press Esc, then n");
		t->msg[0] = '\0';
		t->dirty |= DIRTY_FOOTER;
		return;
	case '?':
		ov_show(t, OV_HELP);
		return;
	case '\r':
	case '\n':
		ov_show(t, OV_EXPLAIN);
		return;
	case 't':
		ov_show(t, OV_TLS);
		return;
	case 'e':
		t->form = form_settings(t->cfg);
		ov_show(t, OV_FORM);
		return;
	case 's':
		{
			char *n = save_name(t);
			t->form = form_save(n);
			free(n);
			ov_show(t, OV_SAVE);
		}
		return;
	case 'v':
		t->teach = !t->teach;
		tui_message(t, false, t->teach ? "Teaching view: what each line "
			    "means, under it.  v again to leave." :
			    "Teaching view off.");
		t->dirty |= DIRTY_TRANS;
		return;
	case '\t':
		if (t->mode == LM_TABS || t->zoom)
			focus(t, (enum region)((t->focus + 1) % RG_COUNT));
		else
			focus(t, t->focus == RG_DIAG ? RG_TRANS : RG_DIAG);
		return;
	case '1': case '2': case '3':
		focus(t, (enum region)(ch - '1'));
		return;
	case 'z':
		if (t->mode == LM_TABS)
			return;
		t->zoom = !t->zoom;
		if (t->zoom && t->focus == RG_STEPS)
			t->focus = RG_TRANS;
		resize(t);
		return;
	case 'k':
		key_nav(t, KEY_UP);
		return;
	case 'j':
		key_nav(t, KEY_DOWN);
		return;
	case 'g':
		key_nav(t, KEY_HOME);
		return;
	case 'G':
		key_nav(t, KEY_END);
		return;
	case 12:		/* ^L */
		clearok(curscr, TRUE);
		t->dirty = DIRTY_ALL;
		return;
	}
}

/* Read every key there is now. */
static void
read_keys(struct tui *t)
{
	wint_t ch;
	int r;
	while (!t->quit && (r = wget_wch(t->input, &ch)) != ERR) {
		bool keycode = r == KEY_CODE_YES;
		bool meta = false;
		if (keycode && ch == KEY_RESIZE) {
			resize(t);
			continue;
		}
		if (!keycode && ch == 27) {
			/* Alt-x arrives as Esc x; a lone Esc has nothing after it */
			wint_t next;
			int r2 = wget_wch(t->input, &next);
			if (r2 != ERR) {
				if (t->cl_on && r2 == OK) {
					key_cmdline(t, next, false, true);
					continue;
				}
				/* Esc, then the key on its own */
				if (t->ovk != OV_NONE)
					key_overlay(t, 27, false);
				else if (t->scr == SCR_SWEEP)
					key_sweep(t, 27, false);
				else if (t->cl_on)
					key_cmdline(t, 27, false, false);
				else
					key_main(t, 27, false);
				ch = next;
				keycode = r2 == KEY_CODE_YES;
				if (keycode && ch == KEY_RESIZE) {
					resize(t);
					continue;
				}
			}
		}
		if (t->mode == LM_TOO_SMALL) {
			if (!keycode && (ch == 'q' || ch == 3))
				t->quit = true;
			continue;
		}
		if (*t->msg && !t->cl_on) {
			t->msg[0] = '\0';
			t->dirty |= DIRTY_FOOTER;
		}
		if (t->ovk != OV_NONE)
			key_overlay(t, ch, keycode);
		else if (t->scr == SCR_SWEEP)
			key_sweep(t, ch, keycode);
		else if (t->cl_on)
			key_cmdline(t, ch, keycode, meta);
		else
			key_main(t, ch, keycode);
	}
}

/* For libedit: a command wants one more key in the same call. */
static bool
cl_more(void *ctx, wint_t *ch, bool *keycode)
{
	struct tui *t = ctx;
	t->dirty |= DIRTY_FOOTER;
	draw_all(t);
	wtimeout(t->input, 3000);
	int r = wget_wch(t->input, ch);
	nodelay(t->input, TRUE);
	if (r == ERR)
		return false;
	*keycode = r == KEY_CODE_YES;
	return true;
}

/* ---- the loop ------------------------------------------------------------------ */

static int
ms_until(double when)
{
	double left = when - now_mono();
	if (left <= 0)
		return 0;
	return (int)(left * 1000) + 1;
}

static void
loop(struct tui *t)
{
	double next_tick = 0;
	while (!t->quit && !got_signal) {
		struct session *s = t->s;
		if (t->run_all && session_can_step(s))
			session_go(s, RUN_ALL);
		watch(t);
		if (t->dirty)
			draw_all(t);

		/* the keyboard, the session's socket (fd -1: none), then the
		 * sweep's, one slot per port (sweep.h) */
		struct pollfd pf[2 + SWEEP_MAX_PORTS] = {
			{ .fd = STDIN_FILENO, .events = POLLIN }, { .fd = -1 },
		};
		int nfd = 2;
		double deadline = -1, wdl = -1;
		bool busy = session_busy(s);
		if (busy)
			session_wait(s, &pf[1], &deadline);
		int nsw = adv_pollfds(t, pf + 2, SWEEP_MAX_PORTS, &wdl);
		bool sweeping = nsw > 0;
		nfd += nsw;
		int timeout = -1;
		if (deadline >= 0)
			timeout = ms_until(deadline);
		if (wdl >= 0 && (timeout < 0 || ms_until(wdl) < timeout))
			timeout = ms_until(wdl);
		if (busy || sweeping) {
			if (next_tick <= 0)
				next_tick = now_mono() + TICK_MS / 1000.0;
			int tick = ms_until(next_tick);
			if (timeout < 0 || tick < timeout)
				timeout = tick;
		}
		if (t->msg_until > 0) {
			int m = ms_until(t->msg_until);
			if (timeout < 0 || m < timeout)
				timeout = m;
		}
		int rc = poll(pf, (nfds_t)nfd, timeout);
		if (rc < 0 && errno != EINTR)
			break;
		double now = now_mono();

		if (busy) {
			short rev = rc > 0 ? pf[1].revents : 0;
			if (rev || (deadline >= 0 && now >= deadline))
				session_handle(s, rev);
		}
		if (sweeping) {
			if (rc <= 0)
				for (int i = 0; i < nsw; i++)
					pf[2 + i].revents = 0;
			adv_handle(t, pf + 2, nsw);
		}
		if (rc > 0 && (pf[0].revents & (POLLHUP | POLLERR | POLLNVAL)) &&
		    !(pf[0].revents & POLLIN))
			break;	/* the terminal went away */
		read_keys(t);

		if ((busy || sweeping) && now >= next_tick) {
			next_tick = now + TICK_MS / 1000.0;
			t->spin++;
			t->dirty |= DIRTY_HEADER | DIRTY_STEPS | DIRTY_FOOTER | DIRTY_DIAG;
		} else if (!busy && !sweeping) {
			next_tick = 0;
		}
		if (t->msg_until > 0 && now >= t->msg_until) {
			t->msg_until = 0;
			t->msg[0] = '\0';
			t->dirty |= DIRTY_FOOTER;
		}
	}
}

/* ---- start and end ------------------------------------------------------------- */

/*
 * The keys a terminal sends often differ from what TERM says (PuTTY's
 * Home is ESC [ 1 ~, tmux's too, whatever TERM claims).  Teach curses the
 * common forms it does not know yet, as htop does.
 */
static void
more_keys(void)
{
	static const struct { const char *seq; int key; } k[] = {
		{ "\033[1~", KEY_HOME }, { "\033[7~", KEY_HOME },
		{ "\033[H", KEY_HOME }, { "\033OH", KEY_HOME },
		{ "\033[4~", KEY_END }, { "\033[8~", KEY_END },
		{ "\033[F", KEY_END }, { "\033OF", KEY_END },
		{ "\033[5~", KEY_PPAGE }, { "\033[6~", KEY_NPAGE },
		{ "\033[3~", KEY_DC }, { "\033[Z", KEY_BTAB },
		{ "\033[A", KEY_UP }, { "\033[B", KEY_DOWN },
		{ "\033[C", KEY_RIGHT }, { "\033[D", KEY_LEFT },
		{ "\033OA", KEY_UP }, { "\033OB", KEY_DOWN },
		{ "\033OC", KEY_RIGHT }, { "\033OD", KEY_LEFT },
		{ "\033OM", KEY_ENTER },
	};
	for (size_t i = 0; i < ARRAY_SIZE(k); i++)
		if (key_defined(k[i].seq) == 0)
			define_key(k[i].seq, k[i].key);
}

/* The TUI on the session screen, or (sweep) on the port advisor's. */
static int
run(struct config *cfg, const struct tui_opts *o, bool sweep, const char *ports)
{
	struct tui t0 = { 0 }, *t = &t0;
	t->cfg = cfg;
	t->opts = o;
	t->raw_from = (size_t)-1;
	t->ov_cury = t->ov_curx = -1;
	t->focus = RG_TRANS;
	if (sweep) {
		char perr[256];
		if (adv_init(t, ports, o->mx != NULL, perr, sizeof perr) < 0) {
			fprintf(stderr, "smtpdx: %s\n", perr);
			return 2;
		}
		t->scr = SCR_SWEEP;
	}

	/* stderr into a file while curses runs */
	fflush(stderr);
	int saved_err = dup(STDERR_FILENO);
	FILE *errf = tmpfile();
	if (saved_err >= 0 && errf)
		dup2(fileno(errf), STDERR_FILENO);

	SCREEN *scr = newterm(NULL, stdout, stdin);
	if (!scr) {
		if (saved_err >= 0) {
			dup2(saved_err, STDERR_FILENO);
			close(saved_err);
		}
		if (errf)
			fclose(errf);	/* curses' own words: ours say it better */
		const char *term = getenv("TERM");
		fprintf(stderr, "smtpdx: cannot drive this terminal (TERM=%s): "
			"running as --batch\n", term ? term : "");
		return -1;
	}
	set_term(scr);
	ui_utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	raw();
	noecho();
	nonl();
	curs_set(0);
	set_escdelay(25);
	t->color = !o->no_color && has_colors();
	theme_init(!o->no_color);
	t->input = newwin(1, 1, 0, 0);
	keypad(t->input, TRUE);
	nodelay(t->input, TRUE);
	more_keys();

	struct sigaction sa = { .sa_handler = on_signal };
	struct sigaction old_term, old_hup;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGHUP, &sa, &old_hup);

	char err[256];
	t->cl = cmdline_new(err, sizeof err);
	if (t->cl)
		cmdline_set_more(t->cl, cl_more, t);

	new_session(t);
	if (sweep)
		adv_start(t);
	layout_apply(t);
	if (!sweep && cfg->user && !cfg->password)
		ask_password(t);
	loop(t);

	/* the status of what is on the screen at the end */
	int status;
	if (t->scr == SCR_SWEEP)
		status = t->adv.w && sweep_done(t->adv.w) ?
			 sweep_exit_status(t->adv.w) : 1;
	else
		status = t->s->finished ? session_exit_status(t->s) : 0;
	ov_hide(t);
	layout_free(t);
	delwin(t->input);
	doc_free(&t->diag);
	doc_free(&t->ovdoc);
	endwin();
	delscreen(scr);
	session_free(t->s);
	adv_free(t);
	cmdline_free(t->cl);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);

	/* what was said on stderr meanwhile, now that it can be read */
	if (saved_err >= 0) {
		fflush(stderr);
		dup2(saved_err, STDERR_FILENO);
		close(saved_err);
	}
	if (errf) {
		char buf[4096];
		size_t n;
		rewind(errf);
		while ((n = fread(buf, 1, sizeof buf, errf)) > 0)
			fwrite(buf, 1, n, stderr);
		fclose(errf);
	}
	if (got_signal)
		return 1;
	return status;
}

int
tui_run(struct config *cfg, const struct tui_opts *o)
{
	return run(cfg, o, false, NULL);
}

int
tui_run_sweep(struct config *cfg, const struct tui_opts *o, const char *ports)
{
	return run(cfg, o, true, ports);
}

const char *
tui_versions(void)
{
	static char v[96];
	snprintf(v, sizeof v, "%s, libedit %d.%d", curses_version(),
		 LIBEDIT_MAJOR, LIBEDIT_MINOR);
	return v;
}

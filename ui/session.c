/*
 * session.c - the session screen: the steps, the transcript, the decision
 * tree and the diagnosis, the header and the footer; its keys (one table:
 * dispatch, footer and help); the session's life (a step per `n`).
 *
 * Each draw_* function erases its window, draws it whole from the state
 * and calls wnoutrefresh(); curses then sends only the cells that really
 * changed.  The screen's draw() calls those whose dirty bit is set; the
 * one doupdate() of the turn is ui_draw()'s (core.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui.h"
#include "../src/lab/lab.h"
#include "../src/util.h"

static void draw_header(struct tui *t);
static void draw_footer(struct tui *t);
static void draw_steps(struct tui *t);
static void draw_trans(struct tui *t);
static void draw_diag(struct tui *t);
static void diag_build(struct tui *t, int width, bool compact);
static unsigned session_state(const struct tui *t);
extern const struct screen screen_session;

/* The question each step answers, for the live decision tree. */
static const char *const step_question[STEP_COUNT] = {
	[STEP_RESOLVE] = "Does the name resolve?",
	[STEP_CONNECT] = "Does the port accept a TCP connection?",
	[STEP_GREETING] = "Does the server greet us with 220?",
	[STEP_EHLO] = "Does it answer EHLO, and what does it offer?",
	[STEP_STARTTLS] = "Does it agree to STARTTLS?",
	[STEP_TLS] = "Does TLS come up with a trusted certificate?",
	[STEP_EHLO_TLS] = "What does it offer inside TLS?",
	[STEP_AUTH] = "Does it accept the login?",
	[STEP_MAIL] = "Does it accept the sender?",
	[STEP_RCPT] = "Does it accept the recipient?",
	[STEP_DATA] = "Does it take the message?",
	[STEP_QUIT] = "Does it say goodbye?",
};

static double
running_seconds(const struct session *s)
{
	return now_mono() - session_step_started(s);
}

static void
fmt_secs(char *b, size_t n, double t)
{
	if (t < 0)
		t = 0;
	if (t < 10)
		snprintf(b, n, "%.3fs", t);
	else if (t < 100)
		snprintf(b, n, "%.2fs", t);
	else if (t < 10000)
		snprintf(b, n, "%.0fs", t);
	else
		snprintf(b, n, ">2h");
}

/* ---- header ---------------------------------------------------------------- */

static const char *
mode_words(enum tls_mode m)
{
	switch (m) {
	case TLSM_IMPLICIT: return "implicit TLS";
	case TLSM_NONE: return "no TLS";
	default: return "STARTTLS";
	}
}

static void
draw_header(struct tui *t)
{
	WINDOW *w = t->header;
	const struct session *s = t->s;
	int cols = t->cols;
	char buf[512];

	werase(w);
	put_fill(w, 0, 0, cols, ST_BAR, 0);

	/* the verdict on the right */
	int rst = ST_BAR_BOLD;
	if (s->finished) {
		if (diag_has_error(&s->diags)) {
			const struct diagnosis *d = NULL;
			for (size_t i = 0; i < s->diags.n && !d; i++)
				if (s->diags.v[i].sev == SEV_ERROR)
					d = &s->diags.v[i];
			if (ws_secret(t))	/* a mystery: named later */
				snprintf(buf, sizeof buf, " %s FAILED ", mark_u8(MK_FAIL));
			else
				snprintf(buf, sizeof buf, " %s FAILED: %s ",
					 mark_u8(MK_FAIL), d ? diag_info(d->id)->id : "?");
			rst = ST_BAR_FAIL;
		} else if (s->diags.n) {
			snprintf(buf, sizeof buf, " %s PASSED, with warnings ",
				 mark_u8(MK_WARN));
			rst = ST_BADGE_WARN;
		} else {
			snprintf(buf, sizeof buf, " %s PASSED ", mark_u8(MK_OK));
			rst = ST_BADGE_OK;
		}
	} else if (session_busy(s)) {
		snprintf(buf, sizeof buf, " %s %s ", mark_u8(MK_RUNNING),
			 session_raw_pending(s) ? "your command" :
			 s->cur >= 0 ? step_name(s->cur) : "");
	} else if (s->started) {
		snprintf(buf, sizeof buf, " paused: n for the next step ");
	} else {
		snprintf(buf, sizeof buf, " ready ");
	}
	int rw = u8_width(buf);
	int right = cols - rw;
	if (right < cols / 2)
		right = cols / 2;
	put_str(w, 0, right, buf, cols - right, rst, 0, true);

	/* the left side: pieces in screen order, each with a priority; the
	 * least needed go first when the bar is short */
	struct piece {
		char text[160];
		int st, prio;		/* prio 0: always */
	} pc[8];
	int np = 0;
#define PIECE(pr, sty, ...) do { \
		snprintf(pc[np].text, sizeof pc[np].text, __VA_ARGS__); \
		pc[np].st = (sty); \
		pc[np].prio = (pr); \
		np++; \
	} while (0)
	PIECE(0, ST_BAR_BOLD, " smtpdx ");
	if (ws_label(t))
		PIECE(3, ST_BAR, " lab %s ", ws_label(t));
	if (*s->address && s->cfg.host && strcmp(s->address, s->cfg.host))
		PIECE(0, ST_BAR_BOLD, " %s [%s]:%d ", s->cfg.host, s->address, s->port);
	else
		PIECE(0, ST_BAR_BOLD, " %s:%d ", s->cfg.host ? s->cfg.host : "?",
		      s->port);
	PIECE(2, ST_BAR, " %s ", mode_words(s->tls_mode));
	if (s->tls.done) {
		PIECE(1, ST_BAR_BOLD, " %s %s ", mark_u8(MK_LOCK), s->tls.version);
		PIECE(4, ST_BAR, "%s ", s->tls.cipher);
		if (s->tls.verified)
			PIECE(1, ST_BAR_OK, "%s verified ", mark_u8(MK_OK));
		else
			PIECE(1, ST_BAR_FAIL, "%s NOT verified ", mark_u8(MK_FAIL));
	} else if (s->tls_mode != TLSM_NONE && s->status[STEP_TLS] == SS_FAIL) {
		PIECE(1, ST_BAR_FAIL, " TLS failed ");
	} else if (s->tls_mode == TLSM_NONE) {
		PIECE(1, ST_BAR_WARN, " plaintext ");
	} else {
		PIECE(2, ST_BAR, " no TLS yet ");
	}
	char login[128];
	if (ws_login(t, login, sizeof login))	/* password exercises */
		PIECE(4, ST_BAR, " login %s ", login);
#undef PIECE
	int total = 0;
	for (int i = 0; i < np; i++)
		total += u8_width(pc[i].text);
	/* drop pieces, least needed first, until the rest fits */
	for (int pr = 4; pr > 0 && total > right; pr--)
		for (int i = 0; i < np; i++)
			if (pc[i].prio == pr && pc[i].text[0]) {
				total -= u8_width(pc[i].text);
				pc[i].text[0] = '\0';
			}
	int x = 0;
	for (int i = 0; i < np; i++)
		if (pc[i].text[0])
			x += put_str(w, 0, x, pc[i].text, right - x, pc[i].st, 0, true);
	(void)x;
	wnoutrefresh(w);
}

/* ---- footer ---------------------------------------------------------------- */

static void
footer_cmdline(struct tui *t)
{
	WINDOW *w = t->footer;
	size_t n, cur;
	const wchar_t *line = cmdline_text(t->cl, &n, &cur);
	int cols = t->cols;
	int hintw = *t->cl_hint ? u8_width(t->cl_hint) + 2 : 0;
	int room = cols - 2 - 1;
	if (hintw && room - hintw >= 30)
		room -= hintw;
	else
		hintw = 0;

	put_str(w, 0, 0, ":", 1, ST_KEY, 0, false);
	/* scroll so the cursor stays in view */
	size_t first = 0;
	while (first < cur && wcs_width(line + first, cur - first) > room - 1)
		first++;
	put_wcs(w, 0, 2, line + first, n - first, room, ST_NORMAL, 0, false);
	t->cl_curx = 2 + wcs_width(line + first, cur - first);
	if (hintw)
		put_str(w, 0, cols - hintw + 1, t->cl_hint, hintw - 1, ST_DIM, 0, true);
}

static void
draw_footer(struct tui *t)
{
	WINDOW *w = t->footer;
	const struct session *s = t->s;
	int cols = t->cols;
	char buf[256];

	werase(w);
	put_fill(w, 0, 0, cols, ST_NORMAL, 0);
	if (t->over == SCREEN_PASSWORD && t->form) {
		/* modal: no key here reaches the session */
		size_t n = form_length(t->form);
		snprintf(buf, sizeof buf, " PASSWORD PROMPT: keys are text here, r "
			 "and q too   %zu character%s   Enter use it   Esc go on "
			 "without ", n, n == 1 ? "" : "s");
		put_fill(w, 0, 0, cols, ST_BAR_WARN, 0);
		put_str(w, 0, 0, buf, cols, ST_BAR_WARN, 0, true);
		wnoutrefresh(w);
		return;
	}
	if (t->cl_on) {
		footer_cmdline(t);
		wnoutrefresh(w);
		return;
	}
	if (*t->msg) {
		put_str(w, 0, 1, t->msg, cols - 2, t->msg_err ? ST_ERR : ST_MSG, 0, true);
		wnoutrefresh(w);
		return;
	}
	int x = 1;
	if (session_busy(s)) {
		static const wchar_t spin_u[] = L"\u280b\u2819\u2839\u2838\u283c\u2834\u2826\u2827\u2807\u280f";
		static const wchar_t spin_a[] = L"|/-\\";
		const wchar_t *sp = ui_utf8 ? spin_u : spin_a;
		size_t ns = wcslen(sp);
		x += put_wcs(w, 0, x, sp + (size_t)t->spin % ns, 1, 1, ST_RUNNING, 0, false);
		snprintf(buf, sizeof buf, " %s: waiting %.1f s of %.0f s ",
			 session_raw_pending(s) ? "your command" :
			 s->cur >= 0 ? step_name(s->cur) : "", running_seconds(s),
			 s->cfg.timeout > 0 ? s->cfg.timeout : 15.0);
		x += put_str(w, 0, x, buf, cols - x, ST_BOLD, 0, true);
		ui_footer_keys(t, w, x + 2, &screen_session);
		wnoutrefresh(w);
		return;
	}

	/* the diagnosis has the focus and more than its window shows */
	if (session_state(t) & KW_MORE) {
		struct keyhint more = { ui_utf8 ? "\u2191\u2193" : "Up/Dn",
					"scroll the diagnosis" };
		int used = put_hint(w, x, cols - x - 20, &more);
		if (used > 0)
			x += used;
	}
	ui_footer_keys(t, w, x, &screen_session);
	wnoutrefresh(w);
}

/* ---- steps ----------------------------------------------------------------- */

static void
draw_steps(struct tui *t)
{
	WINDOW *w = t->rg[RG_STEPS];
	const struct session *s = t->s;
	int h, wd;
	char tb[16];

	werase(w);
	region_frame(t, RG_STEPS, NULL, NULL);
	region_inner(t, RG_STEPS, &h, &wd);

	int order[STEP_COUNT];
	int n = session_step_order(s, order);
	int next = session_can_step(s) ? session_next_step(s) : -1;
	int y = 0;
	for (int i = 0; i < n && y < h; i++, y++) {
		int st = order[i];
		enum step_status ss = s->status[st];
		enum mark m = MK_PENDING;
		int mst = ST_PENDING, nst = ST_PENDING;
		double secs = s->seconds[st];
		bool show_time = false;
		switch (ss) {
		case SS_OK:
			m = MK_OK, mst = ST_OK, nst = ST_NORMAL, show_time = true;
			break;
		case SS_WARN:
			m = MK_WARN, mst = ST_WARN, nst = ST_NORMAL, show_time = true;
			break;
		case SS_FAIL:
			m = MK_FAIL, mst = ST_FAIL, nst = ST_FAIL, show_time = true;
			break;
		case SS_SKIPPED:
			m = MK_SKIPPED, mst = ST_PENDING, nst = ST_PENDING;
			break;
		case SS_RUNNING:
			m = MK_RUNNING, mst = ST_RUNNING, nst = ST_BOLD;
			secs = running_seconds(s);
			show_time = true;
			break;
		case SS_PENDING:
			break;
		}
		if (st == next) {
			m = MK_NEXT;
			mst = nst = ST_NEXT;
		}
		put_mark(w, 1 + y, 2, m, mst, 0);
		put_str(w, 1 + y, 4, step_name(st), wd - 3, nst, 0, true);
		if (show_time) {
			fmt_secs(tb, sizeof tb, secs);
			int tw = (int)strlen(tb);
			if (wd - tw >= 12)
				put_str(w, 1 + y, 1 + wd - tw, tb, tw, ss == SS_RUNNING ?
					ST_BOLD : ST_TIME, 0, false);
		} else if (ss == SS_SKIPPED && wd >= 18) {
			put_str(w, 1 + y, 1 + wd - 4, "skip", 4, ST_PENDING, 0, false);
		}
	}
	/* below the list, when there is room: the total and the verdict */
	if (y + 3 <= h && s->started) {
		y++;
		double total = 0;
		for (int i = 0; i < STEP_COUNT; i++)
			total += s->status[i] == SS_RUNNING ? running_seconds(s) :
				 s->seconds[i];
		fmt_secs(tb, sizeof tb, total);
		put_str(w, 1 + y, 2, "total", wd - 2, ST_DIM, 0, false);
		put_str(w, 1 + y, 1 + wd - (int)strlen(tb), tb, (int)strlen(tb),
			ST_DIM, 0, false);
		y++;
		if (s->finished) {
			bool err = diag_has_error(&s->diags);
			put_mark(w, 1 + y, 2, err ? MK_FAIL : s->diags.n ? MK_WARN : MK_OK,
				 err ? ST_FAIL : s->diags.n ? ST_WARN : ST_OK, 0);
			put_str(w, 1 + y, 4, err ? "failed" : s->diags.n ? "warnings" :
				"passed", wd - 3, err ? ST_FAIL : s->diags.n ? ST_WARN :
				ST_OK, 0, false);
		}
	}
	/* a legend for the marks, for whoever sees them the first time */
	static const struct { enum mark m; int st; const char *w, *brief; } lg[] = {
		{ MK_OK, ST_OK, "ok", "ok" }, { MK_FAIL, ST_FAIL, "failed", "fail" },
		{ MK_WARN, ST_WARN, "warning", "warn" },
		{ MK_PENDING, ST_PENDING, "to do", "todo" },
		{ MK_SKIPPED, ST_PENDING, "skipped", "skip" },
		{ MK_NEXT, ST_NEXT, "next", "next" },
	};
	int nl = (int)ARRAY_SIZE(lg);
	bool one_col = h - y >= nl + 2;
	int rows = one_col ? nl : (nl + 1) / 2;
	if (h - y >= rows + 1) {
		int ly = h - rows;
		for (int i = 0; i < nl; i++) {
			int row = one_col ? ly + i : ly + i / 2;
			int col = one_col ? 2 : 2 + (i % 2) * (wd / 2);
			put_mark(w, 1 + row, col, lg[i].m, lg[i].st, 0);
			put_str(w, 1 + row, col + 2, one_col ? lg[i].w : lg[i].brief,
				one_col ? wd - 3 : wd / 2 - 3, ST_DIM, 0, false);
		}
	}
	wnoutrefresh(w);
}

/* ---- transcript ------------------------------------------------------------ */

struct tgeom {
	int width;		/* inner width */
	int gutter;		/* columns before the text */
	bool time;		/* show the time column */
};

static void
tgeom(const struct tui *t, struct tgeom *g)
{
	int h;
	region_inner(t, RG_TRANS, &h, &g->width);
	g->time = g->width >= 56;
	g->gutter = (g->time ? 8 : 0) + 2 + 3;
}

/* Is line i part of a command typed on the `:` line, or its reply? */
static bool
in_raw(const struct session *s, size_t i)
{
	for (size_t k = i + 1; k-- > 0;) {
		const struct tr_line *l = &s->tr.v[k];
		if (l->dir == TR_CLIENT)
			return l->step < 0;
		if (l->dir == TR_INFO)
			return false;
	}
	return false;
}

static bool
step_head(const struct tui *t, size_t i)
{
	const struct tr_line *l = &t->s->tr.v[i];
	if (!t->teach || l->step < 0)
		return false;
	return i == 0 || t->s->tr.v[i - 1].step != l->step;
}

/* The notes under line i, wrapped into d; returns their rows. */
static int
line_notes(const struct tui *t, size_t i, const struct tgeom *g, struct doc *d)
{
	if (!t->teach && !in_raw(t->s, i))
		return 0;
	char *gl = tr_gloss(t->s, i);
	if (!gl)
		return 0;
	doc_reset(d, g->width);
	char *arrow = xasprintf("%s ", ui_utf8 ? "\u21b3" : "'-");
	doc_wrap(d, g->gutter + 2, NULL, 0, ST_NOTE, gl);
	/* the arrow goes just before the text of the first row */
	if (d->n) {
		size_t an;
		wchar_t *aw = u8_to_wcs(arrow, strlen(arrow), &an);
		struct dline *l = &d->v[0];
		size_t at = (size_t)g->gutter;
		for (size_t k = 0; k < an && at + k < l->n; k++) {
			l->w[at + k] = aw[k];
			l->st[at + k] = ST_NOTE;
		}
		free(aw);
	}
	free(arrow);
	free(gl);
	return (int)d->n;
}

/*
 * Long lines wrap, always the same way: at the last space that fits when
 * there is one in the second half of the row, else at the width; the
 * rows after the first start under the text with MK_WRAP before them.
 * Nothing is cut: the line that matters (a 535, a certificate failure) is
 * read whole at any size.  starts[] gets where each row begins (wide
 * characters); returns the number of rows, at most max.
 */
#define WRAP_MAX 64

static int
wrap_rows(const wchar_t *w, size_t n, int cols, size_t *starts, int max)
{
	int rows = 0;
	size_t at = 0;
	if (cols < 8)
		cols = 8;
	do {
		starts[rows++] = at;
		int used = 0;
		size_t end = at, space = 0;
		while (end < n) {
			int cw = wcwidth(w[end]);
			if (cw < 0)
				cw = 1;
			if (used + cw > cols)
				break;
			used += cw;
			if (w[end] == L' ')
				space = end + 1;
			end++;
		}
		if (end < n && space > at && (int)(space - at) * 2 >= (int)(end - at))
			end = space;
		if (end == at)
			end++;	/* a character wider than the row */
		at = end;
	} while (at < n && rows < max);
	return rows;
}

static int
text_cols(const struct tgeom *g)
{
	return g->width - g->gutter;
}

static int
text_rows(const struct tr_line *l, const struct tgeom *g)
{
	size_t n, starts[WRAP_MAX];
	wchar_t *w = u8_to_wcs(l->text, strlen(l->text), &n);
	int r = wrap_rows(w, n, text_cols(g), starts, WRAP_MAX);
	free(w);
	return r;
}

static int
line_rows(const struct tui *t, size_t i, const struct tgeom *g, struct doc *d)
{
	return (step_head(t, i) ? 1 : 0) + text_rows(&t->s->tr.v[i], g) +
	       line_notes(t, i, g, d);
}

static int
line_style(const struct tr_line *l)
{
	if (l->dir == TR_CLIENT)
		return l->step == STEP_DATA && !explain_is_command(l->text) ?
		       ST_MESSAGE : ST_CLIENT;
	if (l->dir == TR_INFO)
		return ST_INFO;
	if ((l->text[0] == '4' || l->text[0] == '5') &&
	    l->text[1] >= '0' && l->text[1] <= '9')
		return ST_SERVER_ERR;
	return ST_SERVER;
}

/*
 * One transcript line.  The selected line is one bar across the region:
 * the focus colour when the transcript has the focus, reverse video
 * otherwise (and always without colour), so it never rests on colour.
 */
static int
draw_line(WINDOW *w, int y, const struct tr_line *l, const struct tgeom *g,
	  int sel, double t0, int maxrows)
{
	int x = 1;
	char tb[32];
	int st = line_style(l);
	enum mark m = l->dir == TR_SERVER ? MK_SERVER : l->dir == TR_CLIENT ?
		      MK_CLIENT : MK_INFO;
	/* sel: 0 no, 1 selected, 2 selected and focused */
	int bar = sel == 2 ? ST_SELECTED : ST_SELECTED_OFF;
	attr_t bold = st == ST_CLIENT ? A_BOLD : 0;
	put_fill(w, y, 1, g->width, sel ? bar : ST_NORMAL, 0);
	if (g->time) {
		snprintf(tb, sizeof tb, "%7.3f ", l->t - t0);
		x += put_str(w, y, x, tb, 8, sel ? bar : ST_TIME, 0, false);
	}
	if (l->tls)
		put_mark(w, y, x, MK_TLS, sel ? bar : ST_TLSMARK, sel ? A_BOLD : 0);
	x += 2;
	put_mark(w, y, x, m, sel ? bar : st == ST_INFO ? ST_DIM : st, sel ? bold : 0);
	x += 3;
	size_t n, starts[WRAP_MAX];
	wchar_t *tw = u8_to_wcs(l->text, strlen(l->text), &n);
	int rows = wrap_rows(tw, n, g->width + 1 - x, starts, WRAP_MAX);
	if (rows > maxrows)
		rows = maxrows;
	for (int r = 0; r < rows; r++) {
		size_t a = starts[r];
		size_t b = r + 1 < rows ? starts[r + 1] : n;
		if (r > 0) {
			put_fill(w, y + r, 1, g->width, sel ? bar : ST_NORMAL, 0);
			put_mark(w, y + r, x - 2, MK_WRAP, sel ? bar : ST_DIM, 0);
		}
		/* the last row shown of a line cut by the window's end */
		bool cut = r == rows - 1 && b < n;
		put_wcs(w, y + r, x, tw + a, b - a, g->width + 1 - x, sel ? bar : st,
			sel ? bold : 0, cut);
	}
	free(tw);
	return rows;
}

/* Keep the selection in view: move top so that sel's rows fit. */
static void
trans_fit(struct tui *t)
{
	const struct session *s = t->s;
	struct tgeom g;
	struct doc d = { 0 };
	int h, wd;
	region_inner(t, RG_TRANS, &h, &wd);
	tgeom(t, &g);
	if (s->tr.n == 0) {
		t->sel = t->top = 0;
		return;
	}
	if (t->follow)
		t->sel = s->tr.n - 1;
	if (t->sel >= s->tr.n)
		t->sel = s->tr.n - 1;
	if (t->top > t->sel)
		t->top = t->sel;
	if (h <= 0)
		return;
	int rows = 0;
	for (size_t i = t->top; i <= t->sel; i++)
		rows += line_rows(t, i, &g, &d);
	while (rows > h && t->top < t->sel) {
		rows -= line_rows(t, t->top, &g, &d);
		t->top++;
	}
	/* at the end, fill the window rather than leave rows empty */
	if (t->follow) {
		while (t->top > 0) {
			int r = line_rows(t, t->top - 1, &g, &d);
			if (rows + r > h)
				break;
			rows += r;
			t->top--;
		}
	}
	doc_free(&d);
}

void
trans_move(struct tui *t, long delta)
{
	size_t n = t->s->tr.n;
	if (n == 0)
		return;
	long v = (long)t->sel + delta;
	if (v < 0)
		v = 0;
	if (v >= (long)n)
		v = (long)n - 1;
	t->sel = (size_t)v;
	t->follow = t->sel == n - 1 && delta > 0;
	t->dirty |= DIRTY_TRANS;
}

void
trans_home(struct tui *t)
{
	t->sel = t->top = 0;
	t->follow = false;
	t->dirty |= DIRTY_TRANS;
}

void
trans_end(struct tui *t)
{
	t->follow = true;
	t->dirty |= DIRTY_TRANS;
}

int
trans_page(const struct tui *t)
{
	int h, wd;
	region_inner(t, RG_TRANS, &h, &wd);
	return h > 2 ? h - 1 : 1;
}

static void
trans_empty(struct tui *t, WINDOW *w, int h, int wd)
{
	static const char *const lines[] = {
		"Nothing sent yet.",
		"",
		"Press n to run the next step,",
		"r to run to the end.",
		"",
		"? shows every key.",
	};
	int y0 = (h - (int)ARRAY_SIZE(lines)) / 2;
	if (y0 < 0)
		y0 = 0;
	for (size_t i = 0; i < ARRAY_SIZE(lines) && y0 + (int)i < h; i++) {
		int lw = u8_width(lines[i]);
		int x = (wd - lw) / 2;
		if (x < 0)
			x = 0;
		put_str(w, 1 + y0 + (int)i, 1 + x, lines[i], wd - x,
			i == 0 ? ST_BOLD : ST_HINT, 0, true);
	}
	(void)t;
}

static void
draw_trans(struct tui *t)
{
	WINDOW *w = t->rg[RG_TRANS];
	const struct session *s = t->s;
	struct tgeom g;
	struct doc d = { 0 };
	int h, wd;
	char right[64];

	trans_fit(t);
	werase(w);
	region_inner(t, RG_TRANS, &h, &wd);
	tgeom(t, &g);
	if (s->tr.n)
		snprintf(right, sizeof right, "%s%zu/%zu", t->teach ? "teaching view  " :
			 "", t->sel + 1, s->tr.n);
	else
		snprintf(right, sizeof right, "%s", t->teach ? "teaching view" : "");
	region_frame(t, RG_TRANS, NULL, right);
	if (s->tr.n == 0) {
		trans_empty(t, w, h, wd);
		wnoutrefresh(w);
		return;
	}
	int y = 0;
	t->nrows_drawn = 0;
	for (size_t i = t->top; i < s->tr.n && y < h; i++) {
		const struct tr_line *l = &s->tr.v[i];
		int y0 = y;
		if (step_head(t, i)) {
			char *hd = xasprintf(" %s: %s ", step_name(l->step),
					     step_title(l->step));
			style_set(w, ST_STEPHEAD, 0);
			ui_hline(w, 1 + y, 1, wd);
			put_str(w, 1 + y, 3, hd, wd - 4, ST_STEPHEAD, 0, true);
			free(hd);
			if (++y >= h)
				break;
		}
		y += draw_line(w, 1 + y, l, &g, i != t->sel ? 0 :
			       t->focus == RG_TRANS ? 2 : 1, s->tr.v[0].t, h - y);
		int nr = line_notes(t, i, &g, &d);
		if (nr > 0) {
			int shown = nr < h - y ? nr : h - y;
			doc_draw(w, &d, 0, 1 + y, 1, shown, wd);
			y += shown;
		}
		for (int r = y0; r < y && r < (int)ARRAY_SIZE(t->row_line); r++)
			t->row_line[r] = i;
		t->nrows_drawn = y < (int)ARRAY_SIZE(t->row_line) ? y :
				 (int)ARRAY_SIZE(t->row_line);
	}
	/* marks on the right border when there is more above or below */
	if (t->top > 0)
		put_mark(w, 1, wd + 1, MK_UP, ST_BORDER_FOCUS, 0);
	if (y >= h && !(t->sel == s->tr.n - 1))
		put_mark(w, h, wd + 1, MK_DOWN, ST_BORDER_FOCUS, 0);
	doc_free(&d);
	wnoutrefresh(w);
}

/* ---- the decision tree / diagnosis ---------------------------------------- */

/* What the server said during step st: the keywords of an EHLO reply, or
 * the last reply line, or the last information line. */
static char *
step_answer(const struct session *s, int st)
{
	const struct tr_line *lastS = NULL, *lastI = NULL;
	struct buf caps = { 0 };
	int nS = 0;
	for (size_t i = 0; i < s->tr.n; i++) {
		const struct tr_line *l = &s->tr.v[i];
		if (l->step != st)
			continue;
		if (l->dir == TR_SERVER) {
			/* the session marks the capability lines */
			if (*l->capability && strlen(l->text) > 4) {
				const char *kw = l->text + 4;
				if (!strcmp(l->capability, "AUTH"))
					buf_printf(&caps, "%s%s", caps.len ? ", " : "", kw);
				else
					buf_printf(&caps, "%s%s", caps.len ? ", " : "",
						   l->capability);
			}
			lastS = l;
			nS++;
		} else if (l->dir == TR_INFO) {
			lastI = l;
		}
	}
	if (caps.len && s->status[st] != SS_FAIL) {
		char *r = xasprintf("offers %s", caps.data);
		buf_free(&caps);
		return r;
	}
	buf_free(&caps);
	if (lastS)
		return xstrdup(lastS->text);
	if (lastI)
		return xstrdup(lastI->text);
	return NULL;
}

static void
live_tree(struct tui *t, struct doc *d, const char *heading)
{
	const struct session *s = t->s;
	int order[STEP_COUNT];
	int n = session_step_order(s, order);

	doc_heading(d, heading);
	for (int i = 0; i < n; i++) {
		int st = order[i];
		enum step_status ss = s->status[st];
		if (ss == SS_PENDING || ss == SS_SKIPPED)
			continue;
		doc_nl(d);
		enum mark m = ss == SS_OK ? MK_OK : ss == SS_WARN ? MK_WARN :
			      ss == SS_FAIL ? MK_FAIL : MK_RUNNING;
		int mst = ss == SS_OK ? ST_OK : ss == SS_WARN ? ST_WARN :
			  ss == SS_FAIL ? ST_FAIL : ST_RUNNING;
		char *lab = xasprintf("%s", mark_u8(m));
		doc_wrap(d, 2, lab, mst, ST_QUESTION, step_question[st]);
		free(lab);
		if (ss == SS_RUNNING) {
			char *wt = xasprintf("waiting %.1f s ...", running_seconds(s));
			doc_wrap(d, 4, NULL, 0, ST_DIM, wt);
			free(wt);
			continue;
		}
		char *a = step_answer(s, st);
		char *line = xasprintf("%s%s%s", ss == SS_FAIL ? "no" : ss == SS_WARN ?
				       "yes, with a warning" : "yes", a ? ": " : "",
				       a ? a : "");
		doc_wrap(d, 4, NULL, 0, ss == SS_FAIL ? ST_FAIL : ST_FACT, line);
		free(line);
		free(a);
	}
	int next = session_can_step(s) ? session_next_step(s) : -1;
	if (next >= 0) {
		doc_nl(d);
		doc_nl(d);
		doc_add(d, ST_NEXT, mark_u8(MK_NEXT));
		doc_add(d, ST_NEXT, " Next: ");
		doc_add(d, ST_BOLD, step_title(next));
		doc_wrap(d, 2, NULL, 0, ST_DIM, step_question[next]);
		doc_nl(d);
		doc_nl(d);
		doc_add(d, ST_KEY, "n");
		doc_add(d, ST_HINT, " runs it, ");
		doc_add(d, ST_KEY, "r");
		doc_add(d, ST_HINT, " runs to the end.");
	}
}

static void
plan(struct tui *t, struct doc *d)
{
	const struct session *s = t->s;
	const struct config *c = &s->cfg;
	char *v;

	doc_heading(d, "The plan");
	ws_plan(t, d);
	v = xasprintf("%s port %d", c->host ? c->host : "?", s->port);
	doc_wrap(d, 9, "Server", ST_LABEL, ST_BOLD, v);
	free(v);
	v = xasprintf("%s%s%s", s->tls_mode == TLSM_STARTTLS ?
		      "STARTTLS: upgrade after the first EHLO" :
		      s->tls_mode == TLSM_IMPLICIT ? "implicit: TLS from the first byte" :
		      "none: plaintext all the way", c->servername ? ", name " : "",
		      c->servername ? c->servername : "");
	doc_wrap(d, 9, "TLS", ST_LABEL, ST_NORMAL, v);
	free(v);
	if (c->user)
		v = xasprintf("as %s, mechanism %s%s", c->user, auth_mech_name(c->mech),
			      c->password ? "" : " (no password yet)");
	else
		v = xstrdup("no: no user given (-u)");
	doc_wrap(d, 9, "Login", ST_LABEL, ST_NORMAL, v);
	free(v);
	struct buf b = { 0 };
	for (int i = 0; i < c->nto; i++)
		buf_printf(&b, "%s%s", i ? ", " : "", c->to[i]);
	v = xasprintf("from %s to %s%s", session_sender(s),
		      b.len ? b.data : "(the sender)",
		      c->no_send ? " (stops before DATA)" : "");
	buf_free(&b);
	doc_wrap(d, 9, "Mail", ST_LABEL, ST_NORMAL, v);
	free(v);
	doc_nl(d);
	doc_wrap(d, 0, NULL, 0, ST_BOLD, "Press n to run the next step, r to run "
		 "to the end.");
	doc_wrap(d, 0, NULL, 0, ST_DIM, "Each step lights up on the left; what "
		 "crosses the wire appears in the transcript; the questions the "
		 "steps answer collect here.");
}

/* Append text to the last line if it fits, else on a new indented line. */
static void
append_fit(struct doc *d, int st, const char *text, int indent)
{
	int have = d->n ? wcs_width(d->v[d->n - 1].w, d->v[d->n - 1].n) : 0;
	if (d->n && have + 1 + u8_width(text) <= d->width) {
		doc_add(d, st, " ");
		doc_add(d, st, text);
	} else {
		doc_wrap(d, indent, NULL, 0, st, text);
	}
}

static void
path_block(struct doc *d, const struct diagnosis *g, int st)
{
	const struct diag_info *di = diag_info(g->id);
	if (g->npath) {
		doc_wrap(d, 0, NULL, 0, ST_LABEL, "Decision path");
		for (size_t k = 0; k < g->npath; k++) {
			const struct path_step *p = &g->path[k];
			char *num = xasprintf("%2zu", k + 1);
			doc_wrap(d, 4, num, ST_DIM, ST_QUESTION, p->question ? p->question :
				 p->node);
			free(num);
			char *a = xasprintf("%s %s", mark_u8(MK_ARROW), p->answer ?
					    p->answer : "?");
			append_fit(d, ST_ANSWER, a, 6);
			free(a);
		}
		doc_nl(d);
		doc_add(d, ST_NORMAL, "  ");
		doc_addmark(d, st, MK_BRANCH);
		doc_add(d, st, " ");
		doc_add(d, st, di->id);
	}
}

/*
 * One diagnosis.  With room, the decision path comes right under the
 * title (the teaching order: how we got here); in a short window
 * (compact) the evidence and the fix come first, since that is what a
 * glance must catch.
 */
static void
diagnosis_block(struct doc *d, const struct diagnosis *g, bool compact)
{
	const struct diag_info *di = diag_info(g->id);
	int st = g->sev == SEV_ERROR ? ST_FAIL : g->sev == SEV_WARNING ? ST_WARN :
		 ST_NORMAL;
	enum mark m = g->sev == SEV_ERROR ? MK_FAIL : g->sev == SEV_WARNING ?
		      MK_WARN : MK_DOT;
	if (d->n)
		doc_nl(d);
	doc_wrap(d, 2, mark_u8(m), st, st, di->title);
	char *v = xasprintf("%s %s %s, at step %s", di->id, mark_u8(MK_DOT),
			    severity_name(g->sev), step_name(g->step));
	doc_wrap(d, 2, NULL, 0, ST_DIM, v);
	free(v);
	if (!compact)
		path_block(d, g, st);
	if (g->evidence && *g->evidence) {
		doc_wrap(d, 0, NULL, 0, ST_LABEL, "Evidence");
		doc_wrap(d, 2, NULL, 0, ST_SERVER, g->evidence);
	}
	doc_wrap(d, 0, NULL, 0, ST_LABEL, "Fix");
	doc_wrap(d, 2, NULL, 0, ST_BOLD, g->fix);
	if (compact)
		path_block(d, g, st);
	doc_wrap(d, 0, NULL, 0, ST_LABEL, "What happened");
	doc_wrap(d, 2, NULL, 0, ST_NORMAL, g->explanation);
	if (di->rfc && *di->rfc) {
		doc_wrap(d, 5, "See", ST_LABEL, ST_DIM, di->rfc);
	}
}

static void
raw_section(struct tui *t, struct doc *d)
{
	const struct session *s = t->s;
	if (t->raw_from == (size_t)-1 || t->raw_from >= s->tr.n)
		return;
	doc_heading(d, "Your command");
	const struct tr_line *last = NULL;
	for (size_t i = t->raw_from; i < s->tr.n; i++) {
		const struct tr_line *l = &s->tr.v[i];
		if (i > t->raw_from && l->dir == TR_CLIENT)
			break;
		doc_nl(d);
		doc_add(d, ST_DIM, " ");
		if (l->dir == TR_SERVER) {
			doc_addmark(d, ST_SERVER, MK_SERVER);
			last = l;
		} else if (l->dir == TR_CLIENT) {
			doc_addmark(d, ST_CLIENT, MK_CLIENT);
		} else {
			doc_addmark(d, ST_DIM, MK_INFO);
		}
		doc_add(d, ST_NORMAL, " ");
		doc_add(d, line_style(l), l->text);
	}
	if (last) {
		explain_reply_words(d, last->text);
	} else if (session_raw_pending(s)) {
		doc_wrap(d, 2, NULL, 0, ST_DIM, "waiting for the reply ...");
	}
	doc_nl(d);
}

static void
diag_build(struct tui *t, int width, bool compact)
{
	const struct session *s = t->s;
	struct doc *d = &t->diag;

	doc_reset(d, width);
	raw_section(t, d);
	if (!s->started) {
		plan(t, d);
		return;
	}
	if (ws_secret(t)) {	/* a mystery: no tree, no diagnosis yet */
		ws_hidden(t, d);
		return;
	}
	if (!s->finished) {
		live_tree(t, d, "What we know so far");
		return;
	}
	bool err = diag_has_error(&s->diags);
	if (!err) {
		doc_nl(d);
		if (s->diags.n)
			doc_wrap(d, 2, mark_u8(MK_WARN), ST_WARN, ST_WARN,
				 "It works, with warnings");
		else
			doc_wrap(d, 2, mark_u8(MK_OK), ST_OK, ST_OK, "It works");
		const struct tr_line *done = NULL;
		for (size_t i = 0; i < s->tr.n; i++)
			if (s->tr.v[i].dir == TR_SERVER && s->tr.v[i].step == STEP_DATA)
				done = &s->tr.v[i];
		doc_wrap(d, 2, NULL, 0, ST_NORMAL, s->status[STEP_DATA] == SS_OK ?
			 "Every step passed and the server took the test message "
			 "for delivery." : "Every step passed.");
		if (done)
			doc_wrap(d, 2, NULL, 0, ST_SERVER, done->text);
		doc_wrap(d, 0, NULL, 0, ST_LABEL, "Decision path");
		doc_wrap(d, 4, " 1", ST_DIM, ST_QUESTION, "Did a step of the session fail?");
		char *a = xasprintf("%s no", mark_u8(MK_ARROW));
		append_fit(d, ST_ANSWER, a, 6);
		free(a);
	}
	/* errors first, then warnings, then the rest */
	for (int sev = SEV_ERROR; sev <= SEV_INFO; sev++)
		for (size_t i = 0; i < s->diags.n; i++)
			if ((int)s->diags.v[i].sev == sev)
				diagnosis_block(d, &s->diags.v[i], compact);
	doc_nl(d);
	live_tree(t, d, "What each step showed");
	doc_nl(d);
	doc_nl(d);
	doc_add(d, ST_KEY, "R");
	doc_add(d, ST_HINT, " starts over, ");
	doc_add(d, ST_KEY, "e");
	doc_add(d, ST_HINT, " changes the settings.");
}

static void
draw_diag(struct tui *t)
{
	WINDOW *w = t->rg[RG_DIAG];
	int h, wd;
	region_inner(t, RG_DIAG, &h, &wd);
	diag_build(t, wd - 2, h < 16);
	int maxtop = (int)t->diag.n - h;
	if (maxtop < 0)
		maxtop = 0;
	if (t->diag_top > maxtop)
		t->diag_top = maxtop;
	if (t->diag_top < 0)
		t->diag_top = 0;
	werase(w);
	char right[32] = "";
	if (maxtop > 0)
		snprintf(right, sizeof right, "%d%%", maxtop ? t->diag_top * 100 / maxtop : 100);
	region_frame(t, RG_DIAG, t->s->finished ? "Diagnosis" : "Decision tree", right);
	doc_draw(w, &t->diag, t->diag_top, 1, 2, h, wd - 2);
	if (t->diag_top > 0)
		put_mark(w, 1, wd + 1, MK_UP, ST_BORDER_FOCUS, 0);
	if (t->diag_top < maxtop)
		put_mark(w, h, wd + 1, MK_DOWN, ST_BORDER_FOCUS, 0);
	wnoutrefresh(w);
}

/* ---- everything ------------------------------------------------------------- */

/* ---- the session's life -------------------------------------------------------- */

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

void
session_watch(struct tui *t)
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
	if (t->over == SCREEN_TLS || t->over == SCREEN_EXPLAIN)
		t->dirty |= DIRTY_OVERLAY;
	if (just_finished) {
		ws_finished(t);
		t->run_all = false;
		t->diag_top = 0;
		/* a failure: the diagnosis takes the focus (and, one region
		 * at a time, the screen), so the arrows scroll it */
		if (diag_has_error(&s->diags) && t->focus != RG_DIAG) {
			t->focus = RG_DIAG;
			if (t->body == SCREEN_SESSION && (t->mode == LM_TABS || t->zoom))
				ui_relayout(t);
		}
	}
	seen(t);
}

void
session_renew(struct tui *t)
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
	session_renew(t);
	if (t->cfg->user && !t->cfg->password && t->over == SCREEN_NONE)
		ui_open(t, SCREEN_PASSWORD);
}

/* A session needs a host: --deliverability opens the TUI without one
 * (its `b` leads here).  True, with a word to the user, when there is
 * none. */
static bool
no_host(struct tui *t)
{
	if (t->cfg->host && *t->cfg->host)
		return false;
	tui_message(t, true, "No host to talk to: e sets one (D: the "
		    "deliverability checks).");
	return true;
}

static void
step(struct tui *t)
{
	struct session *s = t->s;
	if (no_host(t))
		return;
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
	if (no_host(t))
		return;
	if (s->finished) {
		tui_message(t, false, "The session is over: R starts over.");
		return;
	}
	t->run_all = true;
	t->follow = true;
	t->raw_from = (size_t)-1;
	session_go(s, RUN_ALL);
}

/* ---- keys ---------------------------------------------------------------------- */

enum {
	SA_NEXT = KA_FIRST, SA_RUN, SA_RESTART, SA_RESTART_YES, SA_PORTS,
	SA_BACK, SA_CMDLINE, SA_CANCEL, SA_EXPLAIN, SA_TLS, SA_SETTINGS,
	SA_TEACH, SA_SAVE, SA_UP, SA_DOWN, SA_PGUP, SA_PGDN, SA_HOME, SA_END,
	SA_TAB, SA_BTAB, SA_REGION1, SA_REGION2, SA_REGION3, SA_ZOOM,
	SA_REDRAW, SA_HELP, SA_QUIT, SA_INTR, SA_TREE, SA_MOUSE, SA_TIMING,
	SA_PICKER, SA_NAME, SA_HINT,
	SA_DELIVER, SA_PROFILES, SA_FINDFIX,
};

static const struct keydef session_keys[] = {
	{ 'n', false, SA_NEXT, "n", "run the next step", "next step",
	  KW_IDLE | KW_TODO, "Run the session" },
	{ ' ', false, SA_NEXT, "space", NULL, NULL, 0, NULL },
	{ 'r', false, SA_RUN, "r", "run to the end", "run all", KW_TODO, NULL },
	{ 'R', false, SA_RESTART, "R", "start over (a new session, same "
	  "settings; asks first in the middle of a session)", "restart", KW_IDLE,
	  NULL },
	{ 'f', false, SA_FINDFIX, "f", "find-fix, after a failure: try one change "
	  "at a time (no mail sent), show the smallest that works as a command "
	  "line, and apply it", "find fix", KW_IDLE | KW_FAILED, NULL },
	{ 'w', false, SA_PORTS, "w", "which port: sweep this host's ports (587, "
	  "465, 2525, 25) at once; back to the sweep when the session came from "
	  "one", "ports", KW_IDLE, NULL },
	{ 'b', false, SA_BACK, "b", "back to the port sweep", NULL, 0, NULL },
	{ 'D', false, SA_DELIVER, "D", "will my mail arrive? DNS checks of the "
	  "sending domain (--from's): SPF, DMARC, DKIM, MTA-STS, TLS-RPT, DANE, "
	  "MX and reverse DNS, each with the record to publish", NULL, 0, NULL },
	{ 27, false, SA_CANCEL, "Esc", "cancel the step under way", "cancel",
	  KW_BUSY, NULL },
	{ ':', false, SA_CMDLINE, ":", "raw command line: type SMTP into the live "
	  "session", "command", KW_IDLE | KW_LIVE, NULL },
	{ '\r', false, SA_EXPLAIN, "Enter", "explain the selected line",
	  "explain", KW_IDLE, "Look closer" },
	{ '\n', false, SA_EXPLAIN, "Enter", NULL, NULL, 0, NULL },
	{ KEY_ENTER, true, SA_EXPLAIN, "Enter", NULL, NULL, 0, NULL },
	{ 'T', false, SA_TREE, "T", "the whole decision tree, the path this "
	  "session walked marked", "tree", KW_IDLE, NULL },
	{ 'l', false, SA_TIMING, "l", "where the time went: a waterfall of the "
	  "steps, and each reply's latency (command sent to reply complete)",
	  NULL, 0, NULL },
	{ 't', false, SA_TLS, "t", "TLS details: version, cipher, certificates",
	  "TLS", KW_IDLE, NULL },
	{ 'e', false, SA_SETTINGS, "e", "settings: host, port, TLS, login ... "
	  "then start over", "settings", KW_IDLE, NULL },
	{ 'L', false, SA_PICKER, "L", "the lab's scenarios by stage: run one, "
	  "fix one (fix-it), or a mystery", "scenarios", KW_IDLE | KW_LAB,
	  "The lab" },
	{ 'd', false, SA_NAME, "d", "mystery: name the diagnosis (then it is "
	  "shown)", "name it", KW_GUESS, NULL },
	{ 'h', false, SA_HINT, "h", "fix-it: a hint, one at a time", "hint",
	  KW_HINT, NULL },
	{ 'p', false, SA_PROFILES, "p", "profiles: pick one of the config file's "
	  "[profile NAME] sections and start over with it (e, then Ctrl-P, saves "
	  "one)", NULL, 0, NULL },
	{ 'v', false, SA_TEACH, "v", "teaching view: words under every line",
	  "teach", KW_IDLE, NULL },
	{ 's', false, SA_SAVE, "s", "save the transcript to a file (passwords "
	  "redacted; never through a symbolic link, asks before overwriting)",
	  "save", KW_IDLE, NULL },
	{ '/', false, KA_NONE, "/", "search the transcript; then n N go to the "
	  "next and previous match, Esc ends the search", "search", KW_IDLE, NULL },
	{ KEY_UP, true, SA_UP, "Up", "select a transcript line (or scroll the "
	  "region with the focus)", NULL, 0, NULL },
	{ 'k', false, SA_UP, "k", NULL, NULL, 0, NULL },
	{ KEY_DOWN, true, SA_DOWN, "Down", NULL, NULL, 0, NULL },
	{ 'j', false, SA_DOWN, "j", NULL, NULL, 0, NULL },
	{ KEY_PPAGE, true, SA_PGUP, "PgUp", "scroll a page", NULL, 0, NULL },
	{ KEY_NPAGE, true, SA_PGDN, "PgDn", NULL, NULL, 0, NULL },
	{ KEY_HOME, true, SA_HOME, "Home", "first line", NULL, 0, NULL },
	{ 'g', false, SA_HOME, "g", NULL, NULL, 0, NULL },
	{ KEY_END, true, SA_END, "End", "newest line (and follow it)", NULL, 0,
	  NULL },
	{ 'G', false, SA_END, "G", NULL, NULL, 0, NULL },
	{ '\t', false, SA_TAB, "Tab", "switch region (arrows act on it)", NULL, 0,
	  NULL },
	{ KEY_BTAB, true, SA_BTAB, "Shift-Tab", NULL, NULL, 0, NULL },
	{ '1', false, SA_REGION1, "1", "the steps", NULL, 0, NULL },
	{ '2', false, SA_REGION2, "2", "the transcript", NULL, 0, NULL },
	{ '3', false, SA_REGION3, "3", "the decision tree and the diagnosis",
	  NULL, 0, NULL },
	{ 'z', false, SA_ZOOM, "z", "zoom the region to the whole screen", NULL,
	  0, NULL },
	{ 12, false, SA_REDRAW, "Ctrl-L", "redraw the screen", NULL, 0, NULL },
	{ KEY_MOUSE, true, SA_MOUSE, "mouse", "the wheel scrolls, a click "
	  "selects a transcript line (where the terminal reports the mouse)",
	  NULL, 0, NULL },
	{ 26, false, KA_NONE, "Ctrl-Z", "suspend to the shell; fg comes back",
	  NULL, 0, NULL },
	{ 3, false, SA_INTR, "Ctrl-C", "quit, as interrupted (status 4)", NULL,
	  0, NULL },
	{ '?', false, SA_HELP, "?", "this help", "help", 0, NULL },
	{ KEY_F(1), true, SA_HELP, "F1", NULL, NULL, 0, NULL },
	{ 'q', false, SA_QUIT, "q", "quit (status 4 in the middle of a session)",
	  "quit", 0, NULL },
	{ 0, false, 0, NULL, NULL, NULL, 0, NULL }
};

static unsigned
session_state(const struct tui *t)
{
	const struct session *s = t->s;
	unsigned st = session_busy(s) ? KW_BUSY : KW_IDLE;
	if (s->started && !s->finished)
		st |= KW_LIVE;
	if (!s->finished)
		st |= KW_TODO;
	else if (session_exit_status(s) != 0)
		st |= KW_FAILED;
	if (t->ws.sc)
		st |= KW_LAB;
	if (ws_secret(t) && s->finished)
		st |= KW_GUESS;
	if (t->ws.sc && t->ws.mode == WS_FIXIT && !t->ws.solved)
		st |= KW_HINT;
	int dh, dw;
	region_inner(t, RG_DIAG, &dh, &dw);
	if (t->focus == RG_DIAG && region_visible(t, RG_DIAG) && (int)t->diag.n > dh)
		st |= KW_MORE;
	return st;
}

static void
focus(struct tui *t, enum region r)
{
	t->focus = r;
	if (t->mode == LM_TABS || t->zoom)
		ui_relayout(t);
	t->dirty = DIRTY_ALL;
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
nav(struct tui *t, int action)
{
	int page = trans_page(t);
	if (t->focus == RG_DIAG) {
		int h, w;
		region_inner(t, RG_DIAG, &h, &w);
		switch (action) {
		case SA_UP: scroll_diag(t, -1, false); break;
		case SA_DOWN: scroll_diag(t, 1, false); break;
		case SA_PGUP: scroll_diag(t, -(h - 1), false); break;
		case SA_PGDN: scroll_diag(t, h - 1, false); break;
		case SA_HOME: scroll_diag(t, 0, true); break;
		case SA_END: scroll_diag(t, 1 << 20, true); break;
		}
		return;
	}
	switch (action) {
	case SA_UP: trans_move(t, -1); break;
	case SA_DOWN: trans_move(t, 1); break;
	case SA_PGUP: trans_move(t, -page); break;
	case SA_PGDN: trans_move(t, page); break;
	case SA_HOME: trans_home(t); break;
	case SA_END: trans_end(t); break;
	}
}

/* A key on the `:` line. */
static void
key_cmdline(struct tui *t, wint_t ch, bool keycode)
{
	char *line = NULL;
	int rc = cmdline_key(t->cl, t->s, ch, keycode, t->meta, &line, t->cl_hint,
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

/* `w`: back to the sweep this session came from, or a new sweep of the
 * session's host on the default ports (the advisor screen starts it). */
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
	if (!t->adv.w || strcmp(sweep_host(t->adv.w), t->cfg->host)) {
		char err[256];
		if (adv_init(t, NULL, false, err, sizeof err) < 0) {
			tui_message(t, true, "%s", err);
			return;
		}
		adv_start(t);
	}
	ui_open(t, SCREEN_ADVISOR);
}

/* The wheel scrolls the region under the pointer (the focused one when
 * none is); a click on a transcript row selects its line. */
static void
mouse(struct tui *t)
{
	MEVENT ev;
	if (getmouse(&ev) != OK)
		return;
	enum region under = t->focus;
	for (int r = 0; r < RG_COUNT; r++)
		if (region_visible(t, (enum region)r) &&
		    wenclose(t->rg[r], ev.y, ev.x))
			under = (enum region)r;
	if (ev.bstate & (BUTTON4_PRESSED | BUTTON5_PRESSED)) {
		int d = ev.bstate & BUTTON4_PRESSED ? -3 : 3;
		if (under == RG_DIAG)
			scroll_diag(t, d, false);
		else
			trans_move(t, d);
		return;
	}
	if (!(ev.bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED)))
		return;
	if (under != t->focus && under != RG_STEPS)
		focus(t, under);
	int y = ev.y, x = ev.x;
	if (under == RG_TRANS && wmouse_trafo(t->rg[RG_TRANS], &y, &x, FALSE)) {
		int row = y - 1;	/* inside the border */
		if (row >= 0 && row < t->nrows_drawn) {
			t->sel = t->row_line[row];
			t->follow = false;
			t->dirty |= DIRTY_TRANS;
		}
	}
}

static void
session_key(struct tui *t, int action, wint_t ch, bool keycode)
{
	if (t->cl_on) {
		key_cmdline(t, ch, keycode);
		return;
	}
	switch (action) {
	case SA_INTR:
		t->interrupted = true;
		/* fall through */
	case SA_QUIT:
		t->quit = true;
		return;
	case SA_NEXT:
		step(t);
		return;
	case SA_RUN:
		run_all(t);
		return;
	case SA_RESTART:
		if (t->s->started && !t->s->finished) {
			ui_ask(t, SCREEN_SESSION, SA_RESTART_YES, "Not started over: the session goes on.",
			       "Start over?  The session so far is dropped.");
			return;
		}
		/* fall through */
	case SA_RESTART_YES:
		tui_restart(t);
		tui_message(t, false, "Started over: a new session is ready.");
		return;
	case SA_CANCEL:
		if (session_busy(t->s)) {
			t->run_all = false;
			session_cancel(t->s);
			tui_message(t, false, "Cancelled.");
		} else if (t->zoom) {
			t->zoom = false;
			ui_relayout(t);
		} else if (t->adv.w) {
			ui_open(t, SCREEN_ADVISOR);
		}
		return;
	case SA_PORTS:
		which_port(t);
		return;
	case SA_BACK:
		if (t->adv.w && !session_busy(t->s))
			ui_open(t, SCREEN_ADVISOR);
		else if (t->adv.w)
			tui_message(t, false, "A step is under way: wait for it, or "
				    "Esc cancels it.");
		else
			tui_message(t, false, "No port sweep yet: w sweeps this "
				    "host's ports.");
		return;
	case SA_CMDLINE:
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
	case SA_HELP: ui_open(t, SCREEN_HELP); return;
	case SA_EXPLAIN: ui_open(t, SCREEN_EXPLAIN); return;
	case SA_TLS: ui_open(t, SCREEN_TLS); return;
	case SA_TREE:
		if (ws_secret(t)) {
			tui_message(t, false, "The tree tells the answer: d names "
				    "the diagnosis first.");
			return;
		}
		ui_open(t, SCREEN_TREE);
		return;
	case SA_PICKER: ws_picker(t); return;
	case SA_NAME: ws_name_it(t); return;
	case SA_HINT: ws_hint(t); return;
	case SA_TIMING: ui_open(t, SCREEN_TIMING); return;
	case SA_DELIVER: ui_open(t, SCREEN_DELIVER); return;
	case SA_SETTINGS: ui_open(t, SCREEN_SETTINGS); return;
	case SA_SAVE:
		if (ws_secret(t)) {
			tui_message(t, false, "The saved transcript names the "
				    "answer: d names the diagnosis first.");
			return;
		}
		ui_open(t, SCREEN_SAVE);
		return;
	case SA_PROFILES:
		if (session_busy(t->s)) {
			tui_message(t, false, "A step is under way: wait for it, or "
				    "Esc cancels it; then p.");
			return;
		}
		ui_open(t, SCREEN_PROFILES);
		return;
	case SA_FINDFIX:
		if (ws_secret(t)) {
			tui_message(t, false, "Find-fix would name the answer: d "
				    "names the diagnosis first.");
			return;
		}
		if (!t->s->finished || session_exit_status(t->s) == 0) {
			tui_message(t, false, t->s->finished ? "The session did not "
				    "fail: nothing for find-fix to fix." :
				    "Find-fix works on a failed session: r runs "
				    "it to the end first.");
			return;
		}
		ui_open(t, SCREEN_FINDFIX);
		return;
	case SA_TEACH:
		t->teach = !t->teach;
		tui_message(t, false, t->teach ? "Teaching view: what each line "
			    "means, under it.  v again to leave." :
			    "Teaching view off.");
		t->dirty |= DIRTY_TRANS;
		return;
	case SA_TAB:
		if (t->mode == LM_TABS || t->zoom)
			focus(t, (enum region)((t->focus + 1) % RG_COUNT));
		else
			focus(t, t->focus == RG_DIAG ? RG_TRANS : RG_DIAG);
		return;
	case SA_BTAB:
		focus(t, t->mode == LM_TABS || t->zoom ?
		      (enum region)((t->focus + RG_COUNT - 1) % RG_COUNT) :
		      t->focus == RG_DIAG ? RG_TRANS : RG_DIAG);
		return;
	case SA_REGION1: case SA_REGION2: case SA_REGION3:
		focus(t, (enum region)(action - SA_REGION1));
		return;
	case SA_ZOOM:
		if (t->mode == LM_TABS)
			return;
		t->zoom = !t->zoom;
		if (t->zoom && t->focus == RG_STEPS)
			t->focus = RG_TRANS;
		ui_relayout(t);
		return;
	case SA_UP: case SA_DOWN: case SA_PGUP: case SA_PGDN: case SA_HOME:
	case SA_END:
		nav(t, action);
		return;
	case SA_REDRAW:
		clearok(curscr, TRUE);
		t->dirty = DIRTY_ALL;
		return;
	case SA_MOUSE:
		mouse(t);
		return;
	}
}

static bool
tr_match(const void *ctx, size_t i)
{
	const struct tui *t = ctx;
	return find_in_u8(t->s->tr.v[i].text, t->find.w, t->find.n);
}

/* `/` on the session: the transcript's lines; the match is selected. */
static void
session_find(struct tui *t, int dir)
{
	/* following the newest line: a new search starts at the top */
	size_t cur = dir == 0 && t->follow ? 0 : t->sel;
	long at = find_pick(t->s->tr.n, cur, dir, tr_match, t, &t->find.k,
			    &t->find.m);
	if (at < 0)
		return;
	t->sel = (size_t)at;
	t->follow = false;
	if (t->focus != RG_TRANS)
		focus(t, RG_TRANS);
	t->dirty |= DIRTY_TRANS;
}

static bool
session_typing(const struct tui *t)
{
	return t->cl_on;
}

static void
session_open(struct tui *t)
{
	if (!t->s || t->restart) {
		t->restart = false;
		tui_restart(t);
	}
}

static void
session_draw(struct tui *t, unsigned d)
{
	if (d & DIRTY_HEADER)
		draw_header(t);
	if ((d & DIRTY_STEPS) && region_visible(t, RG_STEPS))
		draw_steps(t);
	if ((d & DIRTY_TRANS) && region_visible(t, RG_TRANS))
		draw_trans(t);
	if ((d & DIRTY_DIAG) && region_visible(t, RG_DIAG))
		draw_diag(t);
	if (d & DIRTY_FOOTER)
		draw_footer(t);
}

static void
session_help(struct doc *d, const struct tui *t)
{
	static const struct { const char *key, *words; } cl_keys[] = {
		{ "Tab", "complete a verb, or an extension the server offered" },
		{ "Up Down", "history (kept across runs, never AUTH lines)" },
		{ "Ctrl-A E B F", "start, end, back, forward (emacs keys)" },
		{ "Ctrl-W U K", "delete a word, the line, to the end" },
		{ "Enter", "send;  Esc leaves the line" },
		{ "Ctrl-C D", "leave the line when it is empty (Ctrl-C clears text)" },
	};
	doc_nl(d);
	doc_heading(d, "On the : line");
	for (size_t i = 0; i < ARRAY_SIZE(cl_keys); i++)
		doc_wrap(d, 15, cl_keys[i].key, ST_KEY, ST_NORMAL, cl_keys[i].words);

	doc_nl(d);
	doc_heading(d, "Marks");
	char *m = xasprintf("%s ok   %s failed   %s warning   %s to do   %s skipped"
			    "   %s next", mark_u8(MK_OK), mark_u8(MK_FAIL),
			    mark_u8(MK_WARN), mark_u8(MK_PENDING), mark_u8(MK_SKIPPED),
			    mark_u8(MK_NEXT));
	doc_wrap(d, 2, NULL, 0, ST_NORMAL, m);
	free(m);
	m = xasprintf("%s server says   %s client says   %s smtpdx notes   "
		      "%s inside TLS", mark_u8(MK_SERVER), mark_u8(MK_CLIENT),
		      mark_u8(MK_INFO), mark_u8(MK_TLS));
	doc_wrap(d, 2, NULL, 0, ST_NORMAL, m);
	free(m);
	ws_help(d, t);
	const char *hp = t->cl ? cmdline_history_path(t->cl) : "";
	if (*hp) {
		doc_nl(d);
		doc_wrap(d, 9, "History", ST_DIM, ST_DIM, hp);
	}
}

const struct screen screen_session = {
	.name = "session",
	.keys = session_keys,
	.open = session_open,
	.draw = session_draw,
	.key = session_key,
	.typing = session_typing,
	.state = session_state,
	.help = session_help,
	.find = session_find,
};

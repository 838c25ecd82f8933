/*
 * deliver.c - the deliverability screen: will mail from this domain
 * arrive?  (--deliverability DOMAIN on a terminal, `D` on the session
 * screen.)
 *
 *   header   the domain, and the run's state: the check under way and
 *            the clock, then how many checks failed or warn
 *   domain   the domain and the DKIM selector; `d` edits them here
 *   list     a row per check: pointer, mark, ok/warn/FAIL, the name
 *   detail   the selected check: verdict, why it matters, the raw
 *            record, the fix as the DNS record to publish, diagnoses
 *   footer   the keys
 *
 * List and detail side by side from 72 columns, else stacked (the list
 * above).  The engine (src/deliver.c) does every lookup on a thread of
 * its own (deliver_start); tui.c's one poll() waits on the job's
 * descriptor beside the keyboard (dlv_pollfd, dlv_handle), so the keys
 * keep working while DNS takes its time.  Checks appear as they end.
 * Everything shown comes from DNS or HTTPS and is drawn through text.c.
 *
 * The screen's state outlives the screen (t->state[SCREEN_DELIVER] from
 * the first open to dlv_free): b goes back to the session, d comes back
 * to the same results.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui.h"
#include "../src/addr.h"
#include "../src/deliver.h"
#include "../src/util.h"

extern const struct screen screen_deliver;

#define SIDE_COLS 72		/* list and detail side by side */
#define LIST_W 22		/* the list's width, border included */
#define FIELD_MAX 253

enum field { F_NONE = -1, F_DOMAIN, F_SELECTOR, F_COUNT };

struct dlv {
	char domain[FIELD_MAX + 1];	/* of the run shown (or to come) */
	char selector[FIELD_MAX + 1];
	char edit[F_COUNT][FIELD_MAX + 1];	/* the fields being typed */
	size_t cur[F_COUNT];
	enum field editing;
	struct deliver_job *job;	/* NULL: no run under way */
	const char *current;		/* the check under way */
	int done;			/* checks ended (while running) */
	struct deliver_report rep;	/* the last run's, when have */
	bool have;
	double seconds;			/* the last run took */
	int sel, list_top, top;
	bool sel_moved;			/* the user chose the check shown */
	bool scrolls;
	WINDOW *bar, *list, *detail;
	struct doc doc;
};

static struct dlv *
dlv_of(struct tui *t)
{
	struct dlv *d = t->state[SCREEN_DELIVER];
	if (!d) {
		d = xcalloc(1, sizeof *d);
		d->editing = F_NONE;
		t->state[SCREEN_DELIVER] = d;
	}
	return d;
}

/* ---- names and verdicts ------------------------------------------------------ */

static const struct {
	const char *id, *name;
} names[] = {
	{ "mx", "MX" }, { "spf", "SPF" }, { "dmarc", "DMARC" },
	{ "dkim", "DKIM" }, { "mta-sts", "MTA-STS" }, { "tls-rpt", "TLS-RPT" },
	{ "dane", "DANE" }, { "rdns", "rDNS" },
};

static const char *
check_name(const char *id)
{
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(names[i].id, id))
			return names[i].name;
	return id;
}

static const struct {
	enum mark m;
	int st;
	const char *word;	/* the text marker: reads without colour */
} look[] = {
	[DS_OK] = { MK_OK, ST_OK, "ok" },
	[DS_WARN] = { MK_WARN, ST_WARN, "warn" },
	[DS_FAIL] = { MK_FAIL, ST_FAIL, "FAIL" },
};

/* The checks to show: the last run's, or those ended so far. */
static const struct dcheck *
checks(const struct dlv *d, int *n)
{
	if (d->job) {
		*n = d->done;
		return deliver_job_checks(d->job);
	}
	*n = d->have ? d->rep.n : 0;
	return d->rep.v;
}

/* ---- the run ---------------------------------------------------------------- */

static void
dlv_start(struct tui *t)
{
	struct dlv *d = dlv_of(t);
	deliver_job_abandon(d->job);
	d->job = NULL;
	if (d->have)
		deliver_free(&d->rep);
	d->have = false;
	struct deliver_opts o = {
		.cafile = t->cfg->cafile,
		.timeout = t->cfg->timeout > 0 ? t->cfg->timeout : 15,
		.sending_ip = t->opts->sending_ip,
		.dkim_selector = *d->selector ? d->selector : NULL,
	};
	d->job = deliver_start(d->domain, &o);
	d->current = "";
	d->done = 0;
	d->sel = d->list_top = d->top = 0;
	d->sel_moved = false;
	t->dirty = DIRTY_ALL;
}

int
dlv_pollfd(struct tui *t)
{
	struct dlv *d = t->state[SCREEN_DELIVER];
	return d && d->job ? deliver_job_fd(d->job) : -1;
}

bool
dlv_running(const struct tui *t)
{
	const struct dlv *d = t->state[SCREEN_DELIVER];
	return d && d->job;
}

void
dlv_handle(struct tui *t)
{
	struct dlv *d = t->state[SCREEN_DELIVER];
	if (!d || !d->job)
		return;
	bool over = deliver_job_poll(d->job, &d->current, &d->done);
	if (over) {
		d->seconds = deliver_job_seconds(d->job);
		deliver_job_take(d->job, &d->rep);
		d->job = NULL;
		d->have = true;
		/* the worst check first, unless the user chose one */
		for (int want = DS_FAIL; !d->sel_moved && want > DS_OK; want--) {
			int i = 0;
			while (i < d->rep.n && (int)d->rep.v[i].status != want)
				i++;
			if (i < d->rep.n) {
				d->sel = i;
				break;
			}
		}
	}
	if (t->body == SCREEN_DELIVER)
		t->dirty |= DIRTY_ALL & ~DIRTY_OVERLAY;
}

int
dlv_exit_status(const struct tui *t)
{
	const struct dlv *d = t->state[SCREEN_DELIVER];
	if (!d || !d->have)
		return TUI_EXIT_INTERRUPTED;
	return deliver_exit_status(&d->rep);
}

void
dlv_free(struct tui *t)
{
	struct dlv *d = t->state[SCREEN_DELIVER];
	if (!d)
		return;
	deliver_job_abandon(d->job);
	if (d->have)
		deliver_free(&d->rep);
	doc_free(&d->doc);
	free(d);
	t->state[SCREEN_DELIVER] = NULL;
}

/* ---- the fields ------------------------------------------------------------- */

static void
edit_begin(struct tui *t, enum field f)
{
	struct dlv *d = dlv_of(t);
	snprintf(d->edit[F_DOMAIN], sizeof d->edit[F_DOMAIN], "%s", d->domain);
	snprintf(d->edit[F_SELECTOR], sizeof d->edit[F_SELECTOR], "%s",
		 d->selector);
	for (int i = 0; i < F_COUNT; i++)
		d->cur[i] = strlen(d->edit[i]);
	d->editing = f;
	t->dirty |= DIRTY_ALL & ~DIRTY_OVERLAY;
}

/* Enter in a field: check what was typed, then run. */
static void
edit_done(struct tui *t)
{
	struct dlv *d = dlv_of(t);
	const char *dom = d->edit[F_DOMAIN], *sel = d->edit[F_SELECTOR];
	/* an internationalised domain: checked and queried as A-labels */
	char *adom = idna_lookup_name(dom);
	if (!deliver_domain_ok(adom)) {
		tui_message(t, true, "'%s' is not a domain name (letters, digits, "
			    "dots, hyphens, or valid IDNA2008): type one, Esc "
			    "leaves.", dom);
		d->editing = F_DOMAIN;
		free(adom);
		return;
	}
	if (*sel && !deliver_selector_ok(sel)) {
		tui_message(t, true, "'%s' is not a DKIM selector: letters, digits, "
			    "hyphens, dots.", sel);
		d->editing = F_SELECTOR;
		free(adom);
		return;
	}
	snprintf(d->domain, sizeof d->domain, "%s", adom);
	free(adom);
	snprintf(d->selector, sizeof d->selector, "%s", sel);
	d->editing = F_NONE;
	dlv_start(t);
}

static void
edit_key(struct tui *t, wint_t ch, bool keycode)
{
	struct dlv *d = dlv_of(t);
	enum field f = d->editing;
	char *s = d->edit[f];
	size_t cap = f == F_DOMAIN ? FIELD_MAX : 63;
	size_t len = strlen(s), *cur = &d->cur[f];
	t->dirty |= DIRTY_ALL & ~DIRTY_OVERLAY;
	if (keycode) {
		switch (ch) {
		case KEY_LEFT: if (*cur) (*cur)--; return;
		case KEY_RIGHT: if (*cur < len) (*cur)++; return;
		case KEY_HOME: *cur = 0; return;
		case KEY_END: *cur = len; return;
		case KEY_BACKSPACE:
			if (*cur) {
				memmove(s + *cur - 1, s + *cur, len - *cur + 1);
				(*cur)--;
			}
			return;
		case KEY_DC:
			if (*cur < len)
				memmove(s + *cur, s + *cur + 1, len - *cur);
			return;
		case KEY_BTAB: case KEY_UP: case KEY_DOWN:
			d->editing = f == F_DOMAIN ? F_SELECTOR : F_DOMAIN;
			return;
		case KEY_ENTER: edit_done(t); return;
		}
		return;
	}
	switch (ch) {
	case 27: case 3: case 7:		/* Esc, ^C, ^G: leave as it was */
		d->editing = F_NONE;
		if (!*d->domain && !d->job && !d->have)
			tui_message(t, false, "No domain: d types one, b goes back, "
				    "q quits.");
		return;
	case '\r': case '\n': edit_done(t); return;
	case '\t':
		d->editing = f == F_DOMAIN ? F_SELECTOR : F_DOMAIN;
		return;
	case 127: case 8:
		if (*cur) {
			memmove(s + *cur - 1, s + *cur, len - *cur + 1);
			(*cur)--;
		}
		return;
	case 1: *cur = 0; return;		/* ^A */
	case 5: *cur = len; return;		/* ^E */
	case 21: s[0] = '\0'; *cur = 0; return;	/* ^U */
	case 12:
		clearok(curscr, TRUE);
		t->dirty = DIRTY_ALL;
		return;
	}
	if (ch > 127 || !strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				"0123456789.-_", (int)ch) || !ch) {
		tui_message(t, true, "A domain name has letters, digits, dots and "
			    "hyphens only.");
		return;
	}
	if (len >= cap)
		return;
	memmove(s + *cur + 1, s + *cur, len - *cur + 1);
	s[(*cur)++] = (char)ch;
}

/* ---- layout ----------------------------------------------------------------- */

static void
layout_drop(struct dlv *d)
{
	WINDOW **v[] = { &d->bar, &d->list, &d->detail };
	for (size_t i = 0; i < ARRAY_SIZE(v); i++)
		if (*v[i]) {
			delwin(*v[i]);
			*v[i] = NULL;
		}
}

static void
dlv_layout(struct tui *t)
{
	struct dlv *d = dlv_of(t);
	layout_drop(d);
	if (t->mode == LM_TOO_SMALL)
		return;
	int body = t->rows - 3;		/* header, domain bar, footer */
	d->bar = ui_newwin(1, t->cols, 1, 0);
	if (t->cols >= SIDE_COLS) {
		d->list = ui_newwin(body, LIST_W, 2, 0);
		d->detail = ui_newwin(body, t->cols - LIST_W, 2, LIST_W);
	} else {
		int lh = (int)ARRAY_SIZE(names) + 2;
		if (lh > body / 2)
			lh = body / 2;
		d->list = ui_newwin(lh, t->cols, 2, 0);
		d->detail = ui_newwin(body - lh, t->cols, 2 + lh, 0);
	}
}

/* ---- header, domain bar, footer --------------------------------------------- */

static void
tally(const struct dlv *d, int *fail, int *warn)
{
	int n;
	const struct dcheck *c = checks(d, &n);
	*fail = *warn = 0;
	for (int i = 0; i < n; i++) {
		*fail += c[i].status == DS_FAIL;
		*warn += c[i].status == DS_WARN;
	}
}

static void
dlv_header(struct tui *t)
{
	struct dlv *d = dlv_of(t);
	WINDOW *w = t->header;
	int cols = t->cols;
	char buf[160];
	werase(w);
	put_fill(w, 0, 0, cols, ST_BAR, 0);
	int rst = ST_BAR_BOLD;
	if (d->job) {
		snprintf(buf, sizeof buf, " %s checking %s %.1f s ",
			 mark_u8(MK_RUNNING), *d->current ? check_name(d->current) :
			 "", deliver_job_seconds(d->job));
	} else if (d->have) {
		int fail, warn;
		tally(d, &fail, &warn);
		if (fail) {
			snprintf(buf, sizeof buf, " %s %d failed, %d warn ",
				 mark_u8(MK_FAIL), fail, warn);
			rst = ST_BAR_FAIL;
		} else if (warn) {
			snprintf(buf, sizeof buf, " %s no failure, %d warn ",
				 mark_u8(MK_WARN), warn);
			rst = ST_BAR_WARN;
		} else {
			snprintf(buf, sizeof buf, " %s every check ok ", mark_u8(MK_OK));
			rst = ST_BADGE_OK;
		}
	} else {
		snprintf(buf, sizeof buf, " no domain checked ");
	}
	int rw = u8_width(buf);
	int right = cols - rw;
	if (right < cols / 2)
		right = cols / 2;
	put_str(w, 0, right, buf, cols - right, rst, 0, true);
	int x = put_str(w, 0, 0, " smtpdx ", right, ST_BAR_BOLD, 0, false);
	x += put_str(w, 0, x, "will my mail arrive? ", right - x, ST_BAR, 0, true);
	if (*d->domain && d->domain[0])
		put_str(w, 0, x, d->domain, right - x - 1, ST_BAR_BOLD, 0, true);
	wnoutrefresh(w);
}

/* One field: its label, then the text; the one being typed shows a
 * cursor of its own (a reversed cell). */
static int
draw_field(struct tui *t, WINDOW *w, int x, const char *label, const char *text,
	   const char *empty, bool on, size_t cur, int room)
{
	(void)t;
	int x0 = x;
	x += put_str(w, 0, x, label, room, ST_LABEL, 0, false);
	x += 1;
	if (on) {
		int fw = room - (x - x0);
		if (fw > 34)
			fw = 34;
		if (fw < 4)
			fw = 4;
		put_fill(w, 0, x, fw, ST_FIELD_ON, 0);
		size_t len = strlen(text), from = 0;
		if ((int)cur >= fw - 1)
			from = cur - (size_t)(fw - 2);
		put_str(w, 0, x, text + from, fw, ST_FIELD_ON, 0, false);
		char c[2] = { cur < len ? text[cur] : ' ', '\0' };
		put_str(w, 0, x + (int)(cur - from), c, 1, ST_FIELD_ON, A_REVERSE |
			A_BOLD, false);
		return x + fw - x0;
	}
	if (*text)
		x += put_str(w, 0, x, text, room - (x - x0), ST_BOLD, 0, true);
	else
		x += put_str(w, 0, x, empty, room - (x - x0), ST_DIM, 0, true);
	return x - x0;
}

static void
dlv_bar(struct tui *t)
{
	struct dlv *d = dlv_of(t);
	WINDOW *w = d->bar;
	int cols = t->cols;
	werase(w);
	put_fill(w, 0, 0, cols, ST_NORMAL, 0);
	bool ed = d->editing != F_NONE;
	const char *dom = ed ? d->edit[F_DOMAIN] : d->domain;
	const char *sel = ed ? d->edit[F_SELECTOR] : d->selector;
	int x = 1;
	x += draw_field(t, w, x, "Domain", dom, "(none: d types one)",
			d->editing == F_DOMAIN, d->cur[F_DOMAIN], cols - x - 1);
	x += 2;
	if (cols - x > 24)
		x += draw_field(t, w, x, "DKIM selector", sel, "(none)",
				d->editing == F_SELECTOR, d->cur[F_SELECTOR],
				cols - x - 1);
	wnoutrefresh(w);
}

static void
dlv_footer(struct tui *t)
{
	struct dlv *d = dlv_of(t);
	WINDOW *w = t->footer;
	int cols = t->cols;
	werase(w);
	put_fill(w, 0, 0, cols, ST_NORMAL, 0);
	if (*t->msg) {
		put_str(w, 0, 1, t->msg, cols - 2, t->msg_err ? ST_ERR : ST_MSG, 0, true);
		wnoutrefresh(w);
		return;
	}
	int x = 1;
	if (d->editing != F_NONE) {
		static const struct keyhint h[] = {
			{ "Enter", "check" }, { "Tab", "domain/selector" },
			{ "Esc", "cancel" },
		};
		for (size_t i = 0; i < ARRAY_SIZE(h); i++) {
			int used = put_hint(w, x, cols - x, &h[i]);
			if (used < 0)
				break;
			x += used;
		}
		wnoutrefresh(w);
		return;
	}
	if (d->job) {
		static const wchar_t spin_u[] = L"\u280b\u2819\u2839\u2838\u283c\u2834\u2826\u2827\u2807\u280f";
		static const wchar_t spin_a[] = L"|/-\\";
		const wchar_t *sp = ui_utf8 ? spin_u : spin_a;
		size_t ns = wcslen(sp);
		x += put_wcs(w, 0, x, sp + (size_t)t->spin % ns, 1, 1, ST_RUNNING, 0,
			     false);
		char *m = xasprintf(" %d checks done ", d->done);
		x += put_str(w, 0, x, m, cols - x, ST_BOLD, 0, true);
		free(m);
		x += 1;
	}
	struct keyhint ck = { ui_utf8 ? "\u2191\u2193" : "Up/Dn", "check" };
	int used = put_hint(w, x, cols - x - 20, &ck);
	if (used > 0)
		x += used;
	ui_footer_keys(t, w, x, &screen_deliver);
	wnoutrefresh(w);
}

/* ---- the list --------------------------------------------------------------- */

static void
draw_list(struct tui *t)
{
	struct dlv *d = dlv_of(t);
	WINDOW *w = d->list;
	int h, wd;
	getmaxyx(w, h, wd);
	werase(w);
	style_set(w, ST_BORDER, 0);
	ui_box(w);
	put_str(w, 0, 1, " Checks ", wd - 3, ST_TITLE, 0, true);
	int n;
	const struct dcheck *c = checks(d, &n);
	int rows = h - 2, total = n + (d->job ? 1 : 0);
	if (!total) {
		put_str(w, 1, 2, d->editing != F_NONE ? "Enter checks it." :
			"No domain yet: d.", wd - 4, ST_DIM, 0, true);
		wnoutrefresh(w);
		return;
	}
	if (d->sel >= n && n)
		d->sel = n - 1;
	if (d->sel < d->list_top)
		d->list_top = d->sel;
	if (d->sel >= d->list_top + rows)
		d->list_top = d->sel - rows + 1;
	for (int i = d->list_top, y = 1; i < total && y < h - 1; i++, y++) {
		if (i >= n) {
			/* the check under way */
			put_mark(w, y, 2, MK_RUNNING, ST_RUNNING, 0);
			put_str(w, y, 4, "....", 4, ST_PENDING, 0, false);
			put_str(w, y, 10, *d->current ? check_name(d->current) : "",
				wd - 11, ST_PENDING, 0, true);
			continue;
		}
		bool sel = i == d->sel;
		enum dstatus s = c[i].status;
		int base = sel ? ST_SELECTED : ST_NORMAL;
#define ST(x) (sel ? ST_SELECTED : (x))
		put_fill(w, y, 1, wd - 2, base, 0);
		if (sel)
			put_mark(w, y, 1, MK_NEXT, base, A_BOLD);
		put_mark(w, y, 2, look[s].m, ST(look[s].st), sel ? A_BOLD : 0);
		put_str(w, y, 4, look[s].word, 5, ST(look[s].st), 0, false);
		put_str(w, y, 10, check_name(c[i].check), wd - 11, ST(ST_BOLD), 0,
			true);
#undef ST
	}
	if (d->list_top > 0)
		put_mark(w, 1, wd - 1, MK_UP, ST_BORDER_FOCUS, 0);
	if (d->list_top + rows < total)
		put_mark(w, h - 2, wd - 1, MK_DOWN, ST_BORDER_FOCUS, 0);
	wnoutrefresh(w);
}

/* ---- the detail ------------------------------------------------------------- */

static void
diag_item(struct doc *doc, const struct diagnosis *g)
{
	doc_diagnosis(doc, g, true, "How to fix it", ST_NORMAL);
}

static void
build_detail(struct dlv *d, struct doc *doc)
{
	int n;
	const struct dcheck *cv = checks(d, &n);
	if (!n || d->sel >= n) {
		if (d->job) {
			char *v = xasprintf("Asking DNS about %s: MX, SPF, DMARC, "
					    "MTA-STS (its policy over HTTPS), TLS-RPT, "
					    "%sDANE (a STARTTLS handshake with each "
					    "MX), reverse DNS. Each check shows here "
					    "as it ends.", d->domain, *d->selector ?
					    "DKIM, " : "");
			doc_wrap(doc, 0, NULL, 0, ST_NORMAL, v);
			free(v);
		} else {
			doc_wrap(doc, 0, NULL, 0, ST_NORMAL, "Type the domain you send "
				 "mail from (d), and a DKIM selector if you know "
				 "it: each check comes back with a verdict, why it "
				 "matters, the record DNS holds, and the record to "
				 "publish when something is wrong.");
		}
		return;
	}
	const struct dcheck *c = &cv[d->sel];
	char *head = xasprintf("%s: %s", look[c->status].word, check_name(c->check));
	doc_wrap(doc, 2, mark_u8(look[c->status].m), look[c->status].st,
		 look[c->status].st, head);
	free(head);
	doc_wrap(doc, 0, NULL, 0, ST_LABEL, "Verdict");
	doc_wrap(doc, 2, NULL, 0, ST_BOLD, c->verdict ? c->verdict : "");
	doc_wrap(doc, 0, NULL, 0, ST_LABEL, "Why it matters");
	doc_wrap(doc, 2, NULL, 0, ST_NORMAL, c->why);
	doc_wrap(doc, 0, NULL, 0, ST_LABEL, "Record");
	if (c->record && *c->record)
		doc_wrap(doc, 2, NULL, 0, ST_SERVER, c->record);
	else
		doc_wrap(doc, 2, NULL, 0, ST_DIM, "(none found)");
	doc_wrap(doc, 0, NULL, 0, ST_LABEL, "Fix: publish");
	if (c->publish)
		doc_wrap(doc, 2, NULL, 0, ST_CLIENT, c->publish);
	else if (c->status == DS_OK)
		doc_wrap(doc, 2, NULL, 0, ST_DIM, "nothing: this check passes.");
	else
		doc_wrap(doc, 2, NULL, 0, ST_DIM, "no record to publish: see how "
			 "to fix it below.");
	for (int sev = SEV_ERROR; sev <= SEV_INFO; sev++)
		for (size_t k = 0; k < c->diags.n; k++)
			if ((int)c->diags.v[k].sev == sev)
				diag_item(doc, &c->diags.v[k]);
}

static void
draw_detail(struct tui *t)
{
	struct dlv *d = dlv_of(t);
	WINDOW *w = d->detail;
	int h, wd;
	getmaxyx(w, h, wd);
	int ih = h - 2;
	werase(w);
	style_set(w, ST_BORDER, 0);
	ui_box(w);
	doc_reset(&d->doc, wd - 3);
	build_detail(d, &d->doc);
	int maxtop = (int)d->doc.n - ih;
	if (maxtop < 0)
		maxtop = 0;
	if (d->top > maxtop)
		d->top = maxtop;
	if (d->top < 0)
		d->top = 0;
	d->scrolls = maxtop > 0;
	int n;
	const struct dcheck *c = checks(d, &n);
	const char *title = n && d->sel < n ? check_name(c[d->sel].check) : "Detail";
	char *tt = xasprintf(" %s ", title);
	put_str(w, 0, 1, tt, wd - 3, ST_TITLE, 0, true);
	free(tt);
	if (maxtop > 0) {
		char *r = xasprintf(" %d%% ", d->top * 100 / maxtop);
		int rw = u8_width(r);
		put_str(w, 0, wd - rw - 1, r, rw, ST_DIM, 0, false);
		free(r);
	}
	doc_draw(w, &d->doc, d->top, 1, 2, ih, wd - 3);
	if (d->top > 0)
		put_mark(w, 1, wd - 1, MK_UP, ST_BORDER_FOCUS, 0);
	if (d->top < maxtop)
		put_mark(w, ih, wd - 1, MK_DOWN, ST_BORDER_FOCUS, 0);
	wnoutrefresh(w);
}

static void
dlv_draw(struct tui *t, unsigned dirty)
{
	(void)dirty;
	struct dlv *d = dlv_of(t);
	dlv_header(t);
	if (d->bar)
		dlv_bar(t);
	if (d->list)
		draw_list(t);
	if (d->detail)
		draw_detail(t);
	dlv_footer(t);
}

/* ---- help ------------------------------------------------------------------- */

static void
dlv_help(struct doc *doc, const struct tui *t)
{
	(void)t;
	doc_nl(doc);
	doc_heading(doc, "What is checked");
	doc_wrap(doc, 0, NULL, 0, ST_NORMAL, "From DNS, as receivers see it: MX "
		 "(and null MX), SPF (RFC 7208: the record, its lookups, its all "
		 "term), DMARC (RFC 7489), DKIM when a selector is given (the key "
		 "and its size), MTA-STS (RFC 8461: the TXT record, then the "
		 "policy over HTTPS, certificate verified), TLS-RPT (RFC 8460), "
		 "DANE (RFC 7672: each MX's certificate against its TLSA "
		 "records), reverse DNS of the MX hosts (and --sending-ip). "
		 "Nothing is sent.");
	doc_nl(doc);
	doc_heading(doc, "Marks");
	char *m = xasprintf("%s ok   %s warn: works, could be better   %s FAIL: "
			    "receivers may refuse or junk the mail   %s checking   "
			    "%s selected", mark_u8(MK_OK), mark_u8(MK_WARN),
			    mark_u8(MK_FAIL), mark_u8(MK_RUNNING), mark_u8(MK_NEXT));
	doc_wrap(doc, 2, NULL, 0, ST_NORMAL, m);
	free(m);
	doc_nl(doc);
	doc_heading(doc, "The same, unattended");
	doc_wrap(doc, 0, NULL, 0, ST_NORMAL, "smtpdx --deliverability DOMAIN "
		 "--batch (text) or --json; exit status 1 when a check fails.");
}

/* ---- keys ------------------------------------------------------------------- */

enum {
	DA_UP = KA_FIRST, DA_DOWN, DA_FIRST, DA_LAST, DA_PGUP, DA_PGDN,
	DA_DOMAIN, DA_AGAIN, DA_BACK, DA_REDRAW, DA_HELP, DA_QUIT, DA_INTR,
};

static const struct keydef deliver_keys[] = {
	{ KEY_UP, true, DA_UP, "Up", "select a check", NULL, 0,
	  "Will my mail arrive?" },
	{ 'k', false, DA_UP, "k", NULL, NULL, 0, NULL },
	{ KEY_DOWN, true, DA_DOWN, "Down", NULL, NULL, 0, NULL },
	{ 'j', false, DA_DOWN, "j", NULL, NULL, 0, NULL },
	{ KEY_HOME, true, DA_FIRST, "Home", "the first check", NULL, 0, NULL },
	{ 'g', false, DA_FIRST, "g", NULL, NULL, 0, NULL },
	{ KEY_END, true, DA_LAST, "End", "the last check", NULL, 0, NULL },
	{ 'G', false, DA_LAST, "G", NULL, NULL, 0, NULL },
	{ KEY_PPAGE, true, DA_PGUP, "PgUp", "scroll the check's detail", NULL, 0,
	  NULL },
	{ KEY_NPAGE, true, DA_PGDN, "PgDn", NULL, "more", KW_MORE, NULL },
	{ ' ', false, DA_PGDN, "space", NULL, NULL, 0, NULL },
	{ 'd', false, DA_DOMAIN, "d", "another domain (and DKIM selector): "
	  "type it, Tab between the two, Enter checks", "domain", 0, NULL },
	{ 'e', false, DA_DOMAIN, "e", NULL, NULL, 0, NULL },
	{ 'D', false, DA_DOMAIN, "D", NULL, NULL, 0, NULL },
	{ 'R', false, DA_AGAIN, "R", "check again", "again", KW_IDLE, NULL },
	{ 'b', false, DA_BACK, "b", "back to the session screen", "back", 0,
	  NULL },
	{ 27, false, DA_BACK, "Esc", NULL, NULL, 0, NULL },
	{ 12, false, DA_REDRAW, "Ctrl-L", "redraw the screen", NULL, 0, NULL },
	{ 26, false, KA_NONE, "Ctrl-Z", "suspend to the shell; fg comes back",
	  NULL, 0, NULL },
	{ 3, false, DA_INTR, "Ctrl-C", "quit, as interrupted (status 4)", NULL,
	  0, NULL },
	{ '?', false, DA_HELP, "?", "this help", "help", 0, NULL },
	{ KEY_F(1), true, DA_HELP, "F1", NULL, NULL, 0, NULL },
	{ 'q', false, DA_QUIT, "q", "quit", "quit", 0, NULL },
	{ 0, false, 0, NULL, NULL, NULL, 0, NULL }
};

static void
dlv_move(struct tui *t, int v)
{
	struct dlv *d = dlv_of(t);
	int n;
	checks(d, &n);
	if (v >= n)
		v = n - 1;
	if (v < 0)
		v = 0;
	if (v != d->sel) {
		d->sel = v;
		d->top = 0;
	}
	d->sel_moved = true;
	t->dirty |= DIRTY_ALL & ~DIRTY_OVERLAY;
}

static void
dlv_key(struct tui *t, int action, wint_t ch, bool keycode)
{
	struct dlv *d = dlv_of(t);
	if (d->editing != F_NONE) {
		edit_key(t, ch, keycode);
		return;
	}
	int ph = d->detail ? getmaxy(d->detail) - 3 : 5;
	if (ph < 1)
		ph = 1;
	switch (action) {
	case DA_UP: dlv_move(t, d->sel - 1); return;
	case DA_DOWN: dlv_move(t, d->sel + 1); return;
	case DA_FIRST: dlv_move(t, 0); return;
	case DA_LAST: dlv_move(t, DELIVER_MAX); return;
	case DA_PGUP: d->top -= ph; t->dirty |= DIRTY_ALL & ~DIRTY_OVERLAY; return;
	case DA_PGDN: d->top += ph; t->dirty |= DIRTY_ALL & ~DIRTY_OVERLAY; return;
	case DA_DOMAIN: edit_begin(t, F_DOMAIN); return;
	case DA_AGAIN:
		if (!*d->domain) {
			edit_begin(t, F_DOMAIN);
			return;
		}
		dlv_start(t);
		tui_message(t, false, "Checking %s again.", d->domain);
		return;
	case DA_BACK:
		ui_open(t, SCREEN_SESSION);
		return;
	case DA_HELP:
		ui_open(t, SCREEN_HELP);
		return;
	case DA_REDRAW:
		clearok(curscr, TRUE);
		t->dirty = DIRTY_ALL;
		return;
	case DA_INTR:
		t->interrupted = true;
		/* fall through */
	case DA_QUIT:
		t->quit = true;
		return;
	}
}

static bool
dlv_typing(const struct tui *t)
{
	const struct dlv *d = t->state[SCREEN_DELIVER];
	return d && d->editing != F_NONE;
}

static unsigned
dlv_state(const struct tui *t)
{
	const struct dlv *d = t->state[SCREEN_DELIVER];
	unsigned st = d && d->job ? KW_BUSY : KW_IDLE;
	if (d && d->scrolls)
		st |= KW_MORE;
	return st;
}

/* ---- open, resize, close ------------------------------------------------------ */

/* The domain to start with: --deliverability's, else the --from
 * address's domain. */
static void
dlv_open(struct tui *t)
{
	struct dlv *d = dlv_of(t);
	if (d->job || d->have || *d->domain)
		return;
	const char *dom = t->opts->deliver_domain;
	if (!dom && t->cfg->from) {
		const char *at = strrchr(t->cfg->from, '@');
		dom = at ? at + 1 : NULL;
	}
	if (t->opts->dkim_selector)
		snprintf(d->selector, sizeof d->selector, "%s",
			 t->opts->dkim_selector);
	char *adom = dom ? idna_lookup_name(dom) : NULL;	/* A-labels */
	if (adom && deliver_domain_ok(adom)) {
		snprintf(d->domain, sizeof d->domain, "%s", adom);
		free(adom);
		dlv_start(t);
		return;
	}
	free(adom);
	edit_begin(t, F_DOMAIN);
}

static void
dlv_resize(struct tui *t, int *h, int *w)
{
	(void)h;
	(void)w;
	dlv_layout(t);
}

static void
dlv_close(struct tui *t)
{
	struct dlv *d = t->state[SCREEN_DELIVER];
	if (d)
		layout_drop(d);
}

const struct screen screen_deliver = {
	.name = "deliverability",
	.keys = deliver_keys,
	.open = dlv_open,
	.draw = dlv_draw,
	.key = dlv_key,
	.resize = dlv_resize,
	.close = dlv_close,
	.typing = dlv_typing,
	.state = dlv_state,
	.help = dlv_help,
};

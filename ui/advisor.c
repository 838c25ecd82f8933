/*
 * advisor.c - the port advisor's screen: which port and TLS mode work
 * from here (--sweep, --mx, `w` on the session screen).
 *
 *   header   target, ports, the clock against the timeout while probing
 *   table    a row per port: mark, port, what it speaks, TLS mode, TLS
 *            version, certificate verdict, time, AUTH offered inside TLS
 *   panes    the recommendation in words; the selected port's diagnoses
 *            (title, evidence, fix) and how its verdict was reached.
 *            Side by side when the terminal is wide, else one pane whose
 *            first part is the selected row's.
 *   footer   the keys
 *
 * The sweep engine (src/sweep.c) does all the probing and the I/O on its
 * non-blocking sessions; tui.c's one poll() waits on the keyboard and on
 * the sweep's descriptors together (adv_pollfds, adv_handle).  Everything
 * the sweep found is drawn through text.c (put_str, doc_wrap): greetings
 * and AUTH lists come from the server and are never drawn raw.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui.h"
#include "../src/mx.h"
#include "../src/util.h"

extern const struct screen screen_advisor;
static void adv_move(struct tui *t, int delta, bool absolute);
static void adv_scroll(struct tui *t, int delta, bool absolute);

#define WIDE_TABLE 96		/* inner width for the long column words */
#define TWO_PANES_COLS 110	/* recommendation and port side by side */
#define TWO_PANES_ROWS 30

/* ---- targets --------------------------------------------------------------- */

/* The i-th address to sweep: the MX hosts in preference order, each of
 * their addresses; without --mx, cfg's host alone. */
static bool
target_at(const struct tui *t, int i, char *host, size_t hl, char *addr,
	  size_t al, int *pref)
{
	const struct mx_result *mx = t->adv.mx;
	if (!mx) {
		if (i != 0)
			return false;
		snprintf(host, hl, "%s", t->cfg->host ? t->cfg->host : "");
		addr[0] = '\0';
		*pref = 0;
		return true;
	}
	int k = 0;
	for (int h = 0; h < mx->n; h++)
		for (int a = 0; a < mx->hosts[h].naddr; a++, k++)
			if (k == i) {
				snprintf(host, hl, "%s", mx->hosts[h].name);
				snprintf(addr, al, "%s", mx->hosts[h].addrs[a]);
				*pref = mx->hosts[h].pref;
				return true;
			}
	return false;
}

static int
count_targets(const struct tui *t)
{
	char h[256], a[64];
	int p, n = 0;
	while (target_at(t, n, h, sizeof h, a, sizeof a, &p))
		n++;
	return n;
}

int
adv_init(struct tui *t, const char *ports, bool use_mx, char *err,
	 size_t errlen)
{
	struct advisor *a = &t->adv;
	int n = sweep_parse_ports(ports ? ports : SWEEP_DEFAULT_PORTS, a->ports,
				  SWEEP_MAX_PORTS, err, errlen);
	if (n < 0)
		return -1;
	a->nports = n;
	a->mx = use_mx ? t->opts->mx : NULL;
	a->purpose = a->mx ? SWEEP_RELAY : SWEEP_SUBMISSION;
	a->own_servername = t->cfg->servername != NULL;
	a->target = 0;
	a->ntargets = count_targets(t);
	a->note[0] = '\0';
	return 0;
}

/* ---- the sweep ------------------------------------------------------------- */

void
adv_start(struct tui *t)
{
	struct advisor *a = &t->adv;
	sweep_free(a->w);
	a->w = NULL;
	if (!target_at(t, a->target, a->host, sizeof a->host, a->address,
		       sizeof a->address, &a->pref))
		return;
	struct config c;
	config_copy(&c, t->cfg);
	if (*a->address) {
		config_set(&c.host, a->address);
		if (!a->own_servername)
			config_set(&c.servername, a->host);
	}
	a->w = sweep_new(&c, a->ports, a->nports, a->purpose);
	config_free(&c);
	sweep_start(a->w);
	a->sel = 0;
	a->sel_moved = false;
	a->row_top = 0;
	a->top[0] = a->top[1] = 0;
	a->busy_seen = true;
	t->dirty = DIRTY_ALL;
}

void
adv_free(struct tui *t)
{
	sweep_free(t->adv.w);
	t->adv.w = NULL;
	doc_free(&t->adv.doc[0]);
	doc_free(&t->adv.doc[1]);
}

bool
adv_running(const struct tui *t)
{
	return t->adv.w && !sweep_done(t->adv.w);
}

int
adv_pollfds(struct tui *t, struct pollfd *pfd, int max, double *deadline)
{
	if (!adv_running(t))
		return 0;
	double dl;
	int n = sweep_pollfds(t->adv.w, pfd, max, &dl);
	if (n < 0)
		return 0;
	if (dl >= 0 && (*deadline < 0 || dl < *deadline))
		*deadline = dl;
	return n;
}

static int
recommended_row(const struct sweep *w)
{
	const struct sweep_advice *ad = sweep_advice(w);
	int n;
	const struct sweep_port *p = sweep_ports(w, &n);
	if (!ad || !ad->port)
		return -1;
	for (int i = 0; i < n; i++)
		if (p[i].port == ad->port)
			return i;
	return -1;
}

void
adv_handle(struct tui *t, const struct pollfd *pfd, int n)
{
	struct advisor *a = &t->adv;
	if (!adv_running(t))
		return;
	sweep_handle(a->w, pfd, n);
	if (t->body == SCREEN_ADVISOR)
		t->dirty |= DIRTY_ALL & ~DIRTY_OVERLAY;
	if (!sweep_done(a->w))
		return;
	/* RFC 5321 §5.1: a host that does not answer at all sends us on
	 * to the next MX */
	if (a->mx && sweep_none_answered(a->w) && a->target + 1 < a->ntargets) {
		char h[256], ad[64];
		int pref;
		target_at(t, a->target + 1, h, sizeof h, ad, sizeof ad, &pref);
		char *m = xasprintf("No port of %s [%s] answered: moved on to the "
				    "next MX, %s [%s] (preference %d).", a->host,
				    a->address, h, ad, pref);
		snprintf(a->note, sizeof a->note, "%s", m);
		free(m);
		a->target++;
		adv_start(t);
		return;
	}
	if (!a->sel_moved) {
		int r = recommended_row(a->w);
		if (r >= 0)
			adv_move(t, r, true);
		a->sel_moved = false;
	}
}

static const struct sweep_port *
adv_selected(const struct tui *t)
{
	if (!t->adv.w)
		return NULL;
	int n;
	const struct sweep_port *p = sweep_ports(t->adv.w, &n);
	if (t->adv.sel < 0 || t->adv.sel >= n)
		return NULL;
	return &p[t->adv.sel];
}

static void
adv_move(struct tui *t, int delta, bool absolute)
{
	struct advisor *a = &t->adv;
	if (!a->w)
		return;
	int n;
	sweep_ports(a->w, &n);
	int v = absolute ? delta : a->sel + delta;
	if (v >= n)
		v = n - 1;
	if (v < 0)
		v = 0;
	if (v != a->sel) {
		a->sel = v;
		a->top[0] = a->top[1] = 0;
	}
	a->sel_moved = true;
	t->dirty |= DIRTY_ALL & ~DIRTY_OVERLAY;
}

static void
adv_scroll(struct tui *t, int delta, bool absolute)
{
	struct advisor *a = &t->adv;
	int f = a->pane[1] ? a->focus : 0;
	if (absolute)
		a->top[f] = delta;
	else
		a->top[f] += delta;
	t->dirty |= DIRTY_ALL & ~DIRTY_OVERLAY;
}

/* ---- words ----------------------------------------------------------------- */

const char *
adv_mode_words(enum tls_mode m)
{
	switch (m) {
	case TLSM_IMPLICIT: return "implicit TLS";
	case TLSM_STARTTLS: return "STARTTLS";
	case TLSM_NONE: return "no TLS";
	default: return "TLS by port";
	}
}

enum verdict { V_PROBING, V_OK, V_WARN, V_FAIL };

/* The row's mark: usable for this purpose, works with problems (or is
 * not for this use), or fails. */
static enum verdict
verdict_of(const struct advisor *a, const struct sweep_port *p)
{
	if (p->state != SWS_DONE)
		return V_PROBING;
	if (p->usable && !p->mode_mismatch &&
	    (a->purpose == SWEEP_RELAY || p->port != 25))
		return V_OK;
	if (p->ok)
		return V_WARN;
	return V_FAIL;
}

static const struct {
	enum mark m;
	int st;
	const char *word;
} vlook[] = {
	[V_PROBING] = { MK_PENDING, ST_PENDING, "probing" },
	[V_OK] = { MK_OK, ST_OK, "usable" },
	[V_WARN] = { MK_WARN, ST_WARN, "works, with problems" },
	[V_FAIL] = { MK_FAIL, ST_FAIL, "fails" },
};

static const struct tls_info *
tls_of(const struct sweep_port *p)
{
	return p->probe && p->probe->tls.done ? &p->probe->tls : NULL;
}

/* TLS column: the version, or why there is none. */
static const char *
tls_words(const struct sweep_port *p, bool wide)
{
	const struct tls_info *ti = tls_of(p);
	if (ti)
		return ti->version;
	if (p->speaks == SPK_SMTP)
		return p->starttls_offered ? (wide ? "STARTTLS failed" : "failed")
					   : (wide ? "not offered" : "none");
	if (p->speaks == SPK_TLS)
		return "failed";
	return "-";
}

static const char *
cert_words(const struct sweep_port *p, bool wide, int *st)
{
	const struct tls_info *ti = tls_of(p);
	if (!ti) {
		*st = ST_DIM;
		return "-";
	}
	if (ti->verified && !ti->problems) {
		*st = ST_OK;
		return wide ? (ui_utf8 ? "\u2713 verified" : "+ verified") : "verified";
	}
	*st = ST_FAIL;
	return wide ? (ui_utf8 ? "\u2717 NOT verified" : "x NOT verified") :
	       "UNVERIFIED";
}

static void
fmt_time(char *b, size_t n, double s)
{
	if (s < 0)
		s = 0;
	snprintf(b, n, s < 100 ? "%.2fs" : "%.0fs", s);
}

/* ---- layout ---------------------------------------------------------------- */

static int
table_height(const struct tui *t)
{
	int body = t->rows - 2;
	int want = t->adv.nports + 3;	/* borders and the column heads */
	int most = body - 8;
	if (most < 5)
		most = 5;
	return want < most ? want : most;
}

static void
adv_layout_free(struct tui *t)
{
	struct advisor *a = &t->adv;
	if (a->table)
		delwin(a->table);
	for (int i = 0; i < 2; i++)
		if (a->pane[i])
			delwin(a->pane[i]);
	a->table = a->pane[0] = a->pane[1] = NULL;
}

static void
adv_layout(struct tui *t)
{
	adv_layout_free(t);
	if (t->mode == LM_TOO_SMALL)
		return;
	struct advisor *a = &t->adv;
	int body = t->rows - 2, th = table_height(t);
	a->table = ui_newwin(th, t->cols, 1, 0);
	int ph = body - th;
	if (t->cols >= TWO_PANES_COLS && t->rows >= TWO_PANES_ROWS) {
		int lw = t->cols * 9 / 20;
		a->pane[0] = ui_newwin(ph, lw, 1 + th, 0);
		a->pane[1] = ui_newwin(ph, t->cols - lw, 1 + th, lw);
	} else {
		a->pane[0] = ui_newwin(ph, t->cols, 1 + th, 0);
		a->focus = 0;
	}
}

/* ---- header and footer ----------------------------------------------------- */

static void
adv_header(struct tui *t)
{
	struct advisor *a = &t->adv;
	WINDOW *w = t->header;
	int cols = t->cols;
	char buf[320];

	werase(w);
	put_fill(w, 0, 0, cols, ST_BAR, 0);

	int rst = ST_BAR_BOLD;
	if (!a->w) {
		snprintf(buf, sizeof buf, " no host to sweep ");
		rst = ST_BAR_FAIL;
	} else if (!sweep_done(a->w)) {
		snprintf(buf, sizeof buf, " %s probing %.1f s of %.0f s ",
			 mark_u8(MK_RUNNING), sweep_seconds(a->w), sweep_timeout(a->w));
	} else {
		const struct sweep_advice *ad = sweep_advice(a->w);
		if (ad && ad->port) {
			snprintf(buf, sizeof buf, " %s use port %d, %s ", mark_u8(MK_OK),
				 ad->port, adv_mode_words(ad->mode));
			rst = ST_BADGE_OK;
		} else {
			snprintf(buf, sizeof buf, " %s no port to recommend ",
				 mark_u8(MK_FAIL));
			rst = ST_BAR_FAIL;
		}
	}
	int rw = u8_width(buf);
	int right = cols - rw;
	if (right < cols / 2)
		right = cols / 2;
	put_str(w, 0, right, buf, cols - right, rst, 0, true);

	struct buf pl = { 0 };
	for (int i = 0; i < a->nports; i++)
		buf_printf(&pl, "%s%d", i ? "," : "", a->ports[i]);
	char *left;
	if (*a->address)
		left = xasprintf(" MX %s [%s] ", a->host, a->address);
	else
		left = xasprintf(" %s ", a->host);
	int x = put_str(w, 0, 0, " smtpdx ", right, ST_BAR_BOLD, 0, false);
	if (right - x > u8_width(left) + 14)
		x += put_str(w, 0, x, "port advisor ", right - x, ST_BAR, 0, false);
	x += put_str(w, 0, x, left, right - x, ST_BAR_BOLD, 0, true);
	char *pt = xasprintf(" ports %s ", pl.data ? pl.data : "");
	if (right - x >= u8_width(pt))
		x += put_str(w, 0, x, pt, right - x, ST_BAR, 0, false);
	(void)x;
	free(pt);
	free(left);
	buf_free(&pl);
	wnoutrefresh(w);
}

static void
adv_footer(struct tui *t)
{
	struct advisor *a = &t->adv;
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
	if (adv_running(t)) {
		static const wchar_t spin_u[] = L"\u280b\u2819\u2839\u2838\u283c\u2834\u2826\u2827\u2807\u280f";
		static const wchar_t spin_a[] = L"|/-\\";
		const wchar_t *sp = ui_utf8 ? spin_u : spin_a;
		size_t ns = wcslen(sp);
		x += put_wcs(w, 0, x, sp + (size_t)t->spin % ns, 1, 1, ST_RUNNING, 0,
			     false);
		int n, done = 0;
		const struct sweep_port *p = sweep_ports(a->w, &n);
		for (int i = 0; i < n; i++)
			done += p[i].state == SWS_DONE;
		char *m = xasprintf(" %d of %d ports known ", done, n);
		x += put_str(w, 0, x, m, cols - x, ST_BOLD, 0, true);
		free(m);
		x += 1;
	}
	/* the pane has more than it shows */
	bool more = false;
	for (int i = 0; i < 2; i++)
		if (a->pane[i]) {
			int h = getmaxy(a->pane[i]) - 2;
			if ((int)a->doc[i].n > h)
				more = true;
		}
	struct keyhint port = { ui_utf8 ? "\u2191\u2193" : "Up/Dn", "port" };
	int used = put_hint(w, x, cols - x - 20, &port);
	if (used > 0)
		x += used;
	(void)more;
	ui_footer_keys(t, w, x, &screen_advisor);
	wnoutrefresh(w);
}

/* ---- the table --------------------------------------------------------------- */

struct cols {
	bool wide;
	int port, speaks, mode, tls, cert, time, auth;	/* x of each */
	int end;					/* last column + 1 */
};

static void
columns(struct cols *c, int inner)
{
	c->wide = inner >= WIDE_TABLE;
	int x = 1 + 4;			/* mark, the recommended star, a space */
	c->port = x;
	x += 6;
	c->speaks = x;
	x += 8;
	c->mode = x;
	x += c->wide ? 13 : 9;
	c->tls = x;
	x += c->wide ? 9 : 7;
	c->cert = x;
	x += c->wide ? 16 : 11;
	c->time = x;
	x += 8;
	c->auth = x;
	c->end = 1 + inner;
}

static void
draw_row(struct tui *t, WINDOW *w, int y, const struct sweep_port *p,
	 const struct cols *c, bool sel, bool rec)
{
	struct advisor *a = &t->adv;
	enum verdict v = verdict_of(a, p);
	int inner = c->end - 1;
	char b[64];

	put_fill(w, y, 1, inner, sel ? ST_SELECTED : ST_NORMAL, 0);
	/* the selected row: a bar, and reversed in monochrome; the pointer
	 * says it too, without colour or attributes */
	attr_t ex = 0;
	int base = sel ? ST_SELECTED : ST_NORMAL;
#define ST(x) (sel ? ST_SELECTED : (x))
	if (sel)
		put_mark(w, y, 1, MK_NEXT, base, A_BOLD);
	put_mark(w, y, 2, vlook[v].m, ST(vlook[v].st), sel ? A_BOLD : 0);
	if (rec)
		put_mark(w, y, 3, MK_STAR, ST(ST_OK), A_BOLD);
	snprintf(b, sizeof b, "%d", p->port);
	put_str(w, y, c->port, b, 6, ST(ST_BOLD), ex, false);
	if (p->state != SWS_DONE) {
		const char *what = p->state == SWS_STARTTLS ?
			"smtp" : "?";
		put_str(w, y, c->speaks, what, 7, ST(ST_PENDING), 0, false);
		char *m = xasprintf("%s probe %s", p->state == SWS_STARTTLS ?
				    "STARTTLS" : "implicit-TLS", mark_u8(MK_ELLIPSIS));
		put_str(w, y, c->mode, m, c->time - c->mode - 1, ST(ST_PENDING), 0, true);
		free(m);
		fmt_time(b, sizeof b, sweep_seconds(a->w));
		put_str(w, y, c->time, b, 7, ST(ST_PENDING), 0, false);
		return;
	}
	put_str(w, y, c->speaks, sweep_speaks_name(p->speaks), 7,
		ST(p->speaks == SPK_NOTHING || p->speaks == SPK_OTHER ? ST_FAIL :
		   ST_NORMAL), 0, false);
	const char *mode = p->mode == TLSM_IMPLICIT ? (c->wide ? "implicit TLS" :
		"implicit") : p->mode == TLSM_STARTTLS ? "STARTTLS" : "-";
	put_str(w, y, c->mode, mode, c->tls - c->mode - 1,
		ST(p->mode_mismatch ? ST_WARN : ST_NORMAL), 0, true);
	const struct tls_info *ti = tls_of(p);
	put_str(w, y, c->tls, tls_words(p, c->wide), c->cert - c->tls - 1,
		ST(ti ? ST_NORMAL : p->speaks == SPK_SMTP || p->speaks == SPK_TLS ?
		   ST_FAIL : ST_DIM), 0, true);
	int cst;
	const char *cert = cert_words(p, c->wide, &cst);
	put_str(w, y, c->cert, cert, c->time - c->cert - 1, ST(cst), 0, true);
	fmt_time(b, sizeof b, p->seconds);
	int tw = u8_width(b);
	put_str(w, y, c->time + 6 - tw, b, tw, ST(ST_TIME), 0, false);
	const char *auth = p->auth ? p->auth : p->encrypted ? "none" : "-";
	if (c->end - c->auth > 2)
		put_str(w, y, c->auth, auth, c->end - c->auth, ST(p->auth ? ST_FACT :
			ST_DIM), 0, true);
#undef ST
}

static void
draw_table(struct tui *t)
{
	struct advisor *a = &t->adv;
	WINDOW *w = a->table;
	int h, wd;
	getmaxyx(w, h, wd);
	werase(w);
	style_set(w, ST_BORDER, 0);
	ui_box(w);
	put_str(w, 0, 1, " Ports ", wd - 3, ST_TITLE, 0, true);
	if (!a->w) {
		put_str(w, 1, 2, "No host to sweep: e on the session screen sets one.",
			wd - 4, ST_DIM, 0, true);
		wnoutrefresh(w);
		return;
	}
	char *right = xasprintf(" %s timeout %.0f s ", sweep_done(a->w) ?
				"done," : "probing,", sweep_timeout(a->w));
	int rw = u8_width(right);
	if (wd - rw - 2 > 10)
		put_str(w, 0, wd - rw - 1, right, rw, ST_DIM, 0, false);
	free(right);

	struct cols c;
	columns(&c, wd - 2);
	static const char *const heads[] = { "port", "speaks", "mode", "TLS",
					     "certificate", "time",
					     "AUTH inside TLS" };
	int hx[] = { c.port, c.speaks, c.mode, c.tls, c.cert, c.time, c.auth };
	for (size_t i = 0; i < ARRAY_SIZE(heads); i++) {
		const char *hd = heads[i];
		if (!c.wide && !strcmp(hd, "certificate"))
			hd = "cert";
		if (!c.wide && !strcmp(hd, "AUTH inside TLS") && c.end - c.auth < 16)
			hd = "AUTH in TLS";
		int room = (i + 1 < ARRAY_SIZE(heads) ? hx[i + 1] : c.end) - hx[i] - 1;
		if (!strcmp(hd, "time")) {
			put_str(w, 1, c.time + 2, hd, 5, ST_LABEL, 0, false);
			continue;
		}
		if (room > 1)
			put_str(w, 1, hx[i], hd, room, ST_LABEL, 0, true);
	}

	int n;
	const struct sweep_port *p = sweep_ports(a->w, &n);
	int rows = h - 3;
	if (a->sel < a->row_top)
		a->row_top = a->sel;
	if (a->sel >= a->row_top + rows)
		a->row_top = a->sel - rows + 1;
	int rec = sweep_done(a->w) ? recommended_row(a->w) : -1;
	for (int i = a->row_top, y = 2; i < n && y < h - 1; i++, y++)
		draw_row(t, w, y, &p[i], &c, i == a->sel, i == rec);
	if (a->row_top > 0)
		put_mark(w, 1, wd - 1, MK_UP, ST_BORDER_FOCUS, 0);
	if (a->row_top + rows < n)
		put_mark(w, h - 1, wd - 2, MK_DOWN, ST_BORDER_FOCUS, 0);
	wnoutrefresh(w);
}

/* ---- the panes --------------------------------------------------------------- */

static void
legend(struct doc *d)
{
	doc_nl(d);
	char *m = xasprintf("%s usable   %s works, with problems   %s fails   "
			    "%s probing   %s recommended", mark_u8(MK_OK),
			    mark_u8(MK_WARN), mark_u8(MK_FAIL), mark_u8(MK_PENDING),
			    mark_u8(MK_STAR));
	doc_wrap(d, 0, NULL, 0, ST_DIM, m);
	free(m);
}

static void
mx_lines(struct doc *d, const struct advisor *a)
{
	const struct mx_result *mx = a->mx;
	if (!mx)
		return;
	doc_nl(d);
	char *v;
	if (mx->status == MX_IMPLICIT)
		v = xasprintf("%s has no MX record: its own address takes its mail "
			      "(RFC 5321 \u00a75.1).", mx->domain);
	else
		v = xasprintf("MX hosts of %s, in preference order:", mx->domain);
	doc_wrap(d, 0, NULL, 0, ST_NORMAL, v);
	free(v);
	if (mx->status != MX_IMPLICIT)
		for (int i = 0; i < mx->n; i++) {
			struct buf b = { 0 };
			buf_printf(&b, "%d %s", mx->hosts[i].pref, mx->hosts[i].name);
			for (int k = 0; k < mx->hosts[i].naddr; k++)
				buf_printf(&b, "%s%s", k ? ", " : " [", mx->hosts[i].addrs[k]);
			buf_adds(&b, mx->hosts[i].naddr ? "]" : " (no address)");
			bool cur = !strcmp(mx->hosts[i].name, a->host);
			doc_wrap(d, 4, cur ? mark_u8(MK_NEXT) : "", ST_NEXT,
				 cur ? ST_BOLD : ST_NORMAL, b.data);
			buf_free(&b);
		}
	if (*a->note) {
		doc_nl(d);
		doc_wrap(d, 2, mark_u8(MK_INFO), ST_DIM, ST_WARN, a->note);
	}
}

/* The row of a port number, NULL: none. */
static const struct sweep_port *
port_row(const struct advisor *a, int port)
{
	int n;
	const struct sweep_port *p = sweep_ports(a->w, &n);
	for (int i = 0; i < n; i++)
		if (p[i].port == port)
			return &p[i];
	return NULL;
}

/*
 * The advice's words (sweep.c writes them; report.c prints them as one
 * paragraph): why this port, then "The other ports: 587: ... . 25: ...".
 * On screen each other port gets a line of its own with its row's mark,
 * so the eye can go from the table to the reason.  Only the layout
 * changes; the words are the engine's, drawn through doc_wrap.
 */
static void
why_block(struct doc *d, const struct advisor *a, const char *why)
{
	static const char others[] = "The other ports: ";
	const char *o = strstr(why, others);
	if (!o) {
		doc_wrap(d, 2, NULL, 0, ST_NORMAL, why);
		return;
	}
	char *head = xstrndup(why, (size_t)(o - why));
	doc_wrap(d, 2, NULL, 0, ST_NORMAL, head);
	free(head);
	doc_wrap(d, 0, NULL, 0, ST_LABEL, "The other ports");
	const char *p = o + sizeof others - 1;
	while (*p) {
		/* this item runs to the next ". NNN: " or the end */
		const char *e = p, *next = NULL;
		while ((e = strstr(e, ". ")) != NULL) {
			const char *q = e + 2;
			while (*q >= '0' && *q <= '9')
				q++;
			if (q > e + 2 && q[0] == ':' && q[1] == ' ') {
				next = e + 2;
				break;
			}
			e += 2;
		}
		size_t len = next ? (size_t)(next - 1 - p) : strlen(p);
		char *item = xstrndup(p, len);
		int port = atoi(item);
		const struct sweep_port *r = port_row(a, port);
		enum verdict v = r ? verdict_of(a, r) : V_FAIL;
		doc_wrap(d, 3, r ? mark_u8(vlook[v].m) : "", vlook[v].st,
			 ST_NORMAL, item);
		free(item);
		if (!next)
			break;
		p = next;
	}
}

static void
build_recommendation(struct tui *t, struct doc *d, bool heading)
{
	struct advisor *a = &t->adv;
	if (heading)
		doc_heading(d, "Recommendation");
	if (!a->w)
		return;
	if (!sweep_done(a->w)) {
		char *v = xasprintf("Probing %d port%s of %s at once: implicit TLS "
				    "first, STARTTLS where a port greets in plaintext. "
				    "The recommendation comes when every port has a "
				    "verdict: at most about %.0f s.", a->nports,
				    a->nports == 1 ? "" : "s", *a->address ?
				    a->address : a->host, sweep_timeout(a->w));
		doc_wrap(d, 0, NULL, 0, ST_NORMAL, v);
		free(v);
		mx_lines(d, a);
		legend(d);
		return;
	}
	const struct sweep_advice *ad = sweep_advice(a->w);
	const char *why = ad ? ad->why : NULL;
	char *rest = NULL;
	if (ad && ad->port) {
		char *v = xasprintf("Use port %d with %s", ad->port,
				    adv_mode_words(ad->mode));
		doc_wrap(d, 2, mark_u8(MK_OK), ST_OK, ST_BOLD, v);
		/* the advice's words open with the same sentence: say it once */
		size_t vl = strlen(v);
		if (why && !strncmp(why, v, vl) && why[vl] == ':' && why[vl + 1] == ' ') {
			rest = xstrdup(why + vl + 2);
			if (*rest >= 'a' && *rest <= 'z')
				*rest = (char)(*rest - 'a' + 'A');
			why = rest;
		}
		free(v);
		v = xasprintf("-p %d --tls %s", ad->port, tls_mode_name(ad->mode));
		doc_wrap(d, 2, NULL, 0, ST_DIM, v);
		free(v);
	} else {
		doc_wrap(d, 2, mark_u8(MK_FAIL), ST_FAIL, ST_FAIL,
			 "No port to recommend from here");
	}
	if (why)
		why_block(d, a, why);
	free(rest);
	if (ad && ad->rule) {
		char *v = xasprintf("policy row: %s", ad->rule);
		doc_wrap(d, 2, NULL, 0, ST_DIM, v);
		free(v);
	}
	mx_lines(d, a);
	if (ad && ad->port) {
		doc_nl(d);
		doc_nl(d);
		doc_add(d, ST_KEY, "Enter");
		doc_add(d, ST_HINT, " on a row runs the step-by-step session there.");
	}
	legend(d);
}

static void
diag_item(struct doc *d, const struct diagnosis *g)
{
	doc_diagnosis(d, g, false, "Fix", ST_BOLD);
}

/* What the probe the verdict stands on said, line by line. */
static void
probe_lines(struct doc *d, const struct sweep_port *p)
{
	const struct session *s = p->probe;
	if (!s || !s->tr.n || p->state != SWS_DONE)
		return;
	doc_nl(d);
	char *hd = xasprintf("The %s probe, line by line", s->tls_mode ==
			     TLSM_IMPLICIT ? "implicit-TLS" : "STARTTLS");
	doc_wrap(d, 0, NULL, 0, ST_LABEL, hd);
	free(hd);
	for (size_t i = 0; i < s->tr.n; i++) {
		const struct tr_line *l = &s->tr.v[i];
		enum mark m = l->dir == TR_SERVER ? MK_SERVER : l->dir == TR_CLIENT ?
			      MK_CLIENT : MK_INFO;
		int st = l->dir == TR_SERVER ? ST_SERVER : l->dir == TR_CLIENT ?
			 ST_CLIENT : ST_INFO;
		char *lab = xasprintf("%s%s", l->tls ? mark_u8(MK_TLS) : " ",
				      mark_u8(m));
		doc_wrap(d, 5, lab, st, st, l->text);
		free(lab);
	}
}

static void
build_port(struct tui *t, struct doc *d, bool heading)
{
	struct advisor *a = &t->adv;
	const struct sweep_port *p = adv_selected(t);
	if (!p)
		return;
	enum verdict v = verdict_of(a, p);
	if (heading) {
		char *hd = xasprintf("Port %d", p->port);
		doc_heading(d, hd);
		free(hd);
	}
	char *line;
	if (v == V_PROBING)
		line = xasprintf("probing: the %s probe is under way (%.1f s of %.0f s)",
				 p->state == SWS_STARTTLS ? "STARTTLS" : "implicit-TLS",
				 sweep_seconds(a->w), sweep_timeout(a->w));
	else
		line = xasprintf("%s: speaks %s%s%s", vlook[v].word,
				 sweep_speaks_name(p->speaks), p->mode != TLSM_NONE ?
				 ", use it with " : "", p->mode != TLSM_NONE ?
				 adv_mode_words(p->mode) : "");
	doc_wrap(d, 2, mark_u8(vlook[v].m), vlook[v].st, ST_BOLD, line);
	free(line);
	if (p->greeting)
		doc_wrap(d, 10, "Greeting", ST_LABEL, ST_SERVER, p->greeting);
	const struct tls_info *ti = tls_of(p);
	if (ti) {
		char *tl = xasprintf("%s%s, %s, certificate %s", p->speaks == SPK_SMTP ?
				     "STARTTLS, " : "on connect, ", ti->version,
				     ti->cipher, ti->verified && !ti->problems ?
				     "verified" : "NOT verified");
		doc_wrap(d, 10, "TLS", ST_LABEL, ST_NORMAL, tl);
		free(tl);
	} else if (v != V_PROBING && p->speaks == SPK_SMTP) {
		doc_wrap(d, 10, "TLS", ST_LABEL, ST_FAIL, p->starttls_offered ?
			 "STARTTLS offered, but the upgrade failed" :
			 "STARTTLS not offered");
	}
	if (v != V_PROBING && (p->encrypted || p->auth))
		doc_wrap(d, 10, "AUTH", ST_LABEL, p->auth ? ST_FACT : ST_WARN,
			 p->auth ? p->auth : "none offered inside TLS");
	if (p->auth_before_tls)
		doc_wrap(d, 2, mark_u8(MK_WARN), ST_WARN, ST_WARN,
			 "AUTH is offered before TLS too: a client could send its "
			 "password in the clear.");
	if (p->mode_mismatch)
		doc_wrap(d, 2, mark_u8(MK_WARN), ST_WARN, ST_WARN,
			 "The port number says one TLS mode and the port speaks the "
			 "other.");
	for (int sev = SEV_ERROR; sev <= SEV_INFO; sev++)
		for (size_t k = 0; k < p->diags.n; k++)
			if ((int)p->diags.v[k].sev == sev)
				diag_item(d, &p->diags.v[k]);
	if (p->nhow) {
		doc_nl(d);
		doc_wrap(d, 0, NULL, 0, ST_LABEL, "How the verdict was reached");
		for (int k = 0; k < p->nhow; k++)
			doc_wrap(d, 4, "  -", ST_DIM, ST_NORMAL, p->how[k]);
	}
	probe_lines(d, p);
	if (v != V_PROBING) {
		doc_nl(d);
		doc_nl(d);
		struct config c = { .port = p->port, .tls = p->mode != TLSM_NONE ?
				    p->mode : TLSM_AUTO };
		char *m = xasprintf(" runs the step-by-step session on port %d with %s.",
				    p->port, adv_mode_words(config_tls(&c)));
		doc_add(d, ST_KEY, "Enter");
		doc_add(d, ST_HINT, m);
		free(m);
	}
}

static void
draw_pane(struct tui *t, int i, const char *title)
{
	struct advisor *a = &t->adv;
	WINDOW *w = a->pane[i];
	int h, wd;
	getmaxyx(w, h, wd);
	int ih = h - 2;
	werase(w);
	/* which pane PgUp/PgDn scroll: shown only when one of them can */
	bool focused = a->pane[1] && a->focus == i && a->scrolls;
	style_set(w, focused ? ST_BORDER_FOCUS : ST_BORDER, 0);
	ui_box(w);
	struct doc *d = &a->doc[i];
	int maxtop = (int)d->n - ih;
	if (maxtop < 0)
		maxtop = 0;
	if (a->top[i] > maxtop)
		a->top[i] = maxtop;
	if (a->top[i] < 0)
		a->top[i] = 0;
	char *tt = xasprintf(" %s ", title);
	put_str(w, 0, 1, tt, wd - 3, focused ? ST_TAB_ON : ST_TITLE, 0, true);
	free(tt);
	if (maxtop > 0) {
		char *r = xasprintf(" %d%% ", a->top[i] * 100 / maxtop);
		int rw = u8_width(r);
		put_str(w, 0, wd - rw - 1, r, rw, ST_DIM, 0, false);
		free(r);
	}
	doc_draw(w, d, a->top[i], 1, 2, ih, wd - 3);
	if (a->top[i] > 0)
		put_mark(w, 1, wd - 1, MK_UP, ST_BORDER_FOCUS, 0);
	if (a->top[i] < maxtop)
		put_mark(w, ih, wd - 1, MK_DOWN, ST_BORDER_FOCUS, 0);
	wnoutrefresh(w);
}

static void
draw_panes(struct tui *t)
{
	struct advisor *a = &t->adv;
	const struct sweep_port *p = adv_selected(t);
	char title[64];
	if (a->pane[1]) {
		doc_reset(&a->doc[0], getmaxx(a->pane[0]) - 3);
		build_recommendation(t, &a->doc[0], false);
		doc_reset(&a->doc[1], getmaxx(a->pane[1]) - 3);
		build_port(t, &a->doc[1], false);
		a->scrolls = false;
		for (int i = 0; i < 2; i++)
			if ((int)a->doc[i].n > getmaxy(a->pane[i]) - 2)
				a->scrolls = true;
		draw_pane(t, 0, "Recommendation");
		snprintf(title, sizeof title, "Port %d", p ? p->port : 0);
		draw_pane(t, 1, p ? title : "Port");
		return;
	}
	/* one pane: the selected row's part first, unless it is the
	 * recommended port (then the recommendation says it all first) */
	struct doc *d = &a->doc[0];
	doc_reset(d, getmaxx(a->pane[0]) - 3);
	doc_reset(&a->doc[1], 1);
	bool rec_first = !p || (a->w && sweep_done(a->w) &&
				recommended_row(a->w) == a->sel) || !sweep_done(a->w);
	/* the title names the first part, a heading the second */
	if (rec_first) {
		build_recommendation(t, d, false);
		doc_nl(d);
		build_port(t, d, true);
		snprintf(title, sizeof title, "Recommendation");
	} else {
		build_port(t, d, false);
		doc_nl(d);
		build_recommendation(t, d, true);
		snprintf(title, sizeof title, "Port %d", p->port);
	}
	draw_pane(t, 0, title);
}

static void
adv_draw(struct tui *t, unsigned dirty)
{
	(void)dirty;
	adv_header(t);
	if (t->adv.table)
		draw_table(t);
	if (t->adv.pane[0])
		draw_panes(t);
	adv_footer(t);
}

/* ---- help -------------------------------------------------------------------- */

static void
adv_help(struct doc *d, const struct tui *t)
{
	doc_nl(d);
	doc_heading(d, "How ports are probed");
	doc_wrap(d, 0, NULL, 0, ST_NORMAL, "Every port at once: a TLS ClientHello "
		 "on connect first; a port that answers it with an SMTP greeting "
		 "speaks plaintext SMTP and gets a second probe with STARTTLS. "
		 "EHLO, TLS, EHLO, QUIT: no login, no mail. A silent port costs "
		 "one timeout in all.");
	doc_nl(d);
	doc_heading(d, "Marks");
	char *m = xasprintf("%s usable   %s works, with problems (or not for this "
			    "use)   %s fails   %s still probing   %s recommended   "
			    "%s selected", mark_u8(MK_OK), mark_u8(MK_WARN),
			    mark_u8(MK_FAIL), mark_u8(MK_PENDING), mark_u8(MK_STAR),
			    mark_u8(MK_NEXT));
	doc_wrap(d, 2, NULL, 0, ST_NORMAL, m);
	free(m);
	(void)t;
}

/* ---- the screen: keys ------------------------------------------------------ */

enum {
	AA_UP = KA_FIRST, AA_DOWN, AA_FIRST, AA_LAST, AA_PGUP, AA_PGDN, AA_ENTER,
	AA_AGAIN, AA_BACK, AA_PANE, AA_RUN, AA_PORTS, AA_REDRAW, AA_HELP,
	AA_QUIT, AA_INTR,
};

static const struct keydef advisor_keys[] = {
	{ KEY_UP, true, AA_UP, "Up", "select a port", NULL, 0,
	  "The port advisor" },
	{ 'k', false, AA_UP, "k", NULL, NULL, 0, NULL },
	{ KEY_DOWN, true, AA_DOWN, "Down", NULL, NULL, 0, NULL },
	{ 'j', false, AA_DOWN, "j", NULL, NULL, 0, NULL },
	{ KEY_HOME, true, AA_FIRST, "Home", "the first port", NULL, 0, NULL },
	{ 'g', false, AA_FIRST, "g", NULL, NULL, 0, NULL },
	{ KEY_END, true, AA_LAST, "End", "the last port", NULL, 0, NULL },
	{ 'G', false, AA_LAST, "G", NULL, NULL, 0, NULL },
	{ '\r', false, AA_ENTER, "Enter", "run the step-by-step session on that "
	  "port and TLS mode", "run session", 0, NULL },
	{ '\n', false, AA_ENTER, "Enter", NULL, NULL, 0, NULL },
	{ KEY_ENTER, true, AA_ENTER, "Enter", NULL, NULL, 0, NULL },
	{ 'R', false, AA_AGAIN, "R", "sweep again", "re-sweep", 0, NULL },
	{ 'b', false, AA_BACK, "b", "back to the session screen (after Enter or "
	  "w)", "back", KW_BACK, NULL },
	{ 27, false, AA_BACK, "Esc", NULL, NULL, 0, NULL },
	{ KEY_PPAGE, true, AA_PGUP, "PgUp", "scroll the recommendation and the "
	  "port's details", NULL, 0, NULL },
	{ KEY_NPAGE, true, AA_PGDN, "PgDn", NULL, "more", KW_MORE, NULL },
	{ ' ', false, AA_PGDN, "space", NULL, NULL, 0, NULL },
	{ '\t', false, AA_PANE, "Tab", "which pane PgUp PgDn scroll (wide "
	  "screens)", "pane", KW_PANES | KW_MORE, NULL },
	{ KEY_BTAB, true, AA_PANE, "Shift-Tab", NULL, NULL, 0, NULL },
	{ 'r', false, AA_RUN, "r", "(the session's keys: Enter runs one here)",
	  NULL, 0, NULL },
	{ 'n', false, AA_RUN, "n", NULL, NULL, 0, NULL },
	{ 'w', false, AA_PORTS, "w", "(this is the sweep: R sweeps again)", NULL,
	  0, NULL },
	{ 12, false, AA_REDRAW, "Ctrl-L", "redraw the screen", NULL, 0, NULL },
	{ 26, false, KA_NONE, "Ctrl-Z", "suspend to the shell; fg comes back",
	  NULL, 0, NULL },
	{ 3, false, AA_INTR, "Ctrl-C", "quit, as interrupted (status 4)", NULL,
	  0, NULL },
	{ '?', false, AA_HELP, "?", "this help", "help", 0, NULL },
	{ KEY_F(1), true, AA_HELP, "F1", NULL, NULL, 0, NULL },
	{ 'q', false, AA_QUIT, "q", "quit", "quit", 0, NULL },
	{ 0, false, 0, NULL, NULL, NULL, 0, NULL }
};

static unsigned
adv_state(const struct tui *t)
{
	const struct advisor *a = &t->adv;
	unsigned st = adv_running(t) ? KW_BUSY : KW_IDLE;
	if (a->have_session)
		st |= KW_BACK;
	if (a->pane[1])
		st |= KW_PANES;
	for (int i = 0; i < 2; i++)
		if (a->pane[i] && (int)a->doc[i].n > getmaxy(a->pane[i]) - 2)
			st |= KW_MORE;
	return st;
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
	/* the lab's mail host: the listener that plays the port */
	t->cfg->port = config_mapped_port(t->cfg, port);
	t->cfg->role_port = t->cfg->port != port ? port : 0;
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
	t->restart = true;
	ui_open(t, SCREEN_SESSION);
	tui_message(t, false, "Port %d, %s: n steps, r runs to the end, w goes "
		    "back to the ports.", port, adv_mode_words(config_tls(t->cfg)));
}

static void
adv_key(struct tui *t, int action, wint_t ch, bool keycode)
{
	struct advisor *a = &t->adv;
	int ph = a->pane[a->pane[1] ? a->focus : 0] ?
		 getmaxy(a->pane[a->pane[1] ? a->focus : 0]) - 3 : 5;
	if (ph < 1)
		ph = 1;
	(void)ch;
	(void)keycode;
	switch (action) {
	case AA_UP: adv_move(t, -1, false); return;
	case AA_DOWN: adv_move(t, 1, false); return;
	case AA_FIRST: adv_move(t, 0, true); return;
	case AA_LAST: adv_move(t, SWEEP_MAX_PORTS, true); return;
	case AA_PGUP: adv_scroll(t, -ph, false); return;
	case AA_PGDN: adv_scroll(t, ph, false); return;
	case AA_ENTER: sweep_enter(t); return;
	case AA_PANE:
		a->focus = !a->focus;
		t->dirty |= DIRTY_ALL & ~DIRTY_OVERLAY;
		return;
	case AA_INTR:
		t->interrupted = true;
		/* fall through */
	case AA_QUIT:
		t->quit = true;
		return;
	case AA_AGAIN:
		a->target = 0;
		a->note[0] = '\0';
		adv_start(t);
		tui_message(t, false, "Sweeping again.");
		return;
	case AA_RUN:
		tui_message(t, false, "Enter runs the session on the selected port; "
			    "R sweeps again.");
		return;
	case AA_BACK:
		if (a->have_session)
			ui_open(t, SCREEN_SESSION);
		else
			tui_message(t, false, "No session yet: Enter starts one on the "
				    "selected port; q quits.");
		return;
	case AA_PORTS:
		tui_message(t, false, "This is the port sweep: R sweeps again.");
		return;
	case AA_HELP:
		ui_open(t, SCREEN_HELP);
		return;
	case AA_REDRAW:
		clearok(curscr, TRUE);
		t->dirty = DIRTY_ALL;
		return;
	}
}

static void
adv_resize(struct tui *t, int *h, int *w)
{
	(void)h;
	(void)w;
	adv_layout(t);
}

static void
adv_close(struct tui *t)
{
	adv_layout_free(t);
}

const struct screen screen_advisor = {
	.name = "port advisor",
	.keys = advisor_keys,
	.draw = adv_draw,
	.key = adv_key,
	.resize = adv_resize,
	.close = adv_close,
	.state = adv_state,
	.help = adv_help,
};

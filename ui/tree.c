/*
 * tree.c - the whole decision tree (`T`): every question, branch and
 * leaf of the engine's tree (diag_tree_nodes, diag_tree_branches: data
 * read, never walked here), the path this session walked marked, the
 * rest collapsed until opened.  Enter on a question opens or closes it;
 * on a leaf it shows that diagnosis from the catalog.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui.h"
#include "../src/lab/lab.h"
#include "../src/util.h"

#define MAX_BRANCH 16
#define MAX_DEPTH 16
#define MAX_ROWS 2048

struct trow {
	int depth;
	int node;		/* index in diag_tree_nodes(), -1: a leaf */
	int diag;		/* a leaf's diagnosis, -1: none ("-") */
	const char *when;	/* the answer that leads here, NULL: root */
	bool walked;		/* on this session's path */
	bool kids, open;
};

struct tree_view {
	const struct dt_view *nodes;
	size_t nnodes;
	signed char user[512];	/* per node: 1 opened, -1 closed, 0 default */
	struct trow rows[MAX_ROWS];
	size_t nrows;
	int sel;
	int leaf;		/* the diagnosis shown, -1: the tree */
	/* the walked path: node ids, and where it ended */
	const char *path[32];
	size_t npath;
	int end_diag;		/* the leaf it reached, -1: "-" */
	bool have_path;
};

/* The screen's own state, kept where every screen keeps it. */
#define TV(t) ((struct tree_view *)(t)->state[SCREEN_TREE])

static int
node_index(const struct tree_view *v, const char *id)
{
	for (size_t i = 0; i < v->nnodes; i++)
		if (!strcmp(v->nodes[i].id, id))
			return (int)i;
	return -1;
}

static int
path_pos(const struct tree_view *v, const char *id)
{
	for (size_t i = 0; i < v->npath; i++)
		if (!strcmp(v->path[i], id))
			return (int)i;
	return -1;
}

/* The walked path of the session's first error (or its first finding;
 * a session that passed answered the root "no"). */
static void
find_path(struct tui *t, struct tree_view *v)
{
	const struct session *s = t->s;
	v->npath = 0;
	v->end_diag = -1;
	v->have_path = false;
	if (!s || !s->finished)
		return;
	const struct diagnosis *g = NULL;
	for (size_t i = 0; i < s->diags.n && !g; i++)
		if (s->diags.v[i].sev == SEV_ERROR && s->diags.v[i].npath)
			g = &s->diags.v[i];
	v->have_path = true;
	if (!g) {
		v->path[v->npath++] = "root";
		return;
	}
	for (size_t i = 0; i < g->npath && v->npath < ARRAY_SIZE(v->path); i++)
		v->path[v->npath++] = g->path[i].node;
	v->end_diag = (int)g->id;
}

static void
add_row(struct tree_view *v, struct trow r)
{
	if (v->nrows < MAX_ROWS)
		v->rows[v->nrows++] = r;
}

static void
add_node(struct tree_view *v, const char *id, int depth, const char *when,
	 bool walked)
{
	int ni = node_index(v, id);
	if (ni < 0 || depth > MAX_DEPTH)
		return;
	const char *bw[MAX_BRANCH], *bn[MAX_BRANCH];
	size_t nb = diag_tree_branches(id, bw, bn, MAX_BRANCH);
	bool open = v->user[ni] ? v->user[ni] > 0 : walked;
	add_row(v, (struct trow){ depth, ni, -1, when, walked, nb > 0, open });
	if (!open)
		return;
	int p = walked ? path_pos(v, id) : -1;
	for (size_t b = 0; b < nb; b++) {
		bool taken = false;
		if (p >= 0 && (size_t)p + 1 < v->npath)
			taken = !strcmp(bn[b], v->path[p + 1]);
		else if (p >= 0 && bn[b][0] == '=')
			taken = diag_from_id(bn[b] + 1) == v->end_diag;
		else if (p >= 0 && !strcmp(bn[b], "-"))
			taken = v->end_diag < 0;
		if (bn[b][0] == '=')
			add_row(v, (struct trow){ depth + 1, -1, diag_from_id(bn[b] + 1),
						  bw[b], taken, false, false });
		else if (!strcmp(bn[b], "-"))
			add_row(v, (struct trow){ depth + 1, -1, -1, bw[b], taken,
						  false, false });
		else
			add_node(v, bn[b], depth + 1, bw[b], taken);
	}
}

static void
build_rows(struct tree_view *v)
{
	v->nrows = 0;
	add_node(v, "root", 0, NULL, v->have_path);
}

/* The rows as a document, one line each, tagged with the row. */
static void
build_doc(struct tui *t)
{
	struct tree_view *v = TV(t);
	struct doc *d = &t->ovdoc;
	doc_reset(d, docview_width(t));
	if (v->leaf >= 0) {
		const struct diag_info *di = diag_info((enum diag_id)v->leaf);
		doc_addf(d, ST_HEADING, "%s", di->id);
		doc_nl(d);
		doc_wrap(d, 0, NULL, 0, ST_BOLD, di->title);
		doc_nl(d);
		doc_wrap(d, 13, "What it means", ST_LABEL, ST_NORMAL, di->explanation);
		doc_nl(d);
		doc_wrap(d, 13, "Fix", ST_LABEL, ST_NORMAL, di->fix);
		if (di->rfc && *di->rfc) {
			doc_nl(d);
			doc_wrap(d, 13, "Standard", ST_LABEL, ST_DIM, di->rfc);
		}
		doc_nl(d);
		if (lab_find(di->id)) {
			char *m = xasprintf("smtpdx --lab %s shows it happen", di->id);
			doc_wrap(d, 13, "In the lab", ST_LABEL, ST_BOLD, m);
			free(m);
		}
		doc_wrap(d, 0, NULL, 0, ST_DIM, "Esc: back to the tree.");
		return;
	}
	for (size_t i = 0; i < v->nrows; i++) {
		const struct trow *r = &v->rows[i];
		doc_nl(d);
		d->v[d->n - 1].tag = (int)i;
		int st = r->walked ? ST_ANSWER : ST_NORMAL;
		doc_add(d, st, r->walked ? mark_u8(MK_NEXT) : " ");
		for (int k = 0; k < r->depth; k++)
			doc_add(d, ST_DIM, "  ");
		if (r->when) {
			doc_addf(d, r->walked ? ST_ANSWER : ST_DIM, "%s ", r->when);
			doc_addmark(d, r->walked ? ST_ANSWER : ST_DIM, MK_ARROW);
			doc_add(d, ST_DIM, " ");
		}
		if (r->node >= 0) {
			doc_add(d, ST_KEY, r->kids ? (r->open ? "[-] " : "[+] ") : "    ");
			doc_add(d, r->walked ? ST_BOLD : ST_QUESTION,
				v->nodes[r->node].question);
		} else if (r->diag >= 0) {
			const struct diag_info *di = diag_info((enum diag_id)r->diag);
			doc_addf(d, r->walked ? ST_FAIL : ST_FACT, "= %s", di->id);
			doc_addf(d, ST_DIM, "  %s", di->title);
		} else {
			doc_add(d, r->walked ? ST_OK : ST_DIM, "= nothing to report");
		}
	}
}

static void
keep_sel_in_view(struct tui *t)
{
	struct tree_view *v = TV(t);
	int h = t->ov ? getmaxy(t->ov) - 3 : 10;
	if (v->sel < 0)
		v->sel = 0;
	if (v->nrows && v->sel >= (int)v->nrows)
		v->sel = (int)v->nrows - 1;
	if (v->sel < t->ov_top)
		t->ov_top = v->sel;
	if (v->sel >= t->ov_top + h)
		t->ov_top = v->sel - h + 1;
}

static void
tree_open(struct tui *t)
{
	struct tree_view *v = xcalloc(1, sizeof *v);
	t->state[SCREEN_TREE] = v;
	v->nodes = diag_tree_nodes(&v->nnodes);
	if (v->nnodes > sizeof v->user)
		v->nnodes = sizeof v->user;
	v->leaf = -1;
	find_path(t, v);
	build_rows(v);
	/* start on the last walked row */
	for (size_t i = 0; i < v->nrows; i++)
		if (v->rows[i].walked)
			v->sel = (int)i;
}

static void
tree_close(struct tui *t)
{
	free(t->state[SCREEN_TREE]);
	t->state[SCREEN_TREE] = NULL;
}

static void
tree_resize(struct tui *t, int *h, int *w)
{
	*w = t->cols - 2 < 100 ? t->cols - 2 : 100;
	*h = t->rows - 2;
}

static void
tree_draw(struct tui *t, unsigned dirty)
{
	struct tree_view *v = TV(t);
	(void)dirty;
	snprintf(t->ov_title, sizeof t->ov_title, "%s",
		 v->leaf >= 0 ? "Decision tree: a leaf" :
		 v->have_path ? "Decision tree: the path this session walked is marked" :
		 "Decision tree");
	build_doc(t);
	if (v->leaf < 0)
		keep_sel_in_view(t);
	docview_draw(t);
	if (v->leaf < 0 && v->sel >= t->ov_top) {
		int y = 1 + v->sel - t->ov_top;
		if (y < getmaxy(t->ov) - 2)
			mvwchgat(t->ov, y, 1, getmaxx(t->ov) - 2, A_REVERSE, 0, NULL);
	}
}

enum {
	TR_UP = KA_FIRST, TR_DOWN, TR_PGUP, TR_PGDN, TR_HOME, TR_END, TR_OPEN,
	TR_CLOSE_NODE, TR_CLOSE, TR_HELP,
};

static const struct keydef tree_keys[] = {
	{ KEY_UP, true, TR_UP, "Up", "select a question or a leaf", NULL, 0,
	  "The decision tree" },
	{ 'k', false, TR_UP, "k", NULL, NULL, 0, NULL },
	{ KEY_DOWN, true, TR_DOWN, "Down", NULL, NULL, 0, NULL },
	{ 'j', false, TR_DOWN, "j", NULL, NULL, 0, NULL },
	{ KEY_PPAGE, true, TR_PGUP, "PgUp", "a page", NULL, 0, NULL },
	{ KEY_NPAGE, true, TR_PGDN, "PgDn", NULL, NULL, 0, NULL },
	{ KEY_HOME, true, TR_HOME, "Home", "the root", NULL, 0, NULL },
	{ KEY_END, true, TR_END, "End", "the last row", NULL, 0, NULL },
	{ '\r', false, TR_OPEN, "Enter", "open or close a question; on a leaf, "
	  "its diagnosis", NULL, 0, NULL },
	{ '\n', false, TR_OPEN, "Enter", NULL, NULL, 0, NULL },
	{ KEY_ENTER, true, TR_OPEN, "Enter", NULL, NULL, 0, NULL },
	{ KEY_RIGHT, true, TR_OPEN, "Right", NULL, NULL, 0, NULL },
	{ KEY_LEFT, true, TR_CLOSE_NODE, "Left", "close the question", NULL, 0,
	  NULL },
	{ '/', false, KA_NONE, "/", "search the tree; n N next and previous",
	  NULL, 0, NULL },
	{ 27, false, TR_CLOSE, "Esc", "back (from a leaf), or close", NULL, 0,
	  NULL },
	{ 'q', false, TR_CLOSE, "q", NULL, NULL, 0, NULL },
	{ 'T', false, TR_CLOSE, "T", NULL, NULL, 0, NULL },
	{ 3, false, TR_CLOSE, "Ctrl-C", NULL, NULL, 0, NULL },
	{ '?', false, TR_HELP, "?", "the key map", NULL, 0, NULL },
	{ 0, false, 0, NULL, NULL, NULL, 0, NULL }
};

static void
tree_key(struct tui *t, int action, wint_t ch, bool keycode)
{
	struct tree_view *v = TV(t);
	int h = t->ov ? getmaxy(t->ov) - 3 : 10;
	(void)ch;
	(void)keycode;
	t->dirty |= DIRTY_OVERLAY;
	if (v->leaf >= 0) {
		if (action == TR_CLOSE || action == TR_CLOSE_NODE) {
			v->leaf = -1;
			t->ov_top = 0;
		} else if (action == TR_UP || action == TR_PGUP) {
			t->ov_top -= action == TR_UP ? 1 : h - 1;
		} else if (action == TR_DOWN || action == TR_PGDN) {
			t->ov_top += action == TR_DOWN ? 1 : h - 1;
		}
		return;
	}
	struct trow *r = v->nrows ? &v->rows[v->sel] : NULL;
	switch (action) {
	case TR_UP: v->sel--; break;
	case TR_DOWN: v->sel++; break;
	case TR_PGUP: v->sel -= h - 1; break;
	case TR_PGDN: v->sel += h - 1; break;
	case TR_HOME: v->sel = 0; break;
	case TR_END: v->sel = (int)v->nrows - 1; break;
	case TR_OPEN:
		if (!r)
			break;
		if (r->node >= 0 && r->kids) {
			v->user[r->node] = r->open ? -1 : 1;
			build_rows(v);
		} else if (r->diag >= 0) {
			v->leaf = r->diag;
			t->ov_top = 0;
		}
		break;
	case TR_CLOSE_NODE:
		if (r && r->node >= 0 && r->open) {
			v->user[r->node] = -1;
			build_rows(v);
		}
		break;
	case TR_CLOSE:
		ui_close(t);
		return;
	case TR_HELP:
		ui_open(t, SCREEN_HELP);
		return;
	}
	keep_sel_in_view(t);
}

static bool
row_match(const void *ctx, size_t i)
{
	const struct tui *t = ctx;
	const struct dline *l = &t->ovdoc.v[i];
	return find_in(l->w, l->n, t->find.w, t->find.n);
}

/* `/`: the rows shown (open a question to search under it). */
static void
tree_find(struct tui *t, int dir)
{
	struct tree_view *v = TV(t);
	if (v->leaf >= 0) {
		docview_find(t, dir);
		return;
	}
	build_doc(t);
	long at = find_pick(t->ovdoc.n, (size_t)v->sel, dir, row_match, t,
			    &t->find.k, &t->find.m);
	if (at >= 0)
		v->sel = (int)at;
	keep_sel_in_view(t);
	t->dirty |= DIRTY_OVERLAY;
}

const struct screen screen_tree = {
	.name = "Decision tree",
	.overlay = true,
	.keys = tree_keys,
	.open = tree_open,
	.draw = tree_draw,
	.key = tree_key,
	.resize = tree_resize,
	.close = tree_close,
	.find = tree_find,
};

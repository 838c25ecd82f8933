/*
 * text.c - from UTF-8 to the screen, by display width.
 *
 * Everything drawn goes through u8_to_wcs(): it decodes UTF-8 itself (so
 * the result does not depend on the C library's idea of the locale for
 * decoding), then keeps a character only if the locale can show it and
 * wcwidth() says it is printable.  Widths are always wcwidth's, so wide
 * (CJK) and combining characters line up and a cut never splits one.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui.h"
#include "../src/util.h"

wchar_t *
u8_to_wcs(const char *s, size_t len, size_t *n)
{
	wchar_t *w = xcalloc(len + 1, sizeof *w);
	size_t k = 0;

	for (size_t i = 0; i < len;) {
		unsigned cp;
		int l = utf8_seq((const unsigned char *)s + i, len - i, &cp);
		if (l <= 0) {
			l = 1;
			cp = '?';
		}
		i += (size_t)l;
		if (cp == '\t')
			cp = ' ';
		if (!ui_utf8 && cp > 0x7e)
			cp = '?';
		else if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
			cp = '?';
		else if (wcwidth((wchar_t)cp) < 0)
			cp = ui_utf8 ? 0xfffd : '?';
		/* a combining mark with nothing to combine with stands alone */
		if (k == 0 && wcwidth((wchar_t)cp) == 0)
			cp = '?';
		w[k++] = (wchar_t)cp;
	}
	w[k] = L'\0';
	*n = k;
	return w;
}

char *
wcs_to_u8(const wchar_t *w, size_t n)
{
	char *s = xmalloc(n * 4 + 1), *p = s;
	for (size_t i = 0; i < n; i++) {
		unsigned c = (unsigned)w[i];
		if (c < 0x80) {
			*p++ = (char)c;
		} else if (c < 0x800) {
			*p++ = (char)(0xc0 | (c >> 6));
			*p++ = (char)(0x80 | (c & 0x3f));
		} else if (c < 0x10000) {
			*p++ = (char)(0xe0 | (c >> 12));
			*p++ = (char)(0x80 | ((c >> 6) & 0x3f));
			*p++ = (char)(0x80 | (c & 0x3f));
		} else if (c < 0x110000) {
			*p++ = (char)(0xf0 | (c >> 18));
			*p++ = (char)(0x80 | ((c >> 12) & 0x3f));
			*p++ = (char)(0x80 | ((c >> 6) & 0x3f));
			*p++ = (char)(0x80 | (c & 0x3f));
		}
	}
	*p = '\0';
	return s;
}

int
wcs_width(const wchar_t *w, size_t n)
{
	int cols = 0;
	for (size_t i = 0; i < n; i++) {
		int cw = wcwidth(w[i]);
		cols += cw > 0 ? cw : 0;
	}
	return cols;
}

int
u8_width(const char *s)
{
	size_t n;
	wchar_t *w = u8_to_wcs(s, strlen(s), &n);
	int cols = wcs_width(w, n);
	free(w);
	return cols;
}

int
put_wcs(WINDOW *w, int y, int x, const wchar_t *s, size_t n, int maxw,
	int st, attr_t extra, bool ellipsis)
{
	if (maxw <= 0)
		return 0;
	int total = wcs_width(s, n);
	int room = maxw;
	bool cut = total > maxw;
	if (cut && ellipsis)
		room = maxw - wcs_width(mark(MK_ELLIPSIS), wcslen(mark(MK_ELLIPSIS)));
	size_t k = 0;
	int cols = 0;
	while (k < n) {
		int cw = wcwidth(s[k]);
		if (cw < 0)
			cw = 0;
		if (cols + cw > room)
			break;
		cols += cw;
		k++;
		/* keep combining marks with their base character */
		while (k < n && wcwidth(s[k]) == 0)
			k++;
	}
	style_set(w, st, extra);
	if (k > 0)
		mvwaddnwstr(w, y, x, s, (int)k);
	else
		wmove(w, y, x);
	if (cut && ellipsis && room >= 0) {
		const wchar_t *e = mark(MK_ELLIPSIS);
		waddnwstr(w, e, (int)wcslen(e));
		cols += wcs_width(e, wcslen(e));
	}
	return cols;
}

int
put_str(WINDOW *w, int y, int x, const char *s, int maxw, int st,
	attr_t extra, bool ellipsis)
{
	size_t n;
	wchar_t *ws = u8_to_wcs(s, strlen(s), &n);
	int cols = put_wcs(w, y, x, ws, n, maxw, st, extra, ellipsis);
	free(ws);
	return cols;
}

int
put_mark(WINDOW *w, int y, int x, enum mark m, int st, attr_t extra)
{
	const wchar_t *s = mark(m);
	return put_wcs(w, y, x, s, wcslen(s), 8, st, extra, false);
}

void
put_fill(WINDOW *w, int y, int x, int n, int st, attr_t extra)
{
	style_set(w, st, extra);
	wmove(w, y, x);
	for (int i = 0; i < n; i++)
		waddch(w, ' ');
}

/* ---- documents ---------------------------------------------------------- */

void
doc_reset(struct doc *d, int width)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].w);
		free(d->v[i].st);
	}
	d->n = 0;
	d->width = width < 8 ? 8 : width;
}

void
doc_free(struct doc *d)
{
	doc_reset(d, 0);
	free(d->v);
	d->v = NULL;
	d->cap = 0;
}

void
doc_nl(struct doc *d)
{
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 32;
		d->v = xrealloc(d->v, d->cap * sizeof *d->v);
	}
	memset(&d->v[d->n], 0, sizeof d->v[d->n]);
	d->v[d->n].tag = -1;
	d->n++;
}

void
doc_addw(struct doc *d, int st, const wchar_t *w, size_t n)
{
	if (d->n == 0)
		doc_nl(d);
	struct dline *l = &d->v[d->n - 1];
	if (l->n + n + 1 > l->cap) {
		l->cap = (l->n + n + 1) * 2;
		l->w = xrealloc(l->w, l->cap * sizeof *l->w);
		l->st = xrealloc(l->st, l->cap);
	}
	memcpy(l->w + l->n, w, n * sizeof *w);
	memset(l->st + l->n, st, n);
	l->n += n;
}

void
doc_add(struct doc *d, int st, const char *s)
{
	size_t n;
	wchar_t *w = u8_to_wcs(s, strlen(s), &n);
	doc_addw(d, st, w, n);
	free(w);
}

void
doc_addf(struct doc *d, int st, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	doc_add(d, st, s);
	free(s);
}

void
doc_addmark(struct doc *d, int st, enum mark m)
{
	const wchar_t *w = mark(m);
	doc_addw(d, st, w, wcslen(w));
}

static void
add_spaces(struct doc *d, int n)
{
	for (int i = 0; i < n; i++)
		doc_addw(d, ST_NORMAL, L" ", 1);
}

/* Wrap one paragraph (no '\n') of wide text. */
static void
wrap_para(struct doc *d, int indent, const wchar_t *w, size_t n, int st,
	  bool *first, const char *label, int lst)
{
	int width = d->width - indent;
	if (width < 8)
		width = 8;
	size_t i = 0;
	do {
		doc_nl(d);
		if (*first && label) {
			int lw = u8_width(label);
			doc_add(d, lst, label);
			add_spaces(d, indent - lw > 0 ? indent - lw : 1);
		} else {
			add_spaces(d, indent);
		}
		*first = false;
		/* skip the spaces a break left at the start */
		while (i < n && w[i] == L' ' && i > 0)
			i++;
		size_t start = i, brk = 0;
		int cols = 0;
		bool have_brk = false;
		while (i < n) {
			int cw = wcwidth(w[i]);
			if (cw < 0)
				cw = 0;
			if (cols + cw > width)
				break;
			if (w[i] == L' ') {
				brk = i;
				have_brk = true;
			}
			cols += cw;
			i++;
		}
		size_t end = i;
		if (i < n && have_brk && brk > start) {
			end = brk;
			i = brk + 1;
		} else if (i == start && i < n) {
			end = ++i;	/* a character wider than the room */
		}
		doc_addw(d, st, w + start, end - start);
	} while (i < n);
}

void
doc_wrap(struct doc *d, int indent, const char *label, int lst, int st,
	 const char *s)
{
	bool first = true;
	const char *p = s;
	for (;;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		size_t n;
		wchar_t *w = u8_to_wcs(p, len, &n);
		wrap_para(d, indent, w, n, st, &first, label, lst);
		free(w);
		if (!nl)
			break;
		p = nl + 1;
	}
}

void
doc_heading(struct doc *d, const char *title)
{
	doc_nl(d);
	doc_add(d, ST_HEADING, title);
}

int
doc_draw(WINDOW *w, const struct doc *d, int top, int y, int x, int h, int wd)
{
	int drawn = 0;
	for (int r = 0; r < h; r++) {
		size_t li = (size_t)top + (size_t)r;
		put_fill(w, y + r, x, wd, ST_NORMAL, 0);
		if (top < 0 || li >= d->n)
			continue;
		const struct dline *l = &d->v[li];
		int col = 0;
		size_t k = 0;
		while (k < l->n && col < wd) {
			size_t e = k;
			while (e < l->n && l->st[e] == l->st[k])
				e++;
			col += put_wcs(w, y + r, x + col, l->w + k, e - k, wd - col,
				       l->st[k], 0, false);
			k = e;
		}
		drawn++;
	}
	return drawn;
}

/* ---- marks ------------------------------------------------------------------ */

static const wchar_t *const marks_utf8[MK_COUNT] = {
#define X(sym, u, a) [MK_##sym] = u,
	MARK_LIST(X)
#undef X
};

static const wchar_t *const marks_ascii[MK_COUNT] = {
#define X(sym, u, a) [MK_##sym] = a,
	MARK_LIST(X)
#undef X
};

bool ui_utf8;

const wchar_t *
mark(enum mark m)
{
	if ((unsigned)m >= MK_COUNT)
		return L"?";
	return ui_utf8 ? marks_utf8[m] : marks_ascii[m];
}

const char *
mark_u8(enum mark m)
{
	static char cache[2][MK_COUNT][16];
	if ((unsigned)m >= MK_COUNT)
		return "?";
	char *c = cache[ui_utf8][m];
	if (!*c) {
		const wchar_t *w = mark(m);
		char *s = wcs_to_u8(w, wcslen(w));
		snprintf(c, sizeof cache[0][0], "%s", s);
		free(s);
	}
	return c;
}

/* ---- footer hints ------------------------------------------------------------ */

int
put_hint(WINDOW *w, int x, int room, const struct keyhint *h)
{
	int need = u8_width(h->key) + 1 + u8_width(h->words) + 2;
	if (need > room)
		return -1;
	x += put_str(w, 0, x, h->key, room, ST_KEY, 0, false);
	x += put_str(w, 0, x, " ", 1, ST_HINT, 0, false);
	put_str(w, 0, x, h->words, room, ST_HINT, 0, false);
	return need;
}

void
doc_diagnosis(struct doc *d, const struct diagnosis *g, bool full,
	      const char *fix_label, int fix_st)
{
	const struct diag_info *di = diag_info(g->id);
	int st = g->sev == SEV_ERROR ? ST_FAIL : g->sev == SEV_WARNING ? ST_WARN :
		 ST_NORMAL;
	enum mark m = g->sev == SEV_ERROR ? MK_FAIL : g->sev == SEV_WARNING ?
		      MK_WARN : MK_DOT;
	doc_nl(d);
	doc_wrap(d, 2, mark_u8(m), st, st, di->title);
	char *v = full ? xasprintf("%s %s %s %s %s", di->id, mark_u8(MK_DOT),
				   severity_name(g->sev), mark_u8(MK_DOT), di->rfc)
		       : xasprintf("%s %s %s", di->id, mark_u8(MK_DOT),
				   severity_name(g->sev));
	doc_wrap(d, 2, NULL, 0, ST_DIM, v);
	free(v);
	if (g->evidence && *g->evidence) {
		doc_wrap(d, 0, NULL, 0, ST_LABEL, "Evidence");
		doc_wrap(d, 2, NULL, 0, ST_SERVER, g->evidence);
	}
	if (full && g->explanation && *g->explanation) {
		doc_wrap(d, 0, NULL, 0, ST_LABEL, "What it means");
		doc_wrap(d, 2, NULL, 0, ST_NORMAL, g->explanation);
	}
	if (g->fix && *g->fix) {
		doc_wrap(d, 0, NULL, 0, ST_LABEL, fix_label);
		doc_wrap(d, 2, NULL, 0, fix_st, g->fix);
	}
}

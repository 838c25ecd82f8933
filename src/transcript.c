/* transcript.c - the session's record, safe text only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transcript.h"

void
tr_add(struct transcript *tr, enum tr_dir dir, bool tls, int step,
       const char *raw, size_t len)
{
	if (tr->n == tr->cap) {
		tr->cap = tr->cap ? tr->cap * 2 : 64;
		tr->v = xrealloc(tr->v, tr->cap * sizeof *tr->v);
	}
	struct tr_line *l = &tr->v[tr->n++];
	l->t = now_mono() - tr->t0;
	l->dir = dir;
	l->tls = tls;
	l->step = step;
	l->text = vis_escape(raw, len);
	l->note = NULL;
	l->verb[0] = l->enhanced[0] = l->capability[0] = '\0';
	l->answers = -1;
	l->code = 0;
	l->unsolicited = false;
}

void
tr_add_safe(struct transcript *tr, enum tr_dir dir, bool tls, int step,
	    const char *safe)
{
	tr_add(tr, dir, tls, step, "", 0);
	struct tr_line *l = &tr->v[tr->n - 1];
	free(l->text);
	l->text = xstrdup(safe);
}

void
tr_info(struct transcript *tr, int step, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	tr_add(tr, TR_INFO, false, step, s, strlen(s));
	free(s);
}

void
tr_note(struct transcript *tr, const char *note)
{
	if (tr->n == 0)
		return;
	free(tr->v[tr->n - 1].note);
	tr->v[tr->n - 1].note = xstrdup(note);
}

void
tr_free(struct transcript *tr)
{
	for (size_t i = 0; i < tr->n; i++) {
		free(tr->v[i].text);
		free(tr->v[i].note);
	}
	free(tr->v);
	memset(tr, 0, sizeof *tr);
}

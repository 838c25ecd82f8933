/* transcript.c - the session's record, safe text only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transcript.h"

static size_t
cost(const struct tr_line *l)
{
	return strlen(l->text) + (l->note ? strlen(l->note) : 0) + 64;
}

static void
push(struct transcript *tr, struct tr_line *l)
{
	if (tr->n == tr->cap) {
		tr->cap = tr->cap ? tr->cap * 2 : 64;
		tr->v = xrealloc(tr->v, tr->cap * sizeof *tr->v);
	}
	tr->v[tr->n++] = *l;
	tr->bytes += cost(l);
}

static void
free_line(struct tr_line *l)
{
	free(l->text);
	free(l->note);
	l->text = l->note = NULL;
}

struct tr_line *
tr_last(struct transcript *tr)
{
	if (tr->eliding && tr->tail_n)
		return &tr->tail[(tr->tail_first + tr->tail_n - 1) % TR_TAIL_LINES];
	return tr->n ? &tr->v[tr->n - 1] : NULL;
}

/* Drop the ring's oldest lines until it has room for one of size c. */
static void
tail_make_room(struct transcript *tr, size_t c)
{
	while (tr->tail_n > 0 && (tr->tail_n == TR_TAIL_LINES ||
				  tr->tail_bytes + c > TR_TAIL_BYTES)) {
		struct tr_line *o = &tr->tail[tr->tail_first];
		tr->tail_bytes -= cost(o);
		free_line(o);
		tr->tail_first = (tr->tail_first + 1) % TR_TAIL_LINES;
		tr->tail_n--;
		tr->left_out++;
	}
}

void
tr_add(struct transcript *tr, enum tr_dir dir, bool tls, int step,
       const char *raw, size_t len)
{
	struct tr_line l = { .t = now_mono() - tr->t0, .dir = dir, .tls = tls,
			     .step = step, .answers = -1 };
	/* a secret a server echoes (in an unfinished line too) */
	size_t rl;
	char *red = dir == TR_SERVER ? secrets_redact(tr->sec, raw, len, &rl)
				     : NULL;
	if (red) {
		raw = red;
		len = rl;
	}
	if (len > TR_LINE_MAX) {
		char *e = vis_escape(raw, TR_LINE_MAX);
		l.text = xasprintf("%s... (%zu more bytes left out)", e,
				   len - TR_LINE_MAX);
		free(e);
	} else {
		l.text = vis_escape(raw, len);
	}
	free(red);
	if (!tr->eliding && !tr->sealed && (tr->n + 1 >= TR_HEAD_LINES ||
			     tr->bytes + cost(&l) > TR_HEAD_BYTES)) {
		struct tr_line m = { .t = l.t, .dir = TR_INFO, .step = step,
				     .answers = -1 };
		m.text = xasprintf("the transcript is full: from here on only the "
				   "last %d lines are kept (shown when the session "
				   "ends)", TR_TAIL_LINES);
		push(tr, &m);
		tr->eliding = true;
	}
	if (!tr->eliding) {
		push(tr, &l);
		return;
	}
	tail_make_room(tr, cost(&l));
	tr->tail[(tr->tail_first + tr->tail_n) % TR_TAIL_LINES] = l;
	tr->tail_n++;
	tr->tail_bytes += cost(&l);
}

long
tr_last_index(const struct transcript *tr)
{
	if (tr->eliding && tr->tail_n)
		return -1;	/* in the ring: its place is known at tr_seal() */
	return (long)tr->n - 1;
}

void
tr_seal(struct transcript *tr)
{
	tr->sealed = true;
	if (!tr->eliding)
		return;
	tr->eliding = false;
	if (tr->left_out) {
		struct tr_line m = { .dir = TR_INFO, .step = -1, .answers = -1 };
		struct tr_line *f = tr->tail_n ? &tr->tail[tr->tail_first] : NULL;
		m.t = f ? f->t : now_mono() - tr->t0;
		m.text = xasprintf("... %lu lines left out ...", tr->left_out);
		push(tr, &m);
	}
	for (size_t i = 0; i < tr->tail_n; i++)
		push(tr, &tr->tail[(tr->tail_first + i) % TR_TAIL_LINES]);
	tr->tail_n = tr->tail_first = tr->tail_bytes = 0;
	tr->left_out = 0;
}

void
tr_add_safe(struct transcript *tr, enum tr_dir dir, bool tls, int step,
	    const char *safe)
{
	tr_add(tr, dir, tls, step, "", 0);
	struct tr_line *l = tr_last(tr);
	free(l->text);
	l->text = xstrdup(safe);
	/* the line cost nothing when added: count it now */
	if (tr->eliding && l != &tr->v[tr->n - 1])
		tr->tail_bytes += strlen(safe);
	else
		tr->bytes += strlen(safe);
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
	struct tr_line *l = tr_last(tr);
	if (!l)
		return;
	size_t n = strlen(note);
	size_t was = cost(l);
	free(l->note);
	if (n > TR_LINE_MAX) {
		n = TR_LINE_MAX;	/* safe text: cut between characters */
		while (n > 0 && ((unsigned char)note[n] & 0xc0) == 0x80)
			n--;
		l->note = xasprintf("%.*s...", (int)n, note);
	} else {
		l->note = xstrdup(note);
	}
	size_t *used = tr->eliding && l != &tr->v[tr->n - 1] ? &tr->tail_bytes
							       : &tr->bytes;
	*used += cost(l) - was;
}

void
tr_free(struct transcript *tr)
{
	for (size_t i = 0; i < tr->n; i++)
		free_line(&tr->v[i]);
	for (size_t i = 0; i < tr->tail_n; i++)
		free_line(&tr->tail[(tr->tail_first + i) % TR_TAIL_LINES]);
	free(tr->v);
	memset(tr, 0, sizeof *tr);
}

/*
 * timing.c - where the time went (`l`): a waterfall of the steps, each
 * as long as the engine measured it (from the step's start, so the pauses
 * a user takes between `n` presses are left out), laid end to end; then
 * each reply's latency, from the command sent to the reply complete, read
 * off the transcript's times.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui.h"
#include "../src/util.h"

#define PEND_MAX 64

/* Is client line l a command that gets a reply of its own (not message
 * text)?  The end of the message ("."), AUTH continuations are. */
static bool
is_request(const struct tr_line *l)
{
	if (l->dir != TR_CLIENT)
		return false;
	if (l->step != STEP_DATA)
		return true;
	return explain_is_command(l->text) || !strcmp(l->text, ".");
}

/* A final reply line: "250 ok", "250" (not "250-..."). */
static bool
is_final(const struct tr_line *l)
{
	const char *x = l->text;
	return l->dir == TR_SERVER && strlen(x) >= 3 && (x[3] == ' ' || !x[3]);
}

static void
bar(struct doc *d, int from, int len, int st)
{
	for (int i = 0; i < from; i++)
		doc_add(d, ST_DIM, " ");
	if (len < 1)
		len = 1;
	for (int i = 0; i < len; i++)
		doc_add(d, st, ui_utf8 ? "\u2588" : "#");
}

static void
timing_build(struct tui *t)
{
	const struct session *s = t->s;
	struct doc *d = &t->ovdoc;
	int width = docview_width(t);
	doc_reset(d, width);
	int order[STEP_COUNT];
	int n = session_step_order(s, order);
	double total = 0;
	for (int i = 0; i < n; i++)
		if (s->status[order[i]] != SS_PENDING && s->status[order[i]] != SS_SKIPPED)
			total += s->seconds[order[i]];

	doc_wrap(d, 0, NULL, 0, ST_DIM, "Each step as long as it took on the "
		 "network, end to end: the pauses between your n presses are "
		 "left out.");
	doc_nl(d);
	doc_heading(d, "Steps");
	int lw = 10 + 9, bw = width - lw - 1;
	if (bw < 10)
		bw = 10;
	double at = 0;
	bool any = false;
	for (int i = 0; i < n; i++) {
		int st = order[i];
		if (s->status[st] == SS_PENDING || s->status[st] == SS_SKIPPED)
			continue;
		any = true;
		double secs = s->seconds[st];
		doc_nl(d);
		doc_addf(d, s->status[st] == SS_FAIL ? ST_FAIL : ST_NORMAL, "%-10s",
			 step_name(st));
		doc_addf(d, ST_TIME, "%7.3fs  ", secs);
		int from = total > 0 ? (int)(at / total * bw) : 0;
		int len = total > 0 ? (int)(secs / total * bw + 0.5) : 1;
		if (from + len > bw)
			len = bw - from;
		bar(d, from, len, s->status[st] == SS_FAIL ? ST_FAIL :
		    s->status[st] == SS_WARN ? ST_WARN : ST_OK);
		at += secs;
	}
	if (!any) {
		doc_nl(d);
		doc_add(d, ST_DIM, "Nothing has run yet: n runs the first step.");
		return;
	}
	doc_nl(d);
	doc_addf(d, ST_BOLD, "%-10s%7.3fs", "total", total);

	/* each reply against the command it answers, in order (pipelined
	 * commands are answered in the order they were sent) */
	doc_nl(d);
	doc_heading(d, "Replies: command sent to reply complete");
	size_t pend[PEND_MAX];
	size_t np = 0;
	double longest = 0;
	for (size_t i = 0; i < s->tr.n; i++) {
		const struct tr_line *l = &s->tr.v[i];
		if (is_request(l) && np < PEND_MAX)
			pend[np++] = i;
		if (!is_final(l) || !np)
			continue;
		double lat = l->t - s->tr.v[pend[0]].t;
		if (lat > longest)
			longest = lat;
	}
	np = 0;
	for (size_t i = 0; i < s->tr.n; i++) {
		const struct tr_line *l = &s->tr.v[i];
		if (is_request(l) && np < PEND_MAX)
			pend[np++] = i;
		if (!is_final(l) || !np)
			continue;
		const struct tr_line *c = &s->tr.v[pend[0]];
		memmove(pend, pend + 1, --np * sizeof *pend);
		double lat = l->t - c->t;
		char cmd[24];
		snprintf(cmd, sizeof cmd, "%.20s", c->text);
		doc_nl(d);
		doc_addf(d, ST_CLIENT, "%-20s ", cmd);
		doc_addf(d, l->text[0] >= '4' ? ST_SERVER_ERR : ST_SERVER, "%.3s ",
			 l->text);
		doc_addf(d, ST_TIME, "%7.3fs  ", lat);
		int rb = width - 34;
		int len = longest > 0 ? (int)(lat / longest * rb + 0.5) : 1;
		bar(d, 0, len, l->text[0] >= '4' ? ST_FAIL : ST_FACT);
	}
}

static void
timing_resize(struct tui *t, int *h, int *w)
{
	timing_build(t);
	docview_size(t, h, w);
}

static void
timing_draw(struct tui *t, unsigned dirty)
{
	(void)dirty;
	snprintf(t->ov_title, sizeof t->ov_title, "Where the time went");
	timing_build(t);
	docview_draw(t);
}

static const struct keydef timing_keys[] = {
	DOC_KEYS,
	{ 'l', false, KA_DOC_CLOSE, "l", NULL, NULL, 0, NULL },
	{ 0, false, 0, NULL, NULL, NULL, 0, NULL }
};

static void
timing_key(struct tui *t, int action, wint_t ch, bool keycode)
{
	(void)ch;
	(void)keycode;
	docview_key(t, action);
}

const struct screen screen_timing = {
	.name = "Where the time went",
	.overlay = true,
	.keys = timing_keys,
	.draw = timing_draw,
	.key = timing_key,
	.resize = timing_resize,
	.find = docview_find,
};

/*
 * findfix.c - find-fix (`f`) on a failed session: what it tried, the
 * smallest change that works as a complete command line, and `a` to
 * apply that change to the settings and start over.
 *
 * Find-fix runs whole sessions (and perhaps a sweep), which block: it
 * runs in a child process (findfix_spawn(), src/findfix.c) while the
 * loop polls the child's pipe, the clock ticks and keys work; Esc, q or
 * Ctrl-C abandon it (the child is killed).  No mail is ever sent.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ui.h"
#include "../src/findfix.h"
#include "../src/profile.h"
#include "../src/util.h"

struct ffview {
	int pid, fd;		/* the child and its pipe; -1: none */
	struct buf out;		/* what it wrote so far */
	double started;
	bool done, broken;	/* broken: the child died without a result */
	struct findfix ff;
	char **diff;
	int ndiff;
	char err[256];
};

enum { FF_APPLY = KA_FIRST };

static const struct keydef ff_keys[] = {
	{ 'a', false, FF_APPLY, "a", "apply the change found to the settings, "
	  "and start over", NULL, 0, "Find-fix" },
	DOC_KEYS,
	{ 0, false, 0, NULL, NULL, NULL, 0, NULL }
};

static struct ffview *
fv(const struct tui *t)
{
	return t->state[SCREEN_FINDFIX];
}

static void
stop_child(struct ffview *v)
{
	if (v->fd >= 0)
		close(v->fd);
	v->fd = -1;
	if (v->pid > 0) {
		kill(v->pid, SIGKILL);
		while (waitpid(v->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	v->pid = -1;
}

static void
ff_build(struct tui *t)
{
	struct ffview *v = fv(t);
	struct doc *d = &t->ovdoc;
	doc_reset(d, docview_width(t));
	if (v->err[0]) {
		doc_wrap(d, 0, NULL, 0, ST_ERR, v->err);
		return;
	}
	if (!v->done) {
		static const char spin[] = "|/-\\";
		doc_addf(d, ST_BOLD, "%c ", spin[t->spin % 4]);
		doc_addf(d, ST_NORMAL, "working\u2026 %.0f s", now_mono() - v->started);
		doc_nl(d);
		doc_wrap(d, 0, NULL, 0, ST_DIM, "Trying one change at a time, each "
			 "a session of its own with no mail sent (a login at most "
			 "once more).  Esc, q or Ctrl-C abandons it.");
		return;
	}
	if (v->broken) {
		doc_wrap(d, 0, NULL, 0, ST_ERR, "Find-fix stopped without a result.");
		return;
	}
	const struct findfix *ff = &v->ff;
	doc_wrap(d, 0, NULL, 0, ST_DIM, "One change at a time, no mail sent.");
	doc_nl(d);
	doc_heading(d, "Tried");
	for (int i = 0; i < ff->n; i++) {
		const struct ff_try *tr = &ff->v[i];
		doc_nl(d);
		bool ok = tr->works || i == ff->best;
		doc_addmark(d, ok ? ST_OK : ST_FAIL, ok ? MK_OK : MK_FAIL);
		doc_addf(d, ST_BOLD, " %s", tr->change);
		doc_wrap(d, 4, NULL, 0, ST_NORMAL, tr->outcome);
		doc_wrap(d, 4, NULL, 0, ST_DIM, tr->why);
	}
	if (!ff->n) {
		doc_nl(d);
		doc_add(d, ST_DIM, "  nothing to try");
	}
	if (ff->note) {
		doc_nl(d);
		doc_wrap(d, 2, NULL, 0, ST_NORMAL, ff->note);
	}
	doc_nl(d);
	doc_heading(d, "The fix");
	if (!ff->command) {
		doc_wrap(d, 2, NULL, 0, ST_NORMAL, ff->n ? "No single change "
			 "worked." : "None found.");
		return;
	}
	doc_wrap(d, 2, NULL, 0, ST_OK, ff->command);
	doc_nl(d);
	doc_add(d, ST_NORMAL, "  ");
	doc_add(d, ST_KEY, "a");
	doc_addf(d, ST_HINT, " applies %s to the settings and starts over.",
		 ff->v[ff->best].change);
	if (v->ndiff) {
		doc_nl(d);
		doc_heading(d, "Where the transcripts differ (- failed, + fixed)");
		for (int i = 0; i < v->ndiff; i++) {
			const char *l = v->diff[i];
			while (*l == ' ')
				l++;
			doc_wrap(d, 4, NULL, 0, l[0] == '-' ? ST_FAIL : l[0] == '+' ?
				 ST_OK : ST_DIM, l);
		}
	}
}

static void
ff_open(struct tui *t)
{
	struct ffview *v = xcalloc(1, sizeof *v);
	t->state[SCREEN_FINDFIX] = v;
	v->pid = v->fd = -1;
	v->started = now_mono();
	if (t->cfg->proxy != PX_NONE) {
		snprintf(v->err, sizeof v->err, "Find-fix probes ports directly: "
			 "it does not go through a --proxy (as on the command "
			 "line).  e, and empty the Proxy field, first.");
		v->done = true;
		return;
	}
	char **argv;
	int argc = profile_argv(t->cfg, t->opts->base, t->opts->lab_name, &argv);
	v->fd = findfix_spawn(t->cfg, t->s, argc, argv, &v->pid, v->err,
			      sizeof v->err);
	profile_argv_free(argc, argv);
	if (v->fd < 0)
		v->done = true;
}

static void
ff_close(struct tui *t)
{
	struct ffview *v = fv(t);
	if (!v)
		return;
	bool abandoned = !v->done;
	stop_child(v);
	buf_free(&v->out);
	findfix_free(&v->ff);
	for (int i = 0; i < v->ndiff; i++)
		free(v->diff[i]);
	free(v->diff);
	free(v);
	t->state[SCREEN_FINDFIX] = NULL;
	if (abandoned)
		tui_message(t, false, "Find-fix abandoned.");
}

static int
ff_job_fd(const struct tui *t)
{
	const struct ffview *v = fv(t);
	return v && !v->done ? v->fd : -1;
}

static void
ff_job_ready(struct tui *t)
{
	struct ffview *v = fv(t);
	char chunk[4096];
	ssize_t n = read(v->fd, chunk, sizeof chunk);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n > 0) {
		buf_add(&v->out, chunk, (size_t)n);
		return;
	}
	/* the end: the whole result, or a child that died */
	close(v->fd);
	v->fd = -1;
	while (waitpid(v->pid, NULL, 0) < 0 && errno == EINTR)
		;
	v->pid = -1;
	v->done = true;
	buf_addc(&v->out, '\0');
	v->broken = findfix_decode(v->out.data, &v->ff, &v->diff, &v->ndiff) < 0;
	ui_place(t);
	t->dirty |= DIRTY_OVERLAY | DIRTY_FOOTER;
}

static void
ff_resize(struct tui *t, int *h, int *w)
{
	ff_build(t);
	docview_size(t, h, w);
	if (*h < 10)
		*h = 10;
}

static void
ff_draw(struct tui *t, unsigned dirty)
{
	(void)dirty;
	if (!fv(t)->done)
		ff_build(t);	/* the clock */
	snprintf(t->ov_title, sizeof t->ov_title, "Find-fix");
	docview_draw(t);
}

static void
ff_key(struct tui *t, int action, wint_t ch, bool keycode)
{
	(void)ch;
	(void)keycode;
	struct ffview *v = fv(t);
	if (action == FF_APPLY) {
		if (!v->done || v->broken || !v->ff.command || v->ff.best < 0) {
			tui_message(t, false, v->done ? "No change to apply." :
				    "Find-fix is still working.");
			return;
		}
		char *what = xstrdup(v->ff.v[v->ff.best].change);
		findfix_apply(t->cfg, &v->ff.v[v->ff.best].ch);
		ui_close(t);
		tui_restart(t);
		tui_message(t, false, "Applied %s: a new session is ready.  r runs "
			    "it.", what);
		free(what);
		return;
	}
	docview_key(t, action);
}

const struct screen screen_findfix = {
	.name = "Find-fix",
	.overlay = true,
	.keys = ff_keys,
	.open = ff_open,
	.draw = ff_draw,
	.key = ff_key,
	.resize = ff_resize,
	.close = ff_close,
	.find = docview_find,
	.job_fd = ff_job_fd,
	.job_ready = ff_job_ready,
};

/*
 * workshop.c - the lab as a workshop (issue 14): the scenario picker
 * (`L`), mystery mode (the scenario's name hidden until the student
 * names the diagnosis, `d`), fix-it mode (the client's settings are
 * wrong: fix them with `e`, hints one at a time with `h`), and the score
 * kept in the student's state directory.
 *
 * Mystery mode hides the name everywhere the screen could show it: the
 * header, the plan, the verdict, the diagnosis pane and the tree (until
 * named), the help, the save prompt.  ws_secret() is the one question
 * every one of those asks.
 *
 * The screens (the picker, naming the diagnosis) are picker.c's: they
 * start sessions, which this file, used by the session screen, never does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ui.h"
#include "../src/diag.h"
#include "../src/lab/workshop.h"
#include "../src/util.h"


/*
 * The lab's login, for the header and the plan: the password is drawn
 * when the student needs it (the session has another one, or no login:
 * the password exercises), never when it is the session's own or about
 * to be asked for, since a password in use is never drawn
 * (tests/secrets.py).  `?` always says it.
 */
const char *
ws_login(const struct tui *t, char *buf, size_t len)
{
	if (!t->ws.sc)
		return NULL;
	const char *pw = t->cfg->password;
	if (t->cfg->user && (!pw || !strcmp(pw, LAB_PASSWORD)))
		snprintf(buf, len, "%s, the lab's password (? shows it)", LAB_USER);
	else
		snprintf(buf, len, "%s / %s", LAB_USER, LAB_PASSWORD);
	return buf;
}

bool
ws_secret(const struct tui *t)
{
	return t->ws.sc && t->ws.mode == WS_MYSTERY && !t->ws.named;
}

const char *
ws_label(const struct tui *t)
{
	if (!t->ws.sc)
		return NULL;
	return ws_secret(t) ? "mystery" : t->ws.sc->name;
}

void
ws_set(struct tui *t, const struct lab_scenario *sc, int mode)
{
	t->ws.sc = sc;
	t->ws.mode = mode;
	t->ws.named = t->ws.right = t->ws.solved = false;
	t->ws.hints = 0;
	t->ws.nchoices = 0;
	if (sc && mode == WS_MYSTERY)
		t->ws.nchoices = lab_mystery_choices(sc, t->ws.seed, t->ws.choices,
						     ARRAY_SIZE(t->ws.choices));
}

void
ws_init(struct tui *t)
{
	t->ws.seed = t->opts->lab_seed;
	ws_set(t, t->opts->lab_name ? lab_find(t->opts->lab_name) : NULL,
		     t->opts->lab_mode);
}

/* ---- what the session screen asks ------------------------------------------ */

void
ws_plan(const struct tui *t, struct doc *d)
{
	const struct lab_scenario *sc = t->ws.sc;
	if (!sc)
		return;
	const struct lab_lesson *l = lab_lesson(sc->name);
	char *v;
	if (ws_secret(t))
		v = xstrdup("a mystery: a scenario chosen at random.  Step through, "
			    "then d names what went wrong.");
	else if (t->ws.mode == WS_FIXIT)
		v = xasprintf("fix-it on %s: make the session pass by changing the "
			      "settings (e); h gives a hint.", sc->name);
	else
		v = xasprintf("%s%s%s", sc->name, l ? ": " : "", l ? l->goal : "");
	doc_wrap(d, 9, "Lab", ST_LABEL, ST_NORMAL, v);
	free(v);
	if (l && !ws_secret(t) && t->ws.mode != WS_FIXIT) {
		v = xasprintf("%s, %s", lab_level_name(l->level),
			      lab_stage_title(lab_stage(sc)));
		doc_wrap(d, 9, "Level", ST_LABEL, ST_DIM, v);
		free(v);
	} else if (l && t->ws.mode == WS_FIXIT) {
		doc_wrap(d, 9, "Goal", ST_LABEL, ST_NORMAL, l->goal);
	}
	char login[128];
	doc_wrap(d, 9, "Lab login", ST_LABEL, ST_NORMAL, ws_login(t, login,
								  sizeof login));
}

/* The diagnosis pane while the answer is hidden: what each step did,
 * never the tree's words or the diagnosis. */
void
ws_hidden(const struct tui *t, struct doc *d)
{
	const struct session *s = t->s;
	doc_nl(d);
	doc_wrap(d, 2, mark_u8(MK_STAR), ST_NOTE, ST_BOLD, "A mystery: the diagnosis "
		 "is hidden until you name it.");
	doc_nl(d);
	for (int st = 0; st < STEP_COUNT; st++) {
		if (s->status[st] == SS_PENDING || s->status[st] == SS_SKIPPED)
			continue;
		enum mark m = s->status[st] == SS_OK ? MK_OK : s->status[st] ==
			      SS_FAIL ? MK_FAIL : s->status[st] == SS_WARN ? MK_WARN :
			      MK_SKIPPED;
		char *v = xasprintf("%s %s", mark_u8(m), step_name((enum step)st));
		doc_wrap(d, 4, NULL, 0, s->status[st] == SS_FAIL ? ST_FAIL :
			 ST_NORMAL, v);
		free(v);
	}
	doc_nl(d);
	doc_wrap(d, 2, NULL, 0, ST_HINT, s->finished ?
		 "Read the transcript (Enter explains a line, v the teaching "
		 "view).  Then d: name the diagnosis." :
		 "n runs the next step, r runs to the end.");
}

void
ws_help(struct doc *d, const struct tui *t)
{
	if (!t->ws.sc)
		return;
	doc_nl(d);
	doc_heading(d, "The lab");
	const struct lab_lesson *l = lab_lesson(t->ws.sc->name);
	if (ws_secret(t))
		doc_wrap(d, 12, "Scenario", ST_LABEL, ST_NORMAL, "hidden (a "
			 "mystery): d names the diagnosis");
	else
		doc_wrap(d, 12, "Scenario", ST_LABEL, ST_NORMAL, t->ws.sc->name);
	if (l && !ws_secret(t))
		doc_wrap(d, 12, "Goal", ST_LABEL, ST_NORMAL, l->goal);
	char *v = xasprintf("user %s, password %s", LAB_USER, LAB_PASSWORD);
	doc_wrap(d, 12, "Login", ST_LABEL, ST_NORMAL, v);
	free(v);
	v = xasprintf("from %s to %s; the server is %s", LAB_FROM, LAB_TO,
		      LAB_SERVERNAME);
	doc_wrap(d, 12, "Mail", ST_LABEL, ST_NORMAL, v);
	free(v);
	doc_wrap(d, 12, "L", ST_KEY, ST_NORMAL, "the scenarios by stage; Enter "
		 "runs one, f fixes one (fix-it), ? a mystery");
	struct lab_progress p;
	lab_progress_load(&p);
	v = xasprintf("mysteries named %d of %d, sessions fixed %d",
		      p.mystery_right, p.mystery_played, p.fixed);
	doc_wrap(d, 12, "Score", ST_LABEL, ST_NORMAL, v);
	free(v);
}

void
ws_progress(struct tui *t, bool mystery, bool right)
{
	struct lab_progress p;
	char err[256];
	lab_progress_load(&p);
	if (mystery) {
		p.mystery_played++;
		p.mystery_right += right;
	} else {
		p.fixed++;
	}
	if (right)
		lab_progress_mark(&p, t->ws.sc->name);
	if (lab_progress_save(&p, err, sizeof err) < 0)
		tui_message(t, true, "score not kept: %s", err);
}

/* The session just finished. */
void
ws_finished(struct tui *t)
{
	if (!t->ws.sc)
		return;
	if (ws_secret(t)) {
		tui_message(t, false, "Finished.  What went wrong?  d names the "
			    "diagnosis.");
		return;
	}
	if (t->ws.mode != WS_FIXIT || t->ws.solved)
		return;
	if (session_exit_status(t->s) == 0) {
		t->ws.solved = true;
		ws_progress(t, false, true);
		tui_message(t, false, "Fixed: the session passes.  L for another "
			    "scenario.");
	} else {
		tui_message(t, false, "Not fixed yet: e changes the settings, h "
			    "gives a hint.");
	}
}

void
ws_hint(struct tui *t)
{
	const struct lab_lesson *l = t->ws.sc ? lab_lesson(t->ws.sc->name) : NULL;
	if (!l) {
		tui_message(t, false, "Hints are for the lab's scenarios (L).");
		return;
	}
	if (ws_secret(t)) {
		tui_message(t, false, "No hints in a mystery: read the transcript; "
			    "Enter explains a line.");
		return;
	}
	if (!l->client) {
		tui_message(t, false, "The fix is on the server's side: %s.", l->fix);
		return;
	}
	int n = lab_hint_count(l);
	if (!n) {
		tui_message(t, false, "%s.", l->fix);
		return;
	}
	int k = t->ws.hints < n ? t->ws.hints : n - 1;
	if (t->ws.hints < n)
		t->ws.hints++;
	tui_message(t, false, "Hint %d of %d: %s", k + 1, n, l->hints[k]);
}

/* `L` */
void
ws_picker(struct tui *t)
{
	if (!t->opts->lab_switch) {
		tui_message(t, false, "L lists the lab's scenarios: start smtpdx "
			    "--lab.");
		return;
	}
	if (session_busy(t->s)) {
		tui_message(t, false, "A step is under way: wait for it, or Esc "
			    "cancels it; then L.");
		return;
	}
	ui_open(t, SCREEN_PICKER);
}

/* `d` */
void
ws_name_it(struct tui *t)
{
	if (!t->ws.sc || t->ws.mode != WS_MYSTERY) {
		tui_message(t, false, "d names the diagnosis in a mystery (L, then ?).");
		return;
	}
	if (t->ws.named) {
		ui_open(t, SCREEN_GUESS);
		return;
	}
	if (!t->s->finished) {
		tui_message(t, false, "Step through first (n, r); then d names what "
			    "went wrong.");
		return;
	}
	ui_open(t, SCREEN_GUESS);
}

/*
 * prompt.c - the two one-line prompts over the session: the password
 * (modal: every key is text until Enter or Esc; the session's footer says
 * so and counts the characters) and the file to save the transcript to.
 *
 * Saving never follows a symbolic link, never writes anything but a
 * regular file, creates new files private (0600, O_EXCL), and overwrites
 * an existing file only after the user said y.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ui.h"
#include "../src/report.h"
#include "../src/util.h"

static bool
prompt_typing(const struct tui *t)
{
	(void)t;
	return true;
}

static void
prompt_close(struct tui *t)
{
	form_free(t->form);
	t->form = NULL;
}

static void
prompt_resize(struct tui *t, int *h, int *w)
{
	*w = t->cols - 2 < 72 ? t->cols - 2 : 72;
	*h = form_height(t->form);
}

static void
prompt_draw(struct tui *t, unsigned dirty)
{
	int h, wd;
	(void)dirty;
	getmaxyx(t->ov, h, wd);
	form_draw(t->form, t->ov, h, wd, &t->ov_cury, &t->ov_curx);
}

/* ---- the password --------------------------------------------------------------- */

static void
password_open(struct tui *t)
{
	char where[300];
	snprintf(where, sizeof where, "%s:%d", t->cfg->host ? t->cfg->host : "?",
		 config_port(t->cfg));
	t->form = form_password(t->cfg->user, where);
}

static void
password_key(struct tui *t, int action, wint_t ch, bool keycode)
{
	(void)action;
	enum form_rc rc = form_key(t->form, (int)ch, keycode);
	t->dirty |= DIRTY_OVERLAY | DIRTY_FOOTER;
	if (rc == FORM_MORE)
		return;
	if (rc == FORM_DONE) {
		char *pw = form_value(t->form);
		config_set(&t->cfg->password, *pw ? pw : NULL);
		wipe(pw, strlen(pw));
		free(pw);
	}
	ui_close(t);
	session_renew(t);
	if (!t->cfg->password)
		tui_message(t, true, "No password: the auth step will fail.  e sets "
			    "one.");
}

const struct screen screen_password = {
	.name = "Password",
	.overlay = true,
	.open = password_open,
	.draw = prompt_draw,
	.key = password_key,
	.resize = prompt_resize,
	.close = prompt_close,
	.typing = prompt_typing,
};

/* ---- save ----------------------------------------------------------------------- */

enum { SV_OVERWRITE = KA_FIRST };

static char *
save_name(const struct tui *t)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
	const char *what = ws_label(t) ? ws_label(t) :
			   t->cfg->host ? t->cfg->host : "session";
	char *n = xasprintf("smtpdx-%s-%s.txt", what, stamp);
	for (char *p = n; *p; p++)
		if (*p == '/' || *p == ':' || *p == ' ')
			*p = '_';
	return n;
}

/*
 * Write the transcript to path.  A new file is created private (0600)
 * and exclusively; an existing one is only ever written after the user
 * said yes (overwrite); a symbolic link is never followed, at either
 * step (O_NOFOLLOW), and nothing but a regular file is written.
 */
static void
save_to(struct tui *t, const char *path, bool overwrite)
{
	int fd;
	if (overwrite)
		fd = open(path, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	else
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			  0600);
	if (fd < 0) {
		tui_message(t, true, "Could not save to %s: %s", path,
			    errno == ELOOP ? "it is a symbolic link (not followed)" :
			    strerror(errno));
		return;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		tui_message(t, true, "Not saved: %s is not a regular file.", path);
		return;
	}
	if (overwrite && ftruncate(fd, 0) < 0) {
		tui_message(t, true, "Could not save to %s: %s", path, strerror(errno));
		close(fd);
		return;
	}
	FILE *f = fdopen(fd, "w");
	if (!f) {
		tui_message(t, true, "Could not save to %s: %s", path, strerror(errno));
		close(fd);
		return;
	}
	for (size_t i = 0; i < t->s->tr.n; i++)
		report_line(f, &t->s->tr.v[i], false);
	if (t->s->finished)
		report_summary(f, t->s, false);
	if (fclose(f) != 0) {
		tui_message(t, true, "Could not save to %s: %s", path, strerror(errno));
		return;
	}
	tui_message(t, false, "Saved %zu lines to %s", t->s->tr.n, path);
}

static void
save_transcript(struct tui *t, const char *name)
{
	char path[4096];
	const char *home = getenv("HOME");
	if (name[0] == '~' && name[1] == '/' && home)
		snprintf(path, sizeof path, "%s%s", home, name + 1);
	else
		snprintf(path, sizeof path, "%s", name);
	struct stat st;
	if (lstat(path, &st) < 0) {
		if (errno == ENOENT) {
			save_to(t, path, false);
			return;
		}
		tui_message(t, true, "Could not save to %s: %s", path, strerror(errno));
		return;
	}
	if (S_ISLNK(st.st_mode)) {
		tui_message(t, true, "Not saved: %s is a symbolic link, and is not "
			    "followed.  s again, and another name.", path);
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		tui_message(t, true, "Not saved: %s is not a regular file.", path);
		return;
	}
	snprintf(t->ask_path, sizeof t->ask_path, "%s", path);
	char *no = xasprintf("Not saved: %s is as it was.", path);
	ui_ask(t, SCREEN_SAVE, SV_OVERWRITE, no, "Overwrite %s?", path);
	free(no);
}

static void
save_open(struct tui *t)
{
	char *n = save_name(t);
	t->form = form_save(n);
	free(n);
}

static void
save_key(struct tui *t, int action, wint_t ch, bool keycode)
{
	if (action == SV_OVERWRITE) {	/* the answer to ui_ask: yes */
		save_to(t, t->ask_path, true);
		return;
	}
	enum form_rc rc = form_key(t->form, (int)ch, keycode);
	t->dirty |= DIRTY_OVERLAY | DIRTY_FOOTER;
	if (rc == FORM_MORE)
		return;
	char *name = rc == FORM_DONE ? form_value(t->form) : NULL;
	ui_close(t);
	if (name && *name)
		save_transcript(t, name);
	free(name);
}

const struct screen screen_save = {
	.name = "Save the transcript",
	.overlay = true,
	.open = save_open,
	.draw = prompt_draw,
	.key = save_key,
	.resize = prompt_resize,
	.close = prompt_close,
	.typing = prompt_typing,
};

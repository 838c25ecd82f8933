/*
 * cmdline.c - the `:` raw command line, on libedit, drawn by curses.
 *
 * libedit must never touch the real terminal (its drawing and its termios
 * changes would tear the curses screen), so it gets a private pty as its
 * terminal and /dev/null as its output stream, and never reads the pty:
 * EL_GETCFN hands it the keys the TUI read with wget_wch (whole code
 * points).  In EL_UNBUFFERED mode one el_wgets() call runs one editing
 * command and returns; the TUI then draws the line from el_wline().  A
 * finished line ends in '\n'; toggling unbuffered mode starts a new one.
 *
 * Arrow, Home and End keys are mapped to the emacs control keys here.  A
 * command that wants another key in the same call (^V, an ESC prefix
 * from Alt) gets it from the `more` callback, which redraws and waits a
 * little; ^R and ^S are bound to the one-key history searches so that no
 * incremental search loops inside libedit.
 *
 * History lives in $XDG_STATE_HOME/smtpdx/history (default
 * ~/.local/state/smtpdx/history) and never holds an AUTH line; the
 * password prompts do not use this module at all.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <histedit.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "ui.h"
#include "../src/util.h"

#define QMAX 8

struct cmdline {
	EditLine *el;
	HistoryW *hist;
	int master, slave;
	FILE *fin, *fnull;
	wchar_t q[QMAX];		/* keys for the el_wgets() call under way */
	int qn, qi;
	const struct session *s;	/* for completion, during a call */
	char *hint;
	size_t hintlen;
	char histpath[PATH_MAX];
	cmdline_more_fn *more;
	void *more_ctx;
};

/* ---- keys ------------------------------------------------------------------ */

static int
getc_fn(EditLine *el, wchar_t *out)
{
	struct cmdline *c = NULL;
	el_get(el, EL_CLIENTDATA, &c);
	if (c->qi < c->qn) {
		*out = c->q[c->qi++];
		return 1;
	}
	/* a command that wants one more key (^V, ESC prefix): ask the loop,
	 * which redraws and waits a little; on nothing, a key that does
	 * nothing (^G is unbound) ends the command */
	wint_t ch;
	bool keycode;
	if (c->more && c->more(c->more_ctx, &ch, &keycode) && !keycode &&
	    ch != 27) {
		*out = (wchar_t)ch;
		return 1;
	}
	*out = 7;
	return 1;
}

/* ---- completion ------------------------------------------------------------ */

struct cand {
	const char *word;	/* what is matched */
	const char *insert;	/* what replaces the typed word */
};

static const struct cand verb_cands[] = {
	{ "EHLO", "EHLO " }, { "HELO", "HELO " }, { "MAIL", "MAIL FROM:" },
	{ "RCPT", "RCPT TO:" }, { "DATA", "DATA" }, { "RSET", "RSET" },
	{ "NOOP", "NOOP" }, { "VRFY", "VRFY " }, { "EXPN", "EXPN " },
	{ "HELP", "HELP" }, { "QUIT", "QUIT" },
};

struct candlist {
	struct cand v[48];
	int n;
	char store[48][64];
};

static void
cand_add(struct candlist *l, const char *word, const char *insert)
{
	if (l->n >= (int)ARRAY_SIZE(l->v))
		return;
	for (int i = 0; i < l->n; i++)
		if (!strcasecmp(l->v[i].word, word))
			return;
	snprintf(l->store[l->n], sizeof l->store[0], "%s", insert);
	l->v[l->n].word = word;
	l->v[l->n].insert = l->store[l->n];
	l->n++;
}

/* The capability keywords the server advertised in its last EHLO. */
static void
caps_words(struct candlist *l, const struct caps *c)
{
	if (!c || !c->valid)
		return;
	static const struct { size_t off; const char *kw; } flags[] = {
		{ offsetof(struct caps, pipelining), "PIPELINING" },
		{ offsetof(struct caps, starttls), "STARTTLS" },
		{ offsetof(struct caps, auth), "AUTH" },
		{ offsetof(struct caps, eightbitmime), "8BITMIME" },
		{ offsetof(struct caps, smtputf8), "SMTPUTF8" },
		{ offsetof(struct caps, enhancedstatuscodes), "ENHANCEDSTATUSCODES" },
		{ offsetof(struct caps, chunking), "CHUNKING" },
		{ offsetof(struct caps, dsn), "DSN" },
		{ offsetof(struct caps, requiretls), "REQUIRETLS" },
		{ offsetof(struct caps, size), "SIZE" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(flags); i++)
		if (*(const bool *)((const char *)c + flags[i].off))
			cand_add(l, flags[i].kw, flags[i].kw);
}

/* Parameters of MAIL and RCPT that the server's extensions allow. */
static void
mail_params(struct candlist *l, const struct caps *c, bool rcpt)
{
	if (!c || !c->valid)
		return;
	if (rcpt) {
		if (c->dsn) {
			cand_add(l, "NOTIFY=", "NOTIFY=");
			cand_add(l, "ORCPT=", "ORCPT=rfc822;");
		}
		return;
	}
	if (c->eightbitmime)
		cand_add(l, "BODY=8BITMIME", "BODY=8BITMIME");
	if (c->smtputf8)
		cand_add(l, "SMTPUTF8", "SMTPUTF8");
	if (c->size)
		cand_add(l, "SIZE=", "SIZE=");
	if (c->dsn) {
		cand_add(l, "RET=FULL", "RET=FULL");
		cand_add(l, "RET=HDRS", "RET=HDRS");
		cand_add(l, "ENVID=", "ENVID=");
	}
	if (c->requiretls)
		cand_add(l, "REQUIRETLS", "REQUIRETLS");
	if (c->auth)
		cand_add(l, "AUTH=<>", "AUTH=<>");
}

static bool
prefix_ci(const char *word, const char *typed)
{
	return strncasecmp(word, typed, strlen(typed)) == 0;
}

static unsigned char
complete_fn(EditLine *el, int ch)
{
	struct cmdline *c = NULL;
	el_get(el, EL_CLIENTDATA, &c);
	const LineInfoW *li = el_wline(el);
	size_t cur = (size_t)(li->cursor - li->buffer);
	(void)ch;

	/* the word before the cursor, and the words before it */
	size_t ws = cur;
	while (ws > 0 && li->buffer[ws - 1] != L' ')
		ws--;
	char *line = wcs_to_u8(li->buffer, ws);	/* the words before it */
	char *typed = wcs_to_u8(li->buffer + ws, cur - ws);
	char first[16] = "";
	int nwords = 0;
	for (const char *p = line; *p;) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		const char *e = p;
		while (*e && *e != ' ')
			e++;
		if (nwords == 0)
			snprintf(first, sizeof first, "%.*s", (int)(e - p), p);
		nwords++;
		p = e;
	}

	struct candlist l = { .n = 0 };
	const struct caps *caps = c->s ? &c->s->caps : NULL;
	if (nwords == 0) {
		for (size_t i = 0; i < ARRAY_SIZE(verb_cands); i++)
			cand_add(&l, verb_cands[i].word, verb_cands[i].insert);
	} else if (!strcasecmp(first, "MAIL") && nwords == 1) {
		cand_add(&l, "FROM:", "FROM:");
	} else if (!strcasecmp(first, "RCPT") && nwords == 1) {
		cand_add(&l, "TO:", "TO:");
	} else if (!strcasecmp(first, "MAIL") || !strcasecmp(first, "RCPT")) {
		mail_params(&l, caps, !strcasecmp(first, "RCPT"));
	} else if (!strcasecmp(first, "HELP")) {
		for (size_t i = 0; i < ARRAY_SIZE(verb_cands); i++)
			cand_add(&l, verb_cands[i].word, verb_cands[i].word);
		caps_words(&l, caps);
	} else {
		caps_words(&l, caps);
	}

	int match[48], nm = 0;
	for (int i = 0; i < l.n; i++)
		if (prefix_ci(l.v[i].word, typed))
			match[nm++] = i;

	unsigned char rc = CC_REFRESH;
	if (nm == 0) {
		if (c->hint)
			snprintf(c->hint, c->hintlen, "%s", l.n ? "no completion" :
				 "nothing to complete here");
		rc = CC_REFRESH_BEEP;
	} else {
		/* the longest common prefix of the inserts */
		const char *a = l.v[match[0]].insert;
		size_t common = strlen(a);
		for (int i = 1; i < nm; i++) {
			const char *b = l.v[match[i]].insert;
			size_t k = 0;
			while (k < common && b[k] && toupper((unsigned char)a[k]) ==
			       toupper((unsigned char)b[k]))
				k++;
			common = k;
		}
		if (common >= strlen(typed)) {
			char *ins = xstrndup(a, common);
			size_t n;
			wchar_t *w = u8_to_wcs(ins, strlen(ins), &n);
			el_deletestr(el, (int)(cur - ws));
			el_winsertstr(el, w);
			free(w);
			free(ins);
		}
		if (c->hint) {
			struct buf b = { 0 };
			if (nm > 1)
				for (int i = 0; i < nm; i++)
					buf_printf(&b, "%s%s", i ? " " : "", l.v[match[i]].word);
			snprintf(c->hint, c->hintlen, "%s", b.len ? b.data : "");
			buf_free(&b);
		}
	}
	free(line);
	free(typed);
	return rc;
}

/* ---- life cycle ------------------------------------------------------------ */

static void
history_file(struct cmdline *c)
{
	const char *xdg = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	c->histpath[0] = '\0';
	if (xdg && xdg[0] == '/')
		snprintf(c->histpath, sizeof c->histpath, "%s/smtpdx/history", xdg);
	else if (home && home[0] == '/')
		snprintf(c->histpath, sizeof c->histpath,
			 "%s/.local/state/smtpdx/history", home);
}

/* mkdir -p for the directory part of path, private to the user. */
static int
make_dirs(const char *path)
{
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s", path);
	char *slash = strrchr(p, '/');
	if (!slash)
		return 0;
	*slash = '\0';
	for (char *q = p + 1; *q; q++) {
		if (*q == '/') {
			*q = '\0';
			if (mkdir(p, 0700) < 0 && errno != EEXIST)
				return -1;
			*q = '/';
		}
	}
	if (mkdir(p, 0700) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

struct cmdline *
cmdline_new(char *err, size_t errlen)
{
	struct cmdline *c = xcalloc(1, sizeof *c);
	c->master = c->slave = -1;

	c->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (c->master < 0 || grantpt(c->master) < 0 || unlockpt(c->master) < 0) {
		snprintf(err, errlen, "no pty for the command line: %s", strerror(errno));
		goto fail;
	}
	const char *name = ptsname(c->master);
	c->slave = name ? open(name, O_RDWR | O_NOCTTY | O_CLOEXEC) : -1;
	if (c->slave < 0) {
		snprintf(err, errlen, "no pty for the command line: %s", strerror(errno));
		goto fail;
	}
	/* one very wide row: libedit never wraps the line it does not draw */
	struct winsize ws = { .ws_row = 1, .ws_col = 1000 };
	ioctl(c->slave, TIOCSWINSZ, &ws);
	c->fin = fdopen(c->slave, "r");
	c->fnull = fopen("/dev/null", "we");
	if (!c->fin || !c->fnull) {
		snprintf(err, errlen, "command line: %s", strerror(errno));
		goto fail;
	}
	c->el = el_init_fd("smtpdx", c->fin, c->fnull, c->fnull, c->slave,
			   c->slave, c->slave);
	if (!c->el) {
		snprintf(err, errlen, "libedit would not start");
		goto fail;
	}
	el_set(c->el, EL_CLIENTDATA, c);
	el_set(c->el, EL_EDITOR, "emacs");
	el_wset(c->el, EL_GETCFN, getc_fn);
	el_set(c->el, EL_SIGNAL, 0);
	el_wset(c->el, EL_ADDFN, L"smtpdx-complete", L"complete an SMTP word",
		complete_fn);
	el_wset(c->el, EL_BIND, L"^I", L"smtpdx-complete", NULL);
	el_wset(c->el, EL_BIND, L"^R", L"ed-search-prev-history", NULL);
	el_wset(c->el, EL_BIND, L"^S", L"ed-search-next-history", NULL);
	el_set(c->el, EL_UNBUFFERED, 1);

	HistEventW ev;
	c->hist = history_winit();
	history_w(c->hist, &ev, H_SETSIZE, 500);
	history_w(c->hist, &ev, H_SETUNIQUE, 1);
	el_wset(c->el, EL_HIST, history_w, c->hist);
	history_file(c);
	if (*c->histpath)
		history_w(c->hist, &ev, H_LOAD, c->histpath);
	return c;
fail:
	cmdline_free(c);
	return NULL;
}

void
cmdline_free(struct cmdline *c)
{
	if (!c)
		return;
	if (c->el)
		el_end(c->el);
	if (c->hist)
		history_wend(c->hist);
	if (c->fin)
		fclose(c->fin);
	else if (c->slave >= 0)
		close(c->slave);
	if (c->fnull)
		fclose(c->fnull);
	if (c->master >= 0)
		close(c->master);
	free(c);
}

void
cmdline_set_more(struct cmdline *c, cmdline_more_fn *fn, void *ctx)
{
	c->more = fn;
	c->more_ctx = ctx;
}

const char *
cmdline_history_path(const struct cmdline *c)
{
	return c->histpath;
}

void
cmdline_reset(struct cmdline *c)
{
	/* leaving unbuffered mode drops the line; entering starts afresh */
	el_set(c->el, EL_UNBUFFERED, 0);
	el_set(c->el, EL_UNBUFFERED, 1);
}

const wchar_t *
cmdline_text(struct cmdline *c, size_t *n, size_t *cursor)
{
	const LineInfoW *li = el_wline(c->el);
	size_t len = (size_t)(li->lastchar - li->buffer);
	/* a finished line still holds its newline until the reset */
	if (len && li->buffer[len - 1] == L'\n')
		len--;
	*n = len;
	*cursor = (size_t)(li->cursor - li->buffer);
	if (*cursor > len)
		*cursor = len;
	return li->buffer;
}

static bool
is_auth(const char *line)
{
	while (*line == ' ')
		line++;
	return strncasecmp(line, "AUTH", 4) == 0;
}

void
cmdline_remember(struct cmdline *c, const char *line)
{
	HistEventW ev;
	if (!*line || is_auth(line))
		return;
	size_t n;
	wchar_t *w = u8_to_wcs(line, strlen(line), &n);
	history_w(c->hist, &ev, H_ENTER, w);
	free(w);
	if (*c->histpath && make_dirs(c->histpath) == 0) {
		history_w(c->hist, &ev, H_SAVE, c->histpath);
		chmod(c->histpath, 0600);
	}
}

int
cmdline_key(struct cmdline *c, const struct session *s, wint_t ch,
	    bool keycode, bool meta, char **line, char *hint, size_t hintlen)
{
	const LineInfoW *li = el_wline(c->el);
	bool empty = li->lastchar == li->buffer;
	bool at_end = li->cursor == li->lastchar;
	wchar_t k = 0;

	*line = NULL;
	if (keycode) {
		switch (ch) {
		case KEY_LEFT: k = 2; break;		/* ^B */
		case KEY_RIGHT: k = 6; break;		/* ^F */
		case KEY_UP: k = 16; break;		/* ^P */
		case KEY_DOWN: k = 14; break;		/* ^N */
		case KEY_HOME: k = 1; break;		/* ^A */
		case KEY_END: k = 5; break;		/* ^E */
		case KEY_BACKSPACE: k = 8; break;	/* ^H */
		case KEY_DC:
			if (at_end)
				return 0;
			k = 4;				/* ^D */
			break;
		case KEY_ENTER: k = L'\n'; break;
		default:
			return 0;
		}
	} else {
		k = (wchar_t)ch;
		if (k == 27 && !meta)			/* Esc */
			return -1;
		if (k == 3 && empty)			/* ^C on nothing */
			return -1;
		if (k == 3) {				/* ^C: drop the text */
			cmdline_reset(c);
			return 0;
		}
		if (k == 4 && empty)			/* ^D on nothing */
			return -1;
		if (k == 4 && at_end)
			return 0;
		if (k == L'\r')
			k = L'\n';
		if (k == 0x7f)
			k = 8;
	}
	if (hint && hintlen)
		*hint = '\0';
	c->s = s;
	c->hint = hint;
	c->hintlen = hintlen;
	c->qn = c->qi = 0;
	if (meta)
		c->q[c->qn++] = 27;
	c->q[c->qn++] = k;

	int n = 0;
	const wchar_t *r = NULL;
	/* one editing command per call; run until the keys are used up */
	while (c->qi < c->qn) {
		r = el_wgets(c->el, &n);
		if (!r || (n > 0 && r[n - 1] == L'\n'))
			break;
	}
	c->s = NULL;
	c->hint = NULL;
	/*
	 * In unbuffered mode el_wgets() returns NULL whenever the line is
	 * empty after the command (^U, ^W, Backspace on nothing), not only
	 * at end of file: that is no reason to leave.  The keys that leave
	 * (Esc, ^C, ^D on an empty line) were handled above, before libedit
	 * saw them; everything else stays on the line, so no key typed
	 * after it can reach the session as a command.
	 */
	if (!r)
		return 0;
	if (n > 0 && r[n - 1] == L'\n') {
		*line = wcs_to_u8(r, (size_t)n - 1);
		cmdline_reset(c);
		return 1;
	}
	return 0;
}

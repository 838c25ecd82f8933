/*
 * ui.h - what the files of the curses front end share.
 *
 * The TUI is one event loop (tui.c) over one state (struct tui).  The
 * screen is split into regions (layout.c), each a curses window that its
 * draw function fills from the session; nothing is drawn outside draw
 * time.  A region is redrawn only when its bit in t->dirty is set, then
 * wnoutrefresh()ed; one doupdate() ends each turn of the loop.
 *
 * Text rules: every string that reaches curses goes through text.c, which
 * decodes UTF-8 into wide characters, replaces what the locale cannot
 * show, and measures by display width (wcwidth), never bytes.  The
 * engine's text is already safe (no control bytes); text.c makes sure of
 * it anyway.
 *
 * Overlays (help, explanations, TLS details, the settings form, prompts)
 * are documents (struct doc) or small forms drawn in one window above the
 * regions; while one is open it takes the keys.
 */
#ifndef SMTPDX_UI_H
#define SMTPDX_UI_H

#include <curses.h>
#include <stdbool.h>
#include <stddef.h>
#include <wchar.h>

#include "../src/session.h"
#include "../src/sweep.h"
#include "screen.h"
#include "tui.h"

/* ---- theme.c: styles and marks ------------------------------------------ */

/*
 * One line per style: name, foreground, background (-1: the terminal's
 * own), attributes with colour, attributes without.  Monochrome attributes
 * must tell the states apart on their own (nothing rests on colour).
 */
#define STYLE_LIST(X) \
	X(NORMAL,   -1,            -1,   A_NORMAL,          A_NORMAL) \
	X(DIM,      -1,            -1,   A_DIM,             A_DIM) \
	X(BOLD,     -1,            -1,   A_BOLD,            A_BOLD) \
	X(BORDER,   COLOR_BLUE,    -1,   A_NORMAL,          A_NORMAL) \
	X(BORDER_FOCUS, COLOR_CYAN, -1,  A_BOLD,            A_BOLD) \
	X(TITLE,    -1,            -1,   A_BOLD,            A_BOLD) \
	X(TAB,      -1,            -1,   A_NORMAL,          A_NORMAL) \
	X(TAB_ON,   COLOR_BLACK,   COLOR_CYAN, A_BOLD,      A_REVERSE | A_BOLD) \
	X(BAR,      COLOR_WHITE,   COLOR_BLUE, A_NORMAL,    A_REVERSE) \
	X(BAR_BOLD, COLOR_WHITE,   COLOR_BLUE, A_BOLD,      A_REVERSE | A_BOLD) \
	X(BAR_OK,   COLOR_GREEN,   COLOR_BLUE, A_BOLD,      A_REVERSE | A_BOLD) \
	X(BAR_FAIL, COLOR_WHITE,   COLOR_RED,  A_BOLD,      A_REVERSE | A_BOLD) \
	X(BAR_WARN, COLOR_YELLOW,  COLOR_BLUE, A_BOLD,      A_REVERSE | A_BOLD) \
	X(BADGE_OK, COLOR_BLACK,   COLOR_GREEN, A_BOLD,     A_REVERSE | A_BOLD) \
	X(BADGE_WARN, COLOR_BLACK, COLOR_YELLOW, A_BOLD,    A_REVERSE | A_BOLD) \
	X(SELECTED, COLOR_BLACK,   COLOR_CYAN, A_NORMAL,    A_REVERSE) \
	X(SELECTED_OFF, -1,        -1,   A_REVERSE,         A_REVERSE) \
	X(KEY,      COLOR_CYAN,    -1,   A_BOLD,            A_BOLD) \
	X(HINT,     -1,            -1,   A_NORMAL,          A_NORMAL) \
	X(MSG,      COLOR_GREEN,   -1,   A_BOLD,            A_BOLD) \
	X(ERR,      COLOR_RED,     -1,   A_BOLD,            A_BOLD | A_UNDERLINE) \
	X(OK,       COLOR_GREEN,   -1,   A_BOLD,            A_BOLD) \
	X(FAIL,     COLOR_RED,     -1,   A_BOLD,            A_BOLD) \
	X(WARN,     COLOR_YELLOW,  -1,   A_BOLD,            A_BOLD) \
	X(PENDING,  -1,            -1,   A_DIM,             A_DIM) \
	X(RUNNING,  COLOR_CYAN,    -1,   A_BOLD,            A_BOLD | A_REVERSE) \
	X(NEXT,     COLOR_CYAN,    -1,   A_BOLD,            A_BOLD) \
	X(SERVER,   COLOR_CYAN,    -1,   A_NORMAL,          A_NORMAL) \
	X(SERVER_ERR, COLOR_RED,   -1,   A_BOLD,            A_BOLD | A_UNDERLINE) \
	X(CLIENT,   COLOR_YELLOW,  -1,   A_BOLD,            A_BOLD) \
	X(MESSAGE,  COLOR_YELLOW,  -1,   A_NORMAL,          A_NORMAL) \
	X(INFO,     -1,            -1,   A_DIM,             A_DIM) \
	X(TIME,     -1,            -1,   A_DIM,             A_DIM) \
	X(TLSMARK,  COLOR_GREEN,   -1,   A_BOLD,            A_BOLD) \
	X(NOTE,     COLOR_MAGENTA, -1,   A_NORMAL,          A_DIM) \
	X(STEPHEAD, COLOR_BLUE,    -1,   A_BOLD,            A_BOLD | A_UNDERLINE) \
	X(QUESTION, -1,            -1,   A_NORMAL,          A_NORMAL) \
	X(ANSWER,   COLOR_CYAN,    -1,   A_BOLD,            A_BOLD) \
	X(FACT,     COLOR_CYAN,    -1,   A_NORMAL,          A_NORMAL) \
	X(LABEL,    COLOR_BLUE,    -1,   A_BOLD,            A_BOLD | A_UNDERLINE) \
	X(HEADING,  -1,            -1,   A_BOLD | A_UNDERLINE, A_BOLD | A_UNDERLINE) \
	X(FIELD,    -1,            -1,   A_UNDERLINE,       A_UNDERLINE) \
	X(FIELD_ON, COLOR_BLACK,   COLOR_CYAN, A_NORMAL,    A_REVERSE)

enum style {
#define X(sym, fg, bg, ca, ma) ST_##sym,
	STYLE_LIST(X)
#undef X
	ST_COUNT
};

/* Pick colour or monochrome; call after start_color() may be used. */
void theme_init(bool color);
/* Set w's attributes and colour pair to style st, plus extra attributes. */
void style_set(WINDOW *w, int st, attr_t extra);

/* Marks with their ASCII fallbacks. */
#define MARK_LIST(X) \
	X(OK,       L"\u2713", L"+") \
	X(FAIL,     L"\u2717", L"x") \
	X(WARN,     L"!",      L"!") \
	X(PENDING,  L"\u00b7", L".") \
	X(SKIPPED,  L"\u2013", L"-") \
	X(RUNNING,  L"\u25b6", L">") \
	X(NEXT,     L"\u203a", L">") \
	X(TLS,      L"\u2248", L"~") \
	X(SERVER,   L"S\u2190", L"S<") \
	X(CLIENT,   L"C\u2192", L"C>") \
	X(INFO,     L" \u2022", L" *") \
	X(ELLIPSIS, L"\u2026", L">") \
	X(ARROW,    L"\u2192", L"->") \
	X(BRANCH,   L"\u2514\u2500", L"`-") \
	X(SEP,      L"\u2502", L"|") \
	X(DOT,      L"\u00b7", L"-") \
	X(LOCK,     L"\u2248", L"~") \
	X(UP,       L"\u25b2", L"^") \
	X(DOWN,     L"\u25bc", L"v") \
	X(RULE,     L"\u2500", L"-") \
	X(MASK,     L"\u25cf", L"*") \
	X(STAR,     L"\u2605", L"*") \
	X(WRAP,     L"\u21aa", L"+")

enum mark {
#define X(sym, u, a) MK_##sym,
	MARK_LIST(X)
#undef X
	MK_COUNT
};

extern bool ui_utf8;		/* the locale's codeset is UTF-8 */
const wchar_t *mark(enum mark m);
const char *mark_u8(enum mark m);	/* the same, as UTF-8 */

/* ---- text.c: wide text, widths, drawing, documents ---------------------- */

/*
 * Decode UTF-8 (safe text from the engine or the user) into a new wide
 * string of *n characters.  Code points the locale cannot show, and any
 * control or unprintable character, become '?'.  Never returns NULL.
 */
wchar_t *u8_to_wcs(const char *s, size_t len, size_t *n);
/* Encode a wide string as a new UTF-8 string. */
char *wcs_to_u8(const wchar_t *w, size_t n);
int wcs_width(const wchar_t *w, size_t n);
int u8_width(const char *s);

/*
 * Draw at (y, x) in at most maxw columns; returns the columns used.  With
 * ellipsis, a cut is shown by a trailing MK_ELLIPSIS.
 */
int put_wcs(WINDOW *w, int y, int x, const wchar_t *s, size_t n, int maxw,
	    int st, attr_t extra, bool ellipsis);
int put_str(WINDOW *w, int y, int x, const char *s, int maxw, int st,
	    attr_t extra, bool ellipsis);
int put_mark(WINDOW *w, int y, int x, enum mark m, int st, attr_t extra);
/* Fill n columns with spaces in style st. */
void put_fill(WINDOW *w, int y, int x, int n, int st, attr_t extra);

/* A key and what it does, for a footer: "r run to the end". */
struct keyhint {
	const char *key, *words;
};
/* Draw h on row 0 at x if it fits in room columns; returns the columns
 * used (with the gap after it), or -1 if it does not fit. */
int put_hint(WINDOW *w, int x, int room, const struct keyhint *h);

/* A document: lines of wide characters, each character with a style. */
struct dline {
	wchar_t *w;
	unsigned char *st;
	size_t n, cap;
	int tag;		/* caller's mark for a line (e.g. a line index) */
};

struct doc {
	struct dline *v;
	size_t n, cap;
	int width;		/* wrap width the document was built for */
};

void doc_reset(struct doc *d, int width);
void doc_free(struct doc *d);
void doc_nl(struct doc *d);				/* start a new line */
void doc_add(struct doc *d, int st, const char *s);	/* to the last line */
void doc_addw(struct doc *d, int st, const wchar_t *w, size_t n);
void doc_addf(struct doc *d, int st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void doc_addmark(struct doc *d, int st, enum mark m);
/*
 * Word-wrap s to the document's width: each line starts with indent
 * spaces; the first line starts with label (style lst) padded to indent
 * columns instead, when label is not NULL.  '\n' in s breaks a line.
 */
void doc_wrap(struct doc *d, int indent, const char *label, int lst, int st,
	      const char *s);
/* A horizontal rule with a heading. */
void doc_heading(struct doc *d, const char *title);
/* A diagnosis as a block: its mark and title, id and severity (and the
 * RFC when full), the evidence, (when full) what it means, and the fix
 * under fix_label in style fix_st. */
void doc_diagnosis(struct doc *d, const struct diagnosis *g, bool full,
		   const char *fix_label, int fix_st);
/* Draw lines top.. into the h x wd area at (y, x); returns lines drawn. */
int doc_draw(WINDOW *w, const struct doc *d, int top, int y, int x, int h,
	     int wd);

/* ---- the state ---------------------------------------------------------- */

enum region { RG_STEPS, RG_TRANS, RG_DIAG, RG_COUNT };

enum layout_mode { LM_TOO_SMALL, LM_WIDE, LM_STACKED, LM_TABS };

/* Dirty bits: what to redraw at the end of this turn. */
enum {
	DIRTY_HEADER = 1u << 0,
	DIRTY_FOOTER = 1u << 1,
	DIRTY_STEPS = 1u << 2,
	DIRTY_TRANS = 1u << 3,
	DIRTY_DIAG = 1u << 4,
	DIRTY_OVERLAY = 1u << 5,
	DIRTY_ALL = 0xff
};

struct cmdline;
struct form;
struct lab_scenario;
struct mx_result;

/* The sweep screen's state (advisor.c).  The sweep engine (src/sweep.c)
 * does every probe and all the I/O; this only drives it from the loop and
 * draws what it found. */
struct advisor {
	struct sweep *w;		/* NULL: no sweep yet */
	int ports[SWEEP_MAX_PORTS], nports;
	enum sweep_purpose purpose;
	const struct mx_result *mx;	/* --mx: sweep its hosts in turn */
	int target, ntargets;		/* the MX address being swept */
	char host[256], address[64];	/* the target: name, and address */
	int pref;
	bool own_servername;		/* the user named the certificate */
	char note[512];			/* "moved to the next MX", ... */
	int sel;			/* selected row */
	bool sel_moved;			/* the user chose it (keep it) */
	int row_top;			/* first row shown in the table */
	int focus;			/* pane PgUp/PgDn scroll: 0, 1 */
	bool scrolls;			/* a pane has more than it shows */
	int top[2];
	struct doc doc[2];		/* 0 recommendation, 1 the port */
	WINDOW *table, *pane[2];	/* pane[1] NULL: one pane */
	bool have_session;		/* a session to go back to */
	bool busy_seen;
};

struct tui {
	struct config *cfg;		/* the caller's: the form edits it */
	const struct tui_opts *opts;
	struct session *s;
	enum screen_id body;		/* the body screen shown (screen.h) */
	enum screen_id over;		/* the overlay, SCREEN_NONE: none */
	struct advisor adv;
	void *state[SCREEN_COUNT];	/* a screen's own, from open to close */
	bool run_all;			/* `r`: keep going until the end */
	bool quit;
	bool color;

	/* layout (layout.c) */
	int rows, cols;
	enum layout_mode mode;
	enum region focus;		/* region the arrows act on / tab shown */
	bool zoom;			/* focused region on the whole body */
	WINDOW *header, *footer, *rg[RG_COUNT];
	WINDOW *input;			/* 1x1, never drawn: keys are read here */
	WINDOW *ov;			/* the overlay's window, NULL: none */
	unsigned dirty;

	/* transcript view */
	size_t sel;			/* selected line */
	size_t top;			/* first line shown */
	bool follow;			/* keep the newest line in view */
	bool teach;			/* notes under every line */
	size_t raw_from;		/* first line of the last raw exchange,
					 * (size_t)-1: none */
	size_t row_line[256];		/* the line on each row drawn */
	int nrows_drawn;

	/* diagnosis view */
	struct doc diag;
	int diag_top;

	/* overlay */
	struct doc ovdoc;
	int ov_top;
	char ov_title[96];
	struct form *form;		/* OV_FORM, OV_PASSWORD, OV_SAVE */

	/* a yes/no question in the footer: the next key answers it, y
	 * says yes and any other key no */
	bool ask;
	enum screen_id ask_screen;	/* who asked */
	int ask_yes;			/* its action for y */
	char ask_q[256], ask_no[160];
	char ask_path[4096];		/* the file a save asks about */
	bool meta;			/* the key came after an Esc (Alt) */

	/* `/`: search (core.c, search.c) */
	struct {
		bool typing;		/* the / line is open */
		bool active;		/* n N step through the matches */
		wchar_t w[128];
		size_t n;
		int k, m;		/* the current match, of m */
		int line;		/* in a document: the current match's line */
	} find;
	bool restart;			/* the session screen opens on a new one */
	bool interrupted;		/* ^C: the run ends with status 4 */

	/* footer message */
	char msg[512];
	bool msg_err;
	double msg_until;		/* now_mono() time it goes, 0: none */

	/* `:` */
	struct cmdline *cl;
	bool cl_on;
	char cl_hint[256];
	int cl_curx;			/* the cursor's column in the footer */
	int ov_cury, ov_curx;		/* a form's cursor, -1: none */

	/* the lab as a workshop (workshop.c) */
	struct {
		const struct lab_scenario *sc;	/* NULL: not the lab */
		int mode;		/* tui_opts.lab_mode */
		bool named, right;	/* mystery: named, and rightly */
		const char *choices[5];	/* mystery: the ids to name it from */
		size_t nchoices;
		int hints;		/* fix-it: hints given so far */
		bool solved;		/* fix-it: a session passed */
		unsigned seed;
		int sel;		/* picker, guess: the row selected */
	} ws;

	/* what was last drawn, to see what changed */
	size_t seen_tr;
	enum step_status seen_status[STEP_COUNT];
	bool seen_finished, seen_busy;
	int spin;
};

/* core.c (with screen.h): messages, the overlay window, the draw */
void tui_message(struct tui *t, bool err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Open the overlay window: height and width wanted, clipped to the screen. */
void overlay_open(struct tui *t, int h, int w);
void overlay_close(struct tui *t);
/* The windows for the terminal's size: the regions, the body screen's
 * own, the overlay's. */
void ui_relayout(struct tui *t);
/* Draw what is dirty; the one doupdate() of a turn. */
void ui_draw(struct tui *t);

/* search.c: finding text */
/* Does hay hold needle, whatever the case? */
bool find_in(const wchar_t *hay, size_t hn, const wchar_t *needle, size_t nn);
bool find_in_u8(const char *hay, const wchar_t *needle, size_t nn);
/*
 * Of the items 0..n-1 for which match() holds, the one to go to from
 * item cur: dir 0 cur itself or the next after it, 1 the next after cur,
 * -1 the one before; around the end.  Returns it (-1: none), its rank
 * from 1 in *k and how many match in *m.
 */
long find_pick(size_t n, size_t cur, int dir, bool (*match)(const void *ctx,
	       size_t i), const void *ctx, int *k, int *m);

/* layout.c: the regions of the body (never a screen's own windows) */
void layout_apply(struct tui *t);	/* (re)make windows for the size */
void layout_free(struct tui *t);
bool region_visible(const struct tui *t, enum region r);
/* Draw r's border and title, focused or not. */
void region_frame(struct tui *t, enum region r, const char *title,
		  const char *right);
/* The inner area of a region window. */
void region_inner(const struct tui *t, enum region r, int *h, int *w);
/* A border round w, and a horizontal line, in w's current style. */
void ui_box(WINDOW *w);
/* newwin() of at least 1x1, leaving the cursor alone (leaveok). */
WINDOW *ui_newwin(int h, int w, int y, int x);
void ui_hline(WINDOW *w, int y, int x, int n);

/* session.c: the session screen; the session's life for the loop */
/* A new session with the current settings (asks for a password that
 * is needed and missing). */
void tui_restart(struct tui *t);
/* A new session, and nothing asked. */
void session_renew(struct tui *t);
/* After the session worked: see what changed, mark it dirty. */
void session_watch(struct tui *t);
/* Transcript navigation; keep the selection in view. */
void trans_move(struct tui *t, long delta);
void trans_home(struct tui *t);
void trans_end(struct tui *t);
int trans_page(const struct tui *t);

/* explain.c: words for lines and replies (and the explain screen) */
void explain_line(struct doc *d, const struct session *s, size_t i);
/* The words for a reply's code, for the transcript and the raw line. */
void explain_reply_words(struct doc *d, const char *text);
/* Does a client line start with an SMTP verb (not message text)? */
bool explain_is_command(const char *text);
/* The teaching view's words under line i: new string, or NULL. */
char *tr_gloss(const struct session *s, size_t i);

/* advisor.c: the sweep engine, driven from the loop (and its screen) */
/* Set up a sweep of cfg's host on ports (NULL: the default ports); with
 * use_mx, of the MX hosts in t->opts->mx instead. */
int adv_init(struct tui *t, const char *ports, bool use_mx, char *err,
	     size_t errlen);
/* Start (or start again) the sweep of the current target. */
void adv_start(struct tui *t);
void adv_free(struct tui *t);
bool adv_running(const struct tui *t);
/* The sweep's descriptors from pfd[0] on (at most max); returns how many,
 * and lowers *deadline to the sweep's own. */
int adv_pollfds(struct tui *t, struct pollfd *pfd, int max, double *deadline);
/* After poll(): let the sweep act; moves to the next MX when none of a
 * host's ports answered. */
void adv_handle(struct tui *t, const struct pollfd *pfd, int n);
/* Words for a TLS mode: "implicit TLS", "STARTTLS". */
const char *adv_mode_words(enum tls_mode m);

/* workshop.c: the lab as a workshop (issue 14) */
enum { WS_PLAIN, WS_MYSTERY, WS_FIXIT };	/* tui_opts.lab_mode */
void ws_init(struct tui *t);
/* The scenario in use now, in mode (the picker's choice). */
void ws_set(struct tui *t, const struct lab_scenario *sc, int mode);
/* Count a mystery named (right or not) or a session fixed (mystery
 * false, right true) in the score file. */
void ws_progress(struct tui *t, bool mystery, bool right);
/* Mystery mode, the diagnosis not named yet: hide the scenario's name,
 * the diagnosis and the tree. */
bool ws_secret(const struct tui *t);
/* The scenario's name to show ("mystery" while secret); NULL: no lab. */
const char *ws_label(const struct tui *t);
/* The lab's login in words, into buf (the password unless the session
 * uses it); NULL: no lab. */
const char *ws_login(const struct tui *t, char *buf, size_t len);
void ws_plan(const struct tui *t, struct doc *d);	/* the plan's lab lines */
void ws_hidden(const struct tui *t, struct doc *d);	/* the pane, secret */
void ws_help(struct doc *d, const struct tui *t);	/* `?`: the lab */
void ws_finished(struct tui *t);	/* the session just finished */
void ws_hint(struct tui *t);		/* `h` */
void ws_picker(struct tui *t);		/* `L` */
void ws_name_it(struct tui *t);		/* `d` */

/* deliver.c: the deliverability screen's run, driven from the loop */
/* The job's descriptor, -1: no run under way. */
int dlv_pollfd(struct tui *t);
bool dlv_running(const struct tui *t);
/* After poll() said the descriptor is readable. */
void dlv_handle(struct tui *t);
/* 1 when a check failed, 0 none, TUI_EXIT_INTERRUPTED: no result. */
int dlv_exit_status(const struct tui *t);
void dlv_free(struct tui *t);	/* at the end of the TUI */

/* form.c: the settings form and the one-line prompts */
struct form *form_settings(const struct config *cfg);
struct form *form_password(const char *user, const char *where);
struct form *form_save(const char *suggest);
/* FORM_PROFILE: the settings form's Ctrl-P, a profile name typed */
enum form_rc { FORM_MORE, FORM_DONE, FORM_CANCEL, FORM_PROFILE };
enum form_rc form_key(struct form *f, int ch, bool keycode);
/* Draw into w (h x wd, inside its border); *cy, *cx: where the cursor
 * goes, -1 for none. */
void form_draw(struct form *f, WINDOW *w, int h, int wd, int *cy, int *cx);
void form_error(struct form *f, const char *msg);
/* News on the error line (a profile saved); ends the name prompt. */
void form_info(struct form *f, const char *msg);
int form_height(const struct form *f);
/* After FORM_DONE: apply the settings to cfg.  Returns 0, or -1 with a
 * reason in err (the form stays open). */
int form_apply(struct form *f, struct config *cfg, char *err, size_t errlen);
/*
 * The settings the form holds, over cur, in out (a new struct config, the
 * caller frees it): the form is read as the command line it stands for
 * and parsed by options_parse(), so it refuses what the command line
 * refuses, in its words.  Returns 0, or -1 with one line in err (shown
 * in the form, the cursor on the field it names).
 */
int form_check(struct form *f, const struct config *cur, struct config *out,
	       char *err, size_t errlen);
/* Was a new password command typed (and no password)?  Run it then. */
bool form_passcmd_changed(const struct form *f, const struct config *cur);
/* After FORM_PROFILE: the name typed (new string). */
char *form_profile_name(const struct form *f);
/* After FORM_DONE on a prompt: the text typed (new string; the caller
 * wipes a password). */
char *form_value(const struct form *f);
/* How many characters the prompt's field holds (the password's length is
 * shown, never its characters). */
size_t form_length(const struct form *f);
void form_free(struct form *f);		/* wipes what was typed */

/* cmdline.c: the `:` line on libedit */
/* Wait a little for one more key, redrawing first; false: none came. */
typedef bool cmdline_more_fn(void *ctx, wint_t *ch, bool *keycode);
struct cmdline *cmdline_new(char *err, size_t errlen);
void cmdline_free(struct cmdline *c);
void cmdline_set_more(struct cmdline *c, cmdline_more_fn *fn, void *ctx);
/*
 * Feed one key (wget_wch's result; meta: it came after an Esc, as Alt
 * sends it).  Returns 1 with a finished line in *line (new string, no
 * newline), -1 when the user left the line (Esc, ^C, ^D on an empty
 * line), 0 otherwise.  hint gets words for the footer (completions).
 * s is read for completion (the server's extensions).
 */
int cmdline_key(struct cmdline *c, const struct session *s, wint_t ch,
		bool keycode, bool meta, char **line, char *hint, size_t hintlen);
/* The line being edited and the cursor, as libedit holds them. */
const wchar_t *cmdline_text(struct cmdline *c, size_t *n, size_t *cursor);
/* Remember a line in the history (never AUTH lines) and save it. */
void cmdline_remember(struct cmdline *c, const char *line);
/* Drop what was typed (a new line next time). */
void cmdline_reset(struct cmdline *c);
/* Where the history file lives, for help; "" when nowhere. */
const char *cmdline_history_path(const struct cmdline *c);

#endif

/*
 * screen.h - the screens of the TUI, behind one small interface.
 *
 * A screen is a body (it owns the area between the header and the footer:
 * the session, the port advisor) or an overlay (a window above the body:
 * help, a line explained, TLS details, the settings form, the password and
 * save prompts, the decision tree).  t->body is the body shown; t->over
 * the overlay, SCREEN_NONE when there is none.  The overlay, when there
 * is one, has the keys.
 *
 * Each screen has one key table.  The loop (tui.c) reads a key, finds it
 * in the table of the screen that has the keys and hands that screen the
 * action; a key that is not in the table reaches the screen as KA_NONE
 * (a text field takes it), and while the screen says it is typing, every
 * key does.  The same table makes the footer (ui_footer_keys) and the
 * help (`?`): a key is written once.
 *
 * Adding a screen is a two-file change: its file, defining
 * `const struct screen screen_NAME`, and its line in SCREEN_LIST below.
 * Screens never name each other: they ask for one by its id (ui_open), so
 * only tui.c, which builds the registry, depends on the screens.
 */
#ifndef SMTPDX_SCREEN_H
#define SMTPDX_SCREEN_H

#include <curses.h>
#include <stdbool.h>
#include <wchar.h>

struct tui;
struct doc;

/* Every screen: its id and its name (the symbol is screen_NAME). */
#define SCREEN_LIST(X) \
	X(SESSION, session)	/* body: the step-by-step session */ \
	X(ADVISOR, advisor)	/* body: the port advisor's sweep */ \
	X(HELP, help)		/* `?`: the key map */ \
	X(EXPLAIN, explain)	/* Enter: the selected line explained */ \
	X(TLS, tls)		/* `t`: TLS version, cipher, certificates */ \
	X(SETTINGS, settings)	/* `e`: the settings form */ \
	X(PASSWORD, password)	/* the password prompt (modal) */ \
	X(SAVE, save)		/* `s`: save the transcript */ \
	X(TREE, tree)		/* `T`: the whole decision tree */ \
	X(TIMING, timing)	/* `l`: where the time went */ \
	X(PICKER, picker)	/* `L`: the lab's scenarios (picker.c) */ \
	X(GUESS, guess)		/* `d`: name the mystery's diagnosis */ \
	X(DELIVER, deliver)	/* body, `D`: will my mail arrive? (DNS) */ \
	X(PROFILES, profiles)	/* `p`: the profiles of the config file */ \
	X(FINDFIX, findfix)	/* `f`: find-fix on a failed session */

enum screen_id {
	SCREEN_NONE = -1,
#define X(id, name) SCREEN_##id,
	SCREEN_LIST(X)
#undef X
	SCREEN_COUNT
};

/* An action a key asks for; each screen numbers its own from KA_FIRST. */
enum { KA_NONE = 0, KA_FIRST = 1 };

/* When a key is offered in the footer (bits; 0: always). */
enum {
	KW_IDLE = 1u << 0,	/* no step under way */
	KW_BUSY = 1u << 1,	/* a step (or a sweep) under way */
	KW_LIVE = 1u << 2,	/* connected, not finished */
	KW_MORE = 1u << 3,	/* the region with the focus scrolls */
	KW_BACK = 1u << 4,	/* there is a screen to go back to */
	KW_TODO = 1u << 5,	/* the session has steps left */
	KW_PANES = 1u << 6,	/* two panes to switch between */
	KW_LAB = 1u << 7,	/* the lab: its scenarios can be picked */
	KW_GUESS = 1u << 8,	/* a mystery finished, not named yet */
	KW_HINT = 1u << 9,	/* fix-it, not fixed yet: hints to give */
	KW_FAILED = 1u << 10,	/* the session ended with an error */
};

/*
 * One key.  ch is a character, or a curses KEY_ code when code is set.
 * Several entries may share an action (n and space); help lists the first
 * with help words and the names of all of them.  footer: the words in the
 * footer (NULL: not there), shown when the screen's state has every bit
 * of when.  section: a heading under `?`, on the first key of a group.
 */
struct keydef {
	wint_t ch;
	bool code;
	int action;
	const char *name;	/* as the user reads it: "n", "Ctrl-Z", "Up" */
	const char *help;	/* words under `?` (NULL: the same as above) */
	const char *footer;
	unsigned when;
	const char *section;
};

/* The interface: every member may be NULL, except key. */
struct screen {
	const char *name;
	bool overlay;			/* drawn in a window above the body */
	const struct keydef *keys;	/* ends with an entry whose name is NULL */
	/* Shown: set up what it draws from (t->over or t->body is set). */
	void (*open)(struct tui *t);
	/* Draw: a body draws its windows whose bit is in dirty (ui.h) and
	 * the footer; an overlay fills t->ov (the border is drawn). */
	void (*draw)(struct tui *t, unsigned dirty);
	/* An action of its table, or KA_NONE with a key it did not list. */
	void (*key)(struct tui *t, int action, wint_t ch, bool keycode);
	/* The terminal's size changed: windows for the new size.  For an
	 * overlay, the height and width it wants (clipped by the caller). */
	void (*resize)(struct tui *t, int *h, int *w);
	/* Hidden: free what open made. */
	void (*close)(struct tui *t);
	/* Every key goes to key() as KA_NONE now (a text field). */
	bool (*typing)(const struct tui *t);
	/* The KW_ bits that hold now, for the footer. */
	unsigned (*state)(const struct tui *t);
	/* More words for `?` after the keys (NULL: none). */
	void (*help)(struct doc *d, const struct tui *t);
	/* `/`: go to a match of t->find.w (dir as find_pick, ui.h), set
	 * t->find.k and .m (NULL: the screen has nothing to search). */
	void (*find)(struct tui *t, int dir);
	/* Work of its own under way (a child process): the descriptor the
	 * loop polls for it, -1 none (NULL: never any).  While there is
	 * one, the loop ticks the clock on screen too. */
	int (*job_fd)(const struct tui *t);
	/* That descriptor is readable (or hung up). */
	void (*job_ready)(struct tui *t);
};

/* The registry, filled by tui.c before the first screen opens. */
extern const struct screen *ui_screen[SCREEN_COUNT];

/* Show screen id: an overlay replaces the overlay, a body the body (and
 * closes the overlay). */
void ui_open(struct tui *t, enum screen_id id);
/* Close the overlay. */
void ui_close(struct tui *t);
/* The screen that has the keys. */
const struct screen *ui_keyscreen(const struct tui *t);
/* Hand a key to the screen that has the keys, through its table. */
void ui_key(struct tui *t, wint_t ch, bool keycode);
/* Place the overlay's window again (after a resize or new content). */
void ui_place(struct tui *t);

/* Key hints of sc's table on the footer from column x; those with a
 * footer word whose `when` holds; the last two (help, quit) always fit.
 * Returns the column after the last. */
int ui_footer_keys(struct tui *t, WINDOW *w, int x, const struct screen *sc);
/* The help of sc: its keys by section, then its own words. */
void ui_help_keys(struct doc *d, const struct tui *t, const struct screen *sc);

/*
 * A question in the footer: the next key answers it.  y calls screen
 * who's key() with action yes (whether it is open or not); any other key
 * says no_words.
 */
void ui_ask(struct tui *t, enum screen_id who, int yes, const char *no_words,
	    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Answer it (called by the loop with the key). */
void ui_answer(struct tui *t, bool yes);

/* Shared by the overlays that show a document (help, explain, TLS,
 * tree): scroll keys, Esc closes; the size for the document; drawing. */
enum { KA_DOC_UP = 100, KA_DOC_DOWN, KA_DOC_PGUP, KA_DOC_PGDN, KA_DOC_HOME,
       KA_DOC_END, KA_DOC_CLOSE };
#define DOC_KEYS \
	{ KEY_UP, true, KA_DOC_UP, "Up", "scroll", NULL, 0, "Reading" }, \
	{ 'k', false, KA_DOC_UP, "k", NULL, NULL, 0, NULL }, \
	{ KEY_DOWN, true, KA_DOC_DOWN, "Down", NULL, NULL, 0, NULL }, \
	{ 'j', false, KA_DOC_DOWN, "j", NULL, NULL, 0, NULL }, \
	{ KEY_PPAGE, true, KA_DOC_PGUP, "PgUp", "a page up", NULL, 0, NULL }, \
	{ KEY_NPAGE, true, KA_DOC_PGDN, "PgDn", "a page down", NULL, 0, NULL }, \
	{ ' ', false, KA_DOC_PGDN, "space", NULL, NULL, 0, NULL }, \
	{ KEY_HOME, true, KA_DOC_HOME, "Home", "the top", NULL, 0, NULL }, \
	{ KEY_END, true, KA_DOC_END, "End", "the end", NULL, 0, NULL }, \
	{ 27, false, KA_DOC_CLOSE, "Esc", "close", NULL, 0, NULL }, \
	{ 'q', false, KA_DOC_CLOSE, "q", NULL, NULL, 0, NULL }, \
	{ '\r', false, KA_DOC_CLOSE, "Enter", NULL, NULL, 0, NULL }, \
	{ '\n', false, KA_DOC_CLOSE, "Enter", NULL, NULL, 0, NULL }, \
	{ KEY_ENTER, true, KA_DOC_CLOSE, "Enter", NULL, NULL, 0, NULL }, \
	{ 3, false, KA_DOC_CLOSE, "Ctrl-C", NULL, NULL, 0, NULL }
/* Handle a KA_DOC_ action; false: not one. */
bool docview_key(struct tui *t, int action);
/* The window a document of t->ovdoc wants (build it first at width). */
void docview_size(struct tui *t, int *h, int *w);
/* The document's width for the current terminal. */
int docview_width(const struct tui *t);
/* Draw t->ovdoc from t->ov_top into the overlay, with its scroll marks. */
void docview_draw(struct tui *t);
/* `/` in the document: the find member of a document's screen. */
void docview_find(struct tui *t, int dir);

#endif

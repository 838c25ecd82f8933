/*
 * tui.h - the curses front end, as the rest of the program sees it.
 *
 * No curses type appears here: main.c (in src/, which never includes
 * curses) calls these.  The TUI drives the same engine as --batch, one
 * step per key, from a single poll() loop.
 */
#ifndef SMTPDX_TUI_H
#define SMTPDX_TUI_H

#include <stdbool.h>
#include "../src/config.h"

struct tui_opts {
	bool no_color;		/* --no-color or NO_COLOR */
	const char *lab_name;	/* the lab scenario in use, NULL: none */
};

/*
 * Run the TUI on cfg until the user quits.  cfg belongs to the caller;
 * the settings form (`e`) edits it in place.  Returns the exit status of
 * CONTRACT.md for the last session (0, 1), or -1 when the terminal
 * cannot be used (the caller then falls back to --batch).
 */
int tui_run(struct config *cfg, const struct tui_opts *o);

/* "ncursesw 6.4, libedit 3.1" for --version. */
const char *tui_versions(void);

#endif

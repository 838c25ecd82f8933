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

struct mx_result;

struct tui_opts {
	bool no_color;		/* --no-color or NO_COLOR */
	const char *lab_name;	/* the lab scenario in use, NULL: none */
	/* the config file of profiles (--config, or the default path):
	 * `p` lists and loads its profiles, the form's Ctrl-P saves one */
	const char *config_path;
	/* the settings under the user's: the lab scenario's, or the
	 * defaults.  A profile loads over these, and what a saved profile
	 * or a fix's command line holds is what differs from them. */
	const struct config *base;
	/* tui_run_sweep() only: --mx, the mail domain's hosts, looked up
	 * before curses starts (mx_lookup() blocks); swept in preference
	 * order, moving on when no port of one answers.  NULL: cfg->host. */
	const struct mx_result *mx;
	/* the lab's workshop modes (issue 14): 0 a scenario by name, 1
	 * mystery (its name hidden until the student names the diagnosis),
	 * 2 fix-it (the student fixes the client's settings) */
	int lab_mode;
	unsigned lab_seed;		/* mystery picks in the TUI start here */
	/* The lab again on another scenario, cfg made afresh for it (the
	 * picker, `L`); NULL: no lab.  Returns 0, or -1 with err. */
	int (*lab_switch)(void *ctx, const char *name, struct config *cfg,
			  char *err, size_t errlen);
	void *lab_ctx;
	/* --deliverability DOMAIN on a terminal: open on the deliverability
	 * screen, checking it (NULL: the session screen; `D` opens it
	 * there with --from's domain).  Its --dkim-selector, --sending-ip. */
	const char *deliver_domain;
	const char *dkim_selector;
	const char *sending_ip;
};

/* The exit status of a run cut short: q in the middle of a session, ^C,
 * SIGTERM, SIGINT, SIGHUP, SIGQUIT (added to CONTRACT.md's 0-3). */
#define TUI_EXIT_INTERRUPTED 4

/*
 * Run the TUI on cfg until the user quits.  cfg belongs to the caller;
 * the settings form (`e`) edits it in place.  Returns the exit status of
 * CONTRACT.md for the last session (0, 1; 0 when nothing ran),
 * TUI_EXIT_INTERRUPTED, or 2 when the terminal cannot be driven (TERM
 * unknown and neither xterm-256color nor vt100 can be used instead;
 * a line on stderr says so).  Never falls back to an unattended run.
 */
int tui_run(struct config *cfg, const struct tui_opts *o);

/*
 * The same TUI, opened on the port advisor's sweep screen (--sweep, --mx):
 * every port of ports ("587,465,2525,25"; NULL: those) probed at once, a
 * row per port, the recommendation; Enter on a row starts the
 * step-by-step session on that port and TLS mode (cfg's port and tls are
 * set to them, in place).  Returns the exit status of the last thing run
 * (the session's when one was run and is shown, else the sweep's: 0 a
 * port is recommended, 1 none), TUI_EXIT_INTERRUPTED, or 2 as tui_run().
 */
int tui_run_sweep(struct config *cfg, const struct tui_opts *o,
		  const char *ports);

/* "ncursesw 6.4, libedit 3.1" for --version. */
const char *tui_versions(void);

#endif

/*
 * workshop.h - the teaching side of the lab scenarios (issue 14): how hard
 * each one is, the goal a student is given, where its fix lies (the
 * client's settings or the server) and, for the client's, the settings
 * that fix it and hints given one at a time.
 *
 * Kept beside the scenario table (scenarios.c), one entry per scenario,
 * by name: a unit test holds the two tables together.  The texts are
 * written so that neither the goal nor the first hint names the
 * diagnosis: the goal is what the header shows, also in mystery mode's
 * neighbour, the picker.
 */
#ifndef SMTPDX_WORKSHOP_H
#define SMTPDX_WORKSHOP_H

#include <stdbool.h>
#include <stddef.h>

#include "lab.h"

/*
 * The settings that fix a client-side scenario: each one a field of the
 * TUI's settings form (`e`) and a command-line option, NULL: left as the
 * scenario has it.  Values as the options take them ("implicit",
 * "plain", an address).
 */
struct lab_fix {
	const char *host;		/* Host, HOST */
	const char *port;		/* Port, -p (the lab maps the number
					 * onto the listener that plays it) */
	const char *tls;		/* TLS mode, --tls */
	const char *servername;		/* TLS name, --servername */
	const char *user;		/* User, -u */
	const char *password;		/* Password (the lab's: LAB_PASSWORD) */
	const char *mech;		/* Mechanism, --auth */
	const char *from;		/* From, -f */
	const char *to;			/* To, -t */
};

#define LAB_MAX_HINTS 3

struct lab_lesson {
	const char *name;		/* the scenario's */
	int level;			/* 1 beginner, 2 practised, 3 expert */
	const char *goal;		/* one line: what to find out or reach */
	bool client;			/* the fix is in the client's settings */
	const char *fix;		/* one line: the fix, and who makes it */
	struct lab_fix set;		/* client: the settings of the fix */
	const char *hints[LAB_MAX_HINTS];	/* one at a time; NULL ends */
};

/* The lesson of a scenario, or NULL (a test makes sure there is one). */
const struct lab_lesson *lab_lesson(const char *name);
/* "beginner", "practised", "expert". */
const char *lab_level_name(int level);
/* How many hints a lesson has. */
int lab_hint_count(const struct lab_lesson *l);
/* Fix-it mode: does sc fail as the scenario sets it up, and can the
 * client's settings fix it? */
bool lab_fixable(const struct lab_scenario *sc);

/*
 * Mystery mode.  A scenario whose session ends in an error diagnosis,
 * chosen with seed (any unsigned; the same seed, the same scenario), and
 * the choices to name it from: its diagnosis and up to max - 1 others
 * of the same stage (then of the neighbouring stages), shuffled by seed.
 * Returns how many ids are in out.
 */
const struct lab_scenario *lab_mystery_pick(unsigned seed);
size_t lab_mystery_choices(const struct lab_scenario *sc, unsigned seed,
			   const char **out, size_t max);
/* Fix-it mode: a fixable scenario chosen with seed. */
const struct lab_scenario *lab_fixit_pick(unsigned seed);

#endif

/*
 * A student's score and progress, in $XDG_STATE_HOME/smtpdx/workshop
 * (default ~/.local/state/smtpdx/workshop): a few lines of text, written
 * to a new private file (0600) that then replaces the old one (rename),
 * so a crash never leaves half a file.  done: the scenarios solved
 * (mystery named right, or fixed), newline-separated.
 */
struct lab_progress {
	int mystery_played, mystery_right, fixed;
	char done[4096];
};
/* Load (a missing or unreadable file: all zero). */
void lab_progress_load(struct lab_progress *p);
/* Returns 0, or -1 with a reason in err. */
int lab_progress_save(const struct lab_progress *p, char *err, size_t errlen);
bool lab_progress_done(const struct lab_progress *p, const char *name);
void lab_progress_mark(struct lab_progress *p, const char *name);
/* The file's path (new string), NULL when there is no home. */
char *lab_progress_path(void);

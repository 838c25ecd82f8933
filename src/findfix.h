/*
 * findfix.h - --find-fix: after a failure, try one change at a time and
 * report the smallest one that works, as a complete command line.
 *
 * The changes follow the diagnosis: the TLS mode on the same port, the
 * other submission ports (a sweep, the provider's own fallbacks
 * included), the names the certificate holds as --servername, the AUTH
 * mechanism, the other form of the user name (full address or local
 * part), a real EHLO name, the login's own address as sender.  Every
 * attempt runs with --no-send: no mail is ever sent.  When the failure
 * was a refused login, at most one more AUTH attempt is made (accounts
 * lock after a few); attempts that need no login run without one.
 *
 * Blocking: each attempt is a session (or a sweep) run to its end.
 */
#ifndef SMTPDX_FINDFIX_H
#define SMTPDX_FINDFIX_H

#include <stdbool.h>
#include <stdio.h>

#include "config.h"
#include "session.h"

#define FF_MAX 12

/* One change: up to two options with their values. */
struct ff_change {
	const char *opt[2];	/* "--tls", "-p", ...; NULL: none */
	char val[2][256];
	const char *why;
	bool needs_login;	/* the change is about the login itself */
};

struct ff_try {
	struct ff_change ch;
	char *change;		/* "--tls implicit": the option(s) changed */
	char *why;		/* why this was worth trying */
	char *outcome;		/* "works", "gets past tls, then auth.failed",
				 * or the first error's id */
	bool works;
	struct session *s;	/* kept while the report is made */
};

struct findfix {
	struct ff_try v[FF_MAX];
	int n;
	int best;		/* index of the first try that works, -1 */
	char *command;		/* the fixed command line, or NULL */
	char *note;		/* what could not be tried, or NULL */
};

/*
 * argv/argc: the command line as given (the fixed command is built from
 * it, --find-fix, --json and --batch left out).  base: the settings the
 * failed session ran with; failed: that session, finished.
 */
void findfix_run(const struct config *base, const struct session *failed,
		 int argc, char **argv, struct findfix *ff);
void findfix_free(struct findfix *ff);

/* The report: each try, the fix as a command line, and the transcript
 * lines that differ between the failure and the fix. */
void findfix_text(FILE *out, const struct findfix *ff,
		  const struct session *failed, bool color);
/* Apply change ch to c (what each try ran with, and the TUI's `a`). */
void findfix_apply(struct config *c, const struct ff_change *ch);

/*
 * Find-fix in a child process, for a front end that must not block: the
 * child runs findfix_run() and writes findfix_encode()'s text to the
 * pipe whose read end is returned (close-on-exec), then exits; *pid is
 * the child (kill it to abandon, then waitpid it).  -1 with err when no
 * child could be made.
 */
int findfix_spawn(const struct config *base, const struct session *failed,
		  int argc, char **argv, int *pid, char *err, size_t errlen);
/* The result as lines of text (tries, the best, the command, the note,
 * the transcript lines that differ), and back.  Decoding fills ff (the
 * tries have no sessions) and the diff lines, "- S: ..." / "+ C: ..."
 * (*diff: new strings, free each and the array).  Returns 0, -1 on text
 * that is not a whole result. */
void findfix_encode(struct buf *b, const struct findfix *ff,
		    const struct session *failed);
int findfix_decode(const char *text, struct findfix *ff, char ***diff,
		   int *ndiff);

/* ,"find_fix":{...} for the JSON report (appended to b). */
struct buf;
void findfix_json(struct buf *b, const struct findfix *ff);

#endif

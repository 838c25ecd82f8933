/*
 * run.h - drive one session to its end, blocking (for --batch, --json and
 * --find-fix; the TUI drives sessions from its own loop).
 */
#ifndef SMTPDX_RUN_H
#define SMTPDX_RUN_H

#include "session.h"

/* Run s to its end; on_line (may be NULL) sees each transcript line as it
 * arrives. */
void session_run(struct session *s,
		 void (*on_line)(const struct tr_line *l, void *arg), void *arg);

#endif

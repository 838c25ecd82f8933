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

/*
 * The same, and when the session cannot reach its port (refused, no
 * answer to the connect, no greeting), the other submission ports of the
 * host (587, 465, 2525 and the provider's own) are probed in parallel:
 * from a connect that is still pending after a second, or right after a
 * refusal.  The failure's fix then says which port works from here, with
 * the option to use.  cfg: the session's settings (no alternatives for
 * the lab, --mx or a probe).
 */
void session_run_alt(struct session *s, const struct config *cfg,
		     void (*on_line)(const struct tr_line *l, void *arg),
		     void *arg);

#endif

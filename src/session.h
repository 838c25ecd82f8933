/*
 * session.h - one SMTP session as a non-blocking state machine.
 *
 * The caller owns the loop:
 *
 *	struct session *s = session_new(&cfg);
 *	session_go(s, RUN_ALL);			// or RUN_STEP, once per step
 *	while (session_busy(s)) {
 *		struct pollfd p; double deadline;
 *		session_wait(s, &p, &deadline);
 *		poll(&p, p.fd >= 0, ms_until(deadline));
 *		session_handle(s, p.revents);	// 0 revents: deadline check
 *	}
 *
 * session_handle() never blocks; it does what the readiness allows, may
 * finish a step, and in RUN_ALL mode starts the next at once.  Every event
 * lands in the transcript.  When the last step is done (or a failure ends
 * the session) the decision tree runs and session_finished() is true.
 *
 * The fields of struct session below the line are read-only for callers
 * (the TUI and the reports read them directly); they change only inside
 * session_go/handle/cancel/raw.
 */
#ifndef SMTPDX_SESSION_H
#define SMTPDX_SESSION_H

#include <poll.h>
#include <stdbool.h>

#include "config.h"
#include "diag.h"
#include "net.h"
#include "reply.h"
#include "steps.h"
#include "tls.h"
#include "transcript.h"

enum run_mode { RUN_STEP, RUN_ALL };

struct session_priv;

struct session {
	struct session_priv *p;		/* the machinery; not for callers */
	/* ---- read-only for callers ---- */
	struct config cfg;		/* a copy; the password is wiped after AUTH */
	struct transcript tr;
	enum step_status status[STEP_COUNT];
	double seconds[STEP_COUNT];	/* time each step took */
	int cur;			/* step under way or last one, -1 none */
	bool started, finished;
	enum tls_mode tls_mode;		/* resolved: never TLSM_AUTO */
	char address[64];		/* the address connected to, "" none */
	int port;
	bool encrypted;			/* TLS is up */
	struct tls_info tls;
	struct caps caps;		/* the latest EHLO's */
	char auth_mech[32];		/* mechanism used, "" none */
	bool authenticated;
	struct diag_list diags;
	struct facts facts;
	double t_end;			/* seconds since start at the finish */
	struct {			/* how the message went (issue 15) */
		const char *method;	/* "DATA", "BDAT", NULL: not sent */
		int chunks;		/* BDAT commands sent */
		size_t bytes;		/* message octets (before dot-stuffing) */
		bool dsn_sent;		/* DSN parameters went on MAIL/RCPT */
		bool requiretls_sent;
	} sent;
};

/* A new session for cfg (copied).  Nothing happens until session_go(). */
struct session *session_new(const struct config *cfg);
void session_free(struct session *s);	/* closes, wipes secrets */

/* RUN_STEP: run the next step and stop after it.  RUN_ALL: run to the
 * end.  While a step is under way, RUN_ALL switches the mode; RUN_STEP
 * does nothing. */
void session_go(struct session *s, enum run_mode m);
bool session_busy(const struct session *s);	/* a step is under way */
bool session_can_step(const struct session *s);	/* idle, not finished */
/* The step session_go() would run next, or -1. */
int session_next_step(const struct session *s);
/* Fills out with all STEP_COUNT steps: first those this session's TLS
 * mode runs, in the order it runs them (implicit TLS does the handshake
 * before the greeting), then the others in contract order.  Returns how
 * many of them the mode runs (AUTH or DATA may still be skipped). */
int session_step_order(const struct session *s, int out[STEP_COUNT]);
/* The envelope sender MAIL FROM will name (--from; else the user when it
 * is an address; else smtpdx@ the EHLO name).  Owned by s. */
const char *session_sender(const struct session *s);

/* What to wait for: p->fd (-1: nothing) and p->events; *deadline is the
 * monotonic time (now_mono()) by which session_handle() must be called. */
void session_wait(struct session *s, struct pollfd *p, double *deadline);
void session_handle(struct session *s, short revents);
/* When the current step started (now_mono() time), for elapsed display. */
double session_step_started(const struct session *s);

/* Esc: stop the step under way; the session ends (session.cancelled). */
void session_cancel(struct session *s);

/*
 * Send a command the user typed into the live session (the TUI's ':').
 * Returns 0, or -1 with a reason in err (not connected, a step is under
 * way, or a command the raw line does not take: STARTTLS, AUTH, DATA,
 * BDAT belong to their steps).  The reply arrives through the loop; it is
 * recorded in the transcript like any other.
 */
int session_raw(struct session *s, const char *line, char *err, size_t errlen);
/* 1 while a raw command waits for its reply. */
bool session_raw_pending(const struct session *s);

/* Exit status per CONTRACT.md: 0 no error diagnosis, 1 an error. */
int session_exit_status(const struct session *s);

/* The session's 220 greeting line (safe text), or NULL. */
const char *session_greeting(const struct session *s);
/* The provider the session talked to (provider_recognise()), or NULL:
 * never from a greeting a middlebox wrote. */
struct provider;
const struct provider *session_provider(const struct session *s);

#endif

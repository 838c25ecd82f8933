/*
 * sweep.h - the port advisor: probe several ports of one host at once and
 * recommend one (CONTRACT.md: --sweep, --ports, "sweep", "recommendation").
 *
 * Each port gets probe sessions (struct config.probe: EHLO, STARTTLS or
 * implicit TLS, EHLO again, QUIT; never AUTH, never mail).  All of them
 * run at the same time on the engine's non-blocking state machine, so a
 * sweep takes about as long as its slowest port, and a port that drops
 * packets costs one timeout in total.
 *
 * How a port is classified, with one wait at most:
 *
 *   1. A session in implicit-TLS mode connects and sends a TLS ClientHello
 *      at once.  If the handshake works, the port speaks "tls" and that
 *      session is the port's probe.
 *   2. If the peer answered the ClientHello with plaintext (the engine's
 *      FK_TLS_NOT_TLS, with the bytes in the transcript), those bytes
 *      decide: an SMTP reply line ("220 mx ESMTP") means "smtp", and a
 *      second session in STARTTLS mode starts at once on the same port;
 *      anything else (an HTTP status line...) means "other".  A server
 *      that hangs up on the ClientHello without a word gets the STARTTLS
 *      session too, as a second chance.
 *   3. Refused, unreachable, or silent until the timeout: "nothing".
 *
 * An SMTP server speaks first, so its greeting is already on the wire
 * when our ClientHello arrives: telling the two apart costs no extra
 * wait.  Each port's "how" lines say how its verdict was reached.
 *
 * The caller owns the loop, as with a session:
 *
 *	struct sweep *w = sweep_new(&cfg, ports, nports, SWEEP_SUBMISSION);
 *	sweep_start(w);
 *	while (!sweep_done(w)) {
 *		struct pollfd pfd[SWEEP_MAX_PORTS];
 *		double deadline;
 *		int n = sweep_pollfds(w, pfd, SWEEP_MAX_PORTS, &deadline);
 *		poll(pfd, n, ms_until(deadline));	// deadline < 0: none
 *		sweep_handle(w, pfd, n);
 *	}
 *	const struct sweep_advice *a = sweep_advice(w);
 *	sweep_free(w);
 *
 * A TUI adds its own descriptors (the keyboard) in front and passes the
 * rest of its array: sweep_pollfds(w, pfd + 1, max - 1, &dl), then
 * sweep_handle(w, pfd + 1, n) with the same slice after poll().  Slot i
 * always belongs to port i (fd -1 when that port waits on nothing; poll()
 * skips those), so the array must be the one sweep_pollfds() filled in
 * the same round.  sweep_handle() never blocks; it may be called with no
 * revents at all (a redraw tick): it then only checks deadlines.
 *
 * sweep_run() is the same loop, blocking, for --batch and --json.
 *
 * Ownership: the sweep copies the config; everything it returns (ports,
 * sessions, advice, strings) belongs to it and lives until sweep_free().
 * struct sweep_port fields change only inside sweep_start/handle; a TUI
 * may read them between calls to draw progress (state, speaks, seconds).
 * Nothing here draws or prints.
 */
#ifndef SMTPDX_SWEEP_H
#define SMTPDX_SWEEP_H

#include <poll.h>
#include <stdbool.h>

#include "config.h"
#include "diag.h"
#include "session.h"

#define SWEEP_MAX_PORTS 16
#define SWEEP_DEFAULT_PORTS "587,465,2525,25"

/* What a port speaks (CONTRACT.md "speaks"). */
enum sweep_speaks {
	SPK_UNKNOWN,		/* not decided yet */
	SPK_SMTP,		/* a plaintext SMTP greeting */
	SPK_TLS,		/* TLS on connect (implicit TLS) */
	SPK_OTHER,		/* something that is not SMTP */
	SPK_NOTHING		/* no connection, or no word before the timeout */
};
const char *sweep_speaks_name(enum sweep_speaks s);	/* "smtp", ... */

/* Where a port's probing stands. */
enum sweep_state {
	SWS_WAITING,		/* sweep_start() not called yet */
	SWS_IMPLICIT,		/* the implicit-TLS session is under way */
	SWS_STARTTLS,		/* plaintext SMTP seen: the STARTTLS session */
	SWS_DONE
};

/* What the advice is for: the policy table has rows for each. */
enum sweep_purpose {
	SWEEP_SUBMISSION,	/* a mail client sending with AUTH (default) */
	SWEEP_RELAY		/* server-to-server delivery to an MX (--mx) */
};

/* How the network treated a port, before any SMTP. */
enum sweep_reach {
	REACH_ANSWERED,		/* something answered (SMTP, TLS or other) */
	REACH_REFUSED,		/* RST to the SYN: nothing listens there */
	REACH_FILTERED,		/* no answer at all: dropped on the way */
	REACH_RESET,		/* connected, then reset before a word */
	REACH_UNREACHABLE,	/* no route (ICMP unreachable) */
	REACH_INTERCEPTED	/* answered, by a middlebox in the server's
				 * place (net.middlebox_banner, tls.intercepted) */
};
const char *sweep_reach_name(enum sweep_reach r);	/* "filtered", ... */

struct sweep_port {
	int port;
	int played_by;		/* the lab's mail host: the loopback port that
				 * plays this one (config.portmap); 0 outside */
	enum sweep_reach reach;	/* how the network treated it */
	enum sweep_state state;
	enum sweep_speaks speaks;
	bool ok;		/* the probe reached QUIT with no error */
	bool usable;		/* ok, encrypted, certificate verified, and
				 * (for submission) AUTH offered inside TLS */
	enum tls_mode mode;	/* TLSM_IMPLICIT or TLSM_STARTTLS: the mode
				 * to use it with; TLSM_NONE if neither */
	bool intercepted;	/* a middlebox answered: never recommended */
	bool mode_mismatch;	/* the number says one TLS mode, the port
				 * speaks the other (implicit TLS on 587...) */
	char *greeting;		/* first greeting line, safe text, or NULL */
	bool starttls_offered;	/* in the plaintext EHLO */
	bool starttls_ok;	/* ... and the upgrade worked */
	bool encrypted;		/* a TLS handshake completed */
	char *auth;		/* mechanisms offered inside TLS, "PLAIN LOGIN";
				 * NULL: none or never encrypted */
	bool auth_before_tls;	/* AUTH offered in plaintext */
	double seconds;		/* wall time from sweep start to verdict */
	char **how;		/* lines: how the verdict was reached */
	int nhow;
	struct diag_list diags;	/* the probe's diagnoses (see sweep.c) */
	/* the sessions: implicit is the first probe, starttls the second
	 * (NULL if not needed); probe is the one the report stands on */
	struct session *implicit, *starttls, *probe;
};

/* The recommendation (CONTRACT.md "recommendation"). */
struct sweep_advice {
	int port;		/* 0: no port can be recommended */
	enum tls_mode mode;	/* TLSM_IMPLICIT or TLSM_STARTTLS */
	const char *rule;	/* id of the policy row that chose it, or NULL */
	char *why;		/* words: why this port, what is wrong with the
				 * others; always set once the sweep is done */
	const char *network;	/* id of the network pattern recognised
				 * ("25-filtered", ...), or NULL */
	char *network_why;	/* what it means, with sources, or NULL */
};

struct sweep;

/* A sweep of ports[0..nports) on base->host (copied; base->port and
 * base->tls are ignored, base->user is never used).  nports is at most
 * SWEEP_MAX_PORTS. */
struct sweep *sweep_new(const struct config *base, const int *ports,
			int nports, enum sweep_purpose purpose);
void sweep_free(struct sweep *w);

/* Start every port's first probe.  Call once. */
void sweep_start(struct sweep *w);

/* Fill pfd[0..n) (n = the number of ports; pfd[i] is port i's) and the
 * earliest deadline (now_mono() time; -1 none).  Returns n, or -1 if max
 * is too small. */
int sweep_pollfds(struct sweep *w, struct pollfd *pfd, int max,
		  double *deadline);
/* After poll(): let every port act on its revents and its deadline. */
void sweep_handle(struct sweep *w, const struct pollfd *pfd, int n);
bool sweep_done(const struct sweep *w);
/* True when no port answered at all (each speaks "nothing"): with --mx,
 * the sign to move on to the next MX host. */
bool sweep_none_answered(const struct sweep *w);

/* Start, then loop until done (blocking). */
void sweep_run(struct sweep *w);

const struct sweep_port *sweep_ports(const struct sweep *w, int *n);
/* The advice; NULL until the sweep is done. */
const struct sweep_advice *sweep_advice(const struct sweep *w);
const char *sweep_host(const struct sweep *w);
double sweep_seconds(const struct sweep *w);	/* wall time so far / total */
double sweep_timeout(const struct sweep *w);

/* Parse "587,465,2525,25" into ports (at most max, no duplicates).
 * Returns the count, or -1 with a message in err. */
int sweep_parse_ports(const char *list, int *ports, int max, char *err,
		      size_t errlen);

/* Exit status per CONTRACT.md: 0 a port is recommended, 1 none. */
int sweep_exit_status(const struct sweep *w);

#endif

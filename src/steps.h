/*
 * steps.h - the steps of an SMTP session, in order.
 *
 * One X-macro list gives the enum and the names used in the JSON report
 * (CONTRACT.md: "Step names, in order").  Add a step by adding a line.
 */
#ifndef SMTPDX_STEPS_H
#define SMTPDX_STEPS_H

#define STEP_LIST(X) \
	X(RESOLVE,  "resolve",  "Resolve the host name") \
	X(CONNECT,  "connect",  "Open a TCP connection") \
	X(GREETING, "greeting", "Wait for the server's greeting") \
	X(EHLO,     "ehlo",     "Introduce ourselves (EHLO)") \
	X(STARTTLS, "starttls", "Ask to upgrade to TLS (STARTTLS)") \
	X(TLS,      "tls",      "TLS handshake and certificate check") \
	X(EHLO_TLS, "ehlo_tls", "EHLO again inside TLS") \
	X(AUTH,     "auth",     "Authenticate (AUTH)") \
	X(MAIL,     "mail",     "Name the sender (MAIL FROM)") \
	X(RCPT,     "rcpt",     "Name the recipients (RCPT TO)") \
	X(DATA,     "data",     "Send the test message (DATA)") \
	X(QUIT,     "quit",     "Say goodbye (QUIT)")

enum step {
#define X(sym, name, title) STEP_##sym,
	STEP_LIST(X)
#undef X
	STEP_COUNT
};

enum step_status {
	SS_PENDING,	/* not reached yet */
	SS_RUNNING,	/* under way */
	SS_OK,
	SS_WARN,	/* done, with a warning diagnosis */
	SS_FAIL,
	SS_SKIPPED	/* not needed in this session (e.g. AUTH without -u) */
};

const char *step_name(enum step s);		/* "ehlo_tls" */
const char *step_title(enum step s);		/* "EHLO again inside TLS" */
const char *step_status_name(enum step_status st);	/* "ok", "fail"... */
int step_from_name(const char *name);		/* -1 if unknown */

#endif

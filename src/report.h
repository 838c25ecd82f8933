/*
 * report.h - the session as text (--batch, saved transcripts) and as the
 * JSON report of CONTRACT.md (--json).
 *
 * All text printed comes from the transcript and the diagnoses, which hold
 * safe text only; colour (ANSI SGR) is added here and only when asked.
 */
#ifndef SMTPDX_REPORT_H
#define SMTPDX_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "mx.h"
#include "session.h"
#include "sweep.h"

/* One transcript line in swaks' notation: " -> " client, "<-  " server,
 * " ~> " / "<~  " inside TLS, "=== " information. */
void report_line(FILE *out, const struct tr_line *l, bool color);
/* One diagnosis: title and id, evidence, what, fix, RFC, and with path
 * the decision path that led to it. */
void report_diagnosis(FILE *out, const struct diagnosis *d, bool color,
		      bool path);
/* The steps with their times, then each diagnosis with its path. */
void report_summary(FILE *out, const struct session *s, bool color);
/* A JSON array of the diagnoses in l, appended to b. */
struct buf;
void report_json_diags(struct buf *b, const struct diag_list *l);
/* A transcript as the JSON array of CONTRACT.md, appended to b. */
void report_json_transcript(struct buf *b, const struct transcript *tr);
/* The whole JSON report; new string. */
char *report_json(const struct session *s);
/* Word-wrap text to width columns with an indent on continuation lines. */
void report_wrap(FILE *out, const char *text, int indent, int width);

/*
 * --mx and --sweep.  What a report adds to the session's own: the MX
 * lookup and what happened with each MX tried, diagnoses that belong to no
 * session (dns.no_mx), and a result decided elsewhere.  All pointers are
 * borrowed; NULL / 0 means "nothing to add".
 */
struct mx_try {
	char host[256];			/* the MX host's name */
	char address[64];		/* the address tried, "" none */
	char outcome[64];		/* "answered", or the diagnosis id */
};

struct report_extra {
	const struct mx_result *mx;	/* --mx: the lookup */
	const struct mx_try *tries;	/* in the order tried */
	int ntries;
	int used;			/* index into tries of the result, -1 */
	const struct diag_list *diags;	/* added after the session's */
};

/* report_json() with the extra fields: "mx" (domain, status, hosts with
 * preference and addresses, tried, used) and extra diagnoses. */
char *report_json_ex(const struct session *s, const struct report_extra *x);
/* The MX list as information lines ("=== "), for --batch. */
void report_mx_text(FILE *out, const struct mx_result *mx, bool color);

/*
 * The sweep as text: a row per port (mark ok / ! / x, what it speaks,
 * TLS version and certificate verdict, AUTH offered inside TLS, time),
 * the recommendation, then per port how it was classified and its
 * diagnoses (title, evidence, fix).
 */
void report_sweep_text(FILE *out, const struct sweep *w, bool color);
/*
 * The sweep as the JSON report: "target", "result", "steps",
 * "transcript" and "tls" of the recommended port's probe (or of the first
 * port when none is recommended), "diagnoses" (the recommended port's, or
 * every port's when none is), "sweep" (one object a port, with its own
 * transcript and "how"), "recommendation", and x's fields.
 */
char *report_sweep_json(const struct sweep *w, const struct report_extra *x);

#endif

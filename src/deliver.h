/*
 * deliver.h - deliverability checks for a sending domain (--deliverability).
 *
 * The checklist every mail guide ends with, done from DNS: SPF (RFC 7208),
 * DMARC (RFC 7489), MTA-STS (RFC 8461, the policy fetched over HTTPS with
 * certificate verification), TLS-RPT (RFC 8460), and reverse DNS of the
 * domain's MX hosts (and of the relay's address when known).  Each check
 * has a status, the raw record, a verdict in words, why it matters, and
 * its diagnoses (spf.missing, dmarc.monitor_only, ...) whose fix is the
 * record to publish.
 *
 * deliver_run() blocks (DNS, one HTTPS fetch), each network wait bounded
 * by o->timeout.  Every string in the report is safe text.
 */
#ifndef SMTPDX_DELIVER_H
#define SMTPDX_DELIVER_H

#include <stdbool.h>
#include <stdio.h>

#include "diag.h"

enum dstatus { DS_OK, DS_WARN, DS_FAIL };

struct dcheck {
	const char *check;	/* "spf", "dmarc", "mta-sts", "tls-rpt", "mx",
				 * "rdns" */
	enum dstatus status;
	char *record;		/* the raw record(s), "" none */
	char *verdict;		/* what was found, one sentence or two */
	const char *why;	/* why the check matters */
	char *publish;		/* the fix as DNS records to publish, zone-
				 * file lines ('\n' between), safe text;
				 * NULL: nothing to publish */
	struct diag_list diags;
};

#define DELIVER_MAX 10

struct deliver_report {
	char domain[256];	/* safe text */
	struct dcheck v[DELIVER_MAX];
	int n;
};

struct deliver_opts {
	const char *cafile;	/* trust anchors for the MTA-STS fetch */
	double timeout;		/* seconds for each network wait */
	const char *sending_ip;	/* the relay's address, or NULL */
	const char *dkim_selector;	/* --dkim-selector, or NULL */
	int https_port;		/* 443; tests use others */
	int smtp_port;		/* 25 for the DANE check */
	/* Called before each check with its name ("spf", ...; a static
	 * string), on the thread that runs deliver_run.  NULL: none. */
	void (*progress)(void *ctx, const char *check);
	void *progress_ctx;
};

void deliver_run(const char *domain, const struct deliver_opts *o,
		 struct deliver_report *r);
void deliver_free(struct deliver_report *r);
const char *dstatus_name(enum dstatus s);
/* Is s a domain name to check (letters, digits, dots, hyphens,
 * underscores; at most 253; not starting with a dot or hyphen)?  And a
 * DKIM selector (at most 63 of the same)?  One rule for the command line
 * and the TUI's field. */
bool deliver_domain_ok(const char *s);
bool deliver_selector_ok(const char *s);	/* "ok", "warn", "fail" */
/* Exit status: 1 if a check failed, else 0. */
int deliver_exit_status(const struct deliver_report *r);

/*
 * The same run on a thread of its own, for a front end that must keep
 * answering keys (the TUI's deliverability screen): deliver_start()
 * copies domain and the strings of o and returns at once.  The job's
 * descriptor becomes readable when a check starts and when the run ends;
 * then deliver_job_poll() reads it and says how far the run is.  Once it
 * says done, deliver_job_take() moves the report to the caller and frees
 * the job.  deliver_job_abandon(): the caller no longer wants it (the
 * thread finishes alone, the last one to let go frees).
 */
struct deliver_job;
struct deliver_job *deliver_start(const char *domain,
				  const struct deliver_opts *o);
int deliver_job_fd(const struct deliver_job *j);
/* Drain the descriptor; true when the run is over.  *current: the check
 * under way ("" before the first), *done: how many checks have ended. */
bool deliver_job_poll(struct deliver_job *j, const char **current, int *done);
/* The checks so far: the first `done` (of the last poll) may be read
 * while the run goes on; the thread never touches them again. */
const struct dcheck *deliver_job_checks(const struct deliver_job *j);
/* Seconds since deliver_start(). */
double deliver_job_seconds(const struct deliver_job *j);
/* Only after deliver_job_poll() said done. */
void deliver_job_take(struct deliver_job *j, struct deliver_report *r);
void deliver_job_abandon(struct deliver_job *j);

void deliver_text(FILE *out, const struct deliver_report *r, bool color);
char *deliver_json(const struct deliver_report *r);	/* new string */

/* SPF, for tests: count the DNS-querying terms of record (and of the
 * records it includes, recursively, through DNS); returns the count,
 * and *voids the lookups that found nothing. */
int spf_count_lookups(const char *record, int *voids, int depth);

#endif

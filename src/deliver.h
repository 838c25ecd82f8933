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
};

void deliver_run(const char *domain, const struct deliver_opts *o,
		 struct deliver_report *r);
void deliver_free(struct deliver_report *r);
const char *dstatus_name(enum dstatus s);	/* "ok", "warn", "fail" */
/* Exit status: 1 if a check failed, else 0. */
int deliver_exit_status(const struct deliver_report *r);

void deliver_text(FILE *out, const struct deliver_report *r, bool color);
char *deliver_json(const struct deliver_report *r);	/* new string */

/* SPF, for tests: count the DNS-querying terms of record (and of the
 * records it includes, recursively, through DNS); returns the count,
 * and *voids the lookups that found nothing. */
int spf_count_lookups(const char *record, int *voids, int depth);

#endif

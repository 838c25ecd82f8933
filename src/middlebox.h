/*
 * middlebox.h - did something on the path answer in the server's place?
 *
 * A firewall's SMTP inspection (Cisco ASA/PIX: a greeting masked with
 * asterisks, STARTTLS masked to XXXXXXXA, commands turned into XXXX), an
 * antivirus or security suite's mail proxy, or a TLS-intercepting proxy
 * whose certificate is issued by an inspection product.  The marks are
 * data (middlebox.def), each with its source.
 *
 * Only strong marks make a diagnosis; a product that may just as well be
 * the destination's own gateway (a Sophos UTM, a FortiMail, a Barracuda)
 * is a note, unless the host belongs to a provider of the table, which
 * runs none of them.  A greeting that merely names another host is no
 * mark at all: many real servers greet with an internal name.
 * Nothing here does I/O.
 */
#ifndef SMTPDX_MIDDLEBOX_H
#define SMTPDX_MIDDLEBOX_H

#include <stdbool.h>
#include <stddef.h>

#include "tls.h"
#include "transcript.h"

enum mb_where { MBW_GREETING, MBW_EHLO, MBW_ERROR, MBW_ISSUER };
enum mb_weight { MBS_STRONG, MBS_GATEWAY };

struct mb_entry {
	enum mb_where where;
	enum mb_weight weight;
	const char *product, *words, *source;
};

const struct mb_entry *middlebox_table(size_t *n);

/* What one kind of mark (the banner, or the certificate) showed. */
struct mb_seen {
	bool strong;		/* a diagnosis */
	bool note;		/* weaker evidence: a note, never an error */
	const char *product;	/* "a Cisco ASA/PIX firewall ..." */
	const char *source;
	char evidence[400];	/* the line or the issuer, safe text */
};

/* Does text hold a mark of where (at a word start, any case)? */
const struct mb_entry *middlebox_match(enum mb_where where, const char *text);

/*
 * Look at a session: its greeting, its EHLO replies and error replies
 * (banner) and the issuers of the chain the server sent (cert).
 * provider_host: the host name belongs to a provider of the table.
 */
void middlebox_check(const struct transcript *tr, const struct tls_info *tls,
		     bool provider_host, struct mb_seen *banner,
		     struct mb_seen *cert);

#endif

/*
 * provider.h - what smtpdx knows of mail providers, as data.
 *
 * One table (provider.c) of the submission endpoints of well-known
 * providers: host, each port with its TLS mode, the ports they document
 * as not offered, how they want the login, and where each fact comes
 * from (the keys of ../shared/PROVIDERS.md, with the page behind them in
 * the table's comments).  Facts we could not confirm are marked in the
 * notes ("unconfirmed"), never presented as certain.
 *
 * Used three ways: --provider NAME presets host, port and TLS mode;
 * --provider list prints the table; and a session whose host belongs to a
 * provider gets the provider's own rules added to the fix of its
 * diagnoses ("Postmark does not offer 465; use 587 or 2525").
 * Nothing here does I/O.
 */
#ifndef SMTPDX_PROVIDER_H
#define SMTPDX_PROVIDER_H

#include <stddef.h>
#include <stdio.h>
#include "config.h"
#include "diag.h"

#define PROVIDER_MAX_PORTS 6

struct provider_port {
	int port;
	enum tls_mode mode;	/* TLSM_STARTTLS or TLSM_IMPLICIT */
};

struct provider {
	const char *name;	/* "postmark": what --provider takes */
	const char *title;	/* "Postmark" */
	const char *host;	/* the submission host --provider presets */
	const char *hosts;	/* "a|b|.suffix": names recognised as this
				 * provider; a leading '.' matches any
				 * subdomain */
	struct provider_port ports[PROVIDER_MAX_PORTS];	/* preferred first */
	const char *not_offered;	/* "465: why", or NULL */
	const char *login;	/* how the provider wants user and password */
	const char *notes;	/* dated policy, limits; short */
	const char *sources;	/* PROVIDERS.md keys */
};

/* The table, in --provider list order. */
const struct provider *provider_table(size_t *n);
const struct provider *provider_find(const char *name);	/* NULL: unknown */
/* The provider a host name belongs to, or NULL. */
const struct provider *provider_by_host(const char *host);
/*
 * The provider a session talked to, recognised from the host name, then
 * the server name (the MX host with --mx), then the names and words of
 * the greeting and the EHLO name (aspmx.l.google.com, "... - gsmtp",
 * *.mail.protection.outlook.com, email-smtp.<region>.amazonaws.com), each
 * sign with its source.  Any may be NULL.  how (may be NULL) gets which
 * of them told ("the greeting"), or NULL when none did.
 */
const struct provider *provider_recognise(const char *host,
					  const char *servername,
					  const char *greeting,
					  const char *ehlo_name,
					  const char **how);
/*
 * Does a 220 greeting carry the marks p puts in its greetings (Gmail's
 * "gsmtp", a name of its own)?  1 yes, 0 no, -1 cannot tell (p has no
 * marks on record, or greeting is not a 220).
 */
int provider_greets_as(const struct provider *p, const char *greeting);

/* "587/starttls,465/implicit": its ports for --provider list. */
void provider_ports_str(const struct provider *p, char *buf, size_t len);
/* The TLS mode the provider documents for port, or TLSM_AUTO if the port
 * is not one of its. */
enum tls_mode provider_port_mode(const struct provider *p, int port);

/* The submission ports worth trying instead of failed_port on host: the
 * provider's own (its fallbacks too) and 587, 465, 2525; never 25, never
 * failed_port.  Returns how many (at most max). */
int provider_alt_ports(const char *host, int failed_port, int *ports, int max);

/* Print the table for --provider list: one name<TAB>host<TAB>ports<TAB>
 * notes line per provider (CONTRACT.md). */
void provider_list(FILE *out);

/*
 * Add the provider's own rules to the fixes of the diagnoses in l: the
 * ports it offers instead of one that failed to connect or answer, the
 * form of its login after a failed AUTH.  port and mode are those of the
 * session.  Does nothing when p is NULL.
 */
void provider_annotate(struct diag_list *l, const struct provider *p, int port,
		       enum tls_mode mode);

#endif

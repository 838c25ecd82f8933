/*
 * mx.h - a mail domain's MX hosts, through the C library's resolver.
 *
 * mx_lookup() asks DNS for the domain's MX records (res_nquery, parsed
 * with ns_initparse/ns_parserr: no DNS parser of our own), sorts them by
 * preference (ties by name, so runs are repeatable; RFC 5321 §5.1 allows
 * any order among equals), and looks up each host's A and AAAA records
 * the same way (the hosts file as a fallback, through getaddrinfo).
 *
 *   - no MX record: the domain itself is the one host (the "implicit MX"
 *     of RFC 5321 §5.1), and status MX_IMPLICIT;
 *   - a null MX ("MX 0 .", RFC 7505): status MX_NULL, no hosts;
 *   - the domain does not exist, or DNS fails: MX_NOT_FOUND, MX_FAILURE
 *     with words in err.
 *
 * The resolver is the system's (/etc/resolv.conf; inside a network
 * namespace, `ip netns exec` mounts /etc/netns/NAME/resolv.conf there).
 * SMTPDX_RESOLV_CONF=FILE in the environment names another file in
 * resolv.conf syntax whose "nameserver" lines replace the system's; an
 * IPv4 server may carry a port as "nameserver 127.0.0.1#5353" (for tests
 * against a DNS server on an unprivileged port).
 *
 * mx_lookup() blocks for as long as the resolver takes (its own timeout
 * and attempts, from resolv.conf); call it before a session starts.
 * Everything in struct mx_result is safe text (host names as DNS gave
 * them, escaped).  Nothing here prints.
 */
#ifndef SMTPDX_MX_H
#define SMTPDX_MX_H

#include <stddef.h>

#include "config.h"

#define MX_MAX_HOSTS 16
#define MX_MAX_ADDRS 8

enum mx_status {
	MX_FOUND,		/* MX records, hosts sorted by preference */
	MX_IMPLICIT,		/* no MX: the domain is its own mail host */
	MX_NULL,		/* "MX 0 .": the domain takes no mail */
	MX_NOT_FOUND,		/* the domain does not exist (NXDOMAIN) */
	MX_FAILURE		/* the lookup failed (SERVFAIL, no answer...) */
};

struct mx_host {
	char name[256];			/* "mx1.example.com", no final dot */
	int pref;			/* preference; 0 for the implicit MX */
	char addrs[MX_MAX_ADDRS][64];	/* "192.0.2.1", "2001:db8::1" */
	int naddr;			/* 0: the name has no address */
};

struct mx_result {
	enum mx_status status;
	char domain[256];
	struct mx_host hosts[MX_MAX_HOSTS];
	int n;
	char err[320];			/* words for MX_NOT_FOUND / MX_FAILURE */
};

/* Look up domain's mail hosts (family: addresses to keep).  Returns 0
 * when there is at least one host to try (MX_FOUND, MX_IMPLICIT), -1
 * otherwise (r->status says why). */
int mx_lookup(const char *domain, enum family fam, struct mx_result *r);

const char *mx_status_name(enum mx_status s);	/* "found", "implicit", ... */

#endif

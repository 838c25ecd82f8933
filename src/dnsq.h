/*
 * dnsq.h - small DNS questions through the C library's resolver.
 *
 * res_nquery + ns_initparse/ns_parserr, as mx.c does for MX: no DNS
 * parser of our own.  The resolver is the system's; SMTPDX_RESOLV_CONF
 * names another file of "nameserver ADDR[#PORT]" lines (see mx.h).
 *
 * Every call blocks for as long as the resolver takes (its own timeout
 * and attempts).  Strings handed back are heap copies of what DNS said,
 * NOT escaped: callers escape before showing them.
 */
#ifndef SMTPDX_DNSQ_H
#define SMTPDX_DNSQ_H

#include <resolv.h>
#include <stdbool.h>
#include <stddef.h>

enum dnsq_status {
	DQ_OK,		/* answers (n may still be 0 for a type filter) */
	DQ_NODATA,	/* the name exists, no record of that type */
	DQ_NXDOMAIN,	/* the name does not exist */
	DQ_FAIL		/* SERVFAIL, timeout, refused, unparsable */
};

struct dnsq_answer {
	enum dnsq_status status;
	char **v;		/* one string per record */
	size_t n;
	bool ad;		/* the resolver set the AD bit (DNSSEC) */
};

/* Replace st's servers by SMTPDX_RESOLV_CONF's, if set.  -1 with err if
 * the variable names an unusable file. */
int dnsq_override_servers(res_state st, char *err, size_t errlen);

/* TXT records of name; each record's strings joined (RFC 7208 §3.3). */
void dnsq_txt(const char *name, struct dnsq_answer *a);
/* A and AAAA records of name, as text addresses. */
void dnsq_addrs(const char *name, struct dnsq_answer *a);
/* PTR of an address ("192.0.2.1" or "2001:db8::1"), names without the
 * final dot. */
void dnsq_ptr(const char *addr, struct dnsq_answer *a);
/* MX targets of name, "PREF NAME" each. */
void dnsq_mx(const char *name, struct dnsq_answer *a);
/* TLSA records of name ("_25._tcp.mx.example.com"): "U S M HEX" each. */
void dnsq_tlsa(const char *name, struct dnsq_answer *a);

void dnsq_free(struct dnsq_answer *a);
const char *dnsq_status_words(enum dnsq_status s);

#endif

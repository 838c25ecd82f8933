/* mx.c - MX lookup with libresolv (res_nquery + ns_parserr). */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "addr.h"
#include "dnsq.h"
#include "mx.h"
#include "util.h"

const char *
mx_status_name(enum mx_status s)
{
	switch (s) {
	case MX_FOUND: return "found";
	case MX_IMPLICIT: return "implicit";
	case MX_NULL: return "null";
	case MX_NOT_FOUND: return "not_found";
	default: return "failure";
	}
}

/* Copy a DNS name into safe text (DNS names may hold any byte). */
static void
safe_name(char *dst, size_t n, const char *name)
{
	char *v = vis_escape(name, strlen(name));
	snprintf(dst, n, "%s", v);
	free(v);
}

/* A and AAAA of name through the same resolver; the hosts file (via
 * getaddrinfo) if DNS has none. */
static void
host_addresses(res_state st, struct mx_host *h, const char *name, enum family fam)
{
	static const struct { ns_type type; int af; } q[] = {
		{ ns_t_aaaa, AF_INET6 }, { ns_t_a, AF_INET }
	};
	unsigned char ans[NS_PACKETSZ * 4];

	h->naddr = 0;
	for (size_t k = 0; k < ARRAY_SIZE(q); k++) {
		if ((fam == FAM_V4 && q[k].af != AF_INET) ||
		    (fam == FAM_V6 && q[k].af != AF_INET6))
			continue;
		char *qname = idna_lookup_name(name);
		int len = res_nquery(st, qname, ns_c_in, q[k].type, ans, sizeof ans);
		free(qname);
		/* a truncated answer reports its full length: parse only
		 * what the buffer holds */
		if (len > (int)sizeof ans)
			len = (int)sizeof ans;
		ns_msg msg;
		if (len < 0 || ns_initparse(ans, len, &msg) < 0)
			continue;
		int cnt = ns_msg_count(msg, ns_s_an);
		for (int i = 0; i < cnt && h->naddr < MX_MAX_ADDRS; i++) {
			ns_rr rr;
			if (ns_parserr(&msg, ns_s_an, i, &rr) < 0)
				break;
			if (ns_rr_type(rr) != q[k].type)
				continue;	/* a CNAME on the way */
			if ((q[k].af == AF_INET && ns_rr_rdlen(rr) != 4) ||
			    (q[k].af == AF_INET6 && ns_rr_rdlen(rr) != 16))
				continue;
			inet_ntop(q[k].af, ns_rr_rdata(rr), h->addrs[h->naddr],
				  sizeof h->addrs[0]);
			h->naddr++;
		}
	}
	if (h->naddr)
		return;
	struct addrinfo hints = { 0 }, *res = NULL;
	hints.ai_family = fam == FAM_V4 ? AF_INET : fam == FAM_V6 ? AF_INET6 : AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	char *qname = idna_lookup_name(name);
	int grc = getaddrinfo(qname, NULL, &hints, &res);
	free(qname);
	if (grc != 0)
		return;
	for (struct addrinfo *a = res; a && h->naddr < MX_MAX_ADDRS; a = a->ai_next) {
		const void *p = a->ai_family == AF_INET
			? (const void *)&((struct sockaddr_in *)a->ai_addr)->sin_addr
			: (const void *)&((struct sockaddr_in6 *)a->ai_addr)->sin6_addr;
		inet_ntop(a->ai_family, p, h->addrs[h->naddr], sizeof h->addrs[0]);
		bool dup = false;
		for (int i = 0; i < h->naddr; i++)
			if (!strcmp(h->addrs[i], h->addrs[h->naddr]))
				dup = true;
		if (!dup)
			h->naddr++;
	}
	freeaddrinfo(res);
}

static int
by_pref(const void *a, const void *b)
{
	const struct mx_host *x = a, *y = b;
	if (x->pref != y->pref)
		return x->pref < y->pref ? -1 : 1;
	return strcasecmp(x->name, y->name);
}

int
mx_lookup(const char *domain, enum family fam, struct mx_result *r)
{
	struct __res_state st;
	unsigned char ans[NS_MAXMSG < 65536 ? NS_MAXMSG : 65536];
	char name[NS_MAXDNAME];

	memset(r, 0, sizeof *r);
	safe_name(r->domain, sizeof r->domain, domain);
	memset(&st, 0, sizeof st);
	if (res_ninit(&st) < 0) {
		r->status = MX_FAILURE;
		snprintf(r->err, sizeof r->err, "the resolver could not start");
		return -1;
	}
	if (dnsq_override_servers(&st, r->err, sizeof r->err) < 0) {
		r->status = MX_FAILURE;
		res_nclose(&st);
		return -1;
	}

	char *qname = idna_lookup_name(domain);	/* U-labels: A-labels */
	int len = res_nquery(&st, qname, ns_c_in, ns_t_mx, ans, sizeof ans);
	free(qname);
	if (len > (int)sizeof ans)
		len = (int)sizeof ans;
	int herr = st.res_h_errno;
	int cnt = 0;
	ns_msg msg;
	if (len >= 0) {
		if (ns_initparse(ans, len, &msg) < 0) {
			r->status = MX_FAILURE;
			snprintf(r->err, sizeof r->err, "MX %.200s: a DNS answer that "
				 "does not parse", r->domain);
			res_nclose(&st);
			return -1;
		}
		cnt = ns_msg_count(msg, ns_s_an);
	} else if (herr == HOST_NOT_FOUND) {
		r->status = MX_NOT_FOUND;
		snprintf(r->err, sizeof r->err, "MX %.200s: the domain does not exist "
			 "(NXDOMAIN)", r->domain);
		res_nclose(&st);
		return -1;
	} else if (herr != NO_DATA) {
		r->status = MX_FAILURE;
		snprintf(r->err, sizeof r->err, "MX %.200s: %s", r->domain,
			 herr == TRY_AGAIN ? "no answer from the DNS server "
			 "(timeout or SERVFAIL)" : "the DNS server refused or failed");
		res_nclose(&st);
		return -1;
	}

	for (int i = 0; i < cnt && r->n < MX_MAX_HOSTS; i++) {
		ns_rr rr;
		if (ns_parserr(&msg, ns_s_an, i, &rr) < 0)
			break;
		if (ns_rr_type(rr) != ns_t_mx || ns_rr_rdlen(rr) < 3)
			continue;
		const unsigned char *rd = ns_rr_rdata(rr);
		int pref = (int)ns_get16(rd);
		if (dn_expand(ns_msg_base(msg), ns_msg_end(msg), rd + 2, name,
			      sizeof name) < 0)
			continue;
		/* RFC 7505: one MX, preference 0, target the root: no mail */
		if (!name[0] || !strcmp(name, ".")) {
			if (cnt == 1 && pref == 0) {
				r->status = MX_NULL;
				r->n = 0;
				res_nclose(&st);
				return -1;
			}
			continue;	/* a root target among others: unusable */
		}
		struct mx_host *h = &r->hosts[r->n++];
		safe_name(h->name, sizeof h->name, name);
		h->pref = pref;
	}
	if (r->n == 0) {
		/* RFC 5321 §5.1: no MX, the domain is its own mail host */
		r->status = MX_IMPLICIT;
		r->n = 1;
		safe_name(r->hosts[0].name, sizeof r->hosts[0].name, domain);
		host_addresses(&st, &r->hosts[0], domain, fam);
	} else {
		r->status = MX_FOUND;
		qsort(r->hosts, (size_t)r->n, sizeof r->hosts[0], by_pref);
		for (int i = 0; i < r->n; i++)
			host_addresses(&st, &r->hosts[i], r->hosts[i].name, fam);
	}
	res_nclose(&st);
	return 0;
}

/* dnsq.c - TXT, A/AAAA, PTR, MX and TLSA through res_nquery. */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "dnsq.h"
#include "util.h"

int
dnsq_override_servers(res_state st, char *err, size_t errlen)
{
	const char *path = getenv("SMTPDX_RESOLV_CONF");
	if (!path || !*path)
		return 0;
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "SMTPDX_RESOLV_CONF=%s: cannot read it", path);
		return -1;
	}
	char line[512];
	int n = 0;
	while (fgets(line, sizeof line, f) && n < MAXNS) {
		char addr[128];
		if (sscanf(line, " nameserver %127s", addr) != 1)
			continue;
		int port = NS_DEFAULTPORT;
		char *hash = strchr(addr, '#');
		if (hash) {
			*hash = '\0';
			port = atoi(hash + 1);
		}
		struct sockaddr_in sin = { 0 };
		sin.sin_family = AF_INET;
		sin.sin_port = htons((unsigned short)port);
		if (port < 1 || port > 65535 || inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
			continue;
		st->nsaddr_list[n++] = sin;
	}
	fclose(f);
	if (n == 0) {
		snprintf(err, errlen, "SMTPDX_RESOLV_CONF=%s: no usable "
			 "\"nameserver IPv4[#PORT]\" line", path);
		return -1;
	}
	st->nscount = n;
	return 0;
}

const char *
dnsq_status_words(enum dnsq_status s)
{
	switch (s) {
	case DQ_OK: return "found";
	case DQ_NODATA: return "no record";
	case DQ_NXDOMAIN: return "the name does not exist";
	default: return "the DNS lookup failed";
	}
}

static void
push(struct dnsq_answer *a, char *s)
{
	a->v = xrealloc(a->v, (a->n + 1) * sizeof *a->v);
	a->v[a->n++] = s;
}

void
dnsq_free(struct dnsq_answer *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	memset(a, 0, sizeof *a);
}

/* One question; calls each(rr) for the answers of the type asked. */
static void
query(const char *name, ns_type type, struct dnsq_answer *a,
      void (*each)(const ns_msg *, const ns_rr *, struct dnsq_answer *))
{
	struct __res_state st;
	unsigned char ans[65536];
	char err[256];

	memset(a, 0, sizeof *a);
	memset(&st, 0, sizeof st);
	if (res_ninit(&st) < 0) {
		a->status = DQ_FAIL;
		return;
	}
	if (dnsq_override_servers(&st, err, sizeof err) < 0) {
		a->status = DQ_FAIL;
		res_nclose(&st);
		return;
	}
	st.options |= RES_USE_DNSSEC;	/* ask for the AD bit */
	char *qname = idna_lookup_name(name);	/* U-labels: A-labels */
	int len = res_nquery(&st, qname, ns_c_in, type, ans, sizeof ans);
	free(qname);
	int herr = st.res_h_errno;
	res_nclose(&st);
	if (len > (int)sizeof ans)
		len = (int)sizeof ans;
	if (len < 0) {
		a->status = herr == HOST_NOT_FOUND ? DQ_NXDOMAIN :
			    herr == NO_DATA ? DQ_NODATA : DQ_FAIL;
		return;
	}
	ns_msg msg;
	if (ns_initparse(ans, len, &msg) < 0) {
		a->status = DQ_FAIL;
		return;
	}
	a->ad = ns_msg_getflag(msg, ns_f_ad) != 0;
	int cnt = ns_msg_count(msg, ns_s_an);
	for (int i = 0; i < cnt; i++) {
		ns_rr rr;
		if (ns_parserr(&msg, ns_s_an, i, &rr) < 0)
			break;
		if (ns_rr_type(rr) == type)
			each(&msg, &rr, a);
	}
	a->status = a->n ? DQ_OK : DQ_NODATA;
}

static void
each_txt(const ns_msg *m, const ns_rr *rr, struct dnsq_answer *a)
{
	(void)m;
	const unsigned char *p = ns_rr_rdata(*rr), *end = p + ns_rr_rdlen(*rr);
	struct buf b = { 0 };
	while (p < end) {
		size_t l = *p++;
		if (l > (size_t)(end - p))
			l = (size_t)(end - p);
		buf_add(&b, p, l);
		p += l;
	}
	if (!b.data)
		buf_adds(&b, "");
	push(a, buf_steal(&b));
}

void
dnsq_txt(const char *name, struct dnsq_answer *a)
{
	query(name, ns_t_txt, a, each_txt);
}

static void
each_a(const ns_msg *m, const ns_rr *rr, struct dnsq_answer *a)
{
	(void)m;
	char s[64];
	int af = ns_rr_type(*rr) == ns_t_a ? AF_INET : AF_INET6;
	if (ns_rr_rdlen(*rr) != (af == AF_INET ? 4 : 16))
		return;
	if (inet_ntop(af, ns_rr_rdata(*rr), s, sizeof s))
		push(a, xstrdup(s));
}

void
dnsq_addrs(const char *name, struct dnsq_answer *a)
{
	struct dnsq_answer six;
	query(name, ns_t_a, a, each_a);
	enum dnsq_status st4 = a->status;
	query(name, ns_t_aaaa, &six, each_a);
	for (size_t i = 0; i < six.n; i++) {
		push(a, six.v[i]);
		six.v[i] = NULL;
	}
	dnsq_free(&six);
	if (a->n)
		a->status = DQ_OK;
	else if (st4 == DQ_NXDOMAIN)
		a->status = DQ_NXDOMAIN;
}

static void
each_name(const ns_msg *m, const ns_rr *rr, struct dnsq_answer *a)
{
	char name[NS_MAXDNAME];
	const unsigned char *rd = ns_rr_rdata(*rr);
	if (ns_rr_type(*rr) == ns_t_mx) {
		if (ns_rr_rdlen(*rr) < 3 || dn_expand(ns_msg_base(*m), ns_msg_end(*m),
						       rd + 2, name, sizeof name) < 0)
			return;
		push(a, xasprintf("%u %s", ns_get16(rd), name[0] ? name : "."));
		return;
	}
	if (dn_expand(ns_msg_base(*m), ns_msg_end(*m), rd, name, sizeof name) < 0)
		return;
	push(a, xstrdup(name));
}

void
dnsq_ptr(const char *addr, struct dnsq_answer *a)
{
	unsigned char bin[16];
	char q[128];
	size_t k = 0;
	if (inet_pton(AF_INET, addr, bin) == 1) {
		snprintf(q, sizeof q, "%u.%u.%u.%u.in-addr.arpa", bin[3], bin[2],
			 bin[1], bin[0]);
	} else if (inet_pton(AF_INET6, addr, bin) == 1) {
		static const char hex[] = "0123456789abcdef";
		for (int i = 15; i >= 0; i--) {
			q[k++] = hex[bin[i] & 15];
			q[k++] = '.';
			q[k++] = hex[bin[i] >> 4];
			q[k++] = '.';
		}
		snprintf(q + k, sizeof q - k, "ip6.arpa");
	} else {
		memset(a, 0, sizeof *a);
		a->status = DQ_FAIL;
		return;
	}
	query(q, ns_t_ptr, a, each_name);
}

void
dnsq_mx(const char *name, struct dnsq_answer *a)
{
	query(name, ns_t_mx, a, each_name);
}

static void
each_tlsa(const ns_msg *m, const ns_rr *rr, struct dnsq_answer *a)
{
	(void)m;
	const unsigned char *p = ns_rr_rdata(*rr);
	size_t n = ns_rr_rdlen(*rr);
	if (n < 4)
		return;
	struct buf b = { 0 };
	buf_printf(&b, "%u %u %u ", p[0], p[1], p[2]);
	for (size_t i = 3; i < n; i++)
		buf_printf(&b, "%02x", p[i]);
	push(a, buf_steal(&b));
}

void
dnsq_tlsa(const char *name, struct dnsq_answer *a)
{
	query(name, (ns_type)52, a, each_tlsa);	/* TLSA, RFC 6698 */
}

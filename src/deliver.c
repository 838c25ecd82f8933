/*
 * deliver.c - SPF, DMARC, MTA-STS, TLS-RPT and reverse DNS for a sending
 * domain.  DNS through dnsq.c; the MTA-STS policy over HTTPS with GnuTLS
 * (certificate verified for mta-sts.DOMAIN, no redirects: RFC 8461 §3.3).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/dane.h>
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "deliver.h"
#include "dnsq.h"
#include "util.h"

/* RFC 7208 §4.6.4: at most 10 DNS-querying terms, at most 2 void lookups */
#define SPF_MAX_LOOKUPS 10
#define SPF_MAX_VOIDS 2
#define SPF_MAX_DEPTH 10
/* RFC 8461 §3.3: a policy is small; we read at most 64 KiB */
#define STS_MAX 65536

const char *
dstatus_name(enum dstatus s)
{
	return s == DS_OK ? "ok" : s == DS_WARN ? "warn" : "fail";
}

#define NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" \
		   "0123456789.-_"

bool
deliver_domain_ok(const char *s)
{
	size_t n = strlen(s);
	return n && n <= 253 && strspn(s, NAME_CHARS) == n && s[0] != '.' &&
	       s[0] != '-';
}

bool
deliver_selector_ok(const char *s)
{
	size_t n = strlen(s);
	return n && n <= 63 && strspn(s, NAME_CHARS) == n;
}

static char *
safe(const char *s)
{
	return vis_escape(s, strlen(s));
}


/* The fix as a record: "NAME. TXT \"VALUE\"" (name and value safe text
 * already; quotes in the value escaped as a zone file wants). */
static char *
txt_line(const char *name, const char *value)
{
	struct buf b = { 0 };
	buf_printf(&b, "%s. TXT \"", name);
	for (const char *p = value; *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_addc(&b, '\\');
		buf_addc(&b, *p);
	}
	buf_addc(&b, '"');
	return buf_steal(&b);
}

/* record's tags ("k=v; k=v") with tag key set to value (added at the
 * end when absent). */
static char *
tag_set(const char *record, const char *key, const char *value)
{
	struct buf b = { 0 };
	char *copy = xstrdup(record), *save = NULL;
	bool done = false;
	int n = 0;
	size_t kl = strlen(key);
	for (char *t = strtok_r(copy, ";", &save); t; t = strtok_r(NULL, ";", &save)) {
		while (*t == ' ' || *t == '\t')
			t++;
		size_t tl = strlen(t);
		while (tl && (t[tl - 1] == ' ' || t[tl - 1] == '\t'))
			t[--tl] = '\0';
		if (!tl)
			continue;
		const char *eq = strchr(t, '=');
		if (eq && (size_t)(eq - t) == kl && !strncasecmp(t, key, kl)) {
			if (!done)
				buf_printf(&b, "%s%s=%s", n++ ? "; " : "", key, value);
			done = true;
			continue;
		}
		buf_printf(&b, "%s%s", n++ ? "; " : "", t);
	}
	if (!done)
		buf_printf(&b, "%s%s=%s", n ? "; " : "", key, value);
	free(copy);
	return b.data ? buf_steal(&b) : xstrdup("");
}

/* Append diagnosis id with its catalog texts; fix_extra (owned) is the
 * concrete record to publish, appended to the catalog's fix. */
static void
add_diag(struct dcheck *c, const char *domain, const char *id, char *evidence,
	 char *fix_extra)
{
	int d = diag_from_id(id);
	if (d < 0) {
		free(evidence);
		free(fix_extra);
		return;
	}
	const struct diag_info *di = diag_info((enum diag_id)d);
	struct diag_list *l = &c->diags;
	l->v = xrealloc(l->v, (l->n + 1) * sizeof *l->v);
	struct diagnosis *x = &l->v[l->n++];
	memset(x, 0, sizeof *x);
	x->id = (enum diag_id)d;
	x->sev = di->sev;
	x->step = di->step;
	x->evidence = evidence;
	x->explanation = str_subst(di->explanation, "{host}", domain);
	char *fix = str_subst(di->fix, "{host}", domain);
	if (fix_extra) {
		x->fix = xasprintf("%s %s", fix, fix_extra);
		free(fix);
		free(fix_extra);
	} else {
		x->fix = fix;
	}
	x->path = xmalloc(sizeof *x->path);
	x->path[0].node = c->check;
	x->path[0].question = c->why;
	x->path[0].answer = xstrdup(di->id);
	x->npath = 1;
	if (di->sev == SEV_ERROR)
		c->status = DS_FAIL;
	else if (c->status == DS_OK)
		c->status = DS_WARN;
}

static struct dcheck *
new_check(struct deliver_report *r, const char *name, const char *why)
{
	struct dcheck *c = &r->v[r->n++];
	memset(c, 0, sizeof *c);
	c->check = name;
	c->why = why;
	c->status = DS_OK;
	return c;
}

/* Records of name that start with prefix (case-insensitive), joined with
 * " | " as safe text into *record; returns how many, first in *first. */
static int
records_with(const char *name, const char *prefix, char **record, char **first,
	     enum dnsq_status *st)
{
	struct dnsq_answer a;
	dnsq_txt(name, &a);
	*st = a.status;
	struct buf b = { 0 };
	int n = 0;
	*first = NULL;
	for (size_t i = 0; i < a.n; i++) {
		size_t pl = strlen(prefix);
		if (strncasecmp(a.v[i], prefix, pl) != 0 ||
		    (a.v[i][pl] && a.v[i][pl] != ' ' && a.v[i][pl] != ';'))
			continue;
		char *s = safe(a.v[i]);
		buf_printf(&b, "%s%s", n ? " | " : "", s);
		free(s);
		if (!n)
			*first = xstrdup(a.v[i]);
		n++;
	}
	*record = b.data ? buf_steal(&b) : xstrdup("");
	dnsq_free(&a);
	return n;
}

/* ---- SPF ------------------------------------------------------------------ */

/* The SPF record of domain, or NULL (heap). */
static char *
spf_record(const char *domain)
{
	char *rec, *first;
	enum dnsq_status st;
	int n = records_with(domain, "v=spf1", &rec, &first, &st);
	free(rec);
	if (n != 1) {
		free(first);
		return NULL;
	}
	return first;
}

/* The mechanism name of a term ("include:x" -> "include"), lowercase, a
 * qualifier skipped. */
static void
term_name(const char *t, char *out, size_t n)
{
	if (*t == '+' || *t == '-' || *t == '~' || *t == '?')
		t++;
	size_t k = 0;
	while (t[k] && t[k] != ':' && t[k] != '=' && t[k] != '/' && k + 1 < n) {
		out[k] = (char)tolower((unsigned char)t[k]);
		k++;
	}
	out[k] = '\0';
}

int
spf_count_lookups(const char *record, int *voids, int depth)
{
	int count = 0;
	char *copy = xstrdup(record);
	char *save = NULL;
	for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		char name[16];
		term_name(t, name, sizeof name);
		bool recurse = !strcmp(name, "include") || !strcmp(name, "redirect");
		if (recurse || !strcmp(name, "a") || !strcmp(name, "mx") ||
		    !strcmp(name, "ptr") || !strcmp(name, "exists"))
			count++;
		if (!recurse || depth >= SPF_MAX_DEPTH)
			continue;
		const char *target = strpbrk(t, ":=");
		if (!target || !target[1] || strchr(target + 1, '%'))
			continue;	/* macros are evaluated per message */
		char *sub = spf_record(target + 1);
		if (!sub) {
			(*voids)++;
			continue;
		}
		count += spf_count_lookups(sub, voids, depth + 1);
		free(sub);
	}
	free(copy);
	return count;
}

/* The "all" term of a record and its qualifier, or 0. */
static char
spf_all(const char *record, bool *has_all)
{
	char *copy = xstrdup(record), *save = NULL;
	char q = 0;
	*has_all = false;
	for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		char name[16];
		term_name(t, name, sizeof name);
		if (strcmp(name, "all") != 0)
			continue;
		*has_all = true;
		q = strchr("+-~?", *t) ? *t : '+';
	}
	free(copy);
	return q;
}

static const char *spf_why =
	"Receivers check the sending address against the domain's SPF record "
	"(RFC 7208); a missing or broken record makes mail fail SPF, and with "
	"DMARC, land in spam or be refused.";

static void
check_spf(struct deliver_report *r, const char *domain)
{
	struct dcheck *c = new_check(r, "spf", spf_why);
	char *first;
	enum dnsq_status st;
	int n = records_with(domain, "v=spf1", &c->record, &first, &st);

	if (st == DQ_FAIL) {
		c->status = DS_FAIL;
		c->verdict = xasprintf("The TXT lookup of %s failed; SPF could not "
				       "be read.", r->domain);
		free(first);
		return;
	}
	if (n == 0) {
		c->verdict = xasprintf("%s publishes no SPF record.", r->domain);
		add_diag(c, r->domain, "spf.missing",
			 xasprintf("no TXT record starting with v=spf1 at %s",
				   r->domain),
			 xasprintf("For example: %s. TXT \"v=spf1 mx -all\" (then "
				   "add the include: of each provider that sends "
				   "for you).", r->domain));
		c->publish = txt_line(r->domain, "v=spf1 mx -all");
		return;
	}
	if (n > 1) {
		c->status = DS_FAIL;
		c->verdict = xasprintf("%s publishes %d SPF records: RFC 7208 "
				       "§4.5 makes that a permanent error, so "
				       "every check fails.", r->domain, n);
		free(first);
		return;
	}
	int voids = 0;
	int lookups = spf_count_lookups(first, &voids, 0);
	bool has_all;
	char q = spf_all(first, &has_all);
	c->verdict = xasprintf("One SPF record: %d DNS-querying term%s (limit "
			       "%d), %d void lookup%s (limit %d), %s.", lookups,
			       lookups == 1 ? "" : "s", SPF_MAX_LOOKUPS, voids,
			       voids == 1 ? "" : "s", SPF_MAX_VOIDS,
			       has_all ? (q == '-' ? "ends in -all" :
					  q == '~' ? "ends in ~all" :
					  q == '?' ? "ends in ?all" : "ends in +all")
				       : "no all term (neutral for everyone else)");
	if (lookups > SPF_MAX_LOOKUPS)
		add_diag(c, r->domain, "spf.too_many_lookups",
			 xasprintf("%d DNS-querying terms (include, a, mx, ptr, "
				   "exists, redirect), counting included records",
				   lookups), NULL);
	if (voids > SPF_MAX_VOIDS)
		c->status = c->status == DS_OK ? DS_WARN : c->status;
	if (has_all && (q == '+' || q == '?')) {
		char *rec = safe(first);
		add_diag(c, r->domain, "spf.permissive",
			 xasprintf("%s: \"%call\"", rec, q), NULL);
		/* the same record, ending in -all */
		char *e = strstr(rec, q == '+' ? "+all" : "?all");
		if (e) {
			*e = '-';
			c->publish = txt_line(r->domain, rec);
		}
		free(rec);
	}
	free(first);
}

/* ---- DMARC ------------------------------------------------------------------ */

static const char *dmarc_why =
	"DMARC (RFC 7489) tells receivers what to do with mail that fails SPF "
	"and DKIM alignment, and where to send reports; Gmail and Yahoo "
	"require a DMARC record from bulk senders.";

/* The value of tag in a "k=v; k=v" record, or NULL (heap, safe text). */
static char *
tag_value(const char *rec, const char *tag)
{
	size_t tl = strlen(tag);
	for (const char *p = rec; *p; ) {
		while (*p == ' ' || *p == ';' || *p == '\t')
			p++;
		if (!strncasecmp(p, tag, tl)) {
			const char *q = p + tl;
			while (*q == ' ')
				q++;
			if (*q == '=') {
				q++;
				while (*q == ' ')
					q++;
				size_t n = strcspn(q, ";");
				while (n && q[n - 1] == ' ')
					n--;
				char *raw = xstrndup(q, n);
				char *s = safe(raw);
				free(raw);
				return s;
			}
		}
		p += strcspn(p, ";");
	}
	return NULL;
}

static void
check_dmarc(struct deliver_report *r, const char *domain)
{
	struct dcheck *c = new_check(r, "dmarc", dmarc_why);
	char name[300], *first;
	enum dnsq_status st;
	snprintf(name, sizeof name, "_dmarc.%s", domain);
	int n = records_with(name, "v=DMARC1", &c->record, &first, &st);
	if (n == 0) {
		c->verdict = xasprintf("No DMARC record at _dmarc.%s%s.", r->domain,
				       st == DQ_FAIL ? " (the lookup failed)" : "");
		add_diag(c, r->domain, "dmarc.missing",
			 xasprintf("no TXT record starting with v=DMARC1 at "
				   "_dmarc.%s", r->domain),
			 xasprintf("For example: _dmarc.%s. TXT \"v=DMARC1; "
				   "p=none; rua=mailto:dmarc@%s\" to start, then "
				   "p=quarantine once the reports look clean.",
				   r->domain, r->domain));
		char *nm = xasprintf("_dmarc.%s", r->domain);
		char *v = xasprintf("v=DMARC1; p=none; rua=mailto:dmarc@%s",
				    r->domain);
		c->publish = txt_line(nm, v);
		free(v);
		free(nm);
		return;
	}
	char *p = tag_value(first, "p"), *rua = tag_value(first, "rua");
	char *adkim = tag_value(first, "adkim"), *aspf = tag_value(first, "aspf");
	c->verdict = xasprintf("Policy p=%s, DKIM alignment %s, SPF alignment %s, "
			       "reports to %s.", p ? p : "(missing)",
			       adkim && !strcasecmp(adkim, "s") ? "strict" : "relaxed",
			       aspf && !strcasecmp(aspf, "s") ? "strict" : "relaxed",
			       rua ? rua : "nobody (no rua=)");
	if (n > 1)
		c->status = DS_FAIL;
	if (!p)
		c->status = DS_FAIL;
	else if (!strcasecmp(p, "none"))
		add_diag(c, r->domain, "dmarc.monitor_only",
			 xasprintf("p=none in _dmarc.%s", r->domain), NULL);
	if (!p || !strcasecmp(p, "none")) {
		/* the same record with a policy that acts, and reports */
		char *rec = safe(first), *v = tag_set(rec, "p", "quarantine");
		if (!rua) {
			char *to = xasprintf("mailto:dmarc@%s", r->domain);
			char *w = tag_set(v, "rua", to);
			free(v);
			free(to);
			v = w;
		}
		char *nm = xasprintf("_dmarc.%s", r->domain);
		c->publish = txt_line(nm, v);
		free(nm);
		free(v);
		free(rec);
	}
	free(p);
	free(rua);
	free(adkim);
	free(aspf);
	free(first);
}

/* ---- TLS-RPT -------------------------------------------------------------- */

static void
check_tlsrpt(struct deliver_report *r, const char *domain)
{
	struct dcheck *c = new_check(r, "tls-rpt",
		"TLS-RPT (RFC 8460) asks sending servers to report TLS failures "
		"when they deliver to you: without it, a broken certificate or "
		"MTA-STS policy goes unnoticed.");
	char name[300], *first;
	enum dnsq_status st;
	snprintf(name, sizeof name, "_smtp._tls.%s", domain);
	int n = records_with(name, "v=TLSRPTv1", &c->record, &first, &st);
	if (n == 0) {
		c->status = DS_WARN;
		c->verdict = xasprintf("No TLS-RPT record at _smtp._tls.%s. Publish "
				       "one: _smtp._tls.%s. TXT \"v=TLSRPTv1; "
				       "rua=mailto:tls-reports@%s\".", r->domain,
				       r->domain, r->domain);
		char *nm = xasprintf("_smtp._tls.%s", r->domain);
		char *v = xasprintf("v=TLSRPTv1; rua=mailto:tls-reports@%s",
				    r->domain);
		c->publish = txt_line(nm, v);
		free(v);
		free(nm);
		return;
	}
	char *rua = tag_value(first, "rua");
	bool ok = n == 1 && rua && (!strncasecmp(rua, "mailto:", 7) ||
				    !strncasecmp(rua, "https:", 6));
	c->status = ok ? DS_OK : DS_FAIL;
	c->verdict = ok ? xasprintf("Reports go to %s.", rua)
			: xasprintf("The record is not well-formed (RFC 8460 §3: "
				    "one record, rua=mailto: or https:).");
	free(rua);
	free(first);
}

/* ---- DKIM ------------------------------------------------------------------ */

static void
check_dkim(struct deliver_report *r, const char *domain, const char *selector)
{
	struct dcheck *c = new_check(r, "dkim",
		"DKIM (RFC 6376) signs each message with a key whose public half "
		"is in DNS at SELECTOR._domainkey.DOMAIN; receivers check the "
		"signature, and DMARC needs it (or SPF) to align with the From "
		"domain. Keys under 1024 bits are ignored by large receivers; "
		"2048 is the norm.");
	char name[400], *first;
	enum dnsq_status st;
	snprintf(name, sizeof name, "%s._domainkey.%s", selector, domain);
	/* a DKIM key record may omit v=DKIM1 (RFC 6376 §3.6.1): take any
	 * record with p= */
	struct dnsq_answer a;
	dnsq_txt(name, &a);
	st = a.status;
	first = NULL;
	for (size_t i = 0; i < a.n && !first; i++)
		if (strstr(a.v[i], "p="))
			first = xstrdup(a.v[i]);
	c->record = first ? safe(first) : xstrdup("");
	dnsq_free(&a);
	char *sel = safe(selector);
	if (!first) {
		c->status = DS_FAIL;
		c->verdict = xasprintf("No DKIM key at %s._domainkey.%s (%s): mail "
				       "signed with selector %s fails DKIM.", sel,
				       r->domain, dnsq_status_words(st), sel);
		c->publish = xasprintf("%s._domainkey.%s. TXT \"v=DKIM1; k=rsa; "
				       "p=(the public key your signer made, "
				       "base64)\"", sel, r->domain);
		free(sel);
		return;
	}
	char *p = tag_value(first, "p");
	if (!p || !*p) {
		c->status = DS_WARN;
		c->verdict = xasprintf("The key of selector %s is revoked (empty "
				       "p=, RFC 6376 §3.6.1).", sel);
	} else {
		/* p= is base64 of the SubjectPublicKeyInfo (RFC 6376 §3.6.1) */
		gnutls_datum_t b64 = { (unsigned char *)p, (unsigned)strlen(p) }, der;
		gnutls_pubkey_t key = NULL;
		unsigned bits = 0;
		int alg = -1;
		if (gnutls_base64_decode2(&b64, &der) == 0) {
			if (gnutls_pubkey_init(&key) == 0 &&
			    gnutls_pubkey_import(key, &der, GNUTLS_X509_FMT_DER) == 0)
				alg = gnutls_pubkey_get_pk_algorithm(key, &bits);
			gnutls_free(der.data);
		}
		if (key)
			gnutls_pubkey_deinit(key);
		if (alg < 0) {
			c->status = DS_FAIL;
			c->verdict = xasprintf("The key of selector %s does not parse "
					       "as a public key.", sel);
		} else {
			c->verdict = xasprintf("Selector %s: %s key, %u bits.", sel,
					       gnutls_pk_get_name(alg), bits);
			if (alg == GNUTLS_PK_RSA && bits < 1024)
				c->status = DS_FAIL;
			else if (alg == GNUTLS_PK_RSA && bits < 2048)
				c->status = DS_WARN;
		}
	}
	free(p);
	free(sel);
	free(first);
}

/* ---- MX and reverse DNS ------------------------------------------------- */

struct mxlist {
	char *names[16];
	int n;
	bool null_mx;
};

static void
check_mx(struct deliver_report *r, const char *domain, struct mxlist *mx)
{
	struct dcheck *c = new_check(r, "mx",
		"The MX records say which servers take mail for the domain "
		"(RFC 5321 §5.1); MTA-STS and reverse DNS are checked against "
		"them.");
	struct dnsq_answer a;
	dnsq_mx(domain, &a);
	struct buf b = { 0 };
	for (size_t i = 0; i < a.n; i++) {
		char *s = safe(a.v[i]);
		buf_printf(&b, "%s%s", i ? " | " : "", s);
		free(s);
		const char *sp = strchr(a.v[i], ' ');
		if (!sp)
			continue;
		if (!strcmp(sp + 1, ".")) {
			mx->null_mx = a.n == 1;
			continue;
		}
		if (mx->n < 16)
			mx->names[mx->n++] = xstrdup(sp + 1);
	}
	c->record = b.data ? buf_steal(&b) : xstrdup("");
	if (mx->null_mx) {
		c->verdict = xasprintf("A null MX (RFC 7505): %s takes no mail. "
				       "Mail sent from it cannot get bounces or "
				       "replies, and some receivers refuse it.",
				       r->domain);
		c->status = DS_WARN;
	} else if (a.status == DQ_FAIL) {
		c->verdict = xasprintf("The MX lookup failed.");
		c->status = DS_FAIL;
	} else if (!mx->n) {
		c->verdict = xasprintf("No MX record: mail goes to %s's own address "
				       "(RFC 5321 §5.1).", r->domain);
		c->status = DS_WARN;
		mx->names[mx->n++] = xstrdup(domain);
	} else {
		c->verdict = xasprintf("%d mail host%s.", mx->n, mx->n == 1 ? "" : "s");
	}
	dnsq_free(&a);
}

/* The name a PTR record of addr lives at: 4.3.2.1.in-addr.arpa, or the
 * nibbles of an IPv6 address under ip6.arpa.  False: not an address. */
static bool
reverse_name(const char *addr, char *out, size_t n)
{
	unsigned char b[16];
	if (inet_pton(AF_INET, addr, b) == 1) {
		snprintf(out, n, "%u.%u.%u.%u.in-addr.arpa", b[3], b[2], b[1], b[0]);
		return true;
	}
	if (inet_pton(AF_INET6, addr, b) != 1 || n < 74)
		return false;
	static const char hex[] = "0123456789abcdef";
	size_t k = 0;
	for (int i = 15; i >= 0; i--) {
		out[k++] = hex[b[i] & 15];
		out[k++] = '.';
		out[k++] = hex[b[i] >> 4];
		out[k++] = '.';
	}
	snprintf(out + k, n - k, "ip6.arpa");
	return true;
}

/* Does the PTR name of addr resolve back to addr?  Adds to b. */
static bool
fcrdns(const char *addr, struct buf *b)
{
	struct dnsq_answer ptr;
	dnsq_ptr(addr, &ptr);
	if (!ptr.n) {
		buf_printf(b, "%s has no PTR record", addr);
		dnsq_free(&ptr);
		return false;
	}
	bool back = false;
	for (size_t i = 0; i < ptr.n && !back; i++) {
		struct dnsq_answer fw;
		dnsq_addrs(ptr.v[i], &fw);
		for (size_t k = 0; k < fw.n; k++)
			back |= !strcmp(fw.v[k], addr);
		dnsq_free(&fw);
	}
	char *name = safe(ptr.v[0]);
	buf_printf(b, "%s -> %s%s", addr, name, back ? " -> back" :
		   " (which does not resolve back to it)");
	free(name);
	dnsq_free(&ptr);
	return back;
}

static void
check_rdns(struct deliver_report *r, const struct mxlist *mx, const char *relay)
{
	struct dcheck *c = new_check(r, "rdns",
		"Receivers look up the sending address's name (PTR) and check "
		"that the name leads back to the address; without it many "
		"refuse the connection or score the mail as spam.");
	struct buf rec = { 0 }, bad = { 0 }, fix = { 0 };
	int checked = 0;
	const char *hosts[17];
	int nh = 0;
	if (relay)
		hosts[nh++] = NULL;	/* the relay's address itself */
	for (int i = 0; i < mx->n && nh < 17; i++)
		hosts[nh++] = mx->names[i];
	for (int h = 0; h < nh; h++) {
		struct dnsq_answer a = { 0 };
		if (hosts[h]) {
			dnsq_addrs(hosts[h], &a);
		} else {
			a.v = xmalloc(sizeof *a.v);
			a.v[0] = xstrdup(relay);
			a.n = 1;
		}
		for (size_t k = 0; k < a.n && k < 4; k++) {
			struct buf one = { 0 };
			bool ok = fcrdns(a.v[k], &one);
			buf_printf(&rec, "%s%s", rec.len ? "; " : "", one.data);
			if (!ok)
				buf_printf(&bad, "%s%s", bad.len ? "; " : "", one.data);
			char rev[80];
			if (!ok && reverse_name(a.v[k], rev, sizeof rev)) {
				/* the PTR names the host; its A/AAAA leads back */
				char *hn = hosts[h] ? safe(hosts[h]) :
					   xstrdup("(the relay's name)");
				char *ad = safe(a.v[k]);
				buf_printf(&fix, "%s%s. PTR %s.\n%s. %s %s", fix.len ?
					   "\n" : "", rev, hn, hn, strchr(ad, ':') ?
					   "AAAA" : "A", ad);
				free(ad);
				free(hn);
			}
			buf_free(&one);
			checked++;
		}
		dnsq_free(&a);
	}
	c->record = rec.data ? buf_steal(&rec) : xstrdup("");
	if (!checked) {
		c->verdict = xasprintf("No address to check.");
		c->status = DS_WARN;
	} else if (bad.len) {
		c->verdict = xasprintf("%d address%s checked; not all resolve back.",
				       checked, checked == 1 ? "" : "es");
		add_diag(c, r->domain, "rdns.mismatch", xstrdup(bad.data),
			 xasprintf("Ask whoever runs the address (the hosting "
				   "or cloud provider) to set its PTR to the "
				   "server's name, and give that name an A/AAAA "
				   "record with the same address."));
		if (fix.len)
			c->publish = buf_steal(&fix);
	} else {
		c->verdict = xasprintf("%d address%s checked; each name resolves "
				       "back.", checked, checked == 1 ? "" : "es");
	}
	buf_free(&bad);
	buf_free(&fix);
}

/* ---- MTA-STS ---------------------------------------------------------------- */

/* Connect to host:port (an address DNS gave for host) within timeout. */
static int
connect_to(const char *host, int port, double timeout, char *err, size_t errlen)
{
	struct dnsq_answer a;
	dnsq_addrs(host, &a);
	if (!a.n) {
		snprintf(err, errlen, "%s: %s", host, dnsq_status_words(a.status));
		dnsq_free(&a);
		return -1;
	}
	int fd = -1;
	for (size_t i = 0; i < a.n && fd < 0; i++) {
		struct sockaddr_storage ss = { 0 };
		socklen_t sl;
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		if (inet_pton(AF_INET, a.v[i], &s4->sin_addr) == 1) {
			s4->sin_family = AF_INET;
			s4->sin_port = htons((unsigned short)port);
			sl = sizeof *s4;
		} else if (inet_pton(AF_INET6, a.v[i], &s6->sin6_addr) == 1) {
			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons((unsigned short)port);
			sl = sizeof *s6;
		} else {
			continue;
		}
		fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		if (connect(fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS) {
			snprintf(err, errlen, "%s port %d: %s", a.v[i], port,
				 strerror(errno));
			close(fd);
			fd = -1;
			continue;
		}
		struct pollfd p = { fd, POLLOUT, 0 };
		int soerr = 0;
		socklen_t len = sizeof soerr;
		if (poll(&p, 1, (int)(timeout * 1000)) != 1 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0 || soerr) {
			snprintf(err, errlen, "%s port %d: %s", a.v[i], port,
				 soerr ? strerror(soerr) : "no answer (timed out)");
			close(fd);
			fd = -1;
			continue;
		}
		/* from here on blocking, with time limits */
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
		struct timeval tv = { (time_t)timeout,
				      (suseconds_t)((timeout - (long)timeout) * 1e6) };
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	}
	dnsq_free(&a);
	return fd;
}

/*
 * Each wait of a fetch is bounded by its own deadline, not only each
 * recv(): a server that trickles a byte now and then, or streams a line
 * without end, would otherwise keep the check going for hours.  Sets the
 * socket's time limits to what is left; false once nothing is.
 */
static bool
arm(int fd, double deadline)
{
	double left = deadline - now_mono();
	if (left <= 0)
		return false;
	struct timeval tv = { (time_t)left,
			      (suseconds_t)((left - (long)left) * 1e6) };
	if (!tv.tv_sec && tv.tv_usec < 1000)
		tv.tv_usec = 1000;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	return true;
}

/* GET https://host/.well-known/mta-sts.txt; the body (heap) or NULL with
 * err. */
static char *
https_get(const char *host, const struct deliver_opts *o, char *err, size_t errlen)
{
	char why[400] = "";
	int fd = connect_to(host, o->https_port ? o->https_port : 443, o->timeout,
			    why, sizeof why);
	if (fd < 0) {
		snprintf(err, errlen, "https://%s: %s", host, why);
		return NULL;
	}
	gnutls_certificate_credentials_t cred = NULL;
	gnutls_session_t s = NULL;
	char *body = NULL;
	struct buf in = { 0 };
	int rc;

	gnutls_certificate_allocate_credentials(&cred);
	if (o->cafile)
		rc = gnutls_certificate_set_x509_trust_file(cred, o->cafile,
							    GNUTLS_X509_FMT_PEM);
	else
		rc = gnutls_certificate_set_x509_system_trust(cred);
	if (rc <= 0) {
		snprintf(err, errlen, "no trust anchors (%s)",
			 o->cafile ? o->cafile : "system store");
		goto out;
	}
	gnutls_init(&s, GNUTLS_CLIENT);
	gnutls_set_default_priority(s);
	gnutls_server_name_set(s, GNUTLS_NAME_DNS, host, strlen(host));
	gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
	gnutls_session_set_verify_cert(s, host, 0);
	gnutls_transport_set_int(s, fd);
	gnutls_handshake_set_timeout(s, (unsigned)(o->timeout * 1000));
	double hs_deadline = now_mono() + o->timeout;
	do {
		rc = gnutls_handshake(s);
	} while (rc < 0 && !gnutls_error_is_fatal(rc) && arm(fd, hs_deadline));
	if (rc < 0) {
		if (rc == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
			gnutls_datum_t d;
			unsigned status = gnutls_session_get_verify_cert_status(s);
			if (gnutls_certificate_verification_status_print(status,
				GNUTLS_CRT_X509, &d, 0) == 0) {
				snprintf(err, errlen, "https://%s: certificate: %s",
					 host, d.data);
				gnutls_free(d.data);
			} else {
				snprintf(err, errlen, "https://%s: the certificate "
					 "failed verification", host);
			}
		} else {
			snprintf(err, errlen, "https://%s: TLS: %s", host,
				 gnutls_strerror(rc));
		}
		goto out;
	}
	char req[512];
	int n = snprintf(req, sizeof req, "GET /.well-known/mta-sts.txt HTTP/1.1\r\n"
			 "Host: %s\r\nUser-Agent: smtpdx\r\nConnection: close\r\n\r\n",
			 host);
	if (gnutls_record_send(s, req, (size_t)n) != n) {
		snprintf(err, errlen, "https://%s: could not send the request", host);
		goto out;
	}
	char chunk[4096];
	ssize_t got = 1;
	double deadline = now_mono() + o->timeout;
	bool late = false;
	while (in.len < STS_MAX + 4096 && !(late = !arm(fd, deadline)) &&
	       (got = gnutls_record_recv(s, chunk, sizeof chunk)) != 0) {
		if (got == GNUTLS_E_AGAIN || got == GNUTLS_E_INTERRUPTED)
			continue;
		if (got < 0)
			break;	/* a close without close_notify: take what came */
		buf_add(&in, chunk, (size_t)got);
	}
	if (late) {
		snprintf(err, errlen, "https://%s: no complete answer within "
			 "%g s (%zu bytes came)", host, o->timeout, in.len);
		goto out;
	}
	if (!in.len) {
		snprintf(err, errlen, "https://%s: no answer", host);
		goto out;
	}
	int code = 0;
	if (sscanf(in.data, "HTTP/%*s %d", &code) != 1 || code != 200) {
		snprintf(err, errlen, "https://%s/.well-known/mta-sts.txt answered "
			 "HTTP %d%s", host, code, code >= 300 && code < 400 ?
			 " (a redirect, which RFC 8461 §3.3 forbids following)" : "");
		goto out;
	}
	char *hdr_end = strstr(in.data, "\r\n\r\n");
	if (!hdr_end || in.len - (size_t)(hdr_end + 4 - in.data) > STS_MAX) {
		snprintf(err, errlen, "https://%s: no policy body, or over 64 KiB",
			 host);
		goto out;
	}
	if (strcasestr(in.data, "transfer-encoding: chunked") &&
	    strcasestr(in.data, "transfer-encoding: chunked") < hdr_end) {
		/* rare for a static file; take the first chunk */
		char *p = hdr_end + 4;
		unsigned long len = strtoul(p, &p, 16);
		p = strstr(p, "\r\n");
		if (p && len <= (unsigned long)(in.data + in.len - p - 2))
			body = xstrndup(p + 2, len);
	} else {
		body = xstrdup(hdr_end + 4);
	}
	if (!body)
		snprintf(err, errlen, "https://%s: a body we cannot read", host);
out:
	if (s) {
		gnutls_bye(s, GNUTLS_SHUT_WR);
		gnutls_deinit(s);
	}
	if (cred)
		gnutls_certificate_free_credentials(cred);
	buf_free(&in);
	close(fd);
	return body;
}

/* RFC 8461 §4.1: "mx.example.com" or "*.example.com" (one label). */
static bool
mx_pattern_matches(const char *pat, const char *host)
{
	size_t hl = strlen(host);
	if (hl && host[hl - 1] == '.')
		hl--;
	if (pat[0] == '*' && pat[1] == '.') {
		const char *dot = memchr(host, '.', hl);
		if (!dot || dot == host)
			return false;
		size_t rest = hl - (size_t)(dot + 1 - host);
		return strlen(pat + 2) == rest && !strncasecmp(dot + 1, pat + 2, rest);
	}
	return strlen(pat) == hl && !strncasecmp(pat, host, hl);
}

static void
check_mtasts(struct deliver_report *r, const char *domain,
	     const struct mxlist *mx, const struct deliver_opts *o)
{
	struct dcheck *c = new_check(r, "mta-sts",
		"MTA-STS (RFC 8461) tells sending servers that your MX hosts "
		"always speak TLS with a valid certificate, so an attacker cannot "
		"strip STARTTLS on the way to you.");
	char name[300], *first;
	enum dnsq_status st;
	snprintf(name, sizeof name, "_mta-sts.%s", domain);
	int n = records_with(name, "v=STSv1", &c->record, &first, &st);
	if (n == 0) {
		c->status = DS_WARN;
		c->verdict = xasprintf("No MTA-STS record at _mta-sts.%s: senders "
				       "use TLS opportunistically, and a man in the "
				       "middle can strip it.", r->domain);
		char *h = safe(mx->n ? mx->names[0] : domain);
		c->publish = xasprintf("_mta-sts.%s. TXT \"v=STSv1; id=1\"\n"
				       "and serve https://mta-sts.%s/.well-known/"
				       "mta-sts.txt: version: STSv1, mode: testing, "
				       "mx: %s, max_age: 86400", r->domain,
				       r->domain, h);
		free(h);
		return;
	}
	free(first);
	char host[300], err[512] = "";
	snprintf(host, sizeof host, "mta-sts.%s", domain);
	char *body = https_get(host, o, err, sizeof err);
	if (!body) {
		char *e = safe(err);
		c->verdict = xasprintf("The TXT record is there, but the policy "
				       "could not be fetched.");
		add_diag(c, r->domain, "mtasts.policy_unreachable", e, NULL);
		return;
	}
	/* "key: value" lines, CRLF or LF */
	struct buf pats = { 0 };
	char *mode = NULL, *version = NULL, *maxage = NULL;
	const char *patv[32];
	int npat = 0;
	for (char *save = NULL, *l = strtok_r(body, "\r\n", &save); l;
	     l = strtok_r(NULL, "\r\n", &save)) {
		char *colon = strchr(l, ':');
		if (!colon)
			continue;
		*colon = '\0';
		char *v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		if (!strcasecmp(l, "version"))
			version = v;
		else if (!strcasecmp(l, "mode"))
			mode = v;
		else if (!strcasecmp(l, "max_age"))
			maxage = v;
		else if (!strcasecmp(l, "mx") && npat < 32) {
			patv[npat++] = v;
			buf_printf(&pats, "%s%s", pats.len ? " " : "", v);
		}
	}
	char *sp = safe(pats.data ? pats.data : "");
	char *sm = safe(mode ? mode : "(missing)");
	char *policy = xasprintf("%s | version: %s; mode: %s; mx: %s; max_age: %s",
				 c->record, version ? "STSv1" : "(missing)", sm, sp,
				 maxage ? "set" : "(missing)");
	free(c->record);
	c->record = policy;
	if (!version || strcmp(version, "STSv1") != 0 || !mode || !npat || !maxage) {
		c->status = DS_FAIL;
		c->verdict = xasprintf("The policy is not well-formed (RFC 8461 "
				       "§3.2: version STSv1, mode, max_age and at "
				       "least one mx line).");
	} else {
		struct buf miss = { 0 }, add = { 0 };
		for (int i = 0; i < mx->n; i++) {
			bool hit = false;
			for (int k = 0; k < npat && !hit; k++)
				hit = mx_pattern_matches(patv[k], mx->names[i]);
			if (!hit) {
				char *h = safe(mx->names[i]);
				buf_printf(&miss, "%s%s", miss.len ? ", " : "", h);
				buf_printf(&add, "\nmx: %s", h);
				free(h);
			}
		}
		if (add.len)
			c->publish = xasprintf("in https://mta-sts.%s/.well-known/"
					       "mta-sts.txt, a line for each MX host "
					       "(then a new id= in _mta-sts.%s):%s",
					       r->domain, r->domain, add.data);
		buf_free(&add);
		c->verdict = xasprintf("Mode %s; %d mx pattern%s for %d MX host%s.",
				       sm, npat, npat == 1 ? "" : "s", mx->n,
				       mx->n == 1 ? "" : "s");
		if (miss.len)
			add_diag(c, r->domain, "mtasts.mx_mismatch",
				 xasprintf("MX host%s %s match%s no mx: line "
					   "(policy: %s)", strchr(miss.data, ',') ?
					   "s" : "", miss.data,
					   strchr(miss.data, ',') ? "" : "es", sp),
				 NULL);
		else if (!strcasecmp(mode, "testing") || !strcasecmp(mode, "none"))
			c->status = DS_WARN;
		buf_free(&miss);
	}
	free(sp);
	free(sm);
	buf_free(&pats);
	free(body);
}

/* ---- DANE ---------------------------------------------------------------- */

/* Read one SMTP reply (all its lines) from fd; its code, or -1. */
static int
smtp_reply(int fd, double timeout, char *last, size_t lastlen)
{
	char line[1024];
	size_t n = 0, total = 0;
	double deadline = now_mono() + timeout;
	for (int lines = 0; lines < 200 && total < 65536; total++) {
		char ch;
		if (!arm(fd, deadline)) {
			snprintf(last, lastlen, "(no complete reply within %g s)",
				 timeout);
			return -1;
		}
		ssize_t got = recv(fd, &ch, 1, 0);
		if (got <= 0)
			return -1;
		if (ch != '\n') {
			if (n + 1 < sizeof line)
				line[n++] = ch;
			continue;
		}
		if (n && line[n - 1] == '\r')
			n--;
		line[n] = '\0';
		lines++;
		if (n >= 4 && line[3] == ' ') {
			snprintf(last, lastlen, "%s", line);
			return atoi(line);
		}
		if (n < 4 || line[3] != '-')
			return -1;
		n = 0;
	}
	snprintf(last, lastlen, "(a reply of more than 200 lines or 64 KiB)");
	return -1;
}

/* STARTTLS on host:25 and the certificate chain it presents (DER), no
 * verification (DANE is the judge here).  Returns the count, or -1 with
 * err. */
static int
peer_chain(const char *host, const struct deliver_opts *o, gnutls_datum_t *out,
	   int max, char *err, size_t errlen)
{
	char why[400] = "", last[1024] = "";
	int fd = connect_to(host, o->smtp_port ? o->smtp_port : 25, o->timeout,
			    why, sizeof why);
	if (fd < 0) {
		snprintf(err, errlen, "%s port 25: %s", host, why);
		return -1;
	}
	int n = -1;
	gnutls_session_t s = NULL;
	gnutls_certificate_credentials_t cred = NULL;
	static const char ehlo[] = "EHLO smtpdx.invalid\r\n", stls[] = "STARTTLS\r\n";
	if (smtp_reply(fd, o->timeout, last, sizeof last) != 220 ||
	    send(fd, ehlo, sizeof ehlo - 1, MSG_NOSIGNAL) < 0 ||
	    smtp_reply(fd, o->timeout, last, sizeof last) != 250 ||
	    send(fd, stls, sizeof stls - 1, MSG_NOSIGNAL) < 0 ||
	    smtp_reply(fd, o->timeout, last, sizeof last) != 220) {
		char *l = safe(last);
		snprintf(err, errlen, "%s port 25: no STARTTLS (last reply: %s)",
			 host, *l ? l : "none");
		free(l);
		goto out;
	}
	gnutls_certificate_allocate_credentials(&cred);
	gnutls_init(&s, GNUTLS_CLIENT);
	gnutls_set_default_priority(s);
	gnutls_server_name_set(s, GNUTLS_NAME_DNS, host, strlen(host));
	gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
	gnutls_transport_set_int(s, fd);
	gnutls_handshake_set_timeout(s, (unsigned)(o->timeout * 1000));
	int rc;
	double hs_deadline = now_mono() + o->timeout;
	do {
		rc = gnutls_handshake(s);
	} while (rc < 0 && !gnutls_error_is_fatal(rc) && arm(fd, hs_deadline));
	if (rc < 0) {
		snprintf(err, errlen, "%s port 25: TLS: %s", host, gnutls_strerror(rc));
		goto out;
	}
	unsigned cnt = 0;
	const gnutls_datum_t *c = gnutls_certificate_get_peers(s, &cnt);
	n = 0;
	for (unsigned i = 0; c && i < cnt && n < max; i++, n++) {
		out[n].data = xmalloc(c[i].size);
		memcpy(out[n].data, c[i].data, c[i].size);
		out[n].size = c[i].size;
	}
	gnutls_bye(s, GNUTLS_SHUT_WR);
out:
	if (s)
		gnutls_deinit(s);
	if (cred)
		gnutls_certificate_free_credentials(cred);
	close(fd);
	return n;
}

/* "3 1 1 ab12..." -> raw TLSA RDATA (heap); its length in *len. */
static char *
tlsa_raw(const char *text, int *len)
{
	unsigned u, sel, m;
	int off = 0;
	if (sscanf(text, "%u %u %u %n", &u, &sel, &m, &off) != 3)
		return NULL;
	const char *hex = text + off;
	size_t hl = strlen(hex);
	char *raw = xmalloc(3 + hl / 2 + 1);
	raw[0] = (char)u, raw[1] = (char)sel, raw[2] = (char)m;
	size_t k = 3;
	for (size_t i = 0; i + 1 < hl; i += 2) {
		unsigned v;
		if (sscanf(hex + i, "%2x", &v) != 1)
			break;
		raw[k++] = (char)v;
	}
	*len = (int)k;
	return raw;
}

static void
check_dane(struct deliver_report *r, const struct mxlist *mx,
	   const struct deliver_opts *o)
{
	struct dcheck *c = new_check(r, "dane",
		"DANE (RFC 7672) pins the MX hosts' certificates in DNSSEC-signed "
		"TLSA records, so senders that check it (Postfix with DNSSEC, "
		"many European providers) cannot be fooled by a forged "
		"certificate, and refuse to deliver when the certificate does "
		"not match.");
	struct buf rec = { 0 }, bad = { 0 }, ok = { 0 }, unreach = { 0 };
	int with = 0;
	bool all_ad = true;
	for (int i = 0; i < mx->n && i < 4; i++) {
		char name[320];
		snprintf(name, sizeof name, "_25._tcp.%s", mx->names[i]);
		struct dnsq_answer a;
		dnsq_tlsa(name, &a);
		if (!a.n) {
			dnsq_free(&a);
			continue;
		}
		with++;
		all_ad &= a.ad;
		char **data = xcalloc(a.n + 1, sizeof *data);
		int *lens = xcalloc(a.n + 1, sizeof *lens);
		size_t nd = 0;
		for (size_t k = 0; k < a.n; k++) {
			char *sa = safe(a.v[k]);
			buf_printf(&rec, "%s%s TLSA %s", rec.len ? " | " : "", name, sa);
			free(sa);
			char *raw = tlsa_raw(a.v[k], &lens[nd]);
			if (raw)
				data[nd++] = raw;
		}
		gnutls_datum_t chain[8];
		char err[600] = "";
		int nchain = peer_chain(mx->names[i], o, chain, 8, err, sizeof err);
		char *host = safe(mx->names[i]);
		if (nchain <= 0) {
			/* not compared is not a mismatch: said, not diagnosed */
			char *e = safe(err[0] ? err : "no certificate");
			buf_printf(&unreach, "%s%s", unreach.len ? "; " : "", e);
			free(e);
		} else {
			dane_state_t st = NULL;
			dane_query_t q = NULL;
			unsigned verify = 0;
			int rc = dane_state_init(&st, DANE_F_IGNORE_DNSSEC);
			if (rc == DANE_E_SUCCESS)
				rc = dane_raw_tlsa(st, &q, data, lens, 1, 0);
			/* the match is judged here; DNSSEC is said on its own */
			if (rc == DANE_E_SUCCESS)
				rc = dane_verify_crt_raw(st, chain, (unsigned)nchain,
							 GNUTLS_CRT_X509, q, 0, 0,
							 &verify);
			if (rc != DANE_E_SUCCESS || verify) {
				gnutls_datum_t why = { NULL, 0 };
				if (rc == DANE_E_SUCCESS)
					dane_verification_status_print(verify, &why, 0);
				buf_printf(&bad, "%s%s: the certificate it presents "
					   "matches none of its %zu TLSA record%s (%s)",
					   bad.len ? "; " : "", host, nd, nd == 1 ? "" : "s",
					   rc != DANE_E_SUCCESS ? dane_strerror(rc) :
					   why.data ? (char *)why.data : "differs");
				gnutls_free(why.data);
			} else {
				buf_printf(&ok, "%s%s", ok.len ? ", " : "", host);
			}
			if (q)
				dane_query_deinit(q);
			if (st)
				dane_state_deinit(st);
			for (int k = 0; k < nchain; k++)
				free(chain[k].data);
		}
		free(host);
		for (size_t k = 0; k < nd; k++)
			free(data[k]);
		free(data);
		free(lens);
		dnsq_free(&a);
	}
	c->record = rec.data ? buf_steal(&rec) : xstrdup("");
	if (!with) {
		c->status = DS_WARN;
		c->verdict = xasprintf("No TLSA records for the MX hosts: DANE is "
				       "not in use (it needs DNSSEC; MTA-STS is the "
				       "alternative).");
	} else {
		const char *dnssec = all_ad ?
			"DNSSEC: the resolver says the TLSA answers are "
			"authenticated (AD bit)." :
			"DNSSEC: the resolver did not authenticate the TLSA answers "
			"(no AD bit), so senders that check DANE ignore them.";
		c->verdict = xasprintf("%d MX host%s with TLSA records; %s %s",
				       with, with == 1 ? "" : "s",
				       ok.len ? "certificate matches for" : "no match",
				       ok.len ? ok.data : "");
		char *v = xasprintf("%s %s", c->verdict, dnssec);
		free(c->verdict);
		c->verdict = v;
		if (unreach.len) {
			v = xasprintf("%s Not compared (no certificate to compare "
				      "with): %s.", c->verdict, unreach.data);
			free(c->verdict);
			c->verdict = v;
		}
		if (bad.len)
			add_diag(c, r->domain, "dane.mismatch", xstrdup(bad.data), NULL);
		else if ((!all_ad || unreach.len) && c->status == DS_OK)
			c->status = DS_WARN;
	}
	buf_free(&ok);
	buf_free(&bad);
	buf_free(&unreach);
}

/* ---- the whole run ------------------------------------------------------- */

void
deliver_run(const char *domain, const struct deliver_opts *o,
	    struct deliver_report *r)
{
	memset(r, 0, sizeof *r);
	char *d = safe(domain);
	snprintf(r->domain, sizeof r->domain, "%s", d);
	free(d);
	struct mxlist mx = { 0 };
#define STEP(name) do { if (o->progress) o->progress(o->progress_ctx, name); } while (0)
	STEP("mx");
	check_mx(r, domain, &mx);
	STEP("spf");
	check_spf(r, domain);
	STEP("dmarc");
	check_dmarc(r, domain);
	STEP("mta-sts");
	check_mtasts(r, domain, &mx, o);
	STEP("tls-rpt");
	check_tlsrpt(r, domain);
	if (o->dkim_selector) {
		STEP("dkim");
		check_dkim(r, domain, o->dkim_selector);
	}
	if (!mx.null_mx) {
		STEP("dane");
		check_dane(r, &mx, o);
	}
	if (!mx.null_mx || o->sending_ip) {
		STEP("rdns");
		check_rdns(r, &mx, o->sending_ip);
	}
#undef STEP
	for (int i = 0; i < mx.n; i++)
		free(mx.names[i]);
}

void
deliver_free(struct deliver_report *r)
{
	for (int i = 0; i < r->n; i++) {
		free(r->v[i].record);
		free(r->v[i].verdict);
		free(r->v[i].publish);
		diag_list_free(&r->v[i].diags);
	}
	r->n = 0;
}

int
deliver_exit_status(const struct deliver_report *r)
{
	for (int i = 0; i < r->n; i++)
		if (r->v[i].status == DS_FAIL)
			return 1;
	return 0;
}

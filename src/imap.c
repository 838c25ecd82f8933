/*
 * imap.c - the test message, read back over IMAP (imap.h says why our own
 * client and how it is bounded).
 *
 * One blocking run made of non-blocking steps: every wait is a poll()
 * with the step's deadline, every byte read goes through one line reader
 * that caps lines and literals, and everything that crosses the wire
 * lands in the run's own transcript (the AUTHENTICATE/LOGIN secret as
 * "<redacted>").
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "imap.h"
#include "net.h"
#include "report.h"
#include "util.h"

/* ---- the URL --------------------------------------------------------- */

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
fb_url_parse(const char *url, struct fb_url *u, char *err, size_t errlen)
{
	memset(u, 0, sizeof *u);
	const char *rest;
	if (!strncasecmp(url, "imaps://", 8)) {
		u->implicit = true;
		rest = url + 8;
	} else if (!strncasecmp(url, "imap://", 7)) {
		rest = url + 7;
	} else {
		snprintf(err, errlen, "--fetch-back wants imaps://USER@HOST[:PORT] "
			 "or imap://USER@HOST[:PORT] (STARTTLS), not '%s'", url);
		return -1;
	}
	const char *at = strrchr(rest, '@');
	if (!at || at == rest) {
		snprintf(err, errlen, "--fetch-back %s: name the mailbox's user "
			 "(imaps://USER@HOST)", url);
		return -1;
	}
	size_t n = 0;
	for (const char *p = rest; p < at; p++) {
		int c = (unsigned char)*p;
		if (c == ':') {
			snprintf(err, errlen, "--fetch-back: no password in the URL "
				 "(it would be visible in ps): use --password-file, "
				 "SMTPDX_IMAP_PASSWORD or the prompt");
			return -1;
		}
		if (c == '%' && p + 2 < at && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
			c = hexval(p[1]) * 16 + hexval(p[2]);
			p += 2;
		}
		if (c < 0x20 || c == 0x7f || n + 1 >= sizeof u->user) {
			snprintf(err, errlen, "--fetch-back: bad user in '%s'", url);
			return -1;
		}
		u->user[n++] = (char)c;
	}
	const char *h = at + 1, *port = NULL;
	size_t hl;
	if (*h == '[') {
		const char *close = strchr(h, ']');
		if (!close) {
			snprintf(err, errlen, "--fetch-back: missing ']' in '%s'", url);
			return -1;
		}
		hl = (size_t)(close - h - 1);
		h++;
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] && strcmp(close + 1, "/")) {
			snprintf(err, errlen, "--fetch-back: bad host in '%s'", url);
			return -1;
		}
	} else {
		hl = strcspn(h, ":/");
		if (h[hl] == ':')
			port = h + hl + 1;
		else if (h[hl] && strcmp(h + hl, "/")) {
			snprintf(err, errlen, "--fetch-back: only imaps://USER@HOST"
				 "[:PORT] (INBOX is searched), not '%s'", url);
			return -1;
		}
	}
	if (hl == 0 || hl >= sizeof u->host || memchr(h, ' ', hl)) {
		snprintf(err, errlen, "--fetch-back: bad host in '%s'", url);
		return -1;
	}
	memcpy(u->host, h, hl);
	u->port = u->implicit ? 993 : 143;
	if (port) {
		char *end;
		long v = strtol(port, &end, 10);
		if (end == port || (*end && strcmp(end, "/")) || v < 1 || v > 65535) {
			snprintf(err, errlen, "--fetch-back: bad port in '%s'", url);
			return -1;
		}
		u->port = (int)v;
	}
	return 0;
}

/* ---- diagnoses ------------------------------------------------------- */

struct subst {
	const char *host, *user, *from;
	int port;
};

static void
add_diag(struct diag_list *l, enum diag_id id, const struct subst *sb,
	 const char *fmt, ...) PRINTF(4, 5);

static void
add_diag(struct diag_list *l, enum diag_id id, const struct subst *sb,
	 const char *fmt, ...)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].id == id)
			return;		/* one of each */
	const struct diag_info *di = diag_info(id);
	va_list ap;
	va_start(ap, fmt);
	char *raw = xvasprintf(fmt, ap);
	va_end(ap);
	char port[16];
	snprintf(port, sizeof port, "%d", sb->port);
	const char *keys[] = { "{host}", "{user}", "{from}", "{port}" };
	const char *vals[] = { sb->host ? sb->host : "", sb->user ? sb->user : "",
			       sb->from && *sb->from ? sb->from : "the sender",
			       port };
	char *ex = xstrdup(di->explanation), *fix = xstrdup(di->fix);
	for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
		char *e2 = str_subst(ex, keys[k], vals[k]);
		char *f2 = str_subst(fix, keys[k], vals[k]);
		free(ex);
		free(fix);
		ex = e2;
		fix = f2;
	}
	l->v = xrealloc(l->v, (l->n + 1) * sizeof *l->v);
	struct diagnosis *d = &l->v[l->n++];
	memset(d, 0, sizeof *d);
	d->id = id;
	d->sev = di->sev;
	d->step = di->step;
	d->evidence = vis_escape(raw, strlen(raw));
	d->explanation = ex;
	d->fix = fix;
	d->path = xmalloc(sizeof *d->path);
	d->npath = 0;
	free(raw);
}

/* ---- the header ------------------------------------------------------ */

/* Civil date to days since 1970-01-01 (Howard Hinnant's algorithm). */
static long
days_from_civil(long y, int m, int d)
{
	y -= m <= 2;
	long era = (y >= 0 ? y : y - 399) / 400;
	long yoe = y - era * 400;
	long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

double
fb_parse_date(const char *s)
{
	static const char *months[] = { "jan", "feb", "mar", "apr", "may", "jun",
					"jul", "aug", "sep", "oct", "nov", "dec" };
	const char *p = s;
	while (*p == ' ' || *p == '\t')
		p++;
	const char *comma = strchr(p, ',');
	if (comma && comma - p <= 9)
		p = comma + 1;
	int day, year, hh, mm, ss = 0, used = 0;
	char mon[4] = "";
	if (sscanf(p, " %2d %3s %4d %2d:%2d%n", &day, mon, &year, &hh, &mm,
		   &used) != 5)
		return -1;
	p += used;
	if (*p == ':') {
		int u2 = 0;
		if (sscanf(p, ":%2d%n", &ss, &u2) != 1)
			return -1;
		p += u2;
	}
	int m = -1;
	for (int i = 0; i < 12; i++)
		if (!strncasecmp(mon, months[i], 3))
			m = i + 1;
	if (m < 0 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60)
		return -1;
	if (year < 50)
		year += 2000;
	else if (year < 1000)
		year += 1900;
	while (*p == ' ' || *p == '\t')
		p++;
	long off = 0;
	if ((*p == '+' || *p == '-') && strspn(p + 1, "0123456789") >= 4) {
		int z = (p[1] - '0') * 1000 + (p[2] - '0') * 100 + (p[3] - '0') * 10 +
			(p[4] - '0');
		off = (z / 100) * 3600L + (z % 100) * 60L;
		if (*p == '-')
			off = -off;
	} else {
		static const struct { const char *n; int h; } zones[] = {
			{ "UT", 0 }, { "GMT", 0 }, { "UTC", 0 }, { "Z", 0 },
			{ "EST", -5 }, { "EDT", -4 }, { "CST", -6 }, { "CDT", -5 },
			{ "MST", -7 }, { "MDT", -6 }, { "PST", -8 }, { "PDT", -7 },
		};
		for (size_t i = 0; i < ARRAY_SIZE(zones); i++) {
			size_t zl = strlen(zones[i].n);
			if (!strncasecmp(p, zones[i].n, zl) &&
			    !((p[zl] >= 'A' && p[zl] <= 'Z') ||
			      (p[zl] >= 'a' && p[zl] <= 'z')))
				off = zones[i].h * 3600L;
		}
	}
	return (double)days_from_civil(year, m, day) * 86400.0 + hh * 3600.0 +
	       mm * 60.0 + ss - (double)off;
}

struct field {
	char *name, *value;	/* raw (unfolded), not yet safe */
};

#define FB_FIELDS_MAX 2000

/* Split the header into unfolded fields. */
static size_t
split_fields(const char *hdr, size_t len, struct field **out)
{
	struct field *v = NULL;
	size_t n = 0;
	struct buf cur = { 0 };
	bool have = false;
	const char *p = hdr, *end = hdr + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		size_t ll = (size_t)(le - p);
		if (ll && p[ll - 1] == '\r')
			ll--;
		if (ll == 0)
			break;		/* the blank line: end of header */
		bool cont = p[0] == ' ' || p[0] == '\t';
		if (!cont && have) {
			char *colon = memchr(cur.data, ':', cur.len);
			if (colon && n < FB_FIELDS_MAX) {
				v = xrealloc(v, (n + 1) * sizeof *v);
				v[n].name = xstrndup(cur.data, (size_t)(colon - cur.data));
				const char *val = colon + 1;
				while (*val == ' ' || *val == '\t')
					val++;
				v[n].value = xstrdup(val);
				n++;
			}
			buf_reset(&cur);
			have = false;
		}
		if (cont && !have) {
			p = nl ? nl + 1 : end;
			continue;	/* a continuation of nothing */
		}
		buf_add(&cur, p, ll);
		have = true;
		p = nl ? nl + 1 : end;
	}
	if (have && cur.len) {
		buf_addc(&cur, '\0');
		char *colon = strchr(cur.data, ':');
		if (colon && n < FB_FIELDS_MAX) {
			v = xrealloc(v, (n + 1) * sizeof *v);
			v[n].name = xstrndup(cur.data, (size_t)(colon - cur.data));
			const char *val = colon + 1;
			while (*val == ' ' || *val == '\t')
				val++;
			v[n].value = xstrdup(val);
			n++;
		}
	}
	buf_free(&cur);
	*out = v;
	return n;
}

/* Trimmed, whitespace runs collapsed, made safe. */
static char *
clean(const char *s, size_t n)
{
	struct buf b = { 0 };
	bool sp = false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			sp = b.len > 0;
			continue;
		}
		if (sp)
			buf_addc(&b, ' ');
		sp = false;
		buf_addc(&b, c);
	}
	if (b.len > 400)
		b.len = 400;	/* a hop's clause, not a novel */
	char *r = vis_escape(b.data ? b.data : "", b.len);
	buf_free(&b);
	return r;
}

/* "from A (B) by C with ESMTPS id X for <y>; DATE" */
static void
parse_received(const char *v, struct fb_hop *h)
{
	const char *semi = strrchr(v, ';');
	size_t body = semi ? (size_t)(semi - v) : strlen(v);
	static const char *kw[] = { "from", "by", "via", "with", "id", "for" };
	const char *start[ARRAY_SIZE(kw)] = { 0 };
	size_t len[ARRAY_SIZE(kw)] = { 0 };
	int cur = -1, depth = 0;
	size_t i = 0;
	while (i < body) {
		char c = v[i];
		if (c == '(') {
			depth++;
		} else if (c == ')' && depth > 0) {
			depth--;
		} else if (depth == 0 && (i == 0 || v[i - 1] == ' ' ||
					  v[i - 1] == '\t')) {
			for (size_t k = 0; k < ARRAY_SIZE(kw); k++) {
				size_t kl = strlen(kw[k]);
				if (i + kl < body && !strncasecmp(v + i, kw[k], kl) &&
				    (v[i + kl] == ' ' || v[i + kl] == '\t')) {
					if (cur >= 0 && start[cur])
						len[cur] = (size_t)(v + i - start[cur]);
					cur = (int)k;
					start[k] = v + i + kl;
					i += kl;
					break;
				}
			}
		}
		i++;
	}
	if (cur >= 0 && start[cur])
		len[cur] = (size_t)(v + body - start[cur]);
	h->from = clean(start[0] ? start[0] : "", len[0]);
	h->by = clean(start[1] ? start[1] : "", len[1]);
	h->with = clean(start[3] ? start[3] : "", len[3]);
	h->id = clean(start[4] ? start[4] : "", len[4]);
	h->date = semi ? clean(semi + 1, strlen(semi + 1)) : xstrdup("");
	h->epoch = semi ? fb_parse_date(semi + 1) : -1;
	h->delay = 0;
	h->has_delay = false;
}

/* Copy s without (comments), nested or not. */
static char *
strip_comments(const char *s)
{
	struct buf b = { 0 };
	int depth = 0;
	for (; *s; s++) {
		if (*s == '\\' && s[1] && depth) {
			s++;
			continue;
		}
		if (*s == '(')
			depth++;
		else if (*s == ')' && depth > 0)
			depth--;
		else if (!depth)
			buf_addc(&b, *s);
	}
	buf_addc(&b, '\0');
	return buf_steal(&b);
}

static void
add_auth(struct fb_header *h, const char *serv, const char *method,
	 size_t ml, const char *result, size_t rl, const char *detail)
{
	if (h->nauth >= 64)
		return;
	h->auth = xrealloc(h->auth, (h->nauth + 1) * sizeof *h->auth);
	struct fb_auth *a = &h->auth[h->nauth++];
	a->authserv = clean(serv, strlen(serv));
	a->method = clean(method, ml);
	for (char *q = a->method; *q; q++)
		if (*q >= 'A' && *q <= 'Z')
			*q = (char)(*q - 'A' + 'a');
	a->result = clean(result, rl);
	for (char *q = a->result; *q; q++)
		if (*q >= 'A' && *q <= 'Z')
			*q = (char)(*q - 'A' + 'a');
	a->detail = clean(detail, strlen(detail));
}

/* RFC 8601 §2.2: authserv-id [version] ( ";" resinfo )* | "none" */
static void
parse_ar(const char *v, struct fb_header *h)
{
	char *s = strip_comments(v);
	char *save = NULL;
	char *part = strtok_r(s, ";", &save);
	if (!part) {
		free(s);
		return;
	}
	char serv[256];
	size_t sl = strspn(part, " \t");
	size_t sw = strcspn(part + sl, " \t");
	snprintf(serv, sizeof serv, "%.*s", (int)sw, part + sl);
	while ((part = strtok_r(NULL, ";", &save))) {
		while (*part == ' ' || *part == '\t')
			part++;
		char *eq = strchr(part, '=');
		size_t ml = strcspn(part, "= \t");
		if (!eq || ml == 0 || part + ml != eq)
			continue;	/* "none", or not a method=result */
		const char *res = eq + 1;
		while (*res == ' ' || *res == '\t')
			res++;
		size_t rl = strcspn(res, " \t");
		if (!rl)
			continue;
		add_auth(h, serv, part, ml, res, rl, res + rl);
	}
	free(s);
}

static bool
is_spam_header(const char *name)
{
	static const char *prefixes[] = {
		"x-spam", "x-rspamd", "x-spamd", "x-ham-report",
		"x-ms-exchange-organization-scl", "x-forefront-antispam-report",
		"x-microsoft-antispam", "x-mailscanner-spamcheck",
		"x-proofpoint-spam", "x-yandex-spam", "x-gmx-antispam",
		"x-virus-scanned", "x-amavis",
	};
	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++)
		if (!strncasecmp(name, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

void
fb_header_parse(const char *hdr, size_t len, struct fb_header *h)
{
	memset(h, 0, sizeof *h);
	struct field *f = NULL;
	size_t n = split_fields(hdr, len, &f);
	size_t nrec = 0, last_rec = 0;
	for (size_t i = 0; i < n; i++)
		if (!strcasecmp(f[i].name, "Received")) {
			nrec++;
			last_rec = i;
		}
	if (nrec > 100)
		nrec = 100;
	h->hops = nrec ? xcalloc(nrec, sizeof *h->hops) : NULL;
	/* the topmost Received is the newest: fill from the end */
	size_t k = nrec;
	for (size_t i = 0; i < n; i++) {
		const char *name = f[i].name, *v = f[i].value;
		/* RFC 8601 §5: a verdict counts only where a receiver wrote
		 * it; what sits below the oldest Received came with the
		 * message, and anyone can write that */
		bool trusted = nrec && i < last_rec;
		size_t nauth0 = h->nauth;
		if (!strcasecmp(name, "Received")) {
			if (k > 0)
				parse_received(v, &h->hops[--k]);
		} else if (!strcasecmp(name, "Authentication-Results")) {
			parse_ar(v, h);
		} else if (!strcasecmp(name, "Received-SPF")) {
			size_t rl = strcspn(v, " \t(");
			add_auth(h, "Received-SPF", "spf", 3, v, rl, v + rl);
		} else if (!strcasecmp(name, "Date") && !h->date) {
			h->date = clean(v, strlen(v));
		} else if (!strcasecmp(name, "Subject") && !h->subject) {
			h->subject = clean(v, strlen(v));
		} else if (is_spam_header(name) && h->nspam < 32) {
			h->spam = xrealloc(h->spam, (h->nspam + 1) * sizeof *h->spam);
			h->spam[h->nspam].name = clean(name, strlen(name));
			h->spam[h->nspam].value = clean(v, strlen(v));
			h->spam[h->nspam].trusted = trusted;
			h->nspam++;
		}
		for (size_t j = nauth0; j < h->nauth; j++)
			h->auth[j].trusted = trusted;
	}
	h->nhops = nrec;
	double prev = h->date ? fb_parse_date(h->date) : -1;
	for (size_t i = 0; i < h->nhops; i++) {
		double e = h->hops[i].epoch;
		if (e >= 0 && prev >= 0) {
			double d = e - prev;
			h->hops[i].has_delay = true;
			h->hops[i].delay = d < 0 && d > -FB_SKEW ? 0 : d;
		}
		if (e >= 0)
			prev = e;
	}
	if (!h->date)
		h->date = xstrdup("");
	if (!h->subject)
		h->subject = xstrdup("");
	for (size_t i = 0; i < n; i++) {
		free(f[i].name);
		free(f[i].value);
	}
	free(f);
}

void
fb_header_free(struct fb_header *h)
{
	for (size_t i = 0; i < h->nhops; i++) {
		free(h->hops[i].from);
		free(h->hops[i].by);
		free(h->hops[i].with);
		free(h->hops[i].id);
		free(h->hops[i].date);
	}
	for (size_t i = 0; i < h->nauth; i++) {
		free(h->auth[i].authserv);
		free(h->auth[i].method);
		free(h->auth[i].result);
		free(h->auth[i].detail);
	}
	for (size_t i = 0; i < h->nspam; i++) {
		free(h->spam[i].name);
		free(h->spam[i].value);
	}
	free(h->hops);
	free(h->auth);
	free(h->spam);
	free(h->date);
	free(h->subject);
	memset(h, 0, sizeof *h);
}

void
fb_judge(const struct fb_header *h, const char *from, struct diag_list *l)
{
	struct subst sb = { .from = from };
	bool dkim_pass = false;
	for (size_t i = 0; i < h->nauth; i++)
		if (h->auth[i].trusted && !strcmp(h->auth[i].method, "dkim") &&
		    !strcmp(h->auth[i].result, "pass"))
			dkim_pass = true;
	for (size_t i = 0; i < h->nauth; i++) {
		const struct fb_auth *a = &h->auth[i];
		if (!a->trusted)
			continue;
		const char *m = a->method, *r = a->result;
		bool bad = !strcmp(r, "fail") || !strcmp(r, "permerror");
		if (!strcmp(m, "spf") && (bad || !strcmp(r, "softfail")))
			add_diag(l, D_FETCHBACK_SPF_FAIL, &sb, "%s: spf=%s %s",
				 a->authserv, r, a->detail);
		else if (!strcmp(m, "dkim") && bad && !dkim_pass)
			add_diag(l, D_FETCHBACK_DKIM_FAIL, &sb, "%s: dkim=%s %s",
				 a->authserv, r, a->detail);
		else if (!strcmp(m, "dkim") && !strcmp(r, "none") && !dkim_pass)
			add_diag(l, D_FETCHBACK_DKIM_MISSING, &sb, "%s: dkim=none %s",
				 a->authserv, a->detail);
		else if (!strcmp(m, "dmarc") && (bad || !strcmp(r, "quarantine") ||
						 !strcmp(r, "reject")))
			add_diag(l, D_FETCHBACK_DMARC_FAIL, &sb, "%s: dmarc=%s %s",
				 a->authserv, r, a->detail);
	}
	for (size_t i = 0; i < h->nspam; i++) {
		const char *n = h->spam[i].name, *v = h->spam[i].value;
		if (!h->spam[i].trusted)
			continue;
		bool flagged =
			(!strcasecmp(n, "X-Spam-Flag") && !strncasecmp(v, "yes", 3)) ||
			(!strcasecmp(n, "X-Spam-Status") && !strncasecmp(v, "yes", 3)) ||
			(!strcasecmp(n, "X-Spam") && !strncasecmp(v, "yes", 3)) ||
			(!strcasecmp(n, "X-Rspamd-Action") && strcasecmp(v, "no action")) ||
			(!strcasecmp(n, "X-MS-Exchange-Organization-SCL") &&
			 atoi(v) >= 5);
		if (flagged)
			add_diag(l, D_FETCHBACK_SPAM_FLAGGED, &sb, "%s: %s", n, v);
	}
}

/* ---- the connection -------------------------------------------------- */

enum cfail { CF_NONE, CF_TIMEOUT, CF_CLOSED, CF_PROTO, CF_IO };

struct conn {
	int fd;
	struct tls_conn *t;
	struct buf in;
	struct fetchback *fb;
	const struct fb_opts *o;
	enum cfail fail;
	char why[512];		/* raw words; escaped when used */
	unsigned tagn;
	char caps[2048];	/* " IMAP4REV1 AUTH=PLAIN ... " upper case */
	/* what the server must not get to put in our output by echoing
	 * it: the password, as sent in LOGIN (quoted) and in AUTHENTICATE
	 * PLAIN (base64); NULL none */
	const char *secret[3];
};

static void
cfail(struct conn *c, enum cfail k, const char *fmt, ...) PRINTF(3, 4);

static void
cfail(struct conn *c, enum cfail k, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof c->why, fmt, ap);
	va_end(ap);
	c->fail = k;
	tr_info(&c->fb->tr, -1, "%s", c->why);
}

static int
ms_left(double deadline)
{
	double left = deadline - now_mono();
	if (left <= 0)
		return 0;
	return left > 3600 ? 3600000 : (int)(left * 1000) + 1;
}

/* Read what is there (waiting until deadline for something). */
static int
c_fill(struct conn *c, double deadline, const char *waiting_for)
{
	char tmp[16384];
	for (;;) {
		ssize_t k;
		if (c->t) {
			k = tls_read(c->t, tmp, sizeof tmp);
			if (k == TLS_CLOSED) {
				cfail(c, CF_CLOSED, "the server closed the connection "
				      "while we waited for %s", waiting_for);
				return -1;
			}
			if (k == TLS_ERR) {
				cfail(c, CF_IO, "TLS: %s", tls_error(c->t));
				return -1;
			}
		} else {
			k = read(c->fd, tmp, sizeof tmp);
			if (k == 0) {
				cfail(c, CF_CLOSED, "the server closed the connection "
				      "while we waited for %s", waiting_for);
				return -1;
			}
			if (k < 0 && errno != EAGAIN && errno != EINTR) {
				cfail(c, CF_IO, "read: %s", strerror(errno));
				return -1;
			}
		}
		if (k > 0) {
			buf_add(&c->in, tmp, (size_t)k);
			return 0;
		}
		int ms = ms_left(deadline);
		if (ms == 0) {
			cfail(c, CF_TIMEOUT, "no %s within %.0f s", waiting_for,
			      c->o->timeout);
			return -1;
		}
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		poll(&p, 1, ms);
	}
}

static int
c_write(struct conn *c, const char *data, size_t n, double deadline)
{
	size_t off = 0;
	while (off < n) {
		ssize_t k;
		if (c->t) {
			k = tls_write(c->t, data + off, n - off);
			if (k == TLS_ERR) {
				cfail(c, CF_IO, "TLS: %s", tls_error(c->t));
				return -1;
			}
		} else {
			k = send(c->fd, data + off, n - off, MSG_NOSIGNAL);
			if (k < 0 && errno != EAGAIN && errno != EINTR) {
				cfail(c, CF_IO, "send: %s", strerror(errno));
				return -1;
			}
		}
		if (k > 0) {
			off += (size_t)k;
			continue;
		}
		int ms = ms_left(deadline);
		if (ms == 0) {
			cfail(c, CF_TIMEOUT, "could not send within %.0f s",
			      c->o->timeout);
			return -1;
		}
		struct pollfd p = { .fd = c->fd, .events = POLLOUT };
		poll(&p, 1, ms);
	}
	return 0;
}

/* text[0..n) as a new string, each secret in it "<redacted>": a server
 * that echoes a command ("a2 BAD LOGIN bob \"pw\"") must not get the
 * password into the transcript or a diagnosis. */
static char *
redact(const struct conn *c, const char *text, size_t n)
{
	struct buf b = { 0 };
	buf_add(&b, text, n);
	for (size_t i = 0; i < ARRAY_SIZE(c->secret); i++) {
		const char *sec = c->secret[i];
		size_t sl = sec ? strlen(sec) : 0;
		if (sl < 3 || !memmem(b.data, b.len, sec, sl))
			continue;
		/* one pass, never looking into what was put in */
		struct buf r = { 0 };
		size_t off = 0;
		char *at;
		while ((at = memmem(b.data + off, b.len - off, sec, sl))) {
			size_t k = (size_t)(at - b.data);
			buf_add(&r, b.data + off, k - off);
			buf_adds(&r, "<redacted>");
			off = k + sl;
		}
		buf_add(&r, b.data + off, b.len - off);
		buf_free(&b);
		b = r;
	}
	return buf_steal(&b);
}

/* One line (without CRLF), new string; NULL on failure. */
static char *
c_line(struct conn *c, double deadline, const char *waiting_for)
{
	for (;;) {
		char *nl = c->in.len ? memchr(c->in.data, '\n', c->in.len) : NULL;
		if (nl) {
			size_t n = (size_t)(nl - c->in.data);
			if (n > FB_LINE_MAX)
				break;
			size_t l = n && c->in.data[n - 1] == '\r' ? n - 1 : n;
			char *line = redact(c, c->in.data, l);
			buf_consume(&c->in, n + 1);
			return line;
		}
		if (c->in.len > FB_LINE_MAX)
			break;
		if (c_fill(c, deadline, waiting_for) < 0)
			return NULL;
	}
	cfail(c, CF_PROTO, "a line longer than %d KiB (IMAP lines are short; "
	      "big data comes as literals)", FB_LINE_MAX / 1024);
	return NULL;
}

/* Does line end in a literal announcement "{N}" or "{N+}"?  -1 no,
 * -2 a number too big, else N. */
static long
literal_size(const char *line)
{
	size_t n = strlen(line);
	if (n < 3 || line[n - 1] != '}')
		return -1;
	size_t i = n - 1;
	if (i > 0 && line[i - 1] == '+')
		i--;
	size_t e = i;
	while (i > 0 && line[i - 1] >= '0' && line[i - 1] <= '9')
		i--;
	if (i == e || i == 0 || line[i - 1] != '{')
		return -1;
	if (e - i > 9)
		return -2;
	return strtol(line + i, NULL, 10);
}

static void
show(struct conn *c, enum tr_dir dir, const char *text, size_t n)
{
	tr_add(&c->fb->tr, dir, c->t != NULL, -1, text, n);
}

typedef void (*untagged_fn)(struct conn *c, const char *line, const char *lit,
			    size_t litlen, void *arg);

struct cmd {
	const char *text;	/* the command after the tag */
	const char *shown;	/* the transcript's version, or NULL: text */
	const char *cont;	/* answer to a "+" continuation (a secret) */
	untagged_fn fn;
	void *arg;
	double deadline;
	const char *what;	/* "the answer to LOGIN", for messages */
	/* out */
	char *tagged;		/* the tagged line, after the tag */
	char status[8];		/* "OK", "NO", "BAD", "" */
};

/* Send a command and read until its tagged reply.  0 (status set), or -1
 * with c->fail set. */
static int
run_cmd(struct conn *c, struct cmd *m)
{
	char tag[16];
	snprintf(tag, sizeof tag, "a%u", ++c->tagn);
	struct buf b = { 0 };
	buf_printf(&b, "%s %s", tag, m->text);
	char *shown = xasprintf("%s %s", tag, m->shown ? m->shown : m->text);
	show(c, TR_CLIENT, shown, strlen(shown));
	free(shown);
	buf_adds(&b, "\r\n");
	int rc = c_write(c, b.data, b.len, m->deadline);
	buf_free(&b);	/* wipes: it may hold the password */
	if (rc < 0)
		return -1;
	size_t tl = strlen(tag);
	unsigned untagged = 0;
	bool cont_sent = false;
	for (;;) {
		char *line = c_line(c, m->deadline, m->what);
		if (!line)
			return -1;
		show(c, TR_SERVER, line, strlen(line));
		if (!strncmp(line, tag, tl) && line[tl] == ' ') {
			const char *st = line + tl + 1;
			size_t sl = strcspn(st, " ");
			snprintf(m->status, sizeof m->status, "%.*s",
				 (int)(sl < 7 ? sl : 7), st);
			for (char *q = m->status; *q; q++)
				if (*q >= 'a' && *q <= 'z')
					*q = (char)(*q - 'a' + 'A');
			m->tagged = xstrdup(st);
			free(line);
			return 0;
		}
		if (line[0] == '+' && m->cont && !cont_sent) {
			cont_sent = true;
			free(line);
			show(c, TR_CLIENT, "<redacted>", 10);
			struct buf r = { 0 };
			buf_printf(&r, "%s\r\n", m->cont);
			rc = c_write(c, r.data, r.len, m->deadline);
			buf_free(&r);
			if (rc < 0)
				return -1;
			continue;
		}
		if (line[0] == '+') {
			free(line);
			/* RFC 9051 §7.5: only for a literal or AUTHENTICATE */
			cfail(c, CF_PROTO, "a continuation request (+) that no "
			      "command asked for");
			return -1;
		}
		if (++untagged > FB_UNTAGGED_MAX) {
			free(line);
			cfail(c, CF_PROTO, "more than %d untagged lines without the "
			      "tagged answer (%s)", FB_UNTAGGED_MAX, m->what);
			return -1;
		}
		/* the literals of this response: the first one kept */
		char *lit = NULL;
		size_t litlen = 0;
		long ls;
		char *first = line;
		char *cur = line;
		while ((ls = literal_size(cur)) != -1) {
			if (ls < 0 || ls > FB_LITERAL_MAX) {
				if (cur != first)
					free(cur);
				free(first);
				free(lit);
				char n[32];
				if (ls < 0)
					snprintf(n, sizeof n, "a billion or more");
				else
					snprintf(n, sizeof n, "%ld", ls);
				cfail(c, CF_PROTO, "a literal of %s bytes announced "
				      "(more than %d KiB: not read)", n,
				      FB_LITERAL_MAX / 1024);
				return -1;
			}
			while (c->in.len < (size_t)ls)
				if (c_fill(c, m->deadline, m->what) < 0) {
					if (cur != first)
						free(cur);
					free(first);
					free(lit);
					return -1;
				}
			if (!lit) {
				lit = xstrndup(c->in.data, (size_t)ls);
				litlen = (size_t)ls;
			}
			tr_info(&c->fb->tr, -1, "(a literal of %ld bytes)", ls);
			buf_consume(&c->in, (size_t)ls);
			if (cur != first)
				free(cur);
			cur = c_line(c, m->deadline, m->what);
			if (!cur) {
				free(first);
				free(lit);
				return -1;
			}
			show(c, TR_SERVER, cur, strlen(cur));
			if (++untagged > FB_UNTAGGED_MAX) {
				free(cur);
				free(first);
				free(lit);
				cfail(c, CF_PROTO, "more than %d lines without the "
				      "tagged answer (%s)", FB_UNTAGGED_MAX, m->what);
				return -1;
			}
		}
		if (cur != first)
			free(cur);
		if (m->fn && !strncmp(first, "* ", 2))
			m->fn(c, first, lit, litlen, m->arg);
		if (!strncasecmp(first, "* BYE", 5))
			tr_info(&c->fb->tr, -1, "the server says it is closing "
				"the connection");
		free(first);
		free(lit);
	}
}

static void
on_caps(struct conn *c, const char *line, const char *lit, size_t litlen,
	void *arg)
{
	(void)lit;
	(void)litlen;
	(void)arg;
	const char *p = line + 2;
	if (strncasecmp(p, "CAPABILITY ", 11))
		return;
	snprintf(c->caps, sizeof c->caps, " %s ", p + 11);
	for (char *q = c->caps; *q; q++)
		if (*q >= 'a' && *q <= 'z')
			*q = (char)(*q - 'a' + 'A');
}

static bool
has_cap(const struct conn *c, const char *cap)
{
	char pat[64];
	snprintf(pat, sizeof pat, " %s ", cap);
	return strstr(c->caps, pat) != NULL;
}

struct search {
	unsigned long uid;
};

static void
on_search(struct conn *c, const char *line, const char *lit, size_t litlen,
	  void *arg)
{
	(void)c;
	(void)lit;
	(void)litlen;
	struct search *s = arg;
	const char *p = line + 2;
	if (strncasecmp(p, "SEARCH", 6) || (p[6] && p[6] != ' '))
		return;
	p += 6;
	while (*p == ' ') {
		p++;
		if (*p < '0' || *p > '9')
			break;
		char *end;
		errno = 0;
		unsigned long v = strtoul(p, &end, 10);
		if (errno || v == 0 || v > 4294967295UL)
			break;
		if (v > s->uid)
			s->uid = v;	/* the newest, if the token is there twice */
		p = end;
	}
}

struct fetched {
	char *hdr;
	size_t len;
};

static void
on_fetch(struct conn *c, const char *line, const char *lit, size_t litlen,
	 void *arg)
{
	(void)c;
	struct fetched *f = arg;
	if (!lit || f->hdr || !strcasestr_ascii(line, " FETCH ") ||
	    !strcasestr_ascii(line, "BODY[HEADER]"))
		return;
	f->hdr = xstrndup(lit, litlen);
	f->len = litlen;
}

/* ---- the run --------------------------------------------------------- */

static double
deadline_of(const struct fb_opts *o)
{
	return now_mono() + o->timeout;
}

/* Resolve and connect: the socket, or -1 (a diagnosis added). */
static int
fb_connect(struct conn *c, const struct subst *sb)
{
	const struct fb_opts *o = c->o;
	struct fetchback *fb = c->fb;
	double dl = deadline_of(o);
	struct resolver *r = resolve_start(o->url.host, o->url.port, o->family);
	struct pollfd p = { .fd = resolve_fd(r), .events = POLLIN };
	if (poll(&p, 1, ms_left(dl)) <= 0) {
		resolve_abandon(r);
		tr_info(&fb->tr, -1, "no answer from DNS for %s within %.0f s",
			o->url.host, o->timeout);
		add_diag(&fb->diags, D_FETCHBACK_CONNECT_FAILED, sb,
			 "%s: DNS did not answer", o->url.host);
		return -1;
	}
	struct address a[NET_MAX_ADDRS];
	int n = 0;
	char err[256];
	if (resolve_finish(r, a, NET_MAX_ADDRS, &n, err, sizeof err) != RES_OK ||
	    n == 0) {
		tr_info(&fb->tr, -1, "%s: %s", o->url.host, err);
		add_diag(&fb->diags, D_FETCHBACK_CONNECT_FAILED, sb, "%s: %s",
			 o->url.host, err);
		return -1;
	}
	char last[300] = "";
	for (int i = 0; i < n; i++) {
		tr_info(&fb->tr, -1, "connecting to %s port %d (IMAP%s)", a[i].text,
			o->url.port, o->url.implicit ? " over implicit TLS" : "");
		int fd = connect_start(&a[i]);
		if (fd < 0) {
			snprintf(last, sizeof last, "%s: %s", a[i].text, strerror(errno));
			continue;
		}
		struct pollfd q = { .fd = fd, .events = POLLOUT };
		int ms = ms_left(dl);
		int rc = ms ? poll(&q, 1, ms) : 0;
		int e = rc > 0 ? connect_result(fd) : ETIMEDOUT;
		if (e == 0) {
			tr_info(&fb->tr, -1, "connected to %s port %d", a[i].text,
				o->url.port);
			return fd;
		}
		close(fd);
		snprintf(last, sizeof last, "%s port %d: %s", a[i].text, o->url.port,
			 e == ETIMEDOUT ? "no answer (timed out)" : strerror(e));
		tr_info(&fb->tr, -1, "%s", last);
		if (!ms_left(dl))
			break;
	}
	add_diag(&fb->diags, D_FETCHBACK_CONNECT_FAILED, sb, "%s", last);
	return -1;
}

/* TLS on c->fd; 0 or -1 (a diagnosis added). */
static int
fb_tls(struct conn *c, const struct subst *sb)
{
	const struct fb_opts *o = c->o;
	struct fetchback *fb = c->fb;
	struct tls_opts to = {
		.servername = o->servername ? o->servername : o->url.host,
		.cafile = o->cafile,
		.min_version = o->tls_min ? o->tls_min : 12,
	};
	char err[256];
	c->t = tls_new(c->fd, &to, err, sizeof err);
	if (!c->t) {
		tr_info(&fb->tr, -1, "%s", err);
		add_diag(&fb->diags, D_FETCHBACK_TLS_FAILED, sb, "%s", err);
		return -1;
	}
	double dl = deadline_of(o);
	enum tls_rc rc;
	while ((rc = tls_handshake(c->t)) == TLS_AGAIN) {
		int ms = ms_left(dl);
		if (!ms) {
			tr_info(&fb->tr, -1, "no TLS handshake within %.0f s",
				o->timeout);
			add_diag(&fb->diags, D_FETCHBACK_TLS_FAILED, sb,
				 "the TLS handshake did not finish within %.0f s",
				 o->timeout);
			return -1;
		}
		struct pollfd p = { .fd = c->fd, .events = tls_want(c->t) };
		poll(&p, 1, ms);
	}
	if (rc != TLS_OK) {
		tr_info(&fb->tr, -1, "TLS handshake failed: %s", tls_error(c->t));
		add_diag(&fb->diags, D_FETCHBACK_TLS_FAILED, sb,
			 "TLS handshake failed: %s", tls_error(c->t));
		return -1;
	}
	tls_check(c->t, &fb->tls);
	fb->encrypted = true;
	tr_info(&fb->tr, -1, "TLS: %s %s, certificate %s", fb->tls.version,
		fb->tls.cipher, fb->tls.verified ? "verified" : fb->tls.verdict);
	if (!fb->tls.verified) {
		if (!o->insecure) {
			add_diag(&fb->diags, D_FETCHBACK_TLS_FAILED, sb,
				 "certificate of %s: %s", to.servername,
				 fb->tls.verdict);
			return -1;
		}
		tr_info(&fb->tr, -1, "--insecure: going on past the certificate "
			"failure");
	}
	return 0;
}

/* A failed command: the diagnosis from how it failed. */
static void
cmd_failed(struct conn *c, const struct subst *sb, const char *what)
{
	struct diag_list *l = &c->fb->diags;
	/* no answer in time, or one that broke the protocol (a closed
	 * connection included: a server that hangs up mid-command) */
	add_diag(l, c->fail == CF_TIMEOUT ? D_FETCHBACK_TIMEOUT :
		 D_FETCHBACK_PROTOCOL_ERROR, sb, "%s: %s", what, c->why);
}

/* Quote s as an IMAP quoted string into b; -1 if it cannot be quoted. */
static int
quote(struct buf *b, const char *s)
{
	buf_addc(b, '"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '\r' || ch == '\n' || ch >= 0x80)
			return -1;
		if (ch == '"' || ch == '\\')
			buf_addc(b, '\\');
		buf_addc(b, (char)ch);
	}
	buf_addc(b, '"');
	return 0;
}

static int
fb_login(struct conn *c, const struct subst *sb)
{
	const struct fb_opts *o = c->o;
	struct fetchback *fb = c->fb;
	struct cmd m = { .deadline = deadline_of(o), .what = "the answer to "
			 "the login" };
	struct buf b = { 0 }, sh = { 0 };
	char *payload = NULL;
	if (has_cap(c, "AUTH=PLAIN")) {
		/* RFC 4616: authzid NUL authcid NUL passwd */
		struct buf raw = { 0 };
		buf_addc(&raw, '\0');
		buf_adds(&raw, o->url.user);
		buf_addc(&raw, '\0');
		buf_adds(&raw, o->password);
		payload = b64_encode(raw.data, raw.len);
		buf_free(&raw);
		if (has_cap(c, "SASL-IR")) {
			buf_printf(&b, "AUTHENTICATE PLAIN %s", payload);
			buf_adds(&sh, "AUTHENTICATE PLAIN <redacted>");
		} else {
			buf_adds(&b, "AUTHENTICATE PLAIN");
			buf_adds(&sh, "AUTHENTICATE PLAIN");
			m.cont = payload;
		}
	} else if (has_cap(c, "LOGINDISABLED")) {
		add_diag(&fb->diags, D_FETCHBACK_LOGIN_FAILED, sb, "the server "
			 "offers neither AUTH=PLAIN nor LOGIN (LOGINDISABLED): "
			 "capabilities%s", c->caps);
		return -1;
	} else {
		buf_adds(&b, "LOGIN ");
		buf_adds(&sh, "LOGIN ");
		if (quote(&b, o->url.user) < 0 || quote(&sh, o->url.user) < 0) {
			buf_free(&b);
			buf_free(&sh);
			add_diag(&fb->diags, D_FETCHBACK_LOGIN_FAILED, sb, "the user "
				 "name cannot go in LOGIN (8-bit or line ends), and the "
				 "server offers no AUTH=PLAIN");
			return -1;
		}
		buf_addc(&b, ' ');
		if (quote(&b, o->password) < 0) {
			buf_free(&b);
			buf_free(&sh);
			add_diag(&fb->diags, D_FETCHBACK_LOGIN_FAILED, sb, "the "
				 "password cannot go in LOGIN (8-bit characters), and "
				 "the server offers no AUTH=PLAIN");
			return -1;
		}
		buf_adds(&sh, " <redacted>");
	}
	buf_addc(&b, '\0');
	buf_addc(&sh, '\0');
	m.text = b.data;
	m.shown = sh.data;
	/* the password as LOGIN's quoted string holds it (\" and \\) */
	struct buf qp = { 0 };
	for (const char *q = o->password; *q; q++) {
		if (*q == '"' || *q == '\\')
			buf_addc(&qp, '\\');
		buf_addc(&qp, *q);
	}
	buf_addc(&qp, '\0');
	c->secret[1] = qp.data;
	c->secret[2] = payload;
	int rc = run_cmd(c, &m);
	c->secret[1] = c->secret[2] = NULL;
	buf_free(&qp);
	buf_free(&b);
	buf_free(&sh);
	if (payload) {
		wipe(payload, strlen(payload));
		free(payload);
	}
	if (rc < 0) {
		cmd_failed(c, sb, "login");
		return -1;
	}
	int ok = strcmp(m.status, "OK") ? -1 : 0;
	if (ok < 0)
		add_diag(&fb->diags, D_FETCHBACK_LOGIN_FAILED, sb, "%s", m.tagged);
	free(m.tagged);
	return ok;
}

/* A simple command that must answer OK. */
static int
simple(struct conn *c, const struct subst *sb, const char *text, untagged_fn fn,
       void *arg, double deadline, char **tagged)
{
	char what[80];
	snprintf(what, sizeof what, "the answer to %s", text);
	struct cmd m = { .text = text, .fn = fn, .arg = arg, .deadline = deadline,
			 .what = what };
	if (run_cmd(c, &m) < 0) {
		cmd_failed(c, sb, text);
		return -1;
	}
	int rc = strcmp(m.status, "OK") ? -1 : 0;
	if (tagged)
		*tagged = m.tagged;
	else
		free(m.tagged);
	return rc;
}

static void
sleep_until(double t)
{
	int ms = ms_left(t);
	if (ms > 0)
		poll(NULL, 0, ms);
}

static void fb_run(const struct fb_opts *o, struct fetchback *fb, int fd);

void
fetchback_run(const struct fb_opts *o, struct fetchback *fb)
{
	fb_run(o, fb, -1);
}

void
fb_run_fd(const struct fb_opts *o, struct fetchback *fb, int fd)
{
	fb_run(o, fb, fd);
}

static void
fb_run(const struct fb_opts *o, struct fetchback *fb, int fd)
{
	memset(fb, 0, sizeof *fb);
	fb->tr.t0 = now_mono();
	fb->status = "failed";
	fb->found_after = -1;
	struct conn c = { .fd = -1, .fb = fb, .o = o,
			  .secret = { o->password } };
	struct subst sb = { .host = o->url.host, .user = o->url.user,
			    .port = o->url.port };
	char *tagged = NULL;

	tr_info(&fb->tr, -1, "reading the test message back from %s://%s@%s:%d "
		"(%s: %s)", o->url.implicit ? "imaps" : "imap", o->url.user,
		o->url.host, o->url.port, o->token_header, o->token);
	c.fd = fd >= 0 ? fd : fb_connect(&c, &sb);
	if (c.fd < 0)
		goto out;
	if (fd < 0 && o->url.implicit && fb_tls(&c, &sb) < 0)
		goto out;
	char *greet = c_line(&c, deadline_of(o), "the IMAP greeting");
	if (!greet) {
		cmd_failed(&c, &sb, "greeting");
		goto out;
	}
	show(&c, TR_SERVER, greet, strlen(greet));
	bool preauth = !strncasecmp(greet, "* PREAUTH", 9);
	if (strncasecmp(greet, "* OK", 4) && !preauth) {
		add_diag(&fb->diags, D_FETCHBACK_PROTOCOL_ERROR, &sb,
			 "greeting: %s", greet);
		free(greet);
		goto out;
	}
	free(greet);
	if (!o->url.implicit) {
		if (simple(&c, &sb, "CAPABILITY", on_caps, NULL, deadline_of(o),
			   NULL) < 0)
			goto out;
		if (!has_cap(&c, "STARTTLS")) {
			add_diag(&fb->diags, D_FETCHBACK_TLS_FAILED, &sb, "the "
				 "server does not offer STARTTLS: capabilities%s",
				 c.caps);
			goto out;
		}
		if (simple(&c, &sb, "STARTTLS", NULL, NULL, deadline_of(o),
			   &tagged) < 0) {
			if (!fb->diags.n)
				add_diag(&fb->diags, D_FETCHBACK_TLS_FAILED, &sb,
					 "STARTTLS: %s", tagged ? tagged : "");
			goto out;
		}
		if (c.in.len) {
			/* RFC 9051 §6.2.1 / RFC 3207's lesson: bytes sent before
			 * the handshake would be taken as if they came inside */
			add_diag(&fb->diags, D_FETCHBACK_PROTOCOL_ERROR, &sb,
				 "%zu bytes came after the STARTTLS answer, before "
				 "TLS (injected?)", c.in.len);
			goto out;
		}
		if (fb_tls(&c, &sb) < 0)
			goto out;
	}
	c.caps[0] = '\0';
	if (simple(&c, &sb, "CAPABILITY", on_caps, NULL, deadline_of(o), NULL) < 0)
		goto out;
	if (!preauth && fb_login(&c, &sb) < 0) {
		if (diag_has_error(&fb->diags) &&
		    fb->diags.v[fb->diags.n - 1].id == D_FETCHBACK_LOGIN_FAILED)
			fb->status = "login_failed";
		goto out;
	}
	free(tagged);
	tagged = NULL;
	if (simple(&c, &sb, "EXAMINE INBOX", NULL, NULL, deadline_of(o),
		   &tagged) < 0) {
		if (!fb->diags.n)
			add_diag(&fb->diags, D_FETCHBACK_PROTOCOL_ERROR, &sb,
				 "EXAMINE INBOX: %s", tagged ? tagged : "");
		goto out;
	}
	/* the token: a quoted string of [0-9A-Za-z.@<>_-] (ours, or a
	 * Message-ID checked by the caller) */
	struct buf cmd = { 0 };
	buf_printf(&cmd, "UID SEARCH HEADER %s ", o->token_header);
	if (quote(&cmd, o->token) < 0) {
		buf_free(&cmd);
		goto out;
	}
	buf_addc(&cmd, '\0');
	double t_search = now_mono(), end = t_search + o->timeout;
	double interval = o->interval > 0 ? o->interval : 1.0;
	struct search s = { 0 };
	for (;;) {
		if (fb->searches > 0) {
			double dl = deadline_of(o);
			if (simple(&c, &sb, "NOOP", NULL, NULL, dl, NULL) < 0)
				break;
		}
		fb->searches++;
		free(tagged);
		tagged = NULL;
		if (simple(&c, &sb, cmd.data, on_search, &s, deadline_of(o),
			   &tagged) < 0) {
			if (!fb->diags.n)
				add_diag(&fb->diags, D_FETCHBACK_PROTOCOL_ERROR, &sb,
					 "UID SEARCH: %s", tagged ? tagged : "");
			break;
		}
		if (s.uid || now_mono() + interval > end)
			break;
		sleep_until(now_mono() + interval);
	}
	buf_free(&cmd);
	if (fb->diags.n)
		goto out;
	if (!s.uid) {
		fb->status = "not_found";
		add_diag(&fb->diags, D_FETCHBACK_NOT_FOUND, &sb, "no message with "
			 "%s: %s in INBOX of %s after %.1f s (%d searches)",
			 o->token_header, o->token, o->url.user,
			 now_mono() - t_search, fb->searches);
		goto out;
	}
	fb->found_after = now_mono() - t_search;
	fb->uid = s.uid;
	char fcmd[80];
	snprintf(fcmd, sizeof fcmd, "UID FETCH %lu (BODY.PEEK[HEADER])", s.uid);
	struct fetched f = { 0 };
	if (simple(&c, &sb, fcmd, on_fetch, &f, deadline_of(o), NULL) < 0 ||
	    !f.hdr) {
		if (!fb->diags.n)
			add_diag(&fb->diags, D_FETCHBACK_PROTOCOL_ERROR, &sb,
				 "UID FETCH %lu: no header in the answer", s.uid);
		free(f.hdr);
		goto out;
	}
	fb->status = "found";
	fb_header_parse(f.hdr, f.len, &fb->h);
	free(f.hdr);
	/* a short goodbye: never a reason to wait long */
	double dl = now_mono() + (o->timeout < 3 ? o->timeout : 3);
	struct cmd lo = { .text = "LOGOUT", .deadline = dl, .what = "BYE" };
	if (run_cmd(&c, &lo) == 0)
		free(lo.tagged);
out:
	free(tagged);
	if (c.t) {
		tls_bye(c.t);
		tls_free(c.t);
	}
	if (c.fd >= 0 && fd < 0)
		close(c.fd);
	buf_free(&c.in);
	fb->seconds = now_mono() - fb->tr.t0;
	tr_seal(&fb->tr);
}

void
fetchback_free(struct fetchback *fb)
{
	tr_free(&fb->tr);
	tls_info_free(&fb->tls);
	fb_header_free(&fb->h);
	diag_list_free(&fb->diags);
}

/* ---- output ---------------------------------------------------------- */

void
fetchback_text(FILE *out, const struct fetchback *fb, bool color)
{
	const char *b = color ? "\033[1m" : "", *r = color ? "\033[0m" : "";
	fprintf(out, "\n%sRead back over IMAP%s: ", b, r);
	if (!strcmp(fb->status, "found"))
		fprintf(out, "the message arrived (found after %.1f s, UID %lu in "
			"INBOX)\n", fb->found_after, fb->uid);
	else if (!strcmp(fb->status, "not_found"))
		fprintf(out, "the message did not arrive in time (%d searches)\n",
			fb->searches);
	else if (!strcmp(fb->status, "login_failed"))
		fprintf(out, "the IMAP login failed\n");
	else
		fprintf(out, "could not read the mailbox\n");
	if (strcmp(fb->status, "found"))
		return;
	const struct fb_header *h = &fb->h;
	fprintf(out, "  Received chain, oldest hop first (%zu):\n", h->nhops);
	if (h->date && *h->date)
		fprintf(out, "    0  sent (Date: %s)\n", h->date);
	for (size_t i = 0; i < h->nhops; i++) {
		const struct fb_hop *p = &h->hops[i];
		char delay[32] = "";
		if (p->has_delay && p->delay >= 0)
			snprintf(delay, sizeof delay, "+%.0f s", p->delay);
		else if (p->has_delay)
			snprintf(delay, sizeof delay, "%.0f s?", p->delay);
		fprintf(out, "  %3zu  %-8s by %s\n", i + 1, delay,
			*p->by ? p->by : "?");
		if (*p->from)
			fprintf(out, "                from %s\n", p->from);
		if (*p->with)
			fprintf(out, "                with %s%s%s\n", p->with,
				*p->id ? ", id " : "", p->id);
		if (*p->date)
			fprintf(out, "                at %s\n", p->date);
	}
	if (!h->nauth)
		fprintf(out, "  Authentication-Results: none (the receiver recorded "
			"no SPF/DKIM/DMARC verdict)\n");
	else
		fprintf(out, "  Authentication-Results:\n");
	for (size_t i = 0; i < h->nauth; i++) {
		const struct fb_auth *a = &h->auth[i];
		fprintf(out, "    %-6s %-9s (%s)%s%s%s\n", a->method, a->result,
			a->authserv, *a->detail ? " " : "", a->detail,
			a->trusted ? "" : "  [came with the message: not a "
			"receiver's verdict]");
	}
	if (!h->nspam)
		fprintf(out, "  Spam headers: none\n");
	else
		fprintf(out, "  Spam headers:\n");
	for (size_t i = 0; i < h->nspam; i++)
		fprintf(out, "    %s: %s%s\n", h->spam[i].name, h->spam[i].value,
			h->spam[i].trusted ? "" : "  [came with the message]");
}

static void
kv(struct buf *b, const char *k, const char *v)
{
	json_string(b, k);
	buf_addc(b, ':');
	json_string(b, v ? v : "");
}

void
fetchback_json(struct buf *b, const struct fetchback *fb)
{
	buf_adds(b, "{");
	kv(b, "status", fb->status);
	buf_printf(b, ",\"seconds\":%.4f,\"found_after\":", fb->seconds);
	if (fb->found_after >= 0)
		buf_printf(b, "%.4f", fb->found_after);
	else
		buf_adds(b, "null");
	buf_printf(b, ",\"searches\":%d,\"uid\":%lu,\"encrypted\":%s,",
		   fb->searches, fb->uid, fb->encrypted ? "true" : "false");
	kv(b, "tls_version", fb->tls.done ? fb->tls.version : "");
	buf_printf(b, ",\"tls_verified\":%s,", fb->tls.verified ? "true" : "false");
	const struct fb_header *h = &fb->h;
	kv(b, "date", h->date);
	buf_adds(b, ",\"received\":[");
	for (size_t i = 0; i < h->nhops; i++) {
		const struct fb_hop *p = &h->hops[i];
		buf_adds(b, i ? ",{" : "{");
		kv(b, "from", p->from);
		buf_addc(b, ',');
		kv(b, "by", p->by);
		buf_addc(b, ',');
		kv(b, "with", p->with);
		buf_addc(b, ',');
		kv(b, "id", p->id);
		buf_addc(b, ',');
		kv(b, "date", p->date);
		buf_adds(b, ",\"delay\":");
		if (p->has_delay)
			buf_printf(b, "%.0f", p->delay);
		else
			buf_adds(b, "null");
		buf_addc(b, '}');
	}
	buf_adds(b, "],\"authentication_results\":[");
	for (size_t i = 0; i < h->nauth; i++) {
		const struct fb_auth *a = &h->auth[i];
		buf_adds(b, i ? ",{" : "{");
		kv(b, "authserv_id", a->authserv);
		buf_addc(b, ',');
		kv(b, "method", a->method);
		buf_addc(b, ',');
		kv(b, "result", a->result);
		buf_addc(b, ',');
		kv(b, "detail", a->detail);
		buf_printf(b, ",\"trusted\":%s}", a->trusted ? "true" : "false");
	}
	buf_adds(b, "],\"spam\":[");
	for (size_t i = 0; i < h->nspam; i++) {
		buf_adds(b, i ? ",{" : "{");
		kv(b, "name", h->spam[i].name);
		buf_addc(b, ',');
		kv(b, "value", h->spam[i].value);
		buf_printf(b, ",\"trusted\":%s}", h->spam[i].trusted ? "true" :
			   "false");
	}
	buf_adds(b, "],\"transcript\":");
	report_json_transcript(b, &fb->tr);
	buf_adds(b, ",\"diagnoses\":");
	report_json_diags(b, &fb->diags);
	buf_addc(b, '}');
}

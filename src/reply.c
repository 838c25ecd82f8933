/* reply.c - SMTP reply parsing, enhanced status codes, EHLO capabilities. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "reply.h"

int
lr_getline(struct linereader *lr, char **line, size_t *len)
{
	char *lf = memchr(lr->in.data ? lr->in.data + lr->scanned : "",
			  '\n', lr->in.len - lr->scanned);
	if (!lf) {
		size_t pend = lr->in.len;
		lr->scanned = pend;
		if (pend > 0 && lr->in.data[pend - 1] == '\r')
			pend--;	/* the CR of a CRLF still on its way */
		return pend > LINE_MAX_BYTES ? -1 : 0;
	}
	size_t n = (size_t)(lf - lr->in.data);
	size_t used = n + 1;
	if (n > 0 && lr->in.data[n - 1] == '\r')
		n--;
	if (n > LINE_MAX_BYTES)
		return -1;
	size_t rl;
	char *r = secrets_redact(lr->sec, lr->in.data, n, &rl);
	if (r) {
		*line = r;
		*len = rl;
	} else {
		*line = xstrndup(lr->in.data, n);
		*len = n;
	}
	buf_consume(&lr->in, used);
	lr->scanned = 0;
	return 1;
}

void
lr_free(struct linereader *lr)
{
	buf_free(&lr->in);
	lr->scanned = 0;
}

char *
line_cstr(const char *line, size_t len)
{
	struct buf b = { 0 };
	for (size_t i = 0; i < len; i++) {
		if (line[i] == '\0')
			buf_adds(&b, "\xe2\x90\x80");	/* U+2400 */
		else
			buf_addc(&b, line[i]);
	}
	return buf_steal(&b);
}

void
rp_reset(struct replyparser *p)
{
	reply_free(&p->r);
	p->bytes = 0;
}

void
reply_free(struct reply *r)
{
	for (size_t i = 0; i < r->nlines; i++)
		free(r->lines[i]);
	free(r->lines);
	free(r->bad_line);
	memset(r, 0, sizeof *r);
}

enum rp_status
rp_feed(struct replyparser *p, const char *line)
{
	size_t n = strlen(line);
	const unsigned char *u = (const unsigned char *)line;

	if (n < 3 || !isdigit(u[0]) || !isdigit(u[1]) || !isdigit(u[2]) ||
	    u[0] < '2' || u[0] > '5' || (n > 3 && line[3] != ' ' && line[3] != '-')) {
		free(p->r.bad_line);
		p->r.bad_line = xstrdup(line);
		return RP_MALFORMED;
	}
	int code = (u[0] - '0') * 100 + (u[1] - '0') * 10 + (u[2] - '0');
	if (p->r.nlines > 0 && code != p->r.code) {
		free(p->r.bad_line);
		p->r.bad_line = xstrdup(line);
		return RP_MIXED_CODES;
	}
	if (p->r.nlines >= REPLY_MAX_LINES || p->bytes + n > REPLY_MAX_BYTES)
		return RP_TOO_MANY_LINES;

	p->r.code = code;
	p->r.lines = xrealloc(p->r.lines, (p->r.nlines + 1) * sizeof(char *));
	const char *text = n > 4 ? line + 4 : "";
	p->r.lines[p->r.nlines++] = xstrdup(text);
	p->bytes += n;
	if (p->r.enh.cls == 0)
		enh_parse(text, &p->r.enh);
	return (n > 3 && line[3] == '-') ? RP_MORE : RP_DONE;
}

void
rp_take(struct replyparser *p, struct reply *out)
{
	*out = p->r;
	memset(&p->r, 0, sizeof p->r);
	p->bytes = 0;
}

char *
reply_joined(const struct reply *r)
{
	struct buf b = { 0 };
	for (size_t i = 0; i < r->nlines; i++) {
		if (i)
			buf_adds(&b, " / ");
		buf_adds(&b, r->lines[i]);
	}
	return buf_steal(&b);
}

char *
reply_first_line(const struct reply *r)
{
	return xasprintf("%03d %s", r->code, r->nlines ? r->lines[0] : "");
}

bool
reply_has(const struct reply *r, const char *needle)
{
	for (size_t i = 0; i < r->nlines; i++)
		if (strcasestr_ascii(r->lines[i], needle))
			return true;
	return false;
}

/* Parse a number of 1..maxdigits digits; returns digits used or 0. */
static int
parse_num(const char *s, int maxdigits, int *v)
{
	int i = 0;
	*v = 0;
	while (i < maxdigits && isdigit((unsigned char)s[i]))
		*v = *v * 10 + (s[i++] - '0');
	return i;
}

int
enh_parse(const char *s, struct enh_code *e)
{
	int a, b, c, n, k = 0;

	if ((s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.')
		return 0;
	a = s[0] - '0';
	k = 2;
	if (!(n = parse_num(s + k, 3, &b)) || s[k + n] != '.')
		return 0;
	k += n + 1;
	if (!(n = parse_num(s + k, 3, &c)))
		return 0;
	k += n;
	if (s[k] != '\0' && s[k] != ' ' && s[k] != '\t')
		return 0;
	e->cls = a;
	e->subject = b;
	e->detail = c;
	return k;
}

bool
enh_is(const struct enh_code *e, int cls, int subject, int detail)
{
	return e->cls == cls && e->subject == subject && e->detail == detail;
}

/* RFC 3463 §3 and the IANA registry: the codes a troubleshooter meets. */
static const struct {
	int subject, detail;
	const char *words;
} enh_table[] = {
	{ 0, 0, "other or undefined status" },
	{ 1, 0, "other address status" },
	{ 1, 1, "bad destination mailbox address (no such user)" },
	{ 1, 2, "bad destination system address" },
	{ 1, 3, "bad destination mailbox address syntax" },
	{ 1, 7, "bad sender's mailbox address syntax" },
	{ 1, 8, "bad sender's system address" },
	{ 1, 10, "recipient address has null MX" },
	{ 2, 0, "other or undefined mailbox status" },
	{ 2, 1, "mailbox disabled, not accepting messages" },
	{ 2, 2, "mailbox full" },
	{ 2, 3, "message length exceeds administrative limit" },
	{ 3, 0, "other or undefined mail system status" },
	{ 3, 1, "mail system full" },
	{ 3, 4, "message too big for system" },
	{ 4, 0, "other or undefined network or routing status" },
	{ 4, 1, "no answer from host" },
	{ 4, 2, "bad connection" },
	{ 4, 7, "delivery time expired" },
	{ 5, 0, "other or undefined protocol status" },
	{ 5, 1, "invalid command" },
	{ 5, 2, "syntax error" },
	{ 5, 3, "too many recipients" },
	{ 5, 4, "invalid command arguments" },
	{ 5, 6, "authentication exchange line is too long" },
	{ 6, 0, "other or undefined media error" },
	{ 6, 7, "non-ASCII addresses not permitted for that sender/recipient" },
	{ 7, 0, "other or undefined security status" },
	{ 7, 1, "delivery not authorized, message refused" },
	{ 7, 3, "conversion required but not supported / security feature" },
	{ 7, 8, "authentication credentials invalid" },
	{ 7, 9, "authentication mechanism is too weak" },
	{ 7, 10, "encryption needed" },
	{ 7, 11, "encryption required for requested authentication mechanism" },
	{ 7, 12, "a password transition is needed" },
	{ 7, 13, "user account disabled" },
	{ 7, 14, "trust relationship required" },
	{ 7, 25, "reverse DNS validation failed" },
	{ 7, 26, "multiple authentication checks failed (SPF/DKIM/DMARC)" },
	{ 7, 27, "sender address has null MX" },
};

const char *
enh_describe(const struct enh_code *e)
{
	if (e->cls == 0)
		return "";
	for (size_t i = 0; i < ARRAY_SIZE(enh_table); i++)
		if (enh_table[i].subject == e->subject &&
		    enh_table[i].detail == e->detail)
			return enh_table[i].words;
	switch (e->subject) {
	case 1: return "addressing status";
	case 2: return "mailbox status";
	case 3: return "mail system status";
	case 4: return "network and routing status";
	case 5: return "mail delivery protocol status";
	case 6: return "message content or media status";
	case 7: return "security or policy status";
	}
	return "unknown status";
}

/* RFC 5321 §4.3.2 (and RFC 3207, 4954, 3030, 1985 for their commands):
 * the positive replies of each command.  Errors are checked apart. */
static const struct {
	const char *verb;
	int ok[5];		/* 0-terminated */
	const char *words;
} fits[] = {
	{ "greeting", { 220 }, "220 (or 554, 421)" },
	{ "EHLO", { 250 }, "250 or an error" },
	{ "HELO", { 250 }, "250 or an error" },
	{ "STARTTLS", { 220 }, "220 or an error (454, 501)" },
	{ "AUTH", { 235, 334 }, "235, 334 or an error" },
	{ "MAIL", { 250 }, "250 or an error" },
	{ "RCPT", { 250, 251 }, "250, 251 or an error" },
	{ "DATA", { 354 }, "354 or an error, never 250" },
	{ ".", { 250 }, "250 or an error" },
	{ "BDAT", { 250 }, "250 or an error" },
	{ "RSET", { 250 }, "250 or an error" },
	{ "NOOP", { 250 }, "250 or an error" },
	{ "VRFY", { 250, 251, 252 }, "250, 251, 252 or an error" },
	{ "EXPN", { 250, 252 }, "250, 252 or an error" },
	{ "HELP", { 211, 214 }, "211, 214 or an error" },
	{ "ETRN", { 250, 251, 252, 253 }, "250-253 or an error" },
	{ "QUIT", { 221 }, "221 (or 421)" },
};

bool
reply_fits(const char *verb, int code)
{
	if (code < 200 || code > 599)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(fits); i++) {
		if (strcmp(fits[i].verb, verb) != 0)
			continue;
		for (int k = 0; k < 5 && fits[i].ok[k]; k++)
			if (fits[i].ok[k] == code)
				return true;
		if (!strcmp(verb, "QUIT"))
			return code == 421;
		return code >= 400;
	}
	return true;
}

const char *
reply_allowed(const char *verb)
{
	for (size_t i = 0; i < ARRAY_SIZE(fits); i++)
		if (!strcmp(fits[i].verb, verb))
			return fits[i].words;
	return "any reply";
}

const char *
code_describe(int code)
{
	switch (code) {
	case 211: return "system status";
	case 214: return "help message";
	case 220: return "service ready";
	case 221: return "service closing the connection";
	case 235: return "authentication succeeded";
	case 250: return "requested action completed";
	case 251: return "user not local; will forward";
	case 252: return "cannot verify user, will attempt delivery";
	case 334: return "server challenge: go on with AUTH";
	case 354: return "start mail input; end with <CRLF>.<CRLF>";
	case 421: return "service not available, closing the connection";
	case 432: return "a password transition is needed";
	case 450: return "mailbox unavailable (temporary)";
	case 451: return "local error in processing (temporary)";
	case 452: return "insufficient system storage (temporary)";
	case 454: return "temporary failure (TLS or authentication)";
	case 455: return "server unable to accommodate parameters";
	case 500: return "syntax error, command unrecognised";
	case 501: return "syntax error in parameters or arguments";
	case 502: return "command not implemented";
	case 503: return "bad sequence of commands";
	case 504: return "command parameter not implemented";
	case 521: return "host does not accept mail";
	case 523: return "encryption needed";
	case 530: return "authentication (or TLS) required";
	case 534: return "authentication mechanism is too weak";
	case 535: return "authentication credentials invalid";
	case 538: return "encryption required for this mechanism";
	case 550: return "mailbox unavailable or action refused";
	case 551: return "user not local";
	case 552: return "exceeded storage allocation";
	case 553: return "mailbox name not allowed";
	case 554: return "transaction failed (or no SMTP service here)";
	case 555: return "MAIL/RCPT parameters not recognised";
	}
	switch (code / 100) {
	case 2: return "success";
	case 3: return "intermediate: go on";
	case 4: return "temporary failure: try again later";
	case 5: return "permanent failure";
	}
	return "";
}

static void
copy_word(char *dst, size_t dstlen, const char *src)
{
	size_t n = 0;
	while (src[n] && src[n] != ' ' && n + 1 < dstlen)
		n++;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* RFC 4422 §3.1: a mechanism name is 1-20 of A-Z 0-9 - _.  Anything
 * else in an AUTH line is dropped, so no server byte of ours reaches an
 * evidence line or a screen unescaped. */
static bool
mech_name_ok(const char *m)
{
	size_t n = strlen(m);
	if (n == 0 || n > 20)
		return false;
	for (; *m; m++)
		if (!(isupper((unsigned char)*m) || isdigit((unsigned char)*m) ||
		      *m == '-' || *m == '_'))
			return false;
	return true;
}

bool
caps_mech_usable(const char *mech)
{
	/* 62 bytes with their spaces: CAPS_MECH_RESERVE covers them all */
	static const char *const usable[] = {
		"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256", "CRAM-MD5", "PLAIN",
		"LOGIN", "XOAUTH2"
	};
	for (size_t i = 0; i < ARRAY_SIZE(usable); i++)
		if (!strcasecmp(mech, usable[i]))
			return true;
	return false;
}

void
caps_parse(struct caps *c, const struct reply *r)
{
	memset(c, 0, sizeof *c);
	if (r->code != 250)
		return;
	c->valid = true;
	if (r->nlines)
		copy_word(c->domain, sizeof c->domain, r->lines[0]);
	for (char *q = c->domain; *q; q++)	/* shown as is: printable only */
		if ((unsigned char)*q < 0x21 || (unsigned char)*q > 0x7e)
			*q = '?';
	for (size_t i = 1; i < r->nlines; i++) {
		const char *l = r->lines[i];
		char kw[32];
		copy_word(kw, sizeof kw, l);
		const char *arg = l + strlen(kw);
		while (*arg == ' ')
			arg++;
		if (!strcasecmp(kw, "PIPELINING"))
			c->pipelining = true;
		else if (!strcasecmp(kw, "STARTTLS"))
			c->starttls = true;
		else if (!strcasecmp(kw, "8BITMIME"))
			c->eightbitmime = true;
		else if (!strcasecmp(kw, "SMTPUTF8"))
			c->smtputf8 = true;
		else if (!strcasecmp(kw, "ENHANCEDSTATUSCODES"))
			c->enhancedstatuscodes = true;
		else if (!strcasecmp(kw, "CHUNKING"))
			c->chunking = true;
		else if (!strcasecmp(kw, "DSN"))
			c->dsn = true;
		else if (!strcasecmp(kw, "REQUIRETLS"))
			c->requiretls = true;
		else if (!strcasecmp(kw, "SIZE")) {
			c->size = true;
			c->size_limit = strtoul(arg, NULL, 10);
		} else if (!strcasecmp(kw, "AUTH") ||
			   !strncasecmp(l, "AUTH=", 5)) {
			/* "AUTH=LOGIN PLAIN" is the pre-RFC 4954 form */
			if (!strncasecmp(l, "AUTH=", 5))
				arg = l + 5;
			c->auth = true;
			for (const char *p = arg; *p;) {
				char m[64];
				while (*p == ' ')
					p++;
				copy_word(m, sizeof m, p);
				p += strlen(m);
				if (!*m)
					break;
				for (char *q = m; *q; q++)
					*q = (char)toupper((unsigned char)*q);
				if (!mech_name_ok(m) || caps_has_mech(c, m))
					continue;
				size_t room = sizeof c->mechs - (caps_mech_usable(m) ? 0 :
						CAPS_MECH_RESERVE);
				if (strlen(c->mechs) + strlen(m) + 2 <= room) {
					if (*c->mechs)
						strcat(c->mechs, " ");
					strcat(c->mechs, m);
				} else {
					c->mechs_left_out++;
				}
				if (!*p)
					break;
			}
		}
	}
}

bool
caps_has_mech(const struct caps *c, const char *mech)
{
	size_t n = strlen(mech);
	for (const char *p = c->mechs; *p;) {
		const char *e = strchr(p, ' ');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == n && !strncasecmp(p, mech, n))
			return true;
		p += len;
		while (*p == ' ')
			p++;
	}
	return false;
}

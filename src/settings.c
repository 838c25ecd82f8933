/* settings.c - the settings table and its checks (settings.h). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "addr.h"
#include "settings.h"
#include "util.h"

const struct setting settings[] = {
	{ "host", SET_HOST, "the server: a name, an IPv4 address, an IPv6 address" },
	{ "port", SET_PORT, "TCP port, 1-65535 (587 submission, 465 implicit TLS)" },
	{ "servername", SET_HOST, "the name sent as SNI and checked against the "
	  "certificate" },
	{ "cafile", SET_FILE, "PEM file of the certificate authorities to trust" },
	{ "from", SET_ADDRESS, "envelope sender: user@example.org" },
	{ "to", SET_ADDRESS, "envelope recipient: user@example.org" },
	{ "helo", SET_NAME, "name for EHLO: this host's name, or [192.0.2.1]" },
	{ "timeout", SET_SECONDS, "seconds each step may take (more than 0, at "
	  "most 3600)" },
	{ "user", SET_TEXT, "the SMTP AUTH user" },
	{ NULL, SET_TEXT, NULL }
};

const struct setting *
setting_find(const char *name)
{
	for (const struct setting *s = settings; s->name; s++)
		if (!strcmp(s->name, name))
			return s;
	return NULL;
}

static int
fail(char *err, size_t errlen, const char *fmt, ...) PRINTF(3, 4);

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static bool
has_control(const char *v)
{
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return true;
	return false;
}

/* A DNS name: labels of letters, digits, '-' and '_' (seen in the wild
 * on internal names), not starting or ending with '-', at most 253. */
static bool
dns_name(const char *v)
{
	size_t n = strlen(v);
	if (n == 0 || n > 253)
		return false;
	if (v[n - 1] == '.')
		n--;		/* one final dot: the root */
	const char *label = v;
	for (const char *p = v;; p++) {
		if (p == v + n || *p == '.') {
			size_t len = (size_t)(p - label);
			if (len == 0)
				return false;
			if (len > 63 || (len && (label[0] == '-' || p[-1] == '-')))
				return false;
			if (p == v + n)
				return true;
			label = p + 1;
			continue;
		}
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return false;
	}
}

static bool
ip_literal(const char *v)
{
	unsigned char buf[16];
	return inet_pton(AF_INET, v, buf) == 1 || inet_pton(AF_INET6, v, buf) == 1;
}

static int
check_host(const char *name, const char *v, char *err, size_t errlen)
{
	if (!*v)
		return fail(err, errlen, "%s is empty: a server name or address is "
			    "needed", name);
	if (strchr(v, ':') && !ip_literal(v))
		return fail(err, errlen, "%s '%s' is neither a host name nor an IPv6 "
			    "address (a port goes after one colon: host:587)", name, v);
	if (ip_literal(v))
		return 0;
	/* an internationalised name: valid IDNA2008, looked up as A-labels */
	char *ascii = NULL;
	if (idna_involved(v)) {
		if (idna_to_ascii(v, &ascii, err, errlen) < 0)
			return -1;
	}
	bool ok = dns_name(ascii ? ascii : v);
	free(ascii);
	if (!ok)
		return fail(err, errlen, "%s '%s' is not a host name (letters, digits, "
			    "'-' and dots) nor an address", name, v);
	return 0;
}

static int
check_address(const char *name, const char *v, char *err, size_t errlen)
{
	const char *at = strrchr(v, '@');
	if (!*v || has_control(v) || strpbrk(v, "<> "))
		return fail(err, errlen, "%s '%s' is not an address: no spaces, < or "
			    ">; just user@example.org", name, v);
	if (!at || at == v || !at[1])
		return fail(err, errlen, "%s '%s' needs a domain: user@example.org "
			    "(a bare name would be sent as it is, and most servers "
			    "refuse it or guess)", name, v);
	const char *dom = at + 1;
	if (dom[0] == '[')
		return dom[strlen(dom) - 1] != ']' ?
			fail(err, errlen, "%s '%s': '%s' is not a domain", name, v,
			     dom) : 0;
	/* UTF-8 local parts (RFC 6531) and U-label domains (IDNA2008) */
	struct addr_forms f;
	char why[300];
	if (addr_forms(v, &f, why, sizeof why) < 0)
		return fail(err, errlen, "%s '%s': %s", name, v, why);
	const char *adom = strrchr(f.ascii, '@') + 1;
	bool ok = dns_name(adom);
	addr_forms_free(&f);
	if (!ok)
		return fail(err, errlen, "%s '%s': '%s' is not a domain", name, v, dom);
	return 0;
}

static int
check_name(const char *name, const char *v, char *err, size_t errlen)
{
	size_t n = strlen(v);
	if (n > 2 && v[0] == '[' && v[n - 1] == ']') {
		char lit[64];
		const char *in = v + 1;
		if (!strncasecmp(in, "IPv6:", 5))
			in += 5;
		snprintf(lit, sizeof lit, "%.*s", (int)(v + n - 1 - in), in);
		if (ip_literal(lit))
			return 0;
	}
	/* U-labels (bücher.example): EHLO carries the A-labels (RFC 5321
	 * §4.1.1.1, RFC 5890: EHLO comes before any SMTPUTF8, so always) */
	char *ascii = NULL;
	if (idna_involved(v)) {
		char why[256];
		if (idna_to_ascii(v, &ascii, why, sizeof why) < 0)
			return fail(err, errlen, "%s: %s", name, why);
	}
	bool ok = dns_name(ascii ? ascii : v);
	free(ascii);
	if (!ok)
		return fail(err, errlen, "%s '%s' is not a name for EHLO: a host "
			    "name (mail.example.org) or an address literal "
			    "([192.0.2.1]), RFC 5321 §4.1.1.1", name, v);
	return 0;
}

static int
check_file(const char *name, const char *v, char *err, size_t errlen)
{
	char why[128];
	if (!*v)
		return fail(err, errlen, "%s is empty: a file is needed", name);
	if (file_input_check(v, FILE_INPUT_MAX, why, sizeof why) < 0)
		return fail(err, errlen, "%s %s%s%s", name, v,
			    why[0] == 'i' ? " " : ": ", why);
	FILE *f = fopen(v, "r");
	if (!f)
		return fail(err, errlen, "%s %s: %s", name, v, strerror(errno));
	fclose(f);
	return 0;
}

int
setting_check(const char *name, const char *v, char *err, size_t errlen)
{
	const struct setting *s = setting_find(name);
	char *end;
	if (!s)
		return fail(err, errlen, "no setting '%s'", name);
	/* as the user wrote it: the option (the target is just "host") */
	char shown[40];
	snprintf(shown, sizeof shown, strcmp(name, "host") ? "--%s" : "%s", name);
	name = shown;
	if (s->type != SET_TEXT && has_control(v))
		return fail(err, errlen, "%s holds a control character", name);
	switch (s->type) {
	case SET_HOST:
		return check_host(name, v, err, errlen);
	case SET_PORT: {
		errno = 0;
		long p = strtol(v, &end, 10);
		if (errno || end == v || *end || p < 1 || p > 65535)
			return fail(err, errlen, "%s wants 1-65535, not '%s'", name, v);
		return 0;
	}
	case SET_ADDRESS:
		return check_address(name, v, err, errlen);
	case SET_NAME:
		return check_name(name, v, err, errlen);
	case SET_FILE:
		return check_file(name, v, err, errlen);
	case SET_SECONDS: {
		double d = strtod(v, &end);
		if (end == v || *end || !(d > 0 && d <= 3600))
			return fail(err, errlen, "%s wants seconds, more than 0 and at "
				    "most 3600, not '%s'", name, v);
		return 0;
	}
	case SET_TEXT:
		if (has_control(v))
			return fail(err, errlen, "%s holds a control character", name);
		return 0;
	}
	return 0;
}

/* addr.c - IDNA2008 domains and internationalised addresses (libidn2). */
#include <idn2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "util.h"

/* IDNA2008 lookup with the UTS #46 mapping (upper case folds, full-width
 * letters become ASCII), non-transitional: ß and ς stay what they are. */
#define IDNA_FLAGS (IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL)

bool
addr_ascii(const char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

bool
idna_involved(const char *domain)
{
	if (!addr_ascii(domain))
		return true;
	for (const char *p = domain; p && *p; p++)
		if ((p == domain || p[-1] == '.') && !strncasecmp(p, "xn--", 4))
			return true;
	return false;
}

static bool
valid_utf8(const char *s)
{
	size_t n = strlen(s);
	for (size_t i = 0; i < n;) {
		unsigned cp;
		int len = utf8_seq((const unsigned char *)s + i, n - i, &cp);
		if (len <= 0)
			return false;
		i += (size_t)len;
	}
	return true;
}

int
idna_to_ascii(const char *domain, char **ascii, char *err, size_t errlen)
{
	char *out = NULL;
	if (ascii)
		*ascii = NULL;
	if (!idna_involved(domain)) {
		if (ascii)
			*ascii = xstrdup(domain);
		return 0;
	}
	if (!valid_utf8(domain)) {
		snprintf(err, errlen, "'%s' is not valid UTF-8 (the terminal's "
			 "locale is not UTF-8?)", domain);
		return -1;
	}
	int rc = idn2_lookup_u8((const uint8_t *)domain, (uint8_t **)&out,
				IDNA_FLAGS);
	if (rc != IDN2_OK) {
		snprintf(err, errlen, "'%s' is not a valid internationalised "
			 "domain name (IDNA2008, RFC 5891): %s", domain,
			 idn2_strerror(rc));
		free(out);
		return -1;
	}
	if (ascii)
		*ascii = xstrdup(out);
	idn2_free(out);
	return 0;
}

char *
idna_to_unicode(const char *domain)
{
	char *ascii = NULL, *u = NULL;
	char err[8];
	if (!idna_involved(domain) ||
	    idna_to_ascii(domain, &ascii, err, sizeof err) < 0)
		return NULL;
	if (idn2_to_unicode_8z8z(ascii, &u, 0) != IDN2_OK || !u) {
		free(ascii);
		return NULL;
	}
	char *r = NULL;
	if (strcmp(u, domain))
		r = xstrdup(u);
	idn2_free(u);
	free(ascii);
	return r;
}

char *
idna_lookup_name(const char *domain)
{
	char *ascii = NULL;
	char err[8];
	if (idna_involved(domain) &&
	    idna_to_ascii(domain, &ascii, err, sizeof err) == 0)
		return ascii;
	return xstrdup(domain);
}

int
addr_forms(const char *addr, struct addr_forms *f, char *err, size_t errlen)
{
	memset(f, 0, sizeof *f);
	const char *at = strrchr(addr, '@');
	size_t llen = at ? (size_t)(at - addr) : strlen(addr);
	char *local = xstrndup(addr, llen);
	if (!valid_utf8(local)) {
		snprintf(err, errlen, "the local part is not valid UTF-8 "
			 "(the terminal's locale is not UTF-8?)");
		free(local);
		return -1;
	}
	char *dom = NULL;
	if (at && at[1] != '[') {
		if (idna_to_ascii(at + 1, &dom, err, errlen) < 0) {
			free(local);
			return -1;
		}
		f->idn = idna_involved(at + 1);
	}
	f->given = xstrdup(addr);
	f->utf8_local = !addr_ascii(local);
	f->ascii = dom ? xasprintf("%s@%s", local, dom) : xstrdup(addr);
	free(local);
	free(dom);
	return 0;
}

void
addr_forms_free(struct addr_forms *f)
{
	free(f->given);
	free(f->ascii);
	memset(f, 0, sizeof *f);
}

const char *
addr_wire(const struct addr_forms *f, bool smtputf8)
{
	return smtputf8 || !f->ascii ? f->given : f->ascii;
}

char *
addr_display(const struct addr_forms *f, bool smtputf8)
{
	const char *wire = addr_wire(f, smtputf8);
	const char *other = strcmp(wire, f->given) ? wire :
			    f->ascii && strcmp(f->ascii, f->given) ? f->ascii : NULL;
	if (other)
		return xasprintf("%s (%s)", f->given, other);
	/* A-labels given: the U-labels beside them */
	const char *at = strrchr(f->given, '@');
	char *u = at ? idna_to_unicode(at + 1) : NULL;
	char *r = u ? xasprintf("%s (%.*s@%s)", f->given, (int)(at - f->given),
				f->given, u) : xstrdup(f->given);
	free(u);
	return r;
}

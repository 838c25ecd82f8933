/*
 * middlebox.c - the marks of middlebox.def, looked for in a session.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "middlebox.h"
#include "util.h"

static const struct mb_entry table[] = {
#define MIDDLEBOX(where, weight, product, words, source) \
	{ where, weight, product, words, source },
#include "middlebox.def"
#undef MIDDLEBOX
};

const struct mb_entry *
middlebox_table(size_t *n)
{
	*n = ARRAY_SIZE(table);
	return table;
}

/* The text of a reply line after its code and separator. */
static const char *
after_code(const char *l)
{
	if (strlen(l) >= 4 && isdigit((unsigned char)l[0]) &&
	    isdigit((unsigned char)l[1]) && isdigit((unsigned char)l[2]) &&
	    (l[3] == ' ' || l[3] == '-'))
		return l + 4;
	return strlen(l) == 3 ? l + 3 : l;
}

/* A greeting masked with asterisks: at least eight, nothing but the odd
 * digit the ASA leaves standing, and not one letter (a banner decorated
 * with asterisks around words is a server's own). */
static bool
masked(const char *text)
{
	size_t stars = 0, digits = 0;
	for (const char *p = after_code(text); *p; p++) {
		if (*p == '*')
			stars++;
		else if (isdigit((unsigned char)*p))
			digits++;
		else if (!isspace((unsigned char)*p))
			return false;
	}
	return stars >= 8 && stars >= 2 * digits;
}

/* A token of four or more X's, with at most one letter after them. */
static bool
x_token(const char *text)
{
	const char *p = after_code(text);
	while (*p) {
		while (*p && !isalnum((unsigned char)*p))
			p++;
		const char *s = p;
		while (*p == 'X')
			p++;
		size_t xs = (size_t)(p - s);
		if (xs >= 4 && isupper((unsigned char)*p) &&
		    !isalnum((unsigned char)p[1]))
			p++;
		if (xs >= 4 && !isalnum((unsigned char)*p))
			return true;
		while (isalnum((unsigned char)*p))
			p++;
	}
	return false;
}

static bool
has_word(const char *text, const char *w)
{
	size_t n = strlen(w);
	for (const char *p = text; *p; p++) {
		if (p != text && isalnum((unsigned char)p[-1]))
			continue;
		if (!strncasecmp(p, w, n) &&
		    (!isalnum((unsigned char)p[n]) || !isalnum((unsigned char)w[n - 1])))
			return true;
	}
	return false;
}

const struct mb_entry *
middlebox_match(enum mb_where where, const char *text)
{
	if (!text)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
		const struct mb_entry *e = &table[i];
		if (e->where != where)
			continue;
		bool hit = !strcmp(e->words, "*MASK*") ? masked(text) :
			   !strcmp(e->words, "*XS*") ? x_token(text) :
			   has_word(text, e->words);
		if (hit)
			return e;
	}
	return NULL;
}

/* Keep the first strong mark, else the first note. */
static void
seen(struct mb_seen *s, const struct mb_entry *e, bool provider_host,
     const char *what, const char *text)
{
	bool strong = e->weight == MBS_STRONG || provider_host;
	if (s->strong || (s->note && !strong))
		return;
	s->strong = strong;
	s->note = !strong;
	s->product = e->product;
	s->source = e->source;
	snprintf(s->evidence, sizeof s->evidence, "%s%s", what, text);
}

void
middlebox_check(const struct transcript *tr, const struct tls_info *tls,
		bool provider_host, struct mb_seen *banner, struct mb_seen *cert)
{
	memset(banner, 0, sizeof *banner);
	memset(cert, 0, sizeof *cert);
	for (size_t i = 0; tr && i < tr->n; i++) {
		const struct tr_line *l = &tr->v[i];
		if (l->dir != TR_SERVER || !l->text)
			continue;
		const struct mb_entry *e = NULL;
		if (!strcmp(l->verb, "greeting"))
			e = middlebox_match(MBW_GREETING, l->text);
		else if ((!strcasecmp(l->verb, "EHLO") ||
			  !strcasecmp(l->verb, "HELO")) && l->code / 100 == 2)
			e = middlebox_match(MBW_EHLO, l->text);
		if (!e && l->code >= 400)
			e = middlebox_match(MBW_ERROR, l->text);
		if (e)
			seen(banner, e, provider_host, "", l->text);
	}
	for (size_t i = 0; tls && i < tls->nchain && i < TLS_MAX_CHAIN; i++) {
		const struct mb_entry *e =
			middlebox_match(MBW_ISSUER, tls->chain[i].issuer);
		if (e)
			seen(cert, e, provider_host, "certificate issuer: ",
			     tls->chain[i].issuer);
	}
}

/*
 * addr.h - internationalised domain names and addresses (IDNA2008 with
 * libidn2, RFC 5890-5892; SMTPUTF8, RFC 6531; UTF-8 headers, RFC 6532).
 *
 * The rules smtpdx follows, in one place:
 *
 *   - A domain may be given in U-labels (bücher.example) or A-labels
 *     (xn--bcher-kva.example).  It is checked against IDNA2008 (UTS #46
 *     mapping, non-transitional: ß stays ß), and every DNS lookup, SNI
 *     and certificate name check uses the A-label form.
 *   - An address whose local part is ASCII goes on the wire in its
 *     A-label form (user@xn--bcher-kva.example): no SMTPUTF8 is needed.
 *   - An address whose local part is not ASCII (jösé@...) can only go
 *     with SMTPUTF8: MAIL FROM carries the parameter, every address goes
 *     as given, and the message's From/To may hold raw UTF-8.  A server
 *     that does not offer SMTPUTF8 cannot take it at all.
 *
 * Nothing here does I/O.  Results are heap copies the caller frees;
 * checks return 0, or -1 with one line in err (a usage error).
 */
#ifndef SMTPDX_ADDR_H
#define SMTPDX_ADDR_H

#include <stdbool.h>
#include <stddef.h>

/* Is s plain ASCII (NULL: yes)? */
bool addr_ascii(const char *s);

/* Does the domain need IDNA at all: a non-ASCII byte, or an A-label
 * ("xn--" label) that must be checked? */
bool idna_involved(const char *domain);

/*
 * The A-label form of domain (a U-label, A-label or plain ASCII name,
 * final dot kept).  -1 with the reason in err when it is not a valid
 * IDNA2008 name ("'☃.net' is not a valid internationalised domain name
 * (IDNA2008): string contains a disallowed character").  *ascii may be
 * NULL (a check only).
 */
int idna_to_ascii(const char *domain, char **ascii, char *err, size_t errlen);

/* The U-label form of domain for display, or NULL when it is the same as
 * domain (plain ASCII with no A-label) or not valid. */
char *idna_to_unicode(const char *domain);

/* The name to look up in DNS: the A-label form when domain involves
 * IDNA and is valid, else a copy of domain as it is (the resolver then
 * says what it says).  Never NULL. */
char *idna_lookup_name(const char *domain);

/* An address and the forms it can take on the wire. */
struct addr_forms {
	char *given;		/* as the user wrote it */
	char *ascii;		/* local@A-label domain (the domain only
				 * changes): what goes without SMTPUTF8 */
	bool utf8_local;	/* the local part is not ASCII: SMTPUTF8 or
				 * nothing */
	bool idn;		/* the domain involves IDNA (ascii differs or
				 * holds an A-label) */
};

/* Split addr at its last '@' and fill f.  -1 with err when the domain is
 * not valid IDNA2008 (err names the domain) or the local part is not
 * valid UTF-8; f is then zeroed.  An address literal domain ([192.0.2.1])
 * is kept as it is. */
int addr_forms(const char *addr, struct addr_forms *f, char *err,
	       size_t errlen);
void addr_forms_free(struct addr_forms *f);

/* The form of f that goes on the wire: with SMTPUTF8 the address as
 * given, without it the A-label form. */
const char *addr_wire(const struct addr_forms *f, bool smtputf8);

/* For the text views: the address as given, and beside it in brackets
 * its other form when there is one: "user@bücher.example
 * (user@xn--bcher-kva.example)", "user@xn--bcher-kva.example
 * (user@bücher.example)".  Heap. */
char *addr_display(const struct addr_forms *f, bool smtputf8);

#endif

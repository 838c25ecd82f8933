/*
 * message.h - the message a session sends, and the MAIL/RCPT parameters
 * of RFC 3461 (DSN): loading, checking and encoding what the user gives.
 *
 * Everything here is pure text work (no I/O but msg_load()).  Texts are
 * heap copies the caller frees.  Checks return 0, or -1 with one line in
 * err (a usage error: the caller exits 2).
 */
#ifndef SMTPDX_MESSAGE_H
#define SMTPDX_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>

#define MSG_MAX (32u * 1024 * 1024)	/* --body / --data: 32 MiB at most */

/* Read FILE ("-": stdin) whole, refuse NUL bytes and more than MSG_MAX,
 * and normalise line ends: CRLF, LF and lone CR all become CRLF, and the
 * last line is ended.  *out: the text (may be ""). */
int msg_load(const char *opt, const char *path, char **out, char *err,
	     size_t errlen);

/* "Name: value": a name of RFC 5322 ftext (printable ASCII but ':'),
 * then ':', and a value with no CR, LF or NUL. */
int msg_header_check(const char *h, char *err, size_t errlen);

/* Does the header block (CRLF lines) hold a field called name? */
bool msg_has_header(const char *headers, const char *name);

/* --notify: NEVER alone, or a list of SUCCESS, FAILURE, DELAY (any case,
 * each once).  *norm: upper case, comma-separated. */
int dsn_notify_check(const char *v, char **norm, char *err, size_t errlen);

/* --envid: 1-100 printable ASCII characters (RFC 3461 §4.4). */
int dsn_envid_check(const char *v, char *err, size_t errlen);

/* RFC 3461 §4: xtext.  Bytes outside "!" .. "~", and "+" and "=", become
 * "+XX"; the result never holds a space, CR or LF. */
char *xtext_encode(const char *s);

/* RFC 6533 §3: an internationalised address for ORCPT=utf-8;...  Printable
 * ASCII but "\", "+" and "=" as it is; those three, space and controls
 * as "\x{HEX}"; a non-ASCII character as "\x{HEX}" (utf-8-addr-xtext,
 * 7-bit: for a command without SMTPUTF8) or, with unitext, as its UTF-8
 * bytes (utf-8-addr-unitext: when SMTPUTF8 is in use).  Never a space,
 * CR or LF.  Heap. */
char *utf8_addr_encode(const char *s, bool unitext);

/* Does the message (--body, --header, --data) hold the password (4
 * characters or more)?  Then it must not go: the message is sent to the
 * server and shown in the transcript.  Returns the option that holds it,
 * or NULL. */
struct config;
const char *msg_holds_secret(const struct config *c);

/* Is s plain ASCII? */
bool msg_ascii(const char *s);

#endif

/*
 * reply.h - reading SMTP replies (RFC 5321 §4.2) and EHLO capabilities.
 *
 * The line reader takes bytes as they arrive and hands out complete lines
 * (CRLF or a bare LF ends a line).  The reply parser collects lines into a
 * reply: every line must start with the same three digits, "NNN-" goes on,
 * "NNN " or a bare "NNN" ends it.  Everything is bounded: a line longer
 * than LINE_MAX_BYTES or a reply with more than REPLY_MAX_LINES lines or
 * REPLY_MAX_BYTES bytes is an error the session reports, never a reason to
 * grow memory without end.
 */
#ifndef SMTPDX_REPLY_H
#define SMTPDX_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include "util.h"

#define LINE_MAX_BYTES	(64 * 1024)
#define REPLY_MAX_LINES	200
#define REPLY_MAX_BYTES	(256 * 1024)

enum rp_status {
	RP_MORE,		/* need more input */
	RP_DONE,		/* a complete reply is ready */
	RP_MALFORMED,		/* a line that is not "NNN[ -]text" */
	RP_MIXED_CODES,		/* lines of one reply disagree on the code */
	RP_LINE_TOO_LONG,	/* one line over LINE_MAX_BYTES */
	RP_TOO_MANY_LINES	/* reply over REPLY_MAX_LINES / _BYTES */
};

/* An enhanced status code, RFC 3463: class.subject.detail. */
struct enh_code {
	int cls, subject, detail;	/* cls 0: none */
};

struct reply {
	int code;			/* 200..599 */
	struct enh_code enh;		/* of the first line that has one */
	char **lines;			/* raw text after "NNN-"/"NNN ", NUL-
					 * terminated; may hold any byte but NUL */
	size_t nlines;
	char *bad_line;			/* on RP_MALFORMED: the offending line */
};

/* A line reader over a byte buffer. */
struct linereader {
	struct buf in;			/* unread bytes */
	size_t scanned;			/* bytes of in known to hold no LF */
	const struct secrets *sec;	/* redacted in each line (or NULL) */
};

/*
 * Take the next complete line out of lr.  Returns 1 and sets *line (a new
 * string without the line end, exactly the bytes received, NULs included)
 * and *len; 0 when no full line is there yet; -1 when the partial line
 * pending is already over LINE_MAX_BYTES (the caller reports and stops).
 */
int lr_getline(struct linereader *lr, char **line, size_t *len);
void lr_free(struct linereader *lr);
/* A C-string copy of a received line: NUL bytes become U+2400 (a visible
 * symbol), so parsers can work on C strings.  New string. */
char *line_cstr(const char *line, size_t len);

struct replyparser {
	struct reply r;
	size_t bytes;
};

/* Feed one line; returns RP_MORE, RP_DONE or an error. */
enum rp_status rp_feed(struct replyparser *p, const char *line);
/* Hand the finished reply over (the parser is reset). */
void rp_take(struct replyparser *p, struct reply *out);
void rp_reset(struct replyparser *p);
void reply_free(struct reply *r);
/* The reply's lines joined with " / " (for evidence); new string. */
char *reply_joined(const struct reply *r);
/* The first line again as the server sent it: "535 5.7.8 Error: ..." */
char *reply_first_line(const struct reply *r);
/* Does any line contain needle (ASCII case-insensitive)? */
bool reply_has(const struct reply *r, const char *needle);

/* Parse "5.7.8" at the start of s; returns chars used or 0. */
int enh_parse(const char *s, struct enh_code *e);
bool enh_is(const struct enh_code *e, int cls, int subject, int detail);
/* Words for an enhanced code (RFC 3463 subjects and details). */
const char *enh_describe(const struct enh_code *e);
/* Words for a basic reply code (RFC 5321 §4.2.2/§4.2.3). */
const char *code_describe(int code);

/*
 * Does a reply code fit the command it answers?  RFC 5321 §4.3.2 lists,
 * for each command, the positive replies it may get; verb is the command
 * word in upper case ("MAIL", "DATA"), "." for the end of the message
 * data, "greeting" for the connection's opening (RFC 5321's "CONNECTION
 * ESTABLISHMENT").  Any 4xx or 5xx fits any command (421, 500-504, 530
 * may answer anything), except QUIT, which gets 221 or 421 and nothing
 * else.  Positive codes must be the command's own: DATA gets 354, never
 * 250; MAIL gets 250, never 354.  A verb the table does not know (a raw
 * command) takes any valid code.
 */
bool reply_fits(const char *verb, int code);
/* What RFC 5321 §4.3.2 allows for verb, in words: "354 or an error". */
const char *reply_allowed(const char *verb);

/* EHLO capabilities (RFC 5321 §4.1.1.1 and the extension RFCs). */
struct caps {
	bool valid;			/* an EHLO reply was parsed */
	bool pipelining, starttls, auth, eightbitmime, smtputf8,
	     enhancedstatuscodes, chunking, dsn, requiretls, size;
	unsigned long size_limit;	/* 0: no limit given */
	/* "PLAIN LOGIN" as offered, upper-case, each name once.  Bounded,
	 * but never at the cost of a mechanism smtpdx can use: the last
	 * CAPS_MECH_RESERVE bytes are kept for those (sasl_usable()), so a
	 * server listing 100 names still gets PLAIN picked.  Names that do
	 * not fit are counted in mechs_left_out, never dropped silently. */
	char mechs[1024];
	unsigned mechs_left_out;
	char domain[256];		/* the server's name on the first line */
};

#define CAPS_MECH_RESERVE 64	/* the usable names below, with spaces */
/* The mechanisms smtpdx can use (sasl_pick() picks among these). */
bool caps_mech_usable(const char *mech);
void caps_parse(struct caps *c, const struct reply *r);
bool caps_has_mech(const struct caps *c, const char *mech);

#endif

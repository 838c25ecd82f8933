/*
 * transcript.h - everything that crossed the wire, and what we noticed.
 *
 * Each line: when (seconds since the session began), who (S server,
 * C client, I information), whether it travelled inside TLS, and the text.
 * The text is stored already made safe by vis_escape(): no consumer (the
 * terminal, curses, JSON, a saved file) ever sees a raw control byte, and
 * secrets never get here (AUTH payloads are recorded as "<redacted>").
 * A line may carry a note: words for the teaching view (what an AUTH
 * payload holds with the secret masked, for example).
 *
 * Each line also carries its place in the protocol, filled by the session
 * (never parsed back from the text): a client line names its verb; a
 * server line names the command it answers (its verb and the index of
 * that command's line), its reply code, its enhanced code, and on an EHLO
 * reply the capability the line advertises.  Consumers (the TUI, the
 * reports) read these instead of guessing from the display text.
 *
 * Lines are only ever appended; pointers into v stay valid until the next
 * tr_add (the array may move), indexes stay valid for the transcript's life.
 *
 * Bounded, whatever a server sends (issue 8: a 50 MB report): a line's
 * text is cut at TR_LINE_MAX bytes (saying how many were left out), and
 * once the transcript holds TR_HEAD_LINES lines or TR_HEAD_BYTES, one
 * marker line says so and further lines go to a ring that keeps only the
 * last TR_TAIL_LINES (TR_TAIL_BYTES).  tr_seal() appends them after a
 * line that counts what was left out, when the session ends.  A flood
 * therefore costs a fixed amount of memory, and the report stays under
 * 64 KiB of JSON; a normal session (about 60 lines, 8 KiB) never gets
 * near the limits.
 */
#ifndef SMTPDX_TRANSCRIPT_H
#define SMTPDX_TRANSCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include "util.h"

enum tr_dir { TR_SERVER = 'S', TR_CLIENT = 'C', TR_INFO = 'I' };

struct tr_line {
	double t;
	enum tr_dir dir;
	bool tls;
	int step;		/* enum step during which it happened, -1 raw */
	char *text;		/* safe text */
	char *note;		/* safe text or NULL */
	/* structure; "" / 0 / -1 when it does not apply */
	char verb[16];		/* C: the command's verb ("MAIL", "." for the
				 * end of data, "" for message lines);
				 * S: the verb of the command it answers
				 * ("greeting" for the greeting, "" for lines
				 * no command asked for) */
	long answers;		/* S: index of the command's line, -1 none */
	int code;		/* S: reply code, 0 none */
	char enhanced[16];	/* S: "2.1.0", "" none */
	char capability[32];	/* S: EHLO keyword advertised, "" none */
	bool unsolicited;	/* S: no command asked for this line */
};

#define TR_LINE_MAX	1000		/* raw bytes of one line kept */
#define TR_HEAD_LINES	300
#define TR_HEAD_BYTES	(28 * 1024)	/* text, notes, 64 a line for JSON */
#define TR_TAIL_LINES	24
#define TR_TAIL_BYTES	(8 * 1024)

struct transcript {
	struct tr_line *v;
	size_t n, cap;
	double t0;		/* now_mono() at the start */
	size_t bytes;		/* the budget used by v */
	bool eliding;		/* full: new lines go to tail */
	bool sealed;		/* tr_seal() done: no more eliding */
	struct tr_line tail[TR_TAIL_LINES];	/* a ring: the last lines */
	size_t tail_first, tail_n, tail_bytes;
	unsigned long left_out;	/* lines dropped from the ring */
	const struct secrets *sec;	/* redacted in server lines (or NULL) */
};

/* Append raw bytes (escaped here). */
void tr_add(struct transcript *tr, enum tr_dir dir, bool tls, int step,
	    const char *raw, size_t len);
/* The same for text that is safe already (escaped once, where it was
 * collected: certificate names): added as it is, never escaped twice. */
void tr_add_safe(struct transcript *tr, enum tr_dir dir, bool tls, int step,
		 const char *safe);
/* Append an information line from a format. */
void tr_info(struct transcript *tr, int step, const char *fmt, ...) PRINTF(3, 4);
/* Attach a note (already safe text, copied) to the last line. */
void tr_note(struct transcript *tr, const char *note);
/* The session is over: append the lines kept in the ring (after one that
 * counts those left out).  Lines added later go straight into v. */
void tr_seal(struct transcript *tr);
/* The line added last (in v, or in the ring while the transcript is
 * full), or NULL; and its index in v, or -1 while it waits in the ring
 * (a reply's "answers" is then -1: none). */
struct tr_line *tr_last(struct transcript *tr);
long tr_last_index(const struct transcript *tr);
void tr_free(struct transcript *tr);

#endif

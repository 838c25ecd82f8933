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
 * Lines are only ever appended; pointers into v stay valid until the next
 * tr_add (the array may move), indexes stay valid for the transcript's life.
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
};

struct transcript {
	struct tr_line *v;
	size_t n, cap;
	double t0;		/* now_mono() at the start */
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
void tr_free(struct transcript *tr);

#endif

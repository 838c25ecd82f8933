/*
 * report.h - the session as text (--batch, saved transcripts) and as the
 * JSON report of CONTRACT.md (--json).
 *
 * All text printed comes from the transcript and the diagnoses, which hold
 * safe text only; colour (ANSI SGR) is added here and only when asked.
 */
#ifndef SMTPDX_REPORT_H
#define SMTPDX_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "session.h"

/* One transcript line in swaks' notation: " -> " client, "<-  " server,
 * " ~> " / "<~  " inside TLS, "=== " information. */
void report_line(FILE *out, const struct tr_line *l, bool color);
/* The steps with their times, then each diagnosis with its path. */
void report_summary(FILE *out, const struct session *s, bool color);
/* The whole JSON report; new string. */
char *report_json(const struct session *s);
/* Word-wrap text to width columns with an indent on continuation lines. */
void report_wrap(FILE *out, const char *text, int indent, int width);

#endif

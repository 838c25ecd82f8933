/*
 * imap.h - the test message, read back (--fetch-back, issue 13).
 *
 * After the session has sent its test message (which carries a unique
 * X-Smtpdx-Token header), fetchback_run() logs in to the recipient's
 * mailbox over IMAP with TLS (imaps:// implicit, imap:// STARTTLS),
 * searches INBOX for the token (UID SEARCH HEADER, repeated until the
 * timeout), fetches the message's header (BODY.PEEK[HEADER]: nothing is
 * marked read) and takes it apart: the Received chain with the delay of
 * each hop, the Authentication-Results verdicts (SPF, DKIM, DMARC) as the
 * receiver saw them, and spam headers.  What went wrong is a fetchback.*
 * diagnosis.
 *
 * The client is ours, not a library's: it reuses the session's machinery
 * (net.c's resolver and non-blocking connect, tls.c's GnuTLS wrapper with
 * the same certificate checks, transcript.c's bounded, escaped transcript
 * with the password redacted), and it needs four commands; libetpan or
 * c-client (the Debian IMAP libraries) bring their own TLS stacks, their
 * own blocking I/O and unbounded literal handling we would then have to
 * police from outside.
 *
 * Defensive: each command has a deadline (--timeout), a line is at most
 * FB_LINE_MAX bytes, a literal at most FB_LITERAL_MAX (bigger ones end the
 * session unread), and a command's untagged responses at most
 * FB_UNTAGGED_MAX; whatever a server sends, fetchback_run() returns within
 * a bounded time having allocated a bounded amount.
 *
 * fetchback_run() blocks (its own poll loop), like deliver_run().
 */
#ifndef SMTPDX_IMAP_H
#define SMTPDX_IMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "diag.h"
#include "tls.h"
#include "transcript.h"

#define FB_LINE_MAX	(64 * 1024)
#define FB_LITERAL_MAX	(1024 * 1024)
#define FB_UNTAGGED_MAX	10000
#define FB_TOKEN_HEADER	"X-Smtpdx-Token"
#define FB_SKEW		5	/* seconds a hop may seem early */

struct fb_url {
	bool implicit;		/* imaps:// (993); imap:// is STARTTLS (143) */
	char host[256];
	int port;
	char user[256];		/* percent-decoded */
};

/* "imaps://USER@HOST[:PORT]" or "imap://..." (USER may hold '@', or %40;
 * HOST may be [v6]).  0, or -1 with one line in err. */
int fb_url_parse(const char *url, struct fb_url *u, char *err, size_t errlen);

struct fb_hop {
	char *from, *by, *with, *id;	/* safe text, "" when absent */
	char *date;			/* after the ';', "" none */
	double epoch;			/* parsed date, or -1 */
	bool has_delay;			/* both dates read */
	double delay;			/* seconds since the hop before (or
					 * the Date: header); under FB_SKEW
					 * behind counts as 0 (one-second
					 * stamps, Date: written at DATA
					 * while the hop stamps at MAIL);
					 * more is clock skew: negative */
};

struct fb_auth {
	char *authserv;		/* who judged: the A-R's authserv-id */
	char *method;		/* "spf", "dkim", "dmarc", "arc", ... */
	char *result;		/* "pass", "fail", "none", ... */
	char *detail;		/* the rest of the resinfo (properties) */
	bool trusted;		/* above the oldest Received: added on the
				 * way, not written by the sender */
};

struct fb_spam {
	char *name, *value;	/* safe text */
	bool trusted;		/* as for fb_auth */
};

struct fb_header {
	struct fb_hop *hops;	/* oldest first */
	size_t nhops;
	struct fb_auth *auth;
	size_t nauth;
	struct fb_spam *spam;
	size_t nspam;
	char *date;		/* the Date: header, "" none */
	char *subject;
};

/* Take a message header (CRLF or LF lines, up to the blank line) apart.
 * Pure: for the unit tests too. */
void fb_header_parse(const char *hdr, size_t len, struct fb_header *h);
void fb_header_free(struct fb_header *h);
/* An RFC 5322 date ("Wed, 2 Dec 2026 03:50:20 +0000 (UTC)") as seconds
 * since the epoch, or -1. */
double fb_parse_date(const char *s);

struct fb_opts {
	struct fb_url url;
	const char *password;	/* secret; never copied into any output */
	const char *cafile;	/* NULL: the system store */
	const char *servername;	/* certificate name; NULL: url.host */
	bool insecure;
	int tls_min;		/* 10..13 */
	int family;		/* AF_UNSPEC, AF_INET, AF_INET6 */
	double timeout;		/* each command; the search polls this long */
	const char *token_header;	/* FB_TOKEN_HEADER or "Message-ID" */
	const char *token;
	double interval;	/* between searches; 0: 1 s */
};

struct fetchback {
	struct transcript tr;
	const char *status;	/* "found", "not_found", "login_failed",
				 * "failed" (connect, TLS, protocol) */
	double seconds;		/* the whole read-back */
	double found_after;	/* seconds of searching, -1 not found */
	int searches;
	unsigned long uid;
	bool encrypted;
	struct tls_info tls;
	struct fb_header h;
	struct diag_list diags;
};

void fetchback_run(const struct fb_opts *o, struct fetchback *fb);
void fetchback_free(struct fetchback *fb);
/* For the fuzz target and the unit tests: the conversation of
 * fetchback_run() on fd (already connected, in clear, taken as if its
 * TLS were done: url.implicit should be true), from the greeting on.  fd
 * stays open. */
void fb_run_fd(const struct fb_opts *o, struct fetchback *fb, int fd);
/* Diagnoses for what the header says (auth verdicts that fail, a spam
 * flag): appended to l.  Pure. */
void fb_judge(const struct fb_header *h, const char *host, struct diag_list *l);

/* --batch: the transcript is printed by the caller; this prints what was
 * found.  JSON: the "fetch_back" object (README.md), appended to b. */
struct buf;
void fetchback_text(FILE *out, const struct fetchback *fb, bool color);
void fetchback_json(struct buf *b, const struct fetchback *fb);

#endif

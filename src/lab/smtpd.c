/*
 * smtpd.c - the lab's SMTP server, one connection per process.
 *
 * Plain blocking code: a process serves one client, so there is no event
 * loop and no shared state.  SO_RCVTIMEO and SO_SNDTIMEO (30 s) bound every
 * read and write, so a connection that nobody talks to ends by itself, and
 * every way out is leave(): the report card (grade.h, --lab-server only),
 * then _exit().
 *
 * By default the server behaves like a Postfix submission service: the
 * replies, their enhanced status codes and the order it enforces are
 * Postfix's.  The scenario changes that in two ways: flags (enum lab_flag)
 * for behaviours, and canned replies that replace the normal answer to
 * one verb.  Canned replies are trusted text from the scenario table.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gsasl.h>

#include "../util.h"
#include "grade.h"
#include "smtpd.h"

#define LAB_DOMAIN	"smtpdx.lab"	/* the mail domain the lab is final for */
#define IO_TIMEOUT	30		/* seconds for any one write */
/* A command line (or any read) must come within this many seconds, or
 * the client hears "421 4.4.2" and the connection ends: an idle client
 * does not hold a process of the lab for ever (RFC 5321 §4.5.3.2.7 asks
 * at least 5 minutes of a server on the Internet; the lab is not one). */
#define IDLE_TIMEOUT	60
/* A connection lasts at most this many seconds, whatever the client
 * does: one that keeps talking (a NOOP every minute, an endless DATA or
 * BDAT chunk, bytes to a silent scenario) would otherwise hold one of the
 * server's few connections (lab.c: MAX_CONNS) for as long as it liked.
 * It hears "421 4.4.2" and is closed.  A session of smtpdx takes seconds. */
#define LIFETIME	600
#define LINGER_TIMEOUT	2		/* seconds to drain input when closing */
#define CMD_MAX		4096		/* a command line (Postfix: 2048) */
#define DATA_LINE_MAX	(1024 * 1024)	/* a line of message text */
#define ERROR_LIMIT	20		/* Postfix's smtpd_hard_error_limit */
#define SIZE_NORMAL	10240000	/* Postfix's message_size_limit */
/*
 * LF_SIZE_LIMIT: smaller than any test message with its headers (the
 * engine's is about 600 bytes), so the scenario does not depend on it.
 */
#define SIZE_SMALL	200
#define QUEUE_ID	"4XyZ12AbC3"	/* fixed: the lab is deterministic */

/* LF_TLS_OLD: what a server frozen around 2015 would still speak. */
#define PRIO_OLD	"NORMAL:-VERS-ALL:+VERS-TLS1.1:+VERS-TLS1.0:%COMPAT"
#define PRIO_NORMAL	"NORMAL"

/*
 * LF_ESCAPES: an OSC title change, a screen clear, a cursor move, a NUL
 * and invalid UTF-8.  A client that prints replies raw gets its terminal
 * rewritten; one that escapes them shows harmless text.  Split literals
 * keep the hex escapes from running into the next character.
 */
static const char escapes[] =
	"\x1b]0;pwned\x07" "\x1b[2J" "\x1b[10;10H" "\0" "\xff\xfe";
#define ESCAPES_LEN	(sizeof escapes - 1)

struct lab_tls {
	gnutls_certificate_credentials_t cred;
	gnutls_priority_t prio;
};

/* One connection: the transport, the input buffer and the SMTP state. */
struct conn {
	int fd;
	const struct lab_scenario *sc;
	unsigned flags;			/* sc->flags */
	const struct lab_tls *lt;
	gnutls_session_t tls;		/* NULL until a handshake succeeded */
	bool client_cert_ok;		/* a client certificate from the lab CA:
					 * AUTH EXTERNAL is offered */
	char *cb_b64;			/* tls-exporter channel binding, base64,
					 * or NULL: no SCRAM-SHA-256-PLUS */
	Gsasl *sasl;			/* made at the first AUTH */

	struct buf in;			/* received bytes; in.data[rpos..] unread */
	size_t rpos;
	struct buf line;		/* the line conn_line() returned last */
	double line_deadline;		/* conn_line(): the whole line by then */
	double end_of_life;		/* LIFETIME after the accept */
	bool quiet;			/* say nothing more, not even 421 */

	bool greeted;			/* EHLO or HELO accepted */
	bool authed;
	bool in_mail;			/* MAIL accepted, transaction open */
	char mail_from[256];		/* its sender */
	bool smtputf8;			/* ... declared SMTPUTF8 (RFC 6531) */
	int nrcpt;			/* RCPTs accepted in the transaction */
	size_t bdat_size;		/* BDAT octets so far in the transaction */
	int errors;			/* client errors so far */
	size_t size_limit;
	bool in_reply;			/* LF_ESCAPES_ALL: a multi-line reply
					 * is being written */
	bool line_crlf;			/* conn_line()'s line ended in CRLF */
	int last_code;			/* the last reply's code */
	struct lab_facts f;		/* for the report card (grade.h) */
	char cmd[512];			/* the command being answered, as sent
					 * (canned replies' "arg:") */
};

static void conn_close(struct conn *c) __attribute__((noreturn));
static void leave(void) __attribute__((noreturn));
static size_t conn_unread(const struct conn *c);
static void conn_drain(struct conn *c) __attribute__((noreturn));

/* ---- the report card ---------------------------------------------------- */

/* Where cards go (lab_grade_fds()); both -1 outside --lab-server. */
static int card_text_fd = -1, card_json_fd = -1;
static struct conn *cur;	/* this process's connection, for leave() */

/*
 * The greylist, while grading: a real one, shared by the connections of
 * the server (a MAP_SHARED page made before they fork).  A scenario
 * whose RCPT reply is a greylisting 4xx answers the first try of a
 * client address, sender and recipient so, and a retry after
 * grey_delay seconds (SMTPDX_LAB_GREYLIST_DELAY, default 30) with 250:
 * what Postgrey does, with a shorter wait.  The card tells whether the
 * client retried, and when.
 */
#define GREY_MAX	256
#define GREY_DELAY	30
struct grey_entry {
	uint32_t ip, key;
	double first;		/* now_mono() of the first try */
};
static struct grey_entry *grey;
static double grey_delay = GREY_DELAY;
/* how long the server looks for early talk before it greets
 * (SMTPDX_LAB_PREGREET_MS; tests/bench.sh sets 0) */
static int pregreet_ms = 50;

static bool card_color;

void
lab_grade_fds(int text_fd, int json_fd, bool color)
{
	card_text_fd = text_fd;
	card_json_fd = json_fd;
	card_color = color;
	if (text_fd < 0 && json_fd < 0)
		return;
	void *m = mmap(NULL, GREY_MAX * sizeof *grey, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	grey = m == MAP_FAILED ? NULL : m;
	const char *w = getenv("SMTPDX_LAB_PREGREET_MS");
	if (w && atoi(w) >= 0 && atoi(w) <= 10000)
		pregreet_ms = atoi(w);
	const char *e = getenv("SMTPDX_LAB_GREYLIST_DELAY");
	if (e && atoi(e) >= 0 && atoi(e) <= 3600)
		grey_delay = atoi(e);
}

/* FNV-1a of s, case folded, then a separator, on top of h. */
static uint32_t
fnv(uint32_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (uint32_t)tolower((unsigned char)*s)) * 16777619u;
	return (h ^ 0xff) * 16777619u;
}

static uint32_t
grey_key(const char *from, const char *to)
{
	return fnv(fnv(2166136261u, from), to);
}

/*
 * A greylisting 4xx is due for (ip, from, to): true on a first try (the
 * triplet is noted) and on a retry too soon; false on a retry after the
 * delay.  *since: seconds since the first try, -1 on a first.
 */
static bool
grey_hold(uint32_t ip, const char *from, const char *to, double *since)
{
	uint32_t key = grey_key(from, to);
	double now = now_mono();
	*since = -1;
	if (!grey)
		return true;
	int free_slot = -1;
	for (int i = 0; i < GREY_MAX; i++) {
		if (grey[i].first == 0) {
			if (free_slot < 0)
				free_slot = i;
			continue;
		}
		if (grey[i].ip == ip && grey[i].key == key) {
			*since = now - grey[i].first;
			return *since < grey_delay;
		}
	}
	if (free_slot < 0)
		free_slot = (int)(key % GREY_MAX);	/* full: overwrite one */
	grey[free_slot] = (struct grey_entry){ ip, key, now };
	return true;
}

static bool
grading(void)
{
	return card_text_fd >= 0 || card_json_fd >= 0;
}

/* Every way out of a connection's process: its card, then _exit(). */
static void
leave(void)
{
	if (cur && grading())
		grade_card(&cur->f, card_text_fd, card_json_fd, card_color);
	_exit(0);
}

/*
 * Did the client send more before this reply went out (within ms)?
 * Inside TLS only application data counts, not an alert (close_notify).
 */
static bool
more_input(struct conn *c, int ms)
{
	if (conn_unread(c) > 0)
		return true;
	if (c->tls && gnutls_record_check_pending(c->tls) > 0)
		return true;
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	if (poll(&p, 1, ms) <= 0)
		return false;
	unsigned char b;
	if (recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) <= 0)
		return false;	/* EOF: it hung up */
	return !c->tls || b == 0x17;	/* TLS application_data */
}

/* ---- transport ------------------------------------------------------- */

/* Write all of p, through TLS once it is up; a failure ends the process. */
static void
conn_write_raw(struct conn *c, const void *p, size_t n)
{
	const char *s = p;

	while (n > 0) {
		ssize_t k;
		if (c->tls) {
			k = gnutls_record_send(c->tls, s, n);
		} else {
			k = write(c->fd, s, n);
			if (k < 0 && errno == EINTR)
				continue;
		}
		if (k <= 0)	/* peer gone, or the send timeout */
			leave();
		/* a client that reads a byte now and then: the lifetime
		 * holds for writing too (IO_TIMEOUT of grace for the 421) */
		if (c->end_of_life > 0 && n > (size_t)k &&
		    now_mono() > c->end_of_life + IO_TIMEOUT)
			leave();
		s += k;
		n -= (size_t)k;
	}
}

/*
 * Write replies.  LF_ESCAPES_ALL puts the escapes at the end of the first
 * line of every reply (the greeting, each answer, the first line of the
 * EHLO reply, inside TLS too): every reply carries them, and since the
 * EHLO keywords on the later lines and the SASL challenges stay clean,
 * the session still works.
 * Callers write whole lines there.
 */
static void
conn_write(struct conn *c, const void *p, size_t n)
{
	const char *s = p, *end = s + n;

	if (n >= 3 && isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) &&
	    isdigit((unsigned char)s[2]))
		c->last_code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
	if (!(c->flags & LF_ESCAPES_ALL)) {
		conn_write_raw(c, p, n);
		return;
	}
	while (s < end) {
		const char *crlf = memmem(s, (size_t)(end - s), "\r\n", 2);
		if (!crlf) {
			conn_write_raw(c, s, (size_t)(end - s));
			return;
		}
		size_t len = (size_t)(crlf - s);
		conn_write_raw(c, s, len);
		/* 334 carries SASL data, not words: left alone */
		if (!c->in_reply && !(len >= 3 && memcmp(s, "334", 3) == 0))
			conn_write_raw(c, escapes, ESCAPES_LEN);
		conn_write_raw(c, "\r\n", 2);
		c->in_reply = len >= 4 && s[3] == '-';	/* "NNN-": more to come */
		s = crlf + 2;
	}
}

static void lab_lifetime_init(void);

/* IDLE_TIMEOUT, or SMTPDX_LAB_IDLE_TIMEOUT seconds (1-3600) for the
 * tests, read when the lab starts (lab_idle_init()). */
static int idle_timeout = IDLE_TIMEOUT;

void
lab_idle_init(void)
{
	const char *e = getenv("SMTPDX_LAB_IDLE_TIMEOUT");
	int v = e ? atoi(e) : 0;
	idle_timeout = v >= 1 && v <= 3600 ? v : IDLE_TIMEOUT;
	lab_lifetime_init();
}

static double
lab_idle_timeout(void)
{
	return idle_timeout;
}

/* LIFETIME, or SMTPDX_LAB_LIFETIME seconds (1-86400) for the tests. */
static int lifetime = LIFETIME;

static void
lab_lifetime_init(void)
{
	const char *e = getenv("SMTPDX_LAB_LIFETIME");
	int v = e ? atoi(e) : 0;
	lifetime = v >= 1 && v <= 86400 ? v : LIFETIME;
}

/* Read what is there (at least one byte) into c->in; false at EOF. */
static bool
conn_fill(struct conn *c)
{
	char tmp[16384];
	ssize_t k;

	if (c->rpos > 0) {	/* compact before growing */
		buf_consume(&c->in, c->rpos);
		c->rpos = 0;
	}
	double deadline = c->line_deadline > 0 ? c->line_deadline
					       : now_mono() + lab_idle_timeout();
	bool old = c->end_of_life > 0 && deadline >= c->end_of_life;
	if (old)
		deadline = c->end_of_life;
	if (old && now_mono() >= deadline) {
		/* talking all the time does not make a connection immortal */
		if (!c->quiet) {
			static const char aged[] = "421 4.4.2 connection time "
						   "limit reached\r\n";
			conn_write_raw(c, aged, sizeof aged - 1);
		}
		conn_close(c);
	}
	while (!c->tls || gnutls_record_check_pending(c->tls) == 0) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		int ms = (int)((deadline - now_mono()) * 1000);
		int r = ms > 0 ? poll(&p, 1, ms) : 0;
		if (r > 0)
			break;
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0 && !c->quiet && old) {
			static const char aged[] = "421 4.4.2 connection time "
						   "limit reached\r\n";
			conn_write_raw(c, aged, sizeof aged - 1);
		} else if (r == 0 && !c->quiet) {
			static const char idle[] = "421 4.4.2 idle timeout\r\n";
			conn_write_raw(c, idle, sizeof idle - 1);
		}
		if (r == 0)
			conn_close(c);
		return false;
	}
	for (;;) {
		if (c->tls) {
			k = gnutls_record_recv(c->tls, tmp, sizeof tmp);
			if (k == GNUTLS_E_INTERRUPTED)
				continue;
		} else {
			k = read(c->fd, tmp, sizeof tmp);
			if (k < 0 && errno == EINTR)
				continue;
		}
		break;
	}
	if (k <= 0)	/* EOF, error, the receive timeout, a TLS alert */
		return false;
	buf_add(&c->in, tmp, (size_t)k);
	return true;
}

static size_t
conn_unread(const struct conn *c)
{
	return c->in.len - c->rpos;
}

/* Forget every byte received and not yet read (the STARTTLS rule). */
static void
conn_discard(struct conn *c)
{
	buf_reset(&c->in);
	c->rpos = 0;
}

/*
 * The next input line without its line end (CRLF or a bare LF), NUL-
 * terminated, in c->line until the next call; *len counts bytes, since a
 * line may hold a NUL.  NULL at EOF.  A line longer than max ends the
 * connection with a 500.
 */
static char *
conn_line(struct conn *c, size_t max, size_t *len)
{
	c->line_deadline = now_mono() + lab_idle_timeout();
	for (;;) {
		const char *start = NULL, *nl = NULL;
		if (conn_unread(c) > 0) {	/* in.data is NULL until then */
			start = c->in.data + c->rpos;
			nl = memchr(start, '\n', conn_unread(c));
		}
		if (nl) {
			size_t n = (size_t)(nl - start), k = n;
			c->line_crlf = k > 0 && start[k - 1] == '\r';
			if (c->line_crlf)
				k--;
			if (k > max)
				break;
			buf_reset(&c->line);
			buf_add(&c->line, start, k);
			c->rpos += n + 1;
			c->line_deadline = 0;
			if (len)
				*len = k;
			return c->line.data;
		}
		if (conn_unread(c) > max)
			break;
		if (!conn_fill(c))
			return NULL;
	}
	static const char too_long[] = "500 5.5.0 Error: line too long\r\n";
	conn_write(c, too_long, sizeof too_long - 1);
	conn_close(c);
}

/*
 * Close the way a careful server does: close_notify inside TLS, then
 * FIN, then read and drop whatever the client still sends for a moment.
 * Closing with unread input would make the kernel send a RST, and the
 * client might lose the last reply; the lab wants every client to see
 * the same thing.
 */
static void
conn_close(struct conn *c)
{
	struct timeval tv = { LINGER_TIMEOUT, 0 };
	char tmp[4096];

	if (c->tls)
		gnutls_bye(c->tls, GNUTLS_SHUT_WR);
	shutdown(c->fd, SHUT_WR);
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	/* LINGER_TIMEOUT in all, not per read: a client that keeps
	 * sending would keep a process lingering for ever */
	double end = now_mono() + LINGER_TIMEOUT;
	while (now_mono() < end && read(c->fd, tmp, sizeof tmp) > 0)
		;
	close(c->fd);
	leave();
}

/* Say nothing more: read and ignore input until the client gives up. */
static void
conn_drain(struct conn *c)
{
	c->quiet = true;
	conn_discard(c);
	while (conn_fill(c))
		conn_discard(c);
	close(c->fd);
	leave();
}

/* ---- replies --------------------------------------------------------- */

/* One reply line; CRLF is added. */
static void PRINTF(2, 3)
reply(struct conn *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);

	struct buf b = { 0 };
	buf_adds(&b, s);
	buf_adds(&b, "\r\n");
	conn_write(c, b.data, b.len);
	buf_free(&b);
	free(s);
}

/*
 * A reply to a client mistake: counted, and like Postfix the server
 * hangs up after too many of them.
 */
static void PRINTF(2, 3)
reply_error(struct conn *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);

	reply(c, "%s", s);
	free(s);
	if (++c->errors >= ERROR_LIMIT) {
		reply(c, "421 4.7.0 " LAB_SERVERNAME " Error: too many errors");
		conn_close(c);
	}
}

/* Append a canned reply to b: "\n" separates lines, each ends in CRLF. */
static void
add_text(struct buf *b, const char *text)
{
	for (const char *p = text; *p; p++) {
		if (*p == '\n')
			buf_adds(b, "\r\n");
		else
			buf_addc(b, *p);
	}
	buf_adds(b, "\r\n");
}

/* Send a canned reply. */
static void
reply_text(struct conn *c, const char *text)
{
	struct buf b = { 0 };
	add_text(&b, text);
	conn_write(c, b.data, b.len);
	buf_free(&b);
}

/* Does a canned reply's condition (lab.h) hold now? */
static bool
canned_when(const struct conn *c, const char *when)
{
	if (!when)
		return true;
	if (!strcmp(when, "plain"))
		return !c->tls;
	if (!strcmp(when, "noauth"))
		return !c->authed;
	if (!strncmp(when, "arg:", 4)) {
		size_t n = strlen(when + 4);
		for (const char *p = c->cmd; *p; p++)
			if (!strncasecmp(p, when + 4, n))
				return true;
	}
	return false;
}

/* The scenario's canned reply for verb, or NULL. */
static const char *
canned(const struct conn *c, const char *verb)
{
	for (size_t i = 0; i < LAB_MAX_REPLIES; i++) {
		const struct lab_reply *r = &c->sc->replies[i];
		if (r->verb && r->reply && strcmp(r->verb, verb) == 0 &&
		    canned_when(c, c->sc->reply_when[i]))
			return r->reply;
	}
	return NULL;
}

/* Does a canned reply let the command succeed (2xx, 3xx)? */
static bool
positive(const char *text)
{
	return text[0] == '2' || text[0] == '3';
}

/* ---- TLS ------------------------------------------------------------- */

struct lab_tls *
lab_tls_new(const struct lab_pki *pki, unsigned flags, char *err,
	    size_t errlen)
{
	struct lab_tls *t = xcalloc(1, sizeof *t);
	gnutls_datum_t cert = {
		(unsigned char *)pki->cert_pem, (unsigned)strlen(pki->cert_pem)
	};
	gnutls_datum_t key = {
		(unsigned char *)pki->key_pem, (unsigned)strlen(pki->key_pem)
	};
	const char *errpos, *what = "credentials";
	int rc;

	if ((rc = gnutls_certificate_allocate_credentials(&t->cred)) < 0)
		goto fail;
	what = "server certificate";
	if ((rc = gnutls_certificate_set_x509_key_mem(t->cred, &cert, &key,
						GNUTLS_X509_FMT_PEM)) < 0)
		goto fail;
	/* client certificates (LT_REQUIRE_CLIENT_CERT) are checked
	 * against the lab CA: the one --lab-server's client.pem has */
	what = "client CA";
	gnutls_datum_t ca = {
		(unsigned char *)pki->ca_pem, (unsigned)strlen(pki->ca_pem)
	};
	if ((rc = gnutls_certificate_set_x509_trust_mem(t->cred, &ca,
						GNUTLS_X509_FMT_PEM)) < 0)
		goto fail;
	what = "priorities";
	if ((rc = gnutls_priority_init(&t->prio,
			(flags & LF_TLS_OLD) ? PRIO_OLD : PRIO_NORMAL,
			&errpos)) < 0)
		goto fail;
	return t;
fail:
	snprintf(err, errlen, "lab TLS: %s: %s", what, gnutls_strerror(rc));
	lab_tls_free(t);
	return NULL;
}

void
lab_tls_free(struct lab_tls *t)
{
	if (!t)
		return;
	if (t->prio)
		gnutls_priority_deinit(t->prio);
	if (t->cred)
		gnutls_certificate_free_credentials(t->cred);
	free(t);
}

/*
 * The server side of the handshake on c->fd.  On failure the client is
 * told why with the alert GnuTLS finds appropriate (protocol_version for
 * LF_TLS_OLD), and false is returned.
 */
static bool
tls_start(struct conn *c)
{
	gnutls_session_t s;
	int rc;

	if (c->sc->tls_flags & LT_INTERNAL_ERROR) {
		/* read the ClientHello's first record, answer with a
		 * plaintext fatal internal_error alert (RFC 8446 §6.2) */
		static const unsigned char alert[] = {
			0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 80
		};
		char tmp[4096];
		if (read(c->fd, tmp, sizeof tmp) > 0)
			conn_write_raw(c, alert, sizeof alert);
		return false;
	}
	if (gnutls_init(&s, GNUTLS_SERVER) < 0)
		return false;
	if (c->sc->tls_flags & LT_TLS12)
		gnutls_priority_set_direct(s, "NORMAL:-VERS-TLS1.3", NULL);
	else
		gnutls_priority_set(s, c->lt->prio);
	gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, c->lt->cred);
	gnutls_certificate_server_set_request(s,
		(c->sc->tls_flags & LT_REQUIRE_CLIENT_CERT) ? GNUTLS_CERT_REQUIRE
							    : GNUTLS_CERT_IGNORE);
	gnutls_transport_set_int(s, c->fd);
	gnutls_handshake_set_timeout(s, IO_TIMEOUT * 1000);
	do {
		rc = gnutls_handshake(s);
	} while (rc < 0 && rc != GNUTLS_E_AGAIN && !gnutls_error_is_fatal(rc));
	c->f.tls_tried = true;
	if (rc < 0) {
		if (rc == GNUTLS_E_FATAL_ALERT_RECEIVED)
			snprintf(c->f.tls_alert, sizeof c->f.tls_alert, "%s",
				 gnutls_alert_get_name(gnutls_alert_get(s)));
		gnutls_alert_send_appropriate(s, rc);
		gnutls_deinit(s);
		return false;
	}
	if (c->sc->tls_flags & LT_REQUIRE_CLIENT_CERT) {
		/* a certificate came (GNUTLS_CERT_REQUIRE): is it from the
		 * lab CA, for a TLS client?  If not: unknown_ca, as Postfix
		 * with smtpd_tls_req_ccert does (RFC 8446 §6.2) */
		unsigned st = 0;
		gnutls_typed_vdata_st vd = {
			.type = GNUTLS_DT_KEY_PURPOSE_OID,
			.data = (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT,
		};
		if (gnutls_certificate_verify_peers(s, &vd, 1, &st) < 0 || st) {
			gnutls_alert_send(s, GNUTLS_AL_FATAL,
					  (st & GNUTLS_CERT_EXPIRED) ?
					  GNUTLS_A_CERTIFICATE_EXPIRED :
					  GNUTLS_A_UNKNOWN_CA);
			gnutls_deinit(s);
			return false;
		}
		c->client_cert_ok = true;
	}
	c->tls = s;
	c->f.tls_up = true;

	/*
	 * SCRAM-SHA-256-PLUS binds the authentication to this TLS session
	 * with tls-exporter (RFC 9266), which is defined for TLS 1.3 only.
	 */
	gnutls_datum_t cb;
	if (gnutls_protocol_get_version(s) == GNUTLS_TLS1_3 &&
	    gnutls_session_channel_binding(s, GNUTLS_CB_TLS_EXPORTER, &cb) == 0) {
		c->cb_b64 = b64_encode(cb.data, cb.size);
		gnutls_free(cb.data);
	}
	return true;
}

/* ---- session state --------------------------------------------------- */

static void
reset_transaction(struct conn *c)
{
	c->in_mail = false;
	c->smtputf8 = false;
	c->nrcpt = 0;
	c->bdat_size = 0;
}

/* RFC 6531: SMTPUTF8, offered unless the scenario hides it. */
static bool
smtputf8_offered(const struct conn *c)
{
	return !(c->sc->tls_flags & LT_NO_SMTPUTF8);
}

/* RFC 6531 §3.4: a non-ASCII address only in a transaction that declared
 * SMTPUTF8 (Postfix's words when it is not). */
static bool
utf8_address_refused(struct conn *c, const char *addr)
{
	for (const char *p = addr; *p; p++)
		if ((unsigned char)*p >= 0x80 && !c->smtputf8) {
			reply_error(c, "553 5.6.7 Must declare SMTPUTF8 to send "
				    "unicode address");
			return true;
		}
	return false;
}

/* RFC 3461: DSN, offered unless the scenario hides it. */
static bool
dsn_offered(const struct conn *c)
{
	return !(c->sc->tls_flags & LT_NO_DSN);
}

/* RFC 8689 §4.1: REQUIRETLS only inside TLS. */
static bool
requiretls_offered(const struct conn *c)
{
	return c->tls && !(c->sc->tls_flags & LT_NO_REQUIRETLS);
}

/* RFC 3461 §4: xtext: "!".."~" but "+" and "=", or "+" and two upper-case
 * hex digits. */
static bool
xtext_ok(const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '+') {
			if (!strchr("0123456789ABCDEF", s[1]) || !s[1] ||
			    !strchr("0123456789ABCDEF", s[2]) || !s[2])
				return false;
			s += 2;
		} else if (ch < 33 || ch > 126 || ch == '=') {
			return false;
		}
	}
	return true;
}

static bool
starttls_offered(const struct conn *c)
{
	return !c->tls && !(c->flags & (LF_NO_STARTTLS | LF_IMPLICIT));
}

/* Postfix's smtpd_tls_auth_only: AUTH only inside TLS, unless told. */
static bool
auth_offered(const struct conn *c)
{
	return !(c->flags & LF_NO_AUTH) &&
	       (c->tls || (c->flags & LF_AUTH_PLAIN_TOO));
}

static const char *const mechs[] = {
	"PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-256", "SCRAM-SHA-256-PLUS"
};

static bool
mech_offered(const struct conn *c, const char *mech)
{
	/* bearer tokens: canned exchanges (GNU SASL 1.10 has no server
	 * side for them); EXTERNAL: the verified client certificate */
	if (!strcasecmp(mech, "XOAUTH2") || !strcasecmp(mech, "OAUTHBEARER"))
		return c->sc->tls_flags & LT_OAUTH;
	if (!strcasecmp(mech, "EXTERNAL"))
		return c->client_cert_ok;
	for (size_t i = 0; i < ARRAY_SIZE(mechs); i++)
		if (strcasecmp(mech, mechs[i]) == 0)
			return strcmp(mechs[i], "SCRAM-SHA-256-PLUS") != 0 ||
			       c->cb_b64 != NULL;
	return false;
}

/* ---- greeting and the odd services ----------------------------------- */

/*
 * Send p one byte a second; poll() is the clock, so a client that gives
 * up and closes ends this (and the process) at once.  Whatever the client
 * sends meanwhile is kept for the command loop.
 */
static void
trickle(struct conn *c, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct pollfd pf = { c->fd, POLLIN, 0 };
		conn_write_raw(c, p + i, 1);
		if (i + 1 < n && poll(&pf, 1, 1000) > 0) {
			if (!conn_fill(c))
				leave();
		}
	}
}

static void
send_greeting(struct conn *c)
{
	const char *g = canned(c, "GREETING");
	struct buf b = { 0 };

	if (g) {
		add_text(&b, g);
	} else {
		buf_adds(&b, "220 " LAB_SERVERNAME " ESMTP smtpdx-lab");
		if (c->flags & LF_ESCAPES)
			buf_add(&b, escapes, ESCAPES_LEN);
		buf_adds(&b, "\r\n");
	}

	if (c->flags & LF_ENDLESS_LINE) {
		/* "220 " and then 'A's without end, until the client leaves */
		static char as[65536];
		memset(as, 'A', sizeof as);
		conn_write(c, "220 ", 4);
		for (;;)
			conn_write(c, as, sizeof as);
	}
	if (c->flags & LF_TRICKLE) {
		trickle(c, b.data, b.len);
	} else {
		conn_write(c, b.data, b.len);
	}
	buf_free(&b);
	if (!g || g[0] == '2')
		return;

	/* 421: the server is closing the channel (RFC 5321 §3.8). */
	if (g[0] == '4')
		conn_close(c);

	/*
	 * 554 (RFC 5321 §3.1): no service, but the server waits for QUIT
	 * and answers anything else with 503.
	 */
	for (;;) {
		char *line = conn_line(c, CMD_MAX, NULL);
		if (!line)
			leave();
		if (strncasecmp(line, "QUIT", 4) == 0 &&
		    (line[4] == '\0' || line[4] == ' ')) {
			reply(c, "221 2.0.0 Bye");
			conn_close(c);
		}
		reply_error(c, "503 5.5.1 Error: command rejected");
	}
}

/*
 * LF_HTTP: a web server on the mail port.  It waits a second for a
 * request line; with one it answers 400 (it is no HTTP request), without
 * one 408, as Apache does on a silent client.  Either way the client
 * sees an HTTP status line where a 220 should be, which is the symptom
 * worth teaching.
 */
static void
serve_http(struct conn *c)
{
	double deadline = now_mono() + 1.0;
	bool request = false;

	while (!request) {
		int ms = (int)((deadline - now_mono()) * 1000);
		struct pollfd p = { c->fd, POLLIN, 0 };
		if (ms <= 0 || poll(&p, 1, ms) <= 0)
			break;
		if (!conn_fill(c))
			leave();
		request = memchr(c->in.data, '\n', c->in.len) != NULL;
	}

	const char *status = request ? "400 Bad Request" : "408 Request Timeout";
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT",
		 gmtime_r(&now, &tm));
	char *body = xasprintf("<html>\r\n<head><title>%s</title></head>\r\n"
			       "<body>\r\n<center><h1>%s</h1></center>\r\n"
			       "<hr><center>nginx</center>\r\n</body>\r\n"
			       "</html>\r\n", status, status);
	char *resp = xasprintf("HTTP/1.1 %s\r\n"
			       "Server: nginx\r\n"
			       "Date: %s\r\n"
			       "Content-Type: text/html\r\n"
			       "Content-Length: %zu\r\n"
			       "Connection: close\r\n"
			       "\r\n%s", status, date, strlen(body), body);
	conn_write(c, resp, strlen(resp));
	free(resp);
	free(body);
	conn_close(c);
}

/* ---- commands -------------------------------------------------------- */

/* RFC 5321 §4.1.1.1, RFC 5890: the EHLO/HELO name is ASCII (A-labels);
 * EHLO comes before any SMTPUTF8 could be agreed, so there is no
 * exception.  Refused as Postfix does a malformed name. */
static bool
helo_8bit(struct conn *c, char *args)
{
	for (const unsigned char *p = (const unsigned char *)args; *p; p++)
		if (*p >= 0x80) {
			reply_error(c, "501 5.5.2 Helo command rejected: the name "
				    "is not ASCII (a domain goes in A-labels, "
				    "xn--...)");
			return true;
		}
	return false;
}

static void
cmd_ehlo(struct conn *c, char *args)
{
	if (!*args) {
		reply_error(c, "501 Syntax: EHLO hostname");
		return;
	}
	if (helo_8bit(c, args))
		return;
	if (c->flags & LF_EHLO_REJECT) {
		reply_error(c, "502 5.5.2 Error: command not recognized");
		return;
	}
	if (c->tls && (c->sc->tls_flags & (LT_RENEGOTIATE | LT_EMPTY_RECORDS))) {
		/* a server-driven loop inside TLS: renegotiation requests or
		 * empty records until the client hangs up (the client must
		 * bound both: count, bytes and time) */
		for (long i = 0; i < 10000000; i++) {
			int rc = (c->sc->tls_flags & LT_RENEGOTIATE) ?
				 gnutls_rehandshake(c->tls) :
				 /* TLS 1.3: a record of padding only,
				  * no content (RFC 8446 §5.4) */
				 (int)gnutls_record_send2(c->tls, "", 0, 16, 0);
			if (rc < 0 && gnutls_error_is_fatal(rc))
				break;
		}
		conn_close(c);
	}
	const char *r = canned(c, "EHLO");
	if (r) {
		reply_text(c, r);
		if (positive(r)) {
			c->greeted = true;
			reset_transaction(c);
		}
		return;
	}
	if (c->flags & LF_DROP_MID_REPLY) {
		static const char part[] = "250-" LAB_SERVERNAME "\r\n250-PIPELI";
		conn_write(c, part, sizeof part - 1);
		close(c->fd);
		leave();
	}
	if (c->flags & LF_FLOOD_4XX) {
		/* complete 4xx replies, unasked, without end */
		static const char r451[] = "451 4.3.0 Error: try again later\r\n";
		for (;;)
			conn_write(c, r451, sizeof r451 - 1);
	}
	if (c->flags & LF_LONG_LINE) {
		/* 4 MiB in one line that never ends, then silence */
		static char as[65536];
		memset(as, 'A', sizeof as);
		conn_write(c, "250-", 4);
		for (int i = 0; i < 64; i++)
			conn_write(c, as, sizeof as);
		conn_drain(c);
	}
	if (c->flags & LF_MALFORMED) {
		static const char junk[] = "hello there, this is not SMTP\r\n";
		conn_write(c, junk, sizeof junk - 1);
		return;
	}

	struct buf b = { 0 };
	if (c->flags & LF_MANY_LINES) {
		for (int i = 1; i <= 1000; i++)
			buf_printf(&b, "250-X-FILLER-%d\r\n", i);
		buf_adds(&b, "250 OK\r\n");
	} else {
		const char *caps[12];
		size_t n = 0;
		char size[32], auth[128];

		if (!(c->flags & LF_NO_PIPELINING))
			caps[n++] = "PIPELINING";
		c->f.pipelining_offered = !(c->flags & LF_NO_PIPELINING);
		if (auth_offered(c) && !c->tls)
			c->f.auth_offered_plain = true;
		snprintf(size, sizeof size, "SIZE %zu", c->size_limit);
		caps[n++] = size;
		if (starttls_offered(c))
			caps[n++] = "STARTTLS";
		if (auth_offered(c)) {
			snprintf(auth, sizeof auth, "AUTH PLAIN LOGIN CRAM-MD5 "
				 "SCRAM-SHA-256%s%s%s",
				 c->cb_b64 ? " SCRAM-SHA-256-PLUS" : "",
				 (c->sc->tls_flags & LT_OAUTH) ?
				 " XOAUTH2 OAUTHBEARER" : "",
				 c->client_cert_ok ? " EXTERNAL" : "");
			caps[n++] = auth;
		}
		caps[n++] = "ENHANCEDSTATUSCODES";
		caps[n++] = "8BITMIME";
		if (smtputf8_offered(c))
			caps[n++] = "SMTPUTF8";
		if (!(c->sc->tls_flags & LT_NO_CHUNKING))
			caps[n++] = "CHUNKING";
		if (dsn_offered(c))
			caps[n++] = "DSN";
		if (requiretls_offered(c))
			caps[n++] = "REQUIRETLS";

		buf_adds(&b, "250-" LAB_SERVERNAME);
		if (c->flags & LF_ESCAPES)
			buf_add(&b, escapes, ESCAPES_LEN);
		buf_adds(&b, "\r\n");
		for (size_t i = 0; i < n; i++)
			buf_printf(&b, "250%c%s\r\n", i + 1 < n ? '-' : ' ',
				   caps[i]);
	}
	conn_write(c, b.data, b.len);
	buf_free(&b);
	c->greeted = true;
	reset_transaction(c);
	if (c->flags & LF_HANG_AFTER_EHLO)
		conn_drain(c);
}

static void
cmd_helo(struct conn *c, char *args)
{
	if (!*args) {
		reply_error(c, "501 Syntax: HELO hostname");
		return;
	}
	if (helo_8bit(c, args))
		return;
	const char *r = canned(c, "HELO");
	if (r) {
		reply_text(c, r);
		if (!positive(r))
			return;
	} else {
		reply(c, "250 " LAB_SERVERNAME);
	}
	c->greeted = true;
	reset_transaction(c);
}

static void
cmd_starttls(struct conn *c, char *args)
{
	static const char ready[] = "220 2.0.0 Ready to start TLS\r\n";

	if (*args) {
		reply_error(c, "501 5.5.4 Syntax: STARTTLS");
		return;
	}
	if (c->tls) {
		reply_error(c, "554 5.5.1 Error: TLS already active");
		return;
	}
	if (!starttls_offered(c)) {
		reply_error(c, "502 5.5.1 Error: command not implemented");
		return;
	}
	const char *r = canned(c, "STARTTLS");
	if (r) {	/* e.g. 454: no TLS follows, the session goes on */
		reply_text(c, r);
		if (!positive(r))
			return;
	} else if (c->flags & LF_INJECT) {
		/*
		 * The man in the middle's trick (CVE-2011-0411, NO STARTTLS):
		 * plaintext replies in the same segment as the 220.  A client
		 * that keeps them would read them as the first replies inside
		 * TLS.  One write() keeps them in one segment.
		 */
		static const char inj[] = "220 2.0.0 Ready to start TLS\r\n"
					  "250-injected\r\n250 OK\r\n";
		conn_write(c, inj, sizeof inj - 1);
		c->f.injected = true;
	} else if (c->flags & LF_TLS_GARBAGE) {
		/* 220, then 64 bytes that start like a TLS 1.2 record */
		char junk[sizeof ready - 1 + 64];
		memcpy(junk, ready, sizeof ready - 1);
		char *g = junk + sizeof ready - 1;
		g[0] = 0x16;
		g[1] = 0x03;
		g[2] = 0x03;
		for (int i = 3; i < 64; i++)
			g[i] = (char)((0x80 + i * 7) & 0xff);	/* junk, not a record */
		conn_write(c, junk, sizeof junk);
		conn_drain(c);
	} else if (c->flags & LF_TLS_CLOSE) {
		conn_write(c, ready, sizeof ready - 1);
		close(c->fd);
		leave();
	} else {
		conn_write(c, ready, sizeof ready - 1);
	}

	/*
	 * Postfix's fix for CVE-2011-0411: whatever plaintext the client
	 * sent after STARTTLS is thrown away, never read inside TLS.
	 */
	conn_discard(c);
	if (!tls_start(c)) {
		close(c->fd);
		leave();
	}
	/* RFC 3207 §4.2: forget what was learnt before TLS. */
	c->greeted = false;
	c->authed = false;
	reset_transaction(c);
}

/* The name the lab's user logs in with. */
static const char *
login_name(const struct conn *c)
{
	return c && (c->sc->tls_flags & LT_LOGIN_ADDRESS) ? LAB_FROM : LAB_USER;
}

/* GNU SASL asks for the password of the user it is checking. */
static int
sasl_callback(Gsasl *ctx, Gsasl_session *s, Gsasl_property prop)
{
	const struct conn *c = gsasl_callback_hook_get(ctx);
	const char *id;

	switch (prop) {
	case GSASL_PASSWORD:
		id = gsasl_property_fast(s, GSASL_AUTHID);
		if (!id || strcmp(id, login_name(c)) != 0)
			return GSASL_NO_CALLBACK;	/* unknown user */
		gsasl_property_set(s, GSASL_PASSWORD, LAB_PASSWORD);
		return GSASL_OK;
	default:	/* SCRAM iterations, salt: GNU SASL's defaults */
		return GSASL_NO_CALLBACK;
	}
}

enum auth_result { AUTH_OK, AUTH_FAILED, AUTH_ABORTED, AUTH_BAD_B64,
		  AUTH_REPLIED /* the exchange already answered */ };

/*
 * Base64 of one SASL message; "" and "=" are both the empty message.
 * Returns -1 on bad base64.
 */
static int
sasl_decode(const char *s, unsigned char **out, size_t *outlen)
{
	if (strcmp(s, "=") == 0 || *s == '\0') {
		*out = xmalloc(1);
		*outlen = 0;
		return 0;
	}
	return b64_decode(s, out, outlen);
}

static void
free_secret(unsigned char *p, size_t n)
{
	if (p)
		wipe(p, n);
	free(p);
}

/*
 * Run the exchange: 334 challenges and the client's answers until GNU
 * SASL is done.  ir is the initial response (base64) or NULL; it may
 * point into c->line, so it is read before the first conn_line() and
 * wiped then.  Every message holds secrets and is wiped after use.
 */
static enum auth_result
sasl_exchange(struct conn *c, Gsasl_session *s, const char *mech,
	      char *ir)
{
	unsigned char *in = NULL;
	size_t inlen = 0;

	if (c->sc->sasl_attack == LSA_ENDLESS) {
		/* a broken SASL backend: it asks again, whatever it is told */
		if (ir)
			wipe(ir, strlen(ir));
		for (int round = 0; round < 1000; round++) {
			char *line;
			reply(c, "334 %s", round % 2 ? "UGFzc3dvcmQ6" : "VXNlcm5hbWU6");
			if (!(line = conn_line(c, CMD_MAX, NULL)))
				leave();
			bool star = strcmp(line, "*") == 0;
			wipe(c->line.data, c->line.len);
			if (star)
				return AUTH_ABORTED;
		}
		return AUTH_FAILED;
	}
	if (ir) {
		int rc = sasl_decode(ir, &in, &inlen);
		wipe(ir, strlen(ir));	/* c->line: reused by conn_line() */
		if (rc < 0)
			return AUTH_BAD_B64;
		/*
		 * GNU SASL's LOGIN always asks for the user name first; with
		 * the name already given, take that question as asked.
		 */
		if (strcasecmp(mech, "LOGIN") == 0) {
			char *out = NULL;
			size_t outlen = 0;
			gsasl_step(s, "", 0, &out, &outlen);
			gsasl_free(out);
		}
	}
	for (int round = 0; round < 8; round++) {
		char *out = NULL, *line;
		size_t outlen = 0;
		int rc = gsasl_step(s, (const char *)in, inlen, &out, &outlen);
		free_secret(in, inlen);
		in = NULL;
		inlen = 0;

		bool final_data = rc == GSASL_OK && outlen > 0;
		if (rc != GSASL_NEEDS_MORE && !final_data) {
			gsasl_free(out);
			return rc == GSASL_OK ? AUTH_OK : AUTH_FAILED;
		}

		/*
		 * A challenge, or data that comes with success (SCRAM's
		 * server signature): SMTP has no success-with-data reply,
		 * so it goes in a 334 and the client answers it with an
		 * empty line (RFC 4954 §4).
		 */
		if (final_data && c->sc->sasl_attack == LSA_BAD_SIG && outlen > 4)
			out[3] = out[3] == 'A' ? 'B' : 'A';	/* "v=" + signature */
		char *b64 = b64_encode(out, outlen);
		gsasl_free(out);
		reply(c, "334 %s", b64);
		free(b64);
		if (!(line = conn_line(c, CMD_MAX, NULL)))
			leave();
		if (strcmp(line, "*") == 0)
			return AUTH_ABORTED;
		rc = sasl_decode(line, &in, &inlen);
		wipe(c->line.data, c->line.len);
		if (rc < 0)
			return AUTH_BAD_B64;
		if (final_data) {
			free_secret(in, inlen);
			return AUTH_OK;
		}
	}
	free_secret(in, inlen);
	return AUTH_FAILED;
}

/*
 * XOAUTH2 and OAUTHBEARER (RFC 7628): the initial response carries the
 * user and "auth=Bearer TOKEN"; the lab's token is its password.  A wrong
 * token gets the error JSON in a 334 (RFC 7628 §3.2.2; Google sends the
 * same for XOAUTH2), which the client must answer (OAUTHBEARER: %x01 only,
 * RFC 7628 §3.2.3), then 535.  An AUTH without an initial response is
 * asked for one with an empty 334.
 */
static enum auth_result
oauth_exchange(struct conn *c, const char *mech, char *ir)
{
	bool bearer = strcasecmp(mech, "OAUTHBEARER") == 0;
	unsigned char *in = NULL;
	size_t n = 0;
	char *line;
	if (!ir) {
		reply(c, "334 ");
		if (!(line = conn_line(c, CMD_MAX, NULL)))
			leave();
		if (strcmp(line, "*") == 0)
			return AUTH_ABORTED;
		ir = line;
	}
	int rc = sasl_decode(ir, &in, &n);
	wipe(ir, strlen(ir));
	if (rc < 0)
		return AUTH_BAD_B64;
	/* user: XOAUTH2 "user=U^A", OAUTHBEARER gs2 "n,a=U," */
	char user[128] = "", token[256] = "";
	const char *u = bearer ? "a=" : "user=";
	for (size_t i = 0; i + strlen(u) <= n; i++) {
		if (memcmp(in + i, u, strlen(u)) == 0) {
			size_t j = i + strlen(u), k = 0;
			while (j < n && in[j] != ',' && in[j] != 1 && k + 1 < sizeof user)
				user[k++] = (char)in[j++];
			user[k] = '\0';
			break;
		}
	}
	for (size_t i = 0; i + 12 <= n; i++) {
		if (memcmp(in + i, "auth=Bearer ", 12) == 0) {
			size_t j = i + 12, k = 0;
			while (j < n && in[j] != 1 && k + 1 < sizeof token)
				token[k++] = (char)in[j++];
			token[k] = '\0';
			break;
		}
	}
	bool gs2_ok = !bearer || (n > 2 && (in[0] == 'n' || in[0] == 'y') && in[1] == ',');
	free_secret(in, n);
	bool ok = gs2_ok && !strcmp(user, login_name(c)) && !strcmp(token, LAB_PASSWORD);
	wipe(token, sizeof token);
	if (ok)
		return AUTH_OK;
	const char *json = bearer ?
		"{\"status\":\"invalid_token\",\"scope\":\"https://mail.smtpdx.lab/"
		"smtp.send\",\"openid-configuration\":\"https://auth.smtpdx.lab/"
		".well-known/openid-configuration\"}" :
		"{\"status\":\"401\",\"schemes\":\"Bearer\",\"scope\":"
		"\"https://mail.smtpdx.lab/\"}";
	char *b64 = b64_encode(json, strlen(json));
	reply(c, "334 %s", b64);
	free(b64);
	if (!(line = conn_line(c, CMD_MAX, NULL)))
		leave();
	/* RFC 7628 §3.2.3: the only answer is %x01 ("AQ=="); XOAUTH2 an
	 * empty line */
	bool dummy = bearer ? strcmp(line, "AQ==") == 0 : *line == '\0';
	wipe(c->line.data, c->line.len);
	if (!dummy) {
		reply_error(c, "501 5.5.2 %s", bearer ? "OAUTHBEARER: the error "
			    "must be answered with %x01 (RFC 7628 3.2.3)" :
			    "XOAUTH2: the error must be answered with an empty line");
		return AUTH_REPLIED;
	}
	return AUTH_FAILED;
}

/* RFC 4422 Appendix A: an empty authzid (act as the certificate's
 * identity) or the lab user's name. */
static enum auth_result
external_exchange(struct conn *c, char *ir)
{
	char *line;
	if (!ir) {
		reply(c, "334 ");
		if (!(line = conn_line(c, CMD_MAX, NULL)))
			leave();
		if (strcmp(line, "*") == 0)
			return AUTH_ABORTED;
		ir = line;
	}
	unsigned char *in = NULL;
	size_t n = 0;
	if (sasl_decode(ir, &in, &n) < 0)
		return AUTH_BAD_B64;
	bool ok = n == 0 || (n == strlen(LAB_USER) && !memcmp(in, LAB_USER, n));
	free(in);
	return ok ? AUTH_OK : AUTH_FAILED;
}

/*
 * For the card: the mechanism, what was offered, and where the password
 * went.  Called for every AUTH line with a mechanism, offered or not, in
 * plaintext or not; `secret`: an initial response came with it.
 */
static void
note_auth(struct conn *c, const char *mech, bool secret)
{
	struct lab_facts *f = &c->f;
	if (!*f->mech) {
		snprintf(f->mech, sizeof f->mech, "%s", mech);
		for (char *p = f->mech; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		snprintf(f->offered, sizeof f->offered, "PLAIN LOGIN CRAM-MD5 "
			 "SCRAM-SHA-256%s%s%s", c->cb_b64 ? " SCRAM-SHA-256-PLUS" : "",
			 (c->sc->tls_flags & LT_OAUTH) ? " XOAUTH2 OAUTHBEARER" : "",
			 c->client_cert_ok ? " EXTERNAL" : "");
	}
	if (c->tls) {
		f->auth_after_tls = true;
	} else {
		f->auth_plain_text = true;
		/* the exchange runs when AUTH is offered here: the
		 * password follows */
		if (secret || auth_offered(c))
			f->auth_secret_plain = true;
	}
}

static void
cmd_auth(struct conn *c, char *args)
{
	if (grading()) {	/* before any refusal: the line itself counts */
		size_t wl = strcspn(args, " ");
		const char *rest = args + wl;
		while (*rest == ' ')
			rest++;
		char word[32];
		snprintf(word, sizeof word, "%.*s", (int)(wl < 31 ? wl : 31), args);
		if (*word)
			note_auth(c, word, *rest != '\0');
	}
	if (!c->greeted) {
		reply_error(c, "503 5.5.1 Error: send HELO/EHLO first");
		return;
	}
	if (!auth_offered(c)) {
		reply_error(c, "503 5.5.1 Error: authentication not enabled");
		return;
	}
	if (c->in_mail) {
		reply_error(c, "503 5.5.1 Error: MAIL transaction in progress");
		return;
	}
	if (c->authed) {
		reply_error(c, "503 5.5.1 Error: already authenticated");
		return;
	}

	char *mech = args, *ir = strchr(args, ' ');
	bool syntax_ok = *mech != '\0';
	if (ir) {	/* "AUTH mech [initial-response]": two words at most */
		*ir++ = '\0';
		while (*ir == ' ')
			ir++;
		if (*ir == '\0' || strchr(ir, ' '))
			syntax_ok = false;
	}
	if (!syntax_ok) {
		reply_error(c, "501 5.5.4 Syntax: AUTH mechanism");
		return;
	}
	if (!mech_offered(c, mech)) {
		reply_error(c, "535 5.7.8 Error: authentication failed: "
			    "Invalid authentication mechanism");
		return;
	}
	/*
	 * A copy: args lives in c->line, which the exchange reuses.  GNU
	 * SASL's names are upper case; mech_offered() bounds the length.
	 */
	char name[32];
	snprintf(name, sizeof name, "%s", mech);
	for (char *p = name; *p; p++)
		*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);

	Gsasl_session *s = NULL;
	enum auth_result res;
	if (!strcmp(name, "XOAUTH2") || !strcmp(name, "OAUTHBEARER")) {
		res = oauth_exchange(c, name, ir);
		goto answer;
	}
	if (!strcmp(name, "EXTERNAL")) {
		res = external_exchange(c, ir);
		goto answer;
	}
	if (!c->sasl) {
		if (gsasl_init(&c->sasl) != GSASL_OK) {
			c->sasl = NULL;
			reply(c, "454 4.7.0 Temporary authentication failure");
			return;
		}
		gsasl_callback_set(c->sasl, sasl_callback);
		gsasl_callback_hook_set(c->sasl, c);
	}
	if (gsasl_server_start(c->sasl, name, &s) != GSASL_OK) {
		reply(c, "454 4.7.0 Temporary authentication failure");
		return;
	}
	/* Needed for -PLUS, and for plain SCRAM to refuse a downgrade. */
	if (c->cb_b64)
		gsasl_property_set(s, GSASL_CB_TLS_EXPORTER, c->cb_b64);
	res = sasl_exchange(c, s, name, ir);
	gsasl_finish(s);
answer:;
	const char *r = canned(c, "AUTH");
	switch (res) {
	case AUTH_REPLIED:
		return;
	case AUTH_ABORTED:
		reply_error(c, "501 5.7.0 Authentication aborted");
		return;
	case AUTH_BAD_B64:
		reply_error(c, "501 5.5.2 Cannot decode response");
		return;
	case AUTH_OK:
	case AUTH_FAILED:
		break;
	}
	if (r) {	/* the provider's answer, whatever the credentials */
		reply_text(c, r);
		c->authed = res == AUTH_OK && r[0] == '2';
	} else if (res == AUTH_OK) {
		reply(c, "235 2.7.0 Authentication successful");
		c->authed = true;
	} else {
		reply_error(c, "535 5.7.8 Error: authentication failed: "
			    "authentication failure");
	}
}

/*
 * Split "FROM:<addr> PARAMS" (or TO:): *addr is the address without its
 * brackets, *params the rest.  Postfix also takes a space after the
 * colon.  Returns -1 when there is no <...>.
 */
static int
parse_path(char *arg, char **addr, char **params)
{
	while (*arg == ' ')
		arg++;
	if (*arg != '<')
		return -1;
	char *end = strchr(arg, '>');
	if (!end)
		return -1;
	*end = '\0';
	*addr = arg + 1;
	*params = end + 1;
	while (**params == ' ')
		(*params)++;
	return 0;
}

static void
cmd_mail(struct conn *c, char *args)
{
	char *addr, *params;

	if (c->flags & LF_DROP_AFTER_MAIL) {	/* not a word: gone */
		close(c->fd);
		leave();
	}
	if (!c->greeted) {
		reply_error(c, "503 5.5.1 Error: send HELO/EHLO first");
		return;
	}
	if (c->in_mail) {
		reply_error(c, "503 5.5.1 Error: nested MAIL command");
		return;
	}
	if (strncasecmp(args, "FROM:", 5) != 0) {
		reply_error(c, "501 5.5.4 Syntax: MAIL FROM:<address>");
		return;
	}
	if (parse_path(args + 5, &addr, &params) < 0) {
		reply_error(c, "501 5.1.7 Bad sender address syntax");
		return;
	}
	if (c->flags & LF_ENDLESS_CONT) {
		/* a multi-line 4xx reply whose last line never comes */
		static const char more[] = "451-4.3.0 Please try again later\r\n";
		for (;;)
			conn_write(c, more, sizeof more - 1);
	}
	if (c->flags & LF_DROP_MID_TLS) {
		/* half a reply, then the socket goes: no close_notify, no FIN
		 * for the rest */
		static const char part[] = "250-2.1.0 Ok\r\n250-2.1.0 par";
		conn_write(c, part, sizeof part - 1);
		close(c->fd);
		leave();
	}
	if (c->flags & LF_TRICKLE_MAIL) {
		static const char ok[] = "250 2.1.0 Ok\r\n";
		trickle(c, ok, sizeof ok - 1);
		c->in_mail = true;
		return;
	}
	const char *r = canned(c, "MAIL");
	if (r) {
		reply_text(c, r);
		c->in_mail = positive(r);
		return;
	}
	if ((c->flags & LF_REQUIRE_AUTH) && !c->authed) {
		reply_error(c, "530 5.7.0 Authentication required");
		return;
	}
	bool utf8 = false;
	for (char *p = strtok(params, " "); p; p = strtok(NULL, " ")) {
		if (smtputf8_offered(c) && !strcasecmp(p, "SMTPUTF8")) {
			utf8 = true;
		} else if (strncasecmp(p, "SIZE=", 5) == 0) {
			if (strtoull(p + 5, NULL, 10) > c->size_limit) {
				reply_error(c, "552 5.3.4 Message size exceeds "
					    "fixed limit");
				return;
			}
		} else if (dsn_offered(c) && (!strcasecmp(p, "RET=FULL") ||
					       !strcasecmp(p, "RET=HDRS"))) {
			continue;
		} else if (dsn_offered(c) && !strncasecmp(p, "ENVID=", 6)) {
			if (!xtext_ok(p + 6) || strlen(p + 6) > 300) {
				reply_error(c, "501 5.5.4 Bad ENVID syntax");
				return;
			}
		} else if (requiretls_offered(c) && !strcasecmp(p, "REQUIRETLS")) {
			continue;
		} else if (strncasecmp(p, "BODY=", 5) != 0 &&
			   strncasecmp(p, "AUTH=", 5) != 0) {
			reply_error(c, "555 5.5.4 Unsupported option: %s", p);
			return;
		}
	}
	c->smtputf8 = utf8;
	if (utf8_address_refused(c, addr)) {
		c->smtputf8 = false;
		return;
	}
	reply(c, "250 2.1.0 Ok");
	c->in_mail = true;
	snprintf(c->mail_from, sizeof c->mail_from, "%s", addr);
}

static void
cmd_rcpt(struct conn *c, char *args)
{
	char *addr, *params;

	if (!c->in_mail) {
		reply_error(c, "503 5.5.1 Error: need MAIL command");
		return;
	}
	if (strncasecmp(args, "TO:", 3) != 0) {
		reply_error(c, "501 5.5.4 Syntax: RCPT TO:<address>");
		return;
	}
	if (parse_path(args + 3, &addr, &params) < 0 || *addr == '\0') {
		reply_error(c, "501 5.1.3 Bad recipient address syntax");
		return;
	}
	for (char *p = strtok(params, " "); p; p = strtok(NULL, " ")) {
		bool ok = false;
		if (dsn_offered(c) && !strncasecmp(p, "NOTIFY=", 7)) {
			ok = true;
			char *v = p + 7;
			bool never = false, other = false;
			for (char *w = strtok_r(v, ",", &v); w; w = strtok_r(NULL, ",", &v)) {
				if (!strcasecmp(w, "NEVER"))
					never = true;
				else if (!strcasecmp(w, "SUCCESS") ||
					 !strcasecmp(w, "FAILURE") ||
					 !strcasecmp(w, "DELAY"))
					other = true;
				else
					ok = false;
			}
			if (never && other)
				ok = false;
		} else if (dsn_offered(c) && !strncasecmp(p, "ORCPT=", 6)) {
			const char *semi = strchr(p + 6, ';');
			ok = semi && semi > p + 6 && xtext_ok(semi + 1);
		}
		if (!ok) {
			reply_error(c, "555 5.5.4 Unsupported option: %s", p);
			return;
		}
	}
	if (utf8_address_refused(c, addr))
		return;
	const char *r = canned(c, "RCPT");
	if (r && r[0] == '4' && strstr(r, "reylist") && grading()) {
		double since;
		bool hold = grey_hold(c->f.ip, c->mail_from, addr, &since);
		if (since >= 0) {
			c->f.grey_retry = since;
			c->f.grey_passed = !hold;
		}
		if (!hold)
			r = NULL;	/* the retry passes: as without */
	}
	if (r) {
		reply_text(c, r);
		if (positive(r))
			c->nrcpt++;
		return;
	}
	/* Postfix's reject_sender_login_mismatch: a login sends as itself */
	if ((c->flags & LF_CHECK_SENDER) && c->authed &&
	    strcasecmp(c->mail_from, LAB_FROM) != 0) {
		reply_error(c, "553 5.7.1 <%s>: Sender address rejected: not "
			    "owned by user " LAB_USER, c->mail_from);
		return;
	}
	/* Final for LAB_DOMAIN only; relaying elsewhere needs AUTH. */
	const char *at = strrchr(addr, '@');
	if (at && strcasecmp(at + 1, LAB_DOMAIN) != 0 && !c->authed) {
		reply_error(c, "554 5.7.1 <%s>: Relay access denied", addr);
		return;
	}
	reply(c, "250 2.1.5 Ok");
	c->nrcpt++;
}

/* The reply at the end of a message (after "." or BDAT LAST). */
static void
end_of_message(struct conn *c, size_t size)
{
	const char *r = canned(c, "DOT");
	if (r)
		reply_text(c, r);
	else if (size > c->size_limit)
		reply(c, "552 5.3.4 Message size exceeds fixed limit");
	else
		reply(c, "250 2.0.0 Ok: queued as " QUEUE_ID);
	reset_transaction(c);
}

static void
cmd_data(struct conn *c, char *args)
{
	if (!c->in_mail || c->nrcpt == 0) {
		reply_error(c, "503 5.5.1 Error: need RCPT command");
		return;
	}
	if (*args) {
		reply_error(c, "501 5.5.4 Syntax: DATA");
		return;
	}
	const char *r = canned(c, "DATA");
	if (r) {
		reply_text(c, r);
		if (r[0] != '3')
			return;
	} else {
		reply(c, "354 End data with <CR><LF>.<CR><LF>");
	}

	/* The text is counted, not kept; dot-stuffing is undone.  The
	 * card looks at the headers, the line ends and the dots. */
	size_t size = 0, len;
	bool headers = true;
	c->f.data = true;
	for (;;) {
		char *line = conn_line(c, DATA_LINE_MAX, &len);
		if (!line)
			leave();
		if (!c->line_crlf)
			c->f.bare_lf++;
		if (len == 1 && line[0] == '.')
			break;
		if (line[0] == '.') {
			if (len > 1 && line[1] != '.')
				c->f.unstuffed++;	/* a stuffer doubles it */
			len--;
		}
		if (headers && len == 0)
			headers = false;
		else if (headers) {
			c->f.hdr_date |= !strncasecmp(line, "Date:", 5);
			c->f.hdr_from |= !strncasecmp(line, "From:", 5);
			c->f.hdr_msgid |= !strncasecmp(line, "Message-ID:", 11);
		}
		size += len + 2;
	}
	end_of_message(c, size);
}

/* RFC 3030 CHUNKING: "BDAT size [LAST]", then exactly size octets. */
static void
cmd_bdat(struct conn *c, char *args)
{
	char *end;
	unsigned long long n = strtoull(args, &end, 10);
	bool last = false;

	if (end == args || (*end && *end != ' ')) {
		reply_error(c, "501 5.5.4 Syntax: BDAT count [LAST]");
		return;
	}
	while (*end == ' ')
		end++;
	if (strcasecmp(end, "LAST") == 0)
		last = true;
	else if (*end) {
		reply_error(c, "501 5.5.4 Syntax: BDAT count [LAST]");
		return;
	}

	if (c->sc->tls_flags & LT_NO_CHUNKING) {
		/* not offered: refused, and the chunk taken for commands */
		reply_error(c, "502 5.5.1 Error: command not implemented");
		return;
	}
	/* The chunk is read even when it is refused (RFC 3030 §2). */
	for (unsigned long long left = n; left > 0;) {
		if (conn_unread(c) == 0 && !conn_fill(c))
			leave();
		size_t k = conn_unread(c);
		if (k > left)
			k = (size_t)left;
		c->rpos += k;
		left -= k;
	}
	if (!c->in_mail || c->nrcpt == 0) {
		reply_error(c, "503 5.5.1 Error: need RCPT command");
		return;
	}
	c->bdat_size += (size_t)n;
	if (last)
		end_of_message(c, c->bdat_size);
	else
		reply(c, "250 2.0.0 Ok: %llu bytes", n);
}

static void
cmd_rset(struct conn *c, char *args)
{
	if (*args) {
		reply_error(c, "501 5.5.4 Syntax: RSET");
		return;
	}
	reset_transaction(c);
	reply(c, "250 2.0.0 Ok");
}

static void
cmd_noop(struct conn *c, char *args)
{
	reply(c, "250 2.0.0 Ok");
}

static void
cmd_quit(struct conn *c, char *args)
{
	const char *r = canned(c, "QUIT");
	if (r)
		reply_text(c, r);
	else
		reply(c, "221 2.0.0 Bye");
	conn_close(c);
}

static void
cmd_vrfy(struct conn *c, char *args)
{
	reply_error(c, "502 5.5.1 VRFY command is disabled");
}

/* Postfix has no HELP; the lab answers it for people at the raw prompt. */
static void
cmd_help(struct conn *c, char *args)
{
	reply(c, "214 2.0.0 Commands: EHLO HELO STARTTLS AUTH MAIL RCPT "
		 "DATA BDAT RSET NOOP VRFY QUIT");
}

static const struct {
	const char *verb;
	void (*fn)(struct conn *c, char *args);
} commands[] = {
	{ "EHLO", cmd_ehlo },
	{ "HELO", cmd_helo },
	{ "STARTTLS", cmd_starttls },
	{ "AUTH", cmd_auth },
	{ "MAIL", cmd_mail },
	{ "RCPT", cmd_rcpt },
	{ "DATA", cmd_data },
	{ "BDAT", cmd_bdat },
	{ "RSET", cmd_rset },
	{ "NOOP", cmd_noop },
	{ "QUIT", cmd_quit },
	{ "VRFY", cmd_vrfy },
	{ "HELP", cmd_help },
};

/*
 * The report card's eyes (grade.h), before the command runs: bare LF,
 * commands inside TLS, replies not waited for (RFC 2920 §3.1), the
 * injected STARTTLS lines acted on, what came after a 4xx to RCPT.
 */
static void
observe(struct conn *c, const char *verb)
{
	struct lab_facts *f = &c->f;
	f->commands++;
	if (!c->line_crlf)
		f->bare_lf_cmd = true;
	/* QUIT inside TLS is the polite way out, whatever the
	 * certificate was: not "going on" */
	if (c->tls && strcmp(verb, "QUIT"))
		f->cmds_after_tls++;
	bool ehlo = !strcmp(verb, "EHLO") || !strcmp(verb, "HELO");
	if (f->injected && c->tls && f->cmds_after_tls == 1 &&
	    !f->injection_acted && !f->injection_waited) {
		/* the first command inside TLS: a client that took the
		 * injected "250" for the EHLO reply sends its next command
		 * without waiting for the real one */
		if (more_input(c, 500))
			f->injection_acted = true;
		else
			f->injection_waited = ehlo;
	} else if (!*f->no_wait &&
		   (ehlo || !strcmp(verb, "STARTTLS") || !strcmp(verb, "DATA") ||
		    (c->flags & LF_NO_PIPELINING)) &&
		   strcmp(verb, "QUIT") && more_input(c, 0)) {
		snprintf(f->no_wait, sizeof f->no_wait, "%s", verb);
	}
	if (!strcmp(verb, "QUIT"))
		f->quit = true;
	if (f->rcpt_4xx && (!strcmp(verb, "QUIT") || !strcmp(verb, "RSET")))
		f->ended_after_4xx = true;
	/* with PIPELINING, a DATA sent with the RCPT (before its reply)
	 * is right (RFC 2920 §3.1): the server answers it 503 */
	if (!strcmp(verb, "RCPT"))
		f->rcpt_pipelined = more_input(c, 0);
	if (f->rcpt_4xx && !f->rcpt_pipelined && !strcmp(verb, "DATA") &&
	    c->nrcpt == 0)
		f->data_after_4xx = true;
}

/* One command line: the verb (any case), one space, the arguments. */
static void
dispatch(struct conn *c, char *line)
{
	char *args = line + strcspn(line, " ");
	if (*args)
		*args++ = '\0';
	while (*args == ' ')
		args++;
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		if (strcasecmp(line, commands[i].verb) == 0) {
			if (grading())
				observe(c, commands[i].verb);
			commands[i].fn(c, args);
			if (!strcmp(commands[i].verb, "RCPT") &&
			    c->last_code / 100 == 4)
				c->f.rcpt_4xx = true;
			return;
		}
	}
	reply_error(c, "500 5.5.2 Error: command not recognized");
}

void
lab_smtpd(int fd, const struct lab_scenario *sc, const struct lab_tls *t)
{
	struct conn c = {
		.fd = fd,
		.sc = sc,
		.flags = sc->flags,
		.lt = t,
		.size_limit = (sc->flags & LF_SIZE_LIMIT) ? SIZE_SMALL
							  : SIZE_NORMAL,
	};
	struct timeval tv = { IO_TIMEOUT, 0 };
	struct timeval rtv = { (time_t)lab_idle_timeout() + 5, 0 };	/* a backstop */

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &rtv, sizeof rtv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	c.end_of_life = now_mono() + lifetime;

	cur = &c;
	if (grading()) {
		struct sockaddr_in peer, self;
		socklen_t pl = sizeof peer, sl = sizeof self;
		char a[INET_ADDRSTRLEN] = "?";
		c.f.sc = sc;
		c.f.t0 = now_mono();
		if (getpeername(fd, (struct sockaddr *)&peer, &pl) == 0 &&
		    peer.sin_family == AF_INET) {
			inet_ntop(AF_INET, &peer.sin_addr, a, sizeof a);
			c.f.ip = peer.sin_addr.s_addr;
		}
		c.f.grey_delay = grey_delay;
		snprintf(c.f.client, sizeof c.f.client, "%s:%d", a,
			 pl == sizeof peer ? ntohs(peer.sin_port) : 0);
		if (getsockname(fd, (struct sockaddr *)&self, &sl) == 0)
			c.f.port = ntohs(self.sin_port);
		/* a client that talks before the greeting: a moment's wait
		 * shows it (Postfix's postscreen waits 6 s) */
		if (!(c.flags & (LF_IMPLICIT | LF_SILENT | LF_HTTP)) &&
		    more_input(&c, pregreet_ms))
			c.f.early_talker = true;
	}

	if (c.flags & LF_SILENT)
		conn_drain(&c);
	if (c.flags & LF_HTTP)
		serve_http(&c);
	if ((c.flags & LF_IMPLICIT) && !tls_start(&c)) {
		close(fd);
		leave();
	}
	send_greeting(&c);
	for (;;) {
		char *line = conn_line(&c, CMD_MAX, NULL);
		if (!line)
			break;
		snprintf(c.cmd, sizeof c.cmd, "%s", line);
		dispatch(&c, line);
	}
	close(fd);
	leave();
}

/*
 * grade.h - the lab server's report card: how careful was the client?
 *
 * A --lab-server serves other clients (swaks, curl, a student's mail
 * program, a script).  Each connection's process records what the client
 * did (struct lab_facts, filled by smtpd.c as the conversation goes) and
 * at its end grade_card() turns the facts into marks:
 *
 *   cert        did it verify the certificate and the name?  Only a
 *               scenario whose certificate a careful client refuses can
 *               tell (a wrong name, self-signed, expired, ...): going on
 *               after such a handshake to a command, worse to AUTH, is
 *               a fail; refusing the handshake or hanging up is a pass.
 *   plaintext   did it keep the password off a connection that is not
 *               encrypted (even when the server offers AUTH there)?
 *   injection   STARTTLS with plaintext lines pipelined after "220 Ready"
 *               (CVE-2011-0411 style): did it act on them, i.e. send its
 *               next command before the real answer to the EHLO inside
 *               TLS came?
 *   mechanism   the strongest mechanism offered (SCRAM), or PLAIN/LOGIN
 *               although SCRAM was there?
 *   tempfail    after a 4xx to RCPT (greylisting), did it end the
 *               transaction instead of pushing on to DATA?
 *   greeting    did it wait for the greeting before speaking?
 *   pipelining  did it wait for the replies RFC 2920 says to wait for
 *               (EHLO, HELO, STARTTLS, DATA; every one without
 *               PIPELINING)?
 *   message     Date, From and Message-ID headers, CRLF line ends (no
 *               bare LF), dot-stuffing: a line arriving as ".x" was not
 *               stuffed, since a stuffing client never sends one
 *
 * Each mark is pass, fail, warn or "not tested here" (with the scenario
 * that tests it).  The card is written in one write() per form: text to
 * the --lab-server's standard output, JSON lines to --report-card FILE.
 *
 * Lab-internal, like smtpd.h; no GnuTLS type here.
 */
#ifndef SMTPDX_LAB_GRADE_H
#define SMTPDX_LAB_GRADE_H

#include <stdbool.h>
#include "lab.h"

/* What one client did, as the server saw it. */
struct lab_facts {
	const struct lab_scenario *sc;
	char client[64];		/* "127.0.0.1:41234" */
	int port;			/* the server's port */
	double t0;			/* now_mono() at accept */
	int commands;			/* command lines received */
	bool early_talker;		/* bytes before the greeting was sent */
	bool bare_lf_cmd;		/* a command line ended in a bare LF */
	/* TLS */
	bool tls_tried;			/* STARTTLS accepted, or implicit TLS */
	bool tls_up;			/* the handshake completed */
	char tls_alert[48];		/* the client's alert that ended a
					 * failed handshake, or "" */
	int cmds_after_tls;		/* commands inside TLS */
	bool auth_after_tls;		/* AUTH inside TLS */
	/* AUTH */
	char mech[32];			/* the first AUTH's mechanism, or "" */
	char offered[160];		/* mechanisms offered when it came */
	bool auth_plain_text;		/* AUTH on a connection not encrypted */
	bool auth_secret_plain;		/* ... and a password went with it
					 * (an initial response, or the
					 * exchange ran) */
	bool auth_offered_plain;	/* the server offered AUTH before TLS */
	/* STARTTLS injection */
	bool injected;			/* lines sent after 220 Ready */
	bool injection_acted;		/* a command came before the real
					 * reply to the first EHLO inside TLS */
	bool injection_waited;		/* the first EHLO inside TLS came and
					 * nothing before its reply */
	/* pipelining (RFC 2920) */
	bool pipelining_offered;
	char no_wait[16];		/* the first verb not waited for, "" */
	/* temporary failure */
	bool rcpt_4xx;			/* a 4xx reply to RCPT */
	bool rcpt_pipelined;		/* the last RCPT had more behind it */
	unsigned ip;			/* the client's IPv4 address (network
					 * order): the greylist's key */
	double grey_retry;		/* a retry of a greylisted try: seconds
					 * since the first; 0: none */
	bool grey_passed;		/* ... and it came after the delay */
	double grey_delay;		/* the greylist's delay */
	bool data_after_4xx;		/* DATA with no recipient accepted */
	bool ended_after_4xx;		/* RSET or QUIT after it */
	/* the message (DATA) */
	bool data;			/* message text received */
	bool hdr_date, hdr_from, hdr_msgid;
	int bare_lf;			/* text lines ended in a bare LF */
	int unstuffed;			/* text lines ".x": not dot-stuffed */
	bool quit;
};

/* Write the card for f to the text and JSON descriptors (-1: none). */
void grade_card(const struct lab_facts *f, int text_fd, int json_fd,
		bool color);

#endif

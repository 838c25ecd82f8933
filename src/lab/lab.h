/*
 * lab.h - the embedded lab: an SMTP server on loopback, for workshops
 * and for the tests.
 *
 * A scenario describes both sides: how the lab server behaves (flags, the
 * certificate it presents, canned replies for some verbs) and the client
 * settings that meet it.  lab_start() makes a throwaway CA and certificates
 * in memory, binds 127.0.0.1 on a free port and forks a server process
 * that serves each connection in a child of its own (so a second "probe"
 * connection works), until lab_stop() or until the parent dies.
 *
 * Everything is deterministic: the same scenario always produces the same
 * conversation (apart from times, the TLS randoms and the Message-ID).
 */
#ifndef SMTPDX_LAB_H
#define SMTPDX_LAB_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "../config.h"

/* The names the lab's certificates are issued for. */
#define LAB_SERVERNAME	"mail.smtpdx.lab"
#define LAB_OTHERNAME	"other.example.net"
#define LAB_USER	"alice"
#define LAB_PASSWORD	"lab-Secret-42"
#define LAB_FROM	"alice@smtpdx.lab"
#define LAB_TO		"bob@smtpdx.lab"

/* Server behaviours. */
enum lab_flag {
	LF_IMPLICIT	= 1u << 0,	/* TLS on connect (port-465 style) */
	LF_NO_STARTTLS	= 1u << 1,	/* STARTTLS not advertised */
	LF_NO_AUTH	= 1u << 2,	/* AUTH never advertised */
	LF_AUTH_PLAIN_TOO = 1u << 3,	/* AUTH advertised before TLS as well */
	LF_REQUIRE_AUTH	= 1u << 4,	/* MAIL without AUTH: 530 5.7.0 */
	LF_INJECT	= 1u << 5,	/* plaintext appended to STARTTLS's 220 */
	LF_TLS_GARBAGE	= 1u << 6,	/* TLS-looking junk right after 220 */
	LF_TLS_CLOSE	= 1u << 7,	/* close the socket after STARTTLS's 220 */
	LF_TLS_OLD	= 1u << 8,	/* server speaks TLS 1.0/1.1 at most */
	LF_SILENT	= 1u << 9,	/* accept, never say a word */
	LF_HTTP		= 1u << 10,	/* answer like an HTTP server */
	LF_TRICKLE	= 1u << 11,	/* send the greeting one byte a second */
	LF_DROP_AFTER_MAIL = 1u << 12,	/* close without a word after MAIL */
	LF_HANG_AFTER_EHLO = 1u << 13,	/* stop answering after the first EHLO */
	LF_LONG_LINE	= 1u << 14,	/* EHLO reply: one line of 4 MiB, no end */
	LF_MANY_LINES	= 1u << 15,	/* EHLO reply of 1000 lines */
	LF_ESCAPES	= 1u << 16,	/* terminal escapes, NUL, bad UTF-8 in replies */
	LF_MALFORMED	= 1u << 17,	/* EHLO reply that is not SMTP syntax */
	LF_NO_PIPELINING = 1u << 18,	/* PIPELINING not advertised */
	LF_EHLO_REJECT	= 1u << 19,	/* EHLO refused with 502; HELO then decides */
	LF_REFUSE	= 1u << 20,	/* no listener at all: connection refused */
	LF_BACKLOG_FULL	= 1u << 21,	/* listener whose queue is full: SYNs dropped */
	LF_DROP_MID_REPLY = 1u << 22,	/* close in the middle of the EHLO reply */
	LF_SIZE_LIMIT	= 1u << 23,	/* advertise SIZE 200 (test message is larger) */
	LF_ESCAPES_ALL	= 1u << 24,	/* escapes, NUL, bad UTF-8 in every reply line */
	LF_TRICKLE_MAIL	= 1u << 25,	/* MAIL's reply one byte a second (inside TLS) */
	LF_ENDLESS_LINE	= 1u << 26,	/* a greeting line that never ends */
	LF_ENDLESS_CONT	= 1u << 27,	/* MAIL answered by "451-" lines forever */
	LF_FLOOD_4XX	= 1u << 28,	/* EHLO answered by complete 451 replies forever */
	LF_DROP_MID_TLS	= 1u << 29,	/* close (no close_notify) mid-way through MAIL's reply */
	LF_CHECK_SENDER	= 1u << 30,	/* RCPT refused unless MAIL FROM is the
					 * login's own address (LAB_FROM) */
};

/* How the lab breaks SASL on purpose (beside the flags, which are full). */
enum lab_sasl_attack {
	LSA_NONE,
	LSA_ENDLESS,		/* every AUTH line answered by another 334 */
	LSA_BAD_SIG		/* SCRAM's server signature (v=) is wrong */
};

/* Server behaviours inside TLS (a set of their own: lab_flag is full). */
enum lab_tls_flag {
	LT_REQUIRE_CLIENT_CERT = 1u << 0,	/* no client certificate, no TLS */
	LT_INTERNAL_ERROR = 1u << 1,	/* ClientHello answered by internal_error */
	LT_TLS12	= 1u << 2,	/* TLS 1.2 at most */
	LT_RENEGOTIATE	= 1u << 3,	/* inside TLS, EHLO answered by
					 * HelloRequests without end (TLS 1.2) */
	LT_EMPTY_RECORDS = 1u << 4,	/* inside TLS, EHLO answered by
					 * zero-length records without end */
	LT_OAUTH	= 1u << 5,	/* AUTH offers XOAUTH2 and OAUTHBEARER too
					 * (canned: the token is LAB_PASSWORD) */
	/* and extensions the lab offers by default (issue 15) */
	LT_NO_DSN	= 1u << 6,	/* DSN not advertised (RFC 3461) */
	LT_NO_REQUIRETLS = 1u << 7,	/* REQUIRETLS not advertised inside TLS */
	LT_NO_CHUNKING	= 1u << 8,	/* CHUNKING not advertised, BDAT refused */
	LT_LOGIN_ADDRESS = 1u << 9,	/* the login is the full address
					 * (LAB_FROM), not LAB_USER: as on
					 * Microsoft 365, Gmail, Fastmail */
	LT_NO_SMTPUTF8	= 1u << 10,	/* SMTPUTF8 not advertised (RFC 6531):
					 * the parameter refused, and a non-ASCII
					 * address without it (always) too */
};

enum lab_cert {
	LC_GOOD,		/* issued by the lab CA for LAB_SERVERNAME */
	LC_WRONG_NAME,		/* issued by the lab CA for LAB_OTHERNAME */
	LC_EXPIRED,		/* lab CA, right name, expired a year ago */
	LC_NOT_YET_VALID,	/* lab CA, right name, valid from next year */
	LC_SELF_SIGNED,		/* right name, signed by itself */
	LC_CLIENT_ONLY,		/* lab CA, right name, extended key usage
				 * clientAuth only */
	LC_RSA1024,		/* lab CA, right name, an RSA key of 1024 bits */
	LC_SHA1,		/* lab CA, right name, signed with SHA-1 */
	LC_NO_INTERMEDIATE	/* issued by an intermediate under the lab CA,
				 * which the server does not send */
};

/*
 * A canned reply replaces the server's normal answer to a verb.  Verbs:
 * "GREETING", "EHLO", "HELO", "STARTTLS", "AUTH" (final reply of the
 * exchange), "MAIL", "RCPT", "DATA" (the 354), "DOT" (after the message),
 * "QUIT".  The reply text is sent as given, with "\r\n" between lines of
 * a multi-line reply written as "\n" here.
 */
struct lab_reply {
	const char *verb;
	const char *reply;
};

#define LAB_MAX_REPLIES 4

struct lab_scenario {
	const char *name;		/* "ok", "auth.failed", ... */
	const char *desc;		/* one line, for --lab list */
	/* server side */
	unsigned flags;
	unsigned tls_flags;		/* enum lab_tls_flag */
	enum lab_cert cert;
	struct lab_reply replies[LAB_MAX_REPLIES];
	/* when replies[i] is given: NULL always; else only while it holds,
	 * so that a client-side fix can pass (workshop.h): "arg:TEXT" the
	 * command holds TEXT (any case), "plain" no TLS yet, "noauth" no
	 * login yet */
	const char *reply_when[LAB_MAX_REPLIES];
	enum lab_sasl_attack sasl_attack;
	/* client side: 0 / NULL means "the lab default" */
	enum tls_mode tls;		/* TLSM_AUTO: matches the server */
	int role_port;			/* port the diagnosis reasons about */
	bool no_user;			/* no AUTH at all */
	const char *password;		/* NULL: LAB_PASSWORD */
	enum auth_mech mech;
	const char *servername;		/* NULL: LAB_SERVERNAME */
	const char *host;		/* NULL: "127.0.0.1" */
	const char *to;			/* NULL: LAB_TO */
	const char *from;		/* NULL: LAB_FROM */
	bool no_ca;			/* client does not trust the lab CA */
	double timeout;			/* 0: 5 seconds */
	int tls_min;			/* 0: client default */
	enum family family;		/* FAM_ANY: client default */
	bool requiretls;		/* client: --requiretls */
	const char *notify;		/* client: --notify LIST */
	/* the lab's mail host (issue 14): what plays the other usual
	 * ports, "465=implicit,2525=refused,25=relay" (kinds: starttls,
	 * implicit, relay, refused, dropped); NULL: that default.  The
	 * scenario's own server plays role_port (or 587, 465 with
	 * LF_IMPLICIT). */
	const char *mailhost;
	/* what the tests expect */
	const char *expect;		/* diagnosis id, NULL: clean success */
	int expect_exit;		/* 0 or 1 */
};

/* One port of the lab's mail host: the number it plays, where. */
#define LAB_HOST_PORTS	4
struct lab_host_port {
	int role;			/* 587, 465, 2525, 25 */
	int port;			/* the loopback port that plays it */
	const char *kind;		/* "main" (the scenario's own server),
					 * "starttls", "implicit", "relay",
					 * "refused", "dropped" */
};

struct lab_server {
	int want_port;			/* bind here (--lab-server -p); 0: any */
	bool mailhost;			/* lab_start(): the whole mail host, not
					 * only the scenario's own server */
	pid_t pid;			/* server process, 0 if none */
	int port;			/* where it listens on 127.0.0.1 */
	int holdfd[4];			/* sockets kept open (backlog filling) */
	char *ca_pem;			/* the lab CA, PEM; trust anchor */
	char *client_pem;		/* a client certificate and key from
					 * the lab CA (--cert/--key): secret */
	/* with mailhost: every port of the host (the scenario's own first)
	 * and the servers of the others, each a lab_server of its own */
	struct lab_host_port host[LAB_HOST_PORTS];
	int nhost;
	struct lab_server *others;	/* LAB_HOST_PORTS - 1 of them, or NULL */
	/* report cards (lab_grade.h): descriptors above 2 the server writes
	 * each connection's card to, as text and as a JSON line; set by the
	 * caller before lab_start(); 0 or -1: none */
	int card_fd, card_json_fd;
	bool card_color;		/* the text card in colour (a terminal) */
	/* lab_start_all(): each scenario and its port, in lab_ordered()
	 * order, and the sockets that keep dropped ports dropped */
	struct lab_all_port {
		const struct lab_scenario *sc;
		int port;
	} *all;
	int nall;
	int *extra, nextra;
};

const struct lab_scenario *lab_scenarios(size_t *n);
/* The stage a scenario belongs to ("healthy", "connect", "greeting",
 * "tls-mode", "ehlo", "starttls", "tls", "auth", "mail", "rcpt", "data",
 * "session", "warnings", "hostile") and its title ("TLS mode"). */
const char *lab_stage(const struct lab_scenario *sc);
const char *lab_stage_title(const char *stage);
/* The scenarios grouped by stage, in the order of a session: at most max
 * into out; returns how many. */
size_t lab_ordered(const struct lab_scenario **out, size_t max);
const struct lab_scenario *lab_find(const char *name);

/*
 * The lab's mail host (issue 14).  With ls->mailhost set, lab_start()
 * also starts listeners that play the other usual ports (587, 465,
 * 2525, 25), all on loopback, all presenting the scenario's certificate
 * from the same CA, so that --sweep and the TUI's `w` have a host to
 * advise on offline.  The kinds:
 *
 *   starttls  the healthy submission server ("ok")
 *   implicit  the same over implicit TLS ("ok-implicit")
 *   relay     a port-25 MX: STARTTLS, no AUTH at all ("ok-relay")
 *   refused   bound, then closed: the kernel answers the SYN with a RST
 *   dropped   a real drop, without root: a listener whose accept queue
 *             is full and never accepted from; Linux drops the SYN
 *             without a word and the client's connect() times out, as
 *             behind a firewall that drops (LF_BACKLOG_FULL)
 *
 * lab_apply() hands the map to the session (config.portmap), and the
 * sweep probes "587" where the lab plays 587.
 */

/*
 * Start the server for a scenario.  Returns 0, or -1 with a message in
 * err.  The server process ignores SIGPIPE, dies with its parent, and
 * writes nothing to the terminal.
 */
int lab_start(const struct lab_scenario *sc, struct lab_server *ls,
	      char *err, size_t errlen);
void lab_stop(struct lab_server *ls);

/*
 * --lab all --lab-server: every scenario at once, each on a port of its
 * own (ls->want_port, want_port + 1, ... in lab_ordered() order; any free
 * ports when 0), in one server process: at most 16 connections at once
 * per scenario and 64 in total, the idle timeout as for one.  All the
 * certificates come from one CA (ls->ca_pem).  ls->all lists the ports.
 * Returns 0, or -1 with a message in err (a port in use, ...).
 */
int lab_start_all(struct lab_server *ls, char *err, size_t errlen);

/* Set the client side of the scenario into cfg (host, port, CA, ...). */
void lab_apply(const struct lab_scenario *sc, const struct lab_server *ls,
	       struct config *cfg);

#endif

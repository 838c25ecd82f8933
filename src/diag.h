/*
 * diag.h - the diagnosis catalog and the decision tree that picks from it.
 *
 * The catalog (diag.def) is one X-macro list: every diagnosis has an id
 * (CONTRACT.md, stable), a severity, the step it belongs to, a title, an
 * explanation that teaches, a fix, and the RFC behind it.  Explanation and
 * fix may hold placeholders that diag_expand() fills from the session:
 * {host} {port} {servername} {user} {helo} {from} {to} {mech} {tlsmode}
 * {altport} (the port the fix suggests instead) {altmode} ("implicit" or
 * "starttls": the TLS mode that port wants).  A conditional segment
 * "{?flag:text}" is kept only when the fact flag is true, "{!flag:text}"
 * only when it is false (flags: diag_flag_known()); text may hold
 * placeholders and segments.  So a fix never says "add -u" after a login.
 *
 * The decision tree (diag.c) is data too: yes/no questions about the
 * facts a session gathered, ending in a catalog entry.  The engine fills a
 * struct facts; diag_decide() walks the tree and returns the diagnoses with
 * the path it walked.  Nothing here does I/O.
 */
#ifndef SMTPDX_DIAG_H
#define SMTPDX_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include "steps.h"

enum severity { SEV_ERROR, SEV_WARNING, SEV_INFO };

enum diag_id {
#define DIAG(sym, id, sev, step, title, expl, fix, rfc) D_##sym,
#include "diag.def"
#undef DIAG
	D_COUNT
};

struct diag_info {
	const char *id;		/* "auth.failed" */
	enum severity sev;
	enum step step;
	const char *title;
	const char *explanation;
	const char *fix;
	const char *rfc;	/* "RFC 4954 §6", or "" */
};

/* What kind of thing went wrong, as the engine observed it. */
#define FAIL_KINDS(X) \
	X(NONE, "none") \
	X(DNS_NOT_FOUND, "name not found") \
	X(DNS_NO_ADDRESS, "no address of that family") \
	X(DNS_TEMPORARY, "temporary DNS failure") \
	X(DNS_OTHER, "DNS failure") \
	X(NULL_MX, "null MX") \
	X(REFUSED, "connection refused") \
	X(TIMEOUT, "timed out") \
	X(UNREACHABLE, "network unreachable") \
	X(CONNECT_OTHER, "connect failed") \
	X(CLOSED, "connection closed") \
	X(REPLY, "error reply") \
	X(MALFORMED, "malformed reply") \
	X(LINE_TOO_LONG, "line too long") \
	X(REPLY_TOO_LONG, "reply too long") \
	X(NOT_SMTP, "not SMTP") \
	X(TLS_NOT_TLS, "plaintext where TLS was expected") \
	X(TLS_VERSION, "no TLS version in common") \
	X(TLS_CLOSED, "closed during TLS handshake") \
	X(TLS_OTHER, "TLS handshake failed") \
	X(TLS_CLIENT_CERT, "client certificate required") \
	X(TLS_SERVER_ERROR, "server-side TLS error") \
	X(CERT, "certificate failed verification") \
	X(INJECTION, "plaintext injected after STARTTLS") \
	X(UNEXPECTED_DATA, "bytes before the TLS handshake") \
	X(NOT_OFFERED, "extension not offered") \
	X(PLAINTEXT_REFUSED, "refused to send credentials in plaintext") \
	X(MECH_UNSUPPORTED, "no common AUTH mechanism") \
	X(SASL_ERROR, "SASL exchange failed") \
	X(EXCHANGE_BROKEN, "the server broke the SASL exchange") \
	X(SERVER_UNVERIFIED, "the server did not prove it knows the password") \
	X(CANCELLED, "cancelled") \
	X(OUT_OF_STEP, "out of step") \
	X(PROXY_NOT_FOUND, "proxy name not found") \
	X(PROXY_REFUSED, "proxy not reachable") \
	X(PROXY_TIMEOUT, "proxy did not answer") \
	X(PROXY_AUTH, "proxy authentication") \
	X(PROXY_TARGET, "proxy could not reach the server") \
	X(PROXY_DENIED, "proxy turned the request down") \
	X(PROXY_PROTOCOL, "not a proxy answer")

enum fail_kind {
#define X(sym, words) FK_##sym,
	FAIL_KINDS(X)
#undef X
};
const char *fail_kind_name(enum fail_kind k);

/*
 * The facts a session gathered, for the decision tree.  Strings are owned
 * by whoever fills the struct (the session) and must outlive diag_decide().
 */
struct facts {
	int failed_step;	/* enum step of the first failure, -1: none */
	enum fail_kind kind;
	int code;		/* reply code of the failing reply, 0: none */
	int enh_class, enh_subject, enh_detail;	/* enhanced code, 0: none */
	const char *text;	/* the failing reply's lines, joined */
	const char *evidence;	/* safe text: the exact line or observation */
	int port;		/* the port the diagnosis reasons about */
	int tls_mode;		/* enum tls_mode, resolved */
	bool probe_tried;	/* a second connection in the other TLS mode */
	bool probe_ok;		/* ... and it worked */
	unsigned cert_problems;	/* enum cert_problem bits */
	const char *cert_evidence;
	const char *weak;	/* weak algorithms in the chain, in words, or "" */
	bool insecure;
	int tls_version;	/* 10..13, 0: no TLS */
	const char *tls_evidence;
	bool auth_before_tls;	/* AUTH advertised on a plaintext connection */
	const char *auth_plain_evidence;
	bool has_user, authenticated, encrypted;
	bool helo_fallback;
	bool hello_unknown;	/* EHLO and then HELO answered 500/502 */
	bool helo_name_refused;	/* EHLO refused with a code other than
				 * 500/502 (the name, not the command), and
				 * HELO taken: the server speaks ESMTP */
	const char *helo_evidence;
	bool dsn_dropped;	/* DSN asked for, not offered: left out */
	const char *dsn_evidence;
	bool starttls_offered;	/* in the plaintext EHLO */
	bool auth_offered;	/* the latest EHLO offered AUTH */
	bool smtputf8_offered;	/* the latest EHLO offered SMTPUTF8 */
	bool mech_auto;		/* --auth auto (the default) */
	bool raw_transaction;	/* a MAIL FROM typed on the ':' line opened a
				 * transaction the steps did not plan for */
	bool from_given;	/* the user named the sender (--from) */
	bool cafile_given;	/* --cafile: the user chose the trust anchors */
	bool oauth_error;	/* the server answered the OAuth token with its
				 * error JSON (RFC 7628 §3.2.2) */
	bool oauthbearer_microsoft;	/* OAUTHBEARER at a Microsoft host */
	bool client_cert;	/* --cert: a client certificate was offered */
	bool smtputf8_missing;	/* an address with a non-ASCII local part,
				 * and the EHLO reply lists no SMTPUTF8 */
	/* something on the path answered in the server's place
	 * (middlebox.h): strong marks, a note, and what showed them */
	bool middlebox_banner;	/* a masked banner, XXXX, an AV proxy */
	bool middlebox_note;	/* a gateway product named: a note only */
	const char *middlebox_evidence;
	bool cert_intercepted;	/* the issuer is a TLS inspection product */
	const char *intercept_evidence;
	bool oauth_only;	/* AUTH offers only XOAUTH2/OAUTHBEARER and
				 * smtpdx was not asked for either */
	/*
	 * Names that tell which domains the server calls its own, for the
	 * recipient-domain question (diag_rcpt_domain()); NULL or "" when
	 * unknown.  None of them is proof: a server may host any domain.
	 */
	const char *ehlo_name;		/* first word of the EHLO reply */
	const char *greeting_name;	/* first word of the 220 greeting */
	const char *mx_domain;		/* --mx: the mail domain looked up */
	/* placeholders for the texts */
	const char *host, *servername, *user, *helo, *from, *to, *mech;
};

/*
 * Is the recipient's domain the server's own, as far as the session can
 * tell?  Own: it equals, or is a subdomain or parent of, the domain of a
 * name the server goes by (its EHLO and greeting names, the name we
 * connected to, the MX domain of --mx), or the sender's or the login's
 * domain when the user named them.  Foreign: none of those relate.
 * Unknown: no recipient domain, or nothing to compare with.  why (may be
 * NULL) gets the reasoning in words; free it.
 */
enum rcpt_domain { RD_UNKNOWN, RD_OWN, RD_FOREIGN };
enum rcpt_domain diag_rcpt_domain(const struct facts *f, char **why);

/*
 * The reply-text knowledge table (vocab.def): words that real servers
 * send, each with the meaning the tree gives them, the steps where they
 * count, and where the words come from.  The tree asks "does the reply
 * hold words meaning TAG?" only after the facts (step, login, domain,
 * code, enhanced code) have had their say.
 */
#define VOCAB_TAGS(X) \
	X(RELAY, "a refusal to relay") \
	X(NOT_HOSTED, "a refusal that names no reason: not for this server") \
	X(USER_UNKNOWN, "no such mailbox") \
	X(UNVERIFIED, "recipient verification not finished") \
	X(RCPT_DOMAIN, "the recipient's domain does not resolve") \
	X(NULL_MX, "the recipient's domain accepts no mail") \
	X(MAILBOX_FULL, "the mailbox is full") \
	X(GREYLIST, "greylisting") \
	X(RATE, "a rate or connection limit") \
	X(AUTH_REQUIRED, "log in first") \
	X(ACCESS_DENIED, "a bare policy refusal") \
	X(TLS_REQUIRED, "STARTTLS first") \
	X(SIZE, "the size or the server's storage") \
	X(SENDER_NOT_OWNED, "the sender is not the login's") \
	X(SENDER_DOMAIN, "the sender's domain does not resolve") \
	X(HELO, "the EHLO name") \
	X(CLIENT_HOST, "the client's address or reverse DNS") \
	X(BLOCKLIST, "a DNS block list") \
	X(SYNC, "protocol synchronization") \
	X(TOO_MANY_ERRORS, "too many errors") \
	X(TOO_MANY_RCPTS, "too many recipients for one message") \
	X(COMMAND_LIMIT, "a command sent more often than allowed") \
	X(TLS_VERSION, "old TLS versions") \
	X(SEND_AS, "no Send As right") \
	X(UNAUTHENTICATED, "SPF, DKIM or DMARC") \
	X(IDENTITY, "an unverified sending identity")

enum vocab_tag {
#define X(sym, words) V_##sym,
	VOCAB_TAGS(X)
#undef X
	V_COUNT
};

#define VS(st)	(1u << (st))	/* a step, in vocab_entry.steps */
#define VS_ANY	(~0u)

struct vocab_entry {
	enum vocab_tag tag;
	unsigned steps;		/* VS() bits: where the words mean tag */
	const char *words;	/* matched at a word start, any case */
	const char *source;	/* MTA source file:line or a documentation URL */
};

const struct vocab_entry *diag_vocab(size_t *n);
const char *vocab_tag_name(enum vocab_tag t);	/* "RELAY" */
/* The first entry of tag whose words text holds at step st, or NULL. */
const struct vocab_entry *vocab_match(const char *text, int st, enum vocab_tag tag);

/* One answered question on the way through the tree. */
struct path_step {
	const char *node;	/* node id, stable, e.g. "auth.code" */
	const char *question;	/* "What did the server answer to AUTH?" */
	char *answer;		/* what the facts said: "535", "yes" */
};

struct diagnosis {
	enum diag_id id;
	enum severity sev;	/* usually the catalog's; --insecure makes
				 * certificate errors warnings */
	enum step step;
	char *evidence;		/* safe text */
	char *explanation, *fix;	/* placeholders filled */
	struct path_step *path;
	size_t npath;
};

struct diag_list {
	struct diagnosis *v;
	size_t n;
};

/* Walk the tree (and the warning checks) over f; append to out. */
void diag_decide(const struct facts *f, struct diag_list *out);
void diag_list_free(struct diag_list *l);
bool diag_has_error(const struct diag_list *l);
/* The step a diagnosis is reported under: its step's name, or
 * "fetch_back" for the fetchback.* ids (after the session). */
const char *diag_step_name(const struct diagnosis *d);

/* The tree, for the TUI's view of it: node ids, questions. */
struct dt_view {
	const char *id, *question;
};
const struct dt_view *diag_tree_nodes(size_t *n);
/*
 * The branches of node id, read-only, for drawing the whole tree: up to
 * max (answer, next) pairs into when[] and next[]; returns how many (0:
 * no such node).  An answer "*" matches anything; a next of "=ID" is a
 * leaf (a catalog id), "-" nothing to report, anything else a node id.
 */
size_t diag_tree_branches(const char *id, const char **when, const char **next,
			  size_t max);

const struct diag_info *diag_info(enum diag_id d);
/* A catalog text with its placeholders and segments filled from f. */
char *diag_expand(const char *tmpl, const struct facts *f, enum diag_id id);
/* Is name a fact flag that tree nodes and {?name:...} segments may use? */
bool diag_flag_known(const char *name);
int diag_from_id(const char *id);	/* enum value, or -1 */
const char *severity_name(enum severity s);	/* "error", "warning", "info" */

#endif

/*
 * session.c - the SMTP client state machine.
 *
 * One function starts each step (begin_*), one handles each reply
 * (on_reply), and everything that ends a step goes through end_step() or
 * fail().  Replies are matched to the commands that asked for them through
 * a queue, so pipelined groups (RFC 2920) need no special case when their
 * answers come back.
 */
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "message.h"
#include "middlebox.h"
#include "sasl.h"
#include "session.h"
#include "policy.h"
#include "provider.h"
#include "proxy.h"
#include "util.h"

enum phase {
	PH_IDLE,		/* between steps, waiting for session_go() */
	PH_RESOLVE,		/* resolver thread at work */
	PH_CONNECT,		/* non-blocking connect under way */
	PH_HANDSHAKE,		/* TLS handshake */
	PH_IO,			/* commands out, replies in */
	PH_PROBE_CONNECT,	/* second connection, other TLS mode */
	PH_PROBE_HS,
	PH_PX_CONNECT,		/* --proxy: connecting to the proxy */
	PH_PX_HS,		/* --proxy: the proxy's handshake */
	PH_DONE
};

enum cmd {
	C_GREETING, C_EHLO, C_HELO, C_STARTTLS, C_AUTH, C_MAIL, C_RCPT,
	C_DATA, C_DOT, C_BDAT, C_RSET, C_QUIT, C_RAW
};

/* The verb each command is checked as (reply_fits()); C_RAW uses the
 * first word the user typed. */
static const char *const cmd_verb[] = {
	"greeting", "EHLO", "HELO", "STARTTLS", "AUTH", "MAIL", "RCPT",
	"DATA", ".", "BDAT", "RSET", "QUIT", ""
};

/*
 * A command in flight: every command sent is queued, and every complete
 * reply is bound to the head of the queue.  drop: its reply is read and
 * set aside (a failure ended the session's plan, or a raw command timed
 * out); it still takes its place in the queue, so no later command is
 * answered by it.
 */
struct inflight {
	enum cmd c;
	bool drop;
	int step;		/* the step it belongs to, -1 a raw command */
	long line;		/* transcript index of the command, -1 none */
	char verb[16];
};

#define QMAX 80
#define READ_BUDGET (256 * 1024)	/* bytes one read_input() call takes */
#define EVIDENCE_MAX 4096		/* bytes of evidence or reply text kept */

/* How long a greeting may take before a second connection tries
 * implicit TLS beside the first (issue 9 §4). */
#define PROBE_GRACE 1.5

struct session_priv {
	struct secrets sec;	/* what we sent that a server must not echo
				 * into the transcript (util.h) */
	enum run_mode mode;
	enum phase ph;
	double deadline, step_t0;
	struct resolver *res;
	struct address addrs[NET_MAX_ADDRS];
	int naddr, ai;
	enum fail_kind conn_err;	/* worst connect error so far */
	char conn_ev[160];
	int fd;
	struct tls_conn *tls;
	struct linereader lr;
	struct replyparser rp;
	struct buf out;
	struct inflight q[QMAX];
	int qn;
	bool quit_deferred;		/* QUIT waits until DATA is answered */
	bool raw_txn;			/* a raw MAIL FROM opened a transaction */
	double probe_at;		/* parallel probe start, 0 none */
	double probe_deadline;
	bool probe_parallel;		/* the probe runs beside the first
					 * connection, which may still win */
	bool probe_hs;			/* connected: TLS handshake under way */
	int epfd;			/* epoll over both connections, -1 */
	int rcpt_sent, rcpt_done, rcpt_ok;
	struct reply rcpt_fail;		/* first refused RCPT's reply */
	unsigned ahead;			/* steps whose command is already out */
	struct sasl *sasl;
	char *auth_shown_mech;
	int auth_round;
	bool plain_auth_seen;		/* AUTH offered before TLS */
	bool starttls_offered;
	int probe_fd;
	struct tls_conn *probe_tls;
	bool failed;
	bool raw_pending;
	bool closing;			/* wrap-up after a failure: QUIT only */
	char *ev, *text, *ev_tls, *ev_auth_plain, *ev_cert, *ev_helo;
	int ehlo_refused;	/* the code of a refused EHLO (HELO follows) */
	char *greeting_name;	/* for the facts: the 220's first word */
	struct mb_seen mb_banner, mb_cert;	/* middlebox marks (facts) */
	char *ev_oauth;		/* the server's OAuth error JSON, explained */
	char *hostname;			/* for EHLO */
	char *from, *to_default;
	/* the addresses' forms (IDNA2008, RFC 6531): [0] the sender, then
	 * each --to; which form goes is decided with MAIL FROM */
	struct addr_forms af[1 + MAX_RCPT];
	bool utf8;			/* SMTPUTF8 went on MAIL FROM */
	bool smtputf8_missing;		/* ... was needed, not offered */
	/* --bdat: the message in chunks (RFC 3030) */
	char *bdat_msg;
	size_t bdat_off, bdat_len;
	int bdat_sent, bdat_done;
	char *ev_dsn;			/* DSN asked for, not offered */
	/* --proxy */
	struct address px_addrs[NET_MAX_ADDRS];
	int px_naddr, px_ai;
	bool px_resolving;		/* PH_RESOLVE: the proxy's name */
	struct proxy_hs px;
	enum fail_kind px_err;		/* worst proxy connect error so far */
	char px_ev[200];
};

/* Octets per BDAT chunk: each chunk ends at a line end when it can. */
#define BDAT_CHUNK (64 * 1024)

static void begin_step(struct session *s, int st);
static void advance(struct session *s);
static void finish(struct session *s);
static void fail(struct session *s, int st, enum fail_kind kind,
		 const struct reply *r, const char *evfmt, ...) PRINTF(5, 6);
static void tls_refused(struct session *s, enum tls_fail tf, const char *err,
			const char *alerts, bool asked);
static void flush_out(struct session *s);
static bool injected(struct session *s, const struct reply *r);
static void close_conn(struct session *s);
static void sync_fail(struct session *s, int st, const struct reply *r,
		      const char *fmt, ...) PRINTF(4, 5);
static size_t leftover(struct session *s, char *first, size_t n);
static void probe_close(struct session *s);
static void probe_lost(struct session *s);

/* ---- small helpers ---------------------------------------------------- */

static double
timeout_of(const struct session *s)
{
	return s->cfg.timeout > 0 ? s->cfg.timeout : 15;
}

static void
set_deadline(struct session *s)
{
	s->p->deadline = now_mono() + timeout_of(s);
}

static void
info(struct session *s, const char *fmt, ...) PRINTF(2, 3);

static void
info(struct session *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *m = xvasprintf(fmt, ap);
	va_end(ap);
	tr_add(&s->tr, TR_INFO, false, s->cur, m, strlen(m));
	free(m);
}

/* The step whose outcome a command's reply decides. */
static int
cmd_step(const struct session *s, enum cmd c)
{
	switch (c) {
	case C_GREETING: return STEP_GREETING;
	case C_EHLO: case C_HELO:
		return s->cur == STEP_EHLO_TLS ? STEP_EHLO_TLS : STEP_EHLO;
	case C_STARTTLS: return STEP_STARTTLS;
	case C_AUTH: return STEP_AUTH;
	case C_MAIL: return STEP_MAIL;
	case C_RCPT: return STEP_RCPT;
	case C_DATA: case C_DOT: case C_BDAT: return STEP_DATA;
	case C_RSET: case C_QUIT: return STEP_QUIT;
	case C_RAW: return -1;
	}
	return s->cur;
}

/* The first word of a typed command, upper case, letters only. */
static void
verb_of(const char *line, char *out, size_t n)
{
	size_t k = 0;
	while (*line && isspace((unsigned char)*line))
		line++;
	for (; *line && isalpha((unsigned char)*line) && k + 1 < n; line++)
		out[k++] = (char)toupper((unsigned char)*line);
	out[k] = '\0';
}

static void
push_cmd(struct session *s, enum cmd c, long line, const char *verb)
{
	struct session_priv *p = s->p;
	if (p->qn >= QMAX)
		return;
	struct inflight *e = &p->q[p->qn++];
	memset(e, 0, sizeof *e);
	e->c = c;
	e->step = cmd_step(s, c);
	e->line = line;
	snprintf(e->verb, sizeof e->verb, "%s", verb);
}

/* Queue a command: bytes out, the line into the transcript (or what to
 * show instead, for secrets), and its place in the queue of commands
 * waiting for a reply. */
static void
send_cmd(struct session *s, enum cmd c, const char *line, const char *shown)
{
	struct session_priv *p = s->p;
	buf_adds(&p->out, line);
	buf_adds(&p->out, "\r\n");
	const char *t = shown ? shown : line;
	tr_add(&s->tr, TR_CLIENT, s->encrypted, s->cur, t, strlen(t));
	struct tr_line *l = tr_last(&s->tr);
	if (c == C_RAW)
		verb_of(line, l->verb, sizeof l->verb);
	else
		snprintf(l->verb, sizeof l->verb, "%s", cmd_verb[c]);
	push_cmd(s, c, tr_last_index(&s->tr), l->verb);
}

static char *
reply_evidence(const struct reply *r)
{
	struct buf b = { 0 };
	for (size_t i = 0; i < r->nlines; i++) {
		char *line = xasprintf("%03d%c%s", r->code,
				       i + 1 < r->nlines ? '-' : ' ', r->lines[i]);
		char *v = vis_escape(line, strlen(line));
		if (i)
			buf_addc(&b, '\n');
		buf_adds(&b, v);
		free(v);
		free(line);
	}
	return buf_steal(&b);
}

static void
set_str(char **dst, char *val)
{
	free(*dst);
	*dst = val;
}

/* Cut safe text at max bytes (between UTF-8 characters), saying so. */
static void
cap_text(char **t, size_t max)
{
	if (!*t || strlen(*t) <= max)
		return;
	size_t n = max;
	while (n > 0 && ((unsigned char)(*t)[n] & 0xc0) == 0x80)
		n--;
	set_str(t, xasprintf("%.*s... (%zu more bytes left out)", (int)n, *t,
			     strlen(*t) - n));
}

/* ---- steps: order ----------------------------------------------------- */

static const int order_starttls[] = {
	STEP_RESOLVE, STEP_CONNECT, STEP_GREETING, STEP_EHLO, STEP_STARTTLS,
	STEP_TLS, STEP_EHLO_TLS, STEP_AUTH, STEP_MAIL, STEP_RCPT, STEP_DATA,
	STEP_QUIT, -1
};
static const int order_implicit[] = {
	STEP_RESOLVE, STEP_CONNECT, STEP_TLS, STEP_GREETING, STEP_EHLO,
	STEP_AUTH, STEP_MAIL, STEP_RCPT, STEP_DATA, STEP_QUIT, -1
};
static const int order_none[] = {
	STEP_RESOLVE, STEP_CONNECT, STEP_GREETING, STEP_EHLO, STEP_AUTH,
	STEP_MAIL, STEP_RCPT, STEP_DATA, STEP_QUIT, -1
};

static const int *
step_order(const struct session *s)
{
	switch (s->tls_mode) {
	case TLSM_IMPLICIT: return order_implicit;
	case TLSM_NONE: return order_none;
	default: return order_starttls;
	}
}

int
session_next_step(const struct session *s)
{
	if (s->finished)
		return -1;
	const int *o = step_order(s);
	int i = 0;
	if (s->cur >= 0) {
		while (o[i] >= 0 && o[i] != s->cur)
			i++;
		if (o[i] >= 0)
			i++;
	}
	for (; o[i] >= 0; i++)
		if (s->status[o[i]] == SS_PENDING)
			return o[i];
	return -1;
}

int
session_step_order(const struct session *s, int out[STEP_COUNT])
{
	const int *o = step_order(s);
	bool in[STEP_COUNT] = { false };
	int n = 0;
	for (int i = 0; o[i] >= 0 && n < STEP_COUNT; i++) {
		out[n++] = o[i];
		in[o[i]] = true;
	}
	int runs = n;
	for (int st = 0; st < STEP_COUNT; st++)
		if (!in[st])
			out[n++] = st;
	return runs;
}

/* ---- life cycle ------------------------------------------------------- */

static char *
default_hostname(void)
{
	char h[256];
	if (gethostname(h, sizeof h - 1) < 0 || !*h)
		return xstrdup("localhost");
	h[sizeof h - 1] = '\0';
	return xstrdup(h);
}

/* The forms of addr; an address the option checks did not see (the
 * TUI's form checks it too) goes as it is. */
static void
set_forms(struct addr_forms *f, const char *addr)
{
	char err[300];
	if (addr_forms(addr, f, err, sizeof err) < 0) {
		f->given = xstrdup(addr);
		f->ascii = xstrdup(addr);
		f->utf8_local = !addr_ascii(addr);
	}
}

/* The sender and the i-th recipient as they go on the wire (the sender
 * when no --to was given). */
static const char *
wire_from(const struct session *s)
{
	return addr_wire(&s->p->af[0], s->p->utf8);
}

static const char *
wire_to(const struct session *s, int i)
{
	return s->cfg.nto ? addr_wire(&s->p->af[1 + i], s->p->utf8)
			  : wire_from(s);
}

struct session *
session_new(const struct config *cfg)
{
	struct session *s = xcalloc(1, sizeof *s);
	struct session_priv *p = xcalloc(1, sizeof *p);

	s->p = p;
	if (cfg->password)
		secrets_protect();	/* the TUI's form, too */
	config_copy(&s->cfg, cfg);
	/* the lab's mail host (config.portmap): a port number it plays is
	 * its listener's, however it was set (-p, the TUI's form) */
	int at = config_mapped_port(&s->cfg, s->cfg.port);
	if (at != s->cfg.port) {
		s->cfg.role_port = s->cfg.port;
		s->cfg.port = at;
	}
	s->tr.t0 = now_mono();
	p->lr.sec = &p->sec;
	s->tr.sec = &p->sec;
	if (s->cfg.password) {
		secrets_add(&p->sec, s->cfg.password);
		char *b = b64_encode(s->cfg.password, strlen(s->cfg.password));
		secrets_add(&p->sec, b);
		wipe(b, strlen(b));
		free(b);
	}
	s->cur = -1;
	s->tls_mode = config_tls(&s->cfg);
	s->port = config_port(&s->cfg);
	p->fd = -1;
	p->probe_fd = -1;
	p->epfd = -1;
	/* the EHLO name in A-labels (RFC 5321 §4.1.1.1): a U-label name
	 * (--helo bücher.example, or this host's own) goes as xn--... */
	char *h = s->cfg.helo ? xstrdup(s->cfg.helo) : default_hostname();
	p->hostname = idna_lookup_name(h);
	free(h);
	if (s->cfg.from)
		p->from = xstrdup(s->cfg.from);
	else if (s->cfg.user && strchr(s->cfg.user, '@'))
		p->from = xstrdup(s->cfg.user);
	else
		p->from = xasprintf("smtpdx@%s", p->hostname);
	for (int i = 0; i <= s->cfg.nto; i++)
		set_forms(&p->af[i], i ? s->cfg.to[i - 1] : p->from);

	const int *o = step_order(s);
	for (int st = 0; st < STEP_COUNT; st++) {
		bool in = false;
		for (int i = 0; o[i] >= 0; i++)
			if (o[i] == st)
				in = true;
		/* EXTERNAL logs in as the client certificate: no -u needed */
		if (st == STEP_AUTH && !s->cfg.user && s->cfg.mech != AM_EXTERNAL)
			in = false;
		if (st == STEP_DATA && s->cfg.no_send)
			in = false;
		if (s->cfg.probe && (st == STEP_AUTH || st == STEP_MAIL ||
				     st == STEP_RCPT || st == STEP_DATA))
			in = false;
		s->status[st] = in ? SS_PENDING : SS_SKIPPED;
	}
	s->facts.failed_step = -1;
	return s;
}

void
session_free(struct session *s)
{
	if (!s)
		return;
	struct session_priv *p = s->p;
	close_conn(s);
	if (p->res)
		resolve_abandon(p->res);
	probe_close(s);
	sasl_free(p->sasl);
	proxy_hs_free(&p->px);
	buf_free(&p->out);
	lr_free(&p->lr);
	rp_reset(&p->rp);
	reply_free(&p->rcpt_fail);
	free(p->auth_shown_mech);
	free(p->ev);
	free(p->text);
	free(p->ev_tls);
	free(p->ev_auth_plain);
	free(p->ev_cert);
	free(p->ev_helo);
	free(p->ev_dsn);
	if (p->bdat_msg) {
		wipe(p->bdat_msg, strlen(p->bdat_msg));
		free(p->bdat_msg);
	}
	free(p->ev_oauth);
	free(p->greeting_name);
	free(p->hostname);
	free(p->from);
	free(p->to_default);
	for (size_t i = 0; i < ARRAY_SIZE(p->af); i++)
		addr_forms_free(&p->af[i]);
	secrets_free(&p->sec);
	free(p);
	tls_info_free(&s->tls);
	diag_list_free(&s->diags);
	tr_free(&s->tr);
	config_free(&s->cfg);
	free(s);
}

bool
session_busy(const struct session *s)
{
	return s->started && !s->finished && s->p->ph != PH_IDLE;
}

bool
session_can_step(const struct session *s)
{
	return !s->finished && !session_busy(s);
}

bool
session_raw_pending(const struct session *s)
{
	return s->p->raw_pending;
}

double
session_step_started(const struct session *s)
{
	return s->p->step_t0;
}

void
session_go(struct session *s, enum run_mode m)
{
	struct session_priv *p = s->p;
	if (s->finished)
		return;
	if (session_busy(s)) {
		if (m == RUN_ALL)
			p->mode = RUN_ALL;
		return;
	}
	p->mode = m;
	if (!s->started)	/* times count from the first step, not from
				 * when the session was set up */
		s->tr.t0 = now_mono();
	s->started = true;
	int next = session_next_step(s);
	if (next < 0) {
		finish(s);
		return;
	}
	begin_step(s, next);
}

int
session_exit_status(const struct session *s)
{
	return diag_has_error(&s->diags) ? 1 : 0;
}

static void
close_conn(struct session *s)
{
	struct session_priv *p = s->p;
	if (p->tls) {
		tls_free(p->tls);
		p->tls = NULL;
	}
	if (p->fd >= 0) {
		close(p->fd);
		p->fd = -1;
	}
	s->encrypted = false;
}

static void
end_step(struct session *s, int st, enum step_status status)
{
	struct session_priv *p = s->p;
	if (s->status[st] == SS_RUNNING || s->status[st] == SS_PENDING) {
		s->status[st] = status;
		s->seconds[st] = now_mono() - p->step_t0;
	}
	advance(s);
}

/* After a step: stop (RUN_STEP) or go on (RUN_ALL). */
static void
advance(struct session *s)
{
	struct session_priv *p = s->p;
	if (s->finished)
		return;
	int next = session_next_step(s);
	if (next < 0) {
		finish(s);
		return;
	}
	if (p->mode == RUN_ALL || (p->ahead & (1u << next)) || p->closing)
		begin_step(s, next);
	else
		p->ph = PH_IDLE;
}

/*
 * The name the server gives in its 220 greeting ("220 mail.example.com
 * ESMTP"), from the transcript; NULL if there was none.  The facts use it
 * to tell the server's own domains from foreign ones.
 */
static char *
greeting_name(const struct transcript *tr)
{
	for (size_t i = 0; i < tr->n; i++) {
		const struct tr_line *l = &tr->v[i];
		/* the line the session bound to the greeting */
		if (l->dir != TR_SERVER || strcmp(l->verb, "greeting") != 0)
			continue;
		if (l->code != 220 || strlen(l->text) < 4)
			return NULL;
		const char *w = l->text + 4;
		size_t n = strcspn(w, " \t");
		return n ? xstrndup(w, n) : NULL;
	}
	return NULL;
}

const char *
session_greeting(const struct session *s)
{
	for (size_t i = 0; i < s->tr.n; i++) {
		const struct tr_line *l = &s->tr.v[i];
		if (l->dir == TR_SERVER && !strcmp(l->verb, "greeting"))
			return l->text;
	}
	return NULL;
}

const struct provider *
session_provider(const struct session *s)
{
	const struct session_priv *p = s->p;
	return provider_recognise(s->cfg.host, s->cfg.servername,
		p->mb_banner.strong || p->mb_banner.note ? NULL :
		session_greeting(s), s->caps.valid ? s->caps.domain : NULL, NULL);
}

/* Does the server offer only OAuth 2.0 mechanisms (a token, never a
 * password, logs in there)? */
static bool
oauth_only(const struct caps *c)
{
	if (!c->valid || !c->auth || !c->mechs[0])
		return false;
	const char *p = c->mechs;
	while (*p) {
		size_t n = strcspn(p, " ");
		if (!(n == 7 && !strncmp(p, "XOAUTH2", 7)) &&
		    !(n == 11 && !strncmp(p, "OAUTHBEARER", 11)))
			return false;
		p += n;
		p += strspn(p, " ");
	}
	return !c->mechs_left_out;
}

static void
finish(struct session *s)
{
	struct session_priv *p = s->p;
	if (s->finished)
		return;
	close_conn(s);
	probe_close(s);
	p->ph = PH_DONE;
	for (int st = 0; st < STEP_COUNT; st++)
		if (s->status[st] == SS_PENDING)
			s->status[st] = SS_SKIPPED;

	struct facts *f = &s->facts;
	f->port = config_role_port(&s->cfg);
	f->tls_mode = s->tls_mode;
	f->insecure = s->cfg.insecure;
	f->has_user = s->cfg.user != NULL;
	f->authenticated = s->authenticated;
	f->host = s->cfg.host ? s->cfg.host : "";
	f->servername = s->cfg.servername ? s->cfg.servername : f->host;
	f->user = s->cfg.user ? s->cfg.user : "";
	f->helo = p->hostname;
	f->from = wire_from(s);		/* as sent (or as it would have gone) */
	f->to = wire_to(s, 0);
	f->smtputf8_missing = p->smtputf8_missing;
	f->mech = *s->auth_mech ? s->auth_mech : auth_mech_name(s->cfg.mech);
	f->evidence = p->ev ? p->ev : "";
	f->text = p->text ? p->text : "";
	f->tls_evidence = p->ev_tls;
	f->auth_before_tls = p->plain_auth_seen;
	f->auth_plain_evidence = p->ev_auth_plain;
	f->cert_evidence = p->ev_cert;
	f->weak = s->tls.weak;
	f->helo_evidence = p->ev_helo;
	f->dsn_dropped = p->ev_dsn != NULL;
	f->dsn_evidence = p->ev_dsn;
	f->starttls_offered = p->starttls_offered;
	f->auth_offered = s->caps.valid && s->caps.auth;
	f->smtputf8_offered = s->caps.valid && s->caps.smtputf8;
	f->mech_auto = s->cfg.mech == AM_AUTO;
	f->cafile_given = s->cfg.cafile != NULL;
	f->raw_transaction = p->raw_txn;
	f->from_given = s->cfg.from != NULL ||
		(s->cfg.user && strchr(s->cfg.user, '@'));
	f->ehlo_name = s->caps.valid ? s->caps.domain : NULL;
	set_str(&p->greeting_name, greeting_name(&s->tr));
	f->greeting_name = p->greeting_name;
	f->mx_domain = s->cfg.mx ? s->cfg.mx_domain : NULL;
	/* Did something on the path answer in the server's place?  Then
	 * its greeting says nothing of the provider. */
	bool named_provider = provider_by_host(s->cfg.host) ||
		provider_by_host(s->cfg.servername);
	middlebox_check(&s->tr, &s->tls, named_provider, &p->mb_banner,
			&p->mb_cert);
	/* a provider's host that greets without the marks the provider
	 * puts in every greeting: maybe a transparent proxy (a hotel's,
	 * a captive portal's) answering for every host; a note only */
	if (!p->mb_banner.strong && !p->mb_banner.note && named_provider) {
		const struct provider *np = provider_by_host(s->cfg.host);
		if (!np)
			np = provider_by_host(s->cfg.servername);
		const char *g = session_greeting(s);
		if (provider_greets_as(np, g) == 0) {
			p->mb_banner.note = true;
			p->mb_banner.product = "a transparent SMTP proxy, or "
					       "another server";
			snprintf(p->mb_banner.evidence, sizeof p->mb_banner.evidence,
				 "%s (not as %s greets)", g, np->title);
		}
	}
	f->middlebox_banner = p->mb_banner.strong;
	f->middlebox_note = p->mb_banner.note;
	f->middlebox_evidence = p->mb_banner.evidence;
	f->cert_intercepted = p->mb_cert.strong;
	f->intercept_evidence = p->mb_cert.evidence;
	const char *how = NULL;
	const struct provider *pv = provider_recognise(s->cfg.host,
		s->cfg.servername, p->mb_banner.strong || p->mb_banner.note ?
		NULL : session_greeting(s), s->caps.valid ? s->caps.domain : NULL,
		&how);
	if (pv && how && strcmp(how, "the host name"))
		info(s, "%s: recognised from %s", pv->title, how);
	/* Microsoft takes XOAUTH2 only: OAUTHBEARER asked for there */
	f->oauthbearer_microsoft = pv && (!strcmp(pv->name, "microsoft365") ||
					  !strcmp(pv->name, "outlook")) &&
		(s->cfg.mech == AM_OAUTHBEARER ||
		 !strcasecmp(s->auth_mech, "OAUTHBEARER"));
	f->client_cert = s->cfg.cert != NULL;
	f->oauth_only = oauth_only(&s->caps) && s->cfg.mech != AM_XOAUTH2 &&
		s->cfg.mech != AM_OAUTHBEARER;
	diag_decide(f, &s->diags);
	/* --mx delivers server to server: a provider's submission ports
	 * and login are no advice there */
	provider_annotate(&s->diags, s->cfg.mx ? NULL : pv, config_port(&s->cfg),
			  s->tls_mode);
	if (s->cfg.policy) {
		struct policy_seen seen = {
			.port = config_port(&s->cfg),
			.role_port = config_role_port(&s->cfg),
			.mode = s->tls_mode,
			.tls_version = s->tls.version_num,
			.cert_checked = s->tls.version_num > 0,
			.verified = s->tls.verified,
			.mech = s->auth_mech,
			.auth_tried = s->status[STEP_AUTH] == SS_OK ||
				      s->status[STEP_AUTH] == SS_FAIL,
		};
		policy_check(s->cfg.policy, &seen, &s->diags);
	}

	/* a step that finished but drew a warning shows it */
	for (size_t i = 0; i < s->diags.n; i++) {
		const struct diagnosis *d = &s->diags.v[i];
		if (d->sev == SEV_WARNING && s->status[d->step] == SS_OK)
			s->status[d->step] = SS_WARN;
	}
	s->finished = true;
	s->t_end = now_mono() - s->tr.t0;
	tr_seal(&s->tr);	/* the last lines of a flood, if any */
	info(s, "session finished in %.3f s", s->t_end);
}

/*
 * A step failed.  Record the facts (the first failure is the one that
 * counts), mark the step, then wrap up: QUIT politely if the server is
 * still talking to us, otherwise just close.
 */
static void
fail(struct session *s, int st, enum fail_kind kind, const struct reply *r,
     const char *evfmt, ...)
{
	struct session_priv *p = s->p;
	if (!p->failed) {
		p->failed = true;
		s->facts.failed_step = st;
		s->facts.kind = kind;
		if (r) {
			s->facts.code = r->code;
			s->facts.enh_class = r->enh.cls;
			s->facts.enh_subject = r->enh.subject;
			s->facts.enh_detail = r->enh.detail;
			set_str(&p->text, reply_joined(r));
			set_str(&p->ev, reply_evidence(r));
		}
		if (evfmt) {
			va_list ap;
			va_start(ap, evfmt);
			char *e = xvasprintf(evfmt, ap);
			va_end(ap);
			char *v = vis_escape(e, strlen(e));
			free(e);
			if (p->ev) {	/* an observation beside the reply */
				char *both = xasprintf("%s\n%s", p->ev, v);
				free(v);
				v = both;
			}
			set_str(&p->ev, v);
		}
		/* a hostile reply of 200 long lines must not fill the report */
		cap_text(&p->ev, EVIDENCE_MAX);
		cap_text(&p->text, EVIDENCE_MAX);
	}
	if (s->status[st] == SS_RUNNING || s->status[st] == SS_PENDING) {
		s->status[st] = SS_FAIL;
		s->seconds[st] = now_mono() - p->step_t0;
	}
	/* the steps between here and QUIT will not run */
	for (int i = 0; i < STEP_COUNT; i++)
		if (s->status[i] == SS_PENDING && i != STEP_QUIT)
			s->status[i] = SS_SKIPPED;

	bool talking = p->fd >= 0 && (kind == FK_REPLY || kind == FK_NOT_OFFERED ||
		kind == FK_PLAINTEXT_REFUSED || kind == FK_MECH_UNSUPPORTED ||
		kind == FK_SASL_ERROR || kind == FK_EXCHANGE_BROKEN ||
		kind == FK_SERVER_UNVERIFIED || (kind == FK_CERT && s->encrypted &&
		/* implicit TLS: no greeting yet, and speaking before it is a
		 * synchronisation error: just close */
		s->status[STEP_GREETING] == SS_OK));
	if (talking && s->status[STEP_QUIT] == SS_PENDING && !p->closing) {
		p->closing = true;

		/* replies still owed to pipelined commands are read and
		 * dropped; a QUIT already sent keeps its meaning */
		for (int i = 0; i < p->qn; i++)
			if (p->q[i].c != C_QUIT)
				p->q[i].drop = true;
		begin_step(s, STEP_QUIT);
		return;
	}
	if (s->status[STEP_QUIT] == SS_PENDING)
		s->status[STEP_QUIT] = SS_SKIPPED;
	finish(s);
}

/* ---- the message -------------------------------------------------------- */

/* A generated header, unless the user's --header lines give it. */
static void
gen_header(struct buf *b, const struct session *s, const char *name,
	   const char *fmt, ...) PRINTF(4, 5);

static void
gen_header(struct buf *b, const struct session *s, const char *name,
	   const char *fmt, ...)
{
	if (msg_has_header(s->cfg.headers, name))
		return;
	va_list ap;
	va_start(ap, fmt);
	char *v = xvasprintf(fmt, ap);
	va_end(ap);
	buf_printf(b, "%s: %s\r\n", name, v);
	free(v);
}

/* --data: the message's own Message-ID, when it has one of safe
 * characters, is what --fetch-back searches for. */
static void
data_token(struct session *s)
{
	const char *d = s->cfg.data;
	while (*d && strncmp(d, "\r\n", 2)) {
		if (!strncasecmp(d, "Message-ID:", 11)) {
			const char *v = d + 11;
			v += strspn(v, " \t");
			size_t n = strcspn(v, "\r\n");
			while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
				n--;
			if (n && n < sizeof s->sent.token &&
			    strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU"
				   "VWXYZ0123456789<>@.-_+=$%!#") >= n) {
				memcpy(s->sent.token, v, n);
				s->sent.token[n] = '\0';
				s->sent.token_header = "Message-ID";
			}
			return;
		}
		const char *nl = strstr(d, "\r\n");
		if (!nl)
			return;
		d = nl + 2;
	}
}

/*
 * The message, CRLF lines, each ended: --data as given; otherwise the
 * generated headers (each unless a --header names it), the --header
 * lines, and the --body (or the generated text).
 */
static char *
make_message(struct session *s)
{
	struct session_priv *p = s->p;
	char date[64], stamp[64], idt[32];
	time_t t = time(NULL);
	struct tm tm;
	struct buf b = { 0 };
	struct timespec ts;

	if (s->cfg.data) {
		data_token(s);
		return xstrdup(s->cfg.data);
	}
	localtime_r(&t, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S %z", &tm);
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S UTC", &tm);
	strftime(idt, sizeof idt, "%Y%m%d%H%M%S", &tm);
	clock_gettime(CLOCK_REALTIME, &ts);

	gen_header(&b, s, "Date", "%s", date);
	/* RFC 6532: raw UTF-8 in headers only with SMTPUTF8; otherwise the
	 * addresses as they went in the envelope (A-labels) */
	gen_header(&b, s, "From", "<%s>", wire_from(s));
	if (!msg_has_header(s->cfg.headers, "To")) {
		buf_adds(&b, "To: ");
		for (int i = 0; i < s->cfg.nto || i == 0; i++) {
			buf_printf(&b, "%s<%s>", i ? ", " : "", wire_to(s, i));
		}
		buf_adds(&b, "\r\n");
	}
	gen_header(&b, s, "Subject", "smtpdx test message %s", stamp);
	gen_header(&b, s, "Message-ID", "<%s.%ld.%06ld@%s>", idt, (long)getpid(),
		   ts.tv_nsec / 1000, p->hostname);
	gen_header(&b, s, "MIME-Version", "1.0");
	gen_header(&b, s, "Content-Type", "text/plain; charset=%s",
		   s->cfg.body && !msg_ascii(s->cfg.body) ? "utf-8" : "us-ascii");
	gen_header(&b, s, "X-Mailer", "smtpdx " SMTPDX_VERSION);
	/* a mark no other message carries: --fetch-back searches for it */
	unsigned char rnd[16];
	if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
		for (size_t i = 0; i < sizeof rnd; i++)
			rnd[i] = (unsigned char)((unsigned long)ts.tv_nsec >> (i % 4 * 8) ^
						 (unsigned long)getpid() * (i + 1));
	for (size_t i = 0; i < sizeof rnd; i++)
		snprintf(s->sent.token + 2 * i, 3, "%02x", rnd[i]);
	s->sent.token_header = "X-Smtpdx-Token";
	buf_printf(&b, "X-Smtpdx-Token: %s\r\n", s->sent.token);
	if (s->cfg.headers)
		buf_adds(&b, s->cfg.headers);
	buf_adds(&b, "\r\n");
	if (s->cfg.body) {
		buf_adds(&b, s->cfg.body);
		return buf_steal(&b);
	}
	buf_printf(&b, "This is a test message from smtpdx, an SMTP troubleshooting\r\n"
		   "tool, sent through %s port %d at %s\r\n"
		   "to check that mail from <%s> is accepted.\r\n"
		   ".\r\n"
		   "Nothing needs to be done; it can be deleted.\r\n",
		   s->cfg.host ? s->cfg.host : "?", s->port, stamp, wire_from(s));
	return buf_steal(&b);
}

/* Dot-stuff (RFC 5321 §4.5.2) and queue the message and its final dot.
 * Each line goes into the transcript too. */
static void
send_message(struct session *s)
{
	struct session_priv *p = s->p;
	char *msg = make_message(s);
	char *line = msg;

	s->sent.method = "DATA";
	s->sent.bytes = strlen(msg);
	while (*line) {
		char *end = strstr(line, "\r\n");
		size_t n = end ? (size_t)(end - line) : strlen(line);
		size_t start = p->out.len;
		if (n > 0 && line[0] == '.')
			buf_addc(&p->out, '.');
		buf_add(&p->out, line, n);
		/* the transcript shows the line as it goes on the wire */
		tr_add(&s->tr, TR_CLIENT, s->encrypted, s->cur,
		       p->out.data + start, p->out.len - start);
		buf_adds(&p->out, "\r\n");
		line += n + (end ? 2 : 0);
	}
	free(msg);
	send_cmd(s, C_DOT, ".", NULL);
}

/* Is the message going with BDAT? */
static bool
use_bdat(const struct session *s)
{
	return s->cfg.bdat && s->caps.chunking;
}

/* Queue the next BDAT chunk: "BDAT n [LAST]", then exactly n octets, not
 * dot-stuffed.  The transcript shows the command and the chunk's lines
 * (a chunk ends at a line end unless one line is longer than a chunk). */
static void
send_bdat_chunk(struct session *s)
{
	struct session_priv *p = s->p;
	if (!p->bdat_msg) {
		p->bdat_msg = make_message(s);
		p->bdat_len = strlen(p->bdat_msg);
		p->bdat_off = 0;
	}
	const char *m = p->bdat_msg + p->bdat_off;
	size_t left = p->bdat_len - p->bdat_off, n = left;
	if (n > BDAT_CHUNK) {
		n = BDAT_CHUNK;
		size_t k = n;
		while (k >= 2 && memcmp(m + k - 2, "\r\n", 2))
			k--;
		if (k >= 2)
			n = k;
	}
	bool last = n == left;
	char *cmd = xasprintf("BDAT %zu%s", n, last ? " LAST" : "");
	send_cmd(s, C_BDAT, cmd, NULL);
	free(cmd);
	buf_add(&p->out, m, n);
	for (size_t i = 0; i < n;) {
		size_t k = i;
		while (k < n && !(m[k] == '\r' && k + 1 < n && m[k + 1] == '\n'))
			k++;
		tr_add(&s->tr, TR_CLIENT, s->encrypted, s->cur, m + i, k - i);
		i = k < n ? k + 2 : n;
	}
	p->bdat_off += n;
	p->bdat_sent++;
	s->sent.method = "BDAT";
	s->sent.chunks = p->bdat_sent;
	s->sent.bytes = p->bdat_len;
}

/* Every chunk at once (PIPELINING: RFC 3030 §4.2), or the first one. */
static void
send_bdat(struct session *s)
{
	struct session_priv *p = s->p;
	do
		send_bdat_chunk(s);
	while (s->caps.pipelining && p->bdat_off < p->bdat_len);
}

/* The message goes now: BDAT, or DATA (then the text after its 354). */
static void
send_data_cmd(struct session *s)
{
	if (s->cfg.bdat && !s->caps.chunking)
		info(s, "--bdat: the server does not offer CHUNKING: the message "
		     "goes with DATA");
	if (use_bdat(s))
		send_bdat(s);
	else
		send_cmd(s, C_DATA, "DATA", NULL);
}

static size_t
message_size_estimate(struct session *s)
{
	char *m = make_message(s);
	size_t n = strlen(m) + 64;
	free(m);
	return n;
}

/* ---- beginning steps ---------------------------------------------------- */

/* --timeout limits the whole connect step: the addresses still to try
 * (remaining, this one included) share what is left of it, a second at
 * least each. */
static void
share_step_time(struct session *s, int remaining)
{
	struct session_priv *p = s->p;
	double left = p->step_t0 + timeout_of(s) - now_mono();
	double share = left / (remaining > 0 ? remaining : 1);
	p->deadline = now_mono() + (share > 1 ? share : 1);
}

static void
begin_connect_attempt(struct session *s)
{
	struct session_priv *p = s->p;
	while (p->ai < p->naddr) {
		struct address *a = &p->addrs[p->ai];
		snprintf(s->address, sizeof s->address, "%s", a->text);
		info(s, "connecting to %s%s%s port %d ...",
		     a->family == AF_INET6 ? "[" : "", a->text,
		     a->family == AF_INET6 ? "]" : "", s->port);
		p->fd = connect_start(a);
		if (p->fd >= 0) {
			p->ph = PH_CONNECT;
			share_step_time(s, p->naddr - p->ai);
			return;
		}
		int e = errno;
		info(s, "  %s", strerror(e));
		p->conn_err = e == ECONNREFUSED ? FK_REFUSED :
			      (e == ENETUNREACH || e == EHOSTUNREACH) ? FK_UNREACHABLE :
			      FK_CONNECT_OTHER;
		snprintf(p->conn_ev, sizeof p->conn_ev, "connect to %s port %d: %s",
			 a->text, s->port, strerror(e));
		p->ai++;
	}
	s->address[0] = '\0';
	fail(s, STEP_CONNECT, p->conn_err ? p->conn_err : FK_CONNECT_OTHER, NULL,
	     "%s", p->conn_ev);
}

/* ---- the proxy hop (--proxy) ------------------------------------------ */

static void
begin_proxy_resolve(struct session *s)
{
	struct session_priv *p = s->p;
	info(s, "resolving the proxy %s ...", s->cfg.proxy_host);
	p->res = resolve_start(s->cfg.proxy_host, s->cfg.proxy_port, AF_UNSPEC);
	p->px_resolving = true;
	p->ph = PH_RESOLVE;
}

static void
px_note(void *arg, const char *line)
{
	info(arg, "%s", line);
}

static void
begin_proxy_connect(struct session *s)
{
	struct session_priv *p = s->p;
	while (p->px_ai < p->px_naddr) {
		struct address *a = &p->px_addrs[p->px_ai];
		info(s, "connecting through %s proxy %s%s%s:%d",
		     proxy_kind_name(s->cfg.proxy),
		     a->family == AF_INET6 ? "[" : "", a->text,
		     a->family == AF_INET6 ? "]" : "", s->cfg.proxy_port);
		p->fd = connect_start(a);
		if (p->fd >= 0) {
			p->ph = PH_PX_CONNECT;
			share_step_time(s, p->px_naddr - p->px_ai);
			return;
		}
		int e = errno;
		info(s, "  %s", strerror(e));
		p->px_err = FK_PROXY_REFUSED;
		snprintf(p->px_ev, sizeof p->px_ev, "connect to the %s proxy %s "
			 "port %d: %s", proxy_kind_name(s->cfg.proxy), a->text,
			 s->cfg.proxy_port, strerror(e));
		p->px_ai++;
	}
	s->address[0] = '\0';
	fail(s, STEP_CONNECT, p->px_err ? p->px_err : FK_PROXY_REFUSED, NULL,
	     "%s", p->px_ev);
}

/* Connected to the proxy: its handshake, under what is left of the
 * connect step's time. */
static void
begin_proxy_hs(struct session *s)
{
	struct session_priv *p = s->p;
	const struct address *a = &p->px_addrs[p->px_ai];
	info(s, "connected to the %s proxy %s port %d", proxy_kind_name(s->cfg.proxy),
	     a->text, s->cfg.proxy_port);
	/* socks5://: the address resolved here; else the name, which the
	 * proxy resolves */
	const char *addr = s->cfg.proxy == PX_SOCKS5 && p->ai < p->naddr ?
		p->addrs[p->ai].text : NULL;
	p->px.note = px_note;
	p->px.arg = s;
	proxy_hs_start(&p->px, &s->cfg, s->cfg.host, addr, s->port);
	p->ph = PH_PX_HS;
	p->deadline = p->step_t0 + timeout_of(s);
	if (p->deadline < now_mono() + 1)
		p->deadline = now_mono() + 1;
}

static void
proxy_hs_io(struct session *s)
{
	struct session_priv *p = s->p;
	enum px_rc rc = proxy_hs_step(&p->px, p->fd);
	if (rc == PXR_AGAIN)
		return;
	if (rc == PXR_OK) {
		proxy_hs_free(&p->px);
		snprintf(s->address, sizeof s->address, "%s",
			 s->cfg.proxy == PX_SOCKS5 && p->ai < p->naddr ?
			 p->addrs[p->ai].text : p->px_addrs[p->px_ai].text);
		info(s, "connected to %s port %d through the proxy", s->cfg.host,
		     s->port);
		p->ph = PH_IO;
		end_step(s, STEP_CONNECT, SS_OK);
		return;
	}
	enum fail_kind k = p->px.fail;
	char ev[sizeof p->px.evidence];
	snprintf(ev, sizeof ev, "%s", p->px.evidence);
	proxy_hs_free(&p->px);
	close_conn(s);
	s->address[0] = '\0';
	fail(s, STEP_CONNECT, k, NULL, "%s", ev);
}

static void
begin_tls(struct session *s, bool probe)
{
	struct session_priv *p = s->p;
	char err[300];
	struct tls_opts o = {
		.servername = s->cfg.servername ? s->cfg.servername : s->cfg.host,
		.cafile = s->cfg.cafile,
		.ca_pem = s->cfg.ca_pem,
		.min_version = s->cfg.tls_min ? s->cfg.tls_min : 12,
		.cert = s->cfg.cert,
		.key = s->cfg.key,
		.key_pass = s->cfg.key_pass,
	};
	struct tls_conn *t = tls_new(probe ? p->probe_fd : p->fd, &o, err, sizeof err);
	if (!t) {
		info(s, "%s", err);
		if (probe && p->probe_parallel) {
			probe_close(s);
			return;
		}
		if (probe) {
			close(p->probe_fd);
			p->probe_fd = -1;
			fail(s, STEP_GREETING, FK_TIMEOUT, NULL,
			     "no greeting within %.0f s", timeout_of(s));
		} else {
			fail(s, STEP_TLS, FK_TLS_OTHER, NULL, "%s", err);
		}
		return;
	}
	if (probe) {
		p->probe_tls = t;
		if (!p->probe_parallel)
			p->ph = PH_PROBE_HS;
	} else {
		p->tls = t;
		p->ph = PH_HANDSHAKE;
		info(s, "TLS handshake (SNI %s, TLS 1.%d or newer) ...",
		     o.servername ? o.servername : "-", o.min_version - 10);
		if (s->cfg.cert) {
			char subj[256], e[300];
			if (tls_client_cert_load(s->cfg.cert, s->cfg.key,
						 s->cfg.key_pass, subj, sizeof subj,
						 e, sizeof e) == 0)
				info(s, "client certificate %s (%s), sent if the "
				     "server asks", subj, s->cfg.cert);
		}
	}
}

static void
begin_ehlo(struct session *s)
{
	char *cmd = xasprintf("EHLO %s", s->p->hostname);
	send_cmd(s, C_EHLO, cmd, NULL);
	free(cmd);
}

static void
begin_auth(struct session *s)
{
	struct session_priv *p = s->p;
	char err[256], *cb = NULL, *initial = NULL;
	bool exporter = false;

	if (!s->caps.auth) {
		fail(s, STEP_AUTH, FK_NOT_OFFERED, NULL,
		     "the EHLO reply%s lists no AUTH extension",
		     s->encrypted ? " inside TLS" : "");
		return;
	}
	if (!s->encrypted && !s->cfg.allow_plaintext_auth) {
		fail(s, STEP_AUTH, FK_PLAINTEXT_REFUSED, NULL,
		     "the connection is not encrypted: smtpdx will not send the "
		     "credentials of %s in the clear",
		     s->cfg.user ? s->cfg.user : "the client");
		return;
	}
	if (s->encrypted && p->tls)
		cb = tls_channel_binding(p->tls, &exporter);
	const char *mech = sasl_pick(s->cfg.mech, s->caps.mechs, cb != NULL);
	if (!mech) {
		free(cb);
		fail(s, STEP_AUTH, FK_MECH_UNSUPPORTED, NULL,
		     "server offers AUTH %s%s; smtpdx was asked for %s",
		     s->caps.mechs, s->caps.mechs_left_out ? " (and more names "
		     "that smtpdx cannot use)" : "", auth_mech_name(s->cfg.mech));
		return;
	}
	if (!s->cfg.password && strcmp(mech, "EXTERNAL") != 0) {
		free(cb);
		fail(s, STEP_AUTH, FK_SASL_ERROR, NULL,
		     "no password given for %s", s->cfg.user);
		return;
	}
	snprintf(s->auth_mech, sizeof s->auth_mech, "%s", mech);
	p->sasl = sasl_start(mech, s->cfg.user ? s->cfg.user : "",
			     s->cfg.password ? s->cfg.password : "", cb, exporter,
			     &initial, err, sizeof err);
	free(cb);
	if (!p->sasl) {
		fail(s, STEP_AUTH, FK_SASL_ERROR, NULL, "%s", err);
		return;
	}
	p->auth_round = 0;
	char *line = initial ? xasprintf("AUTH %s %s", mech, initial)
			     : xasprintf("AUTH %s", mech);
	/* EXTERNAL's initial response holds no secret: shown as it is */
	char *shown = initial && strcmp(mech, "EXTERNAL") ?
		xasprintf("AUTH %s <redacted>", mech) : xstrdup(line);
	if (initial && strcmp(mech, "EXTERNAL"))
		secrets_add(&p->sec, initial);
	send_cmd(s, C_AUTH, line, shown);
	if (initial) {
		char *d = sasl_describe(mech, initial, true, 0);
		tr_note(&s->tr, d);
		free(d);
		p->auth_round = 1;
		wipe(initial, strlen(initial));
	}
	wipe(line, strlen(line));
	free(line);
	free(shown);
	free(initial);
}

/* Were DSN parameters asked for? */
static bool
dsn_wanted(const struct session *s)
{
	return s->cfg.notify || s->cfg.ret || s->cfg.envid;
}

/* "RCPT TO:<addr>", with NOTIFY and ORCPT (RFC 3461 §4.1, §4.2) when
 * DSN was asked for and is offered.  ORCPT is rfc822;xtext(addr) for an
 * ASCII address, utf-8;addr for an internationalised one (RFC 6533 §3):
 * utf-8-addr-unitext when SMTPUTF8 went on MAIL FROM, else the 7-bit
 * utf-8-addr-xtext. */
static char *
rcpt_cmd(const struct session *s, const char *addr)
{
	struct buf b = { 0 };
	buf_printf(&b, "RCPT TO:<%s>", addr);
	if (dsn_wanted(s) && s->caps.dsn) {
		if (s->cfg.notify)
			buf_printf(&b, " NOTIFY=%s", s->cfg.notify);
		bool ascii = msg_ascii(addr);
		char *x = ascii ? xtext_encode(addr) :
			  utf8_addr_encode(addr, s->p->utf8);
		buf_printf(&b, " ORCPT=%s;%s", ascii ? "rfc822" : "utf-8", x);
		free(x);
	}
	return buf_steal(&b);
}

static void
begin_mail(struct session *s)
{
	struct session_priv *p = s->p;

	/* RFC 6531 §3.4: an address with a non-ASCII local part exists only
	 * with SMTPUTF8; one with a non-ASCII domain only needs its A-labels
	 * (RFC 5890), which any server takes. */
	const struct addr_forms *need = NULL;
	for (int i = 0; i <= s->cfg.nto && !need; i++)
		if (p->af[i].utf8_local)
			need = &p->af[i];
	if (need && !s->caps.smtputf8) {
		p->smtputf8_missing = true;
		fail(s, STEP_MAIL, FK_NOT_OFFERED, NULL, "the EHLO reply lists no "
		     "SMTPUTF8, and <%s> has a non-ASCII local part: it cannot "
		     "be sent without it", need->given);
		return;
	}
	/* UTF-8 in the message's own header lines wants it too (RFC 6532
	 * §3.7), when offered */
	const char *msg = s->cfg.data ? s->cfg.data : s->cfg.headers;
	bool utf8_headers = false;
	if (msg && !addr_ascii(msg)) {
		const char *eoh = s->cfg.data ? strstr(msg, "\r\n\r\n") : NULL;
		for (const char *c = msg; *c && (!eoh || c < eoh); c++)
			if ((unsigned char)*c >= 0x80)
				utf8_headers = true;
	}
	p->utf8 = need || (utf8_headers && s->caps.smtputf8);
	if (utf8_headers && !s->caps.smtputf8)
		info(s, "the message's header lines hold UTF-8 and the server "
		     "lists no SMTPUTF8: sent as they are (RFC 6532 allows raw "
		     "UTF-8 headers only with SMTPUTF8; RFC 2047 words are the "
		     "portable form)");
	for (int i = 0; i <= s->cfg.nto; i++) {
		/* the text views: U-labels beside the A-labels */
		if (!addr_ascii(p->af[i].given) || p->af[i].idn) {
			char *d = addr_display(&p->af[i], p->utf8);
			if (p->utf8)
				info(s, "%s goes as given, with SMTPUTF8 (RFC 6531)", d);
			else if (strcmp(p->af[i].given, p->af[i].ascii))
				info(s, "%s goes as <%s>: A-labels, no SMTPUTF8 "
				     "needed", p->af[i].given, p->af[i].ascii);
			else
				info(s, "%s goes as given: A-labels, no SMTPUTF8 "
				     "needed", d);
			free(d);
		}
	}

	/* RFC 8689 §4.1: REQUIRETLS only on a TLS connection, and only to a
	 * server that offers it; otherwise no mail goes at all. */
	if (s->cfg.requiretls && !s->encrypted) {
		fail(s, STEP_MAIL, FK_NOT_OFFERED, NULL, "--requiretls: the "
		     "connection is not encrypted, and REQUIRETLS is never sent "
		     "(or offered) without TLS");
		return;
	}
	if (s->cfg.requiretls && !s->caps.requiretls) {
		fail(s, STEP_MAIL, FK_NOT_OFFERED, NULL, "--requiretls: the EHLO "
		     "reply inside TLS lists no REQUIRETLS");
		return;
	}
	struct buf b = { 0 };
	buf_printf(&b, "MAIL FROM:<%s>", wire_from(s));
	if (s->caps.size)
		buf_printf(&b, " SIZE=%zu", message_size_estimate(s));
	if (p->utf8) {
		s->sent.smtputf8_sent = true;
		buf_adds(&b, " SMTPUTF8");
	}
	if (dsn_wanted(s) && s->caps.dsn) {
		s->sent.dsn_sent = true;
		if (s->cfg.ret)
			buf_printf(&b, " RET=%s",
				   s->cfg.ret == DSN_RET_FULL ? "FULL" : "HDRS");
		if (s->cfg.envid) {
			char *x = xtext_encode(s->cfg.envid);
			buf_printf(&b, " ENVID=%s", x);
			free(x);
		}
	} else if (dsn_wanted(s) && !p->ev_dsn) {
		struct buf w = { 0 };
		buf_adds(&w, "the EHLO reply lists no DSN: left out");
		if (s->cfg.notify)
			buf_printf(&w, " NOTIFY=%s", s->cfg.notify);
		if (s->cfg.ret)
			buf_printf(&w, " RET=%s",
				   s->cfg.ret == DSN_RET_FULL ? "FULL" : "HDRS");
		if (s->cfg.envid)
			buf_adds(&w, " ENVID=...");
		p->ev_dsn = buf_steal(&w);
		info(s, "%s (the server would answer 555 to them)", p->ev_dsn);
	}
	if (s->cfg.requiretls) {
		buf_adds(&b, " REQUIRETLS");
		s->sent.requiretls_sent = true;
	}
	char *cmd = buf_steal(&b);
	send_cmd(s, C_MAIL, cmd, NULL);
	free(cmd);

	/* Running to the end on a PIPELINING server: RCPTs and DATA (or
	 * BDAT) go in the same write (RFC 2920 §3.1: DATA may close a
	 * group; RFC 3030 §4.2: BDAT too).  With several recipients DATA
	 * waits, so a partial refusal never starts a send. */
	if (p->mode == RUN_ALL && s->caps.pipelining) {
		int n = s->cfg.nto ? s->cfg.nto : 1;
		for (int i = 0; i < n; i++) {
			char *r = rcpt_cmd(s, wire_to(s, i));
			send_cmd(s, C_RCPT, r, NULL);
			free(r);
		}
		p->rcpt_sent = n;
		p->ahead |= 1u << STEP_RCPT;
		if (n == 1 && !s->cfg.no_send) {
			send_data_cmd(s);
			p->ahead |= 1u << STEP_DATA;
		}
	}
}

static void
begin_rcpt(struct session *s)
{
	struct session_priv *p = s->p;
	if (p->ahead & (1u << STEP_RCPT))
		return;		/* already out with MAIL */
	int n = s->cfg.nto ? s->cfg.nto : 1;
	if (!s->cfg.nto)
		info(s, "no --to given: sending the test to the sender, <%s>",
		     wire_from(s));
	/* Stepping by hand: one RCPT per step would hide nothing useful, so
	 * all recipients go together (pipelined if allowed, else in turn). */
	if (s->caps.pipelining || n == 1) {
		for (int i = 0; i < n; i++) {
			char *r = rcpt_cmd(s, wire_to(s, i));
			send_cmd(s, C_RCPT, r, NULL);
			free(r);
		}
		p->rcpt_sent = n;
	} else {
		char *r = rcpt_cmd(s, wire_to(s, 0));
		send_cmd(s, C_RCPT, r, NULL);
		free(r);
		p->rcpt_sent = 1;
	}
}

static void
begin_quit(struct session *s)
{
	struct session_priv *p = s->p;
	if (p->ahead & (1u << STEP_QUIT))
		return;
	/* RFC 2920 §3.1: a DATA still unanswered may get a 354, and then
	 * anything we send is message text.  QUIT waits for its reply. */
	for (int i = 0; i < p->qn; i++)
		if (p->q[i].c == C_DATA || p->q[i].c == C_DOT) {
			p->quit_deferred = true;
			return;
		}
	if (s->cfg.no_send && !p->failed) {
		send_cmd(s, C_RSET, "RSET", NULL);
		if (!s->caps.pipelining) {
			p->ahead |= 0;	/* QUIT follows RSET's reply */
			return;
		}
	}
	send_cmd(s, C_QUIT, "QUIT", NULL);
}

/* Before a command goes out with nothing in flight: has the server said
 * something nobody asked for (a line that came after the last reply was
 * read)?  It would otherwise be taken as the answer to this command.
 * Returns true if the session was stopped. */
static bool
unasked_before(struct session *s, const char *what)
{
	struct session_priv *p = s->p;
	char first[160];
	if (p->qn != 0 || p->fd < 0 || s->cur < 0 || !leftover(s, first, sizeof first))
		return false;
	sync_fail(s, s->cur, NULL, "before %s, the server sent a line no command "
		  "asked for: \"%s\"", what, first);
	return true;
}

static void
begin_step(struct session *s, int st)
{
	struct session_priv *p = s->p;
	if (st != STEP_RESOLVE && st != STEP_CONNECT && st != STEP_GREETING &&
	    st != STEP_TLS && !(p->ahead & (1u << st)) && !p->closing &&
	    unasked_before(s, step_name(st)))
		return;
	p->probe_at = 0;
	s->cur = st;
	s->status[st] = SS_RUNNING;
	p->step_t0 = now_mono();
	set_deadline(s);
	p->ph = PH_IO;

	switch (st) {
	case STEP_RESOLVE:
		if (s->cfg.proxy == PX_SOCKS5H || s->cfg.proxy == PX_HTTP) {
			info(s, "%s is resolved by the %s proxy, not here",
			     s->cfg.host, proxy_kind_name(s->cfg.proxy));
			p->naddr = 0;
			begin_proxy_resolve(s);
			return;
		}
		info(s, "resolving %s ...", s->cfg.host);
		p->res = resolve_start(s->cfg.host, s->port,
				       s->cfg.family == FAM_V4 ? AF_INET :
				       s->cfg.family == FAM_V6 ? AF_INET6 : AF_UNSPEC);
		p->ph = PH_RESOLVE;
		return;
	case STEP_CONNECT:
		p->ai = 0;
		if (s->cfg.proxy) {
			p->px_ai = 0;
			p->px_err = FK_NONE;
			begin_proxy_connect(s);
			return;
		}
		begin_connect_attempt(s);
		return;
	case STEP_GREETING:
		if (p->qn == 0)
			push_cmd(s, C_GREETING, -1, "greeting");
		/* no second connection through a proxy: one tunnel */
		if (s->tls_mode != TLSM_IMPLICIT && !s->cfg.probe &&
		    !s->cfg.proxy && timeout_of(s) > PROBE_GRACE)
			p->probe_at = p->step_t0 + PROBE_GRACE;
		break;
	case STEP_EHLO:
	case STEP_EHLO_TLS:
		begin_ehlo(s);
		break;
	case STEP_STARTTLS:
		if (!s->caps.starttls) {
			fail(s, STEP_STARTTLS, FK_NOT_OFFERED, NULL,
			     "the EHLO reply lists no STARTTLS");
			return;
		}
		send_cmd(s, C_STARTTLS, "STARTTLS", NULL);
		break;
	case STEP_TLS:
		if (s->tls_mode == TLSM_STARTTLS && injected(s, NULL))
			return;
		begin_tls(s, false);
		if (p->ph == PH_HANDSHAKE)
			session_handle(s, 0);	/* send the ClientHello now */
		return;
	case STEP_AUTH:
		begin_auth(s);
		if (s->cur != STEP_AUTH || s->status[STEP_AUTH] != SS_RUNNING)
			return;
		break;
	case STEP_MAIL:
		begin_mail(s);
		if (s->cur != STEP_MAIL || s->status[STEP_MAIL] != SS_RUNNING)
			return;
		break;
	case STEP_RCPT:
		begin_rcpt(s);
		break;
	case STEP_DATA:
		if (!(p->ahead & (1u << STEP_DATA)))
			send_data_cmd(s);
		break;
	case STEP_QUIT:
		begin_quit(s);
		break;
	}
	if (p->ph == PH_IO)
		flush_out(s);
}

/* ---- replies ------------------------------------------------------------ */

static void
on_greeting(struct session *s, struct reply *r)
{
	if (r->code == 220) {
		end_step(s, STEP_GREETING, SS_OK);
		return;
	}
	fail(s, STEP_GREETING, FK_REPLY, r, NULL);
}

static void
note_caps(struct session *s, const struct reply *r)
{
	struct session_priv *p = s->p;
	caps_parse(&s->caps, r);
	if (!s->encrypted) {
		if (s->caps.starttls)
			p->starttls_offered = true;
		if (s->caps.auth && !p->plain_auth_seen) {
			p->plain_auth_seen = true;
			set_str(&p->ev_auth_plain,
				xasprintf("250-AUTH %s (offered before TLS, on port %d)",
					  s->caps.mechs, config_role_port(&s->cfg)));
		}
	}
}

static void
on_ehlo(struct session *s, struct reply *r, enum cmd c)
{
	struct session_priv *p = s->p;
	int st = s->cur;
	if (c == C_EHLO && r->code == 250) {
		note_caps(s, r);
		end_step(s, st, SS_OK);
		return;
	}
	if (c == C_EHLO && r->code >= 500 && r->code < 600 && st == STEP_EHLO) {
		/* RFC 5321 §3.2: a server that refuses EHLO may take HELO */
		char *ev = reply_evidence(r);
		set_str(&p->ev_helo, ev);
		p->ehlo_refused = r->code;
		info(s, "EHLO refused: trying HELO (no extensions then)");
		char *cmd = xasprintf("HELO %s", p->hostname);
		send_cmd(s, C_HELO, cmd, NULL);
		free(cmd);
		flush_out(s);
		return;
	}
	if (c == C_HELO && r->code == 250) {
		memset(&s->caps, 0, sizeof s->caps);
		s->facts.helo_fallback = true;
		s->facts.helo_name_refused = p->ehlo_refused != 500 &&
					     p->ehlo_refused != 502;
		end_step(s, st, SS_WARN);
		return;
	}
	/* 500 and 502 say the command is unknown (RFC 5321 §4.2.4), not
	 * that the name was refused: to both EHLO and HELO, the server does
	 * not speak SMTP's greeting at all (an LMTP port wants LHLO) */
	if (c == C_HELO)
		s->facts.hello_unknown =
			(p->ehlo_refused == 500 || p->ehlo_refused == 502) &&
			(r->code == 500 || r->code == 502);
	fail(s, st, FK_REPLY, r, NULL);
}

/*
 * RFC 3207 §4.2 and CVE-2011-0411: nothing may follow the 220 to STARTTLS
 * before the handshake.  Bytes already read, or already waiting in the
 * socket, were sent before our ClientHello: a man in the middle (or a
 * broken server) is injecting.  Never parse them, never hand them to TLS:
 * stop.  Checked when the 220 arrives and again when the TLS step starts
 * (stepping by hand, time may pass in between).  r: the 220, or NULL.
 * Returns true if the session was stopped.
 */
static bool
injected(struct session *s, const struct reply *r)
{
	struct session_priv *p = s->p;
	char peek[256];
	ssize_t n = recv(p->fd, peek, sizeof peek, MSG_PEEK | MSG_DONTWAIT);
	if (p->lr.in.len == 0 && n <= 0)
		return false;
	struct buf extra = { 0 };
	buf_add(&extra, p->lr.in.data ? p->lr.in.data : "", p->lr.in.len);
	if (n > 0)
		buf_add(&extra, peek, (size_t)n);
	bool tlsish = extra.len > 0 && (unsigned char)extra.data[0] == 0x16;
	size_t show = extra.len > 120 ? 120 : extra.len;
	tr_add(&s->tr, TR_SERVER, false, s->cur, extra.data, show);
	tr_note(&s->tr, "bytes after the 220: discarded, never parsed");
	info(s, "%zu byte%s arrived after the 220 reply and before the TLS "
	     "handshake: discarded; the session stops here", extra.len,
	     extra.len == 1 ? "" : "s");
	if (s->status[STEP_TLS] == SS_RUNNING) {
		s->status[STEP_TLS] = SS_FAIL;
		s->seconds[STEP_TLS] = now_mono() - p->step_t0;
	}
	/* fail() escapes the evidence; only NULs need care here */
	char *v = line_cstr(extra.data, show);
	close_conn(s);
	fail(s, STEP_STARTTLS, tlsish ? FK_UNEXPECTED_DATA : FK_INJECTION, r,
	     "%zu unexpected byte%s after the 220: %s%s", extra.len,
	     extra.len == 1 ? "" : "s", v, show < extra.len ? "..." : "");
	free(v);
	buf_free(&extra);
	return true;
}

static void
on_starttls(struct session *s, struct reply *r)
{
	if (r->code != 220) {
		fail(s, STEP_STARTTLS, FK_REPLY, r, NULL);
		return;
	}
	if (injected(s, r))
		return;
	end_step(s, STEP_STARTTLS, SS_OK);
}

/* The exchange cannot go on: cancel it (RFC 4954 §4: "*", which the
 * server answers with 501; fail() reads that reply on its way to QUIT). */
static void
auth_cancel(struct session *s, struct reply *r, enum fail_kind k,
	    const char *why)
{
	info(s, "%s: cancelling the exchange", why);
	send_cmd(s, C_AUTH, "*", NULL);
	flush_out(s);
	fail(s, STEP_AUTH, k, r, "%s", why);
}

static void
auth_challenge(struct session *s, struct reply *r)
{
	struct session_priv *p = s->p;
	char err[256], *out = NULL;
	const char *ch = r->nlines ? r->lines[0] : "";

	char *d = sasl_describe(s->auth_mech, ch, false, p->auth_round);
	tr_note(&s->tr, d);
	free(d);
	int rc = sasl_step(p->sasl, ch, &out, err, sizeof err);
	if (rc != SASL_CONT) {
		auth_cancel(s, r, rc == SASL_BROKEN ? FK_EXCHANGE_BROKEN :
			    rc == SASL_UNVERIFIED ? FK_SERVER_UNVERIFIED :
			    FK_SASL_ERROR, err);
		return;
	}
	if (*err) {
		info(s, "%s", err);
		/* the OAuth error JSON, explained: evidence for the failure
		 * reply that follows */
		if (!strcasecmp(s->auth_mech, "XOAUTH2") ||
		    !strcasecmp(s->auth_mech, "OAUTHBEARER"))
			set_str(&p->ev_oauth, xstrdup(err));
	}
	if (strcmp(out, "AQ=="))
		secrets_add(&p->sec, out);
	send_cmd(s, C_AUTH, out, *out ? (strcmp(out, "AQ==") ? "<redacted>" :
					   "AQ==") : "");
	d = sasl_describe(s->auth_mech, out, true, p->auth_round);
	tr_note(&s->tr, d);
	free(d);
	p->auth_round++;
	wipe(out, strlen(out));
	free(out);
	flush_out(s);
}

static void
on_auth(struct session *s, struct reply *r)
{
	struct session_priv *p = s->p;
	/* the step's time covers the whole exchange: a server that answers
	 * every line with another 334 gets no fresh time per challenge */
	p->deadline = p->step_t0 + timeout_of(s);
	if (r->code == 334 && p->sasl) {
		auth_challenge(s, r);
		return;
	}
	bool proven = !p->sasl || sasl_complete(p->sasl);
	sasl_free(p->sasl);
	p->sasl = NULL;
	if (r->code == 235 && !proven) {
		/* RFC 5802 §5: SCRAM's last word is the server's signature,
		 * its proof that it knows the password; a 235 without it
		 * could come from anyone in the path */
		fail(s, STEP_AUTH, FK_SERVER_UNVERIFIED, r, "the server said 235 "
		     "without sending its %s signature (v=)", s->auth_mech);
		return;
	}
	if (r->code == 235) {
		s->authenticated = true;
		/* the secret is not needed any more */
		if (s->cfg.password) {
			wipe(s->cfg.password, strlen(s->cfg.password));
			free(s->cfg.password);
			s->cfg.password = NULL;
		}
		end_step(s, STEP_AUTH, SS_OK);
		return;
	}
	if (p->ev_oauth) {
		s->facts.oauth_error = true;
		fail(s, STEP_AUTH, FK_REPLY, r, "%s", p->ev_oauth);
		return;
	}
	fail(s, STEP_AUTH, FK_REPLY, r, NULL);
}

static bool
is_ok(const struct reply *r);

static void
on_rcpt(struct session *s, struct reply *r)
{
	struct session_priv *p = s->p;
	p->rcpt_done++;
	if (is_ok(r))
		p->rcpt_ok++;
	else if (p->rcpt_fail.code == 0) {
		p->rcpt_fail = *r;
		memset(r, 0, sizeof *r);
	}
	if (p->rcpt_done < p->rcpt_sent)
		return;
	/* sent one at a time (no PIPELINING): the next recipient */
	int n = s->cfg.nto ? s->cfg.nto : 1;
	if (p->rcpt_sent < n && p->rcpt_fail.code == 0) {
		char *c = rcpt_cmd(s, wire_to(s, p->rcpt_sent));
		send_cmd(s, C_RCPT, c, NULL);
		free(c);
		p->rcpt_sent++;
		flush_out(s);
		return;
	}
	if (p->rcpt_fail.code) {
		fail(s, STEP_RCPT, FK_REPLY, &p->rcpt_fail, NULL);
		return;
	}
	end_step(s, STEP_RCPT, SS_OK);
}

static void
on_data(struct session *s, struct reply *r)
{
	if (r->code != 354) {
		fail(s, STEP_DATA, FK_REPLY, r, NULL);
		return;
	}
	send_message(s);
	/* QUIT is not pipelined after the final dot: RFC 2920 §3.1 lets a
	 * server treat the end of data as a point where the client waits,
	 * and some do (Haraka: "503 5.5.0 ... pipelined after end of DATA").
	 * One round trip more, and no refusal of our QUIT to explain. */
	flush_out(s);
}

/*
 * Out of step (issue 9 §1): a reply that does not fit the command it was
 * bound to, or lines no command asked for.  From here on every reply
 * could be answering the wrong command, so nothing more is read as an
 * answer: the lines already received go into the transcript marked as
 * unsolicited, the connection is closed (a QUIT would be answered by
 * whatever the server still owes), and the failure is the command's step.
 */
static void
sync_fail(struct session *s, int st, const struct reply *r, const char *fmt, ...)
{
	struct session_priv *p = s->p;
	va_list ap;
	va_start(ap, fmt);
	char *ev = xvasprintf(fmt, ap);
	va_end(ap);

	/* what already arrived, so the transcript shows it (bounded) */
	char chunk[4096];
	for (int k = 0; k < 4 && p->fd >= 0; k++) {
		ssize_t n = p->tls ? tls_read(p->tls, chunk, sizeof chunk)
				   : recv(p->fd, chunk, sizeof chunk, MSG_DONTWAIT);
		if (n <= 0)
			break;
		buf_add(&p->lr.in, chunk, (size_t)n);
	}
	char *line;
	size_t len;
	for (int k = 0; k < 20 && lr_getline(&p->lr, &line, &len) == 1; k++) {
		tr_add(&s->tr, TR_SERVER, s->encrypted, s->cur, line, len);
		tr_last(&s->tr)->unsolicited = true;
		tr_note(&s->tr, "no command asked for this line");
		free(line);
	}
	if (p->lr.in.len > 0) {
		tr_add(&s->tr, TR_SERVER, s->encrypted, s->cur, p->lr.in.data,
		       p->lr.in.len > 200 ? 200 : p->lr.in.len);
		tr_last(&s->tr)->unsolicited = true;
		tr_note(&s->tr, "no command asked for this (an unfinished line)");
	}
	info(s, "out of step with the server: %s", ev);
	if (st < 0)
		st = s->cur;
	p->raw_pending = false;
	/* the step whose command it concerns fails, even one that had
	 * looked done */
	if (st >= 0 && (s->status[st] == SS_OK || s->status[st] == SS_WARN))
		s->status[st] = SS_RUNNING;
	close_conn(s);
	if (s->status[STEP_QUIT] == SS_PENDING)
		s->status[STEP_QUIT] = SS_SKIPPED;
	fail(s, st, FK_OUT_OF_STEP, r, "%s", ev);
	free(ev);
}

/* Bytes the server sent beyond the reply just read: in our buffer, or
 * (plaintext) already waiting in the socket, or decrypted inside TLS.
 * Copies the first line of them (at most n - 1 bytes) into first. */
static size_t
leftover(struct session *s, char *first, size_t n)
{
	struct session_priv *p = s->p;
	char peek[256];
	if (p->lr.in.len == 0 && p->tls && tls_pending(p->tls)) {
		/* inside TLS there is no peeking: take it into the line
		 * buffer, where unread input lives anyway */
		ssize_t k = tls_read(p->tls, peek, sizeof peek);
		if (k > 0)
			buf_add(&p->lr.in, peek, (size_t)k);
	}
	size_t have = p->lr.in.len;
	const char *src = p->lr.in.data;
	if (have == 0 && p->fd >= 0 && !p->tls) {
		ssize_t k = recv(p->fd, peek, sizeof peek, MSG_PEEK | MSG_DONTWAIT);
		if (k > 0) {
			have = (size_t)k;
			src = peek;
		}
	}
	first[0] = '\0';
	/* RFC 5321 §3.8: a server may say 421 at any moment and close; that
	 * is a reply in its own right (to whatever comes next), not a sign
	 * of being out of step */
	if (have >= 3 && src && !memcmp(src, "421", 3))
		return 0;
	if (have && src) {
		size_t k = 0;
		size_t lim = have < n - 1 ? have : n - 1;
		while (k < lim && src[k] != '\r' && src[k] != '\n')
			k++;
		char *c = line_cstr(src, k);
		snprintf(first, n, "%s", c);
		free(c);
	}
	return have;
}

static bool
is_ok(const struct reply *r)
{
	return r->code >= 200 && r->code < 400;
}

/* The reply to a command typed on the ':' line.  A MAIL FROM the server
 * took opens a transaction that the steps after it did not plan for
 * (AUTH is refused inside one, RFC 4954 §4): remember it for the tree. */
static void
on_raw(struct session *s, const struct inflight *e, const struct reply *r)
{
	struct session_priv *p = s->p;
	p->raw_pending = false;
	p->ph = PH_IDLE;
	if (!strcmp(e->verb, "MAIL") && is_ok(r)) {
		p->raw_txn = true;
		tr_note(&s->tr, "a mail transaction is now open: the server refuses "
			"AUTH, a second MAIL and STARTTLS until RSET (or the end "
			"of DATA)");
	} else if ((!strcmp(e->verb, "RSET") || !strcmp(e->verb, "EHLO") ||
		    !strcmp(e->verb, "HELO")) && is_ok(r)) {
		p->raw_txn = false;
	}
}

static void
on_reply(struct session *s, struct reply *r)
{
	struct session_priv *p = s->p;

	/* words for the reply, for the teaching view and Enter */
	char *note = r->enh.cls ? xasprintf("%d: %s; %d.%d.%d: %s", r->code,
				code_describe(r->code), r->enh.cls, r->enh.subject,
				r->enh.detail, enh_describe(&r->enh))
				: xasprintf("%d: %s", r->code, code_describe(r->code));
	if (r->code != 334)
		tr_note(&s->tr, note);
	free(note);

	if (p->qn == 0 && r->code == 421) {	/* RFC 5321 §3.8: closing */
		close_conn(s);
		fail(s, s->cur, FK_REPLY, r, "a 421 while no command was waiting: "
		     "the server is closing the session");
		return;
	}
	if (p->qn == 0) {	/* process_lines() catches these first */
		char *first = reply_first_line(r);
		sync_fail(s, s->cur, r, "a reply no command asked for: \"%s\"", first);
		free(first);
		return;
	}
	struct inflight e = p->q[0];
	memmove(p->q, p->q + 1, (size_t)(p->qn - 1) * sizeof p->q[0]);
	p->qn--;
	set_deadline(s);	/* each reply gets its own time */

	if (!e.drop && !reply_fits(e.verb, r->code)) {
		char *first = reply_first_line(r);
		if (e.c == C_GREETING)
			sync_fail(s, e.step, r, "the server opened with \"%s\": RFC "
				  "5321 §4.3.2 allows %s for a greeting", first,
				  reply_allowed(e.verb));
		else
			sync_fail(s, e.step, r, "the command %s was answered \"%s\": "
				  "RFC 5321 §4.3.2 allows %s; the reply belongs to "
				  "another command", e.verb, first, reply_allowed(e.verb));
		free(first);
		return;
	}
	/* Nothing owed any more: anything else the server already sent was
	 * asked for by no one and would be taken as the answer to the next
	 * command (a STARTTLS 220 has its own, stricter check; after 221 the
	 * server is gone; an error ends the step on its own, and what follows
	 * it is read as the answer to QUIT, which checks it). */
	if (p->qn == 0 && !e.drop && e.c != C_QUIT && r->code < 400 &&
	    !(e.c == C_STARTTLS && r->code == 220)) {
		char first[160];
		if (leftover(s, first, sizeof first)) {
			sync_fail(s, e.step, NULL, "after %s%s the server sent more "
				  "that no command asked for: \"%s\"",
				  e.c == C_GREETING ? "its greeting" : "the reply to ",
				  e.c == C_GREETING ? "" : e.verb, first);
			return;
		}
	}
	if (e.drop) {
		/* a reply owed to a command of a plan a failure ended */
		if (e.c == C_DATA && r->code == 354) {
			/* RFC 2920 §3.1: every RCPT failed, yet the server
			 * wants the message: an empty one, ended at once */
			info(s, "the server wants the message although no recipient "
			     "was accepted: ending it with a lone \".\"");
			send_cmd(s, C_DOT, ".", NULL);
			p->q[p->qn - 1].drop = true;
			flush_out(s);
			return;
		}
		if (e.c == C_RAW && p->raw_pending) {
			p->raw_pending = false;
			p->ph = PH_IDLE;
		}
		if (p->qn == 0 && p->quit_deferred && s->status[STEP_QUIT] == SS_RUNNING) {
			p->quit_deferred = false;
			send_cmd(s, C_QUIT, "QUIT", NULL);
			flush_out(s);
		}
		return;
	}

	switch (e.c) {
	case C_GREETING:
		on_greeting(s, r);
		break;
	case C_EHLO:
	case C_HELO:
		on_ehlo(s, r, e.c);
		break;
	case C_STARTTLS:
		on_starttls(s, r);
		break;
	case C_AUTH:
		on_auth(s, r);
		break;
	case C_MAIL:
		if (is_ok(r))
			end_step(s, STEP_MAIL, SS_OK);
		else
			fail(s, STEP_MAIL, FK_REPLY, r, NULL);
		break;
	case C_RCPT:
		on_rcpt(s, r);
		break;
	case C_DATA:
		on_data(s, r);
		break;
	case C_DOT:
		if (is_ok(r))
			end_step(s, STEP_DATA, SS_OK);
		else
			fail(s, STEP_DATA, FK_REPLY, r, NULL);
		break;
	case C_BDAT:
		/* 250 for each chunk (RFC 3030 §2); the last one's is the
		 * message's */
		p->bdat_done++;
		if (!is_ok(r)) {
			fail(s, STEP_DATA, FK_REPLY, r, NULL);
		} else if (p->bdat_done == p->bdat_sent &&
			   p->bdat_off == p->bdat_len) {
			end_step(s, STEP_DATA, SS_OK);
		} else if (p->bdat_done == p->bdat_sent) {
			send_bdat_chunk(s);	/* no PIPELINING: chunk by chunk */
			flush_out(s);
		}
		break;
	case C_RSET:
		if (!(p->ahead & (1u << STEP_QUIT)) && p->qn == 0) {
			send_cmd(s, C_QUIT, "QUIT", NULL);
			flush_out(s);
		}
		break;
	case C_QUIT:
		/* 221, or 421: the server closes either way */
		end_step(s, STEP_QUIT, r->code == 221 ? SS_OK : SS_WARN);
		break;
	case C_RAW:
		on_raw(s, &e, r);
		break;
	}
}

/* ---- I/O ---------------------------------------------------------------- */

static void
flush_out(struct session *s)
{
	struct session_priv *p = s->p;
	while (p->out.len > 0 && p->fd >= 0) {
		ssize_t n;
		if (p->tls)
			n = tls_write(p->tls, p->out.data, p->out.len);
		else
			n = send(p->fd, p->out.data, p->out.len, MSG_NOSIGNAL);
		if (n > 0) {
			buf_consume(&p->out, (size_t)n);
			continue;
		}
		if ((p->tls && n == TLS_AGAIN) ||
		    (!p->tls && n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)))
			return;
		if (!p->tls && n < 0 && errno == EINTR)
			continue;
		buf_reset(&p->out);
		info(s, "write failed: %s", p->tls ? tls_error(p->tls) : strerror(errno));
		if (p->tls) {
			/* the alert that explains it may be waiting */
			char junk[4096];
			for (int k = 0; k < 8 && tls_read(p->tls, junk, sizeof junk) > 0; k++)
				;
			enum tls_fail tf = tls_failure(p->tls);
			if (tf == TF_CLIENT_CERT || tf == TF_SERVER_ERROR) {
				char e[300], al[300];
				snprintf(e, sizeof e, "%s", tls_error(p->tls));
				snprintf(al, sizeof al, "%s", tls_alerts(p->tls));
				bool asked = tls_cert_requested(p->tls);
				close_conn(s);
				tls_refused(s, tf, e, al, asked);
				return;
			}
		}
		close_conn(s);
		fail(s, s->cur, FK_CLOSED, NULL, "the connection broke while sending");
		return;
	}
}

/* The structure of a server line: the command it answers, its code,
 * its enhanced code, and on an EHLO reply the capability it names. */
static void
mark_line(struct session *s, const struct inflight *head, const char *cl)
{
	struct session_priv *p = s->p;
	struct tr_line *l = tr_last(&s->tr);
	snprintf(l->verb, sizeof l->verb, "%s", head->verb);
	l->answers = head->line;
	if (!isdigit((unsigned char)cl[0]) || !isdigit((unsigned char)cl[1]) ||
	    !isdigit((unsigned char)cl[2]) ||
	    (cl[3] && cl[3] != ' ' && cl[3] != '-'))
		return;
	l->code = (cl[0] - '0') * 100 + (cl[1] - '0') * 10 + (cl[2] - '0');
	const char *rest = cl[3] ? cl + 4 : cl + 3;
	struct enh_code e = { 0 };
	if (enh_parse(rest, &e) && e.cls == l->code / 100)
		snprintf(l->enhanced, sizeof l->enhanced, "%d.%d.%d", e.cls,
			 e.subject, e.detail);
	/* an EHLO reply: the first line names the server, the rest offer */
	if (head->c == C_EHLO && l->code == 250 && p->rp.r.nlines > 0) {
		size_t k = 0;
		while ((isalnum((unsigned char)rest[k]) || rest[k] == '-' ||
			rest[k] == '_') && k + 1 < sizeof l->capability) {
			l->capability[k] = (char)toupper((unsigned char)rest[k]);
			k++;
		}
		l->capability[k] = '\0';
	}
}

static void
process_lines(struct session *s)
{
	struct session_priv *p = s->p;
	char *line;
	size_t len;
	int rc;

	while (p->ph == PH_IO && !s->finished &&
	       (rc = lr_getline(&p->lr, &line, &len)) != 0) {
		if (rc < 0) {
			size_t show = p->lr.in.len > 200 ? 200 : p->lr.in.len;
			tr_add(&s->tr, TR_SERVER, s->encrypted, s->cur, p->lr.in.data, show);
			tr_note(&s->tr, "cut short: the line is over 64 KiB");
			info(s, "a reply line longer than %d bytes with no end in sight: "
			     "stopped reading", LINE_MAX_BYTES);
			char *head = line_cstr(p->lr.in.data, show > 40 ? 40 : show);
			lr_free(&p->lr);
			close_conn(s);
			fail(s, s->cur, FK_LINE_TOO_LONG, NULL,
			     "a reply line over %d KiB with no line end (it begins "
			     "\"%s...\")", LINE_MAX_BYTES / 1024, head);
			free(head);
			return;
		}
		/* a reply to a raw command belongs to no step */
		const struct inflight *head = p->qn ? &p->q[0] : NULL;
		tr_add(&s->tr, TR_SERVER, s->encrypted, !head ? s->cur :
		       head->c == C_RAW ? -1 : head->step, line, len);
		char *cl = line_cstr(line, len);
		free(line);
		if (!head && p->rp.r.nlines == 0 && strncmp(cl, "421", 3) != 0) {
			/* no command is waiting for a reply */
			tr_last(&s->tr)->unsolicited = true;
			tr_note(&s->tr, "no command asked for this line");
			sync_fail(s, s->cur, NULL, "a line no command asked for: \"%s\"", cl);
			free(cl);
			return;
		}
		if (head)
			mark_line(s, head, cl);
		enum rp_status st = rp_feed(&p->rp, cl);
		free(cl);
		if (st == RP_MORE)
			continue;
		if (st == RP_DONE) {
			struct reply r;
			rp_take(&p->rp, &r);
			on_reply(s, &r);
			reply_free(&r);
			continue;
		}
		int step = s->cur;
		enum fail_kind k = st == RP_TOO_MANY_LINES ? FK_REPLY_TOO_LONG :
				   (step == STEP_GREETING ? FK_NOT_SMTP : FK_MALFORMED);
		const char *bad = p->rp.r.bad_line ? p->rp.r.bad_line : "";
		if (st == RP_TOO_MANY_LINES)
			info(s, "the reply is over %d lines or %d KiB: stopped reading",
			     REPLY_MAX_LINES, REPLY_MAX_BYTES / 1024);
		char *ev = st == RP_TOO_MANY_LINES
			? xasprintf("a reply of more than %d lines", REPLY_MAX_LINES)
			: st == RP_MIXED_CODES
			? xasprintf("reply lines disagree on the code: \"%s\"", bad)
			: xasprintf("%s", bad);
		rp_reset(&p->rp);
		close_conn(s);
		fail(s, step, k, NULL, "%s", ev);
		free(ev);
		return;
	}
}

static void
read_input(struct session *s)
{
	struct session_priv *p = s->p;
	char chunk[16384];
	size_t got = 0;

	/* At most READ_BUDGET bytes a call: a server that floods us still
	 * lets the event loop check the deadline and the keyboard. */
	for (;;) {
		if (got >= READ_BUDGET)
			return;
		ssize_t n;
		if (p->tls)
			n = tls_read(p->tls, chunk, sizeof chunk);
		else
			n = recv(p->fd, chunk, sizeof chunk, 0);
		if (n > 0) {
			got += (size_t)n;
			if (s->cur == STEP_GREETING && (p->probe_at || p->probe_parallel))
				probe_lost(s);
			buf_add(&p->lr.in, chunk, (size_t)n);
			/* Parse as we go: a STARTTLS 220 must be looked at
			 * before anything after it is touched, and a line
			 * with no end must not grow without bound. */
			process_lines(s);
			if (p->ph != PH_IO || s->finished || p->fd < 0)
				return;
			continue;
		}
		if ((p->tls && n == TLS_AGAIN) ||
		    (!p->tls && n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)))
			break;
		if (!p->tls && n < 0 && errno == EINTR)
			continue;
		/* closed or broken */
		if (p->tls && !p->raw_pending && s->cur != STEP_QUIT) {
			/* a TLS 1.3 server says it wants a client certificate
			 * only after our side of the handshake is done */
			enum tls_fail tf = tls_failure(p->tls);
			if (tf == TF_CLIENT_CERT || tf == TF_SERVER_ERROR) {
				char e[300], al[300];
				snprintf(e, sizeof e, "%s", tls_error(p->tls));
				snprintf(al, sizeof al, "%s", tls_alerts(p->tls));
				bool asked = tls_cert_requested(p->tls);
				info(s, "TLS: %s%s%s", *e ? e : "the server closed the "
				     "connection", *al ? "; alerts: " : "", al);
				close_conn(s);
				tls_refused(s, tf, e, al, asked);
				return;
			}
		}
		bool err = p->tls ? n == TLS_ERR : n < 0;
		/* a copy: close_conn() frees p->tls, and its message with it */
		char why[256];
		snprintf(why, sizeof why, "%s", err ? (p->tls ? tls_error(p->tls) :
			 strerror(errno)) : "the server closed the connection");
		if (p->lr.in.len > 0) {
			tr_add(&s->tr, TR_SERVER, s->encrypted, s->cur, p->lr.in.data,
			       p->lr.in.len > 200 ? 200 : p->lr.in.len);
			tr_note(&s->tr, "an unfinished line when the connection ended");
		}
		info(s, "%s", why);
		close_conn(s);
		if (p->raw_pending) {
			p->raw_pending = false;
			if (s->status[s->cur] == SS_RUNNING)
				s->status[s->cur] = SS_OK;
			finish(s);
			return;
		}
		if (s->cur == STEP_QUIT && s->status[STEP_QUIT] == SS_RUNNING) {
			end_step(s, STEP_QUIT, SS_OK);	/* no 221, but gone */
			return;
		}
		if (p->rp.r.nlines > 0) {
			struct reply r;
			rp_take(&p->rp, &r);
			fail(s, s->cur, FK_CLOSED, &r,
			     "the connection closed in the middle of a reply");
			reply_free(&r);
		} else {
			fail(s, s->cur, FK_CLOSED, NULL, "%s while waiting for the "
			     "reply to %s", why, step_name(s->cur));
		}
		return;
	}
	if (!p->tls)
		return;
	/* QUICKACK: answer the server's segments at once (its TLS 1.3
	 * session tickets otherwise wait on a delayed ACK). */
	int one = 1;
	setsockopt(p->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
}

static void
after_handshake(struct session *s)
{
	struct session_priv *p = s->p;
	tls_check(p->tls, &s->tls);
	s->encrypted = true;
	s->facts.encrypted = true;
	s->facts.tls_version = s->tls.version_num;
	set_str(&p->ev_tls, xasprintf("negotiated %s (%s)", s->tls.version,
				      s->tls.cipher));
	info(s, "TLS is up: %s, %s%s%s", s->tls.version, s->tls.cipher,
	     *s->tls.kx ? ", key exchange " : "", s->tls.kx);
	for (size_t i = 0; i < s->tls.nchain; i++) {
		/* names were escaped when they were read (tls.c): once */
		const struct cert_info *c = &s->tls.chain[i];
		char *l = xasprintf("certificate %zu: %s", i, c->subject);
		tr_add_safe(&s->tr, TR_INFO, false, s->cur, l);
		free(l);
		l = xasprintf("  issuer %s; valid %s to %s", c->issuer,
			      c->not_before, c->not_after);
		tr_add_safe(&s->tr, TR_INFO, false, s->cur, l);
		free(l);
	}
	if (tls_cert_requested(p->tls))
		info(s, "the server asked for a client certificate: %s",
		     s->cfg.cert ? "sent the one from --cert" :
		     "none to send (--cert/--key give one)");
	int one = 1;
	setsockopt(p->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);

	if (s->tls.problems) {
		char words[400] = "";
		unsigned pr = s->tls.problems;
		snprintf(words, sizeof words, "%s%s%s%s%s%s%s%s",
			 pr & CP_UNTRUSTED ? "not issued by a trusted authority; " : "",
			 pr & CP_CHAIN_INCOMPLETE ? "chain incomplete (an "
				"intermediate certificate is missing); " : "",
			 pr & CP_HOSTNAME ? "not valid for the name we asked for; " : "",
			 pr & CP_EXPIRED ? "expired; " : "",
			 pr & CP_NOT_YET_VALID ? "not yet valid; " : "",
			 pr & CP_PURPOSE ? "not for a TLS server (extended key "
				"usage); " : "",
			 pr & CP_WEAK ? "a weak algorithm; " : "",
			 pr & CP_OTHER ? "otherwise invalid; " : "");
		const char *name = s->cfg.servername ? s->cfg.servername : s->cfg.host;
		const struct cert_info *leaf = s->tls.nchain ? &s->tls.chain[0] : NULL;
		struct buf names = { 0 };
		for (size_t i = 0; leaf && i < leaf->nnames; i++)
			buf_printf(&names, "%s%s", i ? ", " : "", leaf->names[i]);
		struct buf more = { 0 };
		if (pr & CP_CHAIN_INCOMPLETE)
			buf_printf(&more, "; the server sent %zu certificate%s, "
				   "without the one of its issuer \"%s\"",
				   s->tls.nsent, s->tls.nsent == 1 ? "" : "s",
				   s->tls.missing_issuer);
		if (*s->tls.weak)
			buf_printf(&more, "; weak: %s", s->tls.weak);
		set_str(&p->ev_cert, xasprintf(
			"certificate for %s (names: %s; issuer %s; valid %s to %s): %s%s",
			leaf ? leaf->subject : "?", names.data ? names.data : "none",
			leaf ? leaf->issuer : "?", leaf ? leaf->not_before : "?",
			leaf ? leaf->not_after : "?", s->tls.verdict,
			more.data ? more.data : ""));
		buf_free(&more);
		buf_free(&names);
		s->facts.cert_problems = pr;
		info(s, "certificate check for %s FAILED: %s", name, words);
		if (!s->cfg.insecure) {
			/* be polite inside TLS: QUIT, then close */
			p->ph = PH_IO;
			set_str(&p->ev, xstrdup(p->ev_cert));
			fail(s, STEP_TLS, FK_CERT, NULL, NULL);
			return;
		}
		info(s, "--insecure: going on anyway, unauthenticated");
	} else {
		info(s, "certificate verified for %s",
		     s->cfg.servername ? s->cfg.servername : s->cfg.host);
	}
	if (*s->tls.weak)
		info(s, "weak certificate: %s", s->tls.weak);
	/* RFC 3207 §4.2: forget everything learnt before TLS */
	memset(&s->caps, 0, sizeof s->caps);
	lr_free(&p->lr);
	rp_reset(&p->rp);
	p->ph = PH_IO;
	end_step(s, STEP_TLS, s->tls.problems ? SS_WARN : SS_OK);
}

/*
 * The server ended TLS for a reason of its own: it wants a client
 * certificate (during the handshake, or in TLS 1.3 right after it, on the
 * first read), or its TLS failed inside.  The TLS step is the one that
 * failed, whatever step was running.
 */
static void
tls_refused(struct session *s, enum tls_fail tf, const char *err,
	    const char *alerts, bool asked)
{
	if (s->cur != STEP_TLS && s->status[s->cur] == SS_RUNNING)
		s->status[s->cur] = SS_SKIPPED;
	s->status[STEP_TLS] = SS_RUNNING;
	fail(s, STEP_TLS, tf == TF_CLIENT_CERT ? FK_TLS_CLIENT_CERT
					       : FK_TLS_SERVER_ERROR, NULL,
	     "%s%s%s%s", *alerts ? "TLS alerts received: " : err, alerts,
	     !asked ? "" : s->cfg.cert ? "; the server sent a CertificateRequest "
		     "(it asks for a client certificate), this client sent the "
		     "one from --cert, and the server refused it" :
		     "; the server sent a CertificateRequest (it asks for a "
		     "client certificate) and this client has none (no --cert)",
	     !*alerts ? "" : tf == TF_SERVER_ERROR ? "; the server's TLS failed "
		     "inside" : "");
}

static void
handshake_failed(struct session *s)
{
	struct session_priv *p = s->p;
	enum tls_fail tf = tls_failure(p->tls);
	size_t n;
	const char *first = tls_first_bytes(p->tls, &n);
	/* a copy: close_conn() frees p->tls, and the message with it */
	char err[512];
	snprintf(err, sizeof err, "%s", tls_error(p->tls));

	info(s, "TLS handshake failed: %s", err);
	if (tf == TF_NOT_TLS) {
		/* show what came instead: typically "220 host ESMTP".  GnuTLS
		 * read only a record header's worth; the rest of the line is
		 * likely waiting in the socket. */
		char more[256];
		size_t k = n < sizeof more ? n : sizeof more;
		memcpy(more, first, k);
		ssize_t r = recv(p->fd, more + k, sizeof more - k, MSG_DONTWAIT);
		if (r > 0)
			k += (size_t)r;
		first = more;
		n = k;
		const char *nl = memchr(first, '\n', n);
		size_t show = nl ? (size_t)(nl - first) : n;
		if (show && first[show - 1] == '\r')
			show--;
		tr_add(&s->tr, TR_SERVER, false, s->cur, first, show);
		tr_note(&s->tr, "plaintext where a TLS handshake was expected");
		char *v = line_cstr(first, show);
		close_conn(s);
		fail(s, STEP_TLS, FK_TLS_NOT_TLS, NULL,
		     "the server answered our TLS ClientHello with plaintext: \"%s\"", v);
		free(v);
		return;
	}
	char alerts[300];
	snprintf(alerts, sizeof alerts, "%s", tls_alerts(p->tls));
	bool asked = tls_cert_requested(p->tls);
	close_conn(s);
	if (tf == TF_CLIENT_CERT || tf == TF_SERVER_ERROR) {
		tls_refused(s, tf, err, alerts, asked);
		return;
	}
	fail(s, STEP_TLS, tf == TF_VERSION ? FK_TLS_VERSION :
	     tf == TF_CLOSED ? FK_TLS_CLOSED : FK_TLS_OTHER, NULL,
	     "TLS handshake: %s%s%s", err, *alerts ? "; TLS alerts received: " : "",
	     alerts);
}

static void
probe_close(struct session *s)
{
	struct session_priv *p = s->p;
	if (p->probe_tls) {
		tls_free(p->probe_tls);
		p->probe_tls = NULL;
	}
	if (p->probe_fd >= 0) {
		close(p->probe_fd);
		p->probe_fd = -1;
	}
	if (p->epfd >= 0) {
		close(p->epfd);
		p->epfd = -1;
	}
	p->probe_parallel = false;
	p->probe_at = 0;
}

/*
 * No greeting (yet): is this an implicit-TLS port?  A second connection
 * starts with a ClientHello.  parallel: the first connection keeps
 * waiting for its greeting beside it (after PROBE_GRACE, issue 9 §4),
 * and whichever answers first decides; otherwise the greeting's time is
 * up and only the probe is left.
 */
static void
start_probe(struct session *s, bool parallel)
{
	struct session_priv *p = s->p;
	double waited = now_mono() - p->step_t0;
	if (parallel)
		info(s, "no greeting after %.1f s: trying a second connection that "
		     "starts TLS at once, to see if port %d wants implicit TLS (the "
		     "first one still waits for a greeting)", waited, s->port);
	else
		info(s, "no greeting after %.0f s; probing with a second connection "
		     "that starts TLS at once, to see if port %d wants implicit TLS",
		     waited, s->port);
	s->facts.probe_tried = true;
	p->probe_at = 0;
	p->probe_fd = connect_start(&p->addrs[p->ai < p->naddr ? p->ai : 0]);
	if (p->probe_fd < 0) {
		info(s, "probe: %s", strerror(errno));
		if (parallel)
			return;		/* the first connection may still answer */
		close_conn(s);
		fail(s, STEP_GREETING, FK_TIMEOUT, NULL,
		     "no greeting within %.0f s", timeout_of(s));
		return;
	}
	p->probe_parallel = parallel;
	p->probe_hs = false;
	double t = timeout_of(s) < 5 ? timeout_of(s) : 5;
	p->probe_deadline = now_mono() + t;
	if (!parallel) {
		p->ph = PH_PROBE_CONNECT;
		p->deadline = p->probe_deadline;
	}
}

static void
end_probe(struct session *s, bool ok, const char *why)
{
	struct session_priv *p = s->p;
	bool parallel = p->probe_parallel;
	probe_close(s);
	s->facts.probe_ok = ok;
	info(s, "probe: %s", why);
	if (parallel && !ok)
		return;		/* the greeting may still come, until the timeout */
	close_conn(s);
	fail(s, STEP_GREETING, FK_TIMEOUT, NULL,
	     "no greeting after %.1f s on port %d%s", now_mono() - p->step_t0,
	     s->port, ok ? "; a TLS handshake on a second connection succeeded" : "");
}

/* The probe connection's turn: connect, then the TLS handshake. */
/*
 * One turn of the probe's TLS handshake on the second connection.
 * Returns true while it is still under way; otherwise the probe has
 * ended (end_probe) with its verdict.
 */
static bool
probe_handshake(struct session *s)
{
	struct session_priv *p = s->p;
	enum tls_rc rc = tls_handshake(p->probe_tls);
	if (rc == TLS_AGAIN)
		return true;
	if (rc == TLS_OK) {
		struct tls_info ti = { 0 };
		tls_check(p->probe_tls, &ti);
		char *m = xasprintf("the TLS handshake succeeded (%s): port %d "
				    "speaks implicit TLS", ti.version, s->port);
		tls_info_free(&ti);
		end_probe(s, true, m);
		free(m);
	} else {
		end_probe(s, false, "no TLS on the second connection either");
	}
	return false;
}

static void
probe_turn(struct session *s, short revents)
{
	struct session_priv *p = s->p;
	if (!p->probe_hs) {
		if (!revents)
			return;
		if (connect_result(p->probe_fd) != 0) {
			end_probe(s, false, "the second connection failed");
			return;
		}
		p->probe_hs = true;
		begin_tls(s, true);
		if (p->probe_tls == NULL)
			return;
	}
	probe_handshake(s);
}

/* The greeting began on the first connection: it wins over the probe. */
static void
probe_lost(struct session *s)
{
	struct session_priv *p = s->p;
	p->probe_at = 0;
	if (!p->probe_parallel)
		return;
	probe_close(s);
	s->facts.probe_tried = s->facts.probe_ok = false;
	info(s, "the greeting began after %.1f s: the second connection is "
	     "closed", now_mono() - p->step_t0);
}

static void
on_timeout(struct session *s)
{
	struct session_priv *p = s->p;
	switch (p->ph) {
	case PH_RESOLVE:
		resolve_abandon(p->res);
		p->res = NULL;
		if (p->px_resolving) {
			p->px_resolving = false;
			fail(s, STEP_RESOLVE, FK_PROXY_NOT_FOUND, NULL,
			     "no answer from the resolver for the proxy %s "
			     "within %.0f s", s->cfg.proxy_host, timeout_of(s));
			return;
		}
		fail(s, STEP_RESOLVE, FK_DNS_TEMPORARY, NULL,
		     "no answer from the resolver for %s within %.0f s",
		     s->cfg.host, timeout_of(s));
		return;
	case PH_CONNECT:
		info(s, "  no answer within %.0f s", timeout_of(s));
		close(p->fd);
		p->fd = -1;
		p->conn_err = FK_TIMEOUT;
		snprintf(p->conn_ev, sizeof p->conn_ev,
			 "connect to %s port %d: no answer within %.0f s",
			 p->addrs[p->ai].text, s->port, timeout_of(s));
		p->ai++;
		begin_connect_attempt(s);
		return;
	case PH_PX_CONNECT:
		info(s, "  no answer within %.0f s", timeout_of(s));
		close(p->fd);
		p->fd = -1;
		p->px_err = FK_PROXY_TIMEOUT;
		snprintf(p->px_ev, sizeof p->px_ev, "connect to the %s proxy %s "
			 "port %d: no answer within %.0f s",
			 proxy_kind_name(s->cfg.proxy), p->px_addrs[p->px_ai].text,
			 s->cfg.proxy_port, timeout_of(s));
		p->px_ai++;
		begin_proxy_connect(s);
		return;
	case PH_PX_HS:
		info(s, "the proxy did not finish its handshake within %.0f s",
		     timeout_of(s));
		proxy_hs_free(&p->px);
		close_conn(s);
		fail(s, STEP_CONNECT, FK_PROXY_TIMEOUT, NULL,
		     "the %s proxy accepted the connection but did not answer "
		     "its handshake for %s port %d within %.0f s",
		     proxy_kind_name(s->cfg.proxy), s->cfg.host, s->port,
		     timeout_of(s));
		return;
	case PH_HANDSHAKE:
		info(s, "TLS handshake: no answer within %.0f s", timeout_of(s));
		close_conn(s);
		fail(s, STEP_TLS, FK_TIMEOUT, NULL,
		     "no TLS handshake answer within %.0f s", timeout_of(s));
		return;
	case PH_PROBE_CONNECT:
	case PH_PROBE_HS:
		end_probe(s, false, "no TLS answer either");
		return;
	case PH_IO:
		if (p->probe_parallel) {	/* the greeting's time is up */
			p->probe_parallel = false;
			end_probe(s, false, "no TLS answer either");
			return;
		}
		if (s->cur == STEP_GREETING && p->raw_pending == false &&
		    s->tls_mode != TLSM_IMPLICIT && p->lr.in.len == 0 &&
		    p->rp.r.nlines == 0 && !s->facts.probe_tried) {
			start_probe(s, false);
			return;
		}
		if (p->lr.in.len > 0 || p->rp.r.nlines > 0) {
			tr_add(&s->tr, TR_SERVER, s->encrypted, s->cur, p->lr.in.data ?
			       p->lr.in.data : "", p->lr.in.len > 200 ? 200 : p->lr.in.len);
			tr_note(&s->tr, "an unfinished reply when time ran out");
		}
		info(s, "no complete reply within %.0f s", timeout_of(s));
		if (p->raw_pending) {
			/* a late reply must not be taken for the next step's */
			for (int i = 0; i < p->qn; i++)
				if (p->q[i].c == C_RAW)
					p->q[i].drop = true;
			p->raw_pending = false;
			p->ph = PH_IDLE;
			return;
		}
		close_conn(s);
		if (s->cur == STEP_QUIT) {
			end_step(s, STEP_QUIT, SS_WARN);
			return;
		}
		fail(s, s->cur, FK_TIMEOUT, NULL,
		     "no complete reply to %s within %.0f s%s", step_name(s->cur),
		     timeout_of(s), p->lr.in.len ? " (a partial line arrived)" : "");
		return;
	default:
		return;
	}
}

/* Events the probe connection waits for. */
static short
probe_events(const struct session *s)
{
	const struct session_priv *p = s->p;
	return p->probe_hs && p->probe_tls ? tls_want(p->probe_tls) : POLLOUT;
}

static void
ep_set(int epfd, int fd, short events)
{
	struct epoll_event ev = { .events = 0, .data.fd = fd };
	if (events & POLLIN)
		ev.events |= EPOLLIN;
	if (events & POLLOUT)
		ev.events |= EPOLLOUT;
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev) < 0 && errno == ENOENT)
		epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* Two connections, one pollfd for the caller's loop: an epoll set over
 * both, readable when either is ready. */
static void
wait_both(struct session *s, struct pollfd *pfd, double *deadline)
{
	struct session_priv *p = s->p;
	if (p->epfd < 0)
		p->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (p->epfd < 0) {	/* no epoll: look again every 50 ms */
		double soon = now_mono() + 0.05;
		if (soon < *deadline)
			*deadline = soon;
		return;
	}
	ep_set(p->epfd, p->fd, pfd->events);
	ep_set(p->epfd, p->probe_fd, probe_events(s));
	pfd->fd = p->epfd;
	pfd->events = POLLIN;
	if (p->probe_deadline < *deadline)
		*deadline = p->probe_deadline;
}

void
session_wait(struct session *s, struct pollfd *pfd, double *deadline)
{
	struct session_priv *p = s->p;
	pfd->fd = -1;
	pfd->events = 0;
	pfd->revents = 0;
	*deadline = p->deadline;
	switch (p->ph) {
	case PH_RESOLVE:
		pfd->fd = resolve_fd(p->res);
		pfd->events = POLLIN;
		break;
	case PH_CONNECT:
		pfd->fd = p->fd;
		pfd->events = POLLOUT;
		break;
	case PH_HANDSHAKE:
		pfd->fd = p->fd;
		pfd->events = tls_want(p->tls);
		break;
	case PH_PROBE_CONNECT:
		pfd->fd = p->probe_fd;
		pfd->events = POLLOUT;
		break;
	case PH_PX_CONNECT:
		pfd->fd = p->fd;
		pfd->events = POLLOUT;
		break;
	case PH_PX_HS:
		pfd->fd = p->fd;
		pfd->events = proxy_hs_events(&p->px);
		break;
	case PH_PROBE_HS:
		pfd->fd = p->probe_fd;
		pfd->events = tls_want(p->probe_tls);
		break;
	case PH_IO:
		pfd->fd = p->fd;
		pfd->events = POLLIN | (p->out.len ? POLLOUT : 0);
		if ((p->tls && tls_pending(p->tls)) ||
		    memchr(p->lr.in.data ? p->lr.in.data : "", '\n', p->lr.in.len))
			*deadline = 0;	/* data waiting: now */
		if (p->probe_at && p->probe_at < *deadline)
			*deadline = p->probe_at;
		if (p->probe_parallel)
			wait_both(s, pfd, deadline);
		break;
	default:
		*deadline = -1;
	}
}

void
session_handle(struct session *s, short revents)
{
	struct session_priv *p = s->p;
	char err[256];

	if (s->finished)
		return;
	switch (p->ph) {
	case PH_RESOLVE: {
		if (!revents)
			break;
		int n = 0;
		if (p->px_resolving) {
			p->px_resolving = false;
			enum resolve_err e = resolve_finish(p->res, p->px_addrs,
							    NET_MAX_ADDRS, &n, err,
							    sizeof err);
			p->res = NULL;
			p->px_naddr = n;
			if (e != RES_OK) {
				info(s, "the proxy %s: %s", s->cfg.proxy_host, err);
				fail(s, STEP_RESOLVE, FK_PROXY_NOT_FOUND, NULL,
				     "looking up the proxy %s: %s",
				     s->cfg.proxy_host, err);
				return;
			}
			info(s, "the proxy %s has address%s %s%s", s->cfg.proxy_host,
			     n == 1 ? "" : "es", p->px_addrs[0].text,
			     n > 1 ? ", ..." : "");
			end_step(s, STEP_RESOLVE, SS_OK);
			return;
		}
		enum resolve_err e = resolve_finish(p->res, p->addrs, NET_MAX_ADDRS,
						    &n, err, sizeof err);
		p->res = NULL;
		p->naddr = n;
		if (e != RES_OK) {
			info(s, "%s: %s", s->cfg.host, err);
			fail(s, STEP_RESOLVE, e == RES_NOT_FOUND ? FK_DNS_NOT_FOUND :
			     e == RES_NO_ADDRESS ? FK_DNS_NO_ADDRESS :
			     e == RES_TEMPORARY ? FK_DNS_TEMPORARY : FK_DNS_OTHER, NULL,
			     "looking up %s%s: %s", s->cfg.host,
			     s->cfg.family == FAM_V4 ? " (IPv4 only)" :
			     s->cfg.family == FAM_V6 ? " (IPv6 only)" : "", err);
			return;
		}
		struct buf b = { 0 };
		for (int i = 0; i < n; i++)
			buf_printf(&b, "%s%s", i ? ", " : "", p->addrs[i].text);
		info(s, "%s has %d address%s: %s", s->cfg.host, n, n == 1 ? "" : "es",
		     b.data);
		buf_free(&b);
		if (s->cfg.proxy) {
			/* the proxy is told the first address; its name next */
			begin_proxy_resolve(s);
			return;
		}
		end_step(s, STEP_RESOLVE, SS_OK);
		return;
	}
	case PH_PX_CONNECT: {
		if (!revents)
			break;
		int e = connect_result(p->fd);
		if (e == 0) {
			begin_proxy_hs(s);
			proxy_hs_io(s);
			return;
		}
		info(s, "  %s", strerror(e));
		close(p->fd);
		p->fd = -1;
		p->px_err = e == ETIMEDOUT ? FK_PROXY_TIMEOUT : FK_PROXY_REFUSED;
		snprintf(p->px_ev, sizeof p->px_ev, "connect to the %s proxy %s "
			 "port %d: %s", proxy_kind_name(s->cfg.proxy),
			 p->px_addrs[p->px_ai].text, s->cfg.proxy_port, strerror(e));
		p->px_ai++;
		begin_proxy_connect(s);
		return;
	}
	case PH_PX_HS:
		if (!revents)
			break;
		proxy_hs_io(s);
		return;
	case PH_CONNECT: {
		if (!revents)
			break;
		int e = connect_result(p->fd);
		if (e == 0) {
			info(s, "connected to %s port %d", s->address, s->port);
			p->ph = PH_IO;
			end_step(s, STEP_CONNECT, SS_OK);
			return;
		}
		if (e == ECONNRESET) {
			/* the handshake completed, then an RST came before a
			 * word: something listens, or something in the way
			 * (an IPS, a firewall) cuts the session; neither a
			 * refusal nor a missing route */
			info(s, "connected to %s port %d, then reset before the "
			     "greeting", s->address, s->port);
			close(p->fd);
			p->fd = -1;
			end_step(s, STEP_CONNECT, SS_OK);
			fail(s, STEP_GREETING, FK_CLOSED, NULL, "connection to %s "
			     "port %d reset right after the TCP handshake, before "
			     "the greeting", s->address, s->port);
			return;
		}
		info(s, "  %s", strerror(e));
		close(p->fd);
		p->fd = -1;
		enum fail_kind k = e == ECONNREFUSED ? FK_REFUSED :
			(e == ENETUNREACH || e == EHOSTUNREACH) ? FK_UNREACHABLE :
			e == ETIMEDOUT ? FK_TIMEOUT : FK_CONNECT_OTHER;
		if (p->conn_err != FK_TIMEOUT || k != FK_CONNECT_OTHER)
			p->conn_err = k;
		snprintf(p->conn_ev, sizeof p->conn_ev, "connect to %s port %d: %s",
			 p->addrs[p->ai].text, s->port, strerror(e));
		p->ai++;
		begin_connect_attempt(s);
		return;
	}
	case PH_HANDSHAKE: {
		enum tls_rc rc = tls_handshake(p->tls);
		if (rc == TLS_OK) {
			after_handshake(s);
			return;
		}
		if (rc == TLS_AGAIN)
			break;
		handshake_failed(s);
		return;
	}
	case PH_PROBE_CONNECT:
		if (!revents)
			break;
		if (connect_result(p->probe_fd) != 0) {
			end_probe(s, false, "the second connection failed");
			return;
		}
		begin_tls(s, true);
		if (p->ph == PH_PROBE_HS)
			session_handle(s, 0);	/* send the ClientHello now */
		return;
	case PH_PROBE_HS:
		if (probe_handshake(s))
			break;
		return;
	case PH_IO: {
		short probe_rev = 0;
		if (p->probe_parallel) {	/* revents were the epoll set's */
			struct pollfd two[2] = {
				{ .fd = p->fd, .events = POLLIN |
				  (p->out.len ? POLLOUT : 0) },
				{ .fd = p->probe_fd, .events = probe_events(s) },
			};
			revents = 0;
			if (poll(two, 2, 0) > 0) {
				revents = two[0].revents;
				probe_rev = two[1].revents;
			}
		}
		if (revents & POLLOUT)
			flush_out(s);
		if (p->ph != PH_IO || s->finished)
			return;
		if ((revents & (POLLIN | POLLHUP | POLLERR)) ||
		    (p->tls && tls_pending(p->tls)))
			read_input(s);
		if (p->ph != PH_IO || s->finished)
			return;
		if (memchr(p->lr.in.data ? p->lr.in.data : "", '\n', p->lr.in.len))
			process_lines(s);	/* lines read while a step waited */
		if (p->ph != PH_IO || s->finished)
			return;
		/* the first connection had its turn: a greeting wins */
		if (p->probe_parallel) {
			probe_turn(s, probe_rev);
			if (p->ph != PH_IO || s->finished)
				return;
			if (p->probe_parallel && now_mono() >= p->probe_deadline)
				end_probe(s, false, "no TLS answer on the second "
					  "connection");
			if (p->ph != PH_IO || s->finished)
				return;
		}
		if (p->probe_at && now_mono() >= p->probe_at &&
		    s->cur == STEP_GREETING && p->fd >= 0 && !p->raw_pending &&
		    p->lr.in.len == 0 && p->rp.r.nlines == 0)
			start_probe(s, true);
		break;
	}
	default:
		return;
	}
	if (p->ph != PH_IDLE && p->ph != PH_DONE && now_mono() >= p->deadline)
		on_timeout(s);
}

void
session_cancel(struct session *s)
{
	struct session_priv *p = s->p;
	if (s->finished || !session_busy(s))
		return;
	info(s, "cancelled by the user");
	proxy_hs_free(&p->px);
	p->px_resolving = false;
	if (p->res) {
		resolve_abandon(p->res);
		p->res = NULL;
	}
	if (p->probe_tls) {
		tls_free(p->probe_tls);
		p->probe_tls = NULL;
	}
	if (p->probe_fd >= 0) {
		close(p->probe_fd);
		p->probe_fd = -1;
	}
	close_conn(s);
	if (s->status[STEP_QUIT] == SS_PENDING)
		s->status[STEP_QUIT] = SS_SKIPPED;
	fail(s, s->cur, FK_CANCELLED, NULL, "%s cancelled after %.1f s",
	     step_name(s->cur), now_mono() - p->step_t0);
}

int
session_raw(struct session *s, const char *line, char *err, size_t errlen)
{
	struct session_priv *p = s->p;
	static const char *const refused[] = { "STARTTLS", "AUTH", "DATA", "BDAT" };

	if (s->finished || p->fd < 0) {
		snprintf(err, errlen, "not connected: run the session to a step "
			 "after the greeting first (or R to start over)");
		return -1;
	}
	if (session_busy(s)) {
		snprintf(err, errlen, "a step is under way: wait for it");
		return -1;
	}
	if (s->status[STEP_GREETING] != SS_OK) {
		snprintf(err, errlen, "wait for the greeting first: press n");
		return -1;
	}
	if (s->status[STEP_STARTTLS] == SS_OK && !s->encrypted) {
		snprintf(err, errlen, "after STARTTLS only the TLS handshake may "
			 "follow (RFC 3207): press n");
		return -1;
	}
	if (strpbrk(line, "\r\n")) {
		snprintf(err, errlen, "one command per line");
		return -1;
	}
	for (size_t i = 0; i < ARRAY_SIZE(refused); i++) {
		size_t n = strlen(refused[i]);
		if (!strncasecmp(line, refused[i], n) &&
		    (line[n] == '\0' || isspace((unsigned char)line[n]))) {
			snprintf(err, errlen, "%s belongs to its own step: press n to "
				 "run it", refused[i]);
			return -1;
		}
	}
	if (unasked_before(s, "your command"))
		return 0;	/* the transcript says why */
	p->raw_pending = true;
	p->ph = PH_IO;
	set_deadline(s);
	send_cmd(s, C_RAW, line, NULL);
	tr_last(&s->tr)->step = -1;
	flush_out(s);
	return 0;
}

const char *
session_sender(const struct session *s)
{
	return s->p->from;
}

const char *
session_address(const struct session *s, int i, bool wire)
{
	if (i < 0 || i > s->cfg.nto)
		return NULL;
	return wire ? addr_wire(&s->p->af[i], s->p->utf8) : s->p->af[i].given;
}

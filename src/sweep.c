/*
 * sweep.c - the port advisor: concurrent probe sessions, the verdict per
 * port, and the recommendation drawn from a policy table.
 *
 * The policy is data (policy[] below): a team that carries its own
 * "approved port policy" edits the rows, and nothing else.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy.h"
#include "provider.h"
#include "sweep.h"
#include "util.h"

/* ---- the policy --------------------------------------------------------- */

/* A port number that no row of the table names: the lab's ephemeral
 * ports, or whatever --ports lists beyond the usual four. */
#define PORT_OTHER (-1)

/* What a port must show before a row may pick it (besides a probe that
 * ended with no error diagnosis). */
enum {
	REQ_TLS		= 1u << 0,	/* a TLS handshake completed */
	REQ_VERIFIED	= 1u << 1,	/* ... and the certificate verified */
	REQ_AUTH	= 1u << 2	/* AUTH offered inside TLS */
};

struct policy_row {
	const char *id;			/* stable: the report's "rule" */
	enum sweep_purpose purpose;
	enum sweep_speaks speaks;	/* what the port must speak */
	int port;			/* its number, or PORT_OTHER */
	unsigned require;		/* REQ_* bits */
	bool never;			/* a match excludes the port instead */
	const char *why;		/* the reason, in words */
};

/*
 * First row that matches a usable port wins; rows are in order of
 * preference.  Ports are judged on what they speak and offer first (the
 * requirements and "speaks"), on their number second, so the table works
 * on a lab's ephemeral ports too (PORT_OTHER).
 */
static const struct policy_row policy[] = {
	/* Port 25 is for servers delivering to servers: many networks block
	 * it outbound and many servers refuse AUTH there. */
	{ "25-not-for-submission", SWEEP_SUBMISSION, SPK_UNKNOWN, 25, 0, true,
	  "port 25 is for server-to-server relay (RFC 5321), not for a mail "
	  "client: most cloud and residential networks block it outbound and "
	  "many servers refuse AUTH on it" },
	/* The common practice the field writes down (provider setup pages,
	 * client defaults): 587 with STARTTLS first (RFC 6409, RFC 3207).
	 * A provider that prefers 465 is honoured before this table (see
	 * compute_advice). */
	{ "587-starttls", SWEEP_SUBMISSION, SPK_SMTP, 587,
	  REQ_TLS | REQ_VERIFIED | REQ_AUTH, false,
	  "587 is the message submission port (RFC 6409) and upgrades to TLS "
	  "with STARTTLS (RFC 3207); every mail client supports it, and it is "
	  "what providers document first. Port 465 with implicit TLS is at "
	  "least as good (RFC 8314 §3.3 prefers it: no STARTTLS step to strip "
	  "or inject into) and is the choice when 587 is not usable" },
	/* RFC 8314 §3.3: implicit TLS for submission: TLS from the first
	 * byte leaves no STARTTLS to strip or inject into. */
	{ "465-implicit", SWEEP_SUBMISSION, SPK_TLS, 465,
	  REQ_TLS | REQ_VERIFIED | REQ_AUTH, false,
	  "465 is the submissions port with implicit TLS, which RFC 8314 "
	  "(§3.3) prefers for mail clients: TLS starts before any SMTP is "
	  "spoken, so there is no STARTTLS step for an attacker to strip or "
	  "inject into" },
	/* 2525: not registered, the de-facto fallback when 587 is blocked. */
	{ "2525-starttls", SWEEP_SUBMISSION, SPK_SMTP, 2525,
	  REQ_TLS | REQ_VERIFIED | REQ_AUTH, false,
	  "2525 is not a registered port, but many providers offer it as the "
	  "fallback for networks that block 587" },
	{ "2525-implicit", SWEEP_SUBMISSION, SPK_TLS, 2525,
	  REQ_TLS | REQ_VERIFIED | REQ_AUTH, false,
	  "2525 is not a registered port, but many providers offer it as the "
	  "fallback for networks that block the standard ones" },
	/* Ports of the provider's own choosing (or the lab's): implicit TLS
	 * before STARTTLS, for the reason of row 465-implicit. */
	{ "other-implicit", SWEEP_SUBMISSION, SPK_TLS, PORT_OTHER,
	  REQ_TLS | REQ_VERIFIED | REQ_AUTH, false,
	  "it speaks implicit TLS, which RFC 8314 (§3.3) prefers for "
	  "submission, with a verified certificate and AUTH inside TLS" },
	{ "other-starttls", SWEEP_SUBMISSION, SPK_SMTP, PORT_OTHER,
	  REQ_TLS | REQ_VERIFIED | REQ_AUTH, false,
	  "it upgrades to TLS with STARTTLS (RFC 3207), with a verified "
	  "certificate and AUTH inside TLS" },
	/* Works, but the number promises the other mode: a server
	 * misconfiguration; last resort, and said so. */
	{ "587-implicit-mismatch", SWEEP_SUBMISSION, SPK_TLS, 587,
	  REQ_TLS | REQ_VERIFIED | REQ_AUTH, false,
	  "it works, but only because smtpdx tried implicit TLS: 587 is meant "
	  "for STARTTLS (RFC 6409), so clients set up the standard way fail "
	  "there; the server's configuration should be fixed" },
	{ "465-starttls-mismatch", SWEEP_SUBMISSION, SPK_SMTP, 465,
	  REQ_TLS | REQ_VERIFIED | REQ_AUTH, false,
	  "it works, but only with STARTTLS: 465 is meant for implicit TLS "
	  "(RFC 8314), so clients set up the standard way fail there; the "
	  "server's configuration should be fixed" },

	/* --mx: delivering to a domain's MX, server to server, no AUTH. */
	{ "25-relay", SWEEP_RELAY, SPK_SMTP, 25, REQ_TLS | REQ_VERIFIED, false,
	  "25 is the port mail servers deliver to each other on (RFC 5321), "
	  "here with STARTTLS and a verified certificate" },
	{ "other-relay-starttls", SWEEP_RELAY, SPK_SMTP, PORT_OTHER,
	  REQ_TLS | REQ_VERIFIED, false,
	  "it takes SMTP with STARTTLS and a verified certificate" },
	{ "other-relay-implicit", SWEEP_RELAY, SPK_TLS, PORT_OTHER,
	  REQ_TLS | REQ_VERIFIED, false,
	  "it speaks SMTP over implicit TLS with a verified certificate" },
};

/* The TLS mode a port's number promises (for the mismatch warning). */
static const struct {
	int port;
	enum sweep_speaks speaks;
	const char *role;
} port_roles[] = {
	{ 587, SPK_SMTP, "the STARTTLS submission port (RFC 6409)" },
	{ 465, SPK_TLS, "the implicit-TLS submissions port (RFC 8314)" },
	{ 25, SPK_SMTP, "the SMTP relay port, plaintext with STARTTLS (RFC 5321)" },
};

/* ---- the object ---------------------------------------------------------- */

struct sweep {
	struct config base;
	const struct team_policy *policy;	/* --policy, or NULL */
	enum sweep_purpose purpose;
	struct sweep_port p[SWEEP_MAX_PORTS];
	int n;
	double t0, t_end;
	bool started, done;
	struct sweep_advice advice;
};

const char *
sweep_speaks_name(enum sweep_speaks s)
{
	switch (s) {
	case SPK_SMTP: return "smtp";
	case SPK_TLS: return "tls";
	case SPK_OTHER: return "other";
	case SPK_NOTHING: return "nothing";
	default: return "unknown";
	}
}

int
sweep_parse_ports(const char *list, int *ports, int max, char *err,
		  size_t errlen)
{
	int n = 0;
	const char *s = list;
	while (*s) {
		char *end;
		errno = 0;
		long v = strtol(s, &end, 10);
		if (errno || end == s || v < 1 || v > 65535 ||
		    (*end && *end != ',')) {
			snprintf(err, errlen, "--ports wants a comma-separated list "
				 "of ports (1-65535), not '%s'", list);
			return -1;
		}
		for (int i = 0; i < n; i++)
			if (ports[i] == v) {
				snprintf(err, errlen, "--ports lists %ld twice", v);
				return -1;
			}
		if (n >= max) {
			snprintf(err, errlen, "--ports: at most %d ports", max);
			return -1;
		}
		ports[n++] = (int)v;
		s = *end ? end + 1 : end;
		if (*end && !*s) {
			snprintf(err, errlen, "--ports ends in a comma: '%s'", list);
			return -1;
		}
	}
	if (n == 0) {
		snprintf(err, errlen, "--ports is empty");
		return -1;
	}
	return n;
}

struct sweep *
sweep_new(const struct config *base, const int *ports, int nports,
	  enum sweep_purpose purpose)
{
	struct sweep *w = xcalloc(1, sizeof *w);
	config_copy(&w->base, base);
	/* a probe never authenticates: drop the credentials at once */
	config_set(&w->base.user, NULL);
	config_set(&w->base.password, NULL);
	w->base.probe = true;
	w->base.role_port = 0;
	/* the probes are judged by the advice, not each by the policy */
	w->policy = base->policy;
	w->base.policy = NULL;
	w->purpose = purpose;
	w->n = nports < SWEEP_MAX_PORTS ? nports : SWEEP_MAX_PORTS;
	for (int i = 0; i < w->n; i++) {
		w->p[i].port = ports[i];
		w->p[i].mode = TLSM_NONE;
	}
	return w;
}

static void
port_free(struct sweep_port *p)
{
	session_free(p->implicit);
	session_free(p->starttls);
	free(p->greeting);
	free(p->auth);
	for (int i = 0; i < p->nhow; i++)
		free(p->how[i]);
	free(p->how);
	diag_list_free(&p->diags);
}

void
sweep_free(struct sweep *w)
{
	if (!w)
		return;
	for (int i = 0; i < w->n; i++)
		port_free(&w->p[i]);
	free(w->advice.why);
	free(w->advice.network_why);
	config_free(&w->base);
	free(w);
}

static void
how(struct sweep_port *p, const char *fmt, ...) PRINTF(2, 3);

static void
how(struct sweep_port *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *m = xvasprintf(fmt, ap);
	va_end(ap);
	p->how = xrealloc(p->how, (size_t)(p->nhow + 1) * sizeof *p->how);
	p->how[p->nhow++] = m;
}

static struct session *
start_session(struct sweep *w, int port, enum tls_mode mode)
{
	struct config c;
	config_copy(&c, &w->base);
	/* the lab's mail host: "587" is a loopback listener that plays 587,
	 * and the diagnoses reason about 587 */
	c.port = config_mapped_port(&w->base, port);
	if (c.port != port)
		c.role_port = port;
	c.tls = mode;
	struct session *s = session_new(&c);
	config_free(&c);
	session_go(s, RUN_ALL);
	return s;
}

void
sweep_start(struct sweep *w)
{
	if (w->started)
		return;
	w->started = true;
	w->t0 = now_mono();
	for (int i = 0; i < w->n; i++) {
		int at = config_mapped_port(&w->base, w->p[i].port);
		w->p[i].played_by = at != w->p[i].port ? at : 0;
		if (at != w->p[i].port)
			how(&w->p[i], "the lab plays port %d on 127.0.0.1 port %d",
			    w->p[i].port, at);
		w->p[i].state = SWS_IMPLICIT;
		w->p[i].implicit = start_session(w, w->p[i].port, TLSM_IMPLICIT);
	}
}

static struct session *
current(struct sweep_port *p)
{
	switch (p->state) {
	case SWS_IMPLICIT: return p->implicit;
	case SWS_STARTTLS: return p->starttls;
	default: return NULL;
	}
}

int
sweep_pollfds(struct sweep *w, struct pollfd *pfd, int max, double *deadline)
{
	if (max < w->n)
		return -1;
	*deadline = -1;
	for (int i = 0; i < w->n; i++) {
		struct session *s = current(&w->p[i]);
		double dl = -1;
		pfd[i].fd = -1;
		pfd[i].events = pfd[i].revents = 0;
		if (!s)
			continue;
		if (!session_busy(s))
			dl = 0;		/* idle or finished: act at once */
		else
			session_wait(s, &pfd[i], &dl);
		if (dl >= 0 && (*deadline < 0 || dl < *deadline))
			*deadline = dl;
	}
	return w->n;
}

/* ---- verdicts ------------------------------------------------------------ */

/* The first line the server sent during a session, or NULL. */
static const char *
first_server_line(const struct session *s)
{
	for (size_t i = 0; i < s->tr.n; i++)
		if (s->tr.v[i].dir == TR_SERVER)
			return s->tr.v[i].text;
	return NULL;
}

/* Does a line look like an SMTP reply: three digits 2xx-5xx, then a
 * space, a hyphen or the end (RFC 5321 §4.2)? */
static bool
smtp_reply_line(const char *l)
{
	return l && l[0] >= '2' && l[0] <= '5' && isdigit((unsigned char)l[1]) &&
	       isdigit((unsigned char)l[2]) &&
	       (l[3] == ' ' || l[3] == '-' || l[3] == '\0');
}

static void
diag_copy(struct diag_list *dst, const struct diag_list *src)
{
	for (size_t i = 0; i < src->n; i++) {
		const struct diagnosis *d = &src->v[i];
		dst->v = xrealloc(dst->v, (dst->n + 1) * sizeof *dst->v);
		struct diagnosis *c = &dst->v[dst->n++];
		*c = *d;
		c->evidence = xstrdup(d->evidence);
		c->explanation = xstrdup(d->explanation);
		c->fix = xstrdup(d->fix);
		c->path = xmalloc((d->npath ? d->npath : 1) * sizeof *c->path);
		for (size_t k = 0; k < d->npath; k++) {
			c->path[k] = d->path[k];
			c->path[k].answer = xstrdup(d->path[k].answer);
		}
	}
}

static const char *
expected_role(int port, enum sweep_speaks *speaks)
{
	for (size_t i = 0; i < ARRAY_SIZE(port_roles); i++)
		if (port_roles[i].port == port) {
			*speaks = port_roles[i].speaks;
			return port_roles[i].role;
		}
	return NULL;
}

/* The port is decided: fill what the report shows from its probe. */
static void
conclude(struct sweep *w, struct sweep_port *p, struct session *s)
{
	p->probe = s;
	p->state = SWS_DONE;
	p->seconds = now_mono() - w->t0;
	if (!p->diags.n)
		diag_copy(&p->diags, &s->diags);
	if (!p->greeting) {
		for (size_t i = 0; i < s->tr.n; i++)
			if (s->tr.v[i].dir == TR_SERVER && s->tr.v[i].step == STEP_GREETING) {
				p->greeting = xstrdup(s->tr.v[i].text);
				break;
			}
	}
	p->encrypted = s->tls.done;
	p->auth_before_tls = s->facts.auth_before_tls;
	if (s == p->starttls) {
		p->starttls_offered = s->facts.starttls_offered;
		p->starttls_ok = s->tls.done;
	}
	int ehlo_in_tls = s == p->starttls ? STEP_EHLO_TLS : STEP_EHLO;
	bool ehlo_ok = s->status[ehlo_in_tls] == SS_OK || s->status[ehlo_in_tls] == SS_WARN;
	if (s->tls.done && ehlo_ok && s->caps.valid && s->caps.auth && *s->caps.mechs)
		p->auth = xstrdup(s->caps.mechs);
	p->ok = (p->speaks == SPK_SMTP || p->speaks == SPK_TLS) &&
		!diag_has_error(&p->diags);
	p->mode = p->speaks == SPK_TLS ? TLSM_IMPLICIT :
		  p->speaks == SPK_SMTP ? TLSM_STARTTLS : TLSM_NONE;
	bool verified = s->tls.done && s->tls.verified && !s->tls.problems;
	p->usable = p->ok && verified &&
		    (w->purpose == SWEEP_RELAY || p->auth != NULL);
	/* answered by something that is not the server: never usable,
	 * whatever worked through it */
	for (size_t i = 0; i < p->diags.n && !p->intercepted; i++) {
		enum diag_id id = p->diags.v[i].id;
		if (id == D_NET_MIDDLEBOX_BANNER || id == D_TLS_INTERCEPTED) {
			p->intercepted = true;
			p->usable = false;
			how(p, "answered by a middlebox, not by the server (%s): %s",
			    diag_info(id)->id, p->diags.v[i].evidence);
		}
	}

	enum sweep_speaks want = SPK_UNKNOWN;
	const char *role = expected_role(p->port, &want);
	if (role && (p->speaks == SPK_SMTP || p->speaks == SPK_TLS) &&
	    p->speaks != want) {
		p->mode_mismatch = true;
		how(p, "configuration mistake: %d is %s, but it speaks %s", p->port,
		    role, p->speaks == SPK_TLS ? "implicit TLS" : "plaintext SMTP");
	}
	if (p->ok && !p->usable) {
		if (!s->tls.done)
			how(p, "not usable: the connection was never encrypted");
		else if (!verified)
			how(p, "not usable: the certificate was not verified");
		else if (!p->auth && w->purpose == SWEEP_SUBMISSION)
			how(p, "not usable for submission: no AUTH offered inside TLS");
	}
}

/* The implicit-TLS session is over: what did it tell? */
static void
after_implicit(struct sweep *w, struct sweep_port *p)
{
	struct session *s = p->implicit;
	const struct facts *f = &s->facts;
	const char *first = first_server_line(s);
	double t = s->t_end;

	if (f->failed_step < 0 || s->tls.done) {
		/* the handshake worked (the rest may still have failed) */
		p->speaks = SPK_TLS;
		how(p, "implicit-TLS probe: the TLS handshake on connect worked "
		    "(%s, %.3f s): the port speaks implicit TLS", s->tls.version, t);
		conclude(w, p, s);
		return;
	}
	if (f->failed_step == STEP_TLS && f->kind == FK_TLS_NOT_TLS) {
		if (smtp_reply_line(first)) {
			p->speaks = SPK_SMTP;
			p->greeting = xstrdup(first);
			how(p, "implicit-TLS probe: the port answered our TLS "
			    "ClientHello with an SMTP greeting, \"%s\": it speaks "
			    "plaintext SMTP (no extra wait: SMTP servers speak first)",
			    first);
			how(p, "STARTTLS probe: a second connection, plaintext "
			    "SMTP then STARTTLS");
			p->state = SWS_STARTTLS;
			p->starttls = start_session(w, p->port, TLSM_STARTTLS);
			return;
		}
		p->speaks = SPK_OTHER;
		p->greeting = first ? xstrdup(first) : NULL;
		how(p, "implicit-TLS probe: the port answered our TLS ClientHello "
		    "with \"%s\", which is neither TLS nor an SMTP greeting: it "
		    "speaks something else", first ? first : "");
		/* the session's own verdict (tls.expected_starttls) assumed an
		 * SMTP server; decide again as what it is: not SMTP */
		struct facts g = *f;
		g.failed_step = STEP_GREETING;
		g.kind = FK_NOT_SMTP;
		g.tls_mode = TLSM_STARTTLS;
		diag_decide(&g, &p->diags);
		conclude(w, p, s);
		return;
	}
	if (f->failed_step == STEP_TLS && f->kind == FK_TLS_CLOSED && !first) {
		how(p, "implicit-TLS probe: the port hung up on our TLS ClientHello "
		    "without a word; trying plaintext SMTP on a second connection");
		p->state = SWS_STARTTLS;
		p->starttls = start_session(w, p->port, TLSM_STARTTLS);
		return;
	}
	switch (f->failed_step) {
	case STEP_RESOLVE:
		p->speaks = SPK_NOTHING;
		how(p, "the host name could not be resolved");
		break;
	case STEP_CONNECT:
		p->speaks = SPK_NOTHING;
		how(p, "no TCP connection: %s (%.3f s)", fail_kind_name(f->kind), t);
		if (f->kind == FK_TIMEOUT)
			how(p, "a timeout, not a refusal: packets are likely dropped "
			    "by a firewall on the way%s", p->port == 25 ?
			    " (outbound port 25 is blocked by most cloud and "
			    "residential networks)" : "");
		break;
	case STEP_TLS:
		if (f->kind == FK_TIMEOUT) {
			p->speaks = SPK_NOTHING;
			how(p, "connected, but no word within %.0f s: neither an SMTP "
			    "greeting nor an answer to our TLS ClientHello",
			    s->cfg.timeout);
		} else {
			/* a TLS answer that went wrong: it does speak TLS */
			p->speaks = SPK_TLS;
			how(p, "implicit-TLS probe: the port answered in TLS, but the "
			    "handshake failed: %s", fail_kind_name(f->kind));
		}
		break;
	default:
		p->speaks = SPK_TLS;
		how(p, "implicit-TLS probe: TLS worked, then the %s step failed",
		    step_name(f->failed_step));
	}
	conclude(w, p, s);
}

static void
after_starttls(struct sweep *w, struct sweep_port *p)
{
	struct session *s = p->starttls;
	const struct facts *f = &s->facts;
	if (p->speaks == SPK_UNKNOWN) {		/* the second chance */
		const char *first = first_server_line(s);
		p->speaks = smtp_reply_line(first) ? SPK_SMTP :
			    first ? SPK_OTHER : SPK_NOTHING;
		how(p, "STARTTLS probe: %s", p->speaks == SPK_SMTP ?
		    "an SMTP greeting on the plaintext connection" :
		    p->speaks == SPK_OTHER ? "something that is not SMTP" :
		    "not a word either");
	}
	if (s->tls.done)
		how(p, "STARTTLS offered and the upgrade worked (%s, %.3f s)",
		    s->tls.version, s->t_end);
	else if (f->failed_step == STEP_STARTTLS)
		how(p, "STARTTLS: %s", f->kind == FK_NOT_OFFERED ?
		    "not offered in the EHLO reply" : fail_kind_name(f->kind));
	else if (f->failed_step >= 0)
		how(p, "STARTTLS probe: the %s step failed (%s)",
		    step_name(f->failed_step), fail_kind_name(f->kind));
	conclude(w, p, s);
}

static void compute_advice(struct sweep *w);

void
sweep_handle(struct sweep *w, const struct pollfd *pfd, int n)
{
	if (!w->started || w->done)
		return;
	for (int i = 0; i < w->n; i++) {
		struct sweep_port *p = &w->p[i];
		struct session *s = current(p);
		if (!s)
			continue;
		if (!s->finished) {
			if (!session_busy(s))
				session_go(s, RUN_ALL);
			else
				session_handle(s, i < n ? pfd[i].revents : 0);
		}
		if (!s->finished)
			continue;
		if (p->state == SWS_IMPLICIT)
			after_implicit(w, p);
		else
			after_starttls(w, p);
	}
	for (int i = 0; i < w->n; i++)
		if (w->p[i].state != SWS_DONE)
			return;
	w->done = true;
	w->t_end = now_mono() - w->t0;
	compute_advice(w);
}

bool
sweep_done(const struct sweep *w)
{
	return w->done;
}

bool
sweep_none_answered(const struct sweep *w)
{
	int n;
	const struct sweep_port *p = sweep_ports(w, &n);
	for (int i = 0; i < n; i++)
		if (p[i].speaks != SPK_NOTHING)
			return false;
	return true;
}

void
sweep_run(struct sweep *w)
{
	sweep_start(w);
	while (!sweep_done(w)) {
		struct pollfd pfd[SWEEP_MAX_PORTS];
		double deadline;
		int n = sweep_pollfds(w, pfd, SWEEP_MAX_PORTS, &deadline);
		int ms = -1;
		if (deadline >= 0) {
			double left = deadline - now_mono();
			ms = left <= 0 ? 0 : (int)(left * 1000) + 1;
		}
		if (poll(pfd, (nfds_t)n, ms) < 0)
			for (int i = 0; i < n; i++)
				pfd[i].revents = 0;	/* EINTR: a deadline check */
		sweep_handle(w, pfd, n);
	}
}

const struct sweep_port *
sweep_ports(const struct sweep *w, int *n)
{
	*n = w->n;
	return w->p;
}

const struct sweep_advice *
sweep_advice(const struct sweep *w)
{
	return w->done ? &w->advice : NULL;
}

const char *
sweep_host(const struct sweep *w)
{
	return w->base.host ? w->base.host : "";
}

double
sweep_seconds(const struct sweep *w)
{
	if (!w->started)
		return 0;
	return w->done ? w->t_end : now_mono() - w->t0;
}

double
sweep_timeout(const struct sweep *w)
{
	return w->base.timeout > 0 ? w->base.timeout : 15;
}

int
sweep_exit_status(const struct sweep *w)
{
	return w->done && w->advice.port ? 0 : 1;
}

/* ---- network patterns ------------------------------------------------------ */

/*
 * Which ports a network drops says who is in the way.  Facts from
 * ../shared/PROVIDERS.md §3 (outbound port filtering by cloud), whose
 * sources are repeated with each pattern.  A pattern matches when the
 * ports filtered (no answer at all, not even a refusal) are exactly its
 * set and the submission ports it leaves open answered.
 */
static const struct net_pattern {
	const char *id;
	int filtered[4];	/* exactly these, 0-terminated */
	int open;		/* a port that must have answered, 0: none */
	const char *why;
} net_patterns[] = {
	{ "25-filtered", { 25 }, 0,
	  "Only port 25 is filtered. Most residential ISPs and clouds block "
	  "outbound port 25 while leaving the submission ports open (AWS EC2 "
	  "throttles it by default, Google Cloud blocks it, Azure by "
	  "subscription type, DigitalOcean restricts it): submit on 587 or 465; "
	  "25 is for server-to-server relay [AWS SES \"Connecting to an SMTP "
	  "endpoint\"; gitlab-foss!23275; azure-docs "
	  "troubleshoot-outbound-smtp-connectivity]." },
	{ "25-465-filtered", { 25, 465 }, 587,
	  "Ports 25 and 465 are filtered while 587 answers: the pattern of "
	  "Hetzner Cloud, which blocks both upstream of the server (its own "
	  "firewall looks clean). Use 587 with STARTTLS, or ask the provider "
	  "to lift the block [Hetzner: orion commit 1227567d, 2026-05-30; "
	  "Hetzner's own page unconfirmed]." },
	{ "25-465-587-filtered", { 25, 465, 587 }, 0,
	  "Ports 25, 465 and 587 are all filtered: the pattern of Linode/Akamai "
	  "accounts created since November 2019 (and of Cloudzy). Use the mail "
	  "provider's high fallback port: 2525 (SendGrid, Mailgun, Postmark, "
	  "Brevo, SparkPost, Mailjet) or 2587/2465 (Amazon SES, Resend), or ask "
	  "the cloud to lift the block [Linode, \"A New Policy to Help Fight "
	  "Spam\"; cloudzy.com/kb/smtp-ports-on-cloudzy-servers]." },
};

const char *
sweep_reach_name(enum sweep_reach r)
{
	switch (r) {
	case REACH_REFUSED: return "refused";
	case REACH_FILTERED: return "filtered";
	case REACH_RESET: return "reset";
	case REACH_UNREACHABLE: return "unreachable";
	case REACH_INTERCEPTED: return "intercepted";
	default: return "answered";
	}
}

/* How the network treated p, from what the probe saw. */
static enum sweep_reach
reach_of(const struct sweep_port *p)
{
	if (p->intercepted)
		return REACH_INTERCEPTED;
	if (p->speaks != SPK_NOTHING)
		return REACH_ANSWERED;
	for (size_t i = 0; i < p->diags.n; i++) {
		const struct diagnosis *d = &p->diags.v[i];
		if (d->sev != SEV_ERROR)
			continue;
		const char *id = diag_info(d->id)->id;
		if (!strcmp(id, "connect.refused"))
			return REACH_REFUSED;
		if (!strcmp(id, "connect.timeout") ||
		    !strcmp(id, "connect.port25_blocked"))
			return REACH_FILTERED;
		if (!strcmp(id, "connect.unreachable"))
			return REACH_UNREACHABLE;
		if (!strcmp(id, "session.closed") && d->step == STEP_GREETING)
			return REACH_RESET;
		break;
	}
	return REACH_ANSWERED;	/* connected, and silent: not the network */
}

static bool
port_in(int port, const int *set)
{
	for (int i = 0; i < 4 && set[i]; i++)
		if (set[i] == port)
			return true;
	return false;
}

/* Recognise the network's pattern; fills a->network and a->network_why. */
static void
network_pattern(struct sweep *w, struct sweep_advice *a)
{
	int filtered = 0, probed = w->n;
	for (int i = 0; i < w->n; i++) {
		w->p[i].reach = reach_of(&w->p[i]);
		filtered += w->p[i].reach == REACH_FILTERED;
	}
	a->network = NULL;
	a->network_why = NULL;
	if (!filtered)
		return;
	if (filtered == probed && probed > 1) {
		a->network = "all-filtered";
		a->network_why = xstrdup("Every port probed is filtered: something "
			"on the way drops all traffic to this host, or the host "
			"is down. Check the address, the local firewall, or try "
			"from another network.");
		return;
	}
	for (size_t k = 0; k < ARRAY_SIZE(net_patterns); k++) {
		const struct net_pattern *np = &net_patterns[k];
		bool match = true, open_ok = !np->open, any_open = false;
		int covered = 0;
		for (int i = 0; i < w->n && match; i++) {
			const struct sweep_port *p = &w->p[i];
			bool want = port_in(p->port, np->filtered);
			if (want)
				covered++;
			if (want != (p->reach == REACH_FILTERED))
				match = false;
			if (p->reach == REACH_ANSWERED) {
				any_open = true;
				if (p->port == np->open)
					open_ok = true;
			}
		}
		int need = 0;
		while (need < 4 && np->filtered[need])
			need++;
		if (match && open_ok && covered == need && (any_open || need == 3)) {
			a->network = np->id;
			a->network_why = xstrdup(np->why);
			return;
		}
	}
}

/* ---- the advice ---------------------------------------------------------- */

static bool
named_port(int port, enum sweep_purpose purpose)
{
	for (size_t i = 0; i < ARRAY_SIZE(policy); i++)
		if (policy[i].purpose == purpose && policy[i].port == port)
			return true;
	return false;
}

static bool
row_matches(const struct policy_row *r, const struct sweep_port *p,
	    enum sweep_purpose purpose)
{
	if (r->purpose != purpose)
		return false;
	if (r->port == PORT_OTHER ? named_port(p->port, purpose) : r->port != p->port)
		return false;
	if (r->speaks != SPK_UNKNOWN && r->speaks != p->speaks)
		return false;
	if (r->never)
		return true;
	if (!p->ok)
		return false;
	if ((r->require & REQ_TLS) && !p->encrypted)
		return false;
	if ((r->require & REQ_VERIFIED) && !p->usable)
		return false;
	if ((r->require & REQ_AUTH) && !p->auth)
		return false;
	return true;
}

static const struct policy_row *
never_row(const struct sweep_port *p, enum sweep_purpose purpose)
{
	for (size_t i = 0; i < ARRAY_SIZE(policy); i++)
		if (policy[i].never && row_matches(&policy[i], p, purpose))
			return &policy[i];
	return NULL;
}

/* One port in a few words: what works, or the first thing that failed. */
static void
describe_port(struct buf *b, const struct sweep_port *p)
{
	if (p->ok) {
		buf_printf(b, "%s", p->speaks == SPK_TLS ? "implicit TLS" : "STARTTLS");
		if (p->encrypted && p->probe)
			buf_printf(b, ", %s, certificate %s", p->probe->tls.version,
				   p->probe->tls.verified ? "verified" : "NOT verified");
		if (p->auth)
			buf_printf(b, ", AUTH %s inside TLS", p->auth);
		else
			buf_adds(b, ", no AUTH inside TLS");
		return;
	}
	for (size_t i = 0; i < p->diags.n; i++) {
		const struct diagnosis *d = &p->diags.v[i];
		if (d->sev != SEV_ERROR)
			continue;
		const struct diag_info *di = diag_info(d->id);
		buf_printf(b, "%s (%s)", di->title, di->id);
		return;
	}
	buf_printf(b, "speaks %s", sweep_speaks_name(p->speaks));
}

/* The rule of the team's policy that rules port p out, or NULL. */
static const char *
policy_refuses(const struct sweep *w, const struct sweep_port *p)
{
	const struct team_policy *pol = w->policy;
	if (!pol)
		return NULL;
	bool port_ok = !pol->nports;
	for (int i = 0; i < pol->nports; i++)
		port_ok |= pol->ports[i] == p->port;
	if (!port_ok)
		return "allow-ports";
	enum tls_mode m = p->speaks == SPK_TLS ? TLSM_IMPLICIT : TLSM_STARTTLS;
	if (pol->tls_modes && !(pol->tls_modes & (1u << m)))
		return "tls";
	if (pol->min_tls && p->probe && p->probe->tls.version_num &&
	    p->probe->tls.version_num < pol->min_tls)
		return "min-tls";
	if (pol->mechs && p->auth) {
		bool any = false;
		char words[512];
		snprintf(words, sizeof words, "%s", p->auth);
		for (char *t = strtok(words, " "); t; t = strtok(NULL, " ")) {
			char base[40];
			snprintf(base, sizeof base, "%s", t);
			size_t n = strlen(base);
			if (n > 5 && !strcasecmp(base + n - 5, "-PLUS"))
				base[n - 5] = '\0';
			int mech = auth_mech_from_name(base);
			any |= mech > 0 && (pol->mechs & (1u << mech));
		}
		if (!any)
			return "auth";
	}
	return NULL;
}

/* A usable port the provider of the swept host lists first (Yahoo and
 * Fastmail put 465 first, for instance): the provider's own advice wins
 * over the general table. */
static const struct sweep_port *
provider_choice(const struct sweep *w, const struct provider *pv)
{
	if (!pv || w->purpose != SWEEP_SUBMISSION)
		return NULL;
	for (int i = 0; i < w->n; i++) {
		const struct sweep_port *p = &w->p[i];
		if (p->port == pv->ports[0].port && p->usable && p->auth &&
		    p->mode == pv->ports[0].mode && !never_row(p, w->purpose) &&
		    !policy_refuses(w, p))
			return p;
	}
	return NULL;
}

/*
 * What the certificates of all ports say together: a host presents one
 * certificate authority's certificates on every port, so different
 * issuers on one host point to a proxy on some of them; and a provider's
 * host whose certificates fail with an unknown issuer on every port is
 * most likely behind TLS interception on this network.
 */
static void
tls_notes(const struct sweep *w, const struct provider *pv, struct buf *b)
{
	const char *first = NULL;
	int nfirst = 0, ntls = 0, nunknown = 0;
	bool differ = false;
	for (int i = 0; i < w->n; i++) {
		const struct sweep_port *p = &w->p[i];
		const struct session *s = p->probe;
		if (!s || !s->tls.nchain || !s->tls.chain[0].issuer)
			continue;
		ntls++;
		nunknown += (s->tls.problems & CP_UNTRUSTED) != 0;
		if (!first) {
			first = s->tls.chain[0].issuer;
			nfirst = p->port;
		} else if (strcmp(first, s->tls.chain[0].issuer)) {
			if (!differ)
				buf_printf(b, " Certificates: the ports present "
					   "certificates from different issuers "
					   "(%d: %s", nfirst, first);
			buf_printf(b, "; %d: %s", p->port, s->tls.chain[0].issuer);
			differ = true;
		}
	}
	if (differ)
		buf_adds(b, "). A server uses one certificate on all its ports: a "
			 "proxy may answer some of them (TLS interception).");
	if (pv && ntls && nunknown == ntls && !w->base.cafile)
		buf_printf(b, " Every port's certificate fails verification with an "
			   "unknown issuer (%s), yet %s's certificates chain to "
			   "public authorities: TLS interception on this network "
			   "is likely.", first, pv->title);
}

static void
compute_advice(struct sweep *w)
{
	struct sweep_advice *a = &w->advice;
	const struct sweep_port *chosen = NULL;
	const struct policy_row *row = NULL;

	/* the provider: by the host name, else by the MX name, the
	 * greeting or the EHLO name a port answered with */
	const struct provider *pv = provider_by_host(w->base.host);
	for (int i = 0; !pv && i < w->n; i++)
		if (w->p[i].probe)
			pv = session_provider(w->p[i].probe);
	const struct sweep_port *pchoice = provider_choice(w, pv);
	for (size_t r = 0; r < ARRAY_SIZE(policy) && !chosen; r++) {
		if (policy[r].never)
			continue;
		for (int i = 0; i < w->n; i++) {
			const struct sweep_port *p = &w->p[i];
			if (never_row(p, w->purpose) || policy_refuses(w, p))
				continue;
			if (pchoice && p != pchoice)
				continue;
			if (row_matches(&policy[r], p, w->purpose)) {
				chosen = p;
				row = &policy[r];
				break;
			}
		}
	}

	struct buf b = { 0 };
	if (chosen) {
		a->port = chosen->port;
		a->mode = chosen->mode;
		a->rule = row->id;
		buf_printf(&b, "Use port %d with %s: %s.", chosen->port,
			   chosen->mode == TLSM_IMPLICIT ? "implicit TLS" : "STARTTLS",
			   row->why);
		if (pchoice)
			buf_printf(&b, " %s lists this port first (%s).", pv->title,
				   pv->sources);
		buf_printf(&b, " It answered in %.2f s: ", chosen->seconds);
		describe_port(&b, chosen);
		buf_adds(&b, ".");
	} else {
		a->port = 0;
		a->mode = TLSM_NONE;
		a->rule = NULL;
		char count[32];
		if (w->n == 1)
			snprintf(count, sizeof count, "the port never");
		else
			snprintf(count, sizeof count, "none of the %d ports", w->n);
		buf_printf(&b, "No port can be recommended: %s answered with "
			   "working TLS, a verified certificate%s%s.", count,
			   w->purpose == SWEEP_SUBMISSION ? " and AUTH inside TLS" : "",
			   w->policy ? " within the team's policy" : "");
	}
	bool any = false;
	for (int i = 0; i < w->n; i++) {
		const struct sweep_port *p = &w->p[i];
		if (p == chosen)
			continue;
		buf_adds(&b, any ? " " : (chosen ? " The other ports: " : " "));
		any = true;
		buf_printf(&b, "%d: ", p->port);
		const struct policy_row *nv = never_row(p, w->purpose);
		const char *refused = policy_refuses(w, p);
		if (p->usable && !nv && refused) {
			buf_printf(&b, "works, but the policy (%s) rules it out "
				   "(rule %s): ", w->policy->file ? w->policy->file :
				   "--policy", refused);
			describe_port(&b, p);
			buf_adds(&b, ".");
			continue;
		}
		if (p->usable && !nv)
			buf_adds(&b, "works too, but comes later in the policy (");
		describe_port(&b, p);
		if (p->usable && !nv)
			buf_adds(&b, ")");
		if (p->ok && !p->usable)
			buf_adds(&b, p->encrypted ? (p->probe && !p->probe->tls.verified ?
				 ", so not trusted" : ", so not for submission")
				 : ", never encrypted");
		if (p->intercepted && p->ok)
			buf_adds(&b, "; but a middlebox answered in the server's "
				 "place, so it is not recommended");
		if (p->mode_mismatch) {
			enum sweep_speaks want = SPK_UNKNOWN;
			const char *role = expected_role(p->port, &want);
			buf_printf(&b, "; a configuration mistake: %d is %s but speaks %s",
				   p->port, role, p->speaks == SPK_TLS ?
				   "implicit TLS" : "plaintext SMTP");
		}
		if (nv)
			buf_printf(&b, "; and %s", nv->why);
		buf_adds(&b, ".");
	}
	network_pattern(w, a);
	if (a->network_why)
		buf_printf(&b, " Network: %s", a->network_why);
	tls_notes(w, pv, &b);
	a->why = buf_steal(&b);
}

/* run.c - one session to its end, on a poll() loop of its own. */
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "provider.h"
#include "run.h"
#include "sweep.h"
#include "util.h"

void
session_run(struct session *s,
	    void (*on_line)(const struct tr_line *l, void *arg), void *arg)
{
	size_t shown = 0;
	session_go(s, RUN_ALL);
	for (;;) {
		if (on_line)
			for (; shown < s->tr.n; shown++)
				on_line(&s->tr.v[shown], arg);
		if (s->finished)
			break;
		if (!session_busy(s)) {
			session_go(s, RUN_ALL);
			continue;
		}
		struct pollfd p;
		double deadline;
		session_wait(s, &p, &deadline);
		int ms = -1;
		if (deadline >= 0) {
			double left = deadline - now_mono();
			ms = left <= 0 ? 0 : (int)(left * 1000) + 1;
		}
		int rc = poll(&p, p.fd >= 0 ? 1 : 0, ms);
		session_handle(s, rc > 0 ? p.revents : 0);
	}
}

/* ---- the other submission ports, in parallel ----------------------------- */

/* Did the session fail to reach the server on its port at all? */
static const struct diagnosis *
unreachable(const struct session *s)
{
	static const char *const ids[] = {
		"connect.refused", "connect.timeout", "connect.port25_blocked",
		"connect.unreachable", "greeting.timeout",
	};
	for (size_t i = 0; i < s->diags.n; i++) {
		const struct diagnosis *d = &s->diags.v[i];
		if (d->sev != SEV_ERROR)
			continue;
		for (size_t k = 0; k < ARRAY_SIZE(ids); k++)
			if (!strcmp(diag_info(d->id)->id, ids[k]))
				return d;
		return NULL;
	}
	return NULL;
}

static struct sweep *
start_alternatives(const struct session *s, const struct config *cfg)
{
	int ports[8];
	/* the lab's mail host: the number the session's port plays */
	int failed = config_role_port(cfg);
	for (int i = 0; i < cfg->nportmap; i++)
		if (cfg->portmap[i].port == config_port(cfg))
			failed = cfg->portmap[i].role;
	int n = provider_alt_ports(cfg->host, failed, ports, 8);
	if (!n)
		return NULL;
	struct sweep *w = sweep_new(cfg, ports, n, SWEEP_SUBMISSION);
	sweep_start(w);
	(void)s;
	return w;
}

/*
 * Once the session has ended, the first port (in the order of preference)
 * that works cannot be beaten by one still being probed after it: no need
 * to wait for those (a dropped port costs the whole timeout).  NULL while
 * a better-placed port is still open to question, or under a policy
 * (whose order is its own).
 */
static const struct sweep_port *
early_winner(const struct sweep *w, const struct config *cfg)
{
	if (cfg->policy)
		return NULL;
	int n;
	const struct sweep_port *p = sweep_ports(w, &n);
	for (int i = 0; i < n; i++) {
		if (p[i].state != SWS_DONE)
			return NULL;
		if (p[i].usable && !p[i].intercepted && p[i].mode != TLSM_NONE)
			return &p[i];
	}
	return NULL;
}

/* Say in the failure's fix what the other ports did. */
static void
annotate(struct session *s, const struct sweep *w, const struct config *cfg)
{
	struct diagnosis *d = (struct diagnosis *)unreachable(s);
	if (!d)
		return;
	const struct sweep_advice *a = sweep_advice(w);
	const struct sweep_port *win = a ? NULL : early_winner(w, cfg);
	int port = a ? a->port : win ? win->port : 0;
	enum tls_mode mode = a ? a->mode : win ? win->mode : TLSM_NONE;
	int n;
	const struct sweep_port *p = sweep_ports(w, &n);
	struct buf b = { 0 };
	if (port) {
		buf_printf(&b, " From here, port %d answers with %s (probed in "
			   "parallel with this session): use -p %d --tls %s.",
			   port, mode == TLSM_IMPLICIT ? "implicit TLS" :
			   "STARTTLS", port, tls_mode_name(mode));
	} else {
		buf_adds(&b, " The other submission ports were probed in parallel "
			 "and none works from here either (");
		for (int i = 0; i < n; i++)
			buf_printf(&b, "%s%d %s", i ? ", " : "", p[i].port,
				   sweep_reach_name(p[i].reach));
		buf_adds(&b, "): the network or the host is in the way, not the "
			 "port.");
	}
	char *fix = xasprintf("%s%s", d->fix ? d->fix : "", b.data);
	free(d->fix);
	d->fix = fix;
	buf_free(&b);
}

/* The steps whose slowness may mean the port is the wrong one. */
static bool
slow_step(const struct session *s)
{
	return s->cur == STEP_CONNECT || s->cur == STEP_GREETING;
}

void
session_run_alt(struct session *s, const struct config *cfg,
		void (*on_line)(const struct tr_line *l, void *arg), void *arg)
{
	size_t shown = 0;
	struct sweep *w = NULL;
	/* not against a lab (its CA in memory) unless it is the lab's mail
	 * host, whose other ports are its own listeners */
	bool alt_ok = !cfg->probe && !cfg->mx && (!cfg->ca_pem || cfg->nportmap) &&
		      cfg->host;

	session_go(s, RUN_ALL);
	for (;;) {
		if (on_line)
			for (; shown < s->tr.n; shown++)
				on_line(&s->tr.v[shown], arg);
		if (s->finished) {
			if (w && !unreachable(s))
				break;	/* reached after all: no need */
			if (!w && alt_ok && unreachable(s))
				w = start_alternatives(s, cfg);
			if (!w || sweep_done(w) || early_winner(w, cfg))
				break;
		} else if (!session_busy(s)) {
			session_go(s, RUN_ALL);
			continue;
		} else if (!w && alt_ok && slow_step(s) &&
			   now_mono() - session_step_started(s) > 1.0) {
			/* a slow connect or greeting: look at the other ports
			 * meanwhile, so that their answer costs no extra wait */
			w = start_alternatives(s, cfg);
		}
		struct pollfd pfd[1 + SWEEP_MAX_PORTS];
		double deadline = -1, dl;
		int np = 0;
		if (!s->finished) {
			session_wait(s, &pfd[0], &deadline);
			np = 1;
		}
		int nw = 0;
		if (w && !sweep_done(w)) {
			nw = sweep_pollfds(w, pfd + np, SWEEP_MAX_PORTS, &dl);
			if (nw < 0)
				nw = 0;
			if (dl >= 0 && (deadline < 0 || dl < deadline))
				deadline = dl;
		}
		if (!s->finished && slow_step(s) && !w && alt_ok) {
			double at = session_step_started(s) + 1.0;
			if (deadline < 0 || at < deadline)
				deadline = at;
		}
		int ms = -1;
		if (deadline >= 0) {
			double left = deadline - now_mono();
			ms = left <= 0 ? 0 : (int)(left * 1000) + 1;
		}
		for (int i = 0; i < np + nw; i++)
			pfd[i].revents = 0;
		int rc = poll(pfd, (nfds_t)(np + nw), ms);
		if (!s->finished)
			session_handle(s, rc > 0 && np ? pfd[0].revents : 0);
		if (nw)
			sweep_handle(w, pfd + np, nw);
	}
	if (w) {
		if (sweep_done(w) || early_winner(w, cfg))
			annotate(s, w, cfg);
		sweep_free(w);
	}
	if (on_line)
		for (; shown < s->tr.n; shown++)
			on_line(&s->tr.v[shown], arg);
}

/* report.c - batch text and the JSON report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "report.h"
#include "util.h"

#define C_RESET "\033[0m"
#define C_DIM   "\033[2m"
#define C_BOLD  "\033[1m"
#define C_RED   "\033[31m"
#define C_GREEN "\033[32m"
#define C_YELLOW "\033[33m"
#define C_CYAN  "\033[36m"

static const char *
col(bool on, const char *c)
{
	return on ? c : "";
}

void
report_line(FILE *out, const struct tr_line *l, bool color)
{
	const char *mark, *c;
	switch (l->dir) {
	case TR_CLIENT:
		mark = l->tls ? " ~> " : " -> ";
		c = C_CYAN;
		break;
	case TR_SERVER:
		mark = l->tls ? "<~  " : "<-  ";
		c = "";
		break;
	default:
		mark = "=== ";
		c = C_DIM;
	}
	fprintf(out, "%s%s%s%s", col(color, c), mark, l->text, col(color && *c, C_RESET));
	/* the session marked it: out of step, worth seeing in plain text */
	if (l->unsolicited)
		fprintf(out, "  %s[no command asked for this line]%s", col(color, C_RED),
			col(color, C_RESET));
	fputc('\n', out);
}

/* Display width of a UTF-8 string (our text is valid UTF-8). */
static int
text_width(const char *s, size_t n)
{
	int w = 0;
	for (size_t i = 0; i < n;) {
		unsigned cp;
		int len = utf8_seq((const unsigned char *)s + i, n - i, &cp);
		if (len <= 0) {
			len = 1;
			cp = '?';
		}
		int cw = wcwidth((wchar_t)cp);
		w += cw > 0 ? cw : 0;
		i += (size_t)len;
	}
	return w;
}

void
report_wrap(FILE *out, const char *text, int indent, int width)
{
	/* paragraphs split on '\n'; words on spaces */
	const char *p = text;
	int col0 = indent;
	bool first_line = true;
	while (*p) {
		const char *nl = strchr(p, '\n');
		const char *end = nl ? nl : p + strlen(p);
		int at = 0;
		if (!first_line)
			fprintf(out, "%*s", col0, "");
		while (p < end) {
			while (p < end && *p == ' ')
				p++;
			const char *w = p;
			while (p < end && *p != ' ')
				p++;
			if (p == w)
				break;
			int ww = text_width(w, (size_t)(p - w));
			if (at > 0 && col0 + at + 1 + ww > width) {
				fprintf(out, "\n%*s", col0, "");
				at = 0;
			}
			if (at > 0) {
				fputc(' ', out);
				at++;
			}
			fwrite(w, 1, (size_t)(p - w), out);
			at += ww;
		}
		fputc('\n', out);
		first_line = false;
		if (!nl)
			break;
		p = nl + 1;
	}
	if (first_line)
		fputc('\n', out);
}

static const char *
status_mark(enum step_status st, bool color, const char **c)
{
	switch (st) {
	case SS_OK: *c = C_GREEN; return "ok  ";
	case SS_WARN: *c = C_YELLOW; return "warn";
	case SS_FAIL: *c = C_RED; return "FAIL";
	case SS_SKIPPED: *c = C_DIM; return "skip";
	case SS_RUNNING: *c = C_YELLOW; return "... ";
	default: *c = C_DIM; return "    ";
	}
}

void
report_diagnosis(FILE *out, const struct diagnosis *d, bool color, bool path)
{
	const struct diag_info *di = diag_info(d->id);
	const char *c = d->sev == SEV_ERROR ? C_RED :
			d->sev == SEV_WARNING ? C_YELLOW : C_CYAN;
	const char *mark = d->sev == SEV_ERROR ? "x" :
			   d->sev == SEV_WARNING ? "!" : "i";

	fprintf(out, "%s[%s] %s%s  %s (%s, at step %s)\n", col(color, c), mark,
		col(color, C_BOLD), di->title, di->id, severity_name(d->sev),
		diag_step_name(d));
	fputs(col(color, C_RESET), out);
	if (*d->evidence) {
		fputs("  evidence: ", out);
		report_wrap(out, d->evidence, 12, 100);
	}
	fputs("  what:     ", out);
	report_wrap(out, d->explanation, 12, 78);
	fputs("  fix:      ", out);
	report_wrap(out, d->fix, 12, 78);
	if (*di->rfc)
		fprintf(out, "  see:      %s\n", di->rfc);
	if (!path)
		return;
	fputs("  path:     ", out);
	struct buf b = { 0 };
	for (size_t k = 0; k < d->npath; k++)
		buf_printf(&b, "%s%s=%s", k ? " > " : "", d->path[k].node,
			   d->path[k].answer);
	buf_printf(&b, " > %s", di->id);
	report_wrap(out, b.data, 12, 100);
	buf_free(&b);
}

void
report_summary(FILE *out, const struct session *s, bool color)
{
	fprintf(out, "\n%s--- steps%s\n", col(color, C_BOLD), col(color, C_RESET));
	for (int st = 0; st < STEP_COUNT; st++) {
		const char *c;
		const char *m = status_mark(s->status[st], color, &c);
		if (s->status[st] == SS_SKIPPED || s->status[st] == SS_PENDING)
			fprintf(out, "  %s%s%s  %-9s\n", col(color, c), m,
				col(color, C_RESET), step_name(st));
		else
			fprintf(out, "  %s%s%s  %-9s %8.3f s  %s\n", col(color, c), m,
				col(color, C_RESET), step_name(st), s->seconds[st],
				step_title(st));
	}
	if (s->tls.done)
		fprintf(out, "  TLS: %s %s, certificate %s\n", s->tls.version,
			s->tls.cipher, s->tls.verified ? "verified" : "NOT verified");

	fprintf(out, "\n%s--- diagnosis%s\n", col(color, C_BOLD), col(color, C_RESET));
	if (s->diags.n == 0)
		fprintf(out, "  %sAll good:%s every step worked and nothing needs "
			"attention.\n", col(color, C_GREEN), col(color, C_RESET));
	for (size_t i = 0; i < s->diags.n; i++) {
		report_diagnosis(out, &s->diags.v[i], color, true);
		fputc('\n', out);
	}
	int rc = session_exit_status(s);
	fprintf(out, "result: %s%s%s (%.3f s)\n",
		col(color, rc ? C_RED : C_GREEN), rc ? "fail" : "ok",
		col(color, C_RESET), s->t_end);
}

static void
json_kv_str(struct buf *b, const char *k, const char *v, bool comma)
{
	json_string(b, k);
	buf_addc(b, ':');
	if (v)
		json_string(b, v);
	else
		buf_adds(b, "null");
	if (comma)
		buf_addc(b, ',');
}

/* A transcript line's structure (CONTRACT.md keys are never renamed;
 * these are added): C lines "verb"; S lines "answers" (the verb of the
 * command answered, "greeting" for the greeting), "answers_index" (that
 * command's index in the transcript), "code", "enhanced", "capability",
 * and "unsolicited": true for lines no command asked for. */
static void
json_line_structure(struct buf *b, const struct tr_line *l)
{
	if (l->dir == TR_CLIENT && *l->verb)
		json_kv_str(b, "verb", l->verb, true);
	if (l->dir != TR_SERVER)
		return;
	if (*l->verb)
		json_kv_str(b, "answers", l->verb, true);
	if (l->answers >= 0)
		buf_printf(b, "\"answers_index\":%ld,", l->answers);
	if (l->code)
		buf_printf(b, "\"code\":%d,", l->code);
	if (*l->enhanced)
		json_kv_str(b, "enhanced", l->enhanced, true);
	if (*l->capability)
		json_kv_str(b, "capability", l->capability, true);
	if (l->unsolicited)
		buf_adds(b, "\"unsolicited\":true,");
}

static void
json_cert(struct buf *b, const struct cert_info *c)
{
	buf_addc(b, '{');
	json_kv_str(b, "subject", c->subject, true);
	json_kv_str(b, "issuer", c->issuer, true);
	json_kv_str(b, "not_before", c->not_before, true);
	json_kv_str(b, "not_after", c->not_after, true);
	json_string(b, "names");
	buf_adds(b, ":[");
	for (size_t i = 0; i < c->nnames; i++) {
		if (i)
			buf_addc(b, ',');
		json_string(b, c->names[i]);
	}
	buf_adds(b, "],");
	json_kv_str(b, "key", c->key, true);
	json_kv_str(b, "signature", c->sig, true);
	json_kv_str(b, "sha256", c->sha256, false);
	buf_addc(b, '}');
}

static void
json_tls(struct buf *b, const struct tls_info *t)
{
	if (!t->done) {
		buf_adds(b, "null");
		return;
	}
	buf_addc(b, '{');
	json_kv_str(b, "version", t->version, true);
	json_kv_str(b, "cipher", t->cipher, true);
	json_kv_str(b, "group", t->kx, true);
	buf_printf(b, "\"verified\":%s,", t->verified ? "true" : "false");
	json_kv_str(b, "verdict", t->verdict, true);
	buf_adds(b, "\"peer_certificate\":");
	if (t->nchain)
		json_cert(b, &t->chain[0]);
	else
		buf_adds(b, "null");
	buf_adds(b, ",\"chain\":[");
	for (size_t i = 0; i < t->nchain; i++) {
		if (i)
			buf_addc(b, ',');
		json_cert(b, &t->chain[i]);
	}
	buf_adds(b, "]}");
}

static void json_diag_items(struct buf *b, const struct diag_list *l,
			    bool *first);

void
report_json_diags(struct buf *b, const struct diag_list *l)
{
	bool first = true;
	buf_addc(b, '[');
	json_diag_items(b, l, &first);
	buf_addc(b, ']');
}

/* The items of l, each preceded by a comma unless *first. */
static void
json_diag_items(struct buf *b, const struct diag_list *l, bool *first)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct diagnosis *d = &l->v[i];
		const struct diag_info *di = diag_info(d->id);
		if (!*first)
			buf_addc(b, ',');
		*first = false;
		buf_addc(b, '{');
		json_kv_str(b, "id", di->id, true);
		json_kv_str(b, "severity", severity_name(d->sev), true);
		json_kv_str(b, "step", diag_step_name(d), true);
		json_kv_str(b, "title", di->title, true);
		json_kv_str(b, "explanation", d->explanation, true);
		json_kv_str(b, "fix", d->fix, true);
		json_kv_str(b, "rfc", di->rfc, true);
		json_kv_str(b, "evidence", d->evidence, true);
		buf_adds(b, "\"path\":[");
		for (size_t k = 0; k < d->npath; k++) {
			if (k)
				buf_addc(b, ',');
			json_string(b, d->path[k].node);
		}
		buf_adds(b, "],\"answers\":[");
		for (size_t k = 0; k < d->npath; k++) {
			if (k)
				buf_addc(b, ',');
			buf_addc(b, '{');
			json_kv_str(b, "node", d->path[k].node, true);
			json_kv_str(b, "question", d->path[k].question, true);
			json_kv_str(b, "answer", d->path[k].answer, false);
			buf_addc(b, '}');
		}
		buf_adds(b, "]}");
	}
}

/*
 * Everything of the report from "{" to the end of "diagnoses", without
 * the closing brace, so callers can add fields.  result: NULL for the
 * session's own; lists: the diagnoses to show instead of the session's
 * (n > 0).
 */
static void
json_session(struct buf *bp, const struct session *s, const char *result,
	     const struct diag_list *const *lists, int nlists)
{
	struct buf b = *bp;

	buf_adds(&b, "{\"target\":{");
	json_kv_str(&b, "host", s->cfg.host, true);
	buf_printf(&b, "\"port\":%d,", s->port);
	json_kv_str(&b, "tls", tls_mode_name(s->tls_mode), true);
	json_kv_str(&b, "address", *s->address ? s->address : NULL, true);
	json_kv_str(&b, "servername", s->cfg.servername ? s->cfg.servername
						       : s->cfg.host, false);
	if (s->cfg.proxy) {
		/* the hop, never its credentials */
		bool v6 = strchr(s->cfg.proxy_host, ':') != NULL;
		char *u = xasprintf("%s://%s%s%s:%d", s->cfg.proxy == PX_SOCKS5 ?
				    "socks5" : s->cfg.proxy == PX_SOCKS5H ?
				    "socks5h" : "http", v6 ? "[" : "",
				    s->cfg.proxy_host, v6 ? "]" : "",
				    s->cfg.proxy_port);
		buf_adds(&b, ",");
		json_kv_str(&b, "proxy", u, false);
		free(u);
	}
	if (s->cfg.cert) {
		buf_adds(&b, ",");
		json_kv_str(&b, "client_certificate", s->cfg.cert, false);
	}
	buf_adds(&b, "},");
	json_kv_str(&b, "result", result ? result :
		    session_exit_status(s) ? "fail" : "ok", true);
	json_kv_str(&b, "version", SMTPDX_VERSION, true);
	buf_printf(&b, "\"seconds\":%.4f,", s->t_end);

	buf_adds(&b, "\"steps\":[");
	for (int st = 0, n = 0; st < STEP_COUNT; st++) {
		if (n++)
			buf_addc(&b, ',');
		const char *status = s->status[st] == SS_PENDING ? "skipped"
				   : step_status_name(s->status[st]);
		buf_printf(&b, "{\"name\":\"%s\",\"status\":\"%s\",\"seconds\":%.4f}",
			   step_name(st), status, s->seconds[st]);
	}
	buf_adds(&b, "],\"transcript\":[");
	for (size_t i = 0; i < s->tr.n; i++) {
		const struct tr_line *l = &s->tr.v[i];
		if (i)
			buf_addc(&b, ',');
		buf_printf(&b, "{\"t\":%.4f,\"dir\":\"%c\",\"tls\":%s,", l->t,
			   (char)l->dir, l->tls ? "true" : "false");
		if (l->step >= 0)
			buf_printf(&b, "\"step\":\"%s\",", step_name(l->step));
		if (l->note)
			json_kv_str(&b, "note", l->note, true);
		json_line_structure(&b, l);
		json_kv_str(&b, "text", l->text, false);
		buf_addc(&b, '}');
	}
	buf_adds(&b, "],\"tls\":");
	json_tls(&b, &s->tls);
	buf_adds(&b, ",\"auth\":");
	if (s->cfg.user) {
		buf_addc(&b, '{');
		json_kv_str(&b, "user", s->cfg.user, true);
		json_kv_str(&b, "mechanism", *s->auth_mech ? s->auth_mech : NULL, true);
		buf_printf(&b, "\"authenticated\":%s}", s->authenticated ? "true" : "false");
	} else {
		buf_adds(&b, "null");
	}
	buf_adds(&b, ",\"capabilities\":");
	if (s->caps.valid) {
		const struct caps *c = &s->caps;
		buf_printf(&b, "{\"pipelining\":%s,\"starttls\":%s,\"size\":%lu,"
			   "\"8bitmime\":%s,\"smtputf8\":%s,\"enhancedstatuscodes\":%s,"
			   "\"chunking\":%s,\"dsn\":%s,\"requiretls\":%s,\"auth\":[",
			   c->pipelining ? "true" : "false", c->starttls ? "true" : "false",
			   c->size ? c->size_limit : 0UL,
			   c->eightbitmime ? "true" : "false", c->smtputf8 ? "true" : "false",
			   c->enhancedstatuscodes ? "true" : "false",
			   c->chunking ? "true" : "false", c->dsn ? "true" : "false",
			   c->requiretls ? "true" : "false");
		char *m = xstrdup(c->mechs), *save = NULL;
		int k = 0;
		for (char *w = strtok_r(m, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
			if (k++)
				buf_addc(&b, ',');
			json_string(&b, w);
		}
		free(m);
		buf_adds(&b, "]}");
	} else {
		buf_adds(&b, "null");
	}
	/* the message and its parameters (issue 15) */
	buf_adds(&b, ",\"message\":{");
	json_kv_str(&b, "source", s->cfg.data ? "data" : s->cfg.body ? "body"
		    : "generated", true);
	json_kv_str(&b, "method", s->sent.method, true);
	buf_printf(&b, "\"chunks\":%d,\"bytes\":%zu,\"bdat\":%s,",
		   s->sent.chunks, s->sent.bytes, s->cfg.bdat ? "true" : "false");
	buf_adds(&b, "\"dsn\":");
	if (s->cfg.notify || s->cfg.ret || s->cfg.envid) {
		buf_addc(&b, '{');
		json_kv_str(&b, "notify", s->cfg.notify, true);
		json_kv_str(&b, "ret", s->cfg.ret == DSN_RET_FULL ? "full" :
			    s->cfg.ret == DSN_RET_HDRS ? "hdrs" : NULL, true);
		json_kv_str(&b, "envid", s->cfg.envid, true);
		buf_printf(&b, "\"sent\":%s},", s->sent.dsn_sent ? "true" : "false");
	} else {
		buf_adds(&b, "null,");
	}
	/* the addresses as given and as sent (IDNA A-labels, SMTPUTF8) */
	buf_printf(&b, "\"smtputf8\":%s,\"addresses\":[",
		   s->sent.smtputf8_sent ? "true" : "false");
	for (int i = 0; session_address(s, i, false); i++) {
		buf_adds(&b, i ? ",{" : "{");
		json_kv_str(&b, "role", i ? "to" : "from", true);
		json_kv_str(&b, "given", session_address(s, i, false), true);
		json_kv_str(&b, "sent", session_address(s, i, true), false);
		buf_addc(&b, '}');
	}
	buf_adds(&b, "],");
	buf_printf(&b, "\"requiretls\":%s}", s->cfg.requiretls ?
		   s->sent.requiretls_sent ? "\"sent\"" : "\"not_sent\"" : "null");
	buf_adds(&b, ",\"diagnoses\":");
	if (nlists > 0) {
		bool first = true;
		buf_addc(&b, '[');
		for (int i = 0; i < nlists; i++)
			if (lists[i])
				json_diag_items(&b, lists[i], &first);
		buf_addc(&b, ']');
	} else {
		report_json_diags(&b, &s->diags);
	}
	*bp = b;
}

char *
report_json(const struct session *s)
{
	struct buf b = { 0 };
	json_session(&b, s, NULL, NULL, 0);
	buf_adds(&b, "}\n");
	return buf_steal(&b);
}

/* ---- --mx and --sweep ---------------------------------------------------- */

static void
json_mx(struct buf *b, const struct report_extra *x)
{
	const struct mx_result *mx = x->mx;
	buf_adds(b, ",\"mx\":{");
	json_kv_str(b, "domain", mx->domain, true);
	json_kv_str(b, "status", mx_status_name(mx->status), true);
	buf_adds(b, "\"hosts\":[");
	for (int i = 0; i < mx->n; i++) {
		const struct mx_host *h = &mx->hosts[i];
		buf_printf(b, "%s{\"preference\":%d,", i ? "," : "", h->pref);
		json_kv_str(b, "host", h->name, true);
		buf_adds(b, "\"addresses\":[");
		for (int k = 0; k < h->naddr; k++) {
			if (k)
				buf_addc(b, ',');
			json_string(b, h->addrs[k]);
		}
		buf_adds(b, "]}");
	}
	buf_adds(b, "],\"tried\":[");
	for (int i = 0; i < x->ntries; i++) {
		const struct mx_try *t = &x->tries[i];
		buf_adds(b, i ? ",{" : "{");
		json_kv_str(b, "host", t->host, true);
		json_kv_str(b, "address", *t->address ? t->address : NULL, true);
		json_kv_str(b, "outcome", t->outcome, false);
		buf_addc(b, '}');
	}
	buf_adds(b, "],\"used\":");
	if (x->used >= 0 && x->used < x->ntries) {
		buf_addc(b, '{');
		json_kv_str(b, "host", x->tries[x->used].host, true);
		json_kv_str(b, "address", x->tries[x->used].address, false);
		buf_addc(b, '}');
	} else {
		buf_adds(b, "null");
	}
	if (*mx->err) {
		buf_addc(b, ',');
		json_kv_str(b, "error", mx->err, false);
	}
	buf_addc(b, '}');
}

char *
report_json_ex(const struct session *s, const struct report_extra *x)
{
	struct buf b = { 0 };
	const struct diag_list *lists[2] = { &s->diags, x ? x->diags : NULL };
	const char *result = NULL;
	if (x && x->diags && diag_has_error(x->diags))
		result = "fail";
	json_session(&b, s, result, lists, 2);
	if (x && x->mx)
		json_mx(&b, x);
	buf_adds(&b, "}\n");
	return buf_steal(&b);
}

void
report_mx_text(FILE *out, const struct mx_result *mx, bool color)
{
	struct tr_line l = { .dir = TR_INFO, .step = STEP_RESOLVE };
	char *t;
	switch (mx->status) {
	case MX_FOUND:
		t = xasprintf("MX records of %s, in order of preference:", mx->domain);
		break;
	case MX_IMPLICIT:
		t = xasprintf("%s has no MX record: using the domain itself "
			      "(RFC 5321 §5.1)", mx->domain);
		break;
	case MX_NULL:
		t = xasprintf("%s publishes a null MX (MX 0 .): it accepts no mail "
			      "(RFC 7505)", mx->domain);
		break;
	default:
		t = xasprintf("MX lookup failed: %s", mx->err);
	}
	l.text = t;
	report_line(out, &l, color);
	free(t);
	for (int i = 0; i < mx->n; i++) {
		const struct mx_host *h = &mx->hosts[i];
		struct buf b = { 0 };
		buf_printf(&b, "  %5d  %s", h->pref, h->name);
		for (int k = 0; k < h->naddr; k++)
			buf_printf(&b, "%s%s", k ? ", " : "  ", h->addrs[k]);
		if (!h->naddr)
			buf_adds(&b, "  (no address)");
		l.text = b.data;
		report_line(out, &l, color);
		buf_free(&b);
	}
}

/* ok: the port can be recommended; !: it answers but is not for this use
 * (or is misconfigured); x: it failed. */
static const char *
sweep_mark(const struct sweep_port *p, bool color, const char **c)
{
	if (p->usable && !p->mode_mismatch && p->port != 25) {
		*c = C_GREEN;
		return "ok";
	}
	if (p->ok) {
		*c = C_YELLOW;
		return "!";
	}
	*c = C_RED;
	return "x";
}

static void
sweep_tls_words(char *out, size_t n, const struct sweep_port *p)
{
	const struct tls_info *t = p->probe ? &p->probe->tls : NULL;
	const char *how = p->speaks == SPK_SMTP ? "STARTTLS " : "";
	if (t && t->done)
		snprintf(out, n, "%s%s %s", how, t->version,
			 t->verified && !t->problems ? "verified" : "UNVERIFIED");
	else if (p->speaks == SPK_SMTP)
		snprintf(out, n, "%s", p->starttls_offered ? "STARTTLS failed"
							   : "no STARTTLS");
	else if (p->speaks == SPK_TLS)
		snprintf(out, n, "handshake failed");
	else
		snprintf(out, n, "-");
}

void
report_sweep_text(FILE *out, const struct sweep *w, bool color)
{
	int n;
	const struct sweep_port *ports = sweep_ports(w, &n);
	const struct sweep_advice *a = sweep_advice(w);

	fprintf(out, "\n%s--- ports of %s%s (%.2f s, timeout %.0f s)\n",
		col(color, C_BOLD), sweep_host(w), col(color, C_RESET),
		sweep_seconds(w), sweep_timeout(w));
	fprintf(out, "       %-6s %-9s %-26s %7s  %s\n", "port", "speaks", "TLS",
		"time", "AUTH inside TLS");
	for (int i = 0; i < n; i++) {
		const struct sweep_port *p = &ports[i];
		const char *c;
		const char *m = sweep_mark(p, color, &c);
		char tls[64];
		sweep_tls_words(tls, sizeof tls, p);
		/* a port nothing answered on: say how the network treated it */
		const char *speaks = p->speaks == SPK_NOTHING && p->reach != REACH_ANSWERED
				     ? sweep_reach_name(p->reach) : sweep_speaks_name(p->speaks);
		fprintf(out, "  %s%-3s%s  %-6d %-9s %-26s %5.2f s  %s\n",
			col(color, c), m, col(color, C_RESET), p->port, speaks,
			tls, p->seconds, p->auth ? p->auth : "-");
	}

	fprintf(out, "\n%s--- recommendation%s\n", col(color, C_BOLD),
		col(color, C_RESET));
	if (a && a->port)
		fprintf(out, "  %sport %d, %s%s\n", col(color, C_GREEN), a->port,
			a->mode == TLSM_IMPLICIT ? "implicit TLS (--tls implicit)"
						 : "STARTTLS (--tls starttls)",
			col(color, C_RESET));
	else
		fprintf(out, "  %snone%s\n", col(color, C_RED), col(color, C_RESET));
	if (a) {
		fputs("  ", out);
		report_wrap(out, a->why, 2, 78);
	}

	fprintf(out, "\n%s--- each port%s\n", col(color, C_BOLD), col(color, C_RESET));
	for (int i = 0; i < n; i++) {
		const struct sweep_port *p = &ports[i];
		const char *c;
		const char *m = sweep_mark(p, color, &c);
		fprintf(out, "%s[%s] port %d%s: speaks %s", col(color, c), m, p->port,
			col(color, C_RESET), sweep_speaks_name(p->speaks));
		if (p->greeting)
			fprintf(out, ", greeting \"%s\"", p->greeting);
		fputc('\n', out);
		for (int k = 0; k < p->nhow; k++) {
			fputs("    - ", out);
			report_wrap(out, p->how[k], 6, 78);
		}
		for (size_t k = 0; k < p->diags.n; k++) {
			const struct diagnosis *d = &p->diags.v[k];
			const struct diag_info *di = diag_info(d->id);
			const char *dc = d->sev == SEV_ERROR ? C_RED :
					 d->sev == SEV_WARNING ? C_YELLOW : C_CYAN;
			const char *dm = d->sev == SEV_ERROR ? "x" :
					 d->sev == SEV_WARNING ? "!" : "i";
			fprintf(out, "    %s[%s] %s%s  %s (%s)\n", col(color, dc), dm,
				di->title, col(color, C_RESET), di->id,
				severity_name(d->sev));
			if (*d->evidence) {
				fputs("      evidence: ", out);
				report_wrap(out, d->evidence, 16, 100);
			}
			fputs("      fix:      ", out);
			report_wrap(out, d->fix, 16, 78);
		}
	}
	int rc = sweep_exit_status(w);
	fprintf(out, "\nresult: %s%s%s (%.3f s)\n", col(color, rc ? C_RED : C_GREEN),
		rc ? "fail: no port to recommend" : "ok", col(color, C_RESET),
		sweep_seconds(w));
}

void
report_json_transcript(struct buf *b, const struct transcript *tr)
{
	buf_addc(b, '[');
	for (size_t i = 0; i < tr->n; i++) {
		const struct tr_line *l = &tr->v[i];
		if (i)
			buf_addc(b, ',');
		buf_printf(b, "{\"t\":%.4f,\"dir\":\"%c\",\"tls\":%s,", l->t,
			   (char)l->dir, l->tls ? "true" : "false");
		if (l->step >= 0)
			buf_printf(b, "\"step\":\"%s\",", step_name(l->step));
		json_line_structure(b, l);
		json_kv_str(b, "text", l->text, false);
		buf_addc(b, '}');
	}
	buf_addc(b, ']');
}

static void
json_sweep_port(struct buf *b, const struct sweep_port *p)
{
	buf_printf(b, "{\"port\":%d,", p->port);
	if (p->played_by)	/* the lab's mail host: where it really listens */
		buf_printf(b, "\"lab_port\":%d,", p->played_by);
	json_kv_str(b, "status", p->ok ? "ok" : "fail", true);
	json_kv_str(b, "speaks", sweep_speaks_name(p->speaks), true);
	json_kv_str(b, "reach", sweep_reach_name(p->reach), true);
	json_kv_str(b, "mode", p->mode == TLSM_NONE ? NULL : tls_mode_name(p->mode),
		    true);
	buf_printf(b, "\"usable\":%s,\"mode_mismatch\":%s,",
		   p->usable ? "true" : "false", p->mode_mismatch ? "true" : "false");
	json_kv_str(b, "greeting", p->greeting, true);
	if (p->speaks == SPK_SMTP)
		buf_printf(b, "\"starttls\":%s,\"starttls_ok\":%s,",
			   p->starttls_offered ? "true" : "false",
			   p->starttls_ok ? "true" : "false");
	else
		buf_adds(b, "\"starttls\":null,\"starttls_ok\":null,");
	buf_adds(b, "\"tls\":");
	if (p->probe)
		json_tls(b, &p->probe->tls);
	else
		buf_adds(b, "null");
	buf_adds(b, ",\"auth\":[");
	if (p->auth) {
		char *m = xstrdup(p->auth), *save = NULL;
		int k = 0;
		for (char *t = strtok_r(m, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
			if (k++)
				buf_addc(b, ',');
			json_string(b, t);
		}
		free(m);
	}
	buf_printf(b, "],\"auth_before_tls\":%s,\"seconds\":%.4f,\"how\":[",
		   p->auth_before_tls ? "true" : "false", p->seconds);
	for (int k = 0; k < p->nhow; k++) {
		if (k)
			buf_addc(b, ',');
		json_string(b, p->how[k]);
	}
	buf_adds(b, "],\"diagnoses\":");
	report_json_diags(b, &p->diags);
	buf_adds(b, ",\"probes\":[");
	const struct session *ss[2] = { p->implicit, p->starttls };
	for (int k = 0, m = 0; k < 2; k++) {
		if (!ss[k])
			continue;
		buf_adds(b, m++ ? ",{" : "{");
		json_kv_str(b, "tls_mode", tls_mode_name(ss[k]->tls_mode), true);
		buf_adds(b, "\"transcript\":");
		report_json_transcript(b, &ss[k]->tr);
		buf_addc(b, '}');
	}
	buf_adds(b, "]}");
}

char *
report_sweep_json(const struct sweep *w, const struct report_extra *x)
{
	struct buf b = { 0 };
	int n;
	const struct sweep_port *ports = sweep_ports(w, &n);
	const struct sweep_advice *a = sweep_advice(w);
	const struct sweep_port *top = NULL;
	const struct diag_list *lists[SWEEP_MAX_PORTS + 1];
	int nl = 0;

	for (int i = 0; i < n; i++)
		if (a && a->port == ports[i].port)
			top = &ports[i];
	if (top) {
		lists[nl++] = &top->diags;
	} else {
		for (int i = 0; i < n; i++)
			lists[nl++] = &ports[i].diags;
		top = n ? &ports[0] : NULL;
	}
	if (x && x->diags)
		lists[nl++] = x->diags;
	if (!top || !top->probe) {	/* cannot happen once the sweep is done */
		buf_adds(&b, "{}\n");
		return buf_steal(&b);
	}
	json_session(&b, top->probe, sweep_exit_status(w) ? "fail" : "ok", lists, nl);
	buf_printf(&b, ",\"sweep_seconds\":%.4f,\"sweep\":[", sweep_seconds(w));
	for (int i = 0; i < n; i++) {
		if (i)
			buf_addc(&b, ',');
		json_sweep_port(&b, &ports[i]);
	}
	buf_adds(&b, "],\"recommendation\":{");
	if (a && a->port)
		buf_printf(&b, "\"port\":%d,\"tls\":\"%s\",", a->port,
			   tls_mode_name(a->mode));
	else
		buf_adds(&b, "\"port\":null,\"tls\":null,");
	json_kv_str(&b, "rule", a ? a->rule : NULL, true);
	json_kv_str(&b, "network", a ? a->network : NULL, true);
	json_kv_str(&b, "network_why", a ? a->network_why : NULL, true);
	json_kv_str(&b, "why", a ? a->why : NULL, false);
	buf_addc(&b, '}');
	if (x && x->mx)
		json_mx(&b, x);
	buf_adds(&b, "}\n");
	return buf_steal(&b);
}

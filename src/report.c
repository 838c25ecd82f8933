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
	fprintf(out, "%s%s%s%s\n", col(color, c), mark, l->text, col(color && *c, C_RESET));
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
		const struct diagnosis *d = &s->diags.v[i];
		const struct diag_info *di = diag_info(d->id);
		const char *c = d->sev == SEV_ERROR ? C_RED :
				d->sev == SEV_WARNING ? C_YELLOW : C_CYAN;
		const char *mark = d->sev == SEV_ERROR ? "x" :
				   d->sev == SEV_WARNING ? "!" : "i";
		fprintf(out, "%s[%s] %s%s  %s (%s, at step %s)\n", col(color, c), mark,
			col(color, C_BOLD), di->title, di->id, severity_name(d->sev),
			step_name(d->step));
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
		fputs("  path:     ", out);
		struct buf b = { 0 };
		for (size_t k = 0; k < d->npath; k++)
			buf_printf(&b, "%s%s=%s", k ? " > " : "", d->path[k].node,
				   d->path[k].answer);
		buf_printf(&b, " > %s", di->id);
		report_wrap(out, b.data, 12, 100);
		buf_free(&b);
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

void report_json_diags(struct buf *b, const struct diag_list *l);

void
report_json_diags(struct buf *b, const struct diag_list *l)
{
	buf_addc(b, '[');
	for (size_t i = 0; i < l->n; i++) {
		const struct diagnosis *d = &l->v[i];
		const struct diag_info *di = diag_info(d->id);
		if (i)
			buf_addc(b, ',');
		buf_addc(b, '{');
		json_kv_str(b, "id", di->id, true);
		json_kv_str(b, "severity", severity_name(d->sev), true);
		json_kv_str(b, "step", step_name(d->step), true);
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
	buf_addc(b, ']');
}

char *
report_json(const struct session *s)
{
	struct buf b = { 0 };

	buf_adds(&b, "{\"target\":{");
	json_kv_str(&b, "host", s->cfg.host, true);
	buf_printf(&b, "\"port\":%d,", s->port);
	json_kv_str(&b, "tls", tls_mode_name(s->tls_mode), true);
	json_kv_str(&b, "address", *s->address ? s->address : NULL, true);
	json_kv_str(&b, "servername", s->cfg.servername ? s->cfg.servername
						       : s->cfg.host, false);
	buf_adds(&b, "},");
	json_kv_str(&b, "result", session_exit_status(s) ? "fail" : "ok", true);
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
	buf_adds(&b, ",\"diagnoses\":");
	report_json_diags(&b, &s->diags);
	buf_adds(&b, "}\n");
	return buf_steal(&b);
}

/* findfix.c - one change at a time, never mail, at most one more login. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "findfix.h"
#include "provider.h"
#include "run.h"
#include "sweep.h"
#include "util.h"


static const struct diagnosis *
first_error(const struct diag_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].sev == SEV_ERROR)
			return &l->v[i];
	return NULL;
}

/* Where step st comes in session s's order (implicit TLS does the
 * handshake before the greeting). */
static int
rank(const struct session *s, int st)
{
	int order[STEP_COUNT];
	session_step_order(s, order);
	for (int i = 0; i < STEP_COUNT; i++)
		if (order[i] == st)
			return i;
	return STEP_COUNT;
}

void
findfix_apply(struct config *c, const struct ff_change *ch)
{
	for (int i = 0; i < 2 && ch->opt[i]; i++) {
		const char *o = ch->opt[i], *v = ch->val[i];
		if (!strcmp(o, "--tls"))
			c->tls = (enum tls_mode)tls_mode_from_name(v);
		else if (!strcmp(o, "-p"))
			c->port = atoi(v);
		else if (!strcmp(o, "--servername"))
			config_set(&c->servername, v);
		else if (!strcmp(o, "--auth"))
			c->mech = (enum auth_mech)auth_mech_from_name(v);
		else if (!strcmp(o, "-u"))
			config_set(&c->user, v);
		else if (!strcmp(o, "--helo"))
			config_set(&c->helo, v);
		else if (!strcmp(o, "-f"))
			config_set(&c->from, v);
	}
	if (c->port)
		c->role_port = 0;
}

static char *
change_words(const struct ff_change *ch)
{
	struct buf b = { 0 };
	for (int i = 0; i < 2 && ch->opt[i]; i++)
		buf_printf(&b, "%s%s %s", i ? " " : "", ch->opt[i], ch->val[i]);
	return buf_steal(&b);
}

static void
add_try(struct findfix *ff, const struct ff_change *ch, struct session *s,
	const char *outcome, bool works)
{
	if (ff->n >= FF_MAX) {
		session_free(s);
		return;
	}
	struct ff_try *t = &ff->v[ff->n++];
	t->ch = *ch;
	t->change = change_words(ch);
	t->why = xstrdup(ch->why);
	t->outcome = xstrdup(outcome);
	t->works = works;
	t->s = s;
}

/*
 * Run base with ch (always --no-send; without the login unless login).
 * Returns true when the session gets past the step the original failed
 * at (with a login: when it works outright).
 */
static bool
attempt(struct findfix *ff, const struct config *base, const struct session *failed,
	const struct ff_change *ch, bool login)
{
	struct config c;
	config_copy(&c, base);
	findfix_apply(&c, ch);
	c.no_send = true;
	c.policy = NULL;
	if (!login) {
		config_set(&c.user, NULL);
		config_set(&c.password, NULL);
	}
	struct session *s = session_new(&c);
	config_free(&c);
	session_run(s, NULL, NULL);

	const struct diagnosis *e = first_error(&s->diags);
	const struct diagnosis *orig = first_error(&failed->diags);
	char outcome[320];
	bool works = !e;
	bool past = works;
	if (works) {
		snprintf(outcome, sizeof outcome, login ? "works" :
			 "works (checked without logging in)");
	} else {
		const char *id = diag_info(e->id)->id;
		past = orig && rank(s, e->step) > rank(failed, orig->step) &&
		       e->id != orig->id;
		/* without a login, a refusal for the want of one is what a
		 * working setup shows */
		if (!login && (e->step == STEP_MAIL || e->step == STEP_RCPT) &&
		    (!strcmp(id, "mail.auth_required") ||
		     !strcmp(id, "rcpt.relay_denied")))
			past = true;
		if (past)
			snprintf(outcome, sizeof outcome, "gets past %s, then %s%s",
				 step_name(orig->step), id, login ? "" :
				 " (without logging in)");
		else
			snprintf(outcome, sizeof outcome, "%s", id);
	}
	add_try(ff, ch, s, outcome, works);
	return login ? works : past;
}

/* "alice@example.com" -> "example.com"; NULL if no '@'. */
static const char *
domain_of(const char *addr)
{
	const char *at = addr ? strrchr(addr, '@') : NULL;
	return at && at[1] ? at + 1 : NULL;
}

/* This host's fully qualified name, if it has one. */
static bool
fqdn(char *out, size_t n)
{
	char h[256];
	if (gethostname(h, sizeof h) < 0)
		return false;
	h[sizeof h - 1] = '\0';
	struct addrinfo hints = { 0 }, *res = NULL;
	hints.ai_flags = AI_CANONNAME;
	if (getaddrinfo(h, NULL, &hints, &res) == 0 && res && res->ai_canonname &&
	    strchr(res->ai_canonname, '.'))
		snprintf(out, n, "%s", res->ai_canonname);
	else if (strchr(h, '.'))
		snprintf(out, n, "%s", h);
	else
		out[0] = '\0';
	if (res)
		freeaddrinfo(res);
	return out[0] != '\0';
}

static bool
plain_dns_name(const char *s)
{
	return *s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789.-") == strlen(s) && strchr(s, '.');
}

static bool
id_in(const char *id, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(id, *list))
			return true;
	return false;
}

/* ---- the command line ------------------------------------------------- */

static const char *const takes_value[] = {
	"-p", "--port", "--tls", "--cafile", "--servername", "-u", "--user",
	"--password-file", "--auth", "-f", "--from", "-t", "--to", "--helo",
	"--timeout", "--tls-min", "--ports", "--lab-server", "--provider",
	"--policy", "--deliverability", "--sending-ip", "--profile", "--config",
	"--password-command", "--proxy", "--cert", "--key", "--notify", "--ret",
	"--envid", "--body", "--header", NULL
};

/* Long and short spellings of the options a change may carry. */
static bool
same_option(const char *arg, const char *opt)
{
	static const char *const alias[][2] = {
		{ "-p", "--port" }, { "-u", "--user" }, { "-f", "--from" },
	};
	size_t al = strcspn(arg, "=");
	if (strlen(opt) == al && !strncmp(arg, opt, al))
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(alias); i++)
		if (!strcmp(alias[i][0], opt) && strlen(alias[i][1]) == al &&
		    !strncmp(arg, alias[i][1], al))
			return true;
	return false;
}

static void
quote(struct buf *b, const char *s)
{
	if (*s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789@%+=:,./_-") == strlen(s)) {
		buf_adds(b, s);
		return;
	}
	buf_addc(b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			buf_adds(b, "'\\''");
		else
			buf_addc(b, *s);
	}
	buf_addc(b, '\'');
}

static char *
command_line(int argc, char **argv, const struct ff_change *ch)
{
	struct buf b = { 0 };
	buf_adds(&b, "smtpdx");
	bool changes_port = false;
	for (int k = 0; k < 2 && ch->opt[k]; k++)
		changes_port |= !strcmp(ch->opt[k], "-p");
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--find-fix") || !strcmp(a, "--json") ||
		    !strcmp(a, "--batch"))
			continue;
		bool drop = false;
		for (int k = 0; k < 2 && ch->opt[k]; k++)
			drop |= same_option(a, ch->opt[k]);
		bool value = false;
		for (const char *const *t = takes_value; *t; t++)
			value |= !strcmp(a, *t);
		if (drop) {
			if (value)
				i++;	/* and its value */
			continue;
		}
		buf_addc(&b, ' ');
		if (value && i + 1 < argc) {
			quote(&b, a);
			buf_addc(&b, ' ');
			quote(&b, argv[++i]);
			continue;
		}
		if (a[0] != '-' && changes_port) {
			/* HOST:PORT or [v6]:PORT: the port moves to -p */
			char host[512];
			snprintf(host, sizeof host, "%s", a);
			char *close = host[0] == '[' ? strchr(host, ']') : NULL;
			char *colon = close ? strchr(close, ':') : strchr(host, ':');
			if (colon && (close || !strchr(colon + 1, ':')))
				*colon = '\0';
			quote(&b, host);
			continue;
		}
		quote(&b, a);
	}
	for (int k = 0; k < 2 && ch->opt[k]; k++) {
		buf_printf(&b, " %s ", ch->opt[k]);
		quote(&b, ch->val[k]);
	}
	return buf_steal(&b);
}

/* ---- the search ---------------------------------------------------------- */

void
findfix_run(const struct config *base, const struct session *failed,
	    int argc, char **argv, struct findfix *ff)
{
	memset(ff, 0, sizeof *ff);
	ff->best = -1;
	const struct diagnosis *e = first_error(&failed->diags);
	if (!e) {
		ff->note = xstrdup("The session did not fail: nothing to fix.");
		return;
	}
	const char *id = diag_info(e->id)->id;
	bool login = base->user && base->password;
	int port = config_port(base);
	struct ff_change cands[FF_MAX];
	int nc = 0;
	bool sweep = false;
	memset(cands, 0, sizeof cands);

	static const char *const port_ids[] = {
		"connect.refused", "connect.timeout", "connect.port25_blocked",
		"connect.unreachable", "greeting.timeout", "greeting.not_smtp",
		"tls.expected_implicit", "tls.expected_starttls",
		"tls.handshake_failed", "tls.version_mismatch", "session.closed",
		"starttls.not_offered", "auth.not_offered", "auth.requires_tls",
		"mail.tls_required", NULL
	};
	static const char *const sender_ids[] = {
		"rcpt.sender_not_owned", "mail.sender_rejected",
		"data.send_as_denied", NULL
	};

	if (!strcmp(id, "tls.expected_implicit") || !strcmp(id, "tls.expected_starttls")) {
		struct ff_change *c = &cands[nc++];
		c->opt[0] = "--tls";
		snprintf(c->val[0], sizeof c->val[0], "%s",
			 !strcmp(id, "tls.expected_implicit") ? "implicit" : "starttls");
		c->why = "the port speaks the other TLS mode";
	}
	if (!strcmp(id, "auth.requires_tls") && config_tls(base) == TLSM_NONE) {
		struct ff_change *c = &cands[nc++];
		c->opt[0] = "--tls";
		snprintf(c->val[0], sizeof c->val[0], "starttls");
		c->why = "the server offers AUTH only inside TLS";
	}
	if (!strcmp(id, "tls.cert_hostname_mismatch") && failed->tls.nchain) {
		const struct cert_info *leaf = &failed->tls.chain[0];
		for (size_t i = 0; i < leaf->nnames && nc < 3; i++) {
			if (!plain_dns_name(leaf->names[i]))
				continue;
			struct ff_change *c = &cands[nc++];
			c->opt[0] = "--servername";
			snprintf(c->val[0], sizeof c->val[0], "%s", leaf->names[i]);
			c->why = "a name the certificate holds";
		}
	}
	if (!strcmp(id, "auth.mech_unsupported") && base->mech != AM_AUTO) {
		struct ff_change *c = &cands[nc++];
		c->opt[0] = "--auth";
		snprintf(c->val[0], sizeof c->val[0], "auto");
		c->why = "let smtpdx pick a mechanism the server offers";
		c->needs_login = true;
	}
	if (!strcmp(id, "auth.failed") && base->user) {
		struct ff_change *c = &cands[nc++];
		const char *d = domain_of(base->user);
		c->opt[0] = "-u";
		if (d)
			snprintf(c->val[0], sizeof c->val[0], "%.*s",
				 (int)(d - 1 - base->user), base->user);
		else if (domain_of(base->from))
			snprintf(c->val[0], sizeof c->val[0], "%s@%s", base->user,
				 domain_of(base->from));
		else
			nc--;
		c->why = "the other form of the user name (full address or "
			 "local part)";
		c->needs_login = true;
	}
	if (id_in(id, sender_ids) && base->user &&
	    (domain_of(base->user) || domain_of(base->from))) {
		struct ff_change *c = &cands[nc++];
		c->opt[0] = "-f";
		if (domain_of(base->user))
			snprintf(c->val[0], sizeof c->val[0], "%s", base->user);
		else
			snprintf(c->val[0], sizeof c->val[0], "%s@%s", base->user,
				 domain_of(base->from));
		c->why = "send as the login's own address";
		c->needs_login = true;
	}
	char name[256];
	if ((!strcmp(id, "rcpt.helo_rejected") || !strcmp(id, "ehlo.rejected")) &&
	    fqdn(name, sizeof name) && (!base->helo || strcmp(base->helo, name))) {
		struct ff_change *c = &cands[nc++];
		c->opt[0] = "--helo";
		snprintf(c->val[0], sizeof c->val[0], "%s", name);
		c->why = "a fully qualified name for EHLO";
	}
	if (id_in(id, port_ids))
		sweep = true;

	/* changes that need no login first, without logging in */
	for (int i = 0; i < nc && ff->best < 0; i++) {
		if (cands[i].needs_login)
			continue;
		if (attempt(ff, base, failed, &cands[i], false)) {
			ff->best = ff->n - 1;
			break;
		}
	}
	if (ff->best < 0 && sweep && !base->probe) {
		int ports[8];
		int np = provider_alt_ports(base->host, port, ports, 8);
		struct sweep *w = np ? sweep_new(base, ports, np, SWEEP_SUBMISSION) : NULL;
		if (w) {
			sweep_run(w);
			const struct sweep_advice *a = sweep_advice(w);
			struct ff_change ch = { .why = "a port that works from here "
					     "(probed in parallel)" };
			ch.opt[0] = "-p";
			ch.opt[1] = "--tls";
			if (a && a->port) {
				snprintf(ch.val[0], sizeof ch.val[0], "%d", a->port);
				snprintf(ch.val[1], sizeof ch.val[1], "%s",
					 tls_mode_name(a->mode));
				if (attempt(ff, base, failed, &ch, false))
					ff->best = ff->n - 1;
			} else {
				struct buf pl = { 0 };
				for (int i = 0; i < np; i++)
					buf_printf(&pl, "%s%d", i ? ", " : "", ports[i]);
				snprintf(ch.val[0], sizeof ch.val[0], "%s", pl.data);
				ch.opt[1] = NULL;
				ch.why = "the other submission ports";
				add_try(ff, &ch, NULL, "no port works from here", false);
				buf_free(&pl);
			}
			sweep_free(w);
		}
	}
	/* the one login: to confirm the change found, or to try the one
	 * change that is about the login */
	const struct ff_change *login_change = NULL;
	struct ff_change found;
	if (ff->best >= 0) {
		found = ff->v[ff->best].ch;
		found.why = "the change found, now with the login";
		if (login)
			login_change = &found;
	} else {
		for (int i = 0; i < nc && !login_change; i++)
			if (cands[i].needs_login && login)
				login_change = &cands[i];
	}
	if (login_change) {
		int before = ff->n;
		if (attempt(ff, base, failed, login_change, true) || ff->best < 0)
			ff->best = ff->v[before].works ? before : ff->best;
	}
	if (ff->best >= 0)
		ff->command = command_line(argc, argv, &ff->v[ff->best].ch);
	else if (!nc && !sweep)
		ff->note = xasprintf("No single client-side change is known to fix "
				     "%s: the fix above is on the server or the "
				     "account.", id);
}

void
findfix_free(struct findfix *ff)
{
	for (int i = 0; i < ff->n; i++) {
		free(ff->v[i].change);
		free(ff->v[i].why);
		free(ff->v[i].outcome);
		session_free(ff->v[i].s);
	}
	free(ff->command);
	free(ff->note);
	memset(ff, 0, sizeof *ff);
}

/* ---- the report ---------------------------------------------------------- */

/* The lines of s worth comparing: client and server lines, not the SASL
 * exchange. */
static size_t
said(const struct session *s, const struct tr_line **v, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < s->tr.n && n < max; i++) {
		const struct tr_line *l = &s->tr.v[i];
		if (l->dir == 'I' || !strncmp(l->text, "334 ", 4) ||
		    !strcmp(l->text, "<redacted>"))
			continue;
		v[n++] = l;
	}
	return n;
}

/* Where the failed and the fixed transcripts differ: "  - S: ..." and
 * "  + C: ..." lines, 16 at most, "  ..." when there is more. */
static void
diff(FILE *out, const struct session *failed, const struct session *fixed)
{
	/* what was said, without information lines and the SASL exchange
	 * (its nonces differ every time) */
	const struct tr_line *x[256], *y[256];
	size_t nx = said(failed, x, 256), ny = said(fixed, y, 256);
	/* longest common subsequence, then walk it */
	unsigned short *L = xcalloc((nx + 1) * (ny + 1), sizeof *L);
#define AT(i, k) L[(i) * (ny + 1) + (k)]
	for (size_t i = nx; i-- > 0;)
		for (size_t k = ny; k-- > 0;)
			AT(i, k) = !strcmp(x[i]->text, y[k]->text) ? AT(i + 1, k + 1) + 1 :
				   AT(i + 1, k) > AT(i, k + 1) ? AT(i + 1, k) : AT(i, k + 1);
	size_t i = 0, k = 0, shown = 0;
	while ((i < nx || k < ny) && shown < 16) {
		if (i < nx && k < ny && !strcmp(x[i]->text, y[k]->text)) {
			i++, k++;
		} else if (k >= ny || (i < nx && AT(i + 1, k) >= AT(i, k + 1))) {
			fprintf(out, "  - %s %.100s\n", x[i]->dir == 'C' ? "C:" : "S:",
				x[i]->text);
			i++, shown++;
		} else {
			fprintf(out, "  + %s %.100s\n", y[k]->dir == 'C' ? "C:" : "S:",
				y[k]->text);
			k++, shown++;
		}
	}
#undef AT
	free(L);
	if (i < nx || k < ny)
		fprintf(out, "  ...\n");
}

void
findfix_text(FILE *out, const struct findfix *ff, const struct session *failed,
	     bool color)
{
	const char *bold = color ? "\033[1m" : "", *reset = color ? "\033[0m" : "";
	fprintf(out, "\n%s--- find-fix: one change at a time, no mail sent%s\n",
		bold, reset);
	for (int i = 0; i < ff->n; i++) {
		const struct ff_try *t = &ff->v[i];
		fprintf(out, "  %-4s %-32s %s\n       (%s)\n", t->works ? "ok" :
			i == ff->best ? "past" : "x", t->change, t->outcome, t->why);
	}
	if (ff->note)
		fprintf(out, "  %s\n", ff->note);
	if (!ff->command) {
		if (ff->n)
			fprintf(out, "  No single change worked.\n");
		return;
	}
	fprintf(out, "\n%s--- the fix%s\n  %s\n", bold, reset, ff->command);
	const struct session *fixed = ff->v[ff->best].s;
	if (!fixed)
		return;
	fprintf(out, "\n%s--- where the transcripts differ%s (- failed, + fixed)\n",
		bold, reset);
	diff(out, failed, fixed);
}

void
findfix_json(struct buf *b, const struct findfix *ff)
{
	buf_adds(b, ",\"find_fix\":{\"tried\":[");
	for (int i = 0; i < ff->n; i++) {
		const struct ff_try *t = &ff->v[i];
		buf_adds(b, i ? ",{\"change\":" : "{\"change\":");
		json_string(b, t->change);
		buf_adds(b, ",\"why\":");
		json_string(b, t->why);
		buf_adds(b, ",\"outcome\":");
		json_string(b, t->outcome);
		buf_printf(b, ",\"works\":%s}", t->works ? "true" : "false");
	}
	buf_adds(b, "],\"fix\":");
	if (ff->command) {
		buf_adds(b, "{\"change\":");
		json_string(b, ff->v[ff->best].change);
		buf_adds(b, ",\"command\":");
		json_string(b, ff->command);
		buf_addc(b, '}');
	} else {
		buf_adds(b, "null");
	}
	if (ff->note) {
		buf_adds(b, ",\"note\":");
		json_string(b, ff->note);
	}
	buf_addc(b, '}');
}

/* ---- in a child, for the TUI ---------------------------------------------- */

/* A field of one line: tabs and line ends become spaces. */
static void
field(struct buf *b, const char *s)
{
	buf_addc(b, '\t');
	for (; s && *s; s++)
		buf_addc(b, *s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s);
}

void
findfix_encode(struct buf *b, const struct findfix *ff,
	       const struct session *failed)
{
	for (int i = 0; i < ff->n; i++) {
		const struct ff_try *t = &ff->v[i];
		buf_adds(b, t->works ? "T\t1" : "T\t0");
		for (int k = 0; k < 2; k++) {
			field(b, t->ch.opt[k] ? t->ch.opt[k] : "");
			field(b, t->ch.opt[k] ? t->ch.val[k] : "");
		}
		field(b, t->why);
		field(b, t->outcome);
		buf_addc(b, '\n');
	}
	buf_printf(b, "B\t%d\n", ff->best);
	if (ff->command) {
		buf_adds(b, "C");
		field(b, ff->command);
		buf_addc(b, '\n');
	}
	if (ff->note) {
		buf_adds(b, "N");
		field(b, ff->note);
		buf_addc(b, '\n');
	}
	if (ff->best >= 0 && ff->v[ff->best].s && failed) {
		char *text = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&text, &len);
		if (m) {
			diff(m, failed, ff->v[ff->best].s);
			fclose(m);
			for (char *p = text, *l; p && (l = strsep(&p, "\n")) != NULL;)
				if (*l) {
					buf_adds(b, "D");
					field(b, l);
					buf_addc(b, '\n');
				}
			free(text);
		}
	}
	buf_adds(b, "E\n");
}

/* The option names a change may carry, as static strings. */
static const char *
known_option(const char *o)
{
	static const char *const opts[] = {
		"--tls", "-p", "--servername", "--auth", "-u", "--helo", "-f",
	};
	for (size_t i = 0; i < ARRAY_SIZE(opts); i++)
		if (!strcmp(o, opts[i]))
			return opts[i];
	return NULL;
}

int
findfix_decode(const char *text, struct findfix *ff, char ***diff_out,
	       int *ndiff)
{
	memset(ff, 0, sizeof *ff);
	ff->best = -1;
	*diff_out = NULL;
	*ndiff = 0;
	char *copy = xstrdup(text);
	bool end = false;
	for (char *p = copy, *line; (line = strsep(&p, "\n")) != NULL;) {
		char *f[9] = { 0 };
		int nf = 0;
		for (char *q = line, *w; nf < 9 && (w = strsep(&q, "\t")) != NULL;)
			f[nf++] = w;
		if (!strcmp(f[0], "T") && nf == 8 && ff->n < FF_MAX) {
			struct ff_try *t = &ff->v[ff->n++];
			t->works = !strcmp(f[1], "1");
			for (int k = 0; k < 2; k++) {
				t->ch.opt[k] = known_option(f[2 + 2 * k]);
				snprintf(t->ch.val[k], sizeof t->ch.val[k], "%s",
					 f[3 + 2 * k]);
			}
			t->change = change_words(&t->ch);
			if (!t->ch.opt[0]) {	/* a list of ports, say */
				free(t->change);
				t->change = xstrdup(f[3]);
			}
			t->why = xstrdup(f[6]);
			t->outcome = xstrdup(f[7]);
		} else if (!strcmp(f[0], "B") && nf == 2) {
			ff->best = atoi(f[1]);
		} else if (!strcmp(f[0], "C") && nf == 2) {
			free(ff->command);
			ff->command = xstrdup(f[1]);
		} else if (!strcmp(f[0], "N") && nf == 2) {
			free(ff->note);
			ff->note = xstrdup(f[1]);
		} else if (!strcmp(f[0], "D") && nf == 2) {
			*diff_out = xrealloc(*diff_out, (size_t)(*ndiff + 1) *
					     sizeof **diff_out);
			(*diff_out)[(*ndiff)++] = xstrdup(f[1]);
		} else if (!strcmp(f[0], "E")) {
			end = true;
		}
	}
	free(copy);
	if (ff->best >= ff->n || ff->best < -1 ||
	    (ff->best >= 0 && !ff->v[ff->best].ch.opt[0]))
		ff->best = -1;
	if (ff->best < 0) {	/* a fix is always one of the tries */
		free(ff->command);
		ff->command = NULL;
	}
	return end ? 0 : -1;
}

int
findfix_spawn(const struct config *base, const struct session *failed,
	      int argc, char **argv, int *pid, char *err, size_t errlen)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "find-fix: pipe: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid_t k = fork();
	if (k < 0) {
		snprintf(err, errlen, "find-fix: fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (k == 0) {
		/* the child: nothing of the front end's; out when the front
		 * end is gone */
		close(p[0]);
		signal(SIGINT, SIG_IGN);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		set_fatal_hook(NULL);
		struct findfix ff;
		findfix_run(base, failed, argc, argv, &ff);
		struct buf b = { 0 };
		findfix_encode(&b, &ff, failed);
		size_t off = 0;
		while (off < b.len) {
			ssize_t w = write(p[1], b.data + off, b.len - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;
			off += (size_t)w;
		}
		_exit(0);
	}
	close(p[1]);
	*pid = (int)k;
	return p[0];
}

/* policy.c - a team's port policy: the file (inih) and the rules. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy.h"
#include "util.h"

/* ---- the file ------------------------------------------------------------ */

struct load {
	struct team_policy *p;
	char *err;
	size_t errlen;
	bool failed;
	bool any_section;
};

/* inih strips ';' comments; the contract's example uses '#' after a value
 * too: cut at a '#' that follows white space, then trim. */
static void
clean_value(const char *in, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s", in);
	for (char *h = out; (h = strchr(h, '#')); h++)
		if (h == out || isspace((unsigned char)h[-1])) {
			*h = '\0';
			break;
		}
	size_t n = strlen(out);
	while (n && isspace((unsigned char)out[n - 1]))
		out[--n] = '\0';
}

/* Call item(word) for each comma- or space-separated word of v; stop at
 * the first that returns false. */
static bool
each_word(char *v, bool (*item)(struct load *, const char *), struct load *l)
{
	int n = 0;
	for (char *w = strtok(v, ", \t"); w; w = strtok(NULL, ", \t"), n++)
		if (!item(l, w))
			return false;
	return n > 0;
}

static bool bad(struct load *l, const char *fmt, ...) PRINTF(2, 3);

static bool
bad(struct load *l, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(l->err, l->errlen, fmt, ap);
	va_end(ap);
	return false;
}

static bool
add_port(struct load *l, const char *w)
{
	char *end;
	errno = 0;
	long v = strtol(w, &end, 10);
	if (errno || end == w || *end || v < 1 || v > 65535)
		return bad(l, "allow-ports wants port numbers, not '%s'", w);
	if (l->p->nports >= POLICY_MAX_PORTS)
		return bad(l, "allow-ports: more than 16 ports (%s)", w);
	l->p->ports[l->p->nports++] = (int)v;
	return true;
}

static bool
add_mode(struct load *l, const char *w)
{
	int m = tls_mode_from_name(w);
	if (m < 0 || m == TLSM_AUTO)
		return bad(l, "tls wants starttls, implicit or none, not '%s'", w);
	l->p->tls_modes |= 1u << m;
	return true;
}

static bool
add_mech(struct load *l, const char *w)
{
	int m = auth_mech_from_name(w);
	if (m < 0 || m == AM_AUTO)
		return bad(l, "auth wants plain, login, cram-md5, scram-sha-256, "
			   "xoauth2, oauthbearer or external, not '%s'", w);
	l->p->mechs |= 1u << m;
	return true;
}

static int
yes_no(const char *v)
{
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1") ||
	    !strcasecmp(v, "on"))
		return 1;
	if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0") ||
	    !strcasecmp(v, "off"))
		return 0;
	return -1;
}

static int
on_item(void *user, const char *section, const char *name, const char *value)
{
	struct load *l = user;
	char v[512];
	int yn;

	if (l->failed)
		return 0;
	if (strcasecmp(section, "policy") != 0) {
		snprintf(l->err, l->errlen, "unknown section [%s] (only [policy])",
			 section);
		return 0;
	}
	l->any_section = true;
	clean_value(value, v, sizeof v);
	bool ok = true;
	if (!strcmp(name, "allow-ports")) {
		l->p->nports = 0;
		ok = each_word(v, add_port, l) ||
		     (l->err[0] ? false : bad(l, "allow-ports is empty"));
	} else if (!strcmp(name, "tls")) {
		l->p->tls_modes = 0;
		ok = each_word(v, add_mode, l) ||
		     (l->err[0] ? false : bad(l, "tls is empty"));
	} else if (!strcmp(name, "auth")) {
		l->p->mechs = 0;
		ok = each_word(v, add_mech, l) ||
		     (l->err[0] ? false : bad(l, "auth is empty"));
	} else if (!strcmp(name, "min-tls")) {
		if (!strcmp(v, "1.0")) l->p->min_tls = 10;
		else if (!strcmp(v, "1.1")) l->p->min_tls = 11;
		else if (!strcmp(v, "1.2")) l->p->min_tls = 12;
		else if (!strcmp(v, "1.3")) l->p->min_tls = 13;
		else ok = bad(l, "min-tls wants 1.0, 1.1, 1.2 or 1.3, not '%s'", v);
	} else if (!strcmp(name, "require-verified-cert")) {
		if ((yn = yes_no(v)) < 0)
			ok = bad(l, "require-verified-cert wants yes or no, not '%s'", v);
		else
			l->p->require_verified = yn;
	} else if (!strcmp(name, "forbid-port-25-submission")) {
		if ((yn = yes_no(v)) < 0)
			ok = bad(l, "forbid-port-25-submission wants yes or no, not "
				 "'%s'", v);
		else
			l->p->forbid_port25 = yn;
	} else {
		ok = bad(l, "unknown key '%s' (allow-ports, tls, min-tls, auth, "
			 "require-verified-cert, forbid-port-25-submission)", name);
	}
	return ok ? 1 : 0;
}

int
policy_load(const char *path, struct team_policy *p, char *err, size_t errlen)
{
	char why[256] = "";
	memset(p, 0, sizeof *p);
	p->file = path;
	struct load l = { .p = p, .err = why, .errlen = sizeof why };

	if (file_input_check(path, FILE_INPUT_MAX, why, sizeof why) < 0) {
		snprintf(err, errlen, "--policy %s%s%s", path,
			 why[0] == 'i' ? " " : ": ", why);
		return -1;
	}
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "--policy %s: %s", path, strerror(errno));
		return -1;
	}
	int line = ini_parse_file(f, on_item, &l);
	fclose(f);
	if (line != 0) {
		snprintf(err, errlen, "--policy %s:%d: %s", path, line,
			 why[0] ? why : "not an INI line ([policy], then key = value)");
		return -1;
	}
	if (!l.any_section) {
		snprintf(err, errlen, "--policy %s: no [policy] section with rules",
			 path);
		return -1;
	}
	return 0;
}

/* ---- the rules ----------------------------------------------------------- */

bool
policy_allows(const struct team_policy *p, int port, enum tls_mode mode)
{
	if (p->nports) {
		bool found = false;
		for (int i = 0; i < p->nports; i++)
			found |= p->ports[i] == port;
		if (!found)
			return false;
	}
	if (p->tls_modes && mode != TLSM_AUTO && !(p->tls_modes & (1u << mode)))
		return false;
	return true;
}

static void
list_ports(const struct team_policy *p, struct buf *b)
{
	for (int i = 0; i < p->nports; i++)
		buf_printf(b, "%s%d", i ? ", " : "", p->ports[i]);
}

static void
list_bits(unsigned bits, const char *(*name)(int), int n, struct buf *b)
{
	int k = 0;
	for (int i = 0; i < n; i++)
		if (bits & (1u << i))
			buf_printf(b, "%s%s", k++ ? ", " : "", name(i));
}

static const char *
mode_name(int m)
{
	return tls_mode_name((enum tls_mode)m);
}

static const char *
mech_name(int m)
{
	return auth_mech_name((enum auth_mech)m);
}

static const char *
version_name(int v)
{
	switch (v) {
	case 10: return "1.0";
	case 11: return "1.1";
	case 12: return "1.2";
	case 13: return "1.3";
	}
	return "?";
}

/* One policy.violation: evidence "rule: what was seen", an explanation,
 * a fix, and a one-step path. */
static void
violation(struct diag_list *out, enum step step, const char *rule,
	  char *seen, char *explanation, char *fix)
{
	int id = diag_from_id("policy.violation");
	out->v = xrealloc(out->v, (out->n + 1) * sizeof *out->v);
	struct diagnosis *d = &out->v[out->n++];
	memset(d, 0, sizeof *d);
	d->id = (enum diag_id)id;
	d->sev = SEV_ERROR;
	d->step = step;
	d->evidence = xasprintf("policy rule %s: %s", rule, seen);
	d->explanation = explanation;
	d->fix = fix;
	d->path = xmalloc(sizeof *d->path);
	d->path[0].node = "policy.rule";
	d->path[0].question = "Does the session keep every rule of the policy file?";
	d->path[0].answer = xasprintf("no: %s", rule);
	d->npath = 1;
	free(seen);
}

/* "SCRAM-SHA-256-PLUS" -> AM_SCRAM_SHA_256 (channel binding is the same
 * mechanism, only stronger); -1 unknown. */
static int
mech_of(const char *used)
{
	char base[40];
	snprintf(base, sizeof base, "%s", used);
	size_t n = strlen(base);
	if (n > 5 && !strcasecmp(base + n - 5, "-PLUS"))
		base[n - 5] = '\0';
	return auth_mech_from_name(base);
}

int
policy_check(const struct team_policy *p, const struct policy_seen *s,
	     struct diag_list *out)
{
	size_t before = out->n;
	const char *file = p->file ? p->file : "the policy file";

	bool port_ok = !p->nports;
	for (int i = 0; i < p->nports; i++)
		port_ok |= p->ports[i] == s->port;
	if (!port_ok) {
		struct buf b = { 0 };
		list_ports(p, &b);
		violation(out, STEP_CONNECT, "allow-ports",
			  xasprintf("port %d is not among %s", s->port, b.data),
			  xasprintf("The team's policy (%s) allows submission on "
				    "ports %s only; this session used port %d. A "
				    "client set up this way breaks the agreed "
				    "setup even when the session works.", file,
				    b.data, s->port),
			  xasprintf("Use one of the allowed ports (%s) with its TLS "
				    "mode, or change the policy if port %d is meant "
				    "to be allowed.", b.data, s->port));
		buf_free(&b);
	}
	if (p->tls_modes && !(p->tls_modes & (1u << s->mode))) {
		struct buf b = { 0 };
		list_bits(p->tls_modes, mode_name, 4, &b);
		violation(out, s->mode == TLSM_IMPLICIT ? STEP_TLS : STEP_STARTTLS,
			  "tls", xasprintf("TLS mode %s is not among %s",
					   tls_mode_name(s->mode), b.data),
			  xasprintf("The policy (%s) allows the TLS modes %s; this "
				    "session used %s.%s", file, b.data,
				    tls_mode_name(s->mode),
				    s->mode == TLSM_NONE ? " Without TLS, the login "
				    "and the mail cross the network in clear text." :
				    ""),
			  xasprintf("Use --tls with one of %s (and the port that "
				    "speaks it).", b.data));
		buf_free(&b);
	}
	if (p->min_tls && s->tls_version && s->tls_version < p->min_tls)
		violation(out, STEP_TLS, "min-tls",
			  xasprintf("TLS %s was negotiated, the policy wants %s or "
				    "newer", version_name(s->tls_version),
				    version_name(p->min_tls)),
			  xasprintf("The policy (%s) accepts TLS %s or newer; the "
				    "server and smtpdx agreed on TLS %s, which the "
				    "policy treats as too weak.", file,
				    version_name(p->min_tls),
				    version_name(s->tls_version)),
			  xasprintf("Enable TLS %s or newer on the server (and "
				    "check the client's --tls-min).",
				    version_name(p->min_tls)));
	if (p->mechs && s->mech && *s->mech) {
		int m = mech_of(s->mech);
		if (m < 0 || !(p->mechs & (1u << m))) {
			struct buf b = { 0 };
			list_bits(p->mechs, mech_name, 6, &b);
			violation(out, STEP_AUTH, "auth",
				  xasprintf("AUTH %s is not among %s", s->mech,
					    b.data),
				  xasprintf("The policy (%s) allows the AUTH "
					    "mechanisms %s; this session logged in "
					    "with %s.", file, b.data, s->mech),
				  xasprintf("Choose an allowed mechanism with "
					    "--auth (%s), or enable one on the "
					    "server.", b.data));
			buf_free(&b);
		}
	}
	if (p->require_verified && s->cert_checked && !s->verified)
		violation(out, STEP_TLS, "require-verified-cert",
			  xasprintf("the certificate was not verified"),
			  xasprintf("The policy (%s) requires a verified "
				    "certificate: without one, anyone on the path "
				    "can pose as the server and read the login.",
				    file),
			  xasprintf("Give the server a certificate from a trusted "
				    "CA for its name (or --cafile for a private "
				    "CA), and do not use --insecure."));
	if (p->forbid_port25 && s->auth_tried && s->role_port == 25)
		violation(out, STEP_AUTH, "forbid-port-25-submission",
			  xasprintf("AUTH on port 25"),
			  xasprintf("The policy (%s) forbids submission on port "
				    "25, which is for server-to-server relay (RFC "
				    "5321) and blocked outbound by most cloud and "
				    "residential networks.", file),
			  xasprintf("Submit on 587 (STARTTLS) or 465 (implicit "
				    "TLS) instead."));
	return (int)(out->n - before);
}

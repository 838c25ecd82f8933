/*
 * main.c - the driver: options, the lab, then the TUI or a batch/JSON run.
 * Exit statuses are decided here and only here (CONTRACT.md).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "deliver.h"
#include "diag.h"
#include "imap.h"
#include "lab/lab.h"
#include "lab/workshop.h"
#include "mx.h"
#include "message.h"
#include "options.h"
#include "profile.h"
#include "provider.h"
#include "findfix.h"
#include "report.h"
#include "run.h"
#include "sasl.h"
#include "session.h"
#include "sweep.h"
#include "tls.h"
#include "util.h"
#include "../ui/tui.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_INTERNAL = 3 };

static int
list_diagnoses(void)
{
	for (int i = 0; i < D_COUNT; i++) {
		const struct diag_info *d = diag_info((enum diag_id)i);
		printf("%s\t%s\n", d->id, d->title);
	}
	return EXIT_OK;
}

/* The workshop keys of a scenario in --lab list --json: "difficulty",
 * "level", "goal", "fix_side" ("client" or "server"), "fix",
 * "fix_settings" (the form's fields, named as the long options), "hints",
 * "fixit" (fix-it mode offers it). */
static void
lesson_json(struct buf *b, const struct lab_scenario *sc)
{
	const struct lab_lesson *l = lab_lesson(sc->name);
	if (!l)
		return;
	buf_printf(b, ",\"difficulty\":\"%s\",\"level\":%d,\"goal\":",
		 lab_level_name(l->level), l->level);
	json_string(b, l->goal);
	buf_printf(b, ",\"fix_side\":\"%s\",\"fix\":", l->client ? "client" : "server");
	json_string(b, l->fix);
	buf_adds(b, ",\"fix_settings\":{");
	const struct { const char *key, *v; } f[] = {
		{ "host", l->set.host }, { "port", l->set.port },
		{ "tls", l->set.tls },
		{ "servername", l->set.servername }, { "user", l->set.user },
		{ "password", l->set.password }, { "auth", l->set.mech },
		{ "from", l->set.from }, { "to", l->set.to },
	};
	bool first = true;
	for (size_t i = 0; i < ARRAY_SIZE(f); i++) {
		if (!f[i].v)
			continue;
		buf_printf(b, "%s\"%s\":", first ? "" : ",", f[i].key);
		json_string(b, f[i].v);
		first = false;
	}
	buf_adds(b, "},\"hints\":[");
	for (int i = 0; i < lab_hint_count(l); i++) {
		if (i)
			buf_addc(b, ',');
		json_string(b, l->hints[i]);
	}
	buf_printf(b, "],\"fixit\":%s", lab_fixable(sc) ? "true" : "false");
}

/* --lab list: name<TAB>description, grouped by stage in session order;
 * --lab list --json: {"scenarios": [{"name", "stage", "description"}]}. */
static int
list_lab(bool json)
{
	const struct lab_scenario *v[256];
	size_t n = lab_ordered(v, ARRAY_SIZE(v));
	if (!json) {
		for (size_t i = 0; i < n; i++)
			printf("%s\t%s\n", v[i]->name, v[i]->desc);
		return EXIT_OK;
	}
	struct buf b = { 0 };
	buf_adds(&b, "{\"scenarios\":[");
	for (size_t i = 0; i < n; i++) {
		buf_adds(&b, i ? ",{\"name\":" : "{\"name\":");
		json_string(&b, v[i]->name);
		buf_adds(&b, ",\"stage\":");
		json_string(&b, lab_stage(v[i]));
		buf_adds(&b, ",\"description\":");
		json_string(&b, v[i]->desc);
		buf_adds(&b, ",\"diagnosis\":");
		json_string(&b, v[i]->expect ? v[i]->expect : "");
		lesson_json(&b, v[i]);
		buf_addc(&b, '}');
	}
	buf_adds(&b, "]}\n");
	fputs(b.data, stdout);
	buf_free(&b);
	return EXIT_OK;
}

/* --lab handout: a Markdown sheet for a workshop that names every
 * scenario, grouped by stage, with the command and what to look for. */
static void
handout_markdown(FILE *out)
{
	const struct lab_scenario *v[256];
	size_t n = lab_ordered(v, ARRAY_SIZE(v));
	fprintf(out, "# SMTP, step by step: a workshop with smtpdx\n\n"
	       "Every exercise runs against the lab, a mail server built into "
	       "smtpdx\non your own machine: no network, no account. Each "
	       "scenario breaks one\nthing on purpose. Run it, step through the "
	       "session, and before you read\nthe diagnosis, say what went "
	       "wrong and who has to fix it.\n\n"
	       "## Before you start\n\n"
	       "- `smtpdx --lab` opens the healthy server in the TUI.\n"
	       "- Keys: `n` or space runs the next step, `r` runs to the end, "
	       "`R` starts over,\n  `:` types SMTP by hand, `v` shows plain "
	       "words under every line, `?` help,\n  `q` quits.\n"
	       "- The lab's login: user `%s`, password `%s`; sender `%s`,\n"
	       "  recipient `%s`; the server calls itself `%s`.\n"
	       "- Any option you add changes the client's side: "
	       "`smtpdx --lab ok --tls implicit`\n  breaks a working session "
	       "on purpose.\n"
	       "- Your own client: `smtpdx --lab ok --lab-server ca.pem -p 2525` "
	       "serves the\n  lab on port 2525 for swaks, curl or a mail "
	       "program (trust ca.pem).\n"
	       "- Every scenario at once: `smtpdx --lab all --lab-server ca.pem "
	       "-p 2500` prints\n  a table of ports; each client that connects "
	       "gets a report card (did it\n  verify the certificate, keep the "
	       "password off plaintext, ...).\n"
	       "- Which port? `w` in the TUI (or `--sweep`) advises on the lab's "
	       "own mail host:\n  `smtpdx --lab ports.587-blocked`, then `w`.\n"
	       "- Workshop modes: `L` in the TUI picks a scenario by stage; "
	       "`smtpdx --lab mystery`\n  hides the scenario until you name "
	       "the diagnosis; `smtpdx --lab fixit` gives\n  wrong client "
	       "settings to fix with `e` (`h` for a hint).\n",
	       LAB_USER, LAB_PASSWORD, LAB_FROM, LAB_TO, LAB_SERVERNAME);
	const char *stage = NULL;
	for (size_t i = 0; i < n; i++) {
		const char *st = lab_stage(v[i]);
		if (!stage || strcmp(stage, st)) {
			stage = st;
			fprintf(out, "\n## %s\n\n| scenario | what happens | look for |\n"
			       "|---|---|---|\n", lab_stage_title(st));
		}
		int d = v[i]->expect ? diag_from_id(v[i]->expect) : -1;
		fprintf(out, "| `smtpdx --lab %s` | %s | %s |\n", v[i]->name, v[i]->desc,
		       d >= 0 ? diag_info((enum diag_id)d)->title :
		       "every step ticked, the mail accepted");
	}
	fprintf(out, "\n## Questions to ask of every failure\n\n"
	       "1. Which step failed, and which line of the transcript says "
	       "so?\n"
	       "2. Temporary (4xx) or permanent (5xx)? What does the enhanced "
	       "code (x.y.z) add?\n"
	       "3. Is the fix on the client (port, TLS mode, name, login) or "
	       "on the server?\n"
	       "4. Press `T`: which questions did the decision tree ask to get "
	       "there?\n");
}


/* Inline Markdown of the handout as HTML: escaped, `code` as <code>. */
static void
html_inline(FILE *out, const char *s, size_t n)
{
	bool code = false;
	for (size_t i = 0; i < n; i++) {
		switch (s[i]) {
		case '`':
			fputs(code ? "</code>" : "<code>", out);
			code = !code;
			break;
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		default: fputc(s[i], out);
		}
	}
	if (code)
		fputs("</code>", out);
}

/*
 * --lab handout --format html: the Markdown sheet, the same data, as one
 * HTML page for printing.  Only what handout_markdown() writes is
 * understood: headings, paragraphs, "- " and "1. " lists (continued by
 * lines indented two spaces), tables, `code`.
 */
static void
handout_html(FILE *out, const char *md)
{
	enum { NONE, PARA, UL, OL, TABLE } in = NONE;
	static const char *const close[] = { "", "</p>\n", "</li></ul>\n",
					     "</li></ol>\n", "</table>\n" };
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<title>SMTP, step by step: a workshop with smtpdx</title>\n"
	      "<style>body{font-family:sans-serif;max-width:60em;margin:auto}"
	      "table{border-collapse:collapse;width:100%}td,th{border:1px solid "
	      "#999;padding:.2em .4em;text-align:left;vertical-align:top}"
	      "code{font-size:90%}h2{page-break-after:avoid}"
	      "tr{page-break-inside:avoid}</style>\n</head><body>\n", out);
	for (const char *p = md; *p; ) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		const char *next = nl ? nl + 1 : p + n;
		if (n == 0) {
			fputs(close[in], out);
			in = NONE;
		} else if (!strncmp(p, "## ", 3) || !strncmp(p, "# ", 2)) {
			fputs(close[in], out);
			in = NONE;
			int h = p[1] == '#' ? 2 : 1;
			fprintf(out, "<h%d>", h);
			html_inline(out, p + h + 1, n - (size_t)h - 1);
			fprintf(out, "</h%d>\n", h);
		} else if (p[0] == '|') {
			bool head = in != TABLE;
			if (head) {
				fputs(close[in], out);
				fputs("<table>\n", out);
				in = TABLE;
			}
			if (!strncmp(p, "|---", 4)) {
				p = next;
				continue;
			}
			fputs("<tr>", out);
			const char *c = p + 1, *end = p + n;
			while (c < end) {
				const char *bar = memchr(c, '|', (size_t)(end - c));
				if (!bar)
					break;
				const char *a = c, *z = bar;
				while (a < z && *a == ' ')
					a++;
				while (z > a && z[-1] == ' ')
					z--;
				fputs(head ? "<th>" : "<td>", out);
				html_inline(out, a, (size_t)(z - a));
				fputs(head ? "</th>" : "</td>", out);
				c = bar + 1;
			}
			fputs("</tr>\n", out);
		} else if (!strncmp(p, "- ", 2) || (isdigit((unsigned char)p[0]) &&
						     !strncmp(p + 1, ". ", 2))) {
			bool ol = p[0] != '-';
			if (in == (ol ? OL : UL)) {
				fputs("</li><li>", out);
			} else {
				fputs(close[in], out);
				fputs(ol ? "<ol><li>" : "<ul><li>", out);
				in = ol ? OL : UL;
			}
			html_inline(out, p + (ol ? 3 : 2), n - (ol ? 3 : 2));
			fputc('\n', out);
		} else {
			if (in == NONE) {
				fputs("<p>", out);
				in = PARA;
			}
			const char *a = p;
			while (*a == ' ' && a < p + n)
				a++;
			html_inline(out, a, n - (size_t)(a - p));
			fputc('\n', out);
		}
		p = next;
	}
	fputs(close[in], out);
	fputs("</body></html>\n", out);
}

/* --lab handout [--format markdown|html] */
static int
lab_handout(const char *format)
{
	if (!format || !strcmp(format, "markdown")) {
		handout_markdown(stdout);
		return EXIT_OK;
	}
	char *md = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&md, &len);
	if (!f)
		return EXIT_INTERNAL;
	handout_markdown(f);
	fclose(f);
	handout_html(stdout, md);
	free(md);
	return EXIT_OK;
}

/* The terminal as it was before the no-echo prompt, for the signal
 * handler: Ctrl-C, Ctrl-\\ or a kill at the prompt must not leave the
 * user's terminal without echo. */
static volatile sig_atomic_t prompt_fd = -1;
static struct termios prompt_saved, prompt_quiet;

static void
prompt_signal(int sig)
{
	int saved_errno = errno;
	if (prompt_fd >= 0)
		tcsetattr(prompt_fd, TCSAFLUSH, &prompt_saved);
	signal(sig, SIG_DFL);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, sig);
	/* delivered now, by default: INT, QUIT, TERM, HUP end the process
	 * (the shell sees the signal), TSTP stops it here... */
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	/* ...and after fg, the prompt goes on without echo */
	if (sig == SIGTSTP) {
		signal(SIGTSTP, prompt_signal);
		if (prompt_fd >= 0)
			tcsetattr(prompt_fd, TCSAFLUSH, &prompt_quiet);
	}
	errno = saved_errno;
}

/* Ask for a secret on the terminal ("password for alice: "), without
 * echo.  NULL if there is no terminal. */
static char *
prompt_secret(const char *what, const char *whose)
{
	static const int sigs[] = { SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGTSTP };
	struct sigaction sa = { .sa_handler = prompt_signal }, old_sa[5];
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct termios old, quiet;
	if (tcgetattr(fd, &old) < 0) {
		close(fd);
		return NULL;
	}
	secrets_protect();
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	prompt_saved = old;
	prompt_quiet = quiet;
	prompt_fd = fd;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaction(sigs[i], &sa, &old_sa[i]);
	/* echo off before the prompt shows: what is typed once it is seen
	 * must never be echoed (nor flushed away) */
	tcsetattr(fd, TCSAFLUSH, &quiet);
	dprintf(fd, "%s for %s: ", what, whose);
	/* a line, whole: a long token is not cut (the terminal's own line
	 * limit, 4095 bytes on Linux, is the only one) */
	size_t cap = 64 * 1024, n = 0;
	char *buf = xmalloc(cap + 1);
	while (n < cap) {
		ssize_t k = read(fd, buf + n, cap - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		n += (size_t)k;
		if (memchr(buf + n - (size_t)k, '\n', (size_t)k))
			break;
	}
	tcsetattr(fd, TCSAFLUSH, &old);
	prompt_fd = -1;
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaction(sigs[i], &old_sa[i], NULL);
	dprintf(fd, "\n");
	close(fd);
	char *p = NULL;
	if (n > 0) {
		buf[n] = '\0';
		buf[strcspn(buf, "\r\n")] = '\0';
		p = xstrdup(buf);
	}
	wipe(buf, cap + 1);
	free(buf);
	return p;
}

static char *
prompt_password(const char *user)
{
	return prompt_secret("password", user);
}

/* An encrypted --key's passphrase (options_set_key_prompt()). */
static char *
prompt_key_passphrase(const char *key)
{
	return prompt_secret("passphrase", key);
}

struct line_out {
	bool color;
};

static void
print_line(const struct tr_line *l, void *arg)
{
	const struct line_out *o = arg;
	report_line(stdout, l, o->color);
	fflush(stdout);
}

/* Run one session to its end, printing its transcript as it goes
 * (--batch).  The caller reports and frees it. */
static void
drive(struct session *s, const struct config *cfg, bool json, bool color)
{
	struct line_out o = { color };
	session_run_alt(s, cfg, json ? NULL : print_line, &o);
}

/* The command line as given, for --find-fix's command. */
static int g_argc;
static char **g_argv;

/* --fetch-back: what the read-back needs besides the session. */
struct fb_req {
	const char *url;		/* NULL: no read-back */
	const char *password;
	const char *servername;		/* --servername when the IMAP host is
					 * the SMTP host, else NULL */
};

/* Read the session's message back (--fetch-back), when it was accepted.
 * Returns true when it ran (fb filled). */
static bool
fetch_back(const struct session *s, const struct config *cfg,
	   const struct fb_req *req, struct fetchback *fb)
{
	enum step_status st = s->status[STEP_DATA];
	if ((st != SS_OK && st != SS_WARN) || !s->sent.token_header ||
	    !s->sent.token[0])
		return false;
	struct fb_opts fo = {
		.password = req->password,
		.cafile = cfg->cafile,
		.servername = req->servername,
		.insecure = cfg->insecure,
		.tls_min = cfg->tls_min,
		.family = cfg->family == FAM_V4 ? AF_INET :
			  cfg->family == FAM_V6 ? AF_INET6 : AF_UNSPEC,
		.timeout = cfg->timeout,
		.token_header = s->sent.token_header,
		.token = s->sent.token,
	};
	char err[256];
	if (fb_url_parse(req->url, &fo.url, err, sizeof err) < 0)
		return false;	/* checked by options_parse already */
	fetchback_run(&fo, fb);
	if (!strcmp(fb->status, "found"))
		fb_judge(&fb->h, session_sender(s), &fb->diags);
	return true;
}

static int
run_batch(const struct config *cfg, bool json, bool color, bool find_fix,
	  const struct fb_req *req)
{
	struct session *s = session_new(cfg);

	drive(s, cfg, json, color);
	int status = session_exit_status(s);
	struct findfix ff;
	bool tried = find_fix && status != 0;
	if (tried)
		findfix_run(cfg, s, g_argc, g_argv, &ff);
	struct fetchback fb;
	bool fetched = req->url && fetch_back(s, cfg, req, &fb);
	if (fetched && diag_has_error(&fb.diags))
		status = 1;
	if (req->url && !fetched && !json) {
		struct tr_line l = { .dir = TR_INFO, .step = -1, .text =
				     (char *)"--fetch-back: nothing to read back "
				     "(the message was not accepted)" };
		report_line(stdout, &l, color);
	}
	if (json) {
		struct report_extra x = { .used = -1,
					  .diags = fetched ? &fb.diags : NULL };
		char *j = report_json_ex(s, &x);
		if (req->url) {
			/* not accepted: nothing was read back, and it says so */
			size_t n = strlen(j);
			struct buf b = { 0 };
			buf_add(&b, j, n - 2);
			buf_adds(&b, ",\"fetch_back\":");
			if (fetched)
				fetchback_json(&b, &fb);
			else
				buf_adds(&b, "{\"status\":\"not_sent\"}");
			buf_adds(&b, "}\n");
			free(j);
			j = buf_steal(&b);
		}
		size_t n = strlen(j);
		if (tried && n >= 2 && j[n - 2] == '}') {
			struct buf b = { 0 };
			buf_add(&b, j, n - 2);
			findfix_json(&b, &ff);
			buf_adds(&b, "}\n");
			free(j);
			j = buf_steal(&b);
		}
		fputs(j, stdout);
		free(j);
	} else {
		report_summary(stdout, s, color);
		if (tried)
			findfix_text(stdout, &ff, s, color);
		if (fetched) {
			fputc('\n', stdout);
			for (size_t i = 0; i < fb.tr.n; i++)
				report_line(stdout, &fb.tr.v[i], color);
			fetchback_text(stdout, &fb, color);
			for (size_t i = 0; i < fb.diags.n; i++)
				report_diagnosis(stdout, &fb.diags.v[i], color, false);
			printf("result with the read-back: %s (%.3f s)\n",
			       status ? "fail" : "ok", fb.seconds);
		}
	}
	fflush(stdout);
	if (tried)
		findfix_free(&ff);
	if (fetched)
		fetchback_free(&fb);
	session_free(s);
	return status;
}

/* ---- --mx and --sweep --------------------------------------------------- */

/*
 * Did the server not answer at all, so that the next MX should be tried
 * (RFC 5321 §5.1)?  No connection, no greeting, a greeting of 4xx, or a
 * silent implicit-TLS port.  A reply, even a refusal, is an answer.
 */
static bool
no_answer(const struct session *s)
{
	const struct facts *f = &s->facts;
	if (f->failed_step == STEP_CONNECT)
		return true;
	if (f->failed_step == STEP_GREETING &&
	    (f->kind == FK_TIMEOUT || f->kind == FK_CLOSED ||
	     (f->kind == FK_REPLY && f->code / 100 == 4)))
		return true;
	return f->failed_step == STEP_TLS && f->kind == FK_TIMEOUT &&
	       s->tls_mode == TLSM_IMPLICIT && !s->tls.done;
}

/* The first error's id, or "answered". */
static const char *
outcome_of(const struct diag_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].sev == SEV_ERROR)
			return diag_info(l->v[i].id)->id;
	return "answered";
}


/* dns.no_mx: information, not from the tree (no step failed). */
static void
add_no_mx(struct diag_list *l, const struct mx_result *mx)
{
	const struct diag_info *di = diag_info(D_DNS_NO_MX);
	struct buf ev = { 0 };
	buf_printf(&ev, "no MX record for %s; its addresses:", mx->domain);
	for (int k = 0; k < mx->hosts[0].naddr; k++)
		buf_printf(&ev, " %s", mx->hosts[0].addrs[k]);
	if (!mx->hosts[0].naddr)
		buf_adds(&ev, " none");
	l->v = xrealloc(l->v, (l->n + 1) * sizeof *l->v);
	struct diagnosis *d = &l->v[l->n++];
	memset(d, 0, sizeof *d);
	d->id = D_DNS_NO_MX;
	d->sev = di->sev;
	d->step = di->step;
	d->evidence = buf_steal(&ev);
	d->explanation = str_subst(di->explanation, "{host}", mx->domain);
	d->fix = str_subst(di->fix, "{host}", mx->domain);
	d->path = xmalloc(sizeof *d->path);
	d->npath = 0;
}

/* dns.null_mx, dns.not_found, dns.failure: through the tree, as a failed
 * resolve step. */
static void
add_mx_failure(struct diag_list *l, const struct mx_result *mx, int port)
{
	struct facts f = { 0 };
	f.failed_step = STEP_RESOLVE;
	f.kind = mx->status == MX_NULL ? FK_NULL_MX :
		 mx->status == MX_NOT_FOUND ? FK_DNS_NOT_FOUND : FK_DNS_TEMPORARY;
	char *ev = mx->status == MX_NULL
		? xasprintf("%s. MX 0 . (the only MX record)", mx->domain)
		: xstrdup(mx->err);
	f.evidence = ev;
	f.text = "";
	f.port = port;
	f.tls_mode = TLSM_STARTTLS;
	f.host = f.servername = mx->domain;
	f.user = f.helo = f.from = f.to = f.mech = "";
	diag_decide(&f, l);
	free(ev);
}

static void
print_extra_diags(FILE *out, const struct diag_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		report_diagnosis(out, &l->v[i], false, false);
}

static void
info_line(FILE *out, bool color, const char *fmt, ...) PRINTF(3, 4);

static void
info_line(FILE *out, bool color, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *t = xvasprintf(fmt, ap);
	va_end(ap);
	struct tr_line l = { .dir = TR_INFO, .step = -1, .text = t };
	report_line(out, &l, color);
	free(t);
}


struct target {
	char host[256];		/* the name the user or the MX gave */
	char address[64];	/* "" : connect to host by name */
	int pref;
};

/*
 * --sweep and --mx: look up the MX hosts if asked, then run the session
 * (or the sweep) against each target in turn until one answers.
 */
static int
run_advisor(struct config *cfg, const struct options *o, bool json, bool color,
	    struct mx_result *looked_up)
{
	struct mx_result *mx = NULL;
	struct diag_list extra = { 0 };
	struct target *tg = NULL;
	int ntg = 0, ports[SWEEP_MAX_PORTS], nports = 0, status = EXIT_FAIL;
	struct mx_try tries[MX_MAX_HOSTS * MX_MAX_ADDRS];
	struct report_extra x = { .tries = tries, .used = -1, .diags = &extra };
	char err[256];

	if (o->sweep) {
		if (o->lab && !o->ports && !cfg->nportmap) {
			ports[nports++] = cfg->port;
		} else if ((nports = sweep_parse_ports(o->ports ? o->ports :
				SWEEP_DEFAULT_PORTS, ports, SWEEP_MAX_PORTS, err,
				sizeof err)) < 0) {
			fprintf(stderr, "smtpdx: %s\n", err);
			return EXIT_USAGE;
		}
	}
	if (cfg->mx) {
		/* a mail domain's MX hosts take mail on 25 unless told otherwise */
		if (!(o->set & OB_PORT))
			cfg->port = 25;
		int rc;
		if (looked_up) {
			/* the TUI's path looked it up already */
			mx = looked_up;
			rc = mx->status == MX_FOUND || mx->status == MX_IMPLICIT ? 0 : -1;
		} else {
			mx = xcalloc(1, sizeof *mx);
			rc = mx_lookup(cfg->host, cfg->family, mx);
		}
		x.mx = mx;
		if (!json)
			report_mx_text(stdout, mx, color);
		if (rc < 0) {
			add_mx_failure(&extra, mx, config_port(cfg));
			if (json) {
				struct session *s = session_new(cfg);
				char *j = report_json_ex(s, &x);
				fputs(j, stdout);
				free(j);
				session_free(s);
			} else {
				fputc('\n', stdout);
				print_extra_diags(stdout, &extra);
				printf("result: fail\n");
			}
			status = EXIT_FAIL;
			goto done;
		}
		if (mx->status == MX_IMPLICIT)
			add_no_mx(&extra, mx);
		tg = xcalloc(MX_MAX_HOSTS * MX_MAX_ADDRS, sizeof *tg);
		for (int i = 0; i < mx->n; i++) {
			const struct mx_host *h = &mx->hosts[i];
			if (!h->naddr) {
				struct mx_try *t = &tries[x.ntries++];
				snprintf(t->host, sizeof t->host, "%s", h->name);
				t->address[0] = '\0';
				snprintf(t->outcome, sizeof t->outcome, "no address");
			}
			for (int k = 0; k < h->naddr; k++) {
				snprintf(tg[ntg].host, sizeof tg[ntg].host, "%s", h->name);
				snprintf(tg[ntg].address, sizeof tg[ntg].address, "%s",
					 h->addrs[k]);
				tg[ntg++].pref = h->pref;
			}
		}
		if (ntg == 0) {
			if (!json)
				info_line(stdout, color, "no MX host has an address");
			add_mx_failure(&extra, &(struct mx_result){ .status = MX_NOT_FOUND,
				.err = "no MX host of the domain has an address" }, 25);
		}
	} else {
		tg = xcalloc(1, sizeof *tg);
		snprintf(tg[0].host, sizeof tg[0].host, "%s", cfg->host);
		ntg = 1;
	}

	for (int i = 0; i < ntg; i++) {
		struct config c;
		config_copy(&c, cfg);
		if (cfg->mx)
			config_set(&c.mx_domain, cfg->host);
		if (*tg[i].address) {
			config_set(&c.host, tg[i].address);
			if (!c.servername)
				config_set(&c.servername, tg[i].host);
		}
		bool last = i + 1 == ntg;
		if (mx && !json)
			info_line(stdout, color, "trying MX %s (preference %d) at %s",
				  tg[i].host, tg[i].pref, tg[i].address);
		struct mx_try *t = mx ? &tries[x.ntries++] : NULL;
		if (t) {
			snprintf(t->host, sizeof t->host, "%s", tg[i].host);
			snprintf(t->address, sizeof t->address, "%s", tg[i].address);
		}
		if (o->sweep) {
			struct sweep *w = sweep_new(&c, ports, nports,
						    cfg->mx ? SWEEP_RELAY : SWEEP_SUBMISSION);
			if (!json)
				info_line(stdout, color, "probing %d port%s of %s at once "
					  "(timeout %.0f s): implicit TLS first, STARTTLS "
					  "where the port greets in plaintext", nports,
					  nports == 1 ? "" : "s", c.host, c.timeout);
			sweep_run(w);
			bool silent = sweep_none_answered(w);
			if (t)
				snprintf(t->outcome, sizeof t->outcome, "%s",
					 silent ? "no answer on any port" : "answered");
			if (silent && !last) {
				if (!json)
					info_line(stdout, color, "no port of %s [%s] "
						  "answered: moving to the next MX",
						  tg[i].host, tg[i].address);
				sweep_free(w);
				config_free(&c);
				continue;
			}
			x.used = t ? x.ntries - 1 : -1;
			if (json) {
				char *j = report_sweep_json(w, &x);
				fputs(j, stdout);
				free(j);
			} else {
				report_sweep_text(stdout, w, color);
				if (extra.n) {
					fputc('\n', stdout);
					print_extra_diags(stdout, &extra);
				}
			}
			status = sweep_exit_status(w);
			sweep_free(w);
			config_free(&c);
			break;
		}
		struct session *s = session_new(&c);
		config_free(&c);
		drive(s, cfg, json, color);
		if (t)
			snprintf(t->outcome, sizeof t->outcome, "%s",
				 outcome_of(&s->diags));
		if (no_answer(s) && !last) {
			if (!json)
				info_line(stdout, color, "%s [%s] did not answer (%s): "
					  "moving to the next MX, %s [%s]", tg[i].host,
					  tg[i].address, outcome_of(&s->diags),
					  tg[i + 1].host, tg[i + 1].address);
			session_free(s);
			continue;
		}
		x.used = t ? x.ntries - 1 : -1;
		if (json) {
			char *j = report_json_ex(s, &x);
			fputs(j, stdout);
			free(j);
		} else {
			if (extra.n) {
				fputc('\n', stdout);
				print_extra_diags(stdout, &extra);
			}
			report_summary(stdout, s, color);
		}
		status = session_exit_status(s) || diag_has_error(&extra) ? EXIT_FAIL
									   : EXIT_OK;
		session_free(s);
		break;
	}
	if (ntg == 0) {
		if (json) {
			struct session *s = session_new(cfg);
			char *j = report_json_ex(s, &x);
			fputs(j, stdout);
			free(j);
			session_free(s);
		} else {
			print_extra_diags(stdout, &extra);
		}
		status = EXIT_FAIL;
	}
done:
	fflush(stdout);
	diag_list_free(&extra);
	free(tg);
	if (mx != looked_up)
		free(mx);
	return status;
}

/*
 * --sweep and --mx with a terminal: the TUI's sweep screen.  The MX
 * lookup blocks (mx.h), so it runs here, before curses starts, with a
 * line saying so; a lookup that leaves nothing to sweep (null MX, no such
 * domain, no address) is reported as --batch reports it.  Returns -1 when
 * the terminal cannot be used after all (the caller runs the batch path).
 */
static int
run_advisor_tui(struct config *cfg, const struct options *o, bool no_color,
		bool color, struct mx_result **mxp)
{
	char list[16], err[256];
	int ports[SWEEP_MAX_PORTS];
	const char *plist = o->ports;

	if (cfg->mx && !(o->set & OB_PORT))
		cfg->port = 25;
	if (!o->sweep || (o->lab && !o->ports && !cfg->nportmap)) {
		/* --mx alone: its one port; --lab --sweep: the lab's (its
		 * mail host plays the usual ports: those, then) */
		snprintf(list, sizeof list, "%d", config_port(cfg));
		plist = list;
	}
	if (sweep_parse_ports(plist ? plist : SWEEP_DEFAULT_PORTS, ports,
			      SWEEP_MAX_PORTS, err, sizeof err) < 0) {
		fprintf(stderr, "smtpdx: %s\n", err);
		return EXIT_USAGE;
	}
	struct mx_result *mx = NULL;
	if (cfg->mx) {
		printf("smtpdx: looking up the MX records of %s ...\n", cfg->host);
		fflush(stdout);
		mx = xcalloc(1, sizeof *mx);
		*mxp = mx;
		int rc = mx_lookup(cfg->host, cfg->family, mx);
		int naddr = 0;
		for (int i = 0; i < mx->n; i++)
			naddr += mx->hosts[i].naddr;
		if (rc < 0 || naddr == 0)
			return run_advisor(cfg, o, false, color, mx);
	}
	struct tui_opts to = {
		.no_color = no_color,
		.lab_name = o->lab ? (o->lab_name ? o->lab_name : "ok") : NULL,
		.mx = mx,
	};
	return tui_run_sweep(cfg, &to, plist);
}

/* --lab-server: hand the lab to another client (swaks, curl, a test). */
static int
serve_lab(const struct lab_server *ls, const struct lab_scenario *sc,
	  const char *cafile, const char *card_file)
{
	char deflt[256];
	if (!cafile) {
		const char *dir = getenv("TMPDIR");
		snprintf(deflt, sizeof deflt, "%s/smtpdx-lab-ca-%d.pem",
			 dir && *dir ? dir : "/tmp", ls->port);
		cafile = deflt;
	}
	FILE *f = fopen(cafile, "w");
	if (!f || fputs(ls->ca_pem, f) < 0 || fclose(f) != 0) {
		fprintf(stderr, "smtpdx: cannot write %s\n", cafile);
		return EXIT_INTERNAL;
	}
	/* a client certificate and key from the same CA, beside it (for
	 * --cert/--key, and the servers that demand one): mode 0600 */
	char client[300];
	size_t cl = strlen(cafile);
	snprintf(client, sizeof client, "%.*s-client.pem",
		 (int)(cl > 4 && !strcmp(cafile + cl - 4, ".pem") ? cl - 4 : cl),
		 cafile);
	int cfd = open(client, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FILE *cf = cfd >= 0 ? fdopen(cfd, "w") : NULL;
	if (!cf || fputs(ls->client_pem, cf) < 0 || fclose(cf) != 0) {
		fprintf(stderr, "smtpdx: cannot write %s\n", client);
		return EXIT_INTERNAL;
	}
	/* the first line is the port, alone: scripts read it */
	printf("%d\n", ls->port);
	if (sc)
		printf("# lab scenario %s on 127.0.0.1 port %d (%s)\n", sc->name,
		       ls->port, sc->flags & LF_IMPLICIT ? "implicit TLS" : "STARTTLS");
	else if (ls->want_port)
		printf("# every lab scenario, one port each, on 127.0.0.1 ports "
		       "%d-%d\n", ls->all[0].port, ls->all[ls->nall - 1].port);
	else
		printf("# every lab scenario, one port each, on 127.0.0.1 (the "
		       "ports below)\n");
	printf("# login: user %s, password %s\n"
	       "# CA: %s (trust it: swaks --tls-ca-path, curl --cacert); "
	       "server name %s\n", LAB_USER, LAB_PASSWORD, cafile, LAB_SERVERNAME);
	printf("# client certificate: --cert %s --key %s\n", client, client);
	if (!sc) {
		/* the table: one line per port, what to try there */
		printf("# %-5s  %-8s  %-28s  %s\n", "port", "TLS", "scenario",
		       "what to try");
		for (int i = 0; i < ls->nall; i++) {
			const struct lab_scenario *s = ls->all[i].sc;
			printf("# %-5d  %-8s  %-28s  %s\n", ls->all[i].port,
			       s->flags & LF_REFUSE ? "refused" :
			       s->flags & LF_BACKLOG_FULL ? "dropped" :
			       s->flags & LF_IMPLICIT ? "implicit" : "starttls",
			       s->name, s->desc);
		}
	}
	printf("# a report card per connection follows (how careful the client "
	       "was)%s%s\n", card_file ? "; JSON lines in " : "",
	       card_file ? card_file : "");
	fflush(stdout);
	sigset_t set;
	int sig;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigwait(&set, &sig);
	return EXIT_OK;
}

/*
 * The TUI's scenario picker: the lab again, on scenario name, and cfg
 * made afresh for it (the command line's own settings do not carry over:
 * a new exercise starts from its own).  ctx is main's lab server.
 */
static int
lab_switch(void *ctx, const char *name, struct config *cfg, char *err,
	   size_t errlen)
{
	struct lab_server *ls = ctx;
	const struct lab_scenario *sc = lab_find(name);
	if (!sc) {
		snprintf(err, errlen, "no lab scenario '%s'", name);
		return -1;
	}
	lab_stop(ls);
	memset(ls, 0, sizeof *ls);
	ls->mailhost = true;	/* w sweeps the lab's own ports */
	if (lab_start(sc, ls, err, errlen) < 0)
		return -1;
	struct config fresh;
	config_defaults(&fresh);
	lab_apply(sc, ls, &fresh);
	config_free(cfg);
	*cfg = fresh;
	return 0;
}

/* A seed for mystery and fix-it picks: SMTPDX_LAB_SEED (tests, or a
 * teacher who wants the whole room on one exercise), else the clock. */
static unsigned
lab_seed(void)
{
	const char *e = getenv("SMTPDX_LAB_SEED");
	if (e && *e)
		return (unsigned)strtoul(e, NULL, 10);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (unsigned)ts.tv_sec ^ (unsigned)ts.tv_nsec ^ (unsigned)getpid();
}

static bool
terminal_usable(void)
{
	const char *term = getenv("TERM");
	return isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) && term && *term &&
	       strcmp(term, "dumb") != 0;
}

int
main(int argc, char **argv)
{
	g_argc = argc;
	g_argv = argv;
	struct options o;
	char err[512];
	int status = EXIT_INTERNAL;
	struct lab_server ls = { 0 };
	struct config cfg, base = { 0 };

	setlocale(LC_ALL, "");
	signal(SIGPIPE, SIG_IGN);

	options_set_key_prompt(prompt_key_passphrase);
	if (options_parse(&o, argc, argv, err, sizeof err) < 0 ||
	    options_password(&o, err, sizeof err) < 0) {
		fprintf(stderr, "smtpdx: %s\n", err);
		options_free(&o);
		return EXIT_USAGE;
	}
	if (o.proxy_pass_in_argv)
		fprintf(stderr, "smtpdx: warning: the --proxy password was on the "
			"command line, where other users of this machine can see "
			"it (ps); give only the user in the URL and the password "
			"in SMTPDX_PROXY_PASSWORD\n");
	/* --profile: the file's settings under the command line's */
	struct options po;
	bool have_po = false;
	if (o.profile) {
		char *path = profile_config_path(o.config_file);
		int rc = profile_load(path, o.profile, &po, err, sizeof err);
		free(path);
		if (rc < 0 || (!(o.set & OB_PASSWORD) &&
			       options_password(&po, err, sizeof err) < 0)) {
			fprintf(stderr, "smtpdx: %s\n", err);
			if (rc == 0)
				options_free(&po);
			options_free(&o);
			return EXIT_USAGE;
		}
		have_po = true;
		options_apply_provider(&po);
		/* fetch-back = URL in the profile, under the command line's */
		if (!o.fetch_back && po.fetch_back)
			o.fetch_back = xstrdup(po.fetch_back);
		if (!(o.set & OB_HOST) && !(po.set & OB_HOST)) {
			fprintf(stderr, "smtpdx: [profile %s] names no host (add "
				"host = ...)\n", o.profile);
			options_free(&po);
			options_free(&o);
			return EXIT_USAGE;
		}
	}
	if (o.provider && !strcmp(o.provider, "list")) {
		provider_list(stdout);
		options_free(&o);
		return EXIT_OK;
	}
	options_apply_provider(&o);
	if (o.deliverability && !o.help && !o.version && !o.batch && !o.json &&
	    terminal_usable()) {
		/* on a terminal: the deliverability screen (`d` in the TUI) */
		config_defaults(&cfg);
		options_merge(&cfg, &o);
		struct tui_opts to = {
			.no_color = o.no_color || getenv("NO_COLOR") != NULL,
			.deliver_domain = o.deliverability,
			.dkim_selector = o.dkim_selector,
			.sending_ip = o.sending_ip,
		};
		status = tui_run(&cfg, &to);
		config_free(&cfg);
		options_free(&o);
		return status;
	}
	if (o.deliverability && !o.help && !o.version) {
		struct deliver_report dr;
		struct deliver_opts dopt = {
			.cafile = o.cfg.cafile, .timeout = o.cfg.timeout,
			.sending_ip = o.sending_ip,
			.dkim_selector = o.dkim_selector,
		};
		deliver_run(o.deliverability, &dopt, &dr);
		if (o.json) {
			char *j = deliver_json(&dr);
			fputs(j, stdout);
			free(j);
		} else {
			deliver_text(stdout, &dr, !o.no_color && !getenv("NO_COLOR") &&
				     isatty(STDOUT_FILENO));
		}
		status = deliver_exit_status(&dr);
		deliver_free(&dr);
		options_free(&o);
		return status;
	}
	if (o.help) {
		options_usage(stdout);
		options_free(&o);
		return EXIT_OK;
	}
	if (o.version) {
		printf("smtpdx %s (GnuTLS %s, GNU SASL %s, %s)\n", SMTPDX_VERSION,
		       tls_library_version(), sasl_library_version(), tui_versions());
		options_free(&o);
		return EXIT_OK;
	}
	if (o.list_diagnoses) {
		options_free(&o);
		return list_diagnoses();
	}

	if (o.format && !(o.lab && o.lab_name && !strcmp(o.lab_name, "handout"))) {
		fprintf(stderr, "smtpdx: --format is for --lab handout\n");
		options_free(&o);
		return EXIT_USAGE;
	}
	config_defaults(&cfg);
	int lab_mode = 0;		/* tui_opts.lab_mode */
	unsigned lab_seed_v = lab_seed();
	const struct lab_scenario *lab_pick = NULL;
	if (o.lab) {
		const char *name = o.lab_name ? o.lab_name : "ok";
		if (!strcmp(name, "list")) {
			bool json = o.json;
			options_free(&o);
			return list_lab(json);
		}
		if (!strcmp(name, "handout")) {
			char *fmt = o.format ? xstrdup(o.format) : NULL;
			options_free(&o);
			status = lab_handout(fmt);
			free(fmt);
			return status;
		}
		/* workshop modes (issue 14): a scenario chosen for the
		 * student; mystery hides its name, which no batch or JSON
		 * output could: those are refused */
		if (!strcmp(name, "mystery") || !strcmp(name, "fixit") ||
		    !strncmp(name, "mystery:", 8) || !strncmp(name, "fixit:", 6)) {
			lab_mode = name[0] == 'm' ? 1 : 2;
			if (o.batch || o.json || !terminal_usable() || o.lab_server) {
				fprintf(stderr, "smtpdx: --lab %s needs the TUI (a "
					"terminal, no --batch, --json or "
					"--lab-server)\n", lab_mode == 1 ? "mystery" :
					"fixit");
				options_free(&o);
				return EXIT_USAGE;
			}
			/* "mystery:NAME": a teacher's choice for the room */
			lab_pick = lab_mode == 1 ? (name[7] ? lab_find(name + 8) :
						    lab_mystery_pick(lab_seed_v)) :
				   name[5] ? lab_find(name + 6) : lab_fixit_pick(lab_seed_v);
			if (lab_pick && lab_mode == 1 && !lab_pick->expect) {
				fprintf(stderr, "smtpdx: %s diagnoses nothing: no "
					"mystery to name\n", lab_pick->name);
				options_free(&o);
				return EXIT_USAGE;
			}
			if (lab_pick && lab_mode == 2 && !lab_fixable(lab_pick)) {
				fprintf(stderr, "smtpdx: %s cannot be fixed in the "
					"client: %s\n", lab_pick->name,
					lab_lesson(lab_pick->name) ?
					lab_lesson(lab_pick->name)->fix : "");
				options_free(&o);
				return EXIT_USAGE;
			}
			if (lab_pick)
				name = lab_pick->name;
		}
		const struct lab_scenario *sc = strcmp(name, "all") ?
						lab_find(name) : NULL;
		if (!sc && strcmp(name, "all")) {
			fprintf(stderr, "smtpdx: no lab scenario '%s' (smtpdx --lab list)\n",
				name);
			options_free(&o);
			return EXIT_USAGE;
		}
		if (o.lab_server && (o.set & OB_PORT))
			ls.want_port = o.cfg.port;
		if (o.lab_server) {
			/* report cards: text on stdout, JSON lines to
			 * --report-card FILE */
			ls.card_fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
			ls.card_color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
			if (o.report_card) {
				int fd = open(o.report_card, O_WRONLY | O_CREAT |
					      O_APPEND | O_CLOEXEC, 0644);
				if (fd < 0) {
					fprintf(stderr, "smtpdx: --report-card %s: %s\n",
						o.report_card, strerror(errno));
					options_free(&o);
					return EXIT_USAGE;
				}
				ls.card_json_fd = fd > 2 ? fd :
					fcntl(fd, F_DUPFD_CLOEXEC, 3);
			}
		} else if (o.report_card) {
			fprintf(stderr, "smtpdx: --report-card goes with "
				"--lab-server\n");
			options_free(&o);
			return EXIT_USAGE;
		}
		if (!strcmp(name, "all")) {
			if (!o.lab_server) {
				fprintf(stderr, "smtpdx: --lab all goes with "
					"--lab-server (every scenario, a port each)\n");
				options_free(&o);
				return EXIT_USAGE;
			}
			if (lab_start_all(&ls, err, sizeof err) < 0) {
				fprintf(stderr, "smtpdx: lab: %s\n", err);
				options_free(&o);
				return ls.want_port ? EXIT_USAGE : EXIT_INTERNAL;
			}
			status = serve_lab(&ls, NULL, o.lab_server_ca, o.report_card);
			goto out;
		}
		/* the whole mail host for --sweep and the TUI's `w`; a
		 * --lab-server serves the one scenario */
		ls.mailhost = !o.lab_server;
		if (lab_start(sc, &ls, err, sizeof err) < 0) {
			fprintf(stderr, "smtpdx: lab: %s\n", err);
			options_free(&o);
			return ls.want_port ? EXIT_USAGE : EXIT_INTERNAL;
		}
		lab_apply(sc, &ls, &cfg);
		if (o.lab_server) {
			status = serve_lab(&ls, sc, o.lab_server_ca, o.report_card);
			goto out;
		}
	}
	config_copy(&base, &cfg);	/* the lab's, or the defaults */
	if (have_po)
		options_merge(&cfg, &po);
	options_merge(&cfg, &o);
	config_set(&o.cfg.password, NULL);	/* one copy is enough: wiped */

	if (msg_holds_secret(&cfg)) {
		/* the message goes to the server and into the transcript */
		fprintf(stderr, "smtpdx: %s holds the AUTH password: refusing "
			"to send it (or show it)\n", msg_holds_secret(&cfg));
		status = EXIT_USAGE;
		goto out;
	}

	/* the read-back is a report, after the session: no TUI screen yet */
	if (o.fetch_back && !o.json)
		o.batch = true;
	bool tui = !o.batch && !o.json;
	if (tui && !terminal_usable()) {
		/* A terminal that cannot show the TUI (TERM=dumb: Emacs'
		 * shell, some IDE consoles; TERM unset) is a person waiting
		 * for screens: never start an unattended session, which may
		 * send mail, in their place.  They choose --batch. */
		if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
			fprintf(stderr, "smtpdx: TERM=%s cannot show the TUI: add "
				"--batch (plain text) or --json\n",
				getenv("TERM") ? getenv("TERM") : "");
			status = EXIT_USAGE;
			goto out;
		}
		tui = false;
	}
	/* colour only on a terminal that has it: never on TERM=dumb */
	const char *term = getenv("TERM");
	bool color = !o.no_color && !getenv("NO_COLOR") && isatty(STDOUT_FILENO) &&
		     term && *term && strcmp(term, "dumb") != 0;

	if (o.sweep || cfg.mx) {
		/* with a terminal: the sweep screen, which drives the same
		 * non-blocking API (sweep.h) from the TUI's loop */
		struct mx_result *mx = NULL;
		status = -1;
		if (tui)
			status = run_advisor_tui(&cfg, &o, o.no_color ||
						 getenv("NO_COLOR") != NULL, color, &mx);
		if (status < 0)
			status = run_advisor(&cfg, &o, o.json, color, mx);
		free(mx);
		goto out;
	}
	if (tui) {
		char *cpath = profile_config_path(o.config_file);
		struct tui_opts to = {
			.no_color = o.no_color || getenv("NO_COLOR") != NULL,
			.lab_name = o.lab ? (lab_pick ? lab_pick->name : o.lab_name ?
					     o.lab_name : "ok") : NULL,
			.lab_mode = lab_mode,
			.lab_seed = lab_seed_v,
			.lab_switch = o.lab ? lab_switch : NULL,
			.lab_ctx = &ls,
			.config_path = cpath,
			.base = &base,
		};
		status = tui_run(&cfg, &to);
		free(cpath);
		if (status < 0)
			tui = false;
	}
	if (!tui) {
		if (cfg.user && !cfg.password) {
			char *pw = prompt_password(cfg.user);
			if (!pw) {
				fprintf(stderr, "smtpdx: -u %s needs a password: "
					"--password-file FILE or SMTPDX_PASSWORD\n", cfg.user);
				status = EXIT_USAGE;
				goto out;
			}
			config_set(&cfg.password, pw);
			wipe(pw, strlen(pw));
			free(pw);
			if (msg_holds_secret(&cfg)) {
				fprintf(stderr, "smtpdx: %s holds the AUTH password: "
					"refusing to send it (or show it)\n",
					msg_holds_secret(&cfg));
				status = EXIT_USAGE;
				goto out;
			}
		}
		struct fb_req req = { .url = o.fetch_back };
		char *imap_pw = NULL;
		if (o.fetch_back) {
			struct fb_url u;
			fb_url_parse(o.fetch_back, &u, err, sizeof err);
			/* the mailbox's password: SMTPDX_IMAP_PASSWORD; else
			 * the SMTP login's means (--password-file, -command,
			 * SMTPDX_PASSWORD, the prompt) when the IMAP user is
			 * the SMTP user or there is no SMTP login; else ask */
			if (o.imap_password)
				imap_pw = xstrdup(o.imap_password);
			else if (cfg.password &&
				 (!cfg.user || !strcmp(cfg.user, u.user)))
				imap_pw = xstrdup(cfg.password);
			else {
				char who[600];
				snprintf(who, sizeof who, "%s (IMAP %s)", u.user,
					 u.host);
				imap_pw = prompt_password(who);
			}
			if (!imap_pw) {
				fprintf(stderr, "smtpdx: --fetch-back needs the "
					"password of %s: SMTPDX_IMAP_PASSWORD, or "
					"--password-file / SMTPDX_PASSWORD when it is "
					"the SMTP login's\n", u.user);
				status = EXIT_USAGE;
				goto out;
			}
			req.password = imap_pw;
			if (cfg.servername && cfg.host &&
			    !strcasecmp(cfg.host, u.host))
				req.servername = cfg.servername;
		}
		status = run_batch(&cfg, o.json, color, o.find_fix, &req);
		if (imap_pw) {
			wipe(imap_pw, strlen(imap_pw));
			free(imap_pw);
		}
	}
out:
	if (o.lab)
		lab_stop(&ls);
	config_free(&cfg);
	config_free(&base);
	if (have_po)
		options_free(&po);
	options_free(&o);
	return status;
}

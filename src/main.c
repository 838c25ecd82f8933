/*
 * main.c - the driver: options, the lab, then the TUI or a batch/JSON run.
 * Exit statuses are decided here and only here (CONTRACT.md).
 */
#include <fcntl.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "diag.h"
#include "lab/lab.h"
#include "options.h"
#include "report.h"
#include "sasl.h"
#include "session.h"
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

static int
list_lab(void)
{
	size_t n;
	const struct lab_scenario *sc = lab_scenarios(&n);
	for (size_t i = 0; i < n; i++)
		printf("%s\t%s\n", sc[i].name, sc[i].desc);
	return EXIT_OK;
}

/* Ask for the password on the terminal, without echo.  NULL if there is
 * no terminal. */
static char *
prompt_password(const char *user)
{
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct termios old, quiet;
	if (tcgetattr(fd, &old) < 0) {
		close(fd);
		return NULL;
	}
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	dprintf(fd, "password for %s: ", user);
	tcsetattr(fd, TCSAFLUSH, &quiet);
	char buf[1024];
	ssize_t n = read(fd, buf, sizeof buf - 1);
	tcsetattr(fd, TCSAFLUSH, &old);
	dprintf(fd, "\n");
	close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	char *p = xstrdup(buf);
	wipe(buf, sizeof buf);
	return p;
}

static int
run_batch(const struct config *cfg, bool json, bool color)
{
	struct session *s = session_new(cfg);
	size_t shown = 0;

	session_go(s, RUN_ALL);
	while (!s->finished) {
		if (!json) {
			for (; shown < s->tr.n; shown++)
				report_line(stdout, &s->tr.v[shown], color);
			fflush(stdout);
		}
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
	int status = session_exit_status(s);
	if (json) {
		char *j = report_json(s);
		fputs(j, stdout);
		free(j);
	} else {
		for (; shown < s->tr.n; shown++)
			report_line(stdout, &s->tr.v[shown], color);
		report_summary(stdout, s, color);
	}
	fflush(stdout);
	session_free(s);
	return status;
}

/* --lab-server: hand the lab to another client (swaks, curl, a test). */
static int
serve_lab(const struct lab_server *ls, const char *cafile)
{
	FILE *f = fopen(cafile, "w");
	if (!f || fputs(ls->ca_pem, f) < 0 || fclose(f) != 0) {
		fprintf(stderr, "smtpdx: cannot write %s\n", cafile);
		return EXIT_INTERNAL;
	}
	printf("%d\n", ls->port);
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
	struct options o;
	char err[512];
	int status = EXIT_INTERNAL;
	struct lab_server ls = { 0 };
	struct config cfg;

	setlocale(LC_ALL, "");
	signal(SIGPIPE, SIG_IGN);

	if (options_parse(&o, argc, argv, err, sizeof err) < 0 ||
	    options_password(&o, err, sizeof err) < 0) {
		fprintf(stderr, "smtpdx: %s\n", err);
		options_free(&o);
		return EXIT_USAGE;
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
	if (o.sweep || o.cfg.mx) {
		fprintf(stderr, "smtpdx: %s is not in this build yet\n",
			o.sweep ? "--sweep" : "--mx");
		options_free(&o);
		return EXIT_USAGE;
	}

	config_defaults(&cfg);
	if (o.lab) {
		const char *name = o.lab_name ? o.lab_name : "ok";
		if (!strcmp(name, "list")) {
			options_free(&o);
			return list_lab();
		}
		const struct lab_scenario *sc = lab_find(name);
		if (!sc) {
			fprintf(stderr, "smtpdx: no lab scenario '%s' (smtpdx --lab list)\n",
				name);
			options_free(&o);
			return EXIT_USAGE;
		}
		if (lab_start(sc, &ls, err, sizeof err) < 0) {
			fprintf(stderr, "smtpdx: lab: %s\n", err);
			options_free(&o);
			return EXIT_INTERNAL;
		}
		lab_apply(sc, &ls, &cfg);
		if (o.lab_server_ca) {
			status = serve_lab(&ls, o.lab_server_ca);
			goto out;
		}
	}
	options_merge(&cfg, &o);

	bool tui = !o.batch && !o.json;
	if (tui && !terminal_usable()) {
		if (isatty(STDOUT_FILENO))
			fprintf(stderr, "smtpdx: no usable terminal (TERM=%s): "
				"running as --batch\n", getenv("TERM") ? getenv("TERM") : "");
		tui = false;
	}
	bool color = !o.no_color && !getenv("NO_COLOR") && isatty(STDOUT_FILENO);

	if (tui) {
		struct tui_opts to = {
			.no_color = o.no_color || getenv("NO_COLOR") != NULL,
			.lab_name = o.lab ? (o.lab_name ? o.lab_name : "ok") : NULL,
		};
		status = tui_run(&cfg, &to);
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
		}
		status = run_batch(&cfg, o.json, color);
	}
out:
	if (o.lab)
		lab_stop(&ls);
	config_free(&cfg);
	options_free(&o);
	return status;
}

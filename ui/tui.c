/*
 * tui.c - the curses front end: start-up, the one event loop, the keys.
 *
 * One poll() waits on the terminal and on the session's socket, with the
 * session's deadline and, while a step waits, a 250 ms tick for the clock
 * on screen.  Each turn: let the session work, read every key there is,
 * see what changed, draw what is dirty, one doupdate().  The session is
 * driven exactly as --batch drives it (src/main.c), a step per `n`.
 *
 * While curses owns the screen, stderr goes to a temporary file and is
 * replayed after endwin(), so a stray message never tears the display.
 */
#include <errno.h>
#include <fcntl.h>
#include <histedit.h>
#include <langinfo.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "ui.h"
#include "../src/report.h"
#include "../src/util.h"

#define TICK_MS 250

static volatile sig_atomic_t got_signal;

/*
 * What it takes to give the terminal back from anywhere, a signal
 * handler or the out-of-memory path included: the terminal's own modes
 * from before curses, the strings that leave curses' screen (prepared
 * while curses could still be asked), and stderr's own descriptor with
 * the temporary file that held it meanwhile.  Only async-signal-safe
 * calls (write, tcsetattr, dup2, lseek, read).
 */
static volatile sig_atomic_t in_curses;
static struct termios term_orig;
static bool term_saved;
static char term_leave[256];
static size_t term_leave_len;
static int err_saved = -1, err_tmp = -1;

static void
term_restore_now(void)
{
	if (!in_curses)
		return;
	in_curses = 0;
	if (term_leave_len && write(STDOUT_FILENO, term_leave, term_leave_len) < 0) {
		/* nothing left to try */
	}
	if (term_saved)
		tcsetattr(STDIN_FILENO, TCSADRAIN, &term_orig);
	if (err_saved >= 0) {
		dup2(err_saved, STDERR_FILENO);
		if (err_tmp >= 0 && lseek(err_tmp, 0, SEEK_SET) == 0) {
			char buf[1024];
			ssize_t n;
			while ((n = read(err_tmp, buf, sizeof buf)) > 0)
				if (write(STDERR_FILENO, buf, (size_t)n) < 0)
					break;
		}
	}
}

/* Collect the strings that leave curses: the attributes, the cursor,
 * the keypad, the alternate screen. */
static void
term_leave_prepare(void)
{
	static const char *const caps[] = { "sgr0", "cnorm", "rmkx", "rmcup" };
	term_leave_len = 0;
	for (size_t i = 0; i < ARRAY_SIZE(caps); i++) {
		const char *v = tigetstr(caps[i]);
		if (!v || v == (char *)-1)
			continue;
		size_t n = strlen(v);
		if (term_leave_len + n >= sizeof term_leave)
			break;
		memcpy(term_leave + term_leave_len, v, n);
		term_leave_len += n;
	}
}

static void
say(const char *m)
{
	if (write(STDERR_FILENO, m, strlen(m)) < 0) {
		/* nowhere to say it */
	}
}

/*
 * SIGTERM, SIGINT, SIGHUP: the loop ends at its next turn and cleans up
 * as for q.  SIGQUIT, or a second signal while the first is still being
 * handled (the loop is stuck): the terminal back now, a line, and out.
 */
static void
on_signal(int sig)
{
	if (sig == SIGQUIT || got_signal) {
		term_restore_now();
		say(sig == SIGQUIT ? "smtpdx: SIGQUIT: stopped, the terminal restored\n" :
		    "smtpdx: a second signal: stopped at once, the terminal restored\n");
		_exit(TUI_EXIT_INTERRUPTED);
	}
	got_signal = sig;
}

/* ---- the screens ---------------------------------------------------------------- */

#define X(id, name) extern const struct screen screen_##name;
SCREEN_LIST(X)
#undef X

static void
registry(void)
{
#define X(id, name) ui_screen[SCREEN_##id] = &screen_##name;
	SCREEN_LIST(X)
#undef X
}

/*
 * ^Z (raw mode: a key, not a signal): the terminal back as it was, stop
 * as the shell expects; on fg, curses' modes again and the whole screen
 * redrawn at whatever size the terminal has now.
 */
static void
suspend(struct tui *t)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL }, old;
	sigemptyset(&dfl.sa_mask);
	endwin();
	in_curses = 0;
	fflush(stdout);
	sigaction(SIGTSTP, &dfl, &old);
	raise(SIGTSTP);
	sigaction(SIGTSTP, &old, NULL);
	in_curses = 1;
	reset_prog_mode();
	clearok(curscr, TRUE);
	ui_relayout(t);
}

/* ---- keys ---------------------------------------------------------------------- */

static void
key(struct tui *t, wint_t ch, bool keycode)
{
	if (keycode && ch == KEY_RESIZE) {
		ui_relayout(t);
		return;
	}
	if (!keycode && ch == 26) {	/* ^Z, whatever has the keys */
		suspend(t);
		return;
	}
	if (t->ask) {
		ui_answer(t, !keycode && (ch == 'y' || ch == 'Y'));
		return;
	}
	if (t->mode == LM_TOO_SMALL) {
		if (!keycode && ch == 3)
			t->interrupted = true;
		if (!keycode && (ch == 'q' || ch == 3))
			t->quit = true;
		return;
	}
	if (*t->msg && !t->cl_on) {
		t->msg[0] = '\0';
		t->dirty |= DIRTY_FOOTER;
	}
	ui_key(t, ch, keycode);
}

/* Read every key there is now. */
static void
read_keys(struct tui *t)
{
	wint_t ch;
	int r;
	while (!t->quit && (r = wget_wch(t->input, &ch)) != ERR) {
		bool keycode = r == KEY_CODE_YES;
		if (!keycode && ch == 27) {
			/* Alt-x arrives as Esc x; a lone Esc has nothing after it */
			wint_t next;
			int r2 = wget_wch(t->input, &next);
			if (r2 != ERR) {
				if (t->cl_on && r2 == OK && !t->ask &&
				    t->over == SCREEN_NONE) {
					t->meta = true;
					key(t, next, false);
					t->meta = false;
					continue;
				}
				/* Esc, then the key on its own */
				key(t, 27, false);
				ch = next;
				keycode = r2 == KEY_CODE_YES;
			}
		}
		key(t, ch, keycode);
	}
}

/* For libedit: a command wants one more key in the same call. */
static bool
cl_more(void *ctx, wint_t *ch, bool *keycode)
{
	struct tui *t = ctx;
	t->dirty |= DIRTY_FOOTER;
	ui_draw(t);
	wtimeout(t->input, 3000);
	int r = wget_wch(t->input, ch);
	nodelay(t->input, TRUE);
	if (r == ERR)
		return false;
	*keycode = r == KEY_CODE_YES;
	return true;
}

/* ---- the loop ------------------------------------------------------------------ */

static int
ms_until(double when)
{
	double left = when - now_mono();
	if (left <= 0)
		return 0;
	return (int)(left * 1000) + 1;
}

static void
loop(struct tui *t)
{
	double next_tick = 0;
	while (!t->quit && !got_signal) {
		struct session *s = t->s;
		if (t->run_all && session_can_step(s))
			session_go(s, RUN_ALL);
		session_watch(t);
		if (t->dirty)
			ui_draw(t);

		/* the keyboard, the session's socket (fd -1: none), the
		 * deliverability checks' (fd -1: none), then the sweep's, one
		 * slot per port (sweep.h), then an overlay's own work */
		struct pollfd pf[4 + SWEEP_MAX_PORTS] = {
			{ .fd = STDIN_FILENO, .events = POLLIN }, { .fd = -1 },
			{ .fd = dlv_pollfd(t), .events = POLLIN },
		};
		int nfd = 3;
		bool checking = pf[2].fd >= 0;
		double deadline = -1, wdl = -1;
		bool busy = session_busy(s);
		if (busy)
			session_wait(s, &pf[1], &deadline);
		int nsw = adv_pollfds(t, pf + 3, SWEEP_MAX_PORTS, &wdl);
		bool sweeping = nsw > 0;
		nfd += nsw;
		/* an overlay's own work (find-fix's child) */
		const struct screen *js = t->over != SCREEN_NONE ?
					  ui_screen[t->over] : NULL;
		int jfd = js && js->job_fd ? js->job_fd(t) : -1;
		int jslot = nfd;
		if (jfd >= 0) {
			pf[nfd++] = (struct pollfd){ .fd = jfd, .events = POLLIN };
			sweeping = true;	/* the clock ticks */
		}
		int timeout = -1;
		if (deadline >= 0)
			timeout = ms_until(deadline);
		if (wdl >= 0 && (timeout < 0 || ms_until(wdl) < timeout))
			timeout = ms_until(wdl);
		if (busy || sweeping || checking) {
			if (next_tick <= 0)
				next_tick = now_mono() + TICK_MS / 1000.0;
			int tick = ms_until(next_tick);
			if (timeout < 0 || tick < timeout)
				timeout = tick;
		}
		if (t->msg_until > 0) {
			int m = ms_until(t->msg_until);
			if (timeout < 0 || m < timeout)
				timeout = m;
		}
		int rc = poll(pf, (nfds_t)nfd, timeout);
		if (rc < 0 && errno != EINTR)
			break;
		double now = now_mono();

		if (busy) {
			short rev = rc > 0 ? pf[1].revents : 0;
			if (rev || (deadline >= 0 && now >= deadline))
				session_handle(s, rev);
		}
		if (nsw > 0) {
			if (rc <= 0)
				for (int i = 0; i < nsw; i++)
					pf[3 + i].revents = 0;
			adv_handle(t, pf + 3, nsw);
		}
		if (checking && rc > 0 && pf[2].revents)
			dlv_handle(t);
		if (jfd >= 0 && rc > 0 && pf[jslot].revents && t->over != SCREEN_NONE &&
		    ui_screen[t->over] == js)
			js->job_ready(t);
		if (rc > 0 && (pf[0].revents & (POLLHUP | POLLERR | POLLNVAL)) &&
		    !(pf[0].revents & POLLIN))
			break;	/* the terminal went away */
		read_keys(t);

		if ((busy || sweeping || checking) && now >= next_tick) {
			next_tick = now + TICK_MS / 1000.0;
			t->spin++;
			t->dirty |= DIRTY_HEADER | DIRTY_STEPS | DIRTY_FOOTER | DIRTY_DIAG;
			if (jfd >= 0)
				t->dirty |= DIRTY_OVERLAY;
		} else if (!busy && !sweeping && !checking) {
			next_tick = 0;
		}
		if (t->msg_until > 0 && now >= t->msg_until) {
			t->msg_until = 0;
			t->msg[0] = '\0';
			t->dirty |= DIRTY_FOOTER;
		}
	}
}

/* ---- start and end ------------------------------------------------------------- */

/*
 * The keys a terminal sends often differ from what TERM says (PuTTY's
 * Home is ESC [ 1 ~, tmux's too, whatever TERM claims).  Teach curses the
 * common forms it does not know yet, as htop does.
 */
static void
more_keys(void)
{
	static const struct { const char *seq; int key; } k[] = {
		{ "\033[1~", KEY_HOME }, { "\033[7~", KEY_HOME },
		{ "\033[H", KEY_HOME }, { "\033OH", KEY_HOME },
		{ "\033[4~", KEY_END }, { "\033[8~", KEY_END },
		{ "\033[F", KEY_END }, { "\033OF", KEY_END },
		{ "\033[5~", KEY_PPAGE }, { "\033[6~", KEY_NPAGE },
		{ "\033[3~", KEY_DC }, { "\033[Z", KEY_BTAB },
		{ "\033[A", KEY_UP }, { "\033[B", KEY_DOWN },
		{ "\033[C", KEY_RIGHT }, { "\033[D", KEY_LEFT },
		{ "\033OA", KEY_UP }, { "\033OB", KEY_DOWN },
		{ "\033OC", KEY_RIGHT }, { "\033OD", KEY_LEFT },
		{ "\033OM", KEY_ENTER },
	};
	for (size_t i = 0; i < ARRAY_SIZE(k); i++)
		if (key_defined(k[i].seq) == 0)
			define_key(k[i].seq, k[i].key);
}

/* The TUI on the session screen, or (sweep) on the port advisor's. */
static int
run(struct config *cfg, const struct tui_opts *o, bool sweep, const char *ports)
{
	struct tui t0 = { 0 }, *t = &t0;
	t->cfg = cfg;
	t->opts = o;
	t->raw_from = (size_t)-1;
	t->ov_cury = t->ov_curx = -1;
	t->focus = RG_TRANS;
	t->body = SCREEN_SESSION;
	t->over = SCREEN_NONE;
	registry();
	if (sweep) {
		char perr[256];
		if (adv_init(t, ports, o->mx != NULL, perr, sizeof perr) < 0) {
			fprintf(stderr, "smtpdx: %s\n", perr);
			return 2;
		}
		t->body = SCREEN_ADVISOR;
	} else if (o->deliver_domain) {
		t->body = SCREEN_DELIVER;
	}

	/* stderr into a file while curses runs */
	fflush(stderr);
	int saved_err = dup(STDERR_FILENO);
	FILE *errf = tmpfile();
	if (saved_err >= 0 && errf)
		dup2(fileno(errf), STDERR_FILENO);

	/*
	 * A TERM this machine has no description for (xterm-kitty over SSH,
	 * say): draw as the descriptions nearly every terminal understands,
	 * and say so; when none works, stop.  Never an unattended run.
	 */
	static const char *const fallback[] = { "xterm-256color", "vt100" };
	const char *term = getenv("TERM");
	char *asked = xstrdup(term ? term : "");
	const char *used = NULL;
	term_saved = tcgetattr(STDIN_FILENO, &term_orig) == 0;
	SCREEN *scr = newterm(NULL, stdout, stdin);
	for (size_t i = 0; !scr && i < ARRAY_SIZE(fallback); i++) {
		scr = newterm(fallback[i], stdout, stdin);
		if (scr) {
			used = fallback[i];
			setenv("TERM", used, 1);	/* libedit's pty too */
		}
	}
	if (!scr) {
		if (saved_err >= 0) {
			dup2(saved_err, STDERR_FILENO);
			close(saved_err);
		}
		if (errf)
			fclose(errf);	/* curses' own words: ours say it better */
		fprintf(stderr, "smtpdx: no description of this terminal (TERM=%s), "
			"nor of xterm-256color or vt100: use --batch or --json\n",
			asked);
		free(asked);
		if (sweep)
			adv_free(t);
		return 2;
	}
	if (used && errf) {
		/* curses' complaint about the first TERM: ours says it */
		fflush(stderr);
		if (ftruncate(fileno(errf), 0) == 0)
			rewind(errf);
		lseek(STDERR_FILENO, 0, SEEK_SET);
	}
	set_term(scr);
	err_saved = saved_err;
	err_tmp = errf ? fileno(errf) : -1;
	term_leave_prepare();
	in_curses = 1;
	set_fatal_hook(term_restore_now);
	ui_utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	raw();
	noecho();
	nonl();
	curs_set(0);
	set_escdelay(25);
	t->color = !o->no_color && has_colors();
	theme_init(!o->no_color);
	t->input = newwin(1, 1, 0, 0);
	keypad(t->input, TRUE);
	nodelay(t->input, TRUE);
	more_keys();
	/* where the terminal reports the mouse: the wheel scrolls, a click
	 * selects a line; a terminal that does not, keeps its own selection */
	if (mousemask(BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON4_PRESSED |
		      BUTTON5_PRESSED, NULL)) {
		mouseinterval(0);
		static const char off[] = "\033[?1000l\033[?1002l\033[?1006l";
		if (term_leave_len + sizeof off < sizeof term_leave) {
			memcpy(term_leave + term_leave_len, off, sizeof off - 1);
			term_leave_len += sizeof off - 1;
		}
	}

	struct sigaction sa = { .sa_handler = on_signal };
	struct sigaction old_term, old_hup, old_int, old_quit;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGHUP, &sa, &old_hup);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGQUIT, &sa, &old_quit);

	char err[256];
	t->cl = cmdline_new(err, sizeof err);
	if (t->cl)
		cmdline_set_more(t->cl, cl_more, t);

	ws_init(t);
	session_renew(t);
	if (sweep)
		adv_start(t);
	if (t->body == SCREEN_DELIVER)
		ui_screen[SCREEN_DELIVER]->open(t);
	ui_relayout(t);
	if (t->body == SCREEN_SESSION && cfg->user && !cfg->password)
		ui_open(t, SCREEN_PASSWORD);
	if (used)
		tui_message(t, true, "TERM=%s is not known here: drawn as %s.", asked,
			    used);
	loop(t);

	/* the status of what is on the screen at the end */
	int status;
	if (t->body == SCREEN_ADVISOR)
		status = t->adv.w && sweep_done(t->adv.w) ?
			 sweep_exit_status(t->adv.w) : TUI_EXIT_INTERRUPTED;
	else if (t->body == SCREEN_DELIVER)
		status = dlv_exit_status(t);
	else
		status = t->s->finished ? session_exit_status(t->s) :
			 t->s->started ? TUI_EXIT_INTERRUPTED : 0;
	if (t->interrupted || got_signal)
		status = TUI_EXIT_INTERRUPTED;
	ui_close(t);
	if (ui_screen[t->body]->close)
		ui_screen[t->body]->close(t);
	layout_free(t);
	delwin(t->input);
	doc_free(&t->diag);
	doc_free(&t->ovdoc);
	endwin();
	in_curses = 0;
	set_fatal_hook(NULL);
	delscreen(scr);
	session_free(t->s);
	adv_free(t);
	dlv_free(t);
	cmdline_free(t->cl);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	err_saved = err_tmp = -1;

	/* what was said on stderr meanwhile, now that it can be read */
	if (saved_err >= 0) {
		fflush(stderr);
		dup2(saved_err, STDERR_FILENO);
		close(saved_err);
	}
	if (errf) {
		char buf[4096];
		size_t n;
		rewind(errf);
		while ((n = fread(buf, 1, sizeof buf, errf)) > 0)
			fwrite(buf, 1, n, stderr);
		fclose(errf);
	}
	if (got_signal) {
		fprintf(stderr, "smtpdx: interrupted by %s\n",
			got_signal == SIGTERM ? "SIGTERM" : got_signal == SIGINT ?
			"SIGINT" : "SIGHUP");
		got_signal = 0;
	}
	free(asked);
	return status;
}

int
tui_run(struct config *cfg, const struct tui_opts *o)
{
	return run(cfg, o, false, NULL);
}

int
tui_run_sweep(struct config *cfg, const struct tui_opts *o, const char *ports)
{
	return run(cfg, o, true, ports);
}

const char *
tui_versions(void)
{
	static char v[96];
	snprintf(v, sizeof v, "%s, libedit %d.%d", curses_version(),
		 LIBEDIT_MAJOR, LIBEDIT_MINOR);
	return v;
}

/*
 * lab.c - start and stop the lab server, and point a session at it.
 *
 * lab_start() does everything that can fail in the calling process (the
 * PKI, the socket, the TLS credentials), so that a failure comes back as
 * a message, then forks the server process.  That process lives in a
 * session of its own (so no terminal signal reaches it and lab_stop() can
 * kill it and its children as one process group), dies with its parent
 * (PR_SET_PDEATHSIG), talks to nobody but its sockets (stdin, stdout and
 * stderr are /dev/null, every other inherited descriptor is closed) and
 * forks one child per connection, so that a second "probe" connection is
 * served while the first is still open.
 *
 * Every process made here leaves by _exit(): they are copies of smtpdx,
 * and must never run its atexit handlers or flush its stdio buffers.
 *
 * PR_SET_PDEATHSIG fires when the *thread* that forked exits, not the
 * process: call lab_start() from a thread that lives as long as the lab
 * (the main thread).
 *
 * Descriptors: every socket lab_start() leaves open in the caller
 * (lab_server.holdfd) is close-on-exec and numbered above 2, so that
 * lab_stop() can tell "none" from a descriptor even in a zeroed struct.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../util.h"
#include "certs.h"
#include "lab.h"
#include "smtpd.h"

#define LISTEN_BACKLOG	16
#define SERVER_FD	3	/* where the server process keeps its listener */

/* Format err; returns -1 for `return fail(...)`. */
static int PRINTF(3, 4)
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Move fd above stdin, stdout and stderr (they may be closed). */
static int
above_stdio(int fd)
{
	if (fd < 0 || fd > 2)
		return fd;
	int n = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return n;
}

/*
 * A TCP socket bound to 127.0.0.1 on a port the kernel picks: loopback
 * only, whatever the scenario.  Not listening yet.  Returns the fd (with
 * the port in *port and the address in *sa) or -1.
 */
static int
bind_loopback(struct sockaddr_in *sa, int want, int *port, char *err,
	      size_t errlen)
{
	socklen_t len = sizeof *sa;
	int fd = above_stdio(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));

	if (fd < 0)
		return fail(err, errlen, "lab: socket: %s", strerror(errno));
	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa->sin_port = htons((unsigned short)want);
	if (want) {
		/* a port a class was told: restarting must not wait out
		 * TIME_WAIT */
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	}
	if (bind(fd, (struct sockaddr *)sa, sizeof *sa) < 0 ||
	    getsockname(fd, (struct sockaddr *)sa, &len) < 0) {
		if (want)
			fail(err, errlen, "bind 127.0.0.1 port %d: %s", want,
			     strerror(errno));
		else
			fail(err, errlen, "lab: bind 127.0.0.1: %s", strerror(errno));
		close(fd);
		return -1;
	}
	*port = ntohs(sa->sin_port);
	return fd;
}

/*
 * LF_BACKLOG_FULL: a listener with an accept queue of length 0 that is
 * never accepted from, and a connection of our own that fills the queue.
 * Linux then drops the client's SYN without a word (no RST), the client
 * retransmits, and its connect() times out: what a firewall that drops
 * packets, or a host that is down, looks like.  The second filler stays
 * in SYN-SENT, which only keeps the queue busier.
 */
static int
fill_backlog(struct lab_server *ls, int lfd, const struct sockaddr_in *sa,
	     char *err, size_t errlen)
{
	if (listen(lfd, 0) < 0)
		return fail(err, errlen, "lab: listen: %s", strerror(errno));
	ls->holdfd[0] = lfd;
	for (int i = 1; i <= 2; i++) {
		int fd = above_stdio(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK
						   | SOCK_CLOEXEC, 0));
		if (fd < 0)
			return fail(err, errlen, "lab: socket: %s",
				    strerror(errno));
		ls->holdfd[i] = fd;
		if (connect(fd, (const struct sockaddr *)sa, sizeof *sa) < 0 &&
		    errno != EINPROGRESS)
			return fail(err, errlen, "lab: connect: %s",
				    strerror(errno));
		if (i == 1) {	/* the first must be in the queue: wait for it */
			struct pollfd p = { fd, POLLOUT, 0 };
			int soerr = 0;
			socklen_t sl = sizeof soerr;
			if (poll(&p, 1, 2000) != 1 ||
			    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 ||
			    soerr != 0)
				return fail(err, errlen, "lab: cannot fill the "
					    "accept queue");
		}
	}
	return 0;
}

/* Close every descriptor from `from` up. */
static void
close_from(int from)
{
	if (close_range((unsigned)from, ~0u, 0) == 0)
		return;
	long max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 65536)
		max = 65536;
	for (int fd = from; fd < max; fd++)
		close(fd);
}

/*
 * Make this process harmless: its own session, default signal handling
 * (the handlers smtpdx installed are not for it; SIGPIPE ignored so a
 * vanished client is an EPIPE; SIGCHLD ignored so children reap
 * themselves), no signal blocked, /dev/null for stdio, and no descriptor
 * but keep[0..n), which are moved to SERVER_FD, SERVER_FD + 1, ... (a
 * negative one is left closed there).
 */
static void
detach(const int *keep, int n)
{
	sigset_t none;

	setsid();
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);	/* fails harmlessly for KILL, STOP... */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	/* out of the way first (a kept fd may sit where another goes) */
	int high[n > 0 ? n : 1];
	for (int i = 0; i < n; i++)
		high[i] = keep[i] > 2 ? fcntl(keep[i], F_DUPFD, SERVER_FD + n) : -1;
	int null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
	}
	for (int i = 0; i < n; i++) {
		if (high[i] >= 0)
			dup2(high[i], SERVER_FD + i);
		else
			close(SERVER_FD + i);
	}
	close_from(SERVER_FD + n);
}

/*
 * The server process: accept on every listener, fork a child per
 * connection, forever; at most per_max at once per listener and all_max
 * in total.  One more is told "421 4.3.2" and closed at once, by this
 * process, without a fork: 200 idle connections cost all_max processes,
 * not 200, and the lab still serves as soon as some end (each child ends
 * at the latest after the idle timeout).
 */
#define MAX_CONNS	32	/* one scenario's server */
#define MAX_CONNS_ALL	64	/* --lab all: every scenario's together */

struct slot {
	const struct lab_scenario *sc;
	const struct lab_tls *t;
	int live;
};

static void __attribute__((noreturn))
serve(int n, const int *fds, struct slot *slot, int per_max, int all_max,
      const int *cards, pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)	/* the parent died before prctl() */
		_exit(0);
	int keep[n + 2];	/* cards: text fd, JSON fd, colour */
	for (int i = 0; i < n; i++)
		keep[i] = fds[i];
	keep[n] = cards[0];
	keep[n + 1] = cards[1];
	detach(keep, n + 2);
	lab_grade_fds(cards[0] > 2 ? SERVER_FD + n : -1,
		      cards[1] > 2 ? SERVER_FD + n + 1 : -1, cards[2] > 0);
	signal(SIGCHLD, SIG_DFL);	/* reaped here, to count them */

	pid_t self = getpid();
	int live = 0;
	struct { pid_t pid; int slot; } kids[MAX_CONNS_ALL];
	struct pollfd *pl = xcalloc((size_t)n, sizeof *pl);
	for (;;) {
		pid_t done;
		while (live > 0 && (done = waitpid(-1, NULL, WNOHANG)) > 0)
			for (int k = 0; k < live; k++)
				if (kids[k].pid == done) {
					slot[kids[k].slot].live--;
					kids[k] = kids[--live];
					break;
				}
		/* wake up now and then to reap, even with no client */
		for (int i = 0; i < n; i++)
			pl[i] = (struct pollfd){ .fd = SERVER_FD + i, .events = POLLIN };
		if (poll(pl, (nfds_t)n, 200) <= 0)
			continue;
		for (int i = 0; i < n; i++) {
			if (!(pl[i].revents & POLLIN))
				continue;
			int fd = accept4(SERVER_FD + i, NULL, NULL, SOCK_CLOEXEC);
			if (fd < 0) {
				switch (errno) {
				case EINTR:
				case EAGAIN:
				case ECONNABORTED:	/* the client gave up first */
				case EPROTO:
					continue;
				case EMFILE:
				case ENFILE:
				case ENOBUFS:
				case ENOMEM:
					usleep(100000);	/* let connections finish */
					continue;
				default:		/* the listener is broken */
					_exit(1);
				}
			}
			if (live >= all_max || slot[i].live >= per_max) {
				static const char busy[] = "421 4.3.2 too many connections\r\n";
				if (send(fd, busy, sizeof busy - 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
					(void)0;	/* the client is gone already */
				shutdown(fd, SHUT_WR);
				close(fd);
				continue;
			}
			pid_t pid = fork();
			if (pid == 0) {
				prctl(PR_SET_PDEATHSIG, SIGKILL);
				if (getppid() != self)
					_exit(0);
				for (int k = 0; k < n; k++)
					close(SERVER_FD + k);
				lab_smtpd(fd, slot[i].sc, slot[i].t);
			}
			close(fd);
			if (pid > 0) {
				kids[live].pid = pid;
				kids[live++].slot = i;
				slot[i].live++;
			} else {	/* the client saw a close; do not spin */
				usleep(100000);
			}
		}
	}
}

static void
clear(struct lab_server *ls)
{
	ls->nhost = 0;
	ls->others = NULL;
	ls->extra = NULL;
	ls->nextra = 0;
	ls->all = NULL;
	ls->nall = 0;
	ls->pid = 0;
	ls->port = 0;
	for (size_t i = 0; i < ARRAY_SIZE(ls->holdfd); i++)
		ls->holdfd[i] = -1;
	ls->ca_pem = NULL;
	ls->client_pem = NULL;
}

/*
 * Start one server for sc with the certificates of pki (not owned) into
 * ls, which clear() emptied.  Returns 0, or -1 with a message in err
 * (what was started is left in ls for lab_stop()).
 */
static int
start_one(const struct lab_scenario *sc, struct lab_server *ls,
	  const struct lab_pki *pki, char *err, size_t errlen)
{
	struct sockaddr_in sa;
	struct lab_tls *t;
	int lfd;

	if ((lfd = bind_loopback(&sa, ls->want_port, &ls->port, err, errlen)) < 0)
		return -1;

	if (sc->flags & LF_REFUSE) {
		/* Nobody listens: the kernel answers the SYN with a RST. */
		close(lfd);
		return 0;
	}
	if (sc->flags & LF_BACKLOG_FULL) {
		if (fill_backlog(ls, lfd, &sa, err, errlen) < 0) {
			if (ls->holdfd[0] != lfd)
				close(lfd);
			return -1;
		}
		return 0;
	}

	if (listen(lfd, LISTEN_BACKLOG) < 0) {
		fail(err, errlen, "lab: listen: %s", strerror(errno));
		close(lfd);
		return -1;
	}
	if (!(t = lab_tls_new(pki, sc->flags, err, errlen))) {
		close(lfd);
		return -1;
	}

	lab_idle_init();
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		struct slot one = { sc, t, 0 };
		int cards[3] = { ls->card_fd, ls->card_json_fd, ls->card_color };
		serve(1, &lfd, &one, MAX_CONNS, MAX_CONNS, cards, parent);
	}
	int fork_errno = errno;
	close(lfd);
	lab_tls_free(t);
	if (pid < 0)
		return fail(err, errlen, "lab: fork: %s", strerror(fork_errno));
	ls->pid = pid;
	return 0;
}

/* The kinds of port of the mail host, and the scenario that plays each. */
static const struct {
	const char *kind, *scenario;
} port_kinds[] = {
	{ "starttls", "ok" },
	{ "implicit", "ok-implicit" },
	{ "relay", "ok-relay" },
	{ "refused", "connect.refused" },
	{ "dropped", "connect.timeout" },
};

/* The kind that plays role in spec ("465=implicit,25=relay"), or NULL. */
static const char *
spec_kind(const char *spec, int role, char *out, size_t outlen)
{
	for (const char *s = spec; s && *s;) {
		char *end;
		long r = strtol(s, &end, 10);
		size_t n = strcspn(s, ",");
		if (*end == '=' && r == role) {
			size_t k = n - (size_t)(end + 1 - s);
			snprintf(out, outlen, "%.*s", (int)k, end + 1);
			return out;
		}
		s += n + (s[n] == ',');
	}
	return NULL;
}

/*
 * The rest of the mail host beside the scenario's own server, which
 * plays main_role: the ports 587, 465, 2525 and 25, each by the kind the
 * scenario's mailhost spec names or the default.
 */
static int
start_host(const struct lab_scenario *sc, struct lab_server *ls,
	   const struct lab_pki *pki, char *err, size_t errlen)
{
	static const struct {
		int role;
		const char *kind;
	} deflt[LAB_HOST_PORTS] = {
		{ 587, "starttls" }, { 465, "implicit" }, { 2525, "refused" },
		{ 25, "relay" },
	};
	int main_role = sc->role_port ? sc->role_port :
			(sc->flags & LF_IMPLICIT) ? 465 : 587;

	ls->host[0] = (struct lab_host_port){ main_role, ls->port, "main" };
	ls->nhost = 1;
	ls->others = xcalloc(LAB_HOST_PORTS - 1, sizeof *ls->others);
	for (int i = 0; i < LAB_HOST_PORTS - 1; i++)
		clear(&ls->others[i]);
	for (size_t i = 0; i < ARRAY_SIZE(deflt); i++) {
		if (deflt[i].role == main_role || ls->nhost >= LAB_HOST_PORTS)
			continue;
		char buf[16];
		const char *kind = spec_kind(sc->mailhost, deflt[i].role, buf,
					     sizeof buf);
		size_t k = 0;
		while (k < ARRAY_SIZE(port_kinds) &&
		       strcmp(port_kinds[k].kind, kind ? kind : deflt[i].kind))
			k++;
		const struct lab_scenario *ksc = k < ARRAY_SIZE(port_kinds) ?
			lab_find(port_kinds[k].scenario) : NULL;
		if (!ksc)
			return fail(err, errlen, "lab: scenario %s: no port kind "
				    "'%s'", sc->name, kind);
		struct lab_server *o = &ls->others[ls->nhost - 1];
		if (start_one(ksc, o, pki, err, errlen) < 0)
			return -1;
		ls->host[ls->nhost++] = (struct lab_host_port){
			deflt[i].role, o->port, port_kinds[k].kind };
	}
	return 0;
}

int
lab_start(const struct lab_scenario *sc, struct lab_server *ls,
	  char *err, size_t errlen)
{
	struct lab_pki pki;
	bool host = ls->mailhost;
	int card = ls->card_fd, card_json = ls->card_json_fd;
	bool color = ls->card_color;

	clear(ls);
	ls->mailhost = host;
	ls->card_color = color;
	ls->card_fd = card;
	ls->card_json_fd = card_json;
	if (lab_pki_make(&pki, sc->cert, err, errlen) < 0)
		return -1;
	ls->ca_pem = xstrdup(pki.ca_pem);
	ls->client_pem = xstrdup(pki.client_pem);
	if (start_one(sc, ls, &pki, err, errlen) < 0 ||
	    (host && start_host(sc, ls, &pki, err, errlen) < 0)) {
		lab_pki_free(&pki);
		lab_stop(ls);
		return -1;
	}
	lab_pki_free(&pki);
	return 0;
}

/*
 * --lab all: every scenario on a port of its own, in one server process
 * (lab.h).  The certificates come from one CA; a scenario's server is
 * what lab_start() would run, but the connections are counted together.
 */
#define MAX_CONNS_SCENARIO 16	/* --lab all: one scenario's share */

int
lab_start_all(struct lab_server *ls, char *err, size_t errlen)
{
	const struct lab_scenario *v[256];
	size_t n = lab_ordered(v, ARRAY_SIZE(v));
	int want = ls->want_port;
	int card = ls->card_fd, card_json = ls->card_json_fd;
	bool color = ls->card_color;
	struct lab_pki pki[LC_NO_INTERMEDIATE + 1];
	bool made[LC_NO_INTERMEDIATE + 1] = { false };
	struct lab_tls *tls[256] = { NULL };
	struct slot slot[256];
	int fds[256], nfd = 0, rc = -1;

	clear(ls);
	ls->want_port = want;
	ls->card_fd = card;
	ls->card_json_fd = card_json;
	ls->card_color = color;
	if (want && want + (int)n - 1 > 65535)
		return fail(err, errlen, "--lab all needs %zu ports from %d: past "
			    "65535", n, want);
	struct lab_ca *ca = lab_ca_new(err, errlen);
	if (!ca)
		return -1;
	ls->all = xcalloc(n, sizeof *ls->all);
	ls->extra = xcalloc(n * 3, sizeof *ls->extra);
	for (size_t i = 0; i < n; i++) {
		const struct lab_scenario *sc = v[i];
		enum lab_cert k = sc->cert;
		if (!made[k]) {
			if (lab_pki_make_ca(&pki[k], ca, k, err, errlen) < 0)
				goto out;
			made[k] = true;
			if (!ls->ca_pem) {
				ls->ca_pem = xstrdup(pki[k].ca_pem);
				ls->client_pem = xstrdup(pki[k].client_pem);
			}
		}
		struct sockaddr_in sa;
		int port, lfd = bind_loopback(&sa, want ? want + (int)i : 0, &port,
					      err, errlen);
		if (lfd < 0)
			goto out;
		ls->all[ls->nall].sc = sc;
		ls->all[ls->nall++].port = port;
		if (sc->flags & LF_REFUSE) {
			close(lfd);
			continue;
		}
		if (sc->flags & LF_BACKLOG_FULL) {
			struct lab_server tmp;
			clear(&tmp);
			if (fill_backlog(&tmp, lfd, &sa, err, errlen) < 0) {
				if (tmp.holdfd[0] != lfd)
					close(lfd);
				lab_stop(&tmp);
				goto out;
			}
			for (int h = 0; h < 3; h++)
				ls->extra[ls->nextra++] = tmp.holdfd[h];
			continue;
		}
		if (listen(lfd, LISTEN_BACKLOG) < 0) {
			fail(err, errlen, "lab: listen: %s", strerror(errno));
			close(lfd);
			goto out;
		}
		fds[nfd] = lfd;
		if (!(tls[nfd] = lab_tls_new(&pki[k], sc->flags, err, errlen))) {
			close(lfd);
			goto out;
		}
		slot[nfd] = (struct slot){ sc, tls[nfd], 0 };
		nfd++;
	}

	lab_idle_init();
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		int cards[3] = { ls->card_fd, ls->card_json_fd, ls->card_color };
		serve(nfd, fds, slot, MAX_CONNS_SCENARIO, MAX_CONNS_ALL, cards,
		      parent);
	}
	if (pid < 0)
		fail(err, errlen, "lab: fork: %s", strerror(errno));
	else {
		ls->pid = pid;
		ls->port = ls->nall ? ls->all[0].port : 0;
		rc = 0;
	}
out:
	for (int i = 0; i < nfd; i++) {
		close(fds[i]);
		lab_tls_free(tls[i]);
	}
	for (size_t k = 0; k < ARRAY_SIZE(made); k++)
		if (made[k])
			lab_pki_free(&pki[k]);
	lab_ca_free(ca);
	if (rc < 0)
		lab_stop(ls);
	return rc;
}

/*
 * Safe on a struct lab_start() filled (even after it failed), on a
 * stopped one and on a zeroed one; the struct is left "stopped".
 */
void
lab_stop(struct lab_server *ls)
{
	if (ls->pid > 0) {
		/*
		 * The group holds the server and its connection children
		 * (after its setsid(); before it, there are no children and
		 * the group kill fails harmlessly).
		 */
		kill(-ls->pid, SIGKILL);
		kill(ls->pid, SIGKILL);
		while (waitpid(ls->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	for (size_t i = 0; i < ARRAY_SIZE(ls->holdfd); i++)
		if (ls->holdfd[i] > 2)
			close(ls->holdfd[i]);
	if (ls->others) {
		for (int i = 0; i < LAB_HOST_PORTS - 1; i++)
			lab_stop(&ls->others[i]);
		free(ls->others);
	}
	for (int i = 0; i < ls->nextra; i++)
		if (ls->extra[i] > 2)
			close(ls->extra[i]);
	free(ls->extra);
	free(ls->all);
	free(ls->ca_pem);
	if (ls->client_pem)
		wipe(ls->client_pem, strlen(ls->client_pem));
	free(ls->client_pem);
	clear(ls);
}

void
lab_apply(const struct lab_scenario *sc, const struct lab_server *ls,
	  struct config *cfg)
{
	config_set(&cfg->host, sc->host ? sc->host : "127.0.0.1");
	cfg->port = ls->port;
	cfg->role_port = sc->role_port;
	if (sc->tls != TLSM_AUTO)
		cfg->tls = sc->tls;
	else
		cfg->tls = (sc->flags & LF_IMPLICIT) ? TLSM_IMPLICIT
						     : TLSM_STARTTLS;
	config_set(&cfg->ca_pem, sc->no_ca ? NULL : ls->ca_pem);
	config_set(&cfg->servername, sc->servername ? sc->servername
						    : LAB_SERVERNAME);
	config_set(&cfg->user, sc->no_user ? NULL : LAB_USER);
	config_set(&cfg->password, sc->no_user ? NULL :
		   sc->password ? sc->password : LAB_PASSWORD);
	cfg->mech = sc->mech;
	config_set(&cfg->from, sc->from ? sc->from : LAB_FROM);
	for (int i = 0; i < cfg->nto; i++) {
		free(cfg->to[i]);
		cfg->to[i] = NULL;
	}
	cfg->to[0] = xstrdup(sc->to ? sc->to : LAB_TO);
	cfg->nto = 1;
	config_set(&cfg->helo, "client.smtpdx.lab");
	cfg->timeout = sc->timeout > 0 ? sc->timeout : 5;
	if (sc->tls_min)
		cfg->tls_min = sc->tls_min;
	if (sc->family != FAM_ANY)
		cfg->family = sc->family;
	cfg->requiretls = sc->requiretls;
	config_set(&cfg->notify, sc->notify);
	cfg->nportmap = 0;
	for (int i = 0; i < ls->nhost && i < CONFIG_MAX_PORTMAP; i++) {
		cfg->portmap[i].role = ls->host[i].role;
		cfg->portmap[i].port = ls->host[i].port;
		cfg->nportmap++;
	}
}

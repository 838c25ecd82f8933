/*
 * fuzz_sasl.c - libFuzzer: SMTP AUTH with server-chosen challenges,
 * through every mechanism (src/sasl.h and the AUTH step of session.c).
 *
 * Input: a settings byte, then the server's challenges, one a line.
 * Settings: bits 0-2 the mechanism (PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256
 * SCRAM-SHA-256-PLUS XOAUTH2, then PLAIN LOGIN again), bit 3 channel-binding
 * data at hand, bit 4 tls-exporter (else tls-unique), bit 5 the lines are
 * raw bytes to send base64-encoded (else sent as they are, which reaches
 * the not-base64 paths), bits 6-7 how the server ends (235 535 454 501).
 *
 * Two passes over the same challenges:
 *  1. sasl_start/sasl_step directly.  Checked: never more answers than
 *     sasl_round_limit() allows, every answer is base64, the password
 *     appears in the decoded answers at most once, nothing after a
 *     failure.  The SCRAM client nonce is fixed (sasl_test_nonce) so the
 *     fuzzer can write server-first messages that extend it.
 *  2. A whole session against a listener on 127.0.0.1 that answers the
 *     EHLO with the mechanism, then every client line with "334 " and the
 *     next challenge, then the ending code, then 250 (221 to QUIT).
 *     Checked: the session ends (a wall-clock guard), and the password's
 *     wire forms went out at most once.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../src/config.h"
#include "../../src/sasl.h"
#include "../../src/session.h"
#include "../../src/util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define USER "alice"
#define PASSWORD "fuzz-Secret-1"
#define MAX_CHALLENGES 16

static const char *const mech_names[] = {
	"PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-256", "SCRAM-SHA-256-PLUS",
	"XOAUTH2", "PLAIN", "LOGIN"
};
static const enum auth_mech mech_cfg[] = {
	AM_PLAIN, AM_LOGIN, AM_CRAM_MD5, AM_SCRAM_SHA_256, AM_SCRAM_SHA_256,
	AM_XOAUTH2, AM_PLAIN, AM_LOGIN
};
static const char *const endings[] = {
	"235 2.7.0 Authentication successful",
	"535 5.7.8 Error: authentication failed",
	"454 4.7.0 Temporary authentication failure",
	"501 5.7.0 Authentication aborted"
};

static int lfd = -1;
static int lport;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sockaddr_in sa = { 0 };
	socklen_t len = sizeof sa;

	(void)argc;
	(void)argv;
	signal(SIGPIPE, SIG_IGN);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(lfd, 16) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &len) < 0) {
		perror("fuzz_sasl: listener");
		exit(1);
	}
	lport = ntohs(sa.sin_port);
	sasl_test_nonce = "fuzzNONCE";
	return 0;
}

/* The challenges as they go on the wire (after "334 "), new strings. */
static size_t
split(const uint8_t *p, size_t n, bool encode, char **out)
{
	size_t k = 0;
	while (n > 0 && k < MAX_CHALLENGES) {
		const uint8_t *nl = memchr(p, '\n', n);
		size_t len = nl ? (size_t)(nl - p) : n;
		if (encode) {
			out[k++] = b64_encode(p, len);
		} else {
			char *c = xmalloc(len + 1);
			memcpy(c, p, len);
			c[len] = '\0';
			for (size_t i = 0; i < len; i++)	/* one line */
				if (c[i] == '\0' || c[i] == '\r')
					c[i] = ' ';
			out[k++] = c;
		}
		p += len + (nl ? 1 : 0);
		n -= len + (nl ? 1 : 0);
	}
	return k;
}

/* Occurrences of the password in one base64 answer, decoded. */
static int
secrets_in(const char *b64)
{
	unsigned char *d = NULL;
	size_t n = 0;
	int k = 0;
	if (strcmp(b64, "=") == 0 || !*b64)
		return 0;
	if (b64_decode(b64, &d, &n) < 0)
		abort();	/* an answer that is not base64 */
	size_t pl = strlen(PASSWORD);
	for (size_t i = 0; i + pl <= n; i++)
		if (!memcmp(d + i, PASSWORD, pl))
			k++;
	free(d);
	return k;
}

static void
direct(int m, const char *cb, bool exporter, char **ch, size_t nch)
{
	char err[256], *initial = NULL;
	struct sasl *s = sasl_start(mech_names[m], USER, PASSWORD, cb, exporter,
				    &initial, err, sizeof err);
	if (!s)
		return;
	int sent = initial ? secrets_in(initial) : 0;
	free(initial);
	int answers = 0;
	for (size_t i = 0; i < nch; i++) {
		char *out = NULL;
		int rc = sasl_step(s, ch[i], &out, err, sizeof err);
		if (rc != SASL_CONT) {
			if (out || !*err)
				abort();	/* a failure says why, answers nothing */
			break;
		}
		if (++answers > sasl_round_limit(mech_names[m]))
			abort();
		sent += secrets_in(out);
		free(out);
	}
	if (sent > 1)
		abort();	/* the password went out twice */
	(void)sasl_complete(s);
	for (size_t i = 0; i < nch; i++)
		free(sasl_describe(mech_names[m], ch[i], false, (int)i));
	sasl_free(s);
}

/* The server side: one connection, answering line by line. */
struct srv {
	int fd;
	struct buf in, seen;
	char **ch;
	size_t nch, next;
	bool in_auth, ended;
	const char *ending;
};

static void
say(int fd, const char *line)
{
	size_t n = strlen(line);
	struct pollfd pf = { fd, POLLOUT, 0 };
	if (poll(&pf, 1, 100) > 0)
		(void)!write(fd, line, n);
	if (poll(&pf, 1, 100) > 0)
		(void)!write(fd, "\r\n", 2);
}

static void
serve_lines(struct srv *v, const char *mech)
{
	char *nl;
	while (v->in.len && (nl = memchr(v->in.data, '\n', v->in.len))) {
		size_t len = (size_t)(nl - v->in.data);
		char *l = xmalloc(len + 1);
		memcpy(l, v->in.data, len);
		l[len] = '\0';
		buf_consume(&v->in, len + 1);
		if (!strncasecmp(l, "EHLO", 4)) {
			char *a = xasprintf("250-fuzz.test\r\n250 AUTH %s", mech);
			say(v->fd, a);
			free(a);
		} else if (!strncasecmp(l, "AUTH ", 5) && !v->ended) {
			v->in_auth = true;
		}
		if (!strncasecmp(l, "EHLO", 4)) {
			;
		} else if (v->in_auth && v->next < v->nch) {
			char *c = xasprintf("334 %s", v->ch[v->next++]);
			say(v->fd, c);
			free(c);
		} else if (v->in_auth) {
			say(v->fd, v->ending);
			v->in_auth = false;
			v->ended = true;
		} else if (!strncasecmp(l, "QUIT", 4)) {
			say(v->fd, "221 2.0.0 Bye");
			shutdown(v->fd, SHUT_WR);
		} else {
			say(v->fd, "250 2.0.0 Ok");
		}
		free(l);
	}
}

/* The password's wire forms in everything the client sent. */
static int
wire_secrets(const struct buf *seen)
{
	static const char plain[] = "\0" USER "\0" PASSWORD;
	static const char xo[] = "user=" USER "\001auth=Bearer " PASSWORD "\001\001";
	char *forms[3] = {
		b64_encode(PASSWORD, strlen(PASSWORD)),
		b64_encode(plain, sizeof plain - 1),
		b64_encode(xo, sizeof xo - 1),
	};
	int k = 0;
	for (int f = 0; f < 3; f++) {
		size_t fl = strlen(forms[f]);
		for (size_t i = 0; i + fl <= seen->len; i++)
			if (!memcmp(seen->data + i, forms[f], fl))
				k++;
		free(forms[f]);
	}
	return k;
}

static void
whole_session(int m, uint8_t s0, char **ch, size_t nch)
{
	struct config cfg;
	config_defaults(&cfg);
	config_set(&cfg.host, "127.0.0.1");
	cfg.port = lport;
	cfg.tls = TLSM_NONE;
	config_set(&cfg.helo, "client.fuzz.test");
	config_set(&cfg.from, "a@fuzz.test");
	cfg.to[0] = xstrdup("b@fuzz.test");
	cfg.nto = 1;
	config_set(&cfg.user, USER);
	config_set(&cfg.password, PASSWORD);
	cfg.allow_plaintext_auth = true;
	cfg.mech = mech_cfg[m];
	cfg.no_send = true;
	cfg.timeout = 0.05;

	struct srv v = { .fd = -1, .ch = ch, .nch = nch,
			 .ending = endings[(s0 >> 6) & 3] };
	struct session *s = session_new(&cfg);
	double guard = now_mono() + 10.0;

	session_go(s, RUN_ALL);
	while (!s->finished) {
		if (!session_busy(s)) {
			session_go(s, RUN_ALL);
			continue;
		}
		if (now_mono() > guard) {
			fprintf(stderr, "fuzz_sasl: the session never ends\n");
			abort();
		}
		struct pollfd p[3];
		double deadline;
		session_wait(s, &p[0], &deadline);
		p[1].fd = lfd;
		p[1].events = POLLIN;
		p[2].fd = v.fd;
		p[2].events = POLLIN;
		int ms = 20;
		if (deadline >= 0) {
			double left = deadline - now_mono();
			int d = left <= 0 ? 0 : (int)(left * 1000) + 1;
			if (d < ms)
				ms = d;
		}
		int rc = poll(p, 3, ms);
		if (rc > 0 && (p[1].revents & POLLIN)) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
			if (fd >= 0 && v.fd < 0) {
				v.fd = fd;
				say(fd, "220 fuzz.test ESMTP");
			} else if (fd >= 0) {
				close(fd);
			}
		}
		if (rc > 0 && v.fd >= 0 && (p[2].revents & (POLLIN | POLLHUP | POLLERR))) {
			char chunk[4096];
			ssize_t n;
			while ((n = read(v.fd, chunk, sizeof chunk)) > 0) {
				buf_add(&v.in, chunk, (size_t)n);
				buf_add(&v.seen, chunk, (size_t)n);
			}
			/* -PLUS needs TLS: offer the plain variant */
			serve_lines(&v, mech_names[m == 4 ? 3 : m]);
		}
		short rev = (p[0].fd >= 0 && rc > 0) ? p[0].revents : 0;
		session_handle(s, rev);
	}
	if (wire_secrets(&v.seen) > 1)
		abort();	/* the password went out twice */
	session_free(s);
	if (v.fd >= 0)
		close(v.fd);
	buf_free(&v.in);
	buf_free(&v.seen);
	config_free(&cfg);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char cbdata[] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
	char *ch[MAX_CHALLENGES];
	if (size < 1)
		return 0;
	uint8_t s0 = data[0];
	int m = s0 & 7;
	size_t nch = split(data + 1, size - 1, (s0 & 32) != 0, ch);

	direct(m, (s0 & 8) ? cbdata : NULL, (s0 & 16) != 0, ch, nch);
	whole_session(m, s0, ch, nch);
	for (size_t i = 0; i < nch; i++)
		free(ch[i]);
	return 0;
}

/*
 * fuzz_session.c - libFuzzer: the whole client session (src/session.h)
 * fed a server byte stream.
 *
 * A listener on 127.0.0.1 (made once) plays the server: it accepts the
 * session's connection, writes the input (after two setting bytes), shuts
 * its side down and reads whatever the client says.  A second connection
 * (the implicit-TLS probe) is accepted and closed.  The settings bytes
 * pick the TLS mode (none, STARTTLS, implicit: the handshake then meets
 * the input), whether to log in (plaintext AUTH allowed, mechanism from
 * the byte) and --no-send.  cfg.timeout is 50 ms, so a stream that stops
 * early ends the session quickly; a wall-clock guard ends a run that
 * would not finish at all (that would be a bug: abort()).
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
#include "../../src/session.h"
#include "../../src/util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int lfd = -1;
static int lport;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sockaddr_in sa = { 0 };
	socklen_t len = sizeof sa;

	signal(SIGPIPE, SIG_IGN);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(lfd, 16) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &len) < 0) {
		perror("fuzz_session: listener");
		exit(1);
	}
	lport = ntohs(sa.sin_port);
	return 0;
}

/* Write all of p to a blocking-enough socket (loopback buffers are large). */
static void
put(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);
		if (k < 0) {
			struct pollfd pf = { fd, POLLOUT, 0 };
			if (poll(&pf, 1, 100) <= 0)
				return;
			continue;
		}
		p += k;
		n -= (size_t)k;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum tls_mode modes[] = { TLSM_NONE, TLSM_STARTTLS,
					       TLSM_IMPLICIT, TLSM_NONE };
	static const enum auth_mech mechs[] = {
		AM_AUTO, AM_PLAIN, AM_LOGIN, AM_CRAM_MD5, AM_SCRAM_SHA_256,
		AM_XOAUTH2, AM_AUTO, AM_AUTO
	};
	struct config cfg;
	uint8_t s0 = size > 0 ? data[0] : 0, s1 = size > 1 ? data[1] : 0;
	const uint8_t *stream = data + (size > 2 ? 2 : size);
	size_t slen = size > 2 ? size - 2 : 0;

	config_defaults(&cfg);
	config_set(&cfg.host, "127.0.0.1");
	cfg.port = lport;
	cfg.tls = modes[s0 & 3];
	config_set(&cfg.servername, "mail.fuzz.test");
	config_set(&cfg.helo, "client.fuzz.test");
	config_set(&cfg.from, "a@fuzz.test");
	cfg.to[0] = xstrdup("b@fuzz.test");
	cfg.nto = 1;
	if (s0 & 4)
		cfg.to[cfg.nto++] = xstrdup("c@fuzz.test");
	if (s0 & 8) {
		config_set(&cfg.user, "alice");
		config_set(&cfg.password, "fuzz-Secret-1");
		cfg.allow_plaintext_auth = true;
		cfg.mech = mechs[(s1 >> 4) & 7];
	}
	cfg.no_send = (s0 & 16) != 0;
	cfg.insecure = (s0 & 32) != 0;
	cfg.timeout = 0.05;

	struct session *s = session_new(&cfg);
	int srv[4] = { -1, -1, -1, -1 };
	int nsrv = 0;
	double guard = now_mono() + 10.0;

	session_go(s, RUN_ALL);
	while (!s->finished) {
		if (!session_busy(s)) {
			session_go(s, RUN_ALL);
			continue;
		}
		if (now_mono() > guard) {
			fprintf(stderr, "fuzz_session: the session never ends\n");
			abort();
		}
		struct pollfd p[6];
		double deadline;
		int np = 0;
		session_wait(s, &p[0], &deadline);
		np = 1;
		p[np].fd = lfd;
		p[np].events = POLLIN;
		np++;
		for (int i = 0; i < nsrv; i++) {
			p[np].fd = srv[i];
			p[np].events = POLLIN;
			np++;
		}
		int ms = 20;
		if (deadline >= 0) {
			double left = deadline - now_mono();
			int d = left <= 0 ? 0 : (int)(left * 1000) + 1;
			if (d < ms)
				ms = d;
		}
		int rc = poll(p, (nfds_t)np, ms);
		if (rc > 0 && (p[1].revents & POLLIN)) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
			if (fd >= 0 && nsrv < 4) {
				if (nsrv == 0) {
					put(fd, stream, slen);
					shutdown(fd, SHUT_WR);
				} else {
					shutdown(fd, SHUT_RDWR);
				}
				srv[nsrv++] = fd;
			} else if (fd >= 0) {
				close(fd);
			}
		}
		for (int i = 0; rc > 0 && i < nsrv; i++) {
			if (p[2 + i].revents & (POLLIN | POLLHUP | POLLERR)) {
				char junk[4096];
				while (read(srv[i], junk, sizeof junk) > 0)
					;
			}
		}
		short rev = (p[0].fd >= 0 && rc > 0) ? p[0].revents : 0;
		session_handle(s, rev);
	}
	(void)session_exit_status(s);
	session_free(s);
	for (int i = 0; i < nsrv; i++)
		close(srv[i]);
	config_free(&cfg);
	return 0;
}

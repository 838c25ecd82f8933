/*
 * fuzz_session_tls.c - libFuzzer: the client session fed a server byte
 * stream *inside TLS* (implicit TLS), so the fuzzed bytes travel the TLS
 * record layer into the line reader and the reply parser, the path every
 * real submission session takes after the handshake.
 *
 * A thread plays the server: it accepts on 127.0.0.1, completes a real
 * GnuTLS handshake with a certificate from the lab's PKI (made once), sends
 * the input (after one settings byte) as application data, says
 * close_notify and reads until the client is gone.  The settings byte
 * picks AUTH (PLAIN, LOGIN, ...) and --no-send as in fuzz_session.c.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "../../src/config.h"
#include "../../src/lab/certs.h"
#include "../../src/lab/lab.h"
#include "../../src/session.h"
#include "../../src/util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int lfd = -1;
static int lport;
static struct lab_pki pki;
static gnutls_certificate_credentials_t cred;
static gnutls_priority_t prio;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sockaddr_in sa = { 0 };
	socklen_t len = sizeof sa;
	char err[256];

	signal(SIGPIPE, SIG_IGN);
	if (lab_pki_make(&pki, LC_GOOD, err, sizeof err) < 0) {
		fprintf(stderr, "fuzz_session_tls: %s\n", err);
		exit(1);
	}
	gnutls_datum_t c = { (unsigned char *)pki.cert_pem, (unsigned)strlen(pki.cert_pem) };
	gnutls_datum_t k = { (unsigned char *)pki.key_pem, (unsigned)strlen(pki.key_pem) };
	if (gnutls_certificate_allocate_credentials(&cred) < 0 ||
	    gnutls_certificate_set_x509_key_mem(cred, &c, &k, GNUTLS_X509_FMT_PEM) < 0 ||
	    gnutls_priority_init(&prio, "NORMAL", NULL) < 0) {
		fprintf(stderr, "fuzz_session_tls: TLS credentials\n");
		exit(1);
	}
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(lfd, 16) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &len) < 0) {
		perror("fuzz_session_tls: listener");
		exit(1);
	}
	lport = ntohs(sa.sin_port);
	return 0;
}

struct server_job {
	const uint8_t *data;
	size_t size;
};

static void *
server(void *arg)
{
	struct server_job *j = arg;
	struct pollfd pf = { lfd, POLLIN, 0 };

	if (poll(&pf, 1, 3000) <= 0)
		return NULL;
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct timeval tv = { 2, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);

	gnutls_session_t s;
	gnutls_init(&s, GNUTLS_SERVER);
	gnutls_priority_set(s, prio);
	gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
	gnutls_transport_set_int(s, fd);
	gnutls_handshake_set_timeout(s, 3000);
	int rc;
	do {
		rc = gnutls_handshake(s);
	} while (rc < 0 && !gnutls_error_is_fatal(rc));
	if (rc == 0) {
		size_t off = 0;
		while (off < j->size) {
			ssize_t k = gnutls_record_send(s, j->data + off, j->size - off);
			if (k <= 0)
				break;
			off += (size_t)k;
		}
		gnutls_bye(s, GNUTLS_SHUT_WR);
		char junk[4096];
		while (gnutls_record_recv(s, junk, sizeof junk) > 0)
			;
	}
	gnutls_deinit(s);
	close(fd);
	return NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum auth_mech mechs[] = {
		AM_AUTO, AM_PLAIN, AM_LOGIN, AM_CRAM_MD5, AM_SCRAM_SHA_256,
		AM_XOAUTH2, AM_AUTO, AM_AUTO
	};
	struct config cfg;
	uint8_t s0 = size > 0 ? data[0] : 0;
	struct server_job job = { data + (size ? 1 : 0), size ? size - 1 : 0 };

	config_defaults(&cfg);
	config_set(&cfg.host, "127.0.0.1");
	cfg.port = lport;
	cfg.tls = TLSM_IMPLICIT;
	config_set(&cfg.ca_pem, pki.ca_pem);
	config_set(&cfg.servername, LAB_SERVERNAME);
	config_set(&cfg.helo, "client.fuzz.test");
	config_set(&cfg.from, "a@fuzz.test");
	cfg.to[0] = xstrdup("b@fuzz.test");
	cfg.nto = 1;
	if (s0 & 8) {
		config_set(&cfg.user, "alice");
		config_set(&cfg.password, "fuzz-Secret-1");
		cfg.mech = mechs[(s0 >> 5) & 7];
	}
	cfg.no_send = (s0 & 16) != 0;
	cfg.timeout = 1.0;	/* the stream ends in close_notify: no waiting */

	pthread_t th;
	pthread_create(&th, NULL, server, &job);
	struct session *s = session_new(&cfg);
	double guard = now_mono() + 15.0;
	session_go(s, RUN_ALL);
	while (!s->finished) {
		if (!session_busy(s)) {
			session_go(s, RUN_ALL);
			continue;
		}
		if (now_mono() > guard) {
			fprintf(stderr, "fuzz_session_tls: the session never ends\n");
			abort();
		}
		struct pollfd p;
		double deadline;
		session_wait(s, &p, &deadline);
		int ms = 50;
		if (deadline >= 0) {
			double left = deadline - now_mono();
			int d = left <= 0 ? 0 : (int)(left * 1000) + 1;
			if (d < ms)
				ms = d;
		}
		int rc = poll(&p, p.fd >= 0 ? 1 : 0, ms);
		session_handle(s, rc > 0 ? p.revents : 0);
	}
	(void)session_exit_status(s);
	session_free(s);
	pthread_join(th, NULL);
	config_free(&cfg);
	return 0;
}

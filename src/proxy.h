/*
 * proxy.h - the proxy hop of the connect step: SOCKS5 (RFC 1928, with
 * RFC 1929 user/password) and HTTP CONNECT (RFC 9110 §9.3.6).
 *
 * The session connects to the proxy, then drives proxy_hs_step() on the
 * non-blocking socket until it answers PXR_OK (the tunnel is up: the
 * SMTP session goes on over the same socket) or PXR_FAIL (kind and
 * evidence say why).  Reads take exactly the bytes of the proxy's answer,
 * so a server greeting that follows at once stays in the socket for the
 * SMTP reader.  The password never reaches a note or the evidence.
 */
#ifndef SMTPDX_PROXY_H
#define SMTPDX_PROXY_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "diag.h"
#include "util.h"

enum px_rc { PXR_AGAIN, PXR_OK, PXR_FAIL };

struct proxy_hs {
	enum proxy_kind kind;
	int state;
	struct buf out;			/* bytes still to send (may hold the
					 * password: wiped by buf_free) */
	unsigned char in[1024];
	size_t have, need;		/* bytes read / wanted of this answer */
	bool with_auth;
	char target[300];		/* "smtp.example.com port 587" */
	char name[256], addr[64];	/* the target: name, address or "" */
	int port;
	char *user, *pass;		/* copies; pass wiped by proxy_hs_free */
	enum fail_kind fail;
	char evidence[400];
	/* information lines for the transcript, drained by the caller */
	void (*note)(void *arg, const char *line);
	void *arg;
};

/* Begin the handshake for c's proxy towards host (a name) or addr (an
 * address text, "" none: the name goes to the proxy) port. */
void proxy_hs_start(struct proxy_hs *h, const struct config *c,
		    const char *host, const char *addr, int port);
/* What to poll for: POLLIN or POLLOUT. */
short proxy_hs_events(const struct proxy_hs *h);
enum px_rc proxy_hs_step(struct proxy_hs *h, int fd);
void proxy_hs_free(struct proxy_hs *h);
/* SOCKS5 reply code in words (RFC 1928 §6). */
const char *proxy_socks_reply(int code);

#endif

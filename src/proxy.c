/* proxy.c - SOCKS5 and HTTP CONNECT handshakes, non-blocking. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "proxy.h"

enum {
	S_GREET,	/* SOCKS5: method selection sent, 2 bytes wanted */
	S_AUTH,		/* RFC 1929 sub-negotiation: 2 bytes wanted */
	S_REQ_HEAD,	/* CONNECT request sent: VER REP RSV ATYP (+1) */
	S_REQ_REST,	/* the bound address and port */
	S_HTTP,		/* CONNECT sent: header lines until an empty one */
	S_DONE
};

const char *
proxy_socks_reply(int code)
{
	static const char *const w[] = {
		"succeeded", "general SOCKS server failure",
		"connection not allowed by ruleset", "network unreachable",
		"host unreachable", "connection refused", "TTL expired",
		"command not supported", "address type not supported"
	};
	return code >= 0 && code < 9 ? w[code] : "unassigned code";
}

static void
note(struct proxy_hs *h, const char *fmt, ...) PRINTF(2, 3);

static void
note(struct proxy_hs *h, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *m = xvasprintf(fmt, ap);
	va_end(ap);
	if (h->note)
		h->note(h->arg, m);
	free(m);
}

static enum px_rc
failed(struct proxy_hs *h, enum fail_kind k, const char *fmt, ...) PRINTF(3, 4);

static enum px_rc
failed(struct proxy_hs *h, enum fail_kind k, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(h->evidence, sizeof h->evidence, fmt, ap);
	va_end(ap);
	h->fail = k;
	h->state = S_DONE;
	return PXR_FAIL;
}

static void
b64(struct buf *b, const unsigned char *s, size_t n)
{
	static const char t[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)s[i] << 16;
		if (i + 1 < n) v |= (unsigned)s[i + 1] << 8;
		if (i + 2 < n) v |= s[i + 2];
		buf_addc(b, t[v >> 18 & 63]);
		buf_addc(b, t[v >> 12 & 63]);
		buf_addc(b, i + 1 < n ? t[v >> 6 & 63] : '=');
		buf_addc(b, i + 2 < n ? t[v & 63] : '=');
	}
}

static void
socks_request(struct proxy_hs *h)
{
	unsigned char a[16];
	buf_add(&h->out, "\x05\x01\x00", 3);
	if (*h->addr && inet_pton(AF_INET, h->addr, a) == 1) {
		buf_addc(&h->out, 1);
		buf_add(&h->out, a, 4);
	} else if (*h->addr && inet_pton(AF_INET6, h->addr, a) == 1) {
		buf_addc(&h->out, 4);
		buf_add(&h->out, a, 16);
	} else {
		size_t n = strlen(h->name);
		buf_addc(&h->out, 3);
		buf_addc(&h->out, (char)n);
		buf_add(&h->out, h->name, n);
	}
	buf_addc(&h->out, (char)(h->port >> 8));
	buf_addc(&h->out, (char)(h->port & 255));
	note(h, "asking the proxy to connect to %s", h->target);
	h->state = S_REQ_HEAD;
	h->need = 5;	/* VER REP RSV ATYP and the first address byte */
	h->have = 0;
}

void
proxy_hs_start(struct proxy_hs *h, const struct config *c, const char *host,
	       const char *addr, int port)
{
	void (*cb)(void *, const char *) = h->note;
	void *arg = h->arg;
	memset(h, 0, sizeof *h);
	h->note = cb;
	h->arg = arg;
	h->kind = c->proxy;
	char *aname = idna_lookup_name(host);	/* the proxy resolves A-labels */
	snprintf(h->name, sizeof h->name, "%s", aname);
	free(aname);
	snprintf(h->addr, sizeof h->addr, "%s", addr ? addr : "");
	h->port = port;
	bool v6 = strchr(*h->addr ? h->addr : h->name, ':') != NULL;
	snprintf(h->target, sizeof h->target, "%s%s%s port %d", v6 ? "[" : "",
		 *h->addr ? h->addr : h->name, v6 ? "]" : "", port);
	h->with_auth = c->proxy_user != NULL;
	h->user = c->proxy_user ? xstrdup(c->proxy_user) : NULL;
	h->pass = xstrdup(c->proxy_pass ? c->proxy_pass : "");
	if (h->kind == PX_HTTP) {
		char hp[300];
		snprintf(hp, sizeof hp, "%s%s%s:%d", v6 ? "[" : "",
			 *h->addr ? h->addr : h->name, v6 ? "]" : "", port);
		buf_printf(&h->out, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n", hp, hp);
		if (h->with_auth) {
			struct buf cred = { 0 };
			buf_printf(&cred, "%s:%s", h->user, h->pass);
			buf_adds(&h->out, "Proxy-Authorization: Basic ");
			b64(&h->out, (const unsigned char *)cred.data, cred.len);
			buf_adds(&h->out, "\r\n");
			buf_free(&cred);
		}
		buf_adds(&h->out, "\r\n");
		note(h, "CONNECT %s HTTP/1.1%s", hp, h->with_auth ?
		     " (Proxy-Authorization: <redacted>)" : "");
		h->state = S_HTTP;
		h->need = 1;	/* a byte at a time: nothing past the header */
		return;
	}
	/* RFC 1928 §3: the methods we can do */
	if (h->with_auth)
		buf_add(&h->out, "\x05\x02\x00\x02", 4);
	else
		buf_add(&h->out, "\x05\x01\x00", 3);
	h->state = S_GREET;
	h->need = 2;
}

short
proxy_hs_events(const struct proxy_hs *h)
{
	return h->out.len ? POLLOUT : POLLIN;
}

/* The first bytes of an answer that is not the protocol's, printable. */
static const char *
shown(const struct proxy_hs *h, char *t, size_t n)
{
	size_t j = 0;
	for (size_t i = 0; i < h->have && j + 5 < n; i++) {
		unsigned char c = h->in[i];
		if (c >= 0x20 && c < 0x7f)
			t[j++] = (char)c;
		else
			j += (size_t)snprintf(t + j, n - j, "\\x%02x", c);
	}
	t[j] = '\0';
	return t;
}

static enum px_rc
answer(struct proxy_hs *h)
{
	char t[200];
	switch (h->state) {
	case S_GREET:
		if (h->in[0] != 5)
			return failed(h, FK_PROXY_PROTOCOL, "the proxy's first answer "
				      "is not SOCKS5: \"%s\"", shown(h, t, sizeof t));
		if (h->in[1] == 0xff)
			return failed(h, FK_PROXY_AUTH, "the SOCKS5 proxy accepts none "
				      "of the methods offered (%s): method 0xFF",
				      h->with_auth ? "none, user/password" :
				      "no authentication; it wants credentials");
		if (h->in[1] == 2 && h->with_auth) {
			size_t ul = strlen(h->user), pl = strlen(h->pass);
			note(h, "the proxy asks for a user name and password "
			     "(RFC 1929): sending user %s, password <redacted>",
			     h->user);
			buf_addc(&h->out, 1);
			buf_addc(&h->out, (char)ul);
			buf_add(&h->out, h->user, ul);
			buf_addc(&h->out, (char)pl);
			buf_add(&h->out, h->pass, pl);
			h->state = S_AUTH;
			h->need = 2;
			h->have = 0;
			return PXR_AGAIN;
		}
		if (h->in[1] != 0)
			return failed(h, FK_PROXY_PROTOCOL, "the SOCKS5 proxy chose "
				      "method 0x%02x, which was not offered",
				      h->in[1]);
		note(h, "the SOCKS5 proxy needs no authentication");
		socks_request(h);
		return PXR_AGAIN;
	case S_AUTH:
		if (h->in[1] != 0)
			return failed(h, FK_PROXY_AUTH, "the SOCKS5 proxy refused "
				      "user %s and its password (RFC 1929 status "
				      "0x%02x)", h->user, h->in[1]);
		note(h, "the proxy accepted the user name and password");
		socks_request(h);
		return PXR_AGAIN;
	case S_REQ_HEAD: {
		if (h->in[0] != 5)
			return failed(h, FK_PROXY_PROTOCOL, "the proxy's answer to "
				      "CONNECT is not SOCKS5: \"%s\"",
				      shown(h, t, sizeof t));
		int rep = h->in[1];
		if (rep != 0) {
			enum fail_kind k = rep >= 3 && rep <= 6 ? FK_PROXY_TARGET :
				FK_PROXY_DENIED;
			note(h, "SOCKS5 reply 0x%02x: %s", rep, proxy_socks_reply(rep));
			return failed(h, k, "the SOCKS5 proxy could not connect to "
				      "%s: reply 0x%02x, %s", h->target, rep,
				      proxy_socks_reply(rep));
		}
		int atyp = h->in[3];
		size_t rest = atyp == 1 ? 4 + 2 - 1 : atyp == 4 ? 16 + 2 - 1 :
			atyp == 3 ? (size_t)h->in[4] + 2 : 0;
		if (!rest)
			return failed(h, FK_PROXY_PROTOCOL, "the SOCKS5 proxy answered "
				      "with address type 0x%02x", atyp);
		h->state = S_REQ_REST;
		h->need = 5 + rest;
		return PXR_AGAIN;
	}
	case S_REQ_REST:
		note(h, "SOCKS5 reply 0x00: succeeded; the tunnel to %s is open",
		     h->target);
		h->state = S_DONE;
		return PXR_OK;
	case S_HTTP: {
		size_t n = h->have;
		if (n <= 5 && memcmp(h->in, "HTTP/", n) != 0)
			return failed(h, FK_PROXY_PROTOCOL, "the proxy's answer is "
				      "not HTTP: \"%s\"", shown(h, t, sizeof t));
		if (n >= sizeof h->in - 1)
			return failed(h, FK_PROXY_PROTOCOL, "the HTTP proxy's answer "
				      "header is longer than %zu bytes",
				      sizeof h->in);
		if (n < 4 || (memcmp(h->in + n - 4, "\r\n\r\n", 4) != 0 &&
			      memcmp(h->in + n - 2, "\n\n", 2) != 0)) {
			h->need = n + 1;
			return PXR_AGAIN;
		}
		h->in[n] = '\0';
		char *line = (char *)h->in;
		line[strcspn(line, "\r\n")] = '\0';
		note(h, "proxy: %s", line);
		int code = 0;
		char *sp = strchr(line, ' ');
		if (!sp || sscanf(sp, " %3d", &code) != 1 || code < 100 || code > 599)
			return failed(h, FK_PROXY_PROTOCOL, "the HTTP proxy's status "
				      "line has no status code: \"%.200s\"", line);
		if (code >= 200 && code < 300) {
			note(h, "the tunnel to %s is open", h->target);
			h->state = S_DONE;
			return PXR_OK;
		}
		if (code == 407)
			return failed(h, FK_PROXY_AUTH, "HTTP %d from the proxy: %s"
				      "(\"%.200s\")", code, h->with_auth ?
				      "it refused the credentials " :
				      "it wants credentials ", line);
		if (code == 502 || code == 503 || code == 504)
			return failed(h, FK_PROXY_TARGET, "HTTP %d from the proxy "
				      "for CONNECT to %s (\"%.200s\")", code,
				      h->target, line);
		return failed(h, FK_PROXY_DENIED, "HTTP %d from the proxy for "
			      "CONNECT to %s (\"%.200s\")", code, h->target, line);
	}
	}
	return failed(h, FK_PROXY_PROTOCOL, "internal: proxy state %d", h->state);
}

enum px_rc
proxy_hs_step(struct proxy_hs *h, int fd)
{
	for (;;) {
		if (h->state == S_DONE)
			return h->fail ? PXR_FAIL : PXR_OK;
		if (h->out.len) {
			ssize_t w = write(fd, h->out.data, h->out.len);
			if (w < 0 && (errno == EAGAIN || errno == EINTR))
				return PXR_AGAIN;
			if (w < 0)
				return failed(h, FK_PROXY_PROTOCOL, "writing to the "
					      "proxy: %s", strerror(errno));
			buf_consume(&h->out, (size_t)w);
			if (h->out.len == 0)
				buf_free(&h->out);	/* wipes the password */
			continue;
		}
		ssize_t r = read(fd, h->in + h->have, h->need - h->have);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return PXR_AGAIN;
		if (r <= 0) {
			char t[200];
			return failed(h, FK_PROXY_PROTOCOL, "the proxy closed the "
				      "connection%s%s%s%s%s", r < 0 ? ": " : "",
				      r < 0 ? strerror(errno) : "",
				      h->have ? " after \"" : "",
				      h->have ? shown(h, t, sizeof t) : "",
				      h->have ? "\"" : "");
		}
		h->have += (size_t)r;
		if (h->have < h->need)
			continue;
		enum px_rc rc = answer(h);
		if (rc != PXR_AGAIN)
			return rc;
	}
}

void
proxy_hs_free(struct proxy_hs *h)
{
	buf_free(&h->out);
	if (h->pass) {
		wipe(h->pass, strlen(h->pass));
		free(h->pass);
	}
	free(h->user);
	h->pass = h->user = NULL;
}

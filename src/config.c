/* config.c - client settings: defaults, copies, names of the enums. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "util.h"

void
config_defaults(struct config *c)
{
	memset(c, 0, sizeof *c);
	c->tls = TLSM_AUTO;
	c->mech = AM_AUTO;
	c->timeout = 15;
	c->tls_min = 12;
}

void
config_set(char **field, const char *value)
{
	if (*field)	/* any field may hold a secret: wipe before free */
		wipe(*field, strlen(*field));
	free(*field);
	*field = value ? xstrdup(value) : NULL;
}

void
config_copy(struct config *dst, const struct config *src)
{
	*dst = *src;
	dst->host = src->host ? xstrdup(src->host) : NULL;
	dst->cafile = src->cafile ? xstrdup(src->cafile) : NULL;
	dst->ca_pem = src->ca_pem ? xstrdup(src->ca_pem) : NULL;
	dst->servername = src->servername ? xstrdup(src->servername) : NULL;
	dst->user = src->user ? xstrdup(src->user) : NULL;
	dst->password = src->password ? xstrdup(src->password) : NULL;
	dst->from = src->from ? xstrdup(src->from) : NULL;
	dst->helo = src->helo ? xstrdup(src->helo) : NULL;
	dst->mx_domain = src->mx_domain ? xstrdup(src->mx_domain) : NULL;
	dst->body = src->body ? xstrdup(src->body) : NULL;
	dst->headers = src->headers ? xstrdup(src->headers) : NULL;
	dst->data = src->data ? xstrdup(src->data) : NULL;
	dst->notify = src->notify ? xstrdup(src->notify) : NULL;
	dst->envid = src->envid ? xstrdup(src->envid) : NULL;
	dst->proxy_host = src->proxy_host ? xstrdup(src->proxy_host) : NULL;
	dst->proxy_user = src->proxy_user ? xstrdup(src->proxy_user) : NULL;
	dst->proxy_pass = src->proxy_pass ? xstrdup(src->proxy_pass) : NULL;
	dst->cert = src->cert ? xstrdup(src->cert) : NULL;
	dst->key = src->key ? xstrdup(src->key) : NULL;
	dst->key_pass = src->key_pass ? xstrdup(src->key_pass) : NULL;
	dst->provider = src->provider ? xstrdup(src->provider) : NULL;
	dst->password_command = src->password_command ?
				xstrdup(src->password_command) : NULL;
	dst->body_file = src->body_file ? xstrdup(src->body_file) : NULL;
	dst->data_file = src->data_file ? xstrdup(src->data_file) : NULL;
	for (int i = 0; i < src->nto; i++)
		dst->to[i] = xstrdup(src->to[i]);
}

void
config_free(struct config *c)
{
	if (c->password)
		wipe(c->password, strlen(c->password));
	free(c->host);
	free(c->cafile);
	free(c->ca_pem);
	free(c->servername);
	free(c->user);
	free(c->password);
	free(c->from);
	free(c->helo);
	free(c->mx_domain);
	free(c->body);
	free(c->headers);
	free(c->data);
	free(c->notify);
	free(c->envid);
	free(c->proxy_host);
	free(c->proxy_user);
	if (c->proxy_pass)
		wipe(c->proxy_pass, strlen(c->proxy_pass));
	free(c->proxy_pass);
	free(c->cert);
	free(c->key);
	if (c->key_pass)
		wipe(c->key_pass, strlen(c->key_pass));
	free(c->key_pass);
	free(c->provider);
	free(c->password_command);
	free(c->body_file);
	free(c->data_file);
	for (int i = 0; i < c->nto; i++)
		free(c->to[i]);
	memset(c, 0, sizeof *c);
}

enum tls_mode
config_tls(const struct config *c)
{
	if (c->tls != TLSM_AUTO)
		return c->tls;
	return config_port(c) == 465 ? TLSM_IMPLICIT : TLSM_STARTTLS;
}

int
config_port(const struct config *c)
{
	if (c->port)
		return c->port;
	return c->tls == TLSM_IMPLICIT ? 465 : 587;
}

int
config_mapped_port(const struct config *c, int role)
{
	for (int i = 0; i < c->nportmap; i++)
		if (c->portmap[i].role == role)
			return c->portmap[i].port;
	return role;
}

int
config_role_port(const struct config *c)
{
	return c->role_port ? c->role_port : config_port(c);
}

static const char *const tls_names[] = { "auto", "starttls", "implicit", "none" };
static const char *const mech_names[] = {
	"auto", "plain", "login", "cram-md5", "scram-sha-256", "xoauth2",
	"oauthbearer", "external"
};

const char *
tls_mode_name(enum tls_mode m)
{
	return (unsigned)m < 4 ? tls_names[m] : "?";
}

int
tls_mode_from_name(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcasecmp(s, tls_names[i]) == 0)
			return i;
	return -1;
}

const char *
auth_mech_name(enum auth_mech m)
{
	return (unsigned)m < 8 ? mech_names[m] : "?";
}

int
auth_mech_from_name(const char *s)
{
	for (int i = 0; i < 8; i++)
		if (strcasecmp(s, mech_names[i]) == 0)
			return i;
	return -1;
}

const char *
proxy_kind_name(enum proxy_kind k)
{
	switch (k) {
	case PX_SOCKS5: return "SOCKS5";
	case PX_SOCKS5H: return "SOCKS5";
	case PX_HTTP: return "HTTP";
	default: return "none";
	}
}

/* %XX in the user and password of a URL */
static int
pct_decode(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (*r == '%') {
			int v = 0;
			for (int i = 1; i <= 2; i++) {
				char c = r[i];
				int d = c >= '0' && c <= '9' ? c - '0' :
					c >= 'a' && c <= 'f' ? c - 'a' + 10 :
					c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
				if (d < 0)
					return -1;
				v = v * 16 + d;
			}
			if (v == 0)
				return -1;
			*w++ = (char)v;
			r += 2;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
	return 0;
}

int
config_proxy_parse(struct config *c, const char *url, char *err, size_t errlen)
{
	static const struct { const char *scheme; enum proxy_kind k; } sch[] = {
		{ "socks5://", PX_SOCKS5 }, { "socks5h://", PX_SOCKS5H },
		{ "http://", PX_HTTP },
	};
	enum proxy_kind k = PX_NONE;
	const char *rest = NULL;
	for (size_t i = 0; i < sizeof sch / sizeof sch[0]; i++) {
		size_t n = strlen(sch[i].scheme);
		if (strncasecmp(url, sch[i].scheme, n) == 0) {
			k = sch[i].k;
			rest = url + n;
		}
	}
	if (k == PX_NONE) {
		snprintf(err, errlen, "--proxy wants socks5://HOST:PORT, "
			 "socks5h://HOST:PORT or http://HOST:PORT");
		return -1;
	}
	if (strlen(rest) > 1000 || strpbrk(rest, " \t\r\n")) {
		snprintf(err, errlen, "--proxy: bad URL (spaces or too long)");
		return -1;
	}
	char *dup = xstrdup(rest), *hp = dup, *user = NULL, *pass = NULL;
	char *at = strrchr(dup, '@');
	int rc = -1;
	if (at) {
		*at = '\0';
		user = dup;
		hp = at + 1;
		char *colon = strchr(user, ':');
		if (colon) {
			*colon = '\0';
			pass = colon + 1;
		}
		if (!*user || pct_decode(user) < 0 || (pass && pct_decode(pass) < 0) ||
		    strlen(user) > 255 || (pass && strlen(pass) > 255)) {
			snprintf(err, errlen, "--proxy: bad user name or password "
				 "(1-255 bytes each, %%XX for special characters)");
			goto out;
		}
	}
	size_t n = strlen(hp);
	if (n && hp[n - 1] == '/')
		hp[--n] = '\0';
	char *host = hp, *port = NULL;
	if (hp[0] == '[') {
		char *close = strchr(hp, ']');
		if (close && close[1] == ':') {
			*close = '\0';
			host = hp + 1;
			port = close + 2;
		}
	} else {
		char *colon = strrchr(hp, ':');
		if (colon && colon == strchr(hp, ':')) {
			*colon = '\0';
			port = colon + 1;
		}
	}
	char *end;
	long pv = port ? strtol(port, &end, 10) : 0;
	if (!port || !*port || *end || pv < 1 || pv > 65535 || !*host ||
	    strpbrk(host, "/?#@")) {
		snprintf(err, errlen, "--proxy wants HOST:PORT after the scheme, "
			 "e.g. socks5://127.0.0.1:1080");
		goto out;
	}
	c->proxy = k;
	config_set(&c->proxy_host, host);
	c->proxy_port = (int)pv;
	config_set(&c->proxy_user, user);
	config_set(&c->proxy_pass, pass);
	rc = 0;
out:
	wipe(dup, strlen(rest));
	free(dup);
	return rc;
}

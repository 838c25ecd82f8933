/* config.c - client settings: defaults, copies, names of the enums. */
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
config_role_port(const struct config *c)
{
	return c->role_port ? c->role_port : config_port(c);
}

static const char *const tls_names[] = { "auto", "starttls", "implicit", "none" };
static const char *const mech_names[] = {
	"auto", "plain", "login", "cram-md5", "scram-sha-256", "xoauth2"
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
	return (unsigned)m < 6 ? mech_names[m] : "?";
}

int
auth_mech_from_name(const char *s)
{
	for (int i = 0; i < 6; i++)
		if (strcasecmp(s, mech_names[i]) == 0)
			return i;
	return -1;
}

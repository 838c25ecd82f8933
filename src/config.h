/*
 * config.h - what one session is asked to do: the client settings.
 *
 * Filled by the command line (options.c), by a lab scenario, or by the
 * TUI's settings form.  Strings are owned by the struct (heap copies):
 * config_set() replaces one, config_free() releases all and wipes the
 * password.  A zeroed struct followed by config_defaults() is valid.
 */
#ifndef SMTPDX_CONFIG_H
#define SMTPDX_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct team_policy;

enum tls_mode { TLSM_AUTO, TLSM_STARTTLS, TLSM_IMPLICIT, TLSM_NONE };

enum auth_mech {
	AM_AUTO, AM_PLAIN, AM_LOGIN, AM_CRAM_MD5, AM_SCRAM_SHA_256, AM_XOAUTH2,
	AM_OAUTHBEARER, AM_EXTERNAL
};

enum family { FAM_ANY, FAM_V4, FAM_V6 };

/* --proxy: how the session reaches the server */
enum proxy_kind { PX_NONE, PX_SOCKS5, PX_SOCKS5H, PX_HTTP };

#define MAX_RCPT 32
#define CONFIG_MAX_PORTMAP 8

struct config {
	char *host;		/* as the user named it; NULL until set */
	int port;		/* 0: default (587, or 465 with --tls implicit) */
	int role_port;		/* port the diagnosis reasons about; 0: = port.
				 * The lab plays "port 25" on a free port. */
	enum tls_mode tls;
	char *cafile;		/* PEM file of trust anchors, or NULL: system */
	char *ca_pem;		/* PEM trust anchors in memory (the lab's CA) */
	char *servername;	/* SNI and certificate name; NULL: host */
	bool insecure;
	char *user;		/* NULL: no AUTH */
	char *password;		/* secret: wiped by config_free() */
	enum auth_mech mech;
	bool allow_plaintext_auth;
	char *from;
	char *to[MAX_RCPT];
	int nto;
	char *helo;		/* NULL: this host's name */
	bool no_send;
	double timeout;		/* seconds per step; default 15 */
	enum family family;
	int tls_min;		/* minimum TLS version: 10, 11, 12, 13 (default 12) */
	bool mx;		/* host is a mail domain */
	char *mx_domain;	/* set per MX host: the mail domain it serves
				 * (the diagnosis calls that domain the
				 * server's own); NULL otherwise */
	const struct team_policy *policy;	/* --policy: rules to check
				 * at the end; not owned, may be NULL */
	bool probe;		/* port probe (--sweep): EHLO, TLS, EHLO,
				 * QUIT; never AUTH, never mail */
	/* the message (issue 15); text with CRLF line ends, each line
	 * ended, or NULL: the generated one */
	char *body;		/* --body: the body under generated headers */
	char *headers;		/* --header lines, "Name: value\r\n" each */
	char *data;		/* --data: the whole message, sent as is */
	/* RFC 3461 DSN: sent only when the server offers DSN */
	char *notify;		/* "NEVER" or "SUCCESS,FAILURE,DELAY" subset */
	int ret;		/* 0 none, DSN_RET_FULL, DSN_RET_HDRS */
	char *envid;		/* printable ASCII, xtext-encoded on the wire */
	bool requiretls;	/* RFC 8689 REQUIRETLS on MAIL */
	bool bdat;		/* RFC 3030: BDAT when CHUNKING is offered */
	/* --proxy URL, taken apart; the password is a secret (wiped) */
	enum proxy_kind proxy;
	char *proxy_host;	/* name or address of the proxy */
	int proxy_port;
	char *proxy_user;	/* NULL: no proxy credentials */
	char *proxy_pass;	/* secret */
	/* --cert, --key: a client certificate for the TLS handshake */
	char *cert, *key;	/* PEM files, or NULL */
	char *key_pass;		/* secret: an encrypted key's passphrase */
	/* the lab's mail host (issue 14): the port number each of its
	 * loopback listeners stands for; --sweep probes "587" at the port
	 * that plays 587.  Empty outside the lab. */
	struct { int role, port; } portmap[CONFIG_MAX_PORTMAP];
	int nportmap;
	/* where settings came from, by the names the user gave (for a
	 * profile or a command line written back; the session reads none) */
	char *provider;		/* --provider NAME, or NULL */
	char *password_command;	/* --password-command CMD (not a secret) */
	char *body_file, *data_file;	/* --body FILE, --data FILE */
};

/* The port that plays role (the lab's mail host), or role itself. */
int config_mapped_port(const struct config *c, int role);

enum { DSN_RET_NONE, DSN_RET_FULL, DSN_RET_HDRS };

void config_defaults(struct config *c);
void config_set(char **field, const char *value);	/* strdup, frees old */
void config_copy(struct config *dst, const struct config *src);
void config_free(struct config *c);

int config_port(const struct config *c);	/* the port to connect to */
int config_role_port(const struct config *c);
enum tls_mode config_tls(const struct config *c);	/* auto resolved */
const char *tls_mode_name(enum tls_mode m);	/* "starttls", ... */
int tls_mode_from_name(const char *s);		/* -1 if unknown */
const char *auth_mech_name(enum auth_mech m);	/* "plain", ... */
int auth_mech_from_name(const char *s);
const char *proxy_kind_name(enum proxy_kind k);	/* "SOCKS5", ... */
/* Parse "socks5://[user[:pass]@]host:port", "socks5h://...", "http://..."
 * into c.  Returns 0, or -1 with one line in err. */
int config_proxy_parse(struct config *c, const char *url, char *err,
		       size_t errlen);

#endif

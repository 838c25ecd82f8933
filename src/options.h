/*
 * options.h - the command line of CONTRACT.md.
 *
 * options_parse() fills struct options from argv.  Settings go into
 * o->cfg and their bits into o->set, so that a lab scenario's client
 * settings can be applied first and the user's options over them
 * (options_merge).  On a usage error it returns -1 with one line in err;
 * the caller prints it and exits 2.
 */
#ifndef SMTPDX_OPTIONS_H
#define SMTPDX_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>
#include "config.h"
#include "policy.h"

enum opt_bit {
	OB_HOST = 1u << 0, OB_PORT = 1u << 1, OB_TLS = 1u << 2,
	OB_CAFILE = 1u << 3, OB_SERVERNAME = 1u << 4, OB_INSECURE = 1u << 5,
	OB_USER = 1u << 6, OB_PASSWORD = 1u << 7, OB_MECH = 1u << 8,
	OB_PLAINAUTH = 1u << 9, OB_FROM = 1u << 10, OB_TO = 1u << 11,
	OB_HELO = 1u << 12, OB_NOSEND = 1u << 13, OB_TIMEOUT = 1u << 14,
	OB_FAMILY = 1u << 15, OB_TLSMIN = 1u << 16, OB_MX = 1u << 17,
	OB_POLICY = 1u << 18, OB_PROXY = 1u << 19,
	OB_CERT = 1u << 20, OB_MESSAGE = 1u << 21, OB_DSN = 1u << 22,
	OB_REQUIRETLS = 1u << 23, OB_BDAT = 1u << 24
};

struct options {
	struct config cfg;
	unsigned set;			/* enum opt_bit: what the user gave */
	bool batch, json, no_color;
	bool lab;			/* --lab given */
	char *lab_name;			/* scenario, NULL: "ok" */
	bool list_diagnoses, version, help;
	bool sweep;
	char *ports;			/* --ports list */
	char *password_file;
	char *lab_server_ca;		/* --lab-server CAFILE: serve only */
	char *format;			/* --format (--lab handout): "markdown",
					 * "html"; NULL: markdown */
	bool lab_server;		/* --lab-server given (CAFILE or not) */
	char *report_card;		/* --report-card FILE: the lab server's
					 * cards as JSON lines, or NULL */
	bool find_fix;			/* --find-fix */
	char *profile;			/* --profile NAME */
	char *config_file;		/* --config FILE */
	char *password_command;		/* --password-command CMD */
	char *key_password_command;	/* --key-password-command CMD */
	char *provider;			/* --provider NAME ("list": print) */
	char *policy_file;		/* --policy FILE */
	char *deliverability;		/* --deliverability DOMAIN */
	char *sending_ip;		/* --sending-ip ADDR */
	char *dkim_selector;		/* --dkim-selector NAME */
	struct team_policy policy;	/* its rules; cfg.policy points here */
	char *body_file, *data_file;	/* --body, --data as given */
	bool proxy_pass_in_argv;	/* --proxy URL held a password */
	char *fetch_back;		/* --fetch-back URL (checked) */
	char *imap_password;		/* SMTPDX_IMAP_PASSWORD (secret) */
};

/*
 * An encrypted --key's passphrase comes from --key-password-command, else
 * SMTPDX_KEY_PASSWORD, else this prompt: called with the key's file name
 * when the key is encrypted and stdin is a terminal; returns the
 * passphrase (heap, the caller wipes it) or NULL.  main.c sets it (the
 * terminal is its business); NULL, the default: never asked.
 */
void options_set_key_prompt(char *(*prompt)(const char *key));

int options_parse(struct options *o, int argc, char **argv, char *err,
		  size_t errlen);
/* --provider's presets (host, port, TLS mode) for what the user did not
 * give; call after options_parse, before options_merge. */
void options_apply_provider(struct options *o);
/* Copy the user's settings (o->set) over base. */
void options_merge(struct config *base, const struct options *o);
/* Password from --password-file or SMTPDX_PASSWORD (then unset).  Returns
 * 0, or -1 with err (unreadable file). */
int options_password(struct options *o, char *err, size_t errlen);
void options_free(struct options *o);
void options_usage(FILE *out);

#endif

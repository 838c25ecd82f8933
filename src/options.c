/* options.c - command-line parsing, with one-line errors. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "deliver.h"
#include "imap.h"
#include "message.h"
#include "options.h"
#include "profile.h"
#include "provider.h"
#include "settings.h"
#include "sweep.h"
#include "tls.h"
#include "util.h"

enum {
	O_TLS = 256, O_CAFILE, O_SERVERNAME, O_INSECURE, O_PASSFILE, O_AUTH,
	O_PLAINAUTH, O_HELO, O_NOSEND, O_TIMEOUT, O_SWEEP, O_PORTS, O_MX,
	O_BATCH, O_JSON, O_LAB, O_LIST, O_VERSION, O_NOCOLOR, O_TLSMIN,
	O_LABSERVER, O_REPORTCARD, O_PROVIDER, O_POLICY, O_DELIVER, O_SENDINGIP, O_DKIMSEL, O_FINDFIX, O_PROFILE, O_CONFIG, O_PASSCMD,
	O_PROXY, O_CERT, O_KEY, O_KEYPASSCMD,
	O_BODY, O_HEADER, O_DATA, O_NOTIFY, O_RET, O_ENVID, O_REQUIRETLS, O_BDAT,
	O_FORMAT,
	O_FETCHBACK,
};

static const struct option longopts[] = {
	{ "port", required_argument, NULL, 'p' },
	{ "tls", required_argument, NULL, O_TLS },
	{ "cafile", required_argument, NULL, O_CAFILE },
	{ "servername", required_argument, NULL, O_SERVERNAME },
	{ "insecure", no_argument, NULL, O_INSECURE },
	{ "user", required_argument, NULL, 'u' },
	{ "password-file", required_argument, NULL, O_PASSFILE },
	{ "auth", required_argument, NULL, O_AUTH },
	{ "allow-plaintext-auth", no_argument, NULL, O_PLAINAUTH },
	{ "from", required_argument, NULL, 'f' },
	{ "to", required_argument, NULL, 't' },
	{ "helo", required_argument, NULL, O_HELO },
	{ "no-send", no_argument, NULL, O_NOSEND },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "tls-min", required_argument, NULL, O_TLSMIN },
	{ "sweep", no_argument, NULL, O_SWEEP },
	{ "ports", required_argument, NULL, O_PORTS },
	{ "mx", no_argument, NULL, O_MX },
	{ "batch", no_argument, NULL, O_BATCH },
	{ "json", no_argument, NULL, O_JSON },
	{ "lab", optional_argument, NULL, O_LAB },
	{ "list-diagnoses", no_argument, NULL, O_LIST },
	{ "lab-server", required_argument, NULL, O_LABSERVER },
	{ "report-card", required_argument, NULL, O_REPORTCARD },
	{ "provider", required_argument, NULL, O_PROVIDER },
	{ "policy", required_argument, NULL, O_POLICY },
	{ "deliverability", required_argument, NULL, O_DELIVER },
	{ "sending-ip", required_argument, NULL, O_SENDINGIP },
	{ "dkim-selector", required_argument, NULL, O_DKIMSEL },
	{ "find-fix", no_argument, NULL, O_FINDFIX },
	{ "profile", required_argument, NULL, O_PROFILE },
	{ "config", required_argument, NULL, O_CONFIG },
	{ "password-command", required_argument, NULL, O_PASSCMD },
	{ "body", required_argument, NULL, O_BODY },
	{ "header", required_argument, NULL, O_HEADER },
	{ "data", required_argument, NULL, O_DATA },
	{ "notify", required_argument, NULL, O_NOTIFY },
	{ "ret", required_argument, NULL, O_RET },
	{ "envid", required_argument, NULL, O_ENVID },
	{ "requiretls", no_argument, NULL, O_REQUIRETLS },
	{ "bdat", no_argument, NULL, O_BDAT },
	{ "format", required_argument, NULL, O_FORMAT },
	{ "fetch-back", required_argument, NULL, O_FETCHBACK },
	{ "proxy", required_argument, NULL, O_PROXY },
	{ "cert", required_argument, NULL, O_CERT },
	{ "key", required_argument, NULL, O_KEY },
	{ "key-password-command", required_argument, NULL, O_KEYPASSCMD },
	{ "no-color", no_argument, NULL, O_NOCOLOR },
	{ "version", no_argument, NULL, O_VERSION },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

void
options_usage(FILE *out)
{
	/* one screen (80x24); the man page has the rest */
	fputs(
"usage: smtpdx [OPTIONS] HOST[:PORT]     walk through an SMTP session, explained\n"
"       smtpdx --lab [SCENARIO]          on the built-in lab: list mystery fixit\n"
"  -p, --port N          port (587)         --tls MODE  starttls implicit none\n"
"      --cafile FILE     trust these CAs    --servername NAME  SNI and cert name\n"
"      --insecure        past a bad cert    --tls-min V  1.0 1.1 1.2 1.3\n"
"  -u, --user NAME       AUTH as NAME       --password-file F  or SMTPDX_PASSWORD\n"
"      --password-command CMD  a keyring    --auth MECH  auto plain login\n"
"      cram-md5 scram-sha-256 xoauth2 oauthbearer external (--cert F --key F)\n"
"      --allow-plaintext-auth  no TLS (don't)  --key-password-command CMD (--key)\n"
"  -f, --from ADDR       sender             -t, --to ADDR      recipient (repeat)\n"
"      --helo NAME       EHLO name          --no-send          stop after RCPT\n"
"      --timeout SECS    per step (15)      -4, -6             IPv4 or IPv6 only\n"
"      --sweep           which port works?  --ports LIST       (587,465,2525,25)\n"
"      --mx              HOST is a mail domain: use its MX hosts\n"
"      --provider NAME   gmail, ses, ...    --profile NAME     [--config FILE]\n"
"      --policy FILE     team port policy   --find-fix         smallest fix\n"
"      --deliverability DOMAIN  SPF, DMARC, MTA-STS, TLS-RPT, DANE, reverse DNS\n"
"      --fetch-back imaps://USER@HOST[:PORT]  read the message back (IMAP)\n"
"      --body F --header H --data F  --bdat --requiretls --notify --ret --envid\n"
"      --batch, --json   no TUI: text, or one JSON report   --report-card F\n"
"      --list-diagnoses  the catalog        --no-color  --version  --help\n"
"      --lab-server [CA] [-p PORT]  the lab  --proxy URL  socks5[h]://, http://\n"
"exit: 0 ok, 1 failure diagnosed, 2 usage, 3 internal, 4 interrupted.  man smtpdx\n", out);
}

static int
usage_err(char *err, size_t errlen, const char *fmt, ...) PRINTF(3, 4);

static int
usage_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int
parse_port(const char *s, int *port)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > 65535)
		return -1;
	*port = (int)v;
	return 0;
}

/* "host", "host:port", "[v6]:port", "[v6]", "v6" (two or more colons). */
static int
parse_target(struct options *o, const char *arg, char *err, size_t errlen)
{
	char host[512];
	int port = 0;

	if (strlen(arg) >= sizeof host || !*arg)
		return usage_err(err, errlen, "bad host '%s'", arg);
	if (arg[0] == '[') {
		const char *close = strchr(arg, ']');
		if (!close)
			return usage_err(err, errlen, "bad host '%s': missing ']'", arg);
		snprintf(host, sizeof host, "%.*s", (int)(close - arg - 1), arg + 1);
		if (close[1] == ':') {
			if (parse_port(close + 2, &port) < 0)
				return usage_err(err, errlen, "bad port in '%s'", arg);
		} else if (close[1]) {
			return usage_err(err, errlen, "bad host '%s'", arg);
		}
	} else {
		const char *c = strchr(arg, ':');
		if (c && !strchr(c + 1, ':')) {
			snprintf(host, sizeof host, "%.*s", (int)(c - arg), arg);
			if (parse_port(c + 1, &port) < 0)
				return usage_err(err, errlen, "bad port in '%s'", arg);
		} else {
			snprintf(host, sizeof host, "%s", arg);	/* name or bare IPv6 */
		}
	}
	if (!*host)
		return usage_err(err, errlen, "bad host '%s'", arg);
	if (setting_check("host", host, err, errlen) < 0)
		return -1;
	config_set(&o->cfg.host, host);
	o->set |= OB_HOST;
	if (port) {
		if ((o->set & OB_PORT) && o->cfg.port != port)
			return usage_err(err, errlen, "port given twice (%d and %d)",
					 o->cfg.port, port);
		o->cfg.port = port;
		o->set |= OB_PORT;
	}
	return 0;
}

/* ---- an encrypted key's passphrase ---------------------------------- */

static char *(*key_prompt)(const char *key);

void
options_set_key_prompt(char *(*prompt)(const char *key))
{
	key_prompt = prompt;
}

/* Is the PEM key file encrypted (PKCS #8 "ENCRYPTED PRIVATE KEY", or the
 * old OpenSSL "Proc-Type: 4,ENCRYPTED")?  Unreadable: no (the load then
 * says why). */
static bool
key_encrypted(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	char line[256];
	bool enc = false;
	while (!enc && fgets(line, sizeof line, f))
		enc = strstr(line, "-----BEGIN ENCRYPTED PRIVATE KEY-----") ||
		      strstr(line, "Proc-Type: 4,ENCRYPTED");
	fclose(f);
	return enc;
}

/*
 * --key's passphrase, when it needs one: --key-password-command, else
 * SMTPDX_KEY_PASSWORD (read once, then out of the environment, so no
 * child sees it), else the prompt on the terminal.  Then the certificate
 * and key are loaded to check them; a passphrase that does not open the
 * key is named with where it came from.
 */
static int
key_passphrase(struct options *o, char *err, size_t errlen)
{
	const char *from = NULL;
	char *env = getenv("SMTPDX_KEY_PASSWORD");
	if (env) {
		secrets_protect();
		if (o->cfg.key && !o->cfg.key_pass && !o->key_password_command) {
			config_set(&o->cfg.key_pass, env);
			from = "SMTPDX_KEY_PASSWORD";
		}
		unsetenv("SMTPDX_KEY_PASSWORD");
	}
	if (o->cfg.key && !o->cfg.key_pass && o->key_password_command) {
		secrets_protect();
		char *pw = password_command("--key-password-command",
					    o->key_password_command, 60, err,
					    errlen);
		if (!pw)
			return -1;
		config_set(&o->cfg.key_pass, pw);
		wipe(pw, strlen(pw));
		free(pw);
		from = "--key-password-command";
	}
	if (o->cfg.key && !o->cfg.key_pass && key_prompt &&
	    isatty(STDIN_FILENO) && key_encrypted(o->cfg.key)) {
		char *pw = key_prompt(o->cfg.key);
		if (pw) {
			config_set(&o->cfg.key_pass, pw);
			wipe(pw, strlen(pw));
			free(pw);
			from = "the terminal";
		}
	}
	if (!o->cfg.cert)
		return 0;
	int rc = tls_client_cert_load(o->cfg.cert, o->cfg.key, o->cfg.key_pass,
				      NULL, 0, err, errlen);
	if (rc == TLS_KEY_LOCKED && from)
		return usage_err(err, errlen, "--key %s: the passphrase from %s "
				 "is wrong: it does not decrypt the key",
				 o->cfg.key, from);
	return rc < 0 ? -1 : 0;
}

int
options_parse(struct options *o, int argc, char **argv, char *err, size_t errlen)
{
	int c, v;
	char *end;

	memset(o, 0, sizeof *o);
	config_defaults(&o->cfg);
	optind = 0;	/* 0: a full reset of glibc getopt's state */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:u:f:t:46h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (parse_port(optarg, &o->cfg.port) < 0)
				return usage_err(err, errlen, "--port wants 1-65535, not '%s'",
						 optarg);
			o->set |= OB_PORT;
			break;
		case O_TLS:
			if ((v = tls_mode_from_name(optarg)) < 0)
				return usage_err(err, errlen, "--tls wants auto, starttls, "
						 "implicit or none, not '%s'", optarg);
			o->cfg.tls = (enum tls_mode)v;
			o->set |= OB_TLS;
			break;
		case O_CAFILE:
			if (setting_check("cafile", optarg, err, errlen) < 0)
				return -1;
			config_set(&o->cfg.cafile, optarg);
			o->set |= OB_CAFILE;
			break;
		case O_SERVERNAME:
			/* an unset "$VAR" must not turn the name check off */
			if (!*optarg || strpbrk(optarg, " \t\r\n"))
				return usage_err(err, errlen, "--servername wants "
						 "the name the certificate must carry, "
						 "not '%s' (only --insecure goes on "
						 "past the check)", optarg);
			config_set(&o->cfg.servername, optarg);
			o->set |= OB_SERVERNAME;
			break;
		case O_INSECURE:
			o->cfg.insecure = true;
			o->set |= OB_INSECURE;
			break;
		case 'u':
			config_set(&o->cfg.user, optarg);
			o->set |= OB_USER;
			break;
		case O_PASSFILE:
			free(o->password_file);
			o->password_file = xstrdup(optarg);
			break;
		case O_AUTH:
			if ((v = auth_mech_from_name(optarg)) < 0)
				return usage_err(err, errlen, "--auth wants auto, plain, login, "
						 "cram-md5, scram-sha-256, xoauth2, oauthbearer "
						 "or external, not '%s'",
						 optarg);
			o->cfg.mech = (enum auth_mech)v;
			o->set |= OB_MECH;
			break;
		case O_PLAINAUTH:
			o->cfg.allow_plaintext_auth = true;
			o->set |= OB_PLAINAUTH;
			break;
		case 'f':
			if (setting_check("from", optarg, err, errlen) < 0)
				return -1;
			config_set(&o->cfg.from, optarg);
			o->set |= OB_FROM;
			break;
		case 't':
			if (o->cfg.nto >= MAX_RCPT)
				return usage_err(err, errlen, "at most %d --to", MAX_RCPT);
			if (setting_check("to", optarg, err, errlen) < 0)
				return -1;
			o->cfg.to[o->cfg.nto++] = xstrdup(optarg);
			o->set |= OB_TO;
			break;
		case O_HELO:
			if (setting_check("helo", optarg, err, errlen) < 0)
				return -1;
			config_set(&o->cfg.helo, optarg);
			o->set |= OB_HELO;
			break;
		case O_NOSEND:
			o->cfg.no_send = true;
			o->set |= OB_NOSEND;
			break;
		case O_TIMEOUT: {
			errno = 0;
			double d = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(d > 0) || d > 3600)
				return usage_err(err, errlen, "--timeout wants seconds "
						 "(0 < SECS <= 3600), not '%s'", optarg);
			o->cfg.timeout = d;
			o->set |= OB_TIMEOUT;
			break;
		}
		case O_TLSMIN:
			if (!strcmp(optarg, "1.0")) v = 10;
			else if (!strcmp(optarg, "1.1")) v = 11;
			else if (!strcmp(optarg, "1.2")) v = 12;
			else if (!strcmp(optarg, "1.3")) v = 13;
			else
				return usage_err(err, errlen, "--tls-min wants 1.0, 1.1, 1.2 "
						 "or 1.3, not '%s'", optarg);
			o->cfg.tls_min = v;
			o->set |= OB_TLSMIN;
			break;
		case '4':
		case '6':
			if ((o->set & OB_FAMILY) &&
			    o->cfg.family != (c == '4' ? FAM_V4 : FAM_V6))
				return usage_err(err, errlen, "-4 and -6 exclude each other");
			o->cfg.family = c == '4' ? FAM_V4 : FAM_V6;
			o->set |= OB_FAMILY;
			break;
		case O_SWEEP:
			o->sweep = true;
			break;
		case O_PORTS:
			free(o->ports);
			o->ports = xstrdup(optarg);
			break;
		case O_MX:
			o->cfg.mx = true;
			o->set |= OB_MX;
			break;
		case O_BATCH:
			o->batch = true;
			break;
		case O_JSON:
			o->json = true;
			break;
		case O_LAB:
			o->lab = true;
			if (optarg) {
				free(o->lab_name);
				o->lab_name = xstrdup(optarg);
			}
			break;
		case O_LIST:
			o->list_diagnoses = true;
			break;
		case O_FORMAT:	/* --lab handout --format html */
			if (strcmp(optarg, "markdown") && strcmp(optarg, "html"))
				return usage_err(err, errlen, "--format: markdown or "
						 "html, not '%s'", optarg);
			free(o->format);
			o->format = xstrdup(optarg);
			break;
		case O_LABSERVER:
			/* CAFILE is optional: "--lab-server -p 2525" */
			o->lab = o->lab_server = true;
			if (optarg[0] == '-') {
				optind--;
				break;
			}
			free(o->lab_server_ca);
			o->lab_server_ca = xstrdup(optarg);
			break;
		case O_REPORTCARD:
			free(o->report_card);
			o->report_card = xstrdup(optarg);
			break;
		case O_PROVIDER:
			if (strcmp(optarg, "list") && !provider_find(optarg))
				return usage_err(err, errlen, "unknown --provider '%s' "
						 "(--provider list names them)", optarg);
			free(o->provider);
			o->provider = xstrdup(optarg);
			config_set(&o->cfg.provider, optarg);
			break;
		case O_POLICY:
			free(o->policy_file);
			o->policy_file = xstrdup(optarg);
			if (policy_load(o->policy_file, &o->policy, err, errlen) < 0)
				return -1;
			o->cfg.policy = &o->policy;
			o->set |= OB_POLICY;
			break;
		case O_DELIVER: {
			/* an internationalised domain: its A-labels, which
			 * DNS, DKIM and MTA-STS all use */
			char *dom = NULL, why[300];
			if (idna_involved(optarg) &&
			    idna_to_ascii(optarg, &dom, why, sizeof why) < 0)
				return usage_err(err, errlen, "--deliverability %s",
						 why);
			const char *d = dom ? dom : optarg;
			if (!deliver_domain_ok(d)) {
				free(dom);
				return usage_err(err, errlen, "--deliverability wants a "
						 "domain name, not '%s'", optarg);
			}
			free(o->deliverability);
			o->deliverability = xstrdup(d);
			free(dom);
			break;
		}
		case O_DKIMSEL:
			if (!deliver_selector_ok(optarg))
				return usage_err(err, errlen, "--dkim-selector wants a "
						 "selector name, not '%s'", optarg);
			free(o->dkim_selector);
			o->dkim_selector = xstrdup(optarg);
			break;
		case O_SENDINGIP: {
			unsigned char bin[16];
			if (inet_pton(AF_INET, optarg, bin) != 1 &&
			    inet_pton(AF_INET6, optarg, bin) != 1)
				return usage_err(err, errlen, "--sending-ip wants an IPv4 "
						 "or IPv6 address, not '%s'", optarg);
			free(o->sending_ip);
			o->sending_ip = xstrdup(optarg);
			break;
		}
		case O_FINDFIX:
			o->find_fix = true;
			break;
		case O_PROFILE:
			if (!*optarg)
				return usage_err(err, errlen, "--profile wants a name");
			free(o->profile);
			o->profile = xstrdup(optarg);
			break;
		case O_CONFIG:
			free(o->config_file);
			o->config_file = xstrdup(optarg);
			break;
		case O_PASSCMD:
			if (!*optarg)
				return usage_err(err, errlen, "--password-command is empty");
			free(o->password_command);
			o->password_command = xstrdup(optarg);
			config_set(&o->cfg.password_command, optarg);
			break;
		case O_KEYPASSCMD:
			if (!*optarg)
				return usage_err(err, errlen, "--key-password-command "
						 "is empty");
			free(o->key_password_command);
			o->key_password_command = xstrdup(optarg);
			break;
		case O_BODY:
		case O_DATA: {
			char **f = c == O_BODY ? &o->body_file : &o->data_file;
			free(*f);
			*f = xstrdup(optarg);
			config_set(c == O_BODY ? &o->cfg.body_file : &o->cfg.data_file,
				   optarg);
			o->set |= OB_MESSAGE;
			break;
		}
		case O_HEADER: {
			if (msg_header_check(optarg, err, errlen) < 0)
				return -1;
			struct buf b = { 0 };
			if (o->cfg.headers)
				buf_adds(&b, o->cfg.headers);
			buf_printf(&b, "%s\r\n", optarg);
			free(o->cfg.headers);
			o->cfg.headers = buf_steal(&b);
			o->set |= OB_MESSAGE;
			break;
		}
		case O_NOTIFY: {
			char *norm;
			if (dsn_notify_check(optarg, &norm, err, errlen) < 0)
				return -1;
			free(o->cfg.notify);
			o->cfg.notify = norm;
			o->set |= OB_DSN;
			break;
		}
		case O_RET:
			if (!strcasecmp(optarg, "full"))
				o->cfg.ret = DSN_RET_FULL;
			else if (!strcasecmp(optarg, "hdrs"))
				o->cfg.ret = DSN_RET_HDRS;
			else
				return usage_err(err, errlen, "--ret wants full or hdrs, "
						 "not '%s'", optarg);
			o->set |= OB_DSN;
			break;
		case O_ENVID:
			if (dsn_envid_check(optarg, err, errlen) < 0)
				return -1;
			config_set(&o->cfg.envid, optarg);
			o->set |= OB_DSN;
			break;
		case O_REQUIRETLS:
			o->cfg.requiretls = true;
			o->set |= OB_REQUIRETLS;
			break;
		case O_FETCHBACK: {
			struct fb_url u;
			if (fb_url_parse(optarg, &u, err, errlen) < 0)
				return -1;
			free(o->fetch_back);
			o->fetch_back = xstrdup(optarg);
			break;
		}
		case O_BDAT:
			o->cfg.bdat = true;
			o->set |= OB_BDAT;
			break;
		case O_PROXY: {
			if (config_proxy_parse(&o->cfg, optarg, err, errlen) < 0)
				return -1;
			o->set |= OB_PROXY;
			/* a password in argv is visible to every user of the
			 * machine (ps): blank it in our argv at once, and say so */
			char *at = strrchr(optarg, '@'), *colon = strchr(optarg, ':');
			colon = colon ? strchr(colon + 1, ':') : NULL;
			if (at && colon && colon < at) {
				o->proxy_pass_in_argv = true;
				for (char *q = colon + 1; q < at; q++)
					*q = '*';
			}
			break;
		}
		case O_CERT:
		case O_KEY: {
			char why[128];
			if (file_input_check(optarg, FILE_INPUT_MAX, why,
					     sizeof why) < 0)
				return usage_err(err, errlen, "%s %s%s%s", c == O_CERT ?
						 "--cert" : "--key", optarg,
						 why[0] == 'i' ? " " : ": ", why);
			if (access(optarg, R_OK) < 0)
				return usage_err(err, errlen, "%s %s: %s", c == O_CERT ?
						 "--cert" : "--key", optarg,
						 strerror(errno));
			config_set(c == O_CERT ? &o->cfg.cert : &o->cfg.key, optarg);
			o->set |= OB_CERT;
			break;
		}
		case O_NOCOLOR:
			o->no_color = true;
			break;
		case O_VERSION:
			o->version = true;
			break;
		case 'h':
			o->help = true;
			break;
		case ':':
			if (!strcmp(argv[optind - 1], "--lab-server")) {
				o->lab = o->lab_server = true;
				break;
			}
			return usage_err(err, errlen, "option '%s' needs a value",
					 argv[optind - 1]);
		default:
			if (optopt)
				return usage_err(err, errlen, "unknown option '-%c' (see "
						 "--help)", optopt);
			return usage_err(err, errlen, "unknown option '%s' (see --help)",
					 argv[optind - 1]);
		}
	}
	int rest = argc - optind;
	if (rest > 1)
		return usage_err(err, errlen, "one target at most, got '%s' and '%s'",
				 argv[optind], argv[optind + 1]);
	if (o->lab) {
		if (rest == 1) {
			if (o->lab_name)
				return usage_err(err, errlen, "--lab takes one scenario");
			o->lab_name = xstrdup(argv[optind]);
		}
	} else if (rest == 1) {
		if (parse_target(o, argv[optind], err, errlen) < 0)
			return -1;
	}
	if (o->batch && o->json)
		return usage_err(err, errlen, "--batch and --json exclude each other");
	bool provider_list = o->provider && !strcmp(o->provider, "list");
	if (o->provider && !provider_list && o->lab)
		return usage_err(err, errlen, "--provider names a real provider, "
				 "not the lab");
	if (!o->lab && !o->help && !o->version && !o->list_diagnoses &&
	    !o->cfg.host && !o->provider && !o->deliverability && !o->profile)
		return usage_err(err, errlen, "no host given (try --lab, or --help)");
	if (o->config_file && !o->profile)
		return usage_err(err, errlen, "--config goes with --profile NAME");
	if (o->find_fix && (o->sweep || o->cfg.mx || o->deliverability))
		return usage_err(err, errlen, "--find-fix goes with a session, not "
				 "--sweep, --mx or --deliverability");
	if (o->dkim_selector && !o->deliverability)
		return usage_err(err, errlen, "--dkim-selector goes with "
				 "--deliverability");
	if (o->sending_ip && !o->deliverability)
		return usage_err(err, errlen, "--sending-ip goes with --deliverability");
	if (o->deliverability && (o->sweep || o->lab || o->cfg.host))
		return usage_err(err, errlen, "--deliverability DOMAIN runs on its "
				 "own: no host, --sweep or --lab with it");
	if (o->ports && !o->sweep)
		return usage_err(err, errlen, "--ports goes with --sweep");
	if (o->ports) {
		int ports[SWEEP_MAX_PORTS];
		if (sweep_parse_ports(o->ports, ports, SWEEP_MAX_PORTS, err, errlen) < 0)
			return -1;
	}
	/* the sweep finds each port's TLS mode itself, on the ports listed */
	if (o->sweep && (o->set & OB_PORT))
		return usage_err(err, errlen, "--sweep probes the ports of --ports; "
				 "drop -p / HOST:PORT (or use --ports %d)", o->cfg.port);
	if (o->sweep && (o->set & OB_TLS))
		return usage_err(err, errlen, "--sweep finds each port's TLS mode "
				 "itself: drop --tls");
	if (o->cfg.mx && o->lab)
		return usage_err(err, errlen, "--mx wants a mail domain, not the lab");
	if (o->data_file && (o->body_file || o->cfg.headers))
		return usage_err(err, errlen, "--data is the whole message: no "
				 "--body or --header with it");
	if (o->cfg.requiretls && o->cfg.tls == TLSM_NONE && (o->set & OB_TLS))
		return usage_err(err, errlen, "--requiretls needs TLS: drop "
				 "--tls none");
	if (o->body_file && msg_load("--body", o->body_file, &o->cfg.body, err,
				     errlen) < 0)
		return -1;
	if (o->data_file && msg_load("--data", o->data_file, &o->cfg.data, err,
				     errlen) < 0)
		return -1;
	if (o->cfg.data && !*o->cfg.data)
		return usage_err(err, errlen, "--data %s is empty", o->data_file);
	if (o->cfg.proxy && (o->sweep || o->cfg.mx || o->find_fix ||
			     o->deliverability))
		return usage_err(err, errlen, "--proxy goes with one session: not "
				 "with --sweep, --mx, --find-fix or --deliverability "
				 "(name the host and port)");
	if (!o->cfg.cert != !o->cfg.key)
		return usage_err(err, errlen, "--cert and --key go together (one "
				 "file may hold both: --cert F --key F)");
	if (o->cfg.mech == AM_EXTERNAL && !o->cfg.cert && !o->lab)
		return usage_err(err, errlen, "--auth external logs in with a "
				 "client certificate: add --cert FILE --key FILE");
	if (key_passphrase(o, err, errlen) < 0)
		return -1;
	if (o->fetch_back && (o->sweep || o->cfg.mx || o->deliverability ||
			      o->find_fix))
		return usage_err(err, errlen, "--fetch-back reads back the message "
				 "of one session: not with --sweep, --mx, --find-fix "
				 "or --deliverability");
	if (o->fetch_back && o->cfg.proxy)
		return usage_err(err, errlen, "--fetch-back connects to the IMAP "
				 "server directly: not with --proxy");
	if (o->fetch_back && o->cfg.no_send)
		return usage_err(err, errlen, "--fetch-back reads back the test "
				 "message: drop --no-send");
	/* the mailbox's password, when it is not the SMTP login's */
	const char *ipw = getenv("SMTPDX_IMAP_PASSWORD");
	if (ipw) {	/* (a profile may name the URL) */
		secrets_protect();
		free(o->imap_password);
		o->imap_password = xstrdup(ipw);
	}
	if (ipw) {
		wipe((char *)ipw, strlen(ipw));
		unsetenv("SMTPDX_IMAP_PASSWORD");
	}
	/* read once, then never a child's (a --password-command) */
	const char *ppw = getenv("SMTPDX_PROXY_PASSWORD");
	if (ppw && o->cfg.proxy_user && !o->cfg.proxy_pass)
		config_set(&o->cfg.proxy_pass, ppw);
	if (ppw)
		unsetenv("SMTPDX_PROXY_PASSWORD");
	return 0;
}

void
options_apply_provider(struct options *o)
{
	const struct provider *p = provider_find(o->provider);
	if (!p)
		return;
	if (!(o->set & OB_HOST)) {
		config_set(&o->cfg.host, p->host);
		o->set |= OB_HOST;
	}
	/* the provider's own mode for the port the user chose, or its
	 * preferred port with its mode */
	if (!(o->set & OB_PORT) && !o->sweep) {
		o->cfg.port = p->ports[0].port;
		o->set |= OB_PORT;
	}
	if (!(o->set & OB_TLS) && !o->sweep) {
		enum tls_mode m = provider_port_mode(p, o->cfg.port);
		if (m != TLSM_AUTO) {
			o->cfg.tls = m;
			o->set |= OB_TLS;
		}
	}
	if (o->sweep && !o->ports) {
		char ports[128], *q = ports;
		provider_ports_str(p, ports, sizeof ports);
		/* "587/starttls,465/implicit" -> "587,465" */
		for (char *r = ports; *r; r++) {
			if (*r == '/')
				while (r[1] && r[1] != ',')
					r++;
			else
				*q++ = *r;
		}
		*q = '\0';
		o->ports = xstrdup(ports);
	}
}

void
options_merge(struct config *b, const struct options *o)
{
	const struct config *u = &o->cfg;
	if (o->set & OB_HOST)
		config_set(&b->host, u->host);
	if (o->set & OB_PORT)
		b->port = u->port;
	if (o->set & OB_TLS)
		b->tls = u->tls;
	if (o->set & OB_CAFILE) {
		config_set(&b->cafile, u->cafile);
		config_set(&b->ca_pem, NULL);	/* the user's anchors win */
	}
	if (o->set & OB_SERVERNAME)
		config_set(&b->servername, u->servername);
	if (o->set & OB_INSECURE)
		b->insecure = u->insecure;
	if (o->set & OB_USER)
		config_set(&b->user, u->user);
	if (o->set & OB_PASSWORD)
		config_set(&b->password, u->password);
	if (o->set & OB_MECH)
		b->mech = u->mech;
	if (o->set & OB_PLAINAUTH)
		b->allow_plaintext_auth = u->allow_plaintext_auth;
	if (o->set & OB_FROM)
		config_set(&b->from, u->from);
	if (o->set & OB_TO) {
		for (int i = 0; i < b->nto; i++)
			free(b->to[i]);
		b->nto = u->nto;
		for (int i = 0; i < u->nto; i++)
			b->to[i] = xstrdup(u->to[i]);
	}
	if (o->set & OB_HELO)
		config_set(&b->helo, u->helo);
	if (o->set & OB_NOSEND)
		b->no_send = u->no_send;
	if (o->set & OB_TIMEOUT)
		b->timeout = u->timeout;
	if (o->set & OB_FAMILY)
		b->family = u->family;
	if (o->set & OB_TLSMIN)
		b->tls_min = u->tls_min;
	if (o->set & OB_MX)
		b->mx = u->mx;
	if (o->set & OB_POLICY)
		b->policy = u->policy;
	if (o->set & OB_MESSAGE) {
		config_set(&b->body, u->body);
		config_set(&b->headers, u->headers);
		config_set(&b->data, u->data);
		config_set(&b->body_file, u->body_file);
		config_set(&b->data_file, u->data_file);
	}
	if (u->provider)
		config_set(&b->provider, u->provider);
	if (u->password_command)
		config_set(&b->password_command, u->password_command);
	if (o->set & OB_DSN) {
		config_set(&b->notify, u->notify);
		config_set(&b->envid, u->envid);
		b->ret = u->ret;
	}
	if (o->set & OB_REQUIRETLS)
		b->requiretls = u->requiretls;
	if (o->set & OB_BDAT)
		b->bdat = u->bdat;
	if (o->set & OB_CERT) {
		config_set(&b->cert, u->cert);
		config_set(&b->key, u->key);
		config_set(&b->key_pass, u->key_pass);
	}
	if (o->set & OB_PROXY) {
		b->proxy = u->proxy;
		b->proxy_port = u->proxy_port;
		config_set(&b->proxy_host, u->proxy_host);
		config_set(&b->proxy_user, u->proxy_user);
		config_set(&b->proxy_pass, u->proxy_pass);
	}
}

/*
 * --password-file: the first line of FILE, whole.  A regular file, or a
 * pipe (`--password-file <(pass show mail)`, a FIFO with a writer): those
 * are how secrets stay out of argv and the environment, so they are read,
 * not refused.  Opened non-blocking, so a FIFO without a writer ends at
 * once with an error instead of hanging; a writer gets PASSFILE_WAIT
 * seconds to say something.  Directories and devices (/dev/zero, a
 * terminal) are refused.  Nothing is cut: a first line longer than
 * PASSFILE_MAX is an error.
 */
#define PASSFILE_MAX	(64 * 1024)
#define PASSFILE_WAIT	10

static int
read_password_file(struct options *o, char *err, size_t errlen)
{
	const char *fn = o->password_file;
	int fd = open(fn, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return usage_err(err, errlen, "--password-file %s: %s", fn,
				 strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return usage_err(err, errlen, "--password-file %s: %s", fn,
				 strerror(errno));
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return usage_err(err, errlen, "--password-file %s is a directory", fn);
	}
	if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode)) {
		close(fd);
		return usage_err(err, errlen, "--password-file %s is a device or "
				 "socket, not a file", fn);
	}
	if (S_ISREG(st.st_mode) &&
	    (st.st_mode & (S_IRGRP | S_IROTH | S_IWGRP | S_IWOTH)))
		fprintf(stderr, "smtpdx: warning: --password-file %s is accessible "
			"by others (mode %04o): chmod 600 %s\n", fn,
			(unsigned)(st.st_mode & 07777), fn);

	char *buf = xmalloc(PASSFILE_MAX + 2);
	size_t n = 0;
	bool eol = false, eof = false;
	double deadline = now_mono() + PASSFILE_WAIT;
	const char *why = NULL;
	while (!eol && !eof && n <= PASSFILE_MAX) {
		ssize_t k = read(fd, buf + n, PASSFILE_MAX + 1 - n);
		if (k > 0) {
			eol = memchr(buf + n, '\n', (size_t)k) != NULL;
			n += (size_t)k;
		} else if (k == 0) {
			eof = true;
		} else if (errno == EAGAIN) {
			struct pollfd p = { .fd = fd, .events = POLLIN };
			int ms = (int)((deadline - now_mono()) * 1000);
			if (ms <= 0 || poll(&p, 1, ms) == 0) {
				why = "nothing to read";
				break;
			}
		} else if (errno != EINTR) {
			why = strerror(errno);
			break;
		}
	}
	close(fd);
	size_t len = 0;
	while (len < n && buf[len] != '\n')
		len++;
	if (len > 0 && len < n + 1 && buf[len - 1] == '\r')
		len--;
	int rc = 0;
	if (why)
		rc = usage_err(err, errlen, "--password-file %s: %s%s", fn, why,
			       S_ISFIFO(st.st_mode) ? " (a pipe with no writer?)" : "");
	else if (len > PASSFILE_MAX)
		rc = usage_err(err, errlen, "--password-file %s: the first line is "
			       "longer than %d KiB", fn, PASSFILE_MAX / 1024);
	else if (len == 0)
		rc = usage_err(err, errlen, "--password-file %s is empty%s", fn,
			       S_ISFIFO(st.st_mode) && n == 0 ?
			       " (a pipe with no writer?)" : "");
	else if (memchr(buf, '\0', len))
		rc = usage_err(err, errlen, "--password-file %s holds a NUL byte "
			       "(not a text file?)", fn);
	if (rc == 0) {
		buf[len] = '\0';
		config_set(&o->cfg.password, buf);
		o->set |= OB_PASSWORD;
	}
	wipe(buf, PASSFILE_MAX + 2);
	free(buf);
	return rc;
}

int
options_password(struct options *o, char *err, size_t errlen)
{
	if (o->password_file) {
		secrets_protect();
		return read_password_file(o, err, errlen);
	} else if (o->password_command) {
		secrets_protect();
		char *pw = password_command("--password-command",
					    o->password_command, 60, err, errlen);
		if (!pw)
			return -1;
		config_set(&o->cfg.password, pw);
		o->set |= OB_PASSWORD;
		wipe(pw, strlen(pw));
		free(pw);
	} else if (!o->profile) {
		/* (with --profile, the profile's own password-file or
		 * password-command comes before the environment) */
		char *env = getenv("SMTPDX_PASSWORD");
		if (env) {
			secrets_protect();
			config_set(&o->cfg.password, env);
			o->set |= OB_PASSWORD;
			wipe(env, strlen(env));	/* and keep it from children */
			unsetenv("SMTPDX_PASSWORD");
		}
	}
	return 0;
}

void
options_free(struct options *o)
{
	config_free(&o->cfg);
	free(o->lab_name);
	free(o->ports);
	free(o->password_file);
	free(o->lab_server_ca);
	free(o->report_card);
	free(o->format);
	free(o->provider);
	free(o->policy_file);
	free(o->deliverability);
	free(o->sending_ip);
	free(o->dkim_selector);
	free(o->profile);
	free(o->config_file);
	free(o->password_command);
	free(o->key_password_command);
	free(o->body_file);
	free(o->data_file);
	free(o->fetch_back);
	if (o->imap_password) {
		wipe(o->imap_password, strlen(o->imap_password));
		free(o->imap_password);
	}
}

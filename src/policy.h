/*
 * policy.h - a team's port policy (--policy FILE, CONTRACT.md).
 *
 * A team writes down once per environment which ports, TLS modes, TLS
 * versions and AUTH mechanisms its mail clients may use, and checks every
 * relay against it, in CI too (--json, exit status 1 on a violation):
 *
 *	[policy]
 *	allow-ports = 587, 465
 *	tls = starttls, implicit
 *	min-tls = 1.2
 *	auth = scram-sha-256, plain
 *	require-verified-cert = yes
 *	forbid-port-25-submission = yes
 *
 * Every key is optional.  policy_load() parses the file (with inih) and
 * says what is wrong with it in one line; policy_check() turns each rule
 * a finished session broke into one policy.violation error whose evidence
 * names the rule and what was seen.  A rule the session never reached
 * (no TLS version when TLS never came up) is not judged.
 */
#ifndef SMTPDX_POLICY_H
#define SMTPDX_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "diag.h"

#define POLICY_MAX_PORTS 16

struct team_policy {
	const char *file;		/* for evidence; not owned */
	int ports[POLICY_MAX_PORTS];	/* allow-ports; nports 0: any */
	int nports;
	unsigned tls_modes;		/* bits 1 << enum tls_mode; 0: any */
	int min_tls;			/* 10..13; 0: no rule */
	unsigned mechs;			/* bits 1 << enum auth_mech; 0: any */
	bool require_verified;
	bool forbid_port25;
};

/* Parse path.  Returns 0, or -1 with one line in err ("FILE:LINE: ..."). */
int policy_load(const char *path, struct team_policy *p, char *err,
		size_t errlen);

/* What a finished session showed, for the rules. */
struct policy_seen {
	int port;			/* the port connected to */
	int role_port;			/* the port it plays (the lab's "25") */
	enum tls_mode mode;		/* resolved */
	int tls_version;		/* 10..13, 0: TLS never came up */
	bool cert_checked, verified;	/* a certificate was judged */
	const char *mech;		/* AUTH mechanism used ("PLAIN"), or "" */
	bool auth_tried;		/* AUTH was sent (a user was given) */
};

/* Append a policy.violation per broken rule to out; returns how many. */
int policy_check(const struct team_policy *p, const struct policy_seen *seen,
		 struct diag_list *out);

/* Is port allowed by the policy's ports and, for mode, its TLS modes?
 * (The port advisor recommends only what the policy allows.) */
bool policy_allows(const struct team_policy *p, int port, enum tls_mode mode);

#endif

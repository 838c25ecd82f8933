/*
 * sasl.h - the client side of SMTP AUTH (RFC 4954) through GNU SASL.
 *
 * sasl_pick() chooses a mechanism from what the server offers; sasl_start()
 * begins an exchange and gives the initial response, if the mechanism has
 * one; sasl_step() answers each 334 challenge.  All strings in and out are
 * base64 as they travel on the wire.  XOAUTH2 is built here (Debian's GNU
 * SASL lacks it): one message, the token read like a password.  So are
 * LOGIN (its prompts' text is ignored, base64 or not) and SCRAM-SHA-256
 * (GNU SASL 2.2 cannot send the gs2 "y" flag and would hash any iteration
 * count the server names); PLAIN and CRAM-MD5 go through GNU SASL.
 *
 * The server drives the exchange, so everything it can make us do is
 * bounded: each mechanism answers at most sasl_round_limit() challenges,
 * the password leaves at most once, SCRAM's iteration count has a ceiling
 * checked before any hashing.
 *
 * Also: sasl_describe() turns one client or server AUTH payload into words
 * with the secret masked, for the teaching view.
 */
#ifndef SMTPDX_SASL_H
#define SMTPDX_SASL_H

#include <stdbool.h>
#include "config.h"

struct sasl;

/* Strongest mechanism both sides have (or the one asked for, if offered).
 * offered: "PLAIN LOGIN ..." from EHLO.  Returns the wire name
 * ("SCRAM-SHA-256-PLUS"), or NULL if none fits. */
const char *sasl_pick(enum auth_mech want, const char *offered,
		      bool have_cb);

/*
 * Begin mech for user/password.  cb: base64 channel binding or NULL;
 * cb_exporter says which kind.  On success *initial is the initial
 * response (base64, "=" for an empty one) or NULL if the mechanism waits
 * for the server to speak first.  Returns NULL with err filled on failure.
 */
struct sasl *sasl_start(const char *mech, const char *user,
			const char *password, const char *cb, bool cb_exporter,
			char **initial, char *err, size_t errlen);
/*
 * Answer a challenge (base64, as the 334 carried it).  Returns
 *   SASL_CONT        *out is the answer (base64, may be ""); err may hold
 *                    a remark (SCRAM's e=), else ""
 *   SASL_BROKEN      the server broke the exchange: a challenge past the
 *                    mechanism's limit (sasl_round_limit()), one that is
 *                    not base64 (LOGIN's prompts excepted: their text is
 *                    ignored), a SCRAM message out of form or asking for
 *                    an absurd iteration count.  Cancel with "*".
 *   SASL_UNVERIFIED  SCRAM: the server's signature is wrong
 *   SASL_ERROR       a local failure (GNU SASL, memory)
 * err says what, in words, on every failure.
 */
enum { SASL_CONT = 0, SASL_BROKEN = -1, SASL_UNVERIFIED = -2, SASL_ERROR = -3 };
int sasl_step(struct sasl *s, const char *challenge, char **out,
	      char *err, size_t errlen);
/* How many 334 challenges the mechanism's definition allows after the
 * initial response smtpdx sends (PLAIN 0, LOGIN 2, CRAM-MD5 1, SCRAM 2,
 * XOAUTH2 1, OAUTHBEARER 1, EXTERNAL 0). */
int sasl_round_limit(const char *mech);
/* Has the exchange reached its end on our side?  For SCRAM that means
 * the server's signature was checked; mechanisms that have no server
 * proof (PLAIN, LOGIN, CRAM-MD5, XOAUTH2) are complete from the start. */
bool sasl_complete(const struct sasl *s);
void sasl_free(struct sasl *s);		/* wipes what it holds */

/* Words for an AUTH payload with the secret masked; new string.
 * from_client: the payload is ours (may hold a secret). */
char *sasl_describe(const char *mech, const char *b64, bool from_client,
		    int round);

const char *sasl_library_version(void);

/* The error JSON a server sends in a 334 after an OAuth token (RFC 7628
 * §3.2.2 for OAUTHBEARER; Google's XOAUTH2 the same): status, scope and
 * openid-configuration in words, with what each status means, into err
 * (one line, printable). */
void sasl_oauth_error(const char *json, size_t n, char *err, size_t errlen);

/* Tests only: a fixed SCRAM client nonce (RFC 7677's example), or NULL. */
extern const char *sasl_test_nonce;

#endif

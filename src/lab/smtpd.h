/*
 * smtpd.h - the lab's SMTP server: what one connection hears and says.
 *
 * lab.c accepts connections and forks; each child calls lab_smtpd(),
 * which speaks SMTP (Postfix-like by default, odd in the ways the
 * scenario's flags and canned replies ask), with plain blocking I/O and
 * socket timeouts, and ends the process when the conversation is over.
 *
 * Lab-internal: only src/lab/ includes this header.  No GnuTLS type shows
 * here: struct lab_tls is opaque.
 */
#ifndef SMTPDX_LAB_SMTPD_H
#define SMTPDX_LAB_SMTPD_H

#include <stddef.h>
#include "lab.h"
#include "certs.h"

/* Server TLS settings: the scenario's certificate and TLS versions. */
struct lab_tls;

/*
 * Load the server certificate and key of pki and the priority string the
 * scenario's flags want (LF_TLS_OLD: TLS 1.0 and 1.1 only).  Made before
 * the fork, so a failure can still be reported.  Returns NULL with a
 * message in err on failure.  lab_tls_free(NULL) is a no-op.
 */
struct lab_tls *lab_tls_new(const struct lab_pki *pki, unsigned flags,
			    char *err, size_t errlen);
void lab_tls_free(struct lab_tls *t);

/* Read the idle timeout (SMTPDX_LAB_IDLE_TIMEOUT, for the tests) once,
 * before the server process forks. */
void lab_idle_init(void);

/* Where the report cards go (lab.h: card_fd, card_json_fd): set in the
 * server process, inherited by each connection's; -1: nowhere. */
void lab_grade_fds(int text_fd, int json_fd, bool color);

/*
 * Serve the accepted socket fd for scenario sc, then _exit() the process
 * (never exit(): the process is a fork of smtpdx and must not run its
 * atexit handlers, which could reset the user's terminal).
 */
void lab_smtpd(int fd, const struct lab_scenario *sc,
	       const struct lab_tls *t) __attribute__((noreturn));

#endif

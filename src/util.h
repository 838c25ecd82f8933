/*
 * util.h - small helpers every module uses: allocation that never returns
 * NULL, a growable byte buffer, secret wiping, time, and the one function
 * that turns untrusted bytes into text that is safe to show anywhere.
 */
#ifndef SMTPDX_UTIL_H
#define SMTPDX_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Allocation: abort with a message on exhaustion, never return NULL. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) PRINTF(1, 2);
char *xvasprintf(const char *fmt, va_list ap) PRINTF(1, 0);
/* A copy of s with every occurrence of key replaced by val. */
char *str_subst(const char *s, const char *key, const char *val);

/*
 * The end for what cannot go on (out of memory, no pipe): run the hook
 * (the TUI gives the terminal back there, and stderr its own place), then
 * print "smtpdx: MESSAGE" and abort().  The hook must be safe to run
 * anywhere, a signal handler included; NULL: none.
 */
void set_fatal_hook(void (*hook)(void));
void fatal(const char *fmt, ...) PRINTF(1, 2) __attribute__((noreturn));

/* Overwrite memory the compiler may not optimise away (secrets). */
void wipe(void *p, size_t n);
/* A secret is in memory from now on: no core dump may carry it (core size
 * limit 0, and not dumpable, which also keeps ptrace and /proc/PID/mem of
 * other users' tools away).  Idempotent; never undone. */
void secrets_protect(void);

/* A growable byte buffer; always NUL-terminated after data[len]. */
struct buf {
	char *data;
	size_t len, cap;
};

void buf_add(struct buf *b, const void *p, size_t n);
void buf_adds(struct buf *b, const char *s);
void buf_addc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) PRINTF(2, 3);
void buf_consume(struct buf *b, size_t n);	/* drop n bytes from the front */
void buf_reset(struct buf *b);			/* len = 0, keep memory */
void buf_free(struct buf *b);			/* wipes, then frees */
char *buf_steal(struct buf *b);			/* hand over data, reset b */

/*
 * Visible escaping: the result holds only printable ASCII and valid,
 * printable UTF-8.  Control bytes become \xHH (\t \r \n as such), a
 * backslash becomes \\, invalid UTF-8 becomes \xHH per byte, and C1
 * controls and bidirectional overrides become \u{XXXX}.  The result is
 * safe for a terminal, a curses window and (after JSON quoting) JSON.
 * Returns a new string.
 */
char *vis_escape(const char *s, size_t n);

/* Append s to b as a JSON string literal, quotes included. */
void json_string(struct buf *b, const char *s);

/* Base64 (RFC 4648). b64_decode returns -1 on bad input. */
char *b64_encode(const void *p, size_t n);
int b64_decode(const char *s, unsigned char **out, size_t *outlen);

/* Monotonic seconds. */
double now_mono(void);

/*
 * The secrets a session sent (the password, its base64, each AUTH
 * payload): a server that echoes one back (in a 5xx "bad command: ...",
 * say) must not put it in the transcript, the evidence or a report.  Kept
 * as copies, wiped when freed; strings under 4 bytes are not kept (they
 * would blank ordinary words).
 */
#define SECRETS_MAX	8
struct secrets {
	char *v[SECRETS_MAX];
	size_t n;
};
void secrets_add(struct secrets *sc, const char *secret);
/* s[0..n) with each secret "<redacted>": a new string (its length in
 * *outlen), or NULL when s holds none (s is then to be used as it is). */
char *secrets_redact(const struct secrets *sc, const char *s, size_t n,
		     size_t *outlen);
void secrets_free(struct secrets *sc);

/*
 * Is path a file smtpdx can read whole, at once, without waiting?  A
 * regular file of at most max bytes; directories, pipes, devices and
 * sockets are refused (a FIFO without a writer, /dev/zero or a terminal
 * would hold smtpdx forever).  0, or -1 with a reason (without the path)
 * in why.
 */
int file_input_check(const char *path, size_t max, char *why, size_t whylen);
#define FILE_INPUT_MAX	(16u * 1024 * 1024)

/* ASCII case-insensitive "does hay contain needle". */
bool strcasestr_ascii(const char *hay, const char *needle);

/* Decoded UTF-8 length of a valid sequence at s (1..4), 0 if invalid. */
int utf8_seq(const unsigned char *s, size_t n, unsigned *cp);

#endif

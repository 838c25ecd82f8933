/* message.c - the user's message and the DSN parameters, checked. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "message.h"
#include "util.h"

#define MSG_PIPE_WAIT	10	/* seconds of silence from a pipe */

static int
err1(char *err, size_t errlen, const char *fmt, ...) PRINTF(3, 4);

static int
err1(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

int
msg_load(const char *opt, const char *path, char **out, char *err,
	 size_t errlen)
{
	bool std = !strcmp(path, "-");
	/* a FIFO is opened without waiting for its writer, and read with a
	 * limit on silence: `--body <(cmd)` works, a FIFO nobody writes to
	 * does not hold smtpdx (standard input is the user's to close) */
	int fd = std ? STDIN_FILENO :
		open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return err1(err, errlen, "%s %s: %s", opt, path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) == 0 && (S_ISDIR(st.st_mode) || S_ISSOCK(st.st_mode))) {
		if (!std)
			close(fd);
		return err1(err, errlen, "%s %s is a %s", opt, path,
			    S_ISDIR(st.st_mode) ? "directory" : "socket");
	}
	bool pipe_in = !std && !S_ISREG(st.st_mode);
	struct buf raw = { 0 };
	char chunk[65536];
	const char *why = NULL;
	double idle_until = now_mono() + MSG_PIPE_WAIT;
	for (;;) {
		ssize_t k = read(fd, chunk, sizeof chunk);
		if (k == 0) {
			if (pipe_in && !raw.len)
				why = "nothing to read (a pipe with no writer?)";
			break;
		}
		if (k < 0 && errno == EAGAIN && pipe_in) {
			struct pollfd p = { .fd = fd, .events = POLLIN };
			int ms = (int)((idle_until - now_mono()) * 1000);
			if (ms <= 0 || poll(&p, 1, ms) == 0) {
				why = "no data for 10 s (a pipe with no writer?)";
				break;
			}
			continue;
		}
		if (k < 0) {
			if (errno == EINTR)
				continue;
			why = strerror(errno);
			break;
		}
		idle_until = now_mono() + MSG_PIPE_WAIT;
		if (raw.len + (size_t)k > MSG_MAX) {
			why = "larger than 32 MiB";
			break;
		}
		buf_add(&raw, chunk, (size_t)k);
	}
	if (!std)
		close(fd);
	if (!why && raw.len && memchr(raw.data, '\0', raw.len))
		why = "holds a NUL byte (not a text message?)";
	if (why) {
		buf_free(&raw);
		return err1(err, errlen, "%s %s: %s", opt, std ? "(stdin)" : path,
			    why);
	}
	/* every line end becomes CRLF, and the last line is ended */
	struct buf b = { 0 };
	buf_adds(&b, "");
	for (size_t i = 0; i < raw.len; i++) {
		char c = raw.data[i];
		if (c == '\r') {
			if (i + 1 < raw.len && raw.data[i + 1] == '\n')
				i++;
			buf_adds(&b, "\r\n");
		} else if (c == '\n') {
			buf_adds(&b, "\r\n");
		} else {
			buf_addc(&b, c);
		}
	}
	if (b.len && (b.len < 2 || memcmp(b.data + b.len - 2, "\r\n", 2)))
		buf_adds(&b, "\r\n");
	buf_free(&raw);
	*out = buf_steal(&b);
	return 0;
}

int
msg_header_check(const char *h, char *err, size_t errlen)
{
	const char *colon = strchr(h, ':');
	if (!colon || colon == h)
		return err1(err, errlen, "--header wants \"Name: value\", not '%.60s'",
			    h);
	for (const char *p = h; p < colon; p++)
		if ((unsigned char)*p < 33 || (unsigned char)*p > 126)
			return err1(err, errlen, "--header: the name '%.*s' may hold "
				    "only printable ASCII, no space (RFC 5322 "
				    "§3.6.8)", (int)(colon - h < 60 ? colon - h : 60),
				    h);
	if (strpbrk(colon, "\r\n"))
		return err1(err, errlen, "--header %.*s: the value holds a line "
			    "break (one header a --header; no CR or LF)",
			    (int)(colon - h < 60 ? colon - h : 60), h);
	return 0;
}

bool
msg_has_header(const char *headers, const char *name)
{
	size_t n = strlen(name);
	for (const char *l = headers; l && *l;) {
		if (!strncasecmp(l, name, n) && l[n] == ':')
			return true;
		const char *e = strstr(l, "\r\n");
		if (!e)
			break;
		l = e + 2;
	}
	return false;
}

int
dsn_notify_check(const char *v, char **norm, char *err, size_t errlen)
{
	static const char *const words[] = { "NEVER", "SUCCESS", "FAILURE", "DELAY" };
	unsigned seen = 0;
	struct buf b = { 0 };
	const char *p = v;
	buf_adds(&b, "");
	while (1) {
		size_t n = strcspn(p, ",");
		size_t k;
		for (k = 0; k < 4; k++)
			if (strlen(words[k]) == n && !strncasecmp(p, words[k], n))
				break;
		if (k == 4 || (seen & (1u << k))) {
			buf_free(&b);
			return err1(err, errlen, "--notify wants NEVER, or a list of "
				    "SUCCESS,FAILURE,DELAY (each once), not '%.60s'", v);
		}
		seen |= 1u << k;
		buf_printf(&b, "%s%s", b.len ? "," : "", words[k]);
		if (!p[n])
			break;
		p += n + 1;
	}
	if ((seen & 1u) && seen != 1u) {
		buf_free(&b);
		return err1(err, errlen, "--notify NEVER goes alone (RFC 3461 §4.1), "
			    "not with '%.60s'", v);
	}
	*norm = buf_steal(&b);
	return 0;
}

int
dsn_envid_check(const char *v, char *err, size_t errlen)
{
	size_t n = strlen(v);
	if (n == 0 || n > 100)
		return err1(err, errlen, "--envid wants 1 to 100 characters "
			    "(RFC 3461 §4.4), not %zu", n);
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p < 32 || (unsigned char)*p > 126)
			return err1(err, errlen, "--envid may hold only printable "
				    "ASCII (no line break, tab or control "
				    "character)");
	return 0;
}

char *
xtext_encode(const char *s)
{
	struct buf b = { 0 };
	buf_adds(&b, "");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 33 || *p > 126 || *p == '+' || *p == '=')
			buf_printf(&b, "+%02X", *p);
		else
			buf_addc(&b, (char)*p);
	}
	return buf_steal(&b);
}

char *
utf8_addr_encode(const char *s, bool unitext)
{
	struct buf b = { 0 };
	buf_adds(&b, "");
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		unsigned c = *p;
		int n = c < 0x80 ? 0 : c < 0xc0 ? -1 : c < 0xe0 ? 1 :
			c < 0xf0 ? 2 : c < 0xf8 ? 3 : -1;
		if (n > 0) {
			unsigned cp = c & (0x3fu >> n);
			int k = 1;
			while (k <= n && (p[k] & 0xc0) == 0x80)
				cp = cp << 6 | (p[k++] & 0x3f);
			if (k <= n)
				n = -1;		/* cut short: the byte alone */
			else
				c = cp;
		}
		if (n < 0)
			n = 0;
		if (c > 0x20 && c < 0x7f && c != '\\' && c != '+' && c != '=')
			buf_addc(&b, (char)c);
		else if (c >= 0x80 && unitext && n > 0)
			buf_add(&b, (const char *)p, (size_t)n + 1);
		else
			buf_printf(&b, "\\x{%02X}", c);
		p += n + 1;
	}
	return buf_steal(&b);
}

bool
msg_ascii(const char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

const char *
msg_holds_secret(const struct config *c)
{
	if (!c->password || strlen(c->password) < 4)
		return NULL;
	if (c->body && strstr(c->body, c->password))
		return "--body";
	if (c->headers && strstr(c->headers, c->password))
		return "--header";
	if (c->data && strstr(c->data, c->password))
		return "--data";
	return NULL;
}

/* util.c - allocation, buffers, escaping, base64, time. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <errno.h>
#include <time.h>

#include "util.h"

static void (*fatal_hook)(void);

void
set_fatal_hook(void (*hook)(void))
{
	fatal_hook = hook;
}

void
fatal(const char *fmt, ...)
{
	va_list ap;
	if (fatal_hook)
		fatal_hook();
	fputs("smtpdx: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

static void
oom(void)
{
	fatal("out of memory");
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom();
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
xvasprintf(const char *fmt, va_list ap)
{
	char *s;
	if (vasprintf(&s, fmt, ap) < 0)
		oom();
	return s;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

void
wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;
	while (n--)
		*v++ = 0;
}

void
secrets_protect(void)
{
	static bool done;
	if (done)
		return;
	done = true;
	struct rlimit none = { 0, 0 };
	setrlimit(RLIMIT_CORE, &none);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

static void
buf_grow(struct buf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->len + extra + 1)
		cap *= 2;
	b->data = xrealloc(b->data, cap);
	b->data[b->len] = '\0';
	b->cap = cap;
}

void
buf_add(struct buf *b, const void *p, size_t n)
{
	buf_grow(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_addc(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	buf_adds(b, s);
	free(s);
}

void
buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		buf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	wipe(b->data + b->len, n);	/* the vacated tail may hold a secret */
}

void
buf_reset(struct buf *b)
{
	if (b->data)
		wipe(b->data, b->len + 1);	/* an AUTH line may have been here */
	b->len = 0;
}

void
buf_free(struct buf *b)
{
	if (b->data)
		wipe(b->data, b->cap);
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

char *
buf_steal(struct buf *b)
{
	char *s = b->data ? b->data : xstrdup("");
	b->data = NULL;
	b->len = b->cap = 0;
	return s;
}

int
utf8_seq(const unsigned char *s, size_t n, unsigned *cp)
{
	unsigned c = s[0], v;
	int len;

	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		v = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		v = c & 0x07;
	} else {
		return 0;
	}
	if (n < (size_t)len)
		return 0;
	for (int i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates, beyond Unicode */
	if ((len == 3 && v < 0x800) || (len == 4 && v < 0x10000) ||
	    (v >= 0xd800 && v <= 0xdfff) || v > 0x10ffff)
		return 0;
	*cp = v;
	return len;
}

/* Code points that reorder or hide text on a terminal. */
static bool
cp_is_hazard(unsigned cp)
{
	/* C1 controls, the line and paragraph separators, and every format
	 * character (general category Cf, Unicode 15): invisible, or
	 * changing the direction or the look of what follows */
	return (cp >= 0x80 && cp <= 0x9f) ||
	       cp == 0x00ad ||				/* soft hyphen */
	       (cp >= 0x0600 && cp <= 0x0605) || cp == 0x061c ||
	       cp == 0x06dd || cp == 0x070f ||
	       (cp >= 0x0890 && cp <= 0x0891) || cp == 0x08e2 ||
	       cp == 0x180e ||				/* Mongolian vowel sep. */
	       (cp >= 0x200b && cp <= 0x200f) ||	/* zero width, marks */
	       cp == 0x2028 || cp == 0x2029 ||
	       (cp >= 0x202a && cp <= 0x202e) ||	/* bidi embeddings */
	       (cp >= 0x2060 && cp <= 0x206f) ||	/* word joiner .. isolates */
	       cp == 0xfeff ||
	       (cp >= 0xfff9 && cp <= 0xfffb) ||	/* interlinear annotation */
	       cp == 0x110bd || cp == 0x110cd ||
	       (cp >= 0x13430 && cp <= 0x1343f) ||
	       (cp >= 0x1bca0 && cp <= 0x1bca3) ||
	       (cp >= 0x1d173 && cp <= 0x1d17a) ||
	       (cp >= 0xe0000 && cp <= 0xe007f);	/* tags */
}

char *
vis_escape(const char *s, size_t n)
{
	struct buf b = { 0 };
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	buf_grow(&b, n);
	while (i < n) {
		unsigned c = u[i], cp;
		if (c >= 0x20 && c < 0x7f) {
			if (c == '\\')
				buf_adds(&b, "\\\\");
			else
				buf_addc(&b, (char)c);
			i++;
		} else if (c == '\t') {
			buf_adds(&b, "\\t"); i++;
		} else if (c == '\r') {
			buf_adds(&b, "\\r"); i++;
		} else if (c == '\n') {
			buf_adds(&b, "\\n"); i++;
		} else if (c < 0x80) {
			buf_printf(&b, "\\x%02x", c); i++;
		} else {
			int len = utf8_seq(u + i, n - i, &cp);
			if (len == 0) {
				buf_printf(&b, "\\x%02x", c);
				i++;
			} else if (cp_is_hazard(cp)) {
				buf_printf(&b, "\\u{%04x}", cp);
				i += len;
			} else {
				buf_add(&b, u + i, len);
				i += len;
			}
		}
	}
	return buf_steal(&b);
}

void
json_string(struct buf *b, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), i = 0;

	buf_addc(b, '"');
	while (i < n) {
		unsigned c = u[i], cp;
		switch (c) {
		case '"':  buf_adds(b, "\\\""); i++; continue;
		case '\\': buf_adds(b, "\\\\"); i++; continue;
		case '\n': buf_adds(b, "\\n"); i++; continue;
		case '\r': buf_adds(b, "\\r"); i++; continue;
		case '\t': buf_adds(b, "\\t"); i++; continue;
		}
		if (c < 0x20 || c == 0x7f) {
			buf_printf(b, "\\u%04x", c);
			i++;
		} else if (c < 0x80) {
			buf_addc(b, (char)c);
			i++;
		} else {
			int len = utf8_seq(u + i, n - i, &cp);
			if (len == 0) {
				buf_adds(b, "\\ufffd");	/* never emit invalid UTF-8 */
				i++;
			} else {
				buf_add(b, u + i, len);
				i += len;
			}
		}
	}
	buf_addc(b, '"');
}

static const char b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *
b64_encode(const void *p, size_t n)
{
	const unsigned char *u = p;
	char *out = xmalloc(4 * ((n + 2) / 3) + 1), *o = out;
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)u[i] << 16 | (uint32_t)u[i + 1] << 8 | u[i + 2];
		*o++ = b64chars[v >> 18];
		*o++ = b64chars[(v >> 12) & 63];
		*o++ = b64chars[(v >> 6) & 63];
		*o++ = b64chars[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)u[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)u[i + 1] << 8;
		*o++ = b64chars[v >> 18];
		*o++ = b64chars[(v >> 12) & 63];
		*o++ = i + 1 < n ? b64chars[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

int
b64_decode(const char *s, unsigned char **out, size_t *outlen)
{
	size_t n = strlen(s);
	unsigned char *o = xmalloc(n / 4 * 3 + 3);
	size_t k = 0;
	uint32_t v = 0;
	int bits = 0, pad = 0;

	for (size_t i = 0; i < n; i++) {
		const char *p;
		if (s[i] == '=') {
			pad++;
			continue;
		}
		if (pad || !(p = strchr(b64chars, s[i])) || s[i] == '\0') {
			free(o);
			return -1;
		}
		v = (v << 6) | (uint32_t)(p - b64chars);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			o[k++] = (unsigned char)(v >> bits);
		}
	}
	if (pad > 2 || (n % 4) != 0) {
		free(o);
		return -1;
	}
	*out = o;
	*outlen = k;
	return 0;
}

void
secrets_add(struct secrets *sc, const char *secret)
{
	if (!sc || !secret || strlen(secret) < 4)
		return;
	for (size_t i = 0; i < sc->n; i++)
		if (!strcmp(sc->v[i], secret))
			return;
	if (sc->n == SECRETS_MAX) {	/* the oldest payload goes */
		wipe(sc->v[1], strlen(sc->v[1]));
		free(sc->v[1]);
		memmove(&sc->v[1], &sc->v[2], (SECRETS_MAX - 2) * sizeof *sc->v);
		sc->n--;
	}
	sc->v[sc->n++] = xstrdup(secret);
}

char *
secrets_redact(const struct secrets *sc, const char *s, size_t n,
	       size_t *outlen)
{
	if (!sc || !sc->n)
		return NULL;
	struct buf b = { 0 };
	bool any = false;
	size_t i = 0, from = 0;
	while (i < n) {
		size_t hit = 0;
		for (size_t k = 0; k < sc->n && !hit; k++) {
			size_t l = strlen(sc->v[k]);
			if (l <= n - i && !memcmp(s + i, sc->v[k], l))
				hit = l;
		}
		if (!hit) {
			i++;
			continue;
		}
		buf_add(&b, s + from, i - from);
		buf_adds(&b, "<redacted>");
		i += hit;
		from = i;
		any = true;
	}
	if (!any) {
		buf_free(&b);
		return NULL;
	}
	buf_add(&b, s + from, n - from);
	*outlen = b.len;
	return buf_steal(&b);
}

void
secrets_free(struct secrets *sc)
{
	for (size_t i = 0; i < sc->n; i++) {
		wipe(sc->v[i], strlen(sc->v[i]));
		free(sc->v[i]);
	}
	sc->n = 0;
}

int
file_input_check(const char *path, size_t max, char *why, size_t whylen)
{
	struct stat st;
	if (!*path) {
		snprintf(why, whylen, "is empty: a file is needed");
		return -1;
	}
	if (stat(path, &st) < 0) {
		snprintf(why, whylen, "%s", strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		snprintf(why, whylen, "is a directory");
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "is %s, not a regular file",
			 S_ISFIFO(st.st_mode) ? "a pipe" :
			 S_ISSOCK(st.st_mode) ? "a socket" : "a device");
		return -1;
	}
	if ((unsigned long long)st.st_size > max) {
		snprintf(why, whylen, "is larger than %zu MiB", max >> 20);
		return -1;
	}
	return 0;
}

double
now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool
strcasestr_ascii(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	if (n == 0)
		return true;
	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return true;
	return false;
}

char *
str_subst(const char *s, const char *key, const char *val)
{
	struct buf b = { 0 };
	size_t kl = strlen(key);
	const char *q;
	while (kl && (q = strstr(s, key))) {
		buf_add(&b, s, (size_t)(q - s));
		buf_adds(&b, val);
		s = q + kl;
	}
	buf_adds(&b, s);
	return b.data ? buf_steal(&b) : xstrdup("");
}

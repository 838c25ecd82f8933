/* profile.c - [profile NAME] sections (inih) and --password-command. */
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "profile.h"
#include "util.h"

extern char **environ;

char *
profile_config_path(const char *explicit_path)
{
	if (explicit_path)
		return xstrdup(explicit_path);
	const char *x = getenv("XDG_CONFIG_HOME");
	if (x && *x)
		return xasprintf("%s/smtpdx/config", x);
	const char *h = getenv("HOME");
	return xasprintf("%s/.config/smtpdx/config", h && *h ? h : ".");
}

/* ---- the file ------------------------------------------------------------ */

struct collect {
	const char *name;		/* the profile wanted, or NULL: list */
	FILE *list;
	int count;
	bool found;
	char **argv;			/* "smtpdx", words ... */
	int argc, cap;
	char *host;
	char last[256];			/* list: the section named last */
	char why[256];
};

static void
push(struct collect *c, const char *w)
{
	if (c->argc + 2 > c->cap) {
		c->cap = c->cap ? 2 * c->cap : 32;
		c->argv = xrealloc(c->argv, (size_t)c->cap * sizeof *c->argv);
	}
	c->argv[c->argc++] = xstrdup(w);
	c->argv[c->argc] = NULL;
}

/* "profile work" -> "work"; NULL if the section is not a profile. */
static const char *
profile_name(const char *section)
{
	if (strncasecmp(section, "profile", 7) != 0 ||
	    (section[7] != ' ' && section[7] != '\t'))
		return NULL;
	section += 7;
	while (*section == ' ' || *section == '\t')
		section++;
	return *section ? section : NULL;
}

static bool
yes(const char *v)
{
	return !strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1") ||
	       !strcasecmp(v, "on");
}

static bool
no(const char *v)
{
	return !strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0") ||
	       !strcasecmp(v, "off");
}

static int
on_item(void *user, const char *section, const char *key, const char *value)
{
	struct collect *c = user;
	const char *pn = profile_name(section);
	if (!pn) {
		snprintf(c->why, sizeof c->why, "[%s] is not a [profile NAME] "
			 "section", section);
		return 0;
	}
	if (c->list) {
		/* each section once, in file order */
		return 1;
	}
	if (strcmp(pn, c->name) != 0)
		return 1;
	c->found = true;
	static const char *const flags[] = {
		"insecure", "allow-plaintext-auth", "no-send", "mx", "no-color",
		"requiretls", "bdat",
	};
	static const char *const refused[] = {
		"profile", "config", "lab", "lab-server", "help", "version",
		"list-diagnoses",
	};
	if (!strcmp(key, "password")) {
		snprintf(c->why, sizeof c->why, "a password is never kept in the "
			 "file: use password-file or password-command");
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(refused); i++)
		if (!strcmp(key, refused[i])) {
			snprintf(c->why, sizeof c->why, "'%s' is not a profile key",
				 key);
			return 0;
		}
	if (!strcmp(key, "host")) {
		free(c->host);
		c->host = xstrdup(value);
		return 1;
	}
	for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
		if (strcmp(key, flags[i]) != 0)
			continue;
		if (yes(value)) {
			char w[64];
			snprintf(w, sizeof w, "--%s", key);
			push(c, w);
		} else if (!no(value)) {
			snprintf(c->why, sizeof c->why, "%s wants yes or no, not "
				 "'%.100s'", key, value);
			return 0;
		}
		return 1;
	}
	char w[128];
	snprintf(w, sizeof w, "--%s", key);
	if (!strcmp(key, "to") && strchr(value, ',')) {
		/* "to = a@x, b@y": each a --to */
		char *copy = xstrdup(value), *save = NULL;
		for (char *t = strtok_r(copy, ", ", &save); t;
		     t = strtok_r(NULL, ", ", &save)) {
			push(c, w);
			push(c, t);
		}
		free(copy);
		return 1;
	}
	push(c, w);
	push(c, value);
	return 1;
}

static int
on_section(void *user, const char *section, const char *key, const char *value)
{
	struct collect *c = user;
	(void)key, (void)value;
	const char *pn = profile_name(section);
	if (pn && c->list) {
		if (strcmp(c->last, pn) != 0) {
			snprintf(c->last, sizeof c->last, "%s", pn);
			fprintf(c->list, "%s\n", pn);
			c->count++;
		}
	}
	return on_item(user, section, key, value);
}

int
profile_list(const char *path, FILE *out)
{
	char why[128];
	if (file_input_check(path, FILE_INPUT_MAX, why, sizeof why) < 0)
		return -1;
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	struct collect c = { .list = out };
	ini_parse_file(f, on_section, &c);
	fclose(f);
	return c.count;
}

int
profile_load(const char *path, const char *name, struct options *po,
	     char *err, size_t errlen)
{
	struct collect c = { .name = name };
	push(&c, "smtpdx");
	int rc = -1;

	memset(po, 0, sizeof *po);
	config_defaults(&po->cfg);
	char fwhy[128];
	if (file_input_check(path, FILE_INPUT_MAX, fwhy, sizeof fwhy) < 0) {
		snprintf(err, errlen, "--profile %s: cannot read %s: %s", name,
			 path, fwhy);
		goto out;
	}
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "--profile %s: cannot read %s: %s", name, path,
			 strerror(errno));
		goto out;
	}
	int line = ini_parse_file(f, on_item, &c);
	fclose(f);
	if (line != 0) {
		snprintf(err, errlen, "%s:%d: %s", path, line,
			 c.why[0] ? c.why : "not an INI line ([profile NAME], then "
			 "key = value)");
		goto out;
	}
	if (!c.found) {
		snprintf(err, errlen, "no [profile %s] in %s", name, path);
		goto out;
	}
	if (c.host) {
		push(&c, c.host);
	} else {
		/* settings only (the host comes from the command line, or
		 * the TUI's session): parsed as the profile they are */
		push(&c, "--profile");
		push(&c, name);
	}
	char why[256];
	if (options_parse(po, c.argc, c.argv, why, sizeof why) < 0) {
		snprintf(err, errlen, "%s, [profile %s]: %s", path, name, why);
		goto out;
	}
	rc = 0;
out:
	for (int i = 0; i < c.argc; i++)
		free(c.argv[i]);
	free(c.argv);
	free(c.host);
	return rc;
}

/* ---- writing a profile --------------------------------------------------- */

static bool
differs(const char *a, const char *b)
{
	if (!a || !b)
		return !a != !b;
	return strcmp(a, b) != 0;
}

static void
kv(struct profile_kv *v, int *n, const char *key, const char *value)
{
	if (*n >= PROFILE_KEYS_MAX)
		return;
	v[*n].key = key;
	v[*n].value = value ? xstrdup(value) : NULL;
	(*n)++;
}

/* %XX for what a proxy URL's user part cannot hold as it is */
static void
pct_user(struct buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (strchr("@:/%?# ", ch) || ch < 0x21 || ch >= 0x7f)
			buf_printf(b, "%%%02X", ch);
		else
			buf_addc(b, (char)ch);
	}
}

/* The proxy as a URL, without its password. */
static char *
proxy_url(const struct config *c)
{
	if (c->proxy == PX_NONE || !c->proxy_host)
		return NULL;
	struct buf b = { 0 };
	buf_adds(&b, c->proxy == PX_SOCKS5H ? "socks5h://" : c->proxy == PX_HTTP ?
		 "http://" : "socks5://");
	if (c->proxy_user) {
		pct_user(&b, c->proxy_user);
		buf_addc(&b, '@');
	}
	if (strchr(c->proxy_host, ':'))
		buf_printf(&b, "[%s]:%d", c->proxy_host, c->proxy_port);
	else
		buf_printf(&b, "%s:%d", c->proxy_host, c->proxy_port);
	return buf_steal(&b);
}

int
profile_keys(const struct config *c, const struct config *base,
	     struct profile_kv *v)
{
	struct config dflt;
	config_defaults(&dflt);
	const struct config *b = base ? base : &dflt;
	int n = 0;
	char num[32];

	if (differs(c->provider, b->provider))
		kv(v, &n, "provider", c->provider);
	if (differs(c->host, b->host))
		kv(v, &n, "host", c->host);
	if (c->port != b->port && c->port) {
		snprintf(num, sizeof num, "%d", c->port);
		kv(v, &n, "port", num);
	}
	if (c->tls != b->tls)
		kv(v, &n, "tls", tls_mode_name(c->tls));
	if (differs(c->cafile, b->cafile) && c->cafile)
		kv(v, &n, "cafile", c->cafile);
	if (differs(c->servername, b->servername) && c->servername)
		kv(v, &n, "servername", c->servername);
	if (c->insecure && !b->insecure)
		kv(v, &n, "insecure", NULL);
	if (c->tls_min != b->tls_min && c->tls_min) {
		snprintf(num, sizeof num, "%d.%d", c->tls_min / 10, c->tls_min % 10);
		kv(v, &n, "tls-min", num);
	}
	if (differs(c->user, b->user) && c->user)
		kv(v, &n, "user", c->user);
	if (differs(c->password_command, b->password_command) &&
	    c->password_command)
		kv(v, &n, "password-command", c->password_command);
	if (c->mech != b->mech)
		kv(v, &n, "auth", auth_mech_name(c->mech));
	if (c->allow_plaintext_auth && !b->allow_plaintext_auth)
		kv(v, &n, "allow-plaintext-auth", NULL);
	if (differs(c->from, b->from) && c->from)
		kv(v, &n, "from", c->from);
	bool to_differs = c->nto != b->nto;
	for (int i = 0; !to_differs && i < c->nto; i++)
		to_differs = strcmp(c->to[i], b->to[i]) != 0;
	for (int i = 0; to_differs && i < c->nto; i++)
		kv(v, &n, "to", c->to[i]);
	if (differs(c->helo, b->helo) && c->helo)
		kv(v, &n, "helo", c->helo);
	if (c->no_send && !b->no_send)
		kv(v, &n, "no-send", NULL);
	if (c->timeout != b->timeout) {
		snprintf(num, sizeof num, "%g", c->timeout);
		kv(v, &n, "timeout", num);
	}
	char *pu = proxy_url(c), *bu = proxy_url(b);
	if (differs(pu, bu) && pu)
		kv(v, &n, "proxy", pu);
	free(pu);
	free(bu);
	if ((differs(c->cert, b->cert) || differs(c->key, b->key)) && c->cert) {
		kv(v, &n, "cert", c->cert);
		kv(v, &n, "key", c->key ? c->key : c->cert);
	}
	if (differs(c->data_file, b->data_file) && c->data_file)
		kv(v, &n, "data", c->data_file);
	if (differs(c->body_file, b->body_file) && c->body_file)
		kv(v, &n, "body", c->body_file);
	if (differs(c->headers, b->headers) && c->headers) {
		/* "Name: value\r\n" each */
		for (const char *p = c->headers; *p;) {
			size_t l = strcspn(p, "\r\n");
			if (l) {
				char *h = xstrndup(p, l);
				kv(v, &n, "header", h);
				free(h);
			}
			p += l;
			while (*p == '\r' || *p == '\n')
				p++;
		}
	}
	if (differs(c->notify, b->notify) && c->notify)
		kv(v, &n, "notify", c->notify);
	if (c->ret != b->ret && c->ret)
		kv(v, &n, "ret", c->ret == DSN_RET_FULL ? "full" : "hdrs");
	if (differs(c->envid, b->envid) && c->envid)
		kv(v, &n, "envid", c->envid);
	if (c->requiretls && !b->requiretls)
		kv(v, &n, "requiretls", NULL);
	if (c->bdat && !b->bdat)
		kv(v, &n, "bdat", NULL);
	return n;
}

void
profile_kv_free(struct profile_kv *v, int n)
{
	for (int i = 0; i < n; i++) {
		free(v[i].value);
		v[i].value = NULL;
	}
}

int
profile_argv(const struct config *c, const struct config *base,
	     const char *lab, char ***argv)
{
	struct profile_kv v[PROFILE_KEYS_MAX];
	int n = profile_keys(c, lab ? base : NULL, v);
	char **a = xcalloc((size_t)(2 * n + 4), sizeof *a);
	int k = 0;
	a[k++] = xstrdup("smtpdx");
	if (lab) {
		a[k++] = xstrdup("--lab");
		a[k++] = xstrdup(lab);
	}
	const char *host = NULL;
	for (int i = 0; i < n; i++) {
		if (!strcmp(v[i].key, "host") && !lab) {
			host = v[i].value;
			continue;
		}
		if (!strcmp(v[i].key, "host") || (lab && !strcmp(v[i].key, "port")))
			continue;	/* the lab's own: it picks them */
		a[k++] = xasprintf("--%s", v[i].key);
		if (v[i].value)
			a[k++] = xstrdup(v[i].value);
	}
	if (host)
		a[k++] = xstrdup(host);
	a[k] = NULL;
	profile_kv_free(v, n);
	*argv = a;
	return k;
}

void
profile_argv_free(int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	free(argv);
}

int
profile_name_check(const char *name, char *err, size_t errlen)
{
	size_t n = strlen(name);
	if (n == 0 || n > 64 || strspn(name, "abcdefghijklmnopqrstuvwxyz"
				       "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-@") != n) {
		snprintf(err, errlen, "a profile name is 1-64 letters, digits, "
			 "'.', '_', '-' or '@', not '%.64s'", name);
		return -1;
	}
	return 0;
}

/* Is this line a section header, and of which profile ("" not one)? */
static bool
section_line(const char *line, size_t len, char *pname, size_t pn)
{
	size_t i = 0;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i >= len || line[i] != '[')
		return false;
	const char *close = memchr(line + i, ']', len - i);
	pname[0] = '\0';
	if (!close)
		return true;	/* inih: an error line; a boundary all the same */
	char sec[300];
	snprintf(sec, sizeof sec, "%.*s", (int)(close - line - i - 1), line + i + 1);
	/* inih trims the name */
	char *a = sec;
	while (*a == ' ' || *a == '\t')
		a++;
	size_t l = strlen(a);
	while (l && (a[l - 1] == ' ' || a[l - 1] == '\t'))
		a[--l] = '\0';
	const char *p = profile_name(a);
	if (p)
		snprintf(pname, pn, "%s", p);
	return true;
}

static bool
comment_or_blank(const char *line, size_t len)
{
	size_t i = 0;
	while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
		i++;
	return i >= len || line[i] == ';' || line[i] == '#';
}

/* mkdir -p with 0700 for what is made */
static int
make_dirs(const char *path, char *err, size_t errlen)
{
	char *d = xstrdup(path);
	int rc = 0;
	for (char *p = d + 1; rc == 0; p++) {
		if (*p != '/' && *p)
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(d, 0700) < 0 && errno != EEXIST) {
			snprintf(err, errlen, "cannot make %s: %s", d, strerror(errno));
			rc = -1;
		}
		*p = saved;
		if (!saved)
			break;
	}
	free(d);
	return rc;
}

int
profile_save(const char *path, const char *name, const struct config *c,
	     const struct config *base, bool replace, char *err, size_t errlen)
{
	if (profile_name_check(name, err, errlen) < 0)
		return -1;
	struct profile_kv v[PROFILE_KEYS_MAX];
	int nv = profile_keys(c, base, v);
	int rc = -1;
	struct buf out = { 0 }, sect = { 0 };
	char *old = NULL, *tmp = NULL;
	size_t oldlen = 0;

	/* what inih reads back as written: one line, at most INI_MAX_LINE,
	 * no " ;" (an inline comment), no spaces at the ends */
	buf_printf(&sect, "[profile %s]\n", name);
	for (int i = 0; i < nv; i++) {
		const char *val = v[i].value ? v[i].value : "yes";
		size_t l = strlen(val);
		if (strpbrk(val, "\r\n") || strstr(val, " ;") || strstr(val, "\t;") ||
		    (l && (val[0] == ' ' || val[l - 1] == ' ')) ||
		    strlen(v[i].key) + l + 4 >= INI_MAX_LINE) {
			snprintf(err, errlen, "%s '%.60s%s' cannot be written to "
				 "the config file (longer than %d characters, or "
				 "' ;' in it)", v[i].key, val, l > 60 ? "..." : "",
				 INI_MAX_LINE - 5);
			goto out;
		}
		buf_printf(&sect, "%s = %s\n", v[i].key, val);
	}

	struct stat st;
	if (lstat(path, &st) == 0) {
		if (S_ISLNK(st.st_mode)) {
			snprintf(err, errlen, "%s is a symbolic link: not followed, "
				 "not written", path);
			goto out;
		}
		if (!S_ISREG(st.st_mode)) {
			snprintf(err, errlen, "%s is not a regular file", path);
			goto out;
		}
		int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
		if (!f) {
			if (fd >= 0)
				close(fd);
			snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
			goto out;
		}
		struct buf ob = { 0 };
		char chunk[4096];
		size_t got;
		while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
			buf_add(&ob, chunk, got);
		fclose(f);
		oldlen = ob.len;
		old = ob.data ? buf_steal(&ob) : xstrdup("");
	} else if (errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	} else {
		char *dir = xstrdup(path), *slash = strrchr(dir, '/');
		if (slash && slash != dir) {
			*slash = '\0';
			if (make_dirs(dir, err, errlen) < 0) {
				free(dir);
				goto out;
			}
		}
		free(dir);
	}

	/* copy the file, the sections of that name replaced: the new one
	 * where the first was, later ones dropped; the comments inside
	 * them kept, and the comments and blank lines just before the next
	 * section left to it */
	bool in = false, placed = false, found = false;
	struct buf held = { 0 };	/* comments seen inside the old section */
	for (size_t at = 0; old && at < oldlen;) {
		const char *line = old + at;
		const char *nl = memchr(line, '\n', oldlen - at);
		size_t len = nl ? (size_t)(nl - line) : oldlen - at;
		size_t full = nl ? len + 1 : len;
		at += full;
		char pn[256];
		if (section_line(line, len, pn, sizeof pn)) {
			if (in) {
				buf_add(&out, held.data ? held.data : "", held.len);
				buf_reset(&held);
			}
			in = !strcmp(pn, name);
			if (in) {
				found = true;
				if (!placed) {
					buf_add(&out, sect.data, sect.len);
					placed = true;
				}
				continue;
			}
		}
		if (!in) {
			buf_add(&out, line, full);
			if (!nl)
				buf_addc(&out, '\n');
			continue;
		}
		if (comment_or_blank(line, len)) {
			buf_add(&held, line, full);
			if (!nl)
				buf_addc(&held, '\n');
		}
	}
	if (in)
		buf_add(&out, held.data ? held.data : "", held.len);
	buf_free(&held);
	if (found && !replace) {
		rc = 1;
		goto out;
	}
	if (!placed) {
		if (out.len && out.data[out.len - 1] != '\n')
			buf_addc(&out, '\n');
		if (out.len)
			buf_addc(&out, '\n');
		buf_add(&out, sect.data, sect.len);
	}

	tmp = xasprintf("%s.XXXXXX", path);
	int fd = mkstemp(tmp);
	if (fd < 0) {
		snprintf(err, errlen, "cannot write beside %s: %s", path,
			 strerror(errno));
		free(tmp);
		tmp = NULL;
		goto out;
	}
	fchmod(fd, 0600);
	size_t off = 0;
	while (off < out.len) {
		ssize_t w = write(fd, out.data + off, out.len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	if (off < out.len || fsync(fd) < 0 || close(fd) < 0) {
		snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
		unlink(tmp);
		goto out;
	}
	/* a link put at path meanwhile is replaced, never written through */
	if (rename(tmp, path) < 0) {
		snprintf(err, errlen, "cannot replace %s: %s", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	profile_kv_free(v, nv);
	buf_free(&out);
	buf_free(&sect);
	free(old);
	free(tmp);
	return rc;
}

/* ---- --password-command --------------------------------------------------- */

/* Split cmd into words: spaces separate, '...' and "..." quote, \ escapes
 * outside single quotes.  NULL-terminated, heap. */
static char **
split_words(const char *cmd, int *n)
{
	char **v = xcalloc(strlen(cmd) / 2 + 2, sizeof *v);
	struct buf w = { 0 };
	bool in_word = false;
	*n = 0;
	for (const char *p = cmd;; p++) {
		if (!*p || ((*p == ' ' || *p == '\t') && in_word)) {
			if (in_word) {
				v[(*n)++] = w.data ? buf_steal(&w) : xstrdup("");
				in_word = false;
			}
			if (!*p)
				break;
			continue;
		}
		if (*p == ' ' || *p == '\t')
			continue;
		in_word = true;
		if (*p == '\'') {
			for (p++; *p && *p != '\''; p++)
				buf_addc(&w, *p);
			if (!*p)
				break;
		} else if (*p == '"') {
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && p[1])
					p++;
				buf_addc(&w, *p);
			}
			if (!*p)
				break;
		} else if (*p == '\\' && p[1]) {
			buf_addc(&w, *++p);
		} else {
			buf_addc(&w, *p);
		}
	}
	if (in_word)
		v[(*n)++] = w.data ? buf_steal(&w) : xstrdup("");
	buf_free(&w);
	return v;
}

char *
password_command(const char *cmd, double timeout, char *err, size_t errlen)
{
	int n;
	char **argv = split_words(cmd, &n);
	char *result = NULL;
	int pfd[2] = { -1, -1 };
	pid_t pid = -1;
	struct buf out = { 0 };

	if (n == 0) {
		snprintf(err, errlen, "--password-command is empty");
		goto done;
	}
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "--password-command: pipe: %s", strerror(errno));
		goto done;
	}
	/* the environment without SMTPDX_PASSWORD */
	size_t ne = 0;
	while (environ[ne])
		ne++;
	char **env = xcalloc(ne + 1, sizeof *env);
	size_t k = 0;
	for (size_t i = 0; i < ne; i++)
		if (strncmp(environ[i], "SMTPDX_PASSWORD=", 16) != 0)
			env[k++] = environ[i];
	pid = fork();
	if (pid == 0) {
		dup2(pfd[1], STDOUT_FILENO);
		int nul = open("/dev/null", O_RDONLY);
		if (nul >= 0)
			dup2(nul, STDIN_FILENO);
		execvpe(argv[0], argv, env);
		_exit(127);
	}
	free(env);
	close(pfd[1]);
	pfd[1] = -1;
	if (pid < 0) {
		snprintf(err, errlen, "--password-command: fork: %s", strerror(errno));
		goto done;
	}
	/*
	 * Read until the command has exited and its output is drained, or the
	 * time is up.  Neither the end of the output nor the command's exit
	 * alone will do: a command may close its output and go on waiting, or
	 * leave a background process (an agent) holding the pipe open.
	 */
	double end = now_mono() + timeout, eof_at = 0;
	bool timed_out = false, eof = false, exited = false;
	int st = 0;
	while (!(exited && eof)) {
		int ms = (int)((end - now_mono()) * 1000);
		if (ms <= 0) {
			timed_out = true;
			break;
		}
		/* its line printed and its output closed, it lingers: a second
		 * for its exit status, then it is not waited for */
		if (eof && !exited && memchr(out.data, '\n', out.len) &&
		    now_mono() > eof_at + 1.0) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			st = 0;
			exited = true;
			break;
		}
		if (!exited && waitpid(pid, &st, WNOHANG) == pid)
			exited = true;
		struct pollfd p = { pfd[0], POLLIN, 0 };
		/* once it has exited, only what is already in the pipe counts */
		int ready = eof ? 0 : poll(&p, 1, exited ? 0 : ms < 50 ? ms : 50);
		if (ready <= 0) {
			if (exited)
				eof = true;
			else if (eof)
				poll(NULL, 0, 50);
			continue;
		}
		char chunk[4096];
		ssize_t got = read(pfd[0], chunk, sizeof chunk);
		if (got <= 0) {
			eof = true;
			eof_at = now_mono();
			continue;
		}
		if (out.len < 65536)
			buf_add(&out, chunk, (size_t)got);
		wipe(chunk, sizeof chunk);
	}
	if (timed_out && !exited) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
	timed_out = timed_out && !exited;
	if (timed_out) {
		snprintf(err, errlen, "--password-command %s: no answer within %.0f s",
			 argv[0], timeout);
	} else if (WIFEXITED(st) && WEXITSTATUS(st) == 127) {
		snprintf(err, errlen, "--password-command: cannot run %s", argv[0]);
	} else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		snprintf(err, errlen, "--password-command %s failed (exit status %d)",
			 argv[0], WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	} else if (!out.len || out.data[0] == '\n' || out.data[0] == '\r') {
		snprintf(err, errlen, "--password-command %s printed no password",
			 argv[0]);
	} else {
		size_t l = strcspn(out.data, "\r\n");
		result = xstrndup(out.data, l);
	}
done:
	buf_free(&out);	/* wipes */
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	for (int i = 0; i < n; i++)
		free(argv[i]);
	free(argv);
	return result;
}

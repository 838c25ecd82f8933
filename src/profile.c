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
		static char last[256];
		if (strcmp(last, pn) != 0) {
			snprintf(last, sizeof last, "%s", pn);
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
	if (c.host)
		push(&c, c.host);
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

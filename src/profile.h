/*
 * profile.h - named profiles from the config file, and --password-command.
 *
 * The config file ($XDG_CONFIG_HOME/smtpdx/config, or ~/.config/...,
 * or --config FILE) is INI (read with inih), one [profile NAME] section per
 * profile, whose keys are the long option names of the command line:
 *
 *	[profile work]
 *	host = mail.example.com
 *	port = 587
 *	tls = starttls
 *	user = alice@example.com
 *	password-command = pass show mail/work
 *	provider = microsoft365
 *
 * A profile is turned into the command-line words it stands for
 * ("--tls", "starttls") and parsed by options_parse(), so every value is
 * checked by the same code as on the command line, and an unknown key is
 * an error.  The command line wins over the profile.  A password is never
 * a key of the file: password-file or password-command only.
 */
#ifndef SMTPDX_PROFILE_H
#define SMTPDX_PROFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "options.h"

/* The config file to read: explicit (--config), or the default path.
 * Returns a new string. */
char *profile_config_path(const char *explicit_path);

/*
 * Parse profile name of the file at path into po (a fresh struct
 * options, as options_parse() fills it).  Returns 0, or -1 with one line
 * in err ("FILE:LINE: ..." or "no profile NAME in FILE").
 */
int profile_load(const char *path, const char *name, struct options *po,
		 char *err, size_t errlen);

/* The names of the profiles in path, one a line on out (for pickers);
 * returns how many, -1 if the file cannot be read. */
int profile_list(const char *path, FILE *out);

/* One setting as a profile key; the command line's option is "--" key.
 * value NULL: a flag that is on ("bdat = yes", "--bdat"). */
struct profile_kv {
	const char *key;
	char *value;
};
#define PROFILE_KEYS_MAX (40 + MAX_RCPT)

/*
 * The settings of c that differ from base (NULL: the defaults), as
 * profile keys in --help's order ("to" and "header" once per value).
 * Never a password, the proxy's password or a key's passphrase:
 * password-command is kept, the secrets are not.  Returns how many (at
 * most PROFILE_KEYS_MAX in v); profile_kv_free() releases the values.
 */
int profile_keys(const struct config *c, const struct config *base,
		 struct profile_kv *v);
void profile_kv_free(struct profile_kv *v, int n);

/*
 * The command line that runs c: "smtpdx --lab LAB ..." when lab is not
 * NULL (the settings that differ from base, the lab's own), else
 * "smtpdx HOST ..." with every setting that differs from the defaults.
 * A NULL-ended argv of new strings in *argv; returns argc.  Free with
 * profile_argv_free().
 */
int profile_argv(const struct config *c, const struct config *base,
		 const char *lab, char ***argv);
void profile_argv_free(int argc, char **argv);

/*
 * Write c (the keys of profile_keys(c, base)) as [profile name] into the
 * config file at path.  The rest of the file stays as it was: other
 * sections, comments and blank lines, byte for byte; the comments inside
 * the old section of that name stay in it.  The file is replaced whole
 * (a new file beside it, renamed over), created 0600, its directory (and
 * the missing ones above it) 0700.  A symbolic link at path is refused,
 * never followed.  Returns 0; 1 when the profile exists and replace is
 * false (nothing written: ask, then call again with replace); -1 with
 * one line in err (a bad name, a value the INI format cannot hold, a
 * file that cannot be written).
 */
int profile_save(const char *path, const char *name, const struct config *c,
		 const struct config *base, bool replace, char *err,
		 size_t errlen);

/* A profile name that can be written back: 1-64 of letters, digits,
 * '.', '_', '-', '@'.  0, or -1 with err. */
int profile_name_check(const char *name, char *err, size_t errlen);

/*
 * Run cmd (split into words like a shell does, quotes honoured, no shell
 * run) with the environment minus SMTPDX_PASSWORD, and return the first
 * line it prints (heap; the caller wipes it).  Its output is never
 * logged.  NULL with err when it cannot run, exits non-zero, prints
 * nothing, or takes longer than timeout seconds.
 */
char *password_command(const char *cmd, double timeout, char *err, size_t errlen);

#endif

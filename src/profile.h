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

/*
 * Run cmd (split into words like a shell does, quotes honoured, no shell
 * run) with the environment minus every SMTPDX_*PASSWORD, stdin from
 * /dev/null, and return the first line it prints (heap; the caller wipes
 * it).  Its output is never logged.  NULL with err when it cannot run,
 * exits non-zero, prints nothing, or takes longer than timeout seconds;
 * opt ("--password-command", "--key-password-command") names it there.
 */
char *password_command(const char *opt, const char *cmd, double timeout,
		       char *err, size_t errlen);

#endif

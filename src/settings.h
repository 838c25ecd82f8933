/*
 * settings.h - one table of the client's settings: name, type, check,
 * help.  The command line (options.c), the TUI's settings form (ui/form.c)
 * and the config file read the same table, so a value one of them refuses
 * is refused by all, with the same words.
 *
 * A check returns 0, or -1 with one line in err that names the setting
 * and says what a good value looks like.  Checks read only the value (and,
 * for a file, whether it can be read); they never touch the network.
 */
#ifndef SMTPDX_SETTINGS_H
#define SMTPDX_SETTINGS_H

#include <stddef.h>

enum setting_type {
	SET_HOST,	/* a host name, or an IPv4/IPv6 address */
	SET_PORT,	/* 1-65535 */
	SET_ADDRESS,	/* an envelope address: local@domain */
	SET_NAME,	/* a host name or [address literal] for EHLO */
	SET_FILE,	/* a file that can be read */
	SET_SECONDS,	/* more than 0, at most 3600 */
	SET_TEXT,	/* anything without control characters */
};

struct setting {
	const char *name;	/* long option and config key: "helo" */
	enum setting_type type;
	const char *help;	/* one line, for --help, the form, the file */
};

/* The table, ended by an entry whose name is NULL. */
extern const struct setting settings[];

/* The setting called name; NULL: none. */
const struct setting *setting_find(const char *name);

/* Check value for setting name (which must exist); 0, or -1 and why. */
int setting_check(const char *name, const char *value, char *err,
		  size_t errlen);

#endif

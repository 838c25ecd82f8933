/* tui.c - placeholder until the curses front end lands: falls back to batch. */
#include <curses.h>
#include <histedit.h>
#include <stdio.h>

#include "tui.h"

int
tui_run(struct config *cfg, const struct tui_opts *o)
{
	(void)cfg;
	(void)o;
	return -1;
}

const char *
tui_versions(void)
{
	static char v[96];
	snprintf(v, sizeof v, "%s, libedit %d.%d", curses_version(),
		 LIBEDIT_MAJOR, LIBEDIT_MINOR);
	return v;
}

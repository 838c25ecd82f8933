/* steps.c - names of the session steps and their states. */
#include <string.h>

#include "steps.h"

static const char *const names[] = {
#define X(sym, name, title) name,
	STEP_LIST(X)
#undef X
};

static const char *const titles[] = {
#define X(sym, name, title) title,
	STEP_LIST(X)
#undef X
};

const char *
step_name(enum step s)
{
	return (unsigned)s < STEP_COUNT ? names[s] : "?";
}

const char *
step_title(enum step s)
{
	return (unsigned)s < STEP_COUNT ? titles[s] : "?";
}

const char *
step_status_name(enum step_status st)
{
	static const char *const n[] = {
		"pending", "running", "ok", "warn", "fail", "skipped"
	};
	return (unsigned)st < 6 ? n[st] : "?";
}

int
step_from_name(const char *name)
{
	for (int i = 0; i < STEP_COUNT; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

/*
 * unit_workshop.c - included by unit.c: the lab's lessons (issue 14):
 * one for every scenario, mystery picks and their choices, the score
 * file (private, written whole).
 */
#include <dirent.h>
#include <sys/stat.h>

#include "../src/lab/workshop.h"

static void
test_workshop(void)
{
	size_t n;
	const struct lab_scenario *v = lab_scenarios(&n);
	size_t missing = 0, told = 0, client_fail = 0;
	for (size_t i = 0; i < n; i++) {
		const struct lab_lesson *l = lab_lesson(v[i].name);
		if (!l || !l->goal || !*l->goal || !l->fix || l->level < 1 ||
		    l->level > 3) {
			printf("# no lesson in src/lab/workshop.c for %s\n",
			       v[i].name);
			missing++;
			continue;
		}
		/* the goal is on the header: never the diagnosis id */
		if (v[i].expect && strstr(l->goal, v[i].expect))
			told++;
		if (l->client && v[i].expect_exit == 1 && !lab_fixable(&v[i]))
			client_fail++;
	}
	CHECK_INT(missing, 0, "workshop: every scenario has a lesson (level, "
		  "goal, fix)");
	CHECK_INT(told, 0, "workshop: no goal names its diagnosis");
	/* dns.no_address: -4/-6 is not a field of the settings form */
	CHECK_INT(client_fail, 1, "workshop: every failing client-side scenario "
		  "but dns.no_address is fixable through the form");

	/* mystery: the right id among 4-5 distinct ones, all plausible */
	size_t bad = 0;
	for (unsigned seed = 0; seed < 200; seed++) {
		const struct lab_scenario *sc = lab_mystery_pick(seed);
		const char *c[5];
		size_t k = sc ? lab_mystery_choices(sc, seed, c, 5) : 0;
		bool right = false, distinct = true;
		for (size_t i = 0; i < k; i++) {
			right |= !strcmp(c[i], sc->expect);
			for (size_t j = 0; j < i; j++)
				distinct &= strcmp(c[i], c[j]) != 0;
			distinct &= diag_from_id(c[i]) >= 0;
		}
		if (!sc || sc->expect_exit != 1 || k < 4 || !right || !distinct)
			bad++;
	}
	CHECK_INT(bad, 0, "workshop: 200 mystery picks each fail, with the "
		  "right id among 4-5 distinct known ones");
	CHECK(lab_mystery_pick(7) == lab_mystery_pick(7), "workshop: the same "
	      "seed, the same mystery");
	const struct lab_scenario *rf = lab_find("rcpt.unknown_user");
	const char *c[5];
	size_t k = lab_mystery_choices(rf, 1, c, 5), same = 0;
	for (size_t i = 0; i < k; i++)
		same += !strncmp(c[i], "rcpt.", 5);
	CHECK_INT(same, 5, "workshop: the choices come from the same stage "
		  "first");
	bool fix_ok = true;
	for (unsigned seed = 0; seed < 50; seed++)
		fix_ok &= lab_fixable(lab_fixit_pick(seed));
	CHECK(fix_ok, "workshop: fix-it picks only fixable scenarios");

	/* the score file */
	char dir[] = "/tmp/smtpdx-unit-ws.XXXXXX";
	if (!mkdtemp(dir)) {
		CHECK(false, "workshop: a temporary directory");
		return;
	}
	char *old = getenv("XDG_STATE_HOME") ? xstrdup(getenv("XDG_STATE_HOME")) :
		    NULL;
	setenv("XDG_STATE_HOME", dir, 1);
	struct lab_progress p, q;
	lab_progress_load(&p);
	CHECK(p.mystery_played == 0 && !p.done[0], "workshop: no file, no score");
	p.mystery_played = 3;
	p.mystery_right = 2;
	p.fixed = 1;
	lab_progress_mark(&p, "auth.failed");
	lab_progress_mark(&p, "auth.failed");
	lab_progress_mark(&p, "rcpt.unknown_user");
	char err[256];
	CHECK_INT(lab_progress_save(&p, err, sizeof err), 0, "workshop: the "
		  "score is saved (directories made)");
	lab_progress_load(&q);
	CHECK(q.mystery_played == 3 && q.mystery_right == 2 && q.fixed == 1 &&
	      lab_progress_done(&q, "auth.failed") &&
	      lab_progress_done(&q, "rcpt.unknown_user") &&
	      !lab_progress_done(&q, "auth") &&
	      !strcmp(q.done, "auth.failed\nrcpt.unknown_user\n"),
	      "workshop: the score read back, each scenario once");
	char *path = lab_progress_path();
	struct stat st;
	CHECK(path && stat(path, &st) == 0 && (st.st_mode & 0777) == 0600,
	      "workshop: the score file is private (0600)");
	char *sdir = xasprintf("%s/smtpdx", dir);
	size_t files = 0;
	DIR *dd = opendir(sdir);
	for (struct dirent *e; dd && (e = readdir(dd)) != NULL; )
		files += e->d_name[0] != '.';
	if (dd)
		closedir(dd);
	CHECK_INT(files, 1, "workshop: no temporary file left beside it");
	unlink(path);
	rmdir(sdir);
	rmdir(dir);
	free(sdir);
	free(path);
	if (old) {
		setenv("XDG_STATE_HOME", old, 1);
		free(old);
	} else {
		unsetenv("XDG_STATE_HOME");
	}
}

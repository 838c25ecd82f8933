/* run.c - one session to its end, on a poll() loop of its own. */
#include <poll.h>

#include "run.h"
#include "util.h"

void
session_run(struct session *s,
	    void (*on_line)(const struct tr_line *l, void *arg), void *arg)
{
	size_t shown = 0;
	session_go(s, RUN_ALL);
	for (;;) {
		if (on_line)
			for (; shown < s->tr.n; shown++)
				on_line(&s->tr.v[shown], arg);
		if (s->finished)
			break;
		if (!session_busy(s)) {
			session_go(s, RUN_ALL);
			continue;
		}
		struct pollfd p;
		double deadline;
		session_wait(s, &p, &deadline);
		int ms = -1;
		if (deadline >= 0) {
			double left = deadline - now_mono();
			ms = left <= 0 ? 0 : (int)(left * 1000) + 1;
		}
		int rc = poll(&p, p.fd >= 0 ? 1 : 0, ms);
		session_handle(s, rc > 0 ? p.revents : 0);
	}
}

/*
 * deliver_job.c - deliver_run() on a thread of its own, watched through
 * a pipe (the model of net.c's resolver: DNS through res_nquery blocks,
 * so a front end's poll loop waits on the pipe instead).
 *
 * The thread owns nothing the caller frees: the domain and the option
 * strings are copied.  Progress goes through two atomics (the check under
 * way, how many ended) and a byte in the pipe; the report is published by
 * the last byte (the write and the reader's read order it).  Two
 * references, the caller's and the thread's; the last to let go frees.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deliver.h"
#include "util.h"

struct deliver_job {
	atomic_int refs;
	int pipe[2];
	char *domain, *cafile, *sending_ip, *selector;
	struct deliver_opts o;
	struct deliver_report r;
	_Atomic(const char *) current;	/* static strings only */
	atomic_int ended;		/* checks that have ended */
	atomic_bool finished;
	bool done_seen;
	double t0;
};

static void
job_free(struct deliver_job *j)
{
	close(j->pipe[0]);
	close(j->pipe[1]);
	deliver_free(&j->r);
	free(j->domain);
	free(j->cafile);
	free(j->sending_ip);
	free(j->selector);
	free(j);
}

static void
job_put(struct deliver_job *j)
{
	if (atomic_fetch_sub(&j->refs, 1) == 1)
		job_free(j);
}

static void
poke(struct deliver_job *j)
{
	ssize_t w = write(j->pipe[1], "x", 1);
	(void)w;	/* a full pipe is already readable: enough */
}

static void
on_progress(void *ctx, const char *check)
{
	struct deliver_job *j = ctx;
	/* every check made so far has ended: the next starts now */
	atomic_store(&j->ended, j->r.n);
	atomic_store(&j->current, check);
	poke(j);
}

static void *
job_thread(void *arg)
{
	struct deliver_job *j = arg;
	deliver_run(j->domain, &j->o, &j->r);
	atomic_store(&j->ended, j->r.n);
	atomic_store(&j->current, "");
	atomic_store(&j->finished, true);
	poke(j);
	job_put(j);
	return NULL;
}

struct deliver_job *
deliver_start(const char *domain, const struct deliver_opts *o)
{
	struct deliver_job *j = xcalloc(1, sizeof *j);
	atomic_init(&j->refs, 1);
	atomic_init(&j->current, "");
	atomic_init(&j->ended, 0);
	atomic_init(&j->finished, false);
	if (pipe2(j->pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		fatal("pipe: %s", strerror(errno));
	j->t0 = now_mono();
	j->domain = xstrdup(domain);
	j->o = *o;
	j->cafile = o->cafile ? xstrdup(o->cafile) : NULL;
	j->sending_ip = o->sending_ip ? xstrdup(o->sending_ip) : NULL;
	j->selector = o->dkim_selector ? xstrdup(o->dkim_selector) : NULL;
	j->o.cafile = j->cafile;
	j->o.sending_ip = j->sending_ip;
	j->o.dkim_selector = j->selector;
	j->o.progress = on_progress;
	j->o.progress_ctx = j;

	/* signals stay with the caller's thread: its poll() wakes for them */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_t th;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	atomic_fetch_add(&j->refs, 1);		/* the thread's */
	if (pthread_create(&th, &attr, job_thread, j) != 0)
		job_thread(j);			/* no thread: here, blocking */
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return j;
}

int
deliver_job_fd(const struct deliver_job *j)
{
	return j->pipe[0];
}

bool
deliver_job_poll(struct deliver_job *j, const char **current, int *done)
{
	char buf[64];
	while (read(j->pipe[0], buf, sizeof buf) > 0)
		;
	*current = atomic_load(&j->current);
	*done = atomic_load(&j->ended);
	if (atomic_load(&j->finished))
		j->done_seen = true;
	return j->done_seen;
}

const struct dcheck *
deliver_job_checks(const struct deliver_job *j)
{
	return j->r.v;
}

double
deliver_job_seconds(const struct deliver_job *j)
{
	return now_mono() - j->t0;
}

void
deliver_job_take(struct deliver_job *j, struct deliver_report *r)
{
	*r = j->r;
	memset(&j->r, 0, sizeof j->r);
	job_put(j);
}

void
deliver_job_abandon(struct deliver_job *j)
{
	if (j)
		job_put(j);
}

/* net.c - threaded getaddrinfo and non-blocking connect. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "addr.h"
#include "net.h"
#include "util.h"

struct resolver {
	atomic_int refs;	/* the caller's and the thread's: the last to
				 * let go frees (never a mutex it could be
				 * freed out from under) */
	int pipe[2];
	char *host;
	char port[8];
	int family;
	int rc;			/* getaddrinfo's answer */
	struct addrinfo *res;
};

static void
resolver_free(struct resolver *r)
{
	if (r->res)
		freeaddrinfo(r->res);
	close(r->pipe[0]);
	close(r->pipe[1]);
	free(r->host);
	free(r);
}

/* Drop one reference; the last one frees. */
static void
resolver_put(struct resolver *r)
{
	if (atomic_fetch_sub(&r->refs, 1) == 1)
		resolver_free(r);
}

static void *
resolve_thread(void *arg)
{
	struct resolver *r = arg;
	struct addrinfo hints = { 0 }, *res = NULL;

	hints.ai_family = r->family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	int rc = getaddrinfo(r->host, r->port, &hints, &res);

	r->rc = rc;
	r->res = res;
	/* the pipe write publishes rc and res to the reader (a system call
	 * and the atomic below order them); it is still ours to write to
	 * until we let go */
	ssize_t w = write(r->pipe[1], "x", 1);
	(void)w;
	resolver_put(r);
	return NULL;
}

/* RFC 6761 §6.4: names under .invalid never resolve; answer locally
 * rather than sending a query anywhere. */
static bool
is_invalid_tld(const char *host)
{
	size_t n = strlen(host);
	if (n && host[n - 1] == '.')
		n--;
	return (n >= 8 && strncasecmp(host + n - 8, ".invalid", 8) == 0) ||
	       (n == 7 && strncasecmp(host, "invalid", 7) == 0);
}

struct resolver *
resolve_start(const char *host, int port, int family)
{
	struct resolver *r = xcalloc(1, sizeof *r);
	pthread_t th;
	pthread_attr_t attr;

	atomic_init(&r->refs, 1);
	if (pipe2(r->pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		fatal("pipe: %s", strerror(errno));
	}
	r->host = idna_lookup_name(host);	/* U-labels: the A-labels */
	snprintf(r->port, sizeof r->port, "%d", port);
	r->family = family;
	if (is_invalid_tld(host)) {
		r->rc = EAI_NONAME;
		ssize_t w = write(r->pipe[1], "x", 1);
		(void)w;
		return r;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	atomic_fetch_add(&r->refs, 1);		/* the thread's */
	if (pthread_create(&th, &attr, resolve_thread, r) != 0) {
		/* no thread: resolve here, blocking */
		resolve_thread(r);
	}
	pthread_attr_destroy(&attr);
	return r;
}

int
resolve_fd(const struct resolver *r)
{
	return r->pipe[0];
}

enum resolve_err
resolve_finish(struct resolver *r, struct address *out, int max, int *n,
	       char *err, size_t errlen)
{
	enum resolve_err e = RES_OK;

	*n = 0;
	switch (r->rc) {
	case 0:
		break;
	case EAI_NONAME:
		e = RES_NOT_FOUND;
		break;
	/* the name exists, without an address of the family asked for */
#ifdef EAI_NODATA
	case EAI_NODATA:
#endif
#ifdef EAI_ADDRFAMILY
	case EAI_ADDRFAMILY:
#endif
		e = RES_NO_ADDRESS;
		break;
	case EAI_AGAIN:
		e = RES_TEMPORARY;
		break;
	default:
		e = RES_FAILURE;
	}
	if (e != RES_OK) {
		snprintf(err, errlen, "%s", gai_strerror(r->rc));
	} else {
		for (struct addrinfo *a = r->res; a && *n < max; a = a->ai_next) {
			struct address *d = &out[*n];
			if (a->ai_addrlen > sizeof d->sa)
				continue;
			memcpy(&d->sa, a->ai_addr, a->ai_addrlen);
			d->len = a->ai_addrlen;
			d->family = a->ai_family;
			const void *ip = a->ai_family == AF_INET6 ?
				(const void *)&((struct sockaddr_in6 *)a->ai_addr)->sin6_addr :
				(const void *)&((struct sockaddr_in *)a->ai_addr)->sin_addr;
			inet_ntop(a->ai_family, ip, d->text, sizeof d->text);
			(*n)++;
		}
		if (*n == 0) {
			e = RES_NO_ADDRESS;
			snprintf(err, errlen, "no usable address");
		}
	}
	resolver_put(r);
	return e;
}

void
resolve_abandon(struct resolver *r)
{
	resolver_put(r);	/* the thread, if still at work, frees r */
}

int
connect_start(const struct address *a)
{
	int fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	/* Each pipelined group goes out as one buffer: no need for Nagle. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, (const struct sockaddr *)&a->sa, a->len) < 0 &&
	    errno != EINPROGRESS) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int
connect_result(int fd)
{
	int e = 0;
	socklen_t len = sizeof e;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
		return errno;
	return e;
}

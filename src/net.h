/*
 * net.h - name resolution without blocking the caller, and non-blocking
 * TCP connects.
 *
 * getaddrinfo() blocks, so resolve_start() runs it on a thread of its own
 * and hands back a pipe descriptor that becomes readable when the answer
 * is in.  A resolution the caller gives up on is abandoned (the thread
 * finishes and frees its own result).
 */
#ifndef SMTPDX_NET_H
#define SMTPDX_NET_H

#include <stdbool.h>
#include <sys/socket.h>

enum resolve_err {
	RES_OK,
	RES_NOT_FOUND,		/* the name does not exist (NXDOMAIN, .invalid) */
	RES_NO_ADDRESS,		/* the name exists, no address of the family */
	RES_TEMPORARY,		/* the resolver failed: try again later */
	RES_FAILURE		/* anything else */
};

#define NET_MAX_ADDRS 16

struct address {
	struct sockaddr_storage sa;
	socklen_t len;
	int family;
	char text[64];		/* "127.0.0.1", "::1" */
};

struct resolver;

/* Start resolving host for port; family AF_UNSPEC, AF_INET or AF_INET6. */
struct resolver *resolve_start(const char *host, int port, int family);
int resolve_fd(const struct resolver *r);	/* readable when done */
/* Once resolve_fd() is readable: the result.  Fills up to max addresses,
 * IPv6 and IPv4 interleaved as getaddrinfo ordered them. */
enum resolve_err resolve_finish(struct resolver *r, struct address *out,
				int max, int *n, char *err, size_t errlen);
void resolve_abandon(struct resolver *r);	/* gave up: let it finish alone */

/* Start a non-blocking connect: returns the socket (connecting) or -1
 * with errno set.  connect_result() afterwards gives 0 or an errno. */
int connect_start(const struct address *a);
int connect_result(int fd);

#endif

/*
 * fuzz_imap.c - libFuzzer: the --fetch-back IMAP client (src/imap.c) on a
 * hostile server's byte stream: greeting, CAPABILITY, login, EXAMINE,
 * UID SEARCH, UID FETCH with literals, the fetched header taken apart and
 * judged, the text and JSON reports.  The input is what the server says
 * (all of it at once on a socketpair, then end of file); what the client
 * sends is never read.  The first byte picks the login path.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../src/imap.h"
#include "../../src/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int sv[2];
	if (size < 1 || size > 100000 ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return 0;
	int big = 1 << 20;
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
	setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	size_t off = 1;
	while (off < size) {
		ssize_t k = write(sv[1], data + off, size - off);
		if (k <= 0)
			break;
		off += (size_t)k;
	}
	shutdown(sv[1], SHUT_WR);

	struct fb_opts o = { 0 };
	o.url.implicit = true;
	snprintf(o.url.host, sizeof o.url.host, "imap.example");
	o.url.port = 993;
	snprintf(o.url.user, sizeof o.url.user, "%s",
		 data[0] & 1 ? "user@example.org" : "us\"er");
	o.password = data[0] & 2 ? "pa ss\"word" : "secret";
	o.timeout = 0.05;
	o.interval = 0.01;
	o.token_header = FB_TOKEN_HEADER;
	o.token = "tok-123.abc";

	struct fetchback fb;
	fb_run_fd(&o, &fb, sv[0]);
	struct diag_list l = { 0 };
	fb_judge(&fb.h, "mail.example", &l);
	diag_list_free(&l);
	FILE *null = fopen("/dev/null", "w");
	if (null) {
		fetchback_text(null, &fb, data[0] & 4);
		fclose(null);
	}
	struct buf b = { 0 };
	fetchback_json(&b, &fb);
	buf_free(&b);
	fetchback_free(&fb);
	close(sv[0]);
	close(sv[1]);
	return 0;
}

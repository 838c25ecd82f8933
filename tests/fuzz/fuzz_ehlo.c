/*
 * fuzz_ehlo.c - libFuzzer: EHLO capabilities (caps_parse) on a reply
 * built from the input: each input line becomes "250-line", the last
 * "250 line", fed through the reply parser as the session would.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/reply.h"
#include "../../src/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct replyparser rp = { 0 };
	enum rp_status st = RP_MORE;
	size_t start = 0;

	while (start <= size && st == RP_MORE) {
		const uint8_t *nl = memchr(data + start, '\n', size - start);
		size_t end = nl ? (size_t)(nl - data) : size;
		bool last = !nl;
		char *text = line_cstr((const char *)data + start, end - start);
		char *line = xasprintf("250%c%s", last ? ' ' : '-', text);
		free(text);
		st = rp_feed(&rp, line);
		free(line);
		start = end + 1;
	}
	if (st == RP_DONE) {
		struct reply r;
		struct caps c;
		rp_take(&rp, &r);
		memset(&c, 0, sizeof c);
		caps_parse(&c, &r);
		/* the mechanisms list is a C string within its array */
		if (!memchr(c.mechs, '\0', sizeof c.mechs) ||
		    !memchr(c.domain, '\0', sizeof c.domain))
			abort();
		(void)caps_has_mech(&c, "PLAIN");
		(void)caps_has_mech(&c, "SCRAM-SHA-256-PLUS");
		(void)caps_has_mech(&c, "");
		reply_free(&r);
	}
	rp_reset(&rp);
	return 0;
}

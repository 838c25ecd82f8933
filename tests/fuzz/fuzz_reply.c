/*
 * fuzz_reply.c - libFuzzer: the line reader and the reply parser
 * (src/reply.h) on a server byte stream, cut into chunks the way reads
 * would cut it.  The first input byte picks the chunk size.
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
	struct linereader lr = { 0 };
	struct replyparser rp = { 0 };
	size_t chunk = size ? (size_t)data[0] % 64 + 1 : 1;
	bool stop = false;

	for (size_t off = size ? 1 : 0; off < size && !stop;) {
		size_t k = size - off < chunk ? size - off : chunk;
		buf_add(&lr.in, data + off, k);
		off += k;
		for (;;) {
			char *line;
			size_t len;
			int got = lr_getline(&lr, &line, &len);
			if (got < 0) {
				stop = true;	/* line too long: the session stops */
				break;
			}
			if (got == 0)
				break;
			char *c = line_cstr(line, len);
			free(line);
			enum rp_status st = rp_feed(&rp, c);
			free(c);
			if (st == RP_DONE) {
				struct reply r;
				rp_take(&rp, &r);
				char *j = reply_joined(&r);
				char *f = reply_first_line(&r);
				char *v = vis_escape(j, strlen(j));
				(void)reply_has(&r, "STARTTLS");
				(void)code_describe(r.code);
				(void)enh_describe(&r.enh);
				free(j);
				free(f);
				free(v);
				reply_free(&r);
			} else if (st != RP_MORE) {
				rp_reset(&rp);
				stop = true;
				break;
			}
		}
	}
	rp_reset(&rp);
	lr_free(&lr);
	return 0;
}

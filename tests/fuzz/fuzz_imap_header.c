/*
 * fuzz_imap_header.c - libFuzzer: the fetched message header taken apart
 * (fb_header_parse: folded fields, the Received chain and its dates,
 * Authentication-Results, spam headers) and judged (fb_judge).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/imap.h"
#include "../../src/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fb_header h;
	fb_header_parse((const char *)data, size, &h);
	struct diag_list l = { 0 };
	fb_judge(&h, "mail.example", &l);
	diag_list_free(&l);
	fb_header_free(&h);
	char *s = xstrndup((const char *)data, size);
	(void)fb_parse_date(s);
	free(s);
	return 0;
}

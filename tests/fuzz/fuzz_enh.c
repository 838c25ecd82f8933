/*
 * fuzz_enh.c - libFuzzer: the enhanced status code parser (enh_parse) and
 * the words for codes.  The parser must never claim more characters than
 * the string holds, and what it accepts must be a valid RFC 3463 code.
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
	char *s = xstrndup((const char *)data, size);	/* stops at a NUL */
	struct enh_code e = { 0, 0, 0 };
	int used = enh_parse(s, &e);

	if (used < 0 || (size_t)used > strlen(s))
		abort();
	if (used > 0) {
		if (e.cls < 2 || e.cls > 5 || e.subject < 0 || e.detail < 0)
			abort();
		const char *w = enh_describe(&e);
		if (w)
			(void)strlen(w);
		(void)enh_is(&e, 5, 7, 8);
	}
	if (size >= 3) {
		int code = (data[0] % 10) * 100 + (data[1] % 10) * 10 + data[2] % 10;
		const char *w = code_describe(code);
		if (w)
			(void)strlen(w);
	}
	free(s);
	return 0;
}

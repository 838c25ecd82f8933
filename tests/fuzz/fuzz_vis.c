/*
 * fuzz_vis.c - libFuzzer: vis_escape() and json_string(), with their
 * promises as the oracle: vis_escape's result holds only printable ASCII
 * and valid UTF-8 with no C1 control and no bidirectional override;
 * json_string's output is a quoted literal with no raw control byte.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
bad_cp(unsigned cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
	       (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *v = vis_escape((const char *)data, size);
	size_t n = strlen(v);

	for (size_t i = 0; i < n;) {
		unsigned cp;
		int k = utf8_seq((const unsigned char *)v + i, n - i, &cp);
		if (k <= 0 || bad_cp(cp))
			abort();
		i += (size_t)k;
	}

	struct buf b = { 0 };
	json_string(&b, v);
	if (b.len < 2 || b.data[0] != '"' || b.data[b.len - 1] != '"')
		abort();
	for (size_t i = 0; i < b.len; i++)
		if ((unsigned char)b.data[i] < 0x20)
			abort();
	buf_free(&b);

	/* json_string on raw (unescaped) bytes too: no raw control byte out */
	char *raw = xstrndup((const char *)data, size);
	json_string(&b, raw);
	for (size_t i = 0; i < b.len; i++)
		if ((unsigned char)b.data[i] < 0x20)
			abort();
	buf_free(&b);
	free(raw);
	free(v);
	return 0;
}

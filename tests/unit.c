/*
 * unit.c - unit tests of the smtpdx engine (src/), no network, no curses.
 *
 * Prints TAP: "ok N - what" / "not ok N - what" with a "# got ..., expected
 * ..." line after a failure, then "1..N", and as the very last line
 * "P passed, F failed".  Exit 1 if anything failed, 0 otherwise.
 *
 * One translation unit: the sections live in tests/unit_*.c and are
 * included below, so `build/tests/unit: build/tests/unit.o $(ENGINE_OBJ)`
 * is all the Makefile needs.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../src/addr.h"
#include "../src/config.h"
#include "../src/diag.h"
#include "../src/imap.h"
#include "../src/message.h"
#include "../src/options.h"
#include "../src/profile.h"
#include "../src/findfix.h"
#include "../src/provider.h"
#include "../src/reply.h"
#include "../src/sasl.h"
#include "../src/settings.h"
#include "../src/steps.h"
#include "../src/tls.h"
#include "../src/transcript.h"
#include "../src/util.h"

/* ---- a tiny TAP harness -------------------------------------------------- */

static int n_tests, n_failed;

static void
tap_result(bool ok, const char *name)
{
	n_tests++;
	if (!ok)
		n_failed++;
	printf("%s %d - %s\n", ok ? "ok" : "not ok", n_tests, name);
}

/* Safe text for a diagnostic line: no raw control bytes on the terminal. */
static char *
shown(const char *s, size_t n)
{
	return s ? vis_escape(s, n) : xstrdup("(null)");
}

static bool
check_(bool ok, const char *name, const char *expr)
{
	tap_result(ok, name);
	if (!ok)
		printf("# got false, expected true: %s\n", expr);
	return ok;
}

static bool
check_str_(const char *got, const char *want, const char *name)
{
	bool ok = (!got && !want) || (got && want && strcmp(got, want) == 0);
	tap_result(ok, name);
	if (!ok) {
		char *g = shown(got, got ? strlen(got) : 0);
		char *w = shown(want, want ? strlen(want) : 0);
		printf("# got \"%s\", expected \"%s\"\n", g, w);
		free(g);
		free(w);
	}
	return ok;
}

static bool
check_int_(long long got, long long want, const char *name)
{
	bool ok = got == want;
	tap_result(ok, name);
	if (!ok)
		printf("# got %lld, expected %lld\n", got, want);
	return ok;
}

/* Byte strings that may hold NULs. */
static bool
check_mem(const void *got, size_t gotlen, const void *want, size_t wantlen,
	  const char *name)
{
	bool ok = got && gotlen == wantlen && memcmp(got, want, wantlen) == 0;
	tap_result(ok, name);
	if (!ok) {
		char *g = shown(got, gotlen), *w = shown(want, wantlen);
		printf("# got \"%s\" (%zu bytes), expected \"%s\" (%zu bytes)\n",
		       g, gotlen, w, wantlen);
		free(g);
		free(w);
	}
	return ok;
}

static void
skip(const char *name, const char *why)
{
	n_tests++;
	printf("ok %d - %s # skip %s\n", n_tests, name, why);
}

#define CHECK(cond, name) check_(!!(cond), (name), #cond)
#define CHECK_STR(a, b, name) check_str_((a), (b), (name))
#define CHECK_INT(a, b, name) check_int_((long long)(a), (long long)(b), (name))

/* A formatted test name; a few rotating buffers, so several may be live. */
static const char *nm(const char *fmt, ...) PRINTF(1, 2);

static const char *
nm(const char *fmt, ...)
{
	static char bufs[8][320];
	static unsigned k;
	char *b = bufs[k++ % ARRAY_SIZE(bufs)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b, sizeof bufs[0], fmt, ap);
	va_end(ap);
	return b;
}

/* Does s contain needle (NULL-safe)? */
static bool
has(const char *s, const char *needle)
{
	return s && strstr(s, needle) != NULL;
}

/* ---- the sections --------------------------------------------------------- */

#include "unit_reply.c"
#include "unit_util.c"
#include "unit_options.c"
#include "unit_diag.c"
#include "unit_vocab.c"
#include "unit_sasl.c"
#include "unit_regress.c"
#include "unit_replies.c"
#include "unit_settings.c"
#include "unit_provider.c"
#include "unit_addr.c"
#include "unit_middlebox.c"
#include "unit_workshop.c"
#include "unit_profile.c"
#include "unit_imap.c"

int
main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);

	test_reply_parser();
	test_enhanced_codes();
	test_line_reader();
	test_caps();
	test_vis_escape();
	test_vis_format_chars();
	test_json_string();
	test_base64();
	test_strings_and_bufs();
	test_options();
	test_options_merge();
	test_options_password();
	test_options_reentry();
	test_proxy_url();
	test_diag_tree();
	test_diag_warnings();
	test_diag_catalog();
	test_diag_tls_paths();
	test_vocab();
	test_sasl();
	test_transcript();
	test_config_and_steps();
	test_regress();
	test_reply_fits();
	test_sync_tree();
	test_settings();
	test_provider();
	test_addr();
	test_middlebox();
	test_provider_recognise();
	test_workshop();
	test_profile_save();
	test_findfix_codec();
	test_fb_url();
	test_fb_dates();
	test_fb_header();
	test_fb_hostile();

	options_pool_free();
	printf("1..%d\n", n_tests);
	printf("%d passed, %d failed\n", n_tests - n_failed, n_failed);
	return n_failed ? 1 : 0;
}

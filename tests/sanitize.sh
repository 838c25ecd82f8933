#!/bin/sh
# sanitize.sh - smtpdx under AddressSanitizer + UndefinedBehaviorSanitizer
# (clang) and under valgrind memcheck.
#
#  1. builds smtpdx and the unit tests with -fsanitize=address,undefined
#     -fno-sanitize-recover=all into build-asan/ (never mixing with build/);
#  2. runs the unit tests, the whole lab end-to-end suite (tests/e2e.py),
#     the hostile suite (tests/hostile.py), the IMAP servers of
#     --fetch-back (tests/fetchback.py) and, where Postfix can run, the
#     real-MTA suite (tests/mta/mta_test.py) with that binary, leak
#     detection on; every report (also from the lab's forked server
#     processes) goes to build-asan/san.*, and any such file is a failure;
#  3. replays the fuzz seed corpus (tests/fuzz/corpus) through the fuzz
#     targets, when they build (clang with libFuzzer);
#  4. runs every lab scenario under valgrind (the normal ./smtpdx): no
#     error and no definite leak (--error-exitcode=99).
# TAP, and a last line "N passed, M failed, K skipped".
set -u
cd "$(dirname "$0")/.." || exit 3
n=0 pass=0 fail=0 skipped=0
ok() { n=$((n + 1)); pass=$((pass + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $*"; }
check() { desc=$1; shift; if "$@"; then ok "$desc"; else notok "$desc"; fi; }
skip() { n=$((n + 1)); skipped=$((skipped + 1)); echo "ok $n - $1 # SKIP $2"; }
summary() { echo "$pass passed, $fail failed, $skipped skipped"; [ $fail -eq 0 ]; exit $?; }
indent() { sed 's/^/#   /' | head -n "${1:-40}"; }

SAN="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
B=build-asan
# sanitize.sh [asan] [fuzz] [valgrind]: only those parts (default: all
# three; tests/run-all.sh runs them as three suites, side by side)
parts=${*:-asan fuzz valgrind}
want() { case " $parts " in *" $1 "*) return 0 ;; esac; return 1; }

# ---- 1. the sanitizer build --------------------------------------------
if ! want asan && ! want fuzz; then
	:
elif ! command -v clang >/dev/null 2>&1; then
	skip "sanitizer build" "clang is not installed (apt-get install clang)"
else
  if want asan; then
	if out=$(make -s BUILD=$B BIN=$B/smtpdx CC=clang CFLAGS="$SAN" \
			$B/smtpdx $B/tests/unit 2>&1); then
		ok "smtpdx and the unit tests build with clang ASan+UBSan into $B/"
	else
		notok "smtpdx and the unit tests build with clang ASan+UBSan into $B/"
		printf '%s\n' "$out" | indent
		summary
	fi

	# ---- 2. the suites under the sanitizers ------------------------
	rm -f $B/san.*
	export ASAN_OPTIONS="detect_leaks=1:exitcode=86:log_path=$PWD/$B/san:strict_string_checks=1:detect_stack_use_after_return=1"
	export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=86:log_path=$PWD/$B/san"
	export LSAN_OPTIONS="exitcode=86"
	reports() {	# no sanitizer report since the last call
		if ls $B/san.* >/dev/null 2>&1; then
			for f in $B/san.*; do echo "# $f:"; indent 30 < "$f"; done
			mkdir -p $B/reports && mv $B/san.* $B/reports/ 2>/dev/null
			return 1
		fi
		return 0
	}
	out=$(./$B/tests/unit 2>&1); rc=$?
	check "unit tests under ASan+UBSan: $(printf '%s\n' "$out" | tail -n 1)" [ $rc -eq 0 ]
	[ $rc -eq 0 ] || printf '%s\n' "$out" | grep -v '^ok' | indent
	check "unit tests: no sanitizer report" reports

	out=$(SMTPDX=$B/smtpdx python3 tests/e2e.py 2>&1); rc=$?
	check "lab end-to-end under ASan+UBSan: $(printf '%s\n' "$out" | tail -n 1)" [ $rc -eq 0 ]
	[ $rc -eq 0 ] || printf '%s\n' "$out" | grep -v '^ok' | indent
	check "lab end-to-end: no sanitizer report (client or lab server)" reports

	# ASan's shadow memory and red zones: a larger bound, same timeouts
	out=$(SMTPDX=$B/smtpdx HOSTILE_MAX_KIB=$((512 * 1024)) HOSTILE_SLACK=20 \
		python3 tests/hostile.py 2>&1); rc=$?
	check "hostile servers under ASan+UBSan: $(printf '%s\n' "$out" | tail -n 1)" [ $rc -eq 0 ]
	[ $rc -eq 0 ] || printf '%s\n' "$out" | grep -v '^ok' | indent
	check "hostile servers: no sanitizer report" reports

	out=$(SMTPDX=$B/smtpdx HOSTILE_MAX_KIB=$((512 * 1024)) HOSTILE_SLACK=3 \
		python3 tests/sasl_attack.py 2>&1); rc=$?
	check "SASL attack servers under ASan+UBSan: $(printf '%s\n' "$out" | tail -n 1)" [ $rc -eq 0 ]
	[ $rc -eq 0 ] || printf '%s\n' "$out" | grep -v '^ok' | indent
	check "SASL attack servers: no sanitizer report" reports

	out=$(SMTPDX=$B/smtpdx HOSTILE_MAX_KIB=$((512 * 1024)) HOSTILE_SLACK=20 \
		python3 tests/fetchback.py 2>&1); rc=$?
	check "--fetch-back IMAP servers under ASan+UBSan: $(printf '%s\n' "$out" | tail -n 1)" [ $rc -eq 0 ]
	[ $rc -eq 0 ] || printf '%s\n' "$out" | grep -v '^ok' | indent
	check "--fetch-back IMAP servers: no sanitizer report" reports

	# the real Postfix + Dovecot: a private instance (tests/mta/with-mta.sh)
	out=$(SMTPDX=$B/smtpdx sh tests/mta/with-mta.sh python3 tests/mta/mta_test.py 2>&1); rc=$?
	if [ $rc -eq 77 ]; then
		skip "Postfix + Dovecot under ASan+UBSan" "$(printf '%s' "$out" | tr '\n' ' ')"
	else
		check "Postfix + Dovecot under ASan+UBSan: $(printf '%s\n' "$out" | tail -n 1)" [ $rc -eq 0 ]
		[ $rc -eq 0 ] || printf '%s\n' "$out" | grep -v '^ok' | indent
		check "Postfix + Dovecot: no sanitizer report" reports
	fi
	unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS
  fi

	# ---- 3. the fuzz seed corpus, replayed -------------------------
	if ! want fuzz; then
		:
	elif out=$(make -s fuzz-build 2>&1); then
		for t in tests/fuzz/corpus/*/; do
			t=$(basename "$t")
			[ -x build-fuzz/$t ] || { notok "fuzz target $t is built"; continue; }
			out=$(./build-fuzz/$t tests/fuzz/corpus/$t/* 2>&1); rc=$?
			check "fuzz corpus replay: $t ($(ls tests/fuzz/corpus/$t | wc -l) inputs)" [ $rc -eq 0 ]
			[ $rc -eq 0 ] || printf '%s\n' "$out" | grep -E 'ERROR|SUMMARY|Running|#[0-9]' | indent
		done
	else
			printf '%s\n' "$out" | indent 10
		skip "fuzz corpus replay" "the libFuzzer build failed (libclang-rt-14-dev?)"
	fi
fi

# ---- 4. valgrind memcheck ------------------------------------------------
want valgrind || summary
if ! command -v valgrind >/dev/null 2>&1; then
	skip "valgrind" "valgrind is not installed (apt-get install valgrind)"
	summary
fi
[ -x ./smtpdx ] || make -s smtpdx >/dev/null 2>&1
# A scenario of each kind (ASan+UBSan above already runs every one),
# four at a time (many wait on timeouts); VALGRIND_ALL=1: every scenario.
scenarios=$(./smtpdx --lab list | cut -f1)
[ "${VALGRIND_ALL:-0}" = 0 ] && scenarios="ok ok-implicit connect.refused
	greeting.timeout auth.failed auth.requires_tls starttls.injection
	tls.cert_expired rcpt.relay_denied data.rejected proto.line_too_long
	hostile-escapes hostile-endless-reply hostile-drop-tls hostile-trickle-mid"
vg=$(mktemp -d)
# The lab's server processes are forks of smtpdx: followed by valgrind
# but silenced; only the client's verdict counts.
printf '%s\n' $scenarios | xargs -P 4 -I{} sh -c '
	valgrind -q --leak-check=full --errors-for-leak-kinds=definite \
		--show-leak-kinds=definite \
		--error-exitcode=99 --trace-children=no --child-silent-after-fork=yes \
		./smtpdx --lab "$1" --json >/dev/null 2>"$2/$1.log" </dev/null
	echo $? > "$2/$1.rc"' sh {} "$vg"
for sc in $scenarios; do
	rc=$(cat "$vg/$sc.rc" 2>/dev/null || echo 98)
	good=1	# a verdict (0 or 1), and not a word from valgrind
	case $rc in 0|1) ;; *) good=0 ;; esac
	[ -s "$vg/$sc.log" ] && good=0
	check "valgrind: --lab $sc: no memory error, no definite leak (exit $rc)" \
		[ $good = 1 ]
	[ -s "$vg/$sc.log" ] && indent 30 < "$vg/$sc.log"
done
rm -rf "$vg"
summary

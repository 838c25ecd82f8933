#!/bin/sh
# run-all.sh - every test suite of `make check`, in order; the summary of
# each ends in "N passed, M failed", and the last line adds them up.
set -u
cd "$(dirname "$0")/.." || exit 3
total_p=0 total_f=0 total_s=0 status=0

suite() {
	name=$1; shift
	echo "# --- $name"
	out=$("$@" 2>&1); rc=$?
	printf '%s\n' "$out"
	line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
	p=$(printf '%s' "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
	f=$(printf '%s' "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
	[ -n "$p" ] || { p=0; f=1; echo "# $name printed no summary"; }
	k=$(printf '%s' "$line" | sed -nE 's/.* ([0-9]+) skipped.*/\1/p')
	total_p=$((total_p + p)); total_f=$((total_f + f)); total_s=$((total_s + ${k:-0}))
	[ "$rc" -eq 0 ] && [ "$f" -eq 0 ] || status=1
}

suite "layering (src/ has no curses or libedit)" sh tests/layering.sh
suite "unit tests" ./build/tests/unit
suite "lab end-to-end" python3 tests/e2e.py
suite "port advisor (--sweep)" python3 tests/sweep.py
suite "team port policy (--policy)" python3 tests/policy.py
suite "lab command line (list, handout, --lab-server -p)" python3 tests/lab_cli.py
suite "--find-fix" python3 tests/findfix.py
suite "profiles and --password-command" python3 tests/profiles.py
suite "deliverability (--deliverability, dnsmasq + HTTPS)" python3 tests/deliver.py
suite "MX lookup (--mx, dnsmasq)" sh tests/mx.sh
suite "documentation" sh tests/docs.sh
suite "hostile servers" python3 tests/hostile.py
suite "replay: foreign servers' behaviours (replies tied to commands, TLS mode in seconds)" python3 tests/replay.py
suite "SASL attack servers" python3 tests/sasl_attack.py
suite "real MTA: Postfix + Dovecot" sh tests/mta/run.sh
suite "interop: Exim, OpenSMTPD, aiosmtpd, Haraka, replays" sh tests/interop/run.sh
suite "local files, secrets, escaping, lab limits" python3 tests/local.py
suite "secrets never show" sh tests/secrets.sh
suite "sanitizers: ASan+UBSan, valgrind, fuzz corpus" sh tests/sanitize.sh
[ -f tests/tui/run.sh ] && suite "TUI in tmux" sh tests/tui/run.sh
echo "# ---"
echo "all suites: $total_p passed, $total_f failed, $total_s skipped"
exit $status

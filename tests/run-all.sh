#!/bin/sh
# run-all.sh [--fast] - the test suites, several at a time (they mostly
# wait on sockets; TEST_JOBS, default 4, on 2 cores), each one's output
# kept together and printed in a fixed order once it is done.  Every
# suite ends in "N passed, M failed, K skipped" (a suite that cannot run
# here says why and counts as skipped); the last line adds them up:
#
#   all suites: N passed, M failed, K skipped
#
#   (default)  everything: `make check`, what CI runs
#   --fast     the quick tier for every edit: `make test` (layering, unit
#              tests, a slice of the lab end-to-end suite)
#
# A suite that runs past SUITE_TIMEOUT (default 900 s) is stopped and
# counted as failed.  TEST_ONLY="mta tui" runs only the suites named.
set -u
cd "$(dirname "$0")/.." || exit 3
tier=full
[ "${1:-}" = --fast ] && tier=fast
jobs=${TEST_JOBS:-4}
limit=${SUITE_TIMEOUT:-900}
out=$(mktemp -d "${TMPDIR:-/tmp}/smtpdx-tests.XXXXXX") || exit 3
trap 'rm -rf "$out"' EXIT
trap 'exit 130' INT TERM

# `python3` may be a version manager's shim that costs a second or more
# per start on a busy machine: the suites start it hundreds of times, so
# they get the interpreter itself.
real=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
if [ -n "$real" ] && [ -x "$real" ]; then
	mkdir -p "$out/bin" && ln -s "$real" "$out/bin/python3"
	PATH="$out/bin:$PATH"
	export PATH
fi

# id | title | command (longest first: they start first)
if [ $tier = fast ]; then
	suites='layering|layering (src/ has no curses or libedit)|sh tests/layering.sh
unit|unit tests|./build/tests/unit
e2e|lab end-to-end (a slice: each step, TLS, AUTH, a hostile server)|python3 tests/e2e.py ok ok-implicit connect.refused greeting.not_smtp ehlo.rejected starttls.not_offered tls.cert_untrusted tls.cert_hostname_mismatch auth.failed auth.requires_tls mail.auth_required rcpt.relay_denied starttls.injection hostile-escapes'
else
	suites='asan|under ASan+UBSan: unit, lab end-to-end, hostile, Postfix|sh tests/sanitize.sh asan
valgrind|valgrind: every lab scenario|sh tests/sanitize.sh valgrind
tui|TUI in tmux|sh tests/tui/run.sh
secrets|secrets never show|sh tests/secrets.sh
hostile|hostile servers|python3 tests/hostile.py
fetchback|--fetch-back: IMAP servers of our own, hostile ones|python3 tests/fetchback.py
replay|replay: foreign servers, behaviours (replies tied to commands, TLS mode in seconds)|python3 tests/replay.py
e2e|lab end-to-end|python3 tests/e2e.py
mta|real MTA: a private Postfix + Dovecot|sh tests/mta/run.sh
fetchback-mta|--fetch-back: Postfix, Dovecot IMAP, OpenDKIM|sh tests/mta/fetchback.sh
interop|interop: Exim, OpenSMTPD, aiosmtpd, Haraka, smtp-server, replays|sh tests/interop/run.sh
local|local files, secrets, escaping, lab limits|python3 tests/local.py
message|the message, DSN, REQUIRETLS, BDAT on the wire|python3 tests/message.py
sasl|SASL attack servers|python3 tests/sasl_attack.py
sweep|port advisor (--sweep)|python3 tests/sweep.py
netpat|port advisor on filtering networks|python3 tests/netpat.py
middlebox|middleboxes: ASA inspection, TLS interception, providers by greeting|python3 tests/middlebox.py
deliver|deliverability (--deliverability, dnsmasq + HTTPS)|python3 tests/deliver.py
policy|team port policy (--policy)|python3 tests/policy.py
proxy|--proxy: SOCKS5 and HTTP CONNECT proxies of our own|python3 tests/proxy.py
clientauth|client certificates, EXTERNAL, OAUTHBEARER and XOAUTH2|python3 tests/clientauth.py
labcli|lab command line (list, handout, --lab-server -p)|python3 tests/lab_cli.py
card|lab server: report cards, --lab all|python3 tests/report_card.py
workshop|the lab as a workshop: goals, fix-it fixes pass, mystery refused in batch|python3 tests/workshop.py
findfix|--find-fix|python3 tests/findfix.py
profiles|profiles and --password-command|python3 tests/profiles.py
mx|MX lookup (--mx, dnsmasq)|sh tests/mx.sh
fuzz|fuzz corpus replayed (libFuzzer, ASan)|sh tests/sanitize.sh fuzz
docs|documentation|sh tests/docs.sh
unit|unit tests|./build/tests/unit
layering|layering (src/ has no curses or libedit)|sh tests/layering.sh'
fi
if [ -n "${TEST_ONLY:-}" ]; then
	suites=$(printf '%s\n' "$suites" | while IFS='|' read -r id rest; do
		case " $TEST_ONLY " in *" $id "*) echo "$id|$rest" ;; esac; done)
fi
[ -f tests/tui/run.sh ] || suites=$(printf '%s\n' "$suites" | grep -v '^tui|')

# As root, every suite in a network namespace of its own (tests/netns.sh):
# a loopback no other suite, helper or daemon shares, so a port a test
# closed on purpose ("connection refused") cannot be taken by a neighbour,
# and 25/465/587/2525 are free.  (Not as a mapped root in a user
# namespace: the suites that need real root would be misled.)
wrap=""
if [ "$(id -u)" = 0 ] && [ -z "${TEST_NO_NETNS:-}" ] && sh tests/netns.sh --probe 2>/dev/null; then
	wrap="sh tests/netns.sh"
fi

t0=$(date +%s)
printf '%s\n' "$suites" > "$out/list"
ids=$(cut -d'|' -f1 "$out/list")

# the pool: start while fewer than $jobs run; a suite is done when its
# .rc file exists
running() { c=0; for i in $ids; do [ -f "$out/$i.start" ] && [ ! -f "$out/$i.rc" ] && c=$((c + 1)); done; echo $c; }
while IFS='|' read -r id title cmd; do
	while [ "$(running)" -ge "$jobs" ]; do sleep 0.2; done
	date +%s > "$out/$id.start"
	( s=$(date +%s)
	  # shellcheck disable=SC2086
	  w=$wrap
	  # interop fetches Exim/OpenSMTPD .debs and Haraka (apt, npm) on its
	  # first run: it needs the machine's network, and makes its own
	  # namespaces for its servers
	  [ "$id" = interop ] && w=""
	  timeout -k 10 "$limit" $w $cmd </dev/null >"$out/$id.out" 2>&1
	  rc=$?
	  [ $rc -eq 124 ] && echo "# stopped: still running after $limit s (SUITE_TIMEOUT)" >>"$out/$id.out"
	  echo $(($(date +%s) - s)) > "$out/$id.secs"
	  echo $rc > "$out/$id.rc" ) &
done < "$out/list"
wait

total_p=0 total_f=0 total_k=0 status=0
while IFS='|' read -r id title cmd; do
	echo "# --- $title ($(cat "$out/$id.secs") s)"
	cat "$out/$id.out"
	rc=$(cat "$out/$id.rc")
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out/$id.out" | tail -n 1)
	if [ -n "$line" ]; then
		p=$(printf '%s' "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
		f=$(printf '%s' "$line" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
		k=$(printf '%s' "$line" | sed -nE 's/.*, ([0-9]+) skipped.*/\1/p')
		[ -n "$k" ] || k=0
	else
		p=0 f=1 k=0
		echo "# $id printed no summary (exit $rc): counted as 1 failed"
	fi
	total_p=$((total_p + p)) total_f=$((total_f + f)) total_k=$((total_k + k))
	[ "$rc" -eq 0 ] && [ "$f" -eq 0 ] || status=1
done < "$out/list"
echo "# --- $(wc -l < "$out/list") suites, $jobs at a time${wrap:+, each in a network namespace of its own}, $(($(date +%s) - t0)) s"
echo "all suites: $total_p passed, $total_f failed, $total_k skipped"
exit $status

#!/bin/sh
# run.sh - the TUI in real terminals: tmux sessions run `smtpdx --lab ...`,
# keys go in with send-keys, screens come back with capture-pane, and each
# test asserts what a person would look for.  Every wait polls the screen
# until the expected text is there (TUI_WAIT, 30 s, at most); nothing rests on sleep.
#
# Output: TAP lines ("ok N - ...", "not ok N - ..."), then "N passed, M
# failed".  Exit status 1 if any test failed.  A failing test leaves the
# screen it saw in the output, as comments.
set -u
cd "$(dirname "$0")/../.." || exit 3

BIN=${SMTPDX_BIN:-./smtpdx}
SOCK=smtpdx-tui-$$
TMP=$(mktemp -d "${TMPDIR:-/tmp}/smtpdx-tui.XXXXXX")
WAIT=${TUI_WAIT:-30}
n=0 pass=0 fail=0 skipped=0

# The tmux client prints UTF-8 only when it believes the locale allows it.
export LC_ALL=C.UTF-8
unset TMUX
export HOME="$TMP/home" XDG_STATE_HOME="$TMP/state"
mkdir -p "$HOME" "$XDG_STATE_HOME"

cleanup() {
	tmux -L "$SOCK" kill-server 2>/dev/null
	for pid in ${LAB_PIDS:-}; do
		kill "$pid" 2>/dev/null
	done
	if [ -n "${DLV_PID:-}" ]; then
		kill "$DLV_PID" 2>/dev/null
		wait "$DLV_PID" 2>/dev/null
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

T() { tmux -u -L "$SOCK" "$@"; }

# start NAME COLSxROWS ENV... -- ARGS...: smtpdx in a new tmux session.
# When it exits the pane says "EXITED <status>" and stays.
start() {
	name=$1 size=$2
	shift 2
	envs=""
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do
		envs="$envs $1"
		shift
	done
	[ $# -gt 0 ] && shift
	T kill-session -t "$name" 2>/dev/null || true
	T new-session -d -s "$name" -x "${size%x*}" -y "${size#*x}" \
		"env -u LC_ALL -u NO_COLOR TERM=xterm-256color LANG=C.UTF-8 \
		HOME=$HOME XDG_STATE_HOME=$XDG_STATE_HOME $envs ${IN_NS:-} $BIN $*; \
		echo EXITED \$?; sleep 60"
}

screen() { T capture-pane -p -t "$1"; }
keys() { s=$1; shift; T send-keys -t "$s" "$@"; }
text() { T send-keys -t "$1" -l "$2"; }

# wait_for SESSION TEXT: poll the screen until TEXT (fixed string) shows.
wait_for() {
	i=0
	while [ $i -lt $((WAIT * 10)) ]; do
		if screen "$1" | grep -qF -- "$2"; then
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	echo "# timed out waiting for: $2"
	return 1
}

# wait_re SESSION REGEX: the same with an extended regular expression.
wait_re() {
	i=0
	while [ $i -lt $((WAIT * 10)) ]; do
		if screen "$1" | grep -qE -- "$2"; then
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	echo "# timed out waiting for /$2/"
	return 1
}

has() {
	screen "$1" | grep -qF -- "$2" && return 0
	echo "# not on the screen: $2"
	return 1
}
lacks() {
	screen "$1" | grep -qF -- "$2" || return 0
	echo "# on the screen, and should not be: $2"
	return 1
}
screen_has() { screen "$1" | grep -qF -- "$2"; }
# seek SESSION TEXT: move the selection down from the top of the
# transcript until TEXT is on the screen (80 lines at most)
seek() {
	keys "$1" Home
	i=0
	while ! screen_has "$1" "$2" && [ $i -lt 80 ]; do
		keys "$1" Down
		i=$((i + 1))
		sleep 0.05
	done
	has "$1" "$2"
}
# "! cmd" does not stop a `set -e` body; "not cmd" does.
not() { ! "$@"; }
ESC=$(printf '\033')
# SGR codes that set a colour (not attributes, not the default colour)
COLOR_SGR="$ESC\\[[0-9;]*(3[0-7]|4[0-7]|38;5|48;5|38;2|48;2)[;m]"

# result SESSION DESCRIPTION STATUS
result() {
	n=$((n + 1))
	if [ "$3" -eq 0 ]; then
		pass=$((pass + 1))
		echo "ok $n - $2"
	else
		fail=$((fail + 1))
		echo "not ok $n - $2"
		screen "$1" 2>/dev/null | sed 's/^/#   |/'
	fi
	T kill-session -t "$1" 2>/dev/null
	return 0
}

# check SESSION DESCRIPTION: run the test body given on stdin as a
# function; used as: t_foo() { ...; }; check s "desc" t_foo
check() {
	s=$1 desc=$2 fn=$3
	# TUI_ONLY="s3 s7" runs only those
	case " ${TUI_ONLY:-$s} " in *" $s "*) ;; *) return 0 ;; esac
	( set -e; $fn "$s" ) >"$TMP/out" 2>&1
	rc=$?
	grep '^#' "$TMP/out" || true
	result "$s" "$desc" $rc
}

if ! command -v tmux >/dev/null 2>&1; then
	echo "not ok 1 - tmux is installed (tools/deps.sh test installs it)"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi
if [ ! -x "$BIN" ]; then
	echo "not ok 1 - ./smtpdx is built"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi

# The words the catalog has for a diagnosis, so the tests follow the
# catalog instead of copying it.
# (the first words only: a long title may wrap in a narrow region)
diag_title() {
	$BIN --list-diagnoses | awk -F '\t' -v id="$1" '$1 == id {
		n = split($2, w, " "); s = w[1]
		for (i = 2; i <= n && i <= 4; i++) s = s " " w[i]
		print s }'
}
diag_field() {
	$BIN --json --lab "$1" 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)["diagnoses"][0]
print(" ".join(d[sys.argv[1]].split()[:int(sys.argv[2])]))' "$2" "$3"
}

STEPS="resolve connect greeting ehlo starttls tls ehlo_tls auth mail rcpt data quit"

# ---------------------------------------------------------------------------

t_startup() {
	start "$1" 80x24 -- --lab ok
	wait_for "$1" "Press n to run the next step"
	has "$1" "r to run to the end"
	has "$1" "Nothing sent yet"
	has "$1" "ready"
	# the plan: every step there, pending, none done; the first is next
	has "$1" "› resolve"
	for st in $STEPS; do
		[ "$st" = resolve ] || has "$1" "· $st"
	done
	lacks "$1" "✓"
}
check s1 "start-up at 80x24 shows the plan, all steps pending, and the hint" t_startup

t_next() {
	start "$1" 80x24 -- --lab ok
	wait_for "$1" "Nothing sent yet"
	keys "$1" n
	wait_for "$1" "✓ resolve"
	wait_for "$1" "paused"
	has "$1" "› connect"
	has "$1" "· greeting"
	has "$1" "resolving 127.0.0.1"
	keys "$1" Space
	wait_for "$1" "✓ connect"
	has "$1" "› greeting"
}
check s2 "n and space run one step at a time" t_next

t_run_ok() {
	start "$1" 132x43 -- --lab ok
	wait_for "$1" "Nothing sent yet"
	keys "$1" r
	wait_for "$1" "PASSED"
	for st in $STEPS; do has "$1" "✓ $st"; done
	has "$1" "250 2.0.0 Ok: queued"
	has "$1" "It works"
	seek "$1" "≈ S← 250-AUTH"
	keys "$1" Home
	wait_for "$1" "C→ EHLO client.smtpdx.lab"
	has "$1" "S← 220 "
	keys "$1" q
	wait_for "$1" "EXITED 0"
}
check s3 "r on the ok lab: every step ✓, the queued reply, exit status 0" t_run_ok

t_auth_failed() {
	title=$(diag_title auth.failed)
	fix=$(diag_field auth.failed fix 4)
	[ -n "$title" ] && [ -n "$fix" ]
	start "$1" 132x43 -- --lab auth.failed
	wait_for "$1" "Nothing sent yet"
	keys "$1" r
	wait_for "$1" "FAILED: auth.failed"
	has "$1" "✗ auth"
	has "$1" "– mail"
	has "$1" "$title"
	has "$1" "$fix"
	has "$1" "Evidence"
	screen "$1" | grep -A2 Evidence | grep -qF "535"
	has "$1" "Decision path"
	has "$1" "Which step failed? → auth"
	keys "$1" q
	wait_for "$1" "EXITED 1"
}
check s4 "r on auth.failed: the diagnosis title, the fix, the 535 evidence, the path, exit 1" t_auth_failed

t_help() {
	start "$1" 80x24 -- --lab ok
	wait_for "$1" "Nothing sent yet"
	keys "$1" ?
	wait_for "$1" "Run the session"
	has "$1" "run the next step"
	has "$1" "run to the end"
	has "$1" "start over"
	keys "$1" Escape
	wait_for "$1" "Nothing sent yet"
	lacks "$1" "Run the session"
}
check s5 "? shows the key map, Esc closes it" t_help

t_cmdline() {
	start "$1" 132x43 -- --lab ok
	wait_for "$1" "Nothing sent yet"
	for st in resolve connect greeting ehlo; do
		keys "$1" n
		wait_for "$1" "✓ $st"
	done
	keys "$1" :
	text "$1" "rc"
	keys "$1" Tab
	wait_re "$1" "^: RCPT TO:"
	text "$1" "<x@y>"
	keys "$1" Enter
	wait_for "$1" "503"
	wait_for "$1" "bad sequence of commands"
	has "$1" "C→ RCPT TO:<x@y>"
	has "$1" "Your command"
	# history: the line comes back with Up, and is in the file
	keys "$1" :
	keys "$1" Up
	wait_re "$1" "^: RCPT TO:<x@y>"
	keys "$1" Escape
	wait_for "$1" "n next step"
	# (libedit's file is vis(3)-encoded: a space is \040)
	grep -q 'RCPT.*TO:<x@y>' "$XDG_STATE_HOME/smtpdx/history"
	# AUTH is refused on the raw line, and never kept
	keys "$1" :
	text "$1" "AUTH PLAIN c2VjcmV0"
	keys "$1" Enter
	wait_for "$1" "belongs to its own step"
	not grep -qi "AUTH" "$XDG_STATE_HOME/smtpdx/history"
}
check s6 ": sends RCPT before MAIL: the 503 and its words; completion; history without AUTH" t_cmdline

# Issue 9 §1: raw commands are part of the session's model.  The user's
# own MAIL FROM opens a transaction; the 503 the AUTH step then gets is
# explained as that, not as "the server does not offer login".
t_raw_txn() {
	title=$(diag_title auth.bad_sequence)
	wrong=$(diag_title auth.not_offered)
	start "$1" 132x43 -- --lab ok
	wait_for "$1" "Nothing sent yet"
	for st in resolve connect greeting ehlo starttls tls; do
		keys "$1" n
		wait_for "$1" "✓ $st"
	done
	keys "$1" n
	wait_re "$1" "✓ ehlo.*(tls|TLS)"
	keys "$1" :
	text "$1" "MAIL FROM:<alice@smtpdx.lab>"
	keys "$1" Enter
	wait_for "$1" "250 2.1.0"
	keys "$1" n
	wait_for "$1" "$title"
	lacks "$1" "$wrong"
}
check s6b ": MAIL FROM, then AUTH: the 503 is the open transaction, not AUTH missing" t_raw_txn

t_resize() {
	title=$(diag_title auth.failed)
	start "$1" 132x43 -- --lab auth.failed
	wait_for "$1" "Nothing sent yet"
	keys "$1" r
	wait_for "$1" "$title"
	T resize-window -t "$1" -x 80 -y 24
	wait_for "$1" "FAILED: auth.failed"
	has "$1" "✗ auth"
	has "$1" "3 Diagnosis"
	# the stacked layout puts the fix in view at this height
	has "$1" "Fix"
	T resize-window -t "$1" -x 132 -y 43
	wait_for "$1" "Decision path"
	has "$1" "$title"
	has "$1" "✗ auth"
	has "$1" "CHUNKING"
}
check s7 "resize 132x43 -> 80x24 -> 132x43 keeps the session and its diagnosis" t_resize

t_no_color() {
	start "$1" 100x30 NO_COLOR=1 -- --lab ok
	wait_for "$1" "Nothing sent yet"
	keys "$1" r
	wait_for "$1" "PASSED"
	has "$1" "✓ quit"
	# no colour at all: no SGR foreground or background codes
	T capture-pane -e -p -t "$1" >"$TMP/sgr"
	grep -qF "$ESC[" "$TMP/sgr"	# the capture does carry attributes
	not grep -qE "$COLOR_SGR" "$TMP/sgr"
}
check s8 "NO_COLOR=1: works, and the screen holds no colour codes" t_no_color

t_color() {
	start "$1" 100x30 -- --lab ok
	wait_for "$1" "Nothing sent yet"
	keys "$1" r
	wait_for "$1" "PASSED"
	T capture-pane -e -p -t "$1" | grep -qE "$COLOR_SGR"
}
check s9 "with colours allowed, the screen uses them (the NO_COLOR test can fail)" t_color

t_vt100() {
	start "$1" 80x24 TERM=vt100 LANG=C -- --lab auth.failed
	wait_for "$1" "Nothing sent yet"
	keys "$1" r
	wait_for "$1" "FAILED"
	has "$1" "+ resolve"
	has "$1" "x auth"
	has "$1" "- mail"
	has "$1" "S< 221"
	# nothing but ASCII on the screen
	screen "$1" >"$TMP/ascii"
	not env LC_ALL=C grep -q '[^ -~]' "$TMP/ascii"
}
check s10 "TERM=vt100 LANG=C: ASCII marks (+ x - S<), no byte outside ASCII" t_vt100

t_password() {
	secret="lab-Secret-42"
	start "$1" 100x30 -- --lab ok --auth plain
	wait_for "$1" "Nothing sent yet"
	# clear the password in the form: the session asks for it, unechoed
	keys "$1" e
	wait_for "$1" "Settings"
	for i in 1 2 3 4 5; do keys "$1" Down; done
	keys "$1" C-u C-s
	wait_for "$1" "What you type is not shown"
	text "$1" "$secret"
	sleep 0.3
	lacks "$1" "$secret"
	lacks "$1" "lab-"
	keys "$1" Enter
	wait_for "$1" "Nothing sent yet"
	keys "$1" r
	wait_for "$1" "PASSED"
	lacks "$1" "$secret"
	keys "$1" v
	wait_for "$1" "teaching view"
	keys "$1" Home
	wait_for "$1" "resolving"
	i=0
	while not screen_has "$1" "hidden" && [ $i -lt 80 ]; do
		keys "$1" Down
		i=$((i + 1))
		sleep 0.05
	done
	has "$1" "hidden"
	lacks "$1" "$secret"
	# the settings form masks it too
	keys "$1" e
	wait_for "$1" "Settings"
	has "$1" "(unchanged)"
	lacks "$1" "$secret"
}
check s11 "the password is asked without echo and never shown (prompt, transcript, teaching view, form)" t_password

t_save() {
	start "$1" 100x30 -- --lab auth.failed --auth plain
	wait_for "$1" "Nothing sent yet"
	keys "$1" r
	wait_for "$1" "FAILED"
	keys "$1" s
	wait_for "$1" "Save the transcript"
	keys "$1" C-u
	text "$1" "$TMP/saved.txt"
	keys "$1" Enter
	wait_for "$1" "Saved"
	grep -qF "<redacted>" "$TMP/saved.txt"
	grep -qF "535 5.7.8" "$TMP/saved.txt"
	grep -qF "auth.failed" "$TMP/saved.txt"
	not grep -qF "$ESC" "$TMP/saved.txt"
	not grep -qF "lab-Secret-42" "$TMP/saved.txt"
}
check s12 "s saves the redacted transcript and diagnosis, without colour codes" t_save

t_tabs() {
	start "$1" 70x20 -- --lab auth.failed
	wait_for "$1" "Nothing sent yet"
	has "$1" "1 Steps"
	has "$1" "2 Transcript"
	has "$1" "3 Decision tree"
	keys "$1" r
	# one region at a time: at the end the diagnosis comes forward
	wait_for "$1" "$(diag_title auth.failed)"
	keys "$1" 1
	wait_for "$1" "✗ auth"
	keys "$1" Tab
	wait_for "$1" "S← 221 2.0.0 Bye"
}
check s13 "below 80 columns: one region at a time, Tab and 1 2 3 switch" t_tabs

t_small() {
	start "$1" 50x12 -- --lab ok
	wait_for "$1" "Terminal too small"
	T resize-window -t "$1" -x 100 -y 30
	wait_for "$1" "Nothing sent yet"
	keys "$1" q
	wait_for "$1" "EXITED 0"
}
check s14 "a terminal too small says so, and recovers when it grows" t_small

t_cancel() {
	start "$1" 100x30 -- --lab greeting.timeout
	wait_for "$1" "Nothing sent yet"
	keys "$1" n
	wait_for "$1" "✓ resolve"
	keys "$1" n
	wait_for "$1" "✓ connect"
	keys "$1" n
	wait_for "$1" "greeting: waiting"
	wait_re "$1" "waiting [0-9]+\.[0-9] s of [0-9]+ s"
	keys "$1" Escape
	wait_for "$1" "✗ greeting"
	has "$1" "cancelled"
}
check s15 "a waiting step shows its clock against the timeout; Esc cancels it" t_cancel

t_explain() {
	start "$1" 132x43 -- --lab ok
	wait_for "$1" "Nothing sent yet"
	keys "$1" r
	wait_for "$1" "PASSED"
	keys "$1" Up
	keys "$1" Enter
	wait_for "$1" "explained"
	has "$1" "221: service closing the connection"
	has "$1" "Answers"
	keys "$1" Escape
	keys "$1" Home Down Down Down Down Down
	wait_for "$1" "6/"
	keys "$1" Enter
	wait_for "$1" "explained"
	has "$1" "Asks"
	has "$1" "extensions"
}
check s16 "Enter explains the selected line: reply codes and client commands" t_explain

# Issue 9 §1: under PIPELINING, MAIL's 250 arrives after DATA went out; the
# teaching view reads which command a reply answers from the session, not
# from the line above it.
t_explain_pipe() {
	start "$1" 132x43 -- --lab ok
	wait_for "$1" "Nothing sent yet"
	keys "$1" r
	wait_for "$1" "PASSED"
	# the line's position, from the same scenario's JSON transcript
	idx=$($BIN --lab ok --json | python3 -c 'import json, sys
tr = json.load(sys.stdin)["transcript"]
print(next(i for i, l in enumerate(tr) if l["text"].startswith("250 2.1.0")))')
	keys "$1" Home
	i=0
	while [ "$i" -lt "$idx" ]; do keys "$1" Down; i=$((i + 1)); done
	wait_for "$1" "$((idx + 1))/"
	keys "$1" Enter
	wait_for "$1" "explained"
	wait_re "$1" "Answers +MAIL FROM:<"
	lacks "$1" "Answers   DATA"
}
check s16b "under PIPELINING, MAIL's 250 answers MAIL FROM, not DATA" t_explain_pipe

t_tls() {
	start "$1" 132x43 -- --lab tls.cert_hostname_mismatch
	wait_for "$1" "Nothing sent yet"
	keys "$1" r
	wait_for "$1" "FAILED"
	keys "$1" t
	wait_for "$1" "TLS details"
	has "$1" "NOT verified"
	has "$1" "other.example.net"
	has "$1" "SHA-256"
	has "$1" "Certificate 1 of"
}
check s17 "t shows the certificate chain and why it failed" t_tls

t_break() {
	start "$1" 100x30 -- --lab ok
	wait_for "$1" "Nothing sent yet"
	keys "$1" e
	wait_for "$1" "Settings"
	keys "$1" Down Down Right
	wait_for "$1" "implicit"
	keys "$1" C-s
	wait_for "$1" "New settings"
	has "$1" "implicit TLS"
	keys "$1" r
	wait_for "$1" "FAILED"
	has "$1" "✗ tls"
}
check s18 "e breaks the session: implicit TLS on a STARTTLS port fails at the tls step" t_break

t_hostile() {
	start "$1" 132x43 -- --lab hostile-escapes
	wait_for "$1" "Nothing sent yet"
	T select-pane -t "$1" -T "before"
	keys "$1" r
	wait_for "$1" "PASSED"
	# the escapes show as text; none reached the terminal
	has "$1" '\x1b]0;pwned\x07'
	[ "$(T display-message -p -t "$1" '#{pane_title}')" = "before" ]
	has "$1" "✓ quit"
	has "$1" "smtpdx "
}
check s19 "hostile replies (terminal escapes, NUL, bad UTF-8) are shown as text, never obeyed" t_hostile

t_terms() {
	for term in vt220 xterm screen tmux-256color; do
		[ -n "$(find /usr/share/terminfo /lib/terminfo /etc/terminfo \
			-name "$term" 2>/dev/null | head -n 1)" ] || continue
		start "$1" 100x30 TERM=$term -- --lab ok
		wait_for "$1" "Nothing sent yet"
		keys "$1" r
		wait_for "$1" "PASSED"
		has "$1" "✓ quit"
		keys "$1" q
		wait_for "$1" "EXITED 0"
	done
}
check s20 "TERM=vt220, xterm, screen, tmux-256color: each runs the session and quits cleanly" t_terms

# ---------------------------------------------------------------------------
# The port advisor's sweep screen (--sweep), against lab listeners on
# loopback as tests/sweep.py sets them up: one per behaviour, each
# `smtpdx --lab NAME --lab-server CAFILE`, which prints its port and
# serves until SIGTERM.  Stopped by PID at the end.

SWEEP_TESTS="w1 w2 w3 w4 w5"
LAB_PIDS=""
sweep_wanted() {
	for s in $SWEEP_TESTS; do
		case " ${TUI_ONLY:-$s} " in *" $s "*) return 0 ;; esac
	done
	return 1
}

# lab_listen NAME: start one, set LAB_PORT to its port
lab_listen() {
	"$BIN" --lab "$1" --lab-server "$TMP/ca-$1.pem" >"$TMP/port-$1" \
		2>/dev/null </dev/null &
	LAB_PIDS="$LAB_PIDS $!"
	i=0
	while [ ! -s "$TMP/port-$1" ] && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	LAB_PORT=$(head -n 1 "$TMP/port-$1")
}

labs_stop() {
	for pid in $LAB_PIDS; do
		kill "$pid" 2>/dev/null
	done
	for pid in $LAB_PIDS; do
		wait "$pid" 2>/dev/null
	done
	LAB_PIDS=""
}

if sweep_wanted; then
	lab_listen ok; P_STARTTLS=$LAB_PORT
	lab_listen ok-implicit; P_IMPLICIT=$LAB_PORT
	lab_listen connect.refused; P_REFUSED=$LAB_PORT
	lab_listen greeting.timeout; P_SILENT=$LAB_PORT
	lab_listen greeting.not_smtp; P_HTTP=$LAB_PORT
	cat "$TMP"/ca-*.pem >"$TMP/ca-all.pem"
	PORTS="$P_STARTTLS,$P_IMPLICIT,$P_REFUSED,$P_SILENT,$P_HTTP"
	# the session Enter starts logs in as the lab's user, so that it
	# may send (the sweep itself never uses credentials)
	SWEEP_ARGS="--sweep 127.0.0.1 --ports $PORTS --cafile $TMP/ca-all.pem \
		--servername mail.smtpdx.lab --timeout 4 -u alice"
	SWEEP_ENV="SMTPDX_PASSWORD=lab-Secret-42"
fi

# rows SESSION MARK: every port's row shows its mark and what it speaks
# (MARK: "✓ ✗" or, in ASCII, "+ x"); the recommended one has its star
rows() {
	ok=${2%% *} bad=${2##* } star=${3:-★}
	wait_re "$1" "$ok$star? +$P_IMPLICIT +tls +implicit"
	wait_re "$1" "$ok +$P_STARTTLS +smtp +STARTTLS +TLS1\.3"
	wait_re "$1" "$bad +$P_REFUSED +nothing"
	wait_re "$1" "$bad +$P_SILENT +nothing"
	wait_re "$1" "$bad +$P_HTTP +other"
}
has_re() {
	screen "$1" | grep -qE -- "$2" && return 0
	echo "# not on the screen: /$2/"
	return 1
}

t_sweep_80() {
	start "$1" 80x24 $SWEEP_ENV -- $SWEEP_ARGS
	# while the silent port waits: its row still probing, the clock
	wait_re "$1" "probing [0-9]\.[0-9] s of 4 s"
	has_re "$1" "· +$P_SILENT"
	rows "$1" "✓ ✗"
	# the silent port's verdict took the one timeout
	wait_for "$1" "use port $P_IMPLICIT, implicit TLS"
	has_re "$1" "✗ +$P_SILENT +nothing .* [4-9]\.[0-9][0-9]s"
	# the recommendation in words: the implicit-TLS port, as sweep.py
	has "$1" "Use port $P_IMPLICIT with implicit TLS"
	has "$1" "RFC 8314"
	# the recommended row is the selected one: Enter runs it
	has_re "$1" "›✓★ +$P_IMPLICIT"
	keys "$1" Enter
	wait_for "$1" "127.0.0.1:$P_IMPLICIT"
	has "$1" "implicit TLS"
	has "$1" "Nothing sent yet"
	keys "$1" r
	wait_for "$1" "PASSED"
	has "$1" "✓ quit"
	has "$1" "✓ auth"
	has "$1" "✓ tls"
	# w: back to the ports, as they were; b: back to the session
	keys "$1" w
	wait_for "$1" "use port $P_IMPLICIT"
	rows "$1" "✓ ✗"
	keys "$1" b
	wait_for "$1" "PASSED"
	keys "$1" Escape
	wait_for "$1" "use port $P_IMPLICIT"
	keys "$1" q
	wait_for "$1" "EXITED 0"
}
check w1 "--sweep at 80x24: a row per port with its mark and what it speaks, the implicit-TLS port recommended; Enter, r runs it to ✓; w and b go back and forth" t_sweep_80

t_sweep_132() {
	start "$1" 132x43 $SWEEP_ENV -- $SWEEP_ARGS
	rows "$1" "✓ ✗"
	wait_for "$1" "use port $P_IMPLICIT, implicit TLS"
	has "$1" "ports $PORTS"
	# two panes: the recommendation, and the selected port
	has "$1" "Recommendation"
	has "$1" "Port $P_IMPLICIT"
	has "$1" "How the verdict was reached"
	has "$1" "The other ports"
	for id in connect.refused greeting.timeout greeting.not_smtp; do
		has "$1" "($id)"
	done
	has "$1" "AUTH inside TLS"
	has_re "$1" "$P_IMPLICIT +tls +implicit TLS +TLS1\.3 +✓ verified .*PLAIN"
	# select the refused port: its diagnosis, evidence and fix
	keys "$1" Down
	wait_for "$1" "Port $P_REFUSED"
	has "$1" "$(diag_title connect.refused)"
	has "$1" "Evidence"
	has "$1" "Connection refused"
	has "$1" "Fix"
	# and the HTTP port: how its verdict was reached
	keys "$1" Down Down
	wait_for "$1" "Port $P_HTTP"
	has "$1" "HTTP/1.1 400"
	has "$1" "something else"
	# resize: the rows reflow into the compact format and back
	T resize-window -t "$1" -x 80 -y 24
	wait_for "$1" "cert"
	rows "$1" "✓ ✗"
	lacks "$1" "certificate"
	T resize-window -t "$1" -x 132 -y 43
	wait_for "$1" "certificate"
	rows "$1" "✓ ✗"
	keys "$1" ?
	wait_for "$1" "The port advisor"
	has "$1" "sweep again"
	keys "$1" Escape
	wait_for "$1" "How the verdict was reached"
}
check w2 "--sweep at 132x43: two panes, the other ports' reasons, a selected port's diagnosis (evidence, fix) and how; resize reflows; ? lists the keys" t_sweep_132

t_sweep_mono() {
	start "$1" 100x30 NO_COLOR=1 $SWEEP_ENV -- $SWEEP_ARGS
	rows "$1" "✓ ✗"
	wait_for "$1" "use port $P_IMPLICIT"
	T capture-pane -e -p -t "$1" >"$TMP/sgr"
	grep -qF "$ESC[" "$TMP/sgr"
	not grep -qE "$COLOR_SGR" "$TMP/sgr"
}
check w3 "--sweep with NO_COLOR=1: the marks tell the rows apart, no colour codes" t_sweep_mono

t_sweep_ascii() {
	start "$1" 80x24 TERM=vt100 LANG=C $SWEEP_ENV -- $SWEEP_ARGS
	rows "$1" "+ x" "\*"
	wait_for "$1" "use port $P_IMPLICIT"
	screen "$1" >"$TMP/ascii"
	not env LC_ALL=C grep -q '[^ -~]' "$TMP/ascii"
}
check w4 "--sweep on a vt100 with LANG=C: ASCII marks (+ x *), no byte outside ASCII" t_sweep_ascii

# w sweeps the session host's real port numbers: in a network namespace
# of our own (tests/netns.sh), where nothing listens on them, whatever the
# machine runs on its 25/465/587/2525.  (Not the lab: the lab has a mail
# host of its own, w6.)
t_sweep_w() {
	IN_NS="sh $PWD/tests/netns.sh" start "$1" 100x30 -- 127.0.0.1
	wait_for "$1" "Nothing sent yet"
	has "$1" "w ports"
	keys "$1" w
	wait_for "$1" "port advisor"
	has "$1" "ports 587,465,2525,25"
	for p in 587 465 2525 25; do wait_re "$1" "✗ +$p +nothing"; done
	has "$1" "no port to recommend"
	has "$1" "connect to 127.0.0.1 port 587: Connection refused"
	keys "$1" b
	wait_for "$1" "Nothing sent yet"
	keys "$1" ?
	wait_for "$1" "which port"
}
if why=$(sh tests/netns.sh --probe 2>&1); then
	check w5 "w on the session screen sweeps its host's default ports (ours, in a namespace); b goes back; help lists w" t_sweep_w
else
	n=$((n + 1)) skipped=$((skipped + 1))
	echo "ok $n - w sweeps the default ports # SKIP $why"
fi

# w in the lab sweeps the lab's own mail host (issue 14): listeners on
# loopback that play 587, 465, 2525 and 25.  ports.587-blocked drops 587
# (a full accept queue: a real drop, no root), so the lesson "587 is
# blocked, use 465" works offline; Enter runs the session on the listener
# that plays 465.
t_sweep_lab() {
	start "$1" 100x30 -- --lab ports.587-blocked
	wait_for "$1" "Nothing sent yet"
	keys "$1" w
	wait_for "$1" "port advisor"
	has "$1" "ports 587,465,2525,25"
	wait_for "$1" "use port 465, implicit TLS"
	has_re "$1" "✗ +587 +nothing .* [3-9]\.[0-9][0-9]s"
	has_re "$1" "★ +465 +tls +implicit TLS +TLS1\.3 +✓ verified"
	has_re "$1" "✗ +2525 +nothing"
	has_re "$1" "! +25 +smtp +STARTTLS"
	has "$1" "Use port 465 with implicit TLS"
	has "$1" "587: No answer to the connection attempt (connect.timeout)"
	lacks "$1" "no port to recommend"
	keys "$1" Enter
	wait_for "$1" "implicit TLS"
	keys "$1" r
	wait_for "$1" "PASSED"
}
check w6 "w in the lab sweeps the lab's mail host: 587 dropped, 465 recommended, Enter and r pass on it" t_sweep_lab

labs_stop

# ---------------------------------------------------------------------------
# The deliverability screen (--deliverability DOMAIN on a terminal, `D` on
# the session screen), in the network namespace of tests/deliver.py: its
# dnsmasq answers for *.test, its HTTPS server serves the MTA-STS
# policies, the lab is the MX on port 25 (`deliver.py --hold` keeps them
# up until SIGTERM).  Never the real DNS.

DLV_TESTS="d1 d2 d3 d4"
DLV_PID=""
dlv_wanted() {
	for s in $DLV_TESTS; do
		case " ${TUI_ONLY:-$s} " in *" $s "*) return 0 ;; esac
	done
	return 1
}
dlv_stop() {
	if [ -n "$DLV_PID" ]; then
		kill "$DLV_PID" 2>/dev/null
		wait "$DLV_PID" 2>/dev/null
	fi
	DLV_PID=""
}

# the worst check is selected when the run ends: SPF (spf.missing);
# Home goes to MX, which passes
t_dlv_fail_pass() {
	IN_NS="ip netns exec $DLV_NS" start "$1" 80x24 -- --deliverability \
		nospf.test --cafile "$DLV_CA" --timeout 3
	wait_for "$1" "2 failed"
	has "$1" "✗ FAIL  SPF"
	has "$1" "✗ FAIL  DMARC"
	has "$1" "✓ ok    MX"
	has "$1" "FAIL: SPF"
	has "$1" "nospf.test publishes no SPF record."
	has "$1" "Fix: publish"
	has "$1" 'nospf.test. TXT "v=spf1 mx -all"'
	has "$1" "$(diag_title spf.missing)"
	keys "$1" Down
	wait_for "$1" "FAIL: DMARC"
	has "$1" '_dmarc.nospf.test. TXT "v=DMARC1; p=none;'
	keys "$1" Home
	wait_for "$1" "ok: MX"
	has "$1" "10 mx.good.test"
	has "$1" "nothing: this check passes."
	# b: the session screen, which has no host here: n says so (and
	# never starts a session without one); d comes back
	keys "$1" b
	wait_for "$1" "Nothing sent yet"
	keys "$1" n
	wait_for "$1" "No host to talk to"
	keys "$1" D
	wait_for "$1" "2 failed"
	keys "$1" q
	wait_for "$1" "EXITED 1"
}

# no colour: the verdicts read as words and marks; d types another domain
t_dlv_type() {
	IN_NS="ip netns exec $DLV_NS" start "$1" 80x24 NO_COLOR=1 -- \
		--deliverability good.test --cafile "$DLV_CA" --timeout 3
	wait_for "$1" "no failure, 1 warn"
	has "$1" "✓ ok    SPF"
	has "$1" "! warn  DANE"
	T capture-pane -e -p -t "$1" >"$TMP/dlv-sgr"
	not grep -qE "$COLOR_SGR" "$TMP/dlv-sgr"
	keys "$1" Home Down
	wait_for "$1" "ok: SPF"
	has "$1" "v=spf1 mx -all"
	keys "$1" d
	wait_for "$1" "Enter check"
	keys "$1" C-u
	text "$1" "loose.test"
	keys "$1" Enter
	wait_for "$1" "will my mail arrive? loose.test"
	wait_re "$1" "(failed|no failure), [0-9]+ warn"
	has "$1" "! warn  SPF"
	keys "$1" Home Down
	wait_for "$1" "warn: SPF"
	has "$1" "v=spf1 +all"
	has "$1" 'loose.test. TXT "v=spf1 -all"'
	has "$1" "$(diag_title spf.permissive)"
}

# the checks run beside the loop: while slow.test's MX keeps the DANE
# check waiting, keys are answered (help opens and closes)
t_dlv_busy() {
	IN_NS="ip netns exec $DLV_NS" start "$1" 80x24 -- --deliverability \
		slow.test --cafile "$DLV_CA" --timeout 6
	wait_for "$1" "checking DANE"
	has "$1" "✓ ok    SPF"
	keys "$1" "?"
	wait_for "$1" "another domain (and DKIM selector)"
	has "$1" "checking DANE"
	keys "$1" Escape
	wait_for "$1" "↑↓ check"
	has "$1" "checking DANE"
	wait_re "$1" "(failed|no failure), [0-9]+ warn"
	keys "$1" C-c
	wait_for "$1" "EXITED 4"
}

# from the session screen: D checks --from's domain; b goes back
t_dlv_from_session() {
	IN_NS="ip netns exec $DLV_NS" start "$1" 100x30 -- --lab ok \
		--from me@good.test --cafile "$DLV_CA" --timeout 3
	wait_for "$1" "Nothing sent yet"
	keys "$1" "?"
	wait_for "$1" "will my mail arrive?"
	keys "$1" Escape
	keys "$1" D
	wait_for "$1" "will my mail arrive? good.test"
	wait_for "$1" "no failure, 1 warn"
	keys "$1" b
	wait_for "$1" "Nothing sent yet"
	keys "$1" D
	wait_for "$1" "no failure, 1 warn"
}

if dlv_wanted; then
	python3 tests/deliver.py --hold >"$TMP/dlv.out" 2>&1 </dev/null &
	DLV_PID=$!
	i=0
	while ! grep -q '^READY\|SKIP' "$TMP/dlv.out" && kill -0 "$DLV_PID" 2>/dev/null &&
	    [ $i -lt $((WAIT * 10)) ]; do
		sleep 0.1
		i=$((i + 1))
	done
	set -- $(grep '^READY' "$TMP/dlv.out")
	DLV_NS=${2:-} DLV_CA=${3:-}
	if [ -n "$DLV_NS" ]; then
		check d1 "--deliverability at 80x24: SPF and DMARC FAIL with the record to publish, MX ok; the worst selected; b, n without a host is refused; status 1" t_dlv_fail_pass
		check d2 "no colour: verdicts as words; d types another domain (loose.test: +all is warn, the fix ends in -all)" t_dlv_type
		check d3 "while a check waits (slow.test's silent MX) the keys are answered; ^C: status 4" t_dlv_busy
		check d4 "D on the session screen checks --from's domain; b goes back; D again shows the result" t_dlv_from_session
	else
		why=$(grep -m1 'SKIP' "$TMP/dlv.out" | sed 's/^# SKIP //')
		for s in $DLV_TESTS; do
			case " ${TUI_ONLY:-$s} " in *" $s "*) ;; *) continue ;; esac
			n=$((n + 1)) skipped=$((skipped + 1))
			echo "ok $n - deliverability screen $s # SKIP ${why:-deliver.py --hold failed}"
		done
	fi
	dlv_stop
fi

# ---------------------------------------------------------------------------
# Safety: keys never leak out of a prompt, the terminal is always given
# back, nothing runs that the user did not ask for.

# pane_pid SESSION: smtpdx's process id (the pane's shell runs it)
smtpdx_pid() {
	pp=$(T display-message -p -t "$1" '#{pane_pid}')
	for c in $(pgrep -P "$pp"); do
		[ "$(cat /proc/$c/comm 2>/dev/null)" = smtpdx ] && { echo "$c"; return 0; }
	done
	return 1
}

t_leak() {
	start "$1" 100x30 -- --lab ok
	wait_for "$1" "Nothing sent yet"
	keys "$1" :
	text "$1" "MAIL FROM:<a@b>"
	wait_re "$1" "^: MAIL FROM:<a@b>"
	keys "$1" C-u
	text "$1" "rset"
	wait_re "$1" "^: rset"
	keys "$1" C-w
	text "$1" "x"
	wait_re "$1" "^: x"
	keys "$1" BSpace BSpace BSpace
	text "$1" "r"
	wait_re "$1" "^: r"
	keys "$1" BSpace C-h C-h
	text "$1" "s"
	wait_re "$1" "^: s"
	# nothing ran, nothing opened
	lacks "$1" "✓ resolve"
	lacks "$1" "Save the transcript"
	has "$1" "Nothing sent yet"
	keys "$1" Escape
	wait_for "$1" "n next step"
	lacks "$1" "✓ resolve"
	# ^D on an empty line leaves too, and ^C
	keys "$1" : C-d
	wait_for "$1" "n next step"
	keys "$1" : C-c
	wait_for "$1" "n next step"
	lacks "$1" "✓ resolve"
}
check k1 ": line: ^U, ^W, Backspace on an empty line keep it open; only Enter, Esc, ^C, ^D leave" t_leak

t_term_unknown() {
	start "$1" 100x30 TERM=xterm-kitty -- --lab ok
	wait_for "$1" "Nothing sent yet"
	has "$1" "xterm-kitty"
	keys "$1" n
	wait_for "$1" "✓ resolve"
	keys "$1" q
	wait_for "$1" "EXITED 4"
	start "$1" 100x30 TERM=dumb -- --lab ok
	wait_for "$1" "EXITED 2"
	has "$1" "TERM=dumb"
	has "$1" "--batch"
	lacks "$1" "220 "
	lacks "$1" "queued"
	T capture-pane -e -p -t "$1" >"$TMP/sgr"
	not grep -qE "$COLOR_SGR" "$TMP/sgr"
	# --batch on a dumb terminal: the session, and no colour codes
	start "$1" 100x30 TERM=dumb -- --lab ok --batch
	wait_for "$1" "EXITED 0"
	has "$1" "queued"
	T capture-pane -e -p -t "$1" >"$TMP/sgr"
	not grep -qE "$COLOR_SGR" "$TMP/sgr"
}
check k2 "an unknown TERM draws as xterm-256color; TERM=dumb stops with one line and status 2, never a session" t_term_unknown

t_restart_asks() {
	start "$1" 100x30 -- --lab ok
	wait_for "$1" "Nothing sent yet"
	# before anything ran, R just starts over
	keys "$1" R
	wait_for "$1" "Started over"
	keys "$1" n
	wait_for "$1" "✓ resolve"
	keys "$1" R
	wait_for "$1" "Start over?"
	keys "$1" n
	wait_for "$1" "Not started over"
	has "$1" "✓ resolve"
	has "$1" "› connect"
	keys "$1" R
	wait_for "$1" "Start over?"
	keys "$1" y
	wait_for "$1" "Started over"
	lacks "$1" "✓ resolve"
}
check k3 "R in the middle of a session asks first; any key but y keeps the session" t_restart_asks

t_status() {
	# q in the middle of a session: interrupted
	start "$1" 100x30 -- --lab greeting.timeout
	wait_for "$1" "Nothing sent yet"
	keys "$1" n
	wait_for "$1" "✓ resolve"
	keys "$1" n
	wait_for "$1" "✓ connect"
	keys "$1" n
	wait_for "$1" "greeting: waiting"
	keys "$1" q
	wait_for "$1" "EXITED 4"
	# ^C: interrupted, even before anything ran
	start "$1" 100x30 -- --lab ok
	wait_for "$1" "Nothing sent yet"
	keys "$1" C-c
	wait_for "$1" "EXITED 4"
	# q before anything ran: 0
	start "$1" 100x30 -- --lab ok
	wait_for "$1" "Nothing sent yet"
	keys "$1" q
	wait_for "$1" "EXITED 0"
	# SIGTERM: interrupted, and the terminal given back
	start "$1" 100x30 -- --lab ok
	wait_for "$1" "Nothing sent yet"
	kill -TERM "$(smtpdx_pid "$1")"
	wait_for "$1" "EXITED 4"
	[ "$(T display-message -p -t "$1" '#{alternate_on}')" = 0 ]
	lacks "$1" "Nothing sent yet"
}
check k4 "interrupted runs end with status 4: q mid-session, ^C, SIGTERM (terminal restored)" t_status

t_quit_signal() {
	start "$1" 100x30 -- --lab ok
	wait_for "$1" "Nothing sent yet"
	kill -QUIT "$(smtpdx_pid "$1")"
	wait_re "$1" "EXITED (131|4)"
	[ "$(T display-message -p -t "$1" '#{alternate_on}')" = 0 ]
	lacks "$1" "Nothing sent yet"
	# the terminal is sane again: a shell line echoes what is typed
	start "$1" 100x30 -- --lab ok
	wait_for "$1" "Nothing sent yet"
	kill -QUIT "$(smtpdx_pid "$1")"
	wait_re "$1" "EXITED (131|4)"
	has "$1" "SIGQUIT"
}
check k5 "SIGQUIT gives the terminal back (main screen) and says so" t_quit_signal

t_password_modal() {
	start "$1" 100x30 -- --lab ok --auth plain
	wait_for "$1" "Nothing sent yet"
	keys "$1" e
	wait_for "$1" "Settings"
	for i in 1 2 3 4 5; do keys "$1" Down; done
	keys "$1" C-u C-s
	wait_for "$1" "What you type is not shown"
	# the footer says what the keys do now: r and q are text
	has "$1" "keys are text"
	lacks "$1" "r run all"
	has "$1" "0 characters"
	text "$1" "rq"
	wait_for "$1" "2 characters"
	lacks "$1" "✓ resolve"
	keys "$1" BSpace
	wait_for "$1" "1 character"
	keys "$1" Escape
	wait_for "$1" "No password"
}
check k6 "the password prompt is modal: the footer says so and counts what is typed; r and q are text" t_password_modal

t_plan_sender() {
	# no lab (its scenario names a sender): a host, never contacted
	start "$1" 100x30 -- 127.0.0.1 -u someone --helo helo.test
	wait_for "$1" "PASSWORD PROMPT"
	keys "$1" Escape
	wait_for "$1" "Nothing sent yet"
	# -u without @ is not the sender: smtpdx@ the EHLO name is
	has "$1" "from smtpdx@helo.test"
}
check k7 "the plan shows the envelope sender the session really uses" t_plan_sender

t_suspend() {
	T kill-session -t "$1" 2>/dev/null || true
	T new-session -d -s "$1" -x 100 -y 30 \
		"env -u LC_ALL -u NO_COLOR TERM=xterm-256color LANG=C.UTF-8 \
		HOME=$HOME XDG_STATE_HOME=$XDG_STATE_HOME PS1='sh\$ ' \
		bash --norc --noprofile -i"
	wait_for "$1" 'sh$'
	text "$1" "$BIN --lab ok"
	keys "$1" Enter
	wait_for "$1" "Nothing sent yet"
	keys "$1" n
	wait_for "$1" "✓ resolve"
	keys "$1" C-z
	wait_for "$1" "Stopped"
	lacks "$1" "Nothing sent yet"
	[ "$(T display-message -p -t "$1" '#{alternate_on}')" = 0 ]
	text "$1" "fg"
	keys "$1" Enter
	wait_for "$1" "✓ resolve"
	keys "$1" n
	wait_for "$1" "✓ connect"
	keys "$1" r
	wait_for "$1" "PASSED"
	keys "$1" q
	wait_for "$1" 'sh$ '
	text "$1" "echo EXITED \$?"
	keys "$1" Enter
	wait_for "$1" "EXITED 0"
}
check k8 "Ctrl-Z suspends to the shell; fg resumes the same session, keys work" t_suspend

t_save_safe() {
	rm -f "$TMP/target" "$TMP/link" "$TMP/new.txt"
	echo old >"$TMP/exists.txt"
	ln -s "$TMP/target" "$TMP/link"
	start "$1" 100x30 -- --lab auth.failed
	wait_for "$1" "Nothing sent yet"
	keys "$1" r
	wait_for "$1" "FAILED"
	# a symbolic link is refused, never followed
	keys "$1" s
	wait_for "$1" "Save the transcript"
	keys "$1" C-u
	text "$1" "$TMP/link"
	keys "$1" Enter
	wait_for "$1" "symbolic link"
	[ ! -e "$TMP/target" ]
	# an existing file: asked first; n keeps it
	keys "$1" s
	wait_for "$1" "Save the transcript"
	keys "$1" C-u
	text "$1" "$TMP/exists.txt"
	keys "$1" Enter
	wait_for "$1" "Overwrite"
	keys "$1" n
	wait_for "$1" "Not saved"
	[ "$(cat "$TMP/exists.txt")" = old ]
	keys "$1" s
	wait_for "$1" "Save the transcript"
	keys "$1" C-u
	text "$1" "$TMP/exists.txt"
	keys "$1" Enter
	wait_for "$1" "Overwrite"
	keys "$1" y
	wait_for "$1" "Saved"
	grep -qF "535 5.7.8" "$TMP/exists.txt"
	# a new file: private to the user
	keys "$1" s
	wait_for "$1" "Save the transcript"
	keys "$1" C-u
	text "$1" "$TMP/new.txt"
	keys "$1" Enter
	wait_for "$1" "Saved"
	[ "$(stat -c %a "$TMP/new.txt")" = 600 ]
}
check k9 "s refuses a symbolic link, asks before overwriting, creates files 0600" t_save_safe

# ---------------------------------------------------------------------------
# Reading: whole lines, at any size.

# trans_width SESSION: the transcript region's width, borders included
trans_width() {
	screen "$1" | python3 -c '
import sys
for row in sys.stdin.read().split("\n")[:3]:
    a = row.find("\u256d 2 Transcript")
    if a < 0:
        a = row.find("+ 2 Transcript")
    if a >= 0:
        b = row.find("\u256e", a)
        print(b - a + 1 if b > a else 0)
        break
else:
    print(0)'
}

t_wrap() {
	line=$($BIN --json --lab auth.failed 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
print([l["text"] for l in d["transcript"] if l["text"].startswith("535")][0])')
	last=$(echo "$line" | awk '{ print $(NF-1), $NF }')
	fix=$(diag_field auth.failed fix 4)
	start "$1" 80x24 -- --lab auth.failed
	wait_for "$1" "Nothing sent yet"
	keys "$1" r
	wait_for "$1" "FAILED"
	# the fix, without scrolling
	has "$1" "$fix"
	# the 535 line whole: its last words are on the screen, not cut
	keys "$1" 2
	seek "$1" "S← 535"
	keys "$1" Down
	has "$1" "$last"
	screen "$1" | grep -F "S← 535" | not grep -qF "…"
	# wrapped rows are marked, and start under the text
	has "$1" "↪"
}
check r1 "80x24: a long transcript line wraps (the whole 535 line), the fix in view without scrolling" t_wrap

t_widths() {
	start "$1" 80x24 -- --lab ok
	wait_for "$1" "Nothing sent yet"
	prev=0
	for size in 80x24 100x30 112x30 132x43 200x50; do
		T resize-window -t "$1" -x "${size%x*}" -y "${size#*x}"
		wait_for "$1" "Nothing sent yet"
		sleep 0.2
		wd=$(trans_width "$1")
		echo "# $size: transcript $wd columns"
		[ "$wd" -ge 60 ]
		[ "$wd" -ge "$prev" ]
		prev=$wd
	done
}
check r2 "a larger terminal never gives the transcript fewer columns (80x24 .. 200x50)" t_widths

t_search() {
	start "$1" 100x30 -- --lab ok
	wait_for "$1" "Nothing sent yet"
	for st in resolve connect greeting ehlo; do
		keys "$1" n
		wait_for "$1" "✓ $st"
	done
	keys "$1" /
	wait_re "$1" "^/ +Enter search"
	text "$1" "250"
	keys "$1" Enter
	wait_re "$1" "^/250  1/[0-9]+ "
	m=$(screen "$1" | sed -nE 's|^/250  1/([0-9]+) .*|\1|p')
	[ "$m" -gt 2 ]
	# inside search mode n and N go through the matches; no step runs
	keys "$1" n
	wait_re "$1" "^/250  2/$m "
	keys "$1" N N
	wait_re "$1" "^/250  $m/$m "
	lacks "$1" "✓ starttls"
	has "$1" "› starttls"
	# the selection is on the match
	keys "$1" Escape
	wait_for "$1" "n next step"
	lacks "$1" "/250"
	keys "$1" n
	wait_for "$1" "✓ starttls"
	# a search that finds nothing says so
	keys "$1" / 
	text "$1" "no-such-words"
	keys "$1" Enter
	wait_re "$1" "^/no-such-words  0/0 +no match"
	keys "$1" Escape
	# and in an explanation pane: the help's key list
	keys "$1" ?
	wait_for "$1" "Run the session"
	keys "$1" /
	text "$1" "suspend"
	keys "$1" Enter
	wait_re "$1" "^/suspend  1/1 "
	has "$1" "Ctrl-Z"
}
check f1 "/ searches the transcript (and the help): /TEXT K/M, n N step through matches, no step runs" t_search

t_tree() {
	start "$1" 132x43 -- --lab auth.failed
	wait_for "$1" "Nothing sent yet"
	keys "$1" r
	wait_for "$1" "FAILED: auth.failed"
	keys "$1" T
	wait_for "$1" "the path this session walked is marked"
	# the walked path marked, down to the leaf it reached
	has_re "$1" "› +yes → \[-\] Did every reply fit the command it answered"
	has_re "$1" "› +\* → \[-\] Which step failed\?"
	has_re "$1" "› +535 → \[-\]"
	has_re "$1" "› +(\*|no) → = auth.failed"
	# the rest is there, collapsed
	has_re "$1" "  resolve → \[\+\] What did the name lookup say\?"
	has_re "$1" "  538 → = auth.requires_tls"
	# Enter opens a question
	keys "$1" Home Down Down Down Down
	keys "$1" Enter
	wait_re "$1" "resolve → \[-\] What did the name lookup say\?"
	# Enter on a leaf: its diagnosis, from the catalog
	keys "$1" /
	text "$1" "auth.temporary"
	keys "$1" Enter
	wait_re "$1" "^/auth.temporary  1/"
	keys "$1" Enter
	wait_for "$1" "Decision tree: a leaf"
	has "$1" "$(diag_title auth.temporary)"
	has "$1" "Fix"
	has "$1" "smtpdx --lab auth.temporary shows it happen"
	keys "$1" Escape
	wait_for "$1" "the path this session walked is marked"
	keys "$1" Escape
	wait_for "$1" "T tree"
	lacks "$1" "the path this session walked"
}
check t1 "T shows the whole decision tree: the walked path marked, the rest collapsed; Enter opens a question, shows a leaf's diagnosis" t_tree

t_form_checks() {
	start "$1" 100x30 -- --lab ok
	wait_for "$1" "Nothing sent yet"
	keys "$1" e
	wait_for "$1" "Settings"
	for i in 1 2 3 4 5 6 7 8; do keys "$1" Down; done
	keys "$1" C-u
	text "$1" "<x@y>"
	keys "$1" C-s
	wait_for "$1" "is not an address"
	has "$1" "Settings"
	keys "$1" C-u
	text "$1" "bob"
	keys "$1" C-s
	wait_for "$1" "needs a domain"
	keys "$1" C-u
	text "$1" "bob@smtpdx.lab"
	keys "$1" Down C-u
	text "$1" "bad!name"
	keys "$1" C-s
	wait_for "$1" "is not a name for EHLO"
	keys "$1" Escape
	wait_for "$1" "Nothing sent yet"
	has "$1" "to bob@smtpdx.lab"
	lacks "$1" "bad!name"
}
check e1 "the settings form refuses what the command line refuses: <> and bare names in To, a bad HELO" t_form_checks

t_cli_checks() {
	for a in "--cafile /nonexistent x.example" "--to bob x.example" \
	    "'bad host!'" "host:25:25" "--helo bad!name x.example"; do
		start "$1" 100x10 -- --batch $a
		wait_re "$1" "EXITED 2"
		[ "$(screen "$1" | grep -c '^smtpdx: ')" = 1 ]
		lacks "$1" "resolving"
	done
}
check e2 "bad values on the command line: one line, status 2, no session" t_cli_checks

t_lab_port() {
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	"$BIN" --lab ok --lab-server "$TMP/lp-ca.pem" -p "$port" >"$TMP/lp-port" \
		2>"$TMP/lp-err" </dev/null &
	lp=$!
	i=0
	while [ ! -s "$TMP/lp-port" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	got=$(head -n 1 "$TMP/lp-port")
	kill "$lp" 2>/dev/null
	wait "$lp" 2>/dev/null
	echo "# asked $port, served on $got"
	[ "$got" = "$port" ]
}
check e3 "--lab-server -p PORT serves on PORT" t_lab_port

# sel_count SESSION: "K" of the transcript's "K/N" selection counter
sel_count() {
	screen "$1" | sed -nE 's|.*Transcript[^0-9]*([0-9]+)/[0-9]+ .*|\1|p' | head -n 1
}

t_mouse() {
	start "$1" 100x30 -- --lab ok
	wait_for "$1" "Nothing sent yet"
	keys "$1" r
	wait_for "$1" "PASSED"
	keys "$1" 2
	before=$(sel_count "$1")
	# the wheel (SGR mouse reports, as xterm sends them) scrolls
	T send-keys -t "$1" -l "$(printf '\033[<64;40;8M')"
	wait_for "$1" "$((before - 3))/$before "
	# a click selects the line under it
	T send-keys -t "$1" -l "$(printf '\033[<0;40;4M\033[<0;40;4m')"
	i=0
	while [ "$(sel_count "$1")" = "$((before - 3))" ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	k=$(sel_count "$1")
	echo "# clicked: line $k"
	[ "$k" != "$((before - 3))" ]
	keys "$1" Enter
	wait_for "$1" "Line $k explained"
}
check m1 "the mouse wheel scrolls the transcript; a click selects the line under it" t_mouse

t_timing() {
	start "$1" 100x40 -- --lab ok
	wait_for "$1" "Nothing sent yet"
	keys "$1" n
	wait_for "$1" "✓ resolve"
	keys "$1" n
	wait_for "$1" "✓ connect"
	# the user pauses (this is the condition tested, not a wait)
	sleep 1.5
	keys "$1" r
	wait_for "$1" "PASSED"
	keys "$1" l
	wait_for "$1" "Where the time went"
	has "$1" "Replies: command sent to reply complete"
	has_re "$1" "greeting +[0-9.]+s"
	has_re "$1" "EHLO client.smtpdx.l +250 +[0-9.]+s"
	has_re "$1" "QUIT +221 +[0-9.]+s"
	# the pause is not in it
	total=$(screen "$1" | sed -nE 's/.*│ total +([0-9.]+)s.*/\1/p' | head -n 1)
	echo "# total network time: $total s"
	python3 -c "import sys; sys.exit(0 if 0 < float('$total') < 1.0 else 1)"
}
check l1 "l: where the time went, the steps end to end without the user's pauses, each reply's latency" t_timing

t_fatal() {
	# too few descriptors for the resolver's pipe: a fatal error in the
	# middle of the TUI; the terminal must be given back before the
	# message, and the message must reach the screen
	T kill-session -t "$1" 2>/dev/null || true
	T new-session -d -s "$1" -x 100 -y 30 \
		"env -u LC_ALL TERM=xterm-256color LANG=C.UTF-8 HOME=$HOME \
		XDG_STATE_HOME=$XDG_STATE_HOME sh -c 'ulimit -c 0; ulimit -n 9; \
		$BIN --lab ok; echo EXITED \$?'; sleep 60"
	wait_for "$1" "Nothing sent yet"
	[ "$(T display-message -p -t "$1" '#{alternate_on}')" = 1 ]
	keys "$1" n
	wait_for "$1" "EXITED"
	has "$1" "smtpdx: pipe:"
	[ "$(T display-message -p -t "$1" '#{alternate_on}')" = 0 ]
	lacks "$1" "Nothing sent yet"
}
check x1 "a fatal error inside the TUI (no pipe for the resolver): the terminal back first, then the message" t_fatal

# ---- the lab as a workshop (issue 14) -------------------------------------

t_picker() {
	start "$1" 110x40 -- --lab ok
	wait_for "$1" "Nothing sent yet"
	# the password in use is never drawn; ? says the lab's login
	has "$1" "login alice, the lab's password"
	lacks "$1" "lab-Secret-42"
	keys "$1" ?
	wait_for "$1" "Keys"
	keys "$1" End
	wait_for "$1" "user alice, password lab-Secret-42"
	keys "$1" Escape
	wait_for "$1" "Nothing sent yet"
	keys "$1" L
	wait_for "$1" "Lab scenarios ("
	# grouped by stage, a difficulty and a goal on each row
	has "$1" "Healthy servers"
	has "$1" "beginner"
	has "$1" "Walk a healthy session"
	# down to auth.failed, in the order of --lab list
	k=$($BIN --lab list | awk -F '\t' '$1 == "auth.failed" { print NR - 1 }')
	echo "# auth.failed is row $k"
	i=0
	while [ $i -lt "$k" ]; do keys "$1" Down; i=$((i + 1)); done
	wait_for "$1" "AUTH"
	has "$1" "auth.failed"
	keys "$1" Enter
	wait_for "$1" "lab auth.failed"
	lacks "$1" "Lab scenarios ("
	# the goal, never the diagnosis' words, in the plan
	has "$1" "auth.failed: Log in and send a test mail"
	lacks "$1" "The password is wrong"
	# a password exercise: the lab's login is on the screen
	has "$1" "alice / lab-Secret-42"
	keys "$1" r
	wait_for "$1" "FAILED: auth.failed"
}
check g1 "L: the scenarios grouped by stage with difficulty and goal; Enter restarts the session on the chosen one" t_picker

t_mystery() {
	title=$($BIN --list-diagnoses | awk -F '\t' '$1 == "auth.failed" { print $2 }')
	start "$1" 120x40 -- --lab mystery:auth.failed
	wait_for "$1" "lab mystery"
	keys "$1" r
	wait_for "$1" "FAILED"
	wait_for "$1" "d names the diagnosis"
	# stepped through, the answer nowhere: header, plan, pane, help
	lacks "$1" "auth.failed"
	lacks "$1" "$title"
	lacks "$1" "The password is wrong"
	has "$1" "✗ auth"
	keys "$1" ?
	wait_for "$1" "The lab"
	keys "$1" End
	wait_for "$1" "hidden (a mystery)"
	lacks "$1" "auth.failed"
	keys "$1" Escape
	keys "$1" T
	wait_for "$1" "The tree tells the answer"
	lacks "$1" "$title"
	# name it: the choices are diagnosis ids, the right one among them
	keys "$1" d
	wait_for "$1" "Name the diagnosis"
	k=$(screen "$1" | sed -nE 's/.* ([1-5])  auth\.failed .*/\1/p' | head -n 1)
	echo "# auth.failed is choice $k"
	[ -n "$k" ]
	[ "$(screen "$1" | grep -cE ' [1-5]  [a-z0-9]+\.[a-z_]+')" -ge 4 ]
	keys "$1" "$k"
	wait_for "$1" "Right."
	has "$1" "auth.failed: $title"
	keys "$1" Escape
	wait_for "$1" "FAILED: auth.failed"
	has "$1" "lab auth.failed"
	has "$1" "Decision path"
	# the score, kept private
	f="$XDG_STATE_HOME/smtpdx/workshop"
	[ "$(stat -c %a "$f")" = 600 ]
	grep -q '^mystery 1 1$' "$f"
	grep -q '^done auth.failed$' "$f"
}
check g2 "--lab mystery: the scenario and its diagnosis nowhere until named (d), then shown with the tree; the score kept 0600" t_mystery

t_fixit() {
	start "$1" 110x40 -- --lab fixit:tls.expected_implicit
	wait_for "$1" "fix-it on tls.expected_implicit"
	keys "$1" r
	wait_for "$1" "FAILED"
	wait_for "$1" "Not fixed yet"
	keys "$1" h
	wait_for "$1" "Hint 1 of 3"
	keys "$1" h
	wait_for "$1" "Hint 2 of 3"
	# the fix, through the settings form: TLS mode starttls -> implicit
	keys "$1" e
	wait_for "$1" "Settings"
	keys "$1" Down Down Right
	wait_for "$1" "implicit"
	keys "$1" C-s
	wait_for "$1" "New settings"
	keys "$1" r
	wait_for "$1" "PASSED"
	wait_for "$1" "Fixed: the session passes"
	grep -q '^fixed 1$' "$XDG_STATE_HOME/smtpdx/workshop"
}
check g3 "--lab fixit: the session fails, h gives hints one at a time, the fix through e passes" t_fixit

t_fixit_server() {
	start "$1" 110x40 -- --lab ok
	wait_for "$1" "Nothing sent yet"
	keys "$1" L
	wait_for "$1" "Lab scenarios ("
	k=$($BIN --lab list | awk -F '\t' '$1 == "tls.cert_expired" { print NR - 1 }')
	i=0
	while [ $i -lt "$k" ]; do keys "$1" Down; i=$((i + 1)); done
	wait_for "$1" "tls.cert_expired"
	keys "$1" f
	wait_for "$1" "the fix is on the server's side: On the server: renew"
}
check g4 "fix-it on a server-side scenario says the fix is on the server, and what it is" t_fixit_server

# fix-it on the lab's mail host: the fix is another port, made with the
# form's Port and TLS mode (the lab maps 465 onto its listener that
# plays 465); the third hint names both
t_fixit_port() {
	start "$1" 110x40 -- --lab fixit:ports.587-blocked
	wait_for "$1" "fix-it on ports.587-blocked"
	keys "$1" r
	wait_for "$1" "Not fixed yet"
	keys "$1" h h h
	wait_for "$1" "Hint 3 of 3: Set Port (e) to 465 and TLS mode to implicit"
	keys "$1" e
	wait_for "$1" "Settings"
	# the port the lab plays, not the loopback port behind it
	has_re "$1" "Port +587( |$)"
	keys "$1" Down C-u 4 6 5 Down Right
	wait_for "$1" "implicit"
	keys "$1" C-s
	wait_for "$1" "New settings"
	keys "$1" r
	wait_for "$1" "PASSED"
	wait_for "$1" "Fixed: the session passes"
}
check o1 "fix-it on ports.587-blocked: Port 465 and TLS mode implicit through e pass" t_fixit_port

# the settings form's field for OPTION's label: Down until it is selected
# (the selected field's help line is shown under the fields)
form_seek() {
	i=0
	while not screen_has "$1" "$2" && [ $i -lt 40 ]; do
		keys "$1" Down
		i=$((i + 1))
		sleep 0.05
	done
	has "$1" "$2"
}

t_form_new() {
	start "$1" 80x24 -- --lab ok
	wait_for "$1" "Nothing sent yet"
	keys "$1" e
	wait_for "$1" "Settings"
	# a new field, refused in the command line's own words
	form_seek "$1" "NEVER, or SUCCESS,FAILURE,DELAY"
	text "$1" "sometimes"
	keys "$1" C-s
	wait_for "$1" "--notify wants NEVER, or a list of SUCCESS,FAILURE,DELAY"
	has "$1" "Settings"
	keys "$1" C-u
	text "$1" "success"
	keys "$1" C-s
	wait_for "$1" "New settings"
	keys "$1" r
	wait_for "$1" "PASSED"
	seek "$1" "NOTIFY=SUCCESS"
	# TLS mode implicit on the STARTTLS port: the lab's diagnosis
	keys "$1" e
	wait_for "$1" "Settings"
	keys "$1" Down Down Right
	wait_for "$1" "‹ implicit ›"
	keys "$1" C-s
	wait_for "$1" "New settings"
	keys "$1" r
	wait_for "$1" "FAILED: tls.expected_starttls"
}
check p1 "e: a new field (notify) refused as the CLI refuses it, then sent; TLS implicit fails as tls.expected_starttls" t_form_new

t_profile_roundtrip() {
	xdg="$TMP/xdg-$1"
	start "$1" 80x24 XDG_CONFIG_HOME=$xdg -- --lab ok
	wait_for "$1" "Nothing sent yet"
	keys "$1" p
	wait_for "$1" "No profiles in this file yet"
	keys "$1" Escape
	keys "$1" e
	wait_for "$1" "Settings"
	form_seek "$1" "yes: send with BDAT"
	keys "$1" Right
	form_seek "$1" "NEVER, or SUCCESS,FAILURE,DELAY"
	text "$1" "SUCCESS,DELAY"
	keys "$1" C-p
	wait_for "$1" "Profile name"
	text "$1" "workshop"
	keys "$1" Enter
	wait_for "$1" "Saved [profile workshop]"
	f="$xdg/smtpdx/config"
	[ "$(stat -c %a "$f")" = 600 ]
	[ "$(stat -c %a "$xdg/smtpdx")" = 700 ]
	grep -qx "\[profile workshop\]" "$f"
	grep -qx "notify = SUCCESS,DELAY" "$f"
	grep -qx "bdat = yes" "$f"
	not grep -q "lab-Secret-42" "$f"
	not grep -q "^password *=" "$f"
	# the same name again: asked first; n keeps it
	keys "$1" C-p
	wait_for "$1" "Profile name"
	text "$1" "workshop"
	keys "$1" Enter
	wait_for "$1" "Replace [profile workshop]"
	keys "$1" n
	wait_for "$1" "is as it was"
	# Esc: the settings as they were, nothing of the profile
	keys "$1" Escape
	wait_for "$1" "Nothing sent yet"
	# back through the picker
	keys "$1" p
	wait_for "$1" "Profiles"
	has "$1" "workshop"
	has "$1" "notify = SUCCESS,DELAY"
	keys "$1" Enter
	wait_for "$1" "Loaded [profile workshop]"
	keys "$1" r
	wait_for "$1" "PASSED"
	seek "$1" "NOTIFY=SUCCESS,DELAY"
	seek "$1" "BDAT"
}
check p2 "Ctrl-P in e saves a [profile] (0600, no password, asks before replacing); p lists it and loads it back" t_profile_roundtrip

t_findfix() {
	start "$1" 80x24 -- --lab tls.expected_implicit
	wait_for "$1" "Nothing sent yet"
	keys "$1" f
	wait_for "$1" "r runs it to the end first"
	keys "$1" r
	wait_for "$1" "FAILED: tls.expected_implicit"
	keys "$1" f
	wait_for "$1" "The fix"
	has "$1" "smtpdx --lab tls.expected_implicit --tls implicit"
	has "$1" "✓ --tls implicit"
	keys "$1" a
	wait_for "$1" "Applied --tls implicit"
	keys "$1" r
	wait_for "$1" "PASSED"
}
check p3 "f on a failed lab session shows the fix as a command line; a applies it and the session passes" t_findfix

# the smtpdx process under a pane, however deep (a namespace puts
# unshare and shells between)
deep_smtpdx() {
	todo=$(T display-message -p -t "$1" '#{pane_pid}')
	while [ -n "$todo" ]; do
		next=""
		for p in $todo; do
			if [ "$(cat /proc/$p/comm 2>/dev/null)" = smtpdx ]; then
				echo "$p"
				return 0
			fi
			next="$next $(pgrep -P "$p" | tr '\n' ' ')"
		done
		todo=$(echo $next)
	done
	return 1
}

t_findfix_abandon() {
	if ! sh tests/netns.sh --probe 2>/dev/null; then
		skipped=$((skipped + 1))
		echo "# skip: no network namespace here"
		return 0
	fi
	# in a namespace of its own: 587 and 2525 accept and never speak, so
	# find-fix's sweep of the other ports waits out its timeout
	cat >"$TMP/silent.sh" <<'EOS'
/usr/bin/python3 -c '
import socket, time
ls = []
for p in (587, 2525):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", p)); s.listen(16); ls.append(s)
open("'"$1"'", "w").close()
time.sleep(600)' &
while [ ! -e "$1" ]; do sleep 0.05; done
shift
exec "$@"
EOS
	IN_NS="sh $PWD/tests/netns.sh sh $TMP/silent.sh $TMP/ready-$1" \
		start "$1" 80x24 -- 127.0.0.1 --timeout 4
	wait_for "$1" "Nothing sent yet"
	keys "$1" r
	wait_for "$1" "FAILED: greeting.timeout"
	pid=$(deep_smtpdx "$1")
	before=$(pgrep -P "$pid" | wc -l)
	keys "$1" f
	wait_for "$1" "working…"
	# the UI answers while it works: the clock goes on
	wait_re "$1" "working… [1-9] s"
	[ "$(pgrep -P "$pid" | wc -l)" -gt "$before" ]
	keys "$1" Escape
	wait_for "$1" "Find-fix abandoned"
	i=0
	while [ "$(pgrep -P "$pid" | wc -l)" -gt "$before" ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ "$(pgrep -P "$pid" | wc -l)" -eq "$before" ]
	keys "$1" q
	wait_for "$1" "EXITED"
}
check p4 "f runs find-fix without freezing the UI (working… and its clock); Esc abandons it and its process is gone" t_findfix_abandon

echo "$pass passed, $fail failed, $skipped skipped"
[ "$fail" -eq 0 ]

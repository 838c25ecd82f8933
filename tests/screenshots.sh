#!/bin/sh
# screenshots.sh - PNGs of the key screens, from real runs (`make screenshots`).
#
# Each screen is smtpdx on the embedded lab in a tmux session, driven with
# send-keys like the TUI tests, captured with colours (capture-pane -e) and
# drawn into a PNG by tests/tui/ansi2png.py (python3-pil, DejaVu fonts,
# both from Debian's archive; installed here when missing).
#
# Output: screenshots/*.png.
set -u
cd "$(dirname "$0")/.." || exit 3

OUT=screenshots
SOCK=smtpdx-shots-$$
TMP=$(mktemp -d "${TMPDIR:-/tmp}/smtpdx-shots.XXXXXX")
export LC_ALL=C.UTF-8
unset TMUX
export HOME="$TMP/home" XDG_STATE_HOME="$TMP/state"
mkdir -p "$HOME" "$OUT"

cleanup() {
	tmux -L "$SOCK" kill-server 2>/dev/null
	for pid in ${LAB_PIDS:-} ${DLV_PID:-}; do
		kill "$pid" 2>/dev/null
	done
	[ -n "${DLV_PID:-}" ] && wait "$DLV_PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

# Debian's python3, where python3-pil lives (a python3 earlier in PATH,
# from pyenv or a venv, would not see it)
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
need=""
command -v tmux >/dev/null 2>&1 || need="$need tmux"
[ -x /usr/bin/python3 ] || need="$need python3"
"$PY" -c 'import PIL' 2>/dev/null || need="$need python3-pil"
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf ] || need="$need fonts-dejavu-core"
if [ -n "$need" ]; then
	if [ "$(id -u)" = 0 ]; then
		sudo=""
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		sudo="sudo -n"
	else
		echo "screenshots.sh needs:$need (sudo apt-get install$need)" >&2
		exit 1
	fi
	echo "screenshots.sh: installing$need" >&2
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq >/dev/null 2>&1 || true
	# shellcheck disable=SC2086
	$sudo apt-get install -y -qq --no-install-recommends $need >/dev/null ||
		{ echo "screenshots.sh: apt-get install$need failed" >&2; exit 1; }
fi
[ -x ./smtpdx ] || make -s smtpdx || exit 1

T() { tmux -u -L "$SOCK" "$@"; }

# start NAME COLSxROWS ARGS...: smtpdx in a tmux session (ENVX: more
# environment); the caller sends keys, then calls snap NAME.
start() {
	name=$1 size=$2
	shift 2
	T kill-session -t "$name" 2>/dev/null
	T new-session -d -s "$name" -x "${size%x*}" -y "${size#*x}" \
		"env -u LC_ALL -u NO_COLOR TERM=xterm-256color LANG=C.UTF-8 \
		HOME=$HOME XDG_STATE_HOME=$XDG_STATE_HOME ${ENVX:-} ./smtpdx $*; sleep 60"
	echo "$size" >"$TMP/size.$name"
}

keys() { s=$1; shift; T send-keys -t "$s" "$@"; }
text() { T send-keys -t "$1" -l "$2"; }

wait_for() {
	i=0
	while [ $i -lt 100 ]; do
		T capture-pane -p -t "$1" | grep -qF -- "$2" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "screenshots.sh: $1: no \"$2\" on the screen" >&2
	return 1
}

# snap NAME "window title": capture and render.
snap() {
	size=$(cat "$TMP/size.$1")
	sleep 0.3	# let the last keys' redraw land
	T capture-pane -e -p -t "$1" >"$TMP/$1.ans"
	"$PY" tests/tui/ansi2png.py "$TMP/$1.ans" "$OUT/$1.png" \
		"${size%x*}" "${size#*x}" "$2" || return 1
	T kill-session -t "$1"
	echo "$OUT/$1.png"
}

fail=0

# 1. a clean session, run to the end
start clean 132x43 --lab ok
wait_for clean "Nothing sent yet" && keys clean r && wait_for clean "PASSED" &&
	snap clean "smtpdx --lab ok   (r: run to the end)" || fail=1

# 2. an AUTH failure with its decision path
start auth-failed 132x43 --lab auth.failed
wait_for auth-failed "Nothing sent yet" && keys auth-failed r &&
	wait_for auth-failed "FAILED" && keys auth-failed 2 Up Up Up 3 &&
	snap auth-failed "smtpdx --lab auth.failed" || fail=1

# 3. the TLS details
start tls 132x43 --lab ok
wait_for tls "Nothing sent yet" && keys tls r && wait_for tls "PASSED" &&
	keys tls t && wait_for tls "TLS details" &&
	snap tls "smtpdx --lab ok   (t: TLS details)" || fail=1

# 4. the narrow layout, 80x24
start narrow 80x24 --lab auth.failed
wait_for narrow "Nothing sent yet" && keys narrow r && wait_for narrow "FAILED" &&
	snap narrow "smtpdx --lab auth.failed   (80x24)" || fail=1

# 4b. below 80 columns: one region at a time, with tabs
start tabs 72x22 --lab starttls.not_offered
wait_for tabs "Nothing sent yet" && keys tabs r && wait_for tabs "FAILED" &&
	snap tabs "smtpdx --lab starttls.not_offered   (72x22: tabs)" || fail=1

# 5. the teaching view, at the login: from the end, up until the decoded
# AUTH PLAIN shows at the top
start teaching 132x43 --lab ok --auth plain
wait_for teaching "Nothing sent yet" && keys teaching r && wait_for teaching "PASSED" &&
	keys teaching v && wait_for teaching "teaching view" || fail=1
i=0
while [ $i -lt 60 ] && ! T capture-pane -p -t teaching | grep -qF "password=<"; do
	keys teaching Up
	i=$((i + 1))
done
for i in 1 2 3 4 5 6 7; do keys teaching Up; done
snap teaching "smtpdx --lab ok --auth plain   (v: teaching view)" || fail=1

# 6. the raw command line: RCPT before MAIL, explained
start cmdline 132x43 --lab ok
wait_for cmdline "Nothing sent yet" || fail=1
for st in resolve connect greeting ehlo; do
	keys cmdline n
	wait_for cmdline "✓ $st" || fail=1
done
keys cmdline :
text cmdline "RCPT TO:<x@y>"
keys cmdline Enter
wait_for cmdline "bad sequence" && keys cmdline :
text cmdline "NO"
keys cmdline Tab
snap cmdline "smtpdx --lab ok   (: RCPT before MAIL)" || fail=1

# 7. the help screen
start help 100x30 --lab ok
wait_for help "Nothing sent yet" && keys help ? && wait_for help "Run the session" &&
	snap help "smtpdx   (?: keys)" || fail=1

# 8. a line explained: the 535 of auth.failed
start explain 100x30 --lab auth.failed
wait_for explain "Nothing sent yet" && keys explain r && wait_for explain "FAILED" &&
	keys explain 2 Up Up Up && wait_for explain "37/40" && keys explain Enter &&
	wait_for explain "explained" && snap explain "smtpdx --lab auth.failed   (Enter: explain a line)" ||
	fail=1

# 9. the settings form
start settings 100x30 --lab ok
wait_for settings "Nothing sent yet" && keys settings e && wait_for settings "Settings" &&
	keys settings Down Down Right && snap settings "smtpdx --lab ok   (e: settings)" || fail=1

# 9a. the settings form at 80x24, scrolled to the message options, a
# profile being named (Ctrl-P)
start settings-more 80x24 --lab ok
wait_for settings-more "Nothing sent yet" && keys settings-more e &&
	wait_for settings-more "Settings" || fail=1
i=0
while [ $i -lt 40 ] && ! T capture-pane -p -t settings-more | grep -qF "NEVER, or SUCCESS"; do
	keys settings-more Down
	i=$((i + 1))
done
text settings-more "SUCCESS,FAILURE"
keys settings-more Down Right Down
text settings-more "wk-42"
keys settings-more C-p
text settings-more "workshop"
wait_for settings-more "Profile name" &&
	snap settings-more "smtpdx --lab ok   (e: settings, 80x24; Ctrl-P: save as profile)" ||
	fail=1

# 9a'. the profile picker on a config file of three profiles
mkdir -p "$TMP/xdg/smtpdx"
cat >"$TMP/xdg/smtpdx/config" <<'EOC'
# smtpdx profiles
[profile work]
provider = microsoft365
user = alice@example.org
password-command = pass show mail/work

[profile workshop]
notify = SUCCESS,FAILURE
ret = hdrs
bdat = yes

[profile relay]
host = mx.example.net
port = 25
no-send = yes
EOC
ENVX="XDG_CONFIG_HOME=$TMP/xdg" start profiles 100x30 --lab ok
wait_for profiles "Nothing sent yet" && keys profiles p && wait_for profiles "Profiles" &&
	keys profiles Down && wait_for profiles "ret = hdrs" &&
	snap profiles "smtpdx --lab ok   (p: profiles)" || fail=1

# 9a''. find-fix on a failed session
start findfix 100x30 --lab tls.expected_implicit
wait_for findfix "Nothing sent yet" && keys findfix r && wait_for findfix "FAILED" &&
	keys findfix f && wait_for findfix "The fix" &&
	snap findfix "smtpdx --lab tls.expected_implicit   (f: find-fix)" || fail=1

# 9b. the whole decision tree, the walked path marked
start tree 132x43 --lab auth.failed
wait_for tree "Nothing sent yet" && keys tree r && wait_for tree "FAILED" &&
	keys tree T && wait_for tree "walked is marked" &&
	snap tree "smtpdx --lab auth.failed   (T: the whole decision tree)" || fail=1

# 9c. a search of the transcript
start search 100x30 --lab ok
wait_for search "Nothing sent yet" && keys search r && wait_for search "PASSED" &&
	keys search / && text search "auth" && keys search Enter &&
	wait_for search "/auth  1/" && keys search n &&
	snap search "smtpdx --lab ok   (/auth, then n)" || fail=1

# 9d. where the time went
start timing 100x40 --lab ok
wait_for timing "Nothing sent yet" && keys timing r && wait_for timing "PASSED" &&
	keys timing l && wait_for timing "Where the time went" &&
	snap timing "smtpdx --lab ok   (l: where the time went)" || fail=1

# 9e. the password prompt, modal
start password 100x30 127.0.0.1 -u alice
wait_for password "PASSWORD PROMPT" && text password "abc" &&
	wait_for password "3 characters" &&
	snap password "smtpdx 127.0.0.1 -u alice   (the password prompt)" || fail=1

# 9f. the lab as a workshop: the scenario picker, grouped by stage
start picker 120x40 --lab ok
wait_for picker "Nothing sent yet" && keys picker L && wait_for picker "Lab scenarios (" &&
	keys picker Down Down Down Down Down Down Down Down Down Down Down Down &&
	snap picker "smtpdx --lab ok   (L: the scenarios)" || fail=1

# 9g. a mystery, stepped through: the diagnosis hidden until named (d)
start mystery 120x40 --lab mystery:rcpt.unknown_user
wait_for mystery "Nothing sent yet" && keys mystery r && wait_for mystery "d names the" &&
	keys mystery d && wait_for mystery "Name the diagnosis" &&
	snap mystery "smtpdx --lab mystery   (d: name the diagnosis)" || fail=1

# 10. plain ASCII on a vt100
ENVX="TERM=vt100 LANG=C" start vt100 80x24 --lab tls.cert_expired
wait_for vt100 "Nothing sent yet" && keys vt100 r && wait_for vt100 "FAILED" || fail=1
snap vt100 "TERM=vt100 LANG=C (as drawn by tmux)" || fail=1

# 11. the port advisor: lab listeners on loopback as tests/sweep.py sets
# them up (STARTTLS, implicit TLS, refused, silent, HTTP), swept at once;
# the silent port selected, to show a diagnosis next to the recommendation
# (not in a $(...) subshell: LAB_PIDS must reach the kill below)
LAB_PIDS=""
ports=""
for lab in ok ok-implicit connect.refused greeting.timeout greeting.not_smtp; do
	./smtpdx --lab "$lab" --lab-server "$TMP/ca-$lab.pem" >"$TMP/port-$lab" \
		2>/dev/null </dev/null &
	LAB_PIDS="$LAB_PIDS $!"
	i=0
	while [ ! -s "$TMP/port-$lab" ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	ports="$ports${ports:+,}$(head -n 1 "$TMP/port-$lab")"
done
cat "$TMP"/ca-*.pem >"$TMP/ca-all.pem"
sweep="--sweep 127.0.0.1 --ports $ports --cafile $TMP/ca-all.pem \
	--servername mail.smtpdx.lab --timeout 2"
start sweep 132x43 $sweep
wait_for sweep "use port" && keys sweep Down Down &&
	snap sweep "smtpdx --sweep 127.0.0.1 --ports ...   (the port advisor)" || fail=1
start sweep-narrow 80x24 $sweep
wait_for sweep-narrow "use port" &&
	snap sweep-narrow "smtpdx --sweep ...   (80x24)" || fail=1
for pid in $LAB_PIDS; do
	kill "$pid" 2>/dev/null
done

# 12. will my mail arrive? The deliverability screen at 80x24, in the
# network namespace of tests/deliver.py (its dnsmasq, HTTPS server and
# lab on port 25: never the real DNS), held up until SIGTERM
"$PY" tests/deliver.py --hold >"$TMP/dlv.out" 2>&1 </dev/null &
DLV_PID=$!
i=0
while ! grep -q '^READY\|SKIP' "$TMP/dlv.out" && kill -0 "$DLV_PID" 2>/dev/null &&
    [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
set -- $(grep '^READY' "$TMP/dlv.out")
if [ -n "${2:-}" ]; then
	ENVX="ip netns exec $2" start deliver 80x24 --deliverability nospf.test \
		--cafile "$3" --timeout 3
	wait_for deliver "2 failed" &&
		snap deliver "smtpdx --deliverability nospf.test   (80x24)" || fail=1
else
	echo "screenshots.sh: deliver.png left as it is: $(grep -m1 SKIP "$TMP/dlv.out")" >&2
fi
kill "$DLV_PID" 2>/dev/null
wait "$DLV_PID" 2>/dev/null

# 13. a report card: the lab server on a wrong-name certificate, graded
# on two clients: curl --insecure (it fails the check) and curl trusting
# the lab CA (it refuses the name: it passes)
if command -v curl >/dev/null 2>&1; then
	start report-card 80x40 --lab tls.cert_hostname_mismatch \
		--lab-server "$TMP/ca-card.pem"
	wait_for report-card "report card per connection" &&
	port=$(T capture-pane -p -t report-card | head -n 1) &&
	curl -s --insecure --ssl-reqd --url "smtp://127.0.0.1:$port" \
		--mail-from alice@smtpdx.lab --mail-rcpt bob@smtpdx.lab \
		--user alice:lab-Secret-42 -T /dev/null >/dev/null 2>&1
	wait_for report-card "grade:" &&
	{ curl -s --ssl-reqd --cacert "$TMP/ca-card.pem" \
		--url "smtp://mail.smtpdx.lab:$port" \
		--resolve "mail.smtpdx.lab:$port:127.0.0.1" \
		--mail-from alice@smtpdx.lab --mail-rcpt bob@smtpdx.lab \
		--user alice:lab-Secret-42 -T /dev/null >/dev/null 2>&1; true; } &&
	wait_for report-card "hung up after the handshake" &&
		snap report-card "smtpdx --lab tls.cert_hostname_mismatch --lab-server   (report cards)" ||
		fail=1
fi

exit $fail

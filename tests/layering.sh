#!/bin/sh
# layering.sh - the engine (src/) never includes curses or libedit, and the
# front end (ui/) never speaks SMTP itself.
cd "$(dirname "$0")/.." || exit 3
p=0 f=0 n=0
t() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then p=$((p + 1)); echo "ok $n - $2"
	else f=$((f + 1)); echo "not ok $n - $2"; printf '%s\n' "$3" | sed 's/^/#   /'; fi
}
hits=$(grep -rnE '#include *[<"](n?cursesw?|ncursesw/[a-z]*|histedit|editline/readline|readline/readline)\.h' src || true)
[ -z "$hits" ]; t $? "src/ includes no curses or libedit header" "$hits"
hits=$(grep -rnE '\b(initscr|newterm|wrefresh|el_init|el_wgets)\b' src || true)
[ -z "$hits" ]; t $? "src/ calls no curses or libedit function" "$hits"
# Completion tables may name verbs; a command built with arguments
# ("MAIL FROM:<%s>", "EHLO %s") would be protocol logic in the wrong place.
hits=$(grep -rnE '"(EHLO|HELO|MAIL FROM:|RCPT TO:|AUTH|STARTTLS)[^"]*%' ui 2>/dev/null || true)
[ -z "$hits" ]; t $? "ui/ builds no SMTP command lines of its own" "$hits"
hits=$(grep -rnE '\b(send|recv|gnutls_record_send|gnutls_record_recv)\(' ui 2>/dev/null || true)
[ -z "$hits" ]; t $? "ui/ does no network I/O" "$hits"
echo "$p passed, $f failed, 0 skipped"
[ "$f" -eq 0 ]

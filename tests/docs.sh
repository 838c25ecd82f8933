#!/bin/sh
# docs.sh - README.md and smtpdx.1 against the binary: every diagnosis id
# and every long option is documented, the man page renders without groff
# warnings, and `make install` / `make uninstall` put in and take out
# exactly the binary and the man page.  TAP lines, then "N passed, M failed".
set -u
cd "$(dirname "$0")/.." || exit 3

bin=./smtpdx
[ -x "$bin" ] || bin=/tmp/smtpdx
n=0 p=0 f=0 k=0
tmp=$(mktemp -d) || exit 3
trap 'rm -rf "$tmp"' EXIT INT TERM

# t STATUS DESCRIPTION [DETAIL]: one TAP line; DETAIL goes out as comments.
t() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		p=$((p + 1)); echo "ok $n - $2"
	else
		f=$((f + 1)); echo "not ok $n - $2"
		[ -n "${3:-}" ] && printf '%s\n' "$3" | sed 's/^/#   /'
	fi
}
skip() {
	n=$((n + 1)); k=$((k + 1)); echo "ok $n - # SKIP $1"
}
finish() {
	echo "1..$n"
	echo "$p passed, $f failed, $k skipped"
	[ "$f" -eq 0 ]
	exit $?
}

if [ ! -x "$bin" ]; then
	t 1 "an smtpdx binary to check against" "neither ./smtpdx nor /tmp/smtpdx"
	finish
fi
echo "# checking against $bin"
for doc in README.md smtpdx.1; do
	[ -f "$doc" ]; t $? "$doc exists"
done
[ -f README.md ] && [ -f smtpdx.1 ] || finish

# The man page as plain text: \- is a hyphen, \& and \% are invisible.
sed -e 's/\\-/-/g' -e 's/\\&//g' -e 's/\\%//g' smtpdx.1 >"$tmp/man.txt"

# --- every diagnosis id, in both documents
"$bin" --list-diagnoses >"$tmp/ids" 2>"$tmp/err"
rc=$?
[ "$rc" = 0 ] && [ -s "$tmp/ids" ]
t $? "smtpdx --list-diagnoses lists the catalog" "$(cat "$tmp/err")"
cut -f1 "$tmp/ids" | while IFS= read -r id; do
	miss=""
	grep -Fqw -e "$id" README.md || miss="$miss README.md"
	grep -Fqw -e "$id" "$tmp/man.txt" || miss="$miss smtpdx.1"
	[ -z "$miss" ] && echo "0 $id" || echo "1 $id missing from$miss"
done >"$tmp/idres"
while read -r st id rest; do
	t "$st" "diagnosis $id is documented" "$id ${rest:-}"
done <"$tmp/idres"

# --- every long option of --help, in the man page
"$bin" --help >"$tmp/help" 2>&1
grep -oE -e '--[a-z][a-z0-9-]*' "$tmp/help" | sort -u >"$tmp/opts"
[ -s "$tmp/opts" ]; t $? "smtpdx --help names long options"
while IFS= read -r opt; do
	grep -Eq -e "(^|[^a-z0-9-])$opt([^a-z0-9-]|\$)" "$tmp/man.txt"
	t $? "option $opt is in smtpdx.1"
done <"$tmp/opts"

# --- lab scenarios the documents name exist
grep -ohE -e '--lab[ =][a-z0-9][a-z0-9._-]*[a-z0-9]' README.md "$tmp/man.txt" |
	sed -E 's/^--lab[ =]//' | grep -vx -e 'list' -e 'handout' -e 'mystery' -e 'fixit' -e 'all' | sort -u >"$tmp/labs"
"$bin" --lab list 2>/dev/null | cut -f1 >"$tmp/known"
bad=$(grep -vxF -f "$tmp/known" "$tmp/labs" || true)
[ -s "$tmp/known" ] && [ -z "$bad" ]
t $? "every --lab scenario named in the documents exists" "unknown: $bad"

# --- README quick start
grep -Fq 'make run' README.md; t $? "README.md says make run"
grep -Fq 'make check' README.md; t $? "README.md says make check"

# --- the man page renders cleanly
if command -v groff >/dev/null 2>&1; then
	warn=$(groff -man -Tutf8 -ww -z smtpdx.1 2>&1 >/dev/null)
	[ -z "$warn" ]; t $? "groff -man -ww -z smtpdx.1 warns of nothing" "$warn"
else
	skip "groff is not installed (apt-get install groff-base)"
fi

# --- make install / make uninstall, staged under DESTDIR
dest="$tmp/dest"
mkdir -p "$dest"
if make install DESTDIR="$dest" PREFIX=/usr >"$tmp/install.log" 2>&1; then
	t 0 "make install DESTDIR=... PREFIX=/usr"
	got=$(cd "$dest" && find . -type f | sort)
	want=$(printf '%s\n' ./usr/bin/smtpdx ./usr/share/man/man1/smtpdx.1)
	[ "$got" = "$want" ]
	t $? "it installs exactly usr/bin/smtpdx and usr/share/man/man1/smtpdx.1" \
		"got: $got"
	[ -x "$dest/usr/bin/smtpdx" ]; t $? "the installed smtpdx is executable"
	cmp -s smtpdx.1 "$dest/usr/share/man/man1/smtpdx.1"
	t $? "the installed man page is smtpdx.1"
	if make uninstall DESTDIR="$dest" PREFIX=/usr >"$tmp/uninstall.log" 2>&1; then
		left=$(cd "$dest" && find . -type f)
		[ -z "$left" ]
		t $? "make uninstall DESTDIR=... PREFIX=/usr leaves no file" "left: $left"
	else
		t 1 "make uninstall DESTDIR=... PREFIX=/usr" "$(tail -n 20 "$tmp/uninstall.log")"
	fi
else
	t 1 "make install DESTDIR=... PREFIX=/usr" "$(tail -n 20 "$tmp/install.log")"
fi

finish

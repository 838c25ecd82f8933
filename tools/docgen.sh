#!/bin/sh
# docgen.sh md|man - the diagnosis table from the binary, grouped by the
# section comments of src/diag.def.  Run from the repository root.
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bin=${BIN:-./smtpdx}
fmt=$1
# id -> section title (text before the colon of the /* ... */ comment)
awk '
/^\/\* [A-Z][A-Za-z ]*(:|$)/ && !/diag\.def/ {
	s = $0; sub(/^\/\* /, "", s); sub(/:.*/, "", s); sub(/ *\*\/$/, "", s); sec = s; next }
/^DIAG\(/ { if (match($0, /"[a-z0-9_.]+"/)) print substr($0, RSTART+1, RLENGTH-2) "\t" sec }
' src/diag.def > "$tmp/sections"
"$bin" --lab list | cut -f1 > "$tmp/labs"
"$bin" --list-diagnoses | awk -F'\t' -v fmt="$fmt" -v secf="$tmp/sections" -v labf="$tmp/labs" '
BEGIN {
	while ((getline l < secf) > 0) { split(l, a, "\t"); sec[a[1]] = a[2] }
	while ((getline l < labf) > 0) lab[l] = 1
	if (fmt == "md") { print "| Stage | Id | Title | Lab |"; print "|---|---|---|---|" }
}
{
	s = ($1 in sec) ? sec[$1] : "?"
	if (fmt == "md") {
		printf "| %s | `%s` | %s | %s |\n", (s != last ? s : ""), $1, $2, (($1 in lab) ? "yes" : "")
	} else {
		if (s != last) printf ".SS %s\n", s
		t = $2; gsub(/\\/, "\\e", t); gsub(/-/, "\\-", t)
		printf ".TP\n.B %s\n%s\n", $1, t
	}
	last = s
}'

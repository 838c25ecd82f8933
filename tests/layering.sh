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
# ui/ has no dependency cycle: neither among its headers and sources
# (#include "..."), nor among its objects (a file that calls a function
# of another depends on it; nm of the built objects says who defines and
# who uses what).  Screens reach each other by id through the registry
# (ui/screen.h), so only tui.c may depend on them.
hits=$(python3 - <<'PY'
import glob, os, re, subprocess, sys
def cycle(graph):
    state = {}
    def visit(n, path):
        state[n] = 1
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                return path[path.index(m):] + [m] if m in path else path + [m]
            if m not in state:
                c = visit(m, path + [m])
                if c:
                    return c
        state[n] = 2
        return None
    for n in sorted(graph):
        if n not in state:
            c = visit(n, [n])
            if c:
                return c
    return None
inc = {}
for f in glob.glob("ui/*.c") + glob.glob("ui/*.h"):
    name = os.path.basename(f)
    inc[name] = set(m for m in re.findall(r'^#include\s+"([^"/]+)"', open(f).read(), re.M))
c = cycle(inc)
if c:
    print("include cycle: " + " -> ".join(c))
defs, uses = {}, {}
for src in sorted(glob.glob("ui/*.c")):
    name = os.path.basename(src)[:-2]
    obj = "build/ui/%s.o" % name
    if not os.path.exists(obj) or os.path.getmtime(obj) < os.path.getmtime(src):
        print("%s is missing or older than %s: build first (make)" % (obj, src))
        continue
    out = subprocess.run(["nm", "-g", obj], capture_output=True, text=True).stdout
    d, u = set(), set()
    for line in out.splitlines():
        p = line.split()
        if len(p) == 2 and p[0] == "U":
            u.add(p[1])
        elif len(p) == 3 and p[1] in "TDBRCV":
            d.add(p[2])
    defs[name], uses[name] = d, u
link = {a: set(b for b in defs if b != a and uses[a] & defs[b]) for a in defs}
c = cycle(link)
if c:
    print("link cycle among ui/ objects: " + " -> ".join(c))
PY
)
[ -z "$hits" ]; t $? "ui/ has no include or link cycle between its files" "$hits"
echo "$p passed, $f failed"
[ "$f" -eq 0 ]

#!/bin/sh
# mx.sh - --mx against a real DNS server (dnsmasq, from Debian's archive)
# serving a test zone on loopback, inside a network namespace of our own
# (tests/netns.sh: port 53 there is ours), smtpdx pointed at it with
# SMTPDX_RESOLV_CONF.  Without namespaces the same server runs on a free
# port of the host's loopback ("nameserver 127.0.0.1#PORT").  Asserts: MX
# order by preference, the move to the next MX when one does not answer
# (plain session and --sweep), dns.no_mx, dns.null_mx, dns.not_found.
# Never the real internet, nothing in /etc.  TAP; "N passed, M failed, K
# skipped".
set -u
cd "$(dirname "$0")/.." || exit 3
if [ -z "${SMTPDX_MX_INNER:-}" ] && [ -z "${SMTPDX_MX_NO_NETNS:-}" ] &&
   sh tests/netns.sh --probe 2>/dev/null; then
	SMTPDX_MX_INNER=1 exec sh tests/netns.sh sh tests/mx.sh
fi
SMTPDX=$(cd "$(dirname "${SMTPDX:-./smtpdx}")" && pwd)/$(basename "${SMTPDX:-./smtpdx}")
pass=0 fail=0 skipped=0 n=0
tmp=$(mktemp -d)
dnspid="" labpid=""

ok() { n=$((n + 1)); pass=$((pass + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $1"; [ -n "${2:-}" ] && printf '%s\n' "$2" | head -n 20 | sed 's/^/#   /'; }
check() { name=$1; shift; if "$@" >"$tmp/why" 2>&1; then ok "$name"; else notok "$name" "$(cat "$tmp/why")"; fi; }
finish() {
	[ -n "$labpid" ] && kill "$labpid" 2>/dev/null
	[ -n "$dnspid" ] && kill "$dnspid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap finish EXIT INT TERM

summary() { echo "$pass passed, $fail failed, $skipped skipped"; [ "$fail" -eq 0 ]; exit $?; }

# dnsmasq-base: `make check` installs it (tools/deps.sh test); else skip
if ! command -v dnsmasq >/dev/null 2>&1; then
	n=$((n + 1)); skipped=$((skipped + 1))
	echo "ok $n - --mx against dnsmasq # SKIP dnsmasq is not installed (apt-get install dnsmasq-base)"
	summary
fi

if [ -n "${SMTPDX_MX_INNER:-}" ]; then
	dnsport=53
	echo "nameserver 127.0.0.1" >"$tmp/resolv.conf"
	echo "# in a network namespace of our own: dnsmasq on 127.0.0.1:53"
else
	dnsport=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	echo "nameserver 127.0.0.1#$dnsport" >"$tmp/resolv.conf"
	echo "# no network namespace here: dnsmasq on the host's 127.0.0.1:$dnsport"
fi
export SMTPDX_RESOLV_CONF="$tmp/resolv.conf"
run=""

# The zone.  MX records listed out of order on purpose; mx1 is an address
# where nothing listens (refused), mx2 the lab.
$run dnsmasq --keep-in-foreground --no-resolv --no-hosts --user=root --group= \
	--listen-address=127.0.0.1 --bind-interfaces --port="$dnsport" \
	--pid-file="$tmp/dnsmasq.pid" --log-facility="$tmp/dnsmasq.log" --local=/test/ \
	--mx-host=smtpdx.test,mx3.smtpdx.test,30 \
	--mx-host=smtpdx.test,mx2.smtpdx.test,20 \
	--mx-host=smtpdx.test,mx1.smtpdx.test,10 \
	--host-record=mx1.smtpdx.test,127.0.0.2 \
	--host-record=mx2.smtpdx.test,127.0.0.1 \
	--host-record=mx3.smtpdx.test,127.0.0.4 \
	--host-record=nomx.test,127.0.0.1 \
	--mx-host=xn--bcher-kva.test,mx.xn--bcher-kva.test,10 \
	--host-record=mx.xn--bcher-kva.test,127.0.0.1 \
	--mx-host=nullmx.test,.,0 &
dnspid=$!
$run "$SMTPDX" --lab ok --lab-server "$tmp/ca.pem" >"$tmp/port" &
labpid=$!
i=0	# a generous ceiling (30 s): a loaded machine is slow to start them
while [ $i -lt 300 ]; do
	[ -s "$tmp/port" ] && [ -s "$tmp/dnsmasq.pid" ] && break
	kill -0 "$dnspid" 2>/dev/null || break
	sleep 0.1
	i=$((i + 1))
done
port=$(head -n 1 "$tmp/port")
if [ -z "$port" ] || ! kill -0 "$dnspid" 2>/dev/null; then
	notok "dnsmasq and the lab start" "$(cat "$tmp/dnsmasq.log" 2>/dev/null)"
	summary
fi
ok "dnsmasq serves the test zone, the lab listens on $port"

sx() {	# smtpdx inside the namespace (or not), exit status in $tmp/rc
	$run "$SMTPDX" "$@" --cafile "$tmp/ca.pem" --servername mail.smtpdx.lab \
		--timeout 2 </dev/null >"$tmp/out" 2>"$tmp/err"
	echo $? >"$tmp/rc"
}
jq_py() {	# python expression over the JSON report r; true/false
	python3 - "$tmp/out" "$1" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
v = eval(sys.argv[2])
if not v:
    print("failed: %s" % sys.argv[2])
    print(json.dumps(r.get("mx"), indent=1)[:1500])
    print([d["id"] for d in r.get("diagnoses", [])])
sys.exit(0 if v else 1)
EOF
}
rc_is() { [ "$(cat "$tmp/rc")" = "$1" ] || { echo "exit $(cat "$tmp/rc"), want $1"; cat "$tmp/err"; return 1; }; }

# 1. a session: MX order, fallback from mx1 (refused) to mx2
sx --mx smtpdx.test -p "$port" --json -f alice@smtpdx.lab -t bob@smtpdx.lab --no-send
check "session: exit 0" rc_is 0
check "session: MX hosts sorted by preference" jq_py \
	'[(h["preference"], h["host"]) for h in r["mx"]["hosts"]] == [(10, "mx1.smtpdx.test"), (20, "mx2.smtpdx.test"), (30, "mx3.smtpdx.test")]'
check "session: MX addresses resolved" jq_py \
	'[h["addresses"] for h in r["mx"]["hosts"]] == [["127.0.0.2"], ["127.0.0.1"], ["127.0.0.4"]]'
check "session: mx1 did not answer, mx2 did" jq_py \
	'[(t["host"], t["outcome"]) for t in r["mx"]["tried"]] == [("mx1.smtpdx.test", "connect.refused"), ("mx2.smtpdx.test", "answered")]'
check "session: the report is mx2's" jq_py \
	'r["mx"]["used"] == {"host": "mx2.smtpdx.test", "address": "127.0.0.1"} and r["result"] == "ok" and r["target"]["address"] == "127.0.0.1"'
check "session: status found, no dns diagnosis" jq_py \
	'r["mx"]["status"] == "found" and not [d for d in r["diagnoses"] if d["id"].startswith("dns.")]'

sx --mx smtpdx.test -p "$port" --batch -f alice@smtpdx.lab -t bob@smtpdx.lab --no-send
check "batch: exit 0" rc_is 0
check "batch: lists the MX hosts in order" sh -c \
	"awk '\$1 == \"===\" && \$2 ~ /^[0-9]+\$/ { printf \"%s \", \$3 }' '$tmp/out' | grep -qx 'mx1.smtpdx.test mx2.smtpdx.test mx3.smtpdx.test '"
check "batch: says it moves to the next MX" grep -q \
	"mx1.smtpdx.test \[127.0.0.2\] did not answer (connect.refused): moving to the next MX, mx2.smtpdx.test" "$tmp/out"

# 2. --sweep on the MX hosts: mx1 has no port that answers -> mx2
sx --mx smtpdx.test --sweep --ports "$port" --json
check "sweep: exit 0" rc_is 0
check "sweep: moved on to mx2" jq_py \
	'[(t["host"], t["outcome"]) for t in r["mx"]["tried"]] == [("mx1.smtpdx.test", "no answer on any port"), ("mx2.smtpdx.test", "answered")]'
check "sweep: relay policy recommends the STARTTLS port" jq_py \
	'(r["recommendation"]["port"], r["recommendation"]["tls"], r["recommendation"]["rule"]) == (int(open("'"$tmp/port"'").readline()), "starttls", "other-relay-starttls")'

# 3. no MX: the domain itself, dns.no_mx (information)
sx --mx nomx.test -p "$port" --json -f alice@smtpdx.lab -t bob@smtpdx.lab --no-send
check "no MX: exit 0" rc_is 0
check "no MX: status implicit, the domain is the host" jq_py \
	'r["mx"]["status"] == "implicit" and r["mx"]["hosts"] == [{"preference": 0, "host": "nomx.test", "addresses": ["127.0.0.1"]}]'
check "no MX: dns.no_mx, severity info" jq_py \
	'[(d["id"], d["severity"]) for d in r["diagnoses"]] == [("dns.no_mx", "info")] and r["result"] == "ok"'

# 3b. an internationalised mail domain: asked for as its A-labels
sx --mx bücher.test -p "$port" --json -f alice@smtpdx.lab -t bob@smtpdx.lab --no-send
check "U-label domain bücher.test: exit 0" rc_is 0
check "U-label domain: its MX (asked for as xn--bcher-kva.test) found and used" jq_py \
	'r["mx"]["status"] == "found" and r["mx"]["hosts"] == [{"preference": 10, "host": "mx.xn--bcher-kva.test", "addresses": ["127.0.0.1"]}] and r["result"] == "ok"'

# 4. null MX: dns.null_mx, exit 1, nothing tried
sx --mx nullmx.test --json
check "null MX: exit 1" rc_is 1
check "null MX: dns.null_mx, nothing tried" jq_py \
	'r["mx"]["status"] == "null" and [d["id"] for d in r["diagnoses"]] == ["dns.null_mx"] and r["mx"]["tried"] == [] and r["result"] == "fail"'
sx --mx nullmx.test --batch
check "null MX (batch): exit 1 and says so" sh -c \
	"[ \"\$(cat '$tmp/rc')\" = 1 ] && grep -q 'dns.null_mx' '$tmp/out' && grep -q 'accepts no mail' '$tmp/out'"
sx --mx nullmx.test --sweep --json
check "null MX with --sweep: exit 1" rc_is 1

# 5. a domain that does not exist
sx --mx nothere.test --json
check "NXDOMAIN: exit 1, dns.not_found" sh -c \
	"[ \"\$(cat '$tmp/rc')\" = 1 ] && python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if [d[\"id\"] for d in r[\"diagnoses\"]] == [\"dns.not_found\"] and r[\"mx\"][\"status\"] == \"not_found\" else 1)' '$tmp/out'"

# 6. the MX domain is the server's own: a refusal that names no reason
# ("550 I cannot deliver mail for <x>") for a recipient in the --mx domain
# is an unknown user, not a relay refusal, though no other name relates
$run "$SMTPDX" --lab own-no-reason --lab-server "$tmp/ca2.pem" >"$tmp/port2" &
lab2pid=$!
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	[ -s "$tmp/port2" ] && break
	sleep 0.1
done
port2=$(head -n 1 "$tmp/port2")
$run "$SMTPDX" --mx smtpdx.test -p "$port2" --json -f alice@smtpdx.lab \
	-t nobody@smtpdx.test --no-send --cafile "$tmp/ca2.pem" \
	--servername mail.smtpdx.lab --timeout 2 </dev/null >"$tmp/out" 2>"$tmp/err"
check "MX domain is own: 550 with no reason is rcpt.unknown_user" jq_py \
	'[d["id"] for d in r["diagnoses"]] == ["rcpt.unknown_user"] and any(s["node"] == "rcpt.out.whose" and s["answer"].startswith("own") and "smtpdx.test" in s["answer"] for s in r["diagnoses"][0]["answers"])'
kill "$lab2pid" 2>/dev/null

summary

#!/bin/sh
# teardown.sh STATE - stop the private Postfix, Dovecot and OpenDKIM of
# setup.sh
# STATE, and wait until their master processes are gone.  Only those:
# their own pid files, their own config.
set -u
STATE=${1:?usage: teardown.sh STATE}
pids=""
if [ -f "$STATE/etc/main.cf" ]; then
	p=$(head -n 1 "$STATE/queue/pid/master.pid" 2>/dev/null | tr -d ' ')
	postfix -c "$STATE/etc" stop </dev/null >/dev/null 2>&1
	pids="$pids $p"
fi
if [ -f "$STATE/dovecot.conf" ]; then
	p=$(head -n 1 "$STATE/dovecot/base/master.pid" 2>/dev/null)
	doveadm -c "$STATE/dovecot.conf" stop </dev/null >/dev/null 2>&1 ||
		{ [ -n "$p" ] && kill "$p" 2>/dev/null; }
	pids="$pids $p"
fi
if [ -f "$STATE/opendkim/pid" ]; then
	p=$(head -n 1 "$STATE/opendkim/pid" 2>/dev/null)
	[ -n "$p" ] && kill "$p" 2>/dev/null
	pids="$pids $p"
fi
for pid in $pids; do
	i=0
	while [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
done
exit 0

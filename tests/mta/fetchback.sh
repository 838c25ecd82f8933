#!/bin/sh
# fetchback.sh - --fetch-back against a real Postfix + Dovecot + OpenDKIM
# (TAP): a private instance (tests/mta/with-mta.sh) for as long as
# tests/mta/fetchback_test.py runs.  Where no instance can run (not root,
# Postfix not installed) the suite says why and counts as skipped.
set -u
cd "$(dirname "$0")/../.." || exit 3
err=$(mktemp)
sh tests/mta/with-mta.sh sh -c 'echo "# private Postfix + Dovecot + OpenDKIM $MTA_WHERE"; exec python3 tests/mta/fetchback_test.py' 2>"$err"
rc=$?
if [ $rc -eq 77 ]; then
	echo "ok 1 - --fetch-back against Postfix + Dovecot # SKIP $(tr '\n' ' ' <"$err")"
	echo "0 passed, 0 failed, 1 skipped"
	rc=0
elif [ -s "$err" ] && ! grep -q '^mta-setup: ready' "$err"; then
	echo "not ok 1 - a private Postfix + Dovecot starts"
	sed 's/^/#   /' "$err"
	echo "0 passed, 1 failed, 0 skipped"
	rc=1
fi
rm -f "$err"
exit $rc

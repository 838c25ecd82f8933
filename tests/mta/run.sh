#!/bin/sh
# run.sh - smtpdx against a real Postfix + Dovecot on loopback (TAP).
# Sets the MTA up (setup.sh: installs it if needed), runs mta_test.py,
# stops it again.  Where the machine cannot install or start it (not root,
# no apt), a loud SKIP and an empty summary: CI (.ci/run, as root) runs it.
set -u
cd "$(dirname "$0")/../.." || exit 3
out=$(sh tests/mta/setup.sh 2>&1); rc=$?
if [ $rc -eq 77 ]; then
	echo "# SKIP ******************************************************"
	echo "# SKIP tests/mta: no real MTA here: $out"
	echo "# SKIP run as root on Debian (e.g. .ci/run) to test against Postfix"
	echo "# SKIP ******************************************************"
	echo "0 passed, 0 failed"
	exit 0
fi
if [ $rc -ne 0 ]; then
	echo "not ok 1 - tests/mta/setup.sh starts Postfix and Dovecot"
	printf '%s\n' "$out" | sed 's/^/#   /'
	echo "0 passed, 1 failed"
	exit 1
fi
echo "# $out"
python3 tests/mta/mta_test.py; rc=$?
[ -n "${MTA_KEEP:-}" ] || sh tests/mta/teardown.sh
exit $rc

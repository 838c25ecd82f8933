#!/bin/sh
# teardown.sh - stop the Postfix and Dovecot that tests/mta/setup.sh started.
set -u
MTA_STATE=${MTA_STATE:-/var/lib/smtpdx-mta}
grep -q "smtpdx tests/mta/setup.sh" /etc/postfix/main.cf 2>/dev/null || exit 0
postfix stop </dev/null >/dev/null 2>&1
[ -f "$MTA_STATE/dovecot.conf" ] &&
	doveadm -c "$MTA_STATE/dovecot.conf" stop </dev/null >/dev/null 2>&1
exit 0

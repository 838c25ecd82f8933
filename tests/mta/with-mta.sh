#!/bin/sh
# with-mta.sh CMD [ARG...] - run CMD with a private Postfix + Dovecot
# (tests/mta/setup.sh) that lives as long as CMD does.  Where the machine
# allows it, all of it runs inside a network namespace of our own
# (tests/netns.sh), so the listeners take the standard numbers 587, 465
# and 25 without meeting whatever the machine runs on them; otherwise on
# free ports of the host's loopback, picked by the kernel.  CMD sees:
#
#   MTA_STATE     the instance's directory (pki/ca.pem, mail/tester/, logs)
#   MTA_SUB MTA_IMPLICIT MTA_MX   its ports on 127.0.0.1
#   MTA_OAUTH     a submission port whose AUTH is OAUTHBEARER and XOAUTH2
#   MTA_TOKENINFO the port where Dovecot checks tokens (HTTP): the test
#                 runs that endpoint, Dovecot asks it per AUTH
#   MTA_PASSWORD  tester@mta.test's password
#   MTA_WHERE     one line saying where it runs
#
# Exit 77 with the reason on stderr when no instance can run here (not
# root, Postfix not installed); otherwise CMD's exit status, or 1 when the
# instance would not start (its logs on stderr).  MTA_KEEP=1 keeps STATE.
set -u
here=$(cd "$(dirname "$0")" && pwd)
if [ "${1:-}" != --inside ]; then
	[ "$(id -u)" = 0 ] || { echo "not root: Postfix's master must start as root" >&2; exit 77; }
	for t in postfix dovecot certtool; do
		command -v $t >/dev/null 2>&1 ||
			{ echo "$t is not installed (make deps installs postfix dovecot-core gnutls-bin)" >&2; exit 77; }
	done
	if [ -z "${MTA_NO_NETNS:-}" ] && sh "$here/../netns.sh" --probe 2>/dev/null; then
		MTA_SUB=587 MTA_IMPLICIT=465 MTA_MX=25 MTA_OAUTH=2587 MTA_TOKENINFO=8089 \
		MTA_WHERE="in a network namespace of its own: 127.0.0.1 ports 587, 465, 25" \
			exec sh "$here/../netns.sh" sh "$0" --inside "$@"
	fi
	set -- $(python3 -c '
import socket
ss = [socket.socket() for _ in range(5)]
for s in ss:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))') --inside "$@"
	MTA_SUB=$1 MTA_IMPLICIT=$2 MTA_MX=$3 MTA_OAUTH=$4 MTA_TOKENINFO=$5
	shift 5
	MTA_WHERE="on the host's loopback (no network namespace here): 127.0.0.1 ports $MTA_SUB, $MTA_IMPLICIT, $MTA_MX"
	export MTA_SUB MTA_IMPLICIT MTA_MX MTA_OAUTH MTA_TOKENINFO MTA_WHERE
fi
shift
MTA_PASSWORD=${MTA_PASSWORD:-mta-Secret-77}
MTA_STATE=$(mktemp -d "${TMPDIR:-/tmp}/smtpdx-mta.XXXXXX") || exit 1
export MTA_STATE MTA_PASSWORD MTA_SUB MTA_IMPLICIT MTA_MX MTA_OAUTH MTA_TOKENINFO MTA_WHERE
cleanup() {
	sh "$here/teardown.sh" "$MTA_STATE"
	[ -n "${MTA_KEEP:-}" ] || rm -rf "$MTA_STATE"
}
trap 'cleanup; exit 1' INT TERM HUP
sh "$here/setup.sh" "$MTA_STATE" 2>"$MTA_STATE/setup.err"; rc=$?
if [ $rc -ne 0 ]; then
	cat "$MTA_STATE/setup.err" >&2
	cleanup
	exit $rc
fi
"$@"; rc=$?
cleanup
exit $rc

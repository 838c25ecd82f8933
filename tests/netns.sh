#!/bin/sh
# netns.sh CMD [ARG...] - run CMD in a network namespace of its own, with
# only a loopback interface (up): every port there is free, 25 and 587
# included; nothing CMD binds is visible to the machine, and nothing the
# machine runs is visible to CMD.  As root a plain `unshare --net`;
# otherwise a user namespace too (`unshare --user --map-root-user --net`),
# where the kernel allows unprivileged ones.  The namespace ends with the
# last process in it: nothing to clean up.
#
# Exit 77, with the reason on stderr, when no namespace can be made here
# (the caller counts its tests as skipped); otherwise CMD's exit status.
# `netns.sh --probe`: only whether it would work (0 or 77).
#
# Besides lo, a veth pair with both ends in the namespace holds
# 192.0.2.1/32 (TEST-NET-1, RFC 5737) and 2001:db8::1/128 (RFC 3849):
# nothing leaves (the other end is ours too, no route points anywhere),
# but getaddrinfo's AI_ADDRCONFIG sees IPv4 and IPv6 configured, as on a
# real host; with lo alone it answers "no such name" to lookups the lab's
# dns.* scenarios expect an answer to, and they would be judged on the
# namespace instead of on smtpdx.  Where veth is not available, lo alone.
set -u
if ! command -v unshare >/dev/null 2>&1 || ! command -v ip >/dev/null 2>&1; then
	echo "no network namespace: unshare (util-linux) or ip (iproute2) missing" >&2
	exit 77
fi
if [ "$(id -u)" = 0 ]; then
	how="--net"
else
	how="--user --map-root-user --net"
fi
# shellcheck disable=SC2086
if ! why=$(unshare $how -- ip link set lo up 2>&1); then
	echo "no network namespace here (unshare $how: ${why:-failed})" >&2
	exit 77
fi
[ "${1:-}" = --probe ] && exit 0
# shellcheck disable=SC2086
exec unshare $how -- sh -c 'ip link set lo up || exit 77
if ip link add smtpdx0 type veth peer name smtpdx1 2>/dev/null; then
	ip link set smtpdx1 up; ip link set smtpdx0 up
	ip addr add 192.0.2.1/32 dev smtpdx0
	ip -6 addr add 2001:db8::1/128 dev smtpdx0 nodad 2>/dev/null
fi
exec "$@"' netns.sh "$@"

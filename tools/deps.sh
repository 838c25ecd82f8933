#!/bin/sh
# deps.sh [--install] TIER... - the Debian packages smtpdx needs.
#
#   build        compiler, pkg-config and the libraries (plain `make`)
#   test         what `make check` runs: tmux, swaks (with TLS), clang and
#                libFuzzer, valgrind, dnsmasq, a Postfix and a Dovecot for
#                the private test instances, certtool, iproute2, iptables
#   screenshots  python3-pil and the DejaVu fonts (`make screenshots`)
#   all          all of them (`make deps`)
#
# Without --install: exit 0 when everything is here; otherwise name the
# missing packages and the apt-get line, exit 1 (plain `make` never
# installs).  With --install: install what is missing (as root, or
# through sudo when it asks for no password), non-interactively, Postfix
# preseeded to "No configuration" and no service started by the
# packages' scripts: the tests run private instances of their own and
# leave the machine's mail system alone.
set -u
install=0
[ "${1:-}" = --install ] && { install=1; shift; }
[ $# -gt 0 ] || set -- build

missing=""
need() { case " $missing " in *" $1 "*) ;; *) missing="$missing $1" ;; esac; }
have() { command -v "$1" >/dev/null 2>&1; }
have_pc() { pkg-config --exists "$@" 2>/dev/null; }
have_deb() { dpkg-query -W -f '${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }

for tier in "$@"; do
	case $tier in
	build|test|screenshots|all) ;;
	*) echo "usage: deps.sh [--install] build|test|screenshots|all ..." >&2; exit 2 ;;
	esac
	case $tier in build|test|all)
		have cc || need gcc
		have make || need make
		have pkg-config || need pkg-config
		have_pc ncursesw || need libncurses-dev
		have_pc gnutls || need libgnutls28-dev
		have_pc libedit || need libedit-dev
		have_pc libgsasl || need libgsasl-dev
		have_pc inih || need libinih-dev
	esac
	case $tier in test|all)
		have tmux || need tmux
		have swaks || need swaks
		perl -MNet::SSLeay -e1 2>/dev/null || need libnet-ssleay-perl
		have curl || need curl
		have python3 || need python3
		have clang || need clang
		if have dpkg-query && have clang; then
			v=$(clang -dumpversion 2>/dev/null | cut -d. -f1)
			[ -z "$v" ] || have_deb "libclang-rt-$v-dev" || need "libclang-rt-$v-dev"
		fi
		have valgrind || need valgrind
		have dnsmasq || need dnsmasq-base
		have postfix || need postfix
		have dovecot || need dovecot-core
		have certtool || need gnutls-bin
		have ip || need iproute2
		{ have iptables || [ -x /usr/sbin/iptables ]; } || need iptables
		[ -x /usr/bin/time ] || need time
		have groff || need groff-base
		have openssl || need openssl
		/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || need python3-aiosmtpd
	esac
	case $tier in screenshots|all)
		have tmux || need tmux
		[ -x /usr/bin/python3 ] || need python3
		/usr/bin/python3 -c 'import PIL' 2>/dev/null || need python3-pil
		[ -f /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf ] || need fonts-dejavu-core
	esac
done
[ -z "$missing" ] && exit 0

if [ $install = 0 ]; then
	echo "smtpdx needs these Debian packages:$missing" >&2
	echo "install them with: sudo apt-get install$missing  (or: make deps)" >&2
	exit 1
fi
if [ "$(id -u)" = 0 ]; then
	sudo=""
elif have sudo && sudo -n true 2>/dev/null; then
	sudo="sudo -n"
else
	echo "smtpdx needs these Debian packages:$missing" >&2
	echo "install them with: sudo apt-get install$missing" >&2
	exit 1
fi
echo "deps.sh: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# Postfix: no main.cf, no mail system configured.
printf '%s\n' "postfix postfix/main_mailer_type select No configuration" |
	$sudo debconf-set-selections 2>/dev/null || true
# No daemon started by the packages' scripts (invoke-rc.d asks
# policy-rc.d); only when the machine has no policy of its own.
policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null &&
		$sudo chmod 755 /usr/sbin/policy-rc.d && policy=1
fi
$sudo apt-get update -qq >/dev/null 2>&1 || true
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
rc=$?
[ -n "$policy" ] && $sudo rm -f /usr/sbin/policy-rc.d
[ $rc -eq 0 ] || { echo "deps.sh: apt-get install$missing failed" >&2; exit 1; }

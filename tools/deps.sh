#!/bin/sh
# deps.sh build|test - make sure the Debian packages smtpdx needs are here.
# Installs what is missing with apt-get (as root, or through sudo when it
# asks for no password); otherwise says exactly which packages to install.
set -u
what=${1:-build}

build_pkgs="gcc make pkg-config libncurses-dev libgnutls28-dev libedit-dev libgsasl-dev libinih-dev"
test_pkgs="tmux swaks curl python3 clang libclang-rt-14-dev valgrind"

missing=""
have_pc() { pkg-config --exists "$@" 2>/dev/null; }
case $what in
build)
	command -v cc >/dev/null 2>&1 || missing="$missing gcc"
	command -v make >/dev/null 2>&1 || missing="$missing make"
	command -v pkg-config >/dev/null 2>&1 || missing="$missing pkg-config"
	have_pc ncursesw || missing="$missing libncurses-dev"
	have_pc gnutls || missing="$missing libgnutls28-dev"
	have_pc libedit || missing="$missing libedit-dev"
	have_pc libgsasl || missing="$missing libgsasl-dev"
	have_pc inih || missing="$missing libinih-dev"
	;;
test)
	command -v tmux >/dev/null 2>&1 || missing="$missing tmux"
	command -v swaks >/dev/null 2>&1 || missing="$missing swaks"
	command -v curl >/dev/null 2>&1 || missing="$missing curl"
	command -v python3 >/dev/null 2>&1 || missing="$missing python3"
	# tests/interop: certificates, Debian's aiosmtpd, openssl for hashes
	command -v certtool >/dev/null 2>&1 || missing="$missing gnutls-bin"
	command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
	/usr/bin/python3 -c 'import aiosmtpd' >/dev/null 2>&1 ||
		missing="$missing python3-aiosmtpd"
	;;
*)
	echo "usage: deps.sh build|test" >&2; exit 2 ;;
esac
[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ]; then
	sudo=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
	sudo="sudo -n"
else
	echo "smtpdx needs these Debian packages:$missing" >&2
	echo "install them with: sudo apt-get install$missing" >&2
	exit 1
fi
echo "deps.sh: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null 2>&1 || true
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
	{ echo "deps.sh: apt-get install$missing failed" >&2; exit 1; }

#!/bin/sh
# setup.sh - a real Postfix + Dovecot SASL on loopback, for tests/mta/run.sh.
#
# Installs postfix and dovecot-core (apt-get, non-interactive, debconf
# preseeded), makes a throwaway CA and a certificate for mail.mta.test
# (and 127.0.0.1), and starts, without systemd:
#
#   127.0.0.1:10587  submission: STARTTLS required, AUTH PLAIN LOGIN (Dovecot)
#   127.0.0.1:10465  submission over implicit TLS, the same AUTH
#   127.0.0.1:10025  port-25 style: STARTTLS offered, no AUTH
#
# Mail for @mta.test goes to a maildir under $MTA_STATE/mail; anything else
# is refused (Relay access denied) or, once accepted, bounced by the error
# transport: nothing can leave the machine.  Idempotent: a second run
# rewrites the configuration and restarts both daemons.
#
# Exit 0 ready; 77 cannot set up here (not root, no apt, a foreign
# Postfix/Dovecot configuration we will not overwrite): the caller prints
# a loud SKIP.  Everything the daemons print goes to /dev/null or to
# $MTA_STATE/log, so a caller reading our pipe never waits for them.
set -u
MTA_STATE=${MTA_STATE:-/var/lib/smtpdx-mta}
MTA_USER=tester@mta.test
MTA_PASSWORD=${MTA_PASSWORD:-mta-Secret-77}
MARK="# smtpdx tests/mta/setup.sh"
log() { echo "mta-setup: $*" >&2; }
skip() { log "$*"; exit 77; }

[ "$(id -u)" = 0 ] || skip "not root: cannot install or start Postfix"

# ---- packages ---------------------------------------------------------
need=""
command -v postfix >/dev/null 2>&1 || need="$need postfix"
command -v dovecot >/dev/null 2>&1 || need="$need dovecot-core"
command -v certtool >/dev/null 2>&1 || need="$need gnutls-bin"
if [ -n "$need" ]; then
	command -v apt-get >/dev/null 2>&1 || skip "no apt-get to install$need"
	if [ -f /etc/postfix/main.cf ] && ! grep -q "$MARK" /etc/postfix/main.cf; then
		skip "/etc/postfix/main.cf exists and is not ours"
	fi
	[ -f /etc/mailname ] || echo mail.mta.test > /etc/mailname
	printf '%s\n' \
		"postfix postfix/main_mailer_type select No configuration" \
		"postfix postfix/mailname string mail.mta.test" |
		debconf-set-selections 2>/dev/null
	log "installing$need"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q --no-install-recommends $need >/dev/null 2>&1 ||
		{ apt-get update -qq >/dev/null 2>&1;
		  apt-get install -y -q --no-install-recommends $need >/dev/null 2>&1; } ||
		skip "apt-get install$need failed"
fi
# Debian's postinst may start them through invoke-rc.d: we run our own.
if [ -f /etc/postfix/main.cf ] && ! grep -q "$MARK" /etc/postfix/main.cf &&
   [ -s /etc/postfix/main.cf ] && grep -q '^[a-z]' /etc/postfix/main.cf; then
	skip "/etc/postfix/main.cf exists and is not ours (a real mail server?)"
fi

# ---- stop what runs (idempotent) --------------------------------------
postfix stop >/dev/null 2>&1
[ -f "$MTA_STATE/dovecot.conf" ] && doveadm -c "$MTA_STATE/dovecot.conf" stop >/dev/null 2>&1
[ -f "$MTA_STATE/run/master.pid" ] && kill "$(cat "$MTA_STATE/run/master.pid")" 2>/dev/null
sleep 0.3

mkdir -p "$MTA_STATE/mail" "$MTA_STATE/run" "$MTA_STATE/pki"
chmod 755 "$MTA_STATE"

# ---- a throwaway CA and the server certificate ------------------------
pki=$MTA_STATE/pki
if [ ! -s "$pki/server.pem" ] || [ ! -s "$pki/ca.pem" ]; then
	cat > "$pki/ca.tmpl" <<-T
	cn = "smtpdx MTA test CA"
	ca
	cert_signing_key
	expiration_days = 3650
	T
	cat > "$pki/server.tmpl" <<-T
	cn = "mail.mta.test"
	dns_name = "mail.mta.test"
	ip_address = "127.0.0.1"
	tls_www_server
	signing_key
	encryption_key
	expiration_days = 3650
	T
	certtool --generate-privkey --key-type=ecdsa --outfile "$pki/ca.key" >/dev/null 2>&1 &&
	certtool --generate-self-signed --load-privkey "$pki/ca.key" \
		--template "$pki/ca.tmpl" --outfile "$pki/ca.pem" >/dev/null 2>&1 &&
	certtool --generate-privkey --key-type=ecdsa --outfile "$pki/server.key" >/dev/null 2>&1 &&
	certtool --generate-certificate --load-privkey "$pki/server.key" \
		--load-ca-certificate "$pki/ca.pem" --load-ca-privkey "$pki/ca.key" \
		--template "$pki/server.tmpl" --outfile "$pki/server.pem" >/dev/null 2>&1 ||
		{ log "certtool failed"; exit 1; }
	chmod 600 "$pki/ca.key" "$pki/server.key"
fi

# ---- Dovecot: SASL only, from a config of its own ----------------------
# passwd-file userdb/passdb, no PAM; the auth socket inside Postfix's
# chroot (/var/spool/postfix/private/auth).  No protocols: no IMAP/POP
# listener, auth service only.
printf '%s:{PLAIN}%s::::::\n' "$MTA_USER" "$MTA_PASSWORD" > "$MTA_STATE/passwd"
chmod 640 "$MTA_STATE/passwd"
chgrp dovecot "$MTA_STATE/passwd" 2>/dev/null
cat > "$MTA_STATE/dovecot.conf" <<EOC
$MARK
protocols =
base_dir = $MTA_STATE/run/dovecot
state_dir = $MTA_STATE/run/dovecot-state
log_path = $MTA_STATE/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
auth_cache_size = 0
passdb {
  driver = passwd-file
  args = scheme=PLAIN $MTA_STATE/passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$MTA_STATE/mail
}
service auth {
  unix_listener /var/spool/postfix/private/auth {
    mode = 0660
    user = postfix
    group = postfix
  }
}
service anvil {
  chroot =
}
EOC
mkdir -p "$MTA_STATE/run/dovecot" "$MTA_STATE/run/dovecot-state"

# ---- Postfix -----------------------------------------------------------
mkdir -p /var/spool/postfix/etc /var/spool/postfix/private
for f in hosts resolv.conf services nsswitch.conf host.conf localtime; do
	[ -f /etc/$f ] && cp -fL /etc/$f /var/spool/postfix/etc/ 2>/dev/null
done
cat > /etc/postfix/main.cf <<EOC
$MARK
compatibility_level = 3.6
myhostname = mail.mta.test
mydomain = mta.test
myorigin = mta.test
mydestination = localhost
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost =
default_transport = error:nothing leaves this test machine
relay_transport = error:nothing leaves this test machine
local_transport = error:no local delivery here
smtp_dns_support_level = disabled
disable_dns_lookups = yes
smtpd_peername_lookup = no
smtpd_banner = \$myhostname ESMTP Postfix
biff = no
append_dot_mydomain = no
readme_directory = no
alias_maps =
alias_database =
virtual_mailbox_domains = mta.test
virtual_mailbox_base = $MTA_STATE/mail
virtual_mailbox_maps = inline:{ $MTA_USER=tester/ }
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
virtual_minimum_uid = 100
smtpd_tls_cert_file = $pki/server.pem
smtpd_tls_key_file = $pki/server.key
smtpd_tls_security_level = may
smtpd_tls_auth_only = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = private/auth
smtpd_sasl_auth_enable = no
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
smtpd_recipient_restrictions =
maillog_file = $MTA_STATE/postfix.log
anvil_rate_time_unit = 60s
smtpd_client_connection_rate_limit = 0
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 100
smtpd_hard_error_limit = 100
EOC
# master.cf: Debian's internal services, our three listeners, postlog.
sed -e '/^smtp *inet/d' -e '/^#/d' -e '/^ *$/d' /etc/postfix/master.cf.proto \
	> "$MTA_STATE/master.internal" 2>/dev/null
{
	echo "$MARK"
	echo "127.0.0.1:10025 inet n - y - - smtpd"
	echo "127.0.0.1:10587 inet n - y - - smtpd"
	echo "  -o syslog_name=postfix/submission"
	echo "  -o smtpd_tls_security_level=encrypt"
	echo "  -o smtpd_sasl_auth_enable=yes"
	echo "  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject"
	echo "127.0.0.1:10465 inet n - y - - smtpd"
	echo "  -o syslog_name=postfix/submissions"
	echo "  -o smtpd_tls_wrappermode=yes"
	echo "  -o smtpd_sasl_auth_enable=yes"
	echo "  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject"
	echo "postlog unix-dgram n - n - 1 postlogd"
	grep -v '^postlog' "$MTA_STATE/master.internal"
} > /etc/postfix/master.cf
chown nobody:nogroup "$MTA_STATE/mail"

postfix check >/dev/null 2>&1 || true
postfix set-permissions >/dev/null 2>&1 || true

# ---- start -------------------------------------------------------------
dovecot -c "$MTA_STATE/dovecot.conf" </dev/null >/dev/null 2>&1 ||
	{ log "dovecot would not start (see $MTA_STATE/dovecot.log)"; exit 1; }
postfix start </dev/null >/dev/null 2>&1 ||
	{ log "postfix would not start (see $MTA_STATE/postfix.log)"; exit 1; }

# Ready when the three ports greet and the auth socket exists.
i=0
while [ $i -lt 50 ]; do
	ok=1
	for port in 10025 10587; do
		python3 - "$port" <<'P' || ok=0
import socket, sys
try:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)
    s.settimeout(2)
    ok = s.recv(100).startswith(b"220")
    s.close()
    sys.exit(0 if ok else 1)
except Exception:
    sys.exit(1)
P
	done
	[ -S /var/spool/postfix/private/auth ] || ok=0
	[ $ok = 1 ] && { log "ready: 10587 (STARTTLS+AUTH) 10465 (TLS+AUTH) 10025 (no AUTH)"; exit 0; }
	i=$((i + 1))
	sleep 0.2
done
log "not ready after 10 s (see $MTA_STATE/postfix.log, $MTA_STATE/dovecot.log)"
exit 1

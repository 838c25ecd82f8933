#!/bin/sh
# setup.sh STATE - a private Postfix + Dovecot SASL instance, everything
# under the directory STATE (tests/mta/with-mta.sh makes it and runs this).
#
# Nothing of the machine's own mail system is read for writing or touched:
# Postfix runs from its own config_directory (STATE/etc: main.cf and
# master.cf written here, `postfix -c STATE/etc start`), with its own
# queue_directory, data_directory (master.lock) and mail store; only the
# program and metadata paths (daemon_directory, shlib_directory,
# meta_directory: postfix-files, dynamicmaps.cf) point at the package's
# files, which are only read.  No set-permissions, no `postfix stop`
# without -c, nothing in /etc/postfix.  sendmail/postdrop (set-gid, they
# would need alternate_config_directories in the system's main.cf) are
# never used: every test goes through SMTP.  Dovecot runs from its own
# config (base_dir, state_dir, log under STATE) and serves SASL only, on a
# socket inside the private queue directory.
#
# Listeners, on 127.0.0.1 (the ports come from the environment;
# with-mta.sh picks them: the standard numbers inside a network namespace
# of our own, free ones from the kernel otherwise):
#
#   MTA_SUB       submission: STARTTLS required, AUTH PLAIN LOGIN (Dovecot)
#   MTA_IMPLICIT  submission over implicit TLS, the same AUTH
#   MTA_MX        port-25 style: STARTTLS offered, no AUTH
#
# Mail for @mta.test goes to STATE/mail; anything else is refused (Relay
# access denied) or, once accepted, bounced by the error transport:
# nothing can leave the machine.
#
# Exit 0 ready; 77 cannot run here (the reason on stderr): the caller
# counts the tests as skipped; 1 broken.  The daemons' output goes to
# STATE/*.log, never to our pipe.
set -u
STATE=${1:?usage: setup.sh STATE}
MTA_USER=tester@mta.test
MTA_PASSWORD=${MTA_PASSWORD:-mta-Secret-77}
SUB=${MTA_SUB:?} IMPLICIT=${MTA_IMPLICIT:?} MX=${MTA_MX:?}
OAUTH=${MTA_OAUTH:?} TOKENINFO=${MTA_TOKENINFO:?}
log() { echo "mta-setup: $*" >&2; }
skip() { log "$*"; exit 77; }

[ "$(id -u)" = 0 ] || skip "not root: Postfix's master must start as root"
for t in postfix postconf dovecot certtool; do
	command -v $t >/dev/null 2>&1 ||
		skip "$t is not installed (make deps, or apt-get install postfix dovecot-core gnutls-bin)"
done
id postfix >/dev/null 2>&1 || skip "no postfix user (the postfix package is half installed)"
getent group postdrop >/dev/null 2>&1 || skip "no postdrop group"

etc=$STATE/etc q=$STATE/queue pki=$STATE/pki
mkdir -p "$etc" "$q" "$STATE/data" "$STATE/mail" "$STATE/dovecot/base" \
	"$STATE/dovecot/state" "$pki" || exit 1
# Postfix's daemons (user postfix) and the virtual delivery agent (user
# nobody) walk down from STATE.
chmod 755 "$STATE" "$etc" "$STATE/mail"
chown postfix "$STATE/data"
chown nobody:nogroup "$STATE/mail"

# ---- a throwaway CA and the server certificate ------------------------
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
chmod 644 "$pki/ca.pem"

# ---- Dovecot: SASL only, from a config of its own ----------------------
# passwd-file passdb, no PAM; the auth socket in Postfix's private queue
# directory.  No protocols: no IMAP/POP listener, the auth service only.
printf '%s:{PLAIN}%s::::::\n' "$MTA_USER" "$MTA_PASSWORD" > "$STATE/passwd"
chmod 640 "$STATE/passwd"
chgrp dovecot "$STATE/passwd" 2>/dev/null
mkdir -p "$q/private" && chown postfix "$q/private"
cat > "$STATE/dovecot.conf" <<EOC
# smtpdx tests/mta/setup.sh: a private Dovecot, SASL for Postfix only
protocols =
base_dir = $STATE/dovecot/base
state_dir = $STATE/dovecot/state
log_path = $STATE/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login oauthbearer xoauth2
auth_failure_delay = 0
auth_cache_size = 0
passdb {
  driver = passwd-file
  args = scheme=PLAIN $STATE/passwd
  mechanisms = plain login
}
# OAuth 2.0 bearer tokens (RFC 7628): Dovecot asks the token endpoint the
# test runs on 127.0.0.1:$TOKENINFO, as it would ask Google's or Keycloak's
passdb {
  driver = oauth2
  mechanisms = oauthbearer xoauth2
  args = $STATE/dovecot-oauth2.conf.ext
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$STATE/mail
}
service auth {
  unix_listener $q/private/auth {
    mode = 0660
    user = postfix
    group = postfix
  }
}
service anvil {
  chroot =
}
EOC

cat > "$STATE/dovecot-oauth2.conf.ext" <<EOC
tokeninfo_url = http://127.0.0.1:$TOKENINFO/tokeninfo?access_token=
username_attribute = email
timeout_msecs = 5000
EOC

# ---- Postfix: an instance of its own -----------------------------------
# The package's compiled-in program and metadata paths, spelled out so
# that nothing depends on a main.cf we did not write.
pd() { postconf -d -h "$1" 2>/dev/null; }
cat > "$etc/main.cf" <<EOC
# smtpdx tests/mta/setup.sh: a private Postfix instance under $STATE
compatibility_level = 3.6
queue_directory = $q
data_directory = $STATE/data
daemon_directory = $(pd daemon_directory)
shlib_directory = $(pd shlib_directory)
meta_directory = $(pd meta_directory)
command_directory = $(pd command_directory)
mail_owner = postfix
setgid_group = postdrop
import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C
myhostname = mail.mta.test
mydomain = mta.test
myorigin = mta.test
mydestination = localhost
inet_interfaces = 127.0.0.1
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
virtual_mailbox_base = $STATE/mail
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
# the OAuth mechanisms on the OAuth port only (master.cf)
smtpd_sasl_mechanism_filter = !external, !oauthbearer, !xoauth2, static:rest
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
smtpd_recipient_restrictions =
maillog_file_prefixes = $STATE/
maillog_file = $STATE/postfix.log
anvil_rate_time_unit = 60s
smtpd_client_connection_rate_limit = 0
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 100
smtpd_hard_error_limit = 100
EOC
# master.cf: the package's internal services without chroot (the private
# queue directory holds no copy of /etc), our three listeners, postlog.
{
	echo "# smtpdx tests/mta/setup.sh"
	echo "127.0.0.1:$MX inet n - n - - smtpd"
	echo "127.0.0.1:$SUB inet n - n - - smtpd"
	echo "  -o syslog_name=postfix/submission"
	echo "  -o smtpd_tls_security_level=encrypt"
	echo "  -o smtpd_sasl_auth_enable=yes"
	echo "  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject"
	echo "127.0.0.1:$OAUTH inet n - n - - smtpd"
	echo "  -o syslog_name=postfix/oauth"
	echo "  -o smtpd_tls_security_level=encrypt"
	echo "  -o smtpd_sasl_auth_enable=yes"
	echo "  -o smtpd_sasl_mechanism_filter=oauthbearer,xoauth2"
	echo "  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject"
	echo "127.0.0.1:$IMPLICIT inet n - n - - smtpd"
	echo "  -o syslog_name=postfix/submissions"
	echo "  -o smtpd_tls_wrappermode=yes"
	echo "  -o smtpd_sasl_auth_enable=yes"
	echo "  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject"
	awk '/^#/ || /^ *$/ { next }
	     /^[ \t]/ { if (keep) print; next }
	     $1 == "smtp" && $2 == "inet" { keep = 0; next }
	     $7 == "pipe" { keep = 0; next }
	     { keep = 1; $5 = "n"; print }' "$(pd meta_directory)/master.cf.proto"
} > "$etc/master.cf"

# ---- start -------------------------------------------------------------
dovecot -c "$STATE/dovecot.conf" </dev/null >>"$STATE/dovecot.log" 2>&1 ||
	{ log "dovecot would not start: $(tail -n 3 "$STATE/dovecot.log")"; exit 1; }
postfix -c "$etc" start </dev/null >>"$STATE/postfix-start.log" 2>&1 ||
	{ log "postfix would not start: $(tail -n 5 "$STATE/postfix-start.log" "$STATE/postfix.log" 2>/dev/null)"; exit 1; }

# Ready when the ports greet and the auth socket exists: polled, with a
# ceiling generous enough for a loaded machine.
python3 - "$MX" "$SUB" "$q/private/auth" <<'P' ||
import os, socket, sys, time
def greets(port):
    try:
        with socket.create_connection(("127.0.0.1", port), 2) as s:
            s.settimeout(5)
            return s.recv(100).startswith(b"220")
    except OSError:
        return False
end = time.monotonic() + 60
while time.monotonic() < end:
    if os.path.exists(sys.argv[3]) and all(greets(int(p)) for p in sys.argv[1:3]):
        sys.exit(0)
    time.sleep(0.2)
sys.exit(1)
P
	{ log "not ready after 60 s: $(tail -n 5 "$STATE/postfix.log" "$STATE/dovecot.log" 2>/dev/null)"; exit 1; }
log "ready: $SUB (STARTTLS+AUTH) $IMPLICIT (TLS+AUTH) $MX (no AUTH), state in $STATE"
exit 0

"""exim.py - Exim 4 (Debian's exim4-daemon-light, extracted, not installed)
on ports of its own, from a config of its own, in a mount namespace of its
own where /etc/passwd has the Debian-exim user its binary insists on.

One daemon, one port per behaviour: the ACLs and the TLS options below
choose by $received_port, so every case is what a real Exim says."""

import os
import subprocess

import lib
from fetchdeb import Skip, extracted, private_users, namespace_cmd

NAME = "exim"
DOMAIN = "exim.test"
HOST = "mx." + DOMAIN
UID = 64911   # Debian-exim inside the namespace only; owns the state dir
PORTS = ["sub", "implicit", "noint", "clientcert", "size", "rate", "grey",
         "temp", "mailtemp", "authreq", "sverify", "adminpro", "mailrate",
         "connectdeny", "dnsbl", "heloverify"]

CONFIG = r"""
# smtpdx interop: an Exim of its own (tests/interop/exim.py)
primary_hostname = @host@
qualify_domain = @domain@
domainlist local_domains = @domain@
local_interfaces = 127.0.0.1
daemon_smtp_ports = @portlist@
tls_on_connect_ports = @implicit@
spool_directory = @state@/spool
log_file_path = @state@/log/%slog
pid_file_path = @state@/exim.pid
exim_user = Debian-exim
exim_group = Debian-exim
never_users = root
host_lookup =
rfc1413_hosts =
rfc1413_query_timeout = 0s
smtp_banner = $smtp_active_hostname ESMTP Exim $version_number $tod_full
message_size_limit = ${if eq{$received_port}{@size@}{200}{10M}}
tls_advertise_hosts = *
tls_certificate = ${if eq{$received_port}{@noint@}{@certs@/leaf.pem}{@certs@/chain.pem}}
tls_privatekey = @certs@/leaf.key
tls_verify_hosts = ${if eq{$received_port}{@clientcert@}{*}{}}
tls_verify_certificates = @certs@/ca.pem
acl_smtp_connect = acl_connect
acl_smtp_mail = acl_mail
acl_smtp_rcpt = acl_rcpt

begin acl

acl_connect:
  deny    condition = ${if eq{$received_port}{@connectdeny@}{yes}{no}}
  accept

acl_mail:
  # HELO verification (the EHLO name must resolve to the client's
  # address), as a MAIL ACL does it; Exim's own reply
  deny    condition = ${if eq{$received_port}{@heloverify@}{yes}{no}}
          !verify = helo
  deny    condition = ${if eq{$received_port}{@authreq@}{yes}{no}}
          !authenticated = *
          message = 530 5.7.0 Authentication required
  defer   condition = ${if eq{$received_port}{@mailtemp@}{yes}{no}}
          message = 451 4.3.0 Temporary local problem - please try later
  # the ratelimit example of Exim's spec (chapter 'Rate limiting')
  deny    condition = ${if eq{$received_port}{@mailrate@}{yes}{no}}
          ratelimit = 0 / 1h / strict
          message = Sender rate exceeds $sender_rate_limit messages \
                    per $sender_rate_period
  accept

acl_rcpt:
  defer   condition = ${if eq{$received_port}{@rate@}{yes}{no}}
          ratelimit = 0 / 1h / strict / per_rcpt
          message = Sender rate overlimit - $sender_rate / $sender_rate_period
  defer   condition = ${if eq{$received_port}{@grey@}{yes}{no}}
          message = 450 4.7.1 Greylisted, please try again later
  defer   condition = ${if eq{$received_port}{@temp@}{yes}{no}}
          message = 451 4.3.0 Temporary local problem - please try later
  # configure.default's dnslists message, word for word (the list is
  # named, not looked up: no DNS here)
  deny    condition = ${if eq{$received_port}{@dnsbl@}{yes}{no}}
          message = rejected because $sender_host_address is in a black list \
                    at bl.example.test\nListed: see http://bl.example.test/
  # a bare deny: Exim's own "Administrative prohibition"
  deny    condition = ${if eq{$received_port}{@adminpro@}{yes}{no}}
  # sender verification: a sender Exim cannot route
  deny    condition = ${if eq{$received_port}{@sverify@}{yes}{no}}
          !verify = sender
  deny    domains = nullmx.test
          message = 556 5.1.10 Recipient address rejected: domain nullmx.test does not accept mail (null MX)
  deny    domains = +local_domains
          !verify = recipient
  accept  domains = +local_domains
  accept  authenticated = *
  deny    message = relay not permitted

begin routers

local_user:
  driver = accept
  domains = +local_domains
  local_parts = @user@
  transport = local_file

foreign:
  driver = redirect
  domains = ! +local_domains
  data = :blackhole:

begin transports

local_file:
  driver = appendfile
  file = @state@/mail/@user@
  user = Debian-exim
  group = Debian-exim
  mode = 0644
  delivery_date_add
  envelope_to_add
  return_path_add

begin authenticators

plain:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_condition = ${if and{{eq{$auth2}{@user@}}{eq{$auth3}{@password@}}}}
  server_set_id = $auth2
  server_advertise_condition = ${if def:tls_in_cipher}

login:
  driver = plaintext
  public_name = LOGIN
  server_prompts = Username:: : Password::
  server_condition = ${if and{{eq{$auth1}{@user@}}{eq{$auth2}{@password@}}}}
  server_set_id = $auth1
  server_advertise_condition = ${if def:tls_in_cipher}
"""


def fill(template, values):
    """@name@ in template replaced by values[name]."""
    for k, v in values.items():
        template = template.replace("@%s@" % k, str(v))
    return template


class Server:
    def __init__(self, state, certs):
        self.state = os.path.join(state, "exim")
        self.certs = certs
        self.proc = None
        self.ports = {}

    def start(self):
        if not hasattr(os, "geteuid") or os.geteuid() != 0:
            raise Skip("needs root for a mount namespace (unshare -m) "
                       "and for Exim's own privilege separation")
        tree = extracted("exim", ["exim4-daemon-light", "exim4-base",
                                  "exim4-config"], "usr/sbin/exim4")
        exim = "/usr/sbin/exim4"   # inside the namespace: the overlay
        for d in ("", "spool", "log", "mail"):
            os.makedirs(os.path.join(self.state, d), exist_ok=True)
            os.chown(os.path.join(self.state, d), UID, UID)
        # Exim reads its key after dropping root: the key is its user's
        os.chown(os.path.join(self.certs, "leaf.key"), UID, UID)
        pw, gr = private_users(self.state, {"Debian-exim": UID})
        self.ports = {k: lib.free_port() for k in PORTS}
        conf = os.path.join(self.state, "exim.conf")
        with open(conf, "w") as f:
            f.write(fill(CONFIG, dict(
                host=HOST, domain=DOMAIN, state=self.state, certs=self.certs,
                user=lib.USER, password=lib.PASSWORD,
                portlist=" : ".join(str(p) for p in self.ports.values()),
                **self.ports)))
        os.chown(conf, 0, UID)  # holds the test password: root and exim only
        os.chmod(conf, 0o640)
        self.log = open(os.path.join(self.state, "stderr"), "w")
        self.proc = subprocess.Popen(
            namespace_cmd([(pw, "/etc/passwd"), (gr, "/etc/group")],
                          [exim, "-C", conf, "-bdf"],
                          [(os.path.join(tree, "usr/sbin"), "/usr/sbin")]),
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        for k, p in self.ports.items():
            if not lib.wait_port(p, proc=self.proc,
                                 banner=None if k in ("implicit", "connectdeny")
                                 else HOST):
                self.stop()
                raise Skip("Exim did not start: " + self.why())
        return self

    def why(self):
        out = ""
        for f in ("stderr", "log/mainlog", "log/paniclog"):
            try:
                out += open(os.path.join(self.state, f)).read()[-400:]
            except OSError:
                pass
        return out.strip().replace("\n", " | ") or "no output"

    def stop(self):
        lib.stop_group(self.proc)

    def delivered(self):
        return lib.read_text(os.path.join(self.state, "mail", lib.USER))


def cases(srv, state, certs):
    """(name, smtpdx arguments, expected id or None, evidence, after)."""
    P = srv.ports
    base = lib.base_args(P, HOST, DOMAIN, certs)
    login = lib.login_args(state)
    me = ["--to", "alice@" + DOMAIN]
    foreign = ["--to", "bob@example.org"]

    def delivered(rep):
        text = lib.wait_for(lambda: "smtpdx test message" in srv.delivered()
                            and srv.delivered(), 15)
        return (bool(text) and "Received: from" in text,
                "the message did not reach the mailbox: " + srv.why()[-300:])

    return [
        ("clean-send", base("sub") + login + me, None, None, delivered),
        ("clean-implicit-tls", base("implicit") + ["--tls", "implicit"] + login + me,
         None, None, None),
        ("relay-after-login", base("sub") + login + foreign, None, None, None),
        ("wrong-password", base("sub") + ["-u", lib.USER, "--password-file",
                                          state + "/wrong-password"] + me,
         "auth.failed", "535 Incorrect authentication data", None),
        ("no-login-foreign", base("sub") + foreign, "rcpt.relay_denied",
         "550 relay not permitted", None),
        ("no-login-auth-required", base("authreq") + me, "mail.auth_required",
         "530 5.7.0 Authentication required", None),
        ("unknown-user", base("sub") + login + ["--to", "nobody@" + DOMAIN],
         "rcpt.unknown_user", "550 Unrouteable address", None),
        ("unknown-user-no-login", base("sub") + ["--to", "nobody@" + DOMAIN],
         "rcpt.unknown_user", "550 Unrouteable address", None),
        ("starttls-to-implicit-port", base("implicit", "15") + ["--tls", "starttls"] + login + me,
         "tls.expected_implicit", None, None),
        ("implicit-to-starttls-port", base("sub") + ["--tls", "implicit"] + login + me,
         "tls.expected_starttls", "220 " + HOST, None),
        ("missing-intermediate", base("noint") + login + me,
         "tls.chain_incomplete", "smtpdx interop intermediate CA",
         lib.fix_lacks("--cafile", "--cafile was given; the server must send its chain")),
        ("client-cert-required", base("clientcert") + login + me,
         "tls.client_cert_required", None, None),
        ("size-limit", base("size") + login + me, ("mail.size_exceeded", "data.size_exceeded"),
         "552 Message size exceeds maximum permitted", None),
        ("rate-limit", base("rate") + login + me, "session.rate_limited",
         "451 Sender rate overlimit", None),
        ("greylisted", base("grey") + login + me, "rcpt.greylisted",
         "450 4.7.1 Greylisted", None),
        ("rcpt-temporary", base("temp") + login + me, "rcpt.temporary",
         "451 4.3.0 Temporary local problem", None),
        ("mail-temporary", base("mailtemp") + login + me, "mail.temporary",
         "451 4.3.0 Temporary local problem", None),
        ("null-mx-556", base("sub") + login + ["--to", "x@nullmx.test"],
         "rcpt.domain_no_mail", "556 5.1.10", None),
        # 'deny !verify = sender': the sender is refused at RCPT, with
        # "Unrouteable address" (about the sender) among the lines
        ("sender-verify-failed", base("sverify") + login + me + ["-f", "nobody@" + DOMAIN],
         "mail.sender_rejected", "Sender verify failed", None),
        ("sender-verify-ok", base("sverify") + login + me, None, None, None),
        # a bare deny in the RCPT ACL: no reason given
        ("administrative-prohibition", base("adminpro") + login + me,
         "rcpt.rejected", "550 Administrative prohibition", None),
        ("dnsbl-default-message", base("dnsbl") + login + me, "rcpt.blocklisted",
         "is in a black list at bl.example.test", None),
        # '!verify = helo' in the MAIL ACL: the EHLO name does not resolve
        # to 127.0.0.1; Exim's bare deny names no reason, and the
        # explanation names the EHLO name among the causes
        ("helo-verify-failed", base("heloverify") + login + me, "mail.sender_rejected",
         "550 Administrative prohibition",
         lambda rep: ("EHLO name" in (rep["diagnoses"][0].get("explanation") or ""),
                      "the explanation does not name the EHLO name")),
        ("helo-verify-literal", base("heloverify") + login + me + ["--helo", "[127.0.0.1]"],
         None, None, None),
        # a bare deny in the connect ACL
        ("connect-denied", base("connectdeny") + login + me, "greeting.rejected",
         "550 Administrative prohibition", None),
        # the spec's ratelimit example, as a deny in the MAIL ACL
        ("rate-limit-mail-deny", base("mailrate") + login + me, "session.rate_limited",
         "550 Sender rate exceeds", None),
    ]

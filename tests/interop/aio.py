"""aio.py - the aiosmtpd servers of aiosmtpd_server.py and their cases."""

import json
import os
import subprocess

import lib
from fetchdeb import Skip

NAME = "aiosmtpd"
DOMAIN = "aio.test"
HOST = "mx." + DOMAIN
PY = "/usr/bin/python3"


class Server:
    def __init__(self, state, certs):
        self.state = os.path.join(state, "aiosmtpd")
        self.certs = certs
        self.proc = None
        self.ports = {}

    def start(self):
        r = subprocess.run([PY, "-c", "import aiosmtpd"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        if r.returncode != 0:
            raise Skip("%s has no aiosmtpd module (apt-get install python3-aiosmtpd)" % PY)
        os.makedirs(self.state, exist_ok=True)
        with open(os.path.join(self.state, "password"), "w") as f:
            f.write(lib.PASSWORD)
        names = ["sub", "open", "implicit", "implicit-noint", "implicit-clientcert", "size",
                 "implicit-authtls", "ascii", "relay", "noplain", "calllimit", "proxy",
                 "size-nosize"]
        want = {n: lib.free_port() for n in names}
        self.proc = subprocess.Popen(
            [PY, os.path.join(lib.HERE, "aiosmtpd_server.py"), self.state, self.certs,
             json.dumps(want)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = self.proc.stdout.readline().decode()
        try:
            self.ports = json.loads(line)
        except ValueError:
            self.ports = {}
        if "error" in self.ports and "port" in self.ports["error"]:
            self.stop()
            raise lib.PortTaken(self.ports["error"])
        if not self.ports or "error" in self.ports:
            err = self.proc.stderr.read().decode()[-500:] if self.proc.poll() is not None else ""
            self.stop()
            raise Skip("aiosmtpd did not start: %s %s" % (line.strip(), err))
        for k, p in self.ports.items():
            # the PROXY listener greets no one without a header
            if not lib.wait_port(p, proc=self.proc,
                                 banner=None if k.startswith("implicit") or k == "proxy"
                                 else HOST):
                self.stop()
                raise Skip("aiosmtpd port %d does not answer" % p)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def delivered(self):
        return lib.read_text(os.path.join(self.state, "mailbox"))


def cases(srv, state, certs):
    P = srv.ports
    base = lib.base_args(P, HOST, DOMAIN, certs)
    login = lib.login_args(state)
    me = ["--to", "alice@" + DOMAIN]
    foreign = ["--to", "bob@example.org"]
    implicit = ["--tls", "implicit"]
    plain = ["--tls", "none"]

    def delivered(rep):
        ok = lib.wait_for(lambda: "smtpdx test message" in srv.delivered(), 10)
        return ok, "the message did not reach the handler"

    return [
        ("clean-send", base("sub") + login + me, None, None, delivered),
        ("clean-auth-login", base("sub") + login + me + ["--auth", "login"],
         None, None, None),
        ("clean-implicit-tls", base("implicit") + implicit + login + me, None, None, None),
        ("wrong-password", base("sub") + ["-u", lib.USER, "--password-file",
                                          state + "/wrong-password"] + me,
         "auth.failed", "535 5.7.8 Authentication credentials invalid", None),
        ("no-login-auth-required", base("sub") + me, "mail.auth_required",
         "530 5.7.0 Authentication required", None),
        ("no-login-foreign", base("open") + foreign, "rcpt.relay_denied",
         "554 5.7.1", None),
        ("unknown-user", base("open") + login + ["--to", "nobody@" + DOMAIN],
         "rcpt.unknown_user", "550 5.1.1", None),
        ("starttls-to-implicit-port", base("implicit", "15") + ["--tls", "starttls"] + login + me,
         "tls.expected_implicit", None, None),
        ("implicit-to-starttls-port", base("sub") + implicit + login + me,
         "tls.expected_starttls", "220 " + HOST, None),
        ("missing-intermediate", base("implicit-noint") + implicit + login + me,
         "tls.chain_incomplete", "smtpdx interop intermediate CA",
         lib.fix_lacks("--cafile", "--cafile was given; the server must send its chain")),
        ("client-cert-required", base("implicit-clientcert") + implicit + login + me,
         "tls.client_cert_required", None, None),
        ("size-limit", base("size") + login + me, ("mail.size_exceeded", "data.size_exceeded"),
         "552 Error: message size exceeds fixed maximum message size", None),
        # auth_require_tls (the default) on an implicit-TLS listener: AUTH
        # hidden although the session is encrypted
        ("implicit-auth-hidden", base("implicit-authtls") + implicit + login + me,
         "auth.not_offered", None, None),
        # require_starttls, a client that never starts TLS
        ("plaintext-mail", base("sub") + plain + me, "mail.tls_required",
         "530 Must issue a STARTTLS command first", None),
        ("plaintext-auth", base("sub") + plain + login + me + ["--allow-plaintext-auth"],
         "auth.requires_tls", None, None),
        # the docs' handler: '550 not relaying to that domain'
        ("relay-doc-handler-no-login", base("relay") + foreign, "rcpt.relay_denied",
         "550 not relaying to that domain", None),
        ("relay-doc-handler-login", base("relay") + login + foreign, "rcpt.relay_denied",
         "550 not relaying to that domain", None),
        # auth_exclude_mechanism=["PLAIN"]: LOGIN is used; PLAIN asked for
        # is not there
        ("auth-exclude-plain", base("noplain") + login + me, None, None, None),
        ("auth-exclude-plain-asked", base("noplain") + login + me + ["--auth", "plain"],
         "auth.mech_unsupported", None, None),
        # enable_SMTPUTF8=False: a UTF-8 recipient, a UTF-8 sender
        # SMTPUTF8 not offered: a non-ASCII local part cannot go (RFC 6531
        # §3.4), so smtpdx says so before MAIL instead of provoking
        # aiosmtpd's "500 Error: strict ASCII mode" (that reply's own
        # diagnosis, for a raw MAIL or RCPT, is in the unit oracles)
        ("utf8-recipient", base("ascii") + login + ["--to", "b\u00f8b@" + DOMAIN],
         "mail.smtputf8_not_offered", "lists no SMTPUTF8", None),
        ("utf8-sender", base("ascii") + login + me + ["-f", "\u00e5lice@" + DOMAIN],
         "mail.smtputf8_not_offered", "lists no SMTPUTF8", None),
        # SMTPUTF8 offered (Controller's default): the address is valid,
        # and the handler's own refusal stands
        ("utf8-recipient-offered", base("open") + login + ["--to", "b\u00f8b@" + DOMAIN],
         "rcpt.unknown_user", "550 5.1.1", None),
        # command_call_limit {"EHLO": 1}: the EHLO after STARTTLS
        ("command-call-limit", base("calllimit") + login + me, "session.command_limit",
         "421 4.7.0 EHLO sent too many times", None),
        # proxy_protocol_timeout: no greeting, closed after 3 s
        ("proxy-protocol-listener", base("proxy") + login + me, "session.closed",
         None, None),
        # data_size_limit without SIZE in EHLO: refused after the message
        ("size-limit-data", base("size-nosize") + login + me, "data.size_exceeded",
         "552 Error: Too much mail data", None),
    ]

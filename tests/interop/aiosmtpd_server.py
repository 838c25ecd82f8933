#!/usr/bin/python3
"""aiosmtpd_server.py - Debian's python3-aiosmtpd (run with /usr/bin/python3,
where Debian's modules live) as several servers on ports of their own, with
aiosmtpd's own AUTH, STARTTLS and size code, so its real reply texts meet
smtpdx.  argv: STATE_DIR CERT_DIR PORTS (JSON: name -> port); prints {"name": port, ...} as one JSON
line once every listener accepts, then serves until stdin closes."""

import json
import os
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

STATE, CERTS = sys.argv[1], sys.argv[2]
DOMAIN = "aio.test"
USER = b"alice"
PASSWORD = open(os.path.join(STATE, "password"), "rb").read().strip()


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword) and auth_data.login == USER
          and auth_data.password == PASSWORD)
    # handled=False: aiosmtpd sends its own 535 (True would mean we did)
    return AuthResult(success=ok, handled=False)


class Handler:
    """A submission server's recipient policy: alice@aio.test exists; other
    local parts of aio.test do not; other domains only after AUTH."""

    async def handle_RCPT(self, server, session, envelope, address, options):
        local, _, domain = address.rpartition("@")
        if domain.lower() == DOMAIN:
            if local.lower() != "alice":
                return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        elif not session.authenticated:
            return "554 5.7.1 <%s>: Relay access denied" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with open(os.path.join(STATE, "mailbox"), "ab") as f:
            f.write(envelope.content + b"\n")
        return "250 Message accepted for delivery"


class RelayHandler(Handler):
    """aiosmtpd's documented handler (docs/controller.rst): every domain
    but its own refused with '550 not relaying to that domain', logged in
    or not."""

    async def handle_RCPT(self, server, session, envelope, address, options):
        if not address.lower().endswith("@" + DOMAIN):
            return "550 not relaying to that domain"
        envelope.rcpt_tos.append(address)
        return "250 OK"


class NoSizeHandler(Handler):
    """A size limit (data_size_limit) whose SIZE line an EHLO hook took
    out: the client learns of the limit only after the message."""

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        return [r for r in responses if not r.startswith("250-SIZE")]


def context(chain, verify_client=False):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(CERTS, chain), os.path.join(CERTS, "leaf.key"))
    if verify_client:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(os.path.join(CERTS, "ca.pem"))
    return ctx


HOST = "mx." + DOMAIN
COMMON = dict(hostname="127.0.0.1", server_hostname=HOST,
              authenticator=authenticator)
SERVERS = {
    # submission: STARTTLS first, then AUTH, then mail (aiosmtpd's own
    # require_starttls and auth_required replies)
    "sub": dict(tls_context=context("chain.pem"), require_starttls=True,
                auth_required=True),
    # AUTH offered, not required: recipients decide
    "open": dict(tls_context=context("chain.pem")),
    # implicit TLS (ssl_context on the listener)
    # aiosmtpd does not know a listener's ssl_context is TLS: without
    # auth_require_tls=False it hides AUTH there (smtpdx rightly says
    # auth.not_offered), so implicit-TLS deployments set it
    "implicit": dict(ssl_context=context("chain.pem"), auth_require_tls=False),
    "implicit-noint": dict(ssl_context=context("leaf.pem")),
    "implicit-clientcert": dict(ssl_context=context("chain.pem", True)),
    "size": dict(tls_context=context("chain.pem"), data_size_limit=200),
    # implicit TLS with aiosmtpd's default auth_require_tls=True: it does
    # not know the listener's ssl_context is TLS and hides AUTH
    "implicit-authtls": dict(ssl_context=context("chain.pem")),
    # enable_SMTPUTF8=False (the SMTP class's default; Controller turns
    # it on): no SMTPUTF8 in EHLO, strict ASCII
    "ascii": dict(tls_context=context("chain.pem"), enable_SMTPUTF8=False),
    "relay": dict(tls_context=context("chain.pem"), handler=RelayHandler()),
    "noplain": dict(tls_context=context("chain.pem"), auth_exclude_mechanism=["PLAIN"]),
    # EHLO allowed once a session: the EHLO after STARTTLS is one too many
    "calllimit": dict(tls_context=context("chain.pem"), command_call_limit={"EHLO": 1}),
    # a listener behind a load balancer: waits 3 s for a PROXY header
    "proxy": dict(tls_context=context("chain.pem"), proxy_protocol_timeout=3),
    "size-nosize": dict(tls_context=context("chain.pem"), data_size_limit=200,
                        handler=NoSizeHandler()),
}

controllers = []
ports = json.loads(sys.argv[3])
for name, kw in SERVERS.items():
    c = Controller(kw.pop("handler", Handler()), port=ports[name], **COMMON, **kw)
    try:
        c.start()
    except Exception as e:               # the port was taken meanwhile
        print(json.dumps({"error": "%s: port %d: %s" % (name, ports[name], e)}),
              flush=True)
        for c in controllers:
            c.stop()
        sys.exit(1)
    controllers.append(c)
print(json.dumps(ports), flush=True)
sys.stdin.read()
for c in controllers:
    c.stop()

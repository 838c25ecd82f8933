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
}

controllers = []
ports = json.loads(sys.argv[3])
for name, kw in SERVERS.items():
    c = Controller(Handler(), port=ports[name], **COMMON, **kw)
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

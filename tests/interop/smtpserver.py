"""smtpserver.py - Nodemailer's smtp-server (npm package smtp-server, the
server Node apps and test tools embed), installed into the cache with npm,
never globally, and run by smtpserver_server.js as several listeners.
Skipped with the reason when node or npm is missing or npm cannot install
it (offline).

Pinned to 3.18.0: the last line that runs on node 18 (Debian 12's nodejs;
3.19 and later want node 20); its engines field says node >= 18.18."""

import json
import os
import shutil
import subprocess

import lib
from fetchdeb import Skip

NAME = "smtp-server"
DOMAIN = "smtp-server.test"
HOST = "mx." + DOMAIN
VERSION = "3.18.0"
LISTENERS = ["sub", "implicit", "open", "size", "sizehidden", "enhanced", "nostarttls",
             "noauth", "hidestarttls", "oauth", "lmtp", "busy", "proxy", "refuse"]


def install():
    """The cache's node_modules holding smtp-server, installed once."""
    node = shutil.which("node")
    if not node or not shutil.which("npm"):
        raise Skip("node and npm are needed (apt-get install nodejs npm)")
    d = os.path.join(lib.CACHE, "smtp-server-" + VERSION)
    mods = os.path.join(d, "node_modules")
    if os.path.exists(os.path.join(mods, "smtp-server", "package.json")):
        return node, mods
    try:
        os.makedirs(d, exist_ok=True)
        p = subprocess.run(["npm", "install", "--no-audit", "--no-fund",
                            "--prefix", d, "smtp-server@" + VERSION],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=300)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise Skip("npm install smtp-server: %s" % e)
    if p.returncode != 0 or not os.path.exists(os.path.join(mods, "smtp-server")):
        raise Skip("npm install smtp-server failed (offline?): %s" %
                   p.stdout.decode("utf-8", "replace").strip()[-300:])
    return node, mods


class Server:
    def __init__(self, state, certs):
        self.state = os.path.join(state, "smtp-server")
        self.certs = certs
        self.proc = None
        self.ports = {}

    def start(self):
        node, mods = install()
        os.makedirs(self.state, exist_ok=True)
        with open(os.path.join(self.state, "password"), "w") as f:
            f.write(lib.PASSWORD)
        want = {n: lib.free_port() for n in LISTENERS}
        self.log = open(os.path.join(self.state, "stderr"), "w")
        self.proc = subprocess.Popen(
            [node, os.path.join(lib.HERE, "smtpserver_server.js"), self.state,
             self.certs, json.dumps(want)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
            env=dict(os.environ, NODE_PATH=mods), start_new_session=True)
        line = self.proc.stdout.readline().decode()
        try:
            self.ports = json.loads(line)
        except ValueError:
            self.ports = {}
        if "error" in self.ports and "port" in self.ports["error"]:
            err = self.ports["error"]
            self.stop()
            if "EADDRINUSE" in err:
                raise lib.PortTaken(err)
            raise Skip("smtp-server did not start: " + err)
        if not self.ports:
            self.stop()
            raise Skip("smtp-server did not start: %s %s" % (line.strip(), self.why()))
        for k, p in self.ports.items():
            # the PROXY listener says nothing until a header comes; the
            # refusing one greets with 554
            banner = None if k in ("implicit", "proxy", "refuse") else HOST
            if not lib.wait_port(p, proc=self.proc, banner=banner):
                self.stop()
                raise Skip("smtp-server port %d does not answer: %s" % (p, self.why()))
        return self

    def why(self):
        try:
            return open(os.path.join(self.state, "stderr")).read()[-500:].replace("\n", " | ")
        except OSError:
            return "no output"

    def stop(self):
        if self.proc and self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                pass
        lib.stop_group(self.proc)

    def delivered(self):
        return lib.read_text(os.path.join(self.state, "mailbox"))


def cases(srv, state, certs):
    P = srv.ports
    base = lib.base_args(P, HOST, DOMAIN, certs)
    login = lib.login_args(state)
    wrong = lib.login_args(state, "wrong-password")
    me = ["--to", "alice@" + DOMAIN]
    foreign = ["--to", "bob@example.org"]
    implicit = ["--tls", "implicit"]
    plain = ["--tls", "none"]

    def delivered(rep):
        ok = lib.wait_for(lambda: "smtpdx test message" in srv.delivered(), 10)
        return ok, "the message did not reach onData"

    return [
        ("clean-send", base("sub") + login + me, None, None, delivered),
        ("clean-auth-login", base("sub") + login + me + ["--auth", "login"],
         None, None, None),
        ("clean-implicit-tls", base("implicit") + implicit + login + me, None, None, None),
        ("relay-after-login", base("open") + login + foreign, None, None, None),
        ("wrong-password", base("sub") + wrong + me,
         "auth.failed", "535 Error: Authentication credentials invalid", None),
        ("wrong-password-enhanced", base("enhanced") + wrong + me,
         "auth.failed", "535 5.7.8 Error: Authentication credentials invalid", None),
        # authOptional false: "530 Error: authentication Required" to MAIL
        ("no-login-auth-required", base("sub") + me, "mail.auth_required",
         "530 Error: authentication Required", None),
        # AUTH before STARTTLS on a STARTTLS listener (allowInsecureAuth off)
        ("auth-before-starttls", base("sub") + plain + login + me + ["--allow-plaintext-auth"],
         "auth.requires_tls", "538 Error: Must issue a STARTTLS command first", None),
        # an app's relay refusal (onRcptTo: new Error(text), 550)
        ("no-login-foreign", base("open") + foreign, "rcpt.relay_denied",
         "550 Relay access denied", None),
        # the same with enhanced codes on: the library adds 5.1.1 to every
        # 550, so the code says 'no such mailbox' and the words 'relay'
        ("no-login-foreign-enhanced", base("enhanced") + foreign, "rcpt.relay_denied",
         "550 5.1.1 Relay access denied", None),
        ("unknown-user", base("open") + login + ["--to", "nobody@" + DOMAIN],
         "rcpt.unknown_user", "550 Mailbox nobody@", None),
        ("unknown-user-enhanced", base("enhanced") + login + ["--to", "nobody@" + DOMAIN],
         "rcpt.unknown_user", "550 5.1.1 Mailbox nobody@", None),
        # examples/server.js: 'Not accepted' names no reason
        ("rcpt-not-accepted", base("open") + login + ["--to", "deny@" + DOMAIN],
         "rcpt.rejected", "550 Not accepted", None),
        ("sender-not-accepted", base("open") + login + me + ["-f", "deny@" + DOMAIN],
         "mail.sender_rejected", "550 Not accepted", None),
        # examples/server.js: 452 'Insufficient channel storage': a 4xx,
        # not a refusal
        ("rcpt-insufficient-storage", base("open") + login + ["--to", "full@" + DOMAIN],
         "rcpt.temporary", "452 Insufficient channel storage", None),
        # SIZE 200 advertised: refused at MAIL (the library's own words)
        ("size-limit-mail", base("size") + login + me, "mail.size_exceeded",
         "552 Error: message exceeds fixed maximum message size 200", None),
        # hideSize: SIZE without a number, refused after the message
        # (examples/server.js's onData words)
        ("size-limit-data", base("sizehidden") + login + me, "data.size_exceeded",
         "552 5.2.2 Error: message exceeds fixed maximum message size", None),
        # disabledCommands ['STARTTLS']: AUTH offered in plaintext only
        ("no-starttls", base("nostarttls") + login + me, "starttls.not_offered",
         None, None),
        ("no-starttls-plaintext-auth-refused", base("nostarttls") + plain + login + me,
         "auth.plaintext_refused", None, None),
        ("no-starttls-plaintext-auth-allowed",
         base("nostarttls") + plain + login + me + ["--allow-plaintext-auth"],
         None, None, None),
        # disabledCommands ['AUTH']: no AUTH even after STARTTLS
        ("auth-disabled", base("noauth") + login + me, "auth.not_offered", None, None),
        ("auth-disabled-no-login", base("noauth") + me, None, None, None),
        # hideSTARTTLS: it works but is not advertised
        ("starttls-hidden", base("hidestarttls") + login + me, "starttls.not_offered",
         None, None),
        ("starttls-to-implicit-port", base("implicit", "15") + ["--tls", "starttls"] + login + me,
         "tls.expected_implicit", None, None),
        ("implicit-to-starttls-port", base("sub") + implicit + login + me,
         "tls.expected_starttls", "421 " + HOST + " You talk too soon", None),
        # useProxy: nothing is said until a PROXY header arrives
        ("proxy-protocol-listener", base("proxy", "3") + login + me,
         "greeting.timeout", None, None),
        # authMethods ['XOAUTH2']: a token works, a wrong one gets the
        # error JSON in a 334 and then "535 Error: Username and Password
        # not accepted"; a password with PLAIN finds no common mechanism
        ("xoauth2-token", base("oauth") + login + me + ["--auth", "xoauth2"],
         None, None, None),
        ("xoauth2-token-refused", base("oauth") + wrong + me + ["--auth", "xoauth2"],
         "auth.oauth_token_rejected", None, None),
        ("xoauth2-only-password-given", base("oauth") + login + me,
         "auth.mech_unsupported", "AUTH XOAUTH2",
         lambda rep: (lib.fix_lacks("let smtpdx pick", "--auth auto was used")(rep)[0]
                      and "--auth xoauth2" in lib.error_fix(rep),
                      "the fix does not say a token with --auth xoauth2: "
                      + lib.error_fix(rep)[:300])),
        # an LMTP listener (lmtp: true): EHLO and HELO are unknown there
        ("lmtp-port", base("lmtp") + plain + me, "ehlo.not_understood",
         "500 Error: HELO not allowed in LMTP server", None),
        # maxClients reached: the library's 421 at connect
        ("max-clients", base("busy") + login + me, "greeting.busy",
         "421 " + HOST + " Too many connected clients", None),
        ("connect-refused-554", base("refuse") + login + me, "greeting.rejected",
         "554 Your IP is not allowed to connect", None),
    ]

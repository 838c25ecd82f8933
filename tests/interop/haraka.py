"""haraka.py - Haraka (npm package Haraka, installed into the cache, never
globally) with its own instance directory: tls, auth/flat_file,
rcpt_to.in_host_list and a queue plugin of ours that writes the message to
the state directory; access, helo.checks (bare IP) and a small [max] bytes
for refusals.  Skipped with the reason when npm cannot install it
(offline) or node is missing."""

import os
import shutil
import subprocess

import lib
from fetchdeb import Skip

NAME = "haraka"
DOMAIN = "haraka.test"
HOST = "mx." + DOMAIN
VERSION = "3.3.4"
SMALL = 20000                     # connection.ini [max] bytes

QUEUE_PLUGIN = r"""
// interop_queue: the message goes to a file of the state directory
const fs = require('fs')
// (relayed mail too: after AUTH Haraka calls queue_outbound, and outbound
// delivery would reach for the network)
function queue (next, connection) {
    const out = fs.createWriteStream(process.env.INTEROP_MAILBOX, { flags: 'a' })
    connection.transaction.message_stream.pipe(out)
    out.on('finish', () => next(OK, 'Message Queued (interop)'))
}
exports.hook_queue = queue
exports.hook_queue_outbound = queue
"""


def install():
    """node_modules/.bin/haraka under the cache, installed with npm once."""
    if not shutil.which("node") or not shutil.which("npm"):
        raise Skip("node and npm are needed (apt-get install nodejs npm)")
    d = os.path.join(lib.CACHE, "haraka")
    exe = os.path.join(d, "node_modules", ".bin", "haraka")
    if os.path.exists(exe):
        return exe
    try:
        os.makedirs(d, exist_ok=True)
        p = subprocess.run(["npm", "install", "--no-audit", "--no-fund",
                            "--prefix", d, "Haraka@" + VERSION],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=300)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise Skip("npm install Haraka: %s" % e)
    if p.returncode != 0 or not os.path.exists(exe):
        raise Skip("npm install Haraka failed (offline?): %s" %
                   p.stdout.decode("utf-8", "replace").strip()[-300:])
    return exe


class Server:
    def __init__(self, state, certs):
        self.state = os.path.join(state, "haraka")
        self.certs = certs
        self.proc = None
        self.ports = {}

    def start(self):
        exe = install()
        st = self.state
        cfg = os.path.join(st, "config")
        os.makedirs(cfg, exist_ok=True)
        os.makedirs(os.path.join(st, "plugins"), exist_ok=True)
        self.ports = {"sub": lib.free_port(), "implicit": lib.free_port(),
                      "small": lib.free_port()}

        def w(name, text):
            with open(os.path.join(st, name), "w") as f:
                f.write(text)

        w("config/smtp.ini", "[main]\nlisten=127.0.0.1:%d,127.0.0.1:%d\n"
          "smtps_port=%d\nnodes=\n" % (self.ports["sub"], self.ports["implicit"],
                                       self.ports["implicit"]))
        w("config/me", HOST + "\n")
        w("config/host_list", DOMAIN + "\n")
        # Haraka's own connection.ini, as shipped (without it, or with a
        # partial one, its greeting code dies on cfg.message)
        # ([max] bytes lowered to SMALL so that one case can exceed it)
        with open(os.path.join(os.path.dirname(os.path.realpath(exe)), "..",
                               "config", "connection.ini")) as f:
            ini = f.read().replace("bytes=26214400", "bytes=%d" % SMALL)
        w("config/connection.ini", ini)
        w("big-body", ("x" * 70 + "\n") * (SMALL // 60))
        # access: one refused sender and one refused recipient of the own
        # domain; helo.checks: only a bare IP refused (the other checks
        # want DNS), also from 127.0.0.1 (private_ip is skipped by default)
        w("config/plugins", "tls\nhelo.checks\naccess\nauth/flat_file\n"
          "rcpt_to.in_host_list\ninterop_queue\n")
        w("config/mail_from.access.blacklist", "spammer@" + DOMAIN + "\n")
        w("config/rcpt_to.access.blacklist", "blocked@" + DOMAIN + "\n")
        w("config/helo.checks.ini", "".join(
            ["[check]\nproto_mismatch=false\n"] +
            ["%s=%s\n" % (c, "true" if c == "bare_ip" else "false")
             for c in ("match_re", "bare_ip", "dynamic", "big_company",
                       "valid_hostname", "rdns_match", "forward_dns",
                       "host_mismatch", "literal_mismatch")] +
            ["[reject]\nbare_ip=true\n[skip]\nprivate_ip=false\n"]))
        w("config/tls.ini", "[main]\nkey=%s/leaf.key\ncert=%s/chain.pem\n"
          % (self.certs, self.certs))
        w("config/auth_flat_file.ini", "[core]\nmethods=PLAIN,LOGIN\n\n[users]\n%s=%s\n"
          % (lib.USER, lib.PASSWORD))
        w("config/log.ini", "[main]\nlevel=warn\n")
        w("plugins/interop_queue.js", QUEUE_PLUGIN)
        # RFC 7919's ffdhe2048 group: Haraka would otherwise spend seconds
        # generating DH parameters at start-up
        subprocess.run(["openssl", "genpkey", "-genparam", "-algorithm", "DH",
                        "-pkeyopt", "group:ffdhe2048", "-out",
                        os.path.join(cfg, "dhparams.pem")], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        env = dict(os.environ, INTEROP_MAILBOX=os.path.join(st, "mailbox"))
        self.log = open(os.path.join(st, "stderr"), "w")
        self.proc = subprocess.Popen([exe, "-c", st], stdout=self.log,
                                     stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env,
                                     start_new_session=True)
        for k in ("sub", "implicit"):
            if not lib.wait_port(self.ports[k], proc=self.proc, ceiling=60,
                                 banner=HOST if k == "sub" else None):
                self.stop()
                raise Skip("Haraka did not start: " + self.why())
        return self

    def why(self):
        try:
            return open(os.path.join(self.state, "stderr")).read()[-500:].replace("\n", " | ")
        except OSError:
            return "no output"

    def stop(self):
        lib.stop_group(self.proc)

    def delivered(self):
        return lib.read_text(os.path.join(self.state, "mailbox"))


def cases(srv, state, certs):
    P = srv.ports
    base = lib.base_args(P, HOST, DOMAIN, certs)
    login = lib.login_args(state)
    me = ["--to", "alice@" + DOMAIN]
    foreign = ["--to", "bob@example.org"]
    implicit = ["--tls", "implicit"]

    def delivered(rep):
        if not lib.wait_for(lambda: "smtpdx test message" in srv.delivered(), 15):
            return False, "the message did not reach the queue plugin: " + srv.why()
        # issue 9 §1: Haraka refuses a QUIT pipelined right after the
        # final dot ("503 ... pipelined after end of DATA"); RFC 2920 §3.1
        # wants the reply to DATA read first
        bad = [t["text"] for t in rep.get("transcript", [])
               if t["dir"] == "S" and t["text"].startswith("503")]
        return not bad, "Haraka answered: %s" % bad

    return [
        ("clean-send", base("sub") + login + me, None, None, delivered),
        ("clean-implicit-tls", base("implicit") + implicit + login + me, None, None, None),
        ("relay-after-login", base("sub") + login + foreign, None, None, None),
        ("wrong-password", base("sub") + ["-u", lib.USER, "--password-file",
                                          state + "/wrong-password"] + me,
         "auth.failed", "535", None),
        # issue 9 §2: Haraka's relay refusal has no "relay" in it
        ("no-login-foreign", base("sub") + foreign, "rcpt.relay_denied",
         "550 I cannot deliver mail for", None),
        ("starttls-to-implicit-port", base("implicit", "15") + ["--tls", "starttls"] + login + me,
         "tls.expected_implicit", None, None),
        ("implicit-to-starttls-port", base("sub") + implicit + login + me,
         "tls.expected_starttls", "220 " + HOST, None),
        # access plugin: its deny_msg texts
        ("sender-blocklisted", base("sub") + login + ["-f", "spammer@" + DOMAIN] + me,
         "mail.sender_rejected", "That sender cannot send mail here", None),
        ("recipient-blocklisted", base("sub") + login + ["--to", "blocked@" + DOMAIN],
         "rcpt.rejected", "That recipient is not allowed", None),
        # helo.checks bare_ip: "550 Invalid address format in HELO" to EHLO,
        # HELO taken: the name is the fault, not "no STARTTLS offered"
        ("helo-bare-ip", base("sub") + ["--helo", "192.0.2.7"] + login + me,
         "ehlo.rejected", "Invalid address format in HELO", None),
        # connection.ini [max] bytes: "550 Message too big!" to MAIL SIZE=
        ("message-too-big", base("sub") + login + me + ["--body", srv.state + "/big-body"],
         "mail.size_exceeded", "550 Message too big!", None),
        # auth/flat_file offers PLAIN and LOGIN only
        ("mech-not-offered", base("sub") + login + ["--auth", "cram-md5"] + me,
         "auth.mech_unsupported", "AUTH PLAIN LOGIN", None),
    ]

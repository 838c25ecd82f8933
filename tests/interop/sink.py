"""sink.py - Postfix's smtp-sink (the test server shipped with Postfix, in
/usr/sbin; it reads no configuration) as one process per behaviour, on
ports of its own: its own reply texts for refused and deferred commands
("500 5.3.0 Error: command failed", "450 4.3.0 Error: command failed").
Skipped with the reason where Postfix is not installed."""

import os
import shutil
import subprocess

import lib
from fetchdeb import Skip

USES_TLS = False
NAME = "smtp-sink"
DOMAIN = "sink.test"
HOST = "mx." + DOMAIN
SINK = "/usr/sbin/smtp-sink"

# behaviour -> smtp-sink options (see smtp-sink(1))
BEHAVIOURS = {
    "ok": [],
    "no-esmtp": ["-e"],
    "rcpt-hard": ["-f", "RCPT"],
    "rcpt-soft": ["-r", "RCPT"],
    "mail-soft": ["-r", "MAIL"],
    "data-hard": ["-f", "DATA"],
    "dot-soft": ["-r", "."],
    "mail-drop": ["-q", "MAIL"],
}


class Server:
    def __init__(self, state, certs):
        self.state = state
        self.certs = certs
        self.procs = []
        self.ports = {}

    def start(self):
        if not os.access(SINK, os.X_OK):
            raise Skip("%s is missing (Debian package postfix)" % SINK)
        user = [] if os.geteuid() else ["-u", "nobody"]
        for name, opts in BEHAVIOURS.items():
            port = lib.free_port()
            p = subprocess.Popen([SINK, "-h", HOST] + user + opts +
                                 ["127.0.0.1:%d" % port, "16"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                 stdin=subprocess.DEVNULL)
            self.procs.append(p)
            self.ports[name] = port
            if not lib.wait_port(port, proc=p, ceiling=20, banner=HOST):
                err = p.stderr.read().decode()[-300:] if p.poll() is not None else ""
                self.stop()
                raise Skip("smtp-sink did not start: " + err)
        return self

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()


def cases(srv, state, certs):
    P = srv.ports
    base = lambda b: ["127.0.0.1", "-p", str(P[b]), "--tls", "none",
                      "-f", "alice@" + DOMAIN, "--to", "bob@" + DOMAIN,
                      "--timeout", "10"]
    return [
        ("clean-send", base("ok"), None, None, None),
        # RFC 5321 §3.2: a server without ESMTP (EHLO refused) takes HELO
        ("no-esmtp-helo", base("no-esmtp"), None, None, None),
        # a hard refusal with a mail-system code (5.3.0): not a relay or
        # mailbox question, so the generic id
        ("rcpt-hard", base("rcpt-hard"), "rcpt.rejected",
         "500 5.3.0 Error: command failed", None),
        # issue 9 §2: "450 4.3.0" is temporary, not a refusal
        ("rcpt-soft", base("rcpt-soft"), "rcpt.temporary",
         "450 4.3.0 Error: command failed", None),
        ("mail-soft", base("mail-soft"), "mail.temporary",
         "450 4.3.0 Error: command failed", None),
        ("data-hard", base("data-hard"), "data.rejected",
         "500 5.3.0 Error: command failed", None),
        ("dot-soft", base("dot-soft"), "data.temporary",
         "450 4.3.0 Error: command failed", None),
        ("mail-hangup", base("mail-drop"), "session.closed", None, None),
    ]

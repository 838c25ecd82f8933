#!/usr/bin/env python3
"""The lab server's report cards and `--lab all` (issue 14).

One `smtpdx --lab all --lab-server CA --report-card FILE` serves every
scenario on a port of its own; clients connect, and each connection's card
(text on the server's stdout, a JSON line in FILE) must carry the marks a
teacher would expect:

- careful clients (smtpdx itself, swaks with --tls-verify and the CA) get
  no failing mark, and pass the checks their scenario tests;
- careless ones get the specific bad mark: curl --insecure on a wrong-name
  certificate ("did not verify the certificate"), a raw socket sending
  AUTH PLAIN in plaintext ("sent the password in plaintext"), bare LF and
  an unstuffed dot in the message, talking before the greeting, commands
  pipelined after EHLO, a client that acts on STARTTLS-injected lines;
- greylisting is real while grading: a retry after the delay gets through;
- the table names every scenario, consecutive ports with -p, and the
  per-scenario connection limit holds.

Loopback only.  Prints TAP and a final "N passed, M failed" line."""

import base64
import json
import os
import random
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time

import tap
from tap import report

SMTPDX = os.path.abspath(os.environ.get("SMTPDX", "./smtpdx"))
USER, PASSWORD = "alice", "lab-Secret-42"
SERVERNAME = "mail.smtpdx.lab"
GREY_DELAY = 1


class Server:
    def __init__(self, tmp, extra=(), env=None):
        self.ca = os.path.join(tmp, "ca.pem")
        self.cards = os.path.join(tmp, "cards.jsonl")
        self.out = open(os.path.join(tmp, "stdout"), "w+")
        self.p = subprocess.Popen(
            [SMTPDX, "--lab", "all", "--lab-server", self.ca,
             "--report-card", self.cards] + list(extra),
            stdout=self.out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=dict(os.environ, **(env or {})))
        self.ports = {}
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and self.p.poll() is None:
            self.out.seek(0)
            text = self.out.read()
            if "# a report card per connection follows" in text:
                break
            time.sleep(0.05)
        self.out.seek(0)
        self.header = self.out.read()
        for line in self.header.splitlines():
            w = line.split()
            if len(w) >= 4 and w[0] == "#" and w[1].isdigit():
                self.ports[w[3]] = int(w[1])
        self.seen = 0

    def port(self, name):
        return self.ports[name]

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            self.p.wait(10)
        self.out.close()

    def cards_now(self):
        try:
            with open(self.cards) as f:
                return [json.loads(l) for l in f if l.strip()]
        except FileNotFoundError:
            return []

    def next_card(self, scenario, timeout=10):
        """The next card (after the ones taken) for scenario."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            cards = self.cards_now()
            for i in range(self.seen, len(cards)):
                if cards[i]["scenario"] == scenario:
                    self.seen = i + 1
                    return cards[i]
            time.sleep(0.05)
        return None


def marks(card):
    return {m["id"]: (m["status"], m["text"]) for m in card["marks"]} if card else {}


def expect(srv, scenario, who, want, no_fail=False):
    """want: {mark id: (status, words the text must hold or None)}."""
    card = srv.next_card(scenario)
    report(card is not None, "%s on %s: a card" % (who, scenario))
    if not card:
        return None
    m = marks(card)
    for mid, (status, words) in want.items():
        got = m.get(mid, ("missing", ""))
        report(got[0] == status and (words is None or words in got[1]),
               "%s on %s: %s is %s%s" % (who, scenario, mid, status,
                                        " (\"%s\")" % words if words else ""),
               repr(got))
    if no_fail:
        bad = {k: v for k, v in m.items() if v[0] == "fail"}
        report(not bad, "%s on %s: no failing mark" % (who, scenario), repr(bad))
    return card


def smtpdx_client(srv, scenario, extra=()):
    env = dict(os.environ, SMTPDX_PASSWORD=PASSWORD, NO_COLOR="1")
    return subprocess.run(
        [SMTPDX, "127.0.0.1", "-p", str(srv.port(scenario)), "--cafile", srv.ca,
         "--servername", SERVERNAME, "-u", USER, "-f", "alice@smtpdx.lab",
         "-t", "bob@smtpdx.lab", "--batch", "--timeout", "5"] + list(extra),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, timeout=30)


class Raw:
    """A hand-driven SMTP client: what a careless script does."""

    def __init__(self, port, wait_greeting=True):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buf = b""
        if wait_greeting:
            self.reply()

    def send(self, data):
        self.s.sendall(data)

    def line(self):
        while b"\n" not in self.buf:
            d = self.s.recv(4096)
            if not d:
                raise EOFError
            self.buf += d
        l, self.buf = self.buf.split(b"\n", 1)
        return l.decode("latin-1").rstrip("\r")

    def reply(self):
        lines = [self.line()]
        while len(lines[-1]) > 3 and lines[-1][3] == "-":
            lines.append(self.line())
        return lines

    def cmd(self, c):
        self.send(c.encode() + b"\r\n")
        return self.reply()

    def starttls(self, ca):
        r = self.cmd("STARTTLS")
        ctx = ssl.create_default_context(cafile=ca)
        self.s = ctx.wrap_socket(self.s, server_hostname=SERVERNAME)
        return r

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def plain_ir():
    return base64.b64encode(("\0%s\0%s" % (USER, PASSWORD)).encode()).decode()


def main():
    tmp = tempfile.mkdtemp(prefix="smtpdx-card-")
    srv = Server(tmp, env={"SMTPDX_LAB_GREYLIST_DELAY": str(GREY_DELAY)})
    try:
        run(srv, tmp)
    finally:
        srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    consecutive()
    unread_pipe()
    return tap.summary()


def run(srv, tmp):
    # ---- the table ---------------------------------------------------------
    names = subprocess.run([SMTPDX, "--lab", "list"], stdout=subprocess.PIPE,
                           timeout=10).stdout.decode().split("\n")
    names = [l.split("\t")[0] for l in names if l.strip()]
    report(sorted(srv.ports) == sorted(names) and len(set(srv.ports.values())) ==
           len(names), "--lab all: the table has every scenario, each on a "
           "port of its own (%d)" % len(names), srv.header[-1500:])
    report("login: user alice, password lab-Secret-42" in srv.header and
           "what to try" in srv.header,
           "--lab all: the table says the login and what to try",
           srv.header[:800])
    first = srv.header.splitlines()[0]
    report(first.strip() == str(srv.port("ok")),
           "--lab all: the first line is the first port, alone", first)

    # ---- careful clients ------------------------------------------------------
    p = smtpdx_client(srv, "ok")
    report(p.returncode == 0, "smtpdx on ok: the session passes",
           p.stdout.decode()[-600:])
    expect(srv, "ok", "smtpdx", {
        "plaintext": ("pass", "inside TLS"),
        "mechanism": ("pass", "SCRAM-SHA-256"),
        "greeting": ("pass", None),
        "pipelining": ("pass", None),
        "message": ("pass", "well-formed"),
    }, no_fail=True)

    smtpdx_client(srv, "tls.cert_hostname_mismatch")
    expect(srv, "tls.cert_hostname_mismatch", "smtpdx", {
        "certificate": ("pass", None)}, no_fail=True)
    smtpdx_client(srv, "starttls.injection")
    expect(srv, "starttls.injection", "smtpdx", {
        "injection": ("pass", None)}, no_fail=True)
    smtpdx_client(srv, "auth.offered_in_plaintext")
    expect(srv, "auth.offered_in_plaintext", "smtpdx", {
        "plaintext": ("pass", "offered before TLS")}, no_fail=True)

    swaks = shutil.which("swaks")
    if swaks:
        def sw(scenario):
            return subprocess.run(
                [swaks, "--server", "127.0.0.1:%d" % srv.port(scenario), "--tls",
                 "--tls-verify", "--tls-ca-path", srv.ca, "--tls-sni", SERVERNAME,
                 "-au", USER, "-ap", PASSWORD, "-f", "alice@smtpdx.lab",
                 "-t", "bob@smtpdx.lab"], stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, timeout=30)
        p = sw("ok")
        # swaks verifies the name against --server: it needs the name
        report(True, "swaks on ok: ran (exit %d)" % p.returncode)
        expect(srv, "ok", "swaks --tls --tls-verify", {
            "plaintext": ("pass", None),
            "greeting": ("pass", None),
            "pipelining": ("pass", None),
            "message": ("pass", None),
        }, no_fail=True)
        sw("tls.cert_untrusted")
        expect(srv, "tls.cert_untrusted", "swaks --tls --tls-verify", {
            "certificate": ("pass", "refused")}, no_fail=True)
        # swaks (20201014) checks the chain, not the name: the card says so
        sw("tls.cert_hostname_mismatch")
        expect(srv, "tls.cert_hostname_mismatch", "swaks --tls --tls-verify", {
            "certificate": ("fail", "did not verify the certificate's name")})
    else:
        tap.skip("swaks clients", "swaks is not installed")

    # ---- careless clients -------------------------------------------------------
    curl = shutil.which("curl")
    if curl:
        mism = srv.port("tls.cert_hostname_mismatch")
        msg = os.path.join(tmp, "msg.txt")
        with open(msg, "w") as f:
            f.write("From: alice@smtpdx.lab\r\nTo: bob@smtpdx.lab\r\nSubject: x"
                    "\r\n\r\nhello\r\n")
        subprocess.run([curl, "-s", "--insecure", "--ssl-reqd", "--url",
                        "smtp://127.0.0.1:%d" % mism, "--mail-from",
                        "alice@smtpdx.lab", "--mail-rcpt", "bob@smtpdx.lab",
                        "--user", "%s:%s" % (USER, PASSWORD), "-T", msg],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=30)
        expect(srv, "tls.cert_hostname_mismatch", "curl --insecure --ssl-reqd", {
            "certificate": ("fail", "did not verify the certificate"),
            "message": ("fail", "Date")})
        # curl without --insecure: it refuses the name
        p = subprocess.run([curl, "-s", "--ssl-reqd", "--cacert", srv.ca, "--url",
                            "smtp://%s:%d" % (SERVERNAME, mism), "--resolve",
                            "%s:%d:127.0.0.1" % (SERVERNAME, mism),
                            "--mail-from", "alice@smtpdx.lab", "--mail-rcpt",
                            "bob@smtpdx.lab", "--user", "%s:%s" % (USER, PASSWORD),
                            "-T", msg], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=30)
        report(p.returncode != 0, "curl --cacert on a wrong name: curl refuses")
        expect(srv, "tls.cert_hostname_mismatch", "curl --cacert", {
            "certificate": ("pass", None)}, no_fail=True)
    else:
        tap.skip("curl clients", "curl is not installed")

    # AUTH PLAIN in plaintext, on a server that does not even offer it
    r = Raw(srv.port("ok"))
    r.cmd("EHLO raw.example")
    r.cmd("AUTH PLAIN " + plain_ir())
    r.cmd("QUIT")
    r.close()
    expect(srv, "ok", "raw AUTH PLAIN before STARTTLS", {
        "plaintext": ("fail", "sent the password in plaintext")})

    # AUTH LOGIN in plaintext where the server offers it: the password goes
    r = Raw(srv.port("auth.offered_in_plaintext"))
    r.cmd("EHLO raw.example")
    r.cmd("AUTH LOGIN")
    r.cmd(base64.b64encode(USER.encode()).decode())
    r.cmd(base64.b64encode(PASSWORD.encode()).decode())
    r.cmd("QUIT")
    r.close()
    expect(srv, "auth.offered_in_plaintext", "raw AUTH LOGIN before STARTTLS", {
        "plaintext": ("fail", "sent the password in plaintext"),
        "mechanism": ("warn", "LOGIN")})

    # a message with bare LF, an unstuffed dot, no Date, inside TLS
    r = Raw(srv.port("ok"))
    r.cmd("EHLO raw.example")
    r.starttls(srv.ca)
    r.cmd("EHLO raw.example")
    r.cmd("AUTH PLAIN " + plain_ir())
    r.cmd("MAIL FROM:<alice@smtpdx.lab>")
    r.cmd("RCPT TO:<bob@smtpdx.lab>")
    r.cmd("DATA")
    r.send(b"From: alice@smtpdx.lab\r\nSubject: careless\r\n\r\nline one\n"
           b".signature line\r\nend\r\n.\r\n")
    r.reply()
    r.cmd("QUIT")
    r.close()
    expect(srv, "ok", "raw message", {
        "message": ("fail", "bare LF"),
        "plaintext": ("pass", None),
        "mechanism": ("warn", "PLAIN")})
    card = srv.cards_now()[srv.seen - 1]
    text = marks(card)["message"][1]
    report("dot" in text and "missing header: Date" in text,
           "raw message: the unstuffed dot and the missing Date are named", text)

    # talking before the greeting
    r = Raw(srv.port("ok"), wait_greeting=False)
    r.send(b"EHLO early.example\r\n")
    r.reply()
    r.reply()
    r.cmd("QUIT")
    r.close()
    expect(srv, "ok", "raw early talker", {
        "greeting": ("fail", "spoke before the greeting")})

    # EHLO and MAIL in one write: EHLO must end a group (RFC 2920)
    r = Raw(srv.port("ok"))
    r.send(b"EHLO pipe.example\r\nMAIL FROM:<alice@smtpdx.lab>\r\n")
    r.reply()
    r.reply()
    r.cmd("QUIT")
    r.close()
    expect(srv, "ok", "raw EHLO+MAIL pipelined", {
        "pipelining": ("fail", "after EHLO")})

    # a client that keeps the injected lines: it reads the 220 with the
    # "250-injected / 250 OK" behind it into its buffer, starts TLS, sends
    # EHLO and takes the buffered lines for the reply: MAIL at once
    inj = srv.port("starttls.injection")
    s = socket.create_connection(("127.0.0.1", inj), timeout=5)
    f = s.makefile("rb")
    f.readline()
    s.sendall(b"EHLO vuln.example\r\n")
    while not f.readline().startswith(b"250 "):
        pass
    s.sendall(b"STARTTLS\r\n")
    time.sleep(0.2)                 # the whole segment is there (a condition
    data = s.recv(4096)             # of this client's bug, not a wait for one)
    ok_inj = b"250 OK" in data
    ctx = ssl.create_default_context(cafile=srv.ca)
    t = ctx.wrap_socket(s, server_hostname=SERVERNAME)
    t.sendall(b"EHLO vuln.example\r\n")
    t.sendall(b"MAIL FROM:<alice@smtpdx.lab>\r\n")   # "250 OK" was the reply
    time.sleep(0.1)
    t.close()
    report(ok_inj, "the injected lines came with the 220", repr(data))
    expect(srv, "starttls.injection", "a client that acts on injected lines", {
        "injection": ("fail", "acted on the lines injected")})

    # greylisting, for real: the first try gets 450, a retry after the
    # delay gets through
    p1 = smtpdx_client(srv, "rcpt.greylisted")
    expect(srv, "rcpt.greylisted", "smtpdx, first try", {
        "tempfail": ("pass", "temporary")}, no_fail=True)
    time.sleep(GREY_DELAY + 0.2)    # the greylist's delay is the condition
    p2 = smtpdx_client(srv, "rcpt.greylisted")
    report(p1.returncode == 1 and p2.returncode == 0,
           "greylisting while grading: 450 first, the retry after %d s passes"
           % GREY_DELAY, p2.stdout.decode()[-500:])
    expect(srv, "rcpt.greylisted", "smtpdx, the retry", {
        "tempfail": ("pass", "got through")})

    # the card in text on stdout
    srv.out.seek(0)
    text = srv.out.read()
    report("--- report card for 127.0.0.1:" in text and
           "FAIL  verifies the certificate" in text and "grade:" in text,
           "the cards are printed on the server's stdout too", text[-800:])
    long = [l for l in text.split("--- report card", 1)[1].splitlines()
            if len(l) > 80]
    report(not long, "the text cards fit 80 columns", "\n".join(long[:3]))

    # bounds: 16 connections at once per scenario, one more is told 421
    held = []
    for _ in range(16):
        c = socket.create_connection(("127.0.0.1", srv.port("ok-relay")), timeout=5)
        c.recv(100)                 # the greeting: it is being served
        held.append(c)
    c = socket.create_connection(("127.0.0.1", srv.port("ok-relay")), timeout=5)
    got = c.recv(100)
    report(got.startswith(b"421 4.3.2"), "--lab all: a 17th connection to one "
           "scenario is told 421 4.3.2", repr(got))
    c2 = socket.create_connection(("127.0.0.1", srv.port("ok")), timeout=5)
    got2 = c2.recv(100)
    report(got2.startswith(b"220"), "... while another scenario still serves",
           repr(got2))
    for c in held + [c, c2]:
        c.close()


def unread_pipe():
    """A server whose stdout nobody reads (a script took the port line):
    the cards fill the pipe, and the server must go on serving."""
    tmp = tempfile.mkdtemp(prefix="smtpdx-card-")
    p = subprocess.Popen([SMTPDX, "--lab", "ok", "--lab-server",
                          os.path.join(tmp, "ca.pem")], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                         env=dict(os.environ, SMTPDX_LAB_PREGREET_MS="0"))
    try:
        port = int(p.stdout.readline())
        served = 0
        t0 = time.monotonic()
        for _ in range(150):        # ~1 KiB of card each: past a 64 KiB pipe
            try:
                r = Raw(port)
                r.cmd("EHLO unread.example")
                r.cmd("QUIT")
                r.close()
                served += 1
            except (OSError, EOFError):
                pass
        report(served == 150, "an unread stdout: 150 connections served in a "
               "row (%d, %.1f s)" % (served, time.monotonic() - t0))
    finally:
        p.terminate()
        p.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)


def consecutive():
    """-p BASE: consecutive ports from BASE, in the table's order."""
    tmp = tempfile.mkdtemp(prefix="smtpdx-card-")
    try:
        for attempt in range(5):
            base = random.randrange(20000, 30000)
            srv = Server(tmp, ["-p", str(base)])
            if srv.ports:
                break
            srv.stop()          # a port of the range is taken: another range
        else:
            report(False, "--lab all -p BASE: started", srv.header)
            return
        ports = [int(l.split()[1]) for l in srv.header.splitlines()
                 if l.startswith("# ") and l.split()[1].isdigit()]
        report(ports == list(range(base, base + len(ports))),
               "--lab all -p %d: ports %d-%d, consecutive" % (base, base,
                                                              base + len(ports) - 1),
               repr(ports[:5]))
        s = socket.create_connection(("127.0.0.1", base), timeout=5)
        report(s.recv(100).startswith(b"220"), "--lab all -p: the first port serves")
        s.close()
        srv.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""SASL attack servers: SMTP servers of our own that break AUTH on purpose.

Each server speaks just enough SMTP (greeting, EHLO, AUTH, MAIL, RCPT,
DATA, RSET, QUIT) on 127.0.0.1 and plays one attack on the AUTH exchange:
334 without end for every mechanism, a challenge that is not base64
(curl's test 932), a 334 after PLAIN's initial response, a SCRAM iteration
count of 2^31-1, a wrong SCRAM server signature, a 235 without one.  Also
the interop cases smtpdx must get right: AUTH LOGIN prompts in plain text
(smtplib and swaks accept them) and 45 mechanisms with PLAIN last.  And
one for the report's size: an EHLO reply of four 60 KB lines.

The server counts, on its side, how often the password went over the wire
(raw or in any base64 form we know).  smtpdx runs under /usr/bin/time for
its peak resident size.  Prints TAP and a final "N passed, M failed"."""

import base64
import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

import tap
from tap import report

SMTPDX = os.environ.get("SMTPDX", "./smtpdx")
MAX_KIB = int(os.environ.get("HOSTILE_MAX_KIB", 32 * 1024))
SLACK = float(os.environ.get("HOSTILE_SLACK", 1.5))
MAX_JSON = 64 * 1024
USER = "alice"
PASSWORD = "Attack-Secret-7"
TIMEOUT = 3            # --timeout for every run
SERVER_GIVES_UP = 20   # an attack server stops after this many seconds


def b64(b):
    return base64.b64encode(b).decode()


def secret_forms():
    """Every form of the password a client could send, as bytes."""
    forms = {PASSWORD.encode(), b64(PASSWORD.encode()).encode(),
             b64(b"\0" + USER.encode() + b"\0" + PASSWORD.encode()).encode(),
             b64(("user=%s\x01auth=Bearer %s\x01\x01" % (USER, PASSWORD)).encode()).encode()}
    return forms


class Scram:
    """The server side of SCRAM-SHA-256 (RFC 5802), enough to test with."""

    def __init__(self, iters=4096):
        self.iters = iters
        self.salt = b"attack-salt-1234"

    def first(self, client_first):
        cf = client_first.decode()
        self.gs2, rest = cf[:cf.index(",", cf.index(",") + 1) + 1], cf[cf.index(",", cf.index(",") + 1) + 1:]
        self.bare = rest
        cnonce = dict(a.split("=", 1) for a in rest.split(","))["r"]
        self.nonce = cnonce + "srvNONCE"
        self.sf = "r=%s,s=%s,i=%d" % (self.nonce, b64(self.salt), self.iters)
        return self.sf

    def final(self, client_final):
        cf = client_final.decode()
        without = cf[:cf.index(",p=")]
        auth = ",".join([self.bare, self.sf, without]).encode()
        salted = hashlib.pbkdf2_hmac("sha256", PASSWORD.encode(), self.salt, self.iters)
        ckey = hmac.new(salted, b"Client Key", "sha256").digest()
        skey = hmac.new(salted, b"Server Key", "sha256").digest()
        stored = hashlib.sha256(ckey).digest()
        csig = hmac.new(stored, auth, "sha256").digest()
        proof = base64.b64decode(cf[cf.index(",p=") + 3:])
        self.proof_ok = bytes(a ^ b for a, b in zip(ckey, csig)) == proof
        self.c_attr = dict(a.split("=", 1) for a in without.split(","))["c"]
        return "v=" + b64(hmac.new(skey, auth, "sha256").digest())


class Conn:
    """One connection: line I/O plus what the client sent."""

    def __init__(self, sock):
        self.sock = sock
        self.rx = b""
        self.seen = b""          # every byte the client sent
        self.lines = []
        sock.settimeout(1.0)

    def send(self, line):
        self.sock.sendall(line.encode() + b"\r\n")

    def line(self, deadline):
        while b"\n" not in self.rx:
            if time.monotonic() > deadline:
                return None
            try:
                d = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return None
            if not d:
                return None
            self.rx += d
            self.seen += d
        l, self.rx = self.rx.split(b"\n", 1)
        l = l.rstrip(b"\r")
        self.lines.append(l)
        return l


MECHS45 = ["X-MECH-%02d" % i for i in range(44)] + ["PLAIN"]


def serve(conn, attack, state):
    """Play one attack on conn; fill state (password count, rounds...)."""
    deadline = time.monotonic() + SERVER_GIVES_UP
    mechs = attack.get("mechs", ["PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-256", "XOAUTH2"])
    conn.send("220 attack.test ESMTP")
    while True:
        l = conn.line(deadline)
        if l is None:
            return
        verb = l.split(b" ")[0].upper()
        if verb == b"EHLO":
            conn.send("250-attack.test")
            for i in range(attack.get("big_lines", 0)):
                conn.send("250-X-BIG-%d " % i + "x" * 60000)
            conn.send("250-PIPELINING")
            conn.send("250 AUTH " + " ".join(mechs))
        elif verb == b"AUTH":
            if auth(conn, l, attack, state, deadline) is None:
                return
        elif verb in (b"MAIL", b"RCPT", b"RSET"):
            conn.send("250 2.0.0 Ok")
        elif verb == b"DATA":
            conn.send("354 go on")
            while True:
                d = conn.line(deadline)
                if d is None:
                    return
                if d == b".":
                    break
            conn.send("250 2.0.0 Ok: queued")
        elif verb == b"QUIT":
            conn.send("221 2.0.0 Bye")
            return
        else:
            conn.send("502 5.5.2 Error: command not recognized")


def auth(conn, l, attack, state, deadline):
    """The AUTH exchange as the attack wants it.  None: connection over."""
    words = l.decode().split(" ")
    mech = words[1].upper()
    state["mech"] = mech
    kind = attack["auth"]

    def answer():
        a = conn.line(deadline)
        if a is None:
            return None
        if a == b"*":
            state["cancelled"] = True
            conn.send("501 5.7.0 Authentication aborted")
        return a

    if kind == "endless":
        # a 334 for everything, the first ones as the mechanism wants
        scram = Scram()
        first = True
        ch = {"PLAIN": "", "LOGIN": "VXNlcm5hbWU6", "CRAM-MD5":
              b64(b"<1896.697170952@attack.test>"),
              "XOAUTH2": b64(b'{"status":"401","schemes":"bearer"}')}.get(mech, "Zm9v")
        last = words[2].encode() if len(words) > 2 else None
        while True:
            if mech == "SCRAM-SHA-256" and first and last:
                c = "334 " + b64(scram.first(base64.b64decode(last)).encode())
            elif mech == "SCRAM-SHA-256" and last and last.startswith(b"Yz1"):
                c = "334 " + b64(scram.final(base64.b64decode(last)).encode())
            else:
                c = "334 " + ch
            first = False
            conn.send(c)
            state["rounds"] = state.get("rounds", 0) + 1
            last = answer()
            if last is None:
                return None
            if last == b"*":
                return True
    if kind == "echo":
        # a server that quotes what it got, decoded too, in its refusal
        # (and in an unfinished line after it)
        if mech == "LOGIN":
            conn.send("334 VXNlcm5hbWU6")
            if conn.line(deadline) is None:
                return None
            conn.send("334 UGFzc3dvcmQ6")
            got = conn.line(deadline)
        else:
            got = words[2].encode() if len(words) > 2 else conn.line(deadline)
        if got is None:
            return None
        try:
            dec = base64.b64decode(got).replace(b"\0", b" ").decode(errors="replace")
        except ValueError:
            dec = "?"
        conn.send("535 5.7.8 bad credentials: %s (%s) in %s" % (got.decode(errors="replace"), dec, l.decode(errors="replace")))
        return True
    if kind == "rubbish":
        conn.send("334 Rubbish")
        return answer() is not None or None
    if kind == "plain-ir-334":
        conn.send("334 ")
        return answer() is not None or None
    if kind in ("scram-huge-i", "scram-wrong-v", "scram-no-v", "scram-ok"):
        scram = Scram(2147483647 if kind == "scram-huge-i" else 4096)
        cf = base64.b64decode(words[2])
        state["gs2"] = cf[:3].decode()
        conn.send("334 " + b64(scram.first(cf).encode()))
        a = answer()
        if a is None or a == b"*":
            return a and True
        v = scram.final(base64.b64decode(a))
        state["proof_ok"] = scram.proof_ok
        state["c"] = scram.c_attr
        if kind == "scram-no-v":
            conn.send("235 2.7.0 Authentication successful")
            return True
        if kind == "scram-wrong-v":
            v = "v=" + b64(b"\x01" * 32)
        conn.send("334 " + b64(v.encode()))
        a = answer()
        if a is None or a == b"*":
            return a and True
        conn.send("235 2.7.0 Authentication successful")
        return True
    if kind == "login-plain-prompts":
        conn.send("334 Username:")
        u = answer()
        conn.send("334 Password:")
        p = answer()
        if u is None or p is None:
            return None
        ok = (base64.b64decode(u) == USER.encode() and
              base64.b64decode(p) == PASSWORD.encode())
        conn.send("235 2.7.0 Authentication successful" if ok else
                  "535 5.7.8 Error: authentication failed")
        return True
    if kind == "ok":
        ok = (mech == "PLAIN" and len(words) > 2 and
              base64.b64decode(words[2]) == b"\0%s\0%s" % (USER.encode(), PASSWORD.encode()))
        conn.send("235 2.7.0 Authentication successful" if ok else
                  "535 5.7.8 Error: authentication failed")
        return True
    raise ValueError(kind)


class Server:
    def __init__(self, attack):
        self.attack = attack
        self.state = {}
        self.conns = []
        self.ls = socket.socket()
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(8)
        self.port = self.ls.getsockname()[1]
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while True:
            try:
                s, _ = self.ls.accept()
            except OSError:
                return
            c = Conn(s)
            self.conns.append(c)
            try:
                serve(c, self.attack, self.state)
            except (OSError, ValueError, KeyError, IndexError, base64.binascii.Error):
                pass
            finally:
                s.close()

    def stop(self):
        self.ls.close()

    def password_sent(self):
        seen = b"".join(c.seen for c in self.conns)
        return sum(seen.count(f) for f in secret_forms())


def run(port, extra):
    """smtpdx --json against the server; (proc, secs, kib)."""
    fd, tfile = tempfile.mkstemp(prefix="smtpdx-time.")
    os.close(fd)
    env = dict(os.environ)
    env["SMTPDX_PASSWORD"] = PASSWORD
    env["NO_COLOR"] = "1"
    cmd = [SMTPDX, "--json", "--tls", "none", "--allow-plaintext-auth",
           "-u", USER, "--timeout", str(TIMEOUT), "-f", "a@attack.test",
           "-t", "b@attack.test", "127.0.0.1:%d" % port] + extra
    if os.access("/usr/bin/time", os.X_OK):
        cmd = ["/usr/bin/time", "-f", "%M", "-o", tfile] + cmd
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=TIMEOUT + SERVER_GIVES_UP + 10,
                           env=env)
    except subprocess.TimeoutExpired:
        os.unlink(tfile)
        return None, time.monotonic() - t0, None
    secs = time.monotonic() - t0
    kib = None
    try:
        with open(tfile) as f:
            last = f.read().strip().splitlines()
        kib = int(last[-1]) if last and last[-1].isdigit() else None
    except OSError:
        pass
    os.unlink(tfile)
    return p, secs, kib


# name -> (attack, smtpdx options, expected error id or None for success,
#          the most seconds it may take, what it shows)
CASES = [
    ("endless-334 PLAIN", {"auth": "endless"}, ["--auth", "plain"],
     "auth.exchange_broken", None, "a 334 after PLAIN's initial response, forever"),
    ("endless-334 LOGIN", {"auth": "endless"}, ["--auth", "login"],
     "auth.exchange_broken", None, "'Username:' asked forever"),
    ("endless-334 CRAM-MD5", {"auth": "endless"}, ["--auth", "cram-md5"],
     "auth.exchange_broken", None, "a new challenge forever"),
    ("endless-334 SCRAM-SHA-256", {"auth": "endless"}, ["--auth", "scram-sha-256"],
     "auth.exchange_broken", None, "334s after the server's signature, forever"),
    ("endless-334 XOAUTH2", {"auth": "endless"}, ["--auth", "xoauth2"],
     "auth.exchange_broken", None, "the error challenge forever"),
    ("rubbish CRAM-MD5", {"auth": "rubbish"}, ["--auth", "cram-md5"],
     "auth.exchange_broken", None, "'334 Rubbish' (curl test 932)"),
    ("rubbish SCRAM-SHA-256", {"auth": "rubbish"}, ["--auth", "scram-sha-256"],
     "auth.exchange_broken", None, "'334 Rubbish' as the server-first message"),
    ("plain-ir-334", {"auth": "plain-ir-334"}, ["--auth", "plain"],
     "auth.exchange_broken", None, "one '334 ' after PLAIN's initial response"),
    ("scram-huge-i", {"auth": "scram-huge-i"}, ["--auth", "scram-sha-256"],
     "auth.exchange_broken", 2.0, "SCRAM with i=2147483647"),
    ("scram-wrong-v", {"auth": "scram-wrong-v"}, ["--auth", "scram-sha-256"],
     "auth.server_unverified", None, "a SCRAM server signature that is wrong"),
    ("scram-no-v", {"auth": "scram-no-v"}, ["--auth", "scram-sha-256"],
     "auth.server_unverified", None, "235 without the SCRAM server signature"),
    ("scram-ok", {"auth": "scram-ok"}, ["--auth", "scram-sha-256"],
     None, None, "a correct SCRAM server (no TLS: gs2 header n)"),
    ("login-plain-prompts", {"auth": "login-plain-prompts"}, ["--auth", "login"],
     None, None, "'334 Username:' and '334 Password:' not in base64"),
    ("echo PLAIN", {"auth": "echo"}, ["--auth", "plain"],
     "auth.failed", None, "a 535 that quotes the AUTH line and the password"),
    ("echo LOGIN", {"auth": "echo"}, ["--auth", "login"],
     "auth.failed", None, "a 535 that quotes the password, base64 and plain"),
    ("45-mechanisms", {"auth": "ok", "mechs": MECHS45}, [],
     None, None, "44 unknown mechanisms, then PLAIN"),
    ("huge-ehlo-lines", {"auth": "ok", "big_lines": 4, "mechs": ["PLAIN"]}, [],
     None, None, "an EHLO reply with four lines of 60 KB (the report stays small)"),
]


def main():
    for name, attack, extra, want, most, what in CASES:
        srv = Server(attack)
        p, secs, kib = run(srv.port, extra)
        srv.stop()
        tag = "%s (%s)" % (name, what)
        if p is None:
            report(False, "%s: ends at all" % tag, "still running after %.0f s" % secs)
            continue
        limit = most + max(0.0, SLACK - 1.5) if most else TIMEOUT + SLACK
        report(p.returncode in (0, 1), "%s: exits 0 or 1, no crash" % tag,
               "exit %d; %r" % (p.returncode, p.stderr[-300:]))
        report(secs <= limit, "%s: done in %.2f s (at most %.1f s)" % (tag, secs, limit))
        if kib is not None:
            report(kib <= MAX_KIB, "%s: peak memory %d KiB <= %d KiB" % (tag, kib, MAX_KIB))
        report(len(p.stdout) < MAX_JSON, "%s: JSON report %d bytes < %d"
               % (tag, len(p.stdout), MAX_JSON))
        try:
            rep = json.loads(p.stdout.decode("utf-8"))
        except ValueError as e:
            report(False, "%s: one valid JSON object" % tag, "%s %r" % (e, p.stdout[:200]))
            continue
        errs = [d for d in rep.get("diagnoses", []) if d["severity"] == "error"]
        ids = [d["id"] for d in errs]
        if want:
            report(ids[:1] == [want], "%s: diagnosed as %s" % (tag, want), repr(ids))
        else:
            report(not errs and rep.get("result") == "ok",
                   "%s: a clean success" % tag, repr(ids))
        sent = srv.password_sent()
        report(sent <= 1, "%s: the password went out %d time(s), at most once" % (tag, sent))
        if want == "auth.exchange_broken":
            report(srv.state.get("cancelled"),
                   "%s: the exchange was cancelled with '*' (RFC 4954 §4)" % tag,
                   repr(srv.state))
        if name.startswith("echo"):
            out = p.stdout + p.stderr
            leaks = [f for f in secret_forms() if f in out]
            report(not leaks and b"<redacted>" in p.stdout,
                   "%s: the password the server echoes is redacted in the "
                   "transcript and the evidence" % tag, repr(leaks))
        if name.startswith("endless"):
            report(srv.state.get("rounds", 0) <= 3,
                   "%s: %d challenges answered, 3 at most" % (tag, srv.state.get("rounds", 0)))
        if name == "scram-huge-i":
            ev = " ".join(d.get("evidence", "") for d in errs)
            report("2147483647" in ev, "%s: the evidence gives the count" % tag, ev[:300])
        if name.startswith("scram"):
            report(srv.state.get("gs2") == "n,,",
                   "%s: gs2 header n (no TLS, no channel binding)" % tag,
                   repr(srv.state.get("gs2")))
        if name in ("scram-ok", "scram-wrong-v", "scram-no-v"):
            report(srv.state.get("proof_ok"), "%s: the client's proof is right" % tag)
            report(srv.state.get("c") == "biws", "%s: c=biws (base64 of 'n,,')" % tag,
                   repr(srv.state.get("c")))
        if name == "45-mechanisms":
            report(srv.state.get("mech") == "PLAIN", "%s: PLAIN picked" % tag,
                   repr(srv.state.get("mech")))
    return tap.summary()


if __name__ == "__main__":
    sys.exit(main())

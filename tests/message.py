#!/usr/bin/env python3
"""The message and the MAIL/RCPT parameters (issue 15), asserted on the
wire: a small scripted SMTP server on loopback records every byte smtpdx
sends, and each case checks what a user (or the receiving MTA) would:
--data dot-stuffed with CRLF line ends, --header and --body in place of
the generated ones, DSN parameters xtext-encoded (no space, CR or LF ever
inside ENVID or ORCPT), left out with a warning when DSN is not offered,
BDAT chunks that add up to the message, BDAT pipelined with MAIL and
RCPT, REQUIRETLS never in plaintext, the usage errors (exit 2, one line),
and that a message holding the password is never sent.
Prints TAP and a final "N passed, M failed, K skipped" line."""

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import tap
from tap import report

SMTPDX = os.environ.get("SMTPDX", "./smtpdx")
TMP = tempfile.mkdtemp(prefix="smtpdx-message.")


class Server:
    """One SMTP conversation on 127.0.0.1:port, recorded.

    caps: the EHLO keywords.  hold_mail: MAIL's reply waits until the
    next command (BDAT/DATA) has arrived, or 2 s: tells whether smtpdx
    pipelined it.  bdat_reply: what each BDAT chunk gets."""

    def __init__(self, caps, hold_mail=False, bdat_reply="250 2.0.0 Ok"):
        self.caps = caps
        self.hold_mail = hold_mail
        self.bdat_reply = bdat_reply
        self.raw = b""
        self.commands = []          # command lines, as received
        self.data = None            # DATA text (still dot-stuffed)
        self.chunks = []            # (size, last, bytes) per BDAT
        self.pipelined = None       # hold_mail: BDAT/DATA came before 250
        self.connected = False
        self.ls = socket.socket()
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(1)
        self.ls.settimeout(20)
        self.port = self.ls.getsockname()[1]
        self.t = threading.Thread(target=self.serve, daemon=True)
        self.t.start()

    def serve(self):
        try:
            c, _ = self.ls.accept()
        except OSError:
            return
        self.connected = True
        c.settimeout(10)
        self.buf = b""
        self.c = c
        try:
            self.talk()
        except (OSError, ConnectionError):
            pass
        finally:
            c.close()
            self.ls.close()

    def fill(self, timeout=10):
        self.c.settimeout(timeout)
        d = self.c.recv(65536)
        if not d:
            raise ConnectionError
        self.raw += d
        self.buf += d

    def line(self):
        while b"\r\n" not in self.buf:
            self.fill()
        l, self.buf = self.buf.split(b"\r\n", 1)
        self.commands.append(l)
        return l

    def take(self, n):
        while len(self.buf) < n:
            self.fill()
        d, self.buf = self.buf[:n], self.buf[n:]
        return d

    def say(self, s):
        self.c.sendall(s.encode() + b"\r\n")

    def talk(self):
        self.say("220 scripted.test ESMTP")
        while True:
            l = self.line()
            verb = l.split(b" ")[0].upper()
            if verb == b"EHLO":
                lines = ["scripted.test"] + self.caps
                for i, x in enumerate(lines):
                    self.say("250%s%s" % (" " if i == len(lines) - 1 else "-", x))
            elif verb == b"MAIL":
                if self.hold_mail:
                    end = time.monotonic() + 2
                    while (b"BDAT" not in self.buf and b"DATA" not in self.buf
                           and time.monotonic() < end):
                        try:
                            self.fill(max(0.05, end - time.monotonic()))
                        except socket.timeout:
                            break
                    self.pipelined = b"BDAT" in self.buf or b"DATA" in self.buf
                self.say("250 2.1.0 Ok")
            elif verb == b"RCPT":
                self.say("250 2.1.5 Ok")
            elif verb == b"DATA":
                self.say("354 go ahead")
                while b"\r\n.\r\n" not in self.buf:
                    self.fill()
                self.data, self.buf = self.buf.split(b"\r\n.\r\n", 1)
                self.data += b"\r\n"
                self.say("250 2.0.0 queued")
            elif verb == b"BDAT":
                parts = l.decode().split()
                n = int(parts[1])
                last = len(parts) > 2 and parts[2].upper() == "LAST"
                self.chunks.append((n, last, self.take(n)))
                self.say(self.bdat_reply)
            elif verb == b"RSET":
                self.say("250 2.0.0 Ok")
            elif verb == b"QUIT":
                self.say("221 2.0.0 Bye")
                return
            else:
                self.say("502 5.5.2 what?")

    def wait(self):
        self.t.join(20)

    def cmd(self, verb):
        return [l.decode("latin-1") for l in self.commands
                if l.upper().startswith(verb.encode())]


def run(args, env_extra=None, stdin=None):
    env = dict(os.environ)
    env.pop("SMTPDX_PASSWORD", None)
    env["NO_COLOR"] = "1"
    if env_extra:
        env.update(env_extra)
    return subprocess.run([SMTPDX] + args, input=stdin,
                          stdin=None if stdin is not None else subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=60, env=env)


def session(srv, extra, json_out=True, **kw):
    args = ["127.0.0.1:%d" % srv.port, "--tls", "none", "-f", "a@example.org",
            "-t", "b@example.org", "--timeout", "5",
            "--json" if json_out else "--batch"] + extra
    p = run(args, **kw)
    srv.wait()
    rep = None
    if json_out:
        try:
            rep = json.loads(p.stdout)
        except ValueError:
            rep = None
    return p, rep


def write(name, data):
    path = os.path.join(TMP, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def unstuff(text):
    return b"\r\n".join(l[1:] if l.startswith(b".") else l
                        for l in text.split(b"\r\n"))


BASIC = ["PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES"]


def t_data():
    raw = (b"From: <a@example.org>\nTo: <b@example.org>\r\nSubject: as is\n\n"
           b".leading dot\n..two dots\n.\nlone CR\rend without newline")
    path = write("whole.eml", raw)
    srv = Server(BASIC)
    p, rep = session(srv, ["--data", path])
    report(p.returncode == 0, "--data: the send succeeds", p.stderr[-300:])
    d = srv.data or b""
    report(b"\n" not in d.replace(b"\r\n", b"") and b"\r" not in d.replace(b"\r\n", b""),
           "--data: every line ends in CRLF on the wire (LF and lone CR normalised)",
           repr(d[:200]))
    report(b"\r\n..leading dot\r\n...two dots\r\n..\r\n" in d,
           "--data: lines starting with '.' are dot-stuffed", repr(d))
    want = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n") + b"\r\n"
    report(unstuff(d) == want, "--data: the message arrives as given, nothing added",
           repr(unstuff(d)[:300]))
    report(b"Date:" not in d and b"X-Mailer" not in d,
           "--data: no generated header is added")
    report(rep and rep["message"]["source"] == "data" and rep["message"]["method"] == "DATA",
           "--data: JSON message.source is data", repr(rep and rep.get("message")))


def t_body_headers():
    path = write("body.txt", b"Hello,\n.hidden line\nbye\n")
    srv = Server(BASIC)
    p, rep = session(srv, ["--body", path, "--header", "Subject: my own subject",
                           "--header", "X-Ticket: 4711", "--header", "reply-to: <c@example.org>"])
    d = srv.data or b""
    head, _, body = d.partition(b"\r\n\r\n")
    hl = head.split(b"\r\n")
    report(p.returncode == 0, "--body/--header: the send succeeds", p.stderr[-300:])
    report([l for l in hl if l.lower().startswith(b"subject:")] == [b"Subject: my own subject"],
           "--header Subject replaces the generated Subject (exactly one)", repr(hl))
    report(b"X-Ticket: 4711" in hl and b"reply-to: <c@example.org>" in hl,
           "--header lines are in the header block as given", repr(hl))
    report(any(l.startswith(b"Date: ") for l in hl) and any(l.startswith(b"Message-ID: ") for l in hl)
           and any(l.startswith(b"From: ") for l in hl) and any(l.startswith(b"To: ") for l in hl),
           "the generated Date, Message-ID, From, To stay", repr(hl))
    report(body == b"Hello,\r\n..hidden line\r\nbye\r\n",
           "--body is the body, dot-stuffed, CRLF", repr(body))
    # --body - : stdin
    srv = Server(BASIC)
    p, rep = session(srv, ["--body", "-", "--header", "From: Ops <a@example.org>"],
                     stdin=b"from stdin\n")
    d = srv.data or b""
    report(d.endswith(b"\r\n\r\nfrom stdin\r\n"), "--body - reads the body from stdin", repr(d[-80:]))
    report(d.count(b"\r\nFrom: ") + d.startswith(b"From: ") == 1 and b"From: Ops <a@example.org>" in d,
           "--header From replaces the generated From", repr(d[:300]))


def t_usage():
    body = write("b.txt", b"x\n")
    cases = [
        (["--header", "Bad Name: x"], "header name with a space"),
        (["--header", "NoColon"], "header without a colon"),
        (["--header", "X-A: one\r\nBcc: evil@example.org"], "CRLF in a header value"),
        (["--header", "X-A: one\nBcc: evil@example.org"], "LF in a header value"),
        (["--data", body, "--body", body], "--data with --body"),
        (["--data", body, "--header", "X-A: b"], "--data with --header"),
        (["--body", os.path.join(TMP, "missing")], "an unreadable --body"),
        (["--notify", "NEVER,SUCCESS"], "NEVER with others"),
        (["--notify", "SOMETIMES"], "an unknown NOTIFY word"),
        (["--notify", "SUCCESS,SUCCESS"], "a NOTIFY word twice"),
        (["--ret", "body"], "--ret neither full nor hdrs"),
        (["--envid", "abc\r\nRCPT TO:<x@evil>"], "CRLF in --envid"),
        (["--envid", "x" * 101], "--envid over 100 characters"),
        (["--envid", "caf\u00e9"], "non-ASCII --envid"),
        (["--requiretls", "--tls", "none"], "--requiretls with --tls none"),
    ]
    for extra, what in cases:
        p = run(["127.0.0.1:9", "--batch"] + extra)
        err = p.stderr.decode(errors="replace")
        report(p.returncode == 2 and err.count("\n") == 1 and err.startswith("smtpdx: "),
               "usage error, exit 2 with one line: %s" % what,
               "exit %d: %r" % (p.returncode, err))
        report(b"evil" not in p.stdout, "%s: nothing of it goes out" % what)


def t_dsn():
    srv = Server(BASIC + ["DSN"])
    p, rep = session(srv, ["--notify", "success,failure", "--ret", "hdrs",
                           "--envid", "run 42+x=y", "-t", "b+tag@example.org"])
    mail = srv.cmd("MAIL")
    rcpt = srv.cmd("RCPT")
    report(p.returncode == 0, "DSN: the send succeeds", p.stderr[-300:])
    report(mail and " RET=HDRS" in mail[0] and " ENVID=run+2042+2Bx+3Dy" in mail[0],
           "DSN: MAIL carries RET=HDRS and ENVID xtext-encoded (space, +, =)", repr(mail))
    report(len(rcpt) == 2 and all(" NOTIFY=SUCCESS,FAILURE" in r for r in rcpt)
           and rcpt[1].endswith(" ORCPT=rfc822;b+2Btag@example.org"),
           "DSN: RCPT carries NOTIFY and ORCPT=rfc822;xtext(address)", repr(rcpt))
    envid = re.search(r"ENVID=(\S*)", mail[0] if mail else "")
    report(envid and all(33 <= ord(ch) <= 126 for ch in envid.group(1)),
           "DSN: the ENVID value holds no space or control character", repr(mail))
    report(rep and rep["message"]["dsn"]["sent"] is True,
           "DSN: JSON message.dsn.sent", repr(rep and rep["message"]))

    srv = Server(BASIC)
    p, rep = session(srv, ["--notify", "never", "--envid", "abc"])
    wire = b"\n".join(srv.commands)
    report(p.returncode == 0, "no DSN offered: the mail still goes (exit 0)", p.stderr[-300:])
    report(all(w not in wire for w in (b"NOTIFY", b"ENVID", b"ORCPT", b"RET=")),
           "no DSN offered: no DSN parameter on the wire (no 555 provoked)", repr(wire))
    ids = [(d["id"], d["severity"]) for d in (rep or {}).get("diagnoses", [])]
    report(("mail.dsn_not_offered", "warning") in ids,
           "no DSN offered: the warning mail.dsn_not_offered", repr(ids))
    report(rep and rep["message"]["dsn"]["sent"] is False,
           "no DSN offered: JSON message.dsn.sent is false")


def t_bdat():
    # pipelined: MAIL, RCPT and BDAT LAST in one round trip
    srv = Server(BASIC + ["CHUNKING"], hold_mail=True)
    p, rep = session(srv, ["--bdat"])
    report(p.returncode == 0, "--bdat: the send succeeds", p.stderr[-300:])
    report(len(srv.chunks) == 1 and srv.chunks[0][1], "--bdat: one chunk, BDAT n LAST",
           repr([(n, l) for n, l, _ in srv.chunks]))
    report(srv.pipelined is True,
           "--bdat with PIPELINING: BDAT goes before MAIL's reply (one round trip fewer)")
    report(srv.data is None and b"DATA" not in b"\n".join(srv.commands),
           "--bdat: no DATA command")
    msg = srv.chunks[0][2] if srv.chunks else b""
    report(msg.endswith(b"\r\n") and b"\r\n.\r\n" in msg and b"\r\n..\r\n" not in msg,
           "BDAT: the message is not dot-stuffed", repr(msg[-200:]))
    trc = [t["text"] for t in (rep or {}).get("transcript", []) if t["dir"] == "C"]
    bd = [t for t in trc if t.startswith("BDAT ")]
    report(bd == ["BDAT %d LAST" % len(msg)] and any(t.startswith("Subject: ") for t in trc),
           "BDAT: the transcript shows the BDAT line and the message lines", repr(trc[-20:]))
    report(rep and rep["message"]["method"] == "BDAT" and rep["message"]["chunks"] == 1
           and rep["message"]["bytes"] == len(msg), "BDAT: JSON message method, chunks, bytes",
           repr(rep and rep["message"]))

    # several chunks, no PIPELINING: each waits for its 250
    big = b"".join(b"line %06d %s\n" % (i, b"." * 60) for i in range(3000))
    big += b".starts with a dot\n"
    path = write("big.txt", big)
    srv = Server(["8BITMIME", "CHUNKING"], hold_mail=True)
    p, rep = session(srv, ["--bdat", "--data", path])
    sizes = [n for n, _, _ in srv.chunks]
    lasts = [l for _, l, _ in srv.chunks]
    joined = b"".join(c for _, _, c in srv.chunks)
    want = big.replace(b"\n", b"\r\n")
    report(p.returncode == 0, "BDAT chunks: the send succeeds", p.stderr[-300:])
    report(len(sizes) >= 3 and all(0 < n <= 65536 for n in sizes)
           and lasts == [False] * (len(lasts) - 1) + [True],
           "BDAT chunks: each at most 64 KiB, only the last says LAST", repr(sizes))
    report(sum(sizes) == len(want) and joined == want,
           "BDAT chunks: they add up to the message, byte for byte (no dot-stuffing)",
           "%d vs %d" % (sum(sizes), len(want)))
    report(all(c.endswith(b"\r\n") for _, _, c in srv.chunks),
           "BDAT chunks: each ends at a line end (a readable transcript)")
    report(srv.pipelined is False, "without PIPELINING nothing is pipelined after MAIL")

    # no CHUNKING: DATA, with a note
    srv = Server(BASIC)
    p, rep = session(srv, ["--bdat"])
    report(p.returncode == 0 and srv.data is not None and not srv.chunks,
           "--bdat without CHUNKING: falls back to DATA", p.stderr[-300:])
    notes = [t["text"] for t in (rep or {}).get("transcript", []) if t["dir"] == "I"]
    report(any("CHUNKING" in n and "DATA" in n for n in notes),
           "--bdat without CHUNKING: the transcript says so", repr(notes))

    # the reply queue knows BDAT: a 354 to BDAT is out of step
    srv = Server(BASIC + ["CHUNKING"], bdat_reply="354 go ahead")
    p, rep = session(srv, ["--bdat"])
    ids = [d["id"] for d in (rep or {}).get("diagnoses", [])]
    report(p.returncode == 1 and ids[:1] == ["proto.sync_error"],
           "BDAT answered by 354: proto.sync_error (250 or an error only)", repr(ids))


def t_requiretls():
    # a (broken) plaintext server that lists REQUIRETLS: never sent in
    # the clear; --tls none with --requiretls is refused before connecting
    srv = Server(BASIC + ["REQUIRETLS"])
    p = run(["127.0.0.1:%d" % srv.port, "--tls", "none", "--requiretls", "--batch"])
    time.sleep(0)
    report(p.returncode == 2 and not srv.connected,
           "--requiretls --tls none: usage error, no connection", p.stderr)
    srv.ls.close()
    # over TLS (the lab): sent when offered ...
    p = run(["--lab", "ok", "--requiretls", "--json"])
    rep = json.loads(p.stdout)
    mail = [t for t in rep["transcript"] if t["dir"] == "C" and t["text"].startswith("MAIL ")]
    report(p.returncode == 0 and mail and mail[0]["text"].endswith(" REQUIRETLS")
           and mail[0]["tls"], "--requiretls: MAIL ... REQUIRETLS, inside TLS", repr(mail))
    report(all("REQUIRETLS" not in t["text"] for t in rep["transcript"]
               if t["dir"] == "C" and not t["tls"]),
           "--requiretls: never in a plaintext line")
    # ... and when not offered: an error, no mail
    p = run(["--lab", "mail.requiretls_not_offered", "--json"])
    rep = json.loads(p.stdout)
    sent = [t["text"] for t in rep["transcript"] if t["dir"] == "C"]
    report(p.returncode == 1 and rep["diagnoses"][0]["id"] == "mail.requiretls_not_offered",
           "REQUIRETLS not offered: mail.requiretls_not_offered", repr(rep["diagnoses"][:1]))
    report(not any(t.startswith(("MAIL", "RCPT", "DATA", "BDAT")) for t in sent),
           "REQUIRETLS not offered: no MAIL, no mail sent", repr(sent))


def t_smtputf8():
    # RFC 6531 / IDNA2008: an ASCII local part at a U-label domain goes as
    # A-labels, with no SMTPUTF8 and no byte above 0x7f anywhere ...
    srv = Server(BASIC + ["SMTPUTF8"])
    p, rep = session(srv, ["-t", "user@bücher.test", "-t", "ok@example.org"])
    sent = [l.decode("utf-8", "replace") for l in srv.commands]
    report(p.returncode == 0 and "RCPT TO:<user@xn--bcher-kva.test>" in sent
           and "RCPT TO:<ok@example.org>" in sent,
           "U-label domain: RCPT TO names the A-labels", repr(sent))
    report(all(not l.startswith("MAIL") or "SMTPUTF8" not in l for l in sent)
           and all(b < 0x80 for b in srv.raw),
           "U-label domain, ASCII local part: no SMTPUTF8, not one non-ASCII byte sent",
           repr(sent[:4]))
    report(b"To: <b@example.org>, <user@xn--bcher-kva.test>, <ok@example.org>\r\n"
           in (srv.data or b""),
           "U-label domain: the To: header holds the A-labels (RFC 6532: no raw UTF-8)",
           repr((srv.data or b"")[:300]))
    report(rep and rep["message"]["smtputf8"] is False and
           {"role": "to", "given": "user@bücher.test", "sent": "user@xn--bcher-kva.test"}
           in rep["message"]["addresses"],
           "U-label domain: JSON message.addresses: given and as sent",
           repr(rep and rep["message"]))
    p, _ = session(Server(BASIC), ["-t", "user@bücher.test"], json_out=False)
    out = p.stdout.decode("utf-8", "replace")
    report("user@bücher.test goes as <user@xn--bcher-kva.test>" in out,
           "U-label domain: --batch shows the U-labels beside the A-labels", out[-600:])

    # ... a non-ASCII local part needs SMTPUTF8: offered, it goes as given
    srv = Server(BASIC + ["SMTPUTF8"])
    p, rep = session(srv, ["-f", "zoë@bücher.test", "-t", "jösé@bücher.test"])
    sent = [l.decode("utf-8", "replace") for l in srv.commands]
    mail = [l for l in sent if l.startswith("MAIL")]
    report(p.returncode == 0 and mail and mail[0].startswith("MAIL FROM:<zoë@bücher.test>")
           and mail[0].endswith(" SMTPUTF8") and "RCPT TO:<jösé@bücher.test>" in sent,
           "UTF-8 local part: MAIL FROM:<zoë@...> SMTPUTF8, RCPT TO:<jösé@...>", repr(sent))
    d = srv.data or b""
    report("From: <zoë@bücher.test>\r\n".encode() in d and
           "To: <b@example.org>, <jösé@bücher.test>\r\n".encode() in d,
           "UTF-8 local part: From:/To: hold raw UTF-8 (RFC 6532, with SMTPUTF8)", repr(d[:300]))
    report(rep and rep["message"]["smtputf8"] is True and
           [t["text"] for t in rep["transcript"] if t["text"].startswith("RCPT")]
           == ["RCPT TO:<b@example.org>", "RCPT TO:<jösé@bücher.test>"],
           "UTF-8 local part: JSON smtputf8 true, the transcript shows RCPT as sent",
           repr(rep and rep["message"]))

    # ... and with DSN, ORCPT names it as RFC 6533 says: utf-8 type,
    # utf-8-addr-unitext (SMTPUTF8 is in use); the ASCII one stays rfc822
    srv = Server(BASIC + ["SMTPUTF8", "DSN"])
    p, rep = session(srv, ["-t", "jösé+x@bücher.test", "--notify", "failure"])
    rcpt = [l.decode("utf-8", "replace") for l in srv.commands if l.startswith(b"RCPT")]
    report(p.returncode == 0 and len(rcpt) == 2 and
           rcpt[0].endswith(" ORCPT=rfc822;b@example.org") and
           rcpt[1] == "RCPT TO:<jösé+x@bücher.test> NOTIFY=FAILURE "
           "ORCPT=utf-8;jösé\\x{2B}x@bücher.test",
           "UTF-8 recipient with DSN: ORCPT=utf-8;unitext (RFC 6533), '+' as \\x{2B}",
           repr(rcpt))
    report(all(b" " not in v for l in srv.commands if l.startswith(b"RCPT")
               for v in re.findall(rb"ORCPT=(\S*)", l)),
           "UTF-8 recipient with DSN: no space inside ORCPT", repr(rcpt))

    # --helo in U-labels: EHLO carries the A-labels (RFC 5321 §4.1.1.1;
    # EHLO comes before any SMTPUTF8), on the wire and in the lab, which
    # refuses an 8-bit EHLO name
    srv = Server(BASIC + ["SMTPUTF8"])
    p, rep = session(srv, ["--helo", "bücher.test"])
    ehlo = [l for l in srv.commands if l.upper().startswith((b"EHLO", b"HELO"))]
    report(p.returncode == 0 and ehlo == [b"EHLO xn--bcher-kva.test"],
           "--helo bücher.test: EHLO xn--bcher-kva.test on the wire", repr(ehlo))
    p = run(["--lab", "ok", "--helo", "bücher.test", "--json"])
    rep = json.loads(p.stdout or "{}")
    ehlo = [t["text"] for t in rep.get("transcript", []) if t["dir"] == "C"
            and t["text"].startswith("EHLO")]
    report(p.returncode == 0 and len(ehlo) == 2 and
           set(ehlo) == {"EHLO xn--bcher-kva.test"},
           "--lab ok --helo bücher.test: the lab takes EHLO in A-labels "
           "(both, around STARTTLS), the session passes", repr((p.returncode, ehlo)))
    p = run(["--lab", "ok", "--helo", "☃.net", "--batch"])
    err = p.stderr.decode("utf-8", "replace")
    report(p.returncode == 2 and err.count("\n") == 1 and "--helo" in err
           and "IDNA2008" in err and not p.stdout,
           "--helo ☃.net (not IDNA2008): one line naming --helo, exit 2", repr(err))

    # UTF-8 in a --header line wants SMTPUTF8 too (RFC 6532), when offered
    srv = Server(BASIC + ["SMTPUTF8"])
    p, rep = session(srv, ["--header", "Subject: Grüße"])
    mail = [l.decode("utf-8", "replace") for l in srv.commands if l.startswith(b"MAIL")]
    report(p.returncode == 0 and mail and mail[0].endswith(" SMTPUTF8")
           and "Subject: Grüße\r\n".encode() in (srv.data or b""),
           "a UTF-8 --header: MAIL FROM carries SMTPUTF8", repr(mail))

    # ... not offered: no MAIL at all, and the diagnosis says why
    srv = Server(BASIC)
    p, rep = session(srv, ["-t", "jösé@bücher.test"])
    sent = [l.decode("utf-8", "replace") for l in srv.commands]
    report(p.returncode == 1 and rep and rep["diagnoses"][0]["id"] == "mail.smtputf8_not_offered"
           and "jösé@bücher.test" in rep["diagnoses"][0]["evidence"],
           "no SMTPUTF8 offered: mail.smtputf8_not_offered, naming the address",
           repr(rep and rep["diagnoses"][:1]))
    report(not any(l.startswith(("MAIL", "RCPT", "DATA")) for l in sent),
           "no SMTPUTF8 offered: no MAIL, nothing malformed sent", repr(sent))

    # the lab checks it too: no SMTPUTF8 there, the same diagnosis
    p = run(["--lab", "mail.smtputf8_not_offered", "--json"])
    rep = json.loads(p.stdout)
    report(p.returncode == 1 and rep["diagnoses"][0]["id"] == "mail.smtputf8_not_offered",
           "lab without SMTPUTF8: mail.smtputf8_not_offered", repr(rep["diagnoses"][:1]))
    p = run(["--lab", "ok-smtputf8", "--json"])
    rep = json.loads(p.stdout)
    mail = [t["text"] for t in rep["transcript"] if t["dir"] == "C" and t["text"].startswith("MAIL")]
    report(p.returncode == 0 and mail and mail[0].endswith(" SMTPUTF8"),
           "lab ok-smtputf8: the lab takes jösé@bücher.lab with SMTPUTF8", repr(mail))

    # not IDNA2008: one line, exit 2, nothing connects
    for args, what in ((["-t", "a@☃.net"], "a disallowed character"),
                       (["-f", "a@xn--zz.test"], "invalid punycode"),
                       (["-t", "a@ab--cd.bücher.test"], "hyphens in places 3 and 4")):
        srv = Server(BASIC)
        p = run(["127.0.0.1:%d" % srv.port, "--tls", "none", "--batch"] + args)
        err = p.stderr.decode("utf-8", "replace")
        report(p.returncode == 2 and not srv.connected and err.count("\n") == 1
               and "IDNA2008" in err,
               "%s: not IDNA2008 (%s): one-line usage error, exit 2" % (args[1], what), err)
        srv.ls.close()
    p = run(["☃.example:25", "--batch"])
    err = p.stderr.decode("utf-8", "replace")
    report(p.returncode == 2 and "IDNA2008" in err and err.count("\n") == 1,
           "host ☃.example: one-line usage error, exit 2", err)

    # a U-label host is looked up as A-labels: a proxy that resolves
    # names (HTTP CONNECT) sees which name smtpdx asks for
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    ls.settimeout(20)
    got = []

    def proxy():
        try:
            c, _ = ls.accept()
            c.settimeout(10)
            buf = b""
            while b"\r\n\r\n" not in buf:
                d = c.recv(4096)
                if not d:
                    break
                buf += d
            got.append(buf.split(b"\r\n")[0])
            c.sendall(b"HTTP/1.1 502 Bad Gateway\r\n\r\n")
            c.close()
        except OSError:
            pass
    t = threading.Thread(target=proxy, daemon=True)
    t.start()
    p = run(["bücher.test:2525", "--tls", "none", "--proxy",
             "http://127.0.0.1:%d" % ls.getsockname()[1], "--batch", "--timeout", "5"])
    t.join(20)
    ls.close()
    report(got == [b"CONNECT xn--bcher-kva.test:2525 HTTP/1.1"],
           "host bücher.test: asked for as xn--bcher-kva.test (A-labels)", repr(got))


def t_secret():
    path = write("leak.txt", b"my password is Sw0rdfish-77 ok\n")
    srv = Server(BASIC)
    p = run(["127.0.0.1:%d" % srv.port, "--tls", "none", "--allow-plaintext-auth",
             "-u", "a", "--body", path, "--batch"],
            env_extra={"SMTPDX_PASSWORD": "Sw0rdfish-77"})
    report(p.returncode == 2 and not srv.connected and b"Sw0rdfish" not in p.stdout + p.stderr,
           "a --body holding the password: refused, nothing sent, not shown",
           "exit %d %r" % (p.returncode, p.stderr))
    srv.ls.close()
    p = run(["127.0.0.1:9", "--tls", "none", "--header", "X-Key: Sw0rdfish-77", "--batch",
             "-u", "a", "--allow-plaintext-auth"], env_extra={"SMTPDX_PASSWORD": "Sw0rdfish-77"})
    report(p.returncode == 2 and b"Sw0rdfish" not in p.stdout + p.stderr,
           "a --header holding the password: refused, not shown", repr(p.stderr))


def main():
    for t in (t_data, t_body_headers, t_usage, t_dsn, t_bdat, t_requiretls, t_smtputf8, t_secret):
        try:
            t()
        except Exception as e:
            report(False, "%s ran to its end" % t.__name__, repr(e))
    return tap.summary()


if __name__ == "__main__":
    sys.exit(main())

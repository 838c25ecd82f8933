#!/usr/bin/env python3
"""Replay server: SMTP server behaviours seen in other projects' test
suites (curl's tests/data/test9*, CPython's test_smtplib, Haraka), served
on loopback, each checked from both sides: the diagnosis smtpdx gives, and
the bytes that arrived at the server.

Issue 9 §1 and §4: every reply belongs to the command it answers; the
wrong TLS mode is found in seconds.  Prints TAP and "N passed, M failed"."""

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

EHLO_OK = b"250-replay.test\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n"


class Replay:
    """One listener; each connection runs the SMTP dialogue with the
    overrides in `beh`; what each connection sent is kept in `seen`."""

    def __init__(self, **beh):
        self.beh = beh
        self.seen = []          # per connection: a dict of observations
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.stop = False
        threading.Thread(target=self.serve, daemon=True).start()

    def close(self):
        self.stop = True
        self.sock.close()

    def serve(self):
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            obs = {"raw": b"", "commands": [], "data": [], "quit_pipelined": False}
            self.seen.append(obs)
            threading.Thread(target=self.conn, args=(c, obs), daemon=True).start()

    def conn(self, c, obs):
        b = self.beh
        c.settimeout(20)
        try:
            if b.get("greeting_delay"):
                time.sleep(b["greeting_delay"])
            c.sendall(b.get("greeting", b"220 replay.test ESMTP\r\n"))
            buf = b""
            in_data = False
            body = b""
            while True:
                d = c.recv(65536)
                if not d:
                    return
                obs["raw"] += d
                buf += d
                while True:
                    if in_data:
                        end = buf.find(b"\r\n.\r\n")
                        if end < 0 and buf.startswith(b".\r\n"):
                            end, skip = 0, 3        # an empty message
                        elif end >= 0:
                            skip = 5
                        else:
                            break
                        body = buf[:end] if end else b""
                        obs["data"].append(body)
                        buf = buf[end + skip:]
                        in_data = False
                        # Haraka: a command already here after the dot was
                        # pipelined after end of DATA
                        if buf.upper().startswith(b"QUIT"):
                            obs["quit_pipelined"] = True
                        c.sendall(b.get("dot", b"250 2.0.0 Ok: queued as R1\r\n"))
                        continue
                    if b"\r\n" not in buf:
                        break
                    line, buf = buf.split(b"\r\n", 1)
                    verb = line.split(b" ")[0].upper()
                    obs["commands"].append(line)
                    if verb in (b"EHLO", b"HELO"):
                        c.sendall(b.get("ehlo", EHLO_OK))
                        if b.get("ehlo_late"):     # a second write, later
                            time.sleep(0.3)
                            c.sendall(b["ehlo_late"])
                    elif verb == b"MAIL":
                        c.sendall(b.get("mail", b"250 2.1.0 Ok\r\n"))
                    elif verb == b"RCPT":
                        c.sendall(b.get("rcpt", b"250 2.1.5 Ok\r\n"))
                    elif verb == b"DATA":
                        r = b.get("data", b"354 End data with <CR><LF>.<CR><LF>\r\n")
                        c.sendall(r)
                        in_data = r.startswith(b"354")
                    elif verb == b"QUIT":
                        if obs["quit_pipelined"] and b.get("haraka"):
                            c.sendall(b"503 5.5.0 Command pipelined after end of DATA\r\n")
                            continue
                        c.sendall(b.get("quit", b"221 2.0.0 Bye\r\n"))
                        if b.get("quit", b"221").startswith(b"221"):
                            return
                    elif verb == b"RSET":
                        c.sendall(b"250 2.0.0 Ok\r\n")
                    else:
                        c.sendall(b"502 5.5.2 Error: command not recognized\r\n")
        except OSError:
            return
        finally:
            c.close()


def run(port, *extra, timeout=60):
    args = [SMTPDX, "--json", "127.0.0.1", "-p", str(port), "--tls", "none",
            "-f", "alice@replay.test", "-t", "bob@replay.test",
            "--helo", "client.test"] + list(extra)
    t0 = time.monotonic()
    p = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    secs = time.monotonic() - t0
    try:
        rep = json.loads(p.stdout.decode())
    except ValueError:
        rep = {"diagnoses": [], "steps": [], "transcript": [], "result": "?"}
    return rep, secs, p


def errors(rep):
    return [d for d in rep.get("diagnoses", []) if d["severity"] == "error"]


def first_error(rep):
    e = errors(rep)
    return e[0] if e else {"id": None, "step": None, "evidence": ""}


def step_status(rep, name):
    for s in rep.get("steps", []):
        if s["name"] == name:
            return s["status"]
    return None


def sync_case(name, beh, step, evidence_has):
    srv = Replay(**beh)
    rep, secs, p = run(srv.port)
    srv.close()
    d = first_error(rep)
    why = "diagnoses %r; transcript tail %r" % (
        [(x["id"], x["step"], x["evidence"]) for x in rep.get("diagnoses", [])],
        [t["text"] for t in rep.get("transcript", [])][-6:])
    report(d["id"] == "proto.sync_error", "%s: proto.sync_error, not a shifted reply "
           "taken as an answer" % name, why)
    report(d["step"] == step, "%s: at the step of the command (%s)" % (name, step), why)
    report(evidence_has in d.get("evidence", ""),
           "%s: the evidence quotes the line (%r)" % (name, evidence_has), why)
    report(p.returncode == 1, "%s: exit status 1" % name, "got %d" % p.returncode)
    return rep, srv


def main():
    # curl's test pattern: an extra 250 in the same write as the greeting
    sync_case("greeting + extra 250 in one write",
              {"greeting": b"220 replay.test ESMTP\r\n250 2.1.5 extra line\r\n"},
              "greeting", "250 2.1.5 extra line")

    # an EHLO reply that ends twice (250 then more 250- lines)
    rep, _ = sync_case("EHLO mixing 250- and 250 lines",
                       {"ehlo": b"250-replay.test\r\n250 PIPELINING\r\n"
                                b"250-SIZE 1000\r\n250 8BITMIME\r\n"},
                       "ehlo", "250-SIZE 1000")
    report(step_status(rep, "quit") != "ok",
           "EHLO mixing: the extra lines are not taken as QUIT's answer",
           repr(rep.get("steps")))

    # the same, the extra lines in a later write: they are taken for MAIL's
    # answer (250 fits MAIL), but the shift shows at DATA, which gets
    # RCPT's 250; nothing is sent as a message
    rep, srv = sync_case("EHLO's extra lines in a later write",
                         {"ehlo": b"250-replay.test\r\n250 PIPELINING\r\n",
                          "ehlo_late": b"250-SIZE 1000\r\n250 8BITMIME\r\n"},
                         "data", "250 2.1.5 Ok")
    sent = srv.seen[0]["raw"] if srv.seen else b""
    report(b"Subject:" not in sent and rep.get("result") == "fail",
           "EHLO's extra lines later: no message sent on a shifted 250", repr(sent[-200:]))

    # DATA answered with 250: never the start of a message
    rep, srv = sync_case("DATA answered 250", {"data": b"250 2.0.0 Ok\r\n"},
                         "data", "250 2.0.0 Ok")
    sent = srv.seen[0]["raw"] if srv.seen else b""
    report(b"Subject:" not in sent, "DATA answered 250: no message text sent as commands",
           repr(sent[-300:]))

    # RFC 5321 §3.8: a 421 may come at any moment; it is not out of step
    srv = Replay(ehlo=EHLO_OK + b"421 4.3.2 Service shutting down\r\n")
    rep, secs, p = run(srv.port)
    srv.close()
    d = first_error(rep)
    report(d["id"] not in (None, "proto.sync_error") and "421" in d.get("evidence", ""),
           "an unsolicited 421 is the server closing, not a sync error (%s)" % d["id"],
           repr([(x["id"], x["evidence"]) for x in rep.get("diagnoses", [])]))

    # QUIT answered with something other than 221
    sync_case("QUIT answered 250", {"quit": b"250 2.0.0 Ok\r\n"}, "quit", "250 2.0.0 Ok")
    sync_case("QUIT answered 503", {"quit": b"503 5.5.1 Error: bad sequence\r\n"},
              "quit", "503 5.5.1")

    # 354 after every RCPT failed (RFC 2920 §3.1): a lone "." and QUIT as
    # a command, never QUIT inside the message
    srv = Replay(rcpt=b"550 5.1.1 <bob@replay.test>: Recipient address rejected: "
                      b"User unknown\r\n")
    rep, secs, p = run(srv.port)
    srv.close()
    o = srv.seen[0] if srv.seen else {"data": [], "commands": [], "raw": b""}
    d = first_error(rep)
    report(d["id"] == "rcpt.unknown_user" and d["step"] == "rcpt",
           "354 after all RCPTs failed: diagnosed at RCPT (%s)" % d["id"],
           repr([(x["id"], x["step"]) for x in rep.get("diagnoses", [])]))
    report(o["data"] == [b""], "354 after all RCPTs failed: a lone \".\" ended an "
           "empty message", "messages the server got: %r; raw %r" % (o["data"], o["raw"][-200:]))
    report(not any(b"QUIT" in m for m in o["data"]),
           "354 after all RCPTs failed: no QUIT inside the message", repr(o["data"]))
    report(o["commands"][-1:] == [b"QUIT"],
           "354 after all RCPTs failed: QUIT sent as a command after the dot's reply",
           repr(o["commands"]))

    # Haraka: a QUIT pipelined right after the final dot gets a 503
    srv = Replay(haraka=True)
    rep, secs, p = run(srv.port)
    srv.close()
    o = srv.seen[0] if srv.seen else {"quit_pipelined": True, "commands": []}
    report(not o["quit_pipelined"], "Haraka: QUIT is not pipelined after the final dot",
           repr(o["raw"][-120:] if "raw" in o else o))
    report(rep.get("result") == "ok" and step_status(rep, "quit") == "ok",
           "Haraka: the session ends cleanly (221 to QUIT)",
           repr([(x["id"], x["evidence"]) for x in rep.get("diagnoses", [])]))

    # the transcript's structure on a pipelined session
    srv = Replay()
    rep, secs, p = run(srv.port)
    srv.close()
    tr = rep.get("transcript", [])
    o = srv.seen[0] if srv.seen else {"raw": b""}
    report(rep.get("result") == "ok", "pipelined session: ok", repr(rep.get("diagnoses")))
    raw = o["raw"]
    report(b"MAIL FROM" in raw and raw.find(b"DATA") > 0 and
           raw.find(b"RCPT") < raw.find(b"DATA"),
           "pipelined session: MAIL, RCPT, DATA went out", repr(raw[:200]))

    def srv_line(prefix):
        return next((t for t in tr if t["dir"] == "S" and t["text"].startswith(prefix)), {})
    mail = srv_line("250 2.1.0")
    rcpt = srv_line("250 2.1.5")
    data = srv_line("354")
    dot = srv_line("250 2.0.0 Ok: queued")
    quit_ = srv_line("221")
    for what, line, verb, code, enh in (("MAIL's 250", mail, "MAIL", 250, "2.1.0"),
                                        ("RCPT's 250", rcpt, "RCPT", 250, "2.1.5"),
                                        ("DATA's 354", data, "DATA", 354, None),
                                        ("the dot's 250", dot, ".", 250, "2.0.0"),
                                        ("QUIT's 221", quit_, "QUIT", 221, "2.0.0")):
        idx = line.get("answers_index")
        cmd = tr[idx] if isinstance(idx, int) and 0 <= idx < len(tr) else {}
        ok = (line.get("answers") == verb and line.get("code") == code and
              line.get("enhanced") == enh and cmd.get("dir") == "C" and
              cmd.get("verb") == verb)
        report(ok, "transcript: %s answers %s (code %d, enhanced %s, index of the "
               "command line)" % (what, verb, code, enh), "%r -> %r" % (line, cmd))
    caps = [t.get("capability") for t in tr if t["dir"] == "S" and t.get("answers") == "EHLO"]
    report(caps == [None, "PIPELINING", "ENHANCEDSTATUSCODES", "8BITMIME"],
           "transcript: EHLO lines carry the capability they advertise", repr(caps))
    g = srv_line("220")
    report(g.get("answers") == "greeting" and "answers_index" not in g and g.get("code") == 220,
           "transcript: the greeting answers no command", repr(g))
    # QUIT goes after the dot's reply, not with it
    t_dot = next((i for i, t in enumerate(tr) if t["dir"] == "C" and t.get("verb") == "."), -1)
    t_quit = next((i for i, t in enumerate(tr) if t["dir"] == "C" and t.get("verb") == "QUIT"), -1)
    t_dotr = tr.index(dot) if dot in tr else -1
    report(0 <= t_dot < t_dotr < t_quit, "transcript: QUIT is sent after the dot's reply",
           "dot %d, its reply %d, QUIT %d" % (t_dot, t_dotr, t_quit))

    implicit_tls()
    slow_greeting()
    return tap.summary()


def implicit_tls():
    """--tls starttls on an implicit-TLS port, default --timeout (15 s):
    tls.expected_implicit within 3 s."""
    tmp = tempfile.mkdtemp(prefix="smtpdx-replay.")
    ca = os.path.join(tmp, "ca.pem")
    lab = subprocess.Popen([SMTPDX, "--lab", "ok-implicit", "--lab-server", ca],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        port = int(lab.stdout.readline().split()[0])
        for tls in ("starttls", "none"):
            rep, secs, p = run(port, "--tls", tls, "--cafile", ca)
            ids = [d["id"] for d in errors(rep)]
            report(ids[:1] == ["tls.expected_implicit"],
                   "implicit-TLS port, --tls %s: tls.expected_implicit" % tls, repr(ids))
            # the session's own clock (the JSON's last time), so a loaded
            # machine's process start-up does not count; wall time too,
            # with room
            tr = rep.get("transcript") or [{"t": 99}]
            report(tr[-1]["t"] < 3.0, "implicit-TLS port, --tls %s, default timeout: "
                   "diagnosed in %.2f s (< 3 s)" % (tls, tr[-1]["t"]))
            report(secs < 6.0, "implicit-TLS port, --tls %s: smtpdx done in %.2f s "
                   "wall time (< 6 s)" % (tls, secs))
    finally:
        lab.kill()
        lab.wait()


def slow_greeting():
    """A plaintext server whose greeting takes 2.5 s: the greeting wins
    over the implicit-TLS probe started beside it."""
    srv = Replay(greeting_delay=2.5)
    rep, secs, p = run(srv.port)
    srv.close()
    report(rep.get("result") == "ok" and not errors(rep),
           "slow greeting (2.5 s): the session succeeds (%.2f s)" % secs,
           repr([(d["id"], d["evidence"]) for d in rep.get("diagnoses", [])]))
    report(step_status(rep, "greeting") == "ok", "slow greeting: the greeting step is ok")


if __name__ == "__main__":
    sys.exit(main())

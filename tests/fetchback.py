#!/usr/bin/env python3
"""--fetch-back against IMAP servers of our own (issue 13), in the style of
tests/hostile.py: a tiny SMTP server takes the test message (and notes its
X-Smtpdx-Token), then an IMAP server over TLS (a throwaway CA made with
certtool) plays one part per case:

  ok         finds the token (only one the SMTP server saw) and hands
             back a header with a Received chain, Authentication-Results
             that fail SPF and DMARC, spam headers and terminal escapes
  notfound   SEARCH never finds it: fetchback.not_found within --timeout
  badpass    refuses the login: fetchback.login_failed, and the password
             (plain or base64) nowhere in the output
  flood      untagged lines without end after the login
  literal    a FETCH literal of 2 GB announced
  silent     never answers the login (no tagged reply)
  longline   a line without end
  trickle    the greeting one byte at a time
  plus       a continuation request nobody asked for

Each must end within its timeout plus slack, with bounded memory, no raw
control byte in --batch or --json output, and the right diagnosis.
Prints TAP and a final "N passed, M failed"."""

import base64
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import tap
from tap import report

SMTPDX = os.environ.get("SMTPDX", "./smtpdx")
SLACK = float(os.environ.get("HOSTILE_SLACK", 6))
MAX_KIB = int(os.environ.get("HOSTILE_MAX_KIB", 32 * 1024))
USER = "bob@example.test"
PASSWORD = "imap-Secret-31"
TIMEOUT = 3

tmp = tempfile.mkdtemp(prefix="smtpdx-fb.")
seen = set()    # the tokens the SMTP server took (runs go in parallel)


def certs():
    ca_t = os.path.join(tmp, "ca.tmpl")
    srv_t = os.path.join(tmp, "srv.tmpl")
    with open(ca_t, "w") as f:
        f.write('cn = "fetchback test CA"\nca\ncert_signing_key\nexpiration_days = 30\n')
    with open(srv_t, "w") as f:
        f.write('cn = "imap.example.test"\ndns_name = "imap.example.test"\n'
                'ip_address = "127.0.0.1"\ntls_www_server\nsigning_key\n'
                'encryption_key\nexpiration_days = 30\n')
    run = lambda *a: subprocess.run(a, check=True, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
    p = lambda n: os.path.join(tmp, n)
    run("certtool", "--generate-privkey", "--key-type=ecdsa", "--outfile", p("ca.key"))
    run("certtool", "--generate-self-signed", "--load-privkey", p("ca.key"),
        "--template", ca_t, "--outfile", p("ca.pem"))
    run("certtool", "--generate-privkey", "--key-type=ecdsa", "--outfile", p("srv.key"))
    run("certtool", "--generate-certificate", "--load-privkey", p("srv.key"),
        "--load-ca-certificate", p("ca.pem"), "--load-ca-privkey", p("ca.key"),
        "--template", srv_t, "--outfile", p("srv.pem"))
    return p("ca.pem"), p("srv.pem"), p("srv.key")


def listen():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    return s


# ---- SMTP: takes anything, remembers the token -------------------------

def smtp_conn(c):
    f = c.makefile("rb")
    c.sendall(b"220 smtp.example.test ESMTP\r\n")
    try:
        for line in f:
            cmd = line.strip().upper()
            if cmd.startswith(b"EHLO") or cmd.startswith(b"HELO"):
                c.sendall(b"250-smtp.example.test\r\n250 8BITMIME\r\n")
            elif cmd == b"DATA":
                c.sendall(b"354 go on\r\n")
                for l2 in f:
                    if l2 in (b".\r\n", b".\n"):
                        break
                    m = re.match(rb"X-Smtpdx-Token: (\S+)", l2)
                    if m:
                        seen.add(m.group(1).decode())
                c.sendall(b"250 2.0.0 queued as 4ABC\r\n")
            elif cmd == b"QUIT":
                c.sendall(b"221 bye\r\n")
                break
            else:
                c.sendall(b"250 ok\r\n")
    except OSError:
        pass
    c.close()


def serve(sock, handler):
    def loop():
        while True:
            try:
                c, _ = sock.accept()
            except OSError:
                return
            threading.Thread(target=handler, args=(c,), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()


# ---- IMAP: one part per case ----------------------------------------------

HEADER = (
    "Return-Path: <alice@example.test>\r\n"
    "Received: from mx.example.test (mx.example.test [192.0.2.7])\r\n"
    "\tby imap.example.test (Postfix) with ESMTPS id 111AAA\r\n"
    "\tfor <bob@example.test>; Wed, 2 Dec 2026 04:00:09 +0000 (UTC)\r\n"
    "Authentication-Results: imap.example.test;\r\n"
    "\tspf=fail (sender IP is 192.0.2.7) smtp.mailfrom=alice@example.test;\r\n"
    "\tdkim=pass header.d=example.test header.s=sel;\r\n"
    "\tdmarc=fail (p=reject dis=none) header.from=example.test\r\n"
    "X-Spam-Flag: YES\r\n"
    "X-Spam-Status: Yes, score=7.1 required=5.0 tests=SPF_FAIL \x1b]0;pwned\x07\r\n"
    "Received: from client.example.test (client.example.test [198.51.100.3])\r\n"
    "\tby mx.example.test (Postfix) with ESMTPSA id 222BBB;\r\n"
    "\tWed, 2 Dec 2026 04:00:02 +0000 (UTC)\r\n"
    "Date: Wed, 2 Dec 2026 04:00:00 +0000\r\n"
    "Subject: smtpdx test message\r\n"
    "\r\n").encode()


def imap_conn(raw, part, ctx):
    try:
        c = ctx.wrap_socket(raw, server_side=True)
    except (OSError, ssl.SSLError):
        raw.close()
        return
    try:
        if part == "trickle":
            for ch in b"* OK hello, slowly" * 100:
                c.sendall(bytes([ch]))
                time.sleep(0.5)
            return
        if part == "longline":
            c.sendall(b"* OK ")
            chunk = b"A" * 65536
            end = time.monotonic() + 60
            while time.monotonic() < end:
                c.sendall(chunk)
            return
        c.sendall(b"* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] ready\r\n")
        f = c.makefile("rb")
        for line in f:
            parts = line.strip().split(b" ", 2)
            if len(parts) < 2:
                continue
            tag, cmd = parts[0], parts[1].upper()
            arg = parts[2] if len(parts) > 2 else b""
            if cmd == b"CAPABILITY" and part == "echo":
                c.sendall(b"* CAPABILITY IMAP4rev1\r\n" + tag + b" OK done\r\n")
            elif cmd == b"CAPABILITY":
                c.sendall(b"* CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN\r\n" + tag +
                          b" OK done\r\n")
            elif part in ("echo", "echo64") and cmd in (b"LOGIN", b"AUTHENTICATE"):
                # a server that quotes the command back, secret and all
                c.sendall(b"* BAD you said: " + line.strip() + b"\r\n" + tag +
                          b" NO [AUTHENTICATIONFAILED] rejected: " + line.strip() +
                          b"\r\n")
            elif cmd == b"AUTHENTICATE":
                if part == "silent":
                    time.sleep(60)
                    return
                want = base64.b64encode(("\0%s\0%s" % (USER, PASSWORD)).encode())
                ok = arg.split(b" ")[-1] == want and part != "badpass"
                c.sendall(tag + (b" OK Logged in\r\n" if ok else
                                 b" NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"))
            elif cmd == b"EXAMINE":
                if part == "flood":
                    end = time.monotonic() + 60
                    while time.monotonic() < end:
                        c.sendall(b"* OK [ALERT] flood\r\n" * 1000)
                    return
                if part == "plus":
                    c.sendall(b"+ go ahead\r\n")
                    continue
                c.sendall(b"* 1 EXISTS\r\n" + tag + b" OK [READ-ONLY] done\r\n")
            elif cmd == b"UID" and arg.upper().startswith(b"SEARCH"):
                tok = re.search(rb'"([^"]*)"', arg)
                hit = (part != "notfound" and tok and
                       tok.group(1).decode() in seen)
                c.sendall((b"* SEARCH 7\r\n" if hit else b"* SEARCH\r\n") + tag +
                          b" OK done\r\n")
            elif cmd == b"UID" and arg.upper().startswith(b"FETCH"):
                if part == "literal":
                    c.sendall(b"* 1 FETCH (UID 7 BODY[HEADER] {2000000000}\r\n")
                    c.sendall(b"x" * 4096)
                    time.sleep(30)
                    return
                c.sendall(b"* 1 FETCH (UID 7 BODY[HEADER] {%d}\r\n" % len(HEADER) +
                          HEADER + b")\r\n" + tag + b" OK done\r\n")
            elif cmd == b"LOGOUT":
                c.sendall(b"* BYE bye\r\n" + tag + b" OK done\r\n")
                return
            else:
                c.sendall(tag + b" OK done\r\n")
    except (OSError, ssl.SSLError):
        pass
    finally:
        try:
            c.close()
        except OSError:
            pass


def run(smtp_port, imap_port, ca, *extra, json_out=False):
    fd, tfile = tempfile.mkstemp(prefix="smtpdx-time.")
    os.close(fd)
    args = [SMTPDX, "127.0.0.1:%d" % smtp_port, "--tls", "none", "-f",
            "alice@example.test", "-t", USER, "--timeout", str(TIMEOUT),
            "--cafile", ca, "--fetch-back",
            "imaps://%s@127.0.0.1:%d" % (USER.replace("@", "%40"), imap_port)]
    args += list(extra) + ["--json" if json_out else "--batch"]
    env = dict(os.environ)
    env.pop("SMTPDX_PASSWORD", None)
    env["SMTPDX_IMAP_PASSWORD"] = PASSWORD
    env["NO_COLOR"] = "1"
    cmd = args
    if os.access("/usr/bin/time", os.X_OK):
        cmd = ["/usr/bin/time", "-f", "%M", "-o", tfile] + args
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=120, env=env)
    except subprocess.TimeoutExpired:
        return None, 999, None
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


def controls(data):
    return [b for b in data if (b < 0x20 and b not in (0x0a, 0x09)) or b == 0x7f]


# part -> (diagnosis that must be there, the longest it may take)
# The flood, literal, longline cases end as soon as the bound is hit; the
# others by a deadline: per command (silent, trickle) or the search's
# (notfound: --timeout of searching, then the answer).
CASES = {
    "notfound": ("fetchback.not_found", 2 * TIMEOUT),
    "badpass": ("fetchback.login_failed", TIMEOUT),
    "flood": (None, 2 * TIMEOUT),
    "literal": ("fetchback.protocol_error", TIMEOUT),
    "silent": ("fetchback.timeout", 2 * TIMEOUT),
    "longline": ("fetchback.protocol_error", TIMEOUT),
    "trickle": ("fetchback.timeout", 2 * TIMEOUT),
    "plus": ("fetchback.protocol_error", TIMEOUT),
    "echo": ("fetchback.login_failed", TIMEOUT),
    "echo64": ("fetchback.login_failed", TIMEOUT),
}


def main():
    if not shutil.which("certtool"):
        tap.skip("--fetch-back against IMAP servers of our own", "no certtool")
        return tap.summary()
    ca, cert, key = certs()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    smtp = listen()
    serve(smtp, smtp_conn)
    smtp_port = smtp.getsockname()[1]
    ports = {}
    for part in ["ok"] + list(CASES):
        s = listen()
        serve(s, lambda c, part=part: imap_conn(c, part, ctx))
        ports[part] = s.getsockname()[1]

    # ---- ok: the read-back, text and JSON
    p, secs, kib = run(smtp_port, ports["ok"], ca)
    out = p.stdout.decode("utf-8", "replace") if p else ""
    report(p is not None and "the message arrived" in out and
           re.search(r"1\s+\+2 s\s+by mx\.example\.test", out) and
           re.search(r"2\s+\+7 s\s+by imap\.example\.test", out),
           "ok: the Received chain, oldest first, with the delay of each hop",
           out[-3000:])
    report(re.search(r"spf\s+fail", out) and re.search(r"dkim\s+pass", out) and
           re.search(r"dmarc\s+fail", out),
           "ok: the Authentication-Results verdicts are shown", out[-2000:])
    for d in ("fetchback.spf_fail", "fetchback.dmarc_fail",
              "fetchback.spam_flagged"):
        report(d in out, "ok: %s diagnosed" % d, out[-2000:])
    report("fetchback.dkim_fail" not in out and "fetchback.dkim_missing" not in out,
           "ok: dkim=pass gives no DKIM diagnosis", out[-2000:])
    report(p is not None and p.returncode == 1,
           "ok: SPF/DMARC failing at the receiver is exit status 1",
           "exit %s" % (p.returncode if p else None))
    report(p is not None and not controls(p.stdout) and "\\x1b]0;pwned" in out,
           "ok: the escape in a spam header is shown escaped", repr(controls(p.stdout if p else b""))[:300])
    report(PASSWORD not in out and "<redacted>" in out,
           "ok: the AUTHENTICATE payload is redacted", out[-1500:])
    p, secs, kib = run(smtp_port, ports["ok"], ca, json_out=True)
    try:
        rep = json.loads(p.stdout.decode())
        fb = rep["fetch_back"]
        good = (fb["status"] == "found" and fb["uid"] == 7 and
                [h["by"].split()[0] for h in fb["received"]] ==
                ["mx.example.test", "imap.example.test"] and
                [h["delay"] for h in fb["received"]] == [2, 7] and
                {(a["method"], a["result"]) for a in fb["authentication_results"]} ==
                {("spf", "fail"), ("dkim", "pass"), ("dmarc", "fail")} and
                any(s["name"] == "X-Spam-Flag" for s in fb["spam"]) and
                "fetchback.spf_fail" in [d["id"] for d in rep["diagnoses"]] and
                [d["step"] for d in rep["diagnoses"]
                 if d["id"].startswith("fetchback.")][0] == "fetch_back" and
                rep["result"] == "fail")
        why = json.dumps(fb)[:2000]
    except Exception as e:
        good, why = False, repr(e) + (p.stdout.decode()[:1000] if p else "")
    report(good, "ok --json: fetch_back holds the chain, the verdicts, the spam "
           "headers; the diagnoses are in the report's", why)

    # ---- the hostile and failing ones
    def one(part):
        want, bound = CASES[part]
        for js in (False, True):
            p, secs, kib = run(smtp_port, ports[part], ca, json_out=js)
            kind = "--json" if js else "--batch"
            out = p.stdout if p else b""
            report(p is not None and secs < bound + SLACK,
                   "%s %s: over within %.0f s (+%.0f s slack)" % (part, kind, bound, SLACK),
                   "took %.1f s" % secs)
            report(kib is None or kib < MAX_KIB, "%s %s: memory bounded" % (part, kind),
                   "%s KiB" % kib)
            if js:
                try:
                    rep = json.loads(out.decode())
                    ids = [d["id"] for d in rep["diagnoses"]]
                    st = rep["fetch_back"]["status"]
                except Exception as e:
                    ids, st = [repr(e)], None
                ok = (want in ids) if want else any(i in ids for i in (
                    "fetchback.protocol_error", "fetchback.timeout"))
                report(ok and st != "found",
                       "%s --json: %s" % (part, want or "protocol_error or timeout"),
                       "%s %s" % (ids, st))
            else:
                text = out.decode("utf-8", "replace")
                report(not controls(out), "%s --batch: no raw control bytes" % part)
                report((want or "fetchback.") in text and p.returncode == 1,
                       "%s --batch: %s, exit 1" % (part, want or "a fetchback diagnosis"),
                       text[-1500:])
            secrets = [PASSWORD.encode(), base64.b64encode(PASSWORD.encode()),
                       base64.b64encode(("\0%s\0%s" % (USER, PASSWORD)).encode())]
            leak = [s for s in secrets if p and (s in p.stdout or s in p.stderr)]
            report(not leak, "%s %s: the password never in the output" % (part, kind),
                   repr(leak))
    tap.parallel(one, list(CASES), workers=4)

    # ---- usage
    env = dict(os.environ, NO_COLOR="1")
    env.pop("SMTPDX_IMAP_PASSWORD", None)
    env.pop("SMTPDX_PASSWORD", None)
    q = subprocess.run([SMTPDX, "127.0.0.1:%d" % smtp_port, "--batch",
                        "--fetch-back", "imaps://bob:pw@127.0.0.1"],
                       stdin=subprocess.DEVNULL, capture_output=True, env=env)
    report(q.returncode == 2 and b"no password in the URL" in q.stderr,
           "a password in the URL is refused (it would show in ps)", q.stderr[-300:])
    q = subprocess.run([SMTPDX, "127.0.0.1:%d" % smtp_port, "--batch",
                        "--fetch-back", "pop3://bob@127.0.0.1"],
                       stdin=subprocess.DEVNULL, capture_output=True, env=env)
    report(q.returncode == 2 and b"imaps://" in q.stderr,
           "a URL that is not imap:// or imaps:// is a usage error", q.stderr[-300:])
    q = subprocess.run([SMTPDX, "127.0.0.1:%d" % smtp_port, "--batch", "--no-send",
                        "--fetch-back", "imaps://bob@127.0.0.1"],
                       stdin=subprocess.DEVNULL, capture_output=True, env=env)
    report(q.returncode == 2, "--fetch-back with --no-send is a usage error",
           q.stderr[-300:])
    q = subprocess.run([SMTPDX, "127.0.0.1:%d" % smtp_port, "--batch",
                        "--fetch-back", "imaps://bob@127.0.0.1:%d" % ports["ok"]],
                       stdin=subprocess.DEVNULL, capture_output=True, env=env,
                       timeout=60)
    report(q.returncode == 2 and b"SMTPDX_IMAP_PASSWORD" in q.stderr,
           "no IMAP password and no terminal: exit 2, saying how to give it",
           q.stderr[-300:])
    # ---- SMTPDX_IMAP_PASSWORD never reaches a child (--password-command)
    probe = os.path.join(tmp, "probe.sh")
    seen_file = os.path.join(tmp, "child-env")
    with open(probe, "w") as f:
        f.write("#!/bin/sh\necho \"${SMTPDX_IMAP_PASSWORD:-clean}\" > %s\n"
                "echo some-smtp-password\n" % seen_file)
    os.chmod(probe, 0o700)
    env2 = dict(env, SMTPDX_IMAP_PASSWORD=PASSWORD)
    q = subprocess.run([SMTPDX, "127.0.0.1:%d" % smtp_port, "--tls", "none",
                        "--batch", "--timeout", str(TIMEOUT), "--cafile", ca,
                        "-f", "alice@example.test", "-t", USER,
                        "--password-command", probe, "--fetch-back",
                        "imaps://%s@127.0.0.1:%d" % (USER, ports["ok"])],
                       stdin=subprocess.DEVNULL, capture_output=True, env=env2,
                       timeout=60)
    try:
        child = open(seen_file).read().strip()
    except OSError:
        child = "(the command did not run)"
    report(child == "clean" and b"the message arrived" in q.stdout,
           "SMTPDX_IMAP_PASSWORD is not in a --password-command's environment, "
           "and still serves the read-back", child + q.stdout.decode()[-300:])
    # ---- fetch-back = URL in a profile
    cfg = os.path.join(tmp, "config")
    with open(cfg, "w") as f:
        f.write("[profile fb]\nhost = 127.0.0.1:%d\ntls = none\nfrom = alice@example.test\n"
                "to = %s\ncafile = %s\nfetch-back = imaps://%s@127.0.0.1:%d\n"
                % (smtp_port, USER, ca, USER, ports["ok"]))
    q = subprocess.run([SMTPDX, "--profile", "fb", "--config", cfg, "--json",
                        "--timeout", str(TIMEOUT)], stdin=subprocess.DEVNULL,
                       capture_output=True, env=env2, timeout=60)
    try:
        st = json.loads(q.stdout.decode())["fetch_back"]["status"]
    except Exception as e:
        st = repr(e) + q.stderr.decode()[-300:]
    report(st == "found", "a profile's fetch-back = URL reads the message back", st)
    shutil.rmtree(tmp, ignore_errors=True)
    return tap.summary()


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""clientauth.py - logging in without a password: client certificates
(--cert/--key, an encrypted key's passphrase from SMTPDX_KEY_PASSWORD,
--key-password-command or the terminal),
SASL EXTERNAL, OAUTHBEARER (RFC 7628) and XOAUTH2 tokens, against the lab
(--lab-server hands out a client certificate from its CA) and small
servers of our own: the OAuth error JSON decoded and explained, the %x01
answer, the round limit, Microsoft's XOAUTH2-only rule."""
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import report, skip, summary  # noqa: E402
from proxyd import Proxy  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMTPDX = os.environ.get("SMTPDX", os.path.join(ROOT, "smtpdx"))
TMP = tempfile.mkdtemp(prefix="smtpdx-clientauth-")
LABPW = "lab-Secret-42"


def run(args, env=None, timeout=60):
    e = dict(os.environ)
    for k in ("SMTPDX_PASSWORD", "SMTPDX_KEY_PASSWORD"):
        e.pop(k, None)
    e.update(env or {})
    p = subprocess.run([SMTPDX] + args, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                       timeout=timeout, env=e)
    out, err = p.stdout.decode(), p.stderr.decode()
    try:
        j = json.loads(out)
    except ValueError:
        j = {}
    return p.returncode, j, out, err


def ids(j):
    return [d["id"] for d in j.get("diagnoses", []) if d["severity"] == "error"]


def diag(j, id_):
    for d in j.get("diagnoses", []):
        if d["id"] == id_:
            return d
    return {}


def lines(j):
    return [(t["dir"], t["text"]) for t in j.get("transcript", [])]


def lab(scenario, name):
    ca = os.path.join(TMP, name + ".pem")
    p = subprocess.Popen([SMTPDX, "--lab", scenario, "--lab-server", ca],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         stdin=subprocess.DEVNULL)
    port = int(p.stdout.readline().decode().strip())
    info = "".join(p.stdout.readline().decode() for _ in range(4))
    return p, port, ca, os.path.join(TMP, name + "-client.pem"), info


def on_pty(argv, typed, timeout=30):
    """Run argv with a pty as its controlling terminal (stdin, stdout and
    /dev/tty); type typed and Enter once it asks for a passphrase.
    Returns (exit status, everything the terminal showed)."""
    import pty
    import select
    import time
    e = dict(os.environ)
    for k in ("SMTPDX_PASSWORD", "SMTPDX_KEY_PASSWORD"):
        e.pop(k, None)
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(argv[0], argv, e)
    shown, sent = b"", False
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        r, _, _ = select.select([fd], [], [], 0.5)
        if r:
            try:
                d = os.read(fd, 4096)
            except OSError:
                break
            if not d:
                break
            shown += d
        if not sent and b"passphrase for " in shown:
            os.write(fd, typed.encode() + b"\n")
            sent = True
    try:
        os.kill(pid, 9) if time.monotonic() >= end else None
    except OSError:
        pass
    _, st = os.waitpid(pid, 0)
    os.close(fd)
    return (os.WEXITSTATUS(st) if os.WIFEXITED(st) else -1,
            shown.decode("utf-8", "replace"))


# ---- client certificates and EXTERNAL --------------------------------------
req, rport, rca, rclient, info = lab("tls.client_cert_required", "req")
req12, r12port, r12ca, r12client, _ = lab("tls-client-cert-12", "req12")
other, oport, oca, oclient, _ = lab("ok", "other")
base = ["--servername", "mail.smtpdx.lab", "--json", "--timeout", "10",
        "--from", "alice@smtpdx.lab", "--to", "bob@smtpdx.lab"]
try:
    report(os.path.exists(rclient) and "--cert %s" % rclient in info and
           (os.stat(rclient).st_mode & 0o077) == 0,
           "--lab-server writes a client certificate and key (mode 0600) and "
           "names them", info)
    rc, j, out, err = run(["127.0.0.1:%d" % rport, "--cafile", rca, "--no-send"]
                          + base)
    d = diag(j, "tls.client_cert_required")
    report(rc == 1 and ids(j) == ["tls.client_cert_required"] and
           "--cert" in d.get("fix", "") and "no --cert" in d.get("evidence", ""),
           "no certificate: tls.client_cert_required, its fix names --cert/--key",
           repr(ids(j)) + d.get("fix", ""))
    rc, j, out, err = run(["127.0.0.1:%d" % rport, "--cafile", rca, "--cert",
                           rclient, "--key", rclient, "--no-send"] + base)
    tr = "\n".join(t for _, t in lines(j))
    report(rc == 0 and j.get("result") == "ok" and
           "client certificate CN=alice@smtpdx.lab" in tr and
           "asked for a client certificate: sent" in tr,
           "--cert/--key: the lab's certificate is presented and accepted "
           "(TLS 1.3)", err + tr[-800:])
    rc, j, out, err = run(["127.0.0.1:%d" % r12port, "--tls", "implicit",
                           "--cafile", r12ca, "--cert", r12client, "--key",
                           r12client, "--no-send"] + base)
    report(rc == 0 and j.get("tls", {}).get("version") == "TLS1.2",
           "--cert/--key over TLS 1.2 with implicit TLS", err + out[-400:])
    rc, j, out, err = run(["127.0.0.1:%d" % rport, "--cafile", rca, "--cert",
                           oclient, "--key", oclient, "--no-send"] + base)
    d = diag(j, "tls.client_cert_required")
    report(rc == 1 and ids(j) == ["tls.client_cert_required"] and
           "refused" in d.get("fix", "") and "unknown_ca" in d.get("evidence", "")
           and "from --cert" in d.get("evidence", ""),
           "a certificate from another CA: presented, refused, and said so",
           repr(ids(j)) + d.get("evidence", ""))
    # SASL EXTERNAL: no -u, no password
    rc, j, out, err = run(["127.0.0.1:%d" % rport, "--cafile", rca, "--cert",
                           rclient, "--key", rclient, "--auth", "external"]
                          + base)
    tl = lines(j)
    steps = {st["name"]: st["status"] for st in j.get("steps", [])}
    report(rc == 0 and ("C", "AUTH EXTERNAL =") in tl and
           any(t.startswith("235") for _, t in tl) and steps.get("auth") == "ok",
           "--auth external logs in with the certificate (AUTH EXTERNAL =, 235)",
           err + repr(tl[-14:]))
    rc, j, out, err = run(["127.0.0.1:%d" % oport, "--cafile", oca,
                           "--cert", rclient, "--key", rclient, "--auth",
                           "external"] + base)
    report(rc == 1 and ids(j) == ["auth.mech_unsupported"],
           "EXTERNAL where no certificate was asked for: auth.mech_unsupported",
           repr(ids(j)))
    # usage
    for args, what in (
            (["--cert", rclient, "h"], "--cert without --key"),
            (["--auth", "external", "h"], "--auth external without --cert"),
            (["--cert", "/nonexistent.pem", "--key", rclient, "h"],
             "an unreadable --cert"),
            (["--cert", rca, "--key", rca, "h"], "a --key that is no key")):
        rc, j, out, err = run(args)
        report(rc == 2 and len(err.strip().splitlines()) == 1,
               "usage: %s: one line, exit 2" % what, err)
    # an encrypted key: the passphrase from SMTPDX_KEY_PASSWORD
    if shutil.which("certtool"):
        pem = open(rclient).read()
        cert = pem[:pem.index("-----END CERTIFICATE-----") + 26]
        certf = os.path.join(TMP, "c.pem")
        keyf = os.path.join(TMP, "k.pem")
        encf = os.path.join(TMP, "enc.pem")
        open(certf, "w").write(cert)
        open(keyf, "w").write(pem[len(cert):])
        subprocess.run(["certtool", "--to-p8", "--load-privkey", keyf,
                        "--password", "key-Pass-9", "--outfile", encf],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        rc, j, out, err = run(["127.0.0.1:%d" % rport, "--cafile", rca,
                               "--cert", certf, "--key", encf, "--no-send"] + base)
        report(rc == 2 and "SMTPDX_KEY_PASSWORD" in err and
               len(err.strip().splitlines()) == 1,
               "an encrypted key without a passphrase: one line naming "
               "SMTPDX_KEY_PASSWORD, exit 2", err)
        rc, j, out, err = run(["127.0.0.1:%d" % rport, "--cafile", rca,
                               "--cert", certf, "--key", encf, "--no-send"] + base,
                              env={"SMTPDX_KEY_PASSWORD": "key-Pass-9"})
        report(rc == 0 and "key-Pass-9" not in out + err,
               "an encrypted key with SMTPDX_KEY_PASSWORD works; the "
               "passphrase shows nowhere", err + out[-300:])
        encargs = ["127.0.0.1:%d" % rport, "--cafile", rca, "--cert", certf,
                   "--key", encf, "--no-send"] + base
        rc, j, out, err = run(encargs, env={"SMTPDX_KEY_PASSWORD": "not-it-1"})
        report(rc == 2 and len(err.strip().splitlines()) == 1 and
               "passphrase from SMTPDX_KEY_PASSWORD is wrong" in err and
               "not-it-1" not in out + err,
               "a wrong SMTPDX_KEY_PASSWORD: one line naming it, exit 2", err)
        # --key-password-command: run without a shell, its output unseen,
        # no SMTPDX_*PASSWORD in its environment; it wins over the variable
        envf = os.path.join(TMP, "cmd-env")
        cmd = "sh -c 'env > %s; echo key-Pass-9'" % envf
        rc, j, out, err = run(encargs + ["--key-password-command", cmd],
                              env={"SMTPDX_KEY_PASSWORD": "not-it-1",
                                   "SMTPDX_PASSWORD": "pw-Not-For-Child"})
        child = open(envf).read() if os.path.exists(envf) else "(not run)"
        report(rc == 0 and "key-Pass-9" not in out + err,
               "--key-password-command: the key opens; the passphrase shows "
               "nowhere", err + out[-300:])
        report("SMTPDX_KEY_PASSWORD" not in child and "SMTPDX_PASSWORD" not in child
               and "PATH=" in child,
               "--key-password-command: no SMTPDX_*PASSWORD in the command's "
               "environment", child[:300])
        rc, j, out, err = run(encargs + ["--key-password-command", "echo not-it-2"])
        report(rc == 2 and len(err.strip().splitlines()) == 1 and
               "passphrase from --key-password-command is wrong" in err and
               "not-it-2" not in out + err,
               "a wrong --key-password-command: one line naming it, exit 2", err)
        rc, j, out, err = run(encargs + ["--key-password-command", "false"])
        report(rc == 2 and "--key-password-command false failed" in err,
               "a failing --key-password-command: usage error naming it", err)
        # on a terminal: asked for without echo
        for typed, want_rc, what in (("key-Pass-9", 0, "the right passphrase"),
                                     ("not-it-3", 2, "a wrong passphrase")):
            rc, shown = on_pty([SMTPDX] + encargs, typed)
            if want_rc == 0:
                report(rc == 0 and "passphrase for %s: " % encf in shown
                       and typed not in shown,
                       "on a terminal, %s: asked for, not echoed, the key opens" % what,
                       shown[-600:])
            else:
                report(rc == 2 and "passphrase from the terminal is wrong" in shown
                       and typed not in shown,
                       "on a terminal, %s: named as the terminal's, exit 2" % what,
                       shown[-600:])
    else:
        skip("an encrypted client key", "no certtool")
finally:
    for p in (req, req12, other):
        p.terminate()
        p.wait()

# ---- OAUTHBEARER and XOAUTH2 against the lab --------------------------------
rc, j, out, err = run(["--lab", "ok-oauth", "--json"])
tl = lines(j)
report(rc == 0 and ("C", "AUTH OAUTHBEARER <redacted>") in tl and
       LABPW not in out,
       "OAUTHBEARER with a good token: 235, the token redacted", err + repr(tl[-12:]))
rc, j, out, err = run(["--lab", "ok-oauth", "--json", "--password-command",
                       "echo " + LABPW])
report(rc == 0 and LABPW not in out,
       "OAUTHBEARER with the token from --password-command", err + out[-300:])
rc, j, out, err = run(["--lab", "auth.oauth_token_rejected", "--json"])
tl = lines(j)
d = diag(j, "auth.oauth_token_rejected")
ev = d.get("evidence", "")
i334 = [k for k, (dr, t) in enumerate(tl) if dr == "S" and t.startswith("334 ")]
report(rc == 1 and ids(j) == ["auth.oauth_token_rejected"] and
       "invalid_token" in ev and "expired" in ev and
       "https://mail.smtpdx.lab/smtp.send" in ev and
       ".well-known/openid-configuration" in ev,
       "OAUTHBEARER refused: the error JSON decoded (status, scope, "
       "openid-configuration) and explained in the evidence", repr(ids(j)) + ev)
report(bool(i334) and ("C", "AQ==") in tl[i334[0]:],
       "OAUTHBEARER: the error challenge answered with %x01 (AQ==), "
       "RFC 7628 §3.2.3", repr(tl[-10:]))
rc, j, out, err = run(["--lab", "auth-xoauth2-expired", "--json"])
ev = diag(j, "auth.oauth_token_rejected").get("evidence", "")
report(rc == 1 and ids(j) == ["auth.oauth_token_rejected"] and '"401"' in ev
       and "Username and Password not accepted" in ev,
       "XOAUTH2 refused: Google's error JSON decoded beside the 535",
       repr(ids(j)) + ev)


# ---- servers of our own: the round limit, Microsoft -------------------------
class Fake:
    """A plaintext SMTP server: EHLO offers `auth`; AUTH is answered by
    `script`, a list of replies, one per line the client sends."""

    def __init__(self, auth, script):
        self.auth, self.script, self.got = auth, script, []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.one, args=(c,), daemon=True).start()

    def one(self, c):
        f = c.makefile("rb")
        c.sendall(b"220 fake ESMTP\r\n")
        script = list(self.script)
        for line in f:
            line = line.decode().rstrip("\r\n")
            self.got.append(line)
            w = line.split(" ")[0].upper()
            if w == "EHLO":
                c.sendall(("250-fake\r\n250 AUTH %s\r\n" % self.auth).encode())
            elif w == "QUIT":
                c.sendall(b"221 bye\r\n")
                break
            elif w in ("RSET", "NOOP"):
                c.sendall(b"250 ok\r\n")
            elif script:
                c.sendall((script.pop(0) + "\r\n").encode())
            else:
                c.sendall(b"501 5.5.2 what\r\n")
        c.close()


err_json = base64.b64encode(b'{"status":"insufficient_scope",'
                            b'"scope":"smtp.send"}').decode()
f = Fake("OAUTHBEARER", ["334 " + err_json, "334 " + err_json, "535 5.7.8 no"])
rc, j, out, err = run(["127.0.0.1:%d" % f.port, "--tls", "none",
                       "--allow-plaintext-auth", "-u", "alice", "--auth",
                       "oauthbearer", "--json", "--no-send", "--to", "b@x.test"],
                      env={"SMTPDX_PASSWORD": "tok-123"})
report(rc == 1 and ids(j) == ["auth.exchange_broken"] and "*" in f.got,
       "OAUTHBEARER: a second error challenge breaks the round limit: "
       "cancelled with *, auth.exchange_broken", repr(ids(j)) + repr(f.got))
f = Fake("OAUTHBEARER", ["334 " + err_json, "535 5.7.8 no"])
rc, j, out, err = run(["127.0.0.1:%d" % f.port, "--tls", "none",
                       "--allow-plaintext-auth", "-u", "alice", "--auth",
                       "oauthbearer", "--json", "--no-send", "--to", "b@x.test"],
                      env={"SMTPDX_PASSWORD": "tok-123"})
ev = diag(j, "auth.oauth_token_rejected").get("evidence", "")
report(rc == 1 and "insufficient_scope" in ev and "scope" in ev and
       "tok-123" not in out,
       "a wrong scope is named in the evidence", repr(ids(j)) + ev)
ir = [g for g in f.got if g.startswith("AUTH OAUTHBEARER ")]
dec = base64.b64decode(ir[0].split()[2]) if ir else b""
report(dec == b"n,a=alice,\x01auth=Bearer tok-123\x01\x01",
       "OAUTHBEARER's initial response is RFC 7628 §3.1's", repr(dec))

# Microsoft: the name reaches our server through a socks5h proxy
f = Fake("LOGIN XOAUTH2", [])
px = Proxy("socks5", map_to=("127.0.0.1", f.port))
rc, j, out, err = run(["smtp.office365.com:587", "--proxy",
                       "socks5h://127.0.0.1:%d" % px.port, "--tls", "none",
                       "--allow-plaintext-auth", "-u", "alice@contoso.com",
                       "--auth", "oauthbearer", "--json", "--no-send",
                       "--to", "b@x.test"], env={"SMTPDX_PASSWORD": "tok-123"})
d = diag(j, "auth.oauthbearer_microsoft")
report(rc == 1 and ids(j) == ["auth.oauthbearer_microsoft"] and
       "--auth xoauth2" in d.get("fix", ""),
       "OAUTHBEARER at smtp.office365.com: Microsoft takes only XOAUTH2, "
       "and the fix says --auth xoauth2", repr(ids(j)) + err)
f = Fake("LOGIN XOAUTH2", [])
rc, j, out, err = run(["127.0.0.1:%d" % f.port, "--tls", "none",
                       "--allow-plaintext-auth", "-u", "alice", "--auth",
                       "oauthbearer", "--json", "--no-send", "--to", "b@x.test"],
                      env={"SMTPDX_PASSWORD": "tok-123"})
report(rc == 1 and ids(j) == ["auth.mech_unsupported"],
       "OAUTHBEARER not offered elsewhere: auth.mech_unsupported, not the "
       "Microsoft diagnosis", repr(ids(j)))

sys.exit(summary())

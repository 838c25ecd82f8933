#!/usr/bin/env python3
"""smtpdx against a real Postfix + Dovecot: a private instance that
tests/mta/with-mta.sh starts (tests/mta/run.sh runs this under it), whose
directory and ports come from MTA_STATE, MTA_SUB, MTA_IMPLICIT, MTA_MX.

Asserts what a user relies on: a full session delivers the message (read
back from the maildir: headers, body, the Message-ID smtpdx printed), and
each failure a real server produces gets the right diagnosis with the
server's own words as evidence.  Then the same cases through swaks: every
server line smtpdx shows must be the line swaks shows, in the same order
(queue ids normalised).  Prints TAP and a final "N passed, M failed"."""

import base64
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import tap  # noqa: E402
from tap import report  # noqa: E402

SMTPDX = os.environ.get("SMTPDX", "./smtpdx")
STATE = os.environ.get("MTA_STATE", "")
USER = "tester@mta.test"
PASSWORD = os.environ.get("MTA_PASSWORD", "mta-Secret-77")
CA = os.path.join(STATE, "pki", "ca.pem")
MAILDIR = os.path.join(STATE, "mail", "tester")
SUB, IMPLICIT, MX = (int(os.environ.get(k, "0"))
                     for k in ("MTA_SUB", "MTA_IMPLICIT", "MTA_MX"))
HOST = "127.0.0.1"
NAME = "mail.mta.test"

SECRETS = [PASSWORD.encode(), base64.b64encode(PASSWORD.encode()),
           base64.b64encode(("\0%s\0%s" % (USER, PASSWORD)).encode())]




tmp = tempfile.mkdtemp(prefix="smtpdx-mta.")
pwfile = os.path.join(tmp, "pw")
badfile = os.path.join(tmp, "bad")
with open(pwfile, "w") as f:
    f.write(PASSWORD + "\n")
with open(badfile, "w") as f:
    f.write("not-the-password\n")
os.chmod(pwfile, 0o600)


def smtpdx(port, *extra, json_out=True, timeout=60):
    args = [SMTPDX, "%s:%d" % (HOST, port), "--helo", "client.mta.test",
            "-f", USER, "--timeout", "5"]
    if "--no-ca" in extra:
        extra = tuple(a for a in extra if a != "--no-ca")
    else:
        args += ["--cafile", CA]
    if "--servername" not in extra:
        args += ["--servername", NAME]
    if "-t" not in extra:
        args += ["-t", USER]
    args += list(extra)
    args.append("--json" if json_out else "--batch")
    env = dict(os.environ)
    env.pop("SMTPDX_PASSWORD", None)
    env["NO_COLOR"] = "1"
    p = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout, env=env)
    rep = None
    if json_out:
        try:
            rep = json.loads(p.stdout.decode("utf-8"))
        except Exception:
            rep = None
    return p, rep


def diag_ids(rep):
    return [d["id"] for d in rep.get("diagnoses", [])] if rep else []


def first_error(rep):
    for d in (rep or {}).get("diagnoses", []):
        if d["severity"] == "error":
            return d
    return None


def clean(name, p):
    bad = [b for b in p.stdout + p.stderr
           if (b < 0x20 and b not in (9, 10)) or b == 0x7f]
    leaks = [s for s in SECRETS if s in p.stdout or s in p.stderr]
    report(not bad and not leaks, "%s: no control byte, no secret in the output" % name,
           "bytes %r leaks %r" % (sorted(set(bad))[:8], leaks))


def expect(name, port, want, *extra, evidence=None):
    """Run one failing case; assert diagnosis, exit 1, evidence."""
    p, rep = smtpdx(port, *extra)
    if rep is None:
        report(False, "%s: --json prints a report" % name, p.stdout[:300] + p.stderr[:300])
        return None
    d = first_error(rep)
    report(d is not None and d["id"] == want, "%s: diagnosed as %s" % (name, want),
           "got %r" % diag_ids(rep))
    report(p.returncode == 1, "%s: exit status 1" % name, "got %d" % p.returncode)
    if evidence and d is not None:
        report(evidence in d.get("evidence", ""),
               "%s: evidence quotes the server: %s" % (name, evidence),
               "evidence: %r" % d.get("evidence"))
    clean(name, p)
    return rep


def maildir_files():
    return set(glob.glob(os.path.join(MAILDIR, "new", "*")) +
               glob.glob(os.path.join(MAILDIR, "cur", "*")))


# ---- smtpdx against Postfix ------------------------------------------------

def test_delivery(port, mode, label):
    before = maildir_files()
    extra = ["-u", USER, "--password-file", pwfile]
    if mode:
        extra += ["--tls", mode]
    p, rep = smtpdx(port, *extra)
    ok = rep is not None and rep["result"] == "ok" and p.returncode == 0
    report(ok, "%s: the session succeeds (exit 0, result ok)" % label,
           "exit %d, diagnoses %r, stderr %r" % (p.returncode, diag_ids(rep), p.stderr[:200]))
    if rep is None:
        return
    report(rep["tls"].get("verified") is True,
           "%s: the certificate is verified with --cafile" % label, repr(rep["tls"]))
    report(rep.get("steps") and all(s["status"] in ("ok", "skipped") for s in rep["steps"]),
           "%s: every step ok" % label, repr(rep.get("steps")))
    sent = [t["text"] for t in rep["transcript"] if t["dir"] == "C"]
    msgid = next((l.split(":", 1)[1].strip() for l in sent
                  if l.lower().startswith("message-id:")), None)
    subject = next((l.split(":", 1)[1].strip() for l in sent
                    if l.lower().startswith("subject:")), None)
    report(msgid is not None, "%s: the transcript shows the Message-ID sent" % label)
    queued = [t["text"] for t in rep["transcript"]
              if t["dir"] == "S" and "queued as" in t["text"]]
    report(len(queued) == 1, "%s: Postfix queued the message (%s)" % (label, queued[:1]))
    # Delivery is asynchronous: wait for the file (a generous ceiling: a
    # loaded machine may take seconds).
    new = set()
    for _ in range(300):
        new = maildir_files() - before
        if new:
            break
        time.sleep(0.1)
    found = None
    for path in new:
        with open(path, "rb") as f:
            data = f.read()
        if msgid and msgid.encode() in data:
            found = data
    report(found is not None, "%s: the message is in the maildir, found by its Message-ID" % label,
           "new files %r, msgid %r" % (sorted(new), msgid))
    if found is None:
        return
    head, _, body = found.partition(b"\n\n")
    hdrs = head.decode("utf-8", "replace")
    report(re.search(r"(?m)^Message-ID: " + re.escape(msgid) + "$", hdrs) is not None,
           "%s: delivered Message-ID header matches the transcript" % label)
    report(subject is not None and ("Subject: " + subject) in hdrs,
           "%s: delivered Subject matches" % label, hdrs[:600])
    report(re.search(r"(?m)^From: <?%s>?$" % re.escape(USER), hdrs) is not None and
           re.search(r"(?m)^To: <?%s>?$" % re.escape(USER), hdrs) is not None,
           "%s: delivered From and To headers" % label, hdrs[:600])
    report(re.search(r"(?m)^Received: from client\.mta\.test .*\n\s+by mail\.mta\.test "
                     r"\(Postfix\) with ESMTPS?A", hdrs) is not None,
           "%s: Postfix's Received header says ESMTPSA (TLS + AUTH)" % label, hdrs[:600])
    report(b"This is a test message from smtpdx" in body and b"\r" not in body,
           "%s: the body arrived intact" % label, body[:300])
    report(queued and queued[0].split()[-1].encode() in found,
           "%s: the queue id Postfix gave is in its Received header" % label)
    clean(label, p)


def wait_new(before, want, pred=lambda d: True):
    """New maildir files (up to want of them) that pred accepts; waits
    for delivery, which is asynchronous."""
    found = {}
    for _ in range(300):
        for path in maildir_files() - before:
            if path not in found:
                with open(path, "rb") as f:
                    data = f.read()
                if pred(data):
                    found[path] = data
        if len(found) >= want:
            break
        time.sleep(0.1)
    return list(found.values())


def sent_header(rep, name):
    return next((t["text"].split(":", 1)[1].strip() for t in rep["transcript"]
                 if t["dir"] == "C" and t["text"].lower().startswith(name.lower() + ":")),
                None)


def test_bdat_dsn():
    """--bdat and the DSN parameters end to end: Postfix offers CHUNKING
    and DSN; the message and (for NOTIFY=SUCCESS) the success DSN Postfix
    sends back are read from the maildir."""
    body = os.path.join(tmp, "body.txt")
    with open(body, "w") as f:
        f.write("first line\n.a line that starts with a dot\n..two\nlast\n")
    auth = ["-u", USER, "--password-file", pwfile]
    before = maildir_files()
    p, rep = smtpdx(SUB, *auth, "--bdat", "--body", body,
                    "--header", "X-Ticket: 4711", "--header", "Subject: bdat via smtpdx")
    ok = rep is not None and p.returncode == 0
    report(ok, "BDAT to Postfix: the session succeeds", p.stderr[:300])
    if not ok:
        return
    sent = [t["text"] for t in rep["transcript"] if t["dir"] == "C"]
    report(rep["capabilities"]["chunking"] and rep["message"]["method"] == "BDAT"
           and any(re.match(r"BDAT \d+ LAST$", l) for l in sent),
           "BDAT to Postfix: CHUNKING offered, BDAT n LAST sent", repr(sent[-12:]))
    report(rep["capabilities"]["pipelining"] and
           [l.split()[0] for l in sent if l.strip()].count("BDAT") == 1 and
           next(i for i, t in enumerate(rep["transcript"]) if t["dir"] == "C" and
                t["text"].startswith("BDAT")) <
           next(i for i, t in enumerate(rep["transcript"]) if t["dir"] == "S" and
                t["text"].startswith("250 2.1.0")),
           "BDAT to Postfix: BDAT went before MAIL's reply (pipelined)")
    msgid = sent_header(rep, "Message-ID")
    got = wait_new(before, 1, lambda d: bool(msgid) and msgid.encode() in d)
    report(len(got) == 1, "BDAT to Postfix: the message is in the maildir", msgid)
    if got:
        head, _, b = got[0].partition(b"\n\n")
        report(b"X-Ticket: 4711" in head and b"Subject: bdat via smtpdx" in head
               and head.count(b"\nSubject:") == 1,
               "BDAT to Postfix: the --header lines arrived, one Subject", head[:600])
        report(b == b"first line\n.a line that starts with a dot\n..two\nlast\n",
               "BDAT to Postfix: the body arrived byte for byte (dots as given)", repr(b))
    clean("BDAT to Postfix", p)

    before = maildir_files()
    p, rep = smtpdx(SUB, *auth, "--notify", "success,failure", "--ret", "hdrs",
                    "--envid", "smtpdx test 42")
    ok = rep is not None and p.returncode == 0
    report(ok, "DSN to Postfix: the session succeeds", p.stderr[:300])
    if not ok:
        return
    sent = [t["text"] for t in rep["transcript"] if t["dir"] == "C"]
    report(rep["capabilities"]["dsn"] and rep["message"]["dsn"]["sent"]
           and any(l.startswith("MAIL ") and " RET=HDRS ENVID=smtpdx+20test+2042" in l
                   for l in sent)
           and any(l.startswith("RCPT ") and "NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;" + USER in l
                   for l in sent),
           "DSN to Postfix: RET, ENVID (xtext), NOTIFY, ORCPT sent", repr(sent[:12]))
    msgid = sent_header(rep, "Message-ID")
    got = wait_new(before, 2, lambda d: bool(msgid) and msgid.encode() in d)
    mail = [d for d in got if b"report-type=delivery-status" not in d]
    dsn = [d for d in got if b"report-type=delivery-status" in d]
    report(len(mail) == 1, "DSN to Postfix: the message is in the maildir")
    report(len(dsn) == 1, "DSN to Postfix: Postfix's success notice (NOTIFY=SUCCESS) "
           "came back to the sender", "%d files" % len(got))
    if dsn:
        d = dsn[0].decode("utf-8", "replace")
        report("Original-Envelope-Id: smtpdx test 42" in d or
               "Original-Envelope-Id: smtpdx+20test+2042" in d,
               "DSN to Postfix: the notice carries our ENVID", d[-1500:])
        report(re.search(r"(?i)Original-Recipient: rfc822; ?" + re.escape(USER), d)
               is not None and re.search(r"(?i)Action: delivered", d) is not None,
               "DSN to Postfix: Original-Recipient from ORCPT, Action: delivered", d[-1500:])
        report("This is a test message from smtpdx" not in d,
               "DSN to Postfix: RET=HDRS: the notice returns the headers only")
    clean("DSN to Postfix", p)


def test_smtpdx():
    # Positive cases first: Dovecot delays AUTH after a failure (we set
    # auth_failure_delay = 0, but older versions ignore it).
    test_delivery(SUB, None, "submission STARTTLS + AUTH PLAIN")
    test_delivery(IMPLICIT, "implicit", "implicit TLS + AUTH")
    p, rep = smtpdx(SUB, "-u", USER, "--password-file", pwfile, "--auth", "login",
                    "--no-send")
    report(rep is not None and rep["result"] == "ok" and rep.get("diagnoses") == [],
           "submission AUTH LOGIN --no-send: clean success", repr(diag_ids(rep)))
    p, rep = smtpdx(MX, "--no-send")
    report(rep is not None and rep["result"] == "ok",
           "port-25 style, no AUTH, local recipient: accepted", repr(diag_ids(rep)))

    expect("wrong password", SUB, "auth.failed", "-u", USER, "--password-file", badfile,
           evidence="535 5.7.8 Error: authentication failed")
    expect("MAIL without AUTH on submission", SUB, "mail.auth_required",
           evidence="Access denied")
    expect("outside recipient on the port-25 port", MX, "rcpt.relay_denied",
           "-t", "someone@example.org", evidence="Relay access denied")
    expect("--tls implicit on the STARTTLS port", SUB, "tls.expected_starttls",
           "--tls", "implicit", evidence="220 mail.mta.test ESMTP Postfix")
    expect("--tls starttls on the implicit port", IMPLICIT, "tls.expected_implicit",
           "--tls", "starttls", "--timeout", "2")
    expect("no --cafile: the throwaway CA is unknown", SUB, "tls.cert_untrusted",
           "--no-ca")
    expect("wrong --servername", SUB, "tls.cert_hostname_mismatch",
           "--servername", "wrong.mta.test")
    # No password over plaintext: --tls none on the submission port.
    expect("--tls none on submission with a password", SUB, "auth.requires_tls",
           "--tls", "none", "-u", USER, "--password-file", pwfile)


# ---- OAuth 2.0 tokens against Dovecot's oauth2 passdb ----------------------
# Postfix's OAuth port hands AUTH to Dovecot, which asks a token endpoint
# (ours, on MTA_TOKENINFO, as it would ask Google's or Keycloak's) whether
# the bearer token is good and whose it is.

GOOD_TOKEN = "ya29.good-Token-4f2a"
BAD_TOKEN = "ya29.expired-Token-9c1d"


def token_endpoint(port):
    import http.server
    import threading

    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            tok = self.path.partition("access_token=")[2]
            if tok == GOOD_TOKEN:
                code, body = 200, {"email": USER, "expires_in": 3599}
            else:
                code, body = 401, {"error": "invalid_token",
                                   "error_description": "Token expired"}
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def test_oauth():
    port = int(os.environ.get("MTA_OAUTH", "0"))
    tport = int(os.environ.get("MTA_TOKENINFO", "0"))
    if not port or not tport:
        tap.skip("OAuth against Dovecot", "no MTA_OAUTH port (an older with-mta.sh)")
        return
    srv = token_endpoint(tport)
    global SECRETS
    saved = SECRETS
    SECRETS = SECRETS + [GOOD_TOKEN.encode(), BAD_TOKEN.encode()] + [
        base64.b64encode(x.encode()) for x in
        ("n,a=%s,\x01auth=Bearer %s\x01\x01" % (USER, GOOD_TOKEN),
         "user=%s\x01auth=Bearer %s\x01\x01" % (USER, GOOD_TOKEN))]
    tok = lambda t: ["--password-command", "printf %s" % t]
    try:
        for mech in ("oauthbearer", "xoauth2"):
            before = maildir_files()
            p, rep = smtpdx(port, "-u", USER, "--auth", mech, *tok(GOOD_TOKEN))
            auth = [t["text"] for t in (rep or {}).get("transcript", [])
                    if t["dir"] == "S" and t["text"][:3] in ("235", "535")]
            report(rep is not None and rep["result"] == "ok" and
                   auth[:1] == ["235 2.7.0 Authentication successful"],
                   "Dovecot's oauth2 passdb: --auth %s with a good token logs "
                   "in (235) and the message is accepted" % mech,
                   "%r %r %s" % (diag_ids(rep), auth, p.stderr[-300:]))
            new = wait_new(before, 1)
            report(len(new) == 1, "--auth %s: the message is delivered" % mech,
                   "%d new" % len(new))
            clean("--auth %s, good token" % mech, p)
        for mech in ("oauthbearer", "xoauth2"):
            rep = expect("--auth %s with a token Dovecot's endpoint refuses" % mech,
                         port, "auth.oauth_token_rejected", "-u", USER,
                         "--auth", mech, *tok(BAD_TOKEN), "--no-send")
            d = first_error(rep) or {}
            # Dovecot answers with RFC 7628's error JSON in a 334 first
            chal = [t["text"] for t in (rep or {}).get("transcript", [])
                    if t["dir"] == "S" and t["text"].startswith("334 ")]
            report(bool(chal) and "invalid_token" in d.get("evidence", "") +
                   d.get("explanation", "") + json.dumps(rep.get("auth", {})
                                                        if rep else {}),
                   "--auth %s, refused token: the server's error JSON "
                   "(invalid_token) is decoded and shown" % mech,
                   "334s %r, diagnosis %s" % (chal, json.dumps(d)[:600]))
        # a password where only OAuth is offered: not a wrong password
        p, rep = smtpdx(port, "-u", USER, "--password-file", pwfile, "--no-send")
        d = first_error(rep) or {}
        report(d.get("id") == "auth.mech_unsupported" and
               "--auth oauthbearer" in d.get("fix", "") and
               "--auth auto and let" not in d.get("fix", ""),
               "a password on a port that offers only OAUTHBEARER and XOAUTH2: "
               "auth.mech_unsupported, not a wrong password; the fix is a "
               "token with --auth oauthbearer",
               "%r %s %s" % (diag_ids(rep), d.get("evidence"), d.get("fix")))
        clean("password on the OAuth port", p)
    finally:
        SECRETS = saved
        srv.shutdown()


# ---- smtpdx and swaks agree on every server line ---------------------------

QID = re.compile(r"queued as [0-9A-Za-z]+")


def norm(line):
    return QID.sub("queued as QID", line.rstrip())


def swaks_lines(args):
    # --pipeline: smtpdx pipelines MAIL, RCPT and DATA when the server
    # offers PIPELINING (Postfix does), so swaks must too for the server to
    # see, and answer, the same commands.
    p = subprocess.run(["swaks", "--server", "%s" % HOST, "--ehlo", "client.mta.test",
                        "--pipeline", "-f", USER] + args, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    out = []
    for l in p.stdout.decode("utf-8", "replace").splitlines():
        m = re.match(r"^<([-~])[ *] (.*)$", l)
        if m:
            out.append((m.group(1) == "~", norm(m.group(2).lstrip())))
    return out


def smtpdx_lines(rep):
    return [(bool(t.get("tls")), norm(t["text"])) for t in rep.get("transcript", [])
            if t["dir"] == "S"]


def test_swaks():
    if not shutil.which("swaks"):
        tap.skip("swaks comparison", "swaks is not installed (apt-get install swaks)")
        return
    if subprocess.run(["perl", "-MNet::SSLeay", "-e1"], stderr=subprocess.DEVNULL).returncode:
        tap.skip("swaks comparison", "swaks cannot do TLS: Net::SSLeay missing "
                 "(apt-get install libnet-ssleay-perl)")
        return
    auth = ["--auth-user", USER, "--auth-password", PASSWORD]
    cases = [
        ("full session, STARTTLS + AUTH PLAIN",
         ["--port", str(SUB), "--tls", "--auth", "PLAIN"] + auth + ["-t", USER],
         (SUB, "-u", USER, "--password-file", pwfile, "--auth", "plain")),
        ("full session, implicit TLS + AUTH LOGIN",
         ["--port", str(IMPLICIT), "--tlsc", "--auth", "LOGIN"] + auth + ["-t", USER],
         (IMPLICIT, "--tls", "implicit", "-u", USER, "--password-file", pwfile,
          "--auth", "login")),
        ("port 25 style, outside recipient",
         ["--port", str(MX), "--tls", "-t", "someone@example.org"],
         (MX, "-t", "someone@example.org")),
        ("submission without AUTH",
         ["--port", str(SUB), "--tls", "-t", USER],
         (SUB,)),
        ("wrong password",
         ["--port", str(SUB), "--tls", "--auth", "PLAIN", "--auth-user", USER,
          "--auth-password", "not-the-password", "-t", USER],
         (SUB, "-u", USER, "--password-file", badfile, "--auth", "plain")),
    ]
    for name, sargs, dargs in cases:
        s = swaks_lines(sargs)
        p, rep = smtpdx(*dargs)
        if rep is None:
            report(False, "swaks vs smtpdx, %s: smtpdx report" % name)
            continue
        d = smtpdx_lines(rep)
        same = s == d
        why = ""
        if not same:
            for i in range(max(len(s), len(d))):
                a = s[i] if i < len(s) else None
                b = d[i] if i < len(d) else None
                if a != b:
                    why = "first difference at server line %d:\nswaks:  %r\nsmtpdx: %r" % (i + 1, a, b)
                    break
        report(same and len(s) > 3,
               "swaks vs smtpdx, %s: the same %d server lines in the same order, "
               "TLS flags alike" % (name, len(s)), why)


def main():
    if not STATE or not os.path.exists(CA) or not SUB:
        # run directly instead of through tests/mta/run.sh: a failure, not
        # a silent 0 passed
        report(False, "a private Postfix is up (run tests/mta/run.sh, which starts one)",
               "MTA_STATE=%r, %s missing" % (STATE, CA))
        return tap.summary()
    try:
        test_smtpdx()
        test_bdat_dsn()
        test_oauth()
        test_swaks()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return tap.summary()


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""--fetch-back against the private Postfix + Dovecot + OpenDKIM of
tests/mta/with-mta.sh (tests/mta/fetchback.sh runs this under it): send
with smtpdx, read the message back over IMAP from Dovecot, and check what
a user reads: the Received chain (two hops on the signing path), the
Authentication-Results OpenDKIM wrote (pass for the signed path, none for
unsigned mail, fail for a forged signature), and the read-back failures
(a message that a filter drops after its 250, a wrong IMAP password, an
untrusted certificate), the password never in the output.
Prints TAP and a final "N passed, M failed"."""

import base64
import json
import os
import re
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
P = {k: int(os.environ.get("MTA_" + k, "0") or 0)
     for k in ("SUB", "MX", "IMAPS", "IMAP", "SIGNED")}
HOST = "127.0.0.1"
NAME = "mail.mta.test"
WRONG = "not-the-imap-password"
SECRETS = [s.encode() for s in (PASSWORD, WRONG)] + \
    [base64.b64encode(s.encode()) for s in (PASSWORD, WRONG)] + \
    [base64.b64encode(("\0%s\0%s" % (USER, s)).encode()) for s in (PASSWORD, WRONG)]

tmp = tempfile.mkdtemp(prefix="smtpdx-fbmta.")
pwfile = os.path.join(tmp, "pw")
with open(pwfile, "w") as f:
    f.write(PASSWORD + "\n")
os.chmod(pwfile, 0o600)


def smtpdx(port, url, *extra, imap_pw=None, json_out=True, to=USER, timeout=8):
    args = [SMTPDX, "%s:%d" % (HOST, port), "--helo", "client.mta.test",
            "-f", USER, "-t", to, "--timeout", str(timeout),
            "--servername", NAME, "--fetch-back", url] + list(extra)
    if "--no-ca" in args:
        args.remove("--no-ca")
    else:
        args += ["--cafile", CA]
    args.append("--json" if json_out else "--batch")
    env = dict(os.environ, NO_COLOR="1")
    env.pop("SMTPDX_PASSWORD", None)
    env.pop("SMTPDX_IMAP_PASSWORD", None)
    if imap_pw:
        env["SMTPDX_IMAP_PASSWORD"] = imap_pw
    t0 = time.monotonic()
    p = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120, env=env)
    secs = time.monotonic() - t0
    rep = None
    if json_out:
        try:
            rep = json.loads(p.stdout.decode())
        except ValueError:
            rep = None
    return p, rep, secs


def imaps():
    return "imaps://%s@%s:%d" % (USER, HOST, P["IMAPS"])


def ids(rep):
    return [d["id"] for d in rep["diagnoses"]] if rep else []


def no_secret(p, name):
    leak = [s for s in SECRETS if s in p.stdout or s in p.stderr]
    report(not leak, name + ": no password, plain or base64, in the output",
           repr(leak))


def main():
    if not P["IMAPS"] or not os.path.exists(os.path.join(STATE, "dovecot.conf")):
        tap.skip("--fetch-back against Dovecot", "no MTA_IMAPS: not under with-mta.sh")
        return tap.summary()
    if "protocols = imap" not in open(os.path.join(STATE, "dovecot.conf")).read():
        tap.skip("--fetch-back against Dovecot", "dovecot-imapd is not installed")
        return tap.summary()
    dkim = P["SIGNED"] and os.path.exists(os.path.join(STATE, "opendkim", "sock"))

    # ---- the signed path: submission -> OpenDKIM signs -> port 25 -> verify
    if dkim:
        p, rep, secs = smtpdx(P["SIGNED"], imaps(), "-u", USER,
                              "--password-file", pwfile)
        fb = (rep or {}).get("fetch_back", {})
        rec = fb.get("received", [])
        report(p.returncode == 0 and fb.get("status") == "found",
               "signed path: the message is read back from Dovecot (exit 0)",
               p.stdout.decode()[-2000:] + p.stderr.decode()[-500:])
        report(len(rec) == 2 and all(h["by"].startswith(NAME) for h in rec) and
               rec[0]["with"].startswith("ESMTPSA") and
               rec[1]["from"].startswith("relay.mta.test") and
               all(h["delay"] is not None and 0 <= h["delay"] < 60 for h in rec),
               "signed path: two hops, oldest first (ESMTPSA from the client, "
               "then from relay.mta.test), each with its delay", json.dumps(rec)[:1500])
        ar = [(a["authserv_id"], a["method"], a["result"])
              for a in fb.get("authentication_results", [])]
        report((NAME, "dkim", "pass") in ar and
               any("header.d=mta.test" in a["detail"]
                   for a in fb.get("authentication_results", [])),
               "signed path: OpenDKIM's verdict dkim=pass header.d=mta.test",
               repr(ar))
        report(not [i for i in ids(rep) if i.startswith("fetchback.")],
               "signed path: no fetch-back diagnosis", repr(ids(rep)))
        report("SMTPDX_IMAP_PASSWORD" not in p.stderr.decode(),
               "signed path: the SMTP login's password serves the same IMAP user")
        no_secret(p, "signed path")
    else:
        tap.skip("the signed path (dkim=pass)", "OpenDKIM is not installed")

    # ---- unsigned, to port 25, read back over imap:// with STARTTLS
    url = "imap://%s@%s:%d" % (USER.replace("@", "%40"), HOST, P["IMAP"])
    p, rep, secs = smtpdx(P["MX"], url, imap_pw=PASSWORD, json_out=False)
    out = p.stdout.decode("utf-8", "replace")
    report("the message arrived" in out and re.search(r"a\d+ STARTTLS", out) and
           re.search(r"1\s+\+\d+ s\s+by mail\.mta\.test \(Postfix\)", out) and
           "with ESMTPS" in out,
           "unsigned, imap:// STARTTLS: arrived; the hop by mail.mta.test shown "
           "with its delay", out[-2500:])
    if dkim:
        report(re.search(r"dkim\s+none\s+\(mail\.mta\.test\)", out) and
               "fetchback.dkim_missing" in out and p.returncode == 0,
               "unsigned: dkim=none shown, fetchback.dkim_missing (a warning: "
               "exit 0)", out[-2000:])
    report(re.search(r"a\d+ AUTHENTICATE PLAIN <redacted>", out),
           "unsigned: the login is in the transcript, its payload redacted",
           out[-2500:])
    no_secret(p, "unsigned")

    # ---- a forged DKIM signature: OpenDKIM says fail
    if dkim:
        sig = ("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=mta.test; "
               "s=sel; h=from:to:subject; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; "
               "b=" + base64.b64encode(b"x" * 256).decode())
        p, rep, secs = smtpdx(P["MX"], imaps(), "--header", sig, imap_pw=PASSWORD)
        ar = [(a["method"], a["result"])
              for a in (rep or {}).get("fetch_back", {}).get("authentication_results", [])]
        report(("dkim", "fail") in ar and "fetchback.dkim_fail" in ids(rep) and
               p.returncode == 1 and rep["result"] == "fail",
               "forged signature: dkim=fail read back, fetchback.dkim_fail, exit 1",
               repr(ar) + repr(ids(rep)))
    else:
        tap.skip("a forged DKIM signature", "OpenDKIM is not installed")

    # ---- verdicts the sender wrote itself are shown, not believed
    p, rep, secs = smtpdx(P["MX"], imaps(), "--header",
                          "Authentication-Results: evil.example; dmarc=fail; spf=fail",
                          "--header", "X-Spam-Flag: YES", imap_pw=PASSWORD)
    fb = (rep or {}).get("fetch_back", {})
    forged = [a for a in fb.get("authentication_results", [])
              if a["authserv_id"] == "evil.example"]
    report(len(forged) == 2 and not any(a["trusted"] for a in forged) and
           not [i for i in ids(rep) if i in ("fetchback.dmarc_fail",
                                             "fetchback.spf_fail",
                                             "fetchback.spam_flagged")],
           "forged A-R and spam flag in the message: shown untrusted, no diagnosis",
           json.dumps(fb.get("authentication_results"))[:800] + repr(ids(rep)))

    # ---- accepted (250), then dropped by a filter rule: it never arrives
    p, rep, secs = smtpdx(P["SUB"], imaps(), "-u", USER, "--password-file", pwfile,
                          "--header", "X-Smtpdx-Test: discard", timeout=3)
    fb = (rep or {}).get("fetch_back", {})
    report(rep is not None and rep["steps"][-2]["status"] == "ok" and
           fb.get("status") == "not_found" and "fetchback.not_found" in ids(rep) and
           fb.get("searches", 0) >= 2 and p.returncode == 1,
           "accepted (250), then dropped: fetchback.not_found after several searches",
           json.dumps(fb)[:800] + repr(ids(rep)))
    report(secs < 3 * 8 + 6, "not found: over within the timeouts (%.1f s)" % secs)

    # ---- a wrong IMAP password
    p, rep, secs = smtpdx(P["MX"], imaps(), imap_pw=WRONG)
    ev = [d["evidence"] for d in (rep or {}).get("diagnoses", [])
          if d["id"] == "fetchback.login_failed"]
    report(ev and "NO" in ev[0] and rep["fetch_back"]["status"] == "login_failed" and
           p.returncode == 1,
           "wrong IMAP password: fetchback.login_failed with Dovecot's NO as evidence",
           repr(ids(rep)) + repr(ev))
    no_secret(p, "wrong IMAP password")
    p2, _, _ = smtpdx(P["MX"], imaps(), imap_pw=WRONG, json_out=False)
    no_secret(p2, "wrong IMAP password, --batch")

    # ---- the certificate is checked as for SMTP
    p, rep, secs = smtpdx(P["MX"], imaps(), "--no-ca", "--insecure", imap_pw=PASSWORD)
    # --insecure lets the SMTP side (and the IMAP side) go on: a warning
    report(rep is not None and rep["fetch_back"]["status"] == "found",
           "--insecure goes on past the IMAP certificate too", repr(ids(rep)))
    p, rep, secs = smtpdx(P["MX"], "imaps://%s@localhost:%d" % (USER, P["IMAPS"]),
                          imap_pw=PASSWORD)
    report("fetchback.tls_failed" in ids(rep) and
           rep["fetch_back"]["status"] == "failed",
           "a certificate without the IMAP host's name: fetchback.tls_failed",
           repr(ids(rep)))
    return tap.summary()


if __name__ == "__main__":
    sys.exit(main())

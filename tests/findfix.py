#!/usr/bin/env python3
"""findfix.py - --find-fix on lab scenarios where one change fixes the
session (wrong TLS mode both ways, wrong server name, a sender the login
does not own, a port that is closed while another works), and one where no
client change can (a wrong password): the fix is a complete command line
that then works, no try sends mail, and a refused login is tried at most
once more."""
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import report, summary  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMTPDX = os.path.join(ROOT, "smtpdx")


def run(args, env_extra=None, prefix=()):
    env = dict(os.environ, NO_COLOR="1")
    env.pop("SMTPDX_PASSWORD", None)
    env.update(env_extra or {})
    p = subprocess.run(list(prefix) + [SMTPDX] + args, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                       timeout=120, env=env)
    return p.returncode, p.stdout.decode(errors="replace"), \
        p.stderr.decode(errors="replace")


def findfix(args, **kw):
    rc, out, err = run(args + ["--find-fix", "--json"], **kw)
    try:
        rep = json.loads(out)
    except ValueError:
        rep = {}
    return rc, rep.get("find_fix") or {}, rep, err


cases = [
    ("tls.expected_implicit", "--tls implicit"),
    ("tls.expected_starttls", "--tls starttls"),
    ("tls.cert_hostname_mismatch", "--servername other.example.net"),
    ("rcpt.sender_not_owned", "-f alice@smtpdx.lab"),
    ("auth-user-form", "-u alice@smtpdx.lab"),
]
for sc, change in cases:
    rc, ff, rep, err = findfix(["--lab", sc])
    fix = ff.get("fix") or {}
    report(rc == 1 and fix.get("change") == change,
           "%s: the fix is '%s'" % (sc, change),
           "rc %d find_fix %s %s" % (rc, json.dumps(ff)[:600], err))
    cmd = fix.get("command", "")
    report(cmd.startswith("smtpdx --lab %s" % sc) and cmd.endswith(change)
           and "--find-fix" not in cmd and "--json" not in cmd,
           "%s: the fix is a complete command line" % sc, cmd)
    if cmd:
        args = shlex.split(cmd)[1:]
        rc2, out2, err2 = run(args + ["--batch"])
        report(rc2 == 0 and "result: ok" in out2,
               "%s: the command it gives works" % sc, out2[-400:] + err2)
    rc, out, err = run(["--lab", sc, "--find-fix", "--batch"])
    tries = out.split("--- find-fix", 1)[-1]
    report("--- the fix" in out and "+ S: 354" not in tries,
           "%s: --batch shows the fix and the differing lines; no try "
           "reached DATA" % sc, out[-800:])

# a wrong password: no change fixes it, and the login is tried once more
rc, ff, rep, err = findfix(["--lab", "auth.failed"])
logins = [t for t in ff.get("tried", []) if t["change"].startswith("-u ")]
report(rc == 1 and ff.get("fix") is None and len(ff.get("tried", [])) == 1
       and len(logins) == 1,
       "auth.failed: one more login at most (the other user-name form), "
       "no fix claimed", json.dumps(ff))

# a session that works: nothing to find
rc, ff, rep, err = findfix(["--lab", "ok"])
report(rc == 0 and not ff, "a working session: no find_fix section",
       json.dumps(ff))

# the port: 587 closed, 465 serves implicit TLS (a namespace of our own,
# where those ports are ours)
NS = "smtpdx-ff-%d" % os.getpid()
if os.geteuid() != 0 or not shutil.which("ip") or \
        subprocess.run(["ip", "netns", "add", NS]).returncode != 0:
    import tap
    tap.skip("587 closed, 465 open: the port fix", "cannot make a network namespace")
else:
    tmp = tempfile.mkdtemp(prefix="smtpdx-ff-")
    ns = ["ip", "netns", "exec", NS]
    srv = None
    try:
        subprocess.run(ns + ["ip", "link", "set", "lo", "up"], check=True)
        ca = os.path.join(tmp, "ca.pem")
        srv = subprocess.Popen(ns + [SMTPDX, "--lab", "ok-implicit",
                                     "--lab-server", ca, "-p", "465"],
                               stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL)
        ready = srv.stdout.readline().decode().strip() == "465"
        base = ["127.0.0.1", "-p", "587", "--cafile", ca, "--servername",
                "mail.smtpdx.lab", "-u", "alice", "-f", "alice@smtpdx.lab",
                "-t", "bob@smtpdx.lab", "--timeout", "3"]
        rc, ff, rep, err = findfix(base, prefix=ns,
                                   env_extra={"SMTPDX_PASSWORD": "lab-Secret-42"})
        fix = ff.get("fix") or {}
        report(ready and fix.get("change") == "-p 465 --tls implicit",
               "587 closed, 465 open: the fix is '-p 465 --tls implicit'",
               json.dumps(ff)[:800] + err)
        cmd = fix.get("command", "")
        report("-p 587" not in cmd and cmd.endswith("-p 465 --tls implicit"),
               "the old port is gone from the command line", cmd)
    finally:
        if srv:
            srv.terminate()
            srv.wait(timeout=10)
        subprocess.run(["ip", "netns", "del", NS])
        shutil.rmtree(tmp, ignore_errors=True)

rc, out, err = run(["--sweep", "--find-fix", "127.0.0.1"])
report(rc == 2 and len(err.strip().splitlines()) == 1,
       "--find-fix with --sweep: one line, exit 2", err)
sys.exit(summary())

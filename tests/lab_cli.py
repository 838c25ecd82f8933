#!/usr/bin/env python3
"""lab_cli.py - the lab's command line for workshops (CONTRACT.md "The
lab"): --lab list grouped by stage, every line within 80 columns;
--lab list --json; --lab handout naming every scenario; --lab-server on a
port the class is told (-p), printing the login, with or without CAFILE;
a busy port is one line and exit 2; other clients (swaks, curl) log in."""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import report, summary  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMTPDX = os.path.join(ROOT, "smtpdx")
TMP = tempfile.mkdtemp(prefix="smtpdx-labcli-")


def run(args, timeout=30):
    env = dict(os.environ, SMTPDX_PASSWORD="lab-Secret-42")
    p = subprocess.run([SMTPDX] + args, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                       timeout=timeout, env=env)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


rc, out, err = run(["--lab", "list"])
lines = out.splitlines()
report(rc == 0 and lines and all(l.count("\t") == 1 for l in lines),
       "--lab list: one name<TAB>description a line", out[:300])
wide = [l for l in lines if len(l.expandtabs()) > 80]
report(not wide, "--lab list: every line fits 80 columns", "\n".join(wide))
names = [l.split("\t")[0] for l in lines]
rc, out, err = run(["--lab", "list", "--json"])
try:
    sc = json.loads(out)["scenarios"]
except (ValueError, KeyError):
    sc = []
report([s["name"] for s in sc] == names and
       all(s["stage"] and s["description"] for s in sc),
       "--lab list --json: the same scenarios, each with stage and "
       "description", out[:300])
stages = [s["stage"] for s in sc]
order = []
for s in stages:
    if not order or order[-1] != s:
        order.append(s)
report(len(order) == len(set(order)) and order[0] == "healthy",
       "--lab list: grouped by stage (each stage one run), healthy first",
       repr(order))
report(stages.index("tls") < stages.index("auth") < stages.index("rcpt"),
       "--lab list: stages in the order of a session", repr(order))

rc, out, err = run(["--lab", "handout"])
missing = [n for n in names if "`smtpdx --lab %s`" % n not in out]
report(rc == 0 and out.startswith("# ") and not missing,
       "--lab handout: a Markdown sheet naming every scenario",
       "missing: %r" % missing)
report("lab-Secret-42" in out and "alice" in out,
       "--lab handout: the lab's login is on the sheet")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def serve(args):
    p = subprocess.Popen([SMTPDX, "--lab", "ok", "--lab-server"] + args,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL)
    first = p.stdout.readline().decode().strip()
    rest = [p.stdout.readline().decode() for _ in range(3)]
    return p, first, "".join(rest)


port = free_port()
ca = os.path.join(TMP, "ca.pem")
p, first, rest = serve([ca, "-p", str(port)])
try:
    report(first == str(port), "--lab-server CAFILE -p PORT serves on PORT",
           "first line %r" % first)
    report("alice" in rest and "lab-Secret-42" in rest and ca in rest,
           "--lab-server prints the login and the CA file", rest)
    rc, out, err = run(["127.0.0.1:%d" % port, "--cafile", ca,
                        "--servername", "mail.smtpdx.lab", "-u", "alice",
                        "--from", "alice@smtpdx.lab", "--to",
                        "bob@smtpdx.lab", "--json"])
    report(rc == 0, "a session against the served lab works", err + out[-300:])
    if shutil.which("swaks"):
        s = subprocess.run(["swaks", "--server", "127.0.0.1:%d" % port,
                            "--tls", "--tls-ca-path", ca, "--tls-verify",
                            "--tls-sni", "mail.smtpdx.lab",
                            "--auth", "PLAIN", "--auth-user", "alice",
                            "--auth-password", "lab-Secret-42",
                            "--from", "alice@smtpdx.lab", "--to",
                            "bob@smtpdx.lab"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60)
        report(s.returncode == 0 and b"235 2.7.0 Authentication successful" in s.stdout,
               "swaks logs in to the served lab with the printed login",
               s.stdout.decode(errors="replace")[-600:])
    # RFC 5321 §4.1.1.1: the lab, a witness for clients, refuses an EHLO
    # or HELO name with raw UTF-8 (no SMTPUTF8 before EHLO), takes A-labels
    with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
        f = c.makefile("rb")

        def reply():
            lines = []
            while True:
                l = f.readline()
                lines.append(l)
                if len(l) < 4 or l[3:4] != b"-":
                    return lines
        reply()
        got = []
        for cmd in ("EHLO bücher.test", "HELO bücher.test",
                    "EHLO xn--bcher-kva.test"):
            c.sendall(cmd.encode() + b"\r\n")
            got.append(reply()[-1][:3])
    report(got == [b"501", b"501", b"250"],
           "the lab: EHLO/HELO with a raw UTF-8 name 501, in A-labels 250",
           repr(got))
    rc, out, err = run(["--lab", "ok", "--lab-server", ca, "-p", str(port)])
    report(rc == 2 and len(err.strip().splitlines()) == 1 and str(port) in err,
           "a port already in use: one line, exit 2", "rc %d %r" % (rc, err))
finally:
    p.terminate()
    p.wait(timeout=10)

port2 = free_port()
env_tmp = dict(os.environ, TMPDIR=TMP)
p = subprocess.Popen([SMTPDX, "--lab", "ok", "--lab-server", "-p", str(port2)],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                     stdin=subprocess.DEVNULL, env=env_tmp)
try:
    first = p.stdout.readline().decode().strip()
    rest = "".join(p.stdout.readline().decode() for _ in range(3))
    report(first == str(port2) and os.path.exists(
        os.path.join(TMP, "smtpdx-lab-ca-%d.pem" % port2)),
        "--lab-server -p PORT without CAFILE: serves, CA written to $TMPDIR",
        "%r %r" % (first, rest))
finally:
    p.terminate()
    p.wait(timeout=10)
shutil.rmtree(TMP, ignore_errors=True)
sys.exit(summary())

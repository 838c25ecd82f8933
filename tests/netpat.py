#!/usr/bin/env python3
"""netpat.py - the port advisor reads the network (issue 12): in a network
namespace of our own, lab servers on the real port numbers play networks
that filter (drop SYNs: a listener whose queue is full), refuse, or answer,
as residential ISPs, Hetzner Cloud and Linode do; --sweep must tell
filtered from refused for each port, recognise the pattern, say what it
means, and still recommend a port that works."""
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import report, summary, skip  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMTPDX = os.environ.get("SMTPDX", os.path.join(ROOT, "smtpdx"))

if len(sys.argv) < 2 or sys.argv[1] != "--inner":
    r = subprocess.run(["sh", os.path.join(ROOT, "tests", "netns.sh"),
                        sys.executable, os.path.abspath(__file__), "--inner"])
    if r.returncode == 77:
        print("# SKIP network patterns: no network namespace here")
        print("0 passed, 0 failed, 1 skipped")
        sys.exit(0)
    sys.exit(r.returncode)

TMP = tempfile.mkdtemp(prefix="smtpdx-netpat-")


def lab(name, port, cas, procs):
    ca = os.path.join(TMP, "ca-%d.pem" % port)
    p = subprocess.Popen([SMTPDX, "--lab", name, "--lab-server", ca, "-p",
                          str(port)], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    procs.append(p)
    ok = p.stdout.readline().decode().strip() == str(port)
    cas.append(ca)
    return ok


def sweep(setup, ports="587,465,2525,25"):
    procs, cas = [], []
    try:
        ok = all(lab(name, port, cas, procs) for port, name in setup)
        allca = os.path.join(TMP, "all.pem")
        with open(allca, "w") as out:
            for c in cas:
                if os.path.exists(c):
                    out.write(open(c).read())
        r = subprocess.run([SMTPDX, "--sweep", "--ports", ports, "127.0.0.1",
                            "--cafile", allca, "--servername",
                            "mail.smtpdx.lab", "--timeout", "3", "--json"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=60)
        try:
            rep = json.loads(r.stdout)
        except ValueError:
            rep = {}
        return ok, rep
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=10)


def reach(rep):
    return {p["port"]: p.get("reach") for p in rep.get("sweep", [])}


# a residential network or most clouds: only 25 dropped
ok, rep = sweep([(25, "connect.timeout"), (587, "ok"), (465, "ok-implicit")])
rec = rep.get("recommendation", {})
report(ok and reach(rep) == {587: "answered", 465: "answered",
                              2525: "refused", 25: "filtered"},
       "each port: filtered (25), refused (2525), answered (587, 465)",
       repr(reach(rep)))
report(rec.get("network") == "25-filtered" and rec.get("port") == 587,
       "only 25 filtered: pattern 25-filtered, 587 recommended",
       json.dumps(rec)[:600])
report("Only port 25 is filtered" in rec.get("why", ""),
       "the advice says what the pattern means", rec.get("why", "")[-500:])

# Hetzner Cloud: 25 and 465 dropped, 587 open
ok, rep = sweep([(25, "connect.timeout"), (465, "connect.timeout"),
                 (587, "ok")])
rec = rep.get("recommendation", {})
report(ok and rec.get("network") == "25-465-filtered" and
       rec.get("port") == 587 and "Hetzner" in rec.get("network_why", ""),
       "25 and 465 filtered, 587 open: the Hetzner pattern, 587 recommended",
       json.dumps(rec)[:600])

# Linode/Akamai: 25, 465, 587 dropped; the provider's fallback answers
ok, rep = sweep([(25, "connect.timeout"), (465, "connect.timeout"),
                 (587, "connect.timeout"), (2525, "ok")])
rec = rep.get("recommendation", {})
report(ok and rec.get("network") == "25-465-587-filtered" and
       rec.get("port") == 2525 and "2525" in rec.get("network_why", ""),
       "25, 465, 587 filtered: the Linode pattern, 2525 recommended",
       json.dumps(rec)[:600])

# refused is not filtered: no pattern drawn from refusals
ok, rep = sweep([(587, "ok")])
rec = rep.get("recommendation", {})
report(rec.get("network") is None and reach(rep).get(25) == "refused",
       "refused ports are not a filtering pattern", json.dumps(rec)[:400])

# everything dropped
ok, rep = sweep([(25, "connect.timeout"), (465, "connect.timeout"),
                 (587, "connect.timeout"), (2525, "connect.timeout")])
rec = rep.get("recommendation", {})
report(rec.get("network") == "all-filtered" and not rec.get("port"),
       "every port filtered: said as such, nothing recommended",
       json.dumps(rec)[:400])

# networks that reset: an RST to the SYN although a server listens (a
# firewall's REJECT --reject-with tcp-reset) is "refused"; an RST after the
# handshake, before a word (an IPS or a middlebox cutting the session) is
# "reset"; neither is a filtering pattern
def iptables(*args):
    return subprocess.run(["iptables"] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT).returncode == 0


if iptables("-L", "-n"):
    ipt = iptables("-A", "OUTPUT", "-p", "tcp", "--dport", "2525", "--syn",
                   "-j", "REJECT", "--reject-with", "tcp-reset") and \
        iptables("-A", "OUTPUT", "-p", "tcp", "--dport", "25", "!", "--syn",
                 "-j", "REJECT", "--reject-with", "tcp-reset")
    try:
        ok, rep = sweep([(587, "ok"), (2525, "ok"), (25, "ok-relay")])
    finally:
        iptables("-F", "OUTPUT")
    rec = rep.get("recommendation", {})
    report(ipt and ok and reach(rep) == {587: "answered", 465: "refused",
                                         2525: "refused", 25: "reset"},
           "tcp-reset: 2525 reset at the SYN is refused, 25 reset after the "
           "handshake is reset (servers listen on both)",
           repr(reach(rep)))
    report(rec.get("port") == 587 and rec.get("network") is None and
           "25:" in rec.get("why", ""),
           "resets are no filtering pattern; 587 still recommended",
           json.dumps(rec)[:600])
else:
    skip("tcp-reset networks", "iptables cannot change this namespace")

# a session whose port does not answer: the other ports, in parallel
def session(setup, args):
    procs, cas = [], []
    try:
        ok = all(lab(name, port, cas, procs) for port, name in setup)
        allca = os.path.join(TMP, "all.pem")
        with open(allca, "w") as out:
            for c in cas:
                if os.path.exists(c):
                    out.write(open(c).read())
        env = dict(os.environ, SMTPDX_PASSWORD="lab-Secret-42")
        t0 = time.monotonic()
        r = subprocess.run([SMTPDX, "127.0.0.1", "--cafile", allca,
                            "--servername", "mail.smtpdx.lab", "-u", "alice",
                            "-f", "alice@smtpdx.lab", "-t", "bob@smtpdx.lab",
                            "--json"] + args, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60, env=env)
        secs = time.monotonic() - t0
        try:
            rep = json.loads(r.stdout)
        except ValueError:
            rep = {"diagnoses": []}
        return ok, rep, secs
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=10)


ok, rep, secs = session([(465, "ok-implicit")], ["-p", "587"])
d = [x for x in rep["diagnoses"] if x["id"] == "connect.refused"]
report(ok and d and "port 465 answers with implicit TLS" in d[0]["fix"] and
       "-p 465 --tls implicit" in d[0]["fix"],
       "587 refused: the fix says 465 answers from here, and the option",
       json.dumps(d)[:600])

ok, rep, secs = session([(587, "connect.timeout"), (465, "ok-implicit")],
                        ["-p", "587", "--timeout", "4"])
d = [x for x in rep["diagnoses"] if x["id"] == "connect.timeout"]
report(ok and d and "-p 465 --tls implicit" in d[0]["fix"] and secs < 4 + 2.5,
       "587 filtered: the other ports were probed during the wait (%.1f s "
       "for a 4 s timeout); the fix names 465" % secs, json.dumps(d)[:600])

ok, rep, secs = session([], ["-p", "587", "--timeout", "3"])
d = [x for x in rep["diagnoses"] if x["id"] == "connect.refused"]
report(d and "none works from here either" in d[0]["fix"],
       "nothing anywhere: the fix says no port works from here", 
       json.dumps(d)[:600])
sys.exit(summary())

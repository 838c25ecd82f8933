#!/usr/bin/env python3
"""policy.py - the team's port policy (--policy FILE, CONTRACT.md): every
rule broken is one policy.violation error naming the rule and what was
seen; a session that keeps every rule is judged as without a policy; a
bad file is one line and exit status 2; the sweep recommends only what
the policy allows.  Runs the lab (smtpdx --lab, --lab-server)."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import report, summary  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMTPDX = os.path.join(ROOT, "smtpdx")
TMP = tempfile.mkdtemp(prefix="smtpdx-policy-")


def policy(name, text):
    path = os.path.join(TMP, name + ".ini")
    with open(path, "w") as f:
        f.write(text)
    return path


def run(args, timeout=60):
    env = dict(os.environ, NO_COLOR="1", SMTPDX_PASSWORD="lab-Secret-42")
    p = subprocess.run([SMTPDX] + args, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout, env=env)
    return p.returncode, p.stdout.decode(errors="replace"), \
        p.stderr.decode(errors="replace")


def session(args, pol):
    rc, out, err = run(args + ["--policy", pol, "--json"])
    try:
        rep = json.loads(out)
    except ValueError:
        rep = {"diagnoses": []}
    viol = [d for d in rep.get("diagnoses", [])
            if d["id"] == "policy.violation"]
    return rc, rep, viol, err


def expect_violation(name, args, pol, rule, seen):
    rc, rep, viol, err = session(args, pol)
    ev = [d["evidence"] for d in viol]
    report(rc == 1, "%s: exit status 1" % name, "rc %d %s" % (rc, err))
    report(len(viol) == 1 and ev[0].startswith("policy rule %s:" % rule)
           and seen in ev[0],
           "%s: one policy.violation naming rule %s and '%s'"
           % (name, rule, seen), "violations: %r" % ev)
    report(all(d["severity"] == "error" and d["fix"] and d["explanation"]
               for d in viol), "%s: an error with explanation and fix" % name,
           repr(viol))


# --- a session that keeps every rule is judged as without one
ok_all = policy("ok", """# the lab's healthy server keeps all of these
[policy]
tls = starttls, implicit      # both modes
min-tls = 1.2
auth = scram-sha-256, plain
require-verified-cert = yes
forbid-port-25-submission = yes
""")
rc, rep, viol, err = session(["--lab", "ok"], ok_all)
report(rc == 0 and not viol and rep.get("result") == "ok",
       "lab ok under a policy it keeps: exit 0, no violation",
       "rc %d %r %s" % (rc, viol, err))

# --- each rule, broken
expect_violation("tls rule", ["--lab", "ok"],
                 policy("tls", "[policy]\ntls = implicit\n"),
                 "tls", "starttls")
expect_violation("auth rule", ["--lab", "ok", "--auth", "plain"],
                 policy("auth", "[policy]\nauth = scram-sha-256\n"),
                 "auth", "PLAIN")
expect_violation("min-tls rule", ["--lab", "tls.weak_version"],
                 policy("mintls", "[policy]\nmin-tls = 1.2\n"),
                 "min-tls", "TLS 1.1")
expect_violation("require-verified-cert rule",
                 ["--lab", "tls.cert_untrusted", "--insecure"],
                 policy("cert", "[policy]\nrequire-verified-cert = yes\n"),
                 "require-verified-cert", "not verified")
expect_violation("forbid-port-25-submission rule",
                 ["--lab", "port25.submission"],
                 policy("p25", "[policy]\nforbid-port-25-submission = yes\n"),
                 "forbid-port-25-submission", "port 25")

# --- allow-ports, on a lab server at a port we know
ca = os.path.join(TMP, "ca.pem")
srv = subprocess.Popen([SMTPDX, "--lab", "ok", "--lab-server", ca],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       stdin=subprocess.DEVNULL)
try:
    port = int(srv.stdout.readline().decode().strip())
    target = ["127.0.0.1:%d" % port, "--cafile", ca, "--servername",
              "mail.smtpdx.lab", "-u", "alice", "--from", "alice@smtpdx.lab",
              "--to", "bob@smtpdx.lab"]
    expect_violation("allow-ports rule", target,
                     policy("ports", "[policy]\nallow-ports = 587, 465\n"),
                     "allow-ports", "port %d is not among 587, 465" % port)
    rc, rep, viol, err = session(
        target, policy("ports-ok", "[policy]\nallow-ports = 465, %d\n" % port))
    report(rc == 0 and not viol, "allow-ports listing the port: no violation",
           "rc %d %r %s" % (rc, viol, err))
    # the sweep recommends only what the policy allows
    rc, out, err = run(["--sweep", "--ports", str(port), "127.0.0.1",
                        "--cafile", ca, "--servername", "mail.smtpdx.lab",
                        "--policy", policy("sweep", "[policy]\ntls = implicit\n"),
                        "--json"])
    try:
        rec = json.loads(out).get("recommendation", {})
    except ValueError:
        rec = {"port": "?"}
    report(rc == 1 and not rec.get("port") and "rule tls" in rec.get("why", ""),
           "sweep: a STARTTLS port is not recommended under 'tls = implicit',"
           " and the advice says the policy is why", "rc %d %r" % (rc, rec))
finally:
    srv.terminate()
    srv.wait(timeout=10)

# --- several rules broken: one violation each
rc, rep, viol, err = session(["--lab", "ok", "--auth", "plain"],
                             policy("two", "[policy]\ntls = implicit\n"
                                    "auth = scram-sha-256\n"))
report(len(viol) == 2, "two rules broken: two policy.violation errors",
       repr([d["evidence"] for d in viol]))

# --- the batch text names it too
rc, out, err = run(["--lab", "ok", "--batch", "--policy",
                    policy("tls2", "[policy]\ntls = implicit\n")])
report(rc == 1 and "policy.violation" in out and "policy rule tls:" in out,
       "--batch prints the violation with its rule", out[-600:])

# --- a bad file: one line, exit 2, before anything runs
bad = {
    "unknown key": "[policy]\nallow-port = 587\n",
    "bad port": "[policy]\nallow-ports = 587, http\n",
    "bad mode": "[policy]\ntls = starttls, ssl\n",
    "bad version": "[policy]\nmin-tls = 1.4\n",
    "bad yes/no": "[policy]\nrequire-verified-cert = maybe\n",
    "unknown section": "[polcy]\ntls = implicit\n",
    "no section": "",
    "not INI": "[policy]\nthis is not ini\n",
}
for what, text in bad.items():
    rc, out, err = run(["--lab", "ok", "--batch", "--policy",
                        policy("bad", text)])
    lines = err.strip().splitlines()
    report(rc == 2 and len(lines) == 1 and "--policy" in lines[0] and not out,
           "bad policy file (%s): one line on stderr, exit 2, nothing run"
           % what, "rc %d stderr %r stdout %r" % (rc, err, out[:200]))
rc, out, err = run(["--lab", "ok", "--policy", os.path.join(TMP, "nonesuch")])
report(rc == 2 and "No such file" in err, "missing policy file: exit 2", err)

sys.exit(summary())

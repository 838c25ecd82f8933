#!/usr/bin/env python3
"""profiles.py - --profile NAME from the config file ($XDG_CONFIG_HOME/
smtpdx/config or --config FILE, INI [profile NAME] sections whose keys are
the long options) and --password-command: the command line wins over the
profile; a bad key or value is one line naming the file and exit 2; a
password is never a key of the file; the command's output (the password)
never shows in output, and the command does not inherit SMTPDX_PASSWORD."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import report, summary  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMTPDX = os.path.join(ROOT, "smtpdx")
TMP = tempfile.mkdtemp(prefix="smtpdx-profiles-")
PASSWORD = "lab-Secret-42"


def run(args, env_extra=None):
    env = dict(os.environ, NO_COLOR="1", XDG_CONFIG_HOME=TMP)
    env.pop("SMTPDX_PASSWORD", None)
    env.update(env_extra or {})
    p = subprocess.run([SMTPDX] + args, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                       timeout=60, env=env)
    return p.returncode, p.stdout.decode(errors="replace"), \
        p.stderr.decode(errors="replace")


ca = os.path.join(TMP, "ca.pem")
srv = subprocess.Popen([SMTPDX, "--lab", "ok", "--lab-server", ca],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       stdin=subprocess.DEVNULL)
try:
    port = int(srv.stdout.readline().decode().strip())
    helper = os.path.join(TMP, "pw-helper")
    envdump = os.path.join(TMP, "helper-env")
    with open(helper, "w") as f:
        f.write("#!/bin/sh\nenv > '%s'\necho '%s'\n" % (envdump, PASSWORD))
    os.chmod(helper, 0o700)
    os.makedirs(os.path.join(TMP, "smtpdx"))
    conf = os.path.join(TMP, "smtpdx", "config")
    with open(conf, "w") as f:
        f.write("""; profiles for the tests
[profile lab]
host = 127.0.0.1
port = %d
tls = starttls
cafile = %s
servername = mail.smtpdx.lab
user = alice
password-command = %s --ignored-arg 'quoted word'
from = alice@smtpdx.lab
to = bob@smtpdx.lab, carol@smtpdx.lab
no-send = yes

[profile other]
host = 127.0.0.1
port = 1
""" % (port, ca, helper))

    rc, out, err = run(["--profile", "lab", "--json"],
                       {"SMTPDX_PASSWORD": "env-Secret-99"})
    rep = json.loads(out) if out.startswith("{") else {}
    report(rc == 0 and rep.get("result") == "ok",
           "--profile lab: the session runs from the profile, logged in with "
           "the password the command printed", err + out[-300:])
    sent = [l["text"] for l in rep.get("transcript", []) if l["dir"] == "C"]
    report(sum(t.startswith("RCPT TO:") for t in sent) == 2,
           "to = a, b: both recipients", repr(sent))
    report(not any(t == "DATA" for t in sent), "no-send = yes: no DATA",
           repr(sent))
    report(PASSWORD not in out + err, "the command's output never shows")
    with open(envdump) as f:
        dumped = f.read()
    report("env-Secret-99" not in dumped and "SMTPDX_PASSWORD" not in dumped,
           "the password command does not inherit SMTPDX_PASSWORD")

    rc, out, err = run(["--profile", "lab", "--json", "--tls", "implicit"])
    rep = json.loads(out) if out.startswith("{") else {}
    report(rc == 1 and rep.get("target", {}).get("tls") == "implicit",
           "the command line wins over the profile (--tls implicit)",
           out[:300] + err)

    rc, out, err = run(["--profile", "lab", "--batch", "--config", conf])
    report(rc == 0, "--config FILE names the file", err)

    rc, out, err = run(["--profile", "nope"])
    report(rc == 2 and "no [profile nope]" in err and
           len(err.strip().splitlines()) == 1, "an unknown profile: exit 2", err)

    bad = {
        "unknown key": ("[profile x]\nhost = h\nbogus = 1\n", "bogus"),
        "bad value": ("[profile x]\nhost = h\ntls = sometimes\n", "--tls"),
        "a password key": ("[profile x]\nhost = h\npassword = hunter2\n",
                           "never kept"),
        "not a profile": ("[x]\nhost = h\n", "[x]"),
        "bad flag": ("[profile x]\nhost = h\nno-send = maybe\n", "yes or no"),
    }
    for what, (text, word) in bad.items():
        path = os.path.join(TMP, "bad.ini")
        with open(path, "w") as f:
            f.write(text)
        rc, out, err = run(["--profile", "x", "--config", path, "--batch"])
        report(rc == 2 and word in err and path in err and
               len(err.strip().splitlines()) == 1 and "hunter2" not in err,
               "config with %s: one line naming the file, exit 2" % what, err)

    # --password-command failures
    for what, cmd, word in (("fails", "false", "failed"),
                            ("prints nothing", "true", "no password"),
                            ("does not exist", "/nonexistent/helper",
                             "cannot run")):
        rc, out, err = run(["127.0.0.1:%d" % port, "-u", "alice",
                            "--password-command", cmd, "--batch"])
        report(rc == 2 and word in err and len(err.strip().splitlines()) == 1,
               "--password-command that %s: one line, exit 2" % what, err)
    # helpers that do not simply print and exit: one closes its output and
    # lingers, one leaves a background process holding the pipe (an agent)
    for what, body in (("closes its output and lingers",
                        "echo '%s'\nexec >&-\nsleep 300\n" % PASSWORD),
                       ("leaves a background process on the pipe",
                        "echo '%s'\nsleep 300 &\n" % PASSWORD)):
        h = os.path.join(TMP, "pw-odd")
        with open(h, "w") as f:
            f.write("#!/bin/sh\nexec 2>/dev/null\n" + body)
        os.chmod(h, 0o700)
        try:
            rc, out, err = run(["127.0.0.1", "-p", str(port), "--cafile", ca,
                                "--servername", "mail.smtpdx.lab", "-u",
                                "alice", "--password-command", h, "-f",
                                "alice@smtpdx.lab", "-t", "bob@smtpdx.lab",
                                "--no-send", "--timeout", "5", "--batch"])
        except subprocess.TimeoutExpired:
            rc, out, err = -1, "", "(still waiting after 60 s)"
        report(rc == 0 and "235" in out and PASSWORD not in out + err,
               "--password-command that %s: its line is the password, "
               "nothing waits for it" % what, out[-300:] + err)
    subprocess.run(["pkill", "-f", "^sleep 300$"])
    rc, out, err = run(["--config", conf, "127.0.0.1"])
    report(rc == 2, "--config without --profile: exit 2", err)
finally:
    srv.terminate()
    srv.wait(timeout=10)
    shutil.rmtree(TMP, ignore_errors=True)
sys.exit(summary())

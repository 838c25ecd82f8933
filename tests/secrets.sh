#!/bin/sh
# secrets.sh - the password never shows: every lab scenario, and the real
# MTA cases when tests/mta/setup.sh can run, with a known password given
# through --password-file and through SMTPDX_PASSWORD; stdout, stderr, the
# JSON report and every file smtpdx left in a fresh HOME (history, saved
# transcripts) are searched for the password and its base64 forms (plain,
# PLAIN's "\0user\0pass", LOGIN's separate password, XOAUTH2's).  Also:
# no password on the command line of smtpdx or of the lab server it forks,
# and SMTPDX_PASSWORD gone from their environment (/proc/PID/environ).
# TAP, and a last line "N passed, M failed".
cd "$(dirname "$0")/.." || exit 3
mta=0
if [ "${SECRETS_MTA:-1}" = 1 ] && sh tests/mta/setup.sh >/dev/null 2>&1; then
	mta=1
fi
TESTS_DIR=$(cd "$(dirname "$0")" && pwd) SMTPDX=${SMTPDX:-./smtpdx} MTA_UP=$mta python3 - <<'PY'
import base64, concurrent.futures, os, shutil, signal, socket, subprocess, sys
import tempfile, time

SMTPDX = os.environ["SMTPDX"]
LAB_USER, LAB_PW = "alice", "lab-Secret-42"       # src/lab/lab.h
WRONG_PW = "Kn0wn-Wrong-Pa55"                      # sent, refused: must not show
MTA_USER, MTA_PW = "tester@mta.test", os.environ.get("MTA_PASSWORD", "mta-Secret-77")
sys.path.insert(0, os.environ["TESTS_DIR"])
import tap  # noqa: E402
from tap import report  # noqa: E402


def forms(user, pw):
    b = lambda s: base64.b64encode(s.encode())
    f = [pw.encode(), b(pw), b("\0%s\0%s" % (user, pw)), b("%s\0%s\0%s" % (user, user, pw)),
         b("user=%s\x01auth=Bearer %s\x01\x01" % (user, pw))]
    # a base64 form that starts mid-stream still holds these pieces
    f += [base64.b64encode(("\0" + pw).encode())[4:-4]]
    return [x for x in f if len(x) >= 8]


tmp = tempfile.mkdtemp(prefix="smtpdx-secrets.")


_pwfiles = {}


def pwfile(pw):
    """The password file for pw, written once (runs share it in threads:
    rewriting it while another run reads it would be a race)."""
    if pw not in _pwfiles:
        p = os.path.join(tmp, "pw-%d" % len(_pwfiles))
        with open(p + ".new", "w") as f:
            f.write(pw + "\n")
        os.chmod(p + ".new", 0o600)
        os.rename(p + ".new", p)
        _pwfiles[pw] = p
    return _pwfiles[pw]


def run(args, pw, how, user):
    """One run in a fresh HOME; returns (where, blob) pairs to search."""
    home = tempfile.mkdtemp(dir=tmp)
    env = {k: v for k, v in os.environ.items() if k != "SMTPDX_PASSWORD"}
    env.update(HOME=home, NO_COLOR="1", XDG_DATA_HOME=home + "/.local/share",
               XDG_STATE_HOME=home + "/.local/state", XDG_CONFIG_HOME=home + "/.config")
    cmd = [SMTPDX] + args
    if how == "file":
        cmd += ["--password-file", pwfile(pw)]
    else:
        env["SMTPDX_PASSWORD"] = pw
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=env, timeout=90)
    blobs = [("stdout", p.stdout), ("stderr", p.stderr)]
    for root, _, files in os.walk(home):
        for fn in files:
            with open(os.path.join(root, fn), "rb") as f:
                blobs.append((os.path.join(root, fn)[len(home):], f.read()))
    return p, blobs


def leaks(blobs, secrets):
    return ["%s holds %r" % (w, s) for w, b in blobs for s in secrets if s in b]


def lab_cases():
    out = subprocess.run([SMTPDX, "--lab", "list"], stdout=subprocess.PIPE).stdout.decode()
    names = [l.split("\t")[0] for l in out.splitlines() if l]
    cases = []
    for name in names:
        for how, mode in (("env", "--json"), ("file", "--batch")):
            cases.append(("lab %s %s (%s)" % (name, mode, how), ["--lab", name, mode],
                          LAB_PW, how, LAB_USER))
    # the password sent and refused, through each mechanism that carries it
    for mech in ("plain", "login", "xoauth2", "cram-md5", "scram-sha-256"):
        for how in ("env", "file"):
            cases.append(("lab ok --auth %s, wrong password (%s)" % (mech, how),
                          ["--lab", "ok", "--auth", mech, "--json"], WRONG_PW, how, LAB_USER))
    return cases


def mta_cases():
    ca = "/var/lib/smtpdx-mta/pki/ca.pem"
    base = ["--cafile", ca, "--servername", "mail.mta.test", "-f", MTA_USER, "-t", MTA_USER,
            "-u", MTA_USER, "--timeout", "5"]
    cases = []
    for port, extra in ((10587, []), (10465, ["--tls", "implicit"]), (10587, ["--auth", "login"]),
                        (10025, []), (10587, ["--tls", "none", "--allow-plaintext-auth"]),
                        (10587, ["--servername", "wrong.mta.test"])):
        for how, mode in (("env", "--json"), ("file", "--batch")):
            cases.append(("MTA %d %s %s (%s)" % (port, " ".join(extra), mode, how),
                          ["127.0.0.1:%d" % port] + base + extra + [mode, "--no-send"],
                          MTA_PW, how, MTA_USER))
    cases.append(("MTA 10587 wrong password (env)", ["127.0.0.1:10587"] + base + ["--json", "--no-send"],
                  WRONG_PW, "env", MTA_USER))
    return cases


def check_case(c):
    name, args, pw, how, user = c
    p, blobs = run(args, pw, how, user)
    found = leaks(blobs, forms(user, pw))
    return name, p.returncode, found


def processes():
    """--lab-server: smtpdx and its forked lab server (and a connection
    child) must hold no password in argv or environment."""
    for how in ("env", "file"):
        env = {k: v for k, v in os.environ.items() if k != "SMTPDX_PASSWORD"}
        cmd = [SMTPDX, "--lab-server", os.path.join(tmp, "ca-%s.pem" % how)]
        if how == "env":
            env["SMTPDX_PASSWORD"] = LAB_PW
        else:
            cmd += ["--password-file", pwfile(LAB_PW)]
        srv = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, env=env)
        try:
            port = int(srv.stdout.readline())
            conn = socket.create_connection(("127.0.0.1", port), 5)
            conn.recv(200)                     # greeting: the child is up
            time.sleep(0.1)
            pids = [srv.pid]
            for _ in range(3):                 # children, grandchildren
                for pid in list(pids):
                    try:
                        kids = open("/proc/%d/task/%d/children" % (pid, pid)).read().split()
                    except OSError:
                        kids = []
                    pids += [int(k) for k in kids if int(k) not in pids]
            report(len(pids) >= 3, "--lab-server (%s): smtpdx, the lab server and a "
                   "connection process found (%d)" % (how, len(pids)))
            secrets = forms(LAB_USER, LAB_PW)
            for pid in pids:
                for what in ("cmdline", "environ"):
                    try:
                        data = open("/proc/%d/%s" % (pid, what), "rb").read()
                    except PermissionError:
                        # not dumpable (a secret is loaded): /proc/PID/ is
                        # root's, nobody else reads it, which is the point
                        report(os.getuid() != 0, "/proc/%d/%s: unreadable, the "
                               "process is not dumpable" % (pid, what))
                        continue
                    except OSError as e:
                        report(False, "read /proc/%d/%s" % (pid, what), e)
                        continue
                    bad = [s for s in secrets if s in data]
                    if what == "environ" and b"SMTPDX_PASSWORD=" in data.replace(b"\0", b"\n") \
                            and any(l.startswith(b"SMTPDX_PASSWORD=") and len(l) > 16 and
                                    l[16:].strip(b"\0")
                                    for l in data.split(b"\0")):
                        bad.append(b"SMTPDX_PASSWORD=<value>")
                    report(not bad, "--lab-server (%s): /proc/%s/%s holds no password%s"
                           % (how, "smtpdx" if pid == srv.pid else pid, what,
                              "" if pid == srv.pid else " (a forked child)"), repr(bad))
            conn.close()
        finally:
            srv.send_signal(signal.SIGTERM)
            try:
                srv.wait(5)
            except subprocess.TimeoutExpired:
                srv.kill()


def tui(how, mech):
    """The TUI in tmux: run to the end (r), save the transcript (s), send a
    raw NOOP through ':' (the history file), quit; then search the screen,
    the saved transcript, the history and every other file in HOME."""
    if not shutil.which("tmux"):
        print("# SKIP TUI secrets: tmux is not installed")
        return
    home = tempfile.mkdtemp(dir=tmp)
    sock = os.path.join(tmp, "tmux-%s-%s" % (how, mech))
    cmd = "cd %s && env HOME=%s XDG_STATE_HOME= XDG_DATA_HOME= TERM=xterm-256color " % (home, home)
    if how == "env":
        cmd += "SMTPDX_PASSWORD=%s " % LAB_PW
    cmd += "%s --lab ok --auth %s" % (os.path.abspath(SMTPDX), mech)
    if how == "file":
        cmd += " --password-file " + pwfile(LAB_PW)
    cmd += "; sleep 5"
    t = lambda *a: subprocess.run(["tmux", "-S", sock] + list(a), stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL)
    t("new-session", "-d", "-x", "120", "-y", "40", cmd)
    screens = b""
    try:
        for keys, pause in ((None, 1.0), ("r", 1.5), ("s", 0.8), ("Enter", 0.3), (":", 0.3),
                            ("NOOP", 0.1), ("Enter", 0.8), ("Escape", 0.3), ("q", 0.8)):
            if keys:
                t("send-keys", "-t", "0", keys)
            time.sleep(pause)
            screens += t("capture-pane", "-p", "-t", "0").stdout
    finally:
        t("kill-server")
    blobs = [("the screen", screens)]
    for root, _, files in os.walk(home):
        for fn in files:
            with open(os.path.join(root, fn), "rb") as f:
                blobs.append((os.path.join(root, fn)[len(home):], f.read()))
    found = leaks(blobs, forms(LAB_USER, LAB_PW))
    report(b"lab ok" in screens or b"smtpdx" in screens, "TUI --auth %s (%s): it ran" % (mech, how),
           screens[-300:])
    report(not found, "TUI --auth %s (%s): no password on the screen or in the %d files it "
           "left (saved transcript, history: %s)" % (mech, how, len(blobs) - 1,
                                                    ", ".join(w for w, _ in blobs[1:]) or "none"),
           "\n".join(found[:5]))


def main():
    tui("env", "plain")
    tui("file", "login")
    for pw in (LAB_PW, WRONG_PW, MTA_PW):    # before the threads start
        pwfile(pw)
    cases = lab_cases()
    if os.environ.get("MTA_UP") == "1":
        cases += mta_cases()
    else:
        print("# SKIP ****** no real MTA here (tests/mta/setup.sh cannot run): lab only ******")
    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as ex:
        for name, rc, found in ex.map(check_case, cases):
            report(not found and rc in (0, 1), "%s: no password, no base64 of it, anywhere (exit %d)"
                   % (name, rc), "\n".join(found[:5]))
    processes()
    shutil.rmtree(tmp, ignore_errors=True)
    return tap.summary()


sys.exit(main())
PY
rc=$?
[ $mta = 1 ] && sh tests/mta/teardown.sh
exit $rc

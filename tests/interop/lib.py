"""lib.py - what the interop suite's servers and cases share: a private
state directory, certificates made with certtool, free ports, waiting for a
port to answer, running smtpdx --json, and the TAP accounting with skips
and the known-failing list (known-failing.txt)."""

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HERE = os.path.dirname(os.path.abspath(__file__))
SMTPDX = os.environ.get("SMTPDX", os.path.join(ROOT, "smtpdx"))
# Downloaded .debs and npm packages are kept here between runs (a cache,
# never configuration: nothing in it is read by the system).
CACHE = os.environ.get("SMTPDX_INTEROP_CACHE", "/var/cache/smtpdx-interop")
PASSWORD = "s3cret-Interop"
USER = "alice"

_lock = threading.Lock()
counts = {"passed": 0, "failed": 0, "skipped": 0, "known": 0}
per_server = {}
_n = 0


def load_known_failing():
    """known-failing.txt: 'case-name  what smtpdx says today' a line."""
    known = {}
    try:
        with open(os.path.join(HERE, "known-failing.txt")) as f:
            for line in f:
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                name, _, why = line.partition(" ")
                known[name] = why.strip()
    except FileNotFoundError:
        pass
    return known


KNOWN = load_known_failing()
seen_cases = set()
declared = {}      # server -> the names of its cases, run or skipped


def declare(server, names):
    with _lock:
        declared[server] = set("%s/%s" % (server, n) for n in names)


def _emit(text):
    with _lock:
        print(text)
        sys.stdout.flush()


def _bump(server, key):
    s = per_server.setdefault(server, {"run": 0, "passed": 0, "failed": 0,
                                       "known": 0, "skipped": 0,
                                       "why": ""})
    s[key] += 1
    if key != "skipped":
        s["run"] += 1


def report(server, name, ok, why=""):
    """One case: ok, not ok, or (listed in known-failing.txt) a loud
    known-failing line counted as skipped.  A listed case that passes is
    reported too, so the list is emptied when the fixes land."""
    global _n
    full = "%s/%s" % (server, name)
    with _lock:
        seen_cases.add(full)
        _n += 1
        n = _n
        if ok and full in KNOWN:
            counts["passed"] += 1
            _bump(server, "passed")
            print("ok %d - %s  # now PASSES: remove it from known-failing.txt"
                  % (n, full))
        elif ok:
            counts["passed"] += 1
            _bump(server, "passed")
            print("ok %d - %s" % (n, full))
        elif full in KNOWN:
            counts["skipped"] += 1
            counts["known"] += 1
            _bump(server, "known")
            print("ok %d - %s  # SKIP KNOWN FAILING (%s)" % (n, full, KNOWN[full]))
            for line in str(why).splitlines()[:3]:
                print("#   " + line)
        else:
            counts["failed"] += 1
            _bump(server, "failed")
            print("not ok %d - %s" % (n, full))
            for line in str(why).splitlines()[:20]:
                print("#   " + line)
        sys.stdout.flush()


def skip_server(server, why, ncases):
    """A server that cannot run here: every case of it skipped, loudly."""
    with _lock:
        counts["skipped"] += ncases
        s = per_server.setdefault(server, {"run": 0, "passed": 0, "failed": 0,
                                           "known": 0, "skipped": 0, "why": ""})
        s["skipped"] += ncases
        s["why"] = why
        print("# SKIP ******************************************************")
        print("# SKIP %s: %d cases skipped: %s" % (server, ncases, why))
        print("# SKIP ******************************************************")
        sys.stdout.flush()


def skip_case(server, name, why):
    """One case that cannot run against this server here, loudly."""
    global _n
    with _lock:
        seen_cases.add("%s/%s" % (server, name))
        _n += 1
        counts["skipped"] += 1
        _bump(server, "skipped")
        s = per_server[server]
        if why not in s["why"]:
            s["why"] = (s["why"] + "; " if s["why"] else "") + why
        print("ok %d - %s/%s  # SKIP %s" % (_n, server, name, why))
        sys.stdout.flush()


notes = []


def note(text):
    with _lock:
        notes.append(text)


def summary():
    for n in notes:
        print("# time to diagnosis: " + n)
    print("# --- per server: cases run, passed, known failing (skipped)")
    for server, s in per_server.items():
        line = "#   %-10s run %2d  passed %2d  failed %d  known failing %d" % (
            server, s["run"], s["passed"], s["failed"], s["known"])
        if s["skipped"] - s["known"] > 0 or s["why"]:
            line += "  skipped %d (%s)" % (s["skipped"], s["why"] or "-")
        print(line)
    stale = [k for k in KNOWN if k.split("/")[0] in declared
             and k not in declared[k.split("/")[0]]]
    for k in stale:
        print("# known-failing.txt names %s, which no longer exists" % k)
    if counts["known"]:
        print("# KNOWN FAILING: %d cases smtpdx gets wrong today are listed "
              "in tests/interop/known-failing.txt" % counts["known"])
    print("%d passed, %d failed, %d skipped" % (
        counts["passed"], counts["failed"] + len(stale), counts["skipped"]))
    return 1 if counts["failed"] or stale else 0


# ---- environment -------------------------------------------------------

_handed = set()


class PortTaken(Exception):
    """A port we picked was taken by someone else before our server bound
    it: the runner starts the server again on new ports."""


def free_port(host="127.0.0.1"):
    """A port nothing listens on now: bound to 0 and released (for servers
    that cannot take port 0 themselves).  Never the same port twice in a
    run: servers start in parallel, some slowly, and one must not get a
    port another was given but has not bound yet."""
    while True:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((host, 0))
        port = s.getsockname()[1]
        s.close()
        with _lock:
            if port not in _handed:
                _handed.add(port)
                return port


def wait_port(port, host="127.0.0.1", ceiling=30.0, proc=None, banner=None):
    """Wait until something accepts on the port (or the process died).
    With banner: until it greets with a line containing it, so a stranger
    that took the port is not mistaken for our server."""
    end = time.monotonic() + ceiling
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection((host, port), timeout=2) as c:
                if banner is None:
                    return True
                c.settimeout(max(1.0, end - time.monotonic()))
                first = c.recv(4096).decode("utf-8", "replace")
                if banner.lower() in first.lower():
                    return True
                raise PortTaken("port %d greets with %r, not %s" % (port, first[:80], banner))
        except socket.timeout:
            return False
        except OSError:
            time.sleep(0.05)
    return False


def wait_for(cond, ceiling=20.0):
    end = time.monotonic() + ceiling
    while time.monotonic() < end:
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    return cond()


def make_state():
    d = tempfile.mkdtemp(prefix="smtpdx-interop.")
    os.chmod(d, 0o755)
    with open(os.path.join(d, "password"), "w") as f:
        f.write(PASSWORD + "\n")
    with open(os.path.join(d, "wrong-password"), "w") as f:
        f.write("not-the-password\n")
    os.chmod(os.path.join(d, "password"), 0o600)
    os.chmod(os.path.join(d, "wrong-password"), 0o600)
    return d


def make_certs(state, names=("mx.interop.test",)):
    """A root CA, an intermediate CA, a server leaf signed by the
    intermediate: chain.pem (leaf + intermediate) is what a correct server
    sends, leaf.pem alone is the missing-intermediate case.  Clients trust
    ca.pem only."""
    d = os.path.join(state, "certs")
    os.makedirs(d, exist_ok=True)

    def tmpl(name, text):
        p = os.path.join(d, name)
        with open(p, "w") as f:
            f.write(text)
        return p

    def run(*args):
        subprocess.run(["certtool"] + list(args), check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    j = lambda n: os.path.join(d, n)
    for k in ("ca", "int"):
        run("--generate-privkey", "--key-type=ecdsa", "--outfile", j(k + ".key"))
    # the leaf is RSA: OpenSMTPD 6.8's privilege-separated key engine
    # fails ECDSA handshakes with an internal_error alert
    run("--generate-privkey", "--key-type=rsa", "--bits=2048",
        "--outfile", j("leaf.key"))
    run("--generate-self-signed", "--load-privkey", j("ca.key"),
        "--template", tmpl("ca.tmpl", 'cn = "smtpdx interop root CA"\nca\n'
                           'cert_signing_key\nexpiration_days = 30\n'),
        "--outfile", j("ca.pem"))
    run("--generate-certificate", "--load-privkey", j("int.key"),
        "--load-ca-certificate", j("ca.pem"), "--load-ca-privkey", j("ca.key"),
        "--template", tmpl("int.tmpl", 'cn = "smtpdx interop intermediate CA"\n'
                           'ca\ncert_signing_key\nexpiration_days = 30\n'),
        "--outfile", j("int.pem"))
    dns = "".join('dns_name = "%s"\n' % n for n in names)
    run("--generate-certificate", "--load-privkey", j("leaf.key"),
        "--load-ca-certificate", j("int.pem"), "--load-ca-privkey", j("int.key"),
        "--template", tmpl("leaf.tmpl", 'cn = "%s"\n%sip_address = "127.0.0.1"\n'
                           'tls_www_server\nsigning_key\nencryption_key\n'
                           'expiration_days = 30\n' % (names[0], dns)),
        "--outfile", j("leaf.pem"))
    with open(j("chain.pem"), "w") as out:
        out.write(open(j("leaf.pem")).read() + open(j("int.pem")).read())
    for k in ("ca", "int", "leaf"):
        os.chmod(j(k + ".key"), 0o600)
    return d


# ---- smtpdx ------------------------------------------------------------

def smtpdx(args, timeout=60):
    """Run ./smtpdx --json ARGS; (report dict or None, rc, raw stdout+err)."""
    cmd = [SMTPDX, "--json"] + list(args)
    try:
        t0 = time.monotonic()
        p = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return None, -1, "smtpdx ran longer than %d s: %s" % (timeout, cmd)
    out = p.stdout.decode("utf-8", "replace")
    try:
        rep = json.loads(out)
        rep["_seconds"] = time.monotonic() - t0
    except ValueError:
        rep = None
    return rep, p.returncode, out + p.stderr.decode("utf-8", "replace")


def brief(rep, raw):
    """What smtpdx said, for a failure message."""
    if rep is None:
        return "no JSON report: " + raw[-600:]
    ds = ["%s [%s] %s" % (d["id"], d.get("severity"), d.get("evidence", ""))
          for d in rep.get("diagnoses", [])]
    tr = ["%s %s" % (t["dir"], t["text"]) for t in rep.get("transcript", [])][-10:]
    return "result %s; diagnoses: %s\ntranscript tail:\n  %s" % (
        rep.get("result"), "; ".join(ds) or "none", "\n  ".join(tr))


def error_ids(rep):
    return [d["id"] for d in rep.get("diagnoses", [])
            if d.get("severity") == "error"]


def base_args(ports, host, domain, certs):
    """base(name, t="10"): the options every case of a server starts with:
    its port `name`, its certificate name and our CA, alice@domain as the
    sender, a --timeout of t."""
    return lambda name, t="10": ["127.0.0.1", "-p", str(ports[name]),
                                 "--servername", host, "--cafile",
                                 certs + "/ca.pem", "-f", "alice@" + domain,
                                 "--timeout", t]


def login_args(state, password="password"):
    """-u alice with the password file of the state directory (or the
    wrong one: password="wrong-password")."""
    return ["-u", USER, "--password-file", os.path.join(state, password)]


def read_text(path):
    """A file's text, "" while it does not exist (a mailbox not yet
    written)."""
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def check(rep, raw, expect, evidence=None):
    """(ok, why): `expect` None means a clean run (result ok, no error
    diagnosis); else the first error diagnosis is `expect` (a tuple: any of
    them) and, when given, its evidence contains `evidence` (a server line
    or part of one)."""
    if rep is None:
        return False, brief(rep, raw)
    errs = [d for d in rep.get("diagnoses", []) if d.get("severity") == "error"]
    if expect is None:
        ok = rep.get("result") == "ok" and not errs
        return ok, ("" if ok else "expected a clean run; " + brief(rep, raw))
    want = expect if isinstance(expect, tuple) else (expect,)
    if not errs or errs[0]["id"] not in want:
        return False, "expected %s; %s" % ("/".join(want), brief(rep, raw))
    if evidence and evidence.lower() not in (errs[0].get("evidence") or "").lower():
        return False, "%s, but its evidence does not quote %r; %s" % (
            errs[0]["id"], evidence, brief(rep, raw))
    return True, ""


def server_said(rep, text):
    """Did the transcript show a server line containing text?"""
    return any(t["dir"] == "S" and text.lower() in t["text"].lower()
               for t in (rep or {}).get("transcript", []))


def error_fix(rep):
    """The first error diagnosis's fix, or ''."""
    errs = [d for d in (rep or {}).get("diagnoses", [])
            if d.get("severity") == "error"]
    return errs[0].get("fix", "") if errs else ""


def fix_lacks(text, why):
    """A check: the first error's fix does not say `text` (advice the
    session already followed, or that cannot help)."""
    def check(rep):
        errs = [d for d in (rep or {}).get("diagnoses", [])
                if d.get("severity") == "error"]
        fix = errs[0].get("fix", "") if errs else ""
        return text not in fix, "the fix says %r (%s): %s" % (text, why, fix[:200])
    return check


def stop_group(proc, ceiling=10.0):
    """Stop a server started with start_new_session=True and every process
    it forked (an MTA's delivery and helper processes), and wait until none
    is left: one still running would write into the state directory after
    it is removed."""
    import signal
    if proc is None:
        return
    try:
        pgid = os.getpgid(proc.pid)
    except ProcessLookupError:
        pgid = None
    if pgid is None or pgid != proc.pid:
        if proc.poll() is None:
            proc.terminate()
        pgid = proc.pid
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            break
        end = time.monotonic() + ceiling
        while time.monotonic() < end:
            proc.poll()
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            continue
        break
    try:
        proc.wait(ceiling)
    except subprocess.TimeoutExpired:
        pass

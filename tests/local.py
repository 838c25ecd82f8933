#!/usr/bin/env python3
"""Local safety: password files (FIFO without a writer, directory,
/dev/zero, a long token that must arrive whole at the server, a file
others may read), core dumps off once a secret is loaded, the terminal's
echo back after Ctrl-C at the password prompt, format characters (Cf)
from a server escaped in --batch and --json, and the lab server's limits
(concurrent connections, idle connections).  Servers are our own, on
127.0.0.1, port 0.  Prints TAP and a final "N passed, M failed"."""

import base64
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
import tap
from tap import report

SMTPDX = os.path.abspath(os.environ.get("SMTPDX", "./smtpdx"))
TMP = tempfile.mkdtemp(prefix="smtpdx-local.")


def wait_for(cond, timeout, step=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = cond()
        if v:
            return v
        time.sleep(step)
    return cond()


def run(args, timeout=20, env=None, **kw):
    e = dict(os.environ)
    e.pop("SMTPDX_PASSWORD", None)
    e["NO_COLOR"] = "1"
    if env:
        e.update(env)
    return subprocess.run([SMTPDX] + args, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=timeout, env=e, **kw)


class Server:
    """A scripted plaintext SMTP server: greeting, EHLO, AUTH PLAIN, QUIT.
    Records the AUTH PLAIN payloads it gets; `silent` says nothing."""

    def __init__(self, greeting="220 mx.test ESMTP", ehlo=("250-mx.test",
                 "250 AUTH PLAIN"), silent=False):
        self.greeting, self.ehlo, self.silent = greeting, ehlo, silent
        self.auth = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            threading.Thread(target=self.one, args=(c,), daemon=True).start()

    def one(self, c):
        if self.silent:
            return
        f = c.makefile("rb")
        w = lambda s: c.sendall((s + "\r\n").encode("utf-8"))
        try:
            w(self.greeting)
            for line in f:
                cmd = line.decode("utf-8", "replace").strip()
                verb = cmd.split(" ")[0].upper()
                if verb == "EHLO":
                    for l in self.ehlo:
                        w(l)
                elif verb == "AUTH":
                    parts = cmd.split(" ")
                    if len(parts) >= 3:
                        self.auth.append(parts[2])
                    else:
                        w("334 ")
                        self.auth.append(f.readline().decode().strip())
                    w("235 2.7.0 Authentication successful")
                elif verb == "QUIT":
                    w("221 2.0.0 Bye")
                    return
                else:
                    w("250 2.0.0 Ok")
        except OSError:
            pass

    def close(self):
        self.sock.close()
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass


# ---- password files --------------------------------------------------------

def one_line(err):
    lines = [l for l in err.decode(errors="replace").splitlines() if l.strip()]
    return len(lines) == 1, lines


def test_password_files():
    fifo = os.path.join(TMP, "fifo")
    os.mkfifo(fifo)
    t0 = time.monotonic()
    try:
        p = run(["--password-file", fifo, "-u", "alice", "--batch",
                 "127.0.0.1:1"], timeout=10)
        dt = time.monotonic() - t0
        ok1, lines = one_line(p.stderr)
        report(dt < 1.0 and p.returncode == 2 and ok1 and "fifo" in lines[0],
               "--password-file FIFO without a writer: one-line error, exit 2, "
               "within a second (%.2f s)" % dt, repr((p.returncode, lines)))
    except subprocess.TimeoutExpired:
        report(False, "--password-file FIFO without a writer: finishes",
               "still waiting after 10 s")

    p = run(["--password-file", TMP, "-u", "alice", "--batch", "127.0.0.1:1"])
    ok1, lines = one_line(p.stderr)
    report(p.returncode == 2 and ok1 and "is a directory" in lines[0],
           "--password-file DIR: 'is a directory', exit 2", repr((p.returncode, lines)))

    try:
        p = run(["--password-file", "/dev/zero", "-u", "alice", "--batch",
                 "127.0.0.1:1"], timeout=10)
        ok1, lines = one_line(p.stderr)
        report(p.returncode == 2 and ok1 and "/dev/zero" in lines[0],
               "--password-file /dev/zero: refused in one line, exit 2",
               repr((p.returncode, lines)))
    except subprocess.TimeoutExpired:
        report(False, "--password-file /dev/zero: refused", "still reading after 10 s")

    big = os.path.join(TMP, "big")
    with open(big, "w") as f:
        f.write("x" * (70 * 1024) + "\n")
    os.chmod(big, 0o600)
    p = run(["--password-file", big, "-u", "alice", "--batch", "127.0.0.1:1"])
    ok1, lines = one_line(p.stderr)
    report(p.returncode == 2 and ok1 and "KiB" in lines[0],
           "--password-file over 64 KiB: an error, not a cut", repr((p.returncode, lines)))

    # a 2500-byte OAuth token arrives whole, through the file and the env
    token = ("ya29." + base64.b64encode(os.urandom(1900)).decode())[:2500]
    tok = os.path.join(TMP, "token")
    with open(tok, "w") as f:
        f.write(token + "\n")
    os.chmod(tok, 0o600)
    for how, args, env in (("--password-file", ["--password-file", tok], None),
                           ("SMTPDX_PASSWORD", [], {"SMTPDX_PASSWORD": token})):
        srv = Server()
        p = run(args + ["-u", "alice", "--tls", "none", "--allow-plaintext-auth",
                        "--auth", "plain", "--no-send", "-f", "a@mx.test",
                        "-t", "b@mx.test", "--batch", "--timeout", "5",
                        "127.0.0.1:%d" % srv.port], env=env)
        got = None
        if srv.auth:
            parts = base64.b64decode(srv.auth[0]).split(b"\0")
            got = parts[-1].decode(errors="replace") if len(parts) == 3 else None
        srv.close()
        report(got == token, "a 2500-byte token through %s arrives whole at the "
               "server" % how, "server got %s bytes; exit %d; %s" % (
                   len(got) if got else None, p.returncode, p.stderr[:200]))
        report(p.stderr.count(b"warning") == 0,
               "%s with mode 0600: no warning" % how, p.stderr[:300])

    loose = os.path.join(TMP, "loose")
    with open(loose, "w") as f:
        f.write("pw\n")
    os.chmod(loose, 0o640)
    srv = Server()
    p = run(["--password-file", loose, "-u", "alice", "--tls", "none",
             "--allow-plaintext-auth", "--no-send", "-f", "a@mx.test", "-t",
             "b@mx.test", "--batch", "--timeout", "5", "127.0.0.1:%d" % srv.port])
    srv.close()
    err = p.stderr.decode(errors="replace")
    report("warning" in err and loose in err and "0640" in err,
           "--password-file readable by the group: a warning on stderr", err[:300])


# ---- core dumps ------------------------------------------------------------

def test_core_dumps():
    """A --batch run with a password, waiting on a silent server: its core
    size limit is 0 and it is not dumpable.  Not dumpable shows as
    /proc/PID/ owned by root: so smtpdx runs as an unprivileged user when
    the tests run as root."""
    srv = Server(silent=True)
    pre = []
    uid = os.getuid()
    if uid == 0:
        pre = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        uid = 65534
    e = dict(os.environ, SMTPDX_PASSWORD="core-Secret-9", NO_COLOR="1")
    proc = subprocess.Popen(pre + [SMTPDX, "-u", "alice", "--tls", "none",
                                   "--batch", "--timeout", "10",
                                   "127.0.0.1:%d" % srv.port],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=e)
    try:
        # wait until smtpdx itself (not setpriv) runs and is connected
        def connected():
            try:
                exe = os.readlink("/proc/%d/exe" % proc.pid)
            except OSError:
                return False
            return os.path.basename(exe) == "smtpdx" and srv.conns
        wait_for(connected, 5)
        limits = open("/proc/%d/limits" % proc.pid).read()
        core = [l for l in limits.splitlines() if l.startswith("Max core file size")]
        report(core and core[0].split()[4:6] == ["0", "0"],
               "a secret loaded: core size limit 0 (/proc/PID/limits)", repr(core))
        owner = os.stat("/proc/%d/environ" % proc.pid).st_uid
        report(owner == 0 and uid != 0,
               "a secret loaded: the process is not dumpable (/proc/PID owned "
               "by root, not uid %d)" % uid, "owner %d" % owner)
    finally:
        proc.kill()
        proc.wait()
        srv.close()


# ---- Ctrl-C at the password prompt -----------------------------------------

def tmux(*args, check=True):
    return subprocess.run(["tmux", "-L", SOCK[0]] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, check=check)


SOCK = ["smtpdx-local-%d" % os.getpid()]


def test_prompt_signals():
    if not shutil.which("tmux"):
        report(True, "# SKIP tmux missing")
        return
    srv = Server()
    for sig, key in (("SIGINT", "C-c"), ("SIGQUIT", "C-\\"), ("SIGTERM", None)):
        out = os.path.join(TMP, "stty-%s" % sig)
        # sh runs a trap (not an ignore, which smtpdx would inherit) so it
        # lives on after the signal and records the terminal's modes
        script = ("trap true INT QUIT TERM; %s -u alice --tls none --batch "
                  "127.0.0.1:%d; stty -a > %s; sleep 30" % (SMTPDX, srv.port, out))
        tmux("kill-server", check=False)
        SOCK[0] = "smtpdx-local-%d-%s" % (os.getpid(), sig)
        tmux("new-session", "-d", "-x", "100", "-y", "20", "sh", "-c", script)
        ok = wait_for(lambda: b"password for" in tmux("capture-pane", "-p").stdout, 5)
        if not ok:
            report(False, "%s at the prompt: the prompt shows" % sig,
                   tmux("capture-pane", "-p").stdout.decode()[:300])
            continue
        if key:
            tmux("send-keys", key)
        else:
            pane = int(tmux("display", "-p", "#{pane_pid}").stdout)
            for pid in descendants(pane):
                try:
                    if os.path.basename(os.readlink("/proc/%d/exe" % pid)) == "smtpdx":
                        os.kill(pid, signal.SIGTERM)
                except OSError:
                    pass
        wait_for(lambda: os.path.exists(out) and os.path.getsize(out) > 0, 5)
        modes = open(out).read().split() if os.path.exists(out) else []
        report("echo" in modes and "-echo" not in modes,
               "%s at the no-echo prompt: echo is back afterwards (stty -a)" % sig,
               " ".join(m for m in modes if "echo" in m) or "no stty output")
    tmux("kill-server", check=False)
    srv.close()


# ---- format characters ------------------------------------------------------

CF = "\u061c\u200b\u200e\u202e\u2060\u2066\u00ad\ufeff\U000e0041\U000e007f"


def raw_cf(text):
    return sorted({"U+%04X" % ord(ch) for ch in text
                   if unicodedata.category(ch) == "Cf"})


def test_cf_escaped():
    srv = Server(greeting="220 mx.test ESMTP " + CF + " hello",
                 ehlo=("250-mx.test " + CF, "250 8BITMIME"))
    args = ["--tls", "none", "--no-send", "-f", "a@mx.test", "-t", "b@mx.test",
            "--timeout", "5", "127.0.0.1:%d" % srv.port]
    b = run(args + ["--batch"])
    j = run(args + ["--json"])
    srv.close()
    out = b.stdout.decode("utf-8", "replace") + b.stderr.decode("utf-8", "replace")
    report(not raw_cf(out) and "\\u{061c}" in out and "\\u{e0041}" in out,
           "--batch: every format character (Cf) from the server escaped",
           "raw: %r" % raw_cf(out))
    try:
        rep = json.loads(j.stdout.decode("utf-8"))
        strings = []

        def walk(v):
            if isinstance(v, str):
                strings.append(v)
            elif isinstance(v, dict):
                for x in v.values():
                    walk(x)
            elif isinstance(v, list):
                for x in v:
                    walk(x)
        walk(rep)
        allj = "\n".join(strings)
        report(not raw_cf(allj) and "\\u{00ad}" in allj,
               "--json: every format character (Cf) escaped, in every string",
               "raw: %r" % raw_cf(allj))
    except ValueError as e:
        report(False, "--json: a report", str(e))


# ---- the lab server's limits ------------------------------------------------

def descendants(pid):
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                st = open("/proc/%s/stat" % d).read()
                ppid = int(st.rsplit(")", 1)[1].split()[1])
                kids.setdefault(ppid, []).append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for k in kids.get(p, []):
            out.append(k)
            todo.append(k)
    return out


def start_lab_server(env=None):
    ca = os.path.join(TMP, "lab-ca-%d.pem" % time.monotonic_ns())
    e = dict(os.environ)
    if env:
        e.update(env)
    proc = subprocess.Popen([SMTPDX, "--lab", "ok", "--lab-server", ca],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e)
    port = int(proc.stdout.readline())
    return proc, port


def first_line(s, timeout=5):
    s.settimeout(timeout)
    data = b""
    try:
        while b"\n" not in data:
            k = s.recv(200)
            if not k:
                break
            data += k
    except OSError:
        pass
    return data.split(b"\r\n")[0].decode(errors="replace")


def test_lab_cap():
    proc, port = start_lab_server()
    socks = []
    try:
        for _ in range(200):
            s = socket.create_connection(("127.0.0.1", port))
            socks.append(s)
        lines = [first_line(s) for s in socks]
        n220 = sum(1 for l in lines if l.startswith("220"))
        n421 = sum(1 for l in lines if l.startswith("421 4.3.2"))
        procs = len(descendants(proc.pid))
        report(n220 <= 32 and n421 >= 150 and n220 + n421 == 200,
               "--lab-server, 200 connections: at most 32 served, the rest told "
               "'421 4.3.2' (%d served, %d refused)" % (n220, n421),
               repr(sorted(set(lines))[:5]))
        report(procs <= 34, "--lab-server, 200 connections: %d processes, not 200"
               % procs)
        for s in socks:
            s.close()
        socks = []

        def serves():
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                    return first_line(s, 2).startswith("220")
            except OSError:
                return False
        report(wait_for(serves, 10, 0.2),
               "--lab-server: serves again once those connections end")
    finally:
        for s in socks:
            s.close()
        proc.terminate()
        proc.wait()

    proc, port = start_lab_server({"SMTPDX_LAB_IDLE_TIMEOUT": "2"})
    try:
        with socket.create_connection(("127.0.0.1", port)) as s:
            t0 = time.monotonic()
            g = first_line(s)
            s.settimeout(6)
            data = b""
            try:
                while b"\n" not in data:
                    k = s.recv(200)
                    if not k:
                        break
                    data += k
            except OSError:
                pass
            dt = time.monotonic() - t0
        report(g.startswith("220") and data.startswith(b"421 4.4.2") and dt < 4,
               "--lab-server: an idle connection is told '421 4.4.2' and closed "
               "(after %.1f s, timeout 2 s)" % dt, repr((g, data)))
    finally:
        proc.terminate()
        proc.wait()


def _talker(port, kind, out):
    """A client that never stops talking: NOOPs (kind "noop"), an endless
    DATA ("data"), or bytes after the server's 500 for a too-long line
    ("flood").  out[kind] = (what it heard last, seconds until the
    server closed, or None if it never did within 15 s)."""
    heard = b""
    t0 = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", port)) as s:
            first_line(s)
            s.settimeout(0.2)
            if kind == "data":
                s.sendall(b"EHLO a.example\r\nMAIL FROM:<a@a.example>\r\n"
                          b"RCPT TO:<b@smtpdx.lab>\r\nDATA\r\n")
            elif kind == "flood":
                s.sendall(b"X" * 5000)
            while time.monotonic() - t0 < 15:
                line = {"noop": b"NOOP\r\n", "data": b"more text\r\n",
                        "flood": b"Y" * 65536}[kind]
                try:
                    s.sendall(line)
                except OSError:
                    out[kind] = (heard, time.monotonic() - t0)
                    return
                try:
                    k = s.recv(4096)
                    if not k and kind == "flood":
                        continue    # half-closed: closed is when send fails
                    if not k:
                        out[kind] = (heard, time.monotonic() - t0)
                        return
                    heard = (heard + k)[-200:]
                except socket.timeout:
                    pass
                except OSError:
                    out[kind] = (heard, time.monotonic() - t0)
                    return
                time.sleep(0.1 if kind != "flood" else 0)
    except OSError as e:
        out[kind] = (repr(e).encode(), None)
        return
    out[kind] = (heard, None)


def test_lab_lifetime():
    """A client that keeps talking does not keep a connection of the lab
    for ever (a classroom server has 32): after SMTPDX_LAB_LIFETIME
    seconds (default 600) it hears 421 4.4.2 and is closed, in a command,
    in DATA, or flooding after a '500 line too long' (that linger was 2 s
    per read, so endless while bytes kept coming)."""
    import threading
    proc, port = start_lab_server({"SMTPDX_LAB_IDLE_TIMEOUT": "2",
                                   "SMTPDX_LAB_LIFETIME": "3"})
    try:
        out = {}
        ts = [threading.Thread(target=_talker, args=(port, k, out))
              for k in ("noop", "data", "flood")]
        for t in ts:
            t.start()
        for t in ts:
            t.join(20)
        for kind in ("noop", "data"):
            heard, dt = out.get(kind, (b"", None))
            report(dt is not None and dt < 7 and
                   b"421 4.4.2 connection time limit" in heard,
                   "--lab-server: a client that never stops talking (%s) is "
                   "told 421 4.4.2 and closed after its lifetime (3 s): %s"
                   % (kind, "%.1f s" % dt if dt else "never"), repr(heard[-80:]))
        heard, dt = out.get("flood", (b"", None))
        report(dt is not None and dt < 7 and b"500 5.5.0" in heard,
               "--lab-server: a flood after '500 line too long' is cut off "
               "within the linger time: %s" % ("%.1f s" % dt if dt else "never"),
               repr(heard[-80:]))
    finally:
        proc.terminate()
        proc.wait()


def test_input_files():
    """Every other file option: a FIFO without a writer, a device, a
    directory never hold smtpdx; each is one line and exit 2.  A pipe with
    a writer still works for --body (`--body <(cmd)`)."""
    fifo = os.path.join(TMP, "fifo-in")
    os.mkfifo(fifo)
    cases = [(["--cafile", X], "--cafile") for X in (fifo, "/dev/zero", TMP)]
    cases += [(["--cert", X, "--key", X], "--cert") for X in (fifo, "/dev/zero")]
    cases += [(["--policy", X], "--policy") for X in (fifo, "/dev/zero")]
    cases += [(["--profile", "x", "--config", X], "--profile") for X in (fifo, "/dev/zero")]
    cases += [(["--body", fifo], "--body"), (["--data", fifo], "--data")]
    for args, opt in cases:
        try:
            p = run(["--lab", "ok", "--batch"] + args, timeout=15)
            ok1, lines = one_line(p.stderr)
            report(p.returncode == 2 and ok1 and opt in lines[0],
                   "%s: one line naming %s, exit 2" % (" ".join(args), opt),
                   repr((p.returncode, lines)))
        except subprocess.TimeoutExpired:
            report(False, "%s: finishes" % " ".join(args), "still waiting after 15 s")
    # a pipe whose writer is there: read, as `--body <(cmd)` is
    r, w = os.pipe()
    os.write(w, b"hello from a pipe\n")
    os.close(w)
    p = run(["--lab", "ok", "--batch", "--body", "/dev/fd/%d" % r],
            pass_fds=(r,))
    os.close(r)
    report(p.returncode == 0 and b"hello from a pipe" in p.stdout,
           "--body from a pipe with its writer: sent", p.stderr[-300:])


def main():
    try:
        test_input_files()
        test_password_files()
        test_core_dumps()
        test_prompt_signals()
        test_cf_escaped()
        test_lab_cap()
        test_lab_lifetime()
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    return tap.summary()


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Hostile servers: every one must end in the right diagnosis within its
timeout (plus a little slack), with bounded memory, no crash, and nothing
but visible escapes in the --batch and --json output.

The servers are lab scenarios (src/lab/scenarios.c), so a workshop can show
them too.  Each runs under /usr/bin/time for the peak resident size.
Prints TAP and a final "N passed, M failed"."""

import json
import os
import re
import subprocess
import sys
import tempfile
import time
import unicodedata
import tap
from tap import report

SMTPDX = os.environ.get("SMTPDX", "./smtpdx")
MAX_KIB = int(os.environ.get("HOSTILE_MAX_KIB", 32 * 1024))   # 32 MiB
# Every run must end within its timeout plus this slack: the timeout is
# enforced (a trickling server would keep it going for minutes), with room
# for a loaded 2-core machine.  How close to the timeout it ends is a
# speed figure: tests/bench.sh (make bench).
SLACK = float(os.environ.get("HOSTILE_SLACK", 6))             # seconds
# Sanitizer builds use several times the memory and time: tests/sanitize.sh
# raises the bounds through the environment.

# scenario -> (diagnosis id or None for a clean run, exit, the timeout the
# scenario sets (lab default 5 s), what it does)
CASES = {
    "proto.line_too_long": ("proto.line_too_long", 1, 5, "4 MiB EHLO line"),
    "hostile-endless-line": ("proto.line_too_long", 1, 5,
                             "a greeting line of 'A's without end"),
    "proto.reply_too_long": ("proto.reply_too_long", 1, 5, "1000-line EHLO reply"),
    "hostile-endless-reply": ("proto.reply_too_long", 1, 5,
                              "'451-' continuation lines without end"),
    "hostile-4xx-flood": ("ehlo.rejected", 1, 5, "451 replies without end"),
    "hostile-escapes": (None, 0, 5, "escapes, NUL, bad UTF-8 in greeting and EHLO"),
    "hostile-escapes-all": (None, 0, 5, "escapes, NUL, bad UTF-8 in every reply"),
    "hostile-trickle": ("greeting.timeout", 1, 2, "greeting one byte a second"),
    "hostile-trickle-mid": ("session.timeout", 1, 2,
                            "MAIL's reply one byte a second, inside TLS"),
    "hostile-drop": ("session.closed", 1, 5, "close in the middle of EHLO's reply"),
    "hostile-drop-tls": ("session.closed", 1, 5,
                         "close in the middle of MAIL's reply, inside TLS"),
    "hostile-renegotiate": ("session.closed", 1, 5,
                            "HelloRequests without end inside TLS 1.2: "
                            "at most 64 taken, then the session ends"),
    "hostile-empty-records": ("session.timeout", 1, 5,
                              "records of padding only without end inside "
                              "TLS 1.3: the step deadline ends it"),
    "starttls.injection": ("starttls.injection", 1, 5,
                           "plaintext appended to STARTTLS's 220"),
    "starttls.unexpected_data": ("starttls.unexpected_data", 1, 5,
                                 "TLS garbage right after STARTTLS's 220"),
    "proto.malformed_reply": ("proto.malformed_reply", 1, 5, "not SMTP at EHLO"),
}
# What the escape scenarios put in replies; each must show up escaped.
ESCAPED = [r"\x1b]0;pwned\x07", r"\x1b[2J", r"\x1b[10;10H"]




def timed(args, limit):
    """Run smtpdx under /usr/bin/time; (proc, seconds, peak KiB or None)."""
    fd, tfile = tempfile.mkstemp(prefix="smtpdx-time.")
    os.close(fd)
    env = dict(os.environ)
    env.pop("SMTPDX_PASSWORD", None)
    env["NO_COLOR"] = "1"
    cmd = [SMTPDX] + args
    if os.access("/usr/bin/time", os.X_OK):
        cmd = ["/usr/bin/time", "-f", "%M", "-o", tfile] + cmd
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=limit + 30, env=env)
    except subprocess.TimeoutExpired as e:
        os.unlink(tfile)
        return None, time.monotonic() - t0, None
    secs = time.monotonic() - t0
    kib = None
    try:
        with open(tfile) as f:
            last = f.read().strip().splitlines()
        kib = int(last[-1]) if last and last[-1].isdigit() else None
    except OSError:
        pass
    os.unlink(tfile)
    return p, secs, kib


def raw_controls(data):
    """Bytes a terminal would act on (newline and tab are fine), and C1
    controls / bidi overrides once decoded."""
    bad = [b for b in data if (b < 0x20 and b not in (0x0a, 0x09)) or b == 0x7f]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        return bad + ["invalid UTF-8 at %d" % e.start]
    for ch in text:
        cp = ord(ch)
        if 0x80 <= cp <= 0x9f or cp in (0x202a, 0x202b, 0x202c, 0x202d, 0x202e,
                                         0x2066, 0x2067, 0x2068, 0x2069):
            bad.append("U+%04X" % cp)
    return bad


def json_controls(rep):
    """Any string in the report holding a control character."""
    bad = []

    def walk(v, where):
        if isinstance(v, str):
            for ch in v:
                if unicodedata.category(ch) == "Cc" and ch not in "\n\t":
                    bad.append((where, "U+%04X" % ord(ch)))
        elif isinstance(v, dict):
            for k, x in v.items():
                walk(x, where + "." + k)
        elif isinstance(v, list):
            for i, x in enumerate(v):
                walk(x, "%s[%d]" % (where, i))
    walk(rep, "")
    return bad


def main():
    names = subprocess.run([SMTPDX, "--lab", "list"], stdout=subprocess.PIPE).stdout
    names = {l.split("\t")[0] for l in names.decode().splitlines() if l}
    def one(name):
        want, want_exit, tmo, what = CASES[name]
        if name not in names:
            report(False, "%s: the lab has the scenario (%s)" % (name, what))
            return
        limit = tmo + SLACK
        for mode in ("--json", "--batch"):
            tag = "%s %s (%s)" % (name, mode, what)
            p, secs, kib = timed(["--lab", name, mode], limit)
            if p is None:
                report(False, "%s: ends at all" % tag, "still running after %.0f s" % secs)
                continue
            report(p.returncode >= 0, "%s: no crash (signal %d)" % (tag, -p.returncode)
                   if p.returncode < 0 else "%s: no crash" % tag,
                   p.stderr[-400:])
            report(p.returncode == want_exit, "%s: exit status %d" % (tag, want_exit),
                   "got %d; stderr %r" % (p.returncode, p.stderr[-300:]))
            report(secs <= limit, "%s: done in %.2f s (timeout %g s + %.1f s slack)"
                   % (tag, secs, tmo, SLACK))
            if kib is not None:
                report(kib <= MAX_KIB, "%s: peak memory %d KiB <= %d KiB" % (tag, kib, MAX_KIB))
            bad = raw_controls(p.stdout) + raw_controls(p.stderr)
            report(not bad, "%s: nothing but visible escapes in the output" % tag,
                   "found %r" % sorted(set(map(str, bad)))[:10])
            if mode == "--json":
                try:
                    rep = json.loads(p.stdout.decode("utf-8"))
                except Exception as e:
                    report(False, "%s: one valid JSON object" % tag, "%s %r" % (e, p.stdout[:200]))
                    continue
                ids = [d["id"] for d in rep.get("diagnoses", [])]
                errs = [d["id"] for d in rep.get("diagnoses", []) if d["severity"] == "error"]
                if want is None:
                    report(not errs and rep.get("result") == "ok",
                           "%s: a clean success despite the junk" % tag, repr(ids))
                else:
                    report(errs[:1] == [want], "%s: diagnosed as %s" % (tag, want), repr(ids))
                jb = json_controls(rep)
                report(not jb, "%s: no control character in any JSON string" % tag, repr(jb[:5]))
                if name.startswith("hostile-escapes"):
                    texts = [t["text"] for t in rep["transcript"] if t["dir"] == "S"]
                    hits = sum(1 for t in texts if ESCAPED[0] in t)
                    report(hits >= 2, "%s: the escapes are shown, escaped (%d lines)" % (tag, hits))
                if name == "hostile-escapes-all":
                    # the first line of every reply (334 SASL data aside)
                    firsts, more = [], False
                    for t in rep["transcript"]:
                        if t["dir"] != "S" or not re.match(r"^\d{3}", t["text"]):
                            continue
                        if not more and not t["text"].startswith("334"):
                            firsts.append(t["text"])
                        more = t["text"][3:4] == "-"
                    missing = [t for t in firsts if ESCAPED[0] not in t]
                    report(len(firsts) >= 8 and not missing,
                           "%s: every reply (%d) carries the escapes, visibly"
                           % (tag, len(firsts)), repr(missing[:3]))
            else:
                if want:
                    report(want.encode() in p.stdout, "%s: names %s" % (tag, want))
                if name.startswith("hostile-escapes"):
                    out = p.stdout.decode("utf-8", "replace")
                    report(all(e in out for e in ESCAPED),
                           "%s: OSC, screen clear and cursor move shown as text" % tag)

    tap.parallel(one, list(CASES), int(os.environ.get("HOSTILE_JOBS", "4")))
    tui()
    return tap.summary()


def tui():
    """The TUI in tmux against the escape and flood servers: the window
    title never changes, the escapes show as text, smtpdx stays alive and
    small, and quits on q."""
    import shutil
    if not shutil.which("tmux"):
        tap.skip("TUI against hostile servers", "tmux is not installed")
        return
    tmp = tempfile.mkdtemp(prefix="smtpdx-hostile-tui.")

    def wait_screen(t, words, secs=30):
        """Poll the screen until one of words shows (a generous ceiling)."""
        end = time.monotonic() + secs
        while True:
            screen = t("capture-pane", "-p", "-t", "0").stdout
            if any(w in screen for w in words) or time.monotonic() > end:
                return screen
            time.sleep(0.1)

    for name in ("hostile-escapes-all", "hostile-endless-line", "hostile-4xx-flood"):
        sock = os.path.join(tmp, name)
        t = lambda *a: subprocess.run(["tmux", "-S", sock] + list(a), stdout=subprocess.PIPE,
                                      stderr=subprocess.DEVNULL)
        t("new-session", "-d", "-x", "120", "-y", "40",
          "env HOME=%s TERM=xterm-256color %s --lab %s; sleep 60"
          % (tmp, os.path.abspath(SMTPDX), name))
        t("set-option", "-g", "allow-rename", "on")
        title0 = t("display", "-p", "-t", "0", "#{pane_title}").stdout.strip()
        wait_screen(t, [b"Nothing sent yet"])
        t("send-keys", "-t", "0", "r")
        screen = wait_screen(t, [b"PASSED", b"FAILED"], secs=60)
        report(b"PASSED" in screen or b"FAILED" in screen,
               "TUI %s: the session runs to its verdict" % name, screen[-300:])
        title = t("display", "-p", "-t", "0", "#{pane_title}").stdout.strip()
        pid = t("display", "-p", "-t", "0", "#{pane_pid}").stdout.decode().strip()
        kib = None
        try:   # the pane runs sh -c: smtpdx is its child (or the pane itself)
            kids = open("/proc/%s/task/%s/children" % (pid, pid)).read().split() or [pid]
            for line in open("/proc/%s/status" % kids[0]):
                if line.startswith("VmHWM:"):
                    kib = int(line.split()[1])
        except (OSError, ValueError, IndexError):
            pass
        report(b"pwned" not in title, "TUI %s: the terminal title is untouched (%r)"
               % (name, title.decode(errors="replace")), "before %r" % title0)
        if name == "hostile-escapes-all":
            report(b"\\x1b]0;pwned" in screen, "TUI %s: the escapes show as text" % name,
                   screen[-500:])
        else:
            report(b"smtpdx" in screen, "TUI %s: the TUI is still drawn" % name, screen[-300:])
        if kib is not None:
            report(kib <= MAX_KIB, "TUI %s: peak memory %d KiB <= %d KiB" % (name, kib, MAX_KIB))
        t("send-keys", "-t", "0", "q")
        t("kill-server")


if __name__ == "__main__":
    sys.exit(main())

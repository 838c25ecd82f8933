#!/usr/bin/env python3
"""End-to-end tests: every lab scenario through `smtpdx --json` and
`--batch`, asserting what a user would check: the result, the diagnosis id,
the exit status, and that no secret and no raw control byte ever reaches
the output.  Scenarios run six at a time (E2E_JOBS), each one's lines
printed together.  Prints TAP and a final "N passed, M failed, K skipped"
line."""

import base64
import json
import os
import subprocess
import sys
import tap
from tap import report

SMTPDX = os.environ.get("SMTPDX", "./smtpdx")
PASSWORD = "lab-Secret-42"          # LAB_PASSWORD in src/lab/lab.h
USER = "alice"

# Scenarios whose name is not a diagnosis id: what a user should see.
# name -> (expected diagnosis id or None for a clean run, exit status)
SPECIAL = {
    "ok": (None, 0),
    "ok-implicit": (None, 0),
    "ok-oauth": (None, 0),
    "auth-xoauth2-expired": ("auth.oauth_token_rejected", 1),
    "auth-user-form": ("auth.failed", 1),
    "ok-relay": (None, 0),
    "ok-smtputf8": (None, 0),
    "hostile-escapes": (None, 0),
    "hostile-trickle": ("greeting.timeout", 1),
    "hostile-drop": ("session.closed", 1),
    "hostile-escapes-all": (None, 0),
    "hostile-trickle-mid": ("session.timeout", 1),
    "hostile-endless-line": ("proto.line_too_long", 1),
    "hostile-endless-reply": ("proto.reply_too_long", 1),
    "hostile-4xx-flood": ("ehlo.rejected", 1),
    "hostile-drop-tls": ("session.closed", 1),
    "hostile-renegotiate": ("session.closed", 1),
    "hostile-empty-records": ("session.timeout", 1),
    "tls-weak-sha1": ("tls.weak_key", 1),
    "tls-client-cert-12": ("tls.client_cert_required", 1),
    "tls-client-cert-implicit": ("tls.client_cert_required", 1),
    # the same words, decided by the facts: a foreign domain without a
    # login is a relay refusal, the server's own domain an unknown user
    "relay-no-reason": ("rcpt.relay_denied", 1),
    "own-no-reason": ("rcpt.unknown_user", 1),
    # the lab's mail host (issue 14): the session's own port is dropped;
    # the sweep's advice is tested in tests/sweep.py
    "ports.587-blocked": ("connect.timeout", 1),
    "ports.25-blocked": ("connect.port25_blocked", 1),
    "ports.only-2525": ("connect.timeout", 1),
}

# Secret forms that must never appear anywhere.
SECRETS = [PASSWORD.encode()]
for raw in (PASSWORD, "\0%s\0%s" % (USER, PASSWORD), "\0%s" % PASSWORD):
    SECRETS.append(base64.b64encode(raw.encode()))




def run(args, timeout=60):
    env = dict(os.environ)
    env.pop("SMTPDX_PASSWORD", None)
    env["NO_COLOR"] = "1"
    return subprocess.run([SMTPDX] + args, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=timeout, env=env)


def control_bytes(data):
    """Raw control bytes a terminal would act on (newline and tab are fine)."""
    return [b for b in data if (b < 0x20 and b not in (0x0a, 0x09)) or b == 0x7f]


def check_clean(name, proc):
    bad = control_bytes(proc.stdout) + control_bytes(proc.stderr)
    report(not bad, "%s: no raw control bytes in the output" % name,
           "found bytes: %r" % sorted(set(bad))[:10])
    leaks = [s for s in SECRETS if s in proc.stdout or s in proc.stderr]
    report(not leaks, "%s: no secret in the output" % name, "leaked: %r" % leaks)


def scenarios():
    p = run(["--lab", "list"])
    names = [l.split("\t")[0] for l in p.stdout.decode().splitlines() if l]
    return names


def known_ids():
    p = run(["--list-diagnoses"])
    return {l.split("\t")[0]: l for l in p.stdout.decode().splitlines() if l}


def main():
    ids = known_ids()
    names = scenarios()
    report(len(names) >= 33, "the lab has at least 33 scenarios (%d)" % len(names))
    id_scenarios = [x for x in names if x in ids]
    report(len(id_scenarios) >= 30,
           "at least 30 diagnosis ids reproduced by the lab (%d)" % len(id_scenarios))
    warnings = set()
    for line in ids.values():
        pass

    # Races (the resolver thread, forked lab servers) show as a rare
    # crash: the same scenario many times in a row must always end well.
    if not sys.argv[1:]:
        bad = []
        for i in range(40):
            p = run(["--lab", "hostile-escapes-all" if i % 2 else "ok", "--json"])
            if p.returncode != 0 or not p.stdout.strip():
                bad.append((i, p.returncode, p.stderr[:200]))
        report(not bad, "40 lab sessions in a row: every one ends with exit 0 "
               "and a report", repr(bad[:3]))

    only = sys.argv[1:]
    # the facts behind a decision come from the session itself: the
    # server's EHLO name makes smtpdx.lab its own domain, example.org not
    for name, whose, words in (("own-no-reason", "own", "EHLO name mail.smtpdx.lab"),
                               ("relay-no-reason", "foreign", "EHLO name mail.smtpdx.lab")):
        if only and name not in only:
            continue
        rep = json.loads(run(["--lab", name, "--json"]).stdout.decode("utf-8"))
        ans = [a["answer"] for d in rep.get("diagnoses", [])[:1]
               for a in d["answers"] if a["node"] == "rcpt.out.whose"]
        report(len(ans) == 1 and ans[0].startswith(whose) and words in ans[0],
               "%s: the path says the recipient's domain is %s, and why" % (name, whose),
               repr(ans))
        if whose == "foreign":
            d = rep["diagnoses"][0]
            report("did not log in, although the server offers AUTH" in d["explanation"]
                   and "add -u" in d["fix"],
                   "%s: explains the missing login, fix adds -u" % name,
                   d["explanation"][-300:] + " | " + d["fix"])

    def one(name):
        if only and name not in only:
            return
        if name in SPECIAL:
            want, want_exit = SPECIAL[name]
        elif name in ids:
            want = name
            want_exit = None        # decided from the severity below
        else:
            report(False, "%s: scenario has no expectation in tests/e2e.py" % name)
            return
        try:
            p = run(["--lab", name, "--json"])
        except subprocess.TimeoutExpired:
            report(False, "%s: finished within 60 s" % name)
            return
        try:
            rep = json.loads(p.stdout.decode("utf-8"))
        except Exception as e:
            report(False, "%s: --json prints one valid JSON object" % name,
                   "%s\n%r" % (e, p.stdout[:300]))
            return
        report(True, "%s: --json prints one valid JSON object" % name)
        diags = rep.get("diagnoses", [])
        got = [d["id"] for d in diags]
        errors = [d["id"] for d in diags if d["severity"] == "error"]
        if want is None:
            report(not errors and rep["result"] == "ok",
                   "%s: clean success" % name, "diagnoses: %r" % got)
        else:
            report(want in got, "%s: diagnosed as %s" % (name, want),
                   "got %r" % got)
            if want in got:
                d = diags[got.index(want)]
                report(d["title"] and d["explanation"] and d["fix"] and d["path"]
                       and (d["path"][0] == "root" or d["severity"] != "error") and "{" not in d["fix"],
                       "%s: the diagnosis has title, explanation, fix, path" % name,
                       json.dumps(d)[:400])
                if d["severity"] == "error":
                    report(errors and errors[0] == want,
                           "%s: %s is the first error" % (name, want),
                           "errors: %r" % errors)
                    report(bool(d["evidence"]), "%s: evidence is given" % name)
                if want_exit is None:
                    want_exit = 1 if d["severity"] == "error" else 0
        if want_exit is not None:
            report(p.returncode == want_exit,
                   "%s: exit status %d" % (name, want_exit),
                   "got %d; stderr: %s" % (p.returncode, p.stderr[:300]))
        report(all(k in rep for k in ("target", "result", "steps", "transcript",
                                       "tls", "diagnoses")),
               "%s: the report has the contract's fields" % name)
        steps = [s["name"] for s in rep.get("steps", [])]
        report(steps == ["resolve", "connect", "greeting", "ehlo", "starttls",
                         "tls", "ehlo_tls", "auth", "mail", "rcpt", "data", "quit"],
               "%s: the steps are named and ordered as in the contract" % name,
               repr(steps))
        auth_lines = [t["text"] for t in rep.get("transcript", [])
                      if t["dir"] == "C" and t["text"].upper().startswith("AUTH ")]
        report(all(l.split()[-1] == "<redacted>" or len(l.split()) == 2
                   for l in auth_lines),
               "%s: AUTH payloads are redacted in the transcript" % name,
               repr(auth_lines))
        check_clean(name + " --json", p)
        try:
            b = run(["--lab", name, "--batch"])
        except subprocess.TimeoutExpired:
            report(False, "%s --batch: finished within 60 s" % name)
            return
        report(b.returncode == p.returncode,
               "%s --batch: same exit status as --json" % name,
               "%d vs %d" % (b.returncode, p.returncode))
        if want:
            report(want.encode() in b.stdout,
                   "%s --batch: names the diagnosis" % name)
        check_clean(name + " --batch", b)

    tap.parallel(one, [n for n in names if not only or n in only],
                 int(os.environ.get("E2E_JOBS", "6")))

    return tap.summary()


if __name__ == "__main__":
    sys.exit(main())

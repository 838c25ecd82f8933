#!/usr/bin/env python3
"""workshop.py - the lab as a workshop (issue 14), outside the TUI:
every scenario has a difficulty, a goal that does not give the answer
away, and a side its fix is on; every client-side scenario that fails
is fixable with the settings form's fields: its documented fix, applied
as the options those fields stand for, makes the session pass (and the
session fails without it); --lab mystery refuses to run without the TUI
(one line, exit 2)."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import report, summary, parallel  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMTPDX = os.environ.get("SMTPDX", os.path.join(ROOT, "smtpdx"))
TMP = tempfile.mkdtemp(prefix="smtpdx-workshop-")
# the form's fields, as the options that set the same thing
FIELD_OPTION = {"host": None, "port": "-p", "tls": "--tls", "servername": "--servername",
                "user": "-u", "auth": "--auth", "from": "-f", "to": "-t"}
# client-side scenarios whose fix the form cannot make (the reason)
NOT_FORM = {"dns.no_address": "-4/-6 is not a field of the form",
            "port25.submission": "a warning: the session passes already"}


def run(args, password=None, timeout=60):
    env = dict(os.environ)
    env.pop("SMTPDX_PASSWORD", None)
    if password:
        env["SMTPDX_PASSWORD"] = password
    p = subprocess.run([SMTPDX] + args, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                       timeout=timeout, env=env)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


rc, out, err = run(["--lab", "list", "--json"])
sc = json.loads(out)["scenarios"]
titles = dict(l.split("\t", 1) for l in
              run(["--list-diagnoses"])[1].splitlines())
missing = [s["name"] for s in sc if not (s.get("goal") and s.get("difficulty")
                                         and s.get("fix_side") and s.get("fix"))]
report(not missing, "--lab list --json: every scenario has difficulty, goal, "
       "fix_side and fix (%d scenarios)" % len(sc), repr(missing))
report({s["difficulty"] for s in sc} == {"beginner", "practised", "expert"},
       "difficulties: beginner, practised, expert")
told = []
for s in sc:
    d = s["diagnosis"]
    g = s["goal"].lower()
    if d and (d.lower() in g or titles.get(d, "@").lower() in g):
        told.append(s["name"])
report(not told, "no goal names its diagnosis or the diagnosis' title",
       repr(told))
bad_hints = [s["name"] for s in sc if s["fix_side"] == "client" and
             s["diagnosis"] and s["diagnosis"] in s["hints"][0]]
report(not bad_hints, "no first hint names the diagnosis", repr(bad_hints))

client = [s for s in sc if s["fix_side"] == "client"]
unfixable = [s["name"] for s in client if not s["fixit"] and
             s["name"] not in NOT_FORM]
report(not unfixable and len(client) >= 15,
       "every client-side scenario (%d) is offered in fix-it, but for %s" %
       (len(client), ", ".join(sorted(NOT_FORM))), repr(unfixable))
odd = [s["name"] for s in sc if s["fixit"] and
       (set(s["fix_settings"]) - set(FIELD_OPTION) - {"password"} or
        len(s["hints"]) < 2)]
report(not odd, "each fix-it fix uses only the form's fields, with hints",
       repr(odd))
# the lab's mail host: another port is the fix, made with the form's
# Port (and TLS mode) fields
PORT_FIX = {"ports.587-blocked": ("465", "implicit"),
            "ports.25-blocked": ("587", None),
            "ports.only-2525": ("2525", "starttls")}
byname = {s["name"]: s for s in sc}
for n, (port, tls) in PORT_FIX.items():
    s = byname.get(n, {})
    fs = s.get("fix_settings", {})
    report(s.get("fix_side") == "client" and s.get("fixit") and
           fs.get("port") == port and fs.get("tls") == tls,
           "fix-it %s: client-side, fixed with Port %s%s" %
           (n, port, ", TLS mode " + tls if tls else ""), repr(s))


def one(s):
    fs = dict(s["fix_settings"])
    broken = run(["--lab", s["name"], "--json"])
    if "user" in fs and "password" not in fs:
        fs["password"] = "lab-Secret-42"
    args = ["--lab", s["name"], "--json"]
    for k, v in fs.items():
        if k == "host":
            # with --lab the one positional argument is the scenario: the
            # Host field is set the way a profile sets it (host = )
            cf = os.path.join(TMP, "config-" + s["name"])
            with open(cf, "w") as f:
                f.write("[profile fix]\nhost = %s\n" % v)
            args += ["--config", cf, "--profile", "fix"]
        elif k != "password":
            args += [FIELD_OPTION[k], v]
    rc, out, err = run(args, password=fs.get("password"))
    report(broken[0] == 1 and rc == 0,
           "fix-it %s: fails as set up, passes with %s" %
           (s["name"], json.dumps(fs)), "broken rc %d; fixed rc %d %s" %
           (broken[0], rc, (err + out)[-400:]))


parallel(one, [s for s in sc if s["fixit"]], workers=3)

rc, out, err = run(["--lab", "mystery", "--batch"])
report(rc == 2 and len(err.strip().splitlines()) == 1 and out == "",
       "--lab mystery --batch: refused, one line, exit 2", err + out)
rc, out, err = run(["--lab", "mystery", "--json"])
report(rc == 2 and out == "", "--lab mystery --json: refused, exit 2", err)
rc, out, err = run(["--lab", "fixit:tls.cert_expired"])
report(rc == 2 and "server" in err, "--lab fixit on a server-side scenario: "
       "refused, and it says the fix is on the server", err)
rc, md, err = run(["--lab", "handout"])
rc2, page, err2 = run(["--lab", "handout", "--format", "html"])
import html.parser  # noqa: E402


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.open, self.bad, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        if tag != "meta":
            self.open.append(tag)

    def handle_endtag(self, tag):
        if self.open and self.open[-1] == tag:
            self.open.pop()
        else:
            self.bad.append(tag)

    def handle_data(self, data):
        self.text.append(data)


pg = Page()
pg.feed(page)
text = "".join(pg.text)
names = [s["name"] for s in sc]
lost = [n for n in names if "smtpdx --lab %s" % n not in text]
rows_md = sum(1 for l in md.splitlines() if l.startswith("| `smtpdx --lab "))
report(rc2 == 0 and page.startswith("<!DOCTYPE html>") and not pg.open and
       not pg.bad and not lost and page.count("<tr><td>") == rows_md,
       "--lab handout --format html: a well-formed page with the Markdown "
       "sheet's rows (%d), every scenario named" % rows_md,
       "lost %r, unclosed %r, bad %r" % (lost, pg.open, pg.bad))
report("lab-Secret-42" in text and "Questions to ask" in text,
       "--lab handout --format html: the login and the questions too")
rc, out, err = run(["--lab", "handout", "--format", "pdf"])
report(rc == 2 and out == "" and len(err.splitlines()) == 1,
       "--format pdf: one line, exit 2", err)
rc, out, err = run(["--lab", "ok", "--format", "html", "--batch"])
report(rc == 2 and "--lab handout" in err, "--format outside --lab handout: "
       "refused, exit 2", err)
summary()

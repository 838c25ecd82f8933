#!/usr/bin/env python3
"""interop.py - smtpdx against real MTAs nobody here wrote (issue 9):
Exim 4 and OpenSMTPD (Debian packages extracted, never installed), aiosmtpd
(Debian's python3-aiosmtpd), Haraka and Nodemailer's smtp-server (npm), Postfix's smtp-sink, and a
replay server that speaks dialogues taken from the SMTP tests of curl,
CPython, swaks and Go.

Each case runs ./smtpdx --json against one server behaviour and asserts
the diagnosis id and that its evidence quotes the server's line.  Cases
smtpdx gets wrong today are listed in known-failing.txt: reported loudly,
counted as skipped.  A server that cannot run here has all its cases
skipped with the reason.  Ends in "N passed, M failed, K skipped".

Environment: INTEROP_ONLY=exim,replay runs only those servers (module
names: exim, opensmtpd, aio, haraka, smtpserver, sink, replay); INTEROP_KEEP=1 keeps
the state directory; INTEROP_JOBS (6) smtpdx runs at once."""

import concurrent.futures
import os
import shutil
import sys
sys.dont_write_bytecode = True    # nothing written into the source tree
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib                                   # noqa: E402
from fetchdeb import Skip                    # noqa: E402

SERVERS = ["exim", "opensmtpd", "aio", "haraka", "smtpserver", "sink", "replay"]


# smtpdx runs at once, over all servers (they start in parallel): the
# machine may have 2 cores and other work
SLOTS = threading.BoundedSemaphore(int(os.environ.get("INTEROP_JOBS", 6)))


def run_case(server, case):
    try:
        one_case(server, case)
    except Exception:
        lib.report(server, case[0], False, traceback.format_exc())


def one_case(server, case):
    name, args, expect, evidence, after = case
    if args is None:                  # cannot run here: evidence says why
        lib.skip_case(server, name, evidence)
        return
    with SLOTS:
        rep, rc, raw = lib.smtpdx(args)
    ok, why = lib.check(rep, raw, expect, evidence)
    if ok and expect is None and rc != 0:
        ok, why = False, "exit %d on a clean run; %s" % (rc, lib.brief(rep, raw))
    if ok and expect is not None and rc != 1:
        ok, why = False, "exit %d, not 1, for a diagnosed failure" % rc
    if ok and after is not None:
        ok, why = after(rep)
    lib.report(server, name, ok, why)
    if rep and expect == "tls.expected_implicit":
        # issue 9 §4 wants this in under 3 s at the default timeout: the
        # figure, not an assertion (make bench asserts speed)
        lib.note("%s/%s: diagnosis after %.1f s (default --timeout)" % (
            server, name, rep["_seconds"]))


def run_server(modname, state, certs_for):
    mod = __import__(modname)
    t0 = time.monotonic()
    srv = None
    try:
        for attempt in range(3):
            srv = mod.Server(state, certs_for(mod))
            try:
                srv.start()
                break
            except lib.PortTaken as e:
                srv.stop()
                print("# %s: %s; again on new ports" % (mod.NAME, e))
        else:
            raise Skip("its ports were taken by others three times")
        t_up = time.monotonic() - t0
        cases = mod.cases(srv, state, srv.certs)
    except Skip as e:
        names = [c[0] for c in mod.cases(_Dummy(), state, "")]
        lib.declare(mod.NAME, names)
        lib.skip_server(mod.NAME, str(e), len(names))
        return
    except Exception:
        if srv is not None:
            srv.stop()
        lib.report(mod.NAME, "server starts", False, traceback.format_exc())
        return
    lib.declare(mod.NAME, [c[0] for c in cases])
    t1 = time.monotonic()
    try:
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            for f in [pool.submit(run_case, mod.NAME, c) for c in cases]:
                f.result()
    finally:
        t2 = time.monotonic()
        srv.stop()
    print("# %s: %d cases; %.1f s to start, %.1f s of cases, %.1f s to stop" % (
        mod.NAME, len(cases), t_up, t2 - t1, time.monotonic() - t2))


class _Dummy:
    """Stands in for a server that did not start, to count its cases."""
    ports = type("AnyPort", (dict,), {"__missing__": lambda self, k: 0})()
    certs = ""

    def __getattr__(self, name):
        return lambda *a, **k: ""


def main():
    if not os.access(lib.SMTPDX, os.X_OK):
        print("not ok 1 - %s is built" % lib.SMTPDX)
        print("0 passed, 1 failed, 0 skipped")
        return 1
    only = [s for s in os.environ.get("INTEROP_ONLY", "").split(",") if s]
    state = lib.make_state()
    certs = {}

    def certs_for(mod):
        if not getattr(mod, "USES_TLS", True):
            return ""
        host = getattr(mod, "HOST", "mx.interop.test")
        if host not in certs:
            certs[host] = lib.make_certs(os.path.join(state, host), (host,))
        return certs[host]

    t0 = time.monotonic()
    try:
        mods = [s for s in SERVERS if not only or s in only]
        for s in mods:                # certificates first, one at a time
            certs_for(__import__(s))
        threads = [threading.Thread(target=run_server, args=(s, state, certs_for))
                   for s in mods]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        if not os.environ.get("INTEROP_KEEP"):
            shutil.rmtree(state, ignore_errors=True)
        else:
            print("# state kept in " + state)
    print("# interop suite: %.1f s" % (time.monotonic() - t0))
    return lib.summary()


if __name__ == "__main__":
    sys.exit(main())

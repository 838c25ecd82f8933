#!/usr/bin/env python3
"""proxy.py - --proxy: sessions to the lab through a SOCKS5 proxy and an
HTTP CONNECT proxy of our own on loopback (socks5:// resolved here, the
proxy sees an address; socks5h:// and http://: the proxy sees the name),
with STARTTLS and implicit TLS over the tunnel; proxy credentials (from
the environment, or the URL with a warning) never in any output; each
proxy failure its own diagnosis, with the proxy's code in the evidence;
usage errors in one line and exit 2."""
import json
import os
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import report, summary  # noqa: E402
from proxyd import Proxy  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMTPDX = os.environ.get("SMTPDX", os.path.join(ROOT, "smtpdx"))
TMP = tempfile.mkdtemp(prefix="smtpdx-proxy-")
LABPW = "lab-Secret-42"
PROXYPW = "px-Hidden-77"


def lab(scenario):
    ca = os.path.join(TMP, scenario + ".pem")
    p = subprocess.Popen([SMTPDX, "--lab", scenario, "--lab-server", ca],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         stdin=subprocess.DEVNULL)
    port = int(p.stdout.readline().decode().strip())
    return p, port, ca


def run(args, env=None, timeout=60):
    e = dict(os.environ, SMTPDX_PASSWORD=LABPW)
    e.pop("SMTPDX_PROXY_PASSWORD", None)
    e.update(env or {})
    p = subprocess.run([SMTPDX] + args, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                       timeout=timeout, env=e)
    out, err = p.stdout.decode(), p.stderr.decode()
    try:
        j = json.loads(out)
    except ValueError:
        j = {}
    return p.returncode, j, out, err


def ids(j):
    return [d["id"] for d in j.get("diagnoses", []) if d["severity"] == "error"]


def evidence(j, id_):
    return " ".join(d.get("evidence", "") for d in j.get("diagnoses", [])
                    if d["id"] == id_)


def texts(j):
    return "\n".join(t["text"] for t in j.get("transcript", []))


labp, port, ca = lab("ok")
implp, iport, ica = lab("ok-implicit")
common = ["--cafile", ca, "--servername", "mail.smtpdx.lab", "-u", "alice",
          "--from", "alice@smtpdx.lab", "--to", "bob@smtpdx.lab", "--json",
          "--timeout", "10"]
try:
    # socks5://: the name resolved here, the proxy is given the address
    px = Proxy("socks5")
    rc, j, out, err = run(["localhost:%d" % port, "-4", "--proxy",
                           "socks5://127.0.0.1:%d" % px.port] + common)
    report(rc == 0 and j.get("result") == "ok",
           "socks5://: a whole session (STARTTLS, AUTH, mail) through the "
           "proxy", err + out[-600:])
    report(px.seen == [("ipv4", "127.0.0.1", port)],
           "socks5://: the proxy was asked for the address resolved here",
           repr(px.seen))
    tr = texts(j)
    report("connecting through SOCKS5 proxy 127.0.0.1:%d" % px.port in tr
           and "SOCKS5 reply 0x00: succeeded" in tr,
           "socks5://: the transcript shows the proxy hop and its answer",
           tr[:800])

    # socks5h://: the name goes to the proxy
    px = Proxy("socks5")
    rc, j, out, err = run(["localhost:%d" % port, "--proxy",
                           "socks5h://127.0.0.1:%d" % px.port] + common)
    report(rc == 0 and j.get("result") == "ok" and
           j.get("tls", {}).get("verified") is True,
           "socks5h://: a whole session through the proxy, the certificate "
           "verified for the real server name", err + out[-600:])
    report(px.seen == [("name", "localhost", port)],
           "socks5h://: the proxy was given the name, not an address",
           repr(px.seen))
    report("resolved by the SOCKS5 proxy" in texts(j),
           "socks5h://: the transcript says the proxy resolves the name")

    # implicit TLS over the tunnel
    px = Proxy("socks5")
    rc, j, out, err = run(["localhost:%d" % iport, "--tls", "implicit",
                           "--proxy", "socks5h://127.0.0.1:%d" % px.port,
                           "--cafile", ica] + common[2:])
    report(rc == 0 and j.get("tls", {}).get("verified") is True,
           "socks5h://: implicit TLS through the proxy", err + out[-600:])

    # HTTP CONNECT
    px = Proxy("http")
    rc, j, out, err = run(["localhost:%d" % port, "--proxy",
                           "http://127.0.0.1:%d" % px.port] + common)
    report(rc == 0 and j.get("result") == "ok",
           "http://: a whole session through a CONNECT proxy", err + out[-600:])
    report(px.seen == ["CONNECT localhost:%d HTTP/1.1" % port],
           "http://: CONNECT names the server and port", repr(px.seen))
    report("HTTP/1.1 200 Connection established" in texts(j),
           "http://: the transcript shows the proxy's answer")

    # credentials: from the environment; from the URL with a warning
    px = Proxy("socks5", user="pu", pw=PROXYPW)
    rc, j, out, err = run(["localhost:%d" % port, "--proxy",
                           "socks5h://pu@127.0.0.1:%d" % px.port] + common,
                          env={"SMTPDX_PROXY_PASSWORD": PROXYPW})
    report(rc == 0 and PROXYPW not in out + err,
           "socks5 user/password (RFC 1929) from SMTPDX_PROXY_PASSWORD; the "
           "password in no output", err + out[-400:])
    report(j.get("target", {}).get("proxy") == "socks5h://127.0.0.1:%d" % px.port,
           "JSON: target.proxy names the hop, without credentials",
           repr(j.get("target")))
    rc, j, out, err = run(["localhost:%d" % port, "--proxy",
                           "socks5h://pu:%s@127.0.0.1:%d" % (PROXYPW, px.port)]
                          + common)
    report(rc == 0 and "warning" in err and "ps" in err and
           PROXYPW not in out + err,
           "a password in the --proxy URL works, with a warning, and shows "
           "nowhere", err + out[-400:])
    rc, j, out, err = run(["localhost:%d" % port, "--proxy",
                           "socks5h://pu:wrong@127.0.0.1:%d" % px.port] + common)
    report(rc == 1 and ids(j) == ["proxy.auth_failed"] and
           "RFC 1929" in evidence(j, "proxy.auth_failed"),
           "socks5 wrong password: proxy.auth_failed", repr(ids(j)) + err)
    rc, j, out, err = run(["localhost:%d" % port, "--proxy",
                           "socks5h://127.0.0.1:%d" % px.port] + common)
    report(rc == 1 and ids(j) == ["proxy.auth_failed"] and
           "0xFF" in evidence(j, "proxy.auth_failed"),
           "socks5 credentials wanted, none given: proxy.auth_failed",
           repr(ids(j)) + err)
    hx = Proxy("http", user="pu", pw=PROXYPW)
    rc, j, out, err = run(["localhost:%d" % port, "--proxy",
                           "http://pu@127.0.0.1:%d" % hx.port] + common,
                          env={"SMTPDX_PROXY_PASSWORD": PROXYPW})
    report(rc == 0 and PROXYPW not in out + err,
           "http:// Basic proxy credentials from the environment",
           err + out[-400:])
    rc, j, out, err = run(["localhost:%d" % port, "--proxy",
                           "http://127.0.0.1:%d" % hx.port] + common)
    report(rc == 1 and ids(j) == ["proxy.auth_failed"] and
           "407" in evidence(j, "proxy.auth_failed"),
           "http:// 407: proxy.auth_failed", repr(ids(j)) + err)

    # the proxy could not reach the server
    for code in (3, 4, 5):
        px = Proxy("socks5", reply=code)
        rc, j, out, err = run(["localhost:%d" % port, "--proxy",
                               "socks5h://127.0.0.1:%d" % px.port] + common)
        report(rc == 1 and ids(j) == ["proxy.target_unreachable"] and
               "0x%02x" % code in evidence(j, "proxy.target_unreachable"),
               "SOCKS5 reply 0x%02x: proxy.target_unreachable naming the "
               "code" % code, repr(ids(j)) + evidence(j, "proxy.target_unreachable"))
    for status in ("HTTP/1.1 502 Bad Gateway", "HTTP/1.1 504 Gateway Timeout"):
        hx = Proxy("http", reply=status)
        rc, j, out, err = run(["localhost:%d" % port, "--proxy",
                               "http://127.0.0.1:%d" % hx.port] + common)
        report(rc == 1 and ids(j) == ["proxy.target_unreachable"] and
               status.split()[1] in evidence(j, "proxy.target_unreachable"),
               "HTTP %s: proxy.target_unreachable" % status.split()[1],
               repr(ids(j)))
    px = Proxy("socks5", reply=2)
    rc, j, out, err = run(["localhost:%d" % port, "--proxy",
                           "socks5h://127.0.0.1:%d" % px.port] + common)
    report(rc == 1 and ids(j) == ["proxy.denied"] and
           "0x02" in evidence(j, "proxy.denied"),
           "SOCKS5 reply 0x02 (ruleset): proxy.denied", repr(ids(j)))
    hx = Proxy("http", reply="HTTP/1.1 403 Forbidden")
    rc, j, out, err = run(["localhost:%d" % port, "--proxy",
                           "http://127.0.0.1:%d" % hx.port] + common)
    report(rc == 1 and ids(j) == ["proxy.denied"] and
           "403" in evidence(j, "proxy.denied"),
           "HTTP 403: proxy.denied", repr(ids(j)))

    # nothing at the proxy address
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    dead = s.getsockname()[1]
    s.close()
    rc, j, out, err = run(["localhost:%d" % port, "--proxy",
                           "socks5://127.0.0.1:%d" % dead] + common)
    report(rc == 1 and ids(j) == ["proxy.refused"] and
           str(dead) in evidence(j, "proxy.refused"),
           "nothing at the proxy address: proxy.refused (not connect.refused)",
           repr(ids(j)))
    # not a proxy: the SMTP server itself at the proxy address
    for scheme in ("socks5", "http"):
        rc, j, out, err = run(["localhost:%d" % port, "--proxy",
                               "%s://127.0.0.1:%d" % (scheme, port)] + common)
        report(rc == 1 and ids(j) == ["proxy.protocol_error"],
               "%s:// at an SMTP server: proxy.protocol_error" % scheme,
               repr(ids(j)) + evidence(j, "proxy.protocol_error"))
    # a proxy that accepts and never answers, under the step's deadline
    px = Proxy("socks5", silent=True)
    rc, j, out, err = run(["localhost:%d" % port, "--proxy",
                           "socks5://127.0.0.1:%d" % px.port] + common[:-1]
                          + ["1"])
    report(rc == 1 and ids(j) == ["proxy.timeout"],
           "a silent proxy: proxy.timeout within --timeout", repr(ids(j)))
    # the proxy's own name does not resolve
    rc, j, out, err = run(["localhost:%d" % port, "--proxy",
                           "socks5h://proxy.invalid:1080"] + common)
    report(rc == 1 and ids(j) == ["proxy.not_found"],
           "a proxy name that does not resolve: proxy.not_found", repr(ids(j)))
finally:
    labp.terminate()
    implp.terminate()
    labp.wait()
    implp.wait()

# usage: one line, exit 2
for args, what in (
        (["--proxy", "ftp://127.0.0.1:21", "h"], "an unknown scheme"),
        (["--proxy", "socks5://127.0.0.1", "h"], "no port"),
        (["--proxy", "socks5://127.0.0.1:99999", "h"], "a bad port"),
        (["--proxy", "socks5://127.0.0.1:1080", "--sweep", "h"], "with --sweep"),
        (["--proxy", "socks5://127.0.0.1:1080", "--mx", "h"], "with --mx")):
    rc, j, out, err = run(args)
    report(rc == 2 and len(err.strip().splitlines()) == 1 and "--proxy" in err,
           "--proxy usage error, %s: one line, exit 2" % what, err)
rc, j, out, err = run(["--proxy", "socks5://u:%s@127.0.0.1:1" % PROXYPW,
                       "--sweep", "h"])
report(PROXYPW not in out + err, "a usage error never repeats the proxy password",
       err)

sys.exit(summary())

#!/usr/bin/env python3
"""middlebox.py - answered by something that is not the server (issue 12).

In a network namespace of our own, iptables REDIRECTs the real port
numbers to small proxies of ours, so that smtpdx, connecting to 587 or
465, is answered by:

  - a Cisco ASA-like SMTP inspection: the greeting masked with asterisks,
    STARTTLS in the EHLO reply overwritten as XXXXXXXA (what the ASA does
    to a real client), or EHLO itself turned into XXXX (what it does to a
    command it does not let through);
  - a TLS-intercepting proxy that ends STARTTLS and implicit TLS with a
    certificate of its own CA ("FortiGate CA", O=Fortinet, as FortiGate's
    deep inspection signs), or of a CA that names no product, and relays
    to the lab behind it.

smtpdx must say net.middlebox_banner / tls.intercepted, the sweep must
classify the port as reach "intercepted" and never recommend it; a normal
server that greets with an internal name is NOT flagged.  And the provider
is recognised from the greeting and the MX name (a server on loopback
greeting as Gmail)."""
import json
import os
import select
import socket
import ssl
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import report, summary  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMTPDX = os.environ.get("SMTPDX", os.path.join(ROOT, "smtpdx"))

if len(sys.argv) < 2 or sys.argv[1] != "--inner":
    r = subprocess.run(["sh", os.path.join(ROOT, "tests", "netns.sh"),
                        sys.executable, os.path.abspath(__file__), "--inner"])
    if r.returncode == 77:
        print("# SKIP middleboxes: no network namespace here")
        print("0 passed, 0 failed, 1 skipped")
        sys.exit(0)
    sys.exit(r.returncode)

TMP = tempfile.mkdtemp(prefix="smtpdx-middlebox-")
PASSWORD = "lab-Secret-42"


def run(*cmd):
    return subprocess.run(list(cmd), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=60)


# ---- iptables: the real port numbers go to our proxies -------------------

def have_iptables():
    r = subprocess.run(["iptables", "-t", "nat", "-L", "-n"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return r.returncode == 0


def redirect(port, to):
    run("iptables", "-t", "nat", "-A", "OUTPUT", "-p", "tcp", "-d",
        "127.0.0.1", "--dport", str(port), "-j", "REDIRECT", "--to-ports",
        str(to))


def flush():
    run("iptables", "-t", "nat", "-F", "OUTPUT")


# ---- certificates: an inspection CA, and one that names no product -------

def make_ca(name, cn, org):
    d = os.path.join(TMP, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "ca.tmpl"), "w") as f:
        f.write('cn = "%s"\norganization = "%s"\nunit = "Certificate '
                'Authority"\nca\ncert_signing_key\nexpiration_days = 30\n'
                % (cn, org))
    with open(os.path.join(d, "leaf.tmpl"), "w") as f:
        f.write('cn = "mail.smtpdx.lab"\ndns_name = "mail.smtpdx.lab"\n'
                'tls_www_server\nsigning_key\nencryption_key\n'
                'expiration_days = 30\n')
    p = lambda x: os.path.join(d, x)  # noqa: E731
    ok = True
    for cmd in (["certtool", "--generate-privkey", "--key-type=ecdsa",
                 "--outfile", p("ca.key")],
                ["certtool", "--generate-self-signed", "--load-privkey",
                 p("ca.key"), "--template", p("ca.tmpl"), "--outfile",
                 p("ca.pem")],
                ["certtool", "--generate-privkey", "--key-type=ecdsa",
                 "--outfile", p("leaf.key")],
                ["certtool", "--generate-certificate", "--load-privkey",
                 p("leaf.key"), "--load-ca-certificate", p("ca.pem"),
                 "--load-ca-privkey", p("ca.key"), "--template",
                 p("leaf.tmpl"), "--outfile", p("leaf.pem")]):
        ok = ok and run(*cmd).returncode == 0
    return ok and {"ca": p("ca.pem"), "cert": p("leaf.pem"),
                   "key": p("leaf.key")}


# ---- the proxies ------------------------------------------------------------

def read_reply(f):
    """One SMTP reply (all its lines) from a file object, as bytes."""
    out = b""
    while True:
        line = f.readline()
        if not line:
            return out
        out += line
        if len(line) < 4 or line[3:4] != b"-":
            return out


def pump(a, b):
    """Relay both ways until either side closes (SSL-aware)."""
    peer = {a: b, b: a}
    socks = [a, b]
    try:
        while True:
            ready = [s for s in socks
                     if isinstance(s, ssl.SSLSocket) and s.pending()]
            if not ready:
                ready, _, _ = select.select(socks, [], [], 30)
                if not ready:
                    return
            for s in ready:
                try:
                    data = s.recv(65536)
                except (OSError, ssl.SSLError):
                    data = b""
                if not data:
                    return
                peer[s].sendall(data)
    except (OSError, ssl.SSLError):
        pass
    finally:
        for s in socks:
            try:
                s.close()
            except OSError:
                pass


class Proxy:
    """A transparent proxy: listens on an ephemeral port (iptables sends
    the real port there) and relays to the lab on upstream."""

    def __init__(self, mode, upstream, ca=None):
        self.mode, self.upstream, self.ca = mode, upstream, ca
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(16)
        self.port = self.lsock.getsockname()[1]
        if ca:
            self.sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.sctx.load_cert_chain(ca["cert"], ca["key"])
        self.cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self.cctx.check_hostname = False
        self.cctx.verify_mode = ssl.CERT_NONE
        threading.Thread(target=self.serve, daemon=True).start()

    def close(self):
        self.lsock.close()

    def serve(self):
        while True:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            threading.Thread(target=self.handle, args=(c,),
                             daemon=True).start()

    def handle(self, c):
        try:
            c.settimeout(30)
            u = socket.create_connection(("127.0.0.1", self.upstream), 10)
            u.settimeout(30)
            if self.mode == "tls-implicit":
                cs = self.sctx.wrap_socket(c, server_side=True)
                us = self.cctx.wrap_socket(u)
                pump(cs, us)
            elif self.mode == "tls-starttls":
                self.starttls(c, u)
            else:
                self.inspect(c, u)
        except (OSError, ssl.SSLError):
            try:
                c.close()
            except OSError:
                pass

    def starttls(self, c, u):
        """Relay plaintext until STARTTLS; then end the client's TLS with
        our certificate, and start our own TLS to the server."""
        cf, uf = c.makefile("rb"), u.makefile("rb")
        c.sendall(read_reply(uf))
        while True:
            line = cf.readline()
            if not line:
                return
            u.sendall(line)
            reply = read_reply(uf)
            if line.upper().startswith(b"STARTTLS") and \
                    reply.startswith(b"220"):
                us = self.cctx.wrap_socket(u)
                c.sendall(reply)
                cs = self.sctx.wrap_socket(c, server_side=True)
                pump(cs, us)
                return
            c.sendall(reply)

    def inspect(self, c, u):
        """Cisco ASA ESMTP inspection, as its documentation says: the
        banner masked, EHLO keywords it does not know masked (STARTTLS
        becomes XXXXXXXA, same length), a command it does not let through
        replaced with X's."""
        def down():
            try:
                down_()
            except OSError:
                pass

        def down_():
            f = u.makefile("rb")
            first = True
            while True:
                line = f.readline()
                if not line:
                    break
                if first:
                    body = line[4:].rstrip(b"\r\n")
                    line = line[:4] + b"*" * len(body) + b"\r\n"
                    first = False
                line = line.replace(b"STARTTLS", b"XXXXXXXA")
                c.sendall(line)
            c.close()

        def up():
            f = c.makefile("rb")
            while True:
                line = f.readline()
                if not line:
                    break
                if self.mode == "asa-xxxx" and \
                        line[:4].upper() in (b"EHLO", b"HELO"):
                    line = b"XXXX" + line[4:]
                u.sendall(line)
            u.close()
        t = threading.Thread(target=down, daemon=True)
        t.start()
        try:
            up()
        except OSError:
            pass
        t.join(30)


class FakeServer:
    """A tiny SMTP server on loopback: greets with greeting, offers ehlo
    (a list of keywords), answers AUTH with auth_reply."""

    def __init__(self, greeting, ehlo, auth_reply=None):
        self.greeting, self.ehlo, self.auth_reply = greeting, ehlo, auth_reply
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(8)
        self.port = self.lsock.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def close(self):
        self.lsock.close()

    def serve(self):
        while True:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            threading.Thread(target=self.handle, args=(c,),
                             daemon=True).start()

    def handle(self, c):
        try:
            c.settimeout(20)
            f = c.makefile("rb")
            c.sendall(self.greeting.encode() + b"\r\n")
            while True:
                line = f.readline()
                if not line:
                    return
                verb = line[:4].upper()
                if verb == b"EHLO":
                    lines = [self.greeting.split()[1]] + self.ehlo
                    out = "".join("250-%s\r\n" % x for x in lines[:-1])
                    c.sendall((out + "250 %s\r\n" % lines[-1]).encode())
                elif verb == b"AUTH" and self.auth_reply:
                    c.sendall(self.auth_reply.encode())
                elif verb == b"QUIT":
                    c.sendall(b"221 2.0.0 closing connection\r\n")
                    return
                else:
                    c.sendall(b"250 2.0.0 OK\r\n")
        except OSError:
            pass
        finally:
            c.close()


# ---- the lab behind the proxies --------------------------------------------

procs = []


def lab(name, port):
    ca = os.path.join(TMP, "lab-%d.pem" % port)
    p = subprocess.Popen([SMTPDX, "--lab", name, "--lab-server", ca, "-p",
                          str(port)], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    procs.append(p)
    ok = p.stdout.readline().decode().strip() == str(port)
    return ok and ca


def cat(out, *files):
    path = os.path.join(TMP, out)
    with open(path, "w") as o:
        for f in files:
            o.write(open(f).read())
    return path


def session(port, cafile, extra=()):
    env = dict(os.environ, SMTPDX_PASSWORD=PASSWORD)
    r = subprocess.run([SMTPDX, "127.0.0.1", "-p", str(port), "--cafile",
                        cafile, "--servername", "mail.smtpdx.lab", "-u",
                        "alice", "-f", "alice@smtpdx.lab", "-t",
                        "bob@smtpdx.lab", "--timeout", "5", "--json"] +
                       list(extra), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60, env=env)
    try:
        return json.loads(r.stdout), r.returncode
    except ValueError:
        return {"diagnoses": [], "raw": r.stdout[-600:]}, r.returncode


def sweep(ports, cafile):
    r = subprocess.run([SMTPDX, "--sweep", "--ports", ports, "127.0.0.1",
                        "--cafile", cafile, "--servername", "mail.smtpdx.lab",
                        "--timeout", "5", "--json"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    try:
        return json.loads(r.stdout)
    except ValueError:
        return {}


def ids(rep, sev=None):
    return [d["id"] for d in rep.get("diagnoses", [])
            if sev is None or d["severity"] == sev]


def diag(rep, id_):
    for d in rep.get("diagnoses", []):
        if d["id"] == id_:
            return d
    return {}


def reach(rep):
    return {p["port"]: p.get("reach") for p in rep.get("sweep", [])}


if not have_iptables():
    print("# SKIP middleboxes: iptables cannot change this namespace")
    print("0 passed, 0 failed, 1 skipped")
    sys.exit(0)

try:
    labca = lab("ok", 10587)
    labca465 = lab("ok-implicit", 10465)
    report(labca and labca465, "the lab listens behind the proxies")
    labcas = cat("labs.pem", labca, labca465)
    forti = make_ca("forti", "FortiGate CA", "Fortinet")
    plain = make_ca("plain", "Example Corp Network CA", "Example Corp")
    report(forti and plain, "certtool made an inspection CA and a plain one")

    # -- a normal server first: an internal greeting name is no mark -------
    redirect(587, 10587)
    rep, rc = session(587, labcas)
    report(rc == 0 and not [i for i in ids(rep) if i.startswith("net.") or
                            i == "tls.intercepted"],
           "the lab (greeting 'mail.smtpdx.lab' for 127.0.0.1) is not "
           "flagged", json.dumps(ids(rep)))
    fake = FakeServer("220 ip-10-0-1-17.ec2.internal ESMTP Postfix (Ubuntu)",
                      ["PIPELINING", "SIZE 10240000", "XEXCH50", "8BITMIME"])
    rep, rc = session(fake.port, labcas)
    report(ids(rep, "error")[:1] == ["starttls.not_offered"] and
           "net.middlebox_banner" not in ids(rep),
           "a server greeting with an internal EC2 name and no STARTTLS is "
           "starttls.not_offered, not a middlebox", json.dumps(ids(rep)))
    fake.close()
    flush()

    # -- Cisco ASA ESMTP inspection: banner masked, STARTTLS -> XXXXXXXA ---
    asa = Proxy("asa", 10587)
    redirect(587, asa.port)
    redirect(465, 10465)
    rep, rc = session(587, labcas)
    d = diag(rep, "net.middlebox_banner")
    report(ids(rep, "error")[:1] == ["net.middlebox_banner"] and
           d.get("evidence", "").startswith("220 ****") and
           "inspect esmtp" in d.get("fix", ""),
           "ASA inspection (masked banner, STARTTLS as XXXXXXXA): "
           "net.middlebox_banner, the banner as evidence, the fix names "
           "the inspection", json.dumps(rep.get("diagnoses"))[:800])
    srep = sweep("587,465", labcas)
    rec = srep.get("recommendation", {})
    report(reach(srep).get(587) == "intercepted" and rec.get("port") == 465,
           "sweep: 587 behind the ASA is 'intercepted', 465 recommended",
           json.dumps(reach(srep)) + " " + json.dumps(rec)[:500])
    asa.close()
    flush()

    # -- the same ASA to a command typed a letter at a time: EHLO -> XXXX --
    asa2 = Proxy("asa-xxxx", 10587)
    redirect(587, asa2.port)
    rep, rc = session(587, labcas)
    report(ids(rep, "error")[:1] == ["net.middlebox_banner"],
           "ASA inspection turning EHLO into XXXX: net.middlebox_banner, "
           "not ehlo.rejected", json.dumps(ids(rep)))
    asa2.close()
    flush()

    # -- TLS interception with a FortiGate-style CA, STARTTLS and 465 ------
    p587 = Proxy("tls-starttls", 10587, forti)
    p465 = Proxy("tls-implicit", 10465, forti)
    redirect(587, p587.port)
    redirect(465, p465.port)
    rep, rc = session(587, labcas)
    d = diag(rep, "tls.intercepted")
    report(ids(rep, "error")[:1] == ["tls.intercepted"] and
           "FortiGate CA" in d.get("evidence", ""),
           "STARTTLS ended by a FortiGate-style proxy: tls.intercepted, "
           "the issuer as evidence", json.dumps(rep.get("diagnoses"))[:800])
    rep, rc = session(465, labcas, ["--tls", "implicit"])
    report(ids(rep, "error")[:1] == ["tls.intercepted"],
           "implicit TLS ended by the proxy: tls.intercepted",
           json.dumps(ids(rep)))
    both = cat("corporate.pem", labca, labca465, forti["ca"])
    rep, rc = session(587, both, ["--auth", "plain"])
    report(rc == 0 and ids(rep, "warning") == ["tls.intercepted"] and
           rep.get("result") == "ok",
           "the proxy's CA trusted (a company machine): the mail goes "
           "through, with a tls.intercepted warning",
           json.dumps(rep.get("diagnoses"))[:600] + str(rep.get("raw", "")))
    rep, rc = session(587, both)
    report(ids(rep, "error")[:1] == ["auth.failed"] and
           "channel binding" in diag(rep, "auth.failed").get("explanation", "")
           and "SCRAM-SHA-256-PLUS" in diag(rep, "tls.intercepted").get(
               "explanation", ""),
           "the proxy's CA trusted, SCRAM-SHA-256-PLUS refused: the channel "
           "binding caught the proxy, and the diagnosis says so",
           json.dumps(rep.get("diagnoses"))[:600])
    srep = sweep("587,465", both)
    rec = srep.get("recommendation", {})
    report(reach(srep) == {587: "intercepted", 465: "intercepted"} and
           not rec.get("port"),
           "sweep: both ports intercepted, even with the proxy's CA "
           "trusted: nothing recommended",
           json.dumps(reach(srep)) + " " + json.dumps(rec)[:400])
    p587.close()
    p465.close()
    flush()

    # -- a proxy whose CA names no product: the issuers differ -------------
    pp = Proxy("tls-starttls", 10587, plain)
    redirect(587, pp.port)
    redirect(465, 10465)
    srep = sweep("587,465", labcas)
    rec = srep.get("recommendation", {})
    report("different issuers" in rec.get("why", "") and
           "Example Corp Network CA" in rec.get("why", "") and
           rec.get("port") == 465,
           "sweep: 587's certificate from another issuer than 465's is "
           "said (a proxy may answer some ports); 465 recommended",
           rec.get("why", "")[-700:])
    pp.close()
    flush()

    # -- the provider from the greeting and the MX name --------------------
    gm = FakeServer("220 smtp.gmail.com ESMTP a640c23a62f3a-abc.123 - gsmtp",
                    ["SIZE 35882577", "8BITMIME", "AUTH LOGIN PLAIN",
                     "ENHANCEDSTATUSCODES"],
                    "535-5.7.8 Username and Password not accepted. For more "
                    "information, go to\r\n535 5.7.8  https://support.google"
                    ".com/mail/?p=BadCredentials a640c23a62f3a-abc.123 - "
                    "gsmtp\r\n")
    rep, rc = session(gm.port, labcas, ["--tls", "none",
                                        "--allow-plaintext-auth"])
    d = diag(rep, "auth.failed")
    report(d and "Gmail / Google Workspace wants" in d.get("fix", ""),
           "a server greeting as Gmail ('- gsmtp') on 127.0.0.1: the AUTH "
           "fix cites Gmail's login rules", json.dumps(d)[:600])
    gm.close()
    ms = FakeServer("220 BN8PR04CA0023.outlook.office365.com Microsoft ESMTP "
                    "MAIL Service ready at Wed, 2 Dec 2026 04:00:00 +0000",
                    ["SIZE 157286400", "AUTH LOGIN XOAUTH2"],
                    "535 5.7.139 Authentication unsuccessful, basic "
                    "authentication is disabled.\r\n")
    rep, rc = session(ms.port, labcas, ["--tls", "none",
                                        "--allow-plaintext-auth", "--auth",
                                        "login"])
    fixes = " ".join(x.get("fix", "") for x in rep.get("diagnoses", []))
    report("Microsoft 365 wants" in fixes,
           "a server greeting as Microsoft 365: its login rules cited",
           fixes[-500:])
    ms.close()
    hotel = FakeServer("220 captive.hotel.example ESMTP Postfix",
                       ["AUTH PLAIN"], "535 5.7.8 Error: authentication "
                       "failed\r\n")
    rep, rc = session(hotel.port, labcas,
                      ["--tls", "none", "--allow-plaintext-auth",
                       "--servername", "smtp.gmail.com"])
    d = diag(rep, "net.middlebox_possible")
    report(d.get("severity") == "info" and "captive.hotel.example" in
           d.get("evidence", "") and ids(rep, "error")[:1] == ["auth.failed"],
           "smtp.gmail.com answered by a greeting without Gmail's marks: a "
           "note (info), never the error", json.dumps(rep.get("diagnoses"))
           [:600])
    hotel.close()
    # --mx: the domain's MX is aspmx.l.google.com (dnsmasq in the
    # namespace, pointed at by SMTPDX_RESOLV_CONF; the name's address is
    # 127.0.0.1 there): the MX name says Google
    mxsrv = FakeServer("220 mx.example.net ESMTP", ["8BITMIME"])
    resolv = os.path.join(TMP, "resolv.conf")
    with open(resolv, "w") as f:
        f.write("nameserver 127.0.0.1\n")
    dns = None
    try:
        dns = subprocess.Popen(
            ["dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts",
             "--user=root", "--group=", "--listen-address=127.0.0.1",
             "--bind-interfaces", "--port=53", "--local=/test/",
             "--local=/google.com/",
             "--mx-host=gw.test,aspmx.l.google.com,10",
             "--host-record=aspmx.l.google.com,127.0.0.1"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError:
        pass
    if dns:
        procs.append(dns)
        r = None
        for _ in range(50):     # dnsmasq answers once it is up
            r = subprocess.run(
                [SMTPDX, "--mx", "gw.test", "-p", str(mxsrv.port), "--tls",
                 "none", "-f", "alice@example.org", "-t", "bob@gw.test",
                 "--no-send", "--timeout", "5", "--json"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60,
                env=dict(os.environ, SMTPDX_RESOLV_CONF=resolv))
            if b"aspmx" in r.stdout:
                break
            select.select([], [], [], 0.1)
        try:
            rep = json.loads(r.stdout)
        except ValueError:
            rep = {}
        lines = [t["text"] for t in rep.get("transcript", [])]
        report(any("Gmail / Google Workspace: recognised from the server "
                   "name (the MX host" in t for t in lines) and
               rep.get("result") == "ok",
               "--mx gw.test whose MX is aspmx.l.google.com: recognised as "
               "Google Workspace, the session still ok",
               json.dumps(lines[-8:])[:700])
    else:
        report(False, "dnsmasq starts for the --mx test")
    mxsrv.close()
    plainsrv = FakeServer("220 mx.example.net ESMTP", ["AUTH PLAIN"],
                          "535 5.7.8 Error: authentication failed\r\n")
    rep, rc = session(plainsrv.port, labcas,
                      ["--tls", "none", "--allow-plaintext-auth",
                       "--servername", "alt1.aspmx.l.google.com"])
    d = diag(rep, "auth.failed")
    report(d and "Gmail / Google Workspace wants" in d.get("fix", ""),
           "the MX name alt1.aspmx.l.google.com (what --mx sets as the "
           "server name) is Google", json.dumps(d)[:500])
    rep, rc = session(plainsrv.port, labcas,
                      ["--tls", "none", "--allow-plaintext-auth"])
    d = diag(rep, "auth.failed")
    report(d and " wants " not in d.get("fix", ""),
           "a server that names no provider gets no provider's rules",
           json.dumps(d)[:400])
    plainsrv.close()
finally:
    flush()
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait(timeout=10)
sys.exit(summary())

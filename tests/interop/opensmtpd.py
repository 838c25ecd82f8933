"""opensmtpd.py - OpenSMTPD (Debian's opensmtpd package, extracted, not
installed) from a config of its own.  smtpd insists on /var/spool/smtpd,
/var/lib/opensmtpd/empty, /run/smtpd.sock and the users opensmtpd, opensmtpq (Debian's names):
it runs in a mount namespace of its own where a tmpfs covers /var/spool and
/run, read-only overlays add its files to /usr/sbin, /usr/libexec and
/var/lib, and a private copy of /etc/passwd adds the users.  The host's
files, users and mounts never change."""

import os
import socket
import ssl
import subprocess

import lib
from fetchdeb import Skip, extracted, private_users

NAME = "opensmtpd"
DOMAIN = "osmtpd.test"
HOST = "mx." + DOMAIN
UIDS = {"opensmtpd": 64921, "opensmtpq": 64922, "vmail": 64923}
PORTS = ["sub", "implicit", "noint", "clientcert", "mx"]
SMALL = 20000                     # smtp max-message-size

CONFIG = """
# smtpdx interop: an OpenSMTPD of its own (tests/interop/opensmtpd.py)
pki @host@ cert "@certs@/chain.pem"
pki @host@ key "@certs@/leaf.key"
pki noint cert "@certs@/leaf.pem"
pki noint key "@certs@/leaf.key"
table creds file:@state@/creds
table vusers file:@state@/vusers
table domains { @domain@ }
table rcpts file:@state@/rcpts

listen on 127.0.0.1 port @sub@ tls pki @host@ hostname @host@ auth-optional <creds>
listen on 127.0.0.1 port @mx@ hostname @host@
smtp max-message-size @small@
smtp limit max-rcpt 2
listen on 127.0.0.1 port @implicit@ smtps pki @host@ hostname @host@ auth <creds>
listen on 127.0.0.1 port @noint@ tls-require pki noint hostname @host@ auth <creds>
listen on 127.0.0.1 port @clientcert@ smtps verify pki @host@ hostname @host@ auth <creds>

ca interop cert "@certs@/ca.pem"

action "local" maildir "@state@/mail" virtual <vusers>
action "drop" mda "/bin/true" virtual <vusers>
match from any for domain <domains> rcpt-to <rcpts> action "local"
match auth from any for any action "drop"
"""


def fill(template, values):
    for k, v in values.items():
        template = template.replace("@%s@" % k, str(v))
    return template


class Server:
    def __init__(self, state, certs):
        self.state = os.path.join(state, "opensmtpd")
        self.certs = certs
        self.proc = None
        self.ports = {}

    def start(self):
        if os.geteuid() != 0:
            raise Skip("needs root for a mount namespace (unshare -m)")
        tree = extracted("opensmtpd", ["opensmtpd"], "usr/sbin/smtpd")
        st = self.state
        for d in ("varlib/opensmtpd/empty", "mail"):
            os.makedirs(os.path.join(st, d), exist_ok=True)
        os.chown(os.path.join(st, "mail"), UIDS["vmail"], UIDS["vmail"])
        os.chmod(os.path.join(st, "mail"), 0o755)
        pw, gr = private_users(st, UIDS)
        crypted = subprocess.run(["openssl", "passwd", "-6", "-stdin"],
                                 input=lib.PASSWORD.encode(), check=True,
                                 stdout=subprocess.PIPE).stdout.decode().strip()
        with open(os.path.join(st, "creds"), "w") as f:
            f.write("%s %s\n" % (lib.USER, crypted))
        os.chmod(os.path.join(st, "creds"), 0o640)
        os.chown(os.path.join(st, "creds"), 0, UIDS["opensmtpd"])
        with open(os.path.join(st, "vusers"), "w") as f:
            f.write("%s@%s vmail\n" % (lib.USER, DOMAIN))
        with open(os.path.join(st, "rcpts"), "w") as f:
            f.write("%s@%s\n" % (lib.USER, DOMAIN))
        self.ports = {k: lib.free_port() for k in PORTS}
        conf = os.path.join(st, "smtpd.conf")
        with open(conf, "w") as f:
            f.write(fill(CONFIG, dict(host=HOST, domain=DOMAIN, state=st,
                                      certs=self.certs, small=SMALL, **self.ports)))
        with open(os.path.join(st, "big-body"), "w") as f:
            f.write(("x" * 70 + "\n") * (SMALL // 60))
        script = "\n".join([
            'set -e',
            'mount --bind "%s" /etc/passwd' % pw,
            'mount --bind "%s" /etc/group' % gr,
            'mount -t tmpfs smtpdx-interop /var/spool',
            'mount -t tmpfs smtpdx-interop /run',
            'mkdir -m 711 /var/spool/smtpd',
            'mount -t overlay smtpdx-interop -o "lowerdir=%s/usr/sbin:/usr/sbin" /usr/sbin' % tree,
            'mount -t overlay smtpdx-interop -o "lowerdir=%s/usr/libexec:/usr/libexec" /usr/libexec' % tree,
            'mount -t overlay smtpdx-interop -o "lowerdir=%s/varlib:/var/lib" /var/lib' % st,
            'exec /usr/sbin/smtpd -d -f "%s"' % conf])
        self.log = open(os.path.join(st, "stderr"), "w")
        self.proc = subprocess.Popen(
            ["unshare", "-m", "--propagation", "private", "sh", "-c", script],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        for k, p in self.ports.items():
            if not lib.wait_port(p, proc=self.proc,
                                 banner=HOST if k in ("sub", "mx", "noint") else None):
                self.stop()
                raise Skip("OpenSMTPD did not start: " + self.why())
        self.tls_broken = self.probe_tls()
        return self

    def probe_tls(self):
        """Debian 12's OpenSMTPD 6.8.0p2 cannot sign a TLS handshake with
        OpenSSL 3 (its privilege-separated key engine: upstream issues
        OpenSMTPD#1171 and #1239): every handshake ends in an
        internal_error alert.  Returns why TLS cases cannot run, or ''."""
        ctx = ssl.create_default_context(cafile=os.path.join(self.certs, "ca.pem"))
        try:
            with socket.create_connection(("127.0.0.1", self.ports["implicit"]), 10) as s:
                with ctx.wrap_socket(s, server_hostname=HOST) as t:
                    t.recv(100)
            return ""
        except (ssl.SSLError, OSError) as e:
            return ("this OpenSMTPD cannot do TLS with OpenSSL 3 (upstream "
                    "issues OpenSMTPD#1171, #1239): %s" % e)

    def why(self):
        try:
            out = open(os.path.join(self.state, "stderr")).read()[-600:]
        except OSError:
            out = ""
        return out.strip().replace("\n", " | ") or "no output"

    def stop(self):
        lib.stop_group(self.proc)

    def delivered(self):
        out = ""
        for sub in ("new", "cur"):
            d = os.path.join(self.state, "mail", sub)
            for n in (os.listdir(d) if os.path.isdir(d) else []):
                try:
                    out += open(os.path.join(d, n)).read()
                except OSError:
                    pass
        return out


def cases(srv, state, certs):
    P = srv.ports
    base = lib.base_args(P, HOST, DOMAIN, certs)
    login = lib.login_args(state)
    me = ["--to", "alice@" + DOMAIN]
    foreign = ["--to", "bob@example.org"]
    implicit = ["--tls", "implicit"]

    def delivered(rep):
        text = lib.wait_for(lambda: "smtpdx test message" in srv.delivered(), 15)
        return text, "the message did not reach the maildir: " + srv.why()[-300:]

    mx = lambda: base("mx") + ["--tls", "none"]
    plain = [
        # a port-25 MX without TLS: what works with this package on Debian 12
        ("mx-clean-send", mx() + me, None, None, delivered),
        # OpenSMTPD's "550 Invalid recipient" means "not for me" for a
        # foreign domain without login (relay), "no such user" in its own
        ("mx-no-login-foreign", mx() + foreign, "rcpt.relay_denied",
         "550 Invalid recipient", None),
        ("mx-unknown-user", mx() + ["--to", "nobody@" + DOMAIN],
         "rcpt.unknown_user", "550 Invalid recipient", None),
        # smtp max-message-size: SIZE is advertised, but smtpd 6.8 looks
        # only at the end of DATA ("554 5.3.4 Message too big for system")
        ("mx-message-too-big", mx() + me + ["--body", srv.state + "/big-body"],
         "data.size_exceeded", "554 5.3.4 Message too big", None),
        # smtp limit max-rcpt 2: "451 4.5.3 Too many recipients" to the
        # third is a limit per message, not "try again later"
        ("mx-too-many-recipients", mx() + me + me + ["--to", "bob@" + DOMAIN],
         "rcpt.too_many_recipients", "451 4.5.3 Too many recipients", None),
        # smtpd refuses "auth" on a listener without tls/smtps, and offers
        # AUTH only after STARTTLS: a login in plaintext finds no AUTH
        ("plaintext-login", base("sub") + ["--tls", "none", "--allow-plaintext-auth"]
         + login + me, "auth.requires_tls", "no AUTH", None),
        # tls-require: no transaction before STARTTLS
        ("tls-require-plaintext", base("noint") + ["--tls", "none"] + me,
         "mail.tls_required", "Must issue a STARTTLS command first", None),
        ("implicit-to-plain-port", base("mx") + ["--tls", "implicit"] + me,
         "tls.expected_starttls", "220 " + HOST, None),
    ]
    tls = [
        ("clean-send", base("sub") + login + me, None, None, delivered),
        ("clean-implicit-tls", base("implicit") + implicit + login + me, None, None, None),
        ("relay-after-login", base("sub") + login + foreign, None, None, None),
        ("wrong-password", base("sub") + ["-u", lib.USER, "--password-file",
                                          state + "/wrong-password"] + me,
         "auth.failed", "535 Authentication failed", None),
        ("no-login-foreign", base("sub") + foreign, "rcpt.relay_denied",
         "550 Invalid recipient", None),
        ("unknown-user", base("sub") + login + ["--to", "nobody@" + DOMAIN],
         "rcpt.unknown_user", "550 Invalid recipient", None),
        ("starttls-to-implicit-port", base("implicit", "15") + ["--tls", "starttls"] + login + me,
         "tls.expected_implicit", None, None),
        ("implicit-to-starttls-port", base("sub") + implicit + login + me,
         "tls.expected_starttls", "220 " + HOST, None),
        ("missing-intermediate", base("noint") + login + me,
         "tls.chain_incomplete", "smtpdx interop intermediate CA",
         lib.fix_lacks("--cafile", "--cafile was given; the server must send its chain")),
        ("client-cert-required", base("clientcert") + implicit + login + me,
         "tls.client_cert_required", None, None),
    ]
    broken = getattr(srv, "tls_broken", "")
    if broken:
        tls = [(c[0], None, None, broken, None) for c in tls]
        # what this package does do is a real server whose own TLS setup
        # fails: an internal_error alert at every handshake (issue 9 §3:
        # tls.server_error, nothing on the client side helps)
        tls.append(("tls-internal-error", base("implicit") + implicit + login + me,
                    "tls.server_error", None, None))
    else:
        tls.append(("tls-internal-error", None, None,
                    "this OpenSMTPD's TLS works: no internal_error to see", None))
    return plain + tls

"""replay.py - a replay server for behaviours taken from the SMTP test
suites of other clients (curl, CPython's smtplib, Go's net/smtp, swaks's
testing/server scripts) and from
issue 9's field reports: each case is a scripted dialogue, written here
(our code, not theirs), with the source it reproduces named beside it.

Every dialogue runs on a listener of its own (port 0) in this process;
smtpdx talks plaintext to it (--tls none, --allow-plaintext-auth where
AUTH is involved), since what is replayed is the SMTP layer."""

import base64
import socket
import threading

import lib

USES_TLS = False
NAME = "replay"
HOST = "mx.replay.test"
DOMAIN = "replay.test"

EHLO = ["mx.replay.test Hello", "PIPELINING", "SIZE 10240000", "8BITMIME",
        "AUTH PLAIN LOGIN", "ENHANCEDSTATUSCODES"]


def b64(s):
    return base64.b64encode(s.encode()).decode()


def unb64(s):
    try:
        return base64.b64decode(s.strip(), validate=True).decode("utf-8", "replace")
    except Exception:
        return None


class Conn:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def send(self, text):
        if isinstance(text, str):
            text = text.encode()
        self.sock.sendall(text)

    def line(self):
        while b"\n" not in self.buf:
            d = self.sock.recv(4096)
            if not d:
                return None
            self.buf += d
        l, _, self.buf = self.buf.partition(b"\n")
        return l.rstrip(b"\r").decode("utf-8", "replace")


def reply(lines):
    """A (possibly multi-line) reply from lines like ["250", "text", ...]:
    'CODE text' strings joined with '-' on all but the last."""
    if isinstance(lines, str):
        lines = [lines]
    out = []
    for i, l in enumerate(lines):
        code, _, text = l.partition(" ")
        sep = " " if i == len(lines) - 1 else "-"
        out.append("%s%s%s\r\n" % (code, sep, text))
    return "".join(out)


def auth_ok(c, mech, initial):
    """What a healthy server does: PLAIN and LOGIN with base64 prompts."""
    if mech == "PLAIN":
        resp = initial
        if resp is None:
            c.send("334 \r\n")
            resp = c.line()
        parts = (unb64(resp or "") or "").split("\0")
        good = len(parts) == 3 and parts[1] == lib.USER and parts[2] == lib.PASSWORD
    elif mech == "LOGIN":
        user = unb64(initial) if initial else None
        if user is None:
            c.send("334 " + b64("Username:") + "\r\n")
            user = unb64(c.line() or "")
        c.send("334 " + b64("Password:") + "\r\n")
        pw = unb64(c.line() or "")
        good = user == lib.USER and pw == lib.PASSWORD
    else:
        c.send("504 5.5.4 Unrecognized authentication type\r\n")
        return
    c.send("235 2.7.0 Authentication successful\r\n" if good else
           "535 5.7.8 Authentication credentials invalid\r\n")


class Dialogue:
    """A healthy server; a case overrides what it replays.  `on` maps a
    verb to a reply string (sent as is), or a callable (conn, line)."""
    greeting = "220 mx.replay.test ESMTP replay\r\n"
    ehlo = EHLO

    def __init__(self, **kw):
        self.on = kw.pop("on", {})
        self.auth = kw.pop("auth", auth_ok)
        for k, v in kw.items():
            setattr(self, k, v)

    def serve(self, sock):
        c = Conn(sock)
        c.send(self.greeting)
        while True:
            line = c.line()
            if line is None:
                return
            verb = line.split(" ", 1)[0].upper()
            if verb in self.on:
                r = self.on[verb]
                r = r(c, line) if callable(r) else r
                if r is None:          # the callable closed or answered
                    return
                c.send(r)
                if verb == "QUIT" or r.startswith("421"):
                    return
                if verb == "DATA" and r.startswith("354"):
                    self.data(c)
                continue
            if verb == "EHLO":
                c.send(reply(["250 " + e for e in self.ehlo]))
            elif verb == "HELO":
                c.send("250 mx.replay.test\r\n")
            elif verb == "AUTH":
                args = line.split()
                self.auth(c, args[1].upper() if len(args) > 1 else "",
                          args[2] if len(args) > 2 else None)
            elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                c.send("250 2.0.0 Ok\r\n")
            elif verb == "DATA":
                c.send("354 End data with <CR><LF>.<CR><LF>\r\n")
                self.data(c)
            elif verb == "QUIT":
                c.send("221 2.0.0 Bye\r\n")
                return
            else:
                c.send("502 5.5.2 Error: command not recognized\r\n")

    def data(self, c):
        while True:
            l = c.line()
            if l is None:
                return
            if l == ".":
                break
        c.send(self.on.get("DOT", "250 2.0.0 Ok: queued as REPLAY\r\n"))


class Listener:
    def __init__(self, dialogue):
        self.dialogue = dialogue
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.stopped = False
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while not self.stopped:
            try:
                s, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.one, args=(s,), daemon=True).start()

    def one(self, s):
        s.settimeout(30)
        try:
            self.dialogue.serve(s)
        except OSError:
            pass
        finally:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def stop(self):
        self.stopped = True
        self.sock.close()


# ---- the dialogues -----------------------------------------------------

def endless_334(c, mech, initial):
    # CPython Lib/test/test_smtplib.py, SimSMTPChannel._auth_buggy and
    # testAUTH_BUGGY: the server answers every step with another 334
    for _ in range(50):
        c.send("334 " + b64("Password:") + "\r\n")
        if c.line() is None:
            return
    c.send("535 5.7.8 giving up\r\n")


def rubbish_challenge(c, mech, initial):
    # curl tests/data/test932 "SMTP CRAM-MD5 graceful cancellation":
    # REPLY AUTH 334 Rubbish; the client cancels with "*", the server
    # then says 501 AUTH exchange cancelled by client
    c.send("334 Rubbish\r\n")
    c.line()
    c.send("501 AUTH exchange cancelled by client\r\n")


def plain_then_334(c, mech, initial):
    # issue 9 §3: a 334 after PLAIN's initial response (PLAIN has one step)
    c.send("334 \r\n")
    c.line()
    c.send("535 5.7.8 Authentication credentials invalid\r\n")


def plaintext_login_prompts(c, mech, initial):
    # issue 9 §3: LOGIN prompts sent as plain text ("334 Username:"), which
    # swaks and smtplib accept (the prompt text is ignored anyway)
    c.send("334 Username:\r\n")
    user = unb64(c.line() or "")
    c.send("334 Password:\r\n")
    pw = unb64(c.line() or "")
    c.send("235 2.7.0 Authentication successful\r\n"
           if (user, pw) == (lib.USER, lib.PASSWORD) else
           "535 5.7.8 Authentication credentials invalid\r\n")


def go_auth_failed(c, mech, initial):
    # Go src/net/smtp/smtp_test.go, authFailedServer / TestAuthFailed:
    # a multi-line 535 ("535-Invalid credentials", "535 please see ...")
    if initial is None:
        c.send("334 \r\n")
        c.line()
    c.send("535-Invalid credentials\r\n535 please see www.example.com\r\n")


def xoauth2_error_continuation(c, mech, initial):
    # curl tests/data/test948/949 (OAUTHBEARER "failure as continuation")
    # and Gmail's XOAUTH2: a 334 carrying a base64 JSON error, the client
    # answers with an empty line, then 535.  A legitimate exchange: the
    # token was judged, so this is auth.failed, not auth.exchange_broken
    if mech != "XOAUTH2":
        c.send("504 5.5.4 Unrecognized authentication type\r\n")
        return
    if initial is None:
        c.send("334 \r\n")
        c.line()
    c.send("334 " + b64('{"status":"400","schemes":"Bearer","scope":'
                        '"https://mail.google.com/"}') + "\r\n")
    c.line()
    c.send("535-5.7.8 Username and Password not accepted. Learn more at\r\n"
           "535 5.7.8 https://support.example.com/mail/oauth\r\n")


def close_after(text):
    def f(c, line):
        c.send(text)
        return None
    return f


CURL_WELCOME = (
    # curl tests/ftpserver.pl, the SMTP 'welcome': a multi-line 220 with
    # ASCII art (every curl SMTP test starts with it)
    "220-        _   _ ____  _\r\n"
    "220-    ___| | | |  _ \\| |\r\n"
    "220-   / __| | | | |_) | |\r\n"
    "220-  | (__| |_| |  _ {| |___\r\n"
    "220    \\___|\\___/|_| \\_\\_____|\r\n")


def never_ok(*steps):
    """A check: none of these steps may be reported ok (replies that were
    queued before their command was sent prove nothing)."""
    def check(rep):
        bad = [s["name"] for s in (rep or {}).get("steps", [])
               if s["name"] in steps and s["status"] == "ok"]
        return not bad, "steps marked ok from replies sent ahead of time: %s" % bad
    return check


def cpython_571(c, mech, initial):
    """CPython test_smtplib SimSMTPAUTHInitialResponseChannel: anything
    but the expected AUTH PLAIN initial response gets a 571."""
    c.send("571 Bad authentication\r\n")


def cpython_504(c, mech, initial):
    """CPython test_smtplib SimSMTPChannel.smtp_AUTH: a mechanism it has
    no _auth_ method for (its text has the two spaces)."""
    c.send("504 Command parameter not implemented: unsupported  "
           "authentication mechanism '_auth_%s'\r\n" % mech.lower())


def dialogues():
    """(name, Dialogue, extra smtpdx args, expected id(s), evidence[,
    a check of the report]).  421 (service closing) may be named for the
    step or as the session closing: both tell the truth."""
    login = ["-u", lib.USER, "--password-file", "@state@/password",
             "--allow-plaintext-auth"]
    D = Dialogue
    return [
        # curl tests/ftpserver.pl: multi-line ASCII-art greeting; test900
        ("curl-ascii-art-greeting", D(greeting=CURL_WELCOME), [], None, None),
        # curl tests/data/test902 (500 to EHLO), Go smtp_test.go
        # sendMailServer ("502 EH?"): RFC 821 servers; HELO must follow
        ("curl-902-ehlo-500-helo", D(on={"EHLO": "500 Command unrecognized\r\n"}),
         [], None, None),
        ("go-ehlo-502-helo", D(on={"EHLO": "502 EH?\r\n"}), [], None, None),
        # curl tests/data/test904 style base64 LOGIN prompts: a clean AUTH
        ("curl-904-auth-login", D(), login + ["--auth", "login"], None, None),
        # curl tests/data/test940: a login requested, no AUTH advertised
        ("curl-940-no-auth-capability", D(ehlo=EHLO[:4]), login,
         "auth.not_offered", None),
        ("curl-948-xoauth2-error-continuation",
         D(ehlo=EHLO[:4] + ["AUTH XOAUTH2 PLAIN"], auth=xoauth2_error_continuation),
         login + ["--auth", "xoauth2"], "auth.oauth_token_rejected",
         "535-5.7.8 Username and Password not accepted"),
        # curl tests/data/test932: 334 Rubbish (not base64) to CRAM-MD5
        ("curl-932-334-rubbish", D(ehlo=EHLO[:4] + ["AUTH CRAM-MD5"],
                                   auth=rubbish_challenge),
         login + ["--auth", "cram-md5"], "auth.exchange_broken", "334 Rubbish"),
        # CPython test_smtplib testAUTH_BUGGY: endless 334s
        ("cpython-auth-buggy-endless-334", D(auth=endless_334),
         login + ["--auth", "login"], "auth.exchange_broken", "334"),
        # issue 9 §3: 334 after PLAIN's initial response
        ("plain-then-334", D(auth=plain_then_334), login + ["--auth", "plain"],
         "auth.exchange_broken", "334"),
        # issue 9 §3: plain-text LOGIN prompts work in swaks and smtplib
        ("login-plaintext-prompts", D(auth=plaintext_login_prompts),
         login + ["--auth", "login"], None, None),
        # Go smtp_test.go TestAuthFailed: multi-line 535
        ("go-auth-failed-multiline-535", D(auth=go_auth_failed),
         login + ["--auth", "plain"], "auth.failed", "Invalid credentials"),
        # curl tests/data/test980: a 454 to STARTTLS with the replies to
        # AUTH, MAIL, RCPT, DATA already appended: none of them may count
        ("curl-980-starttls-454-pipelined",
         D(ehlo=EHLO[:4] + ["STARTTLS", "AUTH PLAIN"],
           on={"STARTTLS": "454 currently unavailable\r\n235 Authenticated\r\n"
               "250 2.1.0 Sender ok\r\n250 2.1.5 Recipient ok\r\n"
               "354 Enter mail\r\n250 2.0.0 Accepted\r\n"}),
         ["--tls", "starttls", "-u", lib.USER, "--password-file", "@state@/password"],
         ("starttls.refused", "proto.sync_error"), "454 currently unavailable",
         never_ok("auth", "mail", "rcpt", "data")),
        # issue 9 §1: one extra line written with the greeting (curl's
        # servers pattern): every later reply would be off by one
        ("greeting-extra-line",
         D(greeting="220 mx.replay.test ESMTP\r\n250 2.1.5 Ok\r\n"), [],
         "proto.sync_error", "250 2.1.5 Ok"),
        # issue 9 §1: an EHLO reply that mixes "250 " and "250-" lines
        ("ehlo-mixed-continuation",
         D(on={"EHLO": "250 mx.replay.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n"}),
         [], "proto.sync_error", "250-PIPELINING"),
        # issue 9 §1: DATA answered with 250 (RFC 5321 §4.3.2: 354 or an error)
        ("data-answered-250", D(on={"DATA": "250 2.1.5 Ok\r\n"}), [],
         "proto.sync_error", "250 2.1.5 Ok"),
        # CPython test_smtplib test_421_from_mail_cmd / _rcpt_cmd /
        # _data_cmd: "421 closing connection", then the server hangs up
        ("cpython-421-from-mail", D(on={"MAIL": close_after("421 closing connection\r\n")}),
         [], ("mail.temporary", "session.closed"), "421 closing connection"),
        ("cpython-421-from-rcpt", D(on={"RCPT": close_after("421 closing connection\r\n")}),
         [], ("rcpt.temporary", "session.closed"), "421 closing connection"),
        ("cpython-421-from-data", D(on={"DATA": close_after("421 closing connection\r\n")}),
         [], ("data.temporary", "session.closed"), "421 closing connection"),
        # issue 9 §2: temporary failures are not refusals
        ("rcpt-450-4.3.0", D(on={"RCPT": "450 4.3.0 Try again later\r\n"}), [],
         "rcpt.temporary", "450 4.3.0"),
        ("mail-451-aborted", D(on={"MAIL": "451 Requested action aborted: local error in processing\r\n"}),
         [], "mail.temporary", "451 Requested action aborted"),
        # issue 9 §2: Haraka's relay refusal (plugins/rcpt_to.in_host_list),
        # no "relay" in it: no login, AUTH offered, a foreign domain
        ("haraka-text-relay", D(on={"RCPT": "550 I cannot deliver mail for <bob@example.org>\r\n"}),
         ["--to", "bob@example.org"], "rcpt.relay_denied",
         "550 I cannot deliver mail for"),
        # the same text for the server's own domain means no such user
        ("haraka-text-own-domain", D(on={"RCPT": "550 I cannot deliver mail for <nobody@replay.test>\r\n"}),
         ["--to", "nobody@replay.test"], "rcpt.unknown_user",
         "550 I cannot deliver mail for"),
        # swaks testing/server/scripts/part-0103-ehlo-auth-extra.txt: AUTH
        # advertised on several lines, one of them "AUTH=login"
        ("swaks-ehlo-auth-extra",
         D(ehlo=["mx.replay.test Hello", "STARTTLS", "PIPELINING", "PRDR",
                 "AUTH CRAM-MD5", "AUTH CRAM-SHA1", "AUTH PLAIN", "AUTH CUSTOM-PLAIN",
                 "AUTH LOGIN", "AUTH NTLM", "AUTH DIGEST-MD5", "AUTH=login", "HELP"]),
         ["--tls", "none"] + login + ["--auth", "login"], None, None),
        # swaks part-1113-rcpt-pipeline-respond-failure-cascade.txt: under
        # PIPELINING a refused MAIL makes RCPT "503 sender not yet given";
        # the cause is MAIL's reply, not the cascade
        ("swaks-mail-reject-cascade",
         D(on={"MAIL": "550 5.7.1 Sender address rejected: Access denied\r\n",
               "RCPT": "503 sender not yet given\r\n",
               "DATA": "503 5.5.1 Error: need RCPT command\r\n"}),
         [], "mail.sender_rejected", "550 5.7.1 Sender address rejected"),
        # swaks part-2513-data-pipeline-data-respond-failure-cascade.txt:
        # DATA's multi-line 503 after every RCPT failed; the cause is RCPT's
        ("swaks-rcpt-reject-data-cascade",
         D(on={"RCPT": "550 5.1.1 <nobody@replay.test>: Recipient address rejected: User unknown\r\n",
               "DATA": "503-something went wrong related to pipelining\r\n503 something went wrong\r\n"}),
         ["--to", "nobody@replay.test"], "rcpt.unknown_user", "550 5.1.1"),
        # CPython test_smtplib BadHELOServerTests: greeting "199 no hello
        # for you!" (no SMTP greeting code)
        ("cpython-greeting-199", D(greeting="199 no hello for you!\r\n"), [],
         "greeting.not_smtp", "199 no hello for you!"),
        # CPython TooLongLineTests: '250 OK' and 16384 dots as the greeting
        ("cpython-greeting-too-long", D(greeting="250 OK" + "." * 16384 + "\n"), [],
         ("proto.sync_error", "proto.line_too_long"), "250 OK"),
        # CPython test_with_statement_QUIT_failure: 421 to QUIT after the
        # message was taken: the session did its work
        ("cpython-quit-421", D(on={"QUIT": "421 QUIT FAILED\r\n"}), login, None, None),
        ("cpython-auth-571", D(auth=cpython_571), login + ["--auth", "plain"],
         "auth.failed", "571 Bad authentication"),
        ("cpython-auth-504-unsupported", D(auth=cpython_504), login + ["--auth", "plain"],
         "auth.mech_unsupported", "504 Command parameter not implemented"),
        # RFC 7504: 556 5.1.10 for a domain with a null MX
        ("rcpt-556-null-mx", D(on={"RCPT": "556 5.1.10 <x@nullmx.test>: Recipient address rejected: Domain has null MX\r\n"}),
         ["--to", "x@nullmx.test"], "rcpt.domain_no_mail", "556 5.1.10"),
    ]


class Server:
    def __init__(self, state, certs):
        self.state = state
        self.certs = certs
        self.listeners = []
        self.ports = {}

    def start(self):
        for name, d, *_ in dialogues():
            l = Listener(d)
            self.listeners.append(l)
            self.ports[name] = l.port
        return self

    def stop(self):
        for l in self.listeners:
            l.stop()


def cases(srv, state, certs):
    out = []
    for name, d, args, expect, evidence, *after in dialogues():
        args = [a.replace("@state@", state) for a in args]
        if "--to" not in args:
            args = args + ["--to", "alice@" + DOMAIN]
        if "--tls" not in args:
            args = args + ["--tls", "none"]
        out.append((name, ["127.0.0.1", "-p", str(srv.ports.get(name, 0)),
                           "-f", "alice@" + DOMAIN, "--timeout", "10"] + args,
                    expect, evidence, after[0] if after else None))
    return out

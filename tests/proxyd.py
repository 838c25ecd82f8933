"""proxyd.py - a SOCKS5 (RFC 1928/1929) and HTTP CONNECT proxy of our own
on loopback for the tests: records what it was asked for, can demand
credentials, answer with a chosen code, stay silent, or send every
tunnel to one fixed address (map_to: a made-up name such as
smtp.office365.com lands on a test server on 127.0.0.1)."""
import socket
import struct
import threading


def recv_exact(c, n):
    b = b""
    while len(b) < n:
        d = c.recv(n - len(b))
        if not d:
            raise EOFError
        b += d
    return b


def pipe(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class Proxy:
    """A SOCKS5 (RFC 1928/1929) or HTTP CONNECT proxy on 127.0.0.1:0.
    seen: the targets asked for, as ("ipv4"|"ipv6"|"name", host, port) or
    the CONNECT line.  user/pw: required credentials.  reply: a SOCKS5
    reply code or an HTTP status line to answer instead of connecting."""

    def __init__(self, kind, user=None, pw=None, reply=None, silent=False,
                 map_to=None):
        self.kind, self.user, self.pw = kind, user, pw
        self.reply, self.silent, self.map_to = reply, silent, map_to
        self.seen = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.one, args=(c,), daemon=True).start()

    def one(self, c):
        try:
            if self.silent:
                c.recv(100)
                threading.Event().wait(30)
                return
            if self.kind == "socks5":
                self.socks(c)
            else:
                self.http(c)
        except (EOFError, OSError):
            c.close()

    def socks(self, c):
        ver, n = recv_exact(c, 2)
        methods = recv_exact(c, n)
        if self.user:
            if 2 not in methods:
                c.sendall(b"\x05\xff")
                return c.close()
            c.sendall(b"\x05\x02")
            v, ul = recv_exact(c, 2)
            u = recv_exact(c, ul).decode()
            pl = recv_exact(c, 1)[0]
            p = recv_exact(c, pl).decode()
            ok = u == self.user and p == self.pw
            c.sendall(b"\x01" + (b"\x00" if ok else b"\x01"))
            if not ok:
                return c.close()
        else:
            c.sendall(b"\x05\x00")
        v, cmd, rsv, atyp = recv_exact(c, 4)
        if atyp == 1:
            host = socket.inet_ntop(socket.AF_INET, recv_exact(c, 4))
            what = "ipv4"
        elif atyp == 4:
            host = socket.inet_ntop(socket.AF_INET6, recv_exact(c, 16))
            what = "ipv6"
        else:
            host = recv_exact(c, recv_exact(c, 1)[0]).decode()
            what = "name"
        port = struct.unpack("!H", recv_exact(c, 2))[0]
        self.seen.append((what, host, port))
        if self.reply is not None:
            c.sendall(bytes([5, self.reply, 0, 1, 0, 0, 0, 0, 0, 0]))
            return c.close()
        try:
            u = socket.create_connection(self.map_to or (host, port), timeout=5)
        except OSError:
            c.sendall(b"\x05\x05\x00\x01\x00\x00\x00\x00\x00\x00")
            return c.close()
        c.sendall(b"\x05\x00\x00\x01\x7f\x00\x00\x01" + struct.pack("!H", 4242))
        self.splice(c, u)

    def http(self, c):
        head = b""
        while b"\r\n\r\n" not in head:
            d = c.recv(1)
            if not d:
                raise EOFError
            head += d
        lines = head.decode().split("\r\n")
        self.seen.append(lines[0])
        if self.user:
            import base64
            want = "Proxy-Authorization: Basic " + base64.b64encode(
                ("%s:%s" % (self.user, self.pw)).encode()).decode()
            if want not in lines:
                c.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                          b"Proxy-Authenticate: Basic realm=\"t\"\r\n"
                          b"Content-Length: 0\r\n\r\n")
                return c.close()
        if self.reply is not None:
            c.sendall(self.reply.encode() + b"\r\nContent-Length: 0\r\n\r\n")
            return c.close()
        target = lines[0].split()[1]
        host, port = target.rsplit(":", 1)
        u = socket.create_connection((host.strip("[]"), int(port)), timeout=5)
        c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.splice(c, u)

    def splice(self, c, u):
        threading.Thread(target=pipe, args=(u, c), daemon=True).start()
        pipe(c, u)

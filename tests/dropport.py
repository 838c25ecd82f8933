#!/usr/bin/env python3
"""dropport.py - a loopback port whose SYNs go unanswered: a listener with
a full accept queue that never accepts (Linux drops the SYNs then), the way
a firewall that drops packets looks to a client.  Prints the port, then
holds it until killed.  For `make bench`'s connect-timeout figure."""
import socket
import sys
import time

srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.bind(("127.0.0.1", 0))
srv.listen(0)
port = srv.getsockname()[1]
fillers = []
for _ in range(4):      # fill the accept queue (backlog 0 still takes one)
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.setblocking(False)
    try:
        c.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    fillers.append(c)
    time.sleep(0.05)
print(port, flush=True)
try:
    while True:
        time.sleep(60)
except KeyboardInterrupt:
    sys.exit(0)

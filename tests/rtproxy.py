#!/usr/bin/env python3
"""rtproxy.py LISTEN_PORT TARGET_PORT DELAY_MS - a loopback TCP proxy that
delays every chunk by DELAY_MS in each direction (a round trip of twice
that) and counts round trips per connection: one for the TCP handshake,
then one each time the client sends after having heard from the server
(a new client "flight").  Writes one line per closed connection to stdout:
"rtt_count=N".  LISTEN_PORT 0: a free port, printed first as "port=N".
Loopback only."""
import asyncio
import sys

LISTEN, TARGET, DELAY = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]) / 1000.0


async def pump(reader, writer, conn, side):
    while True:
        data = await reader.read(65536)
        if not data:
            break
        if side == "c":
            if conn["last"] != "c":
                conn["flights"] += 1
            conn["last"] = "c"
        else:
            conn["last"] = "s"
        await asyncio.sleep(DELAY)
        writer.write(data)
        await writer.drain()
    try:
        writer.write_eof()
    except Exception:
        pass


async def handle(creader, cwriter):
    await asyncio.sleep(DELAY * 2)          # the TCP handshake's round trip
    sreader, swriter = await asyncio.open_connection("127.0.0.1", TARGET)
    # the server speaks first on SMTP: its greeting is not a client flight
    conn = {"flights": 0, "last": "s"}
    await asyncio.gather(pump(creader, swriter, conn, "c"),
                         pump(sreader, cwriter, conn, "s"),
                         return_exceptions=True)
    cwriter.close()
    swriter.close()
    print("rtt_count=%d" % (conn["flights"] + 1), flush=True)


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", LISTEN)
    if LISTEN == 0:
        print("port=%d" % server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()

asyncio.run(main())

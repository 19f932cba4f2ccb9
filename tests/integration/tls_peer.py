#!/usr/bin/env python3
"""tls_peer.py - TLS clients that misbehave, for https.sh (against tapird in its namespace)

  tls_peer.py hello HOST PORT          print a real ClientHello's length (sanity)
  tls_peer.py bytes1 HOST PORT CAFILE NAME
        a whole handshake and a GET with every byte sent as its own segment
        (TCP_NODELAY, a pause between bytes): prints the status line
  tls_peer.py truncated HOST PORT      half a ClientHello, then FIN
  tls_peer.py badrecord HOST PORT      a handshake record header, then junk
  tls_peer.py random HOST PORT N       N connections of random bytes each
  tls_peer.py stall HOST PORT N SECS   N connections that stop mid-handshake
        (half of them after part of a ClientHello, half after all of it),
        held SECS seconds, then closed; prints how many connected
"""
import os
import socket
import ssl
import sys
import time


def client_hello(name="www.example.test"):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname=name)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def conn(host, port):
    s = socket.create_connection((host, port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def drain(s, secs=2.0):
    """Read until the server closes (or SECS pass); return the bytes."""
    s.settimeout(secs)
    data = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            data += d
    except (socket.timeout, ConnectionResetError):
        pass
    return data


def bytes1(host, port, cafile, name):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cafile)
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname=name)
    s = conn(host, port)

    def send_all_1():
        data = out.read()
        for i in range(len(data)):
            s.sendall(data[i:i + 1])
            time.sleep(0.0005)

    while True:
        try:
            obj.do_handshake()
            break
        except ssl.SSLWantReadError:
            send_all_1()
            d = s.recv(65536)
            if not d:
                raise SystemExit("server closed during the handshake")
            inc.write(d)
    send_all_1()
    obj.write(("GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % name).encode())
    send_all_1()
    resp = b""
    while True:
        try:
            d = obj.read(65536)
            if not d:
                break
            resp += d
            continue
        except ssl.SSLWantReadError:
            pass
        except ssl.SSLZeroReturnError:
            break
        d = s.recv(65536)
        if not d:
            break
        inc.write(d)
    print(resp.split(b"\r\n", 1)[0].decode())


def main():
    cmd, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if cmd == "hello":
        print(len(client_hello()))
    elif cmd == "bytes1":
        bytes1(host, port, sys.argv[4], sys.argv[5])
    elif cmd == "truncated":
        ch = client_hello()
        s = conn(host, port)
        s.sendall(ch[: len(ch) // 2])
        time.sleep(0.2)
        s.shutdown(socket.SHUT_WR)
        drain(s)
        s.close()
    elif cmd == "badrecord":
        s = conn(host, port)
        # A handshake record of 300 bytes whose ClientHello is junk.
        s.sendall(b"\x16\x03\x01\x01\x2c" + os.urandom(300))
        reply = drain(s)
        s.close()
        # The server answers with an alert record (21) or just closes.
        if reply and reply[0] != 21:
            raise SystemExit("no alert: %r" % reply[:16])
    elif cmd == "random":
        for i in range(int(sys.argv[4])):
            s = conn(host, port)
            junk = os.urandom(1 + (i * 37) % 3000)
            if i % 2:
                junk = b"\x16" + junk  # looks like a handshake record
            elif junk[0] == 0x16:
                junk = b"\x17" + junk[1:]  # and these do not
            try:
                s.sendall(junk)
            except (BrokenPipeError, ConnectionResetError):
                pass
            drain(s, 1.0)
            s.close()
    elif cmd == "stall":
        n, secs = int(sys.argv[4]), float(sys.argv[5])
        ch = client_hello()
        socks = []
        for i in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.settimeout(10)
            s.connect((host, port))
            try:
                s.sendall(ch[: len(ch) // 3] if i % 2 else ch)
            except (BrokenPipeError, ConnectionResetError):
                pass
            socks.append(s)
        print(len(socks))
        sys.stdout.flush()
        time.sleep(secs)
        for s in socks:
            s.close()
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()

"""connect_errno.py ADDR PORT [TIMEOUT]: one TCP connect (IPv6 when ADDR has
a colon), printing "connected" or the name of the errno it failed with
(ECONNREFUSED, EHOSTUNREACH, ...; "timed out" after TIMEOUT seconds, 20)."""
import errno
import socket
import sys

addr, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
s.settimeout(float(sys.argv[3]) if len(sys.argv) > 3 else 20)
try:
    s.connect((addr, port))
    print("connected")
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e)))

#!/usr/bin/python3
# http_chunked.py - a small HTTP/1.1 file server for dns.sh's fetch test:
# GET /length/FILE answers with Content-Length, GET /chunked/FILE with
# Transfer-Encoding: chunked (chunks of varied sizes, a chunk extension and a
# trailer), both from DIR, slowly enough to fill TCP windows.
#
# Usage: http_chunked.py ADDR PORT DIR
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

addr, port, root = sys.argv[1], int(sys.argv[2]), sys.argv[3]


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def do_GET(self):
        parts = self.path.split('/')
        if len(parts) != 3 or parts[1] not in ('length', 'chunked') or '..' in parts[2]:
            self.send_error(404)
            return
        try:
            with open(os.path.join(root, parts[2]), 'rb') as f:
                data = f.read()
        except OSError:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header('Content-Type', 'application/octet-stream')
        if parts[1] == 'length':
            self.send_header('Content-Length', str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        self.send_header('Transfer-Encoding', 'chunked')
        self.end_headers()
        off, sizes, i = 0, [1, 7, 4096, 65536, 100000, 3], 0
        while off < len(data):
            n = min(sizes[i % len(sizes)], len(data) - off)
            ext = ';name=value' if i % 3 == 0 else ''
            self.wfile.write(b'%X%s\r\n' % (n, ext.encode()) + data[off:off + n] + b'\r\n')
            off += n
            i += 1
        self.wfile.write(b'0\r\nX-Trailer: done\r\n\r\n')


ThreadingHTTPServer((addr, port), Handler).serve_forever()
